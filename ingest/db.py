"""The store's one SQLite connection: opening it, its write transaction, reads, backups and the clock.

Every table module (:mod:`loadwatch.ingest.files`, :mod:`loadwatch.ingest.activities`, :mod:`loadwatch.ingest.twins`,
:mod:`loadwatch.ingest.pain`, :mod:`loadwatch.ingest.alert_rules`, :mod:`loadwatch.ingest.settings`, :mod:`loadwatch.ingest.shoes`,
:mod:`loadwatch.ingest.sessions`, ...) has public functions over an open connection; :class:`loadwatch.ingest.store.Store`
opens it here and runs those functions inside :func:`transaction` (writes) or :func:`read` (reads).
Import and rebuild use the same transaction (``Store.transaction()``), so a process killed mid-write
leaves each change all-or-nothing.
"""

from __future__ import annotations

import math
import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from loadwatch.ingest import commits
from loadwatch.ingest.private_files import make_private_dirs
from loadwatch.ingest.store_errors import plain_error

#: WAL pages (4 kB each) an import lets grow before a checkpoint (see :func:`bulk_writes`): 64 MB.
BULK_CHECKPOINT_PAGES: int = 16_384

#: Seconds a writer waits for another process's transaction before giving up.
BUSY_TIMEOUT_S: float = 10.0


def default_db_path() -> Path:
    """``$LOADWATCH_DB``, else ``<user data dir>/loadwatch.sqlite3``."""
    import platformdirs

    env = os.environ.get("LOADWATCH_DB")
    return Path(env).expanduser() if env else Path(platformdirs.user_data_dir("loadwatch")) / "loadwatch.sqlite3"


def demo_db_path() -> Path:
    """The demo store, kept apart from the runner's own: ``demo.sqlite3`` beside the default store."""
    return default_db_path().parent / "demo.sqlite3"


class StoreVersionError(ValueError):
    """The store was written by a newer loadwatch than this one."""


