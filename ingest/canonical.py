"""The one canonical activity shape every reader returns.

An :class:`Activity` is a :class:`Summary` (one row in the store) plus ``samples``: a DataFrame indexed by
a tz-aware UTC :class:`pandas.DatetimeIndex` named ``time_utc``, sorted, without duplicate timestamps,
with exactly the columns of :data:`SAMPLE_COLUMNS` (float64).  A channel the file does not carry is an
all-NaN column, never zeros.  Unit conversions (FIT semicircles, scales, strides -> steps) happen once, in
the reader, before this shape is built.

Units live in the names: metres, seconds, beats per minute, steps per minute, degrees, millimetres.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

#: Sample channels, in order.  Cadence is in *steps* per minute (FIT running cadence is strides/min:
#: steps = 2 * (cadence + fractional_cadence / 128), SCIENCE.md section 9).
SAMPLE_COLUMNS: tuple[str, ...] = (
    "distance_m",
    "speed_m_s",
    "elevation_m",
    "heart_rate_bpm",
    "cadence_spm",
    "lat_deg",
    "lon_deg",
    "vertical_oscillation_mm",
    "stance_time_ms",
    "step_length_mm",
)

#: The shortest gap between samples that can be a pause [s].  A pause adds to elapsed time only, never to
#: moving time, heart-rate time or TRIMP.  Watches at 1 s recording pause on anything longer; a file
#: written less often pauses later (see :func:`pause_gap_s`).
MAX_SAMPLE_GAP_S: float = 10.0

#: A gap is a pause when it is longer than this many times the file's own median sample interval (and
#: longer than :data:`MAX_SAMPLE_GAP_S`).  "Smart recording" watches and phone apps write a point every
#: 1-30 s, so a fixed 10 s rule would call every 20 s step of a steady run a pause and lose its heart-rate
#: time and TRIMP.
PAUSE_GAP_FACTOR: float = 3.0

#: A gap longer than this is a pause whatever the file's sampling [s] (the GPX reader's longest moving
#: interval: a lost signal or a stopped watch, not running).
MAX_PAUSE_GAP_S: float = 120.0

#: Below this speed a sample interval is not "moving" (a slow walk is about 1 m/s).
MOVING_SPEED_M_S: float = 0.3

#: Heart-rate histogram size: seconds spent at each whole bpm from 0 to 255.
HR_BINS: int = 256

#: Canonical sport names.  Readers map their format's names onto these; anything else is "other".
SPORTS: tuple[str, ...] = (
    "running",
    "cycling",
    "swimming",
    "walking",
    "hiking",
    "elliptical",
    "rowing",
    "other",
)


@dataclass
class Summary:
    """One activity's summary: the row the store keeps.

    ``id`` is the sha256 (hex) of the original file's bytes.  ``utc_offset_s`` is the local-time offset
    the device recorded (FIT ``activity.local_timestamp - timestamp``); ``None`` for GPX/TCX, whose local
    day then comes from the runner's configured time zone.
    """

    id: str
    source: str
    format: str  # "fit" | "gpx" | "tcx"
    sport: str  # one of SPORTS
    sub_sport: str | None  # FIT sub_sport name ("street", "trail", "treadmill"...), None when unknown
    start_utc: pd.Timestamp  # tz-aware UTC
    utc_offset_s: float | None
    elapsed_s: float
    moving_s: float
    distance_m: float
    ascent_m: float = float("nan")
    avg_hr_bpm: float = float("nan")
    max_hr_bpm: float = float("nan")
    avg_cadence_spm: float = float("nan")
    avg_vertical_oscillation_mm: float = float("nan")
    avg_stance_time_ms: float = float("nan")
    avg_step_length_mm: float = float("nan")
    device: str | None = None
    #: True when the reader salvaged only the readable part of a damaged file.
    partial: bool = False
    #: True when the sport was inferred (e.g. from speed) because the file did not say.
    sport_inferred: bool = False
    #: Plain-words notes a runner should see about this file ("cut short after 41 min; 2,010 of about
    #: 3,300 points kept", "a GPS jump of 1,500 km was left out of the distance").  Never internal codes.
    warnings: tuple[str, ...] = ()
    #: Seconds spent at each whole bpm (length HR_BINS); None when the file has no heart rate.
    hr_seconds_by_bpm: np.ndarray | None = field(default=None, repr=False)

    def as_row(self) -> dict:
        """A plain dict of every field (the histogram stays a numpy array)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


