"""Plain-text summaries of result documents, for the terminal (stdout)."""

from __future__ import annotations

import math
from typing import Any

__all__ = [
    "format_audit_summary",
    "format_compare_summary",
    "headline_of",
    "is_target_related",
    "interval_text",
    "baseline_warning",
]

#: Why rates conditioned on the target are not shown for an attribute that is the target
#: (the same words as ``fairsuite.metrics.TARGET_REASON``; repeated so that reading a result
#: document never imports the metrics stack).
TARGET_REASON = "not meaningful: this attribute is the target"
# Metrics that stay meaningful across the groups of an attribute that is the target.
_TARGET_METRICS = ("accuracy", "error_rate")

# Metrics whose larger value is worse; for the others, smaller is worse.
_HIGHER_IS_WORSE = {"error_rate", "fpr", "fnr"}
# Headline gaps are error gaps: accuracy (the same gap as error rate), false positive and false
# negative rates. Selection-rate and precision gaps are in the report; in the headline they would
# be trivially large whenever the target itself is a sensitive attribute (gender from faces).
_GAP_METRICS = ("accuracy", "fpr", "fnr")


def _num(value: Any, fmt: str = "{:.3f}") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return fmt.format(value)


def _interval(stat: dict[str, Any]) -> str:
    if stat.get("ci_low") is None or stat.get("ci_high") is None:
        return ""
    return f" [{_num(stat['ci_low'])}, {_num(stat['ci_high'])}]"


def _stat(stat: dict[str, Any] | None) -> str:
    if not stat:
        return "n/a"
    return _num(stat.get("value")) + _interval(stat)


def is_target_related(attr: dict[str, Any], targets: Any = ()) -> bool:
    """True when the attribute (or intersection) is, or contains, an attribute that is the target.

    Reads ``target_related`` from the metrics; ``targets`` (the document's list of target
    attributes) covers results written before that field existed.
    """
    if attr.get("target_related"):
        return True
    columns = attr.get("columns") or [attr.get("name")]
    return any(c in set(targets or ()) for c in columns)


def interval_text(metrics: dict[str, Any]) -> str:
    """What the intervals are: the level and the method (old documents: the bootstrap)."""
    ci = int(round(100 * (metrics.get("ci") or 0.95)))
    method = metrics.get("interval_method")
    if method:
        return f"{ci}% intervals: {method}"
    return f"{ci}% bootstrap intervals, {metrics.get('n_boot', 0)} replicates"


def interval_short(metrics: dict[str, Any]) -> str:
    """One terminal line on the intervals (the full method is in the report and result.json)."""
    ci = int(round(100 * (metrics.get("ci") or 0.95)))
    if not metrics.get("interval_method"):
        return interval_text(metrics)
    auc = ""
    if "auc" in (metrics.get("metrics") or ()):
        auc = "; DeLong (logit) hulled with Hanley-McNeil for AUC"
    return (
        f"{ci}%: Wilson score for rates{auc}; simultaneous Newcombe for gaps, whose lower bound "
        "is 0 when no two groups differ (docs/intervals.md)"
    )


def baseline_warning(metrics: dict[str, Any]) -> str | None:
    """A warning when overall accuracy is not clearly above always predicting the majority class.

    Fires when the accuracy interval includes (or lies below) the majority class's share of the
    test split; without an interval, when the accuracy itself is not above it.
    """
    base = metrics.get("majority_baseline") or {}
    acc = (metrics.get("overall") or {}).get("accuracy") or {}
    rate, value = base.get("rate"), acc.get("value")
    if rate is None or value is None:
        return None
    low = acc.get("ci_low")
    if (low if low is not None else value) > rate:
        return None
    return (
        f"no better than always predicting {base.get('class')} ({rate:.1%} of the test split): "
        f"the accuracy interval includes or lies below that rate"
    )


