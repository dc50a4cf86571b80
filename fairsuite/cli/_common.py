"""What every command shares: exit codes, error mapping, option decorators, output helpers."""

from __future__ import annotations

import sys
import traceback
import warnings
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
    "dataset_options",
    "spec_options",
    "spec_changes",
    "add_debug_option",
    "executor_options",
    "executor_choice",
]

F = TypeVar("F", bound=Callable[..., Any])

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}

EXIT_CODES_HELP = (
    "\b\nExit codes:\n"
    "  0    ok / gate passed\n"
    "  1    gate failed\n"
    "  2    usage error\n"
    "  3    bad data or input (also an invalid gate policy or result)\n"
    "  4    internal error (traceback with --debug)\n"
    "  5    nothing evaluated: no group reached the minimum size\n"
    "  130  interrupted"
)


def echo_err(message: str) -> None:
    """Print a line to stderr (logs, progress and warnings never go to stdout)."""
    click.echo(message, err=True)


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: Any = None,
    line: str | None = None,
) -> None:
    """Warnings as one plain line on stderr (the source location only with --debug)."""
    echo_err(f"Warning: {message}")


def _debug_requested(argv: list[str]) -> bool:
    return "--debug" in argv


def report_error(exc: BaseException, *, debug: bool) -> int:
    """Print ``exc`` as one line on stderr (traceback with ``debug``); return its exit code.

    Library errors (:class:`FairsuiteError`) carry their own code; anything else is a bug (4).
    """
    if debug:
        traceback.print_exception(exc)
    if isinstance(exc, FairsuiteError):
        echo_err(f"Error: {exc}")
        return int(exc.exit_code)
    if not debug:
        echo_err(
            f"Internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback)"
        )
    return int(ExitCode.INTERNAL)


def _set_debug(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        # ctx.obj is the one dict the root group made, shared by every subcommand's context.
        ctx.ensure_object(dict)["debug"] = True


def add_debug_option(command: click.Command) -> None:
    """Give ``command`` and every subcommand under it a ``--debug`` flag (tracebacks on errors).

    Errors say "run with --debug", so the flag must work wherever the user adds it:
    ``fairsuite --debug audit`` and ``fairsuite audit --debug`` alike.
    """
    if not any("--debug" in getattr(p, "opts", ()) for p in command.params):
        command.params.append(
            click.Option(
                ["--debug"],
                is_flag=True,
                expose_value=False,
                is_eager=True,
                callback=_set_debug,
                help="Show full tracebacks on errors.",
            )
        )
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            add_debug_option(sub)


class FairsuiteGroup(click.Group):
    """A click group that maps library errors onto the documented exit codes.

    The mapping happens inside ``invoke``, so ``fairsuite`` on the command line and
    ``CliRunner().invoke(cli, ...)`` in tests exit alike.
    """

    def invoke(self, ctx: click.Context) -> Any:
        debug = bool((ctx.obj or {}).get("debug")) or _debug_requested(sys.argv)
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort, KeyboardInterrupt):
            raise
        except Exception as exc:  # noqa: BLE001 - the one place errors become exit codes
            debug = debug or bool((ctx.obj or {}).get("debug"))
            ctx.exit(report_error(exc, debug=debug))


