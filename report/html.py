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
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from html import escape
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from tqdm import tqdm

from ingest.config import REPO_ROOT, warehouse_path
from report import figures, queries
from report.queries import OptionError, ReportOptions
from report.tables import ClusterTable, cluster_tables
from report.warehouse import add_warehouse_arguments, open_warehouse

DEFAULT_FAMILY = "YSO"
DEFAULT_DESCRIPTOR = "var_prob_s"
DEFAULT_OUT = REPO_ROOT / "build" / "report"
TOP_MAIN_TYPES = 10

# Columns of gmm_runs (queries.runs) shown in the run table, and their headings.
RUN_TABLE_COLUMNS = {
    "run_id": "run",
    "feature_set": "feature set",
    "n_components": "k",
    "covariance_type": "covariance",
    "converged": "converged",
    "n_detections": "detections",
    "bic": "BIC",
    "aic": "AIC",
    "silhouette": "silhouette",
    "stability_ari_mean": "stability (mean ARI)",
}

STYLE = """
body { font-family: system-ui, "DejaVu Sans", Arial, sans-serif; margin: 0 auto;
       max-width: 1400px; padding: 0 24px 48px; color: #1a1a1a; background: #ffffff; }
h1 { margin-bottom: 4px; }
h2 { border-bottom: 2px solid #e0e0e0; padding-bottom: 4px; margin-top: 40px; }
h3 { font-size: 1rem; margin: 18px 0 6px; }
nav a { margin-right: 14px; }
.subtitle { color: #555555; margin-top: 0; }
.note { background: #fff8e1; border-left: 4px solid #f0b400; padding: 8px 12px; }
figure { margin: 16px 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #e6e6e6; }
figcaption { color: #555555; font-size: 0.9rem; }
table { border-collapse: collapse; font-size: 0.85rem; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid #d8d8d8; padding: 3px 7px; text-align: right; white-space: nowrap; }
th { background: #f3f3f3; }
td.text, th.text { text-align: left; }
tr.chosen td { font-weight: bold; background: #eef4ff; }
td.own { font-weight: bold; }
td.low { background: #dbe8fb; }
td.high { background: #fbdcd7; }
td small { color: #555555; }
.tables { display: grid; grid-template-columns: repeat(auto-fill, minmax(640px, 1fr));
          gap: 8px 28px; }
.scroll { overflow-x: auto; }
.swatch { display: inline-block; width: 0.9em; height: 0.9em; border: 1px solid #333333;
          vertical-align: -0.1em; margin-right: 6px; }
dl.facts { display: grid; grid-template-columns: max-content auto; gap: 2px 16px; }
dl.facts dt { color: #555555; }
dl.facts dd { margin: 0; }
"""


@dataclass(frozen=True)
class Section:
    anchor: str
    title: str
    body: str


@dataclass
class Report:
    """The page's sections in order, and the figures they embed (file name -> PNG)."""

    options: ReportOptions
    sections: list[Section]
    pngs: dict[str, bytes]


