"""The ``camb-notebook`` command: separate, serve, report, tasks, demo.

Every subcommand honours ``CAMB_API_KEY`` and ``CAMB_BASE_URL`` like the Python API:
with neither set, work happens on the embedded local engine.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._exceptions import CambError

if TYPE_CHECKING:  # pragma: no cover
    from .api import Client

__all__ = ["main"]


class _Progress:
    """Where each clip stands, on stderr.

    On a terminal: one live bar for the whole batch (clips done, with the fraction of the
    ones under way) whose tail names the latest news, and a line above it as each clip
    ends. Otherwise (a pipe, a log file): a plain line per change of a clip's state.
    The words come from :func:`camb_notebook._vocabulary.progress_phrase`.
    """

    def __init__(self, names: Sequence[str], stream: Any = None) -> None:
        self.stream = stream or sys.stderr
        self.tty = _is_terminal(self.stream)
        self.state: dict[str, str] = dict.fromkeys(names, "waiting")
        self.fraction: dict[str, float] = dict.fromkeys(names, 0.0)
        self.lock = threading.Lock()
        self.bar: Any = None
        if self.tty and names:
            from tqdm import tqdm

            # A terminal that reports no width (some CI ptys) would get an empty bar.
            sized = _columns(self.stream) > 0
            self.bar = tqdm(
                total=len(names),
                file=self.stream,
                unit="clip",
                dynamic_ncols=sized,
                ncols=None if sized else 80,
                bar_format="{l_bar}{bar}| {n:.1f}/{total_fmt} clips [{elapsed}<{remaining}]"
                "{postfix}",
                desc="separating",
            )

    def status(self, name: str, status: Any) -> None:
        """A poll's :class:`~camb_notebook.api.TaskStatus` (or a phrase) for clip *name*."""
        progress = getattr(status, "progress", None)
        fraction = min(max(float(progress) / 100.0, 0.0), 0.99) if progress else None
        self.update(name, _describe(status), fraction)

    def update(
        self, name: str, state: str, fraction: float | None = None, final: bool = False
    ) -> None:
        with self.lock:
            if fraction is not None:
                self.fraction[name] = max(self.fraction.get(name, 0.0), fraction)
            if final:
                self.fraction[name] = 1.0
            if self.state.get(name) == state and fraction is None:
                return
            changed = self.state.get(name) != state
            self.state[name] = state
            if self.bar is None:
                if changed:
                    self.stream.write(f"{name}: {state}\n")
                    self.stream.flush()
                return
            self.bar.n = round(sum(self.fraction.values()), 2)
            if final:
                self.bar.write(f"{name}: {state}", file=self.stream)
            self.bar.set_postfix_str(f"{name}: {state}", refresh=False)
            self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _columns(stream: Any) -> int:
    try:
        return os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, OSError, ValueError):
        return 0


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # closed or not a real stream
        return False


def _describe(status: Any) -> str:
    """Turn a TaskStatus (or a string) into a short progress phrase."""
    if isinstance(status, str):
        return status
    from ._vocabulary import progress_phrase

    return progress_phrase(
        status.status, status.progress, status.queue_position, status.queue_length
    )


def _client(args: argparse.Namespace) -> Client:
    from ._connect import connect

    return connect(args.api_key, args.base_url)


def _separate_all(args: argparse.Namespace, files: Sequence[Path]) -> list[tuple[Path, Any]]:
    """Separate ``files`` into ``args.out/<stem>/`` with bounded concurrency.

    Returns (file, result or the CambError that stopped it) per file. Not
    ``Client.separate_many``: that gives every file the same ``out_dir``, and here each
    file's stems go straight to a folder of its own.
    """
    from concurrent.futures import ThreadPoolExecutor

    names = [f.name for f in files]
    progress = _Progress(names)
    client = _client(args)

    def one(path: Path) -> tuple[Path, Any]:
        started = time.monotonic()
        try:
            result = client.separate(
                path,
                out_dir=Path(args.out) / path.stem,
                method=args.method,
                reuse=not args.no_reuse,
                on_progress=lambda st: progress.status(path.name, st),
            )
        except CambError as exc:
            progress.update(path.name, f"failed: {exc}", final=True)
            return path, exc
        progress.update(path.name, f"done in {time.monotonic() - started:.1f} s", final=True)
        return path, result

    try:
        with ThreadPoolExecutor(max_workers=max(1, args.concurrency)) as pool:
            return list(pool.map(one, files))
    finally:
        progress.close()
        client.close()


