"""The phase timeline (loadwatch.metrics.episodes, SCIENCE.md sections 10, 11 and 13) on hand-built frames."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loadwatch.metrics import episodes as ep
from loadwatch.metrics import thresholds as th
from tests.test_detector import make_pain, make_runs

START = date(2025, 1, 6)  # a Monday


def weeks_of_runs(weeks: int = 8, start: date = START, pattern=((0, 6.0), (2, 6.0), (5, 10.0))) -> list[tuple]:
    """Mon 6, Wed 6, Sat 10 km: 22 km a week, longest 10 km."""
    return [(f"r{w}-{off}", start + timedelta(days=7 * w + off), km) for w in range(weeks) for off, km in pattern]


def at(d: date, hour: int = 19) -> datetime:
    return datetime(d.year, d.month, d.day, hour)


def phase_on(tl: pd.DataFrame, d: date) -> tuple[str, int | None]:
    row = ep.today(tl, d)
    return row["phase"], row["step"]


def test_phases_are_the_documented_eight():
    assert ep.PHASES == ("normal", "hold", "reduce", "stop", "return_to_run", "rebuild", "see_clinician",
                         "emergency")


def test_empty_history_is_normal():
    tl = ep.phase_timeline(None, None, end=date(2025, 3, 1))
    assert len(tl) == 1 and tl["phase"].iloc[0] == "normal"
    assert ep.phase_segments(ep.phase_timeline(None, None)) == []


def test_one_row_per_day_with_the_documented_columns():
    runs = make_runs(weeks_of_runs(4))
    tl = ep.phase_timeline(runs, None, end=START + timedelta(days=40))
    assert tl.index[0] == START and tl.index[-1] == START + timedelta(days=40)
    assert len(tl) == 41
    assert {"phase", "since", "step", "steps", "reason", "entry_id", "entry_kind"} <= set(tl.columns)


def test_stop_waits_for_two_check_ins_with_pain_at_2_or_less_then_returns_in_steps():
    runs = make_runs(weeks_of_runs(8))
    hurt = START + timedelta(days=7 * 8)  # a Monday after 8 weeks of 22 km
    rows = [(at(hurt), 7, "during")]
    # nothing logged for three weeks: still stop (no time-out to green)
    tl = ep.phase_timeline(make_runs(weeks_of_runs(8)), make_pain(rows), end=hurt + timedelta(days=21))
    assert phase_on(tl, hurt + timedelta(days=21)) == ("stop", None)
    row = ep.today(tl, hurt + timedelta(days=21))
    assert math.isnan(row["max_week_km"]) and math.isnan(row["max_run_km"])
    # one check-in with 2, one with 3 (resets), then two with 1 and 2
    rows += [(at(hurt + timedelta(days=22), 8), 2, "next_morning"), (at(hurt + timedelta(days=23), 8), 3, "next_morning"),
             (at(hurt + timedelta(days=24), 8), 1, "next_morning"), (at(hurt + timedelta(days=24), 20), 1, "rest_of_day")]
    tl = ep.phase_timeline(runs, make_pain(rows), end=hurt + timedelta(days=26))
    assert phase_on(tl, hurt + timedelta(days=24)) == ("stop", None)
    assert ep.today(tl, hurt + timedelta(days=24))["stop_checkins"] == 1
    rows.append((at(hurt + timedelta(days=26), 8), 2, "next_morning"))
    tl = ep.phase_timeline(runs, make_pain(rows), end=hurt + timedelta(days=26))
    back = ep.today(tl, hurt + timedelta(days=26))
    assert (back["phase"], back["step"], back["steps"]) == ("return_to_run", 1, 4)
    assert back["entry_kind"] == "pain" and back["entry_id"] == len(rows)
    # targets from the PRE-episode weeks, however long the stop lasted: 30 % of 22 km, 35 % of 10 km
    pre_week = sum(r[2] for r in weeks_of_runs(8) if hurt - timedelta(days=28) <= r[1] < hurt) / 4
    pre_long = 10.0
    assert back["max_week_km"] == pytest.approx(0.30 * pre_week, rel=0.02)
    assert back["max_run_km"] == pytest.approx(0.35 * pre_long)


def _return_history(step_scores):
    """A stop on day 0 (pain 7), cleared on days 2 and 3; then one check-in a day with the given scores."""
    runs = weeks_of_runs(8)
    hurt = START + timedelta(days=7 * 8)
    # short walk-run outings, three a week with a rest day between (the plan's "up to 3 runs"), below every
    # step's caps and the plan's own (the Frandsen cap and 3 x the run cap included)
    runs += [(f"walk-run-{k}", hurt + timedelta(days=4 + k), 1.5) for k in range(len(step_scores)) if k % 7 in (0, 2, 4)]
    rows = [(at(hurt), 7, "during"), (at(hurt + timedelta(days=2), 8), 1, "next_morning"),
            (at(hurt + timedelta(days=3), 8), 1, "next_morning")]
    for k, score in enumerate(step_scores, start=4):
        if score is not None:
            rows.append((at(hurt + timedelta(days=k)), score, "after"))
    end = hurt + timedelta(days=3 + len(step_scores))
    return make_runs(runs), make_pain(rows), hurt, end


def test_each_step_lasts_7_days_and_advances_only_on_a_check_in():
    runs, pain, hurt, end = _return_history([0] * 40)
    tl = ep.phase_timeline(runs, pain, end=end)
    first = hurt + timedelta(days=3)
    assert phase_on(tl, first) == ("return_to_run", 1)
    assert phase_on(tl, first + timedelta(days=6)) == ("return_to_run", 1)
    assert phase_on(tl, first + timedelta(days=7)) == ("return_to_run", 2)
    assert phase_on(tl, first + timedelta(days=14)) == ("return_to_run", 3)
    assert phase_on(tl, first + timedelta(days=21)) == ("return_to_run", 4)
    assert phase_on(tl, first + timedelta(days=28)) == ("normal", None)
    caps = [ep.today(tl, first + timedelta(days=7 * k))["step_week_km"] for k in range(4)]
    assert caps == sorted(caps)  # 30, 50, 70, 90 % of the pre-episode week
    # no check-ins: no progress
    runs, pain, hurt, end = _return_history([None] * 30)
    tl = ep.phase_timeline(runs, pain, end=end)
    assert phase_on(tl, end) == ("return_to_run", 1)


def test_amber_pain_repeats_the_step_and_red_pain_goes_back_to_stop():
    scores = [0] * 5 + [4] + [0] * 10  # a 4 on day 5 of step 1
    runs, pain, hurt, end = _return_history(scores)
    tl = ep.phase_timeline(runs, pain, end=end)
    first = hurt + timedelta(days=3)
    amber = hurt + timedelta(days=4 + 5)
    assert phase_on(tl, first + timedelta(days=7)) == ("return_to_run", 1)  # repeated
    assert phase_on(tl, amber + timedelta(days=6)) == ("return_to_run", 1)
    assert phase_on(tl, amber + timedelta(days=7)) == ("return_to_run", 2)
    runs, pain, hurt, end = _return_history([1] * 9 + [6])
    tl = ep.phase_timeline(runs, pain, end=end)
    assert phase_on(tl, end) == ("stop", None)
    assert ep.today(tl, end)["episode_start"] == hurt  # the relapse keeps the pre-episode figures


def test_red_flag_stays_until_assessed_then_returns_at_the_step_the_running_fits():
    runs = weeks_of_runs(8)
    flag = START + timedelta(days=7 * 8)
    # kept running at under half the former week after the red flag (9 km a week, longest 4 km)
    runs += [(f"after-{k}", flag + timedelta(days=7 * k + off), km) for k in range(3)
             for off, km in ((1, 4.0), (4, 4.0), (6, 1.0))]
    pain = make_pain([(at(flag), 3, "after", ("numbness_one_leg",))])
    tl = ep.phase_timeline(make_runs(runs), pain, end=flag + timedelta(days=60))
    assert set(tl.loc[flag:]["phase"]) == {"see_clinician"}
    assert tl.loc[flag:]["max_run_km"].isna().all()
    seen = flag + timedelta(days=25)
    assessed = pd.DataFrame({"id": [9], "date": [seen], "note": ["physio"]})
    tl = ep.phase_timeline(make_runs(runs), pain, assessed, end=seen + timedelta(days=1))
    row = ep.today(tl, seen)
    # pre-episode 20.5 km a week, 10 km longest: 9 km / 4 km fit step 2 (10.25, 5), not step 1 (6.15, 3.5)
    assert (row["phase"], row["step"], row["entry_kind"], row["entry_id"]) == ("return_to_run", 2, "assessment", 9)
    assert phase_on(tl, seen - timedelta(days=1)) == ("see_clinician", None)
    # no running since the red flag: step 1
    tl = ep.phase_timeline(make_runs(weeks_of_runs(8)), pain, assessed, end=seen)
    assert phase_on(tl, seen) == ("return_to_run", 1)


def test_emergency_outranks_see_clinician():
    runs = make_runs(weeks_of_runs(4))
    d = START + timedelta(days=30)
    pain = make_pain([(at(d), 2, "after", ("night_pain",)), (at(d + timedelta(days=2)), 2, "after", ("both_legs",))])
    tl = ep.phase_timeline(runs, pain, end=d + timedelta(days=90))
    assert phase_on(tl, d) == ("see_clinician", None)
    assert phase_on(tl, d + timedelta(days=90)) == ("emergency", None)


@pytest.mark.parametrize(("weeks_off", "steps", "first_frac"), [(5, 3, 0.50), (10, 4, 0.33)])
def test_rebuild_after_a_break(weeks_off, steps, first_frac):
    runs = weeks_of_runs(8)
    last = max(r[1] for r in runs)
    back = last + timedelta(weeks=weeks_off)
    # every third day, inside every step's caps (a week of three 2 km runs is the floor)
    runs += [(f"back-{k}", back + timedelta(days=3 * k), 2.0) for k in range(20)]
    # a runner who never logs pain: steps move on time and runs alone
    tl = ep.phase_timeline(make_runs(runs), None, end=back + timedelta(days=60))
    assert phase_on(tl, last + timedelta(days=30)) == ("normal", None)
    assert phase_on(tl, last + timedelta(days=31)) == ("rebuild", 1)
    row = ep.today(tl, back)
    assert (row["phase"], row["step"], row["steps"]) == ("rebuild", 1, steps)
    pre_week = sum(r[2] for r in weeks_of_runs(8) if r[1] > last - timedelta(days=28)) / 4
    assert row["step_week_km"] == pytest.approx(max(first_frac * pre_week, 3 * th.STEP_FLOOR_RUN_KM))
    # the plan's week is never more than the runs allowed at its run cap (the Frandsen cap of a 2 km run)
    assert row["max_week_km"] <= row["runs_per_week"] * row["max_run_km"] + 1e-9
    assert phase_on(tl, back + timedelta(days=7)) == ("rebuild", 2)
    assert phase_on(tl, back + timedelta(days=7 * steps)) == ("normal", None)


def test_rebuild_of_a_runner_who_logs_waits_for_check_ins():
    runs = weeks_of_runs(8)
    last = max(r[1] for r in runs)
    back = last + timedelta(weeks=6)
    runs += [(f"back-{k}", back + timedelta(days=3 * k), 3.0) for k in range(7)]
    pain = make_pain([(at(START), 1, "after"), (at(back + timedelta(days=9)), 2, "after")])
    tl = ep.phase_timeline(make_runs(runs), pain, end=back + timedelta(days=20))
    assert phase_on(tl, back + timedelta(days=8)) == ("rebuild", 1)
    assert phase_on(tl, back + timedelta(days=9)) == ("rebuild", 2)
    assert phase_on(tl, back + timedelta(days=20)) == ("rebuild", 2)


def test_hold_and_reduce_leave_after_a_good_week_on_a_check_in():
    runs = make_runs(weeks_of_runs(8))
    d = START + timedelta(days=40)
    pain = make_pain([(at(d), 4, "after"), (at(d + timedelta(days=3)), 2, "after"),
                      (at(d + timedelta(days=7)), 1, "after")])
    tl = ep.phase_timeline(runs, pain, end=d + timedelta(days=7))
    assert phase_on(tl, d) == ("hold", None)
    assert phase_on(tl, d + timedelta(days=6)) == ("hold", None)
    assert phase_on(tl, d + timedelta(days=7)) == ("normal", None)
    pain = make_pain([(at(d, 7), 6, "next_morning")])
    assert phase_on(ep.phase_timeline(runs, pain, end=d), d)[0] == "stop"  # next morning above 5 stops
    pain = make_pain([(at(d, 7), 4, "next_morning")])
    tl = ep.phase_timeline(runs, pain, end=d + timedelta(days=30))
    assert phase_on(tl, d + timedelta(days=30)) == ("reduce", None)  # nothing logged: no progress
    row = ep.today(tl, d)
    assert row["max_week_km"] == pytest.approx(th.REDUCE_FRAC * ep.today(
        ep.phase_timeline(runs, make_pain([(at(d), 4, "after")]), end=d), d)["max_week_km"])


def test_usual_morning_level_leaves_out_mornings_inside_an_episode():
    runs = make_runs(weeks_of_runs(8))
    rows = [(at(START + timedelta(days=k), 7), 1, "next_morning") for k in range(0, 20, 2)]
    ep_day = START + timedelta(days=21)
    rows += [(at(ep_day), 7, "during")]  # stop; mornings of 4 while stopped are inside the episode
    rows += [(at(ep_day + timedelta(days=k), 7), 4, "next_morning") for k in (1, 2, 3)]
    walked = ep.walk(runs, make_pain(rows), end=ep_day + timedelta(days=3))
    morning = [r for r in walked.readings if r.timing == "next_morning" and r.day > ep_day]
    assert all(r.usual_score == 1.0 for r in morning)


def test_segments_join_days_of_one_phase_and_step():
    runs, pain, hurt, end = _return_history([0] * 16)
    segs = ep.phase_segments(ep.phase_timeline(runs, pain, end=end))
    assert [s["phase"] for s in segs] == ["normal", "stop", "return_to_run", "return_to_run", "return_to_run"]
    assert [s["step"] for s in segs[2:]] == [1, 2, 3]
    for a, b in zip(segs, segs[1:], strict=False):
        assert b["start"] == a["end"] + timedelta(days=1)
    assert segs[-1]["end"] == end and set(segs[0]) == {"start", "end", "phase", "step", "steps", "reason"}


# --- properties ------------------------------------------------------------------------------------

entry = st.tuples(st.integers(0, 69), st.integers(0, 10), st.sampled_from(sorted(th.PAIN_TIMING_GROUPS)),
                  st.sampled_from([(), (), (), ("night_pain",), ("saddle_numbness",)]))


@settings(max_examples=40, deadline=None)
@given(entries=st.lists(entry, max_size=25), assessed=st.lists(st.integers(0, 69), max_size=2),
       extra_runs=st.lists(st.tuples(st.integers(0, 69), st.floats(1.0, 25.0)), max_size=20))
def test_no_training_number_after_a_red_flag_before_an_assessment(entries, assessed, extra_runs):
    base = START + timedelta(days=56)
    runs = weeks_of_runs(8) + [(f"x{i}", base + timedelta(days=d), km) for i, (d, km) in enumerate(extra_runs)]
    pain = make_pain([(at(base + timedelta(days=d)), s, t, sy) for d, s, t, sy in entries])
    frame = pd.DataFrame({"id": range(1, len(assessed) + 1), "date": [base + timedelta(days=d) for d in assessed],
                          "note": ""})
    tl = ep.phase_timeline(make_runs(runs), pain, frame, end=base + timedelta(days=70))
    # the oracle (section 11): an assessment (the end of its day) closes every flag before it; the
    # symptom it saw, logged again less than 2 points higher, is known and does not reopen; an emergency
    # symptom always does
    events = sorted([(base + timedelta(days=d), 0, s, sy) for d, s, _t, sy in entries] +
                    [(base + timedelta(days=d), 1, None, None) for d in assessed], key=lambda e: (e[0], e[1]))
    open_on: dict = {}
    is_open, known, since_visit = False, {}, []
    for d, kind, score, sy in events:
        if kind == 1:
            for sc, s2 in since_visit:
                for x in s2:
                    if x in th.URGENT_SYMPTOMS:
                        known[x] = max(known.get(x, 0), sc)
            is_open, since_visit = False, []
        elif sy:
            urgent = [x for x in sy if x in th.URGENT_SYMPTOMS]
            if any(x in th.EMERGENCY_SYMPTOMS for x in sy) or not all(
                    x in known and score < known[x] + th.REOPEN_MARGIN for x in urgent):
                is_open = True
                since_visit.append((score, sy))
        open_on[d] = is_open
    state = False
    for day, row in tl.iterrows():
        state = open_on.get(day, state)
        if state:
            assert row["phase"] in ep.ESCALATIONS, (day, row["phase"])
            assert math.isnan(row["max_week_km"]) and math.isnan(row["max_run_km"])


@settings(max_examples=40, deadline=None)
@given(entries=st.lists(st.tuples(st.integers(0, 41), st.integers(0, 10), st.sampled_from(sorted(th.PAIN_TIMING_GROUPS))),
                        max_size=25),
       extra_runs=st.lists(st.tuples(st.integers(0, 41), st.floats(1.0, 25.0)), max_size=20))
def test_caps_never_rise_while_pain_is_above_3(entries, extra_runs):
    base = START + timedelta(days=56)
    runs = weeks_of_runs(8) + [(f"x{i}", base + timedelta(days=d), km) for i, (d, km) in enumerate(extra_runs)]
    pain = make_pain([(at(base + timedelta(days=d)), s, t) for d, s, t in entries])
    tl = ep.phase_timeline(make_runs(runs), pain, end=base + timedelta(days=42))
    prev = None
    for _day, row in tl.iterrows():
        if prev is not None and row["last_score"] is not None and row["last_score"] > th.PAIN_GREEN_MAX:
            for key in ("max_week_km", "max_run_km"):
                if math.isfinite(prev[key]) and math.isfinite(row[key]):
                    assert row[key] <= prev[key] + 1e-9, (key, prev[key], row[key])
        prev = row


@pytest.mark.parametrize("after_score", [1, 4])
def test_persistence_gives_the_same_answer_whether_or_not_pain_free_mornings_were_logged(after_score):
    """Persistent pain (section 10, revised) compares like with like: after-run scores with after-run
    scores.  4/10 after every other run for five weeks is persistent (a referral that holds the plan and
    keeps its numbers) with or without pain-free mornings logged; 1/10, the runner's green, never is."""
    runs = make_runs(weeks_of_runs(12))
    d0 = START + timedelta(days=28)
    mornings = [(at(d0 + timedelta(days=k), 7), 0, "next_morning") for k in range(35)]
    after = [(at(d0 + timedelta(days=k)), after_score, "after") for k in range(35) if k % 2 == 0]
    answers = []
    for rows in (mornings + after, after):
        tl = ep.phase_timeline(runs, make_pain(rows), end=d0 + timedelta(days=34))
        row = ep.today(tl, d0 + timedelta(days=34))
        answers.append(row["referral"])
        assert row["phase"] not in ep.ESCALATIONS  # a referral, not a red flag
        if row["referral"]:
            assert math.isfinite(row["max_week_km"]) and math.isfinite(row["max_run_km"])
    assert answers == [after_score > th.PERSISTENT_NO_USUAL_MAX] * 2


