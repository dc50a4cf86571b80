"""Sweep throughput: runs per hour of one small Adult sweep, serial, local pool and Ray.

Every executor runs the same grid (sizes x compositions x seeds, logistic regression by default)
into fresh run stores in the same invocation, so the ratio is measured under the same machine
load. Peak memory: the largest resident set of this process (serial) and of any worker
(local), from ``getrusage``.

    .venv/bin/python benchmarks/bench_sweep.py --data-dir ../shared/data
    .venv/bin/python benchmarks/bench_sweep.py --data-dir ../shared/data --model hgb --jobs 2

Add ``--executors serial,local,ray`` to include Ray (``pip install 'fairsuite[ray]'``): a local
Ray instance with ``--jobs`` CPUs (default: every core) is started and shut down inside the
timing, as a user's sweep pays it. Ray's workers are not children of this process, so their
memory is not in the peak RSS figure.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

from fairsuite.experiments import RunSpec, SweepSpec, sweep


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default="../shared/data")
    ap.add_argument("--model", default="logreg")
    ap.add_argument("--sizes", default="2000,8000")
    ap.add_argument("--seeds", default="0,1")
    ap.add_argument("--jobs", type=int, default=None)
    ap.add_argument("--executors", default="serial,local")
    args = ap.parse_args(argv)
    base = RunSpec(dataset="adult", data_dir=args.data_dir, model=args.model,
                   sensitive=("gender",), n_boot=0)
    spec = SweepSpec(
        base,
        sizes=tuple(int(s) for s in args.sizes.split(",")),
        compositions=("natural", "uniform"),
        seeds=tuple(int(s) for s in args.seeds.split(",")),
    )
    n = len(spec.grid())
    print(f"grid: {n} runs of adult, model {args.model}, sizes {args.sizes}, seeds {args.seeds}")
    rates: dict[str, float] = {}
    tables = {}
    for name in args.executors.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            result = sweep(spec, Path(tmp) / name, executor=name, jobs=args.jobs,
                           progress=False, report=False)
            seconds = time.perf_counter() - t0
            tables[name] = result.results
        rates[name] = n / seconds * 3600
        self_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        child_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        worker = "n/a (Ray)" if name == "ray" else f"{child_mb:,.0f} MiB"
        print(
            f"{name:<7} {seconds:7.1f} s  {rates[name]:8.0f} runs/hour  "
            f"failed {result.status['failed']}  peak RSS: driver {self_mb:,.0f} MiB, "
            f"largest worker {worker}"
        )
    if "serial" in rates:
        for name, rate in rates.items():
            if name != "serial":
                print(f"ratio {name}/serial: {rate / rates['serial']:.2f}x runs per hour")
        keys = ["run", "tested_on", "kind", "attribute", "group", "metric"]
        ref = tables["serial"][[*keys, "value"]]
        for name, table in tables.items():
            if name == "serial":
                continue
            both = ref.merge(table[[*keys, "value"]], on=keys, how="outer", suffixes=("", "_x"),
                             indicator=True)
            unmatched = int((both["_merge"] != "both").sum())
            diff = (both["value"] - both["value_x"]).abs().max()
            same = unmatched == 0 and bool(
                ((both["value"] == both["value_x"]) | (both["value"].isna()
                                                       & both["value_x"].isna())).all()
            )
            print(f"{name}: results table identical to serial: {same}")
            if not same:
                print(f"  largest difference {diff:.3g}, {unmatched} rows without a partner "
                      f"(a disparity whose worst and best groups swapped): thread counts differ "
                      f"between executors; torch models on the CPU depend on them (README, "
                      f"Scaling out)")
                return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
