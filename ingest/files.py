"""Reading input files into the raw tables' Arrow schemas, with no database involved.

A file (VOTable, CSV, Parquet or FITS) is read into pyarrow; its columns are matched
to the contract of `ingest.schema` by name, cast to the contract's types and checked.
A crossmatch file, in which CSC and SIMBAD columns share a row (TOPCAT, CDS X-Match),
is split into detections and detection-object pairs. Every problem raises IngestError
naming the file; nothing here writes anywhere, so a failed read changes nothing.

Row numbers in messages count data rows from 1, the first row after any header.
"""

from __future__ import annotations

import csv
import hashlib
import warnings
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from astropy.table import Table as AstropyTable
from astropy.utils.exceptions import AstropyWarning

from ingest.schema import (
    COLUMN_ALIASES,
    CSC_DETECTIONS,
    DETECTION_KEY,
    SIMBAD_COLUMNS,
    SIMBAD_CROSSMATCH,
    SIMBAD_OBJECTS,
    RawTable,
)

FILE_FORMATS = ("votable", "csv", "parquet", "fits")

# Longest suffixes first, so that `.fits.gz` is not taken for `.gz`.
FORMAT_BY_SUFFIX = {
    ".fits.gz": "fits",
    ".fit.gz": "fits",
    ".vot": "votable",
    ".votable": "votable",
    ".xml": "votable",
    ".csv": "csv",
    ".parquet": "parquet",
    ".fits": "fits",
    ".fit": "fits",
}

# Carries each row's position in the file through filtering and deduplication, so
# that messages can point at the file's rows. Never written to the warehouse.
FILE_ROW = "__file_row"

MAX_EXAMPLES = 5


class IngestError(Exception):
    """Bad input or a failed load, worded for the user; the CLI prints it and exits 2."""


@dataclass(frozen=True)
class InputFile:
    """A file to load, and its format when the extension does not tell it."""

    path: Path
    file_format: str | None = None


@dataclass(frozen=True)
class InputSet:
    """One complete set of inputs; a raw table whose input is absent is loaded empty.

    `detections` may be a crossmatch file (CSC and SIMBAD columns in one row): it then
    also fills raw.simbad_crossmatch, and `crossmatch` must be absent.
    """

    detections: InputFile | None = None
    simbad: InputFile | None = None
    crossmatch: InputFile | None = None


@dataclass(frozen=True)
class SourceFile:
    """What the load log records about a file."""

    path: Path
    file_format: str
    file_bytes: int
    sha256: str


@dataclass(frozen=True)
class TableLoad:
    """The rows one file gives one raw table, in the table's exact Arrow schema."""

    raw_table: RawTable
    rows: pa.Table
    source: SourceFile
    missing_columns: tuple[str, ...]
    ignored_columns: tuple[str, ...]


def detect_format(path: Path, file_format: str | None = None) -> str:
    """The file's format: `file_format` if given, else the one its extension names."""
    if file_format is not None:
        if file_format not in FILE_FORMATS:
            raise IngestError(
                f"{path}: unknown format {file_format!r}; choose one of {', '.join(FILE_FORMATS)}"
            )
        return file_format
    name = path.name.lower()
    for suffix, detected in FORMAT_BY_SUFFIX.items():
        if name.endswith(suffix):
            return detected
    raise IngestError(
        f"{path}: unknown format: the extension is none of {', '.join(FORMAT_BY_SUFFIX)};"
        f" name the format explicitly ({', '.join(FILE_FORMATS)})"
    )


