"""The report for the physio: the runner's last weeks on one or two A4 pages, as a PDF or one
self-contained HTML file.

Everything shown comes from :func:`loadwatch.metrics.report.build_report` (weeks, alerts, plan, the episode's
``phases`` and ``assessments``), the pain log of the period and the dates of
the store's first and last activity; nothing clinical is recomputed here.  Words, dates and distances go
through :mod:`loadwatch.metrics.fmt`, in the runner's units.

When a red flag stands (docs/evidence.md section 11) the care message comes first, and the report withholds
only *advice* numbers (plan caps, the safe longest run, the next step): the history (charts, weekly table,
pain log, episode history) follows it, as the clinician the runner is sent to needs it.

The HTML's charts are the dashboard's own Altair specifications (:mod:`loadwatch.dashboard.charts`), rendered
without a browser or the network by vl-convert (SVG inlined in the HTML).  The PDF draws the same charts
from the same numbers with fpdf2's own lines, rectangles and text (:mod:`loadwatch.dashboard.report.pdf_charts`), so writing
a PDF imports neither Altair nor vl-convert (issue 21: ``report --pdf`` in 2 s from a cold start).  The PDF
is composed with fpdf2 and the Roboto font shipped by the ``font-roboto`` package, so no system package is
needed.

    doc = build(report, pain=store.pain(), activities=store.activities(), weeks=12)
    Path("physio.pdf").write_bytes(to_pdf(doc)); Path("physio.html").write_text(to_html(doc))
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from fpdf import FPDF

from loadwatch.dashboard.chart_colors import PHASE_COLORS
from loadwatch.dashboard.report import outcomes as outcomes_report
from loadwatch.dashboard.report import pdf_charts
from loadwatch.dashboard.report.blocks import Block, Chart, Table  # noqa: F401  (the report's parts, named here too)
from loadwatch.metrics import fmt
from loadwatch.metrics.thresholds import EVIDENCE_DOC, SOFT_SURFACES

TITLE = "Running and back pain: a report for your physiotherapist"
#: Alert rules the plan section already shows (the phase with its evidence, today's check-in question).
PLAN_RULES = ("phase", "check_in")

#: Where the rules, their numbers and their sources are written down (every evidence line cites it).
EVIDENCE_NOTE = f"Every rule here, its numbers and its sources: loadwatch's {EVIDENCE_DOC}."
#: Severities and phases that mean "see a clinician" (docs/evidence.md section 11): no advice numbers then.
RED_FLAG_SEVERITIES = ("emergency", "see_clinician")
#: Chart size in CSS pixels in the HTML.
CHART_WIDTH_PX = 640
#: A table longer than this many rows is set in a smaller font with tighter rows in the PDF.
LONG_TABLE_ROWS = 16


@dataclass
class PhysioReport:
    title: str
    period: str
    red_flag: bool
    blocks: list[Block]
    #: the shortening level (:data:`COMPACT_LEVELS`) that fits it on two pages, once worked out (:func:`fit_level`)
    level: int | None = None

    def plain_text(self) -> str:
        """Every word the report says (tests and a quick look)."""
        out = [self.title, self.period]
        for b in self.blocks:
            out += [b.text, *b.items, b.evidence]
            if b.table:
                out += [" | ".join(b.table.headers)] + [" | ".join(r) for r in b.table.rows]
            if b.chart:
                out += [b.chart.title, b.chart.caption]
        return "\n".join(t for t in out if t)


# --- building the content ----------------------------------------------------------------------------


def is_red_flag(report: dict) -> bool:
    """True while a red flag stands: the plan says so, the phase says so, or a red-flag alert is open."""
    plan = report.get("plan") or {}
    if plan.get("status") in RED_FLAG_SEVERITIES or plan.get("phase") in RED_FLAG_SEVERITIES:
        return True
    return any(a.get("severity") in RED_FLAG_SEVERITIES for a in report.get("alerts") or [])


def period_bounds(report: dict, weeks: int | None = None) -> tuple[pd.Timestamp, pd.Timestamp]:
    """(first day, last day) of the report's period: the ``weeks`` weeks ending with ``as_of``'s week."""
    as_of = pd.Timestamp(report["as_of"])
    listed = report.get("weeks") or []
    weeks = weeks or max(len(listed), 1)
    last_start = pd.Timestamp(listed[-1]["week_start"]) if listed else as_of
    return last_start - pd.Timedelta(weeks=weeks - 1), as_of


def _period_weeks(weeks: list[dict], start: pd.Timestamp, end: pd.Timestamp) -> list[dict]:
    """The report's weeks over the whole period: a week before the store's first activity or session is
    listed with every figure missing (unknown, not 0), so a pain entry logged in it has its row."""
    if not weeks:
        return []
    known = {pd.Timestamp(w["week_start"]): w for w in weeks}
    first = min(known)
    lead = []
    day = first - pd.Timedelta(weeks=1)
    while day + pd.Timedelta(days=6) >= start:
        lead.append({"week_start": day.date().isoformat()})
        day -= pd.Timedelta(weeks=1)
    return lead[::-1] + list(weeks)


def _pain_in(pain: pd.DataFrame | None, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    if pain is None or len(pain) == 0:
        return pd.DataFrame(columns=["at_local", "score", "timing", "location", "symptoms", "note"])
    p = pain
    if "deleted" in p:
        p = p[~p["deleted"].fillna(False).astype(bool)]
    when = pd.to_datetime(p["at_local"])
    return p[(when >= start) & (when < end + pd.Timedelta(days=1))].sort_values("at_local")


def _activity_span(activities: pd.DataFrame | None, timezone: str | None) -> tuple:
    if activities is None or len(activities) == 0:
        return None, None
    from loadwatch.metrics.daily import local_starts

    local = local_starts(activities, timezone or "UTC")
    return local.min(), local.max()


def _hr_text(report: dict) -> str:
    def one(label, bpm, estimated, how):
        if fmt.is_missing(bpm):
            return f"{label} {fmt.MISSING}"
        return f"{label} {fmt.number(bpm)} bpm ({how if estimated else 'set by the runner'})"

    return "; ".join([
        one("maximum", report.get("hr_max_bpm"), report.get("hr_max_estimated", True), "estimated from the runs"),
        one("resting", report.get("hr_rest_bpm"), report.get("hr_rest_estimated", True), "a population default"),
    ])


def _who_when(report: dict, start, end, n_weeks: int, first, last, printed: dt.date) -> Table:
    settings = report.get("settings") or {}
    units = report.get("units", "km")
    rows = [
        ["Period", f"{fmt.day_range(start, end)} ({n_weeks} weeks)"],
        ["Printed", fmt.day(printed)],
        ["Units", fmt.unit_label(units)],
        ["Heart rate", _hr_text(report)],
        ["Activities in the store",
         f"first {fmt.day(first)}, last {fmt.day(last)}" if first is not None else "none yet"],
        ["Time zone, week", f"{settings.get('timezone') or fmt.MISSING}; weeks start on "
                            f"{str(settings.get('week_start') or 'monday').capitalize()}"],
    ]
    return Table(["", ""], rows, [1, 3.4])


def _week_pain_max(pain: pd.DataFrame | None, week_start) -> str:
    """The highest pain score logged in the week from ``week_start`` (``–`` when nothing was logged)."""
    if pain is None or not len(pain):
        return fmt.MISSING
    a = pd.Timestamp(week_start)
    when = pd.to_datetime(pain["at_local"])
    scores = pain.loc[(when >= a) & (when < a + pd.Timedelta(days=7)), "score"]
    return fmt.score(scores.max()) if len(scores) else fmt.MISSING


def _weekly_table(weeks: list[dict], units: str, pain: pd.DataFrame | None = None) -> Table:
    rows = []
    for w in weeks:
        km = w.get("distance_km")
        soft = sum((w.get("surface_km") or {}).get(s) or 0.0 for s in SOFT_SURFACES)
        share = fmt.pct(100.0 * soft / km) if not fmt.is_missing(km) and km > 0 else fmt.MISSING
        label = fmt.day(w["week_start"]) + (" (so far)" if w.get("partial_week") else "")
        rows.append([
            label, fmt.distance(km, units), fmt.number(w.get("runs")), fmt.distance(w.get("long_run_km"), units),
            fmt.duration(w.get("duration_min")), share, fmt.duration(w.get("cross_training_min")),
            fmt.duration(w["strength_min"]) if "strength_min" in w else fmt.MISSING,
            fmt.ratio(w.get("acwr")), _week_pain_max(pain, w["week_start"]),
        ])
    return Table(["Week of", "Distance", "Runs", "Longest run", "Time", "Soft ground", "Cross-training",
                  "Strength", "ACWR (info)", "Pain"], rows, [2.3, 1.4, 0.8, 1.5, 1.4, 1.2, 1.6, 1.3, 1.2, 0.9],
                 "LRRRRRRRRR")


#: The pain log lists at most this many entries; past it, entries of 0-3 without symptoms or a note are left
#: to the weekly table's Pain column, so a year fits on two pages.
PAIN_ROWS_MAX = 24


def pain_rows(pain: pd.DataFrame, *, limit: int = PAIN_ROWS_MAX) -> tuple[pd.DataFrame, int]:
    """(entries listed, how many were left out): every entry when there are at most ``limit``; else the
    entries above 3, with symptoms or with a note (the latest ``limit``), the rest counted."""
    if len(pain) <= limit:
        return pain, 0
    symptoms = pain["symptoms"].map(lambda v: bool(v) if isinstance(v, list | tuple) else False) \
        if "symptoms" in pain else False
    notes = pain["note"].map(lambda v: isinstance(v, str) and bool(v.strip())) if "note" in pain else False
    telling = pain[(pain["score"].map(fmt.pain_band) != "green") | symptoms | notes].tail(limit)
    return telling, len(pain) - len(telling)


def _pain_table(pain: pd.DataFrame) -> Table:
    rows = []
    for _, p in pain.iterrows():
        symptoms = p.get("symptoms")
        symptoms = list(symptoms) if isinstance(symptoms, list | tuple) else []
        note = p.get("note")
        rows.append([
            fmt.day_time(p["at_local"]), fmt.words(p.get("timing"), "timing"), fmt.score(p.get("score")),
            fmt.words(p.get("location"), "location"),
            ", ".join(fmt.words(s, "symptom") for s in symptoms) or fmt.MISSING,
            note if isinstance(note, str) and note.strip() else fmt.MISSING,
        ])
    return Table(["Date", "When", "Score", "Where", "Symptoms", "Note"], rows, [2.1, 1.5, 0.7, 1.2, 2.2, 3.3],
                 "LLRLLL")


#: The episode history lists the phases of this many days before the report's day (12 months).
EPISODE_HISTORY_DAYS = 365


def merged_phases(phases: list[dict], as_of, *, days: int = EPISODE_HISTORY_DAYS) -> list[dict]:
    """The phase segments of the last ``days`` days before ``as_of``, one row per phase: consecutive
    segments of one phase (the steps of a return or a rebuild) are joined, keeping the first step, the last
    step and the first segment's reason.  A row that began before the window keeps its real start."""
    since = pd.Timestamp(as_of) - pd.Timedelta(days=days)
    out: list[dict] = []
    for seg in phases:
        end = seg.get("end")
        if not fmt.is_missing(end) and pd.Timestamp(end) < since:
            continue
        if out and out[-1]["phase"] == seg.get("phase"):
            out[-1]["end"] = end
            out[-1]["last_step"] = seg.get("step")
            out[-1]["steps"] = seg.get("steps") or out[-1]["steps"]
            continue
        out.append({"start": seg.get("start"), "end": end, "phase": seg.get("phase"), "step": seg.get("step"),
                    "last_step": seg.get("step"), "steps": seg.get("steps"), "reason": seg.get("reason")})
    return out


