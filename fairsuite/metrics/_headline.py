"""The one headline of a result: the worst group and the largest gaps, by one documented rule.

The terminal summary, the HTML report and the CI gate all read this headline, so they cannot
disagree about which group is worst or which gap is largest.

The rule (``HEADLINE_RULE``)
----------------------------
- **Worst group**: over every attribute and intersection, the groups with at least
  ``min_group_size`` rows and a defined accuracy; the one with the lowest accuracy. Ties: the
  attribute listed first in the result (single attributes, then the intersection), then the
  group name.
- **Largest gaps**: the ``difference`` (max - min over the compared groups) of the error metrics
  ``HEADLINE_GAP_METRICS`` (accuracy -- the same gap as error rate -- FPR and FNR) of every
  attribute and intersection; for an attribute that is the target only accuracy (rates
  conditioned on the target are not meaningful there). Undefined gaps are left out. Sorted by
  the gap, largest first; ties: attribute order in the result, then metric order. The first
  ``k`` (default 5) are listed.
- **Largest accuracy gap**: the first accuracy gap by the same order (any attribute, including
  one that is the target): what a compare table shows per cell.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fairsuite.metrics._result import FairnessResult, MetricValue

__all__ = [
    "headline",
    "Headline",
    "HeadlineGroup",
    "HeadlineGap",
    "HEADLINE_RULE",
    "HEADLINE_GAP_METRICS",
]

HEADLINE_GAP_METRICS: tuple[str, ...] = ("accuracy", "fpr", "fnr")
HEADLINE_RULE = (
    "worst group: lowest accuracy among groups with at least min_group_size rows (ties: "
    "attribute order, then group name); largest gaps: max - min of accuracy, FPR and FNR per "
    "attribute (accuracy only for an attribute that is the target), largest first (ties: "
    "attribute order, then metric order); largest accuracy gap: the first accuracy gap in that "
    "order"
)


@dataclass(frozen=True)
class HeadlineGroup:
    """The worst group: its attribute, name, size and accuracy with interval."""

    attribute: str
    group: str
    n: int
    metric: str
    value: MetricValue

    def to_dict(self) -> dict[str, Any]:
        """Plain data."""
        return {
            "attribute": self.attribute,
            "group": self.group,
            "n": self.n,
            "metric": self.metric,
            "value": self.value.to_dict(),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> HeadlineGroup:
        """Inverse of :meth:`to_dict`."""
        return cls(
            d["attribute"], d["group"], int(d["n"]), d["metric"], MetricValue.from_dict(d["value"])
        )


@dataclass(frozen=True)
class HeadlineGap:
    """One gap: ``difference`` (max - min) of ``metric`` between the groups of ``attribute``."""

    attribute: str
    metric: str
    difference: MetricValue
    worst_group: str | None
    best_group: str | None
    n_worst: int | None
    n_best: int | None

    def to_dict(self) -> dict[str, Any]:
        """Plain data."""
        return {
            "attribute": self.attribute,
            "metric": self.metric,
            "difference": self.difference.to_dict(),
            "worst_group": self.worst_group,
            "best_group": self.best_group,
            "n_worst": self.n_worst,
            "n_best": self.n_best,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> HeadlineGap:
        """Inverse of :meth:`to_dict`."""
        return cls(
            d["attribute"],
            d["metric"],
            MetricValue.from_dict(d["difference"]),
            d.get("worst_group"),
            d.get("best_group"),
            d.get("n_worst"),
            d.get("n_best"),
        )


@dataclass(frozen=True)
class Headline:
    """Overall accuracy, the worst group and the largest gaps, chosen by ``HEADLINE_RULE``."""

    n: int
    overall_accuracy: MetricValue
    worst_group: HeadlineGroup | None
    gaps: tuple[HeadlineGap, ...]
    accuracy_gap: HeadlineGap | None = None
    rule: str = HEADLINE_RULE

    def to_dict(self) -> dict[str, Any]:
        """Plain data."""
        return {
            "n": self.n,
            "overall_accuracy": self.overall_accuracy.to_dict(),
            "worst_group": None if self.worst_group is None else self.worst_group.to_dict(),
            "gaps": [g.to_dict() for g in self.gaps],
            "accuracy_gap": None if self.accuracy_gap is None else self.accuracy_gap.to_dict(),
            "rule": self.rule,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Headline:
        """Inverse of :meth:`to_dict`."""
        return cls(
            int(d["n"]),
            MetricValue.from_dict(d["overall_accuracy"]),
            None if d.get("worst_group") is None else HeadlineGroup.from_dict(d["worst_group"]),
            tuple(HeadlineGap.from_dict(g) for g in d.get("gaps", ())),
            None if d.get("accuracy_gap") is None else HeadlineGap.from_dict(d["accuracy_gap"]),
            d.get("rule", HEADLINE_RULE),
        )


def headline(result: FairnessResult | Mapping[str, Any], *, k: int = 5) -> Headline:
    """The headline of a result by ``HEADLINE_RULE`` (see the module docstring).

    Parameters
    ----------
    result : FairnessResult or its ``to_dict()``
        A plain-data result may lack fields (older or hand-written documents): what is missing
        is simply not a candidate.
    k : int, default 5
        How many gaps to list.

    Returns
    -------
    Headline
    """
    d = result.to_dict() if isinstance(result, FairnessResult) else result
    nan = MetricValue(math.nan, math.nan, math.nan, "accuracy not measured")

    def value(mv: Any) -> MetricValue | None:
        if not isinstance(mv, Mapping) or mv.get("value") is None:
            return None
        v = MetricValue.from_dict({"ci_low": None, "ci_high": None, **mv})
        return None if math.isnan(v.value) else v

    worst: tuple[tuple[float, int, str], HeadlineGroup] | None = None
    gaps: list[tuple[tuple[float, int, int], HeadlineGap]] = []
    for ai, attr in enumerate(d.get("attributes") or []):
        name = str(attr.get("name"))
        groups = [g for g in attr.get("groups") or [] if isinstance(g, Mapping)]
        sizes = {str(g.get("group")): g.get("n") for g in groups}
        for g in groups:
            acc = value((g.get("metrics") or {}).get("accuracy"))
            if g.get("insufficient") or acc is None:
                continue
            key = (acc.value, ai, str(g.get("group")))
            if worst is None or key < worst[0]:
                n = int(g.get("n") or 0)
                worst = (key, HeadlineGroup(name, str(g.get("group")), n, "accuracy", acc))
        target = bool(attr.get("target_related"))
        disparities = attr.get("disparities") or {}
        for mi, metric in enumerate(HEADLINE_GAP_METRICS):
            if target and metric != "accuracy":
                continue
            disp = disparities.get(metric)
            diff = value(disp.get("difference")) if isinstance(disp, Mapping) else None
            if diff is None:
                continue
            w, b = disp.get("worst_group"), disp.get("best_group")
            gap = HeadlineGap(
                name,
                metric,
                diff,
                None if w is None else str(w),
                None if b is None else str(b),
                sizes.get(str(w)) if w is not None else None,
                sizes.get(str(b)) if b is not None else None,
            )
            gaps.append(((-diff.value, ai, mi), gap))
    gaps.sort(key=lambda t: t[0])
    accuracy_gaps = [g for _, g in gaps if g.metric == "accuracy"]
    overall = value((d.get("overall") or {}).get("accuracy"))
    return Headline(
        n=int(d.get("n") or 0),
        overall_accuracy=overall if overall is not None else nan,
        worst_group=None if worst is None else worst[1],
        gaps=tuple(g for _, g in gaps[:k]),
        accuracy_gap=accuracy_gaps[0] if accuracy_gaps else None,
    )
