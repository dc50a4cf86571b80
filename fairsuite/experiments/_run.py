"""``run(RunSpec) -> RunRecord``: the staged pipeline of one run, and nothing else.

    load -> split -> intervene (training split only) -> fit -> predict -> evaluate

Each stage is a function with a typed input and output, and no stage reaches back upstream:

- :func:`load_stage` opens the data (:func:`fairsuite.data.load`), checks the audited
  attributes, finds the ones that are the target, and checks integrity;
- :func:`split_stage` takes the untouched test split and the training rows (capped at
  ``max_train_rows``, stratified by group x label), after every image was decoded once;
- :func:`intervene_stage` changes the training rows on purpose (:mod:`fairsuite.interventions`;
  checked against the data before training, like everything else);
- :func:`fit_stage` trains with settings resolved once by :func:`fairsuite.train.resolve_settings`;
- :func:`predict_stage` scores the test split into a predictions table;
- :func:`evaluate_stage` measures it (:func:`fairsuite.metrics.evaluate`) and takes the headline.

Everything that can fail without training -- the spec, the data, the output folder, whether any
group can be evaluated, every image -- is checked before :func:`fit_stage` starts.
"""

from __future__ import annotations

import dataclasses
import os
import platform
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from fairsuite import __version__
from fairsuite.exceptions import (
    DataChangeWarning,
    DataFairnessWarning,
    DatasetIntegrityError,
    InvalidInputError,
    NothingEvaluatedError,
)
from fairsuite.experiments._record import DatasetRecord, RunRecord, TrainingRecord
from fairsuite.experiments._spec import RunSpec

if TYPE_CHECKING:
    import pandas as pd

    from fairsuite.data import Dataset
    from fairsuite.interventions import Plan
    from fairsuite.metrics import FairnessResult
    from fairsuite.train import TrainedModel, TrainSettings

__all__ = [
    "run",
    "Loaded",
    "Split",
    "TrainSet",
    "load_stage",
    "split_stage",
    "intervene_stage",
    "fit_stage",
    "predict_stage",
    "evaluate_stage",
    "resolve",
    "environment",
    "target_attributes",
    "default_sensitive",
    "check_evaluable",
    "check_images",
]

_UNKNOWN_SENSITIVE = (
    "dataset {dataset!r} has no sensitive column {column!r}. Available: {available}. "
    "Fix --sensitive (or 'sensitive:' in the spec)."
)
_NOTHING_TO_EVALUATE = (
    "no group of {attributes} in {dataset!r}'s test split reaches min_group_size="
    "{min_group_size} (largest group: {largest} rows), so nothing could be evaluated; nothing was "
    "trained. Lower --min-group-size or use more test data."
)
_IMAGES_UNDECODABLE = (
    "{name}: {n:,} of {total:,} images cannot be decoded (first: {examples}); nothing was trained. "
    "Replace or remove those files, or pass --allow-missing to drop (and count) their rows."
)
#: The columns every predictions table has (then the audited sensitive columns).
PREDICTION_COLUMNS = ("row_id", "split", "y_true", "y_pred", "score")


# ----------------------------------------------------------------------------------------------
# stage records
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Loaded:
    """The output of :func:`load_stage`: the dataset and what the run audits."""

    dataset: Dataset
    audited: tuple[str, ...]
    targets: tuple[str, ...]
    integrity: dict[str, Any]


@dataclass(frozen=True)
class Split:
    """The output of :func:`split_stage`: the training rows and the untouched test rows.

    ``excluded`` counts listed training rows that will not train the model, by reason
    (``rows_listed`` = rows of the training split the data lists, before any exclusion).
    """

    dataset: Dataset
    train: pd.DataFrame
    test: pd.DataFrame
    rows_listed: int
    excluded: dict[str, int]


@dataclass(frozen=True)
class TrainSet:
    """The output of :func:`intervene_stage`: what trains the model, and what changed."""

    table: pd.DataFrame
    excluded: dict[str, int]
    intervention: dict[str, Any] | None = None
    plan: Plan | None = None


