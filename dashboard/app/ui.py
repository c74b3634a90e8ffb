"""Helpers shared by the dashboard's pages: which store to open, cached reads keyed on the store's
version, the demo banner, the disclaimer, and distance formatting in the runner's units.

Pages stay thin: they read through these helpers, call ``metrics`` and draw.  No clinical logic lives here
either; every number shown comes from ``metrics`` (the report, the weekly table, the run table).

Caching: ``@st.cache_data`` functions take ``(db_path, version)``; ``version`` changes whenever the store
changes (see :func:`store_version`), so a cached report is never stale and a landing page over years of
data is a dictionary look-up after the first render.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pandas as pd
import streamlit as st

from loadwatch.dashboard.app.serving import MAX_UPLOAD_MB  # noqa: F401  (shown on the Import page)
from loadwatch.dashboard.from_store import pain_entry_advice, report_from_store
from loadwatch.dashboard.pipelines import import_jobs
from loadwatch.ingest import demo as demo_mod
from loadwatch.ingest import errors, sources
from loadwatch.ingest import settings as settings_mod
from loadwatch.ingest import store as store_mod
from loadwatch.metrics import daily as daily_mod
from loadwatch.metrics import fmt
from loadwatch.metrics import plan as plan_mod
from loadwatch.metrics import rules as rules_mod
from loadwatch.metrics import shoe_distance as shoes_mod
from loadwatch.metrics import spike as spike_mod
from loadwatch.metrics import units as units_mod
from loadwatch.metrics import weekly as weekly_mod
from loadwatch.metrics.checkins import may_call_for_action
from loadwatch.metrics.thresholds import NOT_MEDICAL_ADVICE

KM_PER_MILE = units_mod.KM_PER_MI


# --- which store -------------------------------------------------------------------------------------


#: Query parameter that keeps a browser session in the demo across reloads (``?demo=1``).
DEMO_PARAM = "demo"


def demo_server() -> bool:
    """The whole dashboard was started on the demo store (``loadwatch dashboard --demo``)."""
    return os.environ.get("LOADWATCH_DEMO") == "1"


def session_demo() -> bool:
    """This browser session chose "Load demo data".  The choice lives in the session and in the URL
    (``?demo=1``), so a reload stays in the demo; navigation drops query parameters, so each page run
    puts it back."""
    in_url = st.query_params.get(DEMO_PARAM) == "1"
    if in_url and not st.session_state.get("use_demo"):
        st.session_state["use_demo"] = True
    if st.session_state.get("use_demo") and not in_url:
        st.query_params[DEMO_PARAM] = "1"
    return bool(st.session_state.get("use_demo"))


def demo_requested() -> bool:
    return demo_server() or session_demo()


def db_path() -> Path:
    """The store this session shows: the demo store in demo mode, else ``$LOADWATCH_DB`` / the default
    (``loadwatch dashboard --demo`` points ``$LOADWATCH_DB`` at the demo store)."""
    if not demo_server() and session_demo():
        return Path(store_mod.demo_db_path())
    return Path(store_mod.default_db_path())


def is_demo(path: Path | None = None) -> bool:
    if demo_requested():
        return True
    try:
        return Path(path or db_path()).resolve() == Path(store_mod.demo_db_path()).resolve()
    except OSError:
        return False


def leave_demo() -> None:
    """Back to the runner's own store: the session flag and the URL go."""
    st.session_state["use_demo"] = False
    if DEMO_PARAM in st.query_params:
        del st.query_params[DEMO_PARAM]
    changed()


def open_store(path: Path | None = None):
    """A fresh :class:`loadwatch.ingest.store.Store` (SQLite connections are per thread; a page run is cheap)."""
    return store_mod.Store(path or db_path())


