"""A local stand-in for the CSC TAP service and CDS X-Match, serving recorded responses.

It listens on 127.0.0.1 and answers real HTTP, implementing just what the fetchers use:

- TAP (base path /csc21tap): POST /csc21tap/sync with the form fields REQUEST=doQuery,
  LANG=ADQL, QUERY, ... answers 303 to /csc21tap/sync/results/<n>, whose GET returns the
  VOTable, as the CSC service does;
- X-Match (base path /xmatch/api/v1/sync): GET .../tables?action=getVizieRTableNames
  returns the table-name list; a multipart POST (request=xmatch, cat1 = the uploaded CSV,
  cat2, distMaxArcsec, colRA1, colDec1, RESPONSEFORMAT) returns the VOTable.

Responses are looked up in index.json by the request's identifying fields (the ADQL text,
or the upload and match parameters). Every request is logged, faults (an HTTP status, a
delay longer than the client's timeout) can be injected, and in record mode requests are
forwarded to the real services and their answers saved as new recordings (record.py).

The scenario constants below are the requests the recordings answer: the tests and
record.py both run exactly these.
"""

from __future__ import annotations

import email.parser
import email.policy
import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import requests

RECORDINGS = Path(__file__).resolve().parent
TAP_PATH = "/csc21tap"
XMATCH_PATH = "/xmatch/api/v1/sync"
VOTABLE_CONTENT_TYPE = "application/x-votable+xml"
# Fields of an X-Match request that decide its answer (RESPONSEFORMAT is always votable).
XMATCH_REQUEST_FIELDS = ("cat1", "cat2", "distMaxArcsec", "colRA1", "colDec1")

# The recorded scenarios.
# A cone in the Extended Groth Strip, fetched in 0.1-degree declination strips.
EGS_CONE = (214.5, 52.67, 0.1)
CONE_STRIP_DEGREES = 0.1
# Source names (one not in the catalogue), two per request.
NAMES = (
    "2CXO J001954.3+155741",
    "2CXO J012450.8+032734",
    "2CXO J083926.9+294213",
    "2CXO J235959.9+000000",
)
NAMES_PER_CHUNK = 2
# The cone's detections crossmatched with SIMBAD, 10 detections per upload.
XMATCH_ROWS_PER_CHUNK = 10
XMATCH_RADIUS_ARCSEC = 3.0


def scenario_environment(tap_url: str, xmatch_url: str, cache_dir: Path) -> dict[str, str]:
    """The settings (environment variables of ingest.config) the scenarios run with."""
    return {
        "XRAY_CSC_TAP_URL": tap_url,
        "XRAY_XMATCH_URL": xmatch_url,
        "XRAY_ARCHIVE_CACHE": str(cache_dir),
        "XRAY_CSC_DEC_STRIP_DEG": str(CONE_STRIP_DEGREES),
        "XRAY_CSC_NAMES_PER_CHUNK": str(NAMES_PER_CHUNK),
        "XRAY_XMATCH_ROWS_PER_CHUNK": str(XMATCH_ROWS_PER_CHUNK),
    }


def normalized_query(adql: str) -> str:
    return " ".join(adql.split())


def request_key(service: str, fields: dict[str, str]) -> dict[str, str]:
    """The fields of a request that decide its answer, as index.json stores them."""
    if service == "csc_tap":
        return {"QUERY": normalized_query(fields.get("QUERY", ""))}
    return {name: fields.get(name, "").replace("\r\n", "\n") for name in XMATCH_REQUEST_FIELDS}


@dataclass(frozen=True)
class LoggedRequest:
    service: str  # "csc_tap" or "xmatch"
    kind: str  # "query", "results" (TAP redirect target) or "tables" (X-Match list)
    fields: dict[str, str]


