"""AppTest for the Shoes & sessions page: the quick-add session form, adding (km and miles), retiring and
choosing the default pair, the gauge against the retirement distance, and the plain words it shows (no
internal codes, no None/nan)."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from loadwatch.metrics.thresholds import NOT_MEDICAL_ADVICE
from tests.app_helpers import PAGES_DIR, build_history, charts, no_exceptions, texts
from tests.conftest import EVERY_WEEKDAY
from tests.helpers import open_store as store  # the store at $LOADWATCH_DB

TIMEOUT = 90


def page() -> AppTest:
    return AppTest.from_file(str(PAGES_DIR / "shoes_sessions.py"), default_timeout=TIMEOUT)


def all_text(at) -> str:
    """Texts plus progress-bar labels and table cells."""
    parts = [texts(at)]
    parts += [str(getattr(e.proto, "text", "")) for e in at.get("progress")]
    for frame in at.dataframe:
        parts.append(frame.value.to_string())
    return "\n".join(parts)


def assert_plain(shown: str) -> None:
    for bad in ("None", "nan", "NaT", "deep_water", "_min", "retire_km", "distance_km"):
        assert bad not in shown, bad


def test_empty_store_explains_and_offers_the_forms():
    at = page().run()
    no_exceptions(at)
    shown = all_text(at)
    assert "No shoes yet" in shown and "No sessions logged yet" in shown
    assert {b.label for b in at.button} >= {"Log session", "Add pair"}
    assert NOT_MEDICAL_ADVICE in shown
    assert_plain(shown)


def test_quick_add_session_is_stored_and_listed(today):
    at = page().run()
    day = today - timedelta(days=1)
    at.date_input(key="session_date").set_value(day)
    at.selectbox(key="session_kind").set_value("deep_water_running")
    at.number_input(key="session_minutes").set_value(40)
    at.selectbox(key="session_rpe").set_value(5)
    at.text_input(key="session_note").input("pool")
    at.button(key="FormSubmitter:session_form-Log session").click().run()
    no_exceptions(at)
    with store() as s:
        frame = s.sessions()
    assert frame[["kind", "minutes", "rpe", "note"]].values.tolist() == [["deep_water_running", 40.0, 5.0, "pool"]]
    assert frame["date"].iloc[0].date() == day
    shown = all_text(at)
    assert f"Logged: deep-water running, 40 min on {day:%a} {day.day} {day:%b %Y}." in shown
    assert "deep-water running" in shown and "40 min" in shown
    assert_plain(shown)
    assert charts(at)  # the minutes-per-week chart
    # delete it again from the page
    at.button(key="session_delete").click().run()
    no_exceptions(at)
    with store() as s:
        assert s.sessions().empty


def _add_pair(at, name, start, retire, default=False):
    at.text_input(key="shoe_name").input(name)
    at.number_input(key="shoe_start").set_value(start)
    at.number_input(key="shoe_retire").set_value(retire)
    if default:
        at.checkbox(key="shoe_default").check()
    at.button(key="FormSubmitter:shoe_add-Add pair").click().run()
    no_exceptions(at)
    return at


def test_add_pairs_in_km_and_miles_gauge_retire_default(history):
    with store() as s:
        s.set_setting("units", "mi")
    at = _add_pair(page().run(), "Road pair", 100.0, 400.0, default=True)
    with store() as s:
        shoe = s.shoes().iloc[0]
    assert shoe["name"] == "Road pair" and shoe["default"]
    assert shoe["start_km"] == pytest.approx(160.934, abs=1e-3)  # entered in miles, kept in km
    assert shoe["retire_km"] == pytest.approx(643.738, abs=1e-3)
    shown = all_text(at)
    assert "Road pair" in shown and "default pair" in shown
    assert "100 mi of 400 mi (25% of the retirement distance you set)" in shown
    assert_plain(shown)

    with store() as s:
        s.set_setting("units", "km")
    at = _add_pair(page().run(), "Trail pair", 0.0, 0.0)
    shown = all_text(at)
    assert "0 km run · no retirement distance set" in shown and "no runs yet" in shown
    # a pair's name is taken: a plain error, nothing stored twice
    at = _add_pair(at, "trail pair", 0.0, 0.0)
    assert any("already a shoe named" in e.value for e in at.error)
    with store() as s:
        assert len(s.shoes()) == 2

    at.selectbox(key="shoe_pick").set_value("Trail pair")
    at.button(key="shoe_make_default").click().run()
    no_exceptions(at)
    with store() as s:
        assert s.shoes().set_index("name")["default"].to_dict() == {"Road pair": False, "Trail pair": True}
    at.selectbox(key="shoe_pick").set_value("Road pair")
    at.button(key="shoe_retire_button").click().run()
    no_exceptions(at)
    shown = all_text(at)
    assert "Retired Road pair: it takes no new runs." in shown and "retired " in shown
    assert_plain(shown)


def test_runs_in_a_pair_show_distance_dates_and_weekly_chart(history):
    with store() as s:
        s.add_shoe("Daily", retire_km=500)
        acts = s.activities()
        for rid in acts["id"].iloc[:5]:
            s.set_activity_shoe(rid, "Daily")
        km = acts["distance_m"].iloc[:5].sum() / 1000
        first, last = acts["start_utc"].iloc[0], acts["start_utc"].iloc[4]
    at = page().run()
    no_exceptions(at)
    shown = all_text(at)
    assert "5 runs, " in shown
    assert f"{first:%a} {first.day} {first:%b}" in shown and f"{last:%a} {last.day} {last:%b %Y}" in shown
    assert f"of 500 km ({100 * km / 500:.0f}% of the retirement distance you set)" in shown
    assert "Distance per week by pair (km)" in shown
    assert len(charts(at)) >= 1
    assert_plain(shown)


@pytest.mark.parametrize("today", EVERY_WEEKDAY, indirect=True)
def test_plan_on_this_week_names_strength_work(today):
    """30 min of core work in each of the last weeks reads as "about 30 min a week" whatever the weekday
    (on a Sunday the week that ends today is complete: it was read as a week without core work)."""
    this_monday = today - timedelta(days=today.weekday())
    build_history(Path(os.environ["LOADWATCH_DB"]))
    with store() as s:
        for w in range(0, 5):
            s.add_session(this_monday - timedelta(weeks=w), "core", 30)
    at = AppTest.from_file(str(PAGES_DIR / "this_week.py"), default_timeout=TIMEOUT).run()
    no_exceptions(at)
    shown = texts(at)
    assert "Keep up your strength and core work (about 30 min a week" in shown
