"""The report: everything ``loadwatch report --json`` prints, as one JSON-ready dict.

Keys are a public contract (docs/ARCHITECTURE.md): never renamed, new keys may be added.  Numbers are
always metric (km, min, m); ``units`` says what the runner reads them in.  NaN becomes ``null``.
Only activities that started on or before ``as_of`` (local day) count, so ``--as-of`` reproduces the past.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from loadwatch.ingest.settings import Settings
from loadwatch.metrics import advice as _advice
from loadwatch.metrics import outcomes as _outcomes
from loadwatch.metrics import plan as _plan
from loadwatch.metrics import programme as _programme
from loadwatch.metrics.daily import daily_series, local_starts
from loadwatch.metrics.episodes import NO_NUMBERS as NO_NUMBER_PHASES
from loadwatch.metrics.fmt import is_missing
from loadwatch.metrics.intensity import INTENSITY_COLUMNS
from loadwatch.metrics.shoe_distance import shoe_km_at_run
from loadwatch.metrics.spike import run_table, weekly_spike_cap_km
from loadwatch.metrics.thresholds import (
    ACWR_CAVEAT,
    ACWR_DANGER,
    ACWR_EVIDENCE,
    ACWR_SWEET_SPOT,
    DEFAULT_LOAD_UNIT,
    FRANDSEN_2025,
    MONOTONY_INFO,
    NOT_MEDICAL_ADVICE,
    SURFACES,
)
from loadwatch.metrics.weekly import weekly_table

DEFAULT_WEEKS = 12
#: Decimals kept in the JSON (plenty for km, minutes and ratios; keeps the output readable).
JSON_DECIMALS = 3
DYNAMICS_KEYS = ("cadence_spm", "vertical_oscillation_mm", "stance_time_ms", "step_length_mm")


def to_jsonable(value, decimals: int | None = None):
    """``value`` turned into plain JSON types, recursively: NaN/NaT/inf/pd.NA -> None, numpy scalars ->
    Python numbers, a midnight Timestamp/date -> ``"YYYY-MM-DD"`` (other times ISO 8601), dataclasses
    and Series -> dicts, tuples/arrays -> lists.  Floats are rounded to ``decimals`` when given."""
    if value is None or isinstance(value, str | bool):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        f = float(value)
        if not math.isfinite(f):
            return None
        return round(f, decimals) if decimals is not None else f
    if value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, pd.Timestamp | dt.datetime):
        ts = pd.Timestamp(value)
        if ts.tzinfo is None and ts == ts.normalize():
            return ts.strftime("%Y-%m-%d")
        return ts.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name), decimals) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(to_jsonable(k)): to_jsonable(v, decimals) for k, v in value.items()}
    if isinstance(value, pd.Series):
        return {str(to_jsonable(k)): to_jsonable(v, decimals) for k, v in value.items()}
    if isinstance(value, pd.DataFrame):
        return [to_jsonable(row, decimals) for _i, row in value.reset_index().iterrows()]
    if isinstance(value, list | tuple | set | np.ndarray | pd.Index):
        return [to_jsonable(v, decimals) for v in value]
    return None if is_missing(value) else str(value)


def today_local(timezone: str | None) -> pd.Timestamp:
    """Today's date in the runner's time zone (naive midnight)."""
    now = dt.datetime.now(ZoneInfo(timezone or "UTC"))
    return pd.Timestamp(now.date())


def _as_of_day(as_of, settings: Settings) -> pd.Timestamp:
    if as_of is None:
        return today_local(settings.timezone)
    ts = pd.Timestamp(as_of)
    if ts.tzinfo is not None:
        ts = ts.tz_convert(settings.timezone).tz_localize(None)
    return ts.normalize()


def _until(frame: pd.DataFrame | None, column: str, as_of: pd.Timestamp) -> pd.DataFrame | None:
    """Rows of ``frame`` whose ``column`` (naive local datetime) falls on or before ``as_of``'s day."""
    if frame is None or len(frame) == 0 or column not in frame:
        return frame
    when = pd.to_datetime(frame[column])
    keep = when < as_of + pd.Timedelta(days=1)
    if "deleted" in frame:
        keep &= ~frame["deleted"].fillna(False).astype(bool)
    return frame[keep.to_numpy()]


