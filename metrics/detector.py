"""The detector: built-in alert rules (SCIENCE.md sections 2-5, 10, 11) and the runner's personal rules.

Every rule is a small pure function over the documented frames (``metrics.spike.run_table``,
``metrics.weekly.weekly_table``, ``metrics.daily.daily_series``, the store's pain frame) and returns
:class:`Alert` records.  An alert names its rule, carries the numbers that tripped it (metric units, the
unit in each key) and the strength and source of the evidence.  Rules whose evidence is weak are
information only (``alarm=False``).  Red flags (section 11) escalate: when one is present, :func:`evaluate`
returns only the care alerts, because red flags replace training advice, never sit beside it.

Dates are the runner's local calendar days.  ``as_of`` is the day the alerts are computed for; the
lookback window is the ``lookback_days`` days ending on ``as_of`` (inclusive).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd

from ingest.painlog import SYMPTOM_LABELS
from metrics import thresholds as th
from metrics.rules import DISTANCE_UNITS, RULE_METRICS, RuleHit, evaluate_rules
from metrics.units import format_distance

SEVERITIES = ("info", "amber", "red", "see_clinician", "emergency")
SEVERITY_RANK = {s: i for i, s in enumerate(SEVERITIES)}
PAIN_TIMINGS_RUN = ("during", "after", "rest_of_day")

EMERGENCY_CARE_MESSAGE = (
    "Seek urgent medical care now (A&E / emergency services). The symptoms you logged can come from "
    "pressure on the nerves at the base of the spine, which needs to be checked straight away. "
    "Do not run until a doctor has seen you."
)
URGENT_CARE_MESSAGE = (
    "See a doctor or physiotherapist within days about the symptoms you logged. "
    "Until then, loadwatch gives no training plan."
)
PERSISTENT_CARE_MESSAGE = (
    "Your back has hurt on most days for more than three weeks: book a physiotherapist or doctor. "
    "Pain that lasts is common and usually treatable, and a professional can help you run again."
)


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

    def __post_init__(self):
        if self.severity not in SEVERITY_RANK:
            raise ValueError(f"alert severity must be one of {', '.join(SEVERITIES)} (got {self.severity!r})")

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

def as_date(value) -> date:
    """``as_of`` given as a date, datetime, Timestamp or ISO string -> date."""
    if value is None:
        return date.today()
    return pd.Timestamp(value).date()


def window(as_of: date, days: int) -> tuple[date, date]:
    """The ``days`` calendar days ending on ``as_of`` (inclusive)."""
    return as_of - timedelta(days=days - 1), as_of


def _units(settings) -> str:
    return getattr(settings, "units", "km") if settings is not None else "km"


def _day_label(d: date) -> str:
    return f"{d:%a} {d.day} {d:%b %Y}"


def _pct(x: float) -> str:
    return f"{x:.0f}%"


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
    """Each run's local date."""
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


def _entry_id(row) -> int | None:
    v = row.get("id")
    return None if v is None or pd.isna(v) else int(v)


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
    for activity_id, row in runs.iterrows():
        day = dates.loc[activity_id]
        spike_pct = round(float(row["spike_pct"]), 6)  # 11 km after 10 km is 10.000000000000009%
        if not lo <= day <= hi or not spike_pct > limit_pct:  # NaN compares False
            continue
        cat = th.spike_category(spike_pct)
        distance_km = float(row["distance_km"])
        longest_km = float(row["longest_30d_km"])
        safe_km = (1.0 + max_spike_frac) * longest_km
        message = (
            f"Your {format_distance(distance_km, units)} run on {_day_label(day)} was {_pct(spike_pct)} longer "
            f"than your longest run of the previous 30 days ({format_distance(longest_km, units)}). "
            f"In 5,205 runners, runs {cat.lower_pct:.0f}"
            + (f"-{cat.upper_pct:.0f}%" if cat.upper_pct != float("inf") else "%+")
            + f" longer than the 30-day longest came with {cat.hazard_ratio:.2f} times the injury rate "
            f"(95% CI {cat.ci_low:.2f}-{cat.ci_high:.2f}). For now keep every run at or below "
            f"{format_distance(safe_km, units, cap=True)}."
        )
        alerts.append(Alert(
            rule="session_spike", severity="amber", date=day.isoformat(), activity_id=str(activity_id),
            message=message, evidence=th.FRANDSEN_2025.line(),
            values={"distance_km": round(distance_km, 2), "longest_30d_km": round(longest_km, 2),
                    "spike_pct": round(spike_pct, 1), "category": cat.name, "hazard_ratio": cat.hazard_ratio,
                    "hazard_ratio_ci_low": cat.ci_low, "hazard_ratio_ci_high": cat.ci_high,
                    "safe_longest_km": round(safe_km, 2), "max_spike_pct": limit_pct},
        ))
    return alerts


