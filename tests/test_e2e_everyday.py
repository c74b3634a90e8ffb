"""Issue 21's walk-through in a real Chromium (Debian's /usr/bin/chromium through Playwright), as a runner meets
the dashboard in the first hour: a history whose last run was five months ago with today's pain logged
(every page anchored on today, the stale history said in one line), an import of many files interrupted by
opening another page (every file arrives, the sidebar shows the import), and every page at 1366x900 and at
390 px wide with no chart cut at the edge and no calendar cell broken inside a word.  Screenshots go to
``$LOADWATCH_ARTIFACTS/screenshots`` (default ``test-artifacts/screenshots``).

The server is a subprocess on the test's frozen day (``today``: a Sunday, or ``LOADWATCH_TEST_TODAY``), the
history built relative to that day.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from tests.test_e2e_browser import _artifacts
from tests.test_e2e_pages import PAGES, PHONE, Server, _settle, browser  # noqa: F401  (the fixture)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

DESKTOP_1366 = {"width": 1366, "height": 900}
#: The pages that draw charts on the stale history.
CHART_PAGES = ("this-week", "load", "pain-log", "activities")
STALE_DAYS = 150
UPLOADS = 30

#: Every chart drawn inside its own box: a chart wider than its container is cut at the edge (the pain axis
#: at 1366 px, the current week's bar and the legend at 390 px).  Returns the charts that overflow.
CUT_CHARTS_JS = """() => [...document.querySelectorAll('.vega-embed')].flatMap((embed, i) => {
  const box = embed.getBoundingClientRect();
  const drawn = embed.querySelector('canvas, svg');
  if (!drawn || box.width === 0) return [];
  const r = drawn.getBoundingClientRect();
  const main = document.querySelector('[data-testid=stMain]').getBoundingClientRect();
  const cut = r.right > box.right + 1 || r.right > main.right + 1 || embed.scrollWidth > embed.clientWidth + 1;
  return cut ? [`chart ${i}: drawn ${Math.round(r.width)} px in ${Math.round(box.width)} px`] : [];
})"""

#: Run in the page before Streamlit: every Vega-Lite spec it parses asks vega-embed for the SVG renderer
#: (``usermeta.embedOptions``, which vega-embed reads from the spec), so the legend is a group in the page
#: (``g.role-legend``) whose box the browser measures; Vega lays a chart out the same way on a canvas.
SVG_CHARTS_JS = """(() => {
  const parse = JSON.parse;
  JSON.parse = function (text, reviver) {
    const value = parse.call(this, text, reviver);
    if (value && typeof value === 'object' && typeof value.$schema === 'string' && value.$schema.includes('vega-lite')) {
      const meta = value.usermeta && typeof value.usermeta === 'object' ? value.usermeta : {};
      value.usermeta = {...meta, embedOptions: {...(meta.embedOptions || {}), renderer: 'svg'}};
    }
    return value;
  };
})()"""

#: Every chart's legends, measured: ``{charts, svg, legends, cut}``: how many charts, how many drawn as SVG,
#: how many legends, and each legend that reaches outside its chart's box (the embed and its SVG), the main
#: column or the viewport's width.
LEGENDS_JS = """() => {
  const main = document.querySelector('[data-testid=stMain]').getBoundingClientRect();
  const out = {charts: 0, svg: 0, legends: 0, cut: []};
  document.querySelectorAll('.vega-embed').forEach((embed, i) => {
    const box = embed.getBoundingClientRect();
    if (box.width === 0) return;
    out.charts += 1;
    const svg = embed.querySelector('svg.marks');
    if (!svg) return;
    out.svg += 1;
    const drawn = svg.getBoundingClientRect();
    const left = Math.max(box.left, drawn.left, main.left, 0);
    const right = Math.min(box.right, drawn.right, main.right, document.documentElement.clientWidth);
    svg.querySelectorAll('g.role-legend').forEach(legend => {
      const r = legend.getBoundingClientRect();
      if (r.width === 0 && r.height === 0) return;
      out.legends += 1;
      const title = (legend.querySelector('.role-legend-title text') || {}).textContent || '';
      if (r.left < left - 1 || r.right > right + 1 || r.top < drawn.top - 1 || r.bottom > drawn.bottom + 1) {
        out.cut.push(`chart ${i} legend '${title}': x ${Math.round(r.left)}-${Math.round(r.right)}, y ` +
          `${Math.round(r.top)}-${Math.round(r.bottom)} in x ${Math.round(left)}-${Math.round(right)}, y ` +
          `${Math.round(drawn.top)}-${Math.round(drawn.bottom)}`);
      }
    });
  });
  return out;
}"""

#: Calendar cells whose text breaks inside a word ("1/0", "pa/in") or spills out of the cell.
BROKEN_CELLS_JS = """() => [...document.querySelectorAll('.st-key-lw_calendar [data-testid=stColumn] p')].flatMap(p => {
  const s = getComputedStyle(p);
  const breaks = ['anywhere', 'break-word'].includes(s.overflowWrap) || s.wordBreak === 'break-all';
  return (breaks || p.scrollWidth > p.clientWidth + 1) && p.innerText.trim() ? [p.innerText] : [];
})"""


def _stale_store(path: Path, today: date) -> None:
    """The demo history ending five months ago, and today's pain: 8/10 during a walk (stop running)."""
    from loadwatch.ingest.demo import write_demo
    from loadwatch.ingest.painlog import PainEntry
    from loadwatch.ingest.store import Store

    with Store(path) as store:
        write_demo(store, today=today - timedelta(days=STALE_DAYS))
        store.add_pain(PainEntry(at_local=datetime(today.year, today.month, today.day, 8, 0), score=8,
                                 timing="rest_of_day", location="lower_back", note="sharp when I bent down"))


