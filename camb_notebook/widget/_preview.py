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
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ._states import LANES

if TYPE_CHECKING:
    from ..audio import Stems

__all__ = [
    "HEADROOM_LIMIT",
    "MIME",
    "HeadroomTap",
    "Preview",
    "PreviewEncoder",
    "encode_preview",
    "headroom",
    "lane_blocks",
    "stack_lanes",
]

MIME = "audio/ogg; codecs=opus"
#: Highest peak a sum of lanes may reach in the browser (−0.2 dBFS); one lane is never scaled.
HEADROOM_LIMIT = 0.977
_OPUS_RATE = 48000
_BLOCK_SECONDS = 1.0
#: libopus complexity (0–10). Its default, 10, costs about four times what 0 does (eight
#: channels of a 10-minute clip: ~25 s against ~6 s on one core); a preview of a long clip
#: at 0 is still clean at these bitrates, and short clips keep the best encoder.
_COMPLEXITY_SHORT = 10
_COMPLEXITY_LONG = 0
_SHORT_SECONDS = 60.0
#: Blocks waiting for the encoder thread: enough to keep it busy, few enough to stay small.
_QUEUE_BLOCKS = 4


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


def stack_lanes(original: np.ndarray, foreground: np.ndarray, background: np.ndarray) -> np.ndarray:
    """One block of every lane, ``(lanes, channels, n)`` float32, the residual computed.

    Not clipped: the pictures and levels show the full-quality samples.
    """
    block = np.empty((len(LANES), *original.shape), np.float32)
    block[0], block[1], block[2] = original, foreground, background
    np.subtract(original, foreground, out=block[3])
    block[3] -= background
    return block


def lane_blocks(stems: Stems, seconds: float = _BLOCK_SECONDS) -> Iterator[np.ndarray]:
    """Blocks of all lanes, ``(lanes, channels, n)`` float32 in -1..1, clip order.

    The stems are read block by block (:meth:`Stems.blocks`): one block of each signal
    exists at a time, whatever the clip's length; the residual is computed per block.
    """
    step = max(1, int(seconds * stems.sr))
    for window in stems.blocks(step):
        block = stack_lanes(window.original, window.foreground, window.background)
        yield np.clip(block, -1.0, 1.0, out=block)


class HeadroomTap:
    """The peak of every set of lanes' sum, gathered from ``(lanes, channels, n)`` blocks.

    Each set's sum is built from a smaller set's sum plus one lane (eleven additions per
    block for four lanes), elementwise: no matrix product, so no BLAS threads.
    """

    def __init__(self, lanes: int = len(LANES)) -> None:
        self.lanes = lanes
        self.peaks = np.zeros(1 << lanes, np.float64)

    def add(self, block: np.ndarray) -> None:
        sums: dict[int, np.ndarray] = {}
        for mask in range(1, 1 << self.lanes):
            low = mask & -mask  # its lowest lane; the rest was summed already
            k = low.bit_length() - 1
            rest = mask ^ low
            sums[mask] = block[k] if rest == 0 else sums[rest] + block[k]
            if rest:
                self.peaks[mask] = max(self.peaks[mask], float(np.abs(sums[mask]).max(initial=0.0)))

    def gains(self) -> list[float]:
        """Gains indexed by lane bit mask (see :class:`Preview`)."""
        gains = []
        for mask, peak in enumerate(self.peaks):
            single = bin(mask).count("1") <= 1
            gains.append(1.0 if single or peak <= HEADROOM_LIMIT else float(HEADROOM_LIMIT / peak))
        return gains


def headroom(stems: Stems) -> list[float]:
    """Gain for every set of audible lanes so their sum never passes full scale.

    Returns 16 gains indexed by lane bit mask (see :class:`Preview`); sets of one lane get
    1.0, larger sets ``min(1, HEADROOM_LIMIT / peak of their sum)``. One pass over the
    stems in blocks.

    Examples
    --------
    >>> from camb_notebook.audio import Stems
    >>> x = np.full((1, 100), 0.6, np.float32)
    >>> gains = headroom(Stems(x, x, x, 8000))
    >>> gains[0b0001], round(gains[0b0011], 3), round(gains[0b0111], 3)
    (1.0, 0.814, 0.543)
    """
    tap = HeadroomTap()
    for block in lane_blocks(stems):
        tap.add(block)
    return tap.gains()


