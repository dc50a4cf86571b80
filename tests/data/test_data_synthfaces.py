"""synthfaces: deterministic, cached, labelled synthetic; the planted disparity is recoverable."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from fairsuite.data import composition, load_dataset, make_synthfaces
from fairsuite.data._synthfaces import _BAD_DIFFICULTY, _BAD_PROPORTIONS, SKIN_TONES
from fairsuite.exceptions import InvalidInputError


@pytest.fixture(scope="module")
def default_set():  # noqa: ANN201
    return load_dataset("synthfaces")  # 5,000 images at 64 px, made once into the session cache


def test_default_composition_and_labels(default_set) -> None:  # noqa: ANN001
    d = default_set
    t = d.table
    assert len(d) == 5000
    assert d.synthetic and t["is_synthetic"].all()
    assert "Synthetic: yes" in repr(d)
    assert d.card.synthetic and "SYNTHETIC" in d.card.title
    assert d.classes == ("Male", "Female") and d.task == "gender"
    assert t["skin_tone"].value_counts().to_dict() == {"light": 4000, "medium": 750, "dark": 250}
    assert (t["split"] == "test").sum() == 1000
    assert (t["y"] == (t["gender"] == "Female")).all()
    # planted label noise: about 20% of the dark group, none of the light group
    flipped = t.groupby("skin_tone")["label_flipped"].mean()
    assert flipped["light"] == 0.0
    assert 0.14 < flipped["dark"] < 0.26
    assert Path(t["path"].iloc[0]).is_file()
    comp = composition(d)
    assert comp["attributes"]["skin_tone"]["imbalance_ratio"] == pytest.approx(16.0)
    assert comp["images"] == {"listed": 5000, "present": 5000}


def test_images_are_face_sized_rgb(default_set) -> None:  # noqa: ANN001
    from PIL import Image

    img = np.asarray(Image.open(default_set.table["path"].iloc[0]))
    assert img.shape == (64, 64, 3) and img.dtype == np.uint8
    assert img.std() > 20  # not a flat image


def test_planted_disparity_is_recovered_by_a_simple_model(default_set) -> None:  # noqa: ANN001
    """A linear model on 16x16 pixels: the hard 5% group is > 10 points less accurate."""
    from PIL import Image
    from sklearn.linear_model import LogisticRegression

    t = default_set.table
    X = np.stack(
        [
            np.asarray(Image.open(p).resize((16, 16), Image.BILINEAR), dtype=np.float32).ravel()
            / 255
            for p in t["path"]
        ]
    )
    train = (t["split"] == "train").to_numpy()
    clf = LogisticRegression(max_iter=2000, C=0.1).fit(X[train], t["y"][train])
    ok = clf.predict(X[~train]) == t["y"][~train].to_numpy()
    acc = {tone: ok[(t["skin_tone"][~train] == tone).to_numpy()].mean() for tone in SKIN_TONES}
    assert acc["light"] > 0.9
    assert acc["light"] - acc["dark"] > 0.10


def test_same_seed_same_images_and_cache_reuse(tmp_path: Path) -> None:
    a = make_synthfaces(60, image_size=32, random_state=5, cache_dir=tmp_path)
    folders = list((tmp_path / "synthfaces").iterdir())
    assert len(folders) == 1 and not any(p.name.startswith(".") for p in folders)
    stamp = (folders[0] / "labels.csv").stat().st_mtime_ns
    b = make_synthfaces(60, image_size=32, random_state=5, cache_dir=tmp_path)
    assert (folders[0] / "labels.csv").stat().st_mtime_ns == stamp  # reused, not rewritten
    assert a.table.equals(b.table)
    c = make_synthfaces(60, image_size=32, random_state=6, cache_dir=tmp_path)
    assert len(list((tmp_path / "synthfaces").iterdir())) == 2
    assert not a.table["split"].equals(c.table["split"]) or not a.table["gender"].equals(
        c.table["gender"]
    )


def test_knobs_plant_the_disparity_where_asked(tmp_path: Path) -> None:
    d = make_synthfaces(
        400,
        image_size=16,
        proportions=(0.5, 0.25, 0.25),
        difficulty=((0.5, 0.3), (1.0, 0.0), (1.0, 0.0)),
        cache_dir=tmp_path,
    )
    t = d.table
    assert t["skin_tone"].value_counts().to_dict() == {"light": 200, "medium": 100, "dark": 100}
    flipped = t.groupby("skin_tone")["label_flipped"].mean()
    assert flipped["light"] > 0.2 and flipped["dark"] == 0.0


@pytest.mark.parametrize(
    ("kwargs", "msg"),
    [
        (
            {"proportions": (0.5, 0.5)},
            _BAD_PROPORTIONS.format(value=(0.5, 0.5), k=3, tones=SKIN_TONES),
        ),
        (
            {"difficulty": ((1, 0), (1, 0), (1, 0.7))},
            _BAD_DIFFICULTY.format(value=((1, 0), (1, 0), (1, 0.7)), tones=SKIN_TONES),
        ),
    ],
)
def test_bad_knobs(tmp_path: Path, kwargs: dict, msg: str) -> None:
    with pytest.raises(InvalidInputError, match=re.escape(msg)):
        make_synthfaces(100, cache_dir=tmp_path, **kwargs)


def test_load_dataset_rejects_unknown_options() -> None:
    with pytest.raises(InvalidInputError, match=re.escape("got unexpected options ['colour']")):
        load_dataset("synthfaces", colour="red")


def test_labels_only_load_marks_images_present(tmp_path: Path) -> None:
    d = load_dataset("synthfaces", n=60, image_size=16, cache_dir=tmp_path, require_images=False)
    assert d.table["image_present"].all() and len(d) == 60
    with pytest.raises(InvalidInputError, match=re.escape("has no task 'race'")):
        load_dataset("synthfaces", task="race")
