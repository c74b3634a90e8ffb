"""Sessions and shoes in the numbers: strength and cross-training minutes in the daily/weekly tables and
the report, the dedup of a logged session against an imported one, running load untouched (Hypothesis),
the plan's replacement minutes and strength advice, shoe distances."""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loadwatch.ingest.sessions import SESSION_KINDS
from loadwatch.ingest.settings import Settings
from loadwatch.metrics import training_sessions as sess
from loadwatch.metrics.daily import daily_series
from loadwatch.metrics.report import build_report
from loadwatch.metrics.rules import RULE_METRICS, evaluate_rules
from loadwatch.metrics.shoe_distance import shoe_km_at_run, shoe_summary, weekly_km_by_shoe
from loadwatch.metrics.weekly import weekly_table
from tests.test_detector import make_pain
from tests.test_metrics_helpers import activities
from tests.test_plan import history, plan_for

UTC = Settings(timezone="UTC")


def logged(rows: list[tuple]) -> pd.DataFrame:
    """rows: (date, kind, minutes) -> the store's sessions frame."""
    return pd.DataFrame({
        "id": np.arange(1, len(rows) + 1, dtype="int64"),
        "date": pd.to_datetime([r[0] for r in rows]).astype("datetime64[ns]"),
        "kind": [r[1] for r in rows], "minutes": [float(r[2]) for r in rows],
        "rpe": np.nan, "note": "",
    })


def test_weekly_strength_and_cross_training_minutes():
    acts = activities([
        {"start_utc": "2024-01-01 08:00", "km": 10},
        {"start_utc": "2024-01-03 18:00", "km": 0, "minutes": 60, "sport": "cycling", "sub_sport": "road"},
        {"start_utc": "2024-01-04 18:00", "km": 0, "minutes": 40, "sport": "other", "sub_sport": "strength_training"},
        {"start_utc": "2024-01-08 08:00", "km": 12},
    ])
    sessions = logged([("2024-01-02", "core", 15), ("2024-01-02", "pilates", 45), ("2024-01-05", "swimming", 30),
                       ("2024-01-09", "deep_water_running", 25), ("2024-01-10", "yoga", 20)])
    weekly = weekly_table(daily_series(acts, None, UTC, sessions=sessions))
    assert weekly["strength_min"].tolist() == [15 + 45 + 40, 20]
    assert weekly["cross_training_min"].tolist() == [60 + 30, 25]
    assert weekly["distance_km"].tolist() == [10, 12]


def test_sessions_before_the_first_run_and_after_as_of():
    acts = activities([{"start_utc": "2024-01-10 08:00", "km": 5}])
    sessions = logged([("2024-01-01", "strength", 30), ("2024-01-20", "strength", 30)])
    daily = daily_series(acts, None, UTC, sessions=sessions, end="2024-01-14")
    assert daily.index[0] == pd.Timestamp("2024-01-01")
    assert daily["strength_min"].sum() == 30  # the session after the end is not counted


def test_a_logged_session_and_an_imported_one_count_once():
    acts = activities([
        {"start_utc": "2024-01-03 17:00", "km": 20, "minutes": 50, "sport": "cycling", "sub_sport": "road"},
        {"start_utc": "2024-01-04 17:00", "km": 0, "minutes": 40, "sport": "other", "sub_sport": "strength_training"},
    ])
    # the ride logged by hand too, plus a second ride that day with no file; the gym session logged too
    sessions = logged([("2024-01-03", "cycling", 45), ("2024-01-03", "cycling", 30), ("2024-01-04", "strength", 40),
                       ("2024-01-04", "core", 10)])
    daily = daily_series(acts, None, UTC, sessions=sessions)
    assert daily.loc["2024-01-03", "cross_training_min"] == 50 + 30
    assert daily.loc["2024-01-04", "strength_min"] == 40 + 10
    marked = sess.dedup_sessions(sessions, pd.DataFrame(
        {"date": pd.to_datetime(["2024-01-03", "2024-01-04"]), "kind": ["cycling", "strength"]},
        index=["ride", "gym"]))
    assert marked["duplicate_of"].tolist() == ["ride", None, "gym", None]