def store_version(path: Path | None = None) -> tuple:
    """A cheap key that changes whenever the store changes: the size and modification time of the
    SQLite file and its write-ahead log (every commit in WAL mode appends to the log; a checkpoint
    rewrites the main file), plus a counter the dashboard bumps after its own writes."""
    path = Path(path or db_path())
    key: list = [str(path)]
    for p in (path, path.with_name(path.name + "-wal")):
        try:
            s = p.stat()
            key += [s.st_size, s.st_mtime_ns]
        except FileNotFoundError:
            key += [0, 0]
    key.append(_write_counter())
    return tuple(key)


def _write_counter() -> int:
    return int(st.session_state.get("_lw_writes", 0))


def changed() -> None:
    """Call after the dashboard wrote to the store: every cached read is keyed on the store's version, which
    this moves on, so every page sees the change.  Nothing else is dropped: the decoded original of a run
    (keyed on the run's own id, the hash of its file) stays, so saving a correction answers at once."""
    st.session_state["_lw_writes"] = _write_counter() + 1


# --- cached reads ------------------------------------------------------------------------------------


@st.cache_data(show_spinner=False, max_entries=64)
def _read(path: str, version: tuple, what: str):
    """``Store.<what>()`` (``activities``, ``pain``, ``settings``...), cached per store version."""
    with open_store(Path(path)) as store:
        return getattr(store, what)()


@st.cache_data(show_spinner="Working out your load...", max_entries=16)
def _report(path: str, version: tuple, as_of: str | None, weeks: int) -> dict:
    with open_store(Path(path)) as store:
        return report_from_store(store, as_of=dt.date.fromisoformat(as_of) if as_of else None, weeks=weeks)


@st.cache_data(show_spinner=False, max_entries=16)
def _daily(path: str, version: tuple, today: str) -> pd.DataFrame:
    # to today, not to the last run: ratios and fitness/fatigue must decay through a break
    settings = _read(path, version, "settings")
    acts = _read(path, version, "activities")
    end = max(pd.Timestamp(today), _last_local_day(acts, settings.timezone))
    return daily_mod.daily_series(acts, _read(path, version, "hr_histograms"), settings, end=end,
                                  sessions=_read(path, version, "sessions"),
                                  shoe_km=shoes_mod.shoe_km_at_run(_read(path, version, "shoes"), _read(path, version, "activity_shoes"),
                                                                   acts, settings.timezone))


def _last_local_day(acts: pd.DataFrame, timezone: str) -> pd.Timestamp:
    if acts.empty:
        return pd.Timestamp.min
    return daily_mod.local_starts(acts, timezone).max().normalize()


@st.cache_data(show_spinner=False, max_entries=16)
def _weekly(path: str, version: tuple, today: str) -> pd.DataFrame:
    return weekly_mod.weekly_table(_daily(path, version, today), week_start=_read(path, version, "settings").week_start,
                                   as_of=pd.Timestamp(today))


@st.cache_data(show_spinner=False, max_entries=16)
def _run_table(path: str, version: tuple) -> pd.DataFrame:
    settings = _read(path, version, "settings")
    return spike_mod.run_table(_read(path, version, "activities"), settings.timezone,
                               hr_hist=_read(path, version, "hr_histograms"), settings=settings)


def _key() -> tuple[str, tuple]:
    path = db_path()
    return str(path), store_version(path)


def _table(name: str, doc: str):
    """A reader of one of the store's tables (``Store.<name>()``), cached per store version."""
    def read():
        return _read(*_key(), name)

    read.__name__, read.__qualname__, read.__doc__ = name, name, doc
    return read


activities = _table("activities", "The runs and other activities, as the store keeps them.")
hr_histograms = _table("hr_histograms", "Seconds per heart-rate bin of each activity.")
pain = _table("pain", "The pain log.")
assessments = _table("assessments", "Clinician assessments (id, date, note), oldest first.")
settings = _table("settings", "The runner's settings.")
sessions = _table("sessions", "Sessions logged without a file (``Store.sessions()``).")
shoes = _table("shoes", "The runner's pairs of shoes (``Store.shoes()``).")
activity_shoes = _table("activity_shoes", "Which pair each run was in (``Store.activity_shoes()``).")
rules = _table("rules", "The runner's own alert rules.")


