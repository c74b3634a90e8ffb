"""Sessions without a file: strength, core, Pilates, yoga, mobility and cardio the runner logs by hand
(one table family of the store).

``sessions``: ``id, date`` (local ISO date), ``kind`` (:data:`SESSION_KINDS`), ``minutes``, ``rpe``
(CR-10, or NULL), ``note``, ``created_at``.  A deleted session is gone (it is the runner's own note of a
workout, not health data that other entries point to).

Every function takes an open connection inside the caller's transaction; :class:`loadwatch.ingest.store.Store`
has the thin methods that open one.
"""

from __future__ import annotations

import datetime as dt
import math
import sqlite3
from dataclasses import dataclass

import pandas as pd

from loadwatch.ingest.days import check_day

#: What a logged session may be (a public contract: ``loadwatch session add --kind KIND``).
SESSION_KINDS: tuple[str, ...] = (
    "strength", "core", "pilates", "yoga", "mobility", "cycling", "swimming", "elliptical", "walking",
    "deep_water_running", "other",
)
#: Kinds counted as strength and core work (``strength_min``; SCIENCE.md section 15).
STRENGTH_KINDS: tuple[str, ...] = ("strength", "core", "pilates", "yoga", "mobility")
#: Kinds counted as cross-training (``cross_training_min``), like an imported ride or swim.
CARDIO_KINDS: tuple[str, ...] = ("cycling", "swimming", "elliptical", "walking", "deep_water_running", "other")

#: Longest session [min].
MAX_MINUTES: float = 24 * 60.0

SESSION_COLUMNS: tuple[str, ...] = ("id", "date", "kind", "minutes", "rpe", "note")

_SCHEMA = """
CREATE TABLE sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    date TEXT NOT NULL,
    kind TEXT NOT NULL,
    minutes REAL NOT NULL,
    rpe REAL,
    note TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);
CREATE INDEX sessions_date ON sessions(date)
"""


def migrate(conn: sqlite3.Connection) -> None:
    """Schema step: the ``sessions`` table."""
    for stmt in _SCHEMA.split(";"):
        if stmt.strip():
            conn.execute(stmt)


@dataclass(frozen=True)
class Session:
    """One logged session: ``day`` (local date), ``kind``, ``minutes`` [min], ``rpe`` (0-10 or None)."""

    day: dt.date
    kind: str
    minutes: float
    rpe: float | None = None
    note: str = ""


def validate(session: Session, today: dt.date) -> Session:
    """The session with its values checked and normalised; ``ValueError`` with a plain message."""
    day = check_day(session.day, today, "the session's day")
    kind = str(session.kind or "").strip().lower().replace("-", "_").replace(" ", "_")
    if kind not in SESSION_KINDS:
        raise ValueError(f"the kind must be one of {', '.join(SESSION_KINDS)} (got {session.kind!r})")
    try:
        minutes = float(session.minutes)
    except (TypeError, ValueError):
        raise ValueError(f"minutes must be a number (got {session.minutes!r})") from None
    if not math.isfinite(minutes) or minutes <= 0 or minutes > MAX_MINUTES:
        raise ValueError(f"minutes must be above 0 and at most {MAX_MINUTES:.0f} (got {session.minutes!r})")
    rpe = session.rpe
    if rpe is not None:
        try:
            rpe = float(rpe)
        except (TypeError, ValueError):
            raise ValueError(f"RPE must be a number from 0 to 10 (got {session.rpe!r})") from None
        if not math.isfinite(rpe) or not 0 <= rpe <= 10:
            raise ValueError(f"RPE must be a number from 0 to 10 (got {session.rpe!r})")
    return Session(day, kind, minutes, rpe, str(session.note or "").strip())


def add(conn: sqlite3.Connection, session: Session, created_at: str) -> int:
    cur = conn.execute("INSERT INTO sessions (date, kind, minutes, rpe, note, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                       (session.day.isoformat(), session.kind, session.minutes, session.rpe, session.note,
                        created_at))
    return int(cur.lastrowid)


def delete(conn: sqlite3.Connection, session_id: int) -> None:
    if conn.execute("DELETE FROM sessions WHERE id = ?", (int(session_id),)).rowcount == 0:
        raise KeyError(f"no session with id {session_id}")


def rows(conn: sqlite3.Connection) -> list[tuple]:
    """Rows of :data:`SESSION_COLUMNS`, oldest first."""
    return conn.execute(f"SELECT {', '.join(SESSION_COLUMNS)} FROM sessions ORDER BY date, id").fetchall()


def frame(conn: sqlite3.Connection) -> pd.DataFrame:
    """Logged sessions, oldest first: ``id, date`` (naive midnight), ``kind, minutes, rpe`` (NaN when not
    given), ``note``."""
    out = pd.DataFrame.from_records(rows(conn), columns=list(SESSION_COLUMNS))
    out["id"] = out["id"].astype("int64")
    out["date"] = pd.to_datetime(out["date"], format="ISO8601").astype("datetime64[ns]")
    for col in ("minutes", "rpe"):
        out[col] = pd.to_numeric(out[col], errors="coerce").astype("float64")
    out["note"] = out["note"].fillna("").astype(object)
    return out
