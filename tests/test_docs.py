"""`make docs` builds dbt's documentation site, and it documents every model, seed, source
and column, physical quantities with their units."""

from __future__ import annotations

import json
import re
import shutil

import pytest
from support import TEST_DBT_DIR, make_arguments, run_dbt

from ingest.schema import unit_of


@pytest.fixture(scope="module")
def documentation(demo_warehouse, tmp_path_factory):
    """The site `make docs` generates, generated in-process on a copy of the demo warehouse."""
    warehouse = tmp_path_factory.mktemp("docs") / "warehouse.duckdb"
    shutil.copy(demo_warehouse, warehouse)
    run_dbt(["docs", "generate", "--static"], warehouse)
    docs = TEST_DBT_DIR / "target"
    manifest = json.loads((docs / "manifest.json").read_text())
    catalog = json.loads((docs / "catalog.json").read_text())
    return docs, manifest, catalog


def test_make_docs_generates_the_static_site(tmp_path):
    site = tmp_path / "site"
    assert make_arguments(tmp_path, "docs", docs_dir=site) == [
        ["dbt", "docs", "generate", "--static", "--target-path", str(site), "--quiet"]
    ]


def documented_relations(manifest, catalog):
    for kind in ("nodes", "sources"):
        for unique_id, relation in catalog[kind].items():
            node = manifest[kind][unique_id]
            if node["resource_type"] in ("model", "seed", "source"):
                yield unique_id, node, relation["columns"]


def test_the_site_opens_offline(documentation):
    docs, _, _ = documentation
    page = (docs / "static_index.html").read_text()
    assert '"nodes"' in page  # manifest and catalog are inlined
    assert not re.search(r"<(script|link)[^>]+(src|href)=\"https?://", page)


def test_every_relation_and_column_is_described(documentation):
    _, manifest, catalog = documentation
    undescribed = []
    for unique_id, node, columns in documented_relations(manifest, catalog):
        if not node["description"].strip():
            undescribed.append(unique_id)
        described = {name for name, column in node["columns"].items() if column["description"]}
        undescribed += [f"{unique_id}.{name}" for name in columns if name not in described]
    assert undescribed == []


def test_physical_quantities_carry_their_units(documentation):
    """Every documented column with a unit (ingest.schema.unit_of: the contract's, and the
    derived positions' and separations') names it in its description."""
    _, manifest, catalog = documentation
    checked, missing = 0, []
    for unique_id, node, _ in documented_relations(manifest, catalog):
        for name, column in node["columns"].items():
            unit = unit_of(name)
            if unit:
                checked += 1
                if not re.search(
                    rf"(^|[\s(,]){re.escape(unit)}($|[\s).,;])", column["description"]
                ):
                    missing.append(f"{unique_id}.{name}: {unit}")
    assert checked > 100
    assert missing == []
