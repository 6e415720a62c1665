"""Deterministic synthetic demo data: CSC detections and a local SIMBAD catalogue.

`make build` without inputs loads these two tables. They imitate what the warehouse was
designed on: 23,025 Chandra Source Catalog 2.0 detections with the ~150 net counts the CSC
needs before it fits spectra (so `powlaw_gamma` and `bb_kt` always exist), and the SIMBAD
objects around them.

How the sky is made, in order:
  fields      star-forming regions, deep extragalactic surveys, the Galactic centre, and
              a few hundred random targeted fields on and off the Galactic plane;
  pointings   Chandra observations of each field (deep fields get dozens);
  sources     astrophysical kinds (quasars, T Tauri stars, X-ray binaries, ...) placed
              around the field centres, with count rates from a steep logN-logS and an
              absorbed power-law or thermal spectrum;
  detections  every source-pointing pair with at least 150 counts on a chip; band counts,
              hardness ratios, spectral fits and light-curve statistics follow from the
              counts; a random subset of exactly N_DETECTIONS is kept;
  SIMBAD      a counterpart for about three quarters of the sources (0.2-1.2" away),
              unrelated neighbours 1.5-6" away, and unrelated objects across the fields.

Everything is drawn from one seed with vectorised numpy, so the files are identical
run to run.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import fields as fields_of
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from astropy.coordinates import SkyCoord, get_constellation

from ingest.schema import BANDS, CSC_DETECTIONS, SIMBAD_OBJECTS

DEMO_SEED = 23_025
N_DETECTIONS = 23_025

DETECTIONS_FILE = "csc_detections.parquet"
SIMBAD_FILE = "simbad_objects.parquet"

# SIMBAD's pre-2022 long labels (what TOPCAT and CDS X-Match return as main_type) that the
# demo uses, with the short code `other_types` lists. All are `long_label_pre2022` values
# of SIMBAD's object-type table. `Flare*` is not (SIMBAD retired it; flare stars are
# `Eruptive*` now), so the demo does not use it.
SIMBAD_LONG_LABELS: dict[str, str] = {
    "Star": "*",
    "**": "**",
    "PM*": "PM*",
    "EB*": "EB*",
    "SB*": "SB*",
    "V*": "V*",
    "low-mass*": "LM*",
    "WD*": "WD*",
    "Be*": "Be*",
    "Em*": "Em*",
    "BYDra": "BY*",
    "RSCVn": "RS*",
    "Eruptive*": "Er*",
    "RotV*": "Ro*",
    "YSO": "Y*O",
    "Candidate_YSO": "Y*?",
    "TTau*": "TT*",
    "Candidate_TTau*": "TT?",
    "Orion_V*": "Or*",
    "Ae*": "Ae*",
    "HMXB": "HXB",
    "LMXB": "LXB",
    "XB": "XB*",
    "Candidate_XB*": "XB?",
    "Candidate_LMXB": "LX?",
    "Candidate_HMXB": "HX?",
    "Pulsar": "Psr",
    "Neutron*": "N*",
    "Candidate_NS": "N*?",
    "CataclyV*": "CV*",
    "Nova": "No*",
    "Candidate_CV*": "CV?",
    "QSO": "QSO",
    "QSO_Candidate": "Q?",
    "Seyfert_1": "Sy1",
    "Seyfert_2": "Sy2",
    "Seyfert": "SyG",
    "AGN": "AGN",
    "AGN_Candidate": "AG?",
    "BLLac": "BLL",
    "Blazar": "Bla",
    "RadioG": "rG",
    "LINER": "LIN",
    "Galaxy": "G",
    "EmG": "EmG",
    "StarburstG": "SBG",
    "GinCl": "GiC",
    "BClG": "BiC",
    "GinGroup": "GiG",
    "GinPair": "GiP",
    "X": "X",
    "ULX": "ULX",
    "Radio": "Rad",
    "IR": "IR",
    "UV": "UV",
    "Blue": "blu",
    "IR<10um": "NIR",
    "gamma": "gam",
    "Unknown": "?",
}

# ---------------------------------------------------------------------------------------
# Astrophysical kinds of X-ray source
# ---------------------------------------------------------------------------------------

POWER_LAW, THERMAL = 0, 1


@dataclass(frozen=True)
class Kind:
    """A kind of X-ray source: its SIMBAD label, spectrum and behaviour.

    `shape` is the photon index (power law) or log10 kT/keV (thermal), as mean and spread;
    `log_nh` the intrinsic absorbing column, log10 cm^-2.
    """

    population: str
    label: str
    weight: float  # share within its population
    model: int
    shape: tuple[float, float]
    log_nh: tuple[float, float]
    flaring: float  # chance that one observation catches it varying
    long_term_dex: float  # scatter of its count rate between observations
    counterpart: float  # chance that SIMBAD knows it


# fmt: off
KINDS = (
    Kind("agn", "QSO", 0.48, POWER_LAW, (1.95, 0.22), (20.5, 0.3), 0.05, 0.12, 0.80),
    Kind("agn", "Seyfert_1", 0.15, POWER_LAW, (1.90, 0.25), (20.7, 0.4), 0.07, 0.15, 0.90),
    Kind("agn", "Seyfert_2", 0.07, POWER_LAW, (1.80, 0.30), (22.6, 0.5), 0.03, 0.10, 0.90),
    Kind("agn", "AGN", 0.10, POWER_LAW, (1.85, 0.30), (21.2, 0.7), 0.03, 0.12, 0.75),
    Kind("agn", "AGN_Candidate", 0.06, POWER_LAW, (1.85, 0.30), (21.0, 0.6), 0.03, 0.12, 0.65),
    Kind("agn", "QSO_Candidate", 0.03, POWER_LAW, (1.95, 0.25), (20.5, 0.3), 0.03, 0.12, 0.65),
    Kind("agn", "BLLac", 0.03, POWER_LAW, (2.20, 0.30), (20.5, 0.2), 0.15, 0.25, 0.95),
    Kind("agn", "Blazar", 0.02, POWER_LAW, (1.60, 0.30), (20.5, 0.2), 0.15, 0.25, 0.95),
    Kind("agn", "RadioG", 0.03, POWER_LAW, (1.70, 0.30), (21.8, 0.6), 0.03, 0.10, 0.90),
    Kind("agn", "LINER", 0.02, POWER_LAW, (1.90, 0.30), (21.0, 0.5), 0.02, 0.10, 0.90),
    Kind("agn", "Seyfert", 0.01, POWER_LAW, (1.90, 0.30), (21.5, 0.7), 0.03, 0.12, 0.90),
    Kind("galaxy", "Galaxy", 0.45, POWER_LAW, (1.80, 0.35), (20.8, 0.4), 0.02, 0.05, 0.85),
    Kind("galaxy", "EmG", 0.08, POWER_LAW, (1.90, 0.35), (21.0, 0.4), 0.02, 0.05, 0.85),
    Kind("galaxy", "StarburstG", 0.05, THERMAL, (-0.15, 0.20), (21.0, 0.4), 0.02, 0.05, 0.85),
    Kind("galaxy", "GinCl", 0.10, THERMAL, (0.40, 0.20), (20.5, 0.3), 0.02, 0.05, 0.85),
    Kind("galaxy", "BClG", 0.06, THERMAL, (0.50, 0.20), (20.5, 0.3), 0.02, 0.05, 0.85),
    Kind("galaxy", "GinGroup", 0.08, THERMAL, (0.00, 0.20), (20.5, 0.3), 0.02, 0.05, 0.85),
    Kind("galaxy", "GinPair", 0.03, POWER_LAW, (1.80, 0.35), (20.8, 0.4), 0.02, 0.05, 0.85),
    Kind("yso", "YSO", 0.30, THERMAL, (0.20, 0.25), (21.7, 0.4), 0.25, 0.20, 0.80),
    Kind("yso", "TTau*", 0.22, THERMAL, (0.15, 0.20), (21.5, 0.35), 0.30, 0.20, 0.85),
    Kind("yso", "Candidate_YSO", 0.16, THERMAL, (0.25, 0.25), (21.8, 0.4), 0.25, 0.20, 0.75),
    Kind("yso", "Orion_V*", 0.15, THERMAL, (0.20, 0.20), (21.6, 0.3), 0.30, 0.20, 0.90),
    Kind("yso", "Candidate_TTau*", 0.06, THERMAL, (0.15, 0.20), (21.5, 0.35), 0.25, 0.20, 0.75),
    Kind("yso", "Ae*", 0.03, THERMAL, (-0.10, 0.20), (21.3, 0.3), 0.10, 0.10, 0.95),
    Kind("yso", "Em*", 0.08, THERMAL, (0.15, 0.25), (21.5, 0.4), 0.25, 0.20, 0.85),
    Kind("star", "Star", 0.33, THERMAL, (-0.40, 0.15), (20.3, 0.4), 0.08, 0.08, 0.90),
    Kind("star", "PM*", 0.12, THERMAL, (-0.40, 0.15), (20.0, 0.3), 0.08, 0.08, 0.95),
    Kind("star", "**", 0.07, THERMAL, (-0.30, 0.15), (20.3, 0.4), 0.08, 0.08, 0.95),
    Kind("star", "EB*", 0.06, THERMAL, (-0.20, 0.15), (20.3, 0.4), 0.10, 0.10, 0.95),
    Kind("star", "low-mass*", 0.10, THERMAL, (-0.35, 0.15), (20.0, 0.3), 0.12, 0.10, 0.90),
    Kind("star", "V*", 0.10, THERMAL, (-0.30, 0.20), (20.5, 0.4), 0.12, 0.12, 0.95),
    Kind("star", "SB*", 0.04, THERMAL, (-0.25, 0.15), (20.3, 0.4), 0.08, 0.08, 0.95),
    # Hot white dwarfs are supersoft: often no hard-band counts at all.
    Kind("star", "WD*", 0.03, THERMAL, (-1.10, 0.10), (20.0, 0.3), 0.05, 0.05, 0.95),
    # gamma Cas analogues: hard thermal emission from a Be star.
    Kind("star", "Be*", 0.03, THERMAL, (1.00, 0.15), (21.3, 0.3), 0.10, 0.10, 0.95),
    Kind("active_star", "BYDra", 0.30, THERMAL, (-0.15, 0.20), (20.3, 0.4), 0.45, 0.25, 0.95),
    Kind("active_star", "RSCVn", 0.30, THERMAL, (0.00, 0.20), (20.3, 0.4), 0.40, 0.25, 0.95),
    Kind("active_star", "Eruptive*", 0.25, THERMAL, (-0.20, 0.20), (20.0, 0.3), 0.55, 0.30, 0.95),
    Kind("active_star", "RotV*", 0.15, THERMAL, (-0.15, 0.20), (20.3, 0.4), 0.35, 0.20, 0.95),
    Kind("xrb", "HMXB", 0.30, POWER_LAW, (1.10, 0.30), (22.5, 0.4), 0.45, 0.40, 0.97),
    Kind("xrb", "LMXB", 0.32, POWER_LAW, (1.80, 0.30), (22.0, 0.4), 0.40, 0.40, 0.95),
    Kind("xrb", "XB", 0.14, POWER_LAW, (1.60, 0.30), (22.2, 0.4), 0.40, 0.40, 0.95),
    Kind("xrb", "Candidate_XB*", 0.10, POWER_LAW, (1.60, 0.35), (22.2, 0.5), 0.35, 0.35, 0.90),
    Kind("xrb", "Candidate_LMXB", 0.07, POWER_LAW, (1.80, 0.35), (22.0, 0.5), 0.35, 0.35, 0.90),
    Kind("xrb", "Candidate_HMXB", 0.07, POWER_LAW, (1.20, 0.35), (22.5, 0.5), 0.35, 0.35, 0.90),
    Kind("pulsar", "Pulsar", 0.80, POWER_LAW, (1.60, 0.30), (21.6, 0.4), 0.05, 0.05, 0.97),
    # Isolated neutron stars: supersoft thermal emission from the surface.
    Kind("pulsar", "Neutron*", 0.12, THERMAL, (-0.80, 0.10), (20.3, 0.3), 0.02, 0.03, 0.97),
    Kind("pulsar", "Candidate_NS", 0.08, THERMAL, (-0.70, 0.15), (20.5, 0.3), 0.02, 0.03, 0.90),
    Kind("cv", "CataclyV*", 0.62, THERMAL, (0.90, 0.25), (21.0, 0.4), 0.35, 0.25, 0.90),
    Kind("cv", "Nova", 0.10, THERMAL, (-0.60, 0.20), (21.3, 0.3), 0.30, 0.30, 0.95),
    Kind("cv", "Candidate_CV*", 0.28, THERMAL, (0.85, 0.25), (21.0, 0.4), 0.30, 0.25, 0.80),
    # Sources with no optical identification: X-ray-only to SIMBAD if it knows them at all.
    Kind("unidentified", "X", 0.62, POWER_LAW, (1.70, 0.50), (21.2, 0.8), 0.06, 0.15, 0.30),
    Kind("unidentified", "IR", 0.10, POWER_LAW, (1.70, 0.50), (21.5, 0.8), 0.06, 0.15, 0.30),
    Kind("unidentified", "Radio", 0.08, POWER_LAW, (1.70, 0.40), (21.0, 0.6), 0.04, 0.10, 0.30),
    Kind("unidentified", "UV", 0.05, POWER_LAW, (2.00, 0.40), (20.5, 0.4), 0.04, 0.10, 0.30),
    Kind("unidentified", "Blue", 0.05, POWER_LAW, (2.00, 0.40), (20.5, 0.4), 0.04, 0.10, 0.30),
    Kind("unidentified", "ULX", 0.10, POWER_LAW, (1.70, 0.40), (21.3, 0.5), 0.10, 0.30, 0.30),
)
# fmt: on
POPULATIONS = tuple(dict.fromkeys(kind.population for kind in KINDS))
GALACTIC_POPULATIONS = ("yso", "star", "active_star", "xrb", "pulsar", "cv")

# ---------------------------------------------------------------------------------------
# Fields and their observations
# ---------------------------------------------------------------------------------------

STAR_FORMING, DEEP, EXTRAGALACTIC, GALACTIC_PLANE, GALACTIC_CENTRE = (
    "star_forming",
    "deep",
    "extragalactic",
    "galactic_plane",
    "galactic_centre",
)

# Which populations a field of each kind contains.
FIELD_POPULATIONS: dict[str, dict[str, float]] = {
    STAR_FORMING: {
        "yso": 0.74, "star": 0.07, "active_star": 0.06, "agn": 0.08, "unidentified": 0.05,
    },
    DEEP: {"agn": 0.72, "galaxy": 0.14, "star": 0.04, "active_star": 0.02, "unidentified": 0.08},
    EXTRAGALACTIC: {
        "agn": 0.64, "galaxy": 0.10, "star": 0.08, "active_star": 0.06, "cv": 0.01,
        "unidentified": 0.11,
    },
    GALACTIC_PLANE: {
        "star": 0.20, "active_star": 0.12, "yso": 0.14, "xrb": 0.07, "cv": 0.07, "pulsar": 0.03,
        "agn": 0.12, "unidentified": 0.25,
    },
    GALACTIC_CENTRE: {
        "xrb": 0.08, "cv": 0.20, "star": 0.16, "active_star": 0.06, "pulsar": 0.02, "agn": 0.04,
        "unidentified": 0.44,
    },
}  # fmt: skip
# What a targeted observation of a random field points at.
TARGET_POPULATIONS: dict[str, dict[str, float]] = {
    EXTRAGALACTIC: {"agn": 0.70, "galaxy": 0.20, "active_star": 0.05, "star": 0.05},
    GALACTIC_PLANE: {
        "xrb": 0.35, "pulsar": 0.20, "cv": 0.15, "active_star": 0.10, "yso": 0.10, "star": 0.10,
    },
}  # fmt: skip


@dataclass(frozen=True)
class Field:
    """A patch of sky Chandra looked at, one or more times."""

    name: str
    ra: float
    dec: float
    kind: str
    n_observations: int
    exposure_ks: float  # typical exposure of one observation
    pointing_spread_arcmin: float  # how far the aim points of its observations scatter
    source_spread_arcmin: float  # Rayleigh scale of its sources around the centre
    n_sources: int
    log_nh: float  # Galactic foreground column towards it, log10 cm^-2
    distance_pc: float = 0.0  # of a star-forming region's members
    has_target: bool = False  # a bright target at the aim point


# fmt: off
NAMED_FIELDS = (
    Field("Orion Nebula Cluster", 83.8221, -5.3911, STAR_FORMING, 10, 80, 1.5, 4.5, 950, 21.3, 400),
    Field("rho Ophiuchi", 246.7875, -24.5400, STAR_FORMING, 5, 50, 4, 8, 260, 21.9, 140),
    Field("Taurus L1495", 64.6300, 28.3300, STAR_FORMING, 4, 40, 12, 14, 160, 21.2, 140),
    Field("NGC 2264", 100.2417, 9.8950, STAR_FORMING, 4, 60, 3, 7, 320, 21.0, 740),
    Field("Carina Nebula", 161.2650, -59.8700, STAR_FORMING, 12, 60, 20, 24, 720, 21.6, 2300),
    Field("Cygnus OB2", 308.3000, 41.3200, STAR_FORMING, 6, 50, 6, 9, 460, 22.0, 1400),
    Field("M17", 275.1200, -16.1800, STAR_FORMING, 3, 40, 2, 5, 260, 22.1, 1700),
    Field("IC 348", 56.1320, 32.1590, STAR_FORMING, 3, 50, 2, 5, 160, 21.4, 320),
    Field("NGC 1333", 52.2970, 31.3100, STAR_FORMING, 2, 40, 2, 5, 100, 21.6, 290),
    Field("Chandra Deep Field South", 53.1225, -27.8056, DEEP, 40, 100, 2, 6, 260, 19.9),
    Field("Chandra Deep Field North", 189.2280, 62.2380, DEEP, 20, 100, 2, 6, 210, 20.2),
    Field("COSMOS", 150.1190, 2.2060, DEEP, 50, 50, 25, 30, 1100, 20.3),
    Field("Lockman Hole", 161.2500, 58.0000, DEEP, 8, 70, 4, 8, 160, 19.8),
    Field("Bootes", 218.0000, 34.0000, DEEP, 30, 5, 40, 45, 900, 20.0),
    Field("Galactic Centre", 266.4168, -29.0078, GALACTIC_CENTRE, 25, 40, 5, 8, 650, 22.8),
)
# fmt: on
# How many random targeted fields of each kind.
N_EXTRAGALACTIC_FIELDS = 230
N_GALACTIC_PLANE_FIELDS = 110
N_BULGE_FIELDS = 15
# Extra extragalactic fields where coordinate code breaks: across RA 0/360 and near the poles.
EDGE_FIELD_CENTRES = ((359.95, 20.5), (0.06, -35.2), (12.0, 87.4), (300.0, -85.6))

MIN_COUNTS = 150  # the CSC fits spectra only above ~150 net counts
MAX_THETA_ARCMIN = 25.0
GTI_FIRST, GTI_LAST = 6.6e7, 5.2e8  # Chandra seconds since 1998.0: 2000 .. 2014


def demo_pointings(seed: int = DEMO_SEED) -> pa.Table:
    """The demo's observations: obsid and the aim point every detection's `theta` is from.

    The detection table does not carry the aim point (the CSC keeps it per observation),
    so tests and notebooks that check `theta` read it here.
    """
    fields, pointings = _fields_and_pointings(_random_streams(seed)[0])
    return pa.table(
        {
            "obsid": pa.array(pointings.obsid, pa.int32()),
            "ra_pnt": pointings.ra,
            "dec_pnt": pointings.dec,
            "field": [fields[i].name for i in pointings.field],
        }
    )


@dataclass(frozen=True)
class DemoFiles:
    """Where write_demo put the two tables."""

    detections: Path
    simbad_objects: Path


def generate_demo(seed: int = DEMO_SEED) -> tuple[pa.Table, pa.Table]:
    """The demo's (csc_detections, simbad_objects), with the raw-table schemas."""
    field_rng, source_rng, detection_rng, simbad_rng = _random_streams(seed)
    fields, pointings = _fields_and_pointings(field_rng)
    sources = _sources(source_rng, fields, pointings)
    detections = _detections(detection_rng, sources, pointings)
    simbad = _simbad_objects(simbad_rng, fields, sources, detections)
    return detections.table, simbad


