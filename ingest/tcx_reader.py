"""TCX (Garmin Training Center) files -> :class:`~loadwatch.ingest.canonical.Activity`.

Parsed safely by :func:`loadwatch.ingest.safe_xml.parse_xml` (a document with a DTD is refused, so no entity
is ever expanded and nothing outside the file is read), tolerant of a leading BOM
or whitespace, and matching elements by local name so any namespace prefix works.

What a runner gets:

* **Channels** per ``Trackpoint``: ``Time``, ``Position``, ``AltitudeMeters``, ``DistanceMeters``,
  ``HeartRateBpm/Value``, ``Cadence`` and the ``TPX`` extension's ``Speed`` and ``RunCadence``.  TCX
  running cadence (``RunCadence``, and the plain ``Cadence`` Polar writes for runs) counts strides, so for
  running it is doubled to steps/min; cycling keeps rpm.
* **Totals** come from the laps: distance is the sum of the laps' ``DistanceMeters``, moving time the sum
  of their ``TotalTimeSeconds``, as the watch computed them; samples fill in what laps lack.  When the
  trackpoints cover clearly more distance than the laps (:data:`INCOMPLETE_LAPS_FRAC`), the laps are
  incomplete and the trackpoints' totals are used.
* **Laps without trackpoints** (a treadmill or manual run exported as totals only) are still a run:
  the activity keeps its totals with an empty samples frame.
* **Sport** from ``Activity Sport="Running|Biking|Other"``; ``utc_offset_s`` is None (TCX times are UTC).
* Courses and workouts are :class:`~loadwatch.ingest.errors.NotAnActivity`.
* **Damaged files** keep every trackpoint and lap that can be read, before and after the damage
  (:mod:`loadwatch.ingest.safe_xml`), with ``Summary.partial`` and a plain-words ``Summary.warnings`` entry ("cut
  short after 41 min; 2,460 of about 3,300 points kept").  Totals come from the points kept when the laps
  cover more than them (a cut file's lap announces time the points no longer hold); a damaged file that
  kept fewer than two points keeps its laps' totals, as a damaged FIT file keeps its sessions.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from loadwatch.ingest.canonical import Activity, empty_block, make_block, reader_summary, summarize_samples
from loadwatch.ingest.errors import NotAnActivity, TcxError
from loadwatch.ingest.file_bytes import source_bytes
from loadwatch.ingest.gpx_reader import MAX_PLAUSIBLE_UNIX_S, MIN_PLAUSIBLE_UNIX_S, cumulative_distance_m
from loadwatch.ingest.safe_xml import Resync, parse_xml
from loadwatch.ingest.salvage import damage_warning, whole_times

_SPORTS = {"running": "running", "biking": "cycling"}

#: When the trackpoints cover more than this fraction more distance than the laps' totals, the laps are
#: incomplete and the trackpoints' totals are used instead.
INCOMPLETE_LAPS_FRAC = 0.02


def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _children(el, name: str):
    return [c for c in el if _local(c.tag) == name]


def _child(el, name: str):
    for c in el:
        if _local(c.tag) == name:
            return c
    return None


def _float(el) -> float:
    if el is None or el.text is None:
        return math.nan
    try:
        v = float(el.text.strip())
    except ValueError:
        return math.nan
    return v if math.isfinite(v) and abs(v) < 1e9 else math.nan


def _path_float(el, *names: str) -> float:
    for n in names:
        if el is None:
            return math.nan
        el = _child(el, n)
    return _float(el)


def _ext_value(tp, name: str) -> float:
    ext = _child(tp, "Extensions")
    if ext is None:
        return math.nan
    for el in ext.iter():
        if _local(el.tag) == name:
            return _float(el)
    return math.nan


def _times(texts: list[str | None]) -> np.ndarray:
    """ISO times -> Unix seconds (NaN for missing, unreadable or implausible (before 1990, from 2100)
    times)."""
    if not texts:
        return np.zeros(0)
    parsed = pd.to_datetime(pd.Series(whole_times(texts), dtype="object"), utc=True, errors="coerce",
                            format="ISO8601")
    # microseconds hold years 1600 and 9999 too; nanoseconds (pandas' default) would overflow
    micros = parsed.dt.tz_localize(None).to_numpy().astype("datetime64[us]").astype("int64")
    out = np.where(parsed.isna().to_numpy(), np.nan, micros / 1e6)
    out[(out < MIN_PLAUSIBLE_UNIX_S) | (out >= MAX_PLAUSIBLE_UNIX_S)] = np.nan
    return out


def _sum_finite(values: list[float]) -> float:
    finite = [v for v in values if math.isfinite(v)]
    return float(sum(finite)) if finite else math.nan


_SPORT_ATTR = re.compile(r"Activity\s[^<>]*?Sport\s*=\s*[\"']([^\"']*)")
_RESYNC = Resync(point="Trackpoint",
                 root=b'<TrainingCenterDatabase xmlns="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2">',
                 wrapper=b"<Activities><Activity><Lap><Track>")


def _activities(root) -> list:
    """The ``Activity`` elements of a TCX root, multisport sessions' included."""
    activities = [a for acts in _children(root, "Activities") for a in _children(acts, "Activity")]
    # multisport sessions nest their activities one level deeper
    for acts in _children(root, "Activities"):
        for ms in _children(acts, "MultiSportSession"):
            for part in ms.iter():
                if _local(part.tag) == "Activity":
                    activities.append(part)
    return activities


