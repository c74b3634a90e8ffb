"""The plan for the next 7 days: a function of today's phase and the load history (SCIENCE.md
sections 12 and 13).

:func:`loadwatch.metrics.episodes.phase_timeline` says which phase the runner is in today; the plan turns it into
numbers:

* ``emergency`` / ``see_clinician``: no training numbers, the care message, until an assessment;
* ``stop``: no running numbers; cross-training minutes replace the running time, core and strength work
  stays; the runner is asked how the back feels until two check-ins let them return;
* ``reduce``: about half the pre-episode week and longest run (Bosquet 2007), easy only; cross-training
  minutes replace the running time cut;
* ``hold``: the pre-episode 4-week average week, the spike cap, no hard sessions, softer ground;
* ``return_to_run`` / ``rebuild``: the step's targets from the pre-episode (pre-break) figures, and the
  Frandsen cap (the lower wins);
* ``normal``: the Frandsen cap - 1.10 x the longest run of the last 23 days, so the cap holds for all 7
  days and following it never produces a spike alert - never below the runner's own recent longest run;
  after a spike, every run <= 1.10 x the 30-day longest before it and the week <= the 4-week average.

Strength and core work stays in every phase's plan but the red flags (SCIENCE.md §15,
:func:`loadwatch.metrics.training_sessions.strength_advice`).  Personal rules cap every phase that gives numbers.  Numbers are
kilometres inside (``max_week_km``, ``max_run_km``), shown in the runner's units and rounded *down* in steps
no coarser than 5% of the value (:func:`loadwatch.metrics.units.cap_in_units`), so the rounded figure is never above
the computed limit and never eats the allowance.  Every plan carries :data:`loadwatch.metrics.thresholds.NOT_MEDICAL_ADVICE`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import timedelta

import pandas as pd

from loadwatch.metrics import episodes as _ep
from loadwatch.metrics import fmt
from loadwatch.metrics import thresholds as th
from loadwatch.metrics import training_sessions as _sessions
from loadwatch.metrics.calendar import as_date, complete_weeks, run_dates
from loadwatch.metrics.detector import Alert, check_in_question, episode
from loadwatch.metrics.fmt import (
    EMERGENCY_CARE_MESSAGE,
    PERSISTENT_CARE_MESSAGE,
    REFERRAL_HOLD,
    URGENT_CARE_MESSAGE,
)
from loadwatch.metrics.units import cap_in_units, caps_in_units, format_distance, from_units

STATUSES = ("green", "amber", "red", "see_clinician", "emergency")
CROSS_TRAINING = ("cycling", "swimming", "elliptical", "deep-water running")
#: The plan's status for each phase (``normal`` is green, or amber after a spike or a personal rule).
PHASE_STATUS = {"normal": "green", "hold": "amber", "reduce": "red", "stop": "red", "return_to_run": "amber",
                "rebuild": "amber", "see_clinician": "see_clinician", "emergency": "emergency"}


@dataclass
class Plan:
    """Next week's plan.  Distances in km (None: no number given, e.g. in ``stop`` and for red flags)."""

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
    phase: str = "normal"
    phase_since: object = None
    step: int | None = None
    steps: int | None = None
    next_step: str | None = None
    check_in: str | None = None
    #: minutes a week of cross-training that replace the running time given up (stop / reduce)
    cross_training_min: float | None = None
    #: the sentence that keeps strength and core work in the plan (None under red flags)
    strength: str | None = None
    #: persistent pain: book a physiotherapist or doctor; the plan holds where it is (None otherwise)
    referral: str | None = None
    #: the day of the assessment whose decision sets this plan (None: loadwatch's defaults)
    set_by_clinician: object = None

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
            "cross_training_min": self.cross_training_min,
            "strength": self.strength,
            "stop_running": self.stop_running,
            "reasons": list(self.reasons),
            "message": self.message,
            "care_message": self.care_message,
            "disclaimer": self.disclaimer,
            "phase": self.phase,
            "phase_since": None if self.phase_since is None else pd.Timestamp(self.phase_since).date().isoformat(),
            "step": self.step,
            "steps": self.steps,
            "next_step": self.next_step,
            "check_in": self.check_in,
            "referral": self.referral,
            "set_by_clinician": None if self.set_by_clinician is None else
            pd.Timestamp(self.set_by_clinician).date().isoformat(),
        }


