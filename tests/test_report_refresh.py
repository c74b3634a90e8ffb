"""After a write, the kept reports are computed again in the background (dashboard/cli/report_refresh.py),
so the next ``loadwatch report`` prints a kept text (issue 21: the report answers in half a second); a
report typed while the refresh runs waits for it instead of computing the same report beside it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
import pytest

from loadwatch.dashboard import report_cache
from loadwatch.dashboard.cli import report_refresh
from loadwatch.ingest import store as store_mod
from loadwatch.ingest.canonical import Activity, Summary, empty_samples
from tests.helpers import cli

AS_OF = "2024-03-05"


def _add_runs(db, kms, start="2024-02-01 07:00"):
    hist = np.zeros(256)
    hist[150] = 1800.0
    with store_mod.Store(db) as store:
        for i, km in enumerate(kms):
            t0 = pd.Timestamp(start, tz="UTC") + pd.Timedelta(days=2 * i)
            s = Summary(id=f"run{i:03d}", source="test", format="fit", sport="running", sub_sport="street",
                        start_utc=t0, utc_offset_s=0.0, elapsed_s=km * 360.0, moving_s=km * 360.0,
                        distance_m=km * 1000.0, hr_seconds_by_bpm=hist.copy())
            store.add_activity(Activity(s, empty_samples()), f"file {i}".encode(), f"run{i}.fit")


@pytest.fixture
def db(tmp_path):
    path = str(tmp_path / "store.sqlite3")
    _add_runs(path, [6.0, 8.0, 6.0, 10.0] * 3)
    return path


def _loadwatch(*argv, refresh: bool) -> subprocess.CompletedProcess:
    env = {**os.environ, report_cache.REFRESH_ENV: "1" if refresh else "0"}
    env.pop("COLUMNS", None)
    return subprocess.run([sys.executable, "-m", "loadwatch.dashboard.cli", *argv], env=env, capture_output=True,
                          text=True, timeout=120)


def _refreshes(db) -> list[psutil.Process]:
    found = []
    for p in psutil.process_iter(["cmdline"]):
        cmd = p.info["cmdline"] or []
        if "loadwatch.dashboard.cli.report_refresh" in cmd and str(db) in cmd:
            found.append(p)
    return found


def _wait_gone(procs, timeout_s=90.0) -> None:
    gone, alive = psutil.wait_procs(procs, timeout=timeout_s)
    for p in alive:
        p.kill()
    assert not alive, "the background refresh did not finish"


def test_a_write_from_the_shell_refreshes_the_kept_report_in_the_background(db, capsys, computed):
    first = _loadwatch("report", "--json", "--db", db, "--as-of", AS_OF, refresh=True)
    assert first.returncode == 0, first.stderr
    assert report_cache.cache_path(Path(db)).is_file()
    added = _loadwatch("pain", "add", "--db", db, "--date", "2024-03-04", "--score", "6", "--timing", "after",
                       refresh=True)
    assert added.returncode == 0, added.stderr
    _wait_gone(_refreshes(db))
    # the next report prints the refreshed text: nothing computed in this process, and it shows the entry
    code, out, err = cli(capsys, "report", "--json", "--db", db, "--as-of", AS_OF)
    assert code == 0 and computed == [], "the report was computed again instead of printed from the refresh"
    report_cache.cache_path(Path(db)).unlink()
    code, fresh, _ = cli(capsys, "report", "--json", "--db", db, "--as-of", AS_OF)
    assert len(computed) == 1 and out == fresh and out != first.stdout
    assert json.loads(out)["as_of"] == AS_OF


def test_no_refresh_when_it_is_turned_off_or_nothing_was_written_or_no_report_was_ever_asked(db, capsys):
    assert _loadwatch("pain", "add", "--db", db, "--date", "2024-03-04", "--score", "2", refresh=True).returncode == 0
    assert report_refresh.start(db) is None  # no report kept yet: nothing to refresh
    assert _refreshes(db) == []
    assert _loadwatch("report", "--db", db, "--as-of", AS_OF, refresh=False).returncode == 0
    assert _loadwatch("pain", "add", "--db", db, "--date", "2024-03-04", "--score", "3", refresh=False).returncode == 0
    assert _refreshes(db) == []


def test_only_a_command_that_wrote_starts_a_refresh(db, capsys, monkeypatch):
    started = []
    monkeypatch.setattr(report_refresh, "start", lambda db: started.append(db))
    monkeypatch.setenv(report_cache.REFRESH_ENV, "1")
    for reads in (["activities"], ["alerts", "check"], ["settings", "show"], ["report"], ["pain", "list"],
                  ["shoes", "list"]):
        assert cli(capsys, *reads, "--db", db)[0] == 0, reads
    assert started == []
    assert cli(capsys, "settings", "set", "units", "mi", "--db", db)[0] == 0
    assert cli(capsys, "pain", "add", "--date", "2024-03-04", "--score", "3", "--db", db)[0] == 0
    assert cli(capsys, "pain", "delete", "999", "--db", db)[0] != 0  # no such entry: nothing written
    assert started == [db, db]


def test_the_refresh_computes_each_day_once_for_all_its_views(db, capsys, computed):
    assert cli(capsys, "report", "--db", db, "--as-of", AS_OF)[0] == 0
    assert cli(capsys, "report", "--json", "--db", db, "--as-of", AS_OF)[0] == 0
    assert len(computed) == 2
    with store_mod.Store(db) as store:
        store.set_setting("units", "mi")
    assert report_refresh.refresh(db) == 2  # both views kept again...
    assert len(computed) == 3  # ...from one computation
    _, text, _ = cli(capsys, "report", "--db", db, "--as-of", AS_OF)
    _, as_json, _ = cli(capsys, "report", "--json", "--db", db, "--as-of", AS_OF)
    assert len(computed) == 3 and "distances in mi" in text and json.loads(as_json)["units"] == "mi"
    assert report_refresh.refresh(db) == 0  # nothing out of date


def test_a_report_typed_while_a_refresh_runs_waits_for_it(db, capsys, computed):
    """The lock beside the cache: the refresh (here a thread holding it) keeps the report; the report asked
    meanwhile prints that text instead of computing it too."""
    from loadwatch.dashboard.cli.cmd_report import report_view

    assert cli(capsys, "report", "--db", db, "--as-of", AS_OF)[0] == 0
    asked = report_cache.asked(db)[0]
    with store_mod.Store(db) as store:
        store.set_setting("units", "mi")
    holding, done = threading.Event(), threading.Event()

    def refreshing():
        with report_cache.computing(db) as got:
            assert got
            holding.set()
            time.sleep(0.5)
            key = report_cache.report_key(db, date.fromisoformat(AS_OF), asked["weeks"], report_view(asked))
            report_cache.keep(db, key, "kept by the refresh", asked)
        done.set()

    t = threading.Thread(target=refreshing)
    t.start()
    assert holding.wait(30)
    code, out, _ = cli(capsys, "report", "--db", db, "--as-of", AS_OF)
    t.join(30)
    assert done.is_set() and code == 0
    assert out.strip() == "kept by the refresh" and len(computed) == 1


def test_a_link_planted_as_the_lock_is_not_followed(db, tmp_path, capsys, computed):
    """In a shared folder another user could name the lock a link to a file of the runner's: the report
    makes nothing there (it computes without the lock)."""
    target = tmp_path / "elsewhere" / "victim"
    target.parent.mkdir()
    report_cache.lock_path(Path(db)).symlink_to(target)
    code, out, _ = cli(capsys, "report", "--db", db, "--as-of", AS_OF)
    assert code == 0 and "loadwatch report as of" in out and len(computed) == 1
    assert not target.exists()
