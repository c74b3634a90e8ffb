"""Local start times and the calendar-complete daily series (SCIENCE.md sections 1 and 6).

A day is the runner's *local* calendar day: the device's recorded UTC offset when the file carries one
(FIT ``activity.local_timestamp``), else the runner's IANA time zone (DST-correct).  The daily series has
one row for every local day from the first activity (or ``start``) to ``end``; a day without a run is
load 0, never a missing row.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ingest.settings import Settings
from metrics import intensity as _intensity
from metrics.load import acwr, fitness_fatigue, monotony, strain
from metrics.surface import surface_km, surfaces
from metrics.thresholds import DEFAULT_LOAD_UNIT, LOAD_UNITS, SURFACES

#: Running-dynamics channels: daily/weekly column <- activities column (per-run average).
DYNAMICS = {
    "cadence_spm": "avg_cadence_spm",
    "vertical_oscillation_mm": "avg_vertical_oscillation_mm",
    "stance_time_ms": "avg_stance_time_ms",
    "step_length_mm": "avg_step_length_mm",
}
#: Columns of the daily series that add up over a week (the weekly table sums them).
SUM_COLUMNS = (
    ("distance_km", "duration_min", "runs", "ascent_m", "load", "cross_training_min")
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


def _duration_min(acts: pd.DataFrame) -> pd.Series:
    """Moving time [min] when known and positive, else elapsed time."""
    moving = pd.to_numeric(acts.get("moving_s", np.nan), errors="coerce")
    elapsed = pd.to_numeric(acts.get("elapsed_s", np.nan), errors="coerce")
    moving = pd.Series(moving, index=acts.index, dtype="float64")
    elapsed = pd.Series(elapsed, index=acts.index, dtype="float64")
    return moving.where(moving > 0, elapsed) / 60.0


def prepare_activities(activities: pd.DataFrame, timezone: str | None = "UTC") -> pd.DataFrame:
    """The store's activities frame indexed by activity id, sorted by start, with added columns
    ``start_local`` (naive), ``date`` (local midnight), ``is_run``, ``distance_km``, ``duration_min``,
    ``surface``."""
    acts = activities
    if "id" in acts.columns:
        acts = acts.set_index("id", drop=False)
    acts = acts.copy()
    acts.index.name = "id"
    if len(acts):
        acts = acts.sort_values("start_utc", kind="stable")
    acts["start_local"] = local_starts(acts, timezone)
    acts["date"] = acts["start_local"].dt.normalize()
    acts["is_run"] = acts["sport"].astype("object").eq(RUNNING) if "sport" in acts else False
    dist_m = pd.to_numeric(acts.get("distance_m", np.nan), errors="coerce")
    acts["distance_km"] = pd.Series(dist_m, index=acts.index, dtype="float64") / 1000.0
    acts["duration_min"] = _duration_min(acts)
    acts["surface"] = surfaces(acts) if len(acts) else pd.Series([], dtype="object")
    return acts


def daily_columns() -> list[str]:
    """Every column of :func:`daily_series`, in order."""
    cols = ["distance_km", "duration_min", "runs", "long_run_km", "ascent_m", "trimp", "srpe_au", "load",
            "cross_training_min"]
    cols += [f"surface_{s}_km" for s in SURFACES]
    cols += [f"intensity_{g}_min" for g in _intensity.INTENSITY_COLUMNS]
    for name in DYNAMICS:
        cols += [name, f"{name}_weight_min"]
    cols += ["acwr", "monotony", "strain", "ctl", "atl", "tsb"]
    return cols


def daily_series(activities: pd.DataFrame, hr_hist: pd.DataFrame | None = None, settings: Settings | None = None,
                 *, start=None, end=None, load_unit: str = DEFAULT_LOAD_UNIT) -> pd.DataFrame:
    """One row per local calendar day (naive ``DatetimeIndex`` named ``date``, freq D), from the first
    activity's day (or ``start``) to the last activity's day (or ``end``); activities outside are ignored.

    Runs (sport "running") make the load; other sports only add ``cross_training_min``.  Columns:

    * sums over the day's runs: ``distance_km``, ``duration_min`` (moving time), ``runs``, ``ascent_m``,
      ``surface_<road|trail|track|treadmill|unknown>_km``,
      ``intensity_<very_easy|easy|moderate|hard|unknown>_min`` (unknown = runs without heart rate);
    * ``long_run_km``: the day's longest run (0 on rest days);
    * ``trimp`` [AU] (Banister, per sample) and ``srpe_au`` (RPE x minutes): sums over the day's runs
      that have the input; NaN on a day whose runs all lack it; 0 on rest days;
    * ``load``: the daily load in ``load_unit`` ("km" distance by default, "min" or "trimp");
    * ``cross_training_min``: minutes of other sports;
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
    acts = prepare_activities(activities, settings.timezone)
    if end is not None:
        end = _day(end)
        acts = acts[acts["date"] <= end]
    if start is not None:
        start = _day(start)
        acts = acts[acts["date"] >= start]
    if start is None:
        start = acts["date"].min() if len(acts) else end
    if end is None:
        end = acts["date"].max() if len(acts) else start
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

    per_run = pd.DataFrame(index=runs.index)
    per_run["date"] = runs["date"].to_numpy()
    per_run["distance_km"] = runs["distance_km"]
    per_run["duration_min"] = runs["duration_min"]
    per_run["runs"] = 1
    per_run["ascent_m"] = pd.to_numeric(runs.get("ascent_m", np.nan), errors="coerce")
    per_run["trimp"] = _intensity.trimp(hr_hist, hr.hr_max_bpm, hr.hr_rest_bpm, settings.sex, ids=runs.index)
    rpe = pd.to_numeric(runs["rpe"], errors="coerce") if "rpe" in runs else np.nan
    per_run["srpe_au"] = rpe * runs["duration_min"]
    per_run = per_run.join(surface_km(runs["distance_km"], runs["surface"]))
    per_run = per_run.join(_intensity.run_intensity(runs["duration_min"], hr_hist, hr.hr_max_bpm))
    for name, source in DYNAMICS.items():
        value = pd.to_numeric(runs[source], errors="coerce") if source in runs else pd.Series(np.nan, runs.index)
        weight = runs["duration_min"].where(value.notna() & (runs["duration_min"] > 0), 0.0).fillna(0.0)
        per_run[f"{name}_x_min"] = (value * weight).fillna(0.0)
        per_run[f"{name}_weight_min"] = weight

    grouped = per_run.groupby("date")
    sum_cols = [c for c in per_run.columns if c not in ("date", "trimp", "srpe_au", "ascent_m")]
    daily = grouped[sum_cols].sum().reindex(days, fill_value=0.0)
    daily["long_run_km"] = grouped["distance_km"].max().reindex(days).fillna(0.0)
    daily["ascent_m"] = grouped["ascent_m"].sum(min_count=1).reindex(days).fillna(0.0)
    for col in ("trimp", "srpe_au"):
        # NaN on days whose runs all lack the input; rest days are a true 0
        daily[col] = grouped[col].sum(min_count=1).reindex(days)
        daily[col] = daily[col].where(daily["runs"] > 0, 0.0)
    others = acts[~acts["is_run"]]
    daily["cross_training_min"] = (others.groupby("date")["duration_min"].sum()
                                   .reindex(days).fillna(0.0))
    for name in DYNAMICS:
        weight = daily[f"{name}_weight_min"]
        daily[name] = daily.pop(f"{name}_x_min") / weight.where(weight > 0)
    daily["runs"] = daily["runs"].astype("int64")
    daily["load"] = {"km": daily["distance_km"], "min": daily["duration_min"], "trimp": daily["trimp"]}[load_unit]
    daily["acwr"] = acwr(daily["load"])
    daily["monotony"] = monotony(daily["load"])
    daily["strain"] = strain(daily["load"])
    daily = daily.join(fitness_fatigue(daily["load"]))
    daily = daily[daily_columns()]
    daily.index.name = "date"
    daily.index.freq = "D"
    daily.attrs.update(attrs)
    return daily
