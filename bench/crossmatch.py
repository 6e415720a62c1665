"""Benchmark: the warehouse's SQL crossmatch against astropy and STILTS at CSC scale.

1,304,376 detections (CSC 2.1's count) are matched with 10,000,000 SIMBAD-like
objects within the model's radius, best match per detection, every detection kept
(TOPCAT's find=best1 join=all1). The inputs are synthetic, from a fixed seed, on the
demo's sky (`demo.sky`, `demo.fields`): the detections lie in the fields of view of the
pointings of a demo sky with as many detections, the objects are spread over the whole
sky, along the Galactic plane and over the demo's fields, or are counterparts of
detections at the demo's offsets. They are written once to Parquet (and to FITS for
STILTS) before anything is timed. Each tool then runs in a subprocess of its own, so that
its seconds and peak memory (RSS) are its own, and writes its best matches to Parquet,
which are compared afterwards.

What each timing includes:
  warehouse  a fresh DuckDB file: the raw tables loaded from the Parquet files, then
             `dbt build --select +simbad_matches` (dbt start-up, the staging views,
             int_simbad_match_candidates through the sky_crossmatch macro,
             simbad_matches, their data and unit tests); the result read out
             afterwards is not timed. The seconds dbt reports for the two models
             are shown too (`sql_seconds`).
  astropy    reading the Parquet files, building both SkyCoord, match_to_catalog_sky
             (KD-tree on the objects), the radius cut and writing the result.
  stilts     `stilts tmatch2 matcher=sky find=best1 join=all1` reading the FITS files
             and writing FITS (its own start-up included).

Run: python -m bench.crossmatch [--detections N] [--objects N] [--skip-stilts]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import yaml

from bench.process import Measurement, measure, require_success
from demo import DemoSize, sky
from demo.detections import MAX_THETA_ARCMIN
from demo.fields import Field, Pointings, fields_and_pointings
from demo.simbad import counterpart_offsets_arcsec, field_objects

REPO_ROOT = Path(__file__).resolve().parent.parent
WORK_DIR = REPO_ROOT / "build" / "bench" / "crossmatch"

CSC_DETECTIONS = 1_304_376
SIMBAD_OBJECTS = 10_000_000
SEED = 20_251_127
SEPARATION_TOLERANCE_ARCSEC = 1e-6
Figure = float | int | bool
STILTS_HEAP = "-Xmx16G"

# Where the synthetic objects come from, as shares of all objects: along the Galactic
# plane, over the fields (as the demo scatters its unrelated objects), counterparts of
# this share of the detections (at the demo's offsets), and the rest uniform over the sky.
GALACTIC_PLANE_SHARE = 0.25
FIELD_SHARE = 0.12
COUNTERPART_SHARE = 0.6
# Detections around an aim point, as the demo's sources around a targeted field's.
SOURCE_SPREAD_ARCMIN = 6.0
MAIN_TYPES = (
    "Star", "QSO", "AGN", "Seyfert_1", "Seyfert_2", "Galaxy", "X", "YSO", "Orion_V*",
    "EB*", "RGB*", "WD*", "HMXB", "LMXB", "CataclyV*", "Radio", "IR", "BLLac", "PN",
    "GlCl",
)  # fmt: skip


@dataclass(frozen=True)
class Inputs:
    detections: Path
    objects: Path
    detections_fits: Path
    objects_fits: Path


def _radius_arcsec() -> float:
    project = yaml.safe_load((REPO_ROOT / "dbt_project.yml").read_text())
    return float(project["vars"]["simbad_match_radius_arcsec"])


# --- synthetic inputs ------------------------------------------------------------


def _detections(rng: np.random.Generator, n: int, pointings: Pointings) -> pa.Table:
    """CSC-like detections: clustered in the fields of view of the demo sky's pointings."""
    pointing = np.sort(rng.integers(0, pointings.obsid.size, n))
    ra, dec = sky.scatter_around(
        rng,
        pointings.ra[pointing],
        pointings.dec[pointing],
        np.full(n, SOURCE_SPREAD_ARCMIN),
        max_arcmin=MAX_THETA_ARCMIN,
    )
    obsid = pointings.obsid[pointing].astype(np.int32)
    first_of_pointing = np.searchsorted(pointing, pointing)
    region_id = (np.arange(n) - first_of_pointing + 1).astype(np.int32)
    names = pc.binary_join_element_wise(
        "2CXO B", pc.cast(pa.array(np.arange(1, n + 1)), pa.string()), ""
    )
    return pa.table({"name": names, "obsid": obsid, "region_id": region_id, "ra": ra, "dec": dec})


