"""Interventions: change the training split on purpose; the test split stays real and untouched.

Data-side, in imbalanced-learn's spirit -- an object whose ``fit_resample(table)`` returns a new
table (the caller's is never changed) and exposes ``sample_indices_`` (the input rows the
output rows come from; -1 for synthetic rows):

- :class:`Reweigher` -- sample weights so every group x label cell weighs its target share
  (to ``"parity"``: Kamiran & Calders 2012, w(g, c) = N_g * N_c / (N * N_gc));
- :class:`RandomUnderSampler`, :class:`RandomOverSampler` -- drop or repeat rows;
- :class:`ImageAugmenter` -- oversample images, copies seen through random transforms;
- :class:`SyntheticAugmenter` -- fill cells with SDV synthetic rows (``fairsuite[synth]``);
- :func:`nested_subsets` / :class:`NestedSubsampler` -- subsets n1 ⊂ n2 ⊂ ... at one
  composition, so a size curve measures size, not resampling noise.

``sampling_strategy`` is ``"uniform"`` (equal group sizes), ``"parity"`` (equal base rates in
every group), ``"natural"`` (as observed), a mapping group -> share (or group -> label ->
share), or another dataset's composition; ``by`` names the sensitive attribute(s) whose groups
(or intersection) are balanced.

Model-side (kind ``mitigate``): :func:`mitigate` wraps a trained model in fairlearn's
``ThresholdOptimizer`` (``"threshold"``) or ``ExponentiatedGradient`` (``"expgrad"``), with
demographic parity or equalized odds.

In a run, ``--intervention``, ``--balance`` and ``--balance-by`` (``intervention:``,
``balance:`` and ``balance_by:`` in a spec) choose one; see README "Interventions".

Examples
--------
>>> from fairsuite.interventions import Reweigher
>>> rw = Reweigher("parity", by="gender", classes=["<=50K", ">50K"])  # doctest: +SKIP
>>> weighted = rw.fit_resample(train)  # doctest: +SKIP
"""

from __future__ import annotations

from fairsuite.interventions._apply import (
    DATA_INTERVENTIONS,
    INTERVENTIONS,
    Plan,
    apply_intervention,
    default_balance,
    plan_intervention,
)
from fairsuite.interventions._mitigate import CONSTRAINTS, MitigatedModel, mitigate
from fairsuite.interventions._resample import (
    ImageAugmenter,
    NestedSubsampler,
    RandomOverSampler,
    RandomUnderSampler,
    Reweigher,
    nested_subsets,
)
from fairsuite.interventions._strategy import STRATEGY_NAMES, cell_counts, target_shares
from fairsuite.interventions._synth import SYNTHESIZERS, SyntheticAugmenter

__all__ = [
    "Reweigher",
    "RandomUnderSampler",
    "RandomOverSampler",
    "ImageAugmenter",
    "SyntheticAugmenter",
    "NestedSubsampler",
    "nested_subsets",
    "mitigate",
    "MitigatedModel",
    "target_shares",
    "cell_counts",
    "plan_intervention",
    "apply_intervention",
    "default_balance",
    "Plan",
    "INTERVENTIONS",
    "DATA_INTERVENTIONS",
    "STRATEGY_NAMES",
    "SYNTHESIZERS",
    "CONSTRAINTS",
]
