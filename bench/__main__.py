"""`make bench`: the warehouse build against the notebook's own job, measured in one run.

Every round (--repeat N, default 3) runs these commands, in build/bench/, each a process
of its own timed from outside (start-up and imports included), in an order rotated
round by round so that drift on the shared machine falls on all alike:
  make build          `make build` into build/bench/warehouse.duckdb, end to end: demo
                      generation, ingest, dbt build with every test, the install.
  notebook job        `python bench/notebook_job.py DEMO`: the notebook's own job (read,
                      crossmatch, the four allvar fits, the per-cluster tables), as a user
                      runs it, no thread settings.
  notebook job, 1 thread   the same with OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1.
  warehouse stages    `python -m ingest files` then a cold `dbt build` (no partial-parse
                      state) on build/bench/stages.duckdb, broken down from dbt's
                      run_results.json.
  notebook way        `python bench/notebook_way.py DEMO`: the warehouse's mixture work
                      (all five runs, stability refits, k scan, silhouettes) the notebook
                      way; its figures are checked against the warehouse's.
(a) make build / notebook job, plain and with one thread: ratios per round.
(b) (ingest + dbt build) / notebook way, with and without the classification stage
    (which notebook_way does not do), and the agreement of both sides' figures.
(c), (d) bench/em_kernel.py on the bench's warehouse: the EM kernel against
    scikit-learn per k, their equality figures, the kernel's GFLOP/s and a DGEMM's.
Then, unless --skip-crossmatch, the crossmatch at CSC scale (bench/crossmatch.py).
Timings are medians (min-max) over the rounds; CPU seconds (user + system of the process
and its children) beside wall seconds: about twice the wall means both cores were busy.
Every figure, each round's too, goes to build/bench/results.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any

import duckdb

from bench.fits import recorded_fits
from bench.process import (
    REPO_ROOT,
    Measurement,
    bench_environment,
    format_load,
    format_spread,
    load_average,
    measure,
    require_success,
    spread,
)

BENCH_DIR = REPO_ROOT / "build" / "bench"
BIN = Path(sys.executable).parent
# make build / the notebook's own job: the bar, and the moonshot.
BAR = 1.0
MOONSHOT = 0.5
ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
# dbt's resource types, as the stage table names them (Python models are listed one by one).
NODE_KINDS = {
    "operation": "hooks",
    "seed": "seeds",
    "model": "SQL models",
    "test": "data tests",
    "unit_test": "unit tests",
}
# The classification stage: these models (and the classification marts), with their tests.
CLASSIFICATION_MODELS = (
    "int_class_inputs",
    "int_class_splits",
    "int_class_models",
    "int_class_scores",
)
CLASSIFICATION_MARTS = "marts/classification/"
# Relative difference under which a figure of the script and the warehouse's agree.
AGREEMENT = 1e-6


class Round:
    """The commands of one round, their files in build/bench/."""

    def __init__(self, environment: dict[str, str]) -> None:
        self.environment = environment
        self.python = str(BIN / "python")
        self.demo = BENCH_DIR / "demo"
        self.figures: dict[str, Any] = {"timings": {}}

    def run(self, name: str, command: list[str], environment: dict[str, str]) -> Measurement:
        log = BENCH_DIR / "logs" / f"{name.replace(' ', '_').replace(',', '')}.log"
        print(f"  {name} ...", end="", flush=True)
        measurement = require_success(measure(command, environment, log), name, log)
        print(f" {measurement.seconds:.1f} s")
        self.figures["timings"][name] = {
            "seconds": measurement.seconds,
            "cpu_seconds": measurement.cpu_seconds,
            "peak_rss_mib": measurement.peak_rss_mib,
        }
        return measurement

    def make_build(self) -> None:
        warehouse = BENCH_DIR / "warehouse.duckdb"
        dbt_dir = BENCH_DIR / "make-dbt"
        remove_warehouse(warehouse)
        shutil.rmtree(dbt_dir, ignore_errors=True)
        shutil.rmtree(BENCH_DIR / "make-demo", ignore_errors=True)
        self.run(
            "make build",
            [shutil.which("make") or "make", "--no-print-directory", "build",
             f"XRAY_WAREHOUSE={warehouse}", f"DEMO_DIR={BENCH_DIR / 'make-demo'}",
             "DETECTIONS=", "SIMBAD=", "CROSSMATCH=", "INPUTS=", "VARS_FILE="],
            # dbt's state and logs of this build stay in build/bench, away from target/, logs/
            {**self.environment, "DBT_TARGET_PATH": str(dbt_dir / "target"),
             "DBT_LOG_PATH": str(dbt_dir / "logs")},
        )  # fmt: skip

    def notebook_job(self, name: str, threads: dict[str, str]) -> None:
        script = str(REPO_ROOT / "bench" / "notebook_job.py")
        self.run(name, [self.python, script, str(self.demo)], {**self.environment, **threads})

    def warehouse_stages(self) -> None:
        scratch, dbt_dir = BENCH_DIR / "stages.duckdb", BENCH_DIR / "dbt"
        remove_warehouse(scratch)
        shutil.rmtree(dbt_dir, ignore_errors=True)
        self.run(
            "ingest",
            [self.python, "-m", "ingest", "files",
             "--detections", str(self.demo / "csc_detections.parquet"),
             "--simbad", str(self.demo / "simbad_objects.parquet"), "--db", str(scratch)],
            self.environment,
        )  # fmt: skip
        dbt = self.run(
            "dbt build",
            [str(BIN / "dbt"), "build", "--target-path", str(dbt_dir / "target"),
             "--log-path", str(dbt_dir / "logs")],
            {**self.environment, "XRAY_WAREHOUSE": str(scratch)},
        )  # fmt: skip
        self.figures["dbt"] = dbt_breakdown(dbt_dir / "target", dbt.seconds)
        self.figures["fits"] = recorded_fits(scratch)
        self.figures["warehouse"] = warehouse_figures(scratch)

    def notebook_way(self) -> None:
        figures = BENCH_DIR / "notebook_way.json"
        self.run(
            "notebook way",
            [self.python, str(REPO_ROOT / "bench" / "notebook_way.py"), str(self.demo),
             "--json", str(figures)],
            self.environment,
        )  # fmt: skip
        self.figures["script"] = json.loads(figures.read_text())

    def run_all(self, number: int) -> dict[str, Any]:
        """Every command once, the order rotated by the round's number."""
        commands = [
            self.make_build,
            lambda: self.notebook_job("notebook job", {}),
            lambda: self.notebook_job("notebook job, 1 thread", ONE_THREAD),
            self.warehouse_stages,
            self.notebook_way,
        ]
        shift = number % len(commands)
        self.figures["load_average_before"] = load_average()
        for command in commands[shift:] + commands[:shift]:
            command()
        self.figures["load_average_after"] = load_average()
        timings = self.figures["timings"]
        wall = {name: timing["seconds"] for name, timing in timings.items()}
        warehouse = wall["ingest"] + wall["dbt build"]
        classification = self.figures["dbt"]["classification_seconds"]
        self.figures["ratios"] = {
            "make_build_per_notebook_job": wall["make build"] / wall["notebook job"],
            "make_build_per_notebook_job_1_thread": (
                wall["make build"] / wall["notebook job, 1 thread"]
            ),
            "ingest_and_dbt_build_per_notebook_way": warehouse / wall["notebook way"],
            "without_classification_per_notebook_way": (
                (warehouse - classification) / wall["notebook way"]
            ),
        }
        return self.figures


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
    classification: dict[str, float] = {}
    for result in run_results["results"]:
        node = nodes.get(result["unique_id"], {})
        resource_type = result["unique_id"].split(".")[0]
        seconds = result["execution_time"]
        owner = classification_owner(node, nodes)
        if owner:
            classification[owner] = classification.get(owner, 0.0) + seconds
        if resource_type == "model" and node.get("language") == "python":
            python_models[node["name"]] = seconds
            continue
        kind = by_kind.setdefault(
            NODE_KINDS.get(resource_type, resource_type), {"seconds": 0.0, "count": 0}
        )
        kind["seconds"] += seconds
        kind["count"] += 1
    return {
        "startup_and_parse_seconds": wall - run_results["elapsed_time"],
        "elapsed_seconds": run_results["elapsed_time"],
        "node_seconds_by_kind": by_kind,
        "python_model_seconds": python_models,
        "classification_model_seconds": classification,
        "classification_seconds": sum(classification.values()),
    }


