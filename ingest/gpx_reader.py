"""GPX files -> :class:`~loadwatch.ingest.canonical.Activity`.

Parsing is safe by construction (:mod:`loadwatch.ingest.safe_xml`): a document with a DTD or entity declarations is
refused, so no entity is ever expanded and nothing outside the file is ever read; only then does
:mod:`gpxpy` see it.  Files that use a namespace prefix without declaring it (``<gpxdata:cadence>`` in
some Strava exports) get a placeholder declaration added, so they still read.

Three ways to the same points, fastest first, each handing on what it does not plainly handle: track
points written alike (as every watch and Strava export writes them) are read from the text with one
regular-expression pass (:func:`_points_textual`); points alike as a tree are read as list slices over
the parsed elements (:func:`_point_columns`); anything else point by point (the loop of
:func:`_points_fast`, the reference the other two are tested against), or by gpxpy.

What a runner gets:

* **Channels.**  Positions, elevation, and from extensions heart rate (Garmin ``TrackPointExtension``
  ``hr``, ``heartrate``, ``gpxdata:hr``...), cadence (``cad``, ``cadence``, ``RunCadence``) and speed.
  GPX exports (Garmin, Strava, Suunto, Amazfit) write running cadence per foot (strides/min), so for
  running, walking and hiking it is doubled to steps/min; other sports keep the file's value.
* **Distance** is the cumulative great-circle (haversine) distance between successive points within a
  track segment (the jump between segments is a pause, not distance).  **Speed** is the file's speed
  where given, else distance / time between points.
* **Sport** from the track's ``<type>`` (names like ``Run``/``running`` or Strava's numbers); otherwise it
  is inferred from the median moving speed (see :func:`infer_sport`) and ``sport_inferred`` is True.
* **Not activities**: waypoints only, routes, empty files, and tracks without times (courses) raise
  :class:`~loadwatch.ingest.errors.NotAnActivity`.
* ``utc_offset_s`` is None: GPX times are UTC and carry no local offset.
* **Damaged files** (cut short by a killed app or a dead battery, bad bytes from a failed sync) keep every
  track point that can be read, before and after the damage; a point whose position cannot be read is
  left out and named.  ``Summary.partial`` is True and ``Summary.warnings`` says what happened ("cut
  short after 41 min; 2,010 points kept").  A damaged file with fewer than two timed points left is a
  :class:`~loadwatch.ingest.errors.GpxError` naming the file.
"""

from __future__ import annotations

import hashlib
import math
import re
import xml.etree.ElementTree as ET  # only for documents without a DTD (see _points_textual)
from dataclasses import dataclass, field
from datetime import UTC

import gpxpy
import gpxpy.gpx
import numpy as np
import pandas as pd

from loadwatch.ingest import safe_xml as _safe_xml
from loadwatch.ingest.canonical import (
    MOVING_SPEED_M_S,
    Activity,
    SampleBlock,
    as_block,
    make_block,
    reader_summary,
    summarize_samples,
)
from loadwatch.ingest.errors import GpxError, NotAnActivity
from loadwatch.ingest.file_bytes import source_bytes
from loadwatch.ingest.salvage import bad_points_warning, damage_warning, whole_times
from loadwatch.ingest.sport import infer_sport

EARTH_RADIUS_M = 6_371_008.8  # mean Earth radius [m] (IUGG)

#: Times before this (1990-01-01) are not real recording times (no GPS sports watch existed).
MIN_PLAUSIBLE_UNIX_S = 631152000.0
#: Times from this (2100-01-01) on are damage, not recordings (and beyond what nanosecond times hold).
MAX_PLAUSIBLE_UNIX_S = 4102444800.0
#: Longest interval between two points that can still count as moving time [s]; longer gaps are pauses
#: (lost signal, watch stopped) whatever the distance between the points.
MAX_MOVING_INTERVAL_S = 120.0

#: Strava's numeric activity types as they appear in ``<type>`` of its GPX export.
_STRAVA_TYPES = {"1": "cycling", "4": "hiking", "9": "running", "10": "walking"}
_STRIDE_SPORTS = ("running", "walking", "hiking")

_HR_TAGS = ("hr", "heartrate", "heart_rate", "heartratebpm")
_CAD_TAGS = ("cad", "cadence", "runcadence")
_SPEED_TAGS = ("speed",)


def sport_from_type(text: str | None) -> str | None:
    """Canonical sport from a GPX ``<type>`` text, or None when it says nothing usable."""
    if not text:
        return None
    t = text.strip().lower()
    if t in _STRAVA_TYPES:
        return _STRAVA_TYPES[t]
    for key, sport in (("run", "running"), ("jog", "running"), ("ride", "cycling"), ("cycl", "cycling"),
                       ("bik", "cycling"), ("swim", "swimming"), ("walk", "walking"), ("hik", "hiking"),
                       ("ellip", "elliptical"), ("row", "rowing")):
        if key in t:
            return sport
    return None


