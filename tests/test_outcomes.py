"""Issue 24: OSTRC-O2 and PSFS scoring against the published scoring, the store's outcome and programme
tables, and the back programmes' weeks, pauses and adherence (pure functions)."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest

from loadwatch.ingest.settings import Settings
from loadwatch.ingest.store import Store
from loadwatch.metrics import outcomes as oc
from loadwatch.metrics import programme as pg

D = dt.date


# --- OSTRC-O2 (Clarsen et al. BJSM 2013;47:495, Table 1; OSTRC-O2, BJSM 2020;54:390) -------------------

@pytest.mark.parametrize(("answers", "severity", "substantial"), [
    ((0, 0, 0, 0), 0, False),                 # full participation without problems
    ((1, 1, 1, 1), 8 + 6 + 6 + 8, False),     # with problems, minor reductions, mild pain: 28
    ((2, 2, 1, 1), 17 + 13 + 6 + 8, True),    # reduced participation, moderate reduction in volume: 44
    ((1, 0, 2, 0), 8 + 0 + 13 + 0, True),     # a moderate effect on performance alone is substantial
    ((1, 1, 1, 3), 8 + 6 + 6 + 25, False),    # severe pain with only minor reductions: high, not substantial
    ((2, 3, 3, 2), 17 + 19 + 19 + 17, True),  # major reductions: 72
    ((3, 4, 4, 3), 100, True),                # could not participate, severe pain: the maximum
])
def test_ostrc_severity_and_substantial_follow_the_published_scoring(answers, severity, substantial):
    week = oc.ostrc_score(*answers)
    assert week.severity == severity
    assert week.substantial is substantial
    assert week.problem is (severity > 0)


def test_could_not_participate_scores_volume_and_performance_as_could_not_participate():
    """OSTRC-O2: a runner who could not take part did not 'reduce' their volume a little."""
    week = oc.ostrc_score(3, 0, 1, 2)
    assert (week.volume, week.performance) == (4, 4)
    assert week.severity == 25 + 25 + 25 + 17 and week.substantial


@pytest.mark.parametrize(("question", "value"), [("participation", 4), ("volume", 5), ("pain", -1),
                                                 ("performance", 1.5), ("pain", "a lot")])
def test_an_answer_outside_the_form_is_a_plain_error(question, value):
    answers = {"participation": 0, "volume": 0, "performance": 0, "pain": 0, question: value}
    with pytest.raises(ValueError, match=f"the {question} answer must be a whole number from 0 to"):
        oc.ostrc_score(**answers)


def test_ostrc_words_name_the_reason_in_plain_words():
    assert oc.ostrc_words(oc.ostrc_score(2, 2, 1, 1)) == (
        "severity 44 of 100, a substantial problem (a moderate reduction in training volume)")
    assert oc.ostrc_words(oc.ostrc_score(3, 0, 0, 3)) == "severity 100 of 100, a substantial problem (could not run)"
    assert oc.ostrc_words(oc.ostrc_score(0, 0, 0, 0)) == "severity 0 of 100, no back problem"


# --- PSFS (Stratford et al., Physiother Can 1995;47:258) ------------------------------------------------

def test_psfs_score_is_the_mean_of_the_activities():
    assert oc.psfs_mean([3, 5, 7]) == 5.0
    assert oc.psfs_mean([2, 4.5]) == 3.25
    assert math.isnan(oc.psfs_mean([]))
    assert oc.psfs_mean([6, None, float("nan")]) == 6.0


def _psfs(scores: dict[str, list[tuple[dt.date, float]]]):
    acts = pd.DataFrame({"id": range(1, len(scores) + 1), "name": list(scores),
                         "added": [v[0][0] for v in scores.values()]})
    rows = [(i, d, s) for i, v in enumerate(scores.values(), start=1) for d, s in v]
    return acts, pd.DataFrame(rows, columns=["activity_id", "date", "score"])


def test_psfs_change_beyond_measurement_error_is_2_in_the_mean_or_3_in_one_activity():
    t = oc.psfs_trends(*_psfs({"run 10 km": [(D(2026, 1, 5), 2), (D(2026, 2, 2), 5)],
                               "sit through a film": [(D(2026, 1, 5), 4), (D(2026, 2, 2), 5)],
                               "lift my child": [(D(2026, 1, 5), 6), (D(2026, 2, 2), 6)]}))
    assert t["mean_first"] == 4.0 and t["mean_latest"] == pytest.approx(16 / 3, abs=0.01)
    assert t["mean_change"] == pytest.approx(4 / 3, abs=0.01) and t["mean_beyond_error"] is False
    by = {a["name"]: a for a in t["activities"]}
    assert by["run 10 km"]["change"] == 3 and by["run 10 km"]["beyond_error"] is True
    assert by["sit through a film"]["beyond_error"] is False
    assert '"run 10 km": better by 3 points, beyond measurement error' in t["words"]
    assert '"sit through a film": better by 1 point, within measurement error' in t["words"]
    assert '"lift my child": no change' in t["words"]
    worse = oc.psfs_trends(*_psfs({"run": [(D(2026, 1, 5), 7), (D(2026, 1, 19), 5)],
                                   "garden": [(D(2026, 1, 5), 6), (D(2026, 1, 19), 4)]}))
    assert worse["mean_change"] == -2 and worse["mean_beyond_error"] is True
    assert "What you can do (PSFS mean): worse by 2 points, beyond measurement error" in worse["words"]
    assert '"run": worse by 2 points, within measurement error' in worse["words"]
    # one activity is its own mean: 2 points there is within its 3-point error, and no second line says it
    one = oc.psfs_trends(*_psfs({"run": [(D(2026, 1, 5), 7), (D(2026, 1, 19), 5)]}))
    assert one["mean_change"] == -2 and one["mean_beyond_error"] is False
    assert one["words"] == ['"run": worse by 2 points, within measurement error']


# --- the store ---------------------------------------------------------------------------------------------

@pytest.fixture
def store(store):
    """conftest's store, in UTC."""
    store.set_setting("timezone", "UTC")
    return store


