"""The weekly table: calendar weeks of the daily series (SCIENCE.md sections 1, 3-6, 9).

A week runs Monday-Sunday local (ISO) unless the runner chooses Sunday.  Sums add the week's days;
ratios that describe a state (ACWR, monotony, strain, CTL/ATL/TSB) are the daily value on the week's last
day, or on ``as_of`` for the current week.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from metrics.daily import DYNAMICS, SUM_COLUMNS, daily_columns
from metrics.load import change_pct
from metrics.thresholds import DEFAULT_WEEK_START

WEEK_STARTS = {"monday": 0, "sunday": 6}
LAST_DAY_COLUMNS = ("acwr", "monotony", "strain", "ctl", "atl", "tsb")


def weekly_columns() -> list[str]:
    """Every column of :func:`weekly_table`, in order."""
    return (["distance_km", "duration_min", "runs", "long_run_km", "ascent_m", "load", "trimp", "srpe_au",
             "change_pct", "acwr", "monotony", "strain", "ctl", "atl", "tsb", "cross_training_min"]
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
    """One row per calendar week of ``daily`` (output of :func:`metrics.daily.daily_series`), indexed
    by ``week_start`` (naive midnight ``DatetimeIndex``), oldest first, up to ``as_of`` (default: the
    daily series' last day; later days are ignored).

    Columns (:func:`weekly_columns`): sums ``distance_km``, ``duration_min``, ``runs``, ``ascent_m``,
    ``load``, ``cross_training_min``, ``surface_<s>_km``, ``intensity_<g>_min``; ``long_run_km`` (max);
    ``trimp`` / ``srpe_au`` (sum over runs that have the input; NaN for a week with runs none of which has
    it; 0 without runs); ``change_pct`` of ``load`` vs the previous week (NaN when that is 0 or absent);
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
        raise KeyError(f"daily frame lacks columns {missing}; build it with metrics.daily.daily_series")
    key = week_starts(daily.index, week_start)
    grouped = daily.groupby(key)
    weekly = grouped[list(SUM_COLUMNS)].sum()
    weekly["long_run_km"] = grouped["long_run_km"].max()
    run_days = daily["runs"] > 0
    for col in ("trimp", "srpe_au"):
        total = daily[col].where(run_days).groupby(key).sum(min_count=1)
        weekly[col] = total.where(weekly["runs"] > 0, 0.0)
    # the value on the week's last day (``.last()`` would skip NaN and report a stale value)
    last = grouped[list(LAST_DAY_COLUMNS)].nth(-1)
    last.index = weekly.index
    weekly = weekly.join(last)
    for name in DYNAMICS:
        weight = grouped[f"{name}_weight_min"].sum()
        weighted = (daily[name] * daily[f"{name}_weight_min"]).fillna(0.0).groupby(key).sum()
        weekly[name] = weighted / weight.where(weight > 0)
    weekly["runs"] = weekly["runs"].astype("int64")
    weekly["change_pct"] = change_pct(weekly["load"])
    weekly["days"] = grouped.size().astype("int64")
    weekly["partial_week"] = (weekly.index + pd.Timedelta(days=6)) > as_of
    weekly.index.name = "week_start"
    weekly.attrs.update(daily.attrs)
    return weekly[weekly_columns()]
