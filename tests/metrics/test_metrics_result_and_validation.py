"""FairnessResult serialisation (JSON round trip, documented shape) and input validation."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from fairsuite._io import dumps_json
from fairsuite.exceptions import InvalidInputError
from fairsuite.metrics import BINARY_METRICS, FairnessResult, evaluate
from fairsuite.metrics import _definitions as D


@pytest.fixture(scope="module")
def binary_result() -> FairnessResult:
    rng = np.random.default_rng(0)
    n = 600
    y = rng.integers(0, 2, n)
    p = np.where(rng.random(n) < 0.2, 1 - y, y)
    sf = pd.DataFrame(
        {
            "race": rng.choice(["Black", "White", "Asian", "Tiny"], n, p=[0.4, 0.4, 0.18, 0.02]),
            "gender": rng.choice(["F", "M"], n),
        }
    )
    sf.loc[0, "race"] = "Solo"  # one row: undefined rates in it
    with pytest.warns(Warning):
        return evaluate(
            y, p, sensitive_features=sf, y_score=rng.random(n), sample_weight=rng.random(n) + 0.5,
            n_boot=100,
        )  # fmt: skip


def test_json_round_trip_without_loss(binary_result):
    d = binary_result.to_dict()
    text = dumps_json(d)
    back = FairnessResult.from_dict(json.loads(text))
    assert dumps_json(back.to_dict()) == text
    assert back.to_dict() == json.loads(text)
    # NaN became null and comes back as NaN
    assert "NaN" not in text and "null" in text


def test_multiclass_round_trip():
    rng = np.random.default_rng(1)
    y = rng.choice(["cat", "dog", "eel"], 300)
    p = np.where(rng.random(300) < 0.3, rng.choice(["cat", "dog", "eel"], 300), y)
    r = evaluate(y, p, sensitive_features={"g": rng.choice(["a", "b"], 300)}, n_boot=50)
    text = dumps_json(r.to_dict())
    assert dumps_json(FairnessResult.from_dict(json.loads(text)).to_dict()) == text
    d = json.loads(text)
    assert d["task_type"] == "multiclass" and d["classes"] == ["cat", "dog", "eel"]
    assert [c["class"] for c in d["per_class"]["by_class"]] == ["cat", "dog", "eel"]
    assert d["per_class"]["macro"]["attributes"][0]["groups"][0]["metrics"]["tpr"]["value"] > 0


def test_documented_top_level_shape(binary_result):
    d = binary_result.to_dict()
    for key in (
        "task_type", "classes", "positive_label", "n", "metrics", "ci", "n_boot", "bootstrap",
        "random_state", "min_group_size", "correction", "overall", "attributes", "per_class",
    ):  # fmt: skip
        assert key in d, key
    assert d["task_type"] == "binary" and d["classes"] == [0, 1] and d["positive_label"] == 1
    assert d["n"] == 600 and d["metrics"] == list(BINARY_METRICS)
    assert (d["ci"], d["n_boot"], d["random_state"], d["min_group_size"]) == (0.95, 100, 0, 30)
    assert d["correction"] == "holm" and isinstance(d["bootstrap"], str)
    assert set(d["overall"]["accuracy"]) == {"value", "ci_low", "ci_high", "reason"}
    names = [a["name"] for a in d["attributes"]]
    assert names == ["race", "gender", "race x gender"]
    inter = d["attributes"][2]
    assert inter["columns"] == ["race", "gender"] and inter["intersection"] is True
    race = d["attributes"][0]
    assert [g["group"] for g in race["groups"]] == ["Asian", "Black", "Solo", "Tiny", "White"]
    g0 = race["groups"][0]
    assert {"group", "n", "insufficient", "metrics", "test"} <= set(g0)
    assert set(g0["test"]) >= {"metric", "statistic", "p_value", "p_adjusted", "significant"}
    disp = race["disparities"]["fpr"]
    assert set(disp["difference"]) >= {"value", "ci_low", "ci_high"}
    assert {"ratio", "worst_group", "best_group"} <= set(disp)
    assert set(race["summary"]) == {
        "demographic_parity_difference",
        "demographic_parity_ratio",
        "equalized_odds_difference",
        "equal_opportunity_difference",
    }
    assert race["insufficient_groups"] == ["Solo", "Tiny"] and race["empty_groups"] == []
    assert "Solo x F" in inter["empty_groups"] or "Solo x M" in inter["empty_groups"]


# ---- validation: exact messages -----------------------------------------------------------


def _err(msg: str):
    return pytest.raises(InvalidInputError, match=re.escape(msg))


def test_length_mismatch_names_the_lengths():
    with _err(D.LENGTH_MISMATCH.format(name="y_pred", got=3, expected=4)):
        evaluate([0, 1, 0, 1], [0, 1, 0], sensitive_features=["a"] * 4)
    with _err(D.LENGTH_MISMATCH.format(name="sensitive feature 'race'", got=2, expected=4)):
        evaluate([0, 1, 0, 1], [0, 1, 0, 1], sensitive_features={"race": ["a", "b"]})
    with _err(D.LENGTH_MISMATCH.format(name="sample_weight", got=5, expected=4)):
        evaluate([0, 1, 0, 1], [0, 1, 0, 1], sensitive_features=["a"] * 4, sample_weight=[1] * 5)
    with _err(D.LENGTH_MISMATCH.format(name="y_score", got=1, expected=4)):
        evaluate([0, 1, 0, 1], [0, 1, 0, 1], sensitive_features=["a"] * 4, y_score=[0.5])


def test_unknown_metric_names_the_allowed_ones():
    allowed = list(BINARY_METRICS)
    with _err(D.UNKNOWN_METRIC.format(name="recall", allowed=allowed)):
        evaluate([0, 1], [0, 1], sensitive_features=["a", "b"], metrics=["tpr", "recall"])
    assert "'accuracy', 'error_rate'" in D.UNKNOWN_METRIC.format(name="x", allowed=allowed)
    with _err(D.EMPTY_METRICS.format(allowed=allowed)):
        evaluate([0, 1], [0, 1], sensitive_features=["a", "b"], metrics=[])
    with _err(D.AUC_NEEDS_SCORE):
        evaluate([0, 1], [0, 1], sensitive_features=["a", "b"], metrics=["auc"])


@pytest.mark.parametrize("ci", [0, 1, 1.5, -0.1, "0.95", True])
def test_ci_out_of_range(ci):
    with _err(D.BAD_CI.format(ci=ci)):
        evaluate([0, 1], [0, 1], sensitive_features=["a", "b"], ci=ci)


def test_empty_input():
    with _err(D.EMPTY_INPUT):
        evaluate([], [], sensitive_features=[])


def test_other_bad_inputs():
    y = [0, 1, 0, 1]
    sf = ["a", "a", "b", "b"]
    with _err(D.BAD_N_BOOT.format(value=-1)):
        evaluate(y, y, sensitive_features=sf, n_boot=-1)
    with _err(D.BAD_MIN_GROUP_SIZE.format(value=2.5)):
        evaluate(y, y, sensitive_features=sf, min_group_size=2.5)
    with _err(D.BAD_WEIGHT.format(count=1, row=2, value=-1.0)):
        evaluate(y, y, sensitive_features=sf, sample_weight=[1.0, 1.0, -1.0, 1.0])
    with _err(D.BAD_SCORE.format(count=1, row=3, value=float("nan"))):
        evaluate(y, y, sensitive_features=sf, y_score=[0.1, 0.2, 0.3, float("nan")])
    with _err(D.MISSING_SENSITIVE.format(name="race", count=1, row=1)):
        evaluate(y, y, sensitive_features={"race": ["a", None, "b", "b"]})
    with _err(D.MISSING_LABELS.format(name="y_true", count=1, row=0)):
        evaluate([np.nan, 1.0, 0.0, 1.0], y, sensitive_features=sf)
    with _err(D.NO_SENSITIVE):
        evaluate(y, y, sensitive_features={})
    with _err(D.BAD_SENSITIVE_TYPE.format(type_name="int")):
        evaluate(y, y, sensitive_features=3)
    with _err(D.UNKNOWN_LABEL.format(name="y_pred", value=2, classes=[0, 1])):
        evaluate(y, [0, 1, 2, 1], sensitive_features=sf, classes=[0, 1])
    with _err(D.POS_LABEL_UNKNOWN.format(value=5, classes=[0, 1])):
        evaluate(y, y, sensitive_features=sf, pos_label=5)
    with _err(D.SCORE_MULTICLASS.format(k=3, classes=[0, 1, 2])):
        evaluate([0, 1, 2, 0], [0, 1, 2, 0], sensitive_features=sf, y_score=[0.1] * 4)
    with _err(D.NOT_1D.format(name="y_true", shape=(2, 2))):
        evaluate([[0, 1], [1, 0]], [0, 1], sensitive_features=sf)
    with _err(D.DUPLICATE_SENSITIVE.format(names=["g"])):
        evaluate(y, y, sensitive_features=pd.DataFrame([["a", "b"]] * 4, columns=["g", "g"]))


def test_invalid_input_error_is_a_value_error():
    with pytest.raises(ValueError, match="ci must be"):
        evaluate([0, 1], [0, 1], sensitive_features=["a", "b"], ci=2)
