"""Back pain as an episode: one phase per local day (SCIENCE.md sections 10, 11 and 13).

:func:`phase_timeline` walks the runner's history day by day, from the first run, pain entry or
assessment to ``end``, and keeps the state a clinician keeps in their head: which phase the runner is in,
since when, which step of a return, what the runner weighed before the episode, and which entry moved
it.  The plan (:mod:`metrics.plan`), the alerts (:mod:`metrics.detector`), the report, the charts and the
dashboard read this one timeline; no face recomputes a rule of its own.

How the pain log is read (section 10):

* a day without an entry is **unknown**, never 0: no entry, no progress (a stopped runner stays stopped
  and is asked how the back feels);
* like is compared with like: next-morning scores with next-morning scores, during / after / later in the
  day together (:data:`metrics.thresholds.PAIN_TIMING_GROUPS`);
* the usual morning level is the median of the logged next-morning scores of the previous 28 days spent
  outside an episode (at least 3 entries); "not settled" is 2 or more above it (above 3 without one);
  a next-morning score above 5 is red and stops running;
* "rising": the weekly mean of one timing group up by 1.5 or more, with 2 entries of it in both weeks;
* "persistent": pain above 0 at two thirds or more of the check-ins over more than 21 days, a check-in in
  every one of those weeks and no pain-free week between them.  After an assessment only a new stretch of
  pain (one that starts after it) counts: the clinician has seen the pain that was going on.

Phases (section 13), most serious first: ``emergency``, ``see_clinician`` (red flags and persistent pain:
they never time out, only a recorded assessment closes them and then the runner returns at the step
their running since the escalation already fits), ``stop`` (pain above 5; leaves after two check-ins on
different days with pain at 2 or less), ``reduce`` (not settled, rising), ``hold`` (pain 4-5),
``return_to_run`` (four steps of at least 7 days each from the pre-episode figures; pain 4-5 or a morning
that has not settled repeats the step, above 5 goes back to ``stop``), ``rebuild`` (no run in 30 days and
no open episode: 50/70/90 % of the pre-break figures, 33 % first after 8 weeks or more), ``normal``.

Pure: DataFrames in, a DataFrame out.  All numbers live in :mod:`metrics.thresholds`.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd

from metrics import thresholds as th
from metrics.fmt import day as fday
from metrics.fmt import words

PHASES = ("normal", "hold", "reduce", "stop", "return_to_run", "rebuild", "see_clinician", "emergency")
STEPPED = ("return_to_run", "rebuild")
ESCALATIONS = ("see_clinician", "emergency")
#: Phases that give no training number (section 11 and 13).
NO_NUMBERS = ("stop", "see_clinician", "emergency")
#: What an entry asks for, weakest first.
LEVELS = ("ok", "hold", "reduce", "stop", "see_clinician", "emergency")
LEVEL_RANK = {name: i for i, name in enumerate(LEVELS)}
TIMELINE_COLUMNS = ("phase", "since", "step", "steps", "reason", "entry_id", "entry_kind", "episode_start",
                    "step_since", "max_week_km", "max_run_km", "stop_checkins", "last_score", "next_from")


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


def pain_entries(pain: pd.DataFrame | None) -> pd.DataFrame:
    """The store's pain frame without deleted entries, sorted by time, with ``day`` (local date) and
    ``group`` ("morning" or "run")."""
    cols = ["id", "at_local", "score", "timing", "symptoms", "activity_id", "day", "group"]
    if pain is None or len(pain) == 0:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    df = pain.copy()
    if "deleted" in df.columns:
        df = df[~df["deleted"].fillna(False).astype(bool)]
    df["at_local"] = pd.to_datetime(df["at_local"])
    df = df.sort_values("at_local", kind="stable")
    df["day"] = df["at_local"].dt.date
    if "symptoms" not in df.columns:
        df["symptoms"] = [()] * len(df)
    if "activity_id" not in df.columns:
        df["activity_id"] = None
    if "id" not in df.columns:
        df["id"] = range(1, len(df) + 1)
    df["score"] = df["score"].astype(int)
    df["group"] = df["timing"].map(th.PAIN_TIMING_GROUPS).fillna("run")
    return df.reset_index(drop=True)


def assessment_days(assessments: pd.DataFrame | None) -> dict[date, int | None]:
    """{local date: assessment id} from ``Store.assessments()`` (id, date, note)."""
    if assessments is None or len(assessments) == 0:
        return {}
    out: dict[date, int | None] = {}
    for _, row in assessments.iterrows():
        d = pd.Timestamp(row["date"]).date()
        rid = row.get("id")
        out[d] = None if rid is None or pd.isna(rid) else int(rid)
    return out


def usual_morning(mornings: list[tuple[date, int]], day: date, *, days: int = th.PAIN_BASELINE_DAYS,
                  min_entries: int = th.PAIN_BASELINE_MIN_ENTRIES) -> float | None:
    """The usual next-morning level before ``day``: the median of the logged next-morning scores in the
    ``days`` days before it (``mornings``: (day, score) logged outside an episode); None with fewer than
    ``min_entries`` entries (unlogged mornings are unknown, never 0)."""
    lo = day - timedelta(days=days)
    scores = [s for d, s in mornings if lo <= d < day]
    return float(np.median(scores)) if len(scores) >= min_entries else None


def not_settled(score: int, usual: float | None, *, margin: int = th.PAIN_SETTLE_MARGIN,
                no_usual_max: int = th.PAIN_SETTLE_NO_BASELINE_MAX) -> bool:
    """A next-morning ``score`` has not settled: ``margin`` or more above the usual level, or above
    ``no_usual_max`` when there is no usual level."""
    if usual is None:
        return score > no_usual_max
    return score >= usual + margin


def rising(entries: list[tuple[date, int]], day: date, *, margin: float = th.PAIN_RISING_MARGIN,
           min_entries: int = th.PAIN_RISING_MIN_ENTRIES) -> tuple[float, float] | None:
    """(this week's mean, last week's mean) when the scores of one timing group (``entries``) rose by
    ``margin`` or more from the 7 days before to the 7 days ending ``day``, with ``min_entries`` entries
    in both weeks; None otherwise."""
    this = [s for d, s in entries if day - timedelta(days=6) <= d <= day]
    prev = [s for d, s in entries if day - timedelta(days=13) <= d <= day - timedelta(days=7)]
    if len(this) < min_entries or len(prev) < min_entries:
        return None
    a, b = float(np.mean(this)), float(np.mean(prev))
    return (a, b) if a - b >= margin - 1e-9 else None


def persistent(checkins: dict[date, tuple[int, int]], day: date, after: date | None, *,
               min_days: int = th.PERSISTENT_PAIN_DAYS, frac: float = th.PERSISTENT_PAIN_DAY_FRAC,
               max_gap_days: int = th.PERSISTENT_EPISODE_GAP_DAYS, max_days: int = 366) -> dict | None:
    """Persistent pain on ``day`` (section 10/11).  The stretch runs back from ``day`` through days with a
    painful check-in (``checkins``: {day: (entries, entries with pain above 0)}) while no 7 days pass
    without one - so every week of it has a check-in and none is pain-free; it is persistent when it lasts
    more than ``min_days`` days and pain was above 0 at ``frac`` or more of its check-ins (entries).  A runner who logs only on run days is judged on
    those check-ins.  ``after``: the last assessment; a stretch that runs back to it is the pain the
    clinician has seen, not a new one.  At most ``max_days`` are looked at.  Returns the numbers, or None."""
    if checkins.get(day, (0, 0))[1] <= 0:
        return None
    first = day
    d = day
    quiet = 0
    for _ in range(max_days):
        d -= timedelta(days=1)
        if after is not None and d <= after:
            if quiet < max_gap_days:
                return None  # the stretch runs back to the assessment: the pain the clinician has seen
            break
        if checkins.get(d, (0, 0))[1] > 0:
            first, quiet = d, 0
        else:
            quiet += 1
            if quiet >= max_gap_days:
                break
    span = (day - first).days + 1
    counts = [checkins[first + timedelta(days=i)] for i in range(span) if first + timedelta(days=i) in checkins]
    total = sum(n for n, _ in counts)
    with_pain = sum(p for _, p in counts)
    share = with_pain / total
    if span > min_days and share >= frac - 1e-9:
        return {"span_days": span, "checkins": total, "pain_checkins": with_pain,
                "pain_checkin_frac": round(share, 2), "since": first}
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
        if "date" in runs.columns:
            days = pd.to_datetime(runs["date"]).dt.date
        else:
            days = pd.to_datetime(runs["start_local"]).dt.date
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
    step: int | None = None
    step_since: date | None = None
    bad_day: date | None = None  # last day that blocks leaving hold/reduce or advancing a step
    stop_checkins: int = 0
    base_week_km: float = math.nan
    base_run_km: float = math.nan
    break_days: int | None = None
    comeback: date | None = None  # rebuild: the first run after the break
    last_run: date | None = None  # rebuild: the last run before the break
    escalation: str | None = None
    esc_since: date | None = None
    esc_reason: str = ""
    esc_entry: object = None
    resume: str | None = None  # what the episode was when the escalation opened

    def move(self, phase, day, reason, entry_id, kind):
        self.phase, self.since, self.reason, self.entry_id, self.entry_kind = phase, day, reason, entry_id, kind


def _score_words(r: Reading) -> str:
    return f"{r.score}/10 {words(r.timing, 'timing')}"


def read_day(entries: list[dict], day: date, usual: float | None, groups: dict[str, list]) -> list[Reading]:
    """What each entry of ``day`` says (section 10/11)."""
    out = []
    for e in entries:
        score, timing = int(e["score"]), e["timing"]
        symptoms = tuple(e.get("symptoms") or ())
        eid = e.get("id")
        eid = None if eid is None or (isinstance(eid, float) and math.isnan(eid)) else int(eid)
        values: dict = {}
        if any(s in th.EMERGENCY_SYMPTOMS for s in symptoms):
            level, rule = "emergency", "red_flag_emergency"
        elif any(s in th.URGENT_SYMPTOMS for s in symptoms):
            level, rule = "see_clinician", "red_flag_urgent"
        elif timing == "next_morning":
            if score > th.PAIN_MORNING_RED_MAX:
                level, rule = "stop", "pain_not_settled"
            elif not_settled(score, usual):
                level, rule = "reduce", "pain_not_settled"
            else:
                level, rule = "ok", None
            values["usual_score"] = usual
        elif score > th.PAIN_AMBER_MAX:
            level, rule = "stop", "pain_during_run"
        elif score > th.PAIN_GREEN_MAX:
            level, rule = "hold", "pain_during_run"
        else:
            level, rule = "ok", None
        group = th.PAIN_TIMING_GROUPS.get(timing, "run")
        if LEVEL_RANK[level] < LEVEL_RANK["reduce"]:
            rose = rising(groups.get(group, []), day)
            if rose is not None:
                level, rule = "reduce", "pain_rising"
                values.update({"mean_score_7d": round(rose[0], 2), "mean_score_prev_7d": round(rose[1], 2),
                               "group": group})
        aid = e.get("activity_id")
        aid = None if aid is None or (isinstance(aid, float) and math.isnan(aid)) else aid
        out.append(Reading(eid, day, score, timing, level, rule, usual, symptoms, values, aid))
    return out


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
    return f"pain of {_score_words(r)} on {when}"


def _step_reason(phase: str, step: int, steps: int) -> str:
    what = "return to running" if phase == "return_to_run" else "rebuild after a break"
    return f"{what}, step {step} of {steps}"


@dataclass
class Episode:
    """:func:`walk`'s result: the ``timeline`` and every pain entry's :class:`Reading` (in time order)."""

    timeline: pd.DataFrame
    readings: list[Reading]
    assessed: dict = field(default_factory=dict)  # {date: assessment id}

    def last_assessment(self, day: date) -> date | None:
        """The latest assessment on or before ``day``."""
        before = [d for d in self.assessed if d <= day]
        return max(before) if before else None


def phase_timeline(runs: pd.DataFrame | None, pain: pd.DataFrame | None,
                   assessments: pd.DataFrame | None = None, *, end=None, start=None) -> pd.DataFrame:
    """One row per local day from the first run, pain entry or assessment (or ``start``) to ``end``
    (default: the last of them), indexed by ``day`` (``datetime.date``), with columns
    :data:`TIMELINE_COLUMNS`:

    ``phase`` (one of :data:`PHASES`), ``since`` (the day the phase began), ``step``/``steps`` (stepped
    phases; None otherwise), ``reason`` (plain words), ``entry_id``/``entry_kind`` (the entry that moved
    the phase: a pain entry id, an assessment id or a run id, with kind "pain", "assessment", "run" or
    None when time moved it), ``episode_start``, ``step_since``, ``max_week_km``/``max_run_km`` (the
    phase's caps in km before personal rules and rounding: stepped targets and half-weeks from the
    pre-episode figures, the Frandsen cap; NaN where the phase gives no number or the history has none),
    ``stop_checkins`` (pain-free check-ins counted towards leaving ``stop``) and ``last_score`` (the
    highest score of the latest check-in).

    ``runs``: :func:`metrics.spike.run_table` (``date``, ``distance_km``); ``pain``: ``Store.pain()``;
    ``assessments``: ``Store.assessments()`` (``id``, ``date``, ``note``)."""
    return walk(runs, pain, assessments, end=end, start=start).timeline


def walk(runs: pd.DataFrame | None, pain: pd.DataFrame | None, assessments: pd.DataFrame | None = None, *,
         end=None, start=None) -> Episode:
    """The timeline of :func:`phase_timeline` together with how each pain entry was read."""
    entries = pain_entries(pain)
    assessed = assessment_days(assessments)
    rr = _Runs(runs)
    firsts = []
    if rr.days:
        firsts.append(date.fromordinal(rr.days[0]))
    if len(entries):
        firsts.append(min(entries["day"]))
    if assessed:
        firsts.append(min(assessed))
    lasts = ([date.fromordinal(rr.days[-1])] if rr.days else []) + (
        [max(entries["day"])] if len(entries) else []) + list(assessed)
    end_day = pd.Timestamp(end).date() if end is not None else (max(lasts) if lasts else None)
    first = pd.Timestamp(start).date() if start is not None else (min(firsts) if firsts else end_day)
    if first is None or end_day is None or first > end_day:
        return Episode(pd.DataFrame(columns=list(TIMELINE_COLUMNS), index=pd.Index([], name="day")), [])

    by_day: dict[date, list[dict]] = {}
    cols = ["id", "day", "score", "timing", "symptoms", "activity_id"]
    for values in zip(*(entries[c].tolist() for c in cols), strict=True):
        rec = dict(zip(cols, values, strict=True))
        by_day.setdefault(rec["day"], []).append(rec)
    has_log_from = min(by_day) if by_day else None

    s = _State(since=first)
    mornings_outside: list[tuple[date, int]] = []
    groups: dict[str, list[tuple[date, int]]] = {"morning": [], "run": []}
    checkins: dict[date, tuple[int, int]] = {}
    last_assessed: date | None = None
    last_score: int | None = None
    prev_caps = (math.nan, math.nan)
    rows = []
    all_readings: list[Reading] = []
    day = first
    one = timedelta(days=1)
    while day <= end_day:
        todays = by_day.get(day, [])
        # 1. an assessment closes the escalations opened before its day ("escalations before that date
        # close"; a red flag logged on the day itself stays open: entries carry a time, assessments do not,
        # and the safe reading is that it came after the visit)
        if day in assessed:
            last_assessed = day
            if s.escalation is not None:
                _after_assessment(s, rr, day, assessed[day])
        # 2. what today's entries say
        while mornings_outside and (day - mornings_outside[0][0]).days > th.PAIN_BASELINE_DAYS:
            mornings_outside.pop(0)
        usual = usual_morning(mornings_outside, day)
        for e in todays:
            groups[th.PAIN_TIMING_GROUPS.get(e["timing"], "run")].append((day, int(e["score"])))
        for g in groups.values():
            while g and (day - g[0][0]).days > 13:
                g.pop(0)
        readings = read_day(todays, day, usual, groups)
        all_readings += readings
        if todays:
            top = max(int(e["score"]) for e in todays)
            checkins[day] = (len(todays), sum(1 for e in todays if int(e["score"]) > 0))
            last_score = top
        worst = max(readings, key=lambda r: LEVEL_RANK[r.level]) if readings else None
        level = worst.level if worst else None
        # 3. escalations: red flags, then persistent pain
        if level in ESCALATIONS:
            if s.escalation is None or (s.escalation == "see_clinician" and level == "emergency"):
                _escalate(s, level, day, _reading_reason(worst), worst.entry_id)
        elif s.escalation is None and todays:
            found = persistent(checkins, day, last_assessed)
            if found is not None:
                _escalate(s, "see_clinician", day,
                          f"persistent pain: pain at {found['pain_checkins']} of {found['checkins']} check-ins "
                          f"over {found['span_days']} days since {fday(found['since'])}", worst.entry_id)
        if s.escalation is None:
            _advance(s, rr, day, readings, worst, bool(todays), has_log_from)
        # mornings logged outside an episode make the usual level
        if s.phase in ("normal", "rebuild") and s.escalation is None:
            mornings_outside += [(day, int(e["score"])) for e in todays if e["timing"] == "next_morning"]
        caps = _caps(s, rr, day)
        if last_score is not None and last_score > th.PAIN_GREEN_MAX and (s.escalation or s.phase) != "normal":
            # caps never rise while pain is above 3
            caps = tuple(_min(c, p) for c, p in zip(caps, prev_caps, strict=True))
        prev_caps = caps
        rows.append(_row(s, day, caps, last_score))
        day += one
    frame = pd.DataFrame(rows, columns=["day", *TIMELINE_COLUMNS]).set_index("day")
    return Episode(frame, all_readings, assessed)


def _min(a: float, b: float) -> float:
    if not math.isfinite(b):
        return a
    if not math.isfinite(a):
        return a
    return min(a, b)


def _row(s: _State, day: date, caps, last_score) -> dict:
    phase = s.escalation or s.phase
    stepped = phase in STEPPED and s.escalation is None
    steps = len(step_fracs(s.phase, s.break_days)[0]) if stepped else None
    if s.escalation is not None:
        since, reason, eid, kind = s.esc_since, s.esc_reason, s.esc_entry, "pain"
    else:
        since, reason, eid, kind = s.since, s.reason, s.entry_id, s.entry_kind
    return {"day": day, "phase": phase, "since": since, "step": s.step if stepped else None,
            "steps": steps, "reason": reason, "entry_id": eid, "entry_kind": kind,
            "episode_start": s.episode_start if phase != "normal" else None,
            "step_since": s.step_since if stepped else None,
            "max_week_km": caps[0], "max_run_km": caps[1], "stop_checkins": s.stop_checkins,
            "last_score": last_score, "next_from": None if s.escalation else _next_from(s)}


def _next_from(s: _State) -> date | None:
    """The first day the phase can move on (with a good check-in that day)."""
    if s.phase in ("hold", "reduce"):
        return s.bad_day + timedelta(days=th.EPISODE_CLEAR_DAYS) if s.bad_day else None
    if s.phase in STEPPED and s.step_since is not None:
        start = max(s.step_since, s.bad_day) if s.bad_day else s.step_since
        return start + timedelta(days=th.STEP_MIN_DAYS)
    return None


def _escalate(s: _State, level: str, day: date, reason: str, entry_id) -> None:
    if s.escalation is None:
        s.resume = s.phase
        if s.phase in ("normal", "rebuild") or s.episode_start is None:
            s.episode_start = day
    s.escalation, s.esc_since, s.esc_reason, s.esc_entry = level, day, reason, entry_id


def _after_assessment(s: _State, rr: _Runs, day: date, assessment_id) -> None:
    """Close the escalation: return_to_run at the step the running since the escalation already fits."""
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
    s.episode_start = start
    s.base_week_km, s.base_run_km = base_week, base_run
    s.move("return_to_run", day, f"a clinician assessed you on {fday(day)}{fits}", assessment_id, "assessment")
    s.step, s.step_since, s.bad_day, s.stop_checkins, s.break_days = step, day, None, 0, None


def _open_episode(s: _State, rr: _Runs, day: date) -> None:
    if s.phase in ("normal", "rebuild") or s.episode_start is None:
        s.episode_start = day
        s.base_week_km, s.base_run_km = pre_episode(rr, day)


def _advance(s: _State, rr: _Runs, day: date, readings: list[Reading], worst: Reading | None,
             checked_in: bool, has_log_from: date | None) -> None:
    """One day of the episode state machine (section 13) outside escalations."""
    level = worst.level if worst else None
    ok_today = checked_in and all(r.level == "ok" for r in readings)
    top = max((r.score for r in readings), default=None)
    if level == "stop":
        if s.phase != "stop":
            _open_episode(s, rr, day)
            s.move("stop", day, _reading_reason(worst), worst.entry_id, "pain")
            s.step = s.step_since = None
        s.stop_checkins = 0
        s.bad_day = day
        return
    if s.phase == "stop":
        if checked_in:
            # "until walking is pain-free": pain at 2 or less, whatever the usual morning level
            if top is not None and top <= th.STOP_CLEAR_MAX_SCORE:
                s.stop_checkins += 1
            else:
                s.stop_checkins = 0
            if s.stop_checkins >= th.STOP_CLEAR_CHECKINS:
                s.move("return_to_run", day, "walking is pain-free again (two check-ins with pain at "
                       f"{th.STOP_CLEAR_MAX_SCORE} or less)",
                       worst.entry_id if worst else None, "pain")
                s.step, s.step_since, s.bad_day, s.stop_checkins = 1, day, None, 0
        return
    if level in ("reduce", "hold"):
        if s.phase in STEPPED:
            if level == "reduce" and s.phase == "rebuild":
                _open_episode(s, rr, day)
                s.move("reduce", day, _reading_reason(worst), worst.entry_id, "pain")
                s.step = s.step_since = None
            else:
                s.bad_day = day  # repeats the step
            return
        if s.phase == "normal" or (s.phase == "hold" and level == "reduce"):
            _open_episode(s, rr, day)
            s.move(level, day, _reading_reason(worst), worst.entry_id, "pain")
        s.bad_day = day
        return
    # a green check-in, or nothing logged today
    if s.phase in ("hold", "reduce"):
        if ok_today and s.bad_day is not None and (day - s.bad_day).days >= th.EPISODE_CLEAR_DAYS:
            _close_episode(s, rr, day, f"a week without pain above {th.PAIN_GREEN_MAX}"
                           + (" and mornings settled" if s.phase == "reduce" else ""), worst)
        return
    if s.phase in STEPPED:
        _step_on(s, rr, day, ok_today, worst, has_log_from)
        return
    # normal: a break of 30 days or more starts a rebuild
    last = rr.last_before(day)
    if last is not None and rr.count(day - timedelta(days=th.REBUILD_GAP_DAYS), day - timedelta(days=1)) == 0:
        _start_rebuild(s, rr, day, last)
        _step_on(s, rr, day, ok_today, worst, has_log_from)


def _close_episode(s: _State, rr: _Runs, day: date, why: str, worst: Reading | None) -> None:
    s.move("normal", day, why, worst.entry_id if worst else None, "pain" if worst else None)
    s.episode_start = s.step = s.step_since = s.bad_day = None
    s.base_week_km = s.base_run_km = math.nan
    s.stop_checkins = 0
    s.break_days = s.comeback = None
    last = rr.last_before(day + timedelta(days=1))
    if last is not None and rr.count(day - timedelta(days=th.REBUILD_GAP_DAYS - 1), day) == 0:
        _start_rebuild(s, rr, day, last)


def _start_rebuild(s: _State, rr: _Runs, day: date, last_run: date) -> None:
    s.base_week_km = rr.total(last_run - timedelta(days=th.PRE_EPISODE_DAYS - 1), last_run) / (
        th.PRE_EPISODE_DAYS / 7)
    s.base_run_km = rr.longest(last_run - timedelta(days=th.SPIKE_WINDOW_DAYS - 1), last_run)
    s.break_days = (day - last_run).days
    s.episode_start = last_run + timedelta(days=1)
    s.comeback = None
    s.move("rebuild", day, f"no run since {fday(last_run)}, more than {th.REBUILD_GAP_DAYS} days", None, None)
    s.step, s.step_since, s.bad_day = 1, None, None
    s.last_run = last_run


def _step_on(s: _State, rr: _Runs, day: date, ok_today: bool, worst: Reading | None,
             has_log_from: date | None) -> None:
    """Advance a return_to_run / rebuild step when it has lasted 7 days with every entry at 3 or less
    (and mornings settled), on a check-in; a rebuild for a runner who has never logged pain advances on
    time alone (nothing to check in with)."""
    if s.phase == "rebuild" and s.comeback is None:
        if s.last_run is not None:
            s.break_days = (day - s.last_run).days  # the break so far decides the first step
        if rr.on(day):
            s.comeback = day
            if s.last_run is not None:
                s.break_days = (day - s.last_run).days
            s.step_since = day
            s.entry_id, s.entry_kind = rr.on(day)[0], "run"
        return
    start = s.step_since
    if start is None:
        return
    if s.bad_day is not None and s.bad_day > start:
        start = s.bad_day
    if (day - start).days < th.STEP_MIN_DAYS:
        return
    logging = has_log_from is not None and has_log_from <= day
    if not (ok_today or (s.phase == "rebuild" and not logging)):
        return
    steps = len(step_fracs(s.phase, s.break_days)[0])
    eid, kind = (worst.entry_id, "pain") if worst is not None else (None, None)
    if s.step >= steps:
        what = "the return to running" if s.phase == "return_to_run" else "the rebuild"
        _close_episode(s, rr, day, f"{what} is complete (every step done with pain at "
                       f"{th.PAIN_GREEN_MAX} or less)", worst)
        return
    s.step += 1
    s.step_since, s.bad_day = day, None
    s.reason = (f"step {s.step - 1} done: {th.STEP_MIN_DAYS} days or more with pain at {th.PAIN_GREEN_MAX} or "
                "less" + (", checked in" if eid is not None else ""))
    s.entry_id, s.entry_kind = eid, kind


def _caps(s: _State, rr: _Runs, day: date) -> tuple[float, float]:
    """(week cap, run cap) in km for the phase on ``day`` (NaN: no number from the phase)."""
    phase = s.escalation or s.phase
    if phase in NO_NUMBERS or phase == "normal":
        return math.nan, math.nan
    frandsen = frandsen_cap(rr, day)
    if phase == "hold":
        return s.base_week_km, frandsen
    if phase == "reduce":
        return th.REDUCE_FRAC * s.base_week_km, _min(th.REDUCE_FRAC * s.base_run_km, frandsen)
    week_fracs, run_fracs = step_fracs(s.phase, s.break_days)
    k = min(max(s.step or 1, 1), len(week_fracs)) - 1
    return week_fracs[k] * s.base_week_km, _min(run_fracs[k] * s.base_run_km, frandsen)


def phase_segments(timeline: pd.DataFrame) -> list[dict]:
    """Consecutive days of one phase and step as segments: ``start``, ``end`` (inclusive local dates),
    ``phase``, ``step``, ``steps``, ``reason`` (the reason on the segment's first day)."""
    out: list[dict] = []
    if timeline is None or len(timeline) == 0:
        return out
    # plain lists, not iterrows: a year of days is 365 Series built and indexed five times each
    columns = (timeline[c].tolist() for c in ("phase", "step", "steps", "reason"))
    for day, phase, step, steps, reason in zip(timeline.index, *columns, strict=True):
        step = None if step is None or pd.isna(step) else int(step)
        steps = None if steps is None or pd.isna(steps) else int(steps)
        if out and out[-1]["phase"] == phase and out[-1]["step"] == step and \
                out[-1]["end"] == day - timedelta(days=1):
            out[-1]["end"] = day
            continue
        out.append({"start": day, "end": day, "phase": phase, "step": step, "steps": steps, "reason": reason})
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
        for key in ("since", "episode_start", "step_since", "next_from"):
            v = row.get(key)
            row[key] = None if v is None or (not isinstance(v, date) and pd.isna(v)) else v
        return row
    return {"day": d, "phase": "normal", "since": None, "step": None, "steps": None,
            "reason": "no pain episode open", "entry_id": None, "entry_kind": None, "episode_start": None,
            "step_since": None, "max_week_km": math.nan, "max_run_km": math.nan, "stop_checkins": 0,
            "last_score": None, "next_from": None}
