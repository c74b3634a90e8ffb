"""The pain log's vocabulary (a public contract for the CLI and JSON) and entry validation."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta

TIMINGS: tuple[str, ...] = ("during", "after", "next_morning", "rest_of_day")
LOCATIONS: tuple[str, ...] = ("lower_back", "upper_back", "buttock_hip", "leg")
SYMPTOMS: tuple[str, ...] = (
    "radiating_below_knee",
    "numbness_one_leg",
    "weakness_leg",
    "both_legs",
    "saddle_numbness",
    "bladder_bowel",
    "fever_unwell",
    "night_pain",
    "trauma",
    "weight_loss",
)

#: Plain words for the symptom checklist (dashboard) and messages.
SYMPTOM_LABELS: dict[str, str] = {
    "radiating_below_knee": "Pain spreading down one leg below the knee",
    "numbness_one_leg": "Numbness or tingling in one leg",
    "weakness_leg": "Weakness in a leg (e.g. foot slapping or dragging)",
    "both_legs": "Pain, numbness or weakness in both legs",
    "saddle_numbness": "Numbness around the buttocks, genitals or inner thighs",
    "bladder_bowel": "New trouble controlling or passing urine or stools",
    "fever_unwell": "Fever or feeling generally unwell",
    "night_pain": "Night pain that does not ease when you change position",
    "trauma": "The pain started after a fall or accident",
    "weight_loss": "Weight loss you cannot explain",
}
TIMING_LABELS: dict[str, str] = {
    "during": "During the run",
    "after": "Right after the run",
    "next_morning": "The next morning",
    "rest_of_day": "Later in the day",
}
LOCATION_LABELS: dict[str, str] = {
    "lower_back": "Lower back",
    "upper_back": "Upper back",
    "buttock_hip": "Buttock or hip",
    "leg": "Leg",
}


@dataclass
class PainEntry:
    """One pain log entry.  ``at_local`` is the runner's local wall-clock time (naive)."""

    at_local: datetime
    score: int
    timing: str = "after"
    location: str = "lower_back"
    activity_id: str | None = None
    symptoms: tuple[str, ...] = field(default_factory=tuple)
    note: str = ""

    def __post_init__(self):
        self.symptoms = tuple(dict.fromkeys(self.symptoms))
        validate(self)


def validate(entry: PainEntry) -> None:
    """Raise ValueError with a plain message when the entry is not valid."""
    if not isinstance(entry.at_local, datetime):
        raise ValueError("the pain entry needs a date and time")
    if entry.at_local.tzinfo is not None:
        raise ValueError("at_local is the local wall-clock time, without a time zone")
    try:
        score = int(entry.score)
    except (TypeError, ValueError):
        raise ValueError(f"pain score must be a whole number from 0 to 10 (got {entry.score!r})") from None
    if score != entry.score or not 0 <= score <= 10:
        raise ValueError(f"pain score must be a whole number from 0 to 10 (got {entry.score!r})")
    if entry.timing not in TIMINGS:
        raise ValueError(f"timing must be one of {', '.join(TIMINGS)} (got {entry.timing!r})")
    if entry.location not in LOCATIONS:
        raise ValueError(f"location must be one of {', '.join(LOCATIONS)} (got {entry.location!r})")
    bad = [s for s in entry.symptoms if s not in SYMPTOMS]
    if bad:
        raise ValueError(f"unknown symptom {bad[0]!r}; valid: {', '.join(SYMPTOMS)}")


#: A pain entry may be this many minutes ahead of the runner's clock (a phone and a laptop a little apart).
FUTURE_SLACK_MIN: int = 5


def check_not_future(at_local: datetime, now_local: datetime, *, slack_min: int = FUTURE_SLACK_MIN) -> None:
    """Raise ValueError in plain words when a pain entry at ``at_local`` lies in the future: more than
    ``slack_min`` [min] after ``now_local``, the runner's wall clock (both naive local times)."""
    if at_local > now_local + timedelta(minutes=slack_min):
        raise ValueError(f"a pain entry cannot be in the future: it is {_when(now_local)} where you are, and the "
                         f"entry says {_when(at_local)}; log how your back feels now, or give an earlier time")


def _when(at: datetime) -> str:
    return f"{at:%a} {at.day} {at:%b %Y %H:%M}"


def pain_row(entry: PainEntry) -> dict:
    """The store's ``pain`` columns of an entry (``at_local`` to the second, ``symptoms`` as JSON)."""
    return {
        "at_local": entry.at_local.replace(microsecond=0).isoformat(),
        "score": int(entry.score),
        "timing": entry.timing,
        "location": entry.location,
        "activity_id": entry.activity_id,
        "symptoms": json.dumps(list(entry.symptoms)),
        "note": str(entry.note or ""),
    }
