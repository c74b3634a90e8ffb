"""What a runner is told about a damaged GPX or TCX file that was read in part.

The readers keep every well-formed point of a damaged file (see :mod:`ingest.safe_xml`) and mark the
activity ``partial``; :func:`damage_warning` says in plain words what happened and how much was kept:
"cut short after 41 min; 2,010 of about 3,300 points kept".  The expected count is an estimate, so it is
said with "about", and only when the file gives something to estimate it from (the time the kept points
span at the file's own sampling interval, or the time a TCX lap says it lasted).
"""

from __future__ import annotations

import math

import numpy as np

from ingest.safe_xml import XmlDamage


def duration_words(seconds: float) -> str:
    """``40 s``, ``41 min``, ``1 h 05 min`` (the style of :func:`metrics.fmt.duration`, which ingest may
    not import)."""
    if not math.isfinite(seconds) or seconds < 0:
        return "an unknown time"
    if seconds < 60:
        return f"{int(round(seconds))} s"
    total = int(round(seconds / 60))
    if total < 60:
        return f"{total} min"
    return f"{total // 60} h {total % 60:02d} min"


def median_interval_s(t_s: np.ndarray) -> float:
    """Median of the positive intervals between successive times [s]; NaN with fewer than two."""
    t = np.sort(np.asarray(t_s, dtype="float64")[np.isfinite(t_s)])
    dt = np.diff(t)
    dt = dt[dt > 0]
    return float(np.median(dt)) if dt.size else math.nan


def expected_points(t_s: np.ndarray, *, recorded_s: float = math.nan) -> float:
    """About how many points the undamaged file held [count]: the longer of the span the kept times
    cover and ``recorded_s`` (a TCX lap's total time), at the file's median sampling interval.  NaN when
    there is nothing to go on."""
    t = np.asarray(t_s, dtype="float64")
    t = t[np.isfinite(t)]
    step = median_interval_s(t)
    if not math.isfinite(step) or t.size < 2:
        return math.nan
    span = float(t.max() - t.min())
    if math.isfinite(recorded_s):
        span = max(span, recorded_s)
    return span / step + 1


def _about(n: float) -> str:
    """``3,300``: an estimate rounded to two significant figures (at least to tens)."""
    if n >= 100:
        digits = max(int(math.floor(math.log10(n))) - 1, 1)
        n = round(n / 10**digits) * 10**digits
    return f"{int(round(n)):,}"


def damage_warning(damage: XmlDamage, *, t_kept_s: np.ndarray, parts_kept: np.ndarray,
                   recorded_s: float = math.nan) -> str:
    """One plain-words line about a damaged file read in part.

    ``t_kept_s``: Unix times of the points kept [s]; ``parts_kept``: the part of the file each kept point
    was read from (0 before the first damage, see :class:`~ingest.safe_xml.XmlDamage`); ``recorded_s``:
    how long the file says the recording lasted (TCX lap totals), when it says.
    """
    t = np.asarray(t_kept_s, dtype="float64")
    finite = np.isfinite(t)
    kept = int(finite.sum())
    start = float(t[finite].min()) if kept else math.nan
    said = []
    if damage.gaps:
        parts = np.asarray(parts_kept)
        before = t[finite & (parts == 0)] if damage.head and len(parts) == len(t) else t[:0]
        said.append(f"damaged after {duration_words(float(before.max()) - start)}" if before.size
                    else "damaged near its start")
    if damage.cut_short:
        said.append(f"cut short after {duration_words(float(t[finite].max()) - start)}" if kept
                    else "cut short")
    where = " and ".join(said) or "damaged (characters no XML file may hold were left out)"
    if kept == 0:
        return f"{where}; no points could be read, only the lap totals"
    expected = expected_points(t, recorded_s=recorded_s)
    if math.isfinite(expected) and expected >= kept * 1.01 + 1:
        return f"{where}; {kept:,} of about {_about(expected)} points kept"
    return f"{where}; {kept:,} points kept"


def bad_points_warning(bad: list[tuple[int, str]], kind: str = "track point") -> str:
    """``track point 1,204 has no longitude and was left out`` / ``3 track points could not be read and
    were left out (the first: track point 1,204 has no longitude)``."""
    number, problem = bad[0]
    if len(bad) == 1:
        return f"{kind} {number:,} {problem} and was left out"
    return (f"{len(bad):,} {kind}s could not be read and were left out (the first: {kind} {number:,} "
            f"{problem})")
