"""The raw tables: their columns, types, keys and value ranges, and how inputs name them.

This is the one declaration of the raw contract. Every loader (files, archives)
conforms to it through ingest.conform, and dbt's sources file is generated from it
(ingest/dbt_sources.py), so dbt never depends on which file or archive a table came
from, and the two cannot drift.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pyarrow as pa

BANDS = ("b", "h", "m", "s")
VARIABILITY_QUANTITIES = ("var_prob", "var_sigma", "var_mean", "var_min", "var_max")

# The original analysis's 35 X-ray descriptors, in its order.
DESCRIPTORS = (
    "theta",
    "src_area_b",
    "hard_hm",
    "hard_hs",
    "hard_ms",
    "powlaw_gamma",
    "bb_kt",
    *(f"{quantity}_{band}" for band in BANDS for quantity in VARIABILITY_QUANTITIES),
    *(f"ks_prob_{band}" for band in BANDS),
    *(f"kp_prob_{band}" for band in BANDS),
)


@dataclass(frozen=True)
class ValueRange:
    """Numbers from `minimum` to `maximum` (None: unbounded), as dbt's accepted_range test
    reads them: `inclusive` applies to both ends, and no infinite value is in any range."""

    minimum: float | None = None
    maximum: float | None = None
    inclusive: bool = True

    def __str__(self) -> str:
        if self.minimum is not None and self.maximum is not None:
            low, high = _number_text(self.minimum), _number_text(self.maximum)
            return f"[{low}, {high}]" if self.inclusive else f"({low}, {high})"
        if self.minimum is not None:
            return f"{'>=' if self.inclusive else '>'} {_number_text(self.minimum)}"
        if self.maximum is not None:
            return f"{'<=' if self.inclusive else '<'} {_number_text(self.maximum)}"
        return "finite"


def _number_text(value: float) -> str:
    """1e8 rather than Python's 1e+08."""
    return f"{value:g}".replace("e+0", "e").replace("e+", "e").replace("e-0", "e-")


FINITE = ValueRange()


@dataclass(frozen=True)
class Limits:
    """The values a numeric column may hold.

    `physical`: what the quantity can be at all (an angle on the sphere, a probability);
    a value outside it is wrong. The staging models' accepted_range tests repeat these
    (checked by ingest/dbt_sources.py).
    `plausible`: narrower, what the instrument or catalogue can report; a value beyond
    it is a sentinel, an overflow or a mix-up of units, and would also squeeze every
    other detection into a sliver of a min-max-scaled feature. `reason` says why the
    range ends where it does, worded to follow "because".
    """

    unit: str
    physical: ValueRange = FINITE
    plausible: ValueRange | None = None
    reason: str = ""


@dataclass(frozen=True)
class RawTable:
    """One table of the `raw` schema."""

    name: str
    columns: dict[str, pa.DataType]
    required: tuple[str, ...]
    key: tuple[str, ...] = ()
    # Numeric columns not listed here may hold any finite number.
    limits: Mapping[str, Limits] = field(default_factory=dict)

    @property
    def arrow_schema(self) -> pa.Schema:
        return pa.schema(list(self.columns.items()))

    def limits_of(self, column: str) -> Limits:
        return self.limits.get(column, Limits(unit=""))


