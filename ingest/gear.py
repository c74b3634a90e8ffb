"""Gear named in an export's own tables: which pair of shoes each activity file was run in.

Strava's bulk export holds ``activities.csv`` beside the ``activities/`` folder; its ``Filename`` column
names each activity's file (``activities/123.fit.gz``) and ``Activity Gear`` the shoes (or bike) it was
recorded with.  :func:`read_gear_table` turns it into ``{file path as the importer names it: gear}``;
the importer matches those paths to the files it imported and calls
:meth:`ingest.store.Store.assign_gear` for the runs.

Garmin's account export does not tie gear to its activity files in a way loadwatch can read yet, so
only the Strava table is read.
"""

from __future__ import annotations

import csv
import io
import posixpath

#: Largest export table read for gear [bytes] (a Strava ``activities.csv`` of 10 years is ~5 MB).
MAX_TABLE_BYTES: int = 50 * 1024 * 1024

_STRAVA_TABLE = "activities.csv"


def is_gear_table(name: str) -> bool:
    """True for a file whose gear loadwatch reads (Strava's ``activities.csv``)."""
    return posixpath.basename(str(name).replace("\\", "/")).lower() == _STRAVA_TABLE


def read_gear_table(data: bytes, name: str) -> dict[str, str]:
    """``{path: gear name}`` from a Strava ``activities.csv`` found at ``name`` (as the importer shows it,
    e.g. ``export.zip/activities.csv``).  The path is the table's folder joined with the row's
    ``Filename`` (``export.zip/activities/123.fit.gz``).  Rows without a file or without gear are left out;
    a table without those columns (not Strava's) gives ``{}``."""
    if len(data) > MAX_TABLE_BYTES:
        return {}
    text = data.decode("utf-8-sig", errors="replace")
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        return {}
    # Strava repeats some column names (two "Distance" columns); the first of each is the one wanted
    cols: dict[str, int] = {}
    for i, col in enumerate(header):
        cols.setdefault(col.strip().lower(), i)
    if "filename" not in cols or "activity gear" not in cols:
        return {}
    folder = posixpath.dirname(str(name).replace("\\", "/"))
    out: dict[str, str] = {}
    try:
        for row in reader:
            if len(row) <= max(cols["filename"], cols["activity gear"]):
                continue
            file_name = row[cols["filename"]].strip().replace("\\", "/").lstrip("/")
            gear = " ".join(row[cols["activity gear"]].split())
            if file_name and gear:
                out[posixpath.join(folder, file_name) if folder else file_name] = gear
    except csv.Error:
        return out
    return out
