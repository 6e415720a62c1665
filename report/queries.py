"""What the HTML report reads from the warehouse."""

from __future__ import annotations

import json
from dataclasses import dataclass

import duckdb
import pandas as pd

# The identifier and position columns that lead stg_csc__detections; every other numeric
# column there is a descriptor (and detections carries it under the same name).
NOT_DESCRIPTORS = {"detection_id", "name", "obsid", "region_id", "ra", "dec", "l", "b"}
NUMERIC_TYPES = ("DOUBLE", "FLOAT", "REAL", "DECIMAL", "INTEGER", "BIGINT", "SMALLINT")


class OptionError(ValueError):
    """An unknown run, family or descriptor; the message lists the valid ones."""


@dataclass(frozen=True)
class ReportOptions:
    """The run, family and descriptor of a report, spelled as the warehouse spells them."""

    run_id: str
    family: str
    descriptor: str


def relation_columns(
    connection: duckdb.DuckDBPyConnection, name: str, schema: str = "main"
) -> dict[str, str]:
    """Column name -> data type, in table order."""
    rows = connection.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_catalog = current_database() and table_schema = ? and table_name = ? "
        "order by ordinal_position",
        [schema, name],
    ).fetchall()
    return dict(rows)


def default_run(connection: duckdb.DuckDBPyConnection) -> str:
    """The run a report shows unless told otherwise: the dbt var default_gmm_run as the
    warehouse's build saw it (build_parameters), so the report follows the build's --vars."""
    return connection.execute(
        "select value ->> '$' from build_parameters where parameter = 'default_gmm_run'"
    ).fetchone()[0]


def run_ids(connection: duckdb.DuckDBPyConnection) -> list[str]:
    return [
        row[0]
        for row in connection.execute(
            "select run_id from gmm_runs order by n_components, run_id"
        ).fetchall()
    ]


def families(connection: duckdb.DuckDBPyConnection) -> list[str]:
    """Every otype_family the vocabulary knows, and any other that detections holds."""
    rows = connection.execute(
        "select * from (select family from reference.simbad_object_types "
        "union select otype_family from detections) as known(family) "
        "where family is not null order by family"
    ).fetchall()
    return [row[0] for row in rows]


def descriptors(connection: duckdb.DuckDBPyConnection) -> list[str]:
    """The numeric CSC descriptors of detections, in staging's order."""
    staged = relation_columns(connection, "stg_csc__detections", "staging")
    in_detections = relation_columns(connection, "detections")
    return [
        column
        for column, data_type in staged.items()
        if column not in NOT_DESCRIPTORS
        and column in in_detections
        and data_type.startswith(NUMERIC_TYPES)
    ]


def _resolve(kind: str, given: str, valid: list[str]) -> str:
    """The valid spelling of `given` (matched regardless of case), or OptionError."""
    by_lower = {value.lower(): value for value in valid}
    if given.lower() in by_lower:
        return by_lower[given.lower()]
    raise OptionError(
        f"unknown {kind} {given!r}; this warehouse knows: {', '.join(valid) or '(none)'}"
    )


def resolve_options(
    connection: duckdb.DuckDBPyConnection, run_id: str, family: str, descriptor: str
) -> ReportOptions:
    return ReportOptions(
        run_id=_resolve("run", run_id, run_ids(connection)),
        family=_resolve("family", family, families(connection)),
        descriptor=_resolve("descriptor", descriptor, descriptors(connection)),
    )


