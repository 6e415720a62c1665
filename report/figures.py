"""The report's figures, drawn with matplotlib's object API (no pyplot: no GUI backend, no
global figure state). Every figure colours cluster k with `cluster_colours(n)[k]`, so a
cluster has one colour throughout a report.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
from matplotlib import colormaps, patheffects
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from ingest.schema import unit_of

BACKGROUND_GREY = "#d0d0d0"
# Half-width in latitude of the sky maps' strip of the Galactic plane.
PLANE_HALF_WIDTH_DEG = 10
BEST_MARKER = {
    "marker": "*",
    "markersize": 16,
    "color": "gold",
    "markeredgecolor": "black",
    "linestyle": "",
}
NOTE_STYLE = {"ha": "center", "va": "center", "fontsize": 13, "color": "#555555"}


# Units of the CSC descriptors (models/docs.md), by name or by name prefix.
def descriptor_label(descriptor: str) -> str:
    """Axis label: the descriptor and its unit (ingest.schema.unit_of)."""
    unit = unit_of(descriptor)
    return f"{descriptor} ({unit})" if unit else descriptor


def cluster_colours(n_clusters: int) -> list[str]:
    """One colour per cluster: tab10's for clusters 0-9, then tab20's lighter companions of
    the same hues for 10-19 (so a cluster keeps its colour from a 6- to a 20-component
    run), and evenly spaced turbo colours beyond 20."""
    if n_clusters > 20:
        turbo = colormaps["turbo"]
        return [to_hex(turbo(i / (n_clusters - 1))) for i in range(n_clusters)]
    tab20 = colormaps["tab20"].colors
    ordered = [*tab20[0::2], *tab20[1::2]]
    return [to_hex(colour) for colour in ordered[:n_clusters]]


def png_bytes(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110)
    return buffer.getvalue()


def _sky_panels(title: str) -> tuple[Figure, object, object]:
    """A figure with the whole sky (Aitoff) above a strip of the Galactic plane, both in
    Galactic coordinates with l wrapped to [-180°, 180°] and increasing to the left."""
    figure = Figure(figsize=(12, 8.6), layout="constrained")
    figure.suptitle(title)
    grid = figure.add_gridspec(2, 1, height_ratios=[3.2, 1])
    sky_axes = figure.add_subplot(grid[0], projection="aitoff")
    ticks = np.arange(-150, 151, 30)
    sky_axes.set_xticks(np.radians(ticks))
    # The plotted x is -l, so the tick at x shows l = -x.
    sky_axes.set_xticklabels(
        [f"{-tick}°" for tick in ticks],
        fontsize=8,
        path_effects=[patheffects.withStroke(linewidth=2.5, foreground="white")],
    )
    sky_axes.set_yticks(np.radians(np.arange(-60, 61, 30)))
    sky_axes.grid(True, color="#999999", linewidth=0.5, alpha=0.6)
    sky_axes.set_xlabel("Galactic longitude l (deg)")
    sky_axes.set_ylabel("Galactic latitude b (deg)")
    sky_axes.set_title("whole sky, Aitoff projection", fontsize=10)

    plane_axes = figure.add_subplot(grid[1])
    plane_axes.set_xlim(180, -180)
    plane_axes.set_ylim(-PLANE_HALF_WIDTH_DEG, PLANE_HALF_WIDTH_DEG)
    plane_axes.set_xticks(np.arange(-180, 181, 30))
    plane_axes.set_yticks([-PLANE_HALF_WIDTH_DEG, 0, PLANE_HALF_WIDTH_DEG])
    plane_axes.xaxis.set_major_formatter("{x:.0f}°")
    plane_axes.yaxis.set_major_formatter("{x:.0f}°")
    plane_axes.grid(True, color="#999999", linewidth=0.5, alpha=0.6)
    plane_axes.set_xlabel("Galactic longitude l (deg)")
    plane_axes.set_ylabel("b (deg)")
    plane_axes.set_title(
        f"Galactic plane, |b| < {PLANE_HALF_WIDTH_DEG}° (latitude stretched)", fontsize=10
    )
    return figure, sky_axes, plane_axes


def _wrapped_l(sky: pd.DataFrame) -> np.ndarray:
    return (sky["l"].to_numpy() + 180.0) % 360.0 - 180.0


def _marker_size(sky: pd.DataFrame) -> float:
    """Area of the markers: detections pile up in Chandra pointings, so the number of
    occupied 1-degree cells, not of detections, says how crowded the map is."""
    cells = len(set(zip(sky["l"].round(), sky["b"].round(), strict=True)))
    return float(np.clip(8000 / max(cells, 1), 3.0, 20.0))


def _scatter(sky_axes, plane_axes, sky: pd.DataFrame, colours, size: float) -> None:
    """The points on both panels, in one colour or an array of colours."""
    wrapped_l = _wrapped_l(sky)
    style = {"s": size, "c": colours, "linewidths": 0, "rasterized": True}
    sky_axes.scatter(-np.radians(wrapped_l), np.radians(sky["b"].to_numpy()), **style)
    plane_axes.scatter(wrapped_l, sky["b"].to_numpy(), **style)


def _scatter_by_cluster(sky_axes, plane_axes, sky: pd.DataFrame, colours: list[str]) -> None:
    # One scatter in a fixed random order: drawing cluster by cluster would bury the
    # first clusters under the last.
    shuffled = sky.iloc[np.random.default_rng(0).permutation(len(sky))]
    palette = np.array(colours)[shuffled["cluster"].to_numpy()]
    _scatter(sky_axes, plane_axes, shuffled, palette, _marker_size(sky))


def _cluster_legend(figure: Figure, colours: list[str], counts: pd.Series, title: str) -> None:
    handles = [
        Line2D(
            [],
            [],
            linestyle="",
            marker="o",
            markersize=7,
            color=colour,
            label=f"{cluster} ({counts.get(cluster, 0):,})",
        )
        for cluster, colour in enumerate(colours)
    ]
    figure.legend(
        handles=handles,
        title=title,
        loc="outside right center",
        ncols=1 if len(colours) <= 12 else 2,
        fontsize=9,
        title_fontsize=9,
        frameon=False,
    )


def sky_map_by_cluster(sky: pd.DataFrame, n_clusters: int, run_id: str) -> Figure:
    """All detections of the run on the sky (columns l, b, cluster)."""
    figure, sky_axes, plane_axes = _sky_panels(
        f"{run_id}: {len(sky):,} detections by cluster, Galactic coordinates"
    )
    colours = cluster_colours(n_clusters)
    _scatter_by_cluster(sky_axes, plane_axes, sky, colours)
    _cluster_legend(figure, colours, sky["cluster"].value_counts(), "cluster (detections)")
    return figure


def family_sky_map(sky: pd.DataFrame, family: str, n_clusters: int, run_id: str) -> Figure:
    """The family's detections by cluster over all of the run's detections in grey."""
    members = sky[sky["otype_family"] == family]
    figure, sky_axes, plane_axes = _sky_panels(
        f"{run_id}: {len(members):,} {family} detections by cluster "
        f"(grey: all {len(sky):,} detections of the run)"
    )
    _scatter(sky_axes, plane_axes, sky, BACKGROUND_GREY, _marker_size(sky))
    colours = cluster_colours(n_clusters)
    if members.empty:
        for axes in (sky_axes, plane_axes):
            axes.text(
                0,
                0,
                f"No {family} detections in this warehouse",
                **NOTE_STYLE,
                bbox={"facecolor": "white", "edgecolor": "#999999"},
            )
    else:
        _scatter_by_cluster(sky_axes, plane_axes, members, colours)
    _cluster_legend(
        figure, colours, members["cluster"].value_counts(), f"cluster ({family} detections)"
    )
    return figure


def family_counts(sky: pd.DataFrame, family: str, n_clusters: int, run_id: str) -> Figure:
    """Bars: the family's detections per cluster, and their share of each cluster."""
    clusters = np.arange(n_clusters)
    cluster_sizes = sky["cluster"].value_counts().reindex(clusters, fill_value=0)
    counts = (
        sky.loc[sky["otype_family"] == family, "cluster"]
        .value_counts()
        .reindex(clusters, fill_value=0)
    )
    shares = 100 * counts / cluster_sizes.where(cluster_sizes > 0)
    colours = cluster_colours(n_clusters)
    figure = Figure(figsize=(12, 4.8), layout="constrained")
    figure.suptitle(f"{run_id}: {family} detections per cluster ({counts.sum():,} in all)")
    count_axes, share_axes = figure.subplots(1, 2)
    count_bars = count_axes.bar(clusters, counts, color=colours, edgecolor="#333333")
    count_axes.bar_label(count_bars, labels=[f"{n:,}" for n in counts], fontsize=8)
    count_axes.set_ylabel(f"{family} detections (count)")
    count_axes.set_title("count")
    share_bars = share_axes.bar(clusters, shares.fillna(0), color=colours, edgecolor="#333333")
    share_axes.bar_label(
        share_bars, labels=["–" if np.isnan(s) else f"{s:.0f}%" for s in shares], fontsize=8
    )
    share_axes.set_ylabel(f"{family} share of the cluster (%)")
    share_axes.set_title("share of each cluster's detections")
    for axes in (count_axes, share_axes):
        axes.set_xlabel(f"cluster ({run_id})")
        axes.set_xticks(clusters)
        axes.margins(y=0.12)
        axes.spines[["top", "right"]].set_visible(False)
        if counts.sum() == 0:
            axes.set_ylim(0, 1)
            axes.text(
                0.5,
                0.5,
                f"No {family} detections\nin this warehouse",
                transform=axes.transAxes,
                **NOTE_STYLE,
            )
    return figure


