"""FIT files -> :class:`~loadwatch.ingest.canonical.Activity`.

Two decoders produce the intermediate :class:`~loadwatch.ingest.fit_common.FitDecoded`: the vectorised fast path
(``loadwatch.ingest.fit_fast``, when present) and :func:`decode_with_fitdecode` (the maintained ``fitdecode``
library; the fallback for every file the fast path declines).  One builder, :func:`build_activity`, turns
either into the canonical activity, so both paths give the same frame by construction.

Decisions a runner would care about:

* **Damaged files.**  A file whose checksum fails, or that ends early, is salvaged when it holds usable
  records or sessions (``Summary.partial = True``); otherwise it is a :class:`FitError` in plain words.
* **Multisport / several sessions.**  The running session when there is one (the longest running one if
  several), else the session with the longest timer time; records are cut to that session's time window.
* **Cadence.**  FIT running cadence counts strides; for running, walking and hiking
  ``cadence_spm = 2 * (cadence + fractional_cadence)`` (fitdecode already divides the fractional part by
  128).  Other sports keep the FIT value (rpm / strokes per minute) in the ``cadence_spm`` column.
* **Times.**  FIT timestamps below ``0x10000000`` are device-relative ("system time"), not dates: they
  are treated as missing.
"""

from __future__ import annotations

import hashlib
import logging
import math
from dataclasses import dataclass, field

import fitdecode
import numpy as np
import pandas as pd

from loadwatch.ingest.canonical import (
    SPORTS,
    Activity,
    SampleBlock,
    empty_block,
    make_block,
    reader_summary,
    summarize_samples,
)
from loadwatch.ingest.errors import FitError, IngestError, NotAnActivity
from loadwatch.ingest.file_bytes import source_bytes
from loadwatch.ingest.fit_common import RECORD_FIELDS, FitDecoded
from loadwatch.ingest.plausible import WHOLE_BUT_DAMAGED

log = logging.getLogger(__name__)

#: Unix seconds of the FIT epoch (1989-12-31T00:00:00Z).
FIT_EPOCH_S = 631065600
#: FIT times below this (raw) are relative to device power-on, not dates (FIT SDK ``date_time`` note).
FIT_DATETIME_MIN = 0x10000000
#: The smallest Unix time accepted as a real date.
MIN_VALID_UNIX_S = FIT_EPOCH_S + FIT_DATETIME_MIN
#: Times from 2100-01-01 on are damage, not recordings.
MAX_VALID_UNIX_S = 4102444800
#: Largest plausible UTC offset [s] (UTC+14 is the furthest zone).
MAX_UTC_OFFSET_S = 14 * 3600

# fitdecode field name -> RECORD_FIELDS column; the first name present wins.
_RECORD_SOURCES: dict[str, tuple[str, ...]] = {
    "distance_m": ("distance",),
    "speed_m_s": ("enhanced_speed", "speed"),
    "altitude_m": ("enhanced_altitude", "altitude"),
    "heart_rate_bpm": ("heart_rate",),
    "cadence_rpm": ("cadence",),
    "fractional_cadence_rpm": ("fractional_cadence",),
    "lat_deg": ("position_lat",),
    "lon_deg": ("position_long",),
    "vertical_oscillation_mm": ("vertical_oscillation",),
    "stance_time_ms": ("stance_time",),
    "step_length_mm": ("step_length",),
}
_SEMICIRCLE_DEG = 180.0 / 2**31

_NOT_ACTIVITY = {
    "settings": "a settings file, not an activity",
    "device": "a device description file, not an activity",
    "sport": "a sport settings file, not an activity",
    "workout": "a planned workout, not a recorded activity",
    "course": "a course (a planned route), not a recorded activity",
    "schedules": "a training schedule, not an activity",
    "weight": "a weight-scale file, not an activity",
    "totals": "a totals file, not an activity",
    "goals": "a goals file, not an activity",
    "blood_pressure": "a blood-pressure file, not an activity",
    "monitoring_a": "an all-day monitoring file, not an activity",
    "monitoring_b": "an all-day monitoring file, not an activity",
    "monitoring_daily": "an all-day monitoring file, not an activity",
    "activity_summary": "an activity summary list, not a recorded activity",
    "segment": "a segment file, not an activity",
    "segment_list": "a segment list, not an activity",
    "exd_configuration": "a data-screen configuration file, not an activity",
}

