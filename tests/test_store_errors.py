"""Clear errors, private files (issue 22): a damaged, full or read-only store ends in one plain sentence -
never a sqlite3 traceback - and is left untouched; every file loadwatch writes holding health data is 0600,
in a 0700 folder when loadwatch creates the folder."""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
import stat
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from loadwatch.dashboard.cli.main import main
from loadwatch.ingest import store as store_module
from loadwatch.ingest.store import Store
from loadwatch.ingest.store_errors import StoreDamagedError, StoreError
from loadwatch.ingest.synth import SynthRun, fit_bytes

pytestmark = pytest.mark.timeout(120)


def run(i: int) -> SynthRun:
    return SynthRun(start_utc=datetime(2024, 5, 1 + i, 7, tzinfo=UTC), duration_s=1200, distance_m=4000.0, seed=i)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def one_plain_line(err: str) -> str:
    """The command's error output: one line, no traceback, no library's words."""
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    for word in ("Traceback", "sqlite3.", "OperationalError", "DatabaseError", "UnicodeEncodeError", "Errno"):
        assert word not in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def filled(tmp_path) -> Path:
    """A store with two runs, checkpointed (everything in the main file), and a third file to import."""
    for i in range(3):
        (tmp_path / f"r{i}.fit").write_bytes(fit_bytes(run(i)))
    db = tmp_path / "store" / "runs.db"
    with Store(db) as s:
        from loadwatch.ingest.importer import import_paths

        import_paths(s, [tmp_path / "r0.fit", tmp_path / "r1.fit"], workers=0)
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return db


