"""Every bad input is named at load time, and a failed load leaves the warehouse as it was.

Each case runs `python -m ingest files --db FILE ...` (in process: the same parser,
handler and error printing as the command line) on a warehouse that already holds a
good load, and checks the exit status, the message on stderr (file, column, rows or
keys, range) and that the DuckDB file is byte-identical afterwards. Inputs that are
odd but legitimate load, and the summary says what was done with them.
"""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ingest.__main__ import main as ingest_main
from ingest.schema import DESCRIPTORS

HEADER = "name,obsid,region_id,ra,dec,hard_hs,var_prob_b,var_mean_b,src_area_b\n"
ROWS = [
    "2CXO J000001.0+000001,100,1,10.0,20.0,-0.4,0.95,0.02,12.5",
    "2CXO J000002.0-000002,200,2,30.0,-5.0,0.3,0.10,0.004,40.1",
    "2CXO J000003.0+000003,300,3,45.0,60.0,0.1,0.50,1.2,8.0",
]
SECOND_ROW = "(name='2CXO J000002.0-000002', obsid=200, region_id=2)"


def with_value(column: str, value: str, row: int = 1) -> str:
    """The good CSV with `column` of data row `row` (0-based) set to `value`."""
    names = HEADER.strip().split(",")
    lines = [line.split(",") for line in ROWS]
    lines[row][names.index(column)] = value
    return HEADER + "".join(",".join(line) + "\n" for line in lines)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def ingest_files(capsys, warehouse: Path, *args: str) -> tuple[int, str, str]:
    """`python -m ingest files --db WAREHOUSE ARGS`: exit status, stdout, stderr."""
    status = ingest_main(["files", "--db", str(warehouse), *args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.fixture
def warehouse(tmp_path, capsys) -> Path:
    """A warehouse holding a good load of detections and SIMBAD objects."""
    good = tmp_path / "good.csv"
    good.write_text(HEADER + "".join(row + "\n" for row in ROWS))
    simbad = tmp_path / "simbad.csv"
    simbad.write_text("main_id,ra,dec,main_type\nSIMBAD A,10.0001,20.0001,QSO\n")
    path = tmp_path / "warehouse.duckdb"
    status, _, err = ingest_files(capsys, path, "--detections", str(good), "--simbad", str(simbad))
    assert status == 0, err
    return path


def assert_refused(capsys, warehouse: Path, role: str, bad: Path, *fragments: str) -> str:
    """The load of `bad` fails with exit 2 and `error: <file>: ...` naming every fragment,
    and the warehouse file is byte-identical."""
    before = sha256(warehouse)
    status, out, err = ingest_files(capsys, warehouse, f"--{role}", str(bad))
    assert status == 2
    assert err.startswith(f"error: {bad}: "), err
    for fragment in fragments:
        assert fragment in err, f"{fragment!r} not in {err!r}"
    assert out == ""
    assert sha256(warehouse) == before
    return err


# Values out of their physical range: (column, value, what the message must say).
OUT_OF_RANGE = {
    "ra_400": ("ra", "400", "must lie in [0, 360] deg", "has 400.0"),
    "dec_95": ("dec", "95", "must lie in [-90, 90] deg", "has 95.0"),
    "hardness_1.5": ("hard_hs", "1.5", "must lie in [-1, 1]", "has 1.5"),
    "negative_area": ("src_area_b", "-3", "must be > 0 arcsec^2", "has -3.0"),
    "zero_area": ("src_area_b", "0", "must be > 0 arcsec^2", "has 0.0"),
    "probability_above_1": ("var_prob_b", "1.2", "must lie in [0, 1]", "has 1.2"),
    "negative_count_rate": ("var_mean_b", "-0.5", "must be >= 0 count/s", "has -0.5"),
    "infinite_count_rate": ("var_mean_b", "inf", "must be >= 0 count/s", "has inf"),
}


@pytest.mark.parametrize("case", OUT_OF_RANGE)
def test_a_value_outside_its_physical_range_is_named(case, warehouse, tmp_path, capsys):
    column, value, allowed, shown = OUT_OF_RANGE[case]
    bad = tmp_path / "bad.csv"
    bad.write_text(with_value(column, value))
    assert_refused(
        capsys,
        warehouse,
        "detections",
        bad,
        f"column {column!r} (raw.csc_detections.{column}) {allowed}",
        f"1 row(s) are not: row 2 {SECOND_ROW} {shown}",
    )


def test_a_value_beyond_what_chandra_can_measure_is_named_with_the_reason(
    warehouse, tmp_path, capsys
):
    # Loaded, 1e308 would squeeze every other detection's var_mean_b into [0, 0.01].
    bad = tmp_path / "bad.csv"
    bad.write_text(with_value("var_mean_b", "1e308"))
    assert_refused(
        capsys,
        warehouse,
        "detections",
        bad,
        "column 'var_mean_b' (raw.csc_detections.var_mean_b) holds implausible values",
        "holds implausible values: it must lie in [0, 1e8] count/s, because the CSC's fastest",
        "1e8 count/s is beyond anything Chandra can record; 1 row(s) are not",
        f"row 2 {SECOND_ROW} has 1e+308",
    )


def test_rows_outside_a_range_are_counted_and_the_first_five_shown(warehouse, tmp_path, capsys):
    rows = "".join(f"2CXO J{n},{n},1,{360 + n},0.0,0,0,0,1\n" for n in range(1, 8))
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + rows)
    message = assert_refused(capsys, warehouse, "detections", bad, "7 row(s) are not")
    assert message.count(" has ") == 5
    assert "row 5 (name='2CXO J5', obsid=5, region_id=1) has 365.0" in message


def test_a_simbad_object_out_of_range_is_named_by_its_main_id(warehouse, tmp_path, capsys):
    bad = tmp_path / "simbad.csv"
    bad.write_text("main_id,ra,dec,main_type,coo_err_angle\nM 31,10.68,41.27,G,190\n")
    assert_refused(
        capsys,
        warehouse,
        "simbad",
        bad,
        "column 'coo_err_angle' (raw.simbad_objects.coo_err_angle) must lie in [0, 180] deg",
        "row 1 (main_id='M 31') has 190.0",
    )


def test_a_negative_crossmatch_separation_is_named(warehouse, tmp_path, capsys):
    detections = tmp_path / "detections.csv"
    detections.write_text(HEADER + ROWS[0] + "\n")
    pairs = tmp_path / "pairs.csv"
    pairs.write_text(
        "name,obsid,region_id,main_id,main_type,angDist\n"
        "2CXO J000001.0+000001,100,1,SIMBAD A,QSO,-0.5\n"
    )
    before = sha256(warehouse)
    status, _, err = ingest_files(
        capsys, warehouse, "--detections", str(detections), "--crossmatch", str(pairs)
    )
    assert status == 2
    assert err.startswith(f"error: {pairs}: column 'angDist'")
    assert "(raw.simbad_crossmatch.ang_dist_arcsec) must be >= 0 arcsec" in err
    assert "main_id='SIMBAD A') has -0.5" in err
    assert sha256(warehouse) == before


def test_a_repeated_column_name_is_an_error_naming_its_positions(warehouse, tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER.replace("var_prob_b", "hard_hs") + "".join(r + "\n" for r in ROWS))
    assert_refused(
        capsys,
        warehouse,
        "detections",
        bad,
        "repeated column name(s): 'hard_hs' at columns 6, 7",
        "only a crossmatch's two ra and two dec columns may share a name",
    )


def test_a_repeated_column_name_in_parquet_or_votable_is_an_error(warehouse, tmp_path, capsys):
    parquet = tmp_path / "bad.parquet"
    arrays = [pa.array(["2CXO J1"]), pa.array([1]), pa.array([1.0]), pa.array([2.0])]
    names = ["name", "obsid", "ra", "dec"]
    pq.write_table(pa.Table.from_arrays([*arrays, pa.array([7])], [*names, "obsid"]), parquet)
    assert_refused(capsys, warehouse, "detections", parquet, "'obsid' at columns 2, 5")

    votable = tmp_path / "bad.vot"
    fields = "".join(
        f'<FIELD name="{name}" datatype="{kind}"/>'
        for name, kind in [
            ("name", 'char" arraysize="*'),
            ("obsid", "int"),
            ("ra", "double"),
            ("dec", "double"),
            ("hard_hm", "double"),
            ("hard_hm", "double"),
        ]
    )
    cells = "".join(f"<TD>{v}</TD>" for v in ["2CXO J1", 1, 10.0, 20.0, 0.1, 0.2])
    votable.write_text(
        '<?xml version="1.0"?><VOTABLE version="1.4" xmlns="http://www.ivoa.net/xml/VOTable/v1.3">'
        f"<RESOURCE><TABLE>{fields}<DATA><TABLEDATA><TR>{cells}</TR></TABLEDATA></DATA>"
        "</TABLE></RESOURCE></VOTABLE>"
    )
    assert_refused(capsys, warehouse, "detections", votable, "'hard_hm' at columns 5, 6")


def test_bytes_that_are_not_utf8_are_named_by_line(warehouse, tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    text = HEADER + ROWS[0] + "\n" + ROWS[1].replace("2CXO", "Caf\xe9 2CXO") + "\n"
    bad.write_bytes(text.encode("latin-1"))
    assert_refused(
        capsys,
        warehouse,
        "detections",
        bad,
        "the file is not UTF-8 text: line 3 (the header is line 1) has the byte 0xe9",
        "save the file as UTF-8",
    )


def test_a_semicolon_separated_file_is_said_to_have_the_wrong_delimiter(
    warehouse, tmp_path, capsys
):
    bad = tmp_path / "bad.csv"
    bad.write_text("name;obsid;ra;dec\n2CXO J1;1;10,5;20,1\n")
    assert_refused(
        capsys,
        warehouse,
        "detections",
        bad,
        "the header is a single column, 'name;obsid;ra;dec'",
        "looks semicolon-separated, but a CSV must be comma-separated",
    )


def test_a_ragged_row_is_named_by_line(warehouse, tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + ROWS[0] + "\n" + ROWS[1] + ",extra\n" + ROWS[2] + "\n")
    assert_refused(
        capsys,
        warehouse,
        "detections",
        bad,
        "the header has 9 columns but 1 line(s) have another number of fields: line 3 has 10",
    )


@pytest.mark.parametrize("name", ["downloads.csv", "downloads"])
def test_a_directory_is_said_to_be_one(warehouse, tmp_path, capsys, name):
    """Whether or not its name looks like a file's."""
    directory = tmp_path / name
    directory.mkdir()
    (directory / "detections.vot").write_text("")
    assert_refused(
        capsys,
        warehouse,
        "detections",
        directory,
        "is a directory, not a file; give one of the files in it (detections.vot)",
    )


# Odd but legitimate inputs: loaded, and the summary says what was done.


def test_gzip_content_under_csv_is_read_through(tmp_path, capsys):
    compressed = tmp_path / "detections.csv"
    compressed.write_bytes(gzip.compress((HEADER + "".join(r + "\n" for r in ROWS)).encode()))
    warehouse = tmp_path / "warehouse.duckdb"
    status, out, err = ingest_files(capsys, warehouse, "--detections", str(compressed))
    assert status == 0, err
    assert f"raw.csc_detections: 3 rows from {compressed} (csv, gzip-compressed)" in out
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute(
            "select sum(obsid), max(var_mean_b) from raw.csc_detections"
        ).fetchall() == [(600, 1.2)]


def test_a_descriptor_column_left_empty_loads_as_null_and_is_reported(tmp_path, capsys):
    text = HEADER.replace("\n", ",bb_kt\n") + "".join(row + ",\n" for row in ROWS)
    detections = tmp_path / "detections.csv"
    detections.write_text(text)
    warehouse = tmp_path / "warehouse.duckdb"
    status, out, err = ingest_files(capsys, warehouse, "--detections", str(detections))
    assert status == 0, err
    assert "  empty in every row, loaded as null: bb_kt" in out
    with duckdb.connect(str(warehouse), read_only=True) as con:
        logged = con.execute("select missing_columns, empty_columns from raw.load_log").fetchone()
        assert con.execute("select count(bb_kt) from raw.csc_detections").fetchone() == (0,)
    missing, empty = logged
    assert empty == ["bb_kt"]
    assert "bb_kt" not in missing and "powlaw_gamma" in missing


def test_positions_only_detections_load(tmp_path, capsys):
    detections = tmp_path / "positions.csv"
    detections.write_text("name,obsid,ra,dec\n2CXO J1,1,10.0,20.0\n2CXO J2,2,359.9,-89.9\n")
    warehouse = tmp_path / "warehouse.duckdb"
    status, out, err = ingest_files(capsys, warehouse, "--detections", str(detections))
    assert status == 0, err
    assert "raw.csc_detections: 2 rows" in out
    with duckdb.connect(str(warehouse), read_only=True) as con:
        (missing,) = con.execute("select missing_columns from raw.load_log").fetchone()
    assert set(DESCRIPTORS) <= set(missing)