def read_input_set(inputs: InputSet) -> dict[str, TableLoad]:
    """Read and check every file of `inputs`: the rows of each raw table, by table name.

    Checks that span files (crossmatch pairs must name loaded detections) run here
    too, so that a caller holding the result has nothing left to validate.
    """
    loads: dict[str, TableLoad] = {}
    if inputs.detections is not None:
        source, table = read_file(inputs.detections)
        loads.update(_detections_from(source, table))
        if SIMBAD_CROSSMATCH.name in loads and inputs.crossmatch is not None:
            raise IngestError(
                f"{source.path}: this detections file is a crossmatch (it has SIMBAD columns),"
                f" so it already gives raw.simbad_crossmatch; drop the crossmatch input"
                f" {inputs.crossmatch.path} or load plain detections"
            )
    if inputs.simbad is not None:
        source, table = read_file(inputs.simbad)
        loads[SIMBAD_OBJECTS.name] = _simbad_objects_from(source, table)
    if inputs.crossmatch is not None:
        source, table = read_file(inputs.crossmatch)
        loads[SIMBAD_CROSSMATCH.name] = _crossmatch_from(source, table)
    if SIMBAD_CROSSMATCH.name in loads:
        _check_pairs_name_detections(loads[SIMBAD_CROSSMATCH.name], loads.get(CSC_DETECTIONS.name))
    return loads


def read_file(input_file: InputFile) -> tuple[SourceFile, pa.Table]:
    """Read a whole file into Arrow, as it is (column names made unique, no casts)."""
    path = input_file.path
    file_format = detect_format(path, input_file.file_format)
    if not path.is_file():
        raise IngestError(f"{path}: no such file")
    file_bytes = path.stat().st_size
    if file_bytes == 0:
        raise IngestError(f"{path}: the file is empty")
    reader = _READERS[file_format]
    try:
        # Other tools' files often carry units or metadata astropy finds non-standard;
        # nothing here uses them, so the warnings would only be noise.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", AstropyWarning)
            table = reader(path)
    except IngestError:
        raise
    except Exception as error:  # any parser failure means the file is not what it claims
        raise IngestError(f"{path}: cannot read it as {file_format}: {error}") from error
    if table.num_rows == 0:
        raise IngestError(f"{path}: the file has columns but no rows")
    source = SourceFile(
        path=path,
        file_format=file_format,
        file_bytes=file_bytes,
        sha256=_sha256(path),
    )
    return source, table


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# ---------------------------------------------------------------------------
# Readers: each returns every column of the file, with unique names.


def _read_csv(path: Path) -> pa.Table:
    with path.open(newline="", encoding="utf-8-sig") as stream:
        header = next(csv.reader(stream), None)
    if not header:
        raise IngestError(f"{path}: no header line")
    names = _number_repeated_names([name.strip() for name in header])
    # Every column is read as text and cast later, so that a bad value is reported
    # with its row rather than making the reader guess another type. Only empty
    # fields are null: "NA" or "null" may be real SIMBAD text.
    return pa_csv.read_csv(
        path,
        read_options=pa_csv.ReadOptions(column_names=names, skip_rows=1),
        convert_options=pa_csv.ConvertOptions(
            column_types={name: pa.string() for name in names},
            null_values=[""],
            strings_can_be_null=True,
        ),
    )


def _number_repeated_names(names: list[str]) -> list[str]:
    """`ra, dec, ra, dec` -> `ra_1, dec_1, ra_2, dec_2` (CDS X-Match CSV repeats names)."""
    counts = defaultdict(int)
    for name in names:
        counts[name] += 1
    seen: dict[str, int] = defaultdict(int)
    numbered = []
    for name in names:
        if counts[name] > 1:
            seen[name] += 1
            numbered.append(f"{name}_{seen[name]}")
        else:
            numbered.append(name)
    return numbered


def _read_parquet(path: Path) -> pa.Table:
    return pq.read_table(path)


def _read_votable(path: Path) -> pa.Table:
    # Field names, not IDs: the CSC's own services give IDs col0, col1, ...
    table = AstropyTable.read(path, format="votable", use_names_over_ids=True)
    return _arrow_from_astropy(table)


def _read_fits(path: Path) -> pa.Table:
    table = AstropyTable.read(path, format="fits", character_as_bytes=False)
    return _arrow_from_astropy(table)


_READERS: dict[str, Callable[[Path], pa.Table]] = {
    "votable": _read_votable,
    "csv": _read_csv,
    "parquet": _read_parquet,
    "fits": _read_fits,
}


