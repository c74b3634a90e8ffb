"""Shoes and logged sessions in the store: migrations from earlier schemas, default and retired pairs,
a Strava-shaped archive whose activities.csv names the gear, a richer copy keeping the pair."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import shutil
import sqlite3
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from loadwatch.ingest import store as store_mod
from loadwatch.ingest.importer import import_files, import_paths
from loadwatch.ingest.store import MIGRATIONS, SCHEMA_VERSION, Store
from loadwatch.ingest.synth import SynthRun, fit_bytes, gpx_bytes

DATA_DIR = Path(__file__).parent / "data"


def _run(day: int, km: float = 8.0, hour: int = 7, sport: str = "running", seed: int | None = None) -> SynthRun:
    return SynthRun(datetime(2024, 5, day, hour, 0, tzinfo=UTC), int(km * 330), km * 1000, sport=sport,
                    seed=seed if seed is not None else day)


def _import(store, files, **kw):
    return import_files(store, files, workers=0, **kw)


# --- migrations ------------------------------------------------------------------------------------------

def test_store_v1_migrates_to_shoes_and_sessions(tmp_path):
    path = tmp_path / "old.sqlite3"
    shutil.copy(DATA_DIR / "store_v1.sqlite3", path)
    with Store(path) as s:
        assert s.schema_version == SCHEMA_VERSION
        assert s.shoes().empty and s.sessions().empty and s.activity_shoes().empty
        acts = s.activities()
        assert len(acts) == 2
        s.add_shoe("Old faithful", start_km=120)
        run_id = acts.loc[acts["sport"] == "running", "id"].iloc[0]
        s.set_activity_shoe(run_id, "old faithful")  # names are case-insensitive
        assert s.activity_shoes().set_index("activity_id").loc[run_id, "shoe"] == "Old faithful"
        s.add_session("2024-05-02", "core", 20)
        assert len(s.sessions()) == 1


def _store_at(path: Path, version: int) -> None:
    """A store as the schema stood at ``version`` (the migrations never change once released)."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN")
    for step in MIGRATIONS[:version]:
        step(conn)
    conn.execute(f"PRAGMA user_version = {version}")
    conn.execute("COMMIT")
    conn.close()


def test_store_v2_migrates_keeping_activities(tmp_path):
    """A v2 store (richness column, no shoes) with a run written by that schema's code path."""
    path = tmp_path / "v2.sqlite3"
    _store_at(path, 2)
    # write one run with this loadwatch, then roll the shoes/sessions tables back off to stand for v2
    with Store(tmp_path / "scratch.sqlite3") as scratch:
        _import(scratch, [("r.fit", fit_bytes(_run(3)))])
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute(f"ATTACH DATABASE '{tmp_path / 'scratch.sqlite3'}' AS src")
    for table in ("files", "originals", "activities"):
        cols = [r[1] for r in conn.execute(f"PRAGMA main.table_info({table})")]
        conn.execute(f"INSERT INTO main.{table} ({', '.join(cols)}) SELECT {', '.join(cols)} FROM src.{table}")
    conn.execute("DETACH DATABASE src")
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 2
    assert not conn.execute("SELECT name FROM sqlite_master WHERE name = 'shoes'").fetchall()
    conn.close()
    with Store(path) as s:
        assert s.schema_version == SCHEMA_VERSION
        assert len(s.activities()) == 1
        s.add_shoe("Daily", default=True)
        _import(s, [("r2.fit", fit_bytes(_run(5)))])
        assert list(s.activity_shoes()["shoe"]) == ["Daily"]


# --- shoes -----------------------------------------------------------------------------------------------

def test_default_shoe_goes_to_runs_imported_while_default(tmp_path):
    with Store(tmp_path / "s.sqlite3") as s:
        _import(s, [("before.fit", fit_bytes(_run(1)))])
        s.add_shoe("A", default=True)
        _import(s, [("a1.fit", fit_bytes(_run(2))), ("ride.fit", fit_bytes(_run(2, 20, hour=12, sport="cycling")))])
        s.add_shoe("B")
        s.set_default_shoe("B")
        _import(s, [("b1.fit", fit_bytes(_run(4)))])
        given = s.activity_shoes()
        acts = s.activities().set_index("id")
        by_day = {acts.loc[r.activity_id, "start_utc"].day: r.shoe for r in given.itertuples()}
        assert by_day == {2: "A", 4: "B"}  # not the run before, not the ride
        assert set(given["source"]) == {"default"}
        assert s.shoes().set_index("name")["default"].to_dict() == {"A": False, "B": True}


