"""The archive fetchers (`python -m ingest csc` / `simbad`) against recorded responses.

The recordings (tests/recordings, see its README) are served over real HTTP by a local
stand-in for the CSC TAP service and CDS X-Match; the fetchers are pointed at it through
the XRAY_* environment variables, so our code, pyvo and astroquery all run unmodified.
The `live` tests at the end send one tiny query to each real service.
"""

from __future__ import annotations

import io
import json
import re
import warnings
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import requests
from astropy.io.votable import from_table
from astropy.io.votable import parse as parse_votable
from astropy.utils.exceptions import AstropyWarning

from ingest import csc, xmatch
from ingest.__main__ import main as ingest_main
from ingest.archive_cache import ChunkCache, RetryPolicy, is_transient
from ingest.config import CSC_TAP_URL, XMATCH_URL, archive_settings
from ingest.schema import (
    CROSSMATCH_RADIUS_METADATA_KEY,
    CSC_DETECTIONS,
    DESCRIPTORS,
    SIMBAD_CROSSMATCH,
)
from tests.recordings.archive_replay import (
    EGS_CONE,
    NAMES,
    RECORDINGS,
    VOTABLE_CONTENT_TYPE,
    XMATCH_RADIUS_ARCSEC,
    ArchiveReplayServer,
    Fault,
    scenario_environment,
)
from tests.recordings.record import record

RETRY_ATTEMPTS = 3
# Sources of the recorded cone: 28 detections of 5 sources; a sixth, synthetic source
# in a corner of the RA/Dec box but outside the cone must be cut.
CONE_DETECTIONS = 28
OUTSIDE_CONE = "2CXO J141831.2+524500"
# The source the recordings give two SIMBAD candidates (both are kept).
TWO_CANDIDATES = "2CXO J141803.3+524127"
XMATCH_ERROR_VOTABLE = b"""<?xml version="1.0" encoding="UTF-8"?>
<VOTABLE version="1.2" xmlns="http://www.ivoa.net/xml/VOTable/v1.2">
<INFO ID="QUERY_STATUS" name="QUERY_STATUS" value="ERROR">Message: Catalogue must be a URL or
 simbad or vizier:tabName</INFO>
<RESOURCE/>
</VOTABLE>
"""

# A result the service cut at its row limit (TAP: the status after the table).
TAP_OVERFLOW_VOTABLE = b"""<?xml version="1.0" encoding="UTF-8"?>
<VOTABLE version="1.4" xmlns="http://www.ivoa.net/xml/VOTable/v1.3">
<RESOURCE type="results">
<INFO name="QUERY_STATUS" value="OK"/>
<TABLE><FIELD name="name" datatype="char" arraysize="*"/>
<DATA><TABLEDATA><TR><TD>2CXO J141735.3+523851</TD></TR></TABLEDATA></DATA></TABLE>
<INFO name="QUERY_STATUS" value="OVERFLOW"/>
</RESOURCE>
</VOTABLE>
"""
XMATCH_OVERFLOW_VOTABLE = b"""<?xml version="1.0" encoding="UTF-8"?>
<VOTABLE version="1.2" xmlns="http://www.ivoa.net/xml/VOTable/v1.2">
<RESOURCE type="results">
<INFO name="QUERY_STATUS" value="OVERFLOW"/>
<TABLE><FIELD name="angDist" datatype="double"/>
<DATA><TABLEDATA><TR><TD>0.1</TD></TR></TABLEDATA></DATA></TABLE>
</RESOURCE>
</VOTABLE>
"""

# A maintenance notice served with HTTP 200, as a proxy or a portal in front of the
# service would.
MAINTENANCE_PAGE = (
    b"<!DOCTYPE html><html><head><title>Scheduled maintenance</title>"
    b"<style>h1 {color: red}</style></head><body><h1>Service unavailable</h1>"
    b"<p>The archive is down until 14:00 UTC.</p></body></html>"
)
# The recorded answer to the cone's second strip (21 detections).
CONE_STRIP_2 = (RECORDINGS / "csc_tap" / "cone-2.vot").read_bytes()
XMATCH_CHUNK_1 = (RECORDINGS / "xmatch" / "simbad-1.vot").read_bytes()


def without_column(votable: bytes, column: str) -> bytes:
    """A recorded VOTable with one column left out: well-formed, but not the contract."""
    out = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AstropyWarning)  # the recordings' CDS-style units
        table = parse_votable(io.BytesIO(votable)).get_first_table().to_table()
        table.remove_column(column)
        from_table(table).to_xml(out)
    return out.getvalue()


def votable_fault(service: str, matches, body: bytes, **options) -> Fault:
    return Fault(
        service, matches, status=200, body=body, content_type=VOTABLE_CONTENT_TYPE, **options
    )


