"""Every class model of int_class_models scored on the detections it is for: the model
trained on all labels on the unlabelled detections, each validation model on its split's
test detections. Read back from storage, as new detections are scored. Long form: one row
per (model, detection, class); a detection no class can be given has null probabilities
and the reason."""

import numpy as np
import pyarrow as pa

from classification.training import SPLITS, from_bytes, score_classifier
from clustering.relations import list_matrix

SCHEMA = pa.schema(
    [
        ("classifier", pa.string()),
        ("training", pa.string()),
        ("detection_id", pa.string()),
        ("class_name", pa.string()),
        ("squared_distance", pa.float64()),
        ("probability", pa.float64()),
        ("no_class_reason", pa.string()),
    ]
)


def model(dbt, session):
    dbt.config(materialized="table")
    inputs = (
        dbt.ref("int_class_inputs")
        .order("detection_id")
        .select("detection_id, cluster, features, label_role")
        .to_arrow_table()
    )
    detection_ids = np.array(inputs["detection_id"].to_pylist())
    features, clusters = list_matrix(inputs["features"]), np.asarray(inputs["cluster"].to_pylist())
    tests = dbt.ref("int_class_splits").filter("subset = 'test'")
    scored_rows = {"all_labels": np.array(inputs["label_role"].to_pylist()) == "unlabelled"}
    for training, split in SPLITS.items():
        test = [
            row[0] for row in tests.filter(f"split = '{split}'").select("detection_id").fetchall()
        ]
        scored_rows[training] = np.isin(detection_ids, test)

    parts = []
    for classifier, training, blob in (
        dbt.ref("int_class_models")
        .filter("model is not null")
        .select("classifier, training, model")
        .fetchall()
    ):
        rows = scored_rows[training]
        if not rows.any():
            continue
        stored = from_bytes(blob)
        probabilities, distances, reasons = score_classifier(stored, features[rows], clusters[rows])
        n_rows, n_classes = probabilities.shape
        per_class = n_rows * n_classes
        parts.append(
            pa.table(
                {
                    "classifier": [classifier] * per_class,
                    "training": [training] * per_class,
                    "detection_id": np.repeat(detection_ids[rows], n_classes),
                    "class_name": np.tile(np.array(stored.classes), n_rows),
                    "squared_distance": pa.nulls(per_class, pa.float64())
                    if distances is None
                    else distances.ravel(),
                    "probability": pa.array(probabilities.ravel(), from_pandas=True),
                    "no_class_reason": pa.array(
                        np.repeat(np.array(reasons, dtype=object), n_classes), pa.string()
                    ),
                },
                schema=SCHEMA,
            )
        )
    return pa.concat_tables(parts) if parts else SCHEMA.empty_table()
