"""``fairsuite audit``, ``compare`` and ``evaluate``: thin shells over :mod:`fairsuite.experiments`.

Their run options are derived from :class:`fairsuite.experiments.RunSpec`'s fields
(:func:`spec_options`), so the flags, the YAML spec keys and the library keywords are one list.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from fairsuite.cli._common import (
    CONTEXT_SETTINGS,
    EXIT_CODES_HELP,
    executor_choice,
    executor_options,
    json_option,
    spec_changes,
    spec_options,
)
from fairsuite.cli._gate import finish_gate, gate_options, load_gate_inputs

F = TypeVar("F", bound=Callable[..., Any])


def output_options(f: F) -> F:
    """``--out``, ``--force``, ``--json`` and ``--quiet``: where results go and how they show."""
    options = [
        click.option(
            "--out",
            "out",
            type=click.Path(file_okay=False, path_type=Path),
            default=None,
            help="Output folder [default: ./fairsuite-runs/<name>-<config hash>].",
        ),
        click.option("--force", is_flag=True, help="Overwrite an --out of another configuration."),
        json_option,
        click.option("--quiet", "-q", is_flag=True, help="No progress bars on stderr."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def _changes(params: dict[str, Any]) -> dict[str, Any]:
    changes = spec_changes(params)
    if changes.get("task") is not None and changes.get("target") is not None:
        raise click.UsageError("use --task for a named dataset or --target for a file, not both")
    return changes


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


def _emit(document: dict[str, Any], as_json: bool, summary: Callable[[], str]) -> None:
    from fairsuite._io import dumps_json

    click.echo(dumps_json(document) if as_json else summary())


@click.command(context_settings=CONTEXT_SETTINGS, epilog=EXIT_CODES_HELP)
@click.argument("spec_file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--dataset",
    default=None,
    help="Dataset name (fairface, utkface, adult, compas, synthfaces) or a CSV/Parquet path. "
    "[default: synthfaces]",
)
@spec_options()
@output_options
@gate_options
def audit(spec_file: Path | None, dataset: str | None, **params: Any) -> None:
    """Train a model on a dataset and measure how unevenly it errs across groups.

    With no arguments it audits the embedded synthetic face set (no download). A YAML spec from
    audits/ gives the same options as the flags; flags given on the command line override it.
    Writes result.json, report.html, predictions.parquet and the model into --out; prints a
    summary (or, with --json, the result document) on stdout.

    \b
    Example:
        fairsuite audit
        fairsuite audit --dataset fairface --data-dir ../shared/data --allow-missing
        fairsuite audit audits/compas-recidivism.yaml --data-dir ../shared/data --json
        fairsuite audit --policy audits/policy-faces.yaml --junit gate.xml
    """
    from fairsuite.experiments import RunSpec, format_audit_summary, load_spec
    from fairsuite.experiments import audit as run_audit

    spec = load_spec(spec_file) if spec_file is not None else RunSpec()
    changes = _changes(params)
    if dataset is not None:
        changes["dataset"] = dataset
    spec = spec.replace(**changes)
    _check_dataset_names([spec.dataset], "--dataset")
    policy, baseline = load_gate_inputs(params)  # before any training
    out = params["out"]
    record = run_audit(
        spec,
        out_dir=out,
        runs_dir=None if out is not None else "fairsuite-runs",
        force=params["force"],
        progress=_progress(params["quiet"]),
        policy=policy,
        baseline=baseline,
    )
    document = record.to_dict()
    where = str(out) if out is not None else _default_out(record.spec.dataset, record.config_hash)
    _emit(document, params["as_json"], lambda: format_audit_summary(document, out=where))
    _exit_gate(document, params, f"{where}/result.json")


def _exit_gate(document: dict[str, Any], params: dict[str, Any], source: str) -> None:
    """JUnit file, GitHub annotations and exit code 1 when a --policy gate failed."""
    code = finish_gate(document.get("gate"), junit=params.get("junit"), source=source)
    if code:
        click.get_current_context().exit(code)


def _default_out(name: str, config_hash: str) -> str:
    from fairsuite.experiments import default_out_dir

    return str(default_out_dir(name, config_hash))


@click.command(context_settings=CONTEXT_SETTINGS, epilog=EXIT_CODES_HELP)
@click.argument("datasets", nargs=-1, required=True)
@spec_options()
@executor_options
@output_options
@gate_options
def compare(datasets: tuple[str, ...], **params: Any) -> None:
    """Train one model per dataset and test every model on every dataset (an N x N table).

    Every model gets the same settings and the same number of training rows (--train-size,
    default: the smallest training split); datasets must share the task and the sensitive
    attributes through the shared taxonomy. A single YAML
    argument is read as a compare spec (the audit keys plus `datasets`, `train_size` and
    optionally `executor` and `jobs`). The N models train one after the other here, or at
    once on local worker processes or Ray (--executor): the same result either way.

    \b
    Example:
        fairsuite compare utkface fairface --data-dir ../shared/data --allow-missing
        fairsuite compare audits/utkface-vs-fairface.yaml --data-dir ../shared/data
        fairsuite compare utkface fairface --executor ray --gpus-per-run 0.5
    """
    from fairsuite.experiments import RunSpec, format_compare_summary, load_compare_spec
    from fairsuite.experiments import compare as run_compare

    names = list(datasets)
    spec = RunSpec()
    train_size = params.get("train_size")
    spec_executor = spec_jobs = None
    if len(names) == 1 and names[0].lower().endswith((".yaml", ".yml")):
        names, spec, spec_train_size, spec_executor, spec_jobs = load_compare_spec(names[0])
        train_size = train_size or spec_train_size
    executor, jobs, executor_opts = executor_choice(params, spec_executor, spec_jobs)
    spec = spec.replace(**{k: v for k, v in _changes(params).items() if k != "train_size"})
    if len(names) < 2:
        raise click.UsageError(
            "compare needs two or more datasets (or one compare spec .yaml); "
            "example: fairsuite compare utkface fairface"
        )
    _check_dataset_names(names, "DATASETS")
    policy, baseline = load_gate_inputs(params)  # before any training
    out = params["out"]
    document = run_compare(
        names,
        spec,
        train_size=train_size,
        out_dir=out,
        runs_dir=None if out is not None else "fairsuite-runs",
        force=params["force"],
        progress=_progress(params["quiet"]),
        policy=policy,
        baseline=baseline,
        executor=executor,
        jobs=jobs,
        executor_options=executor_opts,
    )
    where = str(out) if out is not None else _default_out(
        "compare-" + "-".join(Path(n).stem for n in names), document["config_hash"]
    )
    _emit(document, params["as_json"], lambda: format_compare_summary(document, out=where))
    _exit_gate(document, params, f"{where}/result.json")


@click.command(context_settings=CONTEXT_SETTINGS, epilog=EXIT_CODES_HELP)
@click.argument("source", type=click.Path(exists=True, path_type=Path))
@click.option("--y-true", default="y_true", show_default=True, help="Column of true labels.")
@click.option("--y-pred", default=None, help="Column of predicted labels [default: y_pred].")
@click.option("--score", default=None, help="Column of positive-class scores (enables AUC).")
@click.option(
    "--threshold",
    type=float,
    default=None,
    help="Predict the positive class where --score >= this (instead of --y-pred).",
)
@click.option(
    "--target-attribute",
    "target_attributes",
    multiple=True,
    help="A --sensitive column that is the target (compared by accuracy only); repeatable.",
)
@spec_options(only=("sensitive", "positive_label", "seed", "min_group_size", "n_boot", "ci"))
@output_options
@gate_options
def evaluate(source: Path, **params: Any) -> None:
    """Measure subgroup errors of given predictions: a predictions file, or a finished run.

    SOURCE is a CSV/TSV/Parquet file with one row per example (any model's predictions: no
    training, torch is never imported), or the folder of an audit, whose predictions.parquet is
    re-evaluated with other settings (--ci, --min-group-size, --sensitive) without
    retraining. Writes result.json and report.html into --out, like an audit.

    \b
    Example:
        fairsuite evaluate preds.csv --y-true label --y-pred pred --sensitive race
        fairsuite evaluate compas.csv --y-true two_year_recid --score decile_score \\
            --threshold 5 --sensitive race
        fairsuite evaluate fairsuite-runs/adult-1a2b3c4d --ci 0.9 --min-group-size 10
    """
    from fairsuite.experiments import (
        check_out_dir,
        format_audit_summary,
        reevaluate,
        write_run,
    )
    from fairsuite.experiments import evaluate as evaluate_predictions

    policy, baseline = load_gate_inputs(params)
    if source.is_dir():
        given = spec_changes(params)
        record = reevaluate(
            source,
            n_boot=given.get("n_boot"),
            ci=given.get("ci"),
            min_group_size=given.get("min_group_size"),
            sensitive=given.get("sensitive"),
            seed=given.get("seed"),
        )
    else:
        record = evaluate_predictions(
            source,
            y_true=params["y_true"],
            y_pred=params["y_pred"] or ("y_pred" if params["threshold"] is None else None),
            score=params["score"],
            threshold=params["threshold"],
            sensitive=params["sensitive"],
            positive_label=params["positive_label"],
            target_attributes=params["target_attributes"],
            n_boot=params["n_boot"] if params["n_boot"] is not None else 1000,
            ci=params["ci"] if params["ci"] is not None else 0.95,
            min_group_size=params["min_group_size"] if params["min_group_size"] is not None else 30,
            seed=params["seed"] if params["seed"] is not None else 0,
        )
    out = params["out"]
    if out is None:
        out = Path(_default_out(f"evaluate-{Path(source).stem}", record.config_hash))
    check_out_dir(out, record.config_hash, force=params["force"])
    if policy is not None:
        from fairsuite.gate import check, with_gate

        record = with_gate(record, check(record, policy, baseline=baseline))
    document = write_run(record, out)
    _emit(document, params["as_json"], lambda: format_audit_summary(document, out=str(out)))
    _exit_gate(document, params, f"{out}/result.json")
