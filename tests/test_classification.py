"""The classification tables of built warehouses (the demo, and the real sample) against
independent computations: the follow-up study's recipe written out plainly with numpy
and scipy (its own formulas: np.cov, pinv, the quadratic form, softmin), its source votes
with pandas and Counter, the validation figures with scikit-learn's metrics."""

from __future__ import annotations

import io
from collections import Counter

import duckdb
import numpy as np
import pandas as pd
import pytest
from scipy.linalg import pinv
from sklearn.metrics import (
    balanced_accuracy_score,
    confusion_matrix,
    log_loss,
    precision_recall_fscore_support,
)
from support import readme_sql, run_duckdb_cli, vars_of_test_warehouses

from classification.truth import truth_scores

CONFIG_ALL = vars_of_test_warehouses()
CONFIG = CONFIG_ALL["classification"]
CLASSES = list(CONFIG["classes"])
GROUPS = CONFIG["classes"]


# Every test here reads a built warehouse (chosen by parameter, out of the conftest's sight).
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", params=["demo_warehouse", "real_sample_warehouse"])
def warehouse(request):
    path = request.getfixturevalue(request.param)
    with duckdb.connect(str(path), read_only=True) as connection:
        yield connection


def inputs(connection) -> pd.DataFrame:
    return connection.execute(
        "select detection_id, name, cluster, class_name, label_role, features"
        " from intermediate.int_class_inputs order by detection_id"
    ).df()


