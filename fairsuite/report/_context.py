"""Turn a result document into the template context: normalising, sorting, charts.

Templates only loop and branch; everything that decides *what* is shown (which group is the
worst, which gap is the largest, the order of groups, the chart SVGs) is decided here, once.
Number formatting lives in the Jinja filters of :mod:`fairsuite.report._render`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from importlib import resources
from typing import Any

__all__ = ["build_context"]

METRIC_LABELS = {
    "accuracy": "Accuracy",
    "error_rate": "Error rate",
    "selection_rate": "Selection rate",
    "base_rate": "Base rate",
    "tpr": "TPR",
    "fpr": "FPR",
    "fnr": "FNR",
    "tnr": "TNR",
    "precision": "Precision",
}
METRIC_HELP = {
    "accuracy": "share of correct predictions",
    "error_rate": "share of wrong predictions (1 - accuracy)",
    "selection_rate": "share predicted positive",
    "base_rate": "share truly positive (a property of the data, not the model)",
    "tpr": "true-positive rate (recall): positives correctly found",
    "fpr": "false-positive rate: negatives wrongly flagged positive",
    "fnr": "false-negative rate: positives missed",
    "tnr": "true-negative rate (specificity)",
    "precision": "share of positive predictions that are right",
}
# the columns of the per-group tables, in this order, when the document reports them
GROUP_COLUMNS = ("accuracy", "error_rate", "tpr", "fpr", "fnr", "selection_rate")
SUMMARY_LABELS = {
    "demographic_parity_difference": ("Demographic parity difference", "pp"),
    "demographic_parity_ratio": ("Demographic parity ratio", "num"),
    "equalized_odds_difference": ("Equalized odds difference", "pp"),
    "equal_opportunity_difference": ("Equal opportunity difference", "pp"),
}
SUMMARY_HELP = {
    "demographic_parity_difference": "largest minus smallest selection rate; 0 = equal",
    "demographic_parity_ratio": "smallest over largest selection rate; 1 = equal",
    "equalized_odds_difference": "larger of the TPR and FPR gaps; 0 = equal",
    "equal_opportunity_difference": "largest minus smallest TPR; 0 = equal",
}
AUDIT_KEYS = frozenset(
    {
        "schema_version",
        "kind",
        "fairsuite_version",
        "dataset",
        "config",
        "config_hash",
        "seed",
        "training",
        "metrics",
        "gate",
        "environment",
        # schema 2
        "spec",
        "settings",
        "source",
        "headline",
        "timings",
        "intervention",
    }
)
COMPARE_KEYS = frozenset(
    {
        "classes",
        "interventions",
        "synthetic",
        "schema_version",
        "kind",
        "fairsuite_version",
        "datasets",
        "task",
        "sensitive",
        "target_attributes",
        "load_reports",
        "train_size",
        "config",
        "config_hash",
        "seed",
        "compositions",
        "checksums",
        "cells",
        "training",
        "gate",
        "environment",
    }
)
GATE_TEXT = {"pass": "PASS", "fail": "FAIL", "inconclusive": "INCONCLUSIVE"}
#: Metrics that stay meaningful across the groups of an attribute that is the target.
TARGET_METRICS = ("accuracy", "error_rate")


# --------------------------------------------------------------------------- small helpers
def _float(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) or math.isinf(f) else f


def _metric(raw: Any, reason: str = "not reported") -> dict[str, Any]:
    """Normalise a metric/interval dict: always value, ci_low, ci_high, reason; NaN -> None."""
    if not isinstance(raw, Mapping):
        if _float(raw) is not None:
            return {"value": _float(raw), "ci_low": None, "ci_high": None, "reason": None}
        return {"value": None, "ci_low": None, "ci_high": None, "reason": reason}
    value = _float(raw.get("value"))
    why = raw.get("reason")
    return {
        "value": value,
        "ci_low": _float(raw.get("ci_low")),
        "ci_high": _float(raw.get("ci_high")),
        "reason": (str(why) if why else None) if value is not None else str(why or reason),
    }


def _label(group: Any) -> str:
    if isinstance(group, (list, tuple)):
        return " × ".join(str(g) for g in group)
    return str(group)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


def _count(value: Any) -> int | None:
    f = _float(value)
    return None if f is None else int(f)


def _css() -> Any:
    from markupsafe import Markup

    text = (resources.files("fairsuite.report") / "static" / "report.css").read_text("utf-8")
    return Markup(text)  # trusted: shipped with the package


def _yaml(obj: Any) -> str:
    import yaml  # type: ignore[import-untyped, unused-ignore]

    from fairsuite._io import _clean

    text = yaml.safe_dump(_clean(obj), sort_keys=True, default_flow_style=False, allow_unicode=True)
    return str(text)


def _json(obj: Any) -> str:
    from fairsuite._io import dumps_json

    return dumps_json(obj)


def _scalar_text(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(_scalar_text(v) for v in value)
    return str(value)


# --------------------------------------------------------------------------- metrics part
def _metric_order(metrics_doc: Mapping[str, Any]) -> list[str]:
    listed = [str(m) for m in metrics_doc.get("metrics") or []]
    known = [m for m in METRIC_LABELS if m in listed or not listed]
    return known + sorted(m for m in listed if m not in METRIC_LABELS)


def _attribute_table(
    attr: Mapping[str, Any],
    metric_order: list[str],
    idx: int,
    prefix: str,
    targets: Iterable[str] = (),
) -> dict[str, Any]:
    from fairsuite.experiments._summary import TARGET_REASON, is_target_related

    name = str(attr.get("name", f"attribute {idx}"))
    target = is_target_related(dict(attr), list(targets))
    if target:  # only accuracy and error rate stay meaningful across the target's groups
        metric_order = [m for m in metric_order if m in TARGET_METRICS]
    rows: list[dict[str, Any]] = []
    for g in attr.get("groups") or []:
        raw_metrics = g.get("metrics") or {}
        test = g.get("test") or {}
        rows.append(
            {
                "group": _label(g.get("group")),
                "n": _count(g.get("n")),
                "insufficient": bool(g.get("insufficient")),
                "metrics": {m: _metric(raw_metrics.get(m)) for m in metric_order},
                "test": {
                    "metric": str(test.get("metric") or "error_rate"),
                    "p_value": _float(test.get("p_value")),
                    "p_adjusted": _float(test.get("p_adjusted")),
                    "significant": test.get("significant"),
                    "reason": str(test["reason"]) if test.get("reason") else None,
                },
            }
        )
    rows.sort(key=lambda r: natural_key(r["group"]))
    by_group = {r["group"]: r for r in rows}
    reported = {m for g in attr.get("groups") or [] for m in (g.get("metrics") or {})}
    columns = [m for m in GROUP_COLUMNS if m in metric_order and (m in reported or not reported)]

    disparities = []
    raw_disp = attr.get("disparities") or {}
    for m in metric_order:
        if m not in raw_disp:
            continue
        d = raw_disp[m] or {}
        worst, best = d.get("worst_group"), d.get("best_group")
        worst_l = None if worst is None else _label(worst)
        best_l = None if best is None else _label(best)
        disparities.append(
            {
                "metric": m,
                "label": METRIC_LABELS.get(m, m),
                "help": METRIC_HELP.get(m, ""),
                "difference": _metric(d.get("difference"), "fewer than two groups to compare"),
                "ratio": _metric(d.get("ratio"), "fewer than two groups to compare"),
                "worst_group": worst_l,
                "worst_n": by_group[worst_l]["n"] if worst_l in by_group else None,
                "best_group": best_l,
                "best_n": by_group[best_l]["n"] if best_l in by_group else None,
            }
        )
    raw_summary = {} if target else attr.get("summary") or {}
    summary = []
    for key in list(SUMMARY_LABELS) + sorted(k for k in raw_summary if k not in SUMMARY_LABELS):
        if key not in raw_summary:
            continue
        label, kind = SUMMARY_LABELS.get(key, (key.replace("_", " ").capitalize(), "num"))
        summary.append(
            {
                "label": label,
                "kind": kind,
                "help": SUMMARY_HELP.get(key, ""),
                "value": _metric(raw_summary[key]),
            }
        )
    return {
        "name": name,
        "id": f"{prefix}-attr-{idx}-{_slug(name)}",
        "columns_attr": [str(c) for c in attr.get("columns") or [name]],
        "intersection": bool(attr.get("intersection")),
        "columns": [(m, METRIC_LABELS.get(m, m), METRIC_HELP.get(m, "")) for m in columns],
        "rows": rows,
        "disparities": disparities,
        "summary": summary,
        "insufficient_groups": sorted(_label(g) for g in attr.get("insufficient_groups") or []),
        "empty_groups": sorted(_label(g) for g in attr.get("empty_groups") or []),
        "target_related": target,
        "target_note": (
            "Other rates (TPR, FPR, FNR, selection rate, base rate, precision), their gaps and "
            f"the fairness summaries (demographic parity, equalized odds): {TARGET_REASON}"
            if target
            else None
        ),
    }


def _gap(table: Mapping[str, Any]) -> dict[str, Any] | None:
    """The error-rate gap of one attribute (accuracy as fallback), for the per-attribute table."""
    by_metric = {d["metric"]: d for d in table["disparities"]}
    for m in ("error_rate", "accuracy"):
        if m in by_metric:
            return {"attribute": table["name"], "attribute_id": table["id"], **by_metric[m]}
    return None


def _gaps_sorted(tables: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    gaps = [g for g in (_gap(t) for t in tables) if g is not None]
    return sorted(
        gaps,
        key=lambda g: (
            g["difference"]["value"] is None,
            -(g["difference"]["value"] or 0.0),
            g["attribute"],
        ),
    )


def _headline(
    metrics_doc: Mapping[str, Any], headline_doc: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The result's one headline (computed by :func:`fairsuite.metrics.headline` when an older
    document has none): the worst group and the largest gaps the summary and the gate show."""
    if headline_doc:
        return dict(headline_doc)
    from fairsuite.metrics import headline

    return headline(dict(metrics_doc)).to_dict()


