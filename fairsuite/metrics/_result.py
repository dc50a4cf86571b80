"""The result of :func:`fairsuite.metrics.evaluate`: frozen dataclasses that are plain data.

``FairnessResult.to_dict()`` gives JSON-able data (NaN becomes ``None``; write it with
:func:`fairsuite._io.dumps_json`), and ``FairnessResult.from_dict()`` reads it back without loss:
``from_dict(d).to_dict() == d``. The HTML report and the CI gate are both built from ``to_dict()``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "MetricValue",
    "GroupTest",
    "GroupResult",
    "Disparity",
    "AttributeResult",
    "ClassResult",
    "PerClassResult",
    "FairnessResult",
]


def _f(x: float | None) -> float | None:
    """Float for JSON: NaN/inf -> None."""
    if x is None:
        return None
    x = float(x)
    return None if math.isnan(x) or math.isinf(x) else x


def _nan(x: Any) -> float:
    """Float from JSON: None -> NaN."""
    return math.nan if x is None else float(x)


@dataclass(frozen=True)
class MetricValue:
    """A point estimate with its confidence interval.

    Attributes
    ----------
    value : float
        The estimate; NaN when undefined (then ``reason`` says why). Never a silent 0.
    ci_low, ci_high : float
        The interval's ends (they contain ``value``); NaN only when the value is undefined
        (``reason`` then says why).
    reason : str or None
        Why the value or the interval is missing; ``None`` when both are there.
    """

    value: float
    ci_low: float = math.nan
    ci_high: float = math.nan
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain data: ``{"value", "ci_low", "ci_high", "reason"}`` with NaN as ``None``."""
        return {
            "value": _f(self.value),
            "ci_low": _f(self.ci_low),
            "ci_high": _f(self.ci_high),
            "reason": self.reason,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> MetricValue:
        """Inverse of :meth:`to_dict`."""
        return cls(_nan(d["value"]), _nan(d["ci_low"]), _nan(d["ci_high"]), d.get("reason"))


@dataclass(frozen=True)
class GroupTest:
    """Two-sided test of "this group's metric differs from everyone else's" (group vs rest).

    Attributes
    ----------
    metric : str
        The metric tested (``"error_rate"``).
    statistic : float
        The z statistic of a two-proportion z-test (pooled), with Kish effective sample sizes
        when rows are weighted; positive means the group's rate is higher than the rest's.
    p_value, p_adjusted : float
        Raw and multiple-comparison adjusted p-values (the correction is named in the result).
    significant : bool
        ``p_adjusted < alpha`` with ``alpha = 1 - ci``.
    reason : str or None
        Why the test was not run (insufficient group, no rest), else ``None``.
    """

    metric: str
    statistic: float
    p_value: float
    p_adjusted: float
    significant: bool
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain data."""
        return {
            "metric": self.metric,
            "statistic": _f(self.statistic),
            "p_value": _f(self.p_value),
            "p_adjusted": _f(self.p_adjusted),
            "significant": bool(self.significant),
            "reason": self.reason,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> GroupTest:
        """Inverse of :meth:`to_dict`."""
        return cls(
            d["metric"],
            _nan(d["statistic"]),
            _nan(d["p_value"]),
            _nan(d["p_adjusted"]),
            bool(d["significant"]),
            d.get("reason"),
        )


@dataclass(frozen=True)
class GroupResult:
    """One group of one attribute (or one intersection of attributes).

    Attributes
    ----------
    group : str
        The group's name; intersections join the attribute values with ``" x "``.
    key : tuple of str
        The attribute values, one per column of the attribute.
    n : int
        Rows in the group (unweighted).
    weight : float
        Sum of ``sample_weight`` over the group (equals ``n`` when unweighted).
    insufficient : bool
        ``n < min_group_size``: the group's metrics are reported but it is left out of the
        disparities and of the significance-test family.
    metrics : dict[str, MetricValue]
    test : GroupTest or None
    """

    group: str
    key: tuple[str, ...]
    n: int
    weight: float
    insufficient: bool
    metrics: Mapping[str, MetricValue]
    test: GroupTest | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain data."""
        return {
            "group": self.group,
            "key": list(self.key),
            "n": int(self.n),
            "weight": _f(self.weight),
            "insufficient": bool(self.insufficient),
            "metrics": {k: v.to_dict() for k, v in self.metrics.items()},
            "test": None if self.test is None else self.test.to_dict(),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> GroupResult:
        """Inverse of :meth:`to_dict`."""
        return cls(
            d["group"],
            tuple(d["key"]),
            int(d["n"]),
            _nan(d["weight"]),
            bool(d["insufficient"]),
            {k: MetricValue.from_dict(v) for k, v in d["metrics"].items()},
            None if d.get("test") is None else GroupTest.from_dict(d["test"]),
        )


@dataclass(frozen=True)
class Disparity:
    """How far apart the sufficient groups are on one metric, with simultaneous intervals.

    Attributes
    ----------
    metric : str
    direction : {"higher", "lower", "neutral"}
        Which way is better for the metric (see ``METRIC_DIRECTIONS``).
    difference : MetricValue
        ``max - min`` over the compared groups; 0 means every group has the same value.
    ratio : MetricValue
        ``min / max``; 1 means parity, smaller is more disparate.
    worst_group, best_group : str or None
        Worst/best compared group by ``direction`` (lowest value is "worst" for neutral metrics).
    groups_compared : tuple of str
        The groups that entered (sufficient, with a defined value).
    """

    metric: str
    direction: str
    difference: MetricValue
    ratio: MetricValue
    worst_group: str | None
    best_group: str | None
    groups_compared: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Plain data."""
        return {
            "metric": self.metric,
            "direction": self.direction,
            "difference": self.difference.to_dict(),
            "ratio": self.ratio.to_dict(),
            "worst_group": self.worst_group,
            "best_group": self.best_group,
            "groups_compared": list(self.groups_compared),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Disparity:
        """Inverse of :meth:`to_dict`."""
        return cls(
            d["metric"],
            d["direction"],
            MetricValue.from_dict(d["difference"]),
            MetricValue.from_dict(d["ratio"]),
            d.get("worst_group"),
            d.get("best_group"),
            tuple(d.get("groups_compared", ())),
        )


@dataclass(frozen=True)
class AttributeResult:
    """All groups of one sensitive attribute, or of the intersection of all of them.

    Attributes
    ----------
    name : str
        ``"race"``, or ``"race x gender"`` for the intersection.
    columns : tuple of str
    intersection : bool
    groups : tuple of GroupResult
        Sorted by name; every non-empty group, insufficient ones included.
    disparities : dict[str, Disparity]
    summary : dict[str, MetricValue]
        ``demographic_parity_difference``, ``demographic_parity_ratio``,
        ``equalized_odds_difference``, ``equal_opportunity_difference``.
    insufficient_groups, empty_groups : tuple of str
        Groups below ``min_group_size``, and categories/intersections with no rows at all.
    target_related : bool
        The attribute is the task's target, or an intersection including it: only accuracy and
        error rate are measured; other metrics and the summaries are NaN with the reason
        ``"not meaningful: this attribute is the target"``.
    """

    name: str
    columns: tuple[str, ...]
    intersection: bool
    groups: tuple[GroupResult, ...]
    disparities: Mapping[str, Disparity]
    summary: Mapping[str, MetricValue]
    insufficient_groups: tuple[str, ...] = ()
    empty_groups: tuple[str, ...] = ()
    target_related: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Plain data."""
        return {
            "name": self.name,
            "columns": list(self.columns),
            "intersection": bool(self.intersection),
            "groups": [g.to_dict() for g in self.groups],
            "disparities": {k: v.to_dict() for k, v in self.disparities.items()},
            "summary": {k: v.to_dict() for k, v in self.summary.items()},
            "insufficient_groups": list(self.insufficient_groups),
            "empty_groups": list(self.empty_groups),
            "target_related": bool(self.target_related),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> AttributeResult:
        """Inverse of :meth:`to_dict`."""
        return cls(
            d["name"],
            tuple(d["columns"]),
            bool(d["intersection"]),
            tuple(GroupResult.from_dict(g) for g in d["groups"]),
            {k: Disparity.from_dict(v) for k, v in d["disparities"].items()},
            {k: MetricValue.from_dict(v) for k, v in d["summary"].items()},
            tuple(d.get("insufficient_groups", ())),
            tuple(d.get("empty_groups", ())),
            bool(d.get("target_related", False)),
        )


@dataclass(frozen=True)
class ClassResult:
    """One-vs-rest results for one class of a multiclass target (that class is "positive")."""

    label: Any
    attributes: tuple[AttributeResult, ...]
    overall: Mapping[str, MetricValue] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain data."""
        return {
            "class": self.label,
            "overall": {k: v.to_dict() for k, v in self.overall.items()},
            "attributes": [a.to_dict() for a in self.attributes],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ClassResult:
        """Inverse of :meth:`to_dict`."""
        return cls(
            d["class"],
            tuple(AttributeResult.from_dict(a) for a in d["attributes"]),
            {k: MetricValue.from_dict(v) for k, v in d.get("overall", {}).items()},
        )


@dataclass(frozen=True)
class PerClassResult:
    """Multiclass detail: one-vs-rest per class, and macro averages over classes."""

    classes: tuple[Any, ...]
    by_class: tuple[ClassResult, ...]
    macro: ClassResult

    def to_dict(self) -> dict[str, Any]:
        """Plain data."""
        return {
            "classes": list(self.classes),
            "by_class": [c.to_dict() for c in self.by_class],
            "macro": self.macro.to_dict(),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> PerClassResult:
        """Inverse of :meth:`to_dict`."""
        return cls(
            tuple(d["classes"]),
            tuple(ClassResult.from_dict(c) for c in d["by_class"]),
            ClassResult.from_dict(d["macro"]),
        )


@dataclass(frozen=True)
class FairnessResult:
    """Everything :func:`~fairsuite.metrics.evaluate` measured, as plain data.

    Attributes
    ----------
    task_type : {"binary", "multiclass"}
    classes : tuple
        The labels, in the order used.
    positive_label : object or None
        The positive label (binary), ``None`` for multiclass.
    n : int
        Rows evaluated (none are dropped).
    metrics : tuple of str
        The metrics reported.
    ci : float
        Nominal coverage of every interval.
    n_boot : int
        As passed to ``evaluate``; recorded only (no interval is bootstrapped).
    bootstrap : str
        One sentence on resampling: ``BOOTSTRAP_DESCRIPTION`` says none is done (documents
        written before AUC intervals became closed-form describe their AUC bootstrap).
    random_state : int
    min_group_size : int
    correction : str
        Multiple-comparison correction of the per-group tests (``"holm"``).
    overall : dict[str, MetricValue]
    attributes : tuple of AttributeResult
        One per sensitive attribute, then the intersection of all of them (if asked and there
        are at least two).
    per_class : PerClassResult or None
        Multiclass only.
    weighted : bool
        Whether ``sample_weight`` was given.
    alpha : float
        Significance level of the per-group tests, ``1 - ci``.
    interval_method : str
        One sentence naming the interval methods (rates, gaps, ratios, AUC).
    target_attributes : tuple of str
        Sensitive attributes declared to be the target (see ``AttributeResult.target_related``).
    """

    task_type: str
    classes: tuple[Any, ...]
    positive_label: Any
    n: int
    metrics: tuple[str, ...]
    ci: float
    n_boot: int
    bootstrap: str
    random_state: int
    min_group_size: int
    correction: str
    overall: Mapping[str, MetricValue]
    attributes: tuple[AttributeResult, ...]
    per_class: PerClassResult | None = None
    weighted: bool = False
    alpha: float = 0.05
    interval_method: str = ""
    target_attributes: tuple[str, ...] = ()
    schema_version: int = 2

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data (NaN as ``None``), in the documented top-level shape."""
        return {
            "schema_version": self.schema_version,
            "task_type": self.task_type,
            "classes": list(self.classes),
            "positive_label": self.positive_label,
            "n": int(self.n),
            "metrics": list(self.metrics),
            "ci": float(self.ci),
            "n_boot": int(self.n_boot),
            "bootstrap": self.bootstrap,
            "interval_method": self.interval_method,
            "target_attributes": list(self.target_attributes),
            "random_state": int(self.random_state),
            "min_group_size": int(self.min_group_size),
            "correction": self.correction,
            "alpha": float(self.alpha),
            "weighted": bool(self.weighted),
            "overall": {k: v.to_dict() for k, v in self.overall.items()},
            "attributes": [a.to_dict() for a in self.attributes],
            "per_class": None if self.per_class is None else self.per_class.to_dict(),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> FairnessResult:
        """Read back what :meth:`to_dict` wrote (also after a JSON round trip)."""
        return cls(
            task_type=d["task_type"],
            classes=tuple(d["classes"]),
            positive_label=d.get("positive_label"),
            n=int(d["n"]),
            metrics=tuple(d["metrics"]),
            ci=float(d["ci"]),
            n_boot=int(d["n_boot"]),
            bootstrap=d["bootstrap"],
            random_state=int(d["random_state"]),
            min_group_size=int(d["min_group_size"]),
            correction=d["correction"],
            overall={k: MetricValue.from_dict(v) for k, v in d["overall"].items()},
            attributes=tuple(AttributeResult.from_dict(a) for a in d["attributes"]),
            per_class=None
            if d.get("per_class") is None
            else PerClassResult.from_dict(d["per_class"]),
            weighted=bool(d.get("weighted", False)),
            alpha=float(d.get("alpha", 1.0 - float(d["ci"]))),
            interval_method=d.get("interval_method", ""),
            target_attributes=tuple(d.get("target_attributes", ())),
            schema_version=int(d.get("schema_version", 1)),
        )

    def by_group(self, attribute: str | None = None) -> Any:
        """One row per attribute x group (index ``(attribute, group)``): ``n``, ``insufficient``,
        and per metric its value with ``<metric>_ci_low`` / ``<metric>_ci_high``.

        The values of one attribute equal fairlearn's ``MetricFrame(...).by_group`` for the same
        predictions (``result.by_group("race").loc["race"]``); intersections are named
        ``"race x gender"`` with groups ``"Black x Female"``.
        """
        return _by_group_frame(self, attribute)


    def disparities(self) -> Any:
        """One row per attribute x disparity (index ``(attribute, metric)``): the gap
        (``difference`` = max - min) and the ``ratio`` (min / max) with their intervals, the worst
        and best group; the fairness summaries (demographic parity, equalized odds, ...) follow
        each attribute's metrics with their gap and interval."""
        return _disparities_frame(self)


    def _repr_html_(self) -> str:
        """Jupyter: the headline numbers and the per-group table."""
        acc = self.overall.get("accuracy")
        head = (
            f"<p><strong>FairnessResult</strong>: {self.n:,} rows, {self.task_type}, "
            f"{len(self.attributes)} attributes; intervals {self.ci:.0%}"
            + (
                f"; overall accuracy {acc.value:.3f} [{acc.ci_low:.3f}, {acc.ci_high:.3f}]"
                if acc is not None and not math.isnan(acc.value)
                else ""
            )
            + "</p>"
        )
        wanted = ("accuracy", "error_rate", "fpr", "fnr", "selection_rate")
        cols = [c for c in wanted if c in self.metrics]
        frame = self.by_group()
        keep = ["n"] + [c for m in cols for c in (m, f"{m}_ci_low", f"{m}_ci_high")]
        table = frame[[c for c in keep if c in frame.columns]].to_html(float_format="{:.3f}".format)
        return head + table

    def attribute(self, name: str) -> AttributeResult:
        """The attribute (or intersection) called ``name``; ``KeyError`` naming the known ones."""
        for a in self.attributes:
            if a.name == name:
                return a
        raise KeyError(f"no attribute {name!r}; known: {[a.name for a in self.attributes]}")


# ---- DataFrame views ------------------------------------------------------------------------


def _by_group_frame(result: FairnessResult, attribute: str | None) -> Any:
    import pandas as pd

    rows = []
    index = []
    attrs = result.attributes if attribute is None else (result.attribute(attribute),)
    for a in attrs:
        for g in a.groups:
            row: dict[str, Any] = {"n": g.n, "insufficient": g.insufficient}
            for m, mv in g.metrics.items():
                row[m] = mv.value
                row[f"{m}_ci_low"] = mv.ci_low
                row[f"{m}_ci_high"] = mv.ci_high
            rows.append(row)
            index.append((a.name, g.group))
    frame = pd.DataFrame(rows, index=pd.MultiIndex.from_tuples(index, names=["attribute", "group"]))
    return frame


def _disparities_frame(result: FairnessResult) -> Any:
    import pandas as pd

    rows = []
    for a in result.attributes:
        for m, d in a.disparities.items():
            rows.append(
                {
                    "attribute": a.name,
                    "metric": m,
                    "difference": d.difference.value,
                    "difference_ci_low": d.difference.ci_low,
                    "difference_ci_high": d.difference.ci_high,
                    "ratio": d.ratio.value,
                    "ratio_ci_low": d.ratio.ci_low,
                    "ratio_ci_high": d.ratio.ci_high,
                    "worst_group": d.worst_group,
                    "best_group": d.best_group,
                    "groups_compared": len(d.groups_compared),
                    "reason": d.difference.reason,
                }
            )
        for m, mv in a.summary.items():
            rows.append(
                {
                    "attribute": a.name,
                    "metric": m,
                    "difference": mv.value,
                    "difference_ci_low": mv.ci_low,
                    "difference_ci_high": mv.ci_high,
                    "reason": mv.reason,
                }
            )
    return pd.DataFrame(rows).set_index(["attribute", "metric"])
