"""`make classify`: new detections classified by the warehouse's stored models, exactly as
the build classified its own (the warehouse's unlabelled detections, read back from a file,
get the build's features, clusters, probabilities and votes to the bit); a missing feature
is named and gets no class; a value beyond the fitted range is flagged; the results are
written to new_detections, and not written (but printed) while another process holds the
warehouse."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from support import REPO_ROOT, make_arguments

from classification.new_detections import BAD_INPUT, NOT_WRITTEN, main

RUN, FEATURE_SET = "gmm6_paper12", "paper12"


@pytest.fixture
def warehouse(demo_warehouse: Path, tmp_path: Path) -> Path:
    """A copy of the test warehouse to write into."""
    copy = tmp_path / "warehouse.duckdb"
    shutil.copyfile(demo_warehouse, copy)
    return copy


@pytest.fixture(scope="module")
def own_unlabelled(demo_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The raw rows of the unlabelled detections of four sources with three or more of them,
    as a Parquet file: detections the build classified, to classify again."""
    path = tmp_path_factory.mktemp("own") / "unlabelled.parquet"
    with duckdb.connect(str(demo_warehouse), read_only=True) as connection:
        connection.execute(
            f"""
            copy (
                select raw.* from raw.csc_detections as raw
                inner join intermediate.int_class_inputs as inputs
                    on main.detection_id(raw.name, raw.obsid, raw.region_id) = inputs.detection_id
                where inputs.label_role = 'unlabelled' and inputs.name in (
                    select name from intermediate.int_class_inputs
                    where label_role = 'unlabelled'
                    group by name having count(*) >= 3 order by name limit 4
                )
            ) to '{path}'
            """
        )
    return path


def edited_copy(source: Path, target: Path, assignments: str) -> Path:
    """The first detection of `source` with some values replaced (SQL `column := value`
    pairs, as in `replace`)."""
    with duckdb.connect() as connection:
        connection.execute(
            f"copy (select * replace ({assignments}) from '{source}' order by name, obsid"
            f" limit 1) to '{target}'"
        )
    return target


def classify(detections: Path, warehouse: Path) -> int:
    return main(["--detections", str(detections), "--db", str(warehouse)])


