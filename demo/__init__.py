"""Deterministic synthetic demo data: CSC detections, a local SIMBAD catalogue, and the truth.

`make build` without inputs loads the first two. At the default size they imitate what the
warehouse was designed on: 23,025 Chandra Source Catalog 2.0 detections with the ~150 net
counts the CSC needs before it fits spectra (so `powlaw_gamma` and `bb_kt` always exist),
and the SIMBAD objects around them. `DemoSize.scaled(n)` makes a sky of n detections, up
to the whole catalogue (CSC 2.1: 1,304,376), with fields, pointings and sources in
proportion.

How the sky is made, in order (a module each):
  fields       star-forming regions, deep extragalactic surveys, the Galactic centre, and
               a few hundred random targeted fields on and off the Galactic plane;
               Chandra observations of each field (deep fields get dozens);
  populations  astrophysical kinds (quasars, T Tauri stars, X-ray binaries, ...) placed
               around the field centres, with count rates from a steep logN-logS and an
               absorbed power-law or thermal spectrum (seen through `response`);
  detections   every source-pointing pair with at least 150 counts on a chip; band
               counts, hardness ratios, spectral fits and light-curve statistics follow
               from the counts; a random subset of exactly the size's detections is kept;
  simbad       a counterpart for about three quarters of the sources (0.2-1.2" away),
               unrelated neighbours 1.5-6" away, and unrelated objects across the fields;
  generate     the tables, and the truth: what every detected source really is.
`sky` holds the spherical geometry and random placements, `names` the designations.

Everything is drawn from one seed with vectorised numpy, so the files are identical
run to run.
"""

from demo.generate import (
    DEMO_SEED,
    N_DETECTIONS,
    TRUTH_SCHEMA,
    DemoFiles,
    DemoSize,
    DemoTables,
    generate_demo,
    write_demo,
)
from demo.simbad import SIMBAD_LONG_LABELS

__all__ = [
    "DEMO_SEED",
    "N_DETECTIONS",
    "SIMBAD_LONG_LABELS",
    "TRUTH_SCHEMA",
    "DemoFiles",
    "DemoSize",
    "DemoTables",
    "generate_demo",
    "write_demo",
]
