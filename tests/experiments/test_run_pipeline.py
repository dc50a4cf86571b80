"""run(RunSpec) -> RunRecord: the staged pipeline, the record, evaluate on any predictions,
the one headline read by summary, report and JSON, data integrity, the public API."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import fairsuite
from fairsuite.cli import cli
from fairsuite.exceptions import DataIntegrityWarning, ExitCode
from fairsuite.experiments import RunRecord, RunSpec, format_audit_summary
from fairsuite.metrics import headline
from fairsuite.report import render_html


def _invoke(args: list[str]) -> Any:
    return CliRunner().invoke(cli, args, catch_exceptions=False)


@pytest.fixture(scope="module")
def compas_run(data_root: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    out = tmp_path_factory.mktemp("compas") / "run"
    spec = Path(__file__).resolve().parents[2] / "audits" / "compas-recidivism.yaml"
    result = _invoke(
        ["audit", str(spec), "--data-dir", str(data_root), "--out", str(out), "--json", "-q"]
    )
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout), out


def _values(metrics: dict[str, Any]) -> dict[tuple[str, str, str], float | None]:
    out = {("overall", "", m): v["value"] for m, v in metrics["overall"].items()}
    for a in metrics["attributes"]:
        for g in a["groups"]:
            for m, v in g["metrics"].items():
                out[(a["name"], g["group"], m)] = v["value"]
    return out


# ---- the record -----------------------------------------------------------------------------


def test_record_round_trips_and_is_the_only_result_json(compas_run: tuple[dict, Path]) -> None:
    document, out = compas_run
    assert document == json.loads((out / "result.json").read_text())
    assert document["schema_version"] == 2
    record = RunRecord.from_dict(document)
    assert record.to_dict() == document
    assert record.spec == RunSpec.from_dict(document["spec"])
    # stages and their timings
    assert set(document["timings"]) == {
        "load", "split", "intervene", "fit", "predict", "evaluate", "total"
    }
    training = document["training"]
    assert training["rows_used"] == training["rows_fit"] + training["rows_val"]
    assert training["rows_listed"] == training["rows_used"] + sum(training["excluded"].values())
    assert training["model"] == "logreg" and training["precision"] == "fp64"
    # training composition by group x label sums to the rows passed to fit
    race = training["composition"]["race"]
    assert sum(sum(labels.values()) for labels in race.values()) == training["rows_used"]
    assert document["dataset"]["integrity"]["status"] == "ok"
    assert document["dataset"]["audited"] == ["race", "gender"]


def test_predictions_are_kept(compas_run: tuple[dict, Path]) -> None:
    document, out = compas_run
    preds = pd.read_parquet(out / "predictions.parquet")
    assert list(preds.columns) == ["row_id", "split", "y_true", "y_pred", "score", "race", "gender"]
    assert len(preds) == document["metrics"]["n"] == 1234
    assert set(preds["y_true"]) <= {"0", "1"} and preds["score"].between(0, 1).all()
    accuracy = float((preds["y_true"] == preds["y_pred"]).mean())
    assert accuracy == pytest.approx(document["metrics"]["overall"]["accuracy"]["value"])


# ---- evaluate -----------------------------------------------------------------------------


def test_evaluate_run_dir_reproduces_point_estimates_without_torch(
    compas_run: tuple[dict, Path], tmp_path: Path
) -> None:
    document, out = compas_run
    new = tmp_path / "re"
    cmd = [sys.executable, "-X", "importtime", "-m", "fairsuite", "evaluate", str(out)]
    cmd += ["--n-boot", "200", "--min-group-size", "10", "--out", str(new), "--json"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    imported = {line.split("|")[-1].strip() for line in done.stderr.splitlines() if "|" in line}
    assert "torch" not in imported and "fairsuite.train" not in imported
    again = json.loads(done.stdout)
    assert again["kind"] == "evaluate" and again["spec"]["n_boot"] == 200
    assert again["metrics"]["min_group_size"] == 10
    assert _values(again["metrics"]) == _values(document["metrics"])  # exactly
    assert again["training"] == document["training"]  # what trained the model is kept
    assert (new / "report.html").is_file() and (new / "predictions.parquet").is_file()


def _propublica_rows(data_root: Path) -> pd.DataFrame:
    """ProPublica's filters, by hand (as in their notebook), independent of fairsuite."""
    df = pd.read_csv(data_root / "compas" / "compas-scores-two-years.csv")
    keep = (
        df["days_b_screening_arrest"].between(-30, 30)
        & (df["is_recid"] != -1)
        & (df["c_charge_degree"] != "O")
        & (df["score_text"] != "N/A")
    )
    return df.loc[keep, ["race", "sex", "decile_score", "two_year_recid"]]


