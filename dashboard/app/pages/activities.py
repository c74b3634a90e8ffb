"""Activities: every run with its spike and pain, and one run in detail, drawn from its stored original
file: a summary in the runner's units, pace (m:ss, inverted, stops left out), heart rate and zones,
splits per km or mile, elevation, cadence and dynamics where present, the route to scale."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from loadwatch.dashboard import charts
from loadwatch.dashboard.app import corrections as corrections_mod
from loadwatch.dashboard.app import ui
from loadwatch.metrics import fmt, track
from loadwatch.metrics import units as units_mod
from loadwatch.metrics.daily import local_starts


def spike_words(pct: float, category) -> str:
    if not np.isfinite(pct):
        return "not enough history"
    return fmt.words("none", "spike") if category == "none" else f"{fmt.pct(pct, signed=True)} ({fmt.words(category, 'spike')})"


def run_list(acts: pd.DataFrame, runs: pd.DataFrame, units: str) -> pd.DataFrame:
    """The table of runs, newest first, every cell in words; indexed by activity id."""
    u = ui.unit_label(units)
    pain = ui.pain()
    live = pain[~pain["deleted"].astype(bool)] if not pain.empty else pain
    worst = (live.dropna(subset=["activity_id"]).groupby("activity_id")["score"].max()
             if not live.empty else pd.Series(dtype=float))
    a = acts.set_index("id")
    moving = a.loc[runs.index, "moving_s"].astype(float)
    table = pd.DataFrame({
        "when": [fmt.day_time(t) for t in runs["start_local"]],
        f"distance ({u})": ui.to_units(runs["distance_km"].astype(float), units).round(2),
        "time": [fmt.clock(s) for s in moving],
        "pace": [fmt.pace(units_mod.pace_s_per_km(km, s / 60.0), units)
                 for s, km in zip(moving, runs["distance_km"], strict=True)],
        "surface": [fmt.words(s, "surface") for s in runs["surface"]],
        "spike": [spike_words(p, c) for p, c in zip(runs["spike_pct"].astype(float), runs["spike_category"],
                                                     strict=True)],
        "worst pain": [fmt.score(worst.get(i, np.nan)) for i in runs.index],
        "_start": pd.to_datetime(runs["start_local"]),
    }, index=runs.index).sort_values("_start", ascending=False)
    return table


def summary(row: pd.Series, units: str) -> None:
    """The run's own figures, in the runner's units."""
    km = float(row.get("distance_m", np.nan)) / 1000
    moving = float(row.get("moving_s", np.nan))
    c = st.columns(5)
    c[0].metric("Distance", fmt.distance(km, units, decimals=2))
    c[1].metric("Moving time", fmt.clock(moving))
    c[2].metric("Pace", fmt.pace(units_mod.pace_s_per_km(km, moving / 60.0), units))
    c[3].metric("Heart rate", fmt.number(row.get("avg_hr_bpm"), 0, "bpm"),
                help=f"highest {fmt.number(row.get('max_hr_bpm'), 0, 'bpm')}")
    c[4].metric("Climb", fmt.elevation(row.get("ascent_m"), units),
                help=f"descent {fmt.elevation(row.get('descent_m'), units)}")


def corrections(activity_id: str, row: pd.Series, runs: pd.DataFrame) -> None:
    """Corrections to a run (issue 12): sport, surface (also for every run of the same route), distance,
    RPE and name through ``Store.correct_activity``, with notes on why a file is left out or damaged."""
    from_file = runs.loc[activity_id, "surface"] if activity_id in runs.index else "unknown"
    st.caption(f"Surface: {fmt.words(from_file, 'surface')}")
    corrections_mod.correction_form({**row.to_dict(), "id": activity_id}, ui.settings().units)


def pace_and_heart(samples: pd.DataFrame, units: str, hr_max_bpm: float | None) -> None:
    u = ui.unit_label(units)
    left, right = st.columns(2)
    pace = track.pace(samples, units)
    if pace["pace_s"].notna().any():
        left.altair_chart(charts.trace(pace, "pace_s", f"pace (min per {u})", pace=True), width="stretch")
        left.caption("Faster is higher. Stops (slower than a walk) are left out rather than drawn as spikes.")
    else:
        left.caption("No speed or distance in this file, so no pace.")
    hr = samples["heart_rate_bpm"]
    if hr.notna().any():
        d = pd.DataFrame({"minutes": track.elapsed_minutes(samples).to_numpy(), "heart_rate_bpm": hr.to_numpy()})
        right.altair_chart(charts.trace(d.dropna(), "heart_rate_bpm", "heart rate (bpm)"), width="stretch")
        if hr_max_bpm:
            right.altair_chart(charts.hr_zones(track.hr_zone_minutes(samples, hr_max_bpm)), width="stretch")
            right.caption(f"Zones as % of your maximum heart rate ({fmt.number(hr_max_bpm, 0, 'bpm')}, Edwards).")
    else:
        right.caption("No heart rate in this file.")


def split_table(samples: pd.DataFrame, units: str) -> None:
    u = ui.unit_label(units)
    s = track.splits(samples, units)
    st.subheader(f"Splits per {'mile' if units == 'mi' else 'km'}")
    if s.empty:
        st.caption("No distance in this file, so no splits.")
        return
    st.dataframe(pd.DataFrame({
        u: [str(n) if d > 0.95 else f"{n} ({fmt.number(d, 2)} {u})" for n, d in zip(s["split"], s["distance"],
                                                                                  strict=True)],
        "time": [fmt.clock(t) for t in s["time_s"]],
        "pace": [f"{fmt.pace_clock(p)} /{u}" if not fmt.is_missing(p) else fmt.MISSING for p in s["pace_s"]],
        "heart rate": [fmt.number(h, 0, "bpm") for h in s["heart_rate_bpm"]],
        "climb": [fmt.elevation(a, units) for a in s["ascent_m"]],
        "descent": [fmt.elevation(a, units) for a in s["descent_m"]],
    }), hide_index=True, width="stretch")


def elevation_and_dynamics(samples: pd.DataFrame, units: str) -> None:
    minutes = track.elapsed_minutes(samples).to_numpy()
    feet = units == "mi"  # a runner in miles reads climbs in feet (the summary's "Climb 2,994 ft")
    present = [(c, t) for c, t in (("elevation_m", "elevation (ft)" if feet else "elevation (m)"),
                                   ("cadence_spm", "cadence (steps/min)"),
                                   ("vertical_oscillation_mm", "vertical oscillation (mm)"),
                                   ("stance_time_ms", "ground contact (ms)"), ("step_length_mm", "step length (mm)"))
               if samples[c].notna().any()]
    if not present:
        return
    st.subheader("Elevation, cadence and running dynamics")
    cols = st.columns(2)
    for i, (col, title) in enumerate(present):
        # per-second cadence and dynamics flicker by a step or two: a 30-second mean shows the trend
        values = samples[col] if col == "elevation_m" else samples[col].rolling("30s", min_periods=1).mean()
        name, min_span = col, None
        if col == "elevation_m" and feet:
            name, values, min_span = "elevation_ft", values / units_mod.M_PER_FT, charts.MIN_SPAN["elevation_m"] / units_mod.M_PER_FT
        d = pd.DataFrame({"minutes": minutes, name: values.to_numpy()}).dropna()
        cols[i % 2].altair_chart(charts.trace(d, name, title, min_span=min_span), width="stretch")


def route(samples: pd.DataFrame, units: str) -> None:
    xy = track.route_xy(samples)
    if xy.empty:
        st.caption("No GPS in this file (treadmill or GPS off), so no route.")
        return
    st.subheader("Route")
    st.altair_chart(charts.route(xy, units), width="content")
    st.caption("Drawn to scale from the GPS positions; no map is fetched, so nothing leaves this computer.")


def detail(activity_id: str, acts: pd.DataFrame, runs: pd.DataFrame, units: str) -> None:
    row = acts.set_index("id").loc[activity_id]
    summary(row, units)
    corrections(activity_id, row, runs)
    samples = ui.samples(activity_id)
    if samples is None or samples.empty:
        st.caption("The original file could not be re-read for the detail view.")
        return
    # the heart-rate maximum the daily series used (given, else estimated): not the whole report, which a
    # correction would make the page work out again before it answers
    pace_and_heart(samples, units, ui.daily().attrs.get("hr_max_bpm"))
    split_table(samples, units)
    elevation_and_dynamics(samples, units)
    route(samples, units)


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
table = run_list(acts, runs, units)
others = acts[acts["sport"] != "running"]
st.caption(f"{len(runs)} runs" + (f"; {len(others)} other activities kept as cross-training" if len(others) else ""))
st.dataframe(table.drop(columns=["_start"]), hide_index=True, width="stretch")

attention = acts[acts["excluded_reason"].notna() | acts["partial"]] if "excluded_reason" in acts else acts.iloc[:0]
if len(attention):
    st.subheader("Left out or damaged")
    st.caption("Kept in your store, but left out of your load or read only in part: check them and correct them "
               "below.")
    a = acts.set_index("id")
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
        corrections_mod.correction_form({**a.loc[fix].to_dict(), "id": fix}, units, key="left_out_")

if len(table):
    st.subheader("One run in detail")
    # by column, not iterrows: five years of runs took a quarter of a second on every run of the page
    labels = {rid: f"{when} · {fmt.distance(km, units, decimals=2)}"
              for rid, when, km in zip(table.index, table["when"], runs.loc[table.index, "distance_km"], strict=True)}
    wanted = st.query_params.get("run")
    options = list(table.index)
    chosen = st.selectbox("Run", options, format_func=labels.get,
                          index=options.index(wanted) if wanted in options else 0)
    if chosen:
        detail(chosen, acts, runs, units)
ui.disclaimer()