def report(as_of: dt.date | None = None, weeks: int = 12) -> dict:
    return _report(*_key(), as_of.isoformat() if as_of else None, weeks)


def pain_advice(entry_id: int, entry) -> str | None:
    """The one line of what to do that the pain entry just saved (``entry``, a ``PainEntry``) calls for (the
    alerts' own rules, as ``loadwatch pain add`` prints it); None when it calls for nothing.  Call after
    :func:`changed`: today's report is the one This week reads next (one cache entry)."""
    day = entry.at_local.date()
    log = pain()
    mornings = [] if log.empty else [
        int(r.score) for r in log.itertuples()
        if not r.deleted and r.timing == "next_morning" and pd.Timestamp(r.at_local).date() < day]
    if not may_call_for_action(int(entry.score), entry.timing, mornings):
        return None
    return pain_entry_advice(report(as_of=None if day == today() else day), entry_id)


def today() -> dt.date:
    """The store's own "today": the runner's calendar day now, in their configured time zone (the day every
    page is anchored on, and the report's default ``as_of``)."""
    return now().date()


def now() -> dt.datetime:
    """The runner's wall clock now (naive, to the minute) in their configured time zone, else the machine's:
    what a form offers as "now", never the server's UTC clock."""
    return settings_mod.local_now(_read(*_key(), "settings").timezone)


def daily() -> pd.DataFrame:
    return _daily(*_key(), today().isoformat())


def weekly() -> pd.DataFrame:
    return _weekly(*_key(), today().isoformat())


def run_table() -> pd.DataFrame:
    return _run_table(*_key())


def first_activity_day() -> dt.date | None:
    """The runner's local day of their first activity (None without any)."""
    acts = activities()
    if acts.empty:
        return None
    return daily_mod.local_starts(acts, settings().timezone).min().normalize().date()


def last_activity_day() -> dt.date | None:
    """The runner's local day of their latest activity (None without any)."""
    acts = activities()
    if acts.empty:
        return None
    return _last_local_day(acts, settings().timezone).date()


def last_run_day() -> dt.date | None:
    """The runner's local day of their latest run (None without any)."""
    runs = run_table()
    if runs.empty:
        return None
    return pd.Timestamp(runs["date"].max()).date()


def stale_note(where: str = "on the Import page") -> None:
    """One line when the last run is long past (:func:`loadwatch.metrics.fmt.stale_history`); every page is
    anchored on today, so the weeks since are drawn empty rather than hidden."""
    line = fmt.stale_history(last_run_day(), today(), where=where)
    if line:
        st.info(line, icon=":material/history:")


# --- page furniture ----------------------------------------------------------------------------------


def page_start(title: str) -> None:
    """Title, plus the demo banner when this session shows the demo store.  Nothing at all when the
    dashboard has a password this session has not given (loadwatch.dashboard.app.auth)."""
    from loadwatch.dashboard.app import auth

    auth.require()
    if is_demo():
        st.warning(
            "**Demo data.** You are looking at a generated example history, not your own runs. "
            "Nothing you do here touches your own store.", icon=":material/science:")
        if session_demo() and not demo_server():
            if st.button("Leave the demo and show my own data", key="leave_demo"):
                leave_demo()
                st.rerun()
    st.title(title)
    import_sidebar()


# --- an import running in the background -------------------------------------------------------------


@st.fragment(run_every=1.0)
def _import_progress() -> None:
    """The running import's progress bar, redrawn every second; when the import ends the whole page runs
    again, so it shows the new activities."""
    job = import_jobs.running(db_path())
    if job is None:
        if st.session_state.pop("_lw_import_seen", None) is not None:
            changed()
            st.rerun()
        return
    st.session_state["_lw_import_seen"] = job.id
    frac, text = job.progress()
    st.progress(frac, text=text)