def now_iso() -> str:
    """The store's clock format: UTC, ISO 8601 with microseconds (``created_at``, ``imported_at`` ...)."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


def float_or_none(value) -> float | None:
    """A finite float, else None (a missing figure is never 0)."""
    if value is None:
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def run_statements(conn: sqlite3.Connection, script: str) -> None:
    """The ``;``-separated statements of ``script`` one by one (``executescript()`` would COMMIT the
    caller's migration transaction)."""
    for stmt in script.split(";"):
        if stmt.strip():
            conn.execute(stmt)


# --- opening ---------------------------------------------------------------------------------------------

def prepare_file(path: Path) -> None:
    """The store's folder (``0700``) and file (``0600``), created when missing."""
    make_private_dirs(path.parent)  # every folder we create is 0700
    if not path.exists():
        fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
        os.close(fd)
        os.chmod(path, 0o600)


def connect(path: Path, check: Callable[[sqlite3.Connection, Path], None]) -> sqlite3.Connection:
    """The read-write connection: busy timeout, ``check(conn, path)`` (the integrity check) before
    anything is written, then WAL, ``synchronous=NORMAL`` and foreign keys.  The caller closes it on
    any error."""
    # bytes: a path that is not UTF-8 (kept by Python as surrogates) still opens
    conn = sqlite3.connect(os.fsencode(path), timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        # before anything is written (WAL mode, a migration): a damaged store is named, never touched
        check(conn, path)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
    except BaseException:
        conn.close()
        raise
    return conn


def connect_read_only(path: Path, schema_version: int) -> sqlite3.Connection:
    """``read_only=True`` (a coach's view of a runner's store, e.g. the cohort dashboard): nothing is
    created or migrated, and SQLite refuses any write.  The store must exist and be at
    ``schema_version``."""
    if not path.is_file():
        raise FileNotFoundError(f"no loadwatch store at {path}")
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S,
                           isolation_level=None, check_same_thread=False)
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version != schema_version:
            newer = version > schema_version
            raise StoreVersionError(
                f"{path} is at store version {version}; this loadwatch reads version {schema_version} "
                + ("(upgrade loadwatch to open it)" if newer else "(open it once with loadwatch to upgrade it)")
                + " and opens it read-only here, so it was not changed.")
    except BaseException:
        conn.close()
        raise
    return conn


def migrate(conn: sqlite3.Connection, path: Path, migrations: list, *, backup: Callable[[Path], Path],
            tx: Callable) -> tuple[int, Path | None]:
    """Apply the pending ``migrations`` in order, each in its own transaction ``tx()``, after a backup of
    an older store (``backup(target)``); returns ``(schema version, backup path or None)``."""
    target = len(migrations)
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > target:
        raise StoreVersionError(
            f"{path} was written by a newer loadwatch (store version {version}; this loadwatch "
            f"knows up to {target}). Upgrade loadwatch to open it; the file was not changed."
        )
    backup_path = None
    if 0 < version < target:
        backup_path = backup(path.with_name(f"{path.name}.v{version}.bak"))
    while version < target:
        with tx() as conn:
            # another process may have migrated while we waited for the write lock
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version >= target:
                break
            migrations[version](conn)
            version += 1
            conn.execute(f"PRAGMA user_version = {version}")
    return version, backup_path


# --- using it --------------------------------------------------------------------------------------------

def _open(conn: sqlite3.Connection | None) -> sqlite3.Connection:
    if conn is None:
        raise ValueError("the store is closed")
    return conn


@contextmanager
def transaction(conn: sqlite3.Connection | None, path: Path) -> Iterator[sqlite3.Connection]:
    """One write transaction: ``BEGIN IMMEDIATE`` (takes the write lock up front, so two writers queue on
    the busy timeout instead of failing mid-way), commit, or roll back on any exception; a sqlite3 error
    becomes one plain sentence naming ``path``.  The caller holds the store's lock."""
    conn = _open(conn)
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        commits.committed()
    except sqlite3.Error as exc:
        if conn.in_transaction:
            try:
                conn.execute("ROLLBACK")
            except sqlite3.Error:
                pass
        raise plain_error(exc, path) from exc


def read(conn: sqlite3.Connection | None, path: Path, fn: Callable, *args, **kwargs):
    """``fn(conn, *args, **kwargs)`` outside a transaction (a read); a sqlite3 error becomes one plain
    sentence naming ``path``.  The caller holds the store's lock."""
    try:
        return fn(_open(conn), *args, **kwargs)
    except sqlite3.Error as exc:
        raise plain_error(exc, path) from exc


def rows(conn: sqlite3.Connection, sql: str, params=()) -> list[tuple]:
    """Every row of one query."""
    return conn.execute(sql, tuple(params)).fetchall()


def backup(conn: sqlite3.Connection, target: Path) -> Path:
    """Copy the whole store to ``target`` with SQLite's online backup API (consistent even while another
    process writes); the copy is ``0600`` like the store."""
    fd = os.open(target, os.O_CREAT | os.O_RDWR, 0o600)
    os.close(fd)
    os.chmod(target, 0o600)
    dest = sqlite3.connect(str(target))
    try:
        conn.backup(dest)
    finally:
        dest.close()
    return target


@contextmanager
def bulk_writes(lock, current: Callable[[], sqlite3.Connection | None]) -> Iterator[None]:
    """Many small transactions in a row (an import): the WAL is copied into the database - a checkpoint,
    with its two fsyncs - once at the end instead of every :data:`sqlite3` default 1,000 pages (every ~50
    one-hour files).  Every transaction stays its own, committed as before; a power cut may lose the
    import's last transactions, never corrupt the store (SQLite's WAL with ``synchronous=NORMAL``).
    ``current()``: the store's connection now (None once closed)."""
    with lock:
        _open(current()).execute(f"PRAGMA wal_autocheckpoint = {BULK_CHECKPOINT_PAGES}")
    try:
        yield
    finally:
        with lock:
            conn = current()
            if conn is not None:
                try:
                    conn.execute("PRAGMA wal_autocheckpoint = 1000")
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
                except sqlite3.Error:
                    pass  # a full disk: the WAL is checkpointed by the next write that can
