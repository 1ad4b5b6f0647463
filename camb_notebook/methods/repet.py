"""``repet``: REPET-SIM, a similarity-based repeating-background model with soft masks (DSP).

The idea (Rafii & Pardo, "Music/voice separation using the similarity matrix", ISMIR 2012): the
background of a mix (a band, a loop, music on hold) repeats, the voice does not. For every frame,
find the frames that look most like it elsewhere in the clip and take, bin by bin, the median of
their magnitudes: the repeating part survives the median, the voice does not. That median,
capped by the frame's own magnitude, is the background's magnitude; the ratio to the mixture is
a soft mask.

librosa's recipe (``nn_filter`` with cosine similarity over the whole clip) costs O(n²) in time
and memory. Here the search is restricted to a bounded window of neighbours (±``search``
seconds, excluding ±``exclude`` seconds around the frame), runs on a compact feature (magnitude
pooled into 128 bands, unit-normalised, so cosine similarity is a matrix product), and the
median of the ``k`` best frames is taken with a sorting network of elementwise min/max. The
cost grows linearly with duration, and :meth:`RepetMethod.stream` separates a stream of blocks
with that bounded look-around, so memory stays flat however long the stream.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from ._base import Blocks, ProgressCallback, check_audio, check_block, check_channels, check_rate
from ._masks import SoftMasks
from ._stft import FrameSource, OverlapAddStream, hann, n_frames
from ._stream import Progress, SampleQueue, separate_by_stream

__all__ = ["RepetConfig", "RepetMethod", "RepetStream"]

_BANDS = 128
_MEDIAN_ROWS = 24  # frames per median chunk: 15 chunks of 24 × 1025 float32 fit in L2


@dataclass(frozen=True)
class RepetConfig:
    """Parameters of REPET-SIM.

    Attributes
    ----------
    search : float
        Seconds before and after a frame in which similar frames are looked for.
    exclude : float
        Frames closer than this (seconds) are not candidates (they share the same note).
    k : int
        Number of most similar frames whose median models the background.
    frame : float
        STFT window length in seconds (rounded to a power of two in samples); hop = 1/4.
    """

    search: float = 12.0
    exclude: float = 1.0
    k: int = 15
    frame: float = 0.046

    def __post_init__(self) -> None:
        from .._exceptions import InputError

        if not 0 < self.exclude < self.search:
            raise InputError(
                f"exclude={self.exclude} s must be positive and below search={self.search} s"
            )
        if not 1 <= self.k <= 64:
            raise InputError(f"k={self.k} must be between 1 and 64")
        if not 0.005 <= self.frame <= 0.5:
            raise InputError(f"frame={self.frame} s must be between 0.005 and 0.5")


@functools.lru_cache(maxsize=64)
def _median_plan(n: int) -> tuple[tuple[int, bool, bool], ...]:
    """Compare-exchanges of an odd-even transposition sort that reach the middle output.

    Walking the rounds backwards from the middle position keeps only the comparators whose
    outputs can reach it, and notes which of their two outputs (min, max) is needed at all.
    """
    rounds = [list(range(r % 2, n - 1, 2)) for r in range(n)]
    needed = {n // 2} if n % 2 else {n // 2 - 1, n // 2}
    plan: list[tuple[int, bool, bool]] = []
    for comps in reversed(rounds):
        for i in comps:
            want_lo, want_hi = i in needed, (i + 1) in needed
            if want_lo or want_hi:
                plan.append((i, want_lo, want_hi))
                needed |= {i, i + 1}
    return tuple(reversed(plan))


def _median_network(stack: list[np.ndarray]) -> np.ndarray:
    """Elementwise median of equally shaped arrays, by a pruned odd-even transposition sort.

    The arrays are overwritten (callers pass fresh copies); a few dozen min/max passes over
    contiguous memory beat ``np.median``/``np.partition`` along a short axis.
    """
    a = list(stack)
    n = len(a)
    spare = np.empty_like(a[0])
    for i, want_lo, want_hi in _median_plan(n):
        if want_lo and want_hi:
            np.minimum(a[i], a[i + 1], out=spare)
            np.maximum(a[i], a[i + 1], out=a[i + 1])
            a[i], spare = spare, a[i]
        elif want_lo:
            np.minimum(a[i], a[i + 1], out=a[i])
        else:
            np.maximum(a[i], a[i + 1], out=a[i + 1])
    if n % 2:
        return a[n // 2]
    return 0.5 * (a[n // 2 - 1] + a[n // 2])


class RepetMethod:
    """REPET-SIM separation: the repeating background vs the non-repeating foreground.

    Parameters
    ----------
    config : RepetConfig, optional

    See Also
    --------
    SpleeterMethod : the neural method, better on voice over music when its weights exist.

    Examples
    --------
    >>> import numpy as np
    >>> from camb_notebook.methods import RepetMethod
    >>> x = np.random.default_rng(0).normal(0, 0.1, (2, 22050 * 3)).astype(np.float32)
    >>> fg, bg = RepetMethod().separate(x, 22050)
    >>> fg.shape == bg.shape == x.shape, bool(np.allclose(fg + bg, x, atol=1e-4))
    (True, True)
    """

    name = "repet"

    def __init__(self, config: RepetConfig | None = None) -> None:
        self.config = config or RepetConfig()

    def __repr__(self) -> str:
        return f"RepetMethod({self.config!r})"

    def _grid(self, sr: int) -> tuple[int, int]:
        n_fft = int(2 ** round(np.log2(max(self.config.frame * sr, 16))))
        return n_fft, n_fft // 4

    def separate(
        self, audio: np.ndarray, sr: int, progress: ProgressCallback | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Split ``audio`` into (foreground, background); ``foreground + background == audio``.

        Runs the clip through :meth:`stream` block by block (same results, sample for sample).

        Parameters
        ----------
        audio : np.ndarray [shape=(channels, n)], float32
        sr : int
        progress : callable, optional
            Called with the fraction done after each block (monotonic, last exactly 1.0).

        Returns
        -------
        foreground, background : np.ndarray [shape=(channels, n)], float32
        """
        return separate_by_stream(self, audio, sr, progress)

    def stream(
        self,
        sr: int,
        channels: int,
        *,
        total: int | None = None,
        progress: ProgressCallback | None = None,
    ) -> RepetStream:
        """Separate a stream of blocks in bounded memory (a :class:`Separator`).

        The similarity search looks ``search`` seconds around each frame, so the output lags
        the input by about ``2 * search`` seconds and the memory held is about three times
        that much audio (spectrogram included), whatever the length of the stream. Given
        ``total`` (samples that will be pushed), ``progress`` gets the fraction done after
        each block of frames (monotonic, below 1.0).

        Examples
        --------
        >>> sep = RepetMethod().stream(8000, 1)
        >>> outs = sep.push(np.zeros((1, 20_000), np.float32)) + sep.finish()
        >>> sum(fg.shape[1] for fg, bg in outs)
        20000
        """
        return RepetStream(self, sr, channels, total=total, progress=progress)

    def masks(self, audio: np.ndarray, sr: int) -> SoftMasks:
        """The soft masks on this method's STFT grid (``n_fft`` ≈ 46 ms, hop ``n_fft / 4``).

        The mask is computed from the channel average and shared by all channels.

        Examples
        --------
        >>> x = np.zeros((1, 22050), np.float32)
        >>> RepetMethod().masks(x, 22050).background.shape
        (1, 513, 87)
        """
        x = check_audio(audio, sr)
        n_fft, hop = self._grid(sr)
        total = n_frames(x.shape[1], hop)
        bgm = np.zeros((x.shape[0], n_fft // 2 + 1, total), np.float32)
        blocks = _RepetBlocks(self, sr, x.shape[0])
        blocks.frames.append(x)
        blocks.frames.end()
        for start, _spec, mask in blocks:
            bgm[:, :, start : start + mask.shape[1]] = mask
        return SoftMasks(1.0 - bgm, bgm, sr, n_fft, hop, self.name)

    def _repeating(
        self,
        mag: np.ndarray,
        feat: np.ndarray,
        first: int,
        count: int,
        gap: int,
        reach: int,
        a: int,
        total: int,
    ) -> np.ndarray:
        """Median magnitude (count, bins) of the k most similar frames of frames a..a+count-1.

        ``mag``/``feat`` are the buffer (frames first); buffer row ``first`` is frame ``a``.
        """
        dims = feat.shape[1]
        # Candidates of row i are frames a + i - reach .. a + i + reach: a diagonal band of
        # the similarity between the block and the padded frames [a - reach, a + count + reach).
        cand = np.zeros((count + 2 * reach, dims), np.float32)
        f0 = a - reach  # frame of cand row 0
        lo, hi = max(f0, a - first), min(f0 + cand.shape[0], a - first + feat.shape[0])
        cand[lo - f0 : hi - f0] = feat[lo - (a - first) : hi - (a - first)]
        sim = feat[first : first + count] @ cand.T  # (count, count + 2 reach)
        sim[:, : max(0, -f0)] = -np.inf  # frames before the clip
        sim[:, max(0, total - f0) :] = -np.inf  # frames after the clip
        s0, s1 = sim.strides
        band = np.lib.stride_tricks.as_strided(sim, (count, 2 * reach + 1), (s0 + s1, s1))
        band[:, reach - gap + 1 : reach + gap] = -np.inf  # too close: the same note
        kk = min(self.config.k, 2 * reach + 1)
        best = np.argpartition(-band, kk - 1, axis=1)[:, :kk]
        # Rows with fewer than kk candidates got excluded frames: use their best one instead.
        finite = np.isfinite(band)
        top = np.argmax(band, axis=1)
        bad = ~np.take_along_axis(finite, best, axis=1)
        best = np.where(bad, top[:, None], best)
        rows = (first - reach) + np.arange(count)[:, None] + best  # buffer rows
        np.clip(rows, 0, mag.shape[0] - 1, out=rows)  # rows without any candidate (zeroed below)
        # Gather and take the median a few frames at a time, so the kk arrays stay in cache.
        med = np.empty((count, mag.shape[1]), np.float32)
        for r0 in range(0, count, _MEDIAN_ROWS):
            sel = rows[r0 : r0 + _MEDIAN_ROWS]
            med[r0 : r0 + sel.shape[0]] = _median_network([mag[sel[:, j]] for j in range(kk)])
        # No candidate at all (clip shorter than `exclude`): no repetition, all foreground.
        med[~finite.any(axis=1)] = 0.0
        return med


class _RepetBlocks:
    """REPET-SIM's masks over a stream: iterate for ``(first_frame, stft, background_mask)``.

    Iteration stops at the first block whose look-around has not arrived yet (append more
    samples to ``frames`` and iterate again) or, after ``frames.end()``, at the end. A rolling
    buffer holds the frames ``[a - reach, b + reach)`` around the current block ``[a, b)``:
    each frame's STFT is computed once.
    """

    def __init__(self, method: RepetMethod, sr: int, channels: int) -> None:
        cfg = method.config
        self._method = method
        self.n_fft, self.hop = method._grid(sr)
        self._window = hann(self.n_fft)
        self.frames = FrameSource(channels, self.n_fft, self.hop)
        self.reach = max(2, round(cfg.search * sr / self.hop))
        self._gap = min(max(1, round(cfg.exclude * sr / self.hop)), self.reach - 1)
        self._block = max(self.reach, 64)
        self._a = 0  # the next block's first frame
        self._buf_lo = self._buf_hi = 0
        bins = self.n_fft // 2 + 1
        self._spec = np.zeros((channels, bins, 0), np.complex64)
        self._mag = np.zeros((0, bins), np.float32)  # mono magnitude, frames first
        self._feat = np.zeros((0, _BANDS), np.float32)

    def __iter__(self) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
        src, reach = self.frames, self.reach
        while True:
            a = self._a
            total = src.total_frames
            if total is None:
                # the block and its look-around lie before the end: full size, nothing clipped
                if not src.available(a + self._block + reach):
                    return
                b, hi, known = a + self._block, a + self._block + reach, a + self._block + reach
            else:
                if a >= total:
                    return
                b, hi, known = (
                    min(a + self._block, total),
                    min(total, a + self._block + reach),
                    total,
                )
            lo = max(0, a - reach)
            if hi > self._buf_hi:
                new = src.frames(self._buf_hi, hi, self._window)
                src.release(hi)
                new_mag = np.abs(new.mean(axis=0)).T.astype(np.float32)
                self._spec = np.concatenate([self._spec, new], axis=2)
                self._mag = np.concatenate([self._mag, new_mag])
                self._feat = np.concatenate([self._feat, _features(new_mag)])
                self._buf_hi = hi
            if lo > self._buf_lo:
                cut = lo - self._buf_lo
                self._spec, self._mag, self._feat = (
                    self._spec[:, :, cut:],
                    self._mag[cut:],
                    self._feat[cut:],
                )
                self._buf_lo = lo
            first = a - self._buf_lo
            med = self._method._repeating(
                self._mag, self._feat, first, b - a, self._gap, reach, a, known
            )
            own = self._mag[first : first + b - a]
            tiny = np.float32(1e-12)
            mask = np.minimum(med, own) / np.maximum(own, tiny)
            mask[own <= tiny] = 1.0  # silence: nothing to separate
            self._a = b
            yield a, self._spec[:, :, first : first + b - a], np.ascontiguousarray(mask.T)


class RepetStream:
    """A :class:`~camb_notebook.methods.Separator` running REPET-SIM.

    Made by :meth:`RepetMethod.stream`; results equal :meth:`RepetMethod.separate`'s sample
    for sample, whatever the block sizes.
    """

    def __init__(
        self,
        method: RepetMethod,
        sr: int,
        channels: int,
        *,
        total: int | None = None,
        progress: ProgressCallback | None = None,
    ) -> None:
        self.sr = check_rate(sr)
        self.channels = check_channels(channels)
        self._blocks = _RepetBlocks(method, self.sr, self.channels)
        n_fft, hop = self._blocks.n_fft, self._blocks.hop
        self._ola = OverlapAddStream(self.channels, n_fft, hop, hann(n_fft))
        self._progress = Progress(progress, None if total is None else n_frames(total, hop))
        self._input = SampleQueue(self.channels)  # waits for its foreground: bg = x - fg
        self._finished = False

    def push(self, block: np.ndarray) -> Blocks:
        """Add a ``(channels, n)`` block; return the ``(fg, bg)`` blocks now final."""
        if self._finished:
            raise RuntimeError("push() after finish(): open a new stream")
        x = check_block(block, self.channels)
        x = x.copy() if x is block else x  # queued by reference: never the caller's buffer
        self._input.push(x)
        self._blocks.frames.append(x)
        return self._run()

    def finish(self) -> Blocks:
        """End the input; return the remaining ``(fg, bg)`` blocks."""
        if self._finished:
            raise RuntimeError("finish() was called already")
        self._finished = True
        self._blocks.frames.end()
        if not self._blocks.frames.received:
            return []
        outs = self._run()
        [fg] = self._ola.finish(self._blocks.frames.received)
        return outs + self._pair(fg)

    def _run(self) -> Blocks:
        outs: Blocks = []
        for start, spec, mask in self._blocks:
            [fg] = self._ola.add(start, [(1.0 - mask) * spec])
            outs += self._pair(fg)
            self._progress(start + mask.shape[1])
        return outs

    def _pair(self, fg: np.ndarray) -> Blocks:
        if not fg.shape[1]:
            return []
        return [(fg, self._input.pop(fg.shape[1]) - fg)]


def _features(mag: np.ndarray) -> np.ndarray:
    """Frames-first magnitudes -> unit-norm band features (frames, 128) for cosine search."""
    frames, bins = mag.shape
    usable = (bins - 1) // _BANDS * _BANDS
    if usable >= _BANDS:
        feat = mag[:, :usable].reshape(frames, _BANDS, -1).mean(axis=2)
    else:
        feat = np.zeros((frames, _BANDS), np.float32)
        feat[:, :bins] = mag[:, :_BANDS]
    np.sqrt(feat, out=feat)  # tame loud partials so timbre, not one note, drives similarity
    feat /= np.maximum(np.linalg.norm(feat, axis=1, keepdims=True), 1e-12)
    return feat.astype(np.float32)
