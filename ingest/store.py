"""The local store: one SQLite file holding files, originals, activities, pain, settings and rules.

Health data: the file is created ``0600`` inside a ``0700`` folder and never leaves the machine.  The
store is safe to open from several processes at once (two dashboard tabs, a CLI import running beside
the dashboard): WAL journal, a 10 s busy timeout, and every write is one ``BEGIN IMMEDIATE`` transaction,
so a process killed mid-write leaves each change all-or-nothing.

``PRAGMA user_version`` is the schema version.  :data:`MIGRATIONS` are applied in order, each in its own
transaction; version 1 is the full first schema.  A store written by a newer loadwatch is refused with a
clear message rather than misread.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import sqlite3
import threading
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

try:  # the kept originals' compression: the standard library's from Python 3.14, its backport before
    from compression import zstd
except ImportError:
    from backports import zstd

from ingest import activity_fixes as fixes
from ingest import assessments as _assessments
from ingest import local_time as _local_time
from ingest import outcomes as _outcomes
from ingest import programmes as _programmes
from ingest import sessions as _sessions
from ingest import shoes as _shoes
from ingest.canonical import HR_BINS, Activity, Summary, as_block
from ingest.painlog import PainEntry, validate
from ingest.painlog import pain_row as _pain_to_row
from ingest.private_files import make_private_dirs
from ingest.settings import Settings, format_setting, parse_setting
from ingest.store_errors import check_intact, plain_error

#: WAL pages (4 kB each) an import lets grow before a checkpoint (see :meth:`Store.bulk_writes`): 64 MB.
BULK_CHECKPOINT_PAGES: int = 16_384

#: Seconds a writer waits for another process's transaction before giving up.
BUSY_TIMEOUT_S: float = 10.0

#: Zstandard level for the kept original files (``compression.zstd``, the standard library's from Python
#: 3.14, its backport before).  Measured on generated 1-h 1 Hz files (``benchmarks/bench_import.py``): FIT
#: 108 kB -> 78 kB in 0.29 ms at level 1 (75 kB in 0.58 ms at 3; zlib level 1, used before: 75 kB in
#: 1.9 ms); GPX 839 kB -> 52 kB in 0.63 ms at level 1 (zlib level 6: 51 kB in 5.6 ms).  Level 1: the
#: import's hot path spends a sixth of what zlib cost for about the same space.
ORIGINAL_ZSTD_LEVEL: int = 1

#: The first bytes of a Zstandard frame; blobs written before it are gzip (``1f 8b``) and still read.
_ZSTD_MAGIC: bytes = b"\x28\xb5\x2f\xfd"

#: Two activities of the same sport family are the same run when their time spans overlap by at least
#: this fraction of the shorter one (the same run exported twice, e.g. FIT from the watch and GPX from
#: Strava).
SAME_RUN_OVERLAP_FRAC: float = 0.5

#: On equal richness the kept file is the one whose format ranks higher.
FORMAT_RANK: dict[str, int] = {"fit": 3, "tcx": 2, "gpx": 1}

SURFACES: tuple[str, ...] = ("road", "trail", "track", "treadmill", "unknown")

#: Columns of :meth:`Store.activities`, with their dtypes.
ACTIVITY_DTYPES: dict[str, str] = {
    "id": "object",
    "source": "object",
    "format": "object",
    "sport": "object",
    "sub_sport": "object",
    "start_utc": "datetime64[ns, UTC]",
    "utc_offset_s": "float64",
    "elapsed_s": "float64",
    "moving_s": "float64",
    "distance_m": "float64",
    "ascent_m": "float64",
    "descent_m": "float64",
    "avg_hr_bpm": "float64",
    "max_hr_bpm": "float64",
    "avg_cadence_spm": "float64",
    "avg_vertical_oscillation_mm": "float64",
    "avg_stance_time_ms": "float64",
    "avg_step_length_mm": "float64",
    "device": "object",
    "partial": "bool",
    "sport_inferred": "bool",
    "surface_override": "object",
    "rpe": "float64",
    "imported_at": "datetime64[ns, UTC]",
    # issue 12: see ingest.activity_fixes.effective
    "warnings": "object",
    "excluded_reason": "object",
    "name": "object",
    "surface_hint": "object",
    "sport_from_file": "object",
    "corrected": "bool",
}
ACTIVITY_COLUMNS: tuple[str, ...] = tuple(ACTIVITY_DTYPES)

PAIN_COLUMNS: tuple[str, ...] = (
    "id", "at_local", "score", "timing", "location", "activity_id", "symptoms", "note", "deleted",
)

RULE_OPS: tuple[str, ...] = (">", ">=", "<", "<=")
RULE_SCOPES: tuple[str, ...] = ("week", "run")
RULE_ORIGINS: tuple[str, ...] = ("user", "suggested")

_FLOAT_SUMMARY = (
    "utc_offset_s", "elapsed_s", "moving_s", "distance_m", "ascent_m", "descent_m", "avg_hr_bpm", "max_hr_bpm",
    "avg_cadence_spm", "avg_vertical_oscillation_mm", "avg_stance_time_ms", "avg_step_length_mm",
)
# Summary figures that exist only when the file carried the matching channel: a proxy for richness when
# the samples are not at hand (rows written before schema v2; see estimated_richness).
_CHANNEL_PROXIES = (
    "distance_m", "ascent_m", "avg_hr_bpm", "avg_cadence_spm", "avg_vertical_oscillation_mm",
    "avg_stance_time_ms", "avg_step_length_mm",
)
# Sports that are the same outing when their times overlap.
_SPORT_FAMILY = {"running": "foot", "walking": "foot", "hiking": "foot"}


# activities() columns computed by activity_fixes.effective, and the raw columns it reads
_EFFECTIVE_ONLY = ("surface_hint", "sport_from_file", "corrected")
_RAW_FIX_COLUMNS = ("meta_sport", "meta_surface", "sport_override", "distance_override_m", "name_override",
                    "surface", "route", "rules_version", "confirmed")

#: A copy whose clock is shifted by whole hours: at most this many hours [h] (UTC-12 .. UTC+14) ...
MAX_CLOCK_SHIFT_H: int = 14
#: ... within this many seconds of a whole hour ...
CLOCK_SHIFT_SLACK_S: float = 120.0
#: ... with the same distance and duration within this fraction (issue 12: +-1 %).
CLOCK_SHIFT_TOLERANCE_FRAC: float = 0.01

#: Sports that say nothing about the sport: they match any sport when looking for twins.
UNTYPED_SPORTS: tuple[str, ...] = ("other", "generic", "unknown")


class StoreVersionError(ValueError):
    """The store was written by a newer loadwatch than this one."""


@dataclass(frozen=True)
class StoreResult:
    """What :meth:`Store.add_activity` did.

    ``outcome``: ``imported`` (new activity), ``duplicate`` (nothing new: ``activity_id`` is the activity
    the file belongs to) or ``replaced`` (the file is a richer copy of ``duplicate_of``, which it
    replaced).  ``reason`` is a sentence for the runner.
    """

    outcome: str
    activity_id: str
    duplicate_of: str | None = None
    reason: str = ""


@dataclass
class Rule:
    """A personal alert rule.  ``threshold`` is in the metric's units (km, min, %); valid ``metric``
    names are ``metrics.rules.RULE_METRICS`` (checked by the faces: ingest does not import metrics)."""

    id: int | None
    metric: str
    threshold: float
    op: str = ">"
    scope: str = "week"
    enabled: bool = True
    label: str = ""
    origin: str = "user"

    def __post_init__(self):
        if not isinstance(self.metric, str) or not self.metric:
            raise ValueError("a rule needs a metric name")
        try:
            self.threshold = float(self.threshold)
        except (TypeError, ValueError):
            raise ValueError(f"rule threshold must be a number (got {self.threshold!r})") from None
        if not math.isfinite(self.threshold):
            raise ValueError(f"rule threshold must be a number (got {self.threshold!r})")
        if self.op not in RULE_OPS:
            raise ValueError(f"rule op must be one of {' '.join(RULE_OPS)} (got {self.op!r})")
        if self.scope not in RULE_SCOPES:
            raise ValueError(f"rule scope must be one of {', '.join(RULE_SCOPES)} (got {self.scope!r})")
        if self.origin not in RULE_ORIGINS:
            raise ValueError(f"rule origin must be one of {', '.join(RULE_ORIGINS)} (got {self.origin!r})")
        self.enabled = bool(self.enabled)
        self.label = str(self.label or "")


# --- paths -----------------------------------------------------------------------------------------------

def _data_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir("loadwatch"))


def default_db_path() -> Path:
    """``$LOADWATCH_DB``, else ``<user data dir>/loadwatch.sqlite3``."""
    env = os.environ.get("LOADWATCH_DB")
    return Path(env).expanduser() if env else _data_dir() / "loadwatch.sqlite3"


def demo_db_path() -> Path:
    """The demo store, kept apart from the runner's own: ``demo.sqlite3`` beside the default store."""
    return default_db_path().parent / "demo.sqlite3"


