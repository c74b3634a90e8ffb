"""Damaged GPX and TCX keep what was recorded (issue 17), and nothing hostile gets through the tolerant parse.

Generated files (``loadwatch.ingest.synth``) and real ones (``../shared/corpus``, skipped when absent) are cut short
and spliced with junk at many places (Hypothesis, derandomised, bounded): every point that was complete
before the damage is kept, the activity is ``partial`` with a plain-words warning, and its totals come
from the points kept.  Hostile content (DTDs, entities, external references, depth and size bombs) inside
a damaged file is refused or inert, within the fuzz tests' time and memory limits.
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loadwatch.ingest.errors import GpxError, IngestError, NotAnActivity, TcxError
from loadwatch.ingest.gpx_reader import read_gpx
from loadwatch.ingest.safe_xml import XmlDamage
from loadwatch.ingest.salvage import damage_warning, duration_words, expected_points
from loadwatch.ingest.sources import read_activity
from loadwatch.ingest.synth import SynthRun, gpx_bytes, tcx_bytes
from loadwatch.ingest.tcx_reader import read_tcx
from tests import fuzzlib as fz

START = datetime(2024, 5, 1, 7, 0, tzinfo=UTC)
SECRET = "TOP-SECRET-5b2e81c4"

pytestmark = pytest.mark.timeout(300)


def _settings(n: int):
    return settings(max_examples=n, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large], print_blob=False)


def _run(seconds: int, seed: int = 0) -> SynthRun:
    return SynthRun(start_utc=START, duration_s=seconds, distance_m=3.0 * seconds, seed=seed)


FORMATS = {"gpx": (gpx_bytes, "trkpt", "time"), "tcx": (tcx_bytes, "Trackpoint", "Time")}


def complete_point_times(text: str, point_tag: str, time_tag: str, upto: int) -> pd.DatetimeIndex:
    """Times of the points whose closing tag ends before character ``upto`` (complete before the damage)."""
    times = []
    for m in re.finditer(rf"<(?:\w+:)?{point_tag}\b.*?</(?:\w+:)?{point_tag}>", text, flags=re.S):
        if m.end() > upto:
            break
        t = re.search(rf"<(?:\w+:)?{time_tag}>([^<]+)</(?:\w+:)?{time_tag}>", m.group(0))
        if t:
            times.append(t.group(1).strip())
    return pd.DatetimeIndex(pd.to_datetime(times, utc=True, format="ISO8601"))


def read(data: bytes, name: str):
    """The outcome under the fuzz tests' contract (time, memory, canonical frame, errors naming the file)."""
    return fz.check_read(read_activity, data, name)


# ------------------------------------------------------------------------------- generated, cut short


@_settings(60)
@given(fmt=st.sampled_from(sorted(FORMATS)), seconds=st.integers(20, 400), seed=st.integers(0, 5),
       cut_frac=st.floats(0.0, 1.0))
def test_generated_file_cut_short_keeps_every_complete_point(fmt, seconds, seed, cut_frac):
    make, point_tag, time_tag = FORMATS[fmt]
    data = make(_run(seconds, seed))
    end = data.rindex(b"</")  # cut anywhere before the root element's closing tag: always damage
    cut = int(cut_frac * end)
    text = data[:cut].decode()
    before = complete_point_times(text, point_tag, time_tag, cut)
    res = read(data[:cut], f"cut.{fmt}")
    if res.outcome != "activity":
        # nothing salvageable: only when fewer than two complete points came before the cut
        assert len(before) < 2, (len(before), res.error)
        assert isinstance(res.error, GpxError if fmt == "gpx" else TcxError), res.error
        return
    act = res.activity
    if len(before) < 2 and act.samples.empty:  # a TCX cut before its second point keeps its lap's totals
        assert fmt == "tcx" and act.summary.partial, act.summary
        assert act.summary.warnings == ("partial: cut short; no points could be read, only the lap totals",)
        assert act.summary.distance_m == pytest.approx(3.0 * seconds, rel=0.01)
        return
    assert before.isin(act.samples.index).all(), "a point complete before the cut was lost"
    assert len(act.samples) <= len(before) + 1  # at most the one point the cut went through
    s = act.summary
    assert s.partial is True
    # the partial note first; a value the cut went through (a heart rate of "1") may be left out, and said
    warning, *more = s.warnings
    assert all(w.endswith("left out") for w in more), more
    assert warning.startswith("partial: cut short after ") and warning.endswith("points kept"), warning
    assert f"{len(act.samples):,} " in warning
    # totals come from the points kept, not from the lap the TCX announced before its points
    assert s.elapsed_s == pytest.approx((act.samples.index[-1] - act.samples.index[0]).total_seconds())
    assert s.distance_m <= 3.0 * seconds * 1.01
    kept_distance = act.samples["distance_m"].max() - act.samples["distance_m"].min()
    assert s.distance_m == pytest.approx(kept_distance, rel=0.02, abs=1.0)


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_cut_short_warning_says_when_and_how_much(fmt):
    """A 41-minute cut of a 55-minute run: the runner reads when it stopped and how much was kept."""
    make, _, _ = FORMATS[fmt]
    data = make(_run(3300))
    marker = b"2024-05-01T07:41:00Z"
    cut = data.index(marker) + 400  # a little past the point at 41:00
    act = read_activity(data[:cut], f"run.{fmt}")
    (warning,) = act.summary.warnings
    assert re.fullmatch(r"partial: cut short after 41 min; 2,46\d( of about 3,300)? points kept", warning), warning
    if fmt == "tcx":  # the lap said 55 min: the estimate comes from it
        assert "of about 3,300" in warning
        assert act.summary.moving_s < 2500  # the lap's 3,299 s are not the points kept


