"""The one formatting module: every face says numbers, dates, codes and missing values the same way."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest

from ingest.painlog import LOCATIONS, SYMPTOMS, TIMINGS
from metrics import fmt


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
    from metrics import fmt

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

    from metrics import fmt

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

