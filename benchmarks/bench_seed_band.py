"""Coverage of the sweep report's seed bands, checked by simulation.

At one setting of a sweep the report draws the mean over ``S`` seeds of the runs' accuracies
(per group) and gaps, and a band (:func:`fairsuite.experiments.seed_band`) that claims to hold
the *expected* accuracy (or gap) of a model trained at that setting, on the population, 95 times
out of 100. This script checks that claim.

The simulated world
-------------------
Two groups, A and B. A model trained with seed ``s`` has population accuracy
``A_gs = Phi(c_gs)`` in group ``g``, with ``c_gs = a_g + sigma_g * eps_gs`` (``eps`` standard
normal, independent across seeds and groups): ``a_g`` and ``sigma_g`` are solved so that
``E_seed[A_gs]`` is the group's true expected accuracy ``mu_g`` (the training size sets it: a
learning curve, below) and ``sd_seed[A_gs]`` the scenario's seed standard deviation. Each
replicate draws **one** test sample, ``n`` rows per group, shared by all seeds (as in a sweep);
row ``i`` carries a difficulty ``z_i`` and seed ``s`` predicts it correctly when
``sqrt(r) z_i + sqrt(1 - r) eta_is < c_gs`` (``eta`` standard normal): the model's population
accuracy is exactly ``Phi(c_gs)``, and ``r`` is how much the seeds' models agree on which rows
are hard (0.95: nearly the same errors, as in real sweeps; 0.5: looser). Every run gets the
Wilson (continuity-corrected) interval of each group's accuracy and the Newcombe simultaneous
interval of the gap ``|A - B|`` -- the functions ``evaluate`` uses -- and the band of the first
``S`` seeds (S = 1, 3, 5) is checked against ``mu_g`` and against the expected gap
``E_seed|A_As - A_Bs|`` (by quadrature).

For comparison the old band (the mean of the runs' bounds) is scored against the same targets.

Run from the repository root::

    .venv/bin/python benchmarks/bench_seed_band.py             # 72 scenarios, 2-3 minutes
    .venv/bin/python benchmarks/bench_seed_band.py --reps 300  # quicker
    .venv/bin/python benchmarks/bench_seed_band.py --full      # every scenario's row

It exits 1 if a band with S >= 3 covers less than nominal by more than the Monte-Carlo error
(3 standard errors) in a world whose seed distributions (of A_A, A_B and the gap) are all
near-symmetric (|skewness| <= ``SKEW_LIMIT``), or a band misses its own point estimate.
Reported, not enforced:

- S = 1: one run says nothing about how much seeds vary; the band is that run's interval, which
  covers the expected value only while the seed spread is small beside the test sampling error;
- skewed seed distributions: a mean accuracy of 0.90 or 0.95 with a seed sd of 0.05 (skewness
  -1.05 and -2.25: a tail of bad seeds that 3-5 seeds rarely show, the t interval's known
  weakness). Where the seed spread also dwarfs the test sampling error (n = 3,000 rows) these
  cover 0.92-0.94 (skew -1.05; 0.934-0.955 rerun with 4,000 replicates) and 0.87-0.90 (skew
  -2.25).
"""

from __future__ import annotations

import argparse
import itertools
import math
import sys
import time
from dataclasses import dataclass

import numpy as np
from numpy.polynomial.hermite_e import hermegauss
from scipy import optimize
from scipy.special import ndtr, ndtri

from fairsuite.experiments._bands import seed_band
from fairsuite.metrics._intervals import pairwise_gap, wilson_cc, z_for

#: training size -> expected accuracy of groups A and B (a learning curve whose gap closes)
CURVE = {500: (0.85, 0.73), 4000: (0.90, 0.85), 32000: (0.95, 0.95)}
TEST_ROWS = (30, 300, 3000)
SEED_SDS = (0.0, 0.005, 0.02, 0.05)
AGREEMENT = (0.95, 0.5)
SEEDS = (1, 3, 5)
#: beyond this |skewness| of a seed distribution a scenario's shortfall is reported, not enforced
SKEW_LIMIT = 1.0

_NODES, _WEIGHTS = hermegauss(96)
_WEIGHTS = _WEIGHTS / _WEIGHTS.sum()


def _probit_model(mu: float, sd: float) -> tuple[float, float]:
    """``(a, sigma)`` with ``E[Phi(a + sigma eps)] = mu`` and ``sd[Phi(a + sigma eps)] = sd``."""
    if sd <= 0.0:
        return float(ndtri(mu)), 0.0

    def spread(sigma: float) -> float:
        a = ndtri(mu) * math.sqrt(1.0 + sigma * sigma)
        acc = ndtr(a + sigma * _NODES)
        return math.sqrt(max(float(_WEIGHTS @ acc**2) - mu * mu, 0.0)) - sd

    sigma = optimize.brentq(spread, 1e-9, 20.0)
    return float(ndtri(mu) * math.sqrt(1.0 + sigma * sigma)), float(sigma)


