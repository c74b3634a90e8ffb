"""Shared test fixtures.

Every test runs with ``LOADWATCH_DB`` pointing into its own temporary folder, so no test can ever touch a
runner's real store.  The real-world files of ``../shared/corpus`` are found relative to this file, never
the working directory, and tests that need them skip cleanly when the folder is absent.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import pytest

TESTS_DIR = Path(__file__).resolve().parent
REPO_ROOT = TESTS_DIR.parent
DATA_DIR = TESTS_DIR / "data"
CORPUS_DIR = REPO_ROOT.parent / "shared" / "corpus"


@pytest.fixture(autouse=True)
def _isolated_store(tmp_path, monkeypatch):
    monkeypatch.setenv("LOADWATCH_DB", str(tmp_path / "loadwatch-test.sqlite3"))
    monkeypatch.setenv("LOADWATCH_DATA_DIR", str(tmp_path / "data-dir"))
    monkeypatch.setenv("TZ", "UTC")


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