def test_activity_kinds():
    assert sess.activity_kind("running") is None
    assert sess.activity_kind("other", "strength_training") == "strength"
    assert sess.activity_kind("hiking") == "walking"
    assert sess.activity_kind("elliptical", None) == "elliptical"
    assert all(k in SESSION_KINDS for k in sess.STRENGTH_KINDS + sess.REPLACEMENT_KINDS)


run_strategy = st.lists(st.tuples(st.integers(0, 60 * 24 * 60), st.floats(0.5, 40.0, allow_nan=False)),
                        min_size=1, max_size=25)
session_strategy = st.lists(st.tuples(st.integers(0, 70), st.sampled_from(SESSION_KINDS),
                                      st.floats(1.0, 180.0, allow_nan=False)), max_size=25)
RUNNING_COLUMNS = ("distance_km", "duration_min", "runs", "long_run_km", "ascent_m", "trimp", "srpe_au", "load",
                   "acwr", "monotony", "strain", "ctl", "atl", "tsb", "change_pct", "surface_road_km",
                   "intensity_unknown_min")


@pytest.mark.slow
@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(run_strategy, session_strategy, st.sampled_from(["monday", "sunday"]))
def test_sessions_and_shoes_never_change_running_load(runs, sessions, week_start):
    t0 = pd.Timestamp("2024-01-01", tz="UTC")
    acts = activities([{"start_utc": t0 + pd.Timedelta(minutes=m), "km": km} for m, km in runs])
    frame = logged([(pd.Timestamp("2024-01-01") + pd.Timedelta(days=d), k, mins) for d, k, mins in sessions])
    end = pd.Timestamp("2024-03-15")
    plain = weekly_table(daily_series(acts, None, UTC, end=end), week_start)
    shoe_km = pd.Series(np.arange(len(acts), dtype="float64") * 7.5, index=acts["id"].to_numpy())
    with_sessions = weekly_table(daily_series(acts, None, UTC, end=end, sessions=frame, shoe_km=shoe_km),
                                 week_start)
    common = plain.index.intersection(with_sessions.index)
    for col in RUNNING_COLUMNS:
        pd.testing.assert_series_equal(plain.loc[common, col], with_sessions.loc[common, col], check_names=False)
    # sessions add up: every minute is in exactly one of the two columns
    assert np.isclose(with_sessions["strength_min"].sum() + with_sessions["cross_training_min"].sum(),
                      sum(m for _d, _k, m in sessions))
    assert np.isclose(with_sessions["strength_min"].sum(),
                      sum(m for _d, k, m in sessions if k in sess.STRENGTH_KINDS))


# --- the plan ------------------------------------------------------------------------------------------------

def _with_minutes(weekly: pd.DataFrame, run_min: float = 180.0, strength_min: float = 0.0) -> pd.DataFrame:
    return weekly.assign(duration_min=run_min, strength_min=strength_min, cross_training_min=0.0)


def _pre_episode_week_min(runs: pd.DataFrame, start) -> float:
    """The average running minutes a week of the 28 days before ``start`` (by hand, from the run table)."""
    days = pd.to_datetime(runs["date"])
    lo, hi = pd.Timestamp(start) - pd.Timedelta(days=28), pd.Timestamp(start)
    return float(runs.loc[((days >= lo) & (days < hi)).to_numpy(), "duration_min"].sum()) / 4


def test_stop_replaces_half_the_running_time_with_cross_training_minutes():
    """SCIENCE.md §13 (revised), caps a person can follow: in stop cross-training replaces at most half the
    pre-episode running week (the 4 weeks before the episode, so a long stop does not shrink it), never
    more than 300 min a week, rounded to 5 min."""
    weekly, runs = history(week_km=(26.0, 28.0, 31.0, 28.0))
    pain = make_pain([(datetime(2025, 3, 16, 9), 6, "during")])
    base = _pre_episode_week_min(runs, "2025-03-16")
    assert base == 101 * 6.0 / 4  # 151.5 min: not a multiple of 5
    plan = plan_for(_with_minutes(weekly, run_min=172.0), runs, pain)
    assert plan.phase == "stop" and plan.stop_running and plan.cross_training_min == 75.0
    assert "about 1 h 15 min a week of cycling" in plan.message
    assert any("1 h 15 min a week replaces the running time" in r for r in plan.reasons)
    assert plan.to_dict()["cross_training_min"] == 75.0
    # three weeks on, still stopped (no check-ins) and no runs since: the same minutes, not fewer
    later = plan_for(_with_minutes(weekly, run_min=172.0), runs, pain, as_of=date(2025, 4, 6))
    assert later.phase == "stop" and later.cross_training_min == 75.0


