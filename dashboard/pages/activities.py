"""Activities: every run with its spike and pain; a detail view drawn from the stored original file."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from dashboard import charts, ui
from metrics.thresholds import SURFACES

ui.page_start("Activities")

acts = ui.activities()
if acts.empty:
    st.info("No activities yet: import your watch files on the Import page.")
    st.stop()

units = ui.settings().units
u = ui.unit_label(units)
runs = ui.run_table()
pain = ui.pain()
live_pain = pain[~pain["deleted"].astype(bool)] if not pain.empty else pain
worst = (live_pain.dropna(subset=["activity_id"]).groupby("activity_id")["score"].max()
         if not live_pain.empty else pd.Series(dtype=float))

a = acts.set_index("id")
table = pd.DataFrame({
    "date": pd.to_datetime(runs["start_local"]).dt.strftime("%Y-%m-%d %H:%M"),
    f"distance ({u})": ui.to_units(runs["distance_km"].astype(float), units).round(2),
    "time": [ui.fmt_duration(s) for s in a.loc[runs.index, "moving_s"]],
    "pace": [ui.fmt_pace(s, km, units) for s, km in zip(a.loc[runs.index, "moving_s"], runs["distance_km"],
                                                        strict=True)],
    "surface": runs["surface"],
    "spike": [("not enough history" if not np.isfinite(p) else "no spike" if c == "none" else f"{p:+.0f}% ({c})")
              for p, c in zip(runs["spike_pct"].astype(float), runs["spike_category"], strict=True)],
    "pain": pd.Series([worst.get(i, np.nan) for i in runs.index], index=runs.index, dtype="float64"),
}, index=runs.index).sort_values("date", ascending=False)

others = acts[acts["sport"] != "running"]
st.caption(f"{len(runs)} runs" + (f"; {len(others)} other activities kept as cross-training" if len(others)
                                   else ""))
st.dataframe(table, hide_index=True, width="stretch",
             column_config={"pain": st.column_config.NumberColumn("worst pain", format="%d")})

st.subheader("One run in detail")
labels = {rid: f"{row['date']} · {row[f'distance ({u})']:.2f} {u}" for rid, row in table.iterrows()}
chosen = st.selectbox("Run", list(table.index), format_func=labels.get)
if chosen:
    row = a.loc[chosen]
    surface_now = row.get("surface_override") or None
    choices = [None, *SURFACES]
    pick = st.selectbox("Surface", choices, index=choices.index(surface_now) if surface_now in choices else 0,
                        format_func=lambda s: f"from the file: {runs.loc[chosen, 'surface']}" if s is None else s,
                        key=f"surface_{chosen}")
    if pick != surface_now:
        with ui.open_store() as store:
            store.set_surface_override(chosen, pick)
        ui.changed()
        st.rerun()

    samples = ui.samples(chosen)
    if samples is None:
        st.caption("The original file could not be re-read for the detail view.")
    else:
        d = samples.assign(minutes=(samples.index - samples.index[0]).total_seconds() / 60).reset_index(drop=True)
        if d["lat_deg"].notna().any():
            st.altair_chart(charts.route(samples), width="content")
        else:
            st.caption("No GPS in this file (treadmill or GPS off).")
        speed = d["speed_m_s"].where(d["speed_m_s"] > 0.5)
        d["pace"] = (1000 / speed / 60) * (ui.KM_PER_MILE if units == "mi" else 1)
        cols = st.columns(3)
        for col, (field, title) in zip(cols, [("pace", f"pace (min/{u})"), ("heart_rate_bpm", "heart rate (bpm)"),
                                              ("elevation_m", "elevation (m)")], strict=True):
            if d[field].notna().any():
                col.altair_chart(charts.trace(d[["minutes", field]].dropna(), field, title), width="stretch")
            else:
                col.caption(f"No {title.split(' (')[0]} in this file.")
