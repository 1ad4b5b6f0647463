"""One preview file for every lane of a clip, so the browser plays all lanes on one clock.

The four lanes (original, foreground, background, residual) go into one multichannel Ogg Opus
file: lane *k* is channels ``2k, 2k+1`` (or channel *k* for a mono clip). The browser plays it
with one ``<audio>`` element routed through Web Audio (a channel splitter, one gain per lane),
so the lanes are decoded in the same frames and stay sample-aligned, switching lanes is a gain
change without a gap, and the element keeps pitch when the playback rate changes.

Opus channel mapping family 255 ("discrete") is used: every channel is its own stream and
nothing is treated as a surround layout. Family 1 would low-pass the channel it takes for
LFE and reorder the others; Chromium plays family 255 with the channels in file order.

Examples
--------
>>> from camb_notebook.audio import Stems
>>> x = np.zeros((2, 4800), np.float32)
>>> preview = encode_preview(Stems(x, x, x, 48000), bitrate=16000)
>>> preview.audio[:4], preview.channels, preview.lanes
(b'OggS', 8, ('original', 'foreground', 'background', 'residual'))
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ._states import LANES

if TYPE_CHECKING:
    from ..audio import Stems

__all__ = ["HEADROOM_LIMIT", "MIME", "Preview", "encode_preview", "headroom", "lane_blocks"]

MIME = "audio/ogg; codecs=opus"
#: Highest peak a sum of lanes may reach in the browser (−0.2 dBFS); one lane is never scaled.
HEADROOM_LIMIT = 0.977
_OPUS_RATE = 48000
_BLOCK_SECONDS = 1.0


@dataclass(frozen=True)
class Preview:
    """The lanes' preview: one Ogg Opus file and what the browser needs to play it.

    Attributes
    ----------
    audio : bytes
        Ogg Opus, ``channels`` discrete channels (mapping family 255), 48 kHz.
    lanes : tuple of str
        Lane names in channel order.
    channels : int
        ``len(lanes)`` for a mono clip, twice that for stereo.
    bitrate : int
        Bits per second of the whole file.
    headroom : list of float
        Gain for each set of audible lanes, indexed by the bit mask of their positions in
        ``lanes`` (bit *k* = lane *k*): 1.0 unless their sum would pass
        :data:`HEADROOM_LIMIT`.
    """

    audio: bytes
    lanes: tuple[str, ...]
    channels: int
    bitrate: int
    headroom: list[float]

    @property
    def channels_per_lane(self) -> int:
        """1 (mono clip) or 2."""
        return self.channels // len(self.lanes)


def lane_blocks(stems: Stems, seconds: float = _BLOCK_SECONDS) -> Iterator[np.ndarray]:
    """Blocks of all lanes, ``(lanes, channels, n)`` float32 in -1..1, clip order.

    Only one block exists at a time besides the stems themselves; the residual is computed
    block by block.
    """
    step = max(1, int(seconds * stems.sr))
    n = stems.original.shape[-1]
    for start in range(0, n, step):
        stop = min(n, start + step)
        o = stems.original[..., start:stop]
        f = stems.foreground[..., start:stop]
        b = stems.background[..., start:stop]
        block = np.stack([o, f, b, o - f - b]).astype(np.float32, copy=False)
        yield np.clip(block, -1.0, 1.0, out=block)


def headroom(stems: Stems) -> list[float]:
    """Gain for every set of audible lanes so their sum never passes full scale.

    Returns 16 gains indexed by lane bit mask (see :class:`Preview`); sets of one lane get
    1.0, larger sets ``min(1, HEADROOM_LIMIT / peak of their sum)``.

    Examples
    --------
    >>> from camb_notebook.audio import Stems
    >>> x = np.full((1, 100), 0.6, np.float32)
    >>> gains = headroom(Stems(x, x, x, 8000))
    >>> gains[0b0001], round(gains[0b0011], 3), round(gains[0b0111], 3)
    (1.0, 0.814, 0.543)
    """
    masks = np.arange(1 << len(LANES))
    member = ((masks[:, None] >> np.arange(len(LANES))[None, :]) & 1).astype(np.float32)
    peaks = np.zeros(len(masks), np.float64)
    for block in lane_blocks(stems):
        sums = member @ block.reshape(len(LANES), -1)  # (masks, channels * n)
        peaks = np.maximum(peaks, np.abs(sums).max(axis=1))
    gains = []
    for mask, peak in zip(masks, peaks, strict=True):
        single = bin(int(mask)).count("1") <= 1
        gains.append(1.0 if single or peak <= HEADROOM_LIMIT else float(HEADROOM_LIMIT / peak))
    return gains


def encode_preview(
    stems: Stems,
    *,
    bitrate: int,
    progress: Callable[[float], None] | None = None,
) -> Preview:
    """Encode every lane into one multichannel Ogg Opus file, block by block.

    Parameters
    ----------
    stems : camb_notebook.audio.Stems
    bitrate : int
        Bits per second *per channel* (the file carries 8 channels for stereo clips).
    progress : callable, optional
        ``progress(fraction)`` after each block.

    Returns
    -------
    Preview
    """
    import av

    width = 1 if stems.original.ndim == 1 or stems.original.shape[0] == 1 else 2
    channels = width * len(LANES)
    # The layout name only sets the channel count: family 255 gives them no meaning.
    layout = {4: "quad", 8: "7.1"}[channels]
    n = stems.original.shape[-1]
    # Blocks of at most 1 s, and at least 50 of them, so progress moves in small steps.
    block = min(_BLOCK_SECONDS, max(0.1, n / stems.sr / 50))
    buf = io.BytesIO()
    with av.open(buf, "w", format="ogg") as out:
        # Constrained VBR keeps the file within a few % of the bitrate: the byte budget holds.
        options = {"vbr": "constrained", "mapping_family": "255"}
        stream = out.add_stream("libopus", rate=_OPUS_RATE, layout=layout, options=options)
        stream.bit_rate = int(bitrate) * channels
        resampler = av.AudioResampler(format="flt", layout=layout, rate=_OPUS_RATE)
        done = 0
        for lanes in lane_blocks(stems, block):
            frames = lanes.reshape(channels, -1)  # lane-major: lane k is rows k*width…
            packed = np.ascontiguousarray(frames.T).reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(packed, format="flt", layout=layout)
            frame.sample_rate = int(stems.sr)
            frame.pts = done
            for resampled in resampler.resample(frame):
                for packet in stream.encode(resampled):
                    out.mux(packet)
            done += frames.shape[1]
            if progress is not None:
                progress(done / max(n, 1))
        for resampled in resampler.resample(None):
            for packet in stream.encode(resampled):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return Preview(
        audio=buf.getvalue(),
        lanes=tuple(LANES),
        channels=channels,
        bitrate=int(bitrate) * channels,
        headroom=headroom(stems),
    )
