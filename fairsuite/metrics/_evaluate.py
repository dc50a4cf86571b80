"""The metrics engine: per-group and intersectional metrics with honest confidence intervals.

How it is fast
--------------
Every metric except AUC is a function of a group's (weighted) confusion matrix. The rows are
encoded once (``pandas.factorize``) into *strata*, the finest intersection of all sensitive
attributes, and one ``np.bincount`` over combined codes gives each stratum's confusion matrix
(and one more, of squared weights, gives Kish effective sizes for weighted data). Every
attribute's groups (and the overall population) are sums of strata.

Intervals (documented in :mod:`fairsuite.metrics._intervals` and ``docs/intervals.md``)
----------------------------------------------------------------------------------------
Every rate is a proportion of its own denominator and gets a continuity-corrected Wilson score
interval (closed form: no resampling, never zero-width, coverage at least nominal in
simulation). Gaps (``max - min``) get simultaneous pairwise Newcombe intervals (Bonferroni over
the pairs of compared groups), ratios (``min / max``) simultaneous group intervals; so the lower
bound of a gap reaches 0 when the groups do not differ, and every interval contains its point
estimate. The equalized odds difference joins the TPR and FPR gaps at level ``1 - alpha/2``
each; the top-level summaries of a multiclass target join the per-class summaries at level
``1 - alpha/C`` each.

AUC is not a proportion. The rows are sorted by score once (rows sharing a score and a stratum
merged when scores repeat); per view, one stable sort by group code orders them by (group,
score) and gives every group's AUC as a rank-sum (Mann-Whitney, ties one half) and DeLong's
variance from the placement values, O(n log n) in all. The group interval is DeLong's on the
logit scale, hulled with the Hanley-McNeil score interval; where DeLong degenerates (AUC 0 or 1,
a class of fewer than 2 rows), a Wilson interval on ``min(positives, negatives)`` rows, which
the Birnbaum-Klose variance bound makes conservative. Nothing is resampled: ``n_boot`` and
``random_state`` are recorded and change no number. AUC gaps use simultaneous group intervals.

Per-group tests: a two-sided two-proportion z-test (pooled) of the group's error rate against
the rest of the attribute's rows, with Kish effective sample sizes when weighted, and Holm's
step-down correction across the sufficient groups of each attribute (the intersection is its own
family).

Attributes that are the target (``target_attributes``): predicting gender and auditing by gender
makes every rate conditioned on the label (TPR, FPR, selection rate, base rate, ...) a
restatement of the confusion matrix, not a disparity. For such attributes and for every
intersection that includes them only accuracy and error rate (per-group recall) are computed;
the other metrics and the fairness summaries are NaN with ``TARGET_REASON``.

Multiclass targets: per group, accuracy and error rate; under ``per_class``, every rate one-vs-
rest for each class (that class is "positive"), and a ``macro`` entry averaging TPR, FPR, FNR,
TNR and precision over classes (classes where the rate is undefined are skipped). The top-level
fairness summaries of a multiclass target are the worst case (maximum) over classes of the
per-class summaries.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from fairsuite.exceptions import InvalidInputError, SmallGroupWarning
from fairsuite.metrics import _definitions as D
from fairsuite.metrics._intervals import (
    INTERVAL_METHOD,
    GroupCI,
    auc_interval,
    pairwise_gap,
    ratio_bounds,
    simultaneous_gap,
    wilson_cc,
    z_for,
)
from fairsuite.metrics._result import (
    AttributeResult,
    ClassResult,
    Disparity,
    FairnessResult,
    GroupResult,
    GroupTest,
    MetricValue,
    PerClassResult,
)

__all__ = ["evaluate", "BOOTSTRAP_DESCRIPTION", "TARGET_REASON", "INTERVAL_METHOD"]

#: What the result's ``bootstrap`` field says: nothing is resampled (``n_boot`` and
#: ``random_state`` are recorded, and change no number).
BOOTSTRAP_DESCRIPTION = (
    "not used: every interval is closed-form and deterministic, AUC included (DeLong variance on "
    "the logit scale, hulled with the Hanley-McNeil score interval); n_boot is recorded but "
    "ignored"
)
CORRECTION = "holm"
TEST_METRIC = "error_rate"
_SUMMARY_NAMES = (
    "demographic_parity_difference",
    "demographic_parity_ratio",
    "equalized_odds_difference",
    "equal_opportunity_difference",
)


# ----------------------------------------------------------------------------------------------
# input handling
# ----------------------------------------------------------------------------------------------


def _as_1d(x: Any, name: str, n: int | None) -> np.ndarray:
    arr = np.asarray(x)
    if arr.ndim != 1:
        raise InvalidInputError(D.NOT_1D.format(name=name, shape=arr.shape))
    if n is not None and arr.shape[0] != n:
        raise InvalidInputError(D.LENGTH_MISMATCH.format(name=name, got=arr.shape[0], expected=n))
    return arr


def _py(v: Any) -> Any:
    """NumPy scalar -> Python scalar (JSON-able labels)."""
    return v.item() if isinstance(v, np.generic) else v


def _first_bad(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


@dataclass(frozen=True)
class _Attribute:
    name: str
    codes: np.ndarray  # int64 per row, 0..k-1
    names: tuple[str, ...]  # sorted group names (categories)


def _encode_sensitive(column: Any, name: str, n: int) -> _Attribute:
    """Factorize one sensitive column into codes sorted by group name (str)."""
    if isinstance(column, pd.Series):
        values: Any = column
    else:
        values = _as_1d(column, f"sensitive feature {name!r}", n)
    if len(values) != n:
        raise InvalidInputError(
            D.LENGTH_MISMATCH.format(
                name=f"sensitive feature {name!r}", got=len(values), expected=n
            )
        )
    if isinstance(values, pd.Series) and isinstance(values.dtype, pd.CategoricalDtype):
        codes = values.cat.codes.to_numpy().astype(np.int64)
        uniques: list[Any] = list(values.cat.categories)
    else:
        codes, uniq = pd.factorize(np.asarray(values), sort=False)
        codes = codes.astype(np.int64, copy=False)
        uniques = list(uniq)
    missing = codes < 0
    if missing.any():
        raise InvalidInputError(
            D.MISSING_SENSITIVE.format(name=name, count=int(missing.sum()), row=_first_bad(missing))
        )
    labels = [str(_py(u)) for u in uniques]
    names = sorted(set(labels))
    lookup = {s: i for i, s in enumerate(names)}
    remap = np.array([lookup[s] for s in labels], dtype=np.int64)
    return _Attribute(name, remap[codes] if len(remap) else codes, tuple(names))


def _sensitive_columns(sensitive_features: Any, n: int) -> list[_Attribute]:
    items: list[tuple[str, Any]]
    if isinstance(sensitive_features, pd.DataFrame):
        items = [(str(c), sensitive_features.iloc[:, i]) for i, c in enumerate(sensitive_features)]
    elif isinstance(sensitive_features, Mapping):
        items = [(str(k), v) for k, v in sensitive_features.items()]
    elif isinstance(sensitive_features, pd.Series):
        name = sensitive_features.name
        items = [(str(name) if name is not None else "sensitive_feature_0", sensitive_features)]
    elif isinstance(sensitive_features, (np.ndarray, list, tuple)):
        arr = np.asarray(sensitive_features)
        if arr.ndim == 1:
            items = [("sensitive_feature_0", arr)]
        elif arr.ndim == 2:
            if arr.shape[0] != n:
                raise InvalidInputError(
                    D.LENGTH_MISMATCH.format(
                        name="sensitive_features", got=arr.shape[0], expected=n
                    )
                )
            items = [(f"sensitive_feature_{i}", arr[:, i]) for i in range(arr.shape[1])]
        else:
            raise InvalidInputError(D.NOT_1D.format(name="sensitive_features", shape=arr.shape))
    else:
        raise InvalidInputError(
            D.BAD_SENSITIVE_TYPE.format(type_name=type(sensitive_features).__name__)
        )
    if not items:
        raise InvalidInputError(D.NO_SENSITIVE)
    seen: dict[str, int] = {}
    for k, _ in items:
        seen[k] = seen.get(k, 0) + 1
    dups = sorted(k for k, c in seen.items() if c > 1)
    if dups:
        raise InvalidInputError(D.DUPLICATE_SENSITIVE.format(names=dups))
    return [_encode_sensitive(v, k, n) for k, v in items]


def _sorted_labels(labels: list[Any]) -> list[Any]:
    try:
        return sorted(labels)
    except TypeError as err:
        raise InvalidInputError(D.UNSORTABLE_LABELS.format(labels=labels)) from err


def _encode_labels(
    y_true: np.ndarray, y_pred: np.ndarray, classes: Sequence[Any] | None, pos_label: Any
) -> tuple[list[Any], np.ndarray, np.ndarray]:
    """Return the class list and the class index of every y_true / y_pred row."""
    n = len(y_true)
    codes_t, uniq_t = pd.factorize(y_true)
    codes_p, uniq_p = pd.factorize(y_pred)
    for name, part in (("y_true", codes_t), ("y_pred", codes_p)):
        bad = part < 0
        if bad.any():
            raise InvalidInputError(
                D.MISSING_LABELS.format(name=name, count=int(bad.sum()), row=_first_bad(bad))
            )
    # one code space: y_pred's uniques mapped onto the union
    seen_t, seen_p = [_py(u) for u in uniq_t], [_py(u) for u in uniq_p]
    union = list(dict.fromkeys(seen_t + seen_p))
    at = {v: i for i, v in enumerate(union)}
    codes = np.concatenate([codes_t, np.array([at[v] for v in seen_p], dtype=np.int64)[codes_p]])
    uniq = union
    seen = [_py(u) for u in uniq]
    if classes is None:
        cls = _sorted_labels(list(dict.fromkeys(seen)))
        if len(cls) == 1:
            # one label seen: the target is still binary; the other label is pos_label, or
            # 0/1 (False/True) for a 0/1 target
            if pos_label is not None and pos_label not in cls:
                cls = _sorted_labels([*cls, pos_label])
            elif pos_label is None and cls[0] in (0, 1):
                is_bool = isinstance(cls[0], bool)
                cls = [False, True] if is_bool else [0, 1]
    else:
        cls = [_py(c) for c in classes]
        allowed = set(cls)
        for name, part in (("y_true", codes[:n]), ("y_pred", codes[n:])):
            present = {seen[i] for i in np.flatnonzero(np.bincount(part, minlength=len(seen)))}
            extra = [v for v in seen if v in present and v not in allowed]
            if extra:
                raise InvalidInputError(
                    D.UNKNOWN_LABEL.format(name=name, value=extra[0], classes=cls)
                )
    if pos_label is not None and pos_label not in cls:
        raise InvalidInputError(D.POS_LABEL_UNKNOWN.format(value=pos_label, classes=cls))
    index = {c: i for i, c in enumerate(cls)}
    remap = np.array([index[v] for v in seen], dtype=np.int64)
    return cls, remap[codes[:n]], remap[codes[n:]]


# ----------------------------------------------------------------------------------------------
# rates from confusion matrices
# ----------------------------------------------------------------------------------------------


def _div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    num = np.asarray(num, dtype=float)
    den = np.asarray(den, dtype=float)
    out = np.full(np.broadcast(num, den).shape, np.nan)
    np.divide(num, den, out=out, where=den > 0)
    return out


def _binary_parts(tn: Any, fp: Any, fn: Any, tp: Any) -> dict[str, tuple[Any, Any]]:
    """Numerator and denominator of every binary rate: each rate is a proportion."""
    tot = tn + fp + fn + tp
    pos, neg, pp = tp + fn, tn + fp, tp + fp
    return {
        "accuracy": (tp + tn, tot),
        "error_rate": (fp + fn, tot),
        "selection_rate": (pp, tot),
        "base_rate": (pos, tot),
        "tpr": (tp, pos),
        "fpr": (fp, neg),
        "fnr": (fn, pos),
        "tnr": (tn, neg),
        "precision": (tp, pp),
    }


def _binary_rates(tn: Any, fp: Any, fn: Any, tp: Any) -> dict[str, np.ndarray]:
    return {m: _div(a, b) for m, (a, b) in _binary_parts(tn, fp, fn, tp).items()}


def _cells(T: np.ndarray) -> tuple[np.ndarray, ...]:
    """(tn, fp, fn, tp) of binary confusion matrices T[..., y, p]."""
    return T[..., 0, 0], T[..., 0, 1], T[..., 1, 0], T[..., 1, 1]


def _proportions(
    parts: Mapping[str, tuple[Any, Any]], den_sq: Mapping[str, Any]
) -> tuple[dict[str, np.ndarray], dict[str, GroupCI], dict[str, np.ndarray]]:
    """Point estimates, interval functions and Kish effective sizes of proportions.

    ``parts`` maps a metric to its weighted (numerator, denominator); ``den_sq`` to the sum of
    squared weights over the denominator's rows (equal to the denominator when unweighted).
    """
    point = {m: _div(num, den) for m, (num, den) in parts.items()}
    n_eff = {m: _div(np.asarray(parts[m][1], dtype=float) ** 2, den_sq[m]) for m in parts}
    cis = {m: _proportion_ci(point[m], n_eff[m]) for m in parts}
    return point, cis, n_eff


def _binary_proportions(
    cells: tuple[np.ndarray, ...], cells_sq: tuple[np.ndarray, ...]
) -> tuple[dict[str, np.ndarray], dict[str, GroupCI], dict[str, np.ndarray]]:
    parts = _binary_parts(*cells)
    den_sq = {m: d for m, (_, d) in _binary_parts(*cells_sq).items()}
    return _proportions(parts, den_sq)


def _binary_reasons(
    tn: np.ndarray, fp: np.ndarray, fn: np.ndarray, tp: np.ndarray, pos_text: str
) -> dict[str, list[str | None]]:
    """Why each rate is undefined (point estimates only), per group."""
    tot = tn + fp + fn + tp
    pos, neg, pp = tp + fn, tn + fp, tp + fp
    out: dict[str, list[str | None]] = {}
    empty = "no rows (or total sample_weight 0) in this group"
    no_pos = f"undefined: no rows with y_true == {pos_text} in this group"
    no_neg = f"undefined: no rows with y_true != {pos_text} in this group"
    no_pp = f"undefined: no rows predicted {pos_text} in this group"
    for m in ("accuracy", "error_rate", "selection_rate", "base_rate"):
        out[m] = [empty if t <= 0 else None for t in tot]
    for m in ("tpr", "fnr"):
        out[m] = [
            empty if t <= 0 else (no_pos if p <= 0 else None) for t, p in zip(tot, pos, strict=True)
        ]
    for m in ("fpr", "tnr"):
        out[m] = [
            empty if t <= 0 else (no_neg if q <= 0 else None) for t, q in zip(tot, neg, strict=True)
        ]
    out["precision"] = [
        empty if t <= 0 else (no_pp if q <= 0 else None) for t, q in zip(tot, pp, strict=True)
    ]
    return out


def _ovr_cells(T: np.ndarray, k: int) -> tuple[np.ndarray, ...]:
    """One-vs-rest (tn, fp, fn, tp) for class k from confusion matrices T[..., y, p]."""
    tp = T[..., k, k]
    fn = T[..., k, :].sum(axis=-1) - tp
    fp = T[..., :, k].sum(axis=-1) - tp
    tot = T.sum(axis=(-1, -2))
    tn = tot - tp - fn - fp
    return tn, fp, fn, tp


def _nanmean_stack(arrs: list[np.ndarray]) -> np.ndarray:
    st = np.stack(arrs)
    ok = ~np.isnan(st)
    cnt = ok.sum(axis=0)
    s = np.where(ok, st, 0.0).sum(axis=0)
    return _div(s, cnt)


# ----------------------------------------------------------------------------------------------
# AUC from atom counts
# ----------------------------------------------------------------------------------------------


@dataclass
class _AucStats:
    """Per-group AUC with what its interval needs."""

    point: np.ndarray  # (G,) weighted Mann-Whitney AUC; NaN without both labels
    var: np.ndarray  # (G,) DeLong variance (weighted: linearised); NaN where undefined
    n_pos: np.ndarray  # (G,) Kish effective positives (row count when unweighted)
    n_neg: np.ndarray  # (G,) Kish effective negatives


def _auc_stats(
    group: np.ndarray,
    score: np.ndarray,
    pos: np.ndarray,
    neg: np.ndarray,
    pos_sq: np.ndarray,
    neg_sq: np.ndarray,
    n_groups: int,
    *,
    score_sorted: bool = False,
) -> _AucStats:
    """AUC and DeLong variance per group, by ranks (one sort: O(k log k) for k entries).

    An entry is a row, or several rows with the same group and score: ``pos``/``neg`` hold its
    weight of positive/negative rows and ``pos_sq``/``neg_sq`` their summed squared weights.
    ``score_sorted`` says the entries are already in ascending score order (then one stable
    sort by group, cheap for small integer codes, orders them by (group, score)).
    Over the distinct scores ``j`` of a group, ``AUC = sum_j P_j (N_below_j + N_j / 2) / (P N)``,
    which is what sklearn's trapezoidal ROC area equals (ties count one half). The placement
    value of a positive at score ``j`` is ``(N_below_j + N_j / 2) / N``, that of a negative
    ``(P_above_j + P_j / 2) / P``; DeLong's variance is ``S10 / P + S01 / N`` with ``S10``,
    ``S01`` their sample variances. Weighted, each row's squared deviation counts ``w^2`` over
    the squared class total, times ``n_eff / (n_eff - 1)`` with Kish's ``n_eff`` of the class:
    the linearised variance of the weighted Mann-Whitney statistic, equal to DeLong's for
    constant weights.
    """
    G = n_groups
    if score_sorted:  # a stable sort of small integer codes is a radix sort
        codes = group.astype(np.int16) if G < 2**15 else group
        order = np.argsort(codes, kind="stable")
    else:
        order = np.lexsort((score, group))
    g, s = group[order], score[order]
    new = np.ones(len(g), dtype=bool)
    if len(g) > 1:
        new[1:] = (g[1:] != g[:-1]) | (s[1:] != s[:-1])
    level = np.cumsum(new) - 1
    n_levels = int(level[-1]) + 1 if len(g) else 0
    lg = g[new]

    def per_level(x: np.ndarray) -> np.ndarray:
        return np.bincount(level, weights=x[order], minlength=n_levels)

    def per_group(x: np.ndarray) -> np.ndarray:
        return np.bincount(lg, weights=x, minlength=G)

    P, N, QP, QN = per_level(pos), per_level(neg), per_level(pos_sq), per_level(neg_sq)
    PG, NG = per_group(P), per_group(N)
    below = np.cumsum(N) - N - (np.cumsum(NG) - NG)[lg]
    above = PG[lg] - (np.cumsum(P) - (np.cumsum(PG) - PG)[lg])
    point = _div(per_group(P * (below + 0.5 * N)), PG * NG)
    with np.errstate(invalid="ignore"):
        v10 = _div(below + 0.5 * N, NG[lg])
        v01 = _div(above + 0.5 * P, PG[lg])
        dev10 = np.where(QP > 0, QP * (v10 - point[lg]) ** 2, 0.0)
        dev01 = np.where(QN > 0, QN * (v01 - point[lg]) ** 2, 0.0)
    n_pos, n_neg = _div(PG**2, per_group(QP)), _div(NG**2, per_group(QN))
    var = _div(per_group(dev10), PG**2) * _div(n_pos, n_pos - 1.0) + _div(
        per_group(dev01), NG**2
    ) * _div(n_neg, n_neg - 1.0)
    return _AucStats(point, var, n_pos, n_neg)


def _auc_reasons(wpos: np.ndarray, wneg: np.ndarray, pos_text: str) -> list[str | None]:
    out: list[str | None] = []
    for p, q in zip(wpos, wneg, strict=True):
        if p <= 0 and q <= 0:
            out.append("no rows (or total sample_weight 0) in this group")
        elif p <= 0:
            out.append(f"undefined: no rows with y_true == {pos_text} in this group")
        elif q <= 0:
            out.append(f"undefined: no rows with y_true != {pos_text} in this group")
        else:
            out.append(None)
    return out


# ----------------------------------------------------------------------------------------------
# intervals, disparities, tests
# ----------------------------------------------------------------------------------------------

#: Why a conditional rate of an attribute that is the task's target is not reported.
TARGET_REASON = "not meaningful: this attribute is the target"
#: Metrics that stay meaningful for an attribute that is the target (per-class recall).
TARGET_METRICS = ("accuracy", "error_rate")


def _proportion_ci(point: np.ndarray, n_eff: np.ndarray) -> GroupCI:
    """Group intervals of proportions ``point`` measured on ``n_eff`` (effective) rows."""

    def ci(alpha: float) -> tuple[np.ndarray, np.ndarray]:
        return wilson_cc(point, n_eff, z_for(alpha))

    return ci


def _auc_ci(st: _AucStats) -> GroupCI:
    """AUC intervals (any level): the logit DeLong interval hulled with the Hanley-McNeil score
    interval, a Birnbaum-Klose-bounded Wilson interval where DeLong degenerates
    (:func:`fairsuite.metrics._intervals.auc_interval`)."""

    def ci(alpha: float) -> tuple[np.ndarray, np.ndarray]:
        return auc_interval(st.point, st.var, st.n_pos, st.n_neg, z_for(alpha))

    return ci


def _macro_ci(points: list[np.ndarray], n_effs: list[np.ndarray]) -> GroupCI:
    """Intervals of a macro average over classes: the mean of the defined classes' Wilson
    intervals, each at level ``1 - alpha / K`` (Bonferroni over the K defined classes), so the
    mean of the true rates lies inside with probability at least ``1 - alpha``."""
    P, N = np.stack(points), np.stack(n_effs)
    ok = ~np.isnan(P)
    k_def = ok.sum(axis=0)

    def ci(alpha: float) -> tuple[np.ndarray, np.ndarray]:
        z = z_for(alpha / np.maximum(k_def, 1))
        lo, hi = wilson_cc(P, N, z[None, :])
        return (
            _div(np.where(ok, lo, 0.0).sum(axis=0), k_def),
            _div(np.where(ok, hi, 0.0).sum(axis=0), k_def),
        )

    return ci


def _value(value: float, lo: float, hi: float, reason: str | None) -> MetricValue:
    if math.isnan(value):
        return MetricValue(float(value), math.nan, math.nan, reason)
    return MetricValue(float(value), float(lo), float(hi), reason)


def _disparity(
    metric: str,
    point: np.ndarray,
    group_ci: GroupCI,
    eligible: np.ndarray,
    names: Sequence[str],
    alpha: float,
    pairwise: bool,
) -> Disparity:
    """``max - min`` and ``min / max`` over the eligible groups, with simultaneous intervals."""
    direction = D.METRIC_DIRECTIONS[metric]
    use = eligible & ~np.isnan(point)
    idx = np.flatnonzero(use)
    compared = tuple(names[int(i)] for i in idx)
    if idx.size < 2:
        why = (
            "undefined: fewer than two groups with at least min_group_size rows and a defined "
            f"{metric}"
        )
        nan = MetricValue(math.nan, math.nan, math.nan, why)
        return Disparity(metric, direction, nan, nan, None, None, compared)
    v = point[idx]
    hi, lo = v.max(), v.min()
    i_max, i_min = int(idx[int(np.argmax(v))]), int(idx[int(np.argmin(v))])
    if direction == "lower":
        worst, best = names[i_max], names[i_min]
    else:
        worst, best = names[i_min], names[i_max]

    def sub(a: float) -> tuple[np.ndarray, np.ndarray]:
        g_lo, g_hi = group_ci(a)
        return g_lo[idx], g_hi[idx]

    gap_lo, gap_hi = (pairwise_gap if pairwise else simultaneous_gap)(v, sub, alpha)
    diff = MetricValue(float(hi - lo), gap_lo, gap_hi, None)
    if hi > 0:
        r_lo, r_hi = ratio_bounds(v, sub, alpha)
        ratio = MetricValue(float(lo / hi), r_lo, r_hi, None)
    else:
        ratio = MetricValue(math.nan, math.nan, math.nan, f"undefined: the largest {metric} is 0")
    return Disparity(metric, direction, diff, ratio, worst, best, compared)


def _summaries(
    point: Mapping[str, np.ndarray],
    cis: Mapping[str, GroupCI],
    eligible: np.ndarray,
    names: Sequence[str],
    alpha: float,
) -> dict[str, MetricValue]:
    """fairlearn's four summaries with intervals at level ``1 - alpha``.

    The equalized odds difference is ``max(TPR gap, FPR gap)``; its interval joins the two gap
    intervals taken at level ``1 - alpha / 2`` each (Bonferroni), ``[max lo, max hi]``.
    """

    def disp(m: str, a: float) -> Disparity:
        return _disparity(m, point[m], cis[m], eligible, names, a, pairwise=True)

    sel, tpr = disp("selection_rate", alpha), disp("tpr", alpha)
    t2, f2 = disp("tpr", alpha / 2.0).difference, disp("fpr", alpha / 2.0).difference
    if math.isnan(t2.value) or math.isnan(f2.value):
        eo = MetricValue(math.nan, math.nan, math.nan, t2.reason or f2.reason)
    else:
        eo = MetricValue(
            max(t2.value, f2.value), max(t2.ci_low, f2.ci_low), max(t2.ci_high, f2.ci_high), None
        )
    return {
        "demographic_parity_difference": sel.difference,
        "demographic_parity_ratio": sel.ratio,
        "equalized_odds_difference": eo,
        "equal_opportunity_difference": tpr.difference,
    }


def _worst_over_classes(per_class: list[dict[str, MetricValue]]) -> dict[str, MetricValue]:
    """Top-level summaries of a multiclass target: the maximum over classes. Each class's
    summary was computed at level ``1 - alpha / C``, so ``[max lo, max hi]`` holds for the
    maximum with probability at least ``1 - alpha``."""
    out: dict[str, MetricValue] = {}
    for name in _SUMMARY_NAMES:
        vals = [s[name] for s in per_class]
        if any(math.isnan(v.value) for v in vals):
            reason = "undefined for at least one class (see per_class)"
            out[name] = MetricValue(math.nan, math.nan, math.nan, reason)
            continue
        out[name] = MetricValue(
            max(v.value for v in vals),
            max(v.ci_low for v in vals),
            max(v.ci_high for v in vals),
            None,
        )
    return out


def _target_summaries() -> dict[str, MetricValue]:
    return {k: MetricValue(math.nan, math.nan, math.nan, TARGET_REASON) for k in _SUMMARY_NAMES}


def _holm(p: np.ndarray) -> np.ndarray:
    """Holm step-down adjusted p-values (NaN entries stay NaN and are not counted)."""
    out = np.full_like(p, np.nan)
    ok = np.flatnonzero(~np.isnan(p))
    m = ok.size
    if m == 0:
        return out
    order = ok[np.argsort(p[ok], kind="stable")]
    adj = np.minimum(1.0, (m - np.arange(m)) * p[order])
    out[order] = np.maximum.accumulate(adj)
    return out


def _tests(
    err_w: np.ndarray,
    tot_w: np.ndarray,
    sq_w: np.ndarray,
    eligible: np.ndarray,
    alpha: float,
) -> list[GroupTest | None]:
    """Two-proportion z-test, group vs the rest of the attribute, on the error rate."""
    G = len(tot_w)
    E, W, Q = err_w.sum(), tot_w.sum(), sq_w.sum()
    stat = np.full(G, np.nan)
    pval = np.full(G, np.nan)
    reasons: list[str | None] = [None] * G
    for g in range(G):
        if not eligible[g]:
            reasons[g] = "not tested: group below min_group_size"
            continue
        wr, er, qr = W - tot_w[g], E - err_w[g], Q - sq_w[g]
        if wr <= 0 or tot_w[g] <= 0:
            reasons[g] = "not tested: no rows outside this group" if wr <= 0 else "no weight"
            continue
        n_g = tot_w[g] ** 2 / sq_w[g]  # Kish effective sizes (= n when unweighted)
        n_r = wr**2 / qr
        e_g, e_r = err_w[g] / tot_w[g], er / wr
        pooled = (err_w[g] + er) / (tot_w[g] + wr)
        se = math.sqrt(pooled * (1.0 - pooled) * (1.0 / n_g + 1.0 / n_r))
        if se <= 0:
            stat[g], pval[g] = 0.0, 1.0
        else:
            z = (e_g - e_r) / se
            stat[g], pval[g] = z, math.erfc(abs(z) / math.sqrt(2.0))
    adj = _holm(pval)
    out: list[GroupTest | None] = []
    for g in range(G):
        out.append(
            GroupTest(
                TEST_METRIC,
                float(stat[g]),
                float(pval[g]),
                float(adj[g]),
                bool(adj[g] < alpha) if not math.isnan(adj[g]) else False,
                reasons[g],
            )
        )
    return out


# ----------------------------------------------------------------------------------------------
# views: the overall population, each attribute, the intersection
# ----------------------------------------------------------------------------------------------


@dataclass
class _View:
    name: str
    columns: tuple[str, ...]
    intersection: bool
    names: list[str]
    keys: list[tuple[str, ...]]
    agg: np.ndarray  # (S, G) 0/1 membership of strata in groups
    empty: list[str]


def _aggregate(T: np.ndarray, agg: np.ndarray) -> np.ndarray:
    """Sum strata into groups: T (..., S, C, C) -> (..., G, C, C)."""
    return np.moveaxis(np.tensordot(T, agg, axes=([-3], [0])), -1, -3)


def _build_attribute(
    view: _View,
    point: Mapping[str, np.ndarray],
    cis: Mapping[str, GroupCI],
    reasons: Mapping[str, list[str | None]],
    reported: Sequence[str],
    n_g: np.ndarray,
    w_g: np.ndarray,
    insufficient: np.ndarray,
    tests: list[GroupTest | None] | None,
    *,
    ci: float,
    summary: bool,
    proportions: bool,
    target_related: bool,
) -> AttributeResult:
    """Assemble one attribute's groups, disparities and (binary) summary."""
    G = len(view.names)
    alpha = 1.0 - ci
    eligible = ~insufficient
    shown = [m for m in reported if not target_related or m in TARGET_METRICS]
    bounds = {m: cis[m](alpha) for m in shown}
    nan_target = MetricValue(math.nan, math.nan, math.nan, TARGET_REASON)
    groups = []
    for g in range(G):
        metrics = {
            m: (
                _value(float(point[m][g]), bounds[m][0][g], bounds[m][1][g], reasons[m][g])
                if m in bounds
                else nan_target
            )
            for m in reported
        }
        groups.append(
            GroupResult(
                view.names[g],
                view.keys[g],
                int(n_g[g]),
                float(w_g[g]),
                bool(insufficient[g]),
                metrics,
                None if tests is None else tests[g],
            )
        )
    disparities = {
        m: _disparity(
            m,
            point[m],
            cis[m],
            eligible,
            view.names,
            alpha,
            pairwise=proportions and m != "auc",
        )
        for m in shown
    }
    summaries: dict[str, MetricValue] = {}
    if summary:
        summaries = (
            _target_summaries()
            if target_related
            else _summaries(point, cis, eligible, view.names, alpha)
        )
    return AttributeResult(
        view.name,
        view.columns,
        view.intersection,
        tuple(groups),
        disparities,
        summaries,
        tuple(view.names[g] for g in range(G) if insufficient[g]),
        tuple(view.empty),
        target_related,
    )


