"""Cluster profiles, the spread of SIMBAD types over the clusters and the generated cluster
descriptions, on the demo warehouse, against an independent pandas / numpy computation from
the detections and their assignments; and feature-oriented questions asked in plain SQL
through the duckdb CLI."""

from __future__ import annotations

import io

import duckdb
import numpy as np
import pandas as pd
import pytest
from support import readme_sql, run_duckdb_cli, vars_of_test_warehouses

CONFIG = vars_of_test_warehouses()
RUN_ID = CONFIG["default_gmm_run"]
UNMATCHED, UNRESOLVED = CONFIG["unmatched_object_type"], CONFIG["unresolved_object_type"]
POSITIONS = ["b", "abs_b", "abs_l"]


def descriptors(run_id: str) -> list[str]:
    """A run's profiled descriptors: its own feature set's features, then the positions."""
    run = next(run for run in CONFIG["gmm_runs"] if run["run_id"] == run_id)
    return [feature["name"] for feature in CONFIG["feature_sets"][run["feature_set"]]] + POSITIONS


DESCRIPTORS = descriptors(RUN_ID)
# quantile_cont interpolates linearly between order statistics: numpy's "linear" method.
PERCENTILES = {"p10": 10, "p25": 25, "median": 50, "p75": 75, "p90": 90}
COMPARISONS = {"median_below": np.less, "median_above": np.greater}

# The README's feature-oriented questions.
SOFT_VARIABLE_PLANE_YSOS, YSO_CLUSTERS_BY_SOFTNESS = readme_sql("feature-questions")


@pytest.fixture(scope="module")
def warehouse(demo_warehouse):
    with duckdb.connect(str(demo_warehouse), read_only=True) as connection:
        yield connection


@pytest.fixture(scope="module")
def assigned(warehouse) -> pd.DataFrame:
    """The run's detections with their cluster, raw descriptors and SIMBAD type."""
    frame = warehouse.execute(
        "select assignments.cluster, detections.* exclude (cluster) "
        "from gmm_assignments as assignments "
        "inner join detections on assignments.detection_id = detections.detection_id "
        "where assignments.run_id = ?",
        [RUN_ID],
    ).df()
    frame["abs_b"] = frame["b"].abs()
    frame["abs_l"] = np.minimum(frame["l"], 360 - frame["l"])
    frame["otype"] = np.where(
        frame["main_id"].isna(), UNMATCHED, frame["otype_code"].fillna(UNRESOLVED)
    )
    frame["family"] = frame["otype_family"].fillna(UNRESOLVED)
    return frame


def percentiles(values: pd.Series) -> dict[str, float]:
    finite = values.dropna().to_numpy(dtype=float)
    quantiles = np.percentile(finite, list(PERCENTILES.values()), method="linear")
    return dict(zip(PERCENTILES, quantiles, strict=True))


@pytest.fixture(scope="module")
def expected_profiles(assigned) -> pd.DataFrame:
    rows = []
    for descriptor in DESCRIPTORS:
        sample = {
            f"sample_{name}": value for name, value in percentiles(assigned[descriptor]).items()
        }
        for cluster, members in assigned.groupby("cluster"):
            rows.append(
                {
                    "cluster": cluster,
                    "descriptor": descriptor,
                    "n_detections": len(members),
                    "n_values": members[descriptor].notna().sum(),
                    **percentiles(members[descriptor]),
                    "sample_n_values": assigned[descriptor].notna().sum(),
                    **sample,
                }
            )
    return pd.DataFrame(rows).set_index(["cluster", "descriptor"]).sort_index()


@pytest.fixture(scope="module")
def profiles(warehouse) -> pd.DataFrame:
    return (
        warehouse.execute("select * from cluster_profiles where run_id = ?", [RUN_ID])
        .df()
        .set_index(["cluster", "descriptor"])
        .sort_index()
    )


@pytest.fixture(scope="module")
def summaries(warehouse) -> pd.DataFrame:
    return warehouse.execute("select * from cluster_summaries order by run_id, cluster").df()


def cli_answer(warehouse_path, sql: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(run_duckdb_cli(warehouse_path, sql).stdout))