def _headline_gap(g: Mapping[str, Any] | None, ids: Mapping[str, str]) -> dict[str, Any] | None:
    if not g:
        return None
    metric = str(g.get("metric"))
    return {
        "attribute": str(g.get("attribute")),
        "attribute_id": ids.get(str(g.get("attribute")), ""),
        "metric": metric,
        "metric_label": METRIC_LABELS.get(metric, metric),
        "difference": _metric(g.get("difference")),
        "worst_group": None if g.get("worst_group") is None else _label(g["worst_group"]),
        "best_group": None if g.get("best_group") is None else _label(g["best_group"]),
        "worst_n": g.get("n_worst"),
        "best_n": g.get("n_best"),
    }


def _metrics_context(
    metrics_doc: Mapping[str, Any],
    salt: str,
    targets: Iterable[str] = (),
    headline_doc: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    from fairsuite.experiments._summary import baseline_warning, interval_text
    from fairsuite.report import _charts

    targets = [str(t) for t in targets]
    order = _metric_order(metrics_doc)
    tables = [
        _attribute_table(a, order, i, salt, targets)
        for i, a in enumerate(metrics_doc.get("attributes") or [])
    ]
    overall = {m: _metric((metrics_doc.get("overall") or {}).get(m)) for m in order}
    charts = []
    for t in tables:
        metric = "error_rate" if "error_rate" in order else None
        if metric is None:
            continue
        groups = [
            {
                "label": f"{r['group']} (n={r['n']:,})" if r["n"] is not None else r["group"],
                "insufficient": r["insufficient"],
                **r["metrics"][metric],
            }
            for r in t["rows"]
        ]
        if not groups:
            continue
        ci = _float(metrics_doc.get("ci"))
        ci_text = f"{ci * 100:g}% interval" if ci is not None else "interval"
        charts.append(
            {
                "attribute": t["name"],
                "id": f"chart-{salt}-{t['id']}",
                "svg": _svg(
                    _charts.group_error_chart(
                        groups,
                        overall=overall[metric]["value"],
                        title=f"Error rate by {t['name']}",
                        xlabel=f"error rate (%), bars: {ci_text}; hollow grey: too few rows",
                        salt=f"{salt}-{t['id']}",
                    )
                ),
            }
        )
    per_class = metrics_doc.get("per_class")
    hl = _headline(metrics_doc, headline_doc)
    ids = {t["name"]: t["id"] for t in tables}
    w = hl.get("worst_group")
    worst = (
        None
        if not w
        else {
            "attribute": str(w["attribute"]),
            "attribute_id": ids.get(str(w["attribute"]), ""),
            "group": _label(w["group"]),
            "n": w.get("n"),
            "metrics": {"accuracy": _metric(w.get("value"))},
        }
    )
    return {
        "task_type": str(metrics_doc.get("task_type", "")),
        "classes": [str(c) for c in metrics_doc.get("classes") or []],
        "positive_label": metrics_doc.get("positive_label"),
        "n": _count(metrics_doc.get("n")),
        "ci": _float(metrics_doc.get("ci")),
        "n_boot": _count(metrics_doc.get("n_boot")),
        "bootstrap": metrics_doc.get("bootstrap"),
        "interval_method": (
            str(metrics_doc["interval_method"]) if metrics_doc.get("interval_method") else None
        ),
        "interval_text": interval_text(dict(metrics_doc)),
        "baseline_warning": baseline_warning(dict(metrics_doc)),
        "correction": metrics_doc.get("correction"),
        "min_group_size": _count(metrics_doc.get("min_group_size")),
        "order": [(m, METRIC_LABELS.get(m, m)) for m in order],
        "overall": overall,
        "tables": [t for t in tables if not t["intersection"]],
        "intersections": [t for t in tables if t["intersection"]],
        "all_tables": tables,
        "charts": charts,
        "gaps": _gaps_sorted(tables),
        "worst": worst,
        "headline_gaps": [_headline_gap(g, ids) for g in hl.get("gaps") or []],
        "accuracy_gap": _headline_gap(hl.get("accuracy_gap"), ids),
        "per_class": _per_class(per_class, order, salt, targets) if per_class else None,
    }


def _per_class(
    raw: Any, order: list[str], salt: str, targets: Iterable[str] = ()
) -> dict[str, Any]:
    """Multiclass detail: one-vs-rest overall metrics per class (+ macro), and group tables.

    Any other shape is shown generically (``rows``), so a new field never breaks the page.
    """
    if not (isinstance(raw, Mapping) and isinstance(raw.get("by_class"), list)):
        return {"classes": [], "columns": [], "generic": _flatten(raw)}
    entries = [c for c in raw["by_class"] if isinstance(c, Mapping)]
    macro = raw.get("macro")
    if isinstance(macro, Mapping):
        entries.append({**macro, "class": "macro average"})
    present = {m for c in entries for m in (c.get("overall") or {})}
    columns = [m for m in order if m in present] + sorted(present - set(order))
    classes = []
    for i, c in enumerate(entries):
        label = str(c.get("class"))
        prefix = f"{salt}-class-{i}"
        classes.append(
            {
                "label": label,
                "heading": "Macro average over classes"
                if label == "macro average"
                else f"Class {label}",
                "id": f"{prefix}-{_slug(label)}",
                "overall": {m: _metric((c.get("overall") or {}).get(m)) for m in columns},
                "tables": [
                    _attribute_table(a, order, j, prefix, targets)
                    for j, a in enumerate(c.get("attributes") or [])
                    if isinstance(a, Mapping)
                ],
            }
        )
    return {
        "classes": classes,
        "columns": [(m, METRIC_LABELS.get(m, m), METRIC_HELP.get(m, "")) for m in columns],
        "generic": None,
    }


def _flatten(obj: Any, prefix: str = "", depth: int = 0) -> list[dict[str, Any]]:
    """Any nested mapping as rows of (path, metric-or-text), for sections shown generically."""
    rows: list[dict[str, Any]] = []
    if isinstance(obj, Mapping) and "value" in obj and depth > 0:
        return [{"path": prefix, "metric": _metric(obj), "text": None}]
    if isinstance(obj, Mapping) and depth < 6:
        for k in sorted(obj, key=str):
            rows.extend(_flatten(obj[k], f"{prefix} / {k}" if prefix else str(k), depth + 1))
        return rows
    if isinstance(obj, list) and depth < 6 and all(isinstance(v, Mapping) for v in obj):
        for i, v in enumerate(obj):
            name = v.get("class", v.get("name", v.get("group", i)))
            rows.extend(_flatten(v, f"{prefix} / {name}" if prefix else str(name), depth + 1))
        return rows
    return [{"path": prefix, "metric": None, "text": _scalar_text(obj)}]


def _svg(text: str) -> Any:
    from markupsafe import Markup

    return Markup(text)  # drawn by us; matplotlib escapes the text it writes


def natural_key(name: str) -> tuple[Any, ...]:
    """Sort key that orders numbers by value: age bins read 0-2, 3-9, 10-19, ..."""
    import re

    parts = re.split(r"(\d+)", str(name))
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts)


