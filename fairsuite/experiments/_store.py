"""The run store: one folder per run, keyed by the run spec's hash, written atomically.

A sweep is many runs; the store is the one source of truth of which finished, whichever
executor (serial, local processes, Ray) produced them, so an interrupted sweep resumes where it
stopped and nothing finished is computed twice::

    <store>/runs/<key>/spec.json            the RunSpec (written first)
    <store>/runs/<key>/predictions.parquet  the test predictions
    <store>/runs/<key>/cross.json           results on other datasets' test splits (test_on)
    <store>/runs/<key>/pipeline.json        the pipeline revision that computed it
    <store>/runs/<key>/record.json          the RunRecord: written last, atomically = "done"
    <store>/runs/<key>/error.json           a failed run: its error (removed when it succeeds)

``<key>`` is :meth:`RunSpec.config_hash` without resolved settings (the first 16 hex digits), so
what is done is known before anything is resolved, on any machine. A run killed half-way leaves
no ``record.json`` and counts as missing; a ``record.json`` that does not parse (it cannot, short
of disk corruption, since it is renamed into place whole) counts as missing too.

The key names what was asked for, not the code that computed it. When a fairsuite change alters
what an unchanged spec produces (a fix in training or in the intervals), :data:`PIPELINE_REVISION`
goes up, and a run stored by an older revision is *stale*: it counts as missing, is recomputed by
the next sweep (which says how many), and stays out of the results table until then.
"""

from __future__ import annotations

import json
import os
import shutil
import traceback
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fairsuite._io import atomic_write_bytes, atomic_write_text, dumps_json
from fairsuite.experiments._record import RunRecord
from fairsuite.experiments._spec import RunSpec

__all__ = ["RunStore", "StoreStatus", "run_key", "PIPELINE_REVISION"]

#: Raise when a change makes an unchanged RunSpec produce different results; stored runs of an
#: older revision are recomputed. 1: runs stored before revisions were recorded (no
#: pipeline.json). 2: validation rows never copies or synthetic rows, logreg on one BLAS
#: thread, closed-form AUC intervals.
PIPELINE_REVISION = 2


def run_key(spec: RunSpec) -> str:
    """The store key of a spec: its config hash (requested settings only), 16 hex digits."""
    return spec.config_hash()[:16]


@dataclass(frozen=True)
class StoreStatus:
    """Which runs of a set of specs are done, missing or failed (keys, in the specs' order)."""

    done: tuple[str, ...]
    missing: tuple[str, ...]
    failed: tuple[str, ...]
    errors: Mapping[str, str]
    stale: tuple[str, ...] = ()  # of ``missing``: stored by an older pipeline revision

    def to_dict(self) -> dict[str, Any]:
        """Plain data: counts, keys and the first line of each error."""
        return {
            "done": len(self.done),
            "missing": len(self.missing),
            "failed": len(self.failed),
            "total": len(self.done) + len(self.missing) + len(self.failed),
            "failed_runs": {k: self.errors.get(k, "") for k in self.failed},
            "stale": len(self.stale),
        }


class RunStore:
    """A folder of finished (and failed) runs; see the module docstring for the layout."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.runs = self.path / "runs"

    def folder(self, key: str) -> Path:
        """The folder of run ``key``."""
        return self.runs / key

    # -- reading ---------------------------------------------------------------------------------

    def load(self, key: str) -> RunRecord | None:
        """The finished record of ``key``, or None when it is not done."""
        path = self.folder(key) / "record.json"
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            return RunRecord.from_dict(doc)
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def cross(self, key: str) -> dict[str, Any]:
        """Results of run ``key`` on other datasets' test splits (``test_on``), by dataset."""
        path = self.folder(key) / "cross.json"
        if not path.is_file():
            return {}
        return json.loads(path.read_text(encoding="utf-8"))

    def revision(self, key: str) -> int:
        """The pipeline revision that computed run ``key`` (1: stored before revisions were)."""
        try:
            doc = json.loads((self.folder(key) / "pipeline.json").read_text(encoding="utf-8"))
            return int(doc["revision"])
        except FileNotFoundError:
            return 1
        except (OSError, ValueError, KeyError, TypeError):
            return 0

    def current(self, key: str) -> RunRecord | None:
        """The finished record of ``key`` if the current pipeline revision computed it."""
        if self.revision(key) != PIPELINE_REVISION:
            return None
        return self.load(key)

    def error(self, key: str) -> str | None:
        """The recorded error of a failed run (one line), or None."""
        path = self.folder(key) / "error.json"
        if not path.is_file():
            return None
        try:
            return str(json.loads(path.read_text(encoding="utf-8")).get("error", ""))
        except (OSError, ValueError):
            return "unreadable error record"

    def status(self, specs: Iterable[RunSpec]) -> StoreStatus:
        """Done (a readable record), failed (an error and no record) or missing, per spec."""
        done, missing, failed, errors, stale = [], [], [], {}, []
        for spec in specs:
            key = run_key(spec)
            finished = (self.folder(key) / "record.json").is_file()
            if finished and self.current(key) is not None:
                done.append(key)
            elif finished and self.load(key) is not None:
                missing.append(key)
                stale.append(key)
            elif (err := self.error(key)) is not None:
                failed.append(key)
                errors[key] = err
            else:
                missing.append(key)
        return StoreStatus(tuple(done), tuple(missing), tuple(failed), errors, tuple(stale))

    # -- writing ---------------------------------------------------------------------------------

    def put(self, record: RunRecord, *, cross: Mapping[str, Any] | None = None) -> Path:
        """Write a finished run; ``record.json`` goes last, atomically, so a run is either done
        or missing, never half-written."""
        from fairsuite.experiments._audit import predictions_bytes

        key = run_key(record.spec)
        folder = self.folder(key)
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write_text(folder / "spec.json", dumps_json(record.spec.to_dict()) + "\n")
        if record.predictions is not None:
            data = predictions_bytes(record.predictions)
            atomic_write_bytes(folder / "predictions.parquet", data)
        if cross:
            atomic_write_text(folder / "cross.json", dumps_json(dict(cross)) + "\n")
        else:
            (folder / "cross.json").unlink(missing_ok=True)  # a stale run's
        atomic_write_text(
            folder / "pipeline.json", dumps_json({"revision": PIPELINE_REVISION}) + "\n"
        )
        atomic_write_text(folder / "record.json", dumps_json(record.to_dict()) + "\n")
        (folder / "error.json").unlink(missing_ok=True)
        return folder

    def put_failure(self, spec: RunSpec, error: BaseException) -> Path:
        """Record a failed run (its error, and the traceback for the curious)."""
        key = run_key(spec)
        folder = self.folder(key)
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write_text(folder / "spec.json", dumps_json(spec.to_dict()) + "\n")
        doc = {
            "error": f"{type(error).__name__}: {error}".splitlines()[0],
            "exit_code": int(getattr(error, "exit_code", 4)),
            "traceback": "".join(traceback.format_exception(error))[-4000:],
        }
        atomic_write_text(folder / "error.json", dumps_json(doc) + "\n")
        return folder

    def forget(self, key: str) -> None:
        """Remove run ``key`` (to recompute it)."""
        shutil.rmtree(self.folder(key), ignore_errors=True)
