"""The rich display of stems and of a result: bounded size, Opus only, fallback for long clips."""

from __future__ import annotations

import base64
import io
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import camb_notebook.viz._display as display
from camb_notebook._exceptions import InputError
from camb_notebook.audio import Stems, load, save
from camb_notebook.viz import (
    MAX_DISPLAY_BYTES,
    MAX_FIGURE_BYTES,
    PREVIEW_BITRATES,
    encode_previews,
    format_duration,
    result_mimebundle,
    stem_facts,
    stems_mimebundle,
)
from camb_notebook.viz._html import estimate_preview_bytes

try:
    from camb_notebook.api import SeparationResult
except ImportError:  # the client package may not re-export it yet
    from camb_notebook.api._models import SeparationResult


class _Tags(HTMLParser):
    """Collects (tag, attrs) of every start tag."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def parse(markup: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(markup)
    parser.close()
    return parser.tags


def data_uris(markup: str, prefix: str) -> list[bytes]:
    out = []
    for _, attrs in parse(markup):
        src = attrs.get("src") or ""
        if src.startswith(prefix):
            out.append(base64.b64decode(src.split("base64,", 1)[1]))
    return out


def bundle_size(bundle: dict[str, str]) -> int:
    return sum(len(v.encode()) for v in bundle.values())


def test_short_clip_shows_text_figure_and_three_opus_players(stems: Stems) -> None:
    bundle = stems_mimebundle(stems)
    assert sorted(bundle) == ["image/png", "text/html", "text/plain"]
    assert bundle_size(bundle) <= MAX_DISPLAY_BYTES
    assert stem_facts(stems)["line"] in bundle["text/plain"]

    png = base64.b64decode(bundle["image/png"])
    assert len(png) <= MAX_FIGURE_BYTES
    image = Image.open(io.BytesIO(png))
    image.load()
    assert image.format == "PNG" and image.size[0] >= 500

    tags = parse(bundle["text/html"])
    audios = [t for t, _ in tags if t == "audio"]
    assert len(audios) == 3
    sources = [a for t, a in tags if t == "source"]
    assert {a["type"] for a in sources} == {"audio/ogg; codecs=opus"}
    for preview in data_uris(bundle["text/html"], "data:audio/"):
        assert preview[:4] == b"OggS" and b"OpusHead" in preview[:200]
        audio, sr = load(preview)
        assert audio.shape[1] / sr == pytest.approx(stems.duration, abs=0.05)
    assert data_uris(bundle["text/html"], "data:image/png") == [png]


def test_nothing_points_outside_the_bundle_and_no_wav_anywhere(stems: Stems) -> None:
    bundle = stems_mimebundle(stems)
    for tag, attrs in parse(bundle["text/html"]):
        assert tag not in ("script", "link", "iframe")
        for key in ("src", "href"):
            if attrs.get(key) is not None:
                assert attrs[key].startswith("data:"), (tag, key)
    joined = "".join(bundle.values()).lower()
    assert "audio/wav" not in joined and "audio/x-wav" not in joined
    assert "http://" not in joined and "https://" not in joined


def test_long_clip_falls_back_to_figure_paths_and_a_hint(stems_factory) -> None:
    long = stems_factory(seconds=400.0, sr=8000, channels=1)
    bundle = stems_mimebundle(long)
    markup = bundle["text/html"]
    assert "<audio" not in markup and "data:audio" not in markup
    assert "SeparationWidget" in markup and "camb-no-audio" in markup
    assert format_duration(400.0) in markup
    assert bundle_size(bundle) < 300_000
    assert len(data_uris(markup, "data:image/png")) == 1


def test_the_display_cap_decides_whether_audio_is_embedded(
    stems: Stems, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert "<audio" in stems_mimebundle(stems)["text/html"]
    small = bundle_size(stems_mimebundle(stems)) // 2
    monkeypatch.setattr(display, "MAX_DISPLAY_BYTES", small)
    bundle = stems_mimebundle(stems)
    assert "<audio" not in bundle["text/html"]
    assert f"{small // 1000} kB" in bundle["text/html"]
    # The keyword overrides the module constant.
    assert "<audio" in stems_mimebundle(stems, max_bytes=10 * small)["text/html"]


def test_the_bundle_never_exceeds_its_bound_and_uses_the_best_bitrate_that_fits(
    stems_factory,
) -> None:
    # 12 s mono: each bound below admits a different preview bitrate, or none.
    stems = stems_factory(seconds=12.0, channels=1)
    seen = {}
    for max_bytes in (100_000, 140_000, 200_000, 260_000):
        bundle = stems_mimebundle(stems, max_bytes=max_bytes)
        assert bundle_size(bundle) <= max_bytes
        found = re.findall(r"Ogg Opus (\d+) kb/s", bundle["text/html"])
        seen[max_bytes] = int(found[0]) * 1000 if found else None
        assert bundle["text/html"].count("<audio") == (3 if found else 0)
    assert seen == {100_000: None, 140_000: 16_000, 200_000: 24_000, 260_000: 32_000}


def test_previews_step_down_the_bitrate_ladder_to_fit_the_budget(stems_factory) -> None:
    lanes = stems_factory(seconds=10.0).items()
    sr = 16000
    top, *_, bottom = PREVIEW_BITRATES
    budget = 3 * estimate_preview_bytes(10.0, bottom)
    previews, bitrate = encode_previews(lanes, sr, budget=budget, bitrates=PREVIEW_BITRATES)
    assert bitrate == bottom and sum(map(len, previews.values())) <= budget
    previews, bitrate = encode_previews(lanes, sr, budget=10**9, bitrates=PREVIEW_BITRATES)
    assert bitrate == top and len(previews) == 3
    assert encode_previews(lanes, sr, budget=budget // 2, bitrates=PREVIEW_BITRATES) == ({}, None)


def test_stem_facts_state_levels_and_the_residual() -> None:
    x = np.full((2, 16000), 0.5, np.float32)
    facts = stem_facts(Stems(x, 0.5 * x, 0.49 * x, 16000))
    assert facts["duration"] == 1.0 and facts["sample_rate"] == 16000 and facts["channels"] == 2
    assert facts["levels"]["original"] == pytest.approx(-6.02, abs=0.01)
    assert facts["levels"]["residual"] == pytest.approx(-46.02, abs=0.01)  # 0.01 * 0.5
    assert facts["residual_re_original"] == pytest.approx(-40.0, abs=0.01)
    assert "residual −46.0 dBFS (−40.0 dB re original)" in facts["line"]


@pytest.fixture
def result(tmp_path: Path, stems_factory) -> SeparationResult:
    stems = stems_factory(seconds=3.0, sr=22050)
    paths = [
        save(tmp_path / name, audio, stems.sr)
        for name, audio in (
            ("song.wav", stems.original),
            ("song.foreground.flac", stems.foreground),
            ("song.background.flac", stems.background),
        )
    ]
    return SeparationResult(*paths, task_id="t-123", base_url="http://127.0.0.1:1/apis")


def test_a_separation_result_displays_through_its_mimebundle(result: SeparationResult) -> None:
    bundle = result._repr_mimebundle_()
    assert "plots unavailable" not in bundle["text/html"]
    assert bundle["text/plain"].startswith("song.wav — separated")
    assert "song.foreground.flac" in bundle["text/plain"] and "t-123" in bundle["text/plain"]
    markup = bundle["text/html"]
    assert len(re.findall(r"<audio\b", markup)) == 3
    assert "song.background.flac" in markup
    assert bundle_size(bundle) <= MAX_DISPLAY_BYTES


def test_stems_display_lists_the_files_it_is_given(stems: Stems, tmp_path: Path) -> None:
    files = {"foreground": tmp_path / "fg.flac", "background": str(tmp_path / "bg.flac")}
    bundle = stems_mimebundle(stems, title="Mine", files=files, task_id="t-9")
    lines = bundle["text/plain"].splitlines()
    assert lines[0] == "Mine" and lines[2:] == [
        f"  foreground: {tmp_path / 'fg.flac'}",
        f"  background: {tmp_path / 'bg.flac'}",
        "  task_id: t-9",
    ]
    assert "<code>fg.flac</code>" in bundle["text/html"]


def test_each_display_names_the_other_when_given_the_wrong_thing(
    stems: Stems, result: SeparationResult
) -> None:
    with pytest.raises(InputError, match=r"for Stems use stems_mimebundle\(stems\)"):
        result_mimebundle(stems)  # type: ignore[arg-type]
    with pytest.raises(InputError, match=r"stems_mimebundle\(\) takes .*got SeparationResult"):
        stems_mimebundle(result)  # type: ignore[arg-type]
