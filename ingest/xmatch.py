"""CDS X-Match client: crossmatch detections with SIMBAD into a raw.simbad_crossmatch file.

The detections' positions and keys are uploaded in chunks to X-Match (astroquery's
XMatch, cat2='simbad'); every SIMBAD object within the radius is kept, one row per
detection-object pair, with X-Match's angDist as ang_dist_arcsec. Choosing the best
candidate is the warehouse's job (dbt), within its var simbad_match_radius_arcsec,
which is also the radius fetched unless --radius says otherwise; the radius used is
written into the Parquet file's metadata, and the loader logs it. Each chunk's
response is cached by ingest.archive_cache.

    python -m ingest simbad --detections build/archive/csc_detections.parquet \\
        --out build/archive/simbad_crossmatch.parquet
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
from pathlib import Path

import astropy.units as u
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from astroquery.utils.url_helpers import urljoin_keep_path

from ingest.archive_cache import (
    ArchiveResponseError,
    Chunk,
    FetchResult,
    add_offline_argument,
    fetch_chunks,
    query_statuses,
    settings_from_args,
    votable_from_response,
    write_parquet,
)
from ingest.config import ArchiveSettings, match_radius_arcsec
from ingest.conform import arrow_from_votable, crossmatch_from
from ingest.errors import IngestError
from ingest.schema import CROSSMATCH_RADIUS_METADATA_KEY, DETECTION_KEY, SIMBAD_CROSSMATCH

# astroquery.xmatch prints a notice on import when the optional `regions` package is
# missing; it is only needed for X-Match's area= argument, which is not used here.
with contextlib.redirect_stdout(io.StringIO()):
    from astroquery.xmatch import XMatchClass

SERVICE = "xmatch_simbad"
MAX_RADIUS_ARCSEC = 180.0  # X-Match's limit
# The uploaded table: the detection key, and the position under names that SIMBAD's
# columns (ra, dec) do not clash with in the response. The response is angDist, the
# uploaded columns, then SIMBAD's main_id, ra, dec, ..., B V R J H K u g r i z: the
# contract's aliases (ingest/schema.py) name them all.
UPLOAD_COLUMNS = (*DETECTION_KEY, "csc_ra", "csc_dec")


class SimbadXMatch(XMatchClass):
    """astroquery's X-Match client, on our endpoint and timeout.

    Before each query astroquery fetches the service's VizieR table list (to tell a
    catalogue name from an upload). Here the list is fetched once per run, with a
    timeout and a status check (astroquery would read an error page as the list), and
    not into astroquery's own cache in the home directory.
    """

    def __init__(self, url: str, timeout_seconds: float):
        super().__init__()
        self.URL = url
        self.TIMEOUT = timeout_seconds
        self._table_names: list[str] | None = None

    def get_available_tables(self, *, cache: bool = True) -> list[str]:
        if self._table_names is None:
            response = self._request(
                "GET",
                urljoin_keep_path(self.URL, "tables"),
                params={"action": "getVizieRTableNames", "RESPONSEFORMAT": "txt"},
                timeout=self.TIMEOUT,
                cache=False,
            )
            response.raise_for_status()
            self._table_names = response.text.splitlines()
        return self._table_names

    def match_simbad(self, upload_csv: str, radius_arcsec: float) -> pa.Table:
        """The SIMBAD objects within `radius_arcsec` of each uploaded row, as Arrow."""
        response = self.query_async(
            cat1=io.StringIO(upload_csv),
            cat2="simbad",
            max_distance=radius_arcsec * u.arcsec,
            colRA1="csc_ra",
            colDec1="csc_dec",
            cache=False,
        )
        # Parsed here rather than by XMatch.query, which drops the QUERY_STATUS that says
        # whether the service cut the result.
        votable = votable_from_response(response)
        if any(info.value == "OVERFLOW" for info in query_statuses(votable)):
            raise ArchiveResponseError(
                "X-Match cut the result at its row limit: upload fewer detections per "
                "request (XRAY_XMATCH_ROWS_PER_CHUNK)"
            )
        return arrow_from_votable("the response", votable.get_first_table())


def conform_pairs(origin: str, response: pa.Table) -> pa.Table:
    return crossmatch_from(origin, response).rows


def read_detections(path: Path) -> pa.Table:
    """The detection key and position of every row of a raw.csc_detections Parquet file."""
    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowException) as error:
        raise IngestError(f"{path}: cannot read it as the detections to match: {error}") from error
    missing = [c for c in (*DETECTION_KEY, "ra", "dec") if c not in table.column_names]
    if missing:
        raise IngestError(f"{path}: no column {', '.join(missing)}")
    positioned = table.filter(pc.and_(pc.is_valid(table["ra"]), pc.is_valid(table["dec"])))
    if positioned.num_rows < table.num_rows:
        without = table.num_rows - positioned.num_rows
        raise IngestError(f"{path}: {without} detection(s) have no position to match")
    return table.select([*DETECTION_KEY, "ra", "dec"]).sort_by(
        [(column, "ascending") for column in DETECTION_KEY]
    )


def upload_csv(detections: pa.Table) -> str:
    """The CSV X-Match receives: the upload columns, floats at full precision."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(UPLOAD_COLUMNS)
    # The csv module writes floats by repr (round-trip precision) and None as empty.
    columns = [detections[c].to_pylist() for c in (*DETECTION_KEY, "ra", "dec")]
    writer.writerows(zip(*columns, strict=True))
    return text.getvalue()


