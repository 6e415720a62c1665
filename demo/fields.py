"""Fields and their observations: where Chandra looked, how often and for how long.

The default sky is the named fields (star-forming regions, deep extragalactic surveys,
the Galactic Centre) and a few hundred random targeted fields on and off the Galactic
plane. A sky `scale` times larger has `scale` times as many fields of each kind, so that
every field, and every source in it, is observed as often as in the default sky: the
extra star-forming regions, deep surveys and bulge fields are analogues of the named ones
(a template's depth, size and number of observations at a new place), and a smaller sky
keeps a random subset of the named fields. Counts are rounded at random, up or down in
proportion to the fraction, so that a sky's expected size is in proportion to `scale`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from demo import sky

STAR_FORMING, DEEP, EXTRAGALACTIC, GALACTIC_PLANE, GALACTIC_CENTRE = (
    "star_forming",
    "deep",
    "extragalactic",
    "galactic_plane",
    "galactic_centre",
)
GALACTIC_FIELD_KINDS = (STAR_FORMING, GALACTIC_PLANE, GALACTIC_CENTRE)

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
# How many random targeted fields of each kind the default sky has.
N_EXTRAGALACTIC_FIELDS = 230
N_GALACTIC_PLANE_FIELDS = 110
N_BULGE_FIELDS = 15
# Extra extragalactic fields where coordinate code breaks: across RA 0/360 and near the
# poles. Every sky has them, whatever its size.
EDGE_FIELD_CENTRES = ((359.95, 20.5), (0.06, -35.2), (12.0, 87.4), (300.0, -85.6))
# Deep surveys avoid the plane further than targeted observations do.
DEEP_FIELD_MIN_ABS_B = 30.0
# Star-forming regions near the Sun lie well off the plane (Orion, Taurus, rho Oph).
STAR_FORMING_SIGMA_B_DEG = 8.0

GTI_FIRST, GTI_LAST = 6.6e7, 5.2e8  # Chandra seconds since 1998.0: 2000 .. 2014
# The ObsIDs the default sky's pointings are drawn from; a larger sky draws from a range
# `scale` times longer.
FIRST_OBSID, DEFAULT_OBSID_STOP = 300, 23_000


@dataclass(frozen=True)
class Pointings:
    obsid: np.ndarray
    field: np.ndarray  # index into the field list
    ra: np.ndarray
    dec: np.ndarray
    gti_start: np.ndarray
    gti_stop: np.ndarray


def fields_and_pointings(
    rng: np.random.Generator, scale_rng: np.random.Generator, scale: float
) -> tuple[list[Field], Pointings]:
    """The sky's fields and every observation of them.

    `rng` draws what the default sky draws, in the same order, so that at scale 1 it is
    the same sky; `scale_rng` draws only what a sky of another size needs besides.
    """
    fields = [
        *_named_fields_and_analogues(scale_rng, scale),
        *_random_fields(rng, scale_rng, scale),
    ]
    field_index = np.repeat(np.arange(len(fields)), [f.n_observations for f in fields])
    centre_ra = np.array([f.ra for f in fields])[field_index]
    centre_dec = np.array([f.dec for f in fields])[field_index]
    spread = np.array([f.pointing_spread_arcmin for f in fields])[field_index]
    ra, dec = sky.scatter_around(rng, centre_ra, centre_dec, spread)

    typical_exposure = np.array([f.exposure_ks for f in fields])[field_index] * 1e3
    elapse = np.maximum(typical_exposure * 10 ** rng.normal(0, 0.2, len(ra)), 1.5e3)
    # Observations longer than ~50 h are split into several.
    elapse = np.where(elapse > 1.85e5, rng.uniform(1.2e5, 1.85e5, len(ra)), elapse)
    start = np.round(rng.uniform(GTI_FIRST, GTI_LAST, len(ra)), 5)
    # ObsIDs grow with time, as Chandra assigns them (roughly, by proposal cycle).
    obsid_stop = FIRST_OBSID + round((DEFAULT_OBSID_STOP - FIRST_OBSID) * max(scale, 1.0))
    obsid = np.empty(len(ra), dtype=np.int64)
    obsid[np.argsort(start, kind="stable")] = np.sort(
        rng.choice(np.arange(FIRST_OBSID, obsid_stop), len(ra), replace=False)
    )
    stop = np.round(start + elapse, 5)
    return fields, Pointings(obsid, field_index, ra, dec, start, stop)


def _named_fields_and_analogues(rng: np.random.Generator, scale: float) -> list[Field]:
    """The named fields a sky of this scale keeps (all of them from scale 1), then the
    analogues it needs beyond them."""
    keep = np.zeros(len(NAMED_FIELDS), dtype=bool)
    analogues = []
    for kind, place in ((STAR_FORMING, _star_forming), (DEEP, _deep), (GALACTIC_CENTRE, _bulge)):
        named = np.flatnonzero([f.kind == kind for f in NAMED_FIELDS])
        n = _scaled_count(rng, named.size, scale)
        keep[rng.choice(named, min(n, named.size), replace=False)] = True
        templates = [NAMED_FIELDS[i] for i in rng.choice(named, max(n - named.size, 0))]
        ra, dec = place(rng, len(templates))
        analogues += [
            dataclasses.replace(
                template,
                name=f"{template.name} analogue {i + 1}",
                ra=float(ra[i]),
                dec=float(dec[i]),
                n_sources=int(rng.poisson(template.n_sources)),
            )
            for i, template in enumerate(templates)
        ]
    return [f for f, kept in zip(NAMED_FIELDS, keep, strict=True) if kept] + analogues


def _star_forming(rng, n):
    return sky.along_the_plane(rng, n, sigma_l_deg=60, sigma_b_deg=STAR_FORMING_SIGMA_B_DEG)


def _deep(rng, n):
    return sky.off_the_plane(rng, n, DEEP_FIELD_MIN_ABS_B)


def _bulge(rng, n):
    return sky.in_the_bulge(rng, n)


def _scaled_count(rng: np.random.Generator, count: int, scale: float) -> int:
    """count * scale, rounded up with a probability equal to its fraction."""
    whole, fraction = divmod(count * scale, 1.0)
    return int(whole) + int(rng.random() < fraction)


def _random_fields(rng: np.random.Generator, scale_rng: np.random.Generator, scale: float):
    """Targeted observations: extragalactic ones off the plane, Galactic ones on it."""
    n_extragalactic, n_plane, n_bulge = (
        _scaled_count(scale_rng, count, scale)
        for count in (N_EXTRAGALACTIC_FIELDS, N_GALACTIC_PLANE_FIELDS, N_BULGE_FIELDS)
    )
    # Extragalactic targets avoid the Galactic plane (|b| > 15 deg).
    extragalactic = np.column_stack(sky.off_the_plane(rng, n_extragalactic, 15))
    extragalactic = np.vstack([extragalactic, EDGE_FIELD_CENTRES])
    # The Galactic plane, crowded towards the inner Galaxy.
    plane = np.column_stack(sky.along_the_plane(rng, n_plane, sigma_l_deg=60, sigma_b_deg=1.5))
    bulge = np.column_stack(sky.in_the_bulge(rng, n_bulge))

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
