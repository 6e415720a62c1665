"""Write the weekly report of one mixture run as a self-contained HTML page plus PNGs.

    python -m report.html [--run RUN] [--family YSO] [--descriptor var_prob_s]
                          [--out build/report] [--db warehouse.duckdb]

writes OUT/RUN/index.html (every figure embedded, so the page opens offline) and each
figure as a PNG beside it: the per-cluster main-type tables, sky maps by cluster, the
family's counts and the descriptor's distribution per cluster, the k scan and the run
table, and the cluster profiles. RUN defaults to the warehouse's default run
(build_parameters' default_gmm_run).
"""

from __future__ import annotations

import argparse
import base64
import math
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

import duckdb
import jinja2
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from tqdm import tqdm

from ingest.config import REPO_ROOT, warehouse_path
from report import figures, queries
from report.queries import OptionError, ReportOptions
from report.tables import cluster_tables
from report.warehouse import add_warehouse_arguments, open_warehouse

DEFAULT_FAMILY = "YSO"
DEFAULT_DESCRIPTOR = "var_prob_s"
DEFAULT_OUT = REPO_ROOT / "build" / "report"
TOP_MAIN_TYPES = 10
TEMPLATE_DIR = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class Section:
    """One section of the page: its body is templates/sections/TEMPLATE, given `data`."""

    anchor: str
    title: str
    template: str
    data: dict[str, Any]


@dataclass(frozen=True)
class EmbeddedFigure:
    name: str  # of the PNG beside the page
    caption: str
    source: str  # data: URI of the same PNG


@dataclass(frozen=True)
class Spread:
    """A median and its 10th and 90th percentiles; shade (a CSS class) marks a cluster's
    median outside the whole run's quartiles."""

    median: float
    p10: float
    p90: float
    shade: str | None = None


@dataclass
class Report:
    """The page's sections in order, and the figures they embed (file name -> PNG)."""

    options: ReportOptions
    n_components: int
    sections: list[Section]
    pngs: dict[str, bytes]