# --- schema ----------------------------------------------------------------------------------------------

def _migrate_v1(conn: sqlite3.Connection) -> None:
    """The first schema: everything."""
    # executescript() would COMMIT the migration transaction: run the statements one by one instead
    for stmt in _V1_SCHEMA.split(";"):
        if stmt.strip():
            conn.execute(stmt)


_V1_SCHEMA = """
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


def _migrate_v2(conn: sqlite3.Connection) -> None:
    """v2: ``activities.richness`` (channels the file carried, used to keep the richer of two copies of
    one run) and an index on start time for the overlap search and range queries.  Rows from v1 get a
    richness estimated from which summary figures they have."""
    conn.execute("ALTER TABLE activities ADD COLUMN richness INTEGER")
    cols = ", ".join(_CHANNEL_PROXIES)
    rows = conn.execute(f"SELECT id, format, {cols} FROM activities").fetchall()
    for row in rows:
        richness = estimated_richness(dict(zip(_CHANNEL_PROXIES, row[2:], strict=True)), row[1])
        conn.execute("UPDATE activities SET richness = ? WHERE id = ?", (richness, row[0]))
    conn.execute("CREATE INDEX activities_start ON activities(start_ts)")


#: The end of an activity as the overlap search computes it (the expression the ``activities_end``
#: index is built on: the search must spell it the same way to use it).
_END_EXPR = "start_ts + COALESCE(elapsed_s, 0)"


def _migrate_end_index(conn: sqlite3.Connection) -> None:
    """An index on each activity's end time: the same-run search asks for activities that end after the
    new one starts, and through the start-time index alone that meant reading every earlier activity for
    each new file (an import of years of history grew as the square of its length)."""
    conn.execute(f"CREATE INDEX activities_end ON activities({_END_EXPR})")


def _migrate_descent(conn: sqlite3.Connection) -> None:
    """``activities.descent_m``: the total descent, read like the climb.  Rows written before it have
    none (NaN, never 0) until ``loadwatch rebuild`` re-reads their kept originals."""
    if "descent_m" not in {row[1] for row in conn.execute("PRAGMA table_info(activities)")}:
        conn.execute("ALTER TABLE activities ADD COLUMN descent_m REAL")


MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [
    _migrate_v1, _migrate_v2, _assessments.migrate, fixes.migrate, _shoes.migrate, _sessions.migrate,
    _migrate_end_index, _assessments.migrate_decision, _outcomes.migrate, _programmes.migrate, _migrate_descent,
]
SCHEMA_VERSION: int = len(MIGRATIONS)

#: ``correct_activity(shoe=...)`` not given: the run's pair is left as it is.
_KEEP = object()


# --- helpers ---------------------------------------------------------------------------------------------

def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _float_or_none(value) -> float | None:
    if value is None:
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def compress_original(data: bytes, fmt: str | None = None) -> bytes:
    """The kept original: a Zstandard frame at :data:`ORIGINAL_ZSTD_LEVEL` (``fmt`` is accepted for
    callers that name the format; every format uses the same level)."""
    return zstd.compress(bytes(data), ORIGINAL_ZSTD_LEVEL)


def decompress_original(blob: bytes) -> bytes:
    """The original file's bytes from a kept blob: Zstandard, or gzip/zlib for stores written before."""
    blob = bytes(blob)
    if blob[:4] == _ZSTD_MAGIC:
        return zstd.decompress(blob)
    return zlib.decompress(blob, 47)  # 32 + 15: gzip or zlib header


def samples_richness(samples) -> int:
    """Number of canonical sample channels that hold at least one value (``samples``: a frame or a
    :class:`~ingest.canonical.SampleBlock`)."""
    if samples is None or len(samples) == 0:
        return 0
    return int(np.isfinite(as_block(samples).values).any(axis=0).sum())


def estimated_richness(figures: dict, fmt: str | None) -> int:
    """Channel count estimated from summary figures, on the same scale as :func:`samples_richness`
    (used when the samples are not at hand, e.g. rows written before schema v2): a distance implies
    distance and speed, an ascent elevation, an average HR / cadence / dynamics figure that channel, and
    GPS (lat + lon) is assumed for GPX and for any file with a distance."""

    def has(key: str) -> bool:
        return _float_or_none(figures.get(key)) is not None

    n = 0
    if has("distance_m"):
        n += 2
    n += sum(1 for k in ("ascent_m", "avg_hr_bpm", "avg_cadence_spm", "avg_vertical_oscillation_mm",
                         "avg_stance_time_ms", "avg_step_length_mm") if has(k))
    if fmt == "gpx" or has("distance_m"):
        n += 2
    return n


def summary_richness(summary: Summary) -> int:
    """:func:`estimated_richness` of a :class:`Summary`."""
    return estimated_richness({c: getattr(summary, c) for c in _CHANNEL_PROXIES}, summary.format)


def _family(sport: str | None) -> str:
    return _SPORT_FAMILY.get(sport or "other", sport or "other")


def _sports_match(sport_a, inferred_a: bool, sport_b, inferred_b: bool) -> bool:
    """Could two activities be the same outing by their sports?  The same family, or either sport is
    untyped or only a guess (overlapping time is the stronger evidence then)."""
    if inferred_a or inferred_b:
        return True
    if (sport_a or "other") in UNTYPED_SPORTS or (sport_b or "other") in UNTYPED_SPORTS:
        return True
    return _family(sport_a) == _family(sport_b)


def from_watch(fmt, device, utc_offset_s) -> bool:
    """Was the file written by the watch itself?  A FIT file that names its maker and its model
    (``device`` is "maker model") and knows its UTC offset.  A program's re-save (GoldenCheetah, an
    exporter) drops one of them: it writes no model, or local time as UTC without an offset."""
    maker, _, model = str(device or "").partition(" ")
    return fmt == "fit" and bool(maker) and bool(model.strip()) and _float_or_none(utc_offset_s) is not None


def _keep_key(partial: bool, sport, inferred: bool, distance_m, richness: int, fmt, watch: bool = False) -> tuple:
    """Which of two copies of one run is kept: the larger key.  A complete file beats a partial one,
    then the watch's own file beats a re-save of it (:func:`from_watch`: whatever the order they came in,
    a program's copy never beats the device's file, whose clock and time zone are the run's), then a file
    that knows its sport, then one with a distance, then more channels, then FIT > TCX > GPX."""
    typed = (sport or "other") not in UNTYPED_SPORTS and not inferred
    has_distance = (_float_or_none(distance_m) or 0.0) > 0
    return (not partial, bool(watch), typed, has_distance, int(richness or 0), FORMAT_RANK.get(fmt, 0))