RIGHT_ASCENSION = Limits("deg", ValueRange(0, 360))
DECLINATION = Limits("deg", ValueRange(-90, 90))
PROBABILITY = Limits("", ValueRange(0, 1))
# (F_harder - F_softer) / (F_harder + F_softer) of two non-negative fluxes.
HARDNESS_RATIO = Limits("", ValueRange(-1, 1))
# Gregory-Loredo light-curve rates (var_sigma, var_mean, var_min, var_max).
COUNT_RATE = Limits(
    "count/s",
    ValueRange(0),
    ValueRange(0, 1e8),
    "the CSC's fastest light-curve bins reach ~3e5 count/s, a few events within Chandra's"
    " finest time resolution of 16 us, and 1e8 count/s is beyond anything Chandra can record",
)
PHOTON_INDEX = Limits(
    "",
    FINITE,  # a rising spectrum has a negative index, and the CSC holds some
    ValueRange(-10, 10),
    "the CSC's power-law fits give indices of about -3 to 8, and no fit lands beyond +-10",
)
BLACK_BODY_KT = "Chandra's band ends near 10 keV and its black-body fits stay below ~60 keV"
MISSION_TIME = Limits(
    "s",
    ValueRange(0),
    ValueRange(4.9e7, 1.6e9),
    "Chandra time counts seconds from 1998.0 TT, so launch in July 1999 is 4.9e7 s and"
    " 1.6e9 s is the year 2048; values outside are on another clock, such as MJD or Unix time",
)


DETECTION_KEY = ("name", "obsid", "region_id")

CSC_DETECTIONS = RawTable(
    name="csc_detections",
    columns={
        "name": pa.string(),
        "obsid": pa.int32(),
        "region_id": pa.int32(),
        "ra": pa.float64(),
        "dec": pa.float64(),
        "significance": pa.float64(),
        "likelihood": pa.float64(),
        "flux_aper_b": pa.float64(),
        **{descriptor: pa.float64() for descriptor in DESCRIPTORS},
        "powlaw_gamma_lolim": pa.float64(),
        "powlaw_gamma_hilim": pa.float64(),
        "bb_kt_lolim": pa.float64(),
        "bb_kt_hilim": pa.float64(),
        "gti_start": pa.float64(),
        "gti_stop": pa.float64(),
        "gti_elapse": pa.float64(),
    },
    # A CSC search result may hold only part of the schema (the CSCview VOTable
    # has no region_id); what is absent is loaded as null and reported.
    required=("name", "obsid", "ra", "dec"),
    key=DETECTION_KEY,
    # Chosen from the CSC 2 column definitions; the real TOPCAT sample (1,615
    # detections) and the demo lie well within every range.
    limits={
        "ra": RIGHT_ASCENSION,
        "dec": DECLINATION,
        "significance": Limits("", ValueRange(0)),
        "likelihood": Limits("", ValueRange(0)),
        # Aperture photometry with a non-negative flux prior: never below 0.
        "flux_aper_b": Limits(
            "erg/s/cm^2",
            ValueRange(0),
            ValueRange(0, 1e-6),
            "Sco X-1, the brightest X-ray source in the sky, gives ~2e-7 erg/s/cm^2",
        ),
        "theta": Limits(
            "arcmin",
            ValueRange(0),
            ValueRange(0, 60),
            "no Chandra detector reaches farther than ~50 arcmin off axis: HRC-S, the longest,"
            " is 99 arcmin long",
        ),
        "src_area_b": Limits(
            "arcsec^2",
            ValueRange(0, inclusive=False),
            ValueRange(0, 1e7),
            "Chandra's largest field, HRC-I's 30 x 30 arcmin, is 3.2e6 arcsec^2",
        ),
        **{f"hard_{bands}": HARDNESS_RATIO for bands in ("hm", "hs", "ms")},
        **dict.fromkeys(("powlaw_gamma", "powlaw_gamma_lolim", "powlaw_gamma_hilim"), PHOTON_INDEX),
        "bb_kt": Limits("keV", ValueRange(0, inclusive=False), ValueRange(0, 1000), BLACK_BODY_KT),
        **dict.fromkeys(
            ("bb_kt_lolim", "bb_kt_hilim"),
            Limits("keV", ValueRange(0), ValueRange(0, 1000), BLACK_BODY_KT),
        ),
        **{f"var_prob_{band}": PROBABILITY for band in BANDS},
        **{
            f"{quantity}_{band}": COUNT_RATE
            for band in BANDS
            for quantity in VARIABILITY_QUANTITIES
            if quantity != "var_prob"
        },
        **{f"{test}_prob_{band}": PROBABILITY for test in ("ks", "kp") for band in BANDS},
        "gti_start": MISSION_TIME,
        "gti_stop": MISSION_TIME,
        "gti_elapse": Limits(
            "s",
            ValueRange(0),
            ValueRange(0, 1e6),
            "one observation's good time fits in Chandra's 64-hour orbit, 2.3e5 s",
        ),
    },
)

