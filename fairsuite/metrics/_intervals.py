"""Confidence intervals with honest coverage: rates, gaps between groups, ratios.

Why not the percentile bootstrap
--------------------------------
A percentile bootstrap of a group's rate has zero width when the rate is 0 or 1 (every
replicate redraws the same rows), and a percentile bootstrap of ``max - min`` over groups is
biased upwards: when the groups are truly equal the maximum of noisy estimates exceeds the true
maximum, so the interval excludes 0 (it claims a gap that does not exist), and it can even miss
its own point estimate. fairsuite therefore uses closed-form intervals whose coverage is checked
by simulation (``tests/metrics/test_metrics_coverage.py``, ``benchmarks/bench_coverage.py``):

Rates (accuracy, TPR, FPR, ... of one group)
    **Wilson score interval with continuity correction** (Newcombe 1998, method 4). Every rate is
    a proportion ``x / n`` of its own denominator (rows, positives, negatives, predicted
    positives). With ``sample_weight`` the proportion is weighted and ``n`` is Kish's effective
    size ``(sum w)^2 / sum w^2`` of the denominator's rows. It is never zero-width when
    ``n > 0``, always contains the point estimate, stays inside [0, 1] and its exact coverage is
    at least nominal for every n = 5..5,000 and rate 0.01..0.99 checked (the plain Wilson
    interval dips to 86% at n = 5).

Gaps (``max - min`` over the compared groups)
    **Simultaneous pairwise Newcombe intervals** (Newcombe 1998, method 11: the hybrid score
    interval of a difference of proportions, built from the two continuity-corrected Wilson
    intervals). Every pair of the ``k`` compared groups gets an interval for ``p_i - p_j`` at
    level ``1 - alpha / m`` with ``m = k (k - 1) / 2`` (Bonferroni), so all of them hold at
    once with probability at least ``1 - alpha``. When they do, the true gap
    ``max_ij (p_i - p_j)`` lies in ``[max(0, max_ij L_ij), max_ij U_ij]`` (over ordered pairs),
    which is the reported interval. Its lower bound reaches 0 whenever no pair is shown to
    differ (groups from one distribution), it contains the point estimate, and it is
    conservative for many groups (the price of a claim that holds for every pair at once).

Ratios (``min / max``)
    From simultaneous intervals of the group rates (level ``1 - alpha / k`` each):
    ``[min_g L_g / max_g U_g, min(1, min_g U_g / max_g L_g)]``.

AUC of one group
    **DeLong's variance on the logit scale, hulled with a Hanley-McNeil score interval.**
    DeLong, DeLong & Clarke-Pearson (1988) estimate the variance of the Mann-Whitney AUC from
    the placement values (each positive's share of negatives scored below it, each negative's
    share of positives scored above it; ties count one half):
    ``Var = S10 / P + S01 / N``. The interval ``logit(A) +- z se / (A (1 - A))``,
    back-transformed, stays inside (0, 1) and is asymmetric near 1 (Qin & Hotilovac 2008; Pepe
    2003, ch. 5). Alone it undercovers where one class is small (simulated 0.90-0.92 with 3-6
    positives, and with about 30 at a high AUC: the placement variance of a few skewed values is
    underestimated exactly when A is overestimated), so it is joined with the score interval that
    inverts ``(A - theta)^2 <= z^2 V_HM(theta)``, ``V_HM`` the Hanley & McNeil (1982) variance
    at ``theta`` with the actual class sizes (a score-type interval in the spirit of Newcombe
    2006): a variance taken at the hypothesised value, not at the estimate, as in Wilson's. The
    hull keeps DeLong's consistency (it adapts to the score distributions, where the
    Hanley-McNeil model does not) and the score method's small-sample behaviour. Where DeLong
    degenerates (A = 0 or 1, zero variance, fewer than 2 effective rows of a class) the interval
    is the continuity-corrected Wilson interval on ``min(P, N)`` rows, conservative by the
    Birnbaum-Klose bound ``Var(A) <= A (1 - A) / min(P, N)``. Weighted data: the weighted
    Mann-Whitney estimate, its linearised (influence-function) variance, which is DeLong's for
    constant weights, and Kish effective class sizes. Closed form and deterministic: no
    bootstrap.

Other statistics (AUC, multiclass macro averages) have no difference interval of their own;
their gaps and ratios use simultaneous group intervals (level ``1 - alpha / k`` each):
``[max(0, max L - min U), max U - min L]``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from scipy.special import expit, logit, ndtri

__all__ = [
    "RATE_INTERVAL",
    "GAP_INTERVAL",
    "INTERVAL_METHOD",
    "AUC_INTERVAL",
    "z_for",
    "wilson_cc",
    "auc_interval",
    "pairwise_gap",
    "simultaneous_gap",
    "ratio_bounds",
]

RATE_INTERVAL = "Wilson score interval with continuity correction (Kish effective n if weighted)"
GAP_INTERVAL = (
    "max - min gaps: simultaneous (Bonferroni over all pairs of compared groups) Newcombe hybrid "
    "score intervals of the pairwise differences; min / max ratios: Bonferroni-simultaneous "
    "group intervals"
)
AUC_INTERVAL = (
    "DeLong variance on the logit scale, hulled with the Hanley-McNeil score interval (a Wilson "
    "interval on min(positives, negatives) rows where DeLong degenerates); AUC gaps and ratios "
    "from Bonferroni-simultaneous group intervals"
)
INTERVAL_METHOD = f"rates: {RATE_INTERVAL}; {GAP_INTERVAL}; AUC: {AUC_INTERVAL}"

GroupCI = Callable[[float], tuple[np.ndarray, np.ndarray]]


def z_for(alpha: float | np.ndarray) -> np.ndarray:
    """Two-sided standard normal quantile ``z_{1 - alpha/2}`` (vectorised)."""
    return np.asarray(ndtri(1.0 - np.asarray(alpha, dtype=float) / 2.0))


def wilson_cc(
    p: np.ndarray, n: np.ndarray, z: float | np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Continuity-corrected Wilson interval of proportions ``p`` measured on ``n`` rows.

    Vectorised over ``p``, ``n`` (floats allowed: Kish effective sizes) and ``z``. Entries with
    ``n <= 0`` or ``p`` NaN give NaN bounds. The bounds are clipped to [0, 1] and always
    contain ``p``; the lower bound is 0 when ``p == 0`` and the upper 1 when ``p == 1``.
    """
    p, n, z = np.broadcast_arrays(
        np.asarray(p, dtype=float), np.asarray(n, dtype=float), np.asarray(z, dtype=float)
    )
    ok = (n > 0) & ~np.isnan(p)
    nn = np.where(ok, n, 1.0)
    pp = np.where(ok, p, 0.5)
    q = 1.0 - pp
    z2 = z * z
    den = 2.0 * (nn + z2)
    lo_arg = np.maximum(z2 - 2.0 - 1.0 / nn + 4.0 * pp * (nn * q + 1.0), 0.0)
    hi_arg = np.maximum(z2 + 2.0 - 1.0 / nn + 4.0 * pp * (nn * q - 1.0), 0.0)
    lo = (2.0 * nn * pp + z2 - 1.0 - z * np.sqrt(lo_arg)) / den
    hi = (2.0 * nn * pp + z2 + 1.0 + z * np.sqrt(hi_arg)) / den
    lo = np.where(pp <= 0.0, 0.0, np.clip(lo, 0.0, 1.0))
    hi = np.where(pp >= 1.0, 1.0, np.clip(hi, 0.0, 1.0))
    lo = np.minimum(lo, pp)
    hi = np.maximum(hi, pp)
    return np.where(ok, lo, np.nan), np.where(ok, hi, np.nan)