#: Lap totals are taken as covering more than a damaged file's kept trackpoints when they exceed the
#: points' own distance or time by more than this fraction.
DAMAGED_LAPS_FRAC = 0.02


def _laps_cover_more(lap_distance_m: float, lap_time_s: float, from_samples: dict) -> bool:
    """True when the laps' distance or time is clearly more than the kept trackpoints' (damage lost some
    of the points the laps count)."""
    d, t = float(from_samples.get("distance_m", math.nan)), float(from_samples.get("elapsed_s", math.nan))
    more_distance = math.isfinite(lap_distance_m) and math.isfinite(d) and lap_distance_m > d * (1 + DAMAGED_LAPS_FRAC) + 1
    more_time = math.isfinite(lap_time_s) and math.isfinite(t) and lap_time_s > t * (1 + DAMAGED_LAPS_FRAC) + 2
    return more_distance or more_time


def read_tcx(src, name: str | None = None) -> Activity:
    """Read a TCX activity (path, bytes or binary file object) into an :class:`Activity`.

    Raises :class:`TcxError` for invalid or unsafe XML or a TCX without any activity data, and
    :class:`NotAnActivity` for courses and workouts.  ``Summary.id`` is the sha256 hex of the bytes.
    """
    data, name = source_bytes(src, name)
    content_hash = hashlib.sha256(data).hexdigest()
    # the one safe parse (see ingest.safe_xml); a damaged file comes back in parts, read again after each
    # place of damage from the next trackpoint on
    text, root, damage = parse_xml(data, name, TcxError, resync=_RESYNC)
    parts, first, activity = _pick_activity(root, damage, name)
    sport = _sport(activity, damage, text)
    laps = _laps(activity, parts, first, damaged=damage is not None)
    tps, tp_part = _trackpoints(activity, parts, first, damaged=damage is not None)
    t, keep, samples = _samples(tps, sport, damaged=damage is not None)

    from_samples = summarize_samples(samples) if not samples.empty else {}
    lap_distance, lap_time, lap_max_hr = _trusted_lap_totals(laps, from_samples, damaged=damage is not None)
    if not from_samples and not (math.isfinite(lap_time) or math.isfinite(lap_distance)):
        if damage is not None:
            raise TcxError(name, "the file is damaged and neither a trackpoint with a time nor a lap total "
                                 "could be read from it")
        raise TcxError(name, "the activity has neither trackpoints with times nor lap totals")
    start_utc = _start_utc(activity, laps, from_samples, name)
    avg_hr, max_hr = _heart_rate(laps, lap_max_hr, from_samples)

    warnings = ()
    if damage is not None:
        t_kept = t[keep] if tps else np.zeros(0)
        warnings = (damage_warning(damage, t_kept_s=t_kept, parts_kept=tp_part[keep] if tps else tp_part,
                                   recorded_s=laps.time_s, seen=len(tps)),)

    summary = reader_summary(
        from_samples,
        {"elapsed_s": _elapsed_s(laps, start_utc, from_samples), "moving_s": lap_time, "distance_m": lap_distance,
         "avg_hr_bpm": avg_hr, "max_hr_bpm": max_hr},
        id=content_hash, source=name, format="tcx", sport=sport, sub_sport=None, start_utc=start_utc,
        utc_offset_s=None, device=_device(activity), partial=damage is not None, sport_inferred=False,
        warnings=warnings,
    )
    return Activity(summary, block=samples)


