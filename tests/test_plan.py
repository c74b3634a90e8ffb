"""The plan (SCIENCE.md section 12) on hand-built frames; numbers worked out by hand."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pandas as pd
import pytest

from loadwatch.ingest.settings import Settings
from loadwatch.metrics import thresholds
from loadwatch.metrics.advice import advise
from loadwatch.metrics.detector import evaluate
from loadwatch.metrics.plan import make_plan, round_cap_km
from tests.test_detector import AS_OF, FakeRule, make_pain, make_runs, make_weekly

KM = Settings(units="km")
MI = Settings(units="mi")


def history(as_of: date = AS_OF, week_km=(26.0, 28.0, 30.0, 28.0), long_km: float = 12.0, surface="road",
            extra_runs=()):
    """Four complete weeks before ``as_of``'s week (``as_of`` is a Sunday: its week is complete too, so
    the four weeks end on ``as_of``), three runs each, long run ``long_km`` on Sundays."""
    weeks, runs = [], []
    last_start = as_of - timedelta(days=6)
    for i, km in enumerate(week_km):
        start = last_start - timedelta(days=7 * (len(week_km) - 1 - i))
        weeks.append({"week_start": start, "distance_km": km, "long_run_km": long_km, "runs": 3})
        easy = (km - long_km) / 2
        runs += [(f"w{i}a", start + timedelta(days=1), easy, long_km, surface),
                 (f"w{i}b", start + timedelta(days=3), easy, long_km, surface),
                 (f"w{i}c", start + timedelta(days=6), long_km, long_km, surface)]
    return make_weekly(weeks), make_runs(runs + list(extra_runs))


def plan_for(weekly, runs, pain=None, settings=KM, rules=(), as_of=AS_OF):
    alerts = evaluate(runs=runs, weekly=weekly, daily=None, pain=pain, rules=rules, settings=settings,
                      as_of=as_of)
    return make_plan(alerts, weekly, runs, pain, settings, as_of, rules=rules)


def test_round_cap_km_rounds_down_for_humans_without_eating_the_allowance():
    """SCIENCE.md section 12: round down in steps no coarser than 5% of the value (0.1 for short runs)."""
    assert round_cap_km(13.2) == 13.0
    assert round_cap_km(13.0) == 13.0
    assert round_cap_km(28.9, week=True) == 28.0
    assert round_cap_km(9.9, week=True) == 9.9  # 0.5 would be 5.1% of 9.9: too coarse
    assert round_cap_km(13.2, "mi") == pytest.approx(8.2 * 1.609344, abs=1e-3)  # 8.20 mi
    assert round_cap_km(3.85) == 3.8  # a C25K runner's 3.5 km longest: the cap stays above it
    assert round_cap_km(3.85, "mi") == pytest.approx(2.3 * 1.609344, abs=1e-3)  # 2.39 mi -> 2.3, not 1.5
    assert round_cap_km(None) is None and round_cap_km(float("nan")) is None and round_cap_km(0.05) is None
    for km in (1.5, 3.5, 4.2, 7.7, 9.9, 10.3, 12.0, 19.9, 21.1, 42.2, 80.0, 160.0):
        for units in ("km", "mi"):
            capped = round_cap_km(1.1 * km, units)
            assert km <= capped <= 1.1 * km + 1e-9, (km, units, capped)


def test_green_gives_safe_longest_run_and_a_week_cap():
    weekly, runs = history()
    plan = plan_for(weekly, runs)
    assert plan.status == "green"
    assert plan.max_run_km == 13.0  # 1.10 x 12 = 13.2 -> 13
    assert plan.max_week_km == 33.0  # 1.10 x 30 = 33
    assert plan.runs == 3
    assert plan.message == "Next week ≤ 33 km, longest run ≤ 13 km."
    assert plan.disclaimer == thresholds.NOT_MEDICAL_ADVICE
    assert any(r.startswith("green") for r in plan.reasons)


def test_spike_without_pain_caps_runs_at_110pct_of_the_pre_spike_longest():
    weekly, runs = history(extra_runs=[("spike", AS_OF, 19.2, 12.0, "road")])
    plan = plan_for(weekly, runs)
    assert plan.status == "amber"
    assert plan.max_run_km == 13.0  # 1.10 x 12, not 1.10 x 19.2
    assert plan.max_week_km == 28.0  # 4-week average (26 + 28 + 30 + 28) / 4
    assert plan.reasons[0].startswith("Single-run spike (caution)")


def test_amber_pain_holds_volume_and_moves_to_soft_ground():
    weekly, runs = history(extra_runs=[("t", AS_OF - timedelta(days=20), 5.0, 12.0, "trail")])
    pain = make_pain([(datetime(2025, 3, 16, 9), 4, "after")])
    plan = plan_for(weekly, runs, pain)
    assert plan.status == "amber"
    # the 4 weeks before the day of the pain (16 Feb - 15 Mar): 100 km of runs plus the 5 km trail run
    assert plan.max_week_km == 26.0 and plan.max_run_km == 13.0
    assert plan.phase == "hold" and plan.phase_since == date(2025, 3, 16) and plan.step is None
    assert "no intervals" in plan.intensity
    assert "trail" in plan.surface and "treadmill" not in plan.surface
    assert plan.message == "Next week ≤ 26 km, longest run ≤ 13 km, two runs on soft ground, no intervals."
    assert plan.reasons[0].startswith("Where you are in your training (caution): Back-pain episode")
    assert any(r.startswith("Pain with running (caution)") for r in plan.reasons)
    assert plan.next_step.startswith("Back to normal training after 7 days without pain above 3")


def test_red_pain_during_run_stops_running_without_any_running_number():
    """Issue 11: pain 7/10 used to say "stop running" and "next week <= 11 km" in one breath."""
    weekly, runs = history()
    pain = make_pain([(datetime(2025, 3, 16, 9), 6, "during")])
    plan = plan_for(weekly, runs, pain)
    assert plan.status == "red" and plan.phase == "stop"
    assert plan.max_week_km is None and plan.max_run_km is None
    assert plan.stop_running and "cycling" in plan.cross_training
    # cross-training replaces at most half the running time of the pre-episode week (100 km at 6 min/km over
    # 4 weeks), pain-free only, never more than 300 minutes (section 13, caps a person can follow)
    assert plan.cross_training_min == pytest.approx(0.5 * 100 * 6.0 / 4, abs=5)
    assert "strength" in plan.strength
    assert plan.message.startswith("Stop running for now")
    assert " km" not in plan.message and "≤" not in plan.message
    assert "two check-ins" in plan.next_step
    d = plan.to_dict()
    assert d["max_week_display"] is None and d["max_run_display"] is None


def test_pain_not_settled_is_red_without_stopping():
    weekly, runs = history()
    pain = make_pain([(datetime(2025, 3, 16, 7), 4, "next_morning")])
    plan = plan_for(weekly, runs, pain)
    # about half the 4 weeks before the day of the pain (16 Feb - 15 Mar: 100 km, 25 km a week)
    assert plan.status == "red" and not plan.stop_running and plan.max_week_km == 12.5
    assert plan.phase == "reduce" and plan.max_run_km == 6.0  # half the pre-episode longest (12)


def test_emergency_and_clinician_plans_have_no_numbers():
    weekly, runs = history(extra_runs=[("spike", AS_OF, 19.2, 12.0, "road")])
    pain = make_pain([(datetime(2025, 3, 15, 9), 2, "after", ("saddle_numbness",))])
    plan = plan_for(weekly, runs, pain)
    assert plan.status == "emergency"
    assert plan.max_week_km is None and plan.max_run_km is None and plan.runs is None
    assert "seek urgent medical care now (a&e / emergency services)" in plan.care_message.lower()
    assert plan.message == plan.care_message
    pain = make_pain([(datetime(2025, 3, 15, 9), 2, "after", ("weakness_leg",))])
    plan = plan_for(weekly, runs, pain)
    assert plan.status == "see_clinician" and plan.max_week_km is None
    assert "within days" in plan.care_message
    # persistent pain is a referral that holds the plan: it keeps its numbers (section 10, revised)
    pain = make_pain([(datetime(2025, 2, 18, 9) + timedelta(days=k), 4) for k in range(27)])
    plan = plan_for(weekly, runs, pain)
    assert plan.status not in ("see_clinician", "emergency") and plan.care_message is None
    assert "book a physiotherapist or doctor" in plan.referral
    assert plan.max_week_km is not None and plan.max_run_km is not None


def test_miles_runner_gets_miles_rounded_down():
    weekly, runs = history()
    d = plan_for(weekly, runs, settings=MI).to_dict()
    # 1.10 x 30 km = 33 km = 20.5 mi -> 20 mi (1 mi steps from 20); 13.2 km = 8.20 mi -> 8.2 mi (0.1 steps)
    assert d["units"] == "mi" and d["max_week_display"] == 20.0 and d["max_run_display"] == 8.2
    assert d["max_week_km"] == pytest.approx(32.187, abs=1e-3)
    assert "20 mi" in d["message"] and "8.2 mi" in d["message"]


def test_personal_rule_caps_the_plan():
    weekly, runs = history()
    rules = [FakeRule(7, "distance_km", 25.0), FakeRule(8, "run_distance_km", 11.0, scope="run")]
    plan = plan_for(weekly, runs, rules=rules)
    assert plan.max_week_km == 25.0 and plan.max_run_km == 11.0
    # the rule named in words on every face (issue 13), not by its code "personal:7"
    assert any(r.startswith("Your own rule 7: your rule keeps the week at or below 25 km") for r in plan.reasons)
    assert any(r.startswith("Your own rule 8: your rule keeps each run at or below 11 km") for r in plan.reasons)


def test_advise_for_a_new_runner_is_green_with_not_enough_history():
    out = advise(runs=pd.DataFrame(), weekly=pd.DataFrame(), daily=pd.DataFrame(), pain=pd.DataFrame(),
                 rules=[], settings=KM, as_of=AS_OF)
    assert out["alerts"] == [] and out["suggested_rules"] == []
    assert out["plan"]["status"] == "green" and out["plan"]["max_week_km"] is None
    assert "not enough history" in out["plan"]["reasons"][0]
    json.dumps(out)


def test_advise_bundles_alerts_plan_and_disclaimer():
    weekly, runs = history(extra_runs=[("spike", AS_OF, 19.2, 12.0, "road")])
    out = advise(runs=runs, weekly=weekly, daily=None, pain=None, rules=[], settings=KM, as_of=AS_OF)
    assert [a["rule"] for a in out["alerts"]] == ["session_spike"]
    assert out["plan"]["max_run_km"] == 13.0
    assert {"status", "max_week_km", "max_run_km", "reasons", "disclaimer", "message"} <= set(out["plan"])
    json.dumps(out)


def test_two_spikes_cap_from_the_latest_one():
    # 12 km after a 10 km longest, then 14 km after 12 km: the cap follows the latest (1.10 x 12)
    weekly, runs = history(long_km=10.0, extra_runs=[("s1", AS_OF - timedelta(days=7), 12.0, 10.0, "road"),
                                                     ("s2", AS_OF, 14.0, 12.0, "road")])
    plan = plan_for(weekly, runs)
    assert plan.status == "amber" and plan.max_run_km == 13.0


def test_pain_without_any_runs_keeps_its_status():
    pain = make_pain([(datetime(2025, 3, 16, 9), 6, "during")])
    plan = plan_for(None, None, pain)
    assert plan.status == "red" and plan.max_week_km is None and plan.stop_running
    assert plan.message.startswith("Stop running for now")
    assert any("not enough history" in r for r in plan.reasons)


def test_a_spike_caps_the_run_in_hold_as_well():
    """A spike's cap (1.10 x the 30-day longest before it) holds in every phase with numbers."""
    weekly, runs = history(extra_runs=[("spike", AS_OF - timedelta(days=1), 19.2, 12.0, "road")])
    pain = make_pain([(datetime(2025, 3, 16, 9), 4, "after")])
    plan = plan_for(weekly, runs, pain)
    assert plan.phase == "hold" and plan.max_run_km == 13.0  # not 1.10 x 19.2


