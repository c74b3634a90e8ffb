"""Twins: which copy of a run is kept (the most consequential rule of the store), shared by import and
``loadwatch rebuild``.

Two files are the same run when their time spans overlap by :data:`SAME_RUN_OVERLAP_FRAC` of the shorter
(:func:`overlapping`) or when one copies the other with its clock shifted by whole hours
(:func:`clock_shifted`); :func:`find_twin` asks both.  The kept copy has the larger :func:`keep_key`; the
other is folded into it (:func:`fold`: corrections, pain links and the pair of shoes move).
:func:`add_activity` is one imported file's whole decision, inside the caller's transaction.
"""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass

import numpy as np
import pandas as pd

from loadwatch.ingest import activities, files, shoes
from loadwatch.ingest import activity_fixes as fixes
from loadwatch.ingest.canonical import Activity, Summary, as_block
from loadwatch.ingest.db import float_or_none, now_iso
from loadwatch.ingest.pain import relink_pain

#: Two activities of the same sport family are the same run when their time spans overlap by at least
#: this fraction of the shorter one (the same run exported twice, e.g. FIT from the watch and GPX from
#: Strava).
SAME_RUN_OVERLAP_FRAC: float = 0.5

#: On equal richness the kept file is the one whose format ranks higher.
FORMAT_RANK: dict[str, int] = {"fit": 3, "tcx": 2, "gpx": 1}

#: A copy whose clock is shifted by whole hours: at most this many hours [h] (UTC-12 .. UTC+14) ...
MAX_CLOCK_SHIFT_H: int = 14
#: ... within this many seconds of a whole hour ...
CLOCK_SHIFT_SLACK_S: float = 120.0
#: ... with the same distance and duration within this fraction (issue 12: +-1 %).
CLOCK_SHIFT_TOLERANCE_FRAC: float = 0.01

#: Sports that say nothing about the sport: they match any sport when looking for twins.
UNTYPED_SPORTS: tuple[str, ...] = ("other", "generic", "unknown")

#: Summary figures that exist only when the file carried the matching channel: a proxy for richness when
#: the samples are not at hand (rows written before schema v2; see :func:`estimated_richness`).
CHANNEL_PROXIES: tuple[str, ...] = (
    "distance_m", "ascent_m", "avg_hr_bpm", "avg_cadence_spm", "avg_vertical_oscillation_mm",
    "avg_stance_time_ms", "avg_step_length_mm",
)
# Sports that are the same outing when their times overlap.
_SPORT_FAMILY = {"running": "foot", "walking": "foot", "hiking": "foot"}

#: The end of an activity as the overlap search computes it (the expression the ``activities_end``
#: index is built on: the search must spell it the same way to use it).
END_EXPR = "start_ts + COALESCE(elapsed_s, 0)"


@dataclass(frozen=True)
class StoreResult:
    """What :func:`add_activity` (:meth:`loadwatch.ingest.store.Store.add_activity`) did.

    ``outcome``: ``imported`` (new activity), ``duplicate`` (nothing new: ``activity_id`` is the activity
    the file belongs to) or ``replaced`` (the file is a richer copy of ``duplicate_of``, which it
    replaced).  ``reason`` is a sentence for the runner.
    """

    outcome: str
    activity_id: str
    duplicate_of: str | None = None
    reason: str = ""



def samples_richness(samples) -> int:
    """Number of canonical sample channels that hold at least one value (``samples``: a frame or a
    :class:`~loadwatch.ingest.canonical.SampleBlock`)."""
    if samples is None or len(samples) == 0:
        return 0
    return int(np.isfinite(as_block(samples).values).any(axis=0).sum())


def estimated_richness(figures: dict, fmt: str | None) -> int:
    """Channel count estimated from summary figures, on the same scale as :func:`samples_richness`
    (used when the samples are not at hand, e.g. rows written before schema v2): a distance implies
    distance and speed, an ascent elevation, an average HR / cadence / dynamics figure that channel, and
    GPS (lat + lon) is assumed for GPX and for any file with a distance."""

    def has(key: str) -> bool:
        return float_or_none(figures.get(key)) is not None

    n = 0
    if has("distance_m"):
        n += 2
    n += sum(1 for k in ("ascent_m", "avg_hr_bpm", "avg_cadence_spm", "avg_vertical_oscillation_mm",
                         "avg_stance_time_ms", "avg_step_length_mm") if has(k))
    if fmt == "gpx" or has("distance_m"):
        n += 2
    return n


def summary_richness(summary: Summary) -> int:
    """:func:`estimated_richness` of a :class:`Summary`."""
    return estimated_richness({c: getattr(summary, c) for c in CHANNEL_PROXIES}, summary.format)


