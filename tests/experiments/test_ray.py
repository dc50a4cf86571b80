"""The Ray executor: same results table as serial on a local 2-CPU Ray instance, application
errors recorded (not retried), a killed worker retried, and the install hint without Ray."""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from fairsuite.cli import cli
from fairsuite.experiments import RunSpec, SweepSpec, sweep

needs_ray = pytest.mark.skipif(
    importlib.util.find_spec("ray") is None,
    reason="ray is not installed (pip install 'fairsuite[ray]', or the 'test' extra)",
)


def _values(results: pd.DataFrame) -> pd.DataFrame:
    cols = ["run", "tested_on", "kind", "attribute", "group", "metric", "value", "ci_low",
            "ci_high", "n"]
    return results[cols].sort_values(cols[:6]).reset_index(drop=True)


@pytest.fixture(scope="module")
def ray_instance():
    """One local Ray instance with 2 CPUs for this module (the executor reuses a running
    instance and leaves it alone), quiet and light: no dashboard, no worker logs."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    os.environ.setdefault("RAY_ACCEL_ENV_VAR_OVERRIDE_ON_ZERO", "0")
    import ray

    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False,
             object_store_memory=200 * 1024**2, logging_level="WARNING")
    yield ray
    ray.shutdown()


@needs_ray
def test_ray_matches_serial_and_application_errors_are_recorded(
    ray_instance, data_root: Path, tmp_path: Path
) -> None:
    base = RunSpec(dataset="adult", data_dir=str(data_root), model="logreg",
                   sensitive=("gender",), n_boot=0)
    # 8,000 rows: enough for BLAS thread counts (2 here, 1 in a Ray task) to move lbfgs
    spec = SweepSpec(base, sizes=(500, 8000), compositions=("natural", "uniform"), seeds=(0,))
    serial = sweep(spec, tmp_path / "serial", progress=False, report=False)
    on_ray = sweep(spec, tmp_path / "ray", executor="ray", progress=False, report=False)
    assert on_ray.status["done"] == serial.status["done"] == 4
    pd.testing.assert_frame_equal(_values(serial.results), _values(on_ray.results))

    # a composition no training set of 30,000 rows can fill: an application error, recorded
    bad = SweepSpec(base, sizes=(30_000,), compositions=("uniform",), seeds=(0,))
    failed = sweep(bad, tmp_path / "bad", executor="ray", progress=False, report=False)
    assert failed.status["failed"] == 1 and failed.status["done"] == 0
    assert "gender = Female with label" in next(iter(failed.status["failed_runs"].values()))


@needs_ray
def test_application_errors_are_not_retried_and_lost_workers_are(
    ray_instance, tmp_path: Path
) -> None:
    from fairsuite.experiments._ray import RayExecutor

    calls = tmp_path / "calls"
    calls.mkdir()

    def task(item: str) -> str:  # nested: pickled by value into the workers
        import os
        import uuid
        from pathlib import Path

        (Path(item) / uuid.uuid4().hex).touch()
        if Path(item).name == "boom":
            raise ValueError("bad run")
        if Path(item).name == "die" and len(os.listdir(item)) == 1:
            os._exit(1)  # the worker process dies on the first attempt
        return Path(item).name

    for name in ("boom", "die", "ok"):
        (calls / name).mkdir()
    ex = RayExecutor(max_retries=2)
    out = {i: (res, err) for i, res, err in ex.map(task, [str(calls / n) for n in
                                                          ("boom", "die", "ok")])}
    assert isinstance(out[0][1], ValueError) and str(out[0][1]) == "bad run"
    assert len(os.listdir(calls / "boom")) == 1  # not retried
    assert out[1] == ("die", None) and len(os.listdir(calls / "die")) == 2  # retried once
    assert out[2] == ("ok", None)
    assert ray_instance.is_initialized()  # a running instance is left alone


def test_without_ray_the_cli_gives_the_install_hint(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` fails
    res = CliRunner().invoke(
        cli, ["sweep", "--dataset", "adult", "--sizes", "500", "--executor", "ray",
              "--out", str(tmp_path / "sw")]
    )
    assert res.exit_code == 2, res.output
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "pip install 'fairsuite[ray]'" in lines[0], res.stderr


def test_per_run_resources_need_the_ray_executor(tmp_path: Path) -> None:
    res = CliRunner().invoke(
        cli, ["sweep", "--dataset", "adult", "--sizes", "500", "--gpus-per-run", "0.25",
              "--out", str(tmp_path / "sw")]
    )
    assert res.exit_code == 2 and "need --executor ray" in res.stderr


# ----------------------------------------------------------------------------------------------
# the decoded-image cache shared by every run on a node
# ----------------------------------------------------------------------------------------------

_BUILD = """
import sys
import numpy as np
from fairsuite.data._image_cache import build_image_cache
paths = sys.argv[2:]
cache = build_image_cache(paths, image_size=24, cache_dir=sys.argv[1], n_jobs=1, progress=False)
arr = np.asarray(cache.array)
print(int(cache.built), int(arr.astype(np.int64).sum()), int(cache.ok.sum()))
"""


def test_two_processes_building_one_image_cache_and_a_later_run_reuses_it(
    data_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import subprocess

    import numpy as np

    from fairsuite.data import _image_cache

    faces = sorted((data_root / "fairface").rglob("*.jpg"))[:300]
    if len(faces) < 300:
        pytest.skip("needs 300 FairFace images under the data root")
    paths = [str(p) for p in faces]
    cache_dir = tmp_path / "cache"
    procs = [
        subprocess.Popen([sys.executable, "-c", _BUILD, str(cache_dir), *paths],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [err for _, err in outs]
    rows = [tuple(int(v) for v in out.split()) for out, _ in outs]
    assert sorted(r[0] for r in rows) == [0, 1]  # one decoded, the other waited and read it
    assert rows[0][1:] == rows[1][1:] and rows[0][2] == 300  # one valid cache, same pixels
    images = cache_dir / "images"
    [key] = [p.name for p in images.iterdir()]  # no temporary folder left, one cache
    npy = images / key / "images.npy"
    mtime = npy.stat().st_mtime_ns

    def no_decoding(path: str, size: int) -> None:
        raise AssertionError("the cache was rebuilt")

    monkeypatch.setattr(_image_cache, "_decode_one", no_decoding)
    again = _image_cache.build_image_cache(paths, image_size=24, cache_dir=cache_dir,
                                           n_jobs=1, progress=False)
    assert not again.built and again.key == key and npy.stat().st_mtime_ns == mtime
    assert int(np.asarray(again.array).astype(np.int64).sum()) == rows[0][1]


# ----------------------------------------------------------------------------------------------
# a Ray sweep whose driver is killed: its instance ends with it, the local executor finishes it
# ----------------------------------------------------------------------------------------------

ADULT = ["--dataset", "adult", "--model", "logreg", "--sensitive", "gender", "--n-boot", "0"]
GRID = ["--sizes", "500,2000", "--balance", "natural,Female=0.5", "--seeds", "0,1"]
N_RUNS = 8


def _tagged(entry: bytes) -> dict[int, str]:
    """Live processes whose environment holds ``entry`` (``NAME=value``): pid -> command line."""
    found = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if entry not in (proc / "environ").read_bytes().split(b"\0"):
                continue  # (a zombie's environment reads empty)
            cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # ended meanwhile, or not ours
            continue
        found[int(proc.name)] = cmd.strip()[:120]
    return found


@needs_ray
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads processes in /proc")
def test_killed_ray_sweep_leaves_no_orphans_and_resumes_on_the_local_executor(
    data_root: Path, tmp_path: Path
) -> None:
    """SIGKILL a CLI sweep on Ray once a few runs are in: none of the Ray processes it started
    outlive it (the tag in their environment tells them from the module's own instance), and
    the local executor computes only the missing runs, rewriting none of Ray's, into the table a
    serial sweep gives."""
    import signal
    import subprocess
    import time
    import uuid

    entry = f"FAIRSUITE_TEST_RAY_DRIVER={uuid.uuid4().hex}"
    env = dict(os.environ, RAY_USAGE_STATS_ENABLED="0")
    env.update([entry.split("=", 1)])
    out = tmp_path / "sw"
    args = ["sweep", *ADULT, *GRID, "--data-dir", str(data_root), "--out", str(out), "--jobs", "2"]
    log = tmp_path / "driver.log"
    with log.open("w") as err:
        cmd = [sys.executable, "-m", "fairsuite", *args, "--executor", "ray"]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, env=env)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            if len(list(out.glob("runs/*/record.json"))) >= 2:
                break
            time.sleep(0.1)
        running = _tagged(entry.encode())
        assert proc.poll() is None, f"the Ray sweep ended before it was killed:\n{log.read_text()}"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    # the instance was up: the GCS, the raylet and its workers, all carrying the driver's tag
    assert any("raylet" in cmd for cmd in running.values()), running
    assert any("gcs_server" in cmd for cmd in running.values()), running
    assert any(cmd.startswith("ray::") for cmd in running.values()), running
    deadline = time.monotonic() + 15
    while (left := _tagged(entry.encode())) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not left, f"Ray processes outlived their killed driver: {left}"

    ray_records = {
        p: (p.stat().st_ino, p.stat().st_mtime_ns) for p in out.glob("runs/*/record.json")
    }
    k = len(ray_records)
    assert 0 < k < N_RUNS, k
    resumed = CliRunner().invoke(cli, [*args, "--executor", "local", "--json"])
    assert resumed.exit_code == 0, resumed.stderr
    assert f"{k} of {N_RUNS} runs already in" in resumed.stderr
    assert f"computing the {N_RUNS - k} missing" in resumed.stderr
    doc = json.loads(resumed.stdout)
    expected = {"done": N_RUNS, "missing": 0, "failed": 0, "total": N_RUNS, "failed_runs": {},
                "stale": 0}
    assert doc["status"] == expected
    # what the Ray driver finished was neither computed nor written again
    assert {p: (p.stat().st_ino, p.stat().st_mtime_ns) for p in ray_records} == ray_records

    base = RunSpec(
        dataset="adult", data_dir=str(data_root), model="logreg", sensitive=("gender",), n_boot=0
    )
    spec = SweepSpec(base, sizes=(500, 2000), compositions=("natural", "Female=0.5"), seeds=(0, 1))
    serial = sweep(spec, tmp_path / "serial", progress=False, report=False)
    pd.testing.assert_frame_equal(
        _values(serial.results), _values(pd.read_parquet(out / "results.parquet"))
    )