def write_demo(out_dir: Path, seed: int = DEMO_SEED) -> DemoFiles:
    """Write the demo tables as Parquet into out_dir (created if missing)."""
    detections, simbad = generate_demo(seed)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = DemoFiles(out_dir / DETECTIONS_FILE, out_dir / SIMBAD_FILE)
    # No statistics timestamps or pandas metadata: the bytes depend on the data only.
    pq.write_table(detections, files.detections, compression="zstd")
    pq.write_table(simbad, files.simbad_objects, compression="zstd")
    return files


def _random_streams(seed: int) -> list[np.random.Generator]:
    """Independent random streams, so that the pointings can be rebuilt on their own."""
    return [np.random.default_rng(stream) for stream in np.random.SeedSequence(seed).spawn(4)]


# ---------------------------------------------------------------------------------------
# Spherical geometry
# ---------------------------------------------------------------------------------------


def _separation_deg(ra1, dec1, ra2, dec2):
    """Angular distance (Vincenty's formula, stable at all separations), degrees."""
    ra1, dec1, ra2, dec2 = (np.radians(x) for x in (ra1, dec1, ra2, dec2))
    d_ra = ra2 - ra1
    numerator = np.hypot(
        np.cos(dec2) * np.sin(d_ra),
        np.cos(dec1) * np.sin(dec2) - np.sin(dec1) * np.cos(dec2) * np.cos(d_ra),
    )
    denominator = np.sin(dec1) * np.sin(dec2) + np.cos(dec1) * np.cos(dec2) * np.cos(d_ra)
    return np.degrees(np.arctan2(numerator, denominator))


