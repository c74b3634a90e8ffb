"""Speed a runner feels (issue 21), over five years of history on this machine: every dashboard page
cold and warm, saving a correction and a pain entry, and the everyday commands - each printed against its
goal.

Goals (issue 21; the old landing-page goal was 3 s):

* every page: <= 1 s warm (the store unchanged since the last visit) and <= 2 s cold (nothing cached);
* saving an activity correction or a pain entry: <= 0.5 s until the page has answered;
* ``loadwatch pain add``, ``loadwatch activities``, ``loadwatch report``: <= 0.5 s from the shell (the
  report both right after a write, when it is computed, and with the store unchanged, when the text kept
  by ``loadwatch.dashboard.report_cache`` is printed);
* ``loadwatch report --pdf``: <= 2 s cold (a fresh process): timed with the store unchanged since the last
  report (its numbers kept by ``loadwatch.dashboard.report_cache``) and right after a write (computed).  The PDF's
  charts are drawn with fpdf2 (``loadwatch.dashboard.report.pdf_charts``): neither Altair nor vl-convert is imported.

The store: 5 years of runs (4-5 a week, ~1,150 activities) plus weekly pain entries, added with
``Store.add_activity`` from generated ``Activity`` objects (summary + a one-minute sample frame, a
heart-rate histogram) instead of decoding thousands of FIT files: the pages read summaries and
histograms, so how they got in does not change what is measured (decoding speed is ``bench_import.py``'s
business).  The last week's runs are real generated FIT files, imported, so the Activities page's detail
view decodes a stored original as it does for a runner.

Pages are rendered by Streamlit's ``AppTest`` (the page script with its widgets and charts, as the server
runs it; the browser's own drawing is not counted).  *Cold*: every cache cleared (``st.cache_data`` and
``st.cache_resource``) in a process that has already imported the libraries (a running server);
*warm*: the same page again, the store unchanged.  Each command runs three times in a fresh
interpreter, as the ``loadwatch`` script starts it; the median is printed.  Beside each wall-clock time
the CPU time it took is printed: on a shared machine (a load of 8 on 2 cores) the wall clock waits for
other work, and the CPU time says what the page or command itself costs.

    .venv/bin/python benchmarks/bench_dashboard.py [--years 5] [--db PATH] [--pages-only | --commands-only]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PAGE_WARM_GOAL_S = 1.0
PAGE_COLD_GOAL_S = 2.0
SAVE_GOAL_S = 0.5
COMMAND_GOAL_S = 0.5
PDF_GOAL_S = 2.0

PAGES = ("this_week", "import_files", "load", "month_calendar", "pain_log", "alerts", "activities",
         "shoes_sessions", "settings")
ENTRY = "import sys; from loadwatch.dashboard.cli.main import main; sys.exit(main())"  # what the loadwatch script runs


def build_store(path: Path, years: int, seed: int = 0) -> int:
    from loadwatch.ingest.canonical import Activity, Summary, hr_histogram, make_samples
    from loadwatch.ingest.painlog import PainEntry
    from loadwatch.ingest.store import Store

    rng = np.random.default_rng(seed)
    today = date.today()
    start = today - timedelta(days=365 * years)
    n = 0
    with Store(path) as store:
        day = start
        while day < today:
            if day.weekday() in (0, 2, 3, 5) or (day.weekday() == 6 and rng.random() < 0.5):
                km = float(rng.choice([6, 8, 10, 16]) + rng.normal(0, 0.8))
                t0 = pd.Timestamp(datetime(day.year, day.month, day.day, 7), tz="UTC")
                moving = km * 330
                t = t0 + pd.to_timedelta(np.arange(60), unit="s")
                samples = make_samples(t, {"heart_rate_bpm": 140 + rng.normal(0, 5, 60),
                                           "distance_m": np.linspace(0, 60 * km * 1000 / moving, 60)})
                hist = hr_histogram(samples) * (moving / 60)
                original = f"synthetic activity {day.isoformat()} {km:.3f}".encode()
                summary = Summary(
                    id=hashlib.sha256(original).hexdigest(), source=f"{day}.fit", format="fit", sport="running",
                    sub_sport=rng.choice(["street", "trail", "track"]), start_utc=t0, utc_offset_s=0.0,
                    elapsed_s=moving + 60, moving_s=moving, distance_m=km * 1000, avg_hr_bpm=145.0,
                    max_hr_bpm=170.0, avg_cadence_spm=170.0, hr_seconds_by_bpm=hist)
                store.add_activity(Activity(summary, samples), original, f"{day}.fit")
                n += 1
            if day.weekday() == 1:
                store.add_pain(PainEntry(at_local=datetime(day.year, day.month, day.day, 8),
                                         score=3 if (day - start).days // 7 % 6 == 0 else 0,
                                         timing="next_morning"))  # a short flare-up every six weeks
            day += timedelta(days=1)
    return n


def add_recent_fit_runs(path: Path, days: int = 6) -> None:
    """The last week's runs as real generated FIT files through the import (the detail view decodes one)."""
    from loadwatch.ingest.importer import import_files
    from loadwatch.ingest.store import Store
    from loadwatch.ingest.synth import SynthRun, fit_bytes

    today = date.today()
    files = []
    for back in range(days - 1, 0, -2):  # yesterday evening the newest: the detail view decodes it
        d = today - timedelta(days=back)
        run = SynthRun(start_utc=datetime(d.year, d.month, d.day, 18, tzinfo=UTC),
                       duration_s=3000, distance_m=9000.0, seed=back, sub_sport="street")
        files.append((f"recent-{d}.fit", fit_bytes(run)))
    with Store(path) as store:
        import_files(store, files, workers=0)


