"""Lane pictures and the preview budget: bitrate by duration, real peaks and images."""

from __future__ import annotations

import io

import numpy as np
import pytest

from camb_notebook.audio import Stems
from camb_notebook.widget._media import (
    BROWSER_BUDGET_BYTES,
    PEAK_BINS,
    SPEC_HEIGHT,
    SPEC_WIDTH,
    prepare_visuals,
    preview_bitrate,
    spectrogram_scale,
)
from camb_notebook.widget._states import LANES

from .conftest import SR, make_stems


@pytest.mark.parametrize("duration", [10.0, 30.0, 120.0, 600.0])
@pytest.mark.parametrize("channels", [len(LANES), 2 * len(LANES)])
def test_the_preview_of_every_lane_fits_the_budget(duration, channels):
    rate = preview_bitrate(duration, channels)
    assert 8_000 <= rate <= 48_000
    audio_bytes = channels * rate * duration / 8 * 1.05  # constrained VBR overshoots a little
    assert audio_bytes <= BROWSER_BUDGET_BYTES - 1_000_000  # room for peaks and images


def test_short_clips_get_the_best_preview_and_ten_minutes_still_sound_fine():
    assert preview_bitrate(30.0) == 48_000  # per channel: 96 kb/s per stereo lane
    assert preview_bitrate(600.0) >= 20_000
    assert preview_bitrate(0.0) == 48_000


def test_lane_pictures_are_peaks_and_a_spectrogram_on_the_shared_scale():
    fg, bg = make_stems(3.0)
    stems = Stems(fg + bg, fg, bg, SR)
    visuals = prepare_visuals(stems, "foreground", scale=spectrogram_scale(stems))
    env = np.frombuffer(visuals.peaks, dtype="<f4").reshape(2, PEAK_BINS)
    assert np.all(env[0] <= env[1]) and env[1].max() == pytest.approx(np.abs(fg).max(), rel=1e-5)
    from PIL import Image

    image = Image.open(io.BytesIO(visuals.spectrogram))
    assert image.size == (SPEC_WIDTH, SPEC_HEIGHT)
    assert visuals.level_db == pytest.approx(20 * np.log10(np.sqrt(np.mean(fg**2))), abs=0.1)
    assert visuals.nbytes == len(visuals.peaks) + len(visuals.spectrogram)
    assert not visuals.silent


def test_residual_lane_is_silent_when_the_stems_add_up_and_unknown_lanes_are_refused():
    fg, bg = make_stems(1.0)
    exact = Stems(fg + bg, fg, bg, SR)
    assert prepare_visuals(exact, "residual", scale=spectrogram_scale(exact)).silent
    stems = Stems(fg + bg + 0.01, fg, bg, SR)
    visuals = prepare_visuals(stems, "residual", scale=spectrogram_scale(stems))
    assert visuals.level_db == pytest.approx(-40.0, abs=0.1) and not visuals.silent
    with pytest.raises(ValueError, match="lane='drums'"):
        prepare_visuals(stems, "drums", scale=(-80.0, 0.0))