def _each_result(args: argparse.Namespace, action: Callable[[Path, Any], Iterable[Any]]) -> int:
    """Separate ``args.files``; print what ``action(file, result)`` yields for each success.

    Returns 1 when any file failed (its reason is already on stderr), else 0.
    """
    failed = 0
    for path, outcome in _separate_all(args, [Path(f) for f in args.files]):
        if isinstance(outcome, Exception):
            failed += 1
            continue
        for line in action(path, outcome):
            print(line)
    return 1 if failed else 0


def _cmd_separate(args: argparse.Namespace) -> int:
    return _each_result(args, lambda _path, result: (result.foreground, result.background))


def _cmd_report(args: argparse.Namespace) -> int:
    from .report import write_report

    def page(path: Path, result: Any) -> list[Path]:
        return [write_report(result, Path(args.out) / f"{path.stem}.html")]

    return _each_result(args, page)


def _cmd_serve(args: argparse.Namespace) -> int:
    from ._exceptions import ConfigurationError
    from .engine import serve

    key = args.api_key or os.environ.get("CAMB_API_KEY")
    extra: dict[str, str] = {}
    for item in args.extra_method or []:
        name, sep, target = item.partition("=")
        if not sep or ":" not in target:
            raise ConfigurationError(
                f"--extra-method {item!r}: expected NAME=MODULE:FACTORY, e.g. "
                "mine=my_package.methods:make"
            )
        extra[name] = target
    options = {
        "keys_file": args.keys,
        "admin_key": args.admin_key or os.environ.get("CAMB_ADMIN_KEY") or None,
        "max_jobs_per_key": args.max_jobs_per_key,
        "max_queue": args.max_queue,
        "root": args.root,
        "scheduler": args.scheduler,
        "storage": args.storage,
        "result_ttl": args.result_ttl,
        "job_timeout": args.job_timeout,
        "url_ttl": args.url_ttl,
        "public_url": args.public_url,
        "default_method": args.method,
        "extra_methods": extra or None,
    }
    serve(
        host=args.host,
        port=args.port,
        api_key=key,
        workers=args.workers,
        **{k: v for k, v in options.items() if v is not None},
    )
    return 0


