"""The whole warehouse built from the real TOPCAT sample (`make build DETECTIONS=...`):
runs, memberships and the per-cluster tables equal a direct scikit-learn / pandas
computation of the original analysis on the same inputs."""

from __future__ import annotations

import json
import subprocess

import duckdb
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.metrics import adjusted_rand_score, silhouette_score
from sklearn.mixture import GaussianMixture
from support import (
    BIN,
    REPO_ROOT,
    TEST_VARS_FILE,
    detection_ids,
    make_arguments,
    project_vars,
    vars_of_test_warehouses,
)
from threadpoolctl import threadpool_limits

from clustering.fitting import sample_rows

# The real-sample warehouse is built with the test vars (a small k scan and stability).
CONFIG = vars_of_test_warehouses()
RUNS = {run["run_id"]: run for run in CONFIG["gmm_runs"]}


@pytest.fixture(scope="module")
def warehouse(real_sample_warehouse):
    with duckdb.connect(str(real_sample_warehouse), read_only=True) as connection:
        yield connection


@pytest.fixture(scope="module")
def direct_fits(warehouse):
    """Each configured run fitted directly with scikit-learn on the stored feature matrix
    (with one BLAS thread, as the warehouse fits)."""
    fits = {}
    for run_id, run in RUNS.items():
        rows = warehouse.execute(
            "select detection_id, features from intermediate.int_feature_vectors "
            "where feature_set = ? order by detection_id",
            [run["feature_set"]],
        ).fetchall()
        matrix = np.array([features for _, features in rows])
        with threadpool_limits(limits=1):
            estimator = GaussianMixture(
                n_components=run["n_components"],
                covariance_type=run["covariance_type"],
                random_state=run["random_state"],
            ).fit(matrix)
        fits[run_id] = ([detection_id for detection_id, _ in rows], matrix, estimator)
    return fits


def test_run_table_holds_the_configured_runs(warehouse, direct_fits):
    runs = warehouse.execute(
        "select * exclude (fitted_at) from gmm_runs order by n_components, run_id"
    ).df()
    configured = sorted(RUNS.values(), key=lambda run: (run["n_components"], run["run_id"]))
    assert list(runs["run_id"]) == [run["run_id"] for run in configured]
    for run in runs.itertuples():
        _, matrix, estimator = direct_fits[run.run_id]
        assert run.n_detections == len(matrix)
        assert run.n_iter == estimator.n_iter_
        assert run.converged == estimator.converged_
        # the EM kernel's lower bound is within 1e-9 of sklearn's (clustering.em)
        assert run.bic == pytest.approx(estimator.bic(matrix), rel=1e-9)
        assert run.aic == pytest.approx(estimator.aic(matrix), rel=1e-9)
        assert run.random_state == RUNS[run.run_id]["random_state"]


def test_stored_parameters_equal_the_direct_fit(warehouse, direct_fits):
    for run_id, (_, _, estimator) in direct_fits.items():
        components = warehouse.execute(
            "select weight, mean, covariance from gmm_components "
            "where run_id = ? order by component",
            [run_id],
        ).fetchall()
        # Within 1e-8 of each component's own scale: the EM kernel's guarantee.
        for stored, direct in zip(components, zip(
            estimator.weights_, estimator.means_, estimator.covariances_, strict=True
        ), strict=True):  # fmt: skip
            for got, want in zip(stored, direct, strict=True):
                np.testing.assert_allclose(got, want, rtol=0, atol=1e-8 * np.max(np.abs(want)))


def test_memberships_and_clusters_equal_predict_proba(warehouse, direct_fits):
    for run_id, (ids, matrix, estimator) in direct_fits.items():
        memberships = warehouse.execute(
            "select detection_id, component, probability from gmm_memberships where run_id = ?",
            [run_id],
        ).df()
        stored = memberships.pivot(index="detection_id", columns="component", values="probability")
        np.testing.assert_allclose(
            stored.loc[ids].to_numpy(), estimator.predict_proba(matrix), atol=1e-10
        )
        clusters = dict(
            warehouse.execute(
                "select detection_id, cluster from gmm_assignments where run_id = ?", [run_id]
            ).fetchall()
        )
        assert [clusters[d] for d in ids] == estimator.predict(matrix).tolist()


def test_cluster_main_types_equal_the_original_groupby(warehouse, direct_fits, topcat_sample):
    """The original notebook: groupby (cluster, main_type) of TOPCAT's main_type ('NaN' when
    unmatched), size and mean probability of every component."""
    sample = pd.read_csv(topcat_sample)
    sample["detection_id"] = detection_ids(
        warehouse, sample["name_1"], sample["obsid"], sample["region_id"]
    )
    main_types = sample.set_index("detection_id")["main_type"].fillna("NaN")
    for run_id, (ids, matrix, estimator) in direct_fits.items():
        probabilities = pd.DataFrame(estimator.predict_proba(matrix), index=ids)
        probabilities["cluster"] = estimator.predict(matrix)
        probabilities["main_type"] = main_types.loc[ids].to_numpy()
        grouped = probabilities.groupby(["cluster", "main_type"])
        expected = grouped.mean().assign(size=grouped.size())

        stored = (
            warehouse.execute(
                "select cluster, main_type, size, mean_probabilities from cluster_main_types "
                "where run_id = ?",
                [run_id],
            )
            .df()
            .set_index(["cluster", "main_type"])
            .sort_index()
        )
        assert list(stored.index) == list(expected.index)
        assert stored["size"].tolist() == expected["size"].tolist()
        n_components = RUNS[run_id]["n_components"]
        np.testing.assert_allclose(
            np.vstack(stored["mean_probabilities"]), expected[list(range(n_components))], atol=1e-10
        )


