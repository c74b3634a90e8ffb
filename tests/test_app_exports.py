"""Issue 12 on the dashboard: activities left out or damaged are listed and can be corrected; the Import
page offers a re-read when the store was derived by an older loadwatch."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from streamlit.testing.v1 import AppTest

from loadwatch.ingest import synth
from loadwatch.ingest.importer import import_files
from tests.app_helpers import PAGES_DIR, finish_imports, no_exceptions, texts
from tests.helpers import open_store as store  # the store at $LOADWATCH_DB

TIMEOUT = 60
T0 = datetime(2024, 5, 6, 6, 30, tzinfo=UTC)


def page(name: str) -> AppTest:
    return AppTest.from_file(str(PAGES_DIR / f"{name}.py"), default_timeout=TIMEOUT)


def _fill() -> str:
    ok = synth.SynthRun(T0, 1800, 5400.0, seed=1)
    fast = synth.SynthRun(T0 + timedelta(days=1), 1800, 30_000.0, seed=2)
    with store() as s:
        import_files(s, [("ok.fit", synth.fit_bytes(ok)), ("fast.fit", synth.fit_bytes(fast))], workers=0)
        return s.activities().set_index("distance_m").sort_index().iloc[-1]["id"]


def test_activities_page_lists_the_excluded_run_and_confirming_it_counts_it():
    fast_id = _fill()
    at = page("activities").run()
    no_exceptions(at)
    shown = texts(at)
    assert "Left out or damaged" in shown
    left = at.dataframe[1].value
    assert len(left) == 1 and "faster than the world record" in left.iloc[0]["why"]
    assert "Tue 7 May 2024" == left.iloc[0]["date"]
    assert "Left out of your load until you confirm or correct it: 30.0 km at 1:00/km" in shown
    confirm = [c for c in at.checkbox if c.label.startswith("It is right as it is")][0]  # the left-out form
    confirm.check()
    at.button[0].click().run()
    no_exceptions(at)
    with store() as s:
        acts = s.activities().set_index("id")
    assert acts.loc[fast_id, "excluded_reason"] is None and acts.loc[fast_id, "corrected"]
    assert "Left out or damaged" not in texts(at)


def test_import_page_offers_a_reread_of_an_older_store():
    _fill()
    with store() as s, s._tx() as conn:
        conn.execute("UPDATE activities SET rules_version = NULL")
    at = page("import_files").run()
    no_exceptions(at)
    assert "2 activities were read by an older loadwatch" in texts(at)
    [go] = [b for b in at.button if b.label == "Re-read my activities"]
    go.click().run()
    no_exceptions(at)
    assert "Re-read 2 activities" in texts(at)
    with store() as s:
        assert s.needs_rebuild() == 0


@pytest.mark.slow
def test_import_page_names_partial_and_corrected_files():
    from tests.test_exports import glitched_gpx, truncated

    at = page("import_files").run()
    full = synth.fit_bytes(synth.SynthRun(T0, 3600, 10_000.0, seed=3))
    at.file_uploader[0].set_value([
        ("cut.fit", truncated(full, 0.45), "application/octet-stream"),
        ("glitch.gpx", glitched_gpx(synth.SynthRun(T0 + timedelta(days=1), 1800, 5400.0, seed=4), 900),
         "application/gpx+xml"),
    ])
    at.run()
    [go] = [b for b in at.button if b.label.startswith("Import")]
    go.click().run()
    no_exceptions(at)
    finish_imports(at)  # the import runs in the background
    warned = "\n".join(w.value for w in at.warning)
    assert "cut.fit (Mon 6 May 2024, run, " in warned and "partial: cut short after 27 min" in warned
    assert "glitch.gpx (Tue 7 May 2024, run, 5.4 km): a GPS jump of 1,501.1 km was left out" in warned
