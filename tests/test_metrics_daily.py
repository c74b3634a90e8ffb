"""Local days, the calendar-complete daily series and the weekly table."""

import numpy as np
import pandas as pd
import pytest

from loadwatch.ingest.settings import Settings
from loadwatch.metrics.daily import daily_columns, daily_series, local_starts
from loadwatch.metrics.weekly import weekly_columns, weekly_table
from tests.test_metrics_helpers import activities, daily_runs, hist

LONDON = Settings(timezone="Europe/London")


def _week_of(acts, settings=LONDON, week_start="monday"):
    daily = daily_series(acts, None, settings)
    weekly = weekly_table(daily, week_start)
    return weekly[weekly["runs"] > 0].index


# --- local days across DST (Europe/London: BST starts 2024-03-31, ends 2024-10-27) ---------------------

def test_sunday_2330_in_bst_stays_on_sunday_without_device_offset():
    # 22:30 UTC on Sunday 31 March 2024 is 23:30 BST (clocks went forward at 01:00 UTC that morning)
    acts = activities([{"start_utc": "2024-03-31 22:30"}])
    local = local_starts(acts, "Europe/London")
    assert local.iloc[0] == pd.Timestamp("2024-03-31 23:30")
    assert list(_week_of(acts)) == [pd.Timestamp("2024-03-25")]


def test_after_midnight_bst_is_monday_next_week():
    # 23:30 UTC Sunday = 00:30 BST Monday 1 April: a naive UTC day would put it in the wrong week
    acts = activities([{"start_utc": "2024-03-31 23:30"}])
    assert list(_week_of(acts)) == [pd.Timestamp("2024-04-01")]


def test_sunday_2330_after_october_change_uses_gmt():
    # 27 Oct 2024: BST ended at 01:00 UTC, so 23:30 UTC is 23:30 GMT on Sunday (a fixed +1 h would say Monday)
    acts = activities([{"start_utc": "2024-10-27 23:30"}])
    assert local_starts(acts, "Europe/London").iloc[0] == pd.Timestamp("2024-10-27 23:30")
    assert list(_week_of(acts)) == [pd.Timestamp("2024-10-21")]


def test_device_offset_wins_over_zone():
    # same instant, but the watch recorded +1 h (runner abroad): local 00:30 Monday
    acts = activities([{"start_utc": "2024-10-27 23:30", "utc_offset_s": 3600.0}])
    assert local_starts(acts, "Europe/London").iloc[0] == pd.Timestamp("2024-10-28 00:30")
    assert list(_week_of(acts)) == [pd.Timestamp("2024-10-28")]


def test_sunday_week_start():
    # Sunday 2024-06-09 and Saturday 2024-06-15 share a Sunday-start week; Monday-start splits them
    acts = activities([{"start_utc": "2024-06-09 08:00", "km": 5}, {"start_utc": "2024-06-15 08:00", "km": 7}])
    daily = daily_series(acts, None, Settings(timezone="UTC"))
    sunday = weekly_table(daily, "sunday")
    assert list(sunday.index) == [pd.Timestamp("2024-06-09")]
    assert sunday["distance_km"].iloc[0] == 12
    monday = weekly_table(daily, "monday")
    assert list(monday.index) == [pd.Timestamp("2024-06-03"), pd.Timestamp("2024-06-10")]
    assert list(monday["distance_km"]) == [5, 7]
    with pytest.raises(ValueError, match="week_start"):
        weekly_table(daily, "tuesday")


# --- the daily series --------------------------------------------------------------------------------

