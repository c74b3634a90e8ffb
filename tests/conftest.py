"""Shared test fixtures.

Every test runs with ``LOADWATCH_DB`` pointing into its own temporary folder, so no test can ever touch a
runner's real store.  The real-world files of ``../shared/corpus`` are found relative to this file, never
the working directory, and tests that need them skip cleanly when the folder is absent.

A test that depends on today freezes the clock with time-machine: the ``today`` fixture (a known Sunday, or
the day a test is parametrized with: ``EVERY_WEEKDAY`` runs a test once for each day of a week) or a
``with time_machine.travel(...)`` block. ``LOADWATCH_TEST_TODAY=YYYY-MM-DD`` runs the whole suite on another day (tests/test_house_tests.py
checks that no test reads the clock unfrozen). Plain helpers shared by many modules are in tests/helpers.py.

A test leaves no process behind: at the end of the session every process this pytest started (its
descendants, and any process re-parented to init that still carries this session's mark in its
environment) must be gone, or the session fails naming them (and they are killed).
"""

from __future__ import annotations

import os
import sys
import uuid
from datetime import date, timedelta
from pathlib import Path

import psutil
import pytest
import time_machine
from hypothesis import settings as hypothesis_settings

from tests.helpers import CORPUS_DIR, at_ten, corpus_manifest  # noqa: F401  (imported from here by test modules)

# Property tests check what the code says, not how fast it says it: on a loaded 2-core machine one example
# can take far past Hypothesis' 200 ms deadline (speed is measured in benchmarks/, never in tests).
hypothesis_settings.register_profile("loadwatch", deadline=None)
hypothesis_settings.load_profile("loadwatch")

TESTS_DIR = Path(__file__).resolve().parent
REPO_ROOT = TESTS_DIR.parent
DATA_DIR = TESTS_DIR / "data"
#: Environment variable that marks every process this test session starts (children inherit it), so that
#: one left behind is found even after its parent died and init adopted it.
SESSION_MARK_ENV = "LOADWATCH_TEST_SESSION"
#: Helpers of the standard library that live exactly as long as pytest itself (they exit when it does).
_LIVES_WITH_PYTEST = ("multiprocessing.resource_tracker", "multiprocessing.forkserver")
#: Seconds a process may take to finish exiting after the last test before it counts as left behind.
LEFT_BEHIND_GRACE_S = 5


def pytest_configure(config):
    os.environ.setdefault(SESSION_MARK_ENV, uuid.uuid4().hex)
    # a `loadwatch` write refreshes the kept reports in a process of its own (dashboard/cli/report_refresh):
    # off for the suite, whose thousands of CLI writes would each leave one running; tests/test_report_refresh.py
    # turns it on and waits for it
    os.environ["LOADWATCH_REPORT_REFRESH"] = "0"


def _started_by_this_session() -> list[psutil.Process]:
    me = psutil.Process()
    found = {p.pid: p for p in me.children(recursive=True)}
    mark = os.environ.get(SESSION_MARK_ENV)
    for p in psutil.process_iter():
        if p.pid == me.pid or p.pid in found:
            continue
        try:
            if mark and p.environ().get(SESSION_MARK_ENV) == mark:
                found[p.pid] = p
        except (psutil.Error, OSError):
            continue
    alive = []
    for p in found.values():
        try:
            if p.status() == psutil.STATUS_ZOMBIE or any(h in " ".join(p.cmdline()) for h in _LIVES_WITH_PYTEST):
                continue
        except psutil.Error:
            continue
        alive.append(p)
    return alive


