"""``audit``: one run (:func:`fairsuite.experiments.run`), its outputs written atomically.

An audit trains the spec's model on the training split, predicts the untouched test split and
measures per-group and intersectional metrics with confidence intervals. Its
:class:`RunRecord` is the result; ``result.json`` (:meth:`RunRecord.to_dict`, documented in
``docs/result.md``), ``report.html``, ``predictions.parquet`` and ``model/`` are written into the
output folder. The same configuration in the same folder is recomputed and replaced; another
configuration's folder only with ``force``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fairsuite._io import (
    atomic_write_bytes,
    atomic_write_text,
    dir_mode,
    dumps_json,
    probe_writable,
)
from fairsuite.exceptions import InvalidInputError, NothingEvaluatedError
from fairsuite.experiments._record import RunRecord
from fairsuite.experiments._run import default_out_dir, run
from fairsuite.experiments._spec import RunSpec

__all__ = [
    "audit",
    "run_audit",
    "as_spec",
    "check_out_dir",
    "write_outputs",
    "write_run",
    "nothing_evaluated",
]

_OUT_EXISTS = (
    "{path} already holds a result for a different configuration (config hash {old} != {new}). "
    "Pass --force to overwrite it, or choose another --out."
)
_NOTHING_EVALUATED = (
    "no group reached min_group_size={min_group_size} in any sensitive attribute of {dataset!r}'s "
    "test split (largest group: {largest} rows). Lower --min-group-size or use more test data. "
    "The result and report were still written to {out}."
)
_OUT_UNWRITABLE = (
    "cannot write the results to {path}: {reason}. Choose another --out or fix its permissions."
)
_SPEC_AND_KEYWORDS = (
    "pass either a RunSpec or keywords, not both (got a spec and {keys}); use spec.replace(...) "
    "to change a spec"
)


def as_spec(spec: RunSpec | Mapping[str, Any] | None, keywords: Mapping[str, Any]) -> RunSpec:
    """A RunSpec from a spec, a mapping or keywords -- the library's one way in."""
    if spec is not None and keywords:
        raise InvalidInputError(_SPEC_AND_KEYWORDS.format(keys=sorted(keywords)))
    if isinstance(spec, RunSpec):
        return spec
    data = dict(spec) if spec is not None else dict(keywords)
    return RunSpec.from_dict(data, source="keywords" if spec is None else "spec mapping")


def audit(
    spec: RunSpec | Mapping[str, Any] | None = None,
    *,
    out_dir: str | os.PathLike[str] | None = None,
    runs_dir: str | os.PathLike[str] | None = None,
    force: bool = False,
    progress: bool = False,
    save_model: bool = True,
    policy: Any = None,
    baseline: Any = None,
    **keywords: Any,
) -> RunRecord:
    """Audit one dataset: train, predict the untouched test split, measure, and write outputs.

    Parameters
    ----------
    spec : RunSpec or mapping, optional
        What to run. Or pass the spec's fields as keywords instead:
        ``audit(dataset="adult", model="logreg", data_dir="data")``. Default: the embedded
        ``synthfaces`` set with device-sized settings.
    out_dir : path, optional
        Folder for ``result.json``, ``report.html``, ``predictions.parquet`` and ``model/``. A
        folder holding a result of another configuration is only overwritten with
        ``force=True``; one holding the same configuration is recomputed and replaced.
    runs_dir : path, optional
        Without ``out_dir``: write into ``runs_dir/<dataset>-<config hash[:8]>``.
    force : bool
        Overwrite outputs of another configuration.
    progress : bool
        Show progress bars on stderr.
    save_model : bool
        Also save the trained model under ``out_dir/model``.
    policy : Policy, mapping or path to a YAML policy, optional
        Gate the run (:func:`fairsuite.gate.check`): the verdict is recorded in the record's
        ``gate`` field, ``result.json`` and the report. The policy is read and checked before
        training. A failed gate is not an error here: read ``record.gate["verdict"]``.
    baseline : result document, RunRecord or path, optional
        The result the policy's regression checks compare against.

    Returns
    -------
    RunRecord
        ``record.result.by_group()`` is a DataFrame; ``record.to_dict()`` is ``result.json``.

    Raises
    ------
    SpecError
        A bad spec or keyword (exit code 2).
    NothingEvaluatedError
        No group can reach ``min_group_size`` (exit code 5): before training when that is known
        from the labels, else after writing the outputs.
    """
    spec = as_spec(spec, keywords)
    gate_policy = gate_baseline = None
    if policy is not None:  # checked before any work
        from fairsuite.gate import load_policy, read_result

        gate_policy = load_policy(policy)
        gate_baseline = None if baseline is None else read_result(baseline, source="baseline")
    out: list[Path] = []

    def preflight(s: RunSpec, config_hash: str) -> None:
        if out_dir is not None:
            out.append(Path(out_dir))
        elif runs_dir is not None:
            out.append(default_out_dir(s.dataset, config_hash, runs_dir))
        if out:
            check_out_dir(out[0], config_hash, force=force)

    record, model = run(spec, progress=progress, before_training=preflight)
    if gate_policy is not None:
        from fairsuite.gate import check, with_gate

        record = with_gate(record, check(record, gate_policy, baseline=gate_baseline))
    if out:
        write_run(record, out[0], model=model if save_model else None)
    if nothing_evaluated(record):
        largest = max((g.n for a in record.result.attributes for g in a.groups), default=0)
        raise NothingEvaluatedError(
            _NOTHING_EVALUATED.format(
                min_group_size=spec.min_group_size,
                dataset=record.dataset.name,
                largest=largest,
                out=out[0] if out else "(no --out given)",
            )
        )
    return record