def _objects(
    rng: np.random.Generator, n: int, detections: pa.Table, fields: list[Field]
) -> pa.Table:
    """SIMBAD-like objects: uniform, Galactic plane, over the fields, and counterparts."""
    n_plane = int(n * GALACTIC_PLANE_SHARE)
    field_ra, field_dec, _ = field_objects(
        rng, fields, n * FIELD_SHARE / sum(f.n_sources for f in fields)
    )
    n_counterparts = min(int(detections.num_rows * COUNTERPART_SHARE), n - n_plane - field_ra.size)
    n_uniform = n - n_plane - field_ra.size - n_counterparts

    matched = rng.choice(detections.num_rows, n_counterparts, replace=False)
    counterparts = sky.around(
        rng,
        detections["ra"].to_numpy()[matched],
        detections["dec"].to_numpy()[matched],
        counterpart_offsets_arcsec(rng, n_counterparts) / 3600,
    )
    parts = [
        sky.uniform_positions(rng, n_uniform),
        sky.along_the_plane(rng, n_plane, sigma_l_deg=60, sigma_b_deg=2.0),
        (field_ra, field_dec),
        counterparts,
    ]
    order = rng.permutation(n)
    ra = np.concatenate([part[0] for part in parts])[order]
    dec = np.concatenate([part[1] for part in parts])[order]
    main_ids = pc.binary_join_element_wise(
        "BENCH J", pc.cast(pa.array(np.arange(1, n + 1)), pa.string()), ""
    )
    main_types = pa.array(MAIN_TYPES).take(pa.array(rng.integers(0, len(MAIN_TYPES), n)))
    return pa.table({"main_id": main_ids, "ra": ra, "dec": dec, "main_type": main_types})


def _write_fits(table: pa.Table, path: Path) -> None:
    """A FITS binary table for STILTS: only what the match needs."""
    from astropy.table import Table

    columns = {}
    for name in table.column_names:
        values = table[name].to_numpy(zero_copy_only=False)
        # FITS holds fixed-width byte strings, not Python objects
        columns[name] = values.astype("S") if values.dtype == object else values
    Table(columns).write(path, overwrite=True)


def prepare_inputs(n_detections: int, n_objects: int, work_dir: Path) -> Inputs:
    """Generate the inputs once per size (reused while the files exist)."""
    stem = f"{n_detections}x{n_objects}"
    inputs = Inputs(
        detections=work_dir / f"detections_{stem}.parquet",
        objects=work_dir / f"objects_{stem}.parquet",
        detections_fits=work_dir / f"detections_{stem}.fits",
        objects_fits=work_dir / f"objects_{stem}.fits",
    )
    if all(path.exists() for path in vars(inputs).values()):
        return inputs
    work_dir.mkdir(parents=True, exist_ok=True)
    field_rng, scale_rng, rng = (
        np.random.default_rng(stream) for stream in np.random.SeedSequence(SEED).spawn(3)
    )
    fields, pointings = fields_and_pointings(
        field_rng, scale_rng, DemoSize.scaled(n_detections).scale
    )
    detections = _detections(rng, n_detections, pointings)
    objects = _objects(rng, n_objects, detections, fields)
    pq.write_table(detections, inputs.detections)
    pq.write_table(objects, inputs.objects)
    detection_ids = pc.binary_join_element_wise(
        detections["name"],
        pc.cast(detections["obsid"], pa.string()),
        pc.cast(detections["region_id"], pa.string()),
        "|",
    )
    _write_fits(
        pa.table({"detection_id": detection_ids, "ra": detections["ra"], "dec": detections["dec"]}),
        inputs.detections_fits,
    )
    _write_fits(objects.select(["main_id", "ra", "dec"]), inputs.objects_fits)
    return inputs


