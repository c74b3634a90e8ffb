"""Fuzzing the readers: damaged input gives an activity or a clear error, never a crash or a hang.

Seeds are generated files (``loadwatch.ingest.synth``) and, when ``../shared/corpus`` is present, every small real
file in it.  Mutations: bit flips, byte overwrites, truncation anywhere, inserted/deleted/repeated bytes,
FIT header and definition-message lies (with and without recomputed CRCs, so damage reaches the decoder
rather than stopping at the CRC check), XML damage (closing tags dropped, bad timestamps, undeclared
namespace prefixes, huge numbers, NaN text, entities, encodings that lie), gzip and zip damage.

The contract, for every case (``tests/fuzzlib.py``): ``read_activity(data, name)`` returns an Activity with
the canonical frame (canonical columns, float64, sorted unique UTC index, no inf, summary finite-or-NaN,
no negative distance or duration, id = sha256) or raises an ``IngestError`` naming the file or
``NotAnActivity``; it finishes within 5 s and allocates less than 300 MB.

Case counts are bounded for CI on two cores (about 800 cases, well under two minutes); set
``LOADWATCH_FUZZ_SCALE=10`` for a longer local run.  ``derandomize=True`` and ``database=None`` make
every run the same.
"""

from __future__ import annotations

import os
import struct
import tempfile
import zipfile
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loadwatch.ingest import fit_fast, sources
from loadwatch.ingest.errors import IngestError, NotAnActivity
from loadwatch.ingest.fit_common import FitDecoded
from loadwatch.ingest.sources import read_activity
from tests import fuzzlib as fz

pytestmark = pytest.mark.slow  # thousands of mutated files

SCALE = max(1, int(os.environ.get("LOADWATCH_FUZZ_SCALE", "1")))


@pytest.fixture(autouse=True, scope="module")
def _warm_imports():
    fz.warm_up(read_activity)


def fuzz_settings(n: int):
    return settings(max_examples=n * SCALE, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much], print_blob=False)


FIT_SEEDS = fz.seeds(("fit",))
XML_SEEDS = fz.seeds(("gpx", "tcx"))
GZ_SEEDS = {k: v for k, v in fz.synth_seeds().items() if k.endswith(".gz")}

_int = st.integers(min_value=0, max_value=2**24)


def mutations(ops: tuple[str, ...], max_size: int = 3):
    return st.lists(st.tuples(st.sampled_from(ops), _int, _int, _int, _int), min_size=1, max_size=max_size)


#: The name passed to read_activity: the true extension, a wrong one, none, or a .gz suffix.
NAME_STYLES = ("true", "true", "true", ".fit", ".gpx", ".tcx", ".bin", "")


def case_name(seed: str, style: str) -> str:
    base = "fuzz-" + Path(seed).name
    if style == "true":
        return base
    stem = base.split(".", 1)[0]
    return stem + style


def run_case(seed_bytes: bytes, muts: list[tuple], name: str, *, fix_crc: bool = False) -> fz.CaseResult:
    data = fz.apply_recipe(seed_bytes, muts, fix_crc=fix_crc)
    return fz.check_read(read_activity, data, name)


# ------------------------------------------------------------------------------------------ seeds


def test_seeds_are_readable():
    """The unmutated generated seeds read as activities (else the fuzzing would only test the errors)."""
    seeds = fz.synth_seeds()
    for name in ("synth-le.fit", "synth-be-dyn.fit", "synth-nohr-nogps.fit", "synth.gpx", "synth.tcx",
                 "synth.fit.gz", "synth.gpx.gz", "synth.tcx.gz"):
        result = fz.check_read(read_activity, seeds[name], name)
        assert result.outcome == "activity", (name, result.error)
    with pytest.raises(NotAnActivity):
        read_activity(seeds["synth-settings.fit"], "synth-settings.fit")


def test_corpus_seeds_meet_the_contract():
    """Every small corpus seed, unmutated, meets the contract too (the big ones are in the corpus report)."""
    seeds = fz.corpus_seeds()
    if not seeds:
        pytest.skip("../shared/corpus is absent")
    outcomes = Counter(fz.check_read(read_activity, data, Path(p).name).outcome for p, data in seeds.items())
    assert outcomes["activity"] > 0, outcomes


# --------------------------------------------------------------------------------------- FIT


@fuzz_settings(300)
@given(seed=st.sampled_from(sorted(FIT_SEEDS)), muts=mutations(fz.BYTE_OPS),
       fix_crc=st.booleans(), style=st.sampled_from(NAME_STYLES))