@dataclass
class Activity:
    summary: Summary
    samples: pd.DataFrame


def empty_samples() -> pd.DataFrame:
    return make_samples(pd.DatetimeIndex([], tz="UTC"), {})


def make_samples(time_utc, channels: Mapping[str, object]) -> pd.DataFrame:
    """Build the canonical samples frame.

    ``time_utc``: an int64 array of Unix nanoseconds, a ``datetime64`` array, or anything
    :func:`pandas.to_datetime` turns into instants (naive values are taken as UTC).  ``channels``: column
    name -> array-like aligned with ``time_utc``; names must be in :data:`SAMPLE_COLUMNS`, missing ones
    become all-NaN.  Rows are sorted by time and duplicate timestamps keep their first row.
    """
    unknown = set(channels) - set(SAMPLE_COLUMNS)
    if unknown:
        raise KeyError(f"not canonical sample columns: {sorted(unknown)}")
    index = _utc_index(time_utc)
    n = len(index)
    # One float64 block: cheap to build and to slice column by column.
    block = np.full((n, len(SAMPLE_COLUMNS)), np.nan)
    for j, col in enumerate(SAMPLE_COLUMNS):
        values = channels.get(col)
        if values is None:
            continue
        values = np.asarray(values, dtype="float64")
        if values.shape != (n,):
            raise ValueError(f"column {col} has {values.shape} values for {n} timestamps")
        block[:, j] = values
    frame = pd.DataFrame(block, index=index, columns=list(SAMPLE_COLUMNS))
    if not frame.index.is_monotonic_increasing:
        frame = frame.sort_index(kind="stable")
    if frame.index.has_duplicates:
        frame = frame[~frame.index.duplicated(keep="first")]
    return frame


def _utc_index(time_utc) -> pd.DatetimeIndex:
    arr = np.asarray(time_utc) if not isinstance(time_utc, pd.Index) else None
    if arr is not None and arr.dtype.kind in "iu":
        values = arr.astype("int64").view("datetime64[ns]")
        return pd.DatetimeIndex(values, name="time_utc").tz_localize("UTC")
    if arr is not None and arr.dtype.kind == "M":
        return pd.DatetimeIndex(arr.astype("datetime64[ns]"), name="time_utc").tz_localize("UTC")
    return pd.DatetimeIndex(pd.to_datetime(time_utc, utc=True), name="time_utc").as_unit("ns")


def pause_gap_s(intervals_s: np.ndarray) -> float:
    """The gap [s] beyond which a pause starts, for a file whose samples are ``intervals_s`` apart:
    :data:`PAUSE_GAP_FACTOR` times the median positive interval, never below :data:`MAX_SAMPLE_GAP_S`
    and never above :data:`MAX_PAUSE_GAP_S`.  1 s recording: 10 s; a point every 20 s: 60 s."""
    dt = np.asarray(intervals_s, dtype="float64")
    dt = dt[np.isfinite(dt) & (dt > 0)]
    if dt.size == 0:
        return MAX_SAMPLE_GAP_S
    return float(min(max(MAX_SAMPLE_GAP_S, PAUSE_GAP_FACTOR * float(np.median(dt))), MAX_PAUSE_GAP_S))


def sample_intervals_s(samples: pd.DataFrame) -> np.ndarray:
    """Seconds each sample stands for: the time to the next sample, 0 for the last one, and 0 where the
    gap is a pause (longer than :func:`pause_gap_s` of the file's own intervals)."""
    # as_unit: pandas 3 may hold microseconds; asi8 is in the index's own unit
    t = samples.index.as_unit("ns").asi8.astype("float64") / 1e9
    if len(t) == 0:
        return np.zeros(0)
    dt = np.diff(t, append=t[-1])
    dt[(dt < 0) | (dt > pause_gap_s(dt[:-1]))] = 0.0
    return dt


