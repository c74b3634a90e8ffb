"""The detector: built-in alert rules (SCIENCE.md sections 2-5, 10, 11) and the runner's personal rules.

Every rule is a small pure function over the documented frames (``loadwatch.metrics.spike.run_table``,
``loadwatch.metrics.weekly.weekly_table``, ``loadwatch.metrics.daily.daily_series``, the store's pain frame) and returns
:class:`Alert` records.  An alert names its rule, carries the numbers that tripped it (metric units, the
unit in each key) and the strength and source of the evidence.  Rules whose evidence is weak are
information only (``alarm=False``).  Red flags (section 11) escalate: when one is present, :func:`evaluate`
returns only the care alerts, because red flags replace training advice, never sit beside it.

The pain rules read the pain log as an episode (:mod:`loadwatch.metrics.episodes`, SCIENCE.md sections 10, 11 and
13): the alerts explain the phase the runner is in today, and red flags and persistent pain stay until an
assessment is recorded, whatever their age.

Dates are the runner's local calendar days.  ``as_of`` is the day the alerts are computed for; the
lookback window (spikes, pain entries shown) is the ``lookback_days`` days ending on ``as_of``
(inclusive).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd

from loadwatch.metrics import episodes as _ep
from loadwatch.metrics import fmt
from loadwatch.metrics import thresholds as th
from loadwatch.metrics.calendar import as_date, complete_weeks, pain_frame, run_dates, window
from loadwatch.metrics.fmt import words
from loadwatch.metrics.rules import RULE_METRICS, RuleHit, evaluate_rules
from loadwatch.metrics.units import caps_in_units, format_distance, from_units

SEVERITIES = ("info", "amber", "red", "see_clinician", "emergency")
SEVERITY_RANK = {s: i for i, s in enumerate(SEVERITIES)}


@dataclass
class Alert:
    """One alert.  ``values`` holds the numbers that tripped it, in metric units (the unit in each key:
    ``distance_km``, ``spike_pct``...); ``message`` is plain words in the runner's units."""

    rule: str
    severity: str  # one of SEVERITIES
    date: str  # ISO local date the alert is about
    activity_id: str | None
    message: str
    evidence: str
    values: dict = field(default_factory=dict)
    alarm: bool = True
    #: what the alert tells the runner to do: the plan's own words (:func:`metrics.advice.advise` sets it
    #: from the plan, so every alert and the plan say the same thing); ``message`` is ``fact`` + ``action``
    action: str = ""
    fact: str = ""

    def __post_init__(self):
        if self.severity not in SEVERITY_RANK:
            raise ValueError(f"alert severity must be one of {', '.join(SEVERITIES)} (got {self.severity!r})")
        if not self.fact:
            self.fact = self.message
        self.message = f"{self.fact} {self.action}".strip()

    def act(self, action: str) -> Alert:
        """The alert with ``action`` as what it asks (its message rebuilt from its fact)."""
        self.action = action
        self.message = f"{self.fact} {action}".strip()
        return self

    def to_dict(self) -> dict:
        """JSON-able: NaN becomes None, numpy numbers become Python numbers."""
        out = asdict(self)
        out["values"] = {k: _jsonable(v) for k, v in self.values.items()}
        return out


def _jsonable(v):
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and v != v:
        return None
    if isinstance(v, (tuple, list)):
        return [_jsonable(x) for x in v]
    if isinstance(v, date):
        return v.isoformat()
    return v


# --- helpers -----------------------------------------------------------------------------------------

def _units(settings) -> str:
    return getattr(settings, "units", "km") if settings is not None else "km"


# --- section 2: single-session spike (strong) -------------------------------------------------------

