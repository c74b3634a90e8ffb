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
    #: Total descent [m], counted like the climb (the file's own total, else from the elevation samples).
    descent_m: float = float("nan")
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
    #: Why the activity is kept but left out of the metrics (impossible totals, sport uncertain), in plain
    #: words; None when it counts.  Set by :func:`ingest.plausible.check`.
    excluded_reason: str | None = None
    #: The activity's name (from an archive's metadata, e.g. Strava's Activity Name); None when unnamed.
    name: str | None = None
    #: Surface the file or its archive says ("trail", "treadmill"...); None when it says nothing.
    surface: str | None = None
    #: Seconds spent at each whole bpm (length HR_BINS); None when the file has no heart rate.
    hr_seconds_by_bpm: np.ndarray | None = field(default=None, repr=False)

    def as_row(self) -> dict:
        """A plain dict of every field (the histogram stays a numpy array)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


_COLUMN_INDEX: dict[str, int] = {name: j for j, name in enumerate(SAMPLE_COLUMNS)}


@dataclass(frozen=True, eq=False)
class SampleBlock:
    """The samples as plain numpy, the shape the import's hot path works on (a pandas frame costs more to
    build than the whole FIT decode): ``t_ns`` sorted, unique Unix nanoseconds (int64) and ``values``, one
    float64 row per time with the columns of :data:`SAMPLE_COLUMNS` (NaN where a channel has no value).
    Treat both as read-only: :meth:`to_frame` shares their memory."""

    t_ns: np.ndarray
    values: np.ndarray

    def __len__(self) -> int:
        return len(self.t_ns)

    @property
    def empty(self) -> bool:
        return len(self.t_ns) == 0

    def column(self, name: str) -> np.ndarray:
        """One channel (a view; do not write to it)."""
        return self.values[:, _COLUMN_INDEX[name]]

    def t_s(self) -> np.ndarray:
        """Times as float Unix seconds."""
        return self.t_ns.astype("float64") / 1e9

    def take(self, rows) -> SampleBlock:
        """The rows selected by a boolean mask, an index array or a slice."""
        return SampleBlock(self.t_ns[rows], self.values[rows])

    def with_column(self, name: str, values) -> SampleBlock:
        """A copy with one channel replaced."""
        block = self.values.copy()
        block[:, _COLUMN_INDEX[name]] = np.asarray(values, dtype="float64")
        return SampleBlock(self.t_ns, block)

    def to_frame(self) -> pd.DataFrame:
        """The canonical samples frame (see the module docstring)."""
        index = pd.DatetimeIndex(self.t_ns.view("datetime64[ns]"), name="time_utc").tz_localize("UTC")
        return pd.DataFrame(self.values, index=index, columns=list(SAMPLE_COLUMNS), copy=False)

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> SampleBlock:
        """The block of a samples frame (columns it lacks are NaN)."""
        n = len(frame)
        t_ns = frame.index.as_unit("ns").asi8.astype("int64") if n else np.zeros(0, dtype="int64")
        if all(c in frame.columns for c in SAMPLE_COLUMNS):
            values = frame[list(SAMPLE_COLUMNS)].to_numpy(dtype="float64", na_value=np.nan)
        else:
            values = np.full((n, len(SAMPLE_COLUMNS)), np.nan)
            for j, c in enumerate(SAMPLE_COLUMNS):
                if c in frame.columns:
                    values[:, j] = frame[c].to_numpy(dtype="float64", na_value=np.nan)
        return cls(t_ns, values)


def as_block(samples) -> SampleBlock:
    """``samples`` (a :class:`SampleBlock` or a samples frame) as a block."""
    return samples if isinstance(samples, SampleBlock) else SampleBlock.from_frame(samples)


class Activity:
    """A :class:`Summary` plus its samples.  Readers hand over a :class:`SampleBlock` (``block=``); the
    pandas frame (``samples``, see :func:`make_samples`) is built only when something asks for it, so an
    import, which needs only the summary and a few figures, never builds one."""

    __slots__ = ("summary", "_samples", "_block")

    def __init__(self, summary: Summary, samples: pd.DataFrame | None = None, *, block: SampleBlock | None = None):
        self.summary = summary
        self._samples = samples
        self._block = block

    @property
    def samples(self) -> pd.DataFrame:
        if self._samples is None:
            self._samples = self._block.to_frame() if self._block is not None else empty_samples()
        return self._samples

    @property
    def block(self) -> SampleBlock:
        if self._block is None:
            self._block = SampleBlock.from_frame(self._samples) if self._samples is not None else empty_block()
        return self._block

    def __repr__(self) -> str:
        return f"Activity({self.summary!r}, {len(self.block)} samples)"


def empty_block() -> SampleBlock:
    return SampleBlock(np.zeros(0, dtype="int64"), np.full((0, len(SAMPLE_COLUMNS)), np.nan))


def empty_samples() -> pd.DataFrame:
    return make_samples(pd.DatetimeIndex([], tz="UTC"), {})


def make_samples(time_utc, channels: Mapping[str, object]) -> pd.DataFrame:
    """Build the canonical samples frame.

    ``time_utc``: an int64 array of Unix nanoseconds, a ``datetime64`` array, or anything
    :func:`pandas.to_datetime` turns into instants (naive values are taken as UTC).  ``channels``: column
    name -> array-like aligned with ``time_utc``; names must be in :data:`SAMPLE_COLUMNS`, missing ones
    become all-NaN.  Rows are sorted by time and duplicate timestamps keep their first row.
    """
    return make_block(time_utc, channels).to_frame()


def make_block(time_utc, channels: Mapping[str, object]) -> SampleBlock:
    """:func:`make_samples` without pandas: the same rows, sorted and deduplicated, as a :class:`SampleBlock`."""
    unknown = set(channels) - set(SAMPLE_COLUMNS)
    if unknown:
        raise KeyError(f"not canonical sample columns: {sorted(unknown)}")
    t_ns = _utc_ns(time_utc)
    n = len(t_ns)
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
    if n > 1:
        step = np.diff(t_ns)
        if (step < 0).any():
            order = np.argsort(t_ns, kind="stable")
            t_ns, block = t_ns[order], block[order]
            step = np.diff(t_ns)
        if (step == 0).any():
            first = np.concatenate([[True], step != 0])  # sorted: a repeat follows its first row
            t_ns, block = t_ns[first], block[first]
    return SampleBlock(t_ns, block)


def _utc_ns(time_utc) -> np.ndarray:
    """Unix nanoseconds (int64) of instants given as int64 ns, datetime64 (naive = UTC) or anything
    :func:`pandas.to_datetime` reads."""
    arr = np.asarray(time_utc) if not isinstance(time_utc, pd.Index) else None
    if arr is not None and arr.dtype.kind in "iu":
        return arr.astype("int64")
    if arr is not None and arr.dtype.kind == "M":
        return arr.astype("datetime64[ns]").view("int64")
    return pd.DatetimeIndex(pd.to_datetime(time_utc, utc=True)).as_unit("ns").asi8.astype("int64")


def pause_gap_s(intervals_s: np.ndarray) -> float:
    """The gap [s] beyond which a pause starts, for a file whose samples are ``intervals_s`` apart:
    :data:`PAUSE_GAP_FACTOR` times the median positive interval, never below :data:`MAX_SAMPLE_GAP_S`
    and never above :data:`MAX_PAUSE_GAP_S`.  1 s recording: 10 s; a point every 20 s: 60 s."""
    dt = np.asarray(intervals_s, dtype="float64")
    dt = dt[np.isfinite(dt) & (dt > 0)]
    if dt.size == 0:
        return MAX_SAMPLE_GAP_S
    return float(min(max(MAX_SAMPLE_GAP_S, PAUSE_GAP_FACTOR * float(np.median(dt))), MAX_PAUSE_GAP_S))


def sample_intervals_s(samples: pd.DataFrame | SampleBlock) -> np.ndarray:
    """Seconds each sample stands for: the time to the next sample, 0 for the last one, and 0 where the
    gap is a pause (longer than :func:`pause_gap_s` of the file's own intervals)."""
    t = as_block(samples).t_s()
    if len(t) == 0:
        return np.zeros(0)
    dt = np.diff(t, append=t[-1])
    dt[(dt < 0) | (dt > pause_gap_s(dt[:-1]))] = 0.0
    return dt


def hr_histogram(samples: pd.DataFrame | SampleBlock) -> np.ndarray | None:
    """Seconds spent at each whole bpm (index = bpm, 0..255), or None without heart rate.

    TRIMP and zone minutes are sums over samples of f(HR) * dt, so they can be recomputed exactly from
    this histogram for any HR_max / HR_rest the runner sets later (SCIENCE.md sections 6-7).
    """
    block = as_block(samples)
    return _hr_histogram(block.column("heart_rate_bpm"), sample_intervals_s(block))


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


def climb_m(elevation_m: np.ndarray, min_step_m: float = 1.0) -> tuple[float, float]:
    """(total climb, total descent) [m], each with the same small hysteresis (a change counts once it
    reaches ``min_step_m`` from the last turning point), so GPS/barometer noise is neither; NaN for both
    with fewer than two elevations."""
    e = elevation_m[np.isfinite(elevation_m)]
    if e.size < 2:
        return float("nan"), float("nan")
    values = e.tolist()  # plain floats: the sequential hysteresis loop is 5x faster than on numpy scalars
    up = down = 0.0
    low = high = values[0]
    for v in values[1:]:
        if v - low >= min_step_m:
            up += v - low
            low = v
        elif v < low:
            low = v
        if high - v >= min_step_m:
            down += high - v
            high = v
        elif v > high:
            high = v
    return up, down


def summarize_samples(samples: pd.DataFrame | SampleBlock, *, with_ascent: bool = True) -> dict:
    """Summary figures derived from samples alone (used when a file carries no totals of its own).

    Returns keys ``start_utc``, ``elapsed_s``, ``moving_s``, ``distance_m``, ``ascent_m``, ``descent_m``,
    ``avg_hr_bpm``, ``max_hr_bpm``, ``avg_cadence_spm``, the running-dynamics averages and
    ``hr_seconds_by_bpm``.  Averages are over moving samples; a missing channel gives NaN.
    ``with_ascent=False`` skips the (sequential, slowest) climb and descent sums when the file carries its
    own totals.
    """
    samples = as_block(samples)
    if samples.empty:
        raise ValueError("no samples")
    t_ns = samples.t_ns
    dt = sample_intervals_s(samples)
    col = {name: samples.values[:, j] for j, name in enumerate(SAMPLE_COLUMNS)}
    speed, dist = col["speed_m_s"], col["distance_m"]
    if np.isfinite(speed).any():
        moving = np.where(np.isfinite(speed), speed >= MOVING_SPEED_M_S, True)
    elif np.isfinite(dist).any():
        step = np.diff(dist, append=np.nan)
        with np.errstate(divide="ignore", invalid="ignore"):
            moving = ~(np.isfinite(step) & (step / np.where(dt > 0, dt, np.nan) < MOVING_SPEED_M_S))
    else:
        moving = np.ones(len(samples), dtype=bool)
    ascent, descent = climb_m(col["elevation_m"]) if with_ascent else (float("nan"), float("nan"))
    return {
        "start_utc": pd.Timestamp(int(t_ns[0]), unit="ns", tz="UTC"),
        "elapsed_s": float(t_ns[-1] - t_ns[0]) / 1e9,
        "moving_s": float(dt[moving].sum()),
        "distance_m": _distance_covered_m(dist),
        "ascent_m": ascent,
        "descent_m": descent,
        "avg_hr_bpm": _nanmean(col["heart_rate_bpm"][moving]),
        "max_hr_bpm": _nanmax(col["heart_rate_bpm"]),
        "avg_cadence_spm": _nanmean(col["cadence_spm"][moving]),
        "avg_vertical_oscillation_mm": _nanmean(col["vertical_oscillation_mm"][moving]),
        "avg_stance_time_ms": _nanmean(col["stance_time_ms"][moving]),
        "avg_step_length_mm": _nanmean(col["step_length_mm"][moving]),
        "hr_seconds_by_bpm": _hr_histogram(col["heart_rate_bpm"], dt),
    }


#: The totals a :class:`Summary` takes from a file's own figures when it has them, else from its samples.
SUMMARY_TOTALS: tuple[str, ...] = (
    "elapsed_s", "moving_s", "distance_m", "ascent_m", "descent_m", "avg_hr_bpm", "max_hr_bpm",
    "avg_cadence_spm", "avg_vertical_oscillation_mm", "avg_stance_time_ms", "avg_step_length_mm",
)


def reader_summary(from_samples: Mapping, file_totals: Mapping | None = None, **fields) -> Summary:
    """The :class:`Summary` a reader hands over: each of :data:`SUMMARY_TOTALS` is the file's own figure
    (``file_totals``, where finite) else the samples' (``from_samples``, as :func:`summarize_samples`
    gives, empty without samples; NaN when neither has it); ``hr_seconds_by_bpm`` from the samples; every
    other field (``id``, ``source``, ``format``, ``sport``, ``start_utc``...) as given."""
    file_totals = file_totals or {}
    totals = {}
    for key in SUMMARY_TOTALS:
        own = file_totals.get(key)
        totals[key] = float(own) if own is not None and np.isfinite(own) else \
            float(from_samples.get(key, float("nan")))
    return Summary(**totals, hr_seconds_by_bpm=from_samples.get("hr_seconds_by_bpm"), **fields)
