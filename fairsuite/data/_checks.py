"""Cheap checks shared by the loaders: folders, columns, categories, image files, splits."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from fairsuite.exceptions import DatasetIntegrityError, DatasetNotFoundError, InvalidInputError

if TYPE_CHECKING:
    import pandas as pd

    from fairsuite.data._cards import AttributeMap, DatasetCard

__all__: list[str] = []

ROOT_MISSING = (
    "data root {root} does not exist (looked at --data-dir, else $FAIRSUITE_DATA, else the user "
    "data directory); create it and put {name}/ inside. How to get {name}: {how}"
)
DATASET_MISSING = (
    "dataset folder {folder} does not exist under the data root {root}; expected layout: {layout}. "
    "How to get {name}: {how}"
)
FILE_MISSING = (
    "{name}: expected file {path} is missing (expected sha256 {sha256}); How to get {name}: {how}"
)
EMPTY_FILE = "{path} is empty (0 data rows); replace it with the published file"
MISSING_COLUMNS = "{path}: missing columns {missing}; expected columns {expected}"
EXTRA_COLUMNS = (
    "{path}: unexpected columns {extra}; expected exactly {expected}. Is this the published file?"
)
UNKNOWN_CATEGORY = (
    "{path}, row {row}, column {column!r}: unknown value {value!r}; allowed: {allowed}"
)
BAD_NUMBER = (
    "{path}, row {row}, column {column!r}: {value!r} is not a number; fix or remove the row"
)
IMAGES_MISSING = (
    "{name}: {n} of {listed} labelled images are missing on disk under {folder} (first: {first}); "
    "put the images there, or pass allow_missing=True (--allow-missing) to drop those rows and "
    "count them"
)
IMAGES_INVALID = (
    "{name}: {n} image file(s) are not valid images: {first}; replace them with the published "
    "files, or pass allow_missing=True (--allow-missing) to drop those rows and count them"
)
SINGLE_GROUP = (
    "sensitive attribute {column!r} has a single group ({group!r}) in {source}; a fairness audit "
    "needs at least two groups: choose another attribute or add data"
)

_IMAGE_EXTS = {".jpg": b"\xff\xd8\xff", ".jpeg": b"\xff\xd8\xff", ".png": b"\x89PNG\r\n\x1a\n"}


def one_line(text: str) -> str:
    """A card's multi-line layout as one line (errors are one line on stderr)."""
    return " | ".join(" ".join(line.split()) for line in text.splitlines() if line.strip())


def dataset_folder(card: DatasetCard, root: Path) -> Path:
    """``<root>/<name>/``, or DatasetNotFoundError saying where it looked and how to get it."""
    if not root.is_dir():
        raise DatasetNotFoundError(
            ROOT_MISSING.format(root=root, name=card.name, how=card.get_data)
        )
    folder = root / card.name
    if not folder.is_dir():
        raise DatasetNotFoundError(
            DATASET_MISSING.format(
                folder=folder,
                root=root,
                layout=one_line(card.layout),
                name=card.name,
                how=card.get_data,
            )
        )
    return folder


def required_file(card: DatasetCard, folder: Path, rel: str) -> Path:
    """Path of a file the card lists, or DatasetNotFoundError naming it, its checksum, the fix."""
    path = folder / rel
    if not path.exists():
        try:
            sha = card.file(rel).sha256 or "unknown"
        except KeyError:
            sha = "unknown"
        raise DatasetNotFoundError(
            FILE_MISSING.format(name=card.name, path=path, sha256=sha, how=card.get_data)
        )
    return path


def file_checksums(path: Path) -> tuple[str, str]:
    """(sha256, md5) of a file, read once."""
    sha, md5 = hashlib.sha256(), hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            sha.update(block)
            md5.update(block)
    return sha.hexdigest(), md5.hexdigest()


def verify_checksum(card: DatasetCard, rel: str, path: Path, notes: list[str]) -> str:
    """Return the file's sha256; a mismatch with the card is noted (the file is still read)."""
    sha, md5 = file_checksums(path)
    try:
        entry = card.file(rel)
    except KeyError:
        return sha
    if entry.sha256 and entry.sha256 != sha:
        notes.append(f"{path}: sha256 {sha} differs from the published {entry.sha256}")
    elif entry.md5 and entry.md5 != md5:
        notes.append(f"{path}: md5 {md5} differs from the published {entry.md5}")
    return sha


def check_columns(
    path: Path | str, columns: Sequence[str], expected: Sequence[str], *, allow_extra: bool
) -> None:
    """Raise InvalidInputError for missing (and, unless allowed, extra) columns."""
    missing = [c for c in expected if c not in columns]
    if missing:
        raise InvalidInputError(
            MISSING_COLUMNS.format(path=path, missing=missing, expected=list(expected))
        )
    extra = [c for c in columns if c not in expected]
    if extra and not allow_extra:
        raise InvalidInputError(
            EXTRA_COLUMNS.format(path=path, extra=extra, expected=list(expected))
        )


