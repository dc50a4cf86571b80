"""The CI gate: policies, verdicts on interval bounds, NaN/insufficient/inconclusive, regressions,
exit codes, JUnit files, GitHub annotations and assert_fair -- on real runs."""

from __future__ import annotations

import copy
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from fairsuite.cli import cli
from fairsuite.exceptions import ExitCode, GateConfigError, InvalidInputError
from fairsuite.gate import check, junit_xml, load_policy, policy_from_dict
from fairsuite.testing import FairnessAssertionError, assert_fair

ROOT = Path(__file__).resolve().parents[2]
AUDITS = ROOT / "audits"


# --------------------------------------------------------------------------- fixtures
def _predictions(path: Path, *, seed: int = 0, n: int = 4000, small: int = 12) -> Path:
    """Predictions of a model on two big groups (A, B) and one tiny one (C): a known FNR gap."""
    rng = np.random.default_rng(seed)
    group = np.array(["A"] * (n // 2) + ["B"] * (n // 2 - small) + ["C"] * small)
    y = rng.integers(0, 2, size=n)
    miss = np.where(group == "B", 0.30, 0.10)  # B's positives are missed 3x as often
    flip_pos = (y == 1) & (rng.random(n) < miss)
    flip_neg = (y == 0) & (rng.random(n) < 0.10)
    pred = np.where(flip_pos | flip_neg, 1 - y, y)
    pd.DataFrame({"y_true": y, "y_pred": pred, "group": group}).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def preds_doc(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A real `fairsuite evaluate` result (schema 2) on known predictions."""
    tmp = tmp_path_factory.mktemp("preds")
    csv = _predictions(tmp / "preds.csv")
    result = CliRunner().invoke(
        cli,
        [
            "evaluate",
            str(csv),
            "--sensitive",
            "group",
            "--n-boot",
            "0",
            "--out",
            str(tmp / "run"),
            "--json",
            "--quiet",
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def _policy(**kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"name": "t", "checks": [{"difference": "fnr", "max": 0.1}]}
    base.update(kw)
    return base


def _rows(gate: Any, kind: str | None = None) -> list[Any]:
    return [c for c in gate.checks if kind is None or c.kind == kind]


# --------------------------------------------------------------------------- policies
def test_shipped_policies_are_valid() -> None:
    names = sorted(p.name for p in AUDITS.glob("policy-*.yaml"))
    assert {"policy-default.yaml", "policy-faces.yaml", "policy-regressions.yaml"} <= set(names)
    for name in names:
        policy = load_policy(AUDITS / name)
        assert policy.checks or policy.regressions
        # every threshold is documented next to it
        text = (AUDITS / name).read_text()
        assert text.count("#") >= 5, f"{name}: thresholds must be documented and justified"


def test_unknown_keys_and_bad_values_are_all_reported() -> None:
    bad = {
        "name": "x",
        "compare": "median",
        "on_inconclusive": "ignore",
        "treshold": 0.1,
        "checks": [
            {"difference": "fpr", "max": 0.1, "maximum": 0.2},
            {"difference": "speed", "max": 0.1},
            {"group": "accuracy"},
            {"ratio": "selection_rate", "min": "high"},
        ],
    }
    with pytest.raises(GateConfigError) as info:
        policy_from_dict(bad, source="p.yaml")
    msg = str(info.value)
    assert msg.startswith("invalid gate policy p.yaml (7 problems):")
    assert "policy: unknown key 'treshold'; allowed keys: name, description, compare" in msg
    assert "policy: compare must be bound or estimate; got 'median'" in msg
    assert "policy: on_inconclusive must be fail or warn; got 'ignore'" in msg
    assert "checks[0]: unknown key 'maximum'" in msg
    assert "checks[1]: difference must be one of accuracy, error_rate" in msg
    assert "checks[2]: needs exactly one of min or max; got none" in msg
    assert "checks[3]: max must be a finite number; got 'high'" not in msg
    assert "checks[3]: min must be a finite number; got 'high'" in msg
    assert info.value.exit_code == ExitCode.DATA


def test_invalid_policy_exits_3_with_junit_error(preds_doc: dict[str, Any], tmp_path: Path) -> None:
    result_file = tmp_path / "result.json"
    result_file.write_text(json.dumps(preds_doc))
    policy = tmp_path / "p.yaml"
    policy.write_text("checks:\n  - difference: fnr\n    max: 0.1\n    colour: red\n")
    junit = tmp_path / "gate.xml"
    r = CliRunner().invoke(
        cli, ["gate", str(result_file), "--policy", str(policy), "--junit", str(junit)]
    )
    assert r.exit_code == ExitCode.DATA == 3
    assert "checks[0]: unknown key 'colour'" in r.stderr
    assert r.stdout == ""
    suite = ET.parse(junit).getroot()
    assert suite.get("errors") == "1" and suite.get("failures") == "0"
    # a missing policy file and a result that is not one are input errors too (3)
    r = CliRunner().invoke(cli, ["gate", str(result_file), "--policy", str(tmp_path / "no.yaml")])
    assert r.exit_code == 3 and "gate policy not found" in r.stderr
    not_result = tmp_path / "x.json"
    not_result.write_text('{"kind": "banana"}')
    r = CliRunner().invoke(
        cli, ["gate", str(not_result), "--policy", str(AUDITS / "policy-default.yaml")]
    )
    assert r.exit_code == 3 and "is not a fairsuite result document" in r.stderr


def test_audit_checks_the_policy_before_training(tmp_path: Path) -> None:
    policy = tmp_path / "p.yaml"
    policy.write_text("checks: []\nextra: 1\n")
    r = CliRunner().invoke(cli, ["audit", "--policy", str(policy), "--out", str(tmp_path / "o")])
    assert r.exit_code == 3
    assert "unknown key 'extra'" in r.stderr
    assert not (tmp_path / "o").exists()  # nothing trained, nothing written


# --------------------------------------------------------------------------- verdicts
def test_known_gap_fails_on_its_lower_bound(preds_doc: dict[str, Any]) -> None:
    gate = check(preds_doc, _policy())
    (row,) = [c for c in _rows(gate, "difference") if c.attribute == "group"]
    assert row.value == pytest.approx(
        preds_doc["metrics"]["attributes"][0]["disparities"]["fnr"]["difference"]["value"]
    )  # the result's own value and interval, not recomputed
    assert row.ci_low > 0.1 and row.status == "fail" and row.outcome == "fail"
    assert "lower bound" in row.reason and gate.verdict == "fail" and gate.exit_code == 1


def test_insufficient_group_never_passes_unless_the_policy_says_so(
    preds_doc: dict[str, Any],
) -> None:
    policy = _policy(checks=[{"difference": "fnr", "max": 0.5}])  # the gap itself passes
    gate = check(preds_doc, policy)
    size = _rows(gate, "group_size")
    assert [(c.group, c.status, c.outcome) for c in size] == [("C", "insufficient", "fail")]
    assert gate.verdict == "fail"
    warned = check(preds_doc, {**policy, "on_insufficient": "warn"})
    assert [c.outcome for c in _rows(warned, "group_size")] == ["warn"]
    assert warned.verdict == "pass" and len(warned.warnings) == 1
    # a per-group check does not pass the small group either
    per_group = check(preds_doc, _policy(checks=[{"group": "accuracy", "min": 0.0}]))
    assert "C" not in [c.group for c in _rows(per_group, "group")]
    assert per_group.verdict == "fail"
    # the policy may ask for more rows than the result did: then more groups are insufficient
    strict = check(preds_doc, {**policy, "min_group_size": 5000})
    assert {c.group for c in _rows(strict, "group_size")} == {"A", "B", "C"}


def test_nan_and_missing_values_never_pass(preds_doc: dict[str, Any]) -> None:
    doc = copy.deepcopy(preds_doc)
    diff = doc["metrics"]["attributes"][0]["disparities"]["fnr"]["difference"]
    diff.update(value=None, ci_low=None, ci_high=None, reason="made undefined")
    for compare in ("bound", "estimate"):
        gate = check(doc, _policy(compare=compare, on_insufficient="warn"))
        (row,) = _rows(gate, "difference")
        assert (row.status, row.outcome) == ("missing", "fail")
        assert "made undefined" in row.reason and "never passes" in row.reason
        assert gate.verdict == "fail"
    absent = check(
        preds_doc, _policy(checks=[{"difference": "fnr", "max": 1, "attributes": ["race"]}])
    )
    assert absent.verdict == "fail" and _rows(absent, "difference")[0].status == "missing"


def test_inconclusive_is_reported_as_such(preds_doc: dict[str, Any]) -> None:
    row = next(c for c in check(preds_doc, _policy()).checks if c.kind == "difference")
    mid = (row.ci_low + row.ci_high) / 2  # a limit inside the interval
    policy = _policy(checks=[{"difference": "fnr", "max": round(mid, 4)}], on_insufficient="warn")
    gate = check(preds_doc, policy)
    (row,) = _rows(gate, "difference")
    assert row.status == "inconclusive" and row.outcome == "fail" and gate.verdict == "fail"
    assert "straddles" in row.reason
    warned = check(preds_doc, {**policy, "on_inconclusive": "warn"})
    assert _rows(warned, "difference")[0].status == "inconclusive"
    assert warned.verdict == "pass"
    # on the point estimate instead, the same limit decides without an inconclusive band
    est = check(preds_doc, {**policy, "compare": "estimate"})
    assert _rows(est, "difference")[0].status in ("pass", "fail")


def test_target_attribute_is_not_applicable_and_nothing_measured_fails(
    tmp_path: Path,
) -> None:
    csv = tmp_path / "p.csv"
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 600)
    pd.DataFrame({"y_true": y, "y_pred": y, "sex": np.where(y == 1, "F", "M")}).to_csv(csv)
    from fairsuite.experiments import evaluate

    record = evaluate(
        csv,
        y_true="y_true",
        y_pred="y_pred",
        sensitive=["sex"],
        target_attributes=["sex"],
        n_boot=0,
    )
    gate = check(record, _policy(checks=[{"difference": "fpr", "max": 0.1}]))
    na = [c for c in gate.checks if c.status == "not_applicable"]
    assert na and "not meaningful: this attribute is the target" in na[0].reason
    assert na[0].outcome == "skip"
    assert gate.verdict == "fail"  # nothing was measured: never a silent pass
    assert gate.checks[-1].reason.startswith("no check of the policy could be evaluated")
    ok = check(
        record,
        _policy(checks=[{"difference": "fpr", "max": 0.1}, {"difference": "accuracy", "max": 0.1}]),
    )
    assert ok.verdict == "pass"  # accuracy stays meaningful across the target's groups


# --------------------------------------------------------------------------- CLI, JUnit, GH
def test_gate_cli_exit_codes_match_junit(
    preds_doc: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result_file = tmp_path / "result.json"
    result_file.write_text(json.dumps(preds_doc))
    failing, passing = tmp_path / "fail.yaml", tmp_path / "pass.yaml"
    failing.write_text(yaml.safe_dump(_policy()))
    passing.write_text(
        yaml.safe_dump(
            _policy(checks=[{"difference": "accuracy", "max": 0.5}], on_insufficient="warn")
        )
    )
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    for policy, code in ((failing, 1), (passing, 0)):
        junit = tmp_path / f"{policy.stem}.xml"
        r = CliRunner().invoke(
            cli, ["gate", str(result_file), "--policy", str(policy), "--junit", str(junit)]
        )
        assert r.exit_code == code, r.stderr
        root = ET.parse(junit).getroot()
        failures = int(root.get("failures"))
        assert (failures > 0) == (code == 1)
        cases = root.findall(".//testcase")
        assert len(cases) == int(root.get("tests")) == len(r.stdout.splitlines()) - 4
        assert r.stdout.splitlines()[-1].startswith(f"gate {'FAIL' if code else 'PASS'}:")
        errors = [ln for ln in r.stderr.splitlines() if ln.startswith("::error ")]
        assert len(errors) == failures  # one annotation per failed check, on stderr
        assert "::warning " in r.stderr if code == 0 else True
    r = CliRunner().invoke(cli, ["gate", str(tmp_path), "--policy", str(failing), "--json"])
    assert r.exit_code == 1
    doc = json.loads(r.stdout)  # exactly one JSON document
    assert doc["verdict"] == "fail" and doc["counts"]["fail"] >= 1


def test_junit_escapes_hostile_text() -> None:
    gate = {
        "verdict": "fail",
        "policy": "p<&>",
        "checks": [
            {
                "check": "fnr <= 0.1",
                "attribute": "g",
                "group": "<script>\x01\"'",
                "outcome": "fail",
                "status": "fail",
                "reason": "a & b",
                "value": 0.2,
                "op": "<=",
                "threshold": 0.1,
            }
        ],
    }
    root = ET.fromstring(junit_xml(gate))
    case = root.find(".//testcase")
    assert case is not None and "<script>" in case.get("name")
    assert case.find("failure").get("message") == "FAIL: a & b"


def test_assert_fair_lists_failed_checks_as_a_table(preds_doc: dict[str, Any]) -> None:
    with pytest.raises(FairnessAssertionError) as info:
        assert_fair(preds_doc, _policy())
    msg = str(info.value)
    assert isinstance(info.value, AssertionError)
    assert msg.splitlines()[0].startswith("fairness gate 't' failed: 2 of ")
    header = msg.splitlines()[1]
    assert re.match(r"check\s+where\s+value\s+interval\s+n\s+limit\s+status\s+reason", header)
    assert "fnr difference <= 0.1  group = B vs A" in msg
    assert "group size >= 30" in msg and "group = C" in msg
    assert assert_fair(
        preds_doc, _policy(checks=[{"difference": "fnr", "max": 0.9}], on_insufficient="warn")
    ).passed


def test_evaluate_with_policy_records_the_verdict(tmp_path: Path) -> None:
    """Users gate their own models: evaluate --policy writes the verdict and exits 1."""
    csv = _predictions(tmp_path / "mine.csv", seed=3)
    policy = tmp_path / "p.yaml"
    policy.write_text(yaml.safe_dump(_policy()))
    out = tmp_path / "run"
    junit = tmp_path / "j.xml"
    r = CliRunner().invoke(
        cli,
        [
            "evaluate",
            str(csv),
            "--sensitive",
            "group",
            "--n-boot",
            "0",
            "--out",
            str(out),
            "--policy",
            str(policy),
            "--junit",
            str(junit),
            "--quiet",
        ],
    )
    assert r.exit_code == 1, r.stderr
    document = json.loads((out / "result.json").read_text())
    assert document["gate"]["verdict"] == "fail"
    assert "gate FAIL:" in r.stdout
    html = (out / "report.html").read_text()
    assert html.index('id="gate-failed"') < html.index('class="headline"')
    # the same verdict again from the written result
    again = check(out, policy)
    assert again.to_dict()["checks"] == document["gate"]["checks"]
    assert ET.parse(junit).getroot().get("failures") == str(document["gate"]["counts"]["fail"])


# --------------------------------------------------------------------------- real runs
def _compas(tmp: Path, data_root: Path, name: str, *extra: str) -> Path:
    out = tmp / name
    r = CliRunner().invoke(
        cli,
        [
            "audit",
            "audits/compas-recidivism.yaml",
            "--data-dir",
            str(data_root),
            "--n-boot",
            "0",
            "--out",
            str(out),
            "--quiet",
            *extra,
        ],
        catch_exceptions=False,
    )
    assert r.exit_code == 0, r.stderr
    return out


def test_regression_against_a_real_baseline(
    data_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """COMPAS logistic regression trained on all rows (baseline), then on 300 rows: the
    regression policy fails when a gap grew by more than allowed, and names it."""
    monkeypatch.chdir(ROOT)
    base = _compas(tmp_path, data_root, "full")
    new = _compas(tmp_path, data_root, "small", "--max-train-rows", "300", "--seed", "0")
    policy = AUDITS / "policy-regressions.yaml"
    gate = check(new, policy, baseline=base)
    reg = [c for c in gate.checks if c.baseline is not None and c.status in ("pass", "fail")]
    assert reg, [c.line() for c in gate.checks]
    grew = [c for c in reg if c.status == "fail"]
    assert grew, "expected a gap to grow by more than allowed with 300 training rows"
    for c in grew:
        assert c.value > c.threshold  # the change (new minus baseline) exceeds the allowance
        assert c.compared == "estimate" and "->" in c.reason
    assert gate.verdict == "fail"
    # against itself nothing regressed
    same = check(base, policy, baseline=base)
    assert all(c.status != "fail" for c in same.checks if c.baseline is not None)
    # CLI: exit 1, JUnit failures match
    junit = tmp_path / "reg.xml"
    r = CliRunner().invoke(
        cli,
        ["gate", str(new), "--policy", str(policy), "--baseline", str(base), "--junit", str(junit)],
    )
    assert r.exit_code == 1
    assert "baseline:" in r.stdout
    assert int(ET.parse(junit).getroot().get("failures")) == len(gate.failures)
    # a baseline of other data is refused (exit 3)
    other = tmp_path / "other.json"
    doc = json.loads((base / "result.json").read_text())
    doc["dataset"]["name"] = "adult"
    other.write_text(json.dumps(doc))
    with pytest.raises(InvalidInputError, match="is not comparable"):
        check(new, policy, baseline=other)