def test_an_assessment_closes_red_flags_logged_at_or_before_its_time():
    """Section 11 (revised): a GP seen at 16:00 about a symptom logged at 09:00 closes it that day; an
    assessment without a time is the end of its day; one at 08:00 does not close a flag logged at 09:00."""
    runs = make_runs(weeks_of_runs(8))
    d = START + timedelta(days=40)
    pain = make_pain([(at(d, 9), 3, "after", ("saddle_numbness",))])
    for when, closed in (("16:00", True), (None, True), ("08:00", False)):
        visit = pd.DataFrame({"id": [1], "date": [d], "time": [when], "note": ["A&E"]})
        tl = ep.phase_timeline(runs, pain, visit, end=d + timedelta(days=1))
        assert phase_on(tl, d)[0] == ("return_to_run" if closed else "emergency"), when
        assert phase_on(tl, d + timedelta(days=1))[0] == ("return_to_run" if closed else "emergency"), when
    next_day = pd.DataFrame({"id": [1], "date": [d + timedelta(days=1)], "note": ["A&E"]})
    tl = ep.phase_timeline(runs, pain, next_day, end=d + timedelta(days=1))
    assert phase_on(tl, d) == ("emergency", None) and phase_on(tl, d + timedelta(days=1)) == ("return_to_run", 1)


