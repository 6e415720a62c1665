"""Loading a complete set of input files into the warehouse's `raw` schema.

One load replaces all three raw tables in one DuckDB transaction (a table whose
input is absent becomes empty, so no rows of an earlier dataset survive) and
appends one row per file and table to raw.load_log. Every file is read and checked
before the transaction starts; a failure leaves the raw tables and log as they were.

Also the `files` subcommand of `python -m ingest`.
"""

from __future__ import annotations

import argparse
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from ingest.config import match_radius_arcsec, warehouse_path
from ingest.errors import IngestError
from ingest.files import FILE_FORMATS, InputFile, InputSet, TableLoad, read_input_set
from ingest.schema import LOAD_LOG, RAW_SCHEMA, RAW_TABLES, RawTable

INPUT_ROLES = ("detections", "simbad", "crossmatch")

_DUCKDB_TYPES = {
    pa.string(): "VARCHAR",
    pa.int32(): "INTEGER",
    pa.int64(): "BIGINT",
    pa.float64(): "DOUBLE",
    pa.list_(pa.string()): "VARCHAR[]",
    pa.timestamp("us", tz="UTC"): "TIMESTAMPTZ",
}


@dataclass(frozen=True)
class LoadReport:
    """What one load wrote: its id in raw.load_log and the rows of each raw table."""

    load_id: int
    warehouse: Path
    loads: dict[str, TableLoad]


def ensure_raw_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create the raw schema and its tables, empty and in the contract's schemas, if absent."""
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {RAW_SCHEMA}")
    for raw_table in (*RAW_TABLES, LOAD_LOG):
        con.execute(_create_table_sql(raw_table, "CREATE TABLE IF NOT EXISTS"))


def load_input_set(inputs: InputSet, warehouse: Path) -> LoadReport:
    """Read and check every input, then replace the raw tables of `warehouse` with them."""
    if not any(getattr(inputs, role) for role in INPUT_ROLES):
        raise IngestError("no input files: give detections, simbad or crossmatch (or --inputs)")
    loads = read_input_set(inputs)
    load_id = write_raw_tables(warehouse, loads)
    return LoadReport(load_id=load_id, warehouse=warehouse, loads=loads)


def write_raw_tables(warehouse: Path, loads: dict[str, TableLoad]) -> int:
    """Replace the three raw tables and log the load, all in one transaction; the load id."""
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    try:
        with duckdb.connect(str(warehouse)) as con:
            con.begin()
            try:
                load_id = _replace_raw_tables(con, loads)
                con.commit()
            except BaseException:
                con.rollback()
                raise
    except duckdb.Error as error:
        raise IngestError(
            f"{warehouse}: the load failed and was rolled back, the raw tables are unchanged:"
            f" {error}"
        ) from error
    return load_id


def _replace_raw_tables(con: duckdb.DuckDBPyConnection, loads: dict[str, TableLoad]) -> int:
    ensure_raw_tables(con)
    for raw_table in RAW_TABLES:
        # Re-created, not emptied: a table left by an older contract gets today's columns.
        con.execute(_create_table_sql(raw_table, "CREATE OR REPLACE TABLE"))
        if raw_table.name in loads:
            _insert(con, raw_table, loads[raw_table.name].rows)
    (load_id,) = con.execute(
        f"SELECT coalesce(max(load_id), 0) + 1 FROM {RAW_SCHEMA}.{LOAD_LOG.name}"
    ).fetchone()
    loaded_at = datetime.now(UTC)
    log_rows = [
        {
            "load_id": load_id,
            "raw_table": load.raw_table.name,
            "file": str(load.source.path.resolve()),
            "file_format": load.source.file_format,
            "file_bytes": load.source.file_bytes,
            "sha256": load.source.sha256,
            "row_count": load.rows.num_rows,
            "missing_columns": list(load.missing_columns),
            "ignored_columns": list(load.ignored_columns),
            "empty_columns": list(load.empty_columns),
            "crossmatch_radius_arcsec": load.crossmatch_radius_arcsec,
            "loaded_at": loaded_at,
        }
        for load in loads.values()
    ]
    _insert(con, LOAD_LOG, pa.Table.from_pylist(log_rows, schema=LOAD_LOG.arrow_schema))
    return load_id


def _create_table_sql(raw_table: RawTable, create: str) -> str:
    columns = ", ".join(
        f'"{column}" {_DUCKDB_TYPES[column_type]}'
        for column, column_type in raw_table.columns.items()
    )
    return f"{create} {RAW_SCHEMA}.{raw_table.name} ({columns})"


def _insert(con: duckdb.DuckDBPyConnection, raw_table: RawTable, rows: pa.Table) -> None:
    """Insert an Arrow table through a registered view: DuckDB scans it, no per-row work."""
    view = f"incoming_{raw_table.name}"
    columns = ", ".join(f'"{column}"' for column in raw_table.columns)
    con.register(view, rows)
    try:
        con.execute(
            f"INSERT INTO {RAW_SCHEMA}.{raw_table.name} ({columns}) SELECT {columns} FROM {view}"
        )
    finally:
        con.unregister(view)


