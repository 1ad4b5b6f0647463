"""The options of ``separate``, defined once and shared by every way to call it.

:class:`SeparateOptions` is the one definition (types, defaults, documentation): the clients
and the sans-I/O core take it. Its keyword twins :class:`SeparateKwargs` and
:class:`BatchKwargs` exist so that ``**options: Unpack[SeparateKwargs]`` keeps every keyword
argument typed for type checkers and IDEs; a test keeps them in step with the dataclass.
:func:`spelled_out` shows the same keywords, with their defaults, to run-time tools
(``help()``, Jupyter's signature pop-up and completion).
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from typing_extensions import TypedDict

from ._models import TaskStatus
from ._upload import UploadProgress

if TYPE_CHECKING:  # pragma: no cover
    from ..audio import AudioInfo, Limits

__all__ = [
    "BatchKwargs",
    "CancelEvent",
    "ProgressCallback",
    "SeparateKwargs",
    "SeparateOptions",
    "ValidatedCallback",
    "spelled_out",
]

F = TypeVar("F", bound=Callable[..., Any])

#: Called with each :class:`TaskStatus` while a task is polled.
ProgressCallback = Callable[[TaskStatus], Any]
#: Called once with the probe's ``AudioInfo`` when the file passed validation.
ValidatedCallback = Callable[["AudioInfo"], Any]


class CancelEvent(Protocol):
    """Anything with ``is_set()``: a ``threading.Event`` or (async client) ``asyncio.Event``."""

    def is_set(self) -> bool: ...  # pragma: no cover


@dataclass(frozen=True)
class SeparateOptions:
    """How ``separate`` handles one clip: the keyword arguments of every ``separate``.

    :meth:`Client.separate`, :meth:`AsyncClient.separate`, their ``separate_many`` and
    ``camb_notebook.separate`` all take these as keyword arguments; this is where they are
    documented.

    Parameters
    ----------
    out_dir : str or Path, optional
        Where the stems go (default: a folder per file and run in the user cache).
    reuse : bool
        When the task store knows this very file on this service, use that instead of uploading
        it again: a finished separation whose stems are still on disk is returned at once (its
        stems copied into *out_dir* if given), a pending task is waited on. Default True.
    on_progress : callable(TaskStatus), optional
        Called after every status poll; ``status.progress`` and ``status.queue_position`` are
        set when the service reports them. The async client awaits a coroutine function.
    on_upload : callable(sent, total), optional
        Called with byte counts as the upload goes out.
    on_validated : callable(AudioInfo), optional
        Called once with :func:`camb_notebook.audio.probe`'s ``AudioInfo`` right after the file
        passed validation, before any upload or reuse (so a front end need not probe again).
    timeout : float, optional
        Stop waiting after this many seconds with ``WaitTimeoutError``; the task goes on at the
        service. (The client's own ``timeout=`` bounds single network operations.)
    cancel : threading.Event or asyncio.Event, optional
        Set it to stop waiting or downloading with ``CancelledError`` (an ``asyncio.Event``
        only with :class:`AsyncClient`).
    limits : camb_notebook.audio.Limits, optional
        Size and duration limits checked before anything is uploaded (default ``Limits()``).
    project_name, project_description : str, optional
    folder_id : int, optional
        CAMB.AI's optional form fields, sent only when given.
    method : str, optional
        Separation method (the local engine's extension); part of the reuse key.

    See Also
    --------
    Client.separate

    Examples
    --------
    >>> SeparateOptions(method="repet").reuse
    True
    >>> SeparateOptions.from_kwargs({"metod": "repet"})
    Traceback (most recent call last):
    ...
    TypeError: separate() got an unexpected keyword argument 'metod'; its options are ...
    """

    out_dir: str | os.PathLike[str] | None = None
    reuse: bool = True
    on_progress: ProgressCallback | None = None
    on_upload: UploadProgress | None = None
    on_validated: ValidatedCallback | None = None
    timeout: float | None = None
    cancel: CancelEvent | None = None
    limits: Limits | None = None
    project_name: str | None = None
    project_description: str | None = None
    folder_id: int | None = None
    method: str | None = None

    @classmethod
    def from_kwargs(cls, kwargs: Mapping[str, Any]) -> SeparateOptions:
        """The options in *kwargs*; an unknown name is a ``TypeError`` that lists the valid ones.

        Examples
        --------
        >>> SeparateOptions.from_kwargs({"reuse": False}).reuse
        False
        """
        names = [f.name for f in fields(cls)]
        unknown = [k for k in kwargs if k not in names]
        if unknown:
            raise TypeError(
                f"separate() got an unexpected keyword argument {unknown[0]!r}; its options "
                f"are {', '.join(names)} (see camb_notebook.api.SeparateOptions)"
            )
        return cls(**kwargs)


class BatchKwargs(TypedDict, total=False):
    """The keyword options of ``separate_many``: :class:`SeparateOptions` but ``on_progress``.

    (``separate_many`` has its own ``on_progress(path, status)``.) Documented on
    :class:`SeparateOptions`.
    """

    out_dir: str | os.PathLike[str] | None
    reuse: bool
    on_upload: UploadProgress | None
    on_validated: ValidatedCallback | None
    timeout: float | None
    cancel: CancelEvent | None
    limits: Limits | None
    project_name: str | None
    project_description: str | None
    folder_id: int | None
    method: str | None


class SeparateKwargs(BatchKwargs, total=False):
    """The keyword options of ``separate`` (``**options: Unpack[SeparateKwargs]``).

    Documented on :class:`SeparateOptions`.
    """

    on_progress: ProgressCallback | None


def spelled_out(keywords: type) -> Callable[[F], F]:
    """Give a ``**options: Unpack[keywords]`` function a run-time signature naming each option.

    The options appear as keyword-only parameters with the types and defaults of
    :class:`SeparateOptions`, in its order, instead of one ``**options``.

    Examples
    --------
    >>> @spelled_out(BatchKwargs)
    ... def run(path, **options): ...
    >>> str(inspect.signature(run).parameters["reuse"])
    "reuse: 'bool' = True"
    """
    names = set(keywords.__annotations__)
    spelled = [
        inspect.Parameter(
            f.name, inspect.Parameter.KEYWORD_ONLY, default=f.default, annotation=f.type
        )
        for f in fields(SeparateOptions)
        if f.name in names
    ]

    def decorate(fn: F) -> F:
        signature = inspect.signature(fn)
        kept = [p for p in signature.parameters.values() if p.kind is not p.VAR_KEYWORD]
        fn.__signature__ = signature.replace(parameters=[*kept, *spelled])  # type: ignore[attr-defined]
        return fn

    return decorate
