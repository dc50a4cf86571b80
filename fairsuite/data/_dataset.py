"""The record every loader returns: a :class:`Dataset` holding one standard Table."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Dataset", "LoadReport"]


@dataclass(frozen=True)
class LoadReport:
    """What a loader read, kept and dropped, and why. Nothing is dropped without a count here.

    Attributes
    ----------
    rows_read : int
        Label rows (or files, for UTKFace) the loader read.
    rows_kept : int
        Rows in the returned table.
    dropped : dict[str, int]
        Reason -> number of rows dropped for it (e.g. ``"image missing on disk"``).
    examples : dict[str, list[str]]
        Reason -> the first few offending rows/files, for the user to look at.
    images_listed : int | None
        For image datasets: images the labels list (``None`` for tables).
    images_present : int | None
        For image datasets: how many of those exist on disk.
    recoded : dict[str, int]
        Reason -> number of values kept but recoded (e.g. Adult's ``?`` kept as ``Unknown``).
    notes : tuple[str, ...]
        Other things the user should know (e.g. a checksum that differs from the published one).
    changes : tuple[str, ...]
        One line per change made to the user's data (rows dropped, missing values kept as a
        group, a target collapsed to one-vs-rest), exactly as announced by the
        :class:`~fairsuite.exceptions.DataChangeWarning` raised when it happened.
    dropped_by_split : dict[str, dict[str, int]]
        For rows that had a split when they were dropped: split -> reason -> rows (so a run
        can say how many listed training rows it could not use).
    """

    rows_read: int
    rows_kept: int
    dropped: dict[str, int] = field(default_factory=dict)
    examples: dict[str, list[str]] = field(default_factory=dict)
    images_listed: int | None = None
    images_present: int | None = None
    recoded: dict[str, int] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    changes: tuple[str, ...] = ()
    dropped_by_split: dict[str, dict[str, int]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form for JSON."""
        return {
            "rows_read": self.rows_read,
            "rows_kept": self.rows_kept,
            "dropped": dict(self.dropped),
            "examples": {k: list(v) for k, v in self.examples.items()},
            "images_listed": self.images_listed,
            "images_present": self.images_present,
            "recoded": dict(self.recoded),
            "notes": list(self.notes),
            "changes": list(self.changes),
            "dropped_by_split": {k: dict(v) for k, v in self.dropped_by_split.items()},
        }


@dataclass(frozen=True)
class Dataset:
    """A loaded dataset: one standard Table plus what is needed to read it.

    The Table (``table``) is a pandas DataFrame with standard columns:

    - ``y``: the target as integer codes ``0..K-1``; ``classes[i]`` names code ``i``. For binary
      tasks code 1 is the positive label.
    - the harmonised sensitive attributes named in ``sensitive`` (``race``, ``gender``,
      ``age_group``, ...), in the shared taxonomy, as strings;
    - the native labels beside them, prefixed ``native_`` (``native_race`` ...);
    - ``split``: ``"train"`` or ``"test"``;
    - ``path`` (absolute file path, image datasets) or the feature columns named in ``features``
      (tabular datasets);
    - ``row_id``: a stable identifier of the source row or file;
    - optionally ``is_synthetic`` (bool) and ``sample_weight`` (float).

    Attributes
    ----------
    name : str
        Dataset name (a card name such as ``"fairface"``, or the CSV's file stem).
    kind : {"image", "tabular"}
        What the rows are.
    table : pandas.DataFrame
        The standard Table described above. Never modified in place by fairsuite.
    task : str
        The target's name (``"gender"``, ``"income"``, ...); its native values are in
        ``classes``.
    classes : tuple[str, ...]
        Label of each code of ``y``.
    sensitive : tuple[str, ...]
        Harmonised sensitive-attribute columns.
    features : tuple[str, ...]
        Feature columns (tabular); empty for image datasets.
    root : pathlib.Path | None
        Folder the data was read from (``None`` for in-memory data).
    report : LoadReport
        Rows read, kept and dropped.
    card : Any
        The dataset card (:class:`fairsuite.data.DatasetCard`), or ``None`` for a plain CSV.
    checksums : dict[str, str]
        File name -> sha256 of the label/data files read.
    synthetic : bool
        True when every row is generated (``synthfaces``).
    """

    name: str
    kind: Literal["image", "tabular"]
    table: pd.DataFrame
    task: str
    classes: tuple[str, ...]
    sensitive: tuple[str, ...]
    features: tuple[str, ...] = ()
    root: Path | None = None
    report: LoadReport | None = None
    card: Any = None
    checksums: dict[str, str] = field(default_factory=dict)
    synthetic: bool = False

    @property
    def positive_label(self) -> str | None:
        """The label of code 1 for binary tasks, else ``None``."""
        return self.classes[1] if len(self.classes) == 2 else None

    def split_table(self, split: Literal["train", "test"]) -> pd.DataFrame:
        """Rows of one split (a copy-free view; do not modify it)."""
        return self.table[self.table["split"] == split]

    def __len__(self) -> int:
        return len(self.table)

    def __repr__(self) -> str:
        counts = self.table["split"].value_counts().to_dict() if "split" in self.table else {}
        split_counts = ", ".join(f"{k}={v}" for k, v in sorted(counts.items()))
        lines = [
            f"Dataset {self.name}",
            f"    Kind: {self.kind}",
            f"    Number of datapoints: {len(self.table)} ({split_counts})",
            f"    Task: {self.task} (classes: {', '.join(self.classes)})",
            f"    Sensitive: {', '.join(self.sensitive)}",
            f"    Root location: {self.root}",
        ]
        if self.synthetic:
            lines.append("    Synthetic: yes (generated data)")
        return "\n".join(lines)
