"""The GPX reader's two fast paths for alike track points give the same points and the same activity as
its point-by-point loop, over generated variants, random point layouts and every GPX of ../shared/corpus:

* ``_points_textual``: points read from the text with regular expressions (no tree of every element);
* ``_point_columns``: points read as list slices over the parsed tree's elements.

The loop is the reference (itself checked against gpxpy in test_gpx_differential.py).  For each document
the test also says whether each fast path must take it (points all alike) or hand it on.
"""

from __future__ import annotations

import functools
import math
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loadwatch.ingest import gpx_reader, safe_xml
from loadwatch.ingest.errors import GpxError, IngestError, NotAnActivity
from loadwatch.ingest.synth import SynthRun, gpx_bytes
from tests.conftest import CORPUS_DIR, corpus_manifest

GPX11 = "http://www.topografix.com/GPX/1/1"
GPX10 = "http://www.topografix.com/GPX/1/0"
TPX = "http://www.garmin.com/xmlschemas/TrackPointExtension/v1"


def _root(data: bytes):
    _text, root, damage = safe_xml.parse_xml(data, "t.gpx", GpxError, resync=gpx_reader._RESYNC)
    assert damage is None
    return root


def _points(data: bytes, bulk: bool):
    try:
        return gpx_reader._points_fast(_root(data), bulk=bulk)
    except gpx_reader._Declined as exc:
        return f"declined: {exc}"


def _same_points(a, b) -> None:
    if isinstance(a, str) or isinstance(b, str):
        assert a == b
        return
    for name in ("lat", "lon", "ele", "t", "hr", "cad", "spd"):
        np.testing.assert_array_equal(np.asarray(getattr(a, name), float), np.asarray(getattr(b, name), float),
                                      err_msg=name)
        assert type(getattr(a, name)) is type(getattr(b, name)), name
    for name in ("seg_id", "track_type", "creator", "has_routes", "has_waypoints", "bad", "part", "n_points"):
        assert getattr(a, name) == getattr(b, name), name
    # signed zeros and the exact NaN-ness are part of "the same"
    assert [math.copysign(1, x) for x in a.lat] == [math.copysign(1, x) for x in b.lat]


def _outcome(data: bytes, loop: bool, monkeypatch):
    with monkeypatch.context() as m:
        if loop:  # the reference: the whole tree, point by point
            m.setattr(gpx_reader, "_points_textual", lambda data: None)
            m.setattr(gpx_reader, "_points_fast", functools.partial(gpx_reader._points_fast, bulk=False))
        try:
            return gpx_reader.read_gpx(data, "t.gpx")
        except (NotAnActivity, IngestError) as exc:
            return f"{type(exc).__name__}: {exc}"


def assert_bulk_equals_loop(data: bytes, monkeypatch, *, bulk_taken: bool | None,
                            textual_taken: bool | None = None) -> None:
    """Same ``_Points`` from each fast path that takes the document as from the loop, and the same
    Activity (or error) from ``read_gpx`` as from the loop alone; ``bulk_taken`` / ``textual_taken``:
    whether the column path / the textual path must take the document (None: either)."""
    root = _root(data)
    ns = root.tag[1:].split("}", 1)[0] if root.tag.startswith("{") else ""
    if bulk_taken is not None:
        assert (gpx_reader._point_columns(root, ns) is not None) == bulk_taken
    loop = _points(data, False)
    _same_points(_points(data, True), loop)
    textual = gpx_reader._points_textual(data)
    if textual_taken is not None:
        assert (textual is not None) == textual_taken
    if textual is not None:
        _same_points(textual, loop)
    fast, ref = _outcome(data, False, monkeypatch), _outcome(data, True, monkeypatch)
    if isinstance(fast, str) or isinstance(ref, str):
        assert fast == ref
        return
    pd.testing.assert_frame_equal(fast.samples, ref.samples, check_exact=True)
    assert repr(fast.summary) == repr(ref.summary)  # exact, NaN included (nan != nan in ==)


# ------------------------------------------------------------------------------------------ builders


