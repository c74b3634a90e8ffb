"""The weekly table: calendar weeks of the daily series (SCIENCE.md sections 1, 3-6, 9).

A week runs Monday-Sunday local (ISO) unless the runner chooses Sunday.  Sums add the week's days;
ratios that describe a state (ACWR, monotony, strain, CTL/ATL/TSB) are the daily value on the week's last
day, or on ``as_of`` for the current week.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from loadwatch.metrics.daily import DYNAMICS, SUM_COLUMNS, daily_columns
from loadwatch.metrics.load import change_pct
from loadwatch.metrics.thresholds import DEFAULT_WEEK_START

WEEK_STARTS = {"monday": 0, "sunday": 6}
LAST_DAY_COLUMNS = ("acwr", "monotony", "strain", "ctl", "atl", "tsb")


def weekly_columns() -> list[str]:
    """Every column of :func:`weekly_table`, in order."""
    return (["distance_km", "duration_min", "runs", "long_run_km", "ascent_m", "load", "trimp", "srpe_au",
             "change_pct", "acwr", "monotony", "strain", "ctl", "atl", "tsb", "cross_training_min", "strength_min",
             "shoe_km_max"]
            + [c for c in SUM_COLUMNS if c.startswith(("surface_", "intensity_"))]
            + list(DYNAMICS) + ["days", "partial_week"])


def week_starts(dates: pd.DatetimeIndex | pd.Series, week_start: str = DEFAULT_WEEK_START):
    """The first day (local midnight) of the week each date falls in."""
    if week_start not in WEEK_STARTS:
        raise ValueError(f"week_start must be one of {', '.join(WEEK_STARTS)} (got {week_start!r})")
    idx = pd.DatetimeIndex(dates).normalize()
    shift = (idx.day_of_week - WEEK_STARTS[week_start]) % 7
    out = idx - pd.to_timedelta(np.asarray(shift), unit="D")
    return out if isinstance(dates, pd.DatetimeIndex) else pd.Series(out, index=dates.index)


def weekly_table(daily: pd.DataFrame, week_start: str = DEFAULT_WEEK_START, as_of=None) -> pd.DataFrame:
    """One row per calendar week of ``daily`` (output of :func:`loadwatch.metrics.daily.daily_series`), indexed
    by ``week_start`` (naive midnight ``DatetimeIndex``), oldest first, up to ``as_of`` (default: the
    daily series' last day; later days are ignored).

    Columns (:func:`weekly_columns`): sums ``distance_km``, ``duration_min``, ``runs``, ``ascent_m``,
    ``load``, ``cross_training_min``, ``strength_min``, ``surface_<s>_km``, ``intensity_<g>_min``; ``long_run_km`` (max);
    ``trimp`` / ``srpe_au`` (sum over runs that have the input; NaN for a week with runs none of which has
    it; 0 without runs); ``shoe_km_max`` (max: the most-worn pair a run of the week was in [km], NaN
    without one); ``change_pct`` of ``load`` vs the previous week (NaN when that is 0 or absent);
    ``acwr``, ``monotony``, ``strain``, ``ctl``, ``atl``, ``tsb`` (value on the week's last day or
    ``as_of``; for a partial week monotony/strain describe the 7 days ending ``as_of``); running dynamics
    ``cadence_spm``, ``vertical_oscillation_mm``, ``stance_time_ms``, ``step_length_mm``
    (duration-weighted means of the runs' averages, NaN when none); ``days`` (days of the series in the
    week) and ``partial_week`` (the week is not over at ``as_of``).
    """
    if as_of is not None:
        as_of = pd.Timestamp(as_of).normalize()
        daily = daily[daily.index <= as_of]
    elif len(daily):
        as_of = daily.index[-1]
    if daily.empty:
        return pd.DataFrame(columns=weekly_columns(), index=pd.DatetimeIndex([], name="week_start"),
                            dtype="float64")
    missing = [c for c in daily_columns() if c not in daily]
    if missing:
        raise KeyError(f"daily frame lacks columns {missing}; build it with loadwatch.metrics.daily.daily_series")
    daily = daily.sort_index()
    first = week_starts(daily.index[:1], week_start)[0]
    # integer week number of every day; numpy bincount instead of ~30 groupby reductions
    week_no = ((daily.index - first) // pd.Timedelta(days=7)).to_numpy().astype(np.int64)
    weeks, first_pos, days = np.unique(week_no, return_index=True, return_counts=True)
    group = np.searchsorted(weeks, week_no)
    last_pos = first_pos + days - 1
    n = len(weeks)

    def total(values) -> np.ndarray:
        return np.bincount(group, weights=np.nan_to_num(np.asarray(values, dtype="float64"), nan=0.0),
                           minlength=n)

    cols: dict[str, np.ndarray] = {c: total(daily[c].to_numpy()) for c in SUM_COLUMNS}
    cols["runs"] = cols["runs"].astype(np.int64)
    long_run = np.zeros(n)
    np.maximum.at(long_run, group, daily["long_run_km"].to_numpy(dtype="float64"))
    cols["long_run_km"] = long_run
    shoe_max = np.full(n, -np.inf)
    shoe_day = daily["shoe_km_max"].to_numpy(dtype="float64")
    known = np.isfinite(shoe_day)
    np.maximum.at(shoe_max, group[known], shoe_day[known])
    cols["shoe_km_max"] = np.where(np.isfinite(shoe_max), shoe_max, np.nan)
    run_days = daily["runs"].to_numpy() > 0
    for col in ("trimp", "srpe_au"):
        # a week with runs, none of which has the input, is NaN; without runs it is 0
        values = daily[col].to_numpy(dtype="float64")
        known = np.bincount(group, weights=(run_days & np.isfinite(values)).astype("float64"), minlength=n)
        cols[col] = np.where((cols["runs"] > 0) & (known == 0), np.nan,
                             total(np.where(run_days, values, 0.0)))
    for col in LAST_DAY_COLUMNS:
        # the value on the week's last day (``groupby.last`` would skip NaN and report a stale value)
        cols[col] = daily[col].to_numpy(dtype="float64")[last_pos]
    for name in DYNAMICS:
        weight = total(daily[f"{name}_weight_min"].to_numpy())
        weighted = total(daily[name].to_numpy(dtype="float64") * daily[f"{name}_weight_min"].to_numpy())
        with np.errstate(invalid="ignore", divide="ignore"):
            cols[name] = np.where(weight > 0, weighted / weight, np.nan)
    index = pd.DatetimeIndex(first + pd.to_timedelta(weeks * 7, unit="D"), name="week_start")
    cols["change_pct"] = change_pct(pd.Series(cols["load"])).to_numpy()
    cols["days"] = days.astype(np.int64)
    cols["partial_week"] = (index + pd.Timedelta(days=6)).to_numpy() > as_of.to_datetime64()
    weekly = pd.DataFrame({c: cols[c] for c in weekly_columns()}, index=index)
    weekly.attrs.update(daily.attrs)
    return weekly
