"""``fit``: train a classifier on a Dataset's training split."""

from __future__ import annotations

import time
import warnings
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Literal

from fairsuite.exceptions import DataFairnessWarning, InvalidInputError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from fairsuite.data._dataset import Dataset
    from fairsuite.train._model import TrainedModel

__all__ = ["fit", "MODELS", "TrainSettings", "resolve_settings", "allocate_stratified"]

TABULAR_MODELS = ("logreg", "hgb", "mlp")
IMAGE_MODEL_NAMES = ("small_cnn", "resnet18", "resnet34", "resnet50")
MODELS = {"image": ("auto", *IMAGE_MODEL_NAMES), "tabular": ("auto", *TABULAR_MODELS)}

NOT_A_DATASET = (
    "fit() takes a fairsuite Dataset (from fairsuite.data.load_dataset); got {type}. Wrap a table "
    "in fairsuite.data.Dataset or load it with fairsuite.data.load_csv."
)
MODEL_INVALID = (
    "model={model!r} cannot train on the {kind} dataset {name!r}; allowed for {kind} data: "
    "{allowed}."
)
MISSING_COLUMNS = (
    "the table of dataset {name!r} lacks column(s) {missing} that training needs; the Table "
    "contract (fairsuite.data.Dataset) requires 'y', 'split' and {extra}."
)
NO_TRAIN_ROWS = (
    "dataset {name!r} has no rows with split == 'train' (splits present: {splits}); training "
    "needs some. Check the loader's split or the 'split' column."
)
ONE_CLASS = (
    "the training rows of dataset {name!r} (after removing zero-weight rows and images that "
    "failed to decode) hold only class(es) {present} of {classes}; a classifier needs at least "
    "two. Check the split, the sample weights and max_train_rows."
)
WEIGHT_INVALID = (
    "column 'sample_weight' of dataset {name!r} must hold finite numbers >= 0 with a positive "
    "sum over the training rows; found {problem}. Fix the weights (reweighting writes them)."
)
OPTION_INVALID = "{option}={value!r} is invalid: {allowed}."
Y_INVALID = (
    "column 'y' of dataset {name!r} must hold integer codes 0..{k_minus_1} (one per entry of "
    "classes {classes}); found {found}."
)

#: Columns the data interventions set to True on the rows they add as copies of a training row
#: (``oversample``: ``is_duplicate``; ``augment``: ``augment``); see :func:`_validation_split`.
COPY_FLAGS = ("is_duplicate", "augment")
#: ``config["excluded"]`` reason for an intervention's copies of a validation row.
VAL_COPIES_SET_ASIDE = "copy of a validation row (set aside)"


def _loop_options(
    settings: TrainSettings,
    dev: Any,
    patience: int,
    random_state: int,
    progress: bool,
    *,
    unit: str,
) -> dict[str, Any]:
    """Keyword arguments of the torch training loop, from the resolved settings."""
    return {
        "device": dev,
        "precision": settings.precision,
        "epochs": int(settings.epochs or 1),
        "batch_size": int(settings.batch_size or 2),
        "lr": float(settings.lr or 1e-3),
        "weight_decay": float(settings.weight_decay or 0.0),
        "patience": patience,
        "random_state": random_state,
        "progress": progress,
        "desc": f"training {settings.model} ({dev.type}, {settings.precision})",
        "unit": unit,
    }


def _optim_record(settings: TrainSettings, res: Any) -> dict[str, Any]:
    """The part of a torch model's config that records how it was optimised."""
    return {
        "epochs": settings.epochs,
        "batch_size": settings.batch_size,
        "lr": settings.lr,
        "weight_decay": settings.weight_decay,
        "optimizer": "AdamW + cosine",
        "precision": settings.precision,
        "inference_precision": settings.precision,
        "best_val_accuracy": res.best_val_accuracy,
    }


def _check_option(ok: bool, option: str, value: Any, allowed: str) -> None:
    if not ok:
        raise InvalidInputError(OPTION_INVALID.format(option=option, value=value, allowed=allowed))


