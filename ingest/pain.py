"""Pain entries (one table family of the store): the runner's back-pain log and every earlier version.

``pain``: one row per entry (:data:`PAIN_COLUMNS` and ``created_at``, ``updated_at``); a deleted entry is
kept with ``deleted = 1``.  ``pain_history``: the entry as it was before each change (``update``,
``delete``, ``relink`` when its run was replaced by a better copy).  The vocabulary and validation of an
entry are :mod:`loadwatch.ingest.painlog`.

Every function takes an open connection; :class:`loadwatch.ingest.store.Store` has the thin methods that open one.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from datetime import date, datetime

import pandas as pd

from loadwatch.ingest import store_light
from loadwatch.ingest.db import now_iso
from loadwatch.ingest.painlog import PainEntry, pain_row, validate

PAIN_COLUMNS: tuple[str, ...] = (
    "id", "at_local", "score", "timing", "location", "activity_id", "symptoms", "note", "deleted",
)
#: The fields of an entry the runner may change.
PAIN_FIELDS: tuple[str, ...] = ("at_local", "score", "timing", "location", "activity_id", "symptoms", "note")


def to_row(entry: PainEntry) -> dict:
    """The table's values of an entry (local time to the second, symptoms as JSON): :func:`loadwatch.ingest.painlog.
    pain_row`, which the command line's light path (:mod:`loadwatch.ingest.store_light`) writes too."""
    return pain_row(entry)


def run_day(conn: sqlite3.Connection, activity_id: str) -> date | None:
    """The local day of an activity (as the metrics place it), None for one the store does not hold."""
    found = store_light.run_days(conn).get(str(activity_id))
    return None if found is None else found[0]


def ran_on(conn: sqlite3.Connection, day: date) -> bool:
    """Whether the runner ran on the local ``day`` (a run the metrics count): what an entry logged without a
    timing is about (:func:`loadwatch.ingest.painlog.default_timing`)."""
    return any(counts and d == day for d, counts in store_light.run_days(conn).values())


def add(conn: sqlite3.Connection, entry: PainEntry) -> int:
    """Add a pain entry; returns its id.  A linked run must be in the store and of a day the entry can be
    about (``store_light.check_run_link``: the command line's light path checks the same)."""
    validate(entry)
    row = to_row(entry)
    now = now_iso()
    store_light.check_run_link(conn, entry)
    cur = conn.execute(f"INSERT INTO pain ({', '.join(row)}, deleted, created_at, updated_at)"
                       f" VALUES ({', '.join('?' for _ in row)}, 0, ?, ?)", (*row.values(), now, now))
    return int(cur.lastrowid)


def copy_to_history(conn: sqlite3.Connection, pain_id: int, change: str, now: str) -> None:
    """Keep the entry as it is now in ``pain_history`` before ``change``."""
    cols = ", ".join((*PAIN_FIELDS, "deleted"))
    conn.execute(f"INSERT INTO pain_history (pain_id, changed_at, change, {cols}) SELECT id, ?, ?, {cols} FROM pain"
                 " WHERE id = ?", (now, change, pain_id))


def entry(conn: sqlite3.Connection, pain_id: int) -> tuple[PainEntry, bool]:
    """(the entry, whether it was deleted); ``KeyError`` for an unknown id."""
    row = conn.execute(f"SELECT {', '.join(PAIN_FIELDS)}, deleted FROM pain WHERE id = ?", (int(pain_id),)).fetchone()
    if row is None:
        raise KeyError(f"no pain entry with id {pain_id}")
    values = dict(zip(PAIN_FIELDS, row[:-1], strict=True))
    values["at_local"] = datetime.fromisoformat(values["at_local"])
    values["symptoms"] = tuple(json.loads(values["symptoms"]))
    return PainEntry(**values), bool(row[-1])


def update(conn: sqlite3.Connection, pain_id: int, **changes) -> None:
    """Change fields of an entry (:data:`PAIN_FIELDS`); the previous version is kept in the history."""
    unknown = set(changes) - set(PAIN_FIELDS)
    if unknown:
        raise ValueError(f"cannot change {', '.join(sorted(unknown))}; fields: {', '.join(PAIN_FIELDS)}")
    old, deleted = entry(conn, pain_id)
    if deleted:
        raise ValueError(f"pain entry {pain_id} was deleted")
    new = replace(old, **changes)  # __post_init__ validates
    validate(new)
    if new.activity_id is not None and (new.activity_id != old.activity_id or new.at_local.date() != old.at_local.date()
                                        or new.timing != old.timing):
        store_light.check_run_link(conn, new)
    row = to_row(new)
    now = now_iso()
    copy_to_history(conn, pain_id, "update", now)
    conn.execute(f"UPDATE pain SET {', '.join(f'{k} = ?' for k in row)}, updated_at = ? WHERE id = ?",
                 (*row.values(), now, int(pain_id)))


def delete(conn: sqlite3.Connection, pain_id: int) -> None:
    """Soft delete: the entry is hidden from :func:`pain_frame` but kept, with its history."""
    _entry, deleted = entry(conn, pain_id)
    if deleted:
        return
    now = now_iso()
    copy_to_history(conn, pain_id, "delete", now)
    conn.execute("UPDATE pain SET deleted = 1, updated_at = ? WHERE id = ?", (now, int(pain_id)))


def relink_pain(conn: sqlite3.Connection, old_id: str, new_id: str, now: str) -> None:
    """The entries linked to run ``old_id`` now point at its kept copy ``new_id`` (history: ``relink``)."""
    for pid in linked_ids(conn, old_id):
        copy_to_history(conn, pid, "relink", now)
    conn.execute("UPDATE pain SET activity_id = ?, updated_at = ? WHERE activity_id = ?", (new_id, now, old_id))


def linked_ids(conn: sqlite3.Connection, activity_id: str) -> list[int]:
    """Ids of the entries linked to one activity."""
    return [r[0] for r in conn.execute("SELECT id FROM pain WHERE activity_id = ?", (activity_id,))]


def put_links(conn: sqlite3.Connection, pain_ids: list[int], activity_id: str) -> None:
    """Link entries (from :func:`linked_ids`) to an activity again, after its row was written anew."""
    conn.executemany("UPDATE pain SET activity_id = ? WHERE id = ?", [(activity_id, pid) for pid in pain_ids])


def frame(rows: list[tuple], extra: tuple[str, ...] = ()) -> pd.DataFrame:
    """Rows of ``extra`` + :data:`PAIN_COLUMNS` as a typed frame."""
    out = pd.DataFrame.from_records(rows, columns=[*extra, *PAIN_COLUMNS])
    out["id"] = out["id"].astype("int64")
    out["at_local"] = pd.to_datetime(out["at_local"], format="ISO8601").astype("datetime64[ns]")
    out["score"] = out["score"].astype("int64")
    out["activity_id"] = out["activity_id"].astype(object).where(out["activity_id"].notna(), None)
    out["symptoms"] = pd.Series([tuple(json.loads(s)) for s in out["symptoms"]], index=out.index, dtype=object)
    out["note"] = out["note"].fillna("").astype(object)
    out["deleted"] = out["deleted"].astype(bool)
    return out


def pain_frame(conn: sqlite3.Connection, include_deleted: bool = False) -> pd.DataFrame:
    """Pain entries sorted by local time: :data:`PAIN_COLUMNS`."""
    where = "" if include_deleted else "WHERE deleted = 0"
    return frame(conn.execute(f"SELECT {', '.join(PAIN_COLUMNS)} FROM pain {where} ORDER BY at_local, id").fetchall())


def history_frame(conn: sqlite3.Connection, pain_id: int) -> pd.DataFrame:
    """Previous versions of one entry, oldest first: ``history_id, changed_at, change`` (update, delete,
    relink) and the entry's columns as they were before that change."""
    cols = ", ".join(c if c != "id" else "pain_id" for c in PAIN_COLUMNS)
    rows = conn.execute(f"SELECT history_id, changed_at, change, {cols} FROM pain_history WHERE pain_id = ?"
                        " ORDER BY history_id", (int(pain_id),)).fetchall()
    out = frame(rows, extra=("history_id", "changed_at", "change"))
    out["changed_at"] = pd.to_datetime(out["changed_at"], utc=True, format="ISO8601")
    return out
