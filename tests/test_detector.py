"""Built-in and personal alert rules on hand-built frames shaped like the documented contracts."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loadwatch.ingest.settings import Settings
from loadwatch.ingest.store import Rule
from loadwatch.metrics import detector, thresholds
from loadwatch.metrics.detector import Alert, evaluate
from loadwatch.metrics.rules import RULE_METRICS, evaluate_rules, rule_metric

AS_OF = date(2025, 3, 16)  # a Sunday


# --- builders (shared with the plan / suggestion tests) ------------------------------------------

def make_runs(rows: list[tuple]) -> pd.DataFrame:
    """rows: (id, date, distance_km[, longest_30d_km[, surface]]) -> a run table as loadwatch.metrics.spike makes."""
    recs = []
    for row in rows:
        rid, day, dist = row[0], row[1], row[2]
        longest = row[3] if len(row) > 3 else float("nan")
        surface = row[4] if len(row) > 4 else "road"
        spike = (dist / longest - 1) * 100 if longest == longest and longest > 0 else float("nan")
        cat = thresholds.spike_category(spike)
        recs.append({"id": rid, "start_local": pd.Timestamp(day) + pd.Timedelta(hours=7), "date": day,
                     "distance_km": float(dist), "duration_min": dist * 6.0, "surface": surface,
                     "longest_30d_km": float(longest), "spike_pct": spike,
                     "spike_category": cat.name if cat else None,
                     "spike_hazard_ratio": cat.hazard_ratio if cat else float("nan"),
                     "safe_longest_km": 1.1 * longest})
    cols = ["id", "start_local", "date", "distance_km", "duration_min", "surface", "longest_30d_km",
            "spike_pct", "spike_category", "spike_hazard_ratio", "safe_longest_km"]
    return pd.DataFrame(recs, columns=cols).set_index("id")


def make_weekly(rows: list[dict]) -> pd.DataFrame:
    """rows: dicts with week_start (date) and any weekly columns; missing numeric columns default."""
    df = pd.DataFrame(rows).set_index("week_start")
    for col, default in (("distance_km", 0.0), ("long_run_km", 0.0), ("runs", 0), ("change_pct", np.nan),
                         ("monotony", np.nan), ("acwr", np.nan)):
        if col not in df.columns:
            df[col] = default
    return df


def make_pain(rows: list[tuple]) -> pd.DataFrame:
    """rows: (datetime, score[, timing[, symptoms[, activity_id]]]) -> the store's pain frame."""
    recs = []
    for i, row in enumerate(rows, start=1):
        at, score = row[0], row[1]
        recs.append({"id": i, "at_local": pd.Timestamp(at), "score": score,
                     "timing": row[2] if len(row) > 2 else "after", "location": "lower_back",
                     "activity_id": row[4] if len(row) > 4 else None,
                     "symptoms": tuple(row[3]) if len(row) > 3 else (), "note": "", "deleted": False})
    cols = ["id", "at_local", "score", "timing", "location", "activity_id", "symptoms", "note", "deleted"]
    return pd.DataFrame(recs, columns=cols)


FakeRule = Rule  # the store's own rule type


def steady_runs(as_of: date = AS_OF, weeks: int = 6, long_km: float = 12.0) -> list[tuple]:
    """Three runs a week (8, 8, long) for ``weeks`` weeks ending ``as_of``; every long run equal."""
    rows = []
    start = as_of - timedelta(days=7 * weeks - 1)
    for w in range(weeks):
        base = start + timedelta(days=7 * w)
        for k, (off, dist) in enumerate(((1, 8.0), (3, 8.0), (6, long_km))):
            day = base + timedelta(days=off)
            longest = long_km if w > 0 or k > 0 else float("nan")
            rows.append((f"w{w}r{k}", day, dist, longest))
    return rows


# --- session_spike ----------------------------------------------------------------------------------

