"""Data that cannot support every mixture still builds: the runs it cannot fit are skipped,
named with their reason in gmm_runs and the build log, and everything else is built. Real
dbt builds of small inputs taken from the demo."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from support import run_dbt, vars_of_test_warehouses

from ingest.files import InputFile, InputSet
from ingest.loader import load_input_set
from ingest.schema import DETECTION_KEY

RUNS = {run["run_id"]: run for run in vars_of_test_warehouses()["gmm_runs"]}


def demo_input(demo_warehouse: Path, directory: Path, columns: str, limit: int) -> InputSet:
    """The first `limit` demo detections (only `columns`) and every SIMBAD object, as files."""
    detections, objects = directory / "detections.parquet", directory / "objects.parquet"
    key = ", ".join(DETECTION_KEY)
    with duckdb.connect(str(demo_warehouse), read_only=True) as connection:
        connection.execute(
            f"copy (select {columns} from raw.csc_detections order by {key} limit {limit})"
            f" to '{detections}'"
        )
        connection.execute(f"copy raw.simbad_objects to '{objects}'")
    return InputSet(detections=InputFile(detections), simbad=InputFile(objects))


def build(inputs: InputSet, directory: Path) -> tuple[Path, str]:
    warehouse = directory / "warehouse.duckdb"
    load_input_set(inputs, warehouse)
    return warehouse, run_dbt(["build"], warehouse).log


def test_runs_with_more_components_than_detections_are_skipped(demo_warehouse, tmp_path):
    warehouse, log = build(demo_input(demo_warehouse, tmp_path, "*", 12), tmp_path)
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        runs = dict(connection.execute("select run_id, skipped_reason from gmm_runs").fetchall())
        n_fitted = connection.execute("select count(*) from gmm_components").fetchone()[0]
        clustered = connection.execute("select count(cluster) from detections").fetchone()[0]
        n_rows = connection.execute(
            "select n_detections from intermediate.int_feature_set_status"
            " where feature_set = 'allvar'"
        ).fetchone()[0]
    expected = {
        run_id: (
            f"feature set {run['feature_set']} has {n_rows} usable detection(s), fewer than the"
            f" {run['n_components']} components"
            if run["n_components"] > n_rows
            else None
        )
        for run_id, run in RUNS.items()
    }
    assert runs == expected
    assert any(runs.values()) and not all(runs.values())
    fitted = [run for run_id, run in RUNS.items() if expected[run_id] is None]
    assert n_fitted == sum(run["n_components"] for run in fitted)
    assert clustered == n_rows
    for run_id, reason in runs.items():
        if reason:
            assert f"WARNING: mixture run {run_id} skipped: {reason}" in log


def test_positions_only_builds_the_crossmatch_and_skips_every_mixture(demo_warehouse, tmp_path):
    columns = ", ".join([*DETECTION_KEY, "ra", "dec"])
    warehouse, log = build(demo_input(demo_warehouse, tmp_path, columns, 500), tmp_path)
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        reasons = dict(connection.execute("select run_id, skipped_reason from gmm_runs").fetchall())
        matched = connection.execute("select count(main_id) from detections").fetchone()[0]
        families = connection.execute(
            "select count(distinct otype_family) from detections"
        ).fetchone()[0]
        assigned = connection.execute("select count(*) from gmm_assignments").fetchone()[0]
    assert set(reasons) == set(RUNS)
    for run_id, reason in reasons.items():
        feature_set = RUNS[run_id]["feature_set"]
        assert reason.startswith(f"feature set {feature_set}: no detection has a value of ")
        assert reason.endswith("(absent from the input, or empty in every row)")
    assert "no detection has a value of theta, src_area_b," in reasons["gmm6_allvar"]
    assert matched > 300 and families > 3
    assert assigned == 0
    assert "WARNING: mixture run gmm6_allvar skipped: feature set allvar" in log


@pytest.mark.parametrize("column", ["theta", "hard_hm"])
def test_a_feature_no_detection_can_use_names_the_feature(demo_warehouse, tmp_path, column):
    """theta all zero: its ln(x + m/10) has no m. hard_hm all null: no value at all. Both
    sets that use the feature are unusable, each saying why."""
    value = "0.0::double" if column == "theta" else "null::double"
    columns = f"* replace ({value} as {column})"
    inputs = demo_input(demo_warehouse, tmp_path, columns, 300)
    warehouse = tmp_path / "warehouse.duckdb"
    load_input_set(inputs, warehouse)
    run_dbt(["build", "--select", "+int_feature_set_status"], warehouse)
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        status = dict(
            connection.execute(
                "select feature_set, unusable_reason from intermediate.int_feature_set_status"
            ).fetchall()
        )
    if column == "theta":
        assert status == {
            "allvar": "theta is 0 in every detection kept, so ln(x + m/10) has no m"
            " (the smallest non-zero value)",
            "paper12": None,
        }
    else:
        reason = (
            "no detection has a value of hard_hm (absent from the input, or empty in every row)"
        )
        assert status == {"allvar": reason, "paper12": reason}
