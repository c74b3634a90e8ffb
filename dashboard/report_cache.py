"""The printed report, kept beside the store for the next ``loadwatch report`` (issue 21: the command
answers in half a second; computing the report over five years takes about a second and a half, and
importing pandas alone a third of one).

A kept report (its text, as printed) is used only when its key matches: the digest of everything the
store holds that a report reads (:func:`loadwatch.ingest.store_light.fingerprint`, so any write - an activity, a
correction, a pain entry, an assessment, a setting - makes a new key), the report's day (``--as-of``,
else today in the runner's time zone), the number of weeks, the view (JSON, or text laid out in the
terminal's width), and the code that computes and words it (the size and time of every source file of
``metrics``, ``ingest`` and the report's own modules, so an upgrade never reads an old report).  The file
sits beside the store, private (``0600``) like it, and holds the last few reports only.

Computing a report takes longer than the half second (pandas' import alone is a quarter of one), so after a
``loadwatch`` command that wrote to the store the kept reports are computed again in the background
(:mod:`loadwatch.dashboard.cli.report_refresh`, with each report's own day, weeks and view, kept beside
its text as ``asked``), and a ``loadwatch report`` typed while that runs waits for it instead of computing
the same report beside it (one lock, beside the cache).  ``LOADWATCH_REPORT_REFRESH=0`` turns the
background refresh off.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

#: The environment variable that turns the background refresh off ("0").
REFRESH_ENV = "LOADWATCH_REPORT_REFRESH"
#: How long a report waits for a refresh in progress [s] before computing the report itself.
LOCK_WAIT_S = 15.0

#: How many reports the cache keeps (the newest): today's text and JSON, and a few asked beside them.
KEEP_REPORTS = 4

_ROOT = Path(__file__).resolve().parent.parent
#: The code a report comes from: a change to any of it makes every kept report stale.
_CODE = ("metrics", "ingest", "dashboard/from_store.py", "dashboard/report_cache.py", "dashboard/cli/cmd_report.py",
         "dashboard/report/outcomes.py", "dashboard/cli/term.py")


def cache_path(store: Path) -> Path:
    """Where the reports computed from ``store`` are kept."""
    return store.with_name(store.name + ".report-cache.json")


def lock_path(store: Path) -> Path:
    """The lock that lets one process at a time compute the reports of ``store``."""
    return store.with_name(store.name + ".report-cache.lock")


def refresh_wanted() -> bool:
    """Whether kept reports are computed again in the background after a write (``LOADWATCH_REPORT_REFRESH``)."""
    return os.environ.get(REFRESH_ENV, "1").strip() != "0"


@contextlib.contextmanager
def computing(db, wait_s: float = LOCK_WAIT_S) -> Iterator[bool]:
    """Hold the lock on computing the reports of the store at ``db`` (waiting up to ``wait_s`` for another
    process's refresh to finish); yields whether it was got.  Without it (a folder that cannot be written,
    a system without ``fcntl``, a refresh that takes longer) the report is computed all the same."""
    from loadwatch.ingest.store_light import store_path

    try:
        import fcntl

        # never through a link planted beside the store (a shared folder): no file is made where it points
        fd = os.open(lock_path(store_path(db)), os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
    except (ImportError, OSError):
        yield False
        return
    try:
        deadline, got = time.monotonic() + wait_s, False
        while not got:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                got = True
            except BlockingIOError:
                if time.monotonic() > deadline:
                    break
                time.sleep(0.02)
            except OSError:
                break
        yield got
    finally:
        os.close(fd)  # and with it the lock


def asked(db) -> list[dict]:
    """How each kept report was asked for (``as_of``, ``weeks``, ``json``, ``width``, ``wrap``), newest
    first, once each: what a refresh computes again."""
    from loadwatch.ingest.store_light import store_path

    out: list[dict] = []
    for e in _read(cache_path(store_path(db))):
        a = e.get("asked") if isinstance(e, dict) else None
        if isinstance(a, dict) and a not in out:
            out.append(a)
    return out


def _code_version() -> str:
    parts = []
    for name in _CODE:
        path = _ROOT / name
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        for f in files:
            st = f.stat()
            parts.append(f"{f.relative_to(_ROOT)}:{st.st_size}:{st.st_mtime_ns}")
    return "|".join(parts)


def report_key(db, as_of: dt.date | None, weeks: int, view: str, watch=None) -> str | None:
    """The key of the report of the store at ``db`` as of ``as_of`` (None: today in the runner's time
    zone) over ``weeks`` weeks, printed as ``view`` says; None when the store cannot be read lightly (then
    nothing is cached).  ``watch``: a :class:`loadwatch.ingest.store_light.Watch` of ``db`` to read it with."""
    from loadwatch.ingest import store_light

    read = watch.fingerprint() if watch is not None else store_light.fingerprint(db)
    if read is None:
        return None
    digest, settings = read
    day = as_of or dt.datetime.now(ZoneInfo(settings.timezone or "UTC")).date()
    return json.dumps([digest, day.isoformat(), int(weeks), view, _code_version()])


def kept_or_computed(db, as_of: dt.date | None, weeks: int, view: str, compute: Callable[[], str],
                     asked: dict | None = None) -> str:
    """The report's text kept for the store at ``db`` (``as_of``, ``weeks``, ``view`` as in
    :func:`report_key`), else ``compute()``'s, kept (with ``asked``: how to ask for it again, for the
    background refresh) when no write came in while it was computed (SQLite's data version, unchanged since
    the key was read; else the next run computes it again).  A refresh in progress is waited for."""
    from loadwatch.ingest.store_light import Watch

    with Watch(db) as watch:
        key = report_key(db, as_of, weeks, view, watch)
        text = lookup(db, key)
        if text is not None:
            return text
        with computing(db):
            text = lookup(db, key)  # kept by the refresh we waited for
            if text is None:
                text = compute()
                if key is not None and not watch.changed():
                    keep(db, key, text, asked)
    return text


def _read(path: Path) -> list:
    try:
        kept = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []  # none yet, or unreadable: computed again
    return kept if isinstance(kept, list) else []


def lookup(db, key: str | None) -> str | None:
    """The report's text kept under ``key`` for the store at ``db``, else None."""
    from loadwatch.ingest.store_light import store_path

    if key is None:
        return None
    return next((e["text"] for e in _read(cache_path(store_path(db)))
                 if isinstance(e, dict) and e.get("key") == key and isinstance(e.get("text"), str)), None)


def keep(db, key: str | None, text: str, asked: dict | None = None) -> None:
    """Keep the report's ``text`` under ``key`` (the newest :data:`KEEP_REPORTS`), written whole or not at all; a
    folder that cannot be written only means the next report is computed again."""
    from loadwatch.ingest.store_light import store_path

    if key is None:
        return
    path = cache_path(store_path(db))
    kept = [e for e in _read(path) if isinstance(e, dict) and e.get("key") != key]
    entry = {"key": key, "text": text} if asked is None else {"key": key, "text": text, "asked": asked}
    kept = ([entry] + kept)[:KEEP_REPORTS]
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")  # 0600
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(kept, f)
        os.replace(tmp, path)
    except (OSError, ValueError):
        try:
            os.unlink(tmp)
        except (OSError, UnboundLocalError):
            pass
