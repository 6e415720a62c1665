"""Opening the built warehouse for the report commands."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import duckdb

from ingest.config import warehouse_path


def add_warehouse_arguments(parser: argparse.ArgumentParser) -> None:
    """--run and --db, which every report command takes."""
    parser.add_argument(
        "--run",
        default=None,
        help="run_id (see gmm_runs); default: the warehouse's default run, the dbt var "
        "default_gmm_run it was built with (build_parameters)",
    )
    parser.add_argument("--db", type=Path, default=None, help="warehouse file")


def open_warehouse(database: Path | None) -> duckdb.DuckDBPyConnection:
    """The warehouse (default: $XRAY_WAREHOUSE), read-only; exit 2 if it is not built."""
    database = database or warehouse_path()
    if not database.exists():
        print(f"{database} does not exist: run `make build` first", file=sys.stderr)
        raise SystemExit(2)
    return duckdb.connect(str(database), read_only=True)