@dataclass(frozen=True)
class Scenario:
    size: int
    n: int
    seed_sd: float
    r: float

    @property
    def mu(self) -> tuple[float, float]:
        return CURVE[self.size]

    def models(self) -> tuple[tuple[float, float], tuple[float, float]]:
        return _probit_model(self.mu[0], self.seed_sd), _probit_model(self.mu[1], self.seed_sd)

    def _seed_distributions(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """(values, weights) of A_A, A_B and |A_A - A_B| over seeds (Gauss-Hermite nodes)."""
        (a1, s1), (a2, s2) = self.models()
        acc1 = ndtr(a1 + s1 * _NODES)
        acc2 = ndtr(a2 + s2 * _NODES)
        gap = np.abs(acc1[:, None] - acc2[None, :]).ravel()
        return [(acc1, _WEIGHTS), (acc2, _WEIGHTS), (gap, np.outer(_WEIGHTS, _WEIGHTS).ravel())]

    def true_gap(self) -> float:
        """``E_seed |A_A - A_B|`` by two-dimensional Gauss-Hermite quadrature."""
        values, weights = self._seed_distributions()[2]
        return float(weights @ values)

    def skew(self) -> np.ndarray:
        """Skewness of the seed-to-seed distribution of A_A, A_B and the gap (0 if constant)."""
        out = []
        for values, weights in self._seed_distributions():
            m = weights @ values
            v = weights @ (values - m) ** 2
            out.append(0.0 if v < 1e-14 else float(weights @ (values - m) ** 3 / v**1.5))
        return np.array(out)

    def label(self) -> str:
        return (
            f"size={self.size:>5} mu={self.mu[0]:.2f}/{self.mu[1]:.2f} n={self.n:>4} "
            f"seed_sd={self.seed_sd:.3f} r={self.r:.2f}"
        )


def scenarios() -> list[Scenario]:
    return [Scenario(*x) for x in itertools.product(CURVE, TEST_ROWS, SEED_SDS, AGREEMENT)]


def _counts(rng: np.random.Generator, n: int, c: np.ndarray, r: float) -> np.ndarray:
    """Correct predictions of each seed's model (``c``: reps x seeds) on one shared test
    sample of ``n`` rows per replicate."""
    reps, seeds = c.shape
    out = np.empty((reps, seeds), dtype=np.int64)
    step = max(1, 2_000_000 // (n * seeds))
    for i in range(0, reps, step):
        k = min(step, reps - i)
        z = rng.standard_normal((k, 1, n))
        eta = rng.standard_normal((k, seeds, n))
        out[i : i + k] = (math.sqrt(r) * z + math.sqrt(1.0 - r) * eta < c[i : i + k, :, None]).sum(
            axis=2
        )
    return out


@dataclass
class Tally:
    """Per S: hits of the new band (A, B, gap), hits of the old band, widths, replicates."""

    reps: int
    hits: dict[int, np.ndarray]
    old: dict[int, np.ndarray]
    width: dict[int, np.ndarray]
    missed_point: int = 0


def simulate(
    sc: Scenario, reps: int, seed: int = 0, ci: float = 0.95, seeds: tuple[int, ...] = SEEDS
) -> Tally:
    """Replicates of one scenario; bands for the first S seeds of each replicate."""
    rng = np.random.default_rng([seed, sc.size, sc.n, int(sc.seed_sd * 1e4), int(sc.r * 100)])
    s_max = max(seeds)
    (a1, s1), (a2, s2) = sc.models()
    c_a = a1 + s1 * rng.standard_normal((reps, s_max))
    c_b = a2 + s2 * rng.standard_normal((reps, s_max))
    p_a = _counts(rng, sc.n, c_a, sc.r) / sc.n
    p_b = _counts(rng, sc.n, c_b, sc.r) / sc.n
    alpha = 1.0 - ci
    z = z_for(alpha)
    lo_a, hi_a = wilson_cc(p_a, np.full(p_a.shape, float(sc.n)), z)
    lo_b, hi_b = wilson_cc(p_b, np.full(p_b.shape, float(sc.n)), z)
    sizes = np.array([sc.n, sc.n], dtype=float)
    gap = np.abs(p_a - p_b)
    g_lo = np.empty_like(gap)
    g_hi = np.empty_like(gap)
    for i, j in np.ndindex(gap.shape):
        p = np.array([p_a[i, j], p_b[i, j]])
        g_lo[i, j], g_hi[i, j] = pairwise_gap(
            p, lambda a, p=p: wilson_cc(p, sizes, z_for(a)), alpha
        )
    truth = (sc.mu[0], sc.mu[1], sc.true_gap())
    stats = ((p_a, lo_a, hi_a), (p_b, lo_b, hi_b), (gap, g_lo, g_hi))
    tally = Tally(reps, {}, {}, {})
    for s in seeds:
        hits = np.zeros(3)
        old = np.zeros(3)
        width = np.zeros(3)
        for k, ((v, lo, hi), mu) in enumerate(zip(stats, truth, strict=True)):
            for i in range(reps):
                m, low, high, _ = seed_band(v[i, :s], lo[i, :s], hi[i, :s], ci=ci)
                hits[k] += low <= mu <= high
                width[k] += high - low
                tally.missed_point += not low <= m <= high
            old[k] = np.sum((lo[:, :s].mean(axis=1) <= mu) & (mu <= hi[:, :s].mean(axis=1)))
        tally.hits[s] = hits / reps
        tally.old[s] = old / reps
        tally.width[s] = width / reps
    return tally


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=1000, help="replicates per scenario")
    ap.add_argument("--ci", type=float, default=0.95)
    ap.add_argument("--full", action="store_true", help="print every scenario")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    se = math.sqrt(args.ci * (1 - args.ci) / args.reps)
    floor = args.ci - 3 * se
    results = []
    for sc in scenarios():
        results.append((sc, simulate(sc, args.reps, ci=args.ci)))
    failures = []
    print(
        f"Seed bands: coverage of E_seed[accuracy] (groups A, B) and E_seed[gap], nominal "
        f"{args.ci:.2f}, {args.reps} replicates per scenario (MC s.e. {se:.3f})\n"
    )
    if args.full:
        print(
            f"{'scenario':<58} {'S':>2} {'cov A':>6} {'cov B':>6} {'cov gap':>7} "
            f"{'width A':>7} {'width gap':>9} {'old A':>6} {'old B':>6} {'old gap':>7}"
        )
        for sc, t in results:
            for s in SEEDS:
                h, o, w = t.hits[s], t.old[s], t.width[s]
                print(
                    f"{sc.label():<58} {s:>2} {h[0]:6.3f} {h[1]:6.3f} {h[2]:7.3f} "
                    f"{w[0]:7.3f} {w[2]:9.3f} {o[0]:6.3f} {o[1]:6.3f} {o[2]:7.3f}"
                )
        print()
    print("Summary: minimum coverage over training sizes (3), agreement r (0.95, 0.5) and, for")
    print("accuracy, both groups; mean band width of the accuracies. 'skewed': a scenario of the")
    print(f"cell has a seed distribution with |skewness| > {SKEW_LIMIT}.\n")
    print(
        f"{'S':>2} {'n/group':>7} {'seed sd':>7} {'accuracy':>8} {'gap':>6} {'width':>6} "
        f"{'old band: acc':>13} {'gap':>6}"
    )
    for s in SEEDS:
        for n, sd in itertools.product(TEST_ROWS, SEED_SDS):
            cell = [t for sc, t in results if sc.n == n and sc.seed_sd == sd]
            acc = min(min(t.hits[s][0], t.hits[s][1]) for t in cell)
            gap = min(t.hits[s][2] for t in cell)
            width = float(np.mean([(t.width[s][0] + t.width[s][1]) / 2 for t in cell]))
            old_acc = min(min(t.old[s][0], t.old[s][1]) for t in cell)
            old_gap = min(t.old[s][2] for t in cell)
            skewed = any(
                np.abs(sc.skew()).max() > SKEW_LIMIT
                for sc, _ in results
                if sc.n == n and sc.seed_sd == sd
            )
            flag = " < nominal" if s > 1 and min(acc, gap) < floor else ""
            flag += " (skewed)" if skewed else ""
            print(
                f"{s:>2} {n:>7} {sd:>7.3f} {acc:>8.3f} {gap:>6.3f} {width:>6.3f} "
                f"{old_acc:>13.3f} {old_gap:>6.3f}{flag}"
            )
        print()
    known = []
    for sc, t in results:
        skewed = np.abs(sc.skew()).max() > SKEW_LIMIT
        for s in (s for s in SEEDS if s > 1):
            line = f"{sc.label()} S={s}: coverage {t.hits[s].round(3).tolist()}"
            if t.hits[s].min() < floor and not skewed:
                failures.append(line)
            elif t.hits[s].min() < floor:
                known.append(f"{line}, skewness {sc.skew().round(2).tolist()}")
        if t.missed_point:
            failures.append(f"{sc.label()}: {t.missed_point} bands missed their point estimate")
    for k in known:
        print("short (skewed seed distribution, not enforced):", k)
    print(f"{time.perf_counter() - t0:.0f} s")
    for f in failures:
        print("FAIL", f, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
