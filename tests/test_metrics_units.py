import math

import pytest

from loadwatch.metrics import units as u


def test_km_mi_round_trip():
    assert u.km_to_mi(1.609344) == pytest.approx(1.0)
    assert u.mi_to_km(u.km_to_mi(12.3)) == pytest.approx(12.3)
    assert math.isnan(u.to_units(float("nan"), "mi"))


def test_format_distance_in_miles():
    assert u.format_distance(10.0, "km") == "10 km"
    assert u.format_distance(10.0, "mi") == "6.2 mi"  # 10 / 1.609344 = 6.21
    assert u.format_distance(float("nan"), "mi") == "-"
    assert u.format_distance(None, "km") == "-"


def test_caps_round_down_in_steps_no_coarser_than_5_percent():
    # 11 km = 6.835 mi -> never advise above the cap, never eat the allowance: 6.8 mi
    assert u.format_distance(11.0, "mi", cap=True) == "6.8 mi"  # 6.84 mi: 0.1 steps below 10
    assert u.format_distance(11.0, "km", cap=True) == "11 km"
    assert u.format_distance(13.2, "km", cap=True) == "13 km"
    assert u.format_distance(13.5, "km", cap=True) == "13.5 km"
    assert u.cap_in_units(4.0233, "mi") == 2.4  # 2.49996 mi rounds down, in 0.1 mi steps
    assert u.cap_in_units(2.5 * 1.609344, "mi") == 2.5  # exactly 2.5 mi stays 2.5 despite float error


def test_bad_units_raise():
    with pytest.raises(ValueError, match="units must be"):
        u.to_units(1.0, "furlongs")


def test_pace_and_duration():
    assert u.format_pace(u.pace_s_per_km(10.0, 55.0), "km") == "5:30 /km"
    assert u.format_pace(330.0, "mi") == "8:51 /mi"  # 330 s/km x 1.609344 = 531 s
    assert u.format_pace(float("nan")) == "-"
    assert math.isnan(u.pace_s_per_km(0.0, 30.0))
    assert u.format_duration(45.2) == "45 min"
    assert u.format_duration(65) == "1 h 05 min"


def test_a_pair_of_caps_is_rounded_once_and_the_week_never_above_its_runs_at_the_run_cap():
    # a clinician's 4 km run cap and 2 runs a week: 2 x 2.4 mi = 4.8 mi, not 8 km rounded alone (4.9 mi)
    assert u.caps_in_units(8.0, 4.0, 2, "mi") == (4.8, 2.4)
    assert u.caps_in_units(10.0, 4.0, 3, "mi") == (6.2, 2.4)  # the week binds: 10 km = 6.21 mi
    assert u.caps_in_units(9.9, 3.3, 3, "mi") == (6.0, 2.0)  # a rebuild step: 3 x 2.0 mi, not 6.1 mi
    assert u.caps_in_units(None, 3.3, 3, "km") == (None, 3.3)
    assert u.caps_in_units(float("nan"), float("nan"), 3, "km") == (None, None)
    assert u.caps_in_units(12.0, 5.0, None, "km") == (12.0, 5.0)


@pytest.mark.parametrize("units", ["km", "mi"])
def test_caps_in_units_never_above_the_exact_caps(units):
    from hypothesis import given
    from hypothesis import strategies as st

    @given(week=st.floats(0.5, 200), run=st.floats(0.5, 60), runs=st.integers(1, 7))
    def check(week, run, runs):
        shown_week, shown_run = u.caps_in_units(week, run, runs, units)
        assert shown_run <= u.to_units(run, units) + 1e-9
        assert shown_week <= u.to_units(week, units) + 1e-9
        assert shown_week <= runs * shown_run + 1e-9
        assert shown_run == u.cap_in_units(run, units)  # the run cap is rounded as format_distance(cap=True) does

    check()
