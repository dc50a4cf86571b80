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
3. **AUC** of one group: simulated with binormal scores (negatives ``N(0, 1)``, positives
   ``N(d, sd^2)``, true AUC ``Phi(d / sqrt(1 + sd^2))``), groups of 30, 60, 300 and 3,000 rows
   whose labels are drawn at prevalence 0.1, 0.3 and 0.5, true AUC 0.6, 0.75, 0.9 and 0.97
   (equal variances), plus unequal variances (sd 0.5 and 2) and weighted rows (``sample_weight``
   1 or 3 at random) on smaller grids; coverage is over the replicates where the AUC is defined
   (both labels present). Every replicate is one group
   of a sensitive attribute, so one ``evaluate`` call scores a batch of replicates end to end.
   Then the AUC gap of 2 and 4 groups (true gap 0 and > 0), one ``evaluate`` per replicate.

Run from the repository root::

    .venv/bin/python benchmarks/bench_coverage.py               # full grid, a few minutes
    .venv/bin/python benchmarks/bench_coverage.py --reps 200    # quicker
    .venv/bin/python benchmarks/bench_coverage.py --auc-only    # part 3 alone (~1 minute)
    # the same on an older commit (1c28635: AUC intervals by percentile bootstrap):
    .venv/bin/python benchmarks/bench_coverage.py --auc-only --auc-reps 400 --auc-n-boot 200 \
        --auc-baseline 1c28635

``--auc-baseline REV`` runs part 3 on the ``fairsuite`` package of git revision ``REV``
(extracted with ``git archive`` into a temporary directory) instead of the working tree.

