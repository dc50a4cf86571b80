"""A trained classifier: predict on a Table, save as weights + JSON, load without unpickling."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fairsuite._io import atomic_write_bytes, atomic_write_json, sha256_file
from fairsuite.exceptions import (
    DatasetIntegrityError,
    DatasetNotFoundError,
    InvalidInputError,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    import numpy as np
    import pandas as pd

    from fairsuite.data._dataset import Dataset
    from fairsuite.interventions._mitigate import MitigatedModel

__all__ = ["TrainedModel", "load_model"]

FORMAT_VERSION = 1
#: The format of a model saved with a fairlearn mitigation on top (``MitigatedModel.save``):
#: format 1 plus a ``mitigation`` entry naming ``mitigation.json`` and its sha256. A fairsuite
#: that reads only format 1 refuses it instead of loading the base model alone.
MITIGATED_FORMAT_VERSION = 2
CONFIG_FILE = "config.json"
MITIGATION_FILE = "mitigation.json"
WEIGHTS_FILE = "model.safetensors"
TORCH_WEIGHTS_FILE = "model.pt"  # used only when safetensors is not installed
LINEAR_FILE = "linear.json"
PICKLE_FILE = "model.pkl"

SAVE_EXISTS = (
    "{path} already holds a saved model; pass overwrite=True to replace it, or pick another folder."
)
LOAD_MISSING = (
    "no saved fairsuite model at {path} (expected {file}); pass the folder that "
    "TrainedModel.save() wrote."
)
LOAD_VERSION = (
    "{path} was saved in model format {found}, this fairsuite reads format {expected}; retrain "
    "the model or load it with the fairsuite version that saved it."
)
HGB_UNTRUSTED = (
    "{path} holds a HistGradientBoosting model, which scikit-learn can only save as a pickle, and "
    "unpickling runs arbitrary code. fairsuite refuses to load it unless you trust where the "
    "folder came from: pass trust=True (load_model(path, trust=True))."
)
HGB_CHECKSUM = (
    "{file} does not match the sha256 recorded when it was saved ({expected}, found {found}); "
    "it was changed or damaged, so fairsuite will not unpickle it. Retrain and save again."
)
MITIGATION_LEGACY = (
    "{path} holds a model with a fairlearn mitigation whose {file} was written by an older "
    "fairsuite, which saved the base model only, not the mitigation's parameters: loading it would "
    "give a model that predicts differently from the mitigated one. Retrain and save it again."
)
MITIGATION_MISSING = (
    "{path} holds a model saved in format 2 (with a fairlearn mitigation) but its config.json "
    "names no mitigation; the folder is damaged. Retrain and save it again."
)
PREDICT_NO_PATH = (
    "an image model needs a 'path' column in the table to predict on (columns: {columns}). "
    "Pass the Dataset or a table from fairsuite.data.load_dataset."
)
PREDICT_IMAGES_FAILED = (
    "{n} of {total} images to predict on could not be decoded, so they have no prediction; first: "
    "{examples}. Drop those rows (fairsuite.data.build_image_cache(...).failed lists them) and "
    "predict again."
)
PREDICT_INPUT = "predict takes a fairsuite Dataset or a pandas DataFrame (a Table); got {type}."


def _table_of(data: Any) -> pd.DataFrame:
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        return data
    table = getattr(data, "table", None)
    if isinstance(table, pd.DataFrame):
        return table
    raise InvalidInputError(PREDICT_INPUT.format(type=type(data).__name__))


class TrainedModel:
    """A classifier trained by :func:`fairsuite.train.fit`.

    Attributes
    ----------
    kind : {"image", "tabular"}
        What it was trained on.
    name : str
        The model (``"small_cnn"``, ``"resnet18"``, ``"logreg"``, ``"hgb"``, ``"mlp"`` ...).
    classes : tuple[str, ...]
        Label of each predicted code (``classes[i]`` names code ``i``).
    config : dict
        Everything needed to rebuild and describe it; JSON-able (saved as ``config.json``).
    history : list[dict]
        One entry per epoch: ``loss`` (training, sample-weighted), ``val_accuracy``
        (unweighted), throughput (``images_per_s`` or ``rows_per_s``) and ``seconds``.
    device : str
        The torch device it runs on (``"cpu"`` for scikit-learn models).
    best_epoch : int
        The epoch whose weights were kept (early stopping restores it).
    """

    def __init__(
        self,
        *,
        config: dict[str, Any],
        history: list[dict[str, float]],
        best_epoch: int,
        device: str,
        estimator: Any,
        preprocessor: Any = None,
    ) -> None:
        self.config = config
        self.history = history
        self.best_epoch = best_epoch
        self.device = device
        self.kind: str = config["kind"]
        self.name: str = config["model"]
        self.classes: tuple[str, ...] = tuple(config["classes"])
        self._estimator = estimator
        self._preprocessor = preprocessor

    def __repr__(self) -> str:
        return (
            f"TrainedModel({self.name}, kind={self.kind}, classes={list(self.classes)}, "
            f"device={self.device}, best_epoch={self.best_epoch}, "
            f"n_train={self.config.get('n_train')})"
        )

    # -- prediction -------------------------------------------------------------------------
    def predict_proba(self, data: Dataset | pd.DataFrame, *, progress: bool = False) -> np.ndarray:
        """Class probabilities, an ``(n, K)`` float64 array in the order of ``classes``.

        Parameters
        ----------
        data : Dataset or pandas.DataFrame
            Rows to score (every row of a Dataset's table; pass ``ds.split_table("test")`` for
            the test split). Image tables need ``path``; tabular ones the feature columns.
        progress : bool, default False
            Show the image-decoding progress bar on stderr.

        Raises
        ------
        InvalidInputError
            Columns the model needs are missing.
        DatasetIntegrityError
            Some images cannot be decoded (they would have no prediction).
        """
        import numpy as np

        table = _table_of(data)
        k = len(self.classes)
        if len(table) == 0:
            return np.zeros((0, k))
        if self.kind == "image":
            return self._proba_images(table, progress=progress)
        x = self._preprocessor.transform(table)
        if self.name == "logreg":
            return self._estimator.predict_proba(x)  # type: ignore[no-any-return]
        if self.name == "hgb":
            from fairsuite.train._tabular import hgb_proba

            return hgb_proba(self._estimator, x, k).astype(np.float64)
        return self._proba_torch_tabular(x)

    def predict(self, data: Dataset | pd.DataFrame, *, progress: bool = False) -> np.ndarray:
        """Predicted class codes (int64, ``0..K-1``), one per row of ``data``.

        See :meth:`predict_proba` for the parameters; the code is its arg-max.
        """
        import numpy as np

        return np.asarray(
            self.predict_proba(data, progress=progress).argmax(axis=1), dtype=np.int64
        )

    def _torch_device(self) -> Any:
        import torch

        return torch.device(self.device)

    def _proba_images(self, table: pd.DataFrame, *, progress: bool) -> np.ndarray:
        import numpy as np
        import torch

        from fairsuite.data._image_cache import build_image_cache
        from fairsuite.train._engine import ImageSource, predict_proba_torch

        if "path" not in table.columns:
            raise InvalidInputError(PREDICT_NO_PATH.format(columns=list(map(str, table.columns))))
        cache = build_image_cache(
            table["path"].astype(str).tolist(),
            image_size=self.config["image_size"],
            progress=progress,
        )
        if cache.failed:
            examples = "; ".join(f"{p} ({r})" for p, r in cache.failed[:3])
            raise DatasetIntegrityError(
                PREDICT_IMAGES_FAILED.format(n=cache.n_failed, total=len(cache), examples=examples)
            )
        dev = self._torch_device()
        images = torch.from_numpy(np.array(cache.array)).to(dev)  # a writable in-memory copy
        norm = self.config["normalization"]
        src = ImageSource(images, mean=tuple(norm["mean"]), std=tuple(norm["std"]), pad=0)
        proba = predict_proba_torch(
            self._estimator,
            src,
            device=dev,
            precision=self.config["inference_precision"],
            batch_size=512,
        )
        return proba.double().cpu().numpy()  # type: ignore[no-any-return]

    def _proba_torch_tabular(self, x: np.ndarray) -> np.ndarray:
        import torch

        from fairsuite.train._engine import TensorSource, predict_proba_torch

        dev = self._torch_device()
        src = TensorSource(torch.from_numpy(x).to(dev))
        proba = predict_proba_torch(
            self._estimator,
            src,
            device=dev,
            precision=self.config["inference_precision"],
            batch_size=4096,
        )
        return proba.double().cpu().numpy()  # type: ignore[no-any-return]

    # -- persistence ------------------------------------------------------------------------
    def save(self, path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
        """Write the model to the folder ``path``: ``config.json`` plus its weights.

        Torch models: ``model.safetensors`` (a state dict; no pickle), or ``model.pt`` read
        back with ``torch.load(weights_only=True)`` where safetensors is not installed.
        Logistic regression:
        coefficients and intercepts in ``linear.json``. HistGradientBoosting: ``model.pkl``, a
        pickle (scikit-learn has no other format); its sha256 goes into the config and
        :func:`load_model` refuses it unless called with ``trust=True``. Preprocessing
        parameters are plain JSON inside ``config.json``. Each file is written atomically.

        A ``mitigation.json`` left in the folder by a mitigated model saved there before is
        removed (it does not belong to this model).

        Returns
        -------
        pathlib.Path
            The folder.
        """
        return self._save(path, overwrite=overwrite)

    def _save(
        self,
        path: str | os.PathLike[str],
        *,
        overwrite: bool,
        mitigation: Callable[[Path], dict[str, Any]] | None = None,
    ) -> Path:
        """:meth:`save`; ``mitigation(folder)`` (``MitigatedModel.save``) writes the
        mitigation's file before anything of the base model and returns its reference, which
        ``config.json`` -- written last -- records with format 2."""
        folder = Path(path)
        if (folder / CONFIG_FILE).exists() and not overwrite:
            raise InvalidInputError(SAVE_EXISTS.format(path=folder))
        folder.mkdir(parents=True, exist_ok=True)
        reference = mitigation(folder) if mitigation is not None else None
        if reference is None:
            (folder / MITIGATION_FILE).unlink(missing_ok=True)
        record: dict[str, Any] = {
            "format_version": FORMAT_VERSION if reference is None else MITIGATED_FORMAT_VERSION,
            "config": self.config,
            "history": self.history,
            "best_epoch": self.best_epoch,
            "preprocessing": self._preprocessor.params if self._preprocessor is not None else None,
            "weights": None,
        }
        if reference is not None:
            record["mitigation"] = reference
        if self.name == "logreg":
            est = self._estimator
            atomic_write_json(
                folder / LINEAR_FILE,
                {"coef": est.coef.tolist(), "intercept": est.intercept.tolist()},
            )
            record["weights"] = {"file": LINEAR_FILE}
        elif self.name == "hgb":
            import pickle

            atomic_write_bytes(folder / PICKLE_FILE, pickle.dumps(self._estimator, protocol=4))
            record["weights"] = {"file": PICKLE_FILE, "sha256": sha256_file(folder / PICKLE_FILE)}
        else:
            state = {
                k: v.detach().cpu().contiguous() for k, v in self._estimator.state_dict().items()
            }
            try:
                from safetensors.torch import save
            except ImportError:  # plain state dict, read back with torch.load(weights_only=True)
                import io

                import torch

                buf = io.BytesIO()
                torch.save(state, buf)
                atomic_write_bytes(folder / TORCH_WEIGHTS_FILE, buf.getvalue())
                record["weights"] = {"file": TORCH_WEIGHTS_FILE}
            else:
                atomic_write_bytes(folder / WEIGHTS_FILE, save(state))
                record["weights"] = {"file": WEIGHTS_FILE}
        atomic_write_json(folder / CONFIG_FILE, record)
        return folder


def load_model(
    path: str | os.PathLike[str], *, device: str = "auto", trust: bool = False
) -> TrainedModel | MitigatedModel:
    """Load a model written by :meth:`TrainedModel.save` or ``MitigatedModel.save``.

    A model saved with a fairlearn mitigation on top comes back whole, as a
    :class:`~fairsuite.interventions.MitigatedModel` (its ``base`` is the trained model) that
    predicts exactly as the one saved; the mitigation is read from plain numbers in
    ``mitigation.json``, never unpickled.

    Parameters
    ----------
    path : path-like
        The folder ``save`` wrote.
    device : str, default "auto"
        Where a torch model runs (cuda, then mps, then cpu for ``"auto"``).
    trust : bool, default False
        Only for HistGradientBoosting models, which are pickles: unpickling runs code from the
        file, so it is refused unless you pass ``trust=True``. Other models never unpickle.

    Raises
    ------
    DatasetNotFoundError
        ``path`` holds no saved model (or not the mitigation its ``config.json`` names).
    InvalidInputError
        An HGB model without ``trust=True``, a format this version cannot read, or a
        mitigated model an older fairsuite saved without the mitigation's parameters.
    DatasetIntegrityError
        The pickle's or the mitigation's checksum does not match the one recorded at save time.
    """
    folder = Path(path)
    cfg_path = folder / CONFIG_FILE
    if not cfg_path.is_file():
        raise DatasetNotFoundError(LOAD_MISSING.format(path=folder, file=CONFIG_FILE))
    record = json.loads(cfg_path.read_text("utf-8"))
    version = record.get("format_version")
    if version not in (FORMAT_VERSION, MITIGATED_FORMAT_VERSION):
        raise InvalidInputError(
            LOAD_VERSION.format(
                path=folder,
                found=version,
                expected=f"{FORMAT_VERSION} or {MITIGATED_FORMAT_VERSION} (with a mitigation)",
            )
        )
    if version == MITIGATED_FORMAT_VERSION and not record.get("mitigation"):
        raise InvalidInputError(MITIGATION_MISSING.format(path=folder))
    if version == FORMAT_VERSION and (folder / MITIGATION_FILE).is_file():
        raise InvalidInputError(MITIGATION_LEGACY.format(path=folder, file=MITIGATION_FILE))
    config: dict[str, Any] = record["config"]
    name = config["model"]
    from fairsuite.train._tabular import LinearModel, Preprocessor

    prep = Preprocessor(record["preprocessing"]) if record["preprocessing"] is not None else None
    weights = folder / record["weights"]["file"]
    if not weights.is_file():
        raise DatasetNotFoundError(LOAD_MISSING.format(path=folder, file=weights.name))
    if name == "logreg":
        lin = json.loads(weights.read_text("utf-8"))
        est: Any = LinearModel(lin["coef"], lin["intercept"])
        dev = "cpu"
    elif name == "hgb":
        if not trust:
            raise InvalidInputError(HGB_UNTRUSTED.format(path=folder))
        found = sha256_file(weights)
        if found != record["weights"]["sha256"]:
            raise DatasetIntegrityError(
                HGB_CHECKSUM.format(file=weights, expected=record["weights"]["sha256"], found=found)
            )
        import pickle

        with open(weights, "rb") as fh:
            est = pickle.load(fh)  # noqa: S301 - checksum-verified and trust=True
        dev = "cpu"
    else:
        from fairsuite.train._device import resolve_device, resolve_precision

        torch_dev = resolve_device(device)
        if config["kind"] == "image":
            from fairsuite.train._vision import build_image_model

            est = build_image_model(
                name,
                len(config["classes"]),
                image_size=config["image_size"],
                pretrained=False,
                stem=config["stem"],
            )
        else:
            from fairsuite.train._tabular import make_mlp

            est = make_mlp(config["n_inputs"], len(config["classes"]), tuple(config["hidden"]))
        if weights.suffix == ".safetensors":
            from safetensors.torch import load_file

            state = load_file(str(weights))
        else:
            import torch

            state = torch.load(weights, map_location="cpu", weights_only=True)
        est.load_state_dict(state)
        est.to(torch_dev)
        if config["kind"] == "image":
            import torch

            est.to(memory_format=torch.channels_last)
        est.eval()
        dev = str(torch_dev)
        if torch_dev.type != config.get("device_type"):
            config = {**config, "inference_precision": resolve_precision("auto", torch_dev)}
    model = TrainedModel(
        config=config,
        history=record["history"],
        best_epoch=record["best_epoch"],
        device=dev,
        estimator=est,
        preprocessor=prep,
    )
    if version == MITIGATED_FORMAT_VERSION:
        from fairsuite.interventions._mitigate import load_mitigation

        return load_mitigation(folder, model, record["mitigation"])
    return model
