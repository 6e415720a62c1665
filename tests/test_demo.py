"""The synthetic demo data: contract, value ranges, determinism, population signatures,
skies of other sizes, and the truth file."""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

import astropy.units as u
import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from astropy.coordinates import SkyCoord

from demo import (
    N_DETECTIONS,
    SIMBAD_LONG_LABELS,
    TRUTH_SCHEMA,
    DemoSize,
    DemoTables,
    generate_demo,
    write_demo,
)
from demo.populations import KINDS
from ingest.__main__ import main as ingest_main
from ingest.schema import BANDS, CSC_DETECTIONS, DESCRIPTORS, DETECTION_KEY, SIMBAD_OBJECTS

YSO_LABELS = ["YSO", "Candidate_YSO", "TTau*", "Candidate_TTau*", "Orion_V*"]
XRB_LABELS = ["HMXB", "LMXB", "XB", "Candidate_XB*", "Candidate_LMXB", "Candidate_HMXB"]
QSO_SEYFERT_LABELS = ["QSO", "Seyfert_1", "Seyfert_2", "Seyfert"]
# A true counterpart lies within 1.2" of its source; unrelated neighbours from 1.5".
COUNTERPART_RADIUS = 1.25 * u.arcsec
MATCH_RADIUS = 3.0 * u.arcsec
# The default demo's tables, pinned: the warehouse built on the demo must not change
# unnoticed. Content, not file bytes: Parquet files also record the pyarrow version.
DEFAULT_CONTENT_SHA256 = {
    "detections": "5f7485bd6097e66710c47e85ce7f959aef6db19c6337dd8c173be3ae73a1edd7",
    "simbad_objects": "d3200ef518206102110dba8df7c46b924aa2eb6378c0c342c5da0237a47b98e8",
    "truth": "6594c1aa074f95f20462b300a8a92704c4b741ddd44848a8ed2ac9e72d5da979",
}
# The default demo's proportions (detections per source and per pointing, SIMBAD objects
# per detection of a scaled sky), which skies of other sizes keep.
DETECTIONS_PER_SOURCE = 23_025 / 8_880
DETECTIONS_PER_POINTING = 23_025 / 812
SCALED_SIMBAD_PER_DETECTION = 3.0


@pytest.fixture(scope="module")
def demo_tables() -> DemoTables:
    return generate_demo()


@pytest.fixture(scope="module")
def detections(demo_tables) -> pd.DataFrame:
    return demo_tables.detections.to_pandas()


@pytest.fixture(scope="module")
def simbad(demo_tables) -> pd.DataFrame:
    return demo_tables.simbad_objects.to_pandas()


@pytest.fixture(scope="module")
def sources(detections) -> pd.DataFrame:
    return detections.drop_duplicates("name")[["name", "ra", "dec"]].reset_index(drop=True)


@pytest.fixture(scope="module")
def matched(detections, simbad) -> pd.DataFrame:
    """Each detection with its nearest SIMBAD object within 3" (main_type null if none)."""
    objects = SkyCoord(simbad["ra"].to_numpy() * u.deg, simbad["dec"].to_numpy() * u.deg)
    positions = SkyCoord(detections["ra"].to_numpy() * u.deg, detections["dec"].to_numpy() * u.deg)
    index, separation, _ = positions.match_to_catalog_sky(objects)
    within = separation < MATCH_RADIUS
    return detections.assign(
        main_type=np.where(within, simbad["main_type"].to_numpy()[index], None),
        gal_b=positions.galactic.b.deg,
    )


def test_default_tables_are_pinned(demo_tables):
    for table, expected in DEFAULT_CONTENT_SHA256.items():
        assert _content_sha256(getattr(demo_tables, table)) == expected, table


def test_tables_have_the_raw_schemas(demo_tables):
    assert demo_tables.detections.schema.equals(CSC_DETECTIONS.arrow_schema)
    assert demo_tables.simbad_objects.schema.equals(SIMBAD_OBJECTS.arrow_schema)