def test_make_tables_prints_six_cluster_tables(real_sample_warehouse):
    printed = subprocess.run(
        [
            "make",
            "--no-print-directory",
            "tables",
            "RUN=gmm6_allvar",
            f"XRAY_WAREHOUSE={real_sample_warehouse}",
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    headings = [line for line in printed.splitlines() if line.startswith("### gmm6_allvar")]
    assert len(headings) == 6
    header = "| main_type | " + " | ".join(f"prob_{k}" for k in range(6)) + " | size |"
    assert printed.count(header) == 6
    for table in printed.split("### ")[1:]:
        rows = [
            line for line in table.splitlines() if line.startswith("| ") and "main_type" not in line
        ]
        assert 1 <= len(rows) <= 10
        sizes = [int(row.rstrip(" |").rsplit("|", 1)[1]) for row in rows]
        assert sizes == sorted(sizes, reverse=True)


def test_make_tables_names_the_runs_when_the_run_is_unknown(real_sample_warehouse):
    result = subprocess.run(
        [
            str(BIN / "python"),
            "-m",
            "report.tables",
            "--run",
            "gmm7_nothing",
            "--db",
            str(real_sample_warehouse),
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "gmm7_nothing" in result.stderr and "gmm6_allvar" in result.stderr


def test_detections_mart_has_one_row_per_detection(warehouse):
    n_rows, n_distinct, n_matched, n_clustered = warehouse.execute(
        "select count(*), count(distinct detection_id), count(main_id), count(cluster) "
        "from detections"
    ).fetchone()
    assert n_rows == n_distinct == 1615
    assert n_matched == 1615 - 98
    assert (
        n_clustered
        == warehouse.execute(
            "select n_detections from gmm_runs where run_id = 'gmm6_allvar'"
        ).fetchone()[0]
    )


def test_silhouette_and_stability_equal_direct_computations(warehouse, direct_fits):
    comparison = CONFIG["gmm_comparison"]
    for run_id, (_, matrix, estimator) in direct_fits.items():
        labels = estimator.predict(matrix)
        sample = sample_rows(
            len(matrix),
            comparison["silhouette_max_detections"],
            comparison["silhouette_sample_seed"],
        )
        silhouette, seeds, ari_mean = warehouse.execute(
            "select silhouette, stability_seeds, stability_ari_mean from gmm_runs where run_id = ?",
            [run_id],
        ).fetchone()
        assert silhouette == pytest.approx(silhouette_score(matrix[sample], labels[sample]))
        assert seeds == comparison["stability_seeds"]
        aris = []
        for seed in seeds:
            with threadpool_limits(limits=1):
                refit = clone(estimator).set_params(random_state=seed).fit(matrix)
            aris.append(adjusted_rand_score(labels, refit.predict(matrix)))
        assert ari_mean == pytest.approx(np.mean(aris))


def test_the_test_vars_shrink_only_the_scan_and_the_refits():
    """Test warehouses fit the same runs on the same features as `make build`; only the k
    scan is smaller and the runs are refitted with fewer seeds."""
    defaults, tests = project_vars(), vars_of_test_warehouses()
    assert {name for name in tests if tests[name] != defaults[name]} == {
        "gmm_comparison",
        "gmm_scan",
    }
    changed = {
        (var, key)
        for var in ("gmm_comparison", "gmm_scan")
        for key in defaults[var]
        if tests[var][key] != defaults[var][key]
    }
    assert changed == {
        ("gmm_comparison", "stability_seeds"),
        ("gmm_scan", "k_max"),
        ("gmm_scan", "max_detections"),
    }
    assert set(tests["gmm_comparison"]["stability_seeds"]) < set(
        defaults["gmm_comparison"]["stability_seeds"]
    )


def test_make_build_uses_the_full_size_defaults(tmp_path):
    """`make build` gives dbt no vars, so dbt_project.yml's full-size settings apply; only
    `make test-dbt` gives the test vars."""
    assert make_arguments(tmp_path, "build") == [
        ["python", "-m", "warehouse", "build", "--db", str(REPO_ROOT / "warehouse.duckdb"),
         "--demo-dir", "build/demo"],
    ]  # fmt: skip
    [test_build] = make_arguments(tmp_path, "test-dbt")
    assert test_build[test_build.index("--vars-file") + 1] == str(TEST_VARS_FILE)


def test_build_parameters_hold_every_var(warehouse):
    stored = dict(warehouse.execute("select parameter, value from build_parameters").fetchall())
    assert set(stored) == set(project_vars())
    assert json.loads(stored["gmm_runs"]) == vars_of_test_warehouses()["gmm_runs"]