def _display(km: float | None, units: str) -> float | None:
    return None if km is None else round(cap_in_units(km, units), 2)


def round_cap_km(km: float | None, units: str = "km", *, week: bool = False) -> float | None:
    """A cap in km rounded *down* once, in the runner's units, in steps no coarser than 5% of the value
    (0.1 for short runs; :func:`loadwatch.metrics.units.cap_in_units`); back in km unrounded, so any face that
    shows it in those units reads exactly the rounded figure (miles are never rounded from a rounded km).
    None/NaN/not positive -> None.  ``week`` is accepted for older callers (weeks and runs round alike)."""
    if km is None or not math.isfinite(km) or km <= 0:
        return None
    rounded = cap_in_units(km, units)
    if rounded <= 0:
        return None
    return from_units(rounded, units)


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
    longest_23d_km: float | None = None  # longest run the 30-day window still holds on the plan's 7th day
    last_day_longest_km: float | None = None  # longest run of the last run day in the 30-day window
    max_runs: float | None = None  # the most runs of those weeks


def history(weekly: pd.DataFrame | None, runs: pd.DataFrame | None, as_of,
            *, weeks: int = th.AVERAGE_WEEK_WEEKS) -> _History:
    """The recent figures the plan scales from."""
    as_of = as_date(as_of)
    done = complete_weeks(weekly, as_of).tail(weeks)
    if done.empty or "distance_km" not in done.columns:
        avg = mx = avg_long = avg_runs = max_runs = None
    else:
        avg = float(done["distance_km"].fillna(0).mean())
        mx = float(done["distance_km"].fillna(0).max())
        avg_long = float(done["long_run_km"].fillna(0).mean()) if "long_run_km" in done.columns else None
        avg_runs = float(done["runs"].fillna(0).mean()) if "runs" in done.columns else None
        max_runs = float(done["runs"].fillna(0).max()) if "runs" in done.columns else None
    longest = longest23 = last_longest = None
    soft: list[str] = []
    has_runs = runs is not None and len(runs) > 0
    if has_runs:
        dates = run_dates(runs)
        for days in (th.SPIKE_WINDOW_DAYS, th.PLAN_LONGEST_DAYS):
            lo = as_of - timedelta(days=days - 1)
            recent = runs[(dates >= lo).to_numpy() & (dates <= as_of).to_numpy()]
            value = float(recent["distance_km"].max()) if len(recent) else None
            if days == th.SPIKE_WINDOW_DAYS:
                longest = value
                last_day = dates[(dates >= lo).to_numpy() & (dates <= as_of).to_numpy()].max() if len(recent) else None
                last_longest = (float(runs[(dates == last_day).to_numpy()]["distance_km"].max())
                                if last_day is not None else None)
            else:
                longest23 = value
        if "surface" in runs.columns:
            past = runs[(dates <= as_of).to_numpy()]
            used = set(past["surface"].dropna())
            soft = [s for s in th.SOFT_SURFACES if s in used]
    return _History(avg, mx, avg_long, avg_runs, len(done), longest, soft, has_runs, longest23, last_longest,
                    max_runs)


def frandsen_cap_km(h: _History) -> float | None:
    """1.10 x the longest run of the last 23 days (section 12: the run still in the 30-day window on the
    plan's seventh day); when those 23 days hold none, 1.10 x the last run day's longest (the run that
    stays in the window longest: :func:`loadwatch.metrics.episodes.frandsen_cap`); None without a run in 30 days."""
    base = h.longest_23d_km if h.longest_23d_km is not None else h.last_day_longest_km
    return None if base is None else (1 + th.MAX_SPIKE_FRAC) * base


def _surface_advice(h: _History, n_runs: int | None) -> str:
    k = fmt.count_words(min(2, n_runs or 2), "run")
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


def _num(x) -> float | None:
    return None if x is None or (isinstance(x, float) and not math.isfinite(x)) else float(x)


