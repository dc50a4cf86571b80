"""``audit``: load -> split -> train -> predict -> metrics -> one result document.

The result document (``result.json``) is plain data; the HTML report, the ``--json`` output and
the gate all read it, so they cannot disagree. Its fields are documented in ``docs/result.md``.
"""

from __future__ import annotations

import dataclasses
import os
import platform
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from fairsuite import __version__
from fairsuite._io import atomic_write_text, dir_mode, dumps_json, probe_writable
from fairsuite.exceptions import (
    DataChangeWarning,
    DataFairnessWarning,
    DatasetIntegrityError,
    InvalidInputError,
    NothingEvaluatedError,
)
from fairsuite.experiments._spec import DEFAULT_DATASET, IMAGE_MODELS, TABULAR_MODELS, AuditSpec

if TYPE_CHECKING:
    import pandas as pd

    from fairsuite.data import Dataset

__all__ = [
    "run_audit",
    "SCHEMA_VERSION",
    "load_for_spec",
    "resolve_run_settings",
    "cap_train_rows",
    "default_out_dir",
    "check_out_dir",
    "check_images",
    "target_attributes",
]

SCHEMA_VERSION = 1

_UNKNOWN_SENSITIVE = (
    "dataset {dataset!r} has no sensitive column {column!r}. Available: {available}. "
    "Fix --sensitive (or 'sensitive:' in the spec)."
)
_MODEL_KIND = (
    "model {model!r} cannot train on {kind} data. Use one of: {allowed} (or --model auto)."
)
_OUT_EXISTS = (
    "{path} already holds a result for a different configuration (config hash {old} != {new}). "
    "Pass --force to overwrite it, or choose another --out."
)
_NOTHING_EVALUATED = (
    "no group reached min_group_size={min_group_size} in any sensitive attribute of {dataset!r}'s "
    "test split (largest group: {largest} rows). Lower --min-group-size or use more test data. "
    "The result and report were still written to {out}."
)
_NOTHING_TO_EVALUATE = (
    "no group of {attributes} in {dataset!r}'s test split reaches min_group_size="
    "{min_group_size} (largest group: {largest} rows), so nothing could be evaluated; nothing was "
    "trained. Lower --min-group-size or use more test data."
)
_OUT_UNWRITABLE = (
    "cannot write the results to {path}: {reason}. Choose another --out or fix its permissions."
)
_IMAGES_UNDECODABLE = (
    "{name}: {n:,} of {total:,} images cannot be decoded (first: {examples}); nothing was trained. "
    "Replace or remove those files, or pass --allow-missing to drop (and count) their rows."
)


def load_for_spec(spec: AuditSpec) -> Dataset:
    """Load the dataset a spec names (card name or CSV/Parquet path) with its options."""
    from fairsuite.data import is_table_path, load_csv, load_dataset

    if is_table_path(spec.dataset):
        if not spec.target or not spec.sensitive:
            raise InvalidInputError(
                f"{spec.dataset}: a CSV/Parquet audit needs --target COLUMN and at least one "
                "--sensitive COLUMN."
            )
        return load_csv(
            spec.dataset,
            target=spec.target,
            sensitive=list(spec.sensitive),
            positive_label=spec.positive_label,
            random_state=spec.seed,
        )
    kwargs: dict[str, Any] = {
        "data_dir": spec.data_dir,
        "allow_missing": spec.allow_missing,
        "random_state": spec.seed,
    }
    task = spec.task if spec.task is not None else spec.target
    if task is not None:
        kwargs["task"] = task
    return load_dataset(spec.dataset, **kwargs)


def _detect_device(requested: str) -> str:
    if requested != "auto":
        return requested
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a core dependency
        return "cpu"
    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "mps"
    return "cpu"


def resolve_run_settings(spec: AuditSpec, kind: str) -> dict[str, Any]:
    """Fill the spec's ``auto``/``None`` settings for this dataset kind and the device found.

    On a CPU the defaults are small and quick (small CNN, 64 px, few epochs); on a GPU they are
    full-size (resnet18, 112 px, more epochs). Tables train histogram gradient boosting.
    """
    uses_torch = kind == "image" or spec.model == "mlp"
    device = _detect_device(spec.device) if uses_torch else "cpu"  # sklearn models run on CPU
    gpu = device in ("cuda", "mps")
    model = spec.model
    if model == "auto":
        model = ("resnet18" if gpu else "small_cnn") if kind == "image" else "hgb"
    allowed = IMAGE_MODELS if kind == "image" else TABULAR_MODELS
    if model not in allowed:
        raise InvalidInputError(
            _MODEL_KIND.format(model=model, kind=kind, allowed=", ".join(allowed))
        )
    settings: dict[str, Any] = {"model": model, "device": device}
    if kind == "image":
        if spec.pretrained:
            settings["pretrained"] = True
        settings["image_size"] = spec.image_size or (112 if gpu else 64)
        settings["epochs"] = spec.epochs or (30 if gpu else 6)  # early stopping ends sooner
    elif model == "mlp":
        settings["epochs"] = spec.epochs or 20
    if spec.precision != "auto":
        settings["precision"] = spec.precision
    return settings


