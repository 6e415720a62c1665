"""The SQL crossmatch (macro sky_crossmatch, int_simbad_match_candidates, simbad_matches).

Real dbt builds in scratch DuckDB files: the haversine against astropy, TOPCAT's own
answer on the real sample (matched in SQL, and loaded as an external crossmatch), and,
on a synthetic sky with decoys around every source, RA 0/360 and the poles, the same
best matches as astropy and STILTS (`tmatch2 find=best1 join=all1`).
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from astropy import units as u
from astropy.coordinates import SkyCoord, search_around_sky
from astropy.table import Table

from demo import sky as demo_sky
from demo.fields import EDGE_FIELD_CENTRES
from ingest.loader import ensure_raw_tables
from tests.support import project_vars, run_dbt

RADIUS_ARCSEC = project_vars()["simbad_match_radius_arcsec"]
TOLERANCE_ARCSEC = 1e-6
# `cautious`: leave out tests of colleagues' models that merely reference our parents.
BUILD_MATCHES = ["build", "--select", "+simbad_matches", "--indirect-selection", "cautious"]
STILTS = shutil.which("stilts")
TIE_DETECTION = "SYN TIE|1|1"

pytestmark = pytest.mark.slow


# --- helpers ------------------------------------------------------------------------


def new_warehouse(path: Path, detections: pd.DataFrame, objects: pd.DataFrame) -> Path:
    """A warehouse whose raw tables hold these detections and SIMBAD objects."""
    with duckdb.connect(str(path)) as con:
        ensure_raw_tables(con)
        con.execute("insert into raw.csc_detections by name select * from detections")
        con.execute("insert into raw.simbad_objects by name select * from objects")
    return path


def build_matches(warehouse: Path) -> pd.DataFrame:
    """`dbt build` up to simbad_matches (models and their tests); its rows."""
    run_dbt(BUILD_MATCHES, warehouse)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.sql("select * from main.simbad_matches").df().set_index("detection_id")


def read_candidates(warehouse: Path) -> pd.DataFrame:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.sql("select * from intermediate.int_simbad_match_candidates").df()


def detection_ids(detections: pd.DataFrame) -> pd.Series:
    """The detection key as stg_csc__detections builds it."""
    return (
        detections["name"]
        + "|"
        + detections["obsid"].astype(str)
        + "|"
        + detections["region_id"].astype(str)
    )


def sky(frame: pd.DataFrame) -> SkyCoord:
    return SkyCoord(frame["ra"].to_numpy() * u.deg, frame["dec"].to_numpy() * u.deg)


def assert_same_best_matches(
    actual: pd.DataFrame, main_id: pd.Series, separation_arcsec: pd.Series
) -> None:
    """Same object (or none) per detection, separations within TOLERANCE_ARCSEC."""
    expected = pd.DataFrame({"main_id": main_id, "separation_arcsec": separation_arcsec})
    assert sorted(actual.index) == sorted(expected.index)
    joined = actual.merge(expected, left_index=True, right_index=True, suffixes=("", "_expected"))
    differing = joined[joined["main_id"].fillna("") != joined["main_id_expected"].fillna("")]
    assert differing.empty, differing[["main_id", "main_id_expected"]].head(10).to_string()
    matched = joined["main_id"].notna()
    assert joined.loc[~matched, "separation_arcsec"].isna().all()
    error = (joined["separation_arcsec"] - joined["separation_arcsec_expected"])[matched].abs()
    assert error.max() <= TOLERANCE_ARCSEC, error.sort_values().tail(5).to_string()


# --- a synthetic sky with decoys ----------------------------------------------------


@dataclass(frozen=True)
class SyntheticSky:
    detections: pd.DataFrame  # detection_id, name, obsid, region_id, ra, dec
    objects: pd.DataFrame  # main_id, ra, dec, main_type


# Where coordinate code breaks, beyond the demo's own fields across RA 0/360 and near the
# poles: at RA 0 and 360 exactly, at and within arcseconds of the poles, and a pair of
# sources closer than twice the radius.
AWKWARD_POSITIONS = [
    (0.0001, 10.0), (359.9999, -20.0), (0.0, 0.0), (359.99995, 45.0), (0.0, 60.0),
    (0.00002, -35.0), (359.99998, 70.0), (0.0003, -80.0), (359.9997, 5.0),
    (0.0, 90.0), (123.4, -90.0), (10.0, 89.9999), (200.0, -89.99995), (75.0, 89.9995),
    (300.0, 89.999), (150.0, 30.0), (150.0 + 2.0 / 3600 / np.cos(np.radians(30.0)), 30.0),
    *EDGE_FIELD_CENTRES,
]  # fmt: skip


def synthetic_sky(seed: int = 7) -> SyntheticSky:
    """Sources uniform over the sky (drawn as the demo draws them) and at the awkward places;
    around each, objects nearer than the radius (or none), decoys just outside it and
    unrelated ones further out; and two objects exactly equidistant from one detection
    (mirror images in declination)."""
    rng = np.random.default_rng(seed)
    ra, dec = demo_sky.uniform_positions(rng, 300)
    ra = np.concatenate([ra, [position[0] for position in AWKWARD_POSITIONS]])
    dec = np.concatenate([dec, [position[1] for position in AWKWARD_POSITIONS]])
    n_sources = len(ra)

    def ring(n_per_source: np.ndarray, low_arcsec: float, high_arcsec: float):
        centre = np.repeat(np.arange(n_sources), n_per_source)
        distance_deg = rng.uniform(low_arcsec, high_arcsec, len(centre)) / 3600
        return demo_sky.around(rng, ra[centre], dec[centre], distance_deg)

    has_counterpart = rng.uniform(size=n_sources) < 0.8
    rings = [
        ring(has_counterpart * rng.integers(1, 4, n_sources), 0.02, RADIUS_ARCSEC - 0.02),
        ring(rng.integers(1, 3, n_sources), RADIUS_ARCSEC + 0.002, RADIUS_ARCSEC + 0.3),
        ring(np.full(n_sources, 2), 5.0, 60.0),
    ]
    objects = pd.DataFrame(
        {
            "ra": np.concatenate([ring_ra for ring_ra, _ in rings]),
            "dec": np.concatenate([ring_dec for _, ring_dec in rings]),
        }
    ).sample(frac=1.0, random_state=seed)
    objects["main_id"] = [f"SYN OBJ {number}" for number in range(len(objects))]
    objects["main_type"] = rng.choice(["Star", "QSO", "X", "Seyfert_1"], len(objects))

    detections = pd.DataFrame(
        {
            "name": "SYN SRC",
            "obsid": 1,
            "region_id": np.arange(1, n_sources + 1),
            "ra": ra,
            "dec": dec,
        }
    )
    # Equidistant objects, the later main_id first in the table: ties go to the smaller.
    tie_detection = pd.DataFrame(
        {"name": ["SYN TIE"], "obsid": [1], "region_id": [1], "ra": [10.0], "dec": [0.0]}
    )
    tie_objects = pd.DataFrame(
        {"main_id": ["TIE B", "TIE A"], "ra": [10.0, 10.0], "dec": [0.0005, -0.0005],
         "main_type": ["Star", "QSO"]}
    )  # fmt: skip
    detections = pd.concat([detections, tie_detection], ignore_index=True)
    detections["detection_id"] = detection_ids(detections)
    objects = pd.concat([objects, tie_objects], ignore_index=True)
    return SyntheticSky(detections=detections, objects=objects)


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory) -> tuple[SyntheticSky, Path, pd.DataFrame]:
    """The synthetic sky, its built warehouse and its simbad_matches rows."""
    scratch = tmp_path_factory.mktemp("crossmatch_synthetic")
    case = synthetic_sky()
    warehouse = new_warehouse(
        scratch / "warehouse.duckdb", case.detections.drop(columns="detection_id"), case.objects
    )
    return case, warehouse, build_matches(warehouse)


def astropy_best_matches(case: SyntheticSky) -> tuple[pd.Series, pd.Series]:
    """astropy's nearest object per detection, cut at the radius."""
    index, separation, _ = sky(case.detections).match_to_catalog_sky(sky(case.objects))
    within = separation.arcsec <= RADIUS_ARCSEC
    main_id = pd.Series(
        np.where(within, case.objects["main_id"].to_numpy()[index], None),
        index=case.detections["detection_id"],
    )
    return main_id, pd.Series(
        np.where(within, separation.arcsec, np.nan), index=case.detections["detection_id"]
    )


