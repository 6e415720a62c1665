"""Fetch archive responses chunk by chunk, each cached on disk as Parquet, with retries.

A fetch is a list of chunks (one request each). A chunk's response is saved as soon as
it arrives, under a hash of (service, endpoint, query text, uploaded payload), so:

- a re-run reads every chunk from the cache and sends no request;
- an interrupted fetch resumes with only the chunks still missing;
- transient failures (timeouts, connection errors, HTTP 429 and 5xx) are retried with
  exponential backoff; when the retries run out, or the error is not transient, the
  fetch stops with a message naming the chunk, and the chunks done stay cached.

Also here: turning a parsed response (an astropy table) into Arrow, and an Arrow table
into one of the raw tables of ingest.schema.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import requests
import urllib3.exceptions
from astropy.table import Table
from requests.adapters import HTTPAdapter
from tqdm import tqdm

from ingest.config import ArchiveSettings
from ingest.schema import RawTable

TRANSIENT_HTTP_STATUSES = frozenset({429, 500, 502, 503, 504})
NETWORK_ERRORS = (
    requests.Timeout,
    requests.ConnectionError,
    urllib3.exceptions.TimeoutError,
    urllib3.exceptions.ProtocolError,
    TimeoutError,
    ConnectionError,
)
CACHE_METADATA_KEY = b"xray_archive_chunk"


@dataclass(frozen=True)
class Chunk:
    """One request: the query text and, for services that take an upload, its content."""

    label: str
    query: str
    upload: str = ""


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int
    initial_delay_seconds: float
    backoff_factor: float
    max_delay_seconds: float

    @classmethod
    def from_settings(cls, settings: ArchiveSettings) -> RetryPolicy:
        return cls(
            attempts=max(1, settings.retry_attempts),
            initial_delay_seconds=settings.retry_initial_delay_seconds,
            backoff_factor=settings.retry_backoff_factor,
            max_delay_seconds=settings.retry_max_delay_seconds,
        )

    def delays(self) -> Iterator[float]:
        """The waits between consecutive attempts (one fewer than the attempts)."""
        delay = self.initial_delay_seconds
        for _ in range(self.attempts - 1):
            yield min(delay, self.max_delay_seconds)
            delay *= self.backoff_factor


class ArchiveFetchError(RuntimeError):
    """A chunk could not be fetched; the chunks fetched before it are cached."""


class ArchiveResponseError(RuntimeError):
    """The service answered, but not with what the fetch needs (never retried)."""


@dataclass(frozen=True)
class FetchResult:
    tables: list[pa.Table]
    chunks_from_cache: int
    chunks_fetched: int


class TimeoutHTTPAdapter(HTTPAdapter):
    """Gives every request of a session a timeout (pyvo's sync TAP queries set none)."""

    def __init__(self, timeout_seconds: float):
        super().__init__()
        self.timeout_seconds = timeout_seconds

    def send(self, request, timeout=None, **kwargs):
        return super().send(request, timeout=timeout or self.timeout_seconds, **kwargs)


class ChunkCache:
    """Parquet files under <root>/<service>/, one per chunk, named by the chunk's key."""

    def __init__(self, root: Path, service: str, endpoint: str):
        self.directory = root / service
        self.service = service
        self.endpoint = endpoint

    def key(self, chunk: Chunk) -> str:
        identity = json.dumps([self.service, self.endpoint, chunk.query, chunk.upload])
        return hashlib.sha256(identity.encode()).hexdigest()

    def path(self, chunk: Chunk) -> Path:
        return self.directory / f"{self.key(chunk)}.parquet"

    def load(self, chunk: Chunk) -> pa.Table | None:
        path = self.path(chunk)
        return pq.read_table(path) if path.exists() else None

    def store(self, chunk: Chunk, table: pa.Table) -> None:
        provenance = {
            "service": self.service,
            "endpoint": self.endpoint,
            "label": chunk.label,
            "query": chunk.query,
            "upload_sha256": hashlib.sha256(chunk.upload.encode()).hexdigest(),
            "fetched_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        metadata = {**(table.schema.metadata or {}), CACHE_METADATA_KEY: json.dumps(provenance)}
        path = self.path(chunk)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write then rename: an interrupted write never leaves a chunk that looks done.
        partial = path.with_name(f"{path.stem}.{os.getpid()}.partial")
        pq.write_table(table.replace_schema_metadata(metadata), partial)
        partial.replace(path)


def fetch_chunks(
    *,
    service: str,
    endpoint: str,
    chunks: Sequence[Chunk],
    fetch: Callable[[Chunk], pa.Table],
    settings: ArchiveSettings,
) -> FetchResult:
    """The response of every chunk, in order: from the cache, else from `fetch` (then cached)."""
    cache = ChunkCache(settings.cache_dir, service, endpoint)
    retry = RetryPolicy.from_settings(settings)
    tables: list[pa.Table] = []
    from_cache = 0
    with tqdm(total=len(chunks), desc=service, unit="chunk") as progress:
        for number, chunk in enumerate(chunks, start=1):
            table = cache.load(chunk)
            if table is None:
                where = f"{service}: chunk {number}/{len(chunks)} ({chunk.label})"
                try:
                    table = _call_with_retries(lambda c=chunk: fetch(c), retry, where)
                except Exception as error:
                    raise ArchiveFetchError(
                        f"{where} {_why_stopped(error, retry)}: {_summary(error)}\n"
                        f"{len(tables)} chunk(s) before it are cached in {cache.directory}; "
                        "run the same command again to fetch only the missing ones."
                    ) from error
                cache.store(chunk, table)
            else:
                from_cache += 1
            tables.append(table)
            progress.set_postfix(cached=from_cache, fetched=len(tables) - from_cache)
            progress.update()
    fetched = len(tables) - from_cache
    return FetchResult(tables, chunks_from_cache=from_cache, chunks_fetched=fetched)


def _call_with_retries(
    operation: Callable[[], pa.Table], retry: RetryPolicy, where: str
) -> pa.Table:
    delays = retry.delays()
    attempt = 1
    while True:
        try:
            return operation()
        except Exception as error:
            delay = next(delays, None) if is_transient(error) else None
            if delay is None:
                raise
            attempt += 1
            tqdm.write(
                f"{where}: {_summary(error)}; retrying in {delay:g} s "
                f"(attempt {attempt} of {retry.attempts})"
            )
            time.sleep(delay)


def _why_stopped(error: BaseException, retry: RetryPolicy) -> str:
    if is_transient(error):
        return f"still failing after {retry.attempts} attempt(s)"
    return "failed (not a transient error, so not retried)"


def is_transient(error: BaseException) -> bool:
    """Whether retrying may help: a timeout, a dropped connection, or HTTP 429/5xx.

    Clients wrap the network error (pyvo's DALServiceError; astroquery re-raising while
    it parses an error page), so the whole chain of causes is inspected.
    """
    return any(
        isinstance(link, NETWORK_ERRORS) or _http_status(link) in TRANSIENT_HTTP_STATUSES
        for link in _causes(error)
    )


def _causes(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        link = pending.pop()
        if link is None or id(link) in seen:
            continue
        seen.add(id(link))
        yield link
        # pyvo keeps the underlying exception in `.cause`.
        pending.extend([link.__cause__, link.__context__, getattr(link, "cause", None)])


def _http_status(error: BaseException) -> int | None:
    response = getattr(error, "response", None)
    if isinstance(response, requests.Response):
        return response.status_code
    # pyvo's DALServiceError carries the status as `.code` (0 when there was no response).
    code = getattr(error, "code", None)
    return code if isinstance(code, int) and code else None


def _summary(error: BaseException) -> str:
    """The error in one line, with the HTTP status when a wrapped exception carries it."""
    text = " ".join(str(error).split())
    if len(text) > 300:
        text = text[:300] + "..."
    summary = f"{type(error).__name__}: {text}" if text else type(error).__name__
    status = next(filter(None, map(_http_status, _causes(error))), None)
    return f"HTTP {status}, {summary}" if status and str(status) not in text else summary


def astropy_to_arrow(table: Table) -> pa.Table:
    """An astropy table (as parsed from a VOTable) as Arrow, masked values as nulls."""
    arrays = {}
    for name in table.colnames:
        column = table[name]
        values = np.asarray(column)
        mask = np.ma.getmaskarray(column)
        if values.dtype.kind == "S":
            values = np.char.decode(values, "utf-8")
        elif values.dtype.kind == "O":
            values = np.array([_decoded(value) for value in values], dtype=object)
        arrays[name] = pa.array(values, mask=mask if mask.any() else None)
    return pa.table(arrays)


def _decoded(value: object) -> object:
    return value.decode("utf-8") if isinstance(value, bytes) else value


def conform(
    table: pa.Table,
    contract: RawTable,
    renames: Mapping[str, str],
    *,
    optional_may_be_missing: bool,
) -> pa.Table:
    """`table` with exactly the columns and types of `contract`.

    A contract column is read from the response column `renames` gives for it, else from
    the column of its own name. A missing column is an error, unless it is optional in
    the contract and `optional_may_be_missing`: then it becomes nulls.
    """
    columns = {}
    for name, data_type in contract.columns.items():
        source = renames.get(name, name)
        if source in table.column_names:
            columns[name] = _cast(table[source], data_type)
        elif optional_may_be_missing and name not in contract.required:
            columns[name] = pa.nulls(table.num_rows, data_type)
        else:
            raise ArchiveResponseError(
                f"the response has no column {source!r} for {contract.name}.{name}; "
                f"its columns are {', '.join(table.column_names)}"
            )
    return pa.table(columns, schema=contract.arrow_schema)


def _cast(column: pa.ChunkedArray, data_type: pa.DataType) -> pa.ChunkedArray:
    if pa.types.is_string(data_type):
        text = column.cast(pa.string())
        # VOTable writes a missing text value as an empty cell.
        return pc.if_else(pc.equal(pc.utf8_trim_whitespace(text), ""), None, text)
    # A safe cast: an integer column typed double by the service casts only if whole.
    return column.cast(data_type)


def write_parquet(table: pa.Table, path: Path) -> None:
    """Write `table` to `path`, replacing an existing file only once the new one is complete."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
    pq.write_table(table, partial)
    partial.replace(path)
