"""The last of issue 21's small things: a pain entry linked to a run of its own day (or, the next morning,
of the day before) and worded with the run's real day; a default timing that does not claim a run; one
style of numbers and signs across the CLI report, the physio report and the dashboard; the PDF's ACWR and
evidence line; no pandas FutureWarning in the shoe distances; the bare-import message."""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


# --- the shoe distances without a FutureWarning ----------------------------------------------------------

def test_a_pair_without_runs_sums_without_a_future_warning(store):
    from loadwatch.metrics.shoe_distance import shoe_km_at_run, shoe_summary

    store.add_shoe("Pegasus", default=True)
    store.add_shoe("Trail", start_km=120.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        summary = shoe_summary(store.shoes(), store.activity_shoes(), store.activities(), "UTC")
        at_run = shoe_km_at_run(store.shoes(), store.activity_shoes(), store.activities(), "UTC")
    assert summary["distance_km"].tolist() == [0.0, 120.0]
    assert summary["runs"].tolist() == [0, 0]
    assert at_run.empty


# --- the bare import names the installed one ------------------------------------------------------------

@pytest.mark.parametrize("name", ["ingest", "metrics", "dashboard"])
def test_a_bare_import_says_which_name_to_import_not_to_install(name):
    """loadwatch is installed (this test runs from its venv): the message says to import loadwatch.X,
    and does not send the runner to install what is already there."""
    done = subprocess.run([sys.executable, "-c", f"import {name}"], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode != 0
    last = done.stderr.strip().splitlines()[-1]
    assert f"import loadwatch.{name}, not {name}" in last
    assert "install" not in last, last