def haversine_m(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Great-circle distance [m] between points given in degrees (arrays broadcast)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp = p2 - p1
    dl = np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def cumulative_distance_m(lat_deg: np.ndarray, lon_deg: np.ndarray, segment: np.ndarray) -> np.ndarray:
    """Cumulative haversine distance [m] along the points; points without a position carry the last
    distance on, and nothing is added across a change of ``segment`` (a pause)."""
    n = len(lat_deg)
    step = np.zeros(n)
    pos = np.flatnonzero(np.isfinite(lat_deg) & np.isfinite(lon_deg))
    if len(pos) > 1:
        a, b = pos[:-1], pos[1:]
        d = haversine_m(lat_deg[a], lon_deg[a], lat_deg[b], lon_deg[b])
        step[b] = np.where(segment[a] == segment[b], d, 0.0)
    return np.cumsum(step)


def moving_time_s(samples: pd.DataFrame | SampleBlock, *, max_interval_s: float = MAX_MOVING_INTERVAL_S) -> float:
    """Moving time [s]: the sum of intervals between points whose average speed (distance / time) is at
    least :data:`~loadwatch.ingest.canonical.MOVING_SPEED_M_S` and that last at most ``max_interval_s``.

    Unlike a fixed 10 s pause rule this keeps the 10-30 s gaps of "smart recording" GPX exports when the
    runner was moving; a stop at a crossing still shows as a slow interval.  NaN without distances."""
    samples = as_block(samples)
    d = samples.column("distance_m")
    if not np.isfinite(d).any() or len(d) < 2:
        return math.nan
    t = samples.t_s()
    dt = np.diff(t)
    dd = np.diff(d)
    with np.errstate(divide="ignore", invalid="ignore"):
        v = np.where(dt > 0, dd / dt, np.nan)
    moving = np.isfinite(v) & (v >= MOVING_SPEED_M_S) & (dt <= max_interval_s)
    return float(dt[moving].sum())


# ------------------------------------------------------------------------------------- safe XML


def safe_xml_root(data: bytes, name: str, error=GpxError):
    """The document as text and its root element from one strict safe parse (see :mod:`loadwatch.ingest.safe_xml`)."""
    return _safe_xml.safe_xml_root(data, name, error)


# ------------------------------------------------------------------------------------------ reader


def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1].rsplit(":", 1)[-1].lower() if isinstance(tag, str) else ""


def _ext_values(point) -> tuple[float, float, float]:
    """(heart rate, cadence, speed) from a gpxpy point's extensions; NaN where absent."""
    return _ext_values_of(point.extensions or ())


_TAG_KIND: dict[str, int] = {}  # element tag -> 0 heart rate, 1 cadence, 2 speed, -1 other (tags repeat)


def _tag_kind(tag) -> int:
    kind = _TAG_KIND.get(tag)
    if kind is None:
        local = _local(tag)
        kind = 0 if local in _HR_TAGS else 1 if local in _CAD_TAGS else 2 if local in _SPEED_TAGS else -1
        if isinstance(tag, str) and len(_TAG_KIND) < 10_000:
            _TAG_KIND[tag] = kind
    return kind


def _ext_values_of(extensions) -> tuple[float, float, float]:
    """(heart rate, cadence, speed) from extension elements (searched recursively); NaN where absent."""
    found = [math.nan, math.nan, math.nan]
    for ext in extensions:
        for el in ext.iter():
            kind = _tag_kind(el.tag)
            if kind < 0 or found[kind] == found[kind]:  # other tag, or already set: the first value wins
                continue
            try:
                v = float((el.text or "").strip())
            except ValueError:
                continue
            if not math.isfinite(v) or abs(v) > 1000:
                continue
            found[kind] = v
    return found[0], found[1], found[2]


def _finite_or_nan(value, max_abs: float) -> float:
    """``value`` as float when finite and within +-max_abs, else NaN (damaged numbers never become inf)."""
    try:
        v = float(value)
    except (TypeError, ValueError, OverflowError):
        return math.nan
    return v if math.isfinite(v) and abs(v) <= max_abs else math.nan


def _unix(t) -> float:
    if t is None:
        return math.nan
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)  # GPX times are UTC; a missing "Z" does not make them local
    try:
        return t.timestamp()
    except (OverflowError, ValueError, OSError):
        return math.nan


@dataclass
class _Points:
    """Track points in file order, as plain lists (NaN where a value is absent)."""

    lat: list = field(default_factory=list)
    lon: list = field(default_factory=list)
    ele: list = field(default_factory=list)
    t: list = field(default_factory=list)
    hr: list = field(default_factory=list)
    cad: list = field(default_factory=list)
    spd: list = field(default_factory=list)
    seg_id: list = field(default_factory=list)
    track_type: str | None = None
    creator: str | None = None
    has_routes: bool = False
    has_waypoints: bool = False
    #: (point number from 1, what is wrong) for points left out because their position is unreadable
    bad: list = field(default_factory=list)
    #: the part of a damaged file each kept point was read from (tolerant reads only; 0 before the damage)
    part: list = field(default_factory=list)
    #: track points seen, kept or not
    n_points: int = 0


class _Declined(Exception):
    """The fast path does not handle this document; gpxpy reads it."""


_RESYNC = _safe_xml.Resync(point="trkpt", root=b'<gpx xmlns="http://www.topografix.com/GPX/1/1" version="1.1">',
                           wrapper=b"<trk><trkseg>")
_GPX_NAMESPACES = ("http://www.topografix.com/GPX/1/1", "http://www.topografix.com/GPX/1/0")


def _position_problem(p) -> str | None:
    """What is wrong with a track point's position, in words ("has no longitude"), or None.  A number
    outside the globe (or nan, inf) is readable: the point keeps its time with no position, as in gpxpy."""
    for attr, word in (("lat", "latitude"), ("lon", "longitude")):
        text = p.get(attr)
        if text is None or not text.strip():
            return f"has no {word}"
        try:
            float(text)
        except ValueError:
            return f"has an unreadable {word} ({text.strip()[:20]!r})"
    return None


