"""End to end in a real Chromium: ``loadwatch dashboard`` as a subprocess, files uploaded through the Import
page, a pain entry logged, and the alert and the charts checked on This week and Load.

Skipped when /usr/bin/chromium is absent, unless ``LOADWATCH_REQUIRE_BROWSER=1`` (CI), which makes a
missing browser a failure.  Screenshots go to ``$LOADWATCH_ARTIFACTS/screenshots`` (default
``test-artifacts/screenshots`` at the repository root); the folder is printed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from loadwatch.ingest.synth import SynthRun, fit_bytes, gpx_bytes
from tests.conftest import CORPUS_DIR, REPO_ROOT
from tests.helpers import free_port, server_env, wait_healthy

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
REAL_FIT = CORPUS_DIR / "sports-alliance+sports-lib" / "samples" / "fit" / "garmin.fit"

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _require_browser() -> None:
    if not CHROMIUM.exists():
        if os.environ.get("LOADWATCH_REQUIRE_BROWSER") == "1":
            pytest.fail("LOADWATCH_REQUIRE_BROWSER=1 but /usr/bin/chromium is absent")
        pytest.skip("/usr/bin/chromium is absent")


def _artifacts() -> Path:
    root = Path(os.environ.get("LOADWATCH_ARTIFACTS") or REPO_ROOT / "test-artifacts")
    folder = root / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _listening_addresses(pid: int, port: int) -> set[str]:
    import psutil

    procs = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    found = set()
    for p in procs:
        for conn in p.net_connections(kind="inet"):
            if conn.status == psutil.CONN_LISTEN and conn.laddr.port == port:
                found.add(conn.laddr.ip)
    return found


@pytest.fixture
def server(tmp_path, today):
    """``loadwatch dashboard`` on an empty store, its clock on the test's frozen day."""
    _require_browser()
    port = free_port()
    db = tmp_path / "e2e.sqlite3"
    log = tmp_path / "server.log"
    env = server_env(today)
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "loadwatch.dashboard.cli.main", "dashboard", "--db", str(db), "--port", str(port)],
            cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc, log)
        yield {"url": url, "port": port, "pid": proc.pid, "db": db, "log": log}
    finally:
        # the server and its children are one process group of our own (start_new_session)
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=15)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)


def _run(day: date, km: float, seed: int) -> SynthRun:
    return SynthRun(start_utc=datetime(day.year, day.month, day.day, 7, 0, tzinfo=UTC),
                    duration_s=int(km * 330), distance_m=km * 1000, seed=seed, sub_sport="street")


def _upload_files(folder: Path, today: date) -> list[Path]:
    files = {
        "tempo-10-days-ago.fit": fit_bytes(_run(today - timedelta(days=10), 8.0, 1)),
        "easy-5-days-ago.gpx": gpx_bytes(_run(today - timedelta(days=5), 6.0, 2)),
        "long-yesterday.fit": fit_bytes(_run(today - timedelta(days=1), 14.0, 3)),
    }
    paths = []
    for name, data in files.items():
        (folder / name).write_bytes(data)
        paths.append(folder / name)
    if REAL_FIT.is_file():
        paths.append(REAL_FIT)
    return paths


def test_dashboard_in_a_real_browser(server, tmp_path, today):
    from playwright.sync_api import expect, sync_playwright

    shots = _artifacts()
    print(f"\nscreenshots: {shots}")
    # local-first: the server listens on the loopback address only
    assert _listening_addresses(server["pid"], server["port"]) == {"127.0.0.1"}

    uploads = _upload_files(tmp_path, today)
    url = server["url"]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1300, "height": 1000})
        external = []
        page.on("request", lambda r: external.append(r.url)
                if not r.url.startswith((url, "data:", "blob:", "about:")) else None)
        try:
            # empty store: the landing page explains and offers the demo
            page.goto(url)
            expect(page.get_by_text("Nothing here yet")).to_be_visible(timeout=60_000)
            expect(page.get_by_role("button", name="Load demo data")).to_be_visible()
            page.screenshot(path=str(shots / "01-empty-landing.png"), full_page=True)

            # Import: real files through the real uploader
            page.goto(f"{url}/import")
            expect(page.get_by_text("Upload limit: 1024 MB per file")).to_be_visible(timeout=60_000)
            page.locator("input[type=file]").set_input_files([str(p) for p in uploads])
            page.get_by_role("button", name=f"Import {len(uploads)} files").click()
            expect(page.get_by_text("Last import")).to_be_visible(timeout=120_000)
            table = page.locator("[data-testid=stDataFrame]").first
            expect(table).to_be_visible()
            page.wait_for_timeout(1000)
            page.screenshot(path=str(shots / "02-import-outcomes.png"), full_page=True)
            imported = page.locator("[data-testid=stMetric]").filter(has_text="Imported")
            expect(imported).to_contain_text(str(len(uploads)))

            # Pain log: 6/10 during the run
            page.goto(f"{url}/pain")
            slider = page.get_by_role("slider").first
            expect(slider).to_be_visible(timeout=60_000)
            slider.focus()
            for _ in range(6):
                slider.press("ArrowRight")
            expect(slider).to_have_attribute("aria-valuetext", "6")
            page.get_by_text("During the run", exact=True).click()
            page.get_by_role("button", name="Save pain entry").click()
            expect(page.get_by_text("Saved: pain 6/10, during the run, lower back.")).to_be_visible(timeout=60_000)
            page.screenshot(path=str(shots / "03-pain-log.png"), full_page=True)

            # This week: the spike and the pain alert; pain of 6/10 during a run stops running for now
            page.goto(url)
            expect(page.get_by_text("Red: stop running for now, until your back settles")).to_be_visible(timeout=60_000)
            expect(page.get_by_text("longer than your longest run of the previous 30 days").first).to_be_visible()
            expect(page.locator("[data-testid=stAlert]").filter(has_text="back pain of 6/10").first).to_be_visible()
            expect(page.get_by_text("not a diagnosis or medical advice")).to_be_visible()
            page.screenshot(path=str(shots / "04-this-week.png"), full_page=True)

            # Load: the charts are drawn
            page.goto(f"{url}/load")
            expect(page.get_by_text("Weekly distance by surface (km)")).to_be_visible(timeout=60_000)
            charts = page.locator(".vega-embed")
            expect(charts).to_have_count(5, timeout=60_000)
            expect(charts.first.locator("canvas, svg").first).to_be_visible()
            page.wait_for_timeout(1500)
            page.screenshot(path=str(shots / "05-load.png"), full_page=True)

            # Activities: the detail view of the long run
            page.goto(f"{url}/activities")
            expect(page.get_by_text("One run in detail")).to_be_visible(timeout=60_000)
            expect(page.locator(".vega-embed").first).to_be_visible(timeout=60_000)
            page.wait_for_timeout(1500)
            page.screenshot(path=str(shots / "06-activities.png"), full_page=True)
        finally:
            browser.close()
    assert external == [], f"pages fetched from the network: {external[:5]}"
