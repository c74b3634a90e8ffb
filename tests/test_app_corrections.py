"""AppTest of the correction form (``loadwatch.dashboard.app.corrections.correction_form``) as the Activities page
places it: the runner changes the sport, the distance (in miles too), the name and the pair of shoes, saves,
and the store holds the change while the page says what was saved, in plain words; an unchanged save says
nothing changed; a retired pair is not offered; a refused change is shown and nothing is written."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from loadwatch.dashboard.cli.main import main
from loadwatch.ingest.store import Store
from loadwatch.ingest.synth import SynthRun, fit_bytes
from tests.app_helpers import no_exceptions, texts

SCRIPT = """
from loadwatch.dashboard.app import corrections, ui

row = ui.activities().iloc[0]
corrections.correction_form(row.to_dict(), ui.settings().units)
"""


@pytest.fixture
def one_run(tmp_path, capsys) -> str:
    """A store with one 8 km run (imported through the CLI) and one pair of shoes; the run's id."""
    folder = tmp_path / "files"
    folder.mkdir()
    start = datetime(2026, 11, 24, 7, 0, tzinfo=UTC)
    (folder / "run.fit").write_bytes(fit_bytes(SynthRun(start_utc=start, duration_s=2640, distance_m=8000.0,
                                                        sport="running", seed=3)))
    assert main(["import", str(folder), "--workers", "0"]) == 0
    assert main(["shoes", "add", "Pegasus"]) == 0
    capsys.readouterr()
    with Store(Path(os.environ["LOADWATCH_DB"])) as store:
        return str(store.activities()["id"].iloc[0])


def form() -> AppTest:
    at = AppTest.from_string(SCRIPT, default_timeout=60).run()
    no_exceptions(at)
    return at


def save(at) -> AppTest:
    [button] = [b for b in at.button if b.label == "Save"]
    button.click().run()
    no_exceptions(at)
    return at


def stored(activity_id: str) -> tuple:
    with Store(Path(os.environ["LOADWATCH_DB"])) as store:
        acts = store.activities().set_index("id")
        shoes = store.activity_shoes()
    row = acts.loc[activity_id]
    shoe = shoes.loc[shoes["activity_id"] == activity_id, "shoe"]
    return row["sport"], float(row["distance_m"]), row["name"], (str(shoe.iloc[0]) if len(shoe) else None)


def test_a_correction_in_miles_is_saved_and_said(one_run):
    with Store(Path(os.environ["LOADWATCH_DB"])) as store:
        store.set_setting("units", "mi")
    at = form()
    assert "Correct this activity" in texts(at)
    [distance] = [n for n in at.number_input if n.label == "Distance (mi)"]
    assert distance.value == pytest.approx(8.0 / 1.609344, abs=0.01)
    distance.set_value(5.0)
    at.text_input[0].input("Easy Tuesday")
    [shoes] = [s for s in at.selectbox if s.label == "Shoes"]
    shoes.select("Pegasus")
    save(at)
    sport, distance_m, name, shoe = stored(one_run)
    assert sport == "running"
    assert distance_m == pytest.approx(5.0 * 1609.344, rel=1e-6)
    assert (name, shoe) == ("Easy Tuesday", "Pegasus")
    shown = texts(at)
    assert "Saved:" in shown and "5" in shown and "mi" in shown
    for bad in ("None", "nan", "distance_km", "_"):
        assert bad not in shown.split("Saved:", 1)[1].splitlines()[0], bad


def test_a_sport_change_in_km_and_a_save_that_changes_nothing(one_run):
    at = form()
    [sport] = [s for s in at.selectbox if s.label == "Sport"]
    sport.select("cycling")
    save(at)
    assert stored(one_run)[0] == "cycling"
    assert "Saved:" in texts(at)
    at = form()
    save(at)
    assert "Saved: nothing changed." in texts(at)
    assert stored(one_run)[0] == "cycling"


def test_a_retired_pair_is_not_offered(one_run):
    with Store(Path(os.environ["LOADWATCH_DB"])) as store:
        store.retire_shoe("Pegasus", on="2026-11-01")
        store.add_shoe("Spare")
    [shoes] = [s for s in form().selectbox if s.label == "Shoes"]
    assert "Pegasus" not in shoes.options and "Spare" in shoes.options


def test_a_refused_change_is_shown_and_the_form_stays(one_run, monkeypatch):
    def refuse(self, activity_id, **changes):
        raise ValueError("a pair retired before the run cannot take it")

    monkeypatch.setattr(Store, "correct_activity", refuse)  # the store refuses, as it does for a retired pair
    at = form()
    before = stored(one_run)
    at.text_input[0].input("A new name")
    save(at)
    assert [e.value for e in at.error] == ["a pair retired before the run cannot take it"]
    assert "Saved:" not in texts(at)
    assert stored(one_run) == before


COUNTING = """
import streamlit as st
from loadwatch.dashboard.app import corrections, ui

st.session_state["runs"] = st.session_state.get("runs", 0) + 1
row = ui.activities().iloc[0]
st.session_state["answer"] = corrections.correction_form(row.to_dict(), ui.settings().units)
"""


def test_a_save_runs_the_page_once_and_shows_the_change(one_run):
    """Issue 21: the correction is written by the Save button's callback, before the page runs, so the page
    runs once with the change (it ran twice: the old page, then ``st.rerun``) and the form shows it."""
    at = AppTest.from_string(COUNTING, default_timeout=60).run()
    no_exceptions(at)
    assert at.session_state["runs"] == 1
    at.text_input[0].input("Hill reps")
    save(at)
    assert at.session_state["runs"] == 2
    assert at.session_state["answer"]["changed"] and stored(one_run)[2] == "Hill reps"
    assert at.text_input[0].value == "Hill reps" and "Saved:" in texts(at)
    at.run()  # the confirmation is said once
    assert at.session_state["answer"] is None and "Saved:" not in texts(at)
