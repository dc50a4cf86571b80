"""Training: image classifiers (torchvision ResNets, a small CNN) and tabular models.

- :func:`fit` trains on a :class:`fairsuite.data.Dataset`'s training split and returns a
  :class:`TrainedModel` with ``predict`` / ``predict_proba`` on any Table.
- :meth:`TrainedModel.save` writes weights (safetensors or JSON) plus ``config.json``;
  :func:`load_model` reads them back without unpickling (except a HistGradientBoosting model,
  which needs ``trust=True``).

torch and torchvision are imported only when a function needs them.
"""

from __future__ import annotations

from fairsuite.train._fit import MODELS, TrainSettings, fit, resolve_settings
from fairsuite.train._model import TrainedModel, load_model

__all__ = ["MODELS", "TrainedModel", "TrainSettings", "fit", "load_model", "resolve_settings"]
