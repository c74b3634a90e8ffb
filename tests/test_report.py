"""The report's JSON contract (docs/ARCHITECTURE.md)."""

import json

import numpy as np
import pandas as pd
import pytest

from loadwatch.ingest.settings import Settings
from loadwatch.metrics import advice
from loadwatch.metrics.episodes import PHASES
from loadwatch.metrics.report import build_report, to_jsonable
from loadwatch.metrics.thresholds import NOT_MEDICAL_ADVICE
from tests.test_metrics_helpers import activities, hist

WEEK_KEYS = {"week_start", "distance_km", "duration_min", "runs", "long_run_km", "surface_km", "intensity_min",
             "load", "acwr", "monotony", "strain", "change_pct"}


def _history(days=70, start="2024-01-01"):
    """A run every other day, 6-12 km, alternating road and trail, with heart rate on most."""
    rows = []
    for i in range(0, days, 2):
        rows.append({"start_utc": pd.Timestamp(start) + pd.Timedelta(days=i, hours=7), "km": 6 + (i % 7),
                     "sub_sport": "trail" if i % 4 else "street"})
    rows.append({"start_utc": pd.Timestamp(start) + pd.Timedelta(days=3, hours=12), "km": 20, "minutes": 60,
                 "sport": "cycling", "sub_sport": None})
    acts = activities(rows)
    hh = hist({aid: {140: 1800, 165: 600} for aid in acts["id"].iloc[::3]})
    return acts, hh


def _pain():
    return pd.DataFrame({"id": [1, 2], "at_local": pd.to_datetime(["2024-02-01 20:00", "2024-03-20 08:00"]),
                         "score": [2, 7], "timing": ["after", "after"], "location": ["lower_back"] * 2,
                         "activity_id": [None, None], "symptoms": [(), ()], "note": ["", ""],
                         "deleted": [False, False]})


def test_contract_keys_and_json_serialisable():
    acts, hh = _history()
    report = build_report(acts, hh, _pain(), [], Settings(timezone="UTC"), as_of="2024-03-05", weeks=4)
    for key in ("as_of", "weeks", "alerts", "plan", "suggested_rules", "units", "disclaimer", "hr_max_bpm",
                "hr_max_estimated", "load_unit", "acwr_caveat", "phases", "assessments"):
        assert key in report
    for key in ("phase", "phase_since", "step", "steps", "next_step", "check_in"):
        assert key in report["plan"]
    assert report["plan"]["phase"] in PHASES and report["assessments"] == []
    assert report["phases"] and {"start", "end", "phase", "step", "steps", "reason"} <= set(report["phases"][0])
    assert report["phases"][-1]["end"] == "2024-03-05"
    assert report["as_of"] == "2024-03-05"
    assert report["disclaimer"] == NOT_MEDICAL_ADVICE
    text = json.dumps(report, allow_nan=False)  # NaN must already be null
    assert json.loads(text) == report
    assert len(report["weeks"]) == 4
    for week in report["weeks"]:
        assert WEEK_KEYS <= set(week)
        assert set(week["surface_km"]) == {"road", "trail", "track", "treadmill", "unknown"}
        assert {"easy", "moderate", "hard", "unknown"} <= set(week["intensity_min"])
        for key in ("trimp", "ctl", "atl", "tsb", "cross_training_min", "ascent_m", "cadence_spm"):
            assert key in week
    starts = [w["week_start"] for w in report["weeks"]]
    assert starts == sorted(starts) and starts[-1] == "2024-03-04"  # oldest first, ends with as_of's week
    assert report["weeks"][-1]["partial_week"] is True


def test_as_of_reproduces_the_past():
    acts, hh = _history(days=70)
    past = acts[acts["start_utc"] < pd.Timestamp("2024-01-22", tz="UTC")]
    assert len(past) < len(acts)
    early = build_report(past, hh, None, [], Settings(timezone="UTC"), as_of="2024-01-21")
    full = build_report(acts, hh, None, [], Settings(timezone="UTC"), as_of="2024-01-21")
    early.pop("plan"), full.pop("plan")
    assert early["weeks"] == full["weeks"]  # later runs do not leak into the past
    assert full["weeks"][-1]["week_start"] == "2024-01-15"