def classification_owner(node: dict[str, Any], nodes: dict[str, Any]) -> str | None:
    """The classification model a node is, or tests; None outside the classification stage."""
    if node.get("resource_type") == "test":
        owner = nodes.get(node.get("attached_node") or "", {})
        return classification_owner(owner, nodes) if owner else None
    is_classification = node.get("resource_type") == "model" and (
        node["name"] in CLASSIFICATION_MODELS
        or node.get("original_file_path", "").startswith(f"models/{CLASSIFICATION_MARTS}")
    )
    return node["name"] if is_classification else None


def warehouse_figures(warehouse: Path) -> dict[str, Any]:
    """Input sizes, and the mixtures' figures to check the script's against, keyed as
    script_checks keys the script's."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        fits = "from intermediate.int_gmm_fits where skipped_reason is null and fit_kind = "
        runs = con.sql(f"select run_id, n_iter, bic, aic, silhouette {fits} 'run'").fetchall()
        refits = con.sql(
            f"select run_id, random_state, adjusted_rand_index {fits} 'refit'"
        ).fetchall()
        scan = con.sql(
            f"select n_components, random_state, bic, aic, silhouette {fits} 'scan'"
        ).fetchall()
        table_rows = con.sql("select run_id, count(*) from cluster_main_types group by run_id")
        checks = {
            "runs": {
                f"{run_id} {name}": value
                for run_id, *values in runs
                for name, value in zip(("n_iter", "bic", "aic", "silhouette"), values, strict=True)
            },
            "refits": {f"{run_id}@{seed}": ari for run_id, seed, ari in refits},
            "k scan": {
                f"k{k}@{seed} {name}": value
                for k, seed, *values in scan
                for name, value in zip(("bic", "aic", "silhouette"), values, strict=True)
            },
        }
        checks["runs"].update({f"{run_id} table_rows": n for run_id, n in table_rows.fetchall()})
        return {
            "detections": con.sql("select count(*) from raw.csc_detections").fetchone()[0],
            "simbad_objects": con.sql("select count(*) from raw.simbad_objects").fetchone()[0],
            "checks": checks,
        }


def script_checks(script: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """notebook_way's figures, keyed as warehouse_figures keys the warehouse's."""
    return {
        "runs": {
            f"{run_id} {name}": value
            for run_id, run in script["runs"].items()
            for name, value in run.items()
        },
        "refits": script["refits"],
        "k scan": {
            f"{label} {name}": value
            for label, fit in script["scan"].items()
            for name, value in fit.items()
        },
    }


def medians(rounds: list[Any]) -> Any:
    """The rounds' median of every number, key by key; anything else, and what every round
    agrees on (counts, the checked figures), from the first round."""
    first = rounds[0]
    if all(value == first for value in rounds):
        return first
    if isinstance(first, dict):
        return {key: medians([round_[key] for round_ in rounds]) for key in first}
    if isinstance(first, bool) or not isinstance(first, int | float):
        return first
    return statistics.median(rounds)


def median_round(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """The round whose dbt build took the median time (the lower one of an even count)."""
    by_time = sorted(rounds, key=lambda r: r["timings"]["dbt build"]["seconds"])
    return by_time[(len(by_time) - 1) // 2]


def spreads(rounds: list[dict[str, Any]], section: str) -> dict[str, dict[str, dict]]:
    """Median and range of every figure of rounds[i][section][name] (one level of dicts)."""
    names = rounds[0][section]
    return {
        name: (
            {key: spread([r[section][name][key] for r in rounds]) for key in names[name]}
            if isinstance(names[name], dict)
            else spread([r[section][name] for r in rounds])
        )
        for name in names
    }


def row(label: str, *cells: str, indent: int = 1) -> None:
    line = f"{'  ' * indent}{label:<{50 - 2 * indent}}" + "".join(f"{c:>22}" for c in cells)
    print(line.rstrip())


def print_head_to_head(timings: dict[str, dict], ratios: dict[str, dict], repeat: int) -> None:
    print(
        f"\n(a) make build against the notebook's own job, {repeat} round(s) interleaved,"
        " median (min-max)"
    )
    row("", "wall s", "CPU s", "peak RSS MiB", indent=1)
    labels = {
        "make build": "make build, end to end (demo generation in)",
        "notebook job": "notebook job (bench/notebook_job.py), plain",
        "notebook job, 1 thread": "notebook job, OPENBLAS/OMP_NUM_THREADS=1",
    }
    for name, label in labels.items():
        timing = timings[name]
        row(label, format_spread(timing["seconds"]), format_spread(timing["cpu_seconds"]),
            format_spread(timing["peak_rss_mib"], ",.0f"))  # fmt: skip
    plain = ratios["make_build_per_notebook_job"]
    verdict = (
        "moonshot met" if plain["median"] <= MOONSHOT
        else "within the bar" if plain["median"] <= BAR else "OVER the bar"
    )  # fmt: skip
    row("make build / notebook job", format_spread(plain, ".2f", "x"))
    print(f"    bar <= {BAR}x, moonshot <= {MOONSHOT}x: {verdict}")
    one = ratios["make_build_per_notebook_job_1_thread"]
    row("make build / notebook job, 1 thread", format_spread(one, ".2f", "x"))
    print("  (ratios per round, same round's commands; demo generation is in make build only)")


def print_stages(figures: dict[str, Any], timings: dict[str, dict], repeat: int) -> None:
    dbt = figures["dbt"]
    sizes = figures["warehouse"]
    print(
        f"\n(b) warehouse stages, demo size ({sizes['detections']:,} detections,"
        f" {sizes['simbad_objects']:,} SIMBAD objects), median (min-max) of {repeat} round(s)"
    )
    row("", "wall s", "CPU s", indent=1)
    for name in ("ingest", "dbt build"):
        label = {"ingest": "ingest (python -m ingest files)", "dbt build": "dbt build, cold"}
        row(
            label[name],
            format_spread(timings[name]["seconds"]),
            format_spread(timings[name]["cpu_seconds"]),
        )
    row("start-up and parse (wall - dbt's elapsed)", f"{dbt['startup_and_parse_seconds']:.1f}",
        indent=2)  # fmt: skip
    for kind, times in dbt["node_seconds_by_kind"].items():
        if times["count"]:
            row(f"{kind} ({times['count']:.0f}, node seconds summed)", f"{times['seconds']:.1f}",
                indent=2)  # fmt: skip
    for model, seconds in dbt["python_model_seconds"].items():
        row(f"Python model {model}", f"{seconds:.1f}", indent=2)
    print(f"    dbt's elapsed time {dbt['elapsed_seconds']:.1f} s; two nodes run at once")
    print("    classification stage (node seconds, with each model's data tests):")
    for model, seconds in dbt["classification_model_seconds"].items():
        row(model, f"{seconds:.2f}", indent=3)
    row("classification stage, summed", f"{dbt['classification_seconds']:.1f}", indent=3)
    print_fits(figures["fits"])


def print_fits(fits: list[dict[str, Any]]) -> None:
    """The fit_seconds of intermediate.int_gmm_fits: runs and refits one by one, the scan
    summed; and each worker's busy seconds (fits run one per core)."""
    print("    fits (intermediate.int_gmm_fits: fit_seconds, fit_worker; the median round):")
    for fit in fits:
        if fit["kind"] != "scan":
            row(
                f"{fit['kind']} {fit['fit_id']} ({fit['n_iter']:.0f} iter)",
                f"{fit['fit_seconds']:.2f}  worker {fit['fit_worker']:.0f}",
                indent=3,
            )
    scan = [fit for fit in fits if fit["kind"] == "scan"]
    if scan:
        slowest = max(scan, key=lambda fit: fit["fit_seconds"])
        row(f"k scan, {len(scan)} fits on {slowest['n_detections']:,.0f} detections, summed",
            f"{sum(fit['fit_seconds'] for fit in scan):.2f}", indent=3)  # fmt: skip
    workers: dict[int, float] = {}
    for fit in fits:
        workers[fit["fit_worker"]] = workers.get(fit["fit_worker"], 0.0) + fit["fit_seconds"]
    for worker, seconds in sorted(workers.items()):
        row(f"worker {worker}: fit seconds summed", f"{seconds:.2f}", indent=3)


