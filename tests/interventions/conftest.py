"""Real Adult rows for the intervention tests (read through the users' loader)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest


@pytest.fixture(scope="session")
def adult(data_root: Path):  # type: ignore[no-untyped-def]
    """The real UCI Adult dataset (harmonised: ``gender``, ``race``, ``y``)."""
    import fairsuite

    return fairsuite.load("adult", data_dir=data_root)


@pytest.fixture()
def adult_train(adult) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """A fresh copy of Adult's training split."""
    return adult.split_table("train").reset_index(drop=True).copy()


def fingerprint(table: pd.DataFrame) -> tuple[int, tuple[str, ...], int]:
    """Rows, columns and a hash of every value and the index: equal iff unchanged."""
    return (
        len(table),
        tuple(map(str, table.columns)),
        int(pd.util.hash_pandas_object(table, index=True).sum()),
    )
