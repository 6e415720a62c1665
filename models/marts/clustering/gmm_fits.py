"""Fit every configured Gaussian-mixture run (var gmm_runs) on its feature set.

One row per run: the run's figures (BIC, AIC, silhouette on a fixed sample) and
its fitted parameters. The mathematics lives in python_udfs.mixture.
"""

from python_udfs.mixture import MixtureRun, fit_mixtures, fits_table, sample_rows
from python_udfs.model_inputs import feature_matrix


def model(dbt, session):
    dbt.config(materialized="table")
    runs = [MixtureRun.from_config(config) for config in dbt.config.get("gmm_runs")]
    comparison = dbt.config.get("gmm_comparison")
    configured = dbt.config.get("feature_sets")
    vectors = dbt.ref("feature_vectors")

    matrices = {run.feature_set: feature_matrix(vectors, run.feature_set)[1] for run in runs}
    features = {
        feature_set: tuple(feature["name"] for feature in configured[feature_set])
        for feature_set in matrices
    }
    silhouette_samples = {
        feature_set: sample_rows(
            len(matrix),
            comparison["silhouette_max_detections"],
            comparison["silhouette_sample_seed"],
        )
        for feature_set, matrix in matrices.items()
    }
    return fits_table(fit_mixtures(matrices, features, runs, silhouette_samples))
