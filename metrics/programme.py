"""Back programmes as plan templates, under the rules of a pain episode (SCIENCE.md sections 13 and 16;
docs/evidence.md "Back programmes").  Pure functions: the programme's rows, the days sessions were done
and the phase timeline in; the programme's week, its next sessions and adherence out.

* ``walkback`` - WalkBack (Pocovi et al., Lancet 2024;404:134): walking built up to about 30 minutes 5
  times a week.  The trial's physiotherapists set each person's build-up; loadwatch's conservative default
  (:data:`WALKBACK_WEEKS`) starts at 3 x 10 minutes and reaches 5 x 30 in week 7, then holds it to the
  end of the trial's 6 months (:data:`WALKBACK_LENGTH_WEEKS`).
* ``runwalk`` - ASTEROID (Neason et al., BJSM 2024): a 12-week progressive run-walk interval programme of
  three 30-minute sessions a week.  The paper does not print the week-by-week intervals (an exercise
  physiologist individualised them); loadwatch's conservative default (:data:`RUNWALK_WEEKS`) starts at
  1 minute of running to 2 of walking and reaches 10 to 1 in week 12.

**The episode governs.** On a day in a phase that pauses the programme (:func:`pause_phases`) no sessions
are planned, its week does not advance, and it resumes where it was.  A red flag pauses every programme.  A
``stop`` stops *running*: it pauses the run-walk (:data:`PAUSE_PHASES`), but not WalkBack's walking, which
the stop itself leaves open ("stop running until walking is pain-free", SCIENCE.md §12/§13): the walks go on,
each kept to what stays pain-free.
**Adherence** is sessions done over sessions planned, programme week by programme week, against
ASTEROID's 70% (:data:`ADHERENCE_TARGET_PCT`).  A session done is a walk or a run from a watch file (or a
logged walk) of at least :data:`MIN_SESSION_MIN` minutes, one a day; done sessions above the week's plan
do not lift its adherence above 100%.  The session on the day a pause began (the run that hurt) counts for
the week in progress; sessions on later paused days do not.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from loadwatch.ingest.programmes import PROGRAMMES
from loadwatch.metrics import fmt

#: Phases that pause a running programme (SCIENCE.md §13: red flags and a stop outrank it).
PAUSE_PHASES: tuple[str, ...] = ("stop", "see_clinician", "emergency")
#: Phases that pause a walking programme: the red flags only.  A stop is of running, and its own words send
#: the runner walking ("until walking is pain-free", SCIENCE.md §12); WalkBack's walking is what it asks.
WALK_PAUSE_PHASES: tuple[str, ...] = ("see_clinician", "emergency")
#: ASTEROID's mean adherence (Neason et al. 2024: 70%, 2.1 of 3 sessions a week) [%].
ADHERENCE_TARGET_PCT: float = 70.0
#: The shortest walk or run that counts as a programme session [min] (a third of WalkBack's first walks
#: would be noise; a 10-minute walk is the shortest session either default plans).
MIN_SESSION_MIN: float = 10.0
#: WalkBack default: (sessions, minutes each) for weeks 1-7; week 7 onward holds 5 x 30 min.
WALKBACK_WEEKS: tuple[tuple[int, float], ...] = ((3, 10), (3, 15), (4, 15), (4, 20), (5, 20), (5, 25), (5, 30))
#: WalkBack's intervention lasted about 6 months [weeks].
WALKBACK_LENGTH_WEEKS: int = 26
#: ASTEROID default: (run minutes, walk minutes) per interval for weeks 1-12; three 30-minute sessions.
RUNWALK_WEEKS: tuple[tuple[float, float], ...] = (
    (1, 2), (1, 2), (2, 2), (2, 2), (3, 2), (3, 2), (4, 1), (5, 1), (6, 1), (8, 1), (9, 1), (10, 1))
RUNWALK_SESSIONS: int = 3
RUNWALK_SESSION_MIN: float = 30.0
SOURCES: dict[str, str] = {
    "walkback": "Pocovi et al., Lancet 2024;404:134 (WalkBack)",
    "runwalk": "Neason et al., Br J Sports Med 2024 (ASTEROID)",
}
#: Phases whose caps bound every session's distance while the programme runs (the lower number wins).
CAPPED_PHASES: tuple[str, ...] = ("hold", "reduce", "return_to_run", "rebuild")
_PAUSE_WORDS = {"stop": "running has stopped for your back (the episode's stop)",
                "see_clinician": "a clinician should assess your back first",
                "emergency": "your back needs urgent care first"}
#: What a walking programme says while running has stopped (the stop's own test is pain-free walking).
WALK_IN_STOP_WORDS = "Running has stopped for your back, walking has not: keep each walk to what stays pain-free."


def pause_phases(kind: str) -> tuple[str, ...]:
    """The phases that pause programme ``kind``: a red flag pauses both; a stop pauses the run-walk only."""
    return WALK_PAUSE_PHASES if kind == "walkback" else PAUSE_PHASES


def pause_rule_words(kind: str | None = None) -> str:
    """The pause rule in a sentence, for programme ``kind`` (None: both programmes)."""
    if kind == "walkback":
        return "A red flag pauses it (a stop of running does not: walking goes on); it resumes where it was."
    if kind == "runwalk":
        return "A red flag or a stop pauses it; it resumes where it was."
    return ("A red flag pauses a programme, and a stop of running pauses the run-walk (WalkBack's walking goes "
            "on); it resumes where it was.")


@dataclass(frozen=True)
class Week:
    """One programme week: ``sessions`` planned of ``session_min`` minutes; run-walk intervals of
    ``run_interval_min`` running then ``walk_interval_min`` walking (0 running: a walk)."""

    number: int
    sessions: int
    session_min: float
    run_interval_min: float = 0.0
    walk_interval_min: float = 0.0

    @property
    def run_min(self) -> float:
        """Minutes of running in a session (whole intervals of the session's length)."""
        if not self.run_interval_min:
            return 0.0
        return round(self.session_min * self.run_interval_min / (self.run_interval_min + self.walk_interval_min), 1)

    def words(self) -> str:
        if not self.run_interval_min:
            return f"walk {self.session_min:g} minutes"
        return (f"{self.session_min:g} minutes of run-walk: run {self.run_interval_min:g} min, "
                f"walk {self.walk_interval_min:g} min, repeated")


def length_weeks(kind: str) -> int:
    return WALKBACK_LENGTH_WEEKS if kind == "walkback" else len(RUNWALK_WEEKS)


def plan_week(kind: str, number: int) -> Week:
    """Week ``number`` (1 first) of programme ``kind``; ValueError for an unknown kind."""
    if kind not in PROGRAMMES:
        raise ValueError(f"the programme must be one of {', '.join(PROGRAMMES)} (got {kind!r})")
    number = max(1, min(int(number), length_weeks(kind)))
    if kind == "walkback":
        sessions, minutes = WALKBACK_WEEKS[min(number, len(WALKBACK_WEEKS)) - 1]
        return Week(number, sessions, float(minutes))
    run, walk = RUNWALK_WEEKS[number - 1]
    return Week(number, RUNWALK_SESSIONS, RUNWALK_SESSION_MIN, float(run), float(walk))


def done_sessions(activities: pd.DataFrame | None, sessions: pd.DataFrame | None = None,
                  timezone: str | None = "UTC", *, min_minutes: float = MIN_SESSION_MIN) -> pd.DataFrame:
    """Days a programme session was done: ``date`` (``datetime.date``), ``kind`` ("run" or "walk"),
    ``minutes``.  Runs and walks from watch files and logged walks of at least ``min_minutes`` [min]; one
    row a day (the longest)."""
    from loadwatch.metrics.daily import local_starts

    rows = []
    if activities is not None and len(activities):
        acts = activities[activities["sport"].isin(["running", "walking"])]
        if "excluded_reason" in acts:
            acts = acts[acts["excluded_reason"].isna()]
        if len(acts):
            local = local_starts(acts, timezone)
            minutes = pd.to_numeric(acts.get("elapsed_s"), errors="coerce") / 60.0
            if "moving_s" in acts:
                minutes = (pd.to_numeric(acts["moving_s"], errors="coerce") / 60.0).fillna(minutes)
            for when, sport, mins in zip(local, acts["sport"], minutes, strict=True):
                rows.append((when.date(), "run" if sport == "running" else "walk", float(mins)))
    if sessions is not None and len(sessions):
        walks = sessions[sessions["kind"] == "walking"]
        rows += [(pd.Timestamp(d).date(), "walk", float(m)) for d, m in zip(walks["date"], walks["minutes"],
                                                                          strict=True)]
    frame = pd.DataFrame(rows, columns=["date", "kind", "minutes"])
    frame = frame[frame["minutes"] >= min_minutes]
    frame = frame.sort_values(["date", "minutes"]).drop_duplicates("date", keep="last")
    return frame.reset_index(drop=True)


@dataclass
class ProgrammeInput:
    """What :func:`loadwatch.metrics.advice.advise` needs to place a programme: the store's ``programmes``
    (``kind, start_date, stop_date``) and :func:`done_sessions`."""

    programmes: pd.DataFrame
    done: pd.DataFrame


def _phase_on(timeline: pd.DataFrame | None, day: dt.date) -> tuple[str, str]:
    if timeline is None or len(timeline) == 0 or day not in timeline.index:
        return "normal", ""
    row = timeline.loc[day]
    return str(row["phase"]), str(row.get("reason") or "")


def status(inputs: ProgrammeInput | None, timeline: pd.DataFrame | None, as_of) -> dict | None:
    """The latest programme as of ``as_of`` (a date): None when none was started by then.

    Keys (minutes in ``_min``): ``kind``, ``name``, ``source``, ``start_date``, ``stop_date``, ``state``
    ("running", "paused", "complete", "stopped"), ``week``, ``weeks``, ``paused``, ``paused_reason``,
    ``paused_days``, ``this_week`` (``number``, ``sessions_planned``, ``session_min``, ``run_min``,
    ``run_interval_min``, ``walk_interval_min``, ``sessions_done``, ``start``, ``end``, ``words``),
    ``next_sessions`` (``date``, ``session_min``, ``run_min``, ``words``), ``adherence`` (one row per
    programme week begun: ``week``, ``start``, ``end``, ``sessions_planned``, ``sessions_done``,
    ``adherence_pct``, ``complete``, ``met_target``), ``adherence_pct`` (over the completed weeks; None
    before one is complete), ``adherence_target_pct``, ``within_plan_caps`` (the episode's phase caps
    every session: hold, reduce, return_to_run, rebuild), ``walk_in_stop`` (a walking programme going on while
    running has stopped: its walks kept pain-free) and ``summary`` (plain words)."""
    as_of = pd.Timestamp(as_of).date()
    prog = _latest(inputs, as_of)
    if prog is None:
        return None
    kind, start = str(prog["kind"]), pd.Timestamp(prog["start_date"]).date()
    stop = None if prog["stop_date"] is None or pd.isna(prog["stop_date"]) else pd.Timestamp(prog["stop_date"]).date()
    last = min(as_of, stop) if stop is not None and stop <= as_of else as_of
    done_days = {} if inputs.done is None else {d: k for d, k in zip(inputs.done["date"], inputs.done["kind"],
                                                                      strict=True) if start <= d <= last}
    total = length_weeks(kind)
    pausing = pause_phases(kind)
    walked = _walk_days(timeline, start, last, done_days, total, pausing)
    weeks, active, phase = walked.weeks, walked.active, walked.phase
    finished = active >= 7 * total and not (weeks and weeks[-1]["end"] == last and weeks[-1]["days"] < 7)
    # the week that holds the last day (its own week when it moved the clock, else the one it resumes in)
    current = plan_week(kind, weeks[-1]["week"] if weeks and weeks[-1]["end"] == last else
                        min(active // 7 + 1, total))
    rows, overall = _adherence(kind, weeks)
    state = _state(stop, as_of, finished, paused=phase in pausing)
    this = rows[-1] if rows and not finished and rows[-1]["week"] == current.number else None
    week_start = dt.date.fromisoformat(this["start"]) if this else as_of
    done_now = this["sessions_done"] if this else 0
    next_sessions = [] if state != "running" else _next_sessions(kind, current, week_start, as_of, done_days,
                                                                  done_now)
    out = {
        "kind": kind, "name": PROGRAMMES[kind], "source": SOURCES[kind], "start_date": start.isoformat(),
        "stop_date": None if stop is None else stop.isoformat(), "state": state,
        "week": current.number, "weeks": total, "paused": state == "paused",
        "paused_reason": _PAUSE_WORDS.get(phase) if state == "paused" else None, "paused_days": walked.paused_days,
        "this_week": None if state in ("stopped", "complete") else _this_week(current, week_start, done_now),
        "next_sessions": next_sessions, "adherence": rows, "adherence_pct": overall,
        "adherence_target_pct": ADHERENCE_TARGET_PCT,
        "within_plan_caps": state == "running" and phase in CAPPED_PHASES,
        "walk_in_stop": state == "running" and phase == "stop",
    }
    out["summary"] = summary_words(out)
    return out


def _latest(inputs: ProgrammeInput | None, as_of: dt.date) -> pd.Series | None:
    """The latest programme started on or before ``as_of`` (None when there is none)."""
    if inputs is None or inputs.programmes is None or len(inputs.programmes) == 0:
        return None
    progs = inputs.programmes[[pd.Timestamp(d).date() <= as_of for d in inputs.programmes["start_date"]]]
    return None if len(progs) == 0 else progs.iloc[-1]


def _state(stop: dt.date | None, as_of: dt.date, finished: bool, *, paused: bool) -> str:
    """"stopped", "complete", "paused" (the last day is in a pausing phase) or "running"."""
    if stop is not None and stop <= as_of:
        return "stopped"
    if finished:
        return "complete"
    return "paused" if paused else "running"


@dataclass
class _Walked:
    """The programme's days walked: its weeks (``week``, ``start``, ``end``, ``days``, ``sessions_done``),
    the active days that moved its clock, the paused days that did not, and the phase of the last day."""

    weeks: list[dict]
    active: int
    paused_days: int
    phase: str


def _walk_days(timeline: pd.DataFrame | None, start: dt.date, last: dt.date, done_days: dict,
               total: int, pausing: tuple[str, ...] = PAUSE_PHASES) -> _Walked:
    """Walk the days from ``start`` to ``last``: active days move the programme's clock, days in a phase of
    ``pausing`` do not."""
    weeks: list[dict] = []
    active = paused_days = 0
    phase = "normal"
    day = start
    while day <= last:
        was = phase
        phase, _reason = _phase_on(timeline, day)
        if phase in pausing:
            paused_days += 1
            if was not in pausing and weeks and day in done_days:
                weeks[-1]["sessions_done"] += 1  # the session during which the pause began was done
        else:
            number = active // 7 + 1
            if number > total:
                break
            if not weeks or weeks[-1]["week"] != number:
                weeks.append({"week": number, "start": day, "end": day, "days": 0, "sessions_done": 0})
            w = weeks[-1]
            w["end"], w["days"] = day, w["days"] + 1
            w["sessions_done"] += day in done_days
            active += 1
        day += dt.timedelta(days=1)
    return _Walked(weeks, active, paused_days, phase)


def _adherence(kind: str, weeks: list[dict]) -> tuple[list[dict], float | None]:
    """One adherence row per programme week begun, and the adherence over the completed weeks (None
    before one is complete)."""
    rows = []
    for w in weeks:
        planned = plan_week(kind, w["week"]).sessions
        complete = w["days"] == 7
        pct = round(100.0 * min(w["sessions_done"], planned) / planned, 1)
        rows.append({"week": w["week"], "start": w["start"].isoformat(), "end": w["end"].isoformat(),
                     "sessions_planned": planned, "sessions_done": int(w["sessions_done"]),
                     "adherence_pct": pct, "complete": complete, "met_target": pct >= ADHERENCE_TARGET_PCT})
    full = [r for r in rows if r["complete"]]
    overall = None if not full else round(100.0 * sum(min(r["sessions_done"], r["sessions_planned"]) for r in full)
                                          / sum(r["sessions_planned"] for r in full), 1)
    return rows, overall


def _this_week(current: Week, week_start: dt.date, done_now: int) -> dict:
    return {"number": current.number, "sessions_planned": current.sessions, "session_min": current.session_min,
            "run_min": current.run_min, "run_interval_min": current.run_interval_min,
            "walk_interval_min": current.walk_interval_min, "sessions_done": done_now,
            "start": week_start.isoformat(), "end": (week_start + dt.timedelta(days=6)).isoformat(),
            "words": current.words()}


def _next_sessions(kind: str, week: Week, week_start: dt.date, as_of: dt.date, done_days: dict,
                   done_now: int) -> list[dict]:
    """The sessions left in this programme week from ``as_of`` on (today if none was done today); runs
    keep a rest day between them (SCIENCE.md §12), walks may follow each other."""
    left = max(week.sessions - done_now, 0)
    gap = 2 if week.run_interval_min else 1
    last_done = max((d for d in done_days if d <= as_of), default=None)
    day = as_of if as_of not in done_days else as_of + dt.timedelta(days=1)
    if last_done is not None and (day - last_done).days < gap:
        day = last_done + dt.timedelta(days=gap)
    end = week_start + dt.timedelta(days=6)
    out = []
    while left and day <= end:
        out.append({"date": day.isoformat(), "session_min": week.session_min, "run_min": week.run_min,
                    "words": week.words()})
        left -= 1
        day += dt.timedelta(days=gap)
    return out


def summary_words(p: dict) -> str:
    """The programme in one or two plain sentences."""
    name = p["name"]
    if p["state"] == "stopped":
        head = f"Your {name} programme stopped on {fmt.day(p['stop_date'])} in week {p['week']} of {p['weeks']}."
    elif p["state"] == "complete":
        head = f"You completed the {p['weeks']} weeks of the {name} programme."
    elif p["state"] == "paused":
        head = (f"Your {name} programme is paused in week {p['week']} of {p['weeks']}: {p['paused_reason']}. "
                "It resumes at this week when the episode allows.")
    else:
        t = p["this_week"]
        head = (f"{name} programme, week {p['week']} of {p['weeks']}: {t['sessions_planned']} sessions, "
                f"each {t['words']}; {t['sessions_done']} done so far this week.")
        if p.get("within_plan_caps"):
            head += " Keep every session within this week's plan: its caps come first."
        if p.get("walk_in_stop"):
            head += " " + WALK_IN_STOP_WORDS
    if p["adherence_pct"] is not None:
        met = "at or above" if p["adherence_pct"] >= p["adherence_target_pct"] else "below"
        head += (f" Adherence {p['adherence_pct']:g}% of planned sessions, {met} the "
                 f"{p['adherence_target_pct']:g}% the ASTEROID trial reached.")
    return head
