"""players(): labelled Ogg Opus players that decode back to the clips, within the byte bound."""

from __future__ import annotations

import base64
import doctest
import re

import numpy as np
import pytest

import camb_notebook.viz._players as players_module
from camb_notebook import InputError
from camb_notebook.audio import load
from camb_notebook.viz import MAX_PLAYERS_BYTES, Players, players

_SOURCE = re.compile(r'<source src="data:audio/ogg; codecs=opus;base64,([A-Za-z0-9+/=]+)"')


def _decoded(p: Players) -> list[tuple[np.ndarray, int]]:
    return [load(base64.b64decode(b64)) for b64 in _SOURCE.findall(p.html)]


def test_one_labelled_player_per_stem_decoding_to_the_clip(stems) -> None:
    p = players(stems)
    assert p.names == ("original", "foreground", "background")
    assert p.html.count("<audio") == 3
    for (audio, sr), name in zip(_decoded(p), p.names, strict=True):
        assert f'aria-label="{name}"' in p.html
        assert sr == 48000  # Opus always decodes at 48 kHz
        assert audio.shape[0] == 2
        assert audio.shape[1] / sr == pytest.approx(stems.duration, abs=0.03)
    # the 1 kHz foreground is much louder than the 200 Hz background, and stays so
    (_, _), (fg, _), (bg, _) = _decoded(p)
    assert np.sqrt(np.mean(fg**2)) > 5 * np.sqrt(np.mean(bg**2))


def test_residual_adds_a_player(stems) -> None:
    p = players(stems, residual=True)
    assert p.names == ("original", "foreground", "background", "residual")
    assert p.html.count("<audio") == 4


def test_dict_labels_and_lengths_are_kept() -> None:
    sr = 16000
    t = np.arange(3 * sr) / sr
    tone = (0.3 * np.sin(2 * np.pi * 300 * t)).astype(np.float32)
    p = players({"three seconds": tone, "<one> second": tone[:sr]}, sr=sr, title="Two & more")
    assert p.names == ("three seconds", "<one> second")
    assert "&lt;one&gt; second" in p.html and "<one>" not in p.html
    assert "Two &amp; more" in p.html
    lengths = [a.shape[1] / rate for a, rate in _decoded(p)]
    assert lengths == [pytest.approx(3.0, abs=0.03), pytest.approx(1.0, abs=0.03)]
    assert "3.0 s" in p.html and "1.0 s" in p.html


@pytest.mark.parametrize("seconds", [1.0, 10.0, 25.0])
def test_the_display_stays_within_max_bytes(stems_factory, seconds: float) -> None:
    limit = 400_000
    p = players(stems_factory(seconds=seconds), max_bytes=limit)
    assert p.nbytes <= limit
    assert p.bitrate in (32_000, 24_000, 16_000)
    assert "audio/wav" not in p.html and "UklGR" not in p.html  # no WAV ("RIFF")


def test_a_tighter_bound_lowers_the_bitrate(stems_factory) -> None:
    s = stems_factory(seconds=20.0)
    roomy = players(s)
    tight = players(s, max_bytes=260_000)
    assert roomy.bitrate == 32_000
    assert tight.bitrate < roomy.bitrate
    assert tight.nbytes <= 260_000 < roomy.nbytes


def test_too_long_for_the_bound_names_the_limit_and_the_fix(stems_factory) -> None:
    with pytest.raises(InputError, match=r"max_bytes=50000.*shorter excerpt") as info:
        players(stems_factory(seconds=30.0), max_bytes=50_000)
    assert info.value.limit == 50_000


def test_empty_clip_and_empty_bitrates_are_refused() -> None:
    x = np.zeros((1, 100), np.float32)
    with pytest.raises(InputError, match="'silence' has no samples"):
        players({"ok": x, "silence": x[:, :0]}, sr=8000)
    with pytest.raises(InputError, match="bitrates is empty"):
        players(x, sr=8000, bitrates=())
    with pytest.raises(InputError, match="sample rate"):
        players(x)
    with pytest.raises(InputError, match="dict of clips is empty"):
        players({}, sr=8000)


def test_players_take_stems_labelled_arrays_or_one_array(stems) -> None:
    one = players(stems.original, sr=stems.sr)
    assert one.names == ("audio",)
    with pytest.raises(InputError, match=r"residual=True .* needs camb_notebook\.audio\.Stems"):
        players({"mix": stems.original}, sr=stems.sr, residual=True)
    with pytest.raises(InputError, match="stems are at 16000 Hz; leave sr out"):
        players(stems, sr=8000)
    with pytest.raises(InputError, match=r"got tuple; for a separation result pass result\.stems"):
        players((stems.original, stems.foreground, stems.background), sr=stems.sr)


def test_displays_as_html_and_repr_is_short(stems) -> None:
    p = players(stems)
    assert p._repr_html_() == p.html
    assert repr(p).startswith("Players(original, foreground, background; Ogg Opus 32 kb/s, ")
    assert len(repr(p)) < 100
    assert p.nbytes <= MAX_PLAYERS_BYTES


def test_docstring_example() -> None:
    result = doctest.testmod(players_module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
