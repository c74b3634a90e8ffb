"""The store: schema and migrations, one transaction per file, dedup of the same run, pain history,
settings, rules, permissions and two writers at once."""

from __future__ import annotations

import hashlib
import math
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from loadwatch.ingest import activities as activities_table
from loadwatch.ingest import synth
from loadwatch.ingest.canonical import Activity, Summary, make_samples, summarize_samples
from loadwatch.ingest.painlog import PainEntry
from loadwatch.ingest.store import (
    ACTIVITY_COLUMNS,
    ACTIVITY_DTYPES,
    PAIN_COLUMNS,
    SCHEMA_VERSION,
    Rule,
    Store,
    StoreVersionError,
    default_db_path,
    demo_db_path,
)
from tests.conftest import DATA_DIR, REPO_ROOT

T0 = datetime(2024, 5, 1, 7, 0, tzinfo=UTC)


def synth_activity(run: synth.SynthRun, fmt: str = "fit", *, drop: tuple[str, ...] = ()) -> tuple[Activity, bytes]:
    """(Activity, file bytes) for ``run`` without going through a reader: the samples are the run's own
    channels, as a perfect reader would return them."""
    data = {"fit": synth.fit_bytes, "gpx": synth.gpx_bytes, "tcx": synth.tcx_bytes}[fmt](run)
    channels = {k: v for k, v in run.channels().items() if k not in drop}
    t = pd.to_datetime(run.start_utc.timestamp() + np.arange(run.duration_s), unit="s", utc=True)
    samples = make_samples(t, channels)
    figures = summarize_samples(samples)
    summary = Summary(id=hashlib.sha256(data).hexdigest(), source=f"run.{fmt}", format=fmt, sport=run.sport,
                      sub_sport=run.sub_sport if fmt == "fit" else None,
                      utc_offset_s=run.utc_offset_s if fmt == "fit" else None, **figures)
    return Activity(summary, samples), data


def run_at(hours: float = 0.0, duration_s: int = 1800, **kw) -> synth.SynthRun:
    return synth.SynthRun(T0 + timedelta(hours=hours), duration_s, duration_s * 3.0, **kw)


def table_counts(path) -> dict[str, int]:
    conn = sqlite3.connect(path)
    try:
        return {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                for t in ("files", "originals", "activities", "pain", "pain_history")}
    finally:
        conn.close()


# --- opening, paths, permissions --------------------------------------------------------------------------

def test_default_paths_follow_env(tmp_path, monkeypatch):
    monkeypatch.setenv("LOADWATCH_DB", str(tmp_path / "a" / "mine.sqlite3"))
    assert default_db_path() == tmp_path / "a" / "mine.sqlite3"
    assert demo_db_path() == tmp_path / "a" / "demo.sqlite3"
    with Store() as s:
        assert s.path == tmp_path / "a" / "mine.sqlite3"


def test_new_store_is_private_wal_and_current(tmp_path):
    path = tmp_path / "new" / "deeper" / "store.sqlite3"
    with Store(path) as s:
        assert s.schema_version == SCHEMA_VERSION
        s.add_pain(PainEntry(datetime(2024, 5, 1, 9), 2))  # forces the WAL file into existence
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
        assert stat.S_IMODE(os.stat(path.parent.parent).st_mode) == 0o700
        wal = path.with_name(path.name + "-wal")
        if wal.exists():
            assert stat.S_IMODE(os.stat(wal).st_mode) & 0o077 == 0
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    conn.close()


def test_newer_store_is_refused_untouched(tmp_path):
    path = tmp_path / "future.sqlite3"
    Store(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 3}")
    conn.close()
    before = path.read_bytes()
    with pytest.raises(StoreVersionError, match="newer loadwatch"):
        Store(path)
    assert path.read_bytes() == before


