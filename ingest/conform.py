"""Conforming a table to the raw contract: the one conversion for files and archives.

A table read from a file (ingest.files) or parsed from an archive's response
(ingest.csc, ingest.xmatch) has its columns matched to the contract of ingest.schema
by name, is cast to the contract's types and checked: required values, physical and
plausible ranges, unique keys. A crossmatch table, in which CSC and SIMBAD columns
share a row (TOPCAT, CDS X-Match), is split into detections and detection-object
pairs. Every problem raises IngestError naming the origin (a file, an archive's
chunk) and the column, rows or keys at fault; nothing here writes anywhere.

Row numbers in messages count data rows from 1, the first row after any header.
"""

from __future__ import annotations

import contextlib
import warnings
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from astropy.io.votable.tree import TableElement as VOTableTable
from astropy.table import Table as AstropyTable
from astropy.utils.exceptions import AstropyWarning

from ingest.errors import IngestError
from ingest.schema import (
    COLUMN_ALIASES,
    CSC_DETECTIONS,
    DETECTION_KEY,
    SIMBAD_COLUMNS,
    SIMBAD_CROSSMATCH,
    SIMBAD_OBJECTS,
    RawTable,
    ValueRange,
)

# Carries each row's position in the input through filtering and deduplication, so
# that messages can point at the input's rows. Never written to the warehouse.
FILE_ROW = "__file_row"

MAX_EXAMPLES = 5

# The only names an input may repeat: a CDS X-Match CSV gives both sides' positions
# under the same names (see the comments on COLUMN_ALIASES in ingest/schema.py).
REPEATABLE_NAMES = ("ra", "dec")


@dataclass(frozen=True)
class Conformed:
    """The rows an input gives one raw table, in the table's exact Arrow schema."""

    raw_table: RawTable
    rows: pa.Table
    # Contract columns the input lacks, loaded as null.
    missing_columns: tuple[str, ...]
    # The input's columns that the contract does not hold.
    ignored_columns: tuple[str, ...]
    # Optional contract columns the input has but leaves null in every row: loaded as
    # null like missing ones, and reported apart.
    empty_columns: tuple[str, ...]


# ---------------------------------------------------------------------------
# Parsed tables as Arrow, with names that say which column is which.


def arrow_from_astropy(table: AstropyTable) -> pa.Table:
    """An astropy table (from a VOTable or FITS) as Arrow: masked values become nulls;
    FITS's big-endian numbers and bytes, and VOTable's variable-length text (arrays
    of bytes objects), become native."""
    arrays = []
    for name in table.colnames:
        column = table[name]
        data = np.ma.getdata(column)
        mask = np.ma.getmaskarray(column)
        if data.dtype.kind == "S":
            data = np.char.decode(data, "utf-8")
        elif data.dtype.kind == "O":
            data = np.array([_decoded(value) for value in data], dtype=object)
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


def _decoded(value: object) -> object:
    return value.decode("utf-8") if isinstance(value, bytes) else value


def arrow_from_votable(origin: str, votable_table: VOTableTable) -> pa.Table:
    """A parsed VOTable table as Arrow, read by field names (the CSC's services give IDs
    col0, col1, ...); a repeated field name is an error unless it is a crossmatch's
    position (astropy then names the second `ra2`)."""
    repeated_names(origin, [field.name for field in votable_table.fields])
    with astropy_warnings_ignored():
        return arrow_from_astropy(votable_table.to_table(use_names_over_ids=True))


