"""The single-session spike table (Frandsen 2025)."""

import numpy as np
import pandas as pd
import pytest

from loadwatch.ingest.settings import Settings
from loadwatch.metrics.spike import RUN_COLUMNS, run_table
from tests.test_metrics_helpers import activities, hist


def _two_runs(first_km, second_km, days_between=10):
    return activities([{"start_utc": "2024-03-01 08:00", "km": first_km},
                       {"start_utc": pd.Timestamp("2024-03-01 08:00") + pd.Timedelta(days=days_between),
                        "km": second_km}])


def test_columns_and_index():
    runs = run_table(_two_runs(10, 12), "UTC")
    assert list(runs.columns) == list(RUN_COLUMNS)
    assert list(runs.index) == ["a00000", "a00001"]
    assert runs.index.name == "id"


def test_small_spike_hand_worked():
    # 12 km after a 30-day longest of 10 km: (12 / 10 - 1) x 100 = 20 % -> "small", HR 1.64 (1.31-2.05)
    row = run_table(_two_runs(10, 12), "UTC").iloc[1]
    assert row["longest_30d_km"] == 10
    assert row["spike_pct"] == pytest.approx(20.0)
    assert row["spike_category"] == "small"
    assert row["spike_hazard_ratio"] == 1.64
    assert (row["spike_ci_low"], row["spike_ci_high"]) == (1.31, 2.05)
    assert row["safe_longest_km"] == pytest.approx(11.0)  # 1.10 x 10 km


@pytest.mark.parametrize(("km", "category", "hazard"), [
    (11.0, "none", 1.0),  # exactly +10 % is not a spike (categories are (lower, upper])
    (9.0, "none", 1.0),
    (13.0, "small", 1.64),  # +30 %
    (15.0, "moderate", 1.52),
    (20.0, "moderate", 1.52),  # +100 %
    (21.0, "large", 2.28),
])
def test_categories(km, category, hazard):
    row = run_table(_two_runs(10, km), "UTC").iloc[1]
    assert row["spike_category"] == category
    assert row["spike_hazard_ratio"] == hazard


def test_no_history_is_nan_and_none():
    runs = run_table(_two_runs(10, 12, days_between=31), "UTC")
    for _id, row in runs.iterrows():
        assert np.isnan(row["longest_30d_km"]) and np.isnan(row["spike_pct"])
        assert row["spike_category"] is None
        assert np.isnan(row["spike_hazard_ratio"]) and np.isnan(row["safe_longest_km"])


def test_window_excludes_the_run_and_older_runs_and_other_sports():
    acts = activities([
        {"start_utc": "2024-01-01 08:00", "km": 30},  # 40 days before the last run: outside the window
        {"start_utc": "2024-01-20 08:00", "km": 40, "sport": "cycling"},  # not a run
        {"start_utc": "2024-02-01 08:00", "km": 8},
        {"start_utc": "2024-02-05 08:00", "km": 6},
        {"start_utc": "2024-02-10 08:00", "km": 10},
    ])
    runs = run_table(acts, "UTC")
    assert len(runs) == 4  # the ride is not in the run table
    last = runs.iloc[-1]
    assert last["longest_30d_km"] == 8  # max(8, 6), not the 30 km from January, not the run itself
    assert last["spike_pct"] == pytest.approx(25.0)
    assert runs.loc["a00003", "longest_30d_km"] == 8  # 30 km on 1 Jan is 35 days back


def test_two_runs_same_day_second_sees_first():
    acts = activities([{"start_utc": "2024-03-01 07:00", "km": 5}, {"start_utc": "2024-03-01 18:00", "km": 8}])
    runs = run_table(acts, "UTC")
    assert np.isnan(runs["spike_pct"].iloc[0])
    assert runs["spike_pct"].iloc[1] == pytest.approx(60.0)


def test_local_times_and_trimp():
    acts = activities([{"start_utc": "2024-07-01 22:30", "km": 5}, {"start_utc": "2024-07-03 06:00", "km": 5}])
    runs = run_table(acts, "Europe/London", hist({"a00000": {150: 600}}),
                     Settings(hr_max=190, hr_rest=50, sex="male"))
    assert runs["start_local"].iloc[0] == pd.Timestamp("2024-07-01 23:30")
    assert runs["date"].iloc[0] == pd.Timestamp("2024-07-01")
    assert runs["trimp"].iloc[0] > 0 and np.isnan(runs["trimp"].iloc[1])
    assert run_table(acts, "UTC")["trimp"].isna().all()  # no histograms given


def test_five_years_is_fast():
    import time

    n = 5 * 365
    acts = activities([{"start_utc": pd.Timestamp("2019-01-01 07:00") + pd.Timedelta(days=i),
                        "km": 5 + (i % 7)} for i in range(n)])
    t0 = time.perf_counter()
    runs = run_table(acts, "Europe/London")
    assert time.perf_counter() - t0 < 0.5
    assert len(runs) == n
