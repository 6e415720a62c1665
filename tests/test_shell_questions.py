"""README's questions, run through the duckdb CLI on the demo warehouse (where Python UDFs
do not exist), answer what an independent pandas / astropy computation says."""

from __future__ import annotations

import io

import astropy.units as u
import duckdb
import numpy as np
import pandas as pd
import pytest
from astropy.coordinates import SkyCoord
from support import readme_sql, run_duckdb_cli, vars_of_test_warehouses

CONFIG = vars_of_test_warehouses()
QUESTIONS = readme_sql("questions")


def cli_answer(warehouse, sql: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(run_duckdb_cli(warehouse, sql).stdout))


@pytest.fixture(scope="module")
def detections(demo_warehouse) -> pd.DataFrame:
    with duckdb.connect(str(demo_warehouse), read_only=True) as connection:
        return connection.execute(
            "select detection_id, ra, dec, otype_family, main_type, cluster, "
            "hard_hs, hard_ms, var_prob_b from detections"
        ).df()


def test_soft_variable_ysos_by_cluster(demo_warehouse, detections):
    thresholds, variability = CONFIG["hardness_classes"], CONFIG["variability_classes"]
    soft = (detections["hard_hs"] < thresholds["soft_below_hard_hs"]) & (
        detections["hard_ms"] < thresholds["soft_below_hard_ms"]
    )
    variable = detections["var_prob_b"] >= variability["variable_from"]
    chosen = detections[soft & variable & (detections["otype_family"] == "YSO")]
    expected = chosen.groupby("cluster").size()

    answer = cli_answer(demo_warehouse, QUESTIONS[0])
    assert len(answer) > 0
    assert dict(zip(answer["cluster"], answer["detections"], strict=True)) == expected.to_dict()
    assert answer["detections"].is_monotonic_decreasing


def test_objects_near_the_orion_nebula_cluster(demo_warehouse, detections):
    centre = SkyCoord(ra=83.8221 * u.deg, dec=-5.3911 * u.deg)
    positions = SkyCoord(
        ra=detections["ra"].to_numpy() * u.deg, dec=detections["dec"].to_numpy() * u.deg
    )
    near = detections[positions.separation(centre).arcsec < 180]
    counts = near.fillna({"main_type": ""}).groupby(["otype_family", "main_type"]).size()
    expected = counts.sort_values(ascending=False).head(5)

    answer = cli_answer(demo_warehouse, QUESTIONS[1])
    assert len(answer) == 5
    assert answer["detections"].tolist() == expected.tolist()
    assert set(answer["otype_family"]) <= set(near["otype_family"])
    assert "YSO" in set(answer["otype_family"])


def test_the_runs(demo_warehouse):
    answer = cli_answer(demo_warehouse, QUESTIONS[2])
    assert sorted(answer["run_id"]) == sorted(run["run_id"] for run in CONFIG["gmm_runs"])
    assert answer["n_components"].is_monotonic_increasing
    with duckdb.connect(str(demo_warehouse), read_only=True) as connection:
        bics = dict(connection.execute("select run_id, bic from gmm_runs").fetchall())
    np.testing.assert_allclose(answer["bic"], np.round([bics[run] for run in answer["run_id"]]))
