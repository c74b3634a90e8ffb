"""Alerts, the plan and suggested rules, bundled for the report and the faces.

:func:`advise` is what ``loadwatch.metrics.report.build_report`` calls.  It accepts empty frames (a new runner):
then there are no alerts, the plan is green with a "not enough history" reason, and no suggestions.
"""

from __future__ import annotations

import pandas as pd

from loadwatch.metrics import episodes as _ep
from loadwatch.metrics import programme as _programme
from loadwatch.metrics import thresholds as th
from loadwatch.metrics.calendar import as_date
from loadwatch.metrics.detector import episode, evaluate
from loadwatch.metrics.plan import align, make_plan
from loadwatch.metrics.suggest import suggest


def _frame(df) -> pd.DataFrame:
    return df if isinstance(df, pd.DataFrame) else pd.DataFrame()


def advise(*, runs=None, weekly=None, daily=None, pain=None, rules=(), settings=None, as_of=None,
           assessments=None, programme: _programme.ProgrammeInput | None = None, substantial_weeks=()) -> dict:
    """``{"alerts": [alert dicts], "plan": plan dict, "suggested_rules": [suggestion dicts],
    "phases": [phase segments, stepped ones with what was run in them against their caps],
    "step_overruns": [runs and weeks above a step's or a clinician's caps], "disclaimer": ...}`` for
    ``as_of`` (a date; default today).

    The phase timeline (:func:`loadwatch.metrics.episodes.walk` over runs, pain and ``assessments``) is computed
    once and read by the alerts and the plan.

    ``runs``: ``loadwatch.metrics.spike.run_table``; ``weekly``: ``loadwatch.metrics.weekly.weekly_table``; ``daily``:
    ``loadwatch.metrics.daily.daily_series``; ``pain``: ``Store.pain()``; ``rules``: ``Store.rules()``;
    ``settings``: ``loadwatch.ingest.settings.Settings``; ``programme``: the back programme and the sessions done
    (:class:`loadwatch.metrics.programme.ProgrammeInput`), placed on the same timeline (``"programme"``: paused by a
    red flag or a stop, :func:`loadwatch.metrics.programme.status`; None without one); ``substantial_weeks``: OSTRC
    weeks marked a substantial problem, flare-ups for the suggested rules (§14, §16).
    """
    as_of = as_date(as_of)
    runs, weekly, daily, pain = _frame(runs), _frame(weekly), _frame(daily), _frame(pain)
    rules = list(rules or ())
    walked = episode(runs, pain, assessments, as_of)
    alerts = evaluate(runs=runs, weekly=weekly, daily=daily, pain=pain, rules=rules, settings=settings,
                      as_of=as_of, walked=walked)
    plan = make_plan(alerts, weekly, runs, pain, settings, as_of, rules=rules, walked=walked)
    align(alerts, plan)
    care = plan.status in ("emergency", "see_clinician")
    suggestions = [] if care else suggest(weekly, pain, settings, as_of, rules=rules,
                                               substantial_weeks=substantial_weeks)
    return {
        "alerts": [a.to_dict() for a in alerts],
        "plan": plan.to_dict(),
        "suggested_rules": [s.to_dict() for s in suggestions],
        "phases": [{**seg, "start": seg["start"].isoformat(), "end": seg["end"].isoformat()}
                   for seg in _ep.step_record(_ep.phase_segments(walked.timeline), walked, runs)],
        "step_overruns": [{"date": o.day.isoformat(), "kind": o.kind, "distance_km": round(o.distance_km, 3),
                           "cap_km": round(o.cap_km, 3), "phase": o.phase, "step": o.step, "steps": o.steps,
                           "activity_id": None if o.activity_id is None else str(o.activity_id),
                           "set_by_clinician": None if o.set_by_clinician is None else
                           o.set_by_clinician.isoformat()} for o in walked.overruns],
        "programme": _programme.status(programme, walked.timeline, as_of),
        "disclaimer": th.NOT_MEDICAL_ADVICE,
    }
