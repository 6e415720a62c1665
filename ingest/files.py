"""Reading input files into the raw tables' Arrow schemas, with no database involved.

A file (VOTable, CSV, Parquet or FITS) is read into pyarrow as it is, then conformed
to the contract by ingest.conform (a crossmatch file, with CSC and SIMBAD columns in
one row, is split there). Every problem raises IngestError naming the file; nothing
here writes anywhere, so a failed read changes nothing.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from astropy.io.votable import parse as parse_votable
from astropy.table import Table as AstropyTable

from ingest.conform import (
    MAX_EXAMPLES,
    Conformed,
    arrow_from_astropy,
    arrow_from_votable,
    astropy_warnings_ignored,
    crossmatch_from,
    detections_from,
    key_text,
    number_repeated_names,
    simbad_objects_from,
)
from ingest.errors import IngestError
from ingest.schema import (
    CROSSMATCH_RADIUS_METADATA_KEY,
    CSC_DETECTIONS,
    DETECTION_KEY,
    SIMBAD_CROSSMATCH,
    SIMBAD_OBJECTS,
)

FILE_FORMATS = ("votable", "csv", "parquet", "fits")

# Longest suffixes first, so that `.fits.gz` is not taken for `.gz`.
FORMAT_BY_SUFFIX = {
    ".fits.gz": "fits",
    ".fit.gz": "fits",
    ".csv.gz": "csv",
    ".vot": "votable",
    ".votable": "votable",
    ".xml": "votable",
    ".csv": "csv",
    ".parquet": "parquet",
    ".fits": "fits",
    ".fit": "fits",
}

GZIP_MAGIC = b"\x1f\x8b"
# What a "CSV" separated by something else has in its one header column.
OTHER_DELIMITERS = {";": "semicolon", "\t": "tab", "|": "vertical-bar"}


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
    # "gzip" for a CSV read through its compression, whatever its extension.
    compression: str | None = None


@dataclass(frozen=True)
class TableLoad(Conformed):
    """The rows one file gives one raw table, and the file they came from."""

    source: SourceFile
    # Pairs written by `python -m ingest simbad` record the radius they were fetched within.
    crossmatch_radius_arcsec: float | None = None


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
        for name, conformed in detections_from(str(source.path), table).items():
            loads[name] = _table_load(conformed, source, table)
        if SIMBAD_CROSSMATCH.name in loads and inputs.crossmatch is not None:
            raise IngestError(
                f"{source.path}: this detections file is a crossmatch (it has SIMBAD columns),"
                f" so it already gives raw.simbad_crossmatch; drop the crossmatch input"
                f" {inputs.crossmatch.path} or load plain detections"
            )
    if inputs.simbad is not None:
        source, table = read_file(inputs.simbad)
        loads[SIMBAD_OBJECTS.name] = _table_load(
            simbad_objects_from(str(source.path), table), source, table
        )
    if inputs.crossmatch is not None:
        source, table = read_file(inputs.crossmatch)
        loads[SIMBAD_CROSSMATCH.name] = _table_load(
            crossmatch_from(str(source.path), table), source, table
        )
    if SIMBAD_CROSSMATCH.name in loads:
        _check_pairs_name_detections(loads[SIMBAD_CROSSMATCH.name], loads.get(CSC_DETECTIONS.name))
    return loads


def _table_load(conformed: Conformed, source: SourceFile, table: pa.Table) -> TableLoad:
    radius = None
    if conformed.raw_table is SIMBAD_CROSSMATCH:
        text = (table.schema.metadata or {}).get(CROSSMATCH_RADIUS_METADATA_KEY)
        try:
            radius = None if text is None else float(text)
        except ValueError:
            raise IngestError(
                f"{source.path}: its metadata {CROSSMATCH_RADIUS_METADATA_KEY.decode()} is"
                f" {text!r}, not a radius in arcsec"
            ) from None
    return TableLoad(**vars(conformed), source=source, crossmatch_radius_arcsec=radius)


def read_file(input_file: InputFile) -> tuple[SourceFile, pa.Table]:
    """Read a whole file into Arrow, as it is (column names made unique, no casts)."""
    path = input_file.path
    # What the path is comes first: a directory or a missing file has no format to tell.
    if path.is_dir():
        raise IngestError(f"{path}: is a directory, not a file; {_files_in(path)}")
    if not path.is_file():
        raise IngestError(f"{path}: no such file")
    file_format = detect_format(path, input_file.file_format)
    file_bytes = path.stat().st_size
    if file_bytes == 0:
        raise IngestError(f"{path}: the file is empty")
    compression = _compression(path) if file_format == "csv" else None
    try:
        with astropy_warnings_ignored():
            table = _READERS[file_format](path)
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
        compression=compression,
    )
    return source, table


def _files_in(directory: Path) -> str:
    loadable = sorted(
        entry.name
        for entry in directory.iterdir()
        if entry.is_file() and entry.name.lower().endswith(tuple(FORMAT_BY_SUFFIX))
    )
    if not loadable:
        return "give one of the files to load"
    shown = ", ".join(loadable[:MAX_EXAMPLES]) + (", ..." if len(loadable) > MAX_EXAMPLES else "")
    return f"give one of the files in it ({shown})"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# ---------------------------------------------------------------------------
# Readers: each returns every column of the file, with unique names.


def _compression(path: Path) -> str | None:
    """ "gzip" when the bytes are gzip's, whatever the extension says."""
    with path.open("rb") as stream:
        return "gzip" if stream.read(len(GZIP_MAGIC)) == GZIP_MAGIC else None


