"""The k scan (var gmm_scan): BIC, AIC and silhouette for every k and seed, on
one fixed sample, so choosing k is a query."""

from python_udfs.mixture import scan_components
from python_udfs.model_inputs import feature_matrix


def model(dbt, session):
    dbt.config(materialized="table")
    scan = dbt.config.get("gmm_scan")
    _, matrix = feature_matrix(dbt.ref("feature_vectors"), scan["feature_set"])
    return scan_components(
        matrix,
        scan["feature_set"],
        scan["covariance_type"],
        range(scan["k_min"], scan["k_max"] + 1),
        scan["seeds"],
        scan["max_detections"],
        scan["sample_seed"],
    )
