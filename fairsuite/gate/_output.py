"""The gate's outputs: a terminal table, JUnit XML and GitHub Actions annotations.

All three read the rows of a :class:`GateResult` (or its ``to_dict()``), so they agree with
each other and with the report.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any
from xml.sax.saxutils import escape as xml_escape
from xml.sax.saxutils import quoteattr

__all__ = [
    "format_gate_table",
    "format_gate_lines",
    "junit_xml",
    "junit_error_xml",
    "github_annotations",
    "in_github_actions",
]

_STATUS_ORDER = {"fail": 0, "warn": 1, "pass": 2, "skip": 3}


def _doc(gate: Any) -> dict[str, Any]:
    return gate.to_dict() if hasattr(gate, "to_dict") else dict(gate)


def _num(x: Any) -> str:
    return "n/a" if x is None else f"{float(x):.3f}"


def _interval(c: Mapping[str, Any]) -> str:
    if c.get("ci_low") is None or c.get("ci_high") is None:
        return ""
    return f"[{c['ci_low']:.3f}, {c['ci_high']:.3f}]"


def _where(c: Mapping[str, Any]) -> str:
    parts = [c.get("cell"), c.get("attribute")]
    return "; ".join(str(p) for p in parts if p)


def _limit(c: Mapping[str, Any]) -> str:
    t = c.get("threshold")
    return "-" if t is None else f"{c.get('op', '')} {t:g}"


def _verdict_text(c: Mapping[str, Any]) -> str:
    status, outcome = str(c.get("status")), str(c.get("outcome"))
    text = status.upper().replace("_", " ")
    if status not in ("pass", "fail") and outcome in ("fail", "warn"):
        text += f" ({outcome})"
    elif status == "fail" and outcome == "warn":
        text += " (warn)"
    return text


def _sorted(checks: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Failed rows first, then warnings, passes, skipped; otherwise in policy order."""
    return sorted(checks, key=lambda c: _STATUS_ORDER.get(str(c.get("outcome")), 9))


def _headline_line(doc: Mapping[str, Any]) -> str:
    counts = doc.get("counts") or {}
    verdict = str(doc.get("verdict", "fail")).upper()
    parts = [
        f"{counts.get('fail', 0)} failed",
        f"{counts.get('warn', 0)} warned",
        f"{counts.get('pass', 0)} passed",
    ]
    if counts.get("skip"):
        parts.append(f"{counts['skip']} not applicable")
    extra = [
        f"{counts[k]} {k.replace('_', ' ')}"
        for k in ("inconclusive", "insufficient", "missing")
        if counts.get(k)
    ]
    line = f"gate {verdict}: " + ", ".join(parts)
    if extra:
        line += " (" + ", ".join(extra) + ")"
    return line + f"; policy {doc.get('policy')}"


def format_gate_table(gate: Any, *, width: int = 100) -> str:
    """The gate as a plain-text table (stdout of ``fairsuite gate``): failed rows first.

    Columns: check, attribute (and compare cell), group, value, interval, n, threshold,
    verdict, reason; the last line is the verdict with the counts.
    """
    doc = _doc(gate)
    detail = doc.get("policy_detail") or {}
    ci = doc.get("ci")
    compare = doc.get("compare", "bound")
    how = (
        f"the {ci:.0%} interval's bound (a pass is shown within the limit)"
        if compare == "bound" and ci is not None
        else "the interval's bound"
        if compare == "bound"
        else "the point estimate"
    )
    subject = doc.get("subject") or {}
    lines = [
        f"fairsuite gate: policy {doc.get('policy')}"
        + (f" ({detail['source']})" if detail.get("source") else "")
        + f" on {subject.get('kind', 'result')} {subject.get('dataset')}"
        + (f" (config {str(subject['config_hash'])[:8]})" if subject.get("config_hash") else ""),
        f"compared: {how}; inconclusive -> {detail.get('on_inconclusive', 'fail')}, "
        f"too few rows -> {detail.get('on_insufficient', 'fail')}",
    ]
    if doc.get("baseline"):
        b = doc["baseline"]
        lines.append(
            f"baseline: {b.get('source') or b.get('dataset')}"
            + (f" (config {str(b['config_hash'])[:8]})" if b.get("config_hash") else "")
            + f"; regressions compared by {detail.get('regression_compare', 'estimate')}"
        )
    header = ("check", "attribute", "group", "value", "interval", "n", "limit", "verdict", "reason")
    rows = [header]
    for c in _sorted(doc.get("checks") or []):
        rows.append(
            (
                str(c.get("check")),
                _where(c) or "-",
                str(c.get("group") or "-"),
                "-" if c.get("kind") == "group_size" else _num(c.get("value")),
                _interval(c) or "-",
                str(c.get("n") or "-"),
                _limit(c),
                _verdict_text(c),
                str(c.get("reason") or ""),
            )
        )
    widths = [min(max(len(r[i]) for r in rows), 40) for i in range(len(header) - 1)]
    for r in rows:
        cells = [r[i][: widths[i]].ljust(widths[i]) for i in range(len(header) - 1)]
        lines.append("  ".join(cells + [r[-1]]).rstrip())
    for note in doc.get("notes") or []:
        lines.append(f"note: {note}")
    lines.append(_headline_line(doc))
    return "\n".join(lines)


