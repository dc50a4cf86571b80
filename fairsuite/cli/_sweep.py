"""``fairsuite sweep``: a thin shell over :func:`fairsuite.experiments.sweep`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from fairsuite.cli._common import (
    CONTEXT_SETTINGS,
    EXIT_CODES_HELP,
    executor_choice,
    executor_options,
    json_option,
    spec_changes,
)

__all__ = ["sweep"]

#: RunSpec fields the sweep varies itself (its own comma-list flags), so not offered singly.
_AXES = ("model", "seed", "intervention", "balance", "balance_by", "train_size", "composition",
         "composition_by", "max_train_rows")


def _csv_list(value: str | None) -> list[str]:
    return [] if not value else [v.strip() for v in value.split(",") if v.strip()]


def _sizes(value: str | None) -> list[int | None]:
    out: list[int | None] = []
    for item in _csv_list(value):
        if item == "all":
            out.append(None)
            continue
        try:
            out.append(int(item.replace("_", "")))
        except ValueError as err:
            raise click.BadParameter(
                f"{item!r} is not a size; give integers or 'all', e.g. 1000,4000,all",
                param_hint="--sizes",
            ) from err
    return out


def _base_options(f: Any) -> Any:
    from fairsuite.cli._common import spec_options
    from fairsuite.experiments._spec import spec_fields

    keep = tuple(name for name, opt, _ in spec_fields(cli_only=True) if name not in _AXES)
    return spec_options(only=keep)(f)


@click.command(context_settings=CONTEXT_SETTINGS, epilog=EXIT_CODES_HELP)
@click.argument("spec_file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dataset", default=None, help="Dataset name or CSV/Parquet path.")
@click.option("--sizes", default=None, help="Training sizes, e.g. 1000,4000,16000,all.")
@click.option(
    "--balance",
    "compositions",
    default=None,
    help="Training compositions: natural, uniform, parity, GROUP=SHARE (one group's share, the "
    "others in natural proportions), comma-separated. [default: natural]",
)
@click.option("--balance-by", "balance_by", multiple=True,
              help="Attribute the compositions are over (default: the first audited).")
@click.option("--seeds", default=None, help="Seeds, e.g. 0,1,2. [default: 0]")
@click.option("--model", "models", default=None, help="Models, comma-separated.")
@click.option("--intervention", "interventions", default=None,
              help="Interventions, comma-separated (none = without one).")
@click.option("--test-on", "test_on", default=None,
              help="Also score every run on these datasets' test splits, comma-separated.")
@executor_options
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="The run store and the results [default: ./fairsuite-runs/sweep-<name>].")
@click.option("--status", "status_only", is_flag=True,
              help="Say which runs are done, missing or failed; run nothing.")
@click.option("--fail-fast", is_flag=True, help="Stop at the first failed run.")
@click.option("--csv", "write_csv", is_flag=True, help="Also write results.csv.")
@click.option("--quiet", "-q", is_flag=True, help="No progress lines on stderr.")
@json_option
@_base_options
def sweep(spec_file: Path | None, dataset: str | None, **params: Any) -> None:
    """Train many models over training sizes x compositions x interventions x seeds and chart
    how each group's error and the gaps between groups move.

    Sizes are nested (a smaller training set is a subset of a larger one) and every run is
    tested on the same real test split. Runs land in a run store (--out) as they finish: an
    interrupted sweep started again computes only what is missing. Writes results.parquet (one
    row per run x attribute x group x metric, and per disparity), slopes.csv (each gap's change
    per decade of training size, with its interval) and report.html. A spec file's `sweep:`
    section gives the same axes.

    \b
    Example:
        fairsuite sweep --dataset adult --model logreg --sensitive gender \\
            --sizes 1000,4000,16000 --balance natural,uniform --seeds 0,1 --out runs/adult
        fairsuite sweep audits/sweep-synthfaces.yaml --executor local --jobs 2
        fairsuite sweep audits/sweep-synthfaces.yaml --executor ray --gpus-per-run 0.25
        fairsuite sweep audits/sweep-synthfaces.yaml --status
    """
    from fairsuite._io import dumps_json
    from fairsuite.experiments import RunSpec, SweepSpec, load_sweep_spec
    from fairsuite.experiments import sweep as run_sweep
    from fairsuite.experiments._sweep import sweep_status

    if spec_file is not None:
        spec = load_sweep_spec(spec_file)
        base = spec.base
    else:
        spec, base = None, RunSpec()
    changes = spec_changes(params)
    if dataset is not None:
        changes["dataset"] = dataset
    base = base.replace(**changes)
    axes: dict[str, Any] = {} if spec is None else {
        k: v for k, v in spec.to_dict().items() if k != "base"
    }
    if params["sizes"]:
        axes["sizes"] = _sizes(params["sizes"])
    if params["compositions"]:
        axes["compositions"] = _csv_list(params["compositions"])
    if params["balance_by"]:
        axes["composition_by"] = list(params["balance_by"])
    if params["seeds"]:
        try:
            axes["seeds"] = [int(s) for s in _csv_list(params["seeds"])]
        except ValueError as err:
            raise click.BadParameter("give integers, e.g. 0,1,2", param_hint="--seeds") from err
    if params["models"]:
        axes["models"] = _csv_list(params["models"])
    if params["interventions"]:
        axes["interventions"] = [
            None if i in ("none", "") else i for i in _csv_list(params["interventions"])
        ]
    if params["test_on"]:
        axes["test_on"] = _csv_list(params["test_on"])
    sweep_spec = SweepSpec.from_dict(axes, base, source=str(spec_file or "options"))
    out = params["out"] or Path("fairsuite-runs") / f"sweep-{Path(base.dataset).stem}"
    if params["status_only"]:
        status = sweep_status(sweep_spec, out)
        if params["as_json"]:
            click.echo(dumps_json(status))
        else:
            stale = status.get("stale") or 0
            click.echo(
                f"{out}: {status['done']} done, {status['missing']} missing"
                + (f" ({stale} of them stale: computed by an older pipeline)" if stale else "")
                + f", {status['failed']} failed, of {status['total']} runs"
            )
            for key, err in status["failed_runs"].items():
                click.echo(f"  failed {key}: {err}")
        return
    executor, jobs, options = executor_choice(params, sweep_spec.executor, sweep_spec.jobs)
    result = run_sweep(
        sweep_spec,
        out,
        executor=executor,
        jobs=jobs,
        fail_fast=params["fail_fast"],
        progress=not params["quiet"],
        executor_options=options,
        log=None if not params["quiet"] else (lambda line: None),
    )
    if params["write_csv"]:
        from fairsuite._io import atomic_write_text

        atomic_write_text(out / "results.csv", result.results.to_csv(index=False))
    if params["as_json"]:
        click.echo(dumps_json({"out": str(out), "status": result.status,
                               "slopes": result.slopes.to_dict(orient="records")}))
    else:
        click.echo(format_sweep_summary(result))
    if result.status["failed"]:
        sys.exit(int(4 if not result.status["done"] else 0))


def format_sweep_summary(result: Any) -> str:
    """The terminal summary: what ran, and each disparity's slope per decade of size."""
    st = result.status
    lines = [
        f"fairsuite sweep: {result.spec.base.dataset}, {st['total']} runs "
        f"({st['done']} done, {st['failed']} failed, {result.computed} computed now)",
    ]
    slopes = result.slopes
    headline = ("accuracy", "fpr", "fnr", "demographic_parity_difference",
                "equalized_odds_difference")
    shown = slopes[(slopes["attribute"] != "overall") & slopes["metric"].isin(headline)]
    if len(shown):
        lines.append(
            "gap change per decade of training size [95% interval] (all gaps: slopes.csv):"
        )
        for r in shown.itertuples():
            lines.append(
                f"  {r.metric:<30} {r.attribute:<14} {r.model:<8} {r.composition:<12} "
                f"{r.intervention:<10} {r.slope_per_decade:+.4f} "
                f"[{r.ci_low:+.4f}, {r.ci_high:+.4f}]  (tested on {r.tested_on})"
            )
    lines.append(
        f"wrote {result.out}/results.parquet, {result.out}/slopes.csv, {result.out}/report.html"
    )
    return "\n".join(lines)
