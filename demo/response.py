"""What Chandra makes of a spectrum: ACIS-I's response in the three CSC bands used for
hardness ratios, the absorption in front of a source, and the catalogue's count limit."""

from __future__ import annotations

import numpy as np

MIN_COUNTS = 150  # the CSC fits spectra only above ~150 net counts

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
GALACTIC_FOREGROUND_NH = 3e20


def band_counts(photons: np.ndarray) -> np.ndarray:
    """(n, 3) expected soft, medium and hard counts of (n, energy) photon spectra."""
    counts = photons * EFFECTIVE_AREA * ENERGY_WIDTH
    return counts @ IN_BAND


def hardness_ratios(band_counts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """hard_hm, hard_hs, hard_ms from soft/medium/hard counts (half a count added to each,
    as a Bayesian estimate would, so that an empty band does not give exactly +-1)."""
    soft, medium, hard = ((band_counts + 0.5) * HARDNESS_BAND_WEIGHT).T
    return (
        (hard - medium) / (hard + medium),
        (hard - soft) / (hard + soft),
        (medium - soft) / (medium + soft),
    )


def apparent_gamma_table() -> tuple[np.ndarray, np.ndarray]:
    """hard_hs of a power law behind the Galactic foreground, by photon index (ascending hs)."""
    gamma = np.linspace(11.0, -3.0, 281)
    photons = ENERGY ** -gamma[:, None] * np.exp(-GALACTIC_FOREGROUND_NH * ABSORPTION_CROSS_SECTION)
    soft, _, hard = (band_counts(photons) * HARDNESS_BAND_WEIGHT).T
    return (hard - soft) / (hard + soft), gamma
