"""Invariants of the phase timeline (SCIENCE.md §10-§13) over generated histories: whatever is logged.

Hypothesis draws runs, pain check-ins (any score, timing and, now and then, a red-flag symptom) and clinician
assessments over ten weeks and calls :func:`loadwatch.metrics.episodes.phase_timeline` directly (pure, fast).
Bounded and derandomised, so a failure is the same failure on every machine.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta

import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from loadwatch.ingest.painlog import TIMINGS
from loadwatch.metrics import thresholds as th
from loadwatch.metrics.episodes import PHASES, phase_segments, phase_timeline

START = date(2025, 1, 6)
SPAN_DAYS = 70
END = START + timedelta(days=SPAN_DAYS + 10)
ESCALATIONS = ("see_clinician", "emergency")
NO_NUMBERS = ("stop", "see_clinician", "emergency")

runs_st = st.lists(st.tuples(st.integers(0, SPAN_DAYS), st.floats(1.0, 25.0, allow_nan=False).map(
    lambda km: round(km, 1))), max_size=30)
symptom_st = st.sampled_from([(), (), (), (), (), (), (), (), ("saddle_numbness",), ("both_legs",),
                              ("radiating_below_knee",), ("fever_unwell",), ("night_pain", "bladder_bowel")])
#: Scores as runners log them: mostly green, often amber, now and then red.
score_st = st.sampled_from([0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 5, 5, 6, 7, 8, 10])
pain_st = st.lists(st.tuples(st.integers(0, SPAN_DAYS), st.integers(6, 21), score_st,
                             st.sampled_from(TIMINGS), symptom_st), max_size=40)
assess_st = st.lists(st.integers(0, SPAN_DAYS + 5), max_size=3, unique=True)

PROPERTY = settings(max_examples=80, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def frames(runs, pain, assessed):
    run_df = pd.DataFrame({"date": [START + timedelta(days=d) for d, _ in runs],
                           "distance_km": [km for _, km in runs]},
                          index=pd.Index([f"run{i}" for i in range(len(runs))], name="id"))
    pain_df = pd.DataFrame([{"id": i, "at_local": pd.Timestamp(datetime.combine(START + timedelta(days=d),
                                                                                 datetime.min.time())
                                                                + timedelta(hours=h)),
                             "score": s, "timing": t, "location": "lower_back", "activity_id": None,
                             "symptoms": sy, "note": "", "deleted": False}
                            for i, (d, h, s, t, sy) in enumerate(pain, start=1)],
                           columns=["id", "at_local", "score", "timing", "location", "activity_id", "symptoms",
                                    "note", "deleted"])
    assess_df = pd.DataFrame({"id": list(range(1, len(assessed) + 1)),
                              "date": [(START + timedelta(days=d)).isoformat() for d in assessed],
                              "note": [""] * len(assessed)})
    return run_df, pain_df, assess_df


def timeline(runs, pain, assessed) -> pd.DataFrame:
    run_df, pain_df, assess_df = frames(runs, pain, assessed)
    return phase_timeline(run_df, pain_df, assess_df, end=END, start=START)


def finite(x) -> bool:
    return x is not None and not (isinstance(x, float) and math.isnan(x))


@PROPERTY
@given(runs_st, pain_st, assess_st)
def test_every_day_has_exactly_one_phase(runs, pain, assessed):
    tl = timeline(runs, pain, assessed)
    days = list(tl.index)
    assert days == [START + timedelta(days=k) for k in range((END - START).days + 1)]
    assert tl.index.is_unique
    assert set(tl["phase"]) <= set(PHASES)
    segs = phase_segments(tl)
    assert sum((s["end"] - s["start"]).days + 1 for s in segs) == len(tl)
    assert all(a["end"] + timedelta(days=1) == b["start"] for a, b in zip(segs, segs[1:], strict=False))
    for day, row in tl.iterrows():
        stepped = row["phase"] in ("return_to_run", "rebuild")
        assert finite(row["step"]) == stepped, (day, row.to_dict())


@PROPERTY
@given(runs_st, pain_st, assess_st)
def test_a_red_flag_is_never_followed_by_a_training_number_before_an_assessment(runs, pain, assessed):
    """Section 11 (revised): a red flag stays until an assessment after it (one without a time is the end of
    its day, so it closes the flags logged that day); the symptom the clinician saw, logged again less than
    2 points higher, is known and does not reopen; an emergency symptom always does."""
    tl = timeline(runs, pain, assessed)
    entries = sorted(((START + timedelta(days=d), h, s, sy) for d, h, s, _t, sy in pain), key=lambda e: (e[0], e[1]))
    visits = sorted(START + timedelta(days=d) for d in assessed)
    events = [(d, h, 0, s, sy) for d, h, s, sy in entries] + [(d, 24, 1, None, None) for d in visits]
    events.sort(key=lambda e: (e[0], e[1], e[2]))
    known: dict = {}
    seen_since_visit: list = []
    level = None  # None, "see_clinician" or "emergency": what stands after each event
    state: dict = {}
    for d, _h, kind, score, symptoms in events:
        if kind == 1:
            for sc, sy in seen_since_visit:
                for x in sy:
                    if x in th.URGENT_SYMPTOMS:
                        known[x] = max(known.get(x, 0), sc)
            if level:
                event("red flag closed by an assessment")
            level, seen_since_visit = None, []
        else:
            emergency = bool(set(symptoms) & set(th.EMERGENCY_SYMPTOMS))
            urgent = [x for x in symptoms if x in th.URGENT_SYMPTOMS]
            reopens = emergency or (urgent and not all(x in known and score < known[x] + th.REOPEN_MARGIN
                                                       for x in urgent))
            if reopens:
                seen_since_visit.append((score, symptoms))
                level = "emergency" if emergency or level == "emergency" else "see_clinician"
            elif urgent:
                event("an assessed symptom logged again")
        state[d] = level
    standing = None
    for day, row in tl.iterrows():
        standing = state.get(day, standing)
        if standing:
            assert row["phase"] == standing, (day, row.to_dict())
            assert not finite(row["max_week_km"]) and not finite(row["max_run_km"]), (day, row.to_dict())
        else:
            assert row["phase"] not in ESCALATIONS, (day, row.to_dict())


@PROPERTY
@given(runs_st, pain_st, assess_st)
def test_no_training_number_in_stop_or_escalations_and_never_normal_straight_after_one(runs, pain, assessed):
    tl = timeline(runs, pain, assessed)
    pain_days = {START + timedelta(days=d) for d, *_ in pain}
    prev = None
    for day, row in tl.iterrows():
        if row["phase"] in NO_NUMBERS:
            assert not finite(row["max_week_km"]) and not finite(row["max_run_km"]), (day, row.to_dict())
        if prev is not None and prev["phase"] in ESCALATIONS and row["phase"] not in ESCALATIONS:
            # only an assessment closes an escalation, and it leads to a return, never straight to normal
            assert day in {START + timedelta(days=d) for d in assessed}, (day, row.to_dict())
            assert row["phase"] != "normal", (day, row.to_dict())
            event(f"escalation closed into {row['phase']}")
            if day not in pain_days:
                assert row["phase"] == "return_to_run", (day, row.to_dict())
        visit_days = {START + timedelta(days=d) for d in assessed}
        if prev is not None and prev["phase"] == "stop" and day not in pain_days and \
                day not in visit_days and day - timedelta(days=1) not in visit_days:
            # no check-in and no assessment (which returns the runner the next day): no time-out to green
            assert row["phase"] == "stop", (day, row.to_dict())
        prev = row


@PROPERTY
@given(runs_st, pain_st, assess_st)
def test_caps_never_rise_while_pain_is_above_3(runs, pain, assessed):
    tl = timeline(runs, pain, assessed)
    by_day: dict[date, int] = {}
    for d, _h, s, _t, _sy in pain:
        day = START + timedelta(days=d)
        by_day[day] = max(s, by_day.get(day, 0))
    latest = None  # (day, highest score) of the most recent check-in
    prev = None
    for day, row in tl.iterrows():
        if day in by_day:
            latest = (day, by_day[day])
        in_pain = latest is not None and latest[1] > th.PAIN_GREEN_MAX and (day - latest[0]).days < 7
        if prev is not None and in_pain:
            for key in ("max_week_km", "max_run_km"):
                if finite(prev[key]) and finite(row[key]):
                    event(f"caps compared in pain ({row['phase']})")
                    assert row[key] <= prev[key] + 1e-9, (day, key, prev[key], row[key], latest)
        prev = row


# --- the same invariants on every face: the report, the plan and the command line's text -------------------

FACE_PROPERTY = settings(max_examples=20, deadline=None, derandomize=True, database=None,
                         suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
red_flag_st = st.tuples(st.integers(20, SPAN_DAYS - 10), st.integers(0, 10),
                        st.sampled_from([("saddle_numbness",), ("both_legs",), ("radiating_below_knee",),
                                         ("weight_loss",), ("bladder_bowel", "night_pain")]))


def report_for(runs, pain, assessed, as_of: date) -> dict:
    from loadwatch.ingest.settings import Settings
    from loadwatch.metrics.report import build_report
    from tests.test_metrics_helpers import activities

    acts = activities([{"start_utc": pd.Timestamp(START + timedelta(days=d)) + pd.Timedelta(hours=7), "km": km}
                       for d, km in runs])
    _, pain_df, assess_df = frames(runs, pain, assessed)
    return build_report(acts, None, pain_df, [], Settings(timezone="UTC"), as_of=as_of, assessments=assess_df)


@FACE_PROPERTY
@given(runs_st, pain_st, red_flag_st, st.lists(st.integers(0, 12), min_size=1, max_size=3), st.data())
def test_no_face_shows_a_training_number_between_a_red_flag_and_an_assessment(runs, pain, flag, later, data):
    from loadwatch.dashboard.cli.cmd_pain import format_alerts
    from loadwatch.dashboard.cli.cmd_report import format_report
    from tests.scenario_helpers import numbers_in

    flag_day, score, symptoms = flag
    pain = [*pain, (flag_day, 12, score, "rest_of_day", symptoms)]
    assess_after = data.draw(st.lists(st.integers(flag_day + 1, SPAN_DAYS + 5), max_size=2, unique=True))
    before = data.draw(st.lists(st.integers(0, flag_day - 1), max_size=1))  # an older visit changes nothing
    assessed = before + assess_after
    closes = min(assess_after, default=SPAN_DAYS + 20)
    for k in sorted(set(later)):
        if flag_day + k >= closes:
            continue
        d = START + timedelta(days=flag_day + k)
        rep = report_for(runs, pain, assessed, d)
        plan = rep["plan"]
        assert plan["phase"] in ESCALATIONS, (d, plan)
        assert plan["max_week_km"] is None and plan["max_run_km"] is None, (d, plan)
        assert numbers_in(format_alerts(rep)) == [], format_alerts(rep)
        shown = [line for line in format_report(rep).splitlines()
                 if numbers_in(line) and not (line.startswith("Latest run") and "afe" not in line)]
        assert shown == [], shown


@pytest.mark.slow
@FACE_PROPERTY
@given(runs_st, pain_st, assess_st, st.integers(14, SPAN_DAYS), st.integers(0, 5), st.sampled_from([4, 5, 6, 8]))
def test_the_plans_caps_never_rise_from_one_day_to_the_next_while_pain_is_above_3(runs, pain, assessed, k, ago,
                                                                                  score):
    base = [(d, 8.0) for d in range(0, SPAN_DAYS, 2)]  # a runner who runs, so the plan has numbers to give
    pain = [e for e in pain if e[0] <= k - ago - 1] + [(k - ago, 19, score, "after", ())]
    d = START + timedelta(days=k)
    today, yesterday = (report_for(base + runs, pain, assessed, x)["plan"] for x in (d, d - timedelta(days=1)))
    for key in ("max_week_km", "max_run_km"):
        if today[key] is not None and yesterday[key] is not None:
            event(f"plan caps compared in pain ({today['phase']})")
            assert today[key] <= yesterday[key] + 1e-9, (d, key, yesterday, today)
