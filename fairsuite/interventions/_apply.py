"""The interventions as the run pipeline uses them: check before training, apply, record."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fairsuite.exceptions import SpecError
from fairsuite.interventions._strategy import SEP, Cell, cell_counts, target_shares

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "INTERVENTIONS",
    "DATA_INTERVENTIONS",
    "Plan",
    "plan_intervention",
    "apply_intervention",
    "default_balance",
]

#: Every intervention a run can name, data-side first, then the model-side mitigations.
DATA_INTERVENTIONS = ("reweigh", "oversample", "undersample", "synth", "augment")
INTERVENTIONS = (*DATA_INTERVENTIONS, "threshold", "expgrad")
_DEFAULT_BALANCE = {
    "reweigh": "parity",
    "synth": "parity",
    "oversample": "uniform",
    "undersample": "uniform",
    "augment": "uniform",
}
_METHOD = {
    "reweigh": "reweighing (Kamiran & Calders 2012, as AIF360): each group x label cell weighs "
    "its target share, w = target(g, c) * N / N_gc, in the loss of every training row",
    "undersample": "random undersampling: the largest subset of the training rows with the "
    "target composition",
    "oversample": "random oversampling: every training row kept once, copies drawn evenly within "
    "each group x label cell up to the target composition",
    "augment": "oversampling with transforms: copies of images drawn evenly within each group x "
    "label cell up to the target composition, each seen through a random crop, flip and colour "
    "jitter every epoch",
    "synth": "synthetic rows (SDV {synthesizer}) fitted on the training rows only, sampled "
    "conditionally on group x label to fill each cell up to the target composition",
}
_WRONG_KIND = (
    "--intervention {name} applies to {allowed} data; {dataset!r} is {kind} data. {hint}"
)
_ONLY_WITH = "{key!r} is only used with {which}; remove it or set --intervention."
_BY_UNKNOWN = (
    "--balance-by {column!r} is not a sensitive attribute of {dataset!r}. Available: "
    "{available}."
)


def default_balance(intervention: str) -> str | None:
    """The target composition an intervention uses when ``balance`` is not given."""
    return _DEFAULT_BALANCE.get(intervention)


@dataclass(frozen=True)
class Plan:
    """A checked intervention: what to do, over which groups, to which composition."""

    intervention: str
    by: tuple[str, ...]
    balance: Any
    synthesizer: str
    constraint: str

    @property
    def mitigation(self) -> bool:
        """True for the model-side mitigations (applied after fitting)."""
        return self.intervention not in DATA_INTERVENTIONS


def check_spec_fields(spec: Any, *, source: str = "run spec") -> None:
    """Cross-field checks that need no data (called by ``RunSpec.validate``)."""
    name = spec.intervention
    if name is None:
        for key in ("balance", "balance_by", "synthesizer", "constraint"):
            if getattr(spec, key) not in (None, ()):
                raise SpecError(
                    f"{source}: " + _ONLY_WITH.format(key=key, which="--intervention")
                )
        return
    if name in ("threshold", "expgrad"):
        if spec.balance is not None:
            raise SpecError(
                f"{source}: " + _ONLY_WITH.format(
                    key="balance", which="the data-side interventions (" +
                    ", ".join(DATA_INTERVENTIONS) + "); threshold and expgrad take --constraint"
                )
            )
        if spec.synthesizer is not None:
            raise SpecError(f"{source}: " + _ONLY_WITH.format(key="synthesizer", which="synth"))
        if name == "expgrad" and spec.model not in ("logreg",):
            from fairsuite.interventions._mitigate import EXPGRAD_MODEL

            raise SpecError(f"{source}: " + EXPGRAD_MODEL.format(model=spec.model))
    else:
        if spec.constraint is not None:
            raise SpecError(
                f"{source}: " + _ONLY_WITH.format(key="constraint", which="threshold or expgrad")
            )
        if spec.synthesizer is not None and name != "synth":
            raise SpecError(f"{source}: " + _ONLY_WITH.format(key="synthesizer", which="synth"))


def plan_intervention(spec: Any, dataset: Any, audited: tuple[str, ...]) -> Plan | None:
    """Check the spec's intervention against the data, before anything is trained.

    Raises
    ------
    SpecError
        An intervention for the other kind of data, an unknown ``balance_by`` attribute, a
        mapping naming an unknown group or label, or a mitigation the task cannot take (2).
    MissingDependencyError
        ``synth`` without SDV installed (exit code 2).
    InvalidInputError
        A target share for a cell with no training rows (exit code 3).
    """
    name = spec.intervention
    if name is None:
        return None
    kind = dataset.kind
    if name == "synth" and kind != "tabular":
        raise SpecError(_WRONG_KIND.format(
            name=name, allowed="tabular", dataset=dataset.name, kind=kind,
            hint="For images use --intervention augment (oversampling with transforms)."))
    if name == "augment" and kind != "image":
        raise SpecError(_WRONG_KIND.format(
            name=name, allowed="image", dataset=dataset.name, kind=kind,
            hint="For tables use --intervention synth or oversample."))
    if name == "expgrad" and kind != "tabular":
        raise SpecError(_WRONG_KIND.format(
            name=name, allowed="tabular", dataset=dataset.name, kind=kind,
            hint="For images use --intervention threshold."))
    by = tuple(spec.balance_by) or tuple(audited[:1])
    for column in by:
        if column not in dataset.sensitive or column not in dataset.table.columns:
            raise SpecError(_BY_UNKNOWN.format(
                column=column, dataset=dataset.name,
                available=", ".join(dataset.sensitive) or "(none)"))
    plan = Plan(
        intervention=name,
        by=by,
        balance=spec.balance if spec.balance is not None else default_balance(name),
        synthesizer=spec.synthesizer or "gaussian_copula",
        constraint=spec.constraint or "demographic_parity",
    )
    if plan.mitigation:
        from fairsuite.interventions._mitigate import check_mitigation

        check_mitigation(name, classes=tuple(dataset.classes), model=spec.model,
                         name=dataset.name)
        return plan
    if name == "synth":
        from fairsuite.interventions._synth import require_sdv

        require_sdv()
    train = dataset.split_table("train")
    target_shares(plan.balance, cell_counts(train, by), by=by, classes=tuple(dataset.classes))
    return plan


def _nested(cells: dict[Cell, float], classes: tuple[str, ...], digits: int | None = None
            ) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for (g, c), v in sorted(cells.items()):
        label = classes[c] if c < len(classes) else str(c)
        value = round(float(v), digits) if digits is not None else v
        out.setdefault(str(g), {})[str(label)] = value
    return out


def apply_intervention(
    plan: Plan, table: pd.DataFrame, dataset: Any, *, seed: int = 0, progress: bool = False
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Apply a data-side ``plan`` to the training rows ``table`` (never changed in place).

    Returns the new training table and the intervention record (``result.json``'s
    ``intervention``; see docs/result.md). A mitigation plan returns the table unchanged and a
    record whose ``mitigation`` is filled in after fitting.
    """
    from fairsuite.interventions._resample import (
        ImageAugmenter,
        RandomOverSampler,
        RandomUnderSampler,
        Reweigher,
    )

    classes = tuple(str(c) for c in dataset.classes)
    record: dict[str, Any] = {
        "kind": plan.intervention,
        "family": "mitigate" if plan.mitigation else "data",
        "by": list(plan.by),
    }
    if plan.mitigation:
        counts = cell_counts(table, plan.by)
        record.update({
            "constraint": plan.constraint,
            "balance": None,
            "method": None,
            "target": None,
            "before": _nested(counts, classes),
            "after": _nested(counts, classes),
            "rows": {"before": len(table), "after": len(table), "added": 0, "removed": 0,
                     "reweighted": 0, "synthetic": 0, "duplicated": 0},
            "mitigation": None,
        })
        return table, record
    common = {"by": plan.by, "classes": classes, "random_state": seed}
    sampler: Any
    if plan.intervention == "reweigh":
        sampler = Reweigher(plan.balance, **common)
    elif plan.intervention == "undersample":
        sampler = RandomUnderSampler(plan.balance, **common)
    elif plan.intervention == "oversample":
        sampler = RandomOverSampler(plan.balance, **common)
    elif plan.intervention == "augment":
        sampler = ImageAugmenter(plan.balance, **common)
    else:
        from fairsuite.interventions._synth import SyntheticAugmenter

        columns = [*dataset.features, *[s for s in dataset.sensitive if s in table.columns]]
        sampler = SyntheticAugmenter(
            plan.balance, columns=columns, synthesizer=plan.synthesizer, progress=progress,
            **common,
        )
    out = sampler.fit_resample(table, classes=classes)
    n_before, n_after = len(table), len(out)
    kept = len(set(int(i) for i in sampler.sample_indices_ if i >= 0))
    rows = {
        "before": n_before,
        "after": n_after,
        "added": max(n_after - kept, 0),
        "removed": n_before - kept,
        "reweighted": 0,
        # generated rows only (a synthetic dataset's own rows already carry is_synthetic)
        "synthetic": int((sampler.sample_indices_ < 0).sum()),
        "duplicated": int(out[sampler.flag].sum()) if hasattr(sampler, "flag") else 0,
    }
    record.update({
        "balance": plan.balance if isinstance(plan.balance, str) else dict(plan.balance),
        "method": _METHOD[plan.intervention].format(synthesizer=plan.synthesizer),
        "target": _nested(sampler.target_, classes, 6),
        "before": _nested(sampler.counts_before_, classes),
        "after": _nested(sampler.counts_after_, classes, 6),
        "rows": rows,
    })
    if plan.intervention == "reweigh":
        import numpy as np

        w = out["sample_weight"].to_numpy(dtype=float)
        rows["reweighted"] = int((~np.isclose(w, 1.0)).sum())
        record["weights"] = _nested(sampler.weights_, classes, 6)
        record["evaluation"] = (
            "the weights train the model only; the test split is real and unweighted"
        )
    if plan.intervention == "synth":
        record["synthesizer"] = plan.synthesizer
        record["fidelity"] = sampler.quality_
        record["shortfalls"] = _nested(sampler.shortfalls_, classes)
    return out, record


def describe_cell(by: tuple[str, ...], group: str, label: str) -> str:
    """``gender = Female, label >50K`` (for messages)."""
    return f"{SEP.join(by)} = {group}, label {label}"