def test_fit_byte_mutations(seed, muts, fix_crc, style):
    run_case(FIT_SEEDS[seed], muts, case_name(seed, style), fix_crc=fix_crc)


@fuzz_settings(400)
@given(seed=st.sampled_from(sorted(FIT_SEEDS)), muts=mutations(fz.FIT_OPS + ("flip", "truncate")),
       fix_crc=st.sampled_from([True, True, True, False]))
def test_fit_header_and_definition_lies(seed, muts, fix_crc):
    """header_size / data_size lies, definition field sizes, base types, field counts, architecture."""
    run_case(FIT_SEEDS[seed], muts, case_name(seed, "true"), fix_crc=fix_crc)


def test_fit_truncated_at_every_offset():
    """A whole small FIT file cut at every byte offset (file CRC as found), and at every third offset with
    the CRC recomputed (so the cut reaches the message decoder)."""
    seed = fz.synth_seeds()["synth-nohr-nogps.fit"]
    outcomes = Counter()
    for cut in range(len(seed)):
        for fix in (False, True) if cut % 3 == 0 else (False,):
            res = run_case(seed, [("truncate", cut)], "cut.fit", fix_crc=fix)
            outcomes[res.outcome] += 1
    assert outcomes["ingest_error"] > 0, outcomes


def test_fit_every_definition_field_size():
    """Every field-size byte of every definition message set to 0, 1 and 255 (CRC recomputed)."""
    seed = fz.synth_seeds()["synth-le.fit"]
    defs = fz.fit_definitions(seed)
    assert len(defs) >= 6
    for d_i, d in enumerate(defs):
        for f_i in range(d.field_count):
            for size_choice in (0, 1, 9):  # indices into mutate_fit's size table: 0, 1, 0xFF
                run_case(seed, [("def_field_size", d_i, f_i, size_choice)], "defsize.fit", fix_crc=True)


@fuzz_settings(100)
@given(body=st.binary(max_size=2048), header_size=st.sampled_from([12, 14]),
       data_size=st.one_of(st.just(None), st.integers(0, 2**32 - 1)))
def test_fit_header_with_random_body(body, header_size, data_size):
    """A valid-looking FIT header followed by random bytes."""
    size = len(body) if data_size is None else data_size
    header = struct.pack("<BBHI4s", header_size, 0x20, 2132, size, b".FIT")
    if header_size == 14:
        header += struct.pack("<H", 0)
    data = fz.fix_fit_crcs(header + body + b"\0\0")
    fz.check_read(read_activity, data, "random.fit")


# --------------------------------------------------------------------------------------- GPX / TCX


@fuzz_settings(400)
@given(seed=st.sampled_from(sorted(XML_SEEDS)), muts=mutations(fz.XML_OPS), style=st.sampled_from(NAME_STYLES))
def test_xml_mutations(seed, muts, style):
    run_case(XML_SEEDS[seed], muts, case_name(seed, style))


@fuzz_settings(200)
@given(seed=st.sampled_from(sorted(XML_SEEDS)), muts=mutations(fz.BYTE_OPS + fz.XML_OPS))
def test_xml_byte_mutations(seed, muts):
    run_case(XML_SEEDS[seed], muts, case_name(seed, "true"))