def test_reduce_replaces_the_running_time_cut():
    weekly, runs = history()
    pain = make_pain([(datetime(2025, 3, 16, 7), 4, "next_morning")])
    plan = plan_for(_with_minutes(weekly, run_min=180.0), runs, pain)
    assert plan.phase == "reduce" and plan.status == "red" and not plan.stop_running
    # half of the pre-episode running week (100 km at 6 min/km over 4 weeks = 150 min) is cut
    assert _pre_episode_week_min(runs, "2025-03-16") == 150.0
    assert plan.cross_training_min == 75.0
    assert plan.max_week_km is not None  # reduce still gives running numbers beside the minutes


def test_no_replacement_minutes_when_running_goes_on():
    weekly, runs = history()
    assert plan_for(_with_minutes(weekly), runs).cross_training_min is None
    amber = make_pain([(datetime(2025, 3, 16, 9), 5, "during")])
    assert plan_for(_with_minutes(weekly), runs, amber).cross_training_min is None


def test_strength_stays_in_every_plan_but_the_red_flags():
    weekly, runs = history()
    weekly = _with_minutes(weekly, strength_min=42.0)
    for pain in (None, make_pain([(datetime(2025, 3, 16, 9), 5, "during")]),
                 make_pain([(datetime(2025, 3, 16, 9), 6, "during")])):
        plan = plan_for(weekly, runs, pain)
        assert plan.strength and "about 40 min a week" in plan.strength and "NICE NG59" in plan.strength
    flag = make_pain([(datetime(2025, 3, 15, 9), 2, "after", ("weakness_leg",))])
    plan = plan_for(weekly, runs, flag)
    assert plan.status == "see_clinician" and plan.strength is None and plan.cross_training_min is None
    none_logged = plan_for(_with_minutes(history()[0]), runs)
    assert none_logged.strength.startswith("add strength and core work")


# --- shoes ----------------------------------------------------------------------------------------------------

def _shoes():
    shoes = pd.DataFrame({"id": [1, 2, 3], "name": ["A", "B", "Unused"], "start_km": [100.0, 0.0, 0.0],
                          "retire_km": [120.0, np.nan, 500.0], "retired_on": [None, "2024-01-20", None],
                          "default": [True, False, False]})
    acts = activities([{"start_utc": f"2024-01-{d:02d} 08:00", "km": km} for d, km in
                       ((1, 10), (3, 5), (8, 12), (10, 7), (15, 8))]
                      + [{"start_utc": "2024-01-04 08:00", "km": 30, "sport": "cycling"}])
    ids = acts["id"].tolist()
    order = acts["start_utc"].dt.day.tolist()
    by_day = dict(zip(order, ids, strict=True))
    assign = pd.DataFrame({"activity_id": [by_day[1], by_day[3], by_day[8], by_day[10], by_day[4]],
                           "shoe_id": [1, 2, 1, 1, 1], "shoe": ["A", "B", "A", "A", "A"], "source": "user"})
    return shoes, assign, acts, by_day


