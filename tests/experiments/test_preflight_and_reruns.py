"""Reruns replace outputs, every check that needs no training runs before it, outputs honour
the umask, and --debug works on every subcommand (issue 8)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from fairsuite._io import atomic_write_text
from fairsuite.cli import cli
from fairsuite.exceptions import ExitCode


def _write_csv(path: Path, n: int = 400, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    group = np.where(rng.random(n) < 0.5, "a", "b")
    x = rng.normal(size=n)
    y = (x + rng.normal(scale=0.5, size=n) > 0).astype(int)
    path.write_text(
        "x,group,label\n" + "".join(f"{a},{g},{b}\n" for a, g, b in zip(x, group, y, strict=True))
    )
    return path


def _audit_args(csv: Path, out: Path, *extra: str) -> list[str]:
    return [
        "audit",
        "--dataset",
        str(csv),
        "--target",
        "label",
        "--sensitive",
        "group",
        "--model",
        "logreg",
        "--n-boot",
        "20",
        "--out",
        str(out),
        "--quiet",
        *extra,
    ]


@pytest.fixture
def no_training(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Make any call of fairsuite.train.fit fail the test (and record it)."""
    import fairsuite.train

    calls: list[object] = []

    def fit(*args: object, **kwargs: object) -> None:
        calls.append(args)
        raise AssertionError("fit was called")

    monkeypatch.setattr(fairsuite.train, "fit", fit)
    return calls


def test_audit_twice_into_the_same_out_exits_0_and_replaces(tmp_path: Path) -> None:
    csv = _write_csv(tmp_path / "people.csv")
    out = tmp_path / "out"
    runner = CliRunner()
    first = runner.invoke(cli, _audit_args(csv, out), catch_exceptions=False)
    assert first.exit_code == 0, first.stderr
    doc = json.loads((out / "result.json").read_text())
    (out / "result.json").write_text(json.dumps({**doc, "marker": 1}))  # the rerun rewrites it
    (out / "model" / "stale.txt").write_text("from an earlier run")
    second = runner.invoke(cli, _audit_args(csv, out), catch_exceptions=False)
    assert second.exit_code == 0, second.stderr
    assert "marker" not in json.loads((out / "result.json").read_text())
    assert (out / "model" / "config.json").is_file()
    assert not (out / "model" / "stale.txt").exists()  # the model folder was swapped whole
    assert sorted(p.name for p in out.iterdir()) == [
        "model", "predictions.parquet", "report.html", "result.json"
    ]


def test_force_replaces_another_configuration(tmp_path: Path) -> None:
    csv = _write_csv(tmp_path / "people.csv")
    out = tmp_path / "out"
    runner = CliRunner()
    assert runner.invoke(cli, _audit_args(csv, out), catch_exceptions=False).exit_code == 0
    old = json.loads((out / "result.json").read_text())["config_hash"]
    refused = runner.invoke(cli, _audit_args(csv, out, "--seed", "1"))
    assert refused.exit_code == ExitCode.DATA and "--force" in refused.stderr
    forced = runner.invoke(cli, _audit_args(csv, out, "--seed", "1", "--force"))
    assert forced.exit_code == 0, forced.stderr
    assert json.loads((out / "result.json").read_text())["config_hash"] != old


def test_compare_twice_into_the_same_out_exits_0(tmp_path: Path) -> None:
    a = _write_csv(tmp_path / "a.csv", seed=1)
    b = _write_csv(tmp_path / "b.csv", seed=2)
    out = tmp_path / "cmp"
    args = ["compare", str(a), str(b), "--target", "label", "--sensitive", "group"]
    args += ["--model", "logreg", "--n-boot", "20", "--out", str(out), "--quiet"]
    runner = CliRunner()
    for _ in range(2):
        result = runner.invoke(cli, args, catch_exceptions=False)
        assert result.exit_code == 0, result.stderr
    assert json.loads((out / "result.json").read_text())["kind"] == "compare"