# --- section 10: the pain-monitoring model (moderate) -----------------------------------------------

def pain_during_run(pain: pd.DataFrame | None, as_of, *, lookback_days: int = th.ALERT_LOOKBACK_DAYS,
                    green_max: int = th.PAIN_GREEN_MAX, amber_max: int = th.PAIN_AMBER_MAX) -> list[Alert]:
    """Pain during, right after or later on the day of a run: 0-3 green (no alert), 4-5 amber, above 5
    red (Silbernagel 2007 pain-monitoring model)."""
    as_of = as_date(as_of)
    df = pain_frame(pain)
    lo, hi = window(as_of, lookback_days)
    alerts = []
    for _, row in df.iterrows():
        if row["timing"] not in PAIN_TIMINGS_RUN or not lo <= row["day"] <= hi:
            continue
        score = int(row["score"])
        if score <= green_max:
            continue
        red = score > amber_max
        when = {"during": "during a run", "after": "right after a run",
                "rest_of_day": "later in the day"}[row["timing"]]
        if red:
            advice = ("Above 5 out of 10 is too much: stop running until walking is pain-free, swap runs for "
                      "cycling, swimming or other low-impact exercise, then return with walk-run sessions.")
        else:
            advice = ("4-5 out of 10 is acceptable if it settles by the next morning: hold your volume, keep "
                      "runs easy and on softer ground.")
        alerts.append(Alert(
            rule="pain_during_run", severity="red" if red else "amber", date=row["day"].isoformat(),
            activity_id=row.get("activity_id") or None,
            message=f"You logged back pain of {score}/10 {when} on {_day_label(row['day'])}. {advice}",
            evidence=th.PAIN_MONITORING_EVIDENCE.line(),
            values={"score": score, "timing": row["timing"], "green_max": green_max, "amber_max": amber_max,
                    "pain_entry_id": _entry_id(row)},
        ))
    return alerts


def morning_baseline(pain: pd.DataFrame | None, day: date, *, days: int = th.PAIN_BASELINE_DAYS) -> float:
    """The runner's usual next-morning score before ``day``: the median, over the ``days`` days before
    it, of each morning's score, where a morning without a logged score counts as 0 (nothing logged =
    nothing to report).  0 without any history."""
    return _baseline(_morning_scores(pain_frame(pain)), day, days)


def _morning_scores(df: pd.DataFrame) -> dict:
    mornings = df[df["timing"] == "next_morning"]
    return mornings.groupby("day")["score"].max().to_dict()


def _baseline(per_day: dict, day: date, days: int) -> float:
    scores = [float(per_day.get(day - timedelta(days=k), 0)) for k in range(1, days + 1)]
    return float(np.median(scores)) if scores else 0.0


def pain_not_settled(pain: pd.DataFrame | None, as_of, *, lookback_days: int = th.ALERT_LOOKBACK_DAYS,
                     margin: int = th.PAIN_SETTLE_MARGIN) -> list[Alert]:
    """A next-morning score more than ``margin`` above the runner's usual morning level: the pain has not
    settled overnight (Silbernagel 2007), which SCIENCE.md section 12 treats like red pain."""
    as_of = as_date(as_of)
    df = pain_frame(pain)
    lo, hi = window(as_of, lookback_days)
    alerts = []
    per_day = _morning_scores(df)
    for _, row in df[df["timing"] == "next_morning"].iterrows():
        if not lo <= row["day"] <= hi:
            continue
        baseline = _baseline(per_day, row["day"], th.PAIN_BASELINE_DAYS)
        score = int(row["score"])
        if score <= baseline + margin:
            continue
        alerts.append(Alert(
            rule="pain_not_settled", severity="red", date=row["day"].isoformat(),
            activity_id=row.get("activity_id") or None,
            message=(f"On the morning of {_day_label(row['day'])} your back pain was {score}/10, above your usual "
                     f"morning level ({baseline:g}/10): it had not settled overnight. Cut the next week to about "
                     f"half and keep runs easy."),
            evidence=th.PAIN_MONITORING_EVIDENCE.line(),
            values={"score": score, "baseline_score": baseline, "margin": margin,
                    "pain_entry_id": _entry_id(row)},
        ))
    return alerts


