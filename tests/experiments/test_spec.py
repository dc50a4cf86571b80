"""Audit specs: the shipped specs parse, unknown keys and bad values are clear errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fairsuite.exceptions import ExitCode, InvalidInputError, SpecError
from fairsuite.experiments import AuditSpec, load_spec
from fairsuite.experiments._spec import _UNKNOWN_KEY, load_compare_spec

AUDITS = Path(__file__).resolve().parents[2] / "audits"


@pytest.mark.parametrize(
    "path",
    # audits/ also holds compare specs (a-vs-b), gate policies (policy-*, tests/gate) and
    # sweep specs (sweep-*, below)
    sorted(p for p in AUDITS.glob("*.yaml") if "-vs-" not in p.name
           and not p.name.startswith(("policy-", "sweep-"))),
)
def test_shipped_audit_specs_parse(path: Path) -> None:
    spec = load_spec(path)
    assert spec.dataset in {"fairface", "utkface", "adult", "compas", "synthfaces"}
    assert spec.sensitive, f"{path.name} names no sensitive attribute"


@pytest.mark.parametrize("path", sorted(AUDITS.glob("sweep-*.yaml")), ids=lambda p: p.name)
def test_shipped_sweep_specs_parse(path: Path) -> None:
    from fairsuite.experiments import load_sweep_spec

    spec = load_sweep_spec(path)
    assert len(spec.grid()) >= 8 and spec.base.sensitive


def test_shipped_compare_spec_parses() -> None:
    names, spec, train_size, _, _ = load_compare_spec(AUDITS / "utkface-vs-fairface.yaml")
    assert names == ["utkface", "fairface"]
    assert spec.task == "gender" and spec.sensitive == ("race", "gender")
    assert train_size is None


def test_compare_spec_says_where_the_models_train(tmp_path: Path) -> None:
    path = tmp_path / "cmp.yaml"
    path.write_text("datasets: [utkface, fairface]\nexecutor: local\njobs: 2\nepochs: 1\n")
    read = load_compare_spec(path)
    assert (read.executor, read.jobs, read.spec.epochs) == ("local", 2, 1)
    path.write_text("datasets: [utkface, fairface]\nexecutor: slurm\n")
    with pytest.raises(SpecError, match="'executor' must be serial or local or ray; got 'slurm'"):
        load_compare_spec(path)


def test_unknown_key_names_key_and_allowed(tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text("dataset: adult\nepoch: 3\n")
    allowed = ", ".join(AuditSpec.__dataclass_fields__)
    msg = _UNKNOWN_KEY.format(source=str(path), key="epoch", allowed=allowed)
    with pytest.raises(SpecError, match=re.escape(msg)) as info:
        load_spec(path)
    assert info.value.exit_code == ExitCode.USAGE


@pytest.mark.parametrize(
    ("key", "value", "needle"),
    [
        ("model", "resnet9000", "'model' must be one of auto, small_cnn"),
        ("ci", 1.5, "'ci' must be a number strictly between 0 and 1"),
        ("epochs", 0, "'epochs' must be an integer >= 1"),
        ("seed", -1, "'seed' must be an integer >= 0"),
        ("device", "tpu", "'device' must be one of auto, cpu, cuda, mps; got 'tpu'"),
    ],
)
def test_bad_values_name_key_allowed_and_value(key: str, value: object, needle: str) -> None:
    with pytest.raises(SpecError, match=re.escape(needle)):
        AuditSpec.from_dict({"dataset": "adult", key: value})


def test_missing_spec_file_is_a_data_error(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="does not exist") as info:
        load_spec(tmp_path / "nope.yaml")
    assert info.value.exit_code == ExitCode.DATA


def test_invalid_yaml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("dataset: [unclosed\n")
    with pytest.raises(InvalidInputError, match=re.escape(f"{path}: not valid YAML")):
        load_spec(path)


def test_replace_ignores_none_and_validates() -> None:
    spec = AuditSpec(dataset="adult")
    assert spec.replace(epochs=None, seed=3).seed == 3
    with pytest.raises(SpecError, match="'min_group_size' must be an integer >= 1"):
        spec.replace(min_group_size=0)


def test_config_hash_ignores_data_dir_but_not_settings() -> None:
    a = AuditSpec(dataset="adult", data_dir="/a")
    b = AuditSpec(dataset="adult", data_dir="/b")
    assert a.config_hash() == b.config_hash()
    assert a.config_hash() != AuditSpec(dataset="adult", seed=1).config_hash()
    assert a.config_hash(model="hgb") != a.config_hash(model="logreg")


def test_relative_csv_path_resolves_against_the_spec(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    path = tmp_path / "sub" / "spec.yaml"
    path.write_text("dataset: people.csv\ntarget: y\nsensitive: group\n")
    spec = load_spec(path)
    assert spec.dataset == str(tmp_path / "sub" / "people.csv")
    assert spec.sensitive == ("group",)


def test_cpu_defaults_are_small_and_quick() -> None:
    from fairsuite.experiments._run import resolve

    image = resolve(AuditSpec(device="cpu"), "image").to_dict()
    assert image["model"] == "small_cnn" and image["device"] == "cpu"
    assert (image["image_size"], image["epochs"], image["batch_size"]) == (64, 6, 128)
    table = resolve(AuditSpec(dataset="adult", device="cpu"), "tabular").to_dict()
    assert table == {"kind": "tabular", "model": "hgb", "device": "cpu", "precision": "fp64",
                     "pretrained": False}


def test_model_must_fit_the_data_kind() -> None:
    from fairsuite.experiments._run import resolve
    from fairsuite.train._fit import MODEL_INVALID

    msg = MODEL_INVALID.format(
        model="logreg",
        kind="image",
        name="(any)",
        allowed="auto, small_cnn, resnet18, resnet34, resnet50",
    )
    with pytest.raises(InvalidInputError, match=re.escape(msg)):
        resolve(AuditSpec(model="logreg", device="cpu"), "image")


def test_every_spec_field_is_a_flag_a_yaml_key_and_a_keyword() -> None:
    """One source: each RunSpec field with a flag appears in `audit --help` under its name,
    is accepted as a YAML key and as a library keyword."""
    from click.testing import CliRunner

    from fairsuite.cli import cli
    from fairsuite.experiments._spec import spec_fields

    help_text = CliRunner().invoke(cli, ["audit", "--help"]).output
    for name, opt, default in spec_fields():
        if opt.cli:
            assert "--" + name.replace("_", "-") in help_text, name
        assert AuditSpec.from_dict({name: default}).to_dict()[name] == (
            list(default) if isinstance(default, tuple) else default
        )


def test_spec_errors_are_usage_errors_not_gate_errors() -> None:
    from fairsuite.exceptions import GateConfigError

    with pytest.raises(SpecError) as info:
        AuditSpec.from_dict({"epochs": "many"})
    assert not isinstance(info.value, GateConfigError)
    assert info.value.exit_code == ExitCode.USAGE
