"""Issue 24 on This week (AppTest): the weekly OSTRC-O2 questionnaire filled in and saved, in km and in
miles, and a back programme started from the page, with its week and next sessions in plain words."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import time_machine
from streamlit.testing.v1 import AppTest

from loadwatch.ingest.store import Store
from tests.app_helpers import PAGES_DIR, build_history, no_exceptions, texts

TIMEOUT = 90
TODAY = date(2026, 12, 2)  # a Wednesday; its week starts on Monday 30 Nov 2026


@pytest.fixture
def clock():
    with time_machine.travel(datetime(TODAY.year, TODAY.month, TODAY.day, 10, 0, tzinfo=UTC), tick=True):
        yield


def page() -> AppTest:
    return AppTest.from_file(str(PAGES_DIR / "this_week.py"), default_timeout=TIMEOUT)


def assert_plain(shown: str) -> None:
    for bad in ("None", "nan", "NaT", "ostrc_", "_min", "runwalk", "walkback", "session_min"):
        assert bad not in shown, bad


@pytest.mark.parametrize("units", ["km", "mi"])
@pytest.mark.slow
def test_the_weekly_questionnaire_is_filled_once_a_week(clock, units):
    build_history(Path(os.environ["LOADWATCH_DB"]))
    with Store(Path(os.environ["LOADWATCH_DB"])) as s:
        s.set_setting("timezone", "UTC")
        s.set_setting("units", units)
    at = page().run()
    no_exceptions(at)
    shown = texts(at)
    assert "Your back this week" in shown and "week of Mon 30 Nov 2026" in shown
    assert "Have you had any difficulties taking part in running because of your back?" in [r.label for r in at.radio]
    at.radio(key="ostrc_participation").set_value(2)
    at.radio(key="ostrc_volume").set_value(2)
    at.radio(key="ostrc_performance").set_value(1)
    at.radio(key="ostrc_pain").set_value(1)
    next(b for b in at.button if b.label == "Save this week's answers").click()
    at.run()
    no_exceptions(at)
    with Store(Path(os.environ["LOADWATCH_DB"])) as s:
        weeks = s.ostrc()
    assert list(weeks["week_start"]) == [date(2026, 11, 30)]
    assert weeks.iloc[0][["participation", "volume", "performance", "pain"]].tolist() == [2, 2, 1, 1]
    shown = texts(at)
    assert ("Week of Mon 30 Nov 2026: severity 44 of 100, a substantial problem (a moderate reduction in "
            "training volume).") in shown
    assert not [r for r in at.radio if r.key and r.key.startswith("ostrc_")]  # once a week: the form is gone
    # the page's distances stay in the runner's units
    distance = next(m for m in at.metric if m.label.startswith("Distance this week")).value
    assert distance.endswith(f" {units}"), distance
    other = "km" if units == "mi" else "mi"
    assert not any(m.value.endswith(f" {other}") for m in at.metric), [m.value for m in at.metric]
    assert_plain(shown)


@pytest.mark.slow
def test_a_programme_started_on_this_week_shows_its_week_and_next_sessions(clock):
    build_history(Path(os.environ["LOADWATCH_DB"]))
    at = page().run()
    no_exceptions(at)
    at.selectbox[0].set_value("runwalk")
    next(b for b in at.button if b.label == "Start the programme").click()
    at.run()
    no_exceptions(at)
    shown = texts(at)
    assert ("ASTEROID run-walk programme, week 1 of 12: 3 sessions, each 30 minutes of run-walk: run 1 min, "
            "walk 2 min, repeated; 0 done so far this week.") in shown
    assert "**Wed 2 Dec 2026**: 30 minutes of run-walk" in shown and "**Fri 4 Dec 2026**" in shown
    with Store(Path(os.environ["LOADWATCH_DB"])) as s:
        assert list(s.programmes()["kind"]) == ["runwalk"]
    assert_plain(shown)
    # stopped from the page: today is its last day, and the start form is back
    next(b for b in at.button if b.label == "Stop the programme").click()
    at.run()
    no_exceptions(at)
    shown = texts(at)
    assert "Your ASTEROID run-walk programme stopped on Wed 2 Dec 2026 in week 1 of 12." in shown
    assert any(b.label == "Start the programme" for b in at.button)
    with Store(Path(os.environ["LOADWATCH_DB"])) as s:
        assert list(s.programmes()["stop_date"]) == [TODAY]
    assert_plain(shown)


@pytest.mark.parametrize("units", ["km", "mi"])
def test_severity_is_a_line_beside_the_weekly_distance(units):
    from loadwatch.dashboard.app.outcomes_ui import severity_chart

    report = {"weeks": [{"week_start": "2026-11-23", "distance_km": 16.09344},
                        {"week_start": "2026-11-30", "distance_km": 8.0}],
              "outcomes": {"ostrc_weeks": [
                  {"week_start": "2026-11-23", "severity": 44, "substantial": True},
                  {"week_start": "2026-11-30", "severity": 16, "substantial": False}]}}
    spec = severity_chart(report, units).to_dict()
    layers = spec["layer"]
    bars = layers[0]
    values = spec["datasets"][bars["data"]["name"]]
    assert [round(v["distance"], 2) for v in values] == ([10.0, 4.97] if units == "mi" else [16.09, 8.0])
    assert bars["encoding"]["y"]["title"] == f"weekly running distance ({units})"
    sev = next(d for d in spec["datasets"].values() if d and "severity" in d[0])
    assert [d["severity"] for d in sev] == [44, 16]
    # under a red flag: the severity alone, no weekly distance
    care = severity_chart(report, units, care=True).to_dict()
    assert "distance" not in str(care["datasets"])
    assert severity_chart({"outcomes": {"ostrc_weeks": []}}, units) is None


@pytest.mark.slow
def test_this_week_draws_the_severity_chart_once_weeks_are_answered(clock):
    build_history(Path(os.environ["LOADWATCH_DB"]))
    with Store(Path(os.environ["LOADWATCH_DB"])) as s:
        s.set_setting("timezone", "UTC")
        s.put_ostrc(date(2026, 11, 23), participation=2, volume=2, performance=1, pain=1)
        s.put_ostrc(date(2026, 12, 1), participation=1, volume=0, performance=0, pain=1)
    at = page().run()
    no_exceptions(at)
    shown = texts(at)
    assert "Week of Mon 30 Nov 2026: severity 16 of 100, a back problem, not substantial." in shown
    assert "Line: your weekly OSTRC severity" in shown
    specs = [str(c.proto.spec) for c in at.get("vega_lite_chart")]
    assert any("OSTRC severity (0-100)" in spec for spec in specs)
