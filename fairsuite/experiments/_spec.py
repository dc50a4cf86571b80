"""``RunSpec``: the options of one run as frozen, typed, validated data.

A run spec is what ``fairsuite audit`` takes on the command line, what an audit spec file under
``audits/`` holds, and what the library's keywords build (``fairsuite.audit(dataset="adult",
model="logreg")``). All three go through :meth:`RunSpec.from_dict`, and every option is declared
once, as a field with its metadata (help text, allowed values, command-line flag): the YAML keys,
the CLI options (:func:`fairsuite.cli._common.spec_options`) and the validation are derived from
the fields, so adding a setting is one edit. The spec's config hash is the run's identity.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, NamedTuple

from fairsuite.exceptions import InvalidInputError, SpecError

__all__ = [
    "RunSpec",
    "AuditSpec",
    "Option",
    "spec_fields",
    "load_spec",
    "load_compare_spec",
    "CompareSpec",
    "DEFAULT_DATASET",
    "MODELS",
    "DEVICES",
    "PRECISIONS",
    "IMAGE_MODELS",
    "TABULAR_MODELS",
]

DEFAULT_DATASET = "synthfaces"
MODELS = ("auto", "small_cnn", "resnet18", "resnet34", "resnet50", "logreg", "hgb", "mlp")
IMAGE_MODELS = ("small_cnn", "resnet18", "resnet34", "resnet50")
TABULAR_MODELS = ("logreg", "hgb", "mlp")
DEVICES = ("auto", "cpu", "cuda", "mps")
#: The interventions (fairsuite.interventions): data-side, then fairlearn's mitigations.
INTERVENTIONS = ("reweigh", "oversample", "undersample", "synth", "augment", "threshold", "expgrad")
SYNTHESIZERS = ("gaussian_copula", "ctgan")
CONSTRAINTS = ("demographic_parity", "equalized_odds")
PRECISIONS = ("auto", "fp32", "bf16", "fp16")

_UNKNOWN_KEY = (
    "{source}: unknown key {key!r}. Allowed keys: {allowed}. Fix the spelling or remove the key."
)
_BAD_VALUE = "{source}: {key!r} must be {allowed}; got {value!r}."
_NOT_A_MAPPING = "{source}: a run spec must be a YAML mapping of option: value; got {kind}."
_SPEC_NOT_FOUND = (
    "audit spec {path} does not exist. Pass a dataset name with --dataset, or a YAML file."
)
_BAD_YAML = "{path}: not valid YAML ({err}). See audits/ for examples."


@dataclass(frozen=True)
class Option:
    """How one RunSpec field is checked and offered on the command line.

    ``kind`` is one of ``"str"``, ``"int"``, ``"float01"`` (strictly between 0 and 1),
    ``"choice"``, ``"bool"``, ``"names"`` (a list of column names), ``"mapping"`` or
    ``"balance"`` (a strategy name, a YAML file read into its mapping, or a mapping);
    ``low`` is the minimum of an ``"int"``; ``choices`` the values of a ``"choice"``.
    ``cli`` is False for fields without a flag; ``hashed`` is False for fields that do not
    change what is computed (where the data lives). ``group`` orders the ``--help`` text.
    """

    help: str
    kind: str
    group: str
    low: int | None = None
    choices: tuple[str, ...] = ()
    cli: bool = True
    hashed: bool = True
    nullable: bool = True

    def allowed(self) -> str:
        """The allowed values in words (used in error messages)."""
        if self.kind == "int":
            text = f"an integer >= {self.low}"
        elif self.kind == "float01":
            text = "a number strictly between 0 and 1, e.g. 0.95"
        elif self.kind == "choice":
            text = "one of " + ", ".join(self.choices)
        elif self.kind == "bool":
            return "true or false"
        elif self.kind == "names":
            return "a list of column names"
        elif self.kind == "mapping":
            text = "a mapping"
        elif self.kind == "balance":
            text = "uniform, parity, natural, a YAML file or a mapping group: share"
        else:
            text = "a string"
        return text + (" (or omitted for the default)" if self.nullable else "")


def _f(default: Any, option: Option, **kw: Any) -> Any:
    return field(default=default, metadata={"option": option}, **kw)


@dataclass(frozen=True)
class RunSpec:
    """Everything that defines one run. ``None`` or ``"auto"``: chosen for the data and device.

    Each field's metadata (:class:`Option`) holds its help text and allowed values; see
    ``fairsuite audit --help`` or :func:`spec_fields`.
    """

    dataset: str = _f(
        DEFAULT_DATASET,
        Option(
            "Dataset card name (fairface, utkface, adult, compas, synthfaces) or a CSV/Parquet "
            "path.",
            "str",
            "data",
            cli=False,
            nullable=False,
        ),
    )
    dataset_options: Mapping[str, Any] | None = _f(
        None,
        Option(
            "Options of the dataset's loader, in a spec file (synthfaces: n, proportions, "
            "difficulty, image_size).",
            "mapping",
            "data",
            cli=False,
        ),
    )
    task: str | None = _f(
        None,
        Option("Target to predict, one of the card's tasks (default: the card's).", "str", "data"),
    )
    target: str | None = _f(None, Option("CSV/Parquet: the column to predict.", "str", "data"))
    positive_label: str | None = _f(
        None,
        Option("CSV/Parquet: the target value that is the positive class (code 1).", "str", "data"),
    )
    sensitive: tuple[str, ...] = _f(
        (),
        Option(
            "A sensitive attribute to break errors down by (repeat for several; default: the "
            "card's audit attributes).",
            "names",
            "data",
        ),
    )
    data_dir: str | None = _f(
        None,
        Option(
            "Data root holding <name>/ folders. Default: $FAIRSUITE_DATA, else the user data dir.",
            "str",
            "data",
            hashed=False,
        ),
        compare=False,
    )
    allow_missing: bool = _f(
        False,
        Option(
            "Drop (and count) labelled images that are missing or not valid images.",
            "bool",
            "data",
            nullable=False,
        ),
    )
    strict_data: bool = _f(
        False,
        Option(
            "Fail (exit 3) when a data file's checksum differs from the card's, instead of "
            "recording the mismatch.",
            "bool",
            "data",
            nullable=False,
        ),
    )
    intervention: str | None = _f(
        None,
        Option(
            "Change the training split before training (the test split stays untouched): "
            "reweigh, oversample, undersample, synth (SDV synthetic rows, tables), augment "
            "(oversampling with transforms, images); or mitigate the model with fairlearn: "
            "threshold (ThresholdOptimizer), expgrad (ExponentiatedGradient, --model logreg).",
            "choice",
            "data",
            choices=INTERVENTIONS,
        ),
    )
    balance: str | Mapping[str, Any] | None = _f(
        None,
        Option(
            "Target composition of --intervention: uniform (equal group sizes), parity (equal "
            "base rates in every group), natural, or FILE.yaml (group: share). Default: parity "
            "for reweigh and synth, uniform otherwise.",
            "balance",
            "data",
        ),
    )
    balance_by: tuple[str, ...] = _f(
        (),
        Option(
            "Sensitive attribute whose groups --intervention balances (repeat for their "
            "intersection; default: the first audited attribute).",
            "names",
            "data",
        ),
    )
    synthesizer: str | None = _f(
        None,
        Option(
            "SDV synthesizer of --intervention synth: gaussian_copula (default) or ctgan.",
            "choice",
            "data",
            choices=SYNTHESIZERS,
        ),
    )
    constraint: str | None = _f(
        None,
        Option(
            "Fairness constraint of --intervention threshold/expgrad: demographic_parity "
            "(default) or equalized_odds.",
            "choice",
            "data",
            choices=CONSTRAINTS,
        ),
    )
    train_size: int | None = _f(
        None,
        Option(
            "Train on exactly this many rows of the training split: a nested subsample at "
            "--composition (for one seed and composition, a smaller size's rows are a subset of "
            "a larger's). A size a group x label cell cannot fill is an error naming the cell.",
            "int",
            "data",
            low=10,
        ),
    )
    composition: str | Mapping[str, Any] | None = _f(
        None,
        Option(
            "Composition of the --train-size subsample over --composition-by: natural "
            "(default), uniform, parity, GROUP=SHARE (one group's share, the others in their "
            "natural proportions), or FILE.yaml (group: share). Without --train-size: the "
            "largest subsample the training rows allow at that composition.",
            "balance",
            "data",
        ),
    )
    composition_by: tuple[str, ...] = _f(
        (),
        Option(
            "Sensitive attribute --composition is over (repeat for an intersection; default: "
            "--balance-by, else the first audited attribute).",
            "names",
            "data",
        ),
    )
    model: str = _f(
        "auto",
        Option(
            "Classifier. auto: small CNN on CPU, resnet18 on GPU, boosting for tables.",
            "choice",
            "training",
            choices=MODELS,
            nullable=False,
        ),
    )
    image_size: int | None = _f(None, Option("Image side in pixels.", "int", "training", low=16))
    epochs: int | None = _f(None, Option("Training epochs.", "int", "training", low=1))
    batch_size: int | None = _f(None, Option("Mini-batch size.", "int", "training", low=2))
    max_train_rows: int | None = _f(
        None,
        Option(
            "Cap training rows (stratified by group x label) for quick runs.",
            "int",
            "training",
            low=10,
        ),
    )
    device: str = _f(
        "auto",
        Option("cuda, mps, cpu or auto.", "choice", "training", choices=DEVICES, nullable=False),
    )
    precision: str = _f(
        "auto",
        Option(
            "Training precision (auto: bf16/fp16 autocast on GPU, fp32 on CPU).",
            "choice",
            "training",
            choices=PRECISIONS,
            nullable=False,
        ),
    )
    pretrained: bool = _f(
        False,
        Option(
            "Start from torchvision's ImageNet weights (must be in the torch hub cache).",
            "bool",
            "training",
            nullable=False,
        ),
    )
    seed: int = _f(
        0,
        Option(
            "Random seed for splits, subsampling and training. [default: 0]",
            "int",
            "evaluation",
            low=0,
            nullable=False,
        ),
    )
    min_group_size: int = _f(
        30,
        Option(
            "Groups with fewer test rows are reported but not compared. [default: 30]",
            "int",
            "evaluation",
            low=1,
            nullable=False,
        ),
    )
    n_boot: int = _f(
        1000,
        Option(
            "Unused (recorded only): every interval, AUC included, is closed-form. [default: 1000]",
            "int",
            "evaluation",
            low=0,
            nullable=False,
        ),
    )
    ci: float = _f(
        0.95,
        Option("Confidence level. [default: 0.95]", "float01", "evaluation", nullable=False),
    )

    # -- construction -------------------------------------------------------------------------

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "run spec") -> RunSpec:
        """Build and validate a spec from plain data (a parsed YAML file, CLI options, keywords).

        Raises
        ------
        SpecError
            On an unknown key or a value of the wrong type or range (exit code 2).
        """
        if not isinstance(data, Mapping):
            raise SpecError(_NOT_A_MAPPING.format(source=source, kind=type(data).__name__))
        allowed = [f.name for f in fields(cls)]
        for key in data:
            if key not in allowed:
                raise SpecError(
                    _UNKNOWN_KEY.format(source=source, key=key, allowed=", ".join(allowed))
                )
        spec = cls(**_normalise(dict(data)))
        spec.validate(source=source)
        return spec

    def replace(self, **changes: Any) -> RunSpec:
        """A copy with ``changes`` applied (``None`` values and empty lists are ignored)."""
        changes = {
            k: v
            for k, v in changes.items()
            if v is not None
            and not (k in ("sensitive", "balance_by", "composition_by") and not v)
        }
        spec = dataclasses.replace(self, **_normalise(changes))
        spec.validate(source="options")
        return spec

    def validate(self, *, source: str = "run spec") -> None:
        """Check every value against its field's :class:`Option`; raise :class:`SpecError`
        naming the first bad key, what it allows and what it got."""
        for f in fields(self):
            opt: Option = f.metadata["option"]
            value = getattr(self, f.name)
            if value is None and opt.nullable:
                continue
            if not _valid(opt, value):
                raise SpecError(
                    _BAD_VALUE.format(source=source, key=f.name, allowed=opt.allowed(), value=value)
                )
        from fairsuite.interventions._apply import check_spec_fields
        from fairsuite.interventions._strategy import check_balance_shape

        check_balance_shape(self.balance, source=source)
        check_balance_shape(self.composition, source=source, allow_one_group=True)
        check_spec_fields(self, source=source)

    # -- serialisation ------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Plain data (lists, not tuples), in field order."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["sensitive"] = list(self.sensitive)
        out["balance_by"] = list(self.balance_by)
        out["composition_by"] = list(self.composition_by)
        if isinstance(self.balance, Mapping):
            out["balance"] = _plain(self.balance)
        if isinstance(self.composition, Mapping):
            out["composition"] = _plain(self.composition)
        if isinstance(self.dataset_options, Mapping):
            out["dataset_options"] = _plain(self.dataset_options)
        return out

    def config_hash(self, **resolved: Any) -> str:
        """sha256 of the spec plus its resolved settings, without fields that do not change
        what is computed (``data_dir``); the run's identity."""
        data = {
            k: v
            for k, v in self.to_dict().items()
            if _option(k).hashed and not (k in _UNSET_UNHASHED and v in (None, []))
        }
        data.update(resolved)
        blob = json.dumps(data, sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()


#: Intervention settings left out of the hash while unset, so a run without an intervention
#: keeps the identity it had before they existed.
_UNSET_UNHASHED = (
    "dataset_options",
    "balance",
    "balance_by",
    "synthesizer",
    "constraint",
    "train_size",
    "composition",
    "composition_by",
)

#: Earlier name of :class:`RunSpec` (an audit is one run).
AuditSpec = RunSpec


def _option(name: str) -> Option:
    return RunSpec.__dataclass_fields__[name].metadata["option"]


def spec_fields(*, cli_only: bool = False) -> list[tuple[str, Option, Any]]:
    """``(name, option, default)`` of every RunSpec field, in declaration order."""
    out = []
    for f in fields(RunSpec):
        opt: Option = f.metadata["option"]
        if cli_only and not opt.cli:
            continue
        out.append((f.name, opt, f.default))
    return out


def _normalise(values: dict[str, Any]) -> dict[str, Any]:
    for key in ("sensitive", "balance_by", "composition_by"):
        if key in values:
            sens = values[key]
            if sens is None:
                values[key] = ()
            elif isinstance(sens, str):
                values[key] = (sens,)
            elif isinstance(sens, (list, tuple)):
                values[key] = tuple(sens)
    for key in ("balance", "composition"):
        value = values.get(key)
        if isinstance(value, str) and value.lower().endswith((".yaml", ".yml")):
            values[key] = _read_balance(Path(value))
    return values


_BALANCE_NOT_MAPPING = (
    "{path}: a --balance file must be a YAML mapping group: share (shares summing to 1), or "
    "group: {{label: share}}; got {kind}."
)


def _read_balance(path: Path) -> Mapping[str, Any]:
    """A ``--balance FILE.yaml``: read into the mapping it holds (the spec keeps the content,
    so the config hash follows the composition, not the file name)."""
    data = _read_yaml(path)
    if not isinstance(data, Mapping) or not data:
        raise SpecError(_BALANCE_NOT_MAPPING.format(path=path, kind=type(data).__name__))
    return _plain(data)


def _plain(mapping: Mapping[str, Any]) -> dict[str, Any]:
    """A (nested) mapping as plain dicts with string keys."""
    return {
        str(k): _plain(v) if isinstance(v, Mapping) else v for k, v in mapping.items()
    }


def _valid(opt: Option, value: Any) -> bool:
    if opt.kind == "str":
        return isinstance(value, (str, int)) and not isinstance(value, bool) and value != ""
    if opt.kind == "int":
        return (
            isinstance(value, int)
            and not isinstance(value, bool)
            and (opt.low is None or value >= opt.low)
        )
    if opt.kind == "float01":
        return isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value < 1
    if opt.kind == "choice":
        return value in opt.choices
    if opt.kind == "bool":
        return isinstance(value, bool)
    if opt.kind == "names":
        return isinstance(value, tuple) and all(isinstance(s, str) and s for s in value)
    if opt.kind == "mapping":
        return isinstance(value, Mapping)
    if opt.kind == "balance":
        return (isinstance(value, str) and value != "") or isinstance(value, Mapping)
    return False  # pragma: no cover - every kind is listed above


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


class CompareSpec(NamedTuple):
    """A compare spec file: the datasets, the settings every model shares, the training size,
    and where the models train (``executor``, ``jobs``: not part of the configuration)."""

    names: list[str]
    spec: RunSpec
    train_size: int | None = None
    executor: str | None = None
    jobs: int | None = None


def load_compare_spec(path: str | os.PathLike[str]) -> CompareSpec:
    """Read a compare spec: the run keys plus ``datasets`` (a list), ``train_size``, and
    optionally ``executor`` (serial, local, ray) and ``jobs``."""
    path = Path(path)
    data = _read_yaml(path)
    if not isinstance(data, dict):
        raise SpecError(_NOT_A_MAPPING.format(source=path, kind=type(data).__name__))
    data = dict(data)
    names = data.pop("datasets", None)
    train_size = data.pop("train_size", None)
    executor = data.pop("executor", None)
    jobs = data.pop("jobs", None)
    from fairsuite.experiments._executors import EXECUTORS

    if executor is not None and executor not in EXECUTORS:
        raise SpecError(
            _BAD_VALUE.format(source=path, key="executor", allowed=" or ".join(EXECUTORS),
                              value=executor)
        )
    if jobs is not None and (isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1):
        raise SpecError(
            _BAD_VALUE.format(source=path, key="jobs", allowed="an integer >= 1", value=jobs)
        )
    if (
        not isinstance(names, list)
        or len(names) < 2
        or not all(isinstance(n, str) and n for n in names)
    ):
        raise SpecError(
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
        raise SpecError(
            _BAD_VALUE.format(
                source=path, key="train_size", allowed="an integer >= 10", value=train_size
            )
        )
    if "dataset" in data:
        raise SpecError(
            _UNKNOWN_KEY.format(
                source=path,
                key="dataset",
                allowed="datasets, train_size, executor, jobs and the run keys except dataset",
            )
        )
    spec = RunSpec.from_dict(data, source=str(path))
    return CompareSpec(
        [_resolve_table_path(n, path.parent) for n in names], spec, train_size, executor, jobs
    )


def load_spec(path: str | os.PathLike[str]) -> RunSpec:
    """Read a run spec from a YAML file.

    Relative dataset paths in the spec are resolved against the spec file's folder.

    Raises
    ------
    InvalidInputError
        If the file does not exist or is not valid YAML (exit code 3).
    SpecError
        If a key is unknown or a value is out of range (exit code 2).
    """
    path = Path(path)
    data = _read_yaml(path)
    balance = data.get("balance") if isinstance(data, dict) else None
    if (
        isinstance(balance, str)
        and balance.lower().endswith((".yaml", ".yml"))
        and not Path(balance).is_absolute()
    ):
        data = {**data, "balance": str(path.parent / balance)}
    spec = RunSpec.from_dict(data, source=str(path))
    return dataclasses.replace(spec, dataset=_resolve_table_path(spec.dataset, path.parent))