def pain_rising(pain: pd.DataFrame | None, as_of, *, margin: float = th.PAIN_RISING_MARGIN) -> list[Alert]:
    """Mean logged pain over the 7 days ending ``as_of`` above the mean of the 7 days before by more than
    ``margin`` points (pain must not rise week on week, Silbernagel 2007).  Both weeks need entries."""
    as_of = as_date(as_of)
    df = pain_frame(pain)
    lo, hi = window(as_of, 7)
    plo, phi = window(lo - timedelta(days=1), 7)
    this = df[(df["day"] >= lo) & (df["day"] <= hi)]["score"]
    prev = df[(df["day"] >= plo) & (df["day"] <= phi)]["score"]
    if this.empty or prev.empty:
        return []
    this_mean, prev_mean = float(this.mean()), float(prev.mean())
    if not this_mean > prev_mean + margin:
        return []
    return [Alert(
        rule="pain_rising", severity="red", date=as_of.isoformat(), activity_id=None,
        message=(f"Your back pain is rising: it averaged {this_mean:.1f}/10 over the last 7 days against "
                 f"{prev_mean:.1f}/10 the week before. Cut the next week to about half and keep runs easy."),
        evidence=th.PAIN_MONITORING_EVIDENCE.line(),
        values={"mean_score_7d": round(this_mean, 2), "mean_score_prev_7d": round(prev_mean, 2),
                "margin": margin},
    )]


# --- section 11: red flags and persistent pain (consensus) ------------------------------------------

def pain_persistent(pain: pd.DataFrame | None, as_of, *, min_days: int = th.PERSISTENT_PAIN_DAYS,
                    day_frac: float = th.PERSISTENT_PAIN_DAY_FRAC,
                    max_gap_days: int = th.PERSISTENT_EPISODE_GAP_DAYS) -> list[Alert]:
    """Back pain (score > 0) on most days (> ``day_frac``) of an episode lasting more than ``min_days``
    days that is still going on (a pain day within the last ``max_gap_days``).  An episode is a chain of
    pain days with gaps of at most ``max_gap_days`` pain-free days."""
    as_of = as_date(as_of)
    df = pain_frame(pain)
    days = sorted({d for d, s in zip(df["day"], df["score"], strict=True) if s > 0 and d <= as_of})
    if not days or (as_of - days[-1]).days > max_gap_days:
        return []
    first = len(days) - 1
    while first > 0 and (days[first] - days[first - 1]).days - 1 <= max_gap_days:
        first -= 1
    episode = days[first:]
    span = (episode[-1] - episode[0]).days + 1
    frac = len(episode) / span
    if not (span > min_days and frac > day_frac):
        return []
    return [Alert(
        rule="pain_persistent", severity="see_clinician", date=episode[-1].isoformat(), activity_id=None,
        message=(f"You have logged back pain on {len(episode)} of the last {span} days (since "
                 f"{_day_label(episode[0])}). {PERSISTENT_CARE_MESSAGE}"),
        evidence=th.PERSISTENT_PAIN_EVIDENCE.line(),
        values={"pain_days": len(episode), "span_days": span, "pain_day_frac": round(frac, 2),
                "min_days": min_days},
    )]


