"""Bounded work for every input (issue 22): a FIFO, a device, a symlink out of the folder, a compression bomb,
a file that takes for ever to decode or deep XML each end with a plain reason, within a bounded time, and
every other file is imported - by ``loadwatch import`` and by ``loadwatch cohort import`` alike."""

from __future__ import annotations

import gzip
import io
import os
import struct
import time
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from loadwatch.dashboard.cli.main import main
from loadwatch.ingest import importer
from loadwatch.ingest.errors import ArchiveError, GpxError, IngestError
from loadwatch.ingest.importer import import_paths
from loadwatch.ingest.safe_xml import MAX_XML_DEPTH
from loadwatch.ingest.sources import (
    LINK_OUTSIDE,
    NOT_A_FILE,
    Skipped,
    SourceFile,
    iter_sources,
    read_activity,
)
from loadwatch.ingest.store import Store
from loadwatch.ingest.synth import SynthRun, fit_bytes, gpx_bytes

pytestmark = pytest.mark.timeout(120)

needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo") or not os.path.exists("/dev/zero"),
                                reason="needs FIFOs and /dev/zero (POSIX)")


def run(i: int) -> SynthRun:
    return SynthRun(start_utc=datetime(2024, 5, 1 + i, 7, tzinfo=UTC), duration_s=1200, distance_m=4000.0, seed=i)


def fit_of_empty_records(n: int) -> bytes:
    """A FIT file of ``n`` one-byte records: a definition of a record message with no field, then ``n``
    data-message headers.  Decoding it costs per record, whatever the file size."""
    body = bytes([0x40, 0, 0, 20, 0, 0]) + b"\x00" * n
    return struct.pack("<BBHI4sH", 14, 0x10, 2100, len(body), b".FIT", 0) + body + b"\x00\x00"


@pytest.fixture(scope="module")
def gz_bomb() -> bytes:
    """The issue's bomb: 190 MB of one-byte FIT records in a ~184 kB .fit.gz."""
    return gzip.compress(fit_of_empty_records(190_000_000), 6)


def hostile_folder(folder: Path, gz_bomb: bytes) -> None:
    """Two good runs beside a FIFO, a symlink to /dev/zero, the .fit.gz bomb, a slow FIT and ``up -> ..``."""
    folder.mkdir(parents=True)
    (folder / "good-1.fit").write_bytes(fit_bytes(run(1)))
    (folder / "good-2.gpx").write_bytes(gpx_bytes(run(2)))
    os.mkfifo(folder / "pipe.fit")
    (folder / "zero.fit").symlink_to("/dev/zero")
    (folder / "bomb.fit.gz").write_bytes(gz_bomb)
    (folder / "slow.fit").write_bytes(fit_of_empty_records(3_000_000))
    (folder / "up").symlink_to("..")


# --- only regular files -----------------------------------------------------------------------------------

@needs_fifo
@pytest.mark.timeout(20)
def test_a_fifo_a_device_and_a_link_to_one_are_refused_without_reading(tmp_path):
    fifo = tmp_path / "pipe.fit"
    os.mkfifo(fifo)  # nobody writes: reading it would block for ever
    link = tmp_path / "zero.fit"
    link.symlink_to("/dev/zero")  # reading it would never end
    items = list(iter_sources([fifo, Path("/dev/zero"), link]))
    assert [type(i) for i in items] == [IngestError] * 3
    assert [i.file_name for i in items] == ["pipe.fit", "zero", "zero.fit"]
    assert all(i.problem == NOT_A_FILE for i in items)
    with pytest.raises(IngestError, match="not a regular file"):
        read_activity(fifo, "pipe.fit")


