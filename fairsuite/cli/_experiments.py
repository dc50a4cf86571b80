"""``fairsuite audit`` and ``fairsuite compare``: thin shells over :mod:`fairsuite.experiments`."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from fairsuite.cli._common import (
    CONTEXT_SETTINGS,
    EXIT_CODES_HELP,
    dataset_options,
    json_option,
    seed_option,
)

F = TypeVar("F", bound=Callable[..., Any])

_SPEC_KEYS = (
    "task",
    "sensitive",
    "target",
    "positive_label",
    "model",
    "image_size",
    "epochs",
    "batch_size",
    "max_train_rows",
    "device",
    "precision",
    "seed",
    "min_group_size",
    "n_boot",
    "ci",
    "data_dir",
    "pretrained",
)


def training_options(f: F) -> F:
    """Options shared by ``audit`` and ``compare``: task, model, training and metric settings."""
    from fairsuite.experiments._spec import DEVICES, MODELS, PRECISIONS

    options = [
        click.option("--task", default=None, help="Target to predict (default: the card's)."),
        click.option(
            "--model",
            type=click.Choice(MODELS),
            default=None,
            help="Classifier. auto: small CNN on CPU, resnet18 on GPU, boosting for tables.",
        ),
        click.option(
            "--image-size", type=click.IntRange(min=16), default=None, help="Image side in pixels."
        ),
        click.option("--epochs", type=click.IntRange(min=1), default=None, help="Training epochs."),
        click.option(
            "--batch-size", type=click.IntRange(min=1), default=None, help="Mini-batch size."
        ),
        click.option(
            "--max-train-rows",
            type=click.IntRange(min=10),
            default=None,
            help="Cap training rows (stratified by group x label) for quick runs.",
        ),
        click.option(
            "--device", type=click.Choice(DEVICES), default=None, help="cuda, mps, cpu or auto."
        ),
        click.option(
            "--pretrained",
            is_flag=True,
            default=None,
            help="Start from torchvision's ImageNet weights (must be in the torch hub cache).",
        ),
        click.option(
            "--precision",
            type=click.Choice(PRECISIONS),
            default=None,
            help="Training precision (auto: bf16/fp16 autocast on GPU, fp32 on CPU).",
        ),
        click.option(
            "--min-group-size",
            type=click.IntRange(min=1),
            default=None,
            help="Groups with fewer test rows are reported but not compared. [default: 30]",
        ),
        click.option(
            "--n-boot",
            type=click.IntRange(min=0),
            default=None,
            help="Bootstrap replicates for intervals. [default: 1000]",
        ),
        click.option(
            "--ci",
            type=click.FloatRange(0, 1, min_open=True, max_open=True),
            default=None,
            help="Confidence level. [default: 0.95]",
        ),
        seed_option(default=None),
        click.option(
            "--out",
            "out",
            type=click.Path(file_okay=False, path_type=Path),
            default=None,
            help="Output folder [default: ./fairsuite-runs/<dataset>-<config hash>].",
        ),
        click.option("--force", is_flag=True, help="Overwrite an --out of another configuration."),
        json_option,
        click.option("--quiet", "-q", is_flag=True, help="No progress bars on stderr."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def _spec_changes(params: dict[str, Any]) -> dict[str, Any]:
    changes = {k: params.get(k) for k in _SPEC_KEYS}
    if params.get("allow_missing"):
        changes["allow_missing"] = True
    if not changes.get("sensitive"):
        changes.pop("sensitive", None)
    if params.get("task") is not None and params.get("target") is not None:
        raise click.UsageError("use --task for a named dataset or --target for a file, not both")
    return {k: v for k, v in changes.items() if v is not None}


def _check_dataset_names(names: list[str], param_hint: str) -> None:
    """Reject unknown dataset names before any work (a usage error, exit 2)."""
    from fairsuite.data import is_table_path, list_datasets

    known = list_datasets()
    for name in names:
        if not is_table_path(name) and name not in known:
            raise click.BadParameter(
                f"unknown dataset {name!r}; known: {', '.join(known)}, or a .csv/.parquet path",
                param_hint=param_hint,
            )


def _progress(quiet: bool) -> bool:
    return not quiet and sys.stderr.isatty()


@click.command(context_settings=CONTEXT_SETTINGS, epilog=EXIT_CODES_HELP)
@click.argument("spec_file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--dataset",
    default=None,
    help="Dataset name (fairface, utkface, adult, compas, synthfaces) or a CSV/Parquet path. "
    "[default: synthfaces]",
)
@dataset_options
@training_options
def audit(spec_file: Path | None, dataset: str | None, **params: Any) -> None:
    """Train a model on a dataset and measure how unevenly it errs across groups.

    With no arguments it audits the embedded synthetic face set (no download). A YAML spec from
    audits/ gives the same options as the flags; flags given on the command line override it.
    Writes result.json, report.html and the model into --out; prints a summary (or, with --json,
    the result document) on stdout.

    \b
    Example:
        fairsuite audit
        fairsuite audit --dataset fairface --data-dir ../shared/data --allow-missing
        fairsuite audit audits/compas-recidivism.yaml --data-dir ../shared/data --json
    """
    from fairsuite._io import dumps_json
    from fairsuite.experiments import (
        AuditSpec,
        format_audit_summary,
        load_spec,
        run_audit,
    )

    spec = load_spec(spec_file) if spec_file is not None else AuditSpec()
    changes = _spec_changes(params)
    if dataset is not None:
        changes["dataset"] = dataset
    spec = spec.replace(**changes)
    _check_dataset_names([spec.dataset], "--dataset")
    document = run_audit(
        spec,
        out_dir=params["out"],
        runs_dir=None if params["out"] is not None else "fairsuite-runs",
        force=params["force"],
        progress=_progress(params["quiet"]),
    )
    out = _out_of(document, params["out"])
    if params["as_json"]:
        click.echo(dumps_json(document))
    else:
        click.echo(format_audit_summary(document, out=out))


def _out_of(document: dict[str, Any], out: Path | None) -> str:
    if out is not None:
        return str(out)
    from fairsuite.experiments import default_out_dir

    if document["kind"] == "compare":
        name = "compare-" + "-".join(Path(n).stem for n in document["config"]["datasets"])
    else:
        name = document["config"]["dataset"]
    return str(default_out_dir(name, document["config_hash"]))


@click.command(context_settings=CONTEXT_SETTINGS, epilog=EXIT_CODES_HELP)
@click.argument("datasets", nargs=-1, required=True)
@click.option(
    "--train-size",
    type=click.IntRange(min=10),
    default=None,
    help="Training rows per model [default: the smallest training split].",
)
@dataset_options
@training_options
def compare(datasets: tuple[str, ...], train_size: int | None, **params: Any) -> None:
    """Train one model per dataset and test every model on every dataset (an N x N table).

    Every model gets the same settings and the same number of training rows; datasets must
    share the task and the sensitive attributes through the shared taxonomy. A single YAML
    argument is read as a compare spec (the audit keys plus `datasets` and `train_size`).

    \b
    Example:
        fairsuite compare utkface fairface --data-dir ../shared/data --allow-missing
        fairsuite compare audits/utkface-vs-fairface.yaml --data-dir ../shared/data
    """
    from fairsuite._io import dumps_json
    from fairsuite.experiments import AuditSpec, format_compare_summary, run_compare
    from fairsuite.experiments._spec import load_compare_spec

    names = list(datasets)
    spec = AuditSpec()
    if len(names) == 1 and names[0].lower().endswith((".yaml", ".yml")):
        names, spec, spec_train_size = load_compare_spec(names[0])
        train_size = train_size or spec_train_size
    spec = spec.replace(**_spec_changes(params))
    if len(names) < 2:
        raise click.UsageError(
            "compare needs two or more datasets (or one compare spec .yaml); "
            "example: fairsuite compare utkface fairface"
        )
    _check_dataset_names(names, "DATASETS")
    out = params["out"]
    document = run_compare(
        names,
        spec,
        train_size=train_size,
        out_dir=out,
        runs_dir=None if out is not None else "fairsuite-runs",
        force=params["force"],
        progress=_progress(params["quiet"]),
    )
    if params["as_json"]:
        click.echo(dumps_json(document))
    else:
        click.echo(format_compare_summary(document, out=_out_of(document, out)))