def test_daily_is_calendar_complete_and_splits_cross_training():
    acts = activities([
        {"start_utc": "2024-05-01 07:00", "km": 8, "minutes": 48, "ascent_m": 40.0},
        {"start_utc": "2024-05-01 18:00", "km": 4, "minutes": 30, "sub_sport": "trail"},
        {"start_utc": "2024-05-03 07:00", "km": 30, "minutes": 60, "sport": "cycling", "sub_sport": None},
        {"start_utc": "2024-05-05 07:00", "km": 6, "minutes": 40, "sub_sport": "treadmill"},
    ])
    daily = daily_series(acts, None, Settings(timezone="UTC"))
    assert list(daily.columns) == daily_columns()
    assert list(daily.index) == list(pd.date_range("2024-05-01", "2024-05-05", freq="D"))
    assert daily.loc["2024-05-01", "distance_km"] == 12
    assert daily.loc["2024-05-01", "runs"] == 2
    assert daily.loc["2024-05-01", "long_run_km"] == 8
    assert daily.loc["2024-05-01", "surface_road_km"] == 8
    assert daily.loc["2024-05-01", "surface_trail_km"] == 4
    # the ride is cross-training, not load
    assert daily.loc["2024-05-03", "load"] == 0
    assert daily.loc["2024-05-03", "cross_training_min"] == 60
    # rest days are 0, not missing
    assert daily.loc["2024-05-02", "distance_km"] == 0
    assert daily.loc["2024-05-04", "runs"] == 0
    assert daily.loc["2024-05-05", "surface_treadmill_km"] == 6
    assert daily["load"].equals(daily["distance_km"])


def test_start_and_end_bound_the_series():
    acts = daily_runs("2024-01-01", [5, 5, 5, 5])
    daily = daily_series(acts, None, None, start="2023-12-30", end="2024-01-02")
    assert daily.index[0] == pd.Timestamp("2023-12-30") and daily.index[-1] == pd.Timestamp("2024-01-02")
    assert daily["distance_km"].sum() == 10  # runs on 3-4 Jan are after ``end``


def test_empty_activities():
    acts = activities([])
    assert daily_series(acts, None, None).empty
    daily = daily_series(acts, None, None, end="2024-01-10")
    assert len(daily) == 1 and daily["load"].iloc[0] == 0
    assert weekly_table(daily_series(acts, None, None)).empty


def test_trimp_and_srpe_nan_when_input_missing_never_zero():
    acts = activities([{"start_utc": "2024-01-01 08:00", "km": 5, "minutes": 30, "rpe": 4.0},
                       {"start_utc": "2024-01-03 08:00", "km": 5, "minutes": 30}])
    hh = hist({"a00000": {150: 1800}})
    daily = daily_series(acts, hh, Settings(timezone="UTC", hr_max=190, hr_rest=50))
    assert daily.loc["2024-01-01", "trimp"] > 0
    assert np.isnan(daily.loc["2024-01-03", "trimp"])  # a run without heart rate
    assert daily.loc["2024-01-02", "trimp"] == 0  # a rest day is a true 0
    assert daily.loc["2024-01-01", "srpe_au"] == 120  # RPE 4 x 30 min
    assert np.isnan(daily.loc["2024-01-03", "srpe_au"])
    assert daily.loc["2024-01-03", "intensity_unknown_min"] == 30


# --- the weekly table ---------------------------------------------------------------------------------

def test_weekly_columns_sums_and_last_day_values():
    # Monday 2024-01-01 .. Sunday 2024-01-14, then a partial week to Wednesday 2024-01-17
    kms = [10, 0, 5, 0, 10, 0, 15, 6, 6, 0, 6, 0, 12, 0, 8, 0, 4]
    acts = daily_runs("2024-01-01", kms)
    daily = daily_series(acts, None, Settings(timezone="UTC"))
    weekly = weekly_table(daily)
    assert list(weekly.columns) == weekly_columns()
    assert list(weekly.index) == [pd.Timestamp("2024-01-01"), pd.Timestamp("2024-01-08"), pd.Timestamp("2024-01-15")]
    assert list(weekly["distance_km"]) == [40, 30, 12]
    assert list(weekly["long_run_km"]) == [15, 12, 8]
    assert list(weekly["runs"]) == [4, 4, 2]
    assert list(weekly["partial_week"]) == [False, False, True]
    assert list(weekly["days"]) == [7, 7, 3]
    # change: 30 / 40 - 1 = -25 %; 12 / 30 - 1 = -60 % (partial week, flagged)
    assert np.isnan(weekly["change_pct"].iloc[0])
    assert weekly["change_pct"].iloc[1] == pytest.approx(-25.0)
    assert weekly["change_pct"].iloc[2] == pytest.approx(-60.0)
    # state values come from the week's last day
    assert weekly["ctl"].iloc[0] == daily.loc["2024-01-07", "ctl"]
    assert weekly["monotony"].iloc[2] == daily.loc["2024-01-17", "monotony"]
    # as_of cuts the table
    cut = weekly_table(daily, as_of="2024-01-10")
    assert list(cut["distance_km"]) == [40, 12]
    assert list(cut["partial_week"]) == [False, True]