@pytest.mark.timeout(20)
def test_a_symlink_out_of_the_folder_is_not_followed(tmp_path):
    (tmp_path / "anna").mkdir()
    (tmp_path / "bob").mkdir()
    (tmp_path / "anna" / "a.fit").write_bytes(fit_bytes(run(1)))
    (tmp_path / "bob" / "b.fit").write_bytes(fit_bytes(run(2)))
    (tmp_path / "secret.fit").write_bytes(fit_bytes(run(3)))
    (tmp_path / "anna" / "up").symlink_to("..")  # a folder link: never walked into
    (tmp_path / "anna" / "stolen.fit").symlink_to(tmp_path / "bob" / "b.fit")  # a file link out
    (tmp_path / "anna" / "inside.fit").symlink_to("a.fit")  # a link that stays inside is read
    items = list(iter_sources([tmp_path / "anna"]))
    read = sorted(i.name for i in items if isinstance(i, SourceFile))
    assert read == ["anna/a.fit", "anna/inside.fit"]
    assert [(i.name, i.reason) for i in items if isinstance(i, Skipped)] == [("anna/stolen.fit", LINK_OUTSIDE)]
    # the cohort gives a runner's folder entries one by one, fenced by the folder
    entries = sorted((tmp_path / "anna").iterdir())
    items = list(iter_sources(entries, within=tmp_path / "anna"))
    assert sorted(i.name for i in items if isinstance(i, SourceFile)) == ["a.fit", "inside.fit"]
    assert sorted(i.name for i in items if isinstance(i, Skipped)) == ["stolen.fit", "up"]


# --- decompressed size counted as it streams -----------------------------------------------------------------

@pytest.mark.timeout(30)
def test_the_fit_gz_bomb_is_refused_by_its_ratio(gz_bomb):
    assert len(gz_bomb) < 300 * 1024
    t0 = time.monotonic()
    with pytest.raises(ArchiveError) as err:
        read_activity(gz_bomb, "bomb.fit.gz")
    assert time.monotonic() - t0 < 15
    assert err.value.file_name == "bomb.fit.gz"
    assert "200 times its size" in err.value.problem and "bomb" in err.value.problem


def test_a_gz_watch_file_of_a_normal_ratio_is_still_read():
    data = gzip.compress(gpx_bytes(run(1)))
    assert read_activity(data, "run.gpx.gz").summary.distance_m == pytest.approx(4000, rel=0.05)


def _zip_overstating_compressed_size(member: bytes, claimed: int) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("run.fit", member)
    data = bytearray(buf.getvalue())
    central = data.find(b"PK\x01\x02")
    struct.pack_into("<I", data, central + 20, claimed)  # compressed size in the central directory
    return bytes(data)


@pytest.mark.timeout(30)
def test_a_zip_directory_overstating_packed_sizes_buys_no_allowance(tmp_path):
    """The ratio is taken against the archive's real size, not the packed size its directory claims: a
    directory claiming 1 GB packed for 20 MB of zeros (20 kB really) passed the old ratio check."""
    data = _zip_overstating_compressed_size(b"\x00" * (20 * 1024 * 1024), 1024 ** 3)
    assert len(data) < 100 * 1024
    p = tmp_path / "liar.zip"
    p.write_bytes(data)
    items = list(iter_sources([p]))
    assert len(items) == 1 and isinstance(items[0], ArchiveError)
    assert items[0].file_name == "liar.zip/run.fit" and "zip bomb" in items[0].problem


# --- deep or huge XML --------------------------------------------------------------------------------------

@pytest.mark.timeout(30)
def test_deep_xml_is_refused_early_with_a_reason():
    depth = 200_000
    deep = (b'<?xml version="1.0"?><gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1">'
            + b"<e>" * depth + b"</e>" * depth + b"</gpx>")
    t0 = time.monotonic()
    with pytest.raises(GpxError) as err:
        read_activity(deep, "deep.gpx")
    assert time.monotonic() - t0 < 5
    assert f"more than {MAX_XML_DEPTH} deep" in err.value.problem and "refused for safety" in err.value.problem


def test_a_gpx_nested_as_watches_write_it_is_read():
    assert read_activity(gpx_bytes(run(1)), "ok.gpx").summary.distance_m == pytest.approx(4000, rel=0.05)


def test_xml_with_too_many_elements_is_refused():
    from loadwatch.ingest.safe_xml import check_shape

    text = "<gpx>" + "<a/>" * 1000 + "</gpx>"
    check_shape(text, "ok.gpx", GpxError)
    with pytest.raises(GpxError, match="more than 500 XML elements"):
        check_shape(text, "many.gpx", GpxError, max_elements=500)


# --- time and memory limits in the worker ------------------------------------------------------------------

def greedy_reader(data: bytes, name: str):
    """Asks for far more memory than any watch file needs."""
    hog = bytearray(3 * 1024 ** 3)
    return hog  # pragma: no cover - never reached under the worker's memory limit


