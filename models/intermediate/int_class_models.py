"""Every class model (var classification): each classifier (the study's cluster-wise
Mahalanobis method, calibrated gradient boosting) fitted on every training: all labelled
detections, and the training side of each validation split. One row per model, stored
(pickled) so that detections, new ones included, are scored without refitting; a model
the labels cannot support is listed with the reason."""

import json
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa
import sklearn

from classification.training import SPLITS, TRAININGS, fit_models, to_bytes
from clustering.relations import list_matrix

SCHEMA = pa.schema(
    [
        ("classifier", pa.string()),
        ("training", pa.string()),
        ("run_id", pa.string()),
        ("feature_set", pa.string()),
        ("classes", pa.list_(pa.string())),
        ("skipped_reason", pa.string()),
        ("n_training_detections", pa.int64()),
        ("n_training_sources", pa.int64()),
        ("parameters", pa.string()),
        ("sklearn_version", pa.string()),
        ("fitted_at", pa.timestamp("us", tz="UTC")),
        ("model", pa.binary()),
    ]
)


def model(dbt, session):
    dbt.config(materialized="table")
    config = dbt.config.get("classification")
    classes = tuple(config["classes"])
    labelled = (
        dbt.ref("int_class_inputs")
        .filter("label_role = 'labelled'")
        .order("detection_id")
        .select("run_id, detection_id, name, class_name, cluster, features")
        .to_arrow_table()
    )
    train = dbt.ref("int_class_splits").filter("subset = 'train'")
    detection_ids = np.array(labelled["detection_id"].to_pylist())
    trainings = {"all_labels": np.ones(len(detection_ids), dtype=bool)}
    for training, split in SPLITS.items():
        rows = train.filter(f"split = '{split}'").select("detection_id").fetchall()
        trainings[training] = np.isin(detection_ids, [row[0] for row in rows])
    sources = np.array(labelled["name"].to_pylist())
    fitted = fit_models(
        list_matrix(labelled["features"]),
        np.asarray(labelled["cluster"].to_pylist()),
        np.array(labelled["class_name"].to_pylist()),
        sources,
        trainings,
        classes,
        config,
    )
    feature_set = (
        dbt.ref("int_gmm_fits")
        .filter(f"fit_kind = 'run' and run_id = '{config['run']}'")
        .select("feature_set")
        .fetchone()
    )
    parameters = {
        "mahalanobis": {"min_class_members": "one per feature", "probabilities": "softmin"},
        "gradient_boosting": {
            **config["gradient_boosting"],
            "calibration": "isotonic",
            "calibration_fraction": config["calibration_fraction"],
        },
    }
    fitted_at = datetime.now(UTC)
    rows = [
        {
            "classifier": classifier,
            "training": training,
            "run_id": config["run"],
            "feature_set": feature_set[0] if feature_set else None,
            "classes": list(classes),
            "skipped_reason": model if isinstance(model, str) else None,
            "n_training_detections": int(trainings[training].sum()),
            "n_training_sources": len(set(sources[trainings[training]])),
            "parameters": json.dumps(parameters[classifier], sort_keys=True),
            "sklearn_version": sklearn.__version__,
            "fitted_at": fitted_at,
            "model": None if isinstance(model, str) else to_bytes(model),
        }
        for training in TRAININGS
        for (classifier, fitted_training), model in fitted.items()
        if fitted_training == training
    ]
    return pa.Table.from_pylist(rows, schema=SCHEMA)