def _pre_episode_minutes(runs: pd.DataFrame | None, start, as_of) -> float | None:
    """Average weekly running minutes of the 4 weeks before the episode's first day (what
    cross-training replaces in ``stop`` and, in part, in ``reduce``)."""
    if runs is None or len(runs) == 0 or "duration_min" not in runs.columns:
        return None
    start = as_date(start if start is not None else as_of)
    dates = run_dates(runs)
    lo = start - timedelta(days=th.PRE_EPISODE_DAYS)
    part = runs[(dates >= lo).to_numpy() & (dates < start).to_numpy()]
    if part.empty:
        return None
    total = float(part["duration_min"].fillna(0).sum())
    return total / (th.PRE_EPISODE_DAYS / 7)


def _replacement_minutes(weekly: pd.DataFrame | None, runs: pd.DataFrame | None, row: dict, as_of,
                         reasons: list[str]) -> float | None:
    """Cross-training minutes a week that replace the running time given up in ``stop`` (all of it) and
    ``reduce`` (the part cut), from the 4 weeks before the episode (SCIENCE.md §12, §13, §15: a long stop
    does not shrink them); None in the other phases.  Adds the reason with the number."""
    phase = row["phase"]
    minutes = _sessions.cross_training_minutes(
        weekly, as_of, stop_running=phase == "stop", reduce=phase == "reduce",
        base_week_min=_pre_episode_minutes(runs, row.get("episode_start"), as_of))
    if minutes:
        reasons.append(f"cross-training: about {fmt.duration(minutes)} a week replaces the running time you give "
                       f"up ({_sessions.CROSS_TRAINING_EVIDENCE})")
    return minutes


def decision_words(visit: _ep.Visit | None, units: str = "km") -> str:
    """What a clinician decided at an assessment, in plain words ("" when they decided nothing)."""
    if visit is None or not visit.decided:
        return ""
    parts = []
    if visit.cleared:
        parts.append("cleared to run normally")
    if visit.return_step:
        parts.append(f"start the return to running at step {visit.return_step}")
    if visit.max_week_km is not None:
        parts.append(f"up to {format_distance(visit.max_week_km, units, cap=True)} a week")
    if visit.max_run_km is not None:
        parts.append(f"runs up to {format_distance(visit.max_run_km, units, cap=True)}")
    if visit.max_pain is not None:
        parts.append(f"pain during a run up to {visit.max_pain}/10")
    return ", ".join(parts)


def next_step_words(row: dict, units: str = "km") -> str | None:
    """What moves today's phase on, in plain words (None in ``normal``)."""
    phase = row["phase"]
    when = row.get("next_from")
    earliest = f" (from {fmt.day(when)} at the earliest)" if when else ""
    usual = row.get("usual_score")
    green = f"{_ep.green_max(usual):g}"
    if phase in _ep.ESCALATIONS:
        return ("Your training plan comes back, step by step, once you record that a clinician has seen you "
                "(\"I have seen a clinician\" on the Pain log page, or loadwatch pain assessed --date YYYY-MM-DD).")
    if row.get("referral") and phase not in ("stop", "normal"):
        return ("Your plan holds where it is until a clinician has seen you (record it on the Pain log page, or "
                "loadwatch pain assessed --date YYYY-MM-DD) or your pain has been back at its usual level for "
                f"{th.EPISODE_CLEAR_DAYS} days.")
    if phase == "stop":
        n = row.get("stop_checkins") or 0
        return (f"Walk-run starts (return to running, step 1 of {len(th.RETURN_WEEK_FRACS)}) after "
                f"{fmt.count_words(th.STOP_CLEAR_CHECKINS, 'check-in')} on different days with pain at "
                f"{_ep.back_to_usual(usual):g} or less ({n} so far), or the day after a clinician has seen you.")
    if phase == "hold":
        return f"Back to normal training after 7 days without pain above {green}{earliest}."
    if phase == "reduce":
        return (f"Back to normal training after 7 days with pain at {green} or less that settles by the "
                f"morning{earliest}.")
    if phase in _ep.STEPPED:
        runs = fmt.count_words(th.STEP_MIN_RUNS, "run")
        if phase == "rebuild" and not row.get("step_since"):
            return (f"Step 1 starts with your first run back; each step lasts at least 7 days with {runs} or more "
                    f"inside its limits and no pain above {green}.")
        last = row.get("step") == row.get("steps")
        target = "Back to normal training" if last else "Next step"
        return f"{target} after 7 days with {runs} or more inside these limits and pain at {green} or less{earliest}."
    return None


