"""Suggested personal rules: counts and thresholds worked out by hand."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import pytest

from ingest.settings import Settings
from metrics.suggest import best_threshold, human_threshold, suggest, week_sets, week_start_of
from tests.test_detector import FakeRule, make_pain, make_weekly

FIRST = date(2025, 1, 6)  # a Monday
#: 20 weeks of distance; flare-ups (pain 5) in the weeks after the weeks marked *.
WEEK_KM = [28, 30, 35.5, 20, 26, 31, 36, 18, 27, 29, 30, 34, 22, 25, 28, 31, 26, 33.5, 22, 27]
#            0   1   2*   3   4   5   6*  7   8   9  10  11*  12  13  14  15  16  17*  18  19
FLARE_AFTER = (2, 6, 11, 17)
AS_OF = FIRST + timedelta(days=7 * len(WEEK_KM) - 1)  # the last week is complete


def weekly_and_pain(flare_after=FLARE_AFTER, week_km=WEEK_KM):
    weekly = make_weekly([{"week_start": FIRST + timedelta(days=7 * i), "distance_km": float(km),
                           "long_run_km": km * 0.4, "runs": 3} for i, km in enumerate(week_km)])
    rows = [(datetime(2025, 1, 7, 19), 1, "after")]  # the runner logs from the first week
    for i in flare_after:
        day = FIRST + timedelta(days=7 * (i + 1) + 2)
        rows.append((datetime.combine(day, datetime.min.time()).replace(hour=19), 5, "after"))
    return weekly, make_pain(rows)


def test_week_start_of():
    assert week_start_of(date(2025, 3, 16)) == date(2025, 3, 10)
    assert week_start_of(date(2025, 3, 16), "sunday") == date(2025, 3, 16)
    assert week_start_of(date(2025, 3, 15), "sunday") == date(2025, 3, 9)


def test_week_sets_by_hand():
    weekly, pain = weekly_and_pain()
    before, pain_free, onsets = week_sets(weekly, pain, AS_OF)
    assert before == [FIRST + timedelta(days=7 * i) for i in FLARE_AFTER]
    assert onsets == [FIRST + timedelta(days=7 * (i + 1)) for i in FLARE_AFTER]
    # pain-free: not a flare week, not before one, and the following week is complete (so not week 19)
    excluded = set(FLARE_AFTER) | {i + 1 for i in FLARE_AFTER} | {19}
    assert pain_free == [FIRST + timedelta(days=7 * i) for i in range(20) if i not in excluded]
    assert len(pain_free) == 11


def test_best_threshold_youden():
    t, nxt, j = best_threshold(np.array([35.5, 36, 34, 33.5]), np.array([28, 30, 20, 31, 33, 18.0]))
    assert (t, nxt) == (33.0, 33.5) and j == pytest.approx(1.0)


def test_human_threshold_picks_a_round_number_in_the_gap():
    assert human_threshold(31.0, 33.5, "km") == 32.0
    assert human_threshold(30.2, 33.5, "km") == 32.0
    assert human_threshold(31.0, 40.0, "km") == 35.0
    assert human_threshold(31.0, 31.4, "km") == 31.0
    # miles: 31 km = 19.26 mi, 33.5 km = 20.82 mi -> 20 mi, stored in km
    assert human_threshold(31.0, 33.5, "km", "mi") == pytest.approx(32.187, abs=1e-3)
    assert human_threshold(40.0, 75.0, "%") == 60.0  # multiples of 10 in [40, 75), nearest 57.5


def test_suggests_the_distance_the_pain_follows():
    weekly, pain = weekly_and_pain()
    out = suggest(weekly, pain, Settings(), AS_OF)
    s = out[0]
    assert s.metric == "distance_km" and s.op == ">" and s.scope == "week"
    # before-weeks 35.5, 36, 34, 33.5; highest pain-free week 31 -> a round number in [31, 33.5)
    assert s.threshold == 32.0
    assert (s.flare_ups_above, s.flare_ups_total, s.pain_free_above, s.pain_free_total) == (4, 4, 0, 11)
    assert s.text == ("4 of your 4 flare-ups followed weeks with weekly distance above 32 km; "
                      "0 of 11 pain-free weeks were above it.")
    assert "personal evidence" in s.evidence
    d = s.to_dict()
    assert {"metric", "threshold", "op", "scope", "flare_ups_above", "flare_ups_total", "pain_free_above",
            "pain_free_total", "text"} <= set(d)


def test_suggestion_in_miles_text_keeps_km_threshold():
    weekly, pain = weekly_and_pain()
    s = suggest(weekly, pain, Settings(units="mi"), AS_OF)[0]
    assert s.threshold == pytest.approx(32.187, abs=1e-3)  # 20 mi
    assert "above 20 mi" in s.text


def test_no_suggestion_without_enough_history():
    weekly, pain = weekly_and_pain(flare_after=(2, 6))  # only 2 flare-ups
    assert suggest(weekly, pain, Settings(), AS_OF) == []
    weekly, pain = weekly_and_pain(week_km=WEEK_KM[:9], flare_after=(2, 6))
    assert suggest(weekly, pain, Settings(), FIRST + timedelta(days=62)) == []


def test_no_suggestion_when_pain_does_not_follow_the_numbers():
    weekly, pain = weekly_and_pain(flare_after=(3, 7, 12, 18))  # after the *lowest* weeks
    assert [s.metric for s in suggest(weekly, pain, Settings(), AS_OF)
            if s.metric == "distance_km"] == []


def test_existing_rule_on_the_metric_is_not_suggested_again():
    weekly, pain = weekly_and_pain()
    out = suggest(weekly, pain, Settings(), AS_OF, rules=[FakeRule(1, "distance_km", 40.0)])
    assert "distance_km" not in [s.metric for s in out]


def test_metrics_that_flag_the_same_weeks_are_suggested_once():
    weekly, pain = weekly_and_pain()
    weekly["surface_road_km"] = weekly["distance_km"]  # all on the road: the same weeks above any cut
    out = suggest(weekly, pain, Settings(), AS_OF)
    assert [s.metric for s in out].count("distance_km") == 1
    assert "surface_road_km" not in [s.metric for s in out]


def test_values_closer_than_the_gap_are_not_split():
    # 11.99 km (a GPS track) and 12.0 km (a watch) are the same long run
    assert best_threshold(np.array([12.0, 12.0, 19.2]), np.array([11.99, 10.0]), min_gap=0.5) == (
        10.0, 11.99, pytest.approx(0.5))
    assert best_threshold(np.array([12.0]), np.array([11.99]), min_gap=0.5) is None
