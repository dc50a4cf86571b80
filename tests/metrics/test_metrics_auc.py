"""AUC: the estimate and DeLong's variance against their pairwise definitions (ties, weights,
several groups), the interval function's cases, and coverage by simulation (a fast version of
part 3 of ``benchmarks/bench_coverage.py``)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from fairsuite.metrics import evaluate
from fairsuite.metrics._evaluate import _auc_stats
from fairsuite.metrics._intervals import _hanley_mcneil_var, auc_interval, wilson_cc, z_for


def _pairwise(y, s, w):
    """AUC and its linearised variance from the n_pos x n_neg comparison matrix (ties 1/2)."""
    pos, neg = y == 1, y == 0
    wp, wn = w[pos], w[neg]
    psi = (s[pos][:, None] > s[neg][None, :]) + 0.5 * (s[pos][:, None] == s[neg][None, :])
    v10 = psi @ wn / wn.sum()  # each positive's weighted share of negatives below it
    v01 = wp @ psi / wp.sum()  # each negative's weighted share of positives above it
    a = wp @ v10 / wp.sum()
    kp, kn = wp.sum() ** 2 / (wp**2).sum(), wn.sum() ** 2 / (wn**2).sum()
    var = (wp**2 @ (v10 - a) ** 2) / wp.sum() ** 2 * kp / (kp - 1) + (
        wn**2 @ (v01 - a) ** 2
    ) / wn.sum() ** 2 * kn / (kn - 1)
    return a, var


def _stats(y, s, w, g, G):
    y = np.asarray(y, dtype=float)
    return _auc_stats(g, s, w * y, w * (1 - y), w * w * y, w * w * (1 - y), G)


@pytest.mark.parametrize("weighted", [False, True])
def test_auc_and_delong_variance_match_the_pairwise_definition(weighted):
    """Per group, with tied scores: the rank computation equals the O(P N) definition, and the
    unweighted variance is DeLong's ``S10 / P + S01 / N`` (sample variances, ddof 1)."""
    rng = np.random.default_rng(0)
    for _ in range(60):
        n = int(rng.integers(8, 80))
        y = rng.integers(0, 2, n)
        s = np.round(rng.normal(size=n) + y, int(rng.integers(0, 3)))  # many ties
        g = rng.integers(0, 3, n)
        w = rng.choice([0.5, 1.0, 4.0], n) if weighted else np.ones(n)
        st = _stats(y, s, w, g, 3)
        for k in range(3):
            m = g == k
            if y[m].sum() < 2 or (1 - y[m]).sum() < 2:
                continue
            a, var = _pairwise(y[m], s[m], w[m])
            assert st.point[k] == pytest.approx(a, abs=1e-12)
            assert st.var[k] == pytest.approx(var, rel=1e-9)
            assert st.point[k] == pytest.approx(
                roc_auc_score(y[m], s[m], sample_weight=w[m]), abs=1e-12
            )
            if not weighted:
                pos, neg = s[m][y[m] == 1], s[m][y[m] == 0]
                psi = (pos[:, None] > neg) + 0.5 * (pos[:, None] == neg)
                delong = psi.mean(1).var(ddof=1) / len(pos) + psi.mean(0).var(ddof=1) / len(neg)
                assert st.var[k] == pytest.approx(delong, rel=1e-9)


@pytest.mark.parametrize("decimals", [None, 1])
@pytest.mark.parametrize("weighted", [False, True])
def test_evaluate_auc_intervals_match_the_definition_in_every_view(decimals, weighted):
    """Through ``evaluate`` (continuous scores, and rounded ones whose rows are merged per
    score and stratum): every group of every view, the intersection included, has the AUC
    and interval computed from its own rows by the pairwise definition."""
    rng = np.random.default_rng(7)
    n = 900
    y = rng.integers(0, 2, n)
    s = rng.normal(size=n) + y
    s = s if decimals is None else np.round(s, decimals)
    sf = {"a": rng.choice(["x", "y", "z"], n), "b": rng.choice(["u", "v"], n)}
    w = rng.choice([1.0, 2.0, 5.0], n) if weighted else np.ones(n)
    r = evaluate(
        y, y, sensitive_features=sf, y_score=s, metrics=["auc"], min_group_size=1,
        sample_weight=w if weighted else None,
    )
    z = z_for(0.05)
    checked = 0
    for attr in r.attributes:
        for grp in attr.groups:
            m = np.ones(n, dtype=bool)
            for col, val in zip(attr.columns, grp.key, strict=True):
                m &= sf[col] == val
            a, var = _pairwise(y[m], s[m], w[m])
            kp = w[m][y[m] == 1].sum() ** 2 / (w[m][y[m] == 1] ** 2).sum()
            kn = w[m][y[m] == 0].sum() ** 2 / (w[m][y[m] == 0] ** 2).sum()
            lo, hi = auc_interval(np.array([a]), np.array([var]), [kp], [kn], z)
            mv = grp.metrics["auc"]
            assert mv.value == pytest.approx(a, abs=1e-12)
            assert (mv.ci_low, mv.ci_high) == pytest.approx((lo[0], hi[0]), abs=1e-9)
            checked += 1
    assert checked == 3 + 2 + 6


