"""Builds that lose nothing and mix nothing: a build beside an open read-write connection
(kept pending, installed later), beside a reader and another build (waits, then installs
without disturbing the reader), killed half-way (nothing changed; the next build is
clean), on a full disk; the same input built twice gives the same tables; make variables
are plain arguments. Real `make build`s of a small input, from a path with a space and a
quote."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import duckdb
import pytest
from support import REPO_ROOT, build_variables, make, make_arguments, make_build, make_command

from warehouse.build import WarehouseFiles
from warehouse.compare import VOLATILE_COLUMNS, compare

N_DETECTIONS = 150


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def detection_count(warehouse: Path) -> int:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return connection.execute("select count(*) from detections").fetchone()[0]


@pytest.fixture(scope="module")
def small_input(demo_warehouse, tmp_path_factory) -> Path:
    """The first detections of the demo (every column), and their SIMBAD objects, as CSV
    files in a directory whose name has a space and whose file name has a quote."""
    directory = tmp_path_factory.mktemp("inputs") / "my data"
    directory.mkdir()
    detections = directory / "it's small.csv"
    with duckdb.connect(str(demo_warehouse), read_only=True) as connection:
        connection.execute(
            f"copy (select * from raw.csc_detections order by name, obsid, region_id"
            f" limit {N_DETECTIONS}) to '{str(detections).replace(chr(39), chr(39) * 2)}'"
        )
    return detections


@pytest.fixture(scope="module")
def built(small_input, tmp_path_factory) -> Path:
    """A warehouse built from the small input (the reference for the tests below)."""
    warehouse = tmp_path_factory.mktemp("built") / "warehouse.duckdb"
    make_build(warehouse, detections=small_input)
    return warehouse


def copy_of(built: Path, tmp_path: Path) -> Path:
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(built, warehouse)
    return warehouse


def start_build(warehouse: Path, **inputs) -> subprocess.Popen:
    """`make build` in the background, in a process group of its own (so a test can stop
    it, and only it, by its group id)."""
    return subprocess.Popen(
        make_command("build", **build_variables(warehouse, **inputs)),
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def wait_for_line(build: subprocess.Popen, text: str, timeout: float = 120) -> list[str]:
    lines, deadline = [], time.monotonic() + timeout
    for line in build.stdout:
        lines.append(line)
        if text in line:
            return lines
        assert time.monotonic() < deadline, f"no {text!r} in:\n{''.join(lines)}"
    raise AssertionError(f"the build ended without {text!r}:\n{''.join(lines)}")


def test_a_build_from_a_path_with_a_space_and_a_quote_loads_it(built, small_input):
    with duckdb.connect(str(built), read_only=True) as connection:
        files = connection.execute("select file from raw.load_log").fetchall()
    assert files == [(str(small_input.resolve()),)]
    assert detection_count(built) == N_DETECTIONS


def take_build_lock(files: WarehouseFiles) -> int:
    """Hold the warehouse's build lock, as a first build running on it would."""
    lock = os.open(files.lock, os.O_RDWR | os.O_CREAT)
    fcntl.flock(lock, fcntl.LOCK_EX)
    os.ftruncate(lock, 0)
    os.write(lock, json.dumps({"pid": os.getpid(), "started": "now", "build": "first"}).encode())
    return lock


