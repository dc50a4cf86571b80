"""Nothing silent (every change to the data is announced and recorded), attributes that are the
target, the majority-class warning, interval and methods texts (issue 8)."""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from markupsafe import escape

from fairsuite.cli import cli
from fairsuite.cli._common import run_cli
from fairsuite.exceptions import DataChangeWarning
from fairsuite.experiments import AuditSpec, format_audit_summary, run_audit
from fairsuite.experiments._run import target_attributes
from fairsuite.experiments._summary import TARGET_REASON, baseline_warning, interval_text
from fairsuite.report import render_html
from fairsuite.report._context import build_context


def _csv(path: Path, *, n: int = 400, seed: int = 0, nan_groups: int = 0, classes: int = 2) -> Path:
    rng = np.random.default_rng(seed)
    group = np.where(rng.random(n) < 0.5, "a", "b").astype(object)
    group[:nan_groups] = ""
    x = rng.normal(size=n)
    y = np.digitize(x + rng.normal(scale=0.5, size=n), [0.0] if classes == 2 else [-0.5, 0.5])
    path.write_text(
        "x,group,label\n" + "".join(f"{a},{g},c{b}\n" for a, g, b in zip(x, group, y, strict=True))
    )
    return path


def _cli_stderr(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Run the console entry point as a user would; warnings print as one line on stderr."""
    with warnings.catch_warnings():  # restores showwarning, which run_cli replaces
        warnings.simplefilter("always", DataChangeWarning)
        code = run_cli(cli, argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _audit_argv(csv: Path, out: Path, *extra: str) -> list[str]:
    return ["audit", "--dataset", str(csv), "--target", "label", "--sensitive", "group"] + [
        "--model",
        "logreg",
        "--n-boot",
        "20",
        "--out",
        str(out),
        "--quiet",
        *extra,
    ]


def test_missing_sensitive_values_are_announced_and_recorded(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = _csv(tmp_path / "people.csv", nan_groups=40)
    out = tmp_path / "out"
    code, stdout, stderr = _cli_stderr(_audit_argv(csv, out, "--positive-label", "c1"), capsys)
    assert code == 0, stderr
    expected = (
        "people.csv: 40 row(s) have no value in sensitive column 'group'; they are audited as "
        "their own group 'missing'"
    )
    assert f"Warning: {expected}" in stderr.splitlines()
    doc = json.loads((out / "result.json").read_text())
    assert expected in doc["dataset"]["load_report"]["changes"]
    groups = [g["group"] for g in doc["metrics"]["attributes"][0]["groups"]]
    assert "missing" in groups
    assert str(escape(expected)) in (out / "report.html").read_text()
    assert "changes to the data  1" in stdout


def test_one_vs_rest_is_announced_and_recorded(tmp_path: Path) -> None:
    csv = _csv(tmp_path / "people.csv", classes=3)
    spec = AuditSpec(
        dataset=str(csv),
        target="label",
        sensitive=("group",),
        positive_label="c2",
        model="logreg",
        n_boot=20,
    )
    with pytest.warns(DataChangeWarning, match=r"audited one-vs-rest: 'c2' \(\d+ rows\)") as rec:
        doc = run_audit(spec, out_dir=tmp_path / "out", progress=False)
    message = str(rec[0].message)
    assert message.startswith("people.csv: target 'label' has 3 values ('c0', 'c1', 'c2')")
    assert doc["dataset"]["classes"] == ["not c2", "c2"]
    assert message in doc["dataset"]["load_report"]["changes"]
    assert (
        "target values other than 'c2' merged into 'not c2'"
        in (doc["dataset"]["load_report"]["recoded"])
    )
    assert str(escape(message)) in (tmp_path / "out" / "report.html").read_text()


def test_rows_dropped_by_allow_missing_are_announced_and_recorded(data_root: Path) -> None:
    from fairsuite.data import load_dataset

    with pytest.warns(DataChangeWarning) as rec:
        ds = load_dataset("fairface", data_dir=data_root, allow_missing=True)
    message = str(rec[0].message)
    n = ds.report.dropped["image missing on disk"]
    assert n > 80_000
    assert message.startswith(f"fairface: dropped {n:,} of {ds.report.rows_read:,} rows")
    assert "(--allow-missing): image missing on disk" in message
    first = ds.report.examples["image missing on disk"][:3]
    assert f"(first: {', '.join(first)})" in message
    assert ds.report.changes == (message,)
    # the record travels into the result document and the report
    from fairsuite.experiments._run import Loaded, dataset_record

    loaded = Loaded(ds, ("race",), (), {"status": "ok", "checked": [], "mismatches": []})
    record = json.loads(json.dumps(dataset_record(loaded, ds).to_dict()))
    assert record["load_report"]["changes"] == [message]


def test_undecodable_images_dropped_with_allow_missing_are_announced(tmp_path: Path) -> None:
    from tests.experiments.test_preflight_and_reruns import _write_utkface

    root = _write_utkface(tmp_path / "data", corrupt=3)
    spec = AuditSpec(
        dataset="utkface",
        data_dir=str(root),
        allow_missing=True,
        image_size=16,
        epochs=1,
        n_boot=0,
        min_group_size=1,
    )
    dropped = r"utkface: dropped 3 of 120 rows \(--allow-missing\)"
    with pytest.warns(DataChangeWarning, match=dropped):
        doc = run_audit(spec, out_dir=tmp_path / "out", progress=False)
    report = doc["dataset"]["load_report"]
    assert report["dropped"]["image cannot be decoded"] == 3
    assert report["rows_kept"] == 117 and len(report["changes"]) == 1
    assert doc["metrics"]["n"] + doc["dataset"]["composition"]["splits"]["train"] == 117


# --------------------------------------------------------------------------- the target
@pytest.fixture(scope="module")
def synth_doc(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The default synthfaces audit (task gender, audited by skin tone and gender), tiny."""
    spec = AuditSpec(epochs=1, image_size=16, max_train_rows=800)
    return run_audit(spec, out_dir=tmp_path_factory.mktemp("synth") / "out", progress=False)


def _attr(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return next(a for a in doc["metrics"]["attributes"] if a["name"] == name)


def test_synthfaces_gender_is_the_target(synth_doc: dict[str, Any]) -> None:
    assert synth_doc["dataset"]["target_attributes"] == ["gender"]
    gender = _attr(synth_doc, "gender")
    assert gender["target_related"] is True
    assert set(gender["disparities"]) <= {"accuracy", "error_rate"}
    dp = gender["summary"]["demographic_parity_difference"]
    assert dp["value"] is None and dp["reason"] == TARGET_REASON
    inter = _attr(synth_doc, "skin_tone x gender")
    assert inter["target_related"] is True
    # Gender Shades' question stays answerable: accuracy per skin tone x gender
    assert all(g["metrics"]["accuracy"]["value"] is not None for g in inter["groups"])
    skin = _attr(synth_doc, "skin_tone")
    assert not skin.get("target_related") and "fpr" in skin["disparities"]


def test_summary_and_report_say_not_meaningful(synth_doc: dict[str, Any]) -> None:
    text = format_audit_summary(synth_doc)
    assert TARGET_REASON in text
    assert not re.search(r"^\s+(fpr|fnr)\s+gender", text, flags=re.M)
    assert not re.search(r"^\s+(fpr|fnr)\s+skin_tone x gender", text, flags=re.M)
    ctx = build_context(synth_doc)
    tables = {t["name"]: t for t in ctx["metrics"]["all_tables"]}
    for name in ("gender", "skin_tone x gender"):
        t = tables[name]
        assert {d["metric"] for d in t["disparities"]} <= {"accuracy", "error_rate"}
        assert t["summary"] == [] and TARGET_REASON in t["target_note"]
        assert [c[0] for c in t["columns"]] == ["accuracy", "error_rate"]
    assert "fpr" in {d["metric"] for d in tables["skin_tone"]["disparities"]}
    page = render_html(synth_doc)
    assert TARGET_REASON in page
    section = page[page.index('id="disparities"') :]
    gender_part = section[section.index("<h3>gender</h3>") : section.index("<h3>skin_tone x")]
    assert "Demographic parity difference</th>" not in gender_part
    assert "Base rate</th>" not in gender_part and "FPR</th>" not in gender_part


def test_csv_target_that_is_also_sensitive(tmp_path: Path) -> None:
    from fairsuite.data import load_csv

    rng = np.random.default_rng(0)
    n = 200
    y = np.where(rng.random(n) < 0.5, "yes", "no")
    derived = np.where(y == "yes", "Y", "N")  # a function of the target
    other = np.where(rng.random(n) < 0.5, "p", "q")
    csv = tmp_path / "t.csv"
    csv.write_text(
        "x,hired,derived,other\n"
        + "".join(
            f"{i},{a},{b},{c}\n" for i, (a, b, c) in enumerate(zip(y, derived, other, strict=True))
        )
    )
    ds = load_csv(csv, target="hired", sensitive=["hired", "derived", "other"])
    assert target_attributes(ds, ("hired", "derived", "other")) == ("hired", "derived")


# --------------------------------------------------------------------------- texts
def _metrics(acc: float, low: float, high: float, rate: float) -> dict[str, Any]:
    return {
        "overall": {"accuracy": {"value": acc, "ci_low": low, "ci_high": high}},
        "majority_baseline": {"class": "no", "rate": rate, "n": 100},
    }


def test_majority_class_warning() -> None:
    warn = baseline_warning(_metrics(0.52, 0.45, 0.59, 0.5))
    assert warn is not None and warn.startswith("no better than always predicting no (50.0%")
    assert baseline_warning(_metrics(0.9, 0.85, 0.94, 0.5)) is None
    assert baseline_warning(_metrics(0.6, 0.55, 0.65, 0.7)) is not None  # below it


def test_majority_class_warning_end_to_end(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    n = 600
    csv = tmp_path / "noise.csv"
    group = np.where(rng.random(n) < 0.5, "a", "b")
    label = np.where(rng.random(n) < 0.7, "no", "yes")  # independent of x: nothing to learn
    csv.write_text(
        "x,group,label\n"
        + "".join(
            f"{v},{g},{b}\n" for v, g, b in zip(rng.normal(size=n), group, label, strict=True)
        )
    )
    spec = AuditSpec(
        dataset=str(csv), target="label", sensitive=("group",), model="logreg", n_boot=50
    )
    doc = run_audit(spec, out_dir=tmp_path / "out", progress=False)
    assert doc["metrics"]["majority_baseline"]["class"] == "no"
    assert "WARNING            no better than always predicting no" in format_audit_summary(doc)
    assert "no better than always predicting no" in (tmp_path / "out" / "report.html").read_text()


def test_interval_text_new_and_old_documents() -> None:
    new = {"ci": 0.9, "interval_method": "Wilson score intervals for rates", "n_boot": 0}
    assert interval_text(new) == "90% intervals: Wilson score intervals for rates"
    assert interval_text({"ci": 0.95, "n_boot": 1000}) == (
        "95% bootstrap intervals, 1000 replicates"
    )


def test_report_methods_text_lists_exactly_what_was_audited(data_root: Path) -> None:
    spec = AuditSpec(dataset="compas", model="logreg", sensitive=("race",), n_boot=20)
    doc = run_audit(spec.replace(data_dir=str(data_root)), progress=False)
    assert "age_cat" in doc["dataset"]["sensitive"] or len(doc["dataset"]["sensitive"]) > 1
    page = render_html(doc)
    methods = re.search(r"Audited by ([^.]*)\.", page)
    assert methods is not None and methods.group(1) == "race"
    if doc["metrics"].get("interval_method"):
        assert str(escape(doc["metrics"]["interval_method"])) in page


def test_headline_table_labels_say_error_rate(synth_doc: dict[str, Any]) -> None:
    page = render_html(synth_doc)
    assert "Accuracy gaps by attribute" not in page
    assert "Error-rate gaps by attribute" in page and "Error-rate ratio" in page
