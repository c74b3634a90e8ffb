"""Activities (one table family of the store): one row per kept run, ride or walk, as the runner means it.

``activities``: the summary figures of the kept file (:data:`ACTIVITY_DTYPES`), its ``richness``,
``hr_hist`` (seconds at each whole bpm), ``route``, and the corrections and archive metadata of
:mod:`loadwatch.ingest.activity_fixes`.  Which copy of a run is kept is :mod:`loadwatch.ingest.twins`.

Every function takes an open connection; :class:`loadwatch.ingest.store.Store` has the thin methods that open one.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable

import numpy as np
import pandas as pd

from loadwatch.ingest import activity_fixes as fixes
from loadwatch.ingest import local_time, settings, shoes
from loadwatch.ingest.canonical import HR_BINS, SPORTS, Summary
from loadwatch.ingest.db import float_or_none

SURFACES: tuple[str, ...] = ("road", "trail", "track", "treadmill", "unknown")

#: Columns of :meth:`ingest.store.Store.activities`, with their dtypes.
ACTIVITY_DTYPES: dict[str, str] = {
    "id": "object",
    "source": "object",
    "format": "object",
    "sport": "object",
    "sub_sport": "object",
    "start_utc": "datetime64[ns, UTC]",
    "utc_offset_s": "float64",
    "elapsed_s": "float64",
    "moving_s": "float64",
    "distance_m": "float64",
    "ascent_m": "float64",
    "descent_m": "float64",
    "avg_hr_bpm": "float64",
    "max_hr_bpm": "float64",
    "avg_cadence_spm": "float64",
    "avg_vertical_oscillation_mm": "float64",
    "avg_stance_time_ms": "float64",
    "avg_step_length_mm": "float64",
    "device": "object",
    "partial": "bool",
    "sport_inferred": "bool",
    "surface_override": "object",
    "rpe": "float64",
    "imported_at": "datetime64[ns, UTC]",
    # issue 12: see ingest.activity_fixes.effective
    "warnings": "object",
    "excluded_reason": "object",
    "name": "object",
    "surface_hint": "object",
    "sport_from_file": "object",
    "corrected": "bool",
}
ACTIVITY_COLUMNS: tuple[str, ...] = tuple(ACTIVITY_DTYPES)

FLOAT_SUMMARY: tuple[str, ...] = (
    "utc_offset_s", "elapsed_s", "moving_s", "distance_m", "ascent_m", "descent_m", "avg_hr_bpm", "max_hr_bpm",
    "avg_cadence_spm", "avg_vertical_oscillation_mm", "avg_stance_time_ms", "avg_step_length_mm",
)

# activities() columns computed by activity_fixes.effective, and the raw columns it reads
_EFFECTIVE_ONLY = ("surface_hint", "sport_from_file", "corrected")
_RAW_FIX_COLUMNS = ("meta_sport", "meta_surface", "sport_override", "distance_override_m", "name_override",
                    "surface", "route", "rules_version", "confirmed")

#: ``correct(shoe=...)`` not given: the run's pair is left as it is.
KEEP = object()


def hist_blob(hist) -> bytes | None:
    """The heart-rate histogram as stored (:data:`loadwatch.ingest.canonical.HR_BINS` little-endian float64)."""
    if hist is None:
        return None
    arr = np.asarray(hist, dtype="<f8").reshape(-1)
    if arr.size != HR_BINS:
        raise ValueError(f"heart-rate histogram must have {HR_BINS} bins (got {arr.size})")
    return arr.tobytes()


def insert_activity(conn: sqlite3.Connection, activity_id: str, content_hash: str, s: Summary, start: pd.Timestamp,
                    start_ts: float, richness: int, n_samples: int | None, now: str, *, route: str | None = None,
                    carried: dict | None = None) -> None:
    """Write one activity's row from the kept file's summary; ``carried``: what the runner or an archive
    set on an earlier copy of the run (:func:`carried`), which the new row keeps."""
    values = {
        "id": activity_id,
        "file_hash": content_hash,
        "source": s.source,
        "format": s.format,
        "sport": s.sport or "other",
        "sub_sport": s.sub_sport,
        "start_utc": start.isoformat(),
        "start_ts": start_ts,
        **{c: float_or_none(getattr(s, c)) for c in FLOAT_SUMMARY},
        "device": s.device,
        "partial": int(bool(s.partial)),
        "sport_inferred": int(bool(s.sport_inferred)),
        "hr_hist": hist_blob(s.hr_seconds_by_bpm),
        "n_samples": n_samples,
        "imported_at": now,
        "richness": int(richness),
        "warnings": json.dumps(list(s.warnings or ())),
        "excluded_reason": s.excluded_reason,
        "surface": s.surface,
        "route": route,
        "rules_version": fixes.RULES_VERSION,
        "name": s.name,
        "surface_override": fixes.route_surface(conn, route),
    }
    for col, value in (carried or {}).items():
        if value is not None and (col in fixes.CORRECTION_COLUMNS or values.get(col) is None):
            values[col] = value
    cols = ", ".join(values)
    marks = ", ".join("?" for _ in values)
    conn.execute(f"INSERT INTO activities ({cols}) VALUES ({marks})", tuple(values.values()))


def carried(conn: sqlite3.Connection, activity_id: str) -> dict:
    """What moves with a run to a better copy of it: :data:`loadwatch.ingest.activity_fixes.CARRIED_COLUMNS`."""
    row = conn.execute(f"SELECT {', '.join(fixes.CARRIED_COLUMNS)} FROM activities WHERE id = ?",
                       (activity_id,)).fetchone()
    return dict(zip(fixes.CARRIED_COLUMNS, row, strict=True))


def delete(conn: sqlite3.Connection, activity_id: str) -> None:
    conn.execute("DELETE FROM activities WHERE id = ?", (activity_id,))


def frame(conn: sqlite3.Connection) -> pd.DataFrame:
    """Every activity, sorted by start time: :data:`ACTIVITY_COLUMNS` with :data:`ACTIVITY_DTYPES` (see
    :meth:`loadwatch.ingest.store.Store.activities`)."""
    raw = [c for c in ACTIVITY_COLUMNS if c not in _EFFECTIVE_ONLY] + list(_RAW_FIX_COLUMNS)
    rows = conn.execute(f"SELECT {', '.join(raw)} FROM activities ORDER BY start_ts, id").fetchall()
    out = pd.DataFrame.from_records(rows, columns=raw)
    out = fixes.effective(out, settings.read(conn).default_surface)[list(ACTIVITY_COLUMNS)]
    for col, dtype in ACTIVITY_DTYPES.items():
        if dtype.startswith("datetime"):
            out[col] = pd.to_datetime(out[col], utc=True, format="ISO8601").astype(dtype)
        elif dtype == "float64":
            out[col] = pd.to_numeric(out[col], errors="coerce").astype("float64")
        elif dtype == "bool":
            out[col] = out[col].fillna(0).astype(bool)
        else:
            out[col] = out[col].astype(object).where(out[col].notna(), None)
    if not settings.has_timezone(conn):
        # no time zone set: a GPX or TCX run takes the offset of the runner's own watch files around it
        # (ingest.local_time), then the machine's zone; every face reads local days from this frame
        out["utc_offset_s"] = local_time.borrow_watch_offsets(out)
    return out.reset_index(drop=True)


def hr_histograms(conn: sqlite3.Connection, ids: Iterable[str] | None = None) -> pd.DataFrame:
    """Seconds at each whole bpm: index activity id, columns 0..255 (activities without heart rate are
    left out)."""
    sql = "SELECT id, hr_hist FROM activities WHERE hr_hist IS NOT NULL"
    if ids is None:
        rows = conn.execute(f"{sql} ORDER BY start_ts").fetchall()
    else:
        ids = list(ids)
        rows = []
        for i in range(0, len(ids), 500):
            chunk = ids[i:i + 500]
            rows += conn.execute(f"{sql} AND id IN ({', '.join('?' for _ in chunk)}) ORDER BY start_ts",
                                 chunk).fetchall()
    data = np.vstack([np.frombuffer(b, dtype="<f8") for _, b in rows]) if rows else np.zeros((0, HR_BINS))
    return pd.DataFrame(data, index=pd.Index([r[0] for r in rows], name="id", dtype=object),
                        columns=pd.RangeIndex(HR_BINS))


def correct(conn: sqlite3.Connection, activity_id: str, *, shoe=KEEP, **corrections) -> dict:
    """The runner's corrections to one activity and, unless ``shoe`` is :data:`KEEP`, the pair it was in
    (see :meth:`loadwatch.ingest.store.Store.correct_activity`), inside the caller's transaction."""
    if shoe is not KEEP:
        shoes.assign_run(conn, activity_id, shoe, source="user", override_user=True)
    result = fixes.correct(conn, activity_id, sports=SPORTS, surfaces=SURFACES, **corrections)
    if shoe is not KEEP:
        result.setdefault("changed", {})["shoe"] = None if shoe is None else shoes.clean_name(shoe)
    return result


