"""The stratified bootstrap: coverage by simulation, reproducibility, weighted and AUC paths."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from fairsuite._io import dumps_json
from fairsuite.metrics import evaluate


def _draw(rng, n_a, n_b, err_a, err_b):
    """Two groups with known error rates; y_true balanced; returns y, y_pred, groups."""
    g = np.array(["a"] * n_a + ["b"] * n_b)
    y = rng.integers(0, 2, n_a + n_b)
    err = np.where(g == "a", err_a, err_b)
    p = np.where(rng.random(n_a + n_b) < err, 1 - y, y)
    return y, p, g


def test_interval_coverage_by_simulation():
    """A nominal 95% interval covers the true rate ~95% of the time (fixed seed, 400 draws)."""
    rng = np.random.default_rng(2024)
    sims = 400
    hit_rate = hit_diff = hit_overall = 0
    for i in range(sims):
        y, p, g = _draw(rng, 300, 200, 0.2, 0.3)
        r = evaluate(y, p, sensitive_features=g, n_boot=400, random_state=i, metrics=["error_rate"])
        groups = {gg.group: gg for gg in r.attributes[0].groups}
        ea = groups["a"].metrics["error_rate"]
        hit_rate += ea.ci_low <= 0.2 <= ea.ci_high
        d = r.attributes[0].disparities["error_rate"].difference
        hit_diff += d.ci_low <= 0.1 <= d.ci_high
        o = r.overall["error_rate"]
        hit_overall += o.ci_low <= (300 * 0.2 + 200 * 0.3) / 500 <= o.ci_high
    # binomial sd of a 95% coverage estimate over 400 draws is 0.011; the bounds are ~3 sd
    for hits in (hit_rate, hit_diff, hit_overall):
        assert 0.91 <= hits / sims <= 0.985, hits / sims


def test_same_seed_same_result_other_seed_other_intervals():
    rng = np.random.default_rng(5)
    y, p, g = _draw(rng, 150, 120, 0.2, 0.25)
    s = rng.random(len(y))
    kw = {"sensitive_features": g, "y_score": s, "n_boot": 200}
    a = dumps_json(evaluate(y, p, random_state=3, **kw).to_dict())
    b = dumps_json(evaluate(y, p, random_state=3, **kw).to_dict())
    c = evaluate(y, p, random_state=4, **kw)
    assert a == b
    assert dumps_json(c.to_dict()) != a
    # the point estimates do not depend on the seed
    assert (
        c.overall["accuracy"].value
        == evaluate(y, p, random_state=3, **kw).overall["accuracy"].value
    )


def test_intervals_bracket_estimates_and_disparities_have_their_own():
    rng = np.random.default_rng(9)
    y, p, g = _draw(rng, 500, 400, 0.15, 0.25)
    r = evaluate(y, p, sensitive_features=g, n_boot=300)
    for grp in r.attributes[0].groups:
        for m, mv in grp.metrics.items():
            assert mv.ci_low <= mv.value <= mv.ci_high, m
            assert mv.ci_high - mv.ci_low < 0.2
    eo = r.attributes[0].summary["equalized_odds_difference"]
    assert eo.ci_low < eo.ci_high and not math.isnan(eo.ci_low)
    # the interval of a difference is not the per-group intervals' span
    d = r.attributes[0].disparities["error_rate"]
    ga, gb = (gg.metrics["error_rate"] for gg in r.attributes[0].groups)
    assert d.difference.ci_high < gb.ci_high - ga.ci_low


def test_weighted_bootstrap_matches_unweighted_when_weights_are_constant():
    """Constant weights: the weighted path (atoms carry weights) gives the same intervals."""
    rng = np.random.default_rng(11)
    y, p, g = _draw(rng, 400, 300, 0.2, 0.3)
    plain = evaluate(y, p, sensitive_features=g, n_boot=500, random_state=1)
    const = evaluate(
        y, p, sensitive_features=g, n_boot=500, random_state=1, sample_weight=[2.5] * 700
    )
    for ga, gb in zip(plain.attributes[0].groups, const.attributes[0].groups, strict=True):
        for m in ("error_rate", "tpr", "precision"):
            assert ga.metrics[m].value == pytest.approx(gb.metrics[m].value, abs=1e-12)
            width_a = ga.metrics[m].ci_high - ga.metrics[m].ci_low
            width_b = gb.metrics[m].ci_high - gb.metrics[m].ci_low
            assert width_b == pytest.approx(width_a, rel=0.2)


def test_weighted_row_draw_path_with_continuous_weights():
    """Many distinct weights take the row-draw path: still stratified, finite, reproducible."""
    rng = np.random.default_rng(12)
    y, p, g = _draw(rng, 400, 300, 0.2, 0.3)
    w = 1.0 + rng.random(700) * 1e-6  # 700 distinct weights, essentially 1
    a = evaluate(y, p, sensitive_features=g, n_boot=300, sample_weight=w, random_state=2)
    b = evaluate(y, p, sensitive_features=g, n_boot=300, sample_weight=w, random_state=2)
    plain = evaluate(y, p, sensitive_features=g, n_boot=300, random_state=2)
    assert dumps_json(a.to_dict()) == dumps_json(b.to_dict())
    for ga, gp in zip(a.attributes[0].groups, plain.attributes[0].groups, strict=True):
        m_a, m_p = ga.metrics["error_rate"], gp.metrics["error_rate"]
        assert m_a.value == pytest.approx(m_p.value, abs=1e-5)
        assert (m_a.ci_high - m_a.ci_low) == pytest.approx(m_p.ci_high - m_p.ci_low, rel=0.25)


def test_auc_interval_covers_and_is_sane():
    rng = np.random.default_rng(13)
    n = 600
    y = rng.integers(0, 2, n)
    s = y * 0.8 + rng.normal(0, 1, n)  # true AUC = Phi(0.8 / sqrt 2) = 0.714
    g = rng.choice(["a", "b"], n)
    r = evaluate(y, (s > 0.4).astype(int), sensitive_features=g, y_score=s, n_boot=300)
    auc = r.overall["auc"]
    assert auc.ci_low < 0.714 < auc.ci_high
    assert 0.03 < auc.ci_high - auc.ci_low < 0.15


def test_bootstrap_is_stratified_and_documented():
    rng = np.random.default_rng(14)
    y, p, g = _draw(rng, 100, 5, 0.1, 0.4)
    sex = pd.Series(rng.choice(["F", "M"], 105), name="sex")
    r = evaluate(y, p, sensitive_features={"g": g, "sex": sex}, n_boot=200, min_group_size=1)
    assert r.bootstrap.startswith("stratified nonparametric bootstrap")
    # a group of 5 rows keeps 5 rows in every replicate, so its interval exists (stratified);
    # an unstratified bootstrap would often draw it empty
    small = {gg.group: gg for gg in r.attribute("g").groups}["b"]
    assert small.n == 5 and not math.isnan(small.metrics["accuracy"].ci_low)
    r0 = evaluate(y, p, sensitive_features=g, n_boot=0)
    assert r0.bootstrap.startswith("none") and math.isnan(r0.overall["accuracy"].ci_low)
