"""The hybrid's agreement gate: where DeepFilterNet3 is listened to."""

from __future__ import annotations

import numpy as np

from camb_notebook.methods._gate import agreement_gate, reach


def test_agreeing_models_open_the_gate() -> None:
    e = np.ones(300)
    assert agreement_gate(e, 0.7 * e, 2 * e).min() == 1.0  # -1.5 dB: typical speech


def test_a_voice_dfn_drops_shuts_the_gate() -> None:
    e = np.ones(300)
    assert agreement_gate(e, 1e-3 * e, 2 * e).max() == 0.0  # -30 dB: typical singing


def test_the_floor_makes_two_near_silent_estimates_agree() -> None:
    e_mix = np.ones(300)
    spleeter = np.full(300, 1e-4)  # a little leakage in a pause
    dfn = np.zeros(300)  # DeepFilterNet3 outputs nothing there
    assert agreement_gate(spleeter, dfn, e_mix).min() == 1.0
    assert agreement_gate(spleeter, dfn, e_mix, floor=0.0).max() == 0.0


def test_a_short_disagreement_inside_speech_stays_local() -> None:
    n = 800
    spleeter = np.ones(n)
    dfn = 0.8 * np.ones(n)
    dfn[380:420] = 1e-4  # Spleeter lets an instrument through for about a second
    g = agreement_gate(spleeter, dfn, 2 * spleeter)
    assert g[397:403].max() < 0.3
    assert g[:370].min() == 1.0 and g[430:].min() == 1.0
    # half a second is absorbed by the 1 s energy average
    dfn[380:420] = 0.8
    dfn[390:410] = 1e-4
    assert agreement_gate(spleeter, dfn, 2 * spleeter).min() == 1.0


def test_a_mostly_disagreeing_passage_is_shut_even_where_a_frame_agrees() -> None:
    n = 600
    spleeter = np.ones(n)
    dfn = np.full(n, 1e-4)  # a sung phrase DeepFilterNet3 removes ...
    dfn[295:305] = 0.8  # ... except one note it keeps
    g = agreement_gate(spleeter, dfn, 2 * spleeter)
    assert g.max() == 0.0
    ungated = agreement_gate(spleeter, dfn, 2 * spleeter, context=1)
    assert ungated[295:305].max() > 0.0  # the per-frame rule alone lets that note through


def test_a_value_depends_only_on_frames_within_reach() -> None:
    rng = np.random.default_rng(0)
    es, ed, ex = (rng.uniform(0.1, 1.0, 800) for _ in range(3))
    ed[300:700] *= 0.2  # a partial agreement around t: a value that could move
    r = reach(43, 173, 1)
    assert r == 21 + 86
    g = agreement_gate(es, ed, ex)
    t = 500
    cut = agreement_gate(es[t - r : t + r + 1], ed[t - r : t + r + 1], ex[t - r : t + r + 1])
    assert abs(float(cut[r]) - float(g[t])) < 1e-6  # running sums: rounding only
    assert 0.0 < g[t] < 1.0  # a value that could have moved
    ed2 = ed.copy()
    ed2[t + r + 1 :] = 0.0
    ed2[: t - r] = 0.0
    assert abs(float(agreement_gate(es, ed2, ex)[t]) - float(g[t])) < 1e-6