def keep_key(summary: Summary, richness: int) -> tuple:
    """:func:`_keep_key` of a file just read."""
    return _keep_key(bool(summary.partial), summary.sport, bool(summary.sport_inferred), summary.distance_m,
                     richness, summary.format, from_watch(summary.format, summary.device, summary.utc_offset_s))


def stored_keep_key(conn: sqlite3.Connection, activity_id: str) -> tuple[tuple, str]:
    """(:func:`_keep_key`, file name) of an activity already in the store: the one rule import and rebuild
    both compare a new copy of a run with."""
    row = conn.execute(
        "SELECT a.richness, a.format, a.partial, a.sport, a.sport_inferred, a.distance_m, a.device,"
        " a.utc_offset_s, f.file_name FROM activities a JOIN files f ON f.content_hash = a.file_hash"
        " WHERE a.id = ?", (activity_id,)).fetchone()
    richness, fmt, partial, sport, inferred, distance, device, offset, name = row
    return _keep_key(bool(partial), sport, bool(inferred), distance, richness or 0, fmt,
                     from_watch(fmt, device, offset)), name


def _hist_blob(hist) -> bytes | None:
    if hist is None:
        return None
    arr = np.asarray(hist, dtype="<f8").reshape(-1)
    if arr.size != HR_BINS:
        raise ValueError(f"heart-rate histogram must have {HR_BINS} bins (got {arr.size})")
    return arr.tobytes()


_PAIN_FIELDS = ("at_local", "score", "timing", "location", "activity_id", "symptoms", "note")