def read_inputs_toml(path: Path) -> InputSet:
    """The inputs a TOML file names; its paths are relative to the TOML file."""
    try:
        entries = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise IngestError(f"{path}: cannot read the inputs file: {error}") from error
    known = {*INPUT_ROLES, *(f"{role}_format" for role in INPUT_ROLES)}
    unknown = sorted(set(entries) - known)
    if unknown:
        raise IngestError(
            f"{path}: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
    for key, value in entries.items():
        if not isinstance(value, str):
            raise IngestError(f"{path}: {key} must be a string, not {value!r}")
    inputs = {}
    for role in INPUT_ROLES:
        file_format = entries.get(f"{role}_format")
        if role in entries:
            inputs[role] = InputFile(path.parent / Path(entries[role]).expanduser(), file_format)
        elif file_format is not None:
            raise IngestError(f"{path}: {role}_format is given but {role} is not")
    return InputSet(**inputs)


def summary_lines(report: LoadReport) -> list[str]:
    """A few lines per raw table: rows loaded and from where, what the file lacked or left
    empty, what was ignored, and the radius that archive pairs were fetched within."""
    lines = []
    for raw_table in RAW_TABLES:
        load = report.loads.get(raw_table.name)
        if load is None:
            lines.append(f"{RAW_SCHEMA}.{raw_table.name}: empty (no input)")
            continue
        source = load.source
        compressed = f", {source.compression}-compressed" if source.compression else ""
        lines.append(
            f"{RAW_SCHEMA}.{raw_table.name}: {load.rows.num_rows} rows"
            f" from {source.path} ({source.file_format}{compressed})"
        )
        if load.missing_columns:
            lines.append(f"  missing, loaded as null: {', '.join(load.missing_columns)}")
        if load.empty_columns:
            lines.append(f"  empty in every row, loaded as null: {', '.join(load.empty_columns)}")
        if load.ignored_columns:
            lines.append(f"  ignored: {', '.join(load.ignored_columns)}")
        if load.crossmatch_radius_arcsec is not None:
            lines.append(_radius_line(load.crossmatch_radius_arcsec))
    lines.append(f"load {report.load_id} written to {report.warehouse}")
    return lines


def _radius_line(fetched_arcsec: float) -> str:
    line = f"  pairs fetched within {fetched_arcsec:g} arcsec"
    matched_arcsec = match_radius_arcsec()
    if fetched_arcsec < matched_arcsec:
        line += (
            f", less than dbt var simbad_match_radius_arcsec ({matched_arcsec:g}): objects"
            " between the two radii are missing, so the build will fail; fetch the pairs"
            f" again with --radius {matched_arcsec:g} or lower the var"
        )
    return line


# ---------------------------------------------------------------------------
# Command line.


def register_cli(subparsers: argparse._SubParsersAction) -> None:
    """Add the `files` subcommand."""
    files = subparsers.add_parser(
        "files",
        help="load local files (CSC detections, SIMBAD objects, crossmatch pairs) into raw",
        description=(
            "Load one complete set of input files into the raw schema, replacing all three"
            " raw tables (a table without an input becomes empty). Formats: VOTable, CSV,"
            " Parquet, FITS, told by the extension or by --ROLE-format."
        ),
    )
    files.add_argument(
        "--inputs", type=Path, help="a TOML file naming the inputs (see inputs.example.toml)"
    )
    role_help = {
        "detections": "CSC detections, or a TOPCAT / CDS X-Match crossmatch file with SIMBAD"
        " columns (which also fills raw.simbad_crossmatch)",
        "simbad": "SIMBAD objects for dbt to crossmatch (main_id, ra, dec, main_type, ...)",
        "crossmatch": "detection-SIMBAD pairs matched elsewhere (TOPCAT, CDS X-Match)",
    }
    for role in INPUT_ROLES:
        files.add_argument(f"--{role}", type=Path, metavar="FILE", help=role_help[role])
        files.add_argument(
            f"--{role}-format",
            choices=FILE_FORMATS,
            help=f"format of --{role} when its extension does not tell",
        )
    add_warehouse_argument(files)
    files.set_defaults(func=_run_files)


def add_warehouse_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db",
        type=Path,
        help="the DuckDB warehouse file (default: $XRAY_WAREHOUSE, else warehouse.duckdb)",
    )


def _run_files(args: argparse.Namespace) -> int:
    from_toml = read_inputs_toml(args.inputs) if args.inputs else InputSet()
    inputs = {}
    for role in INPUT_ROLES:
        path, file_format = getattr(args, role), getattr(args, f"{role}_format")
        listed = getattr(from_toml, role)
        # A file on the command line replaces the TOML entry, format and all.
        if path is not None:
            inputs[role] = InputFile(path, file_format)
        elif listed is not None:
            inputs[role] = InputFile(listed.path, file_format or listed.file_format)
        elif file_format is not None:
            raise IngestError(f"--{role}-format is given but no {role} file")
    report = load_input_set(InputSet(**inputs), args.db or warehouse_path())
    print("\n".join(summary_lines(report)))
    return 0