def _pick_activity(root, damage, name: str) -> tuple[tuple, int, object]:
    """``(parts, first, activity)``: the parts of the parse (one unless damaged), the part the activity
    is read from (a later one when damage took the file's start) and the activity read: the running
    activity with the most trackpoints, else the activity with the most.  Raises when there is none."""
    if _local(root.tag) != "TrainingCenterDatabase":
        if damage is not None:
            raise TcxError(name, "the file is damaged and what is left of it is not a TCX activity")
        raise TcxError(name, "not a TCX file (no TrainingCenterDatabase element)")
    parts = damage.parts if damage is not None else (root,)
    first = 0
    activities = _activities(root)
    while damage is not None and not activities and first + 1 < len(parts):
        first += 1
        activities = _activities(parts[first])
    if not activities:
        if damage is not None:
            raise TcxError(name, "the file is damaged and no activity could be read from it")
        if _children(root, "Courses"):
            raise NotAnActivity(name, "a course (a planned route), not a recorded activity")
        if _children(root, "Workouts"):
            raise NotAnActivity(name, "a planned workout, not a recorded activity")
        raise NotAnActivity(name, "a TCX file without any recorded activity")

    def size(act) -> int:
        return sum(1 for el in act.iter() if _local(el.tag) == "Trackpoint")

    runs = [a for a in activities if (a.get("Sport") or "").strip().lower() == "running"]
    return parts, first, max(runs or activities, key=size)


def _sport(activity, damage, text: str) -> str:
    """The canonical sport from the activity's ``Sport`` attribute ("other" without one)."""
    sport_text = activity.get("Sport")
    if damage is not None and sport_text is None:  # the damage took the Activity start tag with it
        m = _SPORT_ATTR.search(text)
        sport_text = m.group(1) if m else None
    return _SPORTS.get((sport_text or "").strip().lower(), "other")


@dataclass(frozen=True)
class _Laps:
    """The laps read and their totals (NaN when no lap says): distance [m], time [s], highest heart
    rate [bpm] and each lap's start [Unix s]."""

    laps: list
    distance_m: float
    time_s: float
    max_hr_bpm: float
    starts_s: np.ndarray


def _laps(activity, parts, first: int, *, damaged: bool) -> _Laps:
    laps = _children(activity, "Lap")
    if damaged:  # laps read after the damage (the wrapper's own Lap has no StartTime)
        laps += [lap for part in parts[first + 1:] for act in _activities(part) for lap in _children(act, "Lap")
                 if lap.get("StartTime")]
    return _Laps(
        laps=laps,
        distance_m=_sum_finite([_path_float(lap, "DistanceMeters") for lap in laps]),
        time_s=_sum_finite([_path_float(lap, "TotalTimeSeconds") for lap in laps]),
        max_hr_bpm=max((v for v in (_path_float(lap, "MaximumHeartRateBpm", "Value") for lap in laps)
                        if math.isfinite(v)), default=math.nan),
        starts_s=_times([lap.get("StartTime") for lap in laps]),
    )


def _trackpoints(activity, parts, first: int, *, damaged: bool) -> tuple[list, np.ndarray]:
    """The trackpoints and, for each, the part of the parse it was read from."""
    if not damaged:
        tps = [tp for el in activity.iter() if _local(el.tag) == "Track" for tp in _children(el, "Trackpoint")]
        return tps, np.zeros(len(tps), dtype="int64")
    # damage can shift the nesting: every trackpoint wherever it landed, then those of later parts
    found = [(el, first) for el in activity.iter() if _local(el.tag) == "Trackpoint"]
    found += [(el, i) for i in range(first + 1, len(parts)) for el in parts[i].iter()
              if _local(el.tag) == "Trackpoint"]
    return [el for el, _ in found], np.array([i for _, i in found], dtype="int64")


def _samples(tps: list, sport: str, *, damaged: bool) -> tuple[np.ndarray, np.ndarray, object]:
    """``(t, keep, samples)``: every trackpoint's time [Unix s, NaN when unreadable], which are kept, and
    the kept points as a sample block (empty when none)."""
    t = _times([(_child(tp, "Time").text if _child(tp, "Time") is not None else None) for tp in tps])
    lat = np.array([_path_float(tp, "Position", "LatitudeDegrees") for tp in tps], dtype=float)
    lon = np.array([_path_float(tp, "Position", "LongitudeDegrees") for tp in tps], dtype=float)
    dist = np.array([_path_float(tp, "DistanceMeters") for tp in tps], dtype=float)
    lat[np.abs(lat) > 90] = np.nan
    lon[np.abs(lon) > 180] = np.nan
    keep = np.isfinite(t)
    if damaged and keep.sum() < 2:
        # one point is not a recording: what the damage left are the laps' totals, if any (as a damaged
        # FIT file keeps its sessions)
        keep[:] = False
    if not keep.any():
        return t, keep, empty_block()
    if not np.isfinite(dist[keep]).any() and np.isfinite(lat[keep]).any():
        dist = cumulative_distance_m(lat, lon, np.zeros(len(lat), dtype=int))
    cad = np.array([_path_float(tp, "Cadence") for tp in tps], dtype=float)
    run_cad = np.array([_ext_value(tp, "RunCadence") for tp in tps], dtype=float)
    cadence = np.where(np.isfinite(run_cad), run_cad, cad)
    if sport == "running":
        cadence = cadence * 2.0  # strides -> steps
    hr = np.array([_path_float(tp, "HeartRateBpm", "Value") for tp in tps], dtype=float)
    hr[hr <= 0] = np.nan
    samples = make_block(
        (t[keep] * 1e9).astype("int64"),
        {
            "distance_m": dist[keep],
            "speed_m_s": np.array([_ext_value(tp, "Speed") for tp in tps], dtype=float)[keep],
            "elevation_m": np.array([_path_float(tp, "AltitudeMeters") for tp in tps], dtype=float)[keep],
            "heart_rate_bpm": hr[keep],
            "cadence_spm": cadence[keep],
            "lat_deg": lat[keep],
            "lon_deg": lon[keep],
        },
    )
    return t, keep, samples


