"""`python -m ingest COMMAND ...`: fill the warehouse's raw schema.

Each subcommand module exposes `register_cli(subparsers)`, which adds its parsers
and sets `func` on each to a handler taking the parsed arguments and returning the
exit status. Adding a module's subcommands is one import and one `register_cli`
call in `build_parser`. A handler may raise IngestError: its message is printed
without a traceback and the exit status is 2.
"""

from __future__ import annotations

import argparse
import sys

from ingest import csc, loader, xmatch
from ingest.errors import IngestError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ingest", description="Load data into the warehouse's raw schema."
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    loader.register_cli(subparsers)
    csc.register_cli(subparsers)
    xmatch.register_cli(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one subcommand and return its exit status."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except IngestError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
