"""Numbers and images a display needs: waveform peaks, dB spectrograms, PNG pictures.

Everything here is numpy-only at import time; scipy and Pillow/matplotlib are
imported inside the functions that need them so ``import camb_notebook.viz`` stays
quick. Both the widget (which ships peaks and PNGs to the browser) and the static
matplotlib figures build on these functions, so the two views always agree.
"""

from __future__ import annotations

import io

import numpy as np
import numpy.typing as npt

from .._exceptions import InputError

__all__ = [
    "as_channels",
    "db_range",
    "log_rows",
    "peaks",
    "pool_bins",
    "spectrogram_db",
    "spectrogram_png",
]

#: Frames transformed per FFT call: bounds the scratch memory to ~16 MB at n_fft=2048.
_FRAMES_PER_BLOCK = 2048


def as_channels(audio: npt.ArrayLike, name: str = "audio") -> np.ndarray:
    """Return *audio* as a 2-D float32 array ``(channels, n)``; 1-D input is one channel."""
    arr = np.asarray(audio)
    if arr.ndim == 1:
        arr = arr[np.newaxis, :]
    if arr.ndim != 2:
        raise InputError(
            f"{name} has shape {arr.shape}; expected (channels, samples) or (samples,)",
            parameter=name,
            value=arr.shape,
        )
    if not np.issubdtype(arr.dtype, np.floating):
        if np.issubdtype(arr.dtype, np.integer):
            # PCM integers: scale to [-1, 1) so dB values mean dBFS.
            arr = arr.astype(np.float32) / float(np.iinfo(arr.dtype).max + 1)
        else:
            raise InputError(f"{name} has dtype {arr.dtype}; expected float or integer PCM")
    return np.asarray(arr, dtype=np.float32)


def _check_positive_int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise InputError(
            f"{name}={value!r} must be a positive integer", parameter=name, value=value
        )
    return int(value)


def _bin_edges(n: int, n_bins: int) -> np.ndarray:
    """Start index of each of *n_bins* equal bins over *n* items (``n >= n_bins``)."""
    return (np.arange(n_bins, dtype=np.int64) * n) // n_bins


def pool_bins(x: np.ndarray, n_out: int, reduce: np.ufunc, axis: int) -> np.ndarray:
    """Reduce *x* along *axis* to *n_out* equal bins with *reduce* (e.g. ``np.maximum``).

    When there are fewer items than bins each bin takes the item at its position,
    so the result always has exactly *n_out* entries and keeps a linear time axis.
    """
    n = x.shape[axis]
    if n == n_out:
        return x
    if n > n_out:
        return reduce.reduceat(x, _bin_edges(n, n_out), axis=axis)
    return np.take(x, _bin_edges(n, n_out), axis=axis)


def peaks(audio: np.ndarray, n_bins: int) -> np.ndarray:
    """Min/max envelope of a clip on a linear time axis, for drawing its waveform.

    The samples are split into ``n_bins`` contiguous bins of (nearly) equal length;
    each bin holds the smallest and largest sample found in it across all channels.
    One pass over the data, O(n).

    Parameters
    ----------
    audio : np.ndarray [shape=(channels, n) or (n,)]
        Float samples in [-1, 1] (integer PCM is scaled to that range).
    n_bins : int > 0
        Number of bins, typically the waveform's width in pixels. When the clip
        has fewer samples than bins, each bin shows the sample at its position.

    Returns
    -------
    np.ndarray [shape=(2, n_bins), dtype=float32]
        Row 0 is the minimum, row 1 the maximum of each bin. Zeros for an empty clip.

    See Also
    --------
    spectrogram_db : the frequency view of the same clip.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(44100) / 44100
    >>> env = peaks(0.5 * np.sin(2 * np.pi * 100 * t), 10)
    >>> env.shape
    (2, 10)
    >>> bool(np.allclose(env, [[-0.5] * 10, [0.5] * 10], atol=1e-3))
    True
    """
    n_bins = _check_positive_int(n_bins, "n_bins")
    x = as_channels(audio)
    if x.shape[1] == 0:
        return np.zeros((2, n_bins), dtype=np.float32)
    if x.shape[0] == 1:
        lo = hi = x[0]
    else:
        lo, hi = x.min(axis=0), x.max(axis=0)
    out = np.empty((2, n_bins), dtype=np.float32)
    out[0] = pool_bins(lo, n_bins, np.minimum, axis=0)
    out[1] = pool_bins(hi, n_bins, np.maximum, axis=0)
    return out


