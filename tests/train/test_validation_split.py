"""The early-stopping validation split of ``fit`` on intervened training rows (real data).

A data intervention adds copies (oversample, augment) or synthetic rows (synth) before ``fit``
sees the table. Validation must be drawn from real, distinct source rows, no copy of a
validation row may be fitted on, and synthetic rows are only fitted on; without an intervention
the split is the one drawn over every training row.
"""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from fairsuite.data._dataset import Dataset
from fairsuite.experiments import RunSpec
from fairsuite.experiments._run import intervene_stage, load_stage, resolve, split_stage
from fairsuite.train import fit
from fairsuite.train._fit import (
    VAL_COPIES_SET_ASIDE,
    _training_rows,
    _validation_split,
    allocate_stratified,
)


def _trainset(spec: RunSpec) -> Dataset:
    """The dataset ``fit`` gets in a run of ``spec``: the split's, with the intervened rows."""
    loaded = load_stage(spec)
    split = split_stage(loaded, spec, resolve(spec, loaded.dataset.kind))
    trainset = intervene_stage(split, spec)
    return dataclasses.replace(split.dataset, table=trainset.table)


def _spy_tabular_rows(monkeypatch: pytest.MonkeyPatch) -> dict[str, pd.DataFrame]:
    """Record the rows ``fit`` fits the preprocessing on (the fit rows) and the rows it
    transforms first (every row it kept); validation rows are the difference."""
    from fairsuite.train import _tabular

    seen: dict[str, pd.DataFrame] = {}
    real_fit = _tabular.Preprocessor.fit.__func__  # type: ignore[attr-defined]
    real_transform = _tabular.Preprocessor.transform

    def fit_spy(cls: Any, frame: pd.DataFrame, *args: Any, **kw: Any) -> Any:
        seen.setdefault("fit", frame.copy())
        return real_fit(cls, frame, *args, **kw)

    def transform_spy(self: Any, frame: pd.DataFrame) -> Any:
        seen.setdefault("kept", frame.copy())
        return real_transform(self, frame)

    monkeypatch.setattr(_tabular.Preprocessor, "fit", classmethod(fit_spy))
    monkeypatch.setattr(_tabular.Preprocessor, "transform", transform_spy)
    return seen


def _val_rows(seen: dict[str, pd.DataFrame]) -> pd.DataFrame:
    kept, fitted = seen["kept"], seen["fit"]
    return kept.loc[~kept.index.isin(fitted.index)]


@pytest.fixture(scope="module")
def oversampled_adult(data_root: Path) -> Dataset:
    spec = RunSpec.from_dict(
        {
            "dataset": "adult",
            "data_dir": str(data_root),
            "model": "logreg",
            "sensitive": ["gender"],
            "n_boot": 0,
            "max_train_rows": 3000,
            "intervention": "oversample",
        }
    )
    return _trainset(spec)