# FIT sport enum name -> canonical sport
_SPORT_MAP = {
    "running": "running",
    "cycling": "cycling",
    "e_biking": "cycling",
    "swimming": "swimming",
    "walking": "walking",
    "hiking": "hiking",
    "mountaineering": "hiking",
    "rowing": "rowing",
}
# sub_sport that decides the sport whatever the sport field says (fitness_equipment, training, generic)
_SUB_SPORT_MAP = {
    "elliptical": "elliptical",
    "indoor_rowing": "rowing",
    "indoor_walking": "walking",
    "indoor_running": "running",
    "treadmill": "running",
}
#: Sports whose FIT cadence counts strides (one per two steps).
STRIDE_SPORTS = ("running", "walking", "hiking")


def canonical_sport(sport, sub_sport=None) -> str:
    """Map FIT ``sport``/``sub_sport`` enum names onto :data:`~loadwatch.ingest.canonical.SPORTS`."""
    sport = sport if isinstance(sport, str) else None
    sub_sport = sub_sport if isinstance(sub_sport, str) else None
    if sport in _SPORT_MAP:
        return _SPORT_MAP[sport]
    if sub_sport in _SUB_SPORT_MAP and sport in (None, "generic", "fitness_equipment", "training"):
        return _SUB_SPORT_MAP[sub_sport]
    return "other"


# ------------------------------------------------------------------------------------- fitdecode


def _num(value) -> float:
    """A scalar FIT value as float; None/arrays/strings -> NaN."""
    if value is None or isinstance(value, (str, bytes, tuple, list)):
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _time(value) -> float:
    """Raw FIT ``date_time`` -> Unix seconds (NaN when missing)."""
    v = _num(value)
    return v + FIT_EPOCH_S if math.isfinite(v) else math.nan


def _first(values: dict, *names):
    for n in names:
        v = values.get(n)
        if v is not None:
            return v
    return None


def _message_values(msg) -> dict:
    """Field name -> value for the profile fields of a data message (developer fields left out: their
    names can clash with profile names, e.g. a Stryd "speed")."""
    out = {}
    for fd in msg.fields:
        if isinstance(fd.field, fitdecode.types.DevField):
            continue
        name = fd.name
        if name not in out or out[name] is None:
            out[name] = fd.value
    return out


def summary_values(v: dict, unix_s=_time) -> dict:
    """A session or lap message's values (field name -> value) as a :data:`~loadwatch.ingest.fit_common.SUMMARY_FIELDS`
    dict; ``unix_s`` turns a decoder's time value into Unix seconds (raw FIT ``date_time`` by default)."""
    return {
        "start_time_s": unix_s(v.get("start_time")),
        "timestamp_s": unix_s(v.get("timestamp")),
        "sport": v.get("sport") if isinstance(v.get("sport"), str) else None,
        "sub_sport": v.get("sub_sport") if isinstance(v.get("sub_sport"), str) else None,
        "total_distance_m": _num(v.get("total_distance")),
        "total_timer_time_s": _num(v.get("total_timer_time")),
        "total_elapsed_time_s": _num(v.get("total_elapsed_time")),
        "total_ascent_m": _num(_first(v, "total_ascent")),
        "total_descent_m": _num(_first(v, "total_descent")),
        "avg_heart_rate_bpm": _num(v.get("avg_heart_rate")),
        "max_heart_rate_bpm": _num(v.get("max_heart_rate")),
    }


def decode_with_fitdecode(data: bytes, name: str) -> FitDecoded:
    """Decode FIT ``data`` with fitdecode into a :class:`FitDecoded` (scaled values, NaN for invalid,
    Unix seconds, degrees).

    Chained FIT files (several FIT files back to back) are read in full.  A checksum failure or an
    early end keeps what was decoded and sets ``partial=True`` when there are records or sessions;
    otherwise raises :class:`FitError` ("not a FIT file", "the file ends early (truncated)", "the file is
    damaged (checksum failed)").
    """
    if not data:
        raise FitError(name, "the file is empty")
    cols: dict[str, list] = {k: [] for k in RECORD_FIELDS}
    out = FitDecoded(file_type=None, decoder="fitdecode")
    walk = _Walk()
    problem = cause = None
    try:
        _read_frames(data, cols, out, walk)
    except fitdecode.FitHeaderError as exc:
        cause = exc
        problem = "not a FIT file" if walk.frames == 0 else "the file ends with damaged data (a broken FIT header)"
        if walk.frames == 0 and len(data) >= 12 and data[8:12] == b".FIT":
            problem = "the file ends early (truncated)"
    except fitdecode.FitEOFError as exc:
        cause = exc
        problem = "the file ends early (truncated)"
    except fitdecode.FitCRCError as exc:  # pragma: no cover - READONLY never raises, kept for safety
        cause = exc
        problem = "the file is damaged (checksum failed)"
    except Exception as exc:  # noqa: BLE001 - untrusted input: any decoder failure (fitdecode asserts too) is damage
        cause = exc
        problem = "the file is damaged (it cannot be decoded past a broken message)"

    if problem is None and walk.crc_failed:
        problem = "the file is damaged (checksum failed)"
    n = len(cols["timestamp_s"])
    out.records = {k: np.asarray(v, dtype="float64").reshape(n) for k, v in cols.items()}
    for key in ("lat_deg", "lon_deg"):
        out.records[key] = out.records[key] * _SEMICIRCLE_DEG
    # "activity" wins so a chained activity + settings file is an activity
    if walk.file_types:
        out.file_type = "activity" if "activity" in walk.file_types else walk.file_types[0]
    if problem is not None:
        _salvage_or_raise(out, name, problem, cause, first_frame_failed=walk.frames == 0)
    return out


