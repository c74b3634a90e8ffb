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