# ------------------------------------------------------------------------------- generated, spliced


@_settings(60)
@given(fmt=st.sampled_from(sorted(FORMATS)), seconds=st.integers(30, 400), where=st.floats(0.15, 0.95),
       junk=st.sampled_from([b"\x00" * 20, b"\xff\xfe\x00<<&&\x01", bytes(range(256)), b"<trkpt lat=",
                             b"</Trackpoint></Track>", b"\x1f\x8b\x08\x00garbage", b"]]>&#0;<?"]),
       kind=st.sampled_from(["junk", "overwrite", "drop"]))
def test_generated_file_spliced_keeps_the_points_before_and_most_after(fmt, seconds, where, junk, kind):
    make, point_tag, time_tag = FORMATS[fmt]
    data = make(_run(seconds))
    at = max(int(len(data) * where), data.index(b"<trk" if fmt == "gpx" else b"<Activities") + 20)
    if kind == "junk":
        bad = data[:at] + junk + data[at:]
    elif kind == "overwrite":
        bad = data[:at] + junk + data[at + len(junk):]
    else:
        bad = data[:at] + data[at + len(junk):]
    before = complete_point_times(data[:at].decode("utf-8", "replace"), point_tag, time_tag, at)
    res = read(bad, f"spliced.{fmt}")
    if res.outcome != "activity":
        assert len(before) < 2, (len(before), res.error)
        return
    act = res.activity
    assert before.isin(act.samples.index).all(), "a point complete before the damage was lost"
    # around the damage: at most a handful of points are lost to a splice of up to 256 bytes
    assert len(act.samples) >= seconds - 8
    if act.summary.partial:
        warning = act.summary.warnings[0]  # then maybe a note about a point the damage left unreadable
        assert warning.startswith(tuple(f"partial: {w}" for w in (
        "damaged after", "damaged near its start", "cut short after", "damaged ("))), warning
    else:  # a "drop" that removed whole points only leaves a well-formed file
        assert kind == "drop"


def test_points_with_damaged_fields_are_left_out_by_number():
    """A point whose position is unreadable is dropped and named (the library's "longitude is mandatory
    in None (got None)" never reaches the runner)."""
    data = gpx_bytes(_run(60)).decode()
    points = list(re.finditer(r'<trkpt lat="[^"]*" lon="[^"]*">', data))
    p12, p30 = points[11], points[29]
    broken = (data[:p12.start()] + '<trkpt lat="51.5">' + data[p12.end():p30.start()]
              + '<trkpt lat="51.5" lon="east">' + data[p30.end():])
    act = read_gpx(broken.encode(), "points.gpx")
    assert len(act.samples) == 58 and act.summary.partial
    assert act.summary.warnings == (
        "2 track points could not be read and were left out (the first: track point 12 has no longitude)",)
    # gpxpy's path (fast=False) cannot read such a file: its error is in the runner's words
    with pytest.raises(GpxError) as err:
        read_gpx(broken.encode(), "points.gpx", fast=False)
    assert err.value.problem == "track point 12 has no longitude"
    assert "mandatory" not in str(err.value) and "None" not in str(err.value)


