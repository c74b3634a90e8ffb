"""Shoes & sessions: each pair's distance against the retirement distance the runner set, adding,
retiring and choosing the default pair, distance per week by pair; a quick-add form for strength, core
and cross-training that leaves no watch file, and those minutes per week."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from loadwatch.dashboard import charts
from loadwatch.dashboard.app import ui
from loadwatch.metrics import fmt
from loadwatch.metrics import shoe_distance as shoes_mod
from loadwatch.metrics.units import from_units

ui.page_start("Shoes & sessions")
units = ui.settings().units
u = ui.unit_label(units)

flash = st.session_state.pop("shoes_flash", None)
if flash:
    st.success(fmt.markdown_text(flash), icon=":material/check:")  # it quotes a pair's name


def save(write, said: str) -> None:
    """``write(store)``, then redraw the page with ``said`` above it (a store error is the caller's)."""
    with ui.open_store() as store:
        write(store)
    st.session_state["shoes_flash"] = said
    ui.changed()
    st.rerun()


# --- sessions --------------------------------------------------------------------------------------------
st.subheader("Log a session without a watch file")
st.caption("Strength, core, Pilates, yoga and mobility count as strength minutes; rides, swims, the elliptical "
           "and deep-water running as cross-training. Neither counts as running load. A session you also "
           "imported from a file is counted once.")
ui.session_quick_add("session")

logged = ui.sessions()
weekly = ui.weekly()
if not weekly.empty and (weekly["strength_min"].sum() > 0 or weekly["cross_training_min"].sum() > 0):
    weeks = weekly.tail(16).copy()
    weeks.index = pd.to_datetime(weeks.index)
    weeks.index.name = "week_start"
    start = weeks.index.min().date()
    end = weeks.index.max().date() + dt.timedelta(days=6)
    st.markdown("**Strength and cross-training minutes per week**")
    st.altair_chart(charts.session_minutes(weeks, charts.time_domain(start, end)), width="stretch")
if logged.empty:
    st.caption("No sessions logged yet.")
else:
    recent = logged.sort_values(["date", "id"], ascending=False).head(30)
    table = pd.DataFrame({
        "day": [fmt.day(d) for d in recent["date"]],
        "kind": [fmt.words(k, "session") for k in recent["kind"]],
        "time": [fmt.duration(m) for m in recent["minutes"]],
        "how hard": [fmt.number(r) for r in recent["rpe"]],
        "note": [n or fmt.MISSING for n in recent["note"]],
    })
    st.dataframe(table, hide_index=True, width="stretch")
    labels = {int(r.id): f"{fmt.day(r.date)} · {fmt.words(r.kind, 'session')} · {fmt.duration(r.minutes)}"
              for r in recent.itertuples()}
    c1, c2 = st.columns([3, 1])
    gone = c1.selectbox("Delete a session", list(labels), format_func=labels.get, key="session_delete_pick")
    if c2.button("Delete", key="session_delete"):
        save(lambda store: store.delete_session(gone), f"Deleted the session of {labels[gone]}.")

st.divider()

# --- shoes -----------------------------------------------------------------------------------------------
st.subheader("Shoes")
summary = ui.shoe_summary()
if summary.empty:
    st.info("No shoes yet. Add a pair below; runs you import while it is the default are given to it, and a "
            "Strava export's gear is read on import.")
else:
    for row in summary.itertuples(index=False):
        with st.container(border=True):
            state = " · default pair" if row.default else (f" · retired {fmt.day(row.retired_on)}" if row.retired
                                                            else "")
            # a pair's name may come from an export (Strava's "Activity Gear"): shown as written
            st.markdown(f"**{fmt.markdown_text(row.name)}**{state}")
            ui.shoe_gauge(row, units)
            used = (f"{row.runs} run{'s' if row.runs != 1 else ''}, {fmt.day_range(row.first_used, row.last_used)}"
                    if row.runs else "no runs yet")
            st.caption(used)
    st.caption(shoes_mod.SHOE_EVIDENCE[0].upper() + shoes_mod.SHOE_EVIDENCE[1:] + ".")

with st.form("shoe_add", clear_on_submit=True):
    st.markdown("**Add a pair**")
    c1, c2, c3 = st.columns(3)
    name = c1.text_input("Name", key="shoe_name")
    start_dist = c2.number_input(f"Already run ({u})", min_value=0.0, max_value=10000.0, value=0.0, step=10.0,
                                 key="shoe_start")
    retire_dist = c3.number_input(f"Retire at ({u}, 0 = none)", min_value=0.0, max_value=10000.0, value=0.0,
                                  step=50.0, key="shoe_retire")
    make_default = st.checkbox("Give it to the runs I import from now on (default pair)", key="shoe_default")
    if st.form_submit_button("Add pair", type="primary"):
        try:
            save(lambda store: store.add_shoe(name, start_km=from_units(start_dist, units),
                                              retire_km=from_units(retire_dist, units) if retire_dist > 0 else None,
                                              default=make_default), f"Added {name.strip()}.")
        except (ValueError, KeyError) as exc:
            st.error(exc.args[0] if exc.args else str(exc))

active = summary[~summary["retired"]] if not summary.empty else summary
if not active.empty:
    c1, c2 = st.columns(2)
    with c1:
        pick = st.selectbox("Pair", list(active["name"]), key="shoe_pick")
        b1, b2 = st.columns(2)
        if b1.button("Make default", key="shoe_make_default"):
            save(lambda store: store.set_default_shoe(pick), f"{pick} is now the default pair for new runs.")
        if b2.button("Retire", key="shoe_retire_button"):
            save(lambda store: store.retire_shoe(pick), f"Retired {pick}: it takes no new runs.")

per_week = shoes_mod.weekly_km_by_shoe(ui.activity_shoes(), ui.activities(), ui.settings().timezone,
                                       ui.settings().week_start)
if not per_week.empty:
    st.markdown(f"**Distance per week by pair ({u})**")
    # to today, like every page; a history that stopped earlier reaches back to its last weeks with a pair
    end = ui.today()
    start = min(pd.Timestamp(end) - pd.Timedelta(weeks=25), per_week["week_start"].max() - pd.Timedelta(weeks=8))
    recent = per_week[per_week["week_start"] >= start]
    start = start.date()
    st.altair_chart(charts.shoe_weeks(recent, units, charts.time_domain(start, end)), width="stretch")

ui.disclaimer()