def _arrow_from_astropy(table: AstropyTable) -> pa.Table:
    """Masked values become nulls; FITS's big-endian numbers and bytes become native."""
    arrays = []
    for name in table.colnames:
        column = table[name]
        data = np.ma.getdata(column)
        mask = np.ma.getmaskarray(column)
        if data.dtype.kind == "S":
            data = np.char.decode(data, "utf-8")
        elif not data.dtype.isnative:
            data = data.astype(data.dtype.newbyteorder("="))
        if data.ndim > 1:
            # A vector cell (VOTable arraysize, FITS TDIM) maps to no contract column;
            # keep it as a list so that it can be reported like any other column.
            width = int(np.prod(data.shape[1:]))
            flat = pa.array(data.reshape(-1))
            arrays.append(pa.FixedSizeListArray.from_arrays(flat, width))
        else:
            arrays.append(pa.array(data, mask=mask if mask.any() else None))
    return pa.Table.from_arrays(arrays, names=list(table.colnames))


# ---------------------------------------------------------------------------
# Matching file columns to contract columns.


@dataclass(frozen=True)
class _ColumnMatch:
    """Which file column gives each contract column found (contract -> file)."""

    found: dict[str, str]

    def used(self) -> set[str]:
        return set(self.found.values())


def _match_columns(
    source: SourceFile,
    file_columns: list[str],
    contract_columns: Iterable[str],
    aliases: dict[str, tuple[str, ...]],
    taken: set[str] = frozenset(),
    aliases_first: Collection[str] = (),
) -> _ColumnMatch:
    """Contract names in any letter case, when only one column has the name; then aliases.

    Columns in `taken` belong to the other side of a crossmatch file and are skipped.
    For the columns in `aliases_first` an alias wins over the bare name.
    Two columns with a contract name in different cases (`ra`, `RA`) are an error
    rather than a guess: in a crossmatch file they are usually the two sides' positions.
    """
    available = [name for name in file_columns if name not in taken]
    by_folded_name: dict[str, list[str]] = defaultdict(list)
    for name in available:
        by_folded_name[name.casefold()].append(name)

    def by_alias(column: str) -> str | None:
        return next((alias for alias in aliases.get(column, ()) if alias in available), None)

    def by_name(column: str) -> str | None:
        candidates = by_folded_name[column.casefold()]
        if len(candidates) > 1:
            raise IngestError(
                f"{source.path}: columns {', '.join(candidates)} differ only by letter case;"
                f" which one is {column!r} is ambiguous"
            )
        return candidates[0] if candidates else None

    found: dict[str, str] = {}
    for column in contract_columns:
        lookups = (by_alias, by_name) if column in aliases_first else (by_name, by_alias)
        file_column = next(filter(None, (lookup(column) for lookup in lookups)), None)
        if file_column is not None:
            found[column] = file_column
    return _ColumnMatch(found)


def _require(
    source: SourceFile,
    raw_table: RawTable,
    found: dict[str, str],
    aliases: dict[str, tuple[str, ...]],
) -> None:
    missing = [column for column in raw_table.required if column not in found]
    if missing:
        described = "; ".join(
            f"{column!r} (or {', '.join(aliases[column])})" if column in aliases else repr(column)
            for column in missing
        )
        raise IngestError(
            f"{source.path}: missing required column(s) of raw.{raw_table.name}: {described}"
        )


CSC_ALIASES = COLUMN_ALIASES["csc"]
SIMBAD_ALIASES = COLUMN_ALIASES["simbad"]
# A crossmatch pair: the detection key from the CSC side, the rest from SIMBAD's.
CROSSMATCH_ALIASES = {
    **{column: CSC_ALIASES[column] for column in DETECTION_KEY if column in CSC_ALIASES},
    **SIMBAD_ALIASES,
}
# Both sides of a crossmatch file have a position. One suffixed for a side (`ra_x`,
# `ra_2`, `csc_ra` ...) belongs to that side, whatever else the file holds; a bare
# `ra`, `dec` goes to the side that has none: the detection's in a detections file
# (its side is matched first), SIMBAD's in a crossmatch file (only the detection
# key is taken from the CSC side).
POSITION_COLUMNS = ("ra", "dec")


def _csc_match(source: SourceFile, table: pa.Table) -> _ColumnMatch:
    return _match_columns(
        source,
        table.column_names,
        CSC_DETECTIONS.columns,
        CSC_ALIASES,
        aliases_first=POSITION_COLUMNS,
    )