class PreviewEncoder:
    """Encode lanes' blocks into one multichannel Ogg Opus file on a thread of its own.

    :meth:`push` takes ``(lanes, channels, n)`` blocks in clip order (already clipped to
    -1..1), resamples them to 48 kHz in the calling thread (soxr, which releases the GIL)
    and hands them to the encoder thread through a short queue, so the caller can go on
    reading and measuring the next block while libopus works. :meth:`finish` waits for the
    file. Use it as a context manager: leaving the block early stops the thread.

    Parameters
    ----------
    sr : int
        Sample rate of the blocks.
    width : int
        Channels per lane (1 or 2).
    bitrate : int
        Bits per second *per channel*.
    duration : float
        Seconds of the clip (long clips use a faster encoder setting).

    Examples
    --------
    >>> with PreviewEncoder(8000, 1, bitrate=16000, duration=1.0) as enc:
    ...     enc.push(np.zeros((4, 1, 8000), np.float32))
    ...     preview = enc.finish(headroom=[1.0] * 16)
    >>> preview.audio[:4], preview.channels
    (b'OggS', 4)
    """

    def __init__(self, sr: int, width: int, *, bitrate: int, duration: float) -> None:
        import soxr

        self.sr, self.width, self.bitrate = int(sr), int(width), int(bitrate)
        self.channels = self.width * len(LANES)
        # The layout name only sets the channel count: family 255 gives them no meaning.
        self.layout = {4: "quad", 8: "7.1"}[self.channels]
        self.complexity = _COMPLEXITY_SHORT if duration <= _SHORT_SECONDS else _COMPLEXITY_LONG
        self._resampler = (
            None
            if self.sr == _OPUS_RATE
            else soxr.ResampleStream(self.sr, _OPUS_RATE, self.channels, dtype="float32")
        )
        self._queue: queue.Queue[np.ndarray | None] = queue.Queue(_QUEUE_BLOCKS)
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._audio = b""
        self._thread = threading.Thread(target=self._run, name="camb-preview", daemon=True)
        self._thread.start()

    def __enter__(self) -> PreviewEncoder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def push(self, block: np.ndarray) -> None:
        """One ``(lanes, channels, n)`` block, in -1..1."""
        frames = np.ascontiguousarray(block.reshape(self.channels, -1).T)  # lane-major columns
        if self._resampler is not None:
            frames = self._resampler.resample_chunk(frames)
        if frames.shape[0]:
            self._put(frames)

    def finish(self, *, headroom: list[float]) -> Preview:
        """Flush the encoder and return the :class:`Preview`."""
        if self._resampler is not None:
            tail = self._resampler.resample_chunk(
                np.zeros((0, self.channels), np.float32), last=True
            )
            if tail.shape[0]:
                self._put(np.ascontiguousarray(tail))
        self._put(None)
        self._thread.join()
        if self._error is not None:
            raise self._error
        return Preview(
            audio=self._audio,
            lanes=tuple(LANES),
            channels=self.channels,
            bitrate=self.bitrate * self.channels,
            headroom=headroom,
        )

    def close(self) -> None:
        """Stop the encoder thread (a no-op once :meth:`finish` returned)."""
        self._stop.set()
        self._thread.join()

    def _put(self, item: np.ndarray | None) -> None:
        while True:
            if self._error is not None:
                raise self._error
            if not self._thread.is_alive():
                raise RuntimeError("the preview encoder thread stopped")
            try:
                self._queue.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def _items(self) -> Iterator[np.ndarray]:
        while not self._stop.is_set():
            try:
                item = self._queue.get(timeout=0.1)
            except queue.Empty:
                continue
            if item is None:
                return
            yield item
        raise _Stopped

    def _run(self) -> None:
        try:
            self._audio = self._encode()
        except _Stopped:
            pass
        except BaseException as error:  # handed to the caller by push() / finish()
            self._error = error

    def _encode(self) -> bytes:
        import av

        buf = io.BytesIO()
        with av.open(buf, "w", format="ogg") as out:
            # Constrained VBR keeps the file within a few % of the bitrate: the budget holds.
            options = {
                "vbr": "constrained",
                "mapping_family": "255",
                "compression_level": str(self.complexity),
            }
            stream = out.add_stream("libopus", rate=_OPUS_RATE, layout=self.layout, options=options)
            stream.bit_rate = self.bitrate * self.channels
            done = 0
            for frames in self._items():
                frame = av.AudioFrame.from_ndarray(
                    frames.reshape(1, -1), format="flt", layout=self.layout
                )
                frame.sample_rate = _OPUS_RATE
                frame.pts = done
                done += frames.shape[0]
                for packet in stream.encode(frame):
                    out.mux(packet)
            for packet in stream.encode(None):
                out.mux(packet)
        return buf.getvalue()


class _Stopped(Exception):
    """The encoder was closed before the last block."""


def encode_preview(
    stems: Stems,
    *,
    bitrate: int,
    progress: Callable[[float], None] | None = None,
) -> Preview:
    """Encode every lane into one multichannel Ogg Opus file, block by block.

    The stems are read in blocks (memory: a few blocks, whatever the clip's length); the
    widget makes the preview in its one pass over the stems instead
    (:func:`camb_notebook.widget._prepare.prepare_lanes`).

    Parameters
    ----------
    stems : camb_notebook.audio.Stems
    bitrate : int
        Bits per second *per channel* (the file carries 8 channels for stereo clips).
    progress : callable, optional
        ``progress(fraction)`` after each block, from the calling thread.

    Returns
    -------
    Preview
    """
    n = stems.n_samples
    # Blocks of at most 1 s, and at least 50 of them, so progress moves in small steps.
    seconds = min(_BLOCK_SECONDS, max(0.1, n / stems.sr / 50))
    tap = HeadroomTap()
    width = 1 if stems.channels == 1 else 2
    with PreviewEncoder(stems.sr, width, bitrate=bitrate, duration=stems.duration) as encoder:
        done = 0
        for block in lane_blocks(stems, seconds):
            tap.add(block)
            encoder.push(block)
            done += block.shape[-1]
            if progress is not None:
                progress(done / max(n, 1))
        return encoder.finish(headroom=tap.gains())
