"""`python -m ingest COMMAND ...`: fill the warehouse's raw schema.

Each subcommand module exposes `register_cli(subparsers)`, which adds its parsers
and sets `func` on each to a handler taking the parsed arguments and returning the
exit status. Adding a module's subcommands is one entry per command in
`COMMAND_MODULES`. A handler may raise IngestError: its message is printed without a
traceback and the exit status is 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from ingest.errors import IngestError

# The module registering each subcommand. Only the named command's module is imported
# (the archive clients' pyvo and astroquery take ~2 s to import, a local load needs
# neither); without a known command every module is, so help lists them all.
COMMAND_MODULES = {
    "files": "ingest.loader",
    "demo": "ingest.demo_command",
    "csc": "ingest.csc",
    "simbad": "ingest.xmatch",
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser of `command`'s module, or of every module if command is not one."""
    parser = argparse.ArgumentParser(
        prog="python -m ingest", description="Load data into the warehouse's raw schema."
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    wanted = COMMAND_MODULES.get(command)
    for module in [wanted] if wanted else dict.fromkeys(COMMAND_MODULES.values()):
        importlib.import_module(module).register_cli(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one subcommand and return its exit status."""
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser(argv[0] if argv else None).parse_args(argv)
    try:
        return args.func(args)
    except IngestError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