def run_cli(cli: click.Group, argv: list[str] | None = None) -> int:
    """Run ``cli`` and return the exit code; errors become one line on stderr."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = _debug_requested(args)
    if not debug:
        warnings.showwarning = _show_warning
    try:
        # Without standalone mode click returns the code of a ctx.exit(code) instead of raising.
        code = cli.main(args=args, prog_name="fairsuite", standalone_mode=False)
        if isinstance(code, int):
            return code
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except (click.Abort, KeyboardInterrupt):
        echo_err("Interrupted.")
        return int(ExitCode.INTERRUPTED)
    except click.ClickException as exc:
        exc.show()
        return int(exc.exit_code)
    except Exception as exc:  # noqa: BLE001 - errors raised outside a command (rare)
        return report_error(exc, debug=debug)
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
            help="Random seed for splits and training."
            + ("" if default is not None else " [default: 0, or the spec's]"),
        )(func)

    return decorate(f) if f is not None else decorate


def json_option(f: F) -> F:
    """``--json``: print exactly one JSON document on stdout instead of a table."""
    return click.option(
        "--json", "as_json", is_flag=True, help="Print exactly one JSON document on stdout."
    )(f)


def _click_option(name: str, opt: Any) -> Callable[[F], F]:
    """The click option of one RunSpec field, from its metadata (:class:`Option`)."""
    flag = "--" + name.replace("_", "-")
    kw: dict[str, Any] = {"default": None, "help": opt.help}
    if opt.kind == "int":
        kw["type"] = click.IntRange(min=opt.low)
    elif opt.kind == "float01":
        kw["type"] = click.FloatRange(0, 1, min_open=True, max_open=True)
    elif opt.kind == "choice":
        kw["type"] = click.Choice(opt.choices)
    elif opt.kind == "bool":
        kw.update(is_flag=True, default=False)
    elif opt.kind == "names":
        kw.update(multiple=True, default=())
    return click.option(flag, name, **kw)


def spec_options(
    *, groups: tuple[str, ...] = ("data", "training", "evaluation"), only: tuple[str, ...] = ()
) -> Callable[[F], F]:
    """Click options for the RunSpec fields of ``groups`` (or the fields named in ``only``).

    Derived from the fields' metadata, so a new RunSpec setting is a new flag without another
    edit. Defaults are "not given" (None, False, ()), so a spec file's values stay unless a
    flag overrides them; :func:`spec_changes` turns the values back into RunSpec keywords.
    """
    from fairsuite.experiments._spec import spec_fields

    def decorate(f: F) -> F:
        chosen = [
            (name, opt)
            for name, opt, _ in spec_fields(cli_only=True)
            if ((name in only) if only else (opt.group in groups))
        ]
        for name, opt in reversed(chosen):
            f = _click_option(name, opt)(f)
        return f

    return decorate


def spec_changes(params: dict[str, Any]) -> dict[str, Any]:
    """The RunSpec keywords among click ``params`` that were given on the command line."""
    from fairsuite.experiments._spec import spec_fields

    out = {}
    for name, _, _ in spec_fields(cli_only=True):
        value = params.get(name)
        if value is None or value is False or value == ():
            continue
        out[name] = value
    return out


_NAMED_NO_CSV_OPTIONS = (
    "--sensitive and --positive-label apply to CSV/Parquet files; {name!r} is a dataset with a "
    "card (its sensitive attributes and positive label are in datasets/{name}.yaml)"
)


def dataset_options(f: F) -> F:
    """Options of commands that open a dataset without training (``datasets info``):
    ``--data-dir``, ``--allow-missing``, ``--target``, ``--sensitive``, ``--positive-label``,
    the same RunSpec fields ``audit`` offers."""
    return spec_options(
        only=("data_dir", "allow_missing", "target", "sensitive", "positive_label")
    )(f)


def executor_options(f: F) -> F:
    """``--executor``, ``--jobs``, ``--ray-address``, ``--cpus-per-run``, ``--gpus-per-run``:
    where the runs of ``sweep`` and the models of ``compare`` execute."""
    options = [
        click.option("--executor", type=click.Choice(["serial", "local", "ray"]), default=None,
                     help="Where runs execute: one after the other here, local worker "
                     "processes, or Ray tasks. [default: serial, or the spec's]"),
        click.option("--jobs", type=click.IntRange(min=1), default=None,
                     help="Workers of the local executor (CPUs of a local Ray instance) "
                     "[default: one per core]."),
        click.option("--ray-address", default=None,
                     help="Ray cluster to use (else $RAY_ADDRESS, else a local Ray instance)."),
        click.option("--cpus-per-run", type=click.FloatRange(min=0, min_open=True),
                     default=None,
                     help="Ray executor: CPUs each run asks for (its thread count too). "
                     "[default: 1]"),
        click.option("--gpus-per-run", type=click.FloatRange(min=0), default=None,
                     help="Ray executor: GPUs each run asks for; a fraction such as 0.25 packs "
                     "four runs on one GPU. [default: 0]"),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def executor_choice(
    params: dict[str, Any], spec_executor: str | None = None, spec_jobs: int | None = None
) -> tuple[str, int | None, dict[str, Any]]:
    """``(executor, jobs, ray options)`` from :func:`executor_options`' flags (which win) and a
    spec file's ``executor``/``jobs``; Ray's options without the Ray executor are a usage
    error (exit 2)."""
    executor = params.get("executor") or spec_executor or "serial"
    ray = {"address": params.get("ray_address"), "num_cpus": params.get("cpus_per_run"),
           "num_gpus": params.get("gpus_per_run")}
    if executor != "ray" and any(v is not None for v in ray.values()):
        raise click.UsageError(
            "--ray-address, --cpus-per-run and --gpus-per-run need --executor ray."
        )
    return executor, params.get("jobs") or spec_jobs, ray if executor == "ray" else {}
