"""Judge a result against a policy: one row per check, attribute and group; one verdict.

The gate reads the result's own values and intervals (``FairnessResult``) and its one headline
(:func:`fairsuite.metrics.headline`); it recomputes no metric. How a row is judged:

- ``compare: bound`` (default) -- a ``max`` passes when the interval's upper bound is at or
  under the limit, fails when its lower bound is over it, and is **inconclusive** when the
  interval straddles it (``min`` mirrored). A pass means "shown fair enough".
- ``compare: estimate`` -- the point estimate decides.
- A value that is undefined (NaN) or missing is ``missing`` and fails: it never passes.
- A group below the minimum size is ``insufficient``; an attribute's rates conditioned on the
  target (when the attribute is the target) are ``not_applicable``: neither pass nor fail, and
  listed with their reason.
- ``on_inconclusive`` / ``on_insufficient`` (``fail`` or ``warn``) and each check's ``severity``
  turn statuses into outcomes; the gate fails when any outcome is ``fail``, and also when no
  check could be evaluated at all.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fairsuite.exceptions import InvalidInputError
from fairsuite.gate._policy import Policy, PolicyCheck, load_policy

__all__ = ["check", "GateResult", "CheckResult", "read_result", "with_gate", "GATE_SCHEMA_VERSION"]

GATE_SCHEMA_VERSION = 1
#: Metrics that stay meaningful across the groups of an attribute that is the target.
TARGET_METRICS = ("accuracy", "error_rate")
NOT_MEANINGFUL = "not meaningful: this attribute is the target"

_NOT_A_RESULT = (
    "{source} is not a fairsuite result document: {why}. Pass the result.json (or the run folder) "
    "that `fairsuite audit`, `evaluate` or `compare` wrote"
)
_NOT_COMPARABLE = (
    "baseline {baseline} is not comparable with the result: {why}. A regression check needs the "
    "same dataset and task (a run of another model or setting on the same data)"
)


@dataclass(frozen=True)
class _Unit:
    """One evaluated result: a run, or one (trained on, tested on) cell of a compare."""

    label: str | None
    result: Any  # FairnessResult
    headline: Any  # Headline
    dataset: str
    task: str


@dataclass(frozen=True)
class _Measure:
    key: tuple[str, ...]
    attribute: str | None
    group: str | None
    n: str | None
    value: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    status: str | None = None  # preset: missing, insufficient, not_applicable
    reason: str | None = None


@dataclass(frozen=True)
class CheckResult:
    """One row of the gate: a check applied to one attribute/group (of one compare cell).

    ``status`` is what the data shows: ``pass``, ``fail``, ``inconclusive`` (the interval
    straddles the limit), ``insufficient`` (too few rows), ``missing`` (undefined or absent:
    never a pass) or ``not_applicable`` (not meaningful here). ``outcome`` is what the policy
    makes of it: ``pass``, ``fail``, ``warn`` or ``skip``.
    """

    check: str
    kind: str
    metric: str
    cell: str | None
    attribute: str | None
    group: str | None
    n: str | None
    value: float | None
    ci_low: float | None
    ci_high: float | None
    op: str
    threshold: float | None
    compared: str
    status: str
    outcome: str
    reason: str
    severity: str = "error"
    baseline: Mapping[str, Any] | None = None

    @property
    def label(self) -> str:
        """``check[cell; attribute = group]`` in one string (JUnit names, annotations)."""
        where = "; ".join(
            x
            for x in (
                self.cell,
                None
                if self.attribute is None
                else (self.attribute if self.group is None else f"{self.attribute} = {self.group}"),
            )
            if x
        )
        return f"{self.check} [{where}]" if where else self.check

    def line(self) -> str:
        """``metric[group]: value [ci] (n) vs limit -> STATUS: reason`` (assert_fair, JUnit)."""
        return (
            f"{self.label}: {_num(self.value)} {_interval(self.ci_low, self.ci_high)}"
            f"{'' if self.n is None else f' n={self.n}'} vs {self.op} {_limit(self.threshold)}"
            f" -> {self.status.upper()}: {self.reason}"
        ).replace("  ", " ")

    def to_dict(self) -> dict[str, Any]:
        """Plain data (``gate.checks[]`` of result.json)."""
        return {
            "check": self.check,
            "name": self.label,
            "kind": self.kind,
            "metric": self.metric,
            "cell": self.cell,
            "attribute": self.attribute,
            "group": self.group,
            "n": self.n,
            "value": _clean(self.value),
            "ci_low": _clean(self.ci_low),
            "ci_high": _clean(self.ci_high),
            "op": self.op,
            "threshold": self.threshold,
            "compared": self.compared,
            "status": self.status,
            "outcome": self.outcome,
            "passed": {"pass": True, "fail": False}.get(self.outcome),
            "severity": self.severity,
            "reason": self.reason,
            "baseline": None if self.baseline is None else dict(self.baseline),
        }


@dataclass(frozen=True)
class GateResult:
    """The gate's verdict: ``pass`` or ``fail``, and every row that led to it.

    ``to_dict()`` is what ``result.json`` holds under ``gate`` (and what ``fairsuite gate
    --json`` prints); the report, the terminal table, the JUnit file and :func:`assert_fair`
    all read these rows.
    """

    verdict: str
    policy: Policy
    checks: tuple[CheckResult, ...]
    baseline: Mapping[str, Any] | None = None
    notes: tuple[str, ...] = ()
    ci: float | None = None
    subject: Mapping[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        """True when no row's outcome is ``fail``."""
        return self.verdict == "pass"

    @property
    def failures(self) -> tuple[CheckResult, ...]:
        """The rows whose outcome is ``fail``."""
        return tuple(c for c in self.checks if c.outcome == "fail")

    @property
    def warnings(self) -> tuple[CheckResult, ...]:
        """The rows whose outcome is ``warn``."""
        return tuple(c for c in self.checks if c.outcome == "warn")

    def counts(self) -> dict[str, int]:
        """Rows per outcome and per status."""
        out = {k: 0 for k in ("pass", "fail", "warn", "skip")}
        for c in self.checks:
            out[c.outcome] += 1
        for s in ("inconclusive", "insufficient", "missing", "not_applicable"):
            out[s] = sum(c.status == s for c in self.checks)
        return out

    @property
    def exit_code(self) -> int:
        """0 when the gate passed, 1 when it failed (``ExitCode``)."""
        return 0 if self.passed else 1

    def to_dict(self) -> dict[str, Any]:
        """Plain data: the ``gate`` field of a result document."""
        return {
            "schema_version": GATE_SCHEMA_VERSION,
            "verdict": self.verdict,
            "passed": self.passed,
            "policy": self.policy.name,
            "policy_detail": self.policy.to_dict(),
            "compare": self.policy.compare,
            "ci": self.ci,
            "subject": dict(self.subject),
            "counts": self.counts(),
            "checks": [c.to_dict() for c in self.checks],
            "baseline": None if self.baseline is None else dict(self.baseline),
            "notes": list(self.notes),
        }


