"""The local store: one SQLite file holding files, originals, activities, pain, settings and rules.

Health data: the file is ``0600`` inside a ``0700`` folder and never leaves the machine.  Safe to open from
several processes at once: WAL, a 10 s busy timeout, every write one ``BEGIN IMMEDIATE`` transaction (a
process killed mid-write leaves each change all-or-nothing).  ``PRAGMA user_version`` is the schema version
(:mod:`loadwatch.ingest.schema`); a store written by a newer loadwatch is refused rather than misread.

:class:`Store` is a facade (sqlite-utils' ``Database``): each method opens a transaction or a read on the one
connection (:mod:`loadwatch.ingest.db`) and calls a table module's public functions (:mod:`loadwatch.ingest.files`,
``activities``, ``twins``, ``pain``, ``assessments``, ``alert_rules``, ``settings``, ``shoes``, ``sessions``,
``outcomes``, ``programmes``); import and ``loadwatch rebuild`` call the same ones.
"""

from __future__ import annotations

import inspect
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd

# the table modules, named *_table here: inside the class body a bare `pain` or `shoes` would be the
# facade's own method of that name
from loadwatch.ingest import activities as activities_table
from loadwatch.ingest import alert_rules as alert_rules_table
from loadwatch.ingest import assessments as assessments_table
from loadwatch.ingest import db
from loadwatch.ingest import files as files_table
from loadwatch.ingest import outcomes as outcomes_table
from loadwatch.ingest import pain as pain_table
from loadwatch.ingest import programmes as programmes_table
from loadwatch.ingest import sessions as sessions_table
from loadwatch.ingest import settings as settings_table
from loadwatch.ingest import shoes as shoes_table
from loadwatch.ingest import twins as twins_table
from loadwatch.ingest.activities import ACTIVITY_COLUMNS, ACTIVITY_DTYPES, KEEP, SURFACES  # noqa: F401  (the store's names)
from loadwatch.ingest.alert_rules import Rule  # noqa: F401  (the store's names: faces import them from here)
from loadwatch.ingest.canonical import Activity
from loadwatch.ingest.days import check_day
from loadwatch.ingest.db import StoreVersionError, default_db_path, demo_db_path  # noqa: F401
from loadwatch.ingest.files import compress_original, decompress_original  # noqa: F401
from loadwatch.ingest.pain import PAIN_COLUMNS  # noqa: F401
from loadwatch.ingest.painlog import PainEntry  # noqa: F401
from loadwatch.ingest.schema import MIGRATIONS, SCHEMA_VERSION  # noqa: F401
from loadwatch.ingest.settings import Settings  # noqa: F401
from loadwatch.ingest.store_errors import check_intact, plain_error
from loadwatch.ingest.twins import StoreResult, keep_key, samples_richness, stored_keep_key  # noqa: F401


def _delegate(fn, how: str):
    """A facade method that runs the table function ``fn(conn, ...)`` in a read or in a transaction; its
    signature is the table function's, with ``self`` for the connection."""
    def method(self, *args, **kwargs):
        return getattr(self, how)(fn, *args, **kwargs)

    params = list(inspect.signature(fn).parameters.values())[1:]
    method.__signature__ = inspect.Signature([inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD),
                                              *params], return_annotation=inspect.signature(fn).return_annotation)
    method.__name__, method.__doc__ = fn.__name__, fn.__doc__
    return method


def _reads(fn):
    return _delegate(fn, "_read")


def _writes(fn):
    return _delegate(fn, "_write")


