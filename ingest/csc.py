"""Fetch CSC 2.1 detections from the CSC TAP service into a raw.csc_detections Parquet file.

The query is ingest/queries/csc_detections.adql; its `{scope}` is filled, once per
chunk, with a condition on the master source: a declination strip of the whole
catalogue or of a sky region (cone or box), or a list of source names. Each chunk is
one synchronous TAP request answered in VOTable, cached by ingest.archive_cache.

    python -m ingest csc --cone 83.82 -5.39 0.3 --out build/archive/csc_detections.parquet
"""

from __future__ import annotations

import argparse
import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyvo
import requests
from astroquery.query import BaseVOQuery
from pyvo.dal.exceptions import DALServiceError

from ingest.archive_cache import (
    ArchiveResponseError,
    Chunk,
    FetchResult,
    TimeoutHTTPAdapter,
    add_offline_argument,
    fetch_chunks,
    query_statuses,
    settings_from_args,
    votable_from_response,
    write_parquet,
)
from ingest.config import ArchiveSettings
from ingest.conform import arrow_from_votable, detections_from
from ingest.errors import IngestError
from ingest.schema import CSC_DETECTIONS, DETECTION_KEY

SERVICE = "csc"
QUERY_PATH = Path(__file__).parent / "queries" / "csc_detections.adql"
SCOPE_PLACEHOLDER = "{scope}"
# A cone's RA window is widened by this much (degrees) so that printing its edges at
# 7 decimals never cuts a source off.
RA_MARGIN_DEGREES = 1e-6


@dataclass(frozen=True)
class Box:
    """ra_min..ra_max, dec_min..dec_max in degrees; ra_min > ra_max wraps through RA 0."""

    ra_min: float
    ra_max: float
    dec_min: float
    dec_max: float

    def __post_init__(self) -> None:
        if not -90 <= self.dec_min <= self.dec_max <= 90:
            raise ValueError(f"declinations must satisfy -90 <= min <= max <= 90: {self}")
        if not (0 <= self.ra_min <= 360 and 0 <= self.ra_max <= 360):
            raise ValueError(f"right ascensions must be within [0, 360]: {self}")

    @property
    def covers_all_ra(self) -> bool:
        return self.ra_min == 0 and self.ra_max == 360

    def ra_condition(self) -> str | None:
        if self.covers_all_ra:
            return None
        low, high = adql_number(self.ra_min), adql_number(self.ra_max)
        if self.ra_min <= self.ra_max:
            return f"m.ra BETWEEN {low} AND {high}"
        return f"(m.ra >= {low} OR m.ra <= {high})"


WHOLE_SKY = Box(ra_min=0, ra_max=360, dec_min=-90, dec_max=90)


@dataclass(frozen=True)
class Cone:
    """A circle of `radius` degrees around (ra, dec)."""

    ra: float
    dec: float
    radius: float

    def __post_init__(self) -> None:
        if not (0 <= self.ra <= 360 and -90 <= self.dec <= 90 and 0 < self.radius <= 180):
            raise ValueError(f"a cone needs 0 <= ra <= 360, -90 <= dec <= 90, 0 < radius: {self}")

    def bounding_box(self) -> Box:
        """The smallest RA/Dec box holding the cone (the service has no geometry functions)."""
        # Declinations rounded to the printed precision (0.4 mas), so that no sliver of a
        # strip is left at the box's edge; the RA edges, from trigonometry, get a margin.
        dec_min = round(max(-90.0, self.dec - self.radius), 7)
        dec_max = round(min(90.0, self.dec + self.radius), 7)
        # Farthest RA offset on the cone: sin(offset) = sin(radius) / cos(dec).
        sin_radius = math.sin(math.radians(self.radius + RA_MARGIN_DEGREES))
        sin_offset = sin_radius / max(math.cos(math.radians(self.dec)), 1e-12)
        if dec_min == -90 or dec_max == 90 or sin_offset >= 1:
            return Box(0, 360, dec_min, dec_max)
        offset = math.degrees(math.asin(sin_offset))
        return Box((self.ra - offset) % 360, (self.ra + offset) % 360, dec_min, dec_max)

    def contains(self, ra: np.ndarray, dec: np.ndarray) -> np.ndarray:
        """Whether each position is within the cone (haversine separation)."""
        ra, dec = np.radians(ra), np.radians(dec)
        ra0, dec0 = math.radians(self.ra), math.radians(self.dec)
        haversine = (
            np.sin((dec - dec0) / 2) ** 2
            + np.cos(dec) * math.cos(dec0) * np.sin((ra - ra0) / 2) ** 2
        )
        separation = np.degrees(2 * np.arcsin(np.sqrt(np.clip(haversine, 0, 1))))
        return separation <= self.radius