def import_sidebar() -> None:
    """On every page: the import running in the background (loadwatch.dashboard.pipelines.import_jobs), and the result of each
    finished one until the runner has read it on the Import page."""
    path = db_path()
    job = import_jobs.running(path)
    with st.sidebar:
        if job is not None or st.session_state.get("_lw_import_seen") is not None:
            _import_progress()
        for done in import_jobs.unread(path):
            kind = st.error if done.state == "failed" else st.success
            kind(f"{done.summary()} Each file's outcome is on the Import page.", icon=":material/upload_file:")


def disclaimer() -> None:
    st.caption(NOT_MEDICAL_ADVICE)


# --- units -------------------------------------------------------------------------------------------


def unit_label(units: str) -> str:
    return "mi" if units == "mi" else "km"


def to_units(km, units: str):
    """Kilometres to the runner's units (a number or a Series); NaN stays NaN."""
    return units_mod.to_units(km, units)


def spike_text(run: dict) -> str | None:
    """"+25% on your 30-day longest (small spike)" for a run row of the report; None without history."""
    pct = run.get("spike_pct")
    if fmt.is_missing(pct):
        return run.get("spike_note") or None
    base = f"{fmt.pct(pct, signed=True)} on your longest run of the 30 days before"
    return f"{base} ({fmt.words(run.get('spike_category'), 'spike')})" if pct > 0 else base


# --- demo --------------------------------------------------------------------------------------------


def load_demo() -> None:
    """Switch this session to the demo store, writing the demo history into it first if it is empty."""
    path = Path(store_mod.demo_db_path())
    with store_mod.Store(path) as store:
        if store.activities().empty:
            with st.spinner("Writing a demo history..."):
                demo_mod.write_demo(store)
    st.session_state["use_demo"] = True
    st.query_params[DEMO_PARAM] = "1"
    changed()


# --- showing the report ------------------------------------------------------------------------------

#: Severities the detector gives red flags (escalate to care, never coach).
RED_FLAG_SEVERITIES = ("emergency", "see_clinician")

_LIGHTS = {
    "green": ("Green: carry on, within the caps below", "success", ":material/check_circle:"),
    "amber": ("Amber: hold your load this week", "warning", ":material/warning:"),
    "red": ("Red: cut back this week", "error", ":material/block:"),
    "see_clinician": ("See a clinician: no training plan until you have", "error", ":material/medical_services:"),
    "emergency": ("Get medical help now", "error", ":material/emergency:"),
}


def is_red_flag(alert: dict) -> bool:
    return alert.get("severity") in RED_FLAG_SEVERITIES


def alert_details(alert: dict, units: str) -> None:
    """The numbers that tripped the alert (a small labelled table in plain words and the runner's units),
    the rule's name, the day and the evidence behind it."""
    facts = fmt.alert_facts(alert.get("values"), units)
    if facts:
        st.markdown("\n".join(["| | |", "|---|---|", *(f"| {label} | {value} |" for label, value in facts)]))
    bits = []
    if alert.get("rule"):
        bits.append(f"Rule: {fmt.words(alert['rule'], 'rule')}")
    if alert.get("date"):
        bits.append(fmt.day(alert["date"]))
    if alert.get("evidence"):
        bits.append(str(alert["evidence"]))
    if bits:
        st.caption(" · ".join(bits))


def alert_box(alert: dict, units: str) -> None:
    kind = {"emergency": st.error, "see_clinician": st.error, "red": st.error,
            "amber": st.warning}.get(str(alert.get("severity")), st.info)
    with st.container(border=True):
        kind(alert.get("message", ""))
        alert_details(alert, units)


#: Phases whose light says what the phase asks, in :func:`metrics.fmt.phase_status_words` (its status colour
#: alone would say "cut back" to a runner told to stop, and "hold your load" to one stepping back into
#: running): (colour, words after the phase's, Streamlit alert kind, icon).
_PHASE_LIGHTS = {
    "stop": ("Red", ", until your back settles", "error", ":material/block:"),
    "return_to_run": ("Amber", "", "warning", ":material/directions_run:"),
    "rebuild": ("Amber", "", "warning", ":material/trending_up:"),
}


