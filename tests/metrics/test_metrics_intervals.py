"""Confidence intervals: coverage by simulation, never zero-width, gaps that reach 0 under the
null, reproducibility, weighted and AUC paths, attributes that are the target."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from fairsuite._io import dumps_json
from fairsuite.exceptions import InvalidInputError
from fairsuite.metrics import INTERVAL_METHOD, TARGET_REASON, evaluate


def _draw(rng, n_a, n_b, err_a, err_b):
    """Two groups with known error rates; y_true balanced; returns y, y_pred, groups."""
    g = np.array(["a"] * n_a + ["b"] * n_b)
    y = rng.integers(0, 2, n_a + n_b)
    err = np.where(g == "a", err_a, err_b)
    p = np.where(rng.random(n_a + n_b) < err, 1 - y, y)
    return y, p, g


def _all_values(result):
    """Every MetricValue of a result with its group size (None for disparities/summaries)."""
    for m, mv in result.overall.items():
        yield "overall", m, result.n, mv
    for a in result.attributes:
        for g in a.groups:
            for m, mv in g.metrics.items():
                yield f"{a.name}={g.group}", m, g.n, mv
        for m, d in a.disparities.items():
            yield a.name, f"{m} difference", None, d.difference
            yield a.name, f"{m} ratio", None, d.ratio
        for m, mv in a.summary.items():
            yield a.name, m, None, mv


def assert_honest(result):
    """Every defined value has an interval that contains it and is not zero-width."""
    for where, metric, _, mv in _all_values(result):
        if math.isnan(mv.value):
            assert mv.reason, (where, metric)
            continue
        assert mv.ci_low <= mv.value <= mv.ci_high, (where, metric, mv)
        assert mv.ci_high > mv.ci_low, (where, metric, mv)


# ---- coverage -----------------------------------------------------------------------------


def test_rate_intervals_have_at_least_nominal_exact_coverage(load_benchmark):
    """Exact binomial coverage over rates 0.01..0.99, n = 5..5,000: never below 95%."""
    bench = load_benchmark("bench_coverage")
    for n in bench.SIZES:
        mean, low, at, _ = bench.exact_rate_coverage(n, 0.95)
        assert low >= 0.95 - 1e-9, (n, at, low)
        assert mean < 0.99 or n <= 10, (n, mean)  # conservative, not absurdly so


def test_gap_and_ratio_coverage_by_simulation(load_benchmark):
    """End-to-end (rows -> evaluate): the gap interval covers the true gap, including a gap of
    0 with equal groups, at or above nominal; nothing misses its point; nothing is zero-width."""
    bench = load_benchmark("bench_coverage")
    reps = 120
    floor = 0.95 - 3 * math.sqrt(0.95 * 0.05 / reps)
    for i, sc in enumerate(bench.scenarios(full=False)):
        t = bench.simulate(sc, reps, seed=100 + i)
        assert t.gap_cover / t.reps >= floor, sc.label()
        if t.ratio_defined:
            assert t.ratio_cover / t.ratio_defined >= floor, sc.label()
        assert t.group_cover / t.group_total >= floor, sc.label()
        assert t.misses_point == 0 and t.zero_width == 0, sc.label()
        if sc.gap == 0:
            assert t.gap_lower_zero / t.reps >= floor, sc.label()


def test_two_group_coverage_of_rate_difference_and_overall():
    """A nominal 95% interval covers the true value ~95% of the time (fixed seed, 300 draws)."""
    rng = np.random.default_rng(2024)
    sims = 300
    hit_rate = hit_diff = hit_overall = 0
    for _ in range(sims):
        y, p, g = _draw(rng, 300, 200, 0.2, 0.3)
        r = evaluate(y, p, sensitive_features=g, n_boot=0, metrics=["error_rate"])
        groups = {gg.group: gg for gg in r.attributes[0].groups}
        ea = groups["a"].metrics["error_rate"]
        hit_rate += ea.ci_low <= 0.2 <= ea.ci_high
        d = r.attributes[0].disparities["error_rate"].difference
        hit_diff += d.ci_low <= 0.1 <= d.ci_high
        o = r.overall["error_rate"]
        hit_overall += o.ci_low <= (300 * 0.2 + 200 * 0.3) / 500 <= o.ci_high
    for hits in (hit_rate, hit_diff, hit_overall):
        assert 0.92 <= hits / sims <= 0.995, hits / sims


# ---- the cases from the issue ---------------------------------------------------------------


def test_null_data_gap_intervals_reach_zero():
    """Four groups drawn from one distribution (~250 rows each): no gap is claimed."""
    rng = np.random.default_rng(8)
    n = 1000
    g = rng.choice(["a", "b", "c", "d"], n)
    y = rng.integers(0, 2, n)
    p = np.where(rng.random(n) < 0.2, 1 - y, y)
    r = evaluate(y, p, sensitive_features={"g": g}, n_boot=0)
    attr = r.attributes[0]
    for m, d in attr.disparities.items():
        assert d.difference.ci_low == 0.0, (m, d.difference)
        assert d.difference.ci_low <= d.difference.value <= d.difference.ci_high
    for m, mv in attr.summary.items():
        if m.endswith("difference"):
            assert mv.ci_low == 0.0, (m, mv)
    assert not any(grp.test.significant for grp in attr.groups)
    assert_honest(r)


def test_no_zero_width_intervals_for_tiny_groups_and_extreme_rates():
    # a group of 5 whose TPR is 0, and an overall accuracy of 5/12
    y = np.array([1, 1, 1, 0, 0] + [1, 0, 1, 0, 1, 0, 1])
    p = np.array([0, 0, 0, 0, 0] + [1, 0, 1, 1, 0, 1, 0])
    g = np.array(["small"] * 5 + ["big"] * 7)
    r = evaluate(y, p, sensitive_features={"g": g}, n_boot=0, min_group_size=1)
    small = {gg.group: gg for gg in r.attributes[0].groups}["small"]
    tpr = small.metrics["tpr"]
    assert tpr.value == 0.0 and tpr.ci_low == 0.0 and tpr.ci_high > 0.3
    acc = r.overall["accuracy"]
    assert acc.value == pytest.approx(5 / 12)
    assert acc.ci_low < 5 / 12 < acc.ci_high and acc.ci_high - acc.ci_low > 0.3
    assert_honest(r)


def test_interval_method_is_recorded():
    rng = np.random.default_rng(3)
    y, p, g = _draw(rng, 50, 40, 0.2, 0.3)
    r = evaluate(y, p, sensitive_features=g, n_boot=0)
    assert r.interval_method == INTERVAL_METHOD
    assert "Wilson" in INTERVAL_METHOD and "Newcombe" in INTERVAL_METHOD
    assert "DeLong" in INTERVAL_METHOD and "Hanley-McNeil" in INTERVAL_METHOD
    assert r.to_dict()["interval_method"] == INTERVAL_METHOD
    assert r.bootstrap.startswith("not used")


# ---- reproducibility, weights ---------------------------------------------------------------


def test_same_inputs_same_result_and_no_number_depends_on_the_seed_or_n_boot():
    """Every interval, AUC included, is closed-form: the seed and n_boot are only recorded."""
    rng = np.random.default_rng(5)
    y, p, g = _draw(rng, 150, 120, 0.2, 0.25)
    s = rng.random(len(y))
    kw = {"sensitive_features": g, "y_score": s}
    a = dumps_json(evaluate(y, p, random_state=3, n_boot=200, **kw).to_dict())
    b = dumps_json(evaluate(y, p, random_state=3, n_boot=200, **kw).to_dict())
    assert a == b
    c = evaluate(y, p, random_state=4, n_boot=0, **kw).to_dict()
    assert (c["random_state"], c["n_boot"]) == (4, 0)
    c.update(random_state=3, n_boot=200)
    assert dumps_json(c) == a


def test_gap_intervals_are_narrower_than_the_span_of_group_intervals():
    rng = np.random.default_rng(9)
    y, p, g = _draw(rng, 500, 400, 0.15, 0.25)
    r = evaluate(y, p, sensitive_features=g, n_boot=0)
    for grp in r.attributes[0].groups:
        for m, mv in grp.metrics.items():
            assert mv.ci_low <= mv.value <= mv.ci_high, m
            assert mv.ci_high - mv.ci_low < 0.2
    eo = r.attributes[0].summary["equalized_odds_difference"]
    assert eo.ci_low < eo.ci_high and not math.isnan(eo.ci_low)
    # two groups: the Newcombe interval of the difference, not the per-group intervals' span
    d = r.attributes[0].disparities["error_rate"]
    ga, gb = (gg.metrics["error_rate"] for gg in r.attributes[0].groups)
    assert d.difference.ci_high < gb.ci_high - ga.ci_low
    assert d.difference.ci_low > 0  # 0.10 apart on 900 rows: shown


def test_constant_weights_give_the_unweighted_intervals():
    """Kish's effective size of constant weights is the row count: identical intervals."""
    rng = np.random.default_rng(11)
    y, p, g = _draw(rng, 400, 300, 0.2, 0.3)
    plain = evaluate(y, p, sensitive_features=g, n_boot=0)
    const = evaluate(y, p, sensitive_features=g, n_boot=0, sample_weight=[2.5] * 700)
    for ga, gb in zip(plain.attributes[0].groups, const.attributes[0].groups, strict=True):
        for m in ("error_rate", "tpr", "precision"):
            for part in ("value", "ci_low", "ci_high"):
                assert getattr(ga.metrics[m], part) == pytest.approx(
                    getattr(gb.metrics[m], part), abs=1e-12
                )


