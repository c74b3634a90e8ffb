"""Issue 21: a reviewer played loadwatch as a runner and a physio on a fresh store and found the faces
disagreeing in ways a clinician would not sign (SCIENCE.md sections 11 and 13).  One scenario for each, through
the real store and CLI (``tests.scenario_helpers.Runner``), asserting the text a person reads; each failed on
the code before the fix:

1. ``loadwatch report`` printed "above your step's 2 mi" beside an open red flag (and ``--json`` kept the
   latest run's step cap and safe longest run);
2. a clinician's limits were quoted three ways: the plan "up to 4.8 mi this week", the alert "above the 4.9 mi
   your clinician set" (the clinician set 6.2 mi), and a rebuild's week 6 mi in the plan against 6.1 mi in
   its alert;
3. one physio PDF said "rebuild after a break, step 1 of 3" in its episode history and "step 1 of 4" in its
   plan and alerts.

Dates are fixed in the past and every read names its day (``--as-of``), so nothing depends on today.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from tests.scenario_helpers import Runner, numbers_in, weeks_of_runs

pypdf = pytest.importorskip("pypdf")  # a test dependency; the project's own modules are imported plainly

MONDAY = date(2025, 7, 7)
BREAK_ENDS = date(2025, 11, 25)  # the first run back, after 12 weeks without one
OVERRUN_DAY = date(2025, 12, 6)  # a Saturday: 21.1 km (13.1 mi) in rebuild step 2, where the step allows ~2 mi
RED_FLAG_DAY = OVERRUN_DAY + timedelta(days=1)


@pytest.fixture(scope="module")
def before_the_break(tmp_path_factory) -> Runner:
    """Eight weeks of 8, 8 and 14 km (the last run on Sun 31 Aug 2025), then nothing: a runner in miles."""
    r = Runner(tmp_path_factory.mktemp("one-voice") / "runner", units="mi")
    r.run(weeks_of_runs(MONDAY, 8, 8.0, 14.0))
    return r


@pytest.fixture(scope="module")
def over_the_step(before_the_break, tmp_path_factory) -> Runner:
    """Back after the break with two 3 km runs (rebuild step 1 done), then 21.1 km in step 2."""
    r = before_the_break.clone(tmp_path_factory.mktemp("one-voice-over") / "runner")
    r.run([(BREAK_ENDS, 3.0), (BREAK_ENDS + timedelta(days=2), 3.0), (OVERRUN_DAY, 21.1)])
    return r


def after_the_table(text: str) -> str:
    """The report text from the latest run's line on (the weekly table before it is the history)."""
    assert "Latest run" in text, text
    return text[text.index("Latest run"):]


def alerts_of(payload: dict, rule: str) -> list[dict]:
    return [a for a in payload["alerts"] if a["rule"] == rule]


# --- 1. no advice number beside a red flag ------------------------------------------------------------------

