"""This week: the traffic light, red flags first, the alerts with their numbers, and the next 7 days."""

from __future__ import annotations

import streamlit as st

from dashboard import ui

ui.page_start("This week")

acts = ui.activities()
if acts.empty and ui.pain().empty:
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
    ui.disclaimer()
    st.stop()

report = ui.report()
settings = ui.settings()
units = settings.units

red_flags = [a for a in report.get("alerts", []) if ui.is_red_flag(a)]
others = [a for a in report.get("alerts", []) if not ui.is_red_flag(a)]

# Red flags come before everything else: the product stops coaching and sends the runner to care.
for alert in red_flags:
    st.error(f"**{alert.get('message', '')}**", icon=":material/emergency:")
    ui.alert_details(alert, units)

plan = report.get("plan") or {}
ui.traffic_light(plan)

latest = (report.get("weeks") or [{}])[-1]
c1, c2, c3, c4 = st.columns(4)
c1.metric("Distance this week", ui.fmt_dist(latest.get("distance_km"), units))
c2.metric("Runs this week", f"{latest.get('runs', 0):.0f}" if latest else "–")
c3.metric("Longest run this week", ui.fmt_dist(latest.get("long_run_km"), units))
c4.metric("Week-on-week change", ui.fmt_pct(latest.get("change_pct")),
          help="Shown for information: a weekly percentage rule did not prevent injuries in runners "
               "(Buist 2008, Nielsen 2014).")

st.subheader("Your next 7 days")
ui.plan_box(plan, units)

st.subheader("Alerts")
if not others and not red_flags:
    st.success("No alerts: nothing in your recent runs or pain log trips a rule.", icon=":material/check:")
for alert in others:
    ui.alert_box(alert, units)

ui.disclaimer()
