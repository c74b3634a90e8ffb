"""``loadwatch shoes ...``, ``loadwatch session ...`` and ``loadwatch activities set ID --shoe NAME``,
through the real CLI: exit codes, JSON, bad input, a Strava export with gear, and weeks of runs, sessions
and pain read back from ``report --json`` (the store is isolated per test by conftest)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest

from loadwatch.dashboard.cli.main import main
from loadwatch.ingest.store import Store
from loadwatch.ingest.synth import SynthRun, fit_bytes
from loadwatch.metrics import fmt
from tests.helpers import cli as run  # run(capsys, *argv) -> (code, out, err)
from tests.test_shoes_sessions_store import strava_archive


def write_runs(folder, days_km, sport: str = "running", hour: int = 7) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i, (day, km) in enumerate(days_km):
        start = datetime(day.year, day.month, day.day, hour, 0, tzinfo=UTC)
        run_ = SynthRun(start_utc=start, duration_s=int(km * 330) if sport == "running" else 3600,
                        distance_m=km * 1000, sport=sport, seed=i + hour)
        (folder / f"{sport}-{day.isoformat()}-{i}.fit").write_bytes(fit_bytes(run_))


# --- shoes -----------------------------------------------------------------------------------------------

def test_shoes_add_list_default_retire_set(capsys, tmp_path):
    assert run(capsys, "shoes", "list")[1].startswith("No shoes yet")
    assert json.loads(run(capsys, "shoes", "list", "--json")[1]) == []
    code, out, _ = run(capsys, "shoes", "add", "Pegasus 40", "--start-km", "120", "--default", "--retire-km", "800")
    assert code == 0 and "Pegasus 40" in out and "default" in out
    assert run(capsys, "shoes", "add", "Trail pair", "--start-km", "50mi")[0] == 0
    records = {r["name"]: r for r in json.loads(run(capsys, "shoes", "list", "--json")[1])}
    assert set(records["Trail pair"]) >= {"name", "distance_km", "runs", "first_used", "last_used", "retired",
                                          "default"}
    assert records["Trail pair"]["distance_km"] == pytest.approx(80.467, abs=1e-3)
    assert records["Pegasus 40"]["default"] and records["Pegasus 40"]["retire_km"] == 800
    assert records["Pegasus 40"]["first_used"] is None and records["Pegasus 40"]["runs"] == 0

    assert run(capsys, "shoes", "default", "trail pair")[0] == 0
    records = {r["name"]: r for r in json.loads(run(capsys, "shoes", "list", "--json")[1])}
    assert records["Trail pair"]["default"] and not records["Pegasus 40"]["default"]
    code, out, _ = run(capsys, "shoes", "retire", "Trail pair", "--date", "2025-01-31")
    assert code == 0 and "no new runs" in out
    records = {r["name"]: r for r in json.loads(run(capsys, "shoes", "list", "--json")[1])}
    assert records["Trail pair"]["retired"] and not records["Trail pair"]["default"]
    assert records["Trail pair"]["retired_on"] == "2025-01-31"
    assert run(capsys, "shoes", "set", "Pegasus 40", "--retire-km", "500mi", "--rename", "Peg")[0] == 0
    out = run(capsys, "shoes", "list")[1]
    assert "Peg " in out and "of 804.7 km" in out and "retired Fri 31 Jan 2025" in out
    assert "None" not in out and "nan" not in out
    run(capsys, "settings", "set", "units", "mi")
    out = run(capsys, "shoes", "list")[1]
    assert "of 500 mi" in out and "50 mi" in out


@pytest.mark.parametrize("argv, words", [
    (["shoes", "default", "Nope"], "no shoe named 'Nope'"),
    (["shoes", "retire", "Nope"], "no shoe named"),
    (["shoes", "set", "Nope", "--retire-km", "500"], "no shoe named"),
    (["shoes", "set", "A"], "nothing to change"),
    (["shoes", "add", "A"], "already a shoe named 'A'"),
    (["shoes", "add", "  "], "needs a name"),
])
def test_shoes_bad_input_exits_2(capsys, argv, words):
    assert run(capsys, "shoes", "add", "A")[0] == 0
    code, out, err = run(capsys, *argv)
    assert code == 2 and words in err and out == ""


@pytest.mark.parametrize("argv", [["shoes", "add", "B", "--start-km", "-5"],
                                  ["shoes", "add", "B", "--retire-km", "lots"]])
def test_shoes_bad_distances_are_usage_errors(capsys, argv):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert "distance" in capsys.readouterr().err


def test_activities_set_shoe_reassigns_and_respects_retirement(capsys, tmp_path):
    jan = date(2025, 1, 6)
    run(capsys, "shoes", "add", "A", "--default")
    write_runs(tmp_path / "w1", [(jan, 8.0), (jan + timedelta(days=2), 10.0)])
    assert run(capsys, "import", str(tmp_path / "w1"), "--workers", "0")[0] == 0
    run(capsys, "shoes", "add", "B")
    run(capsys, "shoes", "retire", "A", "--date", "2025-01-20")
    write_runs(tmp_path / "w2", [(jan + timedelta(days=21), 12.0)])
    run(capsys, "import", str(tmp_path / "w2"), "--workers", "0")
    acts = json.loads(run(capsys, "activities", "--json")[1])
    by_day = {a["start_local"][:10]: a for a in acts}
    assert [by_day[d]["shoe"] for d in sorted(by_day)] == ["A", "A", None]  # A retired before the third run
    late = by_day["2025-01-27"]["id"]
    code, _, err = run(capsys, "activities", "set", late, "--shoe", "A")
    assert code == 2 and "retired on 2025-01-20" in err and "no new runs" in err
    code, _, err = run(capsys, "activities", "set", late, "--shoe", "Zed")
    assert code == 2 and "no shoe named 'Zed'" in err
    code, out, _ = run(capsys, "activities", "set", late[:12], "--shoe", "B")
    assert code == 0 and "shoe B" in out
    first = by_day["2025-01-06"]["id"]
    assert run(capsys, "activities", "set", first, "--shoe", "B")[0] == 0  # reassigning a run
    shoes = {r["name"]: r for r in json.loads(run(capsys, "shoes", "list", "--json")[1])}
    assert shoes["A"]["runs"] == 1 and shoes["A"]["distance_km"] == pytest.approx(10.0, abs=0.05)
    assert shoes["B"]["runs"] == 2 and shoes["B"]["distance_km"] == pytest.approx(20.0, abs=0.05)
    assert shoes["B"]["first_used"] == "2025-01-06" and shoes["B"]["last_used"] == "2025-01-27"
    assert run(capsys, "activities", "set", first, "--shoe", "none")[0] == 0
    assert json.loads(run(capsys, "shoes", "list", "--json")[1])[1]["runs"] == 1
    assert run(capsys, "activities", "set", "nope", "--shoe", "B")[0] == 2
    assert run(capsys, "activities", "set", first)[0] == 2  # nothing to change
    assert run(capsys, "activities")[0] == 0  # the plain listing still works beside the sub-command


def test_activities_set_takes_corrections_and_a_shoe_in_one_call(capsys, tmp_path):
    """One ``activities set`` with issue 12's corrections and issue 15's --shoe: both land, both are said;
    a bad shoe or a bad correction changes nothing."""
    run(capsys, "shoes", "add", "Trail pair")
    write_runs(tmp_path / "w", [(date(2025, 1, 6), 8.0)])
    run(capsys, "import", str(tmp_path / "w"), "--workers", "0")
    rid = json.loads(run(capsys, "activities", "--json")[1])[0]["id"]
    code, _, err = run(capsys, "activities", "set", rid[:10], "--rpe", "6", "--shoe", "Nope")
    assert code == 2 and "no shoe named 'Nope'" in err
    assert json.loads(run(capsys, "activities", "--json")[1])[0]["rpe"] is None
    code, _, err = run(capsys, "activities", "set", rid[:10], "--sport", "skiing", "--shoe", "Trail pair")
    assert code == 2 and "sport must be one of" in err
    assert json.loads(run(capsys, "activities", "--json")[1])[0]["shoe"] is None  # one transaction
    code, out, err = run(capsys, "activities", "set", rid[:10], "--rpe", "6", "--name", "Hills", "--surface",
                         "trail", "--shoe", "Trail pair")
    assert code == 0 and err == ""
    assert "RPE 6" in out and 'name "Hills"' in out and "surface trail" in out and "shoe Trail pair" in out
    rec = json.loads(run(capsys, "activities", "--json")[1])[0]
    assert (rec["rpe"], rec["name"], rec["surface"], rec["shoe"]) == (6.0, "Hills", "trail", "Trail pair")
    code, _, err = run(capsys, "activities", "set", rid[:10])
    assert code == 2 and "--shoe" in err and "--confirm" in err


def test_import_of_a_strava_export_assigns_its_gear(capsys, tmp_path):
    archive = strava_archive(tmp_path / "export_9.zip")
    code, out, _ = run(capsys, "import", str(archive), "--workers", "0")
    assert code == 0 and "Imported 5" in out
    shoes = {r["name"]: r for r in json.loads(run(capsys, "shoes", "list", "--json")[1])}
    assert set(shoes) == {"Nike Pegasus 40", "Hoka Speedgoat"}
    assert shoes["Nike Pegasus 40"]["runs"] == 2 and shoes["Hoka Speedgoat"]["runs"] == 1
    assert shoes["Nike Pegasus 40"]["first_used"] == "2024-05-01"


# --- sessions --------------------------------------------------------------------------------------------

def test_session_add_list_delete(capsys):
    code, out, _ = run(capsys, "session", "add", "--date", "2025-01-07", "--kind", "Pilates", "--minutes", "45",
                       "--rpe", "4", "--note", "class")
    assert code == 0 and "Pilates, 45 min on Tue 7 Jan 2025" in out
    run(capsys, "session", "add", "--date", "2025-01-08", "--kind", "deep-water-running", "--minutes", "30")
    records = json.loads(run(capsys, "session", "list", "--json")[1])
    assert records == [
        {"id": 1, "date": "2025-01-07", "kind": "pilates", "minutes": 45.0, "rpe": 4.0, "note": "class"},
        {"id": 2, "date": "2025-01-08", "kind": "deep_water_running", "minutes": 30.0, "rpe": None, "note": ""}]
    out = run(capsys, "session", "list")[1]
    assert "deep-water running" in out and "Wed 8 Jan 2025" in out and "None" not in out and "nan" not in out
    assert "deep_water" not in out
    assert run(capsys, "session", "delete", "1")[0] == 0
    assert [r["id"] for r in json.loads(run(capsys, "session", "list", "--json")[1])] == [2]
    code, _, err = run(capsys, "session", "delete", "1")
    assert code == 2 and "no session with id 1" in err
    run(capsys, "session", "delete", "2")
    assert run(capsys, "session", "list")[1].startswith("No sessions yet")


@pytest.mark.parametrize("argv, words", [
    (["--kind", "core", "--minutes", "-10"], "minutes must be a number above 0"),
    (["--kind", "core", "--minutes", "0"], "minutes must be a number above 0"),
    (["--kind", "karate", "--minutes", "10"], "kind must be one of strength, core"),
    (["--kind", "core", "--minutes", "10", "--rpe", "12"], "RPE must be"),
])
def test_session_add_bad_values_are_usage_errors(capsys, argv, words):
    with pytest.raises(SystemExit) as exc:
        main(["session", "add", "--date", "2025-01-07", *argv])
    assert exc.value.code == 2
    assert words in capsys.readouterr().err


def test_session_add_future_and_ancient_dates_exit_2(today, capsys):
    tomorrow = (today + timedelta(days=2)).isoformat()
    code, _, err = run(capsys, "session", "add", "--date", tomorrow, "--kind", "core", "--minutes", "10")
    assert code == 2 and "is in the future" in err
    code, _, err = run(capsys, "session", "add", "--date", "1989-06-01", "--kind", "core", "--minutes", "10")
    assert code == 2 and "before 1990-01-01" in err
    with pytest.raises(SystemExit):
        main(["session", "add", "--date", "7/1/2025", "--kind", "core", "--minutes", "10"])
    assert json.loads(run(capsys, "session", "list", "--json")[1]) == []


# --- in the numbers, over weeks ---------------------------------------------------------------------------

def _week(monday: date, easy: float, long: float) -> list[tuple[date, float]]:
    return [(monday + timedelta(days=1), easy), (monday + timedelta(days=3), easy), (monday + timedelta(days=6), long)]


def test_weeks_of_runs_sessions_and_pain_in_report_and_plan(capsys, tmp_path):
    monday = date(2025, 1, 6)
    runs = [r for w in range(5) for r in _week(monday + timedelta(weeks=w), 6.0, 10.0)]
    write_runs(tmp_path / "runs", runs)
    # one ride with a file, also logged by hand: counted once
    ride_day = monday + timedelta(days=2)
    write_runs(tmp_path / "rides", [(ride_day, 25.0)], sport="cycling", hour=17)
    assert run(capsys, "import", str(tmp_path / "runs"), str(tmp_path / "rides"), "--workers", "0")[0] == 0
    before = json.loads(run(capsys, "report", "--json", "--as-of", "2025-02-09", "--weeks", "5")[1])

    for w in range(5):
        day = monday + timedelta(weeks=w, days=2)
        run(capsys, "session", "add", "--date", day.isoformat(), "--kind", "core", "--minutes", "20")
        run(capsys, "session", "add", "--date", (day + timedelta(days=2)).isoformat(), "--kind", "strength",
            "--minutes", "30")
    run(capsys, "session", "add", "--date", ride_day.isoformat(), "--kind", "cycling", "--minutes", "55")
    run(capsys, "session", "add", "--date", (monday + timedelta(days=9)).isoformat(), "--kind", "swimming",
        "--minutes", "40")
    after = json.loads(run(capsys, "report", "--json", "--as-of", "2025-02-09", "--weeks", "5")[1])
    weeks = after["weeks"]
    assert [w["strength_min"] for w in weeks] == [50.0] * 5
    assert weeks[0]["cross_training_min"] == pytest.approx(60.0, abs=0.5)  # the ride's file, not the logged 55 too
    assert weeks[1]["cross_training_min"] == pytest.approx(40.0)
    for a, b in zip(before["weeks"], weeks, strict=True):  # running load untouched
        for key in ("distance_km", "duration_min", "runs", "load", "acwr", "monotony", "ctl", "long_run_km"):
            assert a[key] == b[key], key
    assert after["plan"]["status"] == "green" and after["plan"]["cross_training_min"] is None
    assert "about 50 min a week" in after["plan"]["strength"]

    # pain above 5 during the last run: stop running, cross-train for at most half the running time (§13)
    run(capsys, "pain", "add", "--date", "2025-02-09", "--score", "7", "--timing", "during")
    stop = json.loads(run(capsys, "report", "--json", "--as-of", "2025-02-09")[1])["plan"]
    assert stop["stop_running"]
    avg_run_min = sum(w["duration_min"] for w in weeks[1:5]) / 4
    assert stop["cross_training_min"] == pytest.approx(5 * round(min(0.5 * avg_run_min, 300) / 5))
    assert stop["phase"] == "stop"
    assert f"about {fmt.duration(stop['cross_training_min'])} a week of cycling, swimming" in stop["message"]
    assert stop["strength"] and "NICE NG59" in stop["strength"]
    text = run(capsys, "report", "--as-of", "2025-02-09")[1]
    assert f"{fmt.duration(stop['cross_training_min'])} a week" in text and "strength and core" in text

    # a red flag: no training numbers, no strength or cross-training advice either
    run(capsys, "pain", "add", "--date", "2025-02-09", "--score", "3", "--symptom", "weakness_leg")
    flag = json.loads(run(capsys, "report", "--json", "--as-of", "2025-02-09")[1])["plan"]
    assert flag["status"] == "see_clinician"
    assert flag["strength"] is None and flag["cross_training_min"] is None


def test_report_weeks_have_strength_min_on_an_empty_store(capsys):
    with Store() as store:
        store.add_session(date(2025, 1, 7), "yoga", 60)
    report = json.loads(run(capsys, "report", "--json", "--as-of", "2025-01-12")[1])
    assert report["weeks"][-1]["strength_min"] == 60.0 and report["weeks"][-1]["distance_km"] == 0