def _clean(x: float | None) -> float | None:
    if x is None or (isinstance(x, float) and (math.isnan(x) or math.isinf(x))):
        return None
    return float(x)


def _limit(x: float | None) -> str:
    return "-" if x is None else f"{x:g}"


def _num(x: float | None) -> str:
    return "n/a" if _clean(x) is None else f"{x:.3f}"


def _interval(lo: float | None, hi: float | None) -> str:
    if _clean(lo) is None or _clean(hi) is None:
        return ""
    return f"[{lo:.3f}, {hi:.3f}]"


# --------------------------------------------------------------------------- reading results
def read_result(result: Any, *, source: str = "result") -> dict[str, Any]:
    """The result document of ``result``: a RunRecord, a dict, a result.json or a run folder.

    Raises
    ------
    InvalidInputError
        The file is missing or is not a result document (exit code 3).
    """
    if isinstance(result, Mapping):
        return dict(result)
    if hasattr(result, "to_dict") and hasattr(result, "headline"):
        return json.loads(_dumps(result.to_dict()))
    if isinstance(result, (str, os.PathLike)):
        path = Path(result)
        if path.is_dir():
            path = path / "result.json"
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as err:
            raise InvalidInputError(
                _NOT_A_RESULT.format(source=path, why=f"cannot read it ({err.strerror or err})")
            ) from err
        try:
            data = json.loads(text)
        except ValueError as err:
            raise InvalidInputError(
                _NOT_A_RESULT.format(source=path, why=f"not valid JSON ({err})")
            ) from err
        if not isinstance(data, dict):
            raise InvalidInputError(_NOT_A_RESULT.format(source=path, why="not a JSON object"))
        data.setdefault("__source__", str(path))
        return data
    raise InvalidInputError(
        _NOT_A_RESULT.format(source=source, why=f"got a {type(result).__name__}")
    )