#: The episode history lists at most this many rows (the latest); the phases before them are summed up in
#: one line, so a year of short flare-ups still fits on two pages.
EPISODE_ROWS_MAX = 12


def earlier_phases(rows: list[dict]) -> str:
    """One line for the phases left out of the table: "Before Thu 11 Jun 2026: cut back 9 times (48 days),
    stop running once (2 days)." (normal training is not counted)."""
    if not rows:
        return ""
    days: dict[str, list[int]] = {}
    for row in rows:
        if row["phase"] == "normal":
            continue
        end = row["end"] if not fmt.is_missing(row["end"]) else row["start"]
        n = (pd.Timestamp(end) - pd.Timestamp(row["start"])).days + 1
        days.setdefault(row["phase"], []).append(n)
    parts = [f"{fmt.words(phase, 'phase')} {'once' if len(ns) == 1 else f'{len(ns)} times'} "
             f"({fmt.count(sum(ns), 'day')})" for phase, ns in days.items()]
    before = fmt.day(pd.Timestamp(rows[-1]["end"]) + pd.Timedelta(days=1))
    return f"Before {before}: " + (", ".join(parts) if parts else "normal training") + "."


def _episode_blocks(rows: list[dict], limit: int) -> list[Block]:
    """The episode table of the latest ``limit`` rows, after one line summing up the rows before them."""
    out = []
    if len(rows) > limit:
        out.append(Block("small", text=earlier_phases(rows[:-limit])))
        rows = rows[-limit:]
    if rows:
        out.append(Block("table", table=_phase_table(rows), tag="episodes", data=rows))
    return out


