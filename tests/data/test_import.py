"""`fairsuite.data.import_archive`: FairFace zips, UTKFace tar.gz and folders, hostile archives."""

from __future__ import annotations

import io
import os
import stat
import tarfile
import zipfile
from pathlib import Path

import pytest

from fairsuite.data import get_card, import_archive, load_dataset, verify
from fairsuite.data._import import SKIP_DUPLICATE, SKIP_METADATA, SKIP_PRESENT
from fairsuite.exceptions import DatasetNotFoundError, ExitCode, InvalidInputError


def real_fairface_images(data_root: Path, n: int = 6) -> list[str]:
    """The first ``n`` present train and val images (relative names like ``train/10006.jpg``)."""
    folder = data_root / "fairface"
    train = sorted(os.listdir(folder / "train"))[:n]
    val = sorted(os.listdir(folder / "val"))[:n]
    return [f"train/{x}" for x in train] + [f"val/{x}" for x in val]


def fairface_zip(data_root: Path, dest: Path, *, prefix: str = "") -> tuple[Path, list[str]]:
    """A zip laid out like fairface-img-margin025-trainval.zip (train/, val/) with junk."""
    names = real_fairface_images(data_root)
    with zipfile.ZipFile(dest, "w") as zf:
        zf.writestr(f"{prefix}train/", b"")
        for rel in names:
            zf.write(data_root / "fairface" / rel, f"{prefix}{rel}")
        zf.writestr(f"__MACOSX/{prefix}train/._{Path(names[0]).name}", b"junk")
        zf.writestr(f"{prefix}README.txt", b"not part of the layout")
    return dest, names


def utk_names(data_root: Path, n: int = 40) -> list[str]:
    """``n`` real UTKFace file names spread over the sorted list (several races and genders)."""
    names = sorted(os.listdir(data_root / "utkface" / "UTKFace"))
    step = len(names) // n
    return names[::step][:n]


def test_fairface_zip_and_real_label_csvs_load_and_verify(data_root: Path, tmp_path: Path) -> None:
    archive, names = fairface_zip(data_root, tmp_path / "fairface-img-margin025-trainval.zip")
    csvs = [data_root / "fairface" / f"fairface_label_{s}.csv" for s in ("train", "val")]
    root = tmp_path / "data"
    result = import_archive("fairface", [archive, *csvs], data_dir=root, progress=False)
    assert result.placed == {
        "fairface_label_train.csv": 1,
        "fairface_label_val.csv": 1,
        "train/": 6,
        "val/": 6,
    }
    assert result.skipped == {SKIP_METADATA: 1, "not part of the dataset's layout": 1}
    assert result.checks == {
        "fairface_label_train.csv": "sha256 ok",
        "fairface_label_val.csv": "sha256 ok",
    }
    for rel in names:
        assert (root / "fairface" / rel).read_bytes() == (data_root / "fairface" / rel).read_bytes()
    assert [p.name for p in root.iterdir()] == ["fairface"]  # no staging folder left behind
    ds = load_dataset("fairface", data_dir=root, allow_missing=True)
    assert len(ds) == 12
    assert sorted(ds.table["row_id"]) == sorted(names)
    report = verify("fairface", data_dir=root, allow_missing=True, deep=True, progress=False)
    assert report.status == "partial" and report.images_present == 12
    doc = result.to_dict()
    assert doc["n_placed"] == 14 and doc["skipped"][SKIP_METADATA]["n"] == 1


def test_fairface_zip_with_a_top_folder(data_root: Path, tmp_path: Path) -> None:
    archive, names = fairface_zip(data_root, tmp_path / "ff.zip", prefix="fairface-img/")
    result = import_archive("fairface", archive, data_dir=tmp_path / "data", progress=False)
    assert result.placed == {"train/": 6, "val/": 6}
    assert (tmp_path / "data" / "fairface" / names[0]).is_file()


