"""The single-session spike table: the primary too-much-too-soon rule (SCIENCE.md section 2, strong).

Frandsen et al., BJSM 2025: a run more than 10% longer than the longest run of the previous 30 days
raises injury risk::

    longest_30d = max distance of runs that started in the 30 days before this run (this run excluded)
    spike_pct   = (distance / longest_30d - 1) * 100

With no run in the previous 30 days nothing is computed (NaN, category None: "not enough history").
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from loadwatch.ingest.settings import Settings
from loadwatch.metrics import intensity as _intensity
from loadwatch.metrics.daily import prepare_activities
from loadwatch.metrics.thresholds import MAX_SPIKE_FRAC, SPIKE_CATEGORIES, SPIKE_WINDOW_DAYS

RUN_COLUMNS = ("start_local", "date", "distance_km", "duration_min", "surface", "longest_30d_km", "spike_pct",
               "spike_category", "spike_hazard_ratio", "spike_ci_low", "spike_ci_high", "safe_longest_km",
               "trimp", "start_utc", "sub_sport", "ascent_m", "avg_hr_bpm", "rpe")


def longest_before(start_utc: pd.Series, distance_km: pd.Series, *,
                   window_days: int = SPIKE_WINDOW_DAYS) -> pd.Series:
    """For each run, the longest distance [km] among runs that started in the ``window_days`` days
    before it (``[start - window, start)``, the run itself excluded); NaN when there is none.
    ``start_utc`` must be sorted."""
    times = pd.to_datetime(start_utc, utc=True).dt.tz_convert(None).to_numpy()
    dist = distance_km.to_numpy(dtype="float64")
    series = pd.Series(dist, index=pd.DatetimeIndex(times))
    longest = series.rolling(f"{window_days}D", closed="left").max().to_numpy()
    return pd.Series(longest, index=distance_km.index, dtype="float64")


def spike_columns(distance_km: pd.Series, longest_30d_km: pd.Series, *,
                  max_spike_frac: float = MAX_SPIKE_FRAC) -> pd.DataFrame:
    """``spike_pct``, ``spike_category`` (none/small/moderate/large, None without history),
    ``spike_hazard_ratio`` with ``spike_ci_low``/``spike_ci_high`` (Frandsen 2025) and
    ``safe_longest_km = (1 + max_spike_frac) * longest_30d_km``."""
    longest = longest_30d_km.where(longest_30d_km > 0)
    pct = (distance_km / longest - 1.0) * 100.0
    edges = [SPIKE_CATEGORIES[0].lower_pct] + [c.upper_pct for c in SPIKE_CATEGORIES]
    # categories are (lower, upper]: exactly +10 % is still "none"
    # rounded first so that float error (11 / 10 - 1 = 0.10000000000000009) cannot cross a boundary
    rounded = np.round(pct.to_numpy(dtype="float64"), 9)
    codes = np.searchsorted(np.asarray(edges[1:-1]), rounded, side="left")
    known = pct.notna().to_numpy()
    cats = np.array(SPIKE_CATEGORIES, dtype=object)[np.clip(codes, 0, len(SPIKE_CATEGORIES) - 1)]
    out = pd.DataFrame(index=distance_km.index)
    out["longest_30d_km"] = longest
    out["spike_pct"] = pct
    out["spike_category"] = pd.Series(np.where(known, [c.name for c in cats], None), index=out.index,
                                      dtype="object")
    for col, attr in (("spike_hazard_ratio", "hazard_ratio"), ("spike_ci_low", "ci_low"),
                      ("spike_ci_high", "ci_high")):
        out[col] = np.where(known, [getattr(c, attr) for c in cats], np.nan).astype("float64")
    out["safe_longest_km"] = (1.0 + max_spike_frac) * longest
    return out


def run_table(activities: pd.DataFrame, timezone: str | None = None, hr_hist: pd.DataFrame | None = None,
              settings: Settings | None = None, *, window_days: int = SPIKE_WINDOW_DAYS,
              max_spike_frac: float = MAX_SPIKE_FRAC) -> pd.DataFrame:
    """One row per run (sport "running"), indexed by activity id, sorted by start, with the columns of
    :data:`RUN_COLUMNS`: ``start_local`` (naive local time), ``date`` (local day), ``distance_km``,
    ``duration_min``, ``surface``, ``longest_30d_km``, ``spike_pct`` [%], ``spike_category``,
    ``spike_hazard_ratio`` (+ 95 % CI), ``safe_longest_km``, ``trimp`` (NaN without heart rate or
    without ``hr_hist``), and ``start_utc``, ``sub_sport``, ``ascent_m``, ``avg_hr_bpm``, ``rpe`` from
    the store.  ``timezone`` defaults to ``settings.timezone``."""
    settings = settings if settings is not None else Settings()
    acts = prepare_activities(activities, timezone or settings.timezone)
    runs = acts[acts["is_run"].to_numpy()]
    longest = longest_before(runs["start_utc"], runs["distance_km"], window_days=window_days)
    spikes = spike_columns(runs["distance_km"], longest, max_spike_frac=max_spike_frac)
    if hr_hist is not None and len(runs):
        hr = _intensity.heart_rate_params(hr_hist, settings, runs=runs)
        run_trimp = _intensity.trimp(hr_hist, hr.hr_max_bpm, hr.hr_rest_bpm, settings.sex, ids=runs.index)
    else:
        run_trimp = pd.Series(np.nan, index=runs.index)
    data = {col: runs[col].to_numpy() for col in ("start_local", "date", "distance_km", "duration_min", "surface")}
    data.update({col: spikes[col].to_numpy() for col in spikes.columns})
    data["trimp"] = run_trimp.to_numpy(dtype="float64")
    for col in ("start_utc", "sub_sport", "ascent_m", "avg_hr_bpm", "rpe"):
        data[col] = runs[col].to_numpy() if col in runs else np.full(len(runs), np.nan)
    table = pd.DataFrame({col: data[col] for col in RUN_COLUMNS}, index=runs.index)
    if "start_utc" in runs:
        table["start_utc"] = runs["start_utc"]
    table.index.name = "id"
    return table


def weekly_spike_cap_km(runs: pd.DataFrame | None, week_starts, *, window_days: int = SPIKE_WINDOW_DAYS,
                        max_spike_frac: float = MAX_SPIKE_FRAC) -> pd.Series:
    """The safe longest run [km] as each week began: ``(1 + max_spike_frac)`` x the longest run whose
    local date falls in the ``window_days`` days before the week's first day (Frandsen et al., BJSM 2025;
    SCIENCE.md section 2).  NaN for a week with no run in that window ("not enough history").

    ``runs``: :func:`run_table`; ``week_starts``: the weeks' first days.  Returns a Series indexed by
    ``week_starts``."""
    starts = pd.DatetimeIndex(pd.to_datetime(pd.Index(week_starts)))
    if runs is None or len(runs) == 0:
        return pd.Series(np.nan, index=starts, dtype="float64")
    day = pd.to_datetime(runs["date"]).to_numpy()
    km = runs["distance_km"].to_numpy(dtype="float64")
    window = np.timedelta64(window_days, "D")
    caps = []
    for start in starts.to_numpy():
        inside = (day >= start - window) & (day < start) & np.isfinite(km)
        caps.append((1.0 + max_spike_frac) * km[inside].max() if inside.any() else np.nan)
    return pd.Series(caps, index=starts, dtype="float64")
