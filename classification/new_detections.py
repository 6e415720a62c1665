"""`make classify DETECTIONS=file`: classify detections the warehouse has never seen, with
the models it stores, exactly as the build classified its own unlabelled detections.

    python -m classification.new_detections --detections FILE [--db WAREHOUSE]

1. The file is read by the project's ingest reader (the raw contract, its errors).
2. Features are computed by the feature set's definitions as the build used them
   (build_parameters.feature_sets) and transformed with the stored parameters
   (feature_transform_params) by the persisted macro main.scaled_feature_value, the one
   expression the build transformed by: nothing is refitted. A value outside the range of
   the build's own feature vectors is kept and flagged; a detection with a null or
   non-finite feature gets no class, and the features are named (nothing is imputed).
3. Each usable detection is scored against the stored mixture of the class models' run
   (cluster, membership probability, log-likelihood), then by every stored class model
   trained on all labels; sources get the soft and hard votes of source_classes.
4. The results go to the schema new_detections (tables detections, class_probabilities,
   source_classes), apart from everything the models learn from; a detection classified
   again replaces its rows. Every row names the model version it used. When another
   process holds the warehouse, the results are printed and the tables are not written
   (exit status 3), naming the holder.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from ingest.config import warehouse_path
from ingest.errors import IngestError
from warehouse.holders import holders

SCHEMA = "new_detections"
# Where the stored mixtures are (profiles.yml configures gmm_score with the same relation).
MIXTURES_RELATION = "intermediate.int_gmm_fits"
# The class models that classify unlabelled detections (classification.training.TRAININGS).
TRAINING = "all_labels"
TOP_CLASSES = 3
BAD_INPUT, NOT_WRITTEN = 2, 3


class WarehouseError(Exception):
    """The warehouse cannot classify (absent, or built without what classifying needs)."""


@dataclass(frozen=True)
class StoredModels:
    """What the warehouse's build fitted, as classifying new detections needs it."""

    run_id: str
    feature_set: str
    # The set's features as build_parameters records them: name, transform, expression.
    features: list[dict[str, str]]
    mixture: Any
    mixture_fitted_at: datetime
    # Per stored all-labels model: classifier, training, fitted_at, model (None if skipped),
    # skipped_reason.
    class_models: list[dict[str, Any]]


@dataclass(frozen=True)
class Classified:
    models: StoredModels
    detections: pa.Table
    class_probabilities: pa.Table
    source_classes: pa.Table


# The features of every new detection, by the set's expressions over the staging columns
# (as int_feature_inputs computes them), transformed by the stored parameters; flagged
# where a value lies outside the range the build's own vectors span.
FEATURES_SQL = """
with

staged as (
    select
        *,
        main.detection_id(name, obsid, region_id) as detection_id,
        main.galactic_l(ra, dec) as l,
        main.galactic_b(ra, dec) as b
    from new_rows
),

raw_features as (
    select detection_id, name, obsid, region_id, ra, dec, [{raw_values}] as raw_values
    from staged
),

feature_values as (
    select
        detection_id,
        unnest(range(len(raw_values))) as feature_index,
        unnest(raw_values) as raw_value
    from raw_features
),

params as (
    select feature_index, feature, transform, log_offset, scale_min, scale_max
    from main.feature_transform_params
    where feature_set = $feature_set
),

fitted_ranges as (
    select
        indices.feature_index,
        min(vectors.features[indices.feature_index + 1]) as fitted_min,
        max(vectors.features[indices.feature_index + 1]) as fitted_max
    from intermediate.int_feature_vectors as vectors, range({n_features}) as indices(feature_index)
    where vectors.feature_set = $feature_set
    group by indices.feature_index
),

checked as (
    select
        feature_values.*,
        params.* exclude (feature_index),
        fitted_ranges.fitted_min,
        fitted_ranges.fitted_max,
        feature_values.raw_value is null or not isfinite(feature_values.raw_value) as is_missing,
        -- ln(x + m/10) exists only above -m/10 (the build's own detections all were)
        params.transform = 'log_minmax'
            and feature_values.raw_value + params.log_offset <= 0 as is_outside_log_domain
    from feature_values
    inner join params using (feature_index)
    inner join fitted_ranges using (feature_index)
),

transformed as (
    select
        *,
        case
            when not (is_missing or is_outside_log_domain)
                then main.scaled_feature_value(
                    transform, raw_value, log_offset, scale_min, scale_max
                )
        end as value
    from checked
),

by_detection as (
    select
        detection_id,
        list(value order by feature_index) as features,
        coalesce(list(feature order by feature_index) filter (where is_missing), [])
            as missing_features,
        coalesce(
            list(feature order by feature_index) filter (where is_outside_log_domain), []
        ) as untransformable_features,
        coalesce(
            list(
                {{'feature': feature, 'value': value, 'fitted_min': fitted_min,
                  'fitted_max': fitted_max}}
                order by feature_index
            ) filter (where value < fitted_min or value > fitted_max),
            []
        ) as out_of_range_features
    from transformed
    group by detection_id
)

select raw_features.*, by_detection.* exclude (detection_id)
from raw_features
inner join by_detection using (detection_id)
order by detection_id
"""