def _step_words(row: dict) -> str:
    first, last, steps = row.get("step"), row.get("last_step"), row.get("steps")
    if fmt.is_missing(first) or fmt.is_missing(steps):
        return fmt.MISSING
    if fmt.is_missing(last) or last == first:
        return f"step {first} of {steps}"
    return f"steps {first}–{last} of {steps}"


def _phase_table(rows: list[dict]) -> Table:
    out = []
    for seg in rows:
        out.append([
            fmt.day(seg.get("start")), fmt.day(seg.get("end")) if not fmt.is_missing(seg.get("end")) else "ongoing",
            fmt.words(seg.get("phase"), "phase"), _step_words(seg), fmt.reason(seg.get("reason") or fmt.MISSING),
        ])
    return Table(["From", "To", "Phase", "Step", "Why"], out, [1.8, 1.8, 1.8, 1.2, 4.4])


def _assessment_table(assessments: list[dict]) -> Table:
    rows = [[fmt.day(a.get("date")), a.get("note") or fmt.MISSING] for a in assessments]
    return Table(["Date", "Note"], rows, [1.8, 8])


def _phase_line(plan: dict, phases: list[dict]) -> str | None:
    phase = plan.get("phase") or (phases[-1].get("phase") if phases else None)
    if not phase:
        return None
    since = plan.get("phase_since") or (phases[-1].get("start") if phases else None)
    text = f"Current phase: {fmt.words(phase, 'phase')}"
    if not fmt.is_missing(since):
        text += f", since {fmt.day(since)}"
    if not fmt.is_missing(plan.get("step")) and not fmt.is_missing(plan.get("steps")):
        text += f" (step {plan['step']} of {plan['steps']})"
    return text + "."


def _plan_lines(plan: dict, units: str) -> list[str]:
    lines = fmt.plan_items(plan, units)
    if plan.get("stop_running"):
        lines.insert(sum(plan.get(k) is not None for k in ("max_week_km", "max_run_km")), "No running for now")
    if plan.get("cross_training"):
        lines.append(("Instead of running" if plan.get("stop_running") else "Cross-training")
                     + ": " + ", ".join(map(str, plan["cross_training"])))
    if plan.get("next_step"):
        lines.append(f"What moves it on: {plan['next_step']}")
    if plan.get("check_in"):
        lines.append(f"Question for today: {plan['check_in']}")
    return lines


def _alert_heading(alert: dict) -> str:
    bits = [fmt.words(alert.get("severity"), "severity").capitalize(), fmt.words(alert.get("rule"), "rule")]
    if alert.get("date"):
        bits.append(fmt.day(alert["date"]))
    return " · ".join(bits)


