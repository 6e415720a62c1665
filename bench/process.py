"""Running a benchmarked command as a process of its own: wall time, CPU time and peak
memory, and (optionally) a memory timeline sampled while it runs.

Peak RSS is wait4's ru_maxrss: the largest resident set of any single process in the
tree (the command and every descendant it waited for), not their sum. The timeline
samples /proc every SAMPLE_SECONDS for the sum and the largest process of the tree, so
that peaks can be laid against what was running then.
"""

from __future__ import annotations

import contextlib
import os
import signal
import statistics
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from clustering.threads import THREAD_VARIABLES

REPO_ROOT = Path(__file__).resolve().parent.parent
SAMPLE_SECONDS = 0.5
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")
MIB = 1024 * 1024


def bench_environment() -> dict[str, str]:
    """What every benchmarked command runs with: this environment without make's own
    variables (a `make build` started from a benchmark behaves as one started by hand) and
    without thread settings (each command sets its own), and never the real warehouse."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", *THREAD_VARIABLES)
    }
    environment.update(
        XRAY_WAREHOUSE=str(REPO_ROOT / "build" / "bench" / "unused.duckdb"),
        DBT_PROFILES_DIR=str(REPO_ROOT),
        DBT_PROJECT_DIR=str(REPO_ROOT),
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
    )
    return environment


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages."""
    return list(os.getloadavg())


def format_load(values: list[float]) -> str:
    return "/".join(f"{value:.2f}" for value in values)


def spread(values: list[float]) -> dict[str, float]:
    """Median, min and max of repeated measurements."""
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def format_spread(figure: dict[str, float], spec: str = ".1f", unit: str = "") -> str:
    """A spread as median (min-max)."""
    low, high = format(figure["min"], spec), format(figure["max"], spec)
    return f"{figure['median']:{spec}}{unit} ({low}-{high}{unit})"


@dataclass(frozen=True)
class MemorySample:
    """The tree's resident memory at one moment (seconds since the command started)."""

    seconds: float
    largest_mib: float
    total_mib: float


@dataclass
class Measurement:
    seconds: float
    cpu_seconds: float
    peak_rss_mib: float
    exit_code: int
    # Wall-clock time (time.time()) at the start, to lay the samples against logs.
    started_at: float
    # What stopped the command before it ended: "the timeout", "the memory ceiling".
    stopped_by: str | None = None
    memory: list[MemorySample] = field(default_factory=list)


def measure(
    command: list[str],
    env: dict[str, str] | None = None,
    log: Path | None = None,
    timeout: float | None = None,
    sample_memory: bool = False,
    memory_ceiling_mib: float | None = None,
) -> Measurement:
    """Run `command` from the repository root, output to `log` (else inherited), to
    completion, or until `timeout` seconds or until its tree's resident memory passes
    `memory_ceiling_mib` (sampled; on a shared machine, before it starves the others):
    then its whole process group is stopped."""
    if log:
        log.parent.mkdir(parents=True, exist_ok=True)
    output = log.open("w") if log else None
    sampler = None
    try:
        started_at, started = time.time(), time.perf_counter()
        process = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT if output else None,
            # its own group, so that a limit stops make, dbt and all they started
            start_new_session=bool(timeout or memory_ceiling_mib),
        )
        stopped_by: list[str] = []

        def stop(reason: str) -> None:
            stopped_by.append(reason)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)

        timer = threading.Timer(timeout, stop, ("the timeout",)) if timeout else None
        if timer:
            timer.start()
        if sample_memory or memory_ceiling_mib:
            sampler = _MemorySampler(process.pid, started, memory_ceiling_mib, stop)
            sampler.start()
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        if timer:
            timer.cancel()
    finally:
        if sampler:
            sampler.stop()
        if output:
            output.close()
    process.returncode = os.waitstatus_to_exitcode(status)
    return Measurement(
        seconds=seconds,
        cpu_seconds=usage.ru_utime + usage.ru_stime,
        # Linux reports ru_maxrss in KiB
        peak_rss_mib=usage.ru_maxrss / 1024,
        exit_code=process.returncode,
        started_at=started_at,
        stopped_by=stopped_by[0] if stopped_by else None,
        memory=sampler.samples if sampler else [],
    )


def require_success(measurement: Measurement, what: str, log: Path | None) -> Measurement:
    """The measurement of a command that succeeded; else stop, with the end of its log."""
    if measurement.exit_code != 0:
        tail = log.read_text()[-4000:] if log and log.exists() else ""
        where = f"; its output is in {log}" if log else ""
        raise SystemExit(f"{tail}\n{what} failed (exit {measurement.exit_code}){where}")
    return measurement


class _MemorySampler(threading.Thread):
    """Samples the resident memory of a process tree until stopped; calls `stop` once if
    the tree's total passes `ceiling_mib`."""

    def __init__(
        self,
        root: int,
        started: float,
        ceiling_mib: float | None,
        stop: Callable[[str], None],
    ):
        super().__init__(daemon=True)
        self.root, self.started = root, started
        self.ceiling_mib, self.stop_command = ceiling_mib, stop
        self.samples: list[MemorySample] = []
        self._stopped = threading.Event()

    def run(self) -> None:
        while not self._stopped.wait(SAMPLE_SECONDS):
            sizes = [_rss_bytes(pid) for pid in _tree(self.root)]
            if not sizes:
                continue
            sample = MemorySample(
                time.perf_counter() - self.started, max(sizes) / MIB, sum(sizes) / MIB
            )
            self.samples.append(sample)
            if self.ceiling_mib and sample.total_mib > self.ceiling_mib:
                self.stop_command("the memory ceiling")
                self.ceiling_mib = None

    def stop(self) -> None:
        self._stopped.set()
        self.join()


def _tree(root: int) -> list[int]:
    """root and its descendants, from every process's parent in /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                # the parent follows the command, which is in parentheses and may hold spaces
                stat = Path(entry.path, "stat").read_text()
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(entry.name))
    tree, pending = [], [root]
    while pending:
        pid = pending.pop()
        tree.append(pid)
        pending += children.get(pid, [])
    return tree


def _rss_bytes(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_BYTES
    except (OSError, IndexError):
        return 0