def _dumps(obj: Any) -> str:
    from fairsuite._io import dumps_json

    return dumps_json(obj)


def _units(doc: Mapping[str, Any], source: str) -> list[_Unit]:
    from fairsuite.metrics._headline import Headline, headline
    from fairsuite.metrics._result import FairnessResult

    kind = doc.get("kind")
    if kind not in ("audit", "evaluate", "compare"):
        raise InvalidInputError(
            _NOT_A_RESULT.format(
                source=source, why=f"kind is {kind!r}, expected 'audit', 'evaluate' or 'compare'"
            )
        )
    if doc.get("schema_version") not in (1, 2):
        raise InvalidInputError(
            _NOT_A_RESULT.format(
                source=source,
                why=f"schema_version {doc.get('schema_version')!r}; this fairsuite reads 1 and 2",
            )
        )

    def unit(label: str | None, metrics: Any, head: Any, dataset: str, task: str) -> _Unit:
        try:
            result = FairnessResult.from_dict(metrics)
            hl = Headline.from_dict(head) if head else headline(result)
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            where = "metrics" if label is None else f"cell {label}"
            raise InvalidInputError(
                _NOT_A_RESULT.format(source=source, why=f"its {where} are malformed ({err!r})")
            ) from err
        return _Unit(label, result, hl, dataset, task)

    if kind == "compare":
        cells = doc.get("cells")
        if not isinstance(cells, list) or not cells:
            raise InvalidInputError(_NOT_A_RESULT.format(source=source, why="it has no cells"))
        out = []
        for c in cells:
            if not isinstance(c, Mapping):
                raise InvalidInputError(
                    _NOT_A_RESULT.format(source=source, why="a cell is not an object")
                )
            label = f"trained on {c.get('train')}, tested on {c.get('test')}"
            out.append(
                unit(
                    label,
                    c.get("metrics"),
                    c.get("headline"),
                    str(c.get("test")),
                    str(doc.get("task")),
                )
            )
        return out
    if not isinstance(doc.get("metrics"), Mapping):
        raise InvalidInputError(_NOT_A_RESULT.format(source=source, why="it has no metrics"))
    ds = doc.get("dataset") if isinstance(doc.get("dataset"), Mapping) else {}
    if doc.get("schema_version") == 2:
        # a schema-2 run document is read back through its record, as the report reads it
        from fairsuite.experiments._record import RunRecord

        try:
            record = RunRecord.from_dict({k: v for k, v in doc.items() if k != "__source__"})
        except Exception as err:  # noqa: BLE001 - any malformed field is an input error
            raise InvalidInputError(
                _NOT_A_RESULT.format(source=source, why=f"it is malformed ({err!r})")
            ) from err
        return [
            _Unit(None, record.result, record.headline, record.dataset.name, record.dataset.task)
        ]
    return [
        unit(None, doc["metrics"], doc.get("headline"), str(ds.get("name")), str(ds.get("task")))
    ]


# --------------------------------------------------------------------------- measuring
def _attributes(unit: _Unit, policy: Policy, pc: PolicyCheck) -> tuple[list[Any], list[str]]:
    """The attributes a check applies to, and the names it asks for that the result lacks."""
    attrs = list(unit.result.attributes)
    wanted = pc.attributes or policy.attributes
    if wanted is None:
        return [a for a in attrs if policy.intersections or not a.intersection], []
    by_name = {a.name: a for a in attrs}
    return [by_name[n] for n in wanted if n in by_name], [n for n in wanted if n not in by_name]


