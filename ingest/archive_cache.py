"""Fetch archive responses chunk by chunk, each cached on disk as Parquet, with retries.

A fetch is a list of chunks (one request each). A chunk's response is checked against
the raw contract (ingest.conform) and then saved, under a hash of (service, endpoint,
query text, uploaded payload), so:

- a re-run reads every chunk from the cache and sends no request; a cached response
  that no longer fits the contract is discarded, said so, and fetched again;
- a response that does not fit the contract is never cached: a rerun asks again;
- an interrupted fetch resumes with only the chunks still missing;
- transient failures (timeouts, connection errors, HTTP 429 and 5xx, a VOTable cut
  short) are retried with exponential backoff; when the retries run out, or the error
  is not transient, the fetch stops with a message naming the chunk, and the chunks
  done stay cached;
- offline (XRAY_ARCHIVE_OFFLINE=1 or --offline), the cache alone answers, and the
  chunks it lacks are named.

Also here: reading a service's answer as a VOTable, telling a web page or a document
cut short from a result.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import io
import json
import os
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import requests
import urllib3.exceptions
from astropy.io.votable import parse as parse_votable
from astropy.io.votable.tree import VOTableFile
from requests.adapters import HTTPAdapter
from tqdm import tqdm

from ingest.config import ArchiveSettings, archive_settings
from ingest.conform import astropy_warnings_ignored
from ingest.errors import IngestError
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


class ArchiveFetchError(IngestError):
    """A chunk could not be fetched; the chunks fetched before it are cached."""


class ArchiveResponseError(IngestError):
    """The service answered, but not with what the fetch needs (never retried)."""


class IncompleteResponseError(IngestError):
    """The answer is not a whole VOTable: the transfer was cut short (retried)."""


# Checks a chunk's response against the raw contract: given where it came from (for
# messages) and the response as parsed, the rows in the contract's schema, or IngestError.
Conform = Callable[[str, pa.Table], pa.Table]


@dataclass(frozen=True)
class FetchResult:
    tables: list[pa.Table]
    chunks_from_cache: int
    chunks_fetched: int

    def rows(self, raw_table: RawTable) -> pa.Table:
        """Every chunk's conformed rows in one table (none: an empty one)."""
        return pa.concat_tables(self.tables or [raw_table.arrow_schema.empty_table()])


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

    def discard(self, chunk: Chunk) -> None:
        self.path(chunk).unlink(missing_ok=True)

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
    conform: Conform,
    settings: ArchiveSettings,
) -> FetchResult:
    """The conformed response of every chunk, in order: from the cache, else from `fetch`
    (then cached once it conforms); offline, from the cache alone."""
    cache = ChunkCache(settings.cache_dir, service, endpoint)
    retry = RetryPolicy.from_settings(settings)
    tables: list[pa.Table] = []
    not_cached: list[str] = []
    from_cache = 0
    with tqdm(total=len(chunks), desc=service, unit="chunk") as progress:
        for number, chunk in enumerate(chunks, start=1):
            where = f"{service}: chunk {number}/{len(chunks)} ({chunk.label})"
            table = _from_cache(cache, chunk, conform, where)
            if table is not None:
                from_cache += 1
            elif settings.offline:
                not_cached.append(f"chunk {number} ({chunk.label})")
            else:
                table = _fetch(cache, chunk, fetch, conform, retry, where, len(tables))
            if table is not None:
                tables.append(table)
            progress.set_postfix(cached=from_cache, fetched=len(tables) - from_cache)
            progress.update()
    if not_cached:
        raise ArchiveFetchError(
            f"{service}: offline (XRAY_ARCHIVE_OFFLINE or --offline), and {len(not_cached)} of"
            f" {len(chunks)} chunk(s) are not in the cache {cache.directory}:"
            f" {', '.join(not_cached)}; run without --offline to fetch them"
        )
    fetched = len(tables) - from_cache
    return FetchResult(tables, chunks_from_cache=from_cache, chunks_fetched=fetched)


