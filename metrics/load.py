"""Load ratios over a calendar-complete daily load series (SCIENCE.md sections 4-6).

Every function takes a daily Series (one row per local calendar day, rest days 0, index sorted) and
returns a Series on the same index.  A value that needs more history than exists is NaN, never 1.0 or 0.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from loadwatch.metrics.thresholds import (
    ACWR_ACUTE_DAYS,
    ACWR_CHRONIC_DAYS,
    ATL_DAYS,
    CTL_DAYS,
    MONOTONY_CAP,
    MONOTONY_WINDOW_DAYS,
)


def ewma(load: pd.Series, days: int) -> pd.Series:
    """Exponentially weighted moving average with ``lambda = 2 / (days + 1)`` (Williams et al. 2017):
    ``ewma_t = lambda * load_t + (1 - lambda) * ewma_{t-1}``, started at the first day's load."""
    lam = 2.0 / (days + 1.0)
    return load.astype("float64").ewm(alpha=lam, adjust=False).mean()


def acwr(load: pd.Series, *, acute_days: int = ACWR_ACUTE_DAYS,
         chronic_days: int = ACWR_CHRONIC_DAYS) -> pd.Series:
    """EWMA acute:chronic workload ratio (acute 7 days, chronic 28 days by default).

    NaN for the first ``chronic_days - 1`` days of the series (fewer than ``chronic_days`` days of
    history) and wherever the chronic average is 0.  Weak evidence: shown, not alarmed on (section 4).
    """
    acute = ewma(load, acute_days)
    chronic = ewma(load, chronic_days)
    ratio = acute / chronic.where(chronic > 0)
    enough = np.arange(len(load)) >= chronic_days - 1
    return ratio.where(enough).rename("acwr")


def monotony(load: pd.Series, *, window_days: int = MONOTONY_WINDOW_DAYS,
             cap: float = MONOTONY_CAP) -> pd.Series:
    """Foster monotony over the ``window_days`` days ending each day: mean / population SD of the daily
    loads (rest days 0).  SD = 0 with load > 0 gives ``cap``; values above ``cap`` are capped too (so
    the figure does not jump from 28 to 10 when the last uneven day leaves the window).  No load in the
    window, or fewer than ``window_days`` days of history: NaN."""
    load = load.astype("float64")
    roll = load.rolling(window_days, min_periods=window_days)
    mean = roll.mean()
    sd = roll.std(ddof=0)
    # rolling variance can leave ~1e-16 for equal values: treat tiny SD as zero
    sd = sd.where(sd > 1e-9 * mean.abs().clip(lower=1.0), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        values = np.where(sd > 0, mean / sd, np.where(mean > 0, cap, np.nan))
    out = pd.Series(values, index=load.index, dtype="float64").where(mean.notna())
    return out.clip(upper=cap).rename("monotony")


def strain(load: pd.Series, *, window_days: int = MONOTONY_WINDOW_DAYS, cap: float = MONOTONY_CAP) -> pd.Series:
    """Foster strain: the load of the ``window_days`` days ending each day x :func:`monotony`."""
    total = load.astype("float64").rolling(window_days, min_periods=window_days).sum()
    return (total * monotony(load, window_days=window_days, cap=cap)).rename("strain")


def fitness_fatigue(load: pd.Series, *, ctl_days: int = CTL_DAYS, atl_days: int = ATL_DAYS) -> pd.DataFrame:
    """Banister impulse-response: ``CTL_t = CTL_{t-1} + (load_t - CTL_{t-1}) / ctl_days``, ATL likewise
    with ``atl_days``, both starting from 0 the day before the series; ``TSB_t = CTL_{t-1} - ATL_{t-1}``.
    A performance model, not an injury model (section 6).  Columns ``ctl``, ``atl``, ``tsb``."""
    values = load.astype("float64").fillna(0.0).to_numpy()
    padded = pd.Series(np.concatenate([[0.0], values]))
    ctl = padded.ewm(alpha=1.0 / ctl_days, adjust=False).mean().to_numpy()
    atl = padded.ewm(alpha=1.0 / atl_days, adjust=False).mean().to_numpy()
    return pd.DataFrame({"ctl": ctl[1:], "atl": atl[1:], "tsb": ctl[:-1] - atl[:-1]}, index=load.index)


def change_pct(weekly_load: pd.Series) -> pd.Series:
    """Week-over-week change [%] of consecutive rows: ``(this / previous - 1) * 100``; NaN for the first
    row and when the previous week's load is 0 (weak evidence: shown, not alarmed on, section 3)."""
    prev = weekly_load.astype("float64").shift(1)
    return ((weekly_load / prev.where(prev > 0) - 1.0) * 100.0).rename("change_pct")
