"""matplotlib figures: lanes, labels, one colour scale, the mask, what they accept."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest

from camb_notebook._exceptions import InputError
from camb_notebook.audio import Stems
from camb_notebook.viz import (
    figure_png,
    foreground_mask,
    plot_mask,
    plot_overview,
    plot_spectrograms,
    plot_waveforms,
    spectrogram_db,
    stem_facts,
)


def _images(fig):
    return [im for ax in fig.axes for im in ax.images]


def test_waveforms_have_one_labelled_lane_per_stem_on_one_time_axis(stems: Stems) -> None:
    fig = plot_waveforms(stems, residual=True)
    axes = fig.axes
    assert [ax.get_ylabel() for ax in axes] == ["original", "foreground", "background", "residual"]
    assert axes[-1].get_xlabel() == "Time (s)"
    assert all(ax.get_xlim() == pytest.approx((0.0, stems.duration)) for ax in axes)
    assert all(axes[0].get_shared_x_axes().joined(axes[0], ax) for ax in axes)


def test_waveform_lane_draws_the_peaks_envelope() -> None:
    sr = 1000
    x = np.zeros((1, 10 * sr), dtype=np.float32)
    x[0, 7300] = 0.8  # a click at 7.3 s
    fig = plot_waveforms(Stems(x, x, np.zeros_like(x), sr), n_bins=100)
    (poly,) = fig.axes[0].collections
    verts = poly.get_paths()[0].vertices
    tops = verts[verts[:, 1] > 0.5]
    # The click's bin spans 7.3 s .. 7.4 s and nothing else rises.
    assert tops[:, 0].min() == pytest.approx(7.3) and tops[:, 0].max() == pytest.approx(7.4)
    assert tops[:, 1].max() == pytest.approx(0.8)


def test_spectrograms_share_one_colour_scale_and_one_colour_bar(stems: Stems) -> None:
    fig = plot_spectrograms(stems, dynamic_range=70)
    images = _images(fig)
    assert len(images) == 3
    clims = {im.get_clim() for im in images}
    assert len(clims) == 1
    vmin, vmax = clims.pop()
    loudest = spectrogram_db(stems.original, stems.sr)[0].max()
    assert vmax == pytest.approx(float(loudest), abs=0.5) and vmax - vmin == pytest.approx(70)
    colourbars = [ax for ax in fig.axes if ax.get_ylabel() == "Level (dBFS)"]
    assert len(colourbars) == 1
    lanes = [ax for ax in fig.axes if ax.images]
    assert [ax.get_ylabel().split("\n")[0] for ax in lanes] == [
        "original",
        "foreground",
        "background",
    ]
    assert lanes[-1].get_xlabel() == "Time (s)"
    # On one scale the quiet background really is darker than the foreground.
    fg, bg = (np.asarray(im.get_array()) for im in images[1:])
    assert bg.max() < fg.max() - 15


def test_spectrograms_side_by_side_with_log_frequency_ticks(stems: Stems) -> None:
    fig = plot_spectrograms(stems, layout="columns", log_freq=True)
    lanes = [ax for ax in fig.axes if ax.images]
    assert [ax.get_title() for ax in lanes] == ["original", "foreground", "background"]
    labels = [t.get_text() for t in lanes[0].get_yticklabels()]
    assert "1k" in labels and "100" in labels
    assert all(ax.get_xlim() == pytest.approx((0, stems.duration)) for ax in lanes)


def test_spectrograms_linear_axis_reaches_nyquist(stems: Stems) -> None:
    fig = plot_spectrograms(stems, log_freq=False)
    image = _images(fig)[0]
    assert image.get_extent()[3] == pytest.approx(stems.sr / 2)
    with pytest.raises(InputError, match="layout='grid'"):
        plot_spectrograms(stems, layout="grid")  # type: ignore[arg-type]


def test_foreground_mask_gives_each_tone_to_its_stem(stems: Stems) -> None:
    mask, times, freqs = foreground_mask(stems, n_fft=1024)
    assert mask.shape == (513, times.size) and mask.dtype == np.float32
    assert mask.min() >= 0.0 and mask.max() <= 1.0
    mid = mask[:, mask.shape[1] // 2]
    assert mid[np.argmin(abs(freqs - 1000))] > 0.99
    assert mid[np.argmin(abs(freqs - 200))] < 0.01


def test_plot_mask_from_stems_and_from_an_array(stems: Stems) -> None:
    fig = plot_mask(stems)
    ax, bar = fig.axes
    assert ax.images[0].get_clim() == (0.0, 1.0)
    assert ax.get_title().startswith("Foreground soft mask")
    assert (ax.get_xlabel(), ax.get_ylabel(), bar.get_ylabel()) == (
        "Time (s)",
        "Frequency (Hz)",
        "Foreground share",
    )
    given = np.linspace(0, 1, 513 * 40, dtype=np.float32).reshape(513, 40)
    fig = plot_mask(given, title="Oracle mask", log_freq=False)
    assert fig.axes[0].get_xlabel() == "Frame" and fig.axes[0].get_title() == "Oracle mask"
    np.testing.assert_array_equal(fig.axes[0].images[0].get_array(), given)
    with pytest.raises(InputError, match="freqs has shape"):
        plot_mask(given, freqs=np.arange(10.0))


def test_overview_has_waveform_and_spectrogram_per_lane(stems: Stems) -> None:
    fig = plot_overview(stems, residual=True)
    *lanes, colour_bar = fig.axes
    assert colour_bar.get_ylabel() == "dBFS"
    waves = [ax for ax in lanes if not ax.images]
    specs = [ax for ax in lanes if ax.images]
    assert [ax.get_ylabel() for ax in waves] == ["original", "foreground", "background", "residual"]
    assert len(specs) == 4 and len({ax.images[0].get_clim() for ax in specs}) == 1
    assert len(fig.axes) == 9  # and one colour bar


def test_figures_are_not_left_open_in_pyplot(stems: Stems) -> None:
    plt.close("all")
    plot_waveforms(stems)
    plot_spectrograms(stems)
    plot_mask(stems)
    plot_overview(stems)
    assert plt.get_fignums() == []


def test_plots_draw_into_given_axes(stems: Stems) -> None:
    mine, axes = plt.subplots(3, 1)
    assert plot_spectrograms(stems, axes=axes) is mine
    plt.close(mine)
    with pytest.raises(InputError, match="2 axes for 3 lanes"):
        plot_waveforms(stems, axes=axes[:2])


@pytest.mark.parametrize(
    "function", [plot_waveforms, plot_spectrograms, plot_overview, foreground_mask, stem_facts]
)
def test_figures_take_stems_and_say_what_to_pass_otherwise(function, stems: Stems) -> None:
    for wrong, kind in [
        ((stems.original, stems.foreground, stems.background), "tuple"),
        ({"original": stems.original}, "dict"),
        ("song.mp3", "str"),
    ]:
        with pytest.raises(InputError, match=rf"{function.__name__}\(\) takes .*Stems, got {kind}"):
            function(wrong)
    with pytest.raises(InputError, match=r"pass result\.stems\(\)"):
        function(stems.original)


def test_plot_mask_takes_stems_or_a_2d_array(stems: Stems) -> None:
    with pytest.raises(InputError, match=r"got an array of shape \(4,\)"):
        plot_mask(np.zeros(4))
    with pytest.raises(InputError, match="got a tuple"):
        plot_mask((stems.original, stems.foreground, stems.background))
    with pytest.raises(InputError, match="stems are at 16000 Hz"):
        plot_mask(stems, sr=8000)
    boolean = plot_mask(np.eye(8, dtype=bool), log_freq=False)
    assert boolean.axes[0].images[0].get_array().max() == 1.0


def test_a_figure_renders_to_png_with_agg(stems: Stems, tmp_path) -> None:
    out = tmp_path / "fig.png"
    plot_overview(stems).savefig(out)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_notebook_png_of_a_spectrogram_figure_is_a_compact_palette_image() -> None:
    import io

    from PIL import Image

    from camb_notebook.viz._figure import _compact_png

    rng = np.random.default_rng(5)
    x = rng.uniform(-0.5, 0.5, (2, 44100 * 4)).astype(np.float32)
    fig = plot_spectrograms(Stems(x, 0.5 * x, 0.5 * x, 44100))
    plain = io.BytesIO()
    fig.savefig(plain, format="png", dpi=fig.dpi, facecolor="white")
    compact = _compact_png(fig)
    image = Image.open(io.BytesIO(compact))
    assert image.mode == "P"
    assert image.size == Image.open(io.BytesIO(plain.getvalue())).size
    assert len(compact) < 0.7 * len(plain.getvalue())


def test_figure_png_steps_down_the_resolution_to_fit_and_then_refuses(stems: Stems) -> None:
    fig = plot_overview(stems)
    full = figure_png(fig, dpi=100)
    fitted = figure_png(fig, dpi=100, max_bytes=len(full) - 1)
    assert len(fitted) < len(full)
    with pytest.raises(InputError, match="over the limit of 100 bytes") as info:
        figure_png(fig, dpi=100, max_bytes=100)
    assert info.value.limit == 100
