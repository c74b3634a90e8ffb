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

from loadwatch.metrics.thresholds import (
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


def _values(hr_hist: pd.DataFrame) -> np.ndarray:
    """The histogram's seconds as a float array with exactly 256 columns (bpm 0..255), NaN -> 0."""
    if not hr_hist.columns.equals(pd.RangeIndex(HR_BINS)):
        hr_hist = hr_hist.copy()
        hr_hist.columns = [int(c) for c in hr_hist.columns]
        hr_hist = hr_hist.reindex(columns=range(HR_BINS), fill_value=0.0)
    values = hr_hist.to_numpy(dtype="float64")
    return np.nan_to_num(values, nan=0.0) if np.isnan(values).any() else values


class _Lookup:
    """The histogram rows of the activities ``ids`` without copying them: ``apply(f)`` evaluates
    ``f(values)`` once over the histogram's rows and picks each activity's result (NaN where an activity
    has no heart rate); ``seconds()`` sums the selected activities' seconds at each bpm."""

    def __init__(self, hr_hist: pd.DataFrame | None, ids):
        self.ids = pd.Index(ids)
        n = len(self.ids)
        if hr_hist is None or len(hr_hist) == 0 or n == 0:
            self.values = np.zeros((0, HR_BINS))
            self.pos = np.full(n, -1)
        else:
            if not hr_hist.index.is_unique:
                hr_hist = hr_hist[~hr_hist.index.duplicated(keep="first")]
            self.values = _values(hr_hist)
            self.pos = hr_hist.index.get_indexer(self.ids)
        totals = self.values.sum(axis=1)
        self.has = (self.pos >= 0) & (totals[np.maximum(self.pos, 0)] > 0 if len(totals) else False)

    def apply(self, rows: np.ndarray) -> np.ndarray:
        """``rows``: one result (or row of results) per histogram row -> one per id, NaN without HR."""
        out = np.full((len(self.ids),) + rows.shape[1:], np.nan)
        out[self.has] = rows[self.pos[self.has]]
        return out

    def seconds(self) -> np.ndarray:
        select = np.zeros(len(self.values))
        np.add.at(select, self.pos[self.has], 1.0)
        return np.einsum("i,ij->j", select, self.values) if len(self.values) else np.zeros(HR_BINS)


def _all_ids(hr_hist: pd.DataFrame | None) -> pd.Index:
    return pd.Index([]) if hr_hist is None else hr_hist.index


def percentile_bpm(seconds_by_bpm: np.ndarray, percentile: float = HR_MAX_ESTIMATE_PERCENTILE) -> float:
    """The bpm below which ``percentile`` % of the recorded seconds lie (NaN without any)."""
    total = float(seconds_by_bpm.sum())
    if total <= 0:
        return float("nan")
    cum = np.cumsum(seconds_by_bpm) / total
    return float(min(int(np.searchsorted(cum, percentile / 100.0 - 1e-12)), HR_BINS - 1))


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
    if runs is None:
        ids = _all_ids(hr_hist)
    else:
        ids = runs.index if isinstance(runs, pd.DataFrame | pd.Series) else runs
    return percentile_bpm(_Lookup(hr_hist, ids).seconds(), percentile), True


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


def zone_minutes(hr_hist: pd.DataFrame | None, hr_max_bpm: float, ids=None) -> pd.DataFrame:
    """Minutes per intensity group for each activity: columns ``intensity_<g>_min`` for
    very_easy/easy/moderate/hard.  Indexed by ``ids`` when given (NaN rows for activities without heart
    rate), else by the histogram's activities that have heart rate."""
    ids = _all_ids(hr_hist) if ids is None else pd.Index(ids)
    lookup = _Lookup(hr_hist, ids)
    cols = [f"intensity_{g}_min" for g in INTENSITY_GROUPS]
    if np.isfinite(hr_max_bpm) and hr_max_bpm > 0:
        # summing contiguous bpm ranges (no BLAS matmul: its threads stall on a busy machine)
        group_of = zone_weights(hr_max_bpm).to_numpy().argmax(axis=1)
        covered = zone_weights(hr_max_bpm).to_numpy().sum(axis=1) > 0
        per_group = np.stack([lookup.values[:, (group_of == g) & covered].sum(axis=1)
                              for g in range(len(cols))], axis=1)
        minutes = lookup.apply(per_group / 60.0)
    else:
        minutes = np.full((len(ids), len(cols)), np.nan)
    return pd.DataFrame(minutes, index=ids, columns=cols)


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
    activities without heart rate), else by the histogram's activities."""
    weights = trimp_weights(hr_max_bpm, hr_rest_bpm, sex)  # raises for an unknown sex
    ids = _all_ids(hr_hist) if ids is None else pd.Index(ids)
    lookup = _Lookup(hr_hist, ids)
    if not np.isfinite(hr_max_bpm) or not np.isfinite(hr_rest_bpm) or hr_max_bpm <= hr_rest_bpm:
        values = np.full(len(ids), np.nan)
    else:
        values = lookup.apply(np.einsum("ij,j->i", lookup.values, weights) / 60.0)
    return pd.Series(values, index=ids, dtype="float64", name="trimp")


def run_intensity(duration_min: pd.Series, hr_hist: pd.DataFrame | None, hr_max_bpm: float) -> pd.DataFrame:
    """Intensity minutes for each run in ``duration_min`` (indexed by activity id): zone groups from the
    histogram; a run without heart rate (or without an HR_max) puts its whole duration in
    ``intensity_unknown_min`` and 0 in the others."""
    zones = zone_minutes(hr_hist, hr_max_bpm, ids=duration_min.index)
    known = zones.notna().all(axis=1).to_numpy()
    out = zones.fillna(0.0)
    out["intensity_unknown_min"] = np.where(known, 0.0, duration_min.fillna(0.0).to_numpy())
    return out
