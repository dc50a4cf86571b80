"""fairsuite: how the size and demographic balance of training data move subgroup errors.

The public API (each ``fairsuite`` command is one call of one of these)::

    import fairsuite
    r = fairsuite.audit(dataset="adult", model="logreg", data_dir="data")   # a RunRecord
    r.result.by_group()                     # per-group metrics with intervals, a DataFrame
    fairsuite.compare(["utkface", "fairface"], data_dir="data", epochs=3)
    fairsuite.evaluate("predictions.csv", y_true="label", y_pred="pred", sensitive=["race"])
    fairsuite.load("compas", data_dir="data")                # the one "open a dataset" call
    fairsuite.list_datasets(); fairsuite.dataset_info("fairface", data_dir="data")

The library is organised in parts, each a subpackage with one job:

- :mod:`fairsuite.data` -- dataset cards, loaders, the decoded-image cache;
- :mod:`fairsuite.metrics` -- per-group and intersectional metrics with confidence intervals;
- :mod:`fairsuite.train` -- image and tabular classifiers, on a GPU when there is one;
- :mod:`fairsuite.experiments` -- ``run(RunSpec) -> RunRecord``; audit, compare, evaluate;
- :mod:`fairsuite.report` -- the self-contained HTML report;
- :mod:`fairsuite.cli` -- the ``fairsuite`` command, a thin shell over the above.

Importing :mod:`fairsuite` is cheap: every name above is imported on first use, and torch,
torchvision, sdv, seaborn and matplotlib only by the functions that need them.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

#: public name -> (module, attribute), imported on first access
_LAZY = {
    "audit": ("fairsuite.experiments", "audit"),
    "compare": ("fairsuite.experiments", "compare"),
    "evaluate": ("fairsuite.experiments", "evaluate"),
    "reevaluate": ("fairsuite.experiments", "reevaluate"),
    "run": ("fairsuite.experiments", "run"),
    "sweep": ("fairsuite.experiments", "sweep"),
    "SweepSpec": ("fairsuite.experiments", "SweepSpec"),
    "RunSpec": ("fairsuite.experiments", "RunSpec"),
    "RunRecord": ("fairsuite.experiments", "RunRecord"),
    "load": ("fairsuite.data", "load"),
    "list_datasets": ("fairsuite.data", "list_datasets"),
    "dataset_info": ("fairsuite.data", "dataset_info"),
    "headline": ("fairsuite.metrics", "headline"),
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        value = getattr(importlib.import_module(module), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'fairsuite' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
