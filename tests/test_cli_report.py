"""``loadwatch settings`` and ``loadwatch report`` through ``loadwatch.dashboard.cli.main.main`` on a temporary store."""

import json

import numpy as np
import pandas as pd
import pytest

from loadwatch.dashboard.cli.main import main
from loadwatch.ingest import store as store_mod
from loadwatch.ingest.canonical import Activity, Summary, empty_samples


def _add_runs(db, kms, start="2024-02-01 07:00", every_days=2, with_hr=True):
    hist = np.zeros(256)
    hist[150] = 1800.0
    with store_mod.Store(db) as store:
        for i, km in enumerate(kms):
            t0 = pd.Timestamp(start, tz="UTC") + pd.Timedelta(days=every_days * i)
            s = Summary(id=f"run{i:03d}", source="test", format="fit", sport="running", sub_sport="street",
                        start_utc=t0, utc_offset_s=0.0, elapsed_s=km * 360.0, moving_s=km * 360.0,
                        distance_m=km * 1000.0, hr_seconds_by_bpm=hist.copy() if with_hr else None)
            store.add_activity(Activity(s, empty_samples()), f"file {i}".encode(), f"run{i}.fit")


@pytest.fixture
def db(tmp_path):
    return str(tmp_path / "store.sqlite3")


def test_settings_show_and_set(db, capsys):
    assert main(["settings", "set", "units", "mi", "--db", db]) == 0
    assert "units = mi" in capsys.readouterr().out
    assert main(["settings", "set", "hr_max", "188", "--db", db]) == 0
    assert main(["settings", "set", "timezone", "Europe/London", "--db", db]) == 0
    assert main(["settings", "set", "week_start", "sunday", "--db", db]) == 0
    assert main(["settings", "set", "sex", "female", "--db", db]) == 0
    capsys.readouterr()
    assert main(["settings", "show", "--db", db]) == 0
    out = capsys.readouterr().out
    for text in ("units", "mi", "188", "Europe/London", "sunday", "female"):
        assert text in out


@pytest.mark.parametrize(("key", "value", "message"), [
    ("units", "parsecs", "units must be one of km, mi"),
    ("hr_max", "fast", "hr_max must be a heart rate"),
    ("hr_max", "400", "between"),
    ("sex", "x", "sex must be one of"),
    ("timezone", "Mars/Olympus", "IANA"),
    ("week_start", "friday", "week_start must be one of"),
    ("colour", "blue", "unknown setting"),
])
def test_bad_setting_values_are_clear(db, capsys, key, value, message):
    assert main(["settings", "set", key, value, "--db", db]) in (1, 2)
    assert message in capsys.readouterr().err


