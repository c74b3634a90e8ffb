"""Suggested personal rules: thresholds learned from the runner's own training and pain log.

A **flare-up** is the first week of a run of weeks whose highest pain score is at least
:data:`~metrics.thresholds.FLARE_UP_MIN_SCORE` (4, amber or red) or that hold a morning when pain had not
settled.  Its **before week** is the week that precedes it.  **Pain-free weeks** are complete weeks with
runs, no flare-up pain, and not followed by a flare-up.  Weeks before the first pain-log entry are not used
(nothing says they were pain-free).

For each candidate weekly metric the threshold ``t`` that best separates before-weeks (value > t) from
pain-free weeks (value <= t) is found over the observed values by Youden's J = sensitivity + specificity
- 1.  A suggestion is only offered when the history supports it: at least
:data:`~metrics.thresholds.SUGGEST_MIN_FLARE_UPS` flare-ups, at least
:data:`~metrics.thresholds.SUGGEST_MIN_PAIN_FREE_WEEKS` pain-free weeks and J >=
:data:`~metrics.thresholds.SUGGEST_MIN_YOUDEN_J` (loadwatch heuristics).  It is an association in one
person's log, not proof of cause, and the text says so by giving the counts.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from metrics import thresholds as th
from metrics.detector import as_date, complete_weeks, pain_frame, pain_not_settled
from metrics.rules import DISTANCE_UNITS, RULE_METRICS
from metrics.units import from_units, to_units

#: Weekly metrics a suggestion may use (a short list: every extra candidate is another chance of a
#: coincidence).
CANDIDATE_METRICS = ("distance_km", "long_run_km", "surface_road_km", "intensity_hard_min", "ascent_m",
                     "change_pct")


@dataclass
class Suggestion:
    """A rule the runner may accept (``Store.add_rule(Rule(None, metric, threshold, op, scope,
    origin="suggested"))``).  ``threshold`` is in the metric's unit (km, min, %, m)."""

    metric: str
    threshold: float
    op: str
    scope: str
    flare_ups_above: int
    flare_ups_total: int
    pain_free_above: int
    pain_free_total: int
    youden_j: float
    text: str
    evidence: str = th.SUGGEST_EVIDENCE.line()
    label: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


def week_start_of(day: date, week_start: str = "monday") -> date:
    """The first day of ``day``'s week (Monday, or Sunday when ``week_start == "sunday"``)."""
    back = day.weekday() if week_start != "sunday" else (day.weekday() + 1) % 7
    return day - timedelta(days=back)


def week_sets(weekly: pd.DataFrame, pain: pd.DataFrame | None, as_of, *,
              week_start: str = "monday", min_score: int = th.FLARE_UP_MIN_SCORE):
    """(before-weeks, pain-free weeks, flare-up weeks): lists of week-start dates in ``weekly``."""
    as_of = as_date(as_of)
    weeks = complete_weeks(weekly, as_of)
    df = pain_frame(pain)
    df = df[df["day"] <= as_of]
    if weeks.empty or df.empty:
        return [], [], []
    flare_days = set(df.loc[df["score"] >= min_score, "day"])
    flare_days |= {date.fromisoformat(a.date) for a in pain_not_settled(df, as_of, lookback_days=10**5)}
    flare_weeks = {week_start_of(d, week_start) for d in flare_days}
    first_logged = week_start_of(min(df["day"]), week_start)
    starts = [s for s in weeks.index if s >= first_logged]
    onsets = sorted(w for w in flare_weeks if (w - timedelta(days=7)) not in flare_weeks)
    before = [w - timedelta(days=7) for w in onsets if (w - timedelta(days=7)) in weeks.index]
    runs = weeks["runs"] if "runs" in weeks.columns else weeks.get("distance_km")
    pain_free = [s for s in starts
                 if s not in flare_weeks and (s + timedelta(days=7)) not in flare_weeks
                 and (s + timedelta(days=7)) <= as_of - timedelta(days=6)  # the following week is over too
                 and runs is not None and float(runs.get(s, 0) or 0) > 0]
    return before, pain_free, sorted(onsets)


#: Values closer than this (in the metric's unit) are not split apart: 11.99 km from a GPS track and
#: 12.0 km from a watch are the same long run.
MIN_SPLIT_GAP = {"km": 0.5, "min": 5.0, "m": 10.0, "%": 5.0}


def best_threshold(before: np.ndarray, pain_free: np.ndarray, *, min_gap: float = 0.0
                   ) -> tuple[float, float, float] | None:
    """(t, next value above t, J) maximising Youden's J for the rule "value > t" over the observed
    values; ties keep the highest threshold (fewest pain-free weeks flagged).  Splits between values
    less than ``min_gap`` apart are not considered.  None without a split."""
    values = np.unique(np.concatenate([before, pain_free]))
    best = None
    for i, t in enumerate(values[:-1]):
        if values[i + 1] - t < min_gap:
            continue
        sens = float(np.mean(before > t))
        spec = float(np.mean(pain_free <= t))
        j = sens + spec - 1
        if best is None or j >= best[2] - 1e-12:
            best = (float(t), float(values[i + 1]), j)
    return best