def test_v1_fixture_migrates_without_loss(tmp_path):
    path = tmp_path / "old.sqlite3"
    shutil.copy(DATA_DIR / "store_v1.sqlite3", path)
    with Store(path) as s:
        assert s.schema_version == SCHEMA_VERSION
        acts = s.activities()
        assert len(acts) == 2
        assert list(acts.columns) == list(ACTIVITY_COLUMNS)
        fit = acts[acts.format == "fit"].iloc[0]
        gpx = acts[acts.format == "gpx"].iloc[0]
        assert fit.sub_sport == "trail" and fit.utc_offset_s == 3600 and fit.rpe == 6
        assert fit.avg_cadence_spm == 170 and fit.device == "garmin fr945"
        assert math.isnan(gpx.utc_offset_s) and gpx.surface_override == "road" and math.isnan(gpx.rpe)
        assert gpx.start_utc == pd.Timestamp("2024-05-03T18:00:00Z")
        hist = s.hr_histograms()
        assert hist.shape == (2, 256) and hist.loc[fit.id, 150] == 300
        name, data = s.original(gpx.id)
        assert name == "run-gpx.gpx" and hashlib.sha256(data).hexdigest() == gpx.id
        pain = s.pain()
        assert list(pain.score) == [4, 2] and pain.symptoms.iloc[0] == ("night_pain",)
        assert pain.activity_id.iloc[0] == fit.id
        assert len(s.pain_history(1)) == 1
        settings = s.settings()
        assert settings.units == "mi" and settings.timezone == "Europe/London" and settings.hr_max == 188
        assert [r.label for r in s.rules()] == ["my cap"]
        assert s.file_outcome("0" * 64)["outcome"] == "skipped"
        # v2 backfilled richness: the FIT row (cadence) ranks above the GPX row
        conn = sqlite3.connect(path)
        rich = dict(conn.execute("SELECT format, richness FROM activities"))
        conn.close()
        assert rich["fit"] > rich["gpx"]
        # and the migrated store keeps working: the same run as the FIT row, as a poorer GPX
        run = synth.SynthRun(datetime(2024, 5, 1, 7, 0, tzinfo=UTC), 600, 2000.0, sub_sport="trail", seed=1)
        act, data = synth_activity(run, "gpx", drop=("cadence_spm", "heart_rate_bpm"))
        assert s.add_activity(act, data, "again.gpx").outcome == "duplicate"


