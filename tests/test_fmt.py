"""The one formatting module: every face says numbers, dates, codes and missing values the same way."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pandas as pd
import pytest

from loadwatch.ingest.painlog import LOCATIONS, SYMPTOMS, TIMINGS
from loadwatch.metrics import fmt


@pytest.mark.parametrize("missing", [None, float("nan"), pd.NaT, pd.NA, math.inf, ""])
def test_missing_values_read_as_a_dash(missing):
    for f in (fmt.day, fmt.distance, fmt.pace, fmt.duration, fmt.number, fmt.pct, fmt.score, fmt.words):
        if isinstance(missing, str) and f not in (fmt.day, fmt.words):
            continue
        assert f(missing) == fmt.MISSING


def test_dates_read_as_weekday_day_month_year():
    assert fmt.day(dt.date(2026, 8, 17)) == "Mon 17 Aug 2026"
    assert fmt.day("2026-08-17 00:00:00") == "Mon 17 Aug 2026"
    assert fmt.day_time(pd.Timestamp("2026-08-17 07:05")) == "Mon 17 Aug 2026 07:05"
    assert fmt.day_range("2026-08-03", "2026-08-16") == "Mon 3 Aug – Sun 16 Aug 2026"
    assert fmt.day_range("2025-12-29", "2026-01-04") == "Mon 29 Dec 2025 – Sun 4 Jan 2026"


def test_every_pain_code_has_plain_words():
    for vocab, codes in (("timing", TIMINGS), ("location", LOCATIONS), ("symptom", SYMPTOMS)):
        for code in codes:
            text = fmt.words(code, vocab)
            assert "_" not in text
    assert fmt.words("rest_of_day") == "later in the day"
    assert fmt.words("return_to_run", "phase") == "return to running"
    assert fmt.words("personal:7") == "your own rule 7"
    assert fmt.words("something_new") == "something new"


def test_numbers_units_and_paces():
    assert fmt.distance(10.0, "km") == "10 km"
    assert fmt.distance(16.09344, "mi") == "10 mi"
    assert fmt.distance(11.3, "km", cap=True) == "11 km"
    assert fmt.pace(330, "km") == "5:30 /km"
    assert fmt.pace(330, "mi") == "8:51 /mi"
    assert fmt.duration(65) == "1 h 05 min"
    assert fmt.pct(12.4) == "12%"
    assert fmt.pct(-5, signed=True) == "−5%"
    assert fmt.pct(7, signed=True) == "+7%"
    assert fmt.number(1234.5, 1, "m") == "1,234.5 m"
    assert fmt.score(4) == "4/10"


def test_count_says_one_and_many():
    from loadwatch.metrics import fmt

    assert fmt.count(1, "file") == "1 file"
    assert fmt.count(0, "file") == "0 files"
    assert fmt.count(2, "pain entry", "pain entries") == "2 pain entries"
    assert fmt.count(20000, "runner") == "20,000 runners"


def test_alert_numbers_read_as_a_labelled_table_without_internal_names():
    spike = {"distance_km": 18.0, "longest_30d_km": 12.0, "spike_pct": 50.0, "category": "moderate",
             "hazard_ratio": 1.52, "hazard_ratio_ci_low": 1.31, "hazard_ratio_ci_high": 1.77,
             "safe_longest_km": 13.2, "max_spike_pct": 10}
    rows = dict(fmt.alert_facts(spike, "mi"))
    assert rows["distance"] == "11.2 mi"
    assert rows["size of the spike"] == "moderate spike"
    assert rows["injury rate in the study, against runs without a spike"] == \
        "1.52 times (95% confidence interval 1.31–1.77)"
    assert rows["spike allowed over the 30-day longest"] == "10%"
    flags = dict(fmt.alert_facts({"symptoms": ["saddle_numbness"], "pain_entry_ids": [3], "lookback_days": 14}))
    assert flags == {"symptoms": fmt.words("saddle_numbness", "symptom"), "looked back over": "14 days"}
    assert "_" not in flags["symptoms"]
    raw = {"metric": "distance_km", "value": 41.0, "threshold": 32.19, "op": ">", "unit": "km", "scope": "week",
           "partial_week": False}
    personal = dict(fmt.alert_facts(raw, "mi"))
    assert personal["your threshold"] == "20 mi" and personal["rule"] == "above"
    text = " ".join(k + " " + v for k, v in [*fmt.alert_facts(spike), *fmt.alert_facts(raw)])
    for internal in ("_", "None", "nan", "ci low", "pct"):
        assert internal not in text


def test_clock_and_pace_clock():
    assert fmt.clock(3723) == "1:02:03" and fmt.clock(65) == "1:05" and fmt.clock(None) == fmt.MISSING
    assert fmt.pace_clock(330) == "5:30" and fmt.pace_clock(float("nan")) == fmt.MISSING


def test_every_number_an_alert_carries_has_a_label_in_words():
    """Each key of every ``values={...}`` an alert is built with (found in metrics/ by reading the code) has
    its label and kind in ``fmt.ALERT_VALUES`` (or is bookkeeping left out): no face falls back to the raw
    key ("pain checkin frac min: 1 min" for a 50 % share once reached the This week page)."""
    import ast
    from pathlib import Path

    from loadwatch.metrics import fmt

    keys = set()
    for path in (Path(__file__).resolve().parents[1] / "metrics").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.keyword) and node.arg == "values" and isinstance(node.value, ast.Dict):
                keys |= {k.value for k in node.value.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)}
    assert len(keys) > 10, keys  # the scan found the alerts
    unlabelled = {k for k in keys if k not in fmt.ALERT_VALUES and k not in fmt.ALERT_SKIP
                  and not k.endswith(("_id", "_ids"))}
    assert not unlabelled, unlabelled
    assert fmt.alert_facts({"since": "2022-03-01", "min_days": 21, "pain_checkin_frac_min": 0.5}) == [
        ("since", "Tue 1 Mar 2022"), ("days with pain that count", "21 days"),
        ("share of check-ins with pain that counts", "50%")]
    assert fmt.alert_facts({"mean_score_7d": 4.2, "timing_group": "morning"})[-1] == ("pain compared", "next-morning pain")


@pytest.mark.parametrize(("last", "today", "expected"), [
    (dt.date(2026, 5, 23), dt.date(2026, 12, 6), "Your last run was on Sat 23 May 2026, 28 weeks ago: import newer "
                                                 "runs on the Import page to see your recent weeks."),
    ("2026-11-08", "2026-12-06", "Your last run was on Sun 8 Nov 2026, 4 weeks ago: import newer runs on the Import "
                                 "page to see your recent weeks."),
    (dt.date(2026, 11, 9), dt.date(2026, 12, 6), None),  # 27 days: recent enough to say nothing
    (None, dt.date(2026, 12, 6), None),  # no run at all: nothing to say about its age
])
def test_stale_history_is_one_line_from_four_weeks(last, today, expected):
    assert fmt.stale_history(last, today) == expected
    if expected:
        assert "\n" not in expected and fmt.stale_history(last, today, where="with loadwatch import").endswith(
            "import newer runs with loadwatch import to see your recent weeks.")



# --- one voice: each wording has one function in fmt, and every face calls it ------------------------------

def _faces_source() -> dict[str, str]:
    root = Path(__file__).resolve().parents[1]
    return {str(p.relative_to(root)): p.read_text() for d in ("metrics", "dashboard") for p in (root / d).rglob("*.py")
            if p.name != "fmt.py"}


def test_a_date_label_is_fmt_day_on_every_face():
    from loadwatch.metrics import detector

    runs = pd.DataFrame({"date": [pd.Timestamp("2025-03-15")], "distance_km": [15.0], "longest_30d_km": [10.0],
                         "spike_pct": [50.0]}, index=["r1"])
    [alert] = detector.session_spike(runs, dt.date(2025, 3, 16))
    assert "on Sat 15 Mar 2025 was 50% longer" in alert.message
    # no face writes its own "Sat 15 Mar 2025" pattern beside fmt.day
    own = [name for name, text in _faces_source().items() if "%a} {" in text]
    assert own == []


@pytest.mark.parametrize(("metric", "value", "units", "expected"), [
    ("distance_km", 32.0, "km", "32 km"),
    ("distance_km", 32.18688, "mi", "20 mi"),
    ("run_distance_km", 18.0, "mi", "11.2 mi"),
    ("change_pct", 20.0, "km", "20%"),
    ("spike_pct", 12.5, "km", "12.5%"),
    ("acwr", 1.5, "km", "1.5"),
    ("monotony", 2.25, "km", "2.25"),
    ("duration_min", 90.0, "km", "1 h 30 min"),
    ("runs", 1.0, "km", "1 run"),
    ("runs", 3.0, "mi", "3 runs"),
    ("ascent_m", 400.0, "mi", "400 m"),
    ("distance_km", float("nan"), "km", fmt.MISSING),
])
def test_a_rule_threshold_has_one_wording(metric, value, units, expected):
    assert fmt.threshold(metric, value, units) == expected


def test_a_rule_threshold_reads_the_same_in_the_alert_its_facts_and_the_rule_list():
    from loadwatch.dashboard.app import ui
    from loadwatch.metrics import detector
    from loadwatch.metrics.rules import RuleHit

    hit = RuleHit(rule_id=4, metric="distance_km", scope="week", op=">", threshold=32.0, value=34.0,
                  date=dt.date(2025, 3, 3), activity_id=None, label="")
    [alert] = detector.personal_alerts([hit], units="mi")
    said = fmt.threshold("distance_km", 32.0, "mi")
    assert said == "19.9 mi" and f"above your rule of {said}." in alert.message
    assert ("your threshold", said) in fmt.alert_facts(alert.values, "mi")
    assert ui.rule_text({"metric": "distance_km", "op": ">", "threshold": 32.0}, "mi") == f"weekly distance > {said}"


@pytest.mark.parametrize(("text", "expected"), [
    # the plan's own personal-rule reasons carry a bare code before the colon: it reads as the rule's name
    ("personal:3: your rule keeps each run at or below 12 km", "your own rule 3: your rule keeps each run at or "
                                                                "below 12 km"),
    ("personal:3 (amber): week above 30 km", "your own rule 3 (caution): week above 30 km"),
    ("personal: your rule keeps the week at or below 25 km", "your own rule: your rule keeps the week at or below "
                                                             "25 km"),
    ("session_spike: 14 km after 10 km", "single-run spike: 14 km after 10 km"),
    ("cutback: about 50% of your week", "cutback: about 50% of your week"),  # not a rule code: kept
    ("green: no pain or spike alerts", "green: no pain or spike alerts"),
    ("Your own rule 7: already in words", "Your own rule 7: already in words"),
])
def test_a_plan_reason_has_one_wording(text, expected):
    assert fmt.reason(text) == expected


def test_no_face_rewords_a_reason_a_threshold_or_a_care_message():
    gone = ("reason_words", "threshold_text", "_rule_value_text", "red_flag_messages", "care_messages(",
            "_day_label", "timing.replace(")
    found = {(name, g) for name, text in _faces_source().items() for g in gone if g in text}
    assert found == set()


@pytest.mark.parametrize("symptoms", [
    ("saddle_numbness",), ("numbness_one_leg",), ("bladder_bowel", "weakness_leg"),
    ("both_legs", "saddle_numbness", "night_pain", "fever_unwell"), ("radiating_below_knee", "night_pain"), (),
])
def test_a_care_message_is_the_detectors_own(symptoms):
    """The pain form and ``pain add`` warn before an entry is saved with fmt.symptom_care: the very words the
    detector's red-flag alert says once the entry is in the log."""
    from loadwatch.metrics import detector

    day = dt.date(2025, 3, 10)
    one = pd.DataFrame({"id": [1], "at_local": [pd.Timestamp(day)], "score": [2], "timing": ["after"],
                        "location": ["lower_back"], "activity_id": [None], "symptoms": [symptoms], "note": [""],
                        "deleted": [False]})
    expected = [(a.severity, a.message) for a in detector.red_flags(one, day)]
    assert fmt.symptom_care(symptoms, day) == expected
    assert bool(expected) == bool(symptoms)
    for _severity, message in expected:
        assert message.startswith("You logged: ") and "Mon 10 Mar 2025" in message and "_" not in message