def headline_of(document: dict[str, Any], metrics: dict[str, Any] | None = None) -> dict[str, Any]:
    """The document's headline (recomputed by the one rule for documents written without)."""
    if metrics is None and document.get("headline"):
        return document["headline"]
    from fairsuite.metrics import headline

    return headline(metrics if metrics is not None else document["metrics"]).to_dict()


def _training_line(training: dict[str, Any] | None) -> str | None:
    if not training or "rows_used" not in training:
        return None
    excluded = training.get("excluded") or {}
    used, listed = training["rows_used"], training["rows_listed"]
    line = f"training rows      {used:,} used of {listed:,} listed"
    if used > listed:
        line = (
            f"training rows      {used:,} used ({listed:,} listed; the rest are copies or "
            "synthetic rows the intervention added)"
        )
    if excluded:
        parts = ", ".join(f"{reason} {n:,}" for reason, n in sorted(excluded.items()))
        line += f" (excluded: {parts})"
    if training.get("epochs_run") and (training.get("settings") or {}).get("epochs"):
        line += f"; {training['epochs_run']} epochs, best {training.get('best_epoch')}"
    return line


def _integrity_line(dataset: dict[str, Any]) -> str | None:
    integrity = dataset.get("integrity") or {}
    mismatches = integrity.get("mismatches") or []
    if not mismatches:
        return None
    files = ", ".join(m["file"] for m in mismatches)
    return (
        f"DATA INTEGRITY     {files}: checksum differs from the card's (not the published "
        f"file; see `fairsuite datasets verify {dataset.get('name')}`)"
    )


def _gate_lines(document: dict[str, Any]) -> list[str]:
    """The gate verdict and its failed checks, when a policy was applied."""
    if not document.get("gate"):
        return []
    from fairsuite.gate._output import format_gate_lines

    return format_gate_lines(document["gate"])


def format_audit_summary(document: dict[str, Any], *, out: str | None = None) -> str:
    """A short human summary of an audit: overall accuracy, worst group, largest gaps."""
    ds = document["dataset"]
    cfg = document["config"]
    m = document["metrics"]
    lines = []
    tag = " (synthetic data)" if ds.get("synthetic") else ""
    kind = document.get("kind", "audit")
    if kind == "evaluate" and document.get("training") is None:
        source = document.get("source") or {}
        lines.append(
            f"fairsuite evaluate: {source.get('predictions', ds['name'])}, truth {ds['task']}, "
            f"seed {document['seed']}"
        )
    else:
        lines.append(
            f"fairsuite {kind}: {ds['name']}{tag}, task {ds['task']}, model {cfg.get('model')} "
            f"on {cfg.get('device')}, seed {document['seed']}"
        )
    targets = ds.get("target_attributes") or ()
    hl = headline_of(document)
    if m.get("interval_method"):
        lines.append(f"overall accuracy   {_stat(m['overall'].get('accuracy'))}  n={m['n']:,}")
        lines.append(f"intervals          {interval_short(m)}")
    else:
        lines.append(
            f"overall accuracy   {_stat(m['overall'].get('accuracy'))}  n={m['n']:,}  "
            f"({interval_text(m)})"
        )
    warning = baseline_warning(m)
    if warning:
        lines.append(f"WARNING            {warning}")
    integrity = _integrity_line(ds)
    if integrity:
        lines.append(integrity)
    training = _training_line(document.get("training"))
    if training:
        lines.append(training)
    worst = hl.get("worst_group")
    if worst is not None:
        lines.append(
            f"worst group        {worst['attribute']} = {worst['group']}: accuracy "
            f"{_stat(worst['value'])}  n={worst['n']:,}"
        )
    gaps = hl.get("gaps") or []
    if gaps:
        lines.append("largest gaps between groups (highest minus lowest group rate, 0-1):")
        width = max(len(g["metric"]) for g in gaps)
        awidth = max(len(g["attribute"]) for g in gaps)
        for g in gaps:
            lines.append(
                f"  {g['metric']:<{width}}  {g['attribute']:<{awidth}}  {_stat(g['difference'])}"
                f"  worst {g['worst_group']} (n={g['n_worst']}) vs best {g['best_group']} "
                f"(n={g['n_best']})"
            )
    target_names = [
        a["name"]
        for a in m["attributes"]
        if not a.get("intersection") and is_target_related(a, targets)
    ]
    if target_names:
        lines.append(
            f"{', '.join(target_names)} (task {ds['task']}): FPR/FNR/selection-rate gaps and "
            f"demographic parity {TARGET_REASON}; only accuracy and error rate are compared "
            "across its groups (also in intersections)"
        )
    changes = (ds.get("load_report") or {}).get("changes") or []
    if changes:
        lines.append(
            f"changes to the data  {len(changes)} (announced on stderr, listed in the report)"
        )
    small = sorted(
        {f"{a['name']} = {g}" for a in m["attributes"] for g in a.get("insufficient_groups", [])}
    )
    if small:
        shown = ", ".join(small[:6]) + (f", ... ({len(small)} in all)" if len(small) > 6 else "")
        lines.append(
            f"below min_group_size={m.get('min_group_size')} (reported, not compared): {shown}"
        )
    lines.extend(_gate_lines(document))
    if out:
        lines.append(f"wrote {out}/result.json, {out}/report.html")
    return "\n".join(lines)