@dataclass
class _Walk:
    """What the frame walk learnt besides the messages: frames read, a checksum that failed, and the
    ``file_id`` types in file order."""

    frames: int = 0
    crc_failed: bool = False
    file_types: list[str] = field(default_factory=list)


def _read_frames(data: bytes, cols: dict[str, list], out: FitDecoded, walk: _Walk) -> None:
    """Every frame of ``data``: records appended to ``cols``, the other messages into ``out``."""
    reader = fitdecode.FitReader(
        data,
        processor=fitdecode.DataProcessorBase(),  # raw date_time ints, no unit changes
        check_crc=fitdecode.CrcCheck.READONLY,  # we read FitCRC.matched and salvage ourselves
        error_handling=fitdecode.ErrorHandling.IGNORE,
    )
    with reader:
        for frame in reader:
            walk.frames += 1
            if isinstance(frame, fitdecode.FitCRC):
                walk.crc_failed |= frame.matched is False
            elif isinstance(frame, fitdecode.FitHeader):
                walk.crc_failed |= frame.crc_matched is False
            elif isinstance(frame, fitdecode.FitDataMessage):
                if frame.name == "record":  # nearly every frame: read here, without a call per message
                    v = _message_values(frame)
                    cols["timestamp_s"].append(_time(v.get("timestamp")))
                    for col, sources in _RECORD_SOURCES.items():
                        cols[col].append(_num(_first(v, *sources)))
                else:
                    on_message = _ON_MESSAGE.get(frame.name)
                    if on_message is not None:
                        on_message(out, frame, walk)


def _on_session(out: FitDecoded, frame, walk: _Walk) -> None:
    out.sessions.append(summary_values(_message_values(frame)))


def _on_lap(out: FitDecoded, frame, walk: _Walk) -> None:
    out.laps.append(summary_values(_message_values(frame)))


def _on_sport(out: FitDecoded, frame, walk: _Walk) -> None:
    v = _message_values(frame)
    out.sports.append({"sport": v.get("sport") if isinstance(v.get("sport"), str) else None,
                       "sub_sport": v.get("sub_sport") if isinstance(v.get("sub_sport"), str) else None})


def _on_activity(out: FitDecoded, frame, walk: _Walk) -> None:
    v = _message_values(frame)
    if out.activity is None:
        out.activity = {
            "timestamp_s": _time(v.get("timestamp")),
            "local_timestamp_s": _time(v.get("local_timestamp")),
            "total_timer_time_s": _num(v.get("total_timer_time")),
            "num_sessions": _num(v.get("num_sessions")),
        }


def _on_correlation(out: FitDecoded, frame, walk: _Walk) -> None:
    if out.correlation is None:
        v = _message_values(frame)
        out.correlation = {"timestamp_s": _time(v.get("timestamp")),
                           "system_timestamp_s": _time(v.get("system_timestamp"))}


def _on_file_id(out: FitDecoded, frame, walk: _Walk) -> None:
    v = _message_values(frame)
    ftype = v.get("type")
    if ftype is not None:
        walk.file_types.append(str(ftype))
    if out.manufacturer is None and len(walk.file_types) <= 1:
        manu = v.get("manufacturer")
        out.manufacturer = None if manu is None else str(manu)
        prod = _first(v, "garmin_product", "favero_product", "product")
        out.product = None if prod is None else str(prod)
        serial = v.get("serial_number")
        out.serial_number = serial if isinstance(serial, int) else None
        tc = _time(v.get("time_created"))
        out.time_created_s = tc if math.isfinite(tc) else None


