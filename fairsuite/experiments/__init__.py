"""Experiments: one run (``run(RunSpec) -> RunRecord``), audit, compare and evaluate.

- :class:`RunSpec` -- frozen, typed, validated once -- names the data, the model and training
  settings, the evaluation settings and (later) the intervention; its config hash is the run's
  identity. YAML specs, CLI options and library keywords all build one.
- :func:`run` is the staged pipeline ``load -> split -> intervene -> fit -> predict ->
  evaluate``; its :class:`RunRecord` holds what actually happened and is the only builder of
  ``result.json`` (``schema_version`` 2, see ``docs/result.md``).
- :func:`audit` is one run with its outputs written; :func:`compare` is N runs scored on each
  other's test splits; :func:`evaluate` is the last stage alone, on any predictions (also a
  model fairsuite did not train); :func:`reevaluate` recomputes a run from its predictions.

Examples
--------
>>> import fairsuite
>>> r = fairsuite.audit(dataset="adult", model="logreg", data_dir="data")  # doctest: +SKIP
>>> r.result.by_group("gender")  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import Any

#: public name -> defining module; imported on first access, so that reading a spec (the CLI's
#: --help) does not import the metrics and training stack
_WHERE = {
    "audit": "_audit",
    "run_audit": "_audit",
    "write_outputs": "_audit",
    "write_run": "_audit",
    "check_out_dir": "_audit",
    "compare": "_compare",
    "run_compare": "_compare",
    "evaluate": "_evaluate",
    "reevaluate": "_evaluate",
    "SCHEMA_VERSION": "_record",
    "DatasetRecord": "_record",
    "RunRecord": "_record",
    "TrainingRecord": "_record",
    "run": "_run",
    "check_evaluable": "_run",
    "check_images": "_run",
    "default_out_dir": "_run",
    "default_sensitive": "_run",
    "target_attributes": "_run",
    "AuditSpec": "_spec",
    "RunSpec": "_spec",
    "load_spec": "_spec",
    "load_compare_spec": "_spec",
    "CompareSpec": "_spec",
    "SweepSpec": "_sweep",
    "SweepResult": "_sweep",
    "sweep": "_sweep",
    "sweep_status": "_sweep",
    "load_sweep_spec": "_sweep",
    "tidy": "_sweep",
    "size_slopes": "_sweep",
    "seed_band": "_bands",
    "seed_bands": "_bands",
    "RunStore": "_store",
    "run_key": "_store",
    "get_executor": "_executors",
    "SerialExecutor": "_executors",
    "LocalExecutor": "_executors",
    "format_audit_summary": "_summary",
    "format_compare_summary": "_summary",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        value = getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    # the unit of work
    "RunSpec",
    "RunRecord",
    "DatasetRecord",
    "TrainingRecord",
    "run",
    "SCHEMA_VERSION",
    # commands
    "audit",
    "compare",
    "evaluate",
    "reevaluate",
    # sweeps
    "SweepSpec",
    "SweepResult",
    "sweep",
    "sweep_status",
    "load_sweep_spec",
    "tidy",
    "size_slopes",
    "seed_band",
    "seed_bands",
    "RunStore",
    "run_key",
    "get_executor",
    "SerialExecutor",
    "LocalExecutor",
    # specs
    "AuditSpec",
    "load_spec",
    "load_compare_spec",
    "CompareSpec",
    # outputs and checks
    "run_audit",
    "run_compare",
    "write_run",
    "write_outputs",
    "check_out_dir",
    "check_evaluable",
    "check_images",
    "default_out_dir",
    "default_sensitive",
    "target_attributes",
    # terminal summaries
    "format_audit_summary",
    "format_compare_summary",
]