def _main_spec(report: dict, pain: pd.DataFrame, start, end) -> dict:
    """The dashboard's weekly-distance chart (with the phase band when the episode timeline is there) as a
    Vega-Lite specification (the HTML's chart)."""
    import altair as alt

    from loadwatch.dashboard import charts as charts_mod

    weeks = charts_mod.report_weeks_frame(report.get("weeks") or [])
    main = charts_mod.weekly_surface_pain(weeks, pain, report.get("units", "km"), start, end).properties(
        width=CHART_WIDTH_PX, height=190)
    if report.get("phases"):  # the episode's phase band on the same time axis, as the Load page draws it
        band = charts_mod.phase_band(report["phases"], start, end, legend_columns=len(PHASE_COLORS))
        main = alt.vconcat(main, band.properties(width=CHART_WIDTH_PX)).resolve_scale(color="independent")
    return main.to_dict(validate=False)


def _longest_spec(report: dict, start, end) -> dict:
    """The longest run per week against the spike cap as a Vega-Lite specification (the HTML's chart)."""
    from loadwatch.dashboard import charts as charts_mod

    weeks = charts_mod.report_weeks_frame(report.get("weeks") or [])
    return charts_mod.longest_run_cap(weeks, report.get("units", "km"), start, end).properties(
        width=CHART_WIDTH_PX, height=75).to_dict(validate=False)


def _charts(report: dict, pain: pd.DataFrame, start, end) -> list[Chart]:
    """The weekly-distance chart with the pain scores (and the phase band when the episode timeline is
    there) and the longest run per week against the spike cap: drawn by the PDF, specified for the HTML."""
    units = report.get("units", "km")
    weeks = report.get("weeks") or []
    u = fmt.unit_label(units)
    phases = report.get("phases") or []
    return [
        Chart(f"Weekly running distance by surface ({u}) with pain scores",
              "Bars: running distance per week, coloured by surface. Dots: pain scores (0–10, right axis) on the "
              "day they were logged" + (", in traffic-light colours; the band along the top: the episode's phase."
                                        if phases else ", in traffic-light colours."),
              68.0 if phases else 62.0,
              pdf_charts.surface_pain_plot(weeks, _pain_in(pain, start, end), phases, units, start, end),
              lambda: _main_spec(report, pain, start, end)),
        Chart(f"Longest run of each week against the spike cap ({u})",
              "Dashed line: 10% more than the longest run of the 30 days before the week (single-run spike "
              "rule, Frandsen et al., BJSM 2025: strong evidence).", 30.0,
              pdf_charts.longest_cap_plot(weeks, units, start, end), lambda: _longest_spec(report, start, end)),
    ]


def _care_blocks(plan: dict, alerts: list[dict]) -> list[Block]:
    """Under a red flag: the care message first, the red-flag alerts, and why no advice follows."""
    care = plan.get("care_message") or plan.get("message") or (
        "A red-flag symptom was logged: see a clinician. No training advice is given until an assessment "
        "is recorded.")
    blocks = [Block("care", text=care)]
    blocks += [Block("alert", text=_alert_heading(a), items=[a.get("message", "")], evidence=a.get("evidence", ""))
               for a in alerts if a.get("severity") in RED_FLAG_SEVERITIES]
    blocks.append(Block("small", text="While a red flag stands this report gives no training advice (no "
                                      "plan caps, no safe longest run, no next step); the history below is "
                                      "for the clinician."))
    return blocks


def _week_blocks(report: dict, pain, in_period, start, end, charts: bool) -> list[Block]:
    """The charts and the weekly table whenever the period holds runs, sessions or pain."""
    listed = _period_weeks(report.get("weeks") or [], start, end)
    # a week of strength work or a pain entry is history too: the table and the charts show it
    active = len(in_period) > 0 or any(
        (w.get(key) or 0) > 0 for w in listed for key in ("runs", "cross_training_min", "strength_min"))
    if not active:
        return [Block("heading", text="Week by week"), Block("para", text="No activities in this period yet.")]
    blocks = [Block("chart", chart=c) for c in _charts(report, pain, start, end)] if charts else []
    return blocks + [
        Block("heading", text="Week by week"),
        Block("table", table=_weekly_table(listed, report.get("units", "km"), in_period)),
        Block("small", text="Soft ground: trail, track and treadmill. Pain: the week's highest score. ACWR "
                            "(acute:chronic workload ratio): "
                            + str(report.get("acwr_caveat") or "shown for information only."))]


def _pain_blocks(in_period) -> list[Block]:
    blocks = [Block("heading", text="Pain log of the period")]
    if not len(in_period):
        return blocks + [Block("para", text="No pain entries in this period (a day without an entry is unknown, "
                                            "not pain-free).")]
    shown, left_out = pain_rows(in_period)
    if len(shown):  # a long log of quiet entries only: no table of headings alone, the line below says it
        blocks.append(Block("table", table=_pain_table(shown), tag="pain"))
    if left_out:
        blocks.append(Block("small", text=f"{fmt.count(left_out, 'more entry', 'more entries')} of 0–3/10 "
                                          "without symptoms or a note: in the weekly table's Pain column."))
    return blocks


def _episode_section(phases: list[dict], assessments: list[dict], end) -> list[Block]:
    recent = merged_phases(phases, end)
    if not (recent or assessments):
        return []
    blocks = [Block("heading", text="Episode history of the last 12 months")]
    blocks += _episode_blocks(recent, EPISODE_ROWS_MAX)
    if assessments:
        blocks += [Block("para", text="Clinician assessments recorded:"),
                   Block("table", table=_assessment_table(assessments))]
    return blocks


