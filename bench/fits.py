"""The fits a built warehouse records (intermediate.int_gmm_fits), for the benchmarks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb


def recorded_fits(warehouse: Path) -> list[dict[str, Any]]:
    """Every fit made: kind, name, rows, iterations, seconds and worker; runs first, then
    refits and the scan, slowest first within each."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        fits = con.sql(
            "select fit_kind as kind, fit_id, n_detections, n_iter, fit_seconds, fit_worker"
            " from intermediate.int_gmm_fits where skipped_reason is null"
            " order by fit_kind <> 'run', fit_kind, fit_seconds desc"
        )
        return [dict(zip(fits.columns, row, strict=True)) for row in fits.fetchall()]
