"""Load: weekly distance by surface, every run against the spike cap, load with the acute:chronic ratio,
intensity and running dynamics, with pain scores on the same time axis.

The default range ends today, like every page: the last 26 weeks, reaching back to the runner's last weeks of
data when the history stopped before them (with a one-line note), the weeks since drawn empty."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from loadwatch.dashboard import charts
from loadwatch.dashboard.app import ui
from loadwatch.metrics import fmt
from loadwatch.metrics.thresholds import ACWR_CAVEAT, ACWR_CHRONIC_DAYS, FRANDSEN_2025

#: Weeks shown by default.
DEFAULT_WEEKS = 26
#: A history that stopped before those weeks is shown from this many weeks before its last activity.
STALE_CONTEXT_WEEKS = 8


def default_range(first: dt.date, last_data: dt.date, today: dt.date) -> tuple[dt.date, dt.date]:
    """The last 26 weeks, ending today: a history that stopped earlier reaches back to take in its last
    weeks of data (8 weeks before the last activity), with the weeks since drawn empty."""
    start = min(today - dt.timedelta(weeks=DEFAULT_WEEKS), last_data - dt.timedelta(weeks=STALE_CONTEXT_WEEKS))
    return max(first, start), today


def pick_range(weekly: pd.DataFrame) -> tuple[dt.date, dt.date]:
    first = pd.Timestamp(weekly.index.min()).date()
    today = ui.today()
    last_data = ui.last_activity_day() or today
    latest = max(today, last_data)
    start, end = default_range(first, last_data, today)
    ui.stale_note()
    picked = st.date_input("Dates shown", value=(start, end), min_value=first, max_value=latest,
                           format=fmt.DATE_INPUT_FORMAT)
    if isinstance(picked, tuple | list) and len(picked) == 2:
        start, end = picked
    st.caption(f"Showing {fmt.day_range(start, end)}.")
    return start, end


def in_range(weekly: pd.DataFrame, start: dt.date, end: dt.date) -> pd.DataFrame:
    idx = pd.to_datetime(weekly.index)
    weeks = weekly[(idx >= pd.Timestamp(start) - pd.Timedelta(days=6)) & (idx <= pd.Timestamp(end))].copy()
    weeks.index = pd.to_datetime(weeks.index)
    weeks.index.name = "week_start"
    return weeks


def surface_chart(weeks, pain, units: str, phases, start, end) -> None:
    """Weekly distance by surface with pain dots (the builder the physio report shares), and the
    back-pain phase band under it."""
    u = ui.unit_label(units)
    st.subheader(f"Weekly distance by surface ({u})")
    weekly_chart = charts.weekly_surface_pain(weeks, pain, units, start, end, legend_orient="bottom")
    st.altair_chart(charts.with_phase_ribbon(weekly_chart, phases, start, end), width="stretch", height=400)
    st.caption("Dots: your pain scores (0–10, right axis) on the same days — green 0–3, amber 4–5, red above 5. "
               "The band along the top is your back-pain episode day by day: normal training, hold steady, cut back, "
               "stop running, the return to running step by step, a rebuild after a break, or see a clinician.")


def spike_section(runs, start, end, domain, units: str) -> None:
    st.subheader(f"Every run against the spike cap ({ui.unit_label(units)})")
    shown = runs[(pd.to_datetime(runs["date"]) >= pd.Timestamp(start))
                 & (pd.to_datetime(runs["date"]) <= pd.Timestamp(end))]
    st.altair_chart(charts.spike_chart(shown, units, domain), width="stretch")
    st.caption("Dots are runs; the dashed line is the safe longest run that day (10% more than your longest run "
               f"of the previous 30 days). Strong evidence: {FRANDSEN_2025.source}.")


def acwr_section(weeks, domain, units: str, load_unit: str) -> None:
    st.subheader("Load and acute:chronic ratio")
    first_day = ui.first_activity_day()
    acwr_from = first_day + dt.timedelta(days=ACWR_CHRONIC_DAYS) if first_day else None
    left, right = st.columns([3, 1])
    left.altair_chart(charts.load_acwr(weeks, domain, units, load_unit, acwr_from), width="stretch")
    right.caption(ACWR_CAVEAT)
    if acwr_from:
        right.caption(f"The ratio is drawn from {fmt.day(acwr_from)}: it needs {ACWR_CHRONIC_DAYS} days of "
                      "history before it means anything.")


def intensity_section(weeks, domain) -> None:
    st.subheader("Intensity (minutes per week)")
    inten = charts.melt(weeks, [c for c in weeks.columns if c.startswith("intensity_") and c.endswith("_min")],
                        "intensity", prefix="intensity_", suffix="_min")
    st.altair_chart(charts.stacked_bars(inten, "minutes", domain, "intensity"), width="stretch")
    st.caption("Heart-rate zones as % of your maximum heart rate (Edwards): easy 50–70%, moderate 70–80%, "
               "hard above 80%. Runs without heart rate are shown as 'no heart rate'.")


def dynamics_section(weeks, domain) -> None:
    st.subheader("Running dynamics (weekly averages)")
    dyn = [c for c in ("cadence_spm", "vertical_oscillation_mm", "stance_time_ms", "step_length_mm")
           if c in weeks.columns and weeks[c].notna().any()]
    if not dyn:
        st.caption("Your files carry no cadence or running dynamics in this range.")
        return
    st.altair_chart(charts.dynamics(weeks, dyn, domain), width="stretch")
    st.caption("Shown for information: a slightly higher step rate lowers hip and knee loading "
               "(Heiderscheit 2011); nothing was measured at the spine.")


def weekly_table(weeks, units: str, load_unit: str) -> None:
    """Every week in words: dates as "Mon 17 Aug 2026", distances in the runner's units, "–" for missing."""
    u = ui.unit_label(units)
    load_label = f"load ({u})" if load_unit == "km" else f"load ({load_unit})"
    rows = []
    for week, w in weeks.iterrows():
        rows.append({
            "week of": fmt.day(week),
            f"distance ({u})": fmt.distance(w.get("distance_km"), units).removesuffix(f" {u}"),
            "runs": fmt.number(w.get("runs")),
            f"longest run ({u})": fmt.distance(w.get("long_run_km"), units).removesuffix(f" {u}"),
            "time": fmt.duration(w.get("duration_min")),
            load_label: fmt.number(ui.to_units(w.get("load"), units) if load_unit == "km" else w.get("load"), 1),
            "ACWR": fmt.ratio(w.get("acwr")),
            "monotony": fmt.ratio(w.get("monotony")),
            "change": fmt.pct(w.get("change_pct"), signed=True),
            "strength and core": fmt.duration(w.get("strength_min")),
            "cross-training": fmt.duration(w.get("cross_training_min")),
        })
    with st.expander("Weekly table"):
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")


ui.page_start("Load")
if ui.activities().empty:
    st.info("No runs yet: import your watch files on the Import page.")
    st.stop()

units = ui.settings().units
weekly = ui.weekly()
load_unit = weekly.attrs.get("load_unit", "km")
start, end = pick_range(weekly)
weeks = in_range(weekly, start, end)
domain = charts.time_domain(start, end)

surface_chart(weeks, ui.pain(), units, ui.report().get("phases"), start, end)
spike_section(ui.run_table(), start, end, domain, units)
acwr_section(weeks, domain, units, load_unit)
intensity_section(weeks, domain)
dynamics_section(weeks, domain)
weekly_table(weeks, units, load_unit)
ui.disclaimer()
