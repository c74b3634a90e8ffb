import pandas as pd
import pytest

from loadwatch.metrics.surface import activity_surface, surface_km, surfaces


@pytest.mark.parametrize(("sub_sport", "surface"), [
    ("street", "road"), ("trail", "trail"), ("track", "track"), ("treadmill", "treadmill"),
    ("indoor_running", "treadmill"), ("generic", "unknown"), ("virtual_activity", "unknown"),
    ("ultra", "unknown"), (None, "unknown"), (float("nan"), "unknown"), ("Trail", "trail"),
])
def test_sub_sport_mapping(sub_sport, surface):
    assert activity_surface(sub_sport) == surface


def test_override_wins_and_bad_override_is_ignored():
    assert activity_surface("street", "trail") == "trail"
    assert activity_surface("generic", "treadmill") == "treadmill"
    assert activity_surface("street", "grass") == "road"
    assert activity_surface("street", None) == "road"


def test_vectorised_surfaces_and_km():
    acts = pd.DataFrame({"sub_sport": ["street", "trail", None, "street"],
                         "surface_override": [None, None, "track", "bogus"]})
    s = surfaces(acts)
    assert list(s) == ["road", "trail", "track", "road"]
    km = surface_km(pd.Series([5.0, 8.0, float("nan"), 3.0]), s)
    assert km["surface_road_km"].tolist() == [5, 0, 0, 3]
    assert km["surface_trail_km"].tolist() == [0, 8, 0, 0]
    assert km["surface_track_km"].tolist() == [0, 0, 0, 0]
