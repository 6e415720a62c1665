"""Positions on the sky: spherical geometry and the random placements the demo is built from.

Right ascension is kept in [0, 360) and declination in [-90, 90] everywhere, so that
positions across RA 0/360 and near the poles, where coordinate code tends to break, come
out as valid as any other. The crossmatch benchmark and tests build their skies from these
functions too.
"""

from __future__ import annotations

import numpy as np
from astropy.coordinates import SkyCoord


def separation_deg(ra1, dec1, ra2, dec2):
    """Angular distance (Vincenty's formula, stable at all separations), degrees."""
    ra1, dec1, ra2, dec2 = (np.radians(x) for x in (ra1, dec1, ra2, dec2))
    d_ra = ra2 - ra1
    numerator = np.hypot(
        np.cos(dec2) * np.sin(d_ra),
        np.cos(dec1) * np.sin(dec2) - np.sin(dec1) * np.cos(dec2) * np.cos(d_ra),
    )
    denominator = np.sin(dec1) * np.sin(dec2) + np.cos(dec1) * np.cos(dec2) * np.cos(d_ra)
    return np.degrees(np.arctan2(numerator, denominator))


def offset(ra, dec, separation_deg, position_angle_rad):
    """The point `separation_deg` away from (ra, dec) towards the position angle (E of N)."""
    dec_r, sep = np.radians(dec), np.radians(separation_deg)
    new_dec = np.arcsin(
        np.sin(dec_r) * np.cos(sep) + np.cos(dec_r) * np.sin(sep) * np.cos(position_angle_rad)
    )
    d_ra = np.arctan2(
        np.sin(position_angle_rad) * np.sin(sep) * np.cos(dec_r),
        np.cos(sep) - np.sin(dec_r) * np.sin(new_dec),
    )
    return wrap_ra(ra + np.degrees(d_ra)), np.degrees(new_dec)


def wrap_ra(ra):
    ra = np.mod(ra, 360.0)
    # np.mod of a tiny negative number rounds to exactly 360.
    return np.where(ra >= 360.0, ra - 360.0, ra)


def around(rng: np.random.Generator, ra, dec, separation_deg):
    """Points at the given separations from (ra, dec), in uniformly random directions."""
    return offset(ra, dec, separation_deg, rng.uniform(0, 2 * np.pi, np.shape(separation_deg)))


def scatter_around(rng, ra, dec, scale_arcmin, max_arcmin=90.0):
    """Positions scattered around (ra, dec) with Rayleigh-distributed distances; a distance
    beyond max_arcmin is drawn again, uniformly below it."""
    radius = rng.rayleigh(scale_arcmin)
    radius = np.where(radius > max_arcmin, rng.uniform(0, max_arcmin, np.shape(radius)), radius)
    return around(rng, ra, dec, radius / 60.0)


def uniform_positions(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Positions uniform over the whole sphere (equal areas, not equal declinations)."""
    ra = rng.uniform(0, 360, n)
    dec = np.degrees(np.arcsin(rng.uniform(-1, 1, n)))
    return ra, dec


def galactic(ra, dec):
    """Galactic (l, b) of ICRS positions, degrees."""
    coords = SkyCoord(ra=ra, dec=dec, unit="deg", frame="icrs").galactic
    return coords.l.deg, coords.b.deg


def icrs(l_deg, b_deg):
    """ICRS (ra, dec) of Galactic positions, degrees."""
    coords = SkyCoord(l=l_deg, b=b_deg, unit="deg", frame="galactic").icrs
    return coords.ra.deg, coords.dec.deg


def off_the_plane(rng: np.random.Generator, n: int, min_abs_b: float):
    """n positions uniform over the sky at |b| > min_abs_b (drawn four times over, the
    first n that qualify kept: at |b| > 15 deg three in four do)."""
    ra, dec = uniform_positions(rng, 4 * n)
    _, b = galactic(ra, dec)
    keep = np.abs(b) > min_abs_b
    return ra[keep][:n], dec[keep][:n]


def along_the_plane(rng: np.random.Generator, n: int, sigma_l_deg: float, sigma_b_deg: float):
    """n positions crowded towards the Galactic plane and the inner Galaxy: l and b normal
    around (0, 0) with the given spreads, as ICRS (ra, dec)."""
    longitude = np.mod(rng.normal(0, sigma_l_deg, n), 360)
    return icrs(longitude, rng.normal(0, sigma_b_deg, n))


def in_the_bulge(rng: np.random.Generator, n: int):
    """n positions uniform in the Galactic bulge, |l| < 10 deg and |b| < 4 deg, as ICRS."""
    return icrs(np.mod(rng.uniform(-10, 10, n), 360), rng.uniform(-4, 4, n))