def hr_histogram(samples: pd.DataFrame) -> np.ndarray | None:
    """Seconds spent at each whole bpm (index = bpm, 0..255), or None without heart rate.

    TRIMP and zone minutes are sums over samples of f(HR) * dt, so they can be recomputed exactly from
    this histogram for any HR_max / HR_rest the runner sets later (SCIENCE.md sections 6-7).
    """
    return _hr_histogram(samples["heart_rate_bpm"].to_numpy(), sample_intervals_s(samples))


def _hr_histogram(hr: np.ndarray, dt: np.ndarray) -> np.ndarray | None:
    ok = np.isfinite(hr) & (hr > 0)
    if not ok.any():
        return None
    bpm = np.clip(np.rint(hr[ok]), 0, HR_BINS - 1).astype(np.int64)
    return np.bincount(bpm, weights=dt[ok], minlength=HR_BINS).astype("float64")


def _nanmean(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(finite.mean()) if finite.size else float("nan")


def _nanmax(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(finite.max()) if finite.size else float("nan")


def _distance_covered_m(distance_m: np.ndarray) -> float:
    """Cumulative distance at the end minus at the start [m]; NaN without a distance channel."""
    finite = distance_m[np.isfinite(distance_m)]
    return float(finite.max() - finite[0]) if finite.size else float("nan")


def positive_ascent_m(elevation_m: np.ndarray, min_step_m: float = 1.0) -> float:
    """Total climb [m] with a small hysteresis so GPS/barometer noise is not counted as climbing."""
    e = elevation_m[np.isfinite(elevation_m)]
    if e.size < 2:
        return float("nan")
    values = e.tolist()  # plain floats: the sequential hysteresis loop is 5x faster than on numpy scalars
    total = 0.0
    ref = values[0]
    for v in values[1:]:
        if v - ref >= min_step_m:
            total += v - ref
            ref = v
        elif v < ref:
            ref = v
    return total


def summarize_samples(samples: pd.DataFrame, *, with_ascent: bool = True) -> dict:
    """Summary figures derived from samples alone (used when a file carries no totals of its own).

    Returns keys ``start_utc``, ``elapsed_s``, ``moving_s``, ``distance_m``, ``ascent_m``,
    ``avg_hr_bpm``, ``max_hr_bpm``, ``avg_cadence_spm``, the running-dynamics averages and
    ``hr_seconds_by_bpm``.  Averages are over moving samples; a missing channel gives NaN.
    ``with_ascent=False`` skips the (sequential, slowest) climb sum when the file carries its own total.
    """
    if samples.empty:
        raise ValueError("no samples")
    t = samples.index
    dt = sample_intervals_s(samples)
    block = samples[list(SAMPLE_COLUMNS)].to_numpy(dtype="float64")  # one copy, then plain column views
    col = {name: block[:, j] for j, name in enumerate(SAMPLE_COLUMNS)}
    speed, dist = col["speed_m_s"], col["distance_m"]
    if np.isfinite(speed).any():
        moving = np.where(np.isfinite(speed), speed >= MOVING_SPEED_M_S, True)
    elif np.isfinite(dist).any():
        step = np.diff(dist, append=np.nan)
        with np.errstate(divide="ignore", invalid="ignore"):
            moving = ~(np.isfinite(step) & (step / np.where(dt > 0, dt, np.nan) < MOVING_SPEED_M_S))
    else:
        moving = np.ones(len(samples), dtype=bool)
    return {
        "start_utc": t[0],
        "elapsed_s": float((t[-1] - t[0]).total_seconds()),
        "moving_s": float(dt[moving].sum()),
        "distance_m": _distance_covered_m(dist),
        "ascent_m": positive_ascent_m(col["elevation_m"]) if with_ascent else float("nan"),
        "avg_hr_bpm": _nanmean(col["heart_rate_bpm"][moving]),
        "max_hr_bpm": _nanmax(col["heart_rate_bpm"]),
        "avg_cadence_spm": _nanmean(col["cadence_spm"][moving]),
        "avg_vertical_oscillation_mm": _nanmean(col["vertical_oscillation_mm"][moving]),
        "avg_stance_time_ms": _nanmean(col["stance_time_ms"][moving]),
        "avg_step_length_mm": _nanmean(col["step_length_mm"][moving]),
        "hr_seconds_by_bpm": _hr_histogram(col["heart_rate_bpm"], dt),
    }
