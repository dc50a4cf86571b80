"""Experiments: ``audit`` one dataset, ``compare`` several (train on each, test on each).

Each returns a plain result document (``schema_version`` 1, see ``docs/result.md``) that the
JSON output, the HTML report and the gate all read.

Examples
--------
>>> from fairsuite.experiments import AuditSpec, run_audit
>>> spec = AuditSpec(dataset="synthfaces", epochs=2, n_boot=200)  # doctest: +SKIP
>>> doc = run_audit(spec, out_dir="out/synth")  # doctest: +SKIP
>>> doc["metrics"]["overall"]["accuracy"]["value"]  # doctest: +SKIP
"""

from __future__ import annotations

from fairsuite.experiments._audit import (
    SCHEMA_VERSION,
    cap_train_rows,
    default_out_dir,
    load_for_spec,
    resolve_run_settings,
    run_audit,
)
from fairsuite.experiments._compare import run_compare
from fairsuite.experiments._spec import AuditSpec, load_spec
from fairsuite.experiments._summary import (
    format_audit_summary,
    format_compare_summary,
    largest_gaps,
    worst_group,
)

__all__ = [
    "SCHEMA_VERSION",
    "AuditSpec",
    "load_spec",
    "run_audit",
    "run_compare",
    "load_for_spec",
    "resolve_run_settings",
    "cap_train_rows",
    "default_out_dir",
    "format_audit_summary",
    "format_compare_summary",
    "largest_gaps",
    "worst_group",
]
