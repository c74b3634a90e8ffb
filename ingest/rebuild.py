"""``loadwatch rebuild``: re-derive every activity from the original files the store kept.

A store written by an older loadwatch keeps the figures its readers and rules gave then (a 791-day run, a
GPS jump in the distance, a partial file kept over the complete one).  :func:`rebuild` reads every kept
original again with today's readers and :mod:`loadwatch.ingest.plausible`, and re-decides which copy of each run is
kept - one transaction per activity, so an interrupted rebuild leaves every activity whole.  What the
runner gave is never lost: pain entries and their links, and every correction
(:data:`loadwatch.ingest.activity_fixes.CARRIED_COLUMNS`), stay with the run.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pandas as pd

from loadwatch.ingest import activities, files, pain, shoes, twins
from loadwatch.ingest import activity_fixes as fixes
from loadwatch.ingest.db import now_iso
from loadwatch.ingest.errors import IngestError, NotAnActivity
from loadwatch.ingest.twins import keep_key, samples_richness, stored_keep_key


def _decode(blob: bytes, name: str):
    from loadwatch.ingest.sources import read_activity

    data = files.decompress_original(blob)
    activity = read_activity(data, name)
    return activity, samples_richness(activity.block), fixes.route_of(activity.block)


def rebuild(store, on_progress: Callable[[int, int], None] | None = None) -> dict:
    """Re-derive every activity of ``store`` (an :class:`loadwatch.ingest.store.Store`: its ``activity_ids()`` and
    ``transaction()``); returns counts ``rebuilt`` (all but failed), ``unchanged``, ``changed`` (the kept file or a figure
    changed), ``merged`` (found to be a copy of another run and folded into it), ``failed`` (the original
    cannot be read any more: the activity is kept as it was)."""
    ids = store.activity_ids()
    counts = {"unchanged": 0, "changed": 0, "merged": 0, "failed": 0}
    for n, activity_id in enumerate(ids, 1):
        try:
            outcome = _rebuild_one(store, activity_id)
        except (IngestError, NotAnActivity):
            outcome = "failed"
        if outcome is not None:
            counts[outcome] += 1
        if on_progress is not None:
            on_progress(n, len(ids))
    counts["rebuilt"] = counts["unchanged"] + counts["changed"] + counts["merged"]
    return counts


_FIGURES = ("sport", "distance_m", "elapsed_s", "start_ts", "partial", "excluded_reason", "warnings", "file_hash")


def _rebuild_one(store, activity_id: str) -> str | None:
    with store.transaction() as conn:
        row = conn.execute(f"SELECT {', '.join(_FIGURES)} FROM activities WHERE id = ?", (activity_id,)).fetchone()
        if row is None:
            return None  # merged into another activity earlier in this rebuild
        before = dict(zip(_FIGURES, row, strict=True))
        kept = conn.execute(
            "SELECT f.content_hash, f.file_name, o.data FROM files f JOIN originals o ON o.content_hash ="
            " f.content_hash WHERE f.activity_id = ? ORDER BY f.imported_at, f.content_hash", (activity_id,)).fetchall()
        decoded = []
        for content_hash, name, blob in kept:
            try:
                activity, richness, route = _decode(blob, name)
            except (IngestError, NotAnActivity):
                continue
            decoded.append((keep_key(activity.summary, richness), content_hash, name, activity, richness, route))
        if not decoded:
            return "failed"
        # the best copy among this run's files (ties: the one imported first, as an import would keep it)
        best = max(decoded, key=lambda d: d[0])
        _key, content_hash, name, activity, richness, route = best
        s = activity.summary
        now = now_iso()
        carried = activities.carried(conn, activity_id)
        # is this run a copy of another kept activity under today's rules?
        start = pd.Timestamp(s.start_utc).tz_convert("UTC")
        start_ts = start.value / 1e9
        end_ts = start_ts + (s.elapsed_s if s.elapsed_s == s.elapsed_s else 0.0)
        conn.execute("UPDATE activities SET start_ts = -1e18 WHERE id = ?", (activity_id,))  # hide from the search
        twin = twins.find_twin(conn, s, start_ts, end_ts)
        new_id = str(s.id or content_hash)
        if twin is not None:
            other = twin[0]
            other_key, _name = stored_keep_key(conn, other)
            if other_key >= best[0]:
                # the other activity is the better copy: this run folds into it, as an import folds a copy
                twins.fold(conn, activity_id, other, now, "the same run as another file, which is kept")
                return "merged"
            # this run is the better copy: the other folds into it
            for col, value in activities.carried(conn, other).items():
                if carried.get(col) is None and value is not None:
                    carried[col] = value
            pain.relink_pain(conn, other, activity_id, now)
            shoes.fold(conn, other, activity_id)
            files.move_files(conn, other, activity_id)
            activities.delete(conn, other)
        merged = twin is not None
        hist_row = conn.execute("SELECT imported_at FROM activities WHERE id = ?", (activity_id,)).fetchone()
        imported_at = hist_row[0] if hist_row else now
        # write the re-derived row under the kept file's id, with everything the runner gave
        if new_id != activity_id:
            activities.insert_activity(conn, new_id, content_hash, s, start, start_ts, richness, len(activity.block),
                                       imported_at, route=route, carried=carried)
            pain.relink_pain(conn, activity_id, new_id, now)
            shoes.relink(conn, activity_id, new_id)
            files.move_files(conn, activity_id, new_id)
            activities.delete(conn, activity_id)
        else:
            # deleting the row would unlink its pain entries (ON DELETE SET NULL): note them, put them back
            linked = pain.linked_ids(conn, activity_id)
            pair = shoes.take(conn, activity_id)  # the shoe row goes with the activity row (ON DELETE CASCADE)
            activities.delete(conn, activity_id)
            activities.insert_activity(conn, new_id, content_hash, s, start, start_ts, richness, len(activity.block),
                                       imported_at, route=route, carried=carried)
            pain.put_links(conn, linked, new_id)
            shoes.put(conn, new_id, pair)
        conn.execute("UPDATE files SET outcome = 'imported', reason = '' WHERE content_hash = ?", (content_hash,))
        conn.execute("UPDATE files SET outcome = 'duplicate', reason = ? WHERE activity_id = ? AND content_hash != ?",
                     (f"same run as {name}, which is kept", new_id, content_hash))
        after = conn.execute(f"SELECT {', '.join(_FIGURES)} FROM activities WHERE id = ?", (new_id,)).fetchone()
        after = dict(zip(_FIGURES, after, strict=True))
        same = all(_close(before[k], after[k]) for k in _FIGURES)
        return "merged" if merged else ("unchanged" if same else "changed")


def _close(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b) <= 1e-6 * max(1.0, abs(a), abs(b))
    if isinstance(a, str) and isinstance(b, str) and a.startswith("["):
        try:
            return json.loads(a) == json.loads(b)
        except ValueError:
            return a == b
    return a == b