def _family(sport: str | None) -> str:
    return _SPORT_FAMILY.get(sport or "other", sport or "other")


def _sports_match(sport_a, inferred_a: bool, sport_b, inferred_b: bool) -> bool:
    """Could two activities be the same outing by their sports?  The same family, or either sport is
    untyped or only a guess (overlapping time is the stronger evidence then)."""
    if inferred_a or inferred_b:
        return True
    if (sport_a or "other") in UNTYPED_SPORTS or (sport_b or "other") in UNTYPED_SPORTS:
        return True
    return _family(sport_a) == _family(sport_b)


def from_watch(fmt, device, utc_offset_s) -> bool:
    """Was the file written by the watch itself?  A FIT file that names its maker and its model
    (``device`` is "maker model") and knows its UTC offset.  A program's re-save (GoldenCheetah, an
    exporter) drops one of them: it writes no model, or local time as UTC without an offset."""
    maker, _, model = str(device or "").partition(" ")
    return fmt == "fit" and bool(maker) and bool(model.strip()) and float_or_none(utc_offset_s) is not None


def keep_key_of(partial: bool, sport, inferred: bool, distance_m, richness: int, fmt, watch: bool = False) -> tuple:
    """Which of two copies of one run is kept: the larger key.  A complete file beats a partial one,
    then the watch's own file beats a re-save of it (:func:`from_watch`: whatever the order they came in,
    a program's copy never beats the device's file, whose clock and time zone are the run's), then a file
    that knows its sport, then one with a distance, then more channels, then FIT > TCX > GPX."""
    typed = (sport or "other") not in UNTYPED_SPORTS and not inferred
    has_distance = (float_or_none(distance_m) or 0.0) > 0
    return (not partial, bool(watch), typed, has_distance, int(richness or 0), FORMAT_RANK.get(fmt, 0))


def keep_key(summary: Summary, richness: int) -> tuple:
    """:func:`keep_key_of` of a file just read."""
    return keep_key_of(bool(summary.partial), summary.sport, bool(summary.sport_inferred), summary.distance_m,
                       richness, summary.format, from_watch(summary.format, summary.device, summary.utc_offset_s))


def stored_keep_key(conn: sqlite3.Connection, activity_id: str) -> tuple[tuple, str]:
    """(:func:`keep_key_of`, file name) of an activity already in the store: the one rule import and rebuild
    both compare a new copy of a run with."""
    row = conn.execute(
        "SELECT a.richness, a.format, a.partial, a.sport, a.sport_inferred, a.distance_m, a.device,"
        " a.utc_offset_s, f.file_name FROM activities a JOIN files f ON f.content_hash = a.file_hash"
        " WHERE a.id = ?", (activity_id,)).fetchone()
    richness, fmt, partial, sport, inferred, distance, device, offset, name = row
    return keep_key_of(bool(partial), sport, bool(inferred), distance, richness or 0, fmt,
                       from_watch(fmt, device, offset)), name


def overlapping(conn: sqlite3.Connection, sport, start_ts: float, end_ts: float, inferred: bool):
    """(id, overlap fraction) of the best same-run candidate, or None."""
    rows = conn.execute(
        f"SELECT id, sport, sport_inferred, start_ts, {END_EXPR} FROM activities INDEXED BY activities_end"
        f" WHERE {END_EXPR} >= ? AND start_ts <= ?",
        (start_ts, end_ts),
    ).fetchall()
    best = None
    for aid, other_sport, other_inferred, o_start, o_end in rows:
        if not _sports_match(sport, inferred, other_sport, bool(other_inferred)):
            continue
        overlap = min(end_ts, o_end) - max(start_ts, o_start)
        shorter = min(end_ts - start_ts, o_end - o_start)
        frac = overlap / shorter if shorter > 0 else (1.0 if overlap >= 0 else 0.0)
        if frac >= SAME_RUN_OVERLAP_FRAC and (best is None or frac > best[1]):
            best = (aid, frac)
    return best


