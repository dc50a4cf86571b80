"""Loaders: dataset card + files on disk -> Dataset (one standard Table and a load report)."""

from __future__ import annotations

import dataclasses
import os
import re
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from fairsuite._paths import resolve_data_dir
from fairsuite.data import _checks as ck
from fairsuite.data._cards import DatasetCard, RowFilter, get_card
from fairsuite.data._dataset import Dataset, LoadReport
from fairsuite.exceptions import (
    DataChangeWarning,
    DatasetIntegrityError,
    DatasetNotFoundError,
    InvalidInputError,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["load_dataset", "load_csv"]

_UNKNOWN_TASK = "dataset {name!r} has no task {task!r}; allowed: {allowed}"
_UNKNOWN_OPTION = "load_dataset({name!r}) got unexpected options {options}; allowed: {allowed}"
_NO_IMAGES = "{name}: no usable images under {folder} ({why}); expected layout: {layout}"
_CSV_MISSING_COLUMN = "{path}: {what} column {column!r} does not exist; columns are {columns}"
_CSV_BAD_SPLIT = "{path}: column 'split' has values {values}; allowed: ['train', 'test']"
_CSV_TARGET_NA = (
    "{path}: target column {column!r} is empty in {n} row(s) (first rows: {rows}); "
    "fill or remove them"
)
_CSV_ONE_CLASS = (
    "{path}: target column {column!r} has a single value {value!r}; a classifier needs at least two"
)
_CSV_POSITIVE = "{path}: positive_label {label!r} is not a value of {column!r}; values are {values}"
_CSV_RESERVED = (
    "{path}: column {column!r} is a reserved Table column; rename it (reserved: {reserved})"
)
_CSV_FORMAT = "{path}: unsupported file type {ext!r}; allowed: .csv, .tsv, .parquet, .pq"
TABLE_SUFFIXES = (".csv", ".tsv", ".parquet", ".pq")


def is_table_path(source: str) -> bool:
    """True when ``source`` names a CSV/TSV/Parquet file rather than a dataset card."""
    return source.lower().endswith(TABLE_SUFFIXES) or os.path.sep in source


_CSV_UNREADABLE = "{path}: cannot be read as {fmt} ({err}); check the file"
_ADULT_FIELDS = (
    "{path}, line {row}: {n} fields, expected 15 (comma-separated, as UCI publishes "
    "adult.data/adult.test)"
)
_NOT_FOUND = "{path} does not exist; pass the path of a CSV or Parquet file"
_MISSING_LABEL = "missing value {missing!r} in {column} kept as category {category!r}"
# Announcements of changes made to the user's data (DataChangeWarning + LoadReport.changes).
ROWS_DROPPED = "{name}: dropped {n:,} of {total:,} rows{how}: {details}"
SENSITIVE_MISSING = (
    "{name}: {n:,} row(s) have no value in sensitive column {column!r}; they are audited as "
    "their own group 'missing'"
)
ONE_VS_REST = (
    "{name}: target {column!r} has {k} values ({values}); with positive label {label!r} it is "
    "audited one-vs-rest: {label!r} ({n_pos:,} rows) against 'not {label}' ({n_rest:,} rows)"
)

_ADULT_COLUMNS = (
    "age",
    "workclass",
    "fnlwgt",
    "education",
    "education_num",
    "marital_status",
    "occupation",
    "relationship",
    "race",
    "sex",
    "capital_gain",
    "capital_loss",
    "hours_per_week",
    "native_country",
    "income",
)
_ADULT_INTS = (
    "age",
    "fnlwgt",
    "education_num",
    "capital_gain",
    "capital_loss",
    "hours_per_week",
)
_UTK_NAME = re.compile(r"^(\d{1,3})_(\d+)_(\d+)_(\d+)\.jpg(\.chip\.jpg)?$")
_RESERVED = ("y", "row_id", "path", "is_synthetic", "sample_weight")
_EXAMPLES = 5


def announce(changes: list[str], message: str) -> None:
    """Record one change to the user's data and announce it as a :class:`DataChangeWarning`."""
    changes.append(message)
    warnings.warn(message, DataChangeWarning, stacklevel=3)


def describe_drops(
    name: str,
    total: int,
    dropped: dict[str, int],
    examples: dict[str, list[str]],
    *,
    how: str = "",
) -> str:
    """One line naming how many rows were dropped, why, and the first few of each reason."""
    details = "; ".join(
        f"{reason} {count:,}"
        + (f" (first: {', '.join(examples[reason][:3])})" if examples.get(reason) else "")
        for reason, count in dropped.items()
    )
    n = sum(dropped.values())
    return ROWS_DROPPED.format(name=name, n=n, total=total, how=how, details=details)


def _task(card: DatasetCard, task: str | None) -> Any:
    name = task or card.default_task
    if name not in card.tasks:
        raise InvalidInputError(
            _UNKNOWN_TASK.format(name=card.name, task=name, allowed=sorted(card.tasks))
        )
    return card.tasks[name]


def _encode_y(values: pd.Series, classes: Sequence[str], *, path: Any, column: str) -> np.ndarray:
    ck.check_categories(path, values.astype(str), classes, column=column)
    lookup = {c: i for i, c in enumerate(classes)}
    return values.astype(str).map(lookup).to_numpy(dtype=np.int64)


def _add_harmonised(
    table: pd.DataFrame, card: DatasetCard, native: pd.DataFrame, *, path: Any, header_rows: int = 1
) -> None:
    """Add native_<source> and the harmonised columns of every taxonomy attribute to ``table``."""
    for attr, amap in card.taxonomy.items():
        table[f"native_{amap.source}"] = native[amap.source].to_numpy()
        table[attr] = ck.harmonise(
            native[amap.source], amap, path=path, header_rows=header_rows
        ).to_numpy()


def _finish(
    card: DatasetCard,
    table: pd.DataFrame,
    *,
    task: Any,
    root: Path,
    report: LoadReport,
    checksums: dict[str, str],
) -> Dataset:
    ck.check_sensitive_groups(table, card.sensitive, f"dataset {card.name!r}")
    table = table.reset_index(drop=True)
    return Dataset(
        name=card.name,
        kind=card.kind,
        table=table,
        task=task.name,
        classes=task.classes,
        sensitive=card.sensitive,
        features=card.features,
        root=root,
        report=report,
        card=card,
        checksums=checksums,
        synthetic=card.synthetic,
    )


def _read_label_csv(path: Path, card: DatasetCard) -> pd.DataFrame:
    import pandas as pd

    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError as err:
        raise InvalidInputError(ck.EMPTY_FILE.format(path=path)) from err
    ck.check_columns(path, list(df.columns), list(card.native_schema), allow_extra=False)
    if df.empty:
        raise InvalidInputError(ck.EMPTY_FILE.format(path=path))
    for col, spec in card.native_schema.items():
        if isinstance(spec, dict) and "values" in spec:
            ck.check_categories(path, df[col], [str(v) for v in spec["values"]], column=col)
    return df


def _scan_images(folder: Path, subdirs: Sequence[str]) -> set[str]:
    present: set[str] = set()
    for sub in subdirs:
        d = folder / sub
        if d.is_dir():
            with os.scandir(d) as it:
                present.update(f"{sub}/{e.name}" for e in it if e.is_file())
    return present


def _resolve_images(
    card: DatasetCard,
    folder: Path,
    table: pd.DataFrame,
    rel: pd.Series,
    present_mask: np.ndarray,
    *,
    allow_missing: bool,
    require_images: bool,
    dropped: dict[str, int],
    examples: dict[str, list[str]],
    by_split: dict[str, dict[str, int]] | None = None,
) -> pd.DataFrame:
    """Apply the missing/invalid image policy; returns the kept rows.

    ``by_split`` (when given) receives the dropped counts per split and reason.
    """

    def tally(reason: str, mask: np.ndarray) -> None:
        if by_split is None or "split" not in table:
            return
        for split, n in table.loc[mask, "split"].value_counts().sort_index().items():
            by_split.setdefault(str(split), {})[reason] = int(n)

    if not require_images:
        table["image_present"] = present_mask
        return table
    n_missing = int((~present_mask).sum())
    if n_missing and not allow_missing:
        first = ", ".join(rel[~present_mask].head(_EXAMPLES))
        raise DatasetNotFoundError(
            ck.IMAGES_MISSING.format(
                name=card.name, n=n_missing, listed=len(rel), folder=folder, first=first
            )
        )
    if n_missing:
        dropped["image missing on disk"] = n_missing
        examples["image missing on disk"] = list(rel[~present_mask].head(_EXAMPLES))
        tally("image missing on disk", ~present_mask)
    keep = present_mask.copy()
    problems = ck.image_problems(list(table.loc[keep, "path"]))
    if problems:
        if not allow_missing:
            ck.raise_integrity(card.name, problems)
        bad = {p for p, _ in problems}
        bad_mask = table["path"].isin(bad).to_numpy()
        keep &= ~bad_mask
        tally("not a valid image", bad_mask)
        dropped["not a valid image"] = len(problems)
        examples["not a valid image"] = [f"{p} ({r})" for p, r in problems[:_EXAMPLES]]
    return table[keep]


def _load_fairface(card: DatasetCard, request: LoadRequest) -> Dataset:
    import pandas as pd

    spec = _task(card, request.task)  # FairFace has an official split
    folder = ck.dataset_folder(card, request.root())
    frames: list[pd.DataFrame] = []
    checksums: dict[str, str] = {}
    notes: list[str] = []
    for f in card.files:
        if f.role != "labels":
            continue
        path = ck.required_file(card, folder, f.path)
        labels = _read_label_csv(path, card)
        part = pd.DataFrame({"row_id": labels["file"].to_numpy(), "split": f.split})
        _add_harmonised(part, card, labels, path=path)
        part["native_service_test"] = labels["service_test"].to_numpy()
        part["_file"] = labels["file"].to_numpy()
        frames.append(part)
        checksums[f.path] = ck.verify_checksum(card, f.path, path, notes)
    table = pd.concat(frames, ignore_index=True)
    rel = table["_file"]
    bad_ext = ~rel.str.lower().str.endswith((".jpg", ".jpeg", ".png"))
    if bad_ext.any():
        pos = int(np.flatnonzero(bad_ext.to_numpy())[0])
        raise InvalidInputError(
            ck.UNKNOWN_CATEGORY.format(
                path=folder,
                row=pos,
                column="file",
                value=rel.iloc[pos],
                allowed="image paths ending in .jpg, .jpeg or .png",
            )
        )
    image_dirs = [f.path for f in card.files if f.role == "images"]
    present = _scan_images(folder, image_dirs)
    present_mask = rel.isin(present).to_numpy()
    table["path"] = [str(folder / r) for r in rel]
    table["y"] = _encode_y(table[spec.column], spec.classes, path=folder, column=spec.column)
    dropped: dict[str, int] = {}
    examples: dict[str, list[str]] = {}
    by_split: dict[str, dict[str, int]] = {}
    n_read = len(table)
    n_present = int(present_mask.sum())
    table = _resolve_images(
        card,
        folder,
        table,
        rel,
        present_mask,
        allow_missing=request.allow_missing,
        require_images=request.require_images,
        dropped=dropped,
        examples=examples,
        by_split=by_split,
    )
    table = table.drop(columns="_file")
    changes: list[str] = []
    if dropped:
        how = " (--allow-missing)" if request.allow_missing else ""
        announce(changes, describe_drops(card.name, n_read, dropped, examples, how=how))
    report = LoadReport(
        rows_read=n_read,
        rows_kept=len(table),
        dropped=dropped,
        examples=examples,
        images_listed=n_read,
        images_present=n_present,
        notes=tuple(notes),
        changes=tuple(changes),
        dropped_by_split=by_split,
    )
    return _finish(card, table, task=spec, root=folder, report=report, checksums=checksums)


def _load_utkface(card: DatasetCard, request: LoadRequest) -> Dataset:
    import pandas as pd

    spec = _task(card, request.task)
    folder = ck.dataset_folder(card, request.root())
    image_dir = ck.required_file(card, folder, "UTKFace")
    with os.scandir(image_dir) as it:
        names = sorted(e.name for e in it if e.is_file())
    parsed: list[tuple[str, int, str, str, str]] = []
    malformed: list[str] = []
    not_images: list[str] = []
    unknown: list[str] = []
    race_map, gender_map = card.taxonomy["race"].mapping, card.taxonomy["gender"].mapping
    for name in names:
        m = _UTK_NAME.match(name)
        if m is None:
            ext = os.path.splitext(name)[1].lower()
            (malformed if ext == ".jpg" else not_images).append(name)
            continue
        age, gender, race, stamp = m.group(1), m.group(2), m.group(3), m.group(4)
        if gender not in gender_map or race not in race_map:
            unknown.append(name)
            continue
        parsed.append((name, int(age), gender, race, stamp))
    dropped: dict[str, int] = {}
    examples: dict[str, list[str]] = {}
    for reason, items in (
        ("malformed file name", malformed),
        ("not a .jpg file", not_images),
        ("unknown gender or race code in file name", unknown),
    ):
        if items:
            dropped[reason] = len(items)
            examples[reason] = items[:_EXAMPLES]
    if not parsed:
        why = f"{len(names)} files, none named [age]_[gender]_[race]_[datetime].jpg.chip.jpg"
        raise DatasetIntegrityError(
            _NO_IMAGES.format(
                name=card.name, folder=image_dir, why=why, layout=ck.one_line(card.layout)
            )
        )
    native = pd.DataFrame(parsed, columns=["file", "age", "gender", "race", "datetime"])
    table = pd.DataFrame({"row_id": native["file"].to_numpy()})
    _add_harmonised(table, card, native, path=image_dir, header_rows=0)
    table["native_datetime"] = native["datetime"].to_numpy()
    table["path"] = [str(image_dir / n) for n in native["file"]]
    table["y"] = _encode_y(table[spec.column], spec.classes, path=image_dir, column=spec.column)
    table["split"] = _stratified_split(card, table, request)
    present_mask = np.ones(len(table), dtype=bool)
    rel = native["file"]
    n_kept_names = len(table)
    by_split: dict[str, dict[str, int]] = {}
    table = _resolve_images(
        card,
        image_dir,
        table,
        rel,
        present_mask,
        allow_missing=request.allow_missing,
        require_images=request.require_images,
        dropped=dropped,
        examples=examples,
        by_split=by_split,
    )
    changes: list[str] = []
    if dropped:
        how = (
            " (--allow-missing)"
            if request.allow_missing and "not a valid image" in dropped
            else ""
        )
        announce(changes, describe_drops(card.name, len(names), dropped, examples, how=how))
    report = LoadReport(
        rows_read=len(names),
        rows_kept=len(table),
        dropped=dropped,
        examples=examples,
        images_listed=n_kept_names,
        images_present=n_kept_names,
        changes=tuple(changes),
        dropped_by_split=by_split,
    )
    return _finish(card, table, task=spec, root=folder, report=report, checksums={})


def _read_adult_file(path: Path, card: DatasetCard) -> pd.DataFrame:
    import pandas as pd

    text = path.read_text(encoding="utf-8")
    rows, lines = [], []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or (lineno == 1 and line.startswith("|")):
            continue
        fields = [f.strip() for f in line.split(",")]
        if len(fields) != len(_ADULT_COLUMNS):
            raise InvalidInputError(_ADULT_FIELDS.format(path=path, row=lineno, n=len(fields)))
        rows.append(fields)
        lines.append(lineno)
    if not rows:
        raise InvalidInputError(ck.EMPTY_FILE.format(path=path))
    df = pd.DataFrame(rows, columns=list(_ADULT_COLUMNS))
    df["income"] = df["income"].str.rstrip(".")
    df.index = pd.Index(lines, name="line")
    return df


def _load_adult(card: DatasetCard, request: LoadRequest) -> Dataset:
    import pandas as pd

    spec = _task(card, request.task)  # official split, no images
    folder = ck.dataset_folder(card, request.root())
    missing_value = str(card.raw.get("missing_value", "?"))
    missing_category = str(card.raw.get("missing_category", "Unknown"))
    frames: list[pd.DataFrame] = []
    checksums: dict[str, str] = {}
    notes: list[str] = []
    recoded: dict[str, int] = {}
    n_read = 0
    for f in card.files:
        if f.role != "table":
            continue
        path = ck.required_file(card, folder, f.path)
        df = _read_adult_file(path, card)
        n_read += len(df)
        lines = df.index.to_numpy()
        for col in _ADULT_INTS:
            nums = pd.to_numeric(df[col], errors="coerce")
            if nums.isna().any():
                pos = int(np.flatnonzero(nums.isna().to_numpy())[0])
                raise InvalidInputError(
                    ck.BAD_NUMBER.format(
                        path=path, row=lines[pos], column=col, value=df[col].iloc[pos]
                    )
                )
            df[col] = nums.astype(np.int64)
        for col, sch in card.native_schema.items():
            if not isinstance(sch, dict) or sch.get("type") != "category" or col == "income":
                continue
            is_missing = df[col] == missing_value
            if is_missing.any():
                reason = _MISSING_LABEL.format(
                    missing=missing_value, column=col, category=missing_category
                )
                recoded[reason] = recoded.get(reason, 0) + int(is_missing.sum())
                df.loc[is_missing, col] = missing_category
            if "values" in sch:
                _check_lines(path, df[col], sch["values"], col, lines)
        _check_lines(path, df["income"], spec.classes, "income", lines)
        part = pd.DataFrame({"row_id": [f"{f.path}:{n}" for n in lines], "split": f.split})
        _add_harmonised(part, card, df.reset_index(drop=True), path=path)
        for col in card.features:
            part[col] = df[col].to_numpy()
        part["native_income"] = df["income"].to_numpy()
        part["y"] = _encode_y(df["income"], spec.classes, path=path, column="income")
        frames.append(part)
        checksums[f.path] = ck.verify_checksum(card, f.path, path, notes)
    table = pd.concat(frames, ignore_index=True)
    report = LoadReport(rows_read=n_read, rows_kept=len(table), recoded=recoded, notes=tuple(notes))
    return _finish(card, table, task=spec, root=folder, report=report, checksums=checksums)


def _check_lines(
    path: Path, values: pd.Series, allowed: Sequence[Any], col: str, lines: np.ndarray
) -> None:
    allowed = [str(a) for a in allowed]
    bad = ~values.isin(allowed)
    if bad.any():
        pos = int(np.flatnonzero(bad.to_numpy())[0])
        raise InvalidInputError(
            ck.UNKNOWN_CATEGORY.format(
                path=path, row=lines[pos], column=col, value=values.iloc[pos], allowed=allowed
            )
        )


def _stratified_split(card: DatasetCard, table: pd.DataFrame, request: LoadRequest) -> Any:
    """The seeded split of a dataset without an official one, stratified by the card's
    ``stratify`` attributes x label."""
    strata = table["y"].astype(str)
    for col in reversed(card.stratify):
        strata = table[col].astype(str) + "|" + strata
    return ck.stratified_split(
        strata, test_size=request.test_size, random_state=request.random_state
    )


def _keep_mask(df: pd.DataFrame, rule: RowFilter) -> Any:
    col = df[rule.column]
    if rule.op == "between":
        low, high = rule.value
        return col.between(low, high)
    if rule.op == "not_equal":
        return col != rule.value
    if rule.op == "not_in":
        return ~col.isin(list(rule.value))
    raise AssertionError(rule.op)  # pragma: no cover - the card parser allows only these


def _load_table_csv(card: DatasetCard, request: LoadRequest) -> Dataset:
    """A dataset that is one CSV table (COMPAS): every dataset-specific choice -- the numeric
    columns (``native_schema`` type integer), the row filters, the id column, the features,
    the split's strata -- comes from the card."""
    import pandas as pd

    spec = _task(card, request.task)
    folder = ck.dataset_folder(card, request.root())
    rel = next(f.path for f in card.files if f.role == "table")
    path = ck.required_file(card, folder, rel)
    try:
        df = pd.read_csv(path, keep_default_na=False, dtype=str)
    except pd.errors.EmptyDataError as err:
        raise InvalidInputError(ck.EMPTY_FILE.format(path=path)) from err
    ck.check_columns(path, list(df.columns), list(card.native_schema), allow_extra=True)
    if df.empty:
        raise InvalidInputError(ck.EMPTY_FILE.format(path=path))
    n_read = len(df)
    df.index = pd.RangeIndex(2, n_read + 2)  # file line numbers
    numeric = [
        col
        for col, sch in card.native_schema.items()
        if isinstance(sch, dict) and sch.get("type") == "integer"
    ]
    for col in numeric:
        nums = pd.to_numeric(df[col].replace("", np.nan), errors="coerce")
        bad = nums.isna() & (df[col] != "")
        if bad.any():
            line = int(df.index[np.flatnonzero(bad.to_numpy())[0]])
            raise InvalidInputError(
                ck.BAD_NUMBER.format(path=path, row=line, column=col, value=df.at[line, col])
            )
        df[col] = nums
    dropped: dict[str, int] = {}
    keep = np.ones(n_read, dtype=bool)
    for rule in card.filters:
        mask = _keep_mask(df, rule).to_numpy()
        newly = keep & ~mask
        if newly.any():
            dropped[rule.reason] = int(newly.sum())
        keep &= mask
    df = df[keep]
    lines = df.index.to_numpy()
    for col, sch in card.native_schema.items():
        if isinstance(sch, dict) and "values" in sch and col != spec.column:
            _check_lines(path, df[col], sch["values"], col, lines)
    _check_lines(path, df[spec.column], spec.classes, spec.column, lines)
    ids = df[card.id_column] if card.id_column and card.id_column in df else lines.astype(str)
    table = pd.DataFrame({"row_id": np.asarray(ids)})
    _add_harmonised(table, card, df.reset_index(drop=True), path=path)
    for col in card.features:
        vals = df[col]
        table[col] = vals.astype(np.int64).to_numpy() if col in numeric else vals.to_numpy()
    table[f"native_{spec.column}"] = df[spec.column].to_numpy()
    table["y"] = _encode_y(df[spec.column], spec.classes, path=path, column=spec.column)
    table["split"] = _stratified_split(card, table, request)
    notes: list[str] = []
    checksums = {rel: ck.verify_checksum(card, rel, path, notes)}
    report = LoadReport(rows_read=n_read, rows_kept=len(table), dropped=dropped, notes=tuple(notes))
    return _finish(card, table, task=spec, root=folder, report=report, checksums=checksums)


def _load_synthetic(card: DatasetCard, request: LoadRequest) -> Dataset:
    """The embedded synthetic face set, generated (and cached) on first use."""
    from fairsuite.data._synthfaces import make_synthfaces

    _task(card, request.task)
    allowed = {"n", "image_size", "proportions", "difficulty", "cache_dir"}
    unknown = sorted(set(request.options) - allowed)
    if unknown:
        raise InvalidInputError(
            _UNKNOWN_OPTION.format(name=card.name, options=unknown, allowed=sorted(allowed))
        )
    dataset = make_synthfaces(
        random_state=request.random_state, test_size=request.test_size, **request.options
    )
    if not request.require_images:  # same contract as the other image sets: all present
        dataset = dataclasses.replace(dataset, table=dataset.table.assign(image_present=True))
    return dataset


@dataclass(frozen=True)
class LoadRequest:
    """What a caller asks of a loader; each loader reads the fields that apply to its format.

    ``root()`` resolves the data root (``data_dir``, else ``$FAIRSUITE_DATA``, else the user
    data dir) only when a loader reads files.
    """

    data_dir: str | os.PathLike[str] | None = None
    task: str | None = None
    allow_missing: bool = False
    require_images: bool = True
    random_state: int = 0
    test_size: float = 0.2
    options: Mapping[str, Any] = field(default_factory=dict)

    def root(self) -> Path:
        return resolve_data_dir(self.data_dir)


Loader = Callable[[DatasetCard, LoadRequest], Dataset]

#: The loader of each card ``format``: every loader takes ``(card, request)``.
FORMATS: dict[str, Loader] = {
    "fairface_csv": _load_fairface,
    "utkface_filenames": _load_utkface,
    "uci_adult": _load_adult,
    "table_csv": _load_table_csv,
    "synthetic": _load_synthetic,
}


def load_dataset(
    name: str,
    *,
    data_dir: str | os.PathLike[str] | None = None,
    task: str | None = None,
    allow_missing: bool = False,
    require_images: bool = True,
    random_state: int = 0,
    test_size: float = 0.2,
    **options: Any,
) -> Dataset:
    """Load a dataset that has a card (fairface, utkface, adult, compas, synthfaces).

    Parameters
    ----------
    name : str
        Card name (see :func:`list_datasets`).
    data_dir : path, optional
        Data root holding ``<name>/`` in the dataset's published layout. Default:
        ``$FAIRSUITE_DATA``, else the user data directory. Not used by ``synthfaces``.
    task : str, optional
        One of the card's tasks; default the card's ``default_task``.
    allow_missing : bool, default False
        Image sets: drop rows whose image is missing or not a valid image, and count them in
        ``dataset.report``. By default such rows are an error that names the first few.
    require_images : bool, default True
        When False, image files are not checked: labels are loaded and a bool
        ``image_present`` column says which images exist (composition from labels).
    random_state : int, default 0
        Seed of the stratified split (datasets without an official split).
    test_size : float, default 0.2
        Share of each stratum put in the test split (datasets without an official split).
    **options
        Only for ``synthfaces``: passed to :func:`make_synthfaces` (``n``, ``image_size``,
        ``proportions``, ``difficulty``, ``cache_dir``).

    Returns
    -------
    Dataset
        The standard Table (see :class:`Dataset`), its load report and checksums.

    Raises
    ------
    InvalidInputError
        Unknown name or task; a label file with an unknown category, missing/extra columns or
        no rows; a sensitive attribute with a single group.
    DatasetNotFoundError
        The data root, the dataset folder, a listed file, or labelled images are missing.
    DatasetIntegrityError
        Image files that are not images or are truncated (checked cheaply from their bytes).
    """
    card = get_card(name)
    loader = FORMATS.get(card.format)
    if loader is None:  # pragma: no cover - the card parser checks the format
        raise InvalidInputError(f"dataset card {name!r}: unknown format {card.format!r}")
    if options and card.format != "synthetic":
        raise InvalidInputError(
            _UNKNOWN_OPTION.format(name=name, options=sorted(options), allowed=[])
        )
    request = LoadRequest(
        data_dir=data_dir,
        task=task,
        allow_missing=allow_missing,
        require_images=require_images,
        random_state=random_state,
        test_size=test_size,
        options=dict(options),
    )
    return loader(card, request)


def _read_any(path: Path) -> pd.DataFrame:
    import pandas as pd

    ext = path.suffix.lower()
    if ext in (".parquet", ".pq"):
        try:
            return pd.read_parquet(path)
        except Exception as err:  # noqa: BLE001 - pyarrow raises many types
            raise InvalidInputError(
                _CSV_UNREADABLE.format(path=path, fmt="Parquet", err=err)
            ) from err
    if ext not in (".csv", ".tsv", ".txt"):
        raise InvalidInputError(_CSV_FORMAT.format(path=path, ext=ext))
    try:
        return pd.read_csv(path, sep="\t" if ext == ".tsv" else ",")
    except pd.errors.EmptyDataError as err:
        raise InvalidInputError(ck.EMPTY_FILE.format(path=path)) from err
    except (pd.errors.ParserError, UnicodeDecodeError) as err:
        raise InvalidInputError(_CSV_UNREADABLE.format(path=path, fmt="CSV", err=err)) from err


def load_csv(
    path: str | os.PathLike[str],
    *,
    target: str,
    sensitive: str | Sequence[str],
    positive_label: str | None = None,
    random_state: int = 0,
    test_size: float = 0.2,
) -> Dataset:
    """Load your own table (CSV, TSV or Parquet) as a tabular Dataset.

    Every column other than the target, the sensitive columns and ``split`` is a feature.
    A ``split`` column (values ``train``/``test``) is used when present; otherwise the split is
    stratified by sensitive groups x label, deterministic from ``random_state``. Missing values
    in sensitive columns become the group ``"missing"`` (counted in ``report.recoded``). Every
    such change is announced with a :class:`~fairsuite.exceptions.DataChangeWarning` and listed
    in ``report.changes``.

    Parameters
    ----------
    path : path
        The file.
    target : str
        Column to predict. Its values, as strings and sorted, are the classes.
    sensitive : str or sequence of str
        One or more sensitive-attribute columns; each needs at least two groups.
    positive_label : str, optional
        Value of the target that is code 1. With more than two target values the task becomes
        one-vs-rest (classes ``("not <label>", "<label>")``), announced as a change.
    random_state, test_size
        Seed and test share of the split when the file has no ``split`` column.

    Returns
    -------
    Dataset
        ``kind="tabular"``, named after the file stem.

    Raises
    ------
    DatasetNotFoundError
        The file does not exist.
    InvalidInputError
        Empty or unreadable file; a target/sensitive column that does not exist (the message
        lists the columns); an empty target value; a single class or a single sensitive group.
    """
    import pandas as pd

    path = Path(path).expanduser().resolve()
    if not path.is_file():
        raise DatasetNotFoundError(_NOT_FOUND.format(path=path))
    df = _read_any(path)
    if df.empty:
        raise InvalidInputError(ck.EMPTY_FILE.format(path=path))
    sens = [sensitive] if isinstance(sensitive, str) else list(sensitive)
    columns = [str(c) for c in df.columns]
    for what, col in [("target", target)] + [("sensitive", s) for s in sens]:
        if col not in columns:
            raise InvalidInputError(
                _CSV_MISSING_COLUMN.format(path=path, what=what, column=col, columns=columns)
            )
    for col in columns:
        if col in _RESERVED and col != target:
            raise InvalidInputError(
                _CSV_RESERVED.format(path=path, column=col, reserved=list(_RESERVED))
            )
    tvals = df[target]
    if tvals.isna().any():
        rows = [int(i) + 2 for i in np.flatnonzero(tvals.isna().to_numpy())[:_EXAMPLES]]
        raise InvalidInputError(
            _CSV_TARGET_NA.format(path=path, column=target, n=int(tvals.isna().sum()), rows=rows)
        )
    tstr = tvals.astype(str)
    values = sorted(tstr.unique())
    recoded: dict[str, int] = {}
    changes: list[str] = []
    if len(values) < 2:
        raise InvalidInputError(_CSV_ONE_CLASS.format(path=path, column=target, value=values[0]))
    if positive_label is not None:
        if str(positive_label) not in values:
            raise InvalidInputError(
                _CSV_POSITIVE.format(path=path, label=positive_label, column=target, values=values)
            )
        pos = str(positive_label)
        if len(values) == 2:
            classes: tuple[str, ...] = (next(v for v in values if v != pos), pos)
            y = (tstr == pos).to_numpy(dtype=np.int64)
        else:
            classes = (f"not {pos}", pos)
            y = (tstr == pos).to_numpy(dtype=np.int64)
            recoded[f"target values other than {pos!r} merged into 'not {pos}'"] = int(
                (y == 0).sum()
            )
            shown = values if len(values) <= 6 else values[:5] + ["..."]
            announce(
                changes,
                ONE_VS_REST.format(
                    name=path.name,
                    column=target,
                    k=len(values),
                    values=", ".join(map(repr, shown)),
                    label=pos,
                    n_pos=int(y.sum()),
                    n_rest=int((y == 0).sum()),
                ),
            )
    else:
        classes = tuple(values)
        y = tstr.map({c: i for i, c in enumerate(classes)}).to_numpy(dtype=np.int64)
    table = pd.DataFrame({"row_id": np.arange(len(df)).astype(str)})
    for col in sens:
        native = df[col]
        n_na = int(native.isna().sum())
        if n_na:
            recoded[f"missing value in {col} kept as group 'missing'"] = n_na
            announce(changes, SENSITIVE_MISSING.format(name=path.name, n=n_na, column=col))
        table[f"native_{col}"] = native.to_numpy()
        table[col] = native.astype(str).where(native.notna(), "missing").to_numpy()
    table[f"native_{target}"] = tvals.to_numpy()
    table["y"] = y
    features = tuple(c for c in columns if c not in sens and c != target and c != "split")
    for col in features:
        table[col] = df[col].to_numpy()
    if "split" in columns:
        split = df["split"].astype(str).str.strip().str.lower()
        bad = sorted(set(split) - {"train", "test"})
        if bad:
            raise InvalidInputError(_CSV_BAD_SPLIT.format(path=path, values=bad))
        table["split"] = split.to_numpy()
    else:
        strata = table[sens].astype(str).agg("|".join, axis=1) + "|" + table["y"].astype(str)
        table["split"] = ck.stratified_split(strata, test_size=test_size, random_state=random_state)
    ck.check_sensitive_groups(table, sens, str(path))
    report = LoadReport(
        rows_read=len(df), rows_kept=len(table), recoded=recoded, changes=tuple(changes)
    )
    return Dataset(
        name=path.stem,
        kind="tabular",
        table=table,
        task=target,
        classes=classes,
        sensitive=tuple(sens),
        features=features,
        root=path.parent,
        report=report,
        card=None,
        checksums={path.name: ck.file_checksums(path)[0]},
    )
