"""The warehouse's work done the way the original notebooks did it: one pandas script.

Reads the CSC detections and SIMBAD objects (Parquet files, as `python -m ingest demo`
writes them) and the configuration (feature sets, mixture runs, comparison and k scan)
from dbt_project.yml, and imports nothing from this project. Everything stays in memory.

What each timed part includes:
  read          both Parquet files into pandas; the detection key name|obsid|region_id,
                rows sorted by it (the order the warehouse fits in)
  crossmatch    astropy SkyCoord of both catalogues, match_to_catalog_sky (nearest
                object), cut at simbad_match_radius_arcsec; unmatched_main_type if none
  features      every configured feature set: pandas eval of each feature, rows with
                a null or infinite feature dropped, log_minmax / minmax / none
  fit RUN       GaussianMixture.fit of each run of gmm_runs (all five: the four allvar
                runs and gmm6_paper12), one after another, default threads; BIC, AIC
  predict       predict_proba and predict of every run on its feature set
  tables        every run's groupby (cluster, main_type): size and mean probabilities
  silhouette    every run's silhouette score on one fixed sample of its feature set
  refits RUN    each run refitted with every stability seed, adjusted Rand index
  k scan        every k and seed of gmm_scan fitted on one fixed sample: BIC, AIC,
                silhouette
Not included: the interpreter's start-up and the imports (pandas, scikit-learn,
astropy), which a caller timing the whole process sees; printing or saving anything;
the classification stage (var classification: the int_class_* models and the
classification marts; `make bench` also gives its ratio with their node seconds taken
out); what the warehouse does besides (loading with checks, Galactic coordinates,
feature classes, log-likelihoods, aligning components across runs, cluster profiles
and descriptions, persisting every table, its tests).

Run: python bench/notebook_way.py DIR [--project dbt_project.yml] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from astropy import units as u
from astropy.coordinates import SkyCoord
from sklearn.metrics import adjusted_rand_score, silhouette_score
from sklearn.mixture import GaussianMixture
from sklearn.preprocessing import MinMaxScaler

DEFAULT_PROJECT = Path(__file__).resolve().parent.parent / "dbt_project.yml"
# Keys of a gmm_runs entry that are not GaussianMixture parameters.
RUN_LABELS = ("run_id", "feature_set")


class Stopwatch:
    """Seconds of each named part, in the order they ran."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def part(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        yield
        seconds = time.perf_counter() - started
        self.seconds[name] = self.seconds.get(name, 0.0) + seconds
        # The whole script takes minutes: show progress, away from the table on stdout.
        print(f"{name}: {seconds:.2f} s", file=sys.stderr, flush=True)

    @property
    def total(self) -> float:
        return sum(self.seconds.values())