def test_spike_60pct_gives_amber_alert_with_numbers():
    runs = make_runs([("a", date(2025, 3, 1), 12.0, 11.0), ("b", date(2025, 3, 15), 19.2, 12.0)])
    alerts = detector.session_spike(runs, AS_OF)
    assert [a.activity_id for a in alerts] == ["b"]
    a = alerts[0]
    assert a.rule == "session_spike" and a.severity == "amber" and a.alarm
    assert a.date == "2025-03-15"
    assert a.values["distance_km"] == 19.2 and a.values["longest_30d_km"] == 12.0
    assert a.values["spike_pct"] == pytest.approx(60.0)
    assert a.values["category"] == "moderate"
    assert a.values["hazard_ratio"] == 1.52
    assert (a.values["hazard_ratio_ci_low"], a.values["hazard_ratio_ci_high"]) == (1.16, 2.00)
    assert a.values["safe_longest_km"] == pytest.approx(13.2)
    assert "strong evidence" in a.evidence and "Frandsen" in a.evidence
    assert "60%" in a.message and "19.2 km" in a.message and "13 km" in a.message


def test_spike_at_exactly_10pct_is_not_an_alert_and_nan_history_is_skipped():
    runs = make_runs([("a", date(2025, 3, 10), 11.0, 10.0), ("b", date(2025, 3, 12), 30.0)])
    assert detector.session_spike(runs, AS_OF) == []


def test_spike_outside_lookback_or_after_as_of_is_ignored():
    runs = make_runs([("old", date(2025, 3, 2), 20.0, 10.0), ("future", date(2025, 3, 17), 20.0, 10.0),
                      ("edge", date(2025, 3, 3), 20.0, 10.0)])
    assert [a.activity_id for a in detector.session_spike(runs, AS_OF)] == ["edge"]  # 14 days: 3rd..16th


def test_spike_message_in_miles():
    runs = make_runs([("b", date(2025, 3, 15), 16.09344, 8.04672)])
    a = detector.session_spike(runs, AS_OF, units="mi")[0]
    assert "10 mi" in a.message and "5 mi" in a.message
    # exactly +100% is still "moderate" (upper bounds are inclusive)
    assert a.values["category"] == "moderate" and a.values["hazard_ratio"] == 1.52


# --- pain ---------------------------------------------------------------------------------------------

def test_pain_traffic_light():
    pain = make_pain([(datetime(2025, 3, 14, 8), 3, "during"), (datetime(2025, 3, 15, 8), 4, "during"),
                      (datetime(2025, 3, 15, 9), 5, "after"), (datetime(2025, 3, 16, 8), 6, "during")])
    alerts = detector.pain_during_run(pain, AS_OF)
    assert [(a.values["score"], a.severity) for a in alerts] == [(4, "amber"), (5, "amber"), (6, "red")]
    assert all("moderate evidence" in a.evidence for a in alerts)
    assert "stop running" in alerts[-1].message.lower()
    # no run in the 7 days before: pain, not "pain with running" (section 13, one voice)
    assert {a.rule for a in alerts} == {"pain_without_run"}
    assert all("no run in the 7 days before" in a.message for a in alerts)


def test_pain_next_morning_not_settled_against_baseline():
    # usual mornings are 2 on most days; a 3 is within the margin, a 4 is not
    rows = [(datetime(2025, 2, 16) + timedelta(days=k, hours=7), 2, "next_morning") for k in range(26)]
    rows += [(datetime(2025, 3, 14, 7), 3, "next_morning"), (datetime(2025, 3, 16, 7), 4, "next_morning")]
    alerts = detector.pain_not_settled(make_pain(rows), AS_OF)
    assert len(alerts) == 1
    a = alerts[0]
    assert a.date == "2025-03-16" and a.severity == "red"
    assert a.values["baseline_score"] == 2.0 and a.values["score"] == 4


def test_morning_without_a_usual_level_is_judged_against_3():
    """SCIENCE.md section 10: unlogged mornings are unknown, not 0; without 3 logged mornings there is no
    usual level, and then only a morning above 3 has not settled."""
    pain = make_pain([(datetime(2025, 3, 16, 7), 2, "next_morning")])
    assert detector.morning_baseline(pain, date(2025, 3, 16)) is None
    assert detector.pain_not_settled(pain, AS_OF) == []
    pain = make_pain([(datetime(2025, 3, 16, 7), 4, "next_morning")])
    assert len(detector.pain_not_settled(pain, AS_OF)) == 1