def test_written_files_have_the_raw_schemas_and_are_identical_run_to_run(tmp_path):
    first = write_demo(tmp_path / "first")
    second = write_demo(tmp_path / "second")
    assert first.detections.name == "csc_detections.parquet"
    assert first.simbad_objects.name == "simbad_objects.parquet"
    assert first.truth.name == "demo_truth.parquet"
    assert pq.read_schema(first.detections).equals(CSC_DETECTIONS.arrow_schema)
    assert pq.read_schema(first.simbad_objects).equals(SIMBAD_OBJECTS.arrow_schema)
    assert pq.read_schema(first.truth).equals(TRUTH_SCHEMA)
    for a, b in (
        (first.detections, second.detections),
        (first.simbad_objects, second.simbad_objects),
        (first.truth, second.truth),
    ):
        assert _sha256(a) == _sha256(b)


def test_size_and_keys(detections, sources, simbad):
    assert len(detections) == N_DETECTIONS == 23_025
    assert not detections.duplicated(list(DETECTION_KEY)).any()
    # One detection per source and observation; region ids unique within an observation.
    assert not detections.duplicated(["name", "obsid"]).any()
    assert not detections.duplicated(["obsid", "region_id"]).any()
    assert detections["region_id"].between(1, 2000).all()
    assert detections["obsid"].between(300, 99_999).all()
    assert 7_000 <= len(sources) <= 9_500
    assert simbad["main_id"].is_unique
    assert detections[list(CSC_DETECTIONS.required)].notna().all().all()
    assert simbad[list(SIMBAD_OBJECTS.required)].notna().all().all()


def test_sources_have_heavy_tailed_detection_counts(detections):
    per_source = detections.groupby("name").size()
    assert (per_source == 1).mean() > 0.4
    assert per_source.max() >= 20


def test_master_source_properties_are_shared_by_its_detections(detections):
    per_source = detections.groupby("name")
    for column in ("ra", "dec", "significance", "likelihood"):
        assert (per_source[column].nunique() == 1).all(), column
    # Per-observation properties do vary.
    assert (per_source["theta"].nunique() > 1).any()


def test_names_are_csc_designations_truncated_from_the_position(sources):
    for name, ra, dec in sources.itertuples(index=False):
        ra_tenths = math.floor(ra / 15 * 36_000)  # tenths of seconds of time
        dec_arcsec = math.floor(abs(dec) * 3600)
        expected = "2CXO J{:02d}{:02d}{:02d}.{:d}{}{:02d}{:02d}{:02d}".format(
            ra_tenths // 36_000,
            ra_tenths // 600 % 60,
            ra_tenths // 10 % 60,
            ra_tenths % 10,
            "-" if dec < 0 else "+",
            dec_arcsec // 3600,
            dec_arcsec // 60 % 60,
            dec_arcsec % 60,
        )
        # A suffix letter is added only where two sources would share a name.
        assert name in (expected, *(expected + letter for letter in "ABCDEFGHIJ"))
    assert sources["name"].is_unique


def test_positions_cover_the_awkward_parts_of_the_sky(detections, simbad):
    for table in (detections, simbad):
        assert table["ra"].between(0, 360, inclusive="left").all()
        assert table["dec"].between(-90, 90).all()
    assert (detections["ra"] < 0.5).any() and (detections["ra"] > 359.5).any()
    assert (detections["dec"] > 80).any() and (detections["dec"] < -80).any()


def test_theta_is_the_distance_from_the_aim_point(demo_tables, detections):
    pointings = demo_tables.pointings.to_pandas()
    assert pointings["obsid"].is_unique
    joined = detections.merge(pointings, on="obsid", how="left", validate="many_to_one")
    assert joined["ra_pnt"].notna().all()
    aim = SkyCoord(joined["ra_pnt"].to_numpy() * u.deg, joined["dec_pnt"].to_numpy() * u.deg)
    position = SkyCoord(joined["ra"].to_numpy() * u.deg, joined["dec"].to_numpy() * u.deg)
    np.testing.assert_allclose(aim.separation(position).arcmin, joined["theta"], rtol=0, atol=1e-6)
    assert joined["theta"].between(0, 25).all()