def week_entry(week_start: pd.Timestamp, row, load_unit: str = DEFAULT_LOAD_UNIT) -> dict:
    """One row of the weekly table (a Series or a dict of its columns) in the JSON contract's shape."""
    entry = {
        "week_start": week_start,
        "distance_km": row["distance_km"],
        "duration_min": row["duration_min"],
        "runs": int(row["runs"]),
        "long_run_km": row["long_run_km"],
        "ascent_m": row["ascent_m"],
        "surface_km": {s: row[f"surface_{s}_km"] for s in SURFACES},
        "intensity_min": {g: row[f"intensity_{g}_min"] for g in INTENSITY_COLUMNS},
        "load": row["load"],
        "load_unit": load_unit,
        "trimp": row["trimp"],
        "srpe_au": row["srpe_au"],
        "acwr": row["acwr"],
        "monotony": row["monotony"],
        "strain": row["strain"],
        "change_pct": row["change_pct"],
        "ctl": row["ctl"],
        "atl": row["atl"],
        "tsb": row["tsb"],
        "cross_training_min": row["cross_training_min"],
        "strength_min": row["strength_min"],
        "shoe_km_max": row["shoe_km_max"],
        "partial_week": bool(row["partial_week"]),
        "days": int(row["days"]),
    }
    for key in DYNAMICS_KEYS:
        entry[key] = row[key]
    return to_jsonable(entry, JSON_DECIMALS)


def _latest_run(runs: pd.DataFrame) -> dict | None:
    if runs.empty:
        return None
    rid = runs.index[-1]
    row = runs.iloc[-1]
    return to_jsonable({
        "id": rid, "date": row["date"], "distance_km": row["distance_km"],
        "duration_min": row["duration_min"], "surface": row["surface"],
        "longest_30d_km": row["longest_30d_km"], "spike_pct": row["spike_pct"],
        "spike_category": row["spike_category"], "spike_hazard_ratio": row["spike_hazard_ratio"],
        "safe_longest_km": row["safe_longest_km"],
        "safe_longest_at_run_km": row["safe_longest_km"],
        "spike_note": None if row["spike_category"] is not None else "not enough history (no run in the "
                                                                     "previous 30 days)",
    }, JSON_DECIMALS)


def activities_until(activities: pd.DataFrame | None, hr_hist: pd.DataFrame | None, settings: Settings,
                     as_of=None) -> tuple[pd.DataFrame | None, pd.DataFrame | None, pd.Timestamp]:
    """The activities (and their heart-rate histograms) a report as of ``as_of`` sees: those that
    started on or before ``as_of``'s local day (default today in the runner's time zone).  Returns
    ``(activities, hr_hist, day)`` with ``day`` the report's day as a naive midnight Timestamp.  The
    cohort's run table uses it, so its runs are exactly the report's."""
    day = _as_of_day(as_of, settings)
    acts = activities
    if acts is not None and len(acts):
        local = local_starts(acts, settings.timezone)
        acts = acts[(local < day + pd.Timedelta(days=1)).to_numpy()]
    hist = hr_hist
    if hist is not None and len(hist) and acts is not None:
        ids = acts["id"] if "id" in acts else acts.index
        hist = hist[hist.index.isin(pd.Index(ids))]
    return acts, hist, day


def _assessment_list(assessments: pd.DataFrame | None) -> list[dict]:
    if assessments is None or len(assessments) == 0:
        return []
    out = []
    for r in assessments.to_dict("records"):
        item = {"id": int(r["id"]), "date": pd.Timestamp(r["date"]).date().isoformat(), "note": r.get("note") or ""}
        for key in ("time", "cleared", "return_step", "max_week_km", "max_run_km", "max_pain"):
            if key in r:
                item[key] = to_jsonable(r[key])
        out.append(item)
    return out


def _forward_safe_longest(latest: dict | None, runs: pd.DataFrame, plan: dict, day) -> dict | None:
    """``latest_run.safe_longest_km`` is the safe longest run *from now* (SCIENCE.md section 12: 1.10 x the
    longest run of the last 23 days, so it holds for the plan's 7 days, and never above the plan's own run
    cap), so every face gives the same figure; null when the phase gives no training number (stop, red
    flags: :func:`withhold_advice`).  The figure as it stood when the run was done is ``safe_longest_at_run_km``."""
    if latest is None:
        return None
    cap = _plan.frandsen_cap_km(_plan.history(None, runs, day.date()))
    if plan.get("max_run_km") is not None:
        cap = plan["max_run_km"] if cap is None else min(cap, plan["max_run_km"])
    latest["safe_longest_km"] = cap  # unrounded: the plan's figure in km, so every face shows the same number
    return latest


