"""Benchmark fairsuite.metrics.evaluate against fairlearn's MetricFrame (issue 3).

Run from the repository root::

    .venv/bin/python benchmarks/bench_metrics.py            # 1,000,000 rows, the issue's targets
    .venv/bin/python benchmarks/bench_metrics.py --rows 200000 --fairlearn-boot 1

Input: ``--rows`` rows, two sensitive attributes as strings (race: 7 groups of unequal size,
gender: 2 groups; 14 intersections), a binary target and predictions of a noisy classifier.
Metrics (the same nine on both sides): accuracy, error rate, selection rate, base rate, TPR,
FPR, FNR, TNR, precision.

The baseline is *one* MetricFrame on both columns (the 14 intersections + overall), while
``evaluate`` computes race, gender, the intersection and overall, plus disparities and tests --
so the ratios are conservative. MetricFrame's own bootstrap (``n_boot``) is timed on a few
replicates in the same run; its per-replicate cost is ``(t(n_boot=k) - t(point)) / k``.

Targets (exit status 1 if one is missed): point metrics >= 100x faster than MetricFrame;
1,000 bootstrap replicates in < 10 s; >= 300x faster per replicate than MetricFrame's
bootstrap; peak traced memory of the bootstrap run < 2 GB.
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
import warnings

import numpy as np
import pandas as pd

from fairsuite.metrics import BINARY_METRICS, evaluate

METRICS = [m for m in BINARY_METRICS if m != "auc"]  # no scores in this benchmark
RACES = ["White", "Black", "Asian", "Indian", "Latino", "Middle Eastern", "Other"]
RACE_P = [0.40, 0.15, 0.12, 0.10, 0.10, 0.08, 0.05]


def make_data(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """Synthetic predictions with group-dependent base rates and error rates."""
    rng = np.random.default_rng(seed)
    race = rng.choice(len(RACES), size=n, p=RACE_P)
    gender = rng.integers(0, 2, size=n)
    base = 0.2 + 0.05 * race / 6 + 0.1 * gender
    y = (rng.random(n) < base).astype(np.int64)
    flip = rng.random(n) < (0.10 + 0.03 * race / 6 + 0.02 * gender)
    y_pred = np.where(flip, 1 - y, y)
    sf = pd.DataFrame(
        {
            "race": np.array(RACES, dtype=object)[race],
            "gender": np.array(["Female", "Male"], dtype=object)[gender],
        }
    )
    return y, y_pred, sf


def fairlearn_metrics() -> dict[str, object]:
    from fairlearn.metrics import (
        false_negative_rate,
        false_positive_rate,
        selection_rate,
        true_negative_rate,
        true_positive_rate,
    )
    from sklearn.metrics import accuracy_score, precision_score, zero_one_loss

    def base_rate(y_true: np.ndarray, y_pred: np.ndarray) -> float:
        return float(np.mean(np.asarray(y_true) == 1))

    def precision(y_true: np.ndarray, y_pred: np.ndarray) -> float:
        return float(precision_score(y_true, y_pred, zero_division=np.nan))

    return {
        "accuracy": accuracy_score,
        "error_rate": zero_one_loss,
        "selection_rate": selection_rate,
        "base_rate": base_rate,
        "tpr": true_positive_rate,
        "fpr": false_positive_rate,
        "fnr": false_negative_rate,
        "tnr": true_negative_rate,
        "precision": precision,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--n-boot", type=int, default=1000)
    ap.add_argument("--fairlearn-boot", type=int, default=2, help="MetricFrame replicates to time")
    args = ap.parse_args(argv)

    from fairlearn.metrics import MetricFrame

    y, y_pred, sf = make_data(args.rows)
    print(f"rows={args.rows:,}  attributes=race(7) x gender(2)  metrics={len(METRICS)}")

    # --- point estimates ---
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours_point = evaluate(y, y_pred, sensitive_features=sf, metrics=METRICS, n_boot=0)
    t_ours_point = time.perf_counter() - t0

    fl_metrics = fairlearn_metrics()
    t0 = time.perf_counter()
    mf = MetricFrame(metrics=fl_metrics, y_true=y, y_pred=y_pred, sensitive_features=sf)
    t_fl_point = time.perf_counter() - t0

    # sanity: same numbers on the intersection
    inter = ours_point.attribute("race x gender")
    worst = 0.0
    for g in inter.groups:
        row = mf.by_group.loc[tuple(g.key)]
        for m in METRICS:
            worst = max(worst, abs(g.metrics[m].value - float(row[m])))
    print(f"max |evaluate - MetricFrame| over 14 groups x {len(METRICS)} metrics: {worst:.2e}")

    # --- bootstrap ---
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        evaluate(y, y_pred, sensitive_features=sf, metrics=METRICS, n_boot=args.n_boot)
    t_ours_boot = time.perf_counter() - t0

    k = args.fairlearn_boot
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        MetricFrame(
            metrics=fl_metrics,
            y_true=y,
            y_pred=y_pred,
            sensitive_features=sf,
            n_boot=k,
            ci_quantiles=[0.025, 0.975],
            random_state=0,
        )
    t_fl_boot_total = time.perf_counter() - t0
    t_fl_rep = max(t_fl_boot_total - t_fl_point, 1e-9) / k

    # --- memory of the bootstrap run ---
    tracemalloc.start()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        evaluate(y, y_pred, sensitive_features=sf, metrics=METRICS, n_boot=args.n_boot)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    point_ratio = t_fl_point / t_ours_point
    t_ours_rep = t_ours_boot / args.n_boot  # conservative: includes the point estimates
    rep_ratio = t_fl_rep / t_ours_rep
    print(f"point:      evaluate {t_ours_point:8.3f} s   MetricFrame {t_fl_point:8.3f} s")
    print(f"            ratio {point_ratio:8.1f}x   (target >= 100x)")
    print(f"bootstrap:  evaluate n_boot={args.n_boot}: {t_ours_boot:.3f} s   (target < 10 s)")
    print(
        f"            per replicate: evaluate {t_ours_rep * 1e3:.3f} ms   "
        f"MetricFrame {t_fl_rep:.3f} s (n_boot={k}, {t_fl_boot_total:.1f} s total)"
    )
    print(f"            ratio {rep_ratio:8.1f}x   (target >= 300x)")
    print(
        f"memory:     peak traced during the bootstrap run {peak / 2**20:.1f} MiB (target < 2048)"
    )

    failed = []
    if point_ratio < 100:
        failed.append("point ratio < 100x")
    if args.n_boot >= 1000 and t_ours_boot >= 10:
        failed.append("bootstrap >= 10 s")
    if rep_ratio < 300:
        failed.append("per-replicate ratio < 300x")
    if peak >= 2 * 2**30:
        failed.append("peak memory >= 2 GB")
    if worst > 1e-12:
        failed.append("disagreement with MetricFrame > 1e-12")
    print("RESULT:", "all targets met" if not failed else "MISSED: " + "; ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
