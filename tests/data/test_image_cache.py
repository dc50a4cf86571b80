"""The decoded-image cache on real FairFace/UTKFace files plus broken copies."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from fairsuite.data._image_cache import (
    ALL_FAILED,
    IMAGE_SIZE_INVALID,
    NO_PATHS,
    build_image_cache,
    cache_key,
)
from fairsuite.exceptions import DataFairnessWarning, DatasetIntegrityError, InvalidInputError


def _real_paths(data_root: Path, n_fairface: int = 200, n_utk: int = 100) -> list[str]:
    ff = pd.read_csv(data_root / "fairface" / "images_present.csv")["file"].iloc[:n_fairface]
    utk = pd.read_csv(data_root / "utkface" / "images_present.csv")["file"].iloc[:n_utk]
    return [str(data_root / "fairface" / f) for f in ff] + [
        str(data_root / "utkface" / f) for f in utk
    ]


def test_real_images_decode_once_and_match_pillow(data_root: Path, tmp_path: Path) -> None:
    paths = _real_paths(data_root)
    cache = build_image_cache(paths, image_size=32, cache_dir=tmp_path, n_jobs=2, progress=False)
    assert cache.built
    assert cache.array.shape == (300, 32, 32, 3)
    assert cache.array.dtype == np.uint8
    assert cache.ok.all() and cache.n_failed == 0
    assert cache.paths == tuple(paths)
    assert cache.directory == tmp_path / "images" / cache.key
    # Row i is image i: a 200x200 UTKFace face and a 224x224 FairFace face, resized alike.
    for i in (0, 57, 250):
        with Image.open(paths[i]) as img:
            ref = np.asarray(img.convert("RGB").resize((32, 32), Image.Resampling.BILINEAR), float)
        diff = np.abs(cache.array[i].astype(float) - ref).mean()
        assert diff < 12.0, (i, diff)  # draft-mode JPEG decoding differs only slightly
        assert cache.array[i].std() > 10  # a real picture, not zeros


def test_cache_is_reused_without_decoding(data_root: Path, tmp_path: Path) -> None:
    paths = _real_paths(data_root, 40, 10)
    first = build_image_cache(paths, image_size=16, cache_dir=tmp_path, progress=False)
    npy = first.directory / "images.npy"
    mtime = npy.stat().st_mtime_ns
    again = build_image_cache(paths, image_size=16, cache_dir=tmp_path, progress=False)
    assert first.built and not again.built
    assert again.key == first.key
    assert npy.stat().st_mtime_ns == mtime  # not rewritten
    np.testing.assert_array_equal(np.asarray(again.array), np.asarray(first.array))
    # No temporary build folder is left behind.
    assert [p.name for p in (tmp_path / "images").iterdir()] == [first.key]


def test_key_changes_with_files_size_and_order(data_root: Path, tmp_path: Path) -> None:
    src = _real_paths(data_root, 3, 0)
    copies = []
    for i, p in enumerate(src):
        dst = tmp_path / f"img{i}.jpg"
        shutil.copy(p, dst)
        copies.append(str(dst))
    key = cache_key(copies, 16)
    assert cache_key(copies, 16) == key
    assert cache_key(copies, 24) != key
    assert cache_key(copies[::-1], 16) != key
    before = build_image_cache(copies, image_size=16, cache_dir=tmp_path / "c", progress=False)
    # Replace one file by another image: size and mtime change, so does the key.
    shutil.copy(src[2], copies[0])
    os.utime(copies[0], ns=(1, 1))
    after = build_image_cache(copies, image_size=16, cache_dir=tmp_path / "c", progress=False)
    assert after.key != before.key and after.built
    np.testing.assert_array_equal(after.array[0], after.array[2])
    assert not np.array_equal(after.array[0], before.array[0])


def test_truncated_and_non_image_files_are_listed_and_excluded(
    data_root: Path, tmp_path: Path
) -> None:
    good = _real_paths(data_root, 4, 0)
    truncated = tmp_path / "truncated.jpg"
    data = Path(good[0]).read_bytes()
    truncated.write_bytes(data[: len(data) // 3])
    text = tmp_path / "notes.jpg"
    text.write_text("this is not an image\n")
    missing = tmp_path / "gone.jpg"
    paths = [good[0], str(truncated), good[1], str(text), str(missing), good[2]]
    with pytest.warns(DataFairnessWarning, match=re.escape("3 of 6 images could not be decoded")):
        cache = build_image_cache(paths, image_size=16, cache_dir=tmp_path / "c", progress=False)
    assert cache.ok.tolist() == [True, False, True, False, False, True]
    reasons = dict(cache.failed)
    assert set(reasons) == {str(truncated), str(text), str(missing)}
    assert "truncated" in reasons[str(truncated)]
    assert "UnidentifiedImageError" in reasons[str(text)]
    assert "FileNotFoundError" in reasons[str(missing)]
    assert not cache.array[1].any()  # failed rows are zeros, never half an image
    # Reused caches report the same failures again (never silently).
    with pytest.warns(DataFairnessWarning):
        again = build_image_cache(paths, image_size=16, cache_dir=tmp_path / "c", progress=False)
    assert not again.built and again.failed == cache.failed


def test_every_image_failing_is_an_error(tmp_path: Path) -> None:
    bad = tmp_path / "a.jpg"
    bad.write_text("not a jpeg")
    with pytest.raises(DatasetIntegrityError, match=re.escape(ALL_FAILED.split("{")[0])):
        build_image_cache([str(bad)], image_size=16, cache_dir=tmp_path, progress=False)


def test_parallel_build_equals_serial(data_root: Path, tmp_path: Path) -> None:
    paths = _real_paths(data_root, 300, 0)  # over the parallel threshold
    par = build_image_cache(
        paths, image_size=16, cache_dir=tmp_path / "p", n_jobs=2, progress=False
    )
    ser = build_image_cache(
        paths, image_size=16, cache_dir=tmp_path / "s", n_jobs=1, progress=False
    )
    np.testing.assert_array_equal(np.asarray(par.array), np.asarray(ser.array))


@pytest.mark.parametrize("size", [0, 4, 2000, 32.0, True, "64"])
def test_bad_image_size(size: object, tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match=re.escape(IMAGE_SIZE_INVALID.format(value=size))):
        build_image_cache(["x.jpg"], image_size=size, cache_dir=tmp_path)  # type: ignore[arg-type]


def test_empty_path_list(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match=re.escape(NO_PATHS)):
        build_image_cache([], image_size=16, cache_dir=tmp_path)


def test_concurrent_builders_agree(data_root: Path, tmp_path: Path) -> None:
    """Two builders racing on the same list: one rename wins, both get the same cache."""
    from concurrent.futures import ThreadPoolExecutor

    paths = _real_paths(data_root, 30, 10)
    with ThreadPoolExecutor(2) as pool:
        futures = [
            pool.submit(
                build_image_cache,
                paths,
                image_size=16,
                cache_dir=tmp_path,
                n_jobs=1,
                progress=False,
            )
            for _ in range(2)
        ]
        a, b = (f.result() for f in futures)
    assert a.key == b.key and a.directory == b.directory
    np.testing.assert_array_equal(np.asarray(a.array), np.asarray(b.array))
    assert [p.name for p in (tmp_path / "images").iterdir()] == [a.key]  # no temp folder left