@pytest.mark.timeout(60)
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="the memory cap uses Linux RLIMIT_DATA")
def test_a_file_that_needs_too_much_memory_fails_with_the_reason(tmp_path):
    (tmp_path / "a.fit").write_bytes(fit_bytes(run(1)))
    with Store(tmp_path / "s.sqlite3") as store:
        [out] = import_paths(store, [tmp_path / "a.fit"], workers=1, reader=greedy_reader)
    assert out.status == "failed" and out.reason == importer.MEMORY_MESSAGE


def _by_name(outcomes) -> dict:
    return {o.name.rsplit("/", 1)[-1]: o for o in outcomes}


@needs_fifo
@pytest.mark.timeout(60)
@pytest.mark.slow
def test_import_of_a_hostile_folder_ends_with_the_good_files_imported(tmp_path, gz_bomb, capsys):
    folder = tmp_path / "in"
    hostile_folder(folder, gz_bomb)
    db = tmp_path / "s.sqlite3"
    t0 = time.monotonic()
    code = main(["import", "--db", str(db), "--timeout", "2", "--json", str(folder), "/dev/zero"])
    elapsed = time.monotonic() - t0
    assert code == 1 and elapsed < 30
    import json

    records = {r["file"]: r for r in json.loads(capsys.readouterr().out)}
    assert records["in/good-1.fit"]["outcome"] == "imported"
    assert records["in/good-2.gpx"]["outcome"] == "imported"
    assert records["in/pipe.fit"]["reason"] == NOT_A_FILE
    assert records["zero"]["reason"] == NOT_A_FILE
    assert records["in/zero.fit"]["reason"] == LINK_OUTSIDE
    assert "bomb" in records["in/bomb.fit.gz"]["reason"]
    assert records["in/slow.fit"]["reason"] == "took longer than 2 s to read; the file may be damaged"
    assert not any(name.startswith("in/up") for name in records)
    with Store(db) as store:
        assert len(store.activities()) == 2


# --- the cohort ----------------------------------------------------------------------------------------------

def _cohort_root(tmp_path: Path, gz_bomb: bytes) -> Path:
    root = tmp_path / "root"
    (root / "good").mkdir(parents=True)
    for i in range(3):
        (root / "good" / f"run-{i}.fit").write_bytes(fit_bytes(run(i)))
    hostile_folder(root / "bad", gz_bomb)
    return root


@needs_fifo
@pytest.mark.timeout(90)
@pytest.mark.slow
def test_a_hostile_runner_is_marked_and_the_other_runners_rows_are_written(tmp_path, gz_bomb):
    """One runner at a time through process_runner (what each Dask task runs): the time limit applies."""
    pytest.importorskip("pyarrow")
    from loadwatch.dashboard.pipelines.cohort_runner import discover, process_runner

    root = _cohort_root(tmp_path, gz_bomb)
    out = tmp_path / "out"
    (out / "runners").mkdir(parents=True)
    results = {}
    t0 = time.monotonic()
    for source in discover(root):
        results[source.runner] = process_runner(source, str(out), "2024-05-10", False, timeout_s=2)
    assert time.monotonic() - t0 < 60
    failed = dict(results["bad"].failed)
    assert failed["pipe.fit"] == NOT_A_FILE
    assert failed["slow.fit"].startswith("took longer than 2 s")
    assert "bomb" in failed["bomb.fit.gz"]
    files = results["bad"].tables["files"].set_index("name")
    assert files.loc["up", "reason"] == LINK_OUTSIDE and files.loc["zero.fit", "reason"] == LINK_OUTSIDE
    assert not any(n.startswith("up/") or "run-" in n for n in files.index)  # no other runner's file
    assert results["bad"].decoded == 3  # two good runs and the slow one (the bomb is refused unread by a reader)
    assert len(results["good"].tables["runs"]) == 3 and results["good"].failed == []
    assert len(results["bad"].tables["runs"]) == 2


@pytest.fixture
def stop_resource_tracker():
    """The local Dask cluster starts its workers with multiprocessing's spawn, which leaves the
    resource-tracker process running for the life of this one: stopped after the test, so no process it
    started outlives it."""
    yield
    from multiprocessing import resource_tracker

    stop = getattr(resource_tracker._resource_tracker, "_stop", None)
    if stop is not None:
        stop()


