"""Print the original report's per-cluster tables for one run, in Markdown.

For each cluster: its largest SIMBAD main types with the mean membership
probability of every component (prob_0 ...) and their size.

    python -m report.tables [--run RUN] [--top 10] [--db warehouse.duckdb]

RUN defaults to the warehouse's default run (build_parameters' default_gmm_run).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass

import duckdb

from report import queries
from report.warehouse import add_warehouse_arguments, open_warehouse


@dataclass(frozen=True)
class ClusterTable:
    cluster: int
    n_detections: int
    rows: list[tuple[str, list[float], int]]  # (main_type, mean probabilities, size)


def cluster_tables(
    connection: duckdb.DuckDBPyConnection, run_id: str, top: int = 10
) -> list[ClusterTable]:
    """The per-cluster tables of a run, largest main types first (ties by name)."""
    runs = queries.run_ids(connection)
    if run_id not in runs:
        raise LookupError(f"run {run_id!r} not found; the warehouse has: {', '.join(runs)}")
    rows = connection.execute(
        """
        select
            cluster,
            sum(size) over (partition by cluster) as n_detections,
            main_type,
            mean_probabilities,
            size
        from cluster_main_types
        where run_id = ?
        qualify row_number() over (partition by cluster order by size desc, main_type) <= ?
        order by cluster, size desc, main_type
        """,
        [run_id, top],
    ).fetchall()
    tables: dict[int, ClusterTable] = {}
    for cluster, n_detections, main_type, probabilities, size in rows:
        table = tables.setdefault(cluster, ClusterTable(cluster, int(n_detections), []))
        table.rows.append((main_type, probabilities, size))
    return list(tables.values())


def markdown(run_id: str, tables: list[ClusterTable]) -> str:
    lines = []
    for table in tables:
        n_components = len(table.rows[0][1])
        header = ["main_type", *(f"prob_{k}" for k in range(n_components)), "size"]
        lines += [
            f"### {run_id}: cluster {table.cluster} ({table.n_detections} detections)",
            "",
            "| " + " | ".join(header) + " |",
            "|" + "|".join(["---", *["---:"] * (n_components + 1)]) + "|",
        ]
        for main_type, probabilities, size in table.rows:
            cells = [main_type, *(f"{p:.4g}" for p in probabilities), str(size)]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_warehouse_arguments(parser)
    parser.add_argument("--top", type=int, default=10, help="main types per cluster")
    args = parser.parse_args(argv)
    with open_warehouse(args.db) as connection:
        run_id = args.run or queries.default_run(connection)
        try:
            tables = cluster_tables(connection, run_id, args.top)
        except LookupError as error:
            print(error, file=sys.stderr)
            return 2
    print(markdown(run_id, tables))
    return 0


if __name__ == "__main__":
    sys.exit(main())