def _histogram_bins(values: np.ndarray) -> tuple[np.ndarray, bool]:
    """Bins shared by every cluster's histogram (of at least one value), logarithmic when
    the values are positive and span more than three decades (count rates, areas)."""
    low, high = float(values.min()), float(values.max())
    if low > 0 and high / low > 1e3:
        return np.geomspace(low, high, 31), True
    if low == high:
        low, high = low - 0.5, high + 0.5
    return np.linspace(low, high, 31), False


def descriptor_by_cluster(
    sky: pd.DataFrame, family: str, descriptor: str, n_clusters: int, run_id: str
) -> Figure:
    """Histograms of the descriptor (column `value`) of the family's detections, one panel
    per cluster on shared bins, with the median marked."""
    members = sky[sky["otype_family"] == family]
    finite = members[np.isfinite(members["value"].to_numpy(dtype=float))]
    title = (
        f"{run_id}: {descriptor} of {family} detections per cluster "
        f"({len(finite):,} with a value, {len(members) - len(finite):,} without)"
    )
    if finite.empty:
        # One note instead of a grid of empty panels.
        figure = Figure(figsize=(12, 3), layout="constrained")
        figure.suptitle(title)
        axes = figure.subplots()
        axes.set_axis_off()
        reason = (
            "detections in this warehouse" if members.empty else f"detection has a {descriptor}"
        )
        axes.text(0.5, 0.5, f"No {family} {reason}", transform=axes.transAxes, **NOTE_STYLE)
        return figure
    bins, logarithmic = _histogram_bins(finite["value"].to_numpy(dtype=float))
    n_columns = min(n_clusters, 5 if n_clusters > 12 else 3)
    n_rows = -(-n_clusters // n_columns)
    figure = Figure(figsize=(4 * n_columns, 2.6 * n_rows + 0.9), layout="constrained")
    figure.suptitle(title)
    grid = figure.subplots(n_rows, n_columns, sharex=True, squeeze=False)
    colours = cluster_colours(n_clusters)
    for cluster, axes in enumerate(grid.flat):
        if cluster >= n_clusters:
            axes.set_axis_off()
            continue
        values = finite.loc[finite["cluster"] == cluster, "value"].to_numpy(dtype=float)
        if logarithmic:
            axes.set_xscale("log")
        axes.spines[["top", "right"]].set_visible(False)
        if len(values) == 0:
            axes.set_title(f"cluster {cluster}: none", fontsize=10)
            axes.title.set_backgroundcolor(colours[cluster] + "40")
            axes.text(
                0.5,
                0.5,
                f"no {family} detections\nwith a {descriptor}",
                transform=axes.transAxes,
                **{**NOTE_STYLE, "fontsize": 10},
            )
            axes.set_yticks([])
        else:
            median = float(np.median(values))
            axes.hist(values, bins=bins, color=colours[cluster], edgecolor="#333333", linewidth=0.4)
            axes.axvline(median, color="black", linestyle="--", linewidth=1)
            axes.yaxis.set_major_locator(MaxNLocator(integer=True))
            axes.set_title(
                f"cluster {cluster}: n = {len(values):,}, median {median:.3g}",
                fontsize=10,
                color="black",
            )
            axes.title.set_backgroundcolor(colours[cluster] + "40")
        if cluster % n_columns == 0:
            axes.set_ylabel("detections")
        if cluster >= n_clusters - n_columns:
            axes.set_xlabel(descriptor_label(descriptor))
            axes.tick_params(labelbottom=True)
    return figure


def model_selection(scan: pd.DataFrame, run_k: int, run_id: str) -> Figure:
    """The k scan: BIC and AIC, and silhouette, against k (one line per seed), with the
    report's run marked."""
    figure = Figure(figsize=(12, 4.8), layout="constrained")
    sizes = ", ".join(f"{n:,}" for n in sorted(scan["n_detections"].unique()))
    figure.suptitle(
        f"k scan on feature set {scan['feature_set'].iloc[0]} "
        f"({sizes} detections sampled); dotted line: {run_id} (k = {run_k})"
    )
    criterion_axes, silhouette_axes = figure.subplots(1, 2)
    seeds = sorted(scan["seed"].unique())
    for index, seed in enumerate(seeds):
        fits = scan[scan["seed"] == seed].sort_values("k")
        colour = colormaps["tab10"](index % 10)
        suffix = f", seed {seed}" if len(seeds) > 1 else ""
        criterion_axes.plot(fits["k"], fits["bic"], "o-", color=colour, label=f"BIC{suffix}")
        criterion_axes.plot(
            fits["k"], fits["aic"], "s--", color=colour, alpha=0.6, label=f"AIC{suffix}"
        )
        if fits["silhouette"].notna().any():
            silhouette_axes.plot(
                fits["k"], fits["silhouette"], "o-", color=colour, label=f"seed {seed}"
            )
    best_bic = scan.loc[scan["bic"].idxmin()]
    criterion_axes.plot(
        best_bic["k"], best_bic["bic"], **BEST_MARKER, label=f"lowest BIC: k = {best_bic['k']}"
    )
    if scan["silhouette"].notna().any():
        best_silhouette = scan.loc[scan["silhouette"].idxmax()]
        silhouette_axes.plot(
            best_silhouette["k"],
            best_silhouette["silhouette"],
            **BEST_MARKER,
            label=f"highest: k = {best_silhouette['k']}",
        )
    criterion_axes.set_title("information criteria (lower is better)")
    criterion_axes.set_ylabel("criterion on the sample (dimensionless)")
    silhouette_axes.set_title("silhouette (higher is better separated)")
    silhouette_axes.set_ylabel("mean silhouette coefficient (in [-1, 1])")
    if scan["silhouette"].isna().all():
        silhouette_axes.text(
            0.5,
            0.5,
            "no silhouette in this scan",
            transform=silhouette_axes.transAxes,
            **NOTE_STYLE,
        )
    for axes in (criterion_axes, silhouette_axes):
        axes.axvline(run_k, color="#555555", linestyle=":", linewidth=1.5)
        axes.set_xlabel("number of components k")
        axes.set_xticks(sorted(scan["k"].unique()))
        axes.grid(True, alpha=0.3)
        axes.spines[["top", "right"]].set_visible(False)
        if axes.get_legend_handles_labels()[0]:
            axes.legend(fontsize=9, frameon=False)
    return figure


def class_sky_map(sources: pd.DataFrame, groups: list[str], classifier: str) -> Figure:
    """The classified unidentified sources on the sky (columns l, b, class_group), coloured
    by their group."""
    figure, sky_axes, plane_axes = _sky_panels(
        f"{classifier}: {len(sources):,} unidentified sources by class group"
    )
    colours = cluster_colours(len(groups))
    codes = sources["class_group"].map({group: index for index, group in enumerate(groups)})
    shuffled = sources.assign(cluster=codes.to_numpy()).iloc[
        np.random.default_rng(0).permutation(len(sources))
    ]
    _scatter(sky_axes, plane_axes, shuffled, np.array(colours)[shuffled["cluster"]], 8)
    counts = sources["class_group"].value_counts()
    handles = [
        Line2D([], [], linestyle="", marker="o", markersize=7, color=colour,
               label=f"{group} ({counts.get(group, 0):,})")
        for group, colour in zip(groups, colours, strict=True)
    ]  # fmt: skip
    figure.legend(handles=handles, title="group (sources)", loc="outside right center",
                  fontsize=9, title_fontsize=9, frameon=False)  # fmt: skip
    return figure


def confusion_matrices(confusion: pd.DataFrame, labels: list[str]) -> Figure:
    """One panel per (classifier, item kind): the share of each true label's held-out items
    given each predicted label (rows sum to 1), with the counts."""
    panels = sorted(set(zip(confusion["classifier"], confusion["item_kind"], strict=True)))
    figure = Figure(figsize=(4.6 * len(panels), 4.4), layout="constrained")
    for axes, (classifier, item_kind) in zip(figure.subplots(1, len(panels), squeeze=False)[0],
                                             panels, strict=True):  # fmt: skip
        chosen = confusion[
            (confusion["classifier"] == classifier) & (confusion["item_kind"] == item_kind)
        ]
        counts = (
            chosen.pivot_table(
                index="true_label", columns="predicted_label", values="n_items", aggfunc="sum"
            )  # fmt: skip
            .reindex(index=labels, columns=labels)
            .fillna(0)
        )
        shares = counts.div(counts.sum(axis=1).replace(0, np.nan), axis=0)
        axes.imshow(shares.to_numpy(), vmin=0, vmax=1, cmap="viridis")
        for (row, column), share in np.ndenumerate(shares.to_numpy()):
            if np.isfinite(share):
                axes.text(column, row, f"{share:.2f}\n{int(counts.iat[row, column]):,}",
                          ha="center", va="center", fontsize=8,
                          color="white" if share < 0.6 else "black")  # fmt: skip
        axes.set_xticks(range(len(labels)), labels)
        axes.set_yticks(range(len(labels)), labels)
        axes.set_xlabel("predicted")
        axes.set_ylabel("true")
        axes.set_title(f"{classifier}, per {item_kind}", fontsize=10)
    return figure


def reliability_curves(calibration: pd.DataFrame) -> Figure:
    """Per classifier and item kind: the share right against the mean predicted
    probability, bin by bin (the diagonal is perfect calibration), with the bins' counts."""
    figure = Figure(figsize=(12, 4.6), layout="constrained")
    curves, counts = figure.subplots(1, 2)
    curves.plot([0, 1], [0, 1], color="#999999", linestyle="--", linewidth=1)
    for (classifier, item_kind), rows in calibration.groupby(["classifier", "item_kind"]):
        rows = rows.sort_values("bin")
        label = f"{classifier}, per {item_kind}"
        curves.plot(rows["mean_probability"], rows["accuracy"], marker="o", label=label)
        counts.plot(rows["bin_low"] + 0.05, rows["n_items"], marker="o", label=label)
    curves.set(xlabel="mean predicted probability", ylabel="share right", xlim=(0, 1),
               ylim=(0, 1), title="reliability (held-out, group level)")  # fmt: skip
    counts.set(xlabel="predicted probability (bin centre)", ylabel="held-out items",
               yscale="log", title="items per bin")  # fmt: skip
    curves.legend(fontsize=8)
    return figure