def _cmd_tasks(args: argparse.Namespace) -> int:
    from .api import TaskStore

    store = TaskStore()
    if args.attach:
        with _client(args) as client:
            status = client.wait(client.attach(args.attach))
            files = client.download(status, Path(args.out) / args.attach)
        for placed in files:
            print(placed)
        return 0
    records = store.unfinished() if not args.all else store.all()
    if not records:
        print("no unfinished tasks" if not args.all else "no tasks")
        return 0
    for rec in records:
        print(f"{rec.task_id}\t{rec.state}\t{rec.filename}\t{rec.base_url}")
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from .audio import sdr
    from .examples import example_clip, example_truth
    from .report import write_report

    out = Path(args.out)
    clip = example_clip(out)
    print(f"example clip: {clip}")
    args.files = [str(clip)]
    [(_, outcome)] = _separate_all(args, [clip])
    if isinstance(outcome, Exception):
        return 1
    print(outcome.foreground)
    print(outcome.background)
    stems = outcome.stems()
    truth = example_truth()
    fg, bg = sdr(truth.foreground, stems.foreground), sdr(truth.background, stems.background)
    levels = stems.levels()
    print(f"method: {getattr(outcome, 'method', None) or 'unknown'}")
    print(f"SDR against the true stems: foreground {fg:.2f} dB, background {bg:.2f} dB")
    print(f"residual level: {levels['residual']:.1f} dBFS")
    print(write_report(outcome, out / "example.html", title="camb_notebook example"))
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="camb-notebook",
        description="Separate audio into foreground and background stems with CAMB.AI's API "
        "or the local engine (used when CAMB_API_KEY and CAMB_BASE_URL are unset).",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def service_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--base-url", help="service base URL (default: $CAMB_BASE_URL)")
        p.add_argument(
            "--api-key",
            help="API key (default: $CAMB_API_KEY; prefer the variable: "
            "command lines are visible to other users)",
        )
        p.add_argument("--method", help="separation method on the local engine")
        p.add_argument("--concurrency", type=int, default=2, help="clips at once (default 2)")
        p.add_argument(
            "--no-reuse", action="store_true", help="separate again even if a result exists"
        )

    p = sub.add_parser("separate", help="separate files into DIR/<name>/{fore,back}ground.*")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--out", default="stems", metavar="DIR", help="output folder (default stems)")
    service_options(p)
    p.set_defaults(run=_cmd_separate)

    p = sub.add_parser("report", help="write one self-contained HTML page per clip")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--out", default="reports", metavar="DIR")
    service_options(p)
    p.set_defaults(run=_cmd_report)

    p = sub.add_parser(
        "serve",
        help="run the local engine as a shared server",
        description="Serve the engine for a class or a team. Tasks, runs and results are kept "
        "in SQLite under --root, so a restart (even a crash) loses nothing. SIGHUP reads the "
        "--keys file again.",
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8750)
    p.add_argument(
        "--api-key", help="one shared key; a key is required beyond loopback (or $CAMB_API_KEY)"
    )
    p.add_argument(
        "--keys",
        type=Path,
        metavar="FILE",
        help="a key per person: `name key` per line; each sees only their own tasks",
    )
    p.add_argument(
        "--admin-key",
        help="a key that sees every task and the load per key (prefer $CAMB_ADMIN_KEY)",
    )
    p.add_argument(
        "--max-jobs-per-key",
        type=int,
        metavar="N",
        help="jobs one key may have waiting or running (more answer 429)",
    )
    p.add_argument("--max-queue", type=int, metavar="N", help="jobs that may wait (default 16)")
    p.add_argument("--workers", type=int, default=1, help="separation processes (default 1)")
    p.add_argument(
        "--root",
        type=Path,
        metavar="DIR",
        help="where tasks and results are kept (default: the cache's engine/serve-PORT)",
    )
    p.add_argument(
        "--scheduler",
        metavar="URL",
        help="run jobs on this Dask distributed scheduler (tcp://HOST:8786)",
    )
    p.add_argument(
        "--storage",
        metavar="URL",
        help="where uploads and stems live when workers are elsewhere: a shared path or an "
        "fsspec URL (s3://bucket/prefix)",
    )
    p.add_argument("--result-ttl", type=float, metavar="SECONDS", help="default 86400")
    p.add_argument(
        "--job-timeout", type=float, metavar="SECONDS", help="stop longer jobs (TIMEOUT)"
    )
    p.add_argument(
        "--url-ttl", type=float, metavar="SECONDS", help="life of a result URL (default 21600)"
    )
    p.add_argument("--public-url", metavar="URL", help="origin for result URLs behind a proxy")
    p.add_argument("--method", help="default separation method")
    p.add_argument(
        "--extra-method",
        action="append",
        metavar="NAME=MODULE:FACTORY",
        help="register a separation method importable by the workers (repeatable)",
    )
    p.set_defaults(run=_cmd_serve)

    p = sub.add_parser("tasks", help="list unfinished tasks, or re-attach one and download it")
    p.add_argument("--all", action="store_true", help="list finished tasks too")
    p.add_argument("--attach", metavar="TASK_ID", help="wait for this task and download it")
    p.add_argument("--out", default="stems", metavar="DIR")
    p.add_argument("--base-url")
    p.add_argument("--api-key")
    p.set_defaults(run=_cmd_tasks)

    p = sub.add_parser("demo", help="separate the bundled example offline and write a report")
    p.add_argument("--out", default="demo-output", metavar="DIR")
    service_options(p)
    p.set_defaults(run=_cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 1 a clip failed, 2 usage)."""
    args = _parser().parse_args(argv)
    try:
        return int(args.run(args))
    except CambError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
