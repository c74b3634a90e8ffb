"""Calendar: months of days, each with its runs (distance, coloured by surface), cross-training, pain
scores (coloured by the traffic light), red flags and assessments.  Click a day to see its entries or to
log pain for it.  The view a runner and a physiotherapist read together."""

from __future__ import annotations

import calendar as cal
import datetime as dt

import pandas as pd
import streamlit as st

from loadwatch.dashboard.app import ui
from loadwatch.ingest.painlog import LOCATIONS, TIMINGS, PainEntry, default_timing
from loadwatch.metrics import daily as daily_mod
from loadwatch.metrics import fmt
from loadwatch.metrics.thresholds import EMERGENCY_SYMPTOMS, URGENT_SYMPTOMS

#: Months shown at once (scroll within them; "Earlier" / "Later" move by this many).
MONTHS_SHOWN = 3
#: Markdown colours of each surface (Streamlit's named colours).
SURFACE_MD = {"road": "gray", "trail": "green", "track": "orange", "treadmill": "violet", "grass": "green",
              "unknown": "gray"}
RED_FLAGS = set(EMERGENCY_SYMPTOMS) | set(URGENT_SYMPTOMS)
DEFAULT_TIMES = {"next_morning": dt.time(7, 0), "during": dt.time(12, 0), "after": dt.time(12, 0),
                 "rest_of_day": dt.time(20, 0)}


#: Markdown colours of a pain score's band (:func:`metrics.fmt.pain_band`).
PAIN_MD = {"green": "green", "amber": "orange", "red": "red"}


def pain_md(score: int) -> str:
    return f":{PAIN_MD[fmt.pain_band(score)]}[pain {fmt.score(score)}]"


def day_frames() -> dict[str, pd.DataFrame]:
    """Runs, other activities, live pain entries and assessments, each with a local ``day`` column."""
    settings = ui.settings()
    acts = ui.activities()
    runs = ui.run_table()
    runs = runs.assign(day=pd.to_datetime(runs["date"]).dt.date) if not runs.empty else runs.assign(day=[])
    if not acts.empty:
        acts = acts.assign(day=daily_mod.local_starts(acts, settings.timezone).dt.date.to_numpy())
    others = acts[acts["sport"] != "running"] if not acts.empty else acts
    pain = ui.pain()
    if not pain.empty:
        pain = pain[~pain["deleted"].astype(bool)]
        pain = pain.assign(day=pd.to_datetime(pain["at_local"]).dt.date)
    assessments = pd.DataFrame(columns=["id", "date", "note", "day"])
    with ui.open_store() as store:
        a = store.assessments()  # a clinician's visits (issue 11): they close red flags
    if not a.empty:
        assessments = a.assign(day=pd.to_datetime(a["date"]).dt.date)
    return {"runs": runs, "others": others, "pain": pain, "assessments": assessments}


def entries_of(frames: dict, day: dt.date) -> dict[str, pd.DataFrame]:
    return {k: (f[f["day"] == day] if len(f) else f) for k, f in frames.items()}


def cell_lines(e: dict, units: str) -> list[str]:
    """Short coloured lines for one day's cell."""
    lines = []
    for _, r in e["runs"].iterrows():
        lines.append(f":{SURFACE_MD.get(r['surface'], 'gray')}[{fmt.distance(r['distance_km'], units)}]")
    for _, r in e["others"].iterrows():
        lines.append(f":blue[{fmt.words(r['sport'], 'sport')} {fmt.duration(float(r['moving_s']) / 60)}]")
    for _, r in e["pain"].iterrows():
        lines.append(pain_md(r["score"]))
        if RED_FLAGS & set(r["symptoms"] or ()):
            lines.append(":red[**red flag**]")
    for _ in e["assessments"].itertuples():
        lines.append(":violet-background[seen by a clinician]")
    return lines