def clock_shifted(conn: sqlite3.Connection, s: Summary, start_ts: float, exclude: str | None = None):
    """(id, 1.0) of an activity this file copies with its clock shifted by whole hours (a program that
    wrote local time as UTC): same distance and duration within :data:`CLOCK_SHIFT_TOLERANCE_FRAC`,
    start a whole number of hours apart (within :data:`CLOCK_SHIFT_SLACK_S`); else None."""
    dist, elapsed = float_or_none(s.distance_m), float_or_none(s.elapsed_s)
    if not dist or not elapsed:
        return None
    span = MAX_CLOCK_SHIFT_H * 3600 + CLOCK_SHIFT_SLACK_S
    rows = conn.execute(
        "SELECT id, sport, sport_inferred, start_ts, elapsed_s, distance_m, utc_offset_s FROM activities"
        " WHERE start_ts BETWEEN ? AND ?", (start_ts - span, start_ts + span)).fetchall()
    offset = float_or_none(s.utc_offset_s)
    for aid, sport, inferred, o_start, o_elapsed, o_dist, o_offset in rows:
        if aid == exclude:
            continue
        # a copy written as local time carries no offset; two files that both know their offset
        # and still start hours apart are two runs (e.g. the same treadmill session twice a day)
        if offset is not None and o_offset is not None:
            continue
        if not _sports_match(s.sport, bool(s.sport_inferred), sport, bool(inferred)):
            continue
        if not o_dist or not o_elapsed:
            continue
        shift = start_ts - o_start
        hours = round(shift / 3600)
        if hours == 0 or abs(shift - hours * 3600) > CLOCK_SHIFT_SLACK_S:
            continue
        known = offset if offset is not None else o_offset
        if known is not None and abs(abs(shift) - abs(known)) > CLOCK_SHIFT_SLACK_S:
            continue  # the shift must be the known file's own offset from UTC
        if abs(o_dist - dist) <= CLOCK_SHIFT_TOLERANCE_FRAC * max(o_dist, dist) and \
                abs(o_elapsed - elapsed) <= CLOCK_SHIFT_TOLERANCE_FRAC * max(o_elapsed, elapsed):
            return (aid, 1.0)
    return None


def find_twin(conn: sqlite3.Connection, s: Summary, start_ts: float, end_ts: float):
    """(id, match) of a kept activity that is the same run as this file - its time span overlaps
    (:func:`overlapping`), else it is a clock-shifted copy (:func:`clock_shifted`) - or None."""
    return overlapping(conn, s.sport, start_ts, end_ts, s.sport_inferred) or clock_shifted(conn, s, start_ts)


def fold(conn: sqlite3.Connection, loser: str, winner: str, now: str, reason: str) -> None:
    """Merge activity ``loser`` into ``winner``: what the runner or an archive set moves where the winner
    has nothing, pain links follow, the loser's files become duplicates of the winner."""
    for col, value in activities.carried(conn, loser).items():
        if value is not None:
            conn.execute(f"UPDATE activities SET {col} = COALESCE({col}, ?) WHERE id = ?", (value, winner))
    relink_pain(conn, loser, winner, now)
    shoes.fold(conn, loser, winner)
    conn.execute("UPDATE files SET activity_id = ?, outcome = 'duplicate', reason = ? WHERE activity_id = ?",
                 (winner, reason, loser))
    activities.delete(conn, loser)


def fold_clock_twin(conn: sqlite3.Connection, activity_id: str, s: Summary, start_ts: float, key: tuple,
                    now: str) -> StoreResult | None:
    """The run just kept may have a clock-shifted copy already in the store that did not match the file
    it replaced (e.g. it came after a partial file of another length): fold the worse of the two into the
    better.  Returns a ``duplicate`` result when the new activity was folded away, else None."""
    twin = clock_shifted(conn, s, start_ts, exclude=activity_id)
    if twin is None:
        return None
    other = twin[0]
    other_key, other_name = stored_keep_key(conn, other)
    name = conn.execute("SELECT f.file_name FROM activities a JOIN files f ON f.content_hash = a.file_hash"
                        " WHERE a.id = ?", (activity_id,)).fetchone()[0]
    if key > other_key:
        fold(conn, other, activity_id, now, f"same run as {name} (its clock was shifted), which is kept")
        return None
    reason = f"same run as {other_name} (this file's clock is shifted), which is kept"
    fold(conn, activity_id, other, now, reason)
    return StoreResult("duplicate", other, other, reason)


# --- one imported file -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Incoming:
    """One file being added: its summary, where it starts and ends [Unix s], the figures the store keeps."""

    summary: Summary
    content_hash: str
    name: str
    start: pd.Timestamp
    start_ts: float
    end_ts: float
    richness: int
    n_samples: int | None
    route: str | None
    original: bytes
    compressed: bytes | None
    now: str

    @property
    def activity_id(self) -> str:
        return str(self.summary.id or self.content_hash)