def test_weekly_monotony_and_strain_hand_worked():
    # Week loads Mon..Sun = 10, 0, 5, 0, 10, 0, 15 km: total 40, mean 40/7 = 5.7143.
    # Population variance = sum(x^2)/7 - mean^2 = 450/7 - (40/7)^2 = 64.2857 - 32.6531 = 31.6327,
    # SD = 5.6243; monotony = 5.7143 / 5.6243 = 1.0160; strain = 40 x 1.0160 = 40.64.
    daily = daily_series(daily_runs("2024-01-01", [10, 0, 5, 0, 10, 0, 15]), None, Settings(timezone="UTC"))
    week = weekly_table(daily).iloc[0]
    assert week["monotony"] == pytest.approx(1.0160, abs=1e-4)
    assert week["strain"] == pytest.approx(40.64, abs=1e-2)


def test_weekly_change_nan_after_empty_week():
    acts = daily_runs("2024-01-01", [5] + [0] * 13 + [5])
    weekly = weekly_table(daily_series(acts, None, Settings(timezone="UTC")))
    assert list(weekly["distance_km"]) == [5, 0, 5]
    assert weekly["change_pct"].iloc[1] == pytest.approx(-100.0)
    assert np.isnan(weekly["change_pct"].iloc[2])  # previous week 0 -> no ratio


def test_weekly_dynamics_are_duration_weighted_and_nan_without_data():
    acts = activities([
        {"start_utc": "2024-01-01 08:00", "km": 5, "minutes": 30, "avg_cadence_spm": 160.0},
        {"start_utc": "2024-01-03 08:00", "km": 10, "minutes": 60, "avg_cadence_spm": 172.0},
        {"start_utc": "2024-01-05 08:00", "km": 5, "minutes": 30},  # no cadence: left out, not 0
        {"start_utc": "2024-01-09 08:00", "km": 5, "minutes": 30},
    ])
    weekly = weekly_table(daily_series(acts, None, Settings(timezone="UTC")))
    # (160 x 30 + 172 x 60) / 90 = 168
    assert weekly["cadence_spm"].iloc[0] == pytest.approx(168.0)
    assert np.isnan(weekly["cadence_spm"].iloc[1])
    assert np.isnan(weekly["stance_time_ms"].iloc[0])


def test_weekly_trimp_nan_when_no_run_has_heart_rate():
    acts = daily_runs("2024-01-01", [5, 0, 0, 0, 0, 0, 0, 5])
    hh = hist({"a00000": {150: 1800}})
    weekly = weekly_table(daily_series(acts, hh, Settings(timezone="UTC", hr_max=190, hr_rest=50)))
    assert weekly["trimp"].iloc[0] > 0
    assert np.isnan(weekly["trimp"].iloc[1])


def test_load_unit_choice():
    acts = activities([{"start_utc": "2024-01-01 08:00", "km": 5, "minutes": 30}])
    hh = hist({"a00000": {150: 1800}})
    s = Settings(timezone="UTC", hr_max=190, hr_rest=50)
    assert daily_series(acts, hh, s, load_unit="min")["load"].iloc[0] == 30
    by_trimp = daily_series(acts, hh, s, load_unit="trimp")
    assert by_trimp["load"].iloc[0] == by_trimp["trimp"].iloc[0] > 0
    assert by_trimp.attrs["load_unit"] == "trimp"
    with pytest.raises(ValueError, match="load_unit"):
        daily_series(acts, hh, s, load_unit="furlongs")
