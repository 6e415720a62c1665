"""One crossmatch radius: pairs fetched within less than the match radius fail the build.

`python -m ingest simbad` records its radius in the Parquet file, the loader copies it
into raw.load_log and says when it is short of dbt var simbad_match_radius_arcsec,
and the singular test tests/dbt/assert_crossmatch_pairs_cover_the_match_radius.sql
fails the build, naming the file.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from support import run_dbt

from ingest.config import match_radius_arcsec
from ingest.files import InputFile, InputSet
from ingest.loader import load_input_set, summary_lines
from ingest.schema import CROSSMATCH_RADIUS_METADATA_KEY

RADIUS_TEST = "assert_crossmatch_pairs_cover_the_match_radius"


def fetched_pairs(path, radius_arcsec: float):
    """Pairs as `python -m ingest simbad --radius R` writes them."""
    pairs = pa.table(
        {
            "name": ["2CXO J000001.0+000001"],
            "obsid": pa.array([100], pa.int32()),
            "region_id": pa.array([1], pa.int32()),
            "main_id": ["SIMBAD A"],
            "ra": [10.0001],
            "dec": [20.0001],
            "main_type": ["QSO"],
            "ang_dist_arcsec": [0.52],
        }
    )
    metadata = {CROSSMATCH_RADIUS_METADATA_KEY: repr(radius_arcsec).encode()}
    pq.write_table(pairs.replace_schema_metadata(metadata), path)
    return path


def test_the_fetcher_defaults_to_the_dbt_match_radius():
    assert match_radius_arcsec() == 3.0  # dbt_project.yml's simbad_match_radius_arcsec


@pytest.mark.slow
def test_pairs_fetched_within_a_smaller_radius_fail_the_build(tmp_path):
    detections = tmp_path / "detections.csv"
    detections.write_text("name,obsid,region_id,ra,dec\n2CXO J000001.0+000001,100,1,10,20\n")
    pairs = fetched_pairs(tmp_path / "pairs.parquet", 1.0)
    warehouse = tmp_path / "warehouse.duckdb"
    report = load_input_set(
        InputSet(detections=InputFile(detections), crossmatch=InputFile(pairs)), warehouse
    )
    assert report.loads["simbad_crossmatch"].crossmatch_radius_arcsec == 1.0
    assert (
        "  pairs fetched within 1 arcsec, less than dbt var simbad_match_radius_arcsec (3):"
        " objects between the two radii are missing, so the build will fail; fetch the pairs"
        " again with --radius 3 or lower the var"
    ) in summary_lines(report)

    select = ["--select", "stg_ingest__load_log", RADIUS_TEST]
    failed = run_dbt(["build", *select], warehouse, check=False)
    assert not failed.success
    assert f"FAIL 1 {RADIUS_TEST}" in failed.log

    matched_within_1 = {"simbad_match_radius_arcsec": 1.0}
    passed = run_dbt(["build", *select], warehouse, check=False, extra_vars=matched_within_1)
    assert passed.success, passed.log
    assert f"PASS {RADIUS_TEST}" in passed.log