def _mv(mv: Any) -> tuple[float | None, float | None, float | None, str | None]:
    if mv is None:
        return None, None, None, "not in the result"
    return _clean(mv.value), _clean(mv.ci_low), _clean(mv.ci_high), mv.reason


def _insufficient(g: Any, policy: Policy) -> bool:
    return bool(g.insufficient) or (
        policy.min_group_size is not None and g.n < policy.min_group_size
    )


def _measures(unit: _Unit, policy: Policy, pc: PolicyCheck) -> list[_Measure]:
    r, m = unit.result, pc.metric
    if pc.kind == "overall":
        v, lo, hi, why = _mv(r.overall.get(m))
        return [_Measure((), None, None, f"{r.n:,}", v, lo, hi, None, why)]
    if pc.kind == "headline":
        h = unit.headline
        if m == "worst_group_accuracy":
            if h.worst_group is None:
                return [
                    _Measure(
                        (),
                        None,
                        None,
                        None,
                        status="missing",
                        reason="no group reached the minimum size: no worst group",
                    )
                ]
            w = h.worst_group
            v, lo, hi, why = _mv(w.value)
            return [_Measure((), w.attribute, w.group, f"{w.n:,}", v, lo, hi, None, why)]
        gap = (
            h.gaps[0]
            if (m == "largest_gap" and h.gaps)
            else (h.accuracy_gap if m == "accuracy_gap" else None)
        )
        if gap is None:
            return [
                _Measure(
                    (),
                    None,
                    None,
                    None,
                    status="missing",
                    reason="the headline has no gap: fewer than two groups compared",
                )
            ]
        v, lo, hi, why = _mv(gap.difference)
        return [
            _Measure(
                (),
                gap.attribute,
                f"{gap.metric}: {gap.worst_group} vs {gap.best_group}",
                _pair(gap.n_worst, gap.n_best),
                v,
                lo,
                hi,
                None,
                why,
            )
        ]
    attrs, absent = _attributes(unit, policy, pc)
    out = [
        _Measure(
            (name,),
            name,
            None,
            None,
            status="missing",
            reason=f"attribute {name!r} is not in the result "
            f"(it has: {', '.join(a.name for a in r.attributes)})",
        )
        for name in absent
    ]
    for a in attrs:
        meaningful = not a.target_related or (pc.kind != "summary" and m in TARGET_METRICS)
        if not meaningful:
            out.append(
                _Measure(
                    (a.name,), a.name, None, None, status="not_applicable", reason=NOT_MEANINGFUL
                )
            )
            continue
        if pc.kind == "group":
            for g in a.groups:
                if _insufficient(g, policy):
                    continue  # reported once per attribute by the group-size rows
                v, lo, hi, why = _mv(g.metrics.get(m))
                out.append(
                    _Measure((a.name, g.group), a.name, g.group, f"{g.n:,}", v, lo, hi, None, why)
                )
            continue
        sizes = {g.group: g.n for g in a.groups}
        if pc.kind in ("difference", "ratio"):
            d = a.disparities.get(m)
            if d is None:
                out.append(
                    _Measure(
                        (a.name,),
                        a.name,
                        None,
                        None,
                        status="missing",
                        reason=f"no {m} disparity in the result",
                    )
                )
                continue
            v, lo, hi, why = _mv(d.difference if pc.kind == "difference" else d.ratio)
            group = None if d.worst_group is None else f"{d.worst_group} vs {d.best_group}"
            out.append(
                _Measure(
                    (a.name,),
                    a.name,
                    group,
                    _pair(sizes.get(d.worst_group), sizes.get(d.best_group)),
                    v,
                    lo,
                    hi,
                    None,
                    why,
                )
            )
        elif pc.kind == "summary":
            v, lo, hi, why = _mv(a.summary.get(m))
            out.append(_Measure((a.name,), a.name, None, None, v, lo, hi, None, why))
    return out