# --- the tools, each in a subprocess of its own ---------------------------------------


def _worker(*args: str) -> list[str]:
    return [sys.executable, "-m", "bench.crossmatch", *args]


def load_warehouse(warehouse: Path, detections: Path, objects: Path) -> None:
    """The raw tables of a fresh warehouse, filled from the Parquet files by DuckDB."""
    import duckdb

    from ingest.loader import ensure_raw_tables

    warehouse.unlink(missing_ok=True)
    with duckdb.connect(str(warehouse)) as con:
        ensure_raw_tables(con)
        con.execute(
            "insert into raw.csc_detections by name select * from read_parquet(?)",
            [str(detections)],
        )
        con.execute(
            "insert into raw.simbad_objects by name select * from read_parquet(?)", [str(objects)]
        )


def astropy_crossmatch(detections_file: Path, objects_file: Path, result: Path) -> None:
    """astropy's nearest object per detection (KD-tree on the objects), cut at the radius."""
    from astropy import units as u
    from astropy.coordinates import SkyCoord

    radius_arcsec = _radius_arcsec()
    detections = pq.read_table(detections_file, columns=["name", "obsid", "region_id", "ra", "dec"])
    objects = pq.read_table(objects_file, columns=["main_id", "ra", "dec"])
    index, separation, _ = SkyCoord(
        detections["ra"].to_numpy() * u.deg, detections["dec"].to_numpy() * u.deg
    ).match_to_catalog_sky(
        SkyCoord(objects["ra"].to_numpy() * u.deg, objects["dec"].to_numpy() * u.deg)
    )
    within = pa.array(separation.arcsec <= radius_arcsec)
    pq.write_table(
        pa.table(
            {
                "detection_id": _detection_ids(detections),
                "main_id": pc.if_else(within, objects["main_id"].take(index), None),
                "separation_arcsec": pc.if_else(within, pa.array(separation.arcsec), None),
            }
        ),
        result,
    )


def _detection_ids(detections: pa.Table) -> pa.ChunkedArray:
    """The detection key as stg_csc__detections builds it: name|obsid|region_id."""
    return pc.binary_join_element_wise(
        detections["name"],
        pc.cast(detections["obsid"], pa.string()),
        pc.cast(detections["region_id"], pa.string()),
        "|",
    )


def stilts_command(stilts: str, inputs: Inputs, radius_arcsec: float, result: Path) -> list[str]:
    return [
        stilts,
        STILTS_HEAP,
        "tmatch2",
        f"in1={inputs.detections_fits}",
        f"in2={inputs.objects_fits}",
        "matcher=sky",
        "values1=ra dec",
        "values2=ra dec",
        f"params={radius_arcsec}",
        "find=best1",
        "join=all1",
        "ocmd=keepcols 'detection_id main_id Separation'",
        "progress=none",
        f"out={result}",
    ]


# --- comparing best matches -----------------------------------------------------------


def _warehouse_matches(warehouse: Path) -> pa.Table:
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.sql(
            "select detection_id, main_id, separation_arcsec from main.simbad_matches"
        ).to_arrow_table()


def _stilts_matches(result: Path) -> pa.Table:
    from astropy.table import Table

    frame = Table.read(result, character_as_bytes=False).to_pandas()
    # FITS strings cannot be null: an unmatched row has an empty main_id and no Separation
    matched = frame["Separation"].notna()
    return pa.table(
        {
            "detection_id": frame["detection_id"].str.strip(),
            "main_id": frame["main_id"].str.strip().where(matched, None),
            "separation_arcsec": frame["Separation"].astype(float),
        }
    )