# Each source's two votes over its classified detections, as source_classes defines them:
# soft, the class of largest mean probability (ties to the first class); hard, the most
# common detection class (ties to the class of the earliest detection). A detection with
# no class (null probabilities) takes part in neither.
VOTES_SQL = """
with

classified as (
    select * from new_class_probabilities where probability is not null
),

means as (
    select
        classifier, training, model_fitted_at, run_id, feature_set, name, class_name, class_index,
        count(probability) as n_detections,
        -- in ascending order of value, as the build's sorted_aggregate macro: the same bits
        list_aggregate(list_sort(list(probability)), 'avg') as mean_probability
    from classified
    group by all
),

soft_votes as (
    select
        classifier, training, model_fitted_at, run_id, feature_set, name,
        max(n_detections) as n_detections,
        arg_max(class_name, (mean_probability, -class_index)) as soft_class,
        max(mean_probability) as soft_class_probability
    from means
    group by all
),

detection_classes as (
    select
        classifier, name, detection_id,
        arg_max(class_name, (probability, -class_index)) as predicted_class
    from classified
    group by classifier, name, detection_id
),

hard_votes as (
    select classifier, name, predicted_class as hard_class, count(*) as hard_class_votes
    from detection_classes
    group by classifier, name, predicted_class
    qualify row_number() over (
        partition by classifier, name order by count(*) desc, min(detection_id)
    ) = 1
)

select
    soft_votes.*,
    hard_votes.hard_class,
    hard_votes.hard_class_votes,
    case when soft_votes.soft_class = hard_votes.hard_class then 'unique' else 'ambiguous' end
        as agreement
from soft_votes
inner join hard_votes using (classifier, name)
order by name, classifier desc
"""


def read_new_detections(path: Path) -> pa.Table:
    """The file's detections in the raw contract (ingest's reader, its checks and errors)."""
    from ingest.files import InputFile, InputSet, read_input_set
    from ingest.schema import CSC_DETECTIONS

    return read_input_set(InputSet(detections=InputFile(path)))[CSC_DETECTIONS.name].rows


def connected(path: Path, read_only: bool = False) -> duckdb.DuckDBPyConnection | None:
    """A connection to `path`, or None when another process's lock refuses it."""
    try:
        return duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as error:
        if "Could not set lock" not in str(error):
            raise
        return None


@contextlib.contextmanager
def warehouse_connection(path: Path) -> Iterator[tuple[duckdb.DuckDBPyConnection, str | None]]:
    """A connection to the warehouse, and why the results cannot be written there (None
    when they can). Held by readers, it is read read-only; held by a writer, which keeps
    even readers out, a copy of it is read."""
    if not path.is_file():
        raise WarehouseError(f"{path}: no warehouse there; build one first (make build)")
    with contextlib.ExitStack() as stack:
        connection, not_writable = connected(path), None
        if connection is None:
            held_by = "; ".join(
                f"{holder}, {'read-write' if holder.writes else 'read-only'}"
                for holder in holders(path)
            )
            connection = connected(path, read_only=True)
            not_writable = (
                f"{path} is open in another process ({held_by or 'unknown'}), and DuckDB lets"
                " no process write a file that another one has open"
            )
        if connection is None:
            copies = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="classify-")))
            connection = snapshot_connection(path, copies)
            not_writable = (
                f"{path} is open read-write in another process ({held_by or 'unknown'}), which"
                " keeps every other process from writing it, or even reading it (the models"
                " were read from a copy of it)"
            )
        stack.enter_context(contextlib.closing(connection))
        yield connection, not_writable