@pytest.mark.parametrize("seed", ["synth.gpx", "synth.tcx"])
def test_xml_truncated_at_many_offsets(seed):
    data = fz.synth_seeds()[seed]
    step = max(1, len(data) // 150)
    for cut in range(0, len(data), step):
        run_case(data, [("truncate", cut)], "cut-" + seed)


# --------------------------------------------------------------------------------------- gzip


@fuzz_settings(100)
@given(seed=st.sampled_from(sorted(GZ_SEEDS)),
       muts=mutations(fz.BYTE_OPS + ("gz_inner",), max_size=2))
def test_gzip_mutations(seed, muts):
    """Damage to the gzip wrapper, and damage inside it (recompressed, so it reaches the reader)."""
    muts = [(m[0], fz.BYTE_OPS[m[1] % len(fz.BYTE_OPS)], *m[2:]) if m[0] == "gz_inner" else m for m in muts]
    run_case(GZ_SEEDS[seed], muts, "fuzz-" + seed)


@fuzz_settings(100)
@given(data=st.binary(max_size=512), name=st.sampled_from(["x.fit", "x.gpx", "x.tcx", "x.gz", "x", "x.zip"]))
def test_arbitrary_bytes(data, name):
    fz.check_read(read_activity, data, name)


@pytest.mark.parametrize("data", [b"", b"\x1f\x8b", b"PK\x03\x04", b"<", b"<?xml", b"<gpx", b"\xef\xbb\xbf",
                                  b"<TrainingCenterDatabase/>", b"<gpx/>", b"\x0e\x10\x00\x00\x00\x00\x00\x00.FIT"])
def test_tiny_inputs(data):
    fz.check_read(read_activity, data, "tiny.fit")


# --------------------------------------------------------------------------------------- zip


@st.composite
def zip_cases(draw):
    synth = fz.synth_seeds()
    pool = sorted(synth)
    n = draw(st.integers(1, 3))
    members = []
    for _ in range(n):
        seed = draw(st.sampled_from(pool))
        name = draw(st.one_of(st.just("activities/" + seed), st.sampled_from(fz.ODD_MEMBER_NAMES)))
        members.append((name, synth[seed]))
    if draw(st.booleans()):  # a nested zip
        members.append(("inner.zip", fz.make_zip([("inner/run.fit", synth["synth-le.fit"])])))
    compression = draw(st.sampled_from([zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED]))
    muts = draw(mutations(fz.ZIP_OPS + fz.BYTE_OPS, max_size=2))
    return members, compression, muts


def _iter_zip_bytes(data: bytes, tmpdir: str) -> list:
    path = Path(tmpdir) / "export.zip"
    path.write_bytes(data)
    return list(sources.iter_sources([path]))


def check_archive(data: bytes) -> Counter:
    """iter_sources over a zip, then read_activity on every member: the same contract, member by member."""
    outcomes = Counter()
    with tempfile.TemporaryDirectory() as tmpdir:
        items, _, _ = fz.bounded_call(lambda: _iter_zip_bytes(data, tmpdir))
    for item in items:
        if isinstance(item, sources.SourceFile):
            assert item.name.startswith("export.zip"), item.name
            outcomes[fz.check_read(read_activity, item.data, item.name).outcome] += 1
        elif isinstance(item, IngestError):
            assert "export.zip" in str(item), str(item)
            outcomes["archive_error"] += 1
        else:
            assert isinstance(item, sources.Skipped), type(item)
            outcomes["skipped"] += 1
    return outcomes


@pytest.mark.filterwarnings("ignore:Duplicate name")
@fuzz_settings(200)
@given(case=zip_cases())
def test_zip_mutations(case):
    members, compression, muts = case
    data = fz.make_zip(members, compression=compression)
    for m in muts:
        data = fz.mutate_zip(data, m)
    check_archive(data)


# ------------------------------------------------------------------- regressions found by fuzzing


def _tiny(fmt: str) -> str:
    from loadwatch.ingest.synth import gpx_bytes, tcx_bytes

    run = fz._run(3)
    return (gpx_bytes(run) if fmt == "gpx" else tcx_bytes(run)).decode()


@pytest.mark.parametrize(("fmt", "old", "new"), [
    # a GPX coordinate or elevation of "inf" went into the samples as inf
    ("gpx", 'lat="51.5000000"', 'lat="inf"'),
    ("gpx", "<ele>30.0</ele>", "<ele>inf</ele>"),
    ("gpx", "<ele>30.0</ele>", "<ele>1e309</ele>"),
    # a GPX time beyond pandas' nanosecond range (after 2262-04-11) overflowed the int64 cast: NaT in the
    # index, or an unsorted index
    ("gpx", "2024-05-01T07:00:01Z", "9999-12-31T23:59:59Z"),
    ("gpx", "2024-05-01T07:00:01Z", "2262-04-12T00:00:00Z"),
    # a TCX time outside pandas' range raised pandas' OutOfBoundsDatetime
    ("tcx", "2024-05-01T07:00:01Z", "9999-12-31T23:59:59Z"),
    ("tcx", "2024-05-01T07:00:01Z", "1600-01-01T00:00:00Z"),
    ("tcx", "<Id>2024-05-01T07:00:00Z", "<Id>9999-12-31T23:59:59Z"),
])
def test_out_of_range_xml_values(fmt, old, new):
    text = _tiny(fmt)
    assert old in text
    fz.check_read(read_activity, text.replace(old, new, 1).encode(), f"odd.{fmt}")


def test_zip_with_an_empty_member_name():
    """Found by fuzzing (a central-directory name length overwritten with 0): ``ZipInfo.is_dir()`` raised
    ``IndexError`` on the empty name inside ``sources._iter_zip``, escaping ``iter_sources`` (which
    promises never to raise for one bad input) and stopping the whole import."""
    synth = fz.synth_seeds()
    data = fz.make_zip([("", synth["synth-le.fit"]), ("ok/run.gpx", synth["synth.gpx"])])
    outcomes = check_archive(data)
    assert outcomes["activity"] == 1, outcomes


def test_zip_member_names_never_escape():
    synth = fz.synth_seeds()
    data = fz.make_zip([("../escape.fit", synth["synth-le.fit"]), ("/abs.fit", synth["synth-le.fit"]),
                        ("ok/run.fit", synth["synth-le.fit"])])
    outcomes = check_archive(data)
    assert outcomes["activity"] == 1 and outcomes["archive_error"] == 2, outcomes


# --------------------------------------------------------------------------------------- fast path


@fuzz_settings(800)
@given(seed=st.sampled_from(sorted(FIT_SEEDS)), muts=mutations(fz.FIT_OPS + fz.BYTE_OPS),
       fix_crc=st.sampled_from([True, True, True, False]))
def test_fit_fast_decode(seed, muts, fix_crc):
    """The vectorised decoder alone: it returns a FitDecoded or declines (FastPathDeclined/IngestError)."""
    data = fz.apply_recipe(FIT_SEEDS[seed], muts, fix_crc=fix_crc)
    try:
        decoded, _, _ = fz.bounded_call(lambda: fit_fast.decode(data, "fast.fit"))
    except (fit_fast.FastPathDeclined, IngestError):
        return
    assert isinstance(decoded, FitDecoded)
    n = {len(v) for v in decoded.records.values()}
    assert len(n) <= 1, f"record columns of different lengths: {n}"


def test_fit_fast_declines_a_definition_that_overruns_the_file():
    """Found by fuzzing: a definition message claiming more field definitions than the file holds made
    ``fit_fast._walk`` raise ``ValueError`` (``zip(..., strict=True)`` over a short slice) instead of
    declining.  255 fields declared, one present, two stray bytes; CRCs valid."""
    body = bytes([0x40, 0, 0, 0, 0, 255]) + bytes([3, 1, 0x02]) + b"\x00\x00"
    header = struct.pack("<BBHI4s", 14, 0x20, 2132, len(body), b".FIT") + b"\0\0"
    data = fz.fix_fit_crcs(header + body + b"\0\0")
    with pytest.raises(fit_fast.FastPathDeclined):
        fit_fast.decode(data, "overrun.fit")


# ------------------------------------------------------------------------------- salvage rates (issue 17)

#: How far below the FIT salvage rate the GPX/TCX rate may fall (the samples are a few hundred copies).
SALVAGE_RATE_TOLERANCE = 0.03


def _activity_files(kinds: tuple[str, ...]) -> dict[str, bytes]:
    """Generated runs of 1, 3 and 5 minutes in each of ``kinds`` plus the small corpus files of those
    kinds that read as activities (the ones a damaged copy could be salvaged from)."""
    from loadwatch.ingest.synth import fit_bytes, gpx_bytes, tcx_bytes

    writers = {"fit": fit_bytes, "gpx": gpx_bytes, "tcx": tcx_bytes}
    out = {f"gen-{s}.{k}": writers[k](fz._run(s, seed=i)) for k in kinds for i, s in enumerate((60, 180, 300))}
    for rel, data in fz.corpus_seeds().items():
        if fz.true_kind(rel) not in kinds or rel.endswith(".gz"):
            continue
        try:
            read_activity(data, rel)
        except (IngestError, NotAnActivity):
            continue
        out[rel] = data
    return out


def test_damaged_xml_is_salvaged_as_often_as_damaged_fit():
    """The same damage (cut short, junk inserted, bytes overwritten or deleted: ``fz.damaged_copies``) on
    FIT files and on GPX/TCX files: the XML files are salvaged at least as often as the FIT files (less
    a small tolerance).  Before issue 17 nearly every damaged XML copy was refused whole."""
    fit_ok, fit_n = fz.salvage_rate(read_activity, _activity_files(("fit",)), 8 * SCALE)
    xml_ok, xml_n = fz.salvage_rate(read_activity, _activity_files(("gpx", "tcx")), 8 * SCALE)
    fit_rate, xml_rate = fit_ok / fit_n, xml_ok / xml_n
    print(f"salvage rate: FIT {fit_rate:.1%} ({fit_ok}/{fit_n}), GPX/TCX {xml_rate:.1%} ({xml_ok}/{xml_n})")
    assert xml_rate >= fit_rate - SALVAGE_RATE_TOLERANCE, (fit_ok, fit_n, xml_ok, xml_n)
    assert xml_rate > 0.8, (xml_ok, xml_n)
