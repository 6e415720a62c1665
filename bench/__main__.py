"""`make bench`: the warehouse build timed stage by stage, against the plain notebook script.

Each round (--repeat N rounds; medians are reported) works on the demo size, in build/bench/:
  demo generation  `python -m ingest demo --out build/bench/demo`
  ingest           `python -m ingest files --detections ... --simbad ... --db SCRATCH`
  dbt build        `dbt build` on that scratch warehouse, cold (no partial-parse state, as
                   in a fresh checkout). Broken down from dbt's run_results.json: start-up
                   and parse (wall minus dbt's elapsed time), the node times of each kind
                   (SQL models, each Python model, data tests, hooks, ...; dbt runs two
                   nodes at once, so the sums can exceed the elapsed time), and the
                   fit_seconds recorded by every Python model that stores them.
  make build       `make build` into build/bench/warehouse.duckdb, end to end: demo
                   generation, ingest, dbt build with every test, the final move. The
                   headline figure.
  notebook way     `python bench/notebook_way.py build/bench/demo`: the same input files,
                   configuration and work, the way the notebooks did it.
Each stage is a process of its own, timed from outside: interpreter start-up and imports
are included everywhere. Its CPU seconds (user + system, its child processes included)
are shown beside the wall time: about twice the wall time means both cores were busy.
The script gets the demo files ready-made, so the ratio is also shown without demo
generation. Both must compute the same mixtures (iterations, BIC, silhouette, adjusted
Rand indices, k-scan BIC are compared), else the timings would compare different work.

Then, unless --skip-crossmatch, the large crossmatch benchmark of bench/crossmatch.py.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

import duckdb

REPO_ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = REPO_ROOT / "build" / "bench"
BIN = Path(sys.executable).parent
# The bar: the whole `make build` within this factor of the plain script.
BAR = 1.5
# Fits tables list each fit; beyond this many rows, only their count, sum and maximum.
MAX_LISTED_FITS = 10
# The columns that name a fit in a Python model's table (run_id; run_id, seed; k, seed).
LABEL_COLUMNS = ("run_id", "k", "seed")
# dbt's resource types, as the stage table names them (Python models are listed one by one).
NODE_KINDS = {
    "operation": "hooks",
    "seed": "seeds",
    "model": "SQL models",
    "test": "data tests",
    "unit_test": "unit tests",
}
# Relative difference under which a figure of the script and the warehouse's agree.
AGREEMENT = 1e-6


def bench_environment() -> dict[str, str]:
    """What every stage runs with: the Makefile's settings, never the real warehouse."""
    environment = {
        key: value
        for key, value in os.environ.items()
        # a `make build` started from `make bench` must behave as one started by hand
        if key not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")
    }
    environment.update(
        XRAY_WAREHOUSE=str(BENCH_DIR / "unused.duckdb"),
        DBT_PROFILES_DIR=str(REPO_ROOT),
        DBT_PROJECT_DIR=str(REPO_ROOT),
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
    )
    environment.setdefault("OMP_NUM_THREADS", "2")
    return environment


def timed(name: str, command: list[str], environment: dict[str, str]) -> dict[str, float]:
    """Wall and CPU seconds of `command`, run from the repository root, output to a log."""
    log = BENCH_DIR / "logs" / f"{name.replace(' ', '_')}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    print(f"  {name} ...", end="", flush=True)
    with log.open("w") as output:
        started = time.perf_counter()
        process = subprocess.Popen(
            command, cwd=REPO_ROOT, env=environment, stdout=output, stderr=subprocess.STDOUT
        )
        # wait4's usage covers the process and every child it waited for (make's, dbt's)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
    exit_code = process.returncode = os.waitstatus_to_exitcode(status)
    if exit_code != 0:
        print(f" failed (exit {exit_code}):\n{log.read_text()[-4000:]}")
        raise SystemExit(f"{name} failed; its output is in {log}")
    print(f" {seconds:.1f} s")
    return {"seconds": seconds, "cpu_seconds": usage.ru_utime + usage.ru_stime}


def remove_warehouse(path: Path) -> None:
    for leftover in (path, *path.parent.glob(f"{path.name}.*")):
        leftover.unlink(missing_ok=True)


