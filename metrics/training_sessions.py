"""Strength, core and cross-training: logged sessions in the numbers and in the plan (SCIENCE.md §1, §12,
§15).

* Runs are the load.  Sessions logged without a file (``Store.sessions()``) and imported activities that
  are not runs add minutes: strength and core work (strength, core, Pilates, yoga, mobility) to
  ``strength_min``; cardio (cycling, swimming, elliptical, walking, deep-water running, other) to
  ``cross_training_min``.  Neither touches distance or any running-load figure.
* A logged session and an imported activity of the same kind on the same local day are one outing,
  counted once, from the file (:func:`dedup_sessions`).
* The plan: in ``stop`` (no running) and ``reduce`` (the red cutback) cross-training minutes replace the
  running time given up (:func:`cross_training_minutes`); strength and core work stays in every plan but
  the red flags (:func:`strength_advice`).  Kept small and self-contained so the plan calls two functions.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from loadwatch.ingest.sessions import SESSION_KINDS, STRENGTH_KINDS  # noqa: F401  (the vocabulary lives with the table)
from loadwatch.metrics import fmt
from loadwatch.metrics import thresholds as th
from loadwatch.metrics.calendar import as_date, complete_weeks

#: Low-impact cardio that keeps running fitness while not running (SCIENCE.md §12, Bushman et al. 1997).
REPLACEMENT_KINDS: tuple[str, ...] = ("cycling", "swimming", "elliptical", "deep_water_running")

#: Imported activity -> session kind: FIT sub-sports first (a gym session is sport "other"/"training").
_SUB_SPORT_KIND = {
    "strength_training": "strength", "yoga": "yoga", "pilates": "pilates", "flexibility_training": "mobility",
    "elliptical": "elliptical",
}
_SPORT_KIND = {"cycling": "cycling", "swimming": "swimming", "walking": "walking", "hiking": "walking",
               "elliptical": "elliptical", "rowing": "other", "other": "other"}

#: Plan figures are rounded to this many minutes (a human plan, not a stopwatch) [min].
PLAN_MINUTES_STEP: float = 5.0
#: Weeks averaged for the running time a plan replaces and for the runner's usual strength minutes.
AVERAGE_WEEKS: int = th.AVERAGE_WEEK_WEEKS

STRENGTH_EVIDENCE = ("exercise programmes are recommended for low back pain (NICE NG59); strength training "
                     "lowered sports injuries in a meta-analysis (Lauersen et al., BJSM 2014)")
CROSS_TRAINING_EVIDENCE = ("low-impact cross-training kept 5-km performance while not running "
                           "(Bushman et al., MSSE 1997)")


def activity_kind(sport, sub_sport=None) -> str | None:
    """The session kind of an imported activity that is not a run (None for a run)."""
    if sport == "running":
        return None
    if isinstance(sub_sport, str) and sub_sport in _SUB_SPORT_KIND:
        return _SUB_SPORT_KIND[sub_sport]
    return _SPORT_KIND.get(str(sport or "other"), "other")


def is_strength(kind) -> bool:
    return kind in STRENGTH_KINDS


def dedup_sessions(sessions: pd.DataFrame | None, others: pd.DataFrame | None) -> pd.DataFrame:
    """``sessions`` (``Store.sessions()``: ``id, date, kind, minutes``) with a ``duplicate_of`` column:
    the id of the imported activity that is the same outing (same kind, same local day), else None.

    ``others``: imported activities that are not runs, with ``date`` (local midnight), ``kind`` (from
    :func:`activity_kind`) and index the activity id.  Each activity stands for at most one logged
    session (two logged rides on a day with one ride file: one is the file, the other counts)."""
    out = (sessions if sessions is not None else pd.DataFrame(columns=["id", "date", "kind", "minutes"])).copy()
    out["duplicate_of"] = pd.Series([None] * len(out), index=out.index, dtype=object)
    if out.empty or others is None or others.empty:
        return out
    free: dict[tuple, list] = {}
    for aid, row in others.sort_values("date", kind="stable").iterrows():
        free.setdefault((pd.Timestamp(row["date"]).normalize(), row["kind"]), []).append(aid)
    for idx, row in out.sort_values(["date", "id"], kind="stable").iterrows():
        match = free.get((pd.Timestamp(row["date"]).normalize(), row["kind"]))
        if match:
            out.at[idx, "duplicate_of"] = match.pop(0)
    return out


def day_minutes(sessions: pd.DataFrame | None, others: pd.DataFrame | None, days: pd.DatetimeIndex
                ) -> tuple[np.ndarray, np.ndarray]:
    """(strength minutes, cross-training minutes) per day of ``days`` (a daily ``DatetimeIndex``), from
    imported non-run activities (``others``: ``date``, ``kind``, ``duration_min``) and the logged
    ``sessions`` that are not duplicates of them.  Missing minutes count 0 (the outing happened)."""
    n = len(days)
    strength = np.zeros(n)
    cross = np.zeros(n)
    if n == 0:
        return strength, cross

    def add(dates, kinds, minutes) -> None:
        pos = ((pd.DatetimeIndex(dates).normalize() - days[0]) // pd.Timedelta(days=1)).to_numpy()
        mins = np.nan_to_num(np.asarray(minutes, dtype="float64"), nan=0.0)
        keep = (pos >= 0) & (pos < n)
        is_str = np.array([is_strength(k) for k in kinds], dtype=bool)
        np.add.at(strength, pos[keep & is_str], mins[keep & is_str])
        np.add.at(cross, pos[keep & ~is_str], mins[keep & ~is_str])

    if others is not None and len(others):
        add(others["date"], others["kind"], others["duration_min"])
    if sessions is not None and len(sessions):
        logged = dedup_sessions(sessions, others)
        logged = logged[logged["duplicate_of"].isna()]
        if len(logged):
            add(logged["date"], logged["kind"], logged["minutes"])
    return strength, cross


# --- the plan ------------------------------------------------------------------------------------------

def _recent_weeks(weekly: pd.DataFrame | None, as_of, weeks: int) -> pd.DataFrame:
    if weekly is None or weekly.empty:
        return pd.DataFrame()
    return complete_weeks(weekly, as_date(as_of)).tail(weeks)


def _round_minutes(value: float | None) -> float | None:
    if value is None or not np.isfinite(value) or value <= 0:
        return None
    return float(max(PLAN_MINUTES_STEP, PLAN_MINUTES_STEP * round(value / PLAN_MINUTES_STEP)))


def cross_training_minutes(weekly: pd.DataFrame | None, as_of, *, stop_running: bool, reduce: bool,
                           base_week_min: float | None = None, running_frac: float = th.REDUCE_FRAC,
                           weeks: int = AVERAGE_WEEKS) -> float | None:
    """Minutes of low-impact cross-training a week that replace the running time the plan gives up
    (SCIENCE.md §12, §13, §15): when running stops, at most ``STOP_CROSS_TRAINING_FRAC`` (half) of the
    runner's running week [min] and never more than ``STOP_CROSS_TRAINING_MAX_MIN`` (300), pain-free only;
    the part cut (``1 - running_frac``) in the ``reduce`` cutback, None otherwise or
    without history.  The running week is ``base_week_min`` when given (the plan passes the 4 weeks before
    the episode, SCIENCE.md §13, so a long stop does not shrink it), else the average of the last complete
    weeks of ``weekly``.  Rounded to :data:`PLAN_MINUTES_STEP`."""
    if not (stop_running or reduce):
        return None
    if base_week_min is not None:
        avg = float(base_week_min)
    else:
        done = _recent_weeks(weekly, as_of, weeks)
        if done.empty or "duration_min" not in done.columns:
            return None
        avg = float(done["duration_min"].fillna(0).mean())
    if stop_running:
        return _round_minutes(min(avg * th.STOP_CROSS_TRAINING_FRAC, th.STOP_CROSS_TRAINING_MAX_MIN))
    return _round_minutes(avg * (1 - running_frac))


def usual_strength_minutes(weekly: pd.DataFrame | None, as_of, *, weeks: int = AVERAGE_WEEKS) -> float | None:
    """The runner's average weekly strength and core minutes over the last complete weeks (None when
    none were logged)."""
    done = _recent_weeks(weekly, as_of, weeks)
    if done.empty or "strength_min" not in done.columns:
        return None
    avg = float(done["strength_min"].fillna(0).mean())
    return _round_minutes(avg)


def strength_advice(weekly: pd.DataFrame | None, as_of, *, red_flag: bool) -> str | None:
    """One sentence keeping strength and core work in the plan (SCIENCE.md §15); None under red flags
    (no training advice until a clinician has seen the runner)."""
    if red_flag:
        return None
    usual = usual_strength_minutes(weekly, as_of)
    if usual:
        return (f"keep up your strength and core work (about {fmt.duration(usual)} a week, your recent average); "
                f"{STRENGTH_EVIDENCE}")
    return f"add strength and core work to your week; {STRENGTH_EVIDENCE}"
