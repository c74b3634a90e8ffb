"""Heart-rate intensity: HR_max/HR_rest, Edwards zone minutes and Banister TRIMP (SCIENCE.md sections 6-7).

Input is the store's heart-rate histogram: a DataFrame indexed by activity id with columns ``0..255``,
the seconds spent at each whole bpm.  Zone minutes and TRIMP are sums over samples of ``f(HR) * dt``,
so summing over the histogram gives exactly the per-sample sum, for any HR_max/HR_rest set later.

A run without heart rate has *unknown* intensity: its minutes go to ``intensity_unknown_min`` and its
TRIMP is NaN, never "easy" and never 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from metrics.thresholds import (
    HR_MAX_ESTIMATE_PERCENTILE,
    HR_REST_DEFAULT_BPM,
    HR_ZONES,
    INTENSITY_GROUPS,
    TRIMP_COEFFICIENTS,
)

HR_BINS = 256
#: Intensity groups of the weekly view, in display order ("unknown" = runs without heart rate).
INTENSITY_COLUMNS = ("very_easy", "easy", "moderate", "hard", "unknown")
_BPM = np.arange(HR_BINS, dtype="float64")


@dataclass(frozen=True)
class HeartRateParams:
    """The HR_max / HR_rest [bpm] used for zones and TRIMP, and whether each was estimated (not given by
    the runner).  ``hr_max_bpm`` is NaN when it was not given and no heart rate was ever recorded."""

    hr_max_bpm: float
    hr_rest_bpm: float
    hr_max_estimated: bool
    hr_rest_estimated: bool


def _as_matrix(hr_hist: pd.DataFrame | None, ids=None) -> pd.DataFrame:
    """The histogram as a float frame with integer columns 0..255, rows restricted to ``ids``."""
    if hr_hist is None or len(hr_hist) == 0:
        frame = pd.DataFrame(np.zeros((0, HR_BINS)), columns=range(HR_BINS))
    else:
        frame = hr_hist.copy()
        frame.columns = [int(c) for c in frame.columns]
        frame = frame.reindex(columns=range(HR_BINS), fill_value=0.0).astype("float64").fillna(0.0)
    if ids is not None:
        frame = frame[frame.index.isin(pd.Index(ids))]
    return frame


def estimate_hr_max(hr_hist: pd.DataFrame | None, runs=None, *, hr_max_bpm: float | None = None,
                    percentile: float = HR_MAX_ESTIMATE_PERCENTILE) -> tuple[float, bool]:
    """HR_max [bpm] and whether it is an estimate.

    With ``hr_max_bpm`` given (the runner's setting) it is returned as is, ``estimated=False``.
    Otherwise: the ``percentile`` (default :data:`HR_MAX_ESTIMATE_PERCENTILE`) of every recorded second
    of heart rate in ``hr_hist`` - restricted to ``runs`` (activity ids, or a frame indexed by them)
    when given - which ignores a few seconds of strap spikes (SCIENCE.md section 7).  NaN when there is
    no heart rate at all.
    """
    if hr_max_bpm is not None and hr_max_bpm == hr_max_bpm:
        return float(hr_max_bpm), False
    ids = None
    if runs is not None:
        ids = runs.index if isinstance(runs, pd.DataFrame | pd.Series) else runs
    seconds = _as_matrix(hr_hist, ids).to_numpy().sum(axis=0)
    total = seconds.sum()
    if total <= 0:
        return float("nan"), True
    cum = np.cumsum(seconds) / total
    bpm = int(np.searchsorted(cum, percentile / 100.0 - 1e-12))
    return float(min(bpm, HR_BINS - 1)), True


def heart_rate_params(hr_hist: pd.DataFrame | None, settings=None, runs=None) -> HeartRateParams:
    """HR_max and HR_rest from the runner's settings, else estimated (HR_max from the data, HR_rest the
    population default :data:`HR_REST_DEFAULT_BPM`), each labelled as estimated."""
    hr_max, max_est = estimate_hr_max(hr_hist, runs, hr_max_bpm=getattr(settings, "hr_max", None))
    given_rest = getattr(settings, "hr_rest", None)
    if given_rest is not None:
        return HeartRateParams(hr_max, float(given_rest), max_est, False)
    return HeartRateParams(hr_max, HR_REST_DEFAULT_BPM, max_est, True)


def zone_weights(hr_max_bpm: float) -> pd.DataFrame:
    """Indicator matrix (256 bpm x very_easy/easy/moderate/hard): which group each whole bpm falls in,
    with the Edwards zones of :data:`HR_ZONES` as fractions of ``hr_max_bpm`` (lower bound inclusive)."""
    frac = _BPM / hr_max_bpm
    zone_of = np.full(HR_BINS, "", dtype=object)
    for name, low, high in HR_ZONES:
        zone_of[(frac >= low) & (frac < high)] = name
    below = frac < min(low for _n, low, _h in HR_ZONES)
    data = {}
    for group, zones in INTENSITY_GROUPS.items():
        data[group] = np.isin(zone_of, zones).astype("float64") if zones else below.astype("float64")
    return pd.DataFrame(data, index=range(HR_BINS))


def zone_minutes(hr_hist: pd.DataFrame | None, hr_max_bpm: float) -> pd.DataFrame:
    """Minutes per intensity group for each activity in ``hr_hist``: columns ``intensity_<g>_min`` for
    very_easy/easy/moderate/hard.  Activities whose histogram is empty are left out (unknown)."""
    matrix = _as_matrix(hr_hist)
    matrix = matrix[matrix.sum(axis=1) > 0]
    cols = [f"intensity_{g}_min" for g in INTENSITY_GROUPS]
    if matrix.empty or not np.isfinite(hr_max_bpm) or hr_max_bpm <= 0:
        return pd.DataFrame(columns=cols, index=matrix.index[:0], dtype="float64")
    minutes = matrix.to_numpy() @ zone_weights(hr_max_bpm).to_numpy() / 60.0
    return pd.DataFrame(minutes, index=matrix.index, columns=cols)


def trimp_weights(hr_max_bpm: float, hr_rest_bpm: float, sex: str = "unspecified") -> np.ndarray:
    """TRIMP per minute at each whole bpm: ``HRr * a * exp(b * HRr)`` with
    ``HRr = clip((bpm - HR_rest) / (HR_max - HR_rest), 0, 1)`` and (a, b) from
    :data:`TRIMP_COEFFICIENTS` for ``sex`` (Morton, Fitz-Clarke & Banister 1990)."""
    if sex not in TRIMP_COEFFICIENTS:
        raise ValueError(f"sex must be one of {', '.join(TRIMP_COEFFICIENTS)} (got {sex!r})")
    a, b = TRIMP_COEFFICIENTS[sex]
    hrr = np.clip((_BPM - hr_rest_bpm) / (hr_max_bpm - hr_rest_bpm), 0.0, 1.0)
    return hrr * a * np.exp(b * hrr)


def trimp(hr_hist: pd.DataFrame | None, hr_max_bpm: float, hr_rest_bpm: float, sex: str = "unspecified",
          ids=None) -> pd.Series:
    """Banister TRIMP [AU] per activity: ``sum over bpm of seconds/60 * HRr * a * exp(b * HRr)``
    (SCIENCE.md section 6), which is exactly the per-sample sum.  Indexed by ``ids`` when given (NaN for
    activities without heart rate), else by the histogram's activities that have heart rate."""
    matrix = _as_matrix(hr_hist)
    matrix = matrix[matrix.sum(axis=1) > 0]
    if (not np.isfinite(hr_max_bpm) or not np.isfinite(hr_rest_bpm) or hr_max_bpm <= hr_rest_bpm
            or matrix.empty):
        values = pd.Series(np.nan, index=matrix.index, dtype="float64")
    else:
        values = pd.Series(matrix.to_numpy() @ trimp_weights(hr_max_bpm, hr_rest_bpm, sex) / 60.0,
                           index=matrix.index, dtype="float64")
    if ids is not None:
        values = values.reindex(pd.Index(ids))
    return values.rename("trimp")


def run_intensity(duration_min: pd.Series, hr_hist: pd.DataFrame | None, hr_max_bpm: float) -> pd.DataFrame:
    """Intensity minutes for each run in ``duration_min`` (indexed by activity id): zone groups from the
    histogram; a run without heart rate (or without an HR_max) puts its whole duration in
    ``intensity_unknown_min`` and 0 in the others."""
    zones = zone_minutes(hr_hist, hr_max_bpm).reindex(duration_min.index)
    known = zones.notna().all(axis=1)
    out = zones.fillna(0.0)
    out["intensity_unknown_min"] = np.where(known, 0.0, duration_min.fillna(0.0).to_numpy())
    return out