def _pair_match(source: SourceFile, table: pa.Table, csc: _ColumnMatch) -> _ColumnMatch:
    """The detection key as the CSC side found it, and SIMBAD's columns among the rest."""
    simbad = _match_columns(
        source,
        table.column_names,
        [*SIMBAD_COLUMNS, "ang_dist_arcsec"],
        SIMBAD_ALIASES,
        taken=csc.used(),
        aliases_first=POSITION_COLUMNS,
    )
    key = {column: csc.found[column] for column in DETECTION_KEY if column in csc.found}
    return _ColumnMatch({**key, **simbad.found})


def _ignored(table: pa.Table, *matches: _ColumnMatch) -> tuple[str, ...]:
    used = set().union(*(match.used() for match in matches))
    return tuple(name for name in table.column_names if name not in used)


def _missing(raw_table: RawTable, match: _ColumnMatch) -> tuple[str, ...]:
    return tuple(column for column in raw_table.columns if column not in match.found)


# ---------------------------------------------------------------------------
# Building each raw table.


def _detections_from(source: SourceFile, table: pa.Table) -> dict[str, TableLoad]:
    """Plain detections, or a crossmatch file's two sides when SIMBAD columns are there."""
    csc = _csc_match(source, table)
    pair = _pair_match(source, table, csc)
    is_crossmatch = "obsid" in csc.found and "main_id" in pair.found
    _require(source, CSC_DETECTIONS, csc.found, CSC_ALIASES)
    detections = _contract_rows(source, table, CSC_DETECTIONS, csc)
    _check_required_values(source, CSC_DETECTIONS, detections, csc)
    if not is_crossmatch:
        _check_unique(source, CSC_DETECTIONS, detections)
        load = _table_load(CSC_DETECTIONS, detections, source, csc, _ignored(table, csc))
        return {CSC_DETECTIONS.name: load}
    ignored = _ignored(table, csc, pair)
    detections = _one_row_per_detection(source, detections)
    pairs = _pairs_from(source, table, pair)
    return {
        CSC_DETECTIONS.name: _table_load(CSC_DETECTIONS, detections, source, csc, ignored),
        SIMBAD_CROSSMATCH.name: _table_load(SIMBAD_CROSSMATCH, pairs, source, pair, ignored),
    }


def _crossmatch_from(source: SourceFile, table: pa.Table) -> TableLoad:
    key = _match_columns(source, table.column_names, DETECTION_KEY, CSC_ALIASES)
    pair = _pair_match(source, table, key)
    pairs = _pairs_from(source, table, pair)
    return _table_load(SIMBAD_CROSSMATCH, pairs, source, pair, _ignored(table, pair))


def _simbad_objects_from(source: SourceFile, table: pa.Table) -> TableLoad:
    simbad = _match_columns(source, table.column_names, SIMBAD_OBJECTS.columns, SIMBAD_ALIASES)
    _require(source, SIMBAD_OBJECTS, simbad.found, SIMBAD_ALIASES)
    rows = _contract_rows(source, table, SIMBAD_OBJECTS, simbad)
    _check_required_values(source, SIMBAD_OBJECTS, rows, simbad)
    _check_unique(source, SIMBAD_OBJECTS, rows)
    return _table_load(SIMBAD_OBJECTS, rows, source, simbad, _ignored(table, simbad))


def _pairs_from(source: SourceFile, table: pa.Table, pair: _ColumnMatch) -> pa.Table:
    """Rows with a SIMBAD object (a crossmatch keeps unmatched detections with no main_id)."""
    _require(source, SIMBAD_CROSSMATCH, pair.found, CROSSMATCH_ALIASES)
    rows = _contract_rows(source, table, SIMBAD_CROSSMATCH, pair)
    rows = rows.filter(pc.is_valid(rows["main_id"]))
    _check_required_values(source, SIMBAD_CROSSMATCH, rows, pair)
    _check_unique(source, SIMBAD_CROSSMATCH, rows)
    return rows