def run_audit(
    spec: RunSpec | None = None,
    *,
    out_dir: str | os.PathLike[str] | None = None,
    runs_dir: str | os.PathLike[str] | None = None,
    force: bool = False,
    progress: bool = True,
    save_model: bool = True,
    policy: Any = None,
    baseline: Any = None,
) -> dict[str, Any]:
    """:func:`audit`, returning the result document (``result.json``) instead of the record."""
    return audit(
        spec,
        out_dir=out_dir,
        runs_dir=runs_dir,
        force=force,
        progress=progress,
        save_model=save_model,
        policy=policy,
        baseline=baseline,
    ).to_dict()


def nothing_evaluated(record: RunRecord) -> bool:
    """True when no group of any attribute reached the minimum size."""
    return not any(not g.insufficient for a in record.result.attributes for g in a.groups)


def write_run(record: RunRecord, out: Path, *, model: Any = None) -> dict[str, Any]:
    """Write a record's outputs into ``out``: ``predictions.parquet`` (when the record has
    predictions), then :func:`write_outputs`. Returns the document written."""
    import json

    document = json.loads(dumps_json(record.to_dict()))
    extra: dict[str, bytes] = {}
    if record.predictions is not None:
        extra["predictions.parquet"] = predictions_bytes(record.predictions)
    write_outputs(document, out, model=model, extra=extra)
    return document


def predictions_bytes(predictions: Any) -> bytes:
    """A predictions table as Parquet bytes (written atomically with the other outputs)."""
    import io

    buf = io.BytesIO()
    predictions.to_parquet(buf, index=False)
    return buf.getvalue()


def check_out_dir(out: Path, config_hash: str, *, force: bool) -> None:
    """Pre-flight for an output folder: writable, and not another configuration's (unless forced).

    Raises
    ------
    InvalidInputError
        The folder (or where it would be created) is not writable, is a file, or holds a result
        of another configuration and ``force`` is False (exit code 3).
    """
    import json

    reason = probe_writable(out)
    if reason is None and (out / "model").exists() and not (out / "model").is_dir():
        reason = f"{out / 'model'} is a file, where the model folder goes"
    if reason is not None:
        raise InvalidInputError(_OUT_UNWRITABLE.format(path=out, reason=reason))
    existing = out / "result.json"
    if force or not existing.is_file():
        return
    try:
        old = json.loads(existing.read_text(encoding="utf-8")).get("config_hash")
    except (OSError, ValueError, AttributeError):
        old = None
    if old != config_hash:
        raise InvalidInputError(
            _OUT_EXISTS.format(path=out, old=(old or "unreadable")[:12], new=config_hash[:12])
        )


def write_outputs(
    document: dict[str, Any],
    out: Path,
    *,
    model: Any = None,
    extra: Mapping[str, bytes] | None = None,
) -> None:
    """Write ``result.json``, ``report.html``, ``extra`` files and (optionally) ``model/``.

    Earlier outputs in ``out`` are replaced: the report is rendered in memory first, the model
    is saved into a temporary folder beside ``model/`` and swapped in by renames, and each file
    is replaced atomically, ``result.json`` last. A ``model/`` left by an earlier run is removed
    when no model is saved, so it cannot be mistaken for this result's.
    """
    from fairsuite.report import render_html

    html = render_html(document)
    out.mkdir(parents=True, exist_ok=True)
    target = out / "model"
    if model is not None:
        staging = Path(tempfile.mkdtemp(prefix=".model.", suffix=".tmp", dir=out))
        try:
            model.save(staging, overwrite=True)
            os.chmod(staging, dir_mode())  # mkdtemp made it private
            _swap_in(staging, target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    elif (target / "config.json").is_file():
        _swap_in(None, target)
    for name, data in (extra or {}).items():
        atomic_write_bytes(out / name, data)
    atomic_write_text(out / "report.html", html)
    atomic_write_text(out / "result.json", dumps_json(document) + "\n")


def _swap_in(new: Path | None, target: Path) -> None:
    """Replace the folder ``target`` by ``new`` (or remove it): two renames, then a delete."""
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}-{os.urandom(4).hex()}")
        os.replace(target, old)
    if new is not None:
        os.replace(new, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