def _reason(a: Alert) -> str:
    # plain words on every face: "Single-run spike (caution): ..." rather than "session_spike (amber)"
    return f"{fmt.words(a.rule, 'rule').capitalize()} ({fmt.words(a.severity, 'severity')}): {a.fact}"


def _common(row: dict, as_of, units: str, walked: _ep.Episode) -> dict:
    """What every plan carries whatever its phase: the phase, its step, what moves it on, the check-in
    question, a referral and the clinician's date."""
    phase = row["phase"]
    common = {"phase": phase, "phase_since": row.get("since"), "units": units,
              "next_step": next_step_words(row, units), "check_in": check_in_question(row, as_of, walked)}
    if phase in _ep.STEPPED:
        common.update(step=row.get("step"), steps=row.get("steps"))
    if row.get("referral"):
        common["referral"] = PERSISTENT_CARE_MESSAGE  # the hold itself is the next step's sentence
    clinician = row.get("set_by_clinician")
    if clinician is not None and phase not in _ep.NO_NUMBERS:
        common["set_by_clinician"] = clinician
    return common


def _history_notes(h: _History, phase: str) -> list[str]:
    """Why the numbers are rough or missing: too little history."""
    if not h.has_runs:
        return ["not enough history: import a few weeks of runs to get a plan with numbers"]
    if h.avg_week_km is None and phase == "normal":
        return ["not enough history for a 4-week average week: import more weeks of runs"]
    if h.weeks_used < th.AVERAGE_WEEK_WEEKS and phase == "normal":
        return [f"average week from {h.weeks_used} complete week(s) only (4 wanted)"]
    return []


@dataclass
class _Today:
    """What every phase's step of :func:`make_plan` reads: today's timeline row, the alarms by kind, the
    load history and the reasons written so far (each step appends its own)."""

    row: dict
    h: _History
    alarms: list[Alert]
    reasons: list[str]
    runs_per_week: int | None

    @property
    def phase(self) -> str:
        return self.row["phase"]

    @property
    def frandsen(self) -> float | None:
        return frandsen_cap_km(self.h)

    @property
    def pain_alerts(self) -> list[Alert]:
        return [a for a in self.alarms if a.rule in _ep.PAIN_RULES + ("step_overrun", "pain_persistent")]

    @property
    def spikes(self) -> list[Alert]:
        return [a for a in self.alarms if a.rule == "session_spike"]

    @property
    def personal(self) -> list[Alert]:
        return [a for a in self.alarms if a.rule.startswith("personal")]

    @property
    def caps(self) -> tuple[float | None, float | None]:
        """(week, run) caps of the phase's step or of the clinician, in km."""
        return _num(self.row.get("max_week_km")), _num(self.row.get("max_run_km"))

    def explain(self, alerts: list[Alert], text: str | None = None) -> None:
        self.reasons += [_reason(a) for a in alerts]
        if text:
            self.reasons.append(text)


@dataclass
class _Draft:
    """A phase's numbers before the personal rules and the rounding: caps in km."""

    status: str
    week: float | None
    run: float | None
    runs_per_week: int | None
    intensity: str
    surface: str | None = None
    cross: list[str] = field(default_factory=list)


def _reduce(t: _Today) -> _Draft:
    week, run = t.caps
    runs = None if t.runs_per_week is None else min(t.runs_per_week, th.RED_MAX_RUNS_PER_WEEK)
    t.explain(t.pain_alerts, f"cutback: about {th.REDUCE_FRAC:.0%} of your week before the pain started, easy "
                             f"only ({th.CUTBACK_EVIDENCE.line()})")
    return _Draft(PHASE_STATUS["reduce"], week, run, runs, "easy only", _surface_advice(t.h, runs),
                  list(CROSS_TRAINING))


