"""The cohort overview (``loadwatch dashboard --cohort DIR``): every runner in one table, most urgent
first, and a drill-down into one runner - the traffic light, red flags, plan, alerts, weekly load and
pain log - read-only.

The cohort folder comes from ``$LOADWATCH_COHORT``.  Every runner's store is opened read-only; every
number comes from the same report the runner's own dashboard shows (:mod:`loadwatch.dashboard.pipelines.cohort_engine`,
:func:`loadwatch.metrics.report.build_report`).
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pandas as pd  # noqa: E402
import streamlit as st  # noqa: E402

from loadwatch.dashboard import charts  # noqa: E402
from loadwatch.dashboard.app import ui  # noqa: E402
from loadwatch.dashboard.pipelines.cohort_table import status_cells, status_records  # noqa: E402
from loadwatch.metrics import fmt  # noqa: E402
from loadwatch.metrics.thresholds import SURFACES  # noqa: E402


def _version(out: Path) -> tuple:
    """Changes whenever a cohort import rewrites the tables."""
    try:
        s = (out / "status.parquet").stat()
        return (s.st_size, s.st_mtime_ns)
    except FileNotFoundError:
        return (0, 0)


@st.cache_data(show_spinner="Reading the cohort...", max_entries=8)
def _status(out: str, version: tuple, as_of: str) -> list[dict]:
    from loadwatch.dashboard.pipelines.cohort_engine import cohort_status

    return status_records(cohort_status(out, as_of=as_of))


@st.cache_data(show_spinner="Working out this runner's load...", max_entries=32)
def _runner(out: str, version: tuple, runner: str, as_of: str) -> tuple[dict, pd.DataFrame]:
    from loadwatch.dashboard.from_store import report_from_store, report_inputs
    from loadwatch.dashboard.pipelines.cohort_runner import store_path
    from loadwatch.ingest.store import Store

    with Store(store_path(out, runner), read_only=True) as store:
        inputs = report_inputs(store)
        report = report_from_store(store, as_of=as_of, weeks=12, inputs=inputs)
    return report, inputs["pain"]


def overview(out: Path, as_of: dt.date) -> list[dict]:
    records = _status(str(out), _version(out), as_of.isoformat())
    st.caption(f"{len(records)} runners as of {fmt.day(as_of)}, most urgent first. Distances in each runner's "
               "own units.")
    if records:
        st.dataframe(pd.DataFrame([status_cells(r) for r in records]), hide_index=True, width="stretch")
    return records


def drill_down(out: Path, runner: str, as_of: dt.date) -> None:
    report, pain = _runner(str(out), _version(out), runner, as_of.isoformat())
    units = report.get("units", "km")
    st.header(f"Runner {fmt.markdown_text(runner)}")
    alerts = report.get("alerts") or []
    red_flags = [a for a in alerts if ui.is_red_flag(a)]
    for alert in red_flags:  # red flags before everything else, and no training numbers beside them
        st.error(f"**{alert.get('message', '')}**", icon=":material/emergency:")
    plan = report.get("plan") or {}
    ui.traffic_light(plan)
    if plan.get("phase"):
        ui.phase_box(plan, units)  # the episode phase and its step; no training number under a red flag or stop
    if not red_flags:
        latest = (report.get("weeks") or [{}])[-1]
        last_run = report.get("latest_run") or {}
        c1, c2, c3 = st.columns(3)
        c1.metric("Distance this week", fmt.distance(latest.get("distance_km"), units))
        c2.metric("Runs this week", f"{latest.get('runs', 0):.0f}")
        c3.metric(f"Latest run ({fmt.day(last_run.get('date'))})", fmt.distance(last_run.get("distance_km"), units),
                  delta=ui.spike_text(last_run), delta_color="off")
    st.subheader("Next 7 days")
    ui.plan_box(plan, units)
    st.subheader("Alerts")
    others = [a for a in alerts if not ui.is_red_flag(a)]
    if not alerts:
        st.success("No alerts: nothing in this runner's recent runs or pain log trips a rule.")
    for alert in others:
        ui.alert_box(alert, units)
    weeks = pd.DataFrame([{"week_start": pd.Timestamp(w["week_start"]),
                           **{f"surface_{s}_km": w["surface_km"].get(s) for s in SURFACES}}
                          for w in report.get("weeks") or []])
    if not red_flags and len(weeks):
        st.subheader(f"Weekly distance by surface ({fmt.unit_label(units)})")
        weeks = weeks.set_index("week_start")
        domain = charts.time_domain(weeks.index.min().date(), weeks.index.max().date() + dt.timedelta(days=6))
        surf = charts.melt(weeks, [f"surface_{s}_km" for s in SURFACES], "surface", prefix="surface_", suffix="_km")
        surf["value"] = ui.to_units(surf["value"], units)
        st.altair_chart(charts.stacked_bars(surf, f"distance ({units})", domain, "surface"), width="stretch")
    st.subheader("Pain log")
    if pain.empty:
        st.info("No pain entries logged.")
    else:
        shown = pain.sort_values("at_local", ascending=False).head(20)
        st.dataframe(pd.DataFrame({
            "When": [fmt.day_time(t) for t in shown["at_local"]],
            "Pain": [fmt.score(s) for s in shown["score"]],
            "Timing": [fmt.words(t, "timing") for t in shown["timing"]],
            "Where": [fmt.words(loc, "location") for loc in shown["location"]],
            "Symptoms": ["; ".join(fmt.words(s, "symptom") for s in sy) or "none" for sy in shown["symptoms"]],
        }), hide_index=True, width="stretch")


def main() -> None:
    st.set_page_config(page_title="loadwatch cohort", layout="wide")
    from loadwatch.dashboard.app import auth

    auth.gate()  # beyond loopback: no runner's data before the password
    st.title("Cohort")
    out = Path(os.environ.get("LOADWATCH_COHORT", ""))
    if not (out / "status.parquet").is_file():
        st.error(f"No cohort in {out}: run `loadwatch cohort import ROOT --out DIR` first, then "
                 "`loadwatch dashboard --cohort DIR`.")
        ui.disclaimer()
        return
    as_of = st.date_input("As of", value=dt.date.today(), format="YYYY-MM-DD")
    records = overview(out, as_of)
    runners = [r["runner"] for r in records]
    picked = st.selectbox("Look at one runner", runners, index=None, placeholder="pick a runner")
    if picked:
        drill_down(out, picked, as_of)
    ui.disclaimer()


main()