def test_a_care_message_names_both_days_when_they_differ():
    text = fmt.care_message(["weakness_leg"], dt.date(2025, 3, 1), dt.date(2025, 3, 4), emergency=False)
    assert text.startswith("You logged: weakness in a leg (e.g. foot slapping or dragging) (on Sat 1 Mar 2025, "
                           "latest Tue 4 Mar 2025). See a doctor")
    assert text.endswith(fmt.ASSESSED_HINT)


@pytest.mark.parametrize(("score", "band"), [(0, "green"), (3, "green"), (4, "amber"), (5, "amber"), (6, "red"),
                                             (10, "red"), (None, None), (float("nan"), None)])
def test_a_pain_band_has_one_banding(score, band):
    assert fmt.pain_band(score) == band


def test_the_faces_colour_pain_from_fmt_pain_band():
    from loadwatch.dashboard import charts

    assert [charts.pain_light(s) for s in (3, 4, 6)] == [charts.PAIN_LIGHT_COLORS[b] for b in ("green", "amber", "red")]
    # no face bands a score itself: the green and amber limits are read in fmt (and the metrics that walk them)
    banding = [name for name, text in _faces_source().items() if name.startswith("dashboard")
               and any(k in text for k in ("PAIN_GREEN_MAX", "PAIN_AMBER_MAX"))]
    assert banding == []