def _hold(t: _Today) -> _Draft:
    week_cap, run_cap = t.caps
    t.explain(t.pain_alerts + t.spikes, "amber pain: hold your volume at the 4-week average before the pain, no "
                                         f"hard sessions, softer ground ({th.CUTBACK_EVIDENCE.line()})")
    return _Draft(PHASE_STATUS["hold"], week_cap if week_cap is not None else t.h.avg_week_km,
                  run_cap if run_cap is not None else t.frandsen, t.runs_per_week,
                  "easy only, no intervals or hard sessions", _surface_advice(t.h, t.runs_per_week))


def _stepped(t: _Today) -> _Draft:
    row, phase = t.row, t.phase
    week, run = t.caps
    runs = row.get("runs_per_week") or t.runs_per_week
    draft = _Draft(PHASE_STATUS[phase], week, run, runs, "easy only")
    if phase == "return_to_run" and row.get("step") == 1:
        draft.intensity = "easy only, walk-run, a rest day between runs"
        draft.surface = _surface_advice(t.h, runs)
    what = "return to running" if phase == "return_to_run" else "rebuild after a break"
    t.explain(t.pain_alerts + t.spikes, f"{what}: step {row.get('step')} of {row.get('steps')}, and no run above "
                                         f"{1 + th.MAX_SPIKE_FRAC:.2f} times your recent longest (the lower number "
                                         f"wins) ({th.EPISODE_EVIDENCE.line()})")
    return draft


def _pre_spike_km(spikes: list[Alert]) -> float:
    """1.10 x the 30-day longest before the latest spike: no run above it after a spike."""
    latest = max(spikes, key=lambda a: a.date)
    return (1 + th.MAX_SPIKE_FRAC) * float(latest.values["longest_30d_km"])


def _after_spike(t: _Today) -> _Draft:
    t.explain(t.spikes, f"after a spike: every run at most {1 + th.MAX_SPIKE_FRAC:.2f} times your 30-day longest "
                        "before the spike, the week at most your 4-week average")
    return _Draft("amber", t.h.avg_week_km, _min(_pre_spike_km(t.spikes), t.frandsen), t.runs_per_week,
                  "as usual; no run longer than the cap")


def _normal(t: _Today) -> _Draft:
    row, h, personal = t.row, t.h, t.personal
    clinician = row.get("set_by_clinician")
    t.explain(personal + t.pain_alerts)
    week = None if h.max_week_km is None else (1 + th.GREEN_WEEK_GROWTH_FRAC) * h.max_week_km
    run = t.frandsen
    if clinician is not None:
        # the clinician's own caps, over every default (SCIENCE.md section 13)
        week_cap, run_cap = t.caps
        week, run = (week_cap if week_cap is not None else week), (run_cap if run_cap is not None else run)
    if t.frandsen is None and h.has_runs:
        t.reasons.append("no run in the last 30 days, so no safe-longest-run figure: start back with walk-run")
    if not personal and not row.get("referral") and clinician is None:
        t.reasons.append("green: no pain or spike alerts; the longest run stays within "
                         f"{1 + th.MAX_SPIKE_FRAC:.2f} times your longest of the last {th.PLAN_LONGEST_DAYS} days, "
                         f"so the cap holds all week ({th.FRANDSEN_2025.line()})")
    return _Draft("amber" if personal or row.get("referral") else "green", week, run, t.runs_per_week, "as usual")


def _phase_draft(t: _Today) -> _Draft:
    """The numbers of today's phase: a cutback, a hold, a step, after a spike, or normal training."""
    if t.phase == "reduce":
        return _reduce(t)
    if t.phase == "hold":
        return _hold(t)
    if t.phase in _ep.STEPPED:
        return _stepped(t)
    if t.spikes:
        return _after_spike(t)
    return _normal(t)


