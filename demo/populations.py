"""Astrophysical kinds of X-ray source, and the sources of a sky drawn from them.

Each kind (quasars, T Tauri stars, X-ray binaries, ...) has its SIMBAD label, an absorbed
power-law or thermal spectrum, and how much it varies. Sources are placed around their
field's centre, with count rates from a steep logN-logS and the spectrum of their kind
seen through the Galactic foreground and Chandra's response.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from demo import sky
from demo.fields import (
    FIELD_POPULATIONS,
    GALACTIC_CENTRE,
    GALACTIC_PLANE,
    TARGET_POPULATIONS,
    Field,
    Pointings,
)
from demo.response import (
    ABSORPTION_CROSS_SECTION,
    ENERGY,
    ENERGY_WIDTH,
    KEV_IN_ERG,
    MIN_COUNTS,
    band_counts,
)

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
# Sources whose spectra are folded through the response at once: bounds the memory of the
# (sources, energies) arrays in a large sky.
SPECTRA_BLOCK = 65_536


@dataclass(frozen=True)
class Sources:
    field: np.ndarray
    kind: np.ndarray  # index into KINDS
    is_target: np.ndarray  # the bright target at its field's aim point
    ra: np.ndarray
    dec: np.ndarray
    count_rate: np.ndarray  # 0.5-7 keV counts/s on axis
    band_share: np.ndarray  # (n, 3): expected share of counts in soft, medium, hard
    erg_per_count: np.ndarray  # energy flux of one count per second, erg/cm^2
    intrinsic_gamma: np.ndarray  # photon index a fit with free absorption recovers


def draw_sources(rng: np.random.Generator, fields: list[Field], pointings: Pointings) -> Sources:
    """Every field's sources: kinds from the field's mix, positions, count rates, spectra."""
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
        population[members] = choose(rng, mix, members.size)
    for kind_name, mix in TARGET_POPULATIONS.items():
        targets = np.flatnonzero(is_target & (field_kind == kind_name))
        population[targets] = choose(rng, mix, targets.size)
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
    ra, dec = sky.scatter_around(rng, centre_ra, centre_dec, spread, max_arcmin=24.0)

    # Steep logN-logS above a floor a little below what the field's deepest exposure detects.
    deepest = np.zeros(len(fields))
    np.maximum.at(deepest, pointings.field, pointings.gti_stop - pointings.gti_start)
    floor = 0.6 * MIN_COUNTS / deepest[field]
    count_rate = floor * rng.pareto(0.9, n) + floor
    count_rate = np.where(is_target, floor * 10 ** rng.uniform(1, 2.5, n), count_rate)
    count_rate = np.minimum(count_rate, 3.0)  # brighter sources pile up and leave the CSC

    spectra = _spectra(rng, kind, field, fields)
    return Sources(field, kind, is_target, ra, dec, count_rate, *spectra)


def choose(rng: np.random.Generator, weights: dict[str, float], size: int) -> np.ndarray:
    """`size` names drawn with the given weights."""
    names = list(weights)
    p = np.array([weights[name] for name in names])
    return np.array(names, dtype=object)[rng.choice(len(names), size, p=p / p.sum())]


def population_of(kind: np.ndarray) -> np.ndarray:
    """The population of each kind index."""
    return np.array([k.population for k in KINDS])[kind]


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
    population = population_of(kind)
    extragalactic = ~np.isin(population, GALACTIC_POPULATIONS)
    in_plane = np.isin(np.array([f.kind for f in fields])[field], [GALACTIC_PLANE, GALACTIC_CENTRE])
    typical_depth = np.array([FOREGROUND_DEPTH.get(p, 1.0) for p in population])
    depth = np.minimum(rng.uniform(0, 2 * typical_depth), 1.0)
    foreground_nh = np.select([extragalactic, in_plane], [field_nh, depth * field_nh], 0.0)

    kt = 10.0**shape
    power_law = model == POWER_LAW
    band_share = np.empty((kind.size, 3))
    erg_per_count = np.empty(kind.size)
    for start in range(0, kind.size, SPECTRA_BLOCK):
        block = slice(start, start + SPECTRA_BLOCK)
        band_share[block], erg_per_count[block] = _folded(
            power_law[block], shape[block], kt[block], nh[block], foreground_nh[block]
        )
    # The local slope of a thermal spectrum near 1.5 keV is what a power law fits.
    intrinsic_gamma = np.where(power_law, shape, 1 + 1.5 / kt)
    return band_share, erg_per_count, intrinsic_gamma


def _folded(power_law, shape, kt, nh, foreground_nh):
    """Share of counts in each band and erg/cm^2 per count of absorbed spectra."""
    emitted = np.empty((power_law.size, ENERGY.size))
    emitted[power_law] = np.exp(-shape[power_law, None] * np.log(ENERGY))
    # Optically thin thermal continuum.
    emitted[~power_law] = np.exp(-ENERGY / kt[~power_law, None]) / ENERGY
    intrinsic = np.exp(-nh[:, None] * ABSORPTION_CROSS_SECTION)
    foreground = np.exp(-foreground_nh[:, None] * ABSORPTION_CROSS_SECTION)
    photons = emitted * foreground * (UNABSORBED_SHARE + (1 - UNABSORBED_SHARE) * intrinsic)
    counts = band_counts(photons)
    total_counts = counts.sum(axis=1)
    energy_flux = (photons * ENERGY * ENERGY_WIDTH).sum(axis=1) * KEV_IN_ERG
    return counts / total_counts[:, None], energy_flux / total_counts