def _table_load(
    raw_table: RawTable,
    rows: pa.Table,
    source: SourceFile,
    match: _ColumnMatch,
    ignored: tuple[str, ...],
) -> TableLoad:
    return TableLoad(
        raw_table=raw_table,
        rows=rows.drop_columns([FILE_ROW]),
        source=source,
        missing_columns=_missing(raw_table, match),
        ignored_columns=ignored,
    )


def _contract_rows(
    source: SourceFile, table: pa.Table, raw_table: RawTable, match: _ColumnMatch
) -> pa.Table:
    """The contract's columns in order, cast (absent ones null), plus FILE_ROW."""
    arrays = []
    for column, column_type in raw_table.columns.items():
        file_column = match.found.get(column)
        if file_column is None:
            arrays.append(pa.nulls(table.num_rows, column_type))
        else:
            arrays.append(_cast(source, file_column, table[file_column], column_type))
    rows = pa.Table.from_arrays(arrays, schema=raw_table.arrow_schema)
    return rows.append_column(FILE_ROW, pa.array(np.arange(1, table.num_rows + 1)))


def _check_required_values(
    source: SourceFile, raw_table: RawTable, rows: pa.Table, match: _ColumnMatch
) -> None:
    for column in raw_table.required:
        empty = rows.filter(pc.is_null(rows[column]))
        if empty.num_rows:
            raise IngestError(
                f"{source.path}: column {match.found[column]!r} (raw.{raw_table.name}.{column})"
                f" is required but empty in {empty.num_rows} row(s), first in row"
                f" {empty[FILE_ROW][0].as_py()}"
            )


# ---------------------------------------------------------------------------
# Casting to the contract's types.


class _WrongValue(Exception):
    """A value that the target type cannot hold (found by bisection, then reported)."""


def _cast(
    source: SourceFile, file_column: str, values: pa.ChunkedArray, target: pa.DataType
) -> pa.Array:
    values = values.combine_chunks()
    if pa.types.is_dictionary(values.type):
        values = values.dictionary_decode()
    try:
        return _convert(values, target)
    except (_WrongValue, pa.ArrowException):
        index = _first_failing_row(values, target)
        value = values[index].as_py()
        shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
        raise IngestError(
            f"{source.path}: column {file_column!r} must hold {_describe(target)};"
            f" row {index + 1} has {shown}"
        ) from None


def _describe(target: pa.DataType) -> str:
    if pa.types.is_integer(target):
        return f"whole numbers ({target})"
    if pa.types.is_floating(target):
        return f"numbers ({target})"
    return "text"


def _convert(values: pa.Array, target: pa.DataType) -> pa.Array:
    """Cast to `target`: NaN and empty text become null; raises on any value it cannot hold."""
    source_type = values.type
    if pa.types.is_null(source_type) or values.null_count == len(values):
        return pa.nulls(len(values), target)
    if pa.types.is_string(target):
        if not (pa.types.is_string(source_type) or pa.types.is_large_string(source_type)):
            raise _WrongValue
        text = pc.cast(values, target)
        return pc.if_else(pc.equal(text, ""), pa.scalar(None, target), text)
    if pa.types.is_boolean(source_type) or not (
        pa.types.is_integer(source_type)
        or pa.types.is_floating(source_type)
        or pa.types.is_string(source_type)
        or pa.types.is_large_string(source_type)
    ):
        raise _WrongValue
    if pa.types.is_string(source_type) or pa.types.is_large_string(source_type):
        values = pc.utf8_trim_whitespace(values)
        values = pc.if_else(pc.equal(values, ""), pa.scalar(None, source_type), values)
        if pa.types.is_integer(target):
            # pandas writes integers with gaps as floats ("4884.0"); accept whole ones.
            try:
                return pc.cast(values, target)
            except pa.ArrowInvalid:
                values = pc.cast(values, pa.float64())
        else:
            values = pc.cast(values, pa.float64())
    if pa.types.is_floating(values.type):
        values = pc.if_else(pc.is_nan(values), pa.scalar(None, values.type), values)
    return pc.cast(values, target)  # safe: overflow and fractions raise


