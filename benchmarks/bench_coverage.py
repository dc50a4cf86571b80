"""Coverage of fairsuite's confidence intervals, checked by simulation (issue 8).

An interval is a claim: "the true value lies in here, 95 times out of 100". This script checks
that claim for what ``fairsuite.metrics.evaluate`` reports, end to end (rows in, result out):

1. **Rates** (one group's accuracy, TPR, ...): the *exact* coverage of the interval method over
   every possible outcome (binomial probabilities), for sizes 5..5,000 and rates 0.01..0.99.
2. **Gaps** (``max - min`` over groups) and **ratios** (``min / max``): simulated. Each
   replicate draws rows for ``k`` groups (2..8, equal or unequal sizes from 5 to 5,000 rows)
   whose true accuracies are equal (true gap 0) or spread (true gap > 0), runs ``evaluate`` and
   records whether the reported interval holds the true gap, whether its lower bound is 0, and
   whether it contains its point estimate and has non-zero width.

Run from the repository root::

    .venv/bin/python benchmarks/bench_coverage.py               # full grid, a few minutes
    .venv/bin/python benchmarks/bench_coverage.py --reps 200    # quicker

It prints one table per part and exits 1 if a claim fails: a rate interval's exact coverage
below ``--min-rate-coverage`` (default 0.95 - 1e-9: the method is conservative), a simulated
gap or ratio coverage below nominal by more than the Monte-Carlo error (3 standard errors), an
interval that misses its own point estimate, or a zero-width interval with ``n > 0``.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
import warnings
from dataclasses import dataclass

import numpy as np
from scipy import stats

from fairsuite.exceptions import SmallGroupWarning
from fairsuite.metrics import evaluate
from fairsuite.metrics._intervals import wilson_cc, z_for

SIZES = (5, 10, 20, 30, 50, 100, 250, 500, 1000, 5000)


def exact_rate_coverage(n: int, ci: float = 0.95) -> tuple[float, float, float, float]:
    """Exact coverage of the rate interval over rates 0.01..0.99 for ``n`` rows.

    Returns (mean coverage, minimum coverage, rate at the minimum, mean width).
    """
    x = np.arange(n + 1)
    lo, hi = wilson_cc(x / n, np.full(n + 1, float(n)), z_for(1.0 - ci))
    assert np.all(lo <= x / n) and np.all(hi >= x / n) and np.all(hi > lo)
    rates = np.linspace(0.01, 0.99, 99)
    cov = np.array([stats.binom.pmf(x, n, p)[(lo <= p) & (p <= hi)].sum() for p in rates])
    width = float(np.mean([stats.binom.pmf(x, n, p) @ (hi - lo) for p in rates]))
    return float(cov.mean()), float(cov.min()), float(rates[cov.argmin()]), width


@dataclass(frozen=True)
class Scenario:
    """``k`` groups with ``sizes`` rows and true accuracies ``rates``."""

    k: int
    sizes: tuple[int, ...]
    rates: tuple[float, ...]

    @property
    def gap(self) -> float:
        return max(self.rates) - min(self.rates)

    @property
    def ratio(self) -> float:
        return min(self.rates) / max(self.rates)

    def label(self) -> str:
        lo, hi = min(self.sizes), max(self.sizes)
        size = str(lo) if lo == hi else f"{lo}-{hi}"
        return (
            f"k={self.k} n={size:>9} p={min(self.rates):.2f}-{max(self.rates):.2f} "
            f"gap={self.gap:.2f}"
        )


def scenarios(full: bool = True) -> list[Scenario]:
    """The simulated grid: group counts 2-8, sizes 5-5,000, rates 0.01-0.99, gaps 0 and > 0."""
    out: list[Scenario] = []
    ks = (2, 4, 8) if full else (2, 5)
    sizes = (5, 30, 250, 5000) if full else (30, 250)
    for k in ks:
        for n in sizes:
            for p in (0.01, 0.1, 0.5, 0.9, 0.99):
                out.append(Scenario(k, (n,) * k, (p,) * k))  # true gap 0
            for lo, hi in ((0.1, 0.3), (0.6, 0.9), (0.9, 0.99)):
                out.append(Scenario(k, (n,) * k, tuple(np.linspace(lo, hi, k).round(4))))
        # unequal sizes: one small group among large ones (the usual minority case)
        small = (5, 30) if full else (30,)
        for n_small in small:
            sz = (n_small,) + (1000,) * (k - 1)
            out.append(Scenario(k, sz, (0.8,) * k))
            out.append(Scenario(k, sz, (0.6,) + (0.85,) * (k - 1)))
    return out


@dataclass
class Tally:
    reps: int = 0
    gap_cover: int = 0
    gap_lower_zero: int = 0
    ratio_cover: int = 0
    ratio_defined: int = 0
    group_cover: int = 0
    group_total: int = 0
    misses_point: int = 0
    zero_width: int = 0
    width_sum: float = 0.0


def simulate(scenario: Scenario, reps: int, seed: int = 0, ci: float = 0.95) -> Tally:
    """Draw ``reps`` data sets for ``scenario``, evaluate each, tally the intervals' claims."""
    rng = np.random.default_rng(seed)
    names = [f"g{i}" for i in range(scenario.k)]
    group = np.repeat(names, scenario.sizes)
    p_row = np.repeat(scenario.rates, scenario.sizes)
    n = len(group)
    t = Tally()
    for _ in range(reps):
        y = rng.integers(0, 2, n)
        correct = rng.random(n) < p_row
        y_pred = np.where(correct, y, 1 - y)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SmallGroupWarning)
            res = evaluate(
                y, y_pred, sensitive_features={"g": group}, metrics=["accuracy"],
                n_boot=0, ci=ci, min_group_size=0,
            )
        attr = res.attributes[0]
        t.reps += 1
        for grp, true in zip(attr.groups, scenario.rates, strict=True):
            mv = grp.metrics["accuracy"]
            t.group_total += 1
            t.group_cover += mv.ci_low <= true <= mv.ci_high
            t.misses_point += not mv.ci_low <= mv.value <= mv.ci_high
            t.zero_width += not mv.ci_high > mv.ci_low
        d = attr.disparities["accuracy"]
        diff, ratio = d.difference, d.ratio
        t.gap_cover += diff.ci_low <= scenario.gap + 1e-12 and scenario.gap - 1e-12 <= diff.ci_high
        t.gap_lower_zero += diff.ci_low == 0.0
        t.misses_point += not diff.ci_low <= diff.value <= diff.ci_high
        t.zero_width += not diff.ci_high > diff.ci_low
        t.width_sum += diff.ci_high - diff.ci_low
        if not math.isnan(ratio.value):
            t.ratio_defined += 1
            t.ratio_cover += ratio.ci_low - 1e-12 <= scenario.ratio <= ratio.ci_high + 1e-12
            t.misses_point += not ratio.ci_low <= ratio.value <= ratio.ci_high
    return t


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=400, help="replicates per scenario")
    ap.add_argument("--ci", type=float, default=0.95)
    ap.add_argument("--quick", action="store_true", help="a smaller grid")
    ap.add_argument("--min-rate-coverage", type=float, default=0.95 - 1e-9)
    args = ap.parse_args(argv)
    failures: list[str] = []
    t0 = time.perf_counter()

    print(f"1. rate intervals (continuity-corrected Wilson), exact coverage at {args.ci:.0%}")
    print(f"{'n':>6}  {'mean':>6}  {'min':>6}  {'at p':>5}  {'mean width':>10}")
    for n in SIZES:
        mean, low, at, width = exact_rate_coverage(n, args.ci)
        print(f"{n:>6}  {mean:6.4f}  {low:6.4f}  {at:5.2f}  {width:10.4f}")
        if low < args.min_rate_coverage:
            failures.append(f"rate coverage {low:.4f} at n={n}, p={at:.2f}")

    print(f"\n2. gap (max - min) and ratio (min / max) intervals, {args.reps} replicates each")
    print(
        f"{'scenario':<44} {'gap cov':>7} {'lo=0':>6} {'ratio cov':>9} {'group cov':>9} "
        f"{'gap width':>9}"
    )
    se = math.sqrt(args.ci * (1 - args.ci) / args.reps)
    floor = args.ci - 3 * se
    worst_gap = worst_ratio = 1.0
    for i, sc in enumerate(scenarios(full=not args.quick)):
        t = simulate(sc, args.reps, seed=i, ci=args.ci)
        gap_cov = t.gap_cover / t.reps
        ratio_cov = t.ratio_cover / t.ratio_defined if t.ratio_defined else math.nan
        grp_cov = t.group_cover / t.group_total
        print(
            f"{sc.label():<44} {gap_cov:7.3f} {t.gap_lower_zero / t.reps:6.3f} "
            f"{ratio_cov:9.3f} {grp_cov:9.3f} {t.width_sum / t.reps:9.3f}"
        )
        worst_gap = min(worst_gap, gap_cov)
        if not math.isnan(ratio_cov):
            worst_ratio = min(worst_ratio, ratio_cov)
        if gap_cov < floor:
            failures.append(f"gap coverage {gap_cov:.3f} < {floor:.3f} for {sc.label()}")
        if not math.isnan(ratio_cov) and ratio_cov < floor:
            failures.append(f"ratio coverage {ratio_cov:.3f} < {floor:.3f} for {sc.label()}")
        if t.misses_point:
            failures.append(f"{t.misses_point} intervals miss their point estimate: {sc.label()}")
        if t.zero_width:
            failures.append(f"{t.zero_width} zero-width intervals: {sc.label()}")
    print(
        f"\nworst gap coverage {worst_gap:.3f}, worst ratio coverage {worst_ratio:.3f} "
        f"(floor {floor:.3f} = nominal - 3 Monte-Carlo SE); {time.perf_counter() - t0:.0f} s"
    )
    for f in failures:
        print("FAILED:", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
