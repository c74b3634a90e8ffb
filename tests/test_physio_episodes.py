"""Issue 20: the episodes a physiotherapist played day by day through the command line, where the advice was
wrong or dangerous (SCIENCE.md §10, §11 and §13 as revised).  One scenario for each finding, each through the
real store and CLI (``tests.scenario_helpers.Runner``), each failing on the code before the fix.

Dates are fixed in the past and every read names its day (``--as-of``), so nothing depends on today.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from loadwatch.metrics import thresholds as th
from tests.scenario_helpers import Runner, weeks_of_runs

MONDAY = date(2025, 1, 6)
BASE_WEEKS = 8  # Tue 8, Thu 8, Sun 12 km: a 28 km week, a 12 km longest run
DAY0 = MONDAY + timedelta(weeks=BASE_WEEKS)  # Mon 3 Mar 2025


def days(n: int) -> timedelta:
    return timedelta(days=n)


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Runner:
    r = Runner(tmp_path_factory.mktemp("physio-base") / "runner")
    r.run(weeks_of_runs(MONDAY, BASE_WEEKS, 8.0, 12.0))
    return r


@pytest.fixture
def runner(base, tmp_path) -> Runner:
    return base.clone(tmp_path / "runner")


def alerts_of(payload: dict, rule: str) -> list[dict]:
    return [a for a in payload["alerts"] if a["rule"] == rule]


def stop_and_return(r: Runner, hurt: date) -> date:
    """7/10 during a run on ``hurt``, then two pain-free mornings: return_to_run step 1 on hurt + 2."""
    r.pain(hurt, 7, "during")
    r.pain(hurt + days(1), 1, "next_morning")
    r.pain(hurt + days(2), 1, "next_morning")
    assert r.plan(hurt + days(2))["phase"] == "return_to_run"
    return hurt + days(2)


# --- blind to over-running the plan (dangerous) ------------------------------------------------------------

@pytest.mark.slow
def test_running_far_above_a_return_step_is_an_alert_with_both_numbers_and_the_step_repeats(runner):
    """Return step 2 allows a 6 km longest run here; 14 km on five days in a row, 11 days after a 7/10 stop
    (a 12 km pre-episode run still in the 30-day window) was 'no spike' and a week later 'step 2 done'."""
    r = runner
    back = stop_and_return(r, DAY0)
    r.run([(back + days(1), 2.5), (back + days(3), 3.0)])
    for k in range(4, 9):
        r.pain(back + days(k), 1, "next_morning")
    step2 = r.plan(back + days(8))
    assert (step2["phase"], step2["step"]) == ("return_to_run", 2), step2
    run_cap = step2["max_run_km"]
    assert run_cap <= 0.5 * 12.0 + 1e-6
    first = back + days(9)  # 11 days after the stop
    r.run([(first + days(k), 14.0) for k in range(5)])
    for k in range(5):
        r.pain(first + days(k), 1, "next_morning")
    rep = r.report(first + days(4))
    over = alerts_of(rep, "step_overrun")
    assert over, rep["alerts"]
    assert any("14 km run" in a["message"] and f"your step's {run_cap:g} km" in a["message"] for a in over), over
    assert rep["latest_run"]["above_step_cap"] is True and rep["latest_run"]["step_cap_km"] == pytest.approx(
        run_cap, abs=0.1)
    text = r.report_text(first + days(4))
    assert "above your step's" in text and "no spike" not in text.split("Plan for")[0], text
    # the step does not advance on pain alone: a week of pain-free check-ins later, still step 2
    for k in range(5, 12):
        r.pain(first + days(k), 0, "next_morning")
    later = r.report(first + days(11))
    assert (later["plan"]["phase"], later["plan"]["step"]) == ("return_to_run", 2), later["plan"]
    assert "step 2 done" not in " ".join(s["reason"] for s in later["phases"])
    # report --json: per step, what was run in it against its caps
    step_seg = [s for s in later["phases"] if s["phase"] == "return_to_run" and s["step"] == 2][-1]
    assert step_seg["over_caps"] is True and step_seg["longest_run_km"] == pytest.approx(14.0, abs=0.05)
    assert step_seg["cap_run_km"] == pytest.approx(run_cap, abs=0.1) and step_seg["runs"] >= 5


# --- dead ends -----------------------------------------------------------------------------------------------

@pytest.mark.slow
def test_a_chronic_runner_at_their_usual_3_leaves_stop(runner):
    """A usual morning of 3/10 (chronic, stable): one 6/10 day used to stop them for good, since leaving
    needed two check-ins at 2 or less."""
    r = runner
    for k in range(14):
        r.pain(DAY0 + days(k), 3, "next_morning")
    hurt = DAY0 + days(14)
    r.pain(hurt, 6, "after")
    assert r.plan(hurt)["phase"] == "stop"
    for k in range(1, 30):
        r.pain(hurt + days(k), 3, "next_morning")
    plan = r.plan(hurt + days(2))
    assert plan["phase"] == "return_to_run", plan
    assert "3 or less" in r.plan(hurt + days(1))["next_step"]  # the usual level, said in words


def test_a_gp_seen_in_the_afternoon_closes_the_morning_symptom_the_same_day(runner):
    """A GP seen at 16:00 about a symptom logged at 07:00 the same day closed nothing, and `pain assessed`
    promised a return that never came."""
    r = runner
    d = DAY0 + days(3)
    r.pain(d, 4, "next_morning", "radiating_below_knee", at="07:00")
    assert r.plan(d)["phase"] == "see_clinician"
    said = r.assessed(d, "GP", at="16:00")
    plan = r.plan(d)
    assert plan["phase"] == "return_to_run" and plan["max_week_km"] is not None, plan
    assert "Your plan after the visit: Return to running since" in said, said


@pytest.mark.slow
def test_known_improving_sciatica_logged_honestly_after_the_visit_does_not_reopen(runner):
    """Logging the assessed symptom again (same or lower score) after seeing a GP and a physio re-escalated
    each time: no plan for five weeks.  The symptom 2 points higher, or a new red flag, does reopen."""
    r = runner
    d = DAY0 + days(1)
    r.pain(d, 5, "next_morning", "radiating_below_knee")
    r.assessed(d + days(1), "GP: sciatica, keep moving")
    for k in range(2, 30):
        score = 5 if k < 10 else 4 if k < 20 else 3
        said = r.pain(d + days(k), score, "next_morning", "radiating_below_knee")
        # the command that logs it does not shout "see a clinician" at a known symptom either
        assert "SEE A CLINICIAN" not in said and "already assessed" in said, said
    for k in range(2, 30):
        plan = r.plan(d + days(k)) if k % 7 == 2 else None
        if plan is not None:
            assert plan["phase"] not in ("see_clinician", "emergency"), (k, plan)
    assert r.plan(d + days(29))["phase"] not in ("see_clinician", "emergency")
    # 2 points above what the clinician saw: reopens
    r.pain(d + days(30), 7, "next_morning", "radiating_below_knee")
    assert r.plan(d + days(30))["phase"] == "see_clinician"
    # a new red flag the clinician has not seen: reopens
    r2 = runner.clone(runner.folder.parent / "r2")
    r2.pain(d + days(30), 3, "next_morning", "weakness_leg")
    assert r2.plan(d + days(30))["phase"] == "see_clinician"


# --- mild, improving pain is not a red flag ---------------------------------------------------------------------

@pytest.mark.parametrize("log_pain_free_mornings", [True, False])
def test_mild_stiffness_on_most_mornings_keeps_the_return_and_its_numbers(runner, log_pain_free_mornings):
    """1/10 stiffness on most mornings for three weeks, the runner's normal, sent runners doing well on the
    return to 'see a clinician' and removed every number; the same body gave opposite answers depending on
    whether pain-free mornings were logged."""
    r = runner
    back = stop_and_return(r, DAY0)
    for k in range(1, 25):
        d = back + days(k)
        if k % 3 != 0:
            r.pain(d, 1, "next_morning")
        elif log_pain_free_mornings:
            r.pain(d, 0, "next_morning")
        if k % 2 == 1:
            r.run([(d, 2.0)])
    rep = r.report(back + days(24))
    plan = rep["plan"]
    assert plan["phase"] in ("return_to_run", "normal") and not plan["referral"], plan
    assert plan["max_week_km"] is not None and plan["max_run_km"] is not None
    assert not alerts_of(rep, "pain_persistent")


# --- a false "rising" ---------------------------------------------------------------------------------------------

def test_the_entry_that_stopped_the_runner_is_not_the_before_of_a_rise(runner):
    """The 7/10 that caused a stop was averaged with the return's 0/10s: 'rising: 2.3/10 against 0.0/10', a red
    'cut the next week to about half' beside a plan that steps up, and the step restarted."""
    r = runner
    r.pain(DAY0, 0, "during")
    r.pain(DAY0 + days(2), 0, "during")
    hurt = DAY0 + days(4)
    r.pain(hurt, 7, "during")
    r.pain(hurt + days(1), 0, "during")
    r.pain(hurt + days(2), 0, "during")
    for k in range(3, 12):
        r.pain(hurt + days(k), 0 if k % 2 else 2, "after")
    for k in range(3, 12):
        rep = r.check(hurt + days(k))
        assert not alerts_of(rep, "pain_rising"), (k, rep["alerts"])
        assert "about half" not in " ".join(a["message"] for a in rep["alerts"])


# --- many voices ---------------------------------------------------------------------------------------------------

def test_in_stop_no_alert_says_cut_the_week_to_half(runner):
    r = runner
    r.pain(DAY0, 6, "next_morning")
    r.pain(DAY0 + days(1), 7, "after")
    r.pain(DAY0 + days(2), 6, "next_morning")
    rep = r.check(DAY0 + days(2))
    assert rep["plan"]["phase"] == "stop"
    pains = [a for a in rep["alerts"] if a["rule"].startswith("pain")]
    assert len(pains) >= 2
    for a in rep["alerts"]:
        assert "about half" not in a["message"] and "keep runs easy" not in a["message"], a
    assert all(a["action"].startswith("Stop running") for a in pains), pains


def test_a_green_light_never_sits_above_a_red_alert(runner):
    """A hold closed after a week; the 4/10 that opened it was still shown beside a green light."""
    r = runner
    r.pain(DAY0, 4, "after")
    for k in range(1, 9):
        r.pain(DAY0 + days(k), 1, "after")
    rep = r.check(DAY0 + days(8))
    assert rep["plan"]["phase"] == "normal"
    assert rep["plan"]["status"] != "green" or not [a for a in rep["alerts"] if a["alarm"]], rep["alerts"]


def test_the_spike_alert_names_the_plans_run_cap(runner):
    """The spike alert said 'keep every run at or below 26 km' while the plan said 16 km: in a return the spike
    alert's cap came from the pre-episode runs still in the 30-day window, the plan's from the step."""
    r = runner
    back = stop_and_return(r, DAY0)
    r.run([(back + days(1), 14.0)])  # above 1.10 x the 12 km pre-episode run: a spike, and far above the step
    rep = r.report(back + days(1))
    spikes = alerts_of(rep, "session_spike")
    assert spikes and rep["plan"]["max_run_km"] is not None
    cap = rep["plan"]["max_run_display"]
    assert cap < 12
    for a in spikes:
        assert re.findall(r"at or below (\d+(?:\.\d+)?) km", a["message"]) == [f"{cap:g}"], (a["message"], cap)


def test_miles_are_rounded_once_from_the_exact_figure(base, tmp_path):
    """In miles the headline said '≤ 6 mi, longest ≤ 2.4 mi' and the plan lines 5.9 and 2.3 (caps rounded in
    km, then again in miles)."""
    r = base.clone(tmp_path / "mi")
    r.cli("settings", "set", "units", "mi")
    back = stop_and_return(r, DAY0)
    rep = r.report(back)
    plan = rep["plan"]
    for key in ("max_week", "max_run"):
        shown = plan[f"{key}_display"]
        assert f"≤ {shown:g} mi" in plan["message"], (shown, plan["message"])
        assert plan[f"{key}_km"] / 1.609344 == pytest.approx(shown, abs=1e-9)
    text = r.report_text(back)
    assert f"Total for the next 7 days: at most {plan['max_week_display']:g} mi" in text
    assert f"Longest single run: at most {plan['max_run_display']:g} mi" in text


def test_pain_later_in_the_day_without_a_run_for_months_is_not_pain_with_running(runner):
    r = runner
    d = DAY0 + days(70)  # the last run was on 2 Mar
    r.pain(d, 7, "rest_of_day")
    text = r.check_text(d)
    rep = r.check(d)
    assert rep["plan"]["phase"] == "stop"
    assert "pain with running" not in text and "during a run" not in text, text
    assert "no run in the 7 days before" in text, text
    assert {a["rule"] for a in rep["alerts"] if a["rule"].startswith("pain")} == {"pain_without_run"}


# --- caps nobody can follow ---------------------------------------------------------------------------------------------

@pytest.mark.slow
def test_a_big_runners_week_cap_is_never_more_than_its_runs_at_the_run_cap(tmp_path):
    """A 140 km/week runner at step 3 read '≤ 98 km, longest ≤ 22 km, runs: 3' (at most 66 km)."""
    r = Runner(tmp_path / "big")
    runs = []
    for w in range(6):
        m = MONDAY + timedelta(weeks=w)
        runs += [(m + days(k), km) for k, km in zip((0, 1, 2, 3, 4, 5, 6), (20, 20, 20, 20, 20, 10, 30), strict=True)]
    r.run(runs)
    hurt = MONDAY + timedelta(weeks=6)
    r.pain(hurt, 7, "during")
    r.assessed(hurt + days(1), "physio", return_step=3)
    plan = r.plan(hurt + days(1))
    assert (plan["phase"], plan["step"]) == ("return_to_run", 3)
    assert plan["runs"] and plan["max_week_km"] <= plan["runs"] * plan["max_run_km"] + 1e-6, plan
    assert "set by your clinician" in " ".join(plan["reasons"]) and plan["set_by_clinician"]


def test_stop_cross_training_is_at_most_half_the_running_time_and_300_minutes(tmp_path):
    r = Runner(tmp_path / "ultra")
    runs = []
    for w in range(5):
        m = MONDAY + timedelta(weeks=w)
        runs += [(m + days(k), 25.0) for k in range(6)]  # 150 km a week: about 14 hours of running
    r.run(runs)
    hurt = MONDAY + timedelta(weeks=5)
    r.pain(hurt, 7, "after")
    plan = r.plan(hurt)
    assert plan["phase"] == "stop" and plan["cross_training_min"] <= th.STOP_CROSS_TRAINING_MAX_MIN, plan


def test_after_seven_months_off_the_rebuild_is_a_run_a_person_can_do(runner):
    """After seven months off: 'rebuild step 1 of 4: next week ≤ 0.9 km', called a back-pain episode with no
    pain logged, and steps 2-4 complete with no run at all."""
    r = runner
    d = DAY0 + days(210)
    rep = r.check(d)
    plan = rep["plan"]
    assert (plan["phase"], plan["step"], plan["steps"]) == ("rebuild", 1, 4), plan
    assert plan["max_week_km"] >= th.STEP_FLOOR_WEEK_RUNS * th.STEP_FLOOR_RUN_KM - 1e-6, plan
    assert plan["max_run_km"] >= th.STEP_FLOOR_RUN_KM - 1e-6, plan
    assert "back-pain episode" not in r.check_text(d).lower()
    later = r.check(d + days(60))["plan"]
    assert (later["phase"], later["step"]) == ("rebuild", 1), later  # no run, no step done


# --- the clinician decides -------------------------------------------------------------------------------------------

@pytest.mark.slow
def test_the_plan_follows_the_clinicians_own_caps_and_says_so(runner):
    r = runner
    r.pain(DAY0, 7, "during")
    said = r.assessed(DAY0 + days(1), "physio", max_week="15", max_run="6", max_pain=4)
    plan = r.plan(DAY0 + days(2))
    assert plan["phase"] == "return_to_run" and plan["set_by_clinician"] == (DAY0 + days(1)).isoformat()
    assert plan["max_week_km"] <= 15.0 + 1e-6 and plan["max_run_km"] <= 6.0 + 1e-6
    assert "Set by your clinician on Tue 4 Mar 2025" in r.check_text(DAY0 + days(2))
    assert "Set by your clinician on Tue 4 Mar 2025" in said
    # pain of 4 during a run is within what the clinician allowed: no hold, the plan goes on
    r.run([(DAY0 + days(3), 5.0)])
    r.pain(DAY0 + days(3), 4, "during")
    assert r.plan(DAY0 + days(3))["phase"] == "return_to_run"
    # pain the clinician allowed, logged after every run for weeks, is not persistent pain: no referral
    for k in range(4, 40, 2):
        r.run([(DAY0 + days(k), 5.0)])
        r.pain(DAY0 + days(k), 4, "during")
        r.pain(DAY0 + days(k + 1), 1, "next_morning")
    late = r.plan(DAY0 + days(39))
    assert not late["referral"] and late["set_by_clinician"] == (DAY0 + days(1)).isoformat(), late
    assert late["phase"] in ("return_to_run", "normal"), late
    # cleared: normal training from the visit
    r.assessed(DAY0 + days(40), "physio", cleared=True)
    assert r.plan(DAY0 + days(40))["phase"] == "normal"


# --- the lives test's findings (tests/test_episode_lives.py) ---------------------------------------------

def test_a_run_above_the_step_on_the_day_the_visit_starts_it_is_an_over_run(runner):
    """A 9/10 with sciatica at 18:00, a visit at 21:00 that decides nothing: return step 1 from that day
    (longest run 4.2 km here).  A 9.4 km run of that day counted towards the step's two runs yet raised no
    alert: the walker judged the day's runs before the visit started the step."""
    r = runner
    r.assessed(DAY0, "seen", at="21:00")
    r.pain(DAY0, 9, "during", "radiating_below_knee", at="18:00")
    plan = r.plan(DAY0)
    assert (plan["phase"], plan["step"]) == ("return_to_run", 1), plan
    cap = plan["max_run_km"]
    r.run([(DAY0, 9.4)])
    after = r.check(DAY0)
    over = [a for a in alerts_of(after, "step_overrun") if a["date"] == DAY0.isoformat()
            and a["values"]["kind"] == "run"]
    assert len(over) == 1, after["alerts"]
    assert over[0]["values"]["distance_km"] == pytest.approx(9.4)
    assert over[0]["values"]["cap_km"] == pytest.approx(cap)
    assert "9.4 km" in over[0]["message"] and f"{cap:g} km" in over[0]["message"], over[0]["message"]
    # the step repeats: two runs inside its caps and green check-ins do not move it on after 7 days
    r.run([(DAY0 + days(2), 2.0), (DAY0 + days(4), 2.0)])
    for k in range(1, 8):
        r.pain(DAY0 + days(k), 1, "next_morning")
    assert r.plan(DAY0 + days(7))["step"] == 1
    text = r.check_text(DAY0)
    assert "9.4 km" in text and "step_overrun" not in text, text