def test_only_unreadable_points_is_a_clear_error():
    data = gpx_bytes(_run(3)).decode()
    data = re.sub(r' lon="[^"]*"', "", data)
    with pytest.raises(GpxError) as err:
        read_activity(data.encode(), "nolon.gpx")
    assert err.value.problem == "no track point could be read (track point 1 has no longitude)"


@pytest.mark.parametrize(("fmt", "data"), [
    ("gpx", b'<?xml version="1.0"?><gpx version="1.1"><trk><trkseg><trkpt lat="1" lon="1"><ti'),
    ("gpx", b"<gpx><trk>\x00\x00\x00"),
    ("tcx", b"<TrainingCenterDatabase><Activities><Activity Sport='Running'><Id>2024-05-01T07:00:00Z</Id><La"),
    ("tcx", b"<TrainingCenterDatabase><Activi"),
    ("gpx", b"\x00\x01\x02<gpx"),
])
def test_nothing_salvageable_is_a_clear_error_naming_the_file(fmt, data):
    name = f"nothing.{fmt}"
    with pytest.raises((GpxError, TcxError)) as err:
        read_activity(data, name)
    assert err.value.file_name == name and name in str(err.value)
    assert "damaged" in err.value.problem or "not valid XML" in err.value.problem


# ------------------------------------------------------------------------------- real files


def _corpus_activities() -> dict[str, bytes]:
    out = {}
    for rel, data in fz.corpus_seeds().items():
        if fz.true_kind(rel) not in ("gpx", "tcx") or rel.endswith(".gz"):
            continue
        try:
            act = read_activity(data, rel)
        except (IngestError, NotAnActivity):
            continue
        if len(act.samples) >= 5:
            out[rel] = data
    return out


CORPUS_XML = _corpus_activities()


@pytest.mark.corpus
@_settings(40)
@given(idx=st.integers(0, 10_000), cut_frac=st.floats(0.05, 0.99))
def test_corpus_file_cut_short_keeps_every_complete_point(idx, cut_frac):
    if not CORPUS_XML:
        pytest.skip("../shared/corpus is absent")
    rel = sorted(CORPUS_XML)[idx % len(CORPUS_XML)]
    data = CORPUS_XML[rel]
    fmt = fz.true_kind(rel)
    _, point_tag, time_tag = FORMATS[fmt]
    full = read_activity(data, rel)
    cut = int(cut_frac * data.rindex(b"</"))
    text = data[:cut].decode("utf-8", "replace")
    before = complete_point_times(text, point_tag, time_tag, len(text))
    res = read(data[:cut], "cut-" + rel.rsplit("/", 1)[-1])
    expected = full.samples.index[full.samples.index <= (before.max() if len(before) else full.samples.index[0])]
    if res.outcome != "activity":
        assert len(before) < 2 or len(expected) < 2, (rel, cut, res.error)
        return
    assert expected.isin(res.activity.samples.index).all(), (rel, cut)
    assert res.activity.summary.partial and res.activity.summary.warnings
    assert res.activity.summary.distance_m <= full.summary.distance_m * 1.02 + 1


@pytest.mark.corpus
@_settings(40)
@given(idx=st.integers(0, 10_000), where=st.floats(0.1, 0.95), size=st.integers(1, 200),
       kind=st.sampled_from(["junk", "overwrite", "drop"]), junk_seed=st.integers(0, 2**16))
def test_corpus_file_spliced_keeps_the_points_before(idx, where, size, kind, junk_seed):
    if not CORPUS_XML:
        pytest.skip("../shared/corpus is absent")
    rel = sorted(CORPUS_XML)[idx % len(CORPUS_XML)]
    data = CORPUS_XML[rel]
    fmt = fz.true_kind(rel)
    _, point_tag, time_tag = FORMATS[fmt]
    full = read_activity(data, rel)
    bad = fz.damage(data, kind, where, size, junk_seed)
    at = int(len(data) * where)
    before = complete_point_times(data[:at].decode("utf-8", "replace"), point_tag, time_tag, at)
    res = read(bad, "spliced-" + rel.rsplit("/", 1)[-1])
    if len(before) < 2:
        return
    assert res.outcome == "activity", (rel, res.error)
    expected = full.samples.index[full.samples.index <= before.max()]
    assert expected.isin(res.activity.samples.index).all(), (rel, kind, at)


