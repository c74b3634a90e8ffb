"""Issue 12 through the real CLI: ``import --json``, ``activities`` notes, ``activities set``, ``rebuild``,
and no warning or traceback on any terminal over the corpus."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from loadwatch.dashboard.cli.main import main
from loadwatch.ingest import synth
from loadwatch.ingest.painlog import PainEntry
from loadwatch.ingest.store import Store

from .test_exports import glitched_gpx, truncated

T0 = datetime(2024, 5, 6, 6, 30, tzinfo=UTC)


def run(day: int = 0, duration_s: int = 1800, distance_m: float = 5400.0, **kw) -> synth.SynthRun:
    kw.setdefault("seed", day)
    return synth.SynthRun(T0 + timedelta(days=day), duration_s, distance_m, **kw)


@pytest.fixture
def db(tmp_path) -> str:
    return str(tmp_path / "cli.sqlite3")


def write(folder: Path, files: dict[str, bytes]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return folder


def test_import_json_says_what_each_file_became(tmp_path, db, capsys):
    full = synth.fit_bytes(run(day=0, duration_s=3600, distance_m=10_000.0, utc_offset_s=7200))
    first = write(tmp_path / "one", {"cut.fit": truncated(full, 0.45), "glitch.gpx": glitched_gpx(run(day=1), 900),
                                     "notes.txt": b"hello"})
    assert main(["import", str(first), "--db", db, "--json", "--workers", "0"]) == 0
    records = {Path(r["file"]).name: r for r in json.loads(capsys.readouterr().out)}
    assert set(records) == {"cut.fit", "glitch.gpx", "notes.txt"}
    for r in records.values():
        assert set(r) >= {"file", "outcome", "reason", "activity_id", "sport", "start_local", "distance_m",
                          "partial", "warnings"}
    cut = records["cut.fit"]
    assert cut["outcome"] == "imported" and cut["partial"] is True and cut["sport"] == "running"
    assert cut["warnings"][0].startswith("partial: cut short after")
    # the cut file lost the message with its UTC offset: the runner's time zone (UTC here) places it
    assert cut["start_local"] == "2024-05-06T06:30:00+00:00"
    glitch = records["glitch.gpx"]
    assert glitch["distance_m"] == pytest.approx(5400, rel=0.02) and "GPS jump" in glitch["warnings"][0]
    assert records["notes.txt"]["outcome"] == "skipped" and records["notes.txt"]["activity_id"] is None

    second = write(tmp_path / "two", {"full.fit": full})
    assert main(["import", str(second), "--db", db, "--json", "--workers", "0"]) == 0
    (rec,) = json.loads(capsys.readouterr().out)
    assert rec["outcome"] == "replaced" and rec["partial"] is False and "cut.fit" in rec["reason"]
    assert main(["import", str(second), "--db", db, "--json"]) == 0
    (rec,) = json.loads(capsys.readouterr().out)
    assert rec["outcome"] == "duplicate"


def test_human_import_names_partial_and_excluded_files(tmp_path, db, capsys):
    folder = write(tmp_path / "x", {
        "cut.fit": truncated(synth.fit_bytes(run(duration_s=3600, distance_m=10_000.0)), 0.45),
        "fast.fit": synth.fit_bytes(run(day=2, distance_m=30_000.0)),
    })
    assert main(["import", str(folder), "--db", db]) == 0
    out = capsys.readouterr().out
    assert "Imported: Mon 6 May 2024  run" in out and "note: partial: cut short after" in out
    assert "note: left out of your load until you confirm or correct it: 30.0 km at 1:00/km" in out
    assert "None" not in out and "nan" not in out


def test_activities_json_and_table_show_warnings_and_exclusions(tmp_path, db, capsys):
    folder = write(tmp_path / "x", {"fast.fit": synth.fit_bytes(run(distance_m=30_000.0)),
                                    "ok.fit": synth.fit_bytes(run(day=1))})
    main(["import", str(folder), "--db", db, "--workers", "0"])
    capsys.readouterr()
    assert main(["activities", "--db", db, "--json"]) == 0
    recs = json.loads(capsys.readouterr().out)
    assert [r["excluded_reason"] is not None for r in recs] == [True, False]
    assert all(isinstance(r["warnings"], list) and "partial" in r and "name" in r for r in recs)
    assert main(["activities", "--db", db]) == 0
    out = capsys.readouterr().out
    # the note wraps under its row in the terminal's width: read it as words
    assert "left out of your load: 30.0 km at 1:00/km is faster than the world record" in " ".join(out.split())


def test_activities_set_corrects_and_confirms(tmp_path, db, capsys):
    folder = write(tmp_path / "x", {"tm.fit": synth.fit_bytes(run(with_gps=False)),
                                    "fast.fit": synth.fit_bytes(run(day=1, distance_m=30_000.0))})
    main(["import", str(folder), "--db", db, "--workers", "0"])
    with Store(db) as s:
        acts = s.activities()
    tm, fast = acts["id"].tolist()
    capsys.readouterr()
    assert main(["activities", "set", tm[:10], "--distance-km", "6.2", "--rpe", "5", "--name", "Gym treadmill",
                 "--db", db]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f'Activity {tm[:8]}: distance 6.2 km, RPE 5, name "Gym treadmill"')
    assert main(["activities", "set", fast[:10], "--sport", "cycling", "--db", db]) == 0
    capsys.readouterr()
    with Store(db) as s:
        acts = s.activities().set_index("id")
    assert acts.loc[tm, "distance_m"] == 6200 and acts.loc[tm, "rpe"] == 5 and acts.loc[tm, "name"] == "Gym treadmill"
    assert acts.loc[fast, "sport"] == "cycling" and acts.loc[fast, "sport_from_file"] == "running"
    assert acts.loc[fast, "excluded_reason"] is None and acts.loc[tm, "corrected"]
    # bad input: plain words, exit 2
    assert main(["activities", "set", tm[:10], "--sport", "skiing", "--db", db]) == 2
    assert "sport must be one of" in capsys.readouterr().err
    assert main(["activities", "set", "zzzz", "--rpe", "3", "--db", db]) == 2
    assert "no activity with id zzzz" in capsys.readouterr().err
    assert main(["activities", "set", tm[:10], "--surface", "trail", "--same-route", "--db", db]) == 2
    assert "no GPS track" in capsys.readouterr().err


def test_same_route_labels_past_and_future_runs_of_that_route(tmp_path, db, capsys):
    loop = {f"loop{i}.fit": synth.fit_bytes(run(day=i, seed=i)) for i in range(3)}
    elsewhere = {"other.fit": synth.fit_bytes(run(day=3, lat0_deg=48.8, lon0_deg=2.35))}
    main(["import", str(write(tmp_path / "a", {**loop, **elsewhere})), "--db", db, "--workers", "0"])
    with Store(db) as s:
        ids = s.activities()["id"].tolist()
    capsys.readouterr()
    assert main(["activities", "set", ids[0][:10], "--surface", "trail", "--same-route", "--db", db]) == 0
    assert "Surface set on 2 other runs of the same route" in capsys.readouterr().out
    main(["import", str(write(tmp_path / "b", {"later.fit": synth.fit_bytes(run(day=9, seed=9))})), "--db", db])
    capsys.readouterr()
    main(["activities", "--db", db, "--json"])
    surfaces = [r["surface"] for r in json.loads(capsys.readouterr().out)]
    assert surfaces == ["trail", "trail", "trail", "unknown", "trail"]


def test_settings_default_surface(db, capsys):
    assert main(["settings", "show", "--db", db]) == 0
    assert "default_surface  (not set: runs nothing else describes have an unknown surface)" in capsys.readouterr().out
    assert main(["settings", "set", "default_surface", "road", "--db", db]) == 0
    with Store(db) as s:
        assert s.settings().default_surface == "road"
    assert main(["settings", "set", "default_surface", "sand", "--db", db]) != 0
    assert "default_surface must be one of road, trail, track, treadmill" in capsys.readouterr().err


# --- rebuild ------------------------------------------------------------------------------------------------

def _old_store(path: str, folder: Path, monkeypatch) -> None:
    """A store as the previous loadwatch wrote it: no plausibility checks, no clock-shift twins, no
    derived columns of today."""
    import loadwatch.ingest.sources as sources
    import loadwatch.ingest.twins as twins

    with monkeypatch.context() as m:
        m.setattr(sources, "check", lambda activity: activity)  # the plausibility check, as sources calls it
        m.setattr(twins, "clock_shifted", lambda conn, s, start_ts, exclude=None: None)
        main(["import", str(folder), "--db", path, "--workers", "0"])
    with Store(path) as s, s._tx() as conn:
        conn.execute("UPDATE activities SET warnings = '[]', excluded_reason = NULL, surface = NULL,"
                     " rules_version = NULL")


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return (a != a and b != b) or a == pytest.approx(b, rel=1e-9)
    return a == b


def _comparable(frame):
    cols = ["id", "sport", "start_utc", "utc_offset_s", "elapsed_s", "distance_m", "partial", "warnings",
            "excluded_reason", "rpe", "name", "surface_override", "avg_hr_bpm", "max_hr_bpm"]
    return frame[cols].to_dict("records")


def test_rebuild_of_an_old_store_equals_a_fresh_import_and_keeps_pain_and_corrections(tmp_path, monkeypatch, capsys):
    r = run(day=0, utc_offset_s=7200)
    files = {
        "watch.fit": synth.fit_bytes(r),
        "resaved.gpx": synth.gpx_bytes(synth.SynthRun(r.start_utc + timedelta(hours=2), r.duration_s, r.distance_m,
                                                      seed=0)),
        "glitch.gpx": glitched_gpx(run(day=1), 900),
        "odd.fit": synth.fit_bytes(run(day=2, utc_offset_s=18 * 60)),
        "fast.fit": synth.fit_bytes(run(day=3, distance_m=30_000.0)),
    }
    folder = write(tmp_path / "export", files)
    old, fresh = str(tmp_path / "old.sqlite3"), str(tmp_path / "fresh.sqlite3")
    _old_store(old, folder, monkeypatch)
    with Store(old) as s:
        acts = s.activities()
        assert len(acts) == 5 and acts["distance_m"].max() > 1_000_000  # the old numbers were wrong
        assert s.needs_rebuild() == 5
        watch_id = acts.loc[acts["format"] == "fit", "id"].iloc[0]
        gpx_copy = acts.loc[(acts["format"] == "gpx") & (acts["distance_m"] < 10_000), "id"].item()
        s.correct_activity(watch_id, rpe=4, name="Easy")
        s.correct_activity(gpx_copy, surface="trail")
        pid = s.add_pain(PainEntry(at_local=datetime(2024, 5, 6, 20, 0), score=2, timing="after",
                                   location="lower_back", activity_id=gpx_copy))
    capsys.readouterr()
    assert main(["rebuild", "--db", old]) == 0
    out = capsys.readouterr().out
    assert "Rebuilt 4 activities" in out and "1 merged" in out

    main(["import", str(folder), "--db", fresh, "--workers", "0"])
    with Store(fresh) as s:
        s.correct_activity(watch_id, rpe=4, name="Easy", surface="trail")
        want = _comparable(s.activities())
    with Store(old) as s:
        got = _comparable(s.activities())
        assert s.needs_rebuild() == 0
        assert s.pain().set_index("id").loc[pid, "activity_id"] == watch_id
    for g, w in zip(got, want, strict=True):
        assert {k: v for k, v in g.items() if not _same(v, w[k])} == {}, w


def test_schema_migration_backs_the_store_up_first(tmp_path):
    import sqlite3

    from loadwatch.ingest import store as store_mod

    path = tmp_path / "v2.sqlite3"
    conn = sqlite3.connect(path)
    for step in store_mod.MIGRATIONS[:2]:
        step(conn)
    conn.execute("PRAGMA user_version = 2")
    conn.execute("INSERT INTO settings (key, value) VALUES ('units', 'mi')")
    conn.commit()
    conn.close()
    with Store(path) as s:
        assert s.schema_version == store_mod.SCHEMA_VERSION
        backup = s.backup_path
        assert backup is not None and backup.exists() and backup.parent == path.parent
    assert oct(backup.stat().st_mode & 0o777) == "0o600"
    copy = sqlite3.connect(backup)
    assert copy.execute("PRAGMA user_version").fetchone()[0] == 2
    assert copy.execute("SELECT value FROM settings WHERE key = 'units'").fetchone()[0] == "mi"
    copy.close()


# --- no warning or traceback on a terminal ----------------------------------------------------------------------

@pytest.mark.slow
def test_no_warning_or_traceback_reaches_the_terminal_over_the_corpus(corpus_dir, tmp_path):
    db = str(tmp_path / "corpus.sqlite3")
    env = {**os.environ, "PYTHONWARNINGS": "default", "LOADWATCH_DB": db}
    commands = [["import", str(corpus_dir)], ["import", str(corpus_dir), "--json"], ["activities"],
                ["activities", "--json"], ["report"], ["report", "--json"], ["settings", "show"],
                ["pain", "list"], ["alerts", "list"], ["alerts", "suggest"], ["rebuild"], ["activities"]]
    for cmd in commands:
        proc = subprocess.run([sys.executable, "-m", "loadwatch.dashboard.cli.main", *cmd, "--db", db], capture_output=True,
                              text=True, env=env, timeout=600)
        problems = [ln for ln in proc.stderr.splitlines()
                    if not ln.startswith(("failed: ", "skipped: ", "duplicate: "))]
        assert proc.returncode in (0, 1), (cmd, proc.stderr[-2000:])
        assert problems == [], (cmd, problems[:10])
        assert "Traceback" not in proc.stdout and "Warning" not in proc.stdout, cmd


@pytest.mark.corpus
@pytest.mark.slow
def test_rebuild_of_an_old_store_over_the_corpus_equals_a_fresh_import(corpus_dir, tmp_path, monkeypatch, capsys):
    """The corpus imported as the previous version would (no plausibility checks, no clock-shift twins),
    with pain entries and corrections, then ``loadwatch rebuild``: the same activities as a fresh import."""
    old, fresh = str(tmp_path / "old.sqlite3"), str(tmp_path / "fresh.sqlite3")
    _old_store(old, corpus_dir, monkeypatch)
    with Store(old) as s:
        acts = s.activities()
        runs = acts[acts["sport"] == "running"]["id"].tolist()[:3]
        for aid in runs:
            s.correct_activity(aid, rpe=5, name="kept")
        # linked to a run of the entry's own day (a run of another day is refused)
        from loadwatch.metrics.daily import local_starts

        run_start = local_starts(acts[acts["id"] == runs[0]], s.settings().timezone).iloc[0]
        pid = s.add_pain(PainEntry(at_local=run_start.to_pydatetime().replace(tzinfo=None), score=4, timing="after",
                                   location="lower_back", activity_id=runs[0]))
    assert main(["rebuild", "--db", old]) == 0
    main(["import", str(corpus_dir), "--db", fresh, "--workers", "0"])
    with Store(fresh) as s:
        for aid in runs:
            s.correct_activity(aid, rpe=5, name="kept")
        want = _comparable(s.activities())
    with Store(old) as s:
        got = _comparable(s.activities())
        assert s.pain().set_index("id").loc[pid, "activity_id"] == runs[0]
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        assert {k: v for k, v in g.items() if not _same(v, w[k])} == {}, w


# --- weeks of real-looking exports through the CLI -----------------------------------------------------------

@pytest.mark.slow
def test_weeks_of_messy_exports_leave_the_weekly_running_distance_true(tmp_path, db, capsys):
    """Four weeks, three 8 km runs a week, exported the way runners' files really arrive: the watch FIT,
    then in week 2 the same runs re-saved by another program (GPX, clock written as local time 2 h off),
    in week 3 a GPS glitch copy and a watch file cut short before its complete twin, in week 4 an
    untyped 3:10/km 'run' and an impossible one.  The weekly running distance stays 24 km every week."""
    monday = datetime(2024, 6, 3, 6, 30, tzinfo=UTC)
    first, later = {}, {}
    for w in range(4):
        for k, d in enumerate((0, 2, 5)):
            r = synth.SynthRun(monday + timedelta(days=7 * w + d), 2640, 8000.0, seed=10 * w + k, utc_offset_s=7200)
            name = f"w{w}_{d}"
            if w == 2 and d == 2:
                full = synth.fit_bytes(r)
                first[f"{name}_cut.fit"] = truncated(full, 0.5)
                later[f"{name}.fit"] = full
                continue
            first[f"{name}.fit"] = synth.fit_bytes(r)
            if w == 1:
                shifted = synth.SynthRun(r.start_utc + timedelta(hours=2), r.duration_s, r.distance_m, seed=r.seed)
                later[f"{name}_resaved.gpx"] = synth.gpx_bytes(shifted, with_type=False)
            if w == 2 and d == 5:
                later[f"{name}_strava.gpx"] = glitched_gpx(r, 1200)
    week4 = monday + timedelta(days=21)
    later["ride.gpx"] = synth.gpx_bytes(synth.SynthRun(week4 + timedelta(days=1), 4180, 22_000.0, seed=77),
                                        with_type=False)
    later["impossible.fit"] = synth.fit_bytes(synth.SynthRun(week4 + timedelta(days=3), 1800, 30_000.0, seed=78))
    assert main(["import", str(write(tmp_path / "watch", first)), "--db", db]) == 0
    assert main(["import", str(write(tmp_path / "archive", later)), "--db", db]) == 0
    capsys.readouterr()
    assert main(["report", "--json", "--as-of", "2024-06-30", "--db", db]) == 0
    weeks = {w["week_start"]: w for w in json.loads(capsys.readouterr().out)["weeks"]}
    km = [weeks[d]["distance_km"] for d in ("2024-06-03", "2024-06-10", "2024-06-17", "2024-06-24")]
    assert km == pytest.approx([24.0, 24.0, 24.0, 24.0], rel=0.005)
    assert [weeks[d]["runs"] for d in sorted(weeks)[-4:]] == [3, 3, 3, 3]
    with Store(db) as s:
        acts = s.activities()
    assert len(acts) == 14  # 12 runs + the uncertain ride + the impossible run, each kept once
    assert acts["excluded_reason"].notna().sum() == 2
