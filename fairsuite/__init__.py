"""fairsuite: how the size and demographic balance of training data move subgroup errors.

The library is organised in parts, each a subpackage with one job:

- :mod:`fairsuite.data` — dataset cards, loaders, the decoded-image cache;
- :mod:`fairsuite.metrics` — per-group and intersectional metrics with confidence intervals;
- :mod:`fairsuite.train` — image and tabular classifiers, on a GPU when there is one;
- :mod:`fairsuite.experiments` — audit and compare;
- :mod:`fairsuite.report` — the JSON result and the self-contained HTML report;
- :mod:`fairsuite.cli` — the ``fairsuite`` command, a thin shell over the above.

Importing :mod:`fairsuite` is cheap: torch, torchvision, sdv, seaborn and matplotlib are only
imported by the functions that need them.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
