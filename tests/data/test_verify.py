"""`fairsuite.data.verify`: the real shared data (labels pass, images partial), corrupt images."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from fairsuite.data import verify
from fairsuite.exceptions import DatasetNotFoundError, InvalidInputError

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _data_fakes import write_fairface  # noqa: E402


def test_real_fairface_labels_pass_images_partial(data_root: Path) -> None:
    report = verify("fairface", data_dir=data_root)
    assert report.status == "incomplete" and not report.ok
    assert report.summary.startswith("incomplete: 11,400 of 97,698 listed images present")
    assert "label files match the card's checksums (2 checked)" in report.summary
    assert {f.path: f.status for f in report.files} == {
        "fairface_label_train.csv": "ok",
        "fairface_label_val.csv": "ok",
    }
    by_folder = {i.folder: (i.present, i.listed, i.listed_from) for i in report.images}
    assert by_folder == {"train": (6_400, 86_744, "labels"), "val": (5_000, 10_954, "labels")}
    assert report.images[1].missing_examples[0] == "val/5001.jpg"
    assert not any(i.decoded for i in report.images)
    partial = verify("fairface", data_dir=data_root, allow_missing=True)
    assert partial.status == "partial" and partial.ok
    doc = partial.to_dict()
    assert doc["images_listed"] == 97_698 and doc["images_present"] == 11_400


def test_real_utkface_counts_against_the_published_release(data_root: Path) -> None:
    report = verify("utkface", data_dir=data_root)
    assert report.summary.startswith("incomplete: 10,666 of 23,708 published images present")
    assert report.images[0].listed_from == "card"
    assert report.files == ()


@pytest.mark.parametrize("name", ["adult", "compas"])
def test_real_tables_are_complete(data_root: Path, name: str) -> None:
    report = verify(name, data_dir=data_root)
    assert report.status == "complete" and report.ok
    assert all(f.status == "ok" for f in report.files)


def _utk_with_a_truncated_jpeg(data_root: Path, tmp_path: Path) -> tuple[Path, str]:
    src = data_root / "utkface" / "UTKFace"
    names = sorted(os.listdir(src))[::500]
    dest = tmp_path / "data" / "utkface" / "UTKFace"
    dest.mkdir(parents=True)
    for n in names:
        shutil.copyfile(src / n, dest / n)
    bad = "30_1_0_20170101000000000.jpg.chip.jpg"
    data = (src / names[0]).read_bytes()
    (dest / bad).write_bytes(data[: len(data) // 2])
    return tmp_path / "data", bad


def test_deep_finds_a_truncated_jpeg_among_real_utkface_files(
    data_root: Path, tmp_path: Path
) -> None:
    root, bad = _utk_with_a_truncated_jpeg(data_root, tmp_path)
    shallow = verify("utkface", data_dir=root, allow_missing=True)
    assert shallow.status == "partial"  # existence only: the truncated file is not seen
    report = verify("utkface", data_dir=root, deep=True, allow_missing=True, workers=2)
    assert report.status == "failed" and not report.ok
    assert [p for p, _ in report.corrupt] == [f"UTKFace/{bad}"]
    assert "truncated" in report.corrupt[0][1]
    assert ", 1 do not decode" in report.summary
    assert report.to_dict()["images"][0]["corrupt"][0]["path"] == f"UTKFace/{bad}"


def test_deep_on_a_complete_fake_fairface_with_one_corrupt_jpg(tmp_path: Path) -> None:
    folder = write_fairface(tmp_path)
    (folder / "val" / "2.jpg").write_bytes(b"\xff\xd8\xff not really a jpeg")
    report = verify("fairface", data_dir=tmp_path, deep=True, progress=False)
    # the fake label CSVs are not the published ones: their checksums differ too
    assert report.status == "failed"
    assert [f.status for f in report.files] == ["mismatch", "mismatch"]
    assert [p for p, _ in report.corrupt] == ["val/2.jpg"]
    assert report.images_present == report.images_listed == 6


def test_a_missing_file_is_incomplete_and_optional_ones_do_not_count(
    data_root: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "adult"
    folder.mkdir()
    shutil.copyfile(data_root / "adult" / "adult.data", folder / "adult.data")
    report = verify("adult", data_dir=tmp_path, allow_missing=True)
    assert report.status == "incomplete"  # allow_missing is about images, not files
    assert report.problems == ("adult.test: missing",)
    shutil.copyfile(data_root / "adult" / "adult.test", folder / "adult.test")
    report = verify("adult", data_dir=tmp_path)
    assert report.status == "complete"
    assert [f.status for f in report.files] == ["ok", "ok", "missing"]  # adult.names: optional
    (folder / "adult.test").write_text("edited\n")
    assert verify("adult", data_dir=tmp_path).status == "failed"


def test_errors(tmp_path: Path) -> None:
    with pytest.raises(DatasetNotFoundError, match="dataset folder .*adult does not exist"):
        verify("adult", data_dir=tmp_path)
    with pytest.raises(InvalidInputError, match="nothing to verify"):
        verify("synthfaces", data_dir=tmp_path)
