"""Running the engine: embedded on loopback in a background thread, or as a shared server."""

from __future__ import annotations

import atexit
import contextlib
import copy
import ipaddress
import multiprocessing.util  # noqa: F401 - its exit hook must be registered before ours
import secrets
import signal
import socket
import threading
import time
from pathlib import Path
from typing import Any

from .._exceptions import CambError, ConfigurationError, register_secret
from ._config import EngineConfig

__all__ = ["EngineHandle", "local_engine", "serve", "start_engine"]

_START_TIMEOUT = 60.0


class EngineHandle:
    """A running engine: where it listens, its key, and how to stop it.

    Attributes
    ----------
    base_url : str
        ``http://HOST:PORT/apis``, the base URL for :class:`camb_notebook.api.Client`.
    api_key : str or None
        The key the engine requires (never shown in the repr).
    config : EngineConfig

    Examples
    --------
    >>> handle = start_engine(EngineConfig(api_key="k"))
    >>> handle.base_url.startswith("http://127.0.0.1:")
    True
    >>> handle.stop()
    """

    def __init__(self, server: Any, thread: threading.Thread, app: Any, host: str, port: int):
        self._server = server
        self._thread = thread
        self.app = app
        self.config: EngineConfig = app.state.engine_config
        self.api_key: str | None = self.config.api_key
        netloc = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        self.origin = f"http://{netloc}"
        self.base_url = f"{self.origin}/apis"

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<EngineHandle {self.base_url} {state}>"

    @property
    def running(self) -> bool:
        """Whether the server thread is alive and serving."""
        return self._thread.is_alive() and bool(self._server.started)

    @property
    def state(self) -> Any:
        """The app's :class:`~camb_notebook.engine._state.EngineState` (tasks, runner)."""
        return self.app.state.engine

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving, stop the workers and delete this engine's files."""
        self._server.should_exit = True
        if self._thread is not threading.current_thread():
            self._thread.join(timeout)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _log_config() -> dict[str, Any]:
    """uvicorn's logging, plus the engine's own lines (which name keys, never show them)."""
    import uvicorn

    config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    config["loggers"]["camb_notebook.engine"] = {
        "handlers": ["default"],
        "level": "INFO",
        "propagate": False,
    }
    return config


def _uvicorn_config(app: Any, *, log_level: str, quiet: bool, **kw: Any) -> Any:
    import uvicorn

    return uvicorn.Config(
        app,
        **kw,
        log_config=None if quiet else _log_config(),
        log_level=log_level,
        # The engine logs each request itself, with the key's name (EngineConfig.access_log).
        access_log=False,
        lifespan="on",
        ws="none",
        timeout_graceful_shutdown=3,
        server_header=False,
    )