def snapshot_connection(path: Path, directory: Path) -> duckdb.DuckDBPyConnection:
    """A connection to a copy of the warehouse and its write-ahead log, taken while its
    file does not change (a writer's checkpoint in mid-copy would tear it)."""
    from warehouse.build import wal

    copy = directory / path.name
    for _ in range(3):
        before = path.stat()
        shutil.copyfile(path, copy)
        if wal(path).exists():
            shutil.copyfile(wal(path), wal(copy))
        after = path.stat()
        if (before.st_mtime_ns, before.st_size) == (after.st_mtime_ns, after.st_size):
            return duckdb.connect(str(copy))
    raise WarehouseError(f"{path} kept changing while it was copied; run again")


def stored_models(connection: duckdb.DuckDBPyConnection) -> StoredModels:
    """The class models trained on all labels, their run's mixture and feature set."""
    from python_udfs.functions import StoredMixtures

    missing = [
        f"macro main.{name}"
        for name in ("scaled_feature_value", "detection_id")
        if not connection.execute(
            "select count(*) from duckdb_functions() where function_name = ?", [name]
        ).fetchone()[0]
    ] + [
        f"table intermediate.{name}"
        for name in ("int_class_models", "int_gmm_fits", "int_feature_vectors")
        if not connection.execute(
            "select count(*) from information_schema.tables"
            " where table_schema = 'intermediate' and table_name = ?",
            [name],
        ).fetchone()[0]
    ]
    if missing:
        raise WarehouseError(
            f"the warehouse lacks {', '.join(missing)}: it was built before new detections"
            " could be classified; rebuild it (make build)"
        )
    models = (
        connection.execute(
            "select classifier, training, run_id, feature_set, fitted_at, skipped_reason, model"
            " from intermediate.int_class_models where training = ? order by classifier desc",
            [TRAINING],
        )
        .to_arrow_table()
        .to_pylist()
    )
    runs = {(model["run_id"], model["feature_set"]) for model in models}
    if len(runs) != 1:
        raise WarehouseError(
            f"the warehouse has class models of {len(runs)} runs trained on {TRAINING}; one"
            " is needed (var classification.run, a run that was fitted)"
        )
    [(run_id, feature_set)] = runs
    fitted_at, feature_names = connection.execute(
        f"select fitted_at, feature_names from {MIXTURES_RELATION}"
        " where fit_kind = 'run' and run_id = ?",
        [run_id],
    ).fetchone()
    feature_sets = json.loads(
        connection.execute(
            "select value from main.build_parameters where parameter = 'feature_sets'"
        ).fetchone()[0]
    )
    features = feature_sets[feature_set]
    if [feature["name"] for feature in features] != feature_names:
        raise WarehouseError(
            f"run {run_id} was fitted on {', '.join(feature_names)}, but build_parameters"
            f" defines feature set {feature_set} as other features"
        )
    return StoredModels(
        run_id=run_id,
        feature_set=feature_set,
        features=features,
        mixture=StoredMixtures(connection, MIXTURES_RELATION).mixture(run_id),
        mixture_fitted_at=fitted_at,
        class_models=models,
    )


def transformed_features(
    connection: duckdb.DuckDBPyConnection, rows: pa.Table, models: StoredModels
) -> pa.Table:
    raw_values = ", ".join(
        f"({feature.get('expression', feature['name'])})::double" for feature in models.features
    )
    connection.register("new_rows", rows)
    try:
        sql = FEATURES_SQL.format(raw_values=raw_values, n_features=len(models.features))
        return connection.execute(sql, {"feature_set": models.feature_set}).to_arrow_table()
    finally:
        connection.unregister("new_rows")