def _offset(ra, dec, separation_deg, position_angle_rad):
    """The point `separation_deg` away from (ra, dec) towards the position angle (E of N)."""
    dec_r, sep = np.radians(dec), np.radians(separation_deg)
    new_dec = np.arcsin(
        np.sin(dec_r) * np.cos(sep) + np.cos(dec_r) * np.sin(sep) * np.cos(position_angle_rad)
    )
    d_ra = np.arctan2(
        np.sin(position_angle_rad) * np.sin(sep) * np.cos(dec_r),
        np.cos(sep) - np.sin(dec_r) * np.sin(new_dec),
    )
    return _wrap_ra(ra + np.degrees(d_ra)), np.degrees(new_dec)


def _wrap_ra(ra):
    ra = np.mod(ra, 360.0)
    # np.mod of a tiny negative number rounds to exactly 360.
    return np.where(ra >= 360.0, ra - 360.0, ra)


def _scatter_around(rng, ra, dec, scale_arcmin, max_arcmin=90.0):
    """Positions scattered around (ra, dec) with Rayleigh-distributed distances; a distance
    beyond max_arcmin is drawn again, uniformly below it."""
    radius = rng.rayleigh(scale_arcmin)
    radius = np.where(radius > max_arcmin, rng.uniform(0, max_arcmin, np.shape(radius)), radius)
    return _offset(ra, dec, radius / 60.0, rng.uniform(0, 2 * np.pi, np.shape(radius)))


def _galactic(ra, dec):
    coords = SkyCoord(ra=ra, dec=dec, unit="deg", frame="icrs").galactic
    return coords.l.deg, coords.b.deg


def _icrs(l_deg, b_deg):
    coords = SkyCoord(l=l_deg, b=b_deg, unit="deg", frame="galactic").icrs
    return coords.ra.deg, coords.dec.deg


# ---------------------------------------------------------------------------------------
# Fields and pointings
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pointings:
    obsid: np.ndarray
    field: np.ndarray  # index into the field list
    ra: np.ndarray
    dec: np.ndarray
    gti_start: np.ndarray
    gti_stop: np.ndarray


def _fields_and_pointings(rng: np.random.Generator) -> tuple[list[Field], Pointings]:
    fields = [*NAMED_FIELDS, *_random_fields(rng)]
    field_index = np.repeat(np.arange(len(fields)), [f.n_observations for f in fields])
    centre_ra = np.array([fields[i].ra for i in field_index])
    centre_dec = np.array([fields[i].dec for i in field_index])
    spread = np.array([fields[i].pointing_spread_arcmin for i in field_index])
    ra, dec = _scatter_around(rng, centre_ra, centre_dec, spread)

    typical_exposure = np.array([fields[i].exposure_ks for i in field_index]) * 1e3
    elapse = np.maximum(typical_exposure * 10 ** rng.normal(0, 0.2, len(ra)), 1.5e3)
    # Observations longer than ~50 h are split into several.
    elapse = np.where(elapse > 1.85e5, rng.uniform(1.2e5, 1.85e5, len(ra)), elapse)
    start = np.round(rng.uniform(GTI_FIRST, GTI_LAST, len(ra)), 5)
    # ObsIDs grow with time, as Chandra assigns them (roughly, by proposal cycle).
    obsid = np.empty(len(ra), dtype=np.int64)
    obsid[np.argsort(start, kind="stable")] = np.sort(
        rng.choice(np.arange(300, 23_000), len(ra), replace=False)
    )
    stop = np.round(start + elapse, 5)
    return fields, Pointings(obsid, field_index, ra, dec, start, stop)


def _random_fields(rng: np.random.Generator) -> list[Field]:
    """Targeted observations: extragalactic ones off the plane, Galactic ones on it."""
    # Extragalactic targets avoid the Galactic plane (|b| > 15 deg).
    ra = rng.uniform(0, 360, 4 * N_EXTRAGALACTIC_FIELDS)
    dec = np.degrees(np.arcsin(rng.uniform(-1, 1, ra.size)))
    _, b = _galactic(ra, dec)
    keep = np.abs(b) > 15
    extragalactic = np.column_stack([ra[keep], dec[keep]])[:N_EXTRAGALACTIC_FIELDS]
    extragalactic = np.vstack([extragalactic, EDGE_FIELD_CENTRES])

    # The Galactic plane, crowded towards the inner Galaxy.
    longitude = np.mod(rng.normal(0, 60, N_GALACTIC_PLANE_FIELDS), 360)
    plane = np.column_stack(_icrs(longitude, rng.normal(0, 1.5, N_GALACTIC_PLANE_FIELDS)))
    bulge = np.column_stack(
        _icrs(
            np.mod(rng.uniform(-10, 10, N_BULGE_FIELDS), 360),
            rng.uniform(-4, 4, N_BULGE_FIELDS),
        )
    )

    fields = []
    for kind, centres, n_sources, log_nh in (
        (EXTRAGALACTIC, extragalactic, 24, (20.0, 20.9)),
        (GALACTIC_PLANE, plane, 32, (21.5, 22.4)),
        (GALACTIC_CENTRE, bulge, 40, (21.8, 22.5)),
    ):
        n = len(centres)
        n_observations = np.minimum(rng.geometric(0.6, n), 8)
        exposure = np.clip(10 ** rng.normal(np.log10(25), 0.3, n), 3, 150)
        counts = rng.poisson(n_sources, n)
        nh = rng.uniform(*log_nh, n)
        fields += [
            Field(
                name=f"{kind} field {i + 1}",
                ra=float(centres[i, 0]),
                dec=float(centres[i, 1]),
                kind=kind,
                n_observations=int(n_observations[i]),
                exposure_ks=float(exposure[i]),
                pointing_spread_arcmin=1.0,
                source_spread_arcmin=6.0,
                n_sources=int(counts[i]),
                log_nh=float(nh[i]),
                has_target=kind in TARGET_POPULATIONS,
            )
            for i in range(n)
        ]
    return fields


# ---------------------------------------------------------------------------------------
# Sources and their spectra
# ---------------------------------------------------------------------------------------

# Energy grid (keV) of the three CSC bands used for hardness ratios: soft, medium, hard.
_EDGES = np.geomspace(0.5, 7.0, 61)
ENERGY = np.sqrt(_EDGES[1:] * _EDGES[:-1])
ENERGY_WIDTH = np.diff(_EDGES)
# (energy, band) indicator: soft 0.5-1.2, medium 1.2-2, hard 2-7 keV.
IN_BAND = np.eye(3)[np.searchsorted([1.2, 2.0], ENERGY, side="right")]
# ACIS-I effective area (cm^2), soft end reduced by the contamination layer.
EFFECTIVE_AREA = np.interp(
    ENERGY,
    [0.5, 0.8, 1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0],
    [60, 220, 330, 420, 380, 320, 280, 220, 150, 80],
)
# Photoelectric cross-section per H atom (cm^2), a power-law fit to Morrison & McCammon.
ABSORPTION_CROSS_SECTION = 2.4e-22 * ENERGY**-2.5
# Counts -> photon-flux weights for the hardness ratios: they put a Gamma = 1.9 quasar at
# the CSC's median hard_hm 0.05, hard_hs -0.25, hard_ms -0.29.
HARDNESS_BAND_WEIGHT = np.array([1.0, 1 / 1.296, 1 / 1.032])
KEV_IN_ERG = 1.602177e-9
# A few per cent of a source's light escapes its own absorber: scattered around the torus
# of an AGN, or past the clumpy wind of a binary.
UNABSORBED_SHARE = 0.04
# Typical share of a Galactic-plane field's column in front of a Galactic source: nearby
# stars see little of it, X-ray binaries across the Galaxy most.
FOREGROUND_DEPTH = {
    "yso": 0.2,
    "star": 0.1,
    "active_star": 0.05,
    "cv": 0.2,
    "xrb": 0.8,
    "pulsar": 0.6,
}
GALACTIC_FOREGROUND_NH = 3e20