def test_stable_low_mornings_on_three_of_seven_days_are_settled():
    """Issue 11: 2/10 stiffness logged on 3 of 7 mornings used to be 'not settled' (unlogged = 0)."""
    rows = [(datetime(2025, 1, 6) + timedelta(days=k, hours=7), 2, "next_morning")
            for k in range(70) if k % 7 in (0, 2, 4)]
    pain = make_pain(rows)
    assert detector.morning_baseline(pain, AS_OF) == 2.0
    assert detector.pain_not_settled(pain, AS_OF) == []
    assert detector.pain_rising(pain, AS_OF) == []


def test_pain_rising_week_on_week():
    prev = [(datetime(2025, 3, 3 + k, 8), 2) for k in range(0, 6, 2)]  # 3rd, 5th, 7th: mean 2
    this = [(datetime(2025, 3, 11 + k, 8), 4) for k in range(0, 6, 2)]  # 11th..15th: mean 4
    alerts = detector.pain_rising(make_pain(prev + this), AS_OF)
    assert len(alerts) == 1
    assert alerts[0].values["mean_score_7d"] == 4.0 and alerts[0].values["mean_score_prev_7d"] == 2.0
    assert alerts[0].values["margin"] == 1.5 and alerts[0].values["timing_group"] == "run"
    # a rise of 1 is not "rising"; a rise of exactly 1.5 is
    this3 = [(datetime(2025, 3, 11 + k, 8), 3) for k in range(0, 6, 2)]
    assert detector.pain_rising(make_pain(prev + this3), AS_OF) == []
    this35 = [(datetime(2025, 3, 13, 8), 3), (datetime(2025, 3, 14, 8), 4)]  # 8th-14th: mean 3.5
    assert len(detector.pain_rising(make_pain(prev + this35), AS_OF)) == 1
    assert detector.pain_rising(make_pain(this), AS_OF) == []  # no previous week to compare
    # one entry in the earlier week is not enough to compare
    assert detector.pain_rising(make_pain(prev[:1] + this), AS_OF) == []


def test_rising_compares_like_with_like():
    """Issue 11: the same 3/10 after runs two weeks running, with fewer 1/10 mornings logged, is not rising."""
    prev = [(datetime(2025, 3, 3 + k, 19), 3, "after") for k in (0, 2, 4)]
    prev += [(datetime(2025, 3, 3 + k, 7), 1, "next_morning") for k in (1, 3, 5)]
    this = [(datetime(2025, 3, 10 + k, 19), 3, "after") for k in (0, 2, 4)]
    this += [(datetime(2025, 3, 11, 7), 1, "next_morning")]
    assert detector.pain_rising(make_pain(prev + this), AS_OF) == []


def test_pain_persistent_after_three_weeks_of_most_days():
    """Persistent pain (section 10, revised) is a referral: it asks the runner to book a professional and
    holds the plan; it is not a red flag (amber, not see_clinician)."""
    days = [date(2025, 2, 20) + timedelta(days=k) for k in range(25) if k % 3 != 2]  # 2 of every 3 days
    pain = make_pain([(datetime.combine(d, datetime.min.time()).replace(hour=9), 4) for d in days])
    alerts = detector.pain_persistent(pain, AS_OF)
    assert len(alerts) == 1 and alerts[0].severity == "amber"
    assert "holds where it is" in alerts[0].message
    assert alerts[0].values["since"] == "2025-03-13"  # the first day the stretch lasted more than 21 days
    assert "since Thu 20 Feb 2025" in alerts[0].message
    assert "book a physiotherapist or doctor" in alerts[0].message
    # only 14 days of pain: not persistent
    short = make_pain([(datetime(2025, 3, 3 + k, 9), 4) for k in range(14)])
    assert detector.pain_persistent(short, AS_OF) == []
    # it stays until an assessment, however old (SCIENCE.md section 11) ...
    assert len(detector.pain_persistent(pain, date(2025, 4, 30))) == 1
    assessed = pd.DataFrame({"id": [1], "date": [date(2025, 3, 20)], "note": [""]})
    assert detector.pain_persistent(pain, date(2025, 4, 30), assessments=assessed) == []


