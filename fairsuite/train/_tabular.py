"""Tabular models behind one preprocessing step: logistic regression, gradient boosting, MLP."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fairsuite.exceptions import InvalidInputError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

__all__ = ["Preprocessor", "LinearModel"]

MISSING_FEATURES = (
    "the table lacks feature column(s) {missing} that the model was trained on (it has: "
    "{present}). Pass a table with the same feature columns as the training data."
)
NO_FEATURES = (
    "dataset {name!r} lists no feature columns (Dataset.features is empty), so a tabular model "
    "has nothing to learn from. Load it with fairsuite.data.load_dataset or set features=."
)

_MISSING = "<missing>"


class Preprocessor:
    """One-hot categoricals (unknown -> all zeros) and standardised numerics, as plain JSON.

    Numeric columns (numeric dtype, not bool) are centred and scaled with the (weighted) mean
    and standard deviation of the training rows; missing numbers become the mean (so 0 after
    scaling). Every other column is a category: its levels are the sorted distinct strings of
    the training rows, a missing value is its own level ``"<missing>"``, and a level not seen in
    training encodes as all zeros.
    """

    def __init__(self, params: dict[str, Any]) -> None:
        self.params = params

    @classmethod
    def fit(
        cls, frame: pd.DataFrame, features: tuple[str, ...], weight: np.ndarray | None
    ) -> Preprocessor:
        """Learn the encoding from ``frame[features]`` (rows weighted by ``weight``)."""
        import numpy as np
        import pandas as pd

        columns: list[dict[str, Any]] = []
        w = np.ones(len(frame)) if weight is None else np.asarray(weight, dtype=float)
        for name in features:
            col = frame[name]
            if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
                v = col.to_numpy(dtype=float)
                m = ~np.isnan(v)
                ww = w[m]
                mean = float(np.average(v[m], weights=ww)) if ww.sum() > 0 else 0.0
                var = float(np.average((v[m] - mean) ** 2, weights=ww)) if ww.sum() > 0 else 0.0
                std = float(np.sqrt(var)) or 1.0
                columns.append({"name": name, "type": "numeric", "mean": mean, "std": std})
            else:
                levels = sorted(set(_as_str(col).tolist()))
                columns.append({"name": name, "type": "categorical", "levels": levels})
        return cls({"columns": columns})

    @property
    def n_outputs(self) -> int:
        """Width of the encoded matrix."""
        return sum(
            1 if c["type"] == "numeric" else len(c["levels"]) for c in self.params["columns"]
        )

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        """Encode ``frame`` into a float32 matrix (one row per table row)."""
        import numpy as np

        cols = self.params["columns"]
        missing = [c["name"] for c in cols if c["name"] not in frame.columns]
        if missing:
            raise InvalidInputError(
                MISSING_FEATURES.format(missing=missing, present=list(map(str, frame.columns)))
            )
        out = np.zeros((len(frame), self.n_outputs), dtype=np.float32)
        j = 0
        for c in cols:
            col = frame[c["name"]]
            if c["type"] == "numeric":
                v = col.to_numpy(dtype=float)
                v = np.where(np.isnan(v), c["mean"], v)
                out[:, j] = (v - c["mean"]) / c["std"]
                j += 1
            else:
                levels = c["levels"]
                index = {lv: i for i, lv in enumerate(levels)}
                codes = np.array([index.get(s, -1) for s in _as_str(col).tolist()], dtype=np.int64)
                known = codes >= 0
                out[np.flatnonzero(known), j + codes[known]] = 1.0
                j += len(levels)
        return out


def _as_str(col: pd.Series) -> pd.Series:
    return col.astype(object).where(col.notna(), _MISSING).astype(str)


def one_blas_thread() -> Any:
    """A context in which BLAS runs on one thread. BLAS sums in an order that depends on its
    thread count, and lbfgs carries those last-bit differences into the coefficients (a few
    test predictions flip on Adult at 8,000 rows), so logistic regression fits and scores on
    one thread: the same model on every machine and executor, at little cost (tabular sizes)."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


class LinearModel:
    """Logistic-regression scorer from stored coefficients (what ``LogisticRegression`` learnt).

    Binary: ``p1 = sigmoid(x . w + b)``; multiclass: softmax of ``x W^T + b`` -- exactly what
    scikit-learn's ``predict_proba`` computes for the lbfgs multinomial fit.
    """

    def __init__(self, coef: np.ndarray, intercept: np.ndarray) -> None:
        import numpy as np

        self.coef = np.asarray(coef, dtype=np.float64)
        self.intercept = np.asarray(intercept, dtype=np.float64)

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """Class probabilities, ``(n, K)``."""
        import numpy as np
        from scipy.special import expit, softmax

        with one_blas_thread():
            z = x.astype(np.float64) @ self.coef.T + self.intercept
        if self.coef.shape[0] == 1:
            p = expit(z[:, 0])
            return np.stack([1.0 - p, p], axis=1)
        return softmax(z, axis=1)  # type: ignore[no-any-return]


def fit_logreg(
    x: np.ndarray, y: np.ndarray, w: np.ndarray | None, *, random_state: int, n_classes: int
) -> LinearModel:
    """Fit scikit-learn's ``LogisticRegression`` (lbfgs, C=1) and keep its coefficients."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(C=1.0, max_iter=2000, random_state=random_state)
    with one_blas_thread():
        clf.fit(x, y, sample_weight=w)
    coef, intercept = clf.coef_, clf.intercept_
    present = clf.classes_
    if len(present) != n_classes:  # a class missing from training: give it -inf odds
        if n_classes == 2:
            raise InvalidInputError(
                "only one class is present in the training rows; a classifier needs both. "
                "Check the split and the sample weights."
            )
        full_c = np.zeros((n_classes, coef.shape[1]))
        full_b = np.full(n_classes, -1e9)
        full_c[present] = coef
        full_b[present] = intercept
        coef, intercept = full_c, full_b
    return LinearModel(coef, intercept)


def fit_hgb(x: np.ndarray, y: np.ndarray, w: np.ndarray | None, *, random_state: int) -> Any:
    """Fit scikit-learn's ``HistGradientBoostingClassifier`` (200 rounds, no inner early stop)."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    clf = HistGradientBoostingClassifier(
        max_iter=200, learning_rate=0.1, early_stopping=False, random_state=random_state
    )
    clf.fit(x, y, sample_weight=w)
    return clf


def hgb_proba(clf: Any, x: np.ndarray, n_classes: int) -> np.ndarray:
    """``predict_proba`` of a fitted HGB, widened to all ``n_classes`` columns."""
    import numpy as np

    p = clf.predict_proba(x)
    if p.shape[1] == n_classes:
        return p  # type: ignore[no-any-return]
    full = np.zeros((len(x), n_classes))
    full[:, clf.classes_] = p
    return full


def make_mlp(n_in: int, n_classes: int, hidden: tuple[int, ...] = (128, 64)) -> Any:
    """A small torch MLP: Linear-ReLU-Dropout blocks, then a linear head."""
    from torch import nn

    layers: list[nn.Module] = []
    prev = n_in
    for h in hidden:
        layers += [nn.Linear(prev, h), nn.ReLU(), nn.Dropout(0.1)]
        prev = h
    layers.append(nn.Linear(prev, n_classes))
    return nn.Sequential(*layers)