def allocate_stratified(
    frame: pd.DataFrame, columns: list[str], n_take: int, random_state: int
) -> np.ndarray:
    """Boolean mask selecting exactly ``n_take`` rows spread proportionally over the strata.

    Each stratum (a distinct combination of ``columns``) gets ``floor(share * n_take)`` rows;
    the leftover rows go to the strata with the largest remainders (ties broken at random).
    Rows within a stratum are drawn at random; everything is seeded by ``random_state``.
    """
    import numpy as np

    n = len(frame)
    mask = np.zeros(n, dtype=bool)
    if n_take <= 0 or n == 0:
        return mask
    if n_take >= n:
        mask[:] = True
        return mask
    rng = np.random.default_rng(random_state)
    codes = (
        frame.groupby(columns, sort=True, dropna=False).ngroup().to_numpy()
        if columns
        else np.zeros(n, int)
    )
    n_cells = int(codes.max()) + 1
    sizes = np.bincount(codes, minlength=n_cells)
    exact = sizes * (n_take / n)
    take = np.floor(exact).astype(int)
    left = n_take - int(take.sum())
    if left > 0:
        rema = exact - take + rng.random(n_cells) * 1e-9
        order = np.argsort(-rema, kind="stable")
        take[order[:left]] += 1
    order = np.argsort(codes, kind="stable")
    starts = np.concatenate([[0], np.cumsum(sizes)])
    for c in range(n_cells):
        members = order[starts[c] : starts[c + 1]]
        if take[c] > 0:
            mask[rng.permutation(members)[: take[c]]] = True
    return mask