def test_stop_clears_on_low_scores_even_when_a_morning_is_above_the_usual_level():
    runs = make_runs(weeks_of_runs(8))
    rows = [(at(START + timedelta(days=k), 7), 0, "next_morning") for k in range(0, 30, 3)]  # usual 0
    hurt = START + timedelta(days=35)
    rows += [(at(hurt), 7, "during"), (at(hurt + timedelta(days=2), 7), 2, "next_morning"),
             (at(hurt + timedelta(days=4), 7), 2, "next_morning")]
    tl = ep.phase_timeline(runs, make_pain(rows), end=hurt + timedelta(days=4))
    assert phase_on(tl, hurt + timedelta(days=4)) == ("return_to_run", 1)


# --- a rebuild is judged from the latest break, and it ends (a play-through's finding) ------------------

def _over_days(walked: ep.Episode, kind: str = "run") -> list[date]:
    return sorted({o.day for o in walked.overruns if o.kind == kind})


def test_the_rebuild_follows_the_latest_break_and_regular_running_ends_it():
    """The reviewer's history in generated runs: one 21.5 km run in 2013, nothing for six years, twenty weeks
    of regular running (far above any step the 2013 run allows), a long gap, today.  The rebuild began on
    the first gap and never ended: every run of the twenty weeks was 'too much too soon; the step starts
    again', and today still said 'since Sat 9 Mar 2013, no run since Wed 6 Feb 2013'."""
    first = date(2013, 2, 6)
    back = date(2019, 9, 2)  # a Monday
    regular = weeks_of_runs(20, back)  # Mon 6, Wed 6, Sat 10 km
    last = max(r[1] for r in regular)
    today = date(2026, 12, 6)
    walked = ep.walk(make_runs([("once", first, 21.5), *regular]), None, end=today)
    tl = walked.timeline
    # the first gap does start a rebuild, and the first run back begins its step 1
    assert phase_on(tl, first + timedelta(days=th.REBUILD_GAP_DAYS + 1)) == ("rebuild", 1)
    assert phase_on(tl, back) == ("rebuild", 1)
    # four weeks of runs with no pain make a training history again: normal, the spike rule judges each run
    settled = back + timedelta(days=th.REBUILD_HISTORY_DAYS)
    assert phase_on(tl, settled - timedelta(days=1)) == ("rebuild", 1)
    assert phase_on(tl, settled) == ("normal", None)
    assert "4 weeks on step 1 since Mon 2 Sep 2019 with runs above it" in ep.today(tl, settled)["reason"]
    assert "no run between Wed 6 Feb 2013 and Mon 2 Sep 2019" in ep.today(tl, back)["reason"]
    assert set(tl.loc[settled:last]["phase"]) == {"normal"}
    # the runs above the step in those four weeks keep their over-runs; none after
    over = _over_days(walked)
    assert over and all(back <= d < settled for d in over), over
    assert over == [r[1] for r in regular if r[1] < settled and r[2] > 7.1]  # above 33 % of 21.5 km
    # today: a rebuild from the latest break, its figures the four weeks before the last run
    row = ep.today(tl, today)
    assert (row["phase"], row["step"], row["steps"]) == ("rebuild", 1, 4)
    assert row["since"] == last + timedelta(days=th.REBUILD_GAP_DAYS + 1)
    assert row["episode_start"] == last + timedelta(days=1)
    assert row["step_since"] is None and row["next_from"] is None  # step 1 starts with the first run back
    assert f"no run since {ep.fday(last)}" in row["reason"]
    pre_week = sum(r[2] for r in regular if r[1] > last - timedelta(days=th.PRE_EPISODE_DAYS)) / 4
    assert row["step_week_km"] == pytest.approx(th.REBUILD_LONG_BREAK_FIRST_FRAC * pre_week)
    assert row["step_run_km"] == pytest.approx(th.REBUILD_LONG_BREAK_FIRST_FRAC * 10.0)


