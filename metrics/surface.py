"""Running surface per activity and kilometres per surface (SCIENCE.md section 8).

FIT ``sub_sport`` tells the surface: street -> road, trail -> trail, track -> track, treadmill and
indoor_running -> treadmill; generic, virtual_activity, ultra or nothing -> unknown.  A runner's
per-activity override wins.  Surface is shown and suggested, never alarmed on by itself: no study links
surface to back pain.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from loadwatch.metrics.thresholds import SUB_SPORT_SURFACE, SURFACES

if TYPE_CHECKING:  # imported where frames are made: `loadwatch activities` never loads pandas (issue 21)
    import pandas as pd


def _missing(value) -> bool:
    pd = sys.modules.get("pandas")
    return value is None or (isinstance(value, float) and value != value) or (pd is not None and value is pd.NA)


def activity_surface(sub_sport: str | None, override: str | None = None) -> str:
    """The surface of one run: ``override`` when it is one of :data:`SURFACES`, else the mapping of
    ``sub_sport`` (FIT name, any case), else ``"unknown"``."""
    if not _missing(override):
        text = str(override).strip().lower()
        if text in SURFACES:
            return text
    if _missing(sub_sport):
        return "unknown"
    return SUB_SPORT_SURFACE.get(str(sub_sport).strip().lower(), "unknown")


def _names(values) -> list[str | None]:
    return [None if _missing(v) else str(v).strip().lower() for v in values]


def run_surface(sub_sport, override=None, hint=None) -> str:
    """The surface of one activity row: the runner's ``override``, then the FIT ``sub_sport``, then the
    ``hint`` (see :func:`surfaces`), else ``"unknown"``."""
    sub, over, hint = _names((sub_sport, override, hint))
    return over if over in SURFACES else SUB_SPORT_SURFACE.get(sub, hint if hint in SURFACES else "unknown")


def surfaces(activities: pd.DataFrame) -> pd.Series:
    """Surface of every row of an activities frame (columns ``sub_sport`` and, optionally,
    ``surface_override`` and ``surface_hint``); same index as ``activities``.  The runner's override
    wins, then the FIT sub-sport, then the hint (archive metadata, a run without GPS on a treadmill, the
    runner's default surface)."""
    n = len(activities)
    subs = _names(activities["sub_sport"].tolist()) if "sub_sport" in activities else [None] * n
    overs = _names(activities["surface_override"].tolist()) if "surface_override" in activities else [None] * n
    hints = _names(activities["surface_hint"].tolist()) if "surface_hint" in activities else [None] * n
    import pandas as pd

    out = [run_surface(s, o, h) for s, o, h in zip(subs, overs, hints, strict=True)]
    return pd.Series(out, index=activities.index, dtype="object", name="surface")


def surface_km(distance_km: pd.Series, surface: pd.Series) -> pd.DataFrame:
    """One column ``surface_<s>_km`` per surface in :data:`SURFACES`: the run's distance in its own
    surface's column and 0 in the others (NaN distance counts as 0 km: it adds no known distance)."""
    import numpy as np
    import pandas as pd

    dist = distance_km.fillna(0.0).to_numpy(dtype="float64")
    surf = surface.to_numpy(dtype="object")
    data = {f"surface_{s}_km": np.where(surf == s, dist, 0.0) for s in SURFACES}
    return pd.DataFrame(data, index=distance_km.index)

