"""Local start times and the calendar-complete daily series (SCIENCE.md sections 1 and 6).

A day is the runner's *local* calendar day: the device's recorded UTC offset when the file carries one
(FIT ``activity.local_timestamp``), else the runner's IANA time zone (DST-correct).  The daily series has
one row for every local day from the first activity (or ``start``) to ``end``; a day without a run is
load 0, never a missing row.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from loadwatch.ingest.settings import Settings
from loadwatch.metrics import intensity as _intensity
from loadwatch.metrics import training_sessions as _sessions
from loadwatch.metrics.load import acwr, fitness_fatigue, monotony, strain
from loadwatch.metrics.surface import surfaces
from loadwatch.metrics.thresholds import DEFAULT_LOAD_UNIT, LOAD_UNITS, SURFACES

#: Running-dynamics channels: daily/weekly column <- activities column (per-run average).
DYNAMICS = {
    "cadence_spm": "avg_cadence_spm",
    "vertical_oscillation_mm": "avg_vertical_oscillation_mm",
    "stance_time_ms": "avg_stance_time_ms",
    "step_length_mm": "avg_step_length_mm",
}
#: Columns of the daily series that add up over a week (the weekly table sums them).
SUM_COLUMNS = (
    ("distance_km", "duration_min", "runs", "ascent_m", "load", "cross_training_min", "strength_min")
    + tuple(f"surface_{s}_km" for s in SURFACES)
    + tuple(f"intensity_{g}_min" for g in _intensity.INTENSITY_COLUMNS)
)
RUNNING = "running"


def _settings(settings) -> Settings:
    return settings if settings is not None else Settings()


def _day(value) -> pd.Timestamp:
    ts = pd.Timestamp(value)
    if ts.tzinfo is not None:
        ts = ts.tz_localize(None)
    return ts.normalize().as_unit("ns")


def local_starts(activities: pd.DataFrame, timezone: str | None = "UTC") -> pd.Series:
    """Naive local start datetime of every activity (same index as ``activities``).

    ``start_utc + utc_offset_s`` where the device recorded an offset (not NaN), else ``start_utc``
    converted to the IANA ``timezone`` (so a GPX run at 23:30 on a summer Sunday in London is Sunday).
    """
    start = pd.to_datetime(activities["start_utc"], utc=True)
    if "utc_offset_s" in activities:
        offset = pd.to_numeric(activities["utc_offset_s"], errors="coerce").astype("float64")
    else:
        offset = pd.Series(np.nan, index=activities.index)
    naive_utc = start.dt.tz_convert(None)
    by_offset = naive_utc + pd.to_timedelta(offset.fillna(0.0), unit="s")
    by_zone = start.dt.tz_convert(timezone or "UTC").dt.tz_localize(None)
    out = by_offset.where(offset.notna(), by_zone)
    return out.astype("datetime64[ns]").rename("start_local")


def _column(frame: pd.DataFrame, name: str) -> np.ndarray:
    """A numeric column as float64 (NaN where missing or not a number; all NaN when absent)."""
    if name not in frame:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def prepare_activities(activities: pd.DataFrame, timezone: str | None = "UTC") -> pd.DataFrame:
    """The store's activities frame indexed by activity id, sorted by start, without the activities kept
    but excluded from the metrics (``excluded_reason`` set), with added columns
    ``start_local`` (naive), ``date`` (local midnight), ``is_run``, ``distance_km``, ``duration_min``
    (moving time when known and positive, else elapsed time), ``surface``."""
    acts = activities
    if "excluded_reason" in acts.columns and len(acts):
        # kept and shown, but left out of every metric until the runner confirms or fixes it
        acts = acts[acts["excluded_reason"].isna().to_numpy()]
    if "id" in acts.columns:
        acts = acts.set_index("id", drop=False)
    if len(acts) and not acts["start_utc"].is_monotonic_increasing:
        acts = acts.sort_values("start_utc", kind="stable")
    start_local = local_starts(acts, timezone)
    moving = _column(acts, "moving_s")
    elapsed = _column(acts, "elapsed_s")
    sport = acts["sport"].to_numpy(dtype=object) if "sport" in acts else np.full(len(acts), None, dtype=object)
    added = pd.DataFrame({
        "start_local": start_local.to_numpy(),
        "date": start_local.dt.normalize().to_numpy(),
        "is_run": sport == RUNNING,
        "distance_km": _column(acts, "distance_m") / 1000.0,
        "duration_min": np.where(moving > 0, moving, elapsed) / 60.0,
        "surface": surfaces(acts).to_numpy(dtype=object),
    }, index=acts.index)
    acts = pd.concat([acts.drop(columns=[c for c in added.columns if c in acts.columns]), added], axis=1)
    acts.index.name = "id"
    return acts


def daily_columns() -> list[str]:
    """Every column of :func:`daily_series`, in order."""
    cols = ["distance_km", "duration_min", "runs", "long_run_km", "ascent_m", "trimp", "srpe_au", "load",
            "cross_training_min", "strength_min", "shoe_km_max"]
    cols += [f"surface_{s}_km" for s in SURFACES]
    cols += [f"intensity_{g}_min" for g in _intensity.INTENSITY_COLUMNS]
    for name in DYNAMICS:
        cols += [name, f"{name}_weight_min"]
    cols += ["acwr", "monotony", "strain", "ctl", "atl", "tsb"]
    return cols


def daily_series(activities: pd.DataFrame, hr_hist: pd.DataFrame | None = None, settings: Settings | None = None,
                 *, start=None, end=None, load_unit: str = DEFAULT_LOAD_UNIT, sessions: pd.DataFrame | None = None,
                 shoe_km: pd.Series | None = None) -> pd.DataFrame:
    """One row per local calendar day (naive ``DatetimeIndex`` named ``date``, freq D), from the first
    activity's or logged session's day (or ``start``) to the last one's (or ``end``); activities outside
    are ignored.

    Runs (sport "running") make the load; other sports and the logged ``sessions`` (``Store.sessions()``)
    only add ``cross_training_min`` / ``strength_min`` (:mod:`loadwatch.metrics.training_sessions`).  ``shoe_km``: the
    distance each run's pair of shoes had at the start of the run [km] (index activity id;
    :func:`loadwatch.metrics.shoe_distance.shoe_km_at_run`).  Columns:

    * sums over the day's runs: ``distance_km``, ``duration_min`` (moving time), ``runs``, ``ascent_m``,
      ``surface_<road|trail|track|treadmill|unknown>_km``,
      ``intensity_<very_easy|easy|moderate|hard|unknown>_min`` (unknown = runs without heart rate);
    * ``long_run_km``: the day's longest run (0 on rest days);
    * ``trimp`` [AU] (Banister, per sample) and ``srpe_au`` (RPE x minutes): sums over the day's runs
      that have the input; NaN on a day whose runs all lack it; 0 on rest days;
    * ``load``: the daily load in ``load_unit`` ("km" distance by default, "min" or "trimp");
    * ``cross_training_min``: minutes of other sports and logged cardio sessions; ``strength_min``: minutes
      of strength, core, Pilates, yoga and mobility (imported or logged; a logged session that is the same
      outing as an imported one counts once);
    * ``shoe_km_max``: the most any of the day's runs' shoes had run before it [km] (NaN when no run of
      the day has a pair);
    * running dynamics ``cadence_spm``, ``vertical_oscillation_mm``, ``stance_time_ms``,
      ``step_length_mm``: duration-weighted means of the runs' averages (NaN without data), each with
      ``<name>_weight_min`` (the minutes behind it, so weeks can be weighted the same way);
    * ``acwr`` (EWMA 7/28), ``monotony`` / ``strain`` (last 7 days), ``ctl``, ``atl``, ``tsb`` of ``load``.

    ``frame.attrs`` carries ``hr_max_bpm``, ``hr_max_estimated``, ``hr_rest_bpm``, ``hr_rest_estimated``,
    ``load_unit``, ``timezone``.
    """
    if load_unit not in LOAD_UNITS:
        raise ValueError(f"load_unit must be one of {', '.join(LOAD_UNITS)} (got {load_unit!r})")
    settings = _settings(settings)
    acts, start, end, load_start = _span(prepare_activities(activities, settings.timezone), sessions, start, end)
    runs = acts[acts["is_run"]]
    hr = _intensity.heart_rate_params(hr_hist, settings, runs=runs)
    attrs = {"hr_max_bpm": hr.hr_max_bpm, "hr_max_estimated": hr.hr_max_estimated,
             "hr_rest_bpm": hr.hr_rest_bpm, "hr_rest_estimated": hr.hr_rest_estimated,
             "load_unit": load_unit, "timezone": settings.timezone}
    if start is None or pd.isna(start):
        frame = pd.DataFrame(columns=daily_columns(), index=pd.DatetimeIndex([], name="date", freq="D"),
                             dtype="float64")
        frame.attrs.update(attrs)
        return frame
    days = pd.date_range(start, end, freq="D", name="date", unit="ns")
    sums = _DaySums(runs, days)
    # columns are gathered as numpy arrays and framed once: inserting ~40 columns one by one into a
    # DataFrame costs more than all the arithmetic
    cols = _run_columns(runs, sums, hr_hist, hr, settings)
    cols["load"] = {"km": cols["distance_km"], "min": cols["duration_min"], "trimp": cols["trimp"]}[load_unit]
    cols["strength_min"], cols["cross_training_min"] = _other_minutes(acts, sessions, days)
    cols["shoe_km_max"] = _shoe_km_max(runs, sums, shoe_km)
    cols.update(_load_ratios(cols["load"], days, load_start))
    daily = pd.DataFrame({c: cols[c] for c in daily_columns()}, index=days)
    daily.index.name = "date"
    daily.index.freq = "D"
    daily.attrs.update(attrs)
    return daily


def _span(acts: pd.DataFrame, sessions: pd.DataFrame | None, start, end):
    """``(activities, start, end, load_start)``: the activities between ``start`` and ``end`` (when given),
    and the first and last day of the series (the first and last activity's or logged session's day when
    not given).  ``load_start`` is where the load ratios begin: ``start``, else the first activity."""
    if end is not None:
        end = _day(end)
        acts = acts[acts["date"] <= end]
    if start is not None:
        start = _day(start)
        acts = acts[acts["date"] >= start]
    logged_days = None
    if sessions is not None and len(sessions):
        logged_days = pd.to_datetime(sessions["date"]).dt.normalize()
        if end is not None:
            logged_days = logged_days[logged_days <= end]
        if start is not None:
            logged_days = logged_days[logged_days >= start]
    found = [f for f in (acts["date"], logged_days) if f is not None and len(f)]
    # the load ratios start where they did without logged sessions (the first activity, or ``start``):
    # a session before the first run must not lengthen their history and so change them
    load_start = start if start is not None else (acts["date"].min() if len(acts) else None)
    if start is None:
        start = min(f.min() for f in found) if found else end
    if end is None:
        end = max(f.max() for f in found) if found else start
    return acts, start, end, load_start


class _DaySums:
    """Per-day sums of the runs' values over ``days``: numpy bincount per column (a groupby per column
    would dominate the report's time on 5 years)."""

    def __init__(self, runs: pd.DataFrame, days: pd.DatetimeIndex):
        self.n_days = len(days)
        offset = runs["date"].to_numpy(dtype="datetime64[ns]") - days[0].to_datetime64()
        self.run_day = (offset // np.timedelta64(1, "D")).astype(np.int64)
        self.n_runs = np.bincount(self.run_day, minlength=self.n_days)

    def sum(self, values) -> np.ndarray:
        values = np.asarray(values, dtype="float64")
        return np.bincount(self.run_day, weights=np.nan_to_num(values, nan=0.0), minlength=self.n_days)

    def sum_nan(self, values) -> np.ndarray:
        """Sum of the known values; NaN on a day whose runs all lack the value; 0 on rest days."""
        values = np.asarray(values, dtype="float64")
        known = np.bincount(self.run_day, weights=np.isfinite(values).astype("float64"), minlength=self.n_days)
        return np.where((known == 0) & (self.n_runs > 0), np.nan, self.sum(values))

    def max(self, values) -> np.ndarray:
        """The day's largest value (0 on rest days)."""
        out = np.zeros(self.n_days)
        np.maximum.at(out, self.run_day, np.nan_to_num(np.asarray(values, dtype="float64"), nan=0.0))
        return out


def _run_columns(runs: pd.DataFrame, sums: _DaySums, hr_hist, hr, settings: Settings) -> dict[str, np.ndarray]:
    """The columns summed over the day's runs: distance, time, count, longest, climb, TRIMP, session RPE,
    distance by surface, minutes by intensity and the running dynamics."""
    distance = runs["distance_km"].to_numpy(dtype="float64")
    duration = runs["duration_min"].to_numpy(dtype="float64")
    cols: dict[str, np.ndarray] = {
        "distance_km": sums.sum(distance), "duration_min": sums.sum(duration), "runs": sums.n_runs.astype("int64"),
        "long_run_km": sums.max(distance), "ascent_m": sums.sum(_column(runs, "ascent_m")),
        "srpe_au": sums.sum_nan(_column(runs, "rpe") * duration)}
    run_trimp = _intensity.trimp(hr_hist, hr.hr_max_bpm, hr.hr_rest_bpm, settings.sex, ids=runs.index)
    cols["trimp"] = sums.sum_nan(run_trimp.to_numpy())
    surf = runs["surface"].to_numpy(dtype=object)
    for name in SURFACES:
        cols[f"surface_{name}_km"] = sums.sum(np.where(surf == name, distance, 0.0))
    for col, values in _intensity.run_intensity(runs["duration_min"], hr_hist, hr.hr_max_bpm).items():
        cols[col] = sums.sum(values.to_numpy())
    for name, source in DYNAMICS.items():
        value = _column(runs, source)
        weight = np.where(np.isfinite(value) & (duration > 0), duration, 0.0)
        weight_sum = sums.sum(weight)
        with np.errstate(invalid="ignore", divide="ignore"):
            cols[name] = np.where(weight_sum > 0, sums.sum(value * weight) / weight_sum, np.nan)
        cols[f"{name}_weight_min"] = weight_sum
    return cols


def _other_minutes(acts: pd.DataFrame, sessions: pd.DataFrame | None,
                   days: pd.DatetimeIndex) -> tuple[np.ndarray, np.ndarray]:
    """(strength, cross-training) minutes a day from the other sports and the logged sessions."""
    others = acts[~acts["is_run"]]
    sub = others["sub_sport"] if "sub_sport" in others else pd.Series(None, index=others.index, dtype=object)
    others = others.assign(kind=[_sessions.activity_kind(sp, ss) for sp, ss in
                                 zip(others["sport"], sub, strict=True)])
    logged = None
    if sessions is not None and len(sessions):
        logged = sessions[(sessions["date"] >= days[0]) & (sessions["date"] <= days[-1])]
    return _sessions.day_minutes(logged, others, days)


def _shoe_km_max(runs: pd.DataFrame, sums: _DaySums, shoe_km: pd.Series | None) -> np.ndarray:
    """The most any of the day's runs' shoes had run before it [km]; NaN when no run of the day has a pair."""
    shoe_max = np.full(sums.n_days, -np.inf)
    if shoe_km is not None and len(runs):
        km = pd.to_numeric(shoe_km.reindex(runs.index), errors="coerce").to_numpy(dtype="float64")
        known = np.isfinite(km)
        np.maximum.at(shoe_max, sums.run_day[known], km[known])
    return np.where(np.isfinite(shoe_max), shoe_max, np.nan)


def _load_ratios(load_values: np.ndarray, days: pd.DatetimeIndex, load_start) -> dict[str, np.ndarray]:
    """ACWR, monotony, strain and CTL/ATL/TSB of the daily load, from ``load_start`` on (NaN before)."""
    load = pd.Series(load_values, index=days)
    if load_start is not None and load_start > days[0]:
        load = load[load.index >= load_start]  # days before it (logged sessions only): ratios NaN

    def on_days(series: pd.Series) -> np.ndarray:
        return series.reindex(days).to_numpy(dtype="float64")

    ff = fitness_fatigue(load)
    return {"acwr": on_days(acwr(load)), "monotony": on_days(monotony(load)), "strain": on_days(strain(load)),
            **{name: on_days(ff[name]) for name in ("ctl", "atl", "tsb")}}
