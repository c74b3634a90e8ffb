"""The two non-watch files a runner's folder may hold in a cohort: ``pain.csv`` and ``settings.json``.

* ``pain.csv`` has the columns ``loadwatch pain export`` writes (``id, at_local, score, timing, location,
  activity_id, symptoms, note``; symptoms joined by ``;``).  ``id`` and ``activity_id`` may be empty, and
  ``id`` is ignored (the store numbers entries itself).
* ``settings.json`` is one JSON object with keys of ``loadwatch settings`` (``units``, ``hr_max``...),
  values as ``loadwatch settings set`` takes them.

Both readers raise :class:`~loadwatch.ingest.errors.IngestError` naming the file and the row or key that is wrong.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime

from loadwatch.ingest.errors import IngestError
from loadwatch.ingest.painlog import PainEntry
from loadwatch.ingest.settings import SETTING_KEYS, parse_setting

PAIN_CSV_NAME = "pain.csv"
SETTINGS_JSON_NAME = "settings.json"
#: Columns of ``loadwatch pain export`` (dashboard/cli/cmd_pain.py writes them in this order).
PAIN_CSV_COLUMNS: tuple[str, ...] = ("id", "at_local", "score", "timing", "location", "activity_id", "symptoms",
                                     "note")
_REQUIRED = ("at_local", "score")


def read_pain_csv(data: bytes, name: str = PAIN_CSV_NAME) -> list[PainEntry]:
    """Pain entries from a ``loadwatch pain export`` CSV (UTF-8, a BOM is accepted).  ``timing`` and
    ``location`` default as ``loadwatch pain add`` does (after, lower_back) when empty."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise IngestError(name, "is not UTF-8 text") from exc
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in _REQUIRED if c not in (reader.fieldnames or ())]
    if missing:
        raise IngestError(name, f"has no {' or '.join(missing)} column (expected the columns of "
                                f"`loadwatch pain export`: {', '.join(PAIN_CSV_COLUMNS)})")
    entries = []
    for row_no, row in enumerate(reader, start=2):  # row 1 is the header
        try:
            entries.append(_pain_entry(row))
        except ValueError as exc:
            raise IngestError(name, f"row {row_no}: {exc}") from exc
    return entries


def _pain_entry(row: dict) -> PainEntry:
    def cell(key: str) -> str:
        return (row.get(key) or "").strip()

    try:
        at_local = datetime.fromisoformat(cell("at_local"))
    except ValueError:
        raise ValueError(f"at_local must be a local date and time like 2026-08-17T07:30 "
                         f"(got {cell('at_local')!r})") from None
    if at_local.tzinfo is not None:
        raise ValueError("at_local is the local wall-clock time, without a time zone")
    try:
        score = int(cell("score"))
    except ValueError:
        raise ValueError(f"score must be a whole number from 0 to 10 (got {cell('score')!r})") from None
    symptoms = tuple(s.strip() for s in cell("symptoms").split(";") if s.strip())
    return PainEntry(at_local=at_local, score=score, timing=cell("timing") or "after",
                     location=cell("location") or "lower_back", activity_id=cell("activity_id") or None,
                     symptoms=symptoms, note=row.get("note") or "")


def read_settings_json(data: bytes, name: str = SETTINGS_JSON_NAME) -> dict[str, str]:
    """``{key: value as text}`` from a settings file, every value checked by
    :func:`loadwatch.ingest.settings.parse_setting` (a JSON number or null is accepted for a number setting)."""
    try:
        raw = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise IngestError(name, f"is not valid JSON ({exc})") from exc
    if not isinstance(raw, dict):
        raise IngestError(name, "must hold one JSON object, e.g. {\"units\": \"mi\", \"timezone\": \"Europe/London\"}")
    out = {}
    for key, value in raw.items():
        if key not in SETTING_KEYS:
            raise IngestError(name, f"has an unknown setting {key!r}; valid keys: {', '.join(SETTING_KEYS)}")
        text = "" if value is None else str(value)
        try:
            parse_setting(key, text)
        except ValueError as exc:
            raise IngestError(name, str(exc)) from exc
        out[key] = text
    return out