def light_title(plan: dict) -> tuple[str, str, str]:
    """(title, Streamlit alert kind, icon) of the plan's traffic light."""
    phase_words = fmt.phase_status_words(plan)
    if phase_words is not None:
        colour, tail, kind, icon = _PHASE_LIGHTS[plan["phase"]]
        return f"{colour}: {phase_words}{tail}", kind, icon
    status = str(plan.get("status") or "green")
    return _LIGHTS.get(status, (fmt.words(status, "status").capitalize(), "info", ":material/info:"))


def traffic_light(plan: dict) -> None:
    title, kind, icon = light_title(plan)
    getattr(st, kind)(f"**{title}**", icon=icon)


#: How each phase is drawn on This week (Streamlit element, icon).
_PHASE_BOX = {
    "normal": (st.success, ":material/directions_run:"),
    "hold": (st.warning, ":material/pause_circle:"),
    "reduce": (st.warning, ":material/trending_down:"),
    "stop": (st.error, ":material/block:"),
    "return_to_run": (st.info, ":material/stairs:"),
    "rebuild": (st.info, ":material/stairs:"),
    "see_clinician": (st.error, ":material/medical_services:"),
    "emergency": (st.error, ":material/emergency:"),
}


def phase_box(plan: dict, units: str) -> None:
    """Today's phase (SCIENCE.md section 13) with its step and what moves it on, in plain words and the
    runner's units ("Return to running since ... Step 2 of 4: up to 16 km this week, longest 5 km. Next step
    after 7 days with pain at 3 or less."), and the check-in question when the runner is asked.  Under a
    red flag it shows the care message and no training number."""
    if not plan:
        return
    phase = plan.get("phase") or "normal"
    draw, icon = _PHASE_BOX.get(phase, (st.info, ":material/info:"))
    draw(plan_mod.phase_summary({**plan, "units": units}, care=phase not in RED_FLAG_SEVERITIES),
         icon=icon)
    if plan.get("check_in"):
        st.info(f"**{plan['check_in']}** Log it on the Pain log page.", icon=":material/help:")


def plan_box(plan: dict, units: str) -> None:
    """The concrete plan for the next 7 days, in the runner's units (every number from loadwatch.metrics.plan)."""
    if not plan:
        st.info("No plan yet.")
        return
    if plan.get("status") in RED_FLAG_SEVERITIES:
        st.markdown(f"**No training plan.** {plan.get('care_message') or plan.get('message', '')}")
        return
    if plan.get("message"):
        st.markdown(f"#### {plan['message']}")
    lines = fmt.plan_items(plan, units, strong=lambda figure: f"**{figure}**", cap=False)
    if plan.get("cross_training"):
        minutes = plan.get("cross_training_min")
        extra = f" (about **{fmt.duration(minutes)}** a week, in place of the running time you give up)" if minutes else ""
        lines.append(("Instead of running" if plan.get("stop_running") else "Cross-training that keeps your fitness")
                     + ": " + ", ".join(plan["cross_training"]) + extra)
    if plan.get("strength"):
        lines.append(plan["strength"][:1].upper() + plan["strength"][1:])
    if lines:
        st.markdown("\n".join(f"- {line}" for line in lines))
    reasons = plan.get("reasons") or []
    if reasons:
        with st.expander("Why this plan"):
            st.markdown("\n".join(f"- {fmt.reason(r)}" for r in reasons))


# --- rules -------------------------------------------------------------------------------------------


def _rule_metric(metric: str):
    return rules_mod.RULE_METRICS.get(metric)


def metric_label(metric: str) -> str:
    meta = _rule_metric(metric)
    return meta.label if meta is not None else metric.replace("_", " ")