def damage_an_index(db: Path) -> None:
    conn = sqlite3.connect(db)
    page = conn.execute("PRAGMA page_size").fetchone()[0]
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE type = 'index' AND rootpage > 0 "
                        "ORDER BY rootpage LIMIT 1").fetchone()[0]
    conn.close()
    with open(db, "r+b") as fh:
        fh.seek((root - 1) * page)
        fh.write(b"\xde\xad\xbe\xef" * (page // 4))


# --- damaged ---------------------------------------------------------------------------------------------

def test_a_store_with_a_damaged_index_is_named_with_its_backup_and_not_written(filled, tmp_path, capsys):
    backup = filled.with_name(f"{filled.name}.v5.bak")
    backup.write_bytes(filled.read_bytes())
    damage_an_index(filled)
    before = digest(filled)
    with pytest.raises(StoreDamagedError) as err:
        Store(filled)
    assert str(filled) in str(err.value) and str(backup) in str(err.value)
    assert main(["import", "--db", str(filled), str(tmp_path / "r2.fit")]) == 1
    line = one_plain_line(capsys.readouterr().err)
    assert line == (f"loadwatch: {filled} is damaged, so loadwatch did not write to it: restore its backup by "
                    f"copying {backup} over it (the copy loadwatch made before its last upgrade).")
    assert digest(filled) == before
    assert not filled.with_name(filled.name + "-wal").exists() or \
        filled.with_name(filled.name + "-wal").stat().st_size == 0


def test_a_file_that_is_not_a_store_is_named_and_left_alone(tmp_path, capsys):
    db = tmp_path / "runs.db"
    db.write_bytes(b"not a database, just a file someone pointed --db at\n" * 100)
    before = digest(db)
    assert main(["activities", "--db", str(db)]) == 1
    line = one_plain_line(capsys.readouterr().err)
    assert f"{db} is damaged, so loadwatch did not write to it" in line and "move it away" in line
    assert digest(db) == before


def test_a_store_is_checked_once_while_unchanged_and_again_after_any_change(filled, monkeypatch):
    """Issue 21 (a save on the dashboard opens the store several times): ``quick_check`` runs once per
    process for an unchanged store file; damage by another program changes the file's key, so the
    damaged store is still refused before anything is written."""
    from loadwatch.ingest import store_errors

    calls = []
    real = store_errors._quick_check
    monkeypatch.setattr(store_errors, "_quick_check", lambda conn: calls.append(1) or real(conn))
    monkeypatch.setattr(store_errors, "_INTACT", {})
    for _ in range(3):
        with Store(filled) as s:
            assert len(s.activities()) == 2
    assert len(calls) == 1, calls
    time.sleep(0.05)  # past the file system's clock tick, as a later program's write would be
    damage_an_index(filled)
    before = digest(filled)
    with pytest.raises(StoreDamagedError):
        Store(filled)
    assert len(calls) == 2 and digest(filled) == before


def test_the_intact_key_names_this_file_as_it_is(tmp_path):
    """The key of a checked store: the same for the same unchanged file (by any path to it); another for a
    write, a new modification time or another file moved over it; None for no file."""
    from loadwatch.ingest.store_errors import intact_key

    db = tmp_path / "runs.db"
    with Store(db):
        pass
    key = intact_key(db)
    assert key is not None and key == intact_key(db) == intact_key(tmp_path / "." / "runs.db")
    (tmp_path / "link.db").symlink_to(db)
    assert intact_key(tmp_path / "link.db") == key
    st = db.stat()
    os.utime(db, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    assert intact_key(db) != key
    moved = intact_key(db)
    copy = tmp_path / "copy.db"
    copy.write_bytes(db.read_bytes())
    os.utime(copy, ns=(db.stat().st_atime_ns, db.stat().st_mtime_ns))
    os.replace(copy, db)  # same size and time, another inode
    assert intact_key(db) != moved
    with open(db, "ab") as fh:
        fh.write(b"\0")
    assert intact_key(db)[3] == db.stat().st_size
    assert intact_key(tmp_path / "none.db") is None


# --- full disk -------------------------------------------------------------------------------------------

@pytest.fixture
def full_disk(monkeypatch):
    """Every store opened from now on may not grow by a single page: SQLite's own "database or disk is
    full" (PRAGMA max_page_count), as a full disk gives it."""
    real = store_module.check_intact

    def check_then_fill(conn, path):
        real(conn, path)
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {pages}")

    monkeypatch.setattr(store_module, "check_intact", check_then_fill)


def test_a_full_disk_stops_the_import_with_one_sentence_and_loses_nothing(filled, tmp_path, capsys, full_disk):
    (tmp_path / "more").mkdir()
    for i in range(3, 6):
        (tmp_path / "more" / f"r{i}.fit").write_bytes(fit_bytes(run(i)))
    with Store(filled) as s:
        assert len(s.activities()) == 2
    capsys.readouterr()
    assert main(["import", "--db", str(filled), "--workers", "0", str(tmp_path / "more")]) == 1
    out = capsys.readouterr()
    line = one_plain_line(out.err)
    assert line.startswith(f"loadwatch: The disk holding {filled} is full, so")
    assert "free some space and run it again" in line
    assert "Imported" not in out.out  # no summary claiming files were handled
    conn = sqlite3.connect(filled)
    assert conn.execute("PRAGMA quick_check").fetchone()[0] == "ok"
    assert conn.execute("SELECT count(*) FROM activities").fetchone()[0] == 2
    conn.close()


def test_a_full_disk_on_a_pain_entry_is_a_store_error(filled, full_disk):
    from loadwatch.ingest.painlog import PainEntry

    with Store(filled) as s, pytest.raises(StoreError, match="is full"):
        for _ in range(200):  # one entry may fit in a page's free space; the disk fills soon after
            s.add_pain(PainEntry(at_local=datetime(2024, 5, 2, 19), score=3, timing="after"))


# --- read-only -------------------------------------------------------------------------------------------

@contextlib.contextmanager
def read_only(folder: Path):
    """``folder`` made read-only: by its mode for a normal user; by a read-only bind mount for root (whom
    modes do not stop), or the test is skipped where neither works."""
    if os.geteuid() != 0:
        modes = {p: p.stat().st_mode for p in [folder, *folder.iterdir()]}
        for p in modes:
            p.chmod(0o500 if p.is_dir() else 0o400)
        try:
            yield
        finally:
            for p, mode in modes.items():
                p.chmod(stat.S_IMODE(mode))
        return
    ok = subprocess.run(["mount", "--bind", str(folder), str(folder)], capture_output=True).returncode == 0
    if ok and subprocess.run(["mount", "-o", "remount,ro,bind", str(folder)], capture_output=True).returncode:
        subprocess.run(["umount", str(folder)], capture_output=True)
        ok = False
    if not ok:
        pytest.skip("root, and no read-only bind mount here: a read-only folder cannot be made")
    try:
        yield
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def test_a_read_only_store_folder_is_one_sentence_and_untouched(filled, tmp_path, capsys):
    before = digest(filled)
    with read_only(filled.parent):
        assert main(["import", "--db", str(filled), str(tmp_path / "r2.fit")]) == 1
        line = one_plain_line(capsys.readouterr().err)
        assert str(filled) in line and "read-only" in line and "nothing was changed" in line
        assert main(["import", "--db", str(filled.parent / "new" / "runs.db"), str(tmp_path / "r2.fit")]) == 1
        line = one_plain_line(capsys.readouterr().err)
        assert "new/runs.db cannot be written because the file or its folder is read-only" in line
    assert digest(filled) == before


# --- names that are not UTF-8 ------------------------------------------------------------------------------

@pytest.mark.skipif(sys.platform in ("darwin", "win32"), reason="file names there must be valid Unicode")
def test_a_store_path_that_is_not_utf8_opens_and_is_named_readably(tmp_path, capsys):
    db = os.fsdecode(os.path.join(os.fsencode(tmp_path), b"l\xe4uf.db"))
    (tmp_path / "r0.fit").write_bytes(fit_bytes(run(0)))
    assert main(["import", "--db", db, str(tmp_path / "r0.fit")]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "Imported 1, duplicates 0, skipped 0, failed 0"
    Path(db).write_bytes(b"junk" * 1000)
    assert main(["activities", "--db", db]) == 1
    line = one_plain_line(capsys.readouterr().err)
    assert "l\ufffduf.db is damaged" in line


# --- private files ---------------------------------------------------------------------------------------

def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask():
    old = os.umask(0o022)  # a typical umask: files 0644 unless loadwatch says otherwise
    yield
    os.umask(old)


def test_store_backup_exports_and_reports_are_private(tmp_path, open_umask, capsys):
    (tmp_path / "r0.fit").write_bytes(fit_bytes(run(0)))
    db = tmp_path / "new" / "deeper" / "runs.db"
    assert main(["import", "--db", str(db), str(tmp_path / "r0.fit")]) == 0
    assert mode(db) == 0o600
    assert mode(db.parent) == 0o700 and mode(db.parent.parent) == 0o700
    assert main(["pain", "add", "--db", str(db), "--score", "3", "--timing", "after", "--date", "2024-05-02"]) == 0
    with Store(db) as s:
        assert mode(s.backup(tmp_path / "copy.bak")) == 0o600
    csv = tmp_path / "pain.csv"
    csv.write_text("old, world-readable\n")
    csv.chmod(0o644)
    assert main(["pain", "export", "--db", str(db), "--csv", str(csv)]) == 0
    assert mode(csv) == 0o600 and "score" in csv.read_text()
    pdf, page = tmp_path / "r.pdf", tmp_path / "r.html"
    assert main(["report", "--db", str(db), "--as-of", "2024-05-10", "--pdf", str(pdf), "--html", str(page)]) == 0
    assert mode(pdf) == 0o600 and mode(page) == 0o600
    assert pdf.read_bytes().startswith(b"%PDF")
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []
    capsys.readouterr()
    assert main(["pain", "export", "--db", str(db), "--csv", str(tmp_path / "missing" / "p.csv")]) == 1
    assert "could not write the pain log to" in one_plain_line(capsys.readouterr().err)


@pytest.mark.timeout(180)
def test_cohort_tables_and_state_are_private(tmp_path, open_umask):
    pytest.importorskip("pyarrow")
    from loadwatch.dashboard.pipelines.cohort_engine import TABLES, _write_table, table_path
    from loadwatch.dashboard.pipelines.cohort_runner import discover, process_runner

    root = tmp_path / "root" / "ann"
    root.mkdir(parents=True)
    (root / "r0.fit").write_bytes(fit_bytes(run(0)))
    out = tmp_path / "out" / "cohort"
    from loadwatch.ingest.private_files import make_private_dirs

    make_private_dirs(out / "runners")  # what import_cohort does first
    assert mode(out) == 0o700 and mode(out.parent) == 0o700 and mode(out / "runners") == 0o700
    [source] = discover(tmp_path / "root")
    result = process_runner(source, str(out), "2024-05-10")
    for table in TABLES:
        if table in result.tables:
            _write_table(out, table, result.tables[table])
            assert mode(table_path(out, table)) == 0o600, table
    assert {mode(p) for p in (out / "runners").iterdir()} == {0o600}
    # the cohort's export for sharing: renamed, still health data
    from loadwatch.dashboard.pipelines.cohort_export import export_cohort

    shared = tmp_path / "shared" / "export"
    export_cohort(out, shared)
    assert mode(shared) == 0o700 and mode(shared.parent) == 0o700
    assert {p.name: mode(p) for p in shared.iterdir()} == {p.name: 0o600 for p in shared.iterdir()}
    assert (shared / "runs.parquet").is_file()


# --- the dashboard ---------------------------------------------------------------------------------------

def test_the_dashboard_names_a_damaged_store_in_one_sentence(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from tests.app_helpers import APP_PATH

    db = tmp_path / "runs.db"
    db.write_bytes(b"junk" * 1000)
    before = digest(db)
    monkeypatch.setenv("LOADWATCH_DB", str(db))
    monkeypatch.delenv("LOADWATCH_DEMO", raising=False)
    at = AppTest.from_file(str(APP_PATH), default_timeout=60).run()
    assert not at.exception, [e.value for e in at.exception]
    [error] = [e.value for e in at.error]
    assert "runs.db is damaged, so loadwatch did not write to it" in error.replace("\\", "")
    assert digest(db) == before


@pytest.mark.skipif(sys.platform in ("darwin", "win32"), reason="file names there must be valid Unicode")
def test_exports_to_a_path_that_is_not_utf8_are_written_and_named_readably(tmp_path, capsys):
    (tmp_path / "r0.fit").write_bytes(fit_bytes(run(0)))
    db = str(tmp_path / "runs.db")
    assert main(["import", "--db", db, str(tmp_path / "r0.fit")]) == 0
    assert main(["pain", "add", "--db", db, "--score", "2", "--date", "2024-05-02"]) == 0
    capsys.readouterr()
    base = os.fsencode(tmp_path)
    csv = os.fsdecode(os.path.join(base, b"schmerz-\xe4.csv"))
    pdf = os.fsdecode(os.path.join(base, b"bericht-\xe4.pdf"))
    assert main(["pain", "export", "--db", db, "--csv", csv]) == 0
    assert main(["report", "--db", db, "--as-of", "2024-05-10", "--pdf", pdf]) == 0
    out = capsys.readouterr().out
    assert "schmerz-\ufffd.csv" in out and "bericht-\ufffd.pdf" in out
    assert mode(Path(csv)) == 0o600 and mode(Path(pdf)) == 0o600


def test_an_output_folder_that_cannot_be_made_is_one_line(tmp_path, capsys):
    """An OSError outside the store (here: the cohort's --out under a file) ends in one line too."""
    pytest.importorskip("distributed")
    pytest.importorskip("pyarrow")
    (tmp_path / "root" / "ann").mkdir(parents=True)
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where a folder should be")
    assert main(["cohort", "import", str(tmp_path / "root"), "--out", str(blocker / "out")]) == 1
    line = one_plain_line(capsys.readouterr().err)
    assert line.startswith("loadwatch: ") and "blocker" in line and "Not a directory" in line
