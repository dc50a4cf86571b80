"""Synthetic rows with SDV (GaussianCopula) on real Adult rows; SDV missing is a clear error."""

from __future__ import annotations

import importlib.util

import pandas as pd
import pytest

from fairsuite.exceptions import ExitCode, MissingDependencyError
from fairsuite.interventions import SyntheticAugmenter
from tests.interventions.conftest import fingerprint

CLASSES = ("<=50K", ">50K")


@pytest.fixture()
def small_train(adult_train: pd.DataFrame) -> pd.DataFrame:
    return adult_train.sample(3000, random_state=0).reset_index(drop=True)


def test_parity_augmentation_fills_cells_and_records_fidelity(adult, small_train) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("sdv")
    before = fingerprint(small_train)
    aug = SyntheticAugmenter(
        "parity", by="gender", classes=CLASSES, columns=[*adult.features, "race"], random_state=0
    )
    out = aug.fit_resample(small_train)
    assert fingerprint(small_train) == before
    real, synth = out[~out.is_synthetic], out[out.is_synthetic]
    pd.testing.assert_frame_equal(
        real.drop(columns="is_synthetic").reset_index(drop=True),
        small_train,
        check_dtype=False,  # columns the synthesizer does not model (native_*) are NaN there
    )
    assert len(synth) == sum(aug.n_synthetic_.values()) > 0
    assert (synth["split"] == "train").all()
    assert (aug.sample_indices_[len(small_train):] == -1).all()
    base = out.groupby("gender")["y"].mean()
    assert base.max() - base.min() < 0.01  # equal positive rate in every group
    assert aug.shortfalls_ == {}
    q = aug.quality_
    for key in ("overall", "column_shapes", "column_pair_trends"):
        assert 0 < q[key] <= 1
    # same seed, same rows
    again = SyntheticAugmenter(
        "parity", by="gender", classes=CLASSES, columns=[*adult.features, "race"], random_state=0
    ).fit_resample(small_train)
    pd.testing.assert_frame_equal(out, again)


def test_sdv_missing_is_a_one_line_install_hint(monkeypatch, small_train) -> None:  # type: ignore[no-untyped-def]
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "sdv" else real_find_spec(name, *a),
    )
    with pytest.raises(MissingDependencyError) as info:
        SyntheticAugmenter("parity", by="gender", classes=CLASSES).fit_resample(small_train)
    message = str(info.value)
    assert "\n" not in message and "pip install 'fairsuite[synth]'" in message
    assert info.value.exit_code == ExitCode.USAGE