def same_best_matches(reference: pa.Table, other: pa.Table) -> bool:
    """Same detections, the same object (or none) for each, separations within 1e-6"."""
    import duckdb

    con = duckdb.connect()
    con.register("reference", reference)
    con.register("other", other)
    (n_reference, n_other, n_joined, n_differing, worst) = con.sql(
        """
        select
            (select count(*) from reference),
            (select count(*) from other),
            count(*),
            count(*) filter (where reference.main_id is distinct from other.main_id),
            coalesce(max(abs(reference.separation_arcsec - other.separation_arcsec)), 0)
        from reference
        inner join other using (detection_id)
        """
    ).fetchone()
    return (
        n_reference == n_other == n_joined
        and n_differing == 0
        and worst <= SEPARATION_TOLERANCE_ARCSEC
    )


# --- the benchmark ----------------------------------------------------------------------


def run(
    n_detections: int = CSC_DETECTIONS,
    n_objects: int = SIMBAD_OBJECTS,
    work_dir: Path = WORK_DIR,
    with_stilts: bool = True,
    repeat: int = 1,
) -> dict[str, Figure]:
    """Run the tools in turn, `repeat` rounds, on the same inputs: the median seconds and
    peak RSS of each, and whether its best matches equal the warehouse's. Also printed."""
    radius_arcsec = _radius_arcsec()
    inputs = prepare_inputs(n_detections, n_objects, work_dir)
    warehouse = work_dir / "warehouse.duckdb"
    dbt_target = work_dir / "dbt"
    astropy_result = work_dir / "astropy_matches.parquet"
    stilts_result = work_dir / "stilts_matches.fits"
    stilts = shutil.which("stilts") if with_stilts else None
    commands = {
        "warehouse_load": (
            _worker("load", str(warehouse), str(inputs.detections), str(inputs.objects)),
            None,
        ),
        "warehouse_dbt": _dbt_run_command(warehouse, dbt_target),
        "astropy": (
            _worker("astropy", str(inputs.detections), str(inputs.objects), str(astropy_result)),
            None,
        ),
    }
    if stilts is not None:
        commands["stilts"] = (stilts_command(stilts, inputs, radius_arcsec, stilts_result), None)

    measurements: dict[str, list[Measurement]] = {tool: [] for tool in commands}
    sql_seconds = []
    # Round-robin, so that a busy spell on the machine does not fall on one tool only.
    for _ in range(repeat):
        for tool, (command, env) in commands.items():
            measurements[tool].append(require_success(measure(command, env), tool, None))
            if tool == "warehouse_dbt":
                sql_seconds.append(_model_seconds(dbt_target))

    reference = _warehouse_matches(warehouse)
    figures: dict[str, Figure] = {
        "n_detections": n_detections,
        "n_objects": n_objects,
        "radius_arcsec": radius_arcsec,
        "repeat": repeat,
        "matched_detections": reference.num_rows - reference["main_id"].null_count,
        "warehouse_sql_seconds": statistics.median(sql_seconds),
    }
    for tool, samples in measurements.items():
        figures[f"{tool}_seconds"] = statistics.median(sample.seconds for sample in samples)
        figures[f"{tool}_cpu_seconds"] = statistics.median(sample.cpu_seconds for sample in samples)
        figures[f"{tool}_peak_rss_mib"] = statistics.median(
            sample.peak_rss_mib for sample in samples
        )
    figures["astropy_identical"] = same_best_matches(reference, pq.read_table(astropy_result))
    if stilts is not None:
        figures["stilts_identical"] = same_best_matches(reference, _stilts_matches(stilts_result))
    print_table(figures)
    return figures