def human_threshold(lo: float, hi: float, unit: str, units: str = "km") -> float:
    """A round number in [lo, hi) (in the runner's units for distances), nearest the middle; returned in
    the metric's own unit.  Falls back to ``lo`` rounded to 0.1."""
    is_distance = unit in DISTANCE_UNITS
    a, b = (to_units(lo, units), to_units(hi, units)) if is_distance else (lo, hi)
    mid = (a + b) / 2
    for step in (10.0, 5.0, 1.0, 0.5, 0.1):
        k0, k1 = math.ceil(a / step - 1e-9), math.ceil(b / step - 1e-9) - 1
        if k1 >= k0:
            k = min(range(k0, k1 + 1), key=lambda k: abs(k * step - mid))
            value = k * step
            break
    else:
        value = round(a, 1)
    value = round(value, 1)
    return round(from_units(value, units), 3) if is_distance else value


def _value_text(value: float, unit: str, units: str) -> str:
    if unit in DISTANCE_UNITS:
        return f"{round(to_units(value, units), 1):g} {units}"
    if unit == "%":
        return f"{value:g}%"
    return f"{value:g} {unit}"


def suggest(weekly: pd.DataFrame | None, pain: pd.DataFrame | None, settings=None, as_of=None, *,
            rules=(), metrics=CANDIDATE_METRICS, min_flare_ups: int = th.SUGGEST_MIN_FLARE_UPS,
            min_pain_free: int = th.SUGGEST_MIN_PAIN_FREE_WEEKS, min_j: float = th.SUGGEST_MIN_YOUDEN_J,
            max_suggestions: int = th.SUGGEST_MAX) -> list[Suggestion]:
    """Suggested "above" rules, strongest first; metrics that already have an enabled rule are skipped.
    Empty when the history does not support a suggestion."""
    if weekly is None or len(weekly) == 0:
        return []
    as_of = as_date(as_of)
    units = getattr(settings, "units", "km") if settings is not None else "km"
    week_start = getattr(settings, "week_start", "monday") if settings is not None else "monday"
    before, pain_free, _onsets = week_sets(weekly, pain, as_of, week_start=week_start)
    if len(before) < min_flare_ups or len(pain_free) < min_pain_free:
        return []
    taken = {r.metric for r in rules or () if getattr(r, "enabled", True)}
    weeks = complete_weeks(weekly, as_of)
    out = []
    for metric in metrics:
        info = RULE_METRICS[metric]
        if metric in taken or info.column not in weeks.columns:
            continue
        col = weeks[info.column]
        b = col.reindex(before).to_numpy(dtype=float)
        p = col.reindex(pain_free).to_numpy(dtype=float)
        if metric != "change_pct":  # a distance or time not recorded in a week with runs is 0
            b, p = np.nan_to_num(b), np.nan_to_num(p)
        b, p = b[np.isfinite(b)], p[np.isfinite(p)]
        if len(b) < min_flare_ups or len(p) < min_pain_free:
            continue
        found = best_threshold(b, p, min_gap=MIN_SPLIT_GAP.get(info.unit, 0.0))
        if found is None or found[2] < min_j:
            continue
        t = human_threshold(found[0], found[1], info.unit, units)
        fa, pa = int(np.sum(b > t)), int(np.sum(p > t))
        flagged = (tuple(b > t), tuple(p > t))
        j = fa / len(b) + (len(p) - pa) / len(p) - 1
        shown = _value_text(t, info.unit, units)
        text = (f"{fa} of your {len(b)} flare-ups followed weeks with {info.label} above {shown}; "
                f"{pa} of {len(p)} pain-free weeks were above it.")
        out.append((flagged, Suggestion(metric=metric, threshold=t, op=">", scope=info.scope, flare_ups_above=fa,
                              flare_ups_total=len(b), pain_free_above=pa, pain_free_total=len(p),
                              youden_j=round(j, 3), text=text,
                              label=f"suggested: {info.label} above {shown}")))
    out.sort(key=lambda fs: (-fs[1].youden_j, CANDIDATE_METRICS.index(fs[1].metric)
                             if fs[1].metric in CANDIDATE_METRICS else 99))
    # a suggestion that flags exactly the same weeks as a stronger one adds nothing (weekly distance,
    # road distance and ascent often move together)
    kept, seen = [], set()
    for flagged, sug in out:
        if flagged not in seen:
            seen.add(flagged)
            kept.append(sug)
    return kept[:max_suggestions]
