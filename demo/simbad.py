"""The SIMBAD side of the demo: the objects SIMBAD knows in and around the fields.

A counterpart for about three quarters of the detected sources (0.2-1.2" away, as
Chandra's and the catalogue's position errors combine), unrelated neighbours 1.5-6" away
from a tenth of them, a second object just beyond a few counterparts, and unrelated
objects scattered over the fields and the whole sky; each with a realistic identifier,
object types, references, astrometry and photometry for its kind.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import fields as fields_of
from functools import cached_property

import numpy as np
import pandas as pd
import pyarrow as pa
from astropy.coordinates import SkyCoord, get_constellation

from demo import sky
from demo.detections import Detections
from demo.fields import GALACTIC_FIELD_KINDS, Field
from demo.names import designation, later_holders
from demo.populations import GALACTIC_POPULATIONS, KINDS, Sources, choose
from ingest.schema import SIMBAD_OBJECTS

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

COUNTERPART_OFFSET_SIGMA_ARCSEC = 0.4
COUNTERPART_OFFSET_MAX_ARCSEC = 1.2
NEIGHBOUR_SHARE = 0.10  # sources with an unrelated object 1.5-6" away
NEIGHBOUR_ARCSEC = (1.5, 6.0)
SECOND_OBJECT_SHARE = 0.04  # counterparts with an unrelated object just beyond them
SPEED_OF_LIGHT_KM_S = 299_792.458
MAX_EXTRA_TYPES = 14  # other types listed besides an object's own (and an X)
TEXT_BLOCK = 262_144  # objects whose other_types are joined at once, to bound memory

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
    counterpart_of: np.ndarray  # the source an object is the counterpart of, else -1

    @property
    def is_counterpart(self) -> np.ndarray:
        return self.counterpart_of >= 0

    @cached_property
    def population(self) -> np.ndarray:
        return _per_key(POPULATION_OF_LABEL.__getitem__, self.label)


@dataclass(frozen=True)
class Simbad:
    columns: dict[str, np.ndarray | pa.Array]  # the SIMBAD object columns, a row per object
    counterpart_of: np.ndarray  # per object: the source it is the counterpart of, else -1
    row_order: np.ndarray  # the objects in the table's order, by ra


def simbad_objects(
    rng: np.random.Generator,
    fields: list[Field],
    sources: Sources,
    detections: Detections,
    field_objects_per_source: float,
    all_sky_objects: int,
) -> Simbad:
    """SIMBAD's objects around the detected sources, with every column SIMBAD gives."""
    objects = _positions(
        rng, fields, sources, detections, field_objects_per_source, all_sky_objects
    )
    population = objects.population
    n = objects.ra.size
    columns: dict[str, np.ndarray | pa.Array] = {
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

    return Simbad(columns, objects.counterpart_of, np.argsort(objects.ra, kind="stable"))


def _positions(
    rng, fields, sources: Sources, detections: Detections, field_objects_per_source, all_sky_objects
) -> SimbadObjects:
    """True counterparts, unrelated neighbours, and unrelated objects across the sky."""
    detected = np.unique(detections.source)
    ra, dec, field = sources.ra[detected], sources.dec[detected], sources.field[detected]
    n = detected.size
    field_kind = np.array([f.kind for f in fields])
    in_galaxy = np.isin(field_kind[field], GALACTIC_FIELD_KINDS)

    # True counterparts.
    kind = sources.kind[detected]
    known = np.flatnonzero(rng.random(n) < np.array([k.counterpart for k in KINDS])[kind])
    offset = counterpart_offsets_arcsec(rng, n)
    counterparts = SimbadObjects(
        *sky.around(rng, ra[known], dec[known], offset[known] / 3600),
        label=np.array([KINDS[k].label for k in kind[known]], dtype=object),
        field=field[known],
        counterpart_of=detected[known],
    )
    # Unrelated neighbours 1.5-6" away: within 3" they are what a nearest match picks
    # when the true counterpart is missing.
    near = np.flatnonzero(rng.random(n) < NEIGHBOUR_SHARE)
    distance = rng.uniform(*NEIGHBOUR_ARCSEC, near.size)
    neighbours = _unrelated(
        rng, *sky.around(rng, ra[near], dec[near], distance / 3600), in_galaxy[near], field[near]
    )
    # A second object just beyond a true counterpart: only the nearest is the match.
    second = known[rng.random(known.size) < SECOND_OBJECT_SHARE]
    distance = offset[second] + rng.uniform(0.3, 1.5, second.size)
    beyond = _unrelated(
        rng,
        *sky.around(rng, ra[second], dec[second], distance / 3600),
        in_galaxy[second],
        field[second],
    )
    # Unrelated objects across the fields and the whole sky.
    field_ra, field_dec, object_field = field_objects(rng, fields, field_objects_per_source)
    sky_ra, sky_dec = sky.uniform_positions(rng, all_sky_objects)
    scattered_ra, scattered_dec = np.r_[field_ra, sky_ra], np.r_[field_dec, sky_dec]
    _, b = sky.galactic(scattered_ra, scattered_dec)
    scattered = _unrelated(
        rng,
        scattered_ra,
        scattered_dec,
        np.abs(b) < 15,
        np.r_[object_field, np.full(all_sky_objects, -1)],
    )
    parts = (counterparts, neighbours, beyond, scattered)
    return SimbadObjects(
        *(
            np.concatenate([getattr(part, f.name) for part in parts])
            for f in fields_of(SimbadObjects)
        )
    )


def counterpart_offsets_arcsec(rng: np.random.Generator, n: int) -> np.ndarray:
    """How far n counterparts lie from their X-ray sources, arcsec: Chandra's and the
    catalogue's position errors combined, a Rayleigh distribution, truncated."""
    tail = 1 - np.exp(-0.5 * (COUNTERPART_OFFSET_MAX_ARCSEC / COUNTERPART_OFFSET_SIGMA_ARCSEC) ** 2)
    return COUNTERPART_OFFSET_SIGMA_ARCSEC * np.sqrt(-2 * np.log(1 - rng.random(n) * tail))


def field_objects(rng: np.random.Generator, fields: list[Field], per_source: float):
    """(ra, dec, field index) of objects scattered over the fields, about `per_source` for
    each source a field holds, a little wider than its sources."""
    n_in_field = rng.poisson(per_source * np.array([f.n_sources for f in fields]))
    field = np.repeat(np.arange(len(fields)), n_in_field)
    ra, dec = sky.scatter_around(
        rng,
        np.array([f.ra for f in fields])[field],
        np.array([f.dec for f in fields])[field],
        1.5 * np.array([f.source_spread_arcmin for f in fields])[field],
    )
    return ra, dec, field


def _unrelated(rng, ra, dec, in_galaxy, field) -> SimbadObjects:
    """Objects that are not the X-ray source: stars and infrared sources in the Milky Way,
    galaxies and radio sources beyond it."""
    label = np.where(
        in_galaxy,
        choose(rng, GALACTIC_INTERLOPERS, ra.size),
        choose(rng, EXTRAGALACTIC_INTERLOPERS, ra.size),
    )
    return SimbadObjects(ra, dec, label, field, np.full(ra.size, -1))


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
    field_name = np.array([f.name for f in fields], dtype=object)
    in_orion = (objects.field >= 0) & (field_name[objects.field] == "Orion Nebula Cluster")
    # Objects known in one waveband are named by that band's survey; others by population.
    naming = np.where(np.isin(objects.label, list(ID_SCHEMES)), objects.label, population)
    scheme = np.empty(n, dtype=object)
    for members, key in _groups(naming):
        scheme[members] = choose(rng, ID_SCHEMES[key], members.size)
    orion = np.flatnonzero(in_orion & (population == "yso"))
    scheme[orion] = choose(rng, ORION_YSO_SCHEMES, orion.size)

    # Gaia DR3 source ids: 19 digits, one reserved for every object so that any
    # identifier can fall back on it.
    gaia = rng.choice(8 * 10**18, n, replace=False) + 10**18
    ids = np.empty(n, dtype=object)
    for members, name in _groups(scheme):
        ra, dec = objects.ra[members], objects.dec[members]
        if name in COORDINATE_IDS:
            ids[members] = designation(
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
        else:
            ids[members] = _gaia_ids(gaia[members])
    # A repeated identifier keeps its first holder; the others are known by their Gaia id.
    repeated = later_holders(ids)
    ids[repeated] = _gaia_ids(gaia[repeated])
    return ids


def _gaia_ids(numbers):
    return [f"Gaia DR3 {number}" for number in numbers]


def _other_types(rng, objects: SimbadObjects) -> pa.Array:
    """'|'-separated short codes, one per identifier, padded to three characters as SIMBAD
    writes them ('X  |QSO|*  |QSO')."""
    population = objects.population
    n_extra = np.minimum(rng.geometric(0.25, population.size) - 1, MAX_EXTRA_TYPES)
    # Most X-ray counterparts carry an X-ray identifier too, somewhere in the list.
    x_ray_at = np.where(
        objects.is_counterpart & (rng.random(population.size) < 0.85),
        rng.random(population.size),
        np.nan,
    )
    # Each object's own code, then codes drawn from its population's pool, padded as
    # SIMBAD writes them: the first n_extra are listed.
    codes = np.empty((population.size, 2 + MAX_EXTRA_TYPES), dtype="S3")
    codes[:, 0] = _per_key(lambda label: SIMBAD_LONG_LABELS[label].ljust(3), objects.label)
    for name, pool in OTHER_TYPE_POOLS.items():
        members = np.flatnonzero(population == name)
        draws = rng.integers(0, len(pool), (members.size, 1 + MAX_EXTRA_TYPES))
        codes[members, 1:] = np.array([code.ljust(3) for code in pool], dtype="S3")[draws]
    n_codes = 1 + n_extra
    # The X goes before the code at this place (at n_codes: after them all).
    x_place = np.where(np.isnan(x_ray_at), codes.shape[1], x_ray_at * (n_codes + 1))
    x_place = x_place.astype(np.int64)
    texts = np.empty(population.size, dtype=f"S{4 * codes.shape[1]}")
    for start in range(0, population.size, TEXT_BLOCK):
        block = slice(start, start + TEXT_BLOCK)
        texts[block] = _listed(codes[block], n_codes[block], x_place[block])
    return pa.array(texts).cast(pa.string())


def _listed(codes: np.ndarray, n_codes: np.ndarray, x_place: np.ndarray) -> np.ndarray:
    """Each row's first n_codes codes (padded to three characters), with an X inserted at
    x_place (none where x_place is past the end), joined with '|'."""
    slot = np.arange(codes.shape[1])
    before_x = slot < x_place[:, None]
    cells = np.take_along_axis(codes, np.where(before_x, slot, slot - 1), axis=1)
    cells = np.where(slot == x_place[:, None], b"X  ", cells)
    listed = slot < (n_codes + (x_place < slot.size))[:, None]
    # Each listed code and a '|' as four bytes, the unlisted ones as NULs: a row of them
    # read as one string is the codes joined; then the last '|' and padding go.
    text = np.zeros((*cells.shape, 4), dtype=np.uint8)
    text[..., :3] = cells.view(np.uint8).reshape(*cells.shape, 3)
    text[..., 3] = ord("|")
    text[~listed] = 0
    joined = text.reshape(len(text), -1).view(f"S{4 * slot.size}")[:, 0]
    return np.strings.rstrip(joined, b" |")


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
    log_mean, log_sd = _per_key(LOG_DISTANCE.__getitem__, population).T
    distance = 10 ** rng.normal(log_mean, log_sd)
    field = objects.field[members]
    cluster_distance = np.where(field >= 0, np.array([f.distance_pc for f in fields])[field], 0.0)
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
    # One of its population's spectral types, for a population that has them.
    typed = np.flatnonzero(np.isin(population, list(SPECTRAL_TYPES)))
    n_types = {p: len(types) for p, types in SPECTRAL_TYPES.items()}
    first_type = dict(zip(n_types, np.cumsum([0, *n_types.values()])[:-1], strict=True))
    all_types = np.array([t for types in SPECTRAL_TYPES.values() for t in types], dtype=object)
    spectral = np.full(n, None, dtype=object)
    spectral[typed] = all_types[
        _per_key(first_type.__getitem__, population[typed])
        + rng.integers(_per_key(n_types.__getitem__, population[typed]))
    ]
    _set(columns, "sp_type", members, np.where(rng.random(n) < 0.6, spectral, None))

    absolute_mean, absolute_sd = _per_key(ABSOLUTE_V.__getitem__, population).T
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
    log_mean, log_sd = _per_key(lambda x: LOG_REDSHIFT.get(x, (-1.3, 0.4)), label).T
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
    _, b = sky.galactic(objects.ra[members], objects.dec[members])
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


def _groups(keys: np.ndarray):
    """(indices, key) of each distinct key, in the order keys first appear."""
    index, distinct = pd.factorize(keys)
    for i, key in enumerate(distinct):
        yield np.flatnonzero(index == i), key


def _per_key(function, keys: np.ndarray) -> np.ndarray:
    """function(key) for every key, called once per distinct key."""
    index, distinct = pd.factorize(keys)
    return np.array([function(key) for key in distinct])[index]
