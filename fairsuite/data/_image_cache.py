"""The decoded-image cache: every image decoded and resized once into one uint8 array.

Training reads images thousands of times; decoding JPEGs each time would starve the model.
:func:`build_image_cache` decodes each file once (Pillow), converts it to RGB, centre-crops it
to a square and resizes it to ``image_size`` x ``image_size``, and stores all of them as one
``N x H x W x 3`` uint8 array in a memory-mapped ``.npy`` file under
``<cache>/images/<key>/``. The key hashes the ordered path list, the size and each file's size
and modification time, so a changed file gives a new cache and an unchanged list reuses the old
one without decoding anything.

Building runs in parallel on all cores (a process pool over chunks; each worker writes its slice
straight into the memory map) and is atomic: the cache is built in a temporary folder and renamed
into place, so concurrent builders (pytest-xdist workers, two notebooks, the runs of a sweep on
one node) never see a half-written cache. A lock file per cache key (``flock``) makes a second
builder wait for the first and then read its cache instead of decoding everything again; every
later run on the node memory-maps the same file. Files that cannot be decoded (truncated,
corrupt, not an image, missing) are listed with their reason in :attr:`ImageCache.failed`,
masked out in :attr:`ImageCache.ok`, and reported by a
:class:`~fairsuite.exceptions.DataFairnessWarning` with their count -- never dropped silently.
Only when every image fails is it an error.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sys
import uuid
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fairsuite._io import atomic_write_json
from fairsuite._paths import resolve_cache_dir
from fairsuite.exceptions import DataFairnessWarning, DatasetIntegrityError, InvalidInputError

if TYPE_CHECKING:
    import numpy as np

__all__ = ["ImageCache", "build_image_cache"]

#: Bump when the decoding recipe changes, so old caches are not reused.
CACHE_FORMAT_VERSION = 1

#: Chunk size of the process pool (images per task).
_CHUNK = 64

#: Below this many images the pool costs more than it saves; decode in this process.
_MIN_PARALLEL = 256

IMAGE_SIZE_INVALID = (
    "image_size must be an integer between 8 and 1024 (pixels, square); got {value!r}. "
    "Pass e.g. image_size=64."
)
NO_PATHS = "build_image_cache got an empty path list; pass at least one image path."
ALL_FAILED = (
    "none of the {n} images could be decoded, so there is nothing to train on or predict; "
    "first failures: {examples}. Check that the paths point at image files (JPEG/PNG) and "
    "that the files are complete."
)
SOME_FAILED = (
    "{n_failed} of {n} images could not be decoded and are excluded (ImageCache.failed lists "
    "every path and reason); first: {examples}. Replace or remove those files to use them."
)


@dataclass(frozen=True, eq=False)
class ImageCache:
    """Decoded, resized images of an ordered list of files, as one memory-mapped uint8 array.

    Attributes
    ----------
    paths : tuple[str, ...]
        The image files, in the order given to :func:`build_image_cache`; row ``i`` of
        ``array`` is ``paths[i]``.
    image_size : int
        Side of the square images, in pixels.
    key : str
        Hash of (paths, size, each file's size and mtime, format version); names the folder.
    directory : pathlib.Path
        ``<cache>/images/<key>/`` holding ``images.npy`` and ``meta.json``.
    ok : numpy.ndarray
        Boolean mask, ``True`` where the image decoded. Rows where it is ``False`` are zeros.
    failed : tuple[tuple[str, str], ...]
        ``(path, reason)`` of every image that could not be decoded.
    built : bool
        ``True`` when this call decoded the images, ``False`` when it reused a cache.
    """

    paths: tuple[str, ...]
    image_size: int
    key: str
    directory: Path
    ok: np.ndarray
    failed: tuple[tuple[str, str], ...] = ()
    built: bool = False
    _array: list[Any] = field(default_factory=list, repr=False)

    @property
    def array(self) -> np.ndarray:
        """The ``N x H x W x 3`` uint8 images (read-only memory map, opened on first use)."""
        if not self._array:
            import numpy as np

            self._array.append(np.load(self.directory / "images.npy", mmap_mode="r"))
        return self._array[0]  # type: ignore[no-any-return]

    @property
    def n_failed(self) -> int:
        """How many images could not be decoded."""
        return len(self.failed)

    def __len__(self) -> int:
        return len(self.paths)

    def __repr__(self) -> str:
        return (
            f"ImageCache({len(self.paths)} images at {self.image_size}px, "
            f"{self.n_failed} failed, key={self.key[:12]}, directory={self.directory})"
        )


def _file_signature(path: str) -> list[Any]:
    try:
        st = os.stat(path)
    except OSError as err:
        return [path, "missing", type(err).__name__]
    return [path, st.st_size, st.st_mtime_ns]


def cache_key(paths: Sequence[str], image_size: int) -> str:
    """Return the cache key of ``paths`` at ``image_size`` (stat()s every file)."""
    h = hashlib.sha256()
    h.update(json.dumps({"v": CACHE_FORMAT_VERSION, "size": image_size}).encode())
    for p in paths:
        h.update(json.dumps(_file_signature(p)).encode())
        h.update(b"\n")
    return h.hexdigest()[:32]


def _decode_one(path: str, size: int) -> np.ndarray:
    """Decode one image into a ``size x size x 3`` uint8 array (raises on a bad file)."""
    import numpy as np
    from PIL import Image

    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        with Image.open(path) as img:
            # JPEG: let libjpeg decode at a reduced scale (>= the target size) -- much faster.
            img.draft("RGB", (size, size))
            img.load()  # forces the full decode: truncated files fail here
            rgb = img.convert("RGB")
    w, h = rgb.size
    if w != h:  # centre-crop to a square so faces keep their aspect ratio
        s = min(w, h)
        left, top = (w - s) // 2, (h - s) // 2
        rgb = rgb.crop((left, top, left + s, top + s))
    if rgb.size != (size, size):
        # Pillow's BILINEAR widens its support when shrinking, so this averages like an area filter.
        rgb = rgb.resize((size, size), Image.Resampling.BILINEAR, reducing_gap=3.0)
    return np.asarray(rgb, dtype=np.uint8)


def _decode_chunk(
    npy_path: str, start: int, paths: list[str], size: int
) -> list[tuple[int, str, str]]:
    """Decode ``paths`` into rows ``start..`` of the memmap; return ``(row, path, reason)``."""
    import numpy as np

    out = np.load(npy_path, mmap_mode="r+")
    failures: list[tuple[int, str, str]] = []
    for i, p in enumerate(paths):
        try:
            out[start + i] = _decode_one(p, size)
        except Exception as err:  # any decoding problem is recorded, never raised
            reason = f"{type(err).__name__}: {err}".strip()
            failures.append((start + i, p, reason))
    out.flush()
    del out
    return failures


def _available_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _show_progress(progress: bool) -> bool:
    return bool(progress) and hasattr(sys.stderr, "isatty") and sys.stderr.isatty()


def _build(
    tmp: Path, paths: list[str], size: int, n_jobs: int, progress: bool
) -> list[tuple[int, str, str]]:
    import numpy as np
    from tqdm.auto import tqdm

    npy = tmp / "images.npy"
    arr = np.lib.format.open_memmap(
        npy, mode="w+", dtype=np.uint8, shape=(len(paths), size, size, 3)
    )
    arr.flush()
    del arr
    chunks = [(s, paths[s : s + _CHUNK]) for s in range(0, len(paths), _CHUNK)]
    failures: list[tuple[int, str, str]] = []
    bar = tqdm(
        total=len(paths),
        desc=f"decoding images ({size}px)",
        unit="img",
        file=sys.stderr,
        disable=not _show_progress(progress),
    )
    with bar:
        if n_jobs <= 1 or len(paths) < _MIN_PARALLEL:
            for start, chunk in chunks:
                failures.extend(_decode_chunk(str(npy), start, chunk, size))
                bar.update(len(chunk))
        else:
            import multiprocessing as mp
            from concurrent.futures import ProcessPoolExecutor, as_completed
            from concurrent.futures.process import BrokenProcessPool

            # spawn, not fork: the caller may hold torch threads, and fork would copy them.
            ctx = mp.get_context("spawn")
            done: set[int] = set()
            try:
                with ProcessPoolExecutor(max_workers=n_jobs, mp_context=ctx) as pool:
                    futures = {
                        pool.submit(_decode_chunk, str(npy), s, chunk, size): (s, len(chunk))
                        for s, chunk in chunks
                    }
                    for fut in as_completed(futures):
                        failures.extend(fut.result())
                        done.add(futures[fut][0])
                        bar.update(futures[fut][1])
            except (BrokenProcessPool, OSError):
                # Workers could not start (e.g. a __main__ read from stdin cannot be re-imported
                # by spawn): decode what is left in this process instead.
                for start, chunk in chunks:
                    if start not in done:
                        failures.extend(_decode_chunk(str(npy), start, chunk, size))
                        bar.update(len(chunk))
    failures.sort()
    return failures


def _read_meta(directory: Path) -> dict[str, Any] | None:
    try:
        meta: dict[str, Any] = json.loads((directory / "meta.json").read_text("utf-8"))
    except (OSError, ValueError):
        return None
    if not (directory / "images.npy").is_file():
        return None
    return meta


@contextlib.contextmanager
def _build_lock(path: Path) -> Iterator[None]:
    """An exclusive lock on ``path`` (``flock``): concurrent builders of one cache on a node
    wait for the first instead of decoding everything again. Where locking is unavailable
    (no ``fcntl``, a file system without locks) builders proceed unlocked: the atomic rename
    still leaves exactly one valid cache."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    try:
        handle = open(path, "a+b")  # noqa: SIM115 - held for the whole build
    except OSError:  # pragma: no cover - read-only cache root: the rename still protects
        yield
        return
    with handle:
        with contextlib.suppress(OSError):  # no locks on this file system: proceed unlocked
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            with contextlib.suppress(OSError):
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _build_into(
    final: Path,
    root: Path,
    key: str,
    str_paths: list[str],
    size: int,
    n_jobs: int | None,
    progress: bool,
) -> tuple[dict[str, Any], bool]:
    """Decode into a temporary folder and rename it to ``final``; ``(meta, built)``."""
    built = False
    tmp = root / f".tmp-{key}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        jobs = _available_cpus() if n_jobs is None else max(1, int(n_jobs))
        failures = _build(tmp, str_paths, size, jobs, progress)
        meta = {
            "format_version": CACHE_FORMAT_VERSION,
            "image_size": size,
            "n": len(str_paths),
            "paths": str_paths,
            "failed": [[row, p, reason] for row, p, reason in failures],
        }
        atomic_write_json(tmp / "meta.json", meta)
        try:
            os.rename(tmp, final)
            built = True
        except OSError:
            # Another builder finished first; its cache is identical, use it.
            if _read_meta(final) is None:
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    read = _read_meta(final)
    if read is None:  # pragma: no cover - removed under our feet
        raise DatasetIntegrityError(f"image cache at {final} vanished while it was built")
    return read, built


def build_image_cache(
    paths: Sequence[str | os.PathLike[str]],
    *,
    image_size: int,
    cache_dir: str | os.PathLike[str] | None = None,
    n_jobs: int | None = None,
    progress: bool = True,
) -> ImageCache:
    """Decode and resize images once into a memory-mapped uint8 array, or reuse that array.

    Parameters
    ----------
    paths : sequence of path-like
        Image files, in the order wanted; row ``i`` of the result is ``paths[i]``. Duplicates
        are allowed (each gets its own row).
    image_size : int
        Side of the square output images, in pixels (8..1024). Non-square images are
        centre-cropped first.
    cache_dir : path-like, optional
        Cache root; defaults to ``$FAIRSUITE_CACHE`` or the per-user cache folder. The cache
        lives in ``<cache_dir>/images/<key>/``.
    n_jobs : int, optional
        Worker processes; defaults to every core this process may use.
    progress : bool, default True
        Show a progress bar on stderr (only when stderr is a terminal).

    Returns
    -------
    ImageCache
        The images (``.array``), which decoded (``.ok``), and what failed and why (``.failed``).

    Raises
    ------
    InvalidInputError
        ``image_size`` is not an integer in 8..1024, or ``paths`` is empty.
    DatasetIntegrityError
        Not one image could be decoded.

    Warns
    -----
    DataFairnessWarning
        Some (not all) images could not be decoded; the warning gives the count and the first
        paths with their reasons.

    Examples
    --------
    >>> cache = build_image_cache(paths, image_size=64)  # doctest: +SKIP
    >>> cache.array.shape  # doctest: +SKIP
    (6400, 64, 64, 3)
    """
    import numpy as np

    if isinstance(image_size, bool) or not isinstance(image_size, (int, np.integer)):
        raise InvalidInputError(IMAGE_SIZE_INVALID.format(value=image_size))
    if not 8 <= int(image_size) <= 1024:
        raise InvalidInputError(IMAGE_SIZE_INVALID.format(value=image_size))
    size = int(image_size)
    str_paths = [os.fspath(p) for p in paths]
    if not str_paths:
        raise InvalidInputError(NO_PATHS)

    key = cache_key(str_paths, size)
    root = resolve_cache_dir(cache_dir) / "images"
    final = root / key
    meta = _read_meta(final)
    built = False
    if meta is None:
        root.mkdir(parents=True, exist_ok=True)
        locks = root.parent / "locks"
        locks.mkdir(exist_ok=True)
        with _build_lock(locks / f"images-{key}.lock"):
            # another builder may have finished while we waited for the lock: read its cache
            meta = _read_meta(final)
            if meta is None:
                meta, built = _build_into(final, root, key, str_paths, size, n_jobs, progress)
    else:
        with contextlib.suppress(OSError):
            os.utime(final / "meta.json")  # lets a cleaner find caches not used for long

    ok = np.ones(len(str_paths), dtype=bool)
    failed: list[tuple[str, str]] = []
    for row, p, reason in meta["failed"]:
        ok[int(row)] = False
        failed.append((p, reason))
    cache = ImageCache(
        paths=tuple(str_paths),
        image_size=size,
        key=key,
        directory=final,
        ok=ok,
        failed=tuple(failed),
        built=built,
    )
    if failed:
        examples = "; ".join(f"{p} ({r})" for p, r in failed[:3])
        if len(failed) == len(str_paths):
            raise DatasetIntegrityError(ALL_FAILED.format(n=len(str_paths), examples=examples))
        warnings.warn(
            SOME_FAILED.format(n_failed=len(failed), n=len(str_paths), examples=examples),
            DataFairnessWarning,
            stacklevel=2,
        )
    return cache
