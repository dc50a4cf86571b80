"""The errors and warnings fairsuite raises.

Every error subclasses :class:`FairsuiteError` and, where one fits, the built-in a caller
would naturally catch (``ValueError``, ``FileNotFoundError``, ``ImportError``). Each carries
an ``exit_code`` so the CLI maps it onto the documented exit codes without a lookup table:

==== ===========================================================
code meaning
==== ===========================================================
0    ok / gate passed
1    gate failed
2    usage error (bad option or argument)
3    bad data or input (missing file, unknown category, bad schema, invalid gate policy
     or result)
4    internal error (a bug; the traceback is shown with ``--debug``)
5    nothing evaluated: no group reached the minimum size
130  interrupted
==== ===========================================================
"""

from __future__ import annotations

from enum import IntEnum

__all__ = [
    "ExitCode",
    "FairsuiteError",
    "InvalidInputError",
    "DatasetNotFoundError",
    "DatasetIntegrityError",
    "MissingDependencyError",
    "GateConfigError",
    "SpecError",
    "NothingEvaluatedError",
    "FairsuiteWarning",
    "DataFairnessWarning",
    "DataChangeWarning",
    "DataIntegrityWarning",
    "SmallGroupWarning",
    "SyntheticDataWarning",
]


class ExitCode(IntEnum):
    """Process exit codes of the ``fairsuite`` command. Never renumbered."""

    OK = 0
    GATE_FAILED = 1
    USAGE = 2
    DATA = 3
    INTERNAL = 4
    NOTHING_EVALUATED = 5
    INTERRUPTED = 130


class FairsuiteError(Exception):
    """Base class of every error fairsuite raises on purpose."""

    exit_code: ExitCode = ExitCode.INTERNAL


class InvalidInputError(FairsuiteError, ValueError):
    """A value, option, column or file content is not what fairsuite accepts."""

    exit_code = ExitCode.DATA


class DatasetNotFoundError(FairsuiteError, FileNotFoundError):
    """A data root, dataset folder or expected file does not exist."""

    exit_code = ExitCode.DATA


class DatasetIntegrityError(FairsuiteError):
    """Files exist but are corrupt, truncated, or disagree with their checksum or labels."""

    exit_code = ExitCode.DATA


class MissingDependencyError(FairsuiteError, ImportError):
    """An optional dependency is not installed; the message names the pip extra."""

    exit_code = ExitCode.USAGE


class SpecError(FairsuiteError, ValueError):
    """A run spec (an audit spec file, command-line options or library keywords) is malformed:
    an unknown key, or a value of the wrong type or range. The message names the key, what it
    allows and what it got."""

    exit_code = ExitCode.USAGE


class GateConfigError(FairsuiteError, ValueError):
    """A gate policy is missing, not YAML, or malformed (an unknown key, a bad value): the
    message lists every problem with its key path. Exit code 3, like an invalid result: the
    gate's two inputs are data, and CI tells "the gate could not judge" (3) from "the model
    failed" (1) and from a mistyped command line (2)."""

    exit_code = ExitCode.DATA


class NothingEvaluatedError(FairsuiteError):
    """No group reached the minimum size, so nothing could be evaluated."""

    exit_code = ExitCode.NOTHING_EVALUATED


class FairsuiteWarning(UserWarning):
    """Base class of fairsuite's warnings."""


class DataFairnessWarning(FairsuiteWarning):
    """The dataset has known fairness or labelling issues the user should read about."""


class DataChangeWarning(FairsuiteWarning):
    """fairsuite changed the data it was given: rows dropped, values recoded into a group, or a
    target collapsed to one-vs-rest. Each change is also recorded in the result document
    (``dataset.load_report.changes``) and shown in the report."""


class DataIntegrityWarning(FairsuiteWarning):
    """A data file's checksum differs from the one its dataset card publishes. The mismatch is
    recorded in the result (``dataset.integrity``) and shown in the summary and the report;
    ``--strict-data`` makes it an error instead."""


class SmallGroupWarning(FairsuiteWarning):
    """A group is below ``min_group_size``; its metrics are reported but not compared."""


class SyntheticDataWarning(FairsuiteWarning):
    """Synthetic rows or images are in use; results describe generated data."""
