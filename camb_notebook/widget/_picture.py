"""A small still picture of a finished clip, for notebooks opened where no kernel runs.

The widget keeps it in its synced state (a few kilobytes of PNG per clip, never audio), so a
saved notebook shows each finished clip's lanes as they looked instead of an empty player.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence

__all__ = ["PICTURE_WIDTH", "clip_picture"]

PICTURE_WIDTH = 480
_LANE_HEIGHT = 28
_GAP = 2


def clip_picture(spectrograms: Sequence[bytes]) -> str:
    """Stack the lanes' spectrogram images, scaled down, into one palette PNG ``data:`` URI.

    Parameters
    ----------
    spectrograms : sequence of bytes
        PNG images of the lanes, top to bottom.

    Returns
    -------
    str
        ``data:image/png;base64,…`` (about 10 KB for three lanes).

    Examples
    --------
    >>> from PIL import Image
    >>> buf = io.BytesIO(); Image.new("RGB", (1200, 112), "navy").save(buf, "PNG")
    >>> clip_picture([buf.getvalue()] * 3)[:22]
    'data:image/png;base64,'
    """
    from PIL import Image

    height = len(spectrograms) * (_LANE_HEIGHT + _GAP) - _GAP
    sheet = Image.new("RGB", (PICTURE_WIDTH, max(height, 1)), "white")
    for i, png in enumerate(spectrograms):
        with Image.open(io.BytesIO(png)) as image:
            lane = image.convert("RGB").resize((PICTURE_WIDTH, _LANE_HEIGHT), Image.BILINEAR)
        sheet.paste(lane, (0, i * (_LANE_HEIGHT + _GAP)))
    small = sheet.quantize(colors=64, method=Image.Quantize.MEDIANCUT)
    out = io.BytesIO()
    small.save(out, "PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode("ascii")
