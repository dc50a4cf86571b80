"""Plain-text summaries of result documents, for the terminal (stdout)."""

from __future__ import annotations

import math
from typing import Any

__all__ = ["format_audit_summary", "format_compare_summary", "largest_gaps", "worst_group"]

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


def worst_group(metrics: dict[str, Any], metric: str = "accuracy") -> dict[str, Any] | None:
    """The evaluable group (any attribute, intersections included) with the worst ``metric``."""
    worst: dict[str, Any] | None = None
    for attr in metrics["attributes"]:
        for group in attr["groups"]:
            if group.get("insufficient"):
                continue
            value = (group["metrics"].get(metric) or {}).get("value")
            if value is None:
                continue
            worse = worst is None or (
                value > worst["value"] if metric in _HIGHER_IS_WORSE else value < worst["value"]
            )
            if worse:
                worst = {
                    "attribute": attr["name"],
                    "group": group["group"],
                    "n": group["n"],
                    "value": value,
                    "stat": group["metrics"][metric],
                }
    return worst


def largest_gaps(metrics: dict[str, Any], k: int = 5) -> list[dict[str, Any]]:
    """The ``k`` largest between-group differences (any attribute), with their intervals."""
    gaps = []
    for attr in metrics["attributes"]:
        sizes = {g["group"]: g["n"] for g in attr["groups"]}
        for metric, disp in attr.get("disparities", {}).items():
            if metric not in _GAP_METRICS:
                continue
            diff = disp.get("difference") or {}
            if diff.get("value") is None:
                continue
            gaps.append(
                {
                    "attribute": attr["name"],
                    "metric": metric,
                    "difference": diff,
                    "worst_group": disp.get("worst_group"),
                    "best_group": disp.get("best_group"),
                    "n_worst": sizes.get(disp.get("worst_group")),
                    "n_best": sizes.get(disp.get("best_group")),
                }
            )
    gaps.sort(key=lambda g: (-g["difference"]["value"], g["attribute"], g["metric"]))
    return gaps[:k]


def format_audit_summary(document: dict[str, Any], *, out: str | None = None) -> str:
    """A short human summary of an audit: overall accuracy, worst group, largest gaps."""
    ds = document["dataset"]
    cfg = document["config"]
    m = document["metrics"]
    lines = []
    tag = " (synthetic data)" if ds.get("synthetic") else ""
    lines.append(
        f"fairsuite audit: {ds['name']}{tag}, task {ds['task']}, model {cfg.get('model')} "
        f"on {cfg.get('device')}, seed {document['seed']}"
    )
    ci = int(round(100 * m.get("ci", 0.95)))
    lines.append(
        f"overall accuracy   {_stat(m['overall'].get('accuracy'))}  n={m['n']:,}  "
        f"({ci}% bootstrap intervals, {m.get('n_boot', 0)} replicates)"
    )
    worst = worst_group(m)
    if worst is not None:
        lines.append(
            f"worst group        {worst['attribute']} = {worst['group']}: accuracy "
            f"{_stat(worst['stat'])}  n={worst['n']:,}"
        )
    gaps = largest_gaps(m)
    if gaps:
        lines.append("largest gaps (max - min between groups):")
        width = max(len(g["metric"]) for g in gaps)
        awidth = max(len(g["attribute"]) for g in gaps)
        for g in gaps:
            lines.append(
                f"  {g['metric']:<{width}}  {g['attribute']:<{awidth}}  {_stat(g['difference'])}"
                f"  worst {g['worst_group']} (n={g['n_worst']}) vs best {g['best_group']} "
                f"(n={g['n_best']})"
            )
    small = sorted(
        {f"{a['name']} = {g}" for a in m["attributes"] for g in a.get("insufficient_groups", [])}
    )
    if small:
        shown = ", ".join(small[:6]) + (f", ... ({len(small)} in all)" if len(small) > 6 else "")
        lines.append(
            f"below min_group_size={m.get('min_group_size')} (reported, not compared): {shown}"
        )
    if out:
        lines.append(f"wrote {out}/result.json, {out}/report.html")
    return "\n".join(lines)


def format_compare_summary(document: dict[str, Any], *, out: str | None = None) -> str:
    """The N x N table (rows: trained on, columns: tested on) of accuracy and largest gap."""
    names = document["datasets"]
    cells = {(c["train"], c["test"]): c["metrics"] for c in document["cells"]}
    lines = [
        f"fairsuite compare: task {document['task']}, {document['train_size']:,} training rows "
        f"per model, model {document['config'].get('model')}, seed {document['seed']}",
        "accuracy [95% CI] (rows: trained on; columns: tested on)",
    ]
    width = max(len(n) for n in names) + 2
    col = 24
    lines.append(" " * width + "".join(f"{n:<{col}}" for n in names))
    for a in names:
        row = f"{a:<{width}}"
        for b in names:
            row += f"{_stat(cells[(a, b)]['overall'].get('accuracy')):<{col}}"
        lines.append(row)
    lines.append("largest accuracy gap between groups (any attribute)")
    lines.append(" " * width + "".join(f"{n:<{col}}" for n in names))
    for a in names:
        row = f"{a:<{width}}"
        for b in names:
            gaps = [g for g in largest_gaps(cells[(a, b)], k=50) if g["metric"] == "accuracy"]
            row += f"{(_stat(gaps[0]['difference']) if gaps else 'n/a'):<{col}}"
        lines.append(row)
    if out:
        lines.append(f"wrote {out}/result.json, {out}/report.html")
    return "\n".join(lines)