# --- the haversine ------------------------------------------------------------------

SEPARATION_CASES = [
    # across RA 0/360
    (359.9999, 10.0, 0.0001, 10.0),
    (0.0, 0.0, 359.9999999, 0.0000001),
    (359.9995, -45.0, 0.0003, -45.0002),
    # at and near the poles, across them
    (0.0, 90.0, 123.0, 90.0),
    (0.0, 89.9999999, 180.0, 89.9999999),
    (45.0, 89.9999, 225.0, 89.9999),
    (10.0, -90.0, 190.0, -89.9995),
    (300.0, -89.99999, 300.0, -90.0),
    # tiny separations
    (10.0, 20.0, 10.0 + 1e-9, 20.0),
    (250.0, -60.0, 250.0, -60.0 + 1e-10),
    (33.0, 33.0, 33.0, 33.0),
    # about the radius
    (10.0, 20.0, 10.0, 20.0 + 3.0 / 3600),
    (200.0, -45.0, 200.0 + 3.0 / 3600 / np.cos(np.radians(45.0)), -45.0),
    (180.0, 0.0, 180.0 + 2.0 / 3600, 2.2 / 3600),
]


def test_ang_sep_arcsec_agrees_with_astropy(synthetic) -> None:
    rng = np.random.default_rng(11)
    n_random = 2000
    ra1 = rng.uniform(0.0, 360.0, n_random)
    dec1 = np.degrees(np.arcsin(rng.uniform(-1.0, 1.0, n_random)))
    moved = SkyCoord(ra1 * u.deg, dec1 * u.deg).directional_offset_by(
        rng.uniform(0.0, 360.0, n_random) * u.deg, rng.uniform(0.0, 5.0, n_random) * u.arcsec
    )
    pairs = pd.concat(
        [
            pd.DataFrame(SEPARATION_CASES, columns=["ra1", "dec1", "ra2", "dec2"]),
            pd.DataFrame({"ra1": ra1, "dec1": dec1, "ra2": moved.ra.deg, "dec2": moved.dec.deg}),
        ],
        ignore_index=True,
    )
    _, warehouse, _ = synthetic
    with duckdb.connect(str(warehouse), read_only=True) as con:
        computed = con.sql(
            "select main.ang_sep_arcsec(ra1, dec1, ra2, dec2) as arcsec from pairs"
        ).df()["arcsec"]
    expected = (
        SkyCoord(pairs["ra1"].to_numpy() * u.deg, pairs["dec1"].to_numpy() * u.deg)
        .separation(SkyCoord(pairs["ra2"].to_numpy() * u.deg, pairs["dec2"].to_numpy() * u.deg))
        .arcsec
    )
    error = np.abs(computed.to_numpy() - expected)
    assert error.max() <= TOLERANCE_ARCSEC, pairs.assign(error=error).nlargest(3, "error")