def format_gate_lines(gate: Any, *, limit: int = 8) -> list[str]:
    """A few lines for an audit's summary: the verdict and the failed rows."""
    doc = _doc(gate)
    lines = [_headline_line(doc)]
    bad = [c for c in _sorted(doc.get("checks") or []) if c.get("outcome") in ("fail", "warn")]
    for c in bad[:limit]:
        lines.append(f"  {_verdict_text(c):<22} {_line(c)}")
    if len(bad) > limit:
        lines.append(f"  ... {len(bad) - limit} more (see the report or `fairsuite gate`)")
    return lines


def _line(c: Mapping[str, Any]) -> str:
    where = _where(c)
    group = c.get("group")
    target = f"{where} = {group}" if where and group else (where or str(group or ""))
    n = f" n={c['n']}" if c.get("n") else ""
    iv = _interval(c)
    return (
        f"{c.get('check')}"
        + (f" [{target}]" if target else "")
        + (f": {_num(c.get('value'))}" if c.get("kind") != "group_size" else ":")
        + (f" {iv}" if iv else "")
        + n
        + f" vs {_limit(c)}: {c.get('reason')}"
    )


def failure_table(gate: Any) -> str:
    """The failed rows as an aligned table (the message of :func:`assert_fair`)."""
    doc = _doc(gate)
    bad = [c for c in doc.get("checks") or [] if c.get("outcome") == "fail"]
    rows = [("check", "where", "value", "interval", "n", "limit", "status", "reason")]
    for c in bad:
        where = _where(c)
        if c.get("group"):
            where = f"{where} = {c['group']}" if where else str(c["group"])
        value = "-" if c.get("kind") == "group_size" else _num(c.get("value"))
        rows.append(
            (
                str(c.get("check")),
                where or "-",
                value,
                _interval(c) or "-",
                str(c.get("n") or "-"),
                _limit(c),
                str(c.get("status")).upper(),
                str(c.get("reason")),
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    return "\n".join(
        "  ".join([r[i].ljust(widths[i]) for i in range(len(widths))] + [r[-1]]).rstrip()
        for r in rows
    )


# --------------------------------------------------------------------------- JUnit
def junit_xml(gate: Any, *, suite: str = "fairsuite gate") -> str:
    """JUnit XML: one test case per gate row; ``fail`` rows are failures with their reason,
    ``warn`` rows pass with the warning in ``system-out``, ``skip`` rows are skipped.

    ``failures > 0`` exactly when the gate failed (exit code 1).
    """
    doc = _doc(gate)
    checks = list(doc.get("checks") or [])
    failures = sum(c.get("outcome") == "fail" for c in checks)
    skipped = sum(c.get("outcome") == "skip" for c in checks)
    policy = str(doc.get("policy"))
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<testsuites name={quoteattr(suite)} tests="{len(checks)}" failures="{failures}" '
        f'errors="0" skipped="{skipped}">',
        f'  <testsuite name={quoteattr(f"{suite}: {policy}")} tests="{len(checks)}" '
        f'failures="{failures}" errors="0" skipped="{skipped}">',
        "    <properties>",
        f'      <property name="verdict" value={quoteattr(str(doc.get("verdict")))}/>',
        f'      <property name="policy" value={quoteattr(policy)}/>',
        "    </properties>",
    ]
    seen: dict[str, int] = {}
    for c in checks:
        name = _case_name(c)
        seen[name] = seen.get(name, 0) + 1
        if seen[name] > 1:
            name = f"{name} #{seen[name]}"
        classname = f"fairsuite.gate.{policy}"
        out.append(f"    <testcase classname={quoteattr(classname)} name={quoteattr(name)}>")
        text = _line(c)
        if c.get("outcome") == "fail":
            status = str(c.get("status"))
            message = f"{status.upper()}: {c.get('reason')}"
            out.append(
                f"      <failure message={quoteattr(message)} type={quoteattr(status)}>"
                f"{xml_escape(text)}</failure>"
            )
        elif c.get("outcome") == "skip":
            out.append(f"      <skipped message={quoteattr(str(c.get('reason')))}/>")
        elif c.get("outcome") == "warn":
            out.append(f"      <system-out>{xml_escape('WARNING ' + text)}</system-out>")
        out.append("    </testcase>")
    out += ["  </testsuite>", "</testsuites>", ""]
    return "\n".join(_xml_safe(line) for line in out)


def junit_error_xml(message: str, *, suite: str = "fairsuite gate") -> str:
    """JUnit XML for a gate that could not run (invalid result or policy: exit code 3)."""
    return "\n".join(
        _xml_safe(line)
        for line in (
            '<?xml version="1.0" encoding="UTF-8"?>',
            f'<testsuites name={quoteattr(suite)} tests="1" failures="0" errors="1" skipped="0">',
            f'  <testsuite name={quoteattr(suite)} tests="1" failures="0" errors="1" skipped="0">',
            '    <testcase classname="fairsuite.gate" name="gate inputs are valid">',
            f'      <error message={quoteattr(message.splitlines()[0])} type="invalid input">'
            f"{xml_escape(message)}</error>",
            "    </testcase>",
            "  </testsuite>",
            "</testsuites>",
            "",
        )
    )


def _case_name(c: Mapping[str, Any]) -> str:
    where = _where(c)
    group = c.get("group")
    target = f"{where} = {group}" if where and group else (where or str(group or ""))
    return f"{c.get('check')} [{target}]" if target else str(c.get("check"))


def _xml_safe(text: str) -> str:
    """Drop characters XML 1.0 cannot hold (control characters in hostile group names)."""
    return "".join(
        ch
        for ch in text
        if ch in "\t\n\r"
        or (0x20 <= ord(ch) <= 0xD7FF)
        or (0xE000 <= ord(ch) <= 0xFFFD)
        or ord(ch) >= 0x10000
    )


# --------------------------------------------------------------------------- GitHub Actions
def in_github_actions() -> bool:
    """True under GitHub Actions (``GITHUB_ACTIONS=true``)."""
    return os.environ.get("GITHUB_ACTIONS", "").lower() == "true"


def _gh_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_prop(text: str) -> str:
    return _gh_data(text).replace(":", "%3A").replace(",", "%2C")


def github_annotations(gate: Any, *, file: str | None = None) -> list[str]:
    """``::error`` lines for failed rows and ``::warning`` lines for warned ones.

    GitHub's runner reads workflow commands from a step's output (stdout and stderr), so the
    CLI prints them on stderr and stdout keeps only the result.
    """
    doc = _doc(gate)
    out = []
    for c in _sorted(doc.get("checks") or []):
        level = {"fail": "error", "warn": "warning"}.get(str(c.get("outcome")))
        if level is None:
            continue
        props = [f"title={_gh_prop('fairsuite gate: ' + str(c.get('check')))}"]
        if file:
            props.insert(0, f"file={_gh_prop(file)}")
        out.append(f"::{level} {','.join(props)}::{_gh_data(_line(c))}")
    return out