def utk_tar(data_root: Path, dest: Path, names: list[str]) -> Path:
    with tarfile.open(dest, "w:gz") as tf:
        for n in names:
            tf.add(data_root / "utkface" / "UTKFace" / n, f"UTKFace/{n}")
        # an overlapping part archive, an in-the-wild name, and a text file
        tf.add(data_root / "utkface" / "UTKFace" / names[0], f"crop_part1/{names[0]}")
        wild = names[1].removesuffix(".chip.jpg")
        tf.add(data_root / "utkface" / "UTKFace" / names[1], f"part1/{wild}")
        info = tarfile.TarInfo("landmark_list_part1.txt")
        info.size = 4
        tf.addfile(info, io.BytesIO(b"1 2\n"))
    return dest


def test_utkface_tar_gz_loads(data_root: Path, tmp_path: Path) -> None:
    names = utk_names(data_root)
    archive = utk_tar(data_root, tmp_path / "UTKFace.tar.gz", names)
    root = tmp_path / "data"
    result = import_archive("utkface", archive, data_dir=root, progress=False)
    assert result.placed == {"UTKFace/": 40}
    assert result.skipped == {
        SKIP_DUPLICATE: 1,
        "image not named *.jpg.chip.jpg like the UTKFace/ images": 1,
        "not part of the dataset's layout": 1,
    }
    ds = load_dataset("utkface", data_dir=root)
    assert len(ds) == 40
    assert set(ds.table["row_id"]) == set(names)


def test_utkface_from_an_aligned_cropped_folder(data_root: Path, tmp_path: Path) -> None:
    src = tmp_path / "crop_part1"
    src.mkdir()
    names = utk_names(data_root, 12)
    for n in names:
        (src / n).write_bytes((data_root / "utkface" / "UTKFace" / n).read_bytes())
    (src / ".DS_Store").write_bytes(b"x")
    os.symlink("/etc/passwd", src / "99_0_0_20170101000000000.jpg.chip.jpg")
    root = tmp_path / "data"
    result = import_archive("utkface", src, data_dir=root, progress=False)
    assert result.placed == {"UTKFace/": 12}
    assert result.skipped == {
        SKIP_METADATA: 1,
        "symbolic link in a folder (not followed)": 1,
    }
    assert sorted(os.listdir(root / "utkface" / "UTKFace")) == sorted(names)
    assert list(src.iterdir())  # the source folder is untouched
    # importing again keeps what is there; --force replaces it
    again = import_archive("utkface", src, data_dir=root, progress=False)
    assert again.placed == {} and again.skipped[SKIP_PRESENT] == 12
    forced = import_archive("utkface", src, data_dir=root, force=True, progress=False)
    assert forced.placed == {"UTKFace/": 12}


def _nothing_written(tmp_path: Path, root: Path) -> None:
    assert not (tmp_path / "evil").exists()
    assert not (tmp_path / "abs-evil").exists()
    assert not root.exists() or list(root.iterdir()) == []


@pytest.mark.parametrize(
    ("member", "why"),
    [
        ("../evil", "a path with a parent-folder ('..') component"),
        ("train/../../evil", "a path with a parent-folder ('..') component"),
        ("ABS", "an absolute path"),
        ("..\\evil", "a path with a parent-folder ('..') component"),
    ],
)
def test_hostile_zip_is_refused_and_writes_nothing(
    data_root: Path, tmp_path: Path, member: str, why: str
) -> None:
    if member == "ABS":
        member = str(tmp_path / "abs-evil")
    archive = tmp_path / "hostile.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(data_root / "fairface" / real_fairface_images(data_root, 1)[0], "train/1.jpg")
        zf.writestr(member, b"owned")
    root = tmp_path / "data"
    with pytest.raises(InvalidInputError) as exc:
        import_archive("fairface", archive, data_dir=root, progress=False)
    assert str(exc.value) == (
        f"refused {archive}: member {member!r} is {why}; fairsuite extracts only plain files "
        "inside the target folder, so nothing was placed. Is this the published archive?"
    )
    assert exc.value.exit_code == ExitCode.DATA
    _nothing_written(tmp_path, root)


def test_zip_with_a_symlink_member_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "link.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        info = zipfile.ZipInfo("train/1.jpg")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, "/etc/passwd")
    root = tmp_path / "data"
    with pytest.raises(InvalidInputError, match="is a symbolic link"):
        import_archive("fairface", archive, data_dir=root, progress=False)
    _nothing_written(tmp_path, root)


