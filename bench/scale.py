"""`make bench-scale`: the whole warehouse built at catalogue size, stage by stage.

For each size N (--sizes, default CSC 2.1's 1,304,376 detections), in build/bench/scale/N/:
  demo generation  `python -m ingest demo --detections N` (timed apart; not in the build)
  make build       `make build DETECTIONS=... SIMBAD=...` into a scratch warehouse: ingest,
                   `dbt build` with every default run, stability refits, k scan, profiles,
                   classification and data tests, then the install. Timed from outside,
                   with its CPU seconds and peak RSS (wait4: the largest single process of
                   the tree, which is dbt with DuckDB inside), and its memory sampled
                   every 0.5 s.
The stage table comes from dbt's JSON log (so a build stopped by --timeout or by
--memory-ceiling, which a shared machine needs, still shows what finished and what was
running): each model with the data tests attached to it,
seeds, hooks and unit tests, largest first, with the peak RSS sampled while it ran. dbt
runs two nodes at once, so node seconds add up to more than the wall time, and a peak
belongs to whichever nodes ran then. With several sizes, a growth table gives each
stage's exponent between successive sizes (seconds ~ N^e); n log n is e ~ 1.08 from 100k
to 300k. Every figure goes to build/bench/scale/results.json, rewritten after each size.

Run: python -m bench.scale [--sizes 100000,300000,1304376] [--timeout SECONDS]
                           [--memory-ceiling MIB]
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.fits import recorded_fits
from bench.process import (
    REPO_ROOT,
    Measurement,
    bench_environment,
    format_load,
    load_average,
    measure,
    require_success,
)

SCALE_DIR = REPO_ROOT / "build" / "bench" / "scale"
CSC_DETECTIONS = 1_304_376
# The targets of the issue for the whole catalogue on this machine.
TARGET_SECONDS = 20 * 60
TARGET_PEAK_RSS_MIB = 8 * 1024
# A stage is flagged when its exponent exceeds n log n's by this much, and it takes at
# least FLAG_MIN_SECONDS at the larger size (below that, fixed costs decide the exponent).
EXPONENT_MARGIN = 0.15
FLAG_MIN_SECONDS = 5.0
# A stage "dominates" from this share of all node seconds.
DOMINANT_SHARE = 0.10
NODE_GROUPS = {"seed": "seeds", "operation": "hooks", "unit_test": "unit tests"}
# Stages under this many seconds are summed in one row of the printed table.
LISTED_MIN_SECONDS = 0.5


def build_at(
    n_detections: int, timeout: float | None, memory_ceiling_mib: float | None
) -> dict[str, Any]:
    """Generate the demo at n_detections and `make build` it; the figures of both."""
    work = SCALE_DIR / str(n_detections)
    shutil.rmtree(work, ignore_errors=True)
    demo, dbt_dir, warehouse = work / "demo", work / "dbt", work / "warehouse.duckdb"
    environment = bench_environment()
    load_before = load_average()
    python = str(Path(sys.executable).parent / "python")
    print(f"\n{n_detections:,} detections: demo generation ...", end="", flush=True)
    demo_log = work / "logs" / "demo.log"
    generated = require_success(
        measure(
            [python, "-m", "ingest", "demo", "--out", str(demo), "--detections", str(n_detections)],
            environment,
            demo_log,
        ),
        "demo generation",
        demo_log,
    )
    print(f" {generated.seconds:.0f} s; make build ...", end="", flush=True)
    build = measure(
        [shutil.which("make") or "make", "--no-print-directory", "build",
         f"XRAY_WAREHOUSE={warehouse}",
         f"DETECTIONS={demo / 'csc_detections.parquet'}",
         f"SIMBAD={demo / 'simbad_objects.parquet'}", "CROSSMATCH=", "INPUTS=", "VARS_FILE="],
        {**environment, "DBT_TARGET_PATH": str(dbt_dir / "target"),
         "DBT_LOG_PATH": str(dbt_dir / "logs"), "DBT_LOG_FORMAT_FILE": "json"},
        work / "logs" / "make_build.log",
        timeout=timeout,
        sample_memory=True,
        memory_ceiling_mib=memory_ceiling_mib,
    )  # fmt: skip
    outcome = f"stopped by {build.stopped_by}" if build.stopped_by else f"exit {build.exit_code}"
    print(f" {build.seconds:.0f} s ({outcome})")
    figures = {
        "n_detections": n_detections,
        "load_average_before": load_before,
        "demo_generation": _summary(generated),
        "make_build": {**_summary(build), "stopped_by": build.stopped_by},
        "peak_total_rss_mib_sampled": max((s.total_mib for s in build.memory), default=None),
        **stage_table(dbt_dir, build),
        "fits": recorded_fits(warehouse) if warehouse.exists() else [],
    }
    figures["load_average_after"] = load_average()
    return figures


def _summary(measurement: Measurement) -> dict[str, float]:
    return {
        "seconds": measurement.seconds,
        "cpu_seconds": measurement.cpu_seconds,
        "peak_rss_mib": measurement.peak_rss_mib,
        "exit_code": measurement.exit_code,
    }


def _epoch(timestamp: str) -> float:
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()


def dbt_events(log: Path) -> list[dict[str, Any]]:
    events = []
    for line in log.read_text().splitlines() if log.exists() else []:
        try:
            events.append(json.loads(line))
        except ValueError:
            continue  # a line cut short by a stopped build
    return events


def test_owners(manifest_path: Path) -> dict[str, str]:
    """Each data test's group: the model it is attached to (or its only model parent)."""
    if not manifest_path.exists():
        return {}
    nodes = json.loads(manifest_path.read_text())["nodes"]
    owners = {}
    for unique_id, node in nodes.items():
        if node["resource_type"] != "test":
            continue
        parents = [p for p in node["depends_on"]["nodes"] if p.startswith("model.")]
        owner = node.get("attached_node") or (parents[0] if len(parents) == 1 else None)
        owners[unique_id] = nodes[owner]["name"] if owner in nodes else f"test {node['name']}"
    return owners


