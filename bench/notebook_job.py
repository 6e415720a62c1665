"""The original notebook's own job, as a plain script a user would run: read the CSC
detections and SIMBAD objects, crossmatch them for the main_type, transform the allvar
features, fit the original four mixtures (k = 6, 8, 10, 20), and print, for every run and
cluster, the main types with their size and mean membership probabilities.

    python bench/notebook_job.py DIR [--project dbt_project.yml]

No thread settings: scikit-learn and numpy use what they find. Nothing else the
warehouse does (stability, the k scan, silhouettes, profiles, classification, tests).
Reads what bench/notebook_way.py reads, with its functions.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd
import yaml
from notebook_way import DEFAULT_PROJECT, crossmatch, feature_matrix, mixture, read_inputs

ORIGINAL_FEATURE_SET = "allvar"
TOP_MAIN_TYPES = 10


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python bench/notebook_job.py", description=__doc__)
    parser.add_argument("directory", type=Path)
    parser.add_argument("--project", type=Path, default=DEFAULT_PROJECT)
    args = parser.parse_args(argv)
    config = yaml.safe_load(args.project.read_text())["vars"]

    detections, objects = read_inputs(args.directory)
    main_types = crossmatch(
        detections, objects, config["simbad_match_radius_arcsec"], config["unmatched_main_type"]
    )
    kept, matrix = feature_matrix(detections, config["feature_sets"][ORIGINAL_FEATURE_SET])
    for run in config["gmm_runs"]:
        if run["feature_set"] != ORIGINAL_FEATURE_SET:
            continue
        estimator = mixture(run).fit(matrix)
        members = pd.DataFrame(estimator.predict_proba(matrix)).add_prefix("prob_")
        members["cluster"] = estimator.predict(matrix)
        members["main_type"] = main_types.loc[kept].to_numpy()
        for cluster, group in members.groupby("cluster"):
            by_type = group.groupby("main_type")
            table = by_type.mean().drop(columns="cluster").assign(size=by_type.size())
            print(f"### {run['run_id']} cluster {cluster}")
            print(table.sort_values("size", ascending=False).head(TOP_MAIN_TYPES).to_string())
    return 0


if __name__ == "__main__":
    sys.exit(main())
