"""Sweeps: the grid, nested sizes, the run store (resume after SIGKILL), executors, tidy results,
slopes and the report."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from fairsuite.cli import cli
from fairsuite.exceptions import SpecError
from fairsuite.experiments import RunSpec, SweepSpec, sweep, sweep_status
from fairsuite.experiments._run import load_stage, resolve, split_stage
from fairsuite.experiments._store import RunStore, run_key

ADULT = ["--dataset", "adult", "--model", "logreg", "--sensitive", "gender", "--n-boot", "0"]
GRID = ["--sizes", "500,1000,2000", "--balance", "natural,uniform,Female=0.5", "--seeds", "0,1"]


def _values(results: pd.DataFrame) -> pd.DataFrame:
    cols = ["run", "tested_on", "kind", "attribute", "group", "metric", "value", "ci_low",
            "ci_high", "n"]
    return results[cols].sort_values(cols[:6]).reset_index(drop=True)


def test_grid_and_nested_sizes(data_root: Path) -> None:
    base = RunSpec(dataset="adult", data_dir=str(data_root), model="logreg",
                   sensitive=("gender",), n_boot=0)
    spec = SweepSpec(base, sizes=(500, 2000), compositions=("natural", "Female=0.5"), seeds=(0, 1))
    grid = spec.grid()
    assert len(grid) == 8 and len({run_key(s) for s in grid}) == 8
    loaded = load_stage(grid[0])
    settings = resolve(grid[0], "tabular")
    rows = {}
    for s in grid:
        split = split_stage(loaded, s, settings)
        assert len(split.train) == s.train_size
        rows[(s.composition, s.seed, s.train_size)] = set(split.train["row_id"])
        females = (split.train["gender"] == "Female").mean()
        if s.composition == "Female=0.5":
            assert females == pytest.approx(0.5, abs=2 / s.train_size)
        # the test split is the same real one for every run
        assert len(split.test) == 16_281
    for comp in ("natural", "Female=0.5"):
        for seed in (0, 1):
            assert rows[(comp, seed, 500)] < rows[(comp, seed, 2000)]  # nested
    assert rows[("natural", 0, 2000)] != rows[("natural", 1, 2000)]


def test_bad_axes_are_spec_errors() -> None:
    base = RunSpec(dataset="adult")
    with pytest.raises(SpecError, match="'sizes' must be integers >= 10"):
        SweepSpec(base, sizes=(5,))
    with pytest.raises(SpecError, match="unknown key 'size'"):
        SweepSpec.from_dict({"size": [100]}, base)
    with pytest.raises(SpecError, match="got 'Nobody=2'"):
        SweepSpec(base, compositions=("Nobody=2",)).grid()


def _run_cli(out: Path, data_root: Path, *extra: str) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "fairsuite", "sweep", *ADULT, *GRID, "--data-dir",
           str(data_root), "--out", str(out), *extra]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_killed_sweep_resumes_and_matches_an_uninterrupted_one(
    data_root: Path, tmp_path: Path
) -> None:
    """18 runs (3 sizes x 3 compositions x 2 seeds); SIGKILL midway, then run again: only the
    missing runs are computed and the table equals an uninterrupted sweep's."""
    killed = tmp_path / "killed"
    proc = _run_cli(killed, data_root)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        done = len(list((killed / "runs").glob("*/record.json"))) if killed.exists() else 0
        if done >= 5 or proc.poll() is not None:
            break
        time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    done_before = len(list((killed / "runs").glob("*/record.json")))
    assert 0 < done_before < 18, done_before
    resumed = CliRunner().invoke(
        cli, ["sweep", *ADULT, *GRID, "--data-dir", str(data_root), "--out", str(killed), "--json"]
    )
    assert resumed.exit_code == 0, resumed.stderr
    doc = json.loads(resumed.stdout)
    assert doc["status"] == {"done": 18, "missing": 0, "failed": 0, "total": 18,
                             "failed_runs": {}, "stale": 0}
    assert f"{done_before} of 18 runs already in" in resumed.stderr
    assert f"computing the {18 - done_before} missing" in resumed.stderr
    status = CliRunner().invoke(
        cli, ["sweep", *ADULT, *GRID, "--data-dir", str(data_root), "--out", str(killed),
              "--status"]
    )
    assert status.exit_code == 0 and "18 done, 0 missing, 0 failed" in status.stdout
    clean = tmp_path / "clean"
    base = RunSpec(dataset="adult", data_dir=str(data_root), model="logreg",
                   sensitive=("gender",), n_boot=0)
    spec = SweepSpec(base, sizes=(500, 1000, 2000),
                     compositions=("natural", "uniform", "Female=0.5"), seeds=(0, 1))
    result = sweep(spec, clean, progress=False, report=False)
    pd.testing.assert_frame_equal(
        _values(result.results), _values(pd.read_parquet(killed / "results.parquet"))
    )
    slopes = pd.read_csv(killed / "slopes.csv")
    dp = slopes[(slopes.metric == "demographic_parity_difference")]
    assert "base_rate" not in set(slopes.metric)  # the test split's, the same in every run
    assert len(dp) == 3 and dp["runs"].eq(6).all()
    html = (killed / "report.html").read_text()
    assert "Slopes per decade of training size" in html and "<script>" not in html.lower()