# --------------------------------------------------------------------------- dataset parts
def _attr_order(names: Iterable[str], preferred: Iterable[str]) -> list[str]:
    names = list(names)
    first = [p for p in preferred if p in names]
    return first + sorted(n for n in names if n not in first)


def _composition(
    comp: Mapping[str, Any] | None,
    classes: list[str],
    sensitive: list[str],
    salt: str,
    *,
    charts: bool = True,
) -> dict[str, Any] | None:
    from fairsuite.report import _charts

    if not isinstance(comp, Mapping):
        return None
    attrs_raw = comp.get("attributes") or {}
    blocks = []
    items = [(a, attrs_raw[a], False) for a in _attr_order(attrs_raw, sensitive)]
    inter = comp.get("intersection")
    if isinstance(inter, Mapping) and inter.get("groups"):
        cols = [str(c) for c in inter.get("columns") or []]
        items.append((" × ".join(cols) if cols else "intersection", inter, True))
    seen_classes = set(classes)
    for _, block, _ in items:
        for g in (block.get("groups") or {}).values():
            seen_classes.update(str(c) for c in (g.get("label_balance") or {}))
    all_classes = classes + sorted(seen_classes - set(classes))
    for i, (name, block, is_inter) in enumerate(items):
        groups = block.get("groups") or {}
        rows: list[dict[str, Any]] = [
            {
                "group": _label(k),
                "n": _count(g.get("n")),
                "share": _float(g.get("share")),
                "balance": [_float((g.get("label_balance") or {}).get(c)) for c in all_classes],
            }
            for k, g in groups.items()
        ]
        rows.sort(key=lambda r: natural_key(r["group"]))
        chart = None
        if rows and charts:
            chart = _svg(
                _charts.composition_chart(
                    [
                        {
                            "label": r["group"],
                            "n": r["n"] or 0,
                            "balance": dict(zip(all_classes, r["balance"], strict=True)),
                        }
                        for r in rows
                    ],
                    all_classes,
                    title=f"Composition by {name}",
                    salt=f"{salt}-comp-{i}",
                )
            )
        blocks.append(
            {
                "name": name,
                "id": f"{salt}-comp-{i}-{_slug(name)}",
                "intersection": is_inter,
                "rows": rows,
                "imbalance_ratio": _float(block.get("imbalance_ratio")),
                "normalized_entropy": _float(block.get("normalized_entropy")),
                "smallest": _smallest(block.get("smallest")),
                "chart": chart,
            }
        )
    splits = comp.get("splits") or {}
    images = comp.get("images")
    return {
        "n": _count(comp.get("n")),
        "splits": [(str(k), _count(v)) for k, v in sorted(splits.items())],
        "classes": all_classes,
        "blocks": blocks,
        "images": (
            {"listed": _count(images.get("listed")), "present": _count(images.get("present"))}
            if isinstance(images, Mapping)
            else None
        ),
    }


