"""Bad input: each gives one clear error (file, row, value, allowed, fix), and nothing is lost."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from _data_fakes import (
    FAIRFACE_HEADER,
    FAIRFACE_TRAIN,
    UTK_NAMES,
    copy_real,
    write_fairface,
    write_utkface,
)

from fairsuite.data import _checks as ck
from fairsuite.data import get_card, load_csv, load_dataset
from fairsuite.data._loaders import _ADULT_FIELDS, _CSV_MISSING_COLUMN
from fairsuite.exceptions import DatasetIntegrityError, DatasetNotFoundError, InvalidInputError


def test_missing_data_root_says_where_and_how(tmp_path: Path) -> None:
    root = tmp_path / "nowhere"
    card = get_card("adult")
    msg = ck.ROOT_MISSING.format(root=root, name="adult", how=card.get_data)
    with pytest.raises(DatasetNotFoundError, match=re.escape(msg)):
        load_dataset("adult", data_dir=root)


def test_missing_dataset_folder_shows_layout(fake_root: Path) -> None:
    card = get_card("fairface")
    msg = ck.DATASET_MISSING.format(
        folder=fake_root / "fairface",
        root=fake_root,
        layout=ck.one_line(card.layout),
        name="fairface",
        how=card.get_data,
    )
    with pytest.raises(DatasetNotFoundError, match=re.escape(msg)):
        load_dataset("fairface", data_dir=fake_root)


def test_missing_label_file_names_path_and_checksum(fake_root: Path) -> None:
    folder = write_fairface(fake_root)
    (folder / "fairface_label_val.csv").unlink()
    card = get_card("fairface")
    msg = ck.FILE_MISSING.format(
        name="fairface",
        path=folder / "fairface_label_val.csv",
        sha256=card.file("fairface_label_val.csv").sha256,
        how=card.get_data,
    )
    with pytest.raises(DatasetNotFoundError, match=re.escape(msg)):
        load_dataset("fairface", data_dir=fake_root)


def test_fake_fairface_loads(fake_root: Path) -> None:
    write_fairface(fake_root)
    d = load_dataset("fairface", data_dir=fake_root)
    assert len(d) == 6
    assert d.table["race"].tolist() == ["White", "Black", "Asian", "Others", "Asian", "Others"]
    assert d.table["split"].tolist() == ["train"] * 4 + ["test"] * 2
    assert d.table["y"].tolist() == [0, 1, 1, 0, 0, 1]
    # a copy that is not the published file is loaded, and the difference is noted
    assert any("differs from the published" in n for n in d.report.notes)


def test_unknown_category_names_file_row_value_allowed(fake_root: Path) -> None:
    rows = [*FAIRFACE_TRAIN[:2], ("train/3.jpg", "9-Mar", "Female", "White", "True")]
    folder = write_fairface(fake_root, train=rows)
    allowed = get_card("fairface").native_schema["age"]["values"]
    msg = ck.UNKNOWN_CATEGORY.format(
        path=folder / "fairface_label_train.csv",
        row=4,
        column="age",
        value="9-Mar",
        allowed=allowed,
    )
    with pytest.raises(InvalidInputError, match=re.escape(msg)):
        load_dataset("fairface", data_dir=fake_root)


def test_missing_and_extra_columns(fake_root: Path) -> None:
    folder = write_fairface(fake_root)
    path = folder / "fairface_label_train.csv"
    expected = ["file", "age", "gender", "race", "service_test"]
    path.write_text("file,age,gender,race\ntrain/1.jpg,20-29,Male,White\n")
    msg = ck.MISSING_COLUMNS.format(path=path, missing=["service_test"], expected=expected)
    with pytest.raises(InvalidInputError, match=re.escape(msg)):
        load_dataset("fairface", data_dir=fake_root)
    path.write_text(FAIRFACE_HEADER.strip() + ",score\ntrain/1.jpg,20-29,Male,White,True,3\n")
    msg = ck.EXTRA_COLUMNS.format(path=path, extra=["score"], expected=expected)
    with pytest.raises(InvalidInputError, match=re.escape(msg)):
        load_dataset("fairface", data_dir=fake_root)


@pytest.mark.parametrize("content", ["", FAIRFACE_HEADER], ids=["zero-bytes", "header-only"])
def test_empty_label_file(fake_root: Path, content: str) -> None:
    folder = write_fairface(fake_root)
    path = folder / "fairface_label_val.csv"
    path.write_text(content)
    with pytest.raises(InvalidInputError, match=re.escape(ck.EMPTY_FILE.format(path=path))):
        load_dataset("fairface", data_dir=fake_root)


def test_missing_images_counted_or_dropped(fake_root: Path) -> None:
    folder = write_fairface(fake_root)
    (folder / "train/2.jpg").unlink()
    (folder / "val/2.jpg").unlink()
    msg = ck.IMAGES_MISSING.format(
        name="fairface", n=2, listed=6, folder=folder, first="train/2.jpg, val/2.jpg"
    )
    with pytest.raises(DatasetNotFoundError, match=re.escape(msg)):
        load_dataset("fairface", data_dir=fake_root)
    d = load_dataset("fairface", data_dir=fake_root, allow_missing=True)
    assert len(d) == 4
    assert d.report.dropped == {"image missing on disk": 2}
    assert d.report.examples == {"image missing on disk": ["train/2.jpg", "val/2.jpg"]}
    labels = load_dataset("fairface", data_dir=fake_root, require_images=False)
    assert labels.table["image_present"].tolist() == [True, False, True, True, True, False]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"this is not a picture", "not a JPG image (wrong file signature)"),
        (b"", "empty file"),
        (None, "truncated JPEG (no end-of-image marker)"),
    ],
    ids=["non-image", "empty", "truncated"],
)
def test_invalid_image_file(fake_root: Path, content: bytes | None, reason: str) -> None:
    from _data_fakes import jpeg_bytes

    folder = write_fairface(fake_root)
    bad = folder / "train/3.jpg"
    bad.write_bytes(jpeg_bytes()[: len(jpeg_bytes()) // 2] if content is None else content)
    msg = ck.IMAGES_INVALID.format(name="fairface", n=1, first=f"{bad} ({reason})")
    with pytest.raises(DatasetIntegrityError, match=re.escape(msg)):
        load_dataset("fairface", data_dir=fake_root)
    d = load_dataset("fairface", data_dir=fake_root, allow_missing=True)
    assert len(d) == 5
    assert d.report.dropped == {"not a valid image": 1}


def test_label_row_pointing_at_a_non_image(fake_root: Path) -> None:
    rows = [*FAIRFACE_TRAIN[:3], ("train/notes.txt", "20-29", "Male", "White", "True")]
    folder = write_fairface(fake_root, train=rows, images=False)
    msg = ck.UNKNOWN_CATEGORY.format(
        path=folder,
        row=3,
        column="file",
        value="train/notes.txt",
        allowed="image paths ending in .jpg, .jpeg or .png",
    )
    with pytest.raises(InvalidInputError, match=re.escape(msg)):
        load_dataset("fairface", data_dir=fake_root)


def test_utkface_malformed_names_are_skipped_and_counted(fake_root: Path) -> None:
    bad = [
        "39_1_20170116174525125.jpg.chip.jpg",
        "55_0_0_20170116232725357jpg.chip.jpg",
        "24_0_1_20170116220224657 .jpg.chip.jpg",
    ]
    folder = write_utkface(fake_root, [*UTK_NAMES, *bad, "30_5_0_20170116174525131.jpg.chip.jpg"])
    (folder / "README.txt").write_text("not an image")
    d = load_dataset("utkface", data_dir=fake_root)
    assert len(d) == len(UTK_NAMES)
    assert d.report.rows_read == len(UTK_NAMES) + 5
    assert d.report.dropped == {
        "malformed file name": 3,
        "not a .jpg file": 1,
        "unknown gender or race code in file name": 1,
    }
    assert sorted(d.report.examples["malformed file name"]) == sorted(bad)
    by_file = d.table.set_index("row_id")
    assert by_file.loc[UTK_NAMES[2], ["age_group", "race", "gender"]].tolist() == [
        "0-2",
        "Black",
        "Male",
    ]
    assert by_file.loc[UTK_NAMES[3], ["age_group", "race", "gender"]].tolist() == [
        "more than 70",
        "Asian",
        "Female",
    ]
    assert sorted(d.table["race"]) == sorted(
        ["White", "White", "Black", "Asian", "Indian", "Others"]
    )


def test_utkface_with_no_usable_images(fake_root: Path) -> None:
    folder = write_utkface(fake_root, ["holiday.jpg"])
    card = get_card("utkface")
    from fairsuite.data._loaders import _NO_IMAGES

    why = "1 files, none named [age]_[gender]_[race]_[datetime].jpg.chip.jpg"
    msg = _NO_IMAGES.format(name="utkface", folder=folder, why=why, layout=ck.one_line(card.layout))
    with pytest.raises(DatasetIntegrityError, match=re.escape(msg)):
        load_dataset("utkface", data_dir=fake_root)


def test_adult_wrong_field_count(data_root: Path, tmp_path: Path) -> None:
    folder = copy_real(data_root, tmp_path, "adult", ["adult.data", "adult.test"])
    lines = (folder / "adult.data").read_text().splitlines()
    lines[9] = lines[9].rsplit(",", 2)[0]
    (folder / "adult.data").write_text("\n".join(lines) + "\n")
    msg = _ADULT_FIELDS.format(path=folder / "adult.data", row=10, n=13)
    with pytest.raises(InvalidInputError, match=re.escape(msg)):
        load_dataset("adult", data_dir=tmp_path)


def test_adult_unknown_category(data_root: Path, tmp_path: Path) -> None:
    folder = copy_real(data_root, tmp_path, "adult", ["adult.data", "adult.test"])
    lines = (folder / "adult.test").read_text().splitlines()
    lines[2] = lines[2].replace(" Male,", " M,")
    (folder / "adult.test").write_text("\n".join(lines) + "\n")
    msg = ck.UNKNOWN_CATEGORY.format(
        path=folder / "adult.test", row=3, column="sex", value="M", allowed=["Male", "Female"]
    )
    with pytest.raises(InvalidInputError, match=re.escape(msg)):
        load_dataset("adult", data_dir=tmp_path)


def test_adult_empty_file(data_root: Path, tmp_path: Path) -> None:
    folder = copy_real(data_root, tmp_path, "adult", ["adult.data"])
    (folder / "adult.test").write_text("|1x3 Cross validator\n\n")
    with pytest.raises(
        InvalidInputError, match=re.escape(ck.EMPTY_FILE.format(path=folder / "adult.test"))
    ):
        load_dataset("adult", data_dir=tmp_path)


def test_compas_missing_column(data_root: Path, tmp_path: Path) -> None:
    import pandas as pd

    folder = tmp_path / "compas"
    folder.mkdir()
    df = pd.read_csv(data_root / "compas" / "compas-scores-two-years.csv", nrows=50)
    df.drop(columns=["race"]).to_csv(folder / "compas-scores-two-years.csv", index=False)
    expected = list(get_card("compas").native_schema)
    msg = ck.MISSING_COLUMNS.format(
        path=folder / "compas-scores-two-years.csv", missing=["race"], expected=expected
    )
    with pytest.raises(InvalidInputError, match=re.escape(msg)):
        load_dataset("compas", data_dir=tmp_path)


def test_csv_missing_target_lists_columns(tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text("age,sex,hired\n30,F,1\n40,M,0\n")
    msg = _CSV_MISSING_COLUMN.format(
        path=path, what="target", column="outcome", columns=["age", "sex", "hired"]
    )
    with pytest.raises(InvalidInputError, match=re.escape(msg)):
        load_csv(path, target="outcome", sensitive="sex")
    msg = _CSV_MISSING_COLUMN.format(
        path=path, what="sensitive", column="race", columns=["age", "sex", "hired"]
    )
    with pytest.raises(InvalidInputError, match=re.escape(msg)):
        load_csv(path, target="hired", sensitive=["sex", "race"])


def test_csv_single_group(tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text("age,sex,hired\n30,F,1\n40,F,0\n")
    msg = ck.SINGLE_GROUP.format(column="sex", group="F", source=path)
    with pytest.raises(InvalidInputError, match=re.escape(msg)):
        load_csv(path, target="hired", sensitive="sex")


def test_csv_empty(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("")
    with pytest.raises(InvalidInputError, match=re.escape(ck.EMPTY_FILE.format(path=path))):
        load_csv(path, target="y", sensitive="s")
