"""Interventions inside a run, on real data: the test split stays byte-identical, weights reach
the loss, mitigations predict at random with the seed, and bad input fails before training."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from fairsuite.cli import cli
from fairsuite.experiments import RunRecord, RunSpec, run
from fairsuite.experiments._run import (
    intervene_stage,
    load_stage,
    resolve,
    split_stage,
)
from tests.interventions.conftest import fingerprint

ADULT = {"dataset": "adult", "model": "logreg", "sensitive": ["gender"], "n_boot": 0,
         "max_train_rows": 3000}


def _spec(data_root: Path, **kw: Any) -> RunSpec:
    return RunSpec.from_dict({**ADULT, "data_dir": str(data_root), **kw})


@pytest.mark.parametrize("intervention", ["reweigh", "undersample", "oversample", "threshold"])
def test_test_split_is_byte_identical_and_train_split_untouched(
    data_root: Path, intervention: str
) -> None:
    spec = _spec(data_root, intervention=intervention)
    loaded = load_stage(spec)
    split = split_stage(loaded, spec, resolve(spec, "tabular"))
    test_before, train_before = fingerprint(split.test), fingerprint(split.train)
    table_before = fingerprint(split.dataset.table)
    trainset = intervene_stage(split, spec)
    assert fingerprint(split.test) == test_before
    assert fingerprint(split.train) == train_before
    assert fingerprint(split.dataset.table) == table_before
    assert trainset.intervention is not None and trainset.intervention["kind"] == intervention
    # and the test split is the one a fresh load gives, value for value
    fresh = load_stage(dataclasses.replace(spec, intervention=None)).dataset.split_table("test")
    pd.testing.assert_frame_equal(
        fresh.reset_index(drop=True), split.test.reset_index(drop=True)
    )


def test_reweigh_weights_reach_the_loss_and_the_record(data_root: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import fairsuite.train._tabular as tabular

    seen: dict[str, Any] = {}
    real_fit = tabular.fit_logreg

    def spy(x: np.ndarray, y: np.ndarray, w: np.ndarray | None, **kw: Any) -> Any:
        seen["w"], seen["y"] = w, y
        return real_fit(x, y, w, **kw)

    monkeypatch.setattr(tabular, "fit_logreg", spy)
    record, _ = run(_spec(data_root, intervention="reweigh"))
    w = seen["w"]
    assert w is not None and len(np.unique(np.round(w, 9))) == 4  # one weight per gender x label
    iv = record.intervention
    assert iv is not None and iv["balance"] == "parity" and iv["rows"]["reweighted"] > 0
    weights = {(g, lab): v for g, d in iv["weights"].items() for lab, v in d.items()}
    assert set(np.round(w, 6)) == set(np.round(list(weights.values()), 6))
    # the weighted composition after is the parity target (equal base rates)
    after = iv["after"]
    rates = {g: d[">50K"] / (d[">50K"] + d["<=50K"]) for g, d in after.items()}
    assert abs(rates["Female"] - rates["Male"]) < 1e-9
    doc = json.loads(json.dumps(record.to_dict()))
    assert doc["intervention"]["kind"] == "reweigh"
    assert RunRecord.from_dict(doc).intervention == doc["intervention"]


def test_undersample_counts_removed_rows_as_excluded(data_root: Path) -> None:
    record, _ = run(_spec(data_root, intervention="undersample", balance="parity"))
    tr = record.training
    assert tr is not None and record.intervention is not None
    removed = record.intervention["rows"]["removed"]
    assert tr.excluded["removed by undersample"] == removed > 0
    assert tr.rows_listed == tr.rows_used + sum(tr.excluded.values())


def test_threshold_mitigation_is_seeded_and_saved(data_root: Path, tmp_path: Path) -> None:
    from fairsuite.experiments import audit

    record = audit(_spec(data_root, intervention="threshold"), out_dir=tmp_path / "a")
    again = audit(_spec(data_root, intervention="threshold"), out_dir=tmp_path / "b")
    pd.testing.assert_frame_equal(record.predictions, again.predictions)
    iv = record.intervention
    assert iv is not None and iv["family"] == "mitigate"
    assert set(iv["mitigation"]["rules"]) == {"Female", "Male"}
    saved = json.loads((tmp_path / "a" / "model" / "mitigation.json").read_text())
    assert saved["constraint"] == "demographic_parity"
    html = (tmp_path / "a" / "report.html").read_text()
    assert 'id="intervention"' in html and "Thresholds per group" in html
    dp = next(a for a in record.result.attributes if a.name == "gender").summary[
        "demographic_parity_difference"
    ]
    assert dp.value < 0.1


def test_expgrad_needs_logreg_before_anything_runs(tmp_path: Path, data_root: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, [
        "audit", "--dataset", "adult", "--data-dir", str(data_root), "--intervention", "expgrad",
        "--out", str(out),
    ])
    assert result.exit_code == 2, result.output
    assert "pass --model logreg" in result.output and len(result.output.strip().splitlines()) == 1
    assert not out.exists()


@pytest.mark.parametrize(
    ("balance", "code", "message"),
    [
        ({"Female": 0.5, "Nonbinary": 0.5}, 2, "group 'Nonbinary'"),
        ({"Female": 0.5, "Male": 0.6}, 2, "must sum to 1"),
        ({"Female": {">50K": 0.5, "<=50K": 0.0}, "Male": {">50K": 0.0, "<=50K": 0.5},
          "White": 0.0}, 2, "group 'White'"),
    ],
)
def test_bad_balance_files_fail_before_training_with_nothing_written(
    tmp_path: Path, data_root: Path, balance: dict, code: int, message: str
) -> None:
    import yaml

    spec_file = tmp_path / "balance.yaml"
    spec_file.write_text(yaml.safe_dump(balance))
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, [
        "audit", "--dataset", "adult", "--data-dir", str(data_root), "--model", "logreg",
        "--intervention", "reweigh", "--balance", str(spec_file), "--out", str(out),
    ])
    assert result.exit_code == code, result.output
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not out.exists()


def test_a_share_for_a_cell_without_rows_is_exit_3(tmp_path: Path, data_root: Path) -> None:
    # real Adult rows, written as a CSV whose training split has no woman earning >50K
    from fairsuite import load

    table = load("adult", data_dir=data_root).table
    keep = ~((table.split == "train") & (table.gender == "Female") & (table.y == 1))
    cols = ["age", "education", "hours_per_week", "gender", "native_income", "split"]
    csv = tmp_path / "adult-no-rich-women.csv"
    table.loc[keep, cols].sample(8000, random_state=0).to_csv(csv, index=False)
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, [
        "audit", "--dataset", str(csv), "--target", "native_income", "--positive-label", ">50K",
        "--sensitive", "gender", "--model", "logreg", "--intervention", "reweigh",
        "--balance", "parity", "--out", str(out),
    ])
    assert result.exit_code == 3, result.output
    assert "gender = Female with label '>50K', which has no training rows" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not out.exists()


def test_sdv_missing_fails_before_training_with_nothing_written(
    tmp_path: Path, data_root: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec",
        lambda name, *a: None if name == "sdv" else real_find_spec(name, *a),
    )
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, [
        "audit", "--dataset", "adult", "--data-dir", str(data_root), "--model", "logreg",
        "--intervention", "synth", "--out", str(out),
    ])
    assert result.exit_code == 2, result.output
    assert "pip install 'fairsuite[synth]'" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not out.exists()


def test_interventions_for_the_other_kind_of_data_are_usage_errors(
    tmp_path: Path, data_root: Path
) -> None:
    result = CliRunner().invoke(cli, [
        "audit", "--dataset", "adult", "--data-dir", str(data_root), "--intervention", "augment",
        "--out", str(tmp_path / "o"),
    ])
    assert result.exit_code == 2 and "applies to image data" in result.output
    result = CliRunner().invoke(cli, [
        "audit", "--intervention", "synth", "--out", str(tmp_path / "o"),
    ])
    assert result.exit_code == 2 and "applies to tabular data" in result.output
    assert not (tmp_path / "o").exists()


def test_synth_in_a_run_records_fidelity(data_root: Path) -> None:
    pytest.importorskip("sdv")
    record, _ = run(_spec(data_root, intervention="synth"))
    iv = record.intervention
    assert iv is not None and iv["synthesizer"] == "gaussian_copula"
    assert iv["rows"]["synthetic"] == iv["rows"]["added"] > 0
    assert set(iv["fidelity"]) >= {"overall", "column_shapes", "column_pair_trends"}
    assert iv["shortfalls"] == {}
    comp = record.training.composition["gender"]  # type: ignore[union-attr]
    rates = {g: d.get(">50K", 0) / sum(d.values()) for g, d in comp.items()}
    assert abs(rates["Female"] - rates["Male"]) < 0.01


def test_augment_marks_copies_and_the_jitter_reaches_training(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import fairsuite.train._engine as engine

    seen: list[Any] = []
    real_init = engine.ImageSource.__init__

    def spy(self, images, **kw):  # type: ignore[no-untyped-def]
        seen.append(kw.get("jitter"))
        real_init(self, images, **kw)

    monkeypatch.setattr(engine.ImageSource, "__init__", spy)
    spec = RunSpec.from_dict({
        "dataset": "synthfaces", "sensitive": ["skin_tone"], "intervention": "augment",
        "max_train_rows": 300, "epochs": 1, "image_size": 32, "n_boot": 0, "device": "cpu",
        "min_group_size": 5,
    })
    record, _ = run(spec)
    iv = record.intervention
    assert iv is not None and iv["by"] == ["skin_tone"] and iv["rows"]["duplicated"] > 0
    assert iv["rows"]["synthetic"] == 0  # copies of generated images are not new synthetic rows
    jitter = next(j for j in seen if j is not None)
    assert 0 < int(jitter.sum()) <= iv["rows"]["duplicated"]
    sizes = {g: sum(d.values()) for g, d in iv["after"].items()}
    assert max(sizes.values()) - min(sizes.values()) <= 2
