"""Shoes: the runner's pairs and which run was in which pair (one table family of the store).

Two tables, added by :func:`migrate`:

* ``shoes``: ``id, name`` (unique, case-insensitive), ``start_km`` (distance the pair had before its
  first run here [km]), ``retire_km`` (the runner's retirement distance [km], or NULL), ``retired_on``
  (local ISO date the pair was retired, or NULL), ``is_default`` (at most one pair), ``created_at``.
* ``activity_shoes``: ``activity_id`` (one row per activity), ``shoe_id``, ``source`` - how the pair was
  given: ``default`` (the default pair when the run was imported), ``strava`` (the export's "Activity
  Gear"), ``user`` (``loadwatch activities set ID --shoe NAME``).  An export never overrides the runner's
  own choice.

A retired pair takes no new runs: it is never the default, and a run that started after the day it was
retired cannot be given to it (runs before that day may, so an old export's gear still lands).

Every function takes an open connection inside the caller's transaction; :class:`loadwatch.ingest.store.Store`
has the thin methods that open one.
"""

from __future__ import annotations

import math
import sqlite3

import pandas as pd

from loadwatch.ingest import settings
from loadwatch.ingest.db import float_or_none, now_iso

SHOE_SOURCES: tuple[str, ...] = ("default", "strava", "garmin", "user")

#: Longest name a pair may have (characters).
MAX_NAME_CHARS: int = 80
#: Most a pair may have run before its first run here, and the largest retirement distance [km].
MAX_SHOE_KM: float = 20_000.0

_SCHEMA = """
CREATE TABLE shoes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    start_km REAL NOT NULL DEFAULT 0,
    retire_km REAL,
    retired_on TEXT,
    is_default INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);
CREATE TABLE activity_shoes (
    activity_id TEXT PRIMARY KEY REFERENCES activities(id) ON DELETE CASCADE,
    shoe_id INTEGER NOT NULL REFERENCES shoes(id) ON DELETE CASCADE,
    source TEXT NOT NULL,
    assigned_at TEXT NOT NULL
);
CREATE INDEX activity_shoes_shoe ON activity_shoes(shoe_id)
"""

SHOE_COLUMNS: tuple[str, ...] = ("id", "name", "start_km", "retire_km", "retired_on", "default")


class UnknownShoe(KeyError):
    """No pair of that name."""


def migrate(conn: sqlite3.Connection) -> None:
    """Schema step: the ``shoes`` and ``activity_shoes`` tables."""
    for stmt in _SCHEMA.split(";"):
        if stmt.strip():
            conn.execute(stmt)


def clean_name(name) -> str:
    """The pair's name stripped; ``ValueError`` when empty or too long."""
    text = " ".join(str(name or "").split())
    if not text:
        raise ValueError("a shoe needs a name")
    if len(text) > MAX_NAME_CHARS:
        raise ValueError(f"a shoe name may have at most {MAX_NAME_CHARS} characters (got {len(text)})")
    return text


def _km(value, what: str, *, allow_none: bool = False, positive: bool = False) -> float | None:
    if value is None and allow_none:
        return None
    try:
        km = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a number of km (got {value!r})") from None
    if not math.isfinite(km) or km < 0 or (positive and km == 0) or km > MAX_SHOE_KM:
        low = "above 0" if positive else "0 or more"
        raise ValueError(f"{what} must be {low} and at most {MAX_SHOE_KM:,.0f} km (got {value!r})")
    return km


def shoe_id(conn: sqlite3.Connection, name: str) -> int:
    row = conn.execute("SELECT id FROM shoes WHERE name = ?", (clean_name(name),)).fetchone()
    if row is None:
        names = [r[0] for r in conn.execute("SELECT name FROM shoes ORDER BY name")]
        known = f"; your shoes: {', '.join(names)}" if names else "; add one with `loadwatch shoes add NAME`"
        raise UnknownShoe(f"no shoe named {name!r}{known}")
    return int(row[0])


