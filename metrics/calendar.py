"""The calendar every metrics room reads: which day ``as_of`` is, a window of days, each run's date,
the complete weeks of the weekly table, and the pain log as a frame with a ``day`` column.

It sits below every room that uses it (``detector``, ``plan``, ``sessions``, ``suggest``, ``advice``), so
the walk daily -> weekly -> timeline -> alerts -> plan -> report never turns back into the detector for a
date (STYLE.md, "Inside metrics/, one way").  Pure functions, no I/O.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd


def as_date(value) -> date:
    """``as_of`` given as a date, datetime, Timestamp or ISO string -> date (None: today)."""
    if value is None:
        return date.today()
    return pd.Timestamp(value).date()


def window(as_of: date, days: int) -> tuple[date, date]:
    """The ``days`` calendar days ending on ``as_of`` (inclusive)."""
    return as_of - timedelta(days=days - 1), as_of


def pain_frame(pain: pd.DataFrame | None) -> pd.DataFrame:
    """The store's pain frame without deleted entries, with a ``day`` column (local date)."""
    cols = ["id", "at_local", "score", "timing", "location", "activity_id", "symptoms", "note", "deleted"]
    if pain is None or len(pain) == 0:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols + ["day"]})
    df = pain.copy()
    if "deleted" in df.columns:
        df = df[~df["deleted"].fillna(False).astype(bool)]
    df["at_local"] = pd.to_datetime(df["at_local"])
    df["day"] = df["at_local"].dt.date
    if "symptoms" not in df.columns:
        df["symptoms"] = [()] * len(df)
    if "activity_id" not in df.columns:
        df["activity_id"] = None
    df["score"] = df["score"].astype(int)
    return df.sort_values("at_local", kind="stable")


def run_dates(runs: pd.DataFrame) -> pd.Series:
    """Each run's local date (the run table's ``date``, else the date of ``start_local``)."""
    if "date" in runs.columns:
        return pd.to_datetime(runs["date"]).dt.date
    return pd.to_datetime(runs["start_local"]).dt.date


def complete_weeks(weekly: pd.DataFrame | None, as_of: date) -> pd.DataFrame:
    """Weekly rows whose seven days are all on or before ``as_of``."""
    if weekly is None or len(weekly) == 0:
        return pd.DataFrame()
    starts = pd.Index([pd.Timestamp(s).date() for s in weekly.index])
    keep = np.array([s + timedelta(days=6) <= as_of for s in starts], dtype=bool)
    out = weekly[keep].copy()
    out.index = starts[keep]
    return out.sort_index()
