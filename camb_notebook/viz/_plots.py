"""Static matplotlib figures of a separation: waveforms, spectrograms, the soft mask.

The figures serve static notebooks, exported HTML, nbval and :mod:`camb_notebook.report`.
They are built from the same numbers the widget shows (:func:`peaks`,
:func:`spectrogram_db`), so the two views agree. matplotlib is imported lazily.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

import numpy as np

from .._exceptions import InputError
from ..audio import Stems
from ._features import db_range, log_rows, peaks, pool_bins, spectrogram_db
from ._figure import new_figure
from ._lanes import require_stems, stem_lanes

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.image import AxesImage
    from matplotlib.ticker import Formatter

__all__ = [
    "STEM_COLOURS",
    "foreground_mask",
    "plot_mask",
    "plot_overview",
    "plot_spectrograms",
    "plot_waveforms",
]

#: One colour per lane, used by every figure (and free for other views to reuse).
STEM_COLOURS: dict[str, str] = {
    "original": "#4d4d4d",
    "foreground": "#d9480f",
    "background": "#1c7ed6",
    "residual": "#9c36b5",
}

_LOG_TICKS_HZ = (50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000)


def _axes_for(
    n: int, fig: Figure | None, axes: Sequence[Axes] | None, figsize: tuple[float, float]
) -> tuple[Figure, list[Axes]]:
    if axes is not None:
        axes = list(np.ravel(np.asarray(axes, dtype=object)))
        if len(axes) != n:
            raise InputError(f"got {len(axes)} axes for {n} lanes; pass one Axes per lane")
        return axes[0].figure, axes
    if fig is None:
        fig = new_figure(figsize)
    grid = fig.subplots(n, 1, sharex=True, squeeze=False)
    return fig, list(grid[:, 0])


def _draw_waveform(ax: Axes, name: str, x: np.ndarray, sr: float, n_bins: int) -> None:
    n = x.shape[1]
    n_bins = max(1, min(n_bins, n))
    env = peaks(x, n_bins)
    edges = np.arange(n_bins + 1) * (n / sr / n_bins)
    colour = STEM_COLOURS.get(name, "#495057")
    # Steps over bin edges: each bin's min..max drawn over exactly its time span.
    ax.fill_between(
        edges,
        np.r_[env[0], env[0, -1]],
        np.r_[env[1], env[1, -1]],
        step="post",
        facecolor=colour,
        # A hairline edge in the fill colour closes antialiasing seams between bins.
        edgecolor=colour,
        linewidth=0.3,
    )
    ax.set_xlim(0.0, n / sr)
    ax.set_ylim(-1.0, 1.0)
    ax.set_yticks([-1.0, 0.0, 1.0])
    ax.set_ylabel(name)
    ax.axhline(0.0, color="#adb5bd", linewidth=0.5, zorder=0)


def plot_waveforms(
    stems: Stems,
    *,
    residual: bool = False,
    n_bins: int = 2000,
    fig: Figure | None = None,
    axes: Sequence[Axes] | None = None,
) -> Figure:
    """Waveforms of the original and its stems, one lane each, on a shared time axis.

    Each lane draws the min/max envelope from :func:`peaks` (the same numbers the
    widget shows), in sample units where full scale is ±1.

    Parameters
    ----------
    stems : Stems
        The clip and its stems (``result.stems()`` for a separation result).
    residual : bool
        Add a lane for ``stems.residual`` (original − foreground − background).
    n_bins : int
        Envelope resolution (bins across the clip).
    fig : Figure or None
        Draw into this (empty) figure instead of a new one.
    axes : sequence of Axes or None
        Draw into these axes, one per lane.

    Returns
    -------
    matplotlib.figure.Figure

    See Also
    --------
    plot_spectrograms, plot_overview

    Examples
    --------
    >>> import numpy as np
    >>> from camb_notebook.audio import Stems
    >>> x = np.random.default_rng(0).uniform(-0.5, 0.5, (2, 8000)).astype(np.float32)
    >>> fig = plot_waveforms(Stems(x, 0.7 * x, 0.3 * x, 8000), residual=True)
    >>> [ax.get_ylabel() for ax in fig.axes]
    ['original', 'foreground', 'background', 'residual']
    """
    stems = require_stems(stems, "plot_waveforms")
    lanes = stem_lanes(stems, residual=residual)
    fig, axs = _axes_for(len(lanes), fig, axes, (8.0, 1.1 * len(lanes) + 0.5))
    for ax, (name, x) in zip(axs, lanes, strict=True):
        _draw_waveform(ax, name, x, stems.sr, n_bins)
    axs[-1].set_xlabel("Time (s)")
    return fig


def _prepare_image(
    S: np.ndarray,
    freqs: np.ndarray,
    log_freq: bool,
    fmin: float,
    rows: int,
    reduce: Literal["max", "mean"],
) -> tuple[np.ndarray, tuple[float, float]]:
    """Rows of ``S`` for drawing, and the y extent (Hz, or log10 Hz on a log axis)."""
    if log_freq:
        if not 0 < fmin < freqs[-1]:
            raise InputError(f"fmin={fmin!r} must lie between 0 and {freqs[-1]:g} Hz")
        return log_rows(S, freqs, rows, fmin, reduce=reduce), (
            float(np.log10(fmin)),
            float(np.log10(freqs[-1])),
        )
    if S.shape[0] > rows and reduce == "max":
        S = pool_bins(S, rows, np.maximum, axis=0)
    return S, (0.0, float(freqs[-1]))


def _draw_image(
    ax: Axes,
    image: np.ndarray,
    times: np.ndarray,
    duration: float,
    y_extent: tuple[float, float],
    log_freq: bool,
    ticks_hz: Sequence[int] = _LOG_TICKS_HZ,
    *,
    cmap: str,
    vmin: float,
    vmax: float,
) -> AxesImage:
    step = float(times[1] - times[0]) if times.size > 1 else duration
    left = max(0.0, float(times[0]) - step / 2)
    right = max(duration, float(times[-1]) + step / 2) if times.size else duration
    mappable = ax.imshow(
        image,
        origin="lower",
        aspect="auto",
        interpolation="nearest",
        extent=(left, right, *y_extent),
        cmap=cmap,
        vmin=vmin,
        vmax=vmax,
    )
    ax.set_xlim(0.0, duration)
    if log_freq:
        ticks = [f for f in ticks_hz if 10 ** y_extent[0] <= f <= 10 ** y_extent[1]]
        ax.set_yticks(np.log10(ticks))
        ax.set_yticklabels([f"{f // 1000}k" if f >= 1000 else str(f) for f in ticks])
    else:
        ax.yaxis.set_major_formatter(_hz_formatter())
    return mappable


def _hz_formatter() -> Formatter:
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda f, _pos: f"{f / 1000:g}k" if f >= 1000 else f"{f:g}")


def plot_spectrograms(
    stems: Stems,
    *,
    residual: bool = False,
    layout: Literal["rows", "columns"] = "rows",
    n_fft: int = 2048,
    max_frames: int = 1500,
    dynamic_range: float = 80.0,
    log_freq: bool = True,
    fmin: float = 30.0,
    cmap: str = "magma",
    fig: Figure | None = None,
    axes: Sequence[Axes] | None = None,
) -> Figure:
    """Spectrograms of the original and its stems on ONE colour scale and time axis.

    All lanes share the dB scale from :func:`db_range` (the loudest bin of any lane
    down ``dynamic_range`` dB) and the dBFS reference of :func:`spectrogram_db`, so
    a quiet stem looks quiet and what moved from one stem to another is visible.
    One colour bar serves all lanes.

    Parameters
    ----------
    stems : Stems
        The clip and its stems (``result.stems()`` for a separation result).
    residual : bool
        Add a lane for ``stems.residual`` (original − foreground − background).
    layout : {"rows", "columns"}
        Lanes one above the other, or side by side.
    n_fft : int
        STFT frame length.
    max_frames : int
        At most this many frames per lane; a long clip is then sampled sparsely
        (see :func:`spectrogram_db`).
    dynamic_range : float
        Span of the colour scale in dB.
    log_freq : bool
        Log frequency axis from ``fmin`` (closer to hearing), else linear from 0 Hz.
    fmin : float
        Lowest frequency on the log axis.
    cmap : str
        matplotlib colour map.
    fig, axes
        Draw into an empty figure, or into one Axes per lane.

    Returns
    -------
    matplotlib.figure.Figure

    See Also
    --------
    plot_waveforms, plot_mask, db_range

    Examples
    --------
    >>> import numpy as np
    >>> from camb_notebook.audio import Stems
    >>> sr = 16000
    >>> t = np.arange(sr) / sr
    >>> fg = 0.5 * np.sin(2 * np.pi * 440 * t)[None].astype(np.float32)
    >>> bg = 0.05 * np.random.default_rng(0).standard_normal((1, sr)).astype(np.float32)
    >>> fig = plot_spectrograms(Stems(fg + bg, fg, bg, sr))
    >>> len({im.get_clim() for ax in fig.axes for im in ax.images})  # one colour scale
    1
    """
    stems = require_stems(stems, "plot_spectrograms")
    lanes = stem_lanes(stems, residual=residual)
    specs = [spectrogram_db(x, stems.sr, n_fft, max_frames=max_frames) for _, x in lanes]
    vmin, vmax = db_range(*(S for S, _, _ in specs), dynamic_range=dynamic_range)
    n = len(lanes)
    if layout not in ("rows", "columns"):
        raise InputError(f"layout={layout!r} must be 'rows' or 'columns'")
    if axes is not None:
        fig, axs = _axes_for(n, fig, axes, (0, 0))
    else:
        if fig is None:
            size = (8.0, 1.6 * n + 0.6) if layout == "rows" else (3.2 * n + 1.0, 3.2)
            fig = new_figure(size)
        shape = (n, 1) if layout == "rows" else (1, n)
        axs = list(np.ravel(fig.subplots(*shape, sharex=True, sharey=True, squeeze=False)))
    duration = stems.duration
    mappable = None
    for ax, (name, _), (S, times, freqs) in zip(axs, lanes, specs, strict=True):
        image, extent = _prepare_image(S, freqs, log_freq, fmin, 256, "max")
        mappable = _draw_image(
            ax, image, times, duration, extent, log_freq, cmap=cmap, vmin=vmin, vmax=vmax
        )
        if layout == "rows":
            ax.set_ylabel(f"{name}\nHz")
        else:
            ax.set_title(name)
            ax.set_xlabel("Time (s)")
    if layout == "rows":
        axs[-1].set_xlabel("Time (s)")
    else:
        axs[0].set_ylabel("Hz")
    fig.colorbar(mappable, ax=axs, label="Level (dBFS)", fraction=0.05, pad=0.01)
    return fig


def foreground_mask(
    stems: Stems,
    *,
    n_fft: int = 2048,
    hop: int | None = None,
    max_frames: int | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The foreground's soft mask ``|F| / (|F| + |B|)`` on the STFT grid.

    Values near 1 mark time-frequency bins the separation gave to the foreground,
    near 0 to the background; bins where both are silent read 0.5.

    Parameters
    ----------
    stems : Stems
        The clip and its stems (``result.stems()`` for a separation result).
    n_fft, hop, max_frames
        STFT grid, as in :func:`spectrogram_db`.

    Returns
    -------
    mask : np.ndarray [shape=(n_fft // 2 + 1, frames), dtype=float32]
    times : np.ndarray [shape=(frames,)]
    freqs : np.ndarray [shape=(n_fft // 2 + 1,)]

    Examples
    --------
    >>> import numpy as np
    >>> from camb_notebook.audio import Stems
    >>> x = np.ones((1, 4096), np.float32)
    >>> mask, _, _ = foreground_mask(Stems(x, 0.75 * x, 0.25 * x, 8000), n_fft=512)
    >>> round(float(mask[0, 4]), 2)
    0.75
    """
    stems = require_stems(stems, "foreground_mask")
    lanes = dict(stem_lanes(stems))
    fg, bg = lanes["foreground"], lanes["background"]
    S_f, times, freqs = spectrogram_db(fg, stems.sr, n_fft, hop, max_frames=max_frames)
    S_b, _, _ = spectrogram_db(bg, stems.sr, n_fft, hop, max_frames=max_frames)
    # Ratio of magnitudes from the dB values: |F|/(|F|+|B|) = 1 / (1 + 10^((B-F)/20)).
    mask = 1.0 / (1.0 + np.power(np.float32(10.0), (S_b - S_f) / np.float32(20.0)))
    return mask.astype(np.float32, copy=False), times, freqs