def test_a_red_flag_logged_after_the_visit_the_same_day_stays_escalated(runner):
    """A visit at 12:00, then sciatica logged at 18:00 the same day: the visit closes only what was logged
    at or before it (SCIENCE.md section 11), so the 18:00 entry asks for a clinician."""
    r = runner
    r.assessed(DAY0, "seen", at="12:00")
    r.pain(DAY0, 3, "after", "radiating_below_knee", at="18:00")
    plan = r.plan(DAY0)
    assert plan["phase"] == "see_clinician" and plan["max_run_km"] is None, plan
    assert r.plan(DAY0 + days(3))["phase"] == "see_clinician"


def test_a_run_above_the_plans_frandsen_cap_in_a_rebuild_is_an_over_run_and_the_step_repeats(runner):
    """Back after five weeks off with a 2 km run: rebuild step 1 allows 6 km by its own fraction, but the
    plan says the lower number, 1.10 x the 2 km (SCIENCE.md section 13: while a step applies the Frandsen cap
    applies too).  A 4 km run two days later was judged against the step's 6 km: no over-run, and it
    counted as the second run 'inside its caps', so the step advanced over it (found by the lives test)."""
    r = runner
    back = DAY0 + days(35)  # the last run was Sun 2 Mar: more than 30 days
    r.run([(back, 2.0)])
    before = r.check(back + days(1))
    plan = before["plan"]
    assert (plan["phase"], plan["step"]) == ("rebuild", 1), plan
    step_cap = before["phases"][-1]["cap_run_km"]
    assert plan["max_run_km"] < step_cap, (plan, before["phases"][-1])  # the Frandsen cap is the lower
    r.run([(back + days(2), 4.0)])
    after = r.check(back + days(2))
    over = [a for a in alerts_of(after, "step_overrun") if a["date"] == (back + days(2)).isoformat()]
    assert len(over) == 1, after["alerts"]
    assert over[0]["values"]["cap_km"] == pytest.approx(plan["max_run_km"])
    # the step repeats: runs inside the plan afterwards do not move it on within 7 days of the over-run
    r.run([(back + days(4), 2.0), (back + days(6), 2.0)])
    assert r.plan(back + days(8))["step"] == 1


