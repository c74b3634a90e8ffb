"""The importer over generated files: dedup without decoding, the same run from two routes kept once,
broken and stuck files reported while the rest import, bounded work in flight."""

from __future__ import annotations

import io
import time
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from loadwatch.ingest import importer, synth
from loadwatch.ingest.importer import Outcome, import_files, import_paths, summarize
from loadwatch.ingest.store import Store

T0 = datetime(2024, 3, 4, 6, 30, tzinfo=UTC)


def make_run(i: int, duration_s: int = 900, **kw) -> synth.SynthRun:
    return synth.SynthRun(T0 + timedelta(days=i), duration_s, duration_s * 2.8, seed=i, **kw)


def write_runs(folder: Path, n: int, fmt: str = "fit", **kw) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    writer = {"fit": synth.fit_bytes, "gpx": synth.gpx_bytes, "tcx": synth.tcx_bytes}[fmt]
    paths = []
    for i in range(n):
        p = folder / f"run{i:03d}.{fmt}"
        p.write_bytes(writer(make_run(i, **kw)))
        paths.append(p)
    return paths


@pytest.fixture(params=["forked", "fresh"])
def worker_kind(request, monkeypatch):
    """Both kinds of worker process: forks (a single-threaded host) and fresh interpreters (a threaded
    host such as Streamlit)."""
    # forced either way: this test process may hold threads earlier tests left, which alone would keep
    # the importer from forking (the real rule is tested in a fresh interpreter below)
    monkeypatch.setattr(importer, "_fork_is_safe", lambda: request.param == "forked")
    return request.param


def by_name(outcomes: list[Outcome]) -> dict[str, Outcome]:
    return {Path(o.name).name: o for o in outcomes}


# Readers for worker processes must be importable by name: module-level functions here.

def slow_reader(data: bytes, name: str):
    """Hangs on files whose name starts with "slow" (a stuck decoder); reads the rest normally."""
    if Path(name).name.startswith("slow"):
        time.sleep(600)
    from loadwatch.ingest.sources import read_activity

    return read_activity(data, name)


def buggy_reader(data: bytes, name: str):
    if Path(name).name.startswith("bug"):
        raise ZeroDivisionError("reader bug")
    from loadwatch.ingest.sources import read_activity

    return read_activity(data, name)


def crashing_reader(data: bytes, name: str):
    if Path(name).name.startswith("crash"):
        import os

        os._exit(3)  # the reader process dies (segfault, out of memory...)
    from loadwatch.ingest.sources import read_activity

    return read_activity(data, name)


def refusing_reader(data: bytes, name: str):
    raise AssertionError(f"{name} was decoded")


@pytest.mark.parametrize("workers", [0, 2])
def test_folder_imports_and_reimport_is_all_duplicates(tmp_path, store, workers):
    write_runs(tmp_path / "export", 6)
    seen = []
    out = import_paths(store, [tmp_path / "export"], workers=workers, progress=lambda d, t, n: seen.append((d, t)))
    assert summarize(out) == {"imported": 6, "replaced": 0, "duplicate": 0, "skipped": 0, "failed": 0}
    assert seen == [(i, 6) for i in range(1, 7)]
    acts = store.activities()
    assert len(acts) == 6 and set(acts.format) == {"fit"}
    assert acts.start_utc.iloc[0] == T0
    # the second time nothing is decoded (a reader that refuses proves it) and nothing is new
    again = import_paths(store, [tmp_path / "export"], workers=workers, reader=refusing_reader)
    assert summarize(again) == {"imported": 0, "replaced": 0, "duplicate": 6, "skipped": 0, "failed": 0}
    assert len(store.activities()) == 6


def test_hash_dedup_never_calls_the_decoder(tmp_path, store, monkeypatch):
    paths = write_runs(tmp_path / "a", 3)
    import_paths(store, paths, workers=0)
    calls = []
    monkeypatch.setattr(importer, "_default_reader", lambda data, name: calls.append(name))
    out = import_paths(store, paths, workers=0)
    assert [o.status for o in out] == ["duplicate"] * 3 and calls == []