def test_no_step_cap_beside_a_red_flag_in_the_text_report_the_json_or_alerts_check(over_the_step, tmp_path):
    r = over_the_step.clone(tmp_path / "runner")
    # before the red flag: the over-run is told with its number, the plan's own (one voice)
    before = r.report(OVERRUN_DAY)
    assert (before["plan"]["phase"], before["plan"]["step"]) == ("rebuild", 2), before["plan"]
    text = r.report_text(OVERRUN_DAY)
    assert re.search(r"Latest run Sat 6 Dec 2025: 13\.1 mi, above your step's \d+(\.\d)? mi: too much too soon",
                     text), text

    said = r.pain(RED_FLAG_DAY, 4, "next_morning", "numbness_one_leg")
    assert "numbness" in said.lower()
    rep = r.report(RED_FLAG_DAY)
    assert rep["plan"]["phase"] == "see_clinician", rep["plan"]
    # the text report: the care message first; after the weekly table the only distance is the run's own
    text = r.report_text(RED_FLAG_DAY)
    assert text.index(rep["plan"]["care_message"]) < text.index("week of"), text
    rest = after_the_table(text)
    assert numbers_in(rest) == ["13.1 mi"], rest
    assert "Latest run Sat 6 Dec 2025: 13.1 mi, above the limits of the step you were on then." in rest, rest
    for advice in ("step's", "starts again", "Safe longest", "<=", "≤", "your clinician set"):
        assert advice not in rest, (advice, rest)

    # --json: every advice number null, the history kept (the over-run happened, the weeks, the phases)
    latest = rep["latest_run"]
    assert latest["distance_km"] == pytest.approx(21.1) and latest["above_step_cap"] is True, latest
    for key in ("safe_longest_km", "safe_longest_at_run_km", "step_cap_km", "step_cap_set_by_clinician"):
        assert latest[key] is None, (key, latest)
    assert rep["weeks"][-1]["spike_cap_km"] is None and rep["weeks"][-1]["distance_km"] == pytest.approx(21.1)
    assert rep["plan"]["max_week_km"] is None and rep["plan"]["max_run_km"] is None
    assert any(o["kind"] == "run" for o in rep["step_overruns"])  # the history of what was run stays

    # alerts check, text and JSON: the care message and no number at all
    check_text = r.check_text(RED_FLAG_DAY)
    assert rep["plan"]["care_message"] in check_text and not numbers_in(check_text), check_text
    check = r.check(RED_FLAG_DAY)
    assert {a["severity"] for a in check["alerts"]} <= {"see_clinician", "emergency"}, check["alerts"]

    # after the visit the plan comes back with numbers, and the step cap with it
    r.assessed(RED_FLAG_DAY, "GP: sciatica, keep moving")
    back = r.report(RED_FLAG_DAY)
    assert back["plan"]["phase"] == "return_to_run" and back["plan"]["max_run_km"] is not None, back["plan"]


def test_the_physio_report_under_a_red_flag_has_no_advice_number(over_the_step, tmp_path):
    r = over_the_step.clone(tmp_path / "runner")
    r.pain(RED_FLAG_DAY, 4, "next_morning", "numbness_one_leg")
    pdf = tmp_path / "physio.pdf"
    r.cli("report", "--as-of", RED_FLAG_DAY.isoformat(), "--pdf", str(pdf))
    text = " ".join(" ".join(p.extract_text() or "" for p in pypdf.PdfReader(str(pdf)).pages).split())
    assert "see a doctor or physiotherapist within days" in text.lower(), text
    assert "Episode history" in text and "rebuild after a break" in text, text  # the history stays
    for advice in ("step's", "Safe longest", "≤", "<=", "up to", "What moves it on", "Now: the plan"):
        assert advice not in text, (advice, text)


# --- 2. the clinician's limits, and every cap in one rounding ------------------------------------------------