def _capped(d: _Draft, t: _Today, rules, alerts: list[Alert], units: str) -> tuple[float | None, float | None]:
    """(week, run) in km after the caps every phase with numbers keeps: 1.10 x the longest before a spike,
    the runner's own rules, a run never above the week, and never more than N runs at the run cap."""
    week, run = d.week, d.run
    if t.spikes and t.phase != "normal":
        # after a spike, no run above 1.10 x the 30-day longest before it, in every phase (lower wins)
        run = _min(run, _pre_spike_km(t.spikes))
    week_caps, run_caps = _personal_caps(rules, alerts)
    for cap, name in week_caps:
        if week is None or cap < week:
            week = cap
            t.reasons.append(f"{fmt.words(name, 'rule').capitalize()}: your rule keeps the week at or below "
                             f"{_fmt(cap, units)}")
    for cap, name in run_caps:
        if run is None or cap < run:
            run = cap
            t.reasons.append(f"{fmt.words(name, 'rule').capitalize()}: your rule keeps each run at or below "
                             f"{_fmt(cap, units)}")
    if week is not None and run is not None and run > week:
        run = week
    if d.runs_per_week and week is not None and run is not None:
        week = min(week, d.runs_per_week * run)  # caps a person can follow: never more than N runs at the run cap
    return week, run


def _rounded(week: float | None, run: float | None, runs_per_week: int | None,
             units: str) -> tuple[float | None, float | None]:
    """(week, run) in km, rounded once in the runner's units by :func:`loadwatch.metrics.units.caps_in_units` (the
    week never more than N runs at the rounded run cap), the rounding an over-run alert's cap shares."""
    shown = caps_in_units(week, run, runs_per_week, units)
    week_km, run_km = (None if v is None else from_units(v, units) for v in shown)
    return week_km, run_km


def make_plan(alerts: list[Alert], weekly: pd.DataFrame | None, runs: pd.DataFrame | None,
              pain: pd.DataFrame | None, settings, as_of, *, rules=(), assessments=None,
              walked: _ep.Episode | None = None) -> Plan:
    """Next week's :class:`Plan`: today's phase (:func:`loadwatch.metrics.episodes.phase_timeline` over ``runs``,
    ``pain`` and ``assessments``; or ``walked`` when the caller has it) turned into numbers from the load
    history, explained by ``alerts`` (:func:`loadwatch.metrics.detector.evaluate`).  ``rules``: the runner's
    personal rules; enabled "above" rules on weekly distance or run length cap every phase with numbers."""
    as_of = as_date(as_of)
    units = getattr(settings, "units", "km") if settings is not None else "km"
    walked = walked if walked is not None else episode(runs, pain, assessments, as_of)
    row = _ep.today(walked.timeline, as_of)
    phase = row["phase"]
    alarms = [a for a in alerts if a.alarm]
    common = _common(row, as_of, units, walked)
    # 1. red flags: escalate, never coach
    if phase in _ep.ESCALATIONS:
        care_alerts = [a for a in alarms if a.severity in _ep.ESCALATIONS]
        care = EMERGENCY_CARE_MESSAGE if phase == "emergency" else URGENT_CARE_MESSAGE
        return Plan(status=phase, reasons=[_reason(a) for a in care_alerts] or [row["reason"]], message=care,
                    care_message=care, stop_running=phase == "emergency", **common)
    # strength and core work stays in every plan but the red flags (SCIENCE.md §15)
    strength = _sessions.strength_advice(weekly, as_of, red_flag=False)
    h = history(weekly, runs, as_of)
    reasons = [_reason(a) for a in alarms if a.rule == "phase"] + _history_notes(h, phase)
    # "up to N runs": the most runs of the recent weeks (an average after a break said "runs: 1", and the
    # week cap, never more than N runs at the run cap, fell to a single run)
    t = _Today(row, h, alarms, reasons, None if h.max_runs is None else max(1, int(round(h.max_runs))))
    # 2. stop: no running numbers, cross-training replaces the running time
    if phase == "stop":
        t.explain(t.pain_alerts, "stop running for now: no running until walking is pain-free; low-impact "
                                 f"cross-training replaces the running time ({th.CUTBACK_EVIDENCE.line()})")
        minutes = _replacement_minutes(weekly, runs, row, as_of, reasons)
        plan = Plan(status="red", cross_training=list(CROSS_TRAINING), reasons=reasons, stop_running=True,
                    intensity=None, cross_training_min=minutes, strength=strength, **common)
        plan.message = headline(plan)
        return plan
    # 3. a phase with numbers, then the caps every such phase keeps
    d = _phase_draft(t)
    week, run = _capped(d, t, rules, alerts, units)
    week_km, run_km = _rounded(week, run, d.runs_per_week, units)
    clinician = row.get("set_by_clinician")
    if clinician is not None:
        visit = walked.last_visit(as_of)
        said = decision_words(visit, units)
        reasons.insert(0, f"set by your clinician on {fmt.day(clinician)}" + (f": {said}" if said else ""))
        lower = _below_clinician_week(visit, week_km, run_km, d.runs_per_week, units)
        if lower:
            reasons.insert(1, lower)
    # cross-training replaces the running time cut in reduce (SCIENCE.md §12, §15)
    cross_min = _replacement_minutes(weekly, runs, row, as_of, reasons)
    plan = Plan(status=d.status, max_week_km=week_km, max_run_km=run_km, runs=d.runs_per_week,
                intensity=d.intensity, surface=d.surface, cross_training=d.cross, reasons=reasons,
                cross_training_min=cross_min, strength=strength, **common)
    plan.message = headline(plan)
    return plan