def _open_bytes(path: Path, compression: str | None) -> BinaryIO:
    return gzip.open(path, "rb") if compression == "gzip" else path.open("rb")


def _open_text(path: Path, compression: str | None) -> io.TextIOWrapper:
    return io.TextIOWrapper(_open_bytes(path, compression), encoding="utf-8-sig", newline="")


def _read_csv(path: Path) -> pa.Table:
    compression = _compression(path)
    header = _csv_header(path, compression)
    names = number_repeated_names(str(path), [name.strip() for name in header])
    try:
        # Every column is read as text and cast later, so that a bad value is reported
        # with its row rather than making the reader guess another type. Only empty
        # fields are null: "NA" or "null" may be real SIMBAD text.
        return pa_csv.read_csv(
            pa.input_stream(path, compression=compression),
            read_options=pa_csv.ReadOptions(column_names=names, skip_rows=1),
            convert_options=pa_csv.ConvertOptions(
                column_types={name: pa.string() for name in names},
                null_values=[""],
                strings_can_be_null=True,
            ),
        )
    except pa.ArrowInvalid as error:
        if "invalid UTF8" in str(error):
            raise _not_utf8(path, compression) from None
        if "columns, got" in str(error):
            raise _ragged_rows(path, compression, len(header)) from None
        raise


def _csv_header(path: Path, compression: str | None) -> list[str]:
    with _open_text(path, compression) as text:
        try:
            header = next(csv.reader(text), None)
        except UnicodeDecodeError:
            raise _not_utf8(path, compression) from None
    if not header:
        raise IngestError(f"{path}: no header line")
    if len(header) == 1:
        counts = {name: header[0].count(delimiter) for delimiter, name in OTHER_DELIMITERS.items()}
        likely = max(counts, key=counts.get)
        if counts[likely]:
            raise IngestError(
                f"{path}: the header is a single column, {header[0][:80]!r}: the file looks"
                f" {likely}-separated, but a CSV must be comma-separated; write it with commas"
                " (or as VOTable, FITS or Parquet)"
            )
    return header


def _not_utf8(path: Path, compression: str | None) -> IngestError:
    """Where the first byte that is not UTF-8 is, as a line of the file."""
    with _open_bytes(path, compression) as stream:
        for number, line in enumerate(stream, start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError as error:
                context = line[max(0, error.start - 30) : error.start + 10]
                return IngestError(
                    f"{path}: the file is not UTF-8 text: line {number} (the header is line 1)"
                    f" has the byte 0x{line[error.start]:02x} at byte {error.start + 1}, in"
                    f" {context.decode('utf-8', 'replace')!r}; save the file as UTF-8 (from"
                    " Latin-1: iconv -f latin1 -t utf-8)"
                )
    return IngestError(f"{path}: the file is not UTF-8 text")


def _ragged_rows(path: Path, compression: str | None, width: int) -> IngestError:
    """The lines whose number of fields differs from the header's."""
    with _open_text(path, compression) as text:
        reader = csv.reader(text)
        ragged = ((reader.line_num, len(row)) for row in reader if row and len(row) != width)
        shown = list(itertools.islice(ragged, MAX_EXAMPLES))
        more = sum(1 for _ in ragged)
    described = ", ".join(f"line {line} has {fields}" for line, fields in shown)
    return IngestError(
        f"{path}: the header has {width} columns but {len(shown) + more} line(s) have another"
        f" number of fields: {described} (the header is line 1); a value with an unquoted"
        " comma, or a row cut short?"
    )


def _read_parquet(path: Path) -> pa.Table:
    # One file read as it is (pq.read_table would also read directories of files, and
    # fails on repeated names before they can be reported).
    table = pq.ParquetFile(path).read()
    names = number_repeated_names(str(path), table.column_names)
    # Renaming drops the metadata, which may record a crossmatch's radius.
    return table.rename_columns(names).replace_schema_metadata(table.schema.metadata)


def _read_votable(path: Path) -> pa.Table:
    return arrow_from_votable(str(path), parse_votable(str(path)).get_first_table())


def _read_fits(path: Path) -> pa.Table:
    table = AstropyTable.read(path, format="fits", character_as_bytes=False)
    return arrow_from_astropy(table)


_READERS: dict[str, Callable[[Path], pa.Table]] = {
    "votable": _read_votable,
    "csv": _read_csv,
    "parquet": _read_parquet,
    "fits": _read_fits,
}


# ---------------------------------------------------------------------------
# Checks that span files.


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
        key_text(dict(zip(DETECTION_KEY, key, strict=True)), DETECTION_KEY)
        for key in unknown[:MAX_EXAMPLES]
    )
    loaded = f"those of {detections.source.path}" if detections is not None else "none given"
    raise IngestError(
        f"{pairs.source.path}: {len(unknown)} crossmatch pair(s) name a detection that is not"
        f" among the loaded detections ({loaded}), e.g. {examples}"
    )
