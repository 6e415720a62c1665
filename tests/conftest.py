"""Shared fixtures: where the repository and the development data are, and the built
warehouses. Tests that need a built warehouse (directly or through another fixture) are
marked `slow` here, so `pytest -m "not slow and not live"` is the quick loop. The suite
runs on every core (pytest-xdist, --dist loadgroup): tests that share an expensive fixture
form a group, which one worker runs, so the fixture is built once."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from support import make_build

REPO_ROOT = Path(__file__).resolve().parent.parent
# Real CSC + SIMBAD rows for development, beside the checkout (never copied into it).
SHARED_REAL_DATA = REPO_ROOT.parent / "shared" / "data" / "real"
SHARED_REFERENCE = REPO_ROOT.parent / "shared" / "reference"
# Fixtures that build a whole warehouse: every test using one is slow.
WAREHOUSE_FIXTURES = {"demo_warehouse", "real_sample_warehouse"}
# The group of every test reading the real sample's warehouse: one worker builds it.
REAL_SAMPLE_GROUP = "real_sample"
# Modules whose tests share a costly module-scoped fixture (a warehouse of their own, the
# crossmatch's synthetic sky, the demo's report), built once per group: a module's tests
# scattered over workers would build it on each. Tests reading the real sample's warehouse
# join its group instead; test_classification is all about it.
GROUPED_MODULES = {
    "test_classification": REAL_SAMPLE_GROUP,
    "test_reliability": "reliability",
    "test_crossmatch": "crossmatch",
    "test_report": "report",
}


# First: xdist's own hook reads the xdist_group marks, so they must be there before it runs.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        # A fixture requested by name at run time is out of sight: the real_sample mark says so.
        real_sample = "real_sample_warehouse" in fixtures or item.get_closest_marker("real_sample")
        if WAREHOUSE_FIXTURES & fixtures or real_sample:
            item.add_marker(pytest.mark.slow)
        module = item.module.__name__ if item.module else ""
        group = REAL_SAMPLE_GROUP if real_sample else GROUPED_MODULES.get(module)
        if group:
            item.add_marker(pytest.mark.xdist_group(group))


@pytest.fixture(scope="session")
def real_data_dir() -> Path:
    """../shared/data/real, or skip: a user's clone has no ../shared."""
    if not SHARED_REAL_DATA.is_dir():
        pytest.skip(f"{SHARED_REAL_DATA} not found: the real CSC/SIMBAD sample is CI-only data")
    return SHARED_REAL_DATA


@pytest.fixture(scope="session")
def topcat_sample(real_data_dir: Path) -> Path:
    return real_data_dir / "topcat_csc_simbad_sample.csv"


@pytest.fixture(scope="session")
def cscview_votable(real_data_dir: Path) -> Path:
    return real_data_dir / "cscview_single_source.vot"


@pytest.fixture(scope="session")
def demo_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The warehouse built on the demo with the test vars: `make test` builds it first
    (`make test-dbt`, XRAY_TEST_WAREHOUSE); otherwise built here (about a minute)."""
    prebuilt = os.environ.get("XRAY_TEST_WAREHOUSE")
    if prebuilt and Path(prebuilt).exists():
        return Path(prebuilt)
    warehouse = tmp_path_factory.mktemp("demo") / "warehouse.duckdb"
    make_build(warehouse)
    return warehouse


@pytest.fixture(scope="session")
def real_sample_warehouse(tmp_path_factory: pytest.TempPathFactory, topcat_sample: Path) -> Path:
    """The whole warehouse built from the real TOPCAT crossmatch sample (about 30 s)."""
    warehouse = tmp_path_factory.mktemp("real") / "warehouse.duckdb"
    make_build(warehouse, detections=topcat_sample)
    return warehouse
