"""Broken data stops the build, naming the dbt test, and never replaces a good warehouse."""

from __future__ import annotations

import hashlib
import subprocess

import duckdb
import pytest
from support import BIN, REPO_ROOT, make_build, run_dbt


@pytest.fixture(scope="module")
def demo_raw(tmp_path_factory) -> duckdb.DuckDBPyConnection:
    """A warehouse holding only the demo's raw tables."""
    scratch = tmp_path_factory.mktemp("broken")
    warehouse = scratch / "warehouse.duckdb"
    subprocess.run(
        [
            str(BIN / "python"),
            "-m",
            "ingest",
            "demo",
            "--out",
            str(scratch / "demo"),
            "--load",
            "--db",
            str(warehouse),
        ],
        cwd=REPO_ROOT,
        check=True,
        capture_output=True,
    )
    return warehouse


def test_out_of_range_hardness_and_a_duplicate_key_fail_the_named_tests(demo_raw, tmp_path):
    with duckdb.connect(str(demo_raw)) as connection:
        connection.execute(
            "update raw.csc_detections set hard_hm = 1.7 "
            "where rowid = (select min(rowid) from raw.csc_detections)"
        )
        connection.execute(
            "insert into raw.csc_detections select * from raw.csc_detections "
            "where rowid = (select max(rowid) from raw.csc_detections)"
        )
    result = run_dbt(["build"], demo_raw, tmp_path, check=False)
    assert result.returncode != 0
    assert "FAIL 1 accepted_range_stg_csc__detections_hard_hm__1___1" in result.stdout
    assert "FAIL 1 unique_stg_csc__detections_detection_id" in result.stdout
    # Nothing downstream of the broken staging model was built from it.
    assert "SKIP relation main.gmm_fits" in result.stdout


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_failed_build_leaves_the_previous_warehouse_as_it_was(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute("create table previous_build as select 42 as answer")
    before = sha256(warehouse)

    bad_input = tmp_path / "detections.csv"
    bad_input.write_text("name,obsid,ra\n2CXO J000000.0+000000,1,0.0\n")  # no dec
    result = make_build(warehouse, check=False, detections=bad_input)
    assert result.returncode != 0
    assert "dec" in result.stderr
    assert sha256(warehouse) == before
