"""`fairsuite compare`: N x N cross-dataset evaluation on the real UTKFace and FairFace files."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner

from fairsuite.cli import cli
from fairsuite.exceptions import ExitCode, InvalidInputError
from fairsuite.experiments import AuditSpec, run_compare
from fairsuite.experiments import compare as fairsuite_compare
from fairsuite.experiments._compare import _KIND_MISMATCH, _TOO_FEW


@pytest.fixture(scope="module")
def faces_compare(data_root: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    out = tmp_path_factory.mktemp("compare") / "run"
    args = [
        "compare",
        "utkface",
        "fairface",
        "--data-dir",
        str(data_root),
        "--allow-missing",
        "--train-size",
        "1500",
        "--epochs",
        "3",
        "--n-boot",
        "200",
        "--out",
        str(out),
        "--json",
        "--quiet",
    ]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    return result, out


def test_compare_utkface_fairface_writes_the_n_by_n_table(faces_compare: tuple[Any, Path]) -> None:
    result, out = faces_compare
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc == json.loads((out / "result.json").read_text())
    assert doc["kind"] == "compare" and doc["datasets"] == ["utkface", "fairface"]
    assert doc["train_size"] == 1500
    assert {(c["train"], c["test"]) for c in doc["cells"]} == {
        (a, b) for a in ("utkface", "fairface") for b in ("utkface", "fairface")
    }
    for name in ("utkface", "fairface"):
        comp = doc["compositions"][name]
        assert comp["splits"]["train"] == 1500
    for cell in doc["cells"]:
        m = cell["metrics"]
        # a tiny model on 1,500 faces: better than chance everywhere, far from good
        assert m["overall"]["accuracy"]["value"] > 0.55, cell["train"] + "->" + cell["test"]
        names = [a["name"] for a in m["attributes"]]
        assert names == ["race", "gender", "race x gender"]  # the cards' audit_sensitive
    html = (out / "report.html").read_text()
    assert "utkface" in html and "fairface" in html


def test_compare_needs_two_datasets() -> None:
    msg = _TOO_FEW.format(n=1, names="adult")
    with pytest.raises(InvalidInputError, match=re.escape(msg)):
        run_compare(["adult"], AuditSpec())


def test_compare_rejects_image_versus_table(data_root: Path) -> None:
    spec = AuditSpec(data_dir=str(data_root), allow_missing=True)
    msg = _KIND_MISMATCH.format(a="adult", kind_a="tabular", b="fairface", kind_b="image")
    with pytest.raises(InvalidInputError, match=re.escape(msg)):
        run_compare(["adult", "fairface"], spec)


def test_compare_cli_mismatch_exit_code(data_root: Path) -> None:
    result = CliRunner().invoke(
        cli, ["compare", "adult", "compas", "--data-dir", str(data_root), "--quiet"]
    )
    assert result.exit_code == ExitCode.DATA
    assert "do not share the task" in result.stderr


# ----------------------------------------------------------------------------------------------
# the N models on the serial, local and Ray executors: one document
# ----------------------------------------------------------------------------------------------

_ADULT_COLUMNS = ["age", "education_num", "hours_per_week", "capital_gain", "marital_status",
                  "occupation", "gender", "race", "native_income"]


@pytest.fixture(scope="module")
def adult_samples(data_root: Path, tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """Two CSVs cut from the real Adult training rows: a natural sample of 2,500 people (a third
    women) and one where women are 10%: the question compare answers for a user's own data."""
    from fairsuite.data import load

    table = load("adult", data_dir=data_root).table
    train = table[table["split"] == "train"]
    natural = train.sample(2500, random_state=0)
    women, men = train[train["gender"] == "Female"], train[train["gender"] == "Male"]
    skewed = pd.concat([women.sample(250, random_state=1), men.sample(2250, random_state=1)])
    folder = tmp_path_factory.mktemp("adult-samples")
    paths = []
    for name, frame in (("natural", natural), ("few-women", skewed.sample(frac=1, random_state=2))):
        path = folder / f"{name}.csv"
        frame[_ADULT_COLUMNS].rename(columns={"native_income": "income"}).to_csv(path, index=False)
        paths.append(str(path))
    return paths


def _cells(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return sorted(doc["cells"], key=lambda c: (c["train"], c["test"]))


def _training(doc: dict[str, Any]) -> dict[str, Any]:
    """The training records without their timings."""
    out = json.loads(json.dumps(doc["training"]))
    for record in out.values():
        for epoch in record.get("history") or []:
            epoch.pop("seconds", None)
            epoch.pop("rows_per_s", None)
    return out


_SAMPLES = {"target": "income", "sensitive": ["gender"], "positive_label": ">50K",
            "model": "logreg", "n_boot": 0}


def test_compare_gives_one_document_on_every_executor(adult_samples: list[str]) -> None:
    serial = fairsuite_compare(adult_samples, **_SAMPLES)
    assert serial["train_size"] == 2000  # both CSVs hold 2,500 rows, split 80/20
    assert serial["interventions"] is None
    assert {(c["train"], c["test"]) for c in serial["cells"]} == {
        (a, b) for a in ("natural", "few-women") for b in ("natural", "few-women")
    }
    women = {
        (c["train"], c["test"]): c["metrics"]["attributes"][0]["groups"][0]
        for c in serial["cells"]
    }
    assert {g["group"] for g in women.values()} == {"Female"}
    assert women[("natural", "natural")]["n"] == 162  # test women: a third of 500, and 10%
    assert women[("few-women", "few-women")]["n"] == 50
    local = fairsuite_compare(adult_samples, **_SAMPLES, executor="local", jobs=2)
    assert _cells(local) == _cells(serial) and _training(local) == _training(serial)
    assert local["config_hash"] == serial["config_hash"]
    if importlib.util.find_spec("ray") is not None:
        on_ray = fairsuite_compare(adult_samples, **_SAMPLES, executor="ray", jobs=2)
        assert _cells(on_ray) == _cells(serial) and _training(on_ray) == _training(serial)


def test_compare_records_each_models_intervention(adult_samples: list[str]) -> None:
    doc = fairsuite_compare(adult_samples, **_SAMPLES, intervention="reweigh")
    assert doc["config"]["intervention"] == "reweigh"
    assert set(doc["interventions"]) == set(doc["datasets"])
    for name, record in doc["interventions"].items():
        assert record["kind"] == "reweigh" and record["rows"]["reweighted"] == 2000, record
        weights = record["weights"]
        # reweighing lifts the rarest (group, label) cell most: women earning >50K
        top = max(weights["Female"][">50K"], weights["Male"][">50K"], weights["Male"]["<=50K"])
        assert weights["Female"][">50K"] == top > 2, (name, weights)


def test_compare_cli_on_local_workers(adult_samples: list[str], tmp_path: Path) -> None:
    args = ["compare", *adult_samples, "--target", "income", "--sensitive", "gender",
            "--positive-label", ">50K", "--model", "logreg", "--n-boot", "0", "--executor",
            "local", "--jobs", "2", "--out", str(tmp_path / "cmp"), "--json", "--quiet"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert _cells(doc) == _cells(fairsuite_compare(adult_samples, **_SAMPLES))
    bad = CliRunner().invoke(cli, [*args[:-4], "--gpus-per-run", "1", "--quiet"])
    assert bad.exit_code == 2 and "need --executor ray" in bad.stderr
