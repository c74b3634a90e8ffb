"""Back pain as an episode: one phase per local day (SCIENCE.md sections 10, 11 and 13).

:func:`walk` goes through the runner's history day by day, from the first run, pain entry or assessment
to ``end``, and keeps the state a clinician keeps in their head: which phase the runner is in, since
when, which step of a return, what the runner weighed before the episode, what their usual level is,
which symptoms a clinician has already seen, what the clinician decided, and which entry moved it.  The
plan (:mod:`loadwatch.metrics.plan`), the alerts (:mod:`loadwatch.metrics.detector`), the report, the charts and the
dashboard read this one timeline; no face recomputes a rule of its own.

How the pain log is read (section 10):

* a day without an entry is **unknown**, never 0: no entry, no progress (a stopped runner stays stopped
  and is asked how the back feels);
* like is compared with like: next-morning scores with next-morning scores, during / after / later in the
  day together (:data:`loadwatch.metrics.thresholds.PAIN_TIMING_GROUPS`);
* the **usual level** is the runner's own: the median of the logged next-morning scores of the previous
  28 days spent outside an episode (at least 3 entries), kept from the day an episode opens so a long stop
  does not forget it.  "Not settled" is 2 or more above it (above 3 without one); every "back to normal"
  test compares with max(2, usual); during and after runs, pain up to max(3, usual + 1) is green;
* "rising": the weekly mean of one timing group up by 1.5 or more with 2 entries of it in both weeks,
  judged inside one phase (the entry that opened a stop is never the "before" of the return's entries),
  and a week at or below the usual level never rises;
* "persistent" (a referral, not a red flag): check-ins of one timing group above the usual level at two
  thirds or more of them for more than 21 days, a check-in every week, and not improving.  It asks the
  runner to book a professional and **holds** the plan (no next step, caps kept) without removing a
  number; it closes with an assessment or after a week back at the usual level;
* pain on a day without a run in the 7 days up to it is pain, not "pain with running".

Red flags (section 11) escalate to ``see_clinician`` / ``emergency``; they never time out.  An assessment
closes every escalation from entries before it (entries of its own day count when logged at or before its
time; an assessment without a time is the end of its day).  The symptom the clinician assessed, logged
again at the same or a lower score (less than 2 points higher), is known and does not reopen; an emergency
symptom, another red-flag symptom or the known one 2 points higher does.  An assessment may carry the
clinician's decision (cleared, a return step, their own caps, the most pain allowed during a run): the
plan then follows it over every default until the next assessment or a new stop or escalation.

Phases (section 13), most serious first: ``emergency``, ``see_clinician``, ``stop`` (pain above 5; leaves
after two check-ins on different days with pain at max(2, usual) or less, or the day after an
assessment), ``reduce`` (not settled, rising), ``hold`` (amber pain), ``return_to_run`` (four steps from
the pre-episode figures), ``rebuild`` (no run in 30 days and no open episode: 50/70/90 % of the pre-break
figures, 33 % first after 8 weeks or more, never below a run of 2 km and a week of three such runs; the
latest break's: 30 days without a run start it again, and a step stuck for 4 weeks by runs above it, with a
run every week and no pain above green, ends it), ``normal``.  A step lasts at least 7 days and advances
on a green check-in only when it held at least two runs, none above the step's run cap and no 7 days above
its week cap: running above a cap is recorded (:class:`Overrun`, an alert with both numbers) and repeats
the step.  The week cap is never more than the runs allowed times the run cap.

Pure: DataFrames in, a DataFrame out.  All numbers live in :mod:`loadwatch.metrics.thresholds`.
"""

from __future__ import annotations

import bisect
import math
import statistics
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import numpy as np
import pandas as pd

from loadwatch.metrics import thresholds as th
from loadwatch.metrics.calendar import pain_frame, run_dates
from loadwatch.metrics.fmt import day as fday
from loadwatch.metrics.fmt import is_missing, words

PHASES = ("normal", "hold", "reduce", "stop", "return_to_run", "rebuild", "see_clinician", "emergency")
STEPPED = ("return_to_run", "rebuild")
ESCALATIONS = ("see_clinician", "emergency")
#: Phases that give no training number (section 11 and 13).
NO_NUMBERS = ("stop", "see_clinician", "emergency")
#: What an entry asks for, weakest first.
LEVELS = ("ok", "hold", "reduce", "stop", "see_clinician", "emergency")
LEVEL_RANK = {name: i for i, name in enumerate(LEVELS)}
#: The rules that read one pain entry (besides red flags).
PAIN_RULES = ("pain_during_run", "pain_without_run", "pain_not_settled", "pain_rising")
TIMELINE_COLUMNS = ("phase", "since", "step", "steps", "reason", "entry_id", "entry_kind", "episode_start",
                    "step_since", "max_week_km", "max_run_km", "stop_checkins", "last_score", "next_from",
                    "referral", "referral_since", "referral_reason", "set_by_clinician", "runs_per_week",
                    "step_week_km", "step_run_km", "usual_score")


# --- reading the pain log ------------------------------------------------------------------------

@dataclass
class Reading:
    """What one pain entry says (section 10): ``level`` (one of :data:`LEVELS`), ``rule`` (the alert rule
    id that reads it that way, None when green) and the numbers behind it."""

    entry_id: int | None
    day: date
    score: int
    timing: str
    level: str
    rule: str | None
    usual_score: float | None = None
    symptoms: tuple = ()
    values: dict = field(default_factory=dict)
    activity_id: object = None
    #: the phase the runner was in when the entry was read (before it moved anything)
    phase: str | None = None
    #: the local time it was logged
    at: datetime | None = None


@dataclass
class Overrun:
    """Running above a cap of a return_to_run / rebuild step (or of a clinician's caps): a
    too-much-too-soon event (section 13).  ``kind`` "run" (one run above the run cap) or "week" (7 days
    above the week cap); distances in km."""

    day: date
    kind: str
    distance_km: float
    cap_km: float
    phase: str
    step: int | None
    steps: int | None
    activity_id: object = None
    set_by_clinician: date | None = None


@dataclass
class Visit:
    """A clinician assessment: its local ``day`` and ``time`` (None: the end of the day) and the decision
    it records (``cleared`` to run normally, a ``return_step`` to start at, caps in km, the most pain
    allowed during a run)."""

    id: int | None
    day: date
    time: time | None = None
    cleared: bool = False
    return_step: int | None = None
    max_week_km: float | None = None
    max_run_km: float | None = None
    max_pain: int | None = None
    note: str = ""

    @property
    def at(self) -> datetime:
        return datetime.combine(self.day, self.time or time.max)

    @property
    def decided(self) -> bool:
        return bool(self.cleared or self.return_step or self.has_caps or self.max_pain is not None)

    @property
    def has_caps(self) -> bool:
        return self.max_week_km is not None or self.max_run_km is not None

    def caps_over(self, week: float, run: float) -> tuple[float, float]:
        """(week, run) in km with the clinician's own caps in place of the defaults they set."""
        return (self.max_week_km if self.max_week_km is not None else week,
                self.max_run_km if self.max_run_km is not None else run)


def pain_entries(pain: pd.DataFrame | None) -> pd.DataFrame:
    """The store's pain frame without deleted entries, sorted by time, with ``day`` (local date) and
    ``group`` ("morning" or "run")."""
    cols = ["id", "at_local", "score", "timing", "symptoms", "activity_id", "day", "group"]
    if pain is None or len(pain) == 0:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    df = pain_frame(pain)
    if "id" not in df.columns:
        df["id"] = range(1, len(df) + 1)
    df["group"] = df["timing"].map(th.PAIN_TIMING_GROUPS).fillna("run")
    return df.reset_index(drop=True)


