"""Dataset composition: who is in the data, how balanced, and how many images are on disk."""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np

from fairsuite.data._dataset import Dataset

__all__ = ["composition"]

_SEP = " x "


def _order(dataset: Dataset, col: str, present: Any) -> list[str]:
    """Groups of ``col`` in card order (e.g. age bins in age order), then any others sorted."""
    card = dataset.card
    known: list[str] = []
    if card is not None and col in getattr(card, "taxonomy", {}):
        known = [g for g in card.taxonomy[col].groups if g in set(present)]
    return known + sorted(set(present) - set(known))


def _groups(
    dataset: Dataset, cols: list[str], classes: tuple[str, ...]
) -> dict[str, dict[str, Any]]:
    table = dataset.table
    n_total = len(table)
    parts = [table[c].astype(str) for c in cols]
    key = parts[0]
    for p in parts[1:]:
        key = key + _SEP + p
    orders = [_order(dataset, c, p.unique()) for c, p in zip(cols, parts, strict=True)]
    rank = {tuple(o): i for i, o in enumerate(itertools.product(*orders))}
    counts = key.value_counts()
    y = table["y"].to_numpy()
    ordered = sorted(counts.index, key=lambda g: rank.get(tuple(g.split(_SEP)), len(rank)))
    out: dict[str, dict[str, Any]] = {}
    for group in ordered:
        mask = (key == group).to_numpy()
        n = int(mask.sum())
        yc = np.bincount(y[mask], minlength=len(classes))
        out[group] = {
            "n": n,
            "share": n / n_total if n_total else math.nan,
            "label_balance": {c: float(yc[i] / n) for i, c in enumerate(classes)},
        }
    return out


def _balance(groups: dict[str, dict[str, Any]]) -> tuple[float, float]:
    shares = np.array([g["share"] for g in groups.values()], dtype=float)
    if len(shares) < 2:
        return 1.0, math.nan
    ratio = float(shares.max() / shares.min())
    p = shares[shares > 0]
    entropy = float(-(p * np.log(p)).sum() / math.log(len(shares)))
    return ratio, entropy


def composition(dataset: Dataset, *, n_smallest: int = 5) -> dict[str, Any]:
    """Describe who is in ``dataset``: sizes, shares and label balance per group.

    Computed from the labels, so it works when only some images are on disk.

    Parameters
    ----------
    dataset : Dataset
        A loaded dataset.
    n_smallest : int, default 5
        How many of the smallest intersectional cells to list.

    Returns
    -------
    dict
        ``{"n", "splits": {split: rows}, "attributes": {attr: {"groups": {group: {"n", "share",
        "label_balance": {class: share}}}, "imbalance_ratio", "normalized_entropy"}},
        "intersection": {"columns", "groups", "imbalance_ratio", "normalized_entropy",
        "smallest": [{"group", "n", "share"}]}, "images": {"listed", "present"} | None,
        "task", "classes", "synthetic"}``.

        How to read it: ``imbalance_ratio`` is the largest group share over the smallest
        (1 = balanced; 16 = the largest group is 16 times the smallest).
        ``normalized_entropy`` is the Shannon entropy of the group shares divided by its
        maximum, log(number of groups): 1 = perfectly balanced, towards 0 = one group dominates.
    """
    table = dataset.table
    classes = dataset.classes
    splits = {str(k): int(v) for k, v in sorted(table["split"].value_counts().items())}
    attributes: dict[str, Any] = {}
    for attr in dataset.sensitive:
        groups = _groups(dataset, [attr], classes)
        ratio, entropy = _balance(groups)
        attributes[attr] = {
            "groups": groups,
            "imbalance_ratio": ratio,
            "normalized_entropy": entropy,
        }
    cols = list(dataset.sensitive)
    inter = _groups(dataset, cols, classes)
    ratio, entropy = _balance(inter)
    smallest = sorted(inter.items(), key=lambda kv: (kv[1]["n"], kv[0]))[:n_smallest]
    images = None
    if dataset.kind == "image":
        if "image_present" in table:
            images = {"listed": len(table), "present": int(table["image_present"].sum())}
        elif dataset.report is not None and dataset.report.images_listed is not None:
            images = {
                "listed": int(dataset.report.images_listed),
                "present": int(dataset.report.images_present or 0),
            }
    return {
        "dataset": dataset.name,
        "task": dataset.task,
        "classes": list(classes),
        "synthetic": bool(dataset.synthetic),
        "n": len(table),
        "splits": splits,
        "attributes": attributes,
        "intersection": {
            "columns": cols,
            "groups": inter,
            "imbalance_ratio": ratio,
            "normalized_entropy": entropy,
            "smallest": [{"group": g, "n": d["n"], "share": d["share"]} for g, d in smallest],
        },
        "images": images,
    }