class Builder:
    """Reads the warehouse and prepares one report's sections and figures."""

    def __init__(self, connection: duckdb.DuckDBPyConnection, options: ReportOptions):
        self.connection = connection
        self.options = options
        self.run = queries.run_row(connection, options.run_id)
        self.n_clusters = int(self.run["n_components"])
        self.pngs: dict[str, bytes] = {}

    @cached_property
    def detections(self) -> pd.DataFrame:
        return queries.run_detections(self.connection, self.options)

    def steps(self) -> list[tuple[str, Callable[[], Section]]]:
        family, descriptor = self.options.family, self.options.descriptor
        return [
            ("run overview", self.overview),
            ("main-type tables", self.main_type_tables),
            ("sky maps", self.sky_maps),
            (f"{family} per cluster", self.family_counts),
            (f"{descriptor} per cluster", self.descriptor_distribution),
            ("model selection", self.model_selection),
            ("cluster profiles", self.cluster_profiles),
            ("classification", self.classification),
        ]

    def embed(self, stem: str, figure: Figure, caption: str) -> EmbeddedFigure:
        """Keep the figure's PNG, to write beside the page and embed in it."""
        name = f"{_file_stem(stem)}.png"
        png = figures.png_bytes(figure)
        self.pngs[name] = png
        source = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
        return EmbeddedFigure(name, caption, source)

    def overview(self) -> Section:
        return Section(
            "overview",
            "Run",
            "overview.html.j2",
            {
                "run": self.run.to_dict(),
                "n_clustered": len(self.detections),
                "n_unclustered": queries.unclustered_count(self.connection, self.options.run_id),
                "descriptor_label": figures.descriptor_label(self.options.descriptor),
            },
        )

    def main_type_tables(self) -> Section:
        tables = cluster_tables(self.connection, self.options.run_id, TOP_MAIN_TYPES)
        return Section(
            "tables",
            "Main types per cluster",
            "main_types.html.j2",
            {"top": TOP_MAIN_TYPES, "tables": tables},
        )

    def sky_maps(self) -> Section:
        run_id, family = self.options.run_id, self.options.family
        sky = [
            self.embed(
                f"sky_{run_id}",
                figures.sky_map_by_cluster(self.detections, self.n_clusters, run_id),
                f"All detections of {run_id} in Galactic coordinates, coloured by cluster",
            ),
            self.embed(
                f"sky_{run_id}_{family}",
                figures.family_sky_map(self.detections, family, self.n_clusters, run_id),
                f"{family} detections of {run_id}, coloured by cluster",
            ),
        ]
        return _figures_section("sky", "Sky maps", sky)

    def family_counts(self) -> Section:
        run_id, family = self.options.run_id, self.options.family
        counts = self.embed(
            f"counts_{run_id}_{family}",
            figures.family_counts(self.detections, family, self.n_clusters, run_id),
            f"{family} detections per cluster of {run_id}",
        )
        notes = []
        if not (self.detections["otype_family"] == family).any():
            notes.append(f"No {family} detections in this warehouse's run {run_id}.")
        return _figures_section("family", f"{family} per cluster", [counts], notes)

    def descriptor_distribution(self) -> Section:
        run_id, family = self.options.run_id, self.options.family
        descriptor = self.options.descriptor
        distribution = self.embed(
            f"{descriptor}_{run_id}_{family}",
            figures.descriptor_by_cluster(
                self.detections, family, descriptor, self.n_clusters, run_id
            ),
            f"{descriptor} of {family} detections per cluster of {run_id} "
            "(dashed line: the cluster's median)",
        )
        return _figures_section(
            "descriptor", f"{descriptor} of {family} per cluster", [distribution]
        )

    def model_selection(self) -> Section:
        run_id, feature_set = self.options.run_id, self.run["feature_set"]
        scan = queries.scan(self.connection, feature_set)
        notes, scan_figures = [], []
        if scan.empty:
            scanned = ", ".join(queries.scan_feature_sets(self.connection)) or "none"
            notes.append(
                f"The k scan in this warehouse does not cover feature set {feature_set} "
                f"(scanned: {scanned})."
            )
        else:
            scan_figures.append(
                self.embed(
                    f"scan_{feature_set}",
                    figures.model_selection(scan, self.n_clusters, run_id),
                    f"BIC, AIC and silhouette against k on feature set {feature_set} (gmm_scan)",
                )
            )
        runs = queries.runs(self.connection).to_dict("records")
        return Section(
            "selection",
            "Choosing k",
            "selection.html.j2",
            {"notes": notes, "figures": scan_figures, "runs": runs},
        )

    def cluster_profiles(self) -> Section:
        run_id = self.options.run_id
        summaries = queries.cluster_summaries(self.connection, run_id).to_dict("records")
        profiles = queries.cluster_profiles(self.connection, run_id)
        return Section(
            "profiles",
            "Cluster profiles",
            "profiles.html.j2",
            {
                "summaries": summaries,
                "cluster_sizes": profiles.groupby("cluster")["n_detections"].first().to_dict(),
                "profiles": [
                    _profile_row(group)
                    for _, group in profiles.groupby("descriptor_index", sort=True)
                ],
            },
        )

    def classification(self) -> Section:
        """The classification of the unidentified (the warehouse's classification run, not
        the report's): how far each classifier is trusted on held-out sources, and where
        the unidentified land on the sky."""
        groups = queries.classification_groups(self.connection)
        figures_table = queries.classification_figures(self.connection)
        overall = figures_table[figures_table["label_name"].isna()]
        recalls = figures_table[figures_table["metric"] == "recall"]
        rows = []
        for (classifier, item_kind), chosen in overall.groupby(["classifier", "item_kind"]):
            every = chosen[chosen["subset"] == "all"].set_index("metric")["value"]
            confident = chosen[chosen["subset"] == "confident"].set_index("metric")["value"]
            recall = recalls[
                (recalls["classifier"] == classifier)
                & (recalls["item_kind"] == item_kind)
                & (recalls["subset"] == "all")
            ].set_index("label_name")["value"]
            rows.append(
                {
                    "classifier": classifier,
                    "item_kind": item_kind,
                    "n_items": every.get("n_items"),
                    "balanced_accuracy": every.get("balanced_accuracy"),
                    "accuracy": every.get("accuracy"),
                    "log_loss": every.get("log_loss"),
                    "brier_score": every.get("brier_score"),
                    "recalls": [recall.get(group) for group in groups],
                    "confident_coverage": confident.get("coverage"),
                    "confident_balanced_accuracy": confident.get("balanced_accuracy"),
                }
            )
        sources = queries.classified_unidentified_sources(self.connection)
        embedded = [
            self.embed(
                "classification_confusion",
                figures.confusion_matrices(
                    queries.classification_confusion(self.connection), groups
                ),  # fmt: skip
                "Confusion matrices of the held-out sources' groups (source split; rows:"
                " true group, share and count)",
            ),
            self.embed(
                "classification_reliability",
                figures.reliability_curves(queries.classification_calibration(self.connection)),
                "Reliability of the predicted groups' probabilities on held-out sources and"
                " detections (source split)",
            ),
            *(
                self.embed(
                    f"classification_sky_{classifier}",
                    figures.class_sky_map(chosen, groups, classifier),
                    f"Unidentified sources classified by {classifier}, by group",
                )
                for classifier, chosen in sources.groupby("classifier")
            ),
        ]
        return Section(
            "classification",
            "Classifying the unidentified",
            "classification.html.j2",
            {"groups": groups, "rows": rows, "figures": embedded, "notes": []},
        )