def incoming(activity: Activity, original: bytes, file_name: str, *, richness=None, n_samples=None,
             compressed=None, content_hash=None, route=None) -> Incoming:
    """The figures :func:`add_activity` needs, computed from the file where the caller did not give them
    (the importer's workers give them, keeping the single writer light)."""
    s = activity.summary
    original = bytes(original)
    content_hash = content_hash or hashlib.sha256(original).hexdigest()
    block = activity.block if (richness is None or n_samples is None or route is None) else None
    if richness is None:
        richness = samples_richness(block) if len(block) else summary_richness(s)
    if n_samples is None and len(block):
        n_samples = len(block)
    if route is None:
        route = fixes.route_of(block)
    start = pd.Timestamp(s.start_utc)
    start = start.tz_localize("UTC") if start.tzinfo is None else start.tz_convert("UTC")
    start_ts = start.value / 1e9
    end_ts = start_ts + (float_or_none(s.elapsed_s) or 0.0)
    return Incoming(s, content_hash, str(file_name), start, start_ts, end_ts, richness, n_samples, route, original,
                    compressed, now_iso())


def add_activity(conn: sqlite3.Connection, new: Incoming) -> StoreResult:
    """Add one file and its activity inside the caller's transaction (:meth:`loadwatch.ingest.store.Store.add_activity`).

    The original is kept Zstandard-compressed, for the detail view and so nothing the runner gave is lost.
    Dedup: a file whose sha256 is known is a ``duplicate``.  Otherwise an activity of the same sport
    family whose time span overlaps this one by >= :data:`SAME_RUN_OVERLAP_FRAC` of the shorter, or a
    clock-shifted copy of it (:func:`find_twin`), is the same run: the copy with the larger
    :func:`keep_key` is kept (the one already kept on a full tie).  When the new file wins it ``replaced``
    the old activity: pain links, corrections and the pair of shoes move to the new id, and the old file
    stays recorded (and kept) as a duplicate.  Else the activity is ``imported``."""
    known = files.known_file(conn, new.content_hash)
    if known is not None:
        return StoreResult("duplicate", known[1], known[1], f"already imported as {known[2]}")
    match = None
    if conn.execute("SELECT id FROM activities WHERE id = ?", (new.activity_id,)).fetchone():
        match = (new.activity_id, 1.0)
    match = match or find_twin(conn, new.summary, new.start_ts, new.end_ts)
    new_key = keep_key(new.summary, new.richness)
    if match:
        return _against_twin(conn, new, match[0], new_key)
    _add_file(conn, new, "imported", new.activity_id, "")
    _insert(conn, new)
    shoes.assign_default(conn, new.activity_id, new.summary.sport)
    folded = fold_clock_twin(conn, new.activity_id, new.summary, new.start_ts, new_key, new.now)
    return folded or StoreResult("imported", new.activity_id, None, "")


def _add_file(conn: sqlite3.Connection, new: Incoming, outcome: str, points_to: str, reason: str) -> None:
    packed = new.compressed if new.compressed is not None else files.compress_original(new.original, new.summary.format)
    files.add_file(conn, new.content_hash, new.name, new.summary.format, outcome, points_to, reason, packed,
                   len(new.original), new.now)


def _insert(conn: sqlite3.Connection, new: Incoming, carried: dict | None = None) -> None:
    activities.insert_activity(conn, new.activity_id, new.content_hash, new.summary, new.start, new.start_ts,
                               new.richness, new.n_samples, new.now, route=new.route, carried=carried)


def _against_twin(conn: sqlite3.Connection, new: Incoming, old_id: str, new_key: tuple) -> StoreResult:
    """The file is a copy of the kept run ``old_id``: it stays a duplicate, or replaces the run when it
    is the better copy (pain links, corrections and the pair move to it; the old file stays kept)."""
    s = new.summary
    old_key, old_name = stored_keep_key(conn, old_id)
    if new.activity_id == old_id or new_key <= old_key:
        reason = f"same run as {old_name}, which is kept"
        _add_file(conn, new, "duplicate", old_id, reason)
        return StoreResult("duplicate", old_id, old_id, reason)
    old_partial = not old_key[0]
    why = ("the other file was cut short" if old_partial and not s.partial else
           "this is the watch's own file" if new_key[1] and not old_key[1] else "this file has more data")
    new_id = new.activity_id
    _add_file(conn, new, "imported", new_id, f"replaced {old_name} ({why})")
    _insert(conn, new, activities.carried(conn, old_id))
    relink_pain(conn, old_id, new_id, new.now)
    shoes.relink(conn, old_id, new_id)
    shoes.assign_default(conn, new_id, s.sport)
    files.move_files(conn, old_id, new_id)
    conn.execute("UPDATE files SET outcome = 'duplicate', reason = ? WHERE activity_id = ? AND content_hash != ?"
                 " AND outcome = 'imported'", (f"same run as {new.name}, which replaced it ({why})", new_id,
                                                new.content_hash))
    activities.delete(conn, old_id)
    folded = fold_clock_twin(conn, new_id, s, new.start_ts, new_key, new.now)
    return folded or StoreResult("replaced", new_id, old_id, f"replaced {old_name} ({why})")