def test_ostrc_weeks_are_kept_under_the_weeks_first_day_and_a_second_answer_replaces_the_first(store):
    store.put_ostrc(D(2026, 11, 26), participation=2, volume=2, performance=1, pain=1)  # a Thursday
    store.put_ostrc("2026-11-29", participation=1, volume=0, performance=0, pain=1)  # same week, Sunday
    store.put_ostrc(D(2026, 11, 30), participation=0, volume=0, performance=0, pain=0)
    weeks = store.ostrc()
    assert list(weeks["week_start"]) == [D(2026, 11, 23), D(2026, 11, 30)]
    assert weeks.iloc[0][["participation", "volume", "performance", "pain"]].tolist() == [1, 0, 0, 1]
    with pytest.raises(ValueError, match="the volume answer must be a whole number from 0 to 4"):
        store.put_ostrc(D(2026, 11, 30), participation=0, volume=7, performance=0, pain=0)
    with pytest.raises(ValueError, match="is in the future"):
        store.put_ostrc(D(2099, 1, 1), participation=0, volume=0, performance=0, pain=0)


def test_psfs_keeps_three_activities_and_names_an_unknown_one(store):
    for name in ("run 10 km", "sit through a film", "lift my child"):
        store.add_psfs_activity(name, D(2026, 11, 2))
    with pytest.raises(ValueError, match="at most 3 activities"):
        store.add_psfs_activity("garden", D(2026, 11, 2))
    store.add_psfs_score("Run 10 km", D(2026, 11, 2), 4)
    store.add_psfs_score("1", D(2026, 11, 30), 7.5)
    with pytest.raises(ValueError, match='no PSFS activity \'swim\'; yours: "run 10 km", "sit through a film"'):
        store.add_psfs_score("swim", D(2026, 11, 30), 5)
    with pytest.raises(ValueError, match="a PSFS score must be a number from 0"):
        store.add_psfs_score("run 10 km", D(2026, 11, 30), 11)
    acts, scores = store.psfs()
    assert list(acts["name"]) == ["run 10 km", "sit through a film", "lift my child"]
    assert scores["score"].tolist() == [4.0, 7.5] and set(scores["activity_id"]) == {1}


def test_one_programme_at_a_time(store):
    store.start_programme("runwalk", D(2026, 9, 7))
    with pytest.raises(ValueError, match="ASTEROID run-walk programme started on 2026-09-07 is still running"):
        store.start_programme("walkback", D(2026, 9, 8))
    store.stop_programme(D(2026, 10, 1))
    with pytest.raises(ValueError, match="no programme is running"):
        store.stop_programme(D(2026, 10, 2))
    with pytest.raises(ValueError, match="must be one of walkback, runwalk"):
        store.start_programme("yoga", D(2026, 10, 2))
    store.start_programme("walk-back", D(2026, 10, 5))
    progs = store.programmes()
    assert list(progs["kind"]) == ["runwalk", "walkback"]
    assert list(progs["stop_date"]) == [D(2026, 10, 1), None]


def test_a_store_of_the_previous_version_gains_the_new_tables(tmp_path):
    import sqlite3

    from loadwatch.ingest import store as store_mod

    path = tmp_path / "old.sqlite3"
    with Store(path):
        pass
    conn = sqlite3.connect(path)  # roll the file back to the version before issue 24's two steps
    for table in ("ostrc_weeks", "psfs_scores", "psfs_activities", "programmes"):
        conn.execute(f"DROP TABLE {table}")
    first = next(i for i, step in enumerate(store_mod.MIGRATIONS) if step.__module__ == "loadwatch.ingest.outcomes")
    conn.execute(f"PRAGMA user_version = {first}")  # later steps re-run harmlessly
    conn.commit()
    conn.close()
    with Store(path) as s:
        s.put_ostrc(D(2026, 11, 30), participation=1, volume=1, performance=1, pain=1)
        assert len(s.ostrc()) == 1 and len(s.programmes()) == 0