def default_sensitive(dataset: Dataset) -> tuple[str, ...]:
    """What an audit breaks errors down by when the user names nothing: the card's
    ``audit_sensitive`` (e.g. race and gender for faces), else every sensitive attribute."""
    card_default = tuple(getattr(dataset.card, "audit_sensitive", ()) or ())
    return card_default or tuple(dataset.sensitive)


def fit_kwargs(spec: AuditSpec, settings: dict[str, Any], *, progress: bool) -> dict[str, Any]:
    """Keyword arguments of :func:`fairsuite.train.fit` for a spec and its resolved settings."""
    kwargs: dict[str, Any] = {
        "model": settings["model"],
        "device": settings["device"],
        "random_state": spec.seed,
        "progress": progress,
    }
    for key in ("image_size", "epochs", "precision", "pretrained"):
        if key in settings:
            kwargs[key] = settings[key]
    if spec.batch_size is not None:
        kwargs["batch_size"] = spec.batch_size
    return kwargs


def _check_sensitive(dataset: Dataset, sensitive: tuple[str, ...]) -> tuple[str, ...]:
    cols = tuple(sensitive) if sensitive else default_sensitive(dataset)
    for col in cols:
        if col not in dataset.table.columns or col in ("y", "split", "path", "row_id"):
            available = ", ".join(dataset.sensitive) or "(none)"
            raise InvalidInputError(
                _UNKNOWN_SENSITIVE.format(dataset=dataset.name, column=col, available=available)
            )
    return cols


def cap_train_rows(
    dataset: Dataset, max_rows: int | None, *, by: tuple[str, ...], random_state: int
) -> Dataset:
    """Return ``dataset`` with its train split cut to ``max_rows``, stratified by group x label.

    The test split is untouched; the caller's table is not modified. Each stratum keeps its
    share (largest-remainder rounding, at least one row for every non-empty stratum when room).
    """
    table = dataset.table
    train_mask = (table["split"] == "train").to_numpy()
    n_train = int(train_mask.sum())
    if max_rows is None or max_rows >= n_train:
        return dataset
    train = table[train_mask]
    keys = train[list(by) + ["y"]].astype(str).agg("|".join, axis=1).to_numpy()
    strata, codes = np.unique(keys, return_inverse=True)
    counts = np.bincount(codes, minlength=len(strata))
    quota = counts * (max_rows / n_train)
    take = np.floor(quota).astype(int)
    remainder = max_rows - int(take.sum())
    order = np.argsort(-(quota - take), kind="stable")
    take[order[:remainder]] += 1
    rng = np.random.default_rng(random_state)
    chosen: list[np.ndarray] = []
    positions = np.flatnonzero(train_mask)
    for s in range(len(strata)):
        members = positions[codes == s]
        if take[s] > 0:
            chosen.append(rng.choice(members, size=min(int(take[s]), len(members)), replace=False))
    keep = np.zeros(len(table), dtype=bool)
    keep[~train_mask] = True
    keep[np.concatenate(chosen)] = True
    return dataclasses.replace(dataset, table=table[keep].reset_index(drop=True))


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


def dataset_record(dataset: Dataset, composition: dict[str, Any]) -> dict[str, Any]:
    """The ``dataset`` section of a result document."""
    return {
        "name": dataset.name,
        "kind": dataset.kind,
        "task": dataset.task,
        "classes": list(dataset.classes),
        "positive_label": dataset.positive_label,
        "sensitive": list(dataset.sensitive),
        "synthetic": bool(dataset.synthetic),
        "root": str(dataset.root) if dataset.root is not None else None,
        "checksums": dict(sorted(dataset.checksums.items())),
        "load_report": dataset.report.to_dict() if dataset.report is not None else None,
        "composition": composition,
    }