def _opt(value, kind=float):
    return None if is_missing(value) else kind(value)


def _clock(value) -> time | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value == "":
        return None
    if isinstance(value, time):
        return value
    return time.fromisoformat(str(value))


def visits(assessments: pd.DataFrame | None) -> dict[date, list[Visit]]:
    """{local date: [Visit, ...] in time order} from ``Store.assessments()`` (``id``, ``date``, and when
    present ``time``, ``cleared``, ``return_step``, ``max_week_km``, ``max_run_km``, ``max_pain``,
    ``note``)."""
    if assessments is None or len(assessments) == 0:
        return {}
    out: dict[date, list[Visit]] = {}
    for row in assessments.to_dict("records"):
        d = pd.Timestamp(row["date"]).date()
        v = Visit(id=_opt(row.get("id"), int), day=d, time=_clock(row.get("time")),
                  cleared=bool(_opt(row.get("cleared"), bool) or False),
                  return_step=_opt(row.get("return_step"), int), max_week_km=_opt(row.get("max_week_km")),
                  max_run_km=_opt(row.get("max_run_km")), max_pain=_opt(row.get("max_pain"), int),
                  note=row.get("note") or "")
        out.setdefault(d, []).append(v)
    for day_visits in out.values():
        day_visits.sort(key=lambda v: v.at)
    return out


def usual_morning(mornings: list[tuple[date, int]], day: date, *, days: int = th.PAIN_BASELINE_DAYS,
                  min_entries: int = th.PAIN_BASELINE_MIN_ENTRIES) -> float | None:
    """The usual next-morning level before ``day``: the median of the logged next-morning scores in the
    ``days`` days before it (``mornings``: (day, score) logged outside an episode); None with fewer than
    ``min_entries`` entries (unlogged mornings are unknown, never 0)."""
    lo = day - timedelta(days=days)
    scores = [s for d, s in mornings if lo <= d < day]
    return float(statistics.median(scores)) if len(scores) >= min_entries else None  # a few ints: 20 x numpy's speed


def back_to_usual(usual: float | None) -> float:
    """The score at or below which the runner is back at their usual level: max(2, usual)."""
    return max(float(th.STOP_CLEAR_MAX_SCORE), usual if usual is not None else 0.0)


def green_max(usual: float | None) -> float:
    """During and after runs, pain up to this is green: 3, or the usual level + 1 for a runner whose
    usual level is higher (a chronic, stable back)."""
    return max(float(th.PAIN_GREEN_MAX), usual + 1 if usual is not None else 0.0)


def not_settled(score: int, usual: float | None, *, margin: int = th.PAIN_SETTLE_MARGIN,
                no_usual_max: int = th.PAIN_SETTLE_NO_BASELINE_MAX) -> bool:
    """A next-morning ``score`` has not settled: ``margin`` or more above the usual level, or above
    ``no_usual_max`` when there is no usual level."""
    if usual is None:
        return score > no_usual_max
    return score >= usual + margin


def rising(entries: list[tuple[date, int]], day: date, *, margin: float = th.PAIN_RISING_MARGIN,
           min_entries: int = th.PAIN_RISING_MIN_ENTRIES, usual_max: float | None = None
           ) -> tuple[float, float] | None:
    """(this week's mean, last week's mean) when the scores of one timing group (``entries``, already
    limited to the current phase) rose by ``margin`` or more from the 7 days before to the 7 days ending
    ``day``, with ``min_entries`` entries in both weeks; None otherwise, and None when this week's mean is
    at or below ``usual_max`` (a week at the usual level never rises)."""
    this = [s for d, s in entries if day - timedelta(days=6) <= d <= day]
    prev = [s for d, s in entries if day - timedelta(days=13) <= d <= day - timedelta(days=7)]
    if len(this) < min_entries or len(prev) < min_entries:
        return None
    a, b = float(np.mean(this)), float(np.mean(prev))
    if usual_max is not None and a <= usual_max + 1e-9:
        return None
    return (a, b) if a - b >= margin - 1e-9 else None


def persistent(checkins: dict[date, list[int]], day: date, after: date | None, above: float, *,
               min_days: int = th.PERSISTENT_PAIN_DAYS, frac: float = th.PERSISTENT_PAIN_DAY_FRAC,
               gap_days: int = th.EPISODE_CLEAR_DAYS, improving: float = th.PERSISTENT_IMPROVING_POINTS,
               max_days: int = 120) -> dict | None:
    """Persistent pain of one timing group on ``day`` (section 10): ``checkins`` {day: [scores]} of that
    group.  A stretch ends on ``day`` (a check-in above ``above``), starts on an earlier check-in above it,
    lasts more than ``min_days`` days with a check-in at least every ``gap_days`` days, and ``frac`` or
    more of its check-ins are above ``above``; it is not persistent when improving (the mean of its last 7
    days at least ``improving`` points below the mean of its first 7).  ``after``: the last assessment; the
    stretch starts after it (the clinician has seen the pain before).  The shortest such stretch is
    judged.  Returns the numbers, or None."""
    if not any(s > above for s in checkins.get(day, ())):
        return None
    days = sorted(d for d in checkins if d <= day and (day - d).days <= max_days and (after is None or d > after))
    # walk back while check-ins keep coming every week
    i = len(days) - 1
    while i > 0 and (days[i] - days[i - 1]).days < gap_days:
        i -= 1
    days = days[i:]
    for start in reversed(days):
        span = (day - start).days + 1
        if span <= min_days or not any(s > above for s in checkins[start]):
            continue
        scores = [s for d in days if d >= start for s in checkins[d]]
        high = sum(1 for s in scores if s > above)
        if high / len(scores) < frac - 1e-9:
            continue
        first = [s for d in days if start <= d < start + timedelta(days=7) for s in checkins[d]]
        last = [s for d in days if day - timedelta(days=6) <= d <= day for s in checkins[d]]
        if np.mean(last) <= np.mean(first) - improving + 1e-9:
            return None  # improving: not persistent
        return {"span_days": span, "checkins": len(scores), "pain_checkins": high,
                "pain_checkin_frac": round(high / len(scores), 2), "since": start}
    return None


# --- load figures ---------------------------------------------------------------------------------

class _Runs:
    """Run days (ordinal) and distances, sorted, for window sums and maxima."""

    def __init__(self, runs: pd.DataFrame | None):
        if runs is None or len(runs) == 0:
            self.days: list[int] = []
            self.km = np.zeros(0)
            self.ids: list = []
            return
        days = run_dates(runs)
        ordinals = np.array([d.toordinal() for d in days.tolist()], dtype=np.int64)
        order = np.argsort(ordinals, kind="stable")
        self.days = ordinals[order].tolist()
        self.km = runs["distance_km"].to_numpy(dtype="float64")[order]
        index = runs.index.tolist()
        self.ids = [index[i] for i in order]

    def _slice(self, lo: date, hi: date) -> np.ndarray:
        a = bisect.bisect_left(self.days, lo.toordinal())
        b = bisect.bisect_right(self.days, hi.toordinal())
        return self.km[a:b]

    def total(self, lo: date, hi: date) -> float:
        return float(np.nansum(self._slice(lo, hi)))

    def longest(self, lo: date, hi: date) -> float:
        part = self._slice(lo, hi)
        part = part[np.isfinite(part)]
        return float(part.max()) if len(part) else math.nan

    def count(self, lo: date, hi: date) -> int:
        return len(self._slice(lo, hi))

    def on(self, d: date) -> list:
        a = bisect.bisect_left(self.days, d.toordinal())
        b = bisect.bisect_right(self.days, d.toordinal())
        return self.ids[a:b]

    def last_before(self, d: date) -> date | None:
        """The last run day strictly before ``d``."""
        i = bisect.bisect_left(self.days, d.toordinal())
        return date.fromordinal(self.days[i - 1]) if i > 0 else None

    def max_week(self, lo: date, hi: date) -> float:
        """The biggest 7-day total of runs between ``lo`` and ``hi``."""
        best = 0.0
        d = lo
        while d <= hi:
            best = max(best, self.total(d, min(hi, d + timedelta(days=6))))
            d += timedelta(days=1)
        return best


