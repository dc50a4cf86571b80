"""The command line as a whole: help everywhere, documented, cheap to start, exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from fairsuite.cli import cli, main
from fairsuite.exceptions import ExitCode

README = Path(__file__).resolve().parents[2] / "README.md"


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = []
    for name, cmd in sorted(group.commands.items()):
        path = (*prefix, name)
        if isinstance(cmd, click.Group):
            found.extend(_commands(cmd, path))
        else:
            found.append(path)
    return found


COMMANDS = _commands(cli)


def test_the_product_commands_exist() -> None:
    assert {("audit",), ("compare",), ("datasets", "list"), ("datasets", "info")} <= set(COMMANDS)


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p))
@pytest.mark.parametrize("flag", ["-h", "--help"])
def test_every_command_has_help_with_an_example(path: tuple[str, ...], flag: str) -> None:
    result = CliRunner().invoke(cli, [*path, flag])
    assert result.exit_code == 0
    assert "Example:" in result.stdout
    assert "fairsuite " + " ".join(path) in result.stdout


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p))
def test_every_command_appears_in_the_readme(path: tuple[str, ...]) -> None:
    assert "fairsuite " + " ".join(path) in README.read_text()


def test_help_lists_exit_codes() -> None:
    out = CliRunner().invoke(cli, ["--help"]).stdout
    for code in ExitCode:
        assert f"  {int(code)} " in out


def test_help_imports_no_heavy_module() -> None:
    code = (
        "import sys\n"
        "from fairsuite.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "for cmd in ('audit', 'compare'):\n"
        "    try:\n        main([cmd, '--help'])\n    except SystemExit:\n        pass\n"
        "heavy = [m for m in ('torch', 'torchvision', 'sdv', 'seaborn', 'matplotlib', 'sklearn')"
        " if m in sys.modules]\n"
        "print('HEAVY', heavy, file=sys.stderr)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "HEAVY []" in proc.stderr


def test_version() -> None:
    from fairsuite import __version__

    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0 and __version__ in result.stdout


def test_usage_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["audit", "--model", "nope"])
    assert info.value.code == ExitCode.USAGE
    assert "Invalid value for '--model'" in capsys.readouterr().err


def test_python_dash_m_runs_the_cli() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "fairsuite", "--version"], capture_output=True, text=True
    )
    assert proc.returncode == 0 and "fairsuite" in proc.stdout


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["audit", "--dataset", "nope"], "unknown dataset 'nope'"),
        (["compare", "nope", "adult"], "unknown dataset 'nope'"),
        (["compare", "adult"], "compare needs two or more datasets"),
    ],
)
def test_unknown_or_too_few_datasets_are_usage_errors(
    argv: list[str], needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == ExitCode.USAGE
    assert needle in capsys.readouterr().err
