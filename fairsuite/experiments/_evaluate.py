"""``evaluate``: the last stage alone, on any predictions -- also those of a model fairsuite did
not train.

Most teams that gate on fairness train their own models. :func:`evaluate` takes a predictions
table (CSV/TSV/Parquet, or a DataFrame) with a true-label column, a predicted-label column (or
a score and a threshold) and the sensitive columns, and gives the same :class:`RunRecord` --
result, headline, summary, report -- as an audit. :func:`reevaluate` recomputes a finished
run's result from its ``predictions.parquet`` with other evaluation settings (interval level,
bootstrap replicates, minimum group size, attributes), without retraining. Neither imports
torch.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fairsuite.exceptions import DataChangeWarning, InvalidInputError, SpecError
from fairsuite.experiments._record import DatasetRecord, RunRecord
from fairsuite.experiments._run import environment, evaluate_stage
from fairsuite.experiments._spec import RunSpec

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["evaluate", "reevaluate"]

_NO_COLUMN = (
    "{source}: no column {column!r} (given as {option}). Columns: {available}. Fix {option}."
)
_MISSING_LABELS = (
    "{source}: column {column!r} has {count} missing values (first at row {row}); every row "
    "needs a label. Drop those rows yourself (and report how many) or fill them."
)
_NEED_PRED = (
    "{source}: pass y_pred (--y-pred COLUMN), or score and threshold (--score, --threshold)"
)
_THRESHOLD_BINARY = (
    "{source}: a threshold turns a score into a binary prediction, but {column!r} has "
    "{k} labels {labels}; pass y_pred for multiclass predictions"
)
_BAD_SCORE = (
    "{source}: score column {column!r} must hold finite numbers; {count} values do not (first "
    "at row {row}: {value!r})."
)
_POS_UNKNOWN = "{source}: positive label {value!r} is not among the labels {labels} of {column!r}"
_NOT_A_RUN = (
    "{path} is not a run folder: it needs result.json and predictions.parquet (written by "
    "`fairsuite audit`). Pass the folder of an audit, or a predictions file."
)
_NO_SENSITIVE = "{source}: pass at least one sensitive column (--sensitive COLUMN)"


def _labels(series: pd.Series) -> pd.Series:
    """Labels as strings; integral numbers without a decimal part (1.0 -> "1")."""
    import pandas as pd

    if pd.api.types.is_bool_dtype(series):
        return series.astype(int).astype(str)
    if pd.api.types.is_numeric_dtype(series):
        values = series.to_numpy(dtype=float)
        if (values == values.round()).all():
            return pd.Series(values.astype("int64").astype(str), index=series.index)
    return series.astype(str)


def _read(source: str | os.PathLike[str] | pd.DataFrame) -> tuple[pd.DataFrame, str, dict]:
    from fairsuite._io import sha256_file

    if not isinstance(source, (str, os.PathLike)):
        return source, "predictions", {}
    from fairsuite.data._loaders import _read_any

    path = Path(source)
    if not path.is_file():
        raise InvalidInputError(f"{path}: no such predictions file. Pass a CSV/TSV/Parquet file.")
    return _read_any(path), str(path), {path.name: sha256_file(path)}


def evaluate(
    predictions: str | os.PathLike[str] | pd.DataFrame,
    *,
    y_true: str = "y_true",
    y_pred: str | None = "y_pred",
    score: str | None = None,
    threshold: float | None = None,
    sensitive: Sequence[str] = (),
    positive_label: str | None = None,
    target_attributes: Sequence[str] = (),
    n_boot: int = 1000,
    ci: float = 0.95,
    min_group_size: int = 30,
    seed: int = 0,
) -> RunRecord:
    """Evaluate a predictions table, as an audit evaluates its own model's predictions.

    Parameters
    ----------
    predictions : path or DataFrame
        CSV/TSV/Parquet file, or a DataFrame (not modified), one row per scored example.
    y_true : str, default "y_true"
        Column with the true labels.
    y_pred : str or None, default "y_pred"
        Column with the predicted labels. ``None`` (or a column that does not exist while
        ``score`` and ``threshold`` are given) derives them: positive when
        ``score >= threshold``.
    score : str, optional
        Column with the score of the positive label (enables AUC; binary only).
    threshold : float, optional
        Turns ``score`` into predictions (e.g. COMPAS's decile score >= 5, "medium or high").
    sensitive : sequence of str
        Columns to break errors down by (at least one). Missing values become the group
        ``"missing"``, announced.
    positive_label : str, optional
        The positive class, as written in the file; default ``"1"`` for 0/1 labels, else the
        last label in sorted order.
    target_attributes : sequence of str
        Sensitive columns that are the target (compared by accuracy only).
    n_boot, ci, min_group_size, seed
        Evaluation settings, as for an audit.

    Returns
    -------
    RunRecord
        ``kind == "evaluate"``, without a training record.
    """
    import numpy as np
    import pandas as pd

    t0 = time.perf_counter()
    frame, where, checksums = _read(predictions)
    name = Path(where).stem if checksums else "predictions"
    sensitive = (sensitive,) if isinstance(sensitive, str) else tuple(sensitive)
    if not sensitive:
        raise SpecError(_NO_SENSITIVE.format(source=where))
    spec = RunSpec.from_dict(
        {
            "dataset": where if checksums else "predictions.parquet",
            "target": y_true,
            "sensitive": sensitive,
            "positive_label": positive_label,
            "n_boot": n_boot,
            "ci": ci,
            "min_group_size": min_group_size,
            "seed": seed,
        },
        source="evaluate options",
    )
    columns = list(frame.columns)
    derive = score is not None and threshold is not None and (y_pred is None or y_pred not in frame)
    needed = [("y_true", y_true)] + ([] if derive else [("y_pred", y_pred)])
    needed += [("score", score)] if score is not None else []
    needed += [("sensitive", c) for c in sensitive]
    for option, column in needed:
        if column is None:
            raise SpecError(_NEED_PRED.format(source=where))
        if column not in frame.columns:
            raise InvalidInputError(
                _NO_COLUMN.format(
                    source=where, column=column, option=f"--{option.replace('_', '-')}",
                    available=", ".join(map(str, columns[:30])),
                )
            )
    for column in [y_true] + ([] if derive else [y_pred]):
        miss = frame[column].isna().to_numpy()
        if miss.any():
            raise InvalidInputError(
                _MISSING_LABELS.format(
                    source=where, column=column, count=int(miss.sum()),
                    row=int(np.flatnonzero(miss)[0]),
                )
            )
    truth = _labels(frame[y_true])
    labels = sorted(set(truth) | (set() if derive else set(_labels(frame[y_pred]))))
    if positive_label is not None:
        positive = str(positive_label)
        if positive not in labels and not (derive and len(labels) <= 2):
            raise InvalidInputError(
                _POS_UNKNOWN.format(source=where, value=positive, labels=labels, column=y_true)
            )
    else:
        positive = "1" if set(labels) <= {"0", "1"} else (labels[-1] if len(labels) == 2 else None)
    scores = None
    if score is not None:
        scores = pd.to_numeric(frame[score], errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(scores)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InvalidInputError(
                _BAD_SCORE.format(
                    source=where, column=score, count=int(bad.sum()), row=i,
                    value=frame[score].iloc[i],
                )
            )
    if derive:
        if len(labels) > 2 or positive is None:
            raise InvalidInputError(
                _THRESHOLD_BINARY.format(source=where, column=y_true, k=len(labels), labels=labels)
            )
        if len(labels) == 1:
            labels = sorted({labels[0], positive}) if positive != labels[0] else ["0", "1"]
        negative = next(lab for lab in labels if lab != positive)
        predicted = np.where(scores >= float(threshold), positive, negative)  # type: ignore[operator]
    else:
        predicted = _labels(frame[y_pred]).to_numpy()
    classes = tuple(labels)
    if positive is not None and len(classes) == 2:  # the positive class is code 1
        classes = (next(c for c in classes if c != positive), positive)

    changes: list[str] = []
    recoded: dict[str, int] = {}
    table = pd.DataFrame(
        {
            "row_id": frame["row_id"].astype(str).to_numpy()
            if "row_id" in frame
            else np.arange(len(frame)).astype(str),
            "split": "test",
            "y_true": truth.to_numpy(),
            "y_pred": predicted,
            "score": scores if scores is not None and len(classes) == 2 else np.nan,
        }
    )
    for col in sensitive:
        values = frame[col]
        miss = values.isna()
        if miss.any():
            message = (
                f"{where}: {int(miss.sum())} of {len(frame)} rows have no value in sensitive "
                f"column {col!r}; they are audited as their own group 'missing'"
            )
            warnings.warn(message, DataChangeWarning, stacklevel=2)
            changes.append(message)
            recoded[f"{col}: missing value kept as group 'missing'"] = int(miss.sum())
            values = values.astype(object).where(~miss, "missing")
        table[col] = values.astype(str).to_numpy()
    notes = (
        [f"{where}: predictions derived as {positive!r} where {score!r} >= {threshold}"]
        if derive
        else []
    )

    targets = tuple(target_attributes)
    result, baseline = evaluate_stage(
        table,
        classes=classes,
        positive_label=classes[1] if len(classes) == 2 else None,
        audited=sensitive,
        targets=targets,
        spec=spec,
    )
    from fairsuite.metrics import headline

    audited_table = table.assign(y=pd.Categorical(table["y_true"], categories=classes).codes)
    dataset = DatasetRecord(
        name=name,
        kind="predictions",
        task=y_true,
        classes=classes,
        positive_label=classes[1] if len(classes) == 2 else None,
        sensitive=sensitive,
        audited=sensitive,
        target_attributes=targets,
        synthetic=False,
        root=str(Path(where).parent) if checksums else None,
        checksums=checksums,
        integrity={"status": "unchecked", "checked": [], "mismatches": []},
        load_report={
            "rows_read": len(frame),
            "rows_kept": len(table),
            "dropped": {},
            "examples": {},
            "images_listed": None,
            "images_present": None,
            "recoded": recoded,
            "notes": notes,
            "changes": changes,
            "dropped_by_split": {},
        },
        composition=_composition(audited_table, sensitive, classes),
    )
    source = {
        "predictions": where,
        "y_true": y_true,
        "y_pred": None if derive else y_pred,
        "score": score,
        "threshold": threshold,
    }
    return RunRecord(
        kind="evaluate",
        spec=spec,
        config_hash=spec.config_hash(source=source, checksums=checksums),
        settings={"model": "external"},
        dataset=dataset,
        training=None,
        result=result,
        headline=headline(result),
        majority_baseline=baseline,
        timings={"evaluate": time.perf_counter() - t0},
        environment=environment(),
        source=source,
        predictions=table,
    )


def _composition(
    table: pd.DataFrame, sensitive: tuple[str, ...], classes: tuple[str, ...]
) -> dict[str, Any]:
    from fairsuite.data import Dataset, composition

    ds = Dataset(
        name="predictions",
        kind="tabular",
        table=table,
        task="y_true",
        classes=classes,
        sensitive=sensitive,
    )
    return composition(ds)


def reevaluate(
    run_dir: str | os.PathLike[str],
    *,
    n_boot: int | None = None,
    ci: float | None = None,
    min_group_size: int | None = None,
    sensitive: Sequence[str] | None = None,
    seed: int | None = None,
) -> RunRecord:
    """Recompute a finished run's result from its ``predictions.parquet``, without retraining.

    Settings not given keep the run's values. ``sensitive`` may name any audited attribute of
    the run (the predictions keep the audited columns only).
    """
    import pandas as pd

    from fairsuite.metrics import headline

    folder = Path(run_dir)
    result_path, pred_path = folder / "result.json", folder / "predictions.parquet"
    if not result_path.is_file() or not pred_path.is_file():
        raise InvalidInputError(_NOT_A_RUN.format(path=folder))
    old = RunRecord.from_dict(json.loads(result_path.read_text(encoding="utf-8")))
    predictions = pd.read_parquet(pred_path)
    audited = tuple(sensitive) if sensitive else old.dataset.audited
    for col in audited:
        if col not in predictions.columns:
            raise InvalidInputError(
                f"{pred_path}: the run audited {list(old.dataset.audited)}; {col!r} is not among "
                "its predictions' columns. Pass --sensitive with those attributes."
            )
    spec = old.spec.replace(
        n_boot=n_boot, ci=ci, min_group_size=min_group_size, seed=seed, sensitive=audited
    )
    targets = tuple(t for t in old.dataset.target_attributes if t in audited)
    t0 = time.perf_counter()
    result, baseline = evaluate_stage(
        predictions,
        classes=old.dataset.classes,
        positive_label=old.dataset.positive_label,
        audited=audited,
        targets=targets,
        spec=spec,
    )
    return dataclasses.replace(
        old,
        kind="evaluate",
        spec=spec,
        config_hash=spec.config_hash(**old.settings, reevaluated=old.config_hash),
        dataset=dataclasses.replace(old.dataset, audited=audited, target_attributes=targets),
        result=result,
        headline=headline(result),
        majority_baseline=baseline,
        timings={"evaluate": time.perf_counter() - t0},
        source={"run": str(folder), "config_hash": old.config_hash},
        predictions=predictions,
    )