# ----------------------------------------------------------------------------------------------
# evaluate
# ----------------------------------------------------------------------------------------------


def _check_int(value: Any, message: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise InvalidInputError(message.format(value=value))
    return int(value)

# ----------------------------------------------------------------------------------------------
# the steps of evaluate
# ----------------------------------------------------------------------------------------------


@dataclass
class _Inputs:
    """The encoded inputs: labels as codes, weights, scores, attributes, what is reported."""

    n: int
    attrs: list[_Attribute]
    w: np.ndarray | None
    score: np.ndarray | None
    cls: list[Any]
    multiclass: bool
    C: int
    positive: Any
    yt_i: np.ndarray
    yp_i: np.ndarray
    pos_text: str
    metrics: list[str]
    reported_top: list[str]
    reported_ovr: list[str]
    want_auc: bool
    targets: set[str]


@dataclass
class _Strata:
    """Rows coded by their finest intersection (stratum), and the views that sum strata."""

    stratum: np.ndarray
    S: int
    views: list[_View]
    overall: _View


@dataclass
class _Counts:
    """Confusion matrices per stratum, of weights and of squared weights, and row counts."""

    T0: np.ndarray
    T0sq: np.ndarray
    n_s: np.ndarray
    wsq_s: np.ndarray


@dataclass
class _Auc:
    stats: dict[str, _AucStats]
    reasons: dict[str, list[str | None]]


@dataclass
class _Views:
    overall: dict[str, MetricValue]
    attributes: list[AttributeResult]
    per_class: PerClassResult | None
    small: list[str]


def _check_options(
    ci: Any, n_boot: Any, min_group_size: Any, random_state: Any, metrics: Any, y_score: Any
) -> tuple[float, int, int, int, list[str] | None]:
    """Step 1: the options, checked before any data is touched."""
    if isinstance(ci, bool) or not isinstance(ci, (int, float)) or not 0.0 < float(ci) < 1.0:
        raise InvalidInputError(D.BAD_CI.format(ci=ci))
    ci = float(ci)
    n_boot = _check_int(n_boot, D.BAD_N_BOOT)
    min_group_size = _check_int(min_group_size, D.BAD_MIN_GROUP_SIZE)
    random_state = _check_int(random_state, D.BAD_RANDOM_STATE)
    allowed = list(D.BINARY_METRICS)
    if metrics is not None:
        metrics = [metrics] if isinstance(metrics, str) else list(metrics)
        if not metrics:
            raise InvalidInputError(D.EMPTY_METRICS.format(allowed=allowed))
        for m in metrics:
            if m not in D.METRIC_DIRECTIONS:
                raise InvalidInputError(D.UNKNOWN_METRIC.format(name=m, allowed=allowed))
        if "auc" in metrics and y_score is None:
            raise InvalidInputError(D.AUC_NEEDS_SCORE)
    return ci, n_boot, min_group_size, random_state, metrics


def _encode_inputs(
    y_true: Any,
    y_pred: Any,
    sensitive_features: Any,
    sample_weight: Any,
    y_score: Any,
    classes: Sequence[Any] | None,
    pos_label: Any,
    metrics: list[str] | None,
    target_attributes: Sequence[str],
) -> _Inputs:
    """Step 2: validate and encode labels, attributes, weights and scores."""
    yt = _as_1d(y_true, "y_true", None)
    n = yt.shape[0]
    if n == 0:
        raise InvalidInputError(D.EMPTY_INPUT)
    yp = _as_1d(y_pred, "y_pred", n)
    attrs = _sensitive_columns(sensitive_features, n)
    if isinstance(target_attributes, str):
        target_attributes = (target_attributes,)
    known = [a.name for a in attrs]
    for t in target_attributes:
        if t not in known:
            raise InvalidInputError(D.UNKNOWN_TARGET_ATTRIBUTE.format(name=t, known=known))
    w: np.ndarray | None = None
    if sample_weight is not None:
        w = _as_1d(sample_weight, "sample_weight", n).astype(float)
        bad = ~np.isfinite(w) | (w < 0)
        if bad.any():
            i = _first_bad(bad)
            raise InvalidInputError(
                D.BAD_WEIGHT.format(
                    count=int(bad.sum()), row=i, value=_py(np.asarray(sample_weight)[i])
                )
            )
    score: np.ndarray | None = None
    if y_score is not None:
        score = _as_1d(y_score, "y_score", n).astype(float)
        bad = ~np.isfinite(score)
        if bad.any():
            i = _first_bad(bad)
            raise InvalidInputError(
                D.BAD_SCORE.format(count=int(bad.sum()), row=i, value=_py(score[i]))
            )

    if pos_label is not None:
        pos_label = _py(pos_label)
    cls, yt_c, yp_c = _encode_labels(yt, yp, classes, pos_label)
    multiclass = len(cls) > 2
    if multiclass and score is not None:
        raise InvalidInputError(D.SCORE_MULTICLASS.format(k=len(cls), classes=cls))
    if multiclass:
        C = len(cls)
        positive: Any = None
        yt_i, yp_i = yt_c, yp_c
    else:
        C = 2
        positive = pos_label if pos_label is not None else cls[-1]
        p_idx = cls.index(positive)
        yt_i = (yt_c == p_idx).astype(np.int64)
        yp_i = (yp_c == p_idx).astype(np.int64)
    pos_text = repr(positive)

    if metrics is None:
        metrics = [m for m in D.BINARY_METRICS if m != "auc" or score is not None]
    if multiclass:
        reported_top = [m for m in metrics if m in D.MULTICLASS_GROUP_METRICS]
        reported_ovr = [m for m in metrics if m not in ("accuracy", "error_rate", "auc")]
    else:
        reported_top = list(metrics)
        reported_ovr = []
    want_auc = score is not None and "auc" in metrics
    return _Inputs(
        n=n,
        attrs=attrs,
        w=w,
        score=score,
        cls=cls,
        multiclass=multiclass,
        C=C,
        positive=positive,
        yt_i=yt_i,
        yp_i=yp_i,
        pos_text=pos_text,
        metrics=list(metrics),
        reported_top=reported_top,
        reported_ovr=reported_ovr,
        want_auc=want_auc,
        targets=set(target_attributes),
    )


def _strata(inp: _Inputs, intersections: bool) -> _Strata:
    """Step 3: code every row by its finest intersection; one view per attribute, one for the
    intersection of all of them, one for the overall population (views sum strata)."""
    attrs, n = inp.attrs, inp.n
    radix = [len(a.names) for a in attrs]
    combined = np.zeros(n, dtype=np.int64)
    for a in attrs:
        combined = combined * len(a.names) + a.codes
    total_cells = int(np.prod(radix))
    if total_cells <= 4 * n + 1_000_000:
        present = np.flatnonzero(np.bincount(combined, minlength=total_cells))
        lookup = np.full(total_cells, -1, dtype=np.int64)
        lookup[present] = np.arange(len(present))
        stratum = lookup[combined]
    else:
        present, stratum = np.unique(combined, return_inverse=True)
        stratum = stratum.astype(np.int64).ravel()
    S = len(present)
    digits = np.zeros((S, len(attrs)), dtype=np.int64)
    rem = present.copy()
    for j in range(len(attrs) - 1, -1, -1):
        digits[:, j] = rem % radix[j]
        rem //= radix[j]

    views: list[_View] = []
    for j, a in enumerate(attrs):
        agg = np.zeros((S, len(a.names)))
        agg[np.arange(S), digits[:, j]] = 1.0
        used = set(digits[:, j].tolist())
        empty = [a.names[k] for k in range(len(a.names)) if k not in used]
        keep = [k for k in range(len(a.names)) if k in used]
        views.append(
            _View(
                a.name,
                (a.name,),
                False,
                [a.names[k] for k in keep],
                [(a.names[k],) for k in keep],
                agg[:, keep],
                empty,
            )
        )
    if intersections and len(attrs) > 1:
        keys = [tuple(attrs[j].names[digits[s, j]] for j in range(len(attrs))) for s in range(S)]
        order = sorted(range(S), key=lambda s: keys[s])
        agg = np.zeros((S, S))
        agg[order, np.arange(S)] = 1.0
        total = int(np.prod(radix))
        empty_names: list[str] = []
        if total - S <= 100_000:
            present_set = set(present.tolist())
            for code in range(total):
                if code not in present_set:
                    rem_c, parts = code, []
                    for j in range(len(attrs) - 1, -1, -1):
                        parts.append(attrs[j].names[rem_c % radix[j]])
                        rem_c //= radix[j]
                    empty_names.append(" x ".join(reversed(parts)))
            empty_names.sort()
        else:  # pragma: no cover - absurdly many combinations; listed as a count instead
            empty_names = [f"{total - S} empty combinations (too many to list)"]
        views.append(
            _View(
                " x ".join(a.name for a in attrs),
                tuple(a.name for a in attrs),
                True,
                [" x ".join(keys[s]) for s in order],
                [keys[s] for s in order],
                agg,
                empty_names,
            )
        )
    overall_view = _View("overall", (), False, ["overall"], [()], np.ones((S, 1)), [])
    return _Strata(stratum, S, views, overall_view)


def _confusion_counts(inp: _Inputs, st: _Strata) -> _Counts:
    """Step 4: one bincount gives every stratum's confusion matrix."""
    yt_i, yp_i, C, w = inp.yt_i, inp.yp_i, inp.C, inp.w
    stratum, S = st.stratum, st.S
    cell = yt_i * C + yp_i
    CC = C * C
    T0 = np.bincount(stratum * CC + cell, weights=w, minlength=S * CC).reshape(S, C, C)
    T0sq = T0
    if w is not None:
        T0sq = np.bincount(stratum * CC + cell, weights=w * w, minlength=S * CC).reshape(S, C, C)
    n_s = np.bincount(stratum, minlength=S)
    wsq_s = np.bincount(stratum, weights=None if w is None else w * w, minlength=S).astype(float)
    return _Counts(T0, T0sq, n_s, wsq_s)


def _auc(inp: _Inputs, st: _Strata) -> _Auc:
    """Step 5: AUC per group of every view with its DeLong variance (binary with scores).

    The rows are sorted by score once. When there are few distinct scores (at most one per row
    over the strata: rounded scores, predicted labels), rows with the same score and stratum
    are merged into one entry first. Each view then needs one stable sort by group code.
    """
    stats: dict[str, _AucStats] = {}
    reasons: dict[str, list[str | None]] = {}
    score = inp.score
    if inp.want_auc and score is not None:
        order = np.argsort(score, kind="stable")
        sc = score[order]
        y = inp.yt_i[order].astype(float)
        w = np.ones(inp.n) if inp.w is None else inp.w[order]
        pos = w * y
        neg = w - pos
        pos_sq, neg_sq = (pos, neg) if inp.w is None else (w * pos, w * neg)
        stratum = st.stratum[order]
        new = np.ones(inp.n, dtype=bool)
        new[1:] = sc[1:] != sc[:-1]
        level = np.cumsum(new) - 1
        cells = (int(level[-1]) + 1) * st.S
        if cells <= inp.n:  # merge rows of one (score, stratum): cells come out in score order
            key = level * st.S + stratum
            pos, neg, pos_sq, neg_sq = (
                np.bincount(key, weights=x, minlength=cells) for x in (pos, neg, pos_sq, neg_sq)
            )
            keep = np.flatnonzero(np.bincount(key, minlength=cells))
            pos, neg, pos_sq, neg_sq = pos[keep], neg[keep], pos_sq[keep], neg_sq[keep]
            sc, stratum = sc[new][keep // st.S], keep % st.S
        for v in [st.overall, *st.views]:
            G = len(v.names)
            g = np.argmax(v.agg, axis=1)[stratum]
            stats[v.name] = _auc_stats(g, sc, pos, neg, pos_sq, neg_sq, G, score_sorted=True)
            reasons[v.name] = _auc_reasons(
                np.bincount(g, weights=pos, minlength=G),
                np.bincount(g, weights=neg, minlength=G),
                inp.pos_text,
            )
    return _Auc(stats, reasons)


def _evaluate_views(
    inp: _Inputs, st: _Strata, counts: _Counts, auc: _Auc, *, ci: float, min_group_size: int
) -> _Views:
    """Step 6: per view, the rates with intervals, disparities, summaries and tests; for a
    multiclass target also one-vs-rest per class and macro averages."""
    multiclass, C, cls, w, pos_text, want_auc = (
        inp.multiclass, inp.C, inp.cls, inp.w, inp.pos_text, inp.want_auc
    )
    reported_top, reported_ovr = inp.reported_top, inp.reported_ovr
    overall_view, views = st.overall, st.views
    T0, T0sq, n_s, wsq_s = counts.T0, counts.T0sq, counts.n_s, counts.wsq_s
    alpha = round(1.0 - ci, 12)
    targets = inp.targets

    def top_estimates(
        T: np.ndarray, Tsq: np.ndarray
    ) -> tuple[dict[str, np.ndarray], dict[str, GroupCI]]:
        if multiclass:
            tot, tot_sq = T.sum(axis=(-1, -2)), Tsq.sum(axis=(-1, -2))
            correct = np.trace(T, axis1=-2, axis2=-1)
            parts = {"accuracy": (correct, tot), "error_rate": (tot - correct, tot)}
            point, cis, _ = _proportions(parts, {"accuracy": tot_sq, "error_rate": tot_sq})
            return point, cis
        point, cis, _ = _binary_proportions(_cells(T), _cells(Tsq))
        return point, cis

    small: list[str] = []
    attributes: list[AttributeResult] = []
    overall: dict[str, MetricValue] = {}
    per_class_attrs: list[list[AttributeResult]] = [[] for _ in range(C)] if multiclass else []
    per_class_overall: list[dict[str, MetricValue]] = [{} for _ in range(C)] if multiclass else []
    macro_attrs: list[AttributeResult] = []
    macro_overall: dict[str, MetricValue] = {}
    mc_summaries: dict[str, dict[str, MetricValue]] = {}

    for v in [overall_view, *views]:
        Tg = _aggregate(T0, v.agg)
        Tg_sq = Tg if w is None else _aggregate(T0sq, v.agg)
        n_g = v.agg.T @ n_s
        w_g = Tg.sum(axis=(-1, -2))
        sq_g = v.agg.T @ wsq_s
        insufficient = n_g < min_group_size
        is_overall = v is overall_view
        target_related = bool(targets & set(v.columns))
        point, cis = top_estimates(Tg, Tg_sq)
        if multiclass:
            tot = Tg.sum(axis=(-1, -2))
            empty_reason = "no rows (or total sample_weight 0) in this group"
            reasons = {m: [empty_reason if t <= 0 else None for t in tot] for m in point}
        else:
            reasons = _binary_reasons(*_cells(Tg), pos_text)
        if want_auc:
            point["auc"] = auc.stats[v.name].point
            reasons["auc"] = auc.reasons[v.name]
            cis["auc"] = _auc_ci(auc.stats[v.name])
        if is_overall:
            for m in reported_top:
                lo, hi = cis[m](alpha)
                overall[m] = _value(float(point[m][0]), lo[0], hi[0], reasons[m][0])
        else:
            small += [f"{v.name}={g}" for g, s in zip(v.names, insufficient, strict=True) if s]
            correct = np.trace(Tg, axis1=-2, axis2=-1)
            tests = _tests(w_g - correct, w_g, sq_g, ~insufficient, alpha)
            attributes.append(
                _build_attribute(
                    v,
                    point,
                    cis,
                    reasons,
                    reported_top,
                    n_g,
                    w_g,
                    insufficient,
                    tests,
                    ci=ci,
                    summary=not multiclass,
                    proportions=True,
                    target_related=target_related,
                )
            )
        if not multiclass:
            continue
        # ---- multiclass: one-vs-rest per class, macro averages ----
        ovr_point: list[dict[str, np.ndarray]] = []
        ovr_neff: list[dict[str, np.ndarray]] = []
        class_summaries: list[dict[str, MetricValue]] = []
        for k in range(C):
            cells_k = _ovr_cells(Tg, k)
            pk, cik, nk = _binary_proportions(cells_k, _ovr_cells(Tg_sq, k))
            ovr_point.append(pk)
            ovr_neff.append(nk)
            rsn = _binary_reasons(*cells_k, repr(cls[k]))
            if is_overall:
                per_class_overall[k] = {}
                for m in reported_ovr:
                    lo, hi = cik[m](alpha)
                    per_class_overall[k][m] = _value(float(pk[m][0]), lo[0], hi[0], rsn[m][0])
                continue
            per_class_attrs[k].append(
                _build_attribute(
                    v,
                    pk,
                    cik,
                    rsn,
                    reported_ovr,
                    n_g,
                    w_g,
                    insufficient,
                    None,
                    ci=ci,
                    summary=True,
                    proportions=True,
                    target_related=target_related,
                )
            )
            if not target_related:
                class_summaries.append(_summaries(pk, cik, ~insufficient, v.names, alpha / C))
        if not is_overall:
            mc_summaries[v.name] = (
                _target_summaries() if target_related else _worst_over_classes(class_summaries)
            )
        macro_metrics = [m for m in D.MACRO_METRICS if m in reported_ovr]
        mp = {m: _nanmean_stack([p[m] for p in ovr_point]) for m in macro_metrics}
        mcis = {
            m: _macro_ci([p[m] for p in ovr_point], [q[m] for q in ovr_neff])
            for m in macro_metrics
        }
        none_reason = "undefined for every class in this group"
        mreasons = {m: [none_reason if np.isnan(x) else None for x in mp[m]] for m in mp}
        if is_overall:
            for m in macro_metrics:
                lo, hi = mcis[m](alpha)
                macro_overall[m] = _value(float(mp[m][0]), lo[0], hi[0], mreasons[m][0])
        else:
            macro_attrs.append(
                _build_attribute(
                    v,
                    mp,
                    mcis,
                    mreasons,
                    macro_metrics,
                    n_g,
                    w_g,
                    insufficient,
                    None,
                    ci=ci,
                    summary=False,
                    proportions=False,
                    target_related=target_related,
                )
            )

    per_class: PerClassResult | None = None
    if multiclass:
        attributes = [dataclasses.replace(a, summary=mc_summaries[a.name]) for a in attributes]
        per_class = PerClassResult(
            tuple(cls),
            tuple(
                ClassResult(cls[k], tuple(per_class_attrs[k]), per_class_overall[k])
                for k in range(C)
            ),
            ClassResult("macro", tuple(macro_attrs), macro_overall),
        )
    return _Views(overall, attributes, per_class, small)


def evaluate(
    y_true: Any,
    y_pred: Any,
    *,
    sensitive_features: Any,
    y_score: Any = None,
    sample_weight: Any = None,
    metrics: Sequence[str] | None = None,
    intersections: bool = True,
    n_boot: int = 1000,
    ci: float = 0.95,
    min_group_size: int = 30,
    random_state: int = 0,
    classes: Sequence[Any] | None = None,
    pos_label: Any = None,
    target_attributes: Sequence[str] = (),
) -> FairnessResult:
    """Per-group and intersectional metrics, disparities and tests, with confidence intervals.

    For every sensitive attribute, and for the intersection of all of them, each group gets its
    size ``n`` and every metric (see ``METRIC_DEFINITIONS``) with a continuity-corrected Wilson
    score interval (AUC: DeLong's variance on the logit scale, hulled with a Hanley-McNeil score
    interval; see the module docstring and ``FairnessResult.interval_method``). Every interval
    is closed-form: nothing is resampled. Disparities between groups (``max - min``,
    ``min / max``, the worst group) and the fairness summaries (demographic parity
    difference/ratio, equalized odds difference, equal opportunity difference, as fairlearn
    defines them) get simultaneous intervals that cover the true gap, 0 included, at the
    nominal level or above.

    How to read the values: rates are in [0, 1]; a difference of 0 (ratio of 1) means all
    compared groups are equal. ``METRIC_DIRECTIONS`` says which way is worse for each metric.
    An undefined rate (for example TPR of a group without positives) is NaN with a ``reason``,
    never 0. Groups with fewer than ``min_group_size`` rows keep their numbers and are flagged
    ``insufficient``; they are left out of disparities and tests (a ``SmallGroupWarning`` says
    so). Intersections with no rows are listed in ``empty_groups``. No row is ever dropped.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n,)
        True and predicted labels (any sortable labels; binary or multiclass).
    sensitive_features : DataFrame, dict name -> array-like, Series, or array-like
        One or more sensitive attributes, one value per row. Missing values are an error.
        Unused categories of a categorical column are listed as empty groups.
    y_score : array-like of shape (n,), optional
        Score of the positive label (binary only); enables ``"auc"``.
    sample_weight : array-like of shape (n,), optional
        Non-negative row weights; every metric and test is weighted. ``n`` stays a row count.
    metrics : sequence of str, optional
        Subset of ``BINARY_METRICS``; default all (``"auc"`` only when ``y_score`` is given).
        Multiclass targets report accuracy and error rate per group and the other metrics
        one-vs-rest per class under ``per_class``.
    intersections : bool, default True
        Also evaluate the intersection of all attributes (when there are at least two).
    n_boot : int, default 1000
        Not used: recorded in the result and otherwise ignored. It set the replicates of the
        AUC bootstrap, which closed-form AUC intervals replaced (their simulated coverage is
        in ``docs/intervals.md``); kept so that callers passing it keep working.
    ci : float, default 0.95
        Nominal coverage of the intervals; the tests use ``alpha = 1 - ci``.
    min_group_size : int, default 30
    random_state : int, default 0
        Recorded in the result; nothing in ``evaluate`` is random, so the same inputs always
        give the same result.
    classes : sequence, optional
        The labels in order; default the sorted labels found in ``y_true`` and ``y_pred``.
    pos_label : optional
        Positive label of a binary target; default the last class (1 for {0, 1}).
    target_attributes : sequence of str, default ()
        Sensitive attributes that are the target (or a function of it), e.g. ``("gender",)``
        when predicting gender. For them, and every intersection including them, only accuracy
        and error rate are computed; the other metrics and the summaries are NaN with
        ``reason == TARGET_REASON``, never a disparity.

    Returns
    -------
    FairnessResult

    Raises
    ------
    InvalidInputError
        Empty input, length mismatch, unknown metric, ``ci`` outside (0, 1), missing values,
        negative or non-finite weights or scores, labels outside ``classes``, a
        ``target_attributes`` name that is not a sensitive attribute.

    Examples
    --------
    >>> r = evaluate([0, 1, 1, 0], [0, 1, 0, 0], sensitive_features=["a", "a", "b", "b"],
    ...              n_boot=0, min_group_size=1)
    >>> [(g.group, g.metrics["tpr"].value) for g in r.attributes[0].groups]
    [('a', 1.0), ('b', 0.0)]
    """
    ci, n_boot, min_group_size, random_state, metrics = _check_options(
        ci, n_boot, min_group_size, random_state, metrics, y_score
    )
    inp = _encode_inputs(
        y_true,
        y_pred,
        sensitive_features,
        sample_weight,
        y_score,
        classes,
        pos_label,
        metrics,
        target_attributes,
    )
    st = _strata(inp, intersections)
    counts = _confusion_counts(inp, st)
    auc = _auc(inp, st)
    out = _evaluate_views(inp, st, counts, auc, ci=ci, min_group_size=min_group_size)
    small = out.small
    if small:
        shown = ", ".join(small[:10]) + (" ..." if len(small) > 10 else "")
        warnings.warn(
            f"{len(small)} groups have fewer than min_group_size={min_group_size} rows ({shown}); "
            "their metrics are reported with insufficient=true and left out of disparities.",
            SmallGroupWarning,
            stacklevel=2,
        )

    return FairnessResult(
        task_type="multiclass" if inp.multiclass else "binary",
        classes=tuple(inp.cls),
        positive_label=inp.positive,
        n=int(inp.n),
        metrics=tuple(inp.metrics),
        ci=ci,
        n_boot=n_boot,
        bootstrap=BOOTSTRAP_DESCRIPTION,
        random_state=random_state,
        min_group_size=min_group_size,
        correction=CORRECTION,
        overall=out.overall,
        attributes=tuple(out.attributes),
        per_class=out.per_class,
        weighted=inp.w is not None,
        alpha=round(1.0 - ci, 12),
        interval_method=INTERVAL_METHOD,
        target_attributes=tuple(a.name for a in inp.attrs if a.name in inp.targets),
    )
