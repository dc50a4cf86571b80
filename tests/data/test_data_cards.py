"""Dataset cards: shipped with the package, parsed and validated, taxonomy as data."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import pytest
import yaml

from fairsuite.data import DatasetCard, get_card, list_datasets
from fairsuite.data._cards import _CARD_BAD_VALUE, _CARD_MISSING_KEYS, _UNKNOWN_DATASET
from fairsuite.exceptions import InvalidInputError

NAMES = ["adult", "compas", "fairface", "synthfaces", "utkface"]


def test_all_cards_ship_with_the_package() -> None:
    assert list_datasets() == NAMES
    shipped = Path(str(resources.files("fairsuite.data").joinpath("cards")))
    assert sorted(p.stem for p in shipped.glob("*.yaml")) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_card_is_complete(name: str) -> None:
    card = get_card(name)
    assert card.name == name
    assert card.license and card.citation and card.get_data and card.known_issues
    assert card.default_task in card.tasks
    assert set(card.sensitive) <= set(card.taxonomy)
    if card.kind == "tabular":
        assert card.features


def test_shared_taxonomy_is_data() -> None:
    ff, utk = get_card("fairface"), get_card("utkface")
    coarse = ("White", "Black", "Asian", "Indian", "Others")
    assert set(ff.taxonomy["race"].groups) == set(coarse)
    assert utk.taxonomy["race"].groups == coarse
    assert ff.taxonomy["race"].mapping["Southeast Asian"] == "Asian"
    assert ff.taxonomy["race"].mapping["Middle Eastern"] == "Others"
    assert utk.taxonomy["age_group"].groups == ff.taxonomy["age_group"].groups
    assert ff.tasks["gender"].classes == ("Male", "Female")
    assert get_card("adult").file("adult.data").md5 == "5d7c39d7b8804f071cdd1f2a7c460872"
    assert ff.file("fairface_label_val.csv").sha256.startswith("19906f69")


def test_unknown_dataset_lists_known_names() -> None:
    msg = _UNKNOWN_DATASET.format(name="celeba", known=", ".join(NAMES))
    with pytest.raises(InvalidInputError, match=re.escape(msg)):
        get_card("celeba")


def test_card_validation(tmp_path: Path) -> None:
    raw = yaml.safe_load(Path(get_card("adult").source).read_text())
    path = tmp_path / "broken.yaml"
    broken = {k: v for k, v in raw.items() if k != "license"}
    path.write_text(yaml.safe_dump(broken))
    with pytest.raises(
        InvalidInputError,
        match=re.escape(_CARD_MISSING_KEYS.format(path=path, missing=["license"])),
    ):
        DatasetCard.from_yaml(path)
    path.write_text(yaml.safe_dump({**raw, "kind": "video"}))
    msg = _CARD_BAD_VALUE.format(path=path, key="kind", value="video", allowed=["image", "tabular"])
    with pytest.raises(InvalidInputError, match=re.escape(msg)):
        DatasetCard.from_yaml(path)
    path.write_text(yaml.safe_dump({**raw, "default_task": "age"}))
    msg = _CARD_BAD_VALUE.format(path=path, key="default_task", value="age", allowed=["income"])
    with pytest.raises(InvalidInputError, match=re.escape(msg)):
        DatasetCard.from_yaml(path)


def test_every_card_names_its_loader_format_and_loading_dispatches_on_it() -> None:
    """Loaders sit behind one protocol chosen by the card: no name-keyed special cases."""
    import inspect

    from fairsuite.data import _loaders

    for name in list_datasets():
        card = get_card(name)
        assert card.format in _loaders.FORMATS, name
        loader = _loaders.FORMATS[card.format]
        assert list(inspect.signature(loader).parameters) == ["card", "request"], name
    source = inspect.getsource(_loaders.load_dataset)
    for name in list_datasets():
        assert f'"{name}"' not in source


def test_compas_filters_live_in_the_card() -> None:
    card = get_card("compas")
    assert [f.op for f in card.filters] == ["between", "not_equal", "not_equal", "not_in"]
    assert card.filters[0].value == [-30, 30] and card.stratify == ("race", "gender")
    assert card.id_column == "id"


def test_bad_card_format_and_filter_are_named() -> None:
    raw = dict(get_card("compas").raw)
    with pytest.raises(InvalidInputError, match="key 'format' is 'xml'"):
        DatasetCard.from_dict({**raw, "format": "xml"}, source="c.yaml")
    bad = {**raw, "filters": [{"column": "age", "reason": "r"}]}
    with pytest.raises(InvalidInputError, match=r"key 'filters\[0\]'"):
        DatasetCard.from_dict(bad, source="c.yaml")