class Builder:
    """Reads the warehouse and draws one report's sections."""

    def __init__(self, connection: duckdb.DuckDBPyConnection, options: ReportOptions):
        self.connection = connection
        self.options = options
        self.run = queries.run_row(connection, options.run_id)
        self.n_clusters = int(self.run["n_components"])
        self.colours = figures.cluster_colours(self.n_clusters)
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
        ]

    def embed(self, stem: str, figure: Figure, caption: str) -> str:
        """Keep the figure's PNG and return its <figure> element (image embedded)."""
        name = f"{_file_stem(stem)}.png"
        png = figures.png_bytes(figure)
        self.pngs[name] = png
        source = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
        return (
            f'<figure><img src="{source}" alt="{escape(caption)}">'
            f"<figcaption>{escape(caption)} ({escape(name)})</figcaption></figure>"
        )

    def swatch(self, cluster: int) -> str:
        return f'<span class="swatch" style="background:{self.colours[cluster]}"></span>'

    def overview(self) -> Section:
        run = self.run
        facts = {
            "run": run["run_id"],
            "feature set": run["feature_set"],
            "components": self.n_clusters,
            "covariance": run["covariance_type"],
            "converged": f"{bool(run['converged'])} after {run['n_iter']} EM iterations",
            "detections clustered": f"{len(self.detections):,}",
            "detections left out (a null feature)": (
                f"{queries.unclustered_count(self.connection, self.options.run_id):,}"
            ),
            "BIC": _number(run["bic"]),
            "AIC": _number(run["aic"]),
            "silhouette": _number(run["silhouette"]),
            "family": self.options.family,
            "descriptor": figures.descriptor_label(self.options.descriptor),
        }
        body = '<dl class="facts">' + "".join(
            f"<dt>{escape(key)}</dt><dd>{escape(str(value))}</dd>" for key, value in facts.items()
        )
        return Section("overview", "Run", body + "</dl>")

    def main_type_tables(self) -> Section:
        tables = cluster_tables(self.connection, self.options.run_id, TOP_MAIN_TYPES)
        body = (
            f"<p>For each cluster, its {TOP_MAIN_TYPES} largest SIMBAD main types: the mean "
            "membership probability of every component (prob_k; the cluster's own in bold) "
            "and the number of detections (size).</p>"
        )
        body += '<div class="tables">' + "".join(map(self._main_type_table, tables)) + "</div>"
        return Section("tables", "Main types per cluster", body)

    def _main_type_table(self, table: ClusterTable) -> str:
        n_components = len(table.rows[0][1])
        header = "".join(f"<th>prob_{k}</th>" for k in range(n_components))
        rows = []
        for main_type, probabilities, size in table.rows:
            cells = "".join(
                f"<td{' class=own' if k == table.cluster else ''}>{p:.4g}</td>"
                for k, p in enumerate(probabilities)
            )
            rows.append(
                f'<tr><td class="text">{escape(main_type)}</td>{cells}<td>{size:,}</td></tr>'
            )
        return (
            f"<div><h3>{self.swatch(table.cluster)}cluster {table.cluster} "
            f"({table.n_detections:,} detections)</h3>"
            f'<div class="scroll"><table><tr><th class="text">main_type</th>{header}<th>size</th>'
            f"</tr>{''.join(rows)}</table></div></div>"
        )

    def sky_maps(self) -> Section:
        run_id, family = self.options.run_id, self.options.family
        body = self.embed(
            f"sky_{run_id}",
            figures.sky_map_by_cluster(self.detections, self.n_clusters, run_id),
            f"All detections of {run_id} in Galactic coordinates, coloured by cluster",
        )
        body += self.embed(
            f"sky_{run_id}_{family}",
            figures.family_sky_map(self.detections, family, self.n_clusters, run_id),
            f"{family} detections of {run_id}, coloured by cluster",
        )
        return Section("sky", "Sky maps", body)

    def family_counts(self) -> Section:
        run_id, family = self.options.run_id, self.options.family
        body = self.embed(
            f"counts_{run_id}_{family}",
            figures.family_counts(self.detections, family, self.n_clusters, run_id),
            f"{family} detections per cluster of {run_id}",
        )
        if not (self.detections["otype_family"] == family).any():
            body = _note(f"No {family} detections in this warehouse's run {run_id}.") + body
        return Section("family", f"{family} per cluster", body)

    def descriptor_distribution(self) -> Section:
        run_id, family = self.options.run_id, self.options.family
        descriptor = self.options.descriptor
        body = self.embed(
            f"{descriptor}_{run_id}_{family}",
            figures.descriptor_by_cluster(
                self.detections, family, descriptor, self.n_clusters, run_id
            ),
            f"{descriptor} of {family} detections per cluster of {run_id} "
            "(dashed line: the cluster's median)",
        )
        return Section("descriptor", f"{descriptor} of {family} per cluster", body)

    def model_selection(self) -> Section:
        run_id, feature_set = self.options.run_id, self.run["feature_set"]
        scan = queries.scan(self.connection, feature_set)
        if scan.empty:
            scanned = ", ".join(queries.scan_feature_sets(self.connection)) or "none"
            body = _note(
                f"The k scan in this warehouse does not cover feature set {feature_set} "
                f"(scanned: {scanned})."
            )
        else:
            body = self.embed(
                f"scan_{feature_set}",
                figures.model_selection(scan, self.n_clusters, run_id),
                f"BIC, AIC and silhouette against k on feature set {feature_set} (gmm_scan)",
            )
        return Section("selection", "Choosing k", body + self._run_table())

    def _run_table(self) -> str:
        runs = queries.runs(self.connection)
        header = "".join(
            f"<th{' class=text' if name in ('run_id', 'feature_set', 'covariance_type') else ''}>"
            f"{escape(label)}</th>"
            for name, label in RUN_TABLE_COLUMNS.items()
        )
        rows = []
        for run in runs.itertuples(index=False):
            chosen = ' class="chosen"' if run.run_id == self.options.run_id else ""
            cells = "".join(
                f'<td class="text">{escape(str(value))}</td>'
                if isinstance(value, str)
                else f"<td>{escape(_number(value))}</td>"
                for value in (getattr(run, name) for name in RUN_TABLE_COLUMNS)
            )
            rows.append(f"<tr{chosen}>{cells}</tr>")
        return (
            "<h3>The run table (gmm_runs; criteria on all of each run's detections)</h3>"
            f'<div class="scroll"><table><tr>{header}</tr>{"".join(rows)}</table></div>'
        )

    def cluster_profiles(self) -> Section:
        run_id = self.options.run_id
        summaries = queries.cluster_summaries(self.connection, run_id)
        profiles = queries.cluster_profiles(self.connection, run_id)
        body = (
            f'<div class="scroll">{self._summary_table(summaries)}</div>'
            "<h3>Descriptors per cluster (cluster_profiles)</h3>"
            "<p>Each descriptor's median over the cluster's detections, in raw units, "
            "with its 10th and 90th percentiles below; blue where the median lies below "
            "the whole run's 25th percentile, red where it lies above its 75th.</p>"
            f'<div class="scroll">{self._profile_table(profiles)}</div>'
        )
        return Section("profiles", "Cluster profiles", body)

    def _summary_table(self, summaries: pd.DataFrame) -> str:
        rows = [
            "<tr><th>cluster</th><th>detections</th><th>share of run</th>"
            '<th>with a counterpart</th><th class="text">dominant family (share)</th>'
            '<th class="text">description</th></tr>'
        ]
        for summary in summaries.itertuples(index=False):
            family = (
                "–"
                if pd.isna(summary.dominant_family)
                else f"{summary.dominant_family} ({_percent(summary.dominant_family_fraction)})"
            )
            rows.append(
                f"<tr><td>{self.swatch(summary.cluster)}{summary.cluster}</td>"
                f"<td>{summary.n_detections:,}</td>"
                f"<td>{_percent(summary.fraction_of_run)}</td>"
                f"<td>{_percent(summary.matched_fraction)}</td>"
                f'<td class="text">{escape(family)}</td>'
                f'<td class="text">{escape(summary.description)}</td></tr>'
            )
        return f"<table>{''.join(rows)}</table>"

    def _profile_table(self, profiles: pd.DataFrame) -> str:
        sizes = profiles.groupby("cluster")["n_detections"].first()
        clusters = list(sizes.index)
        header = "".join(
            f"<th>{self.swatch(c)}cluster {c}<br><small>{sizes[c]:,}</small></th>" for c in clusters
        )
        rows = [f'<tr><th class="text">descriptor</th><th>whole run</th>{header}</tr>']
        for _, group in profiles.groupby("descriptor_index", sort=True):
            first = group.iloc[0]
            by_cluster = group.set_index("cluster")
            cells = []
            for cluster in clusters:
                profile = by_cluster.loc[cluster]
                shade = (
                    " class=low"
                    if profile["median"] < profile["sample_p25"]
                    else " class=high"
                    if profile["median"] > profile["sample_p75"]
                    else ""
                )
                cells.append(
                    f"<td{shade}>{_spread(profile['median'], profile.p10, profile.p90)}</td>"
                )
            whole_run = _spread(first["sample_median"], first["sample_p10"], first["sample_p90"])
            rows.append(
                f'<tr><td class="text">{escape(figures.descriptor_label(first["descriptor"]))}</td>'
                f"<td>{whole_run}</td>{''.join(cells)}</tr>"
            )
        return f"<table>{''.join(rows)}</table>"