@dataclass
class Fault:
    """Answer matching requests with `status` and `body` (after `delay_seconds`) instead of
    the recording.

    With status None the recorded answer is sent after the delay: a delay longer than the
    client's timeout is a timeout. `times` limits how many requests the fault affects.
    """

    service: str
    matches: Callable[[dict[str, str]], bool] = lambda fields: True
    kind: str = "query"
    status: int | None = 503
    body: bytes = b"<html><body><h1>503 Service Unavailable</h1></body></html>"
    content_type: str = "text/html"
    delay_seconds: float = 0.0
    times: int | None = None
    hits: int = 0


@dataclass
class Recording:
    service: str
    request: dict[str, str]
    response: str  # a file, relative to the recordings directory


@dataclass
class ArchiveReplayServer:
    """Run with `with ArchiveReplayServer() as server:`; `server.tap_url`, `server.xmatch_url`.

    Replays the recordings in `directory`; given the upstream URLs, records into it instead.
    """

    directory: Path = RECORDINGS
    upstream_tap_url: str | None = None
    upstream_xmatch_url: str | None = None
    scenario: str = "recording"
    requests: list[LoggedRequest] = field(default_factory=list)
    unmatched: list[LoggedRequest] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.recording_mode = self.upstream_tap_url is not None
        if self.recording_mode:
            self.recordings: list[Recording] = []
            self.xmatch_tables_file = "xmatch/vizier_table_names.txt"
        else:
            index = json.loads((self.directory / "index.json").read_text())
            self.recordings = [Recording(**entry) for entry in index["exchanges"]]
            self.xmatch_tables_file = index["xmatch_tables"]
        self._results: dict[str, tuple[str, bytes]] = {}
        self._result_numbers = itertools.count(1)
        self._response_numbers: dict[str, itertools.count] = {}
        self._lock = threading.Lock()
        self._http = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._http.daemon_threads = True
        # shutdown() waits for serve_forever's next poll: its 0.5 s default, once per test.
        self._thread = threading.Thread(
            target=self._http.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._http.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def tap_url(self) -> str:
        return self.base_url + TAP_PATH

    @property
    def xmatch_url(self) -> str:
        return self.base_url + XMATCH_PATH

    def __enter__(self) -> ArchiveReplayServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._http.shutdown()
        self._http.server_close()

    def queries(self, service: str) -> list[dict[str, str]]:
        """The fields of every query request (not redirects or table lists) to `service`."""
        return [r.fields for r in self.requests if r.service == service and r.kind == "query"]

    def save_index(self) -> None:
        """Write index.json from the exchanges recorded in this session."""
        exchanges = [
            {"service": r.service, "request": r.request, "response": r.response}
            for r in self.recordings
        ]
        text = json.dumps(
            {"xmatch_tables": self.xmatch_tables_file, "exchanges": exchanges}, indent=1
        )
        (self.directory / "index.json").write_text(text + "\n")

    # Called from the handler threads.

    def answer(self, service: str, kind: str, fields: dict[str, str]) -> tuple[int, str, bytes]:
        """(status, content type, body) for a request; faults first, then the recordings."""
        logged = LoggedRequest(service, kind, fields)
        with self._lock:
            self.requests.append(logged)
            fault = self._active_fault(service, kind, fields)
        if fault:
            time.sleep(fault.delay_seconds)
            if fault.status is not None:
                return fault.status, fault.content_type, fault.body
        if kind == "results":
            return 200, *self._results[fields["result"]]
        if kind == "tables":
            if self.recording_mode:
                self._record_table_names()
            return 200, "text/plain", (self.directory / self.xmatch_tables_file).read_bytes()
        key = request_key(service, fields)
        with self._lock:
            recording = next(
                (r for r in self.recordings if r.service == service and r.request == key), None
            )
        if recording is None and self.recording_mode:
            recording = self._record(service, fields, key)
        if recording is None:
            with self._lock:
                self.unmatched.append(logged)
            return 400, "text/plain", f"no recording for this request: {key}".encode()
        return 200, VOTABLE_CONTENT_TYPE, (self.directory / recording.response).read_bytes()

    def store_result(self, content_type: str, body: bytes) -> str:
        with self._lock:
            number = str(next(self._result_numbers))
            self._results[number] = (content_type, body)
        return number

    def _active_fault(self, service: str, kind: str, fields: dict[str, str]) -> Fault | None:
        for fault in self.faults:
            exhausted = fault.times is not None and fault.hits >= fault.times
            applies = fault.service == service and fault.kind == kind
            if applies and not exhausted and fault.matches(fields):
                fault.hits += 1
                return fault
        return None

    def _record(self, service: str, fields: dict[str, str], key: dict[str, str]) -> Recording:
        if service == "csc_tap":
            response = requests.post(
                self.upstream_tap_url + "/sync", data=fields, timeout=600, allow_redirects=True
            )
        else:
            form = {name: value for name, value in fields.items() if name != "cat1"}
            response = requests.post(
                self.upstream_xmatch_url,
                data=form,
                files={"cat1": ("cat1.csv", fields["cat1"])},
                timeout=600,
            )
        response.raise_for_status()
        with self._lock:
            numbers = self._response_numbers.setdefault(
                f"{service}/{self.scenario}", itertools.count(1)
            )
            name = f"{service}/{self.scenario}-{next(numbers)}.vot"
            (self.directory / name).parent.mkdir(parents=True, exist_ok=True)
            (self.directory / name).write_bytes(response.content)
            recording = Recording(service, key, name)
            self.recordings.append(recording)
        return recording

    def _record_table_names(self) -> None:
        """Save the part of the service's table list the client needs: it only looks for
        'simbad' in it, and the full list (every VizieR table) is megabytes."""
        response = requests.get(
            self.upstream_xmatch_url + "/tables",
            params={"action": "getVizieRTableNames", "RESPONSEFORMAT": "txt"},
            timeout=600,
        )
        response.raise_for_status()
        names = response.text.splitlines()
        kept = [n for n in names if n == "simbad"] + [n for n in names if n != "simbad"][:20]
        path = self.directory / self.xmatch_tables_file
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(kept) + "\n")