def _below_clinician_week(visit: _ep.Visit | None, week_km: float | None, run_km: float | None,
                          runs: int | None, units: str) -> str | None:
    """Why the plan's week is below the week a clinician allowed, when it is N runs at the run cap (SCIENCE.md
    section 13: the week cap is never more than N times the run cap, and the lower number wins); None
    otherwise.  The clinician's own figure stays quoted as they set it (:func:`decision_words`)."""
    if visit is None or visit.max_week_km is None or week_km is None or run_km is None or not runs:
        return None
    theirs = cap_in_units(visit.max_week_km, units)
    week = cap_in_units(week_km, units)
    if week >= theirs or week != cap_in_units(runs * run_km, units):
        return None  # the clinician's week is in force, or something else (a personal rule) lowered it
    return (f"this week at most {format_distance(week_km, units, cap=True)}: {fmt.count_words(runs, 'run')} at your "
            f"run cap of {format_distance(run_km, units, cap=True)}, under the "
            f"{format_distance(visit.max_week_km, units, cap=True)} a week your clinician allowed (the lower number "
            "wins)")


def alert_action(alert: Alert, plan: Plan) -> str:
    """What an alert tells the runner to do, in the plan's own words and numbers (one voice: the light,
    the headline, every alert and the plan say the same thing)."""
    if alert.rule == "session_spike":
        if plan.max_run_km is None:
            return ""
        return f"For now keep every run at or below {format_distance(plan.max_run_km, plan.units)}."
    if alert.rule == "pain_persistent":
        return REFERRAL_HOLD
    if plan.phase == "stop":
        return "Stop running for now and cross-train instead (your plan for the next 7 days)."
    return f"Your plan for the next 7 days: {plan.message}"


#: Alerts whose action the plan words (personal rules keep the runner's own wording; information asks
#: nothing).
ALIGNED_RULES = (*_ep.PAIN_RULES, "session_spike", "step_overrun", "pain_persistent")


def align(alerts: list[Alert], plan: Plan) -> list[Alert]:
    """Every alarm's action from the plan (:func:`alert_action`), and a light never greener than an
    alarm beside it."""
    for a in alerts:
        if a.alarm and a.rule in ALIGNED_RULES:
            a.act(alert_action(a, plan))
    if plan.status == "green" and any(a.alarm for a in alerts):
        plan.status = "amber"
    return alerts


def _min(a: float | None, b: float | None) -> float | None:
    vals = [v for v in (a, b) if v is not None]
    return min(vals) if vals else None


