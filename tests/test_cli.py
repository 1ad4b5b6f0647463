"""The ``camb-notebook`` command against the real embedded engine (and one real subprocess)."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest

from camb_notebook import audio
from camb_notebook.api import Task, TaskStatus, TaskStore
from camb_notebook.cli import main
from tests.emulator import Emulator

SR = 44100
ROOT = Path(__file__).resolve().parents[1]


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


#: The demo's default method (the hybrid; Spleeter without DeepFilterNet3) must separate the
#: example at least this well, in dB of SDR per stem. From benchmarks/RESULTS.md (2026-12-01/02):
#: Spleeter scores 6.10 dB on the worst of its six dev items (10.59 dB mean), the hybrid
#: 8.60 dB (11.84 dB mean), while the mixture itself scores -2.06 dB and REPET 4.66 dB, so a
#: broken separation or a fallback to REPET falls below it. The example clip itself scores
#: about 11 dB for each stem.
DEMO_MIN_SDR = 6.0


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
    said = re.search(
        r"SDR against the true stems: foreground (-?[\d.]+) dB, background (-?[\d.]+) dB",
        proc.stdout,
    )
    assert said is not None, proc.stdout
    printed = {"foreground": float(said[1]), "background": float(said[2])}
    # The numbers are measured, not typed: the same SDRs from the files it wrote.
    from camb_notebook.examples import example_truth

    folder = tmp_path / "example"
    stems = audio.Stems.from_files(
        tmp_path / "example.flac", folder / "foreground.flac", folder / "background.flac"
    )
    truth = example_truth()
    for name in ("foreground", "background"):
        measured = audio.sdr(getattr(truth, name), getattr(stems, name))
        assert printed[name] == pytest.approx(measured, abs=0.01), name
        assert printed[name] >= DEMO_MIN_SDR, (name, printed)
    assert (tmp_path / "example.html").stat().st_size > 10_000


# -- listing tasks ---------------------------------------------------------------------------


def test_tasks_lists_only_the_unfinished(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CAMB_NOTEBOOK_CACHE_DIR", str(tmp_path / "cache"))  # a store of our own
    assert main(["tasks"]) == 0
    assert capsys.readouterr().out == "no unfinished tasks\n"
    store = TaskStore()
    base = "http://svc.test/apis"
    store.record_submitted(Task("t-pending", base, "waiting.wav", "h1", 1.0))
    store.record_submitted(Task("t-done", base, "done.wav", "h2", 2.0))
    store.update_status(base, TaskStatus("SUCCESS", task_id="t-done", run_id=7))
    store.record_submitted(Task("t-failed", base, "broken.wav", "h3", 3.0))
    store.update_status(base, TaskStatus("ERROR", task_id="t-failed"))
    uncertain = store.record_uncertain(base, "h4", "lost-answer.wav", 10)
    assert main(["tasks"]) == 0
    rows = [line.split("\t") for line in capsys.readouterr().out.splitlines()]
    assert sorted((r[1], r[2]) for r in rows) == [
        ("PENDING", "waiting.wav"),
        ("UNCERTAIN", "lost-answer.wav"),
    ]
    assert all(r[3] == base for r in rows)
    assert main(["tasks", "--all"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 4
    store.forget(uncertain)


# -- the service options, against the emulator ------------------------------------------------


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator(pending_polls=2) as emu:
        yield emu


def _clips(folder: Path, n: int) -> list[str]:
    """*n* different short clips (different content: the task store reuses identical ones)."""
    rng = np.random.default_rng(11)
    return [
        str(audio.save(folder / f"c{i}.wav", 0.1 * rng.standard_normal((2, SR // 2)), SR))
        for i in range(n)
    ]


def test_base_url_and_api_key_choose_the_service(
    emulator: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    [clip] = _clips(tmp_path, 1)
    out = tmp_path / "out"
    service = ["--base-url", emulator.base_url]
    assert main(["separate", clip, "--out", str(out), *service, "--api-key", "wrong-key-000"]) == 1
    assert "c0.wav: failed:" in capsys.readouterr().err and emulator.submissions == 0
    assert emulator.requests[-1]["had_key"]
    assert main(["separate", clip, "--out", str(out), *service, "--api-key", emulator.api_key]) == 0
    assert emulator.submissions == 1
    assert capsys.readouterr().out.split() == [
        str(out / "c0" / "foreground.flac"),
        str(out / "c0" / "background.flac"),
    ]


def test_no_reuse_separates_again(emulator: Emulator, tmp_path: Path) -> None:
    [clip] = _clips(tmp_path, 1)
    service = ["--base-url", emulator.base_url, "--api-key", emulator.api_key]
    assert main(["separate", clip, "--out", str(tmp_path / "a"), *service]) == 0
    assert main(["separate", clip, "--out", str(tmp_path / "b"), *service]) == 0
    assert emulator.submissions == 1  # the same file on the same service: reused
    assert (tmp_path / "b" / "c0" / "foreground.flac").is_file()
    assert main(["separate", clip, "--out", str(tmp_path / "c"), *service, "--no-reuse"]) == 0
    assert emulator.submissions == 2


@pytest.mark.parametrize("concurrency", [1, 3])
def test_concurrency_bounds_the_clips_in_flight(
    emulator: Emulator, tmp_path: Path, concurrency: int
) -> None:
    clips = _clips(tmp_path, 3)
    service = ["--base-url", emulator.base_url, "--api-key", emulator.api_key]
    code = main(["separate", *clips, "--out", str(tmp_path), *service,
                 "--concurrency", str(concurrency)])  # fmt: skip
    assert code == 0 and emulator.submissions == 3
    # Each task stays pending for two polls (seconds): clips in flight overlap fully.
    assert emulator.max_pending == concurrency


# -- real processes: the server, Ctrl-C, the demo -----------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CAMB_API_KEY", "CAMB_BASE_URL")}
    env["PYTHONPATH"] = str(ROOT)
    return env


@pytest.mark.slow
def test_serve_answers_jobs_and_stops_cleanly_on_ctrl_c(clip: Path) -> None:
    port, key = _free_port(), "serve-test-key-4242"
    command = [sys.executable, "-m", "camb_notebook.cli", "serve", "--port", str(port)]
    with subprocess.Popen(
        [*command, "--api-key", key], env=_env(), stderr=subprocess.PIPE, text=True
    ) as proc:
        try:
            base = f"http://127.0.0.1:{port}/apis"
            with httpx.Client(base_url=base, headers={"x-api-key": key}, timeout=30) as c:
                deadline = time.monotonic() + 120
                while True:
                    assert proc.poll() is None, proc.stderr.read()
                    try:
                        c.get("/audio-separation/none")
                        break
                    except httpx.TransportError:
                        assert time.monotonic() < deadline, "the server did not come up"
                        time.sleep(0.2)
                with clip.open("rb") as f:
                    task_id = c.post(
                        "/audio-separation", files={"media_file": f}, data={"method": "repet"}
                    ).json()["task_id"]
                status = c.get(f"/audio-separation/{task_id}").json()
                while status["status"] == "PENDING":
                    assert time.monotonic() < deadline + 300, status
                    time.sleep(0.2)
                    status = c.get(f"/audio-separation/{task_id}").json()
                assert status["status"] == "SUCCESS", status
                stem = httpx.get(status["foreground_audio_url"], timeout=30)
                assert stem.status_code == 200 and stem.content[:4] == b"fLaC"
            proc.send_signal(signal.SIGINT)
            assert proc.wait(timeout=60) == 0
            err = proc.stderr.read()
            assert "Traceback" not in err and key not in err
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


@pytest.mark.slow
def test_ctrl_c_during_separate_exits_130(tmp_path: Path) -> None:
    long_clip = audio.save(
        tmp_path / "long.wav",
        0.1 * np.random.default_rng(5).standard_normal((2, 60 * SR)).astype(np.float32),
        SR,
    )
    with subprocess.Popen(
        [sys.executable, "-m", "camb_notebook.cli", "separate", str(long_clip),
         "--out", str(tmp_path / "out"), "--method", "spleeter"],
        env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    ) as proc:  # fmt: skip
        try:
            seen = []
            for line in proc.stderr:  # progress lines, one per state
                seen.append(line)
                if "separating" in line or "queued" in line:
                    break
            assert proc.poll() is None, "".join(seen)
            interrupted = time.monotonic()
            proc.send_signal(signal.SIGINT)
            assert proc.wait(timeout=120) == 130
            waited = time.monotonic() - interrupted
            err = proc.stderr.read()
            assert err.rstrip().endswith("interrupted"), err
            assert "Traceback" not in err
            assert not (tmp_path / "out" / "long" / "foreground.flac").exists()
            assert waited < 60, waited
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


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
