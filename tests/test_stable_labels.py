"""Aligned cluster labels on the demo warehouse: a cluster that another run finds again gets
the reference run's label, and the stored alignment is an optimal assignment. Expectations
come from the stored assignments by numpy and pandas, not from the alignment code."""

from __future__ import annotations

from itertools import permutations

import duckdb
import numpy as np
import pandas as pd
import pytest
from support import vars_of_test_warehouses

CONFIG = vars_of_test_warehouses()
REFERENCE = CONFIG["gmm_comparison"]["reference_run"]
OTHER_RUNS = [run["run_id"] for run in CONFIG["gmm_runs"] if run["run_id"] != REFERENCE]


@pytest.fixture(scope="module")
def assignments(demo_warehouse) -> pd.DataFrame:
    """Every run's raw and aligned cluster per detection, with the reference's cluster."""
    with duckdb.connect(str(demo_warehouse), read_only=True) as connection:
        return connection.execute(
            """
            select run.run_id, run.detection_id, run.cluster, run.aligned_cluster,
                reference.cluster as reference_cluster
            from gmm_assignments as run
            inner join gmm_assignments as reference
                on run.detection_id = reference.detection_id and reference.run_id = ?
            """,
            [REFERENCE],
        ).df()


@pytest.mark.parametrize("run_id", OTHER_RUNS)
def test_a_cluster_found_again_keeps_the_reference_label(assignments, run_id):
    """A component whose overlap with a reference cluster has a Jaccard index above 1/2 is
    that cluster found again: swapping it into any other pairing shares more detections,
    so every optimal alignment pairs them, and the component carries the cluster's label."""
    run = assignments[assignments["run_id"] == run_id]
    found_again = 0
    for reference_cluster, members in run.groupby("reference_cluster"):
        component = members["cluster"].mode().iloc[0]
        in_component = run["cluster"] == component
        in_reference = run["reference_cluster"] == reference_cluster
        jaccard = (in_component & in_reference).sum() / (in_component | in_reference).sum()
        if jaccard > 0.5:
            found_again += 1
            assert set(run.loc[in_component, "aligned_cluster"]) == {reference_cluster}
    # Not every cluster is found again (more components split some), but several are.
    assert found_again >= 2


def test_the_stored_alignment_shares_the_most_detections_possible(assignments):
    """Brute force over every injective map of the reference's clusters to the run's
    components (6 of 8): none shares more detections than the stored alignment."""
    run_id = min(
        (run for run in CONFIG["gmm_runs"] if run["run_id"] != REFERENCE),
        key=lambda run: run["n_components"],
    )["run_id"]
    run = assignments[assignments["run_id"] == run_id]
    shared = pd.crosstab(run["reference_cluster"], run["cluster"])
    aligned = run.drop_duplicates("cluster").set_index("cluster")["aligned_cluster"]
    stored = sum(
        shared.loc[label, component]
        for component, label in aligned.items()
        if label in shared.index and component in shared.columns
    )
    best = max(
        sum(shared.to_numpy()[row, column] for row, column in enumerate(columns))
        for columns in permutations(range(shared.shape[1]), shared.shape[0])
    )
    assert stored == best
    # Leftover components get the labels after the reference's, each once.
    labels = np.sort(aligned.to_numpy())
    np.testing.assert_array_equal(labels, np.arange(len(labels)))