# ------------------------------------------------------------------------------- nothing hostile


@functools.cache
def _hostile(uri: str) -> dict[str, tuple[bytes, str]]:
    """Fragment to splice into a damaged file -> what must happen: "refused" or "inert"."""
    return {
        "internal_entity": (b'<!DOCTYPE gpx [<!ENTITY e "' + b"x" * 50 + b'">]>', "refused"),
        "external_entity": (f'<!DOCTYPE gpx [<!ENTITY xxe SYSTEM "{uri}">]>'.encode(), "refused"),
        "external_dtd": (f'<!DOCTYPE gpx SYSTEM "{uri}">'.encode(), "refused"),
        "parameter_entity": (f'<!DOCTYPE r [<!ENTITY % p SYSTEM "{uri}"> %p;]>'.encode(), "refused"),
        "doctype_split_by_junk": (f'<!DOC\x00TYPE gpx SYSTEM "{uri}">'.encode(), "refused"),
        "entity_split_by_junk": (f'<!EN\x01TITY xxe SYSTEM "{uri}">'.encode(), "refused"),
        "undeclared_entity_ref": (b"<name>&xxe;&lol9;</name>", "inert"),
        "xinclude": (f'<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="{uri}" parse="text"/>'
                     .encode(), "inert"),
        "schema_location": (f'<x xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
                            f'xsi:schemaLocation="urn:x {uri}"/>'.encode(), "inert"),
        "depth_bomb": (b"<a>" * 50_000, "refused"),
        "huge_text": (b"<desc>" + b"y" * (11 * 2**20) + b"</desc>", "refused"),
        "attribute_bomb": (b"<a " + b" ".join(b"a%d='1'" % i for i in range(50_000)) + b">", "inert"),
    }


@pytest.fixture(scope="module")
def secret_uri(tmp_path_factory):
    p = tmp_path_factory.mktemp("secret") / "secret.txt"
    p.write_text(SECRET)
    return p.as_uri()


def _all_text(obj) -> str:
    if isinstance(obj, BaseException):
        parts = []
        while obj is not None:
            parts += [repr(obj), str(obj)]
            obj = obj.__cause__ or obj.__context__
        return "\n".join(parts)
    return repr(obj.summary) + obj.samples.to_csv()