def _advice_blocks(plan: dict, alerts: list[dict], phases: list[dict], units: str) -> list[Block]:
    """The plan for the next 7 days and the alerts (never under a red flag)."""
    blocks = [Block("heading", text="Now: the plan for the next 7 days")]
    phase_line = _phase_line(plan, phases)
    if phase_line:
        blocks.append(Block("para", text=phase_line))
    phase_alert = next((a for a in alerts if a.get("rule") == "phase" and a.get("evidence")), None)
    if phase_alert:
        blocks.append(Block("small", text=fmt.evidence(phase_alert["evidence"])))
    status = fmt.plan_status(plan) if plan.get("status") else None
    blocks.append(Block("para", text=plan.get("message") or (f"Status: {status}." if status else "No plan yet.")))
    lines = _plan_lines(plan, units)
    if lines:
        blocks.append(Block("bullets", items=lines))
    if plan.get("reasons"):
        blocks.append(Block("para", text="Why:", tag="why"))
        blocks.append(Block("bullets", items=[fmt.reason(str(r)) for r in plan["reasons"]], tag="why"))
    blocks.append(Block("heading", text="Alerts"))
    # the phase and today's check-in question are in the plan above (as on the This week page)
    others = [a for a in alerts if a.get("rule") not in PLAN_RULES]
    if not others:
        blocks.append(Block("para", text="No alerts: nothing in the runs or the pain log trips a rule."))
    return blocks + [Block("alert", text=_alert_heading(a), items=[a.get("message", "")],
                           evidence=a.get("evidence", "")) for a in others]


def build(report: dict, *, pain: pd.DataFrame | None = None, activities: pd.DataFrame | None = None,
          weeks: int | None = None, printed: dt.date | None = None, charts: bool = True) -> PhysioReport:
    """The report's content from :func:`loadwatch.metrics.report.build_report` output.

    ``pain``: the store's pain frame (the entries of the period are listed); ``activities``: the store's
    activities frame (for the first and last activity); ``weeks``: the period's length in weeks (default:
    the weeks the report lists); ``printed``: the day printed (default: today); ``charts=False`` leaves
    the charts out (no rendering)."""
    start, end = period_bounds(report, weeks)
    n_weeks = weeks or max(len(report.get("weeks") or []), 1)
    timezone = (report.get("settings") or {}).get("timezone")
    first, last = _activity_span(activities, timezone)
    if printed is None:  # the store's own today: the runner's day in their time zone
        from loadwatch.metrics.report import today_local

        printed = today_local(timezone).date()
    plan = report.get("plan") or {}
    alerts = report.get("alerts") or []
    in_period = _pain_in(pain, start, end)
    red = is_red_flag(report)

    blocks: list[Block] = _care_blocks(plan, alerts) if red else []
    blocks.append(Block("heading", text="Who and when"))
    blocks.append(Block("table", table=_who_when(report, start, end, n_weeks, first, last, printed)))
    blocks += _week_blocks(report, pain, in_period, start, end, charts)
    blocks += _pain_blocks(in_period)
    blocks += _episode_section(report.get("phases") or [], report.get("assessments") or [], end)
    blocks += outcomes_report.physio_blocks(report)  # OSTRC, PSFS and the programme (issue 24)
    if not red:
        blocks += _advice_blocks(plan, alerts, report.get("phases") or [], report.get("units", "km"))
    blocks.append(Block("disclaimer", text=f"{EVIDENCE_NOTE} {report.get('disclaimer') or ''}".strip()))
    return PhysioReport(TITLE, fmt.day_range(start, end), red, blocks)


# --- rendering charts --------------------------------------------------------------------------------

_XMLNS = re.compile(r'\s+xmlns(:xlink)?="[^"]*"')


def chart_svg(chart: Chart) -> str:
    """Inline SVG (no namespace URLs: an inline ``<svg>`` needs none, and the HTML names nothing outside
    itself)."""
    return _XMLNS.sub("", chart.svg())


# --- HTML --------------------------------------------------------------------------------------------

CSS = """
@page { size: A4; margin: 12mm; }
* { box-sizing: border-box; }
body { font-family: Roboto, "Segoe UI", Helvetica, Arial, sans-serif; font-size: 10pt; color: #222;
       max-width: 186mm; margin: 8mm auto; line-height: 1.35; }
h1 { font-size: 15pt; margin: 0 0 2mm; }
h2 { font-size: 11.5pt; margin: 5mm 0 1.5mm; border-bottom: 1px solid #bbb; break-after: avoid; }
table { border-collapse: collapse; width: 100%; font-size: 8.5pt; }
th, td { border-bottom: 1px solid #ddd; padding: 1.5px 4px; text-align: left; vertical-align: top; }
th { background: #eef2f5; }
td.r, th.r { text-align: right; white-space: nowrap; }
td:first-child { white-space: nowrap; }
table.kv td:first-child { font-weight: bold; width: 22%; }
tr, .alert, figure { break-inside: avoid; }
.care { border: 2px solid #c0392b; background: #fdecea; padding: 3mm; font-weight: bold; margin: 2mm 0; }
.alert { border-left: 3px solid #999; padding: 1mm 3mm; margin: 2mm 0; }
.alert b { display: block; }
.evidence, .small, figcaption { color: #555; font-size: 8.5pt; }
figure { margin: 3mm 0; }
figure svg { max-width: 100%; height: auto; }
.tw { overflow-x: auto; }
body { overflow-wrap: break-word; }
.disclaimer { margin-top: 5mm; padding-top: 2mm; border-top: 1px solid #bbb; font-size: 8.5pt; color: #444; }
@media print {
  .tw { overflow-x: visible; }
  body { margin: 0 auto; font-size: 8.5pt; line-height: 1.22; }
  h2 { font-size: 10.5pt; }
  table { font-size: 7.5pt; }
  h2 { margin-top: 3.5mm; }
  figure { margin: 1.5mm 0; }
  figure svg { max-height: 52mm; width: auto; }
  p, ul { margin: 1mm 0; }
  ul { padding-left: 5mm; }
  .alert { margin: 1mm 0; }
  .disclaimer { margin-top: 2mm; }
  table.long { font-size: 6.5pt; line-height: 1.05; }
  table.long th, table.long td { padding: 0 3px; }
}
"""


