"""The plan: what to do next week, from the alerts (SCIENCE.md section 12).

Priority: red flags (no training numbers, a care message) -> pain (red: about half the 4-week average
week, easy only; amber: hold the 4-week average, no hard sessions, softer ground) -> single-session spikes
(every run <= 1.10 x the 30-day longest before the spike, the week <= the 4-week average) -> personal
rules (their thresholds become caps) -> green (the safe longest run, 1.10 x the 30-day longest, and a week
no more than 10% above the biggest recent week).

Numbers are kilometres inside (``max_week_km``, ``max_run_km``), shown in the runner's units and
rounded *down* for humans (0.5 km / 0.5 mi; whole units for weeks of 10 or more), so the rounded figure is
never above the computed limit.  Every plan carries :data:`metrics.thresholds.NOT_MEDICAL_ADVICE`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import timedelta

import pandas as pd

from metrics import fmt
from metrics import thresholds as th
from metrics.detector import (
    EMERGENCY_CARE_MESSAGE,
    PERSISTENT_CARE_MESSAGE,
    URGENT_CARE_MESSAGE,
    Alert,
    as_date,
    complete_weeks,
    run_dates,
)
from metrics.units import format_distance, from_units, round_down, to_units

STATUSES = ("green", "amber", "red", "see_clinician", "emergency")
CROSS_TRAINING = ("cycling", "swimming", "elliptical", "deep-water running")
WORDS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven"}


def count_words(n: int, noun: str) -> str:
    """"one run", "two runs" (numbers above seven as digits)."""
    return f"{WORDS.get(n, n)} {noun}{'' if n == 1 else 's'}"


@dataclass
class Plan:
    """Next week's plan.  Distances in km (None: no number given, e.g. for red flags)."""

    status: str
    max_week_km: float | None = None
    max_run_km: float | None = None
    runs: int | None = None
    intensity: str | None = None
    surface: str | None = None
    cross_training: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    message: str = ""
    disclaimer: str = th.NOT_MEDICAL_ADVICE
    care_message: str | None = None
    units: str = "km"
    stop_running: bool = False

    def to_dict(self) -> dict:
        """JSON-able; distances in km plus ``*_display`` numbers in the runner's ``units``."""
        return {
            "status": self.status,
            "max_week_km": self.max_week_km,
            "max_run_km": self.max_run_km,
            "max_week_display": _display(self.max_week_km, self.units),
            "max_run_display": _display(self.max_run_km, self.units),
            "units": self.units,
            "runs": self.runs,
            "intensity": self.intensity,
            "surface": self.surface,
            "cross_training": list(self.cross_training),
            "stop_running": self.stop_running,
            "reasons": list(self.reasons),
            "message": self.message,
            "care_message": self.care_message,
            "disclaimer": self.disclaimer,
        }


def _display(km: float | None, units: str) -> float | None:
    return None if km is None else round(to_units(km, units), 2)


def round_cap_km(km: float | None, units: str = "km", *, week: bool = False) -> float | None:
    """A cap in km rounded *down* in the runner's units: 0.5 steps, whole units for weeks >= 10; back in
    km (3 decimals).  None/NaN/negative -> None."""
    if km is None or not math.isfinite(km) or km <= 0:
        return None
    value = to_units(km, units)
    step = 1.0 if week and value >= 10 else 0.5
    rounded = round_down(value, step)
    if rounded <= 0:
        return None
    return round(from_units(rounded, units), 3)


def _fmt(km: float | None, units: str) -> str:
    return format_distance(km, units)


@dataclass
class _History:
    avg_week_km: float | None  # 4-week average week (complete weeks)
    max_week_km: float | None  # biggest of those weeks
    avg_long_km: float | None
    avg_runs: float | None
    weeks_used: int
    longest_30d_km: float | None  # longest run in the 30 days up to as_of
    soft_surfaces: list[str]
    has_runs: bool


def history(weekly: pd.DataFrame | None, runs: pd.DataFrame | None, as_of,
            *, weeks: int = th.AVERAGE_WEEK_WEEKS) -> _History:
    """The recent figures the plan scales from."""
    as_of = as_date(as_of)
    done = complete_weeks(weekly, as_of).tail(weeks)
    if done.empty or "distance_km" not in done.columns:
        avg = mx = avg_long = avg_runs = None
    else:
        avg = float(done["distance_km"].fillna(0).mean())
        mx = float(done["distance_km"].fillna(0).max())
        avg_long = float(done["long_run_km"].fillna(0).mean()) if "long_run_km" in done.columns else None
        avg_runs = float(done["runs"].fillna(0).mean()) if "runs" in done.columns else None
    longest = None
    soft: list[str] = []
    has_runs = runs is not None and len(runs) > 0
    if has_runs:
        dates = run_dates(runs)
        lo = as_of - timedelta(days=th.SPIKE_WINDOW_DAYS - 1)
        recent = runs[(dates >= lo).to_numpy() & (dates <= as_of).to_numpy()]
        if len(recent):
            longest = float(recent["distance_km"].max())
        if "surface" in runs.columns:
            past = runs[(dates <= as_of).to_numpy()]
            used = set(past["surface"].dropna())
            soft = [s for s in th.SOFT_SURFACES if s in used]
    return _History(avg, mx, avg_long, avg_runs, len(done), longest, soft, has_runs)


