"""Audit specs: the options of one audit as reviewable, reproducible data.

A spec is what ``fairsuite audit`` takes on the command line, written down as YAML and checked in
under ``audits/``. The CLI and the YAML file fill the same :class:`AuditSpec`, so an audit run from
a spec and one run from flags cannot differ. Unknown keys and bad values are errors naming the
key, the allowed values and what was received.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from fairsuite.exceptions import GateConfigError, InvalidInputError

__all__ = [
    "AuditSpec",
    "load_spec",
    "load_compare_spec",
    "DEFAULT_DATASET",
    "MODELS",
    "DEVICES",
    "PRECISIONS",
]

DEFAULT_DATASET = "synthfaces"
MODELS = ("auto", "small_cnn", "resnet18", "resnet34", "resnet50", "logreg", "hgb", "mlp")
IMAGE_MODELS = ("small_cnn", "resnet18", "resnet34", "resnet50")
TABULAR_MODELS = ("logreg", "hgb", "mlp")
DEVICES = ("auto", "cpu", "cuda", "mps")
PRECISIONS = ("auto", "fp32", "bf16", "fp16")

_UNKNOWN_KEY = (
    "{source}: unknown key {key!r}. Allowed keys: {allowed}. Fix the spelling or remove the key."
)
_BAD_VALUE = "{source}: {key!r} must be {allowed}; got {value!r}."
_NOT_A_MAPPING = "{source}: an audit spec must be a YAML mapping of option: value; got {kind}."
_SPEC_NOT_FOUND = (
    "audit spec {path} does not exist. Pass a dataset name with --dataset, or a YAML file."
)
_BAD_YAML = "{path}: not valid YAML ({err}). See audits/ for examples."


@dataclass(frozen=True)
class AuditSpec:
    """Everything that defines one audit run. ``None`` or ``"auto"`` means: chosen for the device.

    Attributes
    ----------
    dataset : str
        A dataset card name (``fairface``, ``utkface``, ``adult``, ``compas``, ``synthfaces``) or
        the path of a CSV/Parquet file.
    task : str | None
        Target to predict; ``None`` uses the dataset card's default task.
    sensitive : tuple[str, ...]
        Sensitive attributes to break errors down by; empty uses the card's default.
    target, positive_label : str | None
        For CSV/Parquet files only: the target column and its positive value.
    model : str
        One of :data:`MODELS`; ``auto`` picks a small CNN on a CPU and resnet18 on a GPU for
        images, histogram gradient boosting for tables.
    image_size : int | None
        Square input size for image models (``None``: 64 on a CPU, 112 on a GPU).
    epochs : int | None
        Training epochs for neural models (``None``: sized for the device).
    batch_size : int | None
        Mini-batch size (``None``: the trainer's default).
    max_train_rows : int | None
        Cap on training rows (a stratified subsample), for quick runs.
    device, precision : str
        ``auto`` picks cuda, then mps, then cpu; fp32 unless the device supports better.
    seed : int
        Random state for splits, subsampling, training and the bootstrap.
    min_group_size : int
        Groups with fewer test rows are reported but left out of disparity summaries.
    n_boot : int
        Bootstrap replicates for confidence intervals.
    ci : float
        Confidence level of the intervals.
    allow_missing : bool
        Drop (and count) labelled images that are missing on disk instead of failing.
    pretrained : bool
        Start image models from torchvision's ImageNet weights, which must already be in the
        torch hub cache (fairsuite never downloads them); default trains from scratch.
    data_dir : str | None
        Data root; ``None`` uses ``$FAIRSUITE_DATA`` or the user data directory. Not part of the
        config hash (where data lives does not change what is computed; its checksums do).
    """

    dataset: str = DEFAULT_DATASET
    task: str | None = None
    sensitive: tuple[str, ...] = ()
    target: str | None = None
    positive_label: str | None = None
    model: str = "auto"
    image_size: int | None = None
    epochs: int | None = None
    batch_size: int | None = None
    max_train_rows: int | None = None
    device: str = "auto"
    precision: str = "auto"
    seed: int = 0
    min_group_size: int = 30
    n_boot: int = 1000
    ci: float = 0.95
    allow_missing: bool = False
    pretrained: bool = False
    data_dir: str | None = field(default=None, compare=False)

    # -- construction -------------------------------------------------------------------------

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, source: str = "audit spec") -> AuditSpec:
        """Build and validate a spec from plain data (a parsed YAML file or CLI options).

        Raises
        ------
        GateConfigError
            On an unknown key or a value of the wrong type or range (exit code 2).
        """
        if not isinstance(data, dict):
            raise GateConfigError(_NOT_A_MAPPING.format(source=source, kind=type(data).__name__))
        allowed = [f.name for f in fields(cls)]
        for key in data:
            if key not in allowed:
                raise GateConfigError(
                    _UNKNOWN_KEY.format(source=source, key=key, allowed=", ".join(allowed))
                )
        values = dict(data)
        if "sensitive" in values and values["sensitive"] is not None:
            sens = values["sensitive"]
            values["sensitive"] = (sens,) if isinstance(sens, str) else tuple(sens)
        elif "sensitive" in values:
            values["sensitive"] = ()
        spec = cls(**values)
        spec.validate(source=source)
        return spec

    def replace(self, **changes: Any) -> AuditSpec:
        """A copy with ``changes`` applied (``None`` values are ignored) and validated."""
        changes = {k: v for k, v in changes.items() if v is not None}
        if "sensitive" in changes:
            sens = changes["sensitive"]
            changes["sensitive"] = (sens,) if isinstance(sens, str) else tuple(sens)
            if not changes["sensitive"]:
                del changes["sensitive"]
        spec = dataclasses.replace(self, **changes)
        spec.validate(source="options")
        return spec

    def validate(self, *, source: str = "audit spec") -> None:
        """Check every value; raise :class:`GateConfigError` naming the first bad key."""

        def bad(key: str, allowed: str) -> GateConfigError:
            return GateConfigError(
                _BAD_VALUE.format(source=source, key=key, allowed=allowed, value=getattr(self, key))
            )

        if not isinstance(self.dataset, str) or not self.dataset:
            raise bad("dataset", "a dataset name or a CSV/Parquet path")
        for key in ("task", "target", "positive_label", "data_dir"):
            value = getattr(self, key)
            if value is not None and not isinstance(value, (str, int)):
                raise bad(key, "a string")
        if not all(isinstance(s, str) and s for s in self.sensitive):
            raise bad("sensitive", "a list of column names")
        if self.model not in MODELS:
            raise bad("model", "one of " + ", ".join(MODELS))
        if self.device not in DEVICES:
            raise bad("device", "one of " + ", ".join(DEVICES))
        if self.precision not in PRECISIONS:
            raise bad("precision", "one of " + ", ".join(PRECISIONS))
        for key, low in (
            ("image_size", 16),
            ("epochs", 1),
            ("batch_size", 1),
            ("max_train_rows", 10),
        ):
            value = getattr(self, key)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or value < low
            ):
                raise bad(key, f"an integer >= {low} (or omitted for the default)")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise bad("seed", "an integer >= 0")
        if (
            isinstance(self.min_group_size, bool)
            or not isinstance(self.min_group_size, int)
            or self.min_group_size < 1
        ):
            raise bad("min_group_size", "an integer >= 1")
        if isinstance(self.n_boot, bool) or not isinstance(self.n_boot, int) or self.n_boot < 0:
            raise bad("n_boot", "an integer >= 0 (0 turns intervals off)")
        if (
            isinstance(self.ci, bool)
            or not isinstance(self.ci, (int, float))
            or not 0 < self.ci < 1
        ):
            raise bad("ci", "a number strictly between 0 and 1, e.g. 0.95")
        for key in ("allow_missing", "pretrained"):
            if not isinstance(getattr(self, key), bool):
                raise bad(key, "true or false")

    # -- serialisation ------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Plain data (lists, not tuples), in field order."""
        out = dataclasses.asdict(self)
        out["sensitive"] = list(self.sensitive)
        return out

    def config_hash(self, **resolved: Any) -> str:
        """sha256 of the spec plus resolved defaults, without ``data_dir``; keys runs."""
        data = self.to_dict()
        data.pop("data_dir", None)
        data.update(resolved)
        blob = json.dumps(data, sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()


def _read_yaml(path: Path) -> Any:
    import yaml

    if not path.is_file():
        raise InvalidInputError(_SPEC_NOT_FOUND.format(path=path))
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise InvalidInputError(_BAD_YAML.format(path=path, err=first)) from err
    return {} if data is None else data


def _resolve_table_path(name: str, base: Path) -> str:
    from fairsuite.data import is_table_path

    if is_table_path(name) and not Path(name).is_absolute():
        return str((base / name).resolve())
    return name


def load_compare_spec(path: str | os.PathLike[str]) -> tuple[list[str], AuditSpec, int | None]:
    """Read a compare spec: the audit keys plus ``datasets`` (a list) and ``train_size``.

    Returns
    -------
    (names, spec, train_size)
    """
    path = Path(path)
    data = _read_yaml(path)
    if not isinstance(data, dict):
        raise GateConfigError(_NOT_A_MAPPING.format(source=path, kind=type(data).__name__))
    data = dict(data)
    names = data.pop("datasets", None)
    train_size = data.pop("train_size", None)
    if (
        not isinstance(names, list)
        or len(names) < 2
        or not all(isinstance(n, str) and n for n in names)
    ):
        raise GateConfigError(
            _BAD_VALUE.format(
                source=path,
                key="datasets",
                allowed="a list of two or more dataset names",
                value=names,
            )
        )
    if train_size is not None and (
        isinstance(train_size, bool) or not isinstance(train_size, int) or train_size < 10
    ):
        raise GateConfigError(
            _BAD_VALUE.format(
                source=path, key="train_size", allowed="an integer >= 10", value=train_size
            )
        )
    if "dataset" in data:
        raise GateConfigError(
            _UNKNOWN_KEY.format(
                source=path,
                key="dataset",
                allowed="datasets, train_size and the audit keys except dataset",
            )
        )
    spec = AuditSpec.from_dict(data, source=str(path))
    return [_resolve_table_path(n, path.parent) for n in names], spec, train_size


def load_spec(path: str | os.PathLike[str]) -> AuditSpec:
    """Read an audit spec from a YAML file.

    Relative dataset paths in the spec are resolved against the spec file's folder.

    Raises
    ------
    InvalidInputError
        If the file does not exist or is not valid YAML (exit code 3).
    GateConfigError
        If a key is unknown or a value is out of range (exit code 2).
    """
    path = Path(path)
    spec = AuditSpec.from_dict(_read_yaml(path), source=str(path))
    return dataclasses.replace(spec, dataset=_resolve_table_path(spec.dataset, path.parent))