def red_flags(pain: pd.DataFrame | None, as_of, *,
              lookback_days: int = th.RED_FLAG_LOOKBACK_DAYS) -> list[Alert]:
    """Red-flag symptoms logged in the lookback window (NICE NG59 / CKS): ``red_flag_emergency`` for the
    cauda-equina signs, ``red_flag_urgent`` for the see-within-days ones.  One alert per kind."""
    as_of = as_date(as_of)
    df = pain_frame(pain)
    lo, hi = window(as_of, lookback_days)
    recent = df[(df["day"] >= lo) & (df["day"] <= hi)]
    alerts = []
    for rule, severity, symptom_set, care in (
        ("red_flag_emergency", "emergency", th.EMERGENCY_SYMPTOMS, EMERGENCY_CARE_MESSAGE),
        ("red_flag_urgent", "see_clinician", th.URGENT_SYMPTOMS, URGENT_CARE_MESSAGE),
    ):
        found: dict[str, date] = {}
        entry_ids = []
        for _, row in recent.iterrows():
            hit = [s for s in (row["symptoms"] or ()) if s in symptom_set]
            for s in hit:
                found[s] = max(found.get(s, row["day"]), row["day"])
            if hit:
                entry_ids.append(_entry_id(row))
        if not found:
            continue
        latest = max(found.values())
        words = "; ".join(SYMPTOM_LABELS.get(s, s).lower() for s in found)
        alerts.append(Alert(
            rule=rule, severity=severity, date=latest.isoformat(), activity_id=None,
            message=f"You logged: {words}. {care}", evidence=th.RED_FLAG_EVIDENCE.line(),
            values={"symptoms": list(found), "pain_entry_ids": entry_ids, "lookback_days": lookback_days},
        ))
    return alerts


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
        message=f"Training monotony in the week of {_day_label(start)} was {value:.1f} (above {limit:g}): most "
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
        message=f"The week of {_day_label(start)} ({format_distance(distance, units)}) was {_pct(value)} more "
                f"than the week before. Big weekly jumps did not clearly raise injury risk in studies; the "
                f"length of single runs matters more.",
        evidence=th.WEEKLY_CHANGE_EVIDENCE.line(),
        values={"change_pct": round(value, 1), "distance_km": round(distance, 2), "change_info_pct": limit_pct},
        alarm=False,
    )]


# --- personal rules ------------------------------------------------------------------------------------

def _rule_value_text(metric: str, value: float, units: str) -> str:
    info = RULE_METRICS[metric]
    if info.unit in DISTANCE_UNITS:
        return format_distance(value, units)
    if info.unit == "%":
        return f"{value:.0f}%"
    if info.unit in ("runs",):
        return f"{value:.0f}"
    if info.unit == "ratio":
        return f"{value:.2f}"
    return f"{value:.0f} {info.unit}"


def personal_alerts(hits: list[RuleHit], *, units: str = "km") -> list[Alert]:
    """Alerts for personal rules that tripped; ``rule`` is ``personal:<id>`` (``personal`` without id)."""
    op_words = {">": "above", ">=": "at or above", "<": "below", "<=": "at or below"}
    alerts = []
    for hit in hits:
        info = RULE_METRICS[hit.metric]
        when = (f"in the week of {_day_label(hit.date)}" + (" (so far)" if hit.partial_week else "")
                if hit.scope == "week" else f"on your run of {_day_label(hit.date)}")
        name = f" ('{hit.label}')" if hit.label else ""
        alerts.append(Alert(
            rule=f"personal:{hit.rule_id}" if hit.rule_id is not None else "personal", severity="amber",
            date=hit.date.isoformat(), activity_id=hit.activity_id,
            message=(f"Your {info.label} {when} was {_rule_value_text(hit.metric, hit.value, units)}, "
                     f"{op_words[hit.op]} your rule{name} of {_rule_value_text(hit.metric, hit.threshold, units)}."),
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
             lookback_days: int = th.ALERT_LOOKBACK_DAYS) -> list[Alert]:
    """Every alert for ``as_of``: red flags and persistent pain first, then pain, spikes, personal rules
    and information.  When a red flag is present only the care alerts are returned (red flags replace
    training advice).  Sorted by severity (most serious first), then date (newest first)."""
    as_of = as_date(as_of)
    units = _units(settings)
    care = red_flags(pain, as_of) + pain_persistent(pain, as_of)
    if any(a.rule.startswith("red_flag") for a in care):
        return _sorted(care)
    alerts = list(care)
    alerts += pain_during_run(pain, as_of, lookback_days=lookback_days)
    alerts += pain_not_settled(pain, as_of, lookback_days=lookback_days)
    alerts += pain_rising(pain, as_of)
    alerts += session_spike(runs, as_of, lookback_days=lookback_days, units=units)
    alerts += personal_rule_alerts(rules, weekly, runs, as_of, lookback_days=lookback_days, units=units)
    alerts += acwr_info(daily, as_of, lookback_days=lookback_days)
    alerts += monotony_info(weekly, as_of, lookback_days=lookback_days)
    alerts += weekly_change_info(weekly, as_of, lookback_days=lookback_days, units=units)
    return _sorted(alerts)


def _sorted(alerts: list[Alert]) -> list[Alert]:
    by_date = sorted(alerts, key=lambda a: a.date, reverse=True)
    return sorted(by_date, key=lambda a: SEVERITY_RANK[a.severity], reverse=True)