def session_spike(runs: pd.DataFrame | None, as_of, *, lookback_days: int = th.ALERT_LOOKBACK_DAYS,
                  units: str = "km", max_spike_frac: float = th.MAX_SPIKE_FRAC) -> list[Alert]:
    """Runs in the lookback window more than ``max_spike_frac`` (0.10) longer than the longest run of
    the previous 30 days (Frandsen 2025).  Needs the run table's ``distance_km``, ``longest_30d_km``
    and ``spike_pct``; runs without 30-day history (NaN) never alert."""
    as_of = as_date(as_of)
    if runs is None or len(runs) == 0 or "spike_pct" not in runs.columns:
        return []
    lo, hi = window(as_of, lookback_days)
    dates = run_dates(runs)
    limit_pct = max_spike_frac * 100.0
    alerts = []
    in_window = dates.map(lambda d: lo <= d <= hi).to_numpy(dtype=bool)  # five years of runs: look at the last days'
    for activity_id, row in runs[in_window].iterrows():
        day = dates.loc[activity_id]
        spike_pct = round(float(row["spike_pct"]), 6)  # 11 km after 10 km is 10.000000000000009%
        if not lo <= day <= hi or not spike_pct > limit_pct:  # NaN compares False
            continue
        cat = th.spike_category(spike_pct)
        distance_km = float(row["distance_km"])
        longest_km = float(row["longest_30d_km"])
        safe_km = (1.0 + max_spike_frac) * longest_km
        message = (
            f"Your {format_distance(distance_km, units)} run on {fmt.day(day)} was {fmt.pct(spike_pct)} longer "
            f"than your longest run of the previous 30 days ({format_distance(longest_km, units)}). "
            f"In 5,205 runners, runs {cat.lower_pct:.0f}"
            + (f"-{cat.upper_pct:.0f}%" if cat.upper_pct != float("inf") else "%+")
            + f" longer than the 30-day longest came with {cat.hazard_ratio:.2f} times the injury rate "
            f"(95% CI {cat.ci_low:.2f}-{cat.ci_high:.2f})."
        )
        alerts.append(Alert(
            rule="session_spike", severity="amber", date=day.isoformat(), activity_id=str(activity_id),
            message=message, evidence=th.FRANDSEN_2025.line(),
            action=f"For now keep every run at or below {format_distance(safe_km, units, cap=True)}.",
            values={"distance_km": round(distance_km, 2), "longest_30d_km": round(longest_km, 2),
                    "spike_pct": round(spike_pct, 1), "category": cat.name, "hazard_ratio": cat.hazard_ratio,
                    "hazard_ratio_ci_low": cat.ci_low, "hazard_ratio_ci_high": cat.ci_high,
                    "safe_longest_km": round(safe_km, 2), "max_spike_pct": limit_pct},
        ))
    return alerts


# --- sections 10, 11, 13: the pain log read as an episode ------------------------------------------

def episode(runs=None, pain=None, assessments=None, as_of=None) -> _ep.Episode:
    """The phase timeline up to ``as_of`` and how each pain entry was read (:func:`loadwatch.metrics.episodes.walk`)."""
    return _ep.walk(runs, pain_frame(pain), assessments, end=as_date(as_of))


def _readings(pain, as_of, lookback_days, rules: tuple[str, ...], *, runs=None, assessments=None,
              walked: _ep.Episode | None = None) -> list[_ep.Reading]:
    as_of = as_date(as_of)
    walked = walked if walked is not None else episode(runs, pain, assessments, as_of)
    lo, hi = window(as_of, lookback_days)
    return [r for r in walked.readings if r.rule in rules and lo <= r.day <= hi]


_WHEN = {"during": "during a run", "after": "right after a run", "rest_of_day": "later in the day",
         "next_morning": "the next morning"}


#: What an entry's reading asks on its own (``advise`` replaces it with the plan's own words).
LEVEL_ACTION = {
    "stop": "Stop running until walking is pain-free and cross-train instead.",
    "reduce": "Cut the next week to about half and keep runs easy.",
    "hold": "Hold your volume, keep runs easy and on softer ground.",
}