def test_a_second_break_inside_a_rebuild_starts_it_again_from_that_break():
    """Back from six weeks off with two short runs, then off again for six weeks: the rebuild is the
    second break's (its day, its reason, its longest break), not the first one's step 1 going on."""
    runs = weeks_of_runs(8)
    last = max(r[1] for r in runs)
    back = last + timedelta(weeks=6)
    runs += [("back-1", back, 2.0), ("back-2", back + timedelta(days=2), 2.0)]
    again = back + timedelta(days=2)
    end = again + timedelta(weeks=10)
    tl = ep.phase_timeline(make_runs(runs), None, end=end)
    assert phase_on(tl, again + timedelta(days=th.REBUILD_GAP_DAYS)) == ("rebuild", 2)  # two runs inside step 1
    assert phase_on(tl, again + timedelta(days=th.REBUILD_GAP_DAYS + 1)) == ("rebuild", 1)
    row = ep.today(tl, end)
    assert (row["phase"], row["step"], row["steps"]) == ("rebuild", 1, 4)  # ten weeks off: the 33 % step
    assert row["since"] == again + timedelta(days=th.REBUILD_GAP_DAYS + 1)
    assert f"no run since {ep.fday(again)}" in row["reason"]
    # the pre-break figures are the weeks before the latest break: two 2 km runs, so the floors
    assert row["step_run_km"] == pytest.approx(th.STEP_FLOOR_RUN_KM)
    assert row["step_week_km"] == pytest.approx(th.STEP_FLOOR_WEEK_RUNS * th.STEP_FLOOR_RUN_KM)


