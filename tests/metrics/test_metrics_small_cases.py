"""Hand-computed small cases: rates, undefined values, small and empty groups, multiclass, tests."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from fairsuite.exceptions import SmallGroupWarning
from fairsuite.metrics import METRIC_DIRECTIONS, evaluate

# group a: y_true 1 1 1 0 0 0, y_pred 1 1 0 1 0 0 -> TP 2, FN 1, FP 1, TN 2
# group b: y_true 1 0 0 0,     y_pred 0 0 0 1     -> TP 0, FN 1, FP 1, TN 2
Y_TRUE = [1, 1, 1, 0, 0, 0, 1, 0, 0, 0]
Y_PRED = [1, 1, 0, 1, 0, 0, 0, 0, 0, 1]
GROUP = ["a"] * 6 + ["b"] * 4


def _groups(result, attribute=0):
    return {g.group: g for g in result.attributes[attribute].groups}


def test_binary_rates_by_hand():
    r = evaluate(Y_TRUE, Y_PRED, sensitive_features=GROUP, n_boot=0, min_group_size=1)
    a, b = _groups(r)["a"], _groups(r)["b"]
    expected_a = {
        "accuracy": 4 / 6,
        "error_rate": 2 / 6,
        "selection_rate": 3 / 6,
        "base_rate": 3 / 6,
        "tpr": 2 / 3,
        "fnr": 1 / 3,
        "fpr": 1 / 3,
        "tnr": 2 / 3,
        "precision": 2 / 3,
    }
    expected_b = {
        "accuracy": 2 / 4,
        "error_rate": 2 / 4,
        "selection_rate": 1 / 4,
        "base_rate": 1 / 4,
        "tpr": 0.0,
        "fnr": 1.0,
        "fpr": 1 / 3,
        "tnr": 2 / 3,
        "precision": 0.0,
    }
    for m, v in expected_a.items():
        assert a.metrics[m].value == pytest.approx(v, abs=1e-15), m
        assert a.metrics[m].reason is None
    for m, v in expected_b.items():
        assert b.metrics[m].value == pytest.approx(v, abs=1e-15), m
    assert (a.n, b.n) == (6, 4)
    assert r.overall["accuracy"].value == pytest.approx(6 / 10)
    assert r.task_type == "binary" and r.positive_label == 1 and r.classes == (0, 1)
    # disparities: tpr a=2/3, b=0 -> difference 2/3, ratio 0, worst b (higher is better)
    d = r.attributes[0].disparities["tpr"]
    assert d.difference.value == pytest.approx(2 / 3)
    assert d.ratio.value == pytest.approx(0.0)
    assert (d.worst_group, d.best_group) == ("b", "a")
    # error rate: lower is better, so the worst group is the one with the highest error
    e = r.attributes[0].disparities["error_rate"]
    assert (e.worst_group, e.best_group) == ("b", "a")
    assert e.difference.value == pytest.approx(0.5 - 1 / 3)
    s = r.attributes[0].summary
    assert s["demographic_parity_difference"].value == pytest.approx(0.25)
    assert s["demographic_parity_ratio"].value == pytest.approx(0.5)
    assert s["equal_opportunity_difference"].value == pytest.approx(2 / 3)
    assert s["equalized_odds_difference"].value == pytest.approx(max(2 / 3, 0.0))


def test_weighted_rates_by_hand():
    w = [2, 1, 1, 1, 1, 1, 1, 1, 1, 3]
    r = evaluate(
        Y_TRUE, Y_PRED, sensitive_features=GROUP, sample_weight=w, n_boot=0, min_group_size=1
    )
    a, b = _groups(r)["a"], _groups(r)["b"]
    # a: weighted TP 3 (2+1), FN 1, FP 1, TN 2 -> tpr 3/4; b: FP weight 3, TN 2 -> fpr 3/5
    assert a.metrics["tpr"].value == pytest.approx(3 / 4)
    assert a.weight == 7 and a.n == 6
    assert b.metrics["fpr"].value == pytest.approx(3 / 5)
    assert b.metrics["selection_rate"].value == pytest.approx(3 / 6)


def test_undefined_rates_are_nan_with_reason_never_zero():
    # group c has no positive labels and no positive predictions
    y = [1, 0, 1, 0, 0, 0]
    p = [1, 0, 0, 1, 0, 0]
    g = ["a", "a", "a", "a", "c", "c"]
    r = evaluate(y, p, sensitive_features=g, n_boot=50, min_group_size=1)
    c = _groups(r)["c"]
    for m in ("tpr", "fnr", "precision"):
        assert math.isnan(c.metrics[m].value), m
        assert math.isnan(c.metrics[m].ci_low) and math.isnan(c.metrics[m].ci_high)
        assert c.metrics[m].reason is not None
    assert c.metrics["tpr"].reason == "undefined: no rows with y_true == 1 in this group"
    assert c.metrics["precision"].reason == "undefined: no rows predicted 1 in this group"
    assert c.metrics["fpr"].value == 0.0 and c.metrics["fpr"].reason is None
    d = r.to_dict()
    tpr = [gg for gg in d["attributes"][0]["groups"] if gg["group"] == "c"][0]["metrics"]["tpr"]
    assert tpr["value"] is None and tpr["reason"].startswith("undefined")
    # the tpr disparity compares only groups where tpr is defined: just one -> undefined
    disp = r.attributes[0].disparities["tpr"]
    assert math.isnan(disp.difference.value) and disp.groups_compared == ("a",)
    assert "fewer than two groups" in disp.difference.reason


def test_auc_by_hand_and_undefined():
    y = [0, 0, 1, 1, 1, 0, 0]
    s = [0.1, 0.4, 0.35, 0.8, 0.9, 0.2, 0.3]
    g = ["a", "a", "a", "a", "b", "b", "b"]
    r = evaluate(y, [0] * 7, sensitive_features=g, y_score=s, n_boot=0, min_group_size=1)
    # group a: pos {0.35, 0.8}, neg {0.1, 0.4}: pairs won 1 + 2 = 3 of 4
    assert _groups(r)["a"].metrics["auc"].value == pytest.approx(0.75)
    assert _groups(r)["b"].metrics["auc"].value == pytest.approx(1.0)
    y2 = [0, 0, 1, 1, 0, 0, 0]
    r2 = evaluate(y2, [0] * 7, sensitive_features=g, y_score=s, n_boot=0, min_group_size=1)
    b = _groups(r2)["b"]
    assert math.isnan(b.metrics["auc"].value)
    assert b.metrics["auc"].reason == "undefined: no rows with y_true == 1 in this group"


def test_ties_in_scores_count_one_half():
    r = evaluate(
        [0, 1, 0, 1],
        [0, 0, 0, 0],
        sensitive_features=["a"] * 4,
        y_score=[0.5, 0.5, 0.2, 0.9],
        n_boot=0,
        min_group_size=1,
    )
    # pos {0.5, 0.9} vs neg {0.5, 0.2}: 0.5 + 1 + 1 + 1 = 3.5 of 4
    assert r.overall["auc"].value == pytest.approx(3.5 / 4)


def test_insufficient_and_empty_groups_are_kept_and_listed():
    rng = np.random.default_rng(1)
    n = 200
    race = np.array(["A"] * 100 + ["B"] * 90 + ["C"] * 10, dtype=object)
    sex = np.array(["F", "M"] * 95 + ["F"] * 10, dtype=object)  # C x M is empty
    y = rng.integers(0, 2, n)
    p = rng.integers(0, 2, n)
    with pytest.warns(SmallGroupWarning, match="fewer than min_group_size=30"):
        r = evaluate(y, p, sensitive_features={"race": race, "sex": sex}, n_boot=100)
    race_attr = r.attribute("race")
    c = {g.group: g for g in race_attr.groups}["C"]
    assert c.n == 10 and c.insufficient
    assert not math.isnan(c.metrics["accuracy"].value)  # its numbers are still reported
    assert race_attr.insufficient_groups == ("C",)
    assert "C" not in race_attr.disparities["accuracy"].groups_compared
    assert race_attr.disparities["accuracy"].groups_compared == ("A", "B")
    assert c.test is not None and c.test.reason == "not tested: group below min_group_size"
    inter = r.attribute("race x sex")
    assert inter.intersection and inter.columns == ("race", "sex")
    assert [g.group for g in inter.groups] == ["A x F", "A x M", "B x F", "B x M", "C x F"]
    assert inter.empty_groups == ("C x M",)
    assert inter.insufficient_groups == ("C x F",)
    assert sum(g.n for g in inter.groups) == n  # nothing disappears
    # a categorical with an unused category lists it as empty
    cat = pd.Series(pd.Categorical(race, categories=["A", "B", "C", "D"]), name="race")
    r2 = evaluate(y, p, sensitive_features=cat, n_boot=0, min_group_size=5)
    assert r2.attributes[0].empty_groups == ("D",)
    assert [g.group for g in r2.attributes[0].groups] == ["A", "B", "C"]


def test_groups_sorted_by_name_and_input_forms_agree():
    y = [1, 0, 1, 0, 1, 1]
    p = [1, 1, 0, 0, 1, 0]
    race = ["z", "b", "z", "m", "b", "m"]
    sex = ["F", "M", "M", "F", "F", "M"]
    as_df = evaluate(
        y,
        p,
        sensitive_features=pd.DataFrame({"race": race, "sex": sex}),
        n_boot=0,
        min_group_size=1,
    )
    as_dict = evaluate(
        y, p, sensitive_features={"race": race, "sex": sex}, n_boot=0, min_group_size=1
    )
    assert as_df.to_dict() == as_dict.to_dict()
    assert [g.group for g in as_df.attributes[0].groups] == ["b", "m", "z"]
    assert [a.name for a in as_df.attributes] == ["race", "sex", "race x sex"]
    single = evaluate(y, p, sensitive_features=pd.Series(race, name="race"), n_boot=0)
    assert [a.name for a in single.attributes] == ["race"]
    unnamed = evaluate(y, p, sensitive_features=np.array(race), n_boot=0)
    assert unnamed.attributes[0].name == "sensitive_feature_0"
    no_inter = evaluate(
        y, p, sensitive_features={"race": race, "sex": sex}, intersections=False, n_boot=0
    )
    assert [a.name for a in no_inter.attributes] == ["race", "sex"]


def test_caller_data_untouched():
    y = np.array([1, 0, 1, 0])
    p = np.array([1, 1, 0, 0])
    sf = pd.DataFrame({"g": ["a", "b", "a", "b"]})
    w = np.array([1.0, 2.0, 3.0, 4.0])
    copies = (y.copy(), p.copy(), sf.copy(), w.copy())
    evaluate(y, p, sensitive_features=sf, sample_weight=w, n_boot=20, min_group_size=1)
    np.testing.assert_array_equal(y, copies[0])
    np.testing.assert_array_equal(p, copies[1])
    pd.testing.assert_frame_equal(sf, copies[2])
    np.testing.assert_array_equal(w, copies[3])


def test_string_labels_and_pos_label():
    y = ["no", "yes", "yes", "no"]
    p = ["no", "yes", "no", "yes"]
    r = evaluate(y, p, sensitive_features=["a"] * 4, n_boot=0, min_group_size=1)
    assert r.positive_label == "yes" and r.classes == ("no", "yes")
    assert r.overall["tpr"].value == pytest.approx(0.5)
    r2 = evaluate(y, p, sensitive_features=["a"] * 4, n_boot=0, min_group_size=1, pos_label="no")
    assert r2.positive_label == "no"
    assert r2.overall["selection_rate"].value == pytest.approx(0.5)
    assert r2.overall["tpr"].value == pytest.approx(0.5)


def test_multiclass_by_hand():
    # classes 0, 1, 2; group a rows (y, p): (0,0) (1,1) (2,1) (2,2); group b: (0,1) (1,1) (2,2)
    y = [0, 1, 2, 2, 0, 1, 2]
    p = [0, 1, 1, 2, 1, 1, 2]
    g = ["a"] * 4 + ["b"] * 3
    r = evaluate(y, p, sensitive_features=g, n_boot=30, min_group_size=1)
    assert r.task_type == "multiclass" and r.classes == (0, 1, 2) and r.positive_label is None
    a, b = _groups(r)["a"], _groups(r)["b"]
    assert set(a.metrics) == {"accuracy", "error_rate"}
    assert a.metrics["accuracy"].value == pytest.approx(3 / 4)
    assert b.metrics["accuracy"].value == pytest.approx(2 / 3)
    pc = r.per_class
    assert pc is not None and pc.classes == (0, 1, 2)
    cls1 = {gg.group: gg for gg in pc.by_class[1].attributes[0].groups}
    # class 1 one-vs-rest, group a: TP 1 (1,1), FP 1 (2,1), FN 0 -> tpr 1, precision 1/2
    assert cls1["a"].metrics["tpr"].value == pytest.approx(1.0)
    assert cls1["a"].metrics["precision"].value == pytest.approx(0.5)
    assert cls1["a"].metrics["fpr"].value == pytest.approx(1 / 3)
    # group b, class 0: y has one 0, predicted 1 -> tpr 0 ; class 0 never predicted -> precision NaN
    cls0 = {gg.group: gg for gg in pc.by_class[0].attributes[0].groups}
    assert cls0["b"].metrics["tpr"].value == 0.0
    assert math.isnan(cls0["b"].metrics["precision"].value)
    assert cls0["b"].metrics["precision"].reason == "undefined: no rows predicted 0 in this group"
    # macro tpr per group: a = mean(1, 1, 1/2); b = mean(0, 1, 1)
    macro = {gg.group: gg for gg in pc.macro.attributes[0].groups}
    assert macro["a"].metrics["tpr"].value == pytest.approx(2.5 / 3)
    assert macro["b"].metrics["tpr"].value == pytest.approx(2 / 3)
    # macro precision of b skips the undefined class 0: mean(1/2, 1)
    assert macro["b"].metrics["precision"].value == pytest.approx(0.75)
    # top-level summary = worst case over classes of the per-class summaries
    dp = [c.attributes[0].summary["demographic_parity_difference"].value for c in pc.by_class]
    top = r.attributes[0].summary["demographic_parity_difference"]
    assert top.value == pytest.approx(max(dp))


def test_significance_test_and_holm():
    rng = np.random.default_rng(3)
    n_per = 400
    groups = np.repeat(["a", "b", "c"], n_per)
    y = rng.integers(0, 2, 3 * n_per)
    err_p = np.repeat([0.1, 0.1, 0.4], n_per)  # c is much worse
    p = np.where(rng.random(3 * n_per) < err_p, 1 - y, y)
    r = evaluate(y, p, sensitive_features=groups, n_boot=0)
    assert r.correction == "holm" and r.alpha == 0.05
    tests = {g.group: g.test for g in r.attributes[0].groups}
    assert tests["c"].significant and tests["c"].statistic > 0
    assert tests["c"].metric == "error_rate"
    # recompute the z statistic of c by hand (pooled two-proportion z-test)
    err = (p != y).astype(float)
    e_g, e_r = err[groups == "c"].mean(), err[groups != "c"].mean()
    pooled = err.mean()
    z = (e_g - e_r) / math.sqrt(pooled * (1 - pooled) * (1 / n_per + 1 / (2 * n_per)))
    assert tests["c"].statistic == pytest.approx(z, rel=1e-12)
    assert tests["c"].p_value == pytest.approx(math.erfc(abs(z) / math.sqrt(2)), rel=1e-9)
    # Holm: sorted p-values times (m, m-1, ...), made monotone
    raw = sorted((t.p_value, k) for k, t in tests.items())
    running = 0.0
    for i, (pv, k) in enumerate(raw):
        running = max(running, min(1.0, (3 - i) * pv))
        assert tests[k].p_adjusted == pytest.approx(running, rel=1e-12)


def test_every_metric_has_one_direction():
    assert set(METRIC_DIRECTIONS.values()) <= {"higher", "lower", "neutral"}
    r = evaluate(Y_TRUE, Y_PRED, sensitive_features=GROUP, n_boot=0, min_group_size=1)
    for m, d in r.attributes[0].disparities.items():
        assert d.direction == METRIC_DIRECTIONS[m]


def test_one_label_seen_is_still_binary():
    r = evaluate([0, 0, 0], [0, 0, 0], sensitive_features=["a"] * 3, n_boot=0, min_group_size=1)
    assert r.classes == (0, 1) and r.positive_label == 1
    assert r.overall["accuracy"].value == 1.0
    assert math.isnan(r.overall["tpr"].value)
    assert r.overall["tpr"].reason == "undefined: no rows with y_true == 1 in this group"
    r2 = evaluate(["n", "n"], ["n", "n"], sensitive_features=["a"] * 2, n_boot=0, pos_label="y")
    assert r2.classes == ("n", "y") and r2.overall["selection_rate"].value == 0.0
