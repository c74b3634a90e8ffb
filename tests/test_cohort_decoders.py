"""A cohort import does not start a decoding process per runner (issue 23): in a Dask worker - a process
with more than one thread, so the importer starts fresh interpreters rather than forking - the decoding
process one runner used is kept and the next runner's files go to it.  Without Dask: the runners are
processed one after the other in a thread beside the main one, as a worker's task thread does."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from loadwatch.dashboard.pipelines.cohort_runner import discover, process_runner
from loadwatch.ingest import importer
from loadwatch.ingest.synth import SynthRun, fit_bytes

RUNNERS = ("ann", "ben", "cas")

pytestmark = pytest.mark.slow  # decoding processes start: several seconds


@pytest.fixture
def cohort(tmp_path):
    root = tmp_path / "root"
    for r, runner in enumerate(RUNNERS):
        folder = root / runner
        folder.mkdir(parents=True)
        for k in range(2):
            start = datetime(2026, 11, 2, 7, tzinfo=UTC) + timedelta(days=2 * k + r)
            run = SynthRun(start_utc=start, duration_s=1800, distance_m=5000.0 + 500 * k, seed=10 * r + k)
            (folder / f"run-{k}.fit").write_bytes(fit_bytes(run))
    out = tmp_path / "out"
    (out / "runners").mkdir(parents=True)
    yield root, out
    importer.shutdown_pool()  # no decoding process outlives the test


@pytest.fixture
def starts(monkeypatch) -> list:
    """Every decoding process the importer starts."""
    started: list = []
    original = importer._Worker.__init__

    def counting(self, reader):
        started.append(reader)
        original(self, reader)

    monkeypatch.setattr(importer._Worker, "__init__", counting)
    return started


def _process_all_in_a_task_thread(root, out) -> list:
    results: list = []
    errors: list = []

    def task_thread():
        try:
            for source in discover(root):
                results.append(process_runner(source, str(out), as_of="2026-12-02", timeout_s=60.0))
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            errors.append(exc)

    thread = threading.Thread(target=task_thread)
    thread.start()
    thread.join(300)
    assert not thread.is_alive() and not errors, errors
    return results


def test_one_decoding_process_serves_every_runner(cohort, starts):
    root, out = cohort
    importer.shutdown_pool()  # none kept from an earlier test
    results = _process_all_in_a_task_thread(root, out)
    assert [r.runner for r in results] == list(RUNNERS)
    assert [r.decoded for r in results] == [2, 2, 2]
    assert all(not r.failed for r in results)
    assert len(starts) == 1, f"{len(starts)} decoding processes for {len(RUNNERS)} runners"


def test_without_a_kept_process_each_runner_starts_one(cohort, starts, monkeypatch):
    """The baseline the test above guards against (``bench_cohort.py --fresh-decoders``)."""
    root, out = cohort
    importer.shutdown_pool()
    monkeypatch.setattr(importer, "POOL_MAX", 0)
    results = _process_all_in_a_task_thread(root, out)
    assert [r.decoded for r in results] == [2, 2, 2]
    assert len(starts) == len(RUNNERS)