@dataclass(frozen=True)
class Names:
    """CSC master source names (e.g. 2CXO J053514.0-052223), duplicates dropped."""

    names: tuple[str, ...]

    @classmethod
    def from_file(cls, path: Path) -> Names:
        """One name per line; blank lines and lines starting with # are skipped."""
        lines = (line.strip() for line in path.read_text().splitlines())
        names = [line for line in lines if line and not line.startswith("#")]
        if not names:
            raise ValueError(f"{path} lists no source names")
        return cls(tuple(dict.fromkeys(names)))


Scope = Box | Cone | Names


def adql_number(value: float) -> str:
    """A number as ADQL text: plain decimal, at most 7 decimals (0.4 mas), no exponent."""
    return np.format_float_positional(round(value, 7), trim="-")


def adql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def load_query_template(path: Path = QUERY_PATH) -> str:
    """The query file without its comment lines; it must hold {scope} exactly once."""
    lines = [line.rstrip() for line in path.read_text().splitlines()]
    template = "\n".join(line for line in lines if line and not line.lstrip().startswith("--"))
    if template.count(SCOPE_PLACEHOLDER) != 1:
        raise ValueError(f"{path} must contain {SCOPE_PLACEHOLDER} exactly once")
    return template


def plan_chunks(scope: Scope, template: str, settings: ArchiveSettings) -> list[Chunk]:
    """One chunk per declination strip of a sky scope, or per group of names."""
    if isinstance(scope, Names):
        conditions = list(_name_conditions(scope.names, settings.csc_names_per_chunk))
    else:
        box = scope.bounding_box() if isinstance(scope, Cone) else scope
        conditions = list(_strip_conditions(box, settings.csc_dec_strip_degrees))
    return [
        Chunk(label=label, query=template.replace(SCOPE_PLACEHOLDER, condition))
        for label, condition in conditions
    ]


def _strip_conditions(box: Box, strip_degrees: float) -> Iterable[tuple[str, str]]:
    """Declination strips on a grid of `strip_degrees`, clipped to the box.

    Strips are half-open, [low, high), except the last, which includes the box's
    upper edge, so every declination in the box falls in exactly one strip.
    """
    if strip_degrees <= 0:
        raise ValueError(f"the declination strip width must be positive, not {strip_degrees}")
    ra_condition = box.ra_condition()
    grid = range(math.floor(box.dec_min / strip_degrees), math.ceil(box.dec_max / strip_degrees))
    inner_edges = (round(step * strip_degrees, 9) for step in grid)
    edges = [box.dec_min, *(e for e in inner_edges if box.dec_min < e < box.dec_max), box.dec_max]
    for low, high in itertools.pairwise(edges):
        below = "<=" if high == box.dec_max else "<"
        condition = f"m.dec >= {adql_number(low)} AND m.dec {below} {adql_number(high)}"
        if ra_condition:
            condition += f" AND {ra_condition}"
        yield f"dec {adql_number(low)}..{adql_number(high)}", condition


def _name_conditions(names: tuple[str, ...], per_chunk: int) -> Iterable[tuple[str, str]]:
    if per_chunk < 1:
        raise ValueError(f"names per chunk must be at least 1, not {per_chunk}")
    for start in range(0, len(names), per_chunk):
        group = names[start : start + per_chunk]
        label = f"names {start + 1}-{start + len(group)} of {len(names)}"
        yield label, f"m.name IN ({', '.join(adql_string(name) for name in group)})"


