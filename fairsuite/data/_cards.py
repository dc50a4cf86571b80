"""Dataset cards: one YAML file per dataset, shipped with the package, parsed into DatasetCard."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from fairsuite.exceptions import InvalidInputError

__all__ = [
    "CardFile",
    "AttributeMap",
    "TaskSpec",
    "RowFilter",
    "DatasetCard",
    "get_card",
    "list_datasets",
]

#: Loader formats a card may name (``fairsuite.data._loaders.FORMATS`` maps them to loaders).
FORMATS = ("fairface_csv", "utkface_filenames", "uci_adult", "table_csv", "synthetic")
_FILTER_OPS = ("between", "not_equal", "not_in")

_UNKNOWN_DATASET = (
    "unknown dataset {name!r}: known datasets are {known}; for your own CSV or Parquet file "
    "pass its path"
)
_CARD_NOT_A_MAPPING = "dataset card {path}: expected a YAML mapping at the top level, got {type}"
_CARD_MISSING_KEYS = (
    "dataset card {path}: missing required keys {missing}; add them (see datasets/fairface.yaml "
    "for the layout)"
)
_CARD_BAD_VALUE = "dataset card {path}: key {key!r} is {value!r}; allowed: {allowed}"
_CARD_BAD_YAML = "dataset card {path}: not valid YAML ({err}); fix the file"

_REQUIRED = (
    "name",
    "title",
    "kind",
    "format",
    "description",
    "get_data",
    "license",
    "citation",
    "layout",
    "files",
    "native_schema",
    "taxonomy",
    "tasks",
    "default_task",
    "sensitive",
    "known_issues",
)


@dataclass(frozen=True)
class CardFile:
    """One expected file or folder of a dataset, relative to ``<data root>/<name>/``.

    ``url`` is where ``fairsuite datasets download`` fetches a file (checked against ``sha256``);
    for an image folder, ``pattern`` is the glob its images match (``*.jpg.chip.jpg``) and
    ``count`` how many images the published release holds.
    """

    path: str
    role: str
    split: str | None = None
    rows: int | None = None
    sha256: str | None = None
    md5: str | None = None
    size: int | None = None
    required: bool = True
    url: str | None = None
    pattern: str | None = None
    count: int | None = None


@dataclass(frozen=True)
class AttributeMap:
    """How one harmonised attribute is derived from a native column (a value map or age bins)."""

    name: str
    source: str
    mapping: dict[str, str] = field(default_factory=dict)
    bins: tuple[tuple[int, int, str], ...] = ()

    @property
    def allowed(self) -> tuple[str, ...]:
        """Native values this map accepts (empty for binned integer attributes)."""
        return tuple(self.mapping)

    @property
    def groups(self) -> tuple[str, ...]:
        """Harmonised values in card order, without repeats."""
        labels = [b[2] for b in self.bins] if self.bins else list(self.mapping.values())
        return tuple(dict.fromkeys(labels))


@dataclass(frozen=True)
class TaskSpec:
    """A prediction task: the column it reads and its classes (code i is ``classes[i]``)."""

    name: str
    column: str
    classes: tuple[str, ...]


@dataclass(frozen=True)
class RowFilter:
    """A row filter a loader applies (rows failing it are dropped and counted under ``reason``):
    ``op`` is ``between`` (``value`` = [low, high], inclusive), ``not_equal`` or ``not_in``."""

    column: str
    op: str
    value: Any
    reason: str


@dataclass(frozen=True)
class DatasetCard:
    """A parsed, validated dataset card (``datasets/<name>.yaml``).

    Attributes mirror the YAML keys: what the dataset is, where to get it, its licence and
    citation, the files and layout fairsuite expects under ``<data root>/<name>/``, the native
    label schema, the mapping onto the shared taxonomy (``taxonomy``), the tasks with their
    classes, the default task and sensitive attributes, the feature columns (tabular), and the
    known issues. ``raw`` keeps the whole YAML mapping.
    """

    name: str
    title: str
    kind: Literal["image", "tabular"]
    format: str
    description: str
    get_data: str
    license: str
    citation: str
    layout: str
    files: tuple[CardFile, ...]
    native_schema: dict[str, Any]
    taxonomy: dict[str, AttributeMap]
    tasks: dict[str, TaskSpec]
    default_task: str
    sensitive: tuple[str, ...]
    features: tuple[str, ...] = ()
    audit_sensitive: tuple[str, ...] = ()
    known_issues: tuple[str, ...] = ()
    homepage: str | None = None
    license_note: str | None = None
    synthetic: bool = False
    stratify: tuple[str, ...] = ()
    filters: tuple[RowFilter, ...] = ()
    id_column: str | None = None
    source: str = ""
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_yaml(cls, path: str | os.PathLike[str]) -> DatasetCard:
        """Read and validate a card file; raises InvalidInputError naming the file and key."""
        import yaml

        path = Path(path)
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as err:
            raise InvalidInputError(_CARD_BAD_YAML.format(path=path, err=err)) from err
        return cls.from_dict(data, source=str(path))

    @classmethod
    def from_dict(cls, data: Any, *, source: str = "<dict>") -> DatasetCard:
        """Validate a card mapping (as read from YAML) and build the card."""
        if not isinstance(data, dict):
            raise InvalidInputError(
                _CARD_NOT_A_MAPPING.format(path=source, type=type(data).__name__)
            )
        missing = [k for k in _REQUIRED if k not in data]
        if missing:
            raise InvalidInputError(_CARD_MISSING_KEYS.format(path=source, missing=missing))

        def bad(key: str, value: Any, allowed: Any) -> InvalidInputError:
            return InvalidInputError(
                _CARD_BAD_VALUE.format(path=source, key=key, value=value, allowed=allowed)
            )

        if data["kind"] not in ("image", "tabular"):
            raise bad("kind", data["kind"], ["image", "tabular"])
        if data["format"] not in FORMATS:
            raise bad("format", data["format"], list(FORMATS))
        filters = []
        for i, f in enumerate(data.get("filters") or []):
            ops = [op for op in _FILTER_OPS if isinstance(f, dict) and op in f]
            if not isinstance(f, dict) or "column" not in f or len(ops) != 1 or "reason" not in f:
                raise bad(
                    f"filters[{i}]", f, f"a mapping with column, reason and one of {_FILTER_OPS}"
                )
            value = f[ops[0]]
            if ops[0] == "between" and (not isinstance(value, list) or len(value) != 2):
                raise bad(f"filters[{i}].between", value, "[low, high]")
            filters.append(RowFilter(str(f["column"]), ops[0], value, str(f["reason"])))
        files = []
        for i, f in enumerate(data["files"] or []):
            if not isinstance(f, dict) or "path" not in f or "role" not in f:
                raise bad(f"files[{i}]", f, "a mapping with at least 'path' and 'role'")
            files.append(
                CardFile(
                    path=str(f["path"]),
                    role=str(f["role"]),
                    split=f.get("split"),
                    rows=f.get("rows"),
                    sha256=f.get("sha256"),
                    md5=f.get("md5"),
                    size=f.get("size"),
                    required=bool(f.get("required", True)),
                    url=f.get("url"),
                    pattern=f.get("pattern"),
                    count=f.get("count"),
                )
            )
        taxonomy: dict[str, AttributeMap] = {}
        for attr, spec in (data["taxonomy"] or {}).items():
            if not isinstance(spec, dict) or "source" not in spec:
                raise bad(f"taxonomy.{attr}", spec, "a mapping with 'source' and 'map' or 'bins'")
            if "map" in spec:
                mapping = {str(k): str(v) for k, v in spec["map"].items()}
                taxonomy[attr] = AttributeMap(
                    name=attr, source=str(spec["source"]), mapping=mapping
                )
            elif "bins" in spec:
                bins = tuple((int(b["min"]), int(b["max"]), str(b["label"])) for b in spec["bins"])
                taxonomy[attr] = AttributeMap(name=attr, source=str(spec["source"]), bins=bins)
            else:
                raise bad(f"taxonomy.{attr}", spec, "a mapping with 'map' or 'bins'")
        tasks: dict[str, TaskSpec] = {}
        for tname, spec in (data["tasks"] or {}).items():
            if not isinstance(spec, dict) or "column" not in spec or "classes" not in spec:
                raise bad(f"tasks.{tname}", spec, "a mapping with 'column' and 'classes'")
            classes = tuple(str(c) for c in spec["classes"])
            if len(classes) < 2 or len(set(classes)) != len(classes):
                raise bad(f"tasks.{tname}.classes", list(classes), "two or more distinct classes")
            tasks[tname] = TaskSpec(name=tname, column=str(spec["column"]), classes=classes)
        if data["default_task"] not in tasks:
            raise bad("default_task", data["default_task"], sorted(tasks))
        sensitive = tuple(str(s) for s in data["sensitive"])
        for s in sensitive:
            if s not in taxonomy:
                raise bad("sensitive", s, sorted(taxonomy))
        audit_sensitive = tuple(str(s) for s in data.get("audit_sensitive") or sensitive)
        for s in audit_sensitive:
            if s not in sensitive:
                raise bad("audit_sensitive", s, list(sensitive))
        stratify = tuple(str(s) for s in data.get("stratify") or ())
        for s in stratify:
            if s not in taxonomy:
                raise bad("stratify", s, sorted(taxonomy))
        return cls(
            name=str(data["name"]),
            title=str(data["title"]),
            kind=data["kind"],
            format=str(data["format"]),
            description=str(data["description"]).strip(),
            get_data=str(data["get_data"]).strip(),
            license=str(data["license"]),
            citation=str(data["citation"]).strip(),
            layout=str(data["layout"]),
            files=tuple(files),
            native_schema=dict(data["native_schema"] or {}),
            taxonomy=taxonomy,
            tasks=tasks,
            default_task=str(data["default_task"]),
            sensitive=sensitive,
            features=tuple(str(f) for f in data.get("features") or ()),
            audit_sensitive=audit_sensitive,
            known_issues=tuple(str(k) for k in data["known_issues"] or ()),
            homepage=data.get("homepage"),
            license_note=data.get("license_note"),
            synthetic=bool(data.get("synthetic", False)),
            stratify=stratify,
            filters=tuple(filters),
            id_column=data.get("id_column"),
            source=source,
            raw=dict(data),
        )

    @property
    def acquire(self) -> Literal["download", "import", "embedded"]:
        """How a user gets the data: ``download``, ``import`` or ``embedded``.

        ``download``: ``fairsuite datasets download NAME``; ``import``: the host needs a browser,
        so the user downloads the archives and runs ``fairsuite datasets import NAME ARCHIVE...``;
        ``embedded``: generated by fairsuite, nothing to get.
        """
        if self.synthetic:
            return "embedded"
        files = [f for f in self.files if f.role != "images"]
        if files and not any(f.role == "images" for f in self.files) and all(f.url for f in files):
            return "download"
        return "import"

    def file(self, path: str) -> CardFile:
        """The card entry for ``path`` (KeyError if the card does not list it)."""
        for f in self.files:
            if f.path == path:
                return f
        raise KeyError(path)

    def to_dict(self) -> dict[str, Any]:
        """The card as plain data (the YAML mapping)."""
        return dict(self.raw)


def _cards_dir() -> Path:
    """Folder holding the shipped cards (package data; ``datasets/`` in a source checkout)."""
    shipped = Path(str(resources.files("fairsuite.data").joinpath("cards")))
    if shipped.is_dir():
        return shipped
    return Path(__file__).resolve().parents[2] / "datasets"  # pragma: no cover - source fallback


_CACHE: dict[str, DatasetCard] = {}


def list_datasets() -> list[str]:
    """Names of the datasets fairsuite has cards for, sorted."""
    return sorted(p.stem for p in _cards_dir().glob("*.yaml"))


def get_card(name: str) -> DatasetCard:
    """Return the card of dataset ``name``.

    Raises
    ------
    InvalidInputError
        If no card of that name ships with fairsuite (the message lists the known names).
    """
    if name in _CACHE:
        return _CACHE[name]
    path = _cards_dir() / f"{name}.yaml"
    if not path.is_file():
        raise InvalidInputError(
            _UNKNOWN_DATASET.format(name=name, known=", ".join(list_datasets()))
        )
    card = DatasetCard.from_yaml(path)
    _CACHE[name] = card
    return card