def test_unequal_weights_widen_intervals_by_kish_effective_size():
    rng = np.random.default_rng(12)
    y, p, g = _draw(rng, 400, 300, 0.2, 0.3)
    w = np.where(rng.random(700) < 0.5, 1.0, 3.0)  # Kish efficiency 0.8
    a = evaluate(y, p, sensitive_features=g, n_boot=0, sample_weight=w)
    plain = evaluate(y, p, sensitive_features=g, n_boot=0)
    for ga, gp in zip(a.attributes[0].groups, plain.attributes[0].groups, strict=True):
        wa = ga.metrics["error_rate"].ci_high - ga.metrics["error_rate"].ci_low
        wp = gp.metrics["error_rate"].ci_high - gp.metrics["error_rate"].ci_low
        assert wa / wp == pytest.approx(math.sqrt(1 / 0.8), rel=0.1)
    assert_honest(a)


# ---- AUC ------------------------------------------------------------------------------------


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
    assert r.bootstrap.startswith("not used") and "DeLong" in r.bootstrap
    d = r.attributes[0].disparities["auc"].difference
    assert d.ci_low == 0.0 and d.ci_high > d.value  # same distribution in both groups
    assert_honest(r)


def test_auc_perfect_separation_gets_an_interval_whatever_n_boot():
    """AUC = 1 leaves DeLong nothing to estimate (every placement value is 1): the interval is
    the Wilson interval on min(P, N) = 10 rows (Birnbaum-Klose), the same for every n_boot."""
    y = np.array([0] * 10 + [1] * 10)
    s = np.arange(20) / 20.0
    g = np.array(["a", "b"] * 10)
    seen = set()
    for n_boot in (0, 200):
        r = evaluate(y, (s > 0.5).astype(int), sensitive_features=g, y_score=s, n_boot=n_boot)
        auc = r.overall["auc"]
        assert auc.value == 1.0 and auc.ci_high == 1.0 and auc.ci_low < 0.9
        seen.add((auc.ci_low, auc.ci_high))
        assert_honest(r)
    assert len(seen) == 1