def _figures_section(
    anchor: str, title: str, embedded: list[EmbeddedFigure], notes: Sequence[str] = ()
) -> Section:
    return Section(anchor, title, "figures.html.j2", {"notes": list(notes), "figures": embedded})


def _profile_row(descriptor: pd.DataFrame) -> dict[str, Any]:
    """One descriptor's row of the profile table: the whole run's spread, then each
    cluster's (clusters in order), shaded where its median leaves the run's quartiles."""
    first = descriptor.iloc[0]
    clusters = []
    for profile in descriptor.sort_values("cluster").itertuples(index=False):
        shade = (
            "low"
            if profile.median < profile.sample_p25
            else "high"
            if profile.median > profile.sample_p75
            else None
        )
        clusters.append(Spread(profile.median, profile.p10, profile.p90, shade))
    return {
        "label": figures.descriptor_label(first["descriptor"]),
        "whole_run": Spread(first["sample_median"], first["sample_p10"], first["sample_p90"]),
        "clusters": clusters,
    }


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _number(value) -> str:
    """Counts with thousands separators, other numbers to 4 significant digits, large ones
    whole; "–" for no value."""
    if _missing(value):
        return "–"
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, int | np.integer):
        return f"{value:,}"
    if abs(value) >= 1e4:
        return f"{value:,.0f}"
    return f"{value:.4g}"


def _percent(fraction: float) -> str:
    return "–" if _missing(fraction) else f"{100 * fraction:.1f}%"


def _file_stem(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)


TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
    autoescape=True,
    undefined=jinja2.StrictUndefined,  # a misspelt name fails the report, not blanks a cell
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
TEMPLATES.filters.update(number=_number, percent=_percent)
TEMPLATES.tests["missing"] = _missing


def build_report(connection: duckdb.DuckDBPyConnection, options: ReportOptions) -> Report:
    """Every section of the report, with a progress bar on stderr (figures take seconds)."""
    builder = Builder(connection, options)
    sections = []
    with tqdm(builder.steps(), desc=f"report {options.run_id}", unit="section") as progress:
        for label, step in progress:
            progress.set_postfix_str(label)
            sections.append(step())
    return Report(options, builder.n_clusters, sections, builder.pngs)


def render_page(report: Report, database: Path) -> str:
    return TEMPLATES.get_template("page.html.j2").render(
        options=report.options,
        n_components=report.n_components,
        colours=figures.cluster_colours(report.n_components),
        sections=report.sections,
        database=database,
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    )


def write_report(report: Report, page: str, directory: Path) -> Path:
    """Write index.html and the PNGs into `directory`, replacing an earlier report's PNGs."""
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.png"):
        stale.unlink()
    for name, png in report.pngs.items():
        (directory / name).write_bytes(png)
    index = directory / "index.html"
    index.write_text(page, encoding="utf-8")
    return index


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_warehouse_arguments(parser)
    parser.add_argument("--family", default=DEFAULT_FAMILY, help="otype_family of detections")
    parser.add_argument(
        "--descriptor", default=DEFAULT_DESCRIPTOR, help="descriptor column of detections"
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="reports directory")
    args = parser.parse_args(argv)
    database = args.db or warehouse_path()
    with open_warehouse(database) as connection:
        try:
            options = queries.resolve_options(
                connection,
                args.run or queries.default_run(connection),
                args.family,
                args.descriptor,
            )
        except OptionError as error:
            print(error, file=sys.stderr)
            return 2
        report = build_report(connection, options)
    index = write_report(report, render_page(report, database), args.out / options.run_id)
    print(f"report written: {index} ({len(report.pngs)} figures beside it)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
