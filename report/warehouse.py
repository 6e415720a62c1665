"""Opening the built warehouse for the report commands."""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb

from ingest.config import warehouse_path


def open_warehouse(database: Path | None) -> duckdb.DuckDBPyConnection:
    """The warehouse (default: $XRAY_WAREHOUSE), read-only; exit 2 if it is not built."""
    database = database or warehouse_path()
    if not database.exists():
        print(f"{database} does not exist: run `make build` first", file=sys.stderr)
        raise SystemExit(2)
    return duckdb.connect(str(database), read_only=True)