# ----------------------------------------------------------------------------------------------
# stages
# ----------------------------------------------------------------------------------------------


def default_sensitive(dataset: Dataset) -> tuple[str, ...]:
    """What a run breaks errors down by when the user names nothing: the card's
    ``audit_sensitive`` (e.g. race and gender for faces), else every sensitive attribute."""
    card_default = tuple(getattr(dataset.card, "audit_sensitive", ()) or ())
    return card_default or tuple(dataset.sensitive)


def _check_sensitive(dataset: Dataset, sensitive: tuple[str, ...]) -> tuple[str, ...]:
    cols = tuple(sensitive) if sensitive else default_sensitive(dataset)
    for col in cols:
        if col not in dataset.table.columns or col in ("y", "split", "path", "row_id"):
            available = ", ".join(dataset.sensitive) or "(none)"
            raise InvalidInputError(
                _UNKNOWN_SENSITIVE.format(dataset=dataset.name, column=col, available=available)
            )
    return cols


def load_stage(spec: RunSpec) -> Loaded:
    """Open the spec's data and decide what is audited (and which of it is the target)."""
    from fairsuite.data import integrity, is_table_path, load

    dataset = load(
        spec.dataset,
        data_dir=spec.data_dir,
        task=spec.task,
        target=spec.target,
        sensitive=spec.sensitive if is_table_path(spec.dataset) else (),
        positive_label=spec.positive_label,
        allow_missing=spec.allow_missing,
        strict_data=spec.strict_data,
        seed=spec.seed,
        options=spec.dataset_options,
    )
    audited = _check_sensitive(dataset, spec.sensitive)
    return Loaded(dataset, audited, target_attributes(dataset, audited), integrity(dataset))


def check_evaluable(dataset: Dataset, sensitive: tuple[str, ...], min_group_size: int) -> None:
    """Raise :class:`NothingEvaluatedError` before training when no test group can be evaluated.

    Every group of every attribute smaller than ``min_group_size`` test rows means the run
    could only end in exit code 5; that is known from the labels alone.
    """
    test = dataset.split_table("test")
    largest = max(
        (int(test[col].value_counts().max()) for col in sensitive if len(test)), default=0
    )
    if largest < min_group_size:
        raise NothingEvaluatedError(
            _NOTHING_TO_EVALUATE.format(
                attributes=", ".join(sensitive),
                dataset=dataset.name,
                min_group_size=min_group_size,
                largest=largest,
            )
        )


def check_images(
    dataset: Dataset,
    *,
    image_size: int | None,
    allow_missing: bool,
    progress: bool = False,
) -> Dataset:
    """Decode every image of both splits before training; drop (and announce) or refuse failures.

    The decoding fills the decoded-image cache that training and prediction then read, keyed
    by the same path lists, so this check costs no extra decoding (11,400 FairFace images at
    64 px: about 3 s on 2 cores, then 0.05 s to reuse). A byte-signature check at load time
    finds missing, empty and truncated files only; a corrupt JPEG body is found here.

    Raises
    ------
    DatasetIntegrityError
        Some images cannot be decoded and ``allow_missing`` is False (exit code 3).
    """
    if dataset.kind != "image" or image_size is None:
        return dataset
    from fairsuite.data._image_cache import build_image_cache

    failed: list[tuple[str, str]] = []
    for split in ("train", "test"):
        paths = dataset.split_table(split)["path"].astype(str).tolist()
        if not paths:
            continue
        with warnings.catch_warnings():  # failures are reported below, once, with the dataset
            warnings.simplefilter("ignore", DataFairnessWarning)
            cache = build_image_cache(paths, image_size=image_size, progress=progress)
        failed.extend(cache.failed)
    if not failed:
        return dataset
    from fairsuite.data._loaders import describe_drops

    total = len(dataset.table)
    examples = [f"{Path(p).name} ({why})" for p, why in failed]
    if not allow_missing:
        raise DatasetIntegrityError(
            _IMAGES_UNDECODABLE.format(
                name=dataset.name, n=len(failed), total=total, examples="; ".join(examples[:3])
            )
        )
    reason = "image cannot be decoded"
    message = describe_drops(
        dataset.name, total, {reason: len(failed)}, {reason: examples}, how=" (--allow-missing)"
    )
    warnings.warn(message, DataChangeWarning, stacklevel=2)
    bad_mask = dataset.table["path"].astype(str).isin({p for p, _ in failed}).to_numpy()
    table = dataset.table[~bad_mask].reset_index(drop=True)
    report = dataset.report
    if report is not None:
        by_split = {k: dict(v) for k, v in report.dropped_by_split.items()}
        for split, n in dataset.table.loc[bad_mask, "split"].value_counts().items():
            by_split.setdefault(str(split), {})[reason] = int(n)
        report = dataclasses.replace(
            report,
            rows_kept=len(table),
            dropped={**report.dropped, reason: len(failed)},
            examples={**report.examples, reason: examples[:5]},
            changes=(*report.changes, message),
            dropped_by_split=by_split,
        )
    return dataclasses.replace(dataset, table=table, report=report)