@needs_fifo
@pytest.mark.slow
@pytest.mark.timeout(240)
def test_cohort_import_with_a_hostile_runner_writes_every_table(tmp_path, gz_bomb, capsys, stop_resource_tracker):
    pytest.importorskip("distributed")
    pytest.importorskip("pyarrow")
    from loadwatch.dashboard.pipelines.cohort_engine import TABLES, read_table, table_path

    root = _cohort_root(tmp_path, gz_bomb)
    out = tmp_path / "out"
    t0 = time.monotonic()
    code = main(["cohort", "import", str(root), "--out", str(out), "--workers", "1", "--timeout", "2",
                 "--as-of", "2024-05-10"])
    assert time.monotonic() - t0 < 180
    assert code == 1  # files failed
    assert all(table_path(out, t).is_file() for t in TABLES)
    runs = read_table(out, "runs")
    assert runs.groupby("runner").size().to_dict() == {"bad": 2, "good": 3}
    files = read_table(out, "files")
    bad = files[files["runner"] == "bad"].set_index("name")
    assert bad.loc["pipe.fit", "status"] == "failed" and bad.loc["slow.fit", "status"] == "failed"
    printed = capsys.readouterr().out
    assert "bad/pipe.fit: not a regular file" in printed


def test_deeply_nested_export_metadata_is_skipped_and_the_runs_imported(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("DI_CONNECT/summarizedActivities.json", b"[" * 200_000 + b"]" * 200_000)
        zf.writestr("DI_CONNECT/run.fit", fit_bytes(run(1)))
    (tmp_path / "export.zip").write_bytes(buf.getvalue())
    with Store(tmp_path / "s.sqlite3") as store:
        out = _by_name(import_paths(store, [tmp_path / "export.zip"], workers=0))
    assert out["run.fit"].status == "imported"
    meta = out["summarizedActivities.json"]
    assert meta.status == "skipped" and "nested deeper than any export" in meta.reason


@pytest.mark.timeout(90)
def test_a_runner_folder_named_in_latin1_is_a_valid_runner_id(tmp_path):
    pytest.importorskip("pyarrow")
    from loadwatch.dashboard.pipelines.cohort_engine import _write_table
    from loadwatch.dashboard.pipelines.cohort_runner import discover, process_runner

    root = tmp_path / "root"
    root.mkdir()
    folder = os.path.join(os.fsencode(root), b"J\xfcrgen")  # not UTF-8
    os.mkdir(folder)
    with open(os.path.join(folder, b"r.fit"), "wb") as fh:
        fh.write(fit_bytes(run(1)))
    [source] = discover(root)
    assert source.runner == "J\ufffdrgen"
    out = tmp_path / "out"
    (out / "runners").mkdir(parents=True)
    result = process_runner(source, str(out), "2024-05-10", False, timeout_s=30)
    assert result.tables["files"]["name"].tolist() == ["r.fit"]
    assert result.tables["files"]["status"].tolist() == ["imported"]
    for table, frame in result.tables.items():
        _write_table(out, table, frame)  # pyarrow takes the id: no surrogate in it


def _zip_with_overlapping_entries(member: bytes, copies: int) -> bytes:
    """One stored member listed ``copies`` times in the central directory, every entry pointing at the same
    bytes (an "overlapping" zip bomb: each entry's ratio is 1:1, the archive's is ``copies``:1)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("run.fit", member)
    data = buf.getvalue()
    cd_start = data.find(b"PK\x01\x02")
    eocd = data.find(b"PK\x05\x06")
    entry = data[cd_start:eocd]
    end = bytearray(data[eocd:])
    struct.pack_into("<HHII", end, 8, copies, copies, len(entry) * copies, cd_start)
    return data[:cd_start] + entry * copies + bytes(end)


@pytest.mark.timeout(30)
def test_entries_sharing_one_stream_cannot_multiply_it(tmp_path):
    """Counted against the archive's real size as it streams: 100 entries over one 1 MB member are 100 MB
    unpacked from a 1 MB file; with a 5:1 allowance reading stops after about five."""
    from loadwatch.ingest.sources import Limits

    data = _zip_with_overlapping_entries(os.urandom(1024 * 1024), 100)
    assert len(data) < 1.1 * 1024 * 1024
    assert len(zipfile.ZipFile(io.BytesIO(data)).infolist()) == 100
    p = tmp_path / "overlap.zip"
    p.write_bytes(data)
    items = list(iter_sources([p], limits=Limits(max_ratio=5.0, ratio_min_bytes=64 * 1024)))
    read = [i for i in items if isinstance(i, SourceFile)]
    errors = [i for i in items if isinstance(i, ArchiveError)]
    assert 1 <= len(read) <= 5
    assert len(errors) == 1 and "unpacks to more than 5 times its size" in errors[0].problem
