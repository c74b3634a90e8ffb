"""Whatever the history, a suggested rule keeps SCIENCE.md §14's promises (Hypothesis, bounded, derandomised)."""

from __future__ import annotations

import re
from collections import namedtuple
from datetime import datetime, timedelta

import numpy as np
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from loadwatch.ingest.settings import Settings
from loadwatch.metrics import thresholds as th
from loadwatch.metrics.suggest import metric_family, suggest, week_sets
from tests.test_suggest import FIRST, make_pain, make_weekly

Rule = namedtuple("Rule", "id metric threshold op scope enabled label", defaults=(">", "week", True, ""))

week_st = st.tuples(st.floats(5, 60, allow_nan=False), st.floats(0.2, 0.5), st.floats(0, 1), st.integers(0, 900),
                    st.integers(0, 90))
history_st = st.lists(week_st, min_size=8, max_size=26)
rule_st = st.lists(st.sampled_from(["distance_km", "surface_road_km", "surface_trail_km", "long_run_km",
                                    "run_distance_km", "ascent_m", "intensity_hard_min"]), max_size=2)


@settings(max_examples=60, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(history_st, st.data(), rule_st, st.sampled_from(["km", "mi"]))
def test_every_suggestion_keeps_the_promises(weeks, data, rule_metrics, units):
    n = len(weeks)
    weekly = make_weekly([{"week_start": FIRST + timedelta(days=7 * i), "distance_km": round(km, 1),
                           "long_run_km": round(km * lf, 1), "surface_road_km": round(km * road, 1),
                           "ascent_m": float(asc), "strength_min": float(strength), "runs": 3}
                          for i, (km, lf, road, asc, strength) in enumerate(weeks)])
    # flare-ups after the biggest weeks now and then, at random otherwise
    planted = data.draw(st.booleans())
    big = set(np.argsort([-w[0] for w in weeks])[: max(n // 4, 1)].tolist())
    flare_weeks = sorted({i + 1 for i in big if i + 1 < n} if planted else set(
        data.draw(st.lists(st.integers(1, n - 1), max_size=n // 3))))
    rows = [(datetime.combine(FIRST, datetime.min.time()).replace(hour=19), 1, "after")]
    for w in flare_weeks:
        day = FIRST + timedelta(days=7 * w + 2)
        rows.append((datetime.combine(day, datetime.min.time()).replace(hour=19), data.draw(st.integers(4, 9))))
    pain = make_pain(rows)
    as_of = FIRST + timedelta(days=7 * n - 1)
    rules = [Rule(i, m, 10.0, scope="run" if m.startswith("run_") else "week") for i, m in enumerate(rule_metrics)]
    out = suggest(weekly, pain, Settings(units=units), as_of, rules=rules)
    event(f"{'planted' if planted else 'random'}: {'a suggestion' if out else 'none'}")
    before, _pain_free, _ = week_sets(weekly, pain, as_of)
    taken = {metric_family(r.metric, r.scope) for r in rules}
    families = [metric_family(s.metric, s.scope) for s in out]
    assert len(families) == len(set(families))  # never two of one family
    assert not set(families) & taken  # never a near-copy of the runner's own rule
    assert len(out) <= th.SUGGEST_MAX
    for s in out:
        assert s.flare_ups_total >= th.SUGGEST_MIN_FLARE_UPS and len(before) >= th.SUGGEST_MIN_FLARE_UPS
        assert s.flare_ups_above >= th.SUGGEST_MIN_FLARE_UPS_ABOVE
        assert s.p_value < th.SUGGEST_MAX_P and s.permutations == th.SUGGEST_PERMUTATIONS
        # the counts are what the weeks say about the threshold
        col = weekly[s.metric].reindex(before).to_numpy(dtype=float)
        flagged = col < s.threshold if s.op == "<" else col > s.threshold
        assert s.op == ("<" if s.metric == "strength_min" else ">")  # strength work is never capped
        assert int(np.sum(flagged)) == s.flare_ups_above
        # a distance in the runner's unit ("12 mi"; not the "mi" of "5 min")
        assert bool(re.search(r"\d mi\b", s.text)) == (units == "mi" and s.metric.endswith("_km")), s.text
        assert not any(ch.isdigit() for ch in s.text.split(" came after")[0])  # counts in words