def test_shoe_summary_and_distance_at_each_run():
    shoes, assign, acts, by_day = _shoes()
    summary = shoe_summary(shoes, assign, acts, "UTC").set_index("name")
    assert summary.loc["A", "distance_km"] == 100 + 10 + 12 + 7  # the ride does not count
    assert summary.loc["A", "runs"] == 3 and summary.loc["Unused", "runs"] == 0
    assert summary.loc["A", "first_used"] == pd.Timestamp("2024-01-01")
    assert summary.loc["A", "last_used"] == pd.Timestamp("2024-01-10")
    assert pd.isna(summary.loc["Unused", "first_used"])
    assert summary.loc["B", "retired"] and not summary.loc["A", "retired"]
    assert np.isclose(summary.loc["A", "retire_frac"], 129 / 120) and np.isnan(summary.loc["B", "retire_frac"])
    at_run = shoe_km_at_run(shoes, assign, acts, "UTC")
    assert at_run.loc[by_day[1]] == 100 and at_run.loc[by_day[8]] == 110 and at_run.loc[by_day[10]] == 122
    assert at_run.loc[by_day[3]] == 0 and by_day[15] not in at_run.index
    weekly = weekly_table(daily_series(acts, None, UTC, shoe_km=at_run))
    assert weekly["shoe_km_max"].tolist()[:2] == [100, 122]
    assert np.isnan(weekly["shoe_km_max"].iloc[2])  # the week's only run has no pair
    per_week = weekly_km_by_shoe(assign, acts, "UTC")
    assert per_week.set_index(["week_start", "shoe"])["distance_km"].to_dict() == {
        (pd.Timestamp("2024-01-01"), "A"): 10, (pd.Timestamp("2024-01-01"), "B"): 5,
        (pd.Timestamp("2024-01-08"), "A"): 19}


def test_rules_can_watch_strength_minutes_and_shoe_distance():
    class Rule:
        def __init__(self, metric, threshold, op=">"):
            self.metric, self.threshold, self.op, self.id, self.enabled, self.label = metric, threshold, op, 1, True, ""

    assert RULE_METRICS["strength_min"].scope == "week" and RULE_METRICS["shoe_km_max"].unit == "km"
    shoes, assign, acts, _ = _shoes()
    weekly = weekly_table(daily_series(acts, None, UTC, shoe_km=shoe_km_at_run(shoes, assign, acts, "UTC"),
                                       sessions=logged([("2024-01-02", "core", 20)])))
    hits = evaluate_rules([Rule("shoe_km_max", 110)], weekly, None, "2024-01-14", lookback_days=30)
    assert [h.value for h in hits] == [122]
    hits = evaluate_rules([Rule("strength_min", 15, "<")], weekly, None, "2024-01-21", lookback_days=30)
    assert [h.date.isoformat() for h in hits] == ["2024-01-08", "2024-01-15"]


def test_report_weeks_carry_strength_minutes():
    shoes, assign, acts, _ = _shoes()
    sessions = logged([("2024-01-02", "strength", 30), ("2024-01-09", "cycling", 40), ("2024-01-30", "core", 10)])
    report = build_report(acts, None, None, [], UTC, as_of="2024-01-21", weeks=3, sessions=sessions, shoes=shoes,
                          activity_shoes=assign)
    weeks = {w["week_start"]: w for w in report["weeks"]}
    assert weeks["2024-01-01"]["strength_min"] == 30 and weeks["2024-01-08"]["cross_training_min"] == 40
    assert weeks["2024-01-08"]["shoe_km_max"] == 122
    assert weeks["2024-01-15"]["shoe_km_max"] is None
    assert "strength" in report["plan"] and report["plan"]["strength"]
    plain = build_report(acts, None, None, [], UTC, as_of="2024-01-21", weeks=3)
    for a, b in zip(plain["weeks"], report["weeks"], strict=True):
        assert a["distance_km"] == b["distance_km"] and a["load"] == b["load"] and a["acwr"] == b["acwr"]
        assert b["strength_min"] >= a["strength_min"] == 0


def test_plan_round_trip_to_json_keys():
    weekly, runs = history()
    plan = plan_for(_with_minutes(weekly), runs).to_dict()
    assert {"cross_training_min", "strength"} <= set(plan)
    assert plan["cross_training_min"] is None and plan["strength"].startswith("add strength")


# --- suggested rules (SCIENCE.md §14) may use strength minutes and shoe distance -------------------------------

def _flat_history():
    """20 weeks of the same distance (no distance pattern); flare-ups after weeks 2, 6, 11 and 17."""
    from tests.test_suggest import weekly_and_pain

    return weekly_and_pain(week_km=[30.0] * 20)