def _mask_array(mask: object) -> np.ndarray:
    """*mask* as a float32 ``(freq, frames)`` array, or an error saying what plot_mask takes."""
    if isinstance(mask, np.ndarray) and mask.ndim == 2 and mask.dtype.kind in "biuf":
        return np.asarray(mask, dtype=np.float32)
    got = (
        f"an array of shape {mask.shape} and dtype {mask.dtype}"
        if isinstance(mask, np.ndarray)
        else f"a {type(mask).__name__}"
    )
    raise InputError(
        "plot_mask() takes camb_notebook.audio.Stems or a 2-D (freq, frames) array of "
        f"values in [0, 1], got {got}; for a separation result pass result.stems()"
    )


def plot_mask(
    mask: Stems | np.ndarray,
    sr: float | None = None,
    *,
    times: np.ndarray | None = None,
    freqs: np.ndarray | None = None,
    n_fft: int = 2048,
    max_frames: int = 1500,
    log_freq: bool = True,
    fmin: float = 30.0,
    cmap: str = "viridis",
    title: str | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Show the foreground soft mask on the STFT grid (1 = foreground, 0 = background).

    Parameters
    ----------
    mask : Stems or np.ndarray [shape=(freq, frames)]
        Stems give ``|F| / (|F| + |B|)`` (see :func:`foreground_mask`); an array
        with values in [0, 1] is drawn as given.
    sr : float or None
        Sample rate of a mask array (Stems carry their own). For an array without
        ``freqs``/``times`` its rows are taken to span 0 to ``sr / 2`` and its
        frames to step ``n_fft // 4`` (the default grid of :func:`spectrogram_db`).
    times, freqs : np.ndarray or None
        Frame times (s) and bin frequencies (Hz) of a given mask array. Without
        them and without ``sr`` the axes count frames and bins.
    n_fft, max_frames
        STFT grid when the mask is computed from stems.
    log_freq, fmin
        Log frequency axis from ``fmin`` Hz (needs frequencies).
    cmap : str
        matplotlib colour map.
    title : str or None
        Axes title; a default names the mask.
    ax : Axes or None
        Draw into this Axes instead of a new figure.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> fig = plot_mask(np.random.default_rng(0).uniform(size=(513, 200)), sr=22050)
    >>> fig.axes[0].get_ylabel(), fig.axes[1].get_ylabel()
    ('Frequency (Hz)', 'Foreground share')
    """
    if isinstance(mask, Stems):
        if sr is not None and sr != mask.sr:
            raise InputError(f"sr={sr!r}, but the stems are at {mask.sr} Hz; leave sr out")
        M, times, freqs = foreground_mask(mask, n_fft=n_fft, max_frames=max_frames)
        duration: float | None = mask.duration
        default_title = "Foreground soft mask |F| / (|F| + |B|)"
    else:
        M = _mask_array(mask)
        if freqs is None and sr is not None:
            freqs = np.linspace(0.0, sr / 2, M.shape[0])
        if times is None and sr is not None and freqs is not None:
            hop = (2 * (M.shape[0] - 1)) // 4
            times = np.arange(M.shape[1]) * hop / sr
        duration = None
        default_title = "Mask"
    if ax is None:
        fig = new_figure((8.0, 3.0))
        ax = fig.add_subplot()
    else:
        fig = ax.figure
    if freqs is None:
        mappable = ax.imshow(
            M, origin="lower", aspect="auto", interpolation="nearest", cmap=cmap, vmin=0, vmax=1
        )
        ax.set_xlabel("Frame")
        ax.set_ylabel("Frequency bin")
    else:
        freqs = np.asarray(freqs, dtype=np.float64)
        if freqs.shape != (M.shape[0],):
            raise InputError(f"freqs has shape {freqs.shape}; the mask has {M.shape[0]} rows")
        if times is None:
            times = np.arange(M.shape[1], dtype=np.float64)
        times = np.asarray(times, dtype=np.float64)
        if duration is None:
            step = float(times[1] - times[0]) if times.size > 1 else 1.0
            duration = float(times[-1]) + step / 2
        image, extent = _prepare_image(M, freqs, log_freq, fmin, 256, "mean")
        mappable = _draw_image(
            ax, image, times, duration, extent, log_freq, cmap=cmap, vmin=0.0, vmax=1.0
        )
        ax.set_xlabel("Time (s)")
        ax.set_ylabel("Frequency (Hz)")
    ax.set_title(title if title is not None else default_title)
    fig.colorbar(mappable, ax=ax, label="Foreground share", fraction=0.05, pad=0.01)
    return fig


def plot_overview(
    stems: Stems,
    *,
    residual: bool = False,
    width: float = 8.0,
    n_fft: int = 2048,
    max_frames: int = 1200,
    dynamic_range: float = 80.0,
    log_freq: bool = True,
    cmap: str = "magma",
    dpi: float | None = None,
) -> Figure:
    """One compact figure: per lane a waveform strip over its spectrogram, one time axis.

    This is the static picture of a result (rich display, reports). Spectrograms
    share one colour scale, as in :func:`plot_spectrograms`.

    Parameters
    ----------
    stems : Stems
        The clip and its stems (``result.stems()`` for a separation result).
    residual : bool
        Add a lane for ``stems.residual``.
    width : float
        Figure width in inches (height follows the lane count).
    n_fft, max_frames, dynamic_range, log_freq, cmap
        As in :func:`plot_spectrograms`.
    dpi : float or None
        Figure resolution.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> from camb_notebook.audio import Stems
    >>> x = np.random.default_rng(1).uniform(-0.3, 0.3, (1, 16000)).astype(np.float32)
    >>> fig = plot_overview(Stems(x, 0.5 * x, 0.5 * x, 16000))
    >>> len(fig.axes)  # 3 waveforms, 3 spectrograms, 1 colour bar
    7
    """
    stems = require_stems(stems, "plot_overview")
    lanes = stem_lanes(stems, residual=residual)
    n = len(lanes)
    fig = new_figure((width, 1.25 * n + 0.5), dpi=dpi)
    grid = fig.add_gridspec(2 * n, 1, height_ratios=[1, 2.2] * n)
    first = None
    wave_axes, spec_axes = [], []
    for i in range(n):
        wave_axes.append(fig.add_subplot(grid[2 * i], sharex=first))
        first = first or wave_axes[0]
        spec_axes.append(fig.add_subplot(grid[2 * i + 1], sharex=first))
    for ax, (name, x) in zip(wave_axes, lanes, strict=True):
        _draw_waveform(ax, name, x, stems.sr, 1500)
        ax.set_yticks([])
        ax.set_ylabel(name, rotation=0, ha="right", va="center")
        ax.tick_params(labelbottom=False)
    specs = [spectrogram_db(x, stems.sr, n_fft, max_frames=max_frames) for _, x in lanes]
    vmin, vmax = db_range(*(S for S, _, _ in specs), dynamic_range=dynamic_range)
    duration = stems.duration
    mappable = None
    for i, (ax, (S, times, freqs)) in enumerate(zip(spec_axes, specs, strict=True)):
        image, extent = _prepare_image(S, freqs, log_freq, 30.0, 160, "max")
        mappable = _draw_image(
            ax,
            image,
            times,
            duration,
            extent,
            log_freq,
            ticks_hz=(100, 1000, 10000),
            cmap=cmap,
            vmin=vmin,
            vmax=vmax,
        )
        ax.set_ylabel("Hz")
        ax.tick_params(labelbottom=i == n - 1, labelsize=7)
    spec_axes[-1].set_xlabel("Time (s)")
    fig.colorbar(mappable, ax=spec_axes, label="dBFS", fraction=0.04, pad=0.01)
    return fig