def test_persistence_is_judged_on_check_ins_of_a_runner_who_logs_on_run_days_only():
    """Issue 11: pain logged only on run days for a month never counted as persistent."""
    days = [date(2025, 2, 10) + timedelta(days=k) for k in range(35) if k % 7 in (1, 3, 6)]
    pain = make_pain([(datetime.combine(d, datetime.min.time()).replace(hour=19), 4, "after") for d in days])
    alerts = detector.pain_persistent(pain, AS_OF)
    assert len(alerts) == 1 and alerts[0].rule == "pain_persistent"
    # a pain-free week in between breaks the stretch
    gap = [d for d in days if not date(2025, 2, 24) <= d <= date(2025, 3, 2)]
    rows = [(datetime.combine(d, datetime.min.time()).replace(hour=19), 4, "after") for d in gap]
    rows += [(datetime(2025, 2, 25, 19), 0, "after")]
    assert detector.pain_persistent(make_pain(rows), AS_OF) == []


def test_red_flags_replace_everything_else():
    runs = make_runs([("b", date(2025, 3, 15), 19.2, 12.0)])
    pain = make_pain([(datetime(2025, 3, 15, 9), 6, "during", ("saddle_numbness",)),
                      (datetime(2025, 3, 14, 9), 3, "after", ("night_pain",))])
    alerts = evaluate(runs=runs, weekly=None, daily=None, pain=pain, rules=[], settings=Settings(), as_of=AS_OF)
    assert [a.rule for a in alerts] == ["red_flag_emergency", "red_flag_urgent"]
    assert alerts[0].severity == "emergency"
    assert "seek urgent medical care now (a&e / emergency services)" in alerts[0].message.lower()
    assert "within days" in alerts[1].message
    assert "consensus evidence" in alerts[0].evidence


def test_a_red_flag_stays_until_an_assessment_and_a_new_one_opens_again():
    """Issue 11: saddle numbness on 1 June was 'emergency' on 14 June and green on 15 June."""
    pain = make_pain([(datetime(2025, 2, 1, 9), 2, "after", ("trauma",))])
    assert [a.rule for a in detector.red_flags(pain, AS_OF)] == ["red_flag_urgent"]
    pain = make_pain([(datetime(2025, 1, 1, 9), 2, "after", ("saddle_numbness",))])
    for day in (date(2025, 1, 14), date(2025, 1, 15), date(2025, 6, 1)):
        assert [a.rule for a in evaluate(pain=pain, as_of=day)] == ["red_flag_emergency"]
    assessed = pd.DataFrame({"id": [3], "date": [date(2025, 1, 20)], "note": ["GP: no cauda equina"]})
    assert evaluate(pain=pain, as_of=date(2025, 1, 19), assessments=assessed)[0].rule == "red_flag_emergency"
    after = evaluate(pain=pain, as_of=date(2025, 1, 21), assessments=assessed)
    assert not any(a.rule.startswith("red_flag") for a in after)
    again = make_pain([(datetime(2025, 1, 1, 9), 2, "after", ("saddle_numbness",)),
                       (datetime(2025, 2, 2, 9), 2, "after", ("bladder_bowel",))])
    assert evaluate(pain=again, as_of=date(2025, 2, 3), assessments=assessed)[0].rule == "red_flag_emergency"


def test_deleted_pain_entries_are_ignored():
    pain = make_pain([(datetime(2025, 3, 15, 9), 8, "during", ("bladder_bowel",))])
    pain["deleted"] = True
    assert evaluate(pain=pain, as_of=AS_OF) == []


# --- information-only rules -------------------------------------------------------------------------

