"""The HTML report (`python -m report.html`): the files it writes, the page as headless
Chromium draws it, and bad options."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from markupsafe import escape
from PIL import Image
from support import REPO_ROOT

from report import figures, tables
from report.html import main
from report.tables import cluster_tables

CHROMIUM = Path("/usr/bin/chromium")
# Headless Chromium as root, offline: no sandbox, and no background calls to Google.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DEFAULT_PNGS = {
    "sky_gmm6_allvar.png",
    "sky_gmm6_allvar_YSO.png",
    "counts_gmm6_allvar_YSO.png",
    "var_prob_s_gmm6_allvar_YSO.png",
}


def render(warehouse: Path, out: Path, *options: str) -> Path:
    assert main(["--db", str(warehouse), "--out", str(out), *options]) == 0
    return out


def run_report(capsys: pytest.CaptureFixture[str], *arguments: str) -> tuple[int, str]:
    """`python -m report.html ARGUMENTS`, in this process: (exit status, stderr)."""
    try:
        status = main(list(arguments))
    except SystemExit as stop:
        status = stop.code
    return status, capsys.readouterr().err


@pytest.fixture(scope="module")
def demo_report(demo_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return render(demo_warehouse, tmp_path_factory.mktemp("demo_report")) / "gmm6_allvar"


@pytest.fixture(scope="module")
def real_report(real_sample_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default report of the real sample, which holds no YSO."""
    return render(real_sample_warehouse, tmp_path_factory.mktemp("real_report")) / "gmm6_allvar"


@pytest.fixture(
    params=[
        pytest.param("demo", marks=pytest.mark.slow),
        pytest.param("real", marks=pytest.mark.real_sample),
    ]
)
def report_dir(request: pytest.FixtureRequest) -> Path:
    return request.getfixturevalue(f"{request.param}_report")


def rgb_pixels(path: Path) -> np.ndarray:
    """The image's 8-bit RGB pixels, height x width x 3."""
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def colour_count(pixels: np.ndarray) -> int:
    """Distinct colours of 8-bit RGB pixels, each packed into one integer (a row-wise
    unique over the three channels sorts ~50x slower)."""
    packed = pixels.astype(np.uint32)
    return len(np.unique(packed[..., 0] << 16 | packed[..., 1] << 8 | packed[..., 2]))


def non_white_fraction(pixels: np.ndarray) -> float:
    return float((pixels < 0.97 * 255).any(axis=-1).mean())


def assert_non_trivial_image(path: Path) -> None:
    pixels = rgb_pixels(path)
    height, width = pixels.shape[:2]
    assert width >= 600 and height >= 250, f"{path.name} is only {width}x{height}"
    colours = colour_count(pixels)
    assert colours >= 32, f"{path.name} has {colours} colours"
    non_white = non_white_fraction(pixels)
    assert non_white >= 0.01, f"{path.name} is {100 * (1 - non_white):.1f}% white"


def test_report_writes_the_page_and_its_figures(report_dir: Path):
    pngs = {path.name for path in report_dir.glob("*.png")}
    assert pngs >= DEFAULT_PNGS
    for png in sorted(pngs):
        assert_non_trivial_image(report_dir / png)
    page = (report_dir / "index.html").read_text(encoding="utf-8")
    sources = re.findall(r'<img src="([^"]*)"', page)
    assert len(sources) == len(pngs)
    assert all(source.startswith("data:image/png;base64,") for source in sources)
    # Self-contained: nothing to fetch, so it opens offline.
    assert not re.search(r"<link|<script|url\(|@import|https?://", page)


def test_page_holds_the_main_type_tables(demo_warehouse: Path, demo_report: Path):
    page = (demo_report / "index.html").read_text(encoding="utf-8")
    with duckdb.connect(str(demo_warehouse), read_only=True) as connection:
        tables = cluster_tables(connection, "gmm6_allvar", 10)
    assert len(tables) == 6
    for table in tables:
        assert f"cluster {table.cluster} ({table.n_detections:,} detections)" in page
        for main_type, _, size in table.rows:
            assert f'<td class="text">{escape(main_type)}</td>' in page
            assert f"<td>{size:,}</td></tr>" in page
    assert "<th>prob_0</th>" in page and "<th>prob_5</th>" in page


def test_an_absent_family_says_so(real_report: Path):
    page = (real_report / "index.html").read_text(encoding="utf-8")
    assert "No YSO detections in this warehouse" in page
    assert {path.name for path in real_report.glob("*.png")} >= DEFAULT_PNGS


def test_page_shows_the_scan_the_silhouette_and_the_profiles(demo_report: Path):
    page = (demo_report / "index.html").read_text(encoding="utf-8")
    assert (demo_report / "scan_allvar.png").exists()
    assert "<th>silhouette</th>" in page
    assert "Descriptors per cluster" in page and "var_prob_s<" in page


def test_page_renders_in_headless_chromium(demo_report: Path, tmp_path: Path):
    report_dir = demo_report
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found: apt-get install chromium")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    screenshot = tmp_path / "page.png"
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 900},
            timeout=120_000,
        )
        try:
            page = browser.new_page()
            page.goto((report_dir / "index.html").as_uri(), wait_until="load")
            image_widths = page.evaluate(
                "Array.from(document.images).map(image => image.complete ? image.naturalWidth : 0)"
            )
            page_height = page.evaluate("document.documentElement.scrollHeight")
            # Its first 4,000 px, drawn: all of the tall page would cost ~20 s more.
            page.screenshot(
                path=str(screenshot),
                full_page=True,
                clip={"x": 0, "y": 0, "width": 1400, "height": 4000},
            )
        finally:
            browser.close()
    assert len(image_widths) == len(list(report_dir.glob("*.png")))
    assert all(width > 0 for width in image_widths), image_widths
    assert page_height > 3000, "the page is shorter than its figures"
    pixels = rgb_pixels(screenshot)
    assert colour_count(pixels) > 500
    assert non_white_fraction(pixels) > 0.05