def test_auc_interval_of_a_tiny_group_comes_from_its_own_rows():
    """A group of 5 rows (3 positives, 2 negatives) gets a defined, non-zero-width interval
    that depends on its rows only: the same when it is evaluated alone."""
    rng = np.random.default_rng(14)
    y = np.array([0, 1] * 50 + [0, 1, 0, 1, 1])
    s = y * 1.0 + rng.normal(0, 0.8, 105)
    g = np.array(["big"] * 100 + ["small"] * 5)
    sex = pd.Series(rng.choice(["F", "M"], 105), name="sex")
    r = evaluate(
        y, (s > 0.5).astype(int), sensitive_features={"g": g, "sex": sex}, y_score=s,
        min_group_size=1,
    )
    small = {gg.group: gg for gg in r.attribute("g").groups}["small"]
    assert small.n == 5 and not math.isnan(small.metrics["auc"].ci_low)
    alone = evaluate(
        y[100:], y[100:], sensitive_features=g[100:], y_score=s[100:], metrics=["auc"],
        min_group_size=1,
    )
    assert alone.overall["auc"] == small.metrics["auc"]
    assert_honest(r)


# ---- attributes that are the target -------------------------------------------------------------


def test_target_attribute_keeps_only_accuracy_and_error_rate():
    rng = np.random.default_rng(21)
    n = 800
    gender = rng.choice(["Female", "Male"], n)
    race = rng.choice(["A", "B", "C"], n)
    y = gender
    p = np.where(rng.random(n) < 0.15, np.where(y == "Male", "Female", "Male"), y)
    r = evaluate(
        y, p, sensitive_features={"race": race, "gender": gender},
        target_attributes=["gender"], n_boot=0,
    )
    assert r.target_attributes == ("gender",)
    by = {a.name: a for a in r.attributes}
    assert not by["race"].target_related
    assert set(by["race"].disparities) >= {"tpr", "selection_rate"}
    for name in ("gender", "race x gender"):
        a = by[name]
        assert a.target_related
        assert set(a.disparities) == {"accuracy", "error_rate"}
        for mv in a.summary.values():
            assert math.isnan(mv.value) and mv.reason == TARGET_REASON
        for grp in a.groups:
            assert not math.isnan(grp.metrics["accuracy"].value)
            assert grp.metrics["selection_rate"].reason == TARGET_REASON
            assert math.isnan(grp.metrics["base_rate"].value)
    # the Gender Shades question stays answerable: accuracy per race x gender
    assert by["race x gender"].disparities["accuracy"].worst_group is not None
    d = r.to_dict()
    assert [a["target_related"] for a in d["attributes"]] == [False, True, True]
    assert_honest(r)


def test_unknown_target_attribute_is_an_error():
    with pytest.raises(InvalidInputError, match="target_attributes names 'sex'"):
        evaluate([0, 1], [0, 1], sensitive_features={"g": ["a", "b"]}, target_attributes=["sex"])