def test_unwritable_out_exits_3_before_training(tmp_path: Path, no_training: list[object]) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    out = blocker / "run"  # cannot be created, whoever runs the test (root included)
    result = CliRunner().invoke(cli, ["audit", "--out", str(out), "--quiet"])
    assert result.exit_code == ExitCode.DATA, result.output
    assert no_training == []
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: cannot write the results to ")
    assert str(out) in lines[0] and "is a file" in lines[0]


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_out_exits_3_before_training(tmp_path: Path, no_training: list[object]) -> None:
    csv = _write_csv(tmp_path / "people.csv")
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        result = CliRunner().invoke(cli, _audit_args(csv, locked / "run"))
    finally:
        locked.chmod(0o700)
    assert result.exit_code == ExitCode.DATA and no_training == []
    assert str(locked / "run") in result.stderr


def test_nothing_to_evaluate_exits_5_before_training(
    tmp_path: Path, no_training: list[object]
) -> None:
    csv = _write_csv(tmp_path / "people.csv")
    result = CliRunner().invoke(
        cli, _audit_args(csv, tmp_path / "out", "--min-group-size", "10000")
    )
    assert result.exit_code == ExitCode.NOTHING_EVALUATED, result.output
    assert no_training == [] and "nothing was trained" in result.stderr


def _write_utkface(root: Path, n: int = 120, corrupt: int = 0) -> Path:
    from PIL import Image

    folder = root / "utkface" / "UTKFace"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    names = []
    for i in range(n):
        name = f"{20 + i % 40}_{i % 2}_{i % 5}_2017011617452{i:04d}.jpg.chip.jpg"
        img = Image.fromarray(rng.integers(0, 255, size=(12, 12, 3), dtype=np.uint8))
        img.save(folder / name, format="JPEG")
        names.append(name)
    for name in names[:corrupt]:  # right signature and end marker, garbage in between
        data = (folder / name).read_bytes()
        (folder / name).write_bytes(data[:4] + b"\x00" * 200 + data[-2:])
    return root


def test_undecodable_images_exit_3_before_training(
    tmp_path: Path, no_training: list[object]
) -> None:
    root = _write_utkface(tmp_path / "data", corrupt=2)
    result = CliRunner().invoke(
        cli,
        ["audit", "--dataset", "utkface", "--data-dir", str(root), "--image-size", "16"]
        + ["--min-group-size", "1"]
        + ["--out", str(tmp_path / "out"), "--quiet"],
    )
    assert result.exit_code == ExitCode.DATA, result.output
    assert no_training == []
    assert "2 of 120 images cannot be decoded" in result.stderr
    assert "--allow-missing" in result.stderr


def test_atomic_writes_honour_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        written = atomic_write_text(tmp_path / "x.txt", "hello")
        with open(tmp_path / "plain.txt", "w") as fh:
            fh.write("hello")
    finally:
        os.umask(old)
    mode = stat.S_IMODE(written.stat().st_mode)
    assert mode == 0o640 == stat.S_IMODE((tmp_path / "plain.txt").stat().st_mode)


def test_audit_outputs_honour_the_umask(tmp_path: Path) -> None:
    csv = _write_csv(tmp_path / "people.csv")
    out = tmp_path / "out"
    old = os.umask(0o022)
    try:
        result = CliRunner().invoke(cli, _audit_args(csv, out), catch_exceptions=False)
    finally:
        os.umask(old)
    assert result.exit_code == 0, result.stderr
    for name in ("result.json", "report.html", "model/config.json"):
        assert stat.S_IMODE((out / name).stat().st_mode) == 0o644, name
    assert stat.S_IMODE((out / "model").stat().st_mode) == 0o755


def test_debug_is_accepted_after_every_subcommand(tmp_path: Path) -> None:
    from fairsuite.cli._common import add_debug_option

    def walk(cmd, path=()):  # noqa: ANN001, ANN202
        yield path, cmd
        for name, sub in getattr(cmd, "commands", {}).items():
            yield from walk(sub, (*path, name))

    add_debug_option(cli)
    for path, cmd in walk(cli):
        assert any("--debug" in p.opts for p in cmd.params if hasattr(p, "opts")), path
    missing = tmp_path / "nope.csv"
    args = ["audit", "--dataset", str(missing), "--target", "y", "--sensitive", "g", "--debug"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == ExitCode.DATA
    assert "Traceback" in result.stderr and "does not exist" in result.stderr
    quiet = CliRunner().invoke(cli, args[:-1])
    assert "Traceback" not in quiet.stderr
