"""The raw tables: their columns, types and keys, and how input files name them.

Every loader writes these exact schemas, so dbt's sources never depend on
which file or archive a table came from.
"""

from __future__ import annotations

from dataclasses import dataclass

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
class RawTable:
    """One table of the `raw` schema."""

    name: str
    columns: dict[str, pa.DataType]
    required: tuple[str, ...]
    key: tuple[str, ...] = ()

    @property
    def arrow_schema(self) -> pa.Schema:
        return pa.schema(list(self.columns.items()))


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

# A local SIMBAD catalogue that dbt crossmatches with the detections.
SIMBAD_OBJECTS = RawTable(
    name="simbad_objects",
    columns=SIMBAD_COLUMNS,
    required=("main_id", "ra", "dec", "main_type"),
    key=("main_id",),
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
        "loaded_at": pa.timestamp("us", tz="UTC"),
    },
    required=(),
)

RAW_TABLES = (CSC_DETECTIONS, SIMBAD_OBJECTS, SIMBAD_CROSSMATCH)
RAW_SCHEMA = "raw"

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
# the reader numbers repeated names `_1`, `_2` in order of appearance (as astroquery's
# CSV parser did), and astropy, reading a VOTable by names, appends `2` to a repeat.
# In a file with both sides, a position suffixed for one side belongs to it; a bare
# `ra`, `dec` goes to the side left without one: the detection's in a detections
# file, SIMBAD's in a crossmatch file (see ingest/files.py).
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