def test_value_ranges(detections):
    for column in ("hard_hm", "hard_hs", "hard_ms"):
        assert detections[column].between(-1, 1).all(), column
    probabilities = [
        f"{quantity}_{band}" for quantity in ("var_prob", "ks_prob", "kp_prob") for band in BANDS
    ]
    for column in probabilities:
        assert detections[column].dropna().between(0, 1).all(), column
    positive = ["src_area_b", "bb_kt", "flux_aper_b", "significance", "likelihood"] + [
        f"{quantity}_{band}"
        for quantity in ("var_sigma", "var_mean", "var_min", "var_max")
        for band in BANDS
    ]
    for column in positive:
        assert (detections[column].dropna() > 0).all(), column
    for band in BANDS:
        rates = detections[[f"var_min_{band}", f"var_mean_{band}", f"var_max_{band}"]].dropna()
        assert (rates.iloc[:, 0] <= rates.iloc[:, 1]).all(), band
        assert (rates.iloc[:, 1] <= rates.iloc[:, 2]).all(), band
    for fit in ("powlaw_gamma", "bb_kt"):
        assert (detections[f"{fit}_lolim"] <= detections[fit]).all(), fit
        assert (detections[fit] <= detections[f"{fit}_hilim"]).all(), fit
    assert detections["powlaw_gamma"].between(-3.5, 9).all()
    assert (detections["powlaw_gamma"] < 0).any() and (detections["powlaw_gamma"] > 5).any()
    assert detections["gti_start"].between(6.6e7, 5.3e8).all()
    elapse = detections["gti_stop"] - detections["gti_start"]
    np.testing.assert_allclose(detections["gti_elapse"], elapse, rtol=1e-12)
    assert detections["flux_aper_b"].dropna().between(1e-16, 1e-9).all()


def test_hardness_ratios_agree_with_each_other(detections):
    # Band ratios multiply: (H/S) = (H/M)(M/S), and hr = (r - 1) / (r + 1).
    def ratio(hr):
        return (1 + hr) / (1 - hr)

    hard_over_soft = ratio(detections["hard_hm"]) * ratio(detections["hard_ms"])
    implied_hs = (hard_over_soft - 1) / (hard_over_soft + 1)
    np.testing.assert_allclose(implied_hs, detections["hard_hs"], atol=1e-9)


def test_band_rates_add_up_and_follow_the_flux(detections):
    bands = detections[["var_mean_s", "var_mean_m", "var_mean_h"]].sum(axis=1, skipna=False)
    complete = bands.notna()
    np.testing.assert_allclose(bands[complete], detections.loc[complete, "var_mean_b"], rtol=1e-9)
    per_count = (detections["flux_aper_b"] / detections["var_mean_b"]).dropna()
    assert 5e-12 < per_count.median() < 2e-11


def test_variable_light_curves_look_variable(detections):
    variable = detections["var_prob_b"] > 0.9
    assert 0.005 < variable.mean() < 0.1
    ratio = detections["var_sigma_b"] / detections["var_mean_b"]
    assert ratio[variable].median() > 10 * ratio[~variable].median()
    # K-S and Kuiper probabilities that the source varied are near 1 for flares.
    assert detections.loc[variable, "ks_prob_b"].median() > 0.9
    assert detections.loc[~variable, "ks_prob_b"].median() == pytest.approx(0.5, abs=0.1)


def test_a_few_percent_of_detections_lack_a_descriptor(detections):
    missing_any = detections[list(DESCRIPTORS)].isna().any(axis=1)
    assert 0.01 <= missing_any.mean() <= 0.10
    assert detections["powlaw_gamma"].notna().all()
    assert detections["bb_kt"].notna().all()


def test_about_three_quarters_of_sources_have_a_counterpart(sources, simbad):
    objects = SkyCoord(simbad["ra"].to_numpy() * u.deg, simbad["dec"].to_numpy() * u.deg)
    positions = SkyCoord(sources["ra"].to_numpy() * u.deg, sources["dec"].to_numpy() * u.deg)
    _, nearest, _ = positions.match_to_catalog_sky(objects)
    assert 0.70 <= (nearest < COUNTERPART_RADIUS).mean() <= 0.80
    # Some sources have a second object within the match radius: nearest-match matters.
    _, second_nearest, _ = positions.match_to_catalog_sky(objects, nthneighbor=2)
    assert (second_nearest < MATCH_RADIUS).sum() > 50


def test_every_main_type_is_a_shipped_simbad_long_label(simbad):
    assert set(simbad["main_type"]) <= set(SIMBAD_LONG_LABELS)
    codes = {code for text in simbad["other_types"] for code in text.split("|")}
    assert {code.strip() for code in codes} <= set(SIMBAD_LONG_LABELS.values())