def _esc(text) -> str:
    return html.escape(str(text), quote=True)


def _html_table(t: Table, kv: bool = False) -> str:
    align = (t.align or "L" * len(t.widths)).ljust(len(t.widths), "L")
    cls = [' class="r"' if a == "R" else "" for a in align]
    # a long table (a year of weeks) is set tighter in print, as in the PDF
    out = ['<table class="kv">' if kv else '<table class="long">' if len(t.rows) > LONG_TABLE_ROWS else "<table>"]
    if not kv:
        out.append("<thead><tr>" + "".join(f"<th{c}>{_esc(h)}</th>" for h, c in zip(t.headers, cls, strict=True))
                   + "</tr></thead>")
    out.append("<tbody>")
    for row in t.rows:
        out.append("<tr>" + "".join(f"<td{c}>{_esc(v)}</td>" for v, c in zip(row, cls, strict=True)) + "</tr>")
    out.append("</tbody></table>")
    return '<div class="tw">' + "".join(out) + "</div>"  # a table wider than a phone scrolls, the page does not


def to_html(doc: PhysioReport) -> str:
    """One self-contained HTML file: inline CSS and SVG, no scripts, fonts, images or links outside it;
    shortened as the PDF is (:func:`fit_level`), one level further when it is shortened at all (a browser's
    print sets type a little looser than the PDF), so it prints on two pages too."""
    level = fit_level(doc)
    doc = compacted(doc, min(level + 1, len(COMPACT_LEVELS) - 1) if level else 0)
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             # a phone lays the page out at its own width (without this, at a desktop's 980 px, then shrunk)
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             f"<title>{_esc(doc.title)}, {_esc(doc.period)}</title>", f"<style>{CSS}</style></head><body>",
             f"<h1>{_esc(doc.title)}</h1>"]
    first_table = True
    for b in doc.blocks:
        if b.kind == "heading":
            parts.append(f"<h2>{_esc(b.text)}</h2>")
        elif b.kind == "para":
            parts.append(f"<p>{_esc(b.text)}</p>")
        elif b.kind == "small":
            parts.append(f'<p class="small">{_esc(b.text)}</p>')
        elif b.kind == "bullets":
            parts.append("<ul>" + "".join(f"<li>{_esc(i)}</li>" for i in b.items) + "</ul>")
        elif b.kind == "table":
            parts.append(_html_table(b.table, kv=first_table))
            first_table = False
        elif b.kind == "chart":
            c = b.chart
            parts.append(f'<figure aria-label="{_esc(c.title)}"><h2>{_esc(c.title)}</h2>{chart_svg(c)}'
                         f"<figcaption>{_esc(c.caption)}</figcaption></figure>")
        elif b.kind == "care":
            parts.append(f'<div class="care" role="alert">{_esc(b.text)}</div>')
        elif b.kind == "alert":
            body = "".join(f"<div>{_esc(i)}</div>" for i in b.items)
            ev = f'<div class="evidence">{_esc(fmt.evidence(b.evidence))}</div>' if b.evidence else ""
            parts.append(f'<div class="alert"><b>{_esc(b.text)}</b>{body}{ev}</div>')
        elif b.kind == "disclaimer":
            parts.append(f'<p class="disclaimer">{_esc(b.text)}</p>')
    parts.append("</body></html>")
    return "\n".join(parts)


# --- PDF ---------------------------------------------------------------------------------------------

#: Characters Roboto lacks, and what the PDF prints instead.
_PDF_REPLACE = str.maketrans({"→": "to", "\u2009": " ", "\u202f": " "})


def _font_dir() -> Path:
    import font_roboto

    return Path(font_roboto.font_directory)


#: The PDF's pages at most: a report for a year still prints on two A4 sheets.
MAX_PAGES = 2
#: How much a shorter print keeps, level by level: (chart height factor, pain log rows, episode rows,
#: the plan's reasons kept).  Level 0 is the report as built.
COMPACT_LEVELS = ((1.0, None, None, True), (0.8, 12, 8, True), (0.65, 8, 5, True), (0.5, 5, 3, False))


def compacted(doc: PhysioReport, level: int) -> PhysioReport:
    """``doc`` shortened to compaction ``level`` (:data:`COMPACT_LEVELS`): smaller charts, the latest pain
    entries and episode rows (what is left out is said in a line), the plan's reasons left to the alerts."""
    scale, pain_rows_max, episode_rows_max, why = COMPACT_LEVELS[level]
    if level == 0:
        return doc
    blocks: list[Block] = []
    for b in doc.blocks:
        if b.tag == "why" and not why:
            continue
        if b.kind == "chart":
            b = Block("chart", chart=dataclasses.replace(b.chart, height_mm=b.chart.height_mm * scale))
        elif b.tag == "pain" and len(b.table.rows) > pain_rows_max:
            left = len(b.table.rows) - pain_rows_max
            t = b.table
            blocks.append(Block("table", table=Table(t.headers, t.rows[-pain_rows_max:], t.widths, t.align)))
            b = Block("small", text=f"{fmt.count(left, 'earlier entry', 'earlier entries')} of the period: in the "
                                    "weekly table's Pain column.")
        elif b.tag == "episodes" and len(b.data) > episode_rows_max:
            if blocks and blocks[-1].kind == "small" and blocks[-1].text.startswith("Before "):
                blocks.pop()  # the line summing up the rows before: said again for the rows left now
            blocks += _episode_blocks(b.data, episode_rows_max)
            continue
        blocks.append(b)
    return PhysioReport(doc.title, doc.period, doc.red_flag, blocks, level)


