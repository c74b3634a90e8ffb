"""The store's schema: the first tables and every migration since, in order (``PRAGMA user_version`` is
the number applied).  Each table family's own steps live in its module (:mod:`loadwatch.ingest.assessments`,
:mod:`loadwatch.ingest.shoes`, :mod:`loadwatch.ingest.sessions`, ...); :data:`MIGRATIONS` lists them all.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from loadwatch.ingest import activity_fixes as fixes
from loadwatch.ingest import assessments, outcomes, programmes, sessions, shoes
from loadwatch.ingest.db import run_statements
from loadwatch.ingest.twins import CHANNEL_PROXIES, END_EXPR, estimated_richness


def migrate_v1(conn: sqlite3.Connection) -> None:
    """The first schema: everything."""
    run_statements(conn, V1_SCHEMA)


V1_SCHEMA = """
CREATE TABLE files (
    content_hash TEXT PRIMARY KEY,
    file_name TEXT NOT NULL,
    format TEXT,
    outcome TEXT NOT NULL CHECK (outcome IN ('imported', 'duplicate', 'skipped')),
    activity_id TEXT,
    reason TEXT NOT NULL DEFAULT '',
    imported_at TEXT NOT NULL
);
CREATE TABLE originals (
    content_hash TEXT PRIMARY KEY REFERENCES files(content_hash),
    file_name TEXT NOT NULL,
    data BLOB NOT NULL,
    size_bytes INTEGER NOT NULL
);
CREATE TABLE activities (
    id TEXT PRIMARY KEY,
    file_hash TEXT NOT NULL REFERENCES files(content_hash),
    source TEXT,
    format TEXT,
    sport TEXT NOT NULL,
    sub_sport TEXT,
    start_utc TEXT NOT NULL,
    start_ts REAL NOT NULL,
    utc_offset_s REAL,
    elapsed_s REAL,
    moving_s REAL,
    distance_m REAL,
    ascent_m REAL,
    avg_hr_bpm REAL,
    max_hr_bpm REAL,
    avg_cadence_spm REAL,
    avg_vertical_oscillation_mm REAL,
    avg_stance_time_ms REAL,
    avg_step_length_mm REAL,
    device TEXT,
    partial INTEGER NOT NULL DEFAULT 0,
    sport_inferred INTEGER NOT NULL DEFAULT 0,
    surface_override TEXT,
    rpe REAL,
    hr_hist BLOB,
    n_samples INTEGER,
    imported_at TEXT NOT NULL
);
CREATE TABLE pain (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at_local TEXT NOT NULL,
    score INTEGER NOT NULL,
    timing TEXT NOT NULL,
    location TEXT NOT NULL,
    activity_id TEXT REFERENCES activities(id) ON DELETE SET NULL,
    symptoms TEXT NOT NULL DEFAULT '[]',
    note TEXT NOT NULL DEFAULT '',
    deleted INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE pain_history (
    history_id INTEGER PRIMARY KEY AUTOINCREMENT,
    pain_id INTEGER NOT NULL REFERENCES pain(id),
    changed_at TEXT NOT NULL,
    change TEXT NOT NULL,
    at_local TEXT NOT NULL,
    score INTEGER NOT NULL,
    timing TEXT NOT NULL,
    location TEXT NOT NULL,
    activity_id TEXT,
    symptoms TEXT NOT NULL,
    note TEXT NOT NULL,
    deleted INTEGER NOT NULL
);
CREATE INDEX pain_history_pain ON pain_history(pain_id);
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE rules (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    metric TEXT NOT NULL,
    op TEXT NOT NULL,
    threshold REAL NOT NULL,
    scope TEXT NOT NULL,
    enabled INTEGER NOT NULL DEFAULT 1,
    label TEXT NOT NULL DEFAULT '',
    origin TEXT NOT NULL DEFAULT 'user',
    created_at TEXT NOT NULL
)
"""


def migrate_v2(conn: sqlite3.Connection) -> None:
    """v2: ``activities.richness`` (channels the file carried, used to keep the richer of two copies of
    one run) and an index on start time for the overlap search and range queries.  Rows from v1 get a
    richness estimated from which summary figures they have."""
    conn.execute("ALTER TABLE activities ADD COLUMN richness INTEGER")
    cols = ", ".join(CHANNEL_PROXIES)
    rows = conn.execute(f"SELECT id, format, {cols} FROM activities").fetchall()
    for row in rows:
        richness = estimated_richness(dict(zip(CHANNEL_PROXIES, row[2:], strict=True)), row[1])
        conn.execute("UPDATE activities SET richness = ? WHERE id = ?", (richness, row[0]))
    conn.execute("CREATE INDEX activities_start ON activities(start_ts)")


def migrate_end_index(conn: sqlite3.Connection) -> None:
    """An index on each activity's end time: the same-run search asks for activities that end after the
    new one starts, and through the start-time index alone that meant reading every earlier activity for
    each new file (an import of years of history grew as the square of its length)."""
    conn.execute(f"CREATE INDEX activities_end ON activities({END_EXPR})")


def migrate_descent(conn: sqlite3.Connection) -> None:
    """``activities.descent_m``: the total descent, read like the climb.  Rows written before it have
    none (NaN, never 0) until ``loadwatch rebuild`` re-reads their kept originals."""
    if "descent_m" not in {row[1] for row in conn.execute("PRAGMA table_info(activities)")}:
        conn.execute("ALTER TABLE activities ADD COLUMN descent_m REAL")


MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [
    migrate_v1, migrate_v2, assessments.migrate, fixes.migrate, shoes.migrate, sessions.migrate,
    migrate_end_index, assessments.migrate_decision, outcomes.migrate, programmes.migrate, migrate_descent,
]
SCHEMA_VERSION: int = len(MIGRATIONS)