def _tar_with(tmp_path: Path, data_root: Path, hostile: tarfile.TarInfo) -> Path:
    archive = tmp_path / "hostile.tar.gz"
    good = utk_names(data_root, 3)
    with tarfile.open(archive, "w:gz") as tf:
        for n in good:  # good members first: the hostile one comes after something was staged
            tf.add(data_root / "utkface" / "UTKFace" / n, f"UTKFace/{n}")
        tf.addfile(hostile, io.BytesIO(b"owned") if hostile.isfile() else None)
    return archive


@pytest.mark.parametrize("kind", ["absolute", "dotdot", "symlink", "hardlink", "fifo"])
def test_hostile_tar_is_refused_and_writes_nothing(
    data_root: Path, tmp_path: Path, kind: str
) -> None:
    name = "UTKFace/1_0_0_20170101000000000.jpg.chip.jpg"
    if kind == "absolute":
        info = tarfile.TarInfo(str(tmp_path / "abs-evil"))
        info.size = 5
        why = "an absolute path"
    elif kind == "dotdot":
        info = tarfile.TarInfo("UTKFace/../../evil")
        info.size = 5
        why = "a path with a parent-folder ('..') component"
    elif kind == "symlink":
        info = tarfile.TarInfo(name)
        info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
        why = "a symbolic link (to '/etc/passwd')"
    elif kind == "hardlink":
        info = tarfile.TarInfo(name)
        info.type, info.linkname = tarfile.LNKTYPE, "/etc/passwd"
        why = "a hard link (to '/etc/passwd')"
    else:
        info = tarfile.TarInfo(name)
        info.type = tarfile.FIFOTYPE
        why = "a special file (device, FIFO or socket)"
    archive = _tar_with(tmp_path, data_root, info)
    root = tmp_path / "data"
    with pytest.raises(InvalidInputError) as exc:
        import_archive("utkface", archive, data_dir=root, progress=False)
    assert str(exc.value).startswith(f"refused {archive}: member {info.name!r} is {why};")
    _nothing_written(tmp_path, root)


def test_a_hostile_archive_after_a_good_one_places_nothing(data_root: Path, tmp_path: Path) -> None:
    good = utk_tar(data_root, tmp_path / "UTKFace.tar.gz", utk_names(data_root, 5))
    info = tarfile.TarInfo("x/../../evil")
    info.size = 5
    bad = _tar_with(tmp_path, data_root, info)
    root = tmp_path / "data"
    with pytest.raises(InvalidInputError, match="refused"):
        import_archive("utkface", [good, bad], data_dir=root, progress=False)
    _nothing_written(tmp_path, root)


def test_bad_sources(tmp_path: Path) -> None:
    with pytest.raises(DatasetNotFoundError, match=r"does not exist; pass the archive"):
        import_archive("fairface", tmp_path / "nope.zip", data_dir=tmp_path / "data")
    junk = tmp_path / "notes.txt"
    junk.write_text("hello")
    with pytest.raises(InvalidInputError) as exc:
        import_archive("fairface", junk, data_dir=tmp_path / "data", progress=False)
    assert str(exc.value).startswith(
        f"nothing in {junk} belongs to fairface's layout (1 not part of the dataset's layout)"
    )
    assert get_card("fairface").get_data in str(exc.value)
    with pytest.raises(InvalidInputError, match="generated by fairsuite"):
        import_archive("synthfaces", junk, data_dir=tmp_path / "data")
    assert list((tmp_path / "data").iterdir()) == []


def test_tabular_files_can_be_imported_too(data_root: Path, tmp_path: Path) -> None:
    """UCI hands out adult.zip; importing it places the three files."""
    archive = tmp_path / "adult.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for n in ("adult.data", "adult.test", "adult.names"):
            zf.write(data_root / "adult" / n, n)
        zf.writestr("Index", b"index")
    result = import_archive("adult", archive, data_dir=tmp_path / "data", progress=False)
    assert result.placed == {"adult.data": 1, "adult.names": 1, "adult.test": 1}
    assert set(result.checks.values()) == {"sha256 ok"}
    assert verify("adult", data_dir=tmp_path / "data").status == "complete"
