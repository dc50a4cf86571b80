"""Datasets for the training tests, read from the real files in ../shared/data.

Use the real loaders (``fairsuite.data.load_dataset``) when they are available; otherwise build
the same :class:`~fairsuite.data._dataset.Dataset` by hand from the published files.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from fairsuite.data._dataset import Dataset

ADULT_COLUMNS = [
    "age",
    "workclass",
    "fnlwgt",
    "education",
    "education-num",
    "marital-status",
    "occupation",
    "relationship",
    "race",
    "sex",
    "capital-gain",
    "capital-loss",
    "hours-per-week",
    "native-country",
    "income",
]

FAIRFACE_COARSE = {
    "White": "White",
    "Black": "Black",
    "East Asian": "Asian",
    "Southeast Asian": "Asian",
    "Indian": "Indian",
    "Latino_Hispanic": "Others",
    "Middle Eastern": "Others",
}


def _try_loader(name: str, data_root: Path, **options: object) -> Dataset | None:
    try:
        from fairsuite.data import load_dataset  # type: ignore[attr-defined]
    except ImportError:
        return None
    return load_dataset(name, data_dir=data_root, **options)  # type: ignore[no-any-return]


def adult(data_root: Path) -> Dataset:
    """UCI Adult: income >50K from the 14 published features; sensitive gender, race."""
    real = _try_loader("adult", data_root)
    if real is not None:
        return real
    frames = []
    for fname, split, skip in (("adult.data", "train", 0), ("adult.test", "test", 1)):
        df = pd.read_csv(
            data_root / "adult" / fname,
            header=None,
            names=ADULT_COLUMNS,
            skiprows=skip,
            skipinitialspace=True,
        )
        df = df.dropna(subset=["income"])
        df["split"] = split
        frames.append(df)
    df = pd.concat(frames, ignore_index=True)
    income = df["income"].str.rstrip(".")
    table = df.drop(columns=["income"]).copy()
    table["y"] = (income == ">50K").astype(np.int64)
    table["gender"] = df["sex"].map({"Male": "Male", "Female": "Female"})
    table["native_sex"] = df["sex"]
    table["row_id"] = np.arange(len(table))
    features = tuple(c for c in ADULT_COLUMNS if c != "income")
    return Dataset(
        name="adult",
        kind="tabular",
        table=table,
        task="income",
        classes=("<=50K", ">50K"),
        sensitive=("gender", "race"),
        features=features,
        root=data_root / "adult",
    )


def fairface(data_root: Path) -> Dataset:
    """FairFace images present on disk: gender (Male=0, Female=1); sensitive race, gender."""
    real = _try_loader("fairface", data_root, allow_missing=True)
    if real is not None:
        return real
    root = data_root / "fairface"
    df = pd.read_csv(root / "images_present.csv")
    table = pd.DataFrame(
        {
            "path": [str(root / f) for f in df["file"]],
            "y": (df["gender"] == "Female").astype(np.int64),
            "race": df["race"].map(FAIRFACE_COARSE),
            "gender": df["gender"],
            "age_group": df["age"],
            "native_race": df["race"],
            "split": np.where(df["file"].str.startswith("train/"), "train", "test"),
            "row_id": df["file"],
        }
    )
    return Dataset(
        name="fairface",
        kind="image",
        table=table,
        task="gender",
        classes=("Male", "Female"),
        sensitive=("race", "gender", "age_group"),
        root=root,
    )
