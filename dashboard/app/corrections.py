"""The runner's corrections to one activity, as a small self-contained Streamlit form (issue 12).

Kept in one module with one entry point, :func:`correction_form`, so the Activities page (being
redesigned on another branch) can place it wherever it likes.  The form writes through
:meth:`loadwatch.ingest.store.Store.correct_activity`, the same call ``loadwatch activities set`` makes.
"""

from __future__ import annotations

import streamlit as st

from loadwatch.dashboard.app import ui
from loadwatch.ingest.canonical import SPORTS
from loadwatch.metrics import fmt
from loadwatch.metrics.thresholds import SURFACES
from loadwatch.metrics.units import KM_PER_MI as KM_PER_MILE


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
    Returns what was changed (the store's answer) on the run after a save, else None.

    The save is the form button's callback, so it is written before the page runs again and the page runs
    once with the change (issue 21: it ran twice, the old page and then ``st.rerun``)."""
    aid = activity_row["id"]
    form_key = f"correct_{key}{aid}"
    saved = _saved_notice(aid, units)
    refused = st.session_state.pop(f"{form_key}:refused", None)
    if refused:
        st.error(refused)
    for line in notes(activity_row):
        (st.warning if activity_row.get("excluded_reason") else st.caption)(line)
    per_km = KM_PER_MILE if units == "mi" else 1.0
    _ask(activity_row, units, per_km, form_key)
    return saved


def _saved_notice(aid, units: str) -> dict | None:
    """After a save: what the store changed, once."""
    saved = st.session_state.get("correction_saved")
    if saved is not None and saved.get("id") == aid:
        st.session_state.pop("correction_saved")
        st.success(saved_words(saved, units), icon=":material/check:")
        return saved
    return None


def _now(activity_row, per_km: float) -> dict:
    """What the activity says now, as the form shows it (the distance in the runner's units)."""
    dist = activity_row.get("distance_m")
    return {"sport_now": activity_row.get("sport") or "other",
            "surface_now": activity_row.get("surface_override") or "unknown",
            "dist_now": None if fmt.is_missing(dist) else round(float(dist) / 1000.0 / per_km, 2)}


def _ask(activity_row, units: str, per_km: float, form_key: str) -> None:
    """The form, filled with what the activity says now; its Save button writes the answers
    (:func:`_on_save`) before the page runs again."""
    now = _now(activity_row, per_km)
    sport_now, surface_now = now["sport_now"], now["surface_now"]

    def key(name: str) -> str:
        return f"{form_key}:{name}"

    with st.form(form_key):
        st.markdown("**Correct this activity**")
        st.selectbox("Sport", SPORTS, index=SPORTS.index(sport_now) if sport_now in SPORTS else len(SPORTS) - 1,
                     format_func=lambda s: fmt.words(s, "sport"), key=key("sport"))
        st.selectbox("Surface", SURFACES, index=SURFACES.index(surface_now) if surface_now in SURFACES else 0,
                     format_func=lambda s: fmt.words(s, "surface"), key=key("surface"))
        st.checkbox("Every run of this route, past and future", value=False, key=key("same_route"))
        st.number_input(f"Distance ({ui.unit_label(units)})", min_value=0.0, value=now["dist_now"], step=0.1,
                        format="%.2f", key=key("distance"))
        rpe_now = activity_row.get("rpe")
        st.number_input("How hard it felt (RPE 0-10)", min_value=0.0, max_value=10.0, step=1.0,
                        value=None if fmt.is_missing(rpe_now) else float(rpe_now), key=key("rpe"))
        st.text_input("Name", value=activity_row.get("name") or "", key=key("name"))
        _ask_shoe(activity_row["id"], activity_row.get("sport"), key("shoe"))
        st.checkbox("It is right as it is: count it", value=False, disabled=not activity_row.get("excluded_reason"),
                    key=key("confirm"))
        st.form_submit_button("Save", on_click=_on_save, args=(dict(activity_row), per_km, form_key))


def _on_save(activity_row: dict, per_km: float, form_key: str) -> None:
    """The Save button's callback: the runner's answers (the form's widgets, by key) written through the
    store; a refused change is kept to be shown by the form, and nothing is written."""
    answers = {name: st.session_state.get(f"{form_key}:{name}")
               for name in ("sport", "surface", "same_route", "distance", "rpe", "name", "confirm")}
    shoe_now, shoe_options = shoe_choices(activity_row["id"], activity_row.get("sport"))
    # "" stands for no pair: a selectbox's None means nothing chosen
    shoe = st.session_state.get(f"{form_key}:shoe", shoe_now or "") if shoe_options else shoe_now
    asked = {**_now(activity_row, per_km), **answers, "shoe_now": shoe_now, "shoe": shoe or None}
    _save(activity_row["id"], _changes(activity_row, asked, per_km), same_route=bool(asked["same_route"]),
          confirm=bool(asked["confirm"]), form_key=form_key)


def _ask_shoe(activity_id: str, sport, key: str) -> None:
    """The pair the run was in: a choice only for a run when there are pairs."""
    shoe_now, shoe_options = shoe_choices(activity_id, sport)
    if shoe_options:
        # "" stands for no pair: a selectbox's None means nothing chosen
        st.selectbox("Shoes", shoe_options, index=shoe_options.index(shoe_now or ""),
                     format_func=lambda s: s or NO_SHOE,
                     help="The pair you ran in. A pair retired before the run cannot take it.", key=key)


def _changes(activity_row, asked: dict, per_km: float) -> dict:
    """What the runner changed, as :meth:`loadwatch.ingest.store.Store.correct_activity` takes it (distance in km)."""
    changes = {}
    if asked["sport"] != asked["sport_now"]:
        changes["sport"] = asked["sport"]
    if asked["surface"] != asked["surface_now"] or asked["same_route"]:
        changes["surface"] = asked["surface"]
    distance, dist_now = asked["distance"], asked["dist_now"]
    if distance is not None and (dist_now is None or abs(distance - dist_now) > 0.005) and distance > 0:
        changes["distance_km"] = distance * per_km
    rpe, rpe_now = asked["rpe"], activity_row.get("rpe")
    if rpe is not None and (fmt.is_missing(rpe_now) or rpe != float(rpe_now)):
        changes["rpe"] = rpe
    if asked["name"] != (activity_row.get("name") or ""):
        changes["name"] = asked["name"]
    if asked["shoe"] != asked["shoe_now"]:
        changes["shoe"] = asked["shoe"]
    return changes


def _save(aid, changes: dict, *, same_route: bool, confirm: bool, form_key: str) -> dict | None:
    """Write the changes through the store (the store's answer is shown on the page's next run); a refused
    change is kept for the form to show, and nothing is written."""
    try:
        with ui.open_store() as store:
            result = store.correct_activity(aid, same_route=same_route and "surface" in changes, confirm=confirm,
                                            **changes)
    except ValueError as exc:
        st.session_state[f"{form_key}:refused"] = str(exc)
        return None
    ui.changed()
    st.session_state["correction_saved"] = {**result, "id": aid}
    return result