@dataclass(frozen=True)
class TrainSettings:
    """Training settings after every ``auto``/``None`` was resolved for the data and device.

    This is the one place defaults are decided: :func:`fit` trains with these settings and the
    run pipeline records them (and hashes them into the run's identity) before training.
    """

    kind: str
    model: str
    device: str
    precision: str
    epochs: int | None = None
    batch_size: int | None = None
    lr: float | None = None
    weight_decay: float | None = None
    image_size: int | None = None
    pretrained: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Plain data; settings that do not apply (``None``) are left out."""
        return {k: v for k, v in asdict(self).items() if v is not None}

    def fit_kwargs(self) -> dict[str, Any]:
        """The keyword arguments of :func:`fit` that reproduce these settings."""
        keys = ("model", "device", "precision", "image_size", "epochs", "batch_size", "lr")
        return {k: getattr(self, k) for k in keys} | {"pretrained": self.pretrained}


def resolve_settings(
    kind: str,
    *,
    model: str = "auto",
    device: str = "auto",
    precision: str = "auto",
    image_size: int | None = None,
    epochs: int | None = None,
    batch_size: int | None = None,
    lr: float | None = None,
    pretrained: bool = False,
) -> TrainSettings:
    """Resolve a model's settings for ``kind`` ("image" or "tabular") on the device found.

    Defaults: images train ``small_cnn`` at 64 px for 6 epochs x 128 on a CPU, ``resnet18`` at
    112 px for up to 30 epochs x 256 on a GPU (early stopping ends sooner), AdamW with a cosine
    schedule (lr 2e-3 for the small CNN, 1e-3 for ResNets, weight decay 0.05); tables train
    histogram gradient boosting; the torch MLP 20 epochs x 512 (lr 1e-3, weight decay 1e-4).
    scikit-learn models run on the CPU in float64 and never import torch.

    Raises
    ------
    InvalidInputError
        A model that cannot train on ``kind`` data, or a device/precision not usable here.
    """
    allowed = MODELS.get(kind)
    if allowed is None:
        raise InvalidInputError(
            OPTION_INVALID.format(option="kind", value=kind, allowed="'image' or 'tabular'")
        )
    if model not in allowed:
        raise InvalidInputError(
            MODEL_INVALID.format(model=model, kind=kind, name="(any)", allowed=", ".join(allowed))
        )
    if kind == "tabular" and model in ("auto", "logreg", "hgb"):
        return TrainSettings(kind, "hgb" if model == "auto" else model, "cpu", "fp64")
    from fairsuite.train._device import resolve_device, resolve_precision

    dev = resolve_device(device)
    prec = resolve_precision(precision, dev)
    gpu = dev.type in ("cuda", "mps")
    if kind == "tabular":  # the torch MLP
        return TrainSettings(
            kind,
            model,
            str(dev),
            prec,
            epochs=epochs or 20,
            batch_size=batch_size or 512,
            lr=float(lr) if lr is not None else 1e-3,
            weight_decay=1e-4,
        )
    if model == "auto":
        model = "resnet18" if gpu else "small_cnn"
    return TrainSettings(
        kind,
        model,
        str(dev),
        prec,
        epochs=epochs or (30 if gpu else 6),
        batch_size=batch_size or (256 if gpu else 128),
        lr=float(lr) if lr is not None else (2e-3 if model == "small_cnn" else 1e-3),
        weight_decay=0.05,
        image_size=image_size or (112 if gpu else 64),
        pretrained=bool(pretrained),
    )


@dataclass
class _TrainRows:
    """The training rows after exclusions, and the stratification columns."""

    frame: pd.DataFrame
    excluded: dict[str, int]
    strata: list[str]
    n_listed: int
    weighted: bool


def fit(
    dataset: Dataset,
    *,
    model: str = "auto",
    image_size: int | None = None,
    epochs: int | None = None,
    batch_size: int | None = None,
    lr: float | None = None,
    device: str = "auto",
    precision: Literal["auto", "fp32", "bf16", "fp16"] = "auto",
    pretrained: bool = False,
    val_fraction: float = 0.1,
    patience: int = 3,
    random_state: int = 0,
    progress: bool = True,
    max_train_rows: int | None = None,
) -> TrainedModel:
    """Train a classifier on the ``split == "train"`` rows of ``dataset``.

    A validation split (``val_fraction`` of the training rows, stratified by every sensitive
    attribute x label, seeded) is carved out first; torch models stop early on its accuracy and
    keep their best epoch. It is drawn from real, distinct source rows only: rows a data
    intervention added (oversampled copies, ``is_duplicate``/``augment``; synthetic rows,
    ``is_synthetic``) are never validated on, and the copies of a validation row are set aside
    -- neither fitted nor validated on, counted in ``config["excluded"]`` and
    ``config["validation"]`` (see :func:`_validation_split`). A ``sample_weight`` column,
    when present, weights every loss and every scikit-learn ``fit``; rows of weight 0
    contribute nothing and are left out (counted in ``config["excluded"]``). Image rows whose
    file cannot be decoded are excluded and counted the same way (with a
    :class:`~fairsuite.exceptions.DataFairnessWarning`).

    The steps: check the inputs (:func:`_check_inputs`), choose the training rows
    (:func:`_training_rows`), resolve the settings (:func:`resolve_settings`), then train --
    images through the torch loop (:func:`_fit_images`), tables through scikit-learn or the
    torch MLP (:func:`_fit_tabular`).

    Parameters
    ----------
    dataset : Dataset
        From :func:`fairsuite.data.load_dataset`; its table follows the Table contract.
    model : str, default "auto"
        Images: ``"small_cnn"``, ``"resnet18"``, ``"resnet34"``, ``"resnet50"``; ``"auto"`` is
        small_cnn on a CPU and resnet18 on a GPU. Tables: ``"logreg"`` (logistic regression),
        ``"hgb"`` (histogram gradient boosting), ``"mlp"`` (torch); ``"auto"`` is hgb.
    image_size : int, optional
        Side of the square images the model sees (default 64 on a CPU, 112 on a GPU; ResNets
        below 64 px get a 3x3 stride-1 stem without max-pool instead of the ImageNet stem).
    epochs, batch_size, lr : optional
        Defaults sized for the device (see :func:`resolve_settings`).
    device : str, default "auto"
        ``"cuda"``, then ``"mps"``, then ``"cpu"``; or name one.
    precision : {"auto", "fp32", "bf16", "fp16"}, default "auto"
        Autocast dtype: auto is bf16 on GPUs that support it (else fp16 with a gradient
        scaler) and fp32 on CPU; ``"bf16"`` on a CPU is an explicit option.
    pretrained : bool, default False
        ResNets only: start from torchvision's ImageNet weights found in the torch hub cache;
        nothing is downloaded (a clear error says where it looked).
    val_fraction : float, default 0.1
        Share of the real, distinct training rows held out for early stopping (0 disables
        it).
    patience : int, default 3
        Epochs without a better validation accuracy before stopping.
    random_state : int, default 0
        Seeds the splits, initialisation, shuffling and augmentation: the same seed gives the
        same predictions on a CPU.
    progress : bool, default True
        Progress bars on stderr (only when it is a terminal).
    max_train_rows : int, optional
        Train on at most this many training rows (a stratified, seeded subsample).

    Returns
    -------
    TrainedModel

    Raises
    ------
    InvalidInputError
        A bad option, missing columns, invalid weights or fewer than two classes to learn.
    DatasetNotFoundError
        ``pretrained=True`` and the weights are not in the torch hub cache.
    DatasetIntegrityError
        Not one training image could be decoded.
    """
    kind = _check_inputs(
        dataset,
        model=model,
        image_size=image_size,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        val_fraction=val_fraction,
        patience=patience,
        max_train_rows=max_train_rows,
    )
    rows = _training_rows(dataset, max_train_rows=max_train_rows, random_state=random_state)
    settings = resolve_settings(
        kind,
        model=model,
        device=device,
        precision=precision,
        image_size=image_size,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        pretrained=pretrained,
    )
    common = {
        "val_fraction": val_fraction,
        "patience": patience,
        "random_state": random_state,
        "progress": progress,
    }
    if kind == "image":
        return _fit_images(dataset, rows, settings, **common)
    return _fit_tabular(dataset, rows, settings, **common)


def _check_inputs(
    dataset: Dataset,
    *,
    model: str,
    image_size: int | None,
    epochs: int | None,
    batch_size: int | None,
    lr: float | None,
    val_fraction: float,
    patience: int,
    max_train_rows: int | None,
) -> str:
    """Validate the dataset and the options (nothing expensive); return the dataset's kind."""
    import pandas as pd

    table = getattr(dataset, "table", None)
    if not isinstance(table, pd.DataFrame) or getattr(dataset, "kind", None) not in (
        "image",
        "tabular",
    ):
        raise InvalidInputError(NOT_A_DATASET.format(type=type(dataset).__name__))
    kind: str = dataset.kind
    name = dataset.name
    allowed = MODELS[kind]
    if model not in allowed:
        raise InvalidInputError(
            MODEL_INVALID.format(model=model, kind=kind, name=name, allowed=", ".join(allowed))
        )
    needed = ["y", "split"] + (["path"] if kind == "image" else list(dataset.features))
    missing = [c for c in needed if c not in table.columns]
    if missing:
        extra = "'path'" if kind == "image" else "the feature columns in Dataset.features"
        raise InvalidInputError(MISSING_COLUMNS.format(name=name, missing=missing, extra=extra))
    if kind == "tabular" and not dataset.features:
        from fairsuite.train._tabular import NO_FEATURES

        raise InvalidInputError(NO_FEATURES.format(name=name))
    _check_option(
        0.0 <= float(val_fraction) < 0.5, "val_fraction", val_fraction, "a share in [0, 0.5)"
    )
    _check_option(
        isinstance(patience, int) and patience >= 1, "patience", patience, "an integer >= 1"
    )
    _check_option(
        epochs is None or (isinstance(epochs, int) and epochs >= 1),
        "epochs",
        epochs,
        "an integer >= 1",
    )
    _check_option(
        batch_size is None or (isinstance(batch_size, int) and batch_size >= 2),
        "batch_size",
        batch_size,
        "an integer >= 2",
    )
    _check_option(lr is None or float(lr) > 0, "lr", lr, "a positive learning rate")
    _check_option(
        max_train_rows is None or (isinstance(max_train_rows, int) and max_train_rows >= 2),
        "max_train_rows",
        max_train_rows,
        "None or an integer >= 2",
    )
    if kind == "image" and image_size is not None:
        _check_option(
            isinstance(image_size, int) and 8 <= image_size <= 1024,
            "image_size",
            image_size,
            "an integer in 8..1024",
        )
    k = len(dataset.classes)
    y_all = table["y"]
    if not pd.api.types.is_integer_dtype(y_all) or (
        len(y_all) and (y_all.min() < 0 or y_all.max() >= k)
    ):
        found = f"dtype {y_all.dtype}, values {sorted(pd.unique(y_all).tolist())[:5]}"
        raise InvalidInputError(
            Y_INVALID.format(name=name, k_minus_1=k - 1, classes=list(dataset.classes), found=found)
        )
    return kind


