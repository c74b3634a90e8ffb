"""The sport of a track that does not say it, guessed from its speed.

Below both :mod:`loadwatch.ingest.gpx_reader` (an untyped GPX track) and :mod:`loadwatch.ingest.plausible` (a file cut short
before it said its sport), so neither imports the other for it.
"""

from __future__ import annotations

import numpy as np

from loadwatch.ingest.canonical import MOVING_SPEED_M_S

#: Median moving speed [m/s] below which an untyped track is taken as a walk (6.5 km/h).
WALK_MAX_SPEED_M_S = 1.8
#: Median moving speed [m/s] above which an untyped track is taken as a ride (19.8 km/h, 3:02 min/km:
#: faster than almost any runner's median pace).
RUN_MAX_SPEED_M_S = 5.5


def infer_sport(speed_m_s: np.ndarray) -> str:
    """Sport from the median of moving speeds [m/s]: below :data:`WALK_MAX_SPEED_M_S` walking, up to
    :data:`RUN_MAX_SPEED_M_S` running, above cycling; "other" without speeds."""
    s = speed_m_s[np.isfinite(speed_m_s) & (speed_m_s >= MOVING_SPEED_M_S)]
    if s.size == 0:
        return "other"
    med = float(np.median(s))
    if med < WALK_MAX_SPEED_M_S:
        return "walking"
    if med <= RUN_MAX_SPEED_M_S:
        return "running"
    return "cycling"