def dbt_breakdown(target: Path, wall: float) -> dict[str, Any]:
    """Where `dbt build`'s wall time went, from its run_results.json and manifest.json."""
    run_results = json.loads((target / "run_results.json").read_text())
    manifest = json.loads((target / "manifest.json").read_text())
    nodes = {**manifest["nodes"], **manifest.get("unit_tests", {})}
    by_kind = {kind: {"seconds": 0.0, "count": 0} for kind in NODE_KINDS.values()}
    python_models: dict[str, float] = {}
    for result in run_results["results"]:
        node = nodes.get(result["unique_id"], {})
        resource_type = result["unique_id"].split(".")[0]
        if resource_type == "model" and node.get("language") == "python":
            python_models[node["name"]] = result["execution_time"]
            continue
        kind = by_kind.setdefault(
            NODE_KINDS.get(resource_type, resource_type), {"seconds": 0.0, "count": 0}
        )
        kind["seconds"] += result["execution_time"]
        kind["count"] += 1
    return {
        "startup_and_parse_seconds": wall - run_results["elapsed_time"],
        "elapsed_seconds": run_results["elapsed_time"],
        "node_seconds_by_kind": by_kind,
        "python_model_seconds": python_models,
    }


def python_model_relations(target: Path) -> dict[str, str]:
    manifest = json.loads((target / "manifest.json").read_text())
    return {
        node["name"]: f'"{node["schema"]}"."{node["alias"]}"'
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node.get("language") == "python"
    }


def recorded_fits(warehouse: Path, relations: dict[str, str]) -> dict[str, dict[str, float]]:
    """Python model -> {fit label: fit_seconds}, for every model whose table records them."""
    fits = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for model, relation in relations.items():
            columns = [row[0] for row in con.sql(f"describe {relation}").fetchall()]
            if "fit_seconds" not in columns:
                continue
            labels = [column for column in LABEL_COLUMNS if column in columns]
            rows = con.sql(f"select {', '.join(labels)}, fit_seconds from {relation}").fetchall()
            fits[model] = {fit_label(labels, row[:-1]): row[-1] for row in rows}
    return fits


def fit_label(columns: list[str], values: tuple) -> str:
    return " ".join(
        str(value) if column == "run_id" else f"{column}={value}"
        for column, value in zip(columns, values, strict=True)
    )


def warehouse_figures(warehouse: Path) -> dict[str, Any]:
    """Input sizes, and the figures of the mixtures to check the script's against."""
    with duckdb.connect(str(warehouse), read_only=True) as con:

        def columns(table: str) -> set[str]:
            query = (
                "select column_name from information_schema.columns"
                " where table_schema = 'main' and table_name = ?"
            )
            return {row[0] for row in con.execute(query, [table]).fetchall()}

        run_figures = [
            name for name in ("n_iter", "bic", "silhouette") if name in columns("gmm_runs")
        ]
        runs = con.sql(f"select run_id, {', '.join(run_figures)} from gmm_runs").fetchall()
        checks = {
            "runs": {
                f"{run_id} {name}": value
                for run_id, *values in runs
                for name, value in zip(run_figures, values, strict=True)
            }
        }
        if "run_id" in columns("cluster_main_types"):
            sizes = con.sql("select run_id, count(*) from cluster_main_types group by run_id")
            checks["runs"].update(
                {f"{run_id} table_rows": rows for run_id, rows in sizes.fetchall()}
            )
        if {"run_id", "seed", "adjusted_rand_index"} <= columns("gmm_stability"):
            refits = con.sql("select run_id, seed, adjusted_rand_index from gmm_stability")
            checks["refits"] = {f"{run_id}@{seed}": ari for run_id, seed, ari in refits.fetchall()}
        if {"k", "seed", "bic"} <= columns("gmm_scan"):
            scan = con.sql("select k, seed, bic from gmm_scan").fetchall()
            checks["k scan"] = {f"k{k}@{seed}": bic for k, seed, bic in scan}
        return {
            "detections": con.sql("select count(*) from raw.csc_detections").fetchone()[0],
            "simbad_objects": con.sql("select count(*) from raw.simbad_objects").fetchone()[0],
            "checks": checks,
        }


