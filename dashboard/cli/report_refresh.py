"""The kept reports computed again in the background after a write (issue 21: ``loadwatch report`` answers
in half a second, and computing it takes more than that: pandas' import alone takes a quarter of one).

After a ``loadwatch`` command that wrote to the store (a pain entry, an import, a setting...), :func:`start`
runs ``python -m loadwatch.dashboard.cli.report_refresh --db PATH`` in a process of its own that the
runner's shell does not wait for: it computes each report the cache keeps (:func:`loadwatch.dashboard.
report_cache.asked`: the same day, weeks and view) for the store as it is now, and keeps it.  The next
``loadwatch report`` prints the kept text; typed while the refresh runs, it waits for it (the cache's lock).
Only a store whose reports have been asked for is refreshed, and ``LOADWATCH_REPORT_REFRESH=0`` turns it
off.  A refresh that fails is silent: the next report is computed as it would have been.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys


def start(db) -> subprocess.Popen | None:
    """Refresh the kept reports of the store at ``db`` in a process of its own (its own session, no
    terminal), when there are kept reports and the refresh is wanted; the process, or None."""
    from loadwatch.dashboard import report_cache
    from loadwatch.ingest.store_light import store_path

    if not report_cache.refresh_wanted() or not report_cache.cache_path(store_path(db)).is_file():
        return None
    argv = [sys.executable, "-m", __name__, "--db", str(store_path(db))]
    try:
        return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True, close_fds=True)
    except OSError:
        return None  # the report is computed when asked for


def refresh(db) -> int:
    """Compute and keep every report the cache keeps for the store at ``db`` that is out of date; how
    many were computed."""
    import datetime as dt

    from loadwatch.dashboard import report_cache
    from loadwatch.dashboard.cli.cmd_report import report_text, report_view

    reports: dict[tuple, dict] = {}  # one computation per day and weeks, for the text and the JSON views
    computed = 0
    for asked in report_cache.asked(db):
        as_of = dt.date.fromisoformat(asked["as_of"]) if asked.get("as_of") else None
        weeks = int(asked["weeks"])

        def compute(asked=asked, as_of=as_of, weeks=weeks) -> str:
            nonlocal computed
            computed += 1
            if (as_of, weeks) not in reports:
                from loadwatch.dashboard.from_store import report_from_store
                from loadwatch.ingest.store import Store

                with Store(db) as store:
                    reports[(as_of, weeks)] = report_from_store(store, as_of=as_of, weeks=weeks)
            return report_text(db, asked, reports[(as_of, weeks)])

        report_cache.kept_or_computed(db, as_of, weeks, report_view(asked), compute, asked)
    return computed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m loadwatch.dashboard.cli.report_refresh",
                                     description="Compute the kept loadwatch reports again (run after a write).")
    parser.add_argument("--db", metavar="PATH", default=None, help="the loadwatch store")
    args = parser.parse_args(argv)
    if "pandas" not in sys.modules:  # as for the report command itself (cli.main.keep_light): pandas without pyarrow
        sys.modules.setdefault("pyarrow", None)  # type: ignore[arg-type]
    try:
        os.nice(10)  # after the runner's own commands
    except OSError:
        pass
    try:
        refresh(args.db)
    except Exception:  # noqa: BLE001 - silent by design: the next report is computed in the foreground
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