def _smallest(raw: Any) -> list[tuple[str, int | None]]:
    """The smallest cells, given as ``{"group", "n", ...}`` dicts or ``[group, n]`` pairs."""
    out = []
    for s in raw or []:
        if isinstance(s, Mapping) and "group" in s:
            out.append((_label(s["group"]), _count(s.get("n"))))
        elif isinstance(s, (list, tuple)) and len(s) == 2:
            out.append((_label(s[0]), _count(s[1])))
    return out


def _load_report(raw: Any) -> dict[str, Any] | None:
    if not isinstance(raw, Mapping):
        return None
    dropped = raw.get("dropped") or {}
    examples = raw.get("examples") or {}
    return {
        "rows_read": _count(raw.get("rows_read")),
        "rows_kept": _count(raw.get("rows_kept")),
        "dropped": [
            (str(k), _count(v), [str(e) for e in (examples.get(k) or [])][:5])
            for k, v in sorted(dropped.items())
        ],
        "images_listed": _count(raw.get("images_listed")),
        "images_present": _count(raw.get("images_present")),
        "recoded": [(str(k), _count(v)) for k, v in sorted((raw.get("recoded") or {}).items())],
        "changes": [str(c) for c in raw.get("changes") or []],
        "notes": [str(c) for c in raw.get("notes") or []],
    }


