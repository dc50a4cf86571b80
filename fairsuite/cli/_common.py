"""What every command shares: exit codes, error mapping, option decorators, output helpers."""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable
from typing import Any, TypeVar

import click

from fairsuite.exceptions import ExitCode, FairsuiteError

__all__ = [
    "CONTEXT_SETTINGS",
    "EXIT_CODES_HELP",
    "run_cli",
    "data_dir_option",
    "seed_option",
    "json_option",
    "echo_err",
]

F = TypeVar("F", bound=Callable[..., Any])

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}

EXIT_CODES_HELP = (
    "\b\nExit codes:\n"
    "  0    ok / gate passed\n"
    "  1    gate failed\n"
    "  2    usage error\n"
    "  3    bad data or input\n"
    "  4    internal error (traceback with --debug)\n"
    "  5    nothing evaluated: no group reached the minimum size\n"
    "  130  interrupted"
)


def echo_err(message: str) -> None:
    """Print a line to stderr (logs, progress and warnings never go to stdout)."""
    click.echo(message, err=True)


def _debug_requested(argv: list[str]) -> bool:
    return "--debug" in argv


def run_cli(cli: click.Group, argv: list[str] | None = None) -> int:
    """Run ``cli`` and return the exit code; library errors become one line on stderr."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = _debug_requested(args)
    try:
        cli.main(args=args, prog_name="fairsuite", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.Abort:
        echo_err("Aborted.")
        return int(ExitCode.INTERRUPTED)
    except KeyboardInterrupt:
        echo_err("Interrupted.")
        return int(ExitCode.INTERRUPTED)
    except click.ClickException as exc:
        exc.show()
        return int(exc.exit_code)
    except FairsuiteError as exc:
        if debug:
            traceback.print_exc()
        echo_err(f"Error: {exc}")
        return int(exc.exit_code)
    except Exception as exc:  # noqa: BLE001 - the one place internal errors are reported
        if debug:
            traceback.print_exc()
        else:
            echo_err(
                f"Internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback)"
            )
        return int(ExitCode.INTERNAL)
    return int(ExitCode.OK)


def data_dir_option(f: F) -> F:
    """``--data-dir``: the data root (else $FAIRSUITE_DATA, else the user data directory)."""
    return click.option(
        "--data-dir",
        type=click.Path(file_okay=False, path_type=str),
        default=None,
        help="Data root holding <name>/ folders. Default: $FAIRSUITE_DATA, else the user data dir.",
    )(f)


def seed_option(f: F | None = None, *, default: int | None = 0) -> Any:
    """``--seed``: the random state used everywhere in the run.

    Use as ``@seed_option``, or ``@seed_option(default=None)`` where a spec file may supply it.
    """

    def decorate(func: F) -> F:
        return click.option(
            "--seed",
            type=click.IntRange(min=0),
            default=default,
            show_default=default is not None,
            help="Random seed for splits, training and the bootstrap."
            + ("" if default is not None else " [default: 0, or the spec's]"),
        )(func)

    return decorate(f) if f is not None else decorate


def json_option(f: F) -> F:
    """``--json``: print exactly one JSON document on stdout instead of a table."""
    return click.option(
        "--json", "as_json", is_flag=True, help="Print exactly one JSON document on stdout."
    )(f)