class CscTap(BaseVOQuery):
    """The CSC TAP service through pyvo, as astroquery's TAP-based modules use it."""

    def __init__(self, url: str, timeout_seconds: float, max_rows: int):
        super().__init__()
        adapter = TimeoutHTTPAdapter(timeout_seconds)
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)
        self.max_rows = max_rows
        self.tap = pyvo.dal.TAPService(url, session=self._session)

    def query(self, adql: str) -> pa.Table:
        """Run `adql` synchronously; the VOTable result as Arrow, as the service sent it."""
        query = self.tap.create_query(adql, maxrec=self.max_rows, FORMAT="votable")
        try:
            response = query.submit()
            response.raise_for_status()
        except requests.RequestException as error:
            # pyvo's wording, with the service's own message for a rejected query.
            raise DALServiceError.from_except(error, query.queryurl) from error
        votable = votable_from_response(response)
        table = votable.get_first_table()
        # A result of exactly MAXREC rows is cut, whatever the service's status says
        # (pyvo lets OVERFLOW pass at exactly MAXREC).
        overflow = any(info.value == "OVERFLOW" for info in query_statuses(votable))
        if overflow or len(table.array) >= self.max_rows:
            raise ArchiveResponseError(
                f"the result reached MAXREC={self.max_rows} rows, so rows may be missing: use"
                " narrower declination strips (XRAY_CSC_DEC_STRIP_DEG) or fewer names per"
                " chunk (XRAY_CSC_NAMES_PER_CHUNK), or raise XRAY_CSC_MAXREC"
            )
        return arrow_from_votable("the response", table)


def conform_detections(origin: str, response: pa.Table) -> pa.Table:
    """A chunk's response as raw.csc_detections rows; the query selects every contract
    column, so a response without one of them is wrong, not a partial CSC table."""
    conformed = detections_from(origin, response)[CSC_DETECTIONS.name]
    if conformed.missing_columns:
        raise IngestError(
            f"{origin} has no column {', '.join(map(repr, conformed.missing_columns))}, which"
            f" the query selects; its columns are {', '.join(response.column_names)}"
        )
    return conformed.rows


def fetch_detections(scope: Scope, settings: ArchiveSettings) -> tuple[pa.Table, FetchResult]:
    """The detections in `scope` as a raw.csc_detections table, sorted by detection key."""
    chunks = plan_chunks(scope, load_query_template(), settings)
    tap = CscTap(settings.csc_tap_url, settings.timeout_seconds, settings.csc_max_rows_per_chunk)
    fetched = fetch_chunks(
        service=SERVICE,
        endpoint=settings.csc_tap_url,
        chunks=chunks,
        fetch=lambda chunk: tap.query(chunk.query),
        conform=conform_detections,
        settings=settings,
    )
    detections = fetched.rows(CSC_DETECTIONS)
    if isinstance(scope, Cone):
        positions = (detections["ra"].to_numpy(), detections["dec"].to_numpy())
        detections = detections.filter(pa.array(scope.contains(*positions)))
    return detections.sort_by([(column, "ascending") for column in DETECTION_KEY]), fetched


def register_cli(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "csc",
        help="fetch CSC 2.1 detections from the CSC TAP service (cached in cache/)",
        description=(
            "Fetch per-observation CSC 2.1 detections (the original analysis's selection) "
            "into a Parquet file in the raw.csc_detections shape. Responses are cached per "
            "chunk; a re-run reads the cache, an interrupted run resumes."
        ),
    )
    scope = parser.add_mutually_exclusive_group(required=True)
    scope.add_argument("--all", action="store_true", help="the whole catalogue, in strips")
    scope.add_argument(
        "--cone", nargs=3, type=float, metavar=("RA", "DEC", "RADIUS"), help="degrees (ICRS)"
    )
    scope.add_argument(
        "--box",
        nargs=4,
        type=float,
        metavar=("RA_MIN", "RA_MAX", "DEC_MIN", "DEC_MAX"),
        help="degrees (ICRS); RA_MIN > RA_MAX wraps through RA 0",
    )
    scope.add_argument(
        "--names", type=Path, metavar="FILE", help="a file of CSC source names, one per line"
    )
    parser.add_argument("--out", type=Path, required=True, help="the Parquet file to write")
    add_offline_argument(parser)
    parser.set_defaults(func=run_cli)


def scope_from_args(args: argparse.Namespace) -> Scope:
    if args.all:
        return WHOLE_SKY
    try:
        if args.cone:
            return Cone(*args.cone)
        if args.box:
            return Box(*args.box)
        return Names.from_file(args.names)
    except (ValueError, OSError) as error:
        raise IngestError(f"csc: {error}") from error


def run_cli(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    try:
        detections, fetched = fetch_detections(scope_from_args(args), settings)
    except ValueError as error:  # a chunk size set to nothing
        raise IngestError(f"csc: {error}") from error
    write_parquet(detections, args.out)
    sources = pc.count_distinct(detections["name"]).as_py()
    print(
        f"csc: {detections.num_rows} detections of {sources} sources -> {args.out} "
        f"({fetched.chunks_fetched} chunk(s) fetched, {fetched.chunks_from_cache} from cache "
        f"in {settings.cache_dir})"
    )
    return 0
