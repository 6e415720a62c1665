"""Designations made from positions, as the CSC and the surveys SIMBAD quotes write them."""

from __future__ import annotations

import numpy as np
import pandas as pd

SUFFIXES = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def sexagesimal(value, subdivisions, decimals, dot=True, width=2):
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


def designation(prefix, ra, dec, ra_format, dec_format):
    """'PREFIX Jhhmmss.s+ddmmss'-style names (the prefix ends with 'J' where the catalogue
    writes one); formats are (base-60 subdivisions, decimals, decimal point)."""
    ra_text = sexagesimal(ra / 15.0, *ra_format)
    dec_text = sexagesimal(np.abs(dec), *dec_format)
    signs = np.where(dec < 0, "-", "+")
    return [f"{prefix}{r}{s}{d}" for r, s, d in zip(ra_text, signs, dec_text, strict=True)]


def holder_rank(values: np.ndarray) -> np.ndarray:
    """For each value, how many earlier elements hold the same one (0 for its first holder)."""
    return pd.Series(values).groupby(values, sort=False).cumcount().to_numpy()


def with_suffixes(names: np.ndarray) -> np.ndarray:
    """Names made unique: the first holder of a repeated name keeps it, the later ones
    get a suffix letter, A, B, C, ..."""
    rank = holder_rank(names)
    names = names.copy()
    for member in np.flatnonzero(rank > 0):
        names[member] = f"{names[member]}{SUFFIXES[rank[member] - 1]}"
    return names