def _segment_of(p, seg_tag: str, seen: dict, part: int) -> int:
    """A running number for the ``trkseg`` holding ``p`` (its nearest one; one per part for points
    outside any), for trees whose nesting damage may have shifted (lxml elements know their parent)."""
    parent = p.getparent()
    while parent is not None and parent.tag != seg_tag:
        parent = parent.getparent()
    return seen.setdefault(("part", part) if parent is None else parent, len(seen))  # the dict keeps the proxy alive, so lxml reuses it


def _points_fast(root, *, parts: tuple | None = None, bulk: bool = True) -> _Points:
    """Track points straight from the (already defused) ElementTree of a GPX 1.0/1.1 document.

    Several times faster than building gpxpy's object tree, which matters for years of Strava GPX.  It
    declines (:class:`_Declined`) anything not plainly standard, so gpxpy stays the reference; the
    differential test checks both give the same activity.  A point without a usable position is left out
    and noted in ``bad`` (a damaged point, not a reason to lose the run).

    ``parts`` (the trees read from a damaged file, :class:`~loadwatch.ingest.safe_xml.XmlDamage`, where gpxpy cannot
    help): any namespace, every ``trkpt`` of every part wherever the damage put it, unreadable times left
    out instead of declining; ``part`` then holds each kept point's part number.

    A well-formed document read by libxml2 whose points are all alike (:func:`_point_columns`) is read
    column by column in C; ``bulk=False`` forces the point-by-point loop, which stays the reference."""
    tolerant = parts is not None
    ns = _gpx_namespace(root, any_namespace=tolerant)
    if ns is None:
        raise _Declined("not a GPX 1.0/1.1 document")
    q = "{" + ns + "}" if ns else ""
    pts = _document_points(root, q)
    if bulk and not tolerant:
        columns = _point_columns(root, ns)
        if columns is not None:
            pts.track_type = _track_type(root, q)
            lat, lon, ele_texts, times, ext_texts, speed_texts, pts.seg_id = columns
            pts.lat, pts.lon, pts.n_points = lat, lon, len(lat)
            return _finish(pts, ele_texts, times, ext_texts, speed_texts, tolerant=False)
    points = _damaged_points(root, q, parts, pts) if tolerant else _points_in_order(root, q, pts)
    return _points_one_by_one(pts, points, q, tolerant=tolerant)


def _gpx_namespace(root, *, any_namespace: bool = False) -> str | None:
    """The namespace of a ``gpx`` root element ("" for none), or None when the root is not GPX 1.0/1.1
    (``any_namespace``: any namespace will do, as for what damage left)."""
    tag = root.tag if isinstance(root.tag, str) else ""
    ns = tag[1:].split("}", 1)[0] if tag.startswith("{") else ""
    if _local(tag) != "gpx" or (ns not in _GPX_NAMESPACES and not any_namespace):
        return None
    return ns


def _document_points(root, q: str, track_type: str | None = None) -> _Points:
    """An empty :class:`_Points` with what the document says besides its track points."""
    pts = _Points(creator=root.get("creator") or None, track_type=track_type)
    pts.has_routes = any(len(r.findall(q + "rtept")) for r in root.iter(q + "rte"))
    pts.has_waypoints = next(root.iter(q + "wpt"), None) is not None
    return pts


def _damaged_points(root, q: str, parts: tuple, pts: _Points):
    """(point, segment number, part number) for every ``trkpt`` of every part of a damaged document,
    wherever the damage put it; sets ``pts.track_type`` from the first track that has one."""
    for trk in root.iter(q + "trk"):
        type_el = trk.find(q + "type")
        if type_el is not None and (type_el.text or "").strip():
            pts.track_type = type_el.text.strip()
            break
    seen: dict = {}
    return ((p, _segment_of(p, q + "trkseg", seen, i), i) for i, part in enumerate(parts)
            for p in part.iter(q + "trkpt"))


def _points_one_by_one(pts: _Points, points, q: str, *, tolerant: bool) -> _Points:
    """``pts`` filled from ``points`` ((point, segment, part) triples), one point at a time: the
    reference reading that the column paths must agree with."""
    times: list[str | None] = []
    ele_texts: list = []
    ext_texts: list[list] = [[], [], []]  # heart rate, cadence, speed: first text of each per point
    speed_texts: list = []  # GPX 1.0's <speed>
    t_ele, t_time, t_ext, t_speed = q + "ele", q + "time", q + "extensions", q + "speed"
    number = 0
    for p, seg, part in points:
        number += 1
        problem = _position_problem(p)
        if problem is not None:
            pts.bad.append((number, problem))
            continue
        lat, lon = float(p.attrib["lat"]), float(p.attrib["lon"])
        ele = time_text = speed = None
        found = [None, None, None]
        for child in p:  # one pass over the point's children instead of a find() each
            tag = child.tag
            if tag == t_ele:
                ele = child.text
            elif tag == t_time:
                time_text = child.text
            elif tag == t_ext:
                for el in child.iter():
                    kind = _tag_kind(el.tag)
                    if kind >= 0:
                        if found[kind] is not None:
                            if tolerant:
                                continue  # the first value wins, as in gpxpy
                            # several values of one kind: gpxpy's path picks the first valid one
                            raise _Declined("repeated extension values")
                        found[kind] = el.text
            elif tag == t_speed:
                speed = child.text
        pts.lat.append(lat if -90.0 <= lat <= 90.0 else math.nan)  # also NaN for nan/inf
        pts.lon.append(lon if -180.0 <= lon <= 180.0 else math.nan)
        ele_texts.append(ele)
        times.append((time_text or "").strip() or None)
        ext_texts[0].append(found[0])
        ext_texts[1].append(found[1])
        ext_texts[2].append(found[2])
        speed_texts.append(speed)
        pts.seg_id.append(seg)
        if tolerant:
            pts.part.append(part)
    pts.n_points = number
    return _finish(pts, ele_texts, times, ext_texts, speed_texts, tolerant=tolerant)