def _training(raw: Any) -> dict[str, Any] | None:
    from fairsuite.report._render import fmt_count, fmt_num, fmt_pct

    if not isinstance(raw, Mapping):
        return None
    preferred = [
        "model",
        "device",
        "precision",
        "rows_listed",
        "rows_used",
        "rows_fit",
        "rows_val",
        "epochs_run",
        "best_epoch",
        "train_rows",
        "val_rows",
    ]
    labels = {
        "epochs_run": "epochs run",
        "best_epoch": "best epoch",
        "train_rows": "training rows",
        "val_rows": "validation rows",
        "rows_listed": "training rows listed",
        "rows_used": "training rows used (fit + validation)",
        "rows_fit": "rows fit",
        "rows_val": "rows for early stopping (validation)",
    }
    fields = []
    for key in preferred + sorted(k for k in raw if k not in preferred and k != "history"):
        if key not in raw or isinstance(raw[key], (Mapping, list)):
            continue
        value = raw[key]
        counted = key.endswith("_rows") or key.startswith("rows_")
        text = fmt_count(value) if counted else _scalar_text(value)
        fields.append((labels.get(key, key.replace("_", " ")), text))
    for reason, n in sorted((raw.get("excluded") or {}).items()):
        fields.append((f"training rows excluded: {reason}", fmt_count(n)))
    for key, value in sorted((raw.get("settings") or {}).items()):
        if not isinstance(value, (Mapping, list)):
            fields.append((key.replace("_", " "), _scalar_text(value)))
    history = [h for h in raw.get("history") or [] if isinstance(h, Mapping)]
    cols_pref = ["epoch", "loss", "val_accuracy", "images_per_s"]
    keys = {k for h in history for k in h}
    cols = [c for c in cols_pref if c in keys] + sorted(k for k in keys if k not in cols_pref)

    def cell(col: str, value: Any) -> Any:
        if col == "epoch":
            return _scalar_text(value)
        if "accuracy" in col:
            return fmt_pct(value, 1)
        if col == "loss" or "loss" in col:
            return fmt_num(value, 4)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return fmt_num(value, 1)
        return _scalar_text(value)

    best = raw.get("best_epoch")
    return {
        "fields": fields,
        "history_columns": [c.replace("_", " ") for c in cols],
        "history": [
            {
                "best": h.get("epoch") == best and best is not None,
                "cells": [cell(c, h.get(c)) for c in cols],
            }
            for h in history
        ],
    }


_STATUS_TEXT = {
    "pass": "PASS",
    "fail": "FAIL",
    "inconclusive": "INCONCLUSIVE",
    "insufficient": "TOO FEW ROWS",
    "missing": "MISSING",
    "not_applicable": "N/A",
    "na": "N/A",
}
_OUTCOME_ORDER = {"fail": 0, "warn": 1, "pass": 2, "skip": 3}


def _gate_row(c: Mapping[str, Any]) -> dict[str, Any]:
    """One gate check: what, where, value with interval and n, limit, status, outcome, reason."""
    if "status" in c and "outcome" in c:  # fairsuite.gate rows
        status = str(c.get("status"))
        outcome = str(c.get("outcome"))
    else:  # a bare {name, value, threshold, passed} row
        passed = c.get("passed")
        status = "pass" if passed is True else ("fail" if passed is False else "na")
        outcome = {"pass": "pass", "fail": "fail"}.get(status, "skip")
    if status == "not_applicable":
        status = "na"
    value = _float(c.get("value"))
    lo, hi = _float(c.get("ci_low")), _float(c.get("ci_high"))
    threshold = c.get("threshold")
    return {
        "name": str(c.get("check") or c.get("name") or ""),
        "cell": None if not c.get("cell") else str(c.get("cell")),
        "where": None if not c.get("attribute") else str(c.get("attribute")),
        "group": None if c.get("group") is None else str(c.get("group")),
        "n": None if c.get("n") is None else str(c.get("n")),
        "value": (
            ""
            if c.get("kind") == "group_size"
            else f"{value:.3f}"
            if value is not None
            else _scalar_text(c.get("value"))
        ),
        "interval": f"[{lo:.3f}, {hi:.3f}]" if lo is not None and hi is not None else "",
        "threshold": (
            f"{c.get('op', '')} {_scalar_text(_float(threshold))}".strip()
            if _float(threshold) is not None
            else _scalar_text(threshold)
        ),
        "status": status,
        "status_text": _STATUS_TEXT.get(status, status.upper()),
        "outcome": outcome,
        "warn": outcome == "warn",
        "reason": None if not c.get("reason") else str(c.get("reason")),
    }


def _gate(raw: Any) -> dict[str, Any] | None:
    """The gate verdict of a result (``fairsuite.gate``): failed checks first."""
    if not isinstance(raw, Mapping):
        return None
    verdict = str(raw.get("verdict", "inconclusive")).lower()
    checks = [_gate_row(c) for c in raw.get("checks") or [] if isinstance(c, Mapping)]
    checks.sort(key=lambda c: _OUTCOME_ORDER.get(c["outcome"], 9))
    detail = raw.get("policy_detail") if isinstance(raw.get("policy_detail"), Mapping) else {}
    counts = raw.get("counts") if isinstance(raw.get("counts"), Mapping) else None
    compare = raw.get("compare")
    ci = _float(raw.get("ci"))
    return {
        "verdict": verdict if verdict in GATE_TEXT else "inconclusive",
        "text": GATE_TEXT.get(verdict, verdict.upper()),
        "checks": checks,
        "cells": any(c["cell"] for c in checks),
        "failed": [c for c in checks if c["outcome"] == "fail"],
        "warned": [c for c in checks if c["outcome"] == "warn"],
        "counts": None if counts is None else {
            k: _count(counts.get(k)) or 0
            for k in ("pass", "fail", "warn", "skip", "inconclusive", "insufficient", "missing")
        },
        "policy": _scalar_text(raw.get("policy")) if raw.get("policy") is not None else None,
        "policy_source": None if not detail.get("source") else str(detail["source"]),
        "policy_description": (
            None if not detail.get("description") else str(detail["description"])
        ),
        "how": (
            None
            if compare is None
            else (
                f"each check compares the {ci * 100:g}% interval's bound with its limit: a pass "
                "means shown within the limit; an interval that straddles it is inconclusive"
                if compare == "bound" and ci is not None
                else "each check compares the interval's bound with its limit"
                if compare == "bound"
                else "each check compares the point estimate with its limit"
            )
        ),
        "on_inconclusive": detail.get("on_inconclusive"),
        "on_insufficient": detail.get("on_insufficient"),
        "baseline": (
            None
            if not isinstance(raw.get("baseline"), Mapping)
            else _scalar_text(raw["baseline"].get("source") or raw["baseline"].get("dataset"))
        ),
        "notes": [str(n) for n in raw.get("notes") or []],
    }


