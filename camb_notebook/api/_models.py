"""The values the client hands back: tasks, status answers, result URLs, finished results."""

from __future__ import annotations

import html
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from .._vocabulary import PENDING, SUCCESS

if TYPE_CHECKING:  # pragma: no cover
    from ..audio import Stems

__all__ = ["ResultURLs", "SeparationResult", "StemFiles", "Task", "TaskStatus"]


@dataclass(frozen=True)
class Task:
    """A submitted separation task.

    Attributes
    ----------
    task_id : str
        The service's id; ``client.attach(task_id)`` rebuilds this object later.
    base_url : str
        The service the task lives on.
    filename : str or None
        The uploaded file's name.
    content_hash : str or None
        SHA-256 of the uploaded bytes (hex); the task store's key for reuse.
    submitted_at : float
        Wall-clock time (``time.time()``) of the submission.
    method : str or None
        The separation method asked for (local engine only).

    Examples
    --------
    >>> Task("t-1", "http://127.0.0.1:8750/apis").task_id
    't-1'
    """

    task_id: str
    base_url: str
    filename: str | None = None
    content_hash: str | None = None
    submitted_at: float = 0.0
    method: str | None = None


@dataclass(frozen=True)
class TaskStatus:
    """One answer of the status endpoint, normalised.

    Attributes
    ----------
    status : str
        ``PENDING``, ``SUCCESS``, ``ERROR``, ``TIMEOUT``, ``PAYMENT_REQUIRED`` or whatever the
        service sent; anything but ``PENDING`` is terminal.
    run_id : int or None
        Key of the result endpoint, set once the task succeeded.
    exception_reason, message :
        The service's failure reason code and message, verbatim.
    progress : float or None
        Percent done (0–100) when the service reports it (the local engine does).
    method : str or None
        Separation method reported by the service, if any.
    foreground_url, background_url : str or None
        Result URLs when the status answer carries them (older API, local engine).
    raw : dict
        The whole decoded answer.
    task_id : str or None
        The task this status is about.
    retry_after : float or None
        The answer's ``Retry-After`` hint: poll no sooner than this many seconds.
    queue_position : int or None
        Place in the service's queue while the task waits to start (1 = next to run); None
        when it is not queued or the service does not say (CAMB.AI's cloud does not).
    queue_length : int or None
        Tasks waiting in that queue, when the service reports it.

    Examples
    --------
    >>> status = TaskStatus("PENDING", queue_position=2, queue_length=5)
    >>> status.queued, status.done
    (True, False)
    """

    status: str
    run_id: int | None = None
    exception_reason: str | None = None
    message: Any = None
    progress: float | None = None
    method: str | None = None
    foreground_url: str | None = None
    background_url: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    task_id: str | None = None
    retry_after: float | None = field(default=None, repr=False, compare=False)
    queue_position: int | None = None
    queue_length: int | None = None

    @property
    def done(self) -> bool:
        """True once the status is terminal (anything but ``PENDING``)."""
        return self.status != PENDING

    @property
    def queued(self) -> bool:
        """True while the task waits in the service's queue (``PENDING`` with a position)."""
        return self.status == PENDING and self.queue_position is not None

    @property
    def succeeded(self) -> bool:
        """True when the status is ``SUCCESS``."""
        return self.status == SUCCESS

    @property
    def urls(self) -> ResultURLs | None:
        """The result URLs in this answer, or ``None`` when the result endpoint is needed."""
        if self.foreground_url and self.background_url:
            return ResultURLs(self.foreground_url, self.background_url, self.run_id)
        return None


class ResultURLs(NamedTuple):
    """Where the two stems can be downloaded (pre-signed: no API key needed, they expire).

    Examples
    --------
    >>> ResultURLs("https://h/fg.flac", "https://h/bg.flac", 7).run_id
    7
    """

    foreground_url: str
    background_url: str
    run_id: int | None = None


class StemFiles(NamedTuple):
    """The two downloaded stem files."""

    foreground: Path
    background: Path


@dataclass
class SeparationResult:
    """A finished separation: the original and both stems on local disk.

    ``separate()`` returns it; in a notebook it displays players and plots.

    Attributes
    ----------
    original, foreground, background : Path
        Local files.
    task_id : str or None
    run_id : int or None
    base_url : str
        The service that separated it.
    method : str or None
        The method the service used, when known.
    elapsed : float
        Seconds from submission to the stems on disk (0 for a reused result).
    reused : bool
        True when the task store served an earlier, identical separation.

    Examples
    --------
    >>> r = SeparationResult(Path("a.wav"), Path("fg.flac"), Path("bg.flac"), base_url="x")
    >>> r.foreground.name
    'fg.flac'
    """

    original: Path
    foreground: Path
    background: Path
    task_id: str | None = None
    run_id: int | None = None
    base_url: str = ""
    method: str | None = None
    elapsed: float = 0.0
    reused: bool = False
    _stems: Stems | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.original = Path(self.original)
        self.foreground = Path(self.foreground)
        self.background = Path(self.background)

    def stems(self) -> Stems:
        """Decode the three files into an aligned :class:`camb_notebook.audio.Stems` (cached).

        Examples
        --------
        >>> # result.stems().levels()
        """
        if self._stems is None:
            from ..audio import Stems

            self._stems = Stems.from_files(self.original, self.foreground, self.background)
        return self._stems

    def files_exist(self) -> bool:
        """True when all three files are still on disk."""
        return all(os.path.isfile(p) for p in (self.original, self.foreground, self.background))

    def _plain_text(self) -> str:
        how = "reused" if self.reused else f"{self.elapsed:.1f} s"
        return (
            f"SeparationResult({self.original.name}: foreground={str(self.foreground)!r}, "
            f"background={str(self.background)!r}, task_id={self.task_id!r}, "
            f"method={self.method!r}, {how})"
        )

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        try:
            from ..viz import result_mimebundle

            return result_mimebundle(self)
        except Exception as exc:  # viz is optional at display time: never break a cell
            text = self._plain_text()
            note = f"(plots unavailable: {type(exc).__name__}: {exc})"
            return {
                "text/plain": text,
                "text/html": f"<pre>{html.escape(text)}\n{html.escape(note)}</pre>",
            }