def stage_table(dbt_dir: Path, build: Measurement) -> dict[str, Any]:
    """Where the build's time went: before dbt, dbt's parse, every node group, after dbt."""
    events = dbt_events(dbt_dir / "logs" / "dbt.log")
    owners = test_owners(dbt_dir / "target" / "manifest.json")
    build_end = build.started_at + build.seconds
    nodes: dict[str, dict[str, Any]] = {}
    for event in events:
        name, data = event["info"]["name"], event.get("data", {})
        if name not in ("NodeStart", "NodeFinished"):
            continue
        info = data["node_info"]
        node = nodes.setdefault(
            info["unique_id"],
            {"name": info["node_name"], "resource_type": info["resource_type"],
             "materialized": info.get("materialized"), "path": info.get("node_path", "")},
        )  # fmt: skip
        if name == "NodeStart":
            node["start"] = _epoch(event["info"]["ts"])
        else:
            node["finish"] = _epoch(event["info"]["ts"])
            node["seconds"] = data["run_result"]["execution_time"]
            node["status"] = data["run_result"]["status"]
    for node in nodes.values():
        if "finish" not in node:  # still running when the build stopped
            node.update(finish=build_end, seconds=build_end - node["start"], status="unfinished")

    groups: dict[str, dict[str, Any]] = {}
    for unique_id, node in nodes.items():
        kind = node["resource_type"]
        if kind == "model":
            key = node["name"]
        elif kind == "test":
            key = owners.get(unique_id, "data tests")
        else:
            key = NODE_GROUPS.get(kind, kind)
        group = groups.setdefault(
            key, {"model_seconds": 0.0, "test_seconds": 0.0, "tests": 0, "kind": "tests",
                  "status": "success", "intervals": []}
        )  # fmt: skip
        if kind == "test":
            group["test_seconds"] += node["seconds"]
            group["tests"] += 1
        else:
            group["model_seconds"] += node["seconds"]
            group["kind"] = {"seed": "seed", "operation": "hook", "unit_test": "unit"}.get(
                kind, "Python" if node["path"].endswith(".py") else "SQL"
            )
        if node["status"] not in ("success", "pass"):
            group["status"] = node["status"]
        group["intervals"].append((node["start"], node["finish"]))
    samples = [(build.started_at + sample.seconds, sample.largest_mib) for sample in build.memory]
    for group in groups.values():
        group["seconds"] = group["model_seconds"] + group["test_seconds"]
        intervals = group.pop("intervals")
        group["peak_rss_mib"] = max(
            (rss for at, rss in samples if any(start <= at <= end for start, end in intervals)),
            default=None,
        )

    dbt_started = _epoch(events[0]["info"]["ts"]) if events else build_end
    first_node = min((node["start"] for node in nodes.values()), default=build_end)
    last_node = max((node["finish"] for node in nodes.values()), default=dbt_started)
    return {
        "phases": {
            "ingest, then dbt's imports (to its first log line)": dbt_started - build.started_at,
            "dbt start-up and parse (to the first node)": first_node - dbt_started,
            "dbt nodes (wall, first start to last finish)": last_node - first_node,
            "checkpoint and install (after the last node)": build_end - last_node,
        },
        "node_seconds_total": sum(node["seconds"] for node in nodes.values()),
        "stages": dict(sorted(groups.items(), key=lambda item: -item[1]["seconds"])),
    }


