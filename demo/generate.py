"""The demo sky, start to end: fields, pointings, sources, detections, SIMBAD, the truth."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from demo.detections import candidates, detections
from demo.fields import fields_and_pointings
from demo.populations import KINDS, draw_sources, population_of
from demo.simbad import simbad_objects
from ingest.schema import CSC_DETECTIONS, SIMBAD_OBJECTS

DEMO_SEED = 23_025
N_DETECTIONS = 23_025

DETECTIONS_FILE = "csc_detections.parquet"
SIMBAD_FILE = "simbad_objects.parquet"
TRUTH_FILE = "demo_truth.parquet"

# Unrelated SIMBAD objects scattered over the fields, per source the fields hold, and
# across the whole sky: the default demo's sparse SIMBAD side, about 0.6 objects per
# detection.
FIELD_OBJECTS_PER_SOURCE = 0.3
ALL_SKY_OBJECTS = 800
# A sky of a chosen size is given about 3 SIMBAD objects per detection, more chance
# neighbours for a crossmatch to pass over: its counterparts and neighbours per source
# are the default's, the rest are unrelated objects over its fields.
SCALED_FIELD_OBJECTS_PER_SOURCE = 3.7
# A sky whose sources give too few detections is planned again this much larger.
REPLAN_FACTOR = 1.25


@dataclass(frozen=True)
class DemoSize:
    """How big a demo sky is: its detections, and how crowded its SIMBAD side."""

    detections: int = N_DETECTIONS
    field_objects_per_source: float = FIELD_OBJECTS_PER_SOURCE

    @classmethod
    def scaled(cls, detections: int) -> DemoSize:
        """A sky of `detections` detections, with about 3 SIMBAD objects for each."""
        return cls(detections, SCALED_FIELD_OBJECTS_PER_SOURCE)

    @property
    def scale(self) -> float:
        """Fields, pointings and sources, as a multiple of the default sky's."""
        return self.detections / N_DETECTIONS


@dataclass(frozen=True)
class DemoTables:
    """The demo's tables. Only detections and simbad_objects are inputs of the warehouse."""

    detections: pa.Table  # raw.csc_detections
    simbad_objects: pa.Table  # raw.simbad_objects
    truth: pa.Table  # what each detected source really is (TRUTH_SCHEMA)
    pointings: pa.Table  # obsid and the aim point every detection's `theta` is from


@dataclass(frozen=True)
class DemoFiles:
    """Where write_demo put the tables."""

    detections: Path
    simbad_objects: Path
    truth: Path


# One row per CSC master source of the demo, for scoring classifications: never loaded
# into the warehouse's raw tables.
TRUTH_SCHEMA = pa.schema(
    [
        pa.field("name", pa.string(), nullable=False),  # CSC name, as in csc_detections
        pa.field("population", pa.string(), nullable=False),  # agn, yso, xrb, ...
        pa.field("label", pa.string(), nullable=False),  # its kind's SIMBAD long label
        pa.field("has_counterpart", pa.bool_(), nullable=False),  # SIMBAD knows it
        pa.field("counterpart_main_id", pa.string()),  # that object's main_id, else null
        pa.field("is_target", pa.bool_(), nullable=False),  # its field's aim-point target
        pa.field("field", pa.string(), nullable=False),  # the field it lies in
        pa.field("field_kind", pa.string(), nullable=False),  # star_forming, deep, ...
        pa.field("n_detections", pa.int32(), nullable=False),  # its rows in csc_detections
    ]
)