def runs(connection: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The columns of gmm_runs the report shows, one row per run."""
    return connection.execute(
        """
        select
            run_id, feature_set, n_components, covariance_type, converged, n_iter,
            n_detections, bic, aic, silhouette, stability_ari_mean
        from gmm_runs
        order by feature_set, n_components, run_id
        """
    ).df()


def run_row(connection: duckdb.DuckDBPyConnection, run_id: str) -> pd.Series:
    all_runs = runs(connection)
    return all_runs[all_runs["run_id"] == run_id].iloc[0]


def run_detections(connection: duckdb.DuckDBPyConnection, options: ReportOptions) -> pd.DataFrame:
    """The run's clustered detections: l, b, otype_family, cluster and the descriptor (value)."""
    # The descriptor was checked against the warehouse's columns (resolve_options).
    return connection.execute(
        f"""
        select
            detections.l,
            detections.b,
            detections.otype_family,
            assignments.cluster,
            detections."{options.descriptor}"::double as value
        from gmm_assignments as assignments
        inner join detections on assignments.detection_id = detections.detection_id
        where assignments.run_id = ?
        order by detections.detection_id
        """,
        [options.run_id],
    ).df()


def unclustered_count(connection: duckdb.DuckDBPyConnection, run_id: str) -> int:
    """Detections the run did not cluster: left out of its feature set for a null feature."""
    return connection.execute(
        """
        select count(*) from detections
        where detection_id not in (
            select detection_id from gmm_assignments where run_id = ?
        )
        """,
        [run_id],
    ).fetchone()[0]


def scan(connection: duckdb.DuckDBPyConnection, feature_set: str) -> pd.DataFrame:
    """The k scan's fits on the feature set (none if the scan covers another one)."""
    return connection.execute(
        """
        select feature_set, k, seed, n_detections, bic, aic, silhouette
        from gmm_scan
        where feature_set = ?
        order by seed, k
        """,
        [feature_set],
    ).df()


def scan_feature_sets(connection: duckdb.DuckDBPyConnection) -> list[str]:
    return [
        row[0] for row in connection.execute("select distinct feature_set from gmm_scan").fetchall()
    ]


def cluster_profiles(connection: duckdb.DuckDBPyConnection, run_id: str) -> pd.DataFrame:
    """Per cluster and descriptor: median, p10 and p90 in raw units, beside the whole run's
    quartiles."""
    return connection.execute(
        """
        select
            cluster, descriptor_index, descriptor, n_detections, p10, median, p90,
            sample_p10, sample_p25, sample_median, sample_p75, sample_p90
        from cluster_profiles
        where run_id = ?
        order by descriptor_index, cluster
        """,
        [run_id],
    ).df()


def cluster_summaries(connection: duckdb.DuckDBPyConnection, run_id: str) -> pd.DataFrame:
    """Each cluster's size, counterparts, dominant family and generated description."""
    return connection.execute(
        "select * from cluster_summaries where run_id = ? order by cluster", [run_id]
    ).df()


def classification_groups(connection: duckdb.DuckDBPyConnection) -> list[str]:
    """The class groups of var classification, in the order of their first class."""
    classes = connection.execute(
        "select value from build_parameters where parameter = 'classification'"
    ).fetchone()[0]
    return list(dict.fromkeys(json.loads(classes)["classes"].values()))


def classification_figures(connection: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Per classifier and item kind, the source split's group-level figures: balanced
    accuracy, accuracy, log loss, Brier score, and the confident subset's coverage."""
    return connection.execute(
        """
        select classifier, item_kind, subset, metric, label_name, value
        from classification_metrics
        where training = 'source_split' and label_level = 'group'
            and (metric in ('balanced_accuracy', 'accuracy', 'log_loss', 'brier_score',
                'coverage', 'n_items') or metric = 'recall')
        order by classifier, item_kind, subset, metric, label_name
        """
    ).df()


def classification_confusion(connection: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return connection.execute(
        "select classifier, item_kind, true_label, predicted_label, n_items"
        " from classification_confusion where training = 'source_split'"
        " and label_level = 'group' and subset = 'all'"
    ).df()


def classification_calibration(connection: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return connection.execute(
        "select classifier, item_kind, bin, bin_low, n_items, mean_probability, accuracy"
        " from classification_calibration where training = 'source_split'"
        " and label_level = 'group'"
    ).df()


def classified_unidentified_sources(connection: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every unidentified source's group by each classifier (all_labels), with (l, b)."""
    return connection.execute(
        """
        select sources.classifier, sources.name, sources.class_group, positions.l, positions.b
        from source_classes as sources
        inner join (
            select name, any_value(l) as l, any_value(b) as b from detections group by name
        ) as positions using (name)
        where sources.training = 'all_labels' and sources.class_group is not null
        order by sources.classifier, sources.name
        """
    ).df()