def _surface_advice(h: _History, n_runs: int | None) -> str:
    k = count_words(min(2, n_runs or 2), "run")
    if h.soft_surfaces:
        where = " or ".join(h.soft_surfaces)
        return f"move {k} to {where} (softer surfaces lower impact at the shin; no study links surface to back pain)"
    return (f"if you can, move {k} to softer ground (grass, trail, a track) or a treadmill "
            "(softer surfaces lower impact at the shin; no study links surface to back pain)")


def _personal_caps(rules, alerts: list[Alert]) -> tuple[list[tuple[float, str]], list[tuple[float, str]]]:
    """(week caps, run caps) in km from enabled "above" rules on distances, and from tripped personal
    alerts."""
    week, run = [], []
    items = []
    for r in rules or ():
        if getattr(r, "enabled", True) and getattr(r, "op", ">") in (">", ">="):
            rid = getattr(r, "id", None)
            items.append((r.metric, float(r.threshold), f"personal:{rid}" if rid is not None else "personal"))
    for a in alerts:
        if a.rule.startswith("personal") and a.values.get("op") in (">", ">="):
            items.append((a.values.get("metric"), float(a.values.get("threshold")), a.rule))
    for metric, threshold, name in items:
        if metric == "distance_km":
            week.append((threshold, name))
        elif metric in ("long_run_km", "run_distance_km"):
            run.append((threshold, name))
    return week, run