@pytest.mark.parametrize("fit_first", [True, False])
def test_fit_and_gpx_of_the_same_run_become_one_fit_activity(tmp_path, store, fit_first):
    run = make_run(0, duration_s=1800)
    (tmp_path / "watch").mkdir()
    (tmp_path / "strava").mkdir()
    (tmp_path / "watch" / "morning.fit").write_bytes(synth.fit_bytes(run))
    (tmp_path / "strava" / "Morning_Run.gpx").write_bytes(synth.gpx_bytes(run))
    order = [tmp_path / "watch", tmp_path / "strava"]
    if not fit_first:
        order.reverse()
    for folder in order:
        import_paths(store, [folder], workers=0)
    acts = store.activities()
    assert len(acts) == 1 and acts.format.iloc[0] == "fit"
    assert store.original(acts.id.iloc[0])[0] == "watch/morning.fit"
    # a re-import of both routes adds nothing
    out = import_paths(store, order, workers=0, reader=refusing_reader)
    assert [o.status for o in out] == ["duplicate", "duplicate"]


def test_pain_link_follows_the_richer_file(tmp_path, store):
    from loadwatch.ingest.painlog import PainEntry

    run = make_run(0)
    gpx = tmp_path / "r.gpx"
    gpx.write_bytes(synth.gpx_bytes(run))
    fit = tmp_path / "r.fit"
    fit.write_bytes(synth.fit_bytes(run))
    [first] = import_paths(store, [gpx], workers=0)
    pid = store.add_pain(PainEntry(datetime(2024, 3, 4, 9), 4, activity_id=first.activity_id))
    [second] = import_paths(store, [fit], workers=0)
    assert second.status == "replaced" and "replaced" in second.reason
    assert store.pain().set_index("id").loc[pid, "activity_id"] == second.activity_id


def test_broken_file_among_good_ones(tmp_path, store):
    folder = tmp_path / "mixed"
    write_runs(folder, 3)
    (folder / "broken.fit").write_bytes(b"this is not a FIT file " * 20)
    (folder / "notes.txt").write_text("hello")
    (folder / "settings.fit").write_bytes(synth.fit_bytes(make_run(8), file_type="settings"))
    out = by_name(import_paths(store, [folder], workers=2))
    assert {n: o.status for n, o in out.items()} == {
        "run000.fit": "imported", "run001.fit": "imported", "run002.fit": "imported",
        "broken.fit": "failed", "notes.txt": "skipped", "settings.fit": "skipped"}
    assert out["broken.fit"].reason and "broken.fit" not in out["broken.fit"].reason
    assert "settings" in out["settings.fit"].reason
    # the settings file is remembered by hash; the broken one is tried again next time
    again = by_name(import_paths(store, [folder], workers=0, reader=buggy_reader))
    assert again["settings.fit"].status == "skipped"
    assert again["broken.fit"].status == "failed"


@pytest.mark.slow
def test_stuck_reader_is_killed_and_the_batch_goes_on(tmp_path, store, worker_kind):
    folder = tmp_path / "stuck"
    write_runs(folder, 4)
    (folder / "slow1.fit").write_bytes(synth.fit_bytes(make_run(20)))
    (folder / "slow2.fit").write_bytes(synth.fit_bytes(make_run(21)))
    start = time.monotonic()
    out = by_name(import_paths(store, [folder], workers=2, timeout_s=3, reader=slow_reader))
    took = time.monotonic() - start
    assert out["slow1.fit"].status == "failed" and out["slow2.fit"].status == "failed"
    assert out["slow1.fit"].reason == "took longer than 3 s to read; the file may be damaged"
    assert [out[f"run{i:03d}.fit"].status for i in range(4)] == ["imported"] * 4
    assert took < 30
    # no worker is left behind (idle ones kept for the next import stop with the pool)
    importer.shutdown_pool()
    import psutil

    assert not [c for c in psutil.Process().children(recursive=True) if c.is_running()
                and c.status() != psutil.STATUS_ZOMBIE]


def test_reader_bug_and_crash_are_failures_not_aborts(tmp_path, store, worker_kind):
    folder = tmp_path / "bugs"
    write_runs(folder, 2)
    (folder / "bug.fit").write_bytes(synth.fit_bytes(make_run(5)))
    out = by_name(import_paths(store, [folder], workers=0, reader=buggy_reader))
    assert out["bug.fit"].status == "failed"
    assert out["bug.fit"].reason.startswith("could not be read (internal error: ZeroDivisionError")
    (folder / "crash.fit").write_bytes(synth.fit_bytes(make_run(6)))
    out = by_name(import_paths(store, [folder], workers=2, reader=crashing_reader))
    assert out["crash.fit"].status == "failed" and "internal error" in out["crash.fit"].reason
    assert out["run000.fit"].status == "duplicate"