class Store:
    """The loadwatch store (one SQLite connection; a context manager) at ``path`` (None: :func:`default_db_path`);
    opening creates the file and migrates it, unless ``read_only`` (an existing store of this version as it is)."""

    def __init__(self, path: str | os.PathLike | None = None, *, read_only: bool = False):
        self.path = Path(path).expanduser() if path is not None else default_db_path()
        self.read_only = bool(read_only)
        self._lock = threading.RLock()
        #: Where the store was backed up before a schema migration (None when none was needed).
        self.backup_path: Path | None = None
        self._conn = None
        try:
            if self.read_only:
                self._conn = db.connect_read_only(self.path, SCHEMA_VERSION)
                self.schema_version = SCHEMA_VERSION
                return
            db.prepare_file(self.path)
            self._conn = db.connect(self.path, check_intact)
            self.schema_version, self.backup_path = db.migrate(self._conn, self.path, MIGRATIONS, backup=self.backup,
                                                               tx=self.transaction)
        except BaseException as exc:
            self.close()
            if isinstance(exc, (OSError, sqlite3.Error)) and not (read_only and isinstance(exc, FileNotFoundError)):
                raise plain_error(exc, self.path) from exc
            raise

    # --- lifecycle and the one connection (ingest/db.py) ------------------------------------------------
    def backup(self, target: str | os.PathLike) -> Path:
        with self._lock:
            return db.backup(self._conn, Path(target))

    def bulk_writes(self):
        """Many small transactions in a row (an import): one WAL checkpoint at the end (:func:`db.bulk_writes`)."""
        return db.bulk_writes(self._lock, lambda: self._conn)

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
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (:func:`loadwatch.ingest.db.transaction`): all of it or nothing."""
        with self._lock, db.transaction(self._conn, self.path) as conn:
            yield conn

    _tx = transaction  # the name tests and older callers use

    def _read(self, fn, *args, **kwargs):
        with self._lock:
            return db.read(self._conn, self.path, fn, *args, **kwargs)

    def _write(self, fn, *args, **kwargs):
        with self.transaction() as conn:
            return fn(conn, *args, **kwargs)

    def _query(self, sql: str, params: Iterable = ()) -> list[tuple]:
        return self._read(db.rows, sql, params)

    def _today(self):
        return datetime.now(ZoneInfo(self.settings().timezone)).date()

    # --- files and activities (ingest/files.py, ingest/activities.py, ingest/twins.py) ------------------
    file_outcome = _reads(files_table.file_outcome)
    record_skipped = _writes(files_table.record_skipped)

    def add_activity(self, activity: Activity, original: bytes, file_name: str, *, richness: int | None = None,
                     n_samples: int | None = None, compressed: bytes | None = None, content_hash: str | None = None,
                     route: str | None = None) -> StoreResult:
        """Add one imported file and its activity, in one transaction: a known file or a worse copy of a
        kept run is a ``duplicate``, a better copy ``replaced`` it (:func:`loadwatch.ingest.twins.add_activity`)."""
        new = twins_table.incoming(activity, original, file_name, richness=richness, n_samples=n_samples,
                             compressed=compressed, content_hash=content_hash, route=route)
        return self._write(twins_table.add_activity, new)

    def activities(self) -> pd.DataFrame:
        """Every activity as the runner means it, by start time (:func:`loadwatch.ingest.activities.frame`)."""
        return self._read(activities_table.frame)

    hr_histograms, original = map(_reads, (activities_table.hr_histograms, files_table.original))

    def correct_activity(self, activity_id: str, *, sport=None, surface=None, same_route: bool = False,
                         distance_km=None, rpe=None, name=None, confirm: bool = False, shoe=KEEP) -> dict:
        """The runner's corrections to one activity, in one transaction (:func:`loadwatch.ingest.activities.correct`
        and :func:`loadwatch.ingest.activity_fixes.correct`); ``shoe``: the pair (None: none; not given: kept)."""
        return self._write(activities_table.correct, activity_id, shoe=shoe, sport=sport, surface=surface,
                           same_route=same_route, distance_km=distance_km, rpe=rpe, name=name, confirm=confirm)

    resolve_activity_id = _reads(activities_table.resolve_id)

    def apply_metadata(self, activity_id: str, *, sport=None, surface=None, name=None) -> None:
        self._write(activities_table.apply_metadata, activity_id, sport=sport, surface=surface, name=name)

    activity_starting_at, activity_ids = map(_reads, (activities_table.starting_at, activities_table.ids))

    def rebuild(self, on_progress=None) -> dict:
        """Re-derive every activity from its kept original (:func:`loadwatch.ingest.rebuild.rebuild`)."""
        from loadwatch.ingest.rebuild import rebuild

        return rebuild(self, on_progress)

    needs_rebuild = _reads(activities_table.needs_rebuild)
    set_surface_override, set_rpe = map(
        _writes, (activities_table.set_surface_override, activities_table.set_rpe))
    counts = _reads(files_table.counts)

    # --- pain (ingest/pain.py) -------------------------------------------------------------------------
    add_pain, update_pain, delete_pain = map(_writes, (pain_table.add, pain_table.update, pain_table.delete))
    pain, pain_history = map(_reads, (pain_table.pain_frame, pain_table.history_frame))
    pain_run_day, ran_on = map(_reads, (pain_table.run_day, pain_table.ran_on))  # a linked run's day; a day's run

    # --- clinician assessments (ingest/assessments.py) -------------------------------------------------
    def add_assessment(self, date, note: str = "", **decision) -> int:
        """Record a clinician's visit on ``date`` (local day; not in the future, not before 1990) and their
        decision (:func:`loadwatch.ingest.assessments.check_decision`); returns its id."""
        day, checked = assessments_table.check_date(date, self._today()), assessments_table.check_decision(**decision)
        return self._write(assessments_table.add, day, note or "", db.now_iso(), checked)

    def assessments(self) -> pd.DataFrame:
        return assessments_table.frame(self._query(assessments_table.SELECT))

    # --- settings (ingest/settings.py) and the runner's own rules (ingest/alert_rules.py) ---------------
    settings = _reads(settings_table.read)
    set_setting = _writes(settings_table.put)

    rules = _reads(alert_rules_table.rules)
    add_rule, update_rule, remove_rule = map(
        _writes, (alert_rules_table.add_rule, alert_rules_table.update_rule, alert_rules_table.remove_rule))

    # --- shoes (ingest/shoes.py) -----------------------------------------------------------------------
    def add_shoe(self, name: str, *, start_km: float = 0.0, retire_km: float | None = None, default: bool = False) -> int:
        return self._write(shoes_table.add_shoe, name, start_km=start_km, retire_km=retire_km, default=default)

    shoes, activity_shoes = map(_reads, (shoes_table.shoes_frame, shoes_table.assignments_frame))

    def retire_shoe(self, name: str, on: str | None = None) -> None:
        self._write(shoes_table.retire, name, on or self._today().isoformat())

    unretire_shoe, set_default_shoe, rename_shoe, set_shoe_retire_km = map(
        _writes, (shoes_table.unretire, shoes_table.set_default, shoes_table.rename, shoes_table.set_retire_km))

    def set_activity_shoe(self, activity_id: str, name: str | None, *, source: str = "user") -> None:
        self._write(shoes_table.assign_run, activity_id, name, source=source, override_user=True)

    def assign_gear(self, gear: dict[str, str], *, source: str = "strava") -> dict[str, str]:
        """Give runs the pairs an export names, in one transaction (:func:`loadwatch.ingest.shoes.assign_gear`)."""
        return self._write(shoes_table.assign_gear, gear, source=source)

    # --- sessions, outcomes and programmes (ingest/sessions.py, outcomes.py, programmes.py) -------------
    def add_session(self, day, kind: str, minutes: float, *, rpe: float | None = None, note: str = "") -> int:
        """Log a session without a file; returns its id (:func:`loadwatch.ingest.sessions.validate`)."""
        session = sessions_table.validate(sessions_table.Session(day, kind, minutes, rpe, note), self._today())
        return self._write(sessions_table.add, session, db.now_iso())

    delete_session = _writes(sessions_table.delete)
    sessions = _reads(sessions_table.frame)

    def put_ostrc(self, week_start, **answers) -> None:
        day = outcomes_table.week_start_of(check_day(week_start, self._today(), "the week"), self.settings().week_start)
        self._write(outcomes_table.put_ostrc, day, answers, db.now_iso())

    ostrc = _reads(outcomes_table.ostrc_frame)

    def add_psfs_activity(self, name: str, day) -> int:
        return self._write(outcomes_table.add_psfs_activity, name, check_day(day, self._today()), db.now_iso())

    def add_psfs_score(self, activity, day, score) -> int:
        return self._write(outcomes_table.add_psfs_score, activity, check_day(day, self._today()), score, db.now_iso())

    psfs = _reads(outcomes_table.psfs_frames)

    def start_programme(self, kind: str, day) -> int:
        return self._write(programmes_table.start, kind, check_day(day, self._today()), db.now_iso())

    def stop_programme(self, day) -> int:
        return self._write(programmes_table.stop, check_day(day, self._today()))

    programmes = _reads(programmes_table.frame)
