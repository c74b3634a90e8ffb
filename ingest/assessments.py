"""Clinician assessments: the runner records that a physiotherapist or doctor has seen them.

An assessment closes the escalations (red flags, persistent pain) opened before its date
(SCIENCE.md sections 11 and 13); a red flag logged after it opens a new one.  One table, its migration and
its functions live here; :class:`ingest.store.Store` keeps thin methods that delegate to them.
"""

from __future__ import annotations

import datetime as dt
import sqlite3

import pandas as pd

#: The earliest date an assessment may carry (anything before is a typing error).
EARLIEST = dt.date(1990, 1, 1)
COLUMNS = ("id", "date", "note")


def migrate(conn: sqlite3.Connection) -> None:
    """The ``assessments`` table: one row per clinician visit (local date, free-text note)."""
    conn.execute(
        "CREATE TABLE assessments ("
        " id INTEGER PRIMARY KEY AUTOINCREMENT,"
        " date TEXT NOT NULL,"
        " note TEXT NOT NULL DEFAULT '',"
        " created_at TEXT NOT NULL)")
    conn.execute("CREATE INDEX assessments_date ON assessments(date)")


def check_date(value, today: dt.date | None = None) -> dt.date:
    """The assessment's local date as a ``date``; ValueError in plain words for a date in the future
    or before 1990, or one that cannot be read."""
    try:
        day = pd.Timestamp(value).date()
    except (TypeError, ValueError):
        raise ValueError(f"expected a date as YYYY-MM-DD (got {value!r})") from None
    today = today or dt.date.today()
    if day > today:
        raise ValueError(f"an assessment cannot be in the future ({day.isoformat()} is after today, "
                         f"{today.isoformat()})")
    if day < EARLIEST:
        raise ValueError(f"an assessment date must be in {EARLIEST.year} or later (got {day.isoformat()})")
    return day


def add(conn: sqlite3.Connection, day: dt.date, note: str, now_iso: str) -> int:
    cur = conn.execute("INSERT INTO assessments (date, note, created_at) VALUES (?, ?, ?)",
                       (day.isoformat(), note or "", now_iso))
    return int(cur.lastrowid)


def frame(rows: list[tuple]) -> pd.DataFrame:
    """Rows (id, date, note) -> DataFrame with ``id`` (int), ``date`` (``datetime.date``), ``note``."""
    df = pd.DataFrame.from_records(rows, columns=list(COLUMNS))
    df["id"] = df["id"].astype("int64")
    df["date"] = pd.Series([dt.date.fromisoformat(d) for d in df["date"]], index=df.index, dtype=object)
    df["note"] = df["note"].fillna("").astype(object)
    return df


SELECT = f"SELECT {', '.join(COLUMNS)} FROM assessments ORDER BY date, id"
