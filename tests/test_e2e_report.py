"""The physio report's HTML in a real Chromium (Debian's /usr/bin/chromium through Playwright): at a phone's
390 px the page is as wide as the phone (a long table scrolls inside its own box), and at 1366 px nothing
sticks out either.  The HTML is a file: no server, the clock frozen on the test's day (the demo history ends there)."""

from __future__ import annotations

import pytest

from loadwatch.dashboard.cli.main import main
from tests.test_e2e_pages import browser  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.mark.parametrize("units", ["km", "mi"])
def test_the_html_report_fits_a_phone_and_a_desktop(today, tmp_path, browser, units, capsys):  # noqa: F811
    db = str(tmp_path / "demo.sqlite3")
    assert main(["demo", "--db", db]) == 0
    assert main(["settings", "set", "units", units, "--db", db]) == 0
    html = tmp_path / "physio.html"
    assert main(["report", "--db", db, "--html", str(html), "--weeks", "52"]) == 0
    capsys.readouterr()
    for width, height in ((390, 844), (1366, 900)):
        page = browser.new_page(viewport={"width": width, "height": height})
        try:
            page.goto(html.as_uri())
            page_width = page.evaluate("document.documentElement.scrollWidth")
            assert page_width <= width, f"{page_width} px wide at {width} px"
            # every chart and every paragraph inside the page; only a table's own box may scroll
            sticking_out = page.evaluate("""(w) => [...document.querySelectorAll('p, li, figure, svg, h1, h2, .alert, .care')]
                .filter(e => e.getBoundingClientRect().right > w + 0.5).map(e => e.tagName + ': ' + e.textContent.slice(0, 40))""",
                                         width)
            assert sticking_out == [], sticking_out
            assert page.locator("table").count() > 0
        finally:
            page.close()
