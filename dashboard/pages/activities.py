"""Activities: every run with its spike and pain; a detail view drawn from the stored original file."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from dashboard import charts, corrections, ui
from metrics import fmt
from metrics.daily import local_starts

ui.page_start("Activities")

acts = ui.activities()
if acts.empty:
    st.info("No activities yet: import your watch files on the Import page.")
    st.stop()

units = ui.settings().units


def ui_local_days(frame: pd.DataFrame) -> list:
    return list(local_starts(frame, ui.settings().timezone))

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

attention = acts[acts["excluded_reason"].notna() | acts["partial"]] if "excluded_reason" in acts else acts.iloc[:0]
if len(attention):
    st.subheader("Left out or damaged")
    st.caption("Kept in your store, but left out of your load or read only in part: check them and correct them "
               "below.")
    st.dataframe(pd.DataFrame({
        "date": [fmt.day(t) for t in ui_local_days(attention)],
        "sport": [fmt.words(x, "sport") for x in attention["sport"]],
        f"distance ({u})": ui.to_units(attention["distance_m"].astype(float) / 1000.0, units).round(2),
        "why": [r if r else "; ".join(w) for r, w in zip(attention["excluded_reason"], attention["warnings"],
                                                           strict=True)],
    }), hide_index=True, width="stretch")
    fix = st.selectbox("Correct an activity left out", list(attention["id"]),
                       format_func=lambda i: f"{fmt.day(ui_local_days(a.loc[[i]].reset_index())[0])} · "
                                             f"{fmt.words(a.loc[i, 'sport'], 'sport')}")
    if fix:
        corrections.correction_form({**a.loc[fix].to_dict(), "id": fix}, units)

st.subheader("One run in detail")
labels = {rid: f"{row['date']} · {row[f'distance ({u})']:.2f} {u}" for rid, row in table.iterrows()}
chosen = st.selectbox("Run", list(table.index), format_func=labels.get)
if chosen:
    row = a.loc[chosen]
    st.caption(f"Surface: {fmt.words(runs.loc[chosen, 'surface'], 'surface')}")
    corrections.correction_form({**row.to_dict(), "id": chosen}, units)

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