def _env_rows(raw: Any) -> list[tuple[str, str]]:
    if not isinstance(raw, Mapping):
        return []
    return [(str(k), _scalar_text(v)) for k, v in sorted(raw.items(), key=lambda kv: str(kv[0]))]


def _extras(result: Mapping[str, Any], known: frozenset[str]) -> list[dict[str, str]]:
    return [{"key": str(k), "json": _json(result[k])} for k in sorted(result) if k not in known]


# --------------------------------------------------------------------------- builders
def _audit_context(result: Mapping[str, Any]) -> dict[str, Any]:
    ds = result.get("dataset") or {}
    metrics_doc = result.get("metrics") or {}
    classes = [str(c) for c in ds.get("classes") or metrics_doc.get("classes") or []]
    sensitive = [str(s) for s in ds.get("sensitive") or []]
    config = result.get("config") or {}
    audited = [str(s) for s in config.get("sensitive") or []] or [
        str(a.get("name")) for a in metrics_doc.get("attributes") or [] if not a.get("intersection")
    ]
    intersections = [
        str(a.get("name")) for a in metrics_doc.get("attributes") or [] if a.get("intersection")
    ]
    targets = [str(t) for t in ds.get("target_attributes") or []]
    metrics = _metrics_context(metrics_doc, "audit", targets, result.get("headline"))
    name = str(ds.get("name", "dataset"))
    task = str(ds.get("task", (result.get("config") or {}).get("task", "")))
    checksums = [(name, str(f), str(h)) for f, h in sorted((ds.get("checksums") or {}).items())]
    gate = _gate(result.get("gate"))
    worst = metrics["worst"]
    overall_acc = metrics["overall"].get("accuracy", _metric(None))
    summary = {
        "kind": "audit",
        "dataset": name,
        "task": task,
        "n": metrics["n"],
        "accuracy": overall_acc,
        "worst_group": None
        if worst is None
        else {
            "attribute": worst["attribute"],
            "group": worst["group"],
            "n": worst["n"],
            "accuracy": worst["metrics"]["accuracy"],
        },
        "gate": None if gate is None else gate["verdict"],
    }
    nav = [("verdict", "Headline")]
    if ds.get("synthetic"):
        nav.append(("synthetic", "Synthetic data"))
    nav += [
        ("composition", "Composition"),
        ("groups", "Groups"),
        ("intersection", "Intersections"),
        ("disparities", "Disparities"),
    ]
    if metrics["per_class"]:
        nav.append(("per-class", "Per class"))
    nav += [("charts", "Charts")]
    if result.get("intervention"):
        nav.append(("intervention", "Intervention"))
    nav += [("training", "Training"), ("provenance", "Provenance")]
    from fairsuite.report._intervention import intervention_context

    return {
        "nav": nav,
        "synthetic_names": [name] if ds.get("synthetic") else [],
        "run_word": "evaluation" if result.get("kind") == "evaluate" else "audit",
        "title": (
            f"Fairness evaluation: {name}, truth {task}"
            if result.get("kind") == "evaluate"
            else f"Fairness audit: {name}, task {task}"
        ),
        "dataset": {
            "name": name,
            "kind": str(ds.get("kind", "")),
            "task": task,
            "classes": classes,
            "positive_label": ds.get("positive_label", metrics_doc.get("positive_label")),
            "sensitive": sensitive,
            "audited": audited,
            "intersections": intersections,
            "targets": [t for t in targets if t in audited],
            "synthetic": bool(ds.get("synthetic")),
            "root": ds.get("root"),
            "mismatches": [
                {"file": str(m.get("file")), "expected": str(m.get("expected")),
                 "found": str(m.get("found"))}
                for m in (ds.get("integrity") or {}).get("mismatches") or []
                if isinstance(m, Mapping)
            ],
        },
        "metrics": metrics,
        "gate": gate,
        "composition": _composition(ds.get("composition"), classes, sensitive, "audit"),
        "load_report": _load_report(ds.get("load_report")),
        "training": _training(result.get("training")),
        "intervention": intervention_context(result.get("intervention"), classes),
        "provenance": _provenance(result, checksums, [("dataset", name), ("task", task)]),
        "summary": summary,
        "extras": _extras(result, AUDIT_KEYS),
    }


def _provenance(
    result: Mapping[str, Any], checksums: list[tuple[str, str, str]], head: list[tuple[str, str]]
) -> dict[str, Any]:
    config = result.get("config") or {}
    return {
        "facts": [
            ("result fairsuite version", _scalar_text(result.get("fairsuite_version"))),
            ("schema version", _scalar_text(result.get("schema_version"))),
            *head,
            ("seed", _scalar_text(result.get("seed"))),
            ("config hash", _scalar_text(result.get("config_hash"))),
        ],
        "checksums": checksums,
        "environment": _env_rows(result.get("environment")),
        "spec_yaml": _yaml(config) if config else None,
    }