def _from_cache(cache: ChunkCache, chunk: Chunk, conform: Conform, where: str) -> pa.Table | None:
    """The cached response, conformed; None when there is none or it no longer conforms."""
    try:
        response = cache.load(chunk)
        return None if response is None else conform(f"{where}, cached", response)
    except (IngestError, pa.ArrowException, OSError) as error:
        cache.discard(chunk)
        tqdm.write(f"{error}\n{where}: the cached response {cache.path(chunk)} is discarded")
        return None


def _fetch(
    cache: ChunkCache,
    chunk: Chunk,
    fetch: Callable[[Chunk], pa.Table],
    conform: Conform,
    retry: RetryPolicy,
    where: str,
    done: int,
) -> pa.Table:
    """The chunk's response from the service, cached only once it conforms."""
    resume = (
        f"{done} chunk(s) before it are cached in {cache.directory}; "
        "run the same command again to fetch only the missing ones."
    )
    try:
        response = _call_with_retries(lambda: fetch(chunk), retry, where)
    except Exception as error:
        raise ArchiveFetchError(
            f"{where} {_why_stopped(error, retry)}: {_summary(error)}\n{resume}"
        ) from error
    try:
        table = conform(f"{where}, the response", response)
    except IngestError as error:
        raise ArchiveFetchError(f"{error}\nThe response was not cached; {resume}") from error
    cache.store(chunk, response)
    return table


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
        isinstance(link, (*NETWORK_ERRORS, IncompleteResponseError))
        or _http_status(link) in TRANSIENT_HTTP_STATUSES
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
    if isinstance(error, IngestError):
        return text  # our own words already
    summary = f"{type(error).__name__}: {text}" if text else type(error).__name__
    status = next(filter(None, map(_http_status, _causes(error))), None)
    return f"HTTP {status}, {summary}" if status and str(status) not in text else summary


def votable_from_response(response: requests.Response) -> VOTableFile:
    """The VOTable a service answered with (HTTP 200). A web page instead (a maintenance
    notice, a proxy's login) is an error; a document cut short is retried; a query the
    service reports as failed (QUERY_STATUS ERROR) is an error with the service's words."""
    content_type = response.headers.get("Content-Type", "")
    body = response.content
    if "html" in content_type.lower() or re.match(rb"\s*<(!doctype\s+)?html", body, re.I):
        raise ArchiveResponseError(
            f"the service answered HTTP {response.status_code} with a web page"
            f" ({content_type or 'no content type'}), not a VOTable: {_page_text(body)!r};"
            " it may be down for maintenance: try again later"
        )
    try:
        with astropy_warnings_ignored():
            votable = parse_votable(io.BytesIO(body))
            votable.get_first_table()
    except Exception as error:
        raise IncompleteResponseError(
            f"the response is not a complete VOTable ({len(body)} bytes: {error}); the"
            " transfer was probably cut short"
        ) from error
    failed = [info.content or "" for info in query_statuses(votable) if info.value == "ERROR"]
    if failed:
        raise ArchiveResponseError(f"the service reports the query failed: {failed[0]}")
    return votable


def query_statuses(votable: VOTableFile) -> list:
    """Every QUERY_STATUS INFO of the document (a TAP service may put one after the table)."""
    return [info for info in votable.iter_info() if info.name == "QUERY_STATUS"]


def _page_text(body: bytes) -> str:
    """The words of a web page, without its markup, shortened."""
    text = re.sub(r"(?s)<(script|style).*?</\1>|<[^>]+>", " ", body.decode("utf-8", "replace"))
    text = " ".join(text.split())
    return text if len(text) <= 200 else text[:197] + "..."


def add_offline_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--offline",
        action="store_true",
        help="answer from the cache only, sending nothing (also $XRAY_ARCHIVE_OFFLINE=1)",
    )


def settings_from_args(args: argparse.Namespace) -> ArchiveSettings:
    """The archive settings, offline when --offline says so."""
    settings = archive_settings()
    return dataclasses.replace(settings, offline=True) if args.offline else settings


def write_parquet(table: pa.Table, path: Path) -> None:
    """Write `table` to `path`, replacing an existing file only once the new one is complete."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
    pq.write_table(table, partial)
    partial.replace(path)