class Store:
    """The loadwatch store (one SQLite connection; a context manager).

    ``path``: the SQLite file; ``None`` = :func:`default_db_path`.  Opening creates the file (``0600``)
    and applies pending migrations.
    """

    def __init__(self, path: str | os.PathLike | None = None, *, read_only: bool = False):
        self.path = Path(path).expanduser() if path is not None else default_db_path()
        self.read_only = bool(read_only)
        self._lock = threading.RLock()
        #: Where the store was backed up before a schema migration (None when none was needed).
        self.backup_path: Path | None = None
        self._conn = None
        try:
            if self.read_only:
                self._conn = self._connect_read_only()
                return
            self._prepare_file()
            # bytes: a path that is not UTF-8 (kept by Python as surrogates) still opens
            self._conn = sqlite3.connect(
                os.fsencode(self.path), timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
            )
            self._conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            # before anything is written (WAL mode, a migration): a damaged store is named, never touched
            check_intact(self._conn, self.path)
            self._conn.execute("PRAGMA journal_mode = WAL")
            self._conn.execute("PRAGMA synchronous = NORMAL")
            self._conn.execute("PRAGMA foreign_keys = ON")
            self.schema_version = self._migrate()
        except BaseException as exc:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
            if isinstance(exc, (sqlite3.Error, OSError)) and not (read_only and isinstance(exc, FileNotFoundError)):
                raise plain_error(exc, self.path) from exc
            raise

    # --- lifecycle -------------------------------------------------------------------------------------
    def _connect_read_only(self) -> sqlite3.Connection:
        """``read_only=True`` (a coach's view of a runner's store, e.g. the cohort dashboard): nothing is
        created or migrated, and SQLite refuses any write.  The store must exist and be at this
        loadwatch's schema version."""
        if not self.path.is_file():
            raise FileNotFoundError(f"no loadwatch store at {self.path}")
        conn = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S,
                               isolation_level=None, check_same_thread=False)
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version != SCHEMA_VERSION:
                newer = version > SCHEMA_VERSION
                raise StoreVersionError(
                    f"{self.path} is at store version {version}; this loadwatch reads version {SCHEMA_VERSION} "
                    + ("(upgrade loadwatch to open it)" if newer else "(open it once with loadwatch to upgrade it)")
                    + " and opens it read-only here, so it was not changed.")
        except BaseException:
            conn.close()
            raise
        self.schema_version = version
        return conn

    def _prepare_file(self) -> None:
        make_private_dirs(self.path.parent)  # every folder we create is 0700
        if not self.path.exists():
            fd = os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600)
            os.close(fd)
            os.chmod(self.path, 0o600)

    def _migrate(self) -> int:
        version = self._conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreVersionError(
                f"{self.path} was written by a newer loadwatch (store version {version}; this loadwatch "
                f"knows up to {SCHEMA_VERSION}). Upgrade loadwatch to open it; the file was not changed."
            )
        if 0 < version < SCHEMA_VERSION:
            self.backup_path = self.backup(self.path.with_name(f"{self.path.name}.v{version}.bak"))
        while version < SCHEMA_VERSION:
            with self._tx() as conn:
                # another process may have migrated while we waited for the write lock
                version = conn.execute("PRAGMA user_version").fetchone()[0]
                if version >= SCHEMA_VERSION:
                    break
                MIGRATIONS[version](conn)
                version += 1
                conn.execute(f"PRAGMA user_version = {version}")
        return version

    def backup(self, target: str | os.PathLike) -> Path:
        """Copy the whole store to ``target`` with SQLite's online backup API (consistent even while
        another process writes); the copy is ``0600`` like the store."""
        target = Path(target)
        fd = os.open(target, os.O_CREAT | os.O_RDWR, 0o600)
        os.close(fd)
        os.chmod(target, 0o600)
        dest = sqlite3.connect(str(target))
        try:
            with self._lock:
                self._conn.backup(dest)
        finally:
            dest.close()
        return target

    @contextmanager
    def bulk_writes(self) -> Iterator[None]:
        """Many small transactions in a row (an import): the WAL is copied into the database - a checkpoint,
        with its two fsyncs - once at the end instead of every :data:`sqlite3` default 1,000 pages (every ~50
        one-hour files).  Every transaction stays its own, committed as before; a power cut may lose the
        import's last transactions, never corrupt the store (SQLite's WAL with ``synchronous=NORMAL``)."""
        with self._lock:
            conn = self._conn
            if conn is None:
                raise ValueError("the store is closed")
            conn.execute(f"PRAGMA wal_autocheckpoint = {BULK_CHECKPOINT_PAGES}")
        try:
            yield
        finally:
            with self._lock:
                if self._conn is not None:
                    try:
                        self._conn.execute("PRAGMA wal_autocheckpoint = 1000")
                        self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
                    except sqlite3.Error:
                        pass  # a full disk: the WAL is checkpointed by the next write that can

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: ``BEGIN IMMEDIATE`` (takes the write lock up front, so two writers
        queue on the busy timeout instead of failing mid-way), commit, or roll back on any exception."""
        with self._lock:
            conn = self._conn
            if conn is None:
                raise ValueError("the store is closed")
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    yield conn
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                if conn.in_transaction:
                    try:
                        conn.execute("ROLLBACK")
                    except sqlite3.Error:
                        pass
                raise plain_error(exc, self.path) from exc

    def _query(self, sql: str, params: Iterable = ()) -> list[tuple]:
        with self._lock:
            if self._conn is None:
                raise ValueError("the store is closed")
            try:
                return self._conn.execute(sql, tuple(params)).fetchall()
            except sqlite3.Error as exc:
                raise plain_error(exc, self.path) from exc

    # --- files and activities --------------------------------------------------------------------------
    def file_outcome(self, content_hash: str) -> dict | None:
        """What happened to the file with this sha256 before: ``{"outcome", "activity_id", "reason",
        "file_name"}``, or None for a file never seen (failed files are not remembered)."""
        rows = self._query(
            "SELECT outcome, activity_id, reason, file_name FROM files WHERE content_hash = ?", (content_hash,)
        )
        if not rows:
            return None
        outcome, activity_id, reason, file_name = rows[0]
        return {"outcome": outcome, "activity_id": activity_id, "reason": reason, "file_name": file_name}

    def record_skipped(self, content_hash: str, file_name: str, reason: str) -> None:
        """Remember a file that is not an activity so a re-import recognises it without reading it."""
        with self._tx() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO files (content_hash, file_name, format, outcome, activity_id, reason,"
                " imported_at) VALUES (?, ?, NULL, 'skipped', NULL, ?, ?)",
                (content_hash, str(file_name), str(reason), _now_iso()),
            )

    def add_activity(
        self,
        activity: Activity,
        original: bytes,
        file_name: str,
        *,
        richness: int | None = None,
        n_samples: int | None = None,
        compressed: bytes | None = None,
        content_hash: str | None = None,
        route: str | None = None,
    ) -> StoreResult:
        """Add one imported file and its activity, in one transaction.

        ``original``: the file's bytes (kept Zstandard-compressed, for the detail view and so nothing the
        runner gave is lost).  ``richness``: how many sample channels the file carried (default: counted
        from ``activity.samples``, else estimated from the summary).  ``compressed``: the original already
        made by :func:`compress_original` and ``content_hash`` its sha256 hex, when the caller has them
        (the importer's workers compress in parallel, keeping this single writer light).

        Dedup: a file whose sha256 is known is a ``duplicate``.  Otherwise an activity of the same sport
        family whose time span overlaps this one by >= :data:`SAME_RUN_OVERLAP_FRAC` of the shorter is
        the same run: the richer file is kept (more channels, then FIT > TCX > GPX; the one already kept
        on a full tie).  When the new file wins it ``replaced`` the old activity: pain links, surface
        override and RPE move to the new id, and the old file stays recorded (and kept) as a duplicate.
        """
        s = activity.summary
        original = bytes(original)
        content_hash = content_hash or hashlib.sha256(original).hexdigest()
        block = activity.block if (richness is None or n_samples is None or route is None) else None
        if richness is None:
            richness = samples_richness(block) if len(block) else summary_richness(s)
        if n_samples is None and len(block):
            n_samples = len(block)
        if route is None:
            route = fixes.route_of(block)
        start = pd.Timestamp(s.start_utc)
        start = start.tz_localize("UTC") if start.tzinfo is None else start.tz_convert("UTC")
        start_ts = start.value / 1e9
        elapsed = _float_or_none(s.elapsed_s) or 0.0
        end_ts = start_ts + elapsed
        activity_id = str(s.id or content_hash)
        now = _now_iso()
        name = str(file_name)

        with self._tx() as conn:
            known = conn.execute(
                "SELECT outcome, activity_id, file_name FROM files WHERE content_hash = ?", (content_hash,)
            ).fetchone()
            if known is not None:
                return StoreResult("duplicate", known[1], known[1], f"already imported as {known[2]}")
            same_id = conn.execute("SELECT id FROM activities WHERE id = ?", (activity_id,)).fetchone()
            match = same_id and (activity_id, 1.0)
            if not match:
                match = self._overlapping(conn, s.sport, start_ts, end_ts, s.sport_inferred)
            if not match:
                match = self._clock_shifted(conn, s, start_ts)

            def add_file_rows(outcome: str, points_to: str, reason: str) -> None:
                conn.execute(
                    "INSERT INTO files (content_hash, file_name, format, outcome, activity_id, reason, imported_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (content_hash, name, s.format, outcome, points_to, reason, now),
                )
                conn.execute(
                    "INSERT INTO originals (content_hash, file_name, data, size_bytes) VALUES (?, ?, ?, ?)",
                    (content_hash, name, compressed if compressed is not None else compress_original(original, s.format),
                     len(original)),
                )

            new_key = keep_key(s, richness)
            if match:
                old_id = match[0]
                old_key, old_name = stored_keep_key(conn, old_id)
                old_partial = not old_key[0]
                if activity_id == old_id or new_key <= old_key:
                    reason = f"same run as {old_name}, which is kept"
                    add_file_rows("duplicate", old_id, reason)
                    return StoreResult("duplicate", old_id, old_id, reason)
                why = ("the other file was cut short" if old_partial and not s.partial else
                       "this is the watch's own file" if new_key[1] and not old_key[1] else "this file has more data")
                add_file_rows("imported", activity_id, f"replaced {old_name} ({why})")
                carried = dict(zip(fixes.CARRIED_COLUMNS, conn.execute(
                    f"SELECT {', '.join(fixes.CARRIED_COLUMNS)} FROM activities WHERE id = ?", (old_id,)).fetchone(),
                    strict=True))
                self._insert_activity(conn, activity_id, content_hash, s, start, start_ts, richness, n_samples,
                                      now, route=route, carried=carried)
                self._relink_pain(conn, old_id, activity_id, now)
                _shoes.relink(conn, old_id, activity_id)
                _shoes.assign_default(conn, activity_id, s.sport)
                conn.execute("UPDATE files SET activity_id = ? WHERE activity_id = ?", (activity_id, old_id))
                conn.execute(
                    "UPDATE files SET outcome = 'duplicate', reason = ? WHERE activity_id = ? AND content_hash"
                    " != ? AND outcome = 'imported'",
                    (f"same run as {name}, which replaced it ({why})", activity_id, content_hash),
                )
                conn.execute("DELETE FROM activities WHERE id = ?", (old_id,))
                folded = self._fold_clock_twin(conn, activity_id, s, start_ts, new_key, now)
                if folded is not None:
                    return folded
                return StoreResult("replaced", activity_id, old_id, f"replaced {old_name} ({why})")

            add_file_rows("imported", activity_id, "")
            self._insert_activity(conn, activity_id, content_hash, s, start, start_ts, richness, n_samples, now,
                                  route=route)
            _shoes.assign_default(conn, activity_id, s.sport)
            folded = self._fold_clock_twin(conn, activity_id, s, start_ts, new_key, now)
            if folded is not None:
                return folded
            return StoreResult("imported", activity_id, None, "")

    def _fold_clock_twin(self, conn, activity_id: str, s: Summary, start_ts: float, key: tuple, now: str):
        """The run just kept may have a clock-shifted copy already in the store that did not match the
        file it replaced (e.g. it came after a partial file of another length): fold the worse of the two
        into the better.  Returns a ``duplicate`` result when the new activity was folded away, else None."""
        twin = self._clock_shifted(conn, s, start_ts, exclude=activity_id)
        if twin is None:
            return None
        other = twin[0]
        other_key, other_name = stored_keep_key(conn, other)
        name = conn.execute("SELECT f.file_name FROM activities a JOIN files f ON f.content_hash = a.file_hash"
                            " WHERE a.id = ?", (activity_id,)).fetchone()[0]
        if key > other_key:
            self._fold(conn, other, activity_id, now, f"same run as {name} (its clock was shifted), which is kept")
            return None
        reason = f"same run as {other_name} (this file's clock is shifted), which is kept"
        self._fold(conn, activity_id, other, now, reason)
        return StoreResult("duplicate", other, other, reason)

    def _fold(self, conn, loser: str, winner: str, now: str, reason: str) -> None:
        """Merge activity ``loser`` into ``winner``: what the runner or an archive set moves where the
        winner has nothing, pain links follow, the loser's files become duplicates of the winner."""
        carried = dict(zip(fixes.CARRIED_COLUMNS, conn.execute(
            f"SELECT {', '.join(fixes.CARRIED_COLUMNS)} FROM activities WHERE id = ?", (loser,)).fetchone(),
            strict=True))
        for col, value in carried.items():
            if value is not None:
                conn.execute(f"UPDATE activities SET {col} = COALESCE({col}, ?) WHERE id = ?", (value, winner))
        self._relink_pain(conn, loser, winner, now)
        _shoes.fold(conn, loser, winner)
        conn.execute("UPDATE files SET activity_id = ?, outcome = 'duplicate', reason = ? WHERE activity_id = ?",
                     (winner, reason, loser))
        conn.execute("DELETE FROM activities WHERE id = ?", (loser,))

    def _clock_shifted(self, conn, s: Summary, start_ts: float, exclude: str | None = None):
        """(id, 1.0) of an activity this file copies with its clock shifted by whole hours (a program that
        wrote local time as UTC): same distance and duration within :data:`CLOCK_SHIFT_TOLERANCE_FRAC`,
        start a whole number of hours apart (within :data:`CLOCK_SHIFT_SLACK_S`); else None."""
        dist, elapsed = _float_or_none(s.distance_m), _float_or_none(s.elapsed_s)
        if not dist or not elapsed:
            return None
        span = MAX_CLOCK_SHIFT_H * 3600 + CLOCK_SHIFT_SLACK_S
        rows = conn.execute(
            "SELECT id, sport, sport_inferred, start_ts, elapsed_s, distance_m, utc_offset_s FROM activities"
            " WHERE start_ts BETWEEN ? AND ?", (start_ts - span, start_ts + span)).fetchall()
        offset = _float_or_none(s.utc_offset_s)
        for aid, sport, inferred, o_start, o_elapsed, o_dist, o_offset in rows:
            if aid == exclude:
                continue
            # a copy written as local time carries no offset; two files that both know their offset
            # and still start hours apart are two runs (e.g. the same treadmill session twice a day)
            if offset is not None and o_offset is not None:
                continue
            if not _sports_match(s.sport, bool(s.sport_inferred), sport, bool(inferred)):
                continue
            if not o_dist or not o_elapsed:
                continue
            shift = start_ts - o_start
            hours = round(shift / 3600)
            if hours == 0 or abs(shift - hours * 3600) > CLOCK_SHIFT_SLACK_S:
                continue
            known = offset if offset is not None else o_offset
            if known is not None and abs(abs(shift) - abs(known)) > CLOCK_SHIFT_SLACK_S:
                continue  # the shift must be the known file's own offset from UTC
            if abs(o_dist - dist) <= CLOCK_SHIFT_TOLERANCE_FRAC * max(o_dist, dist) and \
                    abs(o_elapsed - elapsed) <= CLOCK_SHIFT_TOLERANCE_FRAC * max(o_elapsed, elapsed):
                return (aid, 1.0)
        return None

    def _overlapping(self, conn, sport, start_ts: float, end_ts: float, inferred: bool):
        """(id, overlap fraction) of the best same-run candidate, or None."""
        rows = conn.execute(
            f"SELECT id, sport, sport_inferred, start_ts, {_END_EXPR} FROM activities INDEXED BY activities_end"
            f" WHERE {_END_EXPR} >= ? AND start_ts <= ?",
            (start_ts, end_ts),
        ).fetchall()
        best = None
        for aid, other_sport, other_inferred, o_start, o_end in rows:
            if not _sports_match(sport, inferred, other_sport, bool(other_inferred)):
                continue
            overlap = min(end_ts, o_end) - max(start_ts, o_start)
            shorter = min(end_ts - start_ts, o_end - o_start)
            frac = overlap / shorter if shorter > 0 else (1.0 if overlap >= 0 else 0.0)
            if frac >= SAME_RUN_OVERLAP_FRAC and (best is None or frac > best[1]):
                best = (aid, frac)
        return best

    def _insert_activity(self, conn, activity_id, content_hash, s: Summary, start, start_ts, richness,
                         n_samples, now, *, route=None, carried: dict | None = None) -> None:
        values = {
            "id": activity_id,
            "file_hash": content_hash,
            "source": s.source,
            "format": s.format,
            "sport": s.sport or "other",
            "sub_sport": s.sub_sport,
            "start_utc": start.isoformat(),
            "start_ts": start_ts,
            **{c: _float_or_none(getattr(s, c)) for c in _FLOAT_SUMMARY},
            "device": s.device,
            "partial": int(bool(s.partial)),
            "sport_inferred": int(bool(s.sport_inferred)),
            "hr_hist": _hist_blob(s.hr_seconds_by_bpm),
            "n_samples": n_samples,
            "imported_at": now,
            "richness": int(richness),
            "warnings": json.dumps(list(s.warnings or ())),
            "excluded_reason": s.excluded_reason,
            "surface": s.surface,
            "route": route,
            "rules_version": fixes.RULES_VERSION,
            "name": s.name,
            "surface_override": fixes.route_surface(conn, route),
        }
        for col, value in (carried or {}).items():
            if value is not None and (col in fixes.CORRECTION_COLUMNS or values.get(col) is None):
                values[col] = value
        cols = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        conn.execute(f"INSERT INTO activities ({cols}) VALUES ({marks})", tuple(values.values()))

    def _relink_pain(self, conn, old_id: str, new_id: str, now: str) -> None:
        ids = [r[0] for r in conn.execute("SELECT id FROM pain WHERE activity_id = ?", (old_id,))]
        for pid in ids:
            self._copy_to_history(conn, pid, "relink", now)
        conn.execute("UPDATE pain SET activity_id = ?, updated_at = ? WHERE activity_id = ?", (new_id, now, old_id))

    def activities(self) -> pd.DataFrame:
        """Every activity, sorted by start time: :data:`ACTIVITY_COLUMNS` with :data:`ACTIVITY_DTYPES`
        (NaN for a missing figure; an empty store gives an empty frame with the columns).

        Figures are as the runner means them (:func:`ingest.activity_fixes.effective`): corrections and
        archive metadata applied; ``sport_from_file`` keeps what the file said; ``excluded_reason`` says
        why an activity is left out of the metrics (None when it counts); ``warnings`` is a list of str."""
        raw = [c for c in ACTIVITY_COLUMNS if c not in _EFFECTIVE_ONLY] + list(_RAW_FIX_COLUMNS)
        rows = self._query(f"SELECT {', '.join(raw)} FROM activities ORDER BY start_ts, id")
        frame = pd.DataFrame.from_records(rows, columns=raw)
        frame = fixes.effective(frame, self.settings().default_surface)[list(ACTIVITY_COLUMNS)]
        for col, dtype in ACTIVITY_DTYPES.items():
            if dtype.startswith("datetime"):
                frame[col] = pd.to_datetime(frame[col], utc=True, format="ISO8601").astype(dtype)
            elif dtype == "float64":
                frame[col] = pd.to_numeric(frame[col], errors="coerce").astype("float64")
            elif dtype == "bool":
                frame[col] = frame[col].fillna(0).astype(bool)
            else:
                frame[col] = frame[col].astype(object).where(frame[col].notna(), None)
        if not self._query("SELECT 1 FROM settings WHERE key = 'timezone'"):
            # no time zone set: a GPX or TCX run takes the offset of the runner's own watch files around it
            # (ingest.local_time), then the machine's zone; every face reads local days from this frame
            frame["utc_offset_s"] = _local_time.borrow_watch_offsets(frame)
        return frame.reset_index(drop=True)

    def hr_histograms(self, ids: Iterable[str] | None = None) -> pd.DataFrame:
        """Seconds at each whole bpm: index activity id, columns 0..255 (activities without heart rate
        are left out)."""
        if ids is None:
            rows = self._query("SELECT id, hr_hist FROM activities WHERE hr_hist IS NOT NULL ORDER BY start_ts")
        else:
            ids = list(ids)
            rows = []
            for i in range(0, len(ids), 500):
                chunk = ids[i:i + 500]
                rows += self._query(
                    f"SELECT id, hr_hist FROM activities WHERE hr_hist IS NOT NULL AND id IN"
                    f" ({', '.join('?' for _ in chunk)}) ORDER BY start_ts", chunk)
        data = np.vstack([np.frombuffer(b, dtype="<f8") for _, b in rows]) if rows else np.zeros((0, HR_BINS))
        return pd.DataFrame(data, index=pd.Index([r[0] for r in rows], name="id", dtype=object),
                            columns=pd.RangeIndex(HR_BINS))

    def original(self, activity_id: str) -> tuple[str, bytes]:
        """(file name, original bytes) of the file an activity was read from."""
        rows = self._query(
            "SELECT o.file_name, o.data FROM activities a JOIN originals o ON o.content_hash = a.file_hash"
            " WHERE a.id = ?", (activity_id,))
        if not rows:
            raise KeyError(f"no activity with id {activity_id}")
        return rows[0][0], decompress_original(rows[0][1])

    def correct_activity(self, activity_id: str, *, sport=None, surface=None, same_route: bool = False,
                         distance_km=None, rpe=None, name=None, confirm: bool = False, shoe=_KEEP) -> dict:
        """The runner's corrections to one activity, in one transaction.

        ``sport`` (one of :data:`ingest.canonical.SPORTS`), ``surface`` (one of :data:`SURFACES`;
        "unknown" clears it), ``same_route``: the surface also goes to every run of this route, past and
        future (same start area and >= 80 % of the track shared, :func:`ingest.activity_fixes.same_route`),
        ``distance_km`` [km], ``rpe`` (0-10), ``name`` ("" clears it), ``confirm``: the runner vouches for
        an activity left out as impossible.  A sport or distance correction also counts as confirming.
        ``shoe``: the pair the run was in (a name; None: in no pair; left as it is when not given), in the
        same transaction (``KeyError`` for an unknown pair, ``ValueError`` for one retired before the run:
        nothing is changed).  Corrections survive ``rebuild`` and move with the run to a better copy of it.  Returns ``{"id",
        "changed" (what was set), "same_route_ids" (other runs that got the surface), "excluded_reason"
        (still left out: why, else None)}``."""
        from ingest.canonical import SPORTS

        with self._tx() as conn:
            if shoe is not _KEEP:
                self._assign_shoe(conn, activity_id, shoe, source="user", override_user=True)
            result = fixes.correct(conn, activity_id, sports=SPORTS, surfaces=SURFACES, sport=sport, surface=surface,
                                   same_route=same_route, distance_km=distance_km, rpe=rpe, name=name, confirm=confirm)
            if shoe is not _KEEP:
                result.setdefault("changed", {})["shoe"] = None if shoe is None else _shoes.clean_name(shoe)
            return result

    def resolve_activity_id(self, prefix: str) -> str:
        """The full id of the one activity whose id starts with ``prefix`` (KeyError when none or several)."""
        text = str(prefix).strip().lower()
        if len(text) < 4:
            raise KeyError(f"give at least 4 characters of the activity id (got {prefix!r})")
        rows = self._query("SELECT id FROM activities WHERE id LIKE ? ORDER BY id LIMIT 2", (text + "%",))
        if not rows:
            raise KeyError(f"no activity with id {prefix}")
        if len(rows) > 1:
            raise KeyError(f"several activities have ids starting with {prefix}; give more characters")
        return rows[0][0]

    def apply_metadata(self, activity_id: str, *, sport=None, surface=None, name=None) -> None:
        """What an export archive says about an activity (:mod:`ingest.archive_meta`): its sport, surface
        and name.  The runner's own corrections still win; a known sport ends "sport uncertain"."""
        with self._tx() as conn:
            conn.execute(
                "UPDATE activities SET meta_sport = COALESCE(?, meta_sport), meta_surface = COALESCE(?, meta_surface),"
                " name = COALESCE(?, name) WHERE id = ?", (sport, surface, name, activity_id))
            if sport and sport != "other":
                conn.execute("UPDATE activities SET excluded_reason = NULL WHERE id = ? AND excluded_reason LIKE"
                             " 'sport uncertain%'", (activity_id,))

    def activity_starting_at(self, start_utc_s: float, tolerance_s: float = 90.0) -> str | None:
        """The id of the activity starting closest to ``start_utc_s`` [Unix s] within ``tolerance_s``."""
        rows = self._query("SELECT id FROM activities WHERE start_ts BETWEEN ? AND ? ORDER BY ABS(start_ts - ?)"
                           " LIMIT 1", (start_utc_s - tolerance_s, start_utc_s + tolerance_s, start_utc_s))
        return rows[0][0] if rows else None

    def activity_ids(self) -> list[str]:
        return [r[0] for r in self._query("SELECT id FROM activities ORDER BY start_ts, id")]

    def rebuild(self, on_progress=None) -> dict:
        """Re-derive every activity from its kept original (:func:`ingest.rebuild.rebuild`)."""
        from ingest.rebuild import rebuild

        return rebuild(self, on_progress)

    def needs_rebuild(self) -> int:
        """How many activities were derived by an older loadwatch (``loadwatch rebuild`` updates them)."""
        return int(self._query("SELECT COUNT(*) FROM activities WHERE rules_version IS NULL OR rules_version < ?",
                               (fixes.RULES_VERSION,))[0][0])

    def set_surface_override(self, activity_id: str, surface: str | None) -> None:
        if surface is not None and surface not in SURFACES:
            raise ValueError(f"surface must be one of {', '.join(SURFACES)} (got {surface!r})")
        self._update_activity(activity_id, "surface_override", surface)

    def set_rpe(self, activity_id: str, rpe: float | None) -> None:
        """Session RPE on the CR-10 scale (0-10), or None to clear it."""
        if rpe is not None:
            value = _float_or_none(rpe)
            if value is None or not 0 <= value <= 10:
                raise ValueError(f"RPE must be a number from 0 to 10 (got {rpe!r})")
            rpe = value
        self._update_activity(activity_id, "rpe", rpe)

    def _update_activity(self, activity_id: str, column: str, value) -> None:
        with self._tx() as conn:
            cur = conn.execute(f"UPDATE activities SET {column} = ? WHERE id = ?", (value, activity_id))
            if cur.rowcount == 0:
                raise KeyError(f"no activity with id {activity_id}")

    def counts(self) -> dict[str, int]:
        """Rows per file outcome plus ``activities`` (for summaries and tests)."""
        out = {"imported": 0, "duplicate": 0, "skipped": 0}
        out.update({k: v for k, v in self._query("SELECT outcome, COUNT(*) FROM files GROUP BY outcome")})
        out["activities"] = self._query("SELECT COUNT(*) FROM activities")[0][0]
        return out

    # --- pain ------------------------------------------------------------------------------------------
    def _check_activity(self, conn, activity_id) -> None:
        if activity_id is not None and conn.execute(
                "SELECT 1 FROM activities WHERE id = ?", (activity_id,)).fetchone() is None:
            raise ValueError(f"no activity with id {activity_id}")

    def add_pain(self, entry: PainEntry) -> int:
        """Add a pain entry; returns its id."""
        validate(entry)
        row = _pain_to_row(entry)
        now = _now_iso()
        with self._tx() as conn:
            self._check_activity(conn, entry.activity_id)
            cur = conn.execute(
                f"INSERT INTO pain ({', '.join(row)}, deleted, created_at, updated_at)"
                f" VALUES ({', '.join('?' for _ in row)}, 0, ?, ?)", (*row.values(), now, now))
            return int(cur.lastrowid)

    def _copy_to_history(self, conn, pain_id: int, change: str, now: str) -> None:
        cols = ", ".join((*_PAIN_FIELDS, "deleted"))
        conn.execute(
            f"INSERT INTO pain_history (pain_id, changed_at, change, {cols}) SELECT id, ?, ?, {cols} FROM pain"
            " WHERE id = ?", (now, change, pain_id))

    def _pain_entry(self, conn, pain_id: int) -> tuple[PainEntry, bool]:
        row = conn.execute(
            f"SELECT {', '.join(_PAIN_FIELDS)}, deleted FROM pain WHERE id = ?", (int(pain_id),)).fetchone()
        if row is None:
            raise KeyError(f"no pain entry with id {pain_id}")
        values = dict(zip(_PAIN_FIELDS, row[:-1], strict=True))
        values["at_local"] = datetime.fromisoformat(values["at_local"])
        values["symptoms"] = tuple(json.loads(values["symptoms"]))
        return PainEntry(**values), bool(row[-1])

    def update_pain(self, pain_id: int, **changes) -> None:
        """Change fields of a pain entry (``at_local, score, timing, location, activity_id, symptoms,
        note``); the previous version is kept in the history."""
        unknown = set(changes) - set(_PAIN_FIELDS)
        if unknown:
            raise ValueError(f"cannot change {', '.join(sorted(unknown))}; fields: {', '.join(_PAIN_FIELDS)}")
        with self._tx() as conn:
            entry, deleted = self._pain_entry(conn, pain_id)
            if deleted:
                raise ValueError(f"pain entry {pain_id} was deleted")
            new = replace(entry, **changes)  # __post_init__ validates
            validate(new)
            self._check_activity(conn, new.activity_id)
            row = _pain_to_row(new)
            now = _now_iso()
            self._copy_to_history(conn, pain_id, "update", now)
            conn.execute(
                f"UPDATE pain SET {', '.join(f'{k} = ?' for k in row)}, updated_at = ? WHERE id = ?",
                (*row.values(), now, int(pain_id)))

    def delete_pain(self, pain_id: int) -> None:
        """Soft delete: the entry is hidden from :meth:`pain` but kept, with its history."""
        with self._tx() as conn:
            _entry, deleted = self._pain_entry(conn, pain_id)
            if deleted:
                return
            now = _now_iso()
            self._copy_to_history(conn, pain_id, "delete", now)
            conn.execute("UPDATE pain SET deleted = 1, updated_at = ? WHERE id = ?", (now, int(pain_id)))

    @staticmethod
    def _pain_frame(rows: list[tuple], extra: tuple[str, ...] = ()) -> pd.DataFrame:
        cols = (*extra, *PAIN_COLUMNS)
        frame = pd.DataFrame.from_records(rows, columns=list(cols))
        frame["id"] = frame["id"].astype("int64")
        frame["at_local"] = pd.to_datetime(frame["at_local"], format="ISO8601").astype("datetime64[ns]")
        frame["score"] = frame["score"].astype("int64")
        frame["activity_id"] = frame["activity_id"].astype(object).where(frame["activity_id"].notna(), None)
        frame["symptoms"] = pd.Series([tuple(json.loads(s)) for s in frame["symptoms"]], index=frame.index,
                                      dtype=object)
        frame["note"] = frame["note"].fillna("").astype(object)
        frame["deleted"] = frame["deleted"].astype(bool)
        return frame

    def pain(self, include_deleted: bool = False) -> pd.DataFrame:
        """Pain entries sorted by local time: :data:`PAIN_COLUMNS`."""
        where = "" if include_deleted else "WHERE deleted = 0"
        rows = self._query(f"SELECT {', '.join(PAIN_COLUMNS)} FROM pain {where} ORDER BY at_local, id")
        return self._pain_frame(rows)

    def pain_history(self, pain_id: int) -> pd.DataFrame:
        """Previous versions of one entry, oldest first: ``history_id, changed_at, change`` (update,
        delete, relink) and the entry's columns as they were before that change."""
        cols = ", ".join(c if c != "id" else "pain_id" for c in PAIN_COLUMNS)
        rows = self._query(
            f"SELECT history_id, changed_at, change, {cols} FROM pain_history WHERE pain_id = ?"
            " ORDER BY history_id", (int(pain_id),))
        frame = self._pain_frame(rows, extra=("history_id", "changed_at", "change"))
        frame["changed_at"] = pd.to_datetime(frame["changed_at"], utc=True, format="ISO8601")
        return frame

    # --- clinician assessments (ingest/assessments.py) ---------------------------------------------------
    def add_assessment(self, date, note: str = "", **decision) -> int:
        """Record that a clinician assessed the runner on ``date`` (local day; not in the future, not
        before 1990) and what they decided (``time``, ``cleared``, ``return_step``, ``max_week_km``,
        ``max_run_km``, ``max_pain``: :func:`ingest.assessments.check_decision`); returns its id."""
        day = _assessments.check_date(date)
        checked = _assessments.check_decision(**decision)
        with self._tx() as conn:
            return _assessments.add(conn, day, note or "", _now_iso(), checked)

    def assessments(self) -> pd.DataFrame:
        """Clinician assessments, oldest first: ``id``, ``date`` (``datetime.date``), ``note``, ``time``
        and the decision (:data:`ingest.assessments.COLUMNS`)."""
        return _assessments.frame(self._query(_assessments.SELECT))

    # --- settings --------------------------------------------------------------------------------------
    def settings(self) -> Settings:
        """The runner's settings (defaults for anything not set; time zone defaults to the system's)."""
        raw = dict(self._query("SELECT key, value FROM settings"))
        return Settings.from_strings(raw)

    def set_setting(self, key: str, value: str) -> None:
        """Validate and save one setting (``KeyError`` for an unknown key, ``ValueError`` for a bad
        value).  An empty value clears an optional setting."""
        parsed = parse_setting(key, value)
        with self._tx() as conn:
            if parsed is None:
                conn.execute("DELETE FROM settings WHERE key = ?", (key,))
            else:
                conn.execute("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET"
                             " value = excluded.value", (key, format_setting(parsed)))

    # --- rules -----------------------------------------------------------------------------------------
    _RULE_COLS = ("id", "metric", "threshold", "op", "scope", "enabled", "label", "origin")

    def rules(self) -> list[Rule]:
        rows = self._query(f"SELECT {', '.join(self._RULE_COLS)} FROM rules ORDER BY id")
        return [Rule(**dict(zip(self._RULE_COLS, r, strict=True))) for r in rows]

    def add_rule(self, rule: Rule) -> int:
        rule = replace(rule)  # re-validate
        with self._tx() as conn:
            cur = conn.execute(
                "INSERT INTO rules (metric, threshold, op, scope, enabled, label, origin, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (rule.metric, rule.threshold, rule.op, rule.scope, int(rule.enabled), rule.label, rule.origin,
                 _now_iso()))
            return int(cur.lastrowid)

    def update_rule(self, rule_id: int, **changes) -> None:
        allowed = {f.name for f in fields(Rule)} - {"id"}
        unknown = set(changes) - allowed
        if unknown:
            raise ValueError(f"cannot change {', '.join(sorted(unknown))}; fields: {', '.join(sorted(allowed))}")
        with self._tx() as conn:
            row = conn.execute(f"SELECT {', '.join(self._RULE_COLS)} FROM rules WHERE id = ?",
                               (int(rule_id),)).fetchone()
            if row is None:
                raise KeyError(f"no rule with id {rule_id}")
            rule = replace(Rule(**dict(zip(self._RULE_COLS, row, strict=True))), **changes)
            conn.execute(
                "UPDATE rules SET metric = ?, threshold = ?, op = ?, scope = ?, enabled = ?, label = ?,"
                " origin = ? WHERE id = ?",
                (rule.metric, rule.threshold, rule.op, rule.scope, int(rule.enabled), rule.label, rule.origin,
                 int(rule_id)))

    def remove_rule(self, rule_id: int) -> None:
        with self._tx() as conn:
            if conn.execute("DELETE FROM rules WHERE id = ?", (int(rule_id),)).rowcount == 0:
                raise KeyError(f"no rule with id {rule_id}")

    # --- shoes (ingest/shoes.py) -----------------------------------------------------------------------
    def add_shoe(self, name: str, *, start_km: float = 0.0, retire_km: float | None = None,
                 default: bool = False) -> int:
        """Add a pair of shoes; returns its id (``ValueError`` for a taken name or a bad distance)."""
        with self._tx() as conn:
            return _shoes.add_shoe(conn, name, start_km=start_km, retire_km=retire_km, default=default)

    def shoes(self) -> pd.DataFrame:
        """Every pair: ``id, name, start_km, retire_km`` (NaN: none set), ``retired_on`` (local ISO date or
        None), ``default`` (bool), by name."""
        frame = pd.DataFrame.from_records(self._query(
            "SELECT id, name, start_km, retire_km, retired_on, is_default FROM shoes ORDER BY name COLLATE NOCASE"),
            columns=list(_shoes.SHOE_COLUMNS))
        frame["id"] = frame["id"].astype("int64")
        for col in ("start_km", "retire_km"):
            frame[col] = pd.to_numeric(frame[col], errors="coerce").astype("float64")
        frame["retired_on"] = frame["retired_on"].astype(object).where(frame["retired_on"].notna(), None)
        frame["default"] = frame["default"].fillna(0).astype(bool)
        return frame

    def activity_shoes(self) -> pd.DataFrame:
        """Which pair each activity was in: ``activity_id, shoe_id, shoe, source``."""
        with self._lock:
            rows = _shoes.assignments(self._conn)
        frame = pd.DataFrame.from_records(rows, columns=["activity_id", "shoe_id", "shoe", "source"])
        frame["shoe_id"] = frame["shoe_id"].astype("int64")
        return frame

    def retire_shoe(self, name: str, on: str | None = None) -> None:
        """Retire a pair from the local day ``on`` (ISO date; default today in the runner's time zone)."""
        day = on or self._today().isoformat()
        with self._tx() as conn:
            _shoes.retire(conn, name, day)

    def unretire_shoe(self, name: str) -> None:
        with self._tx() as conn:
            _shoes.unretire(conn, name)

    def set_default_shoe(self, name: str | None) -> None:
        """The pair new runs are given at import (None: none)."""
        with self._tx() as conn:
            _shoes.set_default(conn, name)

    def rename_shoe(self, name: str, new_name: str) -> None:
        with self._tx() as conn:
            _shoes.rename(conn, name, new_name)

    def set_shoe_retire_km(self, name: str, km: float | None) -> None:
        with self._tx() as conn:
            _shoes.set_retire_km(conn, name, km)

    def set_activity_shoe(self, activity_id: str, name: str | None, *, source: str = "user") -> None:
        """Put one activity in the pair ``name`` (None: in no pair).  ``KeyError`` for an unknown activity
        or pair, ``ValueError`` for a pair retired before the run."""
        with self._tx() as conn:
            self._assign_shoe(conn, activity_id, name, source=source, override_user=True)

    def assign_gear(self, gear: dict[str, str], *, source: str = "strava") -> dict[str, str]:
        """Give runs the pairs an export names (``{activity_id: gear name}``), creating a pair when new;
        a pair the runner chose is left alone, as is a run the pair was retired before, and any activity
        that is not a run.  Returns
        ``{activity_id: pair}`` of the changes made, in one transaction."""
        changed: dict[str, str] = {}
        with self._tx() as conn:
            for activity_id, name in gear.items():
                try:
                    name = _shoes.clean_name(name)
                except ValueError:
                    continue
                # the sport as the runner means it: their correction > the archive's > the file's
                sport = conn.execute("SELECT COALESCE(sport_override, meta_sport, sport) FROM activities WHERE id = ?",
                                     (activity_id,)).fetchone()
                if sport is None or sport[0] != "running":
                    continue  # shoes are for runs (Strava's gear may be a bike)
                _shoes.ensure_shoe(conn, name)
                try:
                    if self._assign_shoe(conn, activity_id, name, source=source, override_user=False):
                        changed[activity_id] = name
                except ValueError:
                    continue  # retired before this run
        return changed

    def _assign_shoe(self, conn, activity_id: str, name: str | None, *, source: str, override_user: bool) -> bool:
        row = conn.execute("SELECT start_utc, utc_offset_s FROM activities WHERE id = ?", (activity_id,)).fetchone()
        if row is None:
            raise KeyError(f"no activity with id {activity_id}")
        return _shoes.assign(conn, activity_id, name, source=source, run_day=self._local_day(*row),
                             override_user=override_user)

    def _local_day(self, start_utc: str, utc_offset_s) -> str:
        start = pd.Timestamp(start_utc)
        if _float_or_none(utc_offset_s) is not None:
            local = start.tz_convert(None) + pd.Timedelta(seconds=float(utc_offset_s))
        else:
            local = start.tz_convert(self.settings().timezone)
        return local.date().isoformat()

    def _today(self):
        from zoneinfo import ZoneInfo

        return datetime.now(ZoneInfo(self.settings().timezone)).date()

    # --- sessions (ingest/sessions.py) -----------------------------------------------------------------
    def add_session(self, day, kind: str, minutes: float, *, rpe: float | None = None, note: str = "") -> int:
        """Log a session without a file; returns its id (``ValueError``: unknown kind, minutes not above
        0, a day in the future or before 1990, RPE outside 0-10)."""
        session = _sessions.validate(_sessions.Session(day, kind, minutes, rpe, note), self._today())
        with self._tx() as conn:
            return _sessions.add(conn, session, _now_iso())

    def delete_session(self, session_id: int) -> None:
        with self._tx() as conn:
            _sessions.delete(conn, session_id)

    def sessions(self) -> pd.DataFrame:
        """Logged sessions, oldest first: ``id, date`` (naive midnight), ``kind, minutes, rpe`` (NaN when
        not given), ``note``."""
        frame = pd.DataFrame.from_records(self._query(
            f"SELECT {', '.join(_sessions.SESSION_COLUMNS)} FROM sessions ORDER BY date, id"),
            columns=list(_sessions.SESSION_COLUMNS))
        frame["id"] = frame["id"].astype("int64")
        frame["date"] = pd.to_datetime(frame["date"], format="ISO8601").astype("datetime64[ns]")
        for col in ("minutes", "rpe"):
            frame[col] = pd.to_numeric(frame[col], errors="coerce").astype("float64")
        frame["note"] = frame["note"].fillna("").astype(object)
        return frame

    # --- outcomes and programmes (ingest/outcomes.py, ingest/programmes.py) -----------------------------
    def put_ostrc(self, week_start, **answers) -> None:
        """Keep one week's OSTRC-O2 answers (option numbers) under the first day of the runner's week that
        holds ``week_start``; a second answer replaces the week's."""
        day = _outcomes.week_start_of(_outcomes.check_day(week_start, self._today(), "the week"),
                                      self.settings().week_start)
        with self._tx() as conn:
            _outcomes.put_ostrc(conn, day, answers, _now_iso())

    def ostrc(self) -> pd.DataFrame:
        """OSTRC weeks, oldest first (:func:`ingest.outcomes.ostrc_frame`)."""
        with self._lock:
            return _outcomes.ostrc_frame(self._conn)

    def add_psfs_activity(self, name: str, day) -> int:
        with self._tx() as conn:
            return _outcomes.add_psfs_activity(conn, name, _outcomes.check_day(day, self._today()), _now_iso())

    def add_psfs_score(self, activity, day, score) -> int:
        with self._tx() as conn:
            return _outcomes.add_psfs_score(conn, activity, _outcomes.check_day(day, self._today()), score, _now_iso())

    def psfs(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """PSFS ``(activities, scores)`` (:func:`ingest.outcomes.psfs_frames`)."""
        with self._lock:
            return _outcomes.psfs_frames(self._conn)

    def start_programme(self, kind: str, day) -> int:
        with self._tx() as conn:
            return _programmes.start(conn, kind, _outcomes.check_day(day, self._today()), _now_iso())

    def stop_programme(self, day) -> int:
        with self._tx() as conn:
            return _programmes.stop(conn, _outcomes.check_day(day, self._today()))

    def programmes(self) -> pd.DataFrame:
        """Programmes, oldest first (:func:`ingest.programmes.frame`)."""
        with self._lock:
            return _programmes.frame(self._conn)
