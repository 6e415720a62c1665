"""Broken data stops the build, naming the dbt test, and never replaces a good warehouse."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import pytest
from support import make_build, run_dbt

from ingest.schema import RAW_SCHEMA, RAW_TABLES


@pytest.fixture
def demo_raw(demo_warehouse, tmp_path) -> Path:
    """A warehouse holding only the demo's raw tables, copied from the test warehouse."""
    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute(f"attach '{demo_warehouse}' as demo (read_only)")
        connection.execute(f"create schema {RAW_SCHEMA}")
        for raw_table in RAW_TABLES:
            connection.execute(
                f"create table {RAW_SCHEMA}.{raw_table.name}"
                f" as select * from demo.{RAW_SCHEMA}.{raw_table.name}"
            )
    return warehouse


def test_out_of_range_hardness_and_a_duplicate_key_fail_the_named_tests(demo_raw):
    with duckdb.connect(str(demo_raw)) as connection:
        connection.execute(
            "update raw.csc_detections set hard_hm = 1.7 "
            "where rowid = (select min(rowid) from raw.csc_detections)"
        )
        connection.execute(
            "insert into raw.csc_detections select * from raw.csc_detections "
            "where rowid = (select max(rowid) from raw.csc_detections)"
        )
    result = run_dbt(["build"], demo_raw, check=False)
    assert not result.success
    assert "FAIL 1 accepted_range_stg_csc__detections_hard_hm__1___1" in result.log
    assert "FAIL 1 unique_stg_csc__detections_detection_id" in result.log
    # Nothing downstream of the broken staging model was built from it.
    assert "SKIP relation intermediate.int_gmm_fits" in result.log


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


def test_a_feature_squeezed_by_an_extreme_value_is_warned_with_its_detection(demo_raw):
    """The load refuses 1e308 (beyond anything Chandra measures); were it in the raw table
    anyway, the build warns that it squeezes var_mean_b, naming the detection."""
    with duckdb.connect(str(demo_raw)) as connection:
        name, obsid, region_id = connection.execute(
            "update raw.csc_detections set var_mean_b = 1e308"
            " where rowid = (select min(rowid) from raw.csc_detections"
            " where var_mean_b is not null) returning name, obsid, region_id"
        ).fetchone()
    select = ["--select", "+int_feature_vectors warn_scaled_features_squeezed_by_outliers"]
    result = run_dbt(["build", *select], demo_raw, check=False)
    assert "WARN 2 warn_scaled_features_squeezed_by_outliers" in result.log
    assert "WARNING: feature var_mean_b of allvar is squeezed: its middle 98% lies in" in result.log
    assert f"because detection {name}|{obsid}|{region_id} scales to 1.0" in result.log
