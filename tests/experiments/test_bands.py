"""Seed bands: the interval a sweep report draws around the mean over seeds (exact small cases,
the tidy-table version, and a reduced coverage simulation of benchmarks/bench_seed_band.py)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from fairsuite.experiments import seed_band, seed_bands
from fairsuite.experiments._bands import _BAD_CI, _BAD_LENGTHS, _MISSING

T2 = 4.302652729749464  # t quantile 0.975 with 2 degrees of freedom
T1_90 = 6.313751514675041  # t quantile 0.95 with 1 degree of freedom



def test_one_run_is_its_own_interval() -> None:
    assert seed_band([0.8], [0.77], [0.82]) == (0.8, 0.77, 0.82, 1)


def test_three_seeds_add_the_t_interval_to_the_test_half_widths_in_quadrature() -> None:
    mean, low, high, runs = seed_band([0.80, 0.82, 0.84], [0.79, 0.81, 0.83], [0.81, 0.83, 0.85])
    seed = T2 * 0.02 / math.sqrt(3)  # sd of (0.80, 0.82, 0.84) is 0.02
    half = math.sqrt(0.01**2 + seed**2)
    assert runs == 3
    assert mean == pytest.approx(0.82)
    assert low == pytest.approx(0.82 - half)
    assert high == pytest.approx(0.82 + half)


def test_asymmetric_run_intervals_keep_their_sides() -> None:
    # below: mean distance 0.03, above: mean distance 0.01 (as Wilson near 1)
    mean, low, high, _ = seed_band([0.90, 0.92], [0.87, 0.89], [0.91, 0.93])
    seed = 12.706204736174698 * (0.02 / math.sqrt(2)) / math.sqrt(2)
    assert mean == pytest.approx(0.91)
    assert low == pytest.approx(0.91 - math.hypot(0.03, seed))
    assert high == pytest.approx(min(1.0, 0.91 + math.hypot(0.01, seed)))


def test_identical_seeds_do_not_shrink_the_test_sampling_error() -> None:
    # five seeds that agree: the band is one run's interval, not narrower (same test rows)
    assert seed_band([0.9] * 5, [0.88] * 5, [0.91] * 5) == pytest.approx((0.9, 0.88, 0.91, 5))


def test_confidence_level_sets_the_t_quantile() -> None:
    _, low, _, _ = seed_band([0.5, 0.6], [0.5, 0.6], [0.5, 0.6], ci=0.9)
    assert low == pytest.approx(0.55 - T1_90 * (0.1 / math.sqrt(2)) / math.sqrt(2))


def test_band_is_cut_to_the_range_and_contains_the_mean() -> None:
    mean, low, high, _ = seed_band([0.99, 1.0, 0.97], [0.95, 0.97, 0.93], [1.0, 1.0, 0.99])
    assert high == 1.0 and low < mean < high
    mean, low, high, _ = seed_band([0.0, 0.01, 0.02], [0.0, 0.0, 0.0], [0.03, 0.04, 0.05])
    assert low == 0.0 and low < mean < high


def test_nan_runs_are_left_out_and_counted() -> None:
    assert seed_band([0.8, math.nan], [0.77, 0.7], [0.82, 0.9]) == (0.8, 0.77, 0.82, 1)
    mean, low, high, runs = seed_band([math.nan], [math.nan], [math.nan])
    assert runs == 0 and math.isnan(mean) and math.isnan(low) and math.isnan(high)
    assert seed_band([], [], [])[3] == 0


def test_bad_input_is_named() -> None:
    with pytest.raises(ValueError) as e:
        seed_band([0.5], [0.4], [0.6], ci=95)
    assert str(e.value) == _BAD_CI.format(ci=95)
    with pytest.raises(ValueError) as e:
        seed_band([0.5, 0.6], [0.4], [0.6])
    assert str(e.value) == _BAD_LENGTHS.format(a=2, b=1, c=1)
    with pytest.raises(ValueError) as e:
        seed_bands(pd.DataFrame({"value": [0.5]}), ["model"])
    assert str(e.value) == _MISSING.format(missing=["ci_high", "ci_low", "model"])


def test_seed_bands_of_a_tidy_table_one_row_per_setting() -> None:
    rows = []
    for size, rows_used in ((1000, 1000), (None, 30000)):  # None: "all" rows
        for seed, v in enumerate((0.80, 0.82, 0.84)):
            rows.append(
                {
                    "model": "logreg",
                    "train_size": size,
                    "train_rows": rows_used,
                    "seed": seed,
                    "value": v,
                    "ci_low": v - 0.01,
                    "ci_high": v + 0.01,
                }
            )
    frame = pd.DataFrame(rows)
    out = seed_bands(frame, ["model", "train_size"])
    assert list(out.columns) == [
        "model",
        "train_size",
        "value",
        "ci_low",
        "ci_high",
        "runs",
        "rows",
        "train_rows",
    ]
    assert len(out) == 2 and out["runs"].tolist() == [3, 3]
    assert out["train_size"].isna().sum() == 1  # "all" is a setting of its own
    expect = seed_band(frame["value"][:3], frame["ci_low"][:3], frame["ci_high"][:3])
    got = out[out["train_size"] == 1000].iloc[0]
    assert (got["value"], got["ci_low"], got["ci_high"]) == pytest.approx(expect[:3])
    assert sorted(out["train_rows"]) == [1000, 30000]
    assert frame.shape == (6, 7)  # the caller's table is not changed


def test_coverage_by_simulation_reduced(load_benchmark) -> None:
    """The benchmark's world, two scenarios, 300 replicates: the band holds the expected
    accuracy and gap of a model trained at the setting; the old mean of the runs' bounds does
    not once seeds vary more than the test rows measure."""
    bench = load_benchmark("bench_seed_band")
    reps = 300
    floor = 0.95 - 3 * math.sqrt(0.95 * 0.05 / reps)
    typical = bench.simulate(bench.Scenario(4000, 300, 0.02, 0.95), reps, seeds=(1, 3, 5))
    for s in (3, 5):
        assert typical.hits[s].min() >= floor, (s, typical.hits[s])
    assert typical.missed_point == 0
    big_test = bench.simulate(bench.Scenario(500, 3000, 0.02, 0.95), reps, seeds=(3,))
    assert big_test.hits[3].min() >= floor, big_test.hits[3]
    assert big_test.old[3][:2].max() < 0.8  # the mean of the bounds ignores the seeds


def test_benchmark_world_hits_its_targets(load_benchmark) -> None:
    """The simulated models' expected accuracy and seed spread are what the scenario says."""
    bench = load_benchmark("bench_seed_band")
    (a, sigma), _ = bench.Scenario(4000, 300, 0.02, 0.95).models()
    rng = np.random.default_rng(1)
    acc = bench.ndtr(a + sigma * rng.standard_normal(400_000))
    assert acc.mean() == pytest.approx(0.90, abs=2e-4)
    assert acc.std() == pytest.approx(0.02, abs=2e-4)