def test_a_suggestion_may_ask_for_strength_minutes_not_to_fall_below_a_level():
    from loadwatch.metrics.suggest import suggest
    from tests.test_suggest import AS_OF as S_AS_OF
    from tests.test_suggest import FLARE_AFTER

    weekly, pain = _flat_history()
    strength = [40.0, 55.0, 5.0, 60.0, 45.0, 50.0, 0.0, 40.0, 65.0, 45.0, 50.0, 10.0, 55.0, 60.0, 40.0, 45.0,
                50.0, 0.0, 55.0, 45.0]
    weekly["strength_min"] = strength
    out = suggest(weekly, pain, UTC, S_AS_OF)
    assert [s.metric for s in out] == ["strength_min"]
    s = out[0]
    assert s.op == "<" and s.scope == "week"
    # before-weeks 5, 0, 10, 0 min; the lowest pain-free week 40 min -> a round number in (10, 40]
    assert s.threshold == 30.0
    assert (s.flare_ups_above, s.flare_ups_total, s.pain_free_above, s.pain_free_total) == (4, 4, 0, 11)
    assert s.text.startswith("Four of your four flare-ups came after weeks with weekly strength and core time "
                             "below 30 min; none of your eleven pain-free weeks were below it.")
    assert s.label == "suggested: weekly strength and core time below 30 min" and s.p_value < 0.05
    before = weekly["strength_min"].iloc[list(FLARE_AFTER)].to_numpy()
    assert int(np.sum(before < s.threshold)) == s.flare_ups_above

    # accepted, the rule flags exactly the weeks below it
    class Rule:
        metric, threshold, op, id, enabled, label, scope = "strength_min", s.threshold, s.op, 1, True, "", "week"

    hits = evaluate_rules([Rule()], weekly, None, S_AS_OF, lookback_days=7 * 20)
    assert sorted(h.value for h in hits) == sorted(v for v in strength if v < 30)
    # more strength work before flare-ups is never turned into a rule that asks for less of it
    weekly["strength_min"] = [60.0 - v for v in strength]
    assert [s.metric for s in suggest(weekly, pain, UTC, S_AS_OF)] == []


def test_a_suggestion_may_use_shoe_distance_and_weeks_without_a_pair_are_unknown():
    from loadwatch.metrics.suggest import suggest
    from tests.test_suggest import AS_OF as S_AS_OF

    weekly, pain = _flat_history()
    shoe = [120.0, 180.0, 720.0, 260.0, np.nan, 340.0, 690.0, 410.0, np.nan, 470.0, 520.0, 760.0, 150.0, 200.0,
            260.0, 310.0, 380.0, 810.0, 430.0, 480.0]
    weekly["shoe_km_max"] = shoe
    out = suggest(weekly, pain, UTC, S_AS_OF)
    assert [s.metric for s in out] == ["shoe_km_max"]
    s = out[0]
    assert s.op == ">" and 520.0 <= s.threshold < 690.0
    # the two pain-free weeks without a pair are left out, not read as 0 km
    assert (s.flare_ups_above, s.flare_ups_total, s.pain_free_above, s.pain_free_total) == (4, 4, 0, 9)
    assert "distance on your most-worn shoes that week above" in s.text and s.p_value < 0.05


def test_candidates_without_data_cost_the_permutation_test_nothing():
    """A runner who logs no sessions and no shoes (strength 0, shoe distance unknown every week) gets the
    same suggestion, with the same p-value, as before the two candidates existed."""
    from loadwatch.metrics.suggest import suggest
    from tests.test_suggest import AS_OF as S_AS_OF
    from tests.test_suggest import weekly_and_pain

    weekly, pain = weekly_and_pain()
    plain = suggest(weekly, pain, UTC, S_AS_OF)
    with_cols = suggest(weekly.assign(strength_min=0.0, shoe_km_max=np.nan), pain, UTC, S_AS_OF)
    assert [s.to_dict() for s in with_cols] == [s.to_dict() for s in plain] and plain
