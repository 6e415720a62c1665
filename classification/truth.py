"""Score the classes given to the demo's unidentified sources against the truth.

    python -m classification.truth --truth build/demo/demo_truth.parquet [--db FILE]

The demo generator writes every source's true kind beside its inputs (never loaded as a
label). Its sources without a SIMBAD counterpart are what the warehouse classifies for
real (the `all_labels` models); for those whose true kind is one of the classes, this
compares each classifier's source class (the soft vote, and its group) with the truth:
per-group recall, balanced accuracy and accuracy at the group level. A figure no real
catalogue can give: how well the unidentified are classified, not the labelled held out.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import duckdb
import pandas as pd
from sklearn.metrics import balanced_accuracy_score

from ingest.config import warehouse_path


def truth_scores(warehouse: Path, truth: Path) -> pd.DataFrame:
    """One row per classifier and figure (recall per true group, balanced accuracy, accuracy,
    n_sources, and the unidentified sources whose kind is none of the classes)."""
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        classes = connection.execute(
            "select value from build_parameters where parameter = 'classification'"
        ).fetchone()[0]
        groups = pd.Series(json.loads(classes)["classes"], name="true_group")
        connection.execute(f"create temp view truth as select * from '{truth}'")
        rows = connection.execute(
            """
            select sources.classifier, sources.name, sources.class_group, labels.otype_code
            from source_classes as sources
            inner join truth on sources.name = truth.name
            left join reference.simbad_type_labels as labels on truth.label = labels.label
            where sources.training = 'all_labels' and not truth.has_counterpart
            """
        ).df()
    rows = rows.join(groups, on="otype_code")
    figures = []
    for classifier, sources in rows.groupby("classifier"):
        known = sources.dropna(subset=["true_group", "class_group"])
        figures.append({"classifier": classifier, "figure": "n_sources", "value": len(sources)})
        figures.append(
            {"classifier": classifier, "figure": "outside_the_classes",
             "value": float(sources["true_group"].isna().mean())}
        )  # fmt: skip
        figures.append(
            {"classifier": classifier, "figure": "accuracy",
             "value": float((known["true_group"] == known["class_group"]).mean())}
        )  # fmt: skip
        figures.append(
            {"classifier": classifier, "figure": "balanced_accuracy",
             "value": float(balanced_accuracy_score(known["true_group"], known["class_group"]))}
        )  # fmt: skip
        for group, members in known.groupby("true_group"):
            figures.append(
                {"classifier": classifier, "figure": f"recall {group}",
                 "value": float((members["class_group"] == group).mean())}
            )  # fmt: skip
    return pd.DataFrame(figures)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m classification.truth", description=__doc__)
    parser.add_argument("--truth", type=Path, required=True, help="the demo's demo_truth.parquet")
    parser.add_argument("--db", type=Path, help="the warehouse (default: $XRAY_WAREHOUSE)")
    args = parser.parse_args(argv)
    scores = truth_scores(args.db or warehouse_path(), args.truth)
    print(scores.pivot(index="figure", columns="classifier", values="value").round(3).to_string())
    return 0


if __name__ == "__main__":
    sys.exit(main())
