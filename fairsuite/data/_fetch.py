"""Download datasets with stable public URLs (Adult, COMPAS): checksummed, resumable, atomic.

Each file the card lists with a ``url`` is streamed to ``<data root>/<name>/.<file>.part``,
resumed with an HTTP ``Range`` request when a transfer breaks (and the server answers ``206``),
checked against the card's sha256 and only then moved into place with :func:`os.replace`. A file
whose checksum does not match is deleted: nothing unverified is ever left under its real name.

Only :mod:`urllib` is used (no extra dependency). ``mirror`` (or ``$FAIRSUITE_MIRROR``) replaces
the card's URLs by a server laid out like a data root: ``<mirror>/adult/adult.data``.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

from fairsuite._paths import resolve_data_dir
from fairsuite.data._cards import CardFile, DatasetCard, get_card
from fairsuite.exceptions import DatasetIntegrityError, DatasetNotFoundError, InvalidInputError

__all__ = ["DownloadedFile", "DownloadResult", "download", "resolve_mirror"]

MIRROR_ENV = "FAIRSUITE_MIRROR"

NOT_DOWNLOADABLE = "{name} cannot be downloaded by fairsuite ({why}){how}"
UNREACHABLE = (
    "cannot download {url} ({reason}); check the connection or pass --mirror URL, or get it by "
    "hand: {how}"
)
HTTP_FAILED = "cannot download {url}: HTTP {code} {reason}; get it by hand: {how}"
CHECKSUM_MISMATCH = (
    "{url}: downloaded {size:,} bytes with sha256 {got}, expected {expected}; nothing was kept "
    "(a proxy or a changed upstream file?). Try again, use --mirror, or get it by hand: {how}"
)
EXISTS_MISMATCH = (
    "{path} exists but its sha256 {got} differs from the card's {expected}; move it away or pass "
    "force=True (--force) to replace it"
)
BAD_MIRROR = "mirror {mirror!r} is not a URL; allowed: an http://, https:// or file:// base URL"
BROKEN_TRANSFER = "transfer broke off after {done:,} of {total} bytes ({reason})"

_CHUNK = 1 << 16
_USER_AGENT = "fairsuite-datasets-download"


@dataclass(frozen=True)
class DownloadedFile:
    """One file of a download: where it is, where it came from, and what happened.

    ``status`` is ``"downloaded"``, ``"resumed"`` (continued with HTTP Range, after a broken
    transfer or from a ``.part`` file an earlier run left) or ``"present"`` (already there with
    the right checksum; nothing fetched).
    """

    path: Path
    url: str
    sha256: str
    size: int
    status: Literal["downloaded", "resumed", "present"]
    bytes_fetched: int = 0
    attempts: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form for JSON."""
        return {
            "path": str(self.path),
            "url": self.url,
            "sha256": self.sha256,
            "size": self.size,
            "status": self.status,
            "bytes_fetched": self.bytes_fetched,
            "attempts": self.attempts,
        }


