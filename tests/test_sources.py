"""loadwatch.ingest.sources: sniffing, read_activity dispatch, and walking folders and archives."""

from __future__ import annotations

import gzip
import io
from datetime import UTC, datetime

import pytest

from loadwatch.ingest.archive_meta import Metadata
from loadwatch.ingest.errors import IngestError, NotAnActivity, UnsupportedFileError
from loadwatch.ingest.sources import (
    Limits,
    Skipped,
    SourceFile,
    iter_sources,
    read_activity,
    sniff_format,
    source_bytes,
)
from loadwatch.ingest.synth import SynthRun, fit_bytes, gpx_bytes, tcx_bytes
from tests.helpers import zip_of

RUN = SynthRun(start_utc=datetime(2024, 5, 1, 7, tzinfo=UTC), duration_s=120, distance_m=400.0)
FIT, GPX, TCX = fit_bytes(RUN), gpx_bytes(RUN), tcx_bytes(RUN)


@pytest.mark.parametrize(("data", "name", "fmt"), [
    (FIT, "a.fit", "fit"), (FIT, "a.gpx", "fit"), (FIT, "noext", "fit"),
    (GPX, "a.gpx", "gpx"), (GPX, "a.tcx", "gpx"), (GPX, "a.txt", "gpx"),
    (TCX, "a.tcx", "tcx"), (TCX, "a.fit", "tcx"), (b"\xef\xbb\xbf  \n" + TCX, "x", "tcx"),
    (gzip.compress(FIT), "a.fit", "gzip"), (zip_of({"a.fit": FIT}), "a.gpx", "zip"),
    (b"", "a.fit", "fit"), (b"hello", "a.doc", None), (b"<html><body/></html>", "a.gpx", "gpx"),
])
def test_sniff_format_content_first(data, name, fmt):
    assert sniff_format(data, name) == fmt


def test_sniff_skips_comments_and_doctype_before_root():
    doc = b'<?xml version="1.0"?>\n<!-- a comment <gpx> -->\n<TrainingCenterDatabase/>'
    assert sniff_format(doc, "x") == "tcx"
    assert sniff_format(b"<ns:gpx xmlns:ns='u'/>", "x") == "gpx"


@pytest.mark.parametrize(("data", "name", "fmt"), [
    (FIT, "run.gpx", "fit"), (GPX, "run.fit", "gpx"), (TCX, "run", "tcx"),
    (gzip.compress(FIT), "run.fit.gz", "fit"), (gzip.compress(GPX), "run.gz", "gpx"),
])
def test_read_activity_wrong_or_missing_extension(data, name, fmt):
    a = read_activity(data, name)
    assert a.summary.format == fmt and len(a.samples) == 120
    assert a.summary.source == name


def test_gunzipped_id_is_hash_of_unpacked_bytes():
    import hashlib

    a = read_activity(gzip.compress(FIT), "run.fit.gz")
    assert a.summary.id == hashlib.sha256(FIT).hexdigest()


def test_read_activity_unsupported():
    with pytest.raises(UnsupportedFileError, match="not a FIT, GPX or TCX") as err:
        read_activity(b"just some text", "notes.doc")
    assert "notes.doc" in str(err.value)
    with pytest.raises(UnsupportedFileError, match="zip"):
        read_activity(zip_of({"a.fit": FIT}), "export.zip")
    with pytest.raises(UnsupportedFileError, match="empty"):
        read_activity(b"", "empty.txt")


def test_source_bytes_variants(tmp_path):
    p = tmp_path / "x.fit"
    p.write_bytes(FIT)
    assert source_bytes(p) == (FIT, "x.fit")
    assert source_bytes(str(p), "shown") == (FIT, "shown")
    assert source_bytes(FIT) == (FIT, "uploaded file")
    assert source_bytes(bytearray(FIT), "b.fit") == (FIT, "b.fit")
    bio = io.BytesIO(FIT)
    bio.name = "/some/where/up.fit"
    assert source_bytes(bio) == (FIT, "up.fit")
    with pytest.raises(IngestError, match="cannot be opened"):
        source_bytes(tmp_path / "missing.fit")
    with pytest.raises(IngestError, match="too large"):
        source_bytes(FIT, "big.fit", max_bytes=10)


def test_iter_sources_walks_folders_sorted_and_skips_junk(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "a").mkdir()
    (tmp_path / ".hidden").mkdir()
    (tmp_path / "a" / "2.gpx").write_bytes(GPX)
    (tmp_path / "a" / "1.fit").write_bytes(FIT)
    (tmp_path / "b" / "run.tcx").write_bytes(TCX)
    (tmp_path / ".hidden" / "x.fit").write_bytes(FIT)
    (tmp_path / ".DS_Store").write_bytes(b"junk")
    (tmp_path / "activities.csv").write_bytes(b"id,type\n")
    (tmp_path / "photo.jpg").write_bytes(b"\xff\xd8")
    items = list(iter_sources([tmp_path]))
    root = tmp_path.name
    files = [i.name for i in items if isinstance(i, SourceFile)]
    assert files == [f"{root}/a/1.fit", f"{root}/a/2.gpx", f"{root}/b/run.tcx"]
    skipped = {i.name: i.reason for i in items if isinstance(i, Skipped)}
    assert set(skipped) == {f"{root}/photo.jpg"}
    # Strava's activities.csv is read: the importer takes sports and names from it
    assert [i.name for i in items if isinstance(i, Metadata)] == [f"{root}/activities.csv"]
    assert all(not isinstance(i, IngestError) for i in items)