def headline(plan: Plan) -> str:
    """One sentence: "next week <= 28 km, longest run <= 11 km, two runs on soft ground, no intervals"."""
    u = plan.units
    if plan.stop_running and plan.phase == "stop":
        minutes = (f"about {fmt.duration(plan.cross_training_min)} a week of " if plan.cross_training_min else "")
        return (f"Stop running for now: {minutes}cycling, swimming, elliptical or deep-water running instead, and "
                f"keep your core and strength work. {plan.next_step or ''}").strip()
    parts = []
    if plan.max_week_km is not None:
        parts.append(f"next week ≤ {format_distance(plan.max_week_km, u)}")
    if plan.max_run_km is not None:
        parts.append(f"longest run ≤ {format_distance(plan.max_run_km, u)}")
    if plan.status == "red" and plan.runs:
        parts.append("one run" if plan.runs == 1 else
                     f"at most {fmt.count_words(plan.runs, 'run')} with a rest day between")
    if plan.surface:
        parts.append(f"{fmt.count_words(min(2, plan.runs or 2), 'run')} on soft ground")
    if plan.intensity and plan.intensity.startswith("easy"):
        if "walk-run" in plan.intensity:
            parts.append("walk-run, easy only")
        else:
            parts.append("easy only" if plan.status == "red" or plan.phase in _ep.STEPPED else "no intervals")
    body = ", ".join(parts)
    prefix = ""
    if plan.phase in _ep.STEPPED and plan.step:
        prefix = f"{fmt.words(plan.phase, 'phase').capitalize()}, step {plan.step} of {plan.steps}: "
    if not body:
        return prefix + {
            "green": "Not enough history yet: import a few weeks of runs to get a plan with numbers.",
            "amber": "Hold your training steady, keep runs easy and on softer ground; import your runs for "
                     "numbers.",
            "red": "Cut your running to about half, easy only; import your runs for numbers."}.get(
                plan.status, "Import your runs to get a plan with numbers.")
    if prefix:
        return prefix + body + "."
    return body[0].upper() + body[1:] + "."


def step_sentence(plan: dict) -> str | None:
    """"Step 2 of 4: up to 16 km this week, longest 5 km." for a stepped phase (None otherwise)."""
    if not plan.get("step") or plan.get("phase") not in _ep.STEPPED:
        return None
    u = plan.get("units", "km")
    parts = []
    if plan.get("max_week_km") is not None:
        parts.append(f"up to {format_distance(plan['max_week_km'], u)} this week")
    if plan.get("max_run_km") is not None:
        parts.append(f"longest {format_distance(plan['max_run_km'], u)}")
    body = ", ".join(parts) if parts else "walk-run, easy only"
    return f"Step {plan['step']} of {plan['steps']}: {body}."


def phase_summary(plan: dict, *, care: bool = True) -> str:
    """Today's phase in plain words, with what moves it on: the sentence the faces show beside the plan
    ("Return to running, step 2 of 4: up to 16 km this week, longest 5 km. Next step after 7 days with pain
    at 3 or less.").  Under a red flag it holds the care message and no training number."""
    phase = plan.get("phase") or "normal"
    name = fmt.words(phase, "phase")
    name = name[0].upper() + name[1:]
    since = plan.get("phase_since")
    when = f" since {fmt.day(since)}" if since and phase != "normal" else ""
    if phase in _ep.ESCALATIONS:
        body = (plan.get("care_message") or plan.get("message") or "") if care else ""
    elif phase in _ep.STEPPED and plan.get("step"):
        body = step_sentence(plan) or ""
    elif phase == "stop":
        body = (plan.get("message") or "").replace(plan.get("next_step") or "\0", "").strip()
        body = body.removeprefix("Stop running for now: ")
        body = body[:1].upper() + body[1:]
    else:
        body = plan.get("message") or ""
    text = f"{name}{when}. {body}".strip()
    if plan.get("set_by_clinician") and phase not in _ep.NO_NUMBERS:
        text += f" Set by your clinician on {fmt.day(plan['set_by_clinician'])}."
    if plan.get("referral"):
        text += " " + plan["referral"]
    if plan.get("next_step"):
        text += " " + plan["next_step"]
    return text


def phase_lines(plan: dict, units: str = "km") -> list[str]:
    """The phase block of the command line's ``alerts check`` and ``report``: the care message first under
    a red flag, the phase and what moves it on, and the check-in question."""
    lines = []
    if plan.get("care_message"):
        lines.append(plan["care_message"])
    lines.append(phase_summary(plan, care=not plan.get("care_message")))
    if plan.get("check_in"):
        lines.append(plan["check_in"])
    return lines