def add_shoe(conn: sqlite3.Connection, name: str, *, start_km: float = 0.0, retire_km: float | None = None,
             default: bool = False) -> int:
    """Add a pair; ``ValueError`` when the name is taken or a distance is not a number of km."""
    name = clean_name(name)
    start = _km(start_km if start_km is not None else 0.0, "the starting distance")
    retire = _km(retire_km, "the retirement distance", allow_none=True, positive=True)
    if conn.execute("SELECT 1 FROM shoes WHERE name = ?", (name,)).fetchone():
        raise ValueError(f"there is already a shoe named {name!r}")
    cur = conn.execute("INSERT INTO shoes (name, start_km, retire_km, created_at) VALUES (?, ?, ?, ?)",
                       (name, start, retire, now_iso()))
    new_id = int(cur.lastrowid)
    if default:
        set_default(conn, name)
    return new_id


def ensure_shoe(conn: sqlite3.Connection, name: str) -> int:
    """The id of the pair called ``name``, created (not default, no retirement distance) when new."""
    try:
        return shoe_id(conn, name)
    except UnknownShoe:
        return add_shoe(conn, name)


def set_default(conn: sqlite3.Connection, name: str | None) -> None:
    """Make ``name`` the default pair (None: no default).  A retired pair cannot be the default."""
    if name is None:
        conn.execute("UPDATE shoes SET is_default = 0")
        return
    sid = shoe_id(conn, name)
    if conn.execute("SELECT retired_on FROM shoes WHERE id = ?", (sid,)).fetchone()[0] is not None:
        raise ValueError(f"{clean_name(name)!r} is retired, so it cannot be the default shoe")
    conn.execute("UPDATE shoes SET is_default = (id = ?)", (sid,))


def retire(conn: sqlite3.Connection, name: str, on: str) -> None:
    """Retire a pair from the local day ``on`` (ISO date); it stops being the default."""
    sid = shoe_id(conn, name)
    conn.execute("UPDATE shoes SET retired_on = COALESCE(retired_on, ?), is_default = 0 WHERE id = ?", (on, sid))


def unretire(conn: sqlite3.Connection, name: str) -> None:
    conn.execute("UPDATE shoes SET retired_on = NULL WHERE id = ?", (shoe_id(conn, name),))


def set_retire_km(conn: sqlite3.Connection, name: str, km: float | None) -> None:
    """The pair's retirement distance [km] (None clears it)."""
    retire_km = _km(km, "the retirement distance", allow_none=True, positive=True)
    conn.execute("UPDATE shoes SET retire_km = ? WHERE id = ?", (retire_km, shoe_id(conn, name)))


def rename(conn: sqlite3.Connection, name: str, new_name: str) -> None:
    sid = shoe_id(conn, name)
    new_name = clean_name(new_name)
    other = conn.execute("SELECT id FROM shoes WHERE name = ?", (new_name,)).fetchone()
    if other is not None and int(other[0]) != sid:
        raise ValueError(f"there is already a shoe named {new_name!r}")
    conn.execute("UPDATE shoes SET name = ? WHERE id = ?", (new_name, sid))


def list_shoes(conn: sqlite3.Connection) -> list[tuple]:
    """Rows of :data:`SHOE_COLUMNS`, by name."""
    return conn.execute("SELECT id, name, start_km, retire_km, retired_on, is_default FROM shoes"
                        " ORDER BY name COLLATE NOCASE").fetchall()


