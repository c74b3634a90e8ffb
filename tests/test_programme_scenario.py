"""Issue 24: sixteen weeks of the ASTEROID run-walk programme lived through the real CLI, with a flare-up
in week 6 (a stop, the return, the programme resuming at its own week), checking the plan, adherence and
the report's words every week (SCIENCE.md sections 13 and 16).

Dates are fixed in the past and every read names its day (``--as-of``), so nothing depends on today.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime, timedelta

import pytest

from loadwatch.ingest.synth import SynthRun, fit_bytes
from tests.scenario_helpers import Runner

START = date(2025, 3, 3)  # a Monday: programme day 1
FLARE = START + timedelta(days=37)  # Wednesday of programme week 6: 7/10 during the session
SKIPPED = START + timedelta(days=18)  # from here to week 3's end no session: 2 of 3 (67%, below 70%)
SESSION_MIN = 30.0
SESSION_KM = 4.0  # 30 minutes of run-walk covers about 4 km


def session(r: Runner, d: date, km: float, minutes: float = SESSION_MIN) -> None:
    """A run-walk session from the watch: ``km`` in ``minutes`` (a slow pace: walking breaks included)."""
    r._seed += 1
    run = SynthRun(start_utc=datetime(d.year, d.month, d.day, 7, 0, tzinfo=UTC), duration_s=int(minutes * 60),
                   distance_m=km * 1000, sub_sport="street", heart_rate_bpm=None, cadence_spm=None,
                   with_gps=False, seed=r._seed)
    path = r.run_dir / f"session-{d.isoformat()}.fit"
    path.write_bytes(fit_bytes(run))
    r._pending.append(path)
    r.sync()


def status(r: Runner, d: date) -> dict:
    return json.loads(r.cli("programme", "status", "--json", "--as-of", d.isoformat()))


def session_km(plan: dict) -> float:
    """As far as the plan allows: the programme's session within the episode's caps (rounded down)."""
    km = SESSION_KM
    if plan.get("max_run_km") is not None:
        km = min(km, plan["max_run_km"])
    if plan.get("max_week_km") is not None:
        km = min(km, plan["max_week_km"] / 3)
    return math.floor(km * 10) / 10


@pytest.fixture(scope="module")
def lived(tmp_path_factory):
    """Live 16 weeks day by day; returns the runner and a record per day."""
    r = Runner(tmp_path_factory.mktemp("runwalk") / "runner")
    out = r.cli("programme", "start", "runwalk", "--date", START.isoformat())
    assert "Started the ASTEROID run-walk programme on Mon 3 Mar 2025" in out
    days = []
    for i in range(16 * 7):
        d = START + timedelta(days=i)
        if d in (FLARE + timedelta(days=1), FLARE + timedelta(days=2)):
            r.pain(d, 4, "next_morning")
        elif FLARE + timedelta(days=3) <= d <= FLARE + timedelta(days=4):
            r.pain(d, 1, "next_morning")
        rep = r.report(d)
        prog, plan = rep["programme"], rep["plan"]
        ran = None
        planned_today = [s for s in prog["next_sessions"] if s["date"] == d.isoformat()]
        if planned_today and not plan.get("stop_running") and not SKIPPED <= d <= START + timedelta(days=20):
            ran = session_km(plan)
            session(r, d, ran)
            if d == FLARE:
                r.pain(d, 7, "during")
            rep = r.report(d)
        days.append({"day": d, "report": rep, "ran_km": ran})
    return r, days


@pytest.mark.slow
def test_the_programme_is_paused_by_the_stop_and_resumes_at_its_week(lived):
    r, days = lived
    by_day = {x["day"]: x["report"] for x in days}
    flare = by_day[FLARE]
    assert flare["plan"]["phase"] == "stop" and flare["programme"]["state"] == "paused"
    assert flare["programme"]["week"] == 6 and flare["programme"]["next_sessions"] == []
    text = r.report_text(FLARE)
    assert ("Your ASTEROID run-walk programme is paused in week 6 of 12: running has stopped for your back "
            "(the episode's stop). It resumes at this week when the episode allows.") in text
    assert "next:" not in text.split("Back programme:")[1]
    stop_days = [d for d, rep in by_day.items() if rep["plan"]["phase"] == "stop"]
    assert stop_days[0] == FLARE and len(stop_days) >= 3
    assert all(by_day[d]["programme"]["paused"] and by_day[d]["programme"]["week"] == 6 for d in stop_days)
    back = stop_days[-1] + timedelta(days=1)
    assert by_day[back]["plan"]["phase"] == "return_to_run"
    resumed = by_day[back]["programme"]
    assert resumed["state"] == "running" and resumed["week"] == 6 and resumed["paused_days"] == len(stop_days)
    assert resumed["within_plan_caps"] and "Keep every session within this week's plan" in resumed["summary"]
    assert not by_day[START]["programme"]["within_plan_caps"]
    # week 6 ends later by exactly the days it was paused; every later week starts later by as much
    adherence = {w["week"]: w for w in by_day[START + timedelta(days=16 * 7 - 1)]["programme"]["adherence"]}
    assert adherence[6]["end"] == (START + timedelta(days=41 + len(stop_days))).isoformat()
    assert adherence[7]["start"] == (START + timedelta(days=42 + len(stop_days))).isoformat()
    assert sorted(adherence) == list(range(1, 13))
    # the episode still governs: no session planned while the plan says no running, none above its caps
    for x in days:
        rep = x["report"]
        if rep["plan"].get("stop_running") or rep["plan"]["phase"] in ("stop", "see_clinician", "emergency"):
            assert rep["programme"]["next_sessions"] == []
            assert x["ran_km"] is None or x["day"] == FLARE  # the flare-up's own session came before the stop
        assert not [o for o in rep.get("step_overruns") or [] if o["kind"] == "run"], rep["step_overruns"]


@pytest.mark.slow
def test_every_week_the_plan_adherence_and_words_agree(lived):
    r, days = lived
    by_day = {x["day"]: x["report"] for x in days}
    stop_days = [d for d, rep in by_day.items() if rep["plan"]["phase"] == "stop"]
    pause = len(stop_days)
    end_of_programme = START + timedelta(days=12 * 7 + pause - 1)
    for week in range(1, 17):
        sunday = START + timedelta(days=7 * week - 1)
        rep = by_day[sunday]
        prog = rep["programme"]
        text = r.report_text(sunday)
        assert "Back programme:" in text and "None" not in text and "nan" not in text
        if sunday > end_of_programme:
            assert prog["state"] == "complete" and prog["this_week"] is None and prog["next_sessions"] == []
            assert "You completed the 12 weeks of the ASTEROID run-walk programme." in text
            continue
        expected_week = week if sunday < FLARE else (6 if sunday in stop_days else None)
        if expected_week is not None:
            assert prog["week"] == expected_week, (sunday, prog["week"])
        if prog["state"] == "running":
            t = prog["this_week"]
            assert f"week {prog['week']} of 12: 3 sessions, each 30 minutes of run-walk" in text
            assert t["session_min"] == 30 and t["run_interval_min"] == [1, 1, 2, 2, 3, 3, 4, 5, 6, 8, 9, 10][
                prog["week"] - 1]
        # adherence week by week: sessions done over planned, the weeks completed so far
        done = [w for w in prog["adherence"] if w["complete"]]
        for w in done:
            lo, hi = date.fromisoformat(w["start"]), date.fromisoformat(w["end"])
            ran = sum(1 for x in days if lo <= x["day"] <= hi and x["ran_km"] is not None)
            assert w["sessions_done"] == ran and w["sessions_planned"] == 3
            assert w["adherence_pct"] == pytest.approx(100 * min(ran, 3) / 3, abs=0.1)
        if done:
            total = sum(min(w["sessions_done"], 3) for w in done) / (3 * len(done)) * 100
            assert prog["adherence_pct"] == pytest.approx(total, abs=0.1)
            assert f"Adherence {prog['adherence_pct']:g}% of planned sessions" in text
    week3 = {w["week"]: w for w in by_day[START + timedelta(days=20)]["programme"]["adherence"]}[3]
    assert (week3["sessions_done"], week3["met_target"]) == (2, False)
    assert "week 3 2 of 3" in r.report_text(START + timedelta(days=20))


def test_outcomes_through_the_cli_join_the_report(lived):
    r, days = lived
    out = r.cli("outcome", "ostrc", "--week", FLARE.isoformat(), "--participation", "2", "--volume", "3",
                "--performance", "2", "--pain", "2")
    assert out.startswith("Week of Mon 7 Apr 2025: severity 66 of 100, a substantial problem")
    r.cli("outcome", "psfs", "add", "run 5 km", "--score", "3", "--date", START.isoformat())
    r.cli("outcome", "psfs", "score", "run 5 km", "--score", "7", "--date", (START + timedelta(days=84)).isoformat())
    rep = r.report(START + timedelta(days=90))
    weeks = rep["outcomes"]["ostrc_weeks"]
    assert [(w["week_start"], w["severity"], w["substantial"]) for w in weeks] == [("2025-04-07", 66, True)]
    assert rep["outcomes"]["psfs"]["activities"][0]["change"] == 4
    text = r.report_text(START + timedelta(days=90))
    assert "week of Mon 7 Apr 2025: severity 66 of 100, a substantial problem" in text
    assert '"run 5 km": better by 4 points, beyond measurement error' in text
    # before the answers were given, the report does not show them
    assert r.report(START)["outcomes"]["ostrc_weeks"] == []