def test_profiles_equal_numpy_percentiles(profiles, expected_profiles):
    assert list(profiles.index) == list(expected_profiles.index)
    for column in ["n_detections", "n_values", "sample_n_values"]:
        assert profiles[column].tolist() == expected_profiles[column].tolist(), column
    for column in [*PERCENTILES, *(f"sample_{name}" for name in PERCENTILES)]:
        np.testing.assert_allclose(
            profiles[column], expected_profiles[column], rtol=1e-12, atol=1e-12, err_msg=column
        )


def test_every_run_profiles_every_cluster_on_its_own_feature_set(warehouse):
    profiled = warehouse.execute(
        "select run_id, count(distinct cluster), list(distinct descriptor), count(*) "
        "from cluster_profiles group by run_id"
    ).fetchall()
    components = {run["run_id"]: run["n_components"] for run in CONFIG["gmm_runs"]}
    assert {run_id for run_id, *_ in profiled} == set(components)
    for run_id, clusters, names, rows in profiled:
        assert clusters == components[run_id]
        assert sorted(names) == sorted(descriptors(run_id))
        assert rows == clusters * len(names)
    # in the order of the run's feature set, then the positions
    order = warehouse.execute(
        "select descriptor from cluster_profiles where run_id = ? and cluster = 0"
        " order by descriptor_index",
        [RUN_ID],
    ).fetchall()
    assert [name for (name,) in order] == DESCRIPTORS


@pytest.mark.parametrize(("type_level", "type_column"), [("otype", "otype"), ("family", "family")])
def test_distribution_equals_crosstab(warehouse, assigned, type_level, type_column):
    counts = pd.crosstab(assigned[type_column], assigned["cluster"])
    fraction_of_type = counts.div(counts.sum(axis=1), axis=0)
    fraction_of_cluster = counts / counts.sum(axis=0)
    expected = pd.DataFrame(
        {
            "n_detections": counts.stack(),
            "fraction_of_type": fraction_of_type.stack(),
            "fraction_of_cluster": fraction_of_cluster.stack(),
        }
    )
    expected = expected[expected["n_detections"] > 0].sort_index()

    distribution = (
        warehouse.execute(
            "select object_type, cluster, n_detections, fraction_of_type, fraction_of_cluster "
            "from type_cluster_distribution where run_id = ? and type_level = ?",
            [RUN_ID, type_level],
        )
        .df()
        .set_index(["object_type", "cluster"])
        .sort_index()
    )
    assert list(distribution.index) == list(expected.index)
    assert distribution["n_detections"].tolist() == expected["n_detections"].tolist()
    for column in ["fraction_of_type", "fraction_of_cluster"]:
        np.testing.assert_allclose(distribution[column], expected[column], rtol=1e-12)
    assert UNMATCHED in distribution.index.get_level_values("object_type")


def test_summary_sizes_and_dominant_family(summaries, assigned):
    run = summaries[summaries["run_id"] == RUN_ID].set_index("cluster")
    sizes = assigned.groupby("cluster").size()
    assert run["n_detections"].to_dict() == sizes.to_dict()
    np.testing.assert_allclose(run["fraction_of_run"], sizes / len(assigned), rtol=1e-12)
    for cluster, members in assigned.groupby("cluster"):
        matched = members[members["family"] != UNMATCHED]
        family_counts = matched["family"].value_counts()
        # most detections first, ties to the first name alphabetically
        dominant = sorted(family_counts.items(), key=lambda item: (-item[1], item[0]))[0]
        assert run.loc[cluster, "dominant_family"] == dominant[0]
        assert run.loc[cluster, "dominant_family_fraction"] == pytest.approx(
            dominant[1] / len(members), rel=1e-12
        )
        assert run.loc[cluster, "matched_fraction"] == pytest.approx(
            len(matched) / len(members), rel=1e-12
        )


def expected_words(profile: pd.DataFrame, cluster: int) -> list[str]:
    """The configured description rules applied to an independently computed profile."""
    config = CONFIG["cluster_descriptions"]
    words: dict[str, str] = {}
    for rule in config["words"]:
        if rule["aspect"] in words:
            continue
        holds = True
        for descriptor, bounds in rule["when"].items():
            figures = profile.loc[(cluster, descriptor)]
            for bound, threshold in bounds.items():
                limit = threshold if isinstance(threshold, int | float) else figures[threshold]
                holds &= bool(COMPARISONS[bound](figures["median"], limit))
        if holds:
            words[rule["aspect"]] = rule["word"]
    return list(words.values())


