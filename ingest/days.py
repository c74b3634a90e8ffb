"""The one check of a local day the runner types in (a session, an assessment, a weekly answer, a PSFS
score, a programme's start or stop): a date, not in the future, not before :data:`EARLIEST_DAY`."""

from __future__ import annotations

import datetime as dt

#: Earliest day the store takes (nothing older is a training log a runner types in; 0202 is a typo).
EARLIEST_DAY = dt.date(1990, 1, 1)


def check_day(value, today: dt.date, what: str = "the date") -> dt.date:
    """A local day from a ``date``, a ``datetime`` (its date) or ISO text (``YYYY-MM-DD``, a time after
    it is ignored); ``ValueError`` in plain words naming ``what`` for text that is not a date, a day after
    ``today`` or before :data:`EARLIEST_DAY`."""
    day = value
    if isinstance(day, dt.datetime):
        day = day.date()
    if not isinstance(day, dt.date):
        try:
            day = dt.datetime.fromisoformat(str(day).strip()).date()
        except ValueError:
            raise ValueError(f"{what} must be YYYY-MM-DD (got {value!r})") from None
    if day > today:
        raise ValueError(f"{what} {day.isoformat()} is in the future (today is {today.isoformat()})")
    if day < EARLIEST_DAY:
        raise ValueError(f"{what} {day.isoformat()} is before {EARLIEST_DAY.isoformat()}; check the year")
    return day