#: FIT message name -> what the frame walk does with it (records are read in the walk itself).
_ON_MESSAGE = {"session": _on_session, "lap": _on_lap, "sport": _on_sport, "activity": _on_activity,
               "timestamp_correlation": _on_correlation, "file_id": _on_file_id}


def _salvage_or_raise(out: FitDecoded, name: str, problem: str, cause: Exception | None, *,
                      first_frame_failed: bool) -> None:
    """A damaged file: keep what was decoded (``out.partial``) when it has dated records or a session,
    else raise what is wrong."""
    n = len(out.records["timestamp_s"])
    usable = (n > 0 and np.isfinite(out.records["timestamp_s"]).any()) or bool(out.sessions)
    if not usable:
        if first_frame_failed and problem.startswith("the file ends"):
            raise FitError(name, problem) from cause
        if out.file_type not in (None, "activity") and out.file_type in _NOT_ACTIVITY and cause is None:
            raise NotAnActivity(name, _NOT_ACTIVITY[out.file_type])
        raise FitError(name, problem) from cause
    out.partial = True
    log.info("%s: salvaged a damaged FIT file (%s)", name, problem)


# --------------------------------------------------------------------------------------- builder


def _choose_session(sessions: list[dict]) -> dict | None:
    """The running session when there is one (longest running if several), else the longest by timer
    time (elapsed time when the timer is missing)."""
    if not sessions:
        return None

    def length(s: dict) -> float:
        for key in ("total_timer_time_s", "total_elapsed_time_s"):
            v = s.get(key, math.nan)
            if v is not None and math.isfinite(v):
                return v
        return 0.0

    runs = [s for s in sessions if canonical_sport(s.get("sport"), s.get("sub_sport")) == "running"]
    pool = runs or sessions
    return max(pool, key=length)


def _finite(v) -> bool:
    return v is not None and isinstance(v, (int, float)) and math.isfinite(v)


def build_activity(decoded: FitDecoded, content_hash: str, name: str) -> Activity:
    """The canonical :class:`Activity` from a decoded FIT file (the one builder both decoders use).

    Raises :class:`NotAnActivity` for settings, workout, course, monitoring... files and for an
    activity file without records or sessions; :class:`FitError` when nothing in the file carries a
    real date.
    """
    rec = _activity_records(decoded, name)
    ts, notes = _dated_times(decoded, rec["timestamp_s"])
    session = _choose_session(decoded.sessions)
    keep = np.isfinite(ts) & (ts >= MIN_VALID_UNIX_S) & (ts < MAX_VALID_UNIX_S)
    if session is not None and len(decoded.sessions) > 1:
        keep &= _within_session(ts, session)
    sport_name, sub_sport = _sport_names(decoded, session)
    sport = canonical_sport(sport_name, sub_sport)
    assert sport in SPORTS
    samples = _record_samples(rec, ts, keep, sport)
    session_has_climb = session is not None and _finite(session.get("total_ascent_m")) \
        and _finite(session.get("total_descent_m"))
    from_samples = summarize_samples(samples, with_ascent=not session_has_climb) if not samples.empty else {}

    start_utc = None
    if session is not None and _finite(session.get("start_time_s")) and \
            MIN_VALID_UNIX_S <= session["start_time_s"] < MAX_VALID_UNIX_S:
        start_utc = _ts(session["start_time_s"])
    elif from_samples:
        start_utc = from_samples["start_utc"]
    if start_utc is None:
        raise FitError(name, "the file holds no real dates (only device-relative times), so the run "
                             "cannot be placed on a day")

    partial = bool(decoded.partial)
    warnings: list[str] = notes
    if partial and session is not None and _records_reach_end(session, samples):
        # salvaged (a wrong checksum, junk after the end), yet the session and the records are whole:
        # ingest.plausible keeps the session's totals instead of re-deriving them from the records
        warnings.append(WHOLE_BUT_DAMAGED)

    device = None
    if decoded.manufacturer:
        device = decoded.manufacturer + (f" {decoded.product}" if decoded.product else "")

    summary = reader_summary(
        from_samples, _session_totals(session),
        id=content_hash, source=name, format="fit", sport=sport, sub_sport=sub_sport, start_utc=start_utc,
        utc_offset_s=_utc_offset_s(decoded.activity), device=device, partial=partial, sport_inferred=False,
        warnings=tuple(warnings),
    )
    return Activity(summary, block=samples)