def test_ang_sep_arcsec_is_null_without_a_position(synthetic) -> None:
    _, warehouse, _ = synthetic
    with duckdb.connect(str(warehouse), read_only=True) as con:
        (separation,) = con.sql("select main.ang_sep_arcsec(10.0, 20.0, null, 20.0)").fetchone()
    assert separation is None


# --- the synthetic sky against astropy and STILTS -----------------------------------


def test_crossmatch_agrees_with_astropy(synthetic) -> None:
    case, _, matches = synthetic
    main_id, separation = astropy_best_matches(case)
    peers = main_id.index != TIE_DETECTION
    assert_same_best_matches(matches.drop(index=TIE_DETECTION), main_id[peers], separation[peers])


def test_candidates_are_every_pair_within_the_radius(synthetic) -> None:
    case, warehouse, matches = synthetic
    detection_index, object_index, _, _ = search_around_sky(
        sky(case.detections), sky(case.objects), RADIUS_ARCSEC * u.arcsec
    )
    expected = set(
        zip(
            case.detections["detection_id"].to_numpy()[detection_index],
            case.objects["main_id"].to_numpy()[object_index],
            strict=True,
        )
    )
    candidates = read_candidates(warehouse)
    assert set(zip(candidates["detection_id"], candidates["main_id"], strict=True)) == expected
    assert (candidates["match_method"] == "sql_crossmatch").all()
    expected_counts = pd.Series(
        np.bincount(detection_index, minlength=len(case.detections)),
        index=case.detections["detection_id"],
    )
    assert matches["n_candidates"].sort_index().equals(expected_counts.sort_index())


