"""Ingest configuration, in one place: where the warehouse is, archive endpoints,
timeouts, radii and chunk sizes.

Every archive setting has a default and an environment variable that overrides it,
so a test can point the fetchers at a local server and shrink the delays.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT = REPO_ROOT / "dbt_project.yml"


def warehouse_path() -> Path:
    """The DuckDB file: $XRAY_WAREHOUSE, else warehouse.duckdb in the repository root."""
    return Path(os.environ.get("XRAY_WAREHOUSE", REPO_ROOT / "warehouse.duckdb"))


# CSC 2.1 TAP service (https://cxc.cfa.harvard.edu/csc/download/vo.html); its tables
# are in the schema `csc21`, which the query in ingest/queries names.
CSC_TAP_URL = "http://cda.cfa.harvard.edu/csc21tap"
# CDS X-Match synchronous API (https://cds.unistra.fr/help/documentation/xmatch-more/api/).
XMATCH_URL = "http://cdsxmatch.cds.unistra.fr/xmatch/api/v1/sync"


@dataclass(frozen=True)
class ArchiveSettings:
    """How the archive fetchers talk to the services and where they keep responses."""

    csc_tap_url: str
    xmatch_url: str
    cache_dir: Path
    # Per HTTP request; a large CSC join can take minutes on the server.
    timeout_seconds: float
    # Transient failures (timeouts, connection errors, HTTP 429/5xx): tries per chunk,
    # waiting initial_delay, then initial_delay * backoff, ... capped at max_delay.
    retry_attempts: int
    retry_initial_delay_seconds: float
    retry_backoff_factor: float
    retry_max_delay_seconds: float
    # The whole catalogue and sky regions are fetched in declination strips this wide.
    csc_dec_strip_degrees: float
    # Source names per `m.name IN (...)` request.
    csc_names_per_chunk: int
    # MAXREC sent with every CSC query; a chunk that reaches it fails rather than
    # silently losing rows (use narrower strips or fewer names per chunk).
    csc_max_rows_per_chunk: int
    # Detections uploaded to X-Match per request (the service accepts up to 100 MB).
    xmatch_rows_per_chunk: int
    # Answer from the cache only, sending nothing; a chunk not cached is an error.
    offline: bool


def archive_settings() -> ArchiveSettings:
    """The archive settings: the defaults below, each overridable by its environment variable."""
    return ArchiveSettings(
        csc_tap_url=_env_str("XRAY_CSC_TAP_URL", CSC_TAP_URL),
        xmatch_url=_env_str("XRAY_XMATCH_URL", XMATCH_URL),
        cache_dir=Path(_env_str("XRAY_ARCHIVE_CACHE", str(REPO_ROOT / "cache"))),
        timeout_seconds=_env_float("XRAY_ARCHIVE_TIMEOUT", 300.0),
        retry_attempts=_env_int("XRAY_ARCHIVE_RETRY_ATTEMPTS", 5),
        retry_initial_delay_seconds=_env_float("XRAY_ARCHIVE_RETRY_DELAY", 5.0),
        retry_backoff_factor=_env_float("XRAY_ARCHIVE_RETRY_BACKOFF", 2.0),
        retry_max_delay_seconds=_env_float("XRAY_ARCHIVE_RETRY_MAX_DELAY", 120.0),
        csc_dec_strip_degrees=_env_float("XRAY_CSC_DEC_STRIP_DEG", 2.0),
        csc_names_per_chunk=_env_int("XRAY_CSC_NAMES_PER_CHUNK", 200),
        csc_max_rows_per_chunk=_env_int("XRAY_CSC_MAXREC", 500_000),
        xmatch_rows_per_chunk=_env_int("XRAY_XMATCH_ROWS_PER_CHUNK", 20_000),
        offline=_env_int("XRAY_ARCHIVE_OFFLINE", 0) != 0,
    )


def match_radius_arcsec() -> float:
    """dbt var simbad_match_radius_arcsec: the radius the warehouse matches SIMBAD within,
    and so the radius `python -m ingest simbad` fetches pairs within unless told otherwise
    (one setting, in dbt_project.yml)."""
    return float(yaml.safe_load(DBT_PROJECT.read_text())["vars"]["simbad_match_radius_arcsec"])


def _env_str(variable: str, default: str) -> str:
    return os.environ.get(variable) or default


def _env_float(variable: str, default: float) -> float:
    text = os.environ.get(variable)
    if not text:
        return default
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"${variable} must be a number, not {text!r}") from None


def _env_int(variable: str, default: int) -> int:
    text = os.environ.get(variable)
    if not text:
        return default
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"${variable} must be an integer, not {text!r}") from None
