"""Every page in a real Chromium (Debian's /usr/bin/chromium through Playwright): This week's chart, the
calendar (a day clicked open), an activity's detail view, demo mode across a reload and the way out of it,
the password gate, and SIGTERM freeing the port.  Screenshots of every page at a desktop and a phone
viewport go to ``$LOADWATCH_ARTIFACTS/screenshots`` (default ``test-artifacts/screenshots``); with
``LOADWATCH_REFRESH_SCREENSHOT=1`` the demo's This week also refreshes ``docs/screenshot.png``.

Every server listens on a loopback address only (the password gate is exercised on 127.0.0.2 with the
gate forced on, the same code path a non-loopback ``--host`` takes: the authenticating front over TLS,
with its self-signed certificate); nothing leaves this machine.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.app_helpers import copy_history
from tests.conftest import REPO_ROOT
from tests.helpers import free_port, port_free, server_env
from tests.test_e2e_browser import CHROMIUM, CHROMIUM_ARGS, _artifacts, _require_browser

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PAGES = [("this-week", ""), ("import", "import"), ("load", "load"), ("calendar", "calendar"), ("pain-log", "pain"),
         ("alerts", "alerts"), ("activities", "activities"), ("settings", "settings")]
DESKTOP = {"width": 1300, "height": 1000}
PHONE = {"width": 390, "height": 844}
SECRET = "a long passphrase for the phone"


class Server:
    """``loadwatch dashboard`` as a subprocess on the store ``db``.  ``today``: the day its clock shows (10:00
    UTC, ticking on: ``tests.helpers.server_env``), the test's own frozen day; None keeps the real clock (the
    password gate's tests: the browser checks the session cookie's expiry on the real clock)."""

    def __init__(self, tmp_path: Path, db: Path, host: str = "127.0.0.1", env_extra: dict | None = None,
                 args: tuple[str, ...] = (), *, today: date | None = None):
        self.port = free_port()
        self.host = host
        self.url = f"http://{host}:{self.port}"
        self.log = tmp_path / f"server-{self.port}.log"
        env = server_env(today, LOADWATCH_DB=str(db), **(env_extra or {}))
        with self.log.open("w") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "loadwatch.dashboard.cli.main", "dashboard", "--db", str(db), "--port", str(self.port),
                 "--host", host, *args], cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT)

    def wait_healthy(self, timeout_s: float = 90) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"the dashboard exited early:\n{self.log.read_text()}"
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as r:
                    if r.read().decode().strip() == "ok":
                        return
            except OSError:
                time.sleep(0.3)
        raise AssertionError(f"no health answer:\n{self.log.read_text()}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def browser():
    _require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def _settle(page, ms: int = 1500) -> None:
    """Let Streamlit finish its run and Vega draw."""
    page.wait_for_function("() => !document.querySelector('[data-testid=stStatusWidget]')", timeout=60_000)
    page.wait_for_timeout(ms)


def _no_internal_text(page) -> None:
    body = page.locator("section.main, [data-testid=stMain]").first.inner_text()
    for bad in ("None", "nan", "rest_of_day", "lower_back", "session_spike", "00:00:00"):
        assert bad not in body.split(), f"{bad!r} on {page.url}"


def test_every_page_in_chromium_with_screenshots(tmp_path, browser, today):
    from playwright.sync_api import expect

    db = copy_history(tmp_path / "history.sqlite3", tmp_path / "template")
    server = Server(tmp_path, db, today=today)
    shots = _artifacts()
    try:
        server.wait_healthy()
        for label, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
            page = browser.new_page(viewport=viewport)
            external = []
            page.on("request", lambda r, seen=external: seen.append(r.url)
                    if not r.url.startswith((server.url, "data:", "blob:", "about:")) else None)
            for name, path in PAGES:
                page.goto(f"{server.url}/{path}")
                expect(page.locator("h1").first).to_be_visible(timeout=60_000)
                _settle(page)
                _no_internal_text(page)
                page.screenshot(path=str(shots / f"page-{name}-{label}.png"), full_page=True)
            assert external == [], external[:5]
            page.close()

        page = browser.new_page(viewport=DESKTOP)
        # This week leads with the chart of the last 12 weeks: distance and pain on one axis
        page.goto(server.url)
        expect(page.get_by_text("The last 12 weeks")).to_be_visible(timeout=60_000)
        chart = page.locator(".vega-embed").first
        expect(chart).to_be_visible(timeout=60_000)
        expect(chart.locator("canvas, svg").first).to_be_visible()
        box_chart = chart.bounding_box()
        light = page.get_by_text("Amber: hold your load this week")
        expect(light).to_be_visible()
        assert box_chart["y"] < light.bounding_box()["y"], "the chart leads the page"

        # Calendar: yesterday's 18 km run; click the day to open it and log pain for it
        page.goto(f"{server.url}/calendar")
        yesterday = today - timedelta(days=1)
        expect(page.get_by_text("Click a day")).to_be_visible(timeout=60_000)
        from loadwatch.metrics import fmt

        # The day's own button (its widget key names the date), clicked once the page has finished its run:
        # a click that lands while Streamlit is still drawing the three months can be lost (seen on CI).
        day_button = page.locator(f".st-key-cal_{yesterday.isoformat()} button").first
        opened = page.get_by_text(f"Log pain for {fmt.day(yesterday)}")
        for _attempt in range(3):
            _settle(page, 500)
            day_button.click()
            try:
                expect(opened).to_be_visible(timeout=20_000)
                break
            except AssertionError:
                continue
        expect(opened).to_be_visible(timeout=20_000)
        expect(page.get_by_text("Run at 07:00: 18 km").first).to_be_visible()
        _settle(page)
        page.screenshot(path=str(shots / "calendar-day-open.png"), full_page=True)

        # Activities: the detail view of the latest run
        page.goto(f"{server.url}/activities")
        expect(page.get_by_text("One run in detail")).to_be_visible(timeout=60_000)
        expect(page.get_by_text("Splits per km")).to_be_visible(timeout=60_000)
        expect(page.get_by_text("Route", exact=True)).to_be_visible()
        expect(page.locator(".vega-embed")).to_have_count(6, timeout=60_000)
        _settle(page)
        page.screenshot(path=str(shots / "activity-detail.png"), full_page=True)
        # Streamlit scrolls its main block, not the document: bring each part into view to photograph it
        for i, anchor in enumerate(("Faster is higher", "Splits per km", "Route")):
            page.get_by_text(anchor, exact=anchor == "Route").first.scroll_into_view_if_needed()
            page.wait_for_timeout(800)
            page.screenshot(path=str(shots / f"activity-detail-{i + 1}.png"))
        page.close()
    finally:
        server.stop()


def test_demo_mode_survives_a_reload_and_leaving_shows_my_own_store(tmp_path, browser, today):
    from playwright.sync_api import expect

    from loadwatch.ingest.demo import write_demo
    from loadwatch.ingest.store import Store

    db = tmp_path / "mine.sqlite3"
    with Store(tmp_path / "demo.sqlite3") as demo:  # the demo store sits beside the runner's own
        write_demo(demo)
    server = Server(tmp_path, db, today=today)
    shots = _artifacts()
    try:
        server.wait_healthy()
        page = browser.new_page(viewport=DESKTOP)
        page.goto(server.url)
        page.get_by_role("button", name="Load demo data").click(timeout=60_000)
        expect(page.get_by_text("Demo data.", exact=False).first).to_be_visible(timeout=120_000)
        expect(page.get_by_text("The last 12 weeks")).to_be_visible(timeout=60_000)
        assert "demo=1" in page.url
        _settle(page, 2500)
        page.screenshot(path=str(shots / "demo-this-week.png"), full_page=False)
        if os.environ.get("LOADWATCH_REFRESH_SCREENSHOT") == "1":
            shutil.copyfile(shots / "demo-this-week.png", REPO_ROOT / "docs" / "screenshot.png")

        page.reload()
        expect(page.get_by_text("Demo data.", exact=False).first).to_be_visible(timeout=60_000)
        expect(page.get_by_text("The last 12 weeks")).to_be_visible()

        page.get_by_role("link", name="Import").click()
        expect(page.get_by_text("You are looking at the demo")).to_be_visible(timeout=60_000)
        assert page.locator("input[type=file]").count() == 0
        assert "demo=1" in page.url  # still in the demo after navigating
        page.get_by_role("button", name="Leave the demo and import my own files").click()
        expect(page.get_by_text("Your store holds 0 activities.")).to_be_visible(timeout=60_000)
        expect(page.locator("input[type=file]")).to_have_count(1)
        assert "demo=1" not in page.url
        page.reload()
        expect(page.get_by_text("Your store holds 0 activities.")).to_be_visible(timeout=60_000)
        with Store(db) as mine:
            assert mine.activities().empty
        page.close()
    finally:
        server.stop()


def test_password_gate_and_sigterm_free_the_port(tmp_path, browser):
    from playwright.sync_api import expect

    # without a password a non-loopback address is refused before anything listens
    refused = subprocess.run([sys.executable, "-m", "loadwatch.dashboard.cli.main", "dashboard", "--db", str(tmp_path / "x.sqlite3"),
                              "--host", "0.0.0.0", "--port", str(free_port())],
                             env={k: v for k, v in dict(os.environ, PYTHONPATH=str(REPO_ROOT)).items()
                                  if k != "LOADWATCH_PASSWORD"},
                             capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2 and "LOADWATCH_PASSWORD" in refused.stderr and "--password-file" in refused.stderr

    # on the real clock, the history too (no `today`): the browser keeps the session cookie only until its
    # expiry on the real clock, which a server on another day would set in the past
    db = copy_history(tmp_path / "history.sqlite3", tmp_path / "template")
    pw_file = tmp_path / "password.txt"
    pw_file.write_text(SECRET + "\n")
    server = Server(tmp_path, db, host="127.0.0.2", env_extra={"LOADWATCH_REQUIRE_PASSWORD": "1"},
                    args=("--password-file", str(pw_file)))
    server.url = server.url.replace("http://", "https://")
    shots = _artifacts()
    try:
        deadline = time.monotonic() + 120
        while "asks for the password first" not in server.log.read_text():
            assert server.proc.poll() is None and time.monotonic() < deadline, server.log.read_text()
            time.sleep(0.3)
        # the phone is asked once to trust the dashboard's self-signed certificate
        context = browser.new_context(viewport=PHONE, ignore_https_errors=True)
        page = context.new_page()
        for path in ("", "pain", "calendar"):
            page.goto(f"{server.url}/{path}")
            expect(page.get_by_text("asks for its password first")).to_be_visible(timeout=60_000)
            body = page.locator("body").inner_text()
            assert "km" not in body and "Amber" not in body and "lower back" not in body
        assert page.goto(f"{server.url}/_stcore/health").status == 401
        page.goto(server.url)
        page.screenshot(path=str(shots / "password-gate-phone.png"), full_page=True)
        page.get_by_label("Password", exact=True).fill("guess")
        page.get_by_role("button", name="Open the dashboard").click()
        expect(page.get_by_text("That is not the password.")).to_be_visible(timeout=60_000)
        page.get_by_label("Password", exact=True).fill(SECRET)
        page.get_by_role("button", name="Open the dashboard").click()
        expect(page.get_by_text("Your next 7 days")).to_be_visible(timeout=60_000)
        cookie = [c for c in context.cookies() if c["name"] == "loadwatch_session"]
        assert cookie and cookie[0]["secure"] and cookie[0]["httpOnly"] and cookie[0]["sameSite"] == "Strict"
        page.goto(f"{server.url}/pain")  # the cookie carries the browser to any page
        expect(page.get_by_text("asks for its password first")).to_have_count(0, timeout=60_000)
        _settle(page)
        context.close()
        assert SECRET not in server.log.read_text()

        # SIGTERM, as a service manager stops it: Streamlit and its children go, the port is free
        import psutil

        children = psutil.Process(server.proc.pid).children(recursive=True)
        server.proc.send_signal(signal.SIGTERM)
        assert server.proc.wait(timeout=30) == 0
        _, alive = psutil.wait_procs(children, timeout=10)
        assert not alive
        deadline = time.monotonic() + 10
        while not port_free(server.port, server.host) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert port_free(server.port, server.host)
    finally:
        server.stop()