def _upload_files(folder: Path) -> list[Path]:
    from loadwatch.ingest.synth import SynthRun, fit_bytes

    folder.mkdir()
    out = []
    for i in range(UPLOADS):
        start = datetime(2019, 1, 1, 7, 0, tzinfo=UTC) + timedelta(days=3 * i)
        path = folder / f"old-run-{i:02d}.fit"
        path.write_bytes(fit_bytes(SynthRun(start_utc=start, duration_s=1800, distance_m=5000 + 10 * i, seed=i)))
        out.append(path)
    return out


def test_everyday_walk_through(tmp_path, browser, today):  # noqa: F811  (the fixture)
    from playwright.sync_api import expect

    from loadwatch.ingest.store import Store
    from loadwatch.metrics import fmt

    db = tmp_path / "stale.sqlite3"
    _stale_store(db, today)
    with Store(db) as store:
        before = len(store.activities())
        runs = store.activities()
        last_run = max(runs[runs["sport"] == "running"]["start_utc"]).date()
    server = Server(tmp_path, db, today=today)
    shots = _artifacts()
    try:
        server.wait_healthy()
        page = browser.new_page(viewport=DESKTOP_1366)

        # a stale history: This week runs to today, with today's pain and the stop; one line says how old it is
        page.goto(server.url)
        expect(page.get_by_text("The last 12 weeks")).to_be_visible(timeout=60_000)
        _settle(page, 2500)
        weeks = (today - last_run).days // 7
        expect(page.get_by_text(f"Your last run was on {fmt.day(last_run)}, {weeks} weeks ago")).to_be_visible()
        expect(page.get_by_text("Red: stop running for now").first).to_be_visible()
        assert page.evaluate(CUT_CHARTS_JS) == []
        page.screenshot(path=str(shots / "everyday-stale-this-week-1366.png"), full_page=True)

        # the calendar opens on today's month
        page.goto(f"{server.url}/calendar")
        expect(page.get_by_text(f"{today:%B %Y}").first).to_be_visible(timeout=60_000)

        # an import interrupted by navigation: every file arrives, the sidebar says so on another page
        files = _upload_files(tmp_path / "uploads")
        page.goto(f"{server.url}/import")
        page.locator("input[type=file]").set_input_files([str(p) for p in files])
        go = page.get_by_role("button", name=f"Import {UPLOADS} files")
        expect(go).to_be_enabled(timeout=60_000)
        go.click()
        page.wait_for_timeout(1500)
        page.get_by_role("link", name="This week").click()  # the runner moves on at once
        expect(page.get_by_text(f"Import finished, {UPLOADS} files uploaded: {UPLOADS} imported.").first).to_be_visible(
            timeout=180_000)
        with Store(db) as store:
            assert len(store.activities()) == before + UPLOADS
        page.screenshot(path=str(shots / "everyday-import-finished-sidebar.png"), full_page=True)
        page.get_by_role("link", name="Import").click()
        expect(page.get_by_text("Last import")).to_be_visible(timeout=60_000)
        expect(page.get_by_role("button", name="I have read this")).to_be_visible()
        page.close()

        # every page at 1366x900 and 390 px: no chart cut at the edge, no legend cut inside its chart, no
        # calendar cell broken in a word
        legends = {}
        for label, viewport in (("1366", DESKTOP_1366), ("390", PHONE)):
            page = browser.new_page(viewport=viewport)
            page.add_init_script(SVG_CHARTS_JS)
            for name, path in PAGES:
                page.goto(f"{server.url}/{path}")
                expect(page.locator("h1").first).to_be_visible(timeout=60_000)
                if name in CHART_PAGES:  # drawn, so the checks below measure the charts, not an empty page
                    expect(page.locator(".vega-embed svg.marks").first).to_be_visible(timeout=60_000)
                _settle(page, 2000)
                assert page.evaluate(CUT_CHARTS_JS) == [], f"{name} at {label} px"
                found = page.evaluate(LEGENDS_JS)
                assert found["svg"] == found["charts"], f"{name} at {label} px: charts not drawn as SVG: {found}"
                assert found["cut"] == [], f"{name} at {label} px: {found['cut']}"
                legends[name, label] = found["legends"]
                if name == "calendar":
                    assert page.evaluate(BROKEN_CELLS_JS) == [], f"calendar cells at {label} px"
                body = page.locator("[data-testid=stMain]").inner_text()
                assert "0.000000" not in body and "SCIENCE.md" not in body
                page.screenshot(path=str(shots / f"everyday-{name}-{label}.png"), full_page=True)
            page.close()
        # the check saw legends: the Load page's charts (surfaces, zones) have them at both widths
        assert legends["load", "1366"] > 0 and legends["load", "390"] > 0, legends
    finally:
        server.stop()