def pre_episode(runs: _Runs, start: date, *, days: int = th.PRE_EPISODE_DAYS) -> tuple[float, float]:
    """(average week [km], 30-day longest run [km]) of the ``days`` (30) days before the episode's first
    day ``start`` ("the 4 weeks before the episode started", SCIENCE.md section 13); NaN without runs
    then."""
    before = start - timedelta(days=1)
    lo30 = start - timedelta(days=th.SPIKE_WINDOW_DAYS)
    if runs.count(lo30, before) == 0:
        return math.nan, math.nan
    week = runs.total(start - timedelta(days=days), before) / (days / 7)
    return week, runs.longest(lo30, before)


def frandsen_cap(runs: _Runs, d: date) -> float:
    """The run cap that holds for the 7 days after ``d`` (section 12): 1.10 x the longest run of the last
    23 days up to ``d`` - what the 30-day window still holds on the plan's seventh day.  When those 23
    days hold no run, the window empties during the week; until it does, the last run day's longest run
    is the one that stays longest, so the cap is 1.10 x that (NaN without a run in the last 30 days)."""
    longest = runs.longest(d - timedelta(days=th.PLAN_LONGEST_DAYS - 1), d)
    if not math.isfinite(longest):
        last = runs.last_before(d + timedelta(days=1))
        if last is not None and (d - last).days < th.SPIKE_WINDOW_DAYS:
            longest = runs.longest(last, last)
    return (1 + th.MAX_SPIKE_FRAC) * longest if math.isfinite(longest) else math.nan


def step_fracs(phase: str, break_days: int | None = None) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """(week fractions, run fractions) of the steps of ``phase`` (section 13)."""
    if phase == "return_to_run":
        return th.RETURN_WEEK_FRACS, th.RETURN_RUN_FRACS
    fracs = th.REBUILD_FRACS
    if break_days is not None and break_days >= th.REBUILD_LONG_BREAK_DAYS:
        fracs = (th.REBUILD_LONG_BREAK_FIRST_FRAC, *fracs)
    return fracs, fracs


# --- the timeline ---------------------------------------------------------------------------------

@dataclass
class _State:
    phase: str = "normal"
    since: date | None = None
    reason: str = "no pain episode open"
    entry_id: object = None
    entry_kind: str | None = None
    episode_start: date | None = None
    episode_usual: float | None = None  # the usual level when the episode opened
    step: int | None = None
    step_since: date | None = None
    bad_day: date | None = None  # last day that blocks leaving hold/reduce or advancing a step
    stop_checkins: int = 0
    stop_checkin_day: date | None = None
    base_week_km: float = math.nan
    base_run_km: float = math.nan
    base_runs: int | None = None  # runs a week before the episode / break
    break_days: int | None = None
    comeback: date | None = None  # rebuild: the first run after the break
    last_run: date | None = None  # rebuild: the last run before the break
    escalation: str | None = None
    esc_since: date | None = None
    esc_reason: str = ""
    esc_entry: object = None
    referral: bool = False
    referral_since: date | None = None
    referral_reason: str = ""
    referral_bad: date | None = None
    decision: Visit | None = None  # the clinician's decision in force
    return_from: date | None = None  # stop assessed without a decision: return_to_run from this day
    return_visit: object = None
    last_ok: bool = True  # the latest check-in was green

    def move(self, phase, day, reason, entry_id, kind):
        self.phase, self.since, self.reason, self.entry_id, self.entry_kind = phase, day, reason, entry_id, kind


def _score_words(r: Reading) -> str:
    return f"{r.score}/10 {words(r.timing, 'timing')}"


def _reading_reason(r: Reading) -> str:
    when = fday(r.day)
    if r.level == "emergency":
        names = "; ".join(words(s, "symptom") for s in r.symptoms if s in th.EMERGENCY_SYMPTOMS)
        return f"emergency symptoms logged on {when}: {names}"
    if r.level == "see_clinician":
        names = "; ".join(words(s, "symptom") for s in r.symptoms if s in th.URGENT_SYMPTOMS)
        return f"symptoms to see a clinician about, logged on {when}: {names}"
    if r.rule == "pain_rising":
        return (f"pain rising week on week: {r.values['mean_score_7d']:g}/10 on average against "
                f"{r.values['mean_score_prev_7d']:g}/10 the week before ({when})")
    if r.rule == "pain_not_settled":
        usual = "" if r.usual_score is None else f", your usual morning level is {r.usual_score:g}/10"
        return f"pain of {r.score}/10 the morning of {when} had not settled{usual}"
    if r.rule == "pain_without_run":
        return f"pain of {_score_words(r)} on {when} (no run in the {th.PAIN_RUN_DAYS} days before)"
    return f"pain of {_score_words(r)} on {when}"


@dataclass
class Episode:
    """:func:`walk`'s result: the ``timeline``, every pain entry's :class:`Reading` (in time order), the
    assessments by day and every :class:`Overrun` of a step's caps."""

    timeline: pd.DataFrame
    readings: list[Reading]
    assessed: dict = field(default_factory=dict)  # {date: assessment id}
    overruns: list[Overrun] = field(default_factory=list)
    visits: dict = field(default_factory=dict)  # {date: [Visit]}

    def last_assessment(self, day: date) -> date | None:
        """The latest assessment on or before ``day``."""
        before = [d for d in self.assessed if d <= day]
        return max(before) if before else None

    def last_visit(self, day: date) -> Visit | None:
        """The latest assessment on or before ``day``."""
        d = self.last_assessment(day)
        return self.visits[d][-1] if d is not None and self.visits.get(d) else None


def phase_timeline(runs: pd.DataFrame | None, pain: pd.DataFrame | None,
                   assessments: pd.DataFrame | None = None, *, end=None, start=None) -> pd.DataFrame:
    """One row per local day from the first run, pain entry or assessment (or ``start``) to ``end``
    (default: the last of them), indexed by ``day`` (``datetime.date``), with columns
    :data:`TIMELINE_COLUMNS`:

    ``phase`` (one of :data:`PHASES`), ``since`` (the day the phase began), ``step``/``steps`` (stepped
    phases; None otherwise), ``reason`` (plain words), ``entry_id``/``entry_kind`` (the entry that moved
    the phase: a pain entry id, an assessment id or a run id, with kind "pain", "assessment", "run" or
    None when time moved it), ``episode_start``, ``step_since``, ``max_week_km``/``max_run_km`` (the
    phase's caps in km before personal rules and rounding: stepped targets, half-weeks, the clinician's
    caps, the Frandsen cap; NaN where the phase gives no number or the history has none),
    ``stop_checkins``, ``last_score`` (the highest score of the latest check-in), ``next_from``,
    ``referral``/``referral_since``/``referral_reason`` (persistent pain: book a professional; the plan is
    held), ``set_by_clinician`` (the date of the assessment whose decision sets the plan, or None),
    ``runs_per_week`` (the runs a stepped week allows), ``step_week_km``/``step_run_km`` (the step's own
    caps, the reference for over-running it) and ``usual_score`` (the usual level in force).

    ``runs``: :func:`loadwatch.metrics.spike.run_table` (``date``, ``distance_km``); ``pain``: ``Store.pain()``;
    ``assessments``: ``Store.assessments()``."""
    return walk(runs, pain, assessments, end=end, start=start).timeline


