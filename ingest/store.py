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

import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd

from loadwatch.ingest import (
    activities,
    alert_rules,
    assessments,
    db,
    files,
    outcomes,
    pain,
    programmes,
    sessions,
    shoes,
    twins,
)
from loadwatch.ingest import settings as settings_table
from loadwatch.ingest.activities import ACTIVITY_COLUMNS, ACTIVITY_DTYPES, KEEP, SURFACES  # noqa: F401  (the store's names)
from loadwatch.ingest.alert_rules import Rule
from loadwatch.ingest.canonical import Activity
from loadwatch.ingest.days import check_day
from loadwatch.ingest.db import StoreVersionError, default_db_path, demo_db_path  # noqa: F401
from loadwatch.ingest.files import compress_original, decompress_original  # noqa: F401
from loadwatch.ingest.pain import PAIN_COLUMNS  # noqa: F401
from loadwatch.ingest.painlog import PainEntry
from loadwatch.ingest.schema import MIGRATIONS, SCHEMA_VERSION  # noqa: F401
from loadwatch.ingest.settings import Settings
from loadwatch.ingest.store_errors import check_intact, plain_error
from loadwatch.ingest.twins import StoreResult, keep_key, samples_richness, stored_keep_key  # noqa: F401


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
    def file_outcome(self, content_hash: str) -> dict | None:
        return self._read(files.file_outcome, content_hash)

    def record_skipped(self, content_hash: str, file_name: str, reason: str) -> None:
        self._write(files.record_skipped, content_hash, file_name, reason)

    def add_activity(self, activity: Activity, original: bytes, file_name: str, *, richness: int | None = None,
                     n_samples: int | None = None, compressed: bytes | None = None, content_hash: str | None = None,
                     route: str | None = None) -> StoreResult:
        """Add one imported file and its activity, in one transaction: a known file or a worse copy of a
        kept run is a ``duplicate``, a better copy ``replaced`` it (:func:`loadwatch.ingest.twins.add_activity`)."""
        new = twins.incoming(activity, original, file_name, richness=richness, n_samples=n_samples,
                             compressed=compressed, content_hash=content_hash, route=route)
        return self._write(twins.add_activity, new)

    def activities(self) -> pd.DataFrame:
        """Every activity as the runner means it, by start time (:func:`loadwatch.ingest.activities.frame`)."""
        return self._read(activities.frame)

    def hr_histograms(self, ids: Iterable[str] | None = None) -> pd.DataFrame:
        return self._read(activities.hr_histograms, ids)

    def original(self, activity_id: str) -> tuple[str, bytes]:
        return self._read(files.original, activity_id)

    def correct_activity(self, activity_id: str, *, sport=None, surface=None, same_route: bool = False,
                         distance_km=None, rpe=None, name=None, confirm: bool = False, shoe=KEEP) -> dict:
        """The runner's corrections to one activity, in one transaction (:func:`loadwatch.ingest.activities.correct`
        and :func:`loadwatch.ingest.activity_fixes.correct`); ``shoe``: the pair (None: none; not given: kept)."""
        return self._write(activities.correct, activity_id, shoe=shoe, sport=sport, surface=surface,
                           same_route=same_route, distance_km=distance_km, rpe=rpe, name=name, confirm=confirm)

    def resolve_activity_id(self, prefix: str) -> str:
        return self._read(activities.resolve_id, prefix)

    def apply_metadata(self, activity_id: str, *, sport=None, surface=None, name=None) -> None:
        self._write(activities.apply_metadata, activity_id, sport=sport, surface=surface, name=name)

    def activity_starting_at(self, start_utc_s: float, tolerance_s: float = 90.0) -> str | None:
        return self._read(activities.starting_at, start_utc_s, tolerance_s)

    def activity_ids(self) -> list[str]:
        return self._read(activities.ids)

    def rebuild(self, on_progress=None) -> dict:
        """Re-derive every activity from its kept original (:func:`loadwatch.ingest.rebuild.rebuild`)."""
        from loadwatch.ingest.rebuild import rebuild

        return rebuild(self, on_progress)

    def needs_rebuild(self) -> int:
        return self._read(activities.needs_rebuild)

    def set_surface_override(self, activity_id: str, surface: str | None) -> None:
        self._write(activities.set_surface_override, activity_id, surface)

    def set_rpe(self, activity_id: str, rpe: float | None) -> None:
        self._write(activities.set_rpe, activity_id, rpe)

    def counts(self) -> dict[str, int]:
        return self._read(files.counts)

    # --- pain (ingest/pain.py) -------------------------------------------------------------------------
    def add_pain(self, entry: PainEntry) -> int:
        return self._write(pain.add, entry)

    def update_pain(self, pain_id: int, **changes) -> None:
        self._write(pain.update, pain_id, **changes)

    def delete_pain(self, pain_id: int) -> None:
        self._write(pain.delete, pain_id)

    def pain(self, include_deleted: bool = False) -> pd.DataFrame:
        return self._read(pain.pain_frame, include_deleted)

    def pain_history(self, pain_id: int) -> pd.DataFrame:
        return self._read(pain.history_frame, pain_id)

    # --- clinician assessments (ingest/assessments.py) -------------------------------------------------
    def add_assessment(self, date, note: str = "", **decision) -> int:
        """Record a clinician's visit on ``date`` (local day; not in the future, not before 1990) and their
        decision (:func:`loadwatch.ingest.assessments.check_decision`); returns its id."""
        day, checked = assessments.check_date(date), assessments.check_decision(**decision)
        return self._write(assessments.add, day, note or "", db.now_iso(), checked)

    def assessments(self) -> pd.DataFrame:
        return assessments.frame(self._query(assessments.SELECT))

    # --- settings and rules (ingest/settings.py, ingest/alert_rules.py) -------------------------------
    def settings(self) -> Settings:
        return self._read(settings_table.read)

    def set_setting(self, key: str, value: str) -> None:
        self._write(settings_table.put, key, value)

    def rules(self) -> list[Rule]:
        return self._read(alert_rules.rules)

    def add_rule(self, rule: Rule) -> int:
        return self._write(alert_rules.add_rule, rule)

    def update_rule(self, rule_id: int, **changes) -> None:
        self._write(alert_rules.update_rule, rule_id, **changes)

    def remove_rule(self, rule_id: int) -> None:
        self._write(alert_rules.remove_rule, rule_id)

    # --- shoes (ingest/shoes.py) -----------------------------------------------------------------------
    def add_shoe(self, name: str, *, start_km: float = 0.0, retire_km: float | None = None, default: bool = False) -> int:
        return self._write(shoes.add_shoe, name, start_km=start_km, retire_km=retire_km, default=default)

    def shoes(self) -> pd.DataFrame:
        return self._read(shoes.shoes_frame)

    def activity_shoes(self) -> pd.DataFrame:
        return self._read(shoes.assignments_frame)

    def retire_shoe(self, name: str, on: str | None = None) -> None:
        self._write(shoes.retire, name, on or self._today().isoformat())

    def unretire_shoe(self, name: str) -> None:
        self._write(shoes.unretire, name)

    def set_default_shoe(self, name: str | None) -> None:
        self._write(shoes.set_default, name)

    def rename_shoe(self, name: str, new_name: str) -> None:
        self._write(shoes.rename, name, new_name)

    def set_shoe_retire_km(self, name: str, km: float | None) -> None:
        self._write(shoes.set_retire_km, name, km)

    def set_activity_shoe(self, activity_id: str, name: str | None, *, source: str = "user") -> None:
        self._write(shoes.assign_run, activity_id, name, source=source, override_user=True)

    def assign_gear(self, gear: dict[str, str], *, source: str = "strava") -> dict[str, str]:
        """Give runs the pairs an export names, in one transaction (:func:`loadwatch.ingest.shoes.assign_gear`)."""
        return self._write(shoes.assign_gear, gear, source=source)

    # --- sessions, outcomes and programmes (ingest/sessions.py, outcomes.py, programmes.py) -------------
    def add_session(self, day, kind: str, minutes: float, *, rpe: float | None = None, note: str = "") -> int:
        """Log a session without a file; returns its id (:func:`loadwatch.ingest.sessions.validate`)."""
        session = sessions.validate(sessions.Session(day, kind, minutes, rpe, note), self._today())
        return self._write(sessions.add, session, db.now_iso())

    def delete_session(self, session_id: int) -> None:
        self._write(sessions.delete, session_id)

    def sessions(self) -> pd.DataFrame:
        return self._read(sessions.frame)

    def put_ostrc(self, week_start, **answers) -> None:
        day = outcomes.week_start_of(check_day(week_start, self._today(), "the week"), self.settings().week_start)
        self._write(outcomes.put_ostrc, day, answers, db.now_iso())

    def ostrc(self) -> pd.DataFrame:
        return self._read(outcomes.ostrc_frame)

    def add_psfs_activity(self, name: str, day) -> int:
        return self._write(outcomes.add_psfs_activity, name, check_day(day, self._today()), db.now_iso())

    def add_psfs_score(self, activity, day, score) -> int:
        return self._write(outcomes.add_psfs_score, activity, check_day(day, self._today()), score, db.now_iso())

    def psfs(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        return self._read(outcomes.psfs_frames)

    def start_programme(self, kind: str, day) -> int:
        return self._write(programmes.start, kind, check_day(day, self._today()), db.now_iso())

    def stop_programme(self, day) -> int:
        return self._write(programmes.stop, check_day(day, self._today()))

    def programmes(self) -> pd.DataFrame:
        return self._read(programmes.frame)
