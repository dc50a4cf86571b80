"""`fairsuite compare`: N x N cross-dataset evaluation on the real UTKFace and FairFace files."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from fairsuite.cli import cli
from fairsuite.exceptions import ExitCode, InvalidInputError
from fairsuite.experiments import AuditSpec, run_compare
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