def _pain_alert(r: _ep.Reading) -> Alert:
    """The alert that explains one pain entry's reading (section 10): the fact, and the action its level
    asks for on its own (the plan's words replace it in :func:`loadwatch.metrics.advice.advise`)."""
    action = LEVEL_ACTION.get(r.level, "")
    if r.rule in ("pain_during_run", "pain_without_run"):
        red = r.level == "stop"
        band = ("above 5 out of 10 is too much" if red else
                "4-5 out of 10 is acceptable if it settles by the next morning")
        if r.score <= th.PAIN_AMBER_MAX and red:
            band = "more than your clinician allowed"
        with_run = r.rule == "pain_during_run"
        when = _WHEN.get(r.timing, "") if with_run or r.timing == "rest_of_day" else words(r.timing, "timing")
        ran = "" if with_run else f" (no run in the {th.PAIN_RUN_DAYS} days before)"
        return Alert(
            rule=r.rule, severity="red" if red else "amber", date=r.day.isoformat(),
            activity_id=r.activity_id,
            message=f"You logged back pain of {r.score}/10 {when} on {fmt.day(r.day)}{ran}: {band}.",
            action=action, evidence=th.PAIN_MONITORING_EVIDENCE.line(),
            values={"score": r.score, "timing": r.timing, "green_max": th.PAIN_GREEN_MAX,
                    "amber_max": th.PAIN_AMBER_MAX, "pain_entry_id": r.entry_id})
    if r.rule == "pain_not_settled":
        usual = ("you have no usual morning level yet (fewer than "
                 f"{th.PAIN_BASELINE_MIN_ENTRIES} logged mornings), and above {th.PAIN_SETTLE_NO_BASELINE_MAX}/10 "
                 "has not settled" if r.usual_score is None else
                 f"{th.PAIN_SETTLE_MARGIN} or more above your usual morning level ({r.usual_score:g}/10)")
        if r.level == "stop":
            usual = "above 5 out of 10 the next morning is too much"
        return Alert(
            rule="pain_not_settled", severity="red", date=r.day.isoformat(), activity_id=r.activity_id,
            message=f"On the morning of {fmt.day(r.day)} your back pain was {r.score}/10: {usual}.",
            action=action, evidence=th.PAIN_MONITORING_EVIDENCE.line(),
            values={"score": r.score, "baseline_score": r.usual_score, "margin": th.PAIN_SETTLE_MARGIN,
                    "pain_entry_id": r.entry_id})
    what = "next-morning" if r.values.get("group") == "morning" else "during- and after-run"
    return Alert(
        rule="pain_rising", severity="red", date=r.day.isoformat(), activity_id=None,
        message=(f"Your {what} back pain is rising: it averaged {r.values['mean_score_7d']:.1f}/10 over the 7 days "
                 f"to {fmt.day(r.day)} against {r.values['mean_score_prev_7d']:.1f}/10 the week before."),
        action=action, evidence=th.PAIN_MONITORING_EVIDENCE.line(),
        values={"mean_score_7d": r.values["mean_score_7d"], "mean_score_prev_7d": r.values["mean_score_prev_7d"],
                "margin": th.PAIN_RISING_MARGIN, "timing_group": r.values.get("group"),
                "pain_entry_id": r.entry_id})


def pain_during_run(pain: pd.DataFrame | None, as_of, *, lookback_days: int = th.ALERT_LOOKBACK_DAYS,
                    **kw) -> list[Alert]:
    """Pain during, right after or later on the day of a run in the lookback window: 0-3 green (no
    alert), 4-5 amber, above 5 red (Silbernagel 2007 pain-monitoring model)."""
    return [_pain_alert(r) for r in _readings(pain, as_of, lookback_days, ("pain_during_run", "pain_without_run"),
                                              **kw)]


def morning_baseline(pain: pd.DataFrame | None, day: date, *, days: int = th.PAIN_BASELINE_DAYS) -> float | None:
    """The runner's usual next-morning score before ``day``: the median of the logged next-morning
    scores of the ``days`` days before it (at least 3 entries; unlogged mornings are unknown, not 0);
    None without enough entries.  (The timeline also leaves out mornings inside a pain episode.)"""
    df = pain_frame(pain)
    mornings = [(d, int(sc)) for d, sc, t in zip(df["day"], df["score"], df["timing"], strict=True)
                if t == "next_morning"]
    return _ep.usual_morning(mornings, day, days=days)


def pain_not_settled(pain: pd.DataFrame | None, as_of, *, lookback_days: int = th.ALERT_LOOKBACK_DAYS,
                     **kw) -> list[Alert]:
    """Next-morning scores in the lookback window that had not settled: 2 or more above the runner's
    usual morning level (above 3 without one), or above 5 (section 10)."""
    kw.pop("margin", None)
    return [_pain_alert(r) for r in _readings(pain, as_of, lookback_days, ("pain_not_settled",), **kw)]


