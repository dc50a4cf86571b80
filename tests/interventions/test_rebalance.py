"""Reweigh, undersample, oversample and nested subsets on the real Adult training split."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fairsuite.exceptions import InvalidInputError, SpecError
from fairsuite.interventions import (
    ImageAugmenter,
    NestedSubsampler,
    RandomOverSampler,
    RandomUnderSampler,
    Reweigher,
    cell_counts,
    nested_subsets,
    target_shares,
)
from tests.interventions.conftest import fingerprint

CLASSES = ("<=50K", ">50K")


def test_reweigh_to_parity_is_kamiran_calders(adult_train: pd.DataFrame) -> None:
    before = fingerprint(adult_train)
    rw = Reweigher("parity", by="gender", classes=CLASSES)
    out = rw.fit_resample(adult_train)
    assert fingerprint(adult_train) == before  # the caller's table is untouched
    assert "sample_weight" not in adult_train.columns
    n = len(adult_train)
    g, y = adult_train["gender"], adult_train["y"]
    n_g, n_c = g.value_counts(), y.value_counts()
    n_gc = adult_train.groupby(["gender", "y"]).size()
    expected = np.array([n_g[a] * n_c[b] / (n * n_gc[(a, b)]) for a, b in zip(g, y, strict=True)])
    np.testing.assert_allclose(out["sample_weight"].to_numpy(), expected, rtol=1e-12)
    # weighted base rates are equal in every group (demographic parity in the training labels)
    rates = out.assign(p=out["y"] * out["sample_weight"]).groupby("gender")[["p", "sample_weight"]]
    rates = rates.sum()
    base = rates["p"] / rates["sample_weight"]
    assert base.max() - base.min() < 1e-12
    assert np.array_equal(rw.sample_indices_, np.arange(n))


def test_undersample_to_parity_reaches_its_target(adult_train: pd.DataFrame) -> None:
    before = fingerprint(adult_train)
    us = RandomUnderSampler("parity", by="gender", classes=CLASSES, random_state=3)
    out = us.fit_resample(adult_train)
    assert fingerprint(adult_train) == before
    base = out.groupby("gender")["y"].mean()
    assert base.max() - base.min() < 2e-3
    assert len(out) < len(adult_train)
    # every output row is an input row, taken once
    assert len(set(us.sample_indices_)) == len(out)
    pd.testing.assert_frame_equal(
        out, adult_train.iloc[us.sample_indices_].reset_index(drop=True)
    )


def test_oversample_uniform_keeps_every_row_and_equalises_groups(
    adult_train: pd.DataFrame,
) -> None:
    os_ = RandomOverSampler("uniform", by="gender", classes=CLASSES)
    out = os_.fit_resample(adult_train)
    assert set(range(len(adult_train))) <= set(os_.sample_indices_.tolist())
    sizes = out["gender"].value_counts()
    assert abs(sizes["Female"] - sizes["Male"]) <= 2
    assert int(out["is_duplicate"].sum()) == len(out) - len(adult_train)
    # each group keeps its own label balance
    for group in ("Female", "Male"):
        assert out.loc[out.gender == group, "y"].mean() == pytest.approx(
            adult_train.loc[adult_train.gender == group, "y"].mean(), abs=1e-3
        )


def test_mapping_and_another_datasets_composition(adult, adult_train: pd.DataFrame) -> None:  # type: ignore[no-untyped-def]
    counts = cell_counts(adult_train, ("gender",))
    shares = target_shares({"Female": 0.4, "Male": 0.6}, counts, by=("gender",), classes=CLASSES)
    assert sum(v for (g, _), v in shares.items() if g == "Female") == pytest.approx(0.4)
    # the test split's composition as the target (another dataset's composition)
    other = adult.split_table("test").drop(columns=["split"])
    shares2 = target_shares(other, counts, by=("gender",), classes=CLASSES)
    test_female = (other.gender == "Female").mean()
    assert sum(v for (g, _), v in shares2.items() if g == "Female") == pytest.approx(test_female)


def test_bad_mappings_are_one_line_errors(adult_train: pd.DataFrame) -> None:
    with pytest.raises(SpecError, match="group 'Nonbinary'.*Groups: Female, Male"):
        Reweigher({"Nonbinary": 0.5, "Male": 0.5}, by="gender").fit_resample(adult_train)
    with pytest.raises(SpecError, match="sum to 1; they sum to 0.9"):
        Reweigher({"Female": 0.4, "Male": 0.5}, by="gender").fit_resample(adult_train)
    no_rich_women = adult_train[~((adult_train.gender == "Female") & (adult_train.y == 1))]
    with pytest.raises(InvalidInputError, match="gender = Female with label '>50K'.*no training"):
        Reweigher("parity", by="gender", classes=CLASSES).fit_resample(no_rich_women)
    for err in (SpecError, InvalidInputError):
        assert err.__mro__  # both map onto exit codes 2 and 3


def test_nested_subsets_are_nested_at_a_fixed_composition(adult_train: pd.DataFrame) -> None:
    sizes = [4000, 500, 1000, 2000]
    subsets = nested_subsets(
        adult_train, sizes, by="gender", sampling_strategy="uniform", classes=CLASSES,
        random_state=1,
    )
    by_size = dict(zip(sizes, subsets, strict=True))
    ordered = sorted(sizes)
    for small, large in zip(ordered, ordered[1:], strict=False):
        assert set(by_size[small]) <= set(by_size[large])
    for size, idx in by_size.items():
        assert len(idx) == size
        share = (adult_train.iloc[idx].gender == "Female").mean()
        assert share == pytest.approx(0.5, abs=2 / size)
    again = nested_subsets(adult_train, sizes, by="gender", sampling_strategy="uniform",
                           classes=CLASSES, random_state=1)
    assert all(np.array_equal(a, b) for a, b in zip(subsets, again, strict=True))  # seeded


def test_a_size_larger_than_a_cell_names_the_cell(adult_train: pd.DataFrame) -> None:
    cell = r"needs 13,358 rows of gender = Female with label '<=50K', which has 9,592"
    with pytest.raises(InvalidInputError, match=cell):
        NestedSubsampler([30000], "uniform", by="gender", classes=CLASSES).fit(adult_train)
    sub = NestedSubsampler([30000], "uniform", by="gender", classes=CLASSES, replacement=True)
    sub.fit(adult_train)
    assert len(sub.subsets_[0]) == 30000


def test_image_augmenter_flags_copies(adult_train: pd.DataFrame) -> None:
    out = ImageAugmenter("uniform", by="race", classes=CLASSES).fit_resample(adult_train)
    assert out["augment"].sum() == len(out) - len(adult_train)
    assert not out["augment"].iloc[: len(adult_train)].any()
