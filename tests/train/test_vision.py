"""Image training on real FairFace faces: quality, determinism, save/load, weights, errors."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _fixtures import fairface

from fairsuite.data._dataset import Dataset
from fairsuite.exceptions import DataFairnessWarning, DatasetNotFoundError, InvalidInputError
from fairsuite.train import fit, load_model
from fairsuite.train._vision import PRETRAINED_OFFLINE, PRETRAINED_UNSUPPORTED


@pytest.fixture(scope="module")
def ds(data_root: Path) -> Dataset:
    return fairface(data_root)


def _subset(ds: Dataset, n_train: int, n_test: int) -> Dataset:
    t = ds.table
    train = t[t["split"] == "train"].iloc[:n_train]
    test = t[t["split"] == "test"].iloc[:n_test]
    return dataclasses.replace(ds, table=pd.concat([train, test]))


@pytest.fixture(scope="module")
def tiny(ds: Dataset) -> Dataset:
    return _subset(ds, 240, 120)


def _majority(y: np.ndarray) -> float:
    return float(max(y.mean(), 1 - y.mean()))


def _report(model: object, test: pd.DataFrame, pred: np.ndarray) -> dict[str, float]:
    ok = pred == test["y"].to_numpy()
    per_race = pd.Series(ok).groupby(test["race"].to_numpy()).mean().round(3).to_dict()
    return {"overall": round(float(ok.mean()), 3), **per_race}


def test_fairface_counts(ds: Dataset) -> None:
    assert (ds.table["split"] == "train").sum() == 6400
    assert (ds.table["split"] == "test").sum() == 5000
    assert ds.classes == ("Male", "Female")


def test_small_cnn_learns_gender_fast(ds: Dataset) -> None:
    """Fast version of the slow quality test: 2,000 faces at 32 px, three epochs."""
    sub = _subset(ds, 2000, 1000)
    model = fit(sub, model="small_cnn", image_size=32, epochs=3, progress=False)
    test = sub.split_table("test")
    pred = model.predict(test)
    acc = float((pred == test["y"].to_numpy()).mean())
    assert acc >= _majority(test["y"].to_numpy()) + 0.05, _report(model, test, pred)
    assert model.config["n_train"] + model.config["n_val"] == 2000
    assert model.config["n_val"] == 200
    h = model.history[0]
    assert {"epoch", "loss", "val_accuracy", "images_per_s", "seconds"} <= set(h)
    assert h["images_per_s"] > 0 and np.isfinite(h["loss"])


@pytest.mark.slow
def test_small_cnn_gender_at_64px_quality(ds: Dataset) -> None:
    """All 6,400 training faces at 64 px, a few CPU minutes: well above the majority baseline."""
    model = fit(ds, model="small_cnn", image_size=64, epochs=10, progress=False)
    test = ds.split_table("test")
    pred = model.predict(test)
    report = _report(model, test, pred)
    print("fairface gender small_cnn 64px:", report, "best epoch", model.best_epoch)
    assert report["overall"] >= _majority(test["y"].to_numpy()) + 0.15, report
    for race in ("White", "Black", "Asian", "Indian", "Others"):
        assert report[race] >= 0.6, report


def test_same_seed_same_predictions_on_cpu(tiny: Dataset) -> None:
    opts = {
        "model": "small_cnn",
        "image_size": 16,
        "epochs": 2,
        "batch_size": 32,
        "progress": False,
    }
    a = fit(tiny, random_state=3, **opts)
    b = fit(tiny, random_state=3, **opts)
    c = fit(tiny, random_state=4, **opts)
    test = tiny.split_table("test")
    pa, pb, pc = a.predict_proba(test), b.predict_proba(test), c.predict_proba(test)
    np.testing.assert_array_equal(pa, pb)
    assert [h["loss"] for h in a.history] == [h["loss"] for h in b.history]
    assert not np.array_equal(pa, pc)


def test_save_load_round_trip_is_identical(tiny: Dataset, tmp_path: Path) -> None:
    model = fit(tiny, model="resnet18", image_size=16, epochs=1, batch_size=32, progress=False)
    assert model.config["stem"] == "cifar"  # below 64 px the ResNet stem keeps resolution
    folder = model.save(tmp_path / "rn")
    assert (folder / "model.safetensors").is_file() and not list(folder.glob("*.pkl"))
    back = load_model(folder, device="cpu")
    test = tiny.split_table("test")
    np.testing.assert_array_equal(back.predict_proba(test), model.predict_proba(test))
    assert back.predict(tiny).shape == (len(tiny.table),)
    assert back.config == model.config and back.best_epoch == model.best_epoch


def test_bf16_on_cpu(tiny: Dataset) -> None:
    model = fit(
        tiny,
        model="small_cnn",
        image_size=16,
        epochs=1,
        batch_size=32,
        precision="bf16",
        progress=False,
    )
    assert model.config["precision"] == "bf16"
    proba = model.predict_proba(tiny.split_table("test"))
    assert proba.shape == (120, 2) and proba.dtype == np.float64
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-5)


def test_zero_weight_rows_equal_dropping_them(tiny: Dataset) -> None:
    t = tiny.table
    drop = ((t["race"] == "Black") & (t["split"] == "train")).to_numpy()
    weighted = dataclasses.replace(tiny, table=t.assign(sample_weight=np.where(drop, 0.0, 1.0)))
    dropped = dataclasses.replace(tiny, table=t.loc[~drop])
    opts = {
        "model": "small_cnn",
        "image_size": 16,
        "epochs": 2,
        "batch_size": 32,
        "progress": False,
    }
    a, b = fit(weighted, **opts), fit(dropped, **opts)
    test = tiny.split_table("test")
    np.testing.assert_array_equal(a.predict_proba(test), b.predict_proba(test))
    assert a.config["excluded"] == {"zero sample weight": int(drop.sum())}
    up = dataclasses.replace(tiny, table=t.assign(sample_weight=np.where(drop, 5.0, 1.0)))
    assert not np.array_equal(fit(up, **opts).predict_proba(test), a.predict_proba(test))


def test_undecodable_training_images_are_excluded_and_counted(
    tiny: Dataset, tmp_path: Path
) -> None:
    t = tiny.table.copy()
    broken = tmp_path / "broken.jpg"
    broken.write_text("not a picture")
    first_train = t.index[t["split"] == "train"][:3]
    t.loc[first_train, "path"] = str(broken)
    bad = dataclasses.replace(tiny, table=t)
    with pytest.warns(DataFairnessWarning, match=re.escape("3 training image(s)")):
        model = fit(bad, model="small_cnn", image_size=16, epochs=1, batch_size=32, progress=False)
    assert model.config["excluded"] == {"image failed to decode": 3}
    assert model.config["n_train"] + model.config["n_val"] == 237


def test_pretrained_offline_is_a_clear_error(
    tiny: Dataset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import torch
    import torchvision

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))

    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("fairsuite tried to download weights")

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", no_network)
    monkeypatch.setattr(torch.hub, "download_url_to_file", no_network)
    weights = torchvision.models.ResNet18_Weights.DEFAULT
    path = tmp_path / "torch" / "hub" / "checkpoints" / Path(weights.url).name
    msg = PRETRAINED_OFFLINE.format(model="resnet18", path=path, file=path.name, folder=path.parent)
    with pytest.raises(DatasetNotFoundError, match=re.escape(msg)):
        fit(tiny, model="resnet18", pretrained=True, progress=False)
    assert not path.parent.exists() or not any(path.parent.iterdir())


def test_pretrained_weights_from_the_hub_cache_are_used(
    tiny: Dataset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import torch
    import torchvision

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    weights = torchvision.models.ResNet18_Weights.DEFAULT
    path = tmp_path / "torch" / "hub" / "checkpoints" / Path(weights.url).name
    path.parent.mkdir(parents=True)
    torch.manual_seed(123)
    fake = torchvision.models.resnet18(weights=None)  # stands in for the ImageNet file
    torch.save(fake.state_dict(), path)
    model = fit(
        tiny, model="resnet18", pretrained=True, image_size=32, epochs=1, lr=1e-12, progress=False
    )
    assert model.config["pretrained"] and model.config["stem"] == "imagenet"
    got = model._estimator.conv1.weight.detach().float()
    torch.testing.assert_close(got, fake.conv1.weight, atol=1e-6, rtol=0)


def test_image_option_errors(tiny: Dataset) -> None:
    msg = PRETRAINED_UNSUPPORTED.format(allowed="resnet18, resnet34, resnet50", model="small_cnn")
    with pytest.raises(InvalidInputError, match=re.escape(msg)):
        fit(tiny, model="small_cnn", pretrained=True)
    with pytest.raises(InvalidInputError, match="model='hgb'"):
        fit(tiny, model="hgb")
    with pytest.raises(InvalidInputError, match="precision='fp16'"):
        fit(tiny, model="small_cnn", precision="fp16", device="cpu")
    with pytest.raises(InvalidInputError, match="device='cuda:7'"):
        fit(tiny, model="small_cnn", device="cuda:7")