def pain_rising(pain: pd.DataFrame | None, as_of, *, lookback_days: int = 7, **kw) -> list[Alert]:
    """The weekly mean of one timing group (mornings; during/after/later in the day) up by 1.5 or more
    with at least 2 entries of it in both weeks (section 10): the latest such reading in the window."""
    kw.pop("margin", None)
    found = _readings(pain, as_of, lookback_days, ("pain_rising",), **kw)
    return [_pain_alert(found[-1])] if found else []


# --- section 11: red flags and persistent pain (consensus): they stay until an assessment ---------

def _care_alert(row: dict, walked: _ep.Episode, kind: str | None = None) -> Alert | None:
    """The care alert for an open red flag (the timeline's row for today); ``kind`` "urgent" asks for
    the see-within-days symptoms logged beside an emergency (None when there are none)."""
    emergency = row["phase"] == "emergency" and kind != "urgent"
    wanted = th.EMERGENCY_SYMPTOMS if emergency else th.URGENT_SYMPTOMS
    today = as_date(row["day"])
    visit = walked.last_visit(today)
    flagged = [r for r in walked.readings if (visit is None or r.at is None or r.at > visit.at) and r.day <= today
               and r.level in _ep.ESCALATIONS and any(s in wanted for s in r.symptoms)]
    if not flagged:
        return None
    found = list(dict.fromkeys(s for r in flagged for s in r.symptoms if s in wanted))
    since = min(r.day for r in flagged)
    latest = max(r.day for r in flagged)
    return Alert(
        rule="red_flag_emergency" if emergency else "red_flag_urgent",
        severity="emergency" if emergency else "see_clinician", date=latest.isoformat(), activity_id=None,
        message=fmt.care_message(found, since, latest, emergency=emergency),
        evidence=th.RED_FLAG_EVIDENCE.line(),
        values={"symptoms": found, "pain_entry_ids": [r.entry_id for r in flagged], "since": since.isoformat()})


def referral_alert(row: dict) -> Alert | None:
    """Persistent pain (section 10): a referral, not a red flag.  It asks the runner to book a
    physiotherapist or doctor and says the plan holds where it is; it removes no training number."""
    if not row.get("referral"):
        return None
    since = row.get("referral_since")
    return Alert(
        rule="pain_persistent", severity="amber", date=as_date(row["day"]).isoformat(), activity_id=None,
        message=(f"Since {fmt.day(since)}: {row.get('referral_reason') or 'persistent pain'}. "
                 f"{fmt.PERSISTENT_CARE_MESSAGE} {fmt.ASSESSED_HINT}"),
        action=fmt.REFERRAL_HOLD,
        evidence=th.PERSISTENT_PAIN_EVIDENCE.line(),
        values={"since": since.isoformat() if since else None, "min_days": th.PERSISTENT_PAIN_DAYS,
                "pain_checkin_frac_min": round(th.PERSISTENT_PAIN_DAY_FRAC, 2)})


def pain_persistent(pain: pd.DataFrame | None, as_of, *, runs=None, assessments=None,
                    walked: _ep.Episode | None = None, **kw) -> list[Alert]:
    """Persistent pain (section 10): the referral open on ``as_of`` for pain above the usual level at two
    thirds or more of one timing group's check-ins over more than 21 days, not improving.  It stays until
    an assessment or a week back at the usual level."""
    as_of = as_date(as_of)
    walked = walked if walked is not None else episode(runs, pain, assessments, as_of)
    found = referral_alert(_ep.today(walked.timeline, as_of))
    return [found] if found is not None else []


def red_flags(pain: pd.DataFrame | None, as_of, **kw) -> list[Alert]:
    """Open red-flag escalations (NICE NG59 / CKS): ``red_flag_emergency`` for the cauda-equina signs,
    ``red_flag_urgent`` for the see-within-days ones.  No time-out: a red flag stays until an assessment
    is recorded after it (section 11)."""
    kw.pop("lookback_days", None)
    return [a for a in care_alerts(pain, as_of, **kw) if a.rule.startswith("red_flag")]


