"""The physio report's PDF charts (``loadwatch.dashboard.report.pdf_charts``, issue 21): what they draw comes from the
report's weeks in the runner's units, a missing figure draws nothing (never a bar of 0), the phases are
clipped to the period and named in words, and the axis ticks are round numbers just above the data."""

from __future__ import annotations

import math
from datetime import date

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from loadwatch.dashboard.chart_colors import PHASE_COLORS, SURFACE_COLORS
from loadwatch.dashboard.report import pdf_charts
from loadwatch.metrics import fmt
from loadwatch.metrics.units import KM_PER_MI

START, END = date(2026, 5, 4), date(2026, 5, 24)
WEEKS = [
    {"week_start": "2026-05-04", "distance_km": 16.0, "surface_km": {"road": 10.0, "trail": 6.0},
     "long_run_km": 8.0, "spike_cap_km": 8.8},
    {"week_start": "2026-05-11", "distance_km": None, "surface_km": {}, "long_run_km": None, "spike_cap_km": 8.8},
    {"week_start": "2026-05-18", "distance_km": 5.0, "surface_km": {"road": 5.0}, "long_run_km": 5.0,
     "spike_cap_km": None},
]
PHASES = [{"start": "2026-03-01", "end": "2026-05-13", "phase": "normal", "step": None, "steps": None},
          {"start": "2026-05-14", "end": "2026-05-24", "phase": "return_to_run", "step": 1, "steps": 4}]


@pytest.mark.parametrize("units", ["km", "mi"])
def test_the_weekly_chart_is_in_the_runners_units_and_draws_nothing_for_a_missing_week(units):
    per = KM_PER_MI if units == "mi" else 1.0
    pain = pd.DataFrame({"at_local": pd.to_datetime(["2026-05-05 08:00", "2026-05-20 19:00"]), "score": [2, 7]})
    plot = pdf_charts.surface_pain_plot(WEEKS, pain, PHASES, units, START, END)
    assert plot.y_title == f"weekly running distance ({units})" and plot.pain_axis
    first, missing, last = plot.bars
    assert first[1] == [(pytest.approx(10.0 / per), SURFACE_COLORS["road"]),
                        (pytest.approx(6.0 / per), SURFACE_COLORS["trail"])]
    assert missing[1] == [] and last[1] == [(pytest.approx(5.0 / per), SURFACE_COLORS["road"])]
    assert [score for _, score in plot.pain] == [2.0, 7.0]
    # the phases clipped to the period (the normal phase began in March), the last one to the day after END
    assert plot.phases[0][0] == pd.Timestamp(START) and plot.phases[-1][1] == pd.Timestamp("2026-05-25")
    assert [c for *_, c in plot.phases] == [PHASE_COLORS["normal"], PHASE_COLORS["return_to_run"]]
    labels = [item.label for item in plot.legend]
    assert labels[:2] == [fmt.words("road", "surface"), fmt.words("trail", "surface")]
    assert "pain 0–3" in labels and "pain 6–10" in labels
    assert f"phase: {fmt.words('return_to_run', 'phase')}" in labels
    assert not any("_" in label for label in labels)


def test_the_longest_run_chart_draws_the_cap_only_where_it_is_known():
    plot = pdf_charts.longest_cap_plot(WEEKS, "mi", START, END)
    assert plot.y_title == "longest run (mi)" and not plot.pain_axis
    assert [len(parts) for _, parts in plot.bars] == [1, 0, 1]
    assert [(str(w.date()), round(v, 2)) for w, v in plot.caps] == [("2026-05-04", round(8.8 / KM_PER_MI, 2)),
                                                                     ("2026-05-11", round(8.8 / KM_PER_MI, 2))]
    assert [item.shape for item in plot.legend] == ["box", "dash"]


def test_a_period_without_pain_or_phases_has_no_pain_dots_and_no_ribbon():
    plot = pdf_charts.surface_pain_plot(WEEKS, None, None, "km", START, END)
    assert plot.pain == [] and plot.phases == []
    assert not any(item.label.startswith(("pain", "phase")) for item in plot.legend)


@given(st.floats(min_value=0.01, max_value=1e5, allow_nan=False), st.integers(min_value=2, max_value=5))
def test_property_the_axis_top_is_a_round_tick_just_above_the_data(value, ticks):
    top, step = pdf_charts.nice_top(value, ticks)
    assert top >= value * (1 - 1e-9) and top - step < value  # (up to floating-point rounding)
    mantissa = step / 10 ** math.floor(math.log10(step))
    assert any(math.isclose(mantissa, m) for m in (1, 2, 5, 10))
    assert round(top / step) <= 2 * ticks + 1


def test_an_axis_with_nothing_above_zero_still_runs_from_0_to_1():
    assert pdf_charts.nice_top(0.0, 4) == (1.0, 0.5)