def test_evaluate_compas_decile_scores_matches_a_hand_computation(
    data_root: Path, tmp_path: Path
) -> None:
    rows = _propublica_rows(data_root)
    assert len(rows) == 6172
    path = tmp_path / "compas_scores.csv"
    rows.to_csv(path, index=False)
    out = tmp_path / "out"
    result = _invoke(
        [
            "evaluate", str(path), "--y-true", "two_year_recid", "--score", "decile_score",
            "--threshold", "5", "--sensitive", "race", "--out", str(out), "--json",
        ]
    )
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    race = next(a for a in doc["metrics"]["attributes"] if a["name"] == "race")
    groups = {g["group"]: g for g in race["groups"]}
    high = rows["decile_score"] >= 5  # "medium or high risk"
    for name, g in groups.items():
        mask = rows["race"] == name
        neg, pos = mask & (rows["two_year_recid"] == 0), mask & (rows["two_year_recid"] == 1)
        fpr = (high & neg).sum() / neg.sum()
        fnr = (~high & pos).sum() / pos.sum()
        assert g["metrics"]["fpr"]["value"] == pytest.approx(fpr, abs=1e-12), name
        assert g["metrics"]["fnr"]["value"] == pytest.approx(fnr, abs=1e-12), name
        assert g["n"] == int(mask.sum())
    fpr = {k: g["metrics"]["fpr"]["value"] for k, g in groups.items()}
    assert fpr["African-American"] == pytest.approx(0.4234, abs=5e-5)
    assert fpr["Caucasian"] == pytest.approx(0.2201, abs=5e-5)
    assert doc["training"] is None and doc["source"]["threshold"] == 5
    assert "AUC" not in result.stderr and doc["metrics"]["overall"]["auc"]["value"] > 0.6
    assert (out / "report.html").is_file()


def test_evaluate_reproduces_propublicas_published_error_rates(
    data_root: Path, tmp_path: Path
) -> None:
    """ProPublica's published table (all 7,214 rows of the two-year file, "medium or high"
    risk): false positives 44.85% Black vs 23.45% White, false negatives 27.99% vs 47.72%."""
    df = pd.read_csv(data_root / "compas" / "compas-scores-two-years.csv")
    record = fairsuite.evaluate(
        df, y_true="two_year_recid", score="decile_score", threshold=5, sensitive=["race"],
        n_boot=0,
    )
    race = {g.group: g.metrics for g in record.result.attribute("race").groups}
    assert race["African-American"]["fpr"].value == pytest.approx(0.4485, abs=5e-5)
    assert race["Caucasian"]["fpr"].value == pytest.approx(0.2345, abs=5e-5)
    assert race["African-American"]["fnr"].value == pytest.approx(0.2799, abs=5e-5)
    assert race["Caucasian"]["fnr"].value == pytest.approx(0.4772, abs=5e-5)
    fpr_gap = record.result.attribute("race").disparities["fpr"]
    assert fpr_gap.difference.ci_low > 0  # shown, not only estimated


def test_evaluate_bad_columns_are_clear(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    pd.DataFrame({"y": [0, 1, 1], "p": [0, 1, 0], "g": ["a", "b", "a"]}).to_csv(path, index=False)
    result = CliRunner().invoke(
        cli, ["evaluate", str(path), "--y-true", "y", "--y-pred", "pred", "--sensitive", "g"]
    )
    assert result.exit_code == ExitCode.DATA
    assert "no column 'pred' (given as --y-pred). Columns: y, p, g" in result.stderr
    nan = tmp_path / "nan.csv"
    pd.DataFrame({"y": [0, None, 1], "p": [0, 1, 0], "g": ["a", "b", "a"]}).to_csv(nan, index=False)
    result = CliRunner().invoke(
        cli, ["evaluate", str(nan), "--y-true", "y", "--y-pred", "p", "--sensitive", "g"]
    )
    assert result.exit_code == ExitCode.DATA
    assert "column 'y' has 1 missing values (first at row 1)" in result.stderr


def test_library_evaluate_on_a_dataframe_leaves_it_unchanged() -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "label": rng.choice(["no", "yes"], 400),
            "pred": rng.choice(["no", "yes"], 400),
            "group": np.where(rng.random(400) < 0.1, None, rng.choice(["a", "b"], 400)),
        }
    )
    before = frame.copy()
    with pytest.warns(Warning, match="audited as their own group 'missing'"):
        record = fairsuite.evaluate(
            frame, y_true="label", y_pred="pred", sensitive=["group"], positive_label="yes"
        )
    pd.testing.assert_frame_equal(frame, before)
    assert record.result.positive_label == "yes"
    assert {g.group for g in record.result.attributes[0].groups} == {"a", "b", "missing"}
    assert record.dataset.load_report["changes"]


# ---- library API ------------------------------------------------------------------------------