@pytest.mark.slow
def test_migration_runs_once_when_two_processes_open_together(tmp_path):
    path = tmp_path / "old.sqlite3"
    shutil.copy(DATA_DIR / "store_v1.sqlite3", path)
    code = "import sys; from loadwatch.ingest.store import Store; s = Store(sys.argv[1]); print(s.schema_version)"
    procs = [subprocess.Popen([sys.executable, "-c", code, str(path)], cwd=REPO_ROOT, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(3)]
    outs = [p.communicate(timeout=60) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    assert all(o[0].strip() == str(SCHEMA_VERSION) for o in outs)
    with Store(path) as s:
        assert len(s.activities()) == 2


# --- activities ---------------------------------------------------------------------------------------------

def test_empty_store_frames_have_columns_and_dtypes(store):
    acts = store.activities()
    assert acts.empty and list(acts.columns) == list(ACTIVITY_COLUMNS)
    assert {c: str(t) for c, t in acts.dtypes.items()} == ACTIVITY_DTYPES
    assert store.hr_histograms().shape == (0, 256)
    pain = store.pain()
    assert pain.empty and list(pain.columns) == list(PAIN_COLUMNS)


def test_add_activity_round_trips_values(store):
    run = run_at(0, utc_offset_s=7200, with_dynamics=True, sub_sport="trail")
    act, data = synth_activity(run)
    res = store.add_activity(act, data, "watch/run.fit")
    assert res.outcome == "imported" and res.activity_id == act.summary.id
    acts = store.activities()
    assert {c: str(t) for c, t in acts.dtypes.items()} == ACTIVITY_DTYPES
    row = acts.iloc[0]
    s = act.summary
    assert row.start_utc == pd.Timestamp(T0)
    assert row.utc_offset_s == 7200 and row.sub_sport == "trail" and row.format == "fit"
    for col in ("elapsed_s", "moving_s", "distance_m", "avg_hr_bpm", "max_hr_bpm", "avg_cadence_spm",
                "avg_vertical_oscillation_mm", "avg_stance_time_ms", "avg_step_length_mm"):
        assert row[col] == pytest.approx(getattr(s, col)), col
    assert not row.partial and not row.sport_inferred and row.surface_override is None and math.isnan(row.rpe)
    hist = store.hr_histograms([s.id])
    np.testing.assert_array_equal(hist.loc[s.id].to_numpy(), s.hr_seconds_by_bpm)
    assert store.original(s.id) == ("watch/run.fit", data)
    assert store.file_outcome(hashlib.sha256(data).hexdigest())["outcome"] == "imported"


def test_missing_figures_are_nan_not_zero(store):
    run = run_at(0, heart_rate_bpm=None, cadence_spm=None)
    act, data = synth_activity(run, "gpx")
    store.add_activity(act, data, "run.gpx")
    row = store.activities().iloc[0]
    assert math.isnan(row.avg_hr_bpm) and math.isnan(row.avg_cadence_spm) and math.isnan(row.utc_offset_s)
    assert store.hr_histograms().empty


def test_same_bytes_twice_is_a_duplicate(store):
    act, data = synth_activity(run_at(0))
    first = store.add_activity(act, data, "a.fit")
    again = store.add_activity(act, data, "copy/a.fit")
    assert again.outcome == "duplicate" and again.activity_id == first.activity_id
    assert len(store.activities()) == 1


def test_failure_mid_insert_writes_nothing(store, monkeypatch):
    act, data = synth_activity(run_at(0))

    def boom(*a, **k):
        raise RuntimeError("disk on fire")

    # files and originals rows are written before the activity row: all must roll back
    monkeypatch.setattr(activities_table, "insert_activity", boom)
    with pytest.raises(RuntimeError):
        store.add_activity(act, data, "a.fit")
    assert table_counts(store.path)["files"] == 0
    assert table_counts(store.path)["originals"] == 0
    assert store.file_outcome(hashlib.sha256(data).hexdigest()) is None
    monkeypatch.undo()
    assert store.add_activity(act, data, "a.fit").outcome == "imported"


@pytest.mark.parametrize("fit_first", [True, False])
def test_fit_and_gpx_of_one_run_keep_the_fit(store, fit_first):
    run = run_at(0, duration_s=3600)
    fit, fit_data = synth_activity(run, "fit")
    gpx, gpx_data = synth_activity(run, "gpx", drop=("speed_m_s",))
    order = [(fit, fit_data, "run.fit"), (gpx, gpx_data, "run.gpx")]
    if not fit_first:
        order.reverse()
    results = [store.add_activity(a, d, n) for a, d, n in order]
    acts = store.activities()
    assert len(acts) == 1
    assert acts.iloc[0].id == fit.summary.id and acts.iloc[0].format == "fit"
    if fit_first:
        assert [r.outcome for r in results] == ["imported", "duplicate"]
    else:
        assert [r.outcome for r in results] == ["imported", "replaced"]
        assert results[1].duplicate_of == gpx.summary.id
    # both files are remembered (a re-import decodes neither) and both originals are kept
    for data in (fit_data, gpx_data):
        known = store.file_outcome(hashlib.sha256(data).hexdigest())
        assert known["activity_id"] == fit.summary.id
    assert table_counts(store.path)["originals"] == 2


def test_equal_richness_prefers_fit_over_tcx_over_gpx(store):
    run = run_at(0)
    gpx, gpx_data = synth_activity(run, "gpx")
    tcx, tcx_data = synth_activity(run, "tcx")
    fit, fit_data = synth_activity(run, "fit")
    assert store.add_activity(gpx, gpx_data, "r.gpx").outcome == "imported"
    assert store.add_activity(tcx, tcx_data, "r.tcx").outcome == "replaced"
    assert store.add_activity(fit, fit_data, "r.fit").outcome == "replaced"
    assert list(store.activities().format) == ["fit"]


def test_richer_gpx_beats_poorer_fit(store):
    run = run_at(0)
    fit, fit_data = synth_activity(run, "fit", drop=("heart_rate_bpm", "cadence_spm", "lat_deg", "lon_deg"))
    gpx, gpx_data = synth_activity(run, "gpx")
    store.add_activity(fit, fit_data, "r.fit")
    assert store.add_activity(gpx, gpx_data, "r.gpx").outcome == "replaced"
    assert list(store.activities().format) == ["gpx"]


def test_replacement_moves_pain_links_surface_and_rpe(store):
    run = run_at(0)
    gpx, gpx_data = synth_activity(run, "gpx", drop=("speed_m_s",))
    fit, fit_data = synth_activity(run, "fit")
    store.add_activity(gpx, gpx_data, "r.gpx")
    pid = store.add_pain(PainEntry(datetime(2024, 5, 1, 10), 5, activity_id=gpx.summary.id))
    other = store.add_pain(PainEntry(datetime(2024, 5, 1, 11), 1))
    store.set_surface_override(gpx.summary.id, "trail")
    store.set_rpe(gpx.summary.id, 7)
    res = store.add_activity(fit, fit_data, "r.fit")
    assert res.outcome == "replaced"
    row = store.activities().iloc[0]
    assert row.id == fit.summary.id and row.surface_override == "trail" and row.rpe == 7
    pain = store.pain().set_index("id")
    assert pain.loc[pid, "activity_id"] == fit.summary.id
    assert pain.loc[other, "activity_id"] is None
    hist = store.pain_history(pid)
    assert list(hist.change) == ["relink"] and hist.activity_id.iloc[0] == gpx.summary.id
    name, data = store.original(fit.summary.id)
    assert data == fit_data


def test_different_sport_or_small_overlap_is_not_the_same_run(store):
    a, da = synth_activity(run_at(0, duration_s=3600))
    ride, dr = synth_activity(run_at(0, duration_s=3600, sport="cycling", seed=3))
    later, dl = synth_activity(run_at(0.6, duration_s=3600, seed=4))  # overlaps 40% of the shorter
    walk, dw = synth_activity(run_at(0.1, duration_s=1200, sport="walking", seed=5))  # same family, inside
    assert store.add_activity(a, da, "a.fit").outcome == "imported"
    assert store.add_activity(ride, dr, "ride.fit").outcome == "imported"
    assert store.add_activity(later, dl, "later.fit").outcome == "imported"
    assert store.add_activity(walk, dw, "walk.fit").outcome == "duplicate"
    assert len(store.activities()) == 3


def test_surface_and_rpe_validation(store):
    act, data = synth_activity(run_at(0))
    store.add_activity(act, data, "a.fit")
    with pytest.raises(ValueError):
        store.set_surface_override(act.summary.id, "lava")
    with pytest.raises(ValueError):
        store.set_rpe(act.summary.id, 11)
    with pytest.raises(KeyError):
        store.set_rpe("nope", 3)
    store.set_surface_override(act.summary.id, "track")
    store.set_surface_override(act.summary.id, None)
    assert store.activities().iloc[0].surface_override is None


def test_record_skipped_is_remembered(store):
    store.record_skipped("ab" * 32, "settings.fit", "a settings file, not an activity")
    assert store.file_outcome("ab" * 32) == {"outcome": "skipped", "activity_id": None,
                                             "reason": "a settings file, not an activity",
                                             "file_name": "settings.fit"}


# --- pain ---------------------------------------------------------------------------------------------------

def test_pain_edit_and_delete_keep_history(store):
    pid = store.add_pain(PainEntry(datetime(2024, 5, 1, 9, 30), 3, "after", "lower_back",
                                   symptoms=("night_pain",), note="after hills"))
    store.update_pain(pid, score=6, note="worse")
    store.update_pain(pid, symptoms=())
    pain = store.pain()
    assert pain.iloc[0].score == 6 and pain.iloc[0].symptoms == () and pain.iloc[0].note == "worse"
    assert str(pain.at_local.dtype) == "datetime64[ns]" and pain.at_local.iloc[0] == pd.Timestamp("2024-05-01 09:30")
    store.delete_pain(pid)
    assert store.pain().empty
    kept = store.pain(include_deleted=True)
    assert bool(kept.iloc[0].deleted) and kept.iloc[0].score == 6
    hist = store.pain_history(pid)
    assert list(hist.change) == ["update", "update", "delete"]
    assert list(hist.score) == [3, 6, 6] and hist.symptoms.iloc[0] == ("night_pain",)
    with pytest.raises(ValueError):
        store.update_pain(pid, score=1)


def test_pain_validation(store):
    pid = store.add_pain(PainEntry(datetime(2024, 5, 1, 9), 3))
    with pytest.raises(ValueError):
        store.update_pain(pid, score=11)
    with pytest.raises(ValueError):
        store.update_pain(pid, timing="yesterday")
    with pytest.raises(ValueError):
        store.update_pain(pid, activity_id="no-such-run")
    with pytest.raises(ValueError):
        store.update_pain(pid, colour="red")
    with pytest.raises(KeyError):
        store.update_pain(999, score=1)
    with pytest.raises(ValueError):
        store.add_pain(PainEntry(datetime(2024, 5, 1, 9), 3, activity_id="no-such-run"))
    assert store.pain().iloc[0].score == 3 and store.pain_history(pid).empty


def _add_pain_many(path: str, n: int, score: int) -> None:
    with Store(path) as s:
        for i in range(n):
            s.add_pain(PainEntry(datetime(2024, 5, 1, 9) + timedelta(minutes=i), score, note=f"{score}-{i}"))


def test_two_processes_adding_pain_at_once_keep_both(store):
    code = ("import sys; from tests.test_store import _add_pain_many; "
            "_add_pain_many(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(store.path), "40", str(score)], cwd=REPO_ROOT,
                              stderr=subprocess.PIPE, text=True) for score in (1, 2)]
    # and this process writes at the same time too
    _add_pain_many(str(store.path), 20, 3)
    errs = [p.communicate(timeout=120)[1] for p in procs]
    assert all(p.returncode == 0 for p in procs), errs
    pain = store.pain()
    assert len(pain) == 100
    assert pain.score.value_counts().to_dict() == {1: 40, 2: 40, 3: 20}
    assert pain.note.is_unique


def test_two_threads_with_their_own_store_keep_both(store):
    threads = [threading.Thread(target=_add_pain_many, args=(str(store.path), 30, s)) for s in (4, 5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(store.pain()) == 60


# --- settings and rules -------------------------------------------------------------------------------------

def test_settings_defaults_and_validation(store, monkeypatch):
    monkeypatch.setenv("TZ", "Europe/Berlin")
    s = store.settings()
    assert s.units == "km" and s.timezone == "Europe/Berlin" and s.hr_max is None
    store.set_setting("units", "miles")
    store.set_setting("hr_max", "190")
    store.set_setting("timezone", "America/New_York")
    s = store.settings()
    assert (s.units, s.hr_max, s.timezone) == ("mi", 190, "America/New_York")
    store.set_setting("hr_max", "")
    assert store.settings().hr_max is None
    with pytest.raises(ValueError):
        store.set_setting("units", "furlongs")
    with pytest.raises(KeyError):
        store.set_setting("colour", "red")


def test_rules_crud(store):
    rid = store.add_rule(Rule(None, "week_km", 40, label="cap"))
    rid2 = store.add_rule(Rule(None, "run_km", 15, op=">=", scope="run", origin="suggested"))
    rules = store.rules()
    assert [(r.id, r.metric, r.threshold, r.op, r.scope, r.enabled, r.origin) for r in rules] == [
        (rid, "week_km", 40.0, ">", "week", True, "user"), (rid2, "run_km", 15.0, ">=", "run", True, "suggested")]
    store.update_rule(rid, threshold=35, enabled=False)
    assert store.rules()[0].threshold == 35 and store.rules()[0].enabled is False
    with pytest.raises(ValueError):
        store.update_rule(rid, op="~")
    with pytest.raises(ValueError):
        Rule(None, "week_km", float("nan"))
    store.remove_rule(rid)
    assert [r.id for r in store.rules()] == [rid2]
    with pytest.raises(KeyError):
        store.remove_rule(rid)


def test_originals_are_kept_as_zstandard_and_gzip_blobs_of_older_stores_still_read():
    """The kept original round-trips byte for byte; a store written before (gzip blobs) still opens them."""
    import gzip

    from loadwatch.ingest.store import compress_original, decompress_original

    data = bytes(range(256)) * 400 + b"<gpx>" * 1000
    blob = compress_original(data, "gpx")
    assert blob[:4] == b"\x28\xb5\x2f\xfd" and len(blob) < len(data) / 4
    assert decompress_original(blob) == data
    assert decompress_original(gzip.compress(data, mtime=0)) == data
    assert decompress_original(memoryview(blob)) == data


def test_the_same_run_search_reads_only_activities_near_the_new_one(tmp_path):
    """The overlap search goes through the end-time index (a full pass over the earlier activities for
    every new file made an import of years of history grow as its square), and a store written before the
    index gets it when opened."""
    import sqlite3

    from loadwatch.ingest import schema, twins
    from loadwatch.ingest import store as store_mod

    path = tmp_path / "old.sqlite3"
    store_mod.Store(path).close()
    conn = sqlite3.connect(path)
    conn.execute("DROP INDEX activities_end")
    # the store as it was before the end-time index (later migrations re-run harmlessly)
    conn.execute(f"PRAGMA user_version = {store_mod.MIGRATIONS.index(schema.migrate_end_index)}")
    conn.commit()
    conn.close()
    with store_mod.Store(path) as s:
        plan = s._conn.execute(
            "EXPLAIN QUERY PLAN SELECT id FROM activities INDEXED BY activities_end"
            f" WHERE {twins.END_EXPR} >= 0 AND start_ts <= 1").fetchall()
    assert any("activities_end" in str(row) for row in plan), plan
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == store_mod.SCHEMA_VERSION
    assert conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'activities_end'").fetchone()
    conn.close()
