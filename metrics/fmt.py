"""One voice: how every face (dashboard, command line, reports) says a number, a date, a code and a
missing value.

Pure functions, no streamlit, no I/O.  Internal names (``rest_of_day``, ``hazard_ratio_ci_low``,
``return_to_run``) never reach a person: :func:`words` turns any code loadwatch stores or computes into
plain words, and :data:`MISSING` stands for a value that is not there.

* distances: :func:`distance` ("12.3 km" / "7.6 mi"), caps rounded down (:func:`metrics.units`);
* paces: :func:`pace` ("5:30 /km", m:ss);
* durations: :func:`duration` ("45 min", "1 h 05 min");
* dates: :func:`day` ("Mon 17 Aug 2026"), :func:`day_range`;
* percentages and plain numbers: :func:`pct`, :func:`number`;
* codes: :func:`words` (timings, locations, symptoms, rules, phases, sports, surfaces, severities,
  intensity groups, spike categories, import outcomes, session kinds, a cohort's concern levels).
"""

from __future__ import annotations

import datetime as dt
import math
import re

import pandas as pd

from ingest.painlog import LOCATION_LABELS, SYMPTOM_LABELS, TIMING_LABELS
from metrics.units import format_distance, format_duration, format_pace

#: What a face shows for a value that is not there (an en dash, never "None", "nan" or 0).
MISSING = "–"

#: Plain words for every code a face may meet, by vocabulary.  Keys are the stored/computed codes.
VOCABULARY: dict[str, dict[str, str]] = {
    "timing": {k: v.lower() if k != "during" else "during the run" for k, v in TIMING_LABELS.items()},
    "location": {k: v.lower() for k, v in LOCATION_LABELS.items()},
    "symptom": {k: v[0].lower() + v[1:] for k, v in SYMPTOM_LABELS.items()},
    "rule": {
        "session_spike": "single-run spike",
        "pain_during_run": "pain with running",
        "pain_not_settled": "pain not settled by morning",
        "pain_rising": "pain rising week on week",
        "pain_persistent": "persistent pain",
        "red_flag_emergency": "emergency symptoms",
        "red_flag_urgent": "symptoms to see a clinician about",
        "weekly_change": "weekly change",
        "acwr": "acute:chronic workload ratio",
        "monotony": "training monotony",
        "personal": "your own rule",
        "phase": "back-pain episode",
        "check_in": "how is your back today?",
    },
    "phase": {
        "normal": "normal training",
        "hold": "hold steady",
        "reduce": "cut back",
        "stop": "stop running for now",
        "return_to_run": "return to running",
        "rebuild": "rebuild after a break",
        "see_clinician": "see a clinician",
        "emergency": "urgent care now",
    },
    "concern": {
        "emergency": "urgent care now",
        "see_clinician": "see a clinician",
        "stop": "stopped running",
        "red": "cut back",
        "spike": "recent spike",
        "amber": "caution",
        "rebuild": "rebuilding",
        "normal": "normal training",
    },
    "severity": {
        "info": "for information",
        "amber": "caution",
        "red": "cut back",
        "see_clinician": "see a clinician",
        "emergency": "urgent care",
    },
    "status": {
        "green": "on track",
        "amber": "caution",
        "red": "cut back",
        "see_clinician": "see a clinician",
        "emergency": "urgent care",
    },
    "sport": {
        "running": "run",
        "cycling": "ride",
        "swimming": "swim",
        "walking": "walk",
        "hiking": "hike",
        "elliptical": "elliptical",
        "fitness_equipment": "gym equipment",
        "training": "training",
        "generic": "activity",
        "other": "activity",
        "unknown": "activity",
    },
    "surface": {
        "road": "road",
        "trail": "trail",
        "track": "track",
        "treadmill": "treadmill",
        "grass": "grass",
        "unknown": "surface not known",
    },
    "intensity": {
        "very_easy": "very easy",
        "easy": "easy",
        "moderate": "moderate",
        "hard": "hard",
        "unknown": "no heart rate",
    },
    "spike": {
        "none": "no spike",
        "small": "small spike",
        "moderate": "moderate spike",
        "large": "large spike",
    },
    "outcome": {
        "imported": "imported",
        "duplicate": "already in your store",
        "replaced": "replaced an earlier copy",
        "skipped": "skipped",
        "failed": "could not be read",
    },
    "session": {
        "strength": "strength",
        "core": "core",
        "pilates": "Pilates",
        "yoga": "yoga",
        "mobility": "mobility",
        "cycling": "cycling",
        "swimming": "swimming",
        "elliptical": "elliptical",
        "walking": "walking",
        "deep_water_running": "deep-water running",
        "other": "other",
    },
}