def test_import_files_takes_bytes_file_objects_and_zips(store):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("export/a.fit", synth.fit_bytes(make_run(1)))
        zf.writestr("export/b.gpx", synth.gpx_bytes(make_run(2)))
        zf.writestr("export/activities.csv", "id,name\n")
    upload = io.BytesIO(synth.tcx_bytes(make_run(3)))
    upload.name = "c.tcx"
    out = import_files(store, [("export.zip", buf.getvalue()), ("c.tcx", upload),
                               ("d.fit", synth.fit_bytes(make_run(4)))], workers=0)
    assert {Path(o.name).name: o.status for o in out} == {
        "a.fit": "imported", "b.gpx": "imported", "activities.csv": "skipped", "c.tcx": "imported",
        "d.fit": "imported"}
    assert len(store.activities()) == 4


def test_in_flight_files_are_bounded(store):
    """The importer pulls a new file from the source only when fewer than 2 x workers are in flight."""
    from loadwatch.ingest.sources import SourceFile

    pulled = []
    done = []

    def files():
        for i in range(12):
            pulled.append(i)
            assert len(pulled) - len(done) <= 2 * 2 + 1, "source read too far ahead"
            yield SourceFile(f"run{i}.fit", synth.fit_bytes(make_run(i, duration_s=300)))

    out = importer._run(store, files(), progress=lambda d, t, n: done.append(d), total=None, workers=2,
                        timeout_s=60, reader=None, on_outcome=None)
    assert summarize(out)["imported"] == 12


def test_archive_errors_from_sources_are_failures(tmp_path, store):
    (tmp_path / "bad.zip").write_bytes(b"PK\x03\x04 this is not really a zip")
    out = import_paths(store, [tmp_path / "bad.zip"], workers=0)
    assert [o.status for o in out] == ["failed"]


@pytest.mark.slow
def test_files_queued_behind_a_stuck_one_are_not_lost(tmp_path, store, worker_kind):
    """Each worker may hold a second file in its pipe; when the worker is killed that file goes back to
    the queue and is read by the next worker (and gets its own full time limit)."""
    folder = tmp_path / "queue"
    folder.mkdir()
    for i in range(4):
        (folder / f"slow{i}.fit").write_bytes(synth.fit_bytes(make_run(30 + i, duration_s=120)))
    for i in range(4):
        (folder / f"t_run{i}.fit").write_bytes(synth.fit_bytes(make_run(40 + i, duration_s=120)))
    out = by_name(import_paths(store, [folder], workers=2, timeout_s=2, reader=slow_reader))
    assert len(out) == 8
    assert {n: o.status for n, o in out.items() if n.startswith("slow")} == {f"slow{i}.fit": "failed" for i in range(4)}
    assert all(out[f"t_run{i}.fit"].status == "imported" for i in range(4))
    assert len(store.activities()) == 4


def test_two_copies_in_one_batch_first_is_imported_copy_is_duplicate(tmp_path):
    """Identical bytes twice in one upload never race through two workers: the first wins."""
    from datetime import UTC, datetime

    from loadwatch.ingest.importer import import_files
    from loadwatch.ingest.store import Store
    from loadwatch.ingest.synth import SynthRun, fit_bytes

    data = fit_bytes(SynthRun(start_utc=datetime(2024, 3, 4, 7, tzinfo=UTC), duration_s=600, distance_m=2000))
    with Store(tmp_path / "s.sqlite3") as store:
        outcomes = import_files(store, [("monday.fit", data), ("again.fit", data), ("monday.fit", data)],
                                workers=2)
        by_status = sorted((o.name, o.status) for o in outcomes)
        assert by_status == [("again.fit", "duplicate"), ("monday.fit", "duplicate"), ("monday.fit", "imported")]
        imported = next(o for o in outcomes if o.status == "imported")
        assert imported.name == "monday.fit"
        # recognised in the batch, before decoding (not by the store after a race through two workers)
        copies = [o for o in outcomes if o.status == "duplicate"]
        assert all(o.reason == "the same file as monday.fit in this import" for o in copies)
        assert len(store.activities()) == 1


