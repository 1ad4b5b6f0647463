"""Quality guards: every separation method and every Spleeter step keeps its measured SDR.

The bundled example ships its true stems (``camb_notebook.examples.example_truth``), so each
method runs here on the same clip as in ``python benchmarks/bench_methods.py --example``, and
each SDR must reach the number that benchmark measured (``benchmarks/RESULTS.md``, section
"Quality guards: the bundled example", run of 2026-12-02) less ``MARGIN``. The methods are
deterministic; the margin covers the numpy and onnxruntime backends (same function up to
float32 rounding, > 60 dB apart) and BLAS differences between machines, and is smaller than
the gain of every step, so switching a step off fails its test. After a change that moves a
number on purpose, re-run the benchmark and copy its table here.
"""

from __future__ import annotations

import numpy as np
import pytest

from camb_notebook.audio import sdr
from camb_notebook.examples import example_truth
from camb_notebook.methods import RepetMethod, SpleeterMethod

#: dB below the benchmark's number a run may land. The smallest step gain it must still see:
#: the top-band step's +0.067 dB on the background.
MARGIN = 0.02

#: (step, config, foreground SDR, background SDR) on the example, from the benchmark's table;
#: the steps are cumulative as in ``benchmarks.bench_methods.STEPS``, the last one the default.
STEPS = [
    ("plain", dict(overlap=0, highband="zero", wiener_iterations=0), 10.745, 10.366),
    ("top band to background", dict(overlap=0, highband="background", wiener_iterations=0),
     10.745, 10.433),
    ("overlapping segments", dict(overlap=64, highband="background", wiener_iterations=0),
     11.088, 10.776),
    ("Wiener EM", dict(overlap=64, highband="background", wiener_iterations=1), 11.198, 10.885),
    ("extend (default)", dict(overlap=64, highband="extend", wiener_iterations=1), 11.191, 10.878),
]  # fmt: skip

#: REPET-SIM on the example (fg, bg); the mixture itself scores 0.313 / -0.313.
REPET = (3.189, 2.876)

#: High-band rules on the full-band example (``benchmarks._fullband.example``): SDR of the
#: foreground and background above 11 kHz. "zero" drops the band (0.001 / 0.000).
HIGHBAND = {
    "background": (0.001, 1.585),  # the voice's sibilance goes to the band: fg gets nothing
    "average": (4.042, 5.626),
    "extend": (11.082, 12.666),
}


@pytest.fixture(scope="module")
def example():
    truth = example_truth()
    return truth.original.astype(np.float32), truth


@pytest.mark.parametrize(
    ("config", "fg_db", "bg_db"), [s[1:] for s in STEPS], ids=[s[0] for s in STEPS]
)
def test_each_spleeter_step_keeps_its_quality(spleeter, example, config, fg_db, bg_db) -> None:
    x, truth = example
    fg, bg = SpleeterMethod.reference().with_config(**config).separate(x, truth.sr)
    got = sdr(truth.foreground, fg), sdr(truth.background, bg)
    assert got[0] >= fg_db - MARGIN and got[1] >= bg_db - MARGIN, (got, (fg_db, bg_db))


def test_the_default_is_the_last_step(spleeter) -> None:
    assert spleeter.config == SpleeterMethod.reference().with_config(**STEPS[-1][1]).config


def test_repet_keeps_its_quality(example) -> None:
    x, truth = example
    fg, bg = RepetMethod().separate(x, truth.sr)
    got = sdr(truth.foreground, fg), sdr(truth.background, bg)
    assert got[0] >= REPET[0] - MARGIN and got[1] >= REPET[1] - MARGIN, (got, REPET)


@pytest.mark.parametrize("rule", list(HIGHBAND))
def test_each_high_band_rule_keeps_its_quality_above_11_khz(spleeter, rule: str) -> None:
    from benchmarks import _fullband
    from benchmarks.bench_methods import _top

    mix, fg_true, bg_true = _fullband.example()
    config = dict(STEPS[-1][1], highband=rule)
    fg, bg = SpleeterMethod.reference().with_config(**config).separate(mix, _fullband.SR)
    got = sdr(_top(fg_true), _top(fg)), sdr(_top(bg_true), _top(bg))
    want = HIGHBAND[rule]
    assert got[0] >= want[0] - MARGIN and got[1] >= want[1] - MARGIN, (got, want)