def test_weeks_before_first_activity_not_listed_and_weeks_argument():
    acts, hh = _history(days=20)
    report = build_report(acts, hh, None, [], Settings(timezone="UTC"), as_of="2024-01-20", weeks=12)
    assert [w["week_start"] for w in report["weeks"]] == ["2024-01-01", "2024-01-08", "2024-01-15"]
    assert len(build_report(acts, hh, None, [], None, as_of="2024-01-20", weeks=1)["weeks"]) == 1
    with pytest.raises(ValueError, match="weeks"):
        build_report(acts, hh, None, [], None, as_of="2024-01-20", weeks=0)


def test_nan_becomes_null_and_acwr_null_early():
    acts, hh = _history(days=14)
    report = build_report(acts, hh, None, [], Settings(timezone="UTC"), as_of="2024-01-14", weeks=2)
    first = report["weeks"][0]
    assert first["acwr"] is None and first["change_pct"] is None
    assert report["weeks"][1]["acwr"] is None  # 14 days < 28 days of history


def test_units_are_display_only_and_hr_max_label():
    acts, hh = _history()
    km = build_report(acts, hh, None, [], Settings(timezone="UTC"), as_of="2024-03-05")
    mi = build_report(acts, hh, None, [], Settings(timezone="UTC", units="mi"), as_of="2024-03-05")
    assert mi["units"] == "mi" and km["units"] == "km"
    assert mi["weeks"] == km["weeks"]  # JSON always metric
    assert km["hr_max_estimated"] is True and km["hr_max_bpm"] == 165
    given = build_report(acts, hh, None, [], Settings(timezone="UTC", hr_max=190.0, hr_rest=50.0, sex="female"),
                         as_of="2024-03-05")
    assert given["hr_max_estimated"] is False and given["hr_max_bpm"] == 190
    assert given["weeks"][-2]["trimp"] != km["weeks"][-2]["trimp"]  # hr settings change the numbers


def test_week_start_setting_changes_weeks():
    acts, hh = _history()
    report = build_report(acts, hh, None, [], Settings(timezone="UTC", week_start="sunday"), as_of="2024-03-05")
    assert report["weeks"][-1]["week_start"] == "2024-03-03"  # a Sunday


def test_advise_called_with_keywords_and_result_included(monkeypatch):
    seen = {}

    def fake_advise(**kwargs):
        seen.update(kwargs)
        return {"alerts": [{"rule": "x", "severity": "amber", "date": "2024-03-05", "message": "m",
                            "evidence": "e", "values": {"a": float("nan")}}],
                "plan": {"status": "hold", "max_week_km": 20.0}, "suggested_rules": []}

    monkeypatch.setattr(advice, "advise", fake_advise)
    acts, hh = _history()
    report = build_report(acts, hh, _pain(), ["rule"], Settings(timezone="UTC"), as_of="2024-03-05")
    assert set(seen) == {"runs", "weekly", "daily", "pain", "rules", "settings", "as_of", "assessments",
                         "programme", "substantial_weeks"}
    assert seen["as_of"] == pd.Timestamp("2024-03-05")
    assert seen["daily"].index[-1] == pd.Timestamp("2024-03-05")
    assert seen["runs"]["date"].max() <= pd.Timestamp("2024-03-05")
    assert len(seen["pain"]) == 1  # the entry after as_of is left out
    assert seen["rules"] == ["rule"]
    assert report["alerts"][0]["values"]["a"] is None
    assert report["plan"]["max_week_km"] == 20.0


def test_empty_store_report():
    report = build_report(activities([]), None, None, [], None, as_of="2024-03-05")
    assert report["latest_run"] is None
    assert len(report["weeks"]) == 1 and report["weeks"][0]["distance_km"] == 0
    json.dumps(report, allow_nan=False)


def test_to_jsonable():
    out = to_jsonable({"a": np.float64("nan"), "b": np.int64(3), "c": pd.Timestamp("2024-01-01"),
                       "d": (1.5, pd.NaT), "e": np.bool_(True), "f": float("inf")})
    assert out == {"a": None, "b": 3, "c": "2024-01-01", "d": [1.5, None], "e": True, "f": None}
