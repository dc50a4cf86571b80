"""A model with a fairlearn mitigation saves and loads whole (real Adult rows): load_model gives
back a MitigatedModel that predicts exactly as the one saved, never the base model alone."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from fairsuite.exceptions import DatasetIntegrityError, InvalidInputError
from fairsuite.experiments import RunSpec
from fairsuite.experiments._run import (
    Split,
    fit_stage,
    intervene_stage,
    load_stage,
    resolve,
    split_stage,
)
from fairsuite.interventions import MitigatedModel
from fairsuite.train import TrainedModel, load_model
from fairsuite.train._model import MITIGATION_FILE, MITIGATION_LEGACY

ADULT = {
    "dataset": "adult",
    "model": "logreg",
    "sensitive": ["gender", "race"],
    "balance_by": ["gender", "race"],
    "n_boot": 0,
    "max_train_rows": 3000,
}


def _spec(data_root: Path, **kw: Any) -> RunSpec:
    return RunSpec.from_dict({**ADULT, "data_dir": str(data_root), **kw})


def _mitigated(
    data_root: Path, method: str, constraint: str, **kw: Any
) -> tuple[MitigatedModel, Split]:
    spec = _spec(data_root, intervention=method, constraint=constraint, **kw)
    loaded = load_stage(spec)
    settings = resolve(spec, "tabular")
    split = split_stage(loaded, spec, settings)
    model = fit_stage(split, intervene_stage(split, spec), spec, settings)
    assert isinstance(model, MitigatedModel)
    return model, split


@pytest.fixture(scope="module")
def threshold_eo(data_root: Path) -> tuple[MitigatedModel, Split]:
    # equalized odds: per group two thresholds and a constant mixed in (p_ignore)
    return _mitigated(data_root, "threshold", "equalized_odds")


@pytest.mark.parametrize(
    ("method", "constraint"),
    [("threshold", "equalized_odds"), ("expgrad", "demographic_parity")],
)
def test_mitigated_model_loads_back_whole_and_predicts_identically(
    data_root: Path,
    threshold_eo: tuple[MitigatedModel, Split],
    tmp_path: Path,
    method: str,
    constraint: str,
) -> None:
    model, split = (
        threshold_eo
        if method == "threshold"
        else _mitigated(data_root, method, constraint, balance_by=["gender"])
    )
    folder = model.save(tmp_path / "m")
    back = load_model(folder)
    assert isinstance(back, MitigatedModel) and back.method == method
    assert isinstance(back.base, TrainedModel)
    test = split.test
    np.testing.assert_array_equal(back.predict_proba(test), model.predict_proba(test))
    np.testing.assert_array_equal(back.predict(test), model.predict(test))
    # and the mitigation matters: the base model alone predicts other labels
    assert (back.base.predict(test) != model.predict(test)).sum() > 100
    assert back.config == json.loads(json.dumps(model.config))
    saved = json.loads((folder / "config.json").read_text())
    assert saved["format_version"] == 2 and saved["mitigation"]["file"] == MITIGATION_FILE
    assert not list(folder.glob("*.pkl"))  # plain numbers, no pickle
    mitigation = json.loads((folder / MITIGATION_FILE).read_text())
    assert mitigation["constraint"] == constraint and mitigation["kind"] == method


def test_a_mitigation_saved_without_its_parameters_is_refused(
    threshold_eo: tuple[MitigatedModel, Split], tmp_path: Path
) -> None:
    # what fairsuite wrote before: the base model, and the summary beside it
    model, _ = threshold_eo
    folder = model.base.save(tmp_path / "old")
    (folder / MITIGATION_FILE).write_text(json.dumps(model.summary))
    message = MITIGATION_LEGACY.format(path=folder, file=MITIGATION_FILE)
    with pytest.raises(InvalidInputError, match=re.escape(message)):
        load_model(folder)


def test_a_changed_mitigation_file_is_refused(
    threshold_eo: tuple[MitigatedModel, Split], tmp_path: Path
) -> None:
    model, _ = threshold_eo
    folder = model.save(tmp_path / "m")
    record = json.loads((folder / MITIGATION_FILE).read_text())
    group = next(iter(record["parameters"]["groups"]))
    record["parameters"]["groups"][group]["p0"] = 1.0
    (folder / MITIGATION_FILE).write_text(json.dumps(record))
    with pytest.raises(DatasetIntegrityError, match="does not match the sha256"):
        load_model(folder)


def test_a_plain_model_saved_over_a_mitigated_one_loads_as_itself(
    threshold_eo: tuple[MitigatedModel, Split], tmp_path: Path
) -> None:
    model, split = threshold_eo
    folder = model.save(tmp_path / "m")
    model.base.save(folder, overwrite=True)
    assert not (folder / MITIGATION_FILE).exists()
    back = load_model(folder)
    assert isinstance(back, TrainedModel)
    np.testing.assert_array_equal(
        back.predict_proba(split.test), model.base.predict_proba(split.test)
    )


def test_the_audit_model_folder_reproduces_the_audit_predictions(
    data_root: Path, tmp_path: Path
) -> None:
    from fairsuite.experiments import audit

    spec = _spec(data_root, intervention="threshold")
    record = audit(spec, out_dir=tmp_path / "a")
    back = load_model(tmp_path / "a" / "model")
    assert isinstance(back, MitigatedModel)
    test = load_stage(spec).dataset.split_table("test")
    labels = np.asarray(back.classes, dtype=object)[back.predict(test)]
    np.testing.assert_array_equal(labels, record.predictions["y_pred"].to_numpy())