def split_stage(
    loaded: Loaded, spec: RunSpec, settings: TrainSettings, *, progress: bool = False
) -> Split:
    """The untouched test split and the training rows, every image decoded once first.

    The training rows are cut, when the spec asks, by one mechanism -- a nested subsample
    (:func:`_subsample`): ``max_train_rows`` at the natural composition of the audited groups
    x label; ``train_size`` (or a ``composition`` alone) at ``composition`` over
    ``composition_by``.
    """
    dataset = loaded.dataset
    report = dataset.report
    excluded: dict[str, int] = {}
    if report is not None:
        excluded.update(report.dropped_by_split.get("train", {}))
    n_train = int((dataset.table["split"] == "train").sum())
    if spec.max_train_rows is not None and spec.max_train_rows < n_train:
        dataset, dropped = _subsample(
            dataset, spec.max_train_rows, by=loaded.audited, strategy="natural", seed=spec.seed
        )
        excluded["beyond max_train_rows"] = dropped
    if spec.train_size is not None or spec.composition not in (None, "natural"):
        by = tuple(spec.composition_by) or tuple(spec.balance_by) or tuple(loaded.audited[:1])
        strategy = spec.composition if spec.composition is not None else "natural"
        dataset, dropped = _subsample(
            dataset, spec.train_size, by=by, strategy=strategy, seed=spec.seed
        )
        if dropped:
            excluded["beyond train_size (nested subsample)"] = dropped
    before = int((dataset.table["split"] == "train").sum())
    dataset = check_images(
        dataset, image_size=settings.image_size, allow_missing=spec.allow_missing, progress=progress
    )
    decode_failed = before - int((dataset.table["split"] == "train").sum())
    if decode_failed:
        excluded["image cannot be decoded"] = decode_failed
    rows_listed = int((dataset.table["split"] == "train").sum()) + sum(excluded.values())
    return Split(
        dataset,
        dataset.split_table("train"),
        dataset.split_table("test"),
        rows_listed,
        excluded,
    )