def check_categories(
    path: Path | str,
    values: pd.Series,
    allowed: Iterable[str],
    *,
    column: str,
    header_rows: int = 1,
) -> None:
    """Raise InvalidInputError on the first value not in ``allowed`` (file, row, value, allowed)."""
    allowed = list(allowed)
    bad = ~values.isin(allowed)
    if bad.any():
        pos = int(np.flatnonzero(bad.to_numpy())[0])
        raise InvalidInputError(
            UNKNOWN_CATEGORY.format(
                path=path,
                row=pos + 1 + header_rows,
                column=column,
                value=values.iloc[pos],
                allowed=allowed,
            )
        )


def harmonise(
    values: pd.Series, amap: AttributeMap, *, path: Path | str, header_rows: int = 1
) -> pd.Series:
    """Map native values onto the shared taxonomy with the card's map or age bins."""
    import pandas as pd

    if amap.bins:
        nums = pd.to_numeric(values, errors="coerce")
        out = pd.Series(pd.NA, index=values.index, dtype="object")
        for lo, hi, label in amap.bins:
            out[(nums >= lo) & (nums <= hi)] = label
        if out.isna().any():
            pos = int(np.flatnonzero(out.isna().to_numpy())[0])
            allowed = f"integers {amap.bins[0][0]}..{amap.bins[-1][1]}"
            raise InvalidInputError(
                UNKNOWN_CATEGORY.format(
                    path=path,
                    row=pos + 1 + header_rows,
                    column=amap.source,
                    value=values.iloc[pos],
                    allowed=allowed,
                )
            )
        return out.astype(str)
    strs = values.astype(str)
    check_categories(path, strs, amap.allowed, column=amap.source, header_rows=header_rows)
    return strs.map(amap.mapping).astype(str)


def image_problems(paths: Sequence[str]) -> list[tuple[str, str]]:
    """(path, reason) for files that cheaply fail as images: wrong type, empty, truncated.

    Only the first bytes and the last 64 are read; full decoding is the image cache's job.
    """
    problems: list[tuple[str, str]] = []
    for p in paths:
        ext = os.path.splitext(p)[1].lower()
        magic = _IMAGE_EXTS.get(ext)
        if magic is None:
            problems.append((p, f"not an image file type ({ext or 'no extension'})"))
            continue
        try:
            with open(p, "rb") as fh:
                head = fh.read(len(magic))
                size = fh.seek(0, os.SEEK_END)
                fh.seek(max(0, size - 64))
                tail = fh.read()
        except OSError as err:
            problems.append((p, f"unreadable ({err.strerror})"))
            continue
        if size == 0:
            problems.append((p, "empty file"))
        elif head != magic:
            problems.append((p, f"not a {ext[1:].upper()} image (wrong file signature)"))
        elif ext != ".png" and b"\xff\xd9" not in tail:
            problems.append((p, "truncated JPEG (no end-of-image marker)"))
    return problems


def stratified_split(strata: pd.Series, *, test_size: float, random_state: int) -> np.ndarray:
    """Deterministic split: per stratum (sorted), a seeded shuffle; round(n * test_size) to test."""
    if not 0.0 < test_size < 1.0:
        raise InvalidInputError(f"test_size is {test_size!r}; allowed: a float in (0, 1)")
    rng = np.random.default_rng(random_state)
    out = np.full(len(strata), "train", dtype=object)
    codes, uniques = strata.astype(str).factorize(sort=True)
    for k in range(len(uniques)):
        idx = np.flatnonzero(codes == k)
        n_test = int(round(len(idx) * test_size))
        if n_test:
            out[rng.permutation(idx)[:n_test]] = "test"
    return out


def check_sensitive_groups(table: pd.DataFrame, sensitive: Sequence[str], source: str) -> None:
    """Raise InvalidInputError when a sensitive attribute has fewer than two groups."""
    for col in sensitive:
        groups = table[col].unique()
        if len(groups) < 2:
            group = groups[0] if len(groups) else None
            raise InvalidInputError(SINGLE_GROUP.format(column=col, group=group, source=source))


def raise_integrity(name: str, problems: list[tuple[str, str]]) -> None:
    """Raise DatasetIntegrityError listing the first few invalid images."""
    first = "; ".join(f"{p} ({r})" for p, r in problems[:5])
    raise DatasetIntegrityError(IMAGES_INVALID.format(name=name, n=len(problems), first=first))