@pytest.mark.parametrize("case", ["green", "spike", "hold", "reduce", "stop", "return", "see_clinician",
                                  "emergency", "personal"])
def test_every_plan_reason_is_in_plain_words(case):
    """No face shows a rule code: the reasons make_plan writes (shown on This week, in `loadwatch report`
    and `report --json`) name rules, severities and phases in words, never `session_spike (amber)` or
    `personal:7`, in every phase of an episode."""
    import re

    day = lambda n, h=9: datetime.combine(AS_OF - timedelta(days=n), datetime.min.time()).replace(hour=h)  # noqa: E731
    extra = [("spike", AS_OF - timedelta(days=1), 18.0, 12.0, "road")] if case == "spike" else ()
    weekly, runs = history(extra_runs=extra)
    entries = {"hold": [(day(0), 4, "after")], "reduce": [(day(0, 7), 5, "next_morning")],
               "stop": [(day(0), 7, "during")],
               "return": [(day(6), 7, "during"), (day(4, 7), 1, "next_morning"), (day(3, 7), 2, "next_morning")],
               "see_clinician": [(day(1), 3, "after", ["night_pain"])],
               "emergency": [(day(1), 2, "rest_of_day", ["saddle_numbness"])]}.get(case, [])
    pain = make_pain(entries) if entries else None
    rules = [FakeRule(7, "distance_km", 20.0)] if case == "personal" else ()
    plan = plan_for(weekly, runs, pain, rules=rules)
    assert plan.phase == {"green": "normal", "spike": "normal", "personal": "normal",
                          "return": "return_to_run"}.get(case, case)
    words = [*plan.reasons, plan.message or "", plan.next_step or ""]
    assert plan.reasons
    code = re.compile(r"\b[a-z]+_[a-z_]+\b|\((?:amber|red|info|green)\)|personal:\d")
    for text in words:
        assert not code.findall(text), text
    if case == "personal":
        assert any(r.startswith("Your own rule 7: your rule keeps the week") for r in plan.reasons), plan.reasons