def _subsample(
    dataset: Dataset, size: int | None, *, by: tuple[str, ...], strategy: Any, seed: int
) -> tuple[Dataset, int]:
    """A nested subsample of ``size`` training rows at composition ``strategy`` over ``by``
    (``size`` None: the largest the training rows allow at that composition); returns the
    dataset with the other training rows removed and how many were removed.

    Each group x label cell's rows are put in one order seeded by ``seed`` and a size takes a
    prefix of every cell, with the rows per cell allocated by a divisor sequence that does not
    depend on which other sizes are run: for one seed and composition, the rows of a smaller
    size are a subset of a larger size's (:func:`fairsuite.interventions.nested_subsets`).
    """
    from fairsuite.interventions import nested_subsets
    from fairsuite.interventions._strategy import cell_counts, target_shares

    table = dataset.table
    is_train = (table["split"] == "train").to_numpy()
    train = table[is_train]
    if size is None:  # the largest subsample the training rows allow at this composition
        counts = cell_counts(train, by)
        shares = target_shares(strategy, counts, by=by, classes=tuple(dataset.classes))
        # each cell gets within one row of share * size: keep one row of slack per cell
        size = max(1, int(min((counts.get(k, 0) - 1) / s for k, s in shares.items() if s > 0)))
    keep_pos = nested_subsets(
        train.reset_index(drop=True),
        [int(size)],
        by=by,
        sampling_strategy=strategy,
        classes=tuple(dataset.classes),
        random_state=seed,
    )[0]
    keep = np.zeros(len(train), dtype=bool)
    keep[keep_pos] = True
    mask = np.ones(len(table), dtype=bool)
    mask[np.flatnonzero(is_train)[~keep]] = False
    new = dataclasses.replace(dataset, table=table[mask].reset_index(drop=True))
    return new, int((~keep).sum())


def intervene_stage(
    split: Split, spec: RunSpec, plan: Plan | None = None, *, progress: bool = False
) -> TrainSet:
    """Change the training rows on purpose (:mod:`fairsuite.interventions`); the test split is
    never touched, and the split's own tables are never changed in place.

    ``plan`` is the intervention checked before training (:func:`plan_intervention`); without
    one it is checked here. Data-side interventions return the new training rows and their
    record; a model-side one (``threshold``, ``expgrad``) passes the rows through and is applied
    by :func:`fit_stage`. Rows an undersampling removes are counted in ``excluded``.
    """
    if spec.intervention is None:
        return TrainSet(split.train, dict(split.excluded), None)
    from fairsuite.interventions import apply_intervention, plan_intervention

    if plan is None:
        plan = plan_intervention(
            spec, split.dataset, tuple(spec.sensitive) or default_sensitive(split.dataset)
        )
    assert plan is not None
    table, record = apply_intervention(
        plan, split.train, split.dataset, seed=spec.seed, progress=progress
    )
    excluded = dict(split.excluded)
    if record["rows"]["removed"]:
        excluded[f"removed by {plan.intervention}"] = int(record["rows"]["removed"])
    return TrainSet(table, excluded, record, plan)


def resolve(spec: RunSpec, kind: str) -> TrainSettings:
    """The spec's training settings resolved for the data's kind and this machine's device."""
    from fairsuite.train import resolve_settings

    keys = ("model", "device", "precision", "image_size", "epochs", "batch_size", "pretrained")
    return resolve_settings(kind, **{k: getattr(spec, k) for k in keys})


def fit_stage(
    split: Split,
    trainset: TrainSet,
    spec: RunSpec,
    settings: TrainSettings,
    *,
    progress: bool = False,
) -> TrainedModel:
    """Train on ``trainset`` with the resolved ``settings`` (nothing is re-decided in here).

    A model-side intervention (``trainset.plan.mitigation``) wraps the trained model in
    fairlearn's mitigation, fitted on the same training rows
    (:func:`fairsuite.interventions.mitigate`); the result predicts like a TrainedModel.
    """
    from fairsuite.train import fit

    dataset = dataclasses.replace(split.dataset, table=trainset.table)
    model = fit(dataset, **settings.fit_kwargs(), random_state=spec.seed, progress=progress)
    plan = trainset.plan
    if plan is not None and plan.mitigation:
        from fairsuite.interventions import mitigate

        model = mitigate(  # type: ignore[assignment]
            model,
            trainset.table,
            method=plan.intervention,
            by=plan.by,
            constraint=plan.constraint,
            random_state=spec.seed,
        )
    return model