def test_oversampled_adult_validates_on_real_rows_only_and_fits_no_copy_of_them(
    oversampled_adult: Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = oversampled_adult.split_table("train")
    copies = table["is_duplicate"].to_numpy(dtype=bool)
    assert copies.sum() > 1000  # uniform gender: the women's rows are copied
    seen = _spy_tabular_rows(monkeypatch)
    model = fit(oversampled_adult, model="logreg", progress=False)
    val, fitted = _val_rows(seen), seen["fit"]
    # validation: real rows, each once, stratified share of the real rows
    assert not val["is_duplicate"].any()
    assert val["row_id"].is_unique
    assert len(val) == round(0.1 * int((~copies).sum())) == model.config["n_val"]
    # no validation row is fitted on, as itself or as a copy
    assert not set(val["row_id"]) & set(fitted["row_id"])
    # the copies of validation rows are set aside and counted; every other row is fitted
    val_ids = set(val["row_id"])
    set_aside = int(sum(r in val_ids for r in table["row_id"])) - len(val)
    assert set_aside > 0
    assert model.config["excluded"][VAL_COPIES_SET_ASIDE] == set_aside
    assert model.config["validation"]["copies_set_aside"] == set_aside
    assert len(fitted) == model.config["n_train"] == len(table) - len(val) - set_aside
    assert model.config["validation"]["copies_fit"] == int(fitted["is_duplicate"].sum())
    # the validation split keeps the real rows' gender x label composition
    real = table.loc[~copies]
    share = real.groupby(["gender", "y"]).size() / len(real)
    val_share = val.groupby(["gender", "y"]).size() / len(val)
    assert (share - val_share).abs().max() < 0.01


def test_synthetic_rows_are_only_fitted_on(
    oversampled_adult: Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The rows SyntheticAugmenter writes: the real rows with is_synthetic False, then the
    # generated ones with is_synthetic True and row_id "synthetic-<i>" (here: perturbed copies,
    # so the test needs no SDV).
    train = oversampled_adult.split_table("train")
    real = train.loc[~train["is_duplicate"]].drop(columns="is_duplicate")
    real = real.assign(is_synthetic=False).reset_index(drop=True)
    fake = real.sample(800, random_state=0).reset_index(drop=True)
    fake["age"] = fake["age"] + 1
    fake["row_id"] = [f"synthetic-{i}" for i in range(len(fake))]
    fake["is_synthetic"] = True
    ds = dataclasses.replace(
        oversampled_adult,
        table=pd.concat([real, fake, oversampled_adult.split_table("test")], ignore_index=True),
    )
    seen = _spy_tabular_rows(monkeypatch)
    model = fit(ds, model="logreg", progress=False)
    val, fitted = _val_rows(seen), seen["fit"]
    assert not val["is_synthetic"].any()
    assert int(fitted["is_synthetic"].sum()) == len(fake)
    assert len(val) == round(0.1 * len(real)) == model.config["n_val"]
    assert model.config["validation"]["synthetic_fit_only"] == len(fake)
    assert VAL_COPIES_SET_ASIDE not in model.config["excluded"]


def test_without_an_intervention_the_split_is_the_one_over_all_rows(data_root: Path) -> None:
    import fairsuite

    for ds in (
        fairsuite.load("adult", data_dir=data_root),
        fairsuite.load("synthfaces"),  # synthetic throughout: validates on its own rows
    ):
        rows = _training_rows(ds, max_train_rows=None, random_state=0)
        n = len(rows.frame)
        before = allocate_stratified(rows.frame, rows.strata, round(0.1 * n), 1)
        is_val, keep, record = _validation_split(rows, 0.1, 0)
        assert keep.all() and len(rows.frame) == n
        np.testing.assert_array_equal(is_val, before)
        assert record["copies_set_aside"] == record["synthetic_fit_only"] == 0
        assert record["candidates"] == n and not rows.excluded


def test_copies_without_row_id_are_matched_by_their_values(oversampled_adult: Dataset) -> None:
    table = oversampled_adult.table.drop(columns="row_id")
    ds = dataclasses.replace(oversampled_adult, table=table)
    rows = _training_rows(ds, max_train_rows=None, random_state=0)
    frame = rows.frame
    is_val, keep, record = _validation_split(rows, 0.1, 0)
    assert record["copies_set_aside"] > 0
    kept = frame.loc[keep]
    values = kept.drop(columns="is_duplicate")
    key = pd.util.hash_pandas_object(values, index=False).to_numpy()
    assert not kept["is_duplicate"].to_numpy()[is_val].any()
    assert not set(key[is_val]) & set(key[~is_val])


def test_augmented_synthfaces_fit_no_copy_of_a_validation_image(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import fairsuite.train._engine as engine

    spec = RunSpec.from_dict(
        {
            "dataset": "synthfaces",
            "sensitive": ["skin_tone"],
            "intervention": "augment",
            "max_train_rows": 300,
            "epochs": 1,
            "image_size": 32,
            "n_boot": 0,
            "device": "cpu",
            "min_group_size": 5,
        }
    )
    ds = _trainset(spec)
    table = ds.split_table("train")
    copies = table["augment"].to_numpy(dtype=bool)
    assert copies.sum() > 50
    sources: list[Any] = []
    real_init = engine.ImageSource.__init__

    def spy(self: Any, images: Any, **kw: Any) -> None:
        sources.append(images.cpu().numpy())
        real_init(self, images, **kw)

    monkeypatch.setattr(engine.ImageSource, "__init__", spy)
    model = fit(ds, model="small_cnn", image_size=32, epochs=1, device="cpu", progress=False)
    fit_images, val_images = sources[0], sources[1]

    def digests(images: np.ndarray) -> set[str]:
        return {hashlib.sha256(img.tobytes()).hexdigest() for img in images}

    n_real = int((~copies).sum())
    assert len(val_images) == round(0.1 * n_real) == model.config["n_val"]
    assert len(digests(val_images)) == len(val_images)  # distinct source images
    assert not digests(val_images) & digests(fit_images)  # no copy of one is fitted on
    set_aside = model.config["excluded"][VAL_COPIES_SET_ASIDE]
    assert set_aside > 0 and model.config["validation"]["copies_set_aside"] == set_aside
    assert len(fit_images) == model.config["n_train"] == len(table) - len(val_images) - set_aside