def make_plan(alerts: list[Alert], weekly: pd.DataFrame | None, runs: pd.DataFrame | None,
              pain: pd.DataFrame | None, settings, as_of, *, rules=()) -> Plan:
    """Next week's :class:`Plan` from the alerts of :func:`metrics.detector.evaluate` and the recent
    history (SCIENCE.md section 12).  ``rules``: the runner's personal rules; enabled "above" rules on
    weekly distance or run length cap the plan too."""
    as_of = as_date(as_of)
    units = getattr(settings, "units", "km") if settings is not None else "km"
    alarms = [a for a in alerts if a.alarm]
    by_rule: dict[str, list[Alert]] = {}
    for a in alarms:
        by_rule.setdefault(a.rule, []).append(a)

    def reason(a: Alert) -> str:
        # plain words on every face: "Single-run spike (caution): ..." rather than "session_spike (amber)"
        return f"{fmt.words(a.rule, 'rule').capitalize()} ({fmt.words(a.severity, 'severity')}): {a.message}"

    # 1. red flags: escalate, never coach
    emergency = [a for a in alarms if a.severity == "emergency"]
    clinician = [a for a in alarms if a.severity == "see_clinician"]
    if emergency or clinician:
        status = "emergency" if emergency else "see_clinician"
        if emergency:
            care = EMERGENCY_CARE_MESSAGE
        elif any(a.rule == "red_flag_urgent" for a in clinician):
            care = URGENT_CARE_MESSAGE
        else:
            care = PERSISTENT_CARE_MESSAGE
        return Plan(status=status, reasons=[reason(a) for a in emergency + clinician], message=care,
                    care_message=care, units=units)

    h = history(weekly, runs, as_of)
    reasons: list[str] = []
    if not h.has_runs:
        reasons.append("not enough history: import a few weeks of runs to get a plan with numbers")
    elif h.avg_week_km is None:
        reasons.append("not enough history for a 4-week average week: import more weeks of runs")
    elif h.weeks_used < th.AVERAGE_WEEK_WEEKS:
        reasons.append(f"average week from {h.weeks_used} complete week(s) only (4 wanted)")
    spike_cap = None if h.longest_30d_km is None else (1 + th.MAX_SPIKE_FRAC) * h.longest_30d_km
    if spike_cap is None and h.has_runs:
        reasons.append("no run in the last 30 days, so no safe-longest-run figure: start back with walk-run")

    red_pain = [a for a in alarms if a.rule in ("pain_not_settled", "pain_rising")
                or (a.rule == "pain_during_run" and a.severity == "red")]
    amber_pain = [a for a in alarms if a.rule == "pain_during_run" and a.severity == "amber"]
    spikes = by_rule.get("session_spike", [])
    personal = [a for a in alarms if a.rule.startswith("personal")]
    if spikes:
        # the cap comes from the 30-day longest *before* the latest spike, not the spike itself (an
        # older spike's history is superseded by the runs since)
        latest = max(spikes, key=lambda a: a.date)
        pre_spike = float(latest.values["longest_30d_km"])
        spike_cap = (1 + th.MAX_SPIKE_FRAC) * pre_spike if spike_cap is None else min(
            spike_cap, (1 + th.MAX_SPIKE_FRAC) * pre_spike)

    runs_per_week = None if h.avg_runs is None else max(1, int(round(h.avg_runs)))
    stop = False
    cross: list[str] = []
    surface = None
    if red_pain:
        status = "red"
        reasons += [reason(a) for a in red_pain]
        week = None if h.avg_week_km is None else th.CUTBACK_RED_FRAC * h.avg_week_km
        run = None if h.avg_long_km is None else th.CUTBACK_RED_FRAC * h.avg_long_km
        run = _min(run, spike_cap)
        runs_per_week = None if runs_per_week is None else min(runs_per_week, th.RED_MAX_RUNS_PER_WEEK)
        intensity = "easy only"
        surface = _surface_advice(h, runs_per_week)
        cross = list(CROSS_TRAINING)
        stop = any(a.rule == "pain_during_run" and a.severity == "red" for a in red_pain)
        reasons.append(f"cutback: about {th.CUTBACK_RED_FRAC:.0%} of your 4-week average week, easy only "
                       f"({th.CUTBACK_EVIDENCE.line()})")
    elif amber_pain:
        status = "amber"
        reasons += [reason(a) for a in amber_pain + spikes]
        week, run = h.avg_week_km, spike_cap
        intensity = "easy only, no intervals or hard sessions"
        surface = _surface_advice(h, runs_per_week)
        reasons.append("amber pain: hold your volume at the 4-week average, no hard sessions, softer ground "
                       f"({th.CUTBACK_EVIDENCE.line()})")
    elif spikes:
        status = "amber"
        reasons += [reason(a) for a in spikes]
        week, run = h.avg_week_km, spike_cap
        intensity = "as usual; no run longer than the cap"
        reasons.append(f"after a spike: every run at most {1 + th.MAX_SPIKE_FRAC:.2f} times your 30-day longest "
                       "before the spike, the week at most your 4-week average")
    else:
        status = "amber" if personal else "green"
        reasons += [reason(a) for a in personal]
        week = None if h.max_week_km is None else (1 + th.GREEN_WEEK_GROWTH_FRAC) * h.max_week_km
        run = spike_cap
        intensity = "as usual"
        if not personal:
            reasons.append("green: no pain or spike alerts; the longest run stays within "
                           f"{1 + th.MAX_SPIKE_FRAC:.2f} x your 30-day longest ({th.FRANDSEN_2025.line()})")

    # personal rules cap the plan in every status
    week_caps, run_caps = _personal_caps(rules, alerts)
    for cap, name in week_caps:
        if week is None or cap < week:
            week = cap
            reasons.append(f"{name}: your rule keeps the week at or below {_fmt(cap, units)}")
    for cap, name in run_caps:
        if run is None or cap < run:
            run = cap
            reasons.append(f"{name}: your rule keeps each run at or below {_fmt(cap, units)}")
    if week is not None and run is not None and run > week:
        run = week

    plan = Plan(status=status, max_week_km=round_cap_km(week, units, week=True), max_run_km=round_cap_km(run, units),
                runs=runs_per_week, intensity=intensity, surface=surface, cross_training=cross, reasons=reasons,
                units=units, stop_running=stop)
    plan.message = headline(plan)
    return plan


def _min(a: float | None, b: float | None) -> float | None:
    vals = [v for v in (a, b) if v is not None]
    return min(vals) if vals else None


def headline(plan: Plan) -> str:
    """One sentence: "next week <= 28 km, longest run <= 11 km, two runs on soft ground, no intervals"."""
    u = plan.units
    parts = []
    if plan.max_week_km is not None:
        parts.append(f"next week ≤ {format_distance(plan.max_week_km, u)}")
    if plan.max_run_km is not None:
        parts.append(f"longest run ≤ {format_distance(plan.max_run_km, u)}")
    if plan.status == "red" and plan.runs:
        parts.append("one run" if plan.runs == 1 else
                     f"at most {count_words(plan.runs, 'run')} with a rest day between")
    if plan.surface:
        parts.append(f"{count_words(min(2, plan.runs or 2), 'run')} on soft ground")
    if plan.intensity and plan.intensity.startswith("easy"):
        parts.append("easy only" if plan.status == "red" else "no intervals")
    body = ", ".join(parts)
    if plan.stop_running:
        first = ("Stop running until walking is pain-free and cross-train instead (cycling, swimming); then "
                 "return with walk-run")
        return f"{first}: {body}." if body else f"{first}."
    if not body:
        return {"green": "Not enough history yet: import a few weeks of runs to get a plan with numbers.",
                "amber": "Hold your training steady, keep runs easy and on softer ground; import your runs for "
                         "numbers.",
                "red": "Cut your running to about half, easy only; import your runs for numbers."}.get(
                    plan.status, "Import your runs to get a plan with numbers.")
    return body[0].upper() + body[1:] + "."