@dataclass(frozen=True)
class Sources:
    field: np.ndarray
    kind: np.ndarray  # index into KINDS
    ra: np.ndarray
    dec: np.ndarray
    count_rate: np.ndarray  # 0.5-7 keV counts/s on axis
    band_share: np.ndarray  # (n, 3): expected share of counts in soft, medium, hard
    erg_per_count: np.ndarray  # energy flux of one count per second, erg/cm^2
    intrinsic_gamma: np.ndarray  # photon index a fit with free absorption recovers


def _sources(rng: np.random.Generator, fields: list[Field], pointings: Pointings) -> Sources:
    n_per_field = np.array([f.n_sources for f in fields])
    field = np.repeat(np.arange(len(fields)), n_per_field)
    n = field.size
    field_kind = np.array([f.kind for f in fields])[field]
    is_target = np.zeros(n, dtype=bool)
    first_of_field = np.cumsum(n_per_field) - n_per_field
    has_target = np.array([f.has_target for f in fields])
    is_target[first_of_field[has_target & (n_per_field > 0)]] = True

    population = np.empty(n, dtype=object)
    for kind_name, mix in FIELD_POPULATIONS.items():
        members = np.flatnonzero(field_kind == kind_name)
        population[members] = _choose(rng, mix, members.size)
    for kind_name, mix in TARGET_POPULATIONS.items():
        targets = np.flatnonzero(is_target & (field_kind == kind_name))
        population[targets] = _choose(rng, mix, targets.size)
    kind = np.empty(n, dtype=np.int64)
    for name in POPULATIONS:
        members = np.flatnonzero(population == name)
        in_population = [i for i, k in enumerate(KINDS) if k.population == name]
        weights = np.array([KINDS[i].weight for i in in_population])
        kind[members] = rng.choice(in_population, members.size, p=weights / weights.sum())

    centre_ra = np.array([f.ra for f in fields])[field]
    centre_dec = np.array([f.dec for f in fields])[field]
    spread = np.array([f.source_spread_arcmin for f in fields])[field]
    spread = np.where(is_target, 0.15, spread)
    ra, dec = _scatter_around(rng, centre_ra, centre_dec, spread, max_arcmin=24.0)

    # Steep logN-logS above a floor a little below what the field's deepest exposure detects.
    deepest = np.zeros(len(fields))
    np.maximum.at(deepest, pointings.field, pointings.gti_stop - pointings.gti_start)
    floor = 0.6 * MIN_COUNTS / deepest[field]
    count_rate = floor * rng.pareto(0.9, n) + floor
    count_rate = np.where(is_target, floor * 10 ** rng.uniform(1, 2.5, n), count_rate)
    count_rate = np.minimum(count_rate, 3.0)  # brighter sources pile up and leave the CSC

    spectra = _spectra(rng, kind, field, fields)
    return Sources(field, kind, ra, dec, count_rate, *spectra)


def _choose(rng: np.random.Generator, weights: dict[str, float], size: int) -> np.ndarray:
    names = list(weights)
    p = np.array([weights[name] for name in names])
    return np.array(names, dtype=object)[rng.choice(len(names), size, p=p / p.sum())]


def _spectra(rng: np.random.Generator, kind: np.ndarray, field: np.ndarray, fields: list[Field]):
    """Band shares of counts, erg per count and intrinsic photon index of each source."""
    model = np.array([k.model for k in KINDS])[kind]
    shape_mean, shape_sd = np.array([k.shape for k in KINDS]).T[:, kind]
    nh_mean, nh_sd = np.array([k.log_nh for k in KINDS]).T[:, kind]
    shape = rng.normal(shape_mean, shape_sd)
    nh = 10 ** rng.normal(nh_mean, nh_sd)
    # Everything beyond the Galaxy sits behind the whole foreground column; Galactic
    # sources in the plane behind part of it (star-forming regions carry their own).
    field_nh = 10 ** np.array([f.log_nh for f in fields])[field]
    population = np.array([k.population for k in KINDS])[kind]
    extragalactic = ~np.isin(population, GALACTIC_POPULATIONS)
    in_plane = np.isin(np.array([f.kind for f in fields])[field], [GALACTIC_PLANE, GALACTIC_CENTRE])
    typical_depth = np.array([FOREGROUND_DEPTH.get(p, 1.0) for p in population])
    depth = np.minimum(rng.uniform(0, 2 * typical_depth), 1.0)
    foreground_nh = np.select([extragalactic, in_plane], [field_nh, depth * field_nh], 0.0)

    kt = 10.0**shape
    power_law = model == POWER_LAW
    emitted = np.empty((kind.size, ENERGY.size))
    emitted[power_law] = np.exp(-shape[power_law, None] * np.log(ENERGY))
    # Optically thin thermal continuum.
    emitted[~power_law] = np.exp(-ENERGY / kt[~power_law, None]) / ENERGY
    intrinsic = np.exp(-nh[:, None] * ABSORPTION_CROSS_SECTION)
    foreground = np.exp(-foreground_nh[:, None] * ABSORPTION_CROSS_SECTION)
    photons = emitted * foreground * (UNABSORBED_SHARE + (1 - UNABSORBED_SHARE) * intrinsic)
    counts = photons * EFFECTIVE_AREA * ENERGY_WIDTH
    band_counts = counts @ IN_BAND
    total_counts = band_counts.sum(axis=1)
    energy_flux = (photons * ENERGY * ENERGY_WIDTH).sum(axis=1) * KEV_IN_ERG
    # The local slope of a thermal spectrum near 1.5 keV is what a power law fits.
    intrinsic_gamma = np.where(power_law, shape, 1 + 1.5 / kt)
    return band_counts / total_counts[:, None], energy_flux / total_counts, intrinsic_gamma