It prints one table per part and exits 1 if a claim fails: a rate interval's exact coverage
below ``--min-rate-coverage`` (default 0.95 - 1e-9: the method is conservative), a simulated
gap, ratio or AUC coverage below nominal by more than the Monte-Carlo error (3 standard errors
of one scenario; for AUC also the mean over the equal-variance grid, 3 standard errors of all
its replicates), an interval that misses its own point estimate, or a zero-width interval with
``n > 0``.
"""

from __future__ import annotations

import argparse
import io
import math
import os
import subprocess
import sys
import tarfile
import tempfile
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


# ----------------------------------------------------------------------------------------------
# 3. AUC
# ----------------------------------------------------------------------------------------------

AUC_SIZES = (30, 60, 300, 3000)
AUC_PREVALENCES = (0.1, 0.3, 0.5)
AUC_VALUES = (0.6, 0.75, 0.9, 0.97)
#: Rows per ``evaluate`` call (a batch of replicates, one group each).
AUC_BATCH_ROWS = 300_000


@dataclass(frozen=True)
class AucScenario:
    """One group of ``n`` rows, labels at ``prevalence``, binormal scores of true AUC ``auc``
    (negatives ``N(0, 1)``, positives ``N(d, sd_pos^2)``)."""

    n: int
    prevalence: float
    auc: float
    sd_pos: float = 1.0
    weighted: bool = False  # sample_weight 1 or 3 at random, independent of labels and scores

    @property
    def shift(self) -> float:
        return float(stats.norm.ppf(self.auc) * math.sqrt(1.0 + self.sd_pos**2))

    def label(self) -> str:
        sd = "" if self.sd_pos == 1.0 else f" sd={self.sd_pos:g}"
        w = " weighted" if self.weighted else ""
        return f"n={self.n:>5} prev={self.prevalence:.1f} auc={self.auc:.2f}{sd}{w}"


def auc_scenarios() -> tuple[list[AucScenario], list[AucScenario]]:
    """The equal-variance grid (sizes x prevalences x AUCs); the unequal-variance and weighted
    cells."""
    grid = [AucScenario(n, p, a) for n in AUC_SIZES for p in AUC_PREVALENCES for a in AUC_VALUES]
    robust = [
        AucScenario(n, p, a, sd)
        for sd in (0.5, 2.0)
        for n in (60, 300)
        for p in (0.1, 0.5)
        for a in (0.75, 0.97)
    ]
    robust += [
        AucScenario(n, p, a, weighted=True)
        for n, p, a in ((60, 0.5, 0.75), (300, 0.1, 0.97), (300, 0.3, 0.9), (3000, 0.5, 0.6))
    ]
    return grid, robust


@dataclass
class AucTally:
    reps: int = 0
    defined: int = 0
    cover: int = 0
    below: int = 0  # true AUC below the interval
    above: int = 0
    misses_point: int = 0
    zero_width: int = 0
    width_sum: float = 0.0

    @property
    def coverage(self) -> float:
        return self.cover / self.defined if self.defined else math.nan

    @property
    def width(self) -> float:
        return self.width_sum / self.defined if self.defined else math.nan


def _binormal(
    rng: np.random.Generator, sc: AucScenario, size: int
) -> tuple[np.ndarray, np.ndarray]:
    y = (rng.random(size) < sc.prevalence).astype(np.int64)
    z = rng.standard_normal(size)
    s = np.where(y == 1, sc.shift + sc.sd_pos * z, z)
    return y, s


def simulate_auc(
    sc: AucScenario, reps: int, seed: int = 0, ci: float = 0.95, n_boot: int = 0
) -> AucTally:
    """``reps`` groups of ``sc.n`` rows through ``evaluate``: the group AUC intervals' claims."""
    rng = np.random.default_rng(seed)
    t = AucTally()
    per_call = max(1, AUC_BATCH_ROWS // sc.n)
    done = 0
    while done < reps:
        b = min(per_call, reps - done)
        y, s = _binormal(rng, sc, b * sc.n)
        w = rng.choice([1.0, 3.0], b * sc.n) if sc.weighted else None
        rep = np.repeat(np.arange(done, done + b), sc.n)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = evaluate(
                y, y, sensitive_features={"rep": rep}, y_score=s, sample_weight=w,
                metrics=["auc"], intersections=False, n_boot=n_boot, ci=ci, min_group_size=0,
                random_state=seed + done,
            )
        for grp in res.attributes[0].groups:
            mv = grp.metrics["auc"]
            t.reps += 1
            if math.isnan(mv.value):
                continue
            t.defined += 1
            t.cover += mv.ci_low <= sc.auc <= mv.ci_high
            t.below += sc.auc < mv.ci_low
            t.above += sc.auc > mv.ci_high
            t.misses_point += not mv.ci_low <= mv.value <= mv.ci_high
            t.zero_width += not mv.ci_high > mv.ci_low
            t.width_sum += mv.ci_high - mv.ci_low
        done += b
    return t


@dataclass(frozen=True)
class AucGapScenario:
    """``k`` groups of ``n`` rows at prevalence 0.3 with true AUCs ``aucs``."""

    n: int
    aucs: tuple[float, ...]

    @property
    def gap(self) -> float:
        return max(self.aucs) - min(self.aucs)

    def label(self) -> str:
        return (
            f"k={len(self.aucs)} n={self.n:>4} auc={min(self.aucs):.2f}-{max(self.aucs):.2f} "
            f"gap={self.gap:.2f}"
        )


AUC_GAP_SCENARIOS = (
    AucGapScenario(60, (0.75, 0.75)),
    AucGapScenario(300, (0.75, 0.75)),
    AucGapScenario(300, (0.75, 0.9)),
    AucGapScenario(300, (0.6, 0.7, 0.8, 0.9)),
)


def simulate_auc_gap(
    sc: AucGapScenario, reps: int, seed: int = 0, ci: float = 0.95, n_boot: int = 0
) -> tuple[int, int, int, float]:
    """(covered, lower bound 0, honest (holds its estimate, non-zero width), mean width)."""
    rng = np.random.default_rng(seed)
    k = len(sc.aucs)
    group = np.repeat([f"g{i}" for i in range(k)], sc.n)
    cover = lower_zero = honest = 0
    width = 0.0
    for r in range(reps):
        draws = [_binormal(rng, AucScenario(sc.n, 0.3, a), sc.n) for a in sc.aucs]
        y = np.concatenate([d[0] for d in draws])
        s = np.concatenate([d[1] for d in draws])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = evaluate(
                y, y, sensitive_features={"g": group}, y_score=s, metrics=["auc"],
                n_boot=n_boot, ci=ci, min_group_size=0, random_state=seed + r,
            )
        d = res.attributes[0].disparities["auc"].difference
        cover += d.ci_low - 1e-12 <= sc.gap <= d.ci_high + 1e-12
        lower_zero += d.ci_low == 0.0
        honest += d.ci_low <= d.value <= d.ci_high and d.ci_high > d.ci_low
        width += d.ci_high - d.ci_low
    return cover, lower_zero, honest, width / reps


def auc_section(args: argparse.Namespace, failures: list[str]) -> None:
    """Part 3: the AUC group intervals on the grid, then AUC gaps."""
    reps, ci = args.auc_reps, args.ci
    grid, robust = auc_scenarios()
    print(
        f"\n3. AUC group intervals, {reps} replicates per scenario (n_boot={args.auc_n_boot}), "
        f"nominal {ci:.0%}"
    )
    print(
        f"{'scenario':<36} {'defined':>7} {'cov':>6} {'below':>6} {'above':>6} {'width':>7}"
    )
    se = math.sqrt(ci * (1 - ci) / reps)
    floor = ci - 3 * se
    cov_grid: list[float] = []
    widths: list[float] = []
    n_grid = pooled_n = 0
    t0 = time.perf_counter()
    for i, sc in enumerate(grid + robust):
        if i == len(grid):
            print("unequal variances (positives N(d, sd^2)); weighted rows:")
        t = simulate_auc(sc, reps, seed=1000 + i, ci=ci, n_boot=args.auc_n_boot)
        cov = t.coverage
        print(
            f"{sc.label():<36} {t.defined / t.reps:7.3f} {cov:6.3f} {t.below / t.defined:6.3f} "
            f"{t.above / t.defined:6.3f} {t.width:7.3f}"
        )
        if i < len(grid):
            cov_grid.append(cov)
            widths.append(t.width)
            n_grid += 1
            pooled_n += t.defined
        if cov < floor:
            failures.append(f"AUC coverage {cov:.3f} < {floor:.3f} for {sc.label()}")
        if t.misses_point:
            failures.append(f"{t.misses_point} AUC intervals miss their estimate: {sc.label()}")
        if t.zero_width:
            failures.append(f"{t.zero_width} zero-width AUC intervals: {sc.label()}")
    arr = np.array(cov_grid)
    worst = grid[int(arr.argmin())].label()
    mean_floor = ci - 3 * math.sqrt(ci * (1 - ci) / pooled_n)
    print(
        f"equal-variance grid ({n_grid} scenarios): coverage min {arr.min():.3f} ({worst}), "
        f"mean {arr.mean():.3f} (floor {mean_floor:.3f}); mean width {np.mean(widths):.3f}; "
        f"{time.perf_counter() - t0:.0f} s"
    )
    for n in AUC_SIZES:
        sel = [j for j, sc in enumerate(grid) if sc.n == n]
        print(
            f"  n={n:>5}: coverage min {arr[sel].min():.3f} mean {arr[sel].mean():.3f}, "
            f"mean width {np.mean([widths[j] for j in sel]):.3f}"
        )
    if arr.mean() < mean_floor:
        failures.append(f"mean AUC coverage {arr.mean():.3f} < {mean_floor:.3f} over the grid")

    gap_reps = args.auc_gap_reps
    print(f"\nAUC gaps (max - min), {gap_reps} replicates, prevalence 0.3")
    print(f"{'scenario':<36} {'gap cov':>7} {'lo=0':>6} {'width':>7}")
    gfloor = ci - 3 * math.sqrt(ci * (1 - ci) / gap_reps)
    for i, gs in enumerate(AUC_GAP_SCENARIOS):
        cover, lower_zero, honest, width = simulate_auc_gap(
            gs, gap_reps, seed=2000 + i, ci=ci, n_boot=args.auc_n_boot
        )
        print(f"{gs.label():<36} {cover / gap_reps:7.3f} {lower_zero / gap_reps:6.3f} {width:7.3f}")
        if cover / gap_reps < gfloor:
            failures.append(f"AUC gap coverage {cover / gap_reps:.3f} < {gfloor:.3f}: {gs.label()}")
        if honest < gap_reps:
            failures.append(f"{gap_reps - honest} AUC gap intervals not honest: {gs.label()}")


def _run_baseline(rev: str, argv: list[str]) -> int:
    """Rerun this script (part 3 only) on the ``fairsuite`` package of git revision ``rev``."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    blob = subprocess.run(
        ["git", "archive", rev, "fairsuite"], cwd=root, check=True, capture_output=True
    ).stdout
    with tempfile.TemporaryDirectory() as tmp:
        with tarfile.open(fileobj=io.BytesIO(blob)) as tar:
            if hasattr(tarfile, "data_filter"):
                tar.extractall(tmp, filter="data")
            else:  # pragma: no cover - Python without extraction filters
                tar.extractall(tmp)
        env = dict(os.environ, PYTHONPATH=tmp)
        print(f"AUC section on fairsuite at {rev} ({tmp})", flush=True)
        rest = [a for a in argv if not a.startswith("--auc-baseline=")]
        if "--auc-baseline" in rest:
            i = rest.index("--auc-baseline")
            rest = rest[:i] + rest[i + 2 :]
        return subprocess.run(
            [sys.executable, os.path.abspath(__file__), *rest, "--auc-only"], env=env
        ).returncode


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=400, help="replicates per scenario")
    ap.add_argument("--ci", type=float, default=0.95)
    ap.add_argument("--quick", action="store_true", help="a smaller grid")
    ap.add_argument("--min-rate-coverage", type=float, default=0.95 - 1e-9)
    ap.add_argument("--auc-only", action="store_true", help="run part 3 (AUC) alone")
    ap.add_argument("--auc-reps", type=int, default=1000, help="replicates per AUC scenario")
    ap.add_argument("--auc-gap-reps", type=int, default=400, help="replicates per AUC gap")
    ap.add_argument(
        "--auc-n-boot", type=int, default=200, help="n_boot passed to evaluate in part 3"
    )
    ap.add_argument(
        "--auc-baseline", metavar="REV", help="part 3 on the fairsuite package of git REV"
    )
    argv = list(sys.argv[1:] if argv is None else argv)
    args = ap.parse_args(argv)
    if args.auc_baseline:
        return _run_baseline(args.auc_baseline, argv)
    failures: list[str] = []
    if args.auc_only:
        auc_section(args, failures)
        for f in failures:
            print("FAILED:", f)
        return 1 if failures else 0
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
    auc_section(args, failures)
    for f in failures:
        print("FAILED:", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
