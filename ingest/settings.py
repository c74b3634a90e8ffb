"""The runner's settings: the keys, their allowed values and defaults.

Setting keys are a public contract (``loadwatch settings set KEY VALUE``): never rename one.  The store
keeps them as text; :func:`parse_setting` validates and converts, :class:`Settings` is the typed view the
faces pass on to ``metrics``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

UNITS = ("km", "mi")
SEXES = ("female", "male", "unspecified")
WEEK_STARTS = ("monday", "sunday")


def system_timezone() -> str:
    """The machine's IANA time zone name (TZ, /etc/timezone, /etc/localtime), else "UTC"."""
    candidates = [os.environ.get("TZ", "").lstrip(":")]
    try:
        candidates.append(Path("/etc/timezone").read_text().strip())
    except OSError:
        pass
    try:
        target = os.path.realpath("/etc/localtime")
        if "zoneinfo/" in target:
            candidates.append(target.split("zoneinfo/", 1)[1])
    except OSError:
        pass
    for name in candidates:
        if name and _valid_zone(name):
            return name
    return "UTC"


def local_now(timezone: str) -> datetime:
    """Now on the runner's wall clock in ``timezone`` (naive, to the minute): the moment the forms offer by
    default and the latest a pain entry may carry, as the store's own "today" is the calendar day of it."""
    return datetime.now(ZoneInfo(timezone)).replace(tzinfo=None, second=0, microsecond=0)


def _valid_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


@dataclass(frozen=True)
class Settings:
    """Typed settings.  ``hr_max`` / ``hr_rest`` are None when the runner has not given them (metrics
    then estimates them from the data and says so)."""

    units: str = "km"
    hr_max: float | None = None
    hr_rest: float | None = None
    sex: str = "unspecified"
    timezone: str = "UTC"
    week_start: str = "monday"
    #: Surface of runs nothing else tells the surface of (no sub-sport, metadata or correction); None:
    #: "unknown".
    default_surface: str | None = None

    @classmethod
    def from_strings(cls, raw: dict[str, str]) -> Settings:
        """Build from the store's text values; unknown keys are ignored, bad values raise ValueError."""
        values = {k: parse_setting(k, v) for k, v in raw.items() if k in SETTING_KEYS and v is not None}
        if "timezone" not in values:
            values["timezone"] = system_timezone()
        return cls(**values)

    def as_strings(self) -> dict[str, str]:
        return {f.name: format_setting(getattr(self, f.name)) for f in fields(self)}


SETTING_KEYS: tuple[str, ...] = tuple(f.name for f in fields(Settings))


def format_setting(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def parse_setting(key: str, value: str):
    """Validate one setting given as text; returns the typed value or raises ValueError with a message
    a runner understands.  An empty string clears an optional number (hr_max, hr_rest)."""
    text = str(value).strip()
    if key == "units":
        low = text.lower()
        low = {"kilometres": "km", "kilometers": "km", "miles": "mi", "mile": "mi"}.get(low, low)
        if low not in UNITS:
            raise ValueError(f"units must be one of {', '.join(UNITS)} (got {text!r})")
        return low
    if key in ("hr_max", "hr_rest"):
        if text == "" or text.lower() in ("none", "auto"):
            return None
        try:
            bpm = float(text)
        except ValueError:
            raise ValueError(f"{key} must be a heart rate in beats per minute (got {text!r})") from None
        low, high = (100, 240) if key == "hr_max" else (25, 120)
        if not low <= bpm <= high:
            raise ValueError(f"{key} must be between {low} and {high} bpm (got {text})")
        return bpm
    if key == "sex":
        return _one_of(key, text, SEXES)
    if key == "timezone":
        if not _valid_zone(text) or text not in timezone_names():
            raise ValueError(f"timezone must be an IANA name such as Europe/London (got {text!r})")
        return text
    if key == "week_start":
        return _one_of(key, text, WEEK_STARTS)
    if key == "default_surface":
        return None if text.lower() in ("", "none", "unknown") else _one_of(key, text, DEFAULT_SURFACES)
    raise KeyError(f"unknown setting {key!r}; valid keys: {', '.join(SETTING_KEYS)}")


def _one_of(key: str, text: str, choices: tuple[str, ...]) -> str:
    """``text`` lower-cased when it is one of ``choices``; ``ValueError`` naming the setting otherwise."""
    low = text.lower()
    if low not in choices:
        raise ValueError(f"{key} must be one of {', '.join(choices)} (got {text!r})")
    return low


#: Values of ``default_surface`` (the surfaces of ``ingest.store.SURFACES`` a run can be on).
DEFAULT_SURFACES: tuple[str, ...] = ("road", "trail", "track", "treadmill")

_ZONES: set[str] | None = None


def timezone_names() -> set[str]:
    """Every IANA time zone name this machine knows, and "UTC" (read once)."""
    global _ZONES
    if _ZONES is None:
        _ZONES = available_timezones() | {"UTC"}
    return _ZONES


# --- the settings table (key, value) of the store ------------------------------------------------------

def read(conn) -> Settings:
    """The runner's settings from the store's ``settings`` table (defaults for anything not set; time zone
    defaults to the system's)."""
    return Settings.from_strings(dict(conn.execute("SELECT key, value FROM settings").fetchall()))


def has_timezone(conn) -> bool:
    """Has the runner set a time zone (rather than taking the machine's)?"""
    return conn.execute("SELECT 1 FROM settings WHERE key = 'timezone'").fetchone() is not None


def put(conn, key: str, value: str) -> None:
    """Validate and save one setting (``KeyError`` for an unknown key, ``ValueError`` for a bad value).
    An empty value clears an optional setting."""
    parsed = parse_setting(key, value)
    if parsed is None:
        conn.execute("DELETE FROM settings WHERE key = ?", (key,))
    else:
        conn.execute("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET"
                     " value = excluded.value", (key, format_setting(parsed)))
