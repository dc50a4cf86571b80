"""``compare``: train one model per dataset, test every model on every dataset (N x N).

This reproduces the experiment behind the case for balanced face datasets: a model trained on a
skewed set and one trained on a balanced set, each evaluated on both test sets and broken down by
race x gender. All models share the same settings and the same training-set size, so differences
come from the data, not from how much of it there was.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fairsuite import __version__
from fairsuite._io import dumps_json
from fairsuite.exceptions import DataChangeWarning, InvalidInputError, SpecError
from fairsuite.experiments._audit import as_spec, check_out_dir, write_outputs
from fairsuite.experiments._record import SCHEMA_VERSION
from fairsuite.experiments._run import (
    Loaded,
    Split,
    _intervention_record,
    _training_record,
    check_evaluable,
    default_out_dir,
    default_sensitive,
    environment,
    fit_stage,
    intervene_stage,
    load_stage,
    resolve,
    score_stage,
    split_stage,
    target_attributes,
)
from fairsuite.experiments._spec import RunSpec

if TYPE_CHECKING:
    from fairsuite.data import Dataset
    from fairsuite.train import TrainSettings

__all__ = ["compare", "run_compare", "compare_task"]

_TOO_FEW = (
    "compare needs at least two datasets; got {n} ({names}). Example: compare utkface fairface"
)
_DUPLICATE = "dataset {name!r} is named twice; each dataset may appear once."
_KIND_MISMATCH = (
    "cannot compare {a} ({kind_a} data) with {b} ({kind_b} data): models must train on the same "
    "kind of input."
)
_TASK_MISMATCH = (
    "datasets do not share the task: {a} predicts {task_a!r} with classes {classes_a}, {b} "
    "predicts {task_b!r} with classes {classes_b}. Pick a task both have with --task."
)
_MISSING_SENSITIVE = (
    "sensitive attribute {column!r} is missing in {missing} (present in {present}). "
    "Use --sensitive with attributes every dataset has in the shared taxonomy: {common}."
)
_TRAIN_SIZE = (
    "--train-size {size} is larger than {name}'s training split ({n} rows). "
    "Use at most {smallest} (the smallest training split), or omit it."
)


def _check_compatible(datasets: list[Dataset], sensitive: tuple[str, ...]) -> None:
    first = datasets[0]
    for other in datasets[1:]:
        if other.kind != first.kind:
            raise InvalidInputError(
                _KIND_MISMATCH.format(
                    a=first.name, kind_a=first.kind, b=other.name, kind_b=other.kind
                )
            )
        if other.task != first.task or tuple(other.classes) != tuple(first.classes):
            raise InvalidInputError(
                _TASK_MISMATCH.format(
                    a=first.name,
                    task_a=first.task,
                    classes_a=list(first.classes),
                    b=other.name,
                    task_b=other.task,
                    classes_b=list(other.classes),
                )
            )
    common = sorted(set.intersection(*(set(d.sensitive) for d in datasets)))
    for column in sensitive:
        missing = [d.name for d in datasets if column not in d.table.columns]
        if missing:
            present = [d.name for d in datasets if d.name not in missing]
            raise InvalidInputError(
                _MISSING_SENSITIVE.format(
                    column=column,
                    missing=", ".join(missing),
                    present=", ".join(present) or "none",
                    common=", ".join(common) or "(none)",
                )
            )


@dataclasses.dataclass(frozen=True)
class _Prepared:
    """Everything a compare decides before training: the opened datasets, the shared audited
    attributes, the training size and the spec every model trains with."""

    loaded: list[Loaded]
    sensitive: tuple[str, ...]
    targets: tuple[str, ...]
    size: int
    run_spec: RunSpec
    plans: dict[str, Any]


def _prepare(names: list[str], spec: RunSpec, train_size: int | None) -> _Prepared:
    """Open every dataset, check they can be compared and fix the training size (no decoding,
    no training). The driver and every worker call this with the same inputs, so they agree."""
    from fairsuite.data import is_table_path

    loaded = [
        load_stage(
            dataclasses.replace(
                spec, dataset=name, sensitive=spec.sensitive if is_table_path(name) else ()
            )
        )
        for name in names
    ]
    datasets = [ld.dataset for ld in loaded]
    sensitive = tuple(spec.sensitive) or tuple(
        c for c in default_sensitive(datasets[0]) if all(c in d.sensitive for d in datasets)
    )
    _check_compatible(datasets, sensitive)
    loaded = [
        dataclasses.replace(ld, audited=sensitive, targets=target_attributes(ld.dataset, sensitive))
        for ld in loaded
    ]
    sizes = {d.name: int((d.table["split"] == "train").sum()) for d in datasets}
    smallest = min(sizes.values())
    if spec.max_train_rows is not None:
        smallest = min(smallest, spec.max_train_rows)
    if train_size is None:
        train_size = spec.train_size
    size = smallest if train_size is None else train_size
    for d in datasets:
        if size > sizes[d.name]:
            raise InvalidInputError(
                _TRAIN_SIZE.format(size=size, name=d.name, n=sizes[d.name], smallest=smallest)
            )
    # An attribute that is the target in any dataset is treated so in every cell.
    targets = tuple(c for c in sensitive if any(c in ld.targets for ld in loaded))
    run_spec = dataclasses.replace(spec, max_train_rows=size, train_size=None, composition=None)
    plans: dict[str, Any] = {}
    if spec.intervention is not None:  # checked for every dataset before any training
        from fairsuite.interventions import plan_intervention

        plans = {ld.dataset.name: plan_intervention(run_spec, ld.dataset, sensitive)
                 for ld in loaded}
    return _Prepared(loaded, sensitive, targets, size, run_spec, plans)


def _split_all(prep: _Prepared, settings: TrainSettings, *, progress: bool) -> dict[str, Split]:
    """Every dataset's test split and training rows (every image decoded: the pre-flight)."""
    return {
        ld.dataset.name: split_stage(ld, prep.run_spec, settings, progress=progress)
        for ld in prep.loaded
    }


