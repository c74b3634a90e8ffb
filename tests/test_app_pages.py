"""AppTest for every dashboard page: what each page *shows* for an empty store and for a generated
history (see ``tests/app_helpers.build_history``), and the interactions: pain form, red-flag message,
suggested rule accepted, own rule added, km -> mi, surface override, demo banner."""

from __future__ import annotations

import os

import pytest
from streamlit.testing.v1 import AppTest

from loadwatch.metrics.thresholds import NOT_MEDICAL_ADVICE
from tests.app_helpers import APP_PATH, PAGES_DIR, SPIKE_KM, charts, no_exceptions, texts
from tests.helpers import open_store as store  # the store at $LOADWATCH_DB

TIMEOUT = 90


def page(name: str) -> AppTest:
    return AppTest.from_file(str(PAGES_DIR / f"{name}.py"), default_timeout=TIMEOUT)


# --- empty store -----------------------------------------------------------------------------------------

def test_empty_store_landing_explains_and_offers_demo():
    at = AppTest.from_file(str(APP_PATH), default_timeout=TIMEOUT).run()
    no_exceptions(at)
    shown = texts(at)
    assert "This week" in [t.value for t in at.title]
    assert "Nothing here yet" in shown
    assert "Import" in shown and "zip" in shown
    assert [b.label for b in at.button] == ["Load demo data"]
    assert NOT_MEDICAL_ADVICE in shown


@pytest.mark.slow
def test_load_demo_button_switches_to_the_labelled_demo_store():
    at = AppTest.from_file(str(APP_PATH), default_timeout=300).run()
    at.button[0].click().run()
    no_exceptions(at)
    assert "Demo data" in texts(at)
    assert any(m.label.startswith("Distance this week") for m in at.metric)
    with store() as s:  # the runner's own store stays empty
        assert s.activities().empty


@pytest.mark.parametrize("name", ["load", "activities"])
def test_data_pages_on_an_empty_store_say_what_to_do(name):
    at = page(name).run()
    no_exceptions(at)
    assert "import your watch files on the Import page" in texts(at)


# --- This week -------------------------------------------------------------------------------------------

def test_this_week_shows_traffic_light_spike_alert_and_plan(history):
    at = page("this_week").run()
    no_exceptions(at)
    shown = texts(at)
    assert "Amber" in shown
    metrics = {m.label: m.value for m in at.metric}
    last = [v for k, v in metrics.items() if k.startswith("Last run")]
    assert last == [f"{SPIKE_KM:g} km"]
    # the alert: its message with the numbers, the rule name and the evidence strength
    assert "50% longer than your longest run of the previous 30 days (12 km)" in shown
    assert "Rule: single-run spike" in shown and "strong evidence" in shown
    assert "| size of the spike | moderate spike |" in shown  # the numbers as a labelled table
    assert "session_spike" not in shown and "hazard ratio ci" not in shown
    # the plan, in km, concrete
    assert "longest run ≤ 13 km" in shown
    assert "at most **13 km**" in shown
    assert NOT_MEDICAL_ADVICE in shown


def test_red_flag_sits_above_everything_and_replaces_the_plan(today, history):
    from datetime import datetime

    from loadwatch.ingest.painlog import PainEntry

    with store() as s:
        s.add_pain(PainEntry(at_local=datetime(today.year, today.month, today.day, 9, 0), score=4,
                             timing="rest_of_day", symptoms=("saddle_numbness",)))
    at = page("this_week").run()
    no_exceptions(at)
    first_alert = at.error[0].value
    assert "Seek urgent medical care" in first_alert
    assert "No training plan" in texts(at)
    assert "longest run ≤" not in texts(at)


# --- units -----------------------------------------------------------------------------------------------

def test_switching_to_miles_changes_every_displayed_distance(history):
    at = page("settings").run()
    no_exceptions(at)
    at.radio(key="settings_units").set_value("mi").run()
    no_exceptions(at)
    assert "Distances are now shown in miles (mi)." in texts(at)
    with store() as s:
        assert s.settings().units == "mi"

    week = page("this_week").run()
    metrics = {m.label: m.value for m in week.metric}
    assert [v for k, v in metrics.items() if k.startswith("Last run")] == ["11.2 mi"]  # 18 km
    assert "longest run ≤ 8.2 mi" in texts(week)  # 13.2 km = 8.20 mi, rounded down in 0.1 mi steps
    assert " km" not in " ".join(metrics.values())

    load = page("load").run()
    assert "Weekly distance by surface (mi)" in [s.value for s in load.subheader]
    acts = page("activities").run()
    assert "distance (mi)" in acts.dataframe[0].value.columns
    assert acts.dataframe[0].value["distance (mi)"].max() == pytest.approx(SPIKE_KM / 1.609344, abs=0.01)


# --- Load ------------------------------------------------------------------------------------------------

def test_load_page_draws_the_weekly_charts_with_pain_on_the_same_axis(history):
    at = page("load").run()
    no_exceptions(at)
    subheaders = [s.value for s in at.subheader]
    assert subheaders == ["Weekly distance by surface (km)", "Every run against the spike cap (km)",
                          "Load and acute:chronic ratio", "Intensity (minutes per week)",
                          "Running dynamics (weekly averages)"]
    drawn = charts(at)
    assert len(drawn) == 5
    assert "pain (0-10)" in drawn[0].proto.spec  # pain overlaid on the distance chart
    assert "tooltip" in drawn[1].proto.spec
    shown = texts(at)
    assert "disputed" in shown  # the ACWR caveat
    table = at.dataframe[0].value
    assert "40" in table["distance (km)"].tolist()


# --- Pain log --------------------------------------------------------------------------------------------