def walk(runs: pd.DataFrame | None, pain: pd.DataFrame | None, assessments: pd.DataFrame | None = None, *,
         end=None, start=None) -> Episode:
    """The timeline of :func:`phase_timeline` together with how each pain entry was read and every
    over-run of a step's caps."""
    entries = pain_entries(pain)
    by_visit = visits(assessments)
    rr = _Runs(runs)
    firsts, lasts = [], []
    if rr.days:
        firsts.append(date.fromordinal(rr.days[0]))
        lasts.append(date.fromordinal(rr.days[-1]))
    if len(entries):
        firsts.append(min(entries["day"]))
        lasts.append(max(entries["day"]))
    if by_visit:
        firsts.append(min(by_visit))
        lasts.append(max(by_visit))
    end_day = pd.Timestamp(end).date() if end is not None else (max(lasts) if lasts else None)
    first = pd.Timestamp(start).date() if start is not None else (min(firsts) if firsts else end_day)
    assessed = {d: vs[-1].id for d, vs in by_visit.items()}
    if first is None or end_day is None or first > end_day:
        return Episode(pd.DataFrame(columns=list(TIMELINE_COLUMNS), index=pd.Index([], name="day")), [],
                       assessed, [], by_visit)
    by_day: dict[date, list[dict]] = {}
    cols = ["id", "day", "at_local", "score", "timing", "symptoms", "activity_id"]
    for values in zip(*(entries[c].tolist() for c in cols), strict=True):
        rec = dict(zip(cols, values, strict=True))
        by_day.setdefault(rec["day"], []).append(rec)
    walker = _Walker(rr, first, by_day, by_visit)
    day = first
    one = timedelta(days=1)
    while day <= end_day:
        walker.live(day)
        day += one
    frame = pd.DataFrame(walker.rows, columns=["day", *TIMELINE_COLUMNS]).set_index("day")
    return Episode(frame, walker.readings, assessed, walker.overruns, by_visit)


