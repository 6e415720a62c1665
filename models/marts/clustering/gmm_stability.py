"""Refit every run with each seed of var gmm_comparison.stability_seeds and
measure how far its clusters move: adjusted Rand index and aligned agreement."""

from dataclasses import asdict

import pyarrow as pa

from python_udfs.mixture import MixtureRun, refit_stability
from python_udfs.model_inputs import cluster_labels, feature_matrix


def model(dbt, session):
    dbt.config(materialized="table")
    runs = [MixtureRun.from_config(config) for config in dbt.config.get("gmm_runs")]
    seeds = dbt.config.get("gmm_comparison")["stability_seeds"]
    vectors, clusters = dbt.ref("feature_vectors"), dbt.ref("int_gmm_clusters")

    matrices = {run.feature_set: feature_matrix(vectors, run.feature_set)[1] for run in runs}
    run_labels = {run.run_id: cluster_labels(clusters, run.run_id)[1] for run in runs}
    refits = refit_stability(matrices, runs, run_labels, seeds)
    return pa.Table.from_pylist([asdict(refit) for refit in refits])
