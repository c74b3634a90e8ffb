"""What a runner is told about a damaged GPX or TCX file that was read in part.

The readers keep every well-formed point of a damaged file (see :mod:`loadwatch.ingest.safe_xml`) and mark the
activity ``partial``; :func:`damage_warning` says in plain words what happened and how much was kept:
"cut short after 41 min; 2,010 of about 3,300 points kept".  The expected count is an estimate, so it is
said with "about", and only when the file gives something to estimate it from (the time skipped at each
place of damage at the file's own sampling interval, the time a TCX lap says it lasted, or points seen
whose fields could not be read).
"""

from __future__ import annotations

import math
import re

import numpy as np

from loadwatch.ingest.canonical import pause_gap_s
from loadwatch.ingest.safe_xml import XmlDamage

#: The start of a whole xsd:dateTime, seconds included (GPX and TCX times always carry them).  A time the
#: damage cut through ("2024-05-01T07:00:5") would otherwise parse as another, earlier second.
WHOLE_TIME = re.compile(r"\s*\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}")


def whole_times(texts: list[str | None]) -> list[str | None]:
    """``texts`` with every time that is not a whole date and time (cut short by damage) made None."""
    return [t if t is not None and WHOLE_TIME.match(t) else None for t in texts]


def duration_words(seconds: float) -> str:
    """``40 s``, ``41 min``, ``1 h 05 min`` (the style of :func:`loadwatch.metrics.fmt.duration`, which ingest may
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


def expected_points(t_s: np.ndarray, parts: np.ndarray | None = None, *, recorded_s: float = math.nan,
                    seen: int = 0) -> float:
    """About how many points the undamaged file held [count], or NaN when there is nothing to go on.

    The points kept (``t_s``, Unix times [s]), plus those the damage took: the time between the last point
    before and the first point after each place of damage (``parts``: the part of the file each point
    was read from) at the file's median sampling interval, or, when larger, the moving time ``recorded_s``
    (a TCX lap's total) beyond the moving time the kept points cover; at least the ``seen`` points the
    file held, readable or not.  A file only cut short says nothing of what followed: no estimate."""
    t = np.asarray(t_s, dtype="float64")
    ok = np.isfinite(t)
    order = np.argsort(t[ok], kind="stable")
    t = t[ok][order]
    step = median_interval_s(t)
    if not math.isfinite(step) or t.size < 2:
        return float(seen) if seen > t.size else math.nan
    dt = np.diff(t)
    lost_gaps = 0.0
    if parts is not None and len(parts) == len(ok):
        p = np.asarray(parts)[ok][order]
        at = np.flatnonzero(p[1:] != p[:-1])
        lost_gaps = float(np.clip(dt[at] / step - 1, 0, None).sum())
    lost_recorded = 0.0
    if math.isfinite(recorded_s):
        moving = float(dt[dt <= pause_gap_s(dt)].sum())
        lost_recorded = max(0.0, (recorded_s - moving) / step)
    lost = max(lost_gaps, lost_recorded)
    if lost < 1 and seen <= t.size:
        return math.nan
    return max(t.size + lost, float(seen))


def _about(n: float) -> str:
    """``3,300``: an estimate rounded to two significant figures (at least to tens)."""
    if n >= 100:
        digits = max(int(math.floor(math.log10(n))) - 1, 1)
        n = round(n / 10**digits) * 10**digits
    return f"{int(round(n)):,}"


def damage_warning(damage: XmlDamage, *, t_kept_s: np.ndarray, parts_kept: np.ndarray,
                   recorded_s: float = math.nan, seen: int = 0) -> str:
    """One plain-words line about a damaged file read in part.

    ``t_kept_s``: Unix times of the points kept [s]; ``parts_kept``: the part of the file each kept point
    was read from (0 before the first damage, see :class:`~loadwatch.ingest.safe_xml.XmlDamage`); ``recorded_s``:
    how long the file says the recording lasted (TCX lap totals), when it says; ``seen``: points the file
    held, readable or not.
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
    expected = expected_points(t, parts_kept, recorded_s=recorded_s, seen=seen)
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