class _Walker:
    """The episode state machine (section 13), one day at a time."""

    def __init__(self, rr: _Runs, first: date, by_day: dict, by_visit: dict):
        self.rr = rr
        self.by_day = by_day
        self.by_visit = by_visit
        self.has_log_from = min(by_day) if by_day else None
        self.s = _State(since=first)
        self.mornings_outside: list[tuple[date, int]] = []
        self.groups: dict[str, list[tuple[date, int]]] = {"morning": [], "run": []}
        self.checkins: dict[str, dict[date, list[int]]] = {"morning": {}, "run": {}}
        self.known: dict[str, int] = {}  # red-flag symptom -> the highest score a clinician has seen
        self.last_assessed: date | None = None
        self.last_score: int | None = None
        self.prev_caps = (math.nan, math.nan)
        self.rows: list[dict] = []
        self.readings: list[Reading] = []
        self.overruns: list[Overrun] = []

    # --- one day ---------------------------------------------------------------------------------
    def live(self, day: date) -> None:
        s = self.s
        if s.return_from is not None and s.return_from <= day:
            self._return_after_visit(day)
        self._restart_stale_rebuild(day)
        self._check_overrun(day)
        began = (s.phase, s.step, s.step_since)
        todays = self.by_day.get(day, [])
        batches: list[tuple[str, object]] = []
        rest = todays
        for v in self.by_visit.get(day, []):
            before = [e for e in rest if pd.Timestamp(e["at_local"]).to_pydatetime() <= v.at]
            rest = [e for e in rest if pd.Timestamp(e["at_local"]).to_pydatetime() > v.at]
            if before:
                batches.append(("entries", before))
            batches.append(("visit", v))
        batches.append(("entries", rest))
        for kind, item in batches:
            if kind == "visit":
                self._assess(day, item)
            else:
                self._check_in(day, item)
        if s.phase in STEPPED and s.step_since == day and (s.phase, s.step, s.step_since) != began:
            # a step that began today holds today's runs (they count towards its two runs), so a run
            # above its caps today is an over-run too (section 13)
            self._check_overrun(day)
        caps = self._caps(day)
        if (not s.last_ok or s.referral) and (s.escalation or s.phase) != "normal":
            # caps never rise while the latest check-in is not green, nor while a referral holds the plan
            caps = tuple(_min(c, p) for c, p in zip(caps, self.prev_caps, strict=True))
        self.prev_caps = caps
        self.rows.append(self._row(day, caps))

    def usual(self, day: date) -> float | None:
        """The usual level in force: from the mornings of the last 28 days outside an episode, else the
        one kept when the episode opened."""
        now = usual_morning(self.mornings_outside, day)
        return now if now is not None else self.s.episode_usual

    def _check_in(self, day: date, todays: list[dict]) -> None:
        s = self.s
        while self.mornings_outside and (day - self.mornings_outside[0][0]).days > th.PAIN_BASELINE_DAYS:
            self.mornings_outside.pop(0)
        usual = self.usual(day)
        for e in todays:
            group = th.PAIN_TIMING_GROUPS.get(e["timing"], "run")
            self.groups[group].append((day, int(e["score"])))
            self.checkins[group].setdefault(day, []).append(int(e["score"]))
        for g in self.groups.values():
            while g and (day - g[0][0]).days > 13:
                g.pop(0)
        readings = self._read(todays, day, usual)
        self.readings += readings
        if todays:
            self.last_score = max(int(e["score"]) for e in todays)
            s.last_ok = all(r.level == "ok" for r in readings)
        worst = max(readings, key=lambda r: LEVEL_RANK[r.level]) if readings else None
        level = worst.level if worst else None
        if level in ESCALATIONS:
            if s.escalation is None or (s.escalation == "see_clinician" and level == "emergency"):
                self._escalate(level, day, _reading_reason(worst), worst.entry_id, usual)
        elif s.escalation is None and todays:
            self._referral(day, usual, worst)
        if s.escalation is None:
            self._advance(day, readings, worst, bool(todays), usual)
        # mornings logged outside an episode make the usual level
        if s.phase in ("normal", "rebuild") and s.escalation is None and not s.referral:
            self.mornings_outside += [(day, int(e["score"])) for e in todays if e["timing"] == "next_morning"]

    # --- reading ---------------------------------------------------------------------------------
    def _read(self, entries: list[dict], day: date, usual: float | None) -> list[Reading]:
        """What each entry of ``day`` says (section 10/11)."""
        s = self.s
        ran = self.rr.count(day - timedelta(days=th.PAIN_RUN_DAYS - 1), day) > 0
        allowed = s.decision.max_pain if s.decision is not None else None
        green = max(green_max(usual), allowed if allowed is not None else 0)
        red = max(th.PAIN_AMBER_MAX, allowed if allowed is not None else 0)
        # rising is judged inside one phase: the entries before a stop, a cutback or a return began are
        # never the "before" of the entries after it
        phase_start = s.since if s.phase in ("stop", "reduce", *STEPPED) and not s.escalation else None
        out = []
        for e in entries:
            score, timing = int(e["score"]), e["timing"]
            symptoms = tuple(e.get("symptoms") or ())
            level, rule, values = self._level(score, timing, symptoms, usual, ran, green, red)
            if LEVEL_RANK[level] < LEVEL_RANK["reduce"]:
                group = th.PAIN_TIMING_GROUPS.get(timing, "run")
                inside = [(d, sc) for d, sc in self.groups.get(group, []) if phase_start is None or d >= phase_start]
                rose = rising(inside, day, usual_max=back_to_usual(usual))
                if rose is not None:
                    level, rule = "reduce", "pain_rising"
                    values.update({"mean_score_7d": round(rose[0], 2), "mean_score_prev_7d": round(rose[1], 2),
                                   "group": group})
            aid = e.get("activity_id")
            out.append(Reading(_opt(e.get("id"), int), day, score, timing, level, rule, usual, symptoms, values,
                               None if is_missing(aid) else aid, s.escalation or s.phase,
                               pd.Timestamp(e["at_local"]).to_pydatetime()))
        return out

    def _level(self, score: int, timing: str, symptoms: tuple, usual: float | None, ran: bool, green: float,
               red: float) -> tuple[str, str | None, dict]:
        """(level, rule, values) of one entry before the week-on-week rise: red flags first (an urgent
        symptom a clinician already assessed, at a score not 2 points worse, is known and does not
        reopen), then the morning check-in against the usual level, then pain with or without a run."""
        values: dict = {}
        urgent = [x for x in symptoms if x in th.URGENT_SYMPTOMS]
        known = bool(urgent) and all(x in self.known and score < self.known[x] + th.REOPEN_MARGIN for x in urgent)
        if known:
            values["known_symptoms"] = urgent
        if any(x in th.EMERGENCY_SYMPTOMS for x in symptoms):
            return "emergency", "red_flag_emergency", values
        if urgent and not known:
            return "see_clinician", "red_flag_urgent", values
        if timing == "next_morning":
            values = {"usual_score": usual, **values}
            if score > th.PAIN_MORNING_RED_MAX:
                return "stop", "pain_not_settled", values
            return ("reduce", "pain_not_settled", values) if not_settled(score, usual) else ("ok", None, values)
        if score > red:
            return "stop", "pain_during_run" if ran else "pain_without_run", values
        if score > green:
            return "hold", "pain_during_run" if ran else "pain_without_run", values
        return "ok", None, values

    # --- referral (persistent pain) ----------------------------------------------------------------
    def _referral(self, day: date, usual: float | None, worst: Reading | None) -> None:
        s = self.s
        above = back_to_usual(usual) if usual is not None else float(th.PERSISTENT_NO_USUAL_MAX)
        if s.decision is not None and s.decision.max_pain is not None:
            above = max(above, float(s.decision.max_pain))  # the pain the clinician allowed is not a referral
        top = self.last_score if self.last_score is not None else 0
        if s.referral:
            if top > above:
                s.referral_bad = day
            elif s.referral_bad is None or (day - s.referral_bad).days >= th.EPISODE_CLEAR_DAYS:
                s.referral = False
                s.referral_since = s.referral_bad = None
                s.referral_reason = ""
            return
        for group in ("morning", "run"):
            found = persistent(self.checkins[group], day, self.last_assessed, above)
            if found is not None:
                s.referral, s.referral_since, s.referral_bad = True, day, day
                what = words(group, "timing_group")
                s.referral_reason = (f"persistent pain: {what} above your usual level at {found['pain_checkins']} of "
                                     f"{found['checkins']} check-ins over {found['span_days']} days since "
                                     f"{fday(found['since'])}, and not improving")
                return

    # --- escalations and assessments -------------------------------------------------------------
    def _escalate(self, level: str, day: date, reason: str, entry_id, usual) -> None:
        s = self.s
        if s.escalation is None:
            if s.phase in ("normal", "rebuild") or s.episode_start is None:
                s.episode_start = day
                s.episode_usual = usual
            s.decision = None  # a new escalation: the clinician's earlier decision no longer holds
            s.return_from = None
        s.escalation, s.esc_since, s.esc_reason, s.esc_entry = level, day, reason, entry_id

    def _assess(self, day: date, v: Visit) -> None:
        """An assessment closes every escalation and referral from entries before it; its decision, if
        any, sets the plan (section 11, 13)."""
        s = self.s
        since = self.last_assessed
        for r in self.readings:
            if r.level in ESCALATIONS and (since is None or r.day >= since):
                for x in r.symptoms:
                    if x in th.URGENT_SYMPTOMS:
                        self.known[x] = max(self.known.get(x, 0), r.score)
        self.last_assessed = day
        had_escalation = s.escalation is not None
        s.referral, s.referral_since, s.referral_bad, s.referral_reason = False, None, None, ""
        s.decision = v if v.decided else None
        s.return_from = None
        when = fday(day)
        if v.cleared:
            s.escalation = s.esc_since = s.esc_entry = None
            s.esc_reason = ""
            self._close_episode(day, f"cleared to run normally by your clinician on {when}", None)
            s.entry_id, s.entry_kind = v.id, "assessment"
            return
        if v.return_step:
            start = s.episode_start or s.esc_since or day
            s.escalation = s.esc_since = s.esc_entry = None
            s.esc_reason = ""
            self._start_return(day, start, min(max(int(v.return_step), 1), len(th.RETURN_WEEK_FRACS)),
                               f"your clinician set step {int(v.return_step)} of the return on {when}", v.id)
            return
        if had_escalation:
            self._after_escalation(day, v.id)
        elif s.phase == "stop":
            s.return_from, s.return_visit = day + timedelta(days=1), v.id

    def _after_escalation(self, day: date, assessment_id) -> None:
        """Close the escalation: return_to_run at the step the running since the escalation already fits
        (the clinician's caps, if they set any, apply on top)."""
        s, rr = self.s, self.rr
        start = s.episode_start or s.esc_since
        base_week, base_run = pre_episode(rr, start)
        week_fracs, run_fracs = step_fracs("return_to_run")
        step = 1
        after = s.esc_since + timedelta(days=1)  # the escalation day's runs belong to the load before it
        if after <= day and rr.count(after, day) and math.isfinite(base_week) and math.isfinite(base_run):
            week = rr.max_week(after, day)
            longest = rr.longest(after, day)
            step = len(week_fracs)
            for k, (wf, rf) in enumerate(zip(week_fracs, run_fracs, strict=True), start=1):
                if week <= wf * base_week + 1e-9 and longest <= rf * base_run + 1e-9:
                    step = k
                    break
        fits = "" if step == 1 else f" (your running since {fday(s.esc_since)} already fits step {step})"
        s.escalation = s.esc_since = s.esc_entry = None
        s.esc_reason = ""
        self._start_return(day, start, step, f"a clinician assessed you on {fday(day)}{fits}", assessment_id)

    def _return_after_visit(self, day: date) -> None:
        """A stop assessed without a decision: return_to_run step 1 from the next day."""
        s = self.s
        visit, s.return_from = s.return_visit, None
        if s.phase == "stop" and s.escalation is None:
            self._start_return(day, s.episode_start or day, 1,
                               f"a clinician assessed you on {fday(day - timedelta(days=1))}", visit)

    def _start_return(self, day: date, start: date, step: int, reason: str, entry_id) -> None:
        s = self.s
        s.episode_start = start
        s.base_week_km, s.base_run_km = pre_episode(self.rr, start)
        s.base_runs = _runs_per_week(self.rr, start)
        s.move("return_to_run", day, reason, entry_id, "assessment")
        s.step, s.step_since, s.bad_day, s.stop_checkins, s.break_days = step, day, None, 0, None

    # --- the phases outside escalations ---------------------------------------------------------
    def _open_episode(self, day: date, usual: float | None) -> None:
        s = self.s
        if s.phase in ("normal", "rebuild") or s.episode_start is None:
            s.episode_start = day
            s.episode_usual = usual
            s.base_week_km, s.base_run_km = pre_episode(self.rr, day)
            s.base_runs = _runs_per_week(self.rr, day)

    def _advance(self, day: date, readings: list[Reading], worst: Reading | None, checked_in: bool,
                 usual: float | None) -> None:
        """One check-in (or a day without one) of the episode state machine outside escalations."""
        s = self.s
        level = worst.level if worst else None
        ok_today = checked_in and all(r.level == "ok" for r in readings)
        if level == "stop":
            self._stop(day, worst, usual)
        elif s.phase == "stop":
            if checked_in:
                self._stop_check_in(day, max((r.score for r in readings), default=None), worst, usual)
        elif level in ("reduce", "hold"):
            self._amber(day, level, worst, usual)
        elif s.referral:
            return  # persistent pain holds the plan where it is: no next step until it closes
        elif s.phase in ("hold", "reduce"):  # a green check-in, or nothing logged today
            if ok_today and s.bad_day is not None and (day - s.bad_day).days >= th.EPISODE_CLEAR_DAYS:
                self._close_episode(day, f"a week without pain above {green_max(usual):g}"
                                    + (" and mornings settled" if s.phase == "reduce" else ""), worst)
        elif s.phase in STEPPED:
            self._step_on(day, ok_today, worst)
        else:
            self._after_break(day, ok_today, worst)

    def _stop(self, day: date, worst: Reading, usual: float | None) -> None:
        """Pain above the red limit: stop running (a new episode unless one is stopped already)."""
        s = self.s
        if s.phase != "stop":
            self._open_episode(day, usual)
            s.move("stop", day, _reading_reason(worst), worst.entry_id, "pain")
            s.step = s.step_since = None
            s.decision = None  # a new stop: the clinician's earlier decision no longer holds
        s.return_from = None
        s.stop_checkins, s.stop_checkin_day = 0, None
        s.bad_day = day

    def _stop_check_in(self, day: date, top: int | None, worst: Reading | None, usual: float | None) -> None:
        """A check-in while stopped: enough of them on different days at the usual level ("until walking is
        pain-free") start the return to running."""
        s = self.s
        if top is not None and top <= back_to_usual(usual) + 1e-9:
            if s.stop_checkin_day != day:
                s.stop_checkins += 1
                s.stop_checkin_day = day
        else:
            s.stop_checkins, s.stop_checkin_day = 0, None
        if s.stop_checkins >= th.STOP_CLEAR_CHECKINS:
            at = back_to_usual(usual)
            s.base_runs = s.base_runs or _runs_per_week(self.rr, s.episode_start or day)
            s.move("return_to_run", day, f"walking is pain-free again ({th.STOP_CLEAR_CHECKINS} check-ins "
                   f"on different days with pain at {at:g} or less)",
                   worst.entry_id if worst else None, "pain")
            s.step, s.step_since, s.bad_day, s.stop_checkins = 1, day, None, 0

    def _amber(self, day: date, level: str, worst: Reading, usual: float | None) -> None:
        """A hold or reduce reading: a step repeats (a rebuild cut back), normal training holds or cuts back,
        a hold becomes a cutback."""
        s = self.s
        if s.phase in STEPPED:
            if level == "reduce" and s.phase == "rebuild":
                self._open_episode(day, usual)
                s.move("reduce", day, _reading_reason(worst), worst.entry_id, "pain")
                s.step = s.step_since = None
            else:
                s.bad_day = day  # repeats the step
            return
        if s.phase == "normal" or (s.phase == "hold" and level == "reduce"):
            self._open_episode(day, usual)
            s.move(level, day, _reading_reason(worst), worst.entry_id, "pain")
        s.bad_day = day

    def _after_break(self, day: date, ok_today: bool, worst: Reading | None) -> None:
        """Normal training: a break of 30 days or more starts a rebuild."""
        rr = self.rr
        last = rr.last_before(day)
        if last is not None and rr.count(day - timedelta(days=th.REBUILD_GAP_DAYS), day - timedelta(days=1)) == 0:
            self._start_rebuild(day, last)
            self._step_on(day, ok_today, worst)

    def _close_episode(self, day: date, why: str, worst: Reading | None) -> None:
        s, rr = self.s, self.rr
        s.move("normal", day, why, worst.entry_id if worst else None, "pain" if worst else None)
        s.episode_start = s.step = s.step_since = s.bad_day = None
        s.episode_usual = None
        s.base_week_km = s.base_run_km = math.nan
        s.base_runs = None
        s.stop_checkins = 0
        s.break_days = s.comeback = None
        last = rr.last_before(day + timedelta(days=1))
        if last is not None and rr.count(day - timedelta(days=th.REBUILD_GAP_DAYS - 1), day) == 0:
            self._start_rebuild(day, last)

    def _restart_stale_rebuild(self, day: date) -> None:
        """A rebuild whose runner came back and then stopped again for 30 days starts again from this latest
        break: its figures are the weeks before it, not those before the first break of the history."""
        s, rr = self.s, self.rr
        if s.phase != "rebuild" or s.comeback is None or s.escalation is not None or s.referral:
            return
        last = rr.last_before(day)
        if last is not None and rr.count(day - timedelta(days=th.REBUILD_GAP_DAYS), day - timedelta(days=1)) == 0:
            self._start_rebuild(day, last)

    def _start_rebuild(self, day: date, last_run: date) -> None:
        s, rr = self.s, self.rr
        s.base_week_km = rr.total(last_run - timedelta(days=th.PRE_EPISODE_DAYS - 1), last_run) / (
            th.PRE_EPISODE_DAYS / 7)
        s.base_run_km = rr.longest(last_run - timedelta(days=th.SPIKE_WINDOW_DAYS - 1), last_run)
        s.base_runs = _runs_per_week(rr, last_run + timedelta(days=1))
        s.break_days = (day - last_run).days
        s.episode_start = last_run + timedelta(days=1)
        s.comeback = None
        s.move("rebuild", day, f"no run since {fday(last_run)}, more than {th.REBUILD_GAP_DAYS} days", None, None)
        s.step, s.step_since, s.bad_day = 1, None, None
        s.last_run = last_run

    def _step_on(self, day: date, ok_today: bool, worst: Reading | None) -> None:
        """Advance a return_to_run / rebuild step when it has lasted 7 days since it began (or since the
        last day that repeated it), held at least two runs none above its caps, and today's check-in is
        green; a rebuild for a runner who has never logged pain advances without one (nothing to check in
        with), never without the runs."""
        s, rr = self.s, self.rr
        if s.phase == "rebuild" and s.comeback is None:
            if s.last_run is not None:
                s.break_days = (day - s.last_run).days  # the break so far decides the first step
            if rr.on(day):
                s.comeback = day
                s.step_since = day
                s.entry_id, s.entry_kind = rr.on(day)[0], "run"
                if s.last_run is not None:  # the break is over: say which one, from the run that ended it
                    s.reason = f"no run between {fday(s.last_run)} and {fday(day)} ({s.break_days} days)"
            return
        logging = self.has_log_from is not None and self.has_log_from <= day
        if s.phase == "rebuild" and (ok_today or not logging) and self._training_again(day):
            green = "" if not logging else f", no pain above {green_max(self.usual(day)):g}"
            self._close_episode(day, f"{th.REBUILD_HISTORY_DAYS // 7} weeks on step {s.step} since "
                                f"{fday(s.step_since)} with runs above it, a run in every week{green}: each run "
                                f"is judged against your last {th.SPIKE_WINDOW_DAYS} days again", worst)
            return
        start = s.step_since
        if start is None:
            return
        repeated = s.bad_day is not None and s.bad_day >= start
        if repeated:
            start = s.bad_day
        if (day - start).days < th.STEP_MIN_DAYS:
            return
        first = start + timedelta(days=1) if repeated else start
        if rr.count(first, day) < th.STEP_MIN_RUNS:
            return
        if not (ok_today or (s.phase == "rebuild" and not logging)):
            return
        steps = len(step_fracs(s.phase, s.break_days)[0])
        eid, kind = (worst.entry_id, "pain") if worst is not None else (None, None)
        if s.step >= steps:
            what = "the return to running" if s.phase == "return_to_run" else "the rebuild"
            self._close_episode(day, f"{what} is complete (every step done within its caps)", worst)
            return
        s.step += 1
        s.step_since, s.bad_day = day, None
        s.reason = (f"step {s.step - 1} done: {th.STEP_MIN_DAYS} days or more with at least {th.STEP_MIN_RUNS} "
                    "runs inside its caps" + (" and pain back at your usual level" if eid is not None else ""))
        s.entry_id, s.entry_kind = eid, kind

    def _training_again(self, day: date) -> bool:
        """A rebuild stuck on one step by runs above it has made a training history again (SCIENCE.md
        section 13, no dead end): the step has not moved for
        :data:`~loadwatch.metrics.thresholds.REBUILD_HISTORY_DAYS` days, it is repeating for a run or a week
        above it in the last 7, and those days held a run in each of their weeks and no entry read above
        green.  However far above its step the running went (each over-run had its alert), the 30-day
        window Frandsen's spike rule reads is full again, which is what the rebuild stood in for.  A runner
        inside the caps goes up the steps."""
        s, rr = self.s, self.rr
        days = th.REBUILD_HISTORY_DAYS
        if s.comeback is None or s.step_since is None or (day - s.step_since).days < days:
            return False
        if s.bad_day is None or (day - s.bad_day).days >= th.STEP_MIN_DAYS:
            return False  # not held back by running above the step: the steps end the rebuild
        if any(rr.count(day - timedelta(days=k + 6), day - timedelta(days=k)) == 0 for k in range(0, days, 7)):
            return False
        lo = day - timedelta(days=days - 1)
        for r in reversed(self.readings):
            if r.day < lo:
                break
            if r.level != "ok":
                return False
        return True

    # --- caps ------------------------------------------------------------------------------------
    def runs_allowed(self) -> int | None:
        """Runs a week a stepped phase allows: up to three in a return (a rest day between), as many as
        before the break in a rebuild (at least three)."""
        s = self.s
        if s.phase == "return_to_run":
            return min(max(s.base_runs or th.RED_MAX_RUNS_PER_WEEK, 1), th.RED_MAX_RUNS_PER_WEEK)
        if s.phase == "rebuild":
            return max(s.base_runs or 0, th.STEP_FLOOR_WEEK_RUNS)
        return None

    def step_caps(self) -> tuple[float, float]:
        """(week cap, run cap) in km of the current step, or of the clinician's decision; the reference
        for over-running it (NaN: none)."""
        s = self.s
        phase = s.escalation or s.phase
        if phase in NO_NUMBERS:
            return math.nan, math.nan
        week = run = math.nan
        if phase in STEPPED:
            week_fracs, run_fracs = step_fracs(s.phase, s.break_days)
            k = min(max(s.step or 1, 1), len(week_fracs)) - 1
            week, run = week_fracs[k] * s.base_week_km, run_fracs[k] * s.base_run_km
            if math.isfinite(run):
                n = self.runs_allowed() or 1
                run = max(run, th.STEP_FLOOR_RUN_KM)
                week = max(week, th.STEP_FLOOR_RUN_KM * min(n, th.STEP_FLOOR_WEEK_RUNS))
                week = min(week, n * run)
        d = s.decision
        if d is not None and d.has_caps:
            week, run = d.caps_over(week, run)
        return week, run

    def _check_overrun(self, day: date) -> None:
        """Runs of ``day`` above the caps in force when they were run (the step's or the clinician's):
        recorded, and the step repeats (section 13)."""
        s, rr = self.s, self.rr
        ids = rr.on(day)
        if not ids or s.escalation is not None:
            return
        stepped = s.phase in STEPPED
        if not stepped and (s.decision is None or not s.decision.has_caps):
            return
        # the caps the plan gave for the day (made the evening before, with the Frandsen cap and N runs x the
        # run cap in it: SCIENCE.md section 13, "the lower number wins"), so a run is judged against the very
        # numbers the runner was shown and a run above them repeats the step
        week_cap, run_cap = self._caps(day - timedelta(days=1))
        if (not s.last_ok or s.referral) and (s.escalation or s.phase) != "normal":
            # the plan shown held its caps down while the latest check-in was not green (see live): the same
            week_cap, run_cap = (_min(c, p) for c, p in zip((week_cap, run_cap), self.prev_caps, strict=True))
        steps = len(step_fracs(s.phase, s.break_days)[0]) if stepped else None
        clinician = s.decision.day if s.decision is not None and s.decision.has_caps else None
        kms = rr._slice(day, day)
        over = False
        # a step that began today judges today's runs a second time: one record of each run and week a day
        done = {(o.kind, o.activity_id) for o in self.overruns[-(len(ids) + 1):] if o.day == day}
        for rid, km in zip(ids, kms, strict=True):
            if math.isfinite(run_cap) and km > run_cap + th.CAP_TOLERANCE_KM:
                if ("run", rid) not in done:
                    self.overruns.append(Overrun(day, "run", float(km), float(run_cap), s.phase,
                                                 s.step if stepped else None, steps, rid, clinician))
                over = True
        start = s.step_since if stepped and s.step_since is not None else day - timedelta(days=6)
        total = rr.total(max(start, day - timedelta(days=6)), day)
        if math.isfinite(week_cap) and total > week_cap + th.CAP_TOLERANCE_KM:
            if ("week", ids[-1]) not in done:
                self.overruns.append(Overrun(day, "week", float(total), float(week_cap), s.phase,
                                             s.step if stepped else None, steps, ids[-1], clinician))
            over = True
        if over and stepped:
            s.bad_day = day

    def _caps(self, day: date) -> tuple[float, float]:
        """(week cap, run cap) in km for the phase on ``day`` (NaN: no number from the phase)."""
        s, rr = self.s, self.rr
        phase = s.escalation or s.phase
        if phase in NO_NUMBERS:
            return math.nan, math.nan
        d = s.decision
        if phase == "normal":
            if d is not None and d.has_caps:
                return self.step_caps()
            return math.nan, math.nan
        frandsen = frandsen_cap(rr, day)
        if phase == "hold":
            week, run = s.base_week_km, frandsen
        elif phase == "reduce":
            week, run = th.REDUCE_FRAC * s.base_week_km, _min(th.REDUCE_FRAC * s.base_run_km, frandsen)
        else:
            week, run = self.step_caps()
            if d is None or d.max_run_km is None:
                run = _min(run, frandsen)  # the Frandsen cap applies too: the lower number wins
            n = self.runs_allowed()
            if n and math.isfinite(run) and math.isfinite(week):
                week = min(week, n * run)
            return week, run
        if d is not None and d.has_caps:
            week, run = d.caps_over(week, run)
        return week, run

    def _row(self, day: date, caps) -> dict:
        s = self.s
        phase = s.escalation or s.phase
        stepped = phase in STEPPED and s.escalation is None
        steps = len(step_fracs(s.phase, s.break_days)[0]) if stepped else None
        if s.escalation is not None:
            since, reason, eid, kind = s.esc_since, s.esc_reason, s.esc_entry, "pain"
        else:
            since, reason, eid, kind = s.since, s.reason, s.entry_id, s.entry_kind
        step_week, step_run = self.step_caps() if stepped else (math.nan, math.nan)
        clinician = s.decision.day if s.decision is not None and s.escalation is None and phase not in NO_NUMBERS \
            and (s.decision.has_caps or s.decision.cleared or s.decision.return_step or
                 s.decision.max_pain is not None) else None
        return {"day": day, "phase": phase, "since": since, "step": s.step if stepped else None,
                "steps": steps, "reason": reason, "entry_id": eid, "entry_kind": kind,
                "episode_start": s.episode_start if phase != "normal" else None,
                "step_since": s.step_since if stepped else None,
                "max_week_km": caps[0], "max_run_km": caps[1], "stop_checkins": s.stop_checkins,
                "last_score": self.last_score, "next_from": None if s.escalation else self._next_from(),
                "referral": bool(s.referral and s.escalation is None),
                "referral_since": s.referral_since if s.escalation is None else None,
                "referral_reason": s.referral_reason if s.escalation is None else "",
                "set_by_clinician": clinician,
                "runs_per_week": self.runs_allowed() if stepped else None,
                "step_week_km": step_week, "step_run_km": step_run, "usual_score": self.usual(day)}

    def _next_from(self) -> date | None:
        """The first day the phase can move on (with a good check-in that day)."""
        s = self.s
        if s.phase in ("hold", "reduce"):
            return s.bad_day + timedelta(days=th.EPISODE_CLEAR_DAYS) if s.bad_day else None
        if s.phase in STEPPED and s.step_since is not None:
            start = max(s.step_since, s.bad_day) if s.bad_day else s.step_since
            return start + timedelta(days=th.STEP_MIN_DAYS)
        return None


