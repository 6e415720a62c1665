"""`python -m warehouse build|install-build`: build the warehouse safely (warehouse.build).

    python -m warehouse build [--detections F] [--simbad F] [--crossmatch F] [--inputs F]
                              [--demo-dir DIR] [--vars-file F] [--no-wait] [--db FILE]
    python -m warehouse install-build [--db FILE]

With no input, `build` generates the synthetic demo into --demo-dir and builds on it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ingest.config import warehouse_path
from warehouse.build import BuildRequest, WarehouseFiles, install_pending, run_build

INPUTS = ("detections", "simbad", "crossmatch", "inputs")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m warehouse", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="load the inputs and run dbt build, then install")
    for name in INPUTS:
        build.add_argument(f"--{name}", type=Path, help=f"as `python -m ingest files --{name}`")
    build.add_argument(
        "--demo-dir", type=Path, default=Path("build/demo"), help="where the demo is written"
    )
    build.add_argument(
        "--vars-file", type=Path, help="a YAML file of dbt vars overriding dbt_project.yml's"
    )
    build.add_argument(
        "--no-wait", action="store_true", help="stop, rather than wait, if another build runs"
    )
    install = commands.add_parser(
        "install-build", help="install the build kept pending while the warehouse was held"
    )
    for command in (build, install):
        command.add_argument("--db", type=Path, help="the warehouse file ($XRAY_WAREHOUSE)")
    args = parser.parse_args(argv)

    files = WarehouseFiles((args.db or warehouse_path()).absolute())
    if args.command == "install-build":
        return install_pending(files)
    given = [(name, getattr(args, name)) for name in INPUTS if getattr(args, name)]
    if given:
        ingest = ["files", *(part for name, path in given for part in (f"--{name}", str(path)))]
    else:
        ingest = ["demo", "--out", str(args.demo_dir), "--load"]
    dbt_vars = args.vars_file.read_text() if args.vars_file else None
    return run_build(BuildRequest(files, ingest, dbt_vars, wait=not args.no_wait))


if __name__ == "__main__":
    sys.exit(main())