def fit_level(doc: PhysioReport) -> int:
    """The first shortening level (:data:`COMPACT_LEVELS`) at which ``doc`` lays out on at most
    :data:`MAX_PAGES` A4 pages (the PDF's layout, without writing it); kept on ``doc``, so the PDF and the
    HTML of one report are shortened alike."""
    if doc.level is None:
        _fitting_layout(doc)
    return doc.level


def _fitting_layout(doc: PhysioReport):
    """The fpdf2 document of ``doc`` laid out (not yet written) at the first level that fits, or at the
    level already worked out; the level is kept on ``doc``.  Laying out is cheap (the charts are drawn,
    not rendered images); writing (fonts subset, pages compressed) is done once, by :func:`to_pdf`."""
    levels = [doc.level] if doc.level is not None else range(len(COMPACT_LEVELS))
    for level in levels:
        pdf = _layout_pdf(compacted(doc, level))
        if pdf.page_no() <= MAX_PAGES:
            break
    doc.level = level
    return pdf


def to_pdf(doc: PhysioReport) -> bytes:
    """The report as A4 PDF bytes (fpdf2, Roboto embedded and subset), on at most :data:`MAX_PAGES` pages:
    a report that would run longer is printed shorter (:func:`compacted`, :func:`fit_level`)."""
    return bytes(_fitting_layout(doc).output())


def _pdf_text(s: str) -> str:
    return str(s).translate(_PDF_REPLACE)


def _para(pdf, s: str, size=9.0, style="", color=34, h=4.2) -> None:
    pdf.set_font("Roboto", style, size)
    pdf.set_text_color(color)
    pdf.multi_cell(0, h, _pdf_text(s), new_x="LMARGIN", new_y="NEXT")


def _pdf_heading(pdf, b: Block, _state: dict) -> None:
    if pdf.will_page_break(16):
        pdf.add_page()
    pdf.ln(2)
    _para(pdf, b.text, 11, "B", 20, 5.2)
    y = pdf.get_y()
    pdf.set_draw_color(180)
    pdf.line(pdf.l_margin, y, pdf.l_margin + pdf.epw, y)
    pdf.ln(1)


#: The table's colours: the heading row's fill and the lines between rows (grey levels).
_HEAD_FILL = (238, 242, 245)
_RULE_GREY = 210


def _pdf_table(pdf, b: Block, state: dict) -> None:
    """A table with lines between its rows and a shaded heading row (repeated on a new page).

    Laid out here rather than by ``fpdf.FPDF.table``, which wraps every cell twice (to measure the row,
    then to draw it) and took 0.3 s of a 1.1 s report (issue 21): a cell that fits on one line, most of
    them, is measured once and drawn as one cell; only a longer one is wrapped."""
    t = b.table
    kv = state.pop("first_table", False)  # the first table (who and when) is keys and values
    # a long table (a year of weeks) is set tighter, so a year fits on two pages
    long = len(t.rows) > LONG_TABLE_ROWS
    size, line_h = (8.2 if kv else 6.9 if long else 7.6), (3.1 if long else 3.9)
    pad_y, pad_x = (0.25, 1.2) if long else (0.6, 1.2)
    total = sum(t.widths)
    widths = [pdf.epw * w / total for w in t.widths]
    align = (t.align or "L" * len(t.widths)).ljust(len(t.widths), "L")

    def lines(text: str, width: float, style: str) -> list[str]:
        pdf.set_font("Roboto", style, size)
        if pdf.get_string_width(text) <= width - 2 * pad_x:
            return [text]
        return pdf.multi_cell(width - 2 * pad_x, line_h, text, dry_run=True, output="LINES") or [""]

    def laid_out(row: list[str], heading: bool) -> tuple[list[tuple[list[str], str]], float]:
        cells = []
        for i, v in enumerate(row):
            style = "B" if heading or (kv and i == 0) else ""
            cells.append((lines(_pdf_text(v), widths[i], style), style))
        return cells, max(len(c[0]) for c in cells) * line_h + 2 * pad_y

    def draw(cells: list[tuple[list[str], str]], height: float, heading: bool) -> None:
        x0, y0 = pdf.l_margin, pdf.get_y()
        if heading:
            pdf.set_fill_color(*_HEAD_FILL)
            pdf.rect(x0, y0, pdf.epw, height, style="F")
        x = x0
        for (texts, style), width, a in zip(cells, widths, align, strict=True):
            pdf.set_font("Roboto", style, size)
            y = y0 + (height - len(texts) * line_h) / 2  # the cell's lines in the middle of the row
            for text in texts:
                pdf.set_xy(x + pad_x, y)
                pdf.cell(width - 2 * pad_x, line_h, text, align="R" if a == "R" else "L")
                y += line_h
            x += width
        pdf.set_draw_color(_RULE_GREY)
        pdf.line(x0, y0 + height, x0 + pdf.epw, y0 + height)
        pdf.set_xy(x0, y0 + height)

    pdf.set_text_color(30)
    pdf.set_line_width(0.2)
    head = None if kv else laid_out(t.headers, True)
    if head:
        if pdf.will_page_break(head[1] + line_h + 2 * pad_y):
            pdf.add_page()
        draw(*head, True)
    for row in t.rows:
        cells, height = laid_out(row, False)
        if pdf.will_page_break(height):
            pdf.add_page()
            if head:
                draw(*head, True)
        draw(cells, height, False)
    pdf.set_x(pdf.l_margin)
    pdf.ln(1)