def shoes_frame(conn: sqlite3.Connection) -> pd.DataFrame:
    """Every pair: ``id, name, start_km, retire_km`` (NaN: none set), ``retired_on`` (local ISO date or
    None), ``default`` (bool), by name."""
    frame = pd.DataFrame.from_records(list_shoes(conn), columns=list(SHOE_COLUMNS))
    frame["id"] = frame["id"].astype("int64")
    for col in ("start_km", "retire_km"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype("float64")
    frame["retired_on"] = frame["retired_on"].astype(object).where(frame["retired_on"].notna(), None)
    frame["default"] = frame["default"].fillna(0).astype(bool)
    return frame


def assignments_frame(conn: sqlite3.Connection) -> pd.DataFrame:
    """Which pair each activity was in: ``activity_id, shoe_id, shoe, source``."""
    frame = pd.DataFrame.from_records(assignments(conn), columns=["activity_id", "shoe_id", "shoe", "source"])
    frame["shoe_id"] = frame["shoe_id"].astype("int64")
    return frame


def assignments(conn: sqlite3.Connection) -> list[tuple]:
    """``(activity_id, shoe_id, shoe name, source)`` for every activity that has a pair."""
    return conn.execute("SELECT a.activity_id, a.shoe_id, s.name, a.source FROM activity_shoes a"
                        " JOIN shoes s ON s.id = a.shoe_id ORDER BY a.activity_id").fetchall()


def _check_takes(conn: sqlite3.Connection, sid: int, run_day: str | None, name: str) -> None:
    retired_on = conn.execute("SELECT retired_on FROM shoes WHERE id = ?", (sid,)).fetchone()[0]
    if retired_on is not None and (run_day is None or run_day > retired_on):
        raise ValueError(f"{clean_name(name)!r} was retired on {retired_on}, so it takes no new runs")


def assign(conn: sqlite3.Connection, activity_id: str, name: str | None, *, source: str = "user",
           run_day: str | None = None, override_user: bool = True) -> bool:
    """Put the activity in the pair ``name`` (None: in no pair).  ``run_day``: the run's local ISO date
    (checked against a retired pair).  ``override_user=False`` (imports) leaves a pair the runner chose
    alone.  Returns whether anything changed."""
    if source not in SHOE_SOURCES:
        raise ValueError(f"shoe source must be one of {', '.join(SHOE_SOURCES)} (got {source!r})")
    current = conn.execute("SELECT shoe_id, source FROM activity_shoes WHERE activity_id = ?",
                           (activity_id,)).fetchone()
    if current is not None and current[1] == "user" and not override_user:
        return False
    if name is None:
        conn.execute("DELETE FROM activity_shoes WHERE activity_id = ?", (activity_id,))
        return current is not None
    sid = shoe_id(conn, name)
    _check_takes(conn, sid, run_day, name)
    conn.execute("INSERT INTO activity_shoes (activity_id, shoe_id, source, assigned_at) VALUES (?, ?, ?, ?)"
                 " ON CONFLICT(activity_id) DO UPDATE SET shoe_id = excluded.shoe_id, source = excluded.source,"
                 " assigned_at = excluded.assigned_at", (activity_id, sid, source, now_iso()))
    return current is None or int(current[0]) != sid


def assign_default(conn: sqlite3.Connection, activity_id: str, sport: str | None) -> None:
    """At import: a run gets the default pair (when there is one and it is not retired)."""
    if sport != "running":
        return
    row = conn.execute("SELECT id FROM shoes WHERE is_default = 1 AND retired_on IS NULL").fetchone()
    if row is None:
        return
    conn.execute("INSERT OR IGNORE INTO activity_shoes (activity_id, shoe_id, source, assigned_at)"
                 " VALUES (?, ?, 'default', ?)", (activity_id, int(row[0]), now_iso()))


def relink(conn: sqlite3.Connection, old_id: str, new_id: str) -> None:
    """A richer copy of a run replaced ``old_id``: its pair moves to ``new_id`` (before the old row goes)."""
    old = conn.execute("SELECT shoe_id, source, assigned_at FROM activity_shoes WHERE activity_id = ?",
                       (old_id,)).fetchone()
    if old is None:
        return
    conn.execute("INSERT INTO activity_shoes (activity_id, shoe_id, source, assigned_at) VALUES (?, ?, ?, ?)"
                 " ON CONFLICT(activity_id) DO UPDATE SET shoe_id = excluded.shoe_id, source = excluded.source,"
                 " assigned_at = excluded.assigned_at", (new_id, *old))
    conn.execute("DELETE FROM activity_shoes WHERE activity_id = ?", (old_id,))


#: Which way of giving a pair wins when two copies of one run are folded together: the runner's own
#: choice, then an export's gear, then the default pair.
_SOURCE_RANK: dict[str, int] = {"default": 0, "strava": 1, "garmin": 1, "user": 2}


def fold(conn: sqlite3.Connection, loser: str, winner: str) -> None:
    """Two copies of one run fold together (``loser`` is about to go): the loser's pair moves to
    ``winner`` when the winner has none, or has one given in a weaker way (a default or an export's gear
    against the runner's own choice).  Call before the loser's row is deleted."""
    old = conn.execute("SELECT shoe_id, source, assigned_at FROM activity_shoes WHERE activity_id = ?",
                       (loser,)).fetchone()
    if old is None:
        return
    have = conn.execute("SELECT source FROM activity_shoes WHERE activity_id = ?", (winner,)).fetchone()
    if have is None or _SOURCE_RANK.get(old[1], 0) > _SOURCE_RANK.get(have[0], 0):
        conn.execute("INSERT INTO activity_shoes (activity_id, shoe_id, source, assigned_at) VALUES (?, ?, ?, ?)"
                     " ON CONFLICT(activity_id) DO UPDATE SET shoe_id = excluded.shoe_id, source = excluded.source,"
                     " assigned_at = excluded.assigned_at", (winner, *old))
    conn.execute("DELETE FROM activity_shoes WHERE activity_id = ?", (loser,))


def take(conn: sqlite3.Connection, activity_id: str) -> tuple | None:
    """The activity's pair row ``(shoe_id, source, assigned_at)`` (None: no pair), for :func:`put` after
    the activity's row is written again (a rebuild deletes and re-inserts it)."""
    return conn.execute("SELECT shoe_id, source, assigned_at FROM activity_shoes WHERE activity_id = ?",
                        (activity_id,)).fetchone()


def put(conn: sqlite3.Connection, activity_id: str, row: tuple | None) -> None:
    """Give ``activity_id`` back the pair :func:`take` read (the row it has now, if any, is kept)."""
    if row is not None:
        conn.execute("INSERT OR IGNORE INTO activity_shoes (activity_id, shoe_id, source, assigned_at)"
                     " VALUES (?, ?, ?, ?)", (activity_id, *row))


def run_day(conn: sqlite3.Connection, activity_id: str) -> str:
    """The local ISO date a run started on (its own UTC offset, else the runner's time zone); ``KeyError``
    for an unknown activity."""
    row = conn.execute("SELECT start_utc, utc_offset_s FROM activities WHERE id = ?", (activity_id,)).fetchone()
    if row is None:
        raise KeyError(f"no activity with id {activity_id}")
    start = pd.Timestamp(row[0])
    if float_or_none(row[1]) is not None:
        local = start.tz_convert(None) + pd.Timedelta(seconds=float(row[1]))
    else:
        local = start.tz_convert(settings.read(conn).timezone)
    return local.date().isoformat()


def assign_run(conn: sqlite3.Connection, activity_id: str, name: str | None, *, source: str,
               override_user: bool) -> bool:
    """:func:`assign` with the run's own day (:func:`run_day`) checked against a retired pair."""
    return assign(conn, activity_id, name, source=source, run_day=run_day(conn, activity_id),
                  override_user=override_user)


def assign_gear(conn: sqlite3.Connection, gear: dict[str, str], *, source: str = "strava") -> dict[str, str]:
    """Give runs the pairs an export names (``{activity_id: gear name}``), creating a pair when new; a
    pair the runner chose is left alone, as is a run the pair was retired before, and any activity that
    is not a run.  Returns ``{activity_id: pair}`` of the changes made."""
    changed: dict[str, str] = {}
    for activity_id, name in gear.items():
        try:
            name = clean_name(name)
        except ValueError:
            continue
        # the sport as the runner means it: their correction > the archive's > the file's
        sport = conn.execute("SELECT COALESCE(sport_override, meta_sport, sport) FROM activities WHERE id = ?",
                             (activity_id,)).fetchone()
        if sport is None or sport[0] != "running":
            continue  # shoes are for runs (Strava's gear may be a bike)
        ensure_shoe(conn, name)
        try:
            if assign_run(conn, activity_id, name, source=source, override_user=False):
                changed[activity_id] = name
        except ValueError:
            continue  # retired before this run
    return changed
