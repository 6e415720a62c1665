"""Align every run's components to the reference run's clusters (Hungarian on shared
detections), so that a cluster keeps its label across runs and seeds. If the reference
run was skipped (the data could not support it), every component keeps its own number,
and the build log says so."""

import numpy as np
import pyarrow as pa

from clustering.alignment import align_components

SCHEMA = pa.schema(
    [("run_id", pa.string()), ("component", pa.int64()), ("aligned_cluster", pa.int64())]
)


def model(dbt, session):
    dbt.config(materialized="table")
    reference_run = dbt.config.get("gmm_comparison")["reference_run"]
    runs = dbt.ref("int_gmm_fits").filter("fit_kind = 'run'")
    configured = dict(runs.select("run_id, skipped_reason").fetchall())
    if reference_run not in configured:
        raise ValueError(
            f"var gmm_comparison.reference_run {reference_run!r} is not among the runs"
            f" {sorted(configured)}"
        )
    n_components = dict(runs.select("run_id, n_components").fetchall())
    fitted = sorted(run_id for run_id, reason in configured.items() if reason is None)
    clusters = dbt.ref("int_gmm_clusters")
    rows = []
    for run_id in fitted:
        if configured[reference_run] is not None:
            print(
                f"WARNING: reference run {reference_run} was skipped"
                f" ({configured[reference_run]}): {run_id}'s clusters keep their own numbers"
            )
            aligned = {component: component for component in range(n_components[run_id])}
        else:
            # Runs on another feature set share only some detections with the reference.
            shared = (
                clusters.filter(f"run_id = '{run_id}'")
                .set_alias("run")
                .join(
                    clusters.filter(f"run_id = '{reference_run}'").set_alias("reference"),
                    "run.detection_id = reference.detection_id",
                )
                .select("run.cluster as cluster, reference.cluster as reference_cluster")
                .fetchnumpy()
            )
            aligned = align_components(
                np.asarray(shared["cluster"], dtype=int),
                np.asarray(shared["reference_cluster"], dtype=int),
                n_components[run_id],
            )
        rows += [
            {"run_id": run_id, "component": component, "aligned_cluster": label}
            for component, label in sorted(aligned.items())
        ]
    return pa.Table.from_pylist(rows, schema=SCHEMA)
