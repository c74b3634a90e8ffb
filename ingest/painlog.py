"""The pain log's vocabulary (a public contract for the CLI and JSON) and entry validation."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

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


#: How many days before its entry's day a linked run may be, by the entry's timing: pain builds during the
#: day of a run, so an entry links to a run of its own day, and a next-morning check-in to the run of the day
#: before as well (the morning after an evening run).
LINK_DAYS_BEFORE: dict[str, int] = {"during": 0, "after": 0, "rest_of_day": 0, "next_morning": 1}

#: The timing an entry takes when the runner gives none: "after" on a day with a run, else "rest_of_day" (a day
#: without a run has no "after the run"; the episode reads the two timings alike: same timing group).
DEFAULT_TIMING_RAN, DEFAULT_TIMING_NO_RUN = "after", "rest_of_day"


def default_timing(ran: bool) -> str:
    """The timing of an entry logged without one, on a day with a run (``ran``) or without."""
    return DEFAULT_TIMING_RAN if ran else DEFAULT_TIMING_NO_RUN


class RunLinkError(ValueError):
    """A pain entry linked to a run of a day it cannot be about (:data:`LINK_DAYS_BEFORE`).  The faces word it
    with ``loadwatch.metrics.fmt.run_link_refused``; the message here names both days too."""

    def __init__(self, activity_id: str, run_day: date, entry_day: date, timing: str):
        self.activity_id, self.run_day, self.entry_day, self.timing = activity_id, run_day, entry_day, timing
        super().__init__(f"run {activity_id} was on {run_day.isoformat()}, not on the pain entry's day "
                         f"{entry_day.isoformat()}" + (" or the day before" if LINK_DAYS_BEFORE.get(timing) else "")
                         + ": link the entry to a run of its own day, or change its date")


def check_link_day(entry: PainEntry, run_day: date) -> None:
    """``RunLinkError`` unless ``entry``'s linked run (on the local day ``run_day``) is one it can be about."""
    before = (entry.at_local.date() - run_day).days
    if not 0 <= before <= LINK_DAYS_BEFORE.get(entry.timing, 0):
        raise RunLinkError(str(entry.activity_id), run_day, entry.at_local.date(), entry.timing)


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
