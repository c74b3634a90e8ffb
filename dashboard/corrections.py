"""The runner's corrections to one activity, as a small self-contained Streamlit form (issue 12).

Kept in one module with one entry point, :func:`correction_form`, so the Activities page (being
redesigned on another branch) can place it wherever it likes.  The form writes through
:meth:`ingest.store.Store.correct_activity`, the same call ``loadwatch activities set`` makes.
"""

from __future__ import annotations

import streamlit as st

from dashboard import ui
from ingest.canonical import SPORTS
from metrics import fmt
from metrics.thresholds import SURFACES
from metrics.units import KM_PER_MI as KM_PER_MILE


def notes(activity_row) -> list[str]:
    """Plain-words notes about an activity: why it is left out, what was damaged or corrected."""
    out = []
    reason = activity_row.get("excluded_reason")
    if reason:
        out.append(f"Left out of your load until you confirm or correct it: {reason}.")
    for w in activity_row.get("warnings") or []:
        if not (reason and w.endswith(reason)):
            out.append(w[0].upper() + w[1:] + ".")
    if activity_row.get("corrected"):
        out.append("You corrected this activity.")
    return out


def saved_words(result: dict, units: str) -> str:
    """The confirmation after a save, in words: what changed (the store's answer)."""
    said = fmt.correction_words(result.get("changed") or {}, units)
    return "Saved: " + ", ".join(said) + "." if said else "Saved: nothing changed."


#: The choice that takes a run out of every pair (``loadwatch activities set ID --shoe none``).
NO_SHOE = "no pair"


def shoe_choices(activity_id: str, sport) -> tuple[str | None, list]:
    """(the pair the run is in now or None, the choices: "" for "no pair", then the pair it is in and
    every pair not retired), or (None, []) when there is nothing to choose: not a run, or no pairs."""
    pairs = ui.shoes()
    if sport != "running" or pairs.empty:
        return None, []
    given = ui.activity_shoes()
    now = given.loc[given["activity_id"] == activity_id, "shoe"]
    current = str(now.iloc[0]) if len(now) else None
    names = [n for n, retired in zip(pairs["name"], pairs["retired_on"], strict=True) if retired is None or n == current]
    return current, ["", *names]


def correction_form(activity_row, units: str, key: str = "") -> dict | None:
    """Notes and a form to correct one activity (``activity_row``: a row of the store's activities frame
    as a dict or Series, with ``id``; ``key`` tells two forms for the same activity on one page apart).
    Returns what was changed (the store's answer) after a save, else None."""
    aid = activity_row["id"]
    saved = st.session_state.get("correction_saved")
    if saved is not None and saved.get("id") == aid:
        st.session_state.pop("correction_saved")
        st.success(saved_words(saved, units), icon=":material/check:")
    for line in notes(activity_row):
        (st.warning if activity_row.get("excluded_reason") else st.caption)(line)
    per_km = KM_PER_MILE if units == "mi" else 1.0
    u = ui.unit_label(units)
    with st.form(f"correct_{key}{aid}"):
        st.markdown("**Correct this activity**")
        sport_now = activity_row.get("sport") or "other"
        sport = st.selectbox("Sport", SPORTS, index=SPORTS.index(sport_now) if sport_now in SPORTS else len(SPORTS) - 1,
                             format_func=lambda s: fmt.words(s, "sport"))
        surface_now = activity_row.get("surface_override") or "unknown"
        surface = st.selectbox("Surface", SURFACES, index=SURFACES.index(surface_now) if surface_now in SURFACES else 0,
                               format_func=lambda s: fmt.words(s, "surface"))
        same_route = st.checkbox("Every run of this route, past and future", value=False)
        dist = activity_row.get("distance_m")
        dist_value = None if fmt.is_missing(dist) else round(float(dist) / 1000.0 / per_km, 2)
        distance = st.number_input(f"Distance ({u})", min_value=0.0, value=dist_value, step=0.1, format="%.2f")
        rpe_now = activity_row.get("rpe")
        rpe = st.number_input("How hard it felt (RPE 0-10)", min_value=0.0, max_value=10.0, step=1.0,
                              value=None if fmt.is_missing(rpe_now) else float(rpe_now))
        name = st.text_input("Name", value=activity_row.get("name") or "")
        shoe_now, shoe_options = shoe_choices(aid, activity_row.get("sport"))
        shoe = shoe_now
        if shoe_options:
            # "" stands for no pair: a selectbox's None means nothing chosen
            shoe = st.selectbox("Shoes", shoe_options, index=shoe_options.index(shoe_now or ""),
                                format_func=lambda s: s or NO_SHOE,
                                help="The pair you ran in. A pair retired before the run cannot take it.") or None
        confirm = st.checkbox("It is right as it is: count it", value=False,
                              disabled=not activity_row.get("excluded_reason"))
        if not st.form_submit_button("Save"):
            return None
    changes = {}
    if sport != sport_now:
        changes["sport"] = sport
    if surface != surface_now or same_route:
        changes["surface"] = surface
    if distance is not None and (dist_value is None or abs(distance - dist_value) > 0.005) and distance > 0:
        changes["distance_km"] = distance * per_km
    if rpe is not None and (fmt.is_missing(rpe_now) or rpe != float(rpe_now)):
        changes["rpe"] = rpe
    if name != (activity_row.get("name") or ""):
        changes["name"] = name
    if shoe != shoe_now:
        changes["shoe"] = shoe
    try:
        with ui.open_store() as store:
            result = store.correct_activity(aid, same_route=same_route and "surface" in changes, confirm=confirm,
                                            **changes)
    except ValueError as exc:
        st.error(str(exc))
        return None
    ui.changed()
    st.session_state["correction_saved"] = {**result, "id": aid}
    st.rerun()
    return result
