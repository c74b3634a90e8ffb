"""Write ``store_v1.sqlite3``: a small store as loadwatch schema version 1 wrote it (migration fixture).

Run from the repository root: ``.venv/bin/python tests/data/make_store_v1.py``.  The schema comes from
``loadwatch.ingest.store.MIGRATIONS[0]`` (a migration never changes once released); the rows are written with plain
SQL, as the v1 code did, so the file does not depend on the current ``Store`` code.
"""

from __future__ import annotations

import gzip
import hashlib
import sqlite3
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from loadwatch.ingest.store import MIGRATIONS  # noqa: E402
from loadwatch.ingest.synth import SynthRun, fit_bytes, gpx_bytes  # noqa: E402

OUT = HERE / "store_v1.sqlite3"


def main() -> None:
    from datetime import UTC, datetime

    OUT.unlink(missing_ok=True)
    conn = sqlite3.connect(OUT, isolation_level=None)
    conn.execute("BEGIN")
    MIGRATIONS[0](conn)
    conn.execute("PRAGMA user_version = 1")
    now = "2024-06-01T10:00:00.000000+00:00"
    runs = [
        ("fit", SynthRun(datetime(2024, 5, 1, 7, 0, tzinfo=UTC), 600, 2000.0, sub_sport="trail", seed=1),
         fit_bytes, 3600.0),
        ("gpx", SynthRun(datetime(2024, 5, 3, 18, 0, tzinfo=UTC), 600, 1800.0, cadence_spm=None, seed=2),
         gpx_bytes, None),
    ]
    ids = []
    for fmt, run, writer, offset in runs:
        data = writer(run)
        digest = hashlib.sha256(data).hexdigest()
        ids.append(digest)
        name = f"run-{fmt}.{fmt}"
        conn.execute("INSERT INTO files VALUES (?, ?, ?, 'imported', ?, '', ?)", (digest, name, fmt, digest, now))
        conn.execute("INSERT INTO originals VALUES (?, ?, ?, ?)",
                     (digest, name, gzip.compress(data, mtime=0), len(data)))
        hist = np.zeros(256)
        hist[150] = 300.0
        hist[155] = 299.0
        start = run.start_utc
        conn.execute(
            "INSERT INTO activities (id, file_hash, source, format, sport, sub_sport, start_utc, start_ts,"
            " utc_offset_s, elapsed_s, moving_s, distance_m, ascent_m, avg_hr_bpm, max_hr_bpm, avg_cadence_spm,"
            " device, partial, sport_inferred, surface_override, rpe, hr_hist, n_samples, imported_at)"
            " VALUES (?, ?, ?, ?, 'running', ?, ?, ?, ?, 599, 590, ?, 12.5, 152, 161, ?, ?, 0, 0, ?, ?, ?, 600, ?)",
            (digest, digest, name, fmt, run.sub_sport if fmt == "fit" else None, start.isoformat(),
             start.timestamp(), offset, run.distance_m, 170.0 if fmt == "fit" else None,
             "garmin fr945" if fmt == "fit" else None, None if fmt == "fit" else "road",
             6.0 if fmt == "fit" else None, hist.astype("<f8").tobytes(), now))
    conn.execute("INSERT INTO files VALUES (?, 'settings.fit', 'fit', 'skipped', NULL, 'a settings file', ?)",
                 ("0" * 64, now))
    conn.execute("INSERT INTO pain (at_local, score, timing, location, activity_id, symptoms, note, deleted,"
                 " created_at, updated_at) VALUES ('2024-05-01T12:00:00', 4, 'after', 'lower_back', ?,"
                 " '[\"night_pain\"]', 'stiff after hills', 0, ?, ?)", (ids[0], now, now))
    conn.execute("INSERT INTO pain (at_local, score, timing, location, activity_id, symptoms, note, deleted,"
                 " created_at, updated_at) VALUES ('2024-05-02T08:00:00', 2, 'next_morning', 'lower_back', NULL,"
                 " '[]', '', 0, ?, ?)", (now, now))
    conn.execute("INSERT INTO pain_history (pain_id, changed_at, change, at_local, score, timing, location,"
                 " activity_id, symptoms, note, deleted) VALUES (1, ?, 'update', '2024-05-01T12:00:00', 5,"
                 " 'after', 'lower_back', ?, '[]', '', 0)", (now, ids[0]))
    conn.execute("INSERT INTO settings VALUES ('units', 'mi')")
    conn.execute("INSERT INTO settings VALUES ('timezone', 'Europe/London')")
    conn.execute("INSERT INTO settings VALUES ('hr_max', '188')")
    conn.execute("INSERT INTO rules (metric, op, threshold, scope, enabled, label, origin, created_at)"
                 " VALUES ('week_km', '>', 40, 'week', 1, 'my cap', 'user', ?)", (now,))
    conn.execute("COMMIT")
    conn.execute("VACUUM")
    conn.close()
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