def _step_cap(latest: dict | None, overruns: list[dict]) -> dict | None:
    """``latest_run.above_step_cap``: the run went above the run cap of a return_to_run / rebuild step (or
    of a clinician's), with that cap as ``step_cap_km`` (SCIENCE.md section 13: during a return the step's
    cap is the spike reference, whatever older runs in the 30-day window say) and, when a clinician's
    decision set the caps, the day of it as ``step_cap_set_by_clinician``."""
    if latest is None:
        return None
    hit = [o for o in overruns if o["kind"] == "run" and o.get("activity_id") == str(latest.get("id"))]
    latest["above_step_cap"] = bool(hit)
    latest["step_cap_km"] = hit[-1]["cap_km"] if hit else None
    latest["step_cap_set_by_clinician"] = hit[-1].get("set_by_clinician") if hit else None
    return latest


#: ``latest_run`` keys that hold an advice number (a cap), withheld while the plan gives none.
LATEST_RUN_ADVICE = ("safe_longest_km", "safe_longest_at_run_km", "step_cap_km", "step_cap_set_by_clinician")


def withhold_advice(report: dict) -> dict:
    """The report without an advice number while the plan gives none (``stop``, and a red flag until an
    assessment is recorded: SCIENCE.md sections 11 and 13): the latest run's safe longest run and step cap,
    and the current week's spike cap, are null; the plan's own caps already are.  The history stays (the
    weekly table, past weeks' spike caps, the phases and the over-runs that happened), for the clinician.
    Done here, where the report is built, so every face (the text report, ``--json``, the physio PDF and
    HTML, the dashboard) shows what the report holds and none can show a cap beside a red flag."""
    plan = report.get("plan") or {}
    if plan.get("phase") not in NO_NUMBER_PHASES and plan.get("status") not in NO_NUMBER_PHASES:
        return report
    latest = report.get("latest_run")
    if latest:
        latest.update(dict.fromkeys(LATEST_RUN_ADVICE))
    if report.get("weeks"):
        report["weeks"][-1]["spike_cap_km"] = None  # the current week's cap is a training number
    return report


