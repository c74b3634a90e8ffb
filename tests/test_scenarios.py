"""Whole histories end to end: generated watch files -> the real importer -> the store -> the report.

Each scenario writes FIT files with ``loadwatch.ingest.synth``, imports them through ``loadwatch.ingest.importer`` into a
fresh store, logs pain through the store, and reads the alerts, plan and suggestions from
``loadwatch.metrics.report.build_report`` - the same path ``loadwatch report --json`` takes.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from loadwatch.ingest.importer import import_files
from loadwatch.ingest.painlog import PainEntry
from loadwatch.ingest.store import Store
from loadwatch.ingest.synth import SynthRun, fit_bytes
from loadwatch.metrics.report import build_report

MONDAY = date(2025, 1, 6)


def _run_file(day: date, km: float, seed: int, sub_sport: str = "street") -> tuple[str, bytes]:
    start = datetime(day.year, day.month, day.day, 7, 0, tzinfo=UTC)
    run = SynthRun(start_utc=start, duration_s=int(km * 330), distance_m=km * 1000, sub_sport=sub_sport,
                   heart_rate_bpm=135.0, seed=seed)
    return f"run-{day.isoformat()}-{seed}.fit", fit_bytes(run)


def import_runs(store: Store, runs: list[tuple[date, float]]) -> None:
    files = [_run_file(day, km, seed) for seed, (day, km) in enumerate(runs)]
    outcomes = import_files(store, files, workers=0)
    assert [o.status for o in outcomes] == ["imported"] * len(files), [o.reason for o in outcomes]


def week_of_runs(monday: date, easy_km: float, long_km: float) -> list[tuple[date, float]]:
    """Tuesday and Thursday easy runs, a Sunday long run."""
    return [(monday + timedelta(days=1), easy_km), (monday + timedelta(days=3), easy_km),
            (monday + timedelta(days=6), long_km)]


def steady(weeks: int, easy_km: float = 8.0, long_km: float = 12.0) -> list[tuple[date, float]]:
    runs = []
    for w in range(weeks):
        runs += week_of_runs(MONDAY + timedelta(days=7 * w), easy_km, long_km)
    return runs


def report(store: Store, as_of: date) -> dict:
    return build_report(store.activities(), store.hr_histograms(), store.pain(), store.rules(), store.settings(),
                        as_of=as_of)


def test_long_run_spike_after_steady_weeks(store):
    runs = steady(6)  # 28 km weeks, long run 12 km every Sunday
    spike_day = MONDAY + timedelta(days=7 * 6 + 5)  # Saturday of week 7
    runs += [(MONDAY + timedelta(days=7 * 6 + 1), 8.0), (spike_day, 19.2)]  # +60% on 12 km
    import_runs(store, runs)
    rep = report(store, spike_day)
    spikes = [a for a in rep["alerts"] if a["rule"] == "session_spike"]
    assert len(spikes) == 1
    v = spikes[0]["values"]
    assert v["distance_km"] == pytest.approx(19.2, abs=0.01)
    assert v["longest_30d_km"] == pytest.approx(12.0, abs=0.01)
    assert v["spike_pct"] == pytest.approx(60.0, abs=0.2)
    assert v["category"] == "moderate" and v["hazard_ratio"] == 1.52
    assert spikes[0]["severity"] == "amber" and "strong evidence" in spikes[0]["evidence"]
    plan = rep["plan"]
    assert plan["status"] == "amber"
    assert plan["max_run_km"] == 13.0  # 110% of the 30-day longest (13.2) rounded down for humans
    assert plan["max_week_km"] == 28.0  # the 4-week average week
    assert any(r.startswith("Single-run spike") for r in plan["reasons"])


def test_steady_training_without_pain_raises_no_warning(store):
    import_runs(store, steady(8))
    rep = report(store, MONDAY + timedelta(days=7 * 8 - 1))
    assert [a for a in rep["alerts"] if a["alarm"]] == []
    assert rep["plan"]["status"] == "green"
    assert rep["plan"]["max_run_km"] == 13.0  # safe longest run: 1.10 x 12
    assert rep["plan"]["max_week_km"] == 30.0  # 1.10 x 28 = 30.8, rounded down
    assert rep["suggested_rules"] == []


def test_pain_six_during_a_run_stops_running_without_any_running_number(store):
    """Issue 11: "stop running" and "next week <= 14 km" in one breath was the dangerous old plan."""
    runs = steady(5)
    run_day = MONDAY + timedelta(days=7 * 5 + 1)
    runs.append((run_day, 8.0))
    import_runs(store, runs)
    acts = store.activities()
    run_id = acts.loc[acts["start_utc"].dt.date == run_day, "id"].iloc[0]
    store.add_pain(PainEntry(at_local=datetime(run_day.year, run_day.month, run_day.day, 7, 30), score=6,
                             timing="during", activity_id=run_id))
    rep = report(store, run_day)
    red = [a for a in rep["alerts"] if a["rule"] == "pain_during_run"]
    assert len(red) == 1 and red[0]["severity"] == "red" and red[0]["activity_id"] == run_id
    assert red[0]["values"]["score"] == 6
    plan = rep["plan"]
    assert plan["status"] == "red" and plan["phase"] == "stop" and plan["phase_since"] == run_day.isoformat()
    assert plan["max_week_km"] is None and plan["max_run_km"] is None
    assert plan["max_week_display"] is None and plan["max_run_display"] is None
    assert plan["stop_running"] is True and "cycling" in plan["cross_training"]
    assert plan["cross_training_min"] > 0 and "strength" in plan["strength"]
    assert plan["message"].startswith("Stop running for now")
    assert "two check-ins" in plan["next_step"]
    # the same the next days with nothing logged: no time-out, and the runner is asked how the back feels
    later = report(store, run_day + timedelta(days=16))["plan"]
    assert later["phase"] == "stop" and later["max_week_km"] is None
    assert later["check_in"].startswith("How does your back feel today?")


def test_saddle_numbness_is_an_emergency_without_training_numbers(store):
    runs = steady(4)
    runs.append((MONDAY + timedelta(days=7 * 4 + 5), 19.2))  # a spike too: red flags replace it
    import_runs(store, runs)
    day = MONDAY + timedelta(days=7 * 4 + 6)
    store.add_pain(PainEntry(at_local=datetime(day.year, day.month, day.day, 9), score=3, timing="rest_of_day",
                             symptoms=("saddle_numbness",)))
    rep = report(store, day)
    assert [a["rule"] for a in rep["alerts"]] == ["red_flag_emergency"]
    plan = rep["plan"]
    assert plan["status"] == "emergency"
    assert plan["max_week_km"] is None and plan["max_run_km"] is None and plan["runs"] is None
    assert plan["max_week_display"] is None and plan["max_run_display"] is None
    assert "seek urgent medical care now (a&e / emergency services)" in plan["care_message"].lower()
    assert rep["suggested_rules"] == []
    assert rep["disclaimer"]


def test_pain_that_follows_big_weeks_gives_a_suggested_rule_near_that_distance(store):
    # 16 weeks; the weeks marked big are 38-40 km, the others 24-32 km; pain 5 two days after each big week
    week_km = [24, 28, 39, 26, 30, 24, 38, 28, 32, 26, 40, 24, 30, 38, 26, 28]
    big = [i for i, km in enumerate(week_km) if km > 35]
    runs = []
    for w, km in enumerate(week_km):
        long_km = 12.0 if km < 35 else 13.0
        runs += week_of_runs(MONDAY + timedelta(days=7 * w), (km - long_km) / 2, long_km)
    import_runs(store, runs)
    store.add_pain(PainEntry(at_local=datetime(2025, 1, 7, 19), score=1, timing="after"))  # logging from week 0
    for w in big:
        day = MONDAY + timedelta(days=7 * (w + 1) + 1)
        store.add_pain(PainEntry(at_local=datetime(day.year, day.month, day.day, 19), score=5, timing="after"))
    rep = report(store, MONDAY + timedelta(days=7 * len(week_km) - 1))
    sug = [s for s in rep["suggested_rules"] if s["metric"] == "distance_km"]
    assert len(sug) == 1
    s = sug[0]
    assert 32.0 <= s["threshold"] < 38.0  # between the biggest pain-free week and the smallest big week
    assert s["threshold"] == 35.0  # the round number nearest the middle of that gap
    assert (s["flare_ups_above"], s["flare_ups_total"]) == (4, 4)
    assert s["pain_free_above"] == 0 and s["pain_free_total"] >= 6
    # the counts in words (SCIENCE.md section 14; the wording belongs to metrics.suggest)
    assert "Four of your four flare-ups came after weeks with weekly distance above 35 km" in s["text"]