def test_retired_shoe_takes_no_new_runs(tmp_path):
    with Store(tmp_path / "s.sqlite3") as s:
        _import(s, [("old.fit", fit_bytes(_run(1)))])
        s.add_shoe("Worn", default=True)
        s.retire_shoe("Worn", on="2024-05-10")
        assert not s.shoes()["default"].any()
        with pytest.raises(ValueError, match="retired"):
            s.set_default_shoe("Worn")
        _import(s, [("new.fit", fit_bytes(_run(20)))])
        assert s.activity_shoes().empty  # no default any more
        acts = s.activities().set_index("id")
        old = acts.index[acts["start_utc"].dt.day == 1][0]
        new = acts.index[acts["start_utc"].dt.day == 20][0]
        s.set_activity_shoe(old, "Worn")  # run before the retirement: allowed
        with pytest.raises(ValueError, match="retired on 2024-05-10"):
            s.set_activity_shoe(new, "Worn")


def test_reassigning_a_run_and_bad_names(tmp_path):
    with Store(tmp_path / "s.sqlite3") as s:
        _import(s, [("r.fit", fit_bytes(_run(1)))])
        rid = s.activities()["id"].iloc[0]
        s.add_shoe("A", default=True)
        s.add_shoe("B", start_km=300, retire_km=800)
        s.set_activity_shoe(rid, "A")
        s.set_activity_shoe(rid, "B")
        row = s.activity_shoes().iloc[0]
        assert (row.shoe, row.source) == ("B", "user")
        s.set_activity_shoe(rid, None)
        assert s.activity_shoes().empty
        with pytest.raises(KeyError, match="no shoe named 'C'.*A, B"):
            s.set_activity_shoe(rid, "C")
        with pytest.raises(KeyError, match="no activity"):
            s.set_activity_shoe("nope", "A")
        with pytest.raises(ValueError, match="already a shoe"):
            s.add_shoe("a")
        with pytest.raises(ValueError, match="0 or more"):
            s.add_shoe("D", start_km=-5)
        with pytest.raises(ValueError, match="above 0"):
            s.set_shoe_retire_km("A", 0)
        s.set_shoe_retire_km("A", 650)
        assert s.shoes().set_index("name").loc["A", "retire_km"] == 650


def test_richer_copy_keeps_the_runs_shoe(tmp_path):
    run = _run(6)
    with Store(tmp_path / "s.sqlite3") as s:
        s.add_shoe("A")
        _import(s, [("r.gpx", gpx_bytes(run))])
        gpx_id = s.activities()["id"].iloc[0]
        s.set_activity_shoe(gpx_id, "A")
        outcomes = _import(s, [("r.fit", fit_bytes(run))])
        assert outcomes[0].status == "replaced"  # issue 12: a better copy replaces the run
        new_id = s.activities()["id"].iloc[0]
        assert new_id != gpx_id
        assert s.activity_shoes()[["activity_id", "shoe", "source"]].values.tolist() == [[new_id, "A", "user"]]


def _shifted_pair(hours: int = 2) -> tuple[bytes, bytes]:
    """A watch's FIT (which knows its UTC offset) and a GPX converted from it by a program that wrote local
    time as UTC: the same run, its clock ``hours`` off."""
    r = SynthRun(datetime(2024, 5, 9, 7, 0, tzinfo=UTC), 1800, 5400.0, utc_offset_s=hours * 3600, seed=9)
    shifted = SynthRun(r.start_utc + dt.timedelta(hours=hours), r.duration_s, r.distance_m, seed=9)
    return fit_bytes(r), gpx_bytes(shifted)


