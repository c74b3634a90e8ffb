"""Files and originals (one table family of the store): every file the runner gave, what became of it,
and its bytes kept compressed.

``files``: ``content_hash`` (sha256 hex), ``file_name``, ``format``, ``outcome`` (imported, duplicate,
skipped), ``activity_id``, ``reason``, ``imported_at``.  ``originals``: the kept bytes of every file that
was an activity (Zstandard; gzip/zlib in stores written before).

Every function takes an open connection; :class:`loadwatch.ingest.store.Store` has the thin methods that open one.
"""

from __future__ import annotations

import sqlite3
import zlib

try:  # the kept originals' compression: the standard library's from Python 3.14, its backport before
    from compression import zstd
except ImportError:
    from backports import zstd

from loadwatch.ingest.db import now_iso

#: Zstandard level for the kept original files (``compression.zstd``, the standard library's from Python
#: 3.14, its backport before).  Measured on generated 1-h 1 Hz files (``benchmarks/bench_import.py``): FIT
#: 108 kB -> 78 kB in 0.29 ms at level 1 (75 kB in 0.58 ms at 3; zlib level 1, used before: 75 kB in
#: 1.9 ms); GPX 839 kB -> 52 kB in 0.63 ms at level 1 (zlib level 6: 51 kB in 5.6 ms).  Level 1: the
#: import's hot path spends a sixth of what zlib cost for about the same space.
ORIGINAL_ZSTD_LEVEL: int = 1

#: The first bytes of a Zstandard frame; blobs written before it are gzip (``1f 8b``) and still read.
ZSTD_MAGIC: bytes = b"\x28\xb5\x2f\xfd"


def compress_original(data: bytes, fmt: str | None = None) -> bytes:
    """The kept original: a Zstandard frame at :data:`ORIGINAL_ZSTD_LEVEL` (``fmt`` is accepted for
    callers that name the format; every format uses the same level)."""
    return zstd.compress(bytes(data), ORIGINAL_ZSTD_LEVEL)


def decompress_original(blob: bytes) -> bytes:
    """The original file's bytes from a kept blob: Zstandard, or gzip/zlib for stores written before."""
    blob = bytes(blob)
    if blob[:4] == ZSTD_MAGIC:
        return zstd.decompress(blob)
    return zlib.decompress(blob, 47)  # 32 + 15: gzip or zlib header


def file_outcome(conn: sqlite3.Connection, content_hash: str) -> dict | None:
    """What happened to the file with this sha256 before: ``{"outcome", "activity_id", "reason",
    "file_name"}``, or None for a file never seen (failed files are not remembered)."""
    row = conn.execute("SELECT outcome, activity_id, reason, file_name FROM files WHERE content_hash = ?",
                       (content_hash,)).fetchone()
    if row is None:
        return None
    return dict(zip(("outcome", "activity_id", "reason", "file_name"), row, strict=True))


def record_skipped(conn: sqlite3.Connection, content_hash: str, file_name: str, reason: str) -> None:
    """Remember a file that is not an activity so a re-import recognises it without reading it."""
    conn.execute(
        "INSERT OR IGNORE INTO files (content_hash, file_name, format, outcome, activity_id, reason,"
        " imported_at) VALUES (?, ?, NULL, 'skipped', NULL, ?, ?)",
        (content_hash, str(file_name), str(reason), now_iso()),
    )


def add_file(conn: sqlite3.Connection, content_hash: str, name: str, fmt: str | None, outcome: str,
             activity_id: str, reason: str, compressed: bytes, size_bytes: int, now: str) -> None:
    """One file that was an activity: its ``files`` row and its kept ``originals`` row."""
    conn.execute(
        "INSERT INTO files (content_hash, file_name, format, outcome, activity_id, reason, imported_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)", (content_hash, name, fmt, outcome, activity_id, reason, now))
    conn.execute("INSERT INTO originals (content_hash, file_name, data, size_bytes) VALUES (?, ?, ?, ?)",
                 (content_hash, name, compressed, size_bytes))


def move_files(conn: sqlite3.Connection, old_id: str, new_id: str) -> None:
    """The files of activity ``old_id`` now belong to ``new_id``."""
    conn.execute("UPDATE files SET activity_id = ? WHERE activity_id = ?", (new_id, old_id))


def known_file(conn: sqlite3.Connection, content_hash: str) -> tuple | None:
    """``(outcome, activity_id, file_name)`` of a file already recorded, else None."""
    return conn.execute("SELECT outcome, activity_id, file_name FROM files WHERE content_hash = ?",
                        (content_hash,)).fetchone()


def original(conn: sqlite3.Connection, activity_id: str) -> tuple[str, bytes]:
    """(file name, original bytes) of the file an activity was read from (``KeyError``: no activity)."""
    row = conn.execute("SELECT o.file_name, o.data FROM activities a JOIN originals o ON o.content_hash ="
                       " a.file_hash WHERE a.id = ?", (activity_id,)).fetchone()
    if row is None:
        raise KeyError(f"no activity with id {activity_id}")
    return row[0], decompress_original(row[1])


def counts(conn: sqlite3.Connection) -> dict[str, int]:
    """Rows per file outcome plus ``activities`` (for summaries and tests)."""
    out = {"imported": 0, "duplicate": 0, "skipped": 0}
    out.update(dict(conn.execute("SELECT outcome, COUNT(*) FROM files GROUP BY outcome").fetchall()))
    out["activities"] = conn.execute("SELECT COUNT(*) FROM activities").fetchone()[0]
    return out
