"""Opening the built warehouse for the report commands."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import duckdb

from ingest.config import warehouse_path
from warehouse.holders import holders


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
    """The warehouse (default: $XRAY_WAREHOUSE), read-only; exit 2 with one line if it is
    not built, or another process holds it read-write (DuckDB then keeps readers out)."""
    database = database or warehouse_path()
    if not database.exists():
        print(f"{database} does not exist: run `make build` first", file=sys.stderr)
        raise SystemExit(2)
    try:
        return duckdb.connect(str(database), read_only=True)
    except duckdb.IOException as error:
        writers = [holder for holder in holders(database) if holder.writes]
        who = "; ".join(map(str, writers)) or f"another process ({error})"
        print(
            f"{database} is open read-write by {who}: close that connection (or open the"
            " shell read-only, `make shell`) and run this again",
            file=sys.stderr,
        )
        raise SystemExit(2) from None
