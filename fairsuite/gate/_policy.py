"""Gate policies: what a CI gate checks, read from YAML and validated once.

A policy is plain data (``audits/policy-*.yaml``, documented in ``docs/gate.md``). Every key is
declared here; an unknown key, a wrong type or a bad value is a :class:`GateConfigError` that
names the file, the key's path (``checks[2].max``), what is allowed and what was given -- all
problems at once.
"""

from __future__ import annotations

import hashlib
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from fairsuite.exceptions import GateConfigError
from fairsuite.metrics._definitions import BINARY_METRICS

__all__ = [
    "Policy",
    "PolicyCheck",
    "load_policy",
    "policy_from_dict",
    "SELECTORS",
    "METRICS",
    "SUMMARIES",
    "HEADLINE_ITEMS",
]

Compare = Literal["bound", "estimate"]
Action = Literal["fail", "warn"]
Severity = Literal["error", "warn"]

#: What a check reads from the result, one key per check (its value names the metric):
#: ``overall`` (a rate on all test rows), ``group`` (the rate of every group), ``difference``
#: and ``ratio`` (an attribute's disparity: max - min, min / max), ``summary`` (an attribute's
#: fairness summary), ``headline`` (the result's one headline).
SELECTORS: tuple[str, ...] = ("overall", "group", "difference", "ratio", "summary", "headline")
#: The metrics a check may name: those evaluate() reports (one list, in fairsuite.metrics).
METRICS: tuple[str, ...] = BINARY_METRICS
SUMMARIES: tuple[str, ...] = (
    "demographic_parity_difference",
    "demographic_parity_ratio",
    "equalized_odds_difference",
    "equal_opportunity_difference",
)
#: ``worst_group_accuracy``: the headline's worst group's accuracy; ``largest_gap``: its largest
#: gap (accuracy, FPR or FNR); ``accuracy_gap``: its largest accuracy gap.
HEADLINE_ITEMS: tuple[str, ...] = ("worst_group_accuracy", "largest_gap", "accuracy_gap")

_TOP_KEYS = (
    "name",
    "description",
    "compare",
    "min_group_size",
    "on_inconclusive",
    "on_insufficient",
    "attributes",
    "intersections",
    "checks",
    "regressions",
)
_CHECK_KEYS = (*SELECTORS, "min", "max", "name", "attributes", "severity", "why")
_REGRESSION_KEYS = (
    *SELECTORS,
    "max_increase",
    "max_decrease",
    "name",
    "attributes",
    "severity",
    "why",
)
_REGRESSIONS_KEYS = ("compare", "checks")

_BAD = "{where}: {key} must be {allowed}; got {got!r}"
_UNKNOWN = "{where}: unknown key {key!r}; allowed keys: {allowed}"
_POLICY_ERRORS = "invalid gate policy {source} ({n} problem{s}):\n  - {problems}"
_POLICY_NOT_FOUND = (
    "gate policy not found: {path}. Pass --policy with a YAML file (see audits/policy-default.yaml)"
)
_POLICY_NOT_YAML = "gate policy {path} is not valid YAML: {error}"