SIMBAD_COLUMNS: dict[str, pa.DataType] = {
    "main_id": pa.string(),
    "ra": pa.float64(),
    "dec": pa.float64(),
    "main_type": pa.string(),
    "other_types": pa.string(),
    "coo_err_maj": pa.float64(),
    "coo_err_min": pa.float64(),
    "coo_err_angle": pa.float64(),
    "nbref": pa.int32(),
    "radvel": pa.float64(),
    "redshift": pa.float64(),
    "sp_type": pa.string(),
    "morph_type": pa.string(),
    "plx": pa.float64(),
    "pmra": pa.float64(),
    "pmdec": pa.float64(),
    "mag_b": pa.float64(),
    "mag_v": pa.float64(),
    "mag_r": pa.float64(),
    "mag_j": pa.float64(),
    "mag_h": pa.float64(),
    "mag_k": pa.float64(),
    "mag_u_sdss": pa.float64(),
    "mag_g_sdss": pa.float64(),
    "mag_r_sdss": pa.float64(),
    "mag_i_sdss": pa.float64(),
    "mag_z_sdss": pa.float64(),
}

# Parallaxes (negative within their errors), proper motions, velocities (cz of a
# quasar exceeds c) and magnitudes (negative for bright stars) take any sign.
SIMBAD_LIMITS: dict[str, Limits] = {
    "ra": RIGHT_ASCENSION,
    "dec": DECLINATION,
    "coo_err_maj": Limits("mas", ValueRange(0)),
    "coo_err_min": Limits("mas", ValueRange(0)),
    "coo_err_angle": Limits("deg", ValueRange(0, 180)),
    "nbref": Limits("", ValueRange(0)),
    # 1 + z is a ratio of wavelengths: a blueshift makes z slightly negative, never -1.
    "redshift": Limits("", ValueRange(-1, inclusive=False)),
}

# A local SIMBAD catalogue that dbt crossmatches with the detections.
SIMBAD_OBJECTS = RawTable(
    name="simbad_objects",
    columns=SIMBAD_COLUMNS,
    required=("main_id", "ra", "dec", "main_type"),
    key=("main_id",),
    limits=SIMBAD_LIMITS,
)

# Detection-object pairs matched outside the warehouse (TOPCAT, CDS X-Match):
# the detection key, the SIMBAD columns, and the separation the tool reported.
SIMBAD_CROSSMATCH = RawTable(
    name="simbad_crossmatch",
    columns={
        "name": pa.string(),
        "obsid": pa.int32(),
        "region_id": pa.int32(),
        **SIMBAD_COLUMNS,
        "ang_dist_arcsec": pa.float64(),
    },
    required=("name", "obsid", "main_id", "main_type"),
    key=(*DETECTION_KEY, "main_id"),
    limits={**SIMBAD_LIMITS, "ang_dist_arcsec": Limits("arcsec", ValueRange(0))},
)

LOAD_LOG = RawTable(
    name="load_log",
    columns={
        "load_id": pa.int64(),
        "raw_table": pa.string(),
        "file": pa.string(),
        "file_format": pa.string(),
        "file_bytes": pa.int64(),
        "sha256": pa.string(),
        "row_count": pa.int64(),
        "missing_columns": pa.list_(pa.string()),
        "ignored_columns": pa.list_(pa.string()),
        "empty_columns": pa.list_(pa.string()),
        "crossmatch_radius_arcsec": pa.float64(),
        "loaded_at": pa.timestamp("us", tz="UTC"),
    },
    required=(),
)

# Parquet metadata key under which `python -m ingest simbad` records the radius its
# pairs were fetched within (arcsec); the loader copies it into the load log.
CROSSMATCH_RADIUS_METADATA_KEY = b"xray_crossmatch_radius_arcsec"

