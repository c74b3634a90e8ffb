"""Helpers for the dashboard's AppTest and browser tests (not a test module).

:func:`build_history` writes a realistic store through the real import path (generated FIT files ->
``loadwatch.ingest.importer.import_files``) plus pain entries, relative to today so the landing page has something
to say: 16 complete weeks in 4-week cycles (a 40 km week, a week with a back-pain flare-up of 5/10 after a
run, two 20 km weeks; a pain-free check-in every other Wednesday, so each flare-up's hold ends a week later)
- enough for a suggested rule on weekly distance - and, yesterday, an 18 km run: a spike over the 30-day
longest (12 km).
"""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

PAGES_DIR = Path(__file__).resolve().parent.parent / "dashboard" / "app" / "pages"
APP_PATH = PAGES_DIR.parent / "main.py"

NORMAL_WEEK_KM = (6.0, 6.0, 8.0)  # Mon, Wed, Sat
BIG_WEEK_KM = (8.0, 10.0, 10.0, 12.0)  # Mon, Wed, Fri, Sat
SPIKE_KM = 18.0


def no_exceptions(at) -> None:
    assert not at.exception, [e.value for e in at.exception]


def save_pain_entry(at) -> None:
    """Click the Pain log form's "Save pain entry" and draw the page again."""
    [save] = [b for b in at.button if b.label == "Save pain entry"]
    save.click().run()
    no_exceptions(at)


def finish_imports(at) -> None:
    """Wait for the dashboard's background imports into this test's store (loadwatch.dashboard.pipelines.import_jobs), then
    draw the page again."""
    import os

    from loadwatch.dashboard.pipelines import import_jobs

    job = import_jobs.running(os.environ["LOADWATCH_DB"])
    if job is not None:
        assert import_jobs.wait(job, 120), "the import did not finish"
    at.run()
    no_exceptions(at)


def texts(at) -> str:
    """Every text the page shows (markdown, captions, alerts, titles, metric labels), for substring checks."""
    parts = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "info", "success", "warning",
                 "error", "text"):
        parts += [str(e.value) for e in getattr(at, kind)]
    parts += [f"{m.label}: {m.value}" for m in at.metric]
    return "\n".join(parts)


def charts(at) -> list:
    """The Altair/Vega-Lite charts on the page."""
    return [e for e in at.get("vega_lite_chart")]


def history_files(today: date | None = None) -> list[tuple[str, bytes]]:
    from loadwatch.ingest.synth import SynthRun, fit_bytes

    today = today or date.today()
    this_monday = today - timedelta(days=today.weekday())
    files = []
    for w in range(16, 0, -1):
        monday = this_monday - timedelta(weeks=w)
        big = w % 4 == 0
        days = (0, 2, 4, 5) if big else (0, 2, 5)
        for d, km in zip(days, BIG_WEEK_KM if big else NORMAL_WEEK_KM, strict=True):
            day = monday + timedelta(days=d)
            if day >= today - timedelta(days=1):
                continue
            run = SynthRun(start_utc=datetime(day.year, day.month, day.day, 7, 0, tzinfo=UTC),
                           duration_s=int(km * 330), distance_m=km * 1000, seed=w * 10 + d,
                           sub_sport="trail" if d == 2 else "street", with_dynamics=True)
            files.append((f"run-{day.isoformat()}.fit", fit_bytes(run)))
    spike_day = today - timedelta(days=1)
    spike = SynthRun(start_utc=datetime(spike_day.year, spike_day.month, spike_day.day, 7, 0, tzinfo=UTC),
                     duration_s=int(SPIKE_KM * 330), distance_m=SPIKE_KM * 1000, seed=999, sub_sport="street")
    files.append((f"run-{spike_day.isoformat()}-long.fit", fit_bytes(spike)))
    return files


def pain_entries(today: date | None = None) -> list:
    from loadwatch.ingest.painlog import PainEntry

    today = today or date.today()
    this_monday = today - timedelta(days=today.weekday())
    out = []
    for w in range(16, 0, -1):
        wed = this_monday - timedelta(weeks=w) + timedelta(days=2)
        flare = w % 4 == 3  # the week after each 40 km week: 5/10 after the run (amber, a flare-up)
        out.append(PainEntry(at_local=datetime(wed.year, wed.month, wed.day, 19, 0),
                             score=5 if flare else 0, timing="after", location="lower_back"))
    return out


def build_history(path: Path) -> None:
    from loadwatch.ingest.importer import import_files
    from loadwatch.ingest.store import Store

    with Store(path) as store:
        outcomes = import_files(store, history_files())
        assert {o.status for o in outcomes} == {"imported"}, [(o.name, o.reason) for o in outcomes]
        for entry in pain_entries():
            store.add_pain(entry)


#: The history stores built so far, one per day they were built on (the history is relative to today, so a
#: test run on another day, or a session that crosses midnight, gets its own).
_TEMPLATE: dict[date, Path] = {}


def copy_history(dest: Path, cache_dir: Path) -> Path:
    """Copy a once-built history store to ``dest`` (building it into ``cache_dir`` the first time today)."""
    today = date.today()
    if today not in _TEMPLATE:
        template = cache_dir / f"history-template-{today.isoformat()}.sqlite3"
        build_history(template)
        from loadwatch.ingest.store import Store

        with Store(template) as store:  # fold the WAL into the main file before copying it
            store.close()
        _TEMPLATE[today] = template
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_TEMPLATE[today], dest)
    wal = _TEMPLATE[today].with_name(_TEMPLATE[today].name + "-wal")
    if wal.exists():
        shutil.copyfile(wal, dest.with_name(dest.name + "-wal"))
    return dest
