"""The validation splits of the labelled detections (var classification): by source
(stratified by each source's class) and by detection (the study's 80/20), seeded. One row
per split and labelled detection."""

import numpy as np
import pyarrow as pa

from classification.training import SPLITS, Labelled, test_detections


def model(dbt, session):
    dbt.config(materialized="table")
    config = dbt.config.get("classification")
    labelled = (
        dbt.ref("int_class_inputs")
        .filter("label_role = 'labelled'")
        .order("detection_id")
        .select("detection_id, name, class_name")
        .fetchnumpy()
    )
    data = Labelled(
        np.asarray(labelled["detection_id"]),
        np.asarray(labelled["name"]),
        np.asarray(labelled["class_name"]),
    )
    rows = []
    for split in SPLITS.values():
        test = test_detections(data, split, config["test_fraction"], config["split_seed"])
        rows += [
            {"split": split, "detection_id": detection, "name": source, "class_name": name,
             "subset": "test" if detection in test else "train"}
            for detection, source, name in zip(
                data.detection_ids, data.sources, data.classes, strict=True
            )
        ]  # fmt: skip
    schema = pa.schema(
        [
            (column, pa.string())
            for column in ("split", "detection_id", "name", "class_name", "subset")
        ]
    )
    return pa.Table.from_pylist(rows, schema=schema)