def _finish(pts: _Points, ele_texts: list, times: list, ext_texts: list, speed_texts: list, *,
            tolerant: bool) -> _Points:
    """``pts`` with its numbers read from the texts gathered per point (None where absent)."""
    pts.ele = _floats(ele_texts, 20_000.0)
    pts.hr = _floats(ext_texts[0], 1000.0)
    pts.cad = _floats(ext_texts[1], 1000.0)
    ext_speed = _floats(ext_texts[2], 1000.0)
    file_speed = _floats(speed_texts, 1000.0)
    pts.spd = np.where(np.isnan(ext_speed), file_speed, ext_speed).tolist()
    pts.t = _parse_times(times, tolerant=tolerant)
    return pts


def _track_type(root, q: str) -> str | None:
    """The ``type`` of the first track that has one (as :func:`_points_in_order` finds it)."""
    for trk in root.findall(q + "trk"):
        type_el = trk.find(q + "type")
        if type_el is not None and (type_el.text or "").strip():
            return type_el.text.strip()
    return None


# ---------------------------------------------------------------------- whole columns (libxml2 trees)

def _point_elements(point, q: str):
    """The per-point loop's reading of one track point, keeping the elements instead of their texts:
    ``(ele, time, speed, [heart rate, cadence, speed extension])`` (None where absent), or None when a
    value appears twice in the point (the loop then decides by the texts)."""
    ele = time_el = speed = None
    found = [None, None, None]
    for child in point:
        tag = child.tag
        if tag == q + "ele":
            ele = child
        elif tag == q + "time":
            time_el = child
        elif tag == q + "extensions":
            for el in child.iter():
                kind = _tag_kind(el.tag)
                if kind >= 0:
                    if found[kind] is not None:
                        return None
                    found[kind] = el
        elif tag == q + "speed":
            speed = child
    return ele, time_el, speed, found


def _point_columns(root, gpx_ns: str):
    """Every track point's texts as whole columns: (lat, lon, ele texts, time texts, extension texts
    [heart rate, cadence, speed], GPX 1.0 speed texts, segment ids), exactly what the per-point loop
    of :func:`_points_fast` reads; None unless all the points are alike (the loop reads the rest).

    All alike: the elements below the track segments, listed in file order each with its tag and its
    number of child elements, are the first point's subtree over and over.  Such a list describes the
    nesting completely (a tree written in file order with each element's number of children is that
    tree and no other), so every child of a segment is a point with the first point's elements in the
    same places, and the loop's reading of the first point (which element gives the elevation, the
    time, the heart rate...) holds for every point: a column is the ``.text`` of the element at one
    place in every point, taken with list slices instead of a Python loop over the points' children.
    Besides, every point must have a readable lat and lon (else the loop names it in ``bad``), and no
    kind of extension value may appear twice in a point (the loop declines those to gpxpy)."""
    q = "{" + gpx_ns + "}"
    if hasattr(root, "xpath"):
        return None  # a libxml2 tree (salvage only): comments in it would upset the child counts
    els = []
    for seg in root.findall(q + "trk/" + q + "trkseg"):
        below = seg.iter()
        next(below)  # the segment itself
        els.extend(below)
    if not els or els[0].tag != q + "trkpt":
        return None
    first = els[0]
    k = sum(1 for _ in first.iter())  # the first point's subtree: the point and every element below it
    n, rest = divmod(len(els), k)
    if rest:
        return None
    tags = [e.tag for e in els]
    if tags != tags[:k] * n:
        return None
    lens = list(map(len, els))
    if lens != lens[:k] * n:
        return None
    points = els[::k]
    lat_texts, lon_texts = [p.get("lat") for p in points], [p.get("lon") for p in points]
    try:  # as the loop reads them; a point without a readable position is one the loop names in ``bad``
        lat, lon = np.array(list(map(float, lat_texts))), np.array(list(map(float, lon_texts)))
    except (ValueError, TypeError):
        return None
    with np.errstate(invalid="ignore"):
        lat[~((lat >= -90.0) & (lat <= 90.0))] = np.nan  # also NaN for nan/inf
        lon[~((lon >= -180.0) & (lon <= 180.0))] = np.nan

    read = _point_elements(first, q)
    if read is None:
        return None
    ele, time_el, speed, found = read
    place = {el: i for i, el in enumerate(els[:k])}

    def column(el) -> list:
        return [None] * n if el is None else [e.text for e in els[place[el]::k]]

    times = [x.strip() or None if x is not None else None for x in column(time_el)]
    segments = root.findall(q + "trk/" + q + "trkseg")
    counts = [len(seg) for seg in segments]  # every child of a segment is a point (checked above)
    seg_id = np.repeat(np.arange(len(segments)), counts).tolist()
    return (lat.tolist(), lon.tolist(), column(ele), times, [column(el) for el in found], column(speed),
            seg_id)


# ------------------------------------------------------------- alike points straight from the text