def no_class_reason(
    missing: list[str], untransformable: list[str], models: StoredModels
) -> str | None:
    """Why a detection gets no class, naming the features (an expression's with its formula)."""
    formulas = {feature["name"]: feature.get("expression") for feature in models.features}

    def named(features: list[str]) -> str:
        return ", ".join(
            f"{name} ({formulas[name]})" if formulas[name] else name for name in features
        )

    reasons = []
    if missing:
        reasons.append(f"no value of {named(missing)}: null, or not finite")
    if untransformable:
        reasons.append(
            f"{named(untransformable)} at or below -m/10, where the log_minmax transform"
            " ln(x + m/10) is undefined"
        )
    return "; ".join(reasons) or None


CLASS_PROBABILITIES = pa.schema(
    [
        ("detection_id", pa.string()),
        ("name", pa.string()),
        ("classifier", pa.string()),
        ("training", pa.string()),
        ("model_fitted_at", pa.timestamp("us", tz="UTC")),
        ("run_id", pa.string()),
        ("feature_set", pa.string()),
        ("class_name", pa.string()),
        ("class_index", pa.int64()),
        ("probability", pa.float64()),
        ("squared_distance", pa.float64()),
        ("no_class_reason", pa.string()),
    ]
)


def classify(connection: duckdb.DuckDBPyConnection, rows: pa.Table, input_file: Path) -> Classified:
    """Every detection of `rows` transformed, clustered and classified by the stored models."""
    # Imported here: scikit-learn takes seconds to import, and a bad file needs none of it.
    from clustering.relations import list_matrix
    from python_udfs.functions import score_rows

    models = stored_models(connection)
    features = transformed_features(connection, rows, models)
    reasons = [
        no_class_reason(missing, untransformable, models)
        for missing, untransformable in zip(
            features["missing_features"].to_pylist(),
            features["untransformable_features"].to_pylist(),
            strict=True,
        )
    ]
    usable = np.array([reason is None for reason in reasons], dtype=bool)
    scored = features.filter(pa.array(usable))
    matrix = list_matrix(scored["features"])
    clusters = np.zeros(len(reasons), dtype=np.int64)
    membership, log_likelihood = np.full(len(reasons), np.nan), np.full(len(reasons), np.nan)
    if usable.any():
        probabilities, log_likelihood[usable] = score_rows(models.mixture, matrix)
        # the first most probable component, as int_gmm_clusters takes it
        clusters[usable] = probabilities.argmax(axis=1)
        membership[usable] = probabilities.max(axis=1)
    batch = {"input_file": str(input_file.absolute()), "classified_at": datetime.now(UTC)}
    detections = with_columns(
        features,
        {
            **batch,
            "run_id": models.run_id,
            "feature_set": models.feature_set,
            "mixture_fitted_at": models.mixture_fitted_at,
            "cluster": pa.array(clusters, mask=~usable),
            "membership_probability": pa.array(membership, from_pandas=True),
            "log_likelihood": pa.array(log_likelihood, from_pandas=True),
            "no_class_reason": pa.array(reasons, pa.string()),
        },
    )
    class_probabilities = pa.concat_tables(
        [CLASS_PROBABILITIES.empty_table()]
        + [
            class_probability_rows(stored, models, scored, matrix, clusters[usable])
            for stored in models.class_models
            if stored["model"] is not None and usable.any()
        ]
    )
    connection.register("new_class_probabilities", class_probabilities)
    try:
        source_classes = connection.execute(VOTES_SQL).to_arrow_table()
    finally:
        connection.unregister("new_class_probabilities")
    return Classified(
        models,
        detections,
        with_columns(class_probabilities, batch),
        with_columns(source_classes, batch),
    )