def _compare_context(result: Mapping[str, Any]) -> dict[str, Any]:
    from fairsuite.report import _charts

    datasets = [str(d) for d in result.get("datasets") or []]
    cells_raw = [c for c in result.get("cells") or [] if isinstance(c, Mapping)]
    for c in cells_raw:  # datasets named only in cells still get a row and a column
        for key in ("train", "test"):
            if str(c.get(key)) not in datasets:
                datasets.append(str(c.get(key)))
    order = {d: i for i, d in enumerate(datasets)}
    sensitive = [str(s) for s in result.get("sensitive") or []]
    targets = [str(t) for t in result.get("target_attributes") or []]
    task = str(result.get("task", ""))

    cells = []
    for i, c in enumerate(
        sorted(cells_raw, key=lambda c: (order[str(c.get("train"))], order[str(c.get("test"))]))
    ):
        train, test = str(c.get("train")), str(c.get("test"))
        m = _metrics_context(c.get("metrics") or {}, f"cell-{i}", targets, c.get("headline"))
        cells.append(
            {
                "train": train,
                "test": test,
                "id": f"cell-{_slug(train)}-on-{_slug(test)}",
                "in_domain": train == test,
                "n": m["n"],
                "accuracy": m["overall"].get("accuracy", _metric(None)),
                "gap": m["accuracy_gap"],
                "worst": m["worst"],
                "metrics": m,
                "baseline_warning": m["baseline_warning"],
            }
        )
    grid = {(c["train"], c["test"]): c for c in cells}
    acc_vals: list[list[float | None]] = []
    gap_vals: list[list[float | None]] = []
    acc_ann: list[list[str]] = []
    gap_ann: list[list[str]] = []
    for tr in datasets:
        for table in (acc_vals, gap_vals, acc_ann, gap_ann):
            table.append([])
        for te in datasets:
            cell = grid.get((tr, te))
            a = cell["accuracy"] if cell else _metric(None)
            g = cell["gap"]["difference"] if cell and cell["gap"] else _metric(None)
            acc_vals[-1].append(None if a["value"] is None else a["value"] * 100)
            gap_vals[-1].append(None if g["value"] is None else g["value"] * 100)
            acc_ann[-1].append(_annotation(a, "%", cell))
            gap_ann[-1].append(_annotation(g, " pp", cell))
    finite_acc = [v for row in acc_vals for v in row if v is not None]
    finite_gap = [v for row in gap_vals for v in row if v is not None]
    heatmaps = []
    if datasets:
        heatmaps = [
            {
                "id": "heatmap-accuracy",
                "title": "Accuracy",
                "svg": _svg(
                    _charts.heatmap(
                        acc_vals,
                        acc_ann,
                        rows=datasets,
                        cols=datasets,
                        title="Overall accuracy (%)",
                        colorbar_label="accuracy (%), higher is better",
                        cmap="cividis",
                        vmin=_floor5(min(finite_acc, default=50.0) - 5),
                        vmax=min(100.0, _ceil5(max(finite_acc, default=100.0) + 2.5)),
                        salt="heatmap-accuracy",
                    )
                ),
            },
            {
                "id": "heatmap-gap",
                "title": "Largest accuracy gap",
                "svg": _svg(
                    _charts.heatmap(
                        gap_vals,
                        gap_ann,
                        rows=datasets,
                        cols=datasets,
                        title="Largest accuracy gap between groups (pp)",
                        colorbar_label="gap (pp), lower is more even",
                        cmap="cividis_r",
                        vmin=0.0,
                        vmax=_ceil5(max(finite_gap + [10.0])),
                        salt="heatmap-gap",
                    )
                ),
            },
        ]

    models = []
    for tr in datasets:
        own = grid.get((tr, tr))
        others = [grid[(tr, te)] for te in datasets if te != tr and (tr, te) in grid]
        other_acc = [o for o in others if o["accuracy"]["value"] is not None]
        lowest = min(other_acc, key=lambda o: (o["accuracy"]["value"], o["test"]), default=None)
        mine = [grid[(tr, te)] for te in datasets if (tr, te) in grid]
        with_gap = [c for c in mine if c["gap"] and c["gap"]["difference"]["value"] is not None]
        widest = max(
            with_gap, key=lambda c: (c["gap"]["difference"]["value"], c["test"]), default=None
        )
        models.append({"train": tr, "own": own, "lowest_other": lowest, "widest": widest})

    compositions_raw = result.get("compositions") or {}
    classes = [str(c) for c in result.get("classes") or []]
    comps = {}
    for d in datasets:
        comps[d] = _composition(
            compositions_raw.get(d), classes, sensitive, f"comp-{_slug(d)}", charts=False
        )
    flags = result.get("synthetic")
    synthetic_names = [
        d
        for d in datasets
        if (isinstance(flags, Mapping) and flags.get(d))
        or (isinstance(compositions_raw.get(d), Mapping) and compositions_raw[d].get("synthetic"))
    ]
    side_by_side = _side_by_side(compositions_raw, datasets, sensitive)
    checksums_raw = result.get("checksums") or {}
    checksums = [
        (str(d), str(f), str(h))
        for d in sorted(checksums_raw, key=lambda d: (order.get(str(d), len(order)), str(d)))
        for f, h in sorted((checksums_raw[d] or {}).items())
    ]
    training_raw = result.get("training") or {}
    training = [
        (d, _training(training_raw.get(d))) for d in datasets if _training(training_raw.get(d))
    ]
    from fairsuite.report._intervention import intervention_context

    interventions_raw = result.get("interventions") or {}
    interventions = {
        d: ctx
        for d in datasets
        if (ctx := intervention_context(interventions_raw.get(d), classes)) is not None
    }
    gate = _gate(result.get("gate"))
    summary = {
        "kind": "compare",
        "datasets": datasets,
        "task": task,
        "cells": [
            {
                "train": c["train"],
                "test": c["test"],
                "n": c["n"],
                "accuracy": c["accuracy"],
                "largest_gap": None if c["gap"] is None else c["gap"]["difference"],
            }
            for c in cells
        ],
        "gate": None if gate is None else gate["verdict"],
    }
    nav = [("verdict", "Headline")]
    if synthetic_names:
        nav.append(("synthetic", "Synthetic data"))
    return {
        "synthetic_names": synthetic_names,
        "run_word": "comparison",
        "nav": nav
        + [
            ("composition", "Composition"),
            ("heatmaps", "Train × test"),
            ("cells", "Cells"),
            ("breakdown", "Breakdown"),
            ("training", "Training"),
            ("provenance", "Provenance"),
        ],
        "title": f"Cross-dataset comparison: {' vs '.join(datasets)}, task {task}",
        "datasets": datasets,
        "task": task,
        "sensitive": sensitive,
        "targets": targets,
        "interval_text": cells[0]["metrics"]["interval_text"] if cells else None,
        "load_reports": [
            (d, lr)
            for d in datasets
            if (lr := _load_report((result.get("load_reports") or {}).get(d))) is not None
        ],
        "train_size": _count(result.get("train_size")),
        "cells": cells,
        "models": models,
        "heatmaps": heatmaps,
        "side_by_side": side_by_side,
        "compositions": comps,
        "training": training,
        "interventions": interventions,
        "gate": gate,
        "provenance": _provenance(
            result, checksums, [("datasets", ", ".join(datasets)), ("task", task)]
        ),
        "summary": summary,
        "extras": _extras(result, COMPARE_KEYS),
    }


