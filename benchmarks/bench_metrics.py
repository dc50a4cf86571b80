"""Benchmark fairsuite.metrics.evaluate against fairlearn's MetricFrame (issue 3).

Run from the repository root::

    .venv/bin/python benchmarks/bench_metrics.py            # 1,000,000 rows, the issue's targets
    .venv/bin/python benchmarks/bench_metrics.py --rows 200000 --fairlearn-boot 1

Input: ``--rows`` rows, two sensitive attributes as strings (race: 7 groups of unequal size,
gender: 2 groups; 14 intersections), a binary target and predictions of a noisy classifier.
Metrics (the same nine on both sides): accuracy, error rate, selection rate, base rate, TPR,
FPR, FNR, TNR, precision.

The baseline is *one* MetricFrame on both columns (the 14 intersections + overall), while
``evaluate`` computes race, gender, the intersection and overall, plus disparities, tests and
every interval -- so the ratios are conservative. The intervals of rates are closed-form
(continuity-corrected Wilson; simultaneous Newcombe for gaps), so they cost nothing extra;
MetricFrame's own bootstrap (``n_boot``) is timed on a few replicates in the same run and
extrapolated to ``--n-boot`` (its per-replicate cost is ``(t(n_boot=k) - t(point)) / k``).
AUC (closed-form DeLong / Hanley-McNeil intervals; ``n_boot`` no longer matters) is timed with
every metric on scores rounded to 3 decimals and on continuous scores (a distinct score per row).

Targets (exit status 1 if one is missed): metrics with intervals >= 100x faster than
MetricFrame's point estimates alone; >= 1000x faster than MetricFrame's bootstrap intervals;
AUC (either kind of scores) in < 10 s; peak traced memory of the rounded-score run < 2 GB.
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

    # --- intervals: closed-form for every statistic (no resampling) ---
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
    t_fl_intervals = t_fl_point + args.n_boot * t_fl_rep  # MetricFrame's bootstrap intervals

    # AUC: scores rounded to 3 decimals (at most 1,001 distinct values per group)
    rng = np.random.default_rng(1)
    score = np.round(np.clip(0.5 * y + rng.normal(0.25, 0.25, len(y)), 0, 1), 3)
    tracemalloc.start()
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        evaluate(y, y_pred, sensitive_features=sf, y_score=score, n_boot=args.n_boot)
    t_auc = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    raw = np.clip(0.5 * y + rng.normal(0.25, 0.25, len(y)), 0, 1)  # continuous: no ties
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        evaluate(y, y_pred, sensitive_features=sf, y_score=raw, n_boot=args.n_boot)
    t_auc_raw = time.perf_counter() - t0

    point_ratio = t_fl_point / t_ours_point
    interval_ratio = t_fl_intervals / t_ours_point
    print(f"point + every interval: evaluate {t_ours_point:8.3f} s   MetricFrame point only "
          f"{t_fl_point:8.3f} s")
    print(f"            ratio {point_ratio:8.1f}x   (target >= 100x)")
    print(
        f"intervals:  MetricFrame's bootstrap ({args.n_boot} replicates, extrapolated from "
        f"n_boot={k}: {t_fl_rep:.2f} s each) {t_fl_intervals:8.1f} s"
    )
    print(f"            ratio {interval_ratio:8.1f}x   (target >= 1000x)")
    print(
        f"AUC:        evaluate with scores rounded to 3 decimals {t_auc:.3f} s, continuous "
        f"{t_auc_raw:.3f} s (target < 10 s); peak traced memory {peak / 2**20:.1f} MiB "
        "(target < 2048)"
    )

    failed = []
    if point_ratio < 100:
        failed.append("point ratio < 100x")
    if interval_ratio < 1000:
        failed.append("interval ratio < 1000x")
    if max(t_auc, t_auc_raw) >= 10:
        failed.append("AUC >= 10 s")
    if peak >= 2 * 2**30:
        failed.append("peak memory >= 2 GB")
    if worst > 1e-12:
        failed.append("disagreement with MetricFrame > 1e-12")
    print("RESULT:", "all targets met" if not failed else "MISSED: " + "; ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
