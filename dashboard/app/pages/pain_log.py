"""Pain log: a quick entry form, red-flag answers escalated at once, the history and a CSV export."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from loadwatch.dashboard import charts
from loadwatch.dashboard.app import ui
from loadwatch.ingest.painlog import (
    LOCATION_LABELS,
    LOCATIONS,
    SYMPTOM_LABELS,
    SYMPTOMS,
    TIMING_LABELS,
    TIMINGS,
    PainEntry,
    RunLinkError,
    check_link_day,
    check_not_future,
    default_timing,
)
from loadwatch.metrics import fmt
from loadwatch.metrics.units import from_units

ui.page_start("Pain log")
units = ui.settings().units
nonce = st.session_state.setdefault("pain_nonce", 0)


def k(name: str) -> str:
    return f"pain_{name}_{nonce}"


TIMING_WORDS = {fmt.words(t, "timing"): t for t in TIMINGS}
LOCATION_WORDS = {fmt.words(loc, "location"): loc for loc in LOCATIONS}
#: Editor column -> stored field.
EDIT_FIELDS = {"when": "at_local", "pain": "score", "timing": "timing", "location": "location", "note": "note"}


def edit_table(live: pd.DataFrame) -> None:
    """The pain log as an editable table in plain words (codes are mapped back when saved)."""
    table = pd.DataFrame({
        "id": live["id"], "when": live["at_local"], "pain": live["score"],
        "timing": live["timing"].map(lambda c: fmt.words(c, "timing")),
        "location": live["location"].map(lambda c: fmt.words(c, "location")),
        "note": live["note"].fillna(""),
        "symptoms": live["symptoms"].map(lambda s: fmt.word_list(s, "symptom") if s else "none"),
        "delete": False,
    }).sort_values("when", ascending=False).reset_index(drop=True)
    edited = st.data_editor(
        table, hide_index=True, width="stretch", key=f"pain_editor_{nonce}",
        disabled=["id", "symptoms"],
        column_config={
            "id": None,
            "when": st.column_config.DatetimeColumn("when", format="ddd D MMM YYYY HH:mm"),
            "pain": st.column_config.NumberColumn("pain (0-10)", min_value=0, max_value=10, step=1),
            "timing": st.column_config.SelectboxColumn("when it hurt", options=list(TIMING_WORDS), required=True),
            "location": st.column_config.SelectboxColumn("where", options=list(LOCATION_WORDS), required=True),
            "delete": st.column_config.CheckboxColumn("delete?"),
        })
    if not st.button("Save changes to the table", key=k("save_table")):
        return
    n_changed = n_deleted = 0
    try:
        with ui.open_store() as store:
            for before, after in zip(table.itertuples(), edited.itertuples(), strict=True):
                if after.delete:
                    store.delete_pain(int(before.id))
                    n_deleted += 1
                    continue
                changes = {EDIT_FIELDS[f]: getattr(after, f) for f in EDIT_FIELDS
                           if getattr(after, f) != getattr(before, f)}
                if not changes:
                    continue
                if "at_local" in changes:
                    changes["at_local"] = pd.Timestamp(changes["at_local"]).to_pydatetime()
                    check_not_future(changes["at_local"], ui.now())
                if "score" in changes:
                    changes["score"] = int(changes["score"])
                if "timing" in changes:
                    changes["timing"] = TIMING_WORDS[changes["timing"]]
                if "location" in changes:
                    changes["location"] = LOCATION_WORDS[changes["location"]]
                store.update_pain(int(before.id), **changes)
                n_changed += 1
    except ValueError as exc:
        st.error(str(exc))
    else:
        st.session_state["pain_saved"] = f"Updated {n_changed} and deleted {n_deleted} entries."
        st.session_state["pain_nonce"] = nonce + 1
        ui.changed()
        st.rerun()


saved = st.session_state.pop("pain_saved", None)
if saved:
    st.success(saved, icon=":material/check:")
advice = st.session_state.pop("pain_advice", None)
if advice:  # what the entry just saved calls for, in the alerts' words
    st.warning(advice, icon=":material/directions_run:")

st.subheader("How is your back?")
left, right = st.columns(2)
with left:
    day = st.date_input("Date", value=ui.today(),
                        min_value=dt.date(1990, 1, 1), max_value=ui.today(), key=k("date"),
                        format=fmt.DATE_INPUT_FORMAT)
    at = st.time_input("Time", value=ui.now().time(), key=k("time"))  # the runner's clock, not the server's
    score = st.slider("Pain score (0 = none, 10 = worst imaginable)", 0, 10, 0, key=k("score"))
    runs = ui.run_table()
    run_days = (pd.to_datetime(runs["start_local"]).dt.date if not runs.empty else pd.Series(dtype=object))
    ran = bool((run_days == day).any())
    # "when" starts at right after the run on a day with one, else later in the day (no run to be after), as
    # `loadwatch pain add` without --timing; a new default (another day picked) is a new radio
    timing = st.radio("When", TIMINGS, format_func=TIMING_LABELS.get, horizontal=True,
                      key=k(f"timing_{default_timing(ran)}"), index=TIMINGS.index(default_timing(ran)))
    location = st.selectbox("Where", LOCATIONS, format_func=LOCATION_LABELS.get, key=k("location"))
with right:
    st.markdown("**Do you have any of these?** Tick all that apply.")
    symptoms = tuple(s for s in SYMPTOMS if st.checkbox(SYMPTOM_LABELS[s], key=k(f"sym_{s}")))
    recent = runs.sort_values("start_local", ascending=False).head(30) if not runs.empty else runs
    options = [None, *recent.index.tolist()]
    labels = {None: "Not linked to a run"} | {
        rid: f"{fmt.day_time(row.start_local)} · {fmt.distance(row.distance_km, units)}"
        for rid, row in recent.iterrows()}
    activity_id = st.selectbox("Which run (optional)", options, format_func=labels.get, key=k("run"))
    note = st.text_area("Note (optional)", key=k("note"), height=80)

# Red-flag answers are escalated as soon as they are ticked, before anything is saved.
for level, message in fmt.symptom_care(symptoms, day):
    (st.error if level == "emergency" else st.warning)(message, icon=":material/emergency:")

if st.button("Save pain entry", type="primary", key=k("save")):
    run_day = run_days.get(activity_id) if activity_id is not None else None
    try:
        check_not_future(dt.datetime.combine(day, at), ui.now())
        entry = PainEntry(at_local=dt.datetime.combine(day, at), score=int(score), timing=timing,
                          location=location, activity_id=activity_id, symptoms=symptoms, note=note.strip())
        if run_day is not None:
            check_link_day(entry, run_day)  # said before the store is opened; the store checks it again
        with ui.open_store() as store:
            pain_id = store.add_pain(entry)
    except RunLinkError as exc:
        st.error(fmt.run_link_refused(exc.activity_id, exc.run_day, exc.entry_day, exc.timing))
    except ValueError as exc:
        st.error(str(exc))
    else:
        st.session_state["pain_saved"] = (f"Saved: pain {score}/10, "
                                          f"{fmt.pain_timing(timing, entry.at_local, run_day=run_day, ran=ran)}, "
                                          f"{LOCATION_LABELS[location].lower()}.")
        st.session_state["pain_nonce"] = nonce + 1
        ui.changed()
        st.session_state["pain_advice"] = ui.pain_advice(pain_id, entry)
        st.rerun()

st.divider()
st.subheader("I have seen a clinician")
st.markdown("Record when a physiotherapist or doctor assessed you, and what they decided. It closes the warnings "
            "that sent you to a clinician (warning symptoms, persistent pain) logged before the visit. Your plan "
            "then returns to running step by step, or follows what your clinician decided. A new warning symptom "
            "logged after the visit opens a new one.")
seen_left, seen_mid, seen_right = st.columns(3)
with seen_left:
    seen_day = st.date_input("Day you were seen", value=ui.today(), max_value=ui.today(),
                             min_value=dt.date(1990, 1, 1), key=k("seen_date"), format=fmt.DATE_INPUT_FORMAT)
with seen_mid:
    seen_at = st.time_input("Time of the visit (leave empty: the end of the day)", value=None, key=k("seen_time"),
                            step=dt.timedelta(minutes=15))
with seen_right:
    seen_note = st.text_input("Note (optional): who, what they said", key=k("seen_note"))
DECISIONS = {"none": "Nothing decided: loadwatch's step-by-step return",
             "cleared": "Cleared to run normally", "step": "Start the return to running at a step"}
decision = st.radio("What did your clinician decide?", list(DECISIONS), format_func=DECISIONS.get,
                    key=k("seen_decision"), horizontal=True)
step = None
if decision == "step":
    step = st.selectbox("Return step", (1, 2, 3, 4), key=k("seen_step"),
                        format_func=lambda n: f"step {n} of 4")
unit_name = fmt.unit_label(units)
cap_week_col, cap_run_col, cap_pain_col = st.columns(3)
with cap_week_col:
    cap_week = st.number_input(f"Their limit for a week ({unit_name}; 0: none)", min_value=0.0, max_value=600.0,
                               value=0.0, step=1.0, key=k("seen_week"))
with cap_run_col:
    cap_run = st.number_input(f"Their longest run ({unit_name}; 0: none)", min_value=0.0, max_value=200.0,
                              value=0.0, step=0.5, key=k("seen_run"))
with cap_pain_col:
    cap_pain = st.selectbox("Most pain they allow during a run", [None, *range(0, 11)], key=k("seen_pain"),
                            format_func=lambda n: "not set" if n is None else f"{n}/10")
if st.button("I have seen a clinician", key=k("seen_save")):
    try:
        with ui.open_store() as store:
            store.add_assessment(
                seen_day, seen_note.strip(), time=seen_at.strftime("%H:%M") if seen_at else None,
                cleared=decision == "cleared", return_step=step,
                max_week_km=from_units(cap_week, units) if cap_week > 0 else None,
                max_run_km=from_units(cap_run, units) if cap_run > 0 else None, max_pain=cap_pain)
    except ValueError as exc:
        st.error(str(exc))
    else:
        when = fmt.day(seen_day) + (f" at {seen_at:%H:%M}" if seen_at else "")
        st.session_state["pain_saved"] = f"Saved: a clinician saw you on {when}."
        st.session_state["pain_nonce"] = nonce + 1
        ui.changed()
        st.rerun()

st.divider()
st.subheader("History")
seen = ui.assessments()
if not seen.empty:
    st.markdown("**Seen by a clinician:** " + "; ".join(
        fmt.day(row.date) + (f" ({row.note})" if row.note else "") for row in seen.itertuples()))
pain = ui.pain()
live = pain[~pain["deleted"].astype(bool)] if not pain.empty else pain
if live.empty:
    st.caption("No pain entries yet.")
else:
    st.altair_chart(charts.pain_history(live), width="stretch")
    edit_table(live)
    st.caption("Deleting keeps a record in the store's history (health data is never silently lost).")
    export = live.assign(symptoms=live["symptoms"].map(lambda s: ";".join(s) if s else ""))
    st.download_button("Download the pain log (CSV)", export.drop(columns=["deleted"]).to_csv(index=False),
                       file_name="loadwatch-pain-log.csv", mime="text/csv")

ui.disclaimer()
