"""Target compositions: what share of the training rows each group x label cell should hold.

A *sampling strategy* names the composition an intervention moves the training split to, over
the groups of one sensitive attribute (or the intersection of several) and the labels:

- ``"natural"``: the training split's own shares (n_gc / N);
- ``"uniform"``: every group the same share (1 / G), each group keeping its own label balance;
- ``"parity"``: every group keeps its share, and every group gets the overall label balance --
  equal base rates in every group (demographic parity in the training labels). Reweighing to
  it is Kamiran & Calders (2012): w(g, c) = N_g * N_c / (N * N_gc);
- a mapping group -> share (shares sum to 1; each group keeps its label balance), or
  group -> {label -> share} (every cell named; all shares sum to 1);
- another dataset's composition (a :class:`fairsuite.data.Dataset` or a table with the same
  columns): its group x label shares.

This module imports nothing heavy, so the RunSpec can check a mapping's shape when it is read.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from fairsuite.exceptions import InvalidInputError, SpecError

__all__ = [
    "STRATEGY_NAMES",
    "one_group_share",
    "Cell",
    "check_balance_shape",
    "group_keys",
    "cell_counts",
    "target_shares",
]

#: The named sampling strategies.
STRATEGY_NAMES = ("uniform", "parity", "natural")
#: Separator of an intersection's group name ("White x Female"), as compositions write it.
SEP = " x "

#: A cell: (group name, label code).
Cell = tuple[str, int]

_SUM_NOT_ONE = (
    "{source}: the shares in 'balance' must sum to 1; they sum to {total:.6g} ({items}). Fix the "
    "shares."
)
_BAD_SHARE = (
    "{source}: 'balance' share for {key!r} must be a number in [0, 1] (or, per group, a mapping "
    "label -> share); got {value!r}."
)
_BAD_SHAPE = (
    "{source}: 'balance' must be one of {names}, a YAML file, or a mapping group -> share; "
    "got {value!r}."
)
UNKNOWN_GROUP = (
    "balance names group {group!r} of {by}, which the training split does not have. Groups: "
    "{groups}. Fix the name in 'balance'."
)
UNKNOWN_LABEL = (
    "balance names label {label!r} for group {group!r}; the labels are {labels}. Fix 'balance'."
)
EMPTY_CELL = (
    "balance asks for {share:.3g} of the training rows in {cell}, which has no training rows; "
    "nothing can be resampled or reweighted from it. Give it share 0 or choose another target."
)
MISSING_COLUMN = (
    "cannot rebalance by {column!r}: the table has no such column (columns: {columns}). Pass a "
    "sensitive attribute with --balance-by."
)
OTHER_MISSING = (
    "the composition to match lacks column {column!r} (it has: {columns}); it must have the "
    "balance-by attribute(s) and 'y'."
)


def one_group_share(value: Any) -> tuple[str, float] | None:
    """``"GROUP=SHARE"`` as (group, share), else None (the share must be in [0, 1])."""
    if not isinstance(value, str) or "=" not in value:
        return None
    group, _, share = value.rpartition("=")
    try:
        f = float(share)
    except ValueError:
        return None
    return (group.strip(), f) if group.strip() and 0.0 <= f <= 1.0 else None


def check_balance_shape(
    value: Any, *, source: str = "run spec", allow_one_group: bool = False
) -> None:
    """Check a ``balance`` value without data: a name, a YAML path, or shares summing to 1
    (with ``allow_one_group``, also ``"GROUP=SHARE"``: one group's share, the others in their
    natural proportions).

    Raises
    ------
    SpecError
        A share that is not a number in [0, 1], or shares that do not sum to 1 (exit code 2).
    """
    if value is None:
        return
    if isinstance(value, str):
        if value in STRATEGY_NAMES or value.lower().endswith((".yaml", ".yml")):
            return
        if allow_one_group and one_group_share(value) is not None:
            return
        raise SpecError(
            _BAD_SHAPE.format(source=source, names=", ".join(STRATEGY_NAMES), value=value)
        )
    if not isinstance(value, Mapping) or not value:
        raise SpecError(
            _BAD_SHAPE.format(source=source, names=", ".join(STRATEGY_NAMES), value=value)
        )
    shares: dict[str, float] = {}
    for group, share in value.items():
        if isinstance(share, Mapping):
            for label, s in share.items():
                shares[f"{group}{SEP}{label}"] = _share(s, f"{group}{SEP}{label}", source)
        else:
            shares[str(group)] = _share(share, group, source)
    total = math.fsum(shares.values())
    if abs(total - 1.0) > 1e-6:
        items = ", ".join(f"{k} {v:g}" for k, v in shares.items())
        raise SpecError(_SUM_NOT_ONE.format(source=source, total=total, items=items))


def _share(value: Any, key: Any, source: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise SpecError(_BAD_SHARE.format(source=source, key=str(key), value=value))
    return float(value)


def group_keys(table: Any, by: tuple[str, ...]) -> Any:
    """The group of each row: the value of ``by[0]``, or ``"a x b"`` for an intersection."""
    for column in by:
        if column not in table.columns:
            raise InvalidInputError(
                MISSING_COLUMN.format(column=column, columns=", ".join(map(str, table.columns)))
            )
    if len(by) == 1:
        return table[by[0]].astype(str)
    return table[list(by)].astype(str).agg(SEP.join, axis=1)


def cell_counts(table: Any, by: tuple[str, ...]) -> dict[Cell, int]:
    """Rows per (group, label code) cell, in sorted order."""
    keys = group_keys(table, by)
    frame = keys.to_frame("g").assign(y=table["y"].to_numpy()).value_counts().sort_index()
    return {(str(g), int(y)): int(n) for (g, y), n in frame.items()}


def target_shares(
    strategy: Any,
    counts: Mapping[Cell, int],
    *,
    by: tuple[str, ...],
    classes: tuple[str, ...],
) -> dict[Cell, float]:
    """The share of every (group, label) cell under ``strategy``, given the observed ``counts``.

    Every label of every observed group gets a cell (share 0 where the strategy gives none).

    Raises
    ------
    SpecError
        A mapping that names a group or label the training split does not have, or shares
        that do not sum to 1 (exit code 2).
    InvalidInputError
        A positive share for a cell with no training rows (exit code 3).
    """
    groups = sorted({g for g, _ in counts})
    labels = sorted({c for _, c in counts} | set(range(len(classes))))
    n = sum(counts.values())
    n_g = {g: sum(counts.get((g, c), 0) for c in labels) for g in groups}
    n_c = {c: sum(counts.get((g, c), 0) for g in groups) for c in labels}

    def within(g: str, c: int) -> float:  # P(c | g), the group's own label balance
        return counts.get((g, c), 0) / n_g[g] if n_g[g] else 0.0

    cells = [(g, c) for g in groups for c in labels]
    one = one_group_share(strategy)
    if one is not None:  # one group's share; the others keep their natural proportions
        group, share = one
        if group not in n_g:
            raise SpecError(
                UNKNOWN_GROUP.format(group=group, by=SEP.join(by), groups=", ".join(groups))
            )
        rest = n - n_g[group]
        strategy = {
            g: share if g == group else ((1.0 - share) * n_g[g] / rest if rest else 0.0)
            for g in groups
        }
    if isinstance(strategy, str):
        if strategy == "natural":
            shares = {k: counts.get(k, 0) / n for k in cells}
        elif strategy == "uniform":
            shares = {(g, c): within(g, c) / len(groups) for g, c in cells}
        elif strategy == "parity":
            shares = {(g, c): n_g[g] / n * n_c[c] / n for g, c in cells}
        else:
            check_balance_shape(strategy, source="sampling_strategy")
            raise SpecError(f"sampling_strategy {strategy!r} is a file; read it first.")
    else:
        mapping = _as_mapping(strategy, by, classes)
        check_balance_shape(mapping, source="balance")
        shares = {k: 0.0 for k in cells}
        for group, value in mapping.items():
            group = str(group)
            if group not in n_g:
                raise SpecError(
                    UNKNOWN_GROUP.format(
                        group=group, by=SEP.join(by), groups=", ".join(groups)
                    )
                )
            if isinstance(value, Mapping):
                for label, s in value.items():
                    c = _label_code(label, classes, group)
                    shares[(group, c)] = float(s)
            else:
                for c in labels:
                    shares[(group, c)] = float(value) * within(group, c)
                if not n_g[group] and value > 0:
                    raise InvalidInputError(
                        EMPTY_CELL.format(share=float(value), cell=f"group {group!r}")
                    )
    for (g, c), s in shares.items():
        if s > 0 and counts.get((g, c), 0) == 0:
            raise InvalidInputError(
                EMPTY_CELL.format(share=s, cell=f"{SEP.join(by)} = {g} with label {classes[c]!r}")
            )
    return shares


def _label_code(label: Any, classes: tuple[str, ...], group: str) -> int:
    names = [str(c) for c in classes]
    if str(label) in names:
        return names.index(str(label))
    if isinstance(label, int) and not isinstance(label, bool) and 0 <= label < len(classes):
        return label
    raise SpecError(UNKNOWN_LABEL.format(label=label, group=group, labels=", ".join(names)))


def _as_mapping(strategy: Any, by: tuple[str, ...], classes: tuple[str, ...]) -> Mapping[str, Any]:
    """A mapping as given, or the group -> label -> share composition of another dataset."""
    if isinstance(strategy, Mapping):
        return strategy
    table = getattr(strategy, "table", strategy)
    columns = getattr(table, "columns", None)
    if columns is None:
        raise SpecError(
            _BAD_SHAPE.format(source="sampling_strategy", names=", ".join(STRATEGY_NAMES),
                              value=type(strategy).__name__)
        )
    for column in (*by, "y"):
        if column not in columns:
            raise InvalidInputError(
                OTHER_MISSING.format(column=column, columns=", ".join(map(str, columns)))
            )
    if "split" in columns and (table["split"] == "train").any():
        table = table[table["split"] == "train"]
    other = cell_counts(table, by)
    total = sum(other.values())
    out: dict[str, dict[str, float]] = {}
    for (g, c), k in other.items():
        out.setdefault(g, {})[str(classes[c]) if c < len(classes) else str(c)] = k / total
    return out
