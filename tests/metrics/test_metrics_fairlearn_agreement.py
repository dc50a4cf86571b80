"""Point estimates and disparities agree with fairlearn's MetricFrame to 1e-12.

On (a) random data with many groups, with and without sample weights, and (b) predictions of a
scikit-learn LogisticRegression fitted on the real Adult and COMPAS files (read with pandas here;
the package's loaders are tested elsewhere).
"""

from __future__ import annotations

import math
from functools import partial

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import (
    MetricFrame,
    demographic_parity_difference,
    demographic_parity_ratio,
    equal_opportunity_difference,
    equalized_odds_difference,
    false_negative_rate,
    false_positive_rate,
    selection_rate,
    true_negative_rate,
    true_positive_rate,
)
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, precision_score, roc_auc_score, zero_one_loss
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from fairsuite.metrics import evaluate

TOL = 1e-12


def _base_rate(y_true, y_pred, sample_weight=None):
    return float(np.average(np.asarray(y_true) == 1, weights=sample_weight))


def _auc(y_true, y_score, sample_weight=None):
    if len(np.unique(y_true)) < 2:
        return np.nan  # sklearn warns and returns NaN; fairsuite gives NaN with a reason
    return roc_auc_score(y_true, y_score, sample_weight=sample_weight)


FAIRLEARN = {
    "accuracy": accuracy_score,
    "error_rate": zero_one_loss,
    "selection_rate": selection_rate,
    "base_rate": _base_rate,
    "tpr": true_positive_rate,
    "fpr": false_positive_rate,
    "fnr": false_negative_rate,
    "tnr": true_negative_rate,
    "precision": partial(precision_score, zero_division=np.nan),
}


def _metric_frame(y, p, sf, w=None, score=None):
    metrics = dict(FAIRLEARN)
    params = None
    if score is not None:
        metrics["auc"] = _auc
    if w is not None:
        params = {m: {"sample_weight": w} for m in metrics}
    if score is None:
        return MetricFrame(
            metrics=metrics, y_true=y, y_pred=p, sensitive_features=sf, sample_params=params
        )
    # AUC needs the scores in place of y_pred: a second frame for it
    pf = MetricFrame(
        metrics=FAIRLEARN,
        y_true=y,
        y_pred=p,
        sensitive_features=sf,
        sample_params=None if w is None else {m: {"sample_weight": w} for m in FAIRLEARN},
    )
    af = MetricFrame(
        metrics={"auc": metrics["auc"]},
        y_true=y,
        y_pred=score,
        sensitive_features=sf,
        sample_params=None if w is None else {"auc": {"sample_weight": w}},
    )
    by_group = pd.concat([pf.by_group, af.by_group], axis=1)
    overall = pd.concat([pf.overall, af.overall])
    return by_group, overall


def _compare(result, y, p, sf: pd.DataFrame, w=None, score=None) -> int:
    """Assert agreement for every attribute, the intersection and overall; return values checked."""
    checked = 0
    views = [(a.name, [a.name]) for a in result.attributes if not a.intersection]
    views += [(a.name, list(a.columns)) for a in result.attributes if a.intersection]
    for name, cols in views:
        if score is None:
            mf = _metric_frame(y, p, sf[cols] if len(cols) > 1 else sf[cols[0]], w)
            by_group, overall = mf.by_group, mf.overall
        else:
            by_group, overall = _metric_frame(
                y, p, sf[cols] if len(cols) > 1 else sf[cols[0]], w, score
            )
        attr = result.attribute(name)
        assert len(attr.groups) == len(by_group)
        undefined: set[str] = set()
        for g in attr.groups:
            row = by_group.loc[g.key if len(cols) > 1 else g.key[0]]
            for m, mv in g.metrics.items():
                ref = float(row[m])
                if math.isnan(mv.value):
                    # undefined here: fairlearn gives NaN, or 0 for an empty denominator
                    # (its false_positive_rate without negatives) -- fairsuite says why instead
                    assert mv.reason is not None and mv.reason.startswith("undefined")
                    assert math.isnan(ref) or ref == 0.0, (name, g.group, m, ref)
                    undefined.add(g.group)
                else:
                    assert abs(mv.value - ref) <= TOL, (name, g.group, m, mv.value, ref)
                    checked += 1
        # disparities against fairlearn's own functions (all groups sufficient here)
        sf_view = sf[cols] if len(cols) > 1 else sf[cols[0]]
        kw = {"sensitive_features": sf_view, "sample_weight": w}
        s = attr.summary
        if not undefined:
            refs = {
                "demographic_parity_difference": demographic_parity_difference(y, p, **kw),
                "demographic_parity_ratio": demographic_parity_ratio(y, p, **kw),
                "equalized_odds_difference": equalized_odds_difference(y, p, **kw),
                "equal_opportunity_difference": equal_opportunity_difference(y, p, **kw),
            }
            for k, ref in refs.items():
                assert abs(s[k].value - ref) <= TOL, (name, k, s[k].value, ref)
                checked += 1
        for m, d in attr.disparities.items():
            col = by_group[m].astype(float)
            # groups whose value is undefined are not compared
            col = col[
                [
                    (g.key if len(cols) > 1 else g.key[0])
                    for g in attr.groups
                    if g.group in d.groups_compared
                ]
            ]
            assert abs(d.difference.value - (col.max() - col.min())) <= TOL, (name, m)
            assert abs(d.ratio.value - col.min() / col.max()) <= TOL, (name, m)
            checked += 2
    for m, mv in result.overall.items():
        assert abs(mv.value - float(overall[m])) <= TOL, ("overall", m)
        checked += 1
    return checked


