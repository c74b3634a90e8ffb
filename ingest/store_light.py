"""The store's two everyday calls with ``sqlite3`` alone: a pain entry from ``loadwatch pain add`` and the
activity list of ``loadwatch activities``.

Issue 21 asks both commands to answer in half a second, and importing pandas and NumPy (which
:class:`loadwatch.ingest.store.Store` and its table modules need) spends most of that.  This path does only what
the two need, with the same guarantees as the store: the same pain row (:func:`loadwatch.ingest.painlog.pain_row`)
in one ``BEGIN IMMEDIATE`` transaction with the store's busy timeout; the activities as
``Store.activities`` gives them (corrections and archive metadata applied as
:func:`loadwatch.ingest.activity_fixes.effective` does, offsets borrowed as :func:`loadwatch.ingest.local_time.
borrow_watch_offsets` does: ``tests/test_cli_light.py`` compares the two on a store holding every case);
``PRAGMA quick_check`` first.  Whenever it cannot be sure - no store file yet, a store at another schema version than
the one its SQL was written for, a damaged file, any error from SQLite - it writes nothing and returns
None, and the caller opens the full :class:`~loadwatch.ingest.store.Store`, which creates, migrates or names the
problem in plain words.
"""

from __future__ import annotations

import bisect
import json
import math
import os
import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from loadwatch.ingest import commits
from loadwatch.ingest.painlog import PainEntry, check_link_day, pain_row, validate
from loadwatch.ingest.settings import Settings

#: The store version (``PRAGMA user_version``) the SQL below was written for: ``ingest.schema.SCHEMA_VERSION``
#: when it was written (a test keeps the two equal).  A store at any other version goes through ``Store``.
SCHEMA_VERSION: int = 11

#: As :data:`ingest.local_time.BORROW_WITHIN_DAYS`: a run without an offset borrows the nearest watch file's
#: offset up to this many days away.
BORROW_WITHIN_DAYS: float = 30.0

#: As :data:`ingest.db.BUSY_TIMEOUT_S`: seconds a writer waits for another process's transaction.
BUSY_TIMEOUT_S: float = 10.0


def store_path(db: str | os.PathLike | None) -> Path:
    """The store's file: ``db``, else ``$LOADWATCH_DB``, else ``<user data dir>/loadwatch.sqlite3`` (as
    :func:`loadwatch.ingest.db.default_db_path` finds it: a test keeps the two equal)."""
    given = db if db is not None else os.environ.get("LOADWATCH_DB")
    if given:
        return Path(given).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("loadwatch")) / "loadwatch.sqlite3"


def _connect(db: str | os.PathLike | None, *, write: bool = False) -> sqlite3.Connection | None:
    """A connection to the store at ``db`` (read-only unless ``write``) when it is there, at
    :data:`SCHEMA_VERSION` and intact (``PRAGMA quick_check``); else None, and nothing was touched."""
    path = store_path(db)
    if not path.is_file():
        return None
    try:
        if write:
            conn = sqlite3.connect(os.fsencode(path), timeout=BUSY_TIMEOUT_S, isolation_level=None)
        else:
            conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S,
                                   isolation_level=None)
    except (sqlite3.Error, ValueError):
        return None
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        if conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION and \
                [r[0] for r in conn.execute("PRAGMA quick_check(5)")] == ["ok"]:
            return conn
    except sqlite3.Error:
        pass
    conn.close()
    return None


def add_pain(db: str | os.PathLike | None, entry: PainEntry) -> int | None:
    """Add ``entry`` to the store at ``db``; its id, or None when nothing was written and the full store must
    do it (see the module's docstring).  An invalid entry raises ``ValueError`` as ``Store.add_pain`` does, a
    run the store does not hold or of a day the entry cannot be about too (:func:`check_run_link`, which
    ``Store.add_pain`` calls as well)."""
    validate(entry)
    row = pain_row(entry)
    now = datetime.now(UTC).isoformat(timespec="microseconds")
    conn = _connect(db, write=True)
    if conn is None:
        return None
    try:
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("BEGIN IMMEDIATE")
        try:
            check_run_link(conn, entry)
            cur = conn.execute(
                f"INSERT INTO pain ({', '.join(row)}, deleted, created_at, updated_at)"
                f" VALUES ({', '.join('?' for _ in row)}, 0, ?, ?)", (*row.values(), now, now))
            conn.execute("COMMIT")
            commits.committed()
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        return int(cur.lastrowid)
    except sqlite3.Error:
        return None
    finally:
        conn.close()