def format_compare_summary(document: dict[str, Any], *, out: str | None = None) -> str:
    """The N x N table (rows: trained on, columns: tested on) of accuracy and largest gap."""
    names = document["datasets"]
    cells = {(c["train"], c["test"]): c["metrics"] for c in document["cells"]}
    headlines = {
        (c["train"], c["test"]): c.get("headline") or headline_of({}, c["metrics"])
        for c in document["cells"]
    }
    first = document["cells"][0]["metrics"] if document["cells"] else {}
    ci = int(round(100 * (first.get("ci") or 0.95)))
    lines = [
        f"fairsuite compare: task {document['task']}, {document['train_size']:,} training rows "
        f"per model, model {document['config'].get('model')}, seed {document['seed']}"
        + (
            f", every model trained with intervention {document['config']['intervention']}"
            if document["config"].get("intervention")
            else ""
        ),
        f"intervals: {interval_short(first)}" if first else "intervals: none",
        f"overall accuracy [{ci}% interval] (rows: trained on; columns: tested on)",
    ]
    width = max(len(n) for n in names) + 2
    col = 24
    lines.append(" " * width + "".join(f"{n:<{col}}" for n in names))
    for a in names:
        row = f"{a:<{width}}"
        for b in names:
            row += f"{_stat(cells[(a, b)]['overall'].get('accuracy')):<{col}}"
        lines.append(row)
    lines.append(
        f"largest accuracy gap between groups, any attribute (highest minus lowest group "
        f"accuracy, 0-1) [{ci}% interval]"
    )
    lines.append(" " * width + "".join(f"{n:<{col}}" for n in names))
    for a in names:
        row = f"{a:<{width}}"
        for b in names:
            gap = headlines[(a, b)].get("accuracy_gap")
            row += f"{(_stat(gap['difference']) if gap else 'n/a'):<{col}}"
        lines.append(row)
    for a in names:
        for b in names:
            warning = baseline_warning(cells[(a, b)])
            if warning:
                lines.append(f"WARNING  trained on {a}, tested on {b}: {warning}")
    targets = document.get("target_attributes") or []
    if targets:
        lines.append(
            f"{', '.join(targets)} (task {document['task']}): FPR/FNR/selection-rate gaps and "
            f"demographic parity {TARGET_REASON}; only accuracy and error rate are compared "
            "across its groups"
        )
    lines.extend(_gate_lines(document))
    if out:
        lines.append(f"wrote {out}/result.json, {out}/report.html")
    return "\n".join(lines)
