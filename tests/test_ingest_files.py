"""Loading local files into the raw schema: formats, crossmatch files, errors, the log, the CLI.

Every test writes a real DuckDB file in tmp_path; input files are the real samples in
../shared (tests using them skip without it) or small tables written here.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from astropy.table import MaskedColumn
from astropy.table import Table as AstropyTable

from ingest.__main__ import COMMAND_MODULES, build_parser
from ingest.errors import IngestError
from ingest.files import InputFile, InputSet
from ingest.loader import ensure_raw_tables, load_input_set, read_inputs_toml
from ingest.schema import (
    CSC_DETECTIONS,
    LOAD_LOG,
    RAW_TABLES,
    SIMBAD_CROSSMATCH,
    SIMBAD_OBJECTS,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
RAW_AND_LOG = [*(table.name for table in RAW_TABLES), LOAD_LOG.name]

DETECTIONS_HEADER = "name,obsid,region_id,ra,dec\n"
# SIMBAD's R and r (and B) are different magnitudes.
GOOD_SIMBAD = """
main_id,ra,dec,main_type,B,R,r
SIMBAD A,10.0001,20.0001,QSO,18.1,17.5,17.3
SIMBAD C,30.0002,-5.0001,AGN,19.0,,18.8
"""


def load(warehouse: Path, **files: Path | InputFile):
    inputs = {
        role: file if isinstance(file, InputFile) else InputFile(file)
        for role, file in files.items()
    }
    return load_input_set(InputSet(**inputs), warehouse)


def query(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def snapshot(warehouse: Path) -> dict[str, list[tuple]]:
    """Every row of the raw tables and the load log, in a stable order."""
    return {
        name: query(warehouse, f"SELECT * FROM raw.{name} ORDER BY ALL") for name in RAW_AND_LOG
    }


def write_csv(path: Path, text: str) -> Path:
    path.write_text(text.lstrip())
    return path


def run_cli(*args: str, env: dict[str, str] | None = None, cwd: Path = REPO_ROOT):
    return subprocess.run(
        [sys.executable, "-m", "ingest", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, **(env or {})},
    )


# ---------------------------------------------------------------------------
# Real files.


def test_topcat_crossmatch_is_split_into_detections_and_pairs(topcat_sample, tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    load(warehouse, detections=topcat_sample)

    assert query(warehouse, "SELECT count(*) FROM raw.csc_detections") == [(1615,)]
    assert query(
        warehouse, "SELECT count(DISTINCT (name, obsid, region_id)) FROM raw.csc_detections"
    ) == [(1615,)]
    # 98 detections have no SIMBAD counterpart within 3 arcsec.
    assert query(warehouse, "SELECT count(*) FROM raw.simbad_crossmatch") == [(1517,)]

    with topcat_sample.open(newline="") as stream:
        file_rows = {
            (row["name_1"], int(row["obsid"]), int(row["region_id"])): row
            for row in csv.DictReader(stream)
        }
    detections = query(warehouse, "SELECT name, obsid, region_id, ra, dec FROM raw.csc_detections")
    for name, obsid, region_id, ra, dec in detections:
        row = file_rows[(name, obsid, region_id)]
        assert (ra, dec) == (float(row["ra"]), float(row["dec"]))

    def number(text: str) -> float | None:
        return float(text) if text else None

    pairs = query(
        warehouse,
        "SELECT name, obsid, region_id, main_id, ra, dec, mag_r, mag_r_sdss, mag_b,"
        " ang_dist_arcsec FROM raw.simbad_crossmatch",
    )
    for name, obsid, region_id, main_id, *values in pairs:
        row = file_rows[(name, obsid, region_id)]
        assert main_id == row["main_id"]
        expected = [row[column] for column in ("ra_x", "dec_x", "R_x", "r_xa", "B", "angDist")]
        assert values == [number(text) for text in expected]
    magnitudes = query(
        warehouse, "SELECT count(mag_r), count(mag_r_sdss) FROM raw.simbad_crossmatch"
    )
    assert magnitudes == [
        (
            sum(1 for row in file_rows.values() if row["main_id"] and row["R_x"]),
            sum(1 for row in file_rows.values() if row["main_id"] and row["r_xa"]),
        )
    ]

    log = query(
        warehouse,
        "SELECT raw_table, row_count, missing_columns, ignored_columns FROM raw.load_log"
        " ORDER BY raw_table",
    )
    assert [(table, rows) for table, rows, _, _ in log] == [
        ("csc_detections", 1615),
        ("simbad_crossmatch", 1517),
    ]
    extras = {"col1", "name_2", "class", "GroupID", "GroupSize", "cluster", "ra_sexa", "dec_sexa"}
    extras |= {f"prob_{component}" for component in range(6)}
    for _, _, _missing, ignored in log:
        assert extras <= set(ignored)
        assert not {"ra_x", "dec_x", "R_x", "r_xa", "angDist", "name_1"} & set(ignored)
    assert set(log[0][2]) == {
        "powlaw_gamma_lolim",
        "powlaw_gamma_hilim",
        "bb_kt_lolim",
        "bb_kt_hilim",
    }
    assert log[1][2] == []


def test_cscview_votable_is_read_by_field_names(cscview_votable, tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    report = load(warehouse, detections=cscview_votable)

    assert query(
        warehouse, "SELECT name, obsid, region_id, powlaw_gamma, hard_ms FROM raw.csc_detections"
    ) == [("2CXO J004307.5-092302", 4884, None, None, -0.13616489693941)]
    load_row = report.loads["csc_detections"]
    assert {"region_id", "likelihood", "theta", "gti_start"} <= set(load_row.missing_columns)
    assert set(load_row.ignored_columns) == {
        "separation",
        "err_ellipse_r0",
        "err_ellipse_r1",
        "err_ellipse_ang",
        "likelihood_class",
        "var_sigma_u",
    }
    assert query(warehouse, "SELECT file_format, missing_columns FROM raw.load_log") == [
        ("votable", list(load_row.missing_columns))
    ]


# ---------------------------------------------------------------------------
# Formats.


def detections_table() -> AstropyTable:
    """Three detections with a null integer, null floats, tiny and huge values."""
    table = AstropyTable()
    table["name"] = ["2CXO J001954.3+155741", "2CXO J012450.8+032734", "2CXO J004307.5-092302"]
    table["obsid"] = np.array([1595, 2924, 4884], dtype=np.int32)
    table["region_id"] = MaskedColumn(np.array([57, 56, 0], dtype=np.int32), mask=[0, 0, 1])
    table["ra"] = [4.976495803455521, 21.211775075309447, 10.781298349312351]
    table["dec"] = [15.961544994199, 3.4596831659951257, -9.383953646551543]
    table["powlaw_gamma"] = MaskedColumn([2.30424, 0.0, 1.79936], mask=[0, 1, 0])
    table["var_mean_s"] = [0.06619130611406923, 9.007070382772946e-4, 1.1692215714259091e-4]
    table["gti_start"] = [1.085683038253e8, 1.6020375871923e8, 2.0e8]
    table["flux_aper_b"] = MaskedColumn([7.1102216444884e-13, 0.0, 2.1e-13], mask=[0, 1, 0])
    return table


def write_detections(table: AstropyTable, path: Path) -> Path:
    if path.suffix == ".parquet":
        arrays = {
            name: pa.array(np.ma.getdata(table[name]), mask=np.ma.getmaskarray(table[name]))
            for name in table.colnames
        }
        pq.write_table(pa.table(arrays), path)
    elif path.suffix == ".csv":
        table.write(path, format="ascii.csv")
    elif path.name.endswith((".vot", ".xml")):
        table.write(path, format="votable")
    else:
        table.write(path, format="fits")
    return path


def test_every_format_loads_the_same_rows(tmp_path):
    table = detections_table()
    loaded = {}
    for file_name in ["d.csv", "d.parquet", "d.fits", "d.fits.gz", "d.vot", "d.xml"]:
        warehouse = tmp_path / f"{file_name}.duckdb"
        load(warehouse, detections=write_detections(table, tmp_path / file_name))
        loaded[file_name] = query(warehouse, "SELECT * FROM raw.csc_detections ORDER BY name")
    reference = loaded.pop("d.parquet")
    assert reference[0][:5] == (
        "2CXO J001954.3+155741",
        1595,
        57,
        4.976495803455521,
        15.961544994199,
    )
    assert [row[2] for row in reference] == [57, None, 56]  # the null region_id
    for file_name, rows in loaded.items():
        assert rows == reference, file_name


def test_format_override_reads_a_file_with_another_extension(tmp_path):
    path = write_detections(detections_table(), tmp_path / "detections.csv").rename(
        tmp_path / "detections.txt"
    )
    warehouse = tmp_path / "warehouse.duckdb"
    with pytest.raises(IngestError, match=r"detections\.txt: unknown format"):
        load(warehouse, detections=path)
    load(warehouse, detections=InputFile(path, "csv"))
    assert query(warehouse, "SELECT count(*), any_value(file_format) FROM raw.load_log") == [
        (1, "csv")
    ]


# ---------------------------------------------------------------------------
# CDS X-Match style files: several candidates per detection, names that clash.

XMATCH_ROWS = """
0.52,2CXO J000001.0+000001,100,1,10.0,20.0,5.0,SIMBAD A,10.0001,20.0001,QSO,QSO|X,12,18.1,17.5,17.3
1.93,2CXO J000001.0+000001,100,1,10.0,20.0,5.0,SIMBAD B,10.0005,19.9996,Star,*,3,,16.0,
0.71,2CXO J000002.0-000002,200,2,30.0,-5.0,7.5,SIMBAD C,30.0002,-5.0001,AGN,AGN,40,19.0,,18.8
"""

XMATCH_HEADERS = {
    # The service's own CSV repeats the uploaded table's ra, dec.
    "repeated": "angDist,name,obsid,region_id,ra,dec,significance,main_id,ra,dec,",
    # STILTS, and astroquery's old CSV parser.
    "numbered": "angDist,name,obsid,region_id,ra_1,dec_1,significance,main_id,ra_2,dec_2,",
    # astropy reading the service's VOTable by field names.
    "astropy": "angDist,name,obsid,region_id,ra,dec,significance,main_id,ra2,dec2,",
    # An upload whose positions do not clash, as `python -m ingest simbad` sends it.
    "csc_prefixed": "angDist,name,obsid,region_id,csc_ra,csc_dec,significance,main_id,ra,dec,",
}
XMATCH_SIMBAD_HEADER = "main_type,other_types,nbref,B,R,r\n"


def write_xmatch(path: Path, header: str = XMATCH_HEADERS["repeated"], rows: str = XMATCH_ROWS):
    return write_csv(path, header + XMATCH_SIMBAD_HEADER + rows.lstrip())


@pytest.mark.parametrize("header_style", XMATCH_HEADERS)
def test_xmatch_file_with_several_candidates_per_detection(header_style, tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    xmatch = write_xmatch(tmp_path / "xmatch.csv", XMATCH_HEADERS[header_style])
    load(warehouse, detections=xmatch)

    assert query(
        warehouse, "SELECT name, obsid, region_id, ra, dec FROM raw.csc_detections ORDER BY name"
    ) == [
        ("2CXO J000001.0+000001", 100, 1, 10.0, 20.0),
        ("2CXO J000002.0-000002", 200, 2, 30.0, -5.0),
    ]
    assert query(
        warehouse,
        "SELECT obsid, main_id, ra, dec, main_type, nbref, mag_b, mag_r, mag_r_sdss,"
        " ang_dist_arcsec FROM raw.simbad_crossmatch ORDER BY main_id",
    ) == [
        (100, "SIMBAD A", 10.0001, 20.0001, "QSO", 12, 18.1, 17.5, 17.3, 0.52),
        (100, "SIMBAD B", 10.0005, 19.9996, "Star", 3, None, 16.0, None, 1.93),
        (200, "SIMBAD C", 30.0002, -5.0001, "AGN", 40, 19.0, None, 18.8, 0.71),
    ]


def test_xmatch_file_as_crossmatch_beside_plain_detections(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    detections = write_csv(
        tmp_path / "detections.csv",
        DETECTIONS_HEADER
        + "2CXO J000001.0+000001,100,1,10,20\n"
        + "2CXO J000002.0-000002,200,2,30,-5\n",
    )
    report = load(warehouse, detections=detections, crossmatch=write_xmatch(tmp_path / "x.csv"))

    assert query(warehouse, "SELECT count(*) FROM raw.simbad_crossmatch") == [(3,)]
    assert query(warehouse, "SELECT DISTINCT ra FROM raw.simbad_crossmatch WHERE obsid = 200") == [
        (30.0002,)
    ]
    # The CSC side's own columns are not SIMBAD's: they are reported, not loaded.
    assert set(report.loads["simbad_crossmatch"].ignored_columns) == {
        "ra_1",
        "dec_1",
        "significance",
    }


def test_pairs_file_in_the_contract_shape_keeps_simbad_positions(tmp_path):
    # As `python -m ingest simbad` writes it: a bare ra, dec are SIMBAD's.
    pairs = pa.table(
        {
            "name": ["2CXO J000001.0+000001", "2CXO J000001.0+000001"],
            "obsid": pa.array([100, 100], pa.int32()),
            "region_id": pa.array([1, 1], pa.int32()),
            "main_id": ["SIMBAD A", "SIMBAD B"],
            "ra": [10.0001, 10.0005],
            "dec": [20.0001, 19.9996],
            "main_type": ["QSO", "Star"],
            "ang_dist_arcsec": [0.52, 1.93],
        }
    )
    pq.write_table(pairs, tmp_path / "pairs.parquet")
    detections = write_csv(
        tmp_path / "detections.csv", DETECTIONS_HEADER + "2CXO J000001.0+000001,100,1,10,20\n"
    )
    warehouse = tmp_path / "warehouse.duckdb"
    report = load(warehouse, detections=detections, crossmatch=tmp_path / "pairs.parquet")

    assert query(
        warehouse,
        "SELECT main_id, ra, dec, ang_dist_arcsec FROM raw.simbad_crossmatch ORDER BY main_id",
    ) == [("SIMBAD A", 10.0001, 20.0001, 0.52), ("SIMBAD B", 10.0005, 19.9996, 1.93)]
    assert report.loads["simbad_crossmatch"].ignored_columns == ()


def test_repeated_detection_with_different_values_is_an_error(tmp_path):
    # The second candidate's row gives the first detection another significance.
    rows = XMATCH_ROWS.replace("1,10.0,20.0,5.0,SIMBAD B", "1,10.0,20.0,5.5,SIMBAD B")
    xmatch = write_xmatch(tmp_path / "xmatch.csv", rows=rows)
    with pytest.raises(IngestError) as error:
        load(tmp_path / "warehouse.duckdb", detections=xmatch)
    message = str(error.value)
    assert "xmatch.csv" in message
    assert "rows 1, 2" in message
    assert "differs in significance" in message


def test_crossmatch_detections_file_with_a_second_crossmatch_is_an_error(tmp_path):
    xmatch = write_xmatch(tmp_path / "xmatch.csv")
    with pytest.raises(IngestError, match="already gives raw.simbad_crossmatch"):
        load(tmp_path / "warehouse.duckdb", detections=xmatch, crossmatch=xmatch)


# ---------------------------------------------------------------------------
# Bad input: a clear message, and nothing changed.

BAD_INPUTS = {
    "missing_required_column": (
        "detections",
        "bad.csv",
        "name,region_id,ra,dec\n2CXO J1,1,10.0,20.0\n",
        ["missing required column", "'obsid'"],
    ),
    "wrong_type": (
        "detections",
        "bad.csv",
        DETECTIONS_HEADER + "a,1,1,10,20\nb,2,1,11,21\nc,3x,1,12,22\n",
        ["column 'obsid' must hold whole numbers", "row 3 has '3x'"],
    ),
    "fractional_integer": (
        "detections",
        "bad.csv",
        DETECTIONS_HEADER + "a,1,1.5,10,20\n",
        ["column 'region_id'", "row 1 has '1.5'"],
    ),
    "text_in_number_column": (
        "detections",
        "bad.csv",
        DETECTIONS_HEADER + "a,1,1,10,20\nb,2,1,00 19 54.3,21\n",
        ["column 'ra' must hold numbers", "row 2 has '00 19 54.3'"],
    ),
    "empty_required_value": (
        "detections",
        "bad.csv",
        DETECTIONS_HEADER + "a,1,1,10,20\n,2,1,11,21\n",
        ["column 'name'", "required but empty", "row 2"],
    ),
    "duplicate_detection_key": (
        "detections",
        "bad.csv",
        DETECTIONS_HEADER + "a,1,1,10,20\nb,1,1,11,21\na,1,1,12,22\nc,1,,1,2\nc,1,,3,4\n",
        [
            "2 duplicate key(s) (name, obsid, region_id)",
            "(name='a', obsid=1, region_id=1) in rows 1, 3",
            "(name='c', obsid=1, region_id=None) in rows 4, 5",
        ],
    ),
    "duplicate_simbad_object": (
        "simbad",
        "bad.csv",
        "main_id,ra,dec,main_type\nM 31,1,2,G\nM 31,1,2,G\n",
        ["duplicate key(s) (main_id)", "rows 1, 2"],
    ),
    "ambiguous_letter_case": (
        "detections",
        "bad.csv",
        "name,obsid,RA,Ra,dec\na,1,10,10,20\n",
        ["RA, Ra differ only by letter case"],
    ),
    "positions_that_differ_by_case": (
        "detections",
        "bad.csv",
        "name,obsid,RA,DEC,main_id,ra,dec,main_type\n2CXO J1,1,10,20,SIMBAD A,10.1,20.1,QSO\n",
        ["RA, ra differ only by letter case"],
    ),
    "empty_file": ("detections", "bad.csv", "", ["the file is empty"]),
    "header_only": ("detections", "bad.csv", DETECTIONS_HEADER, ["no rows"]),
    "unreadable_parquet": (
        "detections",
        "bad.parquet",
        "name,obsid\n",
        ["cannot read it as parquet"],
    ),
    "unreadable_votable": (
        "detections",
        "bad.vot",
        "<VOTABLE><RESOURCE>",
        ["cannot read it as votable"],
    ),
    "unknown_format": ("detections", "bad.txt", DETECTIONS_HEADER, ["unknown format"]),
    "pair_without_detection": (
        "crossmatch",
        "bad.csv",
        "name,obsid,region_id,main_id,main_type\n2CXO J9,9,9,SIMBAD A,QSO\n",
        ["not among the loaded detections", "(name='2CXO J9', obsid=9, region_id=9)"],
    ),
}


@pytest.fixture
def loaded_warehouse(tmp_path) -> Path:
    """A warehouse holding a good input set: every raw table non-empty."""
    warehouse = tmp_path / "warehouse.duckdb"
    load(
        warehouse,
        detections=write_xmatch(tmp_path / "xmatch.csv"),
        simbad=write_csv(tmp_path / "simbad.csv", GOOD_SIMBAD),
    )
    return warehouse


@pytest.mark.parametrize("case", BAD_INPUTS)
def test_bad_input_is_reported_and_changes_nothing(case, loaded_warehouse, tmp_path):
    role, file_name, content, expected = BAD_INPUTS[case]
    before = snapshot(loaded_warehouse)
    bad_file = write_csv(tmp_path / file_name, content)
    good_detections = write_xmatch(tmp_path / "xmatch.csv")
    files = {"detections": good_detections, role: bad_file}
    if role == "crossmatch":
        files["detections"] = write_csv(
            tmp_path / "plain.csv", DETECTIONS_HEADER + "2CXO J1,1,1,10,20\n"
        )

    with pytest.raises(IngestError) as error:
        load(loaded_warehouse, **files)

    message = str(error.value)
    assert str(bad_file) in message
    for fragment in expected:
        assert fragment in message
    assert snapshot(loaded_warehouse) == before


def test_duplicate_keys_are_counted_and_five_are_shown(tmp_path):
    rows = "".join(f"2CXO J{number},1,1,10,20\n" * 2 for number in range(7))
    bad = write_csv(tmp_path / "bad.csv", DETECTIONS_HEADER + rows)
    with pytest.raises(IngestError) as error:
        load(tmp_path / "warehouse.duckdb", detections=bad)
    message = str(error.value)
    assert "7 duplicate key(s)" in message
    assert message.count(" in rows ") == 5
    assert "(name='2CXO J4', obsid=1, region_id=1) in rows 9, 10" in message


def test_missing_file_is_reported(tmp_path):
    with pytest.raises(IngestError, match=r"nowhere\.csv: no such file"):
        load(tmp_path / "warehouse.duckdb", detections=tmp_path / "nowhere.csv")
    assert not (tmp_path / "warehouse.duckdb").exists()


def test_failed_write_rolls_back_every_table(loaded_warehouse, tmp_path):
    # A load log from another version of the loader: inserting into it fails after
    # the raw tables have been replaced inside the transaction.
    with duckdb.connect(str(loaded_warehouse)) as con:
        con.execute("ALTER TABLE raw.load_log DROP COLUMN loaded_at")
    before = snapshot(loaded_warehouse)
    plain = write_csv(tmp_path / "plain.csv", DETECTIONS_HEADER + "2CXO J1,1,1,10,20\n")

    with pytest.raises(IngestError, match="rolled back"):
        load(loaded_warehouse, detections=plain)

    assert snapshot(loaded_warehouse) == before


# ---------------------------------------------------------------------------
# Load semantics and the load log.


def test_load_log_records_each_file(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    detections = write_detections(detections_table(), tmp_path / "detections.parquet")
    simbad = write_csv(tmp_path / "simbad.csv", GOOD_SIMBAD)
    started = datetime.now(UTC)
    load(warehouse, detections=detections, simbad=simbad)
    load(warehouse, detections=detections)

    log = query(
        warehouse,
        "SELECT load_id, raw_table, file, file_format, file_bytes, sha256, row_count,"
        " missing_columns, ignored_columns, loaded_at"
        " FROM raw.load_log ORDER BY load_id, raw_table",
    )
    assert [(row[0], row[1]) for row in log] == [
        (1, "csc_detections"),
        (1, "simbad_objects"),
        (2, "csc_detections"),
    ]
    for row, path, rows in [(log[0], detections, 3), (log[1], simbad, 2)]:
        _, _, file, file_format, file_bytes, sha256, row_count, missing, ignored, loaded_at = row
        assert file == str(path.resolve())
        assert file_format == path.suffix.lstrip(".")
        assert file_bytes == path.stat().st_size
        assert sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
        assert row_count == rows
        assert ignored == []
        assert started - timedelta(seconds=1) <= loaded_at <= datetime.now(UTC)
    assert "likelihood" in log[0][7]
    assert "mag_v" in log[1][7] and "mag_r" not in log[1][7]


def test_each_load_replaces_every_raw_table(loaded_warehouse, tmp_path):
    assert all(snapshot(loaded_warehouse)[table.name] for table in RAW_TABLES)
    plain = write_csv(tmp_path / "plain.csv", DETECTIONS_HEADER + "2CXO J1,1,1,10,20\n")
    load(loaded_warehouse, detections=plain)

    tables = snapshot(loaded_warehouse)
    unloaded = [None] * (len(CSC_DETECTIONS.columns) - 5)
    assert tables["csc_detections"] == [("2CXO J1", 1, 1, 10.0, 20.0, *unloaded)]
    assert tables["simbad_objects"] == []
    assert tables["simbad_crossmatch"] == []
    assert [row[0] for row in tables["load_log"]] == [1, 1, 1, 2]


def test_simbad_magnitudes_that_differ_by_case_stay_apart(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    load(warehouse, simbad=write_csv(tmp_path / "simbad.csv", GOOD_SIMBAD))
    assert query(
        warehouse, "SELECT main_id, mag_b, mag_r, mag_r_sdss FROM raw.simbad_objects ORDER BY 1"
    ) == [("SIMBAD A", 18.1, 17.5, 17.3), ("SIMBAD C", 19.0, None, 18.8)]


def test_ensure_raw_tables_creates_the_contract_schemas(tmp_path):
    sql_types = {
        pa.string(): "VARCHAR",
        pa.int32(): "INTEGER",
        pa.int64(): "BIGINT",
        pa.float64(): "DOUBLE",
        pa.list_(pa.string()): "VARCHAR[]",
        pa.timestamp("us", tz="UTC"): "TIMESTAMP WITH TIME ZONE",
    }
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:
        ensure_raw_tables(con)
        ensure_raw_tables(con)  # idempotent
        for table in (CSC_DETECTIONS, SIMBAD_OBJECTS, SIMBAD_CROSSMATCH, LOAD_LOG):
            described = con.execute(f"DESCRIBE raw.{table.name}").fetchall()
            assert [(row[0], row[1]) for row in described] == [
                (column, sql_types[column_type]) for column, column_type in table.columns.items()
            ]
            assert con.execute(f"SELECT count(*) FROM raw.{table.name}").fetchone() == (0,)


# ---------------------------------------------------------------------------
# Inputs file and command line.


def test_inputs_toml_paths_are_relative_to_it(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    write_detections(detections_table(), data / "detections.vot")
    write_csv(data / "simbad.txt", GOOD_SIMBAD)
    inputs = tmp_path / "inputs.toml"
    inputs.write_text(
        'detections = "data/detections.vot"\nsimbad = "data/simbad.txt"\nsimbad_format = "csv"\n'
    )
    warehouse = tmp_path / "warehouse.duckdb"

    result = run_cli("files", "--inputs", str(inputs), "--db", str(warehouse), cwd=data)

    assert result.returncode == 0, result.stderr
    assert "raw.csc_detections: 3 rows" in result.stdout
    assert "raw.simbad_objects: 2 rows" in result.stdout
    assert "raw.simbad_crossmatch: empty" in result.stdout
    assert query(warehouse, "SELECT count(*) FROM raw.load_log") == [(2,)]


def test_inputs_example_names_known_inputs():
    inputs = read_inputs_toml(REPO_ROOT / "inputs.example.toml")
    assert inputs.detections is not None
    assert inputs.detections.path.is_relative_to(REPO_ROOT)


def test_unknown_inputs_key_is_an_error(tmp_path):
    inputs = tmp_path / "inputs.toml"
    inputs.write_text('detection = "d.csv"\n')
    with pytest.raises(IngestError, match="unknown key.*detection"):
        read_inputs_toml(inputs)


def test_cli_loads_into_the_warehouse_from_the_environment(tmp_path):
    detections = write_detections(detections_table(), tmp_path / "detections.fits")
    warehouse = tmp_path / "env" / "warehouse.duckdb"
    result = run_cli(
        "files", "--detections", str(detections), env={"XRAY_WAREHOUSE": str(warehouse)}
    )
    assert result.returncode == 0, result.stderr
    assert f"load 1 written to {warehouse}" in result.stdout
    assert query(warehouse, "SELECT count(*) FROM raw.csc_detections") == [(3,)]


def test_cli_reports_bad_input_with_status_2(tmp_path):
    bad = write_csv(tmp_path / "bad.csv", DETECTIONS_HEADER + "a,1,1,10,20\nb,x,1,11,21\n")
    result = run_cli("files", "--detections", str(bad), "--db", str(tmp_path / "w.duckdb"))
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: {bad}: column 'obsid'")
    assert "row 2 has 'x'" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_cli_without_inputs_is_an_error(tmp_path):
    result = run_cli("files", "--db", str(tmp_path / "w.duckdb"))
    assert result.returncode == 2
    assert "no input files" in result.stderr


def test_cli_demo_writes_and_loads_the_demo(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    result = run_cli("demo", "--out", str(tmp_path / "demo"), "--load", "--db", str(warehouse))
    assert result.returncode == 0, result.stderr
    assert query(warehouse, "SELECT raw_table FROM raw.load_log ORDER BY 1") == [
        ("csc_detections",),
        ("simbad_objects",),
    ]
    assert query(warehouse, "SELECT count(*) > 0 FROM raw.csc_detections") == [(True,)]


def test_each_command_is_registered_by_the_module_named_for_it():
    def commands(parser) -> set[str]:
        [subcommands] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        return set(subcommands.choices)

    assert commands(build_parser()) == set(COMMAND_MODULES)
    for command in COMMAND_MODULES:
        assert command in commands(build_parser(command))


def test_loading_files_imports_neither_the_archive_clients_nor_the_simulator():
    """`python -m ingest files` (what every `make build` of files runs) stays quick."""
    script = (
        "import sys; from ingest.__main__ import build_parser; build_parser('files');"
        " print(sorted({'pyvo', 'astroquery', 'demo'} & set(sys.modules)))"
    )
    imported = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=REPO_ROOT
    )
    assert imported.stdout.strip() == "[]"
