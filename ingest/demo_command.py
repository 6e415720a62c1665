"""The `demo` subcommand of `python -m ingest`: write the synthetic demo sky's files (and
with --load, load them as `files` would). Its own module, so that loading local files
does not import the simulator (astropy.coordinates and pandas, ~2 s)."""

from __future__ import annotations

import argparse
from pathlib import Path

from demo import DEMO_SEED, N_DETECTIONS, DemoSize, write_demo
from ingest.config import warehouse_path
from ingest.files import InputFile, InputSet
from ingest.loader import add_warehouse_argument, load_input_set, summary_lines


def register_cli(subparsers: argparse._SubParsersAction) -> None:
    """Add the `demo` subcommand."""
    demo = subparsers.add_parser(
        "demo",
        help="write the synthetic demo files, and with --load load them",
        description=(
            "Generate the synthetic demo detections and SIMBAD objects as Parquet, and beside"
            " them the truth (what every source really is), which is never loaded."
        ),
    )
    demo.add_argument("--out", type=Path, required=True, help="directory for the demo files")
    demo.add_argument(
        "--seed", type=int, default=DEMO_SEED, help=f"random seed (default {DEMO_SEED})"
    )
    demo.add_argument(
        "--detections",
        type=_positive_int,
        metavar="N",
        help="a sky of N detections, fields and sources in proportion and about 3 N SIMBAD"
        f" objects (default: the {N_DETECTIONS:,}-detection demo, 0.6 N SIMBAD objects)",
    )
    demo.add_argument(
        "--load", action="store_true", help="load the files into the warehouse, as `files` does"
    )
    add_warehouse_argument(demo)
    demo.set_defaults(func=_run_demo)


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _run_demo(args: argparse.Namespace) -> int:
    size = DemoSize() if args.detections is None else DemoSize.scaled(args.detections)
    demo_files = write_demo(args.out, seed=args.seed, size=size)
    print(f"demo files: {demo_files.detections}, {demo_files.simbad_objects}")
    print(f"truth (not loaded): {demo_files.truth}")
    if args.load:
        inputs = InputSet(
            detections=InputFile(demo_files.detections),
            simbad=InputFile(demo_files.simbad_objects),
        )
        report = load_input_set(inputs, args.db or warehouse_path())
        print("\n".join(summary_lines(report)))
    return 0
