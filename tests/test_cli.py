"""The ``camb-notebook`` command against the real embedded engine (and one real subprocess)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from camb_notebook import audio
from camb_notebook.api import TaskStore
from camb_notebook.cli import main

SR = 44100


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    t = np.arange(3 * SR) / SR
    rng = np.random.default_rng(7)
    x = np.stack([0.3 * np.sin(2 * np.pi * 220 * t), 0.1 * rng.standard_normal(t.size)])
    return audio.save(tmp_path_factory.mktemp("in") / "tune.wav", x.astype(np.float32), SR)


def test_separate_writes_stems_per_file(
    clip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main(["separate", str(clip), "--out", str(out), "--method", "repet"]) == 0
    printed = capsys.readouterr()
    fg, bg = out / "tune" / "foreground.flac", out / "tune" / "background.flac"
    assert printed.out.split() == [str(fg), str(bg)]
    assert "tune.wav: done in" in printed.err
    stems = audio.Stems.from_files(clip, fg, bg)
    original, _ = audio.load(clip)
    assert stems.foreground.shape == original.shape
    assert audio.rms_db(stems.residual) < audio.rms_db(original) - 60


def test_separate_reports_a_bad_file_and_carries_on(
    clip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "notes.mp3"
    bad.write_text("not audio at all" * 100)
    out = tmp_path / "out"
    code = main(["separate", str(bad), str(clip), "--out", str(out), "--method", "repet"])
    err = capsys.readouterr().err
    assert code == 1
    assert "notes.mp3: failed: notes.mp3: the content is not audio" in err
    assert (out / "tune" / "foreground.flac").is_file()
    assert not (out / "notes").exists()


def test_report_writes_one_self_contained_page(clip: Path, tmp_path: Path) -> None:
    assert main(["report", str(clip), "--out", str(tmp_path), "--method", "repet"]) == 0
    page = (tmp_path / "tune.html").read_text()
    assert page.count("<audio") >= 3
    assert "http://" not in page and "https://" not in page


def test_tasks_lists_and_reattaches(
    clip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["separate", str(clip), "--out", str(tmp_path / "a"), "--method", "repet"]) == 0
    capsys.readouterr()
    assert main(["tasks", "--all"]) == 0
    listing = capsys.readouterr().out
    record = next(r for r in TaskStore().all() if r.filename == "tune.wav")
    assert record.task_id in listing and "SUCCESS" in listing
    assert main(["tasks", "--attach", record.task_id, "--out", str(tmp_path / "b")]) == 0
    assert (tmp_path / "b" / record.task_id / "foreground.flac").is_file()


def test_serve_refuses_a_public_address_without_a_key(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--host", "0.0.0.0", "--port", "0"]) == 1
    assert "API key" in capsys.readouterr().err


def test_usage_errors_exit_2() -> None:
    with pytest.raises(SystemExit) as exc:
        main(["separate"])
    assert exc.value.code == 2


@pytest.mark.slow
def test_console_script_runs_the_demo_offline(tmp_path: Path) -> None:
    """The README's first command, minus the install: the real entry point, a fresh process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAMB_API")}
    env.pop("CAMB_BASE_URL", None)
    proc = subprocess.run(
        [sys.executable, "-m", "camb_notebook.cli", "demo", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    assert "SDR against the true stems: foreground" in proc.stdout
    assert (tmp_path / "example" / "foreground.flac").is_file()
    assert (tmp_path / "example.html").stat().st_size > 10_000


def _read_all(fd: int) -> bytes:
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the child closed its end of the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.slow
def test_separate_draws_a_live_bar_on_a_terminal(clip: Path, tmp_path: Path) -> None:
    """stderr is a real pseudo-terminal: a tqdm bar redrawn in place, a line per finished clip."""
    import fcntl
    import pty
    import struct
    import termios

    second = audio.save(tmp_path / "second.wav", audio.load(clip)[0][:, : SR // 2], SR)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAMB_API")}
    env.pop("CAMB_BASE_URL", None)
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    cmd = [sys.executable, "-m", "camb_notebook.cli", "separate", str(clip), str(second)]
    cmd += ["--out", str(tmp_path / "out"), "--method", "repet", "--no-reuse"]
    with subprocess.Popen(
        cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=follower, env=env
    ) as proc:
        os.close(follower)
        screen = _read_all(leader).decode(errors="replace")
        out = proc.stdout.read().decode() if proc.stdout else ""
        assert proc.wait(timeout=300) == 0, screen
    os.close(leader)
    assert re.search("\r[^\n]", screen)  # redrawn in place, not a line per update
    assert "2.0/2 clips" in screen and "100%" in screen
    assert "tune.wav: done in" in screen and "second.wav: done in" in screen
    assert len(out.split()) == 4  # the stems' paths still go to stdout, one per line


def test_separate_prints_plain_lines_when_not_a_terminal(
    clip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["separate", str(clip), "--out", str(tmp_path), "--method", "repet"]) == 0
    err = capsys.readouterr().err
    assert "\r" not in err and "\x1b[" not in err and "clips" not in err
    assert err.strip().splitlines()[-1].startswith("tune.wav: done in")


@pytest.mark.slow
def test_attach_after_a_killed_separate_then_separate_pays_once(clip: Path, tmp_path: Path) -> None:
    """Seen against the CAMB emulator before: kill `separate`, `tasks --attach`, `separate`
    again -> two accepted (paid) submissions. The attach now records where the stems went."""
    from tests.emulator import Emulator

    with Emulator(pending_polls=8) as emu:
        env = {
            **os.environ,
            "CAMB_API_KEY": emu.api_key,
            "CAMB_BASE_URL": emu.base_url,
            "CAMB_NOTEBOOK_CACHE_DIR": str(tmp_path / "cache"),
        }

        def cli(*args: str) -> subprocess.CompletedProcess[str]:
            cmd = [sys.executable, "-m", "camb_notebook.cli", *args]
            return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)

        out = str(tmp_path / "stems")
        first = subprocess.Popen(
            [sys.executable, "-m", "camb_notebook.cli", "separate", str(clip), "--out", out],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        store = tmp_path / "cache" / "tasks" / "tasks.sqlite3"
        deadline = time.monotonic() + 60
        while not (store.exists() and TaskStore(store).unfinished()):
            assert first.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        first.kill()  # the user hits Ctrl-C twice, or the laptop sleeps
        first.wait(30)
        assert emu.submissions == 1

        listing = cli("tasks")
        task_id = listing.stdout.split()[0]
        assert task_id == TaskStore(store).unfinished()[0].task_id
        attached = cli("tasks", "--attach", task_id, "--out", out)
        assert attached.returncode == 0, attached.stderr
        assert (Path(out) / task_id / "foreground.flac").is_file()

        again = cli("separate", str(clip), "--out", out)
        assert again.returncode == 0, again.stderr
        assert emu.submissions == 1, "the file was uploaded (and paid for) twice"
        assert (Path(out) / "tune" / "foreground.flac").is_file()