def with_columns(table: pa.Table, columns: dict[str, Any]) -> pa.Table:
    """`table` with more columns: arrays, or one value for every row."""
    for name, values in columns.items():
        if not isinstance(values, pa.Array):
            # typed by the value, so that an empty table still has the column's type
            values = pa.array([values] * table.num_rows, type=pa.scalar(values).type)
        table = table.append_column(name, values)
    return table


def class_probability_rows(
    stored: dict[str, Any],
    models: StoredModels,
    scored: pa.Table,
    matrix: np.ndarray,
    clusters: np.ndarray,
) -> pa.Table:
    """One stored model's class probabilities of the scored detections, long form (one row
    per detection and class, as int_class_scores)."""
    from classification.training import from_bytes, score_classifier

    model = from_bytes(stored["model"])
    probabilities, distances, reasons = score_classifier(model, matrix, clusters)
    n_rows, n_classes = probabilities.shape
    per_class = n_rows * n_classes
    columns = {
        "detection_id": np.repeat(scored["detection_id"].to_numpy(zero_copy_only=False), n_classes),
        "name": np.repeat(scored["name"].to_numpy(zero_copy_only=False), n_classes),
        "classifier": [stored["classifier"]] * per_class,
        "training": [stored["training"]] * per_class,
        "model_fitted_at": [stored["fitted_at"]] * per_class,
        "run_id": [models.run_id] * per_class,
        "feature_set": [models.feature_set] * per_class,
        "class_name": np.tile(np.array(model.classes), n_rows),
        "class_index": np.tile(np.arange(n_classes), n_rows),
        "probability": pa.array(probabilities.ravel(), from_pandas=True),
        "squared_distance": pa.nulls(per_class, pa.float64())
        if distances is None
        else pa.array(distances.ravel()),
        "no_class_reason": pa.array(np.repeat(np.array(reasons, dtype=object), n_classes)),
    }
    return pa.table(columns, schema=CLASS_PROBABILITIES)


def write_results(connection: duckdb.DuckDBPyConnection, classified: Classified) -> None:
    """The results into the schema new_detections, in one transaction. A detection
    classified before has its rows replaced (even by none: it may have lost its class),
    and so has a source, by the vote over this file's detections of it."""
    tables = {
        "detections": (classified.detections, "detection_id"),
        "class_probabilities": (classified.class_probabilities, "detection_id"),
        "source_classes": (classified.source_classes, "name"),
    }
    connection.register("classified_detections", classified.detections)
    connection.execute("begin")
    connection.execute(f"create schema if not exists {SCHEMA}")
    for table, (rows, key) in tables.items():
        connection.register("batch", rows)
        connection.execute(f"create table if not exists {SCHEMA}.{table} as from batch limit 0")
        connection.execute(
            f"delete from {SCHEMA}.{table} where {key} in (select {key} from classified_detections)"
        )
        connection.execute(f"insert into {SCHEMA}.{table} by name from batch")
        connection.unregister("batch")
    connection.execute("commit")
    connection.unregister("classified_detections")


def top_classes(probabilities: list[dict[str, Any]]) -> str:
    ranked = sorted(probabilities, key=lambda row: (-row["probability"], row["class_index"]))
    shown = ranked[:TOP_CLASSES]
    return "  ".join(f"{row['class_name']} {row['probability']:.2f}" for row in shown)


def aligned(header: list[str], rows: list[list[str]], notes: list[list[str]]) -> list[str]:
    """Rows in columns under the header, each followed by its notes (lines of their own)."""
    widths = [max(map(len, column)) for column in zip(header, *rows, strict=True)]

    def line(cells: list[str]) -> str:
        return "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True))

    lines = [line(header).rstrip()]
    for row, row_notes in zip(rows, notes, strict=True):
        lines.append(line(row).rstrip())
        lines += [f"    {note}" for note in row_notes]
    return lines