#: A tag or a text inside a track point's markup (comments, CDATA, processing instructions match neither).
_TOKEN = re.compile(r"""<(/?)([A-Za-z_][\w.:-]*)((?:\s+[A-Za-z_][\w.:-]*\s*=\s*(?:"[^"<]*"|'[^'<]*'))*)\s*(/?)>|([^<]+)""")
_ATTR = re.compile(r"""(\s+)([A-Za-z_][\w.:-]*)(\s*=\s*)(?:"([^"<]*)"|'([^'<]*)')""")
#: What a value may hold to be read as is: no markup, no reference, nothing XML would rewrite (line ends,
#: the tabs and line breaks of attribute values) and no character XML forbids; anything else goes to the
#: parser.  ``]`` is left out so that ``]]>`` (not allowed in a text) can never occur.
_TEXT_VALUE = "([^<&\\]\\r\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\ufffe\\uffff]*)"
_ATTR_VALUE = {'"': '"([^"<&\\t\\n\\r\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\ufffe\\uffff]*)"',
               "'": "'([^'<&\\t\\n\\r\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\ufffe\\uffff]*)'"}
_FIRST_POINT = re.compile(r"<trkpt[\s>/]")
_MARK = "loadwatch-alike-points"


def _point_pattern(text: str, start: int):
    """(regex, pieces, texts, attrs) for the track point whose start tag begins at ``start``: the regex
    matches exactly that markup with every attribute value and every element's own text free (one group
    each, in file order); ``pieces`` writes such a point back (str: as is; int: that group's value);
    ``texts[i]`` is the group of the text of the point's i-th element in file order (None when it has
    none), ``attrs`` maps the point's attribute names to their groups.  None when the point holds
    anything but elements, attributes and texts (comments, CDATA...)."""
    parts: list[str] = []
    pieces: list = []
    texts: list = []
    attrs: dict = {}
    groups = depth = 0
    pos, after_start = start, False
    while True:
        m = _TOKEN.match(text, pos)
        if m is None:
            return None
        pos = m.end()
        if m.group(5) is not None:  # a text: the element's own (free) after its start tag, else as is
            if after_start:
                parts.append(_TEXT_VALUE)
                pieces.append(groups)
                texts[-1] = groups
                groups += 1
            else:
                parts.append(re.escape(m.group(5)))
                pieces.append(m.group(5))
            after_start = False
            continue
        closing, name, attr_text, empty = m.group(1), m.group(2), m.group(3), m.group(4)
        if closing and (attr_text or empty):
            return None
        if closing:
            parts.append(re.escape(m.group(0)))
            pieces.append(m.group(0))
            depth -= 1
            after_start = False
            if depth == 0:
                return re.compile("".join(parts)), pieces, texts, attrs
            continue
        piece = "<" + re.escape(name)
        pieces.append("<" + name)
        for a in _ATTR.finditer(attr_text):
            value = a.group(4) if a.group(4) is not None else a.group(5)
            quote = '"' if a.group(4) is not None else "'"
            if value is None:
                return None
            if a.group(2) == "xmlns" or a.group(2).startswith("xmlns:"):  # namespaces stay as written
                piece += re.escape(a.group(0))
                pieces.append(a.group(0))
                continue
            piece += re.escape(a.group(1) + a.group(2) + a.group(3)) + _ATTR_VALUE[quote]
            pieces += [a.group(1) + a.group(2) + a.group(3) + quote, groups, quote]
            if not texts:  # the point's own attributes
                attrs[a.group(2)] = groups
            groups += 1
        piece += re.escape(m.group(0)[1 + len(name) + len(attr_text):])
        pieces.append(m.group(0)[1 + len(name) + len(attr_text):])
        parts.append(piece)
        texts.append(None)
        if empty:
            after_start = False
            if depth == 0:
                return re.compile("".join(parts)), pieces, texts, attrs
        else:
            depth += 1
            after_start = True


def _points_textual(data: bytes) -> _Points | None:
    """The track points of a well-formed GPX document whose points are all written alike, read from its
    text with one regular-expression pass instead of a tree of every element; None for any other
    document (the caller parses it as before).

    Alike: all points of a segment are written exactly as the first point of the file, character for
    character, but for their attribute values and their elements' own texts, and those hold no markup,
    no reference and nothing XML would rewrite (see :data:`_TEXT_VALUE`).  Such a point is an element
    with the first point's elements, attributes and namespaces, whatever its values; so the document is
    parsed (with the same safe parse as :func:`loadwatch.ingest.safe_xml.parse_xml`) with each run of alike points
    cut down to its first point and a marker, which must then stand alone in a track segment, and the
    per-point loop's reading of that first point (which element gives the elevation, the time, the
    heart rate...) tells which free value gives each column.  Times come out as in the loop; anything
    the loop declines sends the document back to the caller."""
    text = _safe_xml.decode(data).lstrip("\ufeff \t\r\n")
    if not text or _safe_xml.declares_dtd(text) or _MARK in text:
        return None
    runs = _alike_runs(text)
    if runs is None:
        return None
    try:
        root = ET.fromstring(runs.skeleton)  # no DTD (checked above): the C parser, as parse_xml
    except (ET.ParseError, ValueError):
        return None  # damaged, an undeclared prefix...: parse_xml says what
    ns = _gpx_namespace(root)
    if not ns:
        return None
    q = "{" + ns + "}"
    counts = _run_counts(root, q, runs)
    if counts is None:
        return None
    kept = [seg[0] for seg in root.findall(q + "trk/" + q + "trkseg") if len(seg)]  # one point per run
    template = kept[0]
    elements = list(template.iter())
    tags = [e.tag for e in elements]
    if len(elements) != len(runs.texts) or any([e.tag for e in k.iter()] != tags for k in kept[1:]):
        return None  # a segment that gives the same prefixes other namespaces
    read = _point_elements(template, q)
    if read is None:
        return None
    pts = _document_points(root, q, _track_type(root, q))
    try:
        return _textual_columns(pts, runs, counts, {el: i for i, el in enumerate(elements)}, read)
    except _Declined:
        return None


