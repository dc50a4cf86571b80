"""``load``: the one "open this dataset" function behind every command.

A name with a card (``fairface``, ``adult``, ...) goes to :func:`load_dataset`; a CSV/TSV/Parquet
path to :func:`load_csv`. Usage mistakes (an unknown name, a task the card does not have, a file
without ``target``/``sensitive``) are :class:`~fairsuite.exceptions.SpecError` (exit code 2);
data problems are the loaders' errors (exit code 3). The data's integrity against its card's
checksums is checked here: a mismatch is announced and recorded, or, with ``strict_data``, an
error.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

from fairsuite.data._dataset import Dataset
from fairsuite.exceptions import DataIntegrityWarning, DatasetIntegrityError, SpecError

__all__ = ["load", "integrity", "dataset_info"]

_UNKNOWN_DATASET = "unknown dataset {name!r}; known: {known}, or a .csv/.parquet path"
_FILE_NEEDS = (
    "{source} is a file: pass --target COLUMN and at least one --sensitive COLUMN "
    "(library: target=..., sensitive=[...])"
)
_UNKNOWN_TASK = "dataset {name!r} has no task {task!r}; allowed: {allowed}"
_POSITIVE_LABEL_CARD = (
    "positive_label applies to CSV/Parquet files; {name!r} has a card whose tasks define their "
    "positive class (datasets/{name}.yaml)"
)
_MISMATCH = (
    "{name}: {file} has sha256 {found}, but the card lists {expected}: this is not the "
    "published file, so results may not be comparable with other copies. Run `fairsuite "
    "datasets verify {name}`, or pass --strict-data to make this an error."
)


def integrity(dataset: Dataset) -> dict[str, Any]:
    """Each checksummed data file against its card: ``{"status", "checked", "mismatches"}``.

    ``status`` is ``"ok"`` (every file read matches its card), ``"mismatch"`` (``mismatches``
    lists ``{file, expected, found}``) or ``"unchecked"`` (no file with a published checksum
    was read: generated data, CSVs, UTKFace's file-name labels).
    """
    card = dataset.card
    checked: list[str] = []
    mismatches: list[dict[str, str]] = []
    for f in getattr(card, "files", ()) or ():
        found = dataset.checksums.get(f.path)
        expected = getattr(f, "sha256", None)
        if found is None or not expected:
            continue
        checked.append(f.path)
        if found != expected:
            mismatches.append({"file": f.path, "expected": expected, "found": found})
    status = "mismatch" if mismatches else ("ok" if checked else "unchecked")
    return {"status": status, "checked": checked, "mismatches": mismatches}


def load(
    source: str,
    *,
    data_dir: str | os.PathLike[str] | None = None,
    task: str | None = None,
    target: str | None = None,
    sensitive: Sequence[str] = (),
    positive_label: str | None = None,
    allow_missing: bool = False,
    require_images: bool = True,
    strict_data: bool = False,
    seed: int = 0,
    options: Mapping[str, Any] | None = None,
) -> Dataset:
    """Open a dataset by card name or file path; the single front door of every command.

    Parameters
    ----------
    source : str
        A card name (see :func:`list_datasets`) or a CSV/TSV/Parquet path.
    data_dir : path, optional
        Data root for named datasets (default ``$FAIRSUITE_DATA``, else the user data dir).
    task, target : str, optional
        Named datasets: one of the card's tasks (``target`` is accepted as a synonym). Files:
        ``target`` is the column to predict.
    sensitive : sequence of str
        Files: the sensitive columns (at least one). Named datasets: ignored here (the card
        defines them; an audit chooses among them).
    positive_label : str, optional
        Files only: the target value that is the positive class.
    allow_missing, require_images : bool
        Image sets: drop (and count) rows whose image is missing or invalid; or skip the image
        check and only read labels (``require_images=False``).
    strict_data : bool
        Raise when a data file's checksum differs from its card (else warn and record).
    seed : int
        Seed of the split of datasets without an official one.
    options : mapping, optional
        Options of the dataset's loader (``synthfaces``: ``n``, ``proportions``,
        ``difficulty``, ``image_size``); unknown options are an error naming the allowed ones.

    Returns
    -------
    Dataset
    """
    from fairsuite.data._cards import get_card, list_datasets
    from fairsuite.data._loaders import is_table_path, load_csv, load_dataset

    if is_table_path(source):
        if not target or not sensitive:
            raise SpecError(_FILE_NEEDS.format(source=source))
        dataset = load_csv(
            source,
            target=target,
            sensitive=list(sensitive),
            positive_label=positive_label,
            random_state=seed,
        )
    else:
        known = list_datasets()
        if source not in known:
            raise SpecError(_UNKNOWN_DATASET.format(name=source, known=", ".join(known)))
        if positive_label is not None:
            raise SpecError(_POSITIVE_LABEL_CARD.format(name=source))
        if task is not None and target is not None and task != target:
            raise SpecError(f"task={task!r} and target={target!r} disagree; pass one of them")
        task = task if task is not None else target
        if task is not None:
            tasks = sorted(get_card(source).tasks)
            if task not in tasks:
                raise SpecError(
                    _UNKNOWN_TASK.format(name=source, task=task, allowed=", ".join(tasks))
                )
        dataset = load_dataset(
            source,
            data_dir=data_dir,
            task=task,
            allow_missing=allow_missing,
            require_images=require_images,
            random_state=seed,
            **dict(options or {}),
        )
    check = integrity(dataset)
    for m in check["mismatches"]:
        message = _MISMATCH.format(name=dataset.name, **m)
        if strict_data:
            raise DatasetIntegrityError(message)
        warnings.warn(message, DataIntegrityWarning, stacklevel=2)
    return dataset


def dataset_info(source: str, **options: Any) -> dict[str, Any]:
    """Describe a dataset without training: its composition (splits, groups, label balance per
    group, imbalance ratio, entropy, smallest cells, images listed vs present), its load report,
    checksums and integrity -- what ``fairsuite datasets info`` prints.

    ``options`` are :func:`load`'s keywords (``data_dir``, ``task``, ``target``, ``sensitive``,
    ``positive_label``, ``allow_missing``, ``seed``). Only the labels are read
    (``require_images=False``), so it works when some images are absent; ``images.decoded`` is
    False: nothing was decoded (``verify(..., deep=True)`` does).
    """
    from fairsuite.data._composition import composition

    dataset = load(source, **{**options, "require_images": False})
    comp = composition(dataset)
    if comp.get("images") is not None:
        comp["images"] = {**comp["images"], "decoded": False}
    report = dataset.report
    comp["load_report"] = report.to_dict() if report is not None else None
    comp["checksums"] = dict(dataset.checksums)
    comp["integrity"] = integrity(dataset)
    return comp