# --- programmes ----------------------------------------------------------------------------------------

def test_walkback_builds_to_30_minutes_5_times_a_week_and_runwalk_is_12_weeks_of_3_x_30():
    weeks = [pg.plan_week("walkback", n) for n in range(1, pg.WALKBACK_LENGTH_WEEKS + 1)]
    assert weeks[0].sessions == 3 and weeks[0].session_min == 10
    assert all(b.sessions * b.session_min >= a.sessions * a.session_min for a, b in zip(weeks[:-1], weeks[1:], strict=True))
    assert (weeks[6].sessions, weeks[6].session_min) == (5, 30) and weeks[-1] == pg.Week(26, 5, 30.0)
    runs = [pg.plan_week("runwalk", n) for n in range(1, 13)]
    assert {(w.sessions, w.session_min) for w in runs} == {(3, 30.0)}
    assert [w.run_min for w in runs] == sorted(w.run_min for w in runs) and runs[0].run_min == 10.0
    assert runs[-1].run_min < 30


def _timeline(start: dt.date, phases: list[str]) -> pd.DataFrame:
    days = [start + dt.timedelta(days=i) for i in range(len(phases))]
    return pd.DataFrame({"phase": phases, "reason": ""}, index=pd.Index(days, name="day"))


def _inputs(start: dt.date, done: list[dt.date], stop: dt.date | None = None) -> pg.ProgrammeInput:
    progs = pd.DataFrame({"id": [1], "kind": ["runwalk"], "start_date": [start], "stop_date": [stop]})
    return pg.ProgrammeInput(progs, pd.DataFrame({"date": done, "kind": "run", "minutes": 30.0}))


def test_a_stop_pauses_the_programme_and_it_resumes_at_its_week():
    start = D(2026, 1, 5)
    # week 1 normal, then 10 days of stop, then return_to_run
    phases = ["normal"] * 7 + ["stop"] * 10 + ["return_to_run"] * 8
    done = [start + dt.timedelta(days=d) for d in (0, 2, 4, 17, 19)]
    tl = _timeline(start, phases)
    during = pg.status(_inputs(start, done), tl, start + dt.timedelta(days=12))
    assert during["state"] == "paused" and during["week"] == 2 and during["paused_days"] == 6
    assert during["next_sessions"] == [] and "stopped for your back" in during["paused_reason"]
    assert "paused in week 2 of 12" in during["summary"]
    after = pg.status(_inputs(start, done), tl, start + dt.timedelta(days=23))
    assert after["state"] == "running" and after["week"] == 2 and after["paused_days"] == 10
    rows = after["adherence"]
    assert [(r["week"], r["sessions_done"], r["sessions_planned"], r["complete"]) for r in rows] == [
        (1, 3, 3, True), (2, 2, 3, True)]
    assert after["adherence_pct"] == pytest.approx(100 * 5 / 6, abs=0.1)
    assert after["this_week"]["number"] == 2 and after["this_week"]["start"] == "2026-01-22"
    later = pg.status(_inputs(start, done), tl, start + dt.timedelta(days=24))
    assert later["week"] == 3 and later["this_week"]["run_interval_min"] == 2.0


def test_next_sessions_keep_a_rest_day_between_runs_and_fill_only_what_is_left():
    start = D(2026, 1, 5)
    tl = _timeline(start, ["normal"] * 7)
    s = pg.status(_inputs(start, [start]), tl, start + dt.timedelta(days=1))
    assert [x["date"] for x in s["next_sessions"]] == ["2026-01-07", "2026-01-09"]
    assert s["this_week"]["sessions_done"] == 1


def test_a_stopped_programme_keeps_its_adherence_and_plans_nothing():
    start = D(2026, 1, 5)
    s = pg.status(_inputs(start, [start, start + dt.timedelta(days=3)], stop=D(2026, 1, 11)), None, D(2026, 2, 1))
    assert s["state"] == "stopped" and s["next_sessions"] == [] and s["this_week"] is None
    assert s["adherence"][0]["sessions_done"] == 2 and s["adherence_pct"] == pytest.approx(66.7)
    assert "below the 70%" in s["summary"]
    assert pg.status(_inputs(start, []), None, D(2026, 1, 4)) is None


