"""The metric vocabulary: names, directions, definitions and the error messages of ``evaluate``.

Every metric has exactly one direction, recorded here and nowhere else:

- ``"higher"``: a higher value is better (accuracy, TPR, TNR, precision, AUC);
- ``"lower"``: a lower value is better (error rate, FPR, FNR);
- ``"neutral"``: neither is better in general (selection rate, base rate). For these the
  "worst" group of a disparity is the one with the *lowest* value (the group that receives the
  positive prediction least often), and the direction stays ``"neutral"`` in the result so a
  reader can decide.
"""

from __future__ import annotations

from typing import Literal

__all__ = [
    "BINARY_METRICS",
    "MULTICLASS_GROUP_METRICS",
    "MACRO_METRICS",
    "METRIC_DIRECTIONS",
    "METRIC_DEFINITIONS",
    "Direction",
]

Direction = Literal["higher", "lower", "neutral"]

#: Every metric evaluate() knows, in the order results list them (fairlearn's names where
#: fairlearn has one).
BINARY_METRICS: tuple[str, ...] = (
    "accuracy",
    "error_rate",
    "selection_rate",
    "base_rate",
    "tpr",
    "fpr",
    "fnr",
    "tnr",
    "precision",
    "auc",
)

#: Multiclass targets: the metrics reported per group at the top level; every other metric is
#: reported one-vs-rest per class under ``per_class``.
MULTICLASS_GROUP_METRICS: tuple[str, ...] = ("accuracy", "error_rate")

#: Metrics averaged over classes (macro average, undefined classes skipped) for multiclass targets.
MACRO_METRICS: tuple[str, ...] = ("tpr", "fpr", "fnr", "tnr", "precision")

METRIC_DIRECTIONS: dict[str, Direction] = {
    "accuracy": "higher",
    "error_rate": "lower",
    "selection_rate": "neutral",
    "base_rate": "neutral",
    "tpr": "higher",
    "fpr": "lower",
    "fnr": "lower",
    "tnr": "higher",
    "precision": "higher",
    "auc": "higher",
}

#: One line per metric: its definition (weighted by ``sample_weight`` when given).
METRIC_DEFINITIONS: dict[str, str] = {
    "accuracy": "share of rows with y_pred == y_true (fairlearn/sklearn accuracy_score)",
    "error_rate": "share of rows with y_pred != y_true, 1 - accuracy (sklearn zero_one_loss)",
    "selection_rate": "share of rows predicted positive (fairlearn selection_rate)",
    "base_rate": "share of rows whose true label is positive (selection_rate of y_true)",
    "tpr": "TP / (TP + FN), recall (fairlearn true_positive_rate); undefined without positives",
    "fpr": "FP / (FP + TN) (fairlearn false_positive_rate); undefined without negatives",
    "fnr": "FN / (TP + FN) (fairlearn false_negative_rate); undefined without positives",
    "tnr": "TN / (FP + TN) (fairlearn true_negative_rate); undefined without negatives",
    "precision": "TP / (TP + FP) (sklearn precision_score); undefined without positive predictions",
    "auc": "area under the ROC curve of y_score (sklearn roc_auc_score); needs both labels",
}

# --- error messages (format strings; tests assert them with re.escape) -------------------------

EMPTY_INPUT = (
    "y_true is empty: evaluate needs at least one row. Check the filter or split that produced "
    "the predictions."
)
LENGTH_MISMATCH = (
    "{name} has {got} rows but y_true has {expected}; every input needs exactly one entry per "
    "row of y_true. Pass arrays of the same length."
)
NOT_1D = "{name} must be one-dimensional; got shape {shape}. Pass one value per row."
UNKNOWN_METRIC = (
    "unknown metric {name!r} in metrics; allowed: {allowed}. Fix the name or pass metrics=None "
    "for all of them."
)
EMPTY_METRICS = "metrics is empty; pass at least one of {allowed}, or metrics=None for all of them."
BAD_CI = "ci must be a number strictly between 0 and 1, e.g. 0.95; got {ci!r}."
BAD_N_BOOT = (
    "n_boot must be an integer >= 0 (it is recorded and otherwise unused: every interval, AUC "
    "included, is closed-form); got {value!r}."
)
UNKNOWN_TARGET_ATTRIBUTE = (
    "target_attributes names {name!r}, which is not a sensitive attribute; sensitive attributes: "
    "{known}. Pass names of sensitive_features columns."
)
BAD_MIN_GROUP_SIZE = "min_group_size must be an integer >= 0; got {value!r}."
BAD_RANDOM_STATE = "random_state must be an integer >= 0; got {value!r}."
AUC_NEEDS_SCORE = (
    "metric 'auc' needs y_score (a score or probability per row for the positive label); pass "
    "y_score=... or drop 'auc' from metrics."
)
SCORE_MULTICLASS = (
    "y_score is only supported for binary targets; y_true/y_pred have {k} classes {classes}. "
    "Pass y_score=None for multiclass targets."
)
BAD_SCORE = (
    "y_score must hold finite numbers; {count} values are not (first at row {row}: {value!r}). "
    "Replace them before calling evaluate."
)
BAD_WEIGHT = (
    "sample_weight must hold finite numbers >= 0; {count} values do not (first at row {row}: "
    "{value!r}). Fix the weights or pass sample_weight=None."
)
MISSING_LABELS = (
    "{name} has {count} missing values (first at row {row}); every row needs a label. Drop "
    "those rows yourself (and report how many) or fill them."
)
MISSING_SENSITIVE = (
    "sensitive feature {name!r} has {count} missing values (first at row {row}); rows are never "
    "dropped silently. Fill them with an explicit category such as 'Unknown', or drop those rows "
    "yourself and report how many."
)
NO_SENSITIVE = (
    "sensitive_features has no columns; pass a DataFrame, a dict name -> array, or one "
    "Series/array with one value per row."
)
BAD_SENSITIVE_TYPE = (
    "sensitive_features must be a DataFrame, a dict name -> array, a Series, or a 1-D/2-D array; "
    "got {type_name}."
)
DUPLICATE_SENSITIVE = (
    "sensitive feature names must be unique; {names} appear more than once. Rename the columns."
)
UNKNOWN_LABEL = (
    "{name} contains the label {value!r}, which is not in classes={classes}. Add it to classes "
    "or pass classes=None to take the labels from the data."
)
POS_LABEL_UNKNOWN = (
    "pos_label={value!r} is not one of the classes {classes}. Pass one of them (or None: the "
    "last class in sorted order)."
)
UNSORTABLE_LABELS = (
    "the labels {labels} cannot be ordered; pass classes=[...] explicitly in the order you want."
)