def generate_demo(seed: int = DEMO_SEED, size: DemoSize = DemoSize()) -> DemoTables:
    """The demo sky's tables, the raw ones with the raw-table schemas."""
    scale = size.scale
    while True:
        field_rng, source_rng, detection_rng, simbad_rng, scale_rng = _random_streams(seed)
        fields, pointings = fields_and_pointings(field_rng, scale_rng, scale)
        sources = draw_sources(source_rng, fields, pointings)
        pool = candidates(detection_rng, sources, pointings)
        if pool.source.size >= size.detections:
            break
        scale *= REPLAN_FACTOR
    detected = detections(detection_rng, pool, sources, pointings, size.detections)
    simbad = simbad_objects(
        simbad_rng,
        fields,
        sources,
        detected,
        size.field_objects_per_source,
        round(ALL_SKY_OBJECTS * size.scale),
    )
    return DemoTables(
        detections=_arrow_table(detected.columns, CSC_DETECTIONS.arrow_schema),
        simbad_objects=_arrow_table(simbad.columns, SIMBAD_OBJECTS.arrow_schema)
        .take(simbad.row_order)
        .combine_chunks(),
        truth=_truth(fields, sources, detected, simbad),
        pointings=pa.table(
            {
                "obsid": pa.array(pointings.obsid, pa.int32()),
                "ra_pnt": pointings.ra,
                "dec_pnt": pointings.dec,
                "field": [fields[i].name for i in pointings.field],
            }
        ),
    )


def write_demo(out_dir: Path, seed: int = DEMO_SEED, size: DemoSize = DemoSize()) -> DemoFiles:
    """Write the demo tables as Parquet into out_dir (created if missing)."""
    tables = generate_demo(seed, size)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = DemoFiles(out_dir / DETECTIONS_FILE, out_dir / SIMBAD_FILE, out_dir / TRUTH_FILE)
    # No statistics timestamps or pandas metadata: the bytes depend on the data only.
    pq.write_table(tables.detections, files.detections, compression="zstd")
    pq.write_table(tables.simbad_objects, files.simbad_objects, compression="zstd")
    pq.write_table(tables.truth, files.truth, compression="zstd")
    return files


def _random_streams(seed: int) -> list[np.random.Generator]:
    """Independent random streams: each stage draws from its own, so that a stage added
    or changed leaves what the others draw as it was. The fifth draws only what a sky of
    another size than the default needs."""
    return [np.random.default_rng(stream) for stream in np.random.SeedSequence(seed).spawn(5)]


def _truth(fields, sources, detected, simbad) -> pa.Table:
    """Per detected source: its population and label, whether SIMBAD was given its
    counterpart, and where it lies; sorted by name, as csc_detections is."""
    source, first_row, n_detections = np.unique(
        detected.source, return_index=True, return_counts=True
    )
    # Each source's counterpart among the SIMBAD objects, if it was given one.
    counterpart_of_source = np.full(sources.field.size, -1)
    objects = np.flatnonzero(simbad.counterpart_of >= 0)
    counterpart_of_source[simbad.counterpart_of[objects]] = objects
    counterpart = counterpart_of_source[source]
    kind = sources.kind[source]
    field = sources.field[source]
    columns = {
        "name": detected.columns["name"][first_row],
        "population": population_of(kind),
        "label": np.array([k.label for k in KINDS])[kind],
        "has_counterpart": counterpart >= 0,
        "counterpart_main_id": np.where(
            counterpart >= 0, simbad.columns["main_id"][counterpart], None
        ),
        "is_target": sources.is_target[source],
        "field": [fields[f].name for f in field],
        "field_kind": [fields[f].kind for f in field],
        "n_detections": n_detections,
    }
    order = np.argsort(columns["name"], kind="stable")
    return pa.table(
        {name: pa.array(np.asarray(values)[order]) for name, values in columns.items()}
    ).cast(TRUTH_SCHEMA)


def _arrow_table(columns: dict[str, np.ndarray | pa.Array], schema: pa.Schema) -> pa.Table:
    """Columns in schema order; NaN and None become null."""
    arrays = []
    for field in schema:
        values = columns[field.name]
        if isinstance(values, pa.Array):
            arrays.append(values)
        elif pa.types.is_floating(field.type):
            arrays.append(pa.array(values, field.type, mask=np.isnan(values)))
        else:
            arrays.append(pa.array(values, field.type))
    return pa.Table.from_arrays(arrays, schema=schema)