@contextlib.contextmanager
def astropy_warnings_ignored() -> Iterator[None]:
    """Other tools' tables often carry units or metadata astropy finds non-standard;
    nothing here uses them, so the warnings would only be noise."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AstropyWarning)
        yield


def repeated_names(origin: str, names: list[str]) -> set[str]:
    """The names that `names` repeats, when each is a crossmatch's two positions.

    Any other repeat is an error naming the header and its column positions: with two
    `hard_hm` columns, which one holds the hardness ratio cannot be told.
    """
    positions: dict[str, list[int]] = defaultdict(list)
    for position, name in enumerate(names, start=1):
        positions[name].append(position)
    repeated = {name: at for name, at in positions.items() if len(at) > 1}
    ambiguous = {
        name: at for name, at in repeated.items() if name not in REPEATABLE_NAMES or len(at) > 2
    }
    if ambiguous:
        described = "; ".join(
            f"{name!r} at columns {', '.join(map(str, at))}" for name, at in ambiguous.items()
        )
        raise IngestError(
            f"{origin}: repeated column name(s): {described}; which column to load cannot be"
            " told, so rename or drop the repeats (only a crossmatch's two ra and two dec"
            " columns may share a name)"
        )
    return set(repeated)


def number_repeated_names(origin: str, names: list[str]) -> list[str]:
    """`ra, dec, ra, dec` -> `ra_1, dec_1, ra_2, dec_2`, as STILTS and astroquery name them."""
    repeated = repeated_names(origin, names)
    seen: dict[str, int] = defaultdict(int)
    numbered = []
    for name in names:
        if name in repeated:
            seen[name] += 1
            numbered.append(f"{name}_{seen[name]}")
        else:
            numbered.append(name)
    return numbered


# ---------------------------------------------------------------------------
# Matching input columns to contract columns.


@dataclass(frozen=True)
class _ColumnMatch:
    """Which input column gives each contract column found (contract -> input)."""

    found: dict[str, str]

    def used(self) -> set[str]:
        return set(self.found.values())


def _match_columns(
    origin: str,
    input_columns: list[str],
    contract_columns: Iterable[str],
    aliases: dict[str, tuple[str, ...]],
    taken: set[str] = frozenset(),
    aliases_first: Collection[str] = (),
) -> _ColumnMatch:
    """Contract names in any letter case, when only one column has the name; then aliases.

    Columns in `taken` belong to the other side of a crossmatch and are skipped.
    For the columns in `aliases_first` an alias wins over the bare name.
    Two columns with a contract name in different cases (`ra`, `RA`) are an error
    rather than a guess: in a crossmatch they are usually the two sides' positions.
    """
    available = [name for name in input_columns if name not in taken]
    by_folded_name: dict[str, list[str]] = defaultdict(list)
    for name in available:
        by_folded_name[name.casefold()].append(name)

    def by_alias(column: str) -> str | None:
        return next((alias for alias in aliases.get(column, ()) if alias in available), None)

    def by_name(column: str) -> str | None:
        candidates = by_folded_name[column.casefold()]
        if len(candidates) > 1:
            raise IngestError(
                f"{origin}: columns {', '.join(candidates)} differ only by letter case;"
                f" which one is {column!r} is ambiguous"
            )
        return candidates[0] if candidates else None

    found: dict[str, str] = {}
    for column in contract_columns:
        lookups = (by_alias, by_name) if column in aliases_first else (by_name, by_alias)
        input_column = next(filter(None, (lookup(column) for lookup in lookups)), None)
        if input_column is not None:
            found[column] = input_column
    return _ColumnMatch(found)


def _require(
    origin: str,
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
            f"{origin}: missing required column(s) of raw.{raw_table.name}: {described}"
        )


CSC_ALIASES = COLUMN_ALIASES["csc"]
SIMBAD_ALIASES = COLUMN_ALIASES["simbad"]
# A crossmatch pair: the detection key from the CSC side, the rest from SIMBAD's.
CROSSMATCH_ALIASES = {
    **{column: CSC_ALIASES[column] for column in DETECTION_KEY if column in CSC_ALIASES},
    **SIMBAD_ALIASES,
}
# Both sides of a crossmatch have a position. One suffixed for a side (`ra_x`,
# `ra_2`, `csc_ra` ...) belongs to that side, whatever else the input holds; a bare
# `ra`, `dec` goes to the side that has none: the detection's in a detections input
# (its side is matched first), SIMBAD's in a crossmatch input (only the detection
# key is taken from the CSC side).
POSITION_COLUMNS = ("ra", "dec")


def _csc_match(origin: str, table: pa.Table) -> _ColumnMatch:
    return _match_columns(
        origin,
        table.column_names,
        CSC_DETECTIONS.columns,
        CSC_ALIASES,
        aliases_first=POSITION_COLUMNS,
    )


def _pair_match(origin: str, table: pa.Table, csc: _ColumnMatch) -> _ColumnMatch:
    """The detection key as the CSC side found it, and SIMBAD's columns among the rest."""
    simbad = _match_columns(
        origin,
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


# ---------------------------------------------------------------------------
# Building each raw table.


def detections_from(origin: str, table: pa.Table) -> dict[str, Conformed]:
    """Plain detections, or a crossmatch's two sides when SIMBAD columns are there."""
    csc = _csc_match(origin, table)
    pair = _pair_match(origin, table, csc)
    is_crossmatch = "obsid" in csc.found and "main_id" in pair.found
    _require(origin, CSC_DETECTIONS, csc.found, CSC_ALIASES)
    detections = _contract_rows(origin, table, CSC_DETECTIONS, csc)
    _check_values(origin, CSC_DETECTIONS, detections, csc)
    if not is_crossmatch:
        _check_unique(origin, CSC_DETECTIONS, detections)
        return {CSC_DETECTIONS.name: _conformed(CSC_DETECTIONS, detections, csc, table, csc)}
    detections = _one_row_per_detection(origin, detections)
    pairs = _pairs_from(origin, table, pair)
    return {
        CSC_DETECTIONS.name: _conformed(CSC_DETECTIONS, detections, csc, table, csc, pair),
        SIMBAD_CROSSMATCH.name: _conformed(SIMBAD_CROSSMATCH, pairs, pair, table, csc, pair),
    }


def crossmatch_from(origin: str, table: pa.Table) -> Conformed:
    """Detection-object pairs: the detection key and SIMBAD's columns."""
    key = _match_columns(origin, table.column_names, DETECTION_KEY, CSC_ALIASES)
    pair = _pair_match(origin, table, key)
    pairs = _pairs_from(origin, table, pair)
    return _conformed(SIMBAD_CROSSMATCH, pairs, pair, table, pair)


def simbad_objects_from(origin: str, table: pa.Table) -> Conformed:
    simbad = _match_columns(origin, table.column_names, SIMBAD_OBJECTS.columns, SIMBAD_ALIASES)
    _require(origin, SIMBAD_OBJECTS, simbad.found, SIMBAD_ALIASES)
    rows = _contract_rows(origin, table, SIMBAD_OBJECTS, simbad)
    _check_values(origin, SIMBAD_OBJECTS, rows, simbad)
    _check_unique(origin, SIMBAD_OBJECTS, rows)
    return _conformed(SIMBAD_OBJECTS, rows, simbad, table, simbad)


def _pairs_from(origin: str, table: pa.Table, pair: _ColumnMatch) -> pa.Table:
    """Rows with a SIMBAD object (a crossmatch keeps unmatched detections with no main_id)."""
    _require(origin, SIMBAD_CROSSMATCH, pair.found, CROSSMATCH_ALIASES)
    rows = _contract_rows(origin, table, SIMBAD_CROSSMATCH, pair)
    rows = rows.filter(pc.is_valid(rows["main_id"]))
    _check_values(origin, SIMBAD_CROSSMATCH, rows, pair)
    _check_unique(origin, SIMBAD_CROSSMATCH, rows)
    return rows


def _conformed(
    raw_table: RawTable,
    rows: pa.Table,
    match: _ColumnMatch,
    table: pa.Table,
    *used: _ColumnMatch,
) -> Conformed:
    """`rows` with what the input lacked, left empty and held beyond the contract."""
    empty = tuple(
        column
        for column in raw_table.columns
        if column in match.found
        and column not in raw_table.required
        and rows.num_rows
        and rows[column].null_count == rows.num_rows
    )
    return Conformed(
        raw_table=raw_table,
        rows=rows.drop_columns([FILE_ROW]),
        missing_columns=tuple(c for c in raw_table.columns if c not in match.found),
        ignored_columns=_ignored(table, *used),
        empty_columns=empty,
    )


def _contract_rows(
    origin: str, table: pa.Table, raw_table: RawTable, match: _ColumnMatch
) -> pa.Table:
    """The contract's columns in order, cast (absent ones null), plus FILE_ROW."""
    arrays = []
    for column, column_type in raw_table.columns.items():
        input_column = match.found.get(column)
        if input_column is None:
            arrays.append(pa.nulls(table.num_rows, column_type))
        else:
            arrays.append(_cast(origin, input_column, table[input_column], column_type))
    rows = pa.Table.from_arrays(arrays, schema=raw_table.arrow_schema)
    return rows.append_column(FILE_ROW, pa.array(np.arange(1, table.num_rows + 1)))


def _check_values(origin: str, raw_table: RawTable, rows: pa.Table, match: _ColumnMatch) -> None:
    """Required values present, then every number within its ranges."""
    for column in raw_table.required:
        empty = rows.filter(pc.is_null(rows[column]))
        if empty.num_rows:
            raise IngestError(
                f"{origin}: column {match.found[column]!r} (raw.{raw_table.name}.{column})"
                f" is required but empty in {empty.num_rows} row(s), first in row"
                f" {empty[FILE_ROW][0].as_py()}"
            )
    # Physical ranges first (a wrong value), then plausible ones (an impossible measurement).
    for column, column_type in raw_table.columns.items():
        if column in match.found and _is_number(column_type):
            values = pc.cast(rows[column], pa.float64())
            limits = raw_table.limits_of(column)
            for value_range in (limits.physical, limits.plausible):
                if value_range is not None:
                    outside = _outside(values, value_range)
                    if pc.any(outside).as_py():
                        physical = value_range is limits.physical
                        raise _range_error(
                            origin, raw_table, rows, column, match, outside, physical
                        )


def _is_number(data_type: pa.DataType) -> bool:
    return pa.types.is_integer(data_type) or pa.types.is_floating(data_type)


def _range_error(
    origin: str,
    raw_table: RawTable,
    rows: pa.Table,
    column: str,
    match: _ColumnMatch,
    outside: pa.Array,
    physical: bool,
) -> IngestError:
    """The range the values leave, why it ends there, and the first rows outside it."""
    limits = raw_table.limits_of(column)
    unit = f" {limits.unit}" if limits.unit else ""
    offending = rows.filter(outside)
    if physical:
        expectation = _requirement(limits.physical, unit)
    else:
        expectation = (
            f"holds implausible values: it {_requirement(limits.plausible, unit)}, because"
            f" {limits.reason}"
        )
    examples = _first_examples(
        offending,
        lambda row: f"row {row[FILE_ROW]} {key_text(row, raw_table.key)} has {row[column]!r}",
    )
    return IngestError(
        f"{origin}: column {match.found[column]!r} (raw.{raw_table.name}.{column})"
        f" {expectation}; {offending.num_rows} row(s) are not: {examples}"
    )


def _requirement(value_range: ValueRange, unit: str) -> str:
    if value_range.minimum is None and value_range.maximum is None:
        return "must be finite"
    bounded = value_range.minimum is not None and value_range.maximum is not None
    return f"must {'lie in' if bounded else 'be'} {value_range}{unit}"


def _outside(values: pa.Array, value_range: ValueRange) -> pa.Array:
    """Whether each value lies outside the range; a null is never outside, an infinity always."""
    inside = pc.is_finite(values)
    above, below = (
        (pc.greater_equal, pc.less_equal) if value_range.inclusive else (pc.greater, pc.less)
    )
    if value_range.minimum is not None:
        inside = pc.and_(inside, above(values, value_range.minimum))
    if value_range.maximum is not None:
        inside = pc.and_(inside, below(values, value_range.maximum))
    return pc.fill_null(pc.invert(inside), False)


# ---------------------------------------------------------------------------
# Casting to the contract's types.


class _WrongValue(Exception):
    """A value that the target type cannot hold (found by bisection, then reported)."""


def _cast(origin: str, input_column: str, values: pa.ChunkedArray, target: pa.DataType) -> pa.Array:
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
            f"{origin}: column {input_column!r} must hold {_describe(target)};"
            f" row {index + 1} has {shown}"
        ) from None


