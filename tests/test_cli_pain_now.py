"""``loadwatch pain add`` at the runner's own time and with the advice every bad score calls for (issue 21's
play-through, Sun 6 Dec 2026):

* "now" is the runner's wall clock in their configured time zone, not the machine's UTC: an entry later
  than that (beyond a few minutes of slack) is refused with one plain line, exit 2, and nothing is kept;
  without ``--time`` today's entry is never later than now; a runner ahead of UTC may log their own today;
* every entry whose score calls for action prints one line of what to do, from the alerts' own rules
  (SCIENCE.md section 10): a next-morning score that has not settled speaks as a painful run does.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import time_machine

from tests.helpers import cli as run  # run(capsys, *argv) -> (code, out, err)
from tests.helpers import open_store

#: 12:18 in New York on the reviewer's Sunday (17:18 UTC).
NOON_IN_NEW_YORK = datetime(2026, 12, 6, 17, 18, tzinfo=UTC)
TODAY = "2026-12-06"


def _in_new_york(capsys) -> None:
    assert run(capsys, "settings", "set", "timezone", "America/New_York")[0] == 0


def _entries(capsys) -> list[dict]:
    return json.loads(run(capsys, "pain", "list", "--json")[1])


def test_an_entry_later_than_the_runners_clock_is_refused_in_one_plain_line(capsys):
    with time_machine.travel(NOON_IN_NEW_YORK, tick=False):
        _in_new_york(capsys)
        code, out, err = run(capsys, "pain", "add", "--date", TODAY, "--time", "23:59", "--score", "2")
        assert code == 2 and out == ""
        assert err == ("loadwatch pain add: a pain entry cannot be in the future: it is Sun 6 Dec 2026 12:18 where "
                       "you are, and the entry says Sun 6 Dec 2026 23:59; log how your back feels now, or give an "
                       "earlier time\n")
        assert _entries(capsys) == []
        # tomorrow (by the runner's calendar) is the future too, whatever the time
        code, _out, err = run(capsys, "pain", "add", "--date", "2026-12-07", "--time", "06:00", "--score", "2")
        assert code == 2 and "where you are" in err and err.count("\n") == 1
        # a few minutes ahead is a clock apart, not the future
        code, out, _err = run(capsys, "pain", "add", "--date", TODAY, "--time", "12:21", "--score", "2")
        assert code == 0 and "on Sun 6 Dec 2026 12:21" in out
        assert [e["at_local"] for e in _entries(capsys)] == ["2026-12-06T12:21"]


def test_without_a_time_todays_entry_is_now_on_the_runners_clock(capsys):
    with time_machine.travel(NOON_IN_NEW_YORK, tick=False):
        _in_new_york(capsys)
        # "later in the day" defaults to 20:00, which at 12:18 has not come yet: now instead
        code, out, _err = run(capsys, "pain", "add", "--date", TODAY, "--score", "2", "--timing", "rest_of_day")
        assert code == 0 and "later in the day on Sun 6 Dec 2026 12:18" in out
        # a morning's 07:00 has passed: kept; so are the defaults of an earlier day
        code, out, _err = run(capsys, "pain", "add", "--date", TODAY, "--score", "1", "--timing", "next_morning")
        assert code == 0 and "the next morning on Sun 6 Dec 2026 07:00" in out
        code, out, _err = run(capsys, "pain", "add", "--date", "2026-12-05", "--score", "1", "--timing", "rest_of_day")
        assert code == 0 and "on Sat 5 Dec 2026 20:00" in out
        assert "17:18" not in json.dumps(_entries(capsys))  # never the machine's UTC clock


def test_a_runner_ahead_of_utc_may_log_their_own_today(capsys):
    """23:30 UTC on Sunday is 08:30 on Monday in Tokyo: Monday's morning entry is today, not the future."""
    with time_machine.travel(datetime(2026, 12, 6, 23, 30, tzinfo=UTC), tick=False):
        assert run(capsys, "settings", "set", "timezone", "Asia/Tokyo")[0] == 0
        code, out, err = run(capsys, "pain", "add", "--date", "2026-12-07", "--score", "1", "--timing", "next_morning")
        assert (code, err) == (0, "") and "the next morning on Mon 7 Dec 2026 07:00" in out
        code, _out, err = run(capsys, "pain", "add", "--date", "2026-12-07", "--time", "09:00", "--score", "1")
        assert code == 2 and "it is Mon 7 Dec 2026 08:30 where you are" in err


def test_an_edit_cannot_move_an_entry_into_the_future(capsys):
    with time_machine.travel(NOON_IN_NEW_YORK, tick=False):
        _in_new_york(capsys)
        assert run(capsys, "pain", "add", "--date", TODAY, "--time", "09:00", "--score", "2")[0] == 0
        code, out, err = run(capsys, "pain", "edit", "1", "--time", "18:00")
        assert code == 2 and out == "" and err.startswith("loadwatch pain edit: a pain entry cannot be in the future")
        assert [e["at_local"] for e in _entries(capsys)] == ["2026-12-06T09:00"]


