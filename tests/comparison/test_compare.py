"""compare(): one clip through the local engine's methods and a second service (the CAMB
emulator standing in for the cloud); runs aligned, scored, shown and reported."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from camb_notebook import audio
from camb_notebook._exceptions import InputError
from camb_notebook.api import Client, SeparationResult, TaskStore
from camb_notebook.comparison import Comparison, Run, compare, plan_runs
from camb_notebook.examples import example_truth
from camb_notebook.methods import available_methods
from camb_notebook.viz import MAX_DISPLAY_BYTES
from tests.api.conftest import FAST
from tests.emulator import Emulator

SECONDS = 6


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """6 s of the bundled example (48 kHz stereo) and its true stems, as files."""
    folder = tmp_path_factory.mktemp("compare")
    truth = example_truth()
    w = truth.read(0, SECONDS, unit="seconds")
    return {
        name: audio.save(folder / f"{name}.flac", getattr(w, name), truth.sr)
        for name in ("original", "foreground", "background")
    }


@pytest.fixture
def emulator_client(tmp_path: Path):
    with Emulator() as emu:
        client = Client(emu.api_key, emu.base_url, store=TaskStore(tmp_path / "t.sqlite3"), **FAST)
        yield client
        client.close()


def test_compare_engine_methods_and_a_second_service(
    clip: dict[str, Path], emulator_client: Client, tmp_path: Path
) -> None:
    # the local engine's model (when its weights are installed) and its DSP method
    methods = [m for m in ("spleeter", "repet") if m in available_methods()]
    comparison = compare(
        clip["original"],
        methods=methods,
        clients=[emulator_client],
        truth=(clip["foreground"], clip["background"]),
        out_dir=tmp_path / "stems",
    )
    assert comparison.labels == [*methods, "127.0.0.1"]
    truth = audio.Stems.from_files(clip["original"], clip["foreground"], clip["background"])
    for run in comparison.runs:  # aligned to the original, each in its own folder
        stems = run.stems()
        assert (stems.sr, stems.channels, stems.n_samples) == (48000, 2, SECONDS * 48000)
        assert run.foreground.parent.parent == tmp_path / "stems"
    assert len({run.foreground.parent for run in comparison.runs}) == len(methods) + 1

    metrics = comparison.metrics()
    assert list(metrics.index) == comparison.labels
    # The emulator's stems are half the mixture each: its scores are known exactly.
    emu = comparison["127.0.0.1"].stems()
    half = emu.foreground
    assert metrics.loc["127.0.0.1", "sdr_foreground_db"] == pytest.approx(
        audio.sdr(truth.foreground, half), abs=0.01
    )
    assert metrics.loc["127.0.0.1", "sdr_background_db"] == pytest.approx(
        audio.sdr(truth.background, emu.background), abs=0.01
    )
    assert metrics.loc["127.0.0.1", "foreground_dbfs"] == pytest.approx(
        audio.rms_db(half), abs=0.01
    )
    for method in methods:  # a real separation beats handing back half the mixture
        assert (
            metrics.loc[method, "sdr_foreground_db"] > metrics.loc["127.0.0.1", "sdr_foreground_db"]
        )
        assert metrics.loc[method, "residual_re_original_db"] < -20
    pairwise = comparison.pairwise()
    assert pairwise.shape == (len(methods) + 1,) * 2
    assert np.isnan(np.diag(pairwise.to_numpy())).all()
    a, b = comparison.labels[:2]
    assert pairwise.loc[a, b] == pytest.approx(
        audio.sdr(comparison[a].stems().foreground, comparison[b].stems().foreground), abs=0.01
    )

    bundle = comparison._repr_mimebundle_()
    size = sum(len(v) for v in bundle.values())
    assert size < MAX_DISPLAY_BYTES
    assert bundle["text/html"].count("<img") == 1 + len(methods)  # lanes + a difference each
    assert "sdr foreground db" in bundle["text/html"]  # names wrap: underscores as spaces

    page = comparison.write_report(tmp_path / "report.html", features=True)
    text = page.read_text()
    assert text.count("<audio") == 1 + 2 * len(comparison)  # original once, then each run
    assert text.count("<img") == 1 + len(methods)
    assert "foreground loudness lufs" in text and "127.0.0.1 background" in text
    assert not re.search(r"""(src|href)=["']https?:""", text)  # self-contained


def test_a_comparison_without_truth_scores_runs_against_each_other(
    clip: dict[str, Path], emulator_client: Client
) -> None:
    comparison = compare(
        clip["original"], methods=["repet"], clients=[emulator_client], labels=["dsp", "cloud"]
    )
    metrics = comparison.metrics()
    assert "sdr_foreground_db" not in metrics and list(metrics.index) == ["dsp", "cloud"]
    assert np.isfinite(comparison.pairwise().loc["dsp", "cloud"])
    fig = comparison.difference()
    assert fig.axes[0].get_title().startswith("Foreground: dsp − cloud")
    fig = comparison.figure(seconds=2.0)
    assert fig.axes[0].get_xlim()[1] == pytest.approx(2.0)


def test_plans_name_their_runs_and_refuse_nonsense(emulator_client: Client) -> None:
    plans = plan_runs(["Spleeter", "repet"], [emulator_client, emulator_client])
    assert [p.label for p in plans] == ["spleeter", "repet", "127.0.0.1 1", "127.0.0.1 2"]
    assert [p.method for p in plans] == ["spleeter", "repet", None, None]
    with pytest.raises(InputError, match="nothing to compare"):
        plan_runs()
    with pytest.raises(InputError, match="twice"):
        plan_runs(["repet", "repet"])
    with pytest.raises(InputError, match="take lists"):
        plan_runs("repet")
    with pytest.raises(InputError, match="name each of the 2 runs once"):
        plan_runs(["repet", "spleeter"], labels=["a", "a"])
    with pytest.raises(InputError, match="Client objects"):
        plan_runs(clients=["https://api.camb.ai"])


def test_truth_and_runs_must_fit_the_clip(clip: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        compare(tmp_path / "missing.wav", methods=["repet"])
    with pytest.raises(InputError, match="truth="):
        compare(clip["original"], methods=["repet"], truth=clip["foreground"])
    with pytest.raises(InputError, match="'foreground' and 'background'"):
        compare(clip["original"], methods=["repet"], truth={"voice": clip["foreground"]})
    one = SeparationResult(clip["original"], clip["foreground"], clip["background"])
    other = SeparationResult(clip["foreground"], clip["foreground"], clip["background"])
    with pytest.raises(InputError, match="different clips"):
        Comparison([Run("a", one), Run("b", other)])
    with pytest.raises(InputError, match="labels must differ"):
        Comparison([Run("a", one), Run("a", one)])
    short = audio.Stems(np.zeros((2, 10)), np.zeros((2, 10)), np.zeros((2, 10)), 48000)
    with pytest.raises(InputError, match="true stems hold 10 samples"):
        Comparison([Run("a", one)], truth=short).metrics()