def _describe(target: pa.DataType) -> str:
    if pa.types.is_integer(target):
        return f"whole numbers ({target})"
    if pa.types.is_floating(target):
        return f"numbers ({target})"
    return "text"


def _is_text(data_type: pa.DataType) -> bool:
    return pa.types.is_string(data_type) or pa.types.is_large_string(data_type)


def _blank_to_null(text: pa.Array) -> pa.Array:
    """Empty or all-blank text is a missing value (VOTable writes one as an empty cell)."""
    blank = pc.equal(pc.utf8_trim_whitespace(text), "")
    return pc.if_else(blank, pa.scalar(None, text.type), text)


def _convert(values: pa.Array, target: pa.DataType) -> pa.Array:
    """Cast to `target`: NaN and blank text become null; raises on any value it cannot hold."""
    source_type = values.type
    if pa.types.is_null(source_type) or values.null_count == len(values):
        return pa.nulls(len(values), target)
    if pa.types.is_string(target):
        if not _is_text(source_type):
            raise _WrongValue
        return _blank_to_null(pc.cast(values, target))
    if not (
        pa.types.is_integer(source_type)
        or pa.types.is_floating(source_type)
        or _is_text(source_type)
    ):
        raise _WrongValue  # booleans, dates, lists: no number to take
    if _is_text(source_type):
        values = _blank_to_null(pc.utf8_trim_whitespace(values))
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