def _hanley_mcneil_var(theta: np.ndarray, n_pos: np.ndarray, n_neg: np.ndarray) -> np.ndarray:
    """Hanley & McNeil's (1982) variance of the AUC at ``theta`` (exponential-model Q1, Q2)."""
    t = theta
    shape = 1.0 + (n_pos - 1.0) * (1.0 - t) / (2.0 - t) + (n_neg - 1.0) * t / (1.0 + t)
    return t * (1.0 - t) * shape / (n_pos * n_neg)


def _score_roots(
    a: np.ndarray, n_pos: np.ndarray, n_neg: np.ndarray, z: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Roots of ``(theta - a)^2 = z^2 V_HM(theta)`` below and above ``a`` (0 < a < 1), by
    bisection: the function is ``a^2 > 0`` at 0, ``(1 - a)^2 > 0`` at 1 and negative at ``a``."""
    z2 = z * z

    def f(t: np.ndarray) -> np.ndarray:
        return (t - a) ** 2 - z2 * _hanley_mcneil_var(t, n_pos, n_neg)

    lo_a, lo_b = np.zeros_like(a), a.copy()  # f(lo_a) > 0 >= f(lo_b)
    hi_a, hi_b = a.copy(), np.ones_like(a)  # f(hi_a) <= 0 < f(hi_b)
    for _ in range(60):
        m = 0.5 * (lo_a + lo_b)
        pos = f(m) > 0
        lo_a, lo_b = np.where(pos, m, lo_a), np.where(pos, lo_b, m)
        m = 0.5 * (hi_a + hi_b)
        pos = f(m) > 0
        hi_a, hi_b = np.where(pos, hi_a, m), np.where(pos, m, hi_b)
    return lo_a, hi_b


def auc_interval(
    a: np.ndarray,
    var: np.ndarray,
    n_pos: np.ndarray,
    n_neg: np.ndarray,
    z: float | np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Interval of AUCs ``a`` with DeLong variances ``var`` on ``n_pos`` positives and
    ``n_neg`` negatives (Kish effective sizes if weighted); see the module docstring.

    The hull of the logit DeLong interval and the Hanley-McNeil score interval; where DeLong
    degenerates (``a`` 0 or 1, ``var`` 0 or NaN, a class with fewer than 2 effective rows) the
    continuity-corrected Wilson interval on ``min(n_pos, n_neg)`` rows. NaN ``a`` gives NaN
    bounds. The bounds lie in [0, 1], contain ``a`` and differ whenever ``a`` is defined.
    """
    a, var, n_pos, n_neg, z = np.broadcast_arrays(
        *(np.asarray(x, dtype=float) for x in (a, var, n_pos, n_neg, z))
    )
    lo, hi = wilson_cc(a, np.fmin(n_pos, n_neg), z)
    with np.errstate(invalid="ignore"):
        ok = (a > 0.0) & (a < 1.0) & (var > 0.0) & (n_pos >= 2.0) & (n_neg >= 2.0)
    if not ok.any():
        return lo, hi
    ak, zk, mk, nk = a[ok], z[ok], n_pos[ok], n_neg[ok]
    half = zk * np.sqrt(var[ok]) / (ak * (1.0 - ak))
    lg_lo, lg_hi = expit(logit(ak) - half), expit(logit(ak) + half)
    sc_lo, sc_hi = _score_roots(ak, mk, nk, zk)
    lo, hi = lo.copy(), hi.copy()
    lo[ok] = np.minimum(np.minimum(lg_lo, sc_lo), ak)
    hi[ok] = np.maximum(np.maximum(lg_hi, sc_hi), ak)
    return lo, hi


def pairwise_gap(p: np.ndarray, group_ci: GroupCI, alpha: float) -> tuple[float, float]:
    """Interval of ``max(p) - min(p)`` from simultaneous Newcombe pairwise intervals.

    ``p`` are the compared groups' rates (at least two, none NaN); ``group_ci(a)`` returns
    their Wilson bounds at level ``1 - a``.
    """
    k = len(p)
    m = k * (k - 1) // 2
    lo_g, hi_g = group_ci(alpha / m)
    i, j = np.triu_indices(k, 1)
    d = p[i] - p[j]
    lower = d - np.sqrt((p[i] - lo_g[i]) ** 2 + (hi_g[j] - p[j]) ** 2)
    upper = d + np.sqrt((hi_g[i] - p[i]) ** 2 + (p[j] - lo_g[j]) ** 2)
    # p_i - p_j in [lower, upper]  <=>  p_j - p_i in [-upper, -lower]
    gap_lo = max(0.0, float(np.max(np.maximum(lower, -upper))))
    gap_hi = min(1.0, float(np.max(np.maximum(upper, -lower))))
    point = float(p.max() - p.min())
    return min(gap_lo, point), max(gap_hi, point)


def simultaneous_gap(p: np.ndarray, group_ci: GroupCI, alpha: float) -> tuple[float, float]:
    """Interval of ``max(p) - min(p)`` from group intervals that hold simultaneously."""
    lo_g, hi_g = group_ci(alpha / len(p))
    point = float(p.max() - p.min())
    lo = max(0.0, float(lo_g.max() - hi_g.min()))
    hi = float(hi_g.max() - lo_g.min())
    return min(lo, point), max(hi, point)


def ratio_bounds(p: np.ndarray, group_ci: GroupCI, alpha: float) -> tuple[float, float]:
    """Interval of ``min(p) / max(p)`` from simultaneous group intervals (needs max(p) > 0)."""
    lo_g, hi_g = group_ci(alpha / len(p))
    point = float(p.min() / p.max())
    lo = float(lo_g.min() / hi_g.max()) if hi_g.max() > 0 else 0.0
    hi = 1.0 if lo_g.max() <= 0 else min(1.0, float(hi_g.min() / lo_g.max()))
    if math.isnan(lo) or math.isnan(hi):
        return math.nan, math.nan
    return min(lo, point), max(hi, point)