def _dbt_run_command(warehouse: Path, dbt_target: Path) -> tuple[list[str], dict[str, str]]:
    """simbad_matches and its parents, seeds included (the type resolution reads one), on
    `warehouse`: `dbt build` of those models and seeds, without the data tests."""
    command = [
        str(Path(sys.executable).parent / "dbt"),
        "--quiet",
        "build",
        "--select",
        "+simbad_matches",
        "--resource-type",
        "model",
        "--resource-type",
        "seed",
        "--project-dir",
        str(REPO_ROOT),
        "--target-path",
        str(dbt_target / "target"),
        "--log-path",
        str(dbt_target / "logs"),
    ]
    env = {
        **os.environ,
        "XRAY_WAREHOUSE": str(warehouse),
        "DBT_PROFILES_DIR": str(REPO_ROOT),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    return command, env


def _model_seconds(dbt_target: Path) -> float:
    """The seconds dbt spent on the models of its last run (compiling and executing)."""
    run_results = json.loads((dbt_target / "target" / "run_results.json").read_text())
    return sum(result["execution_time"] for result in run_results["results"])


def print_table(figures: dict[str, Figure]) -> None:
    peers = [peer for peer in ("astropy", "stilts") if f"{peer}_seconds" in figures]
    print(
        f"\n{figures['n_detections']:,} detections x {figures['n_objects']:,} objects, best match"
        f" within {figures['radius_arcsec']} arcsec ({figures['matched_detections']:,} matched);"
        f" median of {figures['repeat']} run(s)\n"
    )
    print(
        f"{'':<44}{'seconds':>9}{'CPU s':>8}{'peak RSS MiB':>14}"
        + "".join(f"{'÷ ' + peer:>11}" for peer in peers)
        + f"{'identical':>11}"
    )
    rows = [
        ("warehouse SQL crossmatch (dbt's model times)", "warehouse_sql"),
        ("warehouse dbt build (with dbt's start-up)", "warehouse_dbt"),
        ("warehouse load, Parquet -> raw tables", "warehouse_load"),
    ]
    for label, tool in rows:
        seconds = figures[f"{tool}_seconds"]
        ratios = "".join(f"{seconds / figures[f'{peer}_seconds']:>11.2f}" for peer in peers)
        print(
            f"{label:<44}{seconds:>9.1f}{_figure(figures.get(f'{tool}_cpu_seconds'), '.1f'):>8}"
            f"{_figure(figures.get(f'{tool}_peak_rss_mib'), ',.0f'):>14}{ratios}"
        )
    load_and_run = figures["warehouse_load_seconds"] + figures["warehouse_dbt_seconds"]
    ratios = "".join(f"{load_and_run / figures[f'{peer}_seconds']:>11.2f}" for peer in peers)
    print(f"{'warehouse load + dbt build':<44}{load_and_run:>9.1f}{'':>22}{ratios}")
    for peer in peers:
        identical = "yes" if figures[f"{peer}_identical"] else "NO"
        print(
            f"{peer:<44}{figures[f'{peer}_seconds']:>9.1f}"
            f"{figures[f'{peer}_cpu_seconds']:>8.1f}{figures[f'{peer}_peak_rss_mib']:>14,.0f}"
            f"{'':>{11 * len(peers)}}{identical:>11}"
        )


def _figure(value: Figure | None, spec: str) -> str:
    return "" if value is None else format(value, spec)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.crossmatch",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--detections", type=int, default=CSC_DETECTIONS)
    parser.add_argument("--objects", type=int, default=SIMBAD_OBJECTS)
    parser.add_argument("--work-dir", type=Path, default=WORK_DIR)
    parser.add_argument("--skip-stilts", action="store_true")
    parser.add_argument("--repeat", type=int, default=1, help="rounds; medians are reported")
    workers = parser.add_subparsers(dest="worker", help=argparse.SUPPRESS)
    load = workers.add_parser("load")
    astropy = workers.add_parser("astropy")
    for worker in (load, astropy):
        worker.add_argument("paths", type=Path, nargs=3)
    args = parser.parse_args(argv)

    if args.worker == "load":
        load_warehouse(*args.paths)
    elif args.worker == "astropy":
        astropy_crossmatch(*args.paths)
    else:
        figures = run(
            args.detections, args.objects, args.work_dir, not args.skip_stilts, args.repeat
        )
        print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
