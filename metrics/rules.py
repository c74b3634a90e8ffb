"""Personal alert rules: which numbers a runner may set a rule on, and checking them.

A rule (``loadwatch.ingest.store.Rule``: ``metric, threshold, op, scope, enabled, label``) says "tell me when my
weekly road distance is above 25 km" or "when a single run is above 18 km".  The threshold is always in
the metric's own unit (km, min, %, m, ...), never in miles: the faces convert at the edge.

:data:`RULE_METRICS` is the named set of valid metrics (as pvlib's ``TEMPERATURE_MODEL_PARAMETERS``): an
unknown name raises a ``ValueError`` listing the valid ones.  This module is pure: frames in, plain
records out; :mod:`loadwatch.metrics.detector` turns the records into alerts.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, NamedTuple

from loadwatch.metrics.thresholds import ALERT_LOOKBACK_DAYS, SURFACES

if TYPE_CHECKING:  # pandas is imported where rules are evaluated: `loadwatch pain add` never loads it
    import pandas as pd


class RuleMetric(NamedTuple):
    """What a rule can watch: ``scope`` "week" (a row of the weekly table) or "run" (a row of the run
    table), the metric's unit, a plain label, and the frame column it reads."""

    scope: str
    unit: str
    label: str
    column: str


def _build_metrics() -> dict[str, RuleMetric]:
    m = {
        "distance_km": RuleMetric("week", "km", "weekly distance", "distance_km"),
        "long_run_km": RuleMetric("week", "km", "longest run of the week", "long_run_km"),
        "duration_min": RuleMetric("week", "min", "weekly running time", "duration_min"),
        "runs": RuleMetric("week", "runs", "runs in the week", "runs"),
        "ascent_m": RuleMetric("week", "m", "weekly ascent", "ascent_m"),
        "load": RuleMetric("week", "load", "weekly load", "load"),
        "trimp": RuleMetric("week", "TRIMP", "weekly heart-rate load (TRIMP)", "trimp"),
        "acwr": RuleMetric("week", "ratio", "acute:chronic workload ratio", "acwr"),
        "monotony": RuleMetric("week", "ratio", "training monotony", "monotony"),
        "strain": RuleMetric("week", "load", "training strain", "strain"),
        "change_pct": RuleMetric("week", "%", "change from the previous week", "change_pct"),
        "cross_training_min": RuleMetric("week", "min", "weekly cross-training time", "cross_training_min"),
        "strength_min": RuleMetric("week", "min", "weekly strength and core time", "strength_min"),
        "shoe_km_max": RuleMetric("week", "km", "distance on your most-worn shoes that week", "shoe_km_max"),
    }
    for s in SURFACES:
        m[f"surface_{s}_km"] = RuleMetric("week", "km", f"weekly distance on {s}", f"surface_{s}_km")
    for g in ("very_easy", "easy", "moderate", "hard", "unknown"):
        words = g.replace("_", " ")
        m[f"intensity_{g}_min"] = RuleMetric("week", "min", f"weekly minutes at {words} intensity",
                                             f"intensity_{g}_min")
    m["run_distance_km"] = RuleMetric("run", "km", "distance of a single run", "distance_km")
    m["run_duration_min"] = RuleMetric("run", "min", "duration of a single run", "duration_min")
    m["spike_pct"] = RuleMetric("run", "%", "run longer than your 30-day longest by", "spike_pct")
    return m


#: Valid rule metrics: name -> (scope, unit, label, column).
RULE_METRICS: dict[str, RuleMetric] = _build_metrics()

#: Comparison operators a rule may use.
RULE_OPS = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le}

#: Metric units that are distances (converted to miles for a runner who chose ``units = mi``).
DISTANCE_UNITS = ("km",)