def error_message(capsys) -> str:
    """What the user sees on stderr after the progress bar: `error: ...`, no traceback."""
    err = capsys.readouterr().err
    match = re.search(r"(?:^|[\r\n])(error: .*)", err, re.DOTALL)
    assert match and "Traceback" not in err, err
    return match[1]


@pytest.fixture
def server():
    with ArchiveReplayServer() as running:
        yield running
        assert not running.unmatched, "requests without a recording (see tests/recordings)"


@pytest.fixture
def archive_env(server: ArchiveReplayServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The fetchers pointed at the replay server, caching in tmp_path, with tiny delays."""
    environment = {
        **scenario_environment(server.tap_url, server.xmatch_url, tmp_path / "cache"),
        "XRAY_ARCHIVE_TIMEOUT": "5",
        "XRAY_ARCHIVE_RETRY_ATTEMPTS": str(RETRY_ATTEMPTS),
        "XRAY_ARCHIVE_RETRY_DELAY": "0.01",
        "XRAY_ARCHIVE_RETRY_BACKOFF": "2",
        "XRAY_ARCHIVE_RETRY_MAX_DELAY": "0.05",
    }
    for variable, value in environment.items():
        monkeypatch.setenv(variable, value)
    return tmp_path


def ingest(*argv: str) -> int:
    """`python -m ingest ARGV`; its exit status."""
    return ingest_main(list(argv))


def fetch_cone(out: Path) -> int:
    ra, dec, radius = EGS_CONE
    return ingest("csc", "--cone", str(ra), str(dec), str(radius), "--out", str(out))


def cone_queries() -> list[str]:
    return [chunk.query for chunk in csc.plan_chunks(csc.Cone(*EGS_CONE), *_plan_inputs())]


def _plan_inputs():
    return csc.load_query_template(), archive_settings()


def failed_cone_fetch(archive_env: Path, capsys, server, *faults: Fault) -> str:
    """The message of a cone fetch that `faults` make fail (exit 2), nothing written."""
    server.faults.extend(faults)
    assert fetch_cone(archive_env / "out.parquet") == 2
    assert not (archive_env / "out.parquet").exists()
    return error_message(capsys)


def in_strip(low: str):
    """A fault filter: the TAP query of the declination strip starting at `low`."""
    return lambda fields: f"m.dec >= {low} AND" in fields.get("QUERY", "")


# The query and its chunks.


def test_query_selects_the_contract_columns_with_the_original_selection():
    template = csc.load_query_template()
    select_list = template.split("FROM")[0].removeprefix("SELECT DISTINCT")
    selected = [item.strip().split(".")[1] for item in select_list.split(",")]
    assert sorted(selected) == sorted(CSC_DETECTIONS.columns)
    assert set(DESCRIPTORS) <= set(selected)
    for table in ("master_source m", "master_stack_assoc a", "stack_source s"):
        assert f"csc21.{table}" in template
    for condition in ("o.flux_significance_b > 5", "o.powlaw_gamma IS NOT NULL"):
        assert condition in template
    assert "o.bb_kt IS NOT NULL" in template
    assert "--" not in template, "comment lines are not sent"


def test_whole_catalogue_is_fetched_in_strips_covering_every_declination_once(monkeypatch):
    monkeypatch.setenv("XRAY_CSC_DEC_STRIP_DEG", "2")
    chunks = csc.plan_chunks(csc.WHOLE_SKY, *_plan_inputs())
    conditions = [chunk.query.rsplit("AND (", 1)[1] for chunk in chunks]
    assert len(chunks) == 90
    assert conditions[0] == "m.dec >= -90 AND m.dec < -88)"
    assert conditions[45] == "m.dec >= 0 AND m.dec < 2)"
    assert conditions[-1] == "m.dec >= 88 AND m.dec <= 90)", "the pole is in the last strip"
    assert all("m.ra" not in condition for condition in conditions)


def test_a_cone_is_a_box_of_strips_on_the_server_and_cut_exactly_here(monkeypatch):
    monkeypatch.setenv("XRAY_CSC_DEC_STRIP_DEG", "0.1")
    labels = [chunk.label for chunk in csc.plan_chunks(csc.Cone(*EGS_CONE), *_plan_inputs())]
    assert labels == ["dec 52.57..52.6", "dec 52.6..52.7", "dec 52.7..52.77"]
    first = cone_queries()[0]
    assert first.endswith(
        "AND (m.dec >= 52.57 AND m.dec < 52.6 AND m.ra BETWEEN 214.3350919 AND 214.6649081)"
    )
    # Near RA 0 the box wraps; the service has no CIRCLE/CONTAINS, so none is sent.
    wrapped = csc.plan_chunks(csc.Cone(0.05, -30, 0.1), *_plan_inputs())[0].query
    assert "(m.ra >= 359.9345288 OR m.ra <= 0.1654712)" in wrapped
    assert "CIRCLE" not in wrapped and "CONTAINS" not in wrapped
    # Around a pole every RA is in.
    polar = csc.plan_chunks(csc.Cone(10, 89.95, 0.1), *_plan_inputs())[-1].query
    assert polar.endswith("AND (m.dec >= 89.9 AND m.dec <= 90)")


def test_a_box_scope_wraps_through_ra_zero(monkeypatch):
    monkeypatch.setenv("XRAY_CSC_DEC_STRIP_DEG", "5")
    (chunk,) = csc.plan_chunks(csc.Box(350, 10, 1, 4), *_plan_inputs())
    assert chunk.query.endswith("AND (m.dec >= 1 AND m.dec <= 4 AND (m.ra >= 350 OR m.ra <= 10))")
    with pytest.raises(ValueError, match="declinations"):
        csc.Box(0, 10, 5, -5)


def test_names_are_sent_in_chunks_of_in_lists(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("XRAY_CSC_NAMES_PER_CHUNK", "2")
    names_file = tmp_path / "names.txt"
    names_file.write_text("# my sources\n2CXO J1\n\n2CXO J2\n2CXO J1\nO'Brien\n")
    names = csc.Names.from_file(names_file)
    assert names.names == ("2CXO J1", "2CXO J2", "O'Brien")
    chunks = csc.plan_chunks(names, *_plan_inputs())
    assert [chunk.label for chunk in chunks] == ["names 1-2 of 3", "names 3-3 of 3"]
    assert chunks[0].query.endswith("AND (m.name IN ('2CXO J1', '2CXO J2'))")
    assert chunks[1].query.endswith("AND (m.name IN ('O''Brien'))")


# CSC over HTTP.


def test_cone_fetch_sends_the_planned_queries_and_writes_the_contract(archive_env, server):
    out = archive_env / "archive" / "csc_detections.parquet"
    assert fetch_cone(out) == 0

    assert [fields["QUERY"] for fields in server.queries("csc_tap")] == cone_queries()
    for fields in server.queries("csc_tap"):
        assert fields["REQUEST"] == "doQuery" and fields["LANG"] == "ADQL"
        assert fields["FORMAT"] == "votable"
    detections = pq.read_table(out)
    assert detections.schema == CSC_DETECTIONS.arrow_schema
    assert detections.num_rows == CONE_DETECTIONS
    assert OUTSIDE_CONE not in detections["name"].to_pylist()
    keys = detections.select(["name", "obsid", "region_id"]).to_pylist()
    assert keys == sorted(keys, key=lambda key: tuple(key.values()))
    first = detections.slice(0, 1).to_pylist()[0]
    assert first["name"] == "2CXO J141735.3+523851" and first["obsid"] == 5849
    assert first["region_id"] == 49
    # Values as the VOTable prints them (Java-style doubles).
    assert first["flux_aper_b"] == 6.7585974253712e-14
    assert first["powlaw_gamma"] == 1.78836 and first["bb_kt"] == 0.621788
    # Empty VOTable cells are nulls (the limits of fits the pipeline could not bound).
    assert detections["bb_kt_lolim"].null_count > 0
    assert detections["name"].null_count == detections["ra"].null_count == 0


def test_names_fetch_keeps_one_row_per_detection_and_ignores_unknown_names(archive_env, server):
    names_file = archive_env / "names.txt"
    names_file.write_text("\n".join([*NAMES, NAMES[0]]) + "\n")
    out = archive_env / "named.parquet"
    assert ingest("csc", "--names", str(names_file), "--out", str(out)) == 0

    queries = [fields["QUERY"] for fields in server.queries("csc_tap")]
    assert len(queries) == 2
    assert queries[0].endswith(f"AND (m.name IN ('{NAMES[0]}', '{NAMES[1]}'))")
    detections = pq.read_table(out)
    counts = {name: detections["name"].to_pylist().count(name) for name in NAMES}
    assert counts == {NAMES[0]: 1, NAMES[1]: 1, NAMES[2]: 4, NAMES[3]: 0}
    assert detections.schema == CSC_DETECTIONS.arrow_schema


def test_a_second_run_reads_the_cache_and_sends_no_request(archive_env, server, capsys):
    out = archive_env / "first.parquet"
    assert fetch_cone(out) == 0
    sent = len(server.requests)
    assert fetch_cone(archive_env / "second.parquet") == 0

    assert len(server.requests) == sent, "the second run sent requests"
    assert pq.read_table(archive_env / "second.parquet").equals(pq.read_table(out))
    assert "0 chunk(s) fetched, 3 from cache" in capsys.readouterr().out
    cached = list((archive_env / "cache" / "csc").glob("*.parquet"))
    assert len(cached) == 3


def test_transient_errors_are_retried_with_backoff(archive_env, server, capsys):
    server.faults.append(Fault("csc_tap", in_strip("52.6"), status=503, times=2))
    assert fetch_cone(archive_env / "out.parquet") == 0

    strips = [fields["QUERY"] for fields in server.queries("csc_tap")]
    assert strips == [cone_queries()[0], *[cone_queries()[1]] * 3, cone_queries()[2]]
    retries = [line for line in capsys.readouterr().out.splitlines() if "retrying" in line]
    assert [re.search(r"retrying in (\S+) s", line)[1] for line in retries] == ["0.01", "0.02"]
    assert "chunk 2/3 (dec 52.6..52.7): DALServiceError: 503" in retries[0]
    assert pq.read_table(archive_env / "out.parquet").num_rows == CONE_DETECTIONS


def test_a_timeout_is_retried(archive_env, server, monkeypatch):
    monkeypatch.setenv("XRAY_ARCHIVE_TIMEOUT", "0.5")
    server.faults.append(Fault("csc_tap", in_strip("52.7"), status=None, delay_seconds=2, times=1))
    assert fetch_cone(archive_env / "out.parquet") == 0
    assert len(server.queries("csc_tap")) == 4


def test_persistent_failure_stops_naming_the_chunk_and_a_rerun_resumes(archive_env, server, capsys):
    server.faults.append(Fault("csc_tap", in_strip("52.6"), status=503))
    assert fetch_cone(archive_env / "out.parquet") == 2

    message = capsys.readouterr().err
    assert "chunk 2/3 (dec 52.6..52.7) still failing after 3 attempt(s)" in message
    assert "503" in message
    assert "1 chunk(s) before it are cached" in message
    assert "run the same command again" in message
    assert not (archive_env / "out.parquet").exists()
    assert len(list((archive_env / "cache" / "csc").glob("*.parquet"))) == 1
    assert len(server.queries("csc_tap")) == 1 + RETRY_ATTEMPTS, "stops at the failing chunk"

    server.faults.clear()
    server.requests.clear()
    assert fetch_cone(archive_env / "out.parquet") == 0
    assert [fields["QUERY"] for fields in server.queries("csc_tap")] == cone_queries()[1:]
    assert pq.read_table(archive_env / "out.parquet").num_rows == CONE_DETECTIONS


def test_a_rejected_query_is_not_retried(archive_env, server, capsys):
    server.faults.append(
        Fault(
            "csc_tap",
            in_strip("52.6"),
            status=400,
            body=b"ADQL syntax error: unknown function",
            content_type="text/plain",
        )
    )
    assert fetch_cone(archive_env / "out.parquet") == 2
    message = capsys.readouterr().err
    assert "not a transient error, so not retried" in message
    assert "ADQL syntax error" in message
    assert len(server.queries("csc_tap")) == 2


def test_a_result_cut_at_the_row_limit_fails_instead_of_losing_rows(archive_env, server, capsys):
    server.faults.append(
        Fault(
            "csc_tap",
            in_strip("52.6"),
            status=200,
            body=TAP_OVERFLOW_VOTABLE,
            content_type="application/x-votable+xml",
        )
    )
    assert fetch_cone(archive_env / "out.parquet") == 2
    message = capsys.readouterr().err
    assert "chunk 2/3 (dec 52.6..52.7) failed (not a transient error" in message
    assert "reached MAXREC=500000 rows" in message and "XRAY_CSC_DEC_STRIP_DEG" in message
    assert len(server.queries("csc_tap")) == 2


def test_a_persistent_http_500_stops_naming_the_chunk(archive_env, server, capsys):
    message = failed_cone_fetch(
        archive_env, capsys, server, Fault("csc_tap", in_strip("52.6"), status=500)
    )
    assert message.startswith(
        "error: csc: chunk 2/3 (dec 52.6..52.7) still failing after 3 attempt(s):"
        " DALServiceError: 500 Server Error"
    )
    assert "1 chunk(s) before it are cached" in message
    assert len(server.queries("csc_tap")) == 1 + RETRY_ATTEMPTS


def test_a_persistent_timeout_stops_naming_the_chunk(archive_env, server, monkeypatch, capsys):
    monkeypatch.setenv("XRAY_ARCHIVE_TIMEOUT", "0.3")
    slow = Fault("csc_tap", in_strip("52.7"), status=None, delay_seconds=1)
    message = failed_cone_fetch(archive_env, capsys, server, slow)
    assert "chunk 3/3 (dec 52.7..52.77) still failing after 3 attempt(s)" in message
    assert "Read timed out. (read timeout=0.3)" in message
    assert "2 chunk(s) before it are cached" in message


def test_a_votable_cut_short_is_retried_and_then_reported(archive_env, server, capsys):
    cut = votable_fault("csc_tap", in_strip("52.6"), CONE_STRIP_2[: len(CONE_STRIP_2) // 2])
    cut.times = 1
    server.faults.append(cut)
    assert fetch_cone(archive_env / "once.parquet") == 0, "a second try gets the whole answer"
    assert "not a complete VOTable" in capsys.readouterr().out

    cut.times, cut.hits = None, 0
    server.requests.clear()
    for cached in (archive_env / "cache" / "csc").glob("*.parquet"):
        cached.unlink()
    assert fetch_cone(archive_env / "out.parquet") == 2
    message = error_message(capsys)
    assert "chunk 2/3 (dec 52.6..52.7) still failing after 3 attempt(s): the response is not a" in (
        message
    )
    assert f"complete VOTable ({len(CONE_STRIP_2) // 2} bytes: " in message
    assert "the transfer was probably cut short" in message


def test_a_web_page_with_status_200_is_not_taken_for_a_result(archive_env, server, capsys):
    page = Fault(
        "csc_tap", in_strip("52.6"), status=200, body=MAINTENANCE_PAGE, content_type="text/html"
    )
    message = failed_cone_fetch(archive_env, capsys, server, page)
    assert message.startswith(
        "error: csc: chunk 2/3 (dec 52.6..52.7) failed (not a transient error, so not retried):"
        " the service answered HTTP 200 with a web page (text/html), not a VOTable:"
        " 'Scheduled maintenance Service unavailable The archive is down until 14:00 UTC.'"
    )
    assert len(server.queries("csc_tap")) == 2


def test_a_response_missing_a_column_is_not_cached_and_a_rerun_asks_again(
    archive_env, server, capsys
):
    incomplete = without_column(CONE_STRIP_2, "bb_kt")
    message = failed_cone_fetch(
        archive_env, capsys, server, votable_fault("csc_tap", in_strip("52.6"), incomplete, times=1)
    )
    assert message.startswith(
        "error: csc: chunk 2/3 (dec 52.6..52.7), the response has no column 'bb_kt', which the"
        " query selects; its columns are name, obsid, region_id,"
    )
    assert "The response was not cached; 1 chunk(s) before it are cached" in message
    assert len(list((archive_env / "cache" / "csc").glob("*.parquet"))) == 1

    server.requests.clear()
    assert fetch_cone(archive_env / "out.parquet") == 0
    assert [fields["QUERY"] for fields in server.queries("csc_tap")] == cone_queries()[1:]


def test_a_cached_chunk_that_no_longer_fits_is_discarded_and_fetched_again(
    archive_env, server, capsys
):
    assert fetch_cone(archive_env / "first.parquet") == 0
    # As a version that cached before checking would have left it.
    settings = archive_settings()
    cache = ChunkCache(settings.cache_dir, csc.SERVICE, settings.csc_tap_url)
    strip_2 = csc.plan_chunks(csc.Cone(*EGS_CONE), *_plan_inputs())[1]
    pq.write_table(cache.load(strip_2).drop_columns(["hard_hs"]), cache.path(strip_2))
    capsys.readouterr()
    server.requests.clear()

    assert fetch_cone(archive_env / "second.parquet") == 0
    out = capsys.readouterr().out
    assert "csc: chunk 2/3 (dec 52.6..52.7), cached has no column 'hard_hs'" in out
    assert f"the cached response {cache.path(strip_2)} is discarded" in out
    assert [fields["QUERY"] for fields in server.queries("csc_tap")] == [cone_queries()[1]]
    assert pq.read_table(archive_env / "second.parquet").equals(
        pq.read_table(archive_env / "first.parquet")
    )


def test_exactly_maxrec_rows_is_a_cut_whatever_the_status_says(
    archive_env, server, monkeypatch, capsys
):
    # The second strip's recording has 21 rows and QUERY_STATUS OK.
    monkeypatch.setenv("XRAY_CSC_MAXREC", "21")
    message = failed_cone_fetch(archive_env, capsys, server)
    assert message.startswith(
        "error: csc: chunk 2/3 (dec 52.6..52.7) failed (not a transient error, so not retried):"
        " the result reached MAXREC=21 rows, so rows may be missing"
    )
    assert [fields["MAXREC"] for fields in server.queries("csc_tap")] == ["21", "21"]


def test_offline_answers_from_the_cache_and_names_the_chunks_it_lacks(
    archive_env, server, monkeypatch, capsys
):
    monkeypatch.setenv("XRAY_ARCHIVE_OFFLINE", "1")
    assert fetch_cone(archive_env / "out.parquet") == 2
    cache = archive_env / "cache" / "csc"
    assert error_message(capsys).startswith(
        "error: csc: offline (XRAY_ARCHIVE_OFFLINE or --offline), and 3 of 3 chunk(s) are not in"
        f" the cache {cache}: chunk 1 (dec 52.57..52.6), chunk 2 (dec 52.6..52.7), chunk 3"
        " (dec 52.7..52.77); run without --offline to fetch them"
    )
    assert server.requests == []

    monkeypatch.delenv("XRAY_ARCHIVE_OFFLINE")
    assert fetch_cone(archive_env / "online.parquet") == 0
    server.requests.clear()
    ra, dec, radius = EGS_CONE
    cone = ["--cone", str(ra), str(dec), str(radius)]
    assert ingest("csc", *cone, "--offline", "--out", str(archive_env / "offline.parquet")) == 0
    assert server.requests == []
    assert pq.read_table(archive_env / "offline.parquet").num_rows == CONE_DETECTIONS


# SIMBAD through X-Match over HTTP.


@pytest.fixture
def cone_detections(archive_env, server) -> Path:
    out = archive_env / "csc_detections.parquet"
    assert fetch_cone(out) == 0
    server.requests.clear()
    return out


def crossmatch(detections: Path, out: Path) -> int:
    return ingest(
        "simbad",
        "--detections",
        str(detections),
        "--radius",
        str(XMATCH_RADIUS_ARCSEC),
        "--out",
        str(out),
    )


def test_crossmatch_uploads_detections_in_chunks_and_keeps_every_candidate(
    cone_detections, archive_env, server
):
    out = archive_env / "simbad_crossmatch.parquet"
    assert crossmatch(cone_detections, out) == 0

    uploads = server.queries("xmatch")
    assert len(uploads) == 3
    for fields in uploads:
        assert fields["request"] == "xmatch" and fields["RESPONSEFORMAT"] == "votable"
        assert fields["cat2"] in ("simbad", "vizier:simbad")
        assert fields["distMaxArcsec"] == "3.0"
        assert (fields["colRA1"], fields["colDec1"]) == ("csc_ra", "csc_dec")
        assert fields["cat1"].splitlines()[0] == "name,obsid,region_id,csc_ra,csc_dec"
    assert [len(f["cat1"].splitlines()) - 1 for f in uploads] == [10, 10, 8]
    row = uploads[0]["cat1"].splitlines()[1].split(",")
    assert row[:3] == ["2CXO J141735.3+523851", "5849", "49"]
    assert float(row[3]) == pq.read_table(cone_detections)["ra"][0].as_py(), "full precision"

    pairs = pq.read_table(out)
    assert pairs.schema == SIMBAD_CROSSMATCH.arrow_schema
    by_detection = pairs.group_by(["name", "obsid", "region_id"]).aggregate([("main_id", "count")])
    assert by_detection.num_rows == CONE_DETECTIONS
    two = [r for r in pairs.to_pylist() if r["name"] == TWO_CANDIDATES]
    assert len(two) == 2 * 11, "both candidates of each of its 11 detections are kept"
    nearest = two[0]
    assert nearest["main_id"] == "AEGIS20 J141803.37+524127.9"
    assert nearest["main_type"] == "QSO"
    assert nearest["ang_dist_arcsec"] == 0.114914
    assert two[1]["ang_dist_arcsec"] > nearest["ang_dist_arcsec"]
    assert nearest["mag_r"] == 20.32 and nearest["mag_r_sdss"] == 20.45, "R and r stay apart"
    assert nearest["sp_type"] is None, "an empty cell is a null"
    assert pairs["ang_dist_arcsec"].null_count == 0


def test_crossmatch_second_run_sends_nothing_and_failures_resume(
    cone_detections, archive_env, server, capsys
):
    server.faults.append(
        Fault("xmatch", lambda fields: "2CXO J141803.3+524127,9734," in fields.get("cat1", ""))
    )
    assert crossmatch(cone_detections, archive_env / "pairs.parquet") == 2
    assert "xmatch_simbad: chunk 2/3 (detections 11-20 of 28)" in capsys.readouterr().err
    assert len(server.queries("xmatch")) == 1 + RETRY_ATTEMPTS

    server.faults.clear()
    server.requests.clear()
    assert crossmatch(cone_detections, archive_env / "pairs.parquet") == 0
    assert len(server.queries("xmatch")) == 2, "only the chunks still missing"
    server.requests.clear()
    assert crossmatch(cone_detections, archive_env / "pairs.parquet") == 0
    assert server.requests == [], "the table list is not fetched either"


def test_a_failed_table_list_request_is_retried(cone_detections, archive_env, server):
    server.faults.append(Fault("xmatch", kind="tables", status=502, times=1))
    assert crossmatch(cone_detections, archive_env / "pairs.parquet") == 0
    kinds = [request.kind for request in server.requests]
    assert kinds == ["tables", "tables", "query", "query", "query"]


def test_crossmatch_rejected_by_the_service_is_not_retried(
    cone_detections, archive_env, server, capsys
):
    server.faults.append(
        Fault("xmatch", status=400, body=XMATCH_ERROR_VOTABLE, content_type="text/xml")
    )
    assert crossmatch(cone_detections, archive_env / "pairs.parquet") == 2
    message = capsys.readouterr().err
    assert "not a transient error" in message and "Catalogue must be a URL" in message
    assert len(server.queries("xmatch")) == 1


def test_crossmatch_cut_at_the_row_limit_fails(cone_detections, archive_env, server, capsys):
    server.faults.append(
        Fault("xmatch", status=200, body=XMATCH_OVERFLOW_VOTABLE, content_type="text/xml")
    )
    assert crossmatch(cone_detections, archive_env / "pairs.parquet") == 2
    assert "XRAY_XMATCH_ROWS_PER_CHUNK" in capsys.readouterr().err
    assert len(server.queries("xmatch")) == 1


def test_crossmatch_web_page_with_status_200_is_an_error(
    cone_detections, archive_env, server, capsys
):
    server.faults.append(
        Fault("xmatch", status=200, body=MAINTENANCE_PAGE, content_type="text/html; charset=utf-8")
    )
    assert crossmatch(cone_detections, archive_env / "pairs.parquet") == 2
    assert error_message(capsys).startswith(
        "error: xmatch_simbad: chunk 1/3 (detections 1-10 of 28) failed (not a transient error,"
        " so not retried): the service answered HTTP 200 with a web page (text/html;"
        " charset=utf-8), not a VOTable: 'Scheduled maintenance Service unavailable"
    )
    assert len(server.queries("xmatch")) == 1


def test_crossmatch_response_missing_a_column_is_not_cached(
    cone_detections, archive_env, server, capsys
):
    server.faults.append(
        votable_fault("xmatch", lambda fields: True, without_column(XMATCH_CHUNK_1, "main_type"))
    )
    assert crossmatch(cone_detections, archive_env / "pairs.parquet") == 2
    message = error_message(capsys)
    assert message.startswith(
        "error: xmatch_simbad: chunk 1/3 (detections 1-10 of 28), the response: missing required"
        " column(s) of raw.simbad_crossmatch: 'main_type' (or otype)"
    )
    assert "The response was not cached" in message
    assert not (archive_env / "cache" / "xmatch_simbad").exists()


def test_crossmatch_offline_names_the_chunks_it_lacks(cone_detections, archive_env, server, capsys):
    server.faults.append(Fault("xmatch", lambda f: "2CXO J141803.3+524127,9734," in f["cat1"]))
    assert crossmatch(cone_detections, archive_env / "pairs.parquet") == 2
    capsys.readouterr()
    server.requests.clear()
    status = ingest(
        "simbad",
        "--detections",
        str(cone_detections),
        "--offline",
        "--out",
        str(archive_env / "pairs.parquet"),
    )
    assert status == 2
    message = error_message(capsys)
    assert "2 of 3 chunk(s) are not in the cache" in message
    assert "chunk 2 (detections 11-20 of 28), chunk 3 (detections 21-28 of 28)" in message
    assert server.requests == []


def test_crossmatch_radius_defaults_to_the_match_radius_and_is_recorded(
    cone_detections, archive_env, server, tmp_path
):
    out = archive_env / "pairs.parquet"
    assert ingest("simbad", "--detections", str(cone_detections), "--out", str(out)) == 0
    assert {fields["distMaxArcsec"] for fields in server.queries("xmatch")} == {"3.0"}
    metadata = pq.read_schema(out).metadata
    assert float(metadata[CROSSMATCH_RADIUS_METADATA_KEY]) == XMATCH_RADIUS_ARCSEC

    warehouse = tmp_path / "warehouse.duckdb"
    assert (
        ingest(
            "files",
            "--detections",
            str(cone_detections),
            "--crossmatch",
            str(out),
            "--db",
            str(warehouse),
        )
        == 0
    )
    with duckdb.connect(str(warehouse), read_only=True) as con:
        logged = con.execute(
            "select raw_table, crossmatch_radius_arcsec from raw.load_log order by raw_table"
        ).fetchall()
    assert logged == [("csc_detections", None), ("simbad_crossmatch", 3.0)]


def test_crossmatch_radius_is_checked(cone_detections, archive_env, capsys):
    status = ingest(
        "simbad",
        "--detections",
        str(cone_detections),
        "--radius",
        "200",
        "--out",
        str(archive_env / "pairs.parquet"),
    )
    assert status == 2
    assert (
        error_message(capsys) == "error: simbad: the radius must be in (0, 180] arcsec, not 200\n"
    )


def test_the_recorder_saves_what_the_services_answer(server, tmp_path: Path):
    """record.py, with the replay server standing in for the live services, reproduces
    the recordings: same requests in index.json, same bytes in every response file."""
    rerecorded = tmp_path / "recordings"
    record(server.tap_url, server.xmatch_url, rerecorded)

    index = json.loads((RECORDINGS / "index.json").read_text())
    assert json.loads((rerecorded / "index.json").read_text()) == index
    for name in [index["xmatch_tables"], *(e["response"] for e in index["exchanges"])]:
        assert (rerecorded / name).read_bytes() == (RECORDINGS / name).read_bytes(), name


# Retry policy and configuration.


def test_backoff_grows_exponentially_up_to_the_cap():
    policy = RetryPolicy(attempts=5, initial_delay_seconds=1, backoff_factor=2, max_delay_seconds=5)
    assert list(policy.delays()) == [1, 2, 4, 5]
    assert list(RetryPolicy(1, 1, 2, 5).delays()) == []


def test_transient_errors_are_recognised_through_wrapping_exceptions():
    def http_error(status: int) -> requests.HTTPError:
        response = requests.Response()
        response.status_code = status
        return requests.HTTPError(f"{status}", response=response)

    def wrapped(cause: BaseException) -> Exception:
        try:
            try:
                raise cause
            except BaseException as error:
                raise ValueError("could not parse the error page") from error
        except ValueError as outer:
            return outer

    assert is_transient(requests.ReadTimeout())
    assert is_transient(requests.ConnectionError())
    assert is_transient(http_error(503)) and is_transient(http_error(429))
    assert is_transient(wrapped(http_error(502)))
    assert not is_transient(http_error(400))
    assert not is_transient(wrapped(http_error(404)))
    assert not is_transient(ValueError("bad VOTable"))


def test_settings_default_to_the_real_services_and_follow_the_environment(monkeypatch):
    for variable in ("XRAY_CSC_TAP_URL", "XRAY_XMATCH_URL", "XRAY_ARCHIVE_OFFLINE"):
        monkeypatch.delenv(variable, raising=False)
    settings = archive_settings()
    assert (settings.csc_tap_url, settings.xmatch_url) == (CSC_TAP_URL, XMATCH_URL)
    assert settings.cache_dir.name == "cache" and not settings.offline

    monkeypatch.setenv("XRAY_CSC_TAP_URL", "http://127.0.0.1:1/tap")
    monkeypatch.setenv("XRAY_ARCHIVE_RETRY_ATTEMPTS", "7")
    settings = archive_settings()
    assert settings.csc_tap_url == "http://127.0.0.1:1/tap" and settings.retry_attempts == 7
    monkeypatch.setenv("XRAY_ARCHIVE_TIMEOUT", "soon")
    with pytest.raises(ValueError, match=re.escape("$XRAY_ARCHIVE_TIMEOUT must be a number")):
        archive_settings()


# The real services (make test-live).


@pytest.fixture
def live_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    for variable in ("XRAY_CSC_TAP_URL", "XRAY_XMATCH_URL"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("XRAY_ARCHIVE_CACHE", str(tmp_path / "cache"))
    return archive_settings()


@pytest.mark.live
def test_live_csc_tap_answers_the_query_for_one_source(live_settings):
    detections, fetched = csc.fetch_detections(csc.Names((NAMES[0],)), live_settings)
    assert fetched.chunks_fetched == 1
    assert detections.schema == CSC_DETECTIONS.arrow_schema
    # One detection in the original analysis's CSC 2.0 selection.
    assert detections.num_rows >= 1 and set(detections["name"].to_pylist()) == {NAMES[0]}


@pytest.mark.live
def test_live_xmatch_finds_simbad_objects_near_a_known_quasar(live_settings):
    # 2CXO J001954.3+155741 is the Seyfert 1 2E 62 (SIMBAD), 1.2" from the CSC position.
    detections = pa.table(
        {
            "name": ["2CXO J001954.3+155741"],
            "obsid": pa.array([1595], pa.int32()),
            "region_id": pa.array([57], pa.int32()),
            "ra": [4.976495803455521],
            "dec": [15.961544994199],
        }
    )
    pairs, fetched = xmatch.fetch_crossmatch(detections, 3.0, live_settings)
    assert fetched.chunks_fetched == 1
    assert pairs.schema == SIMBAD_CROSSMATCH.arrow_schema
    assert pairs.num_rows >= 1 and pairs["main_type"].null_count == 0
