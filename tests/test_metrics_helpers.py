"""Builders for hand-made activities frames (shaped like ``Store.activities()``) and HR histograms,
shared by the metrics tests.  Holds no tests itself."""

from __future__ import annotations

import numpy as np
import pandas as pd

ACTIVITY_COLUMNS = ("id", "source", "format", "sport", "sub_sport", "start_utc", "utc_offset_s", "elapsed_s",
                    "moving_s", "distance_m", "ascent_m", "avg_hr_bpm", "max_hr_bpm", "avg_cadence_spm",
                    "avg_vertical_oscillation_mm", "avg_stance_time_ms", "avg_step_length_mm", "device",
                    "partial", "sport_inferred", "surface_override", "rpe", "imported_at")


def activities(rows: list[dict]) -> pd.DataFrame:
    """A frame with every store column; each row gives at least ``start_utc`` (str/Timestamp, UTC) and
    ``km``; defaults: running, street, no device offset, 6 min/km, no heart rate."""
    out = []
    for i, row in enumerate(rows):
        row = dict(row)
        km = row.pop("km", 10.0)
        minutes = row.pop("minutes", km * 6.0)
        base = {
            "id": f"a{i:05d}", "source": "test", "format": "fit", "sport": "running", "sub_sport": "street",
            "start_utc": None, "utc_offset_s": np.nan, "elapsed_s": minutes * 60.0, "moving_s": minutes * 60.0,
            "distance_m": km * 1000.0, "ascent_m": np.nan, "avg_hr_bpm": np.nan, "max_hr_bpm": np.nan,
            "avg_cadence_spm": np.nan, "avg_vertical_oscillation_mm": np.nan, "avg_stance_time_ms": np.nan,
            "avg_step_length_mm": np.nan, "device": None, "partial": False, "sport_inferred": False,
            "surface_override": None, "rpe": np.nan, "imported_at": "2024-01-01T00:00:00Z",
        }
        base.update(row)
        out.append(base)
    frame = pd.DataFrame(out, columns=list(ACTIVITY_COLUMNS))
    frame["start_utc"] = pd.to_datetime(frame["start_utc"], utc=True, format="mixed")
    for col in ("utc_offset_s", "elapsed_s", "moving_s", "distance_m", "ascent_m", "avg_cadence_spm", "rpe"):
        frame[col] = frame[col].astype("float64")
    return frame.sort_values("start_utc", kind="stable").reset_index(drop=True)


def daily_runs(start: str, kms: list[float], hour_utc: int = 8) -> pd.DataFrame:
    """One run a day from ``start`` with the given distances; 0 km means a rest day (no activity)."""
    day0 = pd.Timestamp(start)
    return activities([{"start_utc": day0 + pd.Timedelta(days=i, hours=hour_utc), "km": km}
                       for i, km in enumerate(kms) if km > 0])


def hist(rows: dict[str, dict[int, float]]) -> pd.DataFrame:
    """HR histogram frame: activity id -> {bpm: seconds}."""
    data = np.zeros((len(rows), 256))
    for i, bins in enumerate(rows.values()):
        for bpm, seconds in bins.items():
            data[i, bpm] += seconds
    return pd.DataFrame(data, index=pd.Index(list(rows), name="id"), columns=pd.RangeIndex(256))