def test_the_default_run_is_the_one_the_warehouse_was_built_with(
    demo_warehouse: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(demo_warehouse, warehouse)
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute(
            """update build_parameters set value = '"gmm8_allvar"'
            where parameter = 'default_gmm_run'"""
        )
    assert tables.main(["--db", str(warehouse)]) == 0
    headings = [line for line in capsys.readouterr().out.splitlines() if line.startswith("###")]
    assert len(headings) == 8 and all(h.startswith("### gmm8_allvar: ") for h in headings)
    report_dir = render(warehouse, tmp_path / "out") / "gmm8_allvar"
    assert (report_dir / "sky_gmm8_allvar.png").exists()
    assert [path.name for path in (tmp_path / "out").iterdir()] == ["gmm8_allvar"]


def test_options_choose_run_family_and_descriptor(
    demo_warehouse: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    status, stderr = run_report(
        capsys,
        *("--db", str(demo_warehouse), "--out", str(tmp_path)),
        *("--run", "gmm8_allvar", "--family", "agn", "--descriptor", "hard_hs"),
    )
    assert status == 0, stderr
    pngs = {path.name for path in (tmp_path / "gmm8_allvar").glob("*.png")}
    assert pngs >= {
        "sky_gmm8_allvar.png",
        "sky_gmm8_allvar_AGN.png",
        "counts_gmm8_allvar_AGN.png",
        "hard_hs_gmm8_allvar_AGN.png",
    }
    assert "report gmm8_allvar: 100%" in stderr  # the progress bar


@pytest.mark.parametrize(
    ("option", "value", "valid"),
    [
        ("--run", "gmm7_allvar", "gmm6_allvar"),
        ("--family", "Stars", "YSO"),
        ("--descriptor", "name", "var_prob_s"),
    ],
)
def test_bad_options_exit_2_listing_the_valid_ones(
    demo_warehouse: Path, tmp_path: Path, option: str, value: str, valid: str, capsys
):
    status, stderr = run_report(
        capsys, "--db", str(demo_warehouse), "--out", str(tmp_path), option, value
    )
    assert status == 2
    assert f"unknown {option[2:]} {value!r}" in stderr and valid in stderr
    assert not any(tmp_path.iterdir())


def test_a_missing_warehouse_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    status, stderr = run_report(capsys, "--db", str(tmp_path / "none.duckdb"))
    assert status == 2 and "make build" in stderr


@pytest.mark.parametrize(("longitude", "side"), [(90.0, -1), (270.0, 1)])
def test_sky_maps_draw_longitude_increasing_to_the_left(longitude: float, side: int):
    sky = pd.DataFrame({"l": [longitude], "b": [0.0], "cluster": [0]})
    figure = figures.sky_map_by_cluster(sky, 1, "run")
    figure.draw_without_rendering()
    for axes in figure.axes:  # the whole sky and the plane strip
        x = axes.transData.transform(axes.collections[0].get_offsets())[0, 0]
        centre = (axes.bbox.x0 + axes.bbox.x1) / 2
        assert np.sign(x - centre) == side, f"{axes.get_title()}: l = {longitude} at x = {x}"


def test_cluster_colours_stay_the_same_from_run_to_run():
    assert figures.cluster_colours(20)[:6] == figures.cluster_colours(6)
    assert len(set(figures.cluster_colours(20))) == 20


def test_a_warehouse_held_read_write_by_another_process_is_named_in_one_line(
    demo_warehouse: Path, tmp_path: Path
):
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(demo_warehouse, warehouse)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]);"
         " print('open', flush=True); time.sleep(60)", str(warehouse)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "open"
        for module in ("report.tables", "report.html"):
            result = subprocess.run(
                [sys.executable, "-m", module, "--db", str(warehouse)],
                capture_output=True, text=True, cwd=REPO_ROOT,
            )  # fmt: skip
            assert result.returncode == 2
            assert result.stderr.count("\n") == 1, result.stderr
            assert f"is open read-write by PID {holder.pid}" in result.stderr
    finally:
        holder.kill()
        holder.wait()


def test_the_classification_section_shows_both_classifiers_held_out_figures(
    demo_warehouse: Path, demo_report: Path
):
    page = (demo_report / "index.html").read_text(encoding="utf-8")
    section = page[page.index('<section id="classification">') :]
    for png in (
        "classification_confusion.png",
        "classification_reliability.png",
        "classification_sky_mahalanobis.png",
        "classification_sky_gradient_boosting.png",
    ):
        assert png in section
        assert_non_trivial_image(demo_report / png)
    with duckdb.connect(str(demo_warehouse), read_only=True) as connection:
        shown = connection.execute(
            "select classifier, item_kind, value from classification_metrics"
            " where training = 'source_split' and label_level = 'group' and subset = 'all'"
            " and metric = 'balanced_accuracy'"
        ).fetchall()
    for classifier, item_kind, value in shown:
        row = re.search(
            rf"<tr><td class=\"text\">{classifier}</td><td class=\"text\">{item_kind}</td>"
            r"<td>[^<]*</td><td>([^<]*)</td>",
            section,
        )
        assert row and float(row.group(1)) == pytest.approx(value, abs=5e-4)