def test_counts_have_one_wording():
    assert [fmt.count_words(n) for n in (0, 1, 4, 11, 20, 21, 1000)] == ["none", "one", "four", "eleven", "twenty",
                                                                          "21", "1,000"]
    assert (fmt.count_words(1, "run"), fmt.count_words(2, "run"), fmt.count_words(9, "run")) == (
        "one run", "two runs", "nine runs")
    assert fmt.count_words(3, "entry", "entries") == "three entries"


def test_the_command_line_and_the_dashboard_say_a_rule_in_the_same_words(capsys):
    """One case across two faces: a mile runner's own rule reads "weekly distance > 19.9 mi" in
    ``loadwatch alerts list`` and on the dashboard's Alerts page (Streamlit AppTest)."""
    import os

    from streamlit.testing.v1 import AppTest

    from loadwatch.dashboard.cli.main import main
    from loadwatch.ingest.store import Store
    from tests.app_helpers import PAGES_DIR, no_exceptions, texts

    with Store(Path(os.environ["LOADWATCH_DB"])) as store:
        store.set_setting("units", "mi")
    assert main(["alerts", "add", "--metric", "distance_km", "--above", "32"]) == 0
    capsys.readouterr()
    assert main(["alerts", "list"]) == 0
    said = f"weekly distance > {fmt.threshold('distance_km', 32.0, 'mi')}"
    assert said == "weekly distance > 19.9 mi"
    cli = capsys.readouterr().out
    at = AppTest.from_file(str(PAGES_DIR / "alerts.py"), default_timeout=90).run()
    no_exceptions(at)
    assert said in cli and said in texts(at)
    assert " km" not in cli and "None" not in cli
