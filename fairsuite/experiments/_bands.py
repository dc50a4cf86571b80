"""Seed bands: what a sweep's curves draw at one setting, and the interval around it.

At one setting of a sweep (dataset, test set, model, training size, composition, intervention)
there are ``S`` runs, one per seed. Each run ``s`` trained a model whose accuracy (or gap) on
the population is ``A_s``; seeds differ in the training subsample and the initialisation, so
``A_s`` varies from seed to seed around

    mu = E_seed[A_s],

the **expected accuracy (or gap) of a model trained at this setting, on this population**. That
is what the curve estimates, by the mean over seeds ``m = mean_s a_s`` of the measured values,
and what the band is an interval for. Its error has two parts:

``m - mu = mean_s (A_s - mu) + mean_s (a_s - A_s)``

- *seed variation*: independent across seeds; it shrinks as ``1 / sqrt(S)``, and the spread of
  the runs estimates it (Student t with ``S - 1`` degrees of freedom, the usual interval for a
  mean): ``h_seed = t_{S-1} * sd(a) / sqrt(S)``;
- *test sampling*: every run of a sweep is scored on the same test split, so this part is
  strongly correlated across seeds and does **not** shrink with more seeds. Its standard
  deviation is at most the mean of the runs' own (``sd(mean e) <= mean sd(e)``, whatever the
  correlation), so the mean of the runs' interval half-widths bounds it:
  ``h_test = mean_s (a_s - ci_low_s)`` below and ``mean_s (ci_high_s - a_s)`` above (the Wilson
  and Newcombe intervals of docs/intervals.md; asymmetric near 0 and 1, and for gaps).

The band is ``[m - sqrt(h_test_low^2 + h_seed^2), m + sqrt(h_test_high^2 + h_seed^2)]``, cut to
``[0, 1]``: the half-widths add in quadrature like independent errors (the square-and-add step of
Newcombe's interval for a difference; adding t-scaled half-widths in quadrature is also how
Banerjee's conservative interval for the Behrens-Fisher problem is built). The spread of the runs
also holds the part of the test noise on which the seeds' models disagree, so that part is
counted twice: conservative. With one run the band is that run's interval (``h_seed = 0``), which
covers that model, not the seed-to-seed variation; with two, ``t_1 = 12.7`` makes the band wide --
it takes at least three seeds to say much about the seed-to-seed variation. Like any t interval
on a few draws it falls short when the seeds' accuracies are strongly skewed (a rare bad seed).

For a gap (``max - min``) ``mu`` is the expected gap of such a model, ``E_seed[max - min]``.
Coverage is checked by simulation in ``benchmarks/bench_seed_band.py`` (docs/sweep.md).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["SEED_BAND", "seed_band", "seed_bands"]

SEED_BAND = (
    "line: mean over seeds; band: interval for the expected value of a model trained at that "
    "setting (t interval over seeds combined in quadrature with the runs' mean test-sampling "
    "half-widths; one seed: that run's interval)"
)

_BAD_CI = "seed_band: 'ci' must be a float in (0, 1); got {ci!r}."
_BAD_LENGTHS = (
    "seed_band: 'values', 'ci_low' and 'ci_high' must have the same length; got {a}, {b}, {c}."
)
_MISSING = "seed_bands: 'results' lacks the columns {missing}; it must be fairsuite's tidy table."


def seed_band(
    values: Sequence[float] | np.ndarray,
    ci_low: Sequence[float] | np.ndarray,
    ci_high: Sequence[float] | np.ndarray,
    *,
    ci: float = 0.95,
    bounds: tuple[float, float] = (0.0, 1.0),
) -> tuple[float, float, float, int]:
    """The mean over seeds of one setting's runs and its interval (see the module docstring).

    Parameters
    ----------
    values, ci_low, ci_high
        Each run's estimate and its interval at level ``ci`` (same length). Runs whose value or
        bounds are NaN are left out (the returned count says how many were used).
    ci
        Confidence level of the runs' intervals and of the band.
    bounds
        The range of the statistic; the band is cut to it.

    Returns
    -------
    (mean, low, high, runs)
        ``low <= mean <= high``; NaN with ``runs == 0`` when no run is usable. One run: its own
        interval.
    """
    if isinstance(ci, bool) or not isinstance(ci, (int, float)) or not 0.0 < ci < 1.0:
        raise ValueError(_BAD_CI.format(ci=ci))
    v, lo, hi = (np.asarray(x, dtype=float).ravel() for x in (values, ci_low, ci_high))
    if not len(v) == len(lo) == len(hi):
        raise ValueError(_BAD_LENGTHS.format(a=len(v), b=len(lo), c=len(hi)))
    ok = ~(np.isnan(v) | np.isnan(lo) | np.isnan(hi))
    v, lo, hi = v[ok], lo[ok], hi[ok]
    s = len(v)
    if s == 0:
        return math.nan, math.nan, math.nan, 0
    mean = float(v.mean())
    test_lo = float(np.maximum(v - lo, 0.0).mean())
    test_hi = float(np.maximum(hi - v, 0.0).mean())
    seed = 0.0
    if s > 1:
        from scipy.special import stdtrit

        seed = float(stdtrit(s - 1, 0.5 + ci / 2.0) * v.std(ddof=1) / math.sqrt(s))
    low = max(bounds[0], mean - math.hypot(test_lo, seed))
    high = min(bounds[1], mean + math.hypot(test_hi, seed))
    return mean, min(low, mean), max(high, mean), s


def seed_bands(results: pd.DataFrame, by: Sequence[str], *, ci: float = 0.95) -> pd.DataFrame:
    """:func:`seed_band` of every setting of a sweep's tidy table (``results.parquet``).

    Parameters
    ----------
    results
        Rows of :func:`fairsuite.experiments.tidy` (or a subset of them).
    by
        The columns that make one setting, every other column varying only with the seed,
        e.g. ``["tested_on", "model", "composition", "intervention", "train_size", "kind",
        "attribute", "group", "metric"]``. Missing values (``train_size`` of ``all``) form
        their own setting.
    ci
        Confidence level of the runs' intervals (the sweep's ``ci``) and of the bands.

    Returns
    -------
    pandas.DataFrame
        One row per setting: the ``by`` columns, ``value`` (mean over seeds), ``ci_low``,
        ``ci_high`` (the band), ``runs`` (runs used), ``rows`` (rows of the setting; more than
        ``runs`` when some value or bound was NaN) and
        ``train_rows`` (mean training rows of the runs, when ``results`` has them).
    """
    import pandas as pd

    by = list(by)
    missing = sorted({*by, "value", "ci_low", "ci_high"} - set(results.columns))
    if missing:
        raise ValueError(_MISSING.format(missing=missing))
    out = []
    for keys, g in results.groupby(by, sort=True, dropna=False):
        keys = keys if isinstance(keys, tuple) else (keys,)
        value, low, high, runs = seed_band(g["value"], g["ci_low"], g["ci_high"], ci=ci)
        row = {
            **dict(zip(by, keys, strict=True)),
            "value": value,
            "ci_low": low,
            "ci_high": high,
            "runs": runs,
            "rows": len(g),
        }
        if "train_rows" in g and "train_rows" not in by:
            row["train_rows"] = pd.to_numeric(g["train_rows"], errors="coerce").mean()
        out.append(row)
    cols = [*by, "value", "ci_low", "ci_high", "runs", "rows"]
    if "train_rows" in results.columns and "train_rows" not in by:
        cols.append("train_rows")
    return pd.DataFrame(out, columns=cols)
