"""The local day of a file that does not say its time zone (GPX, TCX: times in UTC only).

A FIT file from the watch records its UTC offset; a GPX or TCX file does not.  With a time zone in the
runner's settings, such a file is placed in that zone.  Without one, it takes the UTC offset of the
runner's own watch files nearest in time (within :data:`BORROW_WITHIN_DAYS`), since that is where the
runner was; only with no watch file near it does the machine's time zone apply (never plain UTC, which
put a 21:00 run in New York on the next day).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: A file without an offset borrows the offset of the runner's nearest watch file within this many days
#: [d]: close enough to be the same trip and (mostly) the same side of a clock change.
BORROW_WITHIN_DAYS: float = 30.0


def borrow_watch_offsets(activities: pd.DataFrame, within_days: float = BORROW_WITHIN_DAYS) -> pd.Series:
    """``utc_offset_s`` of every activity [s], where missing filled from the nearest activity (by start)
    that has one, no more than ``within_days`` away; still NaN where no watch file is that near.  Same
    index as ``activities`` (columns ``start_utc``, ``utc_offset_s``)."""
    offset = pd.to_numeric(activities["utc_offset_s"], errors="coerce").astype("float64")
    known = offset.notna()
    if known.all() or not known.any():
        return offset
    start = pd.to_datetime(activities["start_utc"], utc=True)
    left = pd.DataFrame({"start": start[~known], "row": np.flatnonzero(~known.to_numpy())}).sort_values("start")
    right = pd.DataFrame({"start": start[known], "borrowed": offset[known]}).sort_values("start")
    hit = pd.merge_asof(left, right, on="start", direction="nearest",
                        tolerance=pd.Timedelta(days=within_days))
    filled = offset.to_numpy(copy=True)
    filled[hit["row"].to_numpy()] = hit["borrowed"].to_numpy(dtype="float64")
    return pd.Series(filled, index=activities.index, name="utc_offset_s")
