"""Tabular training on the real UCI Adult files: quality, weights, save/load."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _fixtures import adult

from fairsuite.data._dataset import Dataset
from fairsuite.exceptions import DatasetIntegrityError, InvalidInputError
from fairsuite.train import TrainedModel, fit, load_model
from fairsuite.train._fit import MODEL_INVALID, WEIGHT_INVALID
from fairsuite.train._model import HGB_CHECKSUM, HGB_UNTRUSTED, SAVE_EXISTS
from fairsuite.train._tabular import MISSING_FEATURES


@pytest.fixture(scope="module")
def ds(data_root: Path) -> Dataset:
    return adult(data_root)


@pytest.fixture(scope="module")
def small(ds: Dataset) -> Dataset:
    """4,000 training and 2,000 test rows: enough for the behaviour tests, fast."""
    t = ds.table
    train = t[t["split"] == "train"].iloc[:4000]
    test = t[t["split"] == "test"].iloc[:2000]
    return dataclasses.replace(ds, table=pd.concat([train, test]))


def _accuracy(model: TrainedModel, ds: Dataset) -> float:
    test = ds.split_table("test")
    return float((model.predict(test) == test["y"].to_numpy()).mean())


def test_adult_counts(ds: Dataset) -> None:
    assert (ds.table["split"] == "train").sum() == 32561
    assert (ds.table["split"] == "test").sum() == 16281


def test_logreg_reaches_published_accuracy(ds: Dataset) -> None:
    model = fit(ds, model="logreg", progress=False)
    acc = _accuracy(model, ds)
    assert acc >= 0.84, acc
    assert model.config["n_train"] + model.config["n_val"] == 32561
    assert model.history[0]["val_accuracy"] > 0.83
    assert model.device == "cpu" and model.best_epoch == 1


def test_hgb_reaches_published_accuracy(ds: Dataset) -> None:
    model = fit(ds, model="hgb", progress=False)
    assert _accuracy(model, ds) >= 0.86


def test_mlp_learns(small: Dataset) -> None:
    mlp = fit(small, model="mlp", epochs=15, batch_size=128, progress=False)
    assert _accuracy(mlp, small) >= 0.82
    assert {"loss", "val_accuracy", "rows_per_s", "seconds"} <= set(mlp.history[0])
    assert 1 <= mlp.best_epoch <= len(mlp.history)


def test_predict_proba_shape(small: Dataset) -> None:
    model = fit(small, model="logreg", progress=False)
    proba = model.predict_proba(small)
    assert proba.shape == (6000, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(model.predict(small), proba.argmax(axis=1))


def _with_weights(ds: Dataset, weights: np.ndarray) -> Dataset:
    table = ds.table.copy()
    table["sample_weight"] = weights
    return dataclasses.replace(ds, table=table)


@pytest.mark.parametrize("model_name", ["logreg", "hgb", "mlp"])
def test_zero_weight_on_a_group_equals_dropping_it(small: Dataset, model_name: str) -> None:
    t = small.table
    female_train = ((t["gender"] == "Female") & (t["split"] == "train")).to_numpy()
    weighted = _with_weights(small, np.where(female_train, 0.0, 1.0))
    dropped = dataclasses.replace(small, table=t.loc[~female_train])
    opts = {"model": model_name, "progress": False, "epochs": 3}
    a = fit(weighted, **opts)
    b = fit(dropped, **opts)
    test = small.split_table("test")
    np.testing.assert_allclose(a.predict_proba(test), b.predict_proba(test), atol=1e-6)
    assert a.config["excluded"] == {"zero sample weight": int(female_train.sum())}
    assert a.config["weighted"] and not b.config["weighted"]


def test_weights_change_the_fit(small: Dataset) -> None:
    t = small.table
    up = np.where((t["y"] == 1).to_numpy(), 4.0, 1.0)  # upweight the positive class
    plain = fit(small, model="logreg", progress=False)
    weighted = fit(_with_weights(small, up), model="logreg", progress=False)
    test = small.split_table("test")
    # More weight on positives -> more positive predictions.
    assert weighted.predict(test).mean() > plain.predict(test).mean() + 0.05


@pytest.mark.parametrize("model_name", ["logreg", "mlp"])
def test_save_load_round_trip(small: Dataset, model_name: str, tmp_path: Path) -> None:
    model = fit(small, model=model_name, epochs=2, progress=False)
    model.save(tmp_path / "m")
    back = load_model(tmp_path / "m", device="cpu")
    np.testing.assert_array_equal(back.predict_proba(small), model.predict_proba(small))
    assert back.config == model.config and back.history == model.history
    assert back.classes == ("<=50K", ">50K")
    assert not list((tmp_path / "m").glob("*.pkl"))  # no pickle
    with pytest.raises(InvalidInputError, match=re.escape(SAVE_EXISTS.format(path=tmp_path / "m"))):
        model.save(tmp_path / "m")


def test_hgb_pickle_needs_trust_and_a_matching_checksum(small: Dataset, tmp_path: Path) -> None:
    model = fit(small, progress=False)
    assert model.name == "hgb"  # "auto" on a table
    folder = model.save(tmp_path / "hgb")
    with pytest.raises(InvalidInputError, match=re.escape(HGB_UNTRUSTED.format(path=folder))):
        load_model(folder)
    back = load_model(folder, trust=True)
    np.testing.assert_array_equal(back.predict_proba(small), model.predict_proba(small))
    pkl = folder / "model.pkl"
    pkl.write_bytes(pkl.read_bytes() + b"tampered")
    prefix = HGB_CHECKSUM.split("(")[0].format(file=pkl)
    with pytest.raises(DatasetIntegrityError, match=re.escape(prefix)):
        load_model(folder, trust=True)


def test_unknown_category_and_missing_feature(small: Dataset) -> None:
    model = fit(small, model="logreg", progress=False)
    test = small.split_table("test").copy()
    test["workclass"] = "Never-seen-before"
    assert model.predict(test).shape == (len(test),)  # unknown level -> all-zero one-hot
    msg = MISSING_FEATURES.format(missing=["age"], present=[c for c in test.columns if c != "age"])
    with pytest.raises(InvalidInputError, match=re.escape(msg)):
        model.predict(test.drop(columns=["age"]))


def test_bad_options_are_refused_before_training(small: Dataset) -> None:
    msg = MODEL_INVALID.format(
        model="resnet18", kind="tabular", name="adult", allowed="auto, logreg, hgb, mlp"
    )
    with pytest.raises(InvalidInputError, match=re.escape(msg)):
        fit(small, model="resnet18")
    bad = _with_weights(small, np.full(len(small.table), -1.0))
    prefix = WEIGHT_INVALID.split("{problem}")[0].format(name="adult")
    with pytest.raises(InvalidInputError, match=re.escape(prefix)):
        fit(bad, model="logreg")
    with pytest.raises(InvalidInputError, match="val_fraction"):
        fit(small, model="logreg", val_fraction=0.7)


def test_mlp_round_trip_without_safetensors(
    small: Dataset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    model = fit(small, model="mlp", epochs=1, progress=False)
    monkeypatch.setitem(sys.modules, "safetensors.torch", None)  # import fails
    folder = model.save(tmp_path / "pt")
    assert (folder / "model.pt").is_file() and not (folder / "model.safetensors").exists()
    back = load_model(folder, device="cpu")
    np.testing.assert_array_equal(back.predict_proba(small), model.predict_proba(small))
