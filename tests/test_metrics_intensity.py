"""Heart-rate zones, HR_max estimate and Banister TRIMP."""

import math

import numpy as np
import pandas as pd
import pytest

from loadwatch.ingest.canonical import hr_histogram, make_samples
from loadwatch.metrics.intensity import estimate_hr_max, heart_rate_params, run_intensity, trimp, zone_minutes
from loadwatch.metrics.thresholds import HR_REST_DEFAULT_BPM, TRIMP_COEFFICIENTS
from tests.test_metrics_helpers import hist


def test_trimp_hand_worked():
    # 30 min at 120 bpm with HR_rest 60, HR_max 180: HRr = 0.5; men a = 0.64, b = 1.92
    # TRIMP = 30 x 0.5 x 0.64 x exp(0.96) = 9.6 x 2.611696 = 25.0723
    out = trimp(hist({"r": {120: 1800}}), 180, 60, "male")
    assert out["r"] == pytest.approx(25.0723, abs=1e-4)
    # women a = 0.86, b = 1.67: 30 x 0.5 x 0.86 x exp(0.835) = 12.9 x 2.304 = 29.73
    assert trimp(hist({"r": {120: 1800}}), 180, 60, "female")["r"] == pytest.approx(
        30 * 0.5 * 0.86 * math.exp(1.67 * 0.5))


def test_trimp_from_histogram_equals_direct_per_sample_sum():
    rng = np.random.default_rng(3)
    n = 3600
    hr = np.rint(130 + 25 * np.sin(np.arange(n) / 300) + rng.normal(0, 3, n))
    # integer nanoseconds, as the readers pass them (canonical.sample_intervals_s assumes ns resolution)
    t_ns = (pd.Timestamp("2024-01-01", tz="UTC").value + np.arange(n) * 1_000_000_000).astype("int64")
    samples = make_samples(pd.to_datetime(t_ns, utc=True), {"heart_rate_bpm": hr})
    hh = pd.DataFrame([hr_histogram(samples)], index=["run"])
    hr_max, hr_rest = 185.0, 55.0
    a, b = TRIMP_COEFFICIENTS["unspecified"]
    dt_min = np.diff(np.arange(n), append=n - 1) / 60.0  # 1 s per sample, the last sample 0 s
    hrr = np.clip((hr - hr_rest) / (hr_max - hr_rest), 0, 1)
    direct = float(np.sum(dt_min * hrr * a * np.exp(b * hrr)))
    assert trimp(hh, hr_max, hr_rest, "unspecified")["run"] == pytest.approx(direct, rel=1e-12)


def test_trimp_nan_without_heart_rate_and_bad_sex():
    out = trimp(hist({"r": {120: 600}}), 180, 60, ids=["r", "no_hr"])
    assert out["r"] > 0 and np.isnan(out["no_hr"])
    assert trimp(None, 180, 60, ids=["x"]).isna().all()
    with pytest.raises(ValueError, match="sex"):
        trimp(hist({"r": {120: 600}}), 180, 60, "other")


def test_zone_minutes_edwards():
    # HR_max 200: 90 bpm = 45 % very easy; 110 = 55 % Z1 easy; 130 = 65 % Z2 easy; 150 = 75 % Z3
    # moderate; 170 = 85 % Z4 hard; 190 = 95 % Z5 hard; 100 = exactly 50 % -> Z1 (lower bound inclusive)
    hh = hist({"r": {90: 300, 110: 600, 130: 600, 150: 600, 170: 600, 190: 300, 100: 60}})
    z = zone_minutes(hh, 200).loc["r"]
    assert z["intensity_very_easy_min"] == 5
    assert z["intensity_easy_min"] == 21
    assert z["intensity_moderate_min"] == 10
    assert z["intensity_hard_min"] == 15


def test_run_without_heart_rate_is_unknown_not_easy():
    durations = pd.Series([40.0, 30.0], index=["hr", "nohr"])
    out = run_intensity(durations, hist({"hr": {110: 2400}}), 200)
    assert out.loc["hr", "intensity_easy_min"] == 40 and out.loc["hr", "intensity_unknown_min"] == 0
    assert out.loc["nohr", "intensity_unknown_min"] == 30
    assert out.loc["nohr", ["intensity_very_easy_min", "intensity_easy_min", "intensity_moderate_min",
                            "intensity_hard_min"]].sum() == 0


def test_hr_max_estimate_ignores_strap_spikes():
    hh = hist({"a": {150: 1000, 165: 200}, "b": {230: 2}})  # 2 s of 230 bpm: a loose strap
    bpm, estimated = estimate_hr_max(hh)
    assert (bpm, estimated) == (165.0, True)
    assert estimate_hr_max(hh, hr_max_bpm=190.0) == (190.0, False)
    assert estimate_hr_max(hh, ["b"]) == (230.0, True)  # restricted to those runs
    bpm, estimated = estimate_hr_max(None)
    assert np.isnan(bpm) and estimated


def test_heart_rate_params_from_settings_or_estimated():
    from loadwatch.ingest.settings import Settings

    hh = hist({"a": {160: 1000}})
    p = heart_rate_params(hh, Settings())
    assert (p.hr_max_bpm, p.hr_max_estimated, p.hr_rest_bpm, p.hr_rest_estimated) == (
        160.0, True, HR_REST_DEFAULT_BPM, True)
    p = heart_rate_params(hh, Settings(hr_max=192.0, hr_rest=48.0))
    assert (p.hr_max_bpm, p.hr_max_estimated, p.hr_rest_bpm, p.hr_rest_estimated) == (192.0, False, 48.0, False)