def test_constant_weights_give_the_unweighted_auc_interval():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 400)
    s = rng.normal(size=400) + y
    g = rng.choice(["a", "b"], 400)
    kw = {"sensitive_features": g, "y_score": s, "metrics": ["auc"]}
    plain, const = evaluate(y, y, **kw), evaluate(y, y, sample_weight=[3.0] * 400, **kw)
    for ga, gb in zip(plain.attributes[0].groups, const.attributes[0].groups, strict=True):
        for part in ("value", "ci_low", "ci_high"):
            assert getattr(ga.metrics["auc"], part) == pytest.approx(
                getattr(gb.metrics["auc"], part), abs=1e-12
            )


def test_auc_interval_cases():
    z = z_for(0.05)
    # defined: the hull of the logit DeLong interval and the Hanley-McNeil score interval
    a, var, m, n = np.array([0.8]), np.array([0.002]), np.array([40.0]), np.array([60.0])
    lo, hi = auc_interval(a, var, m, n, z)
    half = z * math.sqrt(0.002) / (0.8 * 0.2)
    logit = math.log(4.0)
    assert lo[0] <= 1 / (1 + math.exp(half - logit)) and hi[0] >= 1 / (1 + math.exp(-logit - half))
    # the score roots solve (theta - a)^2 = z^2 V_HM(theta) unless the logit bound is wider
    for b in (lo[0], hi[0]):
        gap = (b - 0.8) ** 2 - z**2 * _hanley_mcneil_var(np.array(b), m[0], n[0])
        lg = 1 / (1 + math.exp(half - logit)) if b < 0.8 else 1 / (1 + math.exp(-logit - half))
        assert abs(gap) < 1e-12 or b == pytest.approx(lg, abs=1e-15)
    # every level: nested, inside [0, 1], around the estimate (gaps use alpha / k)
    prev = (lo[0], hi[0])
    for alpha in (0.05 / 2, 0.05 / 28, 1e-6):
        lo2, hi2 = auc_interval(a, var, m, n, z_for(alpha))
        assert 0.0 <= lo2[0] <= prev[0] and prev[1] <= hi2[0] <= 1.0
        prev = (lo2[0], hi2[0])
    # degenerate: AUC 0 or 1, zero variance, a class of one row -> Wilson on min(P, N) rows
    cases = ((1.0, 0.0, 10, 30), (0.0, 0.0, 10, 30), (0.5, 0.0, 4, 4), (0.7, 0.01, 1, 9))
    for a0, v0, m0, n0 in cases:
        lo, hi = auc_interval(np.array([a0]), np.array([v0]), np.array([m0]), np.array([n0]), z)
        wl, wh = wilson_cc(np.array([a0]), np.array([float(min(m0, n0))]), z)
        assert (lo[0], hi[0]) == (wl[0], wh[0]) and hi[0] > lo[0]
        assert lo[0] <= a0 <= hi[0]
    lo, hi = auc_interval(np.array([np.nan]), np.array([np.nan]), np.array([0.0]), [5.0], z)
    assert math.isnan(lo[0]) and math.isnan(hi[0])


def test_auc_group_coverage_by_simulation(load_benchmark):
    """The hardest cells of the benchmark's grid (few positives, high AUC), where the logit
    DeLong interval alone covered 0.91-0.94 and the former percentile bootstrap 0.83-0.92:
    each at least nominal minus 3 Monte-Carlo SE, and their pooled coverage at least nominal
    minus 2.5 SE; no interval misses its estimate or has zero width."""
    bench = load_benchmark("bench_coverage")
    reps = 400
    cells = [
        bench.AucScenario(300, 0.1, 0.97),
        bench.AucScenario(300, 0.1, 0.9),
        bench.AucScenario(60, 0.1, 0.75),
        bench.AucScenario(60, 0.3, 0.97),
        bench.AucScenario(30, 0.5, 0.9),
        bench.AucScenario(300, 0.1, 0.97, sd_pos=2.0),
    ]
    cover = defined = 0
    for i, sc in enumerate(cells):
        t = bench.simulate_auc(sc, reps, seed=500 + i)
        assert t.coverage >= 0.95 - 3 * math.sqrt(0.95 * 0.05 / t.defined), (sc.label(), t)
        assert t.misses_point == 0 and t.zero_width == 0, sc.label()
        cover += t.cover
        defined += t.defined
    assert cover / defined >= 0.95 - 2.5 * math.sqrt(0.95 * 0.05 / defined), cover / defined


def test_auc_gap_coverage_by_simulation(load_benchmark):
    """Four groups of 300 rows, true AUCs 0.6-0.9: the gap interval, built from the group
    intervals at level 1 - alpha / 4 each, covers the true gap 0.3 (the benchmark also checks
    two groups, with gaps 0 and 0.15)."""
    bench = load_benchmark("bench_coverage")
    reps = 100
    sc = bench.AUC_GAP_SCENARIOS[3]
    assert len(sc.aucs) == 4
    cover, _, honest, _ = bench.simulate_auc_gap(sc, reps, seed=600)
    assert cover / reps >= 0.95 - 3 * math.sqrt(0.95 * 0.05 / reps)
    assert honest == reps
