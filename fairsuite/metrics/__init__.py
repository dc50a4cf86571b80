"""Per-group and intersectional fairness metrics with honest confidence intervals.

A *disaggregated* metric is an ordinary metric (accuracy, true positive rate, ...) computed
separately for every group of a sensitive attribute -- and for every intersection of
attributes -- so that the groups can be compared. :func:`evaluate` computes them all at once,
with a confidence interval for every number (continuity-corrected Wilson score intervals for
rates; simultaneous intervals for the disparities between groups, whose lower bound reaches 0
when the groups do not differ), a per-group significance test, and nothing dropped silently:
small groups are flagged, empty intersections are listed, undefined rates are NaN with a reason.
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
from fairsuite.metrics._evaluate import (
    BOOTSTRAP_DESCRIPTION,
    INTERVAL_METHOD,
    TARGET_REASON,
    evaluate,
)
from fairsuite.metrics._headline import (
    HEADLINE_GAP_METRICS,
    HEADLINE_RULE,
    Headline,
    HeadlineGap,
    HeadlineGroup,
    headline,
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

__all__ = [
    # core
    "evaluate",
    "headline",
    # results
    "FairnessResult",
    "AttributeResult",
    "GroupResult",
    "GroupTest",
    "Disparity",
    "MetricValue",
    "ClassResult",
    "PerClassResult",
    "Headline",
    "HeadlineGroup",
    "HeadlineGap",
    # vocabulary
    "BINARY_METRICS",
    "MULTICLASS_GROUP_METRICS",
    "MACRO_METRICS",
    "METRIC_DIRECTIONS",
    "METRIC_DEFINITIONS",
    "BOOTSTRAP_DESCRIPTION",
    "INTERVAL_METHOD",
    "TARGET_REASON",
    "HEADLINE_RULE",
    "HEADLINE_GAP_METRICS",
]
