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

from fairsuite.exceptions import (
    DatasetIntegrityError,
    DatasetNotFoundError,
    InvalidInputError,
    SpecError,
)
from fairsuite.interventions._strategy import group_keys

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

__all__ = ["MitigatedModel", "mitigate", "load_mitigation", "MITIGATIONS", "CONSTRAINTS"]

MITIGATIONS = ("threshold", "expgrad")
CONSTRAINTS = ("demographic_parity", "equalized_odds")
#: Keys ``mitigation.json`` holds beside the mitigation's summary.
_SAVED_KEYS = ("kind", "random_state", "parameters")
MITIGATION_CHECKSUM = (
    "{file} does not match the sha256 its model's config.json recorded ({expected}, found "
    "{found}); it was changed or belongs to another model. Save the mitigated model again."
)
MITIGATION_UNSAVABLE = (
    "cannot save this {method} mitigation: its {what} has no plain-number form fairsuite can "
    "write (only logistic regressions and constant predictors are saved, never pickles)."
)
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
    ``mitigation.json`` by :meth:`save`, beside the base model's files, with the fitted rule as
    plain numbers). :func:`fairsuite.train.load_model` reads the folder back as a
    ``MitigatedModel`` that predicts exactly as the one saved (never the base model alone).
    """

    randomized = True

    def __init__(
        self,
        base: Any,
        method: str,
        estimator: Any,
        *,
        by: tuple[str, ...],
        summary: dict[str, Any],
        random_state: int,
    ) -> None:
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
        """The base model (as :meth:`TrainedModel.save`) plus ``mitigation.json``.

        ``mitigation.json`` holds the summary (as ``config["mitigation"]``) and the fitted
        rule as plain numbers, never a pickle: per group the two thresholds, their operators
        and probabilities (``threshold``), or each classifier of the mixture with its weight,
        coefficients and intercept (``expgrad``); plus ``by`` and the seed the labels are drawn
        with. ``config.json`` (format 2) names the file and its sha256.
        :func:`fairsuite.train.load_model` reads the two back into a ``MitigatedModel`` that
        gives the same probabilities and labels as this one.

        Raises
        ------
        InvalidInputError
            The folder already holds a model and ``overwrite`` is False, or the mitigation
            holds a classifier with no plain-number form (nothing is written then).
        """
        from fairsuite._io import atomic_write_json, sha256_file

        record = {
            **self.summary,
            "kind": self.method,
            "by": list(self.by),
            "random_state": int(self.random_state),
            "parameters": _parameters(self.method, self.estimator),
        }

        # imported here: evaluating predictions (fairsuite evaluate) must not import training
        from fairsuite.train._model import MITIGATION_FILE

        def write(folder: Path) -> dict[str, Any]:
            atomic_write_json(folder / MITIGATION_FILE, record)
            return {"file": MITIGATION_FILE, "sha256": sha256_file(folder / MITIGATION_FILE)}

        return Path(self.base._save(path, overwrite=overwrite, mitigation=write))


def _number(value: Any) -> str:
    """A float as text that ``float()`` reads back exactly (``inf`` and ``-inf`` included)."""
    return repr(float(value))


def _parameters(method: str, estimator: Any) -> dict[str, Any]:
    """The fitted rule of ``estimator`` as plain numbers (see :meth:`MitigatedModel.save`)."""
    if isinstance(estimator, (_SavedThresholds, _SavedMixture)):
        return estimator.parameters
    if method == "threshold":
        groups = {}
        for group, bunch in estimator.interpolated_thresholder_.interpolation_dict.items():
            d = dict(bunch)
            rule = {"p0": float(d["p0"]), "p1": float(d["p1"])}
            for i in ("0", "1"):
                op = d["operation" + i]
                rule["operator" + i] = str(op.operator)
                rule["threshold" + i] = _number(op.threshold)
            if "p_ignore" in d:
                rule["p_ignore"] = float(d["p_ignore"])
                rule["prediction_constant"] = float(d["prediction_constant"])
            groups[str(group)] = rule
        return {"groups": groups}
    from sklearn.dummy import DummyClassifier
    from sklearn.linear_model import LogisticRegression

    predictors = []
    for t in range(len(estimator._hs)):
        weight = float(estimator.weights_[t])
        entry: dict[str, Any] = {"weight": weight}
        if weight != 0:
            h = estimator.predictors_[t]
            if isinstance(h, LogisticRegression) and len(h.classes_) == 2:
                entry["coef"] = [[_number(v) for v in row] for row in h.coef_]
                entry["intercept"] = [_number(v) for v in h.intercept_]
                entry["classes"] = [int(c) for c in h.classes_]
            elif isinstance(h, DummyClassifier) and h.strategy == "constant":
                entry["constant"] = int(h.constant)
            else:
                raise InvalidInputError(
                    MITIGATION_UNSAVABLE.format(method=method, what=type(h).__name__)
                )
        predictors.append(entry)
    return {"predictors": predictors}


class _SavedThresholds:
    """ThresholdOptimizer's fitted rule from saved numbers; computes what its
    ``_pmf_predict`` computes (fairlearn's InterpolatedThresholder), operation for operation.
    A group it was not fitted on gets probability 0 of the positive label, as in fairlearn."""

    def __init__(self, parameters: dict[str, Any]) -> None:
        self.parameters = parameters

    def _pmf_predict(self, x: Any, *, sensitive_features: Any) -> np.ndarray:
        import numpy as np

        score = np.asarray(x, dtype=float).reshape(len(x), -1)[:, 0]
        groups = np.asarray(sensitive_features).astype(str)
        positive = 0.0 * score
        for group, r in self.parameters["groups"].items():
            ops = []
            for i in ("0", "1"):
                t = float(r["threshold" + i])
                ops.append(score > t if r["operator" + i] == ">" else score < t)
            rule = r["p0"] * ops[0] + r["p1"] * ops[1]
            if "p_ignore" in r:
                rule = r["p_ignore"] * r["prediction_constant"] + (1 - r["p_ignore"]) * rule
            mask = groups == group
            positive[mask] = rule[mask]
        return np.array([1.0 - positive, positive]).transpose()


class _SavedMixture:
    """ExponentiatedGradient's fitted mixture from saved numbers; computes what its
    ``_pmf_predict`` computes: the weighted vote of the classifiers' labels."""

    def __init__(self, parameters: dict[str, Any]) -> None:
        self.parameters = parameters

    def _pmf_predict(self, x: Any) -> np.ndarray:
        import numpy as np
        import pandas as pd

        pred = {}
        for t, h in enumerate(self.parameters["predictors"]):
            if h["weight"] == 0:
                pred[t] = np.zeros(len(x))
            elif "constant" in h:
                pred[t] = np.full(len(x), h["constant"], dtype=np.int64)
            else:
                coef = np.array([[float(v) for v in row] for row in h["coef"]])
                intercept = np.array([float(v) for v in h["intercept"]])
                scores = x @ coef.T + intercept
                scores = scores.reshape(-1) if scores.shape[1] == 1 else scores
                pred[t] = np.asarray(h["classes"], dtype=np.int64)[(scores > 0).astype(int)]
        frame = pd.DataFrame(pred)
        weights = pd.Series([h["weight"] for h in self.parameters["predictors"]])
        positive = frame[weights.index].dot(weights).to_frame()
        return np.concatenate((1 - positive, positive), axis=1)


def load_mitigation(folder: Path, base: Any, reference: dict[str, Any]) -> MitigatedModel:
    """The mitigated model saved in ``folder`` around the loaded ``base`` (called by
    :func:`fairsuite.train.load_model` for a model saved in format 2).

    Raises
    ------
    DatasetNotFoundError
        The mitigation file ``config.json`` names is missing.
    DatasetIntegrityError
        Its sha256 is not the one ``config.json`` recorded.
    """
    import json

    from fairsuite._io import sha256_file
    from fairsuite.train._model import LOAD_MISSING

    path = Path(folder) / reference["file"]
    if not path.is_file():
        raise DatasetNotFoundError(LOAD_MISSING.format(path=folder, file=path.name))
    found = sha256_file(path)
    if found != reference["sha256"]:
        raise DatasetIntegrityError(
            MITIGATION_CHECKSUM.format(file=path, expected=reference["sha256"], found=found)
        )
    record = json.loads(path.read_text("utf-8"))
    method = record["kind"]
    params = record["parameters"]
    estimator = _SavedThresholds(params) if method == "threshold" else _SavedMixture(params)
    summary = {k: v for k, v in record.items() if k not in _SAVED_KEYS}
    return MitigatedModel(
        base,
        method,
        estimator,
        by=tuple(record["by"]),
        summary=summary,
        random_state=int(record["random_state"]),
    )


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
                "iterations": int(len(est.lambda_vecs_.columns))
                if hasattr(est, "lambda_vecs_")
                else None,
                "predictors": int(sum(w > 0 for w in weights)),
                "weights": [round(w, 6) for w in weights if w > 0],
            }
    return MitigatedModel(model, method, est, by=by, summary=summary, random_state=random_state)
