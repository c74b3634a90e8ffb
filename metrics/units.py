"""Kilometres and miles, and numbers rounded for humans.

Everything inside loadwatch (frames, JSON) is metric: kilometres, minutes, metres.  Miles exist only at
the edge, when a number is shown to a runner who chose ``units = mi``.

Rounding for humans (SCIENCE.md section 12: "numbers in the runner's units, rounded for humans"):

* a *cap* (the most a runner should do: "longest run <= 11 km") is rounded **down**, so the rounded
  advice is never above the computed limit, in steps no coarser than 5% of the value (SCIENCE.md section
  12: 0.1 km or 0.1 mi for short runs, 0.5 from 10, 1 from 20...), so rounding never eats the allowance;
* any other distance is shown with one decimal.
"""

from __future__ import annotations

import math

from loadwatch.metrics.thresholds import ROUND_MAX_FRAC, ROUND_STEPS

#: Exact, by definition of the international mile.
KM_PER_MI = 1.609344
UNITS = ("km", "mi")
#: Exact, by definition of the international foot: climb and descent are in feet for a runner in miles.
M_PER_FT = 0.3048
#: The coarsest cap step for values of 10 or more [km or mi] (kept for callers that round by hand).
CAP_STEP = 0.5


def _check_units(units: str) -> str:
    if units not in UNITS:
        raise ValueError(f"units must be one of {', '.join(UNITS)} (got {units!r})")
    return units


def km_to_mi(km: float) -> float:
    """Kilometres -> miles."""
    return km / KM_PER_MI


def mi_to_km(mi: float) -> float:
    """Miles -> kilometres."""
    return mi * KM_PER_MI


def to_units(km: float, units: str = "km") -> float:
    """A distance given in kilometres, expressed in ``units`` ("km" or "mi"); NaN stays NaN."""
    return km if _check_units(units) == "km" else km_to_mi(km)


def from_units(value: float, units: str = "km") -> float:
    """A distance given in ``units`` ("km" or "mi"), expressed in kilometres."""
    return value if _check_units(units) == "km" else mi_to_km(value)


def _finite(x) -> bool:
    try:
        return math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def round_down(value: float, step: float = CAP_STEP) -> float:
    """``value`` rounded down to a multiple of ``step`` (NaN stays NaN).  A tiny tolerance keeps
    11.0 from becoming 10.5 through float error."""
    if not _finite(value):
        return float("nan")
    return math.floor(value / step + 1e-9) * step


def cap_step(value: float) -> float:
    """The rounding step for a cap of ``value`` (km or mi): the coarsest of
    :data:`loadwatch.metrics.thresholds.ROUND_STEPS` no larger than 5% of the value, at least 0.1."""
    if not _finite(value):
        return ROUND_STEPS[0]
    fitting = [s for s in ROUND_STEPS if s <= ROUND_MAX_FRAC * abs(float(value)) + 1e-9]
    return max(fitting) if fitting else ROUND_STEPS[0]


def cap_in_units(km: float, units: str = "km", step: float | None = None) -> float:
    """A cap given in km, in the runner's units, rounded *down* to ``step`` (default :func:`cap_step`:
    no coarser than 5% of the value, 0.1 for short runs)."""
    value = to_units(km, units)
    return round(round_down(value, step if step is not None else cap_step(value)), 6)


def caps_in_units(week_km: float | None, run_km: float | None, runs: int | None = None,
                  units: str = "km") -> tuple[float | None, float | None]:
    """A week cap and a run cap given in km, as the runner reads them: each rounded down once in
    ``units`` (:func:`cap_in_units`), and the week never above ``runs`` times the rounded run cap
    (SCIENCE.md section 13, "caps a person can follow": rounded apart, 3 x 1.9 mi could sit under a
    5.9 mi week).  None (or NaN, or a cap that rounds to 0) stays None.

    The one rounding of a pair of caps: the plan's figures and an over-run alert's cap come from here, so
    the plan and the alert about the same step say the same number."""
    def one(km):
        if not _finite(km) or float(km) <= 0:
            return None
        value = cap_in_units(float(km), units)
        return value if value > 0 else None

    week, run = one(week_km), one(run_km)
    if runs and week is not None and run is not None and week > runs * run:
        week = one(from_units(runs * run, units))
    return week, run


def _number(value: float, decimals: int) -> str:
    text = f"{value:.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def format_distance(km: float, units: str = "km", *, cap: bool = False, decimals: int = 1) -> str:
    """``12.3 km`` / ``7.6 mi``; with ``cap=True`` rounded down (:func:`cap_in_units`: ``11.5 km``).
    NaN/None gives ``"-"``."""
    if not _finite(km):
        return "-"
    value = cap_in_units(float(km), units) if cap else to_units(float(km), units)
    return f"{_number(value, decimals)} {units}"


def pace_s_per_km(distance_km: float, duration_min: float) -> float:
    """Average pace [s/km]; NaN without a positive distance and duration."""
    if not (_finite(distance_km) and _finite(duration_min)) or distance_km <= 0 or duration_min <= 0:
        return float("nan")
    return duration_min * 60.0 / distance_km


def format_pace(s_per_km: float, units: str = "km") -> str:
    """``5:30 /km`` or ``8:51 /mi`` from a pace in seconds per km; NaN gives ``"-"``."""
    if not _finite(s_per_km) or s_per_km <= 0:
        return "-"
    seconds = s_per_km * (KM_PER_MI if _check_units(units) == "mi" else 1.0)
    total = int(round(seconds))
    return f"{total // 60}:{total % 60:02d} /{units}"


def format_duration(minutes: float) -> str:
    """``45 min`` or ``1 h 05 min``; NaN gives ``"-"``."""
    if not _finite(minutes):
        return "-"
    total = int(round(minutes))
    if total < 60:
        return f"{total} min"
    return f"{total // 60} h {total % 60:02d} min"