def predict_stage(model: TrainedModel, split: Split, audited: tuple[str, ...]) -> pd.DataFrame:
    """Score the test split: ``row_id``, ``split``, ``y_true``, ``y_pred`` (labels), ``score``
    (probability of the positive label, binary tasks) and the audited sensitive columns."""
    import pandas as pd

    test = split.test
    proba = np.asarray(model.predict_proba(test))
    # A randomised classifier (fairlearn's mitigations) draws its labels from proba.
    codes = model.predict(test) if getattr(model, "randomized", False) else proba.argmax(axis=1)
    labels = np.asarray(split.dataset.classes, dtype=object)
    out = pd.DataFrame(
        {
            "row_id": test["row_id"].astype(str).to_numpy()
            if "row_id" in test
            else np.arange(len(test)).astype(str),
            "split": "test",
            "y_true": labels[test["y"].to_numpy()],
            "y_pred": labels[codes],
            "score": proba[:, 1] if proba.shape[1] == 2 else np.nan,
        }
    )
    for col in audited:
        out[col] = test[col].to_numpy()
    return out


def evaluate_stage(
    predictions: pd.DataFrame,
    *,
    classes: tuple[str, ...],
    positive_label: str | None,
    audited: tuple[str, ...],
    targets: tuple[str, ...],
    spec: RunSpec,
) -> tuple[FairnessResult, dict[str, Any] | None]:
    """Measure a predictions table; return the result and the majority-class baseline.

    The baseline (the test split's most common class and its share) is the accuracy of always
    predicting it; a summary warns when the model's accuracy interval includes it.
    """
    from fairsuite.metrics import evaluate

    score = predictions["score"].to_numpy(dtype=float) if len(classes) == 2 else None
    if score is not None and np.isnan(score).all():
        score = None
    result = evaluate(
        predictions["y_true"].to_numpy(dtype=object),
        predictions["y_pred"].to_numpy(dtype=object),
        sensitive_features=predictions[list(audited)].reset_index(drop=True),
        y_score=score,
        n_boot=spec.n_boot,
        ci=spec.ci,
        min_group_size=spec.min_group_size,
        random_state=spec.seed,
        classes=list(classes),
        pos_label=positive_label,
        target_attributes=targets,
    )
    return result, majority_baseline(predictions["y_true"], classes)


def score_stage(
    model: TrainedModel,
    split: Split,
    audited: tuple[str, ...],
    targets: tuple[str, ...],
    spec: RunSpec,
) -> tuple[pd.DataFrame, FairnessResult, dict[str, Any] | None]:
    """:func:`predict_stage` and :func:`evaluate_stage` on ``split``'s test rows (a model
    scored on its own test split or, in compare and ``test_on``, on another dataset's):
    ``(predictions, result, majority baseline)``."""
    predictions = predict_stage(model, split, audited)
    result, baseline = evaluate_stage(
        predictions,
        classes=tuple(split.dataset.classes),
        positive_label=split.dataset.positive_label,
        audited=audited,
        targets=targets,
        spec=spec,
    )
    return predictions, result, baseline


def majority_baseline(y_true: Any, classes: tuple[str, ...]) -> dict[str, Any] | None:
    """The most common true class and its share: the accuracy of always predicting it."""
    import pandas as pd

    counts = pd.Series(y_true).astype(str).value_counts()
    if counts.empty:
        return None
    order = {str(c): i for i, c in enumerate(classes)}
    top = sorted(counts.items(), key=lambda kv: (-kv[1], order.get(kv[0], len(order))))[0]
    return {"class": top[0], "rate": float(top[1] / counts.sum()), "n": int(counts.sum())}


# ----------------------------------------------------------------------------------------------
# helpers for the record
# ----------------------------------------------------------------------------------------------