@pytest.mark.parametrize("gpx_first", [True, False])
def test_clock_shifted_twin_keeps_the_runners_shoe(tmp_path, gpx_first):
    """FIT + converted GPX twin: whichever arrives first, the run kept (the FIT) has the pair the runner
    gave either copy, and the runner's choice beats the default pair the later copy was given."""
    fit, gpx = _shifted_pair()
    with Store(tmp_path / "s.sqlite3") as s:
        s.add_shoe("Road pair", default=True)
        s.add_shoe("Trail pair")
        first, second = (("r.gpx", gpx), ("r.fit", fit)) if gpx_first else (("r.fit", fit), ("r.gpx", gpx))
        _import(s, [first])
        first_id = s.activities()["id"].iloc[0]
        assert s.activity_shoes().set_index("activity_id").loc[first_id, "source"] == "default"
        s.set_activity_shoe(first_id, "Trail pair")
        outcomes = _import(s, [second])
        acts = s.activities()
        assert len(acts) == 1 and acts["format"].iloc[0] == "fit"
        # a FIT arriving second replaces the converted copy; a GPX arriving second is a duplicate of it
        assert outcomes[0].status == ("replaced" if gpx_first else "duplicate")
        assert s.activity_shoes()[["activity_id", "shoe", "source"]].values.tolist() == [
            [acts["id"].iloc[0], "Trail pair", "user"]]