def _spread(median: float, p10: float, p90: float) -> str:
    if pd.isna(median):
        return "–"
    return f"{_number(median)}<br><small>{_number(p10)} – {_number(p90)}</small>"


def _number(value) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "–"
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, int | np.integer):
        return f"{value:,}"
    if abs(value) >= 1e4:
        return f"{value:,.0f}"
    return f"{value:.4g}"


def _percent(fraction: float) -> str:
    return "–" if pd.isna(fraction) else f"{100 * fraction:.1f}%"


def _note(text: str) -> str:
    return f'<p class="note">{escape(text)}</p>'


def _file_stem(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)


def build_report(connection: duckdb.DuckDBPyConnection, options: ReportOptions) -> Report:
    """Every section of the report, with a progress bar on stderr (figures take seconds)."""
    builder = Builder(connection, options)
    sections = []
    with tqdm(builder.steps(), desc=f"report {options.run_id}", unit="section") as progress:
        for label, step in progress:
            progress.set_postfix_str(label)
            sections.append(step())
    return Report(options, sections, builder.pngs)


def render_page(report: Report, database: Path) -> str:
    options = report.options
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    navigation = "".join(
        f'<a href="#{section.anchor}">{escape(section.title)}</a>' for section in report.sections
    )
    sections = "".join(
        f'<section id="{section.anchor}"><h2>{escape(section.title)}</h2>{section.body}</section>'
        for section in report.sections
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Report: {escape(options.run_id)}</title>
<style>{STYLE}</style>
</head>
<body>
<h1>Mixture run {escape(options.run_id)}</h1>
<p class="subtitle">Family {escape(options.family)}, descriptor {escape(options.descriptor)};
warehouse {escape(str(database))}; written {generated}.</p>
<nav>{navigation}</nav>
{sections}
</body>
</html>
"""


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
