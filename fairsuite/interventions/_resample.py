"""Rebalancing over sensitive groups x label: reweigh, undersample, oversample, nested subsets.

The objects follow imbalanced-learn: ``__init__`` only stores its arguments, ``fit_resample``
returns a new table (the caller's is never changed) and sets what it learned, ending in ``_``:
``sample_indices_`` (the input row positions the output rows come from, in output order),
``counts_before_``/``counts_after_`` (rows per group x label cell; weighted sums for reweighing)
and ``target_`` (the cell shares aimed at).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from fairsuite.exceptions import InvalidInputError, SpecError
from fairsuite.interventions._strategy import (
    SEP,
    Cell,
    cell_counts,
    group_keys,
    target_shares,
)

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

__all__ = [
    "Reweigher",
    "RandomUnderSampler",
    "RandomOverSampler",
    "ImageAugmenter",
    "NestedSubsampler",
    "nested_subsets",
    "allocate",
]

CELL_TOO_SMALL = (
    "size {size:,} at composition {strategy} needs {need:,} rows of {cell}, which has {have:,}; "
    "use a smaller size, another composition, or allow oversampling (replacement=True)."
)
OVERSAMPLE_DROPS = (
    "oversampling only adds rows, but the target gives {cell} ({have:,} rows) share 0; use "
    "undersample to remove a group."
)
NO_CLASSES = "fit_resample needs the label names: pass classes=... or a Dataset."


def _cell_name(by: tuple[str, ...], cell: Cell, classes: tuple[str, ...]) -> str:
    g, c = cell
    label = classes[c] if c < len(classes) else str(c)
    return f"{SEP.join(by)} = {g} with label {label!r}"


def allocate(shares: Mapping[Cell, float], n: int) -> dict[Cell, int]:
    """Integer rows per cell summing to ``n``, each within one of ``share * n`` (largest
    remainders; ties in cell order)."""
    exact = {k: s * n for k, s in shares.items()}
    out = {k: int(math.floor(v + 1e-9)) for k, v in exact.items()}
    left = n - sum(out.values())
    order = sorted(exact, key=lambda k: -(exact[k] - out[k]))
    for k in order[: max(left, 0)]:
        out[k] += 1
    return out


def _grow(current: dict[Cell, int], shares: Mapping[Cell, float], n: int) -> dict[Cell, int]:
    """Add rows to ``current`` until it sums to ``n``, one at a time, each to the cell with the
    smallest ``(rows + 0.5) / share`` (Sainte-Lague's divisor sequence).

    A divisor sequence is house-monotone and does not depend on the sizes asked before: the
    allocation for ``n`` is the first ``n`` picks of one fixed sequence, so a run that draws
    only its own size gets the same rows as a sweep that draws every size, allocations for
    growing sizes are nested, and every cell stays within about one row of ``share * n``.
    """
    out = dict(current)
    heap = [((out[k] + 0.5) / shares[k], i, k) for i, k in enumerate(shares) if shares[k] > 0]
    heapq.heapify(heap)
    for _ in range(n - sum(out.values())):
        _, i, k = heapq.heappop(heap)
        out[k] += 1
        heapq.heappush(heap, ((out[k] + 0.5) / shares[k], i, k))
    return out


class _Rebalancer:
    """Shared parts: the strategy, the groups, the seeded generator, the cell members."""

    #: what the output rows are; set by subclasses
    kind = "rebalance"

    def __init__(
        self,
        sampling_strategy: Any = "parity",
        *,
        by: str | Sequence[str] = ("gender",),
        classes: Sequence[str] | None = None,
        random_state: int = 0,
    ) -> None:
        self.sampling_strategy = sampling_strategy
        self.by = by
        self.classes = classes
        self.random_state = random_state

    def _prepare(self, table: pd.DataFrame, classes: Sequence[str] | None) -> None:
        import numpy as np

        self.by_ = (self.by,) if isinstance(self.by, str) else tuple(self.by)
        names = classes if classes is not None else self.classes
        if names is None:
            n_labels = int(table["y"].max()) + 1 if len(table) else 0
            names = [str(i) for i in range(n_labels)]
        self.classes_ = tuple(str(c) for c in names)
        self.counts_before_ = cell_counts(table, self.by_)
        self.target_ = target_shares(
            self.sampling_strategy, self.counts_before_, by=self.by_, classes=self.classes_
        )
        keys = group_keys(table, self.by_).to_numpy()
        y = table["y"].to_numpy()
        self._members = {
            cell: np.flatnonzero((keys == cell[0]) & (y == cell[1])) for cell in self.target_
        }
        self._rng = np.random.default_rng(self.random_state)

    def _describe_strategy(self) -> str:
        s = self.sampling_strategy
        return s if isinstance(s, str) else "(given shares)"


class Reweigher(_Rebalancer):
    """Reweigh rows so that every group x label cell weighs its target share (no row changes).

    Weights: ``w(g, c) = target(g, c) * N / N_gc``; to ``"parity"`` this is Kamiran & Calders
    (2012) as AIF360's ``Reweighing`` implements it, ``w(g, c) = N_g * N_c / (N * N_gc)``. The
    weights go into a ``sample_weight`` column (multiplied into one already there), which
    :func:`fairsuite.train.fit` honours in every loss and scikit-learn fit. A cell with share 0
    gets weight 0 (its rows are left out of training and counted).

    Attributes
    ----------
    weights_ : dict
        (group, label code) -> weight.
    """

    kind = "reweigh"

    def fit_resample(
        self, table: pd.DataFrame, *, classes: Sequence[str] | None = None
    ) -> pd.DataFrame:
        """A copy of ``table`` with the ``sample_weight`` column set."""
        import numpy as np

        self._prepare(table, classes)
        n = len(table)
        self.weights_ = {
            cell: (share * n / self.counts_before_[cell]) if self.counts_before_.get(cell) else 0.0
            for cell, share in self.target_.items()
        }
        w = np.ones(n)
        for cell, members in self._members.items():
            w[members] = self.weights_[cell]
        out = table.copy()
        if "sample_weight" in out.columns:
            w = w * out["sample_weight"].to_numpy(dtype=float)
        out["sample_weight"] = w
        self.sample_indices_ = np.arange(n)
        self.counts_after_ = {
            cell: float(w[m].sum()) for cell, m in self._members.items()
        }
        return out


class RandomUnderSampler(_Rebalancer):
    """Drop rows at random until every cell holds its target share (the largest such set).

    ``n_rows`` fixes the size instead; a size a cell cannot fill is an error naming the cell and
    its count.
    """

    kind = "undersample"

    def __init__(self, sampling_strategy: Any = "uniform", *, n_rows: int | None = None,
                 **kw: Any) -> None:
        super().__init__(sampling_strategy, **kw)
        self.n_rows = n_rows

    def _size(self) -> int:
        ratios = [
            self.counts_before_.get(cell, 0) / share
            for cell, share in self.target_.items()
            if share > 0
        ]
        return int(math.floor(min(ratios) + 1e-9))

    def fit_resample(
        self, table: pd.DataFrame, *, classes: Sequence[str] | None = None
    ) -> pd.DataFrame:
        """The kept rows, in their original order (index reset)."""
        import numpy as np

        self._prepare(table, classes)
        size = self.n_rows if self.n_rows is not None else self._size()
        want = allocate(self.target_, size)
        picked = []
        for cell, k in want.items():
            members = self._members[cell]
            if k > len(members):
                raise InvalidInputError(
                    CELL_TOO_SMALL.format(
                        size=size, strategy=self._describe_strategy(), need=k,
                        have=len(members), cell=_cell_name(self.by_, cell, self.classes_),
                    )
                )
            picked.append(self._rng.permutation(members)[:k])
        self.sample_indices_ = np.sort(np.concatenate(picked)) if picked else np.array([], int)
        self.counts_after_ = {cell: int(k) for cell, k in want.items()}
        out = table.iloc[self.sample_indices_].reset_index(drop=True)
        return out


class RandomOverSampler(_Rebalancer):
    """Repeat rows at random until every cell holds its target share (the smallest such set).

    Every original row is kept once; copies are drawn without replacement within a cell first
    (each row is repeated as evenly as possible) and carry ``is_duplicate = True``.
    """

    kind = "oversample"
    flag = "is_duplicate"

    def __init__(self, sampling_strategy: Any = "uniform", *, n_rows: int | None = None,
                 **kw: Any) -> None:
        super().__init__(sampling_strategy, **kw)
        self.n_rows = n_rows

    def _size(self) -> int:
        for cell, share in self.target_.items():
            have = self.counts_before_.get(cell, 0)
            if share == 0 and have > 0:
                raise SpecError(
                    OVERSAMPLE_DROPS.format(
                        cell=_cell_name(self.by_, cell, self.classes_), have=have
                    )
                )
        return int(math.ceil(max(
            self.counts_before_.get(cell, 0) / share
            for cell, share in self.target_.items() if share > 0
        ) - 1e-9))

    def _extra(self, cell: Cell, k: int) -> np.ndarray:
        import numpy as np

        members = self._members[cell]
        extra = k - len(members)
        if extra <= 0:
            return np.array([], dtype=int)
        rounds = -(-extra // len(members))
        draws = np.concatenate([self._rng.permutation(members) for _ in range(rounds)])
        return draws[:extra]

    def fit_resample(
        self, table: pd.DataFrame, *, classes: Sequence[str] | None = None
    ) -> pd.DataFrame:
        """All rows, then the copies (index reset; copies flagged)."""
        import numpy as np

        self._prepare(table, classes)
        size = self.n_rows if self.n_rows is not None else self._size()
        if size < len(table):
            raise SpecError(
                f"oversampling to {size:,} rows would drop rows of a table of {len(table):,}; "
                "use undersample, or a size at least the table's."
            )
        want = _grow(dict(self.counts_before_), self.target_, size)
        extras = [self._extra(cell, k) for cell, k in want.items()]
        extra = np.concatenate(extras) if extras else np.array([], dtype=int)
        self.sample_indices_ = np.concatenate([np.arange(len(table)), extra]).astype(int)
        self.counts_after_ = {
            cell: int(max(k, self.counts_before_.get(cell, 0))) for cell, k in want.items()
        }
        out = table.iloc[self.sample_indices_].reset_index(drop=True)
        flag = np.zeros(len(out), dtype=bool)
        flag[len(table):] = True
        out[self.flag] = flag
        return out


class ImageAugmenter(RandomOverSampler):
    """Oversample images: copies carry ``augment = True``, and training applies random
    transforms to them (random crop, horizontal flip and colour jitter of brightness, contrast
    and saturation, drawn per image and per epoch), so a copy is a new view, not a repeat."""

    kind = "augment"
    flag = "augment"


def nested_subsets(
    table: pd.DataFrame,
    sizes: Sequence[int],
    *,
    by: str | Sequence[str] = ("gender",),
    sampling_strategy: Any = "natural",
    classes: Sequence[str] | None = None,
    replacement: bool = False,
    random_state: int = 0,
) -> list[np.ndarray]:
    """Row positions of nested subsets n1 ⊂ n2 ⊂ ... at one fixed composition.

    Each cell's rows are put in one seeded random order and every size takes a prefix of it;
    the rows per cell grow with the size (never shrink), so a larger subset contains every
    smaller one and a size curve measures size, not resampling noise. Returned in the order of
    ``sizes`` (which may be unsorted).

    Raises
    ------
    InvalidInputError
        A size whose composition needs more rows of a cell than it has (the message names the
        cell and its count), unless ``replacement=True`` (rows are then repeated).
    """
    sub = NestedSubsampler(
        sizes, sampling_strategy, by=by, classes=classes, replacement=replacement,
        random_state=random_state,
    )
    sub.fit(table, classes=classes)
    return list(sub.subsets_)


class NestedSubsampler(_Rebalancer):
    """Nested subsets of the training rows at a fixed composition (see :func:`nested_subsets`).

    Attributes
    ----------
    subsets_ : list of numpy arrays
        Row positions of each size, in the order of ``sizes``.
    counts_ : list of dict
        Rows per (group, label) cell of each size.
    """

    kind = "subsample"

    def __init__(self, sizes: Sequence[int], sampling_strategy: Any = "natural", *,
                 replacement: bool = False, **kw: Any) -> None:
        super().__init__(sampling_strategy, **kw)
        self.sizes = sizes
        self.replacement = replacement

    def fit(self, table: pd.DataFrame, *, classes: Sequence[str] | None = None) -> NestedSubsampler:
        """Draw the orders and the nested allocations."""
        import numpy as np

        bad = [s for s in self.sizes if isinstance(s, bool) or not isinstance(s, int) or s < 1]
        if bad or not self.sizes:
            raise SpecError(f"sizes must be positive integers; got {list(self.sizes)!r}.")
        self._prepare(table, classes)
        orders = {cell: self._rng.permutation(m) for cell, m in self._members.items()}
        current = {cell: 0 for cell in self.target_}
        by_size: dict[int, dict[Cell, int]] = {}
        for size in sorted(set(self.sizes)):
            current = _grow(current, self.target_, size)
            by_size[size] = dict(current)
        self.subsets_, self.counts_ = [], []
        for size in self.sizes:
            want = by_size[size]
            parts = []
            for cell, k in want.items():
                order = orders[cell]
                if k > len(order):
                    if not self.replacement or len(order) == 0:
                        raise InvalidInputError(
                            CELL_TOO_SMALL.format(
                                size=size, strategy=self._describe_strategy(), need=k,
                                have=len(order), cell=_cell_name(self.by_, cell, self.classes_),
                            )
                        )
                    order = np.resize(order, k)  # cycle: each row repeated as evenly as possible
                parts.append(order[:k])
            self.subsets_.append(np.sort(np.concatenate(parts)) if parts else np.array([], int))
            self.counts_.append(want)
        return self

    def subset(self, table: pd.DataFrame, size: int) -> pd.DataFrame:
        """The rows of one fitted size (index reset)."""
        i = list(self.sizes).index(size)
        return table.iloc[self.subsets_[i]].reset_index(drop=True)