def _training_rows(
    dataset: Dataset, *, max_train_rows: int | None, random_state: int
) -> _TrainRows:
    """The ``split == "train"`` rows, capped at ``max_train_rows`` (stratified) and without
    zero-weight rows; every exclusion is counted."""
    import numpy as np
    import pandas as pd

    table = dataset.table
    name = dataset.name
    is_train = (table["split"] == "train").to_numpy()
    if not is_train.any():
        splits = sorted(map(str, pd.unique(table["split"])))
        raise InvalidInputError(NO_TRAIN_ROWS.format(name=name, splits=splits))
    train = table.loc[is_train]
    strata = [c for c in dataset.sensitive if c in table.columns and c != "y"] + ["y"]

    excluded: dict[str, int] = {}
    if max_train_rows is not None and len(train) > max_train_rows:
        keep = allocate_stratified(train, strata, max_train_rows, random_state)
        excluded["beyond max_train_rows"] = int((~keep).sum())
        train = train.loc[keep]

    weighted = "sample_weight" in table.columns
    if weighted:
        w = pd.to_numeric(train["sample_weight"], errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(w) | (w < 0)
        if bad.any() or w.sum() <= 0:
            problem = (
                f"{int(bad.sum())} non-finite or negative value(s), e.g. "
                f"{train['sample_weight'][bad].head(3).tolist()}"
                if bad.any()
                else "all weights are 0"
            )
            raise InvalidInputError(WEIGHT_INVALID.format(name=name, problem=problem))
        if (w == 0).any():
            excluded["zero sample weight"] = int((w == 0).sum())
            train = train.loc[w > 0]
    return _TrainRows(train, excluded, strata, int(is_train.sum()), weighted)


def _validation_split(
    rows: _TrainRows, val_fraction: float, random_state: int
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """Draw the validation rows from real, distinct source rows; return ``(is_val, keep,
    record)`` over ``rows.frame``.

    A data intervention adds rows before :func:`fit` sees the table, and validation must not
    see them:

    - copies (a True in a column of :data:`COPY_FLAGS`) are never drawn for validation;
    - synthetic rows (``is_synthetic`` True) are never drawn when the table also holds real
      rows: they are only fitted on (a dataset synthetic throughout, like synthfaces, validates
      on its own rows);
    - each source row is drawn at most once: rows are the same source when they share their
      ``row_id`` (copies keep their original's), or -- without a ``row_id`` column, when some
      row is a copy -- all their values.

    ``round(val_fraction * candidates)`` rows are drawn with :func:`allocate_stratified` over
    the candidates (seed ``random_state + 1``, stratified as ``rows.strata``). Every other row
    of the same source as a validation row -- an oversampled copy of it -- is set aside:
    ``keep`` is False for it, so it is neither fitted on nor validated on (fitting it would
    leak the validation row into training; validating on it would count one row twice). The
    fit rows then hold the intervention's copies of the fit rows only, so their composition is
    still about the intervention's target. Without marked rows (no intervention) and with
    distinct ``row_id`` values, every row is a candidate and the draw is the one over all
    training rows, row for row.

    ``record`` (``TrainedModel.config["validation"]``) counts the candidates, the validation
    rows, the copies set aside (also ``config["excluded"]`` under
    :data:`VAL_COPIES_SET_ASIDE`), the copies fitted and the synthetic rows fitted only.
    Synthetic rows were generated by a synthesizer fitted on every training row, validation
    rows included; that is not undone here.
    """
    import numpy as np
    import pandas as pd

    frame = rows.frame
    n = len(frame)
    copy = np.zeros(n, dtype=bool)
    for column in COPY_FLAGS:
        if column in frame.columns:
            copy |= frame[column].eq(True).to_numpy(dtype=bool)
    synthetic = np.zeros(n, dtype=bool)
    if "is_synthetic" in frame.columns:
        flagged = frame["is_synthetic"].eq(True).to_numpy(dtype=bool)
        if not flagged.all():  # real rows exist: synthetic ones only train
            synthetic = flagged
    if "row_id" in frame.columns:
        source = frame["row_id"].astype(str).to_numpy()
    elif copy.any():
        values = frame.drop(columns=[c for c in COPY_FLAGS if c in frame.columns])
        source = pd.util.hash_pandas_object(values, index=False).to_numpy()
    else:
        source = np.arange(n)
    candidate = ~copy & ~synthetic & ~pd.Series(source).duplicated().to_numpy()
    n_candidates = int(candidate.sum())
    n_val = int(round(val_fraction * n_candidates))
    if n_candidates == n:
        is_val = allocate_stratified(frame, rows.strata, n_val, random_state + 1)
    else:
        positions = np.flatnonzero(candidate)
        picked = allocate_stratified(frame.iloc[positions], rows.strata, n_val, random_state + 1)
        is_val = np.zeros(n, dtype=bool)
        is_val[positions[picked]] = True
    set_aside = ~is_val & np.isin(source, source[is_val])
    keep = ~set_aside
    record = {
        "drawn_from": "real rows, one per source row (row_id); an intervention's copies and "
        "synthetic rows are not validated on, and copies of a validation row are set aside",
        "candidates": n_candidates,
        "rows": int(is_val.sum()),
        "copies_set_aside": int(set_aside.sum()),
        "copies_fit": int((copy & keep).sum()),
        "synthetic_fit_only": int(synthetic.sum()),
    }
    if set_aside.any():
        rows.excluded[VAL_COPIES_SET_ASIDE] = int(set_aside.sum())
        rows.frame = frame.loc[keep]
    return is_val[keep], keep, record


def _check_two_classes(dataset: Dataset, y: Any) -> None:
    import pandas as pd

    present = sorted(pd.unique(y).tolist())
    if len(present) < 2:
        raise InvalidInputError(
            ONE_CLASS.format(
                name=dataset.name,
                present=[dataset.classes[i] for i in present],
                classes=list(dataset.classes),
            )
        )


def _base_config(
    dataset: Dataset,
    rows: _TrainRows,
    settings: TrainSettings,
    *,
    is_val: np.ndarray,
    val_fraction: float,
    patience: int,
    random_state: int,
    threads: int | None,
    validation: dict[str, Any],
) -> dict[str, Any]:
    return {
        "kind": dataset.kind,
        "model": settings.model,
        "dataset": dataset.name,
        "task": dataset.task,
        "classes": list(dataset.classes),
        "sensitive": list(dataset.sensitive),
        "random_state": random_state,
        "val_fraction": val_fraction,
        "patience": patience,
        "n_train_rows": rows.n_listed,
        "n_train": int((~is_val).sum()),
        "n_val": int(is_val.sum()),
        "excluded": rows.excluded,
        "weighted": rows.weighted,
        "device_type": settings.device.split(":")[0],
        "threads": threads,
        "validation": validation,  # how the validation rows were drawn (_validation_split)
    }


def _arrays(rows: _TrainRows) -> tuple[np.ndarray, np.ndarray | None]:
    import numpy as np

    # Writable copies: pandas may hand out read-only views, which torch.from_numpy warns about.
    y = np.array(rows.frame["y"].to_numpy(dtype=np.int64), copy=True)
    w = np.array(rows.frame["sample_weight"], dtype=float, copy=True) if rows.weighted else None
    return y, w


def _fit_images(
    dataset: Dataset,
    rows: _TrainRows,
    settings: TrainSettings,
    *,
    val_fraction: float,
    patience: int,
    random_state: int,
    progress: bool,
) -> TrainedModel:
    """Decode the training images once (cached), then train in the torch loop."""
    import numpy as np
    import torch

    from fairsuite.data._image_cache import build_image_cache
    from fairsuite.train._device import limit_threads
    from fairsuite.train._engine import IMAGENET_MEAN, IMAGENET_STD, ImageSource, train_loop
    from fairsuite.train._model import TrainedModel
    from fairsuite.train._vision import build_image_model, stem_for

    name, k = dataset.name, len(dataset.classes)
    image_size = int(settings.image_size or 64)
    if settings.pretrained:  # check before any decoding
        build_image_model(settings.model, k, image_size=image_size, pretrained=True)
    n_threads = limit_threads()
    with warnings.catch_warnings():  # fit warns below, with the dataset's name
        warnings.simplefilter("ignore", DataFairnessWarning)
        cache = build_image_cache(
            rows.frame["path"].astype(str).tolist(), image_size=image_size, progress=progress
        )
    if cache.n_failed:
        rows.excluded["image failed to decode"] = cache.n_failed
        rows.frame = rows.frame.loc[cache.ok]
    images = np.ascontiguousarray(cache.array[cache.ok])
    _check_two_classes(dataset, rows.frame["y"])
    is_val, keep, validation = _validation_split(rows, val_fraction, random_state)
    if not keep.all():
        images = np.ascontiguousarray(images[keep])
    n_val = int(is_val.sum())
    y, w = _arrays(rows)
    config = _base_config(
        dataset,
        rows,
        settings,
        is_val=is_val,
        val_fraction=val_fraction,
        patience=patience,
        random_state=random_state,
        threads=n_threads,
        validation=validation,
    )
    if rows.excluded.get("image failed to decode"):
        warnings.warn(
            f"{rows.excluded['image failed to decode']} training image(s) of dataset {name!r} "
            "could not be decoded and were left out of training "
            "(TrainedModel.config['excluded']).",
            DataFairnessWarning,
            stacklevel=3,
        )
    dev = torch.device(settings.device)
    torch.manual_seed(random_state)
    net = build_image_model(
        settings.model, k, image_size=image_size, pretrained=settings.pretrained
    )
    net = net.to(dev).to(memory_format=torch.channels_last)
    all_img = torch.from_numpy(images).to(dev)
    fit_idx = torch.from_numpy(np.flatnonzero(~is_val)).to(dev)
    val_idx = torch.from_numpy(np.flatnonzero(is_val)).to(dev)
    # Rows an intervention marked ``augment`` (oversampled copies) also get colour jitter.
    jitter = (
        torch.from_numpy(rows.frame["augment"].to_numpy(dtype=bool)).to(dev)[fit_idx]
        if "augment" in rows.frame.columns
        else None
    )
    src_fit = ImageSource(all_img[fit_idx], jitter=jitter)
    src_val = ImageSource(all_img[val_idx]) if n_val else None
    del all_img
    yt = torch.from_numpy(y).to(dev)
    wt = torch.from_numpy(w).float().to(dev) if w is not None else None
    res = train_loop(
        net,
        src_fit,
        yt[fit_idx],
        wt[fit_idx] if wt is not None else None,
        src_val,
        yt[val_idx] if n_val else None,
        **_loop_options(settings, dev, patience, random_state, progress, unit="image"),
    )
    config.update(
        {
            "image_size": image_size,
            "pretrained": settings.pretrained,
            "stem": stem_for(settings.model, image_size, settings.pretrained),
            "normalization": {"mean": list(IMAGENET_MEAN), "std": list(IMAGENET_STD)},
            "augmentation": {"random_crop_padding": 4, "horizontal_flip": True},
            **_optim_record(settings, res),
        }
    )
    return TrainedModel(
        config=config,
        history=res.history,
        best_epoch=res.best_epoch,
        device=str(dev),
        estimator=net,
    )


def _fit_tabular(
    dataset: Dataset,
    rows: _TrainRows,
    settings: TrainSettings,
    *,
    val_fraction: float,
    patience: int,
    random_state: int,
    progress: bool,
) -> TrainedModel:
    """One preprocessing step, then scikit-learn (logreg, hgb) or the torch MLP."""
    import numpy as np

    from fairsuite.train._model import TrainedModel
    from fairsuite.train._tabular import Preprocessor, fit_hgb, fit_logreg

    _check_two_classes(dataset, rows.frame["y"])
    k = len(dataset.classes)
    is_val, _, validation = _validation_split(rows, val_fraction, random_state)
    n_val = int(is_val.sum())
    fit_rows, val_rows = ~is_val, is_val
    y, w = _arrays(rows)
    threads = None
    if settings.model == "mlp":
        from fairsuite.train._device import limit_threads

        threads = limit_threads()
    config = _base_config(
        dataset,
        rows,
        settings,
        is_val=is_val,
        val_fraction=val_fraction,
        patience=patience,
        random_state=random_state,
        threads=threads,
        validation=validation,
    )
    features = tuple(dataset.features)
    w_fit = w[fit_rows] if w is not None else None
    prep = Preprocessor.fit(rows.frame.loc[fit_rows], features, w_fit)
    x_all = prep.transform(rows.frame)
    x_fit, y_fit = x_all[fit_rows], y[fit_rows]
    x_val, y_val = x_all[val_rows], y[val_rows]
    config.update({"features": list(features), "n_inputs": prep.n_outputs})
    if settings.model == "mlp":
        return _fit_mlp(
            config,
            prep,
            settings,
            x_fit,
            y_fit,
            w_fit,
            x_val,
            y_val,
            n_val,
            k,
            patience=patience,
            random_state=random_state,
            progress=progress,
        )
    t0 = time.perf_counter()
    est: Any
    if settings.model == "logreg":
        est = fit_logreg(x_fit, y_fit, w_fit, random_state=random_state, n_classes=k)
        proba_fit = est.predict_proba(x_fit)
        proba_val = est.predict_proba(x_val) if n_val else None
    else:
        from fairsuite.train._tabular import hgb_proba

        est = fit_hgb(x_fit, y_fit, w_fit, random_state=random_state)
        proba_fit = hgb_proba(est, x_fit, k)
        proba_val = hgb_proba(est, x_val, k) if n_val else None
    seconds = time.perf_counter() - t0
    p_true = np.clip(proba_fit[np.arange(len(y_fit)), y_fit], 1e-15, 1.0)
    loss = float(np.average(-np.log(p_true), weights=w_fit))
    val_acc = (
        float((proba_val.argmax(1) == y_val).mean()) if proba_val is not None else float("nan")
    )
    history = [
        {
            "epoch": 1,
            "loss": loss,
            "val_accuracy": val_acc,
            "rows_per_s": len(y_fit) / seconds,
            "seconds": seconds,
        }
    ]
    config.update(
        {"precision": "fp64", "inference_precision": "fp64", "best_val_accuracy": val_acc}
    )
    if settings.model == "hgb":
        config["hgb"] = {"max_iter": 200, "learning_rate": 0.1, "early_stopping": False}
    else:
        config["logreg"] = {"C": 1.0, "solver": "lbfgs"}
    return TrainedModel(
        config=config,
        history=history,
        best_epoch=1,
        device="cpu",
        estimator=est,
        preprocessor=prep,
    )


def _fit_mlp(
    config: dict[str, Any],
    prep: Any,
    settings: TrainSettings,
    x_fit: np.ndarray,
    y_fit: np.ndarray,
    w_fit: np.ndarray | None,
    x_val: np.ndarray,
    y_val: np.ndarray,
    n_val: int,
    k: int,
    *,
    patience: int,
    random_state: int,
    progress: bool,
) -> TrainedModel:
    """The torch MLP on the preprocessed features."""
    import torch

    from fairsuite.train._engine import TensorSource, train_loop
    from fairsuite.train._model import TrainedModel
    from fairsuite.train._tabular import make_mlp

    dev = torch.device(settings.device)
    torch.manual_seed(random_state)
    hidden = (128, 64)
    net = make_mlp(prep.n_outputs, k, hidden).to(dev)
    res = train_loop(
        net,
        TensorSource(torch.from_numpy(x_fit).to(dev)),
        torch.from_numpy(y_fit).to(dev),
        torch.from_numpy(w_fit).float().to(dev) if w_fit is not None else None,
        TensorSource(torch.from_numpy(x_val).to(dev)) if n_val else None,
        torch.from_numpy(y_val).to(dev) if n_val else None,
        **_loop_options(settings, dev, patience, random_state, progress, unit="row"),
    )
    config.update({"hidden": list(hidden), **_optim_record(settings, res)})
    return TrainedModel(
        config=config,
        history=res.history,
        best_epoch=res.best_epoch,
        device=str(dev),
        estimator=net,
        preprocessor=prep,
    )
