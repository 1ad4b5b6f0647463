"""Lane media: preview bitrate by duration, and real previews, peaks and images."""

from __future__ import annotations

import io

import numpy as np
import pytest

from camb_notebook.audio import Stems, load
from camb_notebook.widget._media import (
    BROWSER_BUDGET_BYTES,
    PEAK_BINS,
    SPEC_HEIGHT,
    SPEC_WIDTH,
    prepare_lane,
    preview_bitrate,
    spectrogram_scale,
)
from camb_notebook.widget._states import LANES

from .conftest import SR, make_stems


@pytest.mark.parametrize("duration", [10.0, 30.0, 120.0, 600.0])
def test_four_previews_fit_the_budget(duration):
    rate = preview_bitrate(duration)
    assert 16_000 <= rate <= 96_000
    audio_bytes = len(LANES) * rate * duration / 8
    assert audio_bytes <= BROWSER_BUDGET_BYTES - 1_000_000  # room for peaks and images


def test_short_clips_get_the_best_preview_and_ten_minutes_still_sound_fine():
    assert preview_bitrate(30.0) == 96_000
    assert preview_bitrate(600.0) >= 32_000
    assert preview_bitrate(0.0) == 96_000


def test_prepared_lane_is_a_playable_preview_with_peaks_and_image():
    fg, bg = make_stems(3.0)
    stems = Stems(fg + bg, fg, bg, SR)
    media = prepare_lane(stems, "foreground", scale=spectrogram_scale(stems))
    decoded, sr = load(media.audio)  # real Ogg Opus, decodable
    assert sr == 48000 and decoded.shape[0] == 2
    assert abs(decoded.shape[1] / sr - 3.0) < 0.05
    env = np.frombuffer(media.peaks, dtype="<f4").reshape(2, PEAK_BINS)
    assert np.all(env[0] <= env[1]) and env[1].max() == pytest.approx(np.abs(fg).max(), rel=1e-5)
    from PIL import Image

    image = Image.open(io.BytesIO(media.spectrogram))
    assert image.size == (SPEC_WIDTH, SPEC_HEIGHT)
    assert media.level_db == pytest.approx(20 * np.log10(np.sqrt(np.mean(fg**2))), abs=0.1)
    assert media.nbytes == len(media.audio) + len(media.peaks) + len(media.spectrogram)


def test_residual_lane_and_unknown_lane():
    fg, bg = make_stems(1.0)
    stems = Stems(fg + bg + 0.01, fg, bg, SR)
    media = prepare_lane(stems, "residual", scale=spectrogram_scale(stems))
    assert media.level_db == pytest.approx(-40.0, abs=0.1)
    with pytest.raises(ValueError, match="lane='drums'"):
        prepare_lane(stems, "drums", scale=(-80.0, 0.0))