def test_report_json_is_metric_and_matches_contract(db, capsys):
    _add_runs(db, [8, 8, 8, 8, 10, 12])
    assert main(["settings", "set", "units", "mi", "--db", db]) == 0
    capsys.readouterr()
    assert main(["report", "--db", db, "--as-of", "2024-02-12", "--weeks", "3", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["as_of"] == "2024-02-12" and report["units"] == "mi"
    assert [w["week_start"] for w in report["weeks"]] == ["2024-01-29", "2024-02-05", "2024-02-12"]
    assert [w["distance_km"] for w in report["weeks"]] == [16, 38, 0]  # km, even for a runner in miles
    assert report["latest_run"]["spike_category"] == "small"  # 12 km after a 30-day longest of 10
    for key in ("alerts", "plan", "suggested_rules", "disclaimer"):
        assert key in report


def test_report_as_of_ignores_later_runs(db, capsys):
    _add_runs(db, [8, 8, 20])
    assert main(["report", "--db", db, "--as-of", "2024-02-03", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert sum(w["distance_km"] for w in report["weeks"]) == 16


def test_report_human_in_miles(db, capsys):
    _add_runs(db, [8, 8, 8, 8, 10, 12])
    main(["settings", "set", "units", "mi", "--db", db])
    capsys.readouterr()
    assert main(["report", "--db", db, "--as-of", "2024-02-12"]) == 0
    out = capsys.readouterr().out
    assert "distances in mi" in out
    assert "23.6" in out  # 38 km = 23.61 mi for the week of 5 February
    assert "not a diagnosis or medical advice" in out
    assert "Latest run Sun 11 Feb 2024: 7.5 mi" in out  # 12 km


def test_report_empty_store(db, capsys):
    assert main(["report", "--db", db, "--as-of", "2024-02-12"]) == 0
    out = capsys.readouterr().out
    assert "no activities" in out or "Mon 12 Feb 2024" in out
    assert "medical advice" in out


def test_report_bad_arguments(db, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["report", "--db", db, "--as-of", "12/02/2024"])
    assert exc.value.code == 2
    assert "YYYY-MM-DD" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["report", "--db", db, "--weeks", "0"])


def test_db_option_before_or_after_the_action(db, capsys):
    assert main(["settings", "--db", db, "set", "units", "mi"]) == 0
    capsys.readouterr()
    assert main(["settings", "show", "--db", db]) == 0
    assert "mi" in capsys.readouterr().out
    assert main(["settings", "--db", db, "show"]) == 0
    assert "mi" in capsys.readouterr().out


@pytest.mark.slow
def test_report_end_to_end_through_real_import(tmp_path, capsys):
    """FIT (device offset) and GPX (no offset: the runner's zone) files through ``loadwatch import``."""
    from datetime import UTC, datetime

    from loadwatch.ingest.synth import SynthRun, fit_bytes, gpx_bytes

    folder = tmp_path / "watch"
    folder.mkdir()
    db = str(tmp_path / "e2e.sqlite3")
    # Sunday 31 March 2024, first day of BST: the FIT run starts 22:30 UTC and its device says +1 h (23:30
    # Sunday); the GPX run starts 23:15 UTC with no offset, so the zone makes it 00:15 BST on Monday
    runs = [(datetime(2024, 3, 31, 22, 30, tzinfo=UTC), 8000, 3600, fit_bytes, "a.fit"),
            (datetime(2024, 3, 31, 23, 15, tzinfo=UTC), 10000, None, gpx_bytes, "b.gpx")]
    for start, metres, offset, writer, name in runs:
        run = SynthRun(start_utc=start, duration_s=int(metres * 0.33), distance_m=metres, utc_offset_s=offset,
                       seed=len(name))
        (folder / name).write_bytes(writer(run))
    assert main(["import", str(folder), "--db", db]) == 0
    assert main(["settings", "set", "timezone", "Europe/London", "--db", db]) == 0
    capsys.readouterr()
    assert main(["report", "--db", db, "--as-of", "2024-04-02", "--weeks", "2", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    weeks = {w["week_start"]: w for w in report["weeks"]}
    assert weeks["2024-03-25"]["runs"] == 1  # 23:30 Sunday stays on Sunday
    assert weeks["2024-03-25"]["distance_km"] == pytest.approx(8.0, abs=0.1)
    assert weeks["2024-04-01"]["runs"] == 1  # 00:15 BST Monday (23:15 UTC Sunday) is next week
    assert weeks["2024-04-01"]["distance_km"] == pytest.approx(10.0, abs=0.1)
    assert report["latest_run"]["spike_category"] == "small"  # 10 km after 8 km: +25 %
    assert weeks["2024-03-25"]["trimp"] > 0 and report["hr_max_estimated"] is True
    assert report["latest_run"]["date"] == "2024-04-01"


@pytest.mark.slow
def test_report_says_when_the_history_ended_instead_of_weeks_of_zeros(today, tmp_path, capsys):
    from datetime import UTC, datetime, timedelta

    from loadwatch.dashboard.cli.main import main
    from loadwatch.ingest.importer import import_files
    from loadwatch.ingest.store import Store
    from loadwatch.ingest.synth import SynthRun, fit_bytes

    db = tmp_path / "stale.sqlite3"
    last = today - timedelta(days=200)
    files = []
    for i in range(6):
        day = last - timedelta(days=3 * i)
        files.append((f"r{i}.fit", fit_bytes(SynthRun(start_utc=datetime(day.year, day.month, day.day, 7, tzinfo=UTC),
                                                      duration_s=1800, distance_m=5000, seed=i))))
    with Store(db) as store:
        import_files(store, files)
    assert main(["report", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    from loadwatch.metrics import fmt

    assert f"Your last run was on {fmt.day(last)}, {(today - last).days // 7} weeks ago: import newer runs" in out
    assert f"--as-of {last.isoformat()}" in out
    assert "week of" not in out  # no table of twelve empty weeks
    assert main(["report", "--db", str(db), "--as-of", last.isoformat()]) == 0
    out = capsys.readouterr().out
    assert "week of" in out and "Your last run was on" not in out


def test_report_table_columns_stay_aligned(capsys):
    from loadwatch.dashboard.cli.term import table

    text = table(("week of", "dist"), [("Mon 3 Aug 2026", "12.5"), ("Mon 10 Aug 2026*", "7")], right=(1,))
    lines = [ln for ln in text.splitlines() if ln.strip() and not set(ln.strip()) <= {"─", "-", " "}]
    ends = {len(ln) for ln in lines}
    assert len(ends) == 1, text  # right-aligned numbers end in the same column


# --- the kept report (dashboard.report_cache; the `computed` fixture is in conftest) ------------------------


def _report_text(db, capsys, *extra) -> str:
    capsys.readouterr()
    assert main(["report", "--db", db, "--as-of", "2024-03-05", *extra]) == 0
    return capsys.readouterr().out


def test_the_report_is_kept_until_the_store_changes(db, capsys, computed):
    from pathlib import Path

    from loadwatch.dashboard import report_cache

    _add_runs(db, [6.0, 8.0, 6.0, 10.0] * 3)
    first = _report_text(db, capsys)
    assert len(computed) == 1
    kept = report_cache.cache_path(Path(db))
    assert kept.is_file() and kept.stat().st_mode & 0o077 == 0  # private, like the store
    assert _report_text(db, capsys) == first and len(computed) == 1  # read, not computed
    as_json = _report_text(db, capsys, "--json")  # another view: computed, then kept too
    assert len(computed) == 2 and json.loads(as_json)["as_of"] == "2024-03-05"
    assert _report_text(db, capsys, "--json") == as_json and len(computed) == 2
    assert _report_text(db, capsys, "--weeks", "4") != first and len(computed) == 3
    assert _report_text(db, capsys) == first and len(computed) == 3


def _write_activity(store):
    t0 = pd.Timestamp("2024-03-04 07:00", tz="UTC")
    s = Summary(id="late-run", source="test", format="fit", sport="running", sub_sport="street", start_utc=t0,
                utc_offset_s=0.0, elapsed_s=3600.0, moving_s=3600.0, distance_m=21000.0)
    store.add_activity(Activity(s, empty_samples()), b"late run", "late.fit")


def _write_pain(store):
    from datetime import datetime

    from loadwatch.ingest.painlog import PainEntry

    store.add_pain(PainEntry(at_local=datetime(2024, 3, 4, 19), score=6, timing="after"))


WRITES = {
    "an activity": _write_activity,
    "a pain entry": _write_pain,
    "an assessment": lambda store: store.add_assessment("2024-03-03", "seen by the physio"),
    "a setting": lambda store: store.set_setting("units", "mi"),
    "a correction": lambda store: store.correct_activity("run003", distance_km=15.0),
    "a pain entry deleted": lambda store: store.delete_pain(1),
}


@pytest.mark.parametrize("what", list(WRITES))
def test_any_write_makes_the_report_computed_again(db, capsys, computed, what):
    """After each kind of write the report is computed again, and reads as a report computed from scratch
    (no cache file) does."""
    from pathlib import Path

    from loadwatch.dashboard import report_cache

    _add_runs(db, [6.0, 8.0, 6.0, 10.0] * 3)
    with store_mod.Store(db) as store:
        _write_pain(store)  # entry 1, for the deletion
    before = _report_text(db, capsys)
    assert _report_text(db, capsys) == before and len(computed) == 1
    with store_mod.Store(db) as store:
        WRITES[what](store)
    after = _report_text(db, capsys)
    assert len(computed) == 2, f"the report was not computed again after {what}"
    report_cache.cache_path(Path(db)).unlink()
    assert _report_text(db, capsys) == after and len(computed) == 3
    if what != "an assessment":  # a visit without a decision changes no line of this history's report
        assert after != before


def test_a_damaged_cache_is_computed_again(db, capsys, computed):
    from pathlib import Path

    from loadwatch.dashboard import report_cache

    _add_runs(db, [6.0, 8.0])
    first = _report_text(db, capsys)
    report_cache.cache_path(Path(db)).write_text("{not json", encoding="utf-8")
    assert _report_text(db, capsys) == first and len(computed) == 2
    assert _report_text(db, capsys) == first and len(computed) == 2


def test_a_report_computed_while_a_write_came_in_is_not_kept(db, capsys, computed, monkeypatch):
    """The report is kept only when no write was committed while it was computed: a report computed from a
    store changed after its key was read (units set to miles meanwhile) is never printed for that key, even
    when the store comes back to what the key was read from (units back to km)."""
    from loadwatch.dashboard import from_store

    _add_runs(db, [6.0, 8.0, 6.0, 10.0] * 3)
    with store_mod.Store(db) as store:
        store.set_setting("units", "km")
    counting = from_store.report_from_store

    def writing_meanwhile(*args, **kwargs):
        if len(computed) == 0:
            with store_mod.Store(db) as store:
                store.set_setting("units", "mi")
        return counting(*args, **kwargs)

    monkeypatch.setattr(from_store, "report_from_store", writing_meanwhile)
    in_miles = _report_text(db, capsys)
    assert len(computed) == 1 and "distances in mi" in in_miles
    with store_mod.Store(db) as store:
        store.set_setting("units", "km")  # the store as the first report's key was read
    again = _report_text(db, capsys)
    assert len(computed) == 2, "a report computed while a write came in was kept"
    assert "distances in mi" not in again and "distances in km" in again
    assert _report_text(db, capsys) == again and len(computed) == 2
