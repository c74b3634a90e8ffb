"""``loadwatch pain assessed`` and the phase on the command line's faces (issue 11)."""

from __future__ import annotations

import datetime as dt
import json
import os
import re

import pytest

from loadwatch.dashboard.cli.main import main
from loadwatch.ingest.store import Store
from tests.helpers import cli as run  # run(capsys, *argv) -> (code, out, err)
from tests.test_cli_report import _add_runs

DIST = re.compile(r"\d+(?:\.\d+)?\s?(?:km|mi)\b")


def test_pain_assessed_records_and_refuses_future_and_ancient_dates(today, capsys):
    code, out, _ = run(capsys, "pain", "assessed", "--date", "2025-03-12", "--note", "physio: no red flags")
    assert code == 0 and "Wed 12 Mar 2025" in out and "physio: no red flags" in out
    with Store() as store:
        frame = store.assessments()
    assert list(frame.columns) == ["id", "date", "note", "time", "cleared", "return_step", "max_week_km",
                                   "max_run_km", "max_pain"]
    assert frame["date"].tolist() == [dt.date(2025, 3, 12)] and frame["note"].tolist() == ["physio: no red flags"]
    tomorrow = (today + dt.timedelta(days=2)).isoformat()
    for bad, words in ((tomorrow, "future"), ("1989-12-31", "1990"), ("12/03/2025", "YYYY-MM-DD")):
        with pytest.raises(SystemExit) as exc:
            main(["pain", "assessed", "--date", bad])
        assert exc.value.code == 2
        assert words in capsys.readouterr().err
    with Store() as store:
        assert len(store.assessments()) == 1
        with pytest.raises(ValueError, match="future"):
            store.add_assessment(tomorrow)


@pytest.fixture
def history(capsys):
    """Runs every other day from 1 Feb 2024 (6, 8, 6, 10 km) to 1 Mar 2024, in the isolated store."""
    main(["settings", "set", "timezone", "UTC"])
    _add_runs(os.environ["LOADWATCH_DB"], [6.0, 8.0, 6.0, 10.0] * 4)
    capsys.readouterr()


def test_red_flag_never_shows_a_training_number_on_any_cli_face_until_assessed(capsys, history):
    run(capsys, "pain", "add", "--date", "2024-03-02", "--score", "2", "--symptom", "saddle_numbness")
    for as_of in ("2024-03-03", "2024-03-20", "2024-06-01"):  # no time-out
        _, text, _ = run(capsys, "report", "--as-of", as_of)
        plan_part = text.split("Plan for the next 7 days:")[1]
        assert "Urgent care now" in plan_part and not DIST.findall(plan_part)
        assert "Safe longest run" not in text
        # the care message comes first, before the weekly figures, not only at the end
        first = [ln for ln in text.splitlines() if ln.strip()][:2]
        assert first[0].startswith("loadwatch report as of") and "Seek urgent medical care now" in first[1], first
        # the history stays (SCIENCE.md §11, revised): it is what the clinician needs to see; only the
        # advice numbers are withheld
        history_part = text.split("Plan for the next 7 days:")[0]
        assert "Latest run" in history_part, text
        assert "week of" in history_part or (as_of != "2024-03-03" and "Your last run was on" in history_part), text
        assert "held back" not in text and "Safe longest run" not in text and "≤" not in text
        _, check, _ = run(capsys, "alerts", "check", "--as-of", as_of)
        assert not DIST.findall(check) and "Seek urgent medical care now" in check
        assert "pain assessed" in check  # what moves it on
        _, raw, _ = run(capsys, "report", "--json", "--as-of", as_of)
        rep = json.loads(raw)
        assert rep["plan"]["phase"] == "emergency" and rep["plan"]["max_run_km"] is None
        assert rep["plan"]["stop_running"] is True
    run(capsys, "pain", "assessed", "--date", "2024-06-02")
    _, raw, _ = run(capsys, "report", "--json", "--as-of", "2024-06-03")
    rep = json.loads(raw)
    assert rep["plan"]["phase"] == "return_to_run" and rep["plan"]["step"] == 1 and rep["plan"]["steps"] == 4
    assert rep["assessments"] == [{"id": 1, "date": "2024-06-02", "note": "", "time": None, "cleared": False,
                                   "return_step": None, "max_week_km": None, "max_run_km": None, "max_pain": None}]
    assert [s["phase"] for s in rep["phases"]][-2:] == ["emergency", "return_to_run"]
    assert rep["phases"][-1]["start"] == "2024-06-02"
    _, text, _ = run(capsys, "report", "--as-of", "2024-06-03")
    assert "held back" not in text and "Latest run" in text and DIST.findall(text.split("Plan for")[0])


def test_a_stopped_runner_is_asked_how_the_back_feels(capsys, history):
    run(capsys, "pain", "add", "--date", "2024-03-02", "--score", "7", "--timing", "during")
    _, raw, _ = run(capsys, "alerts", "check", "--json", "--as-of", "2024-03-05")
    out = json.loads(raw)
    plan = out["plan"]
    assert plan["phase"] == "stop" and plan["stop_running"] is True and plan["phase_since"] == "2024-03-02"
    assert plan["max_week_km"] is None and plan["max_run_km"] is None
    assert plan["check_in"].startswith("How does your back feel today?")
    assert "two check-ins" in plan["next_step"] and out["phases"][-1]["phase"] == "stop"
    _, text, _ = run(capsys, "alerts", "check", "--as-of", "2024-03-05")
    assert "How does your back feel today?" in text and "Stop running for now since Sat 2 Mar 2024" in text
    # the headline says what the phase asks, not the colour's "cut back"
    assert text.splitlines()[0] == "as of Tue 5 Mar 2024: stop running for now", text.splitlines()[0]
    assert not DIST.findall(text)
    for code in ("return_to_run", "see_clinician", "rest_of_day", "None", " nan"):
        assert code not in text
    # a check-in today: no question
    run(capsys, "pain", "add", "--date", "2024-03-05", "--score", "1", "--timing", "next_morning")
    _, raw, _ = run(capsys, "alerts", "check", "--json", "--as-of", "2024-03-05")
    assert json.loads(raw)["plan"]["check_in"] is None


def test_a_red_flag_logged_after_the_visit_needs_a_later_assessment(capsys, history):
    """SCIENCE.md section 11 (revised): a visit at 08:00 does not close a symptom logged at 09:00 the same
    day; a GP seen at 16:00 about the symptom logged that morning closes it the same day."""
    run(capsys, "pain", "add", "--date", "2024-03-02", "--time", "09:00", "--score", "2", "--symptom", "weakness_leg")
    run(capsys, "pain", "assessed", "--date", "2024-03-02", "--time", "08:00")
    _, raw, _ = run(capsys, "alerts", "check", "--json", "--as-of", "2024-03-03")
    out = json.loads(raw)
    assert out["plan"]["phase"] == "see_clinician"
    assert [a["rule"] for a in out["alerts"]] == ["red_flag_urgent"]
    _, said, _ = run(capsys, "pain", "assessed", "--date", "2024-03-03", "--time", "16:00")
    _, raw, _ = run(capsys, "alerts", "check", "--json", "--as-of", "2024-03-03")
    assert json.loads(raw)["plan"]["phase"] == "return_to_run"
    # what the command says is what the plan does (it used to promise a return that never came)
    assert "Your plan after the visit: Return to running since Sun 3 Mar 2024" in said