def _pair(a: int | None, b: int | None) -> str | None:
    if a is None and b is None:
        return None
    return f"{'?' if a is None else f'{a:,}'}/{'?' if b is None else f'{b:,}'}"


# --------------------------------------------------------------------------- judging
def _judge(
    v: float | None,
    lo: float | None,
    hi: float | None,
    op: str,
    t: float,
    mode: str,
    why: str | None,
) -> tuple[str, str, str]:
    """(status, compared, reason) of one value against ``op t``."""
    if v is None:
        return "missing", "-", f"{why or 'no value'}; a missing value never passes"
    if mode == "estimate":
        ok = v <= t if op == "<=" else v >= t
        rel = op if ok else (">" if op == "<=" else "<")
        return ("pass" if ok else "fail"), "estimate", f"estimate {v:.3f} {rel} {t:g}"
    if lo is None or hi is None:
        return "missing", "-", "no interval for this value; bound comparison impossible"
    if op == "<=":
        if hi <= t:
            return "pass", "upper bound", f"upper bound {hi:.3f} <= {t:g}: shown within the limit"
        if lo > t:
            return "fail", "lower bound", f"lower bound {lo:.3f} > {t:g}: shown beyond the limit"
        return (
            "inconclusive",
            "interval",
            f"interval [{lo:.3f}, {hi:.3f}] straddles {t:g}: not shown within the limit",
        )
    if lo >= t:
        return "pass", "lower bound", f"lower bound {lo:.3f} >= {t:g}: shown within the limit"
    if hi < t:
        return "fail", "upper bound", f"upper bound {hi:.3f} < {t:g}: shown beyond the limit"
    return (
        "inconclusive",
        "interval",
        f"interval [{lo:.3f}, {hi:.3f}] straddles {t:g}: not shown within the limit",
    )


def _outcome(status: str, pc: PolicyCheck, policy: Policy) -> str:
    if status == "pass":
        return "pass"
    if status == "not_applicable":
        return "skip"
    if pc.severity == "warn":
        return "warn"
    if status == "inconclusive":
        return policy.on_inconclusive
    if status == "insufficient":
        return policy.on_insufficient
    return "fail"  # fail, missing


def _row(
    pc: PolicyCheck,
    unit: _Unit,
    m: _Measure,
    status: str,
    compared: str,
    reason: str,
    policy: Policy,
    **extra: Any,
) -> CheckResult:
    return CheckResult(
        check=pc.name,
        kind=pc.kind,
        metric=pc.metric,
        cell=unit.label,
        attribute=m.attribute,
        group=m.group,
        n=m.n,
        value=extra.pop("value", m.value),
        ci_low=extra.pop("ci_low", m.ci_low),
        ci_high=extra.pop("ci_high", m.ci_high),
        op=pc.op,
        threshold=pc.threshold,
        compared=compared,
        status=status,
        outcome=_outcome(status, pc, policy),
        reason=reason,
        severity=pc.severity,
        **extra,
    )


def _size_rows(unit: _Unit, policy: Policy, touched: dict[str, Any]) -> list[CheckResult]:
    """One row per group too small to measure, in every attribute a check read."""
    limit = max(unit.result.min_group_size, policy.min_group_size or 0)
    pc = PolicyCheck("group_size", "n", ">=", float(limit), f"group size >= {limit}")
    rows = []
    for a in touched.values():
        for g in a.groups:
            if _insufficient(g, policy):
                rows.append(
                    _row(
                        pc,
                        unit,
                        _Measure((a.name, g.group), a.name, g.group, f"{g.n:,}"),
                        "insufficient",
                        "n",
                        f"n={g.n} < {limit}: too few rows to show this group's rates fair, "
                        f"left out of every gap of {a.name}",
                        policy,
                        value=float(g.n),
                        ci_low=None,
                        ci_high=None,
                    )
                )
        for name in a.empty_groups:
            rows.append(
                _row(
                    pc,
                    unit,
                    _Measure((a.name, name), a.name, name, "0"),
                    "insufficient",
                    "n",
                    f"no test rows: this group was not measured at all, left out of every gap "
                    f"of {a.name}",
                    policy,
                    value=0.0,
                    ci_low=None,
                    ci_high=None,
                )
            )
    return rows


