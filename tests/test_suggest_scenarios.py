"""Suggested rules through the real command line (SCIENCE.md §14): generated FIT files imported with
``loadwatch import``, pain logged with ``loadwatch pain add``, suggestions read with ``loadwatch alerts
suggest`` (JSON and text) and accepted with ``--accept``."""

from __future__ import annotations

import json
from datetime import date, timedelta

import numpy as np
import pytest

from tests.scenario_helpers import Runner

MONDAY = date(2025, 1, 6)


def history(r: Runner, week_km: list[float], flare_after: list[int]) -> date:
    """Three runs a week (Tue, Thu, Sun long) totalling ``week_km[w]``; pain 5/10 after the Tuesday run of
    the week after each week in ``flare_after``; 1/10 after the first run.  Returns the last day."""
    runs = []
    for w, km in enumerate(week_km):
        m = MONDAY + timedelta(days=7 * w)
        long_km = round(km * 0.4, 1)
        easy = round((km - long_km) / 2, 1)
        runs += [(m + timedelta(days=1), easy), (m + timedelta(days=3), easy), (m + timedelta(days=6), long_km)]
    r.run(runs)
    r.pain(MONDAY + timedelta(days=1), 1, "after")
    for w in flare_after:
        r.pain(MONDAY + timedelta(days=7 * (w + 1) + 1), 5, "after")
    return MONDAY + timedelta(days=7 * len(week_km) - 1)


def suggestions(r: Runner, as_of: date) -> list[dict]:
    return json.loads(r.cli("alerts", "suggest", "--json", "--as-of", as_of.isoformat()))


@pytest.mark.slow
def test_the_planted_threshold_is_found_and_accepting_it_leaves_no_near_copy(tmp_path):
    rng = np.random.default_rng(5)
    week_km = list(rng.uniform(22, 31, 22).round(1))
    flare_after = [2, 6, 10, 14, 18]
    for w in flare_after:
        week_km[w] = round(float(rng.uniform(37, 42)), 1)
    r = Runner(tmp_path / "planted")
    end = history(r, week_km, flare_after)
    out = suggestions(r, end)
    assert out, "the planted pattern was not found"
    s = out[0]
    assert s["metric"] in ("distance_km", "surface_road_km", "long_run_km"), out
    if s["metric"] == "distance_km":
        assert 31 <= s["threshold"] <= 37, s
    assert s["flare_ups_above"] == 5 and s["flare_ups_total"] == 5
    assert s["p_value"] < 0.05 and s["permutations"] == 1000
    assert "Five of your five flare-ups came after weeks with" in s["text"]
    # one suggestion per family: weekly distance and road distance (all runs are on the road) are one
    families = [x["metric"] for x in out if x["metric"] in ("distance_km", "surface_road_km")]
    assert len(families) == 1, out

    text = r.cli("alerts", "suggest", "--as-of", end.isoformat())
    assert "Five of your five flare-ups" in text and "accept with: loadwatch alerts suggest --accept 1" in text
    r.cli("alerts", "suggest", "--accept", "1", "--as-of", end.isoformat())
    rules = json.loads(r.cli("alerts", "list", "--json"))
    assert [(x["metric"], x["origin"]) for x in rules] == [(s["metric"], "suggested")]
    again = suggestions(r, end)
    near = {"distance_km", "surface_road_km", "surface_trail_km"} if s["metric"] != "long_run_km" else {"long_run_km"}
    assert not [x for x in again if x["metric"] in near], again


def test_the_same_history_in_miles_says_miles(tmp_path):
    week_km = [25.0, 27.0, 40.0, 24.0, 26.0, 28.0, 39.0, 23.0, 27.0, 29.0, 41.0, 25.0, 24.0, 28.0, 38.0, 26.0,
               27.0, 25.0]
    r = Runner(tmp_path / "miles", units="mi")
    end = history(r, week_km, [2, 6, 10, 14])
    out = suggestions(r, end)
    assert out and out[0]["metric"] == "distance_km"
    text = r.cli("alerts", "suggest", "--as-of", end.isoformat())
    assert " mi" in text and " km" not in text, text


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.slow
def test_no_suggestion_from_a_random_history(tmp_path, seed):
    rng = np.random.default_rng(seed)
    week_km = list(np.clip(28 + np.cumsum(rng.normal(0, 3, 24)), 10, 50).round(1))
    flare_after = sorted(int(w) for w in rng.choice(np.arange(1, 22, 2), size=5, replace=False))
    r = Runner(tmp_path / f"random{seed}")
    end = history(r, week_km, flare_after)
    assert suggestions(r, end) == []
    assert "no suggestions" in r.cli("alerts", "suggest", "--as-of", end.isoformat())