def study_recipe(training: pd.DataFrame, scored: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The study's mahal_classifier_cl, cluster by cluster: (squared distances, softmin
    probabilities) of the scored rows, in their order; NaN probabilities where every
    exp(-d) underflows."""
    n_features = len(training["features"].iloc[0])
    distances = np.full((len(scored), len(CLASSES)), np.inf)
    for cluster in scored["cluster"].unique():
        rows = np.flatnonzero(scored["cluster"].to_numpy() == cluster)
        x = np.vstack(scored["features"].to_numpy()[rows])
        for column, name in enumerate(CLASSES):
            members = training[(training["cluster"] == cluster) & (training["class_name"] == name)]
            if len(members) < n_features:
                continue
            data = np.vstack(members["features"].to_numpy())
            centred = x - np.mean(data, axis=0)
            distances[rows, column] = np.dot(
                np.dot(centred, pinv(np.cov(data.T))), centred.T
            ).diagonal()
    with np.errstate(invalid="ignore", divide="ignore"):
        weights = np.exp(-np.abs(distances))
        probabilities = weights / weights.sum(axis=1, keepdims=True)
    return distances, probabilities


def stored_probabilities(connection, classifier: str, training: str, ids) -> tuple[np.ndarray, ...]:
    frame = connection.execute(
        "select detection_id, class_name, squared_distance, probability"
        " from detection_class_probabilities where classifier = ? and training = ?",
        [classifier, training],
    ).df()
    distances = frame.pivot(index="detection_id", columns="class_name", values="squared_distance")
    probabilities = frame.pivot(index="detection_id", columns="class_name", values="probability")
    return distances.loc[ids, CLASSES].to_numpy(), probabilities.loc[ids, CLASSES].to_numpy()


@pytest.mark.parametrize("training", ["all_labels", "source_split", "detection_split"])
def test_the_mahalanobis_method_is_the_studys_recipe(warehouse, training):
    rows = inputs(warehouse)
    labelled = rows[rows["label_role"] == "labelled"]
    if training == "all_labels":
        train, scored = labelled, rows[rows["label_role"] == "unlabelled"]
    else:
        split = "sources" if training == "source_split" else "detections"
        sides = dict(
            warehouse.execute(
                "select detection_id, subset from classification_splits where split = ?", [split]
            ).fetchall()
        )
        side = labelled["detection_id"].map(sides)
        train, scored = labelled[side == "train"], labelled[side == "test"]
    assert len(scored) > 20
    distances, probabilities = study_recipe(train, scored)
    stored_distances, stored = stored_probabilities(
        warehouse, "mahalanobis", training, scored["detection_id"]
    )
    finite = np.isfinite(distances)
    assert (np.isfinite(stored_distances) == finite).all()
    np.testing.assert_allclose(stored_distances[finite], distances[finite], rtol=1e-9)
    # Where the plain softmin is defined the stored probabilities equal it; where every
    # exp(-d) underflows to 0 (0/0 plainly) the log-space softmin still gives them.
    defined = np.isfinite(probabilities).all(axis=1)
    np.testing.assert_allclose(stored[defined], probabilities[defined], rtol=0, atol=1e-9)
    some_class = finite.any(axis=1)
    assert np.isfinite(stored[some_class]).all()
    np.testing.assert_allclose(stored[some_class].sum(axis=1), 1, atol=1e-12)
    assert np.isnan(stored[~some_class]).all()


def test_source_votes_are_the_studys(warehouse):
    for classifier in ("mahalanobis", "gradient_boosting"):
        classes = warehouse.execute(
            "select detection_id, name, predicted_class from detection_classes"
            " where classifier = ? and training = 'all_labels' order by detection_id",
            [classifier],
        ).df()
        probabilities = (
            warehouse.execute(
                "select detection_id, class_name, probability from detection_class_probabilities"
                " where classifier = ? and training = 'all_labels'",
                [classifier],
            )
            .df()
            .pivot(index="detection_id", columns="class_name", values="probability")[CLASSES]
        )
        probabilities["name"] = classes.set_index("detection_id")["name"]
        means = probabilities.groupby("name")[CLASSES].mean()
        stds = probabilities.groupby("name")[CLASSES].agg(lambda column: np.std(column.dropna()))
        classified = classes.dropna(subset=["predicted_class"])
        hard = classified.groupby("name")["predicted_class"].agg(
            lambda votes: Counter(votes).most_common(1)[0][0]
        )
        stored = (
            warehouse.execute(
                "select name, soft_class, hard_class, agreement, class_group from source_classes"
                " where classifier = ? and training = 'all_labels'",
                [classifier],
            )
            .df()
            .set_index("name")
        )
        voted = means.dropna(how="all")
        assert stored.loc[voted.index, "soft_class"].tolist() == voted.idxmax(axis=1).tolist()
        assert stored.loc[hard.index, "hard_class"].tolist() == hard.tolist()
        agreement = np.where(
            stored.loc[hard.index, "soft_class"] == hard, "unique", "ambiguous"
        ).tolist()
        assert stored.loc[hard.index, "agreement"].tolist() == agreement
        assert stored.loc[voted.index, "class_group"].tolist() == [
            GROUPS[name] for name in voted.idxmax(axis=1)
        ]
        stored_stats = warehouse.execute(
            "select name, class_name, mean_probability, std_probability"
            " from source_class_probabilities where classifier = ? and training = 'all_labels'",
            [classifier],
        ).df()
        stored_means = stored_stats.pivot(
            index="name", columns="class_name", values="mean_probability"
        )
        stored_stds = stored_stats.pivot(
            index="name", columns="class_name", values="std_probability"
        )
        np.testing.assert_allclose(
            stored_means.loc[voted.index, CLASSES], voted, rtol=0, atol=1e-12
        )
        np.testing.assert_allclose(
            stored_stds.loc[voted.index, CLASSES], stds.loc[voted.index], rtol=0, atol=1e-12
        )


def test_the_source_split_keeps_sources_together_and_the_classes_in_proportion(warehouse):
    splits = warehouse.execute("select * from classification_splits").df()
    by_source = splits[splits["split"] == "sources"].groupby("name")["subset"].nunique()
    assert (by_source == 1).all()
    for split, rows in splits.groupby("split"):
        test_share = (rows["subset"] == "test").mean()
        assert 0.1 < test_share < 0.3, split
    detections = splits[splits["split"] == "detections"]
    shares = detections.groupby("class_name")["subset"].agg(lambda s: (s == "test").mean())
    large = detections["class_name"].value_counts() >= 20
    assert ((shares[large[large].index] - 0.2).abs() < 0.06).all()


@pytest.mark.parametrize("classifier", ["mahalanobis", "gradient_boosting"])
@pytest.mark.parametrize("label_level", ["class", "group"])
def test_validation_figures_equal_scikit_learns(warehouse, classifier, label_level):
    items = warehouse.execute(
        "select item, true_label, predicted_label, true_probability, sum_squared_probabilities"
        " from classification_test_items where classifier = ? and training = 'detection_split'"
        " and item_kind = 'detection' and label_level = ? and predicted_label is not null",
        [classifier, label_level],
    ).df()
    metrics = warehouse.execute(
        "select label_name, metric, value from classification_metrics where classifier = ?"
        " and training = 'detection_split' and item_kind = 'detection' and label_level = ?"
        " and subset = 'all'",
        [classifier, label_level],
    ).df()
    overall = metrics[metrics["label_name"].isna()].set_index("metric")["value"]
    truth, predicted = items["true_label"], items["predicted_label"]
    assert overall["balanced_accuracy"] == pytest.approx(
        balanced_accuracy_score(truth, predicted), rel=1e-12
    )
    assert overall["accuracy"] == pytest.approx((truth == predicted).mean(), rel=1e-12)
    labels = sorted(set(truth) | set(predicted))
    precision, recall, f1, support = precision_recall_fscore_support(
        truth, predicted, labels=labels, zero_division=np.nan
    )
    per_label = (
        metrics.dropna(subset=["label_name"])
        .pivot(index="label_name", columns="metric", values="value")
        .loc[labels]
    )
    np.testing.assert_allclose(per_label["recall"], recall, rtol=1e-12)
    np.testing.assert_allclose(per_label["precision"], precision, rtol=1e-12)
    np.testing.assert_allclose(per_label["support"], support)
    np.testing.assert_allclose(per_label["f1"].fillna(0), np.nan_to_num(f1), rtol=1e-12)

    # Log loss and Brier score from the full probability rows, by scikit-learn and numpy.
    rows = warehouse.execute(
        "select detection_id, class_name, class_group, probability"
        " from detection_class_probabilities where classifier = ? and training = 'detection_split'",
        [classifier],
    ).df()
    column = "class_name" if label_level == "class" else "class_group"
    matrix = rows.pivot_table(index="detection_id", columns=column, values="probability",
                              aggfunc="sum").loc[items["item"]]  # fmt: skip
    names = list(matrix.columns)
    # a group's summed probability can exceed 1 by a rounding, which log_loss refuses
    matrix = matrix.div(matrix.sum(axis=1), axis=0)
    assert overall["log_loss"] == pytest.approx(
        log_loss(truth, matrix.to_numpy(), labels=names), rel=1e-9
    )
    onehot = (truth.to_numpy()[:, None] == np.array(names)).astype(float)
    brier = np.mean(np.sum((matrix.to_numpy() - onehot) ** 2, axis=1))
    assert overall["brier_score"] == pytest.approx(brier, rel=1e-9)

    confusion = (
        warehouse.execute(
            "select true_label, predicted_label, n_items from classification_confusion"
            " where classifier = ? and training = 'detection_split' and item_kind = 'detection'"
            " and label_level = ? and subset = 'all'",
            [classifier, label_level],
        )
        .df()
        .pivot(index="true_label", columns="predicted_label", values="n_items")
    )
    expected = confusion_matrix(truth, predicted, labels=labels)
    np.testing.assert_array_equal(
        confusion.reindex(index=labels, columns=labels).fillna(0).to_numpy(), expected
    )


def test_the_unlabelled_get_classes_from_both_classifiers(warehouse):
    counts = dict(
        warehouse.execute(
            "select classifier, count(predicted_class) from detection_classes"
            " where training = 'all_labels' group by classifier"
        ).fetchall()
    )
    n_unlabelled = warehouse.execute(
        "select count(*) from intermediate.int_class_inputs where label_role = 'unlabelled'"
    ).fetchone()[0]
    assert counts["gradient_boosting"] == n_unlabelled
    assert 0.5 * n_unlabelled < counts["mahalanobis"] <= n_unlabelled


def test_the_demos_unidentified_sources_are_scored_against_the_truth(demo_warehouse):
    truth = demo_warehouse.parent / "demo" / "demo_truth.parquet"
    scores = truth_scores(demo_warehouse, truth).pivot(
        index="figure", columns="classifier", values="value"
    )
    with duckdb.connect(str(demo_warehouse), read_only=True) as connection:
        unidentified = connection.execute(
            f"select count(*) from source_classes inner join '{truth}' using (name)"
            " where classifier = 'mahalanobis' and training = 'all_labels'"
            " and not has_counterpart"
        ).fetchone()[0]
    assert (scores.loc["n_sources"] == unidentified).all() and unidentified > 100
    figures = scores.drop(index="n_sources")
    assert ((figures >= 0) & (figures <= 1)).all().all()
    # better than chance among the four groups, for both classifiers
    assert (scores.loc["balanced_accuracy"] > 0.35).all()


CLASSIFICATION_QUESTIONS = readme_sql("classification-questions")


def cli_answer(warehouse_path, sql: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(run_duckdb_cli(warehouse_path, sql).stdout))


@pytest.fixture(scope="module")
def demo_frames(demo_warehouse):
    with duckdb.connect(str(demo_warehouse), read_only=True) as connection:
        probabilities = connection.execute(
            "select classifier, training, detection_id, class_name, class_index, class_group,"
            " probability from detection_class_probabilities where training = 'all_labels'"
        ).df()
        detections = connection.execute(
            "select detection_id, name, hard_hs, hard_ms, var_prob_b from detections"
        ).df()
        clusters = connection.execute(
            "select detection_id, cluster from intermediate.int_class_inputs"
        ).df()
    return probabilities, detections, clusters


def most_probable_groups(probabilities: pd.DataFrame) -> pd.DataFrame:
    """Per classifier and detection: the argmax class (ties to the first) and its group's
    summed probability, recomputed from the long-form probabilities."""
    ordered = probabilities.dropna(subset=["probability"]).sort_values(
        ["classifier", "detection_id", "class_index"]
    )
    best = ordered.loc[ordered.groupby(["classifier", "detection_id"])["probability"].idxmax()]
    group_sums = ordered.groupby(["classifier", "detection_id", "class_group"])["probability"].sum()
    best["group_probability"] = [
        group_sums[(row.classifier, row.detection_id, row.class_group)] for row in best.itertuples()
    ]
    return best


def test_probable_soft_variable_ysos_by_cluster(demo_warehouse, demo_frames):
    probabilities, detections, clusters = demo_frames
    best = most_probable_groups(probabilities[probabilities["classifier"] == "gradient_boosting"])
    hardness, variability = CONFIG_ALL["hardness_classes"], CONFIG_ALL["variability_classes"]
    chosen = best.merge(detections, on="detection_id").merge(clusters, on="detection_id")
    chosen = chosen[
        (chosen["class_group"] == "YSO")
        & (chosen["group_probability"] > 0.8)
        & (chosen["hard_hs"] < hardness["soft_below_hard_hs"])
        & (chosen["hard_ms"] < hardness["soft_below_hard_ms"])
        & (chosen["var_prob_b"] >= variability["variable_from"])
    ]
    answer = cli_answer(demo_warehouse, CLASSIFICATION_QUESTIONS[0])
    assert len(answer) > 0
    expected = chosen.groupby("cluster").agg(
        sources=("name", "nunique"), detections=("name", "size")
    )
    stored = answer.set_index("cluster")
    assert stored["detections"].to_dict() == expected["detections"].to_dict()
    assert stored["sources"].to_dict() == expected["sources"].to_dict()


def test_where_the_classifiers_disagree(demo_warehouse, demo_frames):
    probabilities, _, _ = demo_frames
    best = most_probable_groups(probabilities).pivot(
        index="detection_id", columns="classifier", values="class_group"
    )
    disagree = best[best["mahalanobis"] != best["gradient_boosting"]].fillna("")
    counts = disagree.groupby(["mahalanobis", "gradient_boosting"]).size()
    answer = cli_answer(demo_warehouse, CLASSIFICATION_QUESTIONS[1])
    assert len(answer) == 5
    expected = counts.sort_values(ascending=False).head(5)
    assert answer["detections"].tolist() == expected.tolist()
    for row in answer.itertuples():
        pair = (row.mahalanobis if isinstance(row.mahalanobis, str) else "", row.gradient_boosting)
        assert counts[pair] == row.detections


def test_how_far_to_trust_them(demo_warehouse):
    answer = cli_answer(demo_warehouse, CLASSIFICATION_QUESTIONS[2])
    with duckdb.connect(str(demo_warehouse), read_only=True) as connection:
        items = connection.execute(
            "select classifier, item_kind, true_label, predicted_label"
            " from classification_test_items where training = 'source_split'"
            " and label_level = 'group' and predicted_label is not null"
        ).df()
    for row in answer.itertuples():
        chosen = items[
            (items["classifier"] == row.classifier) & (items["item_kind"] == row.item_kind)
        ]
        expected = balanced_accuracy_score(chosen["true_label"], chosen["predicted_label"])
        assert row.balanced_accuracy == pytest.approx(round(expected, 3), abs=1e-9)
    assert sorted(answer["item_kind"].unique()) == ["detection", "source"]