RAW_TABLES = (CSC_DETECTIONS, SIMBAD_OBJECTS, SIMBAD_CROSSMATCH)
RAW_SCHEMA = "raw"

# Units of the columns the models derive from the contract's (positions and separations),
# beside the contract's own: with them, unit_of answers for every physical column of the
# warehouse, the one source the docs test and the report read.
DERIVED_UNITS = {
    "l": "deg",
    "b": "deg",
    "abs_b": "deg",
    "abs_l": "deg",
    "simbad_ra": "deg",
    "simbad_dec": "deg",
    "separation_arcsec": "arcsec",
    "simbad_separation_arcsec": "arcsec",
    "reported_separation_arcsec": "arcsec",
}


def unit_of(column: str) -> str | None:
    """The unit of a column of the warehouse, by name: the contract's (raw columns keep
    their names through the models) or a derived column's; None if dimensionless or not a
    physical quantity."""
    for raw_table in RAW_TABLES:
        limits = raw_table.limits.get(column)
        if limits is not None and limits.unit:
            return limits.unit
    return DERIVED_UNITS.get(column)


# How input files name the contract's columns besides the contract names themselves.
#
# A contract name matches a file column in any letter case; two columns that differ
# only by case (`ra`, `RA`) are an error, not a guess. Aliases match exactly, letter
# case included: SIMBAD's R and r, B and b ... are different magnitudes, and DuckDB
# folds case, so they must land in distinctly named columns. An alias only applies
# when the contract name is absent.
#
# Crossmatch tools rename clashing columns. In a TOPCAT join the CSC table's `name`
# became `name_1`, and SIMBAD's `ra`, `dec` became `ra_x`, `dec_x`; TOPCAT compares
# names case-insensitively, so SIMBAD's `R` and `r` became `R_x` and `r_xa`. STILTS
# suffixes clashes `_1` (first table) and `_2` (second). CDS X-Match renames nothing:
# its output is `angDist`, the uploaded table's columns, then SIMBAD's (`main_id`,
# `ra`, `dec`, ..., `B V R J H K u g r i z`), so a CSV of it can repeat `ra` and `dec`;
# the reader numbers those two repeated names `_1`, `_2` in order of appearance (as
# astroquery's CSV parser did; any other repeated name is an error, see
# ingest/conform.py), and astropy, reading a VOTable by names, appends `2` to a repeat.
# In a file with both sides, a position suffixed for one side belongs to it; a bare
# `ra`, `dec` goes to the side left without one: the detection's in a detections
# file, SIMBAD's in a crossmatch file (see ingest/conform.py).
COLUMN_ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "csc": {
        "name": ("name_1",),
        # `csc_` is how `python -m ingest simbad` names the positions it uploads.
        "ra": ("ra_1", "csc_ra"),
        "dec": ("dec_1", "csc_dec"),
    },
    "simbad": {
        "ra": ("ra_x", "ra_2", "ra2", "ra_simbad"),
        "dec": ("dec_x", "dec_2", "dec2", "dec_simbad"),
        # astroquery.simbad (0.4.8+, TAP) names these after SIMBAD's tables.
        "main_type": ("otype",),
        "radvel": ("rvz_radvel",),
        "redshift": ("rvz_redshift",),
        "plx": ("plx_value",),
        "mag_b": ("B",),
        "mag_v": ("V",),
        "mag_r": ("R", "R_x"),
        "mag_j": ("J",),
        "mag_h": ("H",),
        "mag_k": ("K",),
        "mag_u_sdss": ("u",),
        "mag_g_sdss": ("g",),
        "mag_r_sdss": ("r", "r_xa"),
        "mag_i_sdss": ("i",),
        "mag_z_sdss": ("z",),
        # Separation in arcsec: CDS X-Match's `angDist`, TOPCAT's `Separation`.
        "ang_dist_arcsec": ("angDist", "Separation"),
    },
}