def is_missing(value) -> bool:
    """True for None, NaN, NaT, pd.NA and non-finite floats."""
    if value is None:
        return True
    try:
        if pd.isna(value):
            return True
    except (TypeError, ValueError):
        return False
    if isinstance(value, float):
        return not math.isfinite(value)
    return False


def words(code, vocabulary: str | None = None) -> str:
    """Plain words for a code: ``words("rest_of_day", "timing") -> "later in the day"``.

    ``vocabulary`` names one of :data:`VOCABULARY`; without it every vocabulary is searched.  Personal
    rules (``personal:7``) read "your own rule 7".  An unknown code is de-underscored rather than shown
    raw (``foo_bar`` -> ``foo bar``); a missing one gives :data:`MISSING`."""
    if is_missing(code) or code == "":
        return MISSING
    code = str(code)
    if code.startswith("personal:"):
        return f"your own rule {code.split(':', 1)[1]}"
    tables = [VOCABULARY[vocabulary]] if vocabulary else list(VOCABULARY.values())
    for table in tables:
        if code in table:
            return table[code]
    return code.replace("_", " ")


def day(value) -> str:
    """``Mon 17 Aug 2026`` from a date, datetime, Timestamp or ISO string; missing gives :data:`MISSING`."""
    if is_missing(value) or value == "":
        return MISSING
    d = pd.Timestamp(value)
    return f"{d:%a} {d.day} {d:%b %Y}"


def day_time(value) -> str:
    """``Mon 17 Aug 2026 07:30`` (local wall-clock time)."""
    if is_missing(value) or value == "":
        return MISSING
    d = pd.Timestamp(value)
    return f"{day(d)} {d:%H:%M}"


def day_range(start, end) -> str:
    """``Mon 3 Aug – Sun 16 Aug 2026`` (years shown once when both are in the same year)."""
    if is_missing(start) or is_missing(end):
        return MISSING
    a, b = pd.Timestamp(start), pd.Timestamp(end)
    left = f"{a:%a} {a.day} {a:%b}" + ("" if a.year == b.year else f" {a.year}")
    return f"{left} – {day(b)}"


def to_date(value) -> dt.date:
    """A date from a date, datetime, Timestamp or ISO string."""
    return pd.Timestamp(value).date()


def distance(km, units: str = "km", *, cap: bool = False, decimals: int = 1) -> str:
    """``12.3 km`` / ``7.6 mi`` (``cap=True``: rounded down as a limit); missing gives :data:`MISSING`."""
    text = format_distance(km, units, cap=cap, decimals=decimals)
    return MISSING if text == "-" else text


def pace(s_per_km, units: str = "km") -> str:
    """``5:30 /km`` / ``8:51 /mi`` from seconds per km; missing gives :data:`MISSING`."""
    text = format_pace(s_per_km, units)
    return MISSING if text == "-" else text


def duration(minutes) -> str:
    """``45 min`` / ``1 h 05 min``; missing gives :data:`MISSING`."""
    text = format_duration(minutes)
    return MISSING if text == "-" else text


def number(value, decimals: int = 0, unit: str = "") -> str:
    """A plain number (trailing zeros dropped) with an optional unit; missing gives :data:`MISSING`."""
    if is_missing(value):
        return MISSING
    text = f"{float(value):,.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text} {unit}".strip()


def pct(value, decimals: int = 0, *, signed: bool = False) -> str:
    """``12%`` (``signed=True``: ``+12%`` / ``−5%``); missing gives :data:`MISSING`."""
    if is_missing(value):
        return MISSING
    v = float(value)
    text = f"{abs(v):.{decimals}f}%"
    if signed:
        return ("+" if v > 0 else "−" if v < 0 else "") + text
    return ("−" if v < 0 else "") + text


def score(value) -> str:
    """A pain score: ``4/10``; missing gives :data:`MISSING`."""
    if is_missing(value):
        return MISSING
    return f"{int(value)}/10"


def unit_label(units: str) -> str:
    """``kilometres`` / ``miles``."""
    return {"km": "kilometres", "mi": "miles"}.get(units, units)


_CODED_REASON = re.compile(r"^([a-z][a-z0-9_]*(?::[0-9]+)?) \(([a-z_]+)\): ")


def reason(text: str) -> str:
    """A plan reason in plain words: the ``rule (severity): `` prefix the plan writes
    (``session_spike (amber): ...``) becomes ``single-run spike (caution): ...``; other text is kept."""
    m = _CODED_REASON.match(text)
    if not m:
        return text
    return f"{words(m[1], 'rule')} ({words(m[2], 'severity')}): {text[m.end():]}"


def count(n: int, noun: str, plural: str | None = None) -> str:
    """``1 file`` / ``3 files`` (``plural`` for irregular nouns: ``count(2, "entry", "entries")``)."""
    n = int(n)
    return f"{n:,} {noun if n == 1 else (plural or noun + 's')}"