def test_info_rules_do_not_alarm():
    weekly = make_weekly([{"week_start": date(2025, 3, 3), "distance_km": 30.0, "monotony": 2.4,
                           "change_pct": 45.0},
                          {"week_start": date(2025, 3, 10), "distance_km": 20.0, "monotony": 1.2,
                           "change_pct": -33.0}])
    daily = pd.DataFrame({"acwr": [1.2, 1.6, np.nan]},
                         index=pd.date_range("2025-03-14", periods=3, freq="D"))
    # as_of Saturday 8 March: no complete week yet in the table, the daily acwr is after as_of
    assert evaluate(weekly=weekly, daily=daily, as_of=date(2025, 3, 8)) == []
    # Sunday 9 March: the week of 3 March is complete
    alerts = evaluate(weekly=weekly, daily=daily, as_of=date(2025, 3, 9))
    assert {a.rule for a in alerts} == {"monotony", "weekly_change"}
    alerts = evaluate(weekly=weekly, daily=daily, as_of=date(2025, 3, 15))
    assert {a.rule for a in alerts} == {"monotony", "weekly_change", "acwr"}
    assert all(not a.alarm and a.severity == "info" for a in alerts)
    acwr = next(a for a in alerts if a.rule == "acwr")
    assert acwr.values["acwr"] == 1.6 and "disputed" in acwr.message and "weak evidence" in acwr.evidence
    # on the 16th the week of 10 March is complete: monotony 1.2, change -33%: nothing
    alerts = evaluate(weekly=weekly, daily=daily, as_of=AS_OF)
    assert [a.rule for a in alerts] == ["acwr"]


# --- personal rules -----------------------------------------------------------------------------------

def test_rule_metrics_cover_the_documented_columns():
    for name in ("distance_km", "long_run_km", "duration_min", "runs", "surface_road_km", "surface_trail_km",
                 "intensity_hard_min", "load", "acwr", "monotony", "change_pct", "ascent_m",
                 "run_distance_km", "run_duration_min", "spike_pct"):
        assert name in RULE_METRICS
    scope, unit, label, column = RULE_METRICS["run_distance_km"]
    assert (scope, unit, column) == ("run", "km", "distance_km")
    with pytest.raises(ValueError, match="valid metrics: distance_km"):
        rule_metric("weekly_km")


def test_personal_week_and_run_rules():
    weekly = make_weekly([{"week_start": date(2025, 2, 24), "distance_km": 40.0},
                          {"week_start": date(2025, 3, 3), "distance_km": 34.0},
                          {"week_start": date(2025, 3, 10), "distance_km": 31.0},
                          {"week_start": date(2025, 3, 17), "distance_km": 50.0}])
    runs = make_runs([("r1", date(2025, 3, 12), 17.0, 16.0), ("r2", date(2025, 3, 15), 19.0, 17.0)])
    rules = [FakeRule(1, "distance_km", 32.0), FakeRule(2, "run_distance_km", 18.0, scope="run", label="long"),
             FakeRule(3, "distance_km", 10.0, enabled=False)]
    hits = evaluate_rules(rules, weekly, runs, AS_OF)
    # week of 24 Feb ended 2 March, before the 14-day window (3..16 March); week of 17 March is future
    assert [(h.rule_id, h.date, h.value) for h in hits] == [(1, date(2025, 3, 3), 34.0),
                                                           (2, date(2025, 3, 15), 19.0)]
    alerts = detector.personal_alerts(hits, units="mi")
    assert [a.rule for a in alerts] == ["personal:1", "personal:2"]
    assert alerts[0].values == {"metric": "distance_km", "value": 34.0, "threshold": 32.0, "op": ">",
                                "unit": "km", "scope": "week", "partial_week": False}
    assert "21.1 mi" in alerts[0].message and "19.9 mi" in alerts[0].message
    assert alerts[1].activity_id == "r2" and "'long'" in alerts[1].message
    with pytest.raises(ValueError, match="unknown rule metric"):
        evaluate_rules([FakeRule(9, "nope", 1.0)], weekly, runs, AS_OF)