def _runs_per_week(rr: _Runs, start: date) -> int | None:
    """Runs a week in the 4 weeks before ``start`` (at least one; None without a run then)."""
    n = rr.count(start - timedelta(days=th.PRE_EPISODE_DAYS), start - timedelta(days=1))
    return max(1, int(round(n / (th.PRE_EPISODE_DAYS / 7)))) if n else None


def _min(a: float, b: float) -> float:
    if not math.isfinite(b):
        return a
    if not math.isfinite(a):
        return a
    return min(a, b)


def phase_segments(timeline: pd.DataFrame) -> list[dict]:
    """Consecutive days of one phase and step as segments: ``start``, ``end`` (inclusive local dates),
    ``phase``, ``step``, ``steps``, ``reason`` (the reason on the segment's first day)."""
    out: list[dict] = []
    if timeline is None or len(timeline) == 0:
        return out
    # plain lists, not iterrows: a year of days is 365 Series built and indexed five times each
    columns = (timeline[c].tolist() for c in ("phase", "step", "steps", "reason", "since"))
    began = None
    for day, phase, step, steps, reason, since in zip(timeline.index, *columns, strict=True):
        step = None if step is None or pd.isna(step) else int(step)
        steps = None if steps is None or pd.isna(steps) else int(steps)
        # a phase that begins again (a rebuild started over by a later break) is a segment of its own
        if out and out[-1]["phase"] == phase and out[-1]["step"] == step and since == began and \
                out[-1]["end"] == day - timedelta(days=1):
            out[-1]["end"] = day
            # a rebuild waiting for its first run gains a step when the break reaches 8 weeks (33% first): the
            # segment names the ladder of its last day, the one the plan and the alerts name
            out[-1]["steps"] = steps
            continue
        began = since
        out.append({"start": day, "end": day, "phase": phase, "step": step, "steps": steps, "reason": reason})
    return out


