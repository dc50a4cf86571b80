"""The ``fairsuite`` command: a thin shell over the library.

Every command calls one public function; errors raised by the library are mapped onto the
documented exit codes (:class:`fairsuite.exceptions.ExitCode`) and printed as one line on
stderr. ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import sys

import click

from fairsuite import __version__
from fairsuite.cli._common import (
    CONTEXT_SETTINGS,
    EXIT_CODES_HELP,
    FairsuiteGroup,
    add_debug_option,
    run_cli,
)
from fairsuite.cli._datasets import datasets
from fairsuite.cli._experiments import audit, compare, evaluate
from fairsuite.cli._gate import gate
from fairsuite.cli._sweep import sweep

__all__ = ["cli", "main"]


@click.group(cls=FairsuiteGroup, context_settings=CONTEXT_SETTINGS, epilog=EXIT_CODES_HELP)
@click.version_option(__version__, "--version", prog_name="fairsuite")
@click.option("--debug", is_flag=True, help="Show full tracebacks on errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Audit how training-data size and balance move a classifier's subgroup errors."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


cli.add_command(audit)
cli.add_command(compare)
cli.add_command(evaluate)
cli.add_command(gate)
cli.add_command(sweep)
cli.add_command(datasets)
add_debug_option(cli)  # every subcommand accepts --debug too (errors say "run with --debug")


def main(argv: list[str] | None = None) -> None:
    """Entry point of the console script; exits with a documented exit code."""
    sys.exit(run_cli(cli, argv))