def test_extragalactic_objects_have_redshifts_and_stars_parallaxes(simbad):
    quasars = simbad[simbad["main_type"] == "QSO"]
    assert quasars["redshift"].notna().mean() > 0.8
    assert quasars["redshift"].median() > 0.5
    stars = simbad[simbad["main_type"].isin(["Star", "TTau*", "BYDra"])]
    assert stars["plx"].notna().mean() > 0.5
    assert (stars["plx"].dropna() > 0).all()


def test_young_stars_are_softer_than_x_ray_binaries(matched):
    yso = matched.loc[matched["main_type"].isin(YSO_LABELS), "hard_hs"]
    xrb = matched.loc[matched["main_type"].isin(XRB_LABELS), "hard_hs"]
    assert len(yso) > 500 and len(xrb) > 100
    assert yso.median() < xrb.median() - 0.3


def test_quasars_and_seyferts_have_agn_photon_indices(matched):
    agn = matched.loc[matched["main_type"].isin(QSO_SEYFERT_LABELS), "powlaw_gamma"]
    assert len(agn) > 2000
    assert 1.7 <= agn.median() <= 2.1


def test_young_stars_crowd_the_galactic_plane_and_quasars_do_not(matched):
    yso_b = matched.loc[matched["main_type"].isin(YSO_LABELS), "gal_b"].abs()
    qso_b = matched.loc[matched["main_type"] == "QSO", "gal_b"].abs()
    assert yso_b.median() < 20 < qso_b.median()


# --- the truth --------------------------------------------------------------------


def test_truth_has_a_row_per_source_in_name_order(demo_tables, detections):
    truth = demo_tables.truth.to_pandas()
    assert demo_tables.truth.schema.equals(TRUTH_SCHEMA)
    assert list(truth["name"]) == sorted(detections["name"].unique())
    per_source = detections.groupby("name").size()
    assert (truth.set_index("name")["n_detections"] == per_source).all()
    labels = {kind.label: kind.population for kind in KINDS}
    assert (truth["label"].map(labels) == truth["population"]).all()
    assert (
        truth.loc[truth["is_target"], "field_kind"].isin(["extragalactic", "galactic_plane"]).all()
    )


def test_truth_names_each_counterpart_and_it_is_there(demo_tables, sources, simbad):
    truth = demo_tables.truth.to_pandas().merge(sources, on="name")
    assert (truth["has_counterpart"] == truth["counterpart_main_id"].notna()).all()
    assert 0.70 <= truth["has_counterpart"].mean() <= 0.85
    known = truth[truth["has_counterpart"]].merge(
        simbad, left_on="counterpart_main_id", right_on="main_id", suffixes=("", "_simbad")
    )
    assert len(known) == truth["has_counterpart"].sum()
    assert (known["main_type"] == known["label"]).all()
    offset = SkyCoord(known["ra"].to_numpy() * u.deg, known["dec"].to_numpy() * u.deg).separation(
        SkyCoord(known["ra_simbad"].to_numpy() * u.deg, known["dec_simbad"].to_numpy() * u.deg)
    )
    assert (offset < COUNTERPART_RADIUS).all()
    # What a classifier is scored on: sources SIMBAD does not know, of every population.
    unknown = truth.loc[~truth["has_counterpart"], "population"]
    assert len(unknown) > 1000 and unknown.nunique() == len({k.population for k in KINDS})


def test_the_demo_command_loads_the_tables_but_never_the_truth(tmp_path, capsys):
    warehouse = tmp_path / "warehouse.duckdb"
    argv = ["demo", "--out", str(tmp_path / "demo"), "--detections", "2000", "--load"]
    assert ingest_main([*argv, "--db", str(warehouse)]) == 0
    assert "demo_truth.parquet" in capsys.readouterr().out
    assert (tmp_path / "demo" / "demo_truth.parquet").exists()
    with duckdb.connect(str(warehouse), read_only=True) as con:
        loaded = con.sql("select file, row_count from raw.load_log").fetchall()
        tables = con.sql(
            "select table_name from information_schema.tables where table_schema = 'raw'"
        ).fetchall()
    assert sorted(Path(file).name for file, _ in loaded) == [
        "csc_detections.parquet",
        "simbad_objects.parquet",
    ]
    assert dict((Path(file).name, rows) for file, rows in loaded)["csc_detections.parquet"] == 2000
    assert not any("truth" in name for (name,) in tables)