def evaluate_model(
    model: Any,
    test: pd.DataFrame,
    dataset: Dataset,
    sensitive: tuple[str, ...],
    spec: AuditSpec,
    *,
    targets: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Predict on ``test`` and compute the metrics section of a result document.

    ``targets`` names the sensitive attributes that are the target (see
    :func:`target_attributes`); only accuracy and error rate are compared across their groups.
    Beside the metrics, ``majority_baseline`` records the test split's most common class and
    its share: the accuracy of always predicting it.
    """
    import inspect

    from fairsuite.metrics import evaluate

    proba = np.asarray(model.predict_proba(test))
    y_pred = proba.argmax(axis=1)
    y_score = proba[:, 1] if proba.shape[1] == 2 else None
    labels = np.asarray(dataset.classes, dtype=object)
    extra: dict[str, Any] = {}
    if targets and "target_attributes" in inspect.signature(evaluate).parameters:
        extra["target_attributes"] = tuple(targets)
    # Metrics see the labels themselves, so results name classes as the dataset does.
    result = evaluate(
        labels[test["y"].to_numpy()],
        labels[y_pred],
        sensitive_features=test[list(sensitive)].reset_index(drop=True),
        y_score=y_score,
        n_boot=spec.n_boot,
        ci=spec.ci,
        min_group_size=spec.min_group_size,
        random_state=spec.seed,
        classes=list(dataset.classes),
        pos_label=dataset.positive_label,
        **extra,
    )
    metrics = result.to_dict()
    counts = np.bincount(test["y"].to_numpy(), minlength=len(dataset.classes))
    if counts.sum():
        top = int(counts.argmax())
        metrics["majority_baseline"] = {
            "class": str(dataset.classes[top]),
            "rate": float(counts[top] / counts.sum()),
            "n": int(counts.sum()),
        }
    return metrics


def _training_record(model: Any, settings: dict[str, Any]) -> dict[str, Any]:
    record: dict[str, Any] = {"model": settings["model"], "device": settings["device"]}
    for key in ("precision", "epochs_run", "best_epoch", "train_rows", "val_rows", "history"):
        value = getattr(model, key, None)
        if value is None and isinstance(getattr(model, "config", None), dict):
            value = model.config.get(key)
        if value is not None:
            record[key] = value
    return record


def nothing_evaluated(metrics: dict[str, Any]) -> bool:
    """True when no group of any attribute reached the minimum size."""
    return not any(
        not g.get("insufficient", False) for a in metrics["attributes"] for g in a["groups"]
    )


def run_audit(
    spec: AuditSpec | None = None,
    *,
    out_dir: str | os.PathLike[str] | None = None,
    runs_dir: str | os.PathLike[str] | None = None,
    force: bool = False,
    progress: bool = True,
    save_model: bool = True,
) -> dict[str, Any]:
    """Run one audit and return its result document.

    Loads the dataset, trains the spec's model on the training split, predicts the untouched test
    split and measures per-group and intersectional metrics with bootstrap intervals. With
    ``out_dir`` it writes ``result.json``, ``report.html`` and ``model/`` there (atomically).

    Parameters
    ----------
    spec : AuditSpec, optional
        What to audit; default audits the embedded ``synthfaces`` set with device-sized settings.
    out_dir : path, optional
        Folder for the outputs. A folder holding a result of a different configuration is only
        overwritten with ``force=True``; one holding the same configuration is recomputed
        (the result is deterministic for a seed on one machine).
    runs_dir : path, optional
        Without ``out_dir``: write into ``runs_dir/<dataset>-<config hash[:8]>``, one folder per
        configuration (what the CLI does by default).
    force : bool
        Overwrite outputs of another configuration.
    progress : bool
        Show progress bars on stderr.
    save_model : bool
        Also save the trained model under ``out_dir/model``.

    Returns
    -------
    dict
        The result document (``schema_version`` 1), see ``docs/result.md``.

    Raises
    ------
    NothingEvaluatedError
        If no group reached ``min_group_size`` (exit code 5), after writing the outputs.
    """
    from fairsuite.data import composition
    from fairsuite.train import fit

    spec = spec or AuditSpec(dataset=DEFAULT_DATASET)
    # Pre-flight: everything that can be checked without training is checked first.
    dataset = load_for_spec(spec)
    sensitive = _check_sensitive(dataset, spec.sensitive)
    settings = resolve_run_settings(spec, dataset.kind)
    config_hash = spec.config_hash(**settings)
    out: Path | None = None
    if out_dir is not None:
        out = Path(out_dir)
    elif runs_dir is not None:
        out = default_out_dir(spec.dataset, config_hash, runs_dir)
    if out is not None:
        check_out_dir(out, config_hash, force=force)
    check_evaluable(dataset, sensitive, spec.min_group_size)
    train_ds = cap_train_rows(dataset, spec.max_train_rows, by=sensitive, random_state=spec.seed)
    train_ds = check_images(
        train_ds,
        image_size=settings.get("image_size"),
        allow_missing=spec.allow_missing,
        progress=progress,
    )
    targets = target_attributes(train_ds, sensitive)

    model = fit(train_ds, **fit_kwargs(spec, settings, progress=progress))

    test = train_ds.split_table("test")  # the untouched test split (capping keeps all of it)
    metrics = evaluate_model(model, test, train_ds, sensitive, spec, targets=targets)

    config = spec.to_dict()
    config.pop("data_dir", None)
    config.update(settings)
    config["sensitive"] = list(sensitive)
    record = dataset_record(
        train_ds, composition(dataclasses.replace(train_ds, sensitive=sensitive))
    )
    record["target_attributes"] = list(targets)
    document: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "kind": "audit",
        "fairsuite_version": __version__,
        "dataset": record,
        "config": config,
        "config_hash": config_hash,
        "seed": spec.seed,
        "training": _training_record(model, settings),
        "metrics": metrics,
        "gate": None,
        "environment": environment(),
    }
    # Round-trip through JSON once so the returned document equals what is written.
    import json

    document = json.loads(dumps_json(document))
    if out is not None:
        write_outputs(document, out, model=model if save_model else None)
    if nothing_evaluated(metrics):
        largest = max((g["n"] for a in metrics["attributes"] for g in a["groups"]), default=0)
        raise NothingEvaluatedError(
            _NOTHING_EVALUATED.format(
                min_group_size=spec.min_group_size,
                dataset=dataset.name,
                largest=largest,
                out=out if out is not None else "(no --out given)",
            )
        )
    return document


def check_evaluable(dataset: Dataset, sensitive: tuple[str, ...], min_group_size: int) -> None:
    """Raise :class:`NothingEvaluatedError` before training when no test group can be evaluated.

    Every group of every attribute smaller than ``min_group_size`` test rows means the audit
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
    bad = {p for p, _ in failed}
    table = dataset.table[~dataset.table["path"].astype(str).isin(bad)].reset_index(drop=True)
    report = dataset.report
    if report is not None:
        report = dataclasses.replace(
            report,
            rows_kept=len(table),
            dropped={**report.dropped, reason: len(failed)},
            examples={**report.examples, reason: examples[:5]},
            changes=(*report.changes, message),
        )
    return dataclasses.replace(dataset, table=table, report=report)


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


def check_out_dir(out: Path, config_hash: str, *, force: bool) -> None:
    """Pre-flight for an output folder: writable, and not another configuration's (unless forced).

    Raises
    ------
    InvalidInputError
        The folder (or where it would be created) is not writable, is a file, or holds a result
        of another configuration and ``force`` is False (exit code 3).
    """
    import json

    reason = probe_writable(out)
    if reason is None and (out / "model").exists() and not (out / "model").is_dir():
        reason = f"{out / 'model'} is a file, where the model folder goes"
    if reason is not None:
        raise InvalidInputError(_OUT_UNWRITABLE.format(path=out, reason=reason))
    existing = out / "result.json"
    if force or not existing.is_file():
        return
    try:
        old = json.loads(existing.read_text(encoding="utf-8")).get("config_hash")
    except (OSError, ValueError, AttributeError):
        old = None
    if old != config_hash:
        raise InvalidInputError(
            _OUT_EXISTS.format(path=out, old=(old or "unreadable")[:12], new=config_hash[:12])
        )


_check_out_dir = check_out_dir  # the name earlier versions used


def write_outputs(document: dict[str, Any], out: Path, *, model: Any = None) -> None:
    """Write ``result.json``, ``report.html`` and (optionally) ``model/`` into ``out``.

    Earlier outputs in ``out`` are replaced: the report is rendered in memory first, the model
    is saved into a temporary folder beside ``model/`` and swapped in by renames, and each file
    is replaced atomically, ``result.json`` last. A ``model/`` left by an earlier run is removed
    when no model is saved, so it cannot be mistaken for this result's.
    """
    from fairsuite.report import render_html

    html = render_html(document)
    out.mkdir(parents=True, exist_ok=True)
    target = out / "model"
    if model is not None:
        staging = Path(tempfile.mkdtemp(prefix=".model.", suffix=".tmp", dir=out))
        try:
            model.save(staging, overwrite=True)
            os.chmod(staging, dir_mode())  # mkdtemp made it private
            _swap_in(staging, target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    elif (target / "config.json").is_file():
        _swap_in(None, target)
    atomic_write_text(out / "report.html", html)
    atomic_write_text(out / "result.json", dumps_json(document) + "\n")


def _swap_in(new: Path | None, target: Path) -> None:
    """Replace the folder ``target`` by ``new`` (or remove it): two renames, then a delete."""
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}-{os.urandom(4).hex()}")
        os.replace(target, old)
    if new is not None:
        os.replace(new, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def default_out_dir(
    name: str, config_hash: str, runs_dir: str | os.PathLike[str] = "fairsuite-runs"
) -> Path:
    """``<runs_dir>/<dataset>-<hash8>``: one folder per configuration."""
    from fairsuite.data import is_table_path

    stem = Path(name).stem if is_table_path(name) else name
    return Path(runs_dir) / f"{stem}-{config_hash[:8]}"
