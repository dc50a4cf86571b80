"""End-to-end audits on the embedded synthetic faces and the real Adult, COMPAS and CSV data."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from fairsuite.cli import cli
from fairsuite.exceptions import ExitCode, InvalidInputError
from fairsuite.experiments import AuditSpec, run_audit
from fairsuite.experiments._audit import _OUT_EXISTS
from fairsuite.experiments._run import _UNKNOWN_SENSITIVE


def _attr(metrics: dict[str, Any], name: str) -> dict[str, Any]:
    return next(a for a in metrics["attributes"] if a["name"] == name)


def _group(attr: dict[str, Any], group: str) -> dict[str, Any]:
    return next(g for g in attr["groups"] if g["group"] == group)


@pytest.fixture(scope="module")
def synth_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    """`fairsuite audit` with no dataset (the embedded default), small settings, --json."""
    out = tmp_path_factory.mktemp("synth") / "run"
    result = CliRunner().invoke(
        cli,
        ["audit", "--epochs", "4", "--n-boot", "300", "--out", str(out), "--json", "--quiet"],
        catch_exceptions=False,
    )
    return result, out


def test_default_audit_writes_result_report_and_model(synth_run: tuple[Any, Path]) -> None:
    result, out = synth_run
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)  # exactly one JSON document on stdout
    assert document == json.loads((out / "result.json").read_text())
    assert document["schema_version"] == 2 and document["kind"] == "audit"
    assert document["dataset"]["name"] == "synthfaces" and document["dataset"]["synthetic"]
    assert (out / "report.html").stat().st_size > 10_000
    assert any((out / "model").iterdir())
    assert document["config"]["model"] == "small_cnn" and document["config"]["device"] == "cpu"


def test_default_audit_recovers_the_planted_disparity(synth_run: tuple[Any, Path]) -> None:
    document = json.loads(synth_run[0].stdout)
    metrics = document["metrics"]
    assert metrics["overall"]["accuracy"]["value"] > 0.75
    skin = _attr(metrics, "skin_tone")
    evaluable = [g for g in skin["groups"] if not g["insufficient"]]
    worst = min(evaluable, key=lambda g: g["metrics"]["accuracy"]["value"])
    # synthfaces plants the hard group in its smallest skin-tone level (5% of the data)
    smallest = min(skin["groups"], key=lambda g: g["n"])
    assert worst["group"] == smallest["group"]
    gap = skin["disparities"]["accuracy"]["difference"]
    assert skin["disparities"]["accuracy"]["worst_group"] == smallest["group"]
    assert gap["value"] > 0.1
    assert gap["ci_low"] > 0, f"interval of the planted gap includes zero: {gap}"


def test_rerun_into_same_out_with_other_config_needs_force(synth_run: tuple[Any, Path]) -> None:
    out = synth_run[1]
    old = json.loads((out / "result.json").read_text())["config_hash"]
    from fairsuite.experiments._run import resolve

    spec = AuditSpec(dataset="synthfaces", epochs=1, n_boot=0)
    new = spec.config_hash(**resolve(spec, "image").to_dict())
    msg = _OUT_EXISTS.format(path=out, old=old[:12], new=new[:12])
    with pytest.raises(InvalidInputError, match=re.escape(msg)):
        run_audit(spec, out_dir=out, progress=False)


def test_compas_audit_shows_the_false_positive_gap(data_root: Path) -> None:
    spec = AuditSpec(dataset="compas", model="logreg", sensitive=("race",), n_boot=300)
    spec = spec.replace(data_dir=str(data_root))
    document = run_audit(spec, progress=False)
    race = _attr(document["metrics"], "race")
    black, white = _group(race, "Black"), _group(race, "White")
    fpr = {g: _group(race, g)["metrics"]["fpr"]["value"] for g in ("Black", "White")}
    fnr = {g: _group(race, g)["metrics"]["fnr"]["value"] for g in ("Black", "White")}
    # ProPublica's pattern, for a model trained on the data: more false positives for Black
    # defendants than for White ones, and more false negatives for White ones.
    assert fpr["Black"] - fpr["White"] > 0.05
    assert fnr["White"] - fnr["Black"] > 0.1
    gap = race["disparities"]["fpr"]
    assert gap["worst_group"] == "Black"
    assert gap["difference"]["ci_low"] > 0, gap
    assert black["n"] > 500 and white["n"] > 350
    assert 1200 < document["metrics"]["n"] < 1300  # 20% of ProPublica's 6,172 rows


def test_adult_audit_on_real_files(data_root: Path) -> None:
    spec = AuditSpec(dataset="adult", model="logreg", sensitive=("gender",), n_boot=200)
    document = run_audit(spec.replace(data_dir=str(data_root)), progress=False)
    assert document["metrics"]["n"] == 16_281
    assert document["metrics"]["overall"]["accuracy"]["value"] > 0.84
    gender = _attr(document["metrics"], "gender")
    # Women are predicted >50K far less often (the base rates differ a lot in Adult).
    sel = {g["group"]: g["metrics"]["selection_rate"]["value"] for g in gender["groups"]}
    assert sel["Male"] > 2 * sel["Female"]


def test_unknown_sensitive_attribute_is_a_data_error(data_root: Path) -> None:
    result = CliRunner().invoke(
        cli,
        ["audit", "--dataset", "adult", "--data-dir", str(data_root), "--sensitive", "religion"],
    )
    assert result.exit_code == ExitCode.DATA
    assert "no sensitive column 'religion'" in result.stderr
    assert result.stdout == ""


def test_report_escapes_group_names_end_to_end(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    n = 600
    group = np.where(rng.random(n) < 0.5, "<script>alert(1)</script>", "plain")
    x = rng.normal(size=n)
    y = (x + rng.normal(scale=0.5, size=n) > 0).astype(int)
    csv = tmp_path / "people.csv"
    csv.write_text(
        "x,group,label\n" + "".join(f"{a},{g},{b}\n" for a, g, b in zip(x, group, y, strict=True))
    )
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli,
        [
            "audit",
            "--dataset",
            str(csv),
            "--target",
            "label",
            "--sensitive",
            "group",
            "--positive-label",
            "1",
            "--model",
            "logreg",
            "--n-boot",
            "50",
            "--out",
            str(out),
            "--quiet",
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.stderr
    html = (out / "report.html").read_text()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_unknown_sensitive_message_constant() -> None:
    assert "{column!r}" in _UNKNOWN_SENSITIVE and "Available" in _UNKNOWN_SENSITIVE


def test_pretrained_offline_is_a_clear_data_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch-home"))  # no weights there
    result = CliRunner().invoke(
        cli,
        ["audit", "--pretrained", "--model", "resnet18", "--epochs", "1", "--n-boot", "0"]
        + ["--out", str(tmp_path / "out"), "--quiet"],
    )
    assert result.exit_code == ExitCode.DATA
    assert "pretrained weights for resnet18 were not found" in result.stderr
    assert "never downloads" in result.stderr
    assert not (tmp_path / "out" / "result.json").exists()