def test_a_rebuild_started_over_is_a_segment_of_its_own():
    """One run back far above step 1, then six weeks off again: two rebuilds on step 1, two segments (the
    report's phases and the chart's band showed one from the first break to today)."""
    runs = weeks_of_runs(8)
    back = max(r[1] for r in runs) + timedelta(weeks=6)
    end = back + timedelta(weeks=8)
    tl = ep.phase_timeline(make_runs([*runs, ("big", back, 15.0)]), None, end=end)
    segs = [s for s in ep.phase_segments(tl) if s["start"] > START]
    again = back + timedelta(days=th.REBUILD_GAP_DAYS + 1)
    assert [(s["phase"], s["step"], s["start"]) for s in segs[-2:]] == [("rebuild", 1, segs[-2]["start"]),
                                                                        ("rebuild", 1, again)], segs
    assert segs[-2]["end"] == again - timedelta(days=1) and segs[-1]["end"] == end
    assert f"no run since {ep.fday(back)}" in segs[-1]["reason"]


@pytest.mark.parametrize("amber_day", [None, 20])
def test_runs_above_the_step_without_pain_end_the_rebuild_after_four_weeks(amber_day):
    """SCIENCE.md section 13 gives a rebuild's steps and says a run above a step repeats it; a runner who
    keeps running above it with no pain was held in step 1 for ever.  Four weeks of runs with pain at 1 after
    each make a training history again; a 4/10 (amber) in them restarts the four weeks."""
    runs = weeks_of_runs(8)
    last = max(r[1] for r in runs)
    back = last + timedelta(weeks=10)
    comeback = [(f"b{k}", back + timedelta(days=k), 8.0) for k in range(0, 70, 2)]
    scores = {k: 1 for k in range(0, 70, 2)}
    if amber_day is not None:
        scores[amber_day] = 4
    pain = make_pain([(at(back + timedelta(days=k)), s, "after") for k, s in scores.items()])
    walked = ep.walk(make_runs(runs + comeback), pain, end=back + timedelta(days=69))
    tl = walked.timeline
    ends = back + timedelta(days=th.REBUILD_HISTORY_DAYS + (amber_day or 0))
    assert phase_on(tl, ends - timedelta(days=1)) == ("rebuild", 1)
    assert phase_on(tl, ends) == ("normal", None)
    assert "a run in every week, no pain above 3" in ep.today(tl, ends)["reason"]
    assert set(tl.loc[ends:]["phase"]) == {"normal"}
    # every run of the rebuild, the last day's too, was above its step (3.3 km): each one an over-run, once
    over = _over_days(walked)
    assert over == [d for _, d, _ in comeback if d <= ends], over
    assert len([o for o in walked.overruns if o.kind == "run"]) == len(over)