def month_grid(year: int, month: int, frames: dict, units: str, today: dt.date) -> None:
    st.markdown(f"#### {dt.date(year, month, 1):%B %Y}")
    week_start = 6 if ui.settings().week_start == "sunday" else 0
    heads = st.columns(7)
    for i, col in enumerate(heads):
        col.caption(cal.day_abbr[(week_start + i) % 7])
    for week in cal.Calendar(firstweekday=week_start).monthdatescalendar(year, month):
        cols = st.columns(7)
        for col, day in zip(cols, week, strict=True):
            if day.month != month:
                col.write("")
                continue
            with col.container(border=True):
                label = f"**{day.day}**" if day == today else str(day.day)
                if st.button(label, key=f"cal_{day.isoformat()}", type="tertiary",
                             help=fmt.day(day), disabled=day > today):
                    st.session_state["cal_day"] = day
                    st.rerun()
                lines = cell_lines(entries_of(frames, day), units)
                st.markdown("  \n".join(lines) if lines else "&nbsp;")


def day_details(day: dt.date, frames: dict, units: str) -> None:
    """Everything logged on one day, and a form to log pain for it."""
    e = entries_of(frames, day)
    with st.container(border=True):
        st.subheader(fmt.day(day))
        lines = []
        for _, r in e["runs"].iterrows():
            lines.append(f"Run at {pd.Timestamp(r['start_local']):%H:%M}: {fmt.distance(r['distance_km'], units)}, "
                         f"{fmt.duration(r['duration_min'])}, {fmt.words(r['surface'], 'surface')}")
        for _, r in e["others"].iterrows():
            lines.append(f"{fmt.words(r['sport'], 'sport').capitalize()}: {fmt.duration(float(r['moving_s']) / 60)}")
        for _, r in e["pain"].iterrows():
            flags = [s for s in (r["symptoms"] or ()) if s in RED_FLAGS]
            text = (f"Pain {fmt.score(r['score'])} {fmt.words(r['timing'], 'timing')}, "
                    f"{fmt.words(r['location'], 'location')} (at {pd.Timestamp(r['at_local']):%H:%M})")
            if flags:
                text += f" — red flag: {fmt.word_list(flags, 'symptom')}"
            if r["note"]:
                text += f" — “{r['note']}”"
            lines.append(text)
        for _, r in e["assessments"].iterrows():
            lines.append("Assessed by a clinician" + (f": {r['note']}" if r.get("note") else ""))
        st.markdown("\n".join(f"- {line}" for line in lines) if lines else "Nothing logged on this day.")
        if day <= ui.today():
            log_pain_form(day, ran=not e["runs"].empty)


def log_pain_form(day: dt.date, *, ran: bool) -> None:
    """Pain for ``day``: "when" starts at right after the run on a day with one (``ran``), else later in the
    day (as ``loadwatch pain add`` without ``--timing``)."""
    with st.form(f"cal_pain_{day.isoformat()}", clear_on_submit=True):
        st.markdown(f"**Log pain for {fmt.day(day)}** (warning symptoms: use the Pain log page)")
        c1, c2, c3 = st.columns(3)
        score = c1.slider("Pain score", 0, 10, 0)
        timing = c2.selectbox("When", TIMINGS, index=TIMINGS.index(default_timing(ran)),
                              format_func=lambda c: fmt.words(c, "timing"))
        location = c3.selectbox("Where", LOCATIONS, format_func=lambda c: fmt.words(c, "location"))
        note = st.text_input("Note (optional)")
        if st.form_submit_button("Save pain entry"):
            # today's entry is never later than now on the runner's clock (20:00 "later in the day" at noon)
            at = dt.datetime.combine(day, DEFAULT_TIMES[timing])
            at = min(at, ui.now()) if day == ui.today() else at
            entry = PainEntry(at_local=at, score=int(score),
                              timing=timing, location=location, note=note.strip())
            with ui.open_store() as store:
                pain_id = store.add_pain(entry)
            st.session_state["cal_flash"] = f"Saved: pain {score}/10 on {fmt.day(day)}."
            ui.changed()
            st.session_state["cal_advice"] = ui.pain_advice(pain_id, entry)
            st.rerun()