@dataclass(frozen=True)
class DownloadResult:
    """What :func:`download` placed for one dataset."""

    dataset: str
    folder: Path
    files: tuple[DownloadedFile, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form for JSON."""
        return {
            "dataset": self.dataset,
            "folder": str(self.folder),
            "files": [f.to_dict() for f in self.files],
        }


def resolve_mirror(mirror: str | None = None) -> str | None:
    """The mirror base URL: ``mirror``, else ``$FAIRSUITE_MIRROR``, else ``None`` (card URLs)."""
    value = mirror if mirror is not None else os.environ.get(MIRROR_ENV) or None
    if value is None:
        return None
    if not value.startswith(("http://", "https://", "file://")):
        raise InvalidInputError(BAD_MIRROR.format(mirror=value))
    return value.rstrip("/")


def _downloadable(card: DatasetCard) -> list[CardFile]:
    if card.synthetic:
        why = "it is generated on first use; nothing to download"
        raise InvalidInputError(NOT_DOWNLOADABLE.format(name=card.name, why=why, how=""))
    files = [f for f in card.files if f.url]
    if not files or card.acquire != "download":
        why = "its host needs a browser"
        how = f"; {card.get_data}"
        raise InvalidInputError(NOT_DOWNLOADABLE.format(name=card.name, why=why, how=how))
    return files


def download(
    name: str,
    *,
    data_dir: str | os.PathLike[str] | None = None,
    mirror: str | None = None,
    force: bool = False,
    progress: bool | None = None,
    timeout: float = 30.0,
    retries: int = 3,
) -> DownloadResult:
    """Download a dataset's files into ``<data root>/<name>/``, checked against the card.

    Parameters
    ----------
    name : str
        A dataset whose card gives a URL for each file (``adult``, ``compas``).
    data_dir : path, optional
        The data root; default ``$FAIRSUITE_DATA``, else the user data directory. Created if
        needed.
    mirror : str, optional
        Base URL of a server laid out like a data root (``<mirror>/adult/adult.data``); default
        ``$FAIRSUITE_MIRROR``, else the card's URLs.
    force : bool
        Replace files that exist with a checksum other than the card's (default: refuse).
    progress : bool, optional
        Show a progress bar on stderr; default: only when stderr is a terminal.
    timeout : float
        Seconds to wait for the server on each read.
    retries : int
        How many times a broken transfer is resumed before giving up.

    Returns
    -------
    DownloadResult
        One :class:`DownloadedFile` per file, in card order.

    Raises
    ------
    InvalidInputError
        The dataset has no download URLs (FairFace, UTKFace: use :func:`import_archive`).
    DatasetNotFoundError
        The server cannot be reached or answers with an HTTP error; the message names the URL
        and the manual route.
    DatasetIntegrityError
        A downloaded file's sha256 differs from the card's (the file is deleted), or an existing
        file differs and ``force`` is false.
    """
    card = get_card(name)
    files = _downloadable(card)
    base = resolve_mirror(mirror)
    folder = resolve_data_dir(data_dir) / card.name
    folder.mkdir(parents=True, exist_ok=True)
    show = sys.stderr.isatty() if progress is None else progress
    done = []
    for f in files:
        url = f"{base}/{card.name}/{f.path}" if base else str(f.url)
        done.append(
            _fetch_file(
                card,
                f,
                url,
                folder / f.path,
                force=force,
                progress=show,
                timeout=timeout,
                retries=retries,
            )
        )
    return DownloadResult(dataset=card.name, folder=folder, files=tuple(done))


def _sha256(path: Path) -> str:
    from fairsuite._io import sha256_file

    return sha256_file(path)


def _fetch_file(
    card: DatasetCard,
    entry: CardFile,
    url: str,
    dest: Path,
    *,
    force: bool,
    progress: bool,
    timeout: float,
    retries: int,
) -> DownloadedFile:
    expected = entry.sha256
    if dest.exists():
        got = _sha256(dest)
        if expected is None or got == expected:
            return DownloadedFile(dest, url, got, dest.stat().st_size, "present")
        if not force:
            raise DatasetIntegrityError(
                EXISTS_MISMATCH.format(path=dest, got=got, expected=expected)
            )
    part = dest.with_name(f".{dest.name}.part")
    resumed = part.exists() and part.stat().st_size > 0
    fetched, attempts = 0, 0
    bar = _bar(dest.name, progress)
    try:
        while True:
            attempts += 1
            try:
                n, complete = _transfer(url, part, timeout=timeout, bar=bar, how=card.get_data)
                fetched += n
                if complete:
                    break
                reason = "server closed the connection early"
            except _Broken as err:
                fetched += err.fetched
                reason = err.reason
            if attempts > retries:
                raise DatasetNotFoundError(
                    UNREACHABLE.format(
                        url=url,
                        reason=BROKEN_TRANSFER.format(
                            done=part.stat().st_size if part.exists() else 0,
                            total="?",
                            reason=reason,
                        )
                        + f", {attempts} attempts",
                        how=card.get_data,
                    )
                )
            resumed = True
            time.sleep(min(0.2 * attempts, 1.0))
    finally:
        if bar is not None:
            bar.close()
    got = _sha256(part)
    size = part.stat().st_size
    if expected is not None and got != expected:
        with contextlib.suppress(FileNotFoundError):
            part.unlink()
        raise DatasetIntegrityError(
            CHECKSUM_MISMATCH.format(
                url=url, size=size, got=got, expected=expected, how=card.get_data
            )
        )
    os.replace(part, dest)
    return DownloadedFile(
        dest, url, got, size, "resumed" if resumed else "downloaded", fetched, attempts
    )


class _Broken(Exception):
    """A transfer that stopped midway (the ``.part`` file keeps what arrived)."""

    def __init__(self, reason: str, fetched: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.fetched = fetched


def _bar(desc: str, show: bool) -> Any:
    if not show:
        return None
    from tqdm import tqdm

    return tqdm(desc=desc, unit="B", unit_scale=True, unit_divisor=1024, file=sys.stderr)


def _transfer(url: str, part: Path, *, timeout: float, bar: Any, how: str) -> tuple[int, bool]:
    """Fetch ``url`` into ``part`` (resuming from its size); return (bytes fetched, complete)."""
    import http.client
    import urllib.error
    import urllib.request

    offset = part.stat().st_size if part.exists() else 0
    headers = {"User-Agent": _USER_AGENT, "Accept-Encoding": "identity"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    request = urllib.request.Request(url, headers=headers)
    try:
        response = urllib.request.urlopen(request, timeout=timeout)  # noqa: S310 - http(s)/file
    except urllib.error.HTTPError as err:
        if err.code == 416 and offset:
            # The .part holds at least the whole file: start again from nothing.
            err.close()
            part.unlink()
            raise _Broken("the server refused the resume range; starting over", 0) from err
        err.close()
        raise DatasetNotFoundError(
            HTTP_FAILED.format(url=url, code=err.code, reason=err.reason, how=how)
        ) from err
    except (urllib.error.URLError, OSError) as err:
        reason = getattr(err, "reason", None) or err
        raise DatasetNotFoundError(UNREACHABLE.format(url=url, reason=reason, how=how)) from err
    with response:
        status = getattr(response, "status", None) or 200
        total = response.headers.get("Content-Length")
        mode = "wb"
        if offset and status == 206 and _range_start(response.headers) == offset:
            mode = "ab"
        elif offset:
            offset = 0  # the server ignored Range (200): start the file again
        expected_total = offset + int(total) if total and total.isdigit() else None
        if bar is not None:
            bar.reset(total=expected_total)
            bar.update(offset)
        fetched = 0
        with open(part, mode) as out:
            fetched = _copy(response, out, bar, http.client)
        size = offset + fetched
    if expected_total is not None and size < expected_total:
        return fetched, False
    return fetched, True


def _copy(response: IO[bytes], out: IO[bytes], bar: Any, http_client: Any) -> int:
    fetched = 0
    try:
        while True:
            block = response.read(_CHUNK)
            if not block:
                return fetched
            out.write(block)
            fetched += len(block)
            if bar is not None:
                bar.update(len(block))
    except (http_client.IncompleteRead, OSError) as err:
        partial = getattr(err, "partial", b"")
        if partial:
            out.write(partial)
            fetched += len(partial)
        out.flush()
        raise _Broken(f"{type(err).__name__}: {err}", fetched) from err


def _range_start(headers: Any) -> int | None:
    """The first byte of a ``Content-Range: bytes START-END/TOTAL`` header."""
    value = headers.get("Content-Range") or ""
    if not value.startswith("bytes "):
        return None
    start = value[6:].split("-", 1)[0]
    return int(start) if start.isdigit() else None
