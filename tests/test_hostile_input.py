"""Hostile and broken input: every case ends in a clean IngestError or NotAnActivity naming the file,
never another exception, never a file read outside the input, never a file written."""

from __future__ import annotations

import gzip
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from loadwatch.ingest.errors import ArchiveError, FitError, GpxError, IngestError, NotAnActivity, TcxError
from loadwatch.ingest.gpx_reader import read_gpx
from loadwatch.ingest.sources import Limits, SourceFile, iter_sources, read_activity
from loadwatch.ingest.synth import SynthRun, fit_bytes, gpx_bytes, tcx_bytes
from loadwatch.ingest.tcx_reader import read_tcx
from tests.helpers import zip_of

RUN = SynthRun(start_utc=datetime(2024, 5, 1, 7, tzinfo=UTC), duration_s=120, distance_m=400.0)
FIT, GPX, TCX = fit_bytes(RUN), gpx_bytes(RUN), tcx_bytes(RUN)
SECRET = "TOP-SECRET-a7f3c9e1"

pytestmark = pytest.mark.timeout(60)


def outcome(data: bytes, name: str):
    """read_activity's outcome; fails the test on any exception that is not ours, and checks naming."""
    try:
        return read_activity(data, name)
    except (IngestError, NotAnActivity) as exc:
        assert exc.file_name == name and name in str(exc)
        return exc


def _all_text(exc: BaseException) -> str:
    parts = []
    while exc is not None:
        parts.append(repr(exc))
        parts.append(str(exc))
        exc = exc.__cause__ or exc.__context__
    return "\n".join(parts)


