"""Every lane's pictures and the preview of a finished clip, in one streamed pass over the stems.

The stem files are read once, in blocks of :data:`~._media.PASS_BLOCK` samples; memory
follows the block, not the clip. Three threads share the work, each on what it is best at
(numpy, soundfile, soxr and libopus release the GIL):

- a reader decodes and aligns the next blocks of the three files (:meth:`Stems.blocks`);
- the calling thread computes, per block, every lane's waveform peaks, its sparse
  spectrogram frames and its energy (:class:`~._media.LaneTap`), the headroom of every set
  of lanes, and resamples the block for the preview;
- the preview encoder (:class:`~._preview.PreviewEncoder`) encodes the 48 kHz blocks into
  the multichannel Ogg Opus file.

The shared colour scale comes from the original's spectrogram, known at the end of the
pass; the images are rendered then (each is 1200 × 112 pixels, so this costs the same for
any length).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

import numpy as np

from ._media import PASS_BLOCK, LaneTap, LaneVisuals, scale_of
from ._preview import HeadroomTap, Preview, PreviewEncoder, stack_lanes
from ._states import LANES

if TYPE_CHECKING:
    from ..audio import Stems

__all__ = ["PreparedLanes", "prepare_lanes"]

T = TypeVar("T")
#: Blocks decoded ahead of the calling thread.
_READ_AHEAD = 2
_MIN_BLOCK = 1024


@dataclass(frozen=True)
class PreparedLanes:
    """What the player of one clip needs, from :func:`prepare_lanes`.

    Attributes
    ----------
    visuals : dict of str to LaneVisuals
        Every lane's pictures (original, foreground, background, residual).
    preview : Preview
        One Ogg Opus file of every lane.
    scale : (float, float)
        The colour scale shared by the lanes' spectrograms.
    levels : dict of str to float
        RMS level of each lane in dBFS (as :meth:`Stems.levels`).
    """

    visuals: dict[str, LaneVisuals]
    preview: Preview
    scale: tuple[float, float]
    levels: dict[str, float]


def _read_ahead(blocks: Iterator[T], depth: int = _READ_AHEAD) -> Iterator[T]:
    """``blocks`` produced on a thread of its own, at most ``depth`` ahead of the consumer.

    Leaving the loop early (an error, a cancellation) stops the thread before returning,
    so nothing reads the files behind the caller's back afterwards.
    """
    items: queue.Queue[tuple[str, object]] = queue.Queue(depth)
    stop = threading.Event()

    def put(item: tuple[str, object]) -> bool:
        while not stop.is_set():
            try:
                items.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for block in blocks:
                if not put(("block", block)):
                    return
            put(("end", None))
        except BaseException as error:  # raised again in the consumer
            put(("error", error))

    thread = threading.Thread(target=produce, name="camb-lane-reader", daemon=True)
    thread.start()
    try:
        while True:
            kind, value = items.get()
            if kind == "end":
                return
            if kind == "error":
                assert isinstance(value, BaseException)
                raise value
            yield value  # type: ignore[misc]
    finally:
        stop.set()
        thread.join()


def prepare_lanes(
    stems: Stems,
    *,
    bitrate: int,
    progress: Callable[[float], None] | None = None,
) -> PreparedLanes:
    """Every lane's pictures and level, and the preview of all lanes, in one pass.

    Parameters
    ----------
    stems : camb_notebook.audio.Stems
        File-backed or in memory; read in blocks either way.
    bitrate : int
        Preview bits per second *per channel* (:func:`~._media.preview_bitrate`).
    progress : callable, optional
        ``progress(fraction)`` after each block, from the calling thread (an exception it
        raises, e.g. a cancellation, stops the pass and its threads).

    Returns
    -------
    PreparedLanes

    Examples
    --------
    >>> from camb_notebook.audio import Stems
    >>> x = np.random.default_rng(0).uniform(-0.3, 0.3, (2, 8000)).astype(np.float32)
    >>> lanes = prepare_lanes(Stems(x, x / 2, x / 2, 8000), bitrate=16000)
    >>> sorted(lanes.visuals), lanes.visuals["residual"].silent, lanes.preview.channels
    (['background', 'foreground', 'original', 'residual'], True, 8)
    """
    n, channels, sr = stems.n_samples, stems.channels, stems.sr
    taps = [LaneTap(lane, n, channels, sr) for lane in LANES]
    head = HeadroomTap()
    width = 1 if channels == 1 else 2
    # At least ~50 blocks, so progress moves in small steps on short clips too.
    size = max(_MIN_BLOCK, min(PASS_BLOCK, n // 50))
    with PreviewEncoder(sr, width, bitrate=bitrate, duration=stems.duration) as encoder:
        for window in _read_ahead(stems.blocks(size)):
            block = stack_lanes(window.original, window.foreground, window.background)
            for k, tap in enumerate(taps):
                tap.add(block[k], window.start)  # full quality: pictures and levels
            np.clip(block, -1.0, 1.0, out=block)  # what the browser plays
            head.add(block)
            encoder.push(block)
            if progress is not None:
                progress(window.stop / max(n, 1))
        preview = encoder.finish(headroom=head.gains())
    scale = scale_of(taps[0])
    visuals = {tap.lane: tap.visuals(scale=scale) for tap in taps}
    levels = {tap.lane: tap.level_db for tap in taps}
    return PreparedLanes(visuals=visuals, preview=preview, scale=scale, levels=levels)