def rule_metric(name: str) -> RuleMetric:
    """The :class:`RuleMetric` for ``name``; ``ValueError`` listing the valid names otherwise."""
    try:
        return RULE_METRICS[name]
    except KeyError:
        raise ValueError(f"unknown rule metric {name!r}; valid metrics: {', '.join(RULE_METRICS)}") from None


def validate_rule(metric: str, threshold: float, op: str = ">", scope: str | None = None) -> None:
    """Raise ``ValueError`` with a plain message when a rule cannot be checked."""
    info = rule_metric(metric)
    if op not in RULE_OPS:
        raise ValueError(f"rule operator must be one of {', '.join(RULE_OPS)} (got {op!r})")
    if scope is not None and scope != info.scope:
        raise ValueError(f"{metric} is a per-{info.scope} metric, so the rule's scope must be {info.scope!r} "
                         f"(got {scope!r})")
    try:
        value = float(threshold)
    except (TypeError, ValueError):
        raise ValueError(f"rule threshold must be a number (got {threshold!r})") from None
    if not math.isfinite(value):
        raise ValueError(f"rule threshold must be a finite number (got {threshold!r})")


@dataclass(frozen=True)
class RuleHit:
    """A personal rule that tripped: the value in the metric's unit, on a week or on one run."""

    rule_id: int | None
    metric: str
    op: str
    threshold: float
    value: float
    scope: str
    date: date  # the week's start (scope week) or the run's local date (scope run)
    activity_id: str | None
    label: str
    partial_week: bool = False


def evaluate_rules(rules, weekly: pd.DataFrame | None, runs: pd.DataFrame | None, as_of,
                   *, lookback_days: int = ALERT_LOOKBACK_DAYS) -> list[RuleHit]:
    """Check the enabled personal ``rules`` against the weeks and runs of the lookback window.

    ``weekly``: the weekly table (index ``week_start``); a week counts when any of its days falls in the
    ``lookback_days`` ending ``as_of`` and it started on or before ``as_of``.  A week not over at
    ``as_of`` only trips "above" rules (its total can only grow).  ``runs``: the run table (index activity
    id); runs dated in the window count.  Rules on unknown metrics raise ``ValueError``; a value that is
    NaN never trips a rule.
    """
    import pandas as pd

    from loadwatch.metrics.calendar import as_date, run_dates  # pandas: `loadwatch pain add` never loads it

    as_of = as_date(as_of)
    window_start = as_of - timedelta(days=lookback_days - 1)
    hits: list[RuleHit] = []
    for rule in rules or ():
        if not getattr(rule, "enabled", True):
            continue
        metric = rule.metric
        op = getattr(rule, "op", ">") or ">"
        validate_rule(metric, rule.threshold, op)
        info = RULE_METRICS[metric]
        compare = RULE_OPS[op]
        threshold = float(rule.threshold)
        rule_id = getattr(rule, "id", None)
        label = getattr(rule, "label", "") or ""
        if info.scope == "week":
            if weekly is None or weekly.empty or info.column not in weekly.columns:
                continue
            for week_start, value in weekly[info.column].items():
                start = as_date(week_start)
                end = start + timedelta(days=6)
                if start > as_of or end < window_start:
                    continue
                partial = end > as_of
                if partial and op in ("<", "<="):
                    continue
                if pd.isna(value) or not compare(float(value), threshold):
                    continue
                hits.append(RuleHit(rule_id, metric, op, threshold, float(value), "week", start, None, label,
                                    partial))
        else:
            if runs is None or runs.empty or info.column not in runs.columns:
                continue
            dates = run_dates(runs)
            for activity_id, value in runs[info.column].items():
                day = dates.loc[activity_id]
                if isinstance(day, pd.Series):  # duplicated index: take the first
                    day = day.iloc[0]
                if not window_start <= day <= as_of:
                    continue
                if pd.isna(value) or not compare(float(value), threshold):
                    continue
                hits.append(RuleHit(rule_id, metric, op, threshold, float(value), "run", day, str(activity_id),
                                    label))
    return hits
