"""Designations made from positions, as the CSC and the surveys SIMBAD quotes write them."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pyarrow as pa

SUFFIXES = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def designation(prefix, ra, dec, ra_format, dec_format) -> np.ndarray:
    """'PREFIX Jhhmmss.s+ddmmss'-style names (the prefix ends with 'J' where the catalogue
    writes one); formats are (base-60 subdivisions, decimals, decimal point)."""
    ra, dec = np.asarray(ra), np.asarray(dec)
    text = np.hstack(
        [
            np.tile(np.frombuffer(prefix.encode("ascii"), np.uint8), (ra.size, 1)),
            _sexagesimal(ra / 15.0, *ra_format),
            np.where(dec < 0, ord("-"), ord("+")).astype(np.uint8)[:, None],
            _sexagesimal(np.abs(dec), *dec_format),
        ]
    )
    # Each row of ASCII bytes read as one string.
    return text.view(f"S{text.shape[1]}")[:, 0].astype(str)


def _sexagesimal(value, subdivisions, decimals, dot=True, width=2) -> np.ndarray:
    """Truncated (never rounded) sexagesimal digits, a row of ASCII bytes per value: value
    in hours or degrees, split into `subdivisions` base-60 parts, with `decimals` digits
    of the last."""
    scale = 10**decimals
    total = np.floor(value * 60**subdivisions * scale).astype(np.int64)
    whole, fraction = np.divmod(total, scale)
    parts = []
    for _ in range(subdivisions):
        whole, part = np.divmod(whole, 60)
        parts.insert(0, _digits(part, 2))
    rows = [_digits(whole, width), *parts]
    if decimals:
        if dot:
            rows.append(np.full((total.size, 1), ord("."), dtype=np.uint8))
        rows.append(_digits(fraction, decimals))
    return np.hstack(rows)


def _digits(number: np.ndarray, width: int) -> np.ndarray:
    """Non-negative integers as `width` zero-padded ASCII digits, a row each."""
    if (number >= 10**width).any():
        raise ValueError(f"a number has more than {width} digits")
    powers = 10 ** np.arange(width - 1, -1, -1)
    return (number[:, None] // powers % 10 + ord("0")).astype(np.uint8)


def later_holders(values: np.ndarray) -> np.ndarray:
    """Where a value is held again: True for every holder of a value but its first."""
    index = pa.array(values).dictionary_encode().indices.to_numpy()
    later = np.ones(index.size, dtype=bool)
    later[np.unique(index, return_index=True)[1]] = False
    return later


def with_suffixes(names: np.ndarray) -> np.ndarray:
    """Names made unique: the first holder of a repeated name keeps it, the later ones
    get a suffix letter, A, B, C, ..."""
    suffixed = names.copy()
    holders = Counter()
    for member in np.flatnonzero(later_holders(names)):
        suffixed[member] = f"{names[member]}{SUFFIXES[holders[names[member]]]}"
        holders[names[member]] += 1
    return suffixed
