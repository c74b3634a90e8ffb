"""ACWR, monotony/strain, CTL/ATL/TSB and weekly change, against hand-worked numbers."""

import numpy as np
import pandas as pd
import pytest

from loadwatch.metrics.load import acwr, change_pct, ewma, fitness_fatigue, monotony, strain


def _series(values):
    return pd.Series(values, index=pd.date_range("2024-01-01", periods=len(values), freq="D"), dtype="float64")


def test_ewma_hand_worked():
    # lambda = 2 / (7 + 1) = 0.25: 10, 0.75 x 10 = 7.5, 0.75 x 7.5 = 5.625
    assert list(ewma(_series([10, 0, 0]), 7)) == pytest.approx([10, 7.5, 5.625])
    # chronic lambda = 2 / 29: 10 x 27 / 29 = 9.3103
    assert ewma(_series([10, 0]), 28).iloc[1] == pytest.approx(10 * 27 / 29)


def test_acwr_nan_before_28_days_not_one():
    loads = _series([5.0] * 40)
    ratio = acwr(loads)
    assert ratio.iloc[:27].isna().all()  # a constant load would read a misleading 1.0
    assert ratio.iloc[27] == pytest.approx(1.0)
    assert ratio.notna().iloc[27:].all()


def test_acwr_nan_when_chronic_is_zero():
    assert acwr(_series([0.0] * 30)).isna().all()


def test_monotony_hand_worked_and_caps():
    # 10, 0, 5, 0, 10, 0, 15: mean 5.7143, population SD 5.6243 -> 1.0160; strain 40 x 1.0160
    loads = _series([10, 0, 5, 0, 10, 0, 15])
    assert monotony(loads).iloc[-1] == pytest.approx(1.0160, abs=1e-4)
    assert strain(loads).iloc[-1] == pytest.approx(40.64, abs=1e-2)
    assert monotony(loads).iloc[:6].isna().all()  # fewer than 7 days
    # same load every day: SD 0 with load -> capped at 10; strain 35 x 10
    flat = _series([5.0] * 7)
    assert monotony(flat).iloc[-1] == 10.0
    assert strain(flat).iloc[-1] == pytest.approx(350.0)
    # no load: NaN, not 0 and not 10
    assert np.isnan(monotony(_series([0.0] * 7)).iloc[-1])
    # a near-flat week is capped too
    assert monotony(_series([10, 10, 10, 10, 10, 10, 9.9])).iloc[-1] == 10.0


def test_fitness_fatigue_hand_worked():
    # CTL_0 = 0 + (42 - 0) / 42 = 1; ATL_0 = 42 / 7 = 6; TSB_0 = CTL_-1 - ATL_-1 = 0
    # CTL_1 = 1 + (0 - 1) / 42 = 0.97619; ATL_1 = 6 - 6 / 7 = 5.14286; TSB_1 = 1 - 6 = -5
    ff = fitness_fatigue(_series([42.0, 0.0]))
    assert list(ff["ctl"]) == pytest.approx([1.0, 1 - 1 / 42])
    assert list(ff["atl"]) == pytest.approx([6.0, 6 - 6 / 7])
    assert list(ff["tsb"]) == pytest.approx([0.0, -5.0])


def test_change_pct():
    out = change_pct(pd.Series([0.0, 10.0, 12.0, 6.0]))
    assert np.isnan(out.iloc[0]) and np.isnan(out.iloc[1])  # no previous week / previous week 0
    assert list(out.iloc[2:]) == pytest.approx([20.0, -50.0])