def _trusted_lap_totals(laps: _Laps, from_samples: dict, *, damaged: bool) -> tuple[float, float, float]:
    """The laps' distance [m], time [s] and highest heart rate [bpm], NaN where the trackpoints are the
    better total."""
    lap_distance, lap_time, lap_max_hr = laps.distance_m, laps.time_s, laps.max_hr_bpm
    sample_distance = float(from_samples.get("distance_m", math.nan))
    if math.isfinite(lap_distance) and math.isfinite(sample_distance) and \
            sample_distance > lap_distance * (1 + INCOMPLETE_LAPS_FRAC):
        # the laps do not cover the whole recording (seen in Movescount exports): trust the trackpoints
        lap_distance = lap_time = math.nan
    if damaged and from_samples and _laps_cover_more(lap_distance, lap_time, from_samples):
        # the laps count what the damage lost: the totals are those of the points kept
        lap_distance = lap_time = lap_max_hr = math.nan
    return lap_distance, lap_time, lap_max_hr


def _start_utc(activity, laps: _Laps, from_samples: dict, name: str) -> pd.Timestamp:
    """The first sample's time, or the first lap's start when earlier; without samples the earliest lap
    start or the activity's ``Id``."""
    lap_starts = laps.starts_s
    if from_samples:
        start_utc = from_samples["start_utc"]
        if lap_starts.size and math.isfinite(lap_starts[0]):
            start_utc = min(start_utc, pd.Timestamp(int(lap_starts[0] * 1e9), unit="ns", tz="UTC"))
        return start_utc
    id_time = _times([(_child(activity, "Id").text if _child(activity, "Id") is not None else None)])
    candidates = [v for v in (*lap_starts, *id_time) if math.isfinite(v)]
    if candidates:
        return pd.Timestamp(int(min(candidates) * 1e9), unit="ns", tz="UTC")
    raise TcxError(name, "the activity has no start time")


def _elapsed_s(laps: _Laps, start_utc: pd.Timestamp, from_samples: dict) -> float:
    """Elapsed time [s]: the samples', else from the start to the last lap's end, else the laps' time."""
    elapsed = float(from_samples.get("elapsed_s", math.nan))
    if not math.isfinite(elapsed) or not from_samples:
        ends = [s + _path_float(lap, "TotalTimeSeconds") for s, lap in zip(laps.starts_s, laps.laps, strict=True)]
        ends = [e for e in ends if math.isfinite(e)]
        elapsed = (max(ends) - start_utc.timestamp()) if ends else laps.time_s
    return float(elapsed)


def _heart_rate(laps: _Laps, lap_max_hr: float, from_samples: dict) -> tuple[float, float]:
    """Average and highest heart rate [bpm]: the samples', the laps' time-weighted average when the
    samples have none, and the higher of the samples' and the laps' maximum."""
    avg_hr = float(from_samples.get("avg_hr_bpm", math.nan))
    if not math.isfinite(avg_hr):
        weights = [(_path_float(lap, "AverageHeartRateBpm", "Value"), _path_float(lap, "TotalTimeSeconds"))
                   for lap in laps.laps]
        weights = [(h, w) for h, w in weights if math.isfinite(h) and math.isfinite(w) and w > 0]
        if weights:
            avg_hr = sum(h * w for h, w in weights) / sum(w for _, w in weights)
    max_hr = float(from_samples.get("max_hr_bpm", math.nan))
    if math.isfinite(lap_max_hr):
        max_hr = lap_max_hr if not math.isfinite(max_hr) else max(max_hr, lap_max_hr)
    return avg_hr, max_hr


def _device(activity) -> str | None:
    """The recording device's name from ``Creator/Name``, or None."""
    creator = _child(activity, "Creator")
    if creator is not None and _child(creator, "Name") is not None:
        return (_child(creator, "Name").text or "").strip() or None
    return None
