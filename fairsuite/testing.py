"""Helpers for teams that gate fairness inside their own pytest suites.

>>> from fairsuite.testing import assert_fair  # doctest: +SKIP
>>> def test_model_is_fair():  # doctest: +SKIP
...     record = fairsuite.evaluate("preds.csv", y_true="label", y_pred="pred", sensitive=["race"])
...     assert_fair(record, "audits/policy-default.yaml")

:func:`assert_fair` is :func:`fairsuite.gate.check` as an assertion: it raises
:class:`FairnessAssertionError` (an ``AssertionError``) whose message lists every failed check
as a table (check, where, value, interval, n, limit, status, reason) -- the same rows as
``fairsuite gate`` and its JUnit file. Warnings do not fail the assertion.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from fairsuite.gate import GateResult, Policy, check, failure_table

__all__ = ["assert_fair", "FairnessAssertionError"]


class FairnessAssertionError(AssertionError):
    """A result failed a gate policy; ``.gate`` holds the :class:`GateResult`."""

    def __init__(self, message: str, gate: GateResult) -> None:
        super().__init__(message)
        self.gate = gate


def assert_fair(
    result: Any,
    policy: Policy | Mapping[str, Any] | str | os.PathLike[str],
    *,
    baseline: Any = None,
) -> GateResult:
    """Assert that ``result`` passes the gate ``policy``; return the :class:`GateResult`.

    Parameters
    ----------
    result : RunRecord, result document, or path to result.json / a run folder
    policy : Policy, mapping, or path to a YAML policy
    baseline : optional
        The result that the policy's regression checks compare against.

    Raises
    ------
    FairnessAssertionError
        The gate failed; the message lists the failed checks as a table. A NaN or missing
        value, an inconclusive interval and a group too small to measure count as failures
        unless the policy says to warn.
    GateConfigError, InvalidInputError
        The policy or the result is invalid.
    """
    __tracebackhide__ = True
    gate = check(result, policy, baseline=baseline)
    if not gate.passed:
        counts = gate.counts()
        message = (
            f"fairness gate {gate.policy.name!r} failed: {counts['fail']} of "
            f"{len(gate.checks)} checks failed\n{failure_table(gate)}"
        )
        raise FairnessAssertionError(message, gate)
    return gate