def test_pairs_across_ra_zero_and_the_poles_are_found(synthetic) -> None:
    """The synthetic sky does exercise the wrap-arounds: candidates across RA 0/360,
    and best matches within an arcsec of a pole (where a window spans all RA)."""
    case, warehouse, matches = synthetic
    positions = case.detections.set_index("detection_id")[["ra", "dec"]]
    candidates = read_candidates(warehouse).join(positions, on="detection_id")
    across_ra_zero = (candidates["ra"] - candidates["simbad_ra"]).abs() > 180
    assert across_ra_zero.sum() >= 5
    near_a_pole = positions.loc[matches["main_id"].notna(), "dec"].abs() > 90 - 1 / 3600
    assert near_a_pole.sum() >= 4


def test_ties_go_to_the_smaller_main_id(synthetic) -> None:
    case, warehouse, matches = synthetic
    tie = matches.loc[TIE_DETECTION]
    assert (tie["main_id"], tie["n_candidates"]) == ("TIE A", 2)
    candidates = read_candidates(warehouse).set_index("main_id")
    assert (
        candidates.loc["TIE A", "separation_arcsec"] == candidates.loc["TIE B", "separation_arcsec"]
    )
    assert list(candidates.loc[["TIE A", "TIE B"], "match_rank"]) == [1, 2]


@pytest.mark.skipif(STILTS is None, reason="stilts not on PATH (Debian: apt-get install -y stilts)")
def test_crossmatch_agrees_with_stilts(synthetic, tmp_path) -> None:
    case, _, matches = synthetic
    detections_file = tmp_path / "detections.fits"
    objects_file = tmp_path / "objects.fits"
    Table.from_pandas(case.detections[["detection_id", "ra", "dec"]]).write(detections_file)
    Table.from_pandas(case.objects[["main_id", "ra", "dec"]]).write(objects_file)
    result_file = tmp_path / "stilts.csv"
    subprocess.run(
        [
            STILTS,
            "tmatch2",
            f"in1={detections_file}",
            f"in2={objects_file}",
            "matcher=sky",
            "values1=ra dec",
            "values2=ra dec",
            f"params={RADIUS_ARCSEC}",
            "find=best1",
            "join=all1",
            "ocmd=keepcols 'detection_id main_id Separation'",
            f"out={result_file}",
            "ofmt=csv",
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    stilts = pd.read_csv(result_file, keep_default_na=False, na_values=[""]).set_index(
        "detection_id"
    )
    stilts = stilts.drop(index=TIE_DETECTION)
    assert_same_best_matches(
        matches.drop(index=TIE_DETECTION), stilts["main_id"], stilts["Separation"]
    )


# --- TOPCAT's answer on the real sample ---------------------------------------------


@pytest.fixture(scope="module")
def topcat(topcat_sample: Path) -> pd.DataFrame:
    sample = pd.read_csv(topcat_sample, keep_default_na=False, na_values=[""])
    sample["detection_id"] = detection_ids(sample.rename(columns={"name_1": "name"}))
    return sample


def test_sql_crossmatch_reproduces_topcat(topcat: pd.DataFrame, tmp_path: Path) -> None:
    """The detections and the distinct SIMBAD rows of TOPCAT's output, matched again."""
    detections = topcat.rename(columns={"name_1": "name"})[
        ["name", "obsid", "region_id", "ra", "dec"]
    ]
    objects = (
        topcat.dropna(subset=["main_id"])[["main_id", "ra_x", "dec_x", "main_type"]]
        .drop_duplicates()
        .rename(columns={"ra_x": "ra", "dec_x": "dec"})
    )
    matches = build_matches(new_warehouse(tmp_path / "warehouse.duckdb", detections, objects))

    truth = topcat.set_index("detection_id")
    assert len(matches) == 1615
    assert matches["main_id"].isna().sum() == 98
    assert_same_best_matches(matches, truth["main_id"], truth["angDist"])
    assert (matches["match_method"].dropna() == "sql_crossmatch").all()


def test_topcat_file_lands_in_the_same_models(
    topcat: pd.DataFrame, real_sample_warehouse: Path
) -> None:
    """TOPCAT's output loaded as it is (detections plus its pairs), no SIMBAD table: the
    real-sample warehouse."""
    with duckdb.connect(str(real_sample_warehouse), read_only=True) as con:
        matches = con.sql("select * from main.simbad_matches").df().set_index("detection_id")

    truth = topcat.set_index("detection_id")
    assert_same_best_matches(matches, truth["main_id"], truth["angDist"])
    assert (matches["match_method"].dropna() == "external").all()
