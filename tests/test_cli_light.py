"""The everyday commands stay light (issue 21): ``pain add``, ``activities`` and ``report`` never import
the dashboard's, the PDF's or the cohort's libraries.  Each runs in a fresh interpreter through the
``loadwatch`` script's own entry, and the modules it loaded are read from ``sys.modules``.  (How fast they
are is measured by ``benchmarks/bench_dashboard.py``, not here.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_cli_report import _add_runs

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("streamlit", "altair", "vl_convert", "fpdf", "dask", "distributed", "pyarrow")

# the loadwatch script's entry, then the heavy modules that were really imported (a name marked absent in
# sys.modules is None)
PROBE = """
import contextlib, io, json, sys
from loadwatch.dashboard.cli.main import main
with contextlib.redirect_stdout(io.StringIO()):
    code = main(sys.argv[1:])
print(json.dumps({"code": code, "loaded": [m for m in HEAVY if sys.modules.get(m) is not None]}))
""".replace("HEAVY", repr(HEAVY))


def loaded_by(argv: list[str]) -> list[str]:
    done = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["code"] == 0, (argv, done.stderr[-2000:])
    return out["loaded"]


@pytest.fixture
def history():
    _add_runs(os.environ["LOADWATCH_DB"], [6.0, 8.0, 6.0, 10.0] * 4)


@pytest.mark.parametrize("argv", [
    ["pain", "add", "--date", "2024-03-02", "--score", "3", "--timing", "next_morning"],
    ["activities"],
    ["activities", "--json"],
    ["report", "--as-of", "2024-03-05"],
    ["alerts", "check", "--as-of", "2024-03-05"],
])
def test_everyday_commands_never_import_the_heavy_libraries(history, argv):
    assert loaded_by(argv) == []


@pytest.mark.slow
def test_the_pdf_report_does_load_what_it_needs_and_nothing_of_the_dashboard(history, tmp_path):
    """The probe sees a heavy import when there is one: the PDF needs fpdf (its charts are drawn with it, so
    neither Altair nor vl-convert is loaded)."""
    loaded = loaded_by(["report", "--as-of", "2024-03-05", "--pdf", str(tmp_path / "r.pdf")])
    assert "fpdf" in loaded and not {"vl_convert", "altair"} & set(loaded)
    assert not {"streamlit", "dask", "distributed"} & set(loaded)
    assert (tmp_path / "r.pdf").read_bytes().startswith(b"%PDF")


# --- pain add and activities without pandas (ingest.store_light) -----------------------------------------

#: A fast path that imported any of these would spend the half second issue 21 gives the command.
NUMERIC = ("pandas", "numpy")

NUMERIC_PROBE = PROBE.replace(repr(HEAVY), repr(NUMERIC))


def numeric_loaded_by(argv: list[str]) -> tuple[list[str], str]:
    done = subprocess.run([sys.executable, "-c", NUMERIC_PROBE, *argv], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["code"] == 0, (argv, done.stderr[-2000:])
    return out["loaded"], done.stderr


@pytest.mark.parametrize("argv", [
    ["pain", "add", "--date", "2024-03-02", "--score", "3", "--timing", "next_morning"],
    ["pain", "add", "--date", "2024-03-02", "--score", "3"],  # its default timing: was there a run that day?
    ["pain", "add", "--date", "2024-03-02", "--score", "3", "--run", "run015"],  # the run of that day
    ["pain", "add", "--date", "2024-03-03", "--score", "3", "--run", "RUN015", "--timing", "next_morning"],
    ["activities"],
    ["activities", "--json"],
])
def test_pain_add_and_activities_never_import_pandas(history, argv):
    loaded, stderr = numeric_loaded_by(argv)
    assert loaded == [], f"{argv} imported {loaded}"
    assert "Warning" not in stderr


def test_the_probe_sees_pandas_where_it_is_needed(history):
    """``alerts check`` computes the report (pandas): the probe is not blind."""
    loaded, _ = numeric_loaded_by(["alerts", "check", "--as-of", "2024-03-05"])
    assert "pandas" in loaded


def test_the_light_store_knows_the_stores_schema_version():
    from loadwatch.ingest import db, schema, store_light

    assert store_light.SCHEMA_VERSION == schema.SCHEMA_VERSION
    assert store_light.BUSY_TIMEOUT_S == db.BUSY_TIMEOUT_S


def _varied_store(db: str, *, timezone: str | None) -> None:
    """Every case ``Store.activities`` resolves: corrections of each kind, archive metadata, a confirmed
    activity that was left out, GPX runs without an offset near watch runs with one, a default surface,
    warnings, a partial file, shoes."""
    import sqlite3

    import pandas as pd

    from loadwatch.ingest.canonical import Activity, Summary, empty_samples
    from loadwatch.ingest.store import Store

    with Store(db) as store:
        for i in range(8):
            t0 = pd.Timestamp("2024-02-01 18:30", tz="UTC") + pd.Timedelta(days=2 * i, hours=i)
            gpx = i % 3 == 1
            s = Summary(id=f"act{i:02d}", source=f"run{i}", format="gpx" if gpx else "fit",
                        sport="cycling" if i == 6 else "running", sub_sport=None if gpx or i == 5 else "trail",
                        start_utc=t0, utc_offset_s=None if gpx else 3600.0 * (i % 2),
                        elapsed_s=3000.0 + i, moving_s=float("nan") if i == 2 else 2900.0, distance_m=8000.0 + i,
                        avg_hr_bpm=150.0 if i % 2 else float("nan"), partial=i == 4,
                        warnings=("partial: cut short after 41 min",) if i == 4 else (),
                        excluded_reason="a pace no runner keeps" if i in (3, 7) else None,
                        name="Evening run" if i == 0 else None, surface="road" if i == 5 else None)
            store.add_activity(Activity(s, empty_samples()), f"file {i}".encode(), f"run{i}.{s.format}")
        if timezone:
            store.set_setting("timezone", timezone)
        store.set_setting("default_surface", "treadmill")
        store.add_shoe("Blue pair")
        store.correct_activity("act00", sport="walking", name="Walk home", shoe="Blue pair")
        store.correct_activity("act01", distance_km=9.5, rpe=6)
        store.correct_activity("act02", surface="track")
        store.correct_activity("act03", confirm=True)
    conn = sqlite3.connect(db)  # an archive's metadata, as a Strava export's CSV leaves it
    with conn:
        conn.execute("UPDATE activities SET meta_sport = 'hiking', meta_surface = 'trail' WHERE id = 'act05'")
    conn.close()


@pytest.mark.parametrize("timezone", [None, "America/New_York"])
def test_the_light_activity_list_is_the_stores(tmp_path, timezone):
    """``loadwatch activities`` read with sqlite3 alone gives the records the full store gives, field by
    field, in every case the store resolves."""
    from loadwatch.dashboard.cli.cmd_ingest import activity_records, light_records
    from loadwatch.ingest import store_light
    from loadwatch.ingest.store import Store

    db = str(tmp_path / "varied.sqlite3")
    _varied_store(db, timezone=timezone)
    with Store(db) as store:
        settings = store.settings()
        given = store.activity_shoes()
        full = activity_records(store.activities(), settings.timezone,
                                dict(zip(given["activity_id"], given["shoe"], strict=True)))
    light_settings, rows, shoes = store_light.activities(db)
    assert light_settings == settings
    light = light_records(rows, light_settings.timezone, shoes)
    assert len(light) == len(full) == 8
    for mine, theirs in zip(light, full, strict=True):
        assert mine == theirs
    # the cases are really there
    by_id = {r["id"]: r for r in light}
    assert by_id["act00"]["sport"] == "walking" and by_id["act00"]["name"] == "Walk home"
    assert by_id["act00"]["shoe"] == "Blue pair" and by_id["act00"]["corrected"]
    assert by_id["act01"]["distance_m"] == 9500.0 and by_id["act01"]["rpe"] == 6.0
    assert by_id["act02"]["surface"] == "track" and by_id["act02"]["moving_s"] is None
    assert by_id["act03"]["excluded_reason"] is None and by_id["act07"]["excluded_reason"]
    assert by_id["act05"]["sport"] == "hiking"
    assert by_id["act04"]["partial"] and by_id["act04"]["warnings"]
    # a GPX run without a time zone set borrows the offset of the watch runs around it (both at +01:00)
    assert by_id["act04"]["start_local"].endswith("+01:00" if timezone is None else "-05:00")


@pytest.mark.parametrize("timezone", [None, "America/New_York"])
def test_both_pain_writers_link_the_same_runs(tmp_path, timezone):
    """The light path and ``Store.add_pain`` place every activity on the local day the metrics place it
    (offsets borrowed, the runner's zone: in New York the 01:30 UTC GPX run is the evening before), accept a
    linked entry of that day (a next-morning one of the day after too) and refuse the rest alike; both
    answer "did the runner run that day?" as the metrics do."""
    import sqlite3
    from datetime import datetime, time, timedelta

    from loadwatch.ingest import store_light
    from loadwatch.ingest.painlog import PainEntry, RunLinkError
    from loadwatch.ingest.store import Store
    from loadwatch.metrics.daily import local_starts, prepare_activities

    db = str(tmp_path / "varied.sqlite3")
    _varied_store(db, timezone=timezone)
    with Store(db) as store:
        acts, zone = store.activities(), store.settings().timezone
    metric_days = dict(zip(acts["id"], local_starts(acts, zone).dt.date, strict=True))
    conn = sqlite3.connect(db)
    light_days = store_light.run_days(conn)
    conn.close()
    assert {i: d for i, (d, _counts) in light_days.items()} == metric_days
    if timezone:
        assert metric_days["act07"] != acts.set_index("id").loc["act07", "start_utc"].date()  # the case is there

    def outcome(write, entry):
        try:
            write(entry)
        except RunLinkError:
            return "refused"
        return "linked"

    light_db, full_db = str(tmp_path / "light.sqlite3"), str(tmp_path / "full.sqlite3")
    for copy in (light_db, full_db):
        _varied_store(copy, timezone=timezone)
    with Store(full_db) as full:
        for aid, day in metric_days.items():
            for days_after in (-1, 0, 1, 2):
                for timing in ("after", "next_morning"):
                    entry = PainEntry(at_local=datetime.combine(day + timedelta(days=days_after), time(9)), score=2,
                                      timing=timing, activity_id=aid)
                    expected = "linked" if days_after == 0 or (days_after == 1 and timing == "next_morning") \
                        else "refused"
                    assert outcome(lambda e: store_light.add_pain(light_db, e), entry) == expected, (aid, entry)
                    assert outcome(full.add_pain, entry) == expected, (aid, entry)
        ran_days = set(prepare_activities(acts, zone).query("is_run")["date"].dt.date)
        for day in sorted(set(metric_days.values()) | {d + timedelta(days=1) for d in metric_days.values()}):
            assert store_light.ran_on(light_db, day) == full.ran_on(day) == (day in ran_days), day
    columns = ["at_local", "score", "timing", "activity_id"]
    with Store(light_db) as light, Store(full_db) as full:
        assert len(light.pain()) == 8 * 3
        assert light.pain()[columns].astype(str).values.tolist() == full.pain()[columns].astype(str).values.tolist()


def test_the_light_paths_step_aside_when_unsure(tmp_path):
    """No store yet, or a store at another version: nothing is read or written, the full store decides."""
    import sqlite3
    from datetime import datetime

    from loadwatch.ingest import store_light
    from loadwatch.ingest.painlog import PainEntry
    from loadwatch.ingest.store import Store

    missing = tmp_path / "none.sqlite3"
    entry = PainEntry(at_local=datetime(2024, 3, 2, 7), score=2, timing="next_morning")
    assert store_light.activities(str(missing)) is None
    assert store_light.add_pain(str(missing), entry) is None
    assert not missing.exists()
    db = tmp_path / "older.sqlite3"
    with Store(db):
        pass
    conn = sqlite3.connect(db)
    conn.execute(f"PRAGMA user_version = {store_light.SCHEMA_VERSION - 1}")
    conn.close()
    assert store_light.activities(str(db)) is None
    assert store_light.add_pain(str(db), entry) is None
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT COUNT(*) FROM pain").fetchone()[0] == 0
    conn.close()


def test_pain_add_writes_the_row_the_store_writes(tmp_path, capsys):
    """The light pain entry and ``Store.add_pain``'s are the same row (bar ids and clocks), and the
    runner reads the same answer; ``pain list`` shows it."""
    from datetime import datetime

    from loadwatch.dashboard.cli.main import main
    from loadwatch.ingest.painlog import PainEntry
    from loadwatch.ingest.store import Store

    db = str(tmp_path / "pain.sqlite3")
    with Store(db):
        pass
    argv = ["pain", "add", "--date", "2024-03-02", "--score", "4", "--timing", "after", "--note", "hill reps",
            "--db", db]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "logged pain entry 1: 4/10 right after the run on Sat 2 Mar 2024 12:00" in out and "acceptable if it settles" in out
    with Store(db) as store:
        store.add_pain(PainEntry(at_local=datetime(2024, 3, 2, 12, 0), score=4, timing="after", note="hill reps"))
        frame = store.pain()
    cols = ["at_local", "score", "timing", "location", "activity_id", "symptoms", "note", "deleted"]
    rows = frame[cols].astype(str).values.tolist()
    assert len(rows) == 2 and rows[0] == rows[1]
    assert main(["pain", "list", "--db", db]) == 0
    assert "hill reps" in capsys.readouterr().out



def test_the_light_store_finds_the_stores_default_file(monkeypatch, tmp_path):
    """Without ``--db`` or ``$LOADWATCH_DB`` (a runner's everyday case) the light path opens the file the
    full store opens."""
    from loadwatch.ingest import store as store_mod
    from loadwatch.ingest import store_light

    assert store_light.store_path(None) == store_mod.default_db_path()  # $LOADWATCH_DB (conftest)
    monkeypatch.delenv("LOADWATCH_DB")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert store_light.store_path(None) == store_mod.default_db_path()
    assert str(tmp_path) in str(store_light.store_path(None))
    assert store_light.store_path(str(tmp_path / "x.sqlite3")) == tmp_path / "x.sqlite3"


def test_every_command_is_found_in_the_module_that_adds_it(capsys):
    """``loadwatch X`` imports only X's module (loadwatch.dashboard.cli.main.COMMAND_MODULES): each module adds exactly the
    commands the table gives it, so no command goes missing when only its module is loaded."""
    import argparse
    import importlib

    from loadwatch.dashboard.cli import main as cli

    for name in dict.fromkeys(cli.COMMAND_MODULES.values()):
        sub = argparse.ArgumentParser().add_subparsers()
        importlib.import_module(f"loadwatch.dashboard.cli.{name}").register(sub, cli.add_db_option)
        assert set(sub.choices) == {c for c, n in cli.COMMAND_MODULES.items() if n == name}, name
    for command in cli.COMMAND_MODULES:  # and each is there with its module alone
        with pytest.raises(SystemExit) as done:
            cli.build_parser([command]).parse_args([command, "--help"])
        assert done.value.code == 0 and f"loadwatch {command}" in capsys.readouterr().out
