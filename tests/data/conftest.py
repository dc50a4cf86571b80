"""Fixtures of the data tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def fake_root(tmp_path: Path) -> Path:
    """An empty data root in a temporary directory."""
    root = tmp_path / "data"
    root.mkdir()
    return root