def settings(db: str | os.PathLike | None) -> Settings | None:
    """The runner's settings from the store at ``db`` (as ``Store.settings`` reads them), or None when the full
    store must read them (see the module's docstring)."""
    return _read(db, lambda conn: Settings.from_strings(dict(conn.execute("SELECT key, value FROM settings"))))


def morning_scores(db: str | os.PathLike | None, before) -> list[int] | None:
    """The scores of the live next-morning pain entries dated before ``before`` (a date), or None when the
    full store must read them (see the module's docstring)."""
    return _read(db, lambda conn: [int(r[0]) for r in conn.execute(
        "SELECT score FROM pain WHERE NOT deleted AND timing = 'next_morning' AND at_local < ?",
        (before.isoformat(),))])


#: The raw columns an activity row is read from (``Store.activities``' own, before ``effective``).
_ACTIVITY_SQL = (
    "id, source, format, sport, sub_sport, start_utc, utc_offset_s, elapsed_s, moving_s, distance_m, ascent_m,"
    " descent_m, avg_hr_bpm, max_hr_bpm, avg_cadence_spm, device, partial, sport_inferred, surface_override, rpe,"
    " warnings, excluded_reason, name, meta_sport, meta_surface, sport_override, distance_override_m,"
    " name_override, surface, confirmed")


def _number(value) -> float | None:
    """A figure as ``float``, None when missing or not a finite number (NaN in ``Store.activities``)."""
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _warnings(text) -> list[str]:
    try:
        value = json.loads(text) if text else []
    except (TypeError, ValueError):
        return []
    return [str(v) for v in value] if isinstance(value, list) else []


def _start_utc(text: str) -> datetime:
    start = datetime.fromisoformat(text)
    return start.replace(tzinfo=UTC) if start.tzinfo is None else start.astimezone(UTC)


def _effective(raw: dict, default_surface: str | None) -> dict:
    """One row as :func:`loadwatch.ingest.activity_fixes.effective` gives it: the runner's sport > the archive's >
    the file's, the runner's distance and name first, the surface hint (archive > file > the default for
    a run), a confirmed or corrected activity no longer left out."""
    row = dict(raw)
    row["sport_from_file"] = raw["sport"]
    row["sport"] = next((s for s in (raw["sport_override"], raw["meta_sport"]) if s is not None), raw["sport"])
    distance = _number(raw["distance_override_m"])
    row["distance_m"] = distance if distance is not None else _number(raw["distance_m"])
    if raw["name_override"] is not None:
        row["name"] = raw["name_override"]
    hint = raw["meta_surface"] if raw["meta_surface"] is not None else raw["surface"]
    if hint is None and default_surface and row["sport"] == "running":
        hint = default_surface
    row["surface_hint"] = hint
    confirmed = bool(raw["confirmed"] or 0) or raw["sport_override"] is not None or distance is not None
    if confirmed:
        row["excluded_reason"] = None
    row["warnings"] = _warnings(raw["warnings"])
    row["corrected"] = confirmed or raw["name_override"] is not None or raw["surface_override"] is not None
    row["partial"], row["sport_inferred"] = bool(raw["partial"] or 0), bool(raw["sport_inferred"] or 0)
    row["start_utc"] = _start_utc(raw["start_utc"])
    for col in ("utc_offset_s", "elapsed_s", "moving_s", "ascent_m", "descent_m", "avg_hr_bpm", "max_hr_bpm",
                "avg_cadence_spm", "rpe"):
        row[col] = _number(raw[col])
    for col in ("meta_sport", "meta_surface", "sport_override", "distance_override_m", "name_override", "surface",
                "confirmed"):
        del row[col]
    return row


