"""Back programmes the runner follows (one table family of the store): WalkBack-style walking or the
ASTEROID run-walk programme (SCIENCE.md section 16; the weeks in :mod:`loadwatch.metrics.programme`).

``programmes``: ``id``, ``kind`` (:data:`PROGRAMMES`), ``start_date`` (local ISO date),
``stop_date`` (local ISO date or NULL: still running), ``created_at``.  One programme runs at a time.

Every function takes an open connection inside the caller's transaction; :class:`loadwatch.ingest.store.Store`
has the thin methods that open one.
"""

from __future__ import annotations

import datetime as dt
import sqlite3

import pandas as pd

#: Programmes a runner may start (a public contract: ``loadwatch programme start walkback|runwalk``), with
#: their names; their weeks are in :mod:`metrics.programme`.
PROGRAMMES: dict[str, str] = {"walkback": "WalkBack walking", "runwalk": "ASTEROID run-walk"}

COLUMNS: tuple[str, ...] = ("id", "kind", "start_date", "stop_date")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS programmes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    start_date TEXT NOT NULL,
    stop_date TEXT,
    created_at TEXT NOT NULL
)
"""


def migrate(conn: sqlite3.Connection) -> None:
    """Schema step: the ``programmes`` table (re-runs harmlessly)."""
    conn.execute(_SCHEMA)


def check_kind(kind: str) -> str:
    text = str(kind or "").strip().lower().replace("-", "").replace("_", "")
    if text not in PROGRAMMES:
        raise ValueError(f"the programme must be one of {', '.join(PROGRAMMES)} (got {kind!r})")
    return text


def start(conn: sqlite3.Connection, kind: str, day: dt.date, now_iso: str) -> int:
    """Start a programme on ``day``; ValueError when one is already running or ``day`` is before the last
    one stopped."""
    kind = check_kind(kind)
    running = conn.execute("SELECT kind, start_date FROM programmes WHERE stop_date IS NULL").fetchone()
    if running:
        raise ValueError(f"the {PROGRAMMES[running[0]]} programme started on {running[1]} is still running; "
                         "stop it first (`loadwatch programme stop`)")
    last = conn.execute("SELECT MAX(stop_date) FROM programmes").fetchone()[0]
    if last and day.isoformat() < last:
        raise ValueError(f"a programme cannot start on {day.isoformat()}, before the last one stopped ({last})")
    cur = conn.execute("INSERT INTO programmes (kind, start_date, created_at) VALUES (?, ?, ?)",
                       (kind, day.isoformat(), now_iso))
    return int(cur.lastrowid)


def stop(conn: sqlite3.Connection, day: dt.date) -> int:
    """Stop the running programme on ``day`` (its last day); its id.  ValueError when none runs."""
    running = conn.execute("SELECT id, start_date FROM programmes WHERE stop_date IS NULL").fetchone()
    if not running:
        raise ValueError("no programme is running (start one with `loadwatch programme start walkback|runwalk`)")
    if day.isoformat() < running[1]:
        raise ValueError(f"the programme started on {running[1]}; it cannot stop on {day.isoformat()}")
    conn.execute("UPDATE programmes SET stop_date = ? WHERE id = ?", (day.isoformat(), running[0]))
    return int(running[0])


def frame(conn: sqlite3.Connection) -> pd.DataFrame:
    """Programmes, oldest first: ``id``, ``kind``, ``start_date`` and ``stop_date`` (``datetime.date``,
    None: still running)."""
    rows = conn.execute(f"SELECT {', '.join(COLUMNS)} FROM programmes ORDER BY start_date, id").fetchall()
    out = pd.DataFrame.from_records(rows, columns=list(COLUMNS))
    out["id"] = out["id"].astype("int64")
    for col in ("start_date", "stop_date"):
        out[col] = pd.Series([None if d is None else dt.date.fromisoformat(d) for d in out[col]],
                             index=out.index, dtype=object)
    return out