def _hardness(band_counts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """hard_hm, hard_hs, hard_ms from soft/medium/hard counts (half a count added to each,
    as a Bayesian estimate would, so that an empty band does not give exactly +-1)."""
    soft, medium, hard = ((band_counts + 0.5) * HARDNESS_BAND_WEIGHT).T
    return (
        (hard - medium) / (hard + medium),
        (hard - soft) / (hard + soft),
        (medium - soft) / (medium + soft),
    )


def _apparent_gamma_table() -> tuple[np.ndarray, np.ndarray]:
    """hard_hs of a power law behind the Galactic foreground, by photon index (ascending hs)."""
    gamma = np.linspace(11.0, -3.0, 281)
    photons = ENERGY ** -gamma[:, None] * np.exp(-GALACTIC_FOREGROUND_NH * ABSORPTION_CROSS_SECTION)
    counts = photons * EFFECTIVE_AREA * ENERGY_WIDTH
    band_counts = counts @ IN_BAND
    soft, _, hard = (band_counts * HARDNESS_BAND_WEIGHT).T
    return (hard - soft) / (hard + soft), gamma


# ---------------------------------------------------------------------------------------
# Detections
# ---------------------------------------------------------------------------------------

# log10(var_sigma / var_mean) -> var_prob, read off the real CSC sample (all bands alike).
VARIABILITY_RATIO_ANCHORS = np.array([-4.5, -3.5, -2.75, -2.25, -1.75, -1.25, -0.75, -0.25, 0.5])
VARIABILITY_PROB_ANCHORS = np.array([0.02, 0.045, 0.068, 0.095, 0.15, 0.3, 0.65, 0.95, 0.995])
# Typical log10(var_sigma / var_mean) of a steady source with 10**2.5 broad-band counts or
# 10**2 counts in a narrow band; more counts, a flatter light curve.
STEADY_RATIO = {"b": (-2.45, 2.5), "s": (-1.5, 2.0), "m": (-1.5, 2.0), "h": (-1.5, 2.0)}
MIN_BAND_COUNTS = 1  # an empty band has no light curve, so no variability statistics
BACKGROUND_RATE = 1e-5  # counts/s per band in an on-axis source aperture
GLITCH_SHARE = 0.002  # light curves with absurd sigma and maximum, as the CSC has a few
FLUX_MISSING_SHARE = 0.003


@dataclass(frozen=True)
class Detections:
    source: np.ndarray
    table: pa.Table


def _detections(rng: np.random.Generator, sources: Sources, pointings: Pointings) -> Detections:
    # Candidate pairs: every source with every observation of its field.
    observations_of_field = [
        np.flatnonzero(pointings.field == f) for f in range(sources.field.max() + 1)
    ]
    n_per_source = np.array([observations_of_field[f].size for f in sources.field])
    source = np.repeat(np.arange(sources.field.size), n_per_source)
    pointing = np.concatenate([observations_of_field[f] for f in sources.field])
    theta = 60 * _separation_deg(
        pointings.ra[pointing], pointings.dec[pointing], sources.ra[source], sources.dec[source]
    )
    exposure = (pointings.gti_stop - pointings.gti_start)[pointing]
    kind = sources.kind[source]
    long_term = np.array([k.long_term_dex for k in KINDS])[kind]
    vignetting = 1 - 0.015 * theta
    counts = rng.poisson(
        sources.count_rate[source] * 10 ** rng.normal(0, long_term) * exposure * vignetting.clip(0)
    )
    # The ACIS chips cover the inner 8' fully, then less and less of each ring.
    on_chip = rng.random(theta.size) < np.interp(
        theta, [0, 8, 20, MAX_THETA_ARCMIN], [1, 1, 0.3, 0]
    )
    detected = np.flatnonzero((counts >= MIN_COUNTS) & on_chip)
    if detected.size < N_DETECTIONS:
        raise RuntimeError(f"only {detected.size} detections simulated, need {N_DETECTIONS}")
    keep = np.sort(rng.choice(detected, N_DETECTIONS, replace=False))
    source, pointing, theta, exposure, counts = (
        x[keep] for x in (source, pointing, theta, exposure, counts)
    )
    kind = sources.kind[source]
    n = keep.size

    # Counts per band: the source's, split as its spectrum says, plus the background in
    # the aperture, which grows with the PSF off axis. Then everything follows from them.
    share = sources.band_share[source]
    soft = rng.binomial(counts, share[:, 0])
    medium = rng.binomial(counts - soft, share[:, 1] / (share[:, 1] + share[:, 2]).clip(1e-12))
    hard = counts - soft - medium
    background = BACKGROUND_RATE * exposure * (1 + (theta / 6) ** 2)
    soft, medium, hard = (band + rng.poisson(background) for band in (soft, medium, hard))
    counts = soft + medium + hard
    band_counts = {"s": soft, "m": medium, "h": hard, "b": counts}
    hard_hm, hard_hs, hard_ms = _hardness(np.column_stack([soft, medium, hard]))
    powlaw_gamma, bb_kt, limits = _spectral_fits(
        rng, hard_hs, sources.intrinsic_gamma[source], counts
    )

    flux = counts * sources.erg_per_count[source] / exposure * 10 ** rng.normal(0, 0.03, n)
    flux = np.where(rng.random(n) < FLUX_MISSING_SHARE, np.nan, flux)

    flaring = rng.random(n) < np.array([k.flaring for k in KINDS])[kind]
    variability = {
        band: _light_curve(rng, band, band_counts[band], exposure, flaring) for band in BANDS
    }

    # Master-source properties, for the sources that made it into the catalogue.
    present, source_row = np.unique(source, return_inverse=True)
    names = _source_names(sources.ra[present], sources.dec[present])[source_row]
    significance, likelihood = _master_significance(rng, source_row, counts, theta, present.size)
    order = np.lexsort((pointings.obsid[pointing], names))
    columns = {
        "name": names,
        "obsid": pointings.obsid[pointing],
        "region_id": _region_ids(rng, pointings.obsid[pointing]),
        "ra": sources.ra[source],
        "dec": sources.dec[source],
        "significance": significance[source_row],
        "likelihood": likelihood[source_row],
        "flux_aper_b": flux,
        "theta": theta,
        "src_area_b": _source_area(rng, theta),
        "hard_hm": hard_hm,
        "hard_hs": hard_hs,
        "hard_ms": hard_ms,
        "powlaw_gamma": powlaw_gamma,
        "bb_kt": bb_kt,
        **{f"{q}_{band}": variability[band][q] for band in BANDS for q in variability[band]},
        **limits,
        "gti_start": pointings.gti_start[pointing],
        "gti_stop": pointings.gti_stop[pointing],
        "gti_elapse": pointings.gti_stop[pointing] - pointings.gti_start[pointing],
    }
    table = _arrow_table(
        {name: np.asarray(v)[order] for name, v in columns.items()}, CSC_DETECTIONS.arrow_schema
    )
    return Detections(source[order], table)


def _spectral_fits(rng, hard_hs, intrinsic_gamma, counts):
    """powlaw_gamma and bb_kt, with their confidence limits, as CSC fits would give.

    Absorption and slope are degenerate at a few hundred counts, so the fitted photon index
    lies between the intrinsic one and the apparent one the hardness ratio implies. A black
    body fits the slope near 2 keV (2 - E/kT), leaving more of the absorption to it. About
    1% of fits go astray, as in the CSC.
    """
    hs_table, gamma_table = _apparent_gamma_table()
    apparent = np.interp(hard_hs, hs_table, gamma_table)
    precision = np.sqrt(MIN_COUNTS / counts)
    n = counts.size
    gamma = apparent + 0.65 * (intrinsic_gamma - apparent) + rng.normal(0, 0.25 * precision)
    bb_slope = apparent + 0.2 * (intrinsic_gamma - apparent) + rng.normal(0, 0.1 * precision)
    astray = rng.random(n) < 0.01
    gamma = np.where(astray, apparent + rng.normal(0, 1.5, n), gamma)
    bb_slope = np.where(astray, apparent + rng.normal(0, 1.5, n), bb_slope)
    gamma = _within(rng, gamma, -3.0, 8.3)
    bb_kt = 2.0 / np.maximum(2 + bb_slope, 0.03) * 10 ** rng.normal(0, 0.04, n)
    bb_kt = _within(rng, bb_kt, 0.15, 55.0)

    error = 0.4 * precision * np.exp(rng.normal(0, 0.3, (4, counts.size)))
    limits = {
        "powlaw_gamma_lolim": gamma - error[0],
        "powlaw_gamma_hilim": gamma + error[1],
        "bb_kt_lolim": bb_kt * np.exp(-0.5 * error[2]),
        "bb_kt_hilim": bb_kt * np.exp(0.7 * error[3]),
    }
    return gamma, bb_kt, limits


def _within(rng, values, low, high):
    """Fits that run into a parameter bound stop somewhere in the last 20% before it."""
    margin = 0.2 * (high - low)
    values = np.where(values < low, rng.uniform(low, low + margin, values.size), values)
    return np.where(values > high, rng.uniform(high - margin, high, values.size), values)


def _light_curve(rng, band, counts, exposure, flaring) -> dict[str, np.ndarray]:
    """The CSC's Gregory-Loredo and K-S/Kuiper statistics of one band's light curve."""
    n = counts.size
    mean = counts / exposure
    # A flare shows only in a band with enough photons to trace it.
    seen_flaring = flaring & (rng.random(n) < np.clip(counts / 60, 0, 1))
    steady, reference_log_counts = STEADY_RATIO[band]
    steady_ratio = rng.normal(
        steady - 0.4 * (np.log10(np.maximum(counts, 1)) - reference_log_counts), 0.7
    )
    log_ratio = np.where(seen_flaring, rng.normal(-0.5, 0.3, n), steady_ratio)
    glitch = rng.random(n) < GLITCH_SHARE
    log_ratio = np.where(glitch, rng.uniform(0.3, 2.5, n), log_ratio)
    sigma = mean * 10**log_ratio

    logit = np.interp(log_ratio, VARIABILITY_RATIO_ANCHORS, _logit(VARIABILITY_PROB_ANCHORS))
    var_prob = _expit(logit + rng.normal(0, 0.35, n))
    var_prob = np.where(glitch, rng.uniform(0.1, 0.5, n), var_prob)
    # K-S and Kuiper give the probability that the source varied: near 1 when it flared,
    # otherwise spread over [0, 1] with a lean towards the Gregory-Loredo verdict.
    tendency = (log_ratio - steady) / 0.7
    latent = 0.5 * tendency + 0.87 * rng.normal(size=n)
    flare_ks = 1 - 10 ** -rng.normal(3.5, 1.2, n).clip(0.3)
    ks_prob = np.where(seen_flaring, flare_ks, _normal_cdf(latent))
    flare_kp = 1 - (1 - flare_ks) * 10 ** rng.normal(0, 0.3, n)
    steady_kp = _normal_cdf(0.85 * latent + 0.5 * rng.normal(size=n))
    kp_prob = np.where(seen_flaring, flare_kp, steady_kp)

    # About one sigma below the mean; multiplicative, so that deep dips stay positive.
    var_min = mean * np.exp(-np.minimum(10**log_ratio * np.exp(rng.normal(0, 0.2, n)), 20))
    # A flare's peak can lie far above the mean.
    var_max = mean + sigma * (1 + rng.pareto(2.5, n) * np.where(seen_flaring, 2.0, 0.3))
    statistics = {
        "var_prob": var_prob,
        "var_sigma": sigma,
        "var_mean": mean,
        "var_min": var_min,
        "var_max": var_max,
    }
    missing = counts < MIN_BAND_COUNTS
    statistics = {name: np.where(missing, np.nan, value) for name, value in statistics.items()}
    statistics["ks_prob"] = np.where(missing, np.nan, ks_prob.clip(0, 1))
    statistics["kp_prob"] = np.where(missing, np.nan, kp_prob.clip(0, 1))
    return statistics


def _logit(p):
    return np.log(p / (1 - p))


def _expit(x):
    return 1 / (1 + np.exp(-x))


def _normal_cdf(x):
    """The standard normal CDF, in its logistic approximation (good to 0.01)."""
    return _expit(1.7 * x)


def _source_area(rng, theta):
    """src_area_b: the aperture grows as the PSF, ~theta^2 (fit to the real sample), with
    a heavy tail of odd apertures (crowding, extended sources)."""
    scatter = np.where(rng.random(theta.size) < 0.85, 0.6, 2.5)
    return 0.14 * theta**2 * np.exp(rng.normal(0, scatter))


def _master_significance(rng, source, counts, theta, n_sources):
    """significance and likelihood of each master source, from its best detection: more
    counts, more significant; off axis, more background under the wider PSF."""
    best = np.zeros(n_sources)
    np.maximum.at(best, source, np.sqrt(counts / (1 + (theta / 8) ** 2)))
    significance = best * 10 ** rng.normal(0, 0.15, n_sources)
    # ln L = 2.22 ln S + 0.83 fits the real CSC sample.
    likelihood = np.exp(0.83 + 2.22 * np.log(significance) + rng.normal(0, 0.25, n_sources))
    return significance, likelihood


def _region_ids(rng, obsid):
    """Small integers unique within an observation, with the gaps that undetected or
    unselected regions leave."""
    order = np.lexsort((rng.random(obsid.size), obsid))
    steps = rng.geometric(0.6, obsid.size)
    running = np.cumsum(steps)
    sorted_obsid = obsid[order]
    group_start = np.flatnonzero(np.r_[True, sorted_obsid[1:] != sorted_obsid[:-1]])
    before_group = np.repeat(
        running[group_start] - steps[group_start], np.diff(np.r_[group_start, obsid.size])
    )
    region_id = np.empty(obsid.size, dtype=np.int64)
    region_id[order] = running - before_group
    return region_id


# ---------------------------------------------------------------------------------------
# Names
# ---------------------------------------------------------------------------------------


def _sexagesimal(value, subdivisions, decimals, dot=True, width=2):
    """Truncated (never rounded) sexagesimal digits: value in hours or degrees, split into
    `subdivisions` base-60 parts, with `decimals` digits of the last."""
    scale = 10**decimals
    total = np.floor(np.asarray(value) * 60**subdivisions * scale).astype(np.int64)
    whole, fraction = np.divmod(total, scale)
    parts = []
    for _ in range(subdivisions):
        whole, part = np.divmod(whole, 60)
        parts.insert(0, part)
    template = f"{{:0{width}d}}" + "{:02d}" * subdivisions
    digits = [whole, *parts]
    if decimals:
        template += ("." if dot else "") + f"{{:0{decimals}d}}"
        digits.append(fraction)
    return [template.format(*row) for row in zip(*(d.tolist() for d in digits), strict=True)]


def _designation(prefix, ra, dec, ra_format, dec_format):
    """'PREFIX Jhhmmss.s+ddmmss'-style names (the prefix ends with 'J' where the catalogue
    writes one); formats are (base-60 subdivisions, decimals, decimal point)."""
    ra_text = _sexagesimal(ra / 15.0, *ra_format)
    dec_text = _sexagesimal(np.abs(dec), *dec_format)
    signs = np.where(dec < 0, "-", "+")
    return [f"{prefix}{r}{s}{d}" for r, s, d in zip(ra_text, signs, dec_text, strict=True)]


def _source_names(ra, dec):
    """CSC master-source names; a repeated name gets a suffix letter."""
    names = np.array(_designation("2CXO J", ra, dec, (2, 1, True), (2, 0, True)), dtype=object)
    return _with_suffixes(names)


def _with_suffixes(names):
    unique, inverse, counts = np.unique(names, return_inverse=True, return_counts=True)
    names = names.copy()
    for group in np.flatnonzero(counts > 1):
        for i, member in enumerate(np.flatnonzero(inverse == group)[1:]):
            names[member] = f"{names[member]}{'ABCDEFGHIJ'[i]}"
    return names


# ---------------------------------------------------------------------------------------
# SIMBAD
# ---------------------------------------------------------------------------------------

COUNTERPART_OFFSET_SIGMA_ARCSEC = 0.4
COUNTERPART_OFFSET_MAX_ARCSEC = 1.2
NEIGHBOUR_SHARE = 0.10  # sources with an unrelated object 1.5-6" away
NEIGHBOUR_ARCSEC = (1.5, 6.0)
SECOND_OBJECT_SHARE = 0.04  # counterparts with an unrelated object just beyond them
FIELD_OBJECTS_PER_SOURCE = 0.3
ALL_SKY_OBJECTS = 800
SPEED_OF_LIGHT_KM_S = 299_792.458

# Unrelated objects: what lies around at random, in and off the Milky Way.
GALACTIC_INTERLOPERS = {
    "Star": 0.40, "PM*": 0.10, "low-mass*": 0.05, "IR": 0.15, "Candidate_YSO": 0.08,
    "V*": 0.06, "**": 0.06, "EB*": 0.03, "Galaxy": 0.07,
}  # fmt: skip
EXTRAGALACTIC_INTERLOPERS = {
    "Galaxy": 0.35, "Star": 0.20, "PM*": 0.05, "QSO_Candidate": 0.06, "AGN_Candidate": 0.04,
    "IR": 0.12, "Radio": 0.10, "UV": 0.05, "EmG": 0.03,
}  # fmt: skip

# How SIMBAD names objects, by population (or label), as identifier scheme -> share.
ID_SCHEMES: dict[str, dict[str, float]] = {
    "yso": {"2MASS": 0.4, "Gaia DR3": 0.25, "V*": 0.15, "CXOU": 0.1, "WISEA": 0.1},
    "star": {"Gaia DR3": 0.3, "2MASS": 0.2, "TYC": 0.15, "HD": 0.1, "V*": 0.1, "UCAC4": 0.15},
    "active_star": {"Gaia DR3": 0.25, "2MASS": 0.2, "TYC": 0.15, "HD": 0.15, "V*": 0.25},
    "xrb": {
        "XTE": 0.15, "IGR": 0.2, "MAXI": 0.1, "Swift": 0.15, "4U": 0.15, "AX": 0.1, "CXOU": 0.15,
    },
    "pulsar": {"PSR": 0.9, "CXOU": 0.1},
    "cv": {"V*": 0.3, "CXOU": 0.2, "Gaia DR3": 0.2, "1RXS": 0.15, "Swift": 0.15},
    "agn": {
        "SDSS": 0.4, "2XMM": 0.1, "3XMM": 0.1, "QSO": 0.08, "[VV2006]": 0.1, "2MASX": 0.07,
        "WISEA": 0.08, "CXOU": 0.07,
    },
    "galaxy": {"LEDA": 0.3, "2MASX": 0.3, "SDSS": 0.3, "WISEA": 0.1},
    "X": {"CXOU": 0.4, "2XMM": 0.2, "3XMM": 0.2, "1RXS": 0.1, "XMMU": 0.1},
    "ULX": {"CXOU": 0.7, "2XMM": 0.3},
    "Radio": {"NVSS": 1.0},
    "IR": {"WISEA": 0.6, "2MASS": 0.4},
    "UV": {"GALEX": 1.0},
    "Blue": {"PB": 1.0},
}  # fmt: skip
# The Orion Nebula Cluster's members carry its own catalogues' names.
ORION_YSO_SCHEMES = {"[H97b]": 0.25, "COUP": 0.2, "V*": 0.15, "2MASS": 0.25, "Gaia DR3": 0.15}
# Other object types SIMBAD lists for objects of each population (besides their own).
OTHER_TYPE_POOLS = {
    "yso": ("X", "IR", "*", "Y*O", "Y*?", "Em*", "TT*", "V*", "NIR", "Or*"),
    "star": ("*", "IR", "PM*", "NIR", "V*", "UV", "**"),
    "active_star": ("*", "X", "V*", "IR", "PM*", "Er*", "UV", "**"),
    "xrb": ("X", "*", "HXB", "LXB", "XB*", "IR", "gam", "Rad"),
    "pulsar": ("Psr", "X", "Rad", "gam", "N*"),
    "cv": ("CV*", "X", "*", "UV", "V*", "No*"),
    "agn": ("X", "QSO", "AGN", "G", "IR", "UV", "Rad", "*", "AG?", "Q?", "Sy1", "Bla"),
    "galaxy": ("G", "IR", "X", "Rad", "UV", "EmG", "GiC", "GiG"),
    "unidentified": ("X", "IR", "Rad", "UV", "*", "?"),
}
SPECTRAL_TYPES = {
    "yso": ("M0", "M2e", "M3.5", "K7", "K5Ve", "G8IV", "M1e", "K2", "M4.5"),
    "star": ("G2V", "K0V", "K5V", "M2V", "F8V", "A0V", "K1III", "G5III", "M4.5Ve"),
    "active_star": ("M3.5Ve", "M4Ve", "K2V", "G5IV+K1IV", "K0IV", "M5Ve", "K1IVe"),
    "xrb": ("B0.5Ve", "O9.7Iab", "B1Ve", "B2IIIe", "K0V", "M1V"),
    "cv": ("M4V", "M3V", "K5V"),
}
MORPHOLOGIES = ("E", "S0", "Sa", "Sb", "Sc", "SBb", "SBc", "Irr", "E/S0", "S?")
# log10 distance (pc) of Galactic objects outside star-forming regions: mean and spread.
LOG_DISTANCE = {
    "yso": (2.8, 0.3),
    "star": (2.5, 0.4),
    "active_star": (1.8, 0.4),
    "xrb": (3.6, 0.25),
    "pulsar": (3.4, 0.3),
    "cv": (2.7, 0.3),
}
ABSOLUTE_V = {
    "yso": (7, 2),
    "star": (5, 2.5),
    "active_star": (10, 2),
    "xrb": (0, 4),
    "pulsar": (12, 2),
    "cv": (9, 2),
}
# log10 redshift: mean and spread, by label (galaxies by default).
LOG_REDSHIFT = {
    "QSO": (0.05, 0.3),
    "QSO_Candidate": (0.05, 0.3),
    "Seyfert_1": (-0.9, 0.3),
    "Seyfert_2": (-1.4, 0.4),
    "Seyfert": (-1.4, 0.4),
    "LINER": (-1.6, 0.3),
    "AGN": (-0.4, 0.4),
    "AGN_Candidate": (-0.3, 0.4),
    "BLLac": (-0.5, 0.3),
    "Blazar": (-0.1, 0.3),
    "RadioG": (-1.2, 0.3),
    "GinCl": (-0.8, 0.3),
    "BClG": (-0.8, 0.3),
}
POPULATION_OF_LABEL = {kind.label: kind.population for kind in KINDS}


@dataclass(frozen=True)
class SimbadObjects:
    """Where SIMBAD objects are and what they are, before names and photometry."""

    ra: np.ndarray
    dec: np.ndarray
    label: np.ndarray
    field: np.ndarray  # -1 for objects outside the demo's fields
    is_counterpart: np.ndarray

    @property
    def population(self) -> np.ndarray:
        return np.array([POPULATION_OF_LABEL[label] for label in self.label], dtype=object)


def _simbad_objects(rng, fields, sources: Sources, detections: Detections) -> pa.Table:
    objects = _simbad_positions(rng, fields, sources, detections)
    population = objects.population
    n = objects.ra.size
    columns: dict[str, np.ndarray] = {
        name: np.full(n, None, dtype=object) if dtype == pa.string() else np.full(n, np.nan)
        for name, dtype in SIMBAD_OBJECTS.columns.items()
    }
    columns.update(
        main_id=_main_ids(rng, objects, fields),
        ra=objects.ra,
        dec=objects.dec,
        main_type=objects.label,
        other_types=_other_types(rng, objects),
        nbref=_reference_counts(rng, population, objects.is_counterpart),
    )
    _fill_astrometric_errors(rng, columns, population)
    galactic = np.flatnonzero(np.isin(population, GALACTIC_POPULATIONS))
    _fill_stellar(rng, columns, galactic, objects, fields)
    extragalactic = np.flatnonzero(np.isin(population, ["agn", "galaxy"]))
    _fill_extragalactic(rng, columns, extragalactic, objects)
    _fill_multiwavelength_only(rng, columns, np.flatnonzero(population == "unidentified"), objects)

    order = np.argsort(objects.ra, kind="stable")
    return _arrow_table(
        {name: v[order] for name, v in columns.items()}, SIMBAD_OBJECTS.arrow_schema
    )


def _simbad_positions(rng, fields, sources: Sources, detections: Detections) -> SimbadObjects:
    """True counterparts, unrelated neighbours, and unrelated objects across the sky."""
    detected = np.unique(detections.source)
    ra, dec, field = sources.ra[detected], sources.dec[detected], sources.field[detected]
    n = detected.size
    field_kind = np.array([f.kind for f in fields])
    in_galaxy = np.isin(field_kind[field], [STAR_FORMING, GALACTIC_PLANE, GALACTIC_CENTRE])

    # True counterparts, off by Chandra's and the catalogue's position errors combined:
    # a Rayleigh distribution, truncated.
    kind = sources.kind[detected]
    known = np.flatnonzero(rng.random(n) < np.array([k.counterpart for k in KINDS])[kind])
    tail = 1 - np.exp(-0.5 * (COUNTERPART_OFFSET_MAX_ARCSEC / COUNTERPART_OFFSET_SIGMA_ARCSEC) ** 2)
    offset = COUNTERPART_OFFSET_SIGMA_ARCSEC * np.sqrt(-2 * np.log(1 - rng.random(n) * tail))
    counterparts = SimbadObjects(
        *_offset(ra[known], dec[known], offset[known] / 3600, _angles(rng, known.size)),
        label=np.array([KINDS[k].label for k in kind[known]], dtype=object),
        field=field[known],
        is_counterpart=np.ones(known.size, dtype=bool),
    )
    # Unrelated neighbours 1.5-6" away: within 3" they are what a nearest match picks
    # when the true counterpart is missing.
    near = np.flatnonzero(rng.random(n) < NEIGHBOUR_SHARE)
    distance = rng.uniform(*NEIGHBOUR_ARCSEC, near.size)
    neighbours = _unrelated(
        rng,
        *_offset(ra[near], dec[near], distance / 3600, _angles(rng, near.size)),
        in_galaxy[near],
        field[near],
    )
    # A second object just beyond a true counterpart: only the nearest is the match.
    second = known[rng.random(known.size) < SECOND_OBJECT_SHARE]
    distance = offset[second] + rng.uniform(0.3, 1.5, second.size)
    beyond = _unrelated(
        rng,
        *_offset(ra[second], dec[second], distance / 3600, _angles(rng, second.size)),
        in_galaxy[second],
        field[second],
    )
    # Unrelated objects across the fields and the whole sky.
    n_in_field = rng.poisson(FIELD_OBJECTS_PER_SOURCE * np.array([f.n_sources for f in fields]))
    object_field = np.repeat(np.arange(len(fields)), n_in_field)
    field_ra, field_dec = _scatter_around(
        rng,
        np.array([f.ra for f in fields])[object_field],
        np.array([f.dec for f in fields])[object_field],
        1.5 * np.array([f.source_spread_arcmin for f in fields])[object_field],
    )
    sky_ra = rng.uniform(0, 360, ALL_SKY_OBJECTS)
    sky_dec = np.degrees(np.arcsin(rng.uniform(-1, 1, ALL_SKY_OBJECTS)))
    scattered_ra, scattered_dec = np.r_[field_ra, sky_ra], np.r_[field_dec, sky_dec]
    _, b = _galactic(scattered_ra, scattered_dec)
    scattered = _unrelated(
        rng,
        scattered_ra,
        scattered_dec,
        np.abs(b) < 15,
        np.r_[object_field, np.full(ALL_SKY_OBJECTS, -1)],
    )
    parts = (counterparts, neighbours, beyond, scattered)
    return SimbadObjects(
        *(
            np.concatenate([getattr(part, f.name) for part in parts])
            for f in fields_of(SimbadObjects)
        )
    )


def _unrelated(rng, ra, dec, in_galaxy, field) -> SimbadObjects:
    """Objects that are not the X-ray source: stars and infrared sources in the Milky Way,
    galaxies and radio sources beyond it."""
    label = np.where(
        in_galaxy,
        _choose(rng, GALACTIC_INTERLOPERS, ra.size),
        _choose(rng, EXTRAGALACTIC_INTERLOPERS, ra.size),
    )
    return SimbadObjects(ra, dec, label, field, np.zeros(ra.size, dtype=bool))


def _angles(rng, n):
    return rng.uniform(0, 2 * np.pi, n)


# Coordinate-based identifiers: prefix, then RA and Dec formats as
# (base-60 subdivisions, decimals of the last, decimal point).
COORDINATE_IDS = {
    "SDSS": ("SDSS J", (2, 2, True), (2, 1, True)),
    "2MASS": ("2MASS J", (2, 2, False), (2, 1, False)),
    "2MASX": ("2MASX J", (2, 2, False), (2, 1, False)),
    "WISEA": ("WISEA J", (2, 2, True), (2, 1, True)),
    "CXOU": ("CXOU J", (2, 1, True), (2, 0, True)),
    "2XMM": ("2XMM J", (2, 1, True), (2, 0, True)),
    "3XMM": ("3XMM J", (2, 1, True), (2, 0, True)),
    "XMMU": ("XMMU J", (2, 1, True), (2, 0, True)),
    "1RXS": ("1RXS J", (2, 1, True), (2, 0, True)),
    "[VV2006]": ("[VV2006] J", (2, 1, True), (2, 0, True)),
    "GALEX": ("GALEX J", (2, 1, True), (2, 0, True)),
    "NVSS": ("NVSS J", (2, 0, True), (2, 0, True)),
    "PSR": ("PSR J", (1, 0, True), (1, 0, True)),
    "QSO": ("QSO J", (1, 0, True), (1, 0, True)),
    "XTE": ("XTE J", (1, 0, True), (0, 1, False)),
    "MAXI": ("MAXI J", (1, 0, True), (0, 1, False)),
    "IGR": ("IGR J", (1, 1, False), (1, 0, True)),
    "Swift": ("Swift J", (1, 1, True), (1, 0, True)),
    "AX": ("AX J", (1, 1, True), (1, 0, True)),
    "4U": ("4U ", (1, 0, True), (0, 0, True)),
}
# Catalogue-number identifiers: a format and the range of its number(s).
NUMBERED_IDS = {
    "[H97b]": ("[H97b] {}", (1, 3000)),
    "COUP": ("COUP {}", (1, 1617)),
    "HD": ("HD {}", (1, 359_084)),
    "LEDA": ("LEDA {}", (1, 5_000_000)),
    "PB": ("PB {:5d}", (1, 10_000)),
    "TYC": ("TYC {}-{}-1", (1, 9538), (1, 3000)),
    "UCAC4": ("UCAC4 {:03d}-{:06d}", (1, 901), (1, 400_000)),
}


def _main_ids(rng, objects: SimbadObjects, fields) -> np.ndarray:
    """Unique, realistic SIMBAD identifiers ('2MASS J05351234-0523123', 'V* V1234 Ori', ...)."""
    n = objects.ra.size
    population = objects.population
    in_orion = np.array(
        [f >= 0 and fields[f].name == "Orion Nebula Cluster" for f in objects.field]
    )
    # Objects known in one waveband are named by that band's survey; others by population.
    naming = np.array(
        [
            label if label in ID_SCHEMES else p
            for label, p in zip(objects.label, population, strict=True)
        ],
        dtype=object,
    )
    scheme = np.empty(n, dtype=object)
    for key in dict.fromkeys(naming):
        members = np.flatnonzero(naming == key)
        scheme[members] = _choose(rng, ID_SCHEMES[key], members.size)
    orion = np.flatnonzero(in_orion & (population == "yso"))
    scheme[orion] = _choose(rng, ORION_YSO_SCHEMES, orion.size)

    # Gaia DR3 source ids: 19 digits, one reserved for every object so that any
    # identifier can fall back on it.
    gaia = rng.choice(8 * 10**18, n, replace=False) + 10**18
    ids = np.array([f"Gaia DR3 {number}" for number in gaia], dtype=object)
    for name in dict.fromkeys(scheme):
        members = np.flatnonzero(scheme == name)
        ra, dec = objects.ra[members], objects.dec[members]
        if name in COORDINATE_IDS:
            ids[members] = _designation(
                *COORDINATE_IDS[name][:1], ra, dec, *COORDINATE_IDS[name][1:]
            )
        elif name in NUMBERED_IDS:
            template, *ranges = NUMBERED_IDS[name]
            numbers = [rng.integers(*bounds, members.size) for bounds in ranges]
            ids[members] = [template.format(*values) for values in zip(*numbers, strict=True)]
        elif name == "V*":
            constellation = get_constellation(SkyCoord(ra=ra, dec=dec, unit="deg"), short_name=True)
            numbers = rng.integers(335, 2800, members.size)
            ids[members] = [f"V* V{v} {c}" for v, c in zip(numbers, constellation, strict=True)]
    # A repeated identifier keeps its first holder; the others are known by their Gaia id.
    _, first = np.unique(ids, return_index=True)
    repeated = np.setdiff1d(np.arange(n), first)
    ids[repeated] = [f"Gaia DR3 {number}" for number in gaia[repeated]]
    return ids


def _other_types(rng, objects: SimbadObjects) -> np.ndarray:
    """'|'-separated short codes, one per identifier, padded to three characters as SIMBAD
    writes them ('X  |QSO|*  |QSO')."""
    population = objects.population
    n_extra = np.minimum(rng.geometric(0.25, population.size) - 1, 14)
    # Most X-ray counterparts carry an X-ray identifier too, somewhere in the list.
    x_ray_at = np.where(
        objects.is_counterpart & (rng.random(population.size) < 0.85),
        rng.random(population.size),
        np.nan,
    )
    texts = np.empty(population.size, dtype=object)
    for name, pool in OTHER_TYPE_POOLS.items():
        members = np.flatnonzero(population == name)
        draws = rng.integers(0, len(pool), (members.size, 15))
        for row, i in enumerate(members):
            codes = [
                SIMBAD_LONG_LABELS[objects.label[i]],
                *(pool[j] for j in draws[row, : n_extra[i]]),
            ]
            if not np.isnan(x_ray_at[i]):
                codes.insert(int(x_ray_at[i] * (len(codes) + 1)), "X")
            texts[i] = "|".join(code.ljust(3) for code in codes).rstrip()
    return texts


def _reference_counts(rng, population, is_counterpart):
    """nbref: heavy-tailed, more for well-studied kinds and for X-ray counterparts."""
    log_mean = np.select(
        [np.isin(population, ["xrb", "pulsar"]), population == "unidentified"], [1.8, 0.2], 0.9
    )
    log_mean = log_mean + 0.3 * is_counterpart
    return np.floor(10 ** rng.normal(log_mean, 0.5)).astype(np.int64)


def _fill_astrometric_errors(rng, columns, population):
    n = population.size
    # Optical and infrared positions are sharp; radio, UV and X-ray-only ones are not.
    sharp = population != "unidentified"
    major = np.round(10 ** np.where(sharp, rng.normal(-2.8, 0.5, n), rng.normal(-0.3, 0.4, n)), 3)
    minor = np.round(major * rng.uniform(0.5, 1.0, n), 3)
    missing = rng.random(n) < 0.15
    columns["coo_err_maj"] = np.where(missing, np.nan, major)
    columns["coo_err_min"] = np.where(missing, np.nan, minor)
    columns["coo_err_angle"] = np.where(
        rng.random(n) < 0.8, 90.0, rng.integers(0, 180, n).astype(float)
    )


def _fill_stellar(rng, columns, members, objects: SimbadObjects, fields):
    """Distances, motions, spectral types and magnitudes of Galactic objects."""
    n = members.size
    population = objects.population[members]
    log_mean, log_sd = np.array([LOG_DISTANCE[p] for p in population]).T
    distance = 10 ** rng.normal(log_mean, log_sd)
    cluster_distance = np.array(
        [fields[f].distance_pc if f >= 0 else 0.0 for f in objects.field[members]]
    )
    # Members of a star-forming region share its distance.
    member_of_region = (population == "yso") & (cluster_distance > 0)
    distance = np.where(member_of_region, cluster_distance * 10 ** rng.normal(0, 0.03, n), distance)
    distance = np.maximum(distance, 10.0)

    has_astrometry = (rng.random(n) < 0.8) & (distance < 8000) & (population != "pulsar")
    plx = 1000 / distance * (1 + rng.normal(0, 0.05, n))
    proper_motion_sd = 25 / (4.74 * distance / 1000)  # 25 km/s across the sky, in mas/yr
    _set(columns, "plx", members, np.where(has_astrometry, np.round(plx, 4), np.nan))
    for column in ("pmra", "pmdec"):
        motion = np.round(rng.normal(0, proper_motion_sd), 3)
        _set(columns, column, members, np.where(has_astrometry, motion, np.nan))
    radvel = np.where(rng.random(n) < 0.4, np.round(rng.normal(-5, 25, n), 2), np.nan)
    _set(columns, "radvel", members, radvel)
    _set(columns, "redshift", members, np.round(radvel / SPEED_OF_LIGHT_KM_S, 7))
    spectral = np.array(
        [
            SPECTRAL_TYPES[p][rng.integers(len(SPECTRAL_TYPES[p]))] if p in SPECTRAL_TYPES else None
            for p in population
        ],
        dtype=object,
    )
    _set(columns, "sp_type", members, np.where(rng.random(n) < 0.6, spectral, None))

    absolute_mean, absolute_sd = np.array([ABSOLUTE_V[p] for p in population]).T
    extinction = np.where(
        population == "yso", rng.uniform(0, 8, n), np.abs(rng.normal(1, 0.5, n)) * distance / 1000
    )
    v = rng.normal(absolute_mean, absolute_sd) + 5 * np.log10(distance / 10) + extinction
    b = v + rng.uniform(0.2, 1.6, n)
    j = v - rng.uniform(0.8, 3.0, n)
    h = j - rng.uniform(0.1, 0.7, n)
    k = h - rng.uniform(0.05, 0.4, n)
    optical = (v < 21) & (rng.random(n) < 0.65)
    infrared = (j < 17) & (rng.random(n) < 0.9)
    photometry = {
        "mag_b": np.where(optical, b, np.nan),
        "mag_v": np.where(optical, v, np.nan),
        "mag_r": np.where(optical & (rng.random(n) < 0.4), v - rng.uniform(0.2, 0.8, n), np.nan),
        "mag_j": np.where(infrared, j, np.nan),
        "mag_h": np.where(infrared, h, np.nan),
        "mag_k": np.where(infrared, k, np.nan),
    }
    for column, values in photometry.items():
        _set(columns, column, members, np.round(values, 3))


def _fill_extragalactic(rng, columns, members, objects: SimbadObjects):
    """Redshifts, optical and infrared photometry and morphology of galaxies and AGN."""
    n = members.size
    label = objects.label[members]
    population = objects.population[members]
    log_mean, log_sd = np.array([LOG_REDSHIFT.get(x, (-1.3, 0.4)) for x in label]).T
    z = np.clip(10 ** rng.normal(log_mean, log_sd), 0.002, 6.0)
    z = np.where(rng.random(n) < 0.88, np.round(z, 5), np.nan)
    one_plus_z_squared = (1 + z) ** 2
    radvel = SPEED_OF_LIGHT_KM_S * (one_plus_z_squared - 1) / (one_plus_z_squared + 1)
    _set(columns, "redshift", members, z)
    _set(columns, "radvel", members, np.round(radvel, 4))

    # Gaia measures quasars too: proper motions and parallaxes consistent with zero.
    pointlike = population == "agn"
    gaia = pointlike & (rng.random(n) < 0.55)
    _set(columns, "pmra", members, np.where(gaia, np.round(rng.normal(0, 0.5, n), 2), np.nan))
    _set(columns, "pmdec", members, np.where(gaia, np.round(rng.normal(0, 0.5, n), 2), np.nan))
    has_plx = gaia & (rng.random(n) < 0.5)
    _set(
        columns,
        "plx",
        members,
        np.where(has_plx, np.round(np.abs(rng.normal(0.1, 0.3, n)), 4), np.nan),
    )
    galaxy_like = ~pointlike | np.isin(label, ["Seyfert_2", "Seyfert", "LINER", "RadioG"])
    morphology = np.array(MORPHOLOGIES, dtype=object)[rng.integers(0, len(MORPHOLOGIES), n)]
    _set(
        columns,
        "morph_type",
        members,
        np.where(galaxy_like & (rng.random(n) < 0.5), morphology, None),
    )

    # Quasars are blue point sources; galaxies redder and brighter.
    r = np.where(pointlike, rng.normal(19.5, 1.2, n), rng.normal(18.0, 1.5, n))
    colour = np.where(pointlike, 0.0, 1.0)
    _, b = _galactic(objects.ra[members], objects.dec[members])
    in_sdss = (objects.dec[members] > -12) & (np.abs(b) > 25) & (rng.random(n) < 0.9)
    sdss = {
        "mag_u_sdss": r + rng.normal(0.4 + 1.4 * colour, 0.3),
        "mag_g_sdss": r + rng.normal(0.3 + 0.5 * colour, 0.15),
        "mag_r_sdss": r,
        "mag_i_sdss": r - rng.normal(0.15 + 0.25 * colour, 0.1),
        "mag_z_sdss": r - rng.normal(0.25 + 0.35 * colour, 0.15),
    }
    for column, values in sdss.items():
        _set(columns, column, members, np.where(in_sdss, np.round(values, 3), np.nan))
    j = r - rng.normal(1.7, 0.4, n)
    h = j - rng.normal(0.7, 0.2, n)
    other = {
        "mag_b": np.where(rng.random(n) < 0.55, r + rng.normal(0.7, 0.3, n), np.nan),
        "mag_v": np.where(rng.random(n) < 0.5, r + rng.normal(0.2, 0.2, n), np.nan),
        "mag_r": np.where(rng.random(n) < 0.25, r + rng.normal(0, 0.2, n), np.nan),
        "mag_j": np.where(rng.random(n) < 0.35, j, np.nan),
        "mag_h": np.where(rng.random(n) < 0.33, h, np.nan),
        "mag_k": np.where(rng.random(n) < 0.4, h - rng.normal(0.9, 0.2, n), np.nan),
    }
    for column, values in other.items():
        _set(columns, column, members, np.round(values, 3))


def _fill_multiwavelength_only(rng, columns, members, objects: SimbadObjects):
    """Objects known from one waveband: an infrared source has infrared magnitudes, a
    blue or UV one a blue magnitude, a radio or X-ray one nothing more."""
    n = members.size
    label = objects.label[members]
    j = rng.normal(16, 1.5, n)
    infrared = label == "IR"
    _set(columns, "mag_j", members, np.where(infrared, np.round(j, 3), np.nan))
    _set(columns, "mag_h", members, np.where(infrared, np.round(j - 0.6, 3), np.nan))
    _set(columns, "mag_k", members, np.where(infrared, np.round(j - 1.0, 3), np.nan))
    blue = np.isin(label, ["Blue", "UV"])
    _set(columns, "mag_b", members, np.where(blue, np.round(rng.normal(18.5, 1.0, n), 2), np.nan))


def _set(columns, name, members, values):
    columns[name][members] = values


def _arrow_table(columns: dict[str, np.ndarray], schema: pa.Schema) -> pa.Table:
    """Columns in schema order; NaN and None become null."""
    arrays = []
    for field in schema:
        values = columns[field.name]
        if pa.types.is_floating(field.type):
            arrays.append(pa.array(values, field.type, mask=np.isnan(values)))
        else:
            arrays.append(pa.array(values, field.type))
    return pa.Table.from_arrays(arrays, schema=schema)
