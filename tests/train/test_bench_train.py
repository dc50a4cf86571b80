"""The CPU path of benchmarks/bench_train.py (the entry point gpu.sh runs on a GPU)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_train.py"


def test_bench_train_runs_on_cpu(data_root: Path, tmp_path: Path) -> None:
    cmd = [sys.executable, str(BENCH), "--device", "cpu", "--image-size", "16", "--steps", "2"]
    cmd += ["--warmup", "1", "--rounds", "1", "--max-images", "300", "--models", "small_cnn"]
    cmd += ["--precisions", "fp32", "--data-dir", str(data_root), "--cache-dir", str(tmp_path)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "images=300 image_size=16" in out
    assert "failed=0" in out
    row = re.search(r"small_cnn\s+fp32\s+baseline\s+([\d.]+) img/s\s+pipeline\s+([\d.]+)", out)
    assert row is not None, out
    assert float(row.group(1)) > 0 and float(row.group(2)) > 0
    assert re.search(r"worst ratio \d+\.\d{3}", out)