def read_inputs(directory: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    detections = pd.read_parquet(directory / "csc_detections.parquet")
    objects = pd.read_parquet(directory / "simbad_objects.parquet")
    region = detections["region_id"].astype("Int64").astype(str).replace("<NA>", "")
    detections["detection_id"] = (
        detections["name"] + "|" + detections["obsid"].astype(str) + "|" + region
    )
    return detections.sort_values("detection_id", ignore_index=True), objects


def crossmatch(
    detections: pd.DataFrame, objects: pd.DataFrame, radius_arcsec: float, unmatched: str
) -> pd.Series:
    """The main_type of each detection's nearest SIMBAD object within the radius."""
    nearest, separation, _ = SkyCoord(
        detections["ra"].to_numpy() * u.deg, detections["dec"].to_numpy() * u.deg
    ).match_to_catalog_sky(
        SkyCoord(objects["ra"].to_numpy() * u.deg, objects["dec"].to_numpy() * u.deg)
    )
    main_types = objects["main_type"].str.strip().to_numpy()[nearest]
    within = separation.arcsec <= radius_arcsec
    return pd.Series(np.where(within, main_types, None), index=detections.index).fillna(unmatched)


def feature_matrix(detections: pd.DataFrame, features: list[dict]) -> tuple[pd.Index, np.ndarray]:
    """(kept rows, transformed matrix) of one feature set, rows in detection order."""
    raw = pd.DataFrame(
        {
            feature["name"]: detections.eval(feature.get("expression", feature["name"]))
            for feature in features
        }
    ).astype(float)
    raw = raw[np.isfinite(raw).all(axis=1)]
    transformed = raw.copy()
    for feature in features:
        if feature["transform"] == "log_minmax":
            column = raw[feature["name"]]
            smallest_nonzero = column[column != 0].min()
            transformed[feature["name"]] = np.log(column + smallest_nonzero / 10)
    scaled = [feature["name"] for feature in features if feature["transform"] != "none"]
    transformed[scaled] = MinMaxScaler().fit_transform(transformed[scaled])
    return raw.index, transformed.to_numpy()


def sample_rows(n_rows: int, max_rows: int, seed: int) -> np.ndarray:
    """One fixed random sample of at most max_rows row indices, sorted."""
    chosen = np.random.default_rng(seed).choice(n_rows, size=min(n_rows, max_rows), replace=False)
    return np.sort(chosen)


def silhouette(matrix: np.ndarray, labels: np.ndarray) -> float | None:
    return float(silhouette_score(matrix, labels)) if len(np.unique(labels)) > 1 else None


def mixture(run: dict, **overrides) -> GaussianMixture:
    parameters = {key: value for key, value in run.items() if key not in RUN_LABELS}
    return GaussianMixture(**{**parameters, **overrides})


def run_pipeline(directory: Path, project: Path) -> tuple[Stopwatch, dict]:
    """Do the warehouse's work on the files in `directory`: (timings, figures)."""
    config = yaml.safe_load(project.read_text())["vars"]
    comparison, scan = config["gmm_comparison"], config["gmm_scan"]
    clock = Stopwatch()
    figures: dict = {"runs": {}, "refits": {}, "scan": {}}

    with clock.part("read"):
        detections, objects = read_inputs(directory)
    with clock.part("crossmatch"):
        main_types = crossmatch(
            detections,
            objects,
            config["simbad_match_radius_arcsec"],
            config["unmatched_main_type"],
        )
    with clock.part("features"):
        feature_sets = {
            name: feature_matrix(detections, features)
            for name, features in config["feature_sets"].items()
        }

    runs = config["gmm_runs"]
    fitted = {}
    for run in runs:
        matrix = feature_sets[run["feature_set"]][1]
        with clock.part(f"fit {run['run_id']}"):
            estimator = fitted[run["run_id"]] = mixture(run).fit(matrix)
            figures["runs"][run["run_id"]] = {
                "n_iter": int(estimator.n_iter_),
                "bic": float(estimator.bic(matrix)),
                "aic": float(estimator.aic(matrix)),
            }

    probabilities, labels = {}, {}
    with clock.part("predict"):
        for run in runs:
            matrix = feature_sets[run["feature_set"]][1]
            probabilities[run["run_id"]] = fitted[run["run_id"]].predict_proba(matrix)
            labels[run["run_id"]] = fitted[run["run_id"]].predict(matrix)

    with clock.part("tables"):
        for run in runs:
            run_id = run["run_id"]
            members = pd.DataFrame(probabilities[run_id]).add_prefix("p")
            members["cluster"] = labels[run_id]
            members["main_type"] = main_types.loc[feature_sets[run["feature_set"]][0]].to_numpy()
            grouped = members.groupby(["cluster", "main_type"])
            figures["runs"][run_id]["table_rows"] = len(grouped.mean().assign(size=grouped.size()))

    with clock.part("silhouette"):
        for run in runs:
            matrix = feature_sets[run["feature_set"]][1]
            sample = sample_rows(
                len(matrix),
                comparison["silhouette_max_detections"],
                comparison["silhouette_sample_seed"],
            )
            figures["runs"][run["run_id"]]["silhouette"] = silhouette(
                matrix[sample], labels[run["run_id"]][sample]
            )

    for run in runs:
        matrix = feature_sets[run["feature_set"]][1]
        with clock.part(f"refits {run['run_id']}"):
            for seed in comparison["stability_seeds"]:
                refit_labels = mixture(run, random_state=seed).fit(matrix).predict(matrix)
                figures["refits"][f"{run['run_id']}@{seed}"] = float(
                    adjusted_rand_score(labels[run["run_id"]], refit_labels)
                )

    with clock.part("k scan"):
        matrix = feature_sets[scan["feature_set"]][1]
        sample = matrix[sample_rows(len(matrix), scan["max_detections"], scan["sample_seed"])]
        for k in range(scan["k_min"], scan["k_max"] + 1):
            for seed in scan["seeds"]:
                estimator = GaussianMixture(
                    n_components=k, covariance_type=scan["covariance_type"], random_state=seed
                ).fit(sample)
                figures["scan"][f"k{k}@{seed}"] = {
                    "bic": float(estimator.bic(sample)),
                    "aic": float(estimator.aic(sample)),
                    "silhouette": silhouette(sample, estimator.predict(sample)),
                }
    return clock, figures


def print_table(clock: Stopwatch) -> None:
    print(f"{'notebook way (pandas + scikit-learn + astropy)':<48}{'seconds':>9}{'share':>8}")
    for name, seconds in clock.seconds.items():
        print(f"  {name:<46}{seconds:>9.2f}{seconds / clock.total:>8.0%}")
    print(f"  {'total (imports and start-up excluded)':<46}{clock.total:>9.2f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python bench/notebook_way.py",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "directory", type=Path, help="holds csc_detections.parquet and simbad_objects.parquet"
    )
    parser.add_argument(
        "--project",
        type=Path,
        default=DEFAULT_PROJECT,
        help="the dbt_project.yml to read the configuration from",
    )
    parser.add_argument("--json", type=Path, help="also write the timings and figures here")
    args = parser.parse_args(argv)

    clock, figures = run_pipeline(args.directory, args.project)
    print_table(clock)
    if args.json:
        args.json.write_text(
            json.dumps(
                {"seconds": clock.seconds, "total_seconds": clock.total, **figures}, indent=2
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
