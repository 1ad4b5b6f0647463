"""matplotlib plumbing: figures not kept by pyplot, and their compact PNG.

Every figure of :mod:`camb_notebook.viz` is made by :func:`new_figure` and shows in a
notebook as the palette PNG of :func:`figure_png`. matplotlib and Pillow are imported
when a figure is made, so importing viz needs neither.
"""

from __future__ import annotations

import io
import sys
from typing import TYPE_CHECKING

from .._exceptions import LimitExceededError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["figure_png", "new_figure"]


def figure_png(fig: Figure, *, dpi: float, max_bytes: int | None = None) -> bytes:
    """Render *fig* as a compact PNG (adaptive 256-colour palette), within *max_bytes*.

    Figures of spectrograms compress poorly as RGBA; a palette keeps them about 2.5
    times smaller with no visible loss. If the picture is still larger than
    *max_bytes* it is re-rendered at lower resolutions, down to 40 % of *dpi*.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    dpi : float
        Resolution to render at.
    max_bytes : int or None
        Upper bound of the PNG in bytes; ``None`` for no bound.

    Returns
    -------
    bytes
        The PNG file (palette mode ``"P"``).

    Raises
    ------
    InputError
        Even at 40 % of *dpi* the PNG exceeds *max_bytes*.

    See Also
    --------
    img_tag : embed the PNG in an HTML page.

    Examples
    --------
    >>> import numpy as np
    >>> from camb_notebook.audio import Stems
    >>> from camb_notebook.viz import plot_waveforms
    >>> x = np.random.default_rng(0).uniform(-0.3, 0.3, (1, 8000)).astype(np.float32)
    >>> png = figure_png(plot_waveforms(Stems(x, x, 0 * x, 8000)), dpi=72, max_bytes=100_000)
    >>> png[:8] == b"\\x89PNG\\r\\n\\x1a\\n", len(png) <= 100_000
    (True, True)
    """
    from PIL import Image

    scale = 1.0
    while True:
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=dpi * scale, facecolor="white")
        image = Image.open(io.BytesIO(buf.getvalue())).convert("RGB")
        out = io.BytesIO()
        image.quantize(colors=256).save(out, format="PNG", optimize=True)
        png = out.getvalue()
        if max_bytes is None or len(png) <= max_bytes:
            return png
        if scale <= 0.4:
            raise LimitExceededError(
                f"the figure needs {len(png)} bytes even at {dpi * scale:.0f} dpi, over the "
                f"limit of {max_bytes} bytes; make it smaller (fewer lanes, smaller width)",
                actual=len(png),
                limit=max_bytes,
            )
        scale *= 0.8


def _compact_png(fig: Figure) -> bytes:
    """The notebook PNG of one of our figures: a 256-colour palette image.

    Spectrograms compress poorly as RGBA (about 0.5 MB for the 15 s example); the palette
    keeps saved notebooks about 2.5 times smaller with no visible loss.
    """
    return figure_png(fig, dpi=fig.dpi)


def _register_compact_png(figure_class: type) -> None:
    """In IPython, show figures of ``figure_class`` with :func:`_compact_png`.

    IPython consults type printers before ``_repr_png_``, and the inline backend registers
    one for every Figure; registering the subclass (more specific) takes precedence.
    IPython is only looked up, never imported.
    """
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is None:
        return
    formatter = shell.display_formatter.formatters["image/png"]
    if formatter.type_printers.get(figure_class) is not _compact_png:
        formatter.for_type(figure_class, _compact_png)


_CompactFigure: type | None = None  # made on first use, so importing viz needs no matplotlib


def new_figure(figsize: tuple[float, float], dpi: float | None = None) -> Figure:
    """A figure not kept by pyplot: shown once when returned from a cell, never leaked.

    pyplot is imported so notebooks register their PNG formatter for figures, then the
    figure is released from pyplot's registry so the inline backend does not show it a
    second time and long loops do not accumulate open figures. In a notebook it shows
    as a compact palette PNG (:func:`_compact_png`).

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig = new_figure((4.0, 2.0))
    >>> fig.get_size_inches().tolist(), plt.fignum_exists(fig.number)  # pyplot let it go
    ([4.0, 2.0], False)
    """
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    global _CompactFigure
    if _CompactFigure is None:
        _CompactFigure = type("_CompactFigure", (Figure,), {"__module__": __name__})
    fig = plt.figure(figsize=figsize, dpi=dpi, layout="constrained", FigureClass=_CompactFigure)
    plt.close(fig)
    _register_compact_png(_CompactFigure)
    return fig
