"""The Python UDFs on a plain DuckDB connection: they score against a stored fits table
exactly as scikit-learn does. (tests/test_warehouse.py checks them through dbt.)"""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from python_udfs import functions
from python_udfs.mixture import MixtureRun, fit_mixture, fits_table


@pytest.fixture()
def scored_connection(tmp_path):
    """A DuckDB file holding two fitted runs and feature vectors, with the UDFs registered."""
    rng = np.random.default_rng(11)
    matrix = np.vstack([rng.normal(0, 1, (200, 3)), rng.normal(4, 1, (200, 3))])
    fits = [
        fit_mixture(matrix, ("x", "y", "z"), MixtureRun("two", "s", 2)),
        fit_mixture(matrix, ("x", "y", "z"), MixtureRun("five", "s", 5, "diag")),
    ]
    connection = duckdb.connect(str(tmp_path / "w.duckdb"))
    connection.register("fits_arrow", fits_table(fits))
    connection.execute("create table fits as select * from fits_arrow")
    vectors = pa.table({"id": range(len(matrix)), "features": matrix.tolist()})
    connection.register("vectors_arrow", vectors)
    connection.execute("create table vectors as select * from vectors_arrow")
    functions.register(connection)
    yield connection, matrix, {fit.run.run_id: fit.estimator for fit in fits}
    connection.close()


def test_membership_probabilities_equal_predict_proba(scored_connection):
    connection, matrix, estimators = scored_connection
    # Both runs in one query, so batches hold rows of several runs.
    rows = connection.execute(
        """
        select run_id, id, gmm_membership_probabilities('main.fits', run_id, features)
        from vectors cross join (select run_id from fits)
        order by run_id, id
        """
    ).fetchall()
    for run_id, estimator in estimators.items():
        scored = np.array([row[2] for row in rows if row[0] == run_id])
        np.testing.assert_allclose(scored, estimator.predict_proba(matrix), rtol=0, atol=1e-12)


def test_log_likelihood_equals_score_samples(scored_connection):
    connection, matrix, estimators = scored_connection
    scored = connection.execute(
        "select gmm_log_likelihood('main.fits', 'five', features) from vectors order by id"
    ).fetchall()
    np.testing.assert_allclose(
        [row[0] for row in scored], estimators["five"].score_samples(matrix), rtol=1e-12
    )


def test_null_features_give_null(scored_connection):
    connection, _, _ = scored_connection
    result = connection.execute(
        "select gmm_membership_probabilities('main.fits', 'two', null::double[])"
    ).fetchone()
    assert result == (None,)


def test_refit_under_the_same_run_id_is_picked_up(scored_connection):
    connection, matrix, _ = scored_connection
    before = connection.execute(
        "select gmm_log_likelihood('main.fits', 'two', [0.0, 0.0, 0.0])"
    ).fetchone()[0]
    refit = fit_mixture(matrix[:200], ("x", "y", "z"), MixtureRun("two", "s", 2))
    connection.register("refit_arrow", fits_table([refit]))
    connection.execute("delete from fits where run_id = 'two'")
    connection.execute("insert into fits select * from refit_arrow")
    after = connection.execute(
        "select gmm_log_likelihood('main.fits', 'two', [0.0, 0.0, 0.0])"
    ).fetchone()[0]
    assert after == pytest.approx(refit.estimator.score_samples([[0.0, 0.0, 0.0]])[0])
    assert after != before


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("select gmm_log_likelihood('main.fits', 'nine', [0.0, 0.0, 0.0])", "'nine' is not in"),
        ("select gmm_log_likelihood('main.fits', 'two', [0.0, 0.0])", "has 3 features, got"),
        ("select gmm_log_likelihood('fits; drop table x', 'two', [0.0])", "not a table name"),
    ],
)
def test_bad_calls_say_what_is_wrong(scored_connection, sql, message):
    connection, _, _ = scored_connection
    with pytest.raises(duckdb.Error, match=message):
        connection.execute(sql).fetchall()