def step_record(segments: list[dict], walked: Episode, runs: pd.DataFrame | None) -> list[dict]:
    """``segments`` (:func:`phase_segments`) with, for each return_to_run / rebuild step, what was run in
    it against its caps (section 13): ``cap_week_km``, ``cap_run_km`` (the step's own caps), ``runs``,
    ``distance_km``, ``longest_run_km``, ``most_7d_km`` (the biggest 7 days inside it) and ``over_caps``
    (a run or a week above them).  Other segments are returned as they are."""
    rr = _Runs(runs)
    timeline = walked.timeline
    out = []
    for seg in segments:
        seg = dict(seg)
        if seg["phase"] in STEPPED:
            lo, hi = seg["start"], seg["end"]
            part = timeline.loc[lo:hi]
            week_caps = part["step_week_km"].astype(float)
            run_caps = part["step_run_km"].astype(float)
            most = 0.0
            d = lo
            while d <= hi:
                most = max(most, rr.total(max(lo, d - timedelta(days=6)), d))
                d += timedelta(days=1)
            seg.update(
                cap_week_km=float(week_caps.max()) if week_caps.notna().any() else None,
                cap_run_km=float(run_caps.max()) if run_caps.notna().any() else None,
                runs=rr.count(lo, hi), distance_km=round(rr.total(lo, hi), 3),
                longest_run_km=None if rr.count(lo, hi) == 0 else round(rr.longest(lo, hi), 3),
                most_7d_km=round(most, 3),
                over_caps=any(lo <= o.day <= hi for o in walked.overruns))
        out.append(seg)
    return out