def resolve_id(conn: sqlite3.Connection, prefix: str) -> str:
    """The full id of the one activity whose id starts with ``prefix`` (KeyError when none or several)."""
    text = str(prefix).strip().lower()
    if len(text) < 4:
        raise KeyError(f"give at least 4 characters of the activity id (got {prefix!r})")
    rows = conn.execute("SELECT id FROM activities WHERE id LIKE ? ORDER BY id LIMIT 2", (text + "%",)).fetchall()
    if not rows:
        raise KeyError(f"no activity with id {prefix}")
    if len(rows) > 1:
        raise KeyError(f"several activities have ids starting with {prefix}; give more characters")
    return rows[0][0]


def apply_metadata(conn: sqlite3.Connection, activity_id: str, *, sport=None, surface=None, name=None) -> None:
    """What an export archive says about an activity (:mod:`loadwatch.ingest.archive_meta`): its sport, surface and
    name.  The runner's own corrections still win; a known sport ends "sport uncertain"."""
    conn.execute(
        "UPDATE activities SET meta_sport = COALESCE(?, meta_sport), meta_surface = COALESCE(?, meta_surface),"
        " name = COALESCE(?, name) WHERE id = ?", (sport, surface, name, activity_id))
    if sport and sport != "other":
        conn.execute("UPDATE activities SET excluded_reason = NULL WHERE id = ? AND excluded_reason LIKE"
                     " 'sport uncertain%'", (activity_id,))


