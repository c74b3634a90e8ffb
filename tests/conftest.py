"""Shared test fixtures.

Every test runs with ``LOADWATCH_DB`` pointing into its own temporary folder, so no test can ever touch a
runner's real store.  The real-world files of ``../shared/corpus`` are found relative to this file, never
the working directory, and tests that need them skip cleanly when the folder is absent.

A test leaves no process behind: at the end of the session every process this pytest started (its
descendants, and any process re-parented to init that still carries this session's mark in its
environment) must be gone, or the session fails naming them (and they are killed).
"""

from __future__ import annotations

import csv
import os
import sys
import uuid
from pathlib import Path

import psutil
import pytest

TESTS_DIR = Path(__file__).resolve().parent
REPO_ROOT = TESTS_DIR.parent
DATA_DIR = TESTS_DIR / "data"
CORPUS_DIR = REPO_ROOT.parent / "shared" / "corpus"
#: Environment variable that marks every process this test session starts (children inherit it), so that
#: one left behind is found even after its parent died and init adopted it.
SESSION_MARK_ENV = "LOADWATCH_TEST_SESSION"
#: Helpers of the standard library that live exactly as long as pytest itself (they exit when it does).
_LIVES_WITH_PYTEST = ("multiprocessing.resource_tracker", "multiprocessing.forkserver")
#: Seconds a process may take to finish exiting after the last test before it counts as left behind.
LEFT_BEHIND_GRACE_S = 5


def pytest_configure(config):
    os.environ.setdefault(SESSION_MARK_ENV, uuid.uuid4().hex)


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


@pytest.fixture(autouse=True)
def _main_module_restored():
    yield
    if sys.modules.get("__main__") is not _MAIN:
        sys.modules["__main__"] = _MAIN


@pytest.fixture(autouse=True)
def _no_import_worker_left():
    """The import workers a threaded host keeps between imports (ingest.importer's pool) stop with each
    test, so no test leaves a process behind."""
    yield
    importer = sys.modules.get("ingest.importer")
    if importer is not None:
        importer.shutdown_pool()


def corpus_manifest() -> list[dict]:
    """Rows of ../shared/corpus/MANIFEST.tsv (empty when the corpus is absent)."""
    manifest = CORPUS_DIR / "MANIFEST.tsv"
    if not manifest.is_file():
        return []
    with manifest.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


@pytest.fixture
def corpus_dir() -> Path:
    if not (CORPUS_DIR / "MANIFEST.tsv").is_file():
        pytest.skip("../shared/corpus is absent")
    return CORPUS_DIR
