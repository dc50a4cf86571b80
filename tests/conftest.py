"""Shared fixtures: where the real data lives, and an isolated cache per test session."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

_DEFAULT_DATA_ROOT = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--data-root",
        default=os.environ.get("FAIRSUITE_TEST_DATA", str(_DEFAULT_DATA_ROOT)),
        help="Folder holding the real datasets (default: ../shared/data beside the checkout).",
    )


@pytest.fixture(scope="session")
def data_root(request: pytest.FixtureRequest) -> Path:
    """The real data root (../shared/data); tests that need it fail loudly if it is absent."""
    root = Path(request.config.getoption("--data-root")).resolve()
    if not (root / "SOURCES.md").is_file():
        pytest.fail(f"real data not found at {root}: pass --data-root or set FAIRSUITE_TEST_DATA")
    return root


@pytest.fixture(autouse=True, scope="session")
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Keep caches (decoded images, generated sets) out of the user's home during tests."""
    if "FAIRSUITE_CACHE" not in os.environ:
        base = tmp_path_factory.getbasetemp()
        if os.environ.get("PYTEST_XDIST_WORKER"):
            base = base.parent  # one cache shared by all xdist workers; writes are atomic
        cache = base / "fairsuite-cache"
        cache.mkdir(parents=True, exist_ok=True)
        os.environ["FAIRSUITE_CACHE"] = str(cache)


@pytest.fixture(scope="session")
def load_benchmark() -> Callable[[str], ModuleType]:
    """``load_benchmark("bench_coverage")``: a script under benchmarks/ as a module, so tests
    run reduced versions of its simulations (one implementation of each)."""
    import importlib.util
    import sys

    def load(name: str) -> ModuleType:
        if name in sys.modules:
            return sys.modules[name]
        path = Path(__file__).resolve().parents[1] / "benchmarks" / f"{name}.py"
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        return module

    return load