def _borrow_offsets(rows: list[dict]) -> None:
    """A row without ``utc_offset_s`` takes the nearest (by start) row's that has one, no more than
    :data:`BORROW_WITHIN_DAYS` away (as ``loadwatch.ingest.local_time.borrow_watch_offsets``)."""
    known = sorted((r["start_utc"], r["utc_offset_s"]) for r in rows if r["utc_offset_s"] is not None)
    if not known or len(known) == len(rows):
        return
    starts = [k[0] for k in known]
    within = timedelta(days=BORROW_WITHIN_DAYS)
    for r in rows:
        if r["utc_offset_s"] is not None:
            continue
        i = bisect.bisect_left(starts, r["start_utc"])
        near = [k for k in known[max(i - 1, 0):i + 1] if abs(k[0] - r["start_utc"]) <= within]
        if near:
            r["utc_offset_s"] = min(near, key=lambda k: abs(k[0] - r["start_utc"]))[1]


def _activity_rows(conn: sqlite3.Connection) -> tuple[Settings, list[dict]]:
    """(the settings, every activity as ``Store.activities`` gives it) over an open connection."""
    raw = dict(conn.execute("SELECT key, value FROM settings").fetchall())
    settings = Settings.from_strings(raw)
    cur = conn.execute(f"SELECT {_ACTIVITY_SQL} FROM activities ORDER BY start_ts, id")
    names = [d[0] for d in cur.description]
    rows = [_effective(dict(zip(names, r, strict=True)), settings.default_surface) for r in cur.fetchall()]
    if "timezone" not in raw:
        _borrow_offsets(rows)
    return settings, rows


def local_day(row: dict, timezone: str) -> date:
    """An activity's local calendar day, as ``metrics.daily.local_starts`` places it: its start plus its
    (own or borrowed) UTC offset, else its start in the runner's ``timezone``."""
    if row["utc_offset_s"] is not None:
        return (row["start_utc"] + timedelta(seconds=row["utc_offset_s"])).date()
    from zoneinfo import ZoneInfo

    return row["start_utc"].astimezone(ZoneInfo(timezone or "UTC")).date()


def run_days(conn: sqlite3.Connection) -> dict[str, tuple[date, bool]]:
    """Every activity's local day and whether it counts as a run that day (running, not left out of the
    metrics): activity id -> (day, counts)."""
    settings, rows = _activity_rows(conn)
    return {r["id"]: (local_day(r, settings.timezone), r["sport"] == "running" and r["excluded_reason"] is None)
            for r in rows}


def check_run_link(conn: sqlite3.Connection, entry: PainEntry) -> None:
    """``ValueError`` when ``entry`` names an activity the store does not hold; ``painlog.RunLinkError`` when
    the run was on a day the entry cannot be about (:func:`loadwatch.ingest.painlog.check_link_day`).  The
    one check of both writers: this light path and ``ingest.pain.add``/``update``."""
    if entry.activity_id is None:
        return
    found = run_days(conn).get(str(entry.activity_id))
    if found is None:
        raise ValueError(f"no activity with id {entry.activity_id}")
    check_link_day(entry, found[0])


def _read(db: str | os.PathLike | None, query):
    """``query(conn)`` in one read snapshot of the store at ``db``; None when the full store must answer."""
    conn = _connect(db)
    if conn is None:
        return None
    try:
        conn.execute("BEGIN")
        out = query(conn)
        conn.execute("COMMIT")
    except (sqlite3.Error, ValueError):
        return None
    finally:
        conn.close()
    return out


def ids_starting(db: str | os.PathLike | None, start: str) -> list[str] | None:
    """The ids of the activities whose id is ``start`` or starts with it (``pain add --run``'s "a unique start
    of it"); None when the full store must answer."""
    return _read(db, lambda conn: [r[0] for r in conn.execute(
        "SELECT id FROM activities WHERE substr(id, 1, ?) = ? ORDER BY id", (len(start), start))])