@dataclass
class _Runs:
    """A document's alike track points, split out of its text: ``skeleton`` (the text with each run of
    alike points cut to its first point and a marker), ``columns`` (one list of texts per free value of
    the point pattern, a value per point), ``texts``/``attrs`` (which free value each element's text and
    each attribute is) and ``counts_run`` (points per run)."""

    skeleton: str
    columns: list
    texts: list
    attrs: dict
    counts_run: list


def _alike_runs(text: str) -> _Runs | None:
    """The runs of alike points of ``text``, or None when its points are not all alike."""
    first = _FIRST_POINT.search(text)
    if first is None:
        return None
    pattern = _point_pattern(text, first.start())
    if pattern is None:
        return None
    point, written, texts, attrs = pattern
    if "lat" not in attrs or "lon" not in attrs:
        return None
    # one pass: split around every alike point (and the spaces before it); a point that follows another
    # with nothing between continues its run.  ``parts``: the text before the first point, then for
    # each point its values and the text up to the next point
    parts = re.compile("[ \t\r\n]*" + point.pattern).split(text)
    width = point.groups + 1
    between = parts[width::width]
    ends = [i for i, b in enumerate(between) if b]
    if not ends or ends[-1] != len(between) - 1:
        return None
    # each run of alike points is cut down to its first point and a marker naming the run
    pieces, counts_run, start = [parts[0]], [], 0
    for r, end in enumerate(ends):
        values = parts[1 + start * width:start * width + width]
        pieces += ["".join(p if isinstance(p, str) else values[p] for p in written), f"<{_MARK} run='{r}'/>",
                   between[end]]
        counts_run.append(end - start + 1)
        start = end + 1
    return _Runs(skeleton="".join(pieces), columns=[parts[1 + j::width] for j in range(point.groups)],
                 texts=texts, attrs=attrs, counts_run=counts_run)


def _run_counts(root, q: str, runs: _Runs) -> list[int] | None:
    """Points per track segment of the skeleton's tree, or None unless every run stands alone in a
    segment, in order."""
    counts, seen = [], 0
    for seg in root.findall(q + "trk/" + q + "trkseg"):
        kids = list(seg)
        if not kids:
            counts.append(0)
            continue
        if len(kids) != 2 or kids[0].tag != q + "trkpt" or _local(kids[1].tag) != _MARK.lower() or \
                kids[1].get("run") != str(seen):
            return None
        counts.append(runs.counts_run[seen])
        seen += 1
    if seen != len(runs.counts_run):
        return None  # a run somewhere else than alone in a segment (in a comment, a route...)
    return counts


def _textual_columns(pts: _Points, runs: _Runs, counts: list[int], place: dict, read: tuple) -> _Points | None:
    """``pts`` filled column by column: ``place`` numbers the template point's elements, ``read`` is the
    per-point loop's reading of it (:func:`_point_elements`).  Raises :class:`_Declined` as the loop."""
    ele, time_el, speed, found = read
    columns, texts = runs.columns, runs.texts
    n = sum(counts)

    def column(el) -> list:
        if el is None or texts[place[el]] is None:
            return [None] * n
        values = columns[texts[place[el]]]
        return [v or None for v in values] if values.count("") else values  # an empty text is no text

    try:  # as the loop reads them; a point without a readable position is one the loop names in ``bad``
        lat = np.array(list(map(float, columns[runs.attrs["lat"]])))
        lon = np.array(list(map(float, columns[runs.attrs["lon"]])))
    except ValueError:
        return None
    with np.errstate(invalid="ignore"):
        lat[~((lat >= -90.0) & (lat <= 90.0))] = np.nan  # also NaN for nan/inf
        lon[~((lon >= -180.0) & (lon <= 180.0))] = np.nan
    pts.lat, pts.lon, pts.n_points = lat.tolist(), lon.tolist(), n
    pts.seg_id = np.repeat(np.arange(len(counts)), counts).tolist()
    times = [x.strip() or None for x in columns[texts[place[time_el]]]] \
        if time_el is not None and texts[place[time_el]] is not None else [None] * n
    return _finish(pts, column(ele), times, [column(el) for el in found], column(speed), tolerant=False)


def _points_in_order(root, q: str, pts: _Points):
    """(point, segment number) for every ``trk/trkseg/trkpt`` of a well-formed document, in file order;
    sets ``pts.track_type`` from the first track that has one."""
    seg_counter = -1
    for trk in root.findall(q + "trk"):
        if pts.track_type is None:
            type_el = trk.find(q + "type")
            if type_el is not None and (type_el.text or "").strip():
                pts.track_type = type_el.text.strip()
        for seg in trk.findall(q + "trkseg"):
            seg_counter += 1
            for p in seg.findall(q + "trkpt"):
                yield p, seg_counter, 0


def _floats(texts: list, max_abs: float) -> np.ndarray:
    """Texts (or None) -> float64, NaN where absent, unreadable, infinite or beyond +-max_abs (as
    :func:`_finite_or_nan`, but vectorised when every text is a plain number)."""
    absent = texts.count(None)
    if absent == len(texts):  # a channel the file does not have
        return np.full(len(texts), np.nan)
    try:
        values = np.array(texts if not absent else ["nan" if t is None else t for t in texts], dtype="float64")
    except (ValueError, TypeError, OverflowError):
        values = np.array([_finite_or_nan(t, max_abs) for t in texts], dtype="float64")
    with np.errstate(invalid="ignore"):
        values[~(np.abs(values) <= max_abs)] = np.nan
    return values