def test_partial_week_only_trips_above_rules():
    weekly = make_weekly([{"week_start": date(2025, 3, 10), "distance_km": 5.0}])
    below = [FakeRule(1, "distance_km", 20.0, op="<")]
    assert evaluate_rules(below, weekly, None, date(2025, 3, 12)) == []
    assert len(evaluate_rules(below, weekly, None, date(2025, 3, 16))) == 1


# --- everything together ------------------------------------------------------------------------------

def test_evaluate_orders_by_severity_and_is_json_able():
    runs = make_runs([("b", date(2025, 3, 15), 19.2, 12.0)])
    pain = make_pain([(datetime(2025, 3, 16, 8), 4, "during", (), "b")])
    alerts = evaluate(runs=runs, pain=pain, settings=Settings(), as_of=AS_OF)
    assert [a.rule for a in alerts] == ["phase", "pain_during_run", "session_spike"]
    assert alerts[0].values["phase"] == "hold" and alerts[1].activity_id == "b"
    # while stopped, the spike is told without its cap (no running numbers in stop)
    stop = evaluate(runs=runs, pain=make_pain([(datetime(2025, 3, 16, 8), 6, "during", (), "b")]), as_of=AS_OF)
    assert [a.rule for a in stop] == ["phase", "pain_during_run", "session_spike"]
    assert stop[0].values["phase"] == "stop"
    assert "keep every run" not in stop[2].message and "safe_longest_km" not in stop[2].values
    assert "60% longer than your longest run" in stop[2].message
    payload = json.dumps([a.to_dict() for a in alerts])
    back = json.loads(payload)[1]
    assert set(back) >= {"rule", "severity", "date", "activity_id", "message", "evidence", "values", "alarm"}


def test_new_runner_with_empty_frames_has_no_alerts():
    assert evaluate(runs=pd.DataFrame(), weekly=pd.DataFrame(), daily=pd.DataFrame(), pain=pd.DataFrame(),
                    rules=[], settings=Settings(), as_of=AS_OF) == []


def test_alert_rejects_unknown_severity():
    with pytest.raises(ValueError):
        Alert("x", "orange", "2025-01-01", None, "m", "e")


# --- invariants -------------------------------------------------------------------------------------------

@settings(max_examples=60, deadline=None)
@given(longest=st.floats(1.0, 40.0), distance=st.floats(0.5, 80.0), extra=st.floats(0.0, 30.0))
def test_adding_distance_to_the_latest_run_never_clears_a_spike_alert(longest, distance, extra):
    before = detector.session_spike(make_runs([("r", date(2025, 3, 15), distance, longest)]), AS_OF)
    after = detector.session_spike(make_runs([("r", date(2025, 3, 15), distance + extra, longest)]), AS_OF)
    assert len(after) >= len(before)
    if before:
        assert after[0].values["spike_pct"] >= before[0].values["spike_pct"]


@settings(max_examples=40, deadline=None)
@given(scores=st.lists(st.integers(0, 10), min_size=1, max_size=8))
def test_pain_alert_severity_follows_the_traffic_light(scores):
    pain = make_pain([(datetime(2025, 3, 10 + i % 6, 8 + i), s, "during") for i, s in enumerate(scores)])
    alerts = detector.pain_during_run(pain, AS_OF)
    assert sorted(a.values["score"] for a in alerts) == sorted(s for s in scores if s > 3)
    assert all((a.severity == "red") == (a.values["score"] > 5) for a in alerts)


def test_a_stored_rule_on_an_unknown_metric_does_not_break_the_other_alerts():
    runs = make_runs([("b", date(2025, 3, 15), 19.2, 12.0)])
    alerts = evaluate(runs=runs, rules=[FakeRule(4, "weekly_km", 30.0)], as_of=AS_OF)
    assert [a.rule for a in alerts] == ["session_spike", "personal:4"]
    assert not alerts[1].alarm and "unknown rule metric 'weekly_km'" in alerts[1].message