def care_alerts(pain, as_of, *, runs=None, assessments=None, walked: _ep.Episode | None = None) -> list[Alert]:
    """The care alert of the escalation open on ``as_of`` (none when there is none)."""
    as_of = as_date(as_of)
    walked = walked if walked is not None else episode(runs, pain, assessments, as_of)
    row = _ep.today(walked.timeline, as_of)
    if row["phase"] not in _ep.ESCALATIONS:
        return []
    found = [_care_alert(row, walked)]
    if row["phase"] == "emergency":
        found.append(_care_alert(row, walked, "urgent"))
    return [a for a in found if a is not None]


def overrun_cap_words(o: _ep.Overrun, walked: _ep.Episode, units: str = "km") -> str:
    """The cap an over-run went above, as the plan showed it the evening before ("your step's 4.8 mi",
    "the 2.4 mi your clinician set on Sat 21 Nov 2026"): rounded once with the run cap and the runs of
    that day (:func:`loadwatch.metrics.units.caps_in_units`, the plan's own rounding), and called the
    clinician's only when it is the number the clinician gave (SCIENCE.md section 13: the lower number
    wins, and the clinician is quoted as they set it)."""
    row = _ep.today(walked.timeline, o.day - timedelta(days=1))
    if o.kind == "run":
        shown = caps_in_units(None, o.cap_km, None, units)[1]
    else:
        shown = caps_in_units(o.cap_km, row.get("max_run_km"), row.get("runs_per_week"), units)[0]
    text = format_distance(from_units(shown, units) if shown is not None else o.cap_km, units, cap=True)
    visit = (walked.visits.get(o.set_by_clinician) or [None])[-1] if o.set_by_clinician is not None else None
    theirs = None if visit is None else visit.max_run_km if o.kind == "run" else visit.max_week_km
    if theirs is not None and format_distance(theirs, units, cap=True) == text:
        return f"the {text} your clinician set on {fmt.day(o.set_by_clinician)}"
    return f"your step's {text}" if o.step else f"your plan's {text}"


def overrun_alerts(walked: _ep.Episode, as_of, *, lookback_days: int = th.ALERT_LOOKBACK_DAYS,
                   units: str = "km") -> list[Alert]:
    """Running above a return_to_run / rebuild step's caps (or a clinician's) in the lookback window
    (section 13): a too-much-too-soon event with both numbers; the step repeats."""
    as_of = as_date(as_of)
    lo, hi = window(as_of, lookback_days)
    out = []
    seen = [o for o in walked.overruns if lo <= o.day <= hi]
    for o in seen:
        if any(later.kind == o.kind and later.day > o.day for later in seen):
            continue  # one alert for each kind, the latest: the step starts again from it
        whose = overrun_cap_words(o, walked, units)
        step = (f" ({fmt.words(o.phase, 'phase')}, step {o.step} of {o.steps})" if o.step else "")
        if o.kind == "run":
            fact = (f"Your {format_distance(o.distance_km, units)} run on {fmt.day(o.day)} was above {whose}"
                    f"{step}: too much too soon. The step starts again.")
        else:
            fact = (f"Your running in the 7 days to {fmt.day(o.day)} ({format_distance(o.distance_km, units)}) "
                    f"was above {whose} for a week{step}: too much too soon. The step starts again.")
        out.append(Alert(
            rule="step_overrun", severity="amber", date=o.day.isoformat(),
            activity_id=None if o.activity_id is None else str(o.activity_id), message=fact,
            evidence=th.EPISODE_EVIDENCE.line(),
            values={"kind": o.kind, "distance_km": round(o.distance_km, 2), "cap_km": round(o.cap_km, 2),
                    "phase": o.phase, "step": o.step, "steps": o.steps,
                    "times": sum(1 for other in seen if other.kind == o.kind)}))
    return out


# --- section 13: the phase, and the check-in question ----------------------------------------------

PHASE_SEVERITY = {"normal": "info", "hold": "amber", "reduce": "red", "stop": "red", "return_to_run": "amber",
                  "rebuild": "amber", "see_clinician": "see_clinician", "emergency": "emergency"}