def start_engine(
    config: EngineConfig | None = None, *, host: str = "127.0.0.1", port: int = 0
) -> EngineHandle:
    """Start an engine in a background thread and return once it serves.

    Parameters
    ----------
    config : EngineConfig, optional
    host : str
        Interface to bind; a non-loopback one needs ``config.api_key``.
    port : int
        0 picks a free port.

    Returns
    -------
    EngineHandle

    Raises
    ------
    ConfigurationError
        A non-loopback host without an API key.
    CambError
        The server did not come up (the cause is chained).
    """
    config = config or EngineConfig()
    _check_exposure(host, config.keyed)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP matters: asyncio only sets TCP_NODELAY on accepted sockets of
    # that proto, and without it every answer waits ~40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.bind((host, port))
        sock.listen(256)
        sock.set_inheritable(False)
    except OSError:
        sock.close()
        raise
    port = sock.getsockname()[1]

    import uvicorn

    from ._app import create_app

    app = create_app(config)
    server = uvicorn.Server(_uvicorn_config(app, log_level="warning", quiet=True))
    failure: list[BaseException] = []

    def run() -> None:
        try:
            server.run(sockets=[sock])
        except BaseException as exc:  # surfaced to the caller below
            failure.append(exc)
        finally:
            sock.close()

    thread = threading.Thread(target=run, name=f"camb-engine-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + _START_TIMEOUT
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            cause = failure[0] if failure else None
            raise CambError(
                f"the local engine did not start on {host}:{port}"
                + (f": {cause!r}" if cause else " (see the log above)")
            ) from cause
        time.sleep(0.002)
    return EngineHandle(server, thread, app, host, port)


_EMBEDDED: EngineHandle | None = None
_EMBEDDED_LOCK = threading.Lock()


def local_engine() -> EngineHandle:
    """The embedded engine of this process, started on first use.

    It listens on 127.0.0.1 on a free port, requires a random per-process key, runs
    one worker process (started in the background right away, so the first job does
    not wait for it) and stops when the interpreter exits. Thread-safe.

    Returns
    -------
    EngineHandle

    Examples
    --------
    >>> engine = local_engine()
    >>> engine is local_engine()
    True
    >>> engine.base_url.startswith("http://127.0.0.1:")
    True
    """
    global _EMBEDDED
    with _EMBEDDED_LOCK:
        if _EMBEDDED is not None and _EMBEDDED.running:
            return _EMBEDDED
        key = secrets.token_urlsafe(32)
        register_secret(key)
        _EMBEDDED = start_engine(EngineConfig(api_key=key, prewarm=True))
        return _EMBEDDED


@atexit.register  # runs before multiprocessing's own hook, which would kill the workers
def _stop_embedded() -> None:
    with contextlib.suppress(Exception):
        if _EMBEDDED is not None:
            _EMBEDDED.stop(timeout=5.0)


def _check_exposure(host: str, keyed: bool) -> None:
    if not keyed and not _is_loopback(host):
        raise ConfigurationError(
            f"refusing to serve on host={host!r} without an API key: anyone on the network "
            "could use this machine. Pass api_key=... (camb-notebook serve --api-key KEY, or "
            "--keys FILE for a key per person) or bind to 127.0.0.1",
            setting="host",
            value=host,
        )


def serve(
    host: str = "127.0.0.1",
    port: int = 8750,
    api_key: str | None = None,
    workers: int = 1,
    *,
    log_level: str = "info",
    **config: Any,
) -> None:
    """Serve the engine in the foreground until interrupted (``camb-notebook serve``).

    Tasks, runs and results are kept in SQLite under the root (default
    ``cache_dir("engine")/serve-<port>``), so a restart on the same root serves finished
    tasks as before and runs unfinished ones again. SIGHUP reads the keys file again.

    Parameters
    ----------
    host, port : str, int
        Where to listen. Beyond loopback a key is required (*api_key*, ``keys_file``).
    api_key : str, optional
        One shared key; clients send it as ``x-api-key``.
    workers : int
        Worker processes running separations in parallel (local pool).
    log_level : str
        uvicorn's log level.
    **config
        More :class:`EngineConfig` fields (``keys_file``, ``admin_key``, ``scheduler``,
        ``storage``, ``max_queue``, ``root`` …).

    Raises
    ------
    ConfigurationError
        A non-loopback host without a key, or a bad setting.

    Examples
    --------
    >>> serve("0.0.0.0", 8750)  # doctest: +SKIP
    Traceback (most recent call last):
    ConfigurationError: refusing to serve on host='0.0.0.0' without an API key: ...
    """
    config.setdefault("persist", True)
    config.setdefault("access_log", True)
    config.setdefault("prewarm", True)
    if config["persist"] and config.get("root") is None:
        from .._config import cache_dir

        config["root"] = Path(cache_dir("engine")) / f"serve-{port}"
    engine_config = EngineConfig(api_key=api_key, workers=workers, **config)
    _check_exposure(host, engine_config.keyed)
    import uvicorn

    from ._app import create_app

    app = create_app(engine_config)
    uv_config = _uvicorn_config(app, log_level=log_level, quiet=False, host=host, port=port)
    previous = _reload_keys_on_sighup(app)
    # uvicorn shuts down gracefully on Ctrl-C, then re-raises the signal it caught:
    # the interrupt is the normal way to stop a server, not an error to print.
    try:
        with contextlib.suppress(KeyboardInterrupt):
            uvicorn.Server(uv_config).run()
    finally:
        if previous is not None:
            signal.signal(signal.SIGHUP, previous)


def _reload_keys_on_sighup(app: Any) -> Any:
    """Make SIGHUP read the keys file again (main thread, POSIX); return the old handler."""
    if not hasattr(signal, "SIGHUP") or threading.current_thread() is not threading.main_thread():
        return None

    def reload(signum: int, frame: Any) -> None:
        state = getattr(app.state, "engine", None)
        if state is not None:
            # A KeyRing swaps its table in one assignment: safe inside a signal handler.
            state.keys.reload()

    return signal.signal(signal.SIGHUP, reload)
