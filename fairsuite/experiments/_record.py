"""``RunRecord``: what one run actually did, as frozen, typed, plain data.

A RunRecord holds the spec, the settings resolved for the device, what trained the model (rows
used and excluded and why, the training composition by group x label, epochs run, best epoch),
per-stage timings, the environment and data checksums, the :class:`FairnessResult` and its one
:class:`Headline`. :meth:`RunRecord.to_dict` is the only builder of ``result.json``
(``schema_version`` 2, documented field by field in ``docs/result.md``); the terminal summary,
the HTML report and the gate read that document, so they cannot disagree.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fairsuite import __version__
from fairsuite.experiments._spec import RunSpec
from fairsuite.metrics import FairnessResult, Headline

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["RunRecord", "DatasetRecord", "TrainingRecord", "SCHEMA_VERSION"]

#: Version of the result document; 2 added spec, headline, timings, predictions, the training
#: record's rows and composition, and dataset integrity (see docs/result.md).
SCHEMA_VERSION = 2


@dataclass(frozen=True)
class DatasetRecord:
    """The data a run read: what it is, where it came from, and whether it is intact.

    ``sensitive`` lists every sensitive attribute of the dataset; ``audited`` the ones the run
    broke errors down by; ``target_attributes`` those of them that are the task's target (only
    accuracy and error rate are compared across their groups). ``integrity`` says whether each
    data file's checksum matches its card (``status``: ``"ok"``, ``"mismatch"`` or
    ``"unchecked"``, and the ``mismatches``).
    """

    name: str
    kind: str
    task: str
    classes: tuple[str, ...]
    positive_label: str | None
    sensitive: tuple[str, ...]
    audited: tuple[str, ...]
    target_attributes: tuple[str, ...]
    synthetic: bool
    root: str | None
    checksums: Mapping[str, str]
    integrity: Mapping[str, Any]
    load_report: Mapping[str, Any] | None
    composition: Mapping[str, Any] | None

    def to_dict(self) -> dict[str, Any]:
        """Plain data."""
        return {
            "name": self.name,
            "kind": self.kind,
            "task": self.task,
            "classes": list(self.classes),
            "positive_label": self.positive_label,
            "sensitive": list(self.sensitive),
            "audited": list(self.audited),
            "target_attributes": list(self.target_attributes),
            "synthetic": bool(self.synthetic),
            "root": self.root,
            "checksums": dict(sorted(self.checksums.items())),
            "integrity": dict(self.integrity),
            "load_report": None if self.load_report is None else dict(self.load_report),
            "composition": None if self.composition is None else dict(self.composition),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> DatasetRecord:
        """Inverse of :meth:`to_dict`."""
        return cls(
            name=d["name"],
            kind=d["kind"],
            task=d["task"],
            classes=tuple(d["classes"]),
            positive_label=d.get("positive_label"),
            sensitive=tuple(d.get("sensitive", ())),
            audited=tuple(d.get("audited", ())),
            target_attributes=tuple(d.get("target_attributes", ())),
            synthetic=bool(d.get("synthetic", False)),
            root=d.get("root"),
            checksums=dict(d.get("checksums") or {}),
            integrity=dict(d.get("integrity") or {"status": "unchecked", "mismatches": []}),
            load_report=d.get("load_report"),
            composition=d.get("composition"),
        )


@dataclass(frozen=True)
class TrainingRecord:
    """What actually trained the model.

    ``rows_listed``: training-split rows the dataset has; ``rows_used``: rows the model saw
    (fit + validation); ``excluded``: rows left out, by reason (``beyond max_train_rows``,
    ``image cannot be decoded``, ``zero sample weight``, ...), so ``rows_listed == rows_used +
    sum(excluded)``; ``composition``: rows used per audited attribute x group x label (and the
    intersection); ``history``: one entry per epoch.
    """

    model: str
    device: str
    precision: str | None
    settings: Mapping[str, Any]
    rows_listed: int
    rows_used: int
    rows_fit: int
    rows_val: int
    excluded: Mapping[str, int]
    composition: Mapping[str, Any]
    epochs_run: int | None
    best_epoch: int | None
    history: tuple[Mapping[str, Any], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Plain data."""
        return {
            "model": self.model,
            "device": self.device,
            "precision": self.precision,
            "settings": dict(self.settings),
            "rows_listed": self.rows_listed,
            "rows_used": self.rows_used,
            "rows_fit": self.rows_fit,
            "rows_val": self.rows_val,
            "excluded": dict(self.excluded),
            "composition": dict(self.composition),
            "epochs_run": self.epochs_run,
            "best_epoch": self.best_epoch,
            "history": [dict(h) for h in self.history],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> TrainingRecord:
        """Inverse of :meth:`to_dict`."""
        return cls(
            model=d["model"],
            device=d["device"],
            precision=d.get("precision"),
            settings=dict(d.get("settings") or {}),
            rows_listed=int(d["rows_listed"]),
            rows_used=int(d["rows_used"]),
            rows_fit=int(d["rows_fit"]),
            rows_val=int(d["rows_val"]),
            excluded=dict(d.get("excluded") or {}),
            composition=dict(d.get("composition") or {}),
            epochs_run=d.get("epochs_run"),
            best_epoch=d.get("best_epoch"),
            history=tuple(d.get("history") or ()),
        )


@dataclass(frozen=True)
class RunRecord:
    """One run: spec, resolved settings, data, training, result, headline, timings.

    ``kind`` is ``"audit"`` for a trained-and-evaluated run and ``"evaluate"`` for the
    evaluation of given predictions (``training`` is then ``None``). ``intervention`` records
    what the spec's intervention did to the training split (composition before and after, rows
    added, removed and reweighted, synthetic fidelity and shortfalls, a mitigation's fit), or
    ``None``. ``predictions`` (not part
    of :meth:`to_dict`; written as ``predictions.parquet``) has one row per test row: ``row_id``,
    ``split``, ``y_true``, ``y_pred``, ``score`` (binary) and the audited sensitive columns.
    """

    kind: str
    spec: RunSpec
    config_hash: str
    settings: Mapping[str, Any]
    dataset: DatasetRecord
    training: TrainingRecord | None
    result: FairnessResult
    headline: Headline
    majority_baseline: Mapping[str, Any] | None = None
    timings: Mapping[str, float] = field(default_factory=dict)
    environment: Mapping[str, Any] = field(default_factory=dict)
    gate: Mapping[str, Any] | None = None
    source: Mapping[str, Any] | None = None
    intervention: Mapping[str, Any] | None = None
    predictions: pd.DataFrame | None = field(default=None, compare=False, repr=False)
    fairsuite_version: str = __version__
    schema_version: int = SCHEMA_VERSION

    @property
    def config(self) -> dict[str, Any]:
        """The spec with its resolved settings: what ``config`` holds in ``result.json``."""
        config = self.spec.to_dict()
        config.pop("data_dir", None)
        if config.get("intervention") is None:
            config.pop("intervention", None)
        config.update(self.settings)
        config["sensitive"] = list(self.dataset.audited)
        return config

    def to_dict(self) -> dict[str, Any]:
        """The result document (``result.json``), plain JSON-able data."""
        metrics = self.result.to_dict()
        if self.majority_baseline is not None:
            metrics["majority_baseline"] = dict(self.majority_baseline)
        return {
            "schema_version": self.schema_version,
            "kind": self.kind,
            "fairsuite_version": self.fairsuite_version,
            "spec": {k: v for k, v in self.spec.to_dict().items() if k != "data_dir"},
            "settings": dict(self.settings),
            "config": self.config,
            "config_hash": self.config_hash,
            "seed": self.spec.seed,
            "dataset": self.dataset.to_dict(),
            "source": None if self.source is None else dict(self.source),
            "training": None if self.training is None else self.training.to_dict(),
            "metrics": metrics,
            "headline": self.headline.to_dict(),
            "gate": None if self.gate is None else dict(self.gate),
            "intervention": None if self.intervention is None else dict(self.intervention),
            "timings": {k: round(float(v), 3) for k, v in self.timings.items()},
            "environment": dict(self.environment),
        }

    @classmethod
    def from_dict(
        cls, d: Mapping[str, Any], *, predictions: pd.DataFrame | None = None
    ) -> RunRecord:
        """Read back a result document written by :meth:`to_dict` (schema_version 2)."""
        metrics = dict(d["metrics"])
        baseline = metrics.pop("majority_baseline", None)
        spec_data = dict(d.get("spec") or {})
        if spec_data.get("sensitive") is not None:
            spec_data["sensitive"] = tuple(spec_data["sensitive"])
        return cls(
            kind=d["kind"],
            spec=RunSpec.from_dict(spec_data, source="result.json spec"),
            config_hash=d["config_hash"],
            settings=dict(d.get("settings") or {}),
            dataset=DatasetRecord.from_dict(d["dataset"]),
            training=None if d.get("training") is None else TrainingRecord.from_dict(d["training"]),
            result=FairnessResult.from_dict(metrics),
            headline=Headline.from_dict(d["headline"]),
            majority_baseline=baseline,
            timings=dict(d.get("timings") or {}),
            environment=dict(d.get("environment") or {}),
            gate=d.get("gate"),
            source=d.get("source"),
            intervention=d.get("intervention"),
            predictions=predictions,
            fairsuite_version=d.get("fairsuite_version", __version__),
            schema_version=int(d.get("schema_version", SCHEMA_VERSION)),
        )

    # -- notebook conveniences ------------------------------------------------------------------

    def by_group(self, attribute: str | None = None) -> Any:
        """Per-group metrics as a DataFrame (see :meth:`FairnessResult.by_group`)."""
        return self.result.by_group(attribute)

    def disparities(self) -> Any:
        """Gaps and ratios as a DataFrame (see :meth:`FairnessResult.disparities`)."""
        return self.result.disparities()

    def _repr_html_(self) -> str:
        import html

        h = self.headline
        acc = h.overall_accuracy
        lines = [
            f"<p><strong>RunRecord</strong> ({html.escape(self.kind)}): "
            f"{html.escape(self.dataset.name)}, task {html.escape(self.dataset.task)}, "
            f"model {html.escape(str(self.settings.get('model', '-')))}, "
            f"seed {self.spec.seed}, config {self.config_hash[:8]}</p>"
        ]
        if not math.isnan(acc.value):
            lines.append(
                f"<p>overall accuracy {acc.value:.3f} [{acc.ci_low:.3f}, {acc.ci_high:.3f}] "
                f"n={h.n:,}</p>"
            )
        if h.worst_group is not None:
            w = h.worst_group
            lines.append(
                f"<p>worst group {html.escape(w.attribute)} = {html.escape(w.group)}: accuracy "
                f"{w.value.value:.3f} [{w.value.ci_low:.3f}, {w.value.ci_high:.3f}] n={w.n:,}</p>"
            )
        return "".join(lines) + self.result._repr_html_()
