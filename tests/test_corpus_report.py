"""Every real file of ../shared/corpus through the real import path: no crash, no hang.

The same function that writes ``benchmarks/corpus_report.md`` (``benchmarks/corpus_report.py``): the
folder imported by ``import_paths`` with worker processes and a per-file time limit, then each file read
again in-process by ``read_activity`` under an alarm.  Skips cleanly when the corpus is absent.
"""

from __future__ import annotations

import importlib.util
import sys

import pytest

from tests.conftest import REPO_ROOT


def _corpus_report():
    spec = importlib.util.spec_from_file_location("corpus_report", REPO_ROOT / "benchmarks" / "corpus_report.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.mark.corpus
@pytest.mark.slow
def test_corpus_imports_without_crash_or_hang(corpus_dir):
    report = _corpus_report()
    results = report.run(corpus_dir, workers=2)
    totals = report.counts(results)
    bad = [(r.path, r.reason or r.read_detail) for r in results if r.crash or r.hang]
    assert totals["crashes"] == 0 and totals["hangs"] == 0, bad
    # every manifest file got an outcome from the importer, and the readable ones were read
    assert all(r.outcome in {"imported", "replaced", "duplicate", "skipped", "failed"} for r in results), \
        [(r.path, r.outcome) for r in results if r.outcome not in {"imported", "replaced", "duplicate", "skipped", "failed"}]
    assert totals["files"] == len(report.manifest_rows(corpus_dir))
    assert totals["imported"] > totals["files"] // 2, totals
    # a failure is a clear error the runner can read, naming what is wrong
    for r in results:
        if r.outcome == "failed":
            assert r.reason and "internal error" not in r.reason, (r.path, r.reason)
    # every kept file says what it became: a sport, and a surface for runs; damage and glitches are told
    kept = [r for r in results if r.outcome in ("imported", "replaced")]
    assert all(r.became for r in kept), [r.path for r in kept if not r.became]
    assert all(" / " in r.became for r in kept if r.became.startswith("running"))
    by_path = {r.path: r for r in results}
    assert "cut short after 4 h 39 min" in by_path["dtcooper+python-fitparse/tests/files/nick.fit"].notes
    glitch = by_path["tkrajina+gpxpy/test_files/first_and_last_elevation.gpx"]
    assert "GPS jump of" in glitch.notes and "169.9 km in all" in glitch.notes