def months_to_show(anchor: dt.date) -> list[tuple[int, int]]:
    """The ``MONTHS_SHOWN`` months ending with ``anchor``'s month, newest first."""
    out = []
    y, m = anchor.year, anchor.month
    for _ in range(MONTHS_SHOWN):
        out.append((y, m))
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    return out


#: Keep the seven day columns side by side on a phone too (Streamlit stacks columns below 640 px), and
#: make the cells compact.  Scoped to the calendar's own container (its key becomes a CSS class).
GRID_CSS = """<style>
.st-key-lw_calendar [data-testid="stHorizontalBlock"] {flex-wrap: nowrap !important; gap: 0.2rem !important;}
.st-key-lw_calendar [data-testid="stColumn"] {min-width: 0 !important; flex: 1 1 0 !important;
  width: auto !important;}
.st-key-lw_calendar [data-testid="stColumn"] p {font-size: 0.78rem; line-height: 1.25; overflow-wrap: normal;
  word-break: normal; hyphens: none;}
@media (max-width: 640px) {
  .st-key-lw_calendar [data-testid="stColumn"] p {font-size: 0.6rem; letter-spacing: -0.02em;}
  .st-key-lw_calendar [data-testid="stVerticalBlockBorderWrapper"],
  .st-key-lw_calendar [data-testid="stColumn"] > div {padding-left: 0.1rem !important; padding-right: 0.1rem !important;}
}
.st-key-lw_calendar [data-testid="stColumn"] button {padding: 0 0.2rem; min-height: 1.4rem;}
.st-key-lw_calendar [data-testid="stColumn"] [data-testid="stVerticalBlock"] {gap: 0.1rem;}
</style>"""


def legend() -> None:
    st.caption("Runs coloured by surface: :gray[road] · :green[trail] · :orange[track] · :violet[treadmill]. "
               ":blue[Cross-training]. Pain: :green[0–3] · :orange[4–5] · :red[above 5]. "
               ":red[**red flag**]: a warning symptom was logged. :violet-background[seen by a clinician]: an assessment "
               "recorded (it closes the red flags before it). Click a day to see it or log pain for it.")


ui.page_start("Calendar")
units = ui.settings().units
today = ui.today()
frames = day_frames()
flash = st.session_state.pop("cal_flash", None)
if flash:
    st.success(flash, icon=":material/check:")
advice = st.session_state.pop("cal_advice", None)
if advice:  # what the entry just saved calls for, in the alerts' words
    st.warning(advice, icon=":material/directions_run:")

ui.stale_note()
if "cal_anchor" not in st.session_state:
    st.session_state["cal_anchor"] = today.replace(day=1)  # opens on today's month, whenever the last run was
anchor = st.session_state["cal_anchor"]
nav = st.columns([1, 1, 4])
if nav[0].button("Earlier", icon=":material/chevron_left:", key="cal_earlier"):
    st.session_state["cal_anchor"] = (anchor - pd.DateOffset(months=MONTHS_SHOWN)).date()
    st.rerun()
if nav[1].button("Later", icon=":material/chevron_right:", key="cal_later", disabled=anchor >= today.replace(day=1)):
    st.session_state["cal_anchor"] = min((anchor + pd.DateOffset(months=MONTHS_SHOWN)).date(), today.replace(day=1))
    st.rerun()
months = months_to_show(anchor)
nav[2].caption(f"{dt.date(*months[-1], 1):%B %Y} to {dt.date(*months[0], 1):%B %Y}")
legend()

chosen = st.session_state.get("cal_day")
if chosen:
    day_details(chosen, frames, units)
st.html(GRID_CSS)
with st.container(height=900, key="lw_calendar"):
    for y, m in months:
        month_grid(y, m, frames, units, today)
ui.disclaimer()
