"""dbt's view of the raw contract, derived from ingest/schema.py so the two cannot drift.

    python -m ingest.dbt_sources           # write models/staging/_staging__sources.yml
    python -m ingest.dbt_sources --check   # exit 1, saying what differs, if out of date

The sources file is generated whole from the contract's tables and columns. The
staging models' accepted_range tests (models/staging/_staging__models.yml, written by
hand beside the models' other tests) are checked, not generated: each must be the
physical range of its raw column, and every documented column with a bounded physical
range must have one. They are the second line of defence behind the loader's checks.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from pathlib import Path

import yaml

from ingest.config import REPO_ROOT
from ingest.schema import (
    CSC_DETECTIONS,
    LOAD_LOG,
    RAW_SCHEMA,
    SIMBAD_CROSSMATCH,
    SIMBAD_OBJECTS,
    RawTable,
    ValueRange,
)

SOURCES_FILE = REPO_ROOT / "models" / "staging" / "_staging__sources.yml"
MODELS_FILE = REPO_ROOT / "models" / "staging" / "_staging__models.yml"

# dbt source name -> its description and tables (with theirs).
SOURCES: dict[str, tuple[str, list[tuple[RawTable, str]]]] = {
    "csc": (
        "Chandra Source Catalog rows as loaded by `python -m ingest` (schema `raw`).",
        [
            (
                CSC_DETECTIONS,
                "One row per detection of a CSC master source in one observation"
                " (per-observation properties from `observation_source`, position and"
                " significance from `master_source`), exactly as read from the input file.",
            )
        ],
    ),
    "simbad": (
        "SIMBAD objects and crossmatch pairs as loaded by `python -m ingest`.",
        [
            (
                SIMBAD_OBJECTS,
                "A local SIMBAD catalogue to crossmatch the detections with, in SQL.",
            ),
            (
                SIMBAD_CROSSMATCH,
                "Detection-object pairs matched outside the warehouse (a TOPCAT crossmatch,"
                " CDS X-Match), with the separation the tool reported.",
            ),
        ],
    ),
    "ingest": (
        "Bookkeeping of the loader.",
        [(LOAD_LOG, "One row per file loaded into a raw table (size, sha256, rows, time).")],
    ),
}

# A column is described by the doc block of its own name (models/docs.md), except:
SIMBAD_POSITION_DOCS = {"ra": "simbad_ra", "dec": "simbad_dec"}
DESCRIPTIONS = {
    (LOAD_LOG.name, "empty_columns"): (
        "Optional columns of the raw table that the file has but leaves null in every row"
        " (loaded as null, like the missing ones)."
    ),
    (LOAD_LOG.name, "crossmatch_radius_arcsec"): (
        "Radius the crossmatch pairs were fetched within (`python -m ingest simbad`), arcsec;"
        " null when the file does not say (TOPCAT, X-Match files)."
    ),
}

# Staging model -> the raw table it selects from, and its renamed columns (model -> raw).
STAGING_MODELS: dict[str, tuple[RawTable, dict[str, str]]] = {
    "stg_csc__detections": (CSC_DETECTIONS, {}),
    "stg_simbad__objects": (SIMBAD_OBJECTS, {}),
    "stg_simbad__crossmatch": (
        SIMBAD_CROSSMATCH,
        {"reported_separation_arcsec": "ang_dist_arcsec"},
    ),
}


def sources_yaml() -> str:
    """The text of the dbt sources file, from the contract."""
    lines = [
        "# Generated from the raw contract (ingest/schema.py) by `python -m ingest.dbt_sources`:",
        "# change the contract and regenerate; tests/test_dbt_contract.py checks they agree.",
        "version: 2",
        "",
        "sources:",
    ]
    for number, (source, (description, tables)) in enumerate(SOURCES.items()):
        if number:
            lines.append("")
        lines += [
            f"  - name: {source}",
            f"    description: {description}",
            f"    schema: {RAW_SCHEMA}",
            "    tables:",
        ]
        for raw_table, table_description in tables:
            lines.append(f"      - name: {raw_table.name}")
            lines += _description(" " * 8, table_description)
            lines.append("        columns:")
            for column in raw_table.columns:
                lines.append(f"          - name: {column}")
                lines += _description(" " * 12, _column_description(raw_table, column))
    return "\n".join(lines) + "\n"


def _description(indent: str, text: str) -> list[str]:
    """`description: text`, folded over lines of at most 100 characters when longer."""
    line = f"{indent}description: {text}"
    if len(line) <= 100:
        return [line]
    body = indent + "  "
    wrapped = textwrap.wrap(text, width=100, initial_indent=body, subsequent_indent=body)
    return [f"{indent}description: >", *wrapped]


def _column_description(raw_table: RawTable, column: str) -> str:
    literal = DESCRIPTIONS.get((raw_table.name, column))
    if literal is not None:
        return literal
    simbad_side = raw_table in (SIMBAD_OBJECTS, SIMBAD_CROSSMATCH)
    block = SIMBAD_POSITION_DOCS.get(column, column) if simbad_side else column
    return f"'{{{{ doc(\"{block}\") }}}}'"


def range_test_problems(models_text: str) -> list[str]:
    """Where the staging models' accepted_range tests and the contract's physical ranges
    disagree: a test with other bounds, or a documented column with a range but no test."""
    problems = []
    for model in yaml.safe_load(models_text)["models"]:
        if model["name"] not in STAGING_MODELS:
            continue
        raw_table, renamed = STAGING_MODELS[model["name"]]
        for column in model.get("columns", []):
            raw_column = renamed.get(column["name"], column["name"])
            if raw_column not in raw_table.columns:
                continue  # computed in the model (l, b, detection_id)
            where = f"{model['name']}.{column['name']} (raw.{raw_table.name}.{raw_column})"
            contract = raw_table.limits_of(raw_column).physical
            tested = [
                _tested_range(test["accepted_range"].get("arguments", {}))
                for test in column.get("data_tests") or []
                if isinstance(test, dict) and "accepted_range" in test
            ]
            bounded = contract.minimum is not None or contract.maximum is not None
            if bounded and not tested:
                problems.append(f"{where}: no accepted_range test for the contract's {contract}")
            problems += [
                f"{where}: accepted_range {found} but the contract says {contract}"
                for found in tested
                if found != contract
            ]
    return problems


def _tested_range(arguments: dict) -> ValueRange:
    return ValueRange(
        minimum=arguments.get("min_value"),
        maximum=arguments.get("max_value"),
        inclusive=arguments.get("inclusive", True),
    )


def check(sources_file: Path, models_file: Path) -> list[str]:
    """Every way the dbt files disagree with the contract; empty when they agree."""
    problems = []
    if not sources_file.exists() or sources_file.read_text() != sources_yaml():
        problems.append(
            f"{sources_file} is not what the contract gives: run python -m ingest.dbt_sources"
        )
    return problems + [f"{models_file}: {p}" for p in range_test_problems(models_file.read_text())]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only check, write nothing")
    args = parser.parse_args(argv)
    if not args.check:
        SOURCES_FILE.write_text(sources_yaml())
    problems = check(SOURCES_FILE, MODELS_FILE)
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
