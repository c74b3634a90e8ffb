"""Shoe distance: how far each pair has run, and how far it had run at each run (SCIENCE.md §15).

Display only: there is no built-in shoe alarm (evidence on shoe age is weak; rotating pairs went with
fewer injuries in one cohort, Malisoux et al., Scand J Med Sci Sports 2015).  The runner may set a
retirement distance per pair, shown as a gauge, and the suggested-rule search may consider the distance
a run's pair had (``shoe_km_max`` in the weekly table).

Inputs are the store's frames: ``shoes`` (``Store.shoes()``: ``id, name, start_km, retire_km,
retired_on, default``), ``assignments`` (``Store.activity_shoes()``: ``activity_id, shoe_id, shoe,
source``) and the activities.  Only runs count toward a pair's distance.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from loadwatch.metrics.daily import prepare_activities
from loadwatch.metrics.weekly import week_starts

SUMMARY_COLUMNS: tuple[str, ...] = (
    "name", "distance_km", "runs", "first_used", "last_used", "retired", "default", "start_km", "retire_km",
    "retired_on", "retire_frac",
)

SHOE_EVIDENCE = ("no built-in shoe alarm: evidence on shoe age is weak; rotating several pairs went with fewer "
                 "injuries in one cohort (Malisoux et al., Scand J Med Sci Sports 2015)")


def _runs_with_shoes(activities: pd.DataFrame, assignments: pd.DataFrame | None, timezone: str | None
                     ) -> pd.DataFrame:
    """Runs that have a pair: ``shoe_id, date, start_local, distance_km``, by start, index activity id."""
    if activities is None or activities.empty or assignments is None or assignments.empty:
        return pd.DataFrame(columns=["shoe_id", "date", "start_local", "distance_km"])
    acts = prepare_activities(activities, timezone)
    runs = acts[acts["is_run"]]
    shoe_of = assignments.set_index("activity_id")["shoe_id"]
    runs = runs[runs.index.isin(shoe_of.index)]
    out = runs[["date", "start_local", "distance_km"]].copy()
    out["shoe_id"] = shoe_of.reindex(out.index).astype("int64")
    return out.sort_values("start_local", kind="stable")


def shoe_summary(shoes: pd.DataFrame, assignments: pd.DataFrame | None, activities: pd.DataFrame | None,
                 timezone: str | None = "UTC") -> pd.DataFrame:
    """One row per pair (the order of ``shoes``): ``name``, ``distance_km`` (start distance + its runs
    [km]), ``runs``, ``first_used`` / ``last_used`` (local dates of its first and last run, NaT without
    one), ``retired``, ``default``, ``start_km``, ``retire_km`` (NaN: none set), ``retired_on``,
    ``retire_frac`` (distance / retirement distance, NaN without one)."""
    if shoes is None or shoes.empty:
        return pd.DataFrame(columns=list(SUMMARY_COLUMNS))
    runs = _runs_with_shoes(activities, assignments, timezone)
    by = runs.groupby("shoe_id")
    # numbers, not objects: a pair without runs (an empty groupby) and a store's None start distance
    # must not go through fillna's deprecated downcasting of object arrays
    km = pd.to_numeric(by["distance_km"].sum(min_count=1), errors="coerce").astype("float64")
    count = by.size()
    first = by["date"].min()
    last = by["date"].max()
    ids = shoes["id"].to_numpy()
    start = pd.to_numeric(shoes["start_km"], errors="coerce").fillna(0.0).to_numpy(dtype="float64")
    distance = start + km.reindex(ids).fillna(0.0).to_numpy()
    retire = pd.to_numeric(shoes["retire_km"], errors="coerce").to_numpy(dtype="float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where(retire > 0, distance / retire, np.nan)
    return pd.DataFrame({
        "name": shoes["name"].to_numpy(dtype=object),
        "distance_km": distance,
        "runs": count.reindex(ids).fillna(0).astype("int64").to_numpy(),
        "first_used": pd.to_datetime(first.reindex(ids).to_numpy()),
        "last_used": pd.to_datetime(last.reindex(ids).to_numpy()),
        "retired": shoes["retired_on"].notna().to_numpy(),
        "default": shoes["default"].astype(bool).to_numpy(),
        "start_km": start,
        "retire_km": retire,
        "retired_on": pd.to_datetime(shoes["retired_on"]).to_numpy(),
        "retire_frac": frac,
    }, index=pd.Index(ids, name="id"))


def shoe_km_at_run(shoes: pd.DataFrame | None, assignments: pd.DataFrame | None,
                   activities: pd.DataFrame | None, timezone: str | None = "UTC") -> pd.Series:
    """The distance each run's pair had run before that run started [km] (start distance + earlier runs
    in it); index activity id, only runs that have a pair."""
    if shoes is None or shoes.empty:
        return pd.Series(dtype="float64", name="shoe_km")
    runs = _runs_with_shoes(activities, assignments, timezone)
    if runs.empty:
        return pd.Series(dtype="float64", name="shoe_km")
    start = pd.to_numeric(shoes.set_index("id")["start_km"], errors="coerce").fillna(0.0)
    before = runs.groupby("shoe_id")["distance_km"].transform(
        lambda s: s.fillna(0.0).cumsum().shift(1, fill_value=0.0))
    return (before + start.reindex(runs["shoe_id"]).to_numpy()).rename("shoe_km").astype("float64")


def weekly_km_by_shoe(assignments: pd.DataFrame | None, activities: pd.DataFrame | None,
                      timezone: str | None = "UTC", week_start: str = "monday") -> pd.DataFrame:
    """Running distance per week and pair (long form): ``week_start``, ``shoe``, ``distance_km``."""
    runs = _runs_with_shoes(activities, assignments, timezone)
    if runs.empty:
        return pd.DataFrame(columns=["week_start", "shoe", "distance_km"])
    names = assignments.drop_duplicates("shoe_id").set_index("shoe_id")["shoe"]
    frame = pd.DataFrame({"week_start": week_starts(pd.DatetimeIndex(runs["date"]), week_start),
                          "shoe": names.reindex(runs["shoe_id"]).to_numpy(),
                          "distance_km": runs["distance_km"].fillna(0.0).to_numpy()})
    return frame.groupby(["week_start", "shoe"], as_index=False)["distance_km"].sum()
