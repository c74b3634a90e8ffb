"""The dashboard's Pain log form at the runner's own time (play-through, Sun 6 Dec 2026 at 12:18 in New York,
17:18 UTC on the machine): the form offers now on the runner's clock, refuses an entry in the future in one
plain line, and after saving says what a bad score calls for, in the alerts' words (as ``loadwatch pain
add`` does).  Streamlit's AppTest, the clock frozen by time-machine."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pandas as pd
import time_machine
from streamlit.testing.v1 import AppTest

from loadwatch.ingest.painlog import PainEntry
from tests.app_helpers import PAGES_DIR, no_exceptions, save_pain_entry, texts
from tests.helpers import open_store

NOON_IN_NEW_YORK = datetime(2026, 12, 6, 17, 18, tzinfo=UTC)


def _pain_log() -> AppTest:
    with open_store() as store:
        store.set_setting("timezone", "America/New_York")
    at = AppTest.from_file(str(PAGES_DIR / "pain_log.py"), default_timeout=90).run()
    no_exceptions(at)
    return at


def ui_report() -> dict:
    from loadwatch.dashboard.from_store import report_from_store

    with open_store() as store:
        return report_from_store(store)


def _stored() -> pd.DataFrame:
    with open_store() as store:
        return store.pain()


def test_the_form_offers_now_on_the_runners_clock_not_the_machines():
    with time_machine.travel(NOON_IN_NEW_YORK, tick=True):
        at = _pain_log()
        assert at.date_input[0].value == date(2026, 12, 6)
        assert at.time_input[0].value == time(12, 18)  # not 17:18, the machine's UTC
        save_pain_entry(at)
        assert "Saved: pain 0/10, later in the day (no run that day), lower back." in texts(at)
    assert list(_stored()["at_local"]) == [pd.Timestamp("2026-12-06 12:18")]


def test_an_entry_in_the_future_is_refused_in_one_plain_line_and_nothing_is_kept():
    with time_machine.travel(NOON_IN_NEW_YORK, tick=True):
        at = _pain_log()
        at.time_input[0].set_value(time(23, 59)).run()
        save_pain_entry(at)
        [error] = [e.value for e in at.error]
        assert error == ("a pain entry cannot be in the future: it is Sun 6 Dec 2026 12:18 where you are, and the "
                         "entry says Sun 6 Dec 2026 23:59; log how your back feels now, or give an earlier time")
        assert "Saved" not in texts(at)
    assert _stored().empty


def test_a_morning_that_has_not_settled_says_what_to_do_after_saving():
    with time_machine.travel(NOON_IN_NEW_YORK, tick=True):
        at = _pain_log()
        at.slider[0].set_value(7)
        at.radio[0].set_value("next_morning")
        save_pain_entry(at)
        shown = texts(at)
        assert "Saved: pain 7/10, the next morning, lower back." in shown
        [advice] = [w.value for w in at.warning]
        assert advice.startswith("On the morning of Sun 6 Dec 2026 your back pain was 7/10: above 5 out of 10 the "
                                 "next morning is too much. Stop running")
        # the alert's own message, as the Alerts page and `loadwatch alerts check` give it
        [alert] = [a for a in ui_report()["alerts"] if a["values"].get("pain_entry_id") == 1]
        assert alert["message"] == advice
        # a green score says nothing more
        at.slider[0].set_value(1)
        at.radio[0].set_value("after")
        save_pain_entry(at)
        assert "Saved: pain 1/10, right after the run, lower back." in texts(at)
        assert [w.value for w in at.warning] == []


def test_the_calendars_entry_for_today_is_never_later_than_now_and_says_what_to_do():
    """The calendar's quick form times an entry by its timing: "later in the day" is 20:00, which at 12:18
    has not come yet, so today's entry is now on the runner's clock."""
    with time_machine.travel(NOON_IN_NEW_YORK, tick=True):
        with open_store() as store:
            store.set_setting("timezone", "America/New_York")
        at = AppTest.from_file(str(PAGES_DIR / "month_calendar.py"), default_timeout=90).run()
        at.button(key="cal_2026-12-06").click().run()
        no_exceptions(at)
        at.slider[0].set_value(7)
        at.selectbox[0].set_value("rest_of_day")
        [save] = [b for b in at.button if b.label == "Save pain entry"]
        save.click().run()
        no_exceptions(at)
        assert "Saved: pain 7/10 on Sun 6 Dec 2026." in texts(at)
        [advice] = [w.value for w in at.warning if "your back pain" in w.value or "back pain of" in w.value]
        assert advice.startswith("You logged back pain of 7/10 later in the day on Sun 6 Dec 2026")
        assert "above 5 out of 10 is too much. Stop running for now" in advice
    assert list(_stored()["at_local"]) == [pd.Timestamp("2026-12-06 12:18")]


def test_the_pain_tables_edit_cannot_move_an_entry_into_the_future():
    with time_machine.travel(NOON_IN_NEW_YORK, tick=True):
        with open_store() as store:
            store.add_pain(PainEntry(at_local=datetime(2026, 12, 6, 9, 0), score=2, timing="next_morning"))
        at = _pain_log()
        key = at.data_editor[0].key
        at.session_state[key] = {"edited_rows": {0: {"when": "2026-12-06T23:00:00"}}, "added_rows": [],
                                 "deleted_rows": []}
        at.run()
        [save] = [b for b in at.button if b.label == "Save changes to the table"]
        save.click().run()
        no_exceptions(at)
        [error] = [e.value for e in at.error]
        assert error.startswith("a pain entry cannot be in the future: it is Sun 6 Dec 2026 12:18 where you are")
    assert list(_stored()["at_local"]) == [pd.Timestamp("2026-12-06 09:00")]
