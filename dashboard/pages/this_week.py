"""This week: the traffic light, red flags first, the alerts with their numbers, and the next 7 days."""

from __future__ import annotations

import streamlit as st

from dashboard import ui
from metrics import fmt

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
# the phase and the check-in question are in the phase box above the plan; the rest are alerts
others = [a for a in report.get("alerts", []) if not ui.is_red_flag(a) and a.get("rule") not in ("phase", "check_in")]

# Red flags come before everything else: the product stops coaching and sends the runner to care.
for alert in red_flags:
    st.error(f"**{alert.get('message', '')}**", icon=":material/emergency:")
    ui.alert_details(alert, units)

plan = report.get("plan") or {}
ui.traffic_light(plan)
ui.phase_box(plan, units)

latest = (report.get("weeks") or [{}])[-1]
so_far = " so far" if latest.get("partial_week") else ""
last_run = report.get("latest_run") or {}
c1, c2, c3, c4 = st.columns(4)
c1.metric(f"Distance this week{so_far}", ui.fmt_dist(latest.get("distance_km"), units))
c2.metric(f"Runs this week{so_far}", f"{latest.get('runs', 0):.0f}")
c3.metric("Longest run this week", ui.fmt_dist(latest.get("long_run_km"), units))
c4.metric(f"Last run ({fmt.day(last_run.get('date'))})", ui.fmt_dist(last_run.get("distance_km"), units),
          delta=ui.spike_text(last_run), delta_color="off",
          help="Compared with your longest run of the 30 days before it (Frandsen 2025).")

st.subheader("Your next 7 days")
ui.plan_box(plan, units)

st.subheader("Alerts")
if not others and not red_flags:
    st.success("No alerts: nothing in your recent runs or pain log trips a rule.", icon=":material/check:")
for alert in others:
    ui.alert_box(alert, units)

ui.disclaimer()