def _parse_times(times: list[str | None], *, tolerant: bool = False) -> list[float]:
    """ISO 8601 texts -> Unix seconds (naive = UTC, as GPX times are); declines on any other format
    (``tolerant``: an unreadable time, or one the damage cut short, is NaN, so its point is left out)."""
    if tolerant:
        times = whole_times(times)
    absent = times.count(None)
    if absent == len(times):
        return [math.nan] * len(times)
    present = [x for x in times if x is not None] if absent else times
    try:
        parsed = pd.to_datetime(pd.Series(present, dtype=object), utc=True, format="ISO8601",
                                errors="coerce" if tolerant else "raise")
        if tolerant:  # microseconds hold years 1600 to 9999; the plausibility check drops those later
            parsed = parsed.dt.as_unit("us")
        # seconds since the epoch in the parse's own resolution (year 9999 does not fit in nanoseconds)
        epoch = pd.Timestamp(0, tz="UTC").as_unit(parsed.dt.unit)
        seconds = (parsed - epoch).dt.total_seconds().tolist()
    except (ValueError, TypeError, OverflowError) as exc:  # OutOfBoundsDatetime is a ValueError
        if not tolerant:
            raise _Declined("times not in plain ISO 8601") from exc
        seconds = [_one_time(x) for x in present]
    if not absent:
        return seconds
    out, it = [], iter(seconds)
    for x in times:
        out.append(next(it) if x is not None else math.nan)
    return out


def _one_time(text: str) -> float:
    """One ISO 8601 text -> Unix seconds, NaN when unreadable."""
    try:
        t = pd.Timestamp(text)
    except (ValueError, TypeError, OverflowError):
        return math.nan
    if t is pd.NaT:
        return math.nan
    t = t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")
    return (t.as_unit("us") - pd.Timestamp(0, tz="UTC").as_unit("us")).total_seconds()


_POINT_KINDS = (("trkpt", "track point"), ("rtept", "route point"), ("wpt", "waypoint"))


def gpxpy_problem(root, exc: Exception) -> str:
    """gpxpy's complaint ("longitude is mandatory in None (got None)") in a runner's words, naming the
    point to blame when there is one ("track point 1,204 has no longitude")."""
    message = str(exc)
    for tag, kind in _POINT_KINDS:
        points = [el for el in root.iter() if _local(el.tag) == tag]
        for number, p in enumerate(points, 1):
            problem = _position_problem(p)
            if problem is not None:
                return f"{kind} {number:,} {problem}"
    if message.startswith("Invalid time"):
        bad = message.split(":", 1)[-1].strip()
        for tag, kind in _POINT_KINDS:
            points = [el for el in root.iter() if _local(el.tag) == tag]
            for number, p in enumerate(points, 1):
                times = [c.text for c in p if _local(c.tag) == "time"]
                if times and (times[0] or "").strip() == bad:
                    return f"{kind} {number:,} has an unreadable time ({bad[:30]!r})"
        return f"a time in the file cannot be read ({bad[:30]!r})"
    if "root node" in message:
        return "not a GPX file (no gpx element)"
    return "the file does not follow the GPX layout (a value in it cannot be read)"


def _points_gpxpy(text: str, name: str, root=None) -> _Points:
    """Track points through gpxpy (the reference reader; handles every GPX variant it knows).  Its
    errors are put in a runner's words by :func:`gpxpy_problem` (the library's stay in ``__cause__``)."""
    try:
        gpx = gpxpy.parse(text)
    except (gpxpy.gpx.GPXException, ValueError, TypeError, AttributeError, KeyError, IndexError) as exc:
        problem = gpxpy_problem(root, exc) if root is not None else "the file is not valid GPX"
        raise GpxError(name, problem) from exc
    pts = _Points(
        creator=gpx.creator or None,
        track_type=next((trk.type for trk in gpx.tracks if trk.type), None),
        has_routes=bool(gpx.routes and any(r.points for r in gpx.routes)),
        has_waypoints=bool(gpx.waypoints),
    )
    # one running segment id across tracks so distance never jumps between segments
    seg_counter = -1
    for trk in gpx.tracks:
        for seg in trk.segments:
            seg_counter += 1
            for p in seg.points:
                pts.lat.append(_finite_or_nan(p.latitude, 90.0))
                pts.lon.append(_finite_or_nan(p.longitude, 180.0))
                pts.ele.append(_finite_or_nan(p.elevation, 20_000.0))
                pts.t.append(_unix(p.time))
                h, c, sp = _ext_values(p)
                if math.isnan(sp):
                    sp = _finite_or_nan(p.speed, 1000.0)
                pts.hr.append(h)
                pts.cad.append(c)
                pts.spd.append(sp)
                pts.seg_id.append(seg_counter)
    return pts


def _points_parsed(data: bytes, name: str, fast: bool):
    """(points, damage) from the whole document parsed safely (:func:`loadwatch.ingest.safe_xml.parse_xml`): the
    fast ElementTree path, gpxpy where it declines (or with ``fast=False``), the salvage of a damaged file."""
    text, root, damage = _safe_xml.parse_xml(data, name, GpxError, resync=_RESYNC)
    pts = None
    if damage is not None:
        try:
            pts = _points_fast(root, parts=damage.parts)
        except _Declined as exc:
            raise GpxError(name, "the file is damaged and what is left of it is not a GPX track") from exc
    elif fast:
        try:
            pts = _points_fast(root)
        except _Declined:
            pts = None
    if pts is None:
        pts = _points_gpxpy(text, name, root)
    return pts, damage