def pytest_sessionfinish(session, exitstatus):
    """Fail the session when a process it started is still running (a server a fixture forgot, a
    Streamlit orphaned by a killed ``loadwatch dashboard``), and kill it."""
    if hasattr(session.config, "workerinput"):
        return
    _, alive = psutil.wait_procs(_started_by_this_session(), timeout=LEFT_BEHIND_GRACE_S)
    left = []
    for p in alive:
        try:
            left.append(f"pid {p.pid} (parent {p.ppid()}): {' '.join(p.cmdline())[:200]}")
            p.kill()
        except psutil.Error:
            continue
    if left:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        message = "processes started by the tests were still running at the end:\n  " + "\n  ".join(left)
        if reporter is not None:
            reporter.write_line("")
            reporter.write_line(message, red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(autouse=True)
def _isolated_store(tmp_path, monkeypatch):
    monkeypatch.setenv("LOADWATCH_DB", str(tmp_path / "loadwatch-test.sqlite3"))
    monkeypatch.setenv("LOADWATCH_DATA_DIR", str(tmp_path / "data-dir"))
    monkeypatch.setenv("TZ", "UTC")


#: pytest's own ``__main__``: Streamlit's AppTest runs a page as ``__main__`` and a page's background work
#: (the sidebar's import progress) can leave it there; a process started later by spawning (Dask's workers)
#: would then run that page again as its main module and die.
_MAIN = sys.modules["__main__"]


@pytest.fixture
def store(tmp_path):
    """A fresh, open store in the test's own folder (``tmp_path/store.sqlite3``), closed after the test.
    The faces read ``$LOADWATCH_DB`` instead: for them, ``tests.helpers.open_store``."""
    from loadwatch.ingest.store import Store

    with Store(tmp_path / "store.sqlite3") as s:
        yield s


@pytest.fixture(scope="session")
def history_templates(tmp_path_factory) -> Path:
    """Where the generated histories are built once a session (one per day the clock shows)."""
    return tmp_path_factory.mktemp("history")


@pytest.fixture
def history(today, history_templates) -> Path:
    """This test's store (``$LOADWATCH_DB``) filled with the generated history of
    ``tests.app_helpers.build_history``, relative to today, the clock frozen by ``today`` for the whole test.
    Modules with a history of their own define a fixture of this name, which wins in them."""
    from tests.app_helpers import copy_history

    return copy_history(Path(os.environ["LOADWATCH_DB"]), history_templates)


@pytest.fixture(autouse=True)
def _main_module_restored():
    yield
    if sys.modules.get("__main__") is not _MAIN:
        sys.modules["__main__"] = _MAIN


@pytest.fixture(autouse=True)
def _no_import_worker_left():
    """The import workers a threaded host keeps between imports (loadwatch.ingest.importer's pool) stop with each
    test, so no test leaves a process behind."""
    yield
    importer = sys.modules.get("loadwatch.ingest.importer")
    if importer is not None:
        importer.shutdown_pool()


#: Set to an ISO date (``LOADWATCH_TEST_TODAY=2027-02-28``) to run every test on that day: the clock travels
#: there (and ticks on) before each test, so a test that reads today without saying which day it means
#: shows itself by failing on some days. Tests that travel themselves still do (time-machine nests).
CLOCK_ENV = "LOADWATCH_TEST_TODAY"

#: One week, Monday 30 November to Sunday 6 December 2026: a test whose result depends on the weekday runs
#: once for each of its days.
WEEK_DAYS = [date(2026, 11, 30) + timedelta(days=i) for i in range(7)]
#: The day a test that needs *a* today runs on: $LOADWATCH_TEST_TODAY, else a Sunday, the last day of a
#: Monday week (the day ``test_plan_on_this_week_names_strength_work`` failed on when tests read the real
#: clock).
DEFAULT_TODAY = date.fromisoformat(os.environ.get(CLOCK_ENV) or WEEK_DAYS[-1].isoformat())
#: ``@pytest.mark.parametrize("today", EVERY_WEEKDAY, indirect=True)``: the test once on each day of
#: WEEK_DAYS, the clock frozen there by the ``today`` fixture. The fast loop (``-m "not slow"``) keeps the
#: Sunday; the other six days are ``slow``.
EVERY_WEEKDAY = [pytest.param(d, id=f"{d:%a}", marks=() if d.weekday() == 6 else pytest.mark.slow)
                 for d in WEEK_DAYS]


@pytest.fixture(autouse=True)
def _clock_from_env():
    day = os.environ.get(CLOCK_ENV)
    if not day:
        yield
        return
    with time_machine.travel(at_ten(date.fromisoformat(day)), tick=True):
        yield


@pytest.fixture
def today(request):
    """The clock frozen (and ticking on) at 10:00 UTC on a known day, for the whole test, fixtures after
    this one included: the day the test is parametrized with (``EVERY_WEEKDAY``), else DEFAULT_TODAY.
    Yields that day."""
    day = getattr(request, "param", DEFAULT_TODAY)
    with time_machine.travel(at_ten(day), tick=True):
        yield day


@pytest.fixture
def corpus_dir() -> Path:
    if not (CORPUS_DIR / "MANIFEST.tsv").is_file():
        pytest.skip("../shared/corpus is absent")
    return CORPUS_DIR


@pytest.fixture
def computed(monkeypatch):
    """The reports computed in this process (not printed from the kept text of dashboard.report_cache), by
    the day each was asked for."""
    from loadwatch.dashboard import from_store

    calls = []
    real = from_store.report_from_store

    def counting(*args, **kwargs):
        calls.append(kwargs.get("as_of"))
        return real(*args, **kwargs)

    monkeypatch.setattr(from_store, "report_from_store", counting)
    return calls