def _pt(i: int, *, lat=None, lon=None, ele=True, time=True, hr=None, cad=None, speed=None, ext_prefix="gpxtpx",
        t0=1_714_543_200, time_fmt="{}Z") -> str:
    lat = f"{51.5 + i * 1e-4:.7f}" if lat is None else lat
    lon = f"{-0.12 + i * 1e-4:.7f}" if lon is None else lon
    attrs = "".join(f' {k}="{v}"' for k, v in (("lat", lat), ("lon", lon)) if v is not False)
    parts = []
    if ele:
        parts.append(f"<ele>{30 + i % 7 * 0.5:.1f}</ele>")
    if time:
        stamp = datetime.fromtimestamp(t0 + i, UTC).strftime("%Y-%m-%dT%H:%M:%S")
        parts.append(f"<time>{time_fmt.format(stamp)}</time>")
    if speed is not None:
        parts.append(f"<speed>{speed}</speed>")
    inner = ""
    p = f"{ext_prefix}:" if ext_prefix else ""
    if hr is not None:
        inner += f"<{p}hr>{hr}</{p}hr>"
    if cad is not None:
        inner += f"<{p}cad>{cad}</{p}cad>"
    if inner:
        wrap = f"{p}TrackPointExtension"
        parts.append(f"<extensions><{wrap}>{inner}</{wrap}></extensions>")
    return f"<trkpt{attrs}>{''.join(parts)}</trkpt>"


def _doc(segments: list[list[str]], *, version="1.1", tracks: int = 1, ext_ns: str = "gpxtpx", decl=True,
         track_type="running", name="Run", encoding="UTF-8") -> str:
    ns = GPX11 if version == "1.1" else GPX10
    ext_decl = {"gpxtpx": f' xmlns:gpxtpx="{TPX}"', "ns3": f' xmlns:ns3="{TPX}"', "": ""}[ext_ns]
    head = f'<?xml version="1.0" encoding="{encoding}"?>\n' if decl else ""
    trk_segs = [segments[i::tracks] for i in range(tracks)]
    body = "".join(
        f"<trk><name>{name}</name>{f'<type>{track_type}</type>' if track_type else ''}"
        + "".join("<trkseg>\n" + "\n".join(seg) + "\n</trkseg>" for seg in segs) + "</trk>\n"
        for segs in trk_segs)
    return (f'{head}<gpx version="{version}" creator="test" xmlns="{ns}"{ext_decl}>\n'
            f"<metadata><time>2024-05-01T06:00:00Z</time></metadata>\n{body}</gpx>\n")


def _points_list(n: int, **kw) -> list[str]:
    return [_pt(i, **{k: (v(i) if callable(v) else v) for k, v in kw.items()}) for i in range(n)]