def today(timeline: pd.DataFrame, day) -> dict:
    """The timeline's row for ``day`` as a dict (``normal`` with no reason when the timeline is empty or
    ends before it)."""
    d = pd.Timestamp(day).date()
    if timeline is not None and len(timeline) and d in timeline.index:
        row = timeline.loc[d].to_dict()
        row["day"] = d
        for key in ("step", "steps", "last_score", "stop_checkins"):
            v = row.get(key)
            row[key] = None if v is None or pd.isna(v) else int(v)
        v = row.get("entry_id")
        if isinstance(v, float):
            row["entry_id"] = None if math.isnan(v) else int(v)
        for key in ("since", "episode_start", "step_since", "next_from", "referral_since", "set_by_clinician"):
            v = row.get(key)
            row[key] = None if v is None or (not isinstance(v, date) and pd.isna(v)) else v
        v = row.get("runs_per_week")
        row["runs_per_week"] = None if v is None or pd.isna(v) else int(v)
        row["referral"] = bool(row.get("referral"))
        v = row.get("usual_score")
        row["usual_score"] = None if v is None or pd.isna(v) else float(v)
        return row
    return {"day": d, "phase": "normal", "since": None, "step": None, "steps": None,
            "reason": "no pain episode open", "entry_id": None, "entry_kind": None, "episode_start": None,
            "step_since": None, "max_week_km": math.nan, "max_run_km": math.nan, "stop_checkins": 0,
            "last_score": None, "next_from": None, "referral": False, "referral_since": None,
            "referral_reason": "", "set_by_clinician": None, "runs_per_week": None,
            "step_week_km": math.nan, "step_run_km": math.nan, "usual_score": None}
