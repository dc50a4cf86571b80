"""The CI fairness gate: a policy (YAML) against a result, judged on interval bounds.

A *policy* (``audits/policy-*.yaml``, every key documented in ``docs/gate.md``) lists checks on
per-group rates, on gaps and ratios between groups, on fairness summaries and on the result's
headline, plus regressions against a baseline result. :func:`check` judges a result (an audit,
evaluate or compare document, or a :class:`~fairsuite.experiments.RunRecord`) against it and
returns a :class:`GateResult`: one row per check, attribute and group, and a verdict.

By default a check passes only when its whole interval is on the right side of the limit --
"shown fair enough", not "not shown unfair". An interval straddling the limit is
*inconclusive*, a group below the minimum size is *insufficient*; the policy says whether each
fails the gate or warns. A value that is undefined or missing never passes. Rates that are not
meaningful (conditioned on the target, for an attribute that is the target) are *not
applicable*: listed with their reason, neither passing nor failing; a gate with nothing
measured fails.

The verdict is recorded in the result document's ``gate`` field (:func:`with_gate`), so the
JSON, the report and the exit code agree. ``fairsuite gate`` is this module on the command
line; :func:`fairsuite.testing.assert_fair` is it inside pytest.

Examples
--------
>>> from fairsuite.gate import check, load_policy  # doctest: +SKIP
>>> gate = check("fairsuite-runs/compas-1a2b3c4d", "audits/policy-default.yaml")  # doctest: +SKIP
>>> gate.verdict, len(gate.failures)  # doctest: +SKIP
"""

from __future__ import annotations

from fairsuite.gate._check import (
    GATE_SCHEMA_VERSION,
    CheckResult,
    GateResult,
    check,
    read_result,
    with_gate,
)
from fairsuite.gate._output import (
    failure_table,
    format_gate_lines,
    format_gate_table,
    github_annotations,
    in_github_actions,
    junit_error_xml,
    junit_xml,
)
from fairsuite.gate._policy import (
    HEADLINE_ITEMS,
    METRICS,
    SELECTORS,
    SUMMARIES,
    Policy,
    PolicyCheck,
    load_policy,
    policy_from_dict,
)

__all__ = [
    # judging
    "check",
    "GateResult",
    "CheckResult",
    "with_gate",
    "read_result",
    "GATE_SCHEMA_VERSION",
    # policies
    "Policy",
    "PolicyCheck",
    "load_policy",
    "policy_from_dict",
    "SELECTORS",
    "METRICS",
    "SUMMARIES",
    "HEADLINE_ITEMS",
    # outputs
    "format_gate_table",
    "format_gate_lines",
    "failure_table",
    "junit_xml",
    "junit_error_xml",
    "github_annotations",
    "in_github_actions",
]