def is_distance_metric(metric: str) -> bool:
    meta = _rule_metric(metric)
    return meta is not None and meta.unit == "km"


def rule_text(rule: dict, units: str = "km") -> str:
    """"weekly distance > 30 km" / "distance of a single run > 12 mi"."""
    return (f"{metric_label(rule['metric'])} {rule.get('op', '>')} "
            f"{fmt.threshold(rule['metric'], float(rule['threshold']), units)}")


# --- one activity's samples --------------------------------------------------------------------------


@st.cache_data(show_spinner="Reading the original file...", max_entries=8)
def _samples(path: str, activity_id: str) -> pd.DataFrame | None:
    # no store version in the key: an activity's id is the hash of its kept file, which never changes
    with open_store(Path(path)) as store:
        name, data = store.original(activity_id)
    try:
        return sources.read_activity(data, name).samples
    except (errors.IngestError, errors.NotAnActivity):
        return None


def samples(activity_id: str) -> pd.DataFrame | None:
    """The samples of one activity, re-decoded from its stored original file."""
    return _samples(str(db_path()), activity_id)


# --- shoes and sessions ------------------------------------------------------------------------------


def shoe_summary() -> pd.DataFrame:
    """One row per pair (``loadwatch.metrics.shoe_distance.shoe_summary``): distance, runs, first and last run, retirement."""
    s = settings()
    return shoes_mod.shoe_summary(shoes(), activity_shoes(), activities(), s.timezone)


def shoe_gauge(row, units: str) -> None:
    """A pair's distance against the runner's retirement distance, as a bar (full at the distance); a
    plain line when no retirement distance is set.  No alarm either way (SCIENCE.md §15)."""
    distance = fmt.distance(row.distance_km, units)
    if fmt.is_missing(row.retire_km) or not row.retire_km > 0:
        st.caption(f"{distance} run · no retirement distance set")
        return
    frac = float(row.distance_km) / float(row.retire_km)
    st.progress(min(max(frac, 0.0), 1.0),
                text=f"{distance} of {fmt.distance(row.retire_km, units)} ({fmt.pct(100 * frac)} of the "
                     "retirement distance you set)")


def session_quick_add(key: str = "session") -> None:
    """The quick-add form for a session without a file (date, kind, minutes, optional RPE and note).  On
    the Shoes & sessions page, and small enough for a day view to reuse with its own ``key``."""
    from loadwatch.ingest.sessions import SESSION_KINDS

    flash = st.session_state.pop(f"{key}_flash", None)
    if flash:
        st.success(flash, icon=":material/check:")
    with st.form(f"{key}_form", clear_on_submit=True):
        c1, c2, c3 = st.columns(3)
        day = c1.date_input("Day", value=today(), max_value=today(), min_value=dt.date(1990, 1, 1),
                            format=fmt.DATE_INPUT_FORMAT, key=f"{key}_date")
        kind = c2.selectbox("Kind", SESSION_KINDS, format_func=lambda k: fmt.words(k, "session").capitalize(),
                            key=f"{key}_kind")
        minutes = c3.number_input("Minutes", min_value=1, max_value=24 * 60, value=30, step=5, key=f"{key}_minutes")
        c4, c5 = st.columns([1, 2])
        rpe = c4.selectbox("How hard (0–10, optional)", [None, *range(11)],
                           format_func=lambda v: "not given" if v is None else str(v), key=f"{key}_rpe")
        note = c5.text_input("Note (optional)", key=f"{key}_note")
        if st.form_submit_button("Log session", type="primary"):
            try:
                with open_store() as store:
                    store.add_session(day, kind, float(minutes), rpe=rpe, note=note)
            except (ValueError, KeyError) as exc:
                st.error(exc.args[0] if exc.args else str(exc))
            else:
                st.session_state[f"{key}_flash"] = (f"Logged: {fmt.words(kind, 'session')}, "
                                                    f"{fmt.duration(minutes)} on {fmt.day(day)}.")
                changed()
                st.rerun()