@dataclass(frozen=True)
class PolicyCheck:
    """One check of a policy: a selector (``kind`` and ``metric``) and a limit.

    ``op`` is ``"<="`` (``max``; for a regression ``max_increase`` or ``max_decrease``) or
    ``">="`` (``min``). ``direction`` (regressions only) is ``"increase"`` or ``"decrease"``.
    """

    kind: str
    metric: str
    op: str
    threshold: float
    name: str
    attributes: tuple[str, ...] | None = None
    severity: Severity = "error"
    why: str | None = None
    direction: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain data."""
        return {
            "kind": self.kind,
            "metric": self.metric,
            "op": self.op,
            "threshold": self.threshold,
            "name": self.name,
            "attributes": None if self.attributes is None else list(self.attributes),
            "severity": self.severity,
            "why": self.why,
            "direction": self.direction,
        }


@dataclass(frozen=True)
class Policy:
    """A validated gate policy (see ``docs/gate.md``).

    Attributes
    ----------
    name : str
    description : str or None
    compare : {"bound", "estimate"}
        ``bound`` (default): a check passes only when the whole interval is on the right side of
        the limit ("shown fair enough"); ``estimate``: the point estimate decides.
    min_group_size : int or None
        Groups with fewer test rows are insufficient for the gate (as are those the result
        itself marked insufficient).
    on_inconclusive, on_insufficient : {"fail", "warn"}
        What an interval straddling the limit, and a group too small to measure, do to the gate.
    attributes : tuple of str or None
        Attributes (and intersections) to check; ``None``: every one in the result.
    intersections : bool
        Without ``attributes``: also check intersections.
    checks, regressions : tuple of PolicyCheck
    regression_compare : {"estimate", "bound"}
    source : str or None
        Where the policy was read from; ``sha256`` of its bytes.
    """

    name: str
    checks: tuple[PolicyCheck, ...]
    regressions: tuple[PolicyCheck, ...] = ()
    description: str | None = None
    compare: Compare = "bound"
    min_group_size: int | None = None
    on_inconclusive: Action = "fail"
    on_insufficient: Action = "fail"
    attributes: tuple[str, ...] | None = None
    intersections: bool = True
    regression_compare: Compare = "estimate"
    source: str | None = None
    sha256: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """What the gate verdict records about its policy."""
        return {
            "name": self.name,
            "description": self.description,
            "source": self.source,
            "sha256": self.sha256,
            "compare": self.compare,
            "min_group_size": self.min_group_size,
            "on_inconclusive": self.on_inconclusive,
            "on_insufficient": self.on_insufficient,
            "attributes": None if self.attributes is None else list(self.attributes),
            "intersections": self.intersections,
            "regression_compare": self.regression_compare,
            "checks": [c.to_dict() for c in self.checks],
            "regressions": [c.to_dict() for c in self.regressions],
        }


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(float(x))


def _names(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, str) for v in value)


def _check(raw: Any, where: str, problems: list[str], *, regression: bool) -> PolicyCheck | None:
    if not isinstance(raw, Mapping):
        problems.append(
            f"{where}: must be a mapping like {{difference: fpr, max: 0.1}}; got {raw!r}"
        )
        return None
    allowed = _REGRESSION_KEYS if regression else _CHECK_KEYS
    for key in raw:
        if key not in allowed:
            problems.append(_UNKNOWN.format(where=where, key=key, allowed=", ".join(allowed)))
    chosen = [k for k in SELECTORS if k in raw]
    if len(chosen) != 1:
        problems.append(
            f"{where}: needs exactly one of {', '.join(SELECTORS)} (what to check); "
            f"got {chosen or 'none'}"
        )
        return None
    kind = chosen[0]
    metric = raw[kind]
    names = {"headline": HEADLINE_ITEMS, "summary": SUMMARIES}.get(kind, METRICS)
    if metric not in names:
        problems.append(
            _BAD.format(where=where, key=kind, allowed="one of " + ", ".join(names), got=metric)
        )
        return None
    limits = ("max_increase", "max_decrease") if regression else ("min", "max")
    given = [k for k in limits if k in raw]
    if len(given) != 1:
        problems.append(
            f"{where}: needs exactly one of {' or '.join(limits)}; got {given or 'none'}"
        )
        return None
    limit = given[0]
    threshold = raw[limit]
    if not _is_number(threshold) or (regression and threshold < 0):
        problems.append(
            _BAD.format(
                where=where,
                key=limit,
                allowed="a number >= 0" if regression else "a finite number",
                got=threshold,
            )
        )
        return None
    attributes = raw.get("attributes")
    if attributes is not None and not _names(attributes):
        problems.append(
            _BAD.format(
                where=where, key="attributes", allowed="a list of attribute names", got=attributes
            )
        )
    severity = raw.get("severity", "error")
    if severity not in ("error", "warn"):
        problems.append(
            _BAD.format(where=where, key="severity", allowed="error or warn", got=severity)
        )
    name = raw.get("name")
    if name is not None and not isinstance(name, str):
        problems.append(_BAD.format(where=where, key="name", allowed="a string", got=name))
    why = raw.get("why")
    if why is not None and not isinstance(why, str):
        problems.append(_BAD.format(where=where, key="why", allowed="a string", got=why))
    op = ">=" if limit == "min" else "<="
    if not name:
        if regression:
            sign = "+" if limit == "max_increase" else "-"
            name = f"{_what(kind, str(metric))}: change {sign}{float(threshold):g} at most"
        else:
            name = f"{_what(kind, str(metric))} {op} {float(threshold):g}"
    return PolicyCheck(
        kind=kind,
        metric=str(metric),
        op=op,
        threshold=float(threshold),
        name=str(name),
        attributes=tuple(attributes) if _names(attributes) else None,
        severity=severity if severity in ("error", "warn") else "error",
        why=why if isinstance(why, str) else None,
        direction=limit.split("_")[1] if regression else None,
    )


def _what(kind: str, metric: str) -> str:
    """How a check names what it reads: ``fpr difference``, ``accuracy of each group``."""
    return {
        "overall": f"overall {metric}",
        "group": f"{metric} of each group",
        "difference": f"{metric} difference",
        "ratio": f"{metric} ratio",
        "summary": metric,
        "headline": f"headline {metric}",
    }[kind]


def policy_from_dict(
    data: Any, *, source: str = "policy mapping", sha256: str | None = None
) -> Policy:
    """Validate a policy given as plain data (what the YAML file holds).

    Raises
    ------
    GateConfigError
        Listing every problem: unknown keys, missing limits, wrong types or values.
    """
    problems: list[str] = []
    if not isinstance(data, Mapping):
        raise GateConfigError(
            _POLICY_ERRORS.format(
                source=source,
                n=1,
                s="",
                problems=f"the policy must be a YAML mapping with a 'checks' list; got {data!r}",
            )
        )
    for key in data:
        if key not in _TOP_KEYS:
            problems.append(_UNKNOWN.format(where="policy", key=key, allowed=", ".join(_TOP_KEYS)))

    def choice(
        key: str,
        allowed: tuple[str, ...],
        default: str,
        where: str = "policy",
        d: Mapping[str, Any] = data,
    ) -> str:
        value = d.get(key, default)
        if value not in allowed:
            problems.append(
                _BAD.format(where=where, key=key, allowed=" or ".join(allowed), got=value)
            )
            return default
        return str(value)

    compare = choice("compare", ("bound", "estimate"), "bound")
    on_inconclusive = choice("on_inconclusive", ("fail", "warn"), "fail")
    on_insufficient = choice("on_insufficient", ("fail", "warn"), "fail")
    mgs = data.get("min_group_size")
    if mgs is not None and (not isinstance(mgs, int) or isinstance(mgs, bool) or mgs < 1):
        problems.append(
            _BAD.format(where="policy", key="min_group_size", allowed="an integer >= 1", got=mgs)
        )
        mgs = None
    attributes = data.get("attributes")
    if attributes is not None and not _names(attributes):
        problems.append(
            _BAD.format(
                where="policy",
                key="attributes",
                allowed="a list of attribute names",
                got=attributes,
            )
        )
        attributes = None
    intersections = data.get("intersections", True)
    if not isinstance(intersections, bool):
        problems.append(
            _BAD.format(
                where="policy", key="intersections", allowed="true or false", got=intersections
            )
        )
        intersections = True
    name = data.get("name") or Path(source).stem
    if not isinstance(name, str):
        problems.append(_BAD.format(where="policy", key="name", allowed="a string", got=name))
        name = "policy"
    description = data.get("description")
    if description is not None and not isinstance(description, str):
        problems.append(
            _BAD.format(where="policy", key="description", allowed="a string", got=description)
        )
        description = None

    raw_checks = data.get("checks", [])
    checks: list[PolicyCheck] = []
    if not isinstance(raw_checks, list):
        problems.append(_BAD.format(where="policy", key="checks", allowed="a list", got=raw_checks))
    else:
        for i, raw in enumerate(raw_checks):
            c = _check(raw, f"checks[{i}]", problems, regression=False)
            if c is not None:
                checks.append(c)

    regressions: list[PolicyCheck] = []
    regression_compare = "estimate"
    raw_reg = data.get("regressions")
    if raw_reg is not None:
        if not isinstance(raw_reg, Mapping):
            problems.append(
                _BAD.format(
                    where="policy",
                    key="regressions",
                    allowed="a mapping with 'checks' (and 'compare')",
                    got=raw_reg,
                )
            )
        else:
            for key in raw_reg:
                if key not in _REGRESSIONS_KEYS:
                    problems.append(
                        _UNKNOWN.format(
                            where="regressions", key=key, allowed=", ".join(_REGRESSIONS_KEYS)
                        )
                    )
            regression_compare = choice(
                "compare", ("estimate", "bound"), "estimate", "regressions", raw_reg
            )
            items = raw_reg.get("checks", [])
            if not isinstance(items, list):
                problems.append(
                    _BAD.format(where="regressions", key="checks", allowed="a list", got=items)
                )
            else:
                for i, raw in enumerate(items):
                    c = _check(raw, f"regressions.checks[{i}]", problems, regression=True)
                    if c is not None:
                        regressions.append(c)
    if not problems and not checks and not regressions:
        problems.append(
            "policy: has no checks; add a 'checks' list (see audits/policy-default.yaml)"
        )
    if problems:
        raise GateConfigError(
            _POLICY_ERRORS.format(
                source=source,
                n=len(problems),
                s="" if len(problems) == 1 else "s",
                problems="\n  - ".join(problems),
            )
        )
    return Policy(
        name=name,
        description=description,
        checks=tuple(checks),
        regressions=tuple(regressions),
        compare=compare,  # type: ignore[arg-type]
        min_group_size=mgs,
        on_inconclusive=on_inconclusive,  # type: ignore[arg-type]
        on_insufficient=on_insufficient,  # type: ignore[arg-type]
        attributes=tuple(attributes) if attributes else None,
        intersections=intersections,
        regression_compare=regression_compare,  # type: ignore[arg-type]
        source=source,
        sha256=sha256,
        raw=dict(data),
    )


def load_policy(policy: str | os.PathLike[str] | Mapping[str, Any] | Policy) -> Policy:
    """A :class:`Policy` from a YAML file, a mapping, or a policy (returned as is).

    Raises
    ------
    GateConfigError
        The file is missing, is not YAML, or the policy is invalid (exit code 3).
    """
    if isinstance(policy, Policy):
        return policy
    if isinstance(policy, Mapping):
        return policy_from_dict(policy)
    import yaml  # type: ignore[import-untyped, unused-ignore]

    path = Path(policy)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise GateConfigError(_POLICY_NOT_FOUND.format(path=path)) from err
    try:
        parsed = yaml.safe_load(data.decode("utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        raise GateConfigError(_POLICY_NOT_YAML.format(path=path, error=err)) from err
    return policy_from_dict(parsed, source=str(path), sha256=hashlib.sha256(data).hexdigest())
