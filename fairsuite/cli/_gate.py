"""``fairsuite gate`` and the ``--policy`` options of audit, compare and evaluate.

A thin shell over :mod:`fairsuite.gate`: the table (or, with ``--json``, the gate document) on
stdout; GitHub annotations and everything else on stderr; exit 0 pass, 1 fail, 3 when the
result or the policy is invalid.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import click

from fairsuite.cli._common import CONTEXT_SETTINGS, EXIT_CODES_HELP, echo_err, json_option

__all__ = ["gate", "gate_options", "finish_gate", "load_gate_inputs"]

F = TypeVar("F", bound=Callable[..., Any])

_POLICY_HELP = (
    "Gate policy (YAML, e.g. audits/policy-default.yaml): judge the result and record the "
    "verdict in result.json and the report; exit 1 when it fails (3 when the policy is invalid)."
)


def gate_options(f: F) -> F:
    """``--policy``, ``--baseline`` and ``--junit``: gate a run in one go (audit, compare,
    evaluate; later sweep)."""
    options = [
        click.option(
            "--policy",
            type=click.Path(dir_okay=False, path_type=Path),
            default=None,
            help=_POLICY_HELP,
        ),
        click.option(
            "--baseline",
            type=click.Path(path_type=Path),
            default=None,
            help="Result (result.json or run folder) the policy's regression checks compare "
            "against.",
        ),
        click.option(
            "--junit",
            type=click.Path(dir_okay=False, path_type=Path),
            default=None,
            help="With --policy: also write the gate as JUnit XML (one test case per check).",
        ),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def load_gate_inputs(params: Mapping[str, Any]) -> tuple[Any, Any]:
    """The policy and the baseline of ``gate_options``, read and checked before any work.

    An invalid policy or baseline is an error (exit 3); with ``--junit`` the JUnit file says so.
    """
    if params.get("policy") is None:
        if params.get("baseline") is not None or params.get("junit") is not None:
            raise click.UsageError("--baseline and --junit need --policy")
        return None, None
    from fairsuite.exceptions import FairsuiteError
    from fairsuite.gate import load_policy, read_result

    try:
        policy = load_policy(params["policy"])
        baseline = None
        if params.get("baseline") is not None:
            baseline = read_result(params["baseline"], source=str(params["baseline"]))
    except FairsuiteError as err:
        _junit_error(params.get("junit"), err)
        raise
    return policy, baseline


def _junit_error(junit: Path | None, err: BaseException) -> None:
    if junit is None:
        return
    from fairsuite._io import atomic_write_text
    from fairsuite.gate import junit_error_xml

    atomic_write_text(junit, junit_error_xml(str(err)))


def finish_gate(
    gate_doc: Mapping[str, Any] | None, *, junit: Path | None, source: str | None
) -> int:
    """Write the JUnit file, print GitHub annotations (under GitHub Actions); the exit code."""
    if not gate_doc:
        return 0
    from fairsuite._io import atomic_write_text
    from fairsuite.gate import github_annotations, in_github_actions, junit_xml

    if junit is not None:
        atomic_write_text(junit, junit_xml(gate_doc))
    if in_github_actions():
        for line in github_annotations(gate_doc, file=source):
            click.echo(line, err=True)
    return 0 if gate_doc.get("verdict") == "pass" else 1


@click.command(context_settings=CONTEXT_SETTINGS, epilog=EXIT_CODES_HELP)
@click.argument("result", type=click.Path(path_type=Path))
@click.option(
    "--policy",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Gate policy (YAML); see audits/policy-default.yaml and docs/gate.md.",
)
@click.option(
    "--baseline",
    type=click.Path(path_type=Path),
    default=None,
    help="An earlier result (result.json or run folder) for the policy's regression checks.",
)
@click.option(
    "--junit",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write JUnit XML: one test case per check, failures with their reason.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Write the result with its gate verdict (result.json) and the gated report.html here.",
)
@json_option
def gate(
    result: Path,
    policy: Path,
    baseline: Path | None,
    junit: Path | None,
    out: Path | None,
    as_json: bool,
) -> None:
    """Judge a finished result against a fairness policy: exit 0 pass, 1 fail, 3 invalid input.

    RESULT is a result.json (or the folder holding one) written by audit, evaluate or compare.
    Each check compares an interval bound with its limit: a pass means "shown within the limit".
    An interval straddling the limit (inconclusive) and a group too small to measure fail or
    warn as the policy says; an undefined or missing value never passes. Prints a table of the
    checks (failed first), or the gate document with --json. Under GitHub Actions
    (GITHUB_ACTIONS=true) failed checks are also printed as ::error annotations on stderr.

    \b
    Example:
        fairsuite gate fairsuite-runs/compas-1a2b3c4d --policy audits/policy-default.yaml
        fairsuite gate new/result.json --policy audits/policy-regressions.yaml \\
            --baseline old/result.json --junit gate.xml
    """
    from fairsuite._io import dumps_json
    from fairsuite.exceptions import FairsuiteError
    from fairsuite.gate import check, format_gate_table, read_result, with_gate

    try:
        document = read_result(result, source=str(result))
        verdict = check(document, policy, baseline=baseline)
    except FairsuiteError as err:
        _junit_error(junit, err)
        raise
    gate_doc = verdict.to_dict()
    if out is not None:
        from fairsuite.experiments import write_outputs

        write_outputs(with_gate(document, verdict), out)
        echo_err(f"wrote {out / 'result.json'}, {out / 'report.html'}")
    click.echo(dumps_json(gate_doc) if as_json else format_gate_table(gate_doc))
    code = finish_gate(gate_doc, junit=junit, source=str(result))
    click.get_current_context().exit(code)