def query(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return connection.execute(sql).fetchall()


def test_cscview_votable_end_to_end(
    cscview_votable: Path, warehouse: Path, capsys: pytest.CaptureFixture
):
    """The CSCview file: its one detection lacks powlaw_gamma and bb_kt (empty in the
    file), so it is stored and printed with no class, the features named."""
    assert classify(cscview_votable, warehouse) == 0
    printed = capsys.readouterr().out
    assert "2CXO J004307.5-092302|4884|  -        -" in printed
    assert "no class: no value of powlaw_gamma, bb_kt: null, or not finite" in printed
    assert "2CXO J004307.5-092302  -           0           no vote" in printed
    assert f"written to {warehouse}" in printed
    assert query(
        warehouse,
        "select detection_id, missing_features, cluster, run_id, feature_set"
        " from new_detections.detections",
    ) == [("2CXO J004307.5-092302|4884|", ["powlaw_gamma", "bb_kt"], None, RUN, FEATURE_SET)]
    assert query(warehouse, "select count(*) from new_detections.class_probabilities") == [(0,)]


def test_make_classify_passes_the_file_as_one_argument(tmp_path: Path):
    hostile = f"{tmp_path}/my data; touch PWNED $(touch PWNED2) 'it'.vot"
    assert make_arguments(tmp_path, "classify", detections=hostile.replace("$", "$$")) == [
        [
            "python", "-m", "classification.new_detections",
            "--db", str(REPO_ROOT / "warehouse.duckdb"), "--detections", hostile,
        ]
    ]  # fmt: skip
    assert not list(tmp_path.glob("PWNED*"))


def test_own_detections_get_the_builds_features_and_probabilities(
    own_unlabelled: Path, warehouse: Path
):
    assert classify(own_unlabelled, warehouse) == 0
    # Classified again, each detection's rows are replaced, not repeated.
    assert classify(own_unlabelled, warehouse) == 0
    [(n_detections, same_features, same_clusters)] = query(
        warehouse,
        f"""
        select
            count(*),
            count(*) filter (where new.features = vectors.features),
            count(*) filter (
                where new.cluster = clusters.cluster
                and new.membership_probability = clusters.probability
                and new.log_likelihood = clusters.log_likelihood
            )
        from new_detections.detections as new
        left join intermediate.int_feature_vectors as vectors
            on vectors.feature_set = '{FEATURE_SET}' and new.detection_id = vectors.detection_id
        left join intermediate.int_gmm_clusters as clusters
            on clusters.run_id = '{RUN}' and new.detection_id = clusters.detection_id
        """,
    )
    assert n_detections == len(query(warehouse, f"select * from '{own_unlabelled}'")) > 3
    assert same_features == same_clusters == n_detections
    probabilities = query(
        warehouse,
        """
        select
            new.classifier,
            count(*),
            count(*) filter (
                where new.probability = build.probability
                and new.squared_distance is not distinct from build.squared_distance
                and new.model_fitted_at = models.fitted_at
                and (new.run_id, new.feature_set) = (models.run_id, models.feature_set)
            )
        from new_detections.class_probabilities as new
        left join intermediate.int_class_scores as build
            using (classifier, training, detection_id, class_name)
        left join intermediate.int_class_models as models using (classifier, training)
        group by new.classifier order by new.classifier
        """,
    )
    n_classes = query(warehouse, "select len(any_value(classes)) from classification_models")[0][0]
    assert probabilities == [
        ("gradient_boosting", n_detections * n_classes, n_detections * n_classes),
        ("mahalanobis", n_detections * n_classes, n_detections * n_classes),
    ]
    # The four sources' unlabelled detections are all in the file: the same votes.
    assert query(
        warehouse,
        """
        select count(*), count(*) filter (
            where (new.n_detections, new.soft_class, new.soft_class_probability, new.hard_class,
                   new.hard_class_votes, new.agreement)
                = (build.n_detections, build.soft_class, build.soft_class_probability,
                   build.hard_class, build.hard_class_votes, build.agreement)
        )
        from new_detections.source_classes as new
        left join source_classes as build using (classifier, training, name)
        """,
    ) == [(8, 8)]


def test_a_missing_feature_is_named_and_gets_no_class(
    own_unlabelled: Path, warehouse: Path, tmp_path: Path, capsys: pytest.CaptureFixture
):
    """A null hardness ratio, and a zero rate under var_ratio_b and var_newq_b (x / 0)."""
    edited = edited_copy(
        own_unlabelled,
        tmp_path / "missing.parquet",
        "null::double as hard_hm, 0::double as var_mean_b",
    )
    assert classify(edited, warehouse) == 0
    printed = capsys.readouterr().out
    assert (
        "no class: no value of hard_hm, var_ratio_b (var_sigma_b / var_mean_b), var_newq_b"
        " (((var_max_b + var_min_b) / 2) / var_mean_b): null, or not finite"
    ) in printed
    assert query(
        warehouse, "select missing_features, cluster, no_class_reason is not null from"
        " new_detections.detections"
    ) == [(["hard_hm", "var_ratio_b", "var_newq_b"], None, True)]  # fmt: skip
    assert query(warehouse, "select count(*) from new_detections.class_probabilities") == [(0,)]


def test_a_value_beyond_the_fitted_range_is_kept_and_flagged(
    own_unlabelled: Path, warehouse: Path, tmp_path: Path, capsys: pytest.CaptureFixture
):
    [(scale_max,)] = query(
        warehouse,
        f"select scale_max from feature_transform_params"
        f" where feature_set = '{FEATURE_SET}' and feature = 'powlaw_gamma'",
    )
    edited = edited_copy(
        own_unlabelled, tmp_path / "beyond.parquet", f"{scale_max + 1}::double as powlaw_gamma"
    )
    assert classify(edited, warehouse) == 0
    assert "out of the fitted range: powlaw_gamma 1.09 (fitted 0 to 1)" in capsys.readouterr().out
    [(flagged, value, n_probabilities)] = query(
        warehouse,
        """
        select
            list_transform(out_of_range_features, flag -> flag.feature),
            out_of_range_features[1].value,
            (select count(probability) from new_detections.class_probabilities)
        from new_detections.detections
        """,
    )
    assert flagged == ["powlaw_gamma"]
    assert value > 1
    assert n_probabilities > 0


def test_a_bad_file_is_refused_naming_file_column_and_row(
    own_unlabelled: Path, warehouse: Path, tmp_path: Path, capsys: pytest.CaptureFixture
):
    edited = edited_copy(own_unlabelled, tmp_path / "bad.csv", "400.0 as ra")
    assert classify(edited, warehouse) == BAD_INPUT
    message = capsys.readouterr().err
    assert str(edited) in message and "ra" in message and "row 1" in message
    assert query(
        warehouse, "select count(*) from information_schema.schemata"
        " where schema_name = 'new_detections'"
    ) == [(0,)]  # fmt: skip


@pytest.mark.parametrize("mode", ["read_only", "read_write"])
def test_held_by_another_process_prints_and_writes_nothing(
    own_unlabelled: Path, warehouse: Path, mode: str, capsys: pytest.CaptureFixture
):
    """Held open by another process (a read-write connection there keeps this process from
    even reading it: the models are read from a copy), the results are printed, not written."""
    holder = subprocess.Popen(
        [
            sys.executable, "-c",
            "import duckdb, sys; connection = duckdb.connect(sys.argv[1], read_only="
            "sys.argv[2] == 'read_only'); print('open', flush=True); sys.stdin.read()",
            str(warehouse), mode,
        ],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline() == "open\n"
        assert classify(own_unlabelled, warehouse) == NOT_WRITTEN
    finally:
        holder.communicate("")
    printed = capsys.readouterr()
    assert "source votes" in printed.out
    assert f"not written: {warehouse} is open" in printed.err
    assert f"PID {holder.pid}" in printed.err
    assert ("read-write" if mode == "read_write" else "read-only") in printed.err
    assert query(
        warehouse, "select count(*) from information_schema.schemata"
        " where schema_name = 'new_detections'"
    ) == [(0,)]  # fmt: skip