def print_size(figures: dict[str, Any]) -> None:
    build = figures["make_build"]
    n = figures["n_detections"]
    state = f" (STOPPED BY {build['stopped_by'].upper()})" if build["stopped_by"] else ""
    print(
        f"\n=== {n:,} detections{state}; load average {format_load(figures['load_average_before'])}"
        f" before, {format_load(figures['load_average_after'])} after ==="
    )
    demo = figures["demo_generation"]
    print(
        f"demo generation (apart): {demo['seconds']:.1f} s, peak RSS"
        f" {demo['peak_rss_mib']:,.0f} MiB"
    )
    print(
        f"make build: {build['seconds']:.1f} s wall, {build['cpu_seconds']:.1f} CPU s, peak RSS"
        f" {build['peak_rss_mib']:,.0f} MiB (largest process; whole tree sampled:"
        f" {figures['peak_total_rss_mib_sampled'] or 0:,.0f} MiB)"
    )
    for phase, seconds in figures["phases"].items():
        print(f"  {phase:<50}{seconds:>9.1f} s")
    total = figures["node_seconds_total"]
    print(
        f"\n  {'dbt stage (model + its data tests)':<44}{'kind':>7}{'seconds':>9}{'model':>9}"
        f"{'tests':>9}{'(n)':>5}{'share':>7}{'peak RSS MiB':>13}"
    )
    small = [stage for stage in figures["stages"].values() if stage["seconds"] < LISTED_MIN_SECONDS]
    for name, stage in figures["stages"].items():
        if stage["seconds"] < LISTED_MIN_SECONDS:
            continue
        status = "" if stage["status"] == "success" else f"  {stage['status']}"
        rss = "" if stage["peak_rss_mib"] is None else f"{stage['peak_rss_mib']:,.0f}"
        print(
            f"  {name:<44}{stage['kind']:>7}{stage['seconds']:>9.1f}"
            f"{stage['model_seconds']:>9.1f}{stage['test_seconds']:>9.1f}{stage['tests']:>5}"
            f"{stage['seconds'] / total:>7.1%}{rss:>13}{status}"
        )
    if small:
        seconds = sum(stage["seconds"] for stage in small)
        label = f"{len(small)} stages under {LISTED_MIN_SECONDS} s each"
        print(f"  {label:<51}{seconds:>9.1f}{'':>23}{seconds / total:>7.1%}")
    print(f"  {'all nodes (two run at once)':<51}{total:>9.1f}")
    for kind in ("run", "refit", "scan"):
        fits = [fit for fit in figures["fits"] if fit["kind"] == kind]
        if fits:
            slowest = max(fits, key=lambda fit: fit["fit_seconds"])
            print(
                f"  {len(fits)} fits of kind {kind} on {slowest['n_detections']:,} detections:"
                f" {sum(fit['fit_seconds'] for fit in fits):.1f} s summed (fit_seconds),"
                f" slowest {slowest['fit_id']} {slowest['fit_seconds']:.1f} s"
            )
    if n >= CSC_DETECTIONS:
        print(
            f"target: < {TARGET_SECONDS / 60:.0f} min and < {TARGET_PEAK_RSS_MIB / 1024:.0f} GB:"
            f" {'met' if _meets_target(build) else 'NOT MET'}"
        )


def _meets_target(build: dict[str, Any]) -> bool:
    return (
        build["exit_code"] == 0
        and build["seconds"] < TARGET_SECONDS
        and build["peak_rss_mib"] < TARGET_PEAK_RSS_MIB
    )