def _train_and_score(
    train_name: str,
    splits: Mapping[str, Split],
    prep: _Prepared,
    spec: RunSpec,
    settings: TrainSettings,
    *,
    progress: bool,
) -> dict[str, Any]:
    """Train the model of ``train_name`` and score it on every test split: plain data (its
    cells, training record and intervention record), the same wherever it runs."""
    from fairsuite.metrics import headline

    split = splits[train_name]
    plan = prep.plans.get(train_name)  # over the attributes the compare audits
    trainset = intervene_stage(split, prep.run_spec, plan, progress=progress)
    model = fit_stage(split, trainset, prep.run_spec, settings, progress=progress)
    cells = []
    for test_name, test_split in splits.items():
        _, result, baseline = score_stage(model, test_split, prep.sensitive, prep.targets, spec)
        metrics = result.to_dict()
        if baseline is not None:
            metrics["majority_baseline"] = baseline
        cells.append(
            {
                "train": train_name,
                "test": test_name,
                "metrics": metrics,
                "headline": headline(result).to_dict(),
            }
        )
    return json.loads(
        dumps_json(
            {
                "train": train_name,
                "cells": cells,
                "training": _training_record(model, split, trainset, prep.sensitive).to_dict(),
                "intervention": _intervention_record(trainset, model),
            }
        )
    )


def compare_task(item: Mapping[str, Any]) -> dict[str, Any]:
    """One model of a compare, in a worker of any executor (plain data in and out): open and
    split every dataset as the driver did (images come from the shared decoded-image cache),
    train on ``item["train"]`` and score on every test split."""
    from fairsuite.experiments._executors import apply_worker_threads

    apply_worker_threads()
    spec = RunSpec.from_dict(item["spec"], source="compare")
    with warnings.catch_warnings():  # the driver announced every data change already
        warnings.simplefilter("ignore", DataChangeWarning)
        prep = _prepare(list(item["names"]), spec, item["train_size"])
        settings = resolve(spec, prep.loaded[0].dataset.kind)
        splits = _split_all(prep, settings, progress=False)
    return _train_and_score(item["train"], splits, prep, spec, settings, progress=False)


