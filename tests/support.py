"""Helpers for tests that run the real tools (dbt, the duckdb CLI) in a scratch directory."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def run_dbt(
    args: list[str], warehouse: Path, scratch: Path, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run the dbt CLI on `warehouse`, keeping dbt's target/ and logs/ inside `scratch`.

    With check=True a failing run raises AssertionError carrying dbt's output.
    """
    env = {
        **os.environ,
        "XRAY_WAREHOUSE": str(warehouse),
        "DBT_PROFILES_DIR": str(REPO_ROOT),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    result = subprocess.run(
        [
            str(BIN / "dbt"),
            *args,
            "--project-dir",
            str(REPO_ROOT),
            "--target-path",
            str(scratch / "target"),
            "--log-path",
            str(scratch / "logs"),
        ],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"dbt {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def run_duckdb_cli(warehouse: Path, sql: str) -> subprocess.CompletedProcess[str]:
    """Run SQL through the duckdb shell (the same binary users get), CSV output."""
    return subprocess.run(
        [str(BIN / "duckdb"), "-csv", "-readonly", str(warehouse)],
        input=sql,
        capture_output=True,
        text=True,
        check=True,
    )


def make_build(
    warehouse: Path, check: bool = True, **inputs: Path
) -> subprocess.CompletedProcess[str]:
    """`make build` into `warehouse`, with inputs as make variables (DETECTIONS=..., ...)."""
    variables = [f"{name.upper()}={path}" for name, path in inputs.items()]
    result = subprocess.run(
        ["make", "--no-print-directory", "build", f"XRAY_WAREHOUSE={warehouse}", *variables],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"make build failed:\n{result.stdout}\n{result.stderr}")
    return result


def readme_sql(section: str) -> list[str]:
    """The ```sql blocks of README.md between <!-- sql:section --> and <!-- /sql:section -->,
    so the README's examples are the ones the tests run."""
    readme = (REPO_ROOT / "README.md").read_text()
    start = readme.index(f"<!-- sql:{section} -->")
    end = readme.index(f"<!-- /sql:{section} -->", start)
    return re.findall(r"```sql\n(.*?)```", readme[start:end], re.DOTALL)