def _activity_records(decoded: FitDecoded, name: str) -> dict[str, np.ndarray]:
    """The record columns of an activity file, each as long as the times (all-NaN when a decoder left
    one out).  Raises :class:`NotAnActivity` for any other kind of file and for one with neither records
    nor sessions."""
    ftype = decoded.file_type
    if ftype is not None and ftype != "activity":
        raise NotAnActivity(name, _NOT_ACTIVITY.get(ftype, f"a FIT {ftype} file, not an activity"))
    rec = {k: np.asarray(decoded.records.get(k, ()), dtype="float64") for k in RECORD_FIELDS}
    n = len(rec["timestamp_s"])
    for k in RECORD_FIELDS:
        if len(rec[k]) != n:
            rec[k] = np.full(n, np.nan)
    if n == 0 and not decoded.sessions:
        if ftype is None:
            raise NotAnActivity(name, "a FIT file without activity data")
        raise NotAnActivity(name, "an activity file without any recorded data")
    return rec


def _dated_times(decoded: FitDecoded, ts: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """The records' times [Unix s] and the notes for the runner: device-relative times (seconds since
    power-on) are dated by the file's ``timestamp_correlation``, and its sessions and activity with
    them (``decoded`` is changed in place)."""
    shift = _correlation_shift(decoded.correlation)
    if shift is None or not np.any(np.isfinite(ts) & (ts < MIN_VALID_UNIX_S)):
        return ts, []
    ts = np.where(np.isfinite(ts) & (ts < MIN_VALID_UNIX_S), ts + shift, ts)
    decoded.sessions = [_shift_times(sess, shift) for sess in decoded.sessions]
    if decoded.activity:
        decoded.activity = _shift_times(decoded.activity, shift)
    return ts, ["the watch recorded only its own running time; the file's clock note dated the run"]


def _within_session(ts: np.ndarray, session: dict) -> np.ndarray | bool:
    """Which times fall within ``session`` (from its start to its end or start + elapsed, whichever is
    later); True for all when the session does not say."""
    start = session.get("start_time_s", math.nan)
    end = session.get("timestamp_s", math.nan)
    if _finite(start) and _finite(session.get("total_elapsed_time_s")):
        end = max(end, start + session["total_elapsed_time_s"]) if _finite(end) else \
            start + session["total_elapsed_time_s"]
    if _finite(start) and _finite(end):
        return (ts >= start) & (ts <= end)
    return True


def _sport_names(decoded: FitDecoded, session: dict | None) -> tuple[str | None, str | None]:
    """FIT ``(sport, sub_sport)`` names: the session's, else the first ``sport`` message's."""
    first = decoded.sports[0] if decoded.sports else {}
    if session is not None:
        sport_name, sub_sport = session.get("sport"), session.get("sub_sport")
        if sport_name is not None or sub_sport is not None:
            return sport_name, sub_sport
    return first.get("sport"), first.get("sub_sport")


def _record_samples(rec: dict[str, np.ndarray], ts: np.ndarray, keep: np.ndarray, sport: str) -> SampleBlock:
    """The kept records as a sample block (cadence in steps for stride sports, 0 bpm as no heart rate)."""
    if not keep.any():
        return empty_block()
    cadence = rec["cadence_rpm"]
    if sport in STRIDE_SPORTS:
        frac = np.nan_to_num(rec["fractional_cadence_rpm"], nan=0.0)
        cadence = 2.0 * (cadence + frac)
    heart_rate = rec["heart_rate_bpm"].copy()
    heart_rate[heart_rate <= 0] = np.nan  # 0 bpm is "no strap", as in GPX/TCX
    return make_block(
        (ts[keep] * 1e9).astype("int64"),
        {
            "distance_m": rec["distance_m"][keep],
            "speed_m_s": rec["speed_m_s"][keep],
            "elevation_m": rec["altitude_m"][keep],
            "heart_rate_bpm": heart_rate[keep],
            "cadence_spm": cadence[keep],
            "lat_deg": rec["lat_deg"][keep],
            "lon_deg": rec["lon_deg"][keep],
            "vertical_oscillation_mm": rec["vertical_oscillation_mm"][keep],
            "stance_time_ms": rec["stance_time_ms"][keep],
            "step_length_mm": rec["step_length_mm"][keep],
        },
    )


#: Summary total -> the session field that gives it.
_SESSION_TOTALS = {"elapsed_s": "total_elapsed_time_s", "moving_s": "total_timer_time_s",
                   "distance_m": "total_distance_m", "ascent_m": "total_ascent_m", "descent_m": "total_descent_m",
                   "avg_hr_bpm": "avg_heart_rate_bpm", "max_hr_bpm": "max_heart_rate_bpm"}


def _session_totals(session: dict | None) -> dict[str, float]:
    """The session's own totals by :class:`~loadwatch.ingest.canonical.Summary` name (the samples fill the rest)."""
    if session is None:
        return {}
    totals = {}
    for key, session_key in _SESSION_TOTALS.items():
        value = session.get(session_key)
        if key.endswith("hr_bpm") and _finite(value) and value <= 0:
            continue  # a session average of 0 bpm means no heart rate was recorded
        if _finite(value):
            totals[key] = float(value)
    return totals


def _utc_offset_s(act: dict | None) -> float | None:
    """The local-time offset [s] the device recorded (``activity.local_timestamp - timestamp``), or None
    when it says none or an impossible one."""
    act = act or {}
    if _finite(act.get("local_timestamp_s")) and _finite(act.get("timestamp_s")):
        off = float(act["local_timestamp_s"] - act["timestamp_s"])
        if abs(off) <= MAX_UTC_OFFSET_S and act["timestamp_s"] >= MIN_VALID_UNIX_S:
            return off
    return None


#: A damaged file is whole when its records span at least this share of its session's elapsed time ...
WHOLE_RECORDS_FRAC: float = 0.9
#: ... give or take this many seconds [s].
WHOLE_RECORDS_SLACK_S: float = 60.0


def _records_reach_end(session: dict, samples: SampleBlock) -> bool:
    """Do the records cover the time the session states?  A file cut short has records for only part of
    it (and usually no session at all: watches write it last)."""
    elapsed = session.get("total_elapsed_time_s")
    if not _finite(elapsed) or elapsed <= 0 or len(samples) < 2:
        return False
    span = float(samples.t_ns[-1] - samples.t_ns[0]) / 1e9
    return span >= WHOLE_RECORDS_FRAC * elapsed - WHOLE_RECORDS_SLACK_S


def _correlation_shift(corr: dict | None) -> float | None:
    """Seconds to add to a device-relative time to make it UTC, from ``timestamp_correlation``."""
    if not corr:
        return None
    real, device = corr.get("timestamp_s"), corr.get("system_timestamp_s")
    if not (_finite(real) and _finite(device)) or not MIN_VALID_UNIX_S <= real < MAX_VALID_UNIX_S:
        return None
    return float(real - device)


def _shift_times(values: dict, shift: float) -> dict:
    out = dict(values)
    for key in ("start_time_s", "timestamp_s"):
        v = out.get(key)
        if _finite(v) and v < MIN_VALID_UNIX_S:
            out[key] = v + shift
    return out


def _ts(unix_s: float) -> pd.Timestamp:
    return pd.Timestamp(int(round(unix_s * 1e9)), unit="ns", tz="UTC")


# ------------------------------------------------------------------------------------------ entry


def _fast_module():
    try:
        from loadwatch.ingest import fit_fast
    except ImportError:
        return None
    return fit_fast


def read_fit(src, name: str | None = None, *, fast: bool = True) -> Activity:
    """Read a FIT file (path, bytes or binary file object) into an :class:`Activity`.

    With ``fast`` the vectorised decoder is tried first; whatever it declines (or fails on with a
    non-ingest error, which is logged) is decoded by fitdecode.  ``Summary.id`` is the sha256 hex of the
    bytes.
    """
    data, name = source_bytes(src, name)
    content_hash = hashlib.sha256(data).hexdigest()
    decoded = None
    if not data:
        raise FitError(name, "the file is empty")
    if fast:
        fit_fast = _fast_module()
        if fit_fast is not None:
            declined = getattr(fit_fast, "FastPathDeclined", ())
            try:
                decoded = fit_fast.decode(data, name)
            except (IngestError, NotAnActivity):
                raise
            except Exception as exc:  # noqa: BLE001 - any fast-path failure falls back to fitdecode
                if not (declined and isinstance(exc, declined)):
                    log.warning("%s: fast FIT decoder failed (%r); using fitdecode", name, exc)
                decoded = None
    if decoded is None:
        decoded = decode_with_fitdecode(data, name)
    return build_activity(decoded, content_hash, name)
