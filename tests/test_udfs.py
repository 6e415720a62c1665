"""The Python UDF on a plain DuckDB connection: gmm_score scores against stored mixtures
exactly as scikit-learn does, bit for bit whatever the batch. (tests/test_warehouse.py
checks it through dbt.)"""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa
import pytest
from sklearn.mixture import GaussianMixture

from clustering.runs import MixtureRun
from clustering.schedule import FitTask, fit_all
from clustering.storage import fits_table
from python_udfs import functions

FEATURES = {"s": ("x", "y", "z")}


def stored_fits(matrix: np.ndarray, runs: list[MixtureRun]) -> pa.Table:
    return fits_table(fit_all([FitTask("run", run) for run in runs], {"s": matrix}), FEATURES)


@pytest.fixture()
def scored_connection(tmp_path):
    """A DuckDB file holding two fitted runs and feature vectors, with the UDF registered."""
    rng = np.random.default_rng(11)
    matrix = np.vstack([rng.normal(0, 1, (700, 3)), rng.normal(4, 1, (700, 3))])
    runs = [MixtureRun("two", "s", 2), MixtureRun("five", "s", 5, "diag")]
    fits = stored_fits(matrix, runs)
    connection = duckdb.connect(str(tmp_path / "w.duckdb"))
    connection.register("fits_arrow", fits)
    connection.execute("create table fits as select * from fits_arrow")
    vectors = pa.table({"id": range(len(matrix)), "features": matrix.tolist()})
    connection.register("vectors_arrow", vectors)
    connection.execute("create table vectors as select * from vectors_arrow")
    functions.register(connection, "main.fits")
    estimators = {
        row["run_id"]: functions.StoredMixtures(connection, "main.fits").mixture(row["run_id"])
        for row in fits.to_pylist()
    }
    yield connection, matrix, estimators
    connection.close()


def test_scores_equal_predict_proba_and_score_samples(scored_connection):
    connection, matrix, estimators = scored_connection
    # Both runs in one query, so batches hold rows of several runs.
    rows = connection.execute(
        """
        select run_id, id, gmm_score(run_id, features) as score
        from vectors cross join (select run_id from fits)
        order by run_id, id
        """
    ).fetchall()
    for run_id, estimator in estimators.items():
        scores = [row[2] for row in rows if row[0] == run_id]
        probabilities = np.array([score["probabilities"] for score in scores])
        log_likelihoods = np.array([score["log_likelihood"] for score in scores])
        np.testing.assert_allclose(probabilities, estimator.predict_proba(matrix), atol=1e-12)
        np.testing.assert_allclose(log_likelihoods, estimator.score_samples(matrix), rtol=1e-12)


def test_a_row_scores_alike_bit_for_bit_whatever_batch_it_comes_in():
    # 35 features, as allvar: a plain predict_proba rounds a row differently alone and in
    # a batch (about one row in ten here).
    matrix = np.random.default_rng(0).normal(size=(1400, 35))
    mixture = GaussianMixture(5, random_state=0).fit(matrix)
    whole_probabilities, whole_likelihoods = functions.score_rows(mixture, matrix)
    for start, stop in ((0, 1), (700, 701), (1399, 1400), (0, 3), (700, 1337)):
        probabilities, likelihoods = functions.score_rows(mixture, matrix[start:stop])
        assert probabilities.tobytes() == whole_probabilities[start:stop].tobytes()
        assert likelihoods.tobytes() == whole_likelihoods[start:stop].tobytes()


def test_null_features_give_null(scored_connection):
    connection, _, _ = scored_connection
    assert connection.execute("select gmm_score('two', null::double[])").fetchone() == (None,)


def test_refit_under_the_same_run_id_is_picked_up(scored_connection):
    connection, matrix, _ = scored_connection
    query = "select gmm_score('two', [0.0, 0.0, 0.0]).log_likelihood"
    before = connection.execute(query).fetchone()[0]
    connection.register("refit_arrow", stored_fits(matrix[:200], [MixtureRun("two", "s", 2)]))
    connection.execute("delete from fits where run_id = 'two'")
    connection.execute("insert into fits select * from refit_arrow")
    after = connection.execute(query).fetchone()[0]
    expected = functions.StoredMixtures(connection, "main.fits").mixture("two")
    assert after == pytest.approx(expected.score_samples([[0.0, 0.0, 0.0]])[0])
    assert after != before


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("select gmm_score('nine', [0.0, 0.0, 0.0])", "'nine' is not among the fitted runs"),
        ("select gmm_score('two', [0.0, 0.0])", "has 3 features, got"),
    ],
)
def test_bad_calls_say_what_is_wrong(scored_connection, sql, message):
    connection, _, _ = scored_connection
    with pytest.raises(duckdb.Error, match=message):
        connection.execute(sql).fetchall()
