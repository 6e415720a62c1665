"""The dbt sources and the staging models' range tests agree with the raw contract."""

from __future__ import annotations

from ingest import dbt_sources
from ingest.dbt_sources import MODELS_FILE, SOURCES_FILE, check, range_test_problems, sources_yaml


def test_the_sources_file_is_the_one_the_contract_gives():
    assert check(SOURCES_FILE, MODELS_FILE) == []
    assert SOURCES_FILE.read_text() == sources_yaml()


def test_a_range_test_other_than_the_contract_is_reported():
    models = MODELS_FILE.read_text().replace(
        "- name: hard_hs\n        description: '{{ doc(\"hard_hs\") }}'\n        data_tests:\n"
        "          - accepted_range:\n              arguments: {min_value: -1, max_value: 1}",
        "- name: hard_hs\n        description: '{{ doc(\"hard_hs\") }}'\n        data_tests:\n"
        "          - accepted_range:\n              arguments: {min_value: -2, max_value: 1}",
    )
    assert range_test_problems(models) == [
        "stg_csc__detections.hard_hs (raw.csc_detections.hard_hs): accepted_range [-2, 1] but"
        " the contract says [-1, 1]"
    ]


def test_a_documented_column_without_its_range_test_is_reported():
    models = MODELS_FILE.read_text().replace(
        "          - accepted_range:\n              arguments: {min_value: 0, max_value: 180}\n",
        "",
    )
    assert range_test_problems(models) == [
        "stg_simbad__objects.coo_err_angle (raw.simbad_objects.coo_err_angle): no accepted_range"
        " test for the contract's [0, 180]"
    ]


def test_check_mode_writes_nothing_and_fails_on_a_stale_file(tmp_path, monkeypatch, capsys):
    stale = tmp_path / "_staging__sources.yml"
    stale.write_text(sources_yaml().replace("raw", "old_raw"))
    monkeypatch.setattr(dbt_sources, "SOURCES_FILE", stale)
    assert dbt_sources.main(["--check"]) == 1
    assert "is not what the contract gives: run python -m ingest.dbt_sources" in (
        capsys.readouterr().err
    )
    assert "old_raw" in stale.read_text()