def test_killed_builds_change_nothing_and_a_waiting_build_keeps_a_writers_writes(
    built, small_input, tmp_path
):
    """One warehouse through every hazard, with one more build: killed while loading the
    demo and while dbt builds (nothing changes); then, while a first build holds the lock
    (this test takes it) and a connection holds the warehouse read-write, a second build
    waits, builds cleanly, and keeps its result pending rather than move the file under the
    writer; installed once the writer has closed, beside a reader that keeps its view."""
    warehouse = copy_of(built, tmp_path)
    files = WarehouseFiles(warehouse)
    before = sha256(warehouse)
    build = start_build(warehouse)
    wait_for_line(build, "-m warehouse build")
    time.sleep(1.0)
    os.killpg(build.pid, signal.SIGKILL)
    build.wait()
    assert sha256(warehouse) == before
    build = start_build(warehouse, detections=small_input)
    wait_for_line(build, "START sql table model")
    os.killpg(build.pid, signal.SIGKILL)
    build.wait()
    assert sha256(warehouse) == before

    lock = take_build_lock(files)
    stopped = make_build(warehouse, check=False, detections=small_input, nowait=1)
    assert stopped.returncode != 0
    assert f"another build is running on {tmp_path}: build PID {os.getpid()}" in stopped.stderr
    writer = duckdb.connect(str(warehouse))
    writer.execute("create table my_notes as select 'keep me' as note")
    # Only stat the file from here on: closing any descriptor of it this process opened
    # would drop the writer's lock (POSIX record locks are per process).
    held = os.stat(warehouse)
    build = start_build(warehouse, detections=small_input)
    try:
        wait_for_line(build, f"waiting for another build to finish: build PID {os.getpid()}")
        time.sleep(1)
        assert not files.pending.exists()  # nothing happens while the first build runs
    finally:
        os.close(lock)
    output = build.communicate(timeout=300)[0]
    assert build.returncode != 0
    assert f"is open read-write by PID {os.getpid()}" in output
    assert "make install-build" in output and "make shell" in output
    assert files.pending.exists()
    assert os.stat(warehouse).st_ino == held.st_ino  # not moved under the writer
    writer.execute("insert into my_notes values ('and me')")
    writer.close()
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        assert connection.execute("select count(*) from my_notes").fetchone()[0] == 2
    # The same input built twice: the same tables, timestamps and measured times aside.
    assert compare(built, files.pending, {}, VOLATILE_COLUMNS, tolerance=None) == []

    reader = duckdb.connect(str(warehouse), read_only=True)
    installed = make("install-build", xray_warehouse=warehouse)
    assert "installed" in installed.stdout and not files.pending.exists()
    # The reader still reads the warehouse it opened, with the writer's table; a new
    # connection reads the new one; the replaced one is kept.
    assert reader.execute("select count(*) from my_notes").fetchone()[0] == 2
    reader.close()
    assert compare(built, warehouse, {}, VOLATILE_COLUMNS, tolerance=None) == []
    with duckdb.connect(str(files.previous), read_only=True) as connection:
        assert connection.execute("select count(*) from my_notes").fetchone()[0] == 2


@pytest.fixture
def small_disk(tmp_path):
    """A 24 MB tmpfs mounted for the test, or skip where mounting is not allowed."""
    mount_point = tmp_path / "small disk"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    yield mount_point
    subprocess.run(["umount", str(mount_point)], check=True)


def test_a_full_disk_fails_the_build_and_changes_nothing(built, small_disk):
    warehouse = small_disk / "warehouse.duckdb"
    shutil.copy(built, warehouse)
    # Fill the disk but for a few hundred kilobytes: the build's scratch copy cannot fit.
    free = shutil.disk_usage(small_disk).free
    (small_disk / "filler").write_bytes(b"\0" * max(0, free - 300_000))
    before = sha256(warehouse)
    result = make_build(warehouse, check=False)
    assert result.returncode != 0
    assert "No space left on device" in result.stdout + result.stderr
    assert sha256(warehouse) == before


def test_make_variables_are_plain_arguments(tmp_path):
    """Shell syntax in a value runs nothing. (A make variable's value is make syntax: `$$`
    on make's command line is a `$` for the program.)"""
    hostile = f"{tmp_path}/x; touch PWNED $(touch PWNED2) `touch PWNED3`.csv"
    [build] = make_arguments(tmp_path, "build", detections=hostile.replace("$", "$$"))
    assert build[build.index("--detections") + 1] == hostile
    [report] = make_arguments(
        tmp_path, "report", run="gmm6_allvar; touch PWNED5", family="YSO'; touch PWNED6"
    )
    assert report[report.index("--run") + 1] == "gmm6_allvar; touch PWNED5"
    assert report[report.index("--family") + 1] == "YSO'; touch PWNED6"
    assert make_arguments(tmp_path, "tables", run="x' \"; touch PWNED7") == [
        ["python", "-m", "report.tables", "--run", "x' \"; touch PWNED7"]
    ]
    for directory in (tmp_path, REPO_ROOT):
        assert not list(directory.glob("PWNED*"))


def test_the_modules_tests_run_on_one_worker(request):
    """Under pytest-xdist's --dist loadgroup (README's test command) the tests of a group
    share one worker and so one build of their fixtures: their node ids carry the group
    (pytest 9.2 dropped that tag, scattering every group and doubling its builds)."""
    if not getattr(request.config.option, "loadgroup", False):
        pytest.skip("not run by a pytest-xdist worker with --dist loadgroup")
    assert request.node.nodeid.endswith("@reliability")
