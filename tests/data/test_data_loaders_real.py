"""Every loader on the real files in ../shared/data, asserting the numbers SOURCES.md publishes."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from fairsuite.data import get_card, load_dataset
from fairsuite.data._checks import IMAGES_MISSING
from fairsuite.exceptions import DatasetNotFoundError

# SOURCES.md, FairFace race x gender: (train M all, train F all, train M here, train F here,
# val M all, val F all, val M here, val F here)
FAIRFACE_COUNTS = {
    "Black": (6096, 6137, 460, 457, 799, 757, 380, 346),
    "East Asian": (6146, 6141, 438, 457, 777, 773, 375, 350),
    "Indian": (6410, 5909, 475, 444, 753, 763, 344, 337),
    "Latino_Hispanic": (6652, 6715, 497, 494, 793, 830, 331, 384),
    "Middle Eastern": (6369, 2847, 467, 213, 813, 396, 355, 172),
    "Southeast Asian": (5612, 5183, 410, 377, 735, 680, 342, 322),
    "White": (8701, 7826, 639, 572, 1122, 963, 506, 456),
}
# SOURCES.md, UTKFace race x gender of the images here: (male, female)
UTKFACE_HERE = {
    "White": (2464, 2070),
    "Black": (1043, 994),
    "Asian": (709, 837),
    "Indian": (1017, 771),
    "Others": (342, 419),
}


@pytest.fixture(scope="module")
def fairface_labels(data_root: Path):  # noqa: ANN201
    return load_dataset("fairface", data_dir=data_root, require_images=False)


@pytest.fixture(scope="module")
def fairface_present(data_root: Path):  # noqa: ANN201
    return load_dataset("fairface", data_dir=data_root, allow_missing=True)


def _crosstab(table: pd.DataFrame, split: str) -> dict[tuple[str, str], int]:
    sub = table[table["split"] == split]
    return sub.groupby(["native_race", "gender"]).size().to_dict()


def test_fairface_labels_all_rows(fairface_labels) -> None:  # noqa: ANN001
    t = fairface_labels.table
    assert len(fairface_labels) == 97_698
    assert (t["split"] == "train").sum() == 86_744
    assert (t["split"] == "test").sum() == 10_954  # the official val split
    assert int(t["image_present"].sum()) == 11_400
    assert fairface_labels.report.images_listed == 97_698
    assert fairface_labels.report.images_present == 11_400
    train, val = _crosstab(t, "train"), _crosstab(t, "test")
    for race, c in FAIRFACE_COUNTS.items():
        assert (train[(race, "Male")], train[(race, "Female")]) == (c[0], c[1])
        assert (val[(race, "Male")], val[(race, "Female")]) == (c[4], c[5])


def test_fairface_taxonomy_and_targets(fairface_labels) -> None:  # noqa: ANN001
    t = fairface_labels.table
    assert fairface_labels.classes == ("Male", "Female")
    assert fairface_labels.positive_label == "Female"
    assert (t["y"] == (t["gender"] == "Female")).all()
    assert set(t["race"]) == {"White", "Black", "Asian", "Indian", "Others"}
    asian = t["native_race"].isin(["East Asian", "Southeast Asian"])
    assert (t.loc[asian, "race"] == "Asian").all()
    assert (t["race"] == "Asian").sum() == sum(
        sum(FAIRFACE_COUNTS[r][i] for i in (0, 1, 4, 5)) for r in ("East Asian", "Southeast Asian")
    )
    assert set(t["age_group"]) == set(get_card("fairface").taxonomy["age_group"].groups)
    assert t.loc[t["row_id"] == "val/1.jpg", ["split", "age_group", "gender", "native_race"]].iloc[
        0
    ].tolist() == [
        "test",
        "3-9",
        "Male",
        "East Asian",
    ]
    assert (
        fairface_labels.checksums["fairface_label_train.csv"]
        == get_card("fairface").file("fairface_label_train.csv").sha256
    )
    assert fairface_labels.report.notes == ()


def test_fairface_missing_images_are_an_error_by_default(data_root: Path) -> None:
    msg = IMAGES_MISSING.format(
        name="fairface",
        n=86_298,
        listed=97_698,
        folder=data_root / "fairface",
        first="train/1.jpg, train/2.jpg, train/3.jpg, train/4.jpg, train/5.jpg",
    )
    with pytest.raises(DatasetNotFoundError, match=re.escape(msg)):
        load_dataset("fairface", data_dir=data_root)


def test_fairface_allow_missing_keeps_present_images(fairface_present) -> None:  # noqa: ANN001
    d = fairface_present
    assert len(d) == 11_400
    assert d.report.rows_read == 97_698
    assert d.report.dropped == {"image missing on disk": 86_298}
    assert d.report.examples["image missing on disk"][0] == "train/1.jpg"
    train, val = _crosstab(d.table, "train"), _crosstab(d.table, "test")
    for race, c in FAIRFACE_COUNTS.items():
        assert (train[(race, "Male")], train[(race, "Female")]) == (c[2], c[3])
        assert (val[(race, "Male")], val[(race, "Female")]) == (c[6], c[7])
    assert all(Path(p).is_absolute() and Path(p).is_file() for p in d.table["path"].head(50))
    assert "image_present" not in d.table


def test_utkface_sample(data_root: Path) -> None:
    d = load_dataset("utkface", data_dir=data_root)
    t = d.table
    assert len(d) == 10_666
    assert d.report.dropped == {}
    counts = t.groupby(["race", "gender"]).size().to_dict()
    for race, (m, f) in UTKFACE_HERE.items():
        assert (counts[(race, "Male")], counts[(race, "Female")]) == (m, f)
    assert (t["gender"] == "Male").sum() == 5575
    # ages binned into FairFace's groups: 0-9 = 0-2 + 3-9 (SOURCES: 1,428); 70-79 + 80+ = 639
    assert ((t["age_group"] == "0-2") | (t["age_group"] == "3-9")).sum() == 1428
    assert (t["age_group"] == "more than 70").sum() == 318 + 321
    assert t["native_race"].isin(["0", "1", "2", "3", "4"]).all()
    # deterministic stratified split: 20% of each race x gender cell, to rounding
    share = t.groupby(["race", "gender"])["split"].apply(lambda s: (s == "test").mean())
    assert share.between(0.19, 0.21).all()
    assert (t["split"] == "test").sum() == 2133


def test_utkface_same_seed_same_split(data_root: Path) -> None:
    a = load_dataset("utkface", data_dir=data_root, require_images=False, random_state=3)
    b = load_dataset("utkface", data_dir=data_root, require_images=False, random_state=3)
    c = load_dataset("utkface", data_dir=data_root, require_images=False, random_state=4)
    assert a.table["split"].tolist() == b.table["split"].tolist()
    assert a.table["split"].tolist() != c.table["split"].tolist()
    assert a.table["image_present"].all()


def test_adult_published_counts(data_root: Path) -> None:
    d = load_dataset("adult", data_dir=data_root)
    t = d.table
    train, test = t[t["split"] == "train"], t[t["split"] == "test"]
    assert (len(train), len(test)) == (32_561, 16_281)
    assert train["gender"].value_counts().to_dict() == {"Male": 21_790, "Female": 10_771}
    assert train["native_income"].value_counts().to_dict() == {"<=50K": 24_720, ">50K": 7_841}
    assert test["native_income"].value_counts().to_dict() == {"<=50K": 12_435, ">50K": 3_846}
    assert d.classes == ("<=50K", ">50K")
    assert int(train["y"].sum()) == 7_841
    assert (
        d.report.recoded["missing value '?' in workclass kept as category 'Unknown'"] == 1_836 + 963
    )
    assert (train["workclass"] == "Unknown").sum() == 1_836
    assert d.report.dropped == {}
    assert set(d.features) <= set(t.columns)
    assert "race" not in d.features and "sex" not in d.features
    assert (
        t["race"].value_counts().to_dict()["Others"]
        == (t["native_race"].isin(["Amer-Indian-Eskimo", "Other"])).sum()
    )
    assert t["age"].dtype.kind == "i"
    assert d.report.notes == ()  # md5/sha256 match the published files


def test_compas_propublica_filters(data_root: Path) -> None:
    d = load_dataset("compas", data_dir=data_root)
    t = d.table
    assert len(d) == 6_172
    assert d.report.rows_read == 7_214
    assert sum(d.report.dropped.values()) == 7_214 - 6_172
    assert t["native_race"].value_counts().to_dict() == {
        "African-American": 3175,
        "Caucasian": 2103,
        "Hispanic": 509,
        "Other": 343,
        "Asian": 31,
        "Native American": 11,
    }
    assert t["gender"].value_counts().to_dict() == {"Male": 4997, "Female": 1175}
    assert int(t["y"].sum()) == 2809
    assert d.positive_label == "1"
    assert set(d.sensitive) == {"race", "gender", "age_cat"}
    assert (t["split"] == "test").sum() == pytest.approx(0.2 * 6172, abs=10)


@pytest.mark.parametrize("name", ["adult", "compas", "utkface"])
def test_repr_and_len(data_root: Path, name: str) -> None:
    d = load_dataset(name, data_dir=data_root, require_images=False)
    text = repr(d)
    assert f"Dataset {name}" in text
    assert f"Number of datapoints: {len(d)}" in text
    assert f"Root location: {data_root / name}" in text
    assert len(d) == len(d.table) > 0
    for col in (
        "y",
        "split",
        "row_id",
        *d.sensitive,
        *(f"native_{get_card(name).taxonomy[s].source}" for s in d.sensitive),
    ):
        assert col in d.table, col
    assert d.table["row_id"].is_unique