def compare(
    names: Sequence[str],
    spec: RunSpec | Mapping[str, Any] | None = None,
    *,
    train_size: int | None = None,
    out_dir: str | os.PathLike[str] | None = None,
    runs_dir: str | os.PathLike[str] | None = None,
    force: bool = False,
    progress: bool = False,
    policy: Any = None,
    baseline: Any = None,
    executor: str | None = None,
    jobs: int | None = None,
    executor_options: Mapping[str, Any] | None = None,
    **keywords: Any,
) -> dict[str, Any]:
    """Train one model per dataset and evaluate every model on every dataset's test split.

    Compare is N runs scored on each other's test splits: each model goes through the same
    stages as an audit (:func:`fairsuite.experiments.run`), with identical settings and the same
    number of training rows.

    Parameters
    ----------
    names : sequence of str
        Two or more dataset names (or CSV/Parquet paths) sharing task and sensitive attributes
        through the shared taxonomy.
    spec : RunSpec or mapping, optional
        Settings applied identically to every model (its ``dataset`` field is ignored); or pass
        its fields as keywords.
    train_size : int, optional
        Training rows per model (a stratified subsample by group x label); default the smallest
        training split among the datasets.
    out_dir : path, optional
        Folder for ``result.json`` and ``report.html``.
    runs_dir : path, optional
        Without ``out_dir``: write into ``runs_dir/compare-<names>-<config hash[:8]>``.
    force : bool
        Overwrite an ``out_dir`` that holds a result of another configuration.
    progress : bool
        Show progress bars on stderr.
    policy : Policy, mapping or path to a YAML policy, optional
        Gate every cell (:func:`fairsuite.gate.check`); the verdict goes into ``gate``. Read and
        checked before any training.
    baseline : compare document or path, optional
        The compare result the policy's regression checks compare against (cell by cell).
    executor : {"serial", "local", "ray"}, optional
        Where the N models train: one after the other in this process (default), in ``jobs``
        local worker processes, or as Ray tasks (:mod:`fairsuite.experiments._ray`; the
        ``executor_options`` go to it: ``address``, ``num_cpus``, ``num_gpus``, ``memory``).
        The same document on every executor; the executor is not part of the configuration.

    Returns
    -------
    dict
        The compare document (``kind: "compare"``): ``cells`` holds one metrics record (with
        its headline) per (trained on, tested on) pair, ``training`` each model's training
        record, ``interventions`` each model's intervention record (when one was asked for),
        ``compositions`` each training set's composition.
    """
    from fairsuite.data import composition

    names = list(names)
    if len(names) < 2:
        raise InvalidInputError(_TOO_FEW.format(n=len(names), names=", ".join(names) or "none"))
    for name in names:
        if names.count(name) > 1:
            raise InvalidInputError(_DUPLICATE.format(name=name))
    spec = as_spec(spec, keywords)
    ex = None
    if executor not in (None, "serial"):  # an unknown executor or a missing Ray: before work
        from fairsuite.experiments._executors import get_executor

        ex = get_executor(executor, jobs=jobs, **dict(executor_options or {}))
    elif executor_options:
        raise SpecError(
            "executor_options (Ray's address and per-run resources) need executor='ray'."
        )
    gate_policy = gate_baseline = None
    if policy is not None:  # checked before any work
        from fairsuite.gate import load_policy, read_result

        gate_policy = load_policy(policy)
        gate_baseline = None if baseline is None else read_result(baseline, source="baseline")

    prep = _prepare(names, spec, train_size)
    datasets = [ld.dataset for ld in prep.loaded]
    sensitive, size = prep.sensitive, prep.size
    settings = resolve(spec, datasets[0].kind)
    config_hash = spec.config_hash(
        **settings.to_dict(), datasets=names, train_size=size, sensitive=list(sensitive)
    )
    out: Path | None = None
    if out_dir is not None:
        out = Path(out_dir)
    elif runs_dir is not None:
        out = default_out_dir(
            "compare-" + "-".join(Path(n).stem for n in names), config_hash, runs_dir
        )
    if out is not None:
        check_out_dir(out, config_hash, force=force)
    for d in datasets:
        check_evaluable(d, sensitive, spec.min_group_size)
    # pre-flight: every image of every dataset is decoded before the first model trains (and
    # lands in the decoded-image cache every worker on this machine reads)
    splits = _split_all(prep, settings, progress=progress)

    if ex is None:
        from fairsuite.experiments._executors import apply_worker_threads

        apply_worker_threads()  # $FAIRSUITE_WORKER_THREADS, as a sweep's serial runs honour it
        trained = [
            _train_and_score(name, splits, prep, spec, settings, progress=progress)
            for name in splits
        ]
    else:
        trained = _train_elsewhere(ex, list(splits), names, spec, size, progress=progress)

    config = spec.to_dict()
    for key in ("data_dir", "dataset"):
        config.pop(key, None)
    config.update(settings.to_dict())
    config.update({"datasets": names, "train_size": size, "sensitive": list(sensitive)})
    document: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "kind": "compare",
        "fairsuite_version": __version__,
        "datasets": [d.name for d in datasets],
        "task": datasets[0].task,
        "classes": list(datasets[0].classes),
        "sensitive": list(sensitive),
        "target_attributes": list(prep.targets),
        "train_size": size,
        "config": config,
        "config_hash": config_hash,
        "seed": spec.seed,
        "compositions": {
            name: composition(dataclasses.replace(sp.dataset, sensitive=sensitive))
            for name, sp in splits.items()
        },
        "checksums": {d.name: dict(sorted(d.checksums.items())) for d in datasets},
        "integrity": {ld.dataset.name: ld.integrity for ld in prep.loaded},
        "load_reports": {
            name: sp.dataset.report.to_dict() if sp.dataset.report is not None else None
            for name, sp in splits.items()
        },
        "synthetic": {d.name: bool(d.synthetic) for d in datasets},
        "cells": [cell for t in trained for cell in t["cells"]],
        "training": {t["train"]: t["training"] for t in trained},
        "interventions": (
            {t["train"]: t["intervention"] for t in trained}
            if spec.intervention is not None
            else None
        ),
        "gate": None,
        "environment": environment(),
    }
    document = json.loads(dumps_json(document))
    if gate_policy is not None:
        from fairsuite.gate import check, with_gate

        document = with_gate(document, check(document, gate_policy, baseline=gate_baseline))
    if out is not None:
        write_outputs(document, out)
    return document


def _train_elsewhere(
    ex: Any,
    order: list[str],
    names: list[str],
    spec: RunSpec,
    size: int,
    *,
    progress: bool,
) -> list[dict[str, Any]]:
    """Train the models as tasks of ``ex``; their results in ``order``. A compare is whole or
    nothing: the first failed model stops it with that model's error."""
    items = [
        {"spec": spec.to_dict(), "names": names, "train_size": size, "train": name}
        for name in order
    ]
    out: dict[int, dict[str, Any]] = {}
    for i, result, error in ex.map(compare_task, items):
        if error is not None:
            raise error
        out[i] = result
        if progress:
            print(
                f"compare: model {len(out)}/{len(items)} trained ({items[i]['train']}, on the "
                f"{ex.name} executor)",
                file=sys.stderr,
                flush=True,
            )
    return [out[i] for i in range(len(items))]


def run_compare(
    names: Sequence[str], spec: RunSpec | None = None, *, progress: bool = True, **options: Any
) -> dict[str, Any]:
    """:func:`compare` with a RunSpec and progress on (the name earlier versions used)."""
    return compare(names, spec, progress=progress, **options)
