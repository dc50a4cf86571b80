"""Model-side mitigations from fairlearn, as interventions of kind ``mitigate``.

- ``threshold``: fairlearn's ``ThresholdOptimizer`` (Hardt et al. 2016) on the trained model's
  scores of the training rows: group-specific, randomised thresholds that satisfy the
  constraint on the training rows. Any binary model (tables or images).
- ``expgrad``: fairlearn's ``ExponentiatedGradient`` (Agarwal et al. 2018) reduction with
  logistic regression on the model's preprocessed features: a randomised mixture of
  classifiers.

Both need the sensitive attribute at prediction time (the test rows' own ``balance_by``
columns), and both predict at random: :meth:`MitigatedModel.predict_proba` returns the
probability of predicting the positive label, and :meth:`MitigatedModel.predict` draws the
labels from it with the run's seed (the randomisation is part of the method; a rounded
``predict_proba`` would not keep the constraint).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fairsuite.exceptions import SpecError
from fairsuite.interventions._strategy import group_keys

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

__all__ = ["MitigatedModel", "mitigate", "MITIGATIONS", "CONSTRAINTS"]

MITIGATIONS = ("threshold", "expgrad")
CONSTRAINTS = ("demographic_parity", "equalized_odds")
MITIGATION_FILE = "mitigation.json"
NOT_BINARY = (
    "--intervention {method} needs a binary task; {name!r} has classes {classes}. Choose a "
    "data-side intervention (reweigh, oversample, undersample)."
)
EXPGRAD_MODEL = (
    "--intervention expgrad trains logistic regressions (fairlearn's ExponentiatedGradient); "
    "pass --model logreg (got {model!r})."
)


class MitigatedModel:
    """A trained model with a fairlearn mitigation on top; predicts like a TrainedModel.

    ``kind``, ``name``, ``classes``, ``history``, ``best_epoch`` and ``device`` are the base
    model's; ``config`` is the base model's with a ``mitigation`` entry (also written to
    ``mitigation.json`` by :meth:`save`, beside the base model's files).
    """

    randomized = True

    def __init__(self, base: Any, method: str, estimator: Any, *, by: tuple[str, ...],
                 summary: dict[str, Any], random_state: int) -> None:
        self.base = base
        self.method = method
        self.estimator = estimator
        self.by = by
        self.summary = summary
        self.random_state = random_state
        self.kind = base.kind
        self.name = base.name
        self.classes = base.classes
        self.history = base.history
        self.best_epoch = base.best_epoch
        self.device = base.device
        self.config = {**base.config, "mitigation": summary}

    def __repr__(self) -> str:
        return f"MitigatedModel({self.method}, base={self.base!r})"

    def predict_proba(self, data: Any, *, progress: bool = False) -> np.ndarray:
        """``(n, 2)``: the probability of predicting each label (the randomised rule)."""
        import numpy as np

        from fairsuite.train._model import _table_of

        table = _table_of(data)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            if self.method == "threshold":
                score = self.base.predict_proba(table, progress=progress)[:, 1]
                pmf = self.estimator._pmf_predict(
                    score.reshape(-1, 1), sensitive_features=group_keys(table, self.by).to_numpy()
                )
            else:
                pmf = self.estimator._pmf_predict(self.base._preprocessor.transform(table))
        p1 = np.clip(np.asarray(pmf, dtype=float)[:, 1], 0.0, 1.0)
        return np.stack([1.0 - p1, p1], axis=1)

    def predict(self, data: Any, *, progress: bool = False) -> np.ndarray:
        """Label codes drawn from :meth:`predict_proba` with the run's seed."""
        import numpy as np

        p1 = self.predict_proba(data, progress=progress)[:, 1]
        rng = np.random.default_rng(self.random_state)
        return (rng.random(len(p1)) < p1).astype(np.int64)

    def save(self, path: Any, *, overwrite: bool = False) -> Path:
        """The base model (as :meth:`TrainedModel.save`) plus ``mitigation.json``, the fitted
        mitigation in words and numbers (thresholds per group, or the mixture's weights).
        :func:`fairsuite.train.load_model` reads the base model back."""
        from fairsuite._io import atomic_write_json

        folder = self.base.save(path, overwrite=overwrite)
        atomic_write_json(Path(folder) / MITIGATION_FILE, self.summary)
        return Path(folder)


def _score_as_proba() -> Any:
    """A 'prefit' scikit-learn classifier whose input is the base model's positive score
    (defined on first use: scikit-learn is not imported with the package)."""
    import numpy as np
    from sklearn.base import BaseEstimator, ClassifierMixin

    class ScoreAsProba(ClassifierMixin, BaseEstimator):
        def fit(self, x: Any, y: Any, **kw: Any) -> Any:  # pragma: no cover - prefit
            return self

        def predict_proba(self, x: Any) -> np.ndarray:
            s = np.asarray(x, dtype=float).reshape(len(x), -1)[:, 0]
            return np.stack([1.0 - s, s], axis=1)

        def predict(self, x: Any) -> np.ndarray:
            return (self.predict_proba(x)[:, 1] >= 0.5).astype(int)

    est = ScoreAsProba()
    est.classes_ = np.array([0, 1])
    est.fitted_ = True
    return est


def check_mitigation(method: str, *, classes: tuple[str, ...], model: str, name: str) -> None:
    """Refuse what a mitigation cannot do, before training (exit code 2)."""
    if len(classes) != 2:
        raise SpecError(NOT_BINARY.format(method=method, name=name, classes=list(classes)))
    if method == "expgrad" and model != "logreg":
        raise SpecError(EXPGRAD_MODEL.format(model=model))


def mitigate(
    model: Any,
    table: pd.DataFrame,
    *,
    method: str,
    by: tuple[str, ...],
    constraint: str = "demographic_parity",
    random_state: int = 0,
) -> MitigatedModel:
    """Fit fairlearn's ``method`` ("threshold" or "expgrad") on the training rows ``table``.

    The constraint is ``"demographic_parity"`` (equal selection rates) or
    ``"equalized_odds"`` (equal TPR and FPR) over the groups of ``by``.
    """
    import numpy as np

    if method not in MITIGATIONS:
        raise SpecError(f"mitigation must be one of {', '.join(MITIGATIONS)}; got {method!r}.")
    if constraint not in CONSTRAINTS:
        raise SpecError(f"constraint must be one of {', '.join(CONSTRAINTS)}; got {constraint!r}.")
    y = table["y"].to_numpy(dtype=np.int64)
    sensitive = group_keys(table, by).to_numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        if method == "threshold":
            from fairlearn.postprocessing import ThresholdOptimizer

            score = model.predict_proba(table)[:, 1].reshape(-1, 1)
            est = ThresholdOptimizer(
                estimator=_score_as_proba(),
                constraints=constraint,
                objective="accuracy_score",
                prefit=True,
                predict_method="predict_proba",
            )
            est.fit(score, y, sensitive_features=sensitive)
            rules = {
                str(group): {
                    k: (repr(v) if k.startswith("operation") else float(v))
                    for k, v in dict(b).items()
                }
                for group, b in est.interpolated_thresholder_.interpolation_dict.items()
            }
            summary = {
                "method": "fairlearn ThresholdOptimizer (Hardt et al. 2016), prefit on the "
                "model's scores of the training rows",
                "constraint": constraint,
                "by": list(by),
                "rows": len(table),
                "rules": rules,
            }
        else:
            from fairlearn.reductions import (
                DemographicParity,
                EqualizedOdds,
                ExponentiatedGradient,
            )
            from sklearn.linear_model import LogisticRegression

            moment = DemographicParity() if constraint == "demographic_parity" else EqualizedOdds()
            x = model._preprocessor.transform(table)
            est = ExponentiatedGradient(
                LogisticRegression(C=1.0, max_iter=2000, random_state=random_state),
                constraints=moment,
            )
            est.fit(x, y, sensitive_features=sensitive)
            weights = [float(w) for w in est.weights_.to_numpy()]
            summary = {
                "method": "fairlearn ExponentiatedGradient (Agarwal et al. 2018) with logistic "
                "regression on the model's preprocessed features of the training rows",
                "constraint": constraint,
                "by": list(by),
                "rows": len(table),
                "eps": float(est.eps),
                "max_iter": int(est.max_iter),
                "iterations": int(len(est.lambda_vecs_.columns)) if hasattr(
                    est, "lambda_vecs_") else None,
                "predictors": int(sum(w > 0 for w in weights)),
                "weights": [round(w, 6) for w in weights if w > 0],
            }
    return MitigatedModel(model, method, est, by=by, summary=summary, random_state=random_state)
