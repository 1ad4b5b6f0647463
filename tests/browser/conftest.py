"""Real JupyterLab and Voila servers on 127.0.0.1, and Debian's Chromium driven by Playwright.

Each server gets a temporary root folder, its own settings, and the repository on
PYTHONPATH so its kernels import this checkout. Lab runs with a token; Voila with
no auth (its default) on loopback only. ``playwright install`` cannot download
here, so the tests launch ``/usr/bin/chromium`` (``apt-get install -y chromium``).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import site
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import nbformat
import numpy as np
import pytest
import soundfile as sf

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--autoplay-policy=no-user-gesture-required",
]
SHOTS = Path(os.environ.get("CAMB_WIDGET_SHOTS", REPO / "build" / "widget-shots"))

pytestmark = pytest.mark.browser


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_song(path: Path, seconds: float = 12.0, sr: int = 44100) -> Path:
    """A short stereo "song": a sung-like melody with vibrato over a pad, bass and hi-hats.

    Every call makes a new song (other hi-hat noise): the embedded engine keeps one identity
    in the session's task store, so a song another test separated would be reused instead of
    separated, and a test would see no queue, no progress and no pace of the worker.
    """
    rng = np.random.default_rng()
    t = np.arange(int(seconds * sr)) / sr
    notes = np.array([220.0, 247.0, 262.0, 294.0, 330.0, 294.0, 262.0, 247.0])
    f0 = notes[(t * 2).astype(int) % notes.size] * (1 + 0.006 * np.sin(2 * np.pi * 5.5 * t))
    phase = 2 * np.pi * np.cumsum(f0) / sr
    envelope = np.clip(np.sin(np.pi * ((t * 2) % 1.0)) * 1.4, 0, 1)
    voice = sum(np.sin(k * phase) / k**1.3 for k in range(1, 8)) * envelope * 0.22
    pad = sum(np.sin(2 * np.pi * f * t) for f in (110.0, 165.0, 220.0)) * 0.05
    bass = 0.12 * np.sin(2 * np.pi * 55.0 * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 0.5 * t))
    hats = rng.standard_normal(t.size) * np.exp(-((t * 4) % 1.0) * 30) * 0.06
    left = voice + pad + bass + hats
    right = 0.9 * voice + pad + bass + 0.7 * hats
    sf.write(path, np.stack([left, right]).T.astype(np.float32), sr, subtype="PCM_16")
    return path


def widget_notebook(path: Path, *cells: str, kernel: str = "python3") -> Path:
    nb = nbformat.v4.new_notebook()
    display = "Python 3 (ipykernel)" if kernel == "python3" else kernel
    nb.metadata["kernelspec"] = {"name": kernel, "display_name": display, "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(code) for code in cells]
    nbformat.write(nb, path)
    return path


def _server_env(extra: dict[str, str]) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.pop("CAMB_API_KEY", None)
    env.pop("CAMB_BASE_URL", None)
    env.update(extra)
    return env


def _wait_http(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited ({proc.returncode}):\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"server at {url} not up after {timeout} s:\n{log.read_text()[-3000:]}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


@dataclass
class Server:
    url: str
    root: Path
    token: str | None
    proc: subprocess.Popen[bytes]
    log: Path

    def page_url(self, path: str) -> str:
        sep = "&" if "?" in path else "?"
        return f"{self.url}{path}{sep}token={self.token}" if self.token else f"{self.url}{path}"


def _lab_settings(settings: Path, app: str = "lab", save_state: bool = True) -> None:
    """No news pop-up, and widget state saved in the notebook (the strict case for size).

    ``save_state=False`` keeps JupyterLab's default (widget state not saved).
    Notebook 7 has no notification plugin and fails on settings for it, so it gets none.
    """
    files: dict[str, Any] = {
        "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
            "fetchNews": "false",
            "checkForUpdates": False,
        },
        "@jupyter-widgets/jupyterlab-manager/plugin.jupyterlab-settings": {"saveState": save_state},
    }
    if app != "lab":
        files = {k: v for k, v in files.items() if "notification" not in k}
    for name, value in files.items():
        target = settings / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(value))


def start_lab(
    root: Path, env: dict[str, str] | None = None, app: str = "lab", save_state: bool = True
) -> Server:
    """JupyterLab (``app="lab"``) or Notebook 7 (``app="notebook"``) with a token."""
    port, token = free_port(), secrets.token_hex(16)
    settings, workspaces = root.parent / "lab-settings", root.parent / "lab-workspaces"
    _lab_settings(settings, app, save_state)
    log = root.parent / f"{app}.log"
    cls = "LabApp" if app == "lab" else "JupyterNotebookApp"
    cmd = [
        sys.executable,
        "-m",
        "jupyter",
        app,
        "--allow-root",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        f"--ServerApp.root_dir={root}",
        f"--IdentityProvider.token={token}",
        f"--{cls}.user_settings_dir={settings}",
        f"--{cls}.workspaces_dir={workspaces}",
        f"--{cls}.expose_app_in_browser=True",
        "--ServerApp.port_retries=0",
    ]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=root, env=_server_env(env or {}), stdout=out, stderr=out)
    url = f"http://127.0.0.1:{port}"
    _wait_http(f"{url}/api/status?token={token}", proc, log)
    return Server(url, root, token, proc, log)


def start_voila(root: Path, notebook: str, env: dict[str, str] | None = None) -> Server:
    port = free_port()
    log = root.parent / "voila.log"
    cmd = [
        sys.executable,
        "-m",
        "voila",
        "--no-browser",
        f"--port={port}",
        "--Voila.ip=127.0.0.1",
        "--Voila.port_retries=0",
        f"--Voila.root_dir={root}",
        "--show_tracebacks=True",
        str(root / notebook),
    ]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=root, env=_server_env(env or {}), stdout=out, stderr=out)
    url = f"http://127.0.0.1:{port}"
    _wait_http(f"{url}/voila/static/", proc, log)
    return Server(url, root, None, proc, log)


#: Extra kernels besides this interpreter's own (7.x): 6.29 (what many users still run) and
#: 7.0.0, whose comm messages from bare threads raised LookupError.
EXTRA_KERNELS = {"ipykernel6": "6.29.5", "ipykernel700": "7.0.0"}


def _kernel_venv(name: str, version: str) -> Path:
    """A venv with one ipykernel version over this interpreter's packages, made under ``build/``.

    It sees this interpreter's site-packages (the project and its dependencies, whether this
    interpreter is the system's or a virtualenv's) through a ``.pth`` file, while its own
    ipykernel comes first. ``--system-site-packages`` would not do: inside a virtualenv it
    reaches the base Python's packages, not the virtualenv's.
    """
    venv = REPO / "build" / f"venv-{name}"
    python = venv / "bin" / "python"
    parents = [p for p in site.getsitepackages() if Path(p).is_dir()]
    pth_text = "".join(f"import site; site.addsitedir({p!r})\n" for p in parents)
    probe = [str(python), "-c", "import ipykernel, camb_notebook; print(ipykernel.__version__)"]
    pth = next(venv.glob("lib/python*/site-packages/_parent_env.pth"), None)
    ok = (
        pth is not None
        and pth.read_text() == pth_text
        and subprocess.run(probe, capture_output=True, text=True, cwd=REPO).stdout.strip()
    )
    if ok != version:
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        site_dir = next(venv.glob("lib/python*/site-packages"))
        (site_dir / "_parent_env.pth").write_text(pth_text)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", f"ipykernel=={version}"], check=True
        )
        # Compile and import once, so the first kernel start is not slow under a test timeout.
        warm = "import ipykernel.kernelapp, camb_notebook.widget"
        subprocess.run([str(python), "-c", warm], check=True, cwd=REPO)
    return python


@pytest.fixture(scope="session")
def kernel_specs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """JUPYTER_PATH with a kernel spec per :data:`EXTRA_KERNELS` entry (``python3`` is 7.x)."""
    data = tmp_path_factory.mktemp("jupyter-data")
    for name, version in EXTRA_KERNELS.items():
        python = _kernel_venv(name, version)
        spec = data / "kernels" / name
        spec.mkdir(parents=True)
        argv = [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"]
        spec_json = {"argv": argv, "display_name": f"ipykernel {version}", "language": "python"}
        (spec / "kernel.json").write_text(json.dumps(spec_json))
    return {"JUPYTER_PATH": str(data)}


# Package scope: sync Playwright keeps an asyncio loop running in the main thread while
# it is open, which would break later tests that call asyncio.run().
@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} missing in CI: .ci/setup must apt-get install chromium")
        pytest.skip(f"{CHROMIUM} missing: apt-get install -y chromium")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@contextlib.contextmanager
def open_page(
    browser: Any, shot: str, width: int = 1280, height: int = 1100, **options: Any
) -> Iterator[Any]:
    """A new page in its own context: uncaught page errors collected in ``page.camb_errors``,
    a screenshot ``<shot>-last.png`` in SHOTS when it closes."""
    context = browser.new_context(viewport={"width": width, "height": height}, **options)
    pg = context.new_page()
    pg.set_default_timeout(60_000)
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(f"{e}\n{e.stack or ''}"[:1500]))
    pg.camb_errors = errors
    try:
        yield pg
    finally:
        SHOTS.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(Exception):  # a crashed page must not hide the test's failure
            pg.screenshot(path=str(SHOTS / f"{shot}-last.png"), full_page=True)
        context.close()


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    with open_page(browser, request.node.name, accept_downloads=True) as pg:
        yield pg


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    root.mkdir()
    write_song(root / "song.wav")
    (root / "notes.wav").write_text("meeting notes, definitely not audio\n" * 50)
    return root


def copy_into(root: Path, *files: Path) -> None:
    for f in files:
        shutil.copy(f, root / f.name)