def report(classified: Classified, input_file: Path, warehouse: Path) -> str:
    """The printed answer: per detection its cluster and top classes, per source its votes."""
    models = classified.models
    detections = classified.detections.to_pylist()
    fitted = [model for model in models.class_models if model["model"] is not None]
    classifiers = [model["classifier"] for model in fitted]
    by_model: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in classified.class_probabilities.to_pylist():
        by_model.setdefault((row["detection_id"], row["classifier"]), []).append(row)
    n_sources = len({detection["name"] for detection in detections})
    lines = [
        f"{len(detections)} detection(s) of {n_sources} source(s) from {input_file}, classified"
        f" by the models of {warehouse}:",
        f"  mixture {models.run_id} (feature set {models.feature_set}), fitted"
        f" {models.mixture_fitted_at:%Y-%m-%d %H:%M:%S %Z}",
        *(
            f"  {model['classifier']} trained on {TRAINING}, fitted"
            f" {model['fitted_at']:%Y-%m-%d %H:%M:%S %Z}"
            if model["model"] is not None
            else f"  {model['classifier']} trained on {TRAINING}: none ({model['skipped_reason']})"
            for model in models.class_models
        ),
        "",
    ]
    rows, notes = [], []
    for detection in detections:
        row_notes = []
        if detection["no_class_reason"] is not None:
            row_notes.append(f"no class: {detection['no_class_reason']}")
        if detection["out_of_range_features"]:
            row_notes.append(
                "out of the fitted range: "
                + ", ".join(
                    f"{flag['feature']} {flag['value']:.3g} (fitted {flag['fitted_min']:.3g}"
                    f" to {flag['fitted_max']:.3g})"
                    for flag in detection["out_of_range_features"]
                )
            )
        if detection["no_class_reason"] is not None:
            rows.append([detection["detection_id"], "-", "-"] + ["no class"] * len(classifiers))
            notes.append(row_notes)
            continue
        cells = []
        for classifier in classifiers:
            probabilities = by_model[(detection["detection_id"], classifier)]
            reason = probabilities[0]["no_class_reason"]
            cells.append("no class" if reason else top_classes(probabilities))
            if reason:
                row_notes.append(f"{classifier}: no class: {reason}")
        membership = f"{detection['membership_probability']:.3f}"
        rows.append([detection["detection_id"], str(detection["cluster"]), membership, *cells])
        notes.append(row_notes)
    lines += aligned(["detection", "cluster", "membership", *classifiers], rows, notes)

    votes = classified.source_classes.to_pylist()
    voted = {vote["name"] for vote in votes}
    rows = [
        [
            vote["name"],
            vote["classifier"],
            str(vote["n_detections"]),
            f"{vote['soft_class']} {vote['soft_class_probability']:.2f}",
            f"{vote['hard_class']} {vote['hard_class_votes']}/{vote['n_detections']}",
            vote["agreement"],
        ]
        for vote in votes
    ] + [
        [name, "-", "0", "no vote: none of its detections has a class", "", ""]
        for name in sorted({detection["name"] for detection in detections} - voted)
    ]
    lines += ["", "source votes (soft: largest mean probability; hard: most detections)"]
    lines += aligned(
        ["source", "classifier", "classified", "soft vote", "hard vote", "agreement"],
        rows,
        [[] for _ in rows],
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m classification.new_detections", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    parser.add_argument(
        "--detections", type=Path, required=True, help="CSC detections: VOTable, CSV, Parquet, FITS"
    )
    parser.add_argument("--db", type=Path, help="the warehouse file ($XRAY_WAREHOUSE)")
    args = parser.parse_args(argv)
    warehouse = (args.db or warehouse_path()).absolute()
    try:
        rows = read_new_detections(args.detections)
        with warehouse_connection(warehouse) as (connection, not_writable):
            classified = classify(connection, rows, args.detections)
            if not_writable is None:
                write_results(connection, classified)
    except (IngestError, WarehouseError) as error:
        print(f"error: {error}", file=sys.stderr)
        return BAD_INPUT
    print(report(classified, args.detections, warehouse))
    print()
    if not_writable is not None:
        print(
            f"not written: {not_writable}. The results above are not kept in {SCHEMA}: run"
            " again once it is closed.",
            file=sys.stderr,
        )
        return NOT_WRITTEN
    print(
        f"written to {warehouse}: {SCHEMA}.detections, {SCHEMA}.class_probabilities,"
        f" {SCHEMA}.source_classes"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