def test_a_clinicians_limits_are_one_number_on_every_face(tmp_path):
    """Two runs a week before the red flag; the clinician allows 10 km a week and 4 km a run, step 2."""
    r = Runner(tmp_path / "runner", units="mi")
    tue = date(2025, 9, 23)
    r.run([(tue + timedelta(days=7 * w + k), km) for w in range(8) for k, km in ((0, 8.0), (5, 14.0))])
    r.pain(date(2025, 11, 19), 4, "next_morning", "numbness_one_leg")
    visit = date(2025, 11, 22)
    said = r.assessed(visit, "physio", return_step=2, max_week="10", max_run="4")
    r.run([(date(2025, 11, 24), 5.5), (date(2025, 11, 26), 3.9), (date(2025, 11, 28), 3.9)])
    first = r.report_text(date(2025, 11, 24))  # the 5.5 km run against the clinician's 4 km
    assert "Latest run Mon 24 Nov 2025: 3.4 mi, above the 2.4 mi run cap of the plan your clinician set on Sat 22 " \
           "Nov 2025: too much too soon" in first, first
    as_of = date(2025, 11, 30)
    rep = r.report(as_of)
    plan = rep["plan"]
    assert (plan["phase"], plan["step"], plan["runs"]) == ("return_to_run", 2, 2), plan
    week, run = plan["max_week_display"], plan["max_run_display"]
    assert (week, run) == (4.8, 2.4), plan  # two runs of 2.4 mi: under the clinician's 6.2 mi, the lower wins
    assert "up to 4.8 mi this week" in said and "longest 2.4 mi" in said, said

    # the alerts say the plan's numbers, and call a number the clinician's only when the clinician gave it
    over = {a["values"]["kind"]: a["message"] for a in alerts_of(rep, "step_overrun")}
    assert set(over) == {"run", "week"}, rep["alerts"]
    assert "above the 2.4 mi your clinician set on Sat 22 Nov 2025" in over["run"], over["run"]
    assert "above your step's 4.8 mi for a week" in over["week"], over["week"]
    assert "4.9" not in over["week"] and "your clinician set" not in over["week"], over["week"]
    # the why-lines quote the clinician as they set it, and say why the week is lower
    reasons = " | ".join(plan["reasons"])
    assert "set by your clinician on Sat 22 Nov 2025: start the return to running at step 2, up to 6.2 mi a " \
           "week, runs up to 2.4 mi" in reasons, reasons
    assert "this week at most 4.8 mi: two runs at your run cap of 2.4 mi, under the 6.2 mi a week your " \
           "clinician allowed (the lower number wins)" in reasons, reasons

    # every face: each week-cap figure is the plan's, but the clinician's own 6.2 mi where it is quoted as theirs
    for face in (r.report_text(as_of), r.check_text(as_of)):
        weeks = re.findall(r"(?:week total <=|up to|above your step's|next week ≤|this week at most) (\d+(?:\.\d+)?) "
                           r"mi(?! a week your clinician| a week, runs)", face)
        assert weeks and set(weeks) <= {"4.8", "2.4"}, (weeks, face)
        assert "4.9 mi" not in face, face


def test_a_rebuild_week_cap_reads_the_same_in_the_plan_and_its_alert(over_the_step, tmp_path):
    """Rebuild step 2 in miles: the plan said "next week ≤ 6 mi" and the alert "above your step's 6.1 mi"."""
    rep = over_the_step.report(OVERRUN_DAY)
    plan = rep["plan"]
    week = alerts_of(rep, "step_overrun")
    week = [a for a in week if a["values"]["kind"] == "week"]
    assert week and plan["max_week_display"] is not None, rep["alerts"]
    shown = f"{plan['max_week_display']:g} mi"
    assert f"above your step's {shown} for a week" in week[0]["message"], (shown, week[0]["message"])
    run = [a for a in alerts_of(rep, "step_overrun") if a["values"]["kind"] == "run"]
    assert f"above your step's {plan['max_run_display']:g} mi" in run[0]["message"], (plan, run[0]["message"])


# --- 3. one step count in one PDF ----------------------------------------------------------------------------

def test_the_episode_history_and_the_plan_count_the_same_steps(before_the_break, tmp_path):
    """85 days without a run: the rebuild began on day 30 as 3 steps and became 4 (33% first) after 8 weeks;
    the PDF's episode history kept the first day's "step 1 of 3" beside the plan's "step 1 of 4"."""
    r = before_the_break.clone(tmp_path / "runner")
    as_of = BREAK_ENDS - timedelta(days=1)
    rep = r.report(as_of)
    plan = rep["plan"]
    assert (plan["phase"], plan["step"], plan["steps"]) == ("rebuild", 1, 4), plan
    assert rep["phases"][-1]["steps"] == 4, rep["phases"][-1]
    pdf = tmp_path / "physio.pdf"
    r.cli("report", "--as-of", as_of.isoformat(), "--pdf", str(pdf))
    text = " ".join(" ".join(p.extract_text() or "" for p in pypdf.PdfReader(str(pdf)).pages).split())
    assert "step 1 of 4" in text and "of 3" not in text, text