def _regression_rows(
    unit: _Unit, base: _Unit | None, policy: Policy, pc: PolicyCheck
) -> list[CheckResult]:
    mode = policy.regression_compare
    cur = _measures(unit, policy, pc)
    if base is None:
        return [
            _row(
                pc,
                unit,
                _Measure((), None, None, None),
                "missing",
                "-",
                "the baseline has no such cell; a missing value never passes",
                policy,
            )
        ]
    prev = {m.key: m for m in _measures(base, policy, pc)}
    rows = []
    for m in cur:
        b = prev.get(m.key)
        info = (
            None
            if b is None
            else {
                "value": b.value,
                "ci_low": b.ci_low,
                "ci_high": b.ci_high,
                "group": b.group,
                "n": b.n,
            }
        )
        if (
            m.status is not None
            or b is None
            or b.status is not None
            or m.value is None
            or b.value is None
        ):
            if m.status == "not_applicable":
                status, reason = "not_applicable", m.reason or NOT_MEANINGFUL
            elif b is None:
                status, reason = "missing", "not in the baseline; a missing value never passes"
            elif m.value is None or b.value is None:
                which = "result" if m.value is None else "baseline"
                status = "missing"
                reason = f"undefined in the {which}: {(m if m.value is None else b).reason}"
            else:
                status, reason = "missing", m.reason or b.reason or "not comparable"
            rows.append(
                _row(
                    pc,
                    unit,
                    m,
                    status,
                    "-",
                    reason,
                    policy,
                    value=None,
                    ci_low=None,
                    ci_high=None,
                    baseline=info,
                )
            )
            continue
        sign = 1.0 if pc.direction == "increase" else -1.0
        change = sign * (m.value - b.value)
        lo = hi = None
        if None not in (m.ci_low, m.ci_high, b.ci_low, b.ci_high):
            if sign > 0:
                lo, hi = m.ci_low - b.ci_high, m.ci_high - b.ci_low  # type: ignore[operator]
            else:
                lo, hi = b.ci_low - m.ci_high, b.ci_high - m.ci_low  # type: ignore[operator]
        status, compared, reason = _judge(change, lo, hi, "<=", pc.threshold, mode, None)
        word = "increase" if sign > 0 else "decrease"
        reason = (
            f"{b.value:.3f} -> {m.value:.3f}: {word} {change:+.3f} "
            f"(allowed {pc.threshold:g}); " + reason
        )
        rows.append(
            _row(
                pc,
                unit,
                m,
                status,
                compared,
                reason,
                policy,
                value=change,
                ci_low=lo,
                ci_high=hi,
                baseline=info,
            )
        )
    return rows