def bench_round(environment: dict[str, str]) -> dict[str, Any]:
    """One round of every stage, in build/bench/."""
    demo_dir = BENCH_DIR / "demo"
    scratch = BENCH_DIR / "stages.duckdb"
    dbt_dir = BENCH_DIR / "dbt"
    make_warehouse = BENCH_DIR / "warehouse.duckdb"
    make_dbt_dir = BENCH_DIR / "make-dbt"
    script_figures = BENCH_DIR / "notebook_way.json"
    for directory in (demo_dir, dbt_dir, make_dbt_dir, BENCH_DIR / "make-demo"):
        shutil.rmtree(directory, ignore_errors=True)
    remove_warehouse(scratch)
    remove_warehouse(make_warehouse)
    python = str(BIN / "python")
    stages: dict[str, dict[str, float]] = {}
    figures: dict[str, Any] = {"load_average_before": os.getloadavg(), "stages": stages}

    stages["demo generation"] = timed(
        "demo generation", [python, "-m", "ingest", "demo", "--out", str(demo_dir)], environment
    )
    stages["ingest"] = timed(
        "ingest",
        [python, "-m", "ingest", "files", "--detections", str(demo_dir / "csc_detections.parquet"),
         "--simbad", str(demo_dir / "simbad_objects.parquet"), "--db", str(scratch)],
        environment,
    )  # fmt: skip
    stages["dbt build"] = timed(
        "dbt build",
        [str(BIN / "dbt"), "build", "--target-path", str(dbt_dir / "target"),
         "--log-path", str(dbt_dir / "logs")],
        {**environment, "XRAY_WAREHOUSE": str(scratch)},
    )  # fmt: skip
    figures["dbt"] = dbt_breakdown(dbt_dir / "target", stages["dbt build"]["seconds"])
    figures["fit_seconds"] = recorded_fits(scratch, python_model_relations(dbt_dir / "target"))
    figures["warehouse"] = warehouse_figures(scratch)
    stages["generation + ingest + dbt build"] = {
        measure: sum(stages[stage][measure] for stage in ("demo generation", "ingest", "dbt build"))
        for measure in ("seconds", "cpu_seconds")
    }

    stages["make build"] = timed(
        "make build",
        [shutil.which("make") or "make", "--no-print-directory", "build",
         f"XRAY_WAREHOUSE={make_warehouse}", f"DEMO_DIR={BENCH_DIR / 'make-demo'}",
         "DETECTIONS=", "SIMBAD=", "CROSSMATCH=", "INPUTS="],
        # dbt's state and logs of this build stay in build/bench, away from target/ and logs/
        {**environment, "DBT_TARGET_PATH": str(make_dbt_dir / "target"),
         "DBT_LOG_PATH": str(make_dbt_dir / "logs")},
    )  # fmt: skip
    stages["notebook way"] = timed(
        "notebook way",
        [python, str(REPO_ROOT / "bench" / "notebook_way.py"), str(demo_dir),
         "--json", str(script_figures)],
        environment,
    )  # fmt: skip
    figures["script"] = json.loads(script_figures.read_text())
    return figures


def medians(rounds: list[Any]) -> Any:
    """The rounds' median of every number, key by key; anything else, and what every round
    agrees on (counts), from the first round."""
    first = rounds[0]
    if all(value == first for value in rounds):
        return first
    if isinstance(first, dict):
        return {key: medians([round_[key] for round_ in rounds]) for key in first}
    if isinstance(first, bool) or not isinstance(first, int | float):
        return first
    return statistics.median(rounds)


def row(
    label: str, seconds: float, indent: int = 1, note: str = "", cpu: float | None = None
) -> None:
    cpu_column = "" if cpu is None else f"{cpu:.2f}"
    line = f"{'  ' * indent}{label:<{56 - 2 * indent}}{seconds:>9.2f}{cpu_column:>9}  {note}"
    print(line.rstrip())


def stage_row(figures: dict[str, Any], stage: str, label: str, note: str = "") -> None:
    timing = figures["stages"][stage]
    row(label, timing["seconds"], note=note, cpu=timing["cpu_seconds"])


def print_stages(figures: dict[str, Any], repeat: int) -> None:
    dbt = figures["dbt"]
    sizes = figures["warehouse"]
    print(
        f"\nwarehouse build, demo size ({sizes['detections']:,} detections,"
        f" {sizes['simbad_objects']:,} SIMBAD objects), median of {repeat} round(s)"
    )
    print(f"{'':<56}{'seconds':>9}{'CPU s':>9}")
    stage_row(figures, "demo generation", "demo generation (python -m ingest demo)")
    stage_row(figures, "ingest", "ingest (python -m ingest files)")
    stage_row(figures, "dbt build", "dbt build (cold parse)")
    row("start-up and parse (wall - dbt's elapsed)", dbt["startup_and_parse_seconds"], 2)
    node_total = 0.0
    for kind, times in dbt["node_seconds_by_kind"].items():
        if times["count"]:
            row(f"{kind} ({times['count']:.0f}, sum)", times["seconds"], 2)
            node_total += times["seconds"]
    for model, seconds in dbt["python_model_seconds"].items():
        row(f"Python model {model}", seconds, 2)
        node_total += seconds
        fits = figures["fit_seconds"].get(model, {})
        if len(fits) <= MAX_LISTED_FITS:
            for label, fit_seconds in fits.items():
                row(f"fit {label} (fit_seconds)", fit_seconds, 3)
        if fits:
            note = f"max {max(fits.values()):.2f}; fits run two at a time"
            row(f"{len(fits)} fits, sum of fit_seconds", sum(fits.values()), 3, note)
    row("nodes, sum of all", node_total, 2, f"dbt's elapsed time: {dbt['elapsed_seconds']:.2f}")
    stage_row(figures, "generation + ingest + dbt build", "generation + ingest + dbt build")
    stage_row(figures, "make build", "make build, end to end", "<- headline")