def nlogn_exponent(small: int, large: int) -> float:
    """e with (large log large) / (small log small) = (large / small)^e."""
    return math.log(large * math.log(large) / (small * math.log(small))) / math.log(large / small)


def growth(sizes: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each stage's seconds at every size and its exponent between successive sizes,
    flagged where it grows faster than n log n or dominates at the largest size."""
    largest = sizes[-1]
    rows = {}
    for name, stage in largest["stages"].items():
        seconds = [size["stages"].get(name, {}).get("seconds") for size in sizes]
        exponents, flags = [], []
        for index in range(1, len(sizes)):
            t_small, t_large = seconds[index - 1], seconds[index]
            if not t_small or not t_large:
                exponents.append(None)
                continue
            n_small, n_large = sizes[index - 1]["n_detections"], sizes[index]["n_detections"]
            exponent = math.log(t_large / t_small) / math.log(n_large / n_small)
            exponents.append(exponent)
            if (
                exponent > nlogn_exponent(n_small, n_large) + EXPONENT_MARGIN
                and t_large >= FLAG_MIN_SECONDS
            ):
                flags.append(f"faster than n log n ({n_small:,}->{n_large:,})")
        if stage["seconds"] >= DOMINANT_SHARE * largest["node_seconds_total"]:
            flags.append(f"dominates ({stage['seconds'] / largest['node_seconds_total']:.0%})")
        rows[name] = {"seconds": seconds, "exponents": exponents, "flags": flags}
    return rows


def print_growth(sizes: list[dict[str, Any]], rows: dict[str, dict[str, Any]]) -> None:
    labels = [f"{size['n_detections']:,}" for size in sizes]
    print("\n=== growth: node seconds (model + its tests) at each size; exponent e, s ~ N^e ===")
    print(f"  {'stage':<40}" + "".join(f"{label:>11}" for label in labels) + "  exponents, flags")
    for name, row in rows.items():
        if max(value or 0 for value in row["seconds"]) < 1 and not row["flags"]:
            continue  # constant-size stages under a second tell nothing about growth
        cells = "".join(
            f"{value:>11.1f}" if value is not None else f"{'-':>11}" for value in row["seconds"]
        )
        exponents = " ".join("-" if e is None else f"{e:.2f}" for e in row["exponents"])
        print(f"  {name:<40}{cells}  {exponents}  {'; '.join(row['flags'])}".rstrip())
    walls = "".join(f"{size['make_build']['seconds']:>11.1f}" for size in sizes)
    rss = "".join(f"{size['make_build']['peak_rss_mib']:>11,.0f}" for size in sizes)
    print(f"  {'make build, wall seconds':<40}{walls}")
    print(f"  {'make build, peak RSS MiB':<40}{rss}")
    reference = ", ".join(
        f"{nlogn_exponent(small['n_detections'], large['n_detections']):.2f}"
        for small, large in zip(sizes, sizes[1:], strict=False)
    )
    print(f"  (n log n has e = {reference}; flagged: e above that + {EXPONENT_MARGIN}, >= 5 s)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.scale",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--sizes",
        default=str(CSC_DETECTIONS),
        help=f"detection counts, comma-separated, smallest first (default {CSC_DETECTIONS})",
    )
    parser.add_argument(
        "--timeout", type=float, help="stop a build after this many seconds (and report it)"
    )
    parser.add_argument(
        "--memory-ceiling",
        type=float,
        metavar="MIB",
        help="stop a build whose processes hold more resident memory than this (and report it)",
    )
    parser.add_argument("--out", type=Path, default=SCALE_DIR / "results.json")
    args = parser.parse_args(argv)
    counts = sorted(int(size.replace("_", "")) for size in args.sizes.split(","))

    sizes: list[dict[str, Any]] = []
    results: dict[str, Any] = {"sizes": sizes}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    for count in counts:
        sizes.append(build_at(count, args.timeout, args.memory_ceiling))
        if len(sizes) > 1:
            results["growth"] = growth(sizes)
        args.out.write_text(json.dumps(results, indent=2))
        print_size(sizes[-1])
    if len(sizes) > 1:
        print_growth(sizes, results["growth"])
    print(f"\nfigures written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
