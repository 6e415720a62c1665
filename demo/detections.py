"""Detections: what the CSC pipeline measures of each source in each observation.

Every source-pointing pair with at least MIN_COUNTS counts on a chip is a detection;
band counts, hardness ratios, spectral fits and light-curve statistics follow from the
counts, and the master-source name and significance from the source's detections.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from demo.fields import Pointings
from demo.names import designation, with_suffixes
from demo.populations import KINDS, Sources
from demo.response import MIN_COUNTS, apparent_gamma_table, hardness_ratios
from demo.sky import separation_deg
from ingest.schema import BANDS

MAX_THETA_ARCMIN = 25.0
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
class Candidates:
    """Every source-pointing pair bright enough and on a chip: what could be detected."""

    source: np.ndarray
    pointing: np.ndarray
    theta: np.ndarray  # off-axis angle, arcmin
    exposure: np.ndarray  # s
    counts: np.ndarray  # 0.5-7 keV source counts


@dataclass(frozen=True)
class Detections:
    source: np.ndarray  # index into the sources, per row of the columns
    columns: dict[str, np.ndarray]  # the CSC detection columns, rows sorted by name and obsid


def candidates(rng: np.random.Generator, sources: Sources, pointings: Pointings) -> Candidates:
    """Every source with every observation of its field, kept if it gave enough counts
    and fell on a chip."""
    # Pointings come grouped by field, so a field's observations are one run of indices.
    n_observations = np.bincount(pointings.field, minlength=sources.field.max() + 1)
    first_observation = np.cumsum(n_observations) - n_observations
    n_per_source = n_observations[sources.field]
    source = np.repeat(np.arange(sources.field.size), n_per_source)
    first_pair = np.cumsum(n_per_source) - n_per_source
    pointing = first_observation[sources.field][source] + np.arange(source.size)
    pointing -= first_pair[source]
    theta = 60 * separation_deg(
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
    return Candidates(
        source[detected], pointing[detected], theta[detected], exposure[detected], counts[detected]
    )


def detections(
    rng: np.random.Generator,
    pool: Candidates,
    sources: Sources,
    pointings: Pointings,
    n_detections: int,
) -> Detections:
    """A random subset of exactly n_detections of the candidates, with everything the CSC
    measures of them; `rng` must be the one that drew the candidates."""
    keep = np.sort(rng.choice(pool.source.size, n_detections, replace=False))
    source, pointing, theta, exposure, counts = (
        x[keep] for x in (pool.source, pool.pointing, pool.theta, pool.exposure, pool.counts)
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
    hard_hm, hard_hs, hard_ms = hardness_ratios(np.column_stack([soft, medium, hard]))
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
    return Detections(source[order], {name: np.asarray(v)[order] for name, v in columns.items()})


def _spectral_fits(rng, hard_hs, intrinsic_gamma, counts):
    """powlaw_gamma and bb_kt, with their confidence limits, as CSC fits would give.

    Absorption and slope are degenerate at a few hundred counts, so the fitted photon index
    lies between the intrinsic one and the apparent one the hardness ratio implies. A black
    body fits the slope near 2 keV (2 - E/kT), leaving more of the absorption to it. About
    1% of fits go astray, as in the CSC.
    """
    hs_table, gamma_table = apparent_gamma_table()
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


def _source_names(ra, dec):
    """CSC master-source names; a repeated name gets a suffix letter."""
    names = np.array(designation("2CXO J", ra, dec, (2, 1, True), (2, 0, True)), dtype=object)
    return with_suffixes(names)
