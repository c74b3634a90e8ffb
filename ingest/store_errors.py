"""What goes wrong with the store file itself, said in one plain sentence instead of a sqlite3 traceback.

A read-only store or folder, a full disk, a damaged file, a store another loadwatch holds: each becomes a
:class:`StoreError` (a ``ValueError``, so every face already shows it as one line) naming the file and what
the runner can do.  Nothing here writes: a store found damaged is named with the way to restore its backup
(the ``<name>.v<version>.bak`` copies :class:`loadwatch.ingest.store.Store` makes before a migration) and left as it is.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from loadwatch.ingest.file_bytes import display_name


class StoreError(ValueError):
    """The store file cannot be used as asked (read-only, full disk, damaged, busy); the message is one
    sentence for the runner.  The store was not changed by the failed step."""


class StoreDamagedError(StoreError):
    """The store file is damaged (SQLite's ``quick_check`` found errors, or it is not a database)."""


def backups(path: str | os.PathLike) -> list[Path]:
    """The store's backups beside it (``<name>.v<version>.bak``, :attr:`loadwatch.ingest.store.Store.backup_path`),
    newest first."""
    path = Path(path)
    found = [p for p in path.parent.glob(f"{path.name}.v*.bak") if p.is_file()]
    return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)


def damaged_message(path: str | os.PathLike) -> str:
    """The sentence for a damaged store: what it is, that it was not written to, how to restore it."""
    path = Path(path)
    found = backups(path)
    if found:
        how = (f"restore its backup by copying {display_name(str(found[0]))} over it (the copy loadwatch made "
               "before its last upgrade)")
    else:
        how = ("it has no backup beside it, so move it away to start a new store or recover what is left with "
               "the sqlite3 tool's .recover command")
    return f"{display_name(str(path))} is damaged, so loadwatch did not write to it: {how}."


#: Stores found intact in this process, by :func:`intact_key` (a long-running dashboard opens its store a few
#: times per page; ``quick_check`` reads every page of it, 6 ms for five years and more for bigger stores).
_INTACT: dict[tuple, None] = {}
#: How many stores' keys are remembered (the newest).
INTACT_KEYS_MAX = 16


def intact_key(path: str | os.PathLike) -> tuple | None:
    """What identifies the store file as it was checked: its resolved path, device and inode (a file
    copied or moved over it is another file), size and modification time in nanoseconds (any write to
    the main file, a checkpoint or damage by another program, changes them); None when it cannot be read.

    Writes that sit in the write-ahead log do not change it: they are SQLite's own, made through a
    connection that found the store intact; a checkpoint copying them into the file changes the key."""
    try:
        st = os.stat(path)
        resolved = os.path.realpath(path)
    except OSError:
        return None
    return resolved, st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns


def _quick_check(conn: sqlite3.Connection) -> list[str]:
    return [str(r[0]) for r in conn.execute("PRAGMA quick_check(5)").fetchall()]


def check_intact(conn: sqlite3.Connection, path: str | os.PathLike) -> None:
    """``PRAGMA quick_check`` (every page and record readable, every index well formed); raises
    :class:`StoreDamagedError` naming the store and its backup when it finds anything.  Checked once per
    process while the file is unchanged (:func:`intact_key`): a file changed since, by anything, is checked
    again before anything is written to it."""
    key = intact_key(path)
    if key is not None and key in _INTACT:
        return
    try:
        rows = _quick_check(conn)
    except sqlite3.DatabaseError as exc:
        raise plain_error(exc, path) from exc
    problems = [r for r in rows if r != "ok"]
    if problems:  # SQLite's own words ("btreeInitPage() returns error code 11") stay in the cause
        raise StoreDamagedError(damaged_message(path)) from sqlite3.DatabaseError("; ".join(problems))
    if key is not None and key == intact_key(path):  # unchanged while it was checked
        _INTACT[key] = None
        while len(_INTACT) > INTACT_KEYS_MAX:
            del _INTACT[next(iter(_INTACT))]


def plain_error(exc: BaseException, path: str | os.PathLike) -> StoreError:
    """The :class:`StoreError` for a ``sqlite3`` (or OS) error met while using the store at ``path``."""
    shown = display_name(str(path))
    name = getattr(exc, "sqlite_errorname", "") or ""
    text = str(exc).lower()
    if isinstance(exc, PermissionError) or name.startswith(("SQLITE_READONLY", "SQLITE_PERM", "SQLITE_AUTH")) \
            or "readonly" in text or "read-only" in text:
        return StoreError(f"{shown} cannot be written because the file or its folder is read-only (or not yours), "
                          "so nothing was changed: make both writable, or choose another store with --db.")
    if name.startswith("SQLITE_FULL") or "disk is full" in text or getattr(exc, "errno", None) == 28:
        return StoreError(f"The disk holding {shown} is full, so the last change was not saved (everything saved "
                          "before it is kept): free some space and run it again.")
    if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")) or "malformed" in text or "not a database" in text:
        return StoreDamagedError(damaged_message(path))
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in text:
        return StoreError(f"{shown} is busy because another loadwatch is writing to it, so nothing was changed: "
                          "try again when it has finished.")
    if name.startswith("SQLITE_CANTOPEN") or "unable to open" in text or isinstance(exc, OSError):
        return StoreError(f"{shown} cannot be opened because its folder is missing, read-only or not yours, so "
                          "nothing was changed: choose another store with --db.")
    if name.startswith("SQLITE_IOERR") or "disk i/o" in text:
        return StoreError(f"Reading or writing {shown} failed with a disk error, so the last step was not "
                          "saved: check the disk.")
    return StoreError(f"{shown} could not be used ({name or type(exc).__name__}); nothing was changed.")