def test_pain_form_saves_an_entry_and_shows_it(history):
    at = page("pain_log").run()
    no_exceptions(at)
    before = len(at.data_editor[0].value)
    at.slider[0].set_value(4)
    at.radio[0].set_value("during")
    at.text_area[0].input("twinge at 5 km")
    [save] = [b for b in at.button if b.label == "Save pain entry"]
    save.click().run()
    no_exceptions(at)
    assert "Saved: pain 4/10, during the run, lower back." in texts(at)
    table = at.data_editor[0].value
    assert len(table) == before + 1
    assert "twinge at 5 km" in table["note"].tolist()
    with store() as s:
        assert (s.pain()["note"] == "twinge at 5 km").sum() == 1
    assert [d.label for d in at.download_button] == ["Download the pain log (CSV)"]


def test_ticking_a_red_flag_shows_the_care_message_before_saving():
    at = page("pain_log").run()
    box = [c for c in at.checkbox if c.label.startswith("New trouble controlling")][0]
    box.check().run()
    no_exceptions(at)
    assert any("Seek urgent medical care" in e.value for e in at.error)
    with store() as s:
        assert s.pain().empty  # nothing saved yet


def test_pain_table_delete(history):
    at = page("pain_log").run()
    n = len(at.data_editor[0].value)
    key = at.data_editor[0].key
    at.session_state[key] = {"edited_rows": {0: {"delete": True}}, "added_rows": [], "deleted_rows": []}
    at.run()
    [save] = [b for b in at.button if b.label == "Save changes to the table"]
    save.click().run()
    no_exceptions(at)
    assert "Updated 0 and deleted 1 entries." in texts(at)
    assert len(at.data_editor[0].value) == n - 1


# --- Alerts ----------------------------------------------------------------------------------------------

def test_accepting_a_suggested_rule_adds_it_with_one_click(history):
    at = page("alerts").run()
    no_exceptions(at)
    shown = texts(at)
    assert "Four of your four flare-ups came after weeks with weekly distance above 30 km" in shown
    assert "an association, not proof of cause" in shown
    at.button(key="accept_0").click().run()
    no_exceptions(at)
    assert "Added your rule: weekly distance > 30 km" in texts(at)
    with store() as s:
        [rule] = s.rules()
    assert (rule.metric, rule.threshold, rule.op, rule.origin) == ("distance_km", 30.0, ">", "suggested")
    assert "weekly distance > 30 km" in texts(at)  # now under "Your own rules"


def test_own_rule_add_disable_remove(history):
    at = page("alerts").run()
    form_select = at.selectbox[0]
    form_select.set_value("run_distance_km")
    at.number_input[0].set_value(15.0)
    [add] = [b for b in at.button if b.label == "Add rule"]
    add.click().run()
    no_exceptions(at)
    with store() as s:
        [rule] = s.rules()
    assert (rule.metric, rule.threshold, rule.scope, rule.origin) == ("run_distance_km", 15.0, "run", "user")
    # the 18 km run trips it: a personal alert appears
    assert "15 km" in "\n".join(e.value for kind in (at.warning, at.error, at.info) for e in kind)
    at.toggle(key=f"rule_on_{rule.id}").set_value(False).run()
    with store() as s:
        assert s.rules()[0].enabled is False
    at.button(key=f"rule_rm_{rule.id}").click().run()
    no_exceptions(at)
    with store() as s:
        assert s.rules() == []


# --- Activities ------------------------------------------------------------------------------------------

def test_activities_table_detail_and_surface_override(history):
    at = page("activities").run()
    no_exceptions(at)
    table = at.dataframe[0].value
    assert len(table) == 53
    top = table.iloc[0]
    assert top["distance (km)"] == SPIKE_KM and top["spike"] == "+50% (moderate spike)"
    assert top["pace"] == "5:30 /km"
    assert {"when", "time", "surface", "worst pain"} <= set(table.columns)
    drawn = charts(at)
    # pace, heart rate, zones, elevation, cadence, route: from the stored original
    assert len(drawn) == 6
    assert "east (km)" in drawn[-1].proto.spec
    run_id = at.selectbox[0].value
    [surface] = [b for b in at.selectbox if b.label == "Surface"]
    surface.set_value("treadmill")
    [rpe] = [n for n in at.number_input if n.label.startswith("How hard")]
    rpe.set_value(6.0)
    at.button[0].click().run()  # the form's Save
    no_exceptions(at)
    with store() as s:
        acts = s.activities().set_index("id")
    assert acts.loc[run_id, "surface_override"] == "treadmill" and acts.loc[run_id, "rpe"] == 6
    assert at.dataframe[0].value.iloc[0]["surface"] == "treadmill"
    assert "You corrected this activity." in texts(at)


# --- Settings --------------------------------------------------------------------------------------------

def test_settings_shows_store_location_and_rejects_bad_values():
    at = page("settings").run()
    no_exceptions(at)
    shown = texts(at)
    assert os.environ["LOADWATCH_DB"] in shown
    assert ".backup" in shown
    at.text_input[0].input("500")  # hr_max
    at.button[0].click().run()
    assert any("hr_max must be between 100 and 240 bpm" in e.value for e in at.error)
    at.text_input[0].input("188")
    at.button[0].click().run()
    no_exceptions(at)
    assert "Settings saved." in texts(at)
    with store() as s:
        assert s.settings().hr_max == 188


def test_demo_store_is_labelled(monkeypatch, history):
    monkeypatch.setenv("LOADWATCH_DEMO", "1")
    for name in ("this_week", "load", "settings"):
        at = page(name).run()
        no_exceptions(at)
        assert "Demo data" in at.warning[0].value