# --- a play-through: the rebuild of the first break that never ended -------------------------------------

def test_the_rebuild_is_the_latest_breaks_and_regular_running_ends_it(today, tmp_path):
    """A new runner imported a 13.4 mi run of 2013, months of later running and nothing since 2021: `alerts
    check` said 'Rebuild after a break since Sat 9 Mar 2013 ... no run since Wed 6 Feb 2013' a month after a
    13.4 mi run, flagged every run since as 'too much too soon; the step starts again', and today offered
    the next step 'from Sat 5 Jun 2021 at the earliest'.  Generated in the same shape: one run years ago, a
    long gap, eight weeks of regular running far above the step it allowed, another long gap, today."""
    from loadwatch.metrics.fmt import day as fday

    r = Runner(tmp_path / "runner")
    back = today - timedelta(days=2000)
    back -= timedelta(days=back.weekday())  # a Monday
    regular = weeks_of_runs(back, 8, 6.0, 10.0)  # Tue 6, Thu 6, Sun 10 km
    r.run([(back - timedelta(days=2500), 21.5), *regular])
    comeback, last = regular[0][0], regular[-1][0]
    # the first weeks back: each run above the step is an alert with both numbers
    early = r.check(comeback + days(19))
    assert early["plan"]["phase"] == "rebuild" and alerts_of(early, "step_overrun"), early["alerts"]
    # four weeks of running above the step with no pain: normal, and no run after that is an over-run
    settled = comeback + days(th.REBUILD_HISTORY_DAYS)
    for d in (settled, last):
        rep = r.check(d)
        assert rep["plan"]["phase"] == "normal", (d, rep["plan"])
        assert not [a for a in alerts_of(rep, "step_overrun") if a["date"] > settled.isoformat()], rep["alerts"]
    # today: the rebuild of the latest break, waiting for the first run back
    rep = r.check(today)
    plan = rep["plan"]
    since = last + days(th.REBUILD_GAP_DAYS + 1)
    assert (plan["phase"], plan["step"], plan["steps"], plan["phase_since"]) == ("rebuild", 1, 4, since.isoformat())
    assert not alerts_of(rep, "step_overrun")
    text = r.check_text(today)
    assert f"Rebuild after a break since {fday(since)}" in text, text
    assert f"no run since {fday(last)}" in text and "at the earliest" not in text, text
    assert "None" not in text and "nan" not in text
    segs = [s for s in rep["phases"] if s["phase"] == "rebuild"]
    assert [s["start"] for s in segs][-1] == since.isoformat() and len(segs) == 2, rep["phases"]
    r.cli("settings", "set", "units", "mi")
    miles = r.check_text(today)
    assert re.search(r"longest \d+(\.\d)? mi", miles) and not re.search(r"\d km\b", miles), miles
