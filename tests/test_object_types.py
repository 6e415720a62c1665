"""The SIMBAD object-type vocabulary: the seeds' consistency. (How dbt resolves labels with
them is the unit test of int_simbad_type_resolution.)"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest

from tests.support import REPO_ROOT

SEEDS = REPO_ROOT / "seeds"
FAMILIES = {
    "YSO",
    "Star",
    "BinaryStar",
    "XRayBinary",
    "CompactObject",
    "AGN",
    "Galaxy",
    "ClusterOrGroup",
    "ISM",
    "Radiation",
    "Unknown",
    "Other",
}
# simbad_object_types column -> the vocabulary its labels carry in simbad_type_labels.
VOCABULARY_COLUMNS = {
    "otype_code": "short_code",
    "label_pre2022": "pre2022_label",
    "label_2022": "2022_label",
    "label_current": "current_label",
}


def read_seed(name: str) -> list[dict[str, str]]:
    with (SEEDS / f"{name}.csv").open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def object_types() -> dict[str, dict[str, str]]:
    return {row["otype_code"]: row for row in read_seed("simbad_object_types")}


@pytest.fixture(scope="module")
def type_labels() -> dict[str, dict[str, str]]:
    return {row["label"]: row for row in read_seed("simbad_type_labels")}


def ancestors(code: str, object_types: dict[str, dict[str, str]]) -> list[str]:
    chain = []
    while parent := object_types[code]["parent_code"]:
        assert parent not in chain, f"cycle in the hierarchy at {code}"
        chain.append(parent)
        code = parent
    return chain


def test_keys_are_unique() -> None:
    for seed, key in (("simbad_object_types", "otype_code"), ("simbad_type_labels", "label")):
        counts = Counter(row[key] for row in read_seed(seed))
        assert [value for value, n in counts.items() if n > 1] == [], seed


def test_every_vocabulary_maps_a_types_labels_to_its_code(object_types, type_labels) -> None:
    for code, row in object_types.items():
        for column, vocabulary in VOCABULARY_COLUMNS.items():
            label = row[column]
            if not label:
                continue
            assert label in type_labels, f"{code}: {column} {label!r} missing from the labels"
            assert type_labels[label]["otype_code"] == code, label
            assert vocabulary in type_labels[label]["vocabulary"].split("|"), label


def test_labels_of_a_vocabulary_are_the_types_labels(object_types, type_labels) -> None:
    column_of = {vocabulary: column for column, vocabulary in VOCABULARY_COLUMNS.items()}
    for label, row in type_labels.items():
        vocabularies = row["vocabulary"].split("|")
        if vocabularies == ["retired"]:
            assert row["status"].startswith("retired_"), label
            continue
        for vocabulary in vocabularies:
            assert object_types[row["otype_code"]][column_of[vocabulary]] == label, label


def test_retired_labels_without_equivalent_have_no_code(type_labels) -> None:
    for label, row in type_labels.items():
        assert (row["otype_code"] == "") == (row["status"] == "retired_no_equivalent"), label


def test_parents_exist_and_form_a_tree(object_types) -> None:
    for code in object_types:
        for ancestor in ancestors(code, object_types):
            assert ancestor in object_types, f"{code}: parent {ancestor} is not a type"


def test_candidates(object_types) -> None:
    # Candidate codes carry a '?', not always last (s?r, C?G); '?' alone is "Unknown".
    for code, row in object_types.items():
        is_candidate = row["is_candidate"] == "true"
        assert is_candidate == ("?" in code and code != "?"), code
        if not is_candidate:
            continue
        parent = object_types[row["parent_code"]]
        assert parent["is_candidate"] == "false", code
        assert row["label_current"] == parent["label_current"] + "_Candidate", code
        assert row["family"] == parent["family"], code


def test_families(object_types) -> None:
    branch_families = {"Y*O": "YSO", "AGN": "AGN", "XB*": "XRayBinary"}
    for code, row in object_types.items():
        assert row["family"] in FAMILIES, code
        for root, family in branch_families.items():
            if root == code or root in ancestors(code, object_types):
                assert row["family"] == family, f"{code} is under {root}"


# Labels of every era that must land in the family (space-separated; labels have no spaces).
FAMILY_EXAMPLES = {
    "YSO": "YSO Y*O Orion_V* OrionV* Or* TTau* TTauri* Candidate_YSO YSO_Candidate Y*? "
    "Candidate_TTau* Ae* Candidate_Ae* HH pMS* FUOr",
    "AGN": "AGN AGN_Candidate QSO QSO_Candidate Seyfert Seyfert_1 Seyfert1 Sy2 BLLac "
    "BLLac_Candidate Blazar Blazar_Candidate LINER RadioG OVV",
    "XRayBinary": "XB XrayBin XB* HMXB HighMassXBin LMXB LXB Candidate_LMXB",
    # Accreting white-dwarf binaries together; RS CVn binaries by definition.
    "BinaryStar": "CataclyV* CV* Nova Candidate_CV* Symbiotic* RSCVn RS*",
    # Spotted single stars; planetary nebulae under evolved stars (SIMBAD's hierarchy).
    "Star": "BYDra BY* PN PlanetaryNeb",
    "Radiation": "ULX ULX?",
    "Unknown": "Unknown ?",
}


@pytest.mark.parametrize(
    ("label", "family"),
    [(label, family) for family, labels in FAMILY_EXAMPLES.items() for label in labels.split()],
)
def test_label_family(label, family, object_types, type_labels) -> None:
    assert object_types[type_labels[label]["otype_code"]]["family"] == family


def test_real_sample_labels_resolve(topcat_sample: Path, type_labels) -> None:
    if not topcat_sample.is_file():
        pytest.skip(f"{topcat_sample} not found")
    with topcat_sample.open(newline="", encoding="utf-8") as f:
        labels = {row["main_type"].strip() for row in csv.DictReader(f)} - {""}
    resolved = {label for label, row in type_labels.items() if row["otype_code"]}
    assert sorted(labels - resolved) == []