def test_local_executor_matches_serial_and_failures_are_recorded(
    data_root: Path, tmp_path: Path
) -> None:
    base = RunSpec(dataset="adult", data_dir=str(data_root), model="logreg",
                   sensitive=("gender",), n_boot=0)
    # a composition no training set of 30,000 rows can fill: recorded as failed, not fatal
    spec = SweepSpec(base, sizes=(600, 30_000), compositions=("uniform",), seeds=(0,))
    serial = sweep(spec, tmp_path / "serial", progress=False, report=False)
    local = sweep(spec, tmp_path / "local", executor="local", jobs=2, progress=False,
                  report=False)
    assert serial.status["failed"] == local.status["failed"] == 1
    assert "gender = Female with label" in next(iter(serial.status["failed_runs"].values()))
    pd.testing.assert_frame_equal(_values(serial.results), _values(local.results))
    store = RunStore(tmp_path / "local")
    failed = [k for k in serial.status["failed_runs"]]
    assert store.error(failed[0]) is not None and store.load(failed[0]) is None


def test_test_on_scores_every_run_on_other_datasets(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    for name, shift in (("north", 0.0), ("south", 0.8)):
        n = 1500
        x = rng.normal(size=n)
        g = rng.choice(["a", "b"], n)
        y = (x + np.where(g == "b", shift, 0) + rng.normal(0, 0.7, n) > 0).astype(int)
        pd.DataFrame({"x": x, "g": g, "y": y}).to_csv(tmp_path / f"{name}.csv", index=False)
    base = RunSpec(dataset=str(tmp_path / "north.csv"), target="y", sensitive=("g",),
                   model="logreg", n_boot=0)
    spec = SweepSpec(base, sizes=(300, 1000), test_on=(str(tmp_path / "south.csv"),))
    result = sweep(spec, tmp_path / "sw", progress=False)
    tested = set(result.results["tested_on"])
    assert tested == {"north", "south"}
    south = result.results[(result.results.tested_on == "south")
                           & (result.results.kind == "overall")
                           & (result.results.metric == "accuracy")]
    assert len(south) == 2 and south["value"].between(0.5, 1).all()
    assert os.path.exists(tmp_path / "sw" / "report.html")


def test_executor_and_jobs_in_a_sweep_spec(tmp_path: Path) -> None:
    from fairsuite.experiments import load_sweep_spec

    path = tmp_path / "s.yaml"
    path.write_text(
        "dataset: adult\nsensitive: [gender]\nmodel: logreg\n"
        "sweep:\n  sizes: [500]\n  seeds: [0, 1]\n  executor: local\n  jobs: 2\n"
    )
    spec = load_sweep_spec(path)
    assert (spec.executor, spec.jobs, len(spec.grid())) == ("local", 2, 2)
    assert spec.to_dict()["executor"] == "local"
    with pytest.raises(SpecError, match="'executor' must be serial or local or ray"):
        SweepSpec(spec.base, executor="cluster")


def test_runs_of_an_older_pipeline_are_recomputed(data_root: Path, tmp_path: Path) -> None:
    """A run stored by an older pipeline revision (a fix changed what its spec produces) is
    stale: missing in the status, out of the table, recomputed by the next sweep."""
    from fairsuite.experiments._store import PIPELINE_REVISION

    base = RunSpec(dataset="adult", data_dir=str(data_root), model="logreg",
                   sensitive=("gender",), n_boot=0)
    spec = SweepSpec(base, sizes=(500, 1000), seeds=(0,))
    out = tmp_path / "store"
    first = sweep(spec, out, progress=False, report=False)
    store = RunStore(out)
    old, kept = (run_key(s) for s in spec.grid())
    assert store.revision(old) == PIPELINE_REVISION
    (store.folder(old) / "pipeline.json").unlink()  # as stored before revisions were recorded
    (store.folder(old) / "record.json").touch()  # its record stays readable and untouched
    status = store.status(spec.grid())
    assert (status.done, status.missing, status.stale) == ((kept,), (old,), (old,))
    counts = sweep_status(spec, out)
    assert (counts["done"], counts["missing"], counts["stale"]) == (1, 1, 1)
    lines: list[str] = []
    again = sweep(spec, out, progress=False, report=False, log=lines.append)
    assert again.computed == 1 and again.status["done"] == 2 and again.status["stale"] == 0
    assert any("1 stored run(s) were computed by an older fairsuite pipeline" in ln
               for ln in lines), lines
    pd.testing.assert_frame_equal(_values(first.results), _values(again.results))


def test_preflight_stops_a_bad_sweep_before_any_run(data_root: Path, tmp_path: Path) -> None:
    """A bad column or intervention is one error with its exit code before any run starts (not
    a failed run per grid point), and nothing is written."""
    args = ["sweep", "--dataset", "adult", "--data-dir", str(data_root), "--sizes", "500,1000"]
    bad_column = CliRunner().invoke(cli, [*args, "--sensitive", "nope", "--out",
                                          str(tmp_path / "a")])
    assert bad_column.exit_code == 3, bad_column.stderr
    assert "has no sensitive column 'nope'" in bad_column.stderr
    bad_intervention = CliRunner().invoke(cli, [*args, "--intervention", "augment", "--out",
                                                str(tmp_path / "b")])
    assert bad_intervention.exit_code == 2 and "augment" in bad_intervention.stderr
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()