def test_notebook_audit_by_group_equals_metricframe(data_root: Path) -> None:
    from fairlearn.metrics import MetricFrame, false_positive_rate, selection_rate
    from sklearn.metrics import accuracy_score

    r = fairsuite.audit(dataset="adult", data_dir=str(data_root), model="logreg", n_boot=0)
    frame = r.result.by_group("gender")
    preds = r.predictions
    mf = MetricFrame(
        metrics={"accuracy": accuracy_score, "selection_rate": selection_rate,
                 "fpr": false_positive_rate},
        y_true=(preds["y_true"] == ">50K").astype(int),
        y_pred=(preds["y_pred"] == ">50K").astype(int),
        sensitive_features=preds["gender"],
    )
    for m in ("accuracy", "selection_rate", "fpr"):
        for group, value in mf.by_group[m].items():
            assert frame.loc[("gender", group), m] == pytest.approx(value, abs=1e-12)
    assert "<table" in r._repr_html_()


def test_keywords_and_specs_are_one_path() -> None:
    from fairsuite.exceptions import SpecError

    with pytest.raises(SpecError, match="'epochs' must be an integer >= 1"):
        fairsuite.audit(dataset="adult", epochs=0)  # before any data is read
    spec = fairsuite.RunSpec.from_dict({"dataset": "adult", "model": "logreg"})
    assert spec == fairsuite.RunSpec(dataset="adult", model="logreg")


def test_import_fairsuite_is_cheap() -> None:
    code = (
        "import sys, fairsuite; fairsuite.list_datasets(); fairsuite.RunSpec; "
        "print(any(m in sys.modules for m in ('torch', 'matplotlib', 'sdv', 'seaborn')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
    assert {"audit", "compare", "evaluate", "load", "list_datasets", "dataset_info"} <= set(
        dir(fairsuite)
    )


# ---- one headline -------------------------------------------------------------------------------


def test_summary_report_and_json_share_one_headline(compas_run: tuple[dict, Path]) -> None:
    document, out = compas_run
    hl = document["headline"]
    assert hl == headline(document["metrics"]).to_dict()
    worst, gap = hl["worst_group"], hl["gaps"][0]
    summary = format_audit_summary(document)
    assert f"worst group        {worst['attribute']} = {worst['group']}: accuracy" in summary
    assert f"{worst['value']['value']:.3f}" in summary
    first_gap_line = summary.splitlines()[summary.splitlines().index(
        "largest gaps between groups (highest minus lowest group rate, 0-1):"
    ) + 1]
    assert gap["metric"] in first_gap_line and gap["attribute"] in first_gap_line
    html = (out / "report.html").read_text()
    verdict = html[html.index('id="verdict"') : html.index('id="composition"')]
    assert f"<strong>{worst['group']}</strong> ({worst['attribute']})" in verdict
    assert f"{worst['value']['value'] * 100:.1f}%" in verdict
    assert f"{gap['difference']['value'] * 100:.1f} pp" in verdict
    assert render_html(document) == html


# ---- what trained the model --------------------------------------------------------------------


def test_fairface_allow_missing_records_rows_used_and_excluded(
    data_root: Path, tmp_path: Path
) -> None:
    spec = RunSpec(
        dataset="fairface", data_dir=str(data_root), allow_missing=True, epochs=1,
        image_size=16, max_train_rows=300, n_boot=0, sensitive=("race",),
    )
    record = fairsuite.audit(spec, out_dir=tmp_path / "ff", save_model=False)
    t = record.training
    assert t.rows_listed == 86_744  # every labelled training row
    assert t.excluded["image missing on disk"] == 86_744 - 6_400
    assert t.excluded["beyond max_train_rows"] == 6_400 - 300
    assert t.rows_used == 300 and t.rows_fit + t.rows_val == 300
    doc = json.loads((tmp_path / "ff" / "result.json").read_text())
    assert doc["training"]["excluded"]["image missing on disk"] == 80_344
    assert "training rows      300 used of 86,744 listed" in format_audit_summary(doc)


# ---- data integrity ------------------------------------------------------------------------------


def test_checksum_mismatch_is_shown_and_strict_data_refuses(
    data_root: Path, tmp_path: Path
) -> None:
    root = tmp_path / "data"
    shutil.copytree(data_root / "adult", root / "adult")
    with open(root / "adult" / "adult.test", "a", encoding="utf-8") as fh:
        fh.write("\n")  # a blank line: same rows, other bytes
    args = ["audit", "--dataset", "adult", "--data-dir", str(root), "--model", "logreg"]
    args += ["--n-boot", "0", "--sensitive", "gender", "--out", str(tmp_path / "out")]
    with pytest.warns(DataIntegrityWarning, match="adult.test has sha256"):
        result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.stderr
    assert "DATA INTEGRITY     adult.test: checksum differs" in result.stdout
    doc = json.loads((tmp_path / "out" / "result.json").read_text())
    assert doc["dataset"]["integrity"]["status"] == "mismatch"
    assert "checksum differs" in (tmp_path / "out" / "report.html").read_text()
    strict = CliRunner().invoke(cli, [*args, "--strict-data", "--force"])
    assert strict.exit_code == ExitCode.DATA
    assert "adult.test has sha256" in strict.stderr and "--strict-data" in strict.stderr