def _floor5(x: float) -> float:
    return max(0.0, 5.0 * math.floor(x / 5.0))


def _ceil5(x: float) -> float:
    return 5.0 * math.ceil(x / 5.0)


def _annotation(m: Mapping[str, Any], unit: str, cell: Any) -> str:
    if cell is None:
        return "not run"
    if m["value"] is None:
        return "n/a"
    text = f"{m['value'] * 100:.1f}{unit}"
    if m["ci_low"] is not None and m["ci_high"] is not None:
        text += f"\n[{m['ci_low'] * 100:.1f}, {m['ci_high'] * 100:.1f}]"
    if cell.get("n") is not None:
        text += f"\nn={cell['n']:,}"
    return text


def _side_by_side(
    compositions: Mapping[str, Any], datasets: list[str], sensitive: list[str]
) -> list[dict[str, Any]]:
    """Per attribute: one row per group, one (n, share) column pair per dataset, plus a chart."""
    from fairsuite.report import _charts

    blocks: dict[str, dict[str, dict[str, Any]]] = {}
    for d in datasets:
        comp = compositions.get(d)
        if not isinstance(comp, Mapping):
            continue
        for attr, block in (comp.get("attributes") or {}).items():
            for g, v in (block.get("groups") or {}).items():
                blocks.setdefault(str(attr), {}).setdefault(_label(g), {})[d] = v
        inter = comp.get("intersection")
        if isinstance(inter, Mapping):
            name = " × ".join(str(c) for c in inter.get("columns") or []) or "intersection"
            for g, v in (inter.get("groups") or {}).items():
                blocks.setdefault(name, {}).setdefault(_label(g), {})[d] = v
    out = []
    for i, attr in enumerate(_attr_order(blocks, sensitive)):
        groups = sorted(blocks[attr], key=natural_key)
        rows: list[dict[str, Any]] = [
            {
                "group": g,
                "cells": [
                    (
                        _count((blocks[attr][g].get(d) or {}).get("n")),
                        _float((blocks[attr][g].get(d) or {}).get("share")),
                    )
                    for d in datasets
                ],
            }
            for g in groups
        ]
        series: list[tuple[str, list[float | None]]] = [
            (d, [r["cells"][j][1] for r in rows]) for j, d in enumerate(datasets)
        ]
        out.append(
            {
                "name": attr,
                "id": f"side-{i}-{_slug(attr)}",
                "rows": rows,
                "chart": _svg(
                    _charts.compare_composition_chart(
                        groups,
                        series,
                        title=f"Share of each {attr} group",
                        salt=f"side-{i}",
                    )
                ),
            }
        )
    return out


def build_context(result: Mapping[str, Any]) -> dict[str, Any]:
    """Build the template context for an audit or compare result document.

    Parameters
    ----------
    result : Mapping
        The result document (``kind`` ``"audit"`` or ``"compare"``); not modified.

    Returns
    -------
    dict
        Everything the templates show, already sorted, with chart SVGs as markup.
    """
    from fairsuite import __version__

    kind = result.get("kind")
    ctx = _audit_context(result) if kind in ("audit", "evaluate") else _compare_context(result)
    ctx["kind"] = kind
    ctx["generator"] = f"fairsuite v{__version__}"
    ctx["css"] = _css()
    return ctx
