"""Which programmes a running stop pauses (SCIENCE.md sections 12, 13 and 16), through the real CLI: a stop
is of running and lasts "until walking is pain-free", so it pauses the ASTEROID run-walk but not WalkBack's
walking, which goes on with its walks kept pain-free; a red flag pauses both (play-through, Sun 6 Dec 2026:
`programme start walkback` then a stop said "paused ... running has stopped for your back")."""

from __future__ import annotations

import json

import pytest

from tests.helpers import cli as run  # run(capsys, *argv) -> (code, out, err)

START = "2026-11-23"  # a Monday, two weeks before the `today` fixture's Sunday
FLARE = "2026-11-30"  # week 2's first day: a morning at 7/10 stops running


def _start_then_stop(capsys, kind: str) -> str:
    code, out, _err = run(capsys, "programme", "start", kind, "--date", START)
    assert code == 0
    code, _out, _err = run(capsys, "pain", "add", "--date", FLARE, "--score", "7", "--timing", "next_morning")
    assert code == 0
    return out


def _status(capsys) -> tuple[str, dict]:
    code, text, _err = run(capsys, "programme", "status")
    assert code == 0
    code, out, _err = run(capsys, "programme", "status", "--json")
    return text, json.loads(out)


def test_a_stop_of_running_does_not_pause_the_walking_programme(today, capsys):
    started = _start_then_stop(capsys, "walkback")
    assert started == ("Started the WalkBack walking programme on Mon 23 Nov 2026. Week 1: 3 sessions, each walk 10 "
                       "minutes. A red flag pauses it (a stop of running does not: walking goes on); it resumes "
                       "where it was.\n")
    code, out, _err = run(capsys, "alerts", "check", "--json")
    assert json.loads(out)["plan"]["phase"] == "stop"  # running has stopped ...
    text, status = _status(capsys)
    # ... and the walks go on: week 2 (Mon 30 Nov - Sun 6 Dec) is planned, its week moved on through the stop
    assert status["state"] == "running" and not status["paused"] and status["paused_days"] == 0
    assert status["week"] == 2 and status["walk_in_stop"] is True
    assert [s["date"] for s in status["next_sessions"]] == [today.isoformat()]
    assert text.startswith("WalkBack walking programme, week 2 of 26: 3 sessions, each walk 15 minutes; 0 done so far "
                           "this week. Running has stopped for your back, walking has not: keep each walk to what stays "
                           "pain-free.")
    assert "paused" not in text and "next: Sun 6 Dec 2026: walk 15 minutes" in text


def test_a_stop_still_pauses_the_run_walk_programme(today, capsys):
    started = _start_then_stop(capsys, "runwalk")
    assert "A red flag or a stop pauses it; it resumes where it was." in started
    text, status = _status(capsys)
    assert status["state"] == "paused" and status["week"] == 2 and status["paused_days"] == 7
    assert status["walk_in_stop"] is False and status["next_sessions"] == []
    assert text.startswith("Your ASTEROID run-walk programme is paused in week 2 of 12: running has stopped for your "
                           "back (the episode's stop).")


@pytest.mark.parametrize("kind", ["walkback", "runwalk"])
def test_a_red_flag_pauses_every_programme(kind, today, capsys):
    _start_then_stop(capsys, kind)
    code, _out, _err = run(capsys, "pain", "add", "--date", today.isoformat(), "--score", "4", "--timing",
                           "next_morning", "--symptom", "numbness_one_leg")
    assert code == 0
    text, status = _status(capsys)
    assert status["state"] == "paused" and status["next_sessions"] == []
    assert "is paused in week 2 of" in text and "a clinician should assess your back first" in text
    assert "walking has not" not in text


def test_the_programme_help_says_which_phases_pause_which_programme(capsys):
    with pytest.raises(SystemExit):
        run(capsys, "programme", "--help")
    out = " ".join(capsys.readouterr().out.split())
    assert ("A red flag pauses a programme, and a stop of running pauses the run-walk (WalkBack's walking goes on); "
            "it resumes where it was.") in out