def spectrogram_db(
    audio: np.ndarray,
    sr: float,
    n_fft: int = 2048,
    hop: int | None = None,
    *,
    max_frames: int | None = None,
    amin: float = 1e-6,
    workers: int = 1,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Magnitude spectrogram in dB of the mono downmix, on an absolute scale.

    Frames are centred (the signal is zero-padded by ``n_fft // 2`` at both ends)
    and Hann-windowed. Magnitudes are scaled so that a full-scale sine reads 0 dB
    in its frequency bin, so values of different clips — the original and its
    stems — are directly comparable and can share one colour scale
    (see :func:`db_range`). The work is done in blocks, so scratch memory stays
    flat for long clips.

    Parameters
    ----------
    audio : np.ndarray [shape=(channels, n) or (n,)]
        Samples; channels are averaged.
    sr : float > 0
        Sample rate in Hz.
    n_fft : int > 0
        Frame length in samples; ``n_fft // 2 + 1`` frequency bins.
    hop : int > 0 or None
        Frame step in samples; ``None`` means ``n_fft // 4``, or, when
        ``max_frames`` is given, the smallest step that keeps the frame count
        within ``max_frames`` (never smaller than ``n_fft // 4``).
    max_frames : int > 0 or None
        Upper bound on the number of frames, e.g. the image width in pixels. With
        a large hop the frames sample a long clip sparsely: fast, but a column
        may miss a short event. For a faithful picture keep the default hop and
        let :func:`spectrogram_png` max-pool the frames to the image width.
    amin : float > 0
        Magnitude floor before the logarithm; ``20 * log10(amin)`` is the lowest value.
    workers : int
        Threads for scipy's FFT (the default 1 is kind to shared machines).

    Returns
    -------
    S_db : np.ndarray [shape=(n_fft // 2 + 1, frames), dtype=float32]
        Level of each bin in dB relative to full scale.
    times : np.ndarray [shape=(frames,)]
        Centre time of each frame in seconds.
    freqs : np.ndarray [shape=(n_fft // 2 + 1,)]
        Centre frequency of each bin in Hz.

    See Also
    --------
    db_range : one colour scale for several spectrograms.
    spectrogram_png : render ``S_db`` as a PNG image.

    Examples
    --------
    >>> import numpy as np
    >>> sr = 16000
    >>> tone = np.sin(2 * np.pi * 1000 * np.arange(sr) / sr)  # 1 s at full scale
    >>> S_db, times, freqs = spectrogram_db(tone, sr, n_fft=1024)
    >>> S_db.shape
    (513, 63)
    >>> float(freqs[S_db[:, 30].argmax()])
    1000.0
    >>> round(float(S_db[:, 30].max()), 2)
    0.0
    """
    from scipy import fft as sp_fft
    from scipy.signal import get_window

    n_fft = _check_positive_int(n_fft, "n_fft")
    if not (isinstance(sr, (int, float, np.number)) and sr > 0):
        raise InputError(f"sr={sr!r} must be a positive number of Hz", parameter="sr", value=sr)
    if not amin > 0:
        raise InputError(f"amin={amin!r} must be > 0", parameter="amin", value=amin)
    x = as_channels(audio)
    mono = x[0] if x.shape[0] == 1 else x.mean(axis=0, dtype=np.float32)
    n = mono.shape[0]
    if hop is None:
        hop = max(1, n_fft // 4)
        if max_frames is not None:
            max_frames = _check_positive_int(max_frames, "max_frames")
            # 1 + n // hop <= max_frames  <=>  hop >= n // max_frames + 1
            hop = max(hop, n // max_frames + 1)
    hop = _check_positive_int(hop, "hop")
    n_frames = 1 + n // hop
    if max_frames is not None and n_frames > _check_positive_int(max_frames, "max_frames"):
        raise InputError(
            f"hop={hop} gives {n_frames} frames for {n} samples, more than "
            f"max_frames={max_frames}; pass hop=None to choose it automatically",
            parameter="hop",
            value=hop,
        )

    pad = n_fft // 2
    padded = np.zeros(n + 2 * pad + n_fft, dtype=np.float32)
    padded[pad : pad + n] = mono
    window = get_window("hann", n_fft, fftbins=True).astype(np.float32)
    # A sine of amplitude A peaks at A * sum(w) / 2 in its bin: scale that to A.
    window *= np.float32(2.0 / window.sum())
    frames = np.lib.stride_tricks.sliding_window_view(padded, n_fft)[::hop][:n_frames]

    n_freq = n_fft // 2 + 1
    # Filled frame by frame (rows), handed out transposed: no copy, shape (freq, frames).
    out = np.empty((n_frames, n_freq), dtype=np.float32)
    for start in range(0, n_frames, _FRAMES_PER_BLOCK):
        block = frames[start : start + _FRAMES_PER_BLOCK] * window
        mag = np.abs(sp_fft.rfft(block, axis=1, workers=workers))
        np.maximum(mag, amin, out=mag)
        np.log10(mag, out=out[start : start + mag.shape[0]])
    out *= 20.0
    times = np.arange(n_frames) * (hop / float(sr))
    freqs = np.arange(n_freq) * (float(sr) / n_fft)
    return out.T, times, freqs


def db_range(*spectrograms: np.ndarray, dynamic_range: float = 80.0) -> tuple[float, float]:
    """One colour scale ``(vmin, vmax)`` in dB for several spectrograms.

    ``vmax`` is the loudest bin across all of them and ``vmin`` lies
    ``dynamic_range`` dB below it, so the original, foreground and background
    drawn with this scale show honest level differences: a quiet stem looks quiet.

    Parameters
    ----------
    *spectrograms : np.ndarray
        dB spectrograms from :func:`spectrogram_db` (any shapes).
    dynamic_range : float > 0
        Span of the scale in dB.

    Returns
    -------
    (vmin, vmax) : tuple of float

    Examples
    --------
    >>> import numpy as np
    >>> db_range(np.array([[-10.0, -50.0]]), np.array([[-3.0]]), dynamic_range=60)
    (-63.0, -3.0)
    """
    if not spectrograms:
        raise InputError("db_range() needs at least one spectrogram")
    if not dynamic_range > 0:
        raise InputError(
            f"dynamic_range={dynamic_range!r} must be > 0 dB",
            parameter="dynamic_range",
            value=dynamic_range,
        )
    finite = [np.nanmax(s) for s in spectrograms if np.size(s)]
    if not finite:
        raise InputError("db_range() got only empty spectrograms")
    vmax = float(max(finite))
    return vmax - float(dynamic_range), vmax


def log_rows(
    S: np.ndarray, freqs: np.ndarray, height: int, fmin: float, reduce: str = "max"
) -> np.ndarray:
    """Resample the rows of *S* onto *height* log-spaced frequencies from *fmin* to the top.

    Rows covering several bins keep the loudest (``reduce="max"``, so thin high
    partials stay visible) or their mean (``"mean"``, for masks); rows narrower
    than a bin interpolate between bins.
    """
    fmax = float(freqs[-1])
    edges = np.geomspace(fmin, fmax, height + 1)
    centres = np.sqrt(edges[:-1] * edges[1:])
    idx = np.searchsorted(freqs, edges)  # first bin at or above each edge
    idx[-1] = freqs.size  # the top row includes the top bin
    out = np.empty((height, S.shape[1]), dtype=np.float32)
    wide = idx[1:] > idx[:-1]
    if wide.any():
        # Empty rows leave idx unchanged, so each wide row ends where the next begins.
        starts = idx[:-1][wide]
        head = S[: idx[1:][wide][-1]]
        if reduce == "max":
            out[wide] = np.maximum.reduceat(head, starts, axis=0)
        else:
            counts = np.diff(np.r_[starts, head.shape[0]])[:, None]
            out[wide] = np.add.reduceat(head, starts, axis=0) / counts
    narrow = ~wide
    if narrow.any():
        pos = np.interp(centres[narrow], freqs, np.arange(freqs.size))
        lo = np.floor(pos).astype(np.int64)
        hi = np.minimum(lo + 1, freqs.size - 1)
        frac = (pos - lo).astype(np.float32)[:, None]
        out[narrow] = S[lo] * (1 - frac) + S[hi] * frac
    return out


def spectrogram_png(
    S_db: np.ndarray,
    vmin: float,
    vmax: float,
    height: int = 256,
    width: int | None = None,
    cmap: str = "magma",
    *,
    freqs: np.ndarray | None = None,
    log_freq: bool = False,
    fmin: float = 30.0,
) -> bytes:
    """Render a dB spectrogram as a PNG image, low frequencies at the bottom.

    The image is an 8-bit palette PNG (256 colours of ``cmap``), which is small
    and quick to encode, with no matplotlib figure involved. Frequencies are
    max-pooled or interpolated to ``height`` rows; frames are max-pooled (or
    repeated) to ``width`` columns, so short transients stay visible. Values
    outside ``[vmin, vmax]`` are clipped to the ends of the colour map.

    Parameters
    ----------
    S_db : np.ndarray [shape=(freq, frames)]
        From :func:`spectrogram_db`.
    vmin, vmax : float
        Colour scale in dB (:func:`db_range` gives one shared by several stems).
    height : int > 0
        Image height in pixels.
    width : int > 0 or None
        Image width in pixels; ``None`` keeps one column per frame.
    cmap : str
        Name of a matplotlib colour map.
    freqs : np.ndarray [shape=(freq,)] or None
        Bin frequencies in Hz; required when ``log_freq`` is true.
    log_freq : bool
        Log-spaced frequency axis from ``fmin`` to the top bin (closer to how we hear).
    fmin : float > 0
        Lowest frequency shown on a log axis.

    Returns
    -------
    bytes
        The PNG file.

    Examples
    --------
    >>> import numpy as np
    >>> png = spectrogram_png(np.zeros((1025, 300)), vmin=-80, vmax=0, height=128)
    >>> png[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
    True
    """
    import matplotlib
    from PIL import Image

    S = np.asarray(S_db, dtype=np.float32)
    if S.ndim != 2 or 0 in S.shape:
        raise InputError(f"S_db has shape {S.shape}; expected a non-empty (freq, frames) array")
    height = _check_positive_int(height, "height")
    width = S.shape[1] if width is None else _check_positive_int(width, "width")
    if not vmax > vmin:
        raise InputError(f"vmin={vmin!r} must be below vmax={vmax!r}", parameter="vmin", value=vmin)
    try:
        colormap = matplotlib.colormaps[cmap]
    except KeyError:
        raise InputError(
            f"cmap={cmap!r} is not a matplotlib colour map (try 'magma' or 'viridis')",
            parameter="cmap",
            value=cmap,
        ) from None

    if log_freq:
        if freqs is None or np.shape(freqs) != (S.shape[0],):
            raise InputError(
                "log_freq=True needs freqs with one frequency per row of S_db "
                f"({S.shape[0]}), got {None if freqs is None else np.shape(freqs)}"
            )
        freqs = np.asarray(freqs, dtype=np.float64)
        if not 0 < fmin < freqs[-1]:
            raise InputError(
                f"fmin={fmin!r} must lie between 0 and the top frequency {freqs[-1]:g} Hz",
                parameter="fmin",
                value=fmin,
            )
        S = log_rows(S, freqs, height, fmin)
    else:
        S = pool_bins(S, height, np.maximum, axis=0)
    S = pool_bins(S, width, np.maximum, axis=1)

    idx = (S - np.float32(vmin)) * np.float32(255.0 / (vmax - vmin))
    np.clip(idx, 0, 255, out=idx)
    indices = np.ascontiguousarray(np.rint(idx[::-1]).astype(np.uint8))
    palette = colormap(np.linspace(0.0, 1.0, 256), bytes=True)[:, :3]
    image = Image.frombytes("P", (indices.shape[1], indices.shape[0]), indices.tobytes())
    image.putpalette(palette.tobytes())
    buf = io.BytesIO()
    image.save(buf, format="PNG", optimize=False, compress_level=6)
    return buf.getvalue()
