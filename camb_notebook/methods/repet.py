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
cost grows linearly with duration and the clip is processed in blocks, so memory stays flat.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from ._base import ProgressCallback, check_audio
from ._masks import SoftMasks
from ._stft import OverlapAdd, hann, n_frames, stft_block

__all__ = ["RepetConfig", "RepetMethod"]

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
        from camb_notebook._exceptions import InputError

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

        Parameters
        ----------
        audio : np.ndarray [shape=(channels, n)], float32
        sr : int
        progress : callable, optional
            Called with the fraction done after each block (~``2 * search`` seconds).

        Returns
        -------
        foreground, background : np.ndarray [shape=(channels, n)], float32
        """
        x = check_audio(audio, sr)
        fg = np.zeros_like(x)
        if x.shape[1] == 0:
            return fg, fg.copy()
        n_fft, hop = self._grid(sr)
        ola = OverlapAdd([fg], n_fft, hop, hann(n_fft))
        for start, spec, mask in self._blocks(x, sr, progress):
            ola.add(start, [(1.0 - mask) * spec])
        ola.finish()
        bg = x - fg
        if progress is not None:
            progress(1.0)
        return fg, bg

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
        for start, _spec, mask in self._blocks(x, sr, None):
            bgm[:, :, start : start + mask.shape[1]] = mask
        return SoftMasks(1.0 - bgm, bgm, sr, n_fft, hop, self.name)

    def _blocks(self, x: np.ndarray, sr: int, progress: ProgressCallback | None):
        """Yield ``(first_frame, multichannel_stft, background_mask)`` block by block.

        A rolling buffer holds the frames ``[a - reach, b + reach)`` around the current block
        ``[a, b)``: each frame's STFT is computed once.
        """
        cfg = self.config
        n_fft, hop = self._grid(sr)
        window = hann(n_fft)
        total = n_frames(x.shape[1], hop)
        reach = max(2, round(cfg.search * sr / hop))
        gap = min(max(1, round(cfg.exclude * sr / hop)), reach - 1)
        block = max(reach, 64)
        buf_lo = buf_hi = 0
        spec = np.zeros((x.shape[0], n_fft // 2 + 1, 0), np.complex64)
        mag = np.zeros((0, n_fft // 2 + 1), np.float32)  # mono magnitude, frames first
        feat = np.zeros((0, _BANDS), np.float32)
        n_blocks = -(-total // block)
        for bi, a in enumerate(range(0, total, block)):
            b = min(a + block, total)
            lo, hi = max(0, a - reach), min(total, b + reach)
            if hi > buf_hi:
                new = stft_block(x, buf_hi, hi, n_fft, hop, window)
                new_mag = np.abs(new.mean(axis=0)).T.astype(np.float32)
                spec = np.concatenate([spec, new], axis=2)
                mag = np.concatenate([mag, new_mag])
                feat = np.concatenate([feat, _features(new_mag)])
                buf_hi = hi
            if lo > buf_lo:
                cut = lo - buf_lo
                spec, mag, feat = spec[:, :, cut:], mag[cut:], feat[cut:]
                buf_lo = lo
            med = self._repeating(mag, feat, a - buf_lo, b - a, gap, reach, a, total)
            own = mag[a - buf_lo : b - buf_lo]
            tiny = np.float32(1e-12)
            mask = np.minimum(med, own) / np.maximum(own, tiny)
            mask[own <= tiny] = 1.0  # silence: nothing to separate
            yield a, spec[:, :, a - buf_lo : b - buf_lo], np.ascontiguousarray(mask.T)
            if progress is not None:
                progress(min(0.999, (bi + 1) / n_blocks))

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