@pytest.mark.slow
def test_a_threaded_host_never_forks_and_a_single_threaded_one_does(tmp_path):
    """Forking a process that runs other threads can deadlock (a lock held by a thread that is not copied):
    with a second thread alive the workers are fresh interpreters; alone, they are forks.  Both import
    the same files to the same activities.  Each case runs in a fresh interpreter of its own (this test
    process may hold threads other tests left)."""
    import json
    import os
    import subprocess
    import sys

    from tests.conftest import REPO_ROOT

    folder = tmp_path / "runs"
    write_runs(folder, 3)
    code = """
import json, os, sys, threading
from pathlib import Path
from loadwatch.ingest.importer import import_paths
from loadwatch.ingest.store import Store
forks = []
real_fork = os.fork
def counting_fork():
    forks.append(threading.active_count())
    return real_fork()
os.fork = counting_fork
stop = threading.Event()
if sys.argv[3] == "threaded":
    threading.Thread(target=stop.wait).start()
with Store(sys.argv[2]) as s:
    out = {Path(o.name).name: [o.status, o.activity_id, o.distance_m] for o in import_paths(s, [sys.argv[1]], workers=2)}
stop.set()
print(json.dumps({"forks": forks, "outcomes": out}))
"""
    results = {}
    for case in ("threaded", "alone"):
        proc = subprocess.run([sys.executable, "-c", code, str(folder), str(tmp_path / f"{case}.sqlite3"), case],
                              capture_output=True, text=True, timeout=120, cwd=REPO_ROOT,
                              env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
        assert proc.returncode == 0, proc.stderr
        results[case] = json.loads(proc.stdout.strip().splitlines()[-1])
    assert results["threaded"]["forks"] == []
    assert results["alone"]["forks"] == [1, 1]  # two workers, each forked from a single-threaded process
    assert results["alone"]["outcomes"] == results["threaded"]["outcomes"]
    assert {v[0] for v in results["alone"]["outcomes"].values()} == {"imported"}


def test_a_file_that_changes_after_it_was_hashed_fails_and_is_not_half_imported(tmp_path, worker_kind):
    """A file on disk goes to a worker by path; the worker reads it and checks it is the file the main
    process hashed.  A file rewritten in between fails with a reason in words (a second import takes it),
    and a file gone fails too - never decoded under the wrong hash."""
    import hashlib

    path = tmp_path / "run.fit"
    first = synth.fit_bytes(make_run(1))
    path.write_bytes(first)
    worker = importer._Worker(None)
    try:
        assert worker.conn.recv() == ("ready",)
        worker.give(("run.fit", hashlib.sha256(first).hexdigest(), first, path))
        assert worker.conn.recv()[0] == "ok"
        worker.done()
        path.write_bytes(synth.fit_bytes(make_run(2)))  # rewritten after the main process hashed it
        worker.give(("run.fit", hashlib.sha256(first).hexdigest(), first, path))
        assert worker.conn.recv() == ("failed", importer.CHANGED_WHILE_READ)
        worker.done()
        path.unlink()
        worker.give(("run.fit", hashlib.sha256(first).hexdigest(), first, path))
        status, reason = worker.conn.recv()
        assert status == "failed" and reason.startswith("could not be read")
        worker.done()
    finally:
        worker.ask_to_stop()
        worker.stop()


@pytest.mark.slow
def test_a_threaded_host_keeps_its_idle_workers_for_the_next_import(tmp_path, monkeypatch):
    """The dashboard (a threaded host: fresh-interpreter workers) does not start new interpreters for every
    upload: the workers of one import decode the next, and they stop with the pool."""
    import psutil

    monkeypatch.setattr(importer, "_fork_is_safe", lambda: False)
    first, second = write_runs(tmp_path / "a", 4), write_runs(tmp_path / "b", 8)[4:]
    with Store(tmp_path / "store.sqlite3") as store:
        out = import_files(store, [(p.name, p.read_bytes()) for p in first], workers=2)
        kept = {w.proc.pid for w, _reader, _since in importer._pool}
        assert [o.status for o in out] == ["imported"] * 4 and len(kept) == 2
        out = import_files(store, [(p.name, p.read_bytes()) for p in second], workers=2)
        assert [o.status for o in out] == ["imported"] * 4
        assert {w.proc.pid for w, _reader, _since in importer._pool} == kept  # the same two processes
        # a batch with another reader does not get them
        (tmp_path / "c").mkdir()
        (tmp_path / "c" / "new.fit").write_bytes(synth.fit_bytes(make_run(30)))
        out = import_paths(store, [tmp_path / "c"], workers=2, reader=refusing_reader)
        assert [o.status for o in out] == ["failed"] and "was decoded" in out[0].reason
        assert {w.proc.pid for w, _reader, _since in importer._pool} >= kept
    importer.shutdown_pool()
    assert importer._pool == [] and not [p for p in kept if psutil.pid_exists(p)
                                         and psutil.Process(p).status() != psutil.STATUS_ZOMBIE]
