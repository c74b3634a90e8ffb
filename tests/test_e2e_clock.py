"""The browser tests' server runs on the test's frozen day, not the machine's: a process started with
``tests.helpers.server_env(day)`` (time-machine in every Python process it starts) reads that day through every
clock call the app makes, its own children too; and ``loadwatch dashboard`` started so on a Monday and on the
test's day (a Sunday, or ``LOADWATCH_TEST_TODAY``) shows that day in Chromium: the calendar's today (the last
day that can be opened, drawn in bold) and the pain log's date, which defaults to today.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta

import pytest

from loadwatch.ingest.painlog import PainEntry
from loadwatch.ingest.store import Store
from tests.conftest import DEFAULT_TODAY, WEEK_DAYS
from tests.helpers import at_ten, server_env
from tests.test_e2e_pages import DESKTOP, Server, _settle, browser  # noqa: F401  (a fixture)

#: How the pain log's date field shows a day (``fmt.DATE_INPUT_FORMAT``, as strftime).
DATE_SHOWN = "%Y-%m-%d"

#: The calendar's day buttons (widget key ``cal_<ISO day>``): which can be opened, and which is bold.
CALENDAR_DAYS_JS = """() => [...document.querySelectorAll('[class*="st-key-cal_"]')].flatMap(el => {
  const key = [...el.classList].find(c => /^st-key-cal_\\d{4}-\\d{2}-\\d{2}$/.test(c));
  const button = el.querySelector('button');
  if (!key || !button) return [];
  return [{day: key.slice('st-key-cal_'.length), enabled: !button.disabled, bold: !!button.querySelector('strong')}];
})"""


def _days_shown(page) -> tuple[str, list[str]]:
    days = page.evaluate(CALENDAR_DAYS_JS)
    assert days, "no day buttons on the calendar"
    last_open = max(d["day"] for d in days if d["enabled"])
    bold = [d["day"] for d in days if d["bold"]]
    return last_open, bold


#: What a server's process reads from the clock, the way the app reads it (ui.today, metrics.calendar, the
#: store's timestamps, pandas), and what a process it starts reads (Streamlit's import workers).
CLOCK_READS = """
import datetime as dt, json, subprocess, sys, time
from zoneinfo import ZoneInfo
import pandas as pd
child = subprocess.run([sys.executable, "-c", "import datetime; print(datetime.date.today())"],
                       capture_output=True, text=True, check=True).stdout.strip()
print(json.dumps({"date_today": dt.date.today().isoformat(),
                  "now_in_zone": dt.datetime.now(ZoneInfo("Europe/Oslo")).isoformat(),
                  "now_utc": dt.datetime.now(dt.UTC).isoformat(), "time_s": time.time(),
                  "pandas_now": pd.Timestamp.now(tz="UTC").isoformat(), "child_today": child}))
"""


def test_a_servers_processes_read_the_tests_day(today):
    done = subprocess.run([sys.executable, "-c", CLOCK_READS], env=server_env(today), capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    ten = at_ten(today)
    assert seen["date_today"] == seen["child_today"] == today.isoformat()
    for key in ("now_in_zone", "now_utc", "pandas_now"):
        moment = datetime.fromisoformat(seen[key])
        assert ten <= moment < ten + timedelta(minutes=2), (key, seen[key])  # ticking on from 10:00 UTC
    assert ten.timestamp() <= seen["time_s"] < ten.timestamp() + 120


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.parametrize("today", [WEEK_DAYS[0], DEFAULT_TODAY], ids=["Mon", "test-day"], indirect=True)
def test_the_server_shows_the_tests_frozen_day(tmp_path, browser, today):  # noqa: F811
    from playwright.sync_api import expect

    db = tmp_path / "clock.sqlite3"
    with Store(db) as store:  # one pain entry yesterday, so the pages have a history to draw
        yesterday = today - timedelta(days=1)
        store.add_pain(PainEntry(at_local=datetime(yesterday.year, yesterday.month, yesterday.day, 19), score=2, timing="after", location="lower_back"))
    server = Server(tmp_path, db, today=today)
    try:
        server.wait_healthy()
        page = browser.new_page(viewport=DESKTOP)
        page.goto(f"{server.url}/calendar")
        expect(page.get_by_text("Click a day")).to_be_visible(timeout=60_000)
        expect(page.get_by_text(f"{today:%B %Y}").first).to_be_visible()
        _settle(page)
        assert _days_shown(page) == (today.isoformat(), [today.isoformat()])

        page.goto(f"{server.url}/pain")
        date_field = page.locator("[data-testid=stDateInput]").filter(has_text="Date").locator("input").first
        expect(date_field).to_be_visible(timeout=60_000)
        assert date_field.input_value() == today.strftime(DATE_SHOWN)
        page.close()
    finally:
        server.stop()