def print_script(figures: dict[str, Any]) -> None:
    script = figures["script"]
    wall = figures["stages"]["notebook way"]["seconds"]
    print(f"\n{'notebook way (bench/notebook_way.py)':<56}{'seconds':>9}{'CPU s':>9}")
    for part, seconds in script["seconds"].items():
        row(part, seconds)
    row("total of the parts", script["total_seconds"])
    row("start-up and imports (wall - parts)", wall - script["total_seconds"])
    stage_row(figures, "notebook way", "whole process", "<- compared")


def print_comparison(figures: dict[str, Any]) -> dict[str, float]:
    """The ratios warehouse / script, and whether both computed the same mixtures."""
    wall = {stage: timing["seconds"] for stage, timing in figures["stages"].items()}
    ratios = {
        "make_build": wall["make build"] / wall["notebook way"],
        "ingest_and_dbt_build": (wall["ingest"] + wall["dbt build"]) / wall["notebook way"],
    }
    print(f"\nwarehouse / notebook way (bar: make build within {BAR}x of the script)")
    verdict = "within the bar" if ratios["make_build"] <= BAR else "OVER the bar"
    print(f"  make build / script{ratios['make_build']:>42.2f}x  {verdict}")
    print(f"  (ingest + dbt build) / script{ratios['ingest_and_dbt_build']:>32.2f}x")
    print_agreement(figures["warehouse"]["checks"], script_checks(figures["script"]))
    return ratios


def script_checks(script: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The script's figures, keyed as warehouse_figures keys the warehouse's."""
    return {
        "runs": {
            f"{run_id} {name}": value
            for run_id, run in script["runs"].items()
            for name, value in run.items()
        },
        "refits": script["refits"],
        "k scan": {label: fit["bic"] for label, fit in script["scan"].items()},
    }


def print_agreement(warehouse: dict[str, dict], script: dict[str, dict]) -> None:
    """Did both compute the same mixtures? Same work, else the timings compare nothing."""
    what = {
        "runs": "iterations, BIC, silhouette, per-cluster table rows of every run",
        "refits": "adjusted Rand index of every refit",
        "k scan": "BIC of every k-scan fit",
    }
    for group, figures in script.items():
        if group not in warehouse:
            # the script then does more work than the warehouse: the ratio flatters it
            print(f"  {what[group]}: NOT IN THE WAREHOUSE, only the script computes it")
            continue
        differing = [
            f"{label}: {value} vs {figures.get(label)}"
            for label, value in warehouse[group].items()
            if not agree(value, figures.get(label))
        ]
        verdict = "DIFFER: " + "; ".join(differing) if differing else "agree"
        print(f"  {what[group]} ({len(warehouse[group])}): warehouse and script {verdict}")


def agree(first: float | None, second: float | None) -> bool:
    if first is None or second is None:
        return first is second
    return abs(first - second) <= AGREEMENT * max(abs(first), abs(second), 1.0)


def machine() -> dict[str, Any]:
    return {
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "versions": {
            package: version(package)
            for package in (
                "duckdb", "scikit-learn", "dbt-core", "dbt-duckdb", "pandas", "numpy", "astropy",
            )
        },
    }  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--repeat", type=int, default=1, help="rounds; medians are reported")
    parser.add_argument(
        "--out",
        type=Path,
        default=BENCH_DIR / "results.json",
        help="also write every figure here, as JSON (default: build/bench/results.json)",
    )
    parser.add_argument(
        "--skip-crossmatch",
        action="store_true",
        help="skip bench/crossmatch.py (minutes, and several GB of memory)",
    )
    args = parser.parse_args(argv)

    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {**machine(), "load_average_start": os.getloadavg()}
    environment = bench_environment()
    rounds = []
    for number in range(1, args.repeat + 1):
        print(f"round {number} of {args.repeat} (load average {os.getloadavg()[0]:.2f})")
        rounds.append(bench_round(environment))
    figures = medians(rounds)
    print_stages(figures, args.repeat)
    print_script(figures)
    results.update(demo=figures, rounds=rounds, ratios=print_comparison(figures))

    if not args.skip_crossmatch and (REPO_ROOT / "bench" / "crossmatch.py").exists():
        from bench import crossmatch

        print("\ncrossmatch at CSC scale (bench/crossmatch.py)")
        results["crossmatch"] = crossmatch.run(repeat=args.repeat)

    results["load_average_end"] = os.getloadavg()
    load = ", ".join(f"{value:.2f}" for value in results["load_average_end"])
    print(f"\nload average (1, 5, 15 min) at the end: {load}; {os.cpu_count()} cores")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    print(f"figures written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