def plan_chunks(
    detections: pa.Table, settings: ArchiveSettings, radius_arcsec: float
) -> list[Chunk]:
    """One chunk per `xmatch_rows_per_chunk` detections, in detection-key order."""
    per_chunk = settings.xmatch_rows_per_chunk
    if per_chunk < 1:
        raise IngestError(f"rows per X-Match chunk must be at least 1, not {per_chunk}")
    request = f"cat2=simbad distMaxArcsec={radius_arcsec:g} colRA1=csc_ra colDec1=csc_dec"
    total = detections.num_rows
    return [
        Chunk(
            label=f"detections {start + 1}-{min(start + per_chunk, total)} of {total}",
            query=request,
            upload=upload_csv(detections.slice(start, per_chunk)),
        )
        for start in range(0, total, per_chunk)
    ]


def fetch_crossmatch(
    detections: pa.Table, radius_arcsec: float, settings: ArchiveSettings
) -> tuple[pa.Table, FetchResult]:
    """Every detection-SIMBAD pair within the radius, as a raw.simbad_crossmatch table."""
    if not 0 < radius_arcsec <= MAX_RADIUS_ARCSEC:
        raise IngestError(
            f"simbad: the radius must be in (0, {MAX_RADIUS_ARCSEC:g}] arcsec,"
            f" not {radius_arcsec:g}"
        )
    xmatch = SimbadXMatch(settings.xmatch_url, settings.timeout_seconds)
    fetched = fetch_chunks(
        service=SERVICE,
        endpoint=settings.xmatch_url,
        chunks=plan_chunks(detections, settings, radius_arcsec),
        fetch=lambda chunk: xmatch.match_simbad(chunk.upload, radius_arcsec),
        conform=conform_pairs,
        settings=settings,
    )
    pairs = fetched.rows(SIMBAD_CROSSMATCH)
    order = [*DETECTION_KEY, "ang_dist_arcsec", "main_id"]
    return pairs.sort_by([(column, "ascending") for column in order]), fetched


def register_cli(subparsers: argparse._SubParsersAction) -> None:
    """Add the `simbad` subcommand (named for what it fetches)."""
    parser = subparsers.add_parser(
        "simbad",
        help="crossmatch detections with SIMBAD through CDS X-Match (cached in cache/)",
        description=(
            "Upload the detections' positions to CDS X-Match and keep every SIMBAD object "
            "within the radius, in the raw.simbad_crossmatch shape. Responses are cached "
            "per chunk; a re-run reads the cache, an interrupted run resumes."
        ),
    )
    parser.add_argument(
        "--detections",
        type=Path,
        required=True,
        help="a raw.csc_detections Parquet file (the output of `python -m ingest csc`)",
    )
    parser.add_argument(
        "--radius",
        type=float,
        help="arcsec (default: dbt var simbad_match_radius_arcsec, the radius the warehouse"
        " matches within; a smaller one fails the build's radius test)",
    )
    parser.add_argument("--out", type=Path, required=True, help="the Parquet file to write")
    add_offline_argument(parser)
    parser.set_defaults(func=run_cli)


def run_cli(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    radius = match_radius_arcsec() if args.radius is None else args.radius
    detections = read_detections(args.detections)
    pairs, fetched = fetch_crossmatch(detections, radius, settings)
    metadata = {CROSSMATCH_RADIUS_METADATA_KEY: repr(radius).encode()}
    write_parquet(pairs.replace_schema_metadata(metadata), args.out)
    matched = pairs.group_by(list(DETECTION_KEY)).aggregate([]).num_rows
    print(
        f"simbad: {pairs.num_rows} candidate pairs within {radius:g} arcsec for {matched} "
        f"of {detections.num_rows} detections -> {args.out} ({fetched.chunks_fetched} "
        f"chunk(s) fetched, {fetched.chunks_from_cache} from cache in {settings.cache_dir})"
    )
    return 0