N = 120
VARIANTS = {
    # name: (document text, whether the column path must take it)
    "plain": (_doc([_points_list(N, hr=150, cad=85)]), True),
    "no extensions": (_doc([_points_list(N)]), True),
    "only cadence": (_doc([_points_list(N, cad=80)]), True),
    "missing ele on some points": (_doc([_points_list(N, ele=lambda i: i % 9 != 4, hr=150)]), False),
    "no ele at all": (_doc([_points_list(N, ele=False, hr=150)]), True),
    "missing time on some points": (_doc([_points_list(N, time=lambda i: i % 11 != 3)]), False),
    "two segments": (_doc([_points_list(N // 2, hr=150), _points_list(N // 2, hr=151, t0=1_714_546_800)]), True),
    "two tracks": (_doc([_points_list(N // 2, cad=80), _points_list(N // 2, cad=81, t0=1_714_546_800)], tracks=2),
                   True),
    "empty segment between": (_doc([_points_list(N // 2), [], _points_list(N // 2, t0=1_714_546_800)]), True),
    "gpx 1.0 with speed": (_doc([_points_list(N, speed=lambda i: f"{2.5 + i % 5 * 0.1:.2f}")], version="1.0",
                                ext_ns=""), True),
    "prefix ns3": (_doc([_points_list(N, hr=140, cad=88, ext_prefix="ns3")], ext_ns="ns3"), True),
    "no prefix (default namespace)": (_doc([_points_list(N, hr=140, ext_prefix="")], ext_ns=""), True),
    "hr on some points only": (_doc([_points_list(N, hr=lambda i: 150 if i % 4 else None, cad=85)]), False),
    "point outside the globe": (_doc([_points_list(N, lat=lambda i: "95.0" if i == 7 else None,
                                                   lon=lambda i: "-200.5" if i == 9 else None)]), True),
    "nan and inf positions": (_doc([_points_list(N, lat=lambda i: "nan" if i == 3 else None,
                                                 lon=lambda i: "inf" if i == 4 else None)]), True),
    "point without lon": (_doc([_points_list(N, lon=lambda i: False if i == 5 else None)]), False),
    "unreadable lat": (_doc([_points_list(N, lat=lambda i: "north" if i == 6 else None)]), False),
    "blank lat": (_doc([_points_list(N, lat=lambda i: "  " if i == 6 else None)]), False),
    "naive times": (_doc([_points_list(N, time_fmt="{}")]), True),
    "offset times": (_doc([_points_list(N, time_fmt="{}+02:00")]), True),
    "fractional seconds": (_doc([_points_list(N, time_fmt="{}.250Z")]), True),
    "mixed time formats": (_doc([_points_list(N, time_fmt="{}Z")[:N // 2]
                                 + _points_list(N, time_fmt="{}.5+01:00")[N // 2:]]), True),
    "time with spaces": (_doc([_points_list(N, time_fmt="  {}Z\n")]), True),
    "non-ISO times": (_doc([_points_list(N, time_fmt="{}Z")]).replace("T06:", " 06:"), True),
    "hr out of range and junk": (_doc([_points_list(N, hr=lambda i: {3: "5000", 4: "abc", 5: "-1"}.get(i, "150"))]),
                                 True),
    "ele beyond 20 km": (_doc([_points_list(N)]).replace("<ele>30.0</ele>", "<ele>25000</ele>"), True),
    "no track type": (_doc([_points_list(N)], track_type=None), True),
    "hr twice in a point": (_doc([_points_list(N, hr=150)]).replace("<gpxtpx:hr>150</gpxtpx:hr>",
                                                                       "<gpxtpx:hr>150</gpxtpx:hr><gpxtpx:hr>1</gpxtpx:hr>"),
                            False),
    "ele twice in a point": (_doc([_points_list(N)]).replace("<ele>30.0</ele>", "<ele>30.0</ele><ele>31</ele>"), False),
    "empty ele element": (_doc([_points_list(N)]).replace("<ele>30.5</ele>", "<ele/>"), True),
    "ele and time swapped in one point": (
        _doc([_points_list(N)]).replace('<ele>31.0</ele><time>2024-05-01T06:00:02Z</time>',
                                        '<time>2024-05-01T06:00:02Z</time><ele>31.0</ele>', 1), False),
    "hr and cad swapped in one point": (
        _doc([_points_list(N, hr=150, cad=85)]).replace("<gpxtpx:hr>150</gpxtpx:hr><gpxtpx:cad>85</gpxtpx:cad>",
                                                        "<gpxtpx:cad>85</gpxtpx:cad><gpxtpx:hr>150</gpxtpx:hr>", 1),
        False),
    "other children (sat, hdop, name)": (
        _doc([_points_list(N)]).replace("</time>", "</time><sat>7</sat><hdop>0.9</hdop>"), True),
    # the same tags in the same file order, nested otherwise: only the child counts tell
    "time nested inside ele in one point": (
        _doc([_points_list(N)]).replace('<ele>31.0</ele><time>2024-05-01T06:00:02Z</time>',
                                        '<ele>31.0<time>2024-05-01T06:00:02Z</time></ele>', 1), False),
    "hr nested one level deeper in one point": (
        _doc([_points_list(N, hr=150)]).replace("<gpxtpx:hr>150</gpxtpx:hr>", "<gpxtpx:x><gpxtpx:hr>150</gpxtpx:hr></gpxtpx:x>", 1),
        False),
    "heartrate tag without namespace in extensions": (
        _doc([_points_list(N)]).replace("</time>", "</time><extensions><heartrate>144</heartrate></extensions>"),
        True),
    "comments and processing instructions in trkseg": (
        _doc([_points_list(N, hr=150)]).replace("</trkpt>", "</trkpt><!-- lap --><?marker x?>")
        .replace("<ele>30.0</ele>", "<ele>3<!-- c -->0.0</ele>"), True),
    "cdata and entities in texts": (
        _doc([_points_list(N)]).replace("<ele>30.5</ele>", "<ele><![CDATA[30.5]]></ele>")
        .replace("<ele>31.0</ele>", "<ele>&#51;1.0</ele>"), True),
    "waypoints and a route too": (
        _doc([_points_list(N)]).replace("<metadata>", '<wpt lat="1" lon="2"/><rte><rtept lat="1" lon="2"/></rte><metadata>'),
        True),
    "a non-point element in a segment": (
        _doc([_points_list(N)]).replace("<trkseg>\n", "<trkseg>\n<extensions/>", 1), False),
    "nested trkpt": (_doc([_points_list(N)]).replace("</ele>", "</ele><trkpt lat='1' lon='1'/>", 1), False),
    # written differently, alike as trees: the textual path hands these on, the column path takes them
    "one point with an extra attribute": (_doc([_points_list(N)]).replace('lon="-0.1195000">',
                                                                           'lon="-0.1195000" src="gps">'), True),
    "a tab in one lat": (_doc([_points_list(N, lat=lambda i: "\t51.5" if i == 8 else None)]), True),
    "points commented out before the track": (
        _doc([_points_list(N)]).replace("<metadata>", '<!-- <trkpt lat="1" lon="2"><ele>1</ele></trkpt> --><metadata>'),
        True),
    # alike both ways
    "points over several lines": (_doc([[p.replace("><", ">\n    <") for p in _points_list(N, hr=150)]]), True),
    "single-quoted attributes": (_doc([[p.replace('"', "'") for p in _points_list(N, cad=80)]]), True),
    "non-ASCII and markup-like text in values": (
        _doc([_points_list(N)]).replace("<ele>30.5</ele>", "<ele>30,5 m → ></ele>"), True),
    # the same prefix bound to another namespace in the second track: the loop reads no ele there
    "prefix rebound in a later track": (
        _doc([[p.replace("<ele>", "<e:ele>").replace("</ele>", "</e:ele>") for p in _points_list(N // 2)]] * 2,
             tracks=2).replace("<trk>", '<trk xmlns:e="urn:other">', 1).replace("<trk>", f'<trk xmlns:e="{GPX11}">', 1),
        False),
    # a point declaring a namespace of its own, bound elsewhere in one point: the loop reads no ele there
    "a point's own namespace declaration differs": (
        _doc([[p.replace("<trkpt", f'<trkpt xmlns:e="{GPX11}"', 1).replace("<ele>", "<e:ele>").replace("</ele>", "</e:ele>")
               for p in _points_list(N)]]).replace(f'<trkpt xmlns:e="{GPX11}" lat="51.5005000"',
                                                   '<trkpt xmlns:e="urn:other" lat="51.5005000"', 1), False),
}
#: Where the textual path's answer differs from the column path's (True/False: must, must not; None: either).
TEXTUAL = {
    "non-ISO times": None,  # taken or not, as pandas reads the times
    "empty ele element": False,
    "comments and processing instructions in trkseg": False,
    "cdata and entities in texts": False,
    "one point with an extra attribute": False,
    "a tab in one lat": False,
    "points commented out before the track": False,
    "prefix rebound in a later track": False,
    "a point's own namespace declaration differs": False,
}


@pytest.mark.parametrize("name", list(VARIANTS))
def test_variant_bulk_equals_loop(name, monkeypatch):
    text, taken = VARIANTS[name]
    assert_bulk_equals_loop(text.encode(), monkeypatch, bulk_taken=taken, textual_taken=TEXTUAL.get(name, taken))


@pytest.mark.parametrize("transform", ["crlf", "bom", "no declaration", "latin-1", "leading blank lines"])
def test_encodings_and_line_ends(transform, monkeypatch):
    text = _doc([_points_list(N, hr=150, cad=85)], name="Lauf am Fluß – Ærø")
    if transform == "crlf":
        data = text.replace("\n", "\r\n").encode()
    elif transform == "bom":
        data = b"\xef\xbb\xbf" + text.encode()
    elif transform == "no declaration":
        data = text.split("\n", 1)[1].encode()
    elif transform == "latin-1":
        data = text.replace("UTF-8", "ISO-8859-1").replace("–", "-").encode("iso-8859-1")
    else:
        data = b"\n\n  " + text.encode()
    assert_bulk_equals_loop(data, monkeypatch, bulk_taken=True, textual_taken=True)


def test_generated_runs_take_the_column_path(monkeypatch):
    start = datetime(2024, 5, 1, 6, 0, tzinfo=UTC)
    for run in (SynthRun(start_utc=start, duration_s=600, distance_m=2000),
                SynthRun(start_utc=start, duration_s=600, distance_m=2000, heart_rate_bpm=None),
                SynthRun(start_utc=start, duration_s=600, distance_m=6000, sport="cycling", cadence_spm=None)):
        assert_bulk_equals_loop(gpx_bytes(run), monkeypatch, bulk_taken=True, textual_taken=True)
    assert_bulk_equals_loop(gpx_bytes(SynthRun(start_utc=start, duration_s=300, distance_m=900), with_times=False),
                            monkeypatch, bulk_taken=True, textual_taken=True)


# ------------------------------------------------------------------------------ random point layouts

_point_st = st.fixed_dictionaries({
    "ele": st.booleans(),
    "time": st.sampled_from(["{}Z", "{}", "{}.5Z", "{}+02:00", None]),
    "hr": st.sampled_from([None, "150", "0", "abc", "2000"]),
    "cad": st.sampled_from([None, "85", "85.5"]),
    "lat": st.sampled_from([None, None, None, "91", "nan", "x", False]),
    "speed": st.sampled_from([None, None, "3.1"]),
})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(layouts=st.lists(_point_st, min_size=1, max_size=6), repeat=st.integers(1, 30),
       segments=st.integers(1, 3), prefix=st.sampled_from(["gpxtpx", "ns3", ""]))
def test_random_layouts_bulk_equals_loop(layouts, repeat, segments, prefix, monkeypatch):
    points = []
    for i in range(len(layouts) * repeat):
        layout = layouts[i % len(layouts)]
        points.append(_pt(i, ele=layout["ele"], time=layout["time"] is not None,
                          time_fmt=layout["time"] or "{}Z", hr=layout["hr"], cad=layout["cad"],
                          lat=layout["lat"], speed=layout["speed"], ext_prefix=prefix))
    per = max(1, len(points) // segments)
    segs = [points[j:j + per] for j in range(0, len(points), per)]
    text = _doc(segs, ext_ns=prefix)
    # alike points (one layout repeated) and readable positions: the column path must take them
    alike = len(layouts) == 1 or all(x == layouts[0] for x in layouts)
    readable = all(x["lat"] in (None, "91", "nan") for x in layouts)
    must = True if alike and readable else None
    assert_bulk_equals_loop(text.encode(), monkeypatch, bulk_taken=must, textual_taken=must)


# ------------------------------------------------------------------------------------------- corpus

GPX_FILES = [row["path"] for row in corpus_manifest() if row["kind"] == "gpx"]


@pytest.mark.corpus
@pytest.mark.parametrize("rel", GPX_FILES or ["<corpus absent>"])
@pytest.mark.slow
def test_corpus_gpx_bulk_equals_loop(rel, monkeypatch):
    path = CORPUS_DIR / rel
    if not path.is_file():
        pytest.skip("../shared/corpus is absent")
    data = path.read_bytes()
    try:
        _text, root, damage = safe_xml.parse_xml(data, path.name, GpxError, resync=gpx_reader._RESYNC)
    except GpxError:
        root, damage = None, None
    if root is None or damage is not None:
        pytest.skip("not a well-formed GPX document (the column path never sees it)")
    assert_bulk_equals_loop(data, monkeypatch, bulk_taken=None)


# ------------------------------------------------------------------------------- safety and damage


def test_a_dtd_is_refused_whatever_the_points(monkeypatch):
    text = _doc([_points_list(N, hr=150)])
    evil = text.replace("<gpx ", '<!DOCTYPE gpx [<!ENTITY e "x">]>\n<gpx ', 1)
    assert gpx_reader._points_textual(evil.encode()) is None  # never read around the safe parse
    with pytest.raises(GpxError) as err:
        gpx_reader.read_gpx(evil.encode(), "evil.gpx")
    assert safe_xml.REFUSED_FOR_SAFETY in str(err.value)


@pytest.mark.parametrize("cut", [0.5, 0.9])
def test_a_damaged_file_with_alike_points_is_salvaged_as_before(cut, monkeypatch):
    data = _doc([_points_list(N, hr=150, cad=85)]).encode()
    broken = data[:int(len(data) * cut)]
    assert gpx_reader._points_textual(broken) is None
    fast, ref = _outcome(broken, False, monkeypatch), _outcome(broken, True, monkeypatch)
    assert not isinstance(fast, str) and fast.summary.partial
    pd.testing.assert_frame_equal(fast.samples, ref.samples, check_exact=True)
    assert repr(fast.summary) == repr(ref.summary)
    # bad bytes in the middle of a point: read around, as before
    junk = data.replace(b"<ele>31.0</ele>", b"<ele>31.0</e\x00le>", 1)
    assert gpx_reader._points_textual(junk) is None
    fast, ref = _outcome(junk, False, monkeypatch), _outcome(junk, True, monkeypatch)
    assert not isinstance(fast, str) and fast.summary.partial
    assert repr(fast.summary) == repr(ref.summary)
