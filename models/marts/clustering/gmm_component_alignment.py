"""Align every run's components to the reference run's clusters (Hungarian on
shared detections), so that a cluster keeps its label across runs and seeds."""

import pyarrow as pa

from clustering.alignment import align_components
from clustering.relations import cluster_labels


def model(dbt, session):
    dbt.config(materialized="table")
    reference_run = dbt.config.get("gmm_comparison")["reference_run"]
    clusters = dbt.ref("int_gmm_clusters")
    run_ids = [row[0] for row in clusters.select("run_id").distinct().order("run_id").fetchall()]
    if reference_run not in run_ids:
        raise ValueError(f"reference run {reference_run!r} is not among the runs {run_ids}")

    runs = dbt.ref("int_gmm_fits").filter("fit_kind = 'run'")
    n_components = dict(runs.select("run_id, n_components").fetchall())
    reference_ids, reference_labels = cluster_labels(clusters, reference_run)
    reference_of = dict(zip(reference_ids, reference_labels, strict=True))
    rows = []
    for run_id in run_ids:
        detection_ids, labels = cluster_labels(clusters, run_id)
        # Runs on another feature set share only some detections with the reference.
        shared = [index for index, d in enumerate(detection_ids) if d in reference_of]
        aligned = align_components(
            labels[shared],
            [reference_of[detection_ids[index]] for index in shared],
            n_components[run_id],
        )
        rows += [
            {"run_id": run_id, "component": component, "aligned_cluster": label}
            for component, label in sorted(aligned.items())
        ]
    return pa.Table.from_pylist(
        rows,
        schema=pa.schema(
            [("run_id", pa.string()), ("component", pa.int64()), ("aligned_cluster", pa.int64())]
        ),
    )