# ------------------------------------------------------------------------------------------ XML

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
"""


def _gpx_with_prolog(prolog: str, name_text: str) -> bytes:
    return (prolog + '<gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1"><trk><name>'
            + name_text + '</name><trkseg><trkpt lat="1" lon="1"><time>2024-05-01T07:00:00Z</time></trkpt>'
            '<trkpt lat="1.001" lon="1"><time>2024-05-01T07:00:10Z</time></trkpt></trkseg></trk></gpx>').encode()


def _tcx_with_prolog(prolog: str, id_text: str) -> bytes:
    return (prolog + '<TrainingCenterDatabase xmlns="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2">'
            '<Activities><Activity Sport="Running"><Id>' + id_text + '</Id><Lap StartTime="2024-05-01T07:00:00Z">'
            '<TotalTimeSeconds>60</TotalTimeSeconds><DistanceMeters>200</DistanceMeters></Lap>'
            '</Activity></Activities></TrainingCenterDatabase>').encode()


@pytest.fixture
def secret_file(tmp_path) -> Path:
    p = tmp_path / "secret.txt"
    p.write_text(SECRET)
    return p


def _xxe_prologs(secret_file: Path) -> dict[str, str]:
    uri = secret_file.as_uri()
    return {
        "billion_laughs": BILLION_LAUGHS,
        "external_entity": f'<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY xxe SYSTEM "{uri}">]>\n',
        "parameter_entity": f'<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY % p SYSTEM "{uri}"> %p;]>\n',
        "external_dtd": f'<?xml version="1.0"?>\n<!DOCTYPE gpx SYSTEM "{uri}">\n',
    }


_ENTITY_REF = {"billion_laughs": "&lol9;", "external_entity": "&xxe;", "parameter_entity": "x",
               "external_dtd": "x"}


@pytest.mark.parametrize("kind", list(_ENTITY_REF))
@pytest.mark.parametrize("fmt", ["gpx", "tcx"])
def test_xml_entities_are_refused_and_nothing_is_read(kind, fmt, secret_file):
    prolog = _xxe_prologs(secret_file)[kind]
    name = f"{kind}.{fmt}"
    if fmt == "gpx":
        data, reader, error = _gpx_with_prolog(prolog, _ENTITY_REF[kind]), read_gpx, GpxError
    else:
        data, reader, error = _tcx_with_prolog(prolog, _ENTITY_REF[kind]), read_tcx, TcxError
    for call in (lambda: reader(data, name), lambda: read_activity(data, name)):
        with pytest.raises(error) as err:
            call()
        assert err.value.file_name == name
        assert "refused for safety" in err.value.problem
        assert SECRET not in _all_text(err.value)


def test_plain_doctype_without_entities_is_also_refused():
    data = _gpx_with_prolog('<?xml version="1.0"?>\n<!DOCTYPE gpx>\n', "x")
    with pytest.raises(GpxError, match="refused"):
        read_gpx(data, "doctype.gpx")


@pytest.mark.parametrize(("data", "name"), [(GPX[: len(GPX) // 2], "cut.gpx"), (TCX[: len(TCX) // 2], "cut.tcx")])
def test_xml_cut_in_half_keeps_the_first_half(data, name):
    """Issue 17: a GPX/TCX cut short is salvaged like a cut FIT file (it used to be refused whole)."""
    result = outcome(data, name)
    assert not isinstance(result, (IngestError, NotAnActivity)), result
    assert result.summary.partial is True and result.summary.warnings
    assert 40 <= len(result.samples) < 120


@pytest.mark.parametrize(("data", "name", "error"), [
    (b"<gpx><trk>&undefined;</trk></gpx>", "undef.gpx", GpxError),
    (b'<?xml version="1.0"?><gpx', "stub.gpx", GpxError),
    (b"<TrainingCenterDatabase><Activities><Activity Sport='Running'/></Activities></TrainingCenterDatabase>",
     "empty-activity.tcx", TcxError),
])
def test_broken_xml_is_a_clean_error(data, name, error):
    with pytest.raises(error) as err:
        read_activity(data, name)
    assert err.value.file_name == name


def test_gpx_without_timestamps_is_not_an_activity():
    with pytest.raises(NotAnActivity) as err:
        read_activity(gpx_bytes(RUN, with_times=False), "course.gpx")
    assert err.value.file_name == "course.gpx" and "without times" in err.value.reason


def test_tcx_without_trackpoints_or_laps():
    doc = (b'<TrainingCenterDatabase xmlns="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2">'
           b'<Courses><Course><Name>c</Name></Course></Courses></TrainingCenterDatabase>')
    with pytest.raises(NotAnActivity, match="course"):
        read_activity(doc, "course.tcx")
    laps_only = read_activity(tcx_bytes(RUN, with_trackpoints=False), "laps.tcx")
    assert laps_only.samples.empty and laps_only.summary.distance_m == 400.0


# ------------------------------------------------------------------------------------------ FIT


def test_zero_length_fit():
    with pytest.raises(FitError, match="empty") as err:
        read_activity(b"", "zero.fit")
    assert err.value.file_name == "zero.fit"


def test_garbage_named_fit_is_not_a_fit_file():
    with pytest.raises(FitError, match="not a FIT file"):
        read_activity(os.urandom(64).replace(b".FIT", b"xxxx"), "garbage.fit")


@pytest.mark.parametrize("cut", [1, 11, 13, 14, 15, 40, 100, 500, 1000, 2000, len(FIT) - 1])
def test_truncated_fit_is_salvaged_or_a_clean_error(cut):
    result = outcome(FIT[:cut], "cut.fit")
    if isinstance(result, IngestError):
        assert isinstance(result, FitError)
    elif not isinstance(result, NotAnActivity):
        assert result.summary.partial is True
        assert len(result.samples) <= 120


@pytest.mark.parametrize("pos", [0, 3, 8, 12, 14, 16, 20, 30, 60, 100, 200, 400, 800, len(FIT) - 3, len(FIT) - 1])
def test_bit_flipped_fit_is_salvaged_or_a_clean_error(pos):
    data = bytearray(FIT)
    data[pos] ^= 0x5A
    result = outcome(bytes(data), "flipped.fit")
    if not isinstance(result, (IngestError, NotAnActivity)):
        assert len(result.samples) <= 120


def test_fit_that_is_a_gpx_in_disguise():
    assert read_activity(GPX, "actually-gpx.fit").summary.format == "gpx"


# ---------------------------------------------------------------------------------------- archives


def _items(path: Path, limits: Limits | None = None):
    return list(iter_sources([path], limits=limits or Limits()))


def test_zip_bomb_by_ratio_names_archive_and_member(tmp_path):
    bomb = zip_of({"ok.fit": FIT, "bomb.fit": b"\0" * (20 * 1024 * 1024)})
    p = tmp_path / "bomb.zip"
    p.write_bytes(bomb)
    items = _items(p)
    errors = [i for i in items if isinstance(i, ArchiveError)]
    assert len(errors) == 1 and errors[0].file_name == "bomb.zip/bomb.fit"
    assert "zip bomb" in errors[0].problem
    assert [i.name for i in items if isinstance(i, SourceFile)] == ["bomb.zip/ok.fit"]


def test_zip_member_whose_directory_lies_is_never_unpacked(tmp_path):
    """A member whose headers claim a tiny size never yields its real 3 MB: reading stops at the claimed
    size and the damage is reported (the chunked reader also re-checks the ratio on bytes produced)."""
    big = b"\0" * (3 * 1024 * 1024)
    data = bytearray(zip_of({"liar.fit": big}))
    # patch the uncompressed size in both the local header and the central directory to 100 bytes
    import struct

    local = data.find(b"PK\x03\x04")
    struct.pack_into("<I", data, local + 22, 100)
    central = data.find(b"PK\x01\x02")
    struct.pack_into("<I", data, central + 24, 100)
    p = tmp_path / "liar.zip"
    p.write_bytes(bytes(data))
    items = _items(p, Limits(max_ratio=50.0, ratio_min_bytes=64 * 1024))
    assert len(items) == 1 and isinstance(items[0], ArchiveError)
    assert items[0].file_name == "liar.zip/liar.fit" and "cannot be read" in items[0].problem


def test_zip_total_uncompressed_limit(tmp_path):
    members = {f"{i}.fit": os.urandom(300 * 1024) for i in range(5)}
    p = tmp_path / "big.zip"
    p.write_bytes(zip_of(members))
    items = _items(p, Limits(max_archive_total_bytes=1024 * 1024))
    kinds = [type(i).__name__ for i in items]
    assert kinds == ["SourceFile", "SourceFile", "SourceFile", "ArchiveError"]
    assert "big.zip" in items[-1].problem and items[-1].file_name == "big.zip/3.fit"


def test_too_many_members(tmp_path):
    p = tmp_path / "many.zip"
    p.write_bytes(zip_of({f"{i}.fit": b"x" for i in range(11)}))
    (item,) = _items(p, Limits(max_members=10))
    assert isinstance(item, ArchiveError) and item.file_name == "many.zip" and "entries" in item.problem


def test_member_names_escaping_the_archive_are_rejected_and_nothing_is_written(tmp_path, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    names = ["../../evil.fit", "/abs/evil.fit", "a/../../evil.fit", "C:/win/evil.fit", "..\\..\\evil.fit"]
    members = {n: FIT for n in names}
    members["good/run.fit"] = FIT
    data = zip_of(members)
    p = tmp_path / "evil.zip"
    p.write_bytes(data)
    before = sorted(str(x) for x in tmp_path.rglob("*"))
    items = _items(p)
    after = sorted(str(x) for x in tmp_path.rglob("*"))
    assert before == after  # nothing extracted anywhere
    assert not list(Path("/").glob("evil.fit")) and not (tmp_path.parent / "evil.fit").exists()
    errors = [i for i in items if isinstance(i, ArchiveError)]
    assert len(errors) == len(names)
    assert all("outside the archive" in e.problem and e.file_name.startswith("evil.zip/") for e in errors)
    assert [i.name for i in items if isinstance(i, SourceFile)] == ["evil.zip/good/run.fit"]


def test_nested_zips_within_and_beyond_the_depth_limit(tmp_path):
    level = zip_of({"run.fit": FIT})
    for _ in range(2):
        level = zip_of({"inner.zip": level})
    p = tmp_path / "nest3.zip"
    p.write_bytes(level)
    (item,) = _items(p)
    assert isinstance(item, SourceFile) and item.name == "nest3.zip/inner.zip/inner.zip/run.fit"
    deeper = zip_of({"inner.zip": level})
    p4 = tmp_path / "nest4.zip"
    p4.write_bytes(deeper)
    (item,) = _items(p4)
    assert isinstance(item, ArchiveError) and "nested" in item.problem
    assert item.file_name == "nest4.zip/inner.zip/inner.zip/inner.zip"


def test_gzip_bomb_is_capped(tmp_path):
    bomb = gzip.compress(b"\0" * (8 * 1024 * 1024), compresslevel=9)
    small = Limits(max_file_bytes=1024 * 1024)
    with pytest.raises(ArchiveError, match="unpacks to more than") as err:
        read_activity(bomb, "bomb.fit.gz", limits=small)
    assert err.value.file_name == "bomb.fit.gz"
    p = tmp_path / "bomb.fit.gz"
    p.write_bytes(bomb)
    (item,) = _items(p, small)
    assert isinstance(item, ArchiveError) and item.file_name == "bomb.fit.gz"


def test_gzip_bomb_in_concatenated_members_is_capped():
    part = gzip.compress(b"\0" * (600 * 1024))
    with pytest.raises(ArchiveError, match="unpacks to more than"):
        read_activity(part * 3, "multi.fit.gz", limits=Limits(max_file_bytes=1024 * 1024))


@pytest.mark.parametrize(("data", "problem"), [
    (gzip.compress(FIT)[:-10], "truncated"),
    (b"\x1f\x8b\x08\x00" + os.urandom(40), "damaged"),
])
def test_broken_gzip(data, problem):
    with pytest.raises(ArchiveError, match=problem) as err:
        read_activity(data, "broken.fit.gz")
    assert err.value.file_name == "broken.fit.gz"


def test_broken_zip_is_reported_not_raised(tmp_path):
    p = tmp_path / "broken.zip"
    p.write_bytes(zip_of({"a.fit": FIT})[:50])
    (item,) = _items(p)
    assert isinstance(item, ArchiveError) and item.file_name == "broken.zip"
