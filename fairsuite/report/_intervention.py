"""The report's view of a run's intervention: the training composition before and after."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["intervention_context"]


def _num(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _cells(raw: Any) -> dict[tuple[str, str], float]:
    out: dict[tuple[str, str], float] = {}
    if isinstance(raw, Mapping):
        for group, labels in raw.items():
            if isinstance(labels, Mapping):
                for label, v in labels.items():
                    f = _num(v)
                    if f is not None:
                        out[(str(group), str(label))] = f
    return out


def intervention_context(raw: Any, classes: list[str]) -> dict[str, Any] | None:
    """What the template shows: facts, one row per group x label (before, target, after), the
    synthetic rows' fidelity and shortfalls, and a mitigation's fitted rules."""
    if not isinstance(raw, Mapping):
        return None
    before, after, target = _cells(raw.get("before")), _cells(raw.get("after")), _cells(
        raw.get("target")
    )
    n_before = sum(before.values()) or 1.0
    n_after = sum(after.values()) or 1.0
    order = {c: i for i, c in enumerate(classes)}
    keys = sorted(set(before) | set(after), key=lambda k: (k[0], order.get(k[1], len(order)), k[1]))
    rows = [
        {
            "group": g,
            "label": label,
            "before": before.get((g, label), 0.0),
            "before_share": before.get((g, label), 0.0) / n_before,
            "target": target.get((g, label)),
            "after": after.get((g, label), 0.0),
            "after_share": after.get((g, label), 0.0) / n_after,
        }
        for g, label in keys
    ]
    counts = raw.get("rows") if isinstance(raw.get("rows"), Mapping) else {}
    balance = raw.get("balance")
    shortfalls = [
        {"group": g, "label": label, "n": n} for (g, label), n in sorted(
            _cells(raw.get("shortfalls")).items()) if n > 0
    ]
    mitigation = raw.get("mitigation") if isinstance(raw.get("mitigation"), Mapping) else None
    rules = []
    if mitigation and isinstance(mitigation.get("rules"), Mapping):
        for group, rule in sorted(mitigation["rules"].items()):
            if isinstance(rule, Mapping):
                rules.append({
                    "group": str(group),
                    "text": ", ".join(f"{k} {v}" for k, v in sorted(rule.items())),
                })
    fidelity = raw.get("fidelity") if isinstance(raw.get("fidelity"), Mapping) else None
    return {
        "kind": str(raw.get("kind", "")),
        "family": str(raw.get("family", "")),
        "by": " x ".join(str(b) for b in raw.get("by") or []),
        "balance": balance if isinstance(balance, str) else ("given shares" if balance else None),
        "method": raw.get("method"),
        "weighted": raw.get("kind") == "reweigh",
        "rows": [
            (label, counts.get(key))
            for key, label in (
                ("before", "rows before"),
                ("after", "rows after"),
                ("added", "added"),
                ("removed", "removed"),
                ("reweighted", "reweighted"),
                ("duplicated", "of the added: copies"),
                ("synthetic", "of the added: synthetic"),
            )
            if counts.get(key) is not None
        ],
        "cells": rows,
        "fidelity": None if fidelity is None else {
            "overall": _num(fidelity.get("overall")),
            "column_shapes": _num(fidelity.get("column_shapes")),
            "column_pair_trends": _num(fidelity.get("column_pair_trends")),
            "compared_with": str(fidelity.get("compared_with", "")),
        },
        "synthesizer": raw.get("synthesizer"),
        "shortfalls": shortfalls,
        "mitigation": None if mitigation is None else {
            "method": str(mitigation.get("method", "")),
            "constraint": str(mitigation.get("constraint", "")),
            "rules": rules,
            "predictors": mitigation.get("predictors"),
        },
        "constraint": raw.get("constraint"),
    }
