"""Building the warehouse so that nothing is lost or mixed: `make build` and
`make install-build`.

A build
  1. takes the build lock of the warehouse (`<warehouse>.lock`, held by the build and by
     every process it starts, so a build killed half-way still holds it until its
     children end): a second build of the same warehouse waits, naming the first;
  2. loads the inputs into its scratch file (`<warehouse>.building`, which only the lock
     holder touches) and runs `dbt build` on it, every data test included;
  3. installs it: the scratch file replaces the warehouse in one rename, and the
     replaced warehouse stays as `<warehouse>.previous` (a process reading it keeps
     reading it). Not while another process holds the warehouse open read-write (a
     `duckdb` shell, a Python connection): moving a file under a writer would lose its
     writes, so the build is kept as `<warehouse>.pending`, and `make install-build`
     installs it once the writer has closed.
A failed load leaves everything as it was; a failed `dbt build` keeps its file as
`<warehouse>.failed` for inspection.
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from warehouse.holders import holders, writer_holds

BIN = Path(sys.executable).parent
REPO_ROOT = Path(__file__).resolve().parent.parent
# Exit statuses beside 0 (installed): the input was refused (as `python -m ingest`), the
# build failed, the build succeeded but waits to be installed.
BAD_INPUT, BUILD_FAILED, NOT_INSTALLED = 2, 1, 3


@dataclass(frozen=True)
class WarehouseFiles:
    """The warehouse file and the files a build keeps beside it."""

    warehouse: Path

    def beside(self, suffix: str) -> Path:
        return self.warehouse.with_name(self.warehouse.name + suffix)

    @property
    def scratch(self) -> Path:
        return self.beside(".building")

    @property
    def failed(self) -> Path:
        return self.beside(".failed")

    @property
    def pending(self) -> Path:
        return self.beside(".pending")

    @property
    def previous(self) -> Path:
        return self.beside(".previous")

    @property
    def lock(self) -> Path:
        return self.beside(".lock")


def wal(path: Path) -> Path:
    """DuckDB's write-ahead log of a database file."""
    return path.with_name(path.name + ".wal")


def remove_database(path: Path) -> None:
    for file in (path, wal(path)):
        file.unlink(missing_ok=True)


def move_database(source: Path, target: Path) -> None:
    """Rename a database file and its write-ahead log (if any) together."""
    wal(target).unlink(missing_ok=True)
    if wal(source).exists():
        wal(source).replace(wal(target))
    source.replace(target)


class BuildLock:
    """The exclusive build lock of one warehouse; its file says who holds it."""

    def __init__(self, files: WarehouseFiles, description: str):
        self.path = files.lock
        self.description = description
        self.fd: int | None = None

    def acquire(self, wait: bool) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = self._holder()
            if not wait:
                raise SystemExit(
                    f"another build is running on {self.path.parent}: {holder}; it was not"
                    " interrupted. Run again when it has finished."
                ) from None
            print(f"waiting for another build to finish: {holder}", flush=True)
            fcntl.flock(self.fd, fcntl.LOCK_EX)
        os.ftruncate(self.fd, 0)
        record = {"pid": os.getpid(), "started": datetime.now().isoformat(timespec="seconds")}
        os.write(self.fd, json.dumps({**record, "build": self.description}).encode())

    def _holder(self) -> str:
        try:
            record = json.loads(self.path.read_text() or "{}")
        except (OSError, ValueError):
            return "(unknown build)"
        return (
            f"build PID {record.get('pid')} (or the dbt it started), started"
            f" {record.get('started')}, {record.get('build')}"
        )

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def install(scratch: Path, files: WarehouseFiles) -> bool:
    """Move a finished build into place; False (and the build kept as pending) when another
    process holds the warehouse open read-write."""
    warehouse = files.warehouse
    if not warehouse.exists():
        # A log without its database would be replayed onto the new file: set it aside.
        if wal(warehouse).exists():
            wal(warehouse).replace(wal(files.previous))
        scratch.replace(warehouse)
        return True
    fd = os.open(warehouse, os.O_RDONLY)
    try:
        if writer_holds(fd):
            if scratch != files.pending:
                move_database(scratch, files.pending)
            writers = [holder for holder in holders(warehouse) if holder.writes]
            who = "; ".join(map(str, writers)) or "another process"
            print(
                f"not installed: {warehouse} is open read-write by {who}. Installing now"
                f" would lose that connection's writes. The new build is kept as"
                f" {files.pending}: close that connection (or open the shell read-only,"
                f" `make shell`), then run `make install-build`.",
                file=sys.stderr,
            )
            return False
        # Our read lock keeps writers out while the files move. The replaced warehouse,
        # with any log it has not yet checkpointed, becomes the previous one; readers
        # keep reading it.
        previous_link = files.beside(f".previous.{os.getpid()}")
        os.link(warehouse, previous_link)
        move_database(previous_link, files.previous)
        if wal(warehouse).exists():
            wal(warehouse).replace(wal(files.previous))
        scratch.replace(warehouse)
    finally:
        os.close(fd)
    return True


def checkpointed(database: Path) -> None:
    """Fold the write-ahead log into the file, so the file alone is the whole database."""
    with duckdb.connect(str(database)) as connection:
        connection.execute("checkpoint")


@dataclass(frozen=True)
class BuildRequest:
    files: WarehouseFiles
    # `python -m ingest` arguments (a `files` or `demo` subcommand) with the scratch file
    # given by --db.
    ingest_arguments: list[str]
    dbt_vars: str | None
    wait: bool


def run_build(request: BuildRequest) -> int:
    files = request.files
    lock = BuildLock(files, " ".join(request.ingest_arguments))
    lock.acquire(request.wait)
    try:
        remove_database(files.scratch)
        # Children inherit the lock's descriptor: killed half-way, the build still holds
        # the lock until they have ended too.
        children = {"pass_fds": (lock.fd,), "cwd": REPO_ROOT}
        ingest = [str(BIN / "python"), "-m", "ingest", *request.ingest_arguments]
        if subprocess.run([*ingest, "--db", str(files.scratch)], **children).returncode:
            remove_database(files.scratch)
            print(f"nothing was built: {files.warehouse} is unchanged", file=sys.stderr)
            return BAD_INPUT
        dbt = [str(BIN / "dbt"), "build"]
        if request.dbt_vars:
            dbt += ["--vars", request.dbt_vars]
        environment = {**os.environ, "XRAY_WAREHOUSE": str(files.scratch)}
        started = time.perf_counter()
        if subprocess.run(dbt, env=environment, **children).returncode:
            move_database(files.scratch, files.failed)
            print(
                f"dbt build failed: {files.warehouse} is unchanged; the failed build is"
                f" {files.failed}",
                file=sys.stderr,
            )
            return BUILD_FAILED
        checkpointed(files.scratch)
        if not install(files.scratch, files):
            return NOT_INSTALLED
        # A build kept waiting earlier is superseded by this one.
        remove_database(files.pending)
        print(
            f"warehouse ready: {files.warehouse} (dbt build {time.perf_counter() - started:.0f} s;"
            " make shell, make tables)"
        )
        return 0
    finally:
        lock.release()


def install_pending(files: WarehouseFiles) -> int:
    """`make install-build`: install the build a held warehouse kept waiting."""
    lock = BuildLock(files, "install-build")
    lock.acquire(wait=True)
    try:
        if not files.pending.exists():
            print(f"no pending build: {files.pending} does not exist", file=sys.stderr)
            return BAD_INPUT
        if not install(files.pending, files):
            return NOT_INSTALLED
        print(f"installed {files.pending} as {files.warehouse}")
        return 0
    finally:
        lock.release()