# --- the advice every bad score calls for -------------------------------------------------------------

def _add(capsys, *argv: str) -> list[str]:
    code, out, err = run(capsys, "pain", "add", *argv)
    assert (code, err) == (0, ""), err
    return out.splitlines()


def test_a_morning_that_has_not_settled_says_what_to_do_as_a_painful_run_does(capsys):
    with time_machine.travel(NOON_IN_NEW_YORK, tick=False):
        _in_new_york(capsys)
        logged, advice = _add(capsys, "--date", TODAY, "--score", "7", "--timing", "next_morning")
        assert logged == "logged pain entry 1: 7/10 the next morning on Sun 6 Dec 2026 07:00"
        assert advice == ("On the morning of Sun 6 Dec 2026 your back pain was 7/10: above 5 out of 10 the next "
                          "morning is too much. Stop running for now and cross-train instead (your plan for the next "
                          "7 days).")
        # the same words as the alert `alerts check` shows for that entry
        code, out, _err = run(capsys, "alerts", "check", "--json")
        [alert] = [a for a in json.loads(out)["alerts"] if a["values"].get("pain_entry_id") == 1]
        assert alert["message"] == advice
        logged, advice = _add(capsys, "--date", TODAY, "--score", "8", "--timing", "during")
        assert advice.endswith("above 5 out of 10 is too much. Stop running for now and cross-train instead (your "
                               "plan for the next 7 days).")


def test_a_morning_above_the_runners_usual_level_says_so(capsys):
    with time_machine.travel(NOON_IN_NEW_YORK, tick=False):
        _in_new_york(capsys)
        for day in ("2026-11-30", "2026-12-01", "2026-12-02"):
            assert _add(capsys, "--date", day, "--score", "1", "--timing", "next_morning")[1:] == []  # fine: nothing
        logged, advice = _add(capsys, "--date", TODAY, "--score", "3", "--timing", "next_morning")
        assert advice.startswith("On the morning of Sun 6 Dec 2026 your back pain was 3/10: 2 or more above your "
                                 "usual morning level (1/10).")
        assert "Your plan for the next 7 days:" in advice and "None" not in advice and "nan" not in advice


def test_a_morning_without_a_usual_level_is_read_against_3_and_a_green_score_says_nothing_more(capsys):
    with time_machine.travel(NOON_IN_NEW_YORK, tick=False):
        _in_new_york(capsys)
        assert _add(capsys, "--date", TODAY, "--score", "3", "--timing", "next_morning")[1:] == []
        [advice] = _add(capsys, "--date", TODAY, "--score", "5", "--timing", "next_morning")[1:]
        assert "above 3/10 has not settled" in advice
        [advice] = _add(capsys, "--date", TODAY, "--score", "4", "--timing", "after")[1:]
        assert "4-5 out of 10 is acceptable if it settles by the next morning." in advice
    with open_store() as store:
        assert len(store.pain()) == 3


def test_a_runner_ahead_of_utc_may_record_todays_visit_to_a_clinician(capsys):
    """The assessment's day was checked against the machine's calendar: on Monday morning in Tokyo (Sunday
    in UTC) today's visit was "in the future"; the runner's own tomorrow still is."""
    with time_machine.travel(datetime(2026, 12, 6, 23, 30, tzinfo=UTC), tick=False):
        assert run(capsys, "settings", "set", "timezone", "Asia/Tokyo")[0] == 0
        code, out, err = run(capsys, "pain", "assessed", "--date", "2026-12-07", "--note", "physio")
        assert (code, err) == (0, "") and "a clinician saw you on Mon 7 Dec 2026 (physio)" in out
        # the same moment is Sunday evening in New York: Monday is the runner's tomorrow there
        assert run(capsys, "settings", "set", "timezone", "America/New_York")[0] == 0
        code, out, err = run(capsys, "pain", "assessed", "--date", "2026-12-07")
        assert (code, out) == (2, "")
        assert err == "loadwatch: the assessment date 2026-12-07 is in the future (today is 2026-12-06)\n"


@pytest.mark.parametrize(("score", "timing", "mornings", "expected"), [
    (3, "after", None, False), (4, "after", None, True),             # run-day pain: amber above 3
    (3, "next_morning", [], False), (4, "next_morning", [], True),  # no usual level: above 3 has not settled
    (2, "next_morning", [0, 0, 5], True),                            # a usual level of 0 or more: 2 may not settle
    (2, "next_morning", [1, 1, 1], False), (3, "next_morning", [1, 4, 5], True),
    (2, "next_morning", [0, 0], False),                              # two mornings make no usual level
    (1, "next_morning", None, True),                                 # not known: ask the full rules
])
def test_which_entries_are_read_by_the_full_rules(score, timing, mornings, expected):
    from loadwatch.metrics.checkins import may_call_for_action

    assert may_call_for_action(score, timing, mornings) is expected