def target_attributes(dataset: Dataset, sensitive: tuple[str, ...]) -> tuple[str, ...]:
    """The audited attributes that are the target, or a function of it (or it of them).

    An attribute is the target when it has the task's name or is the task's column (a face
    card's task ``gender`` reads the same harmonised ``gender`` column the audit groups by; a
    CSV's ``--target`` column also named in ``--sensitive``), or when it shares the task's native
    source column. It is a function of the target when the labels determine each other in the
    data: every label occurs in one group only, or every group holds one label only. For such
    attributes only accuracy and error rate per group stay meaningful.
    """
    card = dataset.card
    task_column = dataset.task
    sources: set[str] = set()
    if card is not None:
        spec = getattr(card, "tasks", {}).get(dataset.task)
        if spec is not None:
            task_column = spec.column
        taxonomy = getattr(card, "taxonomy", {}) or {}
        for name in (dataset.task, task_column):
            if name in taxonomy:
                sources.add(taxonomy[name].source)
        sources.add(task_column)
    table = dataset.table
    found = []
    for attr in sensitive:
        related = attr in (dataset.task, task_column)
        if not related and card is not None:
            amap = (getattr(card, "taxonomy", {}) or {}).get(attr)
            related = amap is not None and amap.source in sources
        if not related and attr in table.columns and len(table):
            pairs = table[[attr, "y"]].astype(str).drop_duplicates()
            related = bool(
                pairs.groupby("y")[attr].nunique().max() == 1
                or pairs.groupby(attr)["y"].nunique().max() == 1
            )
        if related:
            found.append(attr)
    return tuple(found)