def test_folded_clock_twin_gives_its_shoe_to_the_kept_run(tmp_path):
    """A watch file cut short, then a converted copy with its clock shifted (not matched to the shorter
    file: two activities), then the complete watch file: it replaces the cut one and folds the shifted copy
    in, taking the pair the runner gave that copy."""
    from loadwatch.ingest.synth import tcx_bytes

    r = SynthRun(datetime(2024, 5, 9, 7, 0, tzinfo=UTC), 2400, 7200.0, utc_offset_s=7200, seed=6)
    full = fit_bytes(r)
    shifted = tcx_bytes(SynthRun(r.start_utc + dt.timedelta(hours=2), 2400, 7200.0, seed=6))
    with Store(tmp_path / "s.sqlite3") as s:
        s.add_shoe("Road pair", default=True)
        s.add_shoe("Trail pair")
        _import(s, [("cut.fit", full[: len(full) // 2])])
        _import(s, [("resaved.tcx", shifted)])
        acts = s.activities()
        assert len(acts) == 2
        s.set_activity_shoe(acts.loc[acts["format"] == "tcx", "id"].iloc[0], "Trail pair")
        _import(s, [("watch.fit", full)])
        acts = s.activities()
        assert len(acts) == 1 and acts["format"].iloc[0] == "fit" and not acts["partial"].iloc[0]
        assert s.activity_shoes()[["activity_id", "shoe", "source"]].values.tolist() == [
            [acts["id"].iloc[0], "Trail pair", "user"]]


def test_rebuild_keeps_the_runs_shoe(tmp_path):
    fit, gpx = _shifted_pair()
    with Store(tmp_path / "s.sqlite3") as s:
        s.add_shoe("Trail pair")
        _import(s, [("r.gpx", gpx), ("r.fit", fit), ("other.fit", fit_bytes(_run(20)))])
        shoes_before = {}
        for aid in s.activities()["id"]:
            s.set_activity_shoe(aid, "Trail pair")
            shoes_before[aid] = "Trail pair"
        s.rebuild()
        after = s.activity_shoes()
        assert sorted(after["activity_id"]) == sorted(s.activities()["id"]) and len(after) == 2
        assert set(after["shoe"]) == {"Trail pair"} and set(after["source"]) == {"user"}


# --- a Strava-shaped export --------------------------------------------------------------------------------

def _strava_csv(rows: list[dict]) -> bytes:
    buf = io.StringIO()
    header = ["Activity ID", "Activity Date", "Activity Name", "Activity Type", "Distance", "Activity Gear",
              "Filename", "Distance"]
    w = csv.writer(buf)
    w.writerow(header)
    for r in rows:
        w.writerow([r["id"], "May 1, 2024, 7:00:00 AM", "Run", r.get("type", "Run"), "8.0", r.get("gear", ""),
                    r.get("file", ""), "8000.0"])
    return buf.getvalue().encode()


def strava_archive(path: Path) -> Path:
    """activities.csv + activities/*.fit.gz / *.gpx, as Strava's bulk export lays them out."""
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("activities.csv", _strava_csv([
            {"id": 11, "gear": "Nike Pegasus 40", "file": "activities/11.fit.gz"},
            {"id": 12, "gear": "Nike  Pegasus 40", "file": "activities/12.gpx"},
            {"id": 13, "gear": "Hoka Speedgoat", "file": "activities/13.fit.gz"},
            {"id": 14, "gear": "Canyon bike", "file": "activities/14.fit.gz", "type": "Ride"},
            {"id": 15, "gear": "", "file": "activities/15.fit.gz"},
            {"id": 16, "gear": "Manual entry shoe", "file": ""},
        ]))
        zf.writestr("activities/11.fit.gz", gzip.compress(fit_bytes(_run(1))))
        zf.writestr("activities/12.gpx", gpx_bytes(_run(3)))
        zf.writestr("activities/13.fit.gz", gzip.compress(fit_bytes(_run(5))))
        zf.writestr("activities/14.fit.gz", gzip.compress(fit_bytes(_run(5, 30, hour=15, sport="cycling"))))
        zf.writestr("activities/15.fit.gz", gzip.compress(fit_bytes(_run(7))))
    return path


@pytest.mark.parametrize("how", ["paths", "upload"])
def test_strava_archive_gear_assigns_and_creates_shoes(tmp_path, how):
    archive = strava_archive(tmp_path / "export_123.zip")
    with Store(tmp_path / "s.sqlite3") as s:
        s.add_shoe("Default pair", default=True)
        if how == "paths":
            outcomes = import_paths(s, [archive], workers=0)
        else:
            outcomes = import_files(s, [(archive.name, archive.read_bytes())], workers=0)
        table = [o for o in outcomes if o.name.endswith("activities.csv")][0]
        assert table.status == "skipped" and "shoes" in table.reason
        acts = s.activities().set_index("id")
        given = s.activity_shoes().set_index("activity_id")
        by_day = {acts.loc[i, "start_utc"].day: (r.shoe, r.source) for i, r in given.iterrows()}
        assert by_day == {1: ("Nike Pegasus 40", "strava"), 3: ("Nike Pegasus 40", "strava"),
                          5: ("Hoka Speedgoat", "strava"), 7: ("Default pair", "default")}
        assert set(s.shoes()["name"]) == {"Default pair", "Nike Pegasus 40", "Hoka Speedgoat"}  # no bike
        # the runner's own choice survives a re-import of the export
        rid = acts.index[acts["start_utc"].dt.day == 1][0]
        s.set_activity_shoe(rid, "Hoka Speedgoat")
        import_paths(s, [archive], workers=0)
        assert s.activity_shoes().set_index("activity_id").loc[rid, "shoe"] == "Hoka Speedgoat"


def test_strava_folder_export_with_workers(tmp_path):
    archive = strava_archive(tmp_path / "export.zip")
    folder = tmp_path / "export"
    with zipfile.ZipFile(archive) as zf:
        zf.extractall(folder)
    with Store(tmp_path / "s.sqlite3") as s:
        import_paths(s, [folder], workers=2)
        assert sorted(s.activity_shoes()["shoe"]) == ["Hoka Speedgoat", "Nike Pegasus 40", "Nike Pegasus 40"]


# --- sessions --------------------------------------------------------------------------------------------

def test_sessions_add_list_delete_and_bad_input(tmp_path):
    with Store(tmp_path / "s.sqlite3") as s:
        sid = s.add_session(dt.date(2024, 5, 2), "Pilates", 45, rpe=4, note="  class ")
        s.add_session("2024-05-01", "deep-water running", 30)
        frame = s.sessions()
        assert list(frame["kind"]) == ["deep_water_running", "pilates"]
        assert frame.set_index("id").loc[sid, "note"] == "class"
        assert frame["rpe"].isna().tolist() == [True, False]
        tomorrow = s._today() + dt.timedelta(days=1)
        for args, msg in [((tomorrow, "core", 10), "future"), (("1989-12-31", "core", 10), "before 1990"),
                          (("2024-05-01", "karate", 10), "kind must be one of"),
                          (("2024-05-01", "core", -5), "above 0"), (("2024-05-01", "core", 0), "above 0"),
                          (("2024-13-01", "core", 10), "YYYY-MM-DD")]:
            with pytest.raises(ValueError, match=msg):
                s.add_session(*args)
        with pytest.raises(ValueError, match="RPE"):
            s.add_session("2024-05-01", "core", 10, rpe=11)
        s.delete_session(sid)
        assert list(s.sessions()["kind"]) == ["deep_water_running"]
        with pytest.raises(KeyError, match="no session"):
            s.delete_session(sid)


def test_schema_version_counts_the_new_steps():
    assert store_mod.SCHEMA_VERSION == len(MIGRATIONS)
    assert any(step.__module__ == "loadwatch.ingest.shoes" for step in MIGRATIONS)
    assert any(step.__module__ == "loadwatch.ingest.sessions" for step in MIGRATIONS)