def run_day(db: str | os.PathLike | None, activity_id: str) -> date | None:
    """An activity's local day (:func:`run_days`), None when the store does not hold it or the full store
    must answer."""
    found = _read(db, lambda conn: run_days(conn).get(str(activity_id)))
    return None if found is None else found[0]


def ran_on(db: str | os.PathLike | None, day: date) -> bool | None:
    """Whether the runner ran on the local ``day`` (a run counted in the metrics), from the store at ``db``;
    None when the full store must answer (``Store.ran_on``)."""
    days = _read(db, run_days)
    return None if days is None else any(counts and d == day for d, counts in days.values())


def activities(db: str | os.PathLike | None) -> tuple[Settings, list[dict], dict[str, str]] | None:
    """(the runner's settings; every activity as ``Store.activities`` gives it, one dict per
    row with None for a missing figure; activity id -> the pair of shoes it was in) from the store at
    ``db``, or None when the full store must read it (see the module's docstring)."""
    def read(conn):  # one snapshot: settings, activities and shoes as one moment saw them
        settings, rows = _activity_rows(conn)
        shoes = dict(conn.execute("SELECT a.activity_id, s.name FROM activity_shoes a"
                                  " JOIN shoes s ON s.id = a.shoe_id").fetchall())
        return settings, rows, shoes

    return _read(db, read)


#: Tables a fingerprint leaves out: the kept original files and the import's record of them, which no
#: report reads (a new or rebuilt activity changes ``activities`` itself).
UNREAD_TABLES: tuple[str, ...] = ("originals", "files")


def fingerprint(db: str | os.PathLike | None) -> tuple[str, Settings] | None:
    """(a digest of everything the store holds but :data:`UNREAD_TABLES`, the runner's settings) from the
    store at ``db``, or None when the full store must be opened.  Any write that changes what a report
    reads (an activity, a correction, a pain entry, an assessment, a setting, a rule...) changes the
    digest: the report's cache (``loadwatch.dashboard.report_cache``) is keyed by it."""
    with Watch(db) as watch:
        return watch.fingerprint()


class Watch:
    """A read-only look at the store at ``db``: its :meth:`fingerprint`, and whether any write has been
    committed since the look began (:meth:`changed`, SQLite's ``PRAGMA data_version``), so a report
    computed meanwhile is known to match the fingerprint without digesting the store a second time."""

    def __init__(self, db: str | os.PathLike | None):
        self.conn = _connect(db)
        self._version = self._data_version()

    def __enter__(self) -> Watch:
        return self

    def __exit__(self, *exc) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def _data_version(self) -> int | None:
        try:
            return self.conn.execute("PRAGMA data_version").fetchone()[0] if self.conn is not None else None
        except sqlite3.Error:
            return None

    def changed(self) -> bool:
        """Whether another connection has committed a write since the look began (True when unknown)."""
        return self._version is None or self._data_version() != self._version

    def fingerprint(self) -> tuple[str, Settings] | None:
        """See :func:`fingerprint`; None when the full store must be opened."""
        import hashlib

        conn = self.conn
        if conn is None:
            return None
        digest = hashlib.blake2b(digest_size=20)
        try:
            conn.execute("BEGIN")  # one snapshot
            tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
            for table in tables:
                if table in UNREAD_TABLES:
                    continue
                rows = conn.execute(f'SELECT * FROM "{table}" ORDER BY rowid').fetchall()
                digest.update(repr((table, [tuple(v for v in r if not isinstance(v, bytes)) for r in rows])).encode())
                for r in rows:  # the heart-rate histograms: their bytes, not their repr (three times faster)
                    for v in r:
                        if isinstance(v, bytes):
                            digest.update(len(v).to_bytes(8, "little") + v)
            settings = Settings.from_strings(dict(conn.execute("SELECT key, value FROM settings").fetchall()))
            conn.execute("COMMIT")
        except (sqlite3.Error, ValueError):
            return None
        return digest.hexdigest(), settings
