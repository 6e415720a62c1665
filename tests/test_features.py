"""The feature transforms and positions of the warehouse, checked against independent
numpy / scikit-learn / astropy computations on the real CSC sample."""

from __future__ import annotations

import shutil

import astropy.units as u
import duckdb
import numpy as np
import pandas as pd
import pytest
from astropy.coordinates import SkyCoord
from sklearn.preprocessing import MinMaxScaler
from support import detection_ids, project_vars, run_dbt

FEATURE_SETS = project_vars()["feature_sets"]


def reference_features(sample: pd.DataFrame, features: list[dict]) -> tuple[pd.DataFrame, dict]:
    """The original analysis's recipe, in numpy and scikit-learn.

    Returns the transformed matrix (indexed by detection id) and, per log feature, m.
    """
    raw = pd.DataFrame(
        {f["name"]: sample.eval(f.get("expression", f["name"])).to_numpy() for f in features},
        index=sample["detection_id"],
    )
    kept = raw.replace([np.inf, -np.inf], np.nan).dropna()
    transformed, smallest_nonzero = kept.copy(), {}
    for feature in features:
        name, column = feature["name"], kept[feature["name"]].to_numpy()
        if feature["transform"] == "none":
            continue
        if feature["transform"] == "log_minmax":
            smallest_nonzero[name] = column[column != 0].min()
            column = np.log(column + smallest_nonzero[name] / 10)
        transformed[name] = MinMaxScaler().fit_transform(column.reshape(-1, 1)).ravel()
    return transformed, smallest_nonzero


@pytest.fixture(scope="module")
def warehouse(real_sample_warehouse):
    with duckdb.connect(str(real_sample_warehouse), read_only=True) as connection:
        yield connection


@pytest.fixture(scope="module")
def sample(topcat_sample, warehouse) -> pd.DataFrame:
    frame = pd.read_csv(topcat_sample).rename(columns={"name_1": "name"})
    frame["detection_id"] = detection_ids(
        warehouse, frame["name"], frame["obsid"], frame["region_id"]
    )
    return frame


@pytest.mark.parametrize("feature_set", sorted(FEATURE_SETS))
def test_transformed_features_equal_numpy_and_scikit_learn(sample, warehouse, feature_set):
    features = FEATURE_SETS[feature_set]
    expected, smallest_nonzero = reference_features(sample, features)

    stored = warehouse.execute(
        "select detection_id, feature, value from intermediate.int_detection_features"
        " where feature_set = ?",
        [feature_set],
    ).df()
    actual = stored.pivot(index="detection_id", columns="feature", values="value")
    actual = actual.loc[expected.index, expected.columns]
    assert len(actual) == len(expected) > 1000
    np.testing.assert_allclose(actual.to_numpy(), expected.to_numpy(), rtol=0, atol=1e-9)

    params = warehouse.execute(
        "select feature, smallest_nonzero from feature_transform_params "
        "where feature_set = ? and transform = 'log_minmax'",
        [feature_set],
    ).fetchall()
    assert dict(params) == pytest.approx(smallest_nonzero, rel=1e-15)


@pytest.mark.parametrize("feature_set", sorted(FEATURE_SETS))
def test_detections_with_a_null_feature_are_excluded_and_counted(sample, warehouse, feature_set):
    features = FEATURE_SETS[feature_set]
    expected, _ = reference_features(sample, features)
    excluded = warehouse.execute(
        "select detection_id from feature_exclusions where feature_set = ?", [feature_set]
    ).fetchall()
    assert {row[0] for row in excluded} == set(sample["detection_id"]) - set(expected.index)
    n_fitted = warehouse.execute(
        "select n_detections from gmm_runs where feature_set = ? limit 1", [feature_set]
    ).fetchone()
    if n_fitted is not None:
        assert n_fitted[0] == len(expected)


def test_feature_vectors_follow_the_configured_order(warehouse):
    names = [feature["name"] for feature in FEATURE_SETS["allvar"]]
    detection_id, vector = warehouse.execute(
        "select detection_id, features from intermediate.int_feature_vectors"
        " where feature_set = 'allvar' limit 1"
    ).fetchone()
    by_name = dict(
        warehouse.execute(
            "select feature, value from intermediate.int_detection_features "
            "where feature_set = 'allvar' and detection_id = ?",
            [detection_id],
        ).fetchall()
    )
    assert vector == [by_name[name] for name in names]


def test_galactic_coordinates_agree_with_astropy(sample, warehouse):
    stored = (
        warehouse.execute("select detection_id, l, b from staging.stg_csc__detections")
        .df()
        .set_index("detection_id")
        .loc[sample["detection_id"]]
    )
    galactic = SkyCoord(
        ra=sample["ra"].to_numpy() * u.deg, dec=sample["dec"].to_numpy() * u.deg
    ).galactic
    assert_same_galactic(stored["l"], stored["b"], galactic)


def test_galactic_macros_at_the_poles_and_across_ra_zero(warehouse):
    rng = np.random.default_rng(3)
    ra = np.concatenate(
        [
            [0.0, 359.9999999, 0.0000001, 180.0, 266.40498829, 192.85947789],
            rng.uniform(0, 360, 2000),
        ]
    )
    dec = np.concatenate(
        [
            [90.0, -90.0, 89.9999999, -89.9999999, -28.93617776, 27.12825241],
            np.degrees(np.arcsin(rng.uniform(-1, 1, 2000))),
        ]
    )
    warehouse.register("points", pd.DataFrame({"ra": ra, "dec": dec}))
    stored = warehouse.execute(
        "select galactic_l(ra, dec) as l, galactic_b(ra, dec) as b from points"
    ).df()
    galactic = SkyCoord(ra=ra * u.deg, dec=dec * u.deg).galactic
    assert_same_galactic(stored["l"], stored["b"], galactic, skip_poles_of_longitude=True)


def assert_same_galactic(l_deg, b_deg, galactic, skip_poles_of_longitude=False):
    l_deg, b_deg = np.asarray(l_deg), np.asarray(b_deg)
    assert np.all((l_deg >= 0) & (l_deg < 360))
    np.testing.assert_allclose(b_deg, galactic.b.deg, rtol=0, atol=1e-6)
    longitude_defined = np.abs(galactic.b.deg) < 89.999 if skip_poles_of_longitude else True
    wrapped = (l_deg - galactic.l.deg + 180) % 360 - 180
    assert np.all(np.abs(wrapped[longitude_defined]) < 1e-6)


def test_the_build_log_counts_the_excluded_detections(sample, real_sample_warehouse, tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(real_sample_warehouse, warehouse)
    output = run_dbt(["run", "--select", "feature_exclusions"], warehouse).log
    for feature_set, features in FEATURE_SETS.items():
        expected, _ = reference_features(sample, features)
        n_excluded = len(sample) - len(expected)
        assert f"feature set {feature_set}: {n_excluded} detections left out" in output