def print_workload_matched(
    figures: dict[str, Any],
    timings: dict[str, dict],
    ratios: dict[str, dict],
    rounds: list[dict[str, Any]],
) -> None:
    script = figures["script"]
    print(f"\n{'  notebook way (bench/notebook_way.py), median round':<50}{'seconds':>26}")
    for part, seconds in script["seconds"].items():
        row(part, f"{seconds:.2f}", indent=2)
    row("total of the parts", f"{script['total_seconds']:.1f}", indent=2)
    row("whole process", format_spread(timings["notebook way"]["seconds"]), indent=2)
    print("  workload-matched, per round, median (min-max):")
    row(
        "(ingest + dbt build) / notebook way",
        format_spread(ratios["ingest_and_dbt_build_per_notebook_way"], ".2f", "x"),
        indent=2,
    )
    row(
        "the same, classification node seconds out",
        format_spread(ratios["without_classification_per_notebook_way"], ".2f", "x"),
        indent=2,
    )
    print("    (notebook_way does not classify; taking out node seconds is an upper bound of")
    print("    what the build would save without the stage, as dbt runs two nodes at once)")
    print_agreement(rounds)


def print_agreement(rounds: list[dict[str, Any]]) -> None:
    """Did both compute the same mixtures, in every round? Same work, else the timings
    compare nothing."""
    what = {
        "runs": "iterations, BIC, AIC, silhouette, per-cluster table rows of every run",
        "refits": "adjusted Rand index of every stability refit",
        "k scan": "BIC, AIC, silhouette of every k-scan fit",
    }
    print(f"  figures of the warehouse and the notebook way, in each of {len(rounds)} round(s):")
    for group, description in what.items():
        differing, unmatched = [], set()
        for number, figures in enumerate(rounds, start=1):
            warehouse = figures["warehouse"]["checks"][group]
            script = script_checks(figures["script"])[group]
            unmatched |= set(warehouse) ^ set(script)
            differing += [
                f"round {number} {label}: {value} vs {script[label]}"
                for label, value in warehouse.items()
                if label in script and not agree(value, script[label])
            ]
        verdict = "DIFFER: " + "; ".join(differing) if differing else "agree"
        print(f"    {description} ({len(warehouse)}): {verdict}")
        if unmatched:
            print(f"      computed by one side only: {', '.join(sorted(unmatched))}")


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
    parser.add_argument("--repeat", type=int, default=3, help="rounds (default 3); medians")
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
    results: dict[str, Any] = {**machine(), "load_average_start": load_average()}
    print(f"load average at the start (1, 5, 15 min): {format_load(results['load_average_start'])}")
    environment = bench_environment()
    # The scripts and the stages read the demo as make build generates it: once, ahead.
    shutil.rmtree(BENCH_DIR / "demo", ignore_errors=True)
    generated = require_success(
        measure([str(BIN / "python"), "-m", "ingest", "demo", "--out", str(BENCH_DIR / "demo")],
                environment, BENCH_DIR / "logs" / "demo.log"),
        "demo generation", BENCH_DIR / "logs" / "demo.log",
    )  # fmt: skip
    print(
        f"demo generation (once, ahead; make build does it every round): {generated.seconds:.1f} s"
    )
    results["demo_generation_seconds"] = generated.seconds
    rounds = []
    for number in range(1, args.repeat + 1):
        print(f"round {number} of {args.repeat} (load average {format_load(load_average())})")
        rounds.append(Round(environment).run_all(number))
    timings, ratios = spreads(rounds, "timings"), spreads(rounds, "ratios")
    figures = medians(rounds)
    # Fits are listed from one real round (a median worker number would mean nothing).
    figures["fits"] = median_round(rounds)["fits"]
    print_head_to_head(timings, ratios, args.repeat)
    print_stages(figures, timings, args.repeat)
    print_workload_matched(figures, timings, ratios, rounds)
    results.update(timings=timings, ratios=ratios, medians=figures, rounds=rounds)

    from bench import em_kernel

    print("\n(c), (d) the EM kernel against scikit-learn (bench/em_kernel.py)")
    results["em_kernel"] = em_kernel.run(BENCH_DIR / "warehouse.duckdb", repeat=args.repeat)

    if not args.skip_crossmatch:
        from bench import crossmatch

        print("\ncrossmatch at CSC scale (bench/crossmatch.py)")
        results["crossmatch"] = crossmatch.run(repeat=args.repeat)

    results["load_average_end"] = load_average()
    print(
        f"\nload average (1, 5, 15 min): {format_load(results['load_average_start'])} at the start,"
        f" {format_load(results['load_average_end'])} at the end; {results['cpu_count']} cores"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    print(f"figures written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
