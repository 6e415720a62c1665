"""Re-record tests/recordings from the live CSC TAP service and CDS X-Match.

    .venv/bin/python -m tests.recordings.record

Runs the scenarios of archive_replay (a cone, a list of names, the cone's crossmatch)
through the real fetchers, with the replay server in record mode in between: each
request the fetchers send is forwarded to the service, and its answer saved under
csc_tap/ and xmatch/ with index.json. Needs the network; takes a minute or two.
Afterwards, review `git diff tests/recordings` and update the expectations at the top
of tests/test_archives.py to the live data (see README.md).
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path
from unittest import mock

from ingest import csc, xmatch
from ingest.config import CSC_TAP_URL, XMATCH_URL, archive_settings
from tests.recordings.archive_replay import (
    EGS_CONE,
    NAMES,
    RECORDINGS,
    XMATCH_RADIUS_ARCSEC,
    ArchiveReplayServer,
    scenario_environment,
)


def record(tap_url: str, xmatch_url: str, directory: Path) -> ArchiveReplayServer:
    """Record every scenario's exchanges from the services at the URLs into `directory`."""
    for stale in [*directory.glob("csc_tap/*.vot"), *directory.glob("xmatch/*.vot")]:
        stale.unlink()
    proxy = ArchiveReplayServer(
        directory=directory, upstream_tap_url=tap_url, upstream_xmatch_url=xmatch_url
    )
    with proxy, tempfile.TemporaryDirectory() as cache:
        environment = scenario_environment(proxy.tap_url, proxy.xmatch_url, Path(cache))
        with mock.patch.dict(os.environ, environment):
            settings = archive_settings()
            proxy.scenario = "cone"
            detections, _ = csc.fetch_detections(csc.Cone(*EGS_CONE), settings)
            proxy.scenario = "names"
            csc.fetch_detections(csc.Names(NAMES), settings)
            proxy.scenario = "simbad"
            xmatch.fetch_crossmatch(detections, XMATCH_RADIUS_ARCSEC, settings)
    proxy.save_index()
    return proxy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tap-url", default=CSC_TAP_URL, help=f"default {CSC_TAP_URL}")
    parser.add_argument("--xmatch-url", default=XMATCH_URL, help=f"default {XMATCH_URL}")
    parser.add_argument("--into", type=Path, default=RECORDINGS, help="default: this directory")
    args = parser.parse_args()
    proxy = record(args.tap_url, args.xmatch_url, args.into)
    print(f"recorded {len(proxy.recordings)} exchanges into {args.into}")


if __name__ == "__main__":
    main()
