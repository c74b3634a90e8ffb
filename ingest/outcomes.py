"""Outcome questionnaires the runner answers (one table family of the store): the weekly OSTRC-O2 for the
low back and the Patient-Specific Functional Scale (SCIENCE.md section 16; scoring in
:mod:`loadwatch.metrics.outcomes`).

``ostrc_weeks``: ``week_start`` (local ISO date, the first day of the runner's week; one row per week, a
second answer replaces the first), ``participation``, ``volume``, ``performance``, ``pain`` (option numbers,
0 first), ``created_at``.
``psfs_activities``: ``id``, ``name`` (the runner's words), ``added`` (local ISO date), ``created_at``.
``psfs_scores``: ``id``, ``activity_id``, ``date``, ``score`` (0-10), ``created_at``.

Every function takes an open connection inside the caller's transaction; :class:`loadwatch.ingest.store.Store`
has the thin methods that open one.
"""

from __future__ import annotations

import datetime as dt
import math
import sqlite3

import pandas as pd

#: How many answers each OSTRC-O2 question has (option 0 first; points in :data:`metrics.outcomes.OSTRC_POINTS`).
OSTRC_OPTIONS: dict[str, int] = {"participation": 4, "volume": 5, "performance": 5, "pain": 4}
#: PSFS: at most this many activities at a time (Stratford 1995).
PSFS_MAX_ACTIVITIES: int = 3