def environment() -> dict[str, Any]:
    """Versions that decide the numbers: Python, fairsuite and the numeric stack."""
    import importlib.metadata as md

    env: dict[str, Any] = {
        "python": platform.python_version(),
        "fairsuite": __version__,
        "platform": f"{platform.system()}-{platform.machine()}",
    }
    for pkg in ("numpy", "pandas", "scikit-learn", "torch", "torchvision"):
        try:
            env[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            env[pkg] = None
    return env


def training_composition(
    table: pd.DataFrame, audited: tuple[str, ...], classes: tuple[str, ...]
) -> dict[str, Any]:
    """Rows per audited attribute (and their intersection) x group x label."""
    labels = np.asarray(classes, dtype=object)[table["y"].to_numpy()]
    out: dict[str, Any] = {}
    views = [(a, [a]) for a in audited]
    if len(audited) > 1:
        views.append((" x ".join(audited), list(audited)))
    for name, cols in views:
        keys = table[cols].astype(str).agg(" x ".join, axis=1) if len(cols) > 1 else (
            table[cols[0]].astype(str)
        )
        frame = (
            keys.to_frame("group").assign(label=labels).value_counts().sort_index()
        )
        groups: dict[str, dict[str, int]] = {}
        for (group, label), n in frame.items():
            groups.setdefault(str(group), {})[str(label)] = int(n)
        out[name] = groups
    return out


def _training_record(
    model: TrainedModel, split: Split, trainset: TrainSet, audited: tuple[str, ...]
) -> TrainingRecord:
    cfg = model.config
    excluded = dict(trainset.excluded)
    for reason, n in (cfg.get("excluded") or {}).items():
        excluded[reason] = excluded.get(reason, 0) + int(n)
    settings = {
        k: cfg[k]
        for k in ("epochs", "batch_size", "lr", "weight_decay", "image_size", "pretrained",
                  "optimizer", "val_fraction", "patience", "threads")
        if k in cfg and (k != "threads" or cfg[k] is not None)
    }
    return TrainingRecord(
        model=model.name,
        device=str(model.device),
        precision=cfg.get("precision"),
        settings=settings,
        rows_listed=split.rows_listed,
        rows_used=int(cfg.get("n_train", 0)) + int(cfg.get("n_val", 0)),
        rows_fit=int(cfg.get("n_train", 0)),
        rows_val=int(cfg.get("n_val", 0)),
        excluded=excluded,
        # of the rows passed to fit (rows fit itself left out are counted in excluded)
        composition=training_composition(trainset.table, audited, tuple(model.classes)),
        epochs_run=len(model.history) if model.history else None,
        best_epoch=model.best_epoch,
        history=tuple(model.history),
    )


def dataset_record(loaded: Loaded, dataset: Dataset) -> DatasetRecord:
    """The ``dataset`` section of a record, for the data as the run used it."""
    from fairsuite.data import composition

    comp = composition(dataclasses.replace(dataset, sensitive=loaded.audited))
    return DatasetRecord(
        name=dataset.name,
        kind=dataset.kind,
        task=dataset.task,
        classes=tuple(dataset.classes),
        positive_label=dataset.positive_label,
        sensitive=tuple(dataset.sensitive),
        audited=loaded.audited,
        target_attributes=loaded.targets,
        synthetic=bool(dataset.synthetic),
        root=str(dataset.root) if dataset.root is not None else None,
        checksums=dict(dataset.checksums),
        integrity=loaded.integrity,
        load_report=dataset.report.to_dict() if dataset.report is not None else None,
        composition=comp,
    )


# ----------------------------------------------------------------------------------------------
# run
# ----------------------------------------------------------------------------------------------


def run(
    spec: RunSpec,
    *,
    progress: bool = False,
    before_training: Callable[[RunSpec, str], None] | None = None,
) -> tuple[RunRecord, TrainedModel]:
    """Run ``spec`` through every stage; return its record and the trained model.

    ``before_training(spec, config_hash)`` is called after every check that needs no training
    passed and before :func:`fit_stage` starts (the audit uses it to check its output folder).
    Writing outputs is not a stage: see :func:`fairsuite.experiments.write_run`.

    Raises
    ------
    NothingEvaluatedError
        Before training, when no test group can reach ``min_group_size`` (exit code 5).
    """
    from fairsuite.metrics import headline

    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    loaded = load_stage(spec)
    timings["load"] = time.perf_counter() - t0
    settings = resolve(spec, loaded.dataset.kind)
    config_hash = spec.config_hash(**settings.to_dict())
    check_evaluable(loaded.dataset, loaded.audited, spec.min_group_size)
    plan = None
    if spec.intervention is not None:
        from fairsuite.interventions import plan_intervention

        plan = plan_intervention(spec, loaded.dataset, loaded.audited)
    if before_training is not None:
        before_training(spec, config_hash)

    t = time.perf_counter()
    split = split_stage(loaded, spec, settings, progress=progress)
    timings["split"] = time.perf_counter() - t
    t = time.perf_counter()
    trainset = intervene_stage(split, spec, plan, progress=progress)
    timings["intervene"] = time.perf_counter() - t
    t = time.perf_counter()
    model = fit_stage(split, trainset, spec, settings, progress=progress)
    timings["fit"] = time.perf_counter() - t
    t = time.perf_counter()
    predictions = predict_stage(model, split, loaded.audited)
    timings["predict"] = time.perf_counter() - t
    t = time.perf_counter()
    result, baseline = evaluate_stage(
        predictions,
        classes=tuple(split.dataset.classes),
        positive_label=split.dataset.positive_label,
        audited=loaded.audited,
        targets=loaded.targets,
        spec=spec,
    )
    timings["evaluate"] = time.perf_counter() - t
    timings["total"] = time.perf_counter() - t0
    record = RunRecord(
        kind="audit",
        spec=spec,
        config_hash=config_hash,
        settings=settings.to_dict(),
        dataset=dataset_record(loaded, split.dataset),
        training=_training_record(model, split, trainset, loaded.audited),
        result=result,
        headline=headline(result),
        majority_baseline=baseline,
        timings=timings,
        environment=environment(),
        predictions=predictions,
        intervention=_intervention_record(trainset, model),
    )
    return record, model


def _intervention_record(trainset: TrainSet, model: Any) -> dict[str, Any] | None:
    """The intervention's record, with a model-side mitigation's fitted summary."""
    if trainset.intervention is None:
        return None
    record = dict(trainset.intervention)
    if trainset.plan is not None and trainset.plan.mitigation:
        record["mitigation"] = getattr(model, "summary", None)
    return record


def default_out_dir(
    name: str, config_hash: str, runs_dir: str | os.PathLike[str] = "fairsuite-runs"
) -> Path:
    """``<runs_dir>/<dataset>-<hash8>``: one folder per configuration."""
    from fairsuite.data import is_table_path

    stem = Path(name).stem if is_table_path(name) else name
    return Path(runs_dir) / f"{stem}-{config_hash[:8]}"