CHECK_IN_QUESTION = ("How does your back feel today? Log a score from 0 to 10 (loadwatch pain add, or the Pain "
                     "log page): your check-ins move the plan on.")
CHECK_IN_PHASES = ("hold", "reduce", "stop", "return_to_run")


def check_in_question(row: dict, as_of, walked: _ep.Episode) -> str | None:
    """The question to ask when the phase moves only on check-ins and nothing is logged today."""
    as_of = as_date(as_of)
    if row["phase"] not in CHECK_IN_PHASES:
        return None
    if any(r.day == as_of for r in walked.readings):
        return None
    return CHECK_IN_QUESTION


def phase_alert(row: dict) -> Alert | None:
    """An alert that names today's phase and why (none in ``normal``)."""
    phase = row["phase"]
    if phase in ("normal",) + _ep.ESCALATIONS:
        return None
    step = f", step {row['step']} of {row['steps']}," if row.get("step") else ""
    reason = row["reason"] or ""
    why = "" if reason.startswith(fmt.words(phase, "phase")) else f": {reason}"
    values = {"phase": phase, "since": row["since"].isoformat() if row["since"] else None}
    if row.get("step"):
        values.update(step=row["step"], steps=row["steps"])
    values.update(entry_id=row.get("entry_id"), entry_kind=row.get("entry_kind"))
    what = "Back to running after a break" if phase == "rebuild" else "Back-pain episode"
    return Alert(
        rule="phase", severity=PHASE_SEVERITY[phase], date=as_date(row["day"]).isoformat(), activity_id=None,
        message=f"{what}: {fmt.words(phase, 'phase')}{step} since {fmt.day(row['since'])}{why}.",
        evidence=th.EPISODE_EVIDENCE.line(), values=values)


# --- sections 3-5: information only (weak / practice thresholds) ----------------------------------

def acwr_info(daily: pd.DataFrame | None, as_of, *, lookback_days: int = th.ALERT_LOOKBACK_DAYS,
              danger: float = th.ACWR_DANGER) -> list[Alert]:
    """The latest acute:chronic ratio in the window at or above the "danger" band (Gabbett 2016, team
    sports): information only, with its caveat."""
    as_of = as_date(as_of)
    if daily is None or len(daily) == 0 or "acwr" not in daily.columns:
        return []
    lo, hi = window(as_of, lookback_days)
    idx = pd.to_datetime(daily.index)
    mask = (idx.date >= lo) & (idx.date <= hi)
    series = daily.loc[mask, "acwr"].dropna()
    if series.empty:
        return []
    value = float(series.iloc[-1])
    day = pd.Timestamp(series.index[-1]).date()
    if not value >= danger:
        return []
    return [Alert(
        rule="acwr", severity="info", date=day.isoformat(), activity_id=None,
        message=f"Your acute:chronic workload ratio is {value:.2f} (the team-sport 'danger' band starts at "
                f"{danger:g}). {th.ACWR_CAVEAT}",
        evidence=th.ACWR_EVIDENCE.line(), values={"acwr": round(value, 2), "acwr_danger": danger}, alarm=False,
    )]


def _latest_complete_week(weekly, as_of, lookback_days, column):
    weeks = complete_weeks(weekly, as_of)
    if weeks.empty or column not in weeks.columns:
        return None
    start = weeks.index[-1]
    if start + timedelta(days=6) < as_of - timedelta(days=lookback_days - 1):
        return None  # stale: the last complete week ended before the window
    value = weeks[column].iloc[-1]
    return (start, float(value)) if pd.notna(value) else None


def monotony_info(weekly: pd.DataFrame | None, as_of, *, lookback_days: int = th.ALERT_LOOKBACK_DAYS,
                  limit: float = th.MONOTONY_INFO) -> list[Alert]:
    """Training monotony of the latest complete week above ``limit`` (Foster 1998; the 2.0 flag comes
    from practice): information only."""
    as_of = as_date(as_of)
    found = _latest_complete_week(weekly, as_of, lookback_days, "monotony")
    if found is None or not found[1] > limit:
        return []
    start, value = found
    return [Alert(
        rule="monotony", severity="info", date=start.isoformat(), activity_id=None,
        message=f"Training monotony in the week of {fmt.day(start)} was {value:.1f} (above {limit:g}): most "
                "days carried a similar load. Varying hard, easy and rest days is a common remedy.",
        evidence=th.MONOTONY_EVIDENCE.line(), values={"monotony": round(value, 2), "monotony_info": limit},
        alarm=False,
    )]