def share_component_scan() -> None:
    """A server scans the installed Streamlit components once, when it starts; ``AppTest`` scans them again
    for every new test app (half a second here, reading every package's metadata), which no runner ever
    waits for on a page.  Scan once and share the result, so a page's time is the page's own."""
    import streamlit.testing.v1.app_test as app_test_mod

    shared = app_test_mod.BidiComponentManager()
    shared.discover_and_register_components(start_file_watching=False)
    shared.discover_and_register_components = lambda **kwargs: None
    app_test_mod.BidiComponentManager = lambda: shared


def quiet_streamlit() -> None:
    """Streamlit's bare-mode warnings (no server, no session context) say nothing about speed."""
    import streamlit.logger

    streamlit.logger.set_log_level("error")


def _clear_caches() -> None:
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()


def render(page: str, *, cold: bool):
    """(seconds, AppTest) for one page, its caches cleared first when ``cold``."""
    from streamlit.testing.v1 import AppTest

    if cold:
        _clear_caches()
    quiet_streamlit()  # Streamlit sets its loggers up again when a cache is first made
    at = AppTest.from_file(str(ROOT / "dashboard" / "app" / "pages" / f"{page}.py"), default_timeout=120)
    t0, c0 = time.perf_counter(), time.process_time()
    at.run()
    seconds = time.perf_counter() - t0
    _CPU[page, cold] = time.process_time() - c0
    if at.exception:
        raise RuntimeError(f"{page}: {[e.value for e in at.exception]}")
    return seconds, at


_CPU: dict = {}


def _verdict(seconds: float, goal: float, cpu: float | None = None) -> str:
    return (f"{seconds:6.2f} s = {seconds / goal:4.2f} x the {goal:g} s goal"
            + ("" if cpu is None else f"  (CPU {cpu:.2f} s)") + ("" if seconds <= goal else "  MISSED"))


def time_pages(path: Path) -> list[tuple[str, float, float]]:
    os.environ["LOADWATCH_DB"] = str(path)
    quiet_streamlit()
    share_component_scan()
    results = []
    first, _ = render("this_week", cold=True)  # the server's first page: the libraries are imported here
    print(f"first page after start-up (imports included), this week: {first:.2f} s")
    for page in PAGES:
        cold, at = render(page, cold=True)
        warm, _ = render(page, cold=False)
        if page == "this_week":
            assert any(m.label.startswith("Distance this week") for m in at.metric), "the landing page drew no numbers"
        print(f"page {page:<15} cold {_verdict(cold, PAGE_COLD_GOAL_S, _CPU[page, True])}")
        print(f"page {page:<15} warm {_verdict(warm, PAGE_WARM_GOAL_S, _CPU[page, False])}")
        results += [(f"page {page} cold", cold, PAGE_COLD_GOAL_S), (f"page {page} warm", warm, PAGE_WARM_GOAL_S)]
    return results


def _timed_save(at, button: str, label: str) -> tuple[str, float, float]:
    """Click ``button`` and time the page's answer; the page must confirm the save."""
    save = next(b for b in at.button if b.label == button)
    t0, c0 = time.perf_counter(), time.process_time()
    save.click().run()
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    assert not at.exception and any("Saved" in str(e.value) for e in at.success), f"{label}: no confirmation"
    print(f"{label:<36} {_verdict(seconds, SAVE_GOAL_S, cpu)}")
    return label, seconds, SAVE_GOAL_S


def time_saves(path: Path) -> list[tuple[str, float, float]]:
    """A correction on the Activities page and a pain entry on the Pain log, from the click until the page
    has answered (the store written, the page drawn again with the change)."""
    os.environ["LOADWATCH_DB"] = str(path)
    _, at = render("activities", cold=False)
    rpe = next(n for n in at.number_input if n.label.startswith("How hard"))
    rpe.set_value(5.0 if rpe.value != 5.0 else 6.0)
    results = [_timed_save(at, "Save", "save a correction (Activities)")]
    _, at = render("pain_log", cold=False)
    at.slider[0].set_value(2)
    results.append(_timed_save(at, "Save pain entry", "save a pain entry (Pain log)"))
    return results


