"""Per-group and intersectional fairness metrics with bootstrap confidence intervals.

A *disaggregated* metric is an ordinary metric (accuracy, true positive rate, ...) computed
separately for every group of a sensitive attribute -- and for every intersection of
attributes -- so that the groups can be compared. :func:`evaluate` computes them all at once,
with a stratified bootstrap interval for every number, the disparities between groups (with
their own intervals), a per-group significance test, and nothing dropped silently: small groups
are flagged, empty intersections are listed, undefined rates are NaN with a reason.
fairlearn's ``MetricFrame`` is the reference the point estimates agree with.
"""

from __future__ import annotations

from fairsuite.metrics._definitions import (
    BINARY_METRICS,
    MACRO_METRICS,
    METRIC_DEFINITIONS,
    METRIC_DIRECTIONS,
    MULTICLASS_GROUP_METRICS,
)
from fairsuite.metrics._evaluate import BOOTSTRAP_DESCRIPTION, evaluate
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

__all__ = [
    # core
    "evaluate",
    # results
    "FairnessResult",
    "AttributeResult",
    "GroupResult",
    "GroupTest",
    "Disparity",
    "MetricValue",
    "ClassResult",
    "PerClassResult",
    # vocabulary
    "BINARY_METRICS",
    "MULTICLASS_GROUP_METRICS",
    "MACRO_METRICS",
    "METRIC_DIRECTIONS",
    "METRIC_DEFINITIONS",
    "BOOTSTRAP_DESCRIPTION",
]
