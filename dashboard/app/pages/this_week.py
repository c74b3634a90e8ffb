"""This week: red flags first, the last 12 weeks in one picture (running distance, pain scores and the
back-pain phase on one time axis), the traffic light, the plan for the next 7 days, then the alerts."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from loadwatch.dashboard import charts
from loadwatch.dashboard.app import outcomes_ui, ui
from loadwatch.dashboard.app import physio_download as physio
from loadwatch.metrics import fmt

#: Weeks in the lead chart.
CHART_WEEKS = 12


def empty_store() -> None:
    st.subheader("Nothing here yet")
    st.markdown(
        "loadwatch needs your runs. Open **Import** and drop your watch files: single `.fit`, `.gpx` or "
        "`.tcx` files, or the whole zip Garmin Connect or Strava gives you when you export your data. "
        "Then log your back pain on **Pain log** after a run.\n\n"
        "Just looking? Load a generated demo history; it lives in a separate store and never mixes with "
        "your own.")
    if st.button("Load demo data", type="primary", icon=":material/science:"):
        ui.load_demo()
        st.rerun()


def red_flag_boxes(red_flags: list[dict], units: str) -> None:
    """Red flags come before everything else: the product stops coaching and sends the runner to care."""
    for alert in red_flags:
        st.error(f"**{alert.get('message', '')}**", icon=":material/emergency:")
        ui.alert_details(alert, units)


def chart_window(today: dt.date, week_start: str = "monday") -> tuple[dt.date, dt.date]:
    """(start, end): the 12 whole weeks (the current one included) ending today, whenever the last run was:
    this week's pain and phase are on the chart even after months without a run, and the weeks since are
    drawn empty.  ``start`` is the first day of the runner's week."""
    into_week = (today.weekday() + 1) % 7 if week_start == "sunday" else today.weekday()
    return today - dt.timedelta(days=into_week) - dt.timedelta(weeks=CHART_WEEKS - 1), today


def weeks_chart(report: dict, units: str) -> None:
    """Weekly running distance with pain scores (and the phase band when the report has phases), to today."""
    weekly = ui.weekly()
    start, end = chart_window(ui.today(), ui.settings().week_start)
    st.subheader(f"The last {CHART_WEEKS} weeks")
    ui.stale_note()
    if weekly.empty:
        st.caption("No runs yet: the chart fills in as you import them.")
        return
    st.altair_chart(charts.weekly_distance_pain(weekly, ui.pain(), start, end, units,
                                                phases=report.get("phases")), width="stretch", height=360)
    st.caption("Bars: your running distance each week. Dots: your pain scores (0–10, right axis) — green 0–3, "
               "amber 4–5, red above 5. The band along the top: your back-pain phase, day by day.")


def headline_numbers(report: dict, units: str) -> None:
    latest = (report.get("weeks") or [{}])[-1]
    so_far = " so far" if latest.get("partial_week") else ""
    last_run = report.get("latest_run") or {}
    c1, c2, c3, c4 = st.columns(4)
    c1.metric(f"Distance this week{so_far}", fmt.distance(latest.get("distance_km"), units))
    c2.metric(f"Runs this week{so_far}", fmt.number(latest.get("runs")))
    c3.metric("Longest run this week", fmt.distance(latest.get("long_run_km"), units))
    c4.metric("Last run", fmt.distance(last_run.get("distance_km"), units),
              help="Compared with your longest run of the 30 days before it (Frandsen 2025).")
    if last_run:
        spike = ui.spike_text(last_run)
        st.caption(f"Last run on {fmt.day(last_run.get('date'))}" + (f": {spike}." if spike else "."))


def other_alerts(others: list[dict], care: bool, units: str) -> None:
    """The alerts other than red flags; "No alerts" only when nothing trips a rule and no red flag is open."""
    if not others:
        if not care:
            st.success("No alerts: nothing in your recent runs or pain log trips a rule.", icon=":material/check:")
        return
    st.subheader("Alerts")
    for alert in others:
        ui.alert_box(alert, units)


ui.page_start("This week")
if ui.activities().empty and ui.pain().empty:
    empty_store()
    ui.disclaimer()
    st.stop()

report = ui.report()
units = ui.settings().units
alerts = report.get("alerts", [])
plan = report.get("plan") or {}
red_flags = [a for a in alerts if ui.is_red_flag(a)]
# an escalation stays until an assessment is recorded, whatever today's alerts say
care = bool(red_flags) or plan.get("phase") in ui.RED_FLAG_SEVERITIES or plan.get("status") in ui.RED_FLAG_SEVERITIES
# the phase and the check-in question are in the phase box above the plan; the rest are alerts
others = [a for a in alerts if not ui.is_red_flag(a) and a.get("rule") not in ("phase", "check_in")]

red_flag_boxes(red_flags, units)
# under a red flag only *advice* numbers are withheld (the plan's caps, the safe longest run, the next step):
# the history stays, as the clinician the runner is sent to needs it
weeks_chart(report, units)
ui.traffic_light(plan)
ui.phase_box(plan, units)
headline_numbers(report, units)
st.subheader("Your next 7 days")
ui.plan_box(plan, units)
outcomes_ui.this_week_section(report)
other_alerts(others, care, units)
physio.download_section()
ui.disclaimer()