def build_report(activities: pd.DataFrame, hr_hist: pd.DataFrame | None, pain: pd.DataFrame | None, rules,
                 settings: Settings | None, *, as_of=None, weeks: int = DEFAULT_WEEKS,
                 assessments: pd.DataFrame | None = None, sessions: pd.DataFrame | None = None,
                 shoes: pd.DataFrame | None = None, activity_shoes: pd.DataFrame | None = None,
                 programmes: pd.DataFrame | None = None, ostrc: pd.DataFrame | None = None,
                 psfs: tuple[pd.DataFrame, pd.DataFrame] | None = None) -> dict:
    """The JSON contract of ``loadwatch report --json`` (docs/ARCHITECTURE.md).

    ``activities``: the store's activities frame; ``hr_hist``: heart-rate histograms indexed by
    activity id; ``pain``: the pain frame (deleted entries ignored); ``rules``: personal rules;
    ``as_of``: the report's day (default: today in the runner's time zone) - activities and pain after it
    are ignored; ``weeks``: how many weeks to list (oldest first, ending with ``as_of``'s week; weeks
    before the first activity are not listed); ``sessions``: ``Store.sessions()`` (strength and
    cross-training logged without a file); ``shoes`` / ``activity_shoes``: ``Store.shoes()`` and
    ``Store.activity_shoes()`` (the distance each run's pair had, ``shoe_km_max``).

    Top-level keys: ``as_of``, ``units``, ``settings``, ``load_unit``, ``hr_max_bpm``,
    ``hr_max_estimated``, ``hr_rest_bpm``, ``hr_rest_estimated``, ``acwr_caveat``, ``acwr_bands``,
    ``evidence``, ``latest_run``, ``weeks`` (see :func:`week_entry`), ``alerts``, ``plan``,
    ``suggested_rules`` (from :func:`loadwatch.metrics.advice.advise`), ``phases`` (the phase timeline's segments
    over the whole history up to ``as_of``: ``start``, ``end``, ``phase``, ``step``, ``steps``,
    ``reason``; a return_to_run / rebuild step adds what was run in it against its caps: ``cap_week_km``,
    ``cap_run_km``, ``runs``, ``distance_km``, ``longest_run_km``, ``most_7d_km``, ``over_caps``),
    ``step_overruns`` (runs and weeks above a step's or a clinician's caps: ``date``, ``kind``,
    ``distance_km``, ``cap_km``, ``phase``, ``step``, ``steps``, ``activity_id``, ``set_by_clinician``),
    ``assessments`` (``id``, ``date``, ``note``, ``time``, ``cleared``, ``return_step``, ``max_week_km``,
    ``max_run_km``, ``max_pain``: clinician assessments up to ``as_of`` and what they decided),
    ``programme`` (the back programme: :func:`loadwatch.metrics.programme.status`, null without one), ``outcomes``
    (OSTRC weeks and PSFS trends: :func:`loadwatch.metrics.outcomes.outcomes_block`), ``disclaimer``.
    ``assessments``: ``Store.assessments()``; ``programmes``, ``ostrc``, ``psfs``: ``Store.programmes()``,
    ``Store.ostrc()``, ``Store.psfs()``.
    """
    if weeks < 1:
        raise ValueError(f"weeks must be at least 1 (got {weeks})")
    settings = settings if settings is not None else Settings()
    acts, hist, day = activities_until(activities, hr_hist, settings, as_of)
    pain = _until(pain, "at_local", day)
    assessed = _until(assessments, "date", day)
    sessions = _until(sessions, "date", day)
    shoe_km = shoe_km_at_run(shoes, activity_shoes, acts, settings.timezone) if shoes is not None else None

    daily = daily_series(acts, hist, settings, end=day, sessions=sessions, shoe_km=shoe_km)
    weekly = weekly_table(daily, settings.week_start, as_of=day)
    runs = run_table(acts, settings.timezone, hist, settings)
    advice = _advice.advise(runs=runs, weekly=weekly, daily=daily, pain=pain, rules=rules, settings=settings,
                            as_of=day, assessments=assessed, programme=None if programmes is None else
                            _programme.ProgrammeInput(programmes, _programme.done_sessions(acts, sessions,
                                                                                           settings.timezone)),
                            substantial_weeks=_outcomes.substantial_weeks(ostrc)) or {}

    shown = weekly.iloc[-weeks:]  # calendar-complete, so the last rows are the last weeks up to as_of's
    spike_caps = list(weekly_spike_cap_km(runs, shown.index))  # the safe longest run as each week began
    load_unit = daily.attrs.get("load_unit", DEFAULT_LOAD_UNIT)
    report = {
        "as_of": day,
        "units": settings.units,
        "settings": dataclasses.asdict(settings),
        "load_unit": load_unit,
        "hr_max_bpm": daily.attrs.get("hr_max_bpm"),
        "hr_max_estimated": bool(daily.attrs.get("hr_max_estimated", True)),
        "hr_rest_bpm": daily.attrs.get("hr_rest_bpm"),
        "hr_rest_estimated": bool(daily.attrs.get("hr_rest_estimated", True)),
        "acwr_caveat": ACWR_CAVEAT,
        "acwr_bands": {"sweet_spot": list(ACWR_SWEET_SPOT), "danger": ACWR_DANGER},
        "monotony_info": MONOTONY_INFO,
        "evidence": {"spike": FRANDSEN_2025.line(), "acwr": ACWR_EVIDENCE.line()},
        "latest_run": _step_cap(_forward_safe_longest(_latest_run(runs), runs, advice.get("plan") or {}, day),
                                advice.get("step_overruns") or []),
        "weeks": [week_entry(ws, row, load_unit) | {"spike_cap_km": to_jsonable(cap, JSON_DECIMALS)}
                  for (ws, row), cap in zip(shown.to_dict("index").items(), spike_caps, strict=True)],
        "alerts": advice.get("alerts", []),
        "plan": advice.get("plan", {}),
        "suggested_rules": advice.get("suggested_rules", []),
        "phases": advice.get("phases", []),
        "assessments": _assessment_list(assessed),
        "outcomes": _outcomes.outcomes_block(ostrc, *(psfs or (None, None)), as_of=day),
        "disclaimer": NOT_MEDICAL_ADVICE,
    }
    for key, value in advice.items():
        report.setdefault(key, value)
    return to_jsonable(withhold_advice(report))
