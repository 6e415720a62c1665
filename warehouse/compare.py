"""Compare two warehouse files relation by relation: are their contents identical?

    python -m warehouse.compare BEFORE.duckdb AFTER.duckdb [--rename OLD=NEW ...]
                                [--tolerance 1e-12]

Each relation (table or view) is reduced to its row count, its columns and types, and an
order-independent content hash: the sum of the hashes of its rows, every row taken as a
struct of its columns in name order (so a reordered column list hashes alike). Columns
that differ from build to build by nature are left out: timestamps (any TIMESTAMP type)
and measured durations (VOLATILE_COLUMNS). Relations are matched by name across schemas
(a model moved from `main` to `intermediate` is the same relation); `--rename` maps a
relation renamed between the two builds.

With --tolerance, a relation whose hash differs is compared row by row: rows are matched
on their columns that hold no floating-point number (which must then be a key on both
sides), and the floating-point columns (lists of them too) must agree within the relative
tolerance. This tells rounding in the last bits (a BLAS product taking another path for a
batch of another size) from a real change. Exit status 0 when every relation matches.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb

# Measured, not computed: seconds a fit took and the worker that ran it.
VOLATILE_COLUMNS = frozenset({"fit_seconds", "fit_worker"})


@dataclass(frozen=True)
class RelationDigest:
    schema: str
    name: str
    row_count: int
    columns: tuple[tuple[str, str], ...]
    content_hash: int

    @property
    def qualified(self) -> str:
        return f'"{self.schema}"."{self.name}"'


def is_floating(data_type: str) -> bool:
    return "DOUBLE" in data_type or "FLOAT" in data_type


def digests(con: duckdb.DuckDBPyConnection, database: str, volatile: frozenset[str]):
    """Relation name -> its digest, for every table and view of an attached warehouse."""
    relations = con.execute(
        "select table_schema, table_name from information_schema.tables"
        " where table_catalog = ? order by table_schema, table_name",
        [database],
    ).fetchall()
    found: dict[str, RelationDigest] = {}
    for schema, name in relations:
        columns = con.execute(
            "select column_name, data_type from information_schema.columns"
            " where table_catalog = ? and table_schema = ? and table_name = ?"
            " order by column_name",
            [database, schema, name],
        ).fetchall()
        compared = tuple(
            (column, data_type)
            for column, data_type in columns
            if column not in volatile and not data_type.startswith("TIMESTAMP")
        )
        row = ", ".join(f'"{column}" := "{column}"' for column, _ in compared)
        count, content_hash = con.execute(
            f"select count(*), coalesce(sum(hash(struct_pack({row}))::hugeint), 0)"
            f' from "{database}"."{schema}"."{name}"'
        ).fetchone()
        if name in found:
            raise SystemExit(f"{database}: relation {name} is in two schemas; compare by hand")
        found[name] = RelationDigest(schema, name, count, compared, int(content_hash))
    return found


def _flat(expression: str, data_type: str) -> str:
    """A list of numbers (or one number) as a flat list, whatever its nesting."""
    depth = data_type.count("[]")
    if depth == 0:
        return f"[{expression}]"
    for _ in range(depth - 1):
        expression = f"flatten({expression})"
    return expression


def largest_difference(
    con: duckdb.DuckDBPyConnection, before: RelationDigest, after: RelationDigest
) -> float | str:
    """The largest relative difference of a floating-point value between rows matched on
    the other columns, or why the rows cannot be matched so."""
    key = [column for column, data_type in before.columns if not is_floating(data_type)]
    floats = [(column, data_type) for column, data_type in before.columns if is_floating(data_type)]
    if not floats:
        return "no floating-point column, so the difference is exact"
    sides = {"x": f"first.{before.qualified}", "y": f"second.{after.qualified}"}
    key_list = ", ".join(f'"{column}"' for column in key) or "1"
    for alias, relation in sides.items():
        duplicated = con.execute(
            f"select count(*) from (select {key_list} from {relation}"
            f" group by all having count(*) > 1)"
        ).fetchone()[0]
        if duplicated:
            return f"rows cannot be matched: the non-float columns repeat in {alias}"
    joined = " and ".join(f'x."{column}" is not distinct from y."{column}"' for column in key)
    differences = [
        f"list_max(list_transform(list_zip({_flat(f'x.{column}', data_type)},"
        f" {_flat(f'y.{column}', data_type)}), pair -> case when pair[1] is not distinct from"
        f" pair[2] then 0 else abs(pair[1] - pair[2]) / greatest(abs(pair[1]), abs(pair[2]),"
        f" 1e-300) end))"
        for column, data_type in floats
    ]
    unmatched, largest = con.execute(
        f"select count(*) filter (where x.__matched is null or y.__matched is null),"
        f" max(greatest({', '.join(differences)}))"
        f" from (select *, true as __matched from {sides['x']}) as x"
        f" full outer join (select *, true as __matched from {sides['y']}) as y"
        f" on {joined or 'true'}"
    ).fetchone()
    if unmatched:
        return f"{unmatched} row(s) have no counterpart on the other side"
    return float(largest or 0.0)


def compare(
    first: Path, second: Path, renames: dict[str, str], volatile: frozenset[str],
    tolerance: float | None,
) -> list[str]:  # fmt: skip
    """One line per relation that differs or is missing on a side; empty when identical."""
    con = duckdb.connect()
    con.execute(f"attach '{first}' as first (read_only)")
    con.execute(f"attach '{second}' as second (read_only)")
    before, after = digests(con, "first", volatile), digests(con, "second", volatile)
    lines = []
    after_names = set(after)
    for old_name, old in sorted(before.items()):
        new_name = renames.get(old_name, old_name)
        new = after.get(new_name)
        after_names.discard(new_name)
        moved = "" if new is None or new.schema == old.schema else f" (now in {new.schema})"
        if new is None:
            lines.append(f"{old_name}: only in {first}")
        elif old.columns != new.columns:
            lines.append(f"{old_name}: columns differ: {old.columns} vs {new.columns}")
        elif (old.row_count, old.content_hash) != (new.row_count, new.content_hash):
            differs = f"{old_name}: content differs ({old.row_count} vs {new.row_count} rows)"
            if tolerance is None or old.row_count != new.row_count:
                lines.append(differs)
                continue
            difference = largest_difference(con, old, new)
            if isinstance(difference, str):
                lines.append(f"{differs}: {difference}")
            elif difference > tolerance:
                lines.append(f"{differs}, values by up to {difference:.1e} (relative)")
            else:
                print(f"  {old_name}{moved}: equal within {difference:.1e} (floating point)")
        else:
            print(f"  {old_name}{moved}: identical ({old.row_count} rows)")
    lines += [f"{name}: only in {second}" for name in sorted(after_names)]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m warehouse.compare",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("first", type=Path)
    parser.add_argument("second", type=Path)
    parser.add_argument(
        "--rename", action="append", default=[], metavar="OLD=NEW", help="a renamed relation"
    )
    parser.add_argument(
        "--ignore-column", action="append", default=[], metavar="NAME",
        help="also leave out this column wherever it appears (e.g. file, for builds in"
        " different directories)",
    )  # fmt: skip
    parser.add_argument(
        "--tolerance", type=float, help="relative tolerance for floating-point values"
    )
    args = parser.parse_args(argv)
    renames = dict(pair.split("=", 1) for pair in args.rename)
    volatile = VOLATILE_COLUMNS | set(args.ignore_column)
    lines = compare(args.first, args.second, renames, volatile, args.tolerance)
    print("\n".join(lines) if lines else "identical")
    return 1 if lines else 0


if __name__ == "__main__":
    sys.exit(main())
