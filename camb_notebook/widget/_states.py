"""The widget's words: the states a clip passes through and the lanes of its player.

Defined once here and sent to the browser in the ``vocabulary`` trait, so the front end shows
what Python decides and never keeps a copy of its own.

Examples
--------
>>> STATES["queued"].label
'queued'
>>> [s.name for s in CLIP_STATES if s.final]
['done', 'failed', 'cancelled']
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..audio import FORMATS_TEXT

__all__ = [
    "ACTIVE_STATES",
    "CLIP_STATES",
    "FINAL_STATES",
    "LANES",
    "LANE_LABELS",
    "NOTICES",
    "STATES",
    "ClipState",
    "vocabulary",
]


@dataclass(frozen=True)
class ClipState:
    """One state of a clip's card.

    Attributes
    ----------
    name : str
        The state's key (``clip["state"]``).
    label : str
        What the card's badge says.
    timed : bool
        The card shows the time spent since the clip was sent.
    final : bool
        The clip will not change any more (done, failed, cancelled).
    """

    name: str
    label: str
    timed: bool = False
    final: bool = False

    @property
    def active(self) -> bool:
        """Work is under way: the card shows progress and a Cancel button."""
        return not self.final


#: Every state, in the order a clip passes through them.
CLIP_STATES = (
    ClipState("uploading", "uploading"),  # the browser is sending the file to the kernel
    ClipState("waiting", "waiting for a worker"),  # waiting for a free worker thread
    ClipState("validating", "validating"),  # probing the file before anything is sent
    ClipState("submitting", "sending to the service", timed=True),
    ClipState("queued", "queued", timed=True),  # accepted; the service has not started
    ClipState("separating", "separating", timed=True),  # percent when the service reports it
    ClipState("downloading", "downloading stems", timed=True),
    ClipState("preparing", "preparing previews", timed=True),  # previews, peaks, images
    ClipState("done", "done", final=True),
    ClipState("failed", "failed", final=True),
    ClipState("cancelled", "cancelled", final=True),
)
STATES = {s.name: s for s in CLIP_STATES}
ACTIVE_STATES = tuple(s.name for s in CLIP_STATES if s.active)
FINAL_STATES = tuple(s.name for s in CLIP_STATES if s.final)

#: Lanes in display order; ``residual`` is prepared only when the user asks for it.
LANES = ("original", "foreground", "background", "residual")
LANE_LABELS = {lane: lane.capitalize() for lane in LANES}

#: What the widget says when no kernel is behind it, by the browser's view of the link.
NOTICES = {
    "lost": "The kernel restarted — run the cell again. Finished clips come back from the "
    "task store in seconds; what is already loaded here still plays.",
    "static": "No kernel is running this widget: these are the clips as they were saved. "
    "Run the cell to bring them back.",
}


def vocabulary() -> dict[str, Any]:
    """What the front end needs to name states and lanes (the ``vocabulary`` trait).

    Examples
    --------
    >>> vocabulary()["states"]["separating"]
    {'label': 'separating', 'active': True, 'timed': True}
    """
    return {
        "states": {
            s.name: {"label": s.label, "active": s.active, "timed": s.timed} for s in CLIP_STATES
        },
        "lanes": list(LANES),
        "lane_labels": dict(LANE_LABELS),
        "formats": FORMATS_TEXT,
        "notices": dict(NOTICES),
    }
