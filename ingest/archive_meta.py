"""Sport, surface and name from what a runner's export archive already says.

* **Strava** (*Download your account*): ``activities.csv`` has one row per activity with ``Activity
  Type`` (Run, Trail Run, Virtual Run, Ride, Walk, Hike, Swim...), ``Activity Name``, ``Activity Gear``
  (the shoes or bike; the importer gives runs their pair, :meth:`loadwatch.ingest.store.Store.assign_gear`) and
  ``Filename`` (``activities/1234567.fit.gz``), which names the activity's file in the same archive.
* **Garmin** (*Export your data*): ``DI_CONNECT/DI-Connect-Fitness/<user>_0_summarizedActivities.json``
  holds ``[{"summarizedActivitiesExport": [{activityId, name, activityType, startTimeGmt (ms), ...}]}]``;
  ``activityType`` is a type key (``running``, ``trail_running``, ``treadmill_running``,
  ``track_running``...) or an object with ``typeKey``.  Activities are matched by the id in the file
  name (Garmin names uploaded files ``<user>_<activityId>.fit``) or by start time.

:func:`parse` turns either file into :class:`MetaEntry` rows; the importer applies them after the batch
(the metadata file and the activity files can come in any order inside a zip).
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from dataclasses import dataclass
from pathlib import PurePosixPath


def _by_sport(types: dict[str, tuple]) -> dict[str, tuple[str, str | None]]:
    """``{type: (sport, surface or None)}`` from ``{sport: types}``; a type that says its surface is
    written ``(type, surface)``."""
    out = {}
    for sport, names in types.items():
        for entry in names:
            name, surface = (entry, None) if isinstance(entry, str) else entry
            out[name] = (sport, surface)
    return out


#: Strava's Activity Type -> (sport, surface or None).
STRAVA_TYPES: dict[str, tuple[str, str | None]] = _by_sport({
    "running": ("run", ("trail run", "trail"), ("virtual run", "treadmill"), ("treadmill", "treadmill")),
    "cycling": ("ride", "virtual ride", "e-bike ride", "mountain bike ride", "gravel ride"),
    "walking": ("walk",), "hiking": ("hike",), "swimming": ("swim",), "elliptical": ("elliptical",),
    "rowing": ("rowing",),
})

#: Garmin's activity type keys -> (sport, surface or None).
GARMIN_TYPES: dict[str, tuple[str, str | None]] = _by_sport({
    "running": ("running", ("street_running", "road"), ("trail_running", "trail"),
                ("treadmill_running", "treadmill"), ("indoor_running", "treadmill"),
                ("virtual_run", "treadmill"), ("track_running", "track"), "ultra_run"),
    "cycling": ("cycling", "road_biking", "mountain_biking", "gravel_cycling", "indoor_cycling", "virtual_ride"),
    "walking": ("walking", "casual_walking", "speed_walking"),
    "hiking": ("hiking",),
    "swimming": ("swimming", "lap_swimming", "open_water_swimming"),
    "elliptical": ("elliptical",),
    "rowing": ("indoor_rowing", "rowing"),
})


#: Start times within this many seconds are the same activity.
START_MATCH_S: float = 90.0


@dataclass(frozen=True)
class MetaEntry:
    """What an archive says about one activity.  ``file``: the activity file's path inside the archive
    (Strava) or None; ``activity_id``: Garmin's id or None; ``start_utc_s``: Unix seconds or None;
    ``gear``: the shoes (or bike) it was recorded with (Strava's "Activity Gear") or None."""

    sport: str | None
    surface: str | None
    name: str | None
    file: str | None = None
    activity_id: str | None = None
    start_utc_s: float | None = None
    gear: str | None = None


@dataclass
class Metadata:
    """An archive's metadata file, yielded by :func:`loadwatch.ingest.sources.iter_sources` like an activity file."""

    name: str
    data: bytes


def is_metadata_name(name: str) -> bool:
    base = PurePosixPath(str(name).lower()).name
    return base == "activities.csv" or (base.endswith(".json") and "summarizedactivities" in base)


def parse(name: str, data: bytes) -> list[MetaEntry]:
    """The entries of a Strava ``activities.csv`` or a Garmin summarized-activities JSON (ValueError when
    it is neither)."""
    base = PurePosixPath(str(name).lower()).name
    if base.endswith(".csv"):
        return _strava(data)
    return _garmin(data)


def _clean(text) -> str | None:
    text = str(text or "").strip()
    return text or None


def _strava(data: bytes) -> list[MetaEntry]:
    text = data.decode("utf-8-sig", errors="replace")
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        return []
    cols = {h.strip().lower(): i for i, h in reversed(list(enumerate(header)))}  # the first of a repeated name
    need = ("activity type", "filename")
    if not all(c in cols for c in need):
        raise ValueError("not a Strava activities.csv (no 'Activity Type' and 'Filename' columns)")
    out = []
    for row in reader:
        def get(col: str, row=row) -> str | None:
            i = cols.get(col)
            return _clean(row[i]) if i is not None and i < len(row) else None

        kind = (get("activity type") or "").lower()
        sport, surface = STRAVA_TYPES.get(kind, ("other", None) if kind else (None, None))
        file = get("filename")
        if not file:
            continue
        gear = " ".join((get("activity gear") or "").split()) or None
        out.append(MetaEntry(sport=sport, surface=surface, name=get("activity name"), file=file,
                             activity_id=get("activity id"), gear=gear))
    return out


def _garmin_rows(value) -> list[dict]:
    if isinstance(value, list):
        rows = []
        for item in value:
            rows += _garmin_rows(item)
        return rows
    if isinstance(value, dict):
        if "summarizedActivitiesExport" in value:
            return _garmin_rows(value["summarizedActivitiesExport"])
        if "activityId" in value or "activityType" in value:
            return [value]
    return []


def _garmin(data: bytes) -> list[MetaEntry]:
    try:
        doc = json.loads(data.decode("utf-8-sig", errors="replace"))
    except ValueError as exc:
        raise ValueError(f"not a Garmin summarized-activities file ({exc})") from None
    except RecursionError:  # JSON nested thousands deep: no export is; the import goes on without it
        raise ValueError("not a Garmin summarized-activities file (nested deeper than any export)") from None
    out = []
    for row in _garmin_rows(doc):
        kind = row.get("activityType")
        if isinstance(kind, dict):
            kind = kind.get("typeKey")
        kind = str(kind or "").strip().lower()
        sport, surface = GARMIN_TYPES.get(kind, ("other", None) if kind else (None, None))
        start = row.get("startTimeGmt")
        start_s = None
        if isinstance(start, (int, float)) and math.isfinite(start):
            start_s = float(start) / 1000.0
        aid = row.get("activityId")
        out.append(MetaEntry(sport=sport, surface=surface, name=_clean(row.get("name")),
                             activity_id=None if aid is None else str(aid), start_utc_s=start_s))
    return out


def _strip_compression(path: str) -> str:
    return re.sub(r"\.gz$", "", path.lower())


def match_file(entry: MetaEntry, shown_name: str) -> bool:
    """Does ``shown_name`` (``export.zip/activities/123.fit.gz``) name the entry's file?"""
    if entry.file:
        want = _strip_compression(entry.file.strip("/"))
        have = _strip_compression(shown_name)
        return have == want or have.endswith("/" + want)
    if entry.activity_id:
        stem = PurePosixPath(shown_name).name.split(".")[0]
        return bool(re.search(rf"(^|_){re.escape(entry.activity_id)}$", stem))
    return False