def _random_data(seed: int, n: int = 8_000):
    rng = np.random.default_rng(seed)
    region = rng.choice([f"r{i:02d}" for i in range(12)], size=n)
    sex = rng.choice(["F", "M", "X"], size=n, p=[0.48, 0.48, 0.04])
    y = (rng.random(n) < 0.35).astype(int)
    score = np.clip(0.35 + 0.3 * (y - 0.35) + rng.normal(0, 0.25, n), 0, 1).round(3)
    p = (score > 0.45).astype(int)
    sf = pd.DataFrame({"region": region, "sex": sex})
    return y, p, score, sf, rng


@pytest.mark.parametrize("weighted", [False, True])
def test_random_many_groups_agree_with_metricframe(weighted):
    y, p, score, sf, rng = _random_data(7)
    w = rng.uniform(0.2, 3.0, len(y)) if weighted else None
    r = evaluate(
        y, p, sensitive_features=sf, y_score=score, sample_weight=w, n_boot=0, min_group_size=1
    )
    # 12 x 3 = 36 intersections
    assert len(r.attribute("region x sex").groups) == 36
    checked = _compare(r, y, p, sf, w, score)
    assert checked > 500


def _adult(root):
    cols = [
        "age", "workclass", "fnlwgt", "education", "education_num", "marital_status",
        "occupation", "relationship", "race", "sex", "capital_gain", "capital_loss",
        "hours_per_week", "native_country", "income",
    ]  # fmt: skip
    kw = {"header": None, "names": cols, "skipinitialspace": True, "na_values": ["?"]}
    train = pd.read_csv(root / "adult" / "adult.data", **kw)
    test = pd.read_csv(root / "adult" / "adult.test", skiprows=1, **kw)
    train = train.dropna(subset=["income"])
    test = test.dropna(subset=["income"])
    return train, test


def test_adult_logistic_regression_agrees_with_metricframe(data_root):
    train, test = _adult(data_root)
    assert (len(train), len(test)) == (32_561, 16_281)
    features = ["age", "education_num", "capital_gain", "capital_loss", "hours_per_week"]
    y_tr = (train["income"].str.rstrip(".") == ">50K").astype(int).to_numpy()
    y_te = (test["income"].str.rstrip(".") == ">50K").astype(int).to_numpy()
    assert int(y_te.sum()) == 3846
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    model.fit(train[features].assign(male=(train["sex"] == "Male").astype(int)), y_tr)
    x_te = test[features].assign(male=(test["sex"] == "Male").astype(int))
    p = model.predict(x_te)
    score = model.predict_proba(x_te)[:, 1]
    assert 0.80 < float((p == y_te).mean()) < 0.86
    sf = test[["race", "sex"]].reset_index(drop=True)
    r = evaluate(y_te, p, sensitive_features=sf, y_score=score, n_boot=0, min_group_size=1)
    checked = _compare(r, y_te, p, sf, score=score)
    assert checked > 200
    # the real sizes: 5 races x 2 sexes, no empty intersection
    assert {g.group: g.n for g in r.attribute("sex").groups} == {"Female": 5421, "Male": 10860}
    assert r.attribute("race x sex").empty_groups == ()


