"""Every cluster of every run, descriptor by descriptor, in raw units: the 10th, 25th,
50th, 75th and 90th percentiles over the cluster's detections beside the same over the
whole run (clustering.profiles, DuckDB's quantile_cont exactly), computed one feature set
at a time: its values are read, and the whole run's percentiles computed, once for all
its runs, and memory holds one set's values."""

import numpy as np
import pyarrow as pa

from clustering.profiles import cluster_quantiles, column_quantiles
from clustering.relations import cluster_labels, list_matrix

PERCENTILES = ("p10", "p25", "median", "p75", "p90")
SCHEMA = pa.schema(
    [
        ("run_id", pa.string()),
        ("cluster", pa.int64()),
        ("descriptor_index", pa.int32()),
        ("descriptor", pa.string()),
        ("n_detections", pa.int64()),
        ("n_values", pa.int64()),
        *[(name, pa.float64()) for name in PERCENTILES],
        ("sample_n_values", pa.int64()),
        *[(f"sample_{name}", pa.float64()) for name in PERCENTILES],
    ]
)


def model(dbt, session):
    dbt.config(materialized="table")
    fitted = dbt.ref("int_gmm_fits").filter("fit_kind = 'run' and skipped_reason is null")
    runs = {}
    for run_id, feature_set in fitted.order("run_id").select("run_id, feature_set").fetchall():
        runs.setdefault(feature_set, []).append(run_id)
    descriptors = dbt.ref("int_cluster_profile_descriptors")
    values, clusters = dbt.ref("int_cluster_profile_values"), dbt.ref("int_gmm_clusters")
    batches = []
    for feature_set, run_ids in runs.items():
        names = [
            name
            for (name,) in descriptors.filter(f"feature_set = '{feature_set}'")
            .order("descriptor_index")
            .select("descriptor")
            .fetchall()
        ]
        table = (
            values.filter(f"feature_set = '{feature_set}'")
            .order("detection_id")
            .select("detection_id, descriptor_values")
            .to_arrow_table()
        )
        detection_ids = table["detection_id"].to_pylist()
        matrix = list_matrix(table["descriptor_values"])
        whole_run = column_quantiles(matrix)
        for run_id in run_ids:
            assigned_ids, labels = cluster_labels(clusters, run_id)
            if assigned_ids != detection_ids:
                raise ValueError(
                    f"run {run_id} assigned other detections than feature set {feature_set}"
                    " has vectors for"
                )
            batches.append(_run_profiles(run_id, names, labels, matrix, whole_run))
    return pa.concat_tables(batches) if batches else SCHEMA.empty_table()


def _run_profiles(run_id, descriptors, clusters, matrix, whole_run):
    sample_counts, sample_quantiles = whole_run
    sizes = dict(zip(*np.unique(clusters, return_counts=True), strict=True))
    columns = {name: [] for name in SCHEMA.names}
    for cluster, (counts, quantiles) in cluster_quantiles(clusters, matrix).items():
        for index, descriptor in enumerate(descriptors):
            columns["run_id"].append(run_id)
            columns["cluster"].append(cluster)
            columns["descriptor_index"].append(index)
            columns["descriptor"].append(descriptor)
            columns["n_detections"].append(int(sizes[cluster]))
            columns["n_values"].append(int(counts[index]))
            columns["sample_n_values"].append(int(sample_counts[index]))
            for row, name in enumerate(PERCENTILES):
                columns[name].append(_value(quantiles[row, index]))
                columns[f"sample_{name}"].append(_value(sample_quantiles[row, index]))
    return pa.table(columns, schema=SCHEMA)


def _value(number):
    """A percentile of no values is null."""
    return None if np.isnan(number) else float(number)