def test_descriptions_follow_the_configured_rules(summaries, expected_profiles):
    run = summaries[summaries["run_id"] == RUN_ID].set_index("cluster")
    for cluster, summary in run.iterrows():
        words = expected_words(expected_profiles, cluster)
        assert list(summary["description_words"]) == words, cluster
        expected = ", ".join(words) or CONFIG["cluster_descriptions"]["no_words"]
        assert summary["description"] == expected


def test_soft_and_hard_clusters_sit_beyond_the_sample_quartiles(warehouse, summaries):
    """In every run: 'soft' exactly when the median hard_hs is below the run's 25th
    percentile, 'hard' when above its 75th (the configured rules of the hardness aspect)."""
    rules = {
        rule["word"]: rule["when"]["hard_hs"]
        for rule in CONFIG["cluster_descriptions"]["words"]
        if rule["aspect"] == "hardness"
    }
    assert rules == {"soft": {"median_below": "sample_p25"}, "hard": {"median_above": "sample_p75"}}
    hardness = warehouse.execute(
        "select run_id, cluster, median, sample_p25, sample_p75 "
        "from cluster_profiles where descriptor = 'hard_hs'"
    ).df()
    merged = summaries.merge(hardness, on=["run_id", "cluster"], validate="one_to_one")
    is_soft = merged["description_words"].map(lambda words: "soft" in words)
    is_hard = merged["description_words"].map(lambda words: "hard" in words)
    assert (is_soft == (merged["median"] < merged["sample_p25"])).all()
    assert (is_hard == (merged["median"] > merged["sample_p75"])).all()
    # the demo's populations give both kinds, so the checks above are not vacuous
    assert is_soft.any() and is_hard.any()


def test_soft_variable_ysos_near_the_plane_by_cluster(demo_warehouse, assigned):
    hardness, variability = CONFIG["hardness_classes"], CONFIG["variability_classes"]
    chosen = assigned[
        (assigned["family"] == "YSO")
        & (assigned["hard_hs"] < hardness["soft_below_hard_hs"])
        & (assigned["hard_ms"] < hardness["soft_below_hard_ms"])
        & (assigned["var_prob_b"] >= variability["variable_from"])
        & (assigned["abs_b"] < CONFIG["sky_regions"]["galactic_plane_below"])
    ]
    answer = cli_answer(demo_warehouse, SOFT_VARIABLE_PLANE_YSOS)
    assert len(answer) > 0
    expected = chosen.groupby("cluster").size().to_dict()
    assert dict(zip(answer["cluster"], answer["detections"], strict=True)) == expected


def test_which_cluster_holds_the_softer_ysos(
    demo_warehouse, assigned, expected_profiles, summaries
):
    assert RUN_ID == "gmm6_allvar"  # the question names the default run
    answer = cli_answer(demo_warehouse, YSO_CLUSTERS_BY_SOFTNESS)

    ysos = assigned[assigned["family"] == "YSO"]
    yso_counts = ysos.groupby("cluster").size()
    medians = expected_profiles["median"].unstack("descriptor")
    # the query orders by the rounded median, ties by cluster
    softest_first = sorted(
        yso_counts.index, key=lambda cluster: (round(medians.loc[cluster, "hard_hs"], 2), cluster)
    )
    assert answer["cluster"].tolist() == softest_first
    assert answer["ysos"].tolist() == yso_counts[answer["cluster"]].tolist()
    for column, digits in [("hard_hs", 2), ("var_prob_b", 2), ("abs_b", 1)]:
        np.testing.assert_allclose(
            answer[column], medians.loc[answer["cluster"], column], atol=0.5 * 10**-digits + 1e-9
        )
    np.testing.assert_allclose(
        answer["share_of_ysos"], yso_counts[answer["cluster"]] / len(ysos), atol=0.005 + 1e-9
    )
    descriptions = summaries[summaries["run_id"] == RUN_ID].set_index("cluster")["description"]
    assert answer["description"].tolist() == descriptions[answer["cluster"]].tolist()

    # The softest YSO-holding cluster does hold the softer YSOs: its YSOs' median hard_hs is
    # below that of the YSOs in every other cluster.
    yso_hardness = ysos.groupby("cluster")["hard_hs"].median()
    assert yso_hardness.idxmin() == answer["cluster"].iloc[0]
    assert "soft" in answer["description"].iloc[0]
