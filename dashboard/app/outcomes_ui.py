"""This week's outcomes and back programme (issue 24): the programme's week and its next sessions (or why
it is paused), starting and stopping a programme, and the weekly OSTRC-O2 questionnaire for the low back
(once a week).  Everything shown comes from the report's ``programme`` and ``outcomes`` keys; answers go
to the store through :mod:`loadwatch.dashboard.app.ui`."""

from __future__ import annotations

import datetime as dt

import altair as alt
import pandas as pd
import streamlit as st

from loadwatch.dashboard.app import ui
from loadwatch.metrics import fmt
from loadwatch.metrics.programme import pause_rule_words

PROGRAMME_LABELS = {"walkback": "WalkBack walking: building to 30 minutes, 5 times a week",
                    "runwalk": "ASTEROID run-walk: 12 weeks of three 30-minute sessions"}


def programme_section(report: dict) -> None:
    """The programme's week, this week's sessions and the next ones; a start form without one."""
    programme = report.get("programme")
    st.subheader("Your back programme")
    if programme and programme["state"] in ("running", "paused"):
        (st.warning if programme["paused"] else st.info)(programme["summary"], icon=":material/directions_walk:")
        nxt = programme.get("next_sessions") or []
        if nxt:
            st.markdown("\n".join(f"- **{fmt.day(s['date'])}**: {s['words']}" for s in nxt))
        if st.button("Stop the programme", key="programme_stop"):
            with ui.open_store() as store:
                store.stop_programme(ui.today())
            ui.changed()
            st.rerun()
        return
    if programme:
        st.caption(programme["summary"])
    with st.form("programme_start"):
        kind = st.selectbox("Programme", list(PROGRAMME_LABELS), format_func=PROGRAMME_LABELS.get)
        if st.form_submit_button("Start the programme"):
            try:
                with ui.open_store() as store:
                    store.start_programme(kind, ui.today())
            except ValueError as exc:
                st.error(str(exc))
            else:
                ui.changed()
                st.rerun()
    st.caption(pause_rule_words())


def severity_chart(report: dict, units: str, *, care: bool = False) -> alt.LayerChart | alt.Chart | None:
    """The OSTRC severity (0-100, a line, right axis; substantial weeks as red points) beside the weekly
    running distance (bars, the runner's units) over the report's weeks.  Under a red flag (``care``) the
    distances are left out (no face shows a training figure then).  None without an answered week."""
    weeks = (report.get("outcomes") or {}).get("ostrc_weeks") or []
    if not weeks:
        return None
    unit = "mi" if units == "mi" else "km"
    sev = pd.DataFrame({"week": pd.to_datetime([w["week_start"] for w in weeks]),
                        "severity": [w["severity"] for w in weeks],
                        "substantial": ["substantial" if w["substantial"] else "not substantial" for w in weeks]})
    x = alt.X("week:T", title="week of", axis=alt.Axis(format="%d %b"))
    line = alt.Chart(sev).mark_line(color="#8e44ad", point=False).encode(
        x=x, y=alt.Y("severity:Q", title="OSTRC severity (0-100)", scale=alt.Scale(domain=[0, 100])))
    points = alt.Chart(sev).mark_point(filled=True, size=70).encode(
        x=x, y="severity:Q",
        color=alt.Color("substantial:N", title="problem", scale=alt.Scale(
            domain=["substantial", "not substantial"], range=["#c0392b", "#8e44ad"])),
        tooltip=[alt.Tooltip("week:T", title="week of", format="%d %b %Y"), "severity:Q", "substantial:N"])
    severity = line + points
    if care or not report.get("weeks"):
        return severity.properties(height=200)
    from loadwatch.metrics.units import to_units

    dist = pd.DataFrame({"week": pd.to_datetime([w["week_start"] for w in report["weeks"]]),
                         "distance": [to_units(w["distance_km"] or 0.0, units) for w in report["weeks"]]})
    bars = alt.Chart(dist).mark_bar(color="#5dade2", opacity=0.6).encode(
        x=x, y=alt.Y("distance:Q", title=f"weekly running distance ({unit})"),
        tooltip=[alt.Tooltip("week:T", title="week of", format="%d %b %Y"),
                 alt.Tooltip("distance:Q", title=f"distance ({unit})", format=".1f")])
    return alt.layer(bars, severity).resolve_scale(y="independent").properties(height=200)


def _this_week_start(today: dt.date) -> dt.date:
    from loadwatch.ingest.outcomes import week_start_of

    return week_start_of(today, ui.settings().week_start)


def ostrc_section(report: dict) -> None:
    """The weekly OSTRC-O2 questions for the low back, until this week is answered; then its score."""
    from loadwatch.metrics.outcomes import OSTRC_ANSWERS, OSTRC_QUESTIONS

    week = _this_week_start(ui.today())
    weeks = (report.get("outcomes") or {}).get("ostrc_weeks") or []
    answered = next((w for w in weeks if w["week_start"] == week.isoformat()), None)
    st.subheader("Your back this week")
    if answered:
        st.success(f"Week of {fmt.day(week)}: {answered['words']}.", icon=":material/assignment_turned_in:")
        chart = severity_chart(report, ui.settings().units,
                               care=(report.get("plan") or {}).get("phase") in ui.RED_FLAG_SEVERITIES)
        if chart is not None and len(weeks) > 1:
            st.altair_chart(chart, width="stretch")
            st.caption("Line: your weekly OSTRC severity (0–100; red points: a substantial problem). "
                       "Bars: your running distance each week.")
        return
    with st.form("ostrc_week"):
        st.caption(f"Four questions about your low back in the past 7 days (OSTRC-O2), week of {fmt.day(week)}.")
        picked = {q: st.radio(OSTRC_QUESTIONS[q], range(len(OSTRC_ANSWERS[q])), key=f"ostrc_{q}",
                              format_func=lambda i, q=q: OSTRC_ANSWERS[q][i].capitalize())
                  for q in OSTRC_QUESTIONS}
        if st.form_submit_button("Save this week's answers"):
            with ui.open_store() as store:
                store.put_ostrc(ui.today(), **picked)
            ui.changed()
            st.rerun()


def this_week_section(report: dict) -> None:
    """What This week shows of issue 24: the programme, then the weekly questionnaire."""
    programme_section(report)
    ostrc_section(report)
