"""Imports the dashboard runs in the background: one thread per import, owned by the server process, not by
the page's script run, so an import goes on to its last file whatever page the runner opens (a script run
is stopped when the runner navigates away, and an import inside it stopped with it).

Every page reads the progress (:func:`running`, drawn in the sidebar by ``loadwatch.dashboard.app.ui``), and the result,
each file's outcome in the runner's words, is kept until the runner has read it (:func:`unread`,
:func:`mark_read`).  Jobs are per store, in this process's memory: nothing is written but the store itself.
The decoding itself happens in ``loadwatch.ingest.importer``'s worker processes, which stay alive between imports.
"""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from loadwatch.metrics import fmt

#: How each outcome is said ("imported", "already in your store"...), in this order on the Import page.
OUTCOMES = ("imported", "replaced", "duplicate", "skipped", "failed")


@dataclass
class Job:
    """One import: its files' outcomes as they arrive (``rows``: dicts the Import page tables)."""

    id: int
    db_path: str
    files: int
    total: int | None = None
    done: int = 0
    current: str = ""
    rows: list[dict] = field(default_factory=list)
    state: str = "running"  # running | done | failed
    error: str = ""
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None
    read: bool = False

    @property
    def running(self) -> bool:
        return self.state == "running"

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(OUTCOMES, 0)
        for row in list(self.rows):
            counts[row["status"]] = counts.get(row["status"], 0) + 1
        return counts

    def progress(self) -> tuple[float, str]:
        """(fraction done, a line of words) for a progress bar."""
        if not self.running:
            return 1.0, self.summary()
        total = self.total
        frac = min(self.done / total, 1.0) if total else min(self.done / (self.done + 10), 0.95)
        of = f" of {total}" if total else ""
        return frac, f"Importing: {self.done}{of} files read" + (f" ({self.current})" if self.current else "")

    def summary(self) -> str:
        """"Import finished: 40 imported, 2 duplicates." (the counts that are not zero)."""
        if self.state == "failed":
            return f"The import stopped: {self.error}"
        counts = self.counts()
        parts = [f"{n} {fmt.words(status, 'outcome')}" for status, n in counts.items() if n]
        read = sum(counts.values())
        # a zip holds many files: "6 files read from 5 uploads" adds up where "5 files uploaded: 6 ..." did not
        said = (f"{fmt.count(self.files, 'file')} uploaded" if read in (0, self.files)
                else f"{fmt.count(read, 'file')} read from {fmt.count(self.files, 'upload')}")
        return f"Import finished, {said}: " + (", ".join(parts) or "nothing to import") + "."


_jobs: list[Job] = []
_lock = threading.Lock()
_ids = itertools.count(1)


def _outcome_day(o, timezone: str) -> str:
    if o.start_utc is None:
        return fmt.MISSING
    start = pd.Timestamp(o.start_utc)
    if o.utc_offset_s is not None:
        return fmt.day(start.tz_convert("UTC") + pd.Timedelta(seconds=o.utc_offset_s))
    return fmt.day(start.tz_convert(timezone))


def outcome_row(o, settings) -> dict:
    """One file's outcome (``loadwatch.ingest.importer.Outcome``) as the Import page shows it, in the runner's units."""
    return {
        "file": o.name, "result": fmt.words(o.status, "outcome"), "date": _outcome_day(o, settings.timezone),
        "sport": fmt.words(o.sport, "sport") if o.sport else fmt.MISSING,
        "distance": fmt.distance(None if o.distance_m is None else o.distance_m / 1000.0, settings.units),
        "notes": "; ".join(filter(None, [
            f"left out of your load: {o.excluded_reason}" if o.excluded_reason else "",
            *[w for w in o.warnings if not (o.excluded_reason and w.endswith(o.excluded_reason))],
            o.reason or ""])) or fmt.MISSING,
        "status": o.status,
    }


def start(db_path: str | Path, files: list[tuple[str, bytes]]) -> Job:
    """Import ``files`` ((name, bytes): read from the uploader before the script run ends) into the store at
    ``db_path`` in a background thread; returns the job at once."""
    job = Job(next(_ids), str(db_path), len(files))
    with _lock:
        _jobs.append(job)
    threading.Thread(target=_run, args=(job, files), name=f"loadwatch-import-{job.id}", daemon=True).start()
    return job


def _run(job: Job, files: list[tuple[str, bytes]]) -> None:
    from loadwatch.ingest import importer
    from loadwatch.ingest.store import Store

    def on_progress(done: int, total: int | None, name: str) -> None:
        job.done, job.total, job.current = done, total, name

    try:
        with Store(Path(job.db_path)) as store:
            settings = store.settings()
            importer.import_files(store, files, progress=on_progress,
                                  on_outcome=lambda o: job.rows.append(outcome_row(o, settings)))
    except Exception as exc:  # noqa: BLE001 - shown to the runner; the files already written stay
        job.error = f"{type(exc).__name__}: {exc}"
        job.state = "failed"
    else:
        job.state = "done"
    job.finished = time.monotonic()


def running(db_path: str | Path) -> Job | None:
    """The import running into this store (None when none is)."""
    with _lock:
        return next((j for j in _jobs if j.db_path == str(db_path) and j.running), None)


def unread(db_path: str | Path) -> list[Job]:
    """Finished imports into this store whose result the runner has not yet marked as read, newest first."""
    with _lock:
        return [j for j in reversed(_jobs) if j.db_path == str(db_path) and not j.running and not j.read]


def mark_read(job: Job) -> None:
    """The runner has read the result: it is forgotten."""
    with _lock:
        job.read = True
        if job in _jobs:
            _jobs.remove(job)


def wait(job: Job, timeout_s: float = 120.0) -> bool:
    """Block until ``job`` finishes (tests, benchmarks); True when it did within ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while job.running and time.monotonic() < deadline:
        time.sleep(0.05)
    return not job.running
