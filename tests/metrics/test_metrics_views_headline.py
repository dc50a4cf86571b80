"""DataFrame views of a result (fairlearn's MetricFrame.by_group agrees) and the one headline."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from fairsuite.metrics import HEADLINE_RULE, Headline, evaluate, headline


@pytest.fixture(scope="module")
def result_and_data():
    rng = np.random.default_rng(7)
    n = 3000
    race = rng.choice(["A", "B", "C"], n, p=[0.6, 0.3, 0.1])
    sex = rng.choice(["F", "M"], n)
    y = rng.integers(0, 2, n)
    err = np.where(race == "C", 0.35, 0.15)
    p = np.where(rng.random(n) < err, 1 - y, y)
    sf = pd.DataFrame({"race": race, "sex": sex})
    return evaluate(y, p, sensitive_features=sf, n_boot=0), y, p, sf


def test_by_group_equals_fairlearn_metricframe(result_and_data):
    from fairlearn.metrics import (
        MetricFrame,
        false_negative_rate,
        false_positive_rate,
        selection_rate,
    )
    from sklearn.metrics import accuracy_score

    r, y, p, sf = result_and_data
    metrics = {
        "accuracy": accuracy_score,
        "selection_rate": selection_rate,
        "fpr": false_positive_rate,
        "fnr": false_negative_rate,
    }
    frame = r.by_group()
    assert list(frame.index.names) == ["attribute", "group"]
    for col in ("race", "sex"):
        mf = MetricFrame(metrics=metrics, y_true=y, y_pred=p, sensitive_features=sf[col])
        ours = frame.loc[col]
        for m in metrics:
            for g, value in mf.by_group[m].items():
                assert ours.loc[g, m] == pytest.approx(value, abs=1e-12)
        assert (ours["n"] == sf[col].value_counts().sort_index()).all()
    mf = MetricFrame(metrics=metrics, y_true=y, y_pred=p, sensitive_features=sf)
    inter = frame.loc["race x sex"]
    for (race, sex), value in mf.by_group["fpr"].items():
        assert inter.loc[f"{race} x {sex}", "fpr"] == pytest.approx(value, abs=1e-12)
    assert (frame["accuracy_ci_low"] <= frame["accuracy"]).all()
    assert (frame["accuracy_ci_high"] > frame["accuracy_ci_low"]).all()
    assert r.by_group("race").index.get_level_values(0).unique().tolist() == ["race"]


def test_disparities_frame(result_and_data):
    r = result_and_data[0]
    d = r.disparities()
    row = d.loc[("race", "accuracy")]
    disp = r.attribute("race").disparities["accuracy"]
    assert row["difference"] == disp.difference.value
    assert row["difference_ci_low"] == disp.difference.ci_low > 0  # C is clearly worse
    assert row["worst_group"] == "C"
    assert ("sex", "demographic_parity_difference") in d.index


def test_repr_html_is_a_compact_table(result_and_data):
    html = result_and_data[0]._repr_html_()
    assert html.startswith("<p><strong>FairnessResult</strong>") and "<table" in html


def test_headline_rule(result_and_data):
    r = result_and_data[0]
    h = headline(r)
    assert isinstance(h, Headline) and h.rule == HEADLINE_RULE
    # worst group: lowest accuracy among sufficient groups, any attribute
    candidates = [
        (g.metrics["accuracy"].value, a.name, g.group)
        for a in r.attributes
        for g in a.groups
        if not g.insufficient
    ]
    acc, attr, group = min(candidates)
    assert (h.worst_group.attribute, h.worst_group.group) == (attr, group)
    assert h.worst_group.value.value == acc and group.startswith("C")
    values = [g.difference.value for g in h.gaps]
    assert values == sorted(values, reverse=True) and len(h.gaps) == 5
    assert all(g.metric in ("accuracy", "fpr", "fnr") for g in h.gaps)
    # the same headline from the result's plain data, and a lossless round trip
    assert headline(r.to_dict()) == h
    assert Headline.from_dict(h.to_dict()) == h


def test_headline_skips_conditional_gaps_of_a_target_attribute():
    rng = np.random.default_rng(2)
    n = 600
    gender = rng.choice(["F", "M"], n)
    p = np.where(rng.random(n) < 0.2, np.where(gender == "M", "F", "M"), gender)
    r = evaluate(gender, p, sensitive_features={"gender": gender}, target_attributes=["gender"])
    h = headline(r)
    assert [g.metric for g in h.gaps] == ["accuracy"]
    assert not math.isnan(h.overall_accuracy.value)
