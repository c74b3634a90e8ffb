"""Load: weekly distance by surface, longest run against the spike cap, load with ACWR, intensity and
running dynamics, with pain scores on the same time axis."""

from __future__ import annotations

import datetime as dt

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import charts, ui
from metrics.thresholds import ACWR_CAVEAT, FRANDSEN_2025

ui.page_start("Load")

if ui.activities().empty:
    st.info("No runs yet: import your watch files on the Import page.")
    st.stop()

settings = ui.settings()
units = settings.units
weekly = ui.weekly()
runs = ui.run_table()
pain = ui.pain()

first = pd.Timestamp(weekly.index.min()).date()
last = pd.Timestamp(weekly.index.max()).date() + dt.timedelta(days=6)
default_start = max(first, last - dt.timedelta(weeks=26))
picked = st.date_input("Date range", value=(default_start, last), min_value=first, max_value=last,
                       format="YYYY-MM-DD")
start, end = (picked if isinstance(picked, tuple | list) and len(picked) == 2 else (default_start, last))

weeks = weekly[(pd.to_datetime(weekly.index) >= pd.Timestamp(start))
               & (pd.to_datetime(weekly.index) <= pd.Timestamp(end))].copy()
weeks.index = pd.to_datetime(weeks.index)
weeks.index.name = "week_start"
domain = charts.time_domain(start, end)

u = ui.unit_label(units)
st.subheader(f"Weekly distance by surface ({u})")
weekly_chart = charts.weekly_surface_pain(weeks, pain, units, start, end)
band = charts.phase_band(ui.report().get("phases"), start, end)
st.altair_chart(alt.vconcat(weekly_chart, band).resolve_scale(color="independent"), width="stretch")
st.caption("Red dots: your pain scores (0–10, right axis) on the same days. The band below is your back-pain "
           "episode day by day: normal training, hold steady, cut back, stop running, the return to running "
           "step by step, a rebuild after a break, or see a clinician.")

st.subheader(f"Every run against the spike cap ({u})")
in_range = runs[(pd.to_datetime(runs["date"]) >= pd.Timestamp(start))
                & (pd.to_datetime(runs["date"]) <= pd.Timestamp(end))]
st.altair_chart(charts.spike_chart(in_range, units, domain), width="stretch")
st.caption("Dots are runs; the line is the safe longest run that day (10% more than your longest run of "
           f"the previous 30 days). Strong evidence: {FRANDSEN_2025.source}.")

st.subheader("Load and acute:chronic ratio")
st.altair_chart(charts.load_acwr(weeks, domain), width="stretch")
st.caption(ACWR_CAVEAT)

st.subheader("Intensity (minutes per week)")
inten = charts.melt(weeks, [c for c in weeks.columns if c.startswith("intensity_") and c.endswith("_min")],
                    "intensity", prefix="intensity_", suffix="_min")
st.altair_chart(charts.stacked_bars(inten, "minutes", domain, "intensity"), width="stretch")
st.caption("Heart-rate zones as % of your maximum heart rate (Edwards): easy 50–70%, moderate 70–80%, "
           "hard above 80%. Runs without heart rate are 'unknown'.")

st.subheader("Running dynamics (weekly averages)")
dyn = [c for c in ("cadence_spm", "vertical_oscillation_mm", "stance_time_ms", "step_length_mm")
       if c in weeks.columns and weeks[c].notna().any()]
if dyn:
    st.altair_chart(charts.dynamics(weeks, dyn, domain), width="stretch")
    st.caption("Shown for information: a slightly higher step rate lowers hip and knee loading "
               "(Heiderscheit 2011); nothing was measured at the spine.")
else:
    st.caption("Your files carry no cadence or running dynamics in this range.")

with st.expander("Weekly table"):
    shown = weeks[[c for c in ("distance_km", "runs", "long_run_km", "duration_min", "load", "acwr",
                               "monotony", "change_pct", "strength_min", "cross_training_min")
                   if c in weeks.columns]].copy()
    for c in ("distance_km", "long_run_km"):
        shown[c] = ui.to_units(shown[c], units)
    shown = shown.rename(columns={"distance_km": f"distance ({u})", "long_run_km": f"longest run ({u})",
                                  "strength_min": "strength and core (min)",
                                  "cross_training_min": "cross-training (min)"})
    st.dataframe(shown.round(2), width="stretch")

ui.disclaimer()
