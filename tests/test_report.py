"""write_report: one self-contained HTML page per clip, checked by parsing it."""

from __future__ import annotations

import base64
import io
from html.parser import HTMLParser
from pathlib import Path

import matplotlib
import numpy as np
import pytest
from PIL import Image

from camb_notebook._exceptions import InputError
from camb_notebook.audio import Stems, load, save
from camb_notebook.report import write_report

try:
    from camb_notebook.api import SeparationResult
except ImportError:  # the client package may not re-export it yet
    from camb_notebook.api._models import SeparationResult

matplotlib.use("Agg")


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    page.close()
    return page


def _stems(seconds: float = 2.0, sr: int = 16000) -> Stems:
    t = np.arange(int(seconds * sr)) / sr
    fg = np.tile(0.4 * np.sin(2 * np.pi * 880 * t), (2, 1)).astype(np.float32)
    bg = np.tile(0.1 * np.sin(2 * np.pi * 110 * t), (2, 1)).astype(np.float32)
    return Stems(fg + bg, fg, bg, sr)


def _decoded(page: _Page, prefix: str) -> list[bytes]:
    return [
        base64.b64decode(a["src"].split("base64,", 1)[1])
        for _, a in page.tags
        if (a.get("src") or "").startswith(prefix)
    ]


def test_report_is_self_contained_with_figures_players_and_facts(tmp_path: Path) -> None:
    stems = _stems()
    path = write_report(stems, tmp_path / "out" / "clip.html", title="My clip")
    assert path == tmp_path / "out" / "clip.html" and path.is_file()
    page = _parse(path)

    for tag, attrs in page.tags:
        assert tag not in ("script", "link", "iframe", "object", "embed")
        for key in ("src", "href", "poster"):
            if attrs.get(key) is not None:
                assert attrs[key].startswith("data:"), f"<{tag} {key}={attrs[key][:40]}>"
    raw = path.read_text(encoding="utf-8").lower()
    assert "http://" not in raw and "https://" not in raw and "url(" not in raw
    assert "audio/wav" not in raw

    images = _decoded(page, "data:image/png")
    assert len(images) == 3
    for png in images:
        image = Image.open(io.BytesIO(png))
        image.load()
        assert image.format == "PNG" and min(image.size) > 100

    assert sum(tag == "audio" for tag, _ in page.tags) == 4
    previews = _decoded(page, "data:audio/ogg")
    assert len(previews) == 4
    for preview in previews:
        audio, sr = load(preview)
        assert audio.shape[1] / sr == pytest.approx(stems.duration, abs=0.05)

    text = " ".join(page.text)
    assert "My clip" in text
    for row in ("Level of foreground", "Level of residual", "Sample rate", "16000 Hz"):
        assert row in text


def test_report_of_a_result_is_named_after_the_clip_and_lists_its_files(tmp_path: Path) -> None:
    stems = _stems(sr=22050)
    files = [
        save(tmp_path / name, x, stems.sr)
        for name, x in (
            ("tune.wav", stems.original),
            ("tune.fg.flac", stems.foreground),
            ("tune.bg.flac", stems.background),
        )
    ]
    result = SeparationResult(*files, task_id="task-9", run_id=0, method="repet", base_url="")
    out = tmp_path / "reports"
    out.mkdir()
    path = write_report(result, out)
    assert path == out / "tune.report.html"
    text = " ".join(_parse(path).text)
    assert "tune.wav — separated" in text
    assert "task-9" in text and "repet" in text and str(files[1]) in text
    rows = [cell.strip() for cell in _parse(path).text if cell.strip()]
    facts = rows[rows.index("Method") :]
    assert facts[:6] == ["Method", "repet", "Task", "task-9", "Run", "0"]
    assert facts[6:8] == ["File of original", str(files[0])]


def test_report_without_room_for_audio_says_so(tmp_path: Path) -> None:
    path = write_report(_stems(), tmp_path / "r.html", max_audio_bytes=1000)
    page = _parse(path)
    assert not any(tag == "audio" for tag, _ in page.tags)
    assert "No players" in " ".join(page.text)
    assert len(_decoded(page, "data:image/png")) == 3


def test_report_path_must_be_html_or_a_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"report\.pdf: a report is an HTML page"):
        write_report(_stems(), tmp_path / "report.pdf")
    assert not (tmp_path / "report.pdf").exists()


def test_report_takes_a_result_or_stems(tmp_path: Path) -> None:
    stems = _stems()
    with pytest.raises(InputError, match=r"takes a SeparationResult or .*Stems, got tuple"):
        write_report((stems.original, stems.foreground, stems.background), tmp_path / "t.html")
    assert not (tmp_path / "t.html").exists()
