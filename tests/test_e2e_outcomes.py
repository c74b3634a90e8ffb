"""Issue 24 in a real Chromium: the weekly OSTRC-O2 questionnaire on This week filled in by clicking its
answers, in km and in miles, and saved to the store (Debian's /usr/bin/chromium through Playwright; the
dashboard listens on loopback only and the page fetches nothing from elsewhere).

The server runs on the test's frozen day (``today``): the week answered is that day's week, holding the
answers given."""

from __future__ import annotations

from datetime import timedelta

import pytest

from loadwatch.ingest.store import Store
from tests.app_helpers import copy_history
from tests.test_e2e_pages import DESKTOP, Server, _settle, browser  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ANSWERS = ("Reduced participation because of back problems", "A moderate reduction", "A minor effect",
           "Mild pain")


@pytest.mark.parametrize("units", ["km", "mi"])
def test_the_weekly_questionnaire_in_chromium(tmp_path, browser, units, today):  # noqa: F811
    from playwright.sync_api import expect

    db = copy_history(tmp_path / "history.sqlite3", tmp_path / "template")
    with Store(db) as s:
        s.set_setting("units", units)
    server = Server(tmp_path, db, today=today)
    try:
        server.wait_healthy()
        page = browser.new_page(viewport=DESKTOP)
        external = []
        page.on("request", lambda r: external.append(r.url)
                if not r.url.startswith((server.url, "data:", "blob:", "about:")) else None)
        page.goto(server.url)
        expect(page.get_by_text("Your back this week")).to_be_visible(timeout=60_000)
        _settle(page)
        for answer in ANSWERS:
            page.get_by_text(answer, exact=True).click()
        page.get_by_role("button", name="Save this week's answers").click()
        done = page.get_by_text("severity 44 of 100, a substantial problem (a moderate reduction in training volume)")
        expect(done).to_be_visible(timeout=60_000)
        _settle(page, 500)
        expect(page.get_by_role("button", name="Save this week's answers")).to_have_count(0)
        metric = page.locator("[data-testid=stMetric]").filter(has_text="Distance this week").first
        assert metric.inner_text().strip().endswith(f" {units}"), metric.inner_text()
        body = page.locator("[data-testid=stMain]").first.inner_text()
        assert "None" not in body.split() and "nan" not in body.split()
        assert external == [], external[:5]
        page.close()
    finally:
        server.stop()
    with Store(db) as s:
        weeks = s.ostrc()
    assert len(weeks) == 1 and weeks.iloc[0]["week_start"] == today - timedelta(days=today.weekday())
    assert weeks.iloc[0][["participation", "volume", "performance", "pain"]].tolist() == [2, 2, 1, 1]