def weekly_change_info(weekly: pd.DataFrame | None, as_of, *, lookback_days: int = th.ALERT_LOOKBACK_DAYS,
                       limit_pct: float = th.WEEKLY_CHANGE_INFO_PCT, units: str = "km") -> list[Alert]:
    """Week-over-week distance change of the latest complete week above ``limit_pct`` (Nielsen 2014 did
    not find a significant effect): information only."""
    as_of = as_date(as_of)
    found = _latest_complete_week(weekly, as_of, lookback_days, "change_pct")
    if found is None or not found[1] > limit_pct:
        return []
    start, value = found
    weeks = complete_weeks(weekly, as_of)
    distance = float(weeks["distance_km"].iloc[-1]) if "distance_km" in weeks.columns else float("nan")
    return [Alert(
        rule="weekly_change", severity="info", date=start.isoformat(), activity_id=None,
        message=f"The week of {fmt.day(start)} ({format_distance(distance, units)}) was {fmt.pct(value)} more "
                f"than the week before. Big weekly jumps did not clearly raise injury risk in studies; the "
                f"length of single runs matters more.",
        evidence=th.WEEKLY_CHANGE_EVIDENCE.line(),
        values={"change_pct": round(value, 1), "distance_km": round(distance, 2), "change_info_pct": limit_pct},
        alarm=False,
    )]


# --- personal rules ------------------------------------------------------------------------------------

def personal_alerts(hits: list[RuleHit], *, units: str = "km") -> list[Alert]:
    """Alerts for personal rules that tripped; ``rule`` is ``personal:<id>`` (``personal`` without id)."""
    alerts = []
    for hit in hits:
        info = RULE_METRICS[hit.metric]
        when = (f"in the week of {fmt.day(hit.date)}" + (" (so far)" if hit.partial_week else "")
                if hit.scope == "week" else f"on your run of {fmt.day(hit.date)}")
        name = f" ('{hit.label}')" if hit.label else ""
        alerts.append(Alert(
            rule=f"personal:{hit.rule_id}" if hit.rule_id is not None else "personal", severity="amber",
            date=hit.date.isoformat(), activity_id=hit.activity_id,
            message=(f"Your {info.label} {when} was {fmt.threshold(hit.metric, hit.value, units)}, "
                     f"{fmt.words(hit.op, 'op')} your rule{name} of {fmt.threshold(hit.metric, hit.threshold, units)}."),
            evidence=th.PERSONAL_RULE_EVIDENCE.line(),
            values={"metric": hit.metric, "value": round(hit.value, 2), "threshold": hit.threshold, "op": hit.op,
                    "unit": info.unit, "scope": hit.scope, "partial_week": hit.partial_week},
        ))
    return alerts


def personal_rule_alerts(rules, weekly, runs, as_of, *, lookback_days: int = th.ALERT_LOOKBACK_DAYS,
                         units: str = "km") -> list[Alert]:
    """Alerts for the runner's rules.  A stored rule that cannot be checked (an unknown metric, a bad
    operator) gives an information alert saying so instead of breaking every other alert."""
    alerts = []
    for rule in rules or ():
        try:
            hits = evaluate_rules([rule], weekly, runs, as_of, lookback_days=lookback_days)
        except ValueError as exc:
            rid = getattr(rule, "id", None)
            alerts.append(Alert(
                rule=f"personal:{rid}" if rid is not None else "personal", severity="info",
                date=as_date(as_of).isoformat(), activity_id=None,
                message=f"Your rule {rid if rid is not None else ''} cannot be checked: {exc}. Edit or remove it.",
                evidence=th.PERSONAL_RULE_EVIDENCE.line(), values={"metric": getattr(rule, "metric", None)},
                alarm=False))
            continue
        alerts += personal_alerts(hits, units=units)
    return alerts


# --- all together ----------------------------------------------------------------------------------

