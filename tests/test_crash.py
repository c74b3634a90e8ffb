"""An import killed half-way (SIGKILL: power cut, OOM killer, closed laptop lid) leaves a consistent store,
and importing again finishes the job."""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest

from loadwatch.ingest import synth
from loadwatch.ingest.importer import import_paths, summarize
from loadwatch.ingest.painlog import PainEntry
from loadwatch.ingest.store import Store, decompress_original
from tests.conftest import REPO_ROOT

N_FILES = 200


def _file_rows(path) -> int:
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1)
        try:
            return conn.execute("SELECT COUNT(*) FROM files").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error:
        return 0


@pytest.mark.slow
def test_sigkill_mid_import_leaves_every_file_all_or_nothing(tmp_path):
    psutil = pytest.importorskip("psutil")
    folder = tmp_path / "export"
    folder.mkdir()
    t0 = datetime(2023, 1, 2, 6, 0, tzinfo=UTC)
    for i in range(N_FILES):
        run = synth.SynthRun(t0 + timedelta(days=i), 3600, 10_000.0, seed=i)
        (folder / f"run{i:03d}.fit").write_bytes(synth.fit_bytes(run))
    db = tmp_path / "store.sqlite3"
    with Store(db) as s:
        pain_ids = [s.add_pain(PainEntry(datetime(2022, 12, 1 + i, 8), i, note=f"before {i}")) for i in range(3)]
        s.delete_pain(pain_ids[2])
        pain_before = s.pain(include_deleted=True)

    proc = subprocess.Popen([sys.executable, "-m", "loadwatch.dashboard.cli.main", "import", str(folder), "--db", str(db)],
                            cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    workers = []
    while time.monotonic() < deadline and _file_rows(db) < 30 and proc.poll() is None:
        workers = psutil.Process(proc.pid).children(recursive=True) or workers
        time.sleep(0.02)
    written_at_kill = _file_rows(db)
    assert proc.poll() is None, "the import finished before it could be killed"
    workers = psutil.Process(proc.pid).children(recursive=True) or workers
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    assert 0 < written_at_kill < N_FILES
    # orphaned workers notice their parent is gone and exit
    gone, alive = psutil.wait_procs(workers, timeout=30)
    assert not alive

    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    files = {h: (outcome, aid) for h, outcome, aid in conn.execute(
        "SELECT content_hash, outcome, activity_id FROM files")}
    acts = conn.execute("SELECT id, file_hash FROM activities").fetchall()
    assert {outcome for outcome, _ in files.values()} <= {"imported"}
    assert len(acts) == len(files)
    for activity_id, file_hash in acts:
        assert files.get(file_hash) == ("imported", activity_id)
        blob = conn.execute("SELECT data FROM originals WHERE content_hash = ?", (file_hash,)).fetchone()
        assert blob is not None and hashlib.sha256(decompress_original(blob[0])).hexdigest() == file_hash
    n_first = len(files)
    conn.close()

    with Store(db) as s:
        assert s.pain(include_deleted=True).equals(pain_before)
        again = import_paths(s, [folder], workers=2)
        counts = summarize(again)
        assert counts == {"imported": N_FILES - n_first, "replaced": 0, "duplicate": n_first, "skipped": 0, "failed": 0}
        assert len(s.activities()) == N_FILES
        assert s.pain(include_deleted=True).equals(pain_before)