def _handler_for(server: ArchiveReplayServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the server's request log is what tests inspect."""

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            if url.path.startswith(f"{TAP_PATH}/sync/results/"):
                result = url.path.rsplit("/", 1)[1]
                self._send(*server.answer("csc_tap", "results", {"result": result}))
            elif url.path == f"{XMATCH_PATH}/tables":
                fields = {k: v[0] for k, v in parse_qs(url.query).items()}
                self._send(*server.answer("xmatch", "tables", fields))
            else:
                self._send(404, "text/plain", b"not found")

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            content_type = self.headers.get("Content-Type", "")
            path = urlsplit(self.path).path
            if path == f"{TAP_PATH}/sync":
                fields = {k: v[0] for k, v in parse_qs(body.decode()).items()}
                status, content_type, payload = server.answer("csc_tap", "query", fields)
                if status == 200:
                    # The CSC service answers a sync query with a redirect to its result.
                    result = server.store_result(content_type, payload)
                    location = f"{server.tap_url}/sync/results/{result}"
                    self.send_response(303)
                    self.send_header("Location", location)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self._send(status, content_type, payload)
            elif path == XMATCH_PATH:
                self._send(*server.answer("xmatch", "query", _multipart(content_type, body)))
            else:
                self._send(404, "text/plain", b"not found")

        def _send(self, status: int, content_type: str, body: bytes) -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (a timeout test): nothing to answer

    return Handler


def _multipart(content_type: str, body: bytes) -> dict[str, str]:
    """The fields of a multipart/form-data body (files as their text content)."""
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body
    )
    return {
        part.get_param("name", header="content-disposition"): part.get_payload(decode=True).decode()
        for part in message.iter_parts()
    }