def evaluate(*, runs=None, weekly=None, daily=None, pain=None, rules=(), settings=None, as_of=None,
             lookback_days: int = th.ALERT_LOOKBACK_DAYS, assessments=None,
             walked: _ep.Episode | None = None) -> list[Alert]:
    """Every alert for ``as_of``, explaining the phase the timeline (:mod:`loadwatch.metrics.episodes`) is in.

    An open red flag returns only its care alert: it stays until an assessment, whatever its age, and
    replaces training advice.  Otherwise: the phase (when not normal) and the check-in question, the pain
    entries of the lookback window read since the current phase began, persistent pain (a referral that
    holds the plan), over-runs of a step's caps, spikes, personal rules and information.  Sorted by severity (most serious first), then date
    (newest first)."""
    as_of = as_date(as_of)
    units = _units(settings)
    walked = walked if walked is not None else episode(runs, pain, assessments, as_of)
    row = _ep.today(walked.timeline, as_of)
    care = care_alerts(pain, as_of, walked=walked)
    if care:
        return _sorted(care)
    alerts: list[Alert] = []
    phase = phase_alert(row)
    if phase is not None:
        alerts.append(phase)
    question = check_in_question(row, as_of, walked)
    if question:
        alerts.append(Alert(rule="check_in", severity="info", date=as_of.isoformat(), activity_id=None,
                            message=question, evidence=th.EPISODE_EVIDENCE.line(),
                            values={"phase": row["phase"]}, alarm=False))
    lo = window(as_of, lookback_days)[0]
    since = row["since"] or lo  # only what the current phase has seen: the light and the alerts agree
    shown = [r for r in walked.readings if r.rule in _ep.PAIN_RULES
             and r.level != "ok" and max(lo, since) <= r.day <= as_of]
    rising_latest = [r for r in shown if r.rule == "pain_rising"][-1:]
    alerts += [_pain_alert(r) for r in shown if r.rule != "pain_rising"] + [_pain_alert(r) for r in rising_latest]
    referral = referral_alert(row)
    if referral is not None:
        alerts.append(referral)
    alerts += overrun_alerts(walked, as_of, lookback_days=lookback_days, units=units)
    spikes = [_within_clinician_caps(a, walked, units) for a in
              session_spike(runs, as_of, lookback_days=lookback_days, units=units)]
    if row["phase"] == "stop":
        # no running numbers while stopped: a recent spike is told (it may explain the pain) without its cap
        return _sorted([_without_cap(a) for a in spikes] + alerts)
    alerts += spikes
    alerts += personal_rule_alerts(rules, weekly, runs, as_of, lookback_days=lookback_days, units=units)
    alerts += acwr_info(daily, as_of, lookback_days=lookback_days)
    alerts += monotony_info(weekly, as_of, lookback_days=lookback_days)
    alerts += weekly_change_info(weekly, as_of, lookback_days=lookback_days, units=units)
    return _sorted(alerts)


def _within_clinician_caps(alert: Alert, walked: _ep.Episode, units: str) -> Alert:
    """A spike run within the run cap a clinician set is information, not an alarm: the clinician's
    decision is the plan (section 13)."""
    day = as_date(alert.date)
    visit = walked.last_visit(day)
    row = _ep.today(walked.timeline, day)
    if visit is None or visit.max_run_km is None or row.get("set_by_clinician") != visit.day:
        return alert
    if float(alert.values["distance_km"]) > visit.max_run_km + th.CAP_TOLERANCE_KM:
        return alert
    alert.severity, alert.alarm = "info", False
    return alert.act(f"It was within the {format_distance(visit.max_run_km, units, cap=True)} your clinician set "
                     f"on {fmt.day(visit.day)}.")


def _without_cap(alert: Alert) -> Alert:
    """A spike alert without its forward-looking cap (for ``stop``, which gives no running numbers)."""
    alert.values.pop("safe_longest_km", None)
    return alert.act("")


def _sorted(alerts: list[Alert]) -> list[Alert]:
    by_date = sorted(alerts, key=lambda a: a.date, reverse=True)
    return sorted(by_date, key=lambda a: SEVERITY_RANK[a.severity], reverse=True)
