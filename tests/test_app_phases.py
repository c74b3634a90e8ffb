"""This week shows every phase of a back-pain episode (issue 11) in plain words, in km and in miles.

Each case writes a small store relative to today (runs through the real store, pain entries,
assessments), renders the This week page with Streamlit's AppTest and checks the phase's words, its
numbers against the plan of ``report --json`` in the runner's units, and that no internal code, ``None``
or ``nan`` reaches the page.  Under stop and red flags no distance figure appears in the plan at all.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from loadwatch.ingest.canonical import Activity, Summary, empty_samples
from loadwatch.ingest.painlog import PainEntry
from loadwatch.ingest.store import Store
from loadwatch.metrics import fmt
from loadwatch.metrics.report import build_report
from tests.app_helpers import PAGES_DIR, no_exceptions, texts
from tests.conftest import DEFAULT_TODAY

#: Every test here runs with the clock frozen on TODAY (conftest's ``today`` fixture).
pytestmark = pytest.mark.usefixtures("today")
TODAY = DEFAULT_TODAY
DIST = re.compile(r"\d+(?:\.\d+)?\s?(?:km|mi)\b")
CODES = ("return_to_run", "see_clinician", "rest_of_day", "next_morning", "pain_during_run", "session_spike",
         "None", "NaN")


def day(n: int) -> dt.date:
    """``n`` days before today."""
    return TODAY - dt.timedelta(days=n)


def add_runs(store: Store, days_km: list[tuple[int, float]]) -> None:
    hist = np.zeros(256)
    for i, (n, km) in enumerate(days_km):
        d = day(n)
        t0 = pd.Timestamp(dt.datetime(d.year, d.month, d.day, 7, 0), tz="UTC")
        s = Summary(id=f"run{i:03d}-{n}", source="test", format="fit", sport="running", sub_sport="street",
                    start_utc=t0, utc_offset_s=0.0, elapsed_s=km * 360.0, moving_s=km * 360.0,
                    distance_m=km * 1000.0, hr_seconds_by_bpm=hist.copy())
        store.add_activity(Activity(s, empty_samples()), f"file {i} {n}".encode(), f"run{i}.fit")


def base_weeks(until: int, weeks: int = 6) -> list[tuple[int, float]]:
    """Three runs a week (6, 6, 10 km: 22 km, longest 10 km) for ``weeks`` weeks ending ``until`` days ago."""
    out = []
    for w in range(weeks):
        for off, km in ((0, 10.0), (3, 6.0), (5, 6.0)):
            out.append((until + 7 * w + off, km))
    return out


def pain(store: Store, n: int, score: int, timing: str = "after", *symptoms: str, hour: int = 19) -> None:
    d = day(n)
    store.add_pain(PainEntry(at_local=dt.datetime(d.year, d.month, d.day, hour), score=score, timing=timing,
                             symptoms=tuple(symptoms)))


def build(phase: str, store: Store) -> None:
    store.set_setting("timezone", "UTC")
    if phase == "normal":
        add_runs(store, base_weeks(1))
    elif phase == "hold":
        add_runs(store, base_weeks(2))
        pain(store, 1, 4)
    elif phase == "reduce":
        add_runs(store, base_weeks(2))
        pain(store, 1, 5, "next_morning", hour=7)
    elif phase == "stop":
        add_runs(store, base_weeks(3))
        pain(store, 2, 7, "during")
    elif phase == "return_to_run":
        add_runs(store, base_weeks(21))
        pain(store, 20, 7, "during")
        pain(store, 18, 1, "next_morning", hour=7)
        pain(store, 17, 2, "next_morning", hour=7)  # return to running, step 1
        add_runs(store, [(15, 2.0), (13, 2.0), (11, 2.0), (8, 3.0), (6, 3.0)])
        pain(store, 10, 1, "next_morning", hour=7)  # step 2 (7 days after step 1 began)
    elif phase == "rebuild":
        add_runs(store, base_weeks(45))  # nothing for 45 days
    elif phase == "see_clinician":
        add_runs(store, base_weeks(31))
        pain(store, 30, 3, "after", "night_pain")
    elif phase == "emergency":
        add_runs(store, base_weeks(21))
        pain(store, 20, 2, "rest_of_day", "saddle_numbness")


EXPECT = {
    "normal": ("Normal training", None),
    "hold": (f"Hold steady since {fmt.day(day(1))}", "Back to normal training after 7 days without pain above 3"),
    "reduce": (f"Cut back since {fmt.day(day(1))}", "with pain at 3 or less that settles by the morning"),
    "stop": (f"Stop running for now since {fmt.day(day(2))}", "two check-ins on different days"),
    "return_to_run": (f"Return to running since {fmt.day(day(17))}. Step 2 of 4: up to",
                      "Next step after 7 days with two runs or more inside these limits and pain at 3 or less"),
    "rebuild": (f"Rebuild after a break since {fmt.day(day(14))}. Step 1 of 3: up to",
                "Step 1 starts with your first run back"),
    "see_clinician": (f"See a clinician since {fmt.day(day(30))}", "once you record that a clinician has seen you"),
    "emergency": (f"Urgent care now since {fmt.day(day(20))}", "once you record that a clinician has seen you"),
}
ASKED = {"hold", "reduce", "stop", "return_to_run"}
LIGHT = {
    "normal": "**Green: carry on, within the caps below**",
    "hold": "**Amber: hold your load this week**",
    "reduce": "**Red: cut back this week**",
    "stop": "**Red: stop running for now, until your back settles**",
    "return_to_run": "**Amber: returning to running, step by step**",
    "rebuild": "**Amber: rebuilding after a break, step by step**",
    "see_clinician": "**See a clinician: no training plan until you have**",
    "emergency": "**Get medical help now**",
}


@pytest.mark.parametrize("units", ["km", pytest.param("mi", marks=pytest.mark.slow)])  # the fast loop: km
@pytest.mark.parametrize("phase", list(EXPECT))
def test_this_week_shows_the_phase_its_step_and_what_moves_it_on(phase, units):
    path = Path(os.environ["LOADWATCH_DB"])
    with Store(path) as store:
        build(phase, store)
        store.set_setting("units", units)
        rep = build_report(store.activities(), store.hr_histograms(), store.pain(), store.rules(), store.settings(),
                           as_of=TODAY, assessments=store.assessments())
    plan = rep["plan"]
    assert plan["phase"] == phase, plan
    at = AppTest.from_file(str(PAGES_DIR / "this_week.py"), default_timeout=90).run()
    no_exceptions(at)
    shown = texts(at)
    words, moves_on = EXPECT[phase]
    assert words in shown, shown
    if moves_on:
        assert moves_on in shown
    assert ("How does your back feel today?" in shown) == (phase in ASKED)
    for code in CODES:
        assert code not in shown, code
    assert "nan" not in shown.lower().split()
    # every distance on the page is in the runner's units
    assert {m.split()[-1] if " " in m else m[-2:] for m in DIST.findall(shown)} <= {units}
    phase_text = [e.value for e in (*at.success, *at.warning, *at.error, *at.info) if words in e.value][0]
    # the traffic light says what the phase asks, never another instruction ("cut back" to a stopped runner)
    light = {e.value for e in (*at.success, *at.warning, *at.error, *at.info) if e.value.startswith("**")}
    assert LIGHT[phase] in light, light
    if phase in ("stop", "see_clinician", "emergency"):
        # no training number: not in the phase box, not in the plan, nowhere on the page but the history
        assert plan["max_week_km"] is None and plan["max_run_km"] is None
        assert not DIST.findall(phase_text)
        plan_area = shown.split("Your next 7 days")[1].split("Alerts")[0] if "Your next 7 days" in shown else ""
        # the headline numbers are history (this week so far, the last run), which a red flag keeps
        history = tuple(f"{m.label}: " for m in at.metric)
        assert {m.label for m in at.metric} <= {"Distance this week so far", "Distance this week", "Runs this week",
                                                "Runs this week so far", "Longest run this week", "Last run"}
        plan_area = "\n".join(line for line in plan_area.splitlines() if not line.startswith(history))
        assert not DIST.findall(plan_area)
        assert "longest run ≤" not in shown and "at most **" not in shown
        if phase != "stop":
            assert "I have seen a clinician" in shown or "pain assessed" in shown
        else:
            assert "cycling" in shown and "strength" in shown
    elif phase in ("return_to_run", "rebuild"):
        week = fmt.distance(plan["max_week_km"], units)
        run = fmt.distance(plan["max_run_km"], units)
        assert f"up to {week} this week, longest {run}." in phase_text
        # the step's numbers: a step of the pre-episode (pre-break) 22 km week and 10 km longest run
        frac_week, frac_run = (0.50, 0.50)
        assert 0.95 * frac_week * 22.0 - 0.2 <= plan["max_week_km"] <= frac_week * 22.0 + 1e-6
        assert plan["max_run_km"] <= frac_run * 10.0 + 1e-6
    else:
        assert plan["max_run_km"] is not None
        assert f"longest run ≤ {fmt.distance(plan['max_run_km'], units)}" in shown


def test_i_have_seen_a_clinician_on_the_pain_log_closes_the_red_flag():
    path = Path(os.environ["LOADWATCH_DB"])
    with Store(path) as store:
        build("see_clinician", store)
    at = AppTest.from_file(str(PAGES_DIR / "pain_log.py"), default_timeout=90).run()
    no_exceptions(at)
    assert "I have seen a clinician" in [s.value for s in at.subheader]
    at.text_input(key="pain_seen_note_0").input("physio, no red flags")
    at.button(key="pain_seen_save_0").click().run()
    no_exceptions(at)
    shown = texts(at)
    assert f"Saved: a clinician saw you on {fmt.day(TODAY)}." in shown
    assert f"Seen by a clinician:** {fmt.day(TODAY)} (physio, no red flags)" in shown
    with Store(path) as store:
        seen = store.assessments()
    assert seen["date"].tolist() == [TODAY] and seen["note"].tolist() == ["physio, no red flags"]
    week = AppTest.from_file(str(PAGES_DIR / "this_week.py"), default_timeout=90).run()
    no_exceptions(week)
    assert f"Return to running since {fmt.day(TODAY)}. Step 1 of 4: up to" in texts(week)


def test_load_page_draws_the_phase_ribbon_on_the_weekly_chart():
    path = Path(os.environ["LOADWATCH_DB"])
    with Store(path) as store:
        build("return_to_run", store)
    at = AppTest.from_file(str(PAGES_DIR / "load.py"), default_timeout=90).run()
    no_exceptions(at)
    proto = at.get("vega_lite_chart")[0].proto
    assert '"y2": {"value": 10}' in proto.spec  # the phase ribbon, in the weekly chart's own layer
    data = " ".join(str(d) for d in proto.datasets) + proto.spec
    for words in ("stop running for now", "return to running", "step 2 of 4", "normal training"):
        assert words in data, words
    assert "return_to_run" not in data  # phases are labelled in words


def test_phase_band_clips_segments_to_the_range_and_names_phases_in_words():
    from loadwatch.dashboard import charts

    segs = [{"start": "2025-01-01", "end": "2025-02-10", "phase": "normal", "step": None, "steps": None,
             "reason": "no pain episode open"},
            {"start": "2025-02-11", "end": "2025-02-20", "phase": "return_to_run", "step": 1, "steps": 4,
             "reason": "walking is pain-free again"}]
    chart = charts.phase_band(segs, dt.date(2025, 2, 1), dt.date(2025, 2, 15))
    data = chart.data
    assert list(data["phase"]) == ["normal training", "return to running"]
    assert data["from"].min() == pd.Timestamp("2025-02-01") and data["to"].max() == pd.Timestamp("2025-02-16")
    assert list(data["step"]) == [fmt.MISSING, "step 1 of 4"]
    assert charts.phase_band([], dt.date(2025, 2, 1), dt.date(2025, 2, 15)).data.empty


def test_the_assessment_form_keeps_the_clinicians_decision_in_miles_and_the_plan_follows_it():
    """Issue 20: the dashboard's assessment form takes the time of the visit and the clinician's decision (a
    return step, their own limits in the runner's units, the most pain during a run); This week then says
    the plan was set by the clinician."""
    path = Path(os.environ["LOADWATCH_DB"])
    with Store(path) as store:
        build("see_clinician", store)
        store.set_setting("units", "mi")
    at = AppTest.from_file(str(PAGES_DIR / "pain_log.py"), default_timeout=90).run()
    no_exceptions(at)
    shown = texts(at)
    assert "Their limit for a week (miles; 0: none)" in [n.label for n in at.number_input]
    at.time_input(key="pain_seen_time_0").set_value(dt.time(16, 0))
    at.radio(key="pain_seen_decision_0").set_value("step").run()
    at.selectbox(key="pain_seen_step_0").set_value(3)
    at.number_input(key="pain_seen_week_0").set_value(12.0)
    at.number_input(key="pain_seen_run_0").set_value(5.0)
    at.selectbox(key="pain_seen_pain_0").set_value(4)
    at.button(key="pain_seen_save_0").click().run()
    no_exceptions(at)
    shown = texts(at)
    assert f"Saved: a clinician saw you on {fmt.day(TODAY)} at 16:00." in shown
    with Store(path) as store:
        seen = store.assessments().iloc[0]
    assert (seen["time"], seen["return_step"], seen["max_pain"], bool(seen["cleared"])) == ("16:00", 3, 4, False)
    assert seen["max_week_km"] == pytest.approx(12 * 1.609344) and seen["max_run_km"] == pytest.approx(5 * 1.609344)
    week = AppTest.from_file(str(PAGES_DIR / "this_week.py"), default_timeout=90).run()
    no_exceptions(week)
    page = texts(week)
    assert f"Set by your clinician on {fmt.day(TODAY)}" in page
    assert "Step 3 of 4" in page and " km" not in page.split("Report for your physio")[0].replace("km)", "")
    for code in CODES:
        assert code not in page, code