def key_text(row: dict, key: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"{column}={row[column]!r}" for column in key) + ")"


def _first_examples(rows: pa.Table, describe: Callable[[dict], str]) -> str:
    """The first MAX_EXAMPLES rows, each as `describe` words it."""
    return "; ".join(describe(row) for row in rows.slice(0, MAX_EXAMPLES).to_pylist())


def _rows_text(rows: list[int]) -> str:
    return ", ".join(str(row) for row in rows)


def _check_unique(origin: str, raw_table: RawTable, rows: pa.Table) -> None:
    key = list(raw_table.key)
    groups = rows.group_by(key, use_threads=False).aggregate([(FILE_ROW, "list")])
    repeated = groups.filter(pc.greater(pc.list_value_length(groups[f"{FILE_ROW}_list"]), 1))
    if repeated.num_rows == 0:
        return
    examples = _first_examples(
        repeated,
        lambda group: (
            f"{key_text(group, raw_table.key)} in rows {_rows_text(group[f'{FILE_ROW}_list'])}"
        ),
    )
    raise IngestError(
        f"{origin}: {repeated.num_rows} duplicate key(s) ({', '.join(key)}) of"
        f" raw.{raw_table.name}, e.g. {examples}"
    )


def _one_row_per_detection(origin: str, detections: pa.Table) -> pa.Table:
    """A crossmatch repeats a detection once per candidate object: keep its first row.

    The repeats must agree on every CSC column; if they do not, the input is not one
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
        examples = _first_examples(
            groups.filter(disagree),
            lambda group: (
                f"{key_text(group, DETECTION_KEY)} in rows"
                f" {_rows_text(group[f'{FILE_ROW}_list'])} differs in"
                f" {', '.join(c for c in disagreeing if group[f'{c}_count_distinct'] > 1)}"
            ),
        )
        raise IngestError(
            f"{origin}: a detection repeated in this crossmatch has different CSC"
            f" values in its rows, e.g. {examples}"
        )
    first_rows = pc.list_element(groups[f"{FILE_ROW}_list"], 0)
    return detections.take(pc.subtract(first_rows, 1))
