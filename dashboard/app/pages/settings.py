"""Settings: units, heart-rate limits, sex (for TRIMP), time zone, week start; where the store lives."""

from __future__ import annotations

import streamlit as st

from loadwatch.dashboard.app import ui
from loadwatch.ingest.settings import DEFAULT_SURFACES, SEXES, UNITS, WEEK_STARTS, timezone_names
from loadwatch.metrics import fmt

ui.page_start("Settings")
current = ui.settings()

flash = st.session_state.pop("settings_flash", None)
if flash:
    st.success(flash, icon=":material/check:")

UNIT_NAMES = {"km": "kilometres (km)", "mi": "miles (mi)"}
units = st.radio("Distances in", UNITS, index=UNITS.index(current.units), format_func=UNIT_NAMES.get,
                 horizontal=True, key="settings_units")
if units != current.units:
    with ui.open_store() as store:
        store.set_setting("units", units)
    ui.changed()
    st.session_state["settings_flash"] = f"Distances are now shown in {UNIT_NAMES[units]}."
    st.rerun()

with st.form("settings"):
    st.markdown("**Heart rate** (leave empty to let loadwatch estimate your maximum from your files and use "
                "60 bpm at rest; it says so where it matters)")
    c1, c2 = st.columns(2)
    hr_max = c1.text_input("Maximum heart rate (bpm)", value="" if current.hr_max is None else f"{current.hr_max:g}")
    hr_rest = c2.text_input("Resting heart rate (bpm)",
                            value="" if current.hr_rest is None else f"{current.hr_rest:g}")
    sex = st.selectbox("Sex (only chooses the TRIMP heart-rate weighting; 'unspecified' uses the average of "
                       "the two published curves)", SEXES, index=SEXES.index(current.sex))
    zones = sorted(timezone_names())
    timezone = st.selectbox("Time zone (for GPX/TCX files, which carry UTC times only)", zones,
                            index=zones.index(current.timezone) if current.timezone in zones else 0)
    week_start = st.selectbox("Weeks start on", WEEK_STARTS, index=WEEK_STARTS.index(current.week_start),
                              format_func=str.capitalize)
    surface_choices = ["", *DEFAULT_SURFACES]
    default_surface = st.selectbox(
        "Surface of runs nothing else describes (no sub-sport, archive type or correction)", surface_choices,
        index=surface_choices.index(current.default_surface or ""),
        format_func=lambda s: fmt.words(s, "surface") if s else fmt.words("unknown", "surface"))
    if st.form_submit_button("Save settings", type="primary"):
        wanted = {"hr_max": hr_max, "hr_rest": hr_rest, "sex": sex, "timezone": timezone,
                  "week_start": week_start, "default_surface": default_surface}
        try:
            with ui.open_store() as store:
                for key, value in wanted.items():
                    if str(value) != current.as_strings()[key]:
                        store.set_setting(key, str(value))
        except (ValueError, KeyError) as exc:
            st.error(exc.args[0] if exc.args else str(exc))
        else:
            st.session_state["settings_flash"] = "Settings saved."
            ui.changed()
            st.rerun()

st.subheader("Your data")
path = ui.db_path()
st.markdown(f"Everything loadwatch knows is in one file on this computer:\n\n`{path}`")
st.markdown(
    "**Back it up** by copying that file while loadwatch is not running, or at any time with\n\n"
    f"```\nsqlite3 \"{path}\" \".backup loadwatch-backup.sqlite3\"\n```\n"
    "The pain log can also be downloaded as CSV on the Pain log page. Use another file with "
    "`loadwatch dashboard --db PATH` or the `LOADWATCH_DB` environment variable.")
if ui.is_demo():
    st.caption("This is the demo store; your own store is separate.")