def read_gpx(src, name: str | None = None, *, fast: bool = True) -> Activity:
    """Read a GPX track (path, bytes or binary file object) into an :class:`Activity`.

    Raises :class:`GpxError` for unsafe XML, a file with nothing readable in it, or damage that leaves no
    timed point, and :class:`NotAnActivity` for waypoints-only, route-only, empty files and tracks
    without times.  A damaged file (cut short, bad bytes, points without a position) keeps every point
    that can be read, with ``Summary.partial`` set and a plain-words note in ``Summary.warnings``.
    ``Summary.id`` is the sha256 hex of the bytes.  ``fast=False`` forces gpxpy for well-formed files
    (the fast ElementTree path declines anything unusual by itself).
    """
    data, name = source_bytes(src, name)
    content_hash = hashlib.sha256(data).hexdigest()
    # alike points are read from the text; any other document is parsed whole (the reference)
    pts = _points_textual(data) if fast else None
    damage = None
    if pts is None:
        pts, damage = _points_parsed(data, name, fast)

    if not pts.lat:
        if pts.bad:
            number, problem = pts.bad[0]
            raise GpxError(name, f"no track point could be read (track point {number:,} {problem})")
        if damage is not None:
            raise GpxError(name, "the file is damaged and no track point could be read from it")
        if pts.has_routes:
            raise NotAnActivity(name, "a route (a planned course), not a recorded activity")
        if pts.has_waypoints:
            raise NotAnActivity(name, "only waypoints (marked places), not a recorded activity")
        raise NotAnActivity(name, "an empty GPX file (no track points)")

    lat, lon, ele, t, hr, cad, spd, seg_id = pts.lat, pts.lon, pts.ele, pts.t, pts.hr, pts.cad, pts.spd, pts.seg_id
    lat_a, lon_a, t_a = np.asarray(lat, float), np.asarray(lon, float), np.asarray(t, float)
    seg_a = np.asarray(seg_id)
    # e.g. 1901 dates written by broken converters
    t_a[(t_a < MIN_PLAUSIBLE_UNIX_S) | (t_a >= MAX_PLAUSIBLE_UNIX_S)] = np.nan
    timed = np.isfinite(t_a)
    if timed.sum() < 2:
        if damage is not None:
            raise GpxError(name, "the file is damaged and fewer than two track points with times could be "
                                 "read from it")
        raise NotAnActivity(name, "a route without times (a course), not a recorded activity")

    # Distance follows the file's order of points (the path), untimed points included.  Points whose
    # time does not advance past every earlier point (duplicates, interleaved merged recordings) are
    # dropped, so time and distance both only grow.
    dist = cumulative_distance_m(lat_a, lon_a, seg_a)
    tt = np.where(timed, t_a, -np.inf)
    prev_max = np.maximum.accumulate(np.concatenate([[-np.inf], tt[:-1]]))
    keep = np.flatnonzero(timed & (tt > prev_max))
    tk, dk = t_a[keep], dist[keep]
    dt = np.diff(tk)
    with np.errstate(divide="ignore", invalid="ignore"):
        computed = np.concatenate([[np.nan], np.where(dt > 0, np.diff(dk) / dt, np.nan)])
    if len(computed) > 1 and not np.isfinite(computed[0]):
        computed[0] = computed[1]
    file_speed = np.asarray(spd, float)[keep]
    speed = np.where(np.isfinite(file_speed), file_speed, computed)
    has_position = np.isfinite(lat_a[keep]).any()
    if not has_position:
        dk = np.full(len(keep), np.nan)
        speed = file_speed

    sport = sport_from_type(pts.track_type)
    inferred = sport is None
    if inferred:
        sport = infer_sport(speed)

    cad_a = np.asarray(cad, float)[keep]
    if sport in _STRIDE_SPORTS:
        cad_a = cad_a * 2.0
    hr_a = np.asarray(hr, float)[keep]
    hr_a[hr_a <= 0] = np.nan

    samples = make_block(
        (tk * 1e9).astype("int64"),
        {
            "distance_m": dk - dk[0] if has_position else dk,
            "speed_m_s": speed,
            "elevation_m": np.asarray(ele, float)[keep],
            "heart_rate_bpm": hr_a,
            "cadence_spm": cad_a,
            "lat_deg": lat_a[keep],
            "lon_deg": lon_a[keep],
        },
    )
    s = summarize_samples(samples)
    moving = moving_time_s(samples)
    warnings = []
    if damage is not None:
        parts = np.asarray(pts.part, dtype="int64")[keep] if len(pts.part) == len(lat) else np.zeros(0)
        warnings.append(damage_warning(damage, t_kept_s=tk, parts_kept=parts, seen=pts.n_points))
    if pts.bad:
        warnings.append(bad_points_warning(pts.bad))
    summary = reader_summary(
        s, {"moving_s": moving},
        id=content_hash, source=name, format="gpx", sport=sport, sub_sport=None, start_utc=s["start_utc"],
        utc_offset_s=None, device=pts.creator, partial=bool(warnings), sport_inferred=inferred,
        warnings=tuple(warnings),
    )
    return Activity(summary, block=samples)
