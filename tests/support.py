"""Helpers for tests that run the real tools (dbt, make, the duckdb CLI), and the project
facts tests share: its dbt vars, the test warehouses' vars, detection ids."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import duckdb
import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
# The vars every test warehouse is built with (small k scan and stability settings).
TEST_VARS_FILE = REPO_ROOT / "tests" / "dbt_test_vars.yml"
# dbt's target and logs for the tests' in-process runs: one manifest, parsed once per
# worker process (pytest-xdist's workers each have their own).
TEST_DBT_DIR = (
    REPO_ROOT / "build" / "test" / "dbt-in-process" / os.environ.get("PYTEST_XDIST_WORKER", "main")
)


@cache
def project_vars() -> dict:
    """The vars of dbt_project.yml: what `make build` uses."""
    return yaml.safe_load((REPO_ROOT / "dbt_project.yml").read_text())["vars"]


@cache
def vars_of_test_warehouses() -> dict:
    """The vars a test warehouse is built with: the project's, overridden by the test file's."""
    return {**project_vars(), **yaml.safe_load(TEST_VARS_FILE.read_text())}


def detection_ids(connection: duckdb.DuckDBPyConnection, name, obsid, region_id) -> list[str]:
    """Detection ids of the given key columns, by the warehouse's own macro (the one
    definition staging uses), on a connection to a built warehouse."""
    keys = {"name": list(name), "obsid": list(obsid), "region_id": list(region_id)}
    return [
        row[0]
        for row in connection.execute(
            "select main.detection_id(k.name, k.obsid, k.region_id)"
            " from (select unnest($name) as name, unnest($obsid) as obsid,"
            " unnest($region_id) as region_id) as k",
            keys,
        ).fetchall()
    ]


@dataclass(frozen=True)
class DbtRun:
    success: bool
    # Every message dbt logged, one per line, as its console shows them.
    log: str


@cache
def _parsed_manifest():
    """The project parsed once for every in-process run (warehouse files are all named
    warehouse.duckdb, so every run compiles alike)."""
    from dbt.cli.main import dbtRunner

    result = dbtRunner().invoke(["parse", *_dbt_options()])
    assert result.success, result.exception
    return result.result


def _dbt_options(extra_vars: dict | None = None) -> list[str]:
    dbt_vars = {**yaml.safe_load(TEST_VARS_FILE.read_text()), **(extra_vars or {})}
    return [
        "--project-dir", str(REPO_ROOT),
        "--profiles-dir", str(REPO_ROOT),
        "--target-path", str(TEST_DBT_DIR / "target"),
        "--log-path", str(TEST_DBT_DIR / "logs"),
        "--vars", yaml.safe_dump(dbt_vars),
    ]  # fmt: skip


def run_dbt(
    args: list[str], warehouse: Path, check: bool = True, extra_vars: dict | None = None
) -> DbtRun:
    """Run dbt in this process on `warehouse`, with the test vars (and extra_vars); its log.

    In-process, on one parsed manifest: no interpreter start-up or parse per run (vars a
    model reads are rendered when it runs). With check=True a failing run raises
    AssertionError carrying dbt's log.
    """
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    from dbt.cli.main import dbtRunner

    assert warehouse.name == "warehouse.duckdb", "the shared manifest compiles for this name"
    saved = os.environ.get("XRAY_WAREHOUSE")
    os.environ.update(XRAY_WAREHOUSE=str(warehouse), DBT_SEND_ANONYMOUS_USAGE_STATS="false")
    messages: list[str] = []
    try:
        manifest = _parsed_manifest()
        runner = dbtRunner(manifest=manifest, callbacks=[lambda e: messages.append(e.info.msg)])
        result = runner.invoke([*args, *_dbt_options(extra_vars)])
    finally:
        # dbt-duckdb keeps its database open for the process's next run; close it, so
        # the file can be opened (read-only, by another process) as a build left it.
        if DuckDBConnectionManager._ENV is not None:
            DuckDBConnectionManager._ENV.close()
            DuckDBConnectionManager._ENV = None
        if saved is None:
            os.environ.pop("XRAY_WAREHOUSE")
        else:
            os.environ["XRAY_WAREHOUSE"] = saved
    run = DbtRun(success=bool(result.success), log="\n".join(map(str, messages)))
    if check and not run.success:
        raise AssertionError(f"dbt {' '.join(args)} failed:\n{run.log}\n{result.exception}")
    return run


def run_duckdb_cli(warehouse: Path, sql: str) -> subprocess.CompletedProcess[str]:
    """Run SQL through the duckdb shell (the same binary users get), CSV output."""
    return subprocess.run(
        [str(BIN / "duckdb"), "-csv", "-readonly", str(warehouse)],
        input=sql,
        capture_output=True,
        text=True,
        check=True,
    )


def make_command(target: str, **variables) -> list[str]:
    """The command line of `make TARGET NAME=value ...`; names are upper-cased."""
    return ["make", "--no-print-directory", target] + [
        f"{name.upper()}={value}" for name, value in variables.items()
    ]


def make(target: str, check: bool = True, **variables) -> subprocess.CompletedProcess[str]:
    """`make TARGET NAME=value ...` from the repository root."""
    result = subprocess.run(
        make_command(target, **variables), cwd=REPO_ROOT, capture_output=True, text=True
    )
    if check and result.returncode != 0:
        raise AssertionError(f"make {target} failed:\n{result.stdout}\n{result.stderr}")
    return result


def build_variables(warehouse: Path, **inputs) -> dict:
    """The make variables of a test build into `warehouse`: the test vars, the demo and
    dbt's state beside the warehouse, inputs as given (detections=..., ...)."""
    return {
        "xray_warehouse": warehouse,
        "vars_file": TEST_VARS_FILE,
        "demo_dir": warehouse.parent / "demo",
        "dbt_target_path": warehouse.parent / "dbt-target",
        "dbt_log_path": warehouse.parent / "dbt-logs",
        **inputs,
    }


def make_build(warehouse: Path, check: bool = True, **inputs) -> subprocess.CompletedProcess[str]:
    """`make build` into `warehouse` with the test vars (build_variables)."""
    return make("build", check=check, **build_variables(warehouse, **inputs))


def make_arguments(scratch: Path, target: str, **variables) -> list[list[str]]:
    """The commands `make TARGET NAME=value ...` runs from the virtual environment, each as
    its program's name and the arguments it receives: make runs stand-ins (in `scratch`)
    that record them instead of running anything."""
    stand_ins = scratch / "bin"
    stand_ins.mkdir(exist_ok=True)
    record = scratch / "commands.jsonl"
    record.unlink(missing_ok=True)
    for program in ("python", "dbt", "duckdb"):
        stand_in = stand_ins / program
        stand_in.write_text(
            f"#!{sys.executable}\nimport json, sys\n"
            f"open({str(record)!r}, 'a').write(json.dumps([{program!r}, *sys.argv[1:]]) + '\\n')\n"
        )
        stand_in.chmod(0o755)
    make(target, bin=stand_ins, xray_warehouse=REPO_ROOT / "warehouse.duckdb", **variables)
    return [json.loads(line) for line in record.read_text().splitlines()]


def readme_sql(section: str) -> list[str]:
    """The ```sql blocks of README.md between <!-- sql:section --> and <!-- /sql:section -->,
    so the README's examples are the ones the tests run."""
    readme = (REPO_ROOT / "README.md").read_text()
    start = readme.index(f"<!-- sql:{section} -->")
    end = readme.index(f"<!-- /sql:{section} -->", start)
    return re.findall(r"```sql\n(.*?)```", readme[start:end], re.DOTALL)
