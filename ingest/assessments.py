"""Clinician assessments: the runner records that a physiotherapist or doctor has seen them.

An assessment closes the escalations (red flags, persistent pain) from entries before it: entries of
earlier days, and entries of its own day logged at or before its time (an assessment without a time is
the end of its day; SCIENCE.md sections 11 and 13).  It may keep the clinician's decision: cleared to run
normally, a return step to start at, their own caps (km) and the most pain allowed during a run; the
plan then follows it.  One table, its migrations and its functions live here; :class:`loadwatch.ingest.store.Store`
keeps thin methods that delegate to them.
"""

from __future__ import annotations

import datetime as dt
import sqlite3

import pandas as pd

from loadwatch.ingest.days import check_day

#: Return-to-run steps a clinician may choose (SCIENCE.md section 13: four steps).
RETURN_STEPS = (1, 2, 3, 4)
COLUMNS = ("id", "date", "note", "time", "cleared", "return_step", "max_week_km", "max_run_km", "max_pain")


def migrate(conn: sqlite3.Connection) -> None:
    """The ``assessments`` table: one row per clinician visit (local date, free-text note)."""
    conn.execute(
        "CREATE TABLE assessments ("
        " id INTEGER PRIMARY KEY AUTOINCREMENT,"
        " date TEXT NOT NULL,"
        " note TEXT NOT NULL DEFAULT '',"
        " created_at TEXT NOT NULL)")
    conn.execute("CREATE INDEX assessments_date ON assessments(date)")


def migrate_decision(conn: sqlite3.Connection) -> None:
    """The time of the visit (local ``HH:MM``, NULL: the end of its day) and the clinician's decision."""
    have = {row[1] for row in conn.execute("PRAGMA table_info(assessments)")}
    for column in ("time TEXT", "cleared INTEGER NOT NULL DEFAULT 0", "return_step INTEGER",
                   "max_week_km REAL", "max_run_km REAL", "max_pain INTEGER"):
        if column.split()[0] not in have:  # a store re-opened at an older version number keeps its columns
            conn.execute(f"ALTER TABLE assessments ADD COLUMN {column}")


def check_decision(*, time: str | None = None, cleared: bool = False, return_step: int | None = None,
                   max_week_km: float | None = None, max_run_km: float | None = None,
                   max_pain: int | None = None) -> dict:
    """The decision's fields, checked; ValueError in plain words for one that cannot be kept."""
    if time is not None and time != "":
        try:
            time = dt.time.fromisoformat(str(time)).strftime("%H:%M")
        except ValueError:
            raise ValueError(f"expected a time as HH:MM (got {time!r})") from None
    else:
        time = None
    if cleared and return_step is not None:
        raise ValueError("a clinician either cleared you to run normally or set a return step, not both")
    if return_step is not None and int(return_step) not in RETURN_STEPS:
        raise ValueError(f"the return step must be 1 to {RETURN_STEPS[-1]} (got {return_step})")
    for name, value in (("weekly distance", max_week_km), ("longest run", max_run_km)):
        if value is not None and not (0 < float(value) <= 1000):
            raise ValueError(f"the {name} your clinician set must be above 0 and at most 1000 km (got {value})")
    if max_pain is not None and not 0 <= int(max_pain) <= 10:
        raise ValueError(f"the most pain allowed during a run must be 0 to 10 (got {max_pain})")
    return {"time": time, "cleared": bool(cleared),
            "return_step": None if return_step is None else int(return_step),
            "max_week_km": None if max_week_km is None else float(max_week_km),
            "max_run_km": None if max_run_km is None else float(max_run_km),
            "max_pain": None if max_pain is None else int(max_pain)}


def check_date(value, today: dt.date | None = None) -> dt.date:
    """The assessment's local date (:func:`loadwatch.ingest.days.check_day`; ``today`` defaults to this computer's)."""
    return check_day(value, today or dt.date.today(), "the assessment date")


def add(conn: sqlite3.Connection, day: dt.date, note: str, now_iso: str, decision: dict | None = None) -> int:
    d = decision or check_decision()
    cur = conn.execute(
        "INSERT INTO assessments (date, note, created_at, time, cleared, return_step, max_week_km, max_run_km,"
        " max_pain) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (day.isoformat(), note or "", now_iso, d["time"], int(d["cleared"]), d["return_step"], d["max_week_km"],
         d["max_run_km"], d["max_pain"]))
    return int(cur.lastrowid)


def frame(rows: list[tuple]) -> pd.DataFrame:
    """Rows of :data:`COLUMNS` -> DataFrame with ``id`` (int), ``date`` (``datetime.date``), ``note``,
    ``time`` ("HH:MM" or None: the end of the day), ``cleared`` (bool), ``return_step`` (Int64, NA: none),
    ``max_week_km``/``max_run_km`` (float, NaN: none), ``max_pain`` (Int64, NA: none)."""
    df = pd.DataFrame.from_records(rows, columns=list(COLUMNS))
    df["id"] = df["id"].astype("int64")
    df["date"] = pd.Series([dt.date.fromisoformat(d) for d in df["date"]], index=df.index, dtype=object)
    df["note"] = df["note"].fillna("").astype(object)
    df["time"] = df["time"].astype(object).where(df["time"].notna(), None)
    df["cleared"] = df["cleared"].fillna(0).astype(bool)
    for col in ("return_step", "max_pain"):
        df[col] = df[col].astype("Int64")
    for col in ("max_week_km", "max_run_km"):
        df[col] = df[col].astype("float64")
    return df


SELECT = f"SELECT {', '.join(COLUMNS)} FROM assessments ORDER BY date, COALESCE(time, '24:00'), id"