def check(
    result: Any,
    policy: Policy | Mapping[str, Any] | str | os.PathLike[str],
    *,
    baseline: Any = None,
) -> GateResult:
    """Judge a result against a gate policy.

    Parameters
    ----------
    result : RunRecord, result document (dict), or path to result.json / a run folder
        An audit, evaluate or compare result.
    policy : Policy, mapping, or path to a YAML policy
    baseline : same types as ``result``, optional
        The result the policy's ``regressions`` compare against (same dataset and task).

    Returns
    -------
    GateResult
        ``verdict`` ``"pass"`` or ``"fail"``; ``to_dict()`` goes into ``result.json``.

    Raises
    ------
    GateConfigError
        The policy is invalid (exit code 3).
    InvalidInputError
        The result or the baseline is not a result document, or the baseline is of other data
        (exit code 3).

    Examples
    --------
    >>> from fairsuite.gate import check  # doctest: +SKIP
    >>> g = check("fairsuite-runs/compas-1a2b3c4d", "audits/policy-default.yaml")  # doctest: +SKIP
    >>> g.verdict, [c.label for c in g.failures]  # doctest: +SKIP
    """
    pol = load_policy(policy)
    doc = read_result(result)
    units = _units(doc, str(doc.get("__source__", "result")))
    base_units: dict[str | None, _Unit] | None = None
    base_info = None
    if baseline is not None:
        bdoc = read_result(baseline, source="baseline")
        bsource = str(bdoc.get("__source__", "baseline"))
        if (bdoc.get("kind") == "compare") != (doc.get("kind") == "compare"):
            raise InvalidInputError(
                _NOT_COMPARABLE.format(
                    baseline=bsource,
                    why=f"it is a {bdoc.get('kind')} result, the result a {doc.get('kind')} result",
                )
            )
        blist = _units(bdoc, bsource)
        base_units = {u.label: u for u in blist}
        for u in units:
            b = base_units.get(u.label)
            if b is not None and (b.dataset, b.task) != (u.dataset, u.task):
                raise InvalidInputError(
                    _NOT_COMPARABLE.format(
                        baseline=bsource,
                        why=f"it evaluated {b.dataset!r} (task {b.task}), the result {u.dataset!r} "
                        f"(task {u.task})",
                    )
                )
        base_info = {
            "source": bdoc.get("__source__"),
            "kind": bdoc.get("kind"),
            "config_hash": bdoc.get("config_hash"),
            "dataset": blist[0].dataset,
        }

    rows: list[CheckResult] = []
    notes: list[str] = []
    for unit in units:
        touched: dict[str, Any] = {}
        for pc in pol.checks:
            if pc.kind not in ("overall", "headline"):
                for a in _attributes(unit, pol, pc)[0]:
                    touched.setdefault(a.name, a)
            for m in _measures(unit, pol, pc):
                if m.status is not None:
                    rows.append(_row(pc, unit, m, m.status, "-", m.reason or m.status, pol))
                    continue
                status, compared, reason = _judge(
                    m.value, m.ci_low, m.ci_high, pc.op, pc.threshold, pol.compare, m.reason
                )
                rows.append(_row(pc, unit, m, status, compared, reason, pol))
        for pc in pol.regressions:
            if base_units is None:
                rows.append(
                    _row(
                        pc,
                        unit,
                        _Measure((), None, None, None),
                        "not_applicable",
                        "-",
                        "no baseline given (--baseline): regression not checked",
                        pol,
                    )
                )
                continue
            if pc.kind not in ("overall", "headline"):
                for a in _attributes(unit, pol, pc)[0]:
                    touched.setdefault(a.name, a)
            rows.extend(_regression_rows(unit, base_units.get(unit.label), pol, pc))
        rows.extend(_size_rows(unit, pol, touched))
    if pol.regressions and base_units is None:
        notes.append("the policy has regression checks but no baseline was given: not checked")
    judged = [r for r in rows if r.status in ("pass", "fail", "inconclusive")]
    if not judged:
        rows.append(
            CheckResult(
                "policy applies",
                "policy",
                "-",
                None,
                None,
                None,
                None,
                None,
                None,
                None,
                "-",
                None,
                "-",
                "missing",
                "fail",
                "no check of the policy could be evaluated on this result; a gate "
                "with nothing measured never passes",
            )
        )
    verdict = "fail" if any(r.outcome == "fail" for r in rows) else "pass"
    first = units[0].result
    subject = {
        "kind": doc.get("kind"),
        "source": doc.get("__source__"),
        "config_hash": doc.get("config_hash"),
        "dataset": units[0].dataset if doc.get("kind") != "compare" else doc.get("datasets"),
        "task": units[0].task,
    }
    return GateResult(
        verdict=verdict,
        policy=pol,
        checks=tuple(rows),
        baseline=base_info,
        notes=tuple(notes),
        ci=float(first.ci),
        subject=subject,
    )


def with_gate(result: Any, gate: GateResult) -> Any:
    """``result`` with the gate verdict recorded in its ``gate`` field (a new object).

    A :class:`RunRecord` gives a RunRecord, a document a new dict; the input is not changed.
    """
    import dataclasses

    if isinstance(result, Mapping):
        out = {k: v for k, v in result.items() if k != "__source__"}
        out["gate"] = json.loads(_dumps(gate.to_dict()))
        return out
    return dataclasses.replace(result, gate=json.loads(_dumps(gate.to_dict())))