#: The longest a rebuild may take for a runner who runs at least once every 7 days without pain: on each of
#: up to four steps, four weeks, and two more (7 days after the last run above it, two runs after that),
#: since a run above the step after the four weeks ends the rebuild.
REBUILD_BOUND_DAYS = 4 * (th.REBUILD_HISTORY_DAYS + 2 * 7)


@settings(max_examples=30, deadline=None)
@given(weeks_off=st.integers(5, 30), gaps=st.lists(st.integers(1, 7), min_size=REBUILD_BOUND_DAYS,
                                                   max_size=REBUILD_BOUND_DAYS),
       kms=st.lists(st.floats(0.5, 40.0), min_size=REBUILD_BOUND_DAYS, max_size=REBUILD_BOUND_DAYS))
def test_no_rebuild_is_a_dead_end(weeks_off, gaps, kms):
    """Whatever the distances, inside the steps or far above them, runs at most a week apart and no pain
    reach normal within a bounded time, and stay there (SCIENCE.md section 13: no state is a dead end)."""
    runs = weeks_of_runs(8)
    back = max(r[1] for r in runs) + timedelta(weeks=weeks_off)
    horizon = back + timedelta(days=REBUILD_BOUND_DAYS)
    d = back
    for k, (gap, km) in enumerate(zip(gaps, kms, strict=True)):
        if d > horizon:
            break
        runs.append((f"b{k}", d, km))
        d += timedelta(days=gap)
    tl = ep.phase_timeline(make_runs(runs), None, end=horizon)
    assert phase_on(tl, back)[0] == "rebuild"
    phases = tl.loc[back:horizon]["phase"].tolist()
    assert "normal" in phases, ep.phase_segments(tl.loc[back:])
    assert set(phases[phases.index("normal"):]) == {"normal"}


