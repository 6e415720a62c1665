"""Who holds a DuckDB file open, and how.

DuckDB locks its database file with POSIX record locks: a read-write connection holds a
write lock, a read-only one a read lock. Probing with a lock of our own tells whether a
writer (or any holder) is there; on Linux, /proc/locks also names the processes.
"""

from __future__ import annotations

import fcntl
import os
from dataclasses import dataclass
from pathlib import Path

PROC_LOCKS = Path("/proc/locks")


@dataclass(frozen=True)
class Holder:
    pid: int
    writes: bool
    command: str

    def __str__(self) -> str:
        return f"PID {self.pid} ({self.command})"


def holders(path: Path) -> list[Holder]:
    """The processes holding a lock on `path` (empty where /proc/locks is not available)."""
    if not path.exists() or not PROC_LOCKS.exists():
        return []
    status = path.stat()
    device = f"{os.major(status.st_dev):02x}:{os.minor(status.st_dev):02x}:{status.st_ino}"
    found: dict[int, bool] = {}
    for line in PROC_LOCKS.read_text().splitlines():
        fields = line.replace("->", "").split()
        # e.g. "1: POSIX  ADVISORY  WRITE 12345 fd:01:1234567 0 EOF"
        if len(fields) >= 6 and fields[5] == device and fields[4].lstrip("-").isdigit():
            pid = int(fields[4])
            if pid > 0 and pid != os.getpid():
                found[pid] = found.get(pid, False) or fields[3] == "WRITE"
    return [Holder(pid, writes, _command(pid)) for pid, writes in sorted(found.items())]


def _command(pid: int) -> str:
    try:
        arguments = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return "?"
    return " ".join(argument.decode(errors="replace") for argument in arguments if argument)[:80]


def writer_holds(fd: int) -> bool:
    """Whether another process holds a write lock on the open file `fd`: our read lock is
    refused then. Takes the read lock when it can (kept until `fd` is closed), which
    keeps any new writer out meanwhile."""
    try:
        fcntl.lockf(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return True
    return False
