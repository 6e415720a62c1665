"""Every cluster of every run, descriptor by descriptor, in raw units: the 10th, 25th,
50th, 75th and 90th percentiles over the cluster's detections beside the same over the
whole run (clustering.profiles, DuckDB's quantile_cont exactly), computed one run at a
time so that memory holds one run's values."""

import numpy as np
import pyarrow as pa

from clustering.profiles import cluster_quantiles, column_quantiles
from clustering.relations import list_matrix

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
    descriptors = dbt.ref("int_cluster_profile_descriptors")
    values = dbt.ref("int_cluster_profile_values")
    names = {}
    ordered = descriptors.order("run_id, descriptor_index").select("run_id, descriptor")
    for run_id, descriptor in ordered.fetchall():
        names.setdefault(run_id, []).append(descriptor)
    batches = []
    for run_id, run_descriptors in names.items():
        table = values.filter(f"run_id = '{run_id}'").select("cluster, descriptor_values")
        table = table.to_arrow_table()
        clusters = table["cluster"].to_numpy()
        matrix = list_matrix(table["descriptor_values"])
        batches.append(_run_profiles(run_id, run_descriptors, clusters, matrix))
    return pa.concat_tables(batches) if batches else SCHEMA.empty_table()


def _run_profiles(run_id, descriptors, clusters, matrix):
    sample_counts, sample_quantiles = column_quantiles(matrix)
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