def _children_cpu() -> float:
    """CPU time [s] of the finished child processes (user + system)."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def time_commands(path: Path, out_dir: Path) -> list[tuple[str, float, float]]:
    env = {**os.environ, "LOADWATCH_DB": str(path), "PYTHONPATH": str(ROOT)}
    # as on a runner's machine, Python keeps the compiled modules (this machine's PYTHONDONTWRITEBYTECODE
    # would compile loadwatch's own modules afresh on every command: 0.08 s of each)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["LOADWATCH_REPORT_REFRESH"] = "1"  # as a runner has it (the default): a write refreshes kept reports
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    pain_add = ["pain", "add", "--date", yesterday, "--score", "1", "--timing", "next_morning"]
    pdf = ["report", "--pdf", str(out_dir / "physio.pdf")]
    # ``report`` keeps its text until the store changes (dashboard.report_cache), and a write computes the
    # kept reports again in the background (dashboard/cli/report_refresh.py).  Timed: typed two seconds after
    # a write (a pain entry), as a runner types it at the terminal; with the store unchanged; and, as figures
    # without a goal, typed at once after the write (a script: it waits for the refresh in progress) and
    # computed in the foreground with the refresh turned off (the work the refresh does).
    # (label, commands before the timed one, seconds to wait after them, the timed command, goal, env)
    commands = [
        ("loadwatch pain add", [], 0, pain_add, COMMAND_GOAL_S, {}),
        ("loadwatch activities", [], 0, ["activities"], COMMAND_GOAL_S, {}),
        ("loadwatch report (2 s after a write)", [pain_add], 2.0, ["report"], COMMAND_GOAL_S, {}),
        ("loadwatch report (store unchanged)", [], 0, ["report"], COMMAND_GOAL_S, {}),
        ("loadwatch report (at once after a write)", [pain_add], 0, ["report"], None, {}),
        ("loadwatch report (computed, refresh off)", [pain_add], 0, ["report"], None,
         {"LOADWATCH_REPORT_REFRESH": "0"}),
        ("loadwatch report --pdf (cold)", [], 0, pdf, PDF_GOAL_S, {}),
        ("loadwatch report --pdf (2 s after a write)", [pain_add], 2.0, pdf, PDF_GOAL_S, {}),
        ("loadwatch report --pdf (computed, refresh off)", [pain_add], 0, pdf, PDF_GOAL_S,
         {"LOADWATCH_REPORT_REFRESH": "0"}),
    ]
    results = []
    for label, before, pause_s, timed, goal, extra in commands:
        times, cpus = [], []
        for _ in range(3):
            _settle(path)  # no refresh of the previous round still running
            for argv in before:  # what comes before the timed command (the write)
                _run(label, argv, {**env, **extra})
            time.sleep(pause_s)
            t0, c0 = time.perf_counter(), _children_cpu()
            _run(label, timed, {**env, **extra})
            times.append(time.perf_counter() - t0)
            cpus.append(_children_cpu() - c0)
        seconds = statistics.median(times)
        runs = f"(runs: {', '.join(f'{t:.2f}' for t in times)})"
        if goal is None:
            print(f"{label:<46} {seconds:6.2f} s (no goal: see above)  (CPU {statistics.median(cpus):.2f} s)  {runs}")
            continue
        print(f"{label:<46} {_verdict(seconds, goal, statistics.median(cpus))}  {runs}")
        results.append((label, seconds, goal))
    _settle(path)
    return results


def _settle(path: Path) -> None:
    """Wait for a background refresh of the store's reports to finish (started by the last write: it may
    not hold its lock yet, so its process is looked for too)."""
    import psutil

    from loadwatch.dashboard import report_cache

    refreshes = [p for p in psutil.process_iter(["cmdline"])
                 if "loadwatch.dashboard.cli.report_refresh" in (p.info["cmdline"] or [])]
    psutil.wait_procs(refreshes, timeout=120)
    with report_cache.computing(path, wait_s=120):
        pass


def _run(label: str, argv: list[str], env: dict) -> None:
    """One ``loadwatch`` command in a fresh interpreter, as the script starts it."""
    done = subprocess.run([sys.executable, "-c", ENTRY, *argv], env=env, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{label}: exit {done.returncode}: {done.stderr[-500:]}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", type=int, default=5)
    parser.add_argument("--db", type=Path, default=None, help="reuse/keep this store (built if missing)")
    only = parser.add_mutually_exclusive_group()
    only.add_argument("--pages-only", action="store_true")
    only.add_argument("--commands-only", action="store_true")
    args = parser.parse_args(argv)
    tmp = tempfile.TemporaryDirectory()
    path = args.db or Path(tmp.name) / "bench.sqlite3"
    if not path.exists():
        t0 = time.perf_counter()
        n = build_store(path, args.years)
        add_recent_fit_runs(path)
        print(f"built {path}: {n} runs over {args.years} years in {time.perf_counter() - t0:.1f} s")
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    results = []
    if not args.commands_only:
        results += time_pages(path) + time_saves(path)
    if not args.pages_only:
        results += time_commands(path, Path(tmp.name))
    missed = [label for label, seconds, goal in results if seconds > goal]
    print(f"{len(results) - len(missed)} of {len(results)} within their goals" +
          (f"; missed: {', '.join(missed)}" if missed else ""))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