def test_done_sessions_count_runs_and_walks_once_a_day_and_ignore_rides_and_short_walks():
    acts = pd.DataFrame({
        "sport": ["running", "walking", "cycling", "walking", "running"],
        "start_utc": pd.to_datetime(["2026-01-05 07:00", "2026-01-05 18:00", "2026-01-06 07:00",
                                     "2026-01-07 07:00", "2026-01-08 23:30"], utc=True),
        "utc_offset_s": [float("nan")] * 5, "elapsed_s": [1800.0, 2400.0, 3600.0, 300.0, 1800.0],
        "moving_s": [float("nan")] * 5})
    sessions = pd.DataFrame({"date": pd.to_datetime(["2026-01-10"]), "kind": ["walking"], "minutes": [30.0]})
    done = pg.done_sessions(acts, sessions, "Europe/Berlin")
    assert [d.isoformat() for d in done["date"]] == ["2026-01-05", "2026-01-09", "2026-01-10"]
    assert list(done["kind"]) == ["walk", "run", "walk"]  # the longer outing of a day; 23:30 UTC is Friday in Berlin


# --- the command line's bad input ------------------------------------------------------------------------

def _cli(db, *argv):
    import contextlib
    import io

    from loadwatch.dashboard.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main([*argv, "--db", str(db)])
        except SystemExit as exc:  # argparse's usage errors
            code = exc.code
    return code, out.getvalue(), err.getvalue()


def test_bad_input_exits_2_with_one_plain_line(tmp_path):
    db = tmp_path / "cli.sqlite3"
    code, _out, err = _cli(db, "outcome", "ostrc", "--week", "2026-11-30", "--participation", "1", "--volume", "9",
                           "--performance", "0", "--pain", "0")
    assert code == 2 and "expected a whole number from 0 to 4 (got '9')" in err
    code, _out, err = _cli(db, "outcome", "psfs", "score", "swim", "--score", "5", "--date", "2026-11-30")
    assert code == 2 and err.strip() == ("loadwatch outcome psfs score: no PSFS activity 'swim'; yours: none yet "
                                         "(add one with `loadwatch outcome psfs add`)")
    code, _out, err = _cli(db, "outcome", "psfs", "add", "run 10 km", "--score", "12", "--date", "2026-11-30")
    assert code == 2 and "a PSFS score must be a number from 0" in err
    assert _cli(db, "outcome", "psfs", "list", "--json")[1].count('"activities": []') == 1  # nothing half-kept
    assert _cli(db, "programme", "start", "runwalk", "--date", "2026-11-02")[0] == 0
    code, _out, err = _cli(db, "programme", "start", "walkback", "--date", "2026-11-09")
    assert code == 2 and "is still running; stop it first" in err
    code, _out, err = _cli(db, "programme", "start", "pilates", "--date", "2026-11-09")
    assert code == 2 and "invalid choice: 'pilates'" in err
    assert _cli(db, "programme", "stop", "--date", "2026-11-20")[1] == "Stopped your programme on Fri 20 Nov 2026.\n"
    code, out, _err = _cli(db, "programme", "status", "--as-of", "2026-11-25")
    assert code == 0 and out.startswith("Your ASTEROID run-walk programme stopped on Fri 20 Nov 2026 in week 3 of 12.")


# --- personal rules may take an OSTRC substantial week as a flare-up (SCIENCE.md §14, §16) ----------------

def test_substantial_ostrc_weeks_are_flare_ups_under_the_same_permutation_test():
    from loadwatch.metrics.suggest import suggest
    from tests.test_suggest import AS_OF, FIRST, FLARE_AFTER, weekly_and_pain

    weekly, pain = weekly_and_pain()
    by_pain = suggest(weekly, pain, Settings(), AS_OF)
    assert by_pain, "the pain log alone supports a rule"
    _weekly, quiet = weekly_and_pain(flare_after=())
    assert suggest(weekly, quiet, Settings(), AS_OF) == []
    marked = [FIRST + dt.timedelta(days=7 * (i + 1) + 3) for i in FLARE_AFTER]  # a Thursday of each week
    by_ostrc = suggest(weekly, quiet, Settings(), AS_OF, substantial_weeks=marked)
    assert [(s.metric, s.threshold, s.flare_ups_above, s.flare_ups_total) for s in by_ostrc] == [
        (s.metric, s.threshold, s.flare_ups_above, s.flare_ups_total) for s in by_pain]
    assert by_ostrc[0].p_value < 0.05
    # three marked weeks are not enough (at least 4 flare-ups), whatever the test would say
    assert suggest(weekly, quiet, Settings(), AS_OF, substantial_weeks=marked[:3]) == []
    table = pd.DataFrame({"week_start": [D(2025, 1, 6), D(2025, 1, 13)], "participation": [1, 2],
                          "volume": [1, 2], "performance": [0, 0], "pain": [1, 1]})
    assert oc.substantial_weeks(table) == [D(2025, 1, 13)]