def test_a_runner_inside_the_caps_goes_up_every_step_even_slowly():
    """The four weeks end only a rebuild stuck by runs above it: a runner who runs every sixth day inside
    the caps needs 11 days for some steps, is on step 4 after four weeks, and goes up all of them."""
    runs = weeks_of_runs(8)
    back = max(r[1] for r in runs) + timedelta(weeks=10)
    runs += [(f"b{k}", back + timedelta(days=6 * k), 2.0) for k in range(12)]
    walked = ep.walk(make_runs(runs), None, end=back + timedelta(weeks=10))
    tl = walked.timeline
    assert not walked.overruns
    assert phase_on(tl, back + timedelta(days=th.REBUILD_HISTORY_DAYS)) == ("rebuild", 4)
    steps = [s["step"] for s in ep.phase_segments(tl.loc[back:]) if s["phase"] == "rebuild"]
    assert steps == [1, 2, 3, 4], ep.phase_segments(tl.loc[back:])
    assert phase_on(tl, back + timedelta(weeks=10)) == ("normal", None)


def test_a_big_first_run_back_is_one_over_run_not_two():
    """The first run back starts step 1 on its day and the day's runs are judged again against the step
    that began: a 20 km comeback was recorded (and alerted) twice."""
    runs = weeks_of_runs(8)
    back = max(r[1] for r in runs) + timedelta(weeks=6)
    walked = ep.walk(make_runs([*runs, ("big", back, 20.0)]), None, end=back + timedelta(days=3))
    assert sorted((o.day, o.kind) for o in walked.overruns) == [(back, "run"), (back, "week")]