def starting_at(conn: sqlite3.Connection, start_utc_s: float, tolerance_s: float = 90.0) -> str | None:
    """The id of the activity starting closest to ``start_utc_s`` [Unix s] within ``tolerance_s``."""
    row = conn.execute("SELECT id FROM activities WHERE start_ts BETWEEN ? AND ? ORDER BY ABS(start_ts - ?)"
                       " LIMIT 1", (start_utc_s - tolerance_s, start_utc_s + tolerance_s, start_utc_s)).fetchone()
    return row[0] if row else None


def ids(conn: sqlite3.Connection) -> list[str]:
    """Every activity's id, by start time."""
    return [r[0] for r in conn.execute("SELECT id FROM activities ORDER BY start_ts, id")]


def needs_rebuild(conn: sqlite3.Connection) -> int:
    """How many activities were derived by an older loadwatch (``loadwatch rebuild`` updates them)."""
    return int(conn.execute("SELECT COUNT(*) FROM activities WHERE rules_version IS NULL OR rules_version < ?",
                            (fixes.RULES_VERSION,)).fetchone()[0])


def set_surface_override(conn: sqlite3.Connection, activity_id: str, surface: str | None) -> None:
    if surface is not None and surface not in SURFACES:
        raise ValueError(f"surface must be one of {', '.join(SURFACES)} (got {surface!r})")
    _update(conn, activity_id, "surface_override", surface)


def set_rpe(conn: sqlite3.Connection, activity_id: str, rpe: float | None) -> None:
    """Session RPE on the CR-10 scale (0-10), or None to clear it."""
    if rpe is not None:
        value = float_or_none(rpe)
        if value is None or not 0 <= value <= 10:
            raise ValueError(f"RPE must be a number from 0 to 10 (got {rpe!r})")
        rpe = value
    _update(conn, activity_id, "rpe", rpe)


def _update(conn: sqlite3.Connection, activity_id: str, column: str, value) -> None:
    if conn.execute(f"UPDATE activities SET {column} = ? WHERE id = ?", (value, activity_id)).rowcount == 0:
        raise KeyError(f"no activity with id {activity_id}")