def _first_failing_row(values: pa.Array, target: pa.DataType) -> int:
    """Bisect for the first value `_convert` rejects: a few casts instead of one per row."""
    low, high = 0, len(values)
    while high - low > 1:
        middle = (low + high) // 2
        try:
            _convert(values.slice(low, middle - low), target)
            low = middle
        except (_WrongValue, pa.ArrowException):
            high = middle
    return low


# ---------------------------------------------------------------------------
# Keys.


def _key_text(row: dict, key: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"{column}={row[column]!r}" for column in key) + ")"


def _rows_text(rows: list[int]) -> str:
    return ", ".join(str(row) for row in rows)


def _check_unique(source: SourceFile, raw_table: RawTable, rows: pa.Table) -> None:
    key = list(raw_table.key)
    groups = rows.group_by(key, use_threads=False).aggregate([(FILE_ROW, "list")])
    repeated = groups.filter(pc.greater(pc.list_value_length(groups[f"{FILE_ROW}_list"]), 1))
    if repeated.num_rows == 0:
        return
    examples = "; ".join(
        f"{_key_text(group, raw_table.key)} in rows {_rows_text(group[f'{FILE_ROW}_list'])}"
        for group in repeated.slice(0, MAX_EXAMPLES).to_pylist()
    )
    raise IngestError(
        f"{source.path}: {repeated.num_rows} duplicate key(s) ({', '.join(key)}) of"
        f" raw.{raw_table.name}, e.g. {examples}"
    )


def _one_row_per_detection(source: SourceFile, detections: pa.Table) -> pa.Table:
    """A crossmatch file repeats a detection once per candidate object: keep its first row.

    The repeats must agree on every CSC column; if they do not, the file is not one
    crossmatch of one detection list, and which row to trust cannot be guessed.
    """
    key = list(DETECTION_KEY)
    values = [column for column in CSC_DETECTIONS.columns if column not in DETECTION_KEY]
    every_value = pc.CountOptions(mode="all")  # a null differs from a value
    groups = detections.group_by(key, use_threads=False).aggregate(
        [(FILE_ROW, "list")] + [(column, "count_distinct", every_value) for column in values]
    )
    disagreeing = [
        column for column in values if pc.max(groups[f"{column}_count_distinct"]).as_py() > 1
    ]
    if disagreeing:
        disagree = pc.greater(groups[f"{disagreeing[0]}_count_distinct"], 1)
        for column in disagreeing[1:]:
            disagree = pc.or_(disagree, pc.greater(groups[f"{column}_count_distinct"], 1))
        examples = "; ".join(
            f"{_key_text(group, DETECTION_KEY)} in rows {_rows_text(group[f'{FILE_ROW}_list'])}"
            f" differs in {', '.join(c for c in disagreeing if group[f'{c}_count_distinct'] > 1)}"
            for group in groups.filter(disagree).slice(0, MAX_EXAMPLES).to_pylist()
        )
        raise IngestError(
            f"{source.path}: a detection repeated in this crossmatch file has different CSC"
            f" values in its rows, e.g. {examples}"
        )
    first_rows = pc.list_element(groups[f"{FILE_ROW}_list"], 0)
    return detections.take(pc.subtract(first_rows, 1))


def _check_pairs_name_detections(pairs: TableLoad, detections: TableLoad | None) -> None:
    """Every pair's detection must be among the detections loaded with it."""
    known: set[tuple] = set()
    if detections is not None:
        known = set(zip(*(detections.rows[c].to_pylist() for c in DETECTION_KEY), strict=True))
    keys = zip(*(pairs.rows[c].to_pylist() for c in DETECTION_KEY), strict=True)
    unknown = [key for key in keys if key not in known]
    if not unknown:
        return
    examples = "; ".join(
        _key_text(dict(zip(DETECTION_KEY, key, strict=True)), DETECTION_KEY)
        for key in unknown[:MAX_EXAMPLES]
    )
    loaded = f"those of {detections.source.path}" if detections is not None else "none given"
    raise IngestError(
        f"{pairs.source.path}: {len(unknown)} crossmatch pair(s) name a detection that is not"
        f" among the loaded detections ({loaded}), e.g. {examples}"
    )