def _pdf_chart(pdf, b: Block, state: dict) -> None:
    c = b.chart
    if pdf.will_page_break(c.height_mm + 14):
        pdf.add_page()
    pdf.ln(1)
    _para(pdf, c.title, 10, "B", 20, 5)
    if pdf.will_page_break(c.height_mm):
        pdf.add_page()
    if c.plot is not None:  # an HTML-only chart (the cohort analysis' forest plot) keeps its place
        pdf_charts.draw(pdf, c.plot, pdf.l_margin, pdf.get_y(), pdf.epw, c.height_mm)
    pdf.set_y(pdf.get_y() + c.height_mm)
    _para(pdf, c.caption, 7.5, "", 85, 3.4)


def _pdf_care(pdf, b: Block, _state: dict) -> None:
    pdf.set_fill_color(253, 236, 234)
    pdf.set_draw_color(192, 57, 43)
    pdf.set_line_width(0.6)
    pdf.set_font("Roboto", "B", 11)
    pdf.set_text_color(120, 20, 10)
    pdf.multi_cell(0, 5.5, _pdf_text(b.text), border=1, fill=True, padding=3, new_x="LMARGIN", new_y="NEXT")
    pdf.set_line_width(0.2)
    pdf.set_fill_color(255)
    pdf.set_draw_color(210)
    pdf.ln(2)


def _pdf_alert(pdf, b: Block, _state: dict) -> None:
    if pdf.will_page_break(14):
        pdf.add_page()
    _para(pdf, b.text, 8.8, "B", 30, 4.2)
    for item in b.items:
        _para(pdf, item, 8.8)
    if b.evidence:
        _para(pdf, fmt.evidence(b.evidence), 7.8, "I", 85, 3.6)
    pdf.ln(1)


def _pdf_disclaimer(pdf, b: Block, _state: dict) -> None:
    pdf.ln(3)
    _para(pdf, b.text, 7.8, "I", 60, 3.6)


#: How the PDF draws each kind of block: ``(pdf, block, state)``; ``state`` holds whether the first table
#: is still to come.
_PDF_BLOCKS = {
    "heading": _pdf_heading,
    "para": lambda pdf, b, _state: _para(pdf, b.text),
    "small": lambda pdf, b, _state: _para(pdf, b.text, 7.5, "", 85, 3.4),
    "bullets": lambda pdf, b, _state: [_para(pdf, f"•  {item}") for item in b.items],
    "table": _pdf_table,
    "chart": _pdf_chart,
    "care": _pdf_care,
    "alert": _pdf_alert,
    "disclaimer": _pdf_disclaimer,
}


def _new_pdf(doc: PhysioReport):
    """An A4 fpdf2 document with Roboto, the margins and the footer ("page N of M")."""
    period = doc.period

    class _Pdf(FPDF):
        def footer(self):
            self.set_y(-10)
            self.set_font("Roboto", "", 7.5)
            self.set_text_color(110)
            self.cell(0, 4, f"loadwatch · {period} · page {self.page_no()} of {{nb}}", align="C")

    pdf = _Pdf(orientation="portrait", unit="mm", format="A4")
    fonts = _font_dir()
    pdf.add_font("Roboto", "", str(fonts / "Roboto-Regular.ttf"))
    pdf.add_font("Roboto", "B", str(fonts / "Roboto-Bold.ttf"))
    pdf.add_font("Roboto", "I", str(fonts / "Roboto-Italic.ttf"))
    pdf.set_margins(12, 11, 12)
    pdf.set_auto_page_break(True, margin=13)
    pdf.set_title(f"{doc.title}, {doc.period}")
    pdf.set_creator("loadwatch")
    pdf.set_author("loadwatch")
    return pdf


def _layout_pdf(doc: PhysioReport):
    """The fpdf2 document of ``doc`` as it stands, laid out (``page_no()`` pages) but not yet written."""
    pdf = _new_pdf(doc)
    pdf.add_page()
    pdf.set_font("Roboto", "B", 14)
    pdf.set_text_color(20)
    pdf.multi_cell(0, 6.5, _pdf_text(doc.title), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)
    state = {"first_table": True}
    for b in doc.blocks:
        draw = _PDF_BLOCKS.get(b.kind)
        if draw is not None:
            draw(pdf, b, state)
    return pdf


# --- writing files -----------------------------------------------------------------------------------


def write(doc: PhysioReport, path: str | Path, kind: str | None = None) -> Path:
    """Write ``doc`` as PDF or HTML (``kind`` from the file's extension when not given); the file holds
    health data, so it is ``0600`` (:func:`loadwatch.ingest.private_files.write_private`)."""
    from loadwatch.ingest.private_files import write_private

    path = Path(path)
    kind = kind or ("html" if path.suffix.lower() in (".html", ".htm") else "pdf")
    return write_private(path, to_html(doc) if kind == "html" else to_pdf(doc))