OSTRC_COLUMNS: tuple[str, ...] = ("week_start", *OSTRC_OPTIONS)
PSFS_ACTIVITY_COLUMNS: tuple[str, ...] = ("id", "name", "added")
PSFS_SCORE_COLUMNS: tuple[str, ...] = ("id", "activity_id", "date", "score")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS ostrc_weeks (
    week_start TEXT PRIMARY KEY,
    participation INTEGER NOT NULL,
    volume INTEGER NOT NULL,
    performance INTEGER NOT NULL,
    pain INTEGER NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS psfs_activities (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    added TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS psfs_scores (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    activity_id INTEGER NOT NULL REFERENCES psfs_activities(id),
    date TEXT NOT NULL,
    score REAL NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS psfs_scores_activity ON psfs_scores(activity_id, date)
"""


def migrate(conn: sqlite3.Connection) -> None:
    """Schema step: the OSTRC weeks and the PSFS activities and scores (re-runs harmlessly)."""
    for stmt in _SCHEMA.split(";"):
        if stmt.strip():
            conn.execute(stmt)


def check_answer(question: str, value) -> int:
    """An OSTRC answer's option number, checked; ValueError in plain words naming the question."""
    if question not in OSTRC_OPTIONS:
        raise ValueError(f"unknown OSTRC question {question!r} (one of {', '.join(OSTRC_OPTIONS)})")
    top = OSTRC_OPTIONS[question] - 1
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not number.is_integer() or not 0 <= number <= top:
        raise ValueError(f"the {question} answer must be a whole number from 0 to {top} (got {value!r})")
    return int(number)


def check_psfs_score(value) -> float:
    """A PSFS score 0-10 (halves allowed), checked; ValueError in plain words."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not (math.isfinite(number) and 0 <= number <= 10):
        raise ValueError(f"a PSFS score must be a number from 0 (unable) to 10 (as before the problem) "
                         f"(got {value!r})")
    return number


def week_start_of(day: dt.date, week_start: str = "monday") -> dt.date:
    """The first day of the runner's week (``monday`` or ``sunday``) that holds ``day``."""
    first = {"monday": 0, "sunday": 6}[week_start]
    return day - dt.timedelta(days=(day.weekday() - first) % 7)


def put_ostrc(conn: sqlite3.Connection, week_start: dt.date, answers: dict, now_iso: str) -> None:
    """Keep one week's answers (``answers``: the four questions' option numbers); replaces that week's."""
    checked = [check_answer(q, answers.get(q)) for q in OSTRC_OPTIONS]
    conn.execute(f"INSERT OR REPLACE INTO ostrc_weeks ({', '.join(OSTRC_COLUMNS)}, created_at)"
                 " VALUES (?, ?, ?, ?, ?, ?)", (week_start.isoformat(), *checked, now_iso))


def ostrc_frame(conn: sqlite3.Connection) -> pd.DataFrame:
    """OSTRC weeks, oldest first: ``week_start`` (``datetime.date``) and the four answers (int)."""
    rows = conn.execute(f"SELECT {', '.join(OSTRC_COLUMNS)} FROM ostrc_weeks ORDER BY week_start").fetchall()
    frame = pd.DataFrame.from_records(rows, columns=list(OSTRC_COLUMNS))
    frame["week_start"] = pd.Series([dt.date.fromisoformat(d) for d in frame["week_start"]], index=frame.index,
                                    dtype=object)
    for q in OSTRC_OPTIONS:
        frame[q] = frame[q].astype("int64")
    return frame


def add_psfs_activity(conn: sqlite3.Connection, name: str, day: dt.date, now_iso: str) -> int:
    """Name an activity (at most :data:`loadwatch.metrics.outcomes.PSFS_MAX_ACTIVITIES`, names unique); its id."""
    name = " ".join(str(name or "").split())
    if not name:
        raise ValueError("name the activity you find hard, e.g. \"run 10 km\" or \"sit through a film\"")
    if len(name) > 80:
        raise ValueError(f"keep the activity's name to 80 characters (got {len(name)})")
    if find_psfs_activity(conn, name) is not None:
        raise ValueError(f"you already have the activity \"{name}\"; score it with `loadwatch outcome psfs score`")
    count = conn.execute("SELECT COUNT(*) FROM psfs_activities").fetchone()[0]
    if count >= PSFS_MAX_ACTIVITIES:
        raise ValueError(f"the PSFS keeps at most {PSFS_MAX_ACTIVITIES} activities; you have {count}")
    cur = conn.execute("INSERT INTO psfs_activities (name, added, created_at) VALUES (?, ?, ?)",
                       (name, day.isoformat(), now_iso))
    return int(cur.lastrowid)


def find_psfs_activity(conn: sqlite3.Connection, key) -> int | None:
    """An activity's id from its id or its name (case-insensitive); None when there is none."""
    text = " ".join(str(key).split())
    if text.isdigit():
        row = conn.execute("SELECT id FROM psfs_activities WHERE id = ?", (int(text),)).fetchone()
        if row:
            return int(row[0])
    row = conn.execute("SELECT id FROM psfs_activities WHERE lower(name) = lower(?)", (text,)).fetchone()
    return None if row is None else int(row[0])


def add_psfs_score(conn: sqlite3.Connection, key, day: dt.date, score, now_iso: str) -> int:
    """Score an activity (id or name) 0-10 on ``day``; the score's id."""
    activity = find_psfs_activity(conn, key)
    if activity is None:
        names = [r[0] for r in conn.execute("SELECT name FROM psfs_activities ORDER BY id")]
        known = ", ".join(f'"{n}"' for n in names) or "none yet (add one with `loadwatch outcome psfs add`)"
        raise ValueError(f"no PSFS activity {key!r}; yours: {known}")
    value = check_psfs_score(score)
    cur = conn.execute("INSERT INTO psfs_scores (activity_id, date, score, created_at) VALUES (?, ?, ?, ?)",
                       (activity, day.isoformat(), value, now_iso))
    return int(cur.lastrowid)


def psfs_frames(conn: sqlite3.Connection) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(activities, scores)``: ``id, name, added`` (date) and ``id, activity_id, date`` (date),
    ``score`` (float), oldest first."""
    acts = pd.DataFrame.from_records(conn.execute(
        f"SELECT {', '.join(PSFS_ACTIVITY_COLUMNS)} FROM psfs_activities ORDER BY id").fetchall(),
        columns=list(PSFS_ACTIVITY_COLUMNS))
    scores = pd.DataFrame.from_records(conn.execute(
        f"SELECT {', '.join(PSFS_SCORE_COLUMNS)} FROM psfs_scores ORDER BY date, id").fetchall(),
        columns=list(PSFS_SCORE_COLUMNS))
    for frame, col in ((acts, "added"), (scores, "date")):
        frame[col] = pd.Series([dt.date.fromisoformat(d) for d in frame[col]], index=frame.index, dtype=object)
    acts["id"] = acts["id"].astype("int64")
    scores[["id", "activity_id"]] = scores[["id", "activity_id"]].astype("int64")
    scores["score"] = scores["score"].astype("float64")
    return acts, scores