def test_iter_sources_is_lazy(tmp_path):
    for i in range(3):
        (tmp_path / f"{i}.fit").write_bytes(FIT)
    it = iter_sources([tmp_path])
    first = next(it)
    assert isinstance(first, SourceFile) and first.name.endswith("0.fit")


def test_iter_sources_zip_names_and_nested_zip(tmp_path):
    inner = zip_of({"deep/run.tcx": TCX})
    outer = zip_of({"activities/run.fit": FIT, "activities/run.gpx.gz": gzip.compress(GPX),
                    "nested.zip": inner, "activities.csv": b"x", "__MACOSX/._run.fit": b"junk",
                    "README.txt": b"hi"})
    path = tmp_path / "export.zip"
    path.write_bytes(outer)
    items = list(iter_sources([path]))
    files = {i.name: i.data for i in items if isinstance(i, SourceFile)}
    assert files == {"export.zip/activities/run.fit": FIT, "export.zip/activities/run.gpx.gz": GPX,
                     "export.zip/nested.zip/deep/run.tcx": TCX}
    assert {i.name for i in items if isinstance(i, Skipped)} == {"export.zip/README.txt"}
    assert [(i.name, i.data) for i in items if isinstance(i, Metadata)] == [("export.zip/activities.csv", b"x")]
    for name, data in files.items():
        assert read_activity(data, name).summary.source == name


def test_xml_named_file_is_read_when_it_is_gpx(tmp_path):
    (tmp_path / "track.xml").write_bytes(GPX)
    (tmp_path / "other.xml").write_bytes(b"<config/>")
    items = list(iter_sources([tmp_path]))
    assert [type(i).__name__ for i in items] == ["Skipped", "SourceFile"]


def test_single_file_path_and_gz(tmp_path):
    p = tmp_path / "run.fit.gz"
    p.write_bytes(gzip.compress(FIT))
    (item,) = list(iter_sources(p))
    assert isinstance(item, SourceFile) and item.name == "run.fit.gz" and item.data == FIT


def test_limits_defaults_are_documented_values():
    lim = Limits()
    assert lim.max_file_bytes == 200 * 1024 * 1024
    assert lim.max_archive_total_bytes == 4 * 1024**3
    assert lim.max_ratio == 200.0 and lim.max_members == 100_000 and lim.max_depth == 3


def test_not_an_activity_from_read_activity():
    with pytest.raises(NotAnActivity):
        read_activity(fit_bytes(RUN, file_type="settings"), "Settings.fit")


# ------------------------------------------------------------------------------- import direction

def _ingest_imports() -> dict[str, set[str]]:
    """Every ``ingest`` module -> the ``ingest`` modules it imports, at any depth (an import inside a
    function is still an arrow)."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "ingest"
    mods = {p.stem for p in root.glob("*.py")}
    graph: dict[str, set[str]] = {}
    for path in root.glob("*.py"):
        deps = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            else:
                continue
            deps |= {n.split(".")[2] for n in names if n.startswith("loadwatch.ingest.") and n.split(".")[2] in mods}
        graph[path.stem] = deps - {path.stem}
    return graph


def _reaches(graph: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for nxt in graph[todo.pop()] - seen:
            seen.add(nxt)
            todo.append(nxt)
    return seen


@pytest.mark.parametrize("module", ["sources", "file_bytes", "sport", "fit_reader", "fit_fast", "gpx_reader",
                                    "tcx_reader", "plausible", "salvage", "safe_xml", "importer", "canonical"])
def test_readers_sit_in_no_import_circle(module):
    """sources -> readers -> file_bytes, plausible -> sport: no reader module can reach itself again."""
    graph = _ingest_imports()
    assert module not in _reaches(graph, module)


def test_the_import_graph_sees_imports_inside_functions():
    graph = _ingest_imports()
    assert {"fit_reader", "gpx_reader", "tcx_reader", "plausible", "file_bytes"} <= graph["sources"]
    assert "importer" in graph["demo"]  # demo imports the importer inside write_demo


def test_the_store_does_not_load_the_readers():
    """sources imports the readers plainly now; the store (and so every CLI command) reaches only
    file_bytes, so a command that reads no watch file does not pay for fitdecode and gpxpy."""
    import subprocess
    import sys

    code = ("import sys, loadwatch.ingest.store, loadwatch.ingest.store_errors; "
            "print(sorted(m for m in ('fitdecode', 'gpxpy', 'loadwatch.ingest.sources', 'loadwatch.ingest.fit_reader') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