# --- skies of other sizes -----------------------------------------------------------

# Detections, and how far a sky's proportions may stray from the default's: a small sky
# has a few fields only, so its proportions scatter more.
SCALED_SIZES = {2_000: 0.6, 50_000: 0.15}


@pytest.fixture(scope="module")
def scaled_skies() -> dict[int, DemoTables]:
    return {n: generate_demo(size=DemoSize.scaled(n)) for n in SCALED_SIZES}


@pytest.mark.parametrize("n", SCALED_SIZES)
def test_a_scaled_sky_has_exactly_its_detections_and_the_rest_in_proportion(scaled_skies, n):
    tables = scaled_skies[n]
    detections = tables.detections.to_pandas()
    tolerance = SCALED_SIZES[n]
    assert len(detections) == n
    n_sources = detections["name"].nunique()
    assert tables.truth.num_rows == n_sources
    assert n / n_sources == pytest.approx(DETECTIONS_PER_SOURCE, rel=tolerance)
    assert n / detections["obsid"].nunique() == pytest.approx(
        DETECTIONS_PER_POINTING, rel=tolerance
    )
    simbad_per_detection = tables.simbad_objects.num_rows / n
    assert simbad_per_detection == pytest.approx(SCALED_SIMBAD_PER_DETECTION, rel=tolerance)


@pytest.mark.parametrize("n", SCALED_SIZES)
def test_a_scaled_sky_keeps_the_contract(scaled_skies, n):
    tables = scaled_skies[n]
    detections = tables.detections.to_pandas()
    simbad = tables.simbad_objects.to_pandas()
    assert tables.detections.schema.equals(CSC_DETECTIONS.arrow_schema)
    assert tables.simbad_objects.schema.equals(SIMBAD_OBJECTS.arrow_schema)
    assert not detections.duplicated(list(DETECTION_KEY)).any()
    assert not detections.duplicated(["name", "obsid"]).any()
    assert not detections.duplicated(["obsid", "region_id"]).any()
    assert simbad["main_id"].is_unique
    assert detections[list(CSC_DETECTIONS.required)].notna().all().all()
    assert set(simbad["main_type"]) <= set(SIMBAD_LONG_LABELS)
    # Every sky keeps the fields across RA 0/360 and near the poles.
    assert (detections["ra"] < 0.5).any() and (detections["ra"] > 359.5).any()
    assert (detections["dec"] > 80).any() and (detections["dec"] < -80).any()


def test_a_large_sky_keeps_the_mix_of_populations(demo_tables, scaled_skies):
    # The 50,000-detection sky; the 2,000 one has too few fields for a stable mix.
    large = scaled_skies[50_000].truth.to_pandas()
    default = demo_tables.truth.to_pandas()
    shares = pd.concat(
        {
            "default": default["population"].value_counts(normalize=True),
            "large": large["population"].value_counts(normalize=True),
        },
        axis=1,
    )
    assert (shares["large"] - shares["default"]).abs().max() < 0.05, shares
    assert large["has_counterpart"].mean() == pytest.approx(
        default["has_counterpart"].mean(), abs=0.03
    )
    per_source = large["n_detections"]
    assert (per_source == 1).mean() > 0.4 and per_source.max() >= 20


def test_a_scaled_sky_is_the_same_run_to_run(scaled_skies):
    first, second = scaled_skies[2_000], generate_demo(size=DemoSize.scaled(2_000))
    for table in ("detections", "simbad_objects", "truth"):
        assert _content_sha256(getattr(first, table)) == _content_sha256(getattr(second, table))


def _sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _content_sha256(table: pa.Table) -> str:
    """sha256 of a table's column names, types, nulls and values, however Arrow lays the
    buffers out."""
    digest = hashlib.sha256(repr([(f.name, str(f.type)) for f in table.schema]).encode())
    for column in table.columns:
        digest.update(column.is_null().to_numpy().tobytes())
        values = column.to_numpy()
        if values.dtype == object:  # strings
            digest.update("\0".join(map(str, values)).encode())
        else:
            digest.update(values.tobytes())
    return digest.hexdigest()