@pytest.mark.parametrize("kind", list(_hostile("file:///x")))
@pytest.mark.parametrize("fmt", sorted(FORMATS))
@pytest.mark.parametrize("place", ["prolog", "middle"])
def test_hostile_content_in_a_damaged_file(kind, fmt, place, secret_uri):
    make, _, _ = FORMATS[fmt]
    fragment, expect = _hostile(secret_uri)[kind]
    data = make(_run(120))
    if place == "prolog":
        at = data.index(b"?>") + 2
    else:
        at = data.index(b"<trkpt" if fmt == "gpx" else b"<Trackpoint", len(data) // 2)
    damaged = data[:at] + fragment + data[at:len(data) * 3 // 4]  # and cut short
    name = f"hostile-{kind}.{fmt}"
    res = read(damaged, name)
    text = _all_text(res.error if res.error is not None else res.activity)
    assert SECRET not in text
    if expect == "refused":
        assert res.outcome == "ingest_error", (kind, res.outcome)
        assert "refused for safety" in res.error.problem, res.error.problem
    elif res.outcome == "activity":
        assert res.activity.summary.partial


@_settings(60)
@given(fmt=st.sampled_from(sorted(FORMATS)), where=st.floats(0.0, 1.0), cut=st.floats(0.3, 1.0),
       kind=st.sampled_from(sorted(_hostile("file:///x"))))
def test_hostile_fragment_anywhere_in_a_damaged_file(fmt, where, cut, kind, tmp_path_factory):
    """The same fragments at any place, in files also cut short anywhere: never a secret, never a
    crash, never over the time or memory limit; a declaration is always refused."""
    p = tmp_path_factory.getbasetemp() / "secret-any.txt"
    p.write_text(SECRET)
    fragment, expect = _hostile(p.as_uri())[kind]
    make, _, _ = FORMATS[fmt]
    data = make(_run(60))
    at = int(where * len(data))
    damaged = (data[:at] + fragment + data[at:])[: int(cut * (len(data) + len(fragment)))]
    res = read(damaged, f"anywhere.{fmt}")
    assert SECRET not in _all_text(res.error if res.error is not None else res.activity)
    if expect == "refused" and kind not in ("depth_bomb", "huge_text") and fragment[:9] in damaged:
        assert res.outcome == "ingest_error" and "refused for safety" in res.error.problem


# ------------------------------------------------------------------------------- the warning's words


def test_damage_warning_words():
    t = START.timestamp() + np.arange(0, 2460, 1.0)
    cut = XmlDamage(parts=(None,), head=True, cut_short=True, size_chars=10, detail="")
    zeros = np.zeros(len(t))
    assert damage_warning(cut, t_kept_s=t, parts_kept=zeros) == "cut short after 41 min; 2,460 points kept"
    assert damage_warning(cut, t_kept_s=t, parts_kept=zeros, recorded_s=3300.0) == \
        "cut short after 41 min; 2,460 of about 3,300 points kept"
    mid = XmlDamage(parts=(None, None), head=True, cut_short=False, size_chars=10, detail="")
    gap = np.concatenate([t[:1200], t[1500:]])
    parts = np.repeat([0, 1], [1200, 960])
    assert damage_warning(mid, t_kept_s=gap, parts_kept=parts) == \
        "damaged after 20 min; 2,160 of about 2,500 points kept"
    both = XmlDamage(parts=(None, None), head=True, cut_short=True, size_chars=10, detail="")
    assert damage_warning(both, t_kept_s=gap, parts_kept=parts) == \
        "damaged after 20 min and cut short after 41 min; 2,160 of about 2,500 points kept"
    # a stop inside the kept points is not a loss (the estimate only counts time skipped at the damage)
    stopped = np.concatenate([t[:1000], t[1000:] + 600])
    assert damage_warning(cut, t_kept_s=stopped, parts_kept=zeros) == "cut short after 51 min; 2,460 points kept"
    # points seen whose fields could not be read count as expected
    assert damage_warning(cut, t_kept_s=t, parts_kept=zeros, seen=2600) == \
        "cut short after 41 min; 2,460 of about 2,600 points kept"
    assert duration_words(45) == "45 s" and duration_words(3900) == "1 h 05 min"
    assert np.isnan(expected_points(np.array([1.0])))


def _three_lap_tcx() -> bytes:
    text = tcx_bytes(_run(3000)).decode()
    points = re.findall(r"<Trackpoint>.*?</Trackpoint>\n", text)
    laps = "".join(
        f'<Lap StartTime="{(pd.Timestamp(START) + pd.Timedelta(seconds=1000 * k)).strftime("%Y-%m-%dT%H:%M:%SZ")}">'
        f"<TotalTimeSeconds>1000</TotalTimeSeconds><DistanceMeters>3000</DistanceMeters><Track>\n"
        + "".join(points[1000 * k:1000 * (k + 1)]) + "</Track></Lap>\n" for k in range(3))
    return (text[: text.index("<Lap ")] + laps + "</Activity></Activities></TrainingCenterDatabase>\n").encode()


def test_tcx_damaged_in_its_second_lap_keeps_all_three_laps():
    data = _three_lap_tcx()
    at = data.index(b"<Trackpoint>", data.index(b"<Lap ", data.index(b"<Lap ") + 1) + 5000)
    bad = data[:at] + b"\x00garbage<<>>&&" + data[at + 300:]
    act = read_tcx(bad, "laps.tcx")
    s = act.summary
    assert s.partial and s.warnings[0].startswith("damaged after 1")
    assert 2990 <= len(act.samples) < 3000  # one or two points lost to the 300 bytes
    assert s.distance_m == 9000.0 and s.moving_s == 3000.0  # the three laps' totals, the third read after the damage


def test_tcx_laps_covering_more_than_the_points_kept_give_way():
    data = _three_lap_tcx()
    cut = data.index(b"<Trackpoint>", data.index(b"<Lap ", data.index(b"<Lap ") + 1) + 5000)
    act = read_tcx(data[:cut], "laps-cut.tcx")
    s = act.summary
    kept_s = (act.samples.index[-1] - act.samples.index[0]).total_seconds()
    assert s.moving_s <= kept_s + 1 and s.distance_m < 6000  # not the 2,000 s and 6 km of laps 1-2
    assert s.distance_m == pytest.approx(act.samples["distance_m"].max() - act.samples["distance_m"].min(), abs=1)