def _compas(root):
    df = pd.read_csv(root / "compas" / "compas-scores-two-years.csv")
    keep = (
        df["days_b_screening_arrest"].between(-30, 30)
        & (df["is_recid"] != -1)
        & (df["c_charge_degree"] != "O")
        & (df["score_text"] != "N/A")
    )
    return df[keep].reset_index(drop=True)


def test_compas_logistic_regression_agrees_with_metricframe(data_root):
    df = _compas(data_root)
    assert len(df) == 6172
    x = pd.DataFrame(
        {
            "age": df["age"],
            "priors": df["priors_count"],
            "juv_fel": df["juv_fel_count"],
            "juv_misd": df["juv_misd_count"],
            "felony": (df["c_charge_degree"] == "F").astype(int),
            "male": (df["sex"] == "Male").astype(int),
        }
    )
    y = df["two_year_recid"].to_numpy()
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(x, y)
    p = model.predict(x)
    score = model.predict_proba(x)[:, 1]
    sf = df[["race", "sex"]]
    r = evaluate(y, p, sensitive_features=sf, y_score=score, n_boot=0, min_group_size=1)
    checked = _compare(r, y, p, sf, score=score)
    assert checked > 150
    # with the default min_group_size=30 the small groups are flagged and left out
    r30 = evaluate(y, p, sensitive_features=sf, n_boot=0)
    race = r30.attribute("race")
    sizes = {g.group: g.n for g in race.groups}
    assert sizes["Native American"] == 11 and sizes["Asian"] == 31
    assert race.insufficient_groups == ("Native American",)
    mf = MetricFrame(metrics=selection_rate, y_true=y, y_pred=p, sensitive_features=df["race"])
    big = mf.by_group.drop("Native American")
    dpd = race.summary["demographic_parity_difference"].value
    assert abs(dpd - (big.max() - big.min())) <= TOL


def test_multiclass_agrees_with_metricframe():
    from sklearn.metrics import recall_score

    rng = np.random.default_rng(21)
    n = 6000
    classes = ["0-2", "3-9", "10-19", "20-29"]
    y = rng.choice(classes, n, p=[0.1, 0.2, 0.3, 0.4])
    p = np.where(rng.random(n) < 0.35, rng.choice(classes, n), y)
    sf = pd.DataFrame(
        {"race": rng.choice(["A", "B", "C", "D", "E"], n), "sex": rng.choice(["F", "M"], n)}
    )
    w = rng.uniform(0.5, 2.0, n)
    r = evaluate(y, p, sensitive_features=sf, sample_weight=w, n_boot=0, min_group_size=1)
    assert r.classes == tuple(sorted(classes))
    for attr in r.attributes:
        cols = list(attr.columns)
        view = sf[cols] if len(cols) > 1 else sf[cols[0]]
        key = (lambda g: g.key) if len(cols) > 1 else (lambda g: g.key[0])  # noqa: E731
        acc = MetricFrame(
            metrics=accuracy_score, y_true=y, y_pred=p, sensitive_features=view,
            sample_params={"sample_weight": w},
        ).by_group  # fmt: skip
        for g in attr.groups:
            assert abs(g.metrics["accuracy"].value - acc.loc[key(g)]) <= TOL
        for k, label in enumerate(r.classes):
            ovr = MetricFrame(
                metrics={"tpr": true_positive_rate, "fpr": false_positive_rate,
                         "selection_rate": selection_rate},
                y_true=(y == label).astype(int), y_pred=(p == label).astype(int),
                sensitive_features=view,
                sample_params={m: {"sample_weight": w} for m in ("tpr", "fpr", "selection_rate")},
            ).by_group  # fmt: skip
            for g in (
                r.per_class.by_class[k]
                .attributes[[a.name for a in r.attributes].index(attr.name)]
                .groups
            ):
                for m in ("tpr", "fpr", "selection_rate"):
                    assert abs(g.metrics[m].value - ovr.loc[key(g), m]) <= TOL, (label, m)
        macro = MetricFrame(
            metrics={"macro_tpr": partial(recall_score, average="macro", zero_division=np.nan)},
            y_true=y,
            y_pred=p,
            sensitive_features=view,
            sample_params={"macro_tpr": {"sample_weight": w}},
        ).by_group
        macro_attr = r.per_class.macro.attributes[[a.name for a in r.attributes].index(attr.name)]
        for g in macro_attr.groups:
            assert abs(g.metrics["tpr"].value - macro.loc[key(g), "macro_tpr"]) <= TOL
