"""Your own CSV/Parquet, and the composition summary `datasets info` prints."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from fairsuite.data import Dataset, composition, load_csv, load_dataset


def _people(n: int = 200) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "age": [20 + i % 40 for i in range(n)],
            "sex": ["F" if i % 4 == 0 else "M" for i in range(n)],
            "race": ["A" if i % 10 == 0 else "B" for i in range(n)],
            "hired": ["yes" if i % 3 == 0 else "no" for i in range(n)],
        }
    )


def test_csv_load_split_and_codes(tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    df = _people()
    df.to_csv(path, index=False)
    d = load_csv(path, target="hired", sensitive=["sex", "race"], positive_label="yes")
    assert isinstance(d, Dataset) and d.kind == "tabular" and d.name == "people"
    assert d.classes == ("no", "yes")
    assert int(d.table["y"].sum()) == (df["hired"] == "yes").sum()
    assert d.features == ("age",)
    assert (d.table["split"] == "test").sum() == pytest.approx(40, abs=4)
    again = load_csv(path, target="hired", sensitive=["sex", "race"], positive_label="yes")
    assert d.table["split"].equals(again.table["split"])
    assert df.equals(_people())  # the caller's data is untouched


def test_parquet_with_split_column(tmp_path: Path) -> None:
    path = tmp_path / "people.parquet"
    df = _people().assign(split=["test" if i < 50 else "train" for i in range(200)])
    df.to_parquet(path)
    d = load_csv(path, target="hired", sensitive="sex")
    assert (d.table["split"] == "test").sum() == 50
    assert d.classes == ("no", "yes")
    assert "split" not in d.features


def test_composition_shape_and_numbers(tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    _people().to_csv(path, index=False)
    d = load_csv(path, target="hired", sensitive=["sex", "race"], positive_label="yes")
    comp = composition(d)
    assert comp["n"] == 200
    assert sum(comp["splits"].values()) == 200
    sex = comp["attributes"]["sex"]
    assert sex["groups"]["F"]["n"] == 50 and sex["groups"]["F"]["share"] == 0.25
    assert sex["imbalance_ratio"] == pytest.approx(3.0)
    h = -(0.25 * math.log(0.25) + 0.75 * math.log(0.75)) / math.log(2)
    assert sex["normalized_entropy"] == pytest.approx(h)
    bal = sex["groups"]["F"]["label_balance"]
    assert bal["yes"] + bal["no"] == pytest.approx(1.0)
    inter = comp["intersection"]
    assert inter["columns"] == ["sex", "race"]
    assert sum(g["n"] for g in inter["groups"].values()) == 200
    assert inter["smallest"][0]["n"] == min(g["n"] for g in inter["groups"].values())
    assert comp["images"] is None


def test_fairface_composition_from_labels(data_root: Path) -> None:
    d = load_dataset("fairface", data_dir=data_root, require_images=False)
    comp = composition(d)
    assert comp["n"] == 97_698
    assert comp["splits"] == {"test": 10_954, "train": 86_744}
    assert comp["images"] == {"listed": 97_698, "present": 11_400}
    assert list(comp["attributes"]["age_group"]["groups"])[:3] == ["0-2", "3-9", "10-19"]
    assert comp["attributes"]["gender"]["groups"]["Female"]["n"] == 45_920
