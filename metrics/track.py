"""One activity's samples as a runner reads them: pace with stops left out, splits per km or mile, time
in heart-rate zones, and the route projected to metres.

Pure functions over the canonical samples frame (:mod:`loadwatch.ingest.canonical`: a tz-aware UTC index,
``distance_m``, ``speed_m_s``, ``heart_rate_bpm``, ``lat_deg``, ``lon_deg``...).  A channel the file does
not carry is NaN and stays NaN.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from loadwatch.metrics.thresholds import HR_ZONES
from loadwatch.metrics.units import KM_PER_MI

#: Slower than this [m/s] is standing, not running (1.0 m/s is 16:40 per km): not drawn as a pace.
STOPPED_BELOW_M_S = 1.0
#: Pace is smoothed over this many seconds (GPS speed jitters from second to second).
PACE_SMOOTHING_S = 15
#: Mean Earth radius [m] for the local flat projection of a route (a run spans a few km: the error of an
#: equirectangular projection at that scale is far below GPS noise).
EARTH_RADIUS_M = 6_371_008.8


def metres_per_unit(units: str) -> float:
    return 1000.0 * (KM_PER_MI if units == "mi" else 1.0)


def elapsed_minutes(samples: pd.DataFrame) -> pd.Series:
    """Minutes since the first sample, aligned with the samples."""
    return pd.Series((samples.index - samples.index[0]).total_seconds() / 60.0, index=samples.index)


def pace(samples: pd.DataFrame, units: str = "km", *, stopped_below_m_s: float = STOPPED_BELOW_M_S,
         smoothing_s: int = PACE_SMOOTHING_S) -> pd.DataFrame:
    """``minutes``, ``pace_s`` [seconds per km or mile]: speed smoothed over ``smoothing_s`` seconds;
    moments slower than ``stopped_below_m_s`` (standing at a crossing) are NaN, so a stop is a gap in
    the line, not a 30 min/km spike."""
    speed = samples["speed_m_s"].astype(float)
    if speed.notna().sum() < 2 and samples["distance_m"].notna().sum() >= 2:
        dist = samples["distance_m"].astype(float)
        secs = pd.Series(samples.index.asi8 / 1e9, index=samples.index)
        speed = dist.diff() / secs.diff()
    smooth = speed.rolling(f"{int(smoothing_s)}s", min_periods=1).mean() if len(speed) else speed
    moving = smooth.where((smooth >= stopped_below_m_s) & (speed >= stopped_below_m_s))
    return pd.DataFrame({"minutes": elapsed_minutes(samples).to_numpy(),
                         "pace_s": (metres_per_unit(units) / moving).to_numpy()})


def splits(samples: pd.DataFrame, units: str = "km") -> pd.DataFrame:
    """One row per whole km or mile (the last, shorter one too): ``split`` (1, 2, ...), ``distance``
    [units], ``time_s``, ``pace_s`` [s per unit], ``heart_rate_bpm`` (mean), ``ascent_m``, ``descent_m``.
    Empty without a distance channel.

    A split ends where the distance crosses the whole unit, its time read between the two samples
    around it, so a whole split covers exactly one unit and its pace *is* its time (one rounding, never
    7:33 beside 7:34 /km); only the last, shorter split has a pace of its own."""
    dist = samples["distance_m"].astype(float)
    if dist.notna().sum() < 2:
        return pd.DataFrame(columns=["split", "distance", "time_s", "pace_s", "heart_rate_bpm", "ascent_m",
                                     "descent_m"])
    step = metres_per_unit(units)
    # a distance channel never runs backwards (a watch's correction by a metre is not a step back)
    covered = np.maximum.accumulate(dist.ffill().fillna(0.0).to_numpy())
    secs = (samples.index - samples.index[0]).total_seconds().to_numpy(dtype=float)
    total = float(covered[-1])
    whole = int(total // step)
    bounds = [k * step for k in range(whole + 1)]
    if total - whole * step >= 0.05 * step:  # the last few metres after the watch's final whole split
        bounds.append(total)
    # the time the distance first reached each boundary, between the samples around it
    first = np.searchsorted(covered, bounds, side="left").clip(max=len(covered) - 1)
    before = (first - 1).clip(min=0)
    span = covered[first] - covered[before]
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.where(span > 0, (np.asarray(bounds) - covered[before]) / span, 1.0)
    at = secs[before] + np.clip(frac, 0.0, 1.0) * (secs[first] - secs[before])
    at[0] = 0.0
    split_of = (covered // step).astype(int) + 1
    elevation = samples["elevation_m"].astype(float)
    rows = []
    for i in range(len(bounds) - 1):
        n = i + 1
        length = (bounds[i + 1] - bounds[i]) / step
        time_s = float(at[i + 1] - at[i])
        g = samples[split_of == n]
        elev = elevation[split_of == n].diff()
        rows.append({"split": n, "distance": length, "time_s": time_s, "pace_s": time_s / length,
                     "heart_rate_bpm": float(g["heart_rate_bpm"].mean()) if len(g) else np.nan,
                     "ascent_m": float(elev.clip(lower=0).sum()) if elev.notna().any() else np.nan,
                     "descent_m": float(-elev.clip(upper=0).sum()) + 0.0 if elev.notna().any() else np.nan})
    return pd.DataFrame(rows)


def hr_zone_minutes(samples: pd.DataFrame, hr_max_bpm: float) -> pd.DataFrame:
    """``zone`` (Z1..Z5 and "below Z1"), ``low_bpm``, ``high_bpm``, ``minutes`` spent there (Edwards
    zones as fractions of ``hr_max_bpm``, thresholds.HR_ZONES).  Each sample counts for the time to the
    next one (capped at 30 s, so a pause in recording is not counted)."""
    hr = samples["heart_rate_bpm"].astype(float)
    secs = pd.Series(samples.index.asi8 / 1e9, index=samples.index)
    dt_s = (-secs.diff(-1)).clip(upper=30).fillna(1.0)
    rows = [{"zone": "below Z1", "low_bpm": 0.0, "high_bpm": HR_ZONES[0][1] * hr_max_bpm,
             "minutes": float(dt_s[hr < HR_ZONES[0][1] * hr_max_bpm].sum() / 60)}]
    for name, lo, hi in HR_ZONES:
        inside = (hr >= lo * hr_max_bpm) & (hr < hi * hr_max_bpm)
        rows.append({"zone": name, "low_bpm": lo * hr_max_bpm, "high_bpm": min(hi, 1.0) * hr_max_bpm,
                     "minutes": float(dt_s[inside].sum() / 60)})
    return pd.DataFrame(rows)


def route_xy(samples: pd.DataFrame) -> pd.DataFrame:
    """The route in metres east (``x_m``) and north (``y_m``) of its south-west corner, by a local
    equirectangular projection, with ``order`` (sample number): drawn with equal scales it has the
    route's true shape, and nothing (no map tile) is fetched."""
    pts = samples[["lat_deg", "lon_deg"]].dropna()
    if pts.empty:
        return pd.DataFrame(columns=["order", "x_m", "y_m"])
    lat0 = np.radians(pts["lat_deg"].mean())
    x = np.radians(pts["lon_deg"].to_numpy()) * np.cos(lat0) * EARTH_RADIUS_M
    y = np.radians(pts["lat_deg"].to_numpy()) * EARTH_RADIUS_M
    return pd.DataFrame({"order": np.arange(len(pts)), "x_m": x - x.min(), "y_m": y - y.min()})
