"""``loadwatch cohort export DIR --out SHARED [--shift-dates]``: the cohort's tables for sharing (issue 25).

What leaves: ``runs``, ``weeks``, ``phases``, ``pain`` and ``ostrc`` (the tables ``cohort analyse`` reads, so a
research group can run it on the shared folder).  What does not: names and notes - runner ids become
``runner-001``... in a random order, run ids ``run-00001``..., the phases lose their reason (plain words
that may quote a note or a date), pain entries have no note or symptoms in the cohort tables to begin with,
and the files, alerts and status tables and the runners' stores stay behind.  No key from the old ids to
the new ones is written.

``--shift-dates`` moves every date and time of a runner by one random whole number of weeks (1 to
:data:`MAX_SHIFT_WEEKS`, earlier or later; a different shift for each runner): every interval within a
runner is kept, and so are weekdays and Monday-to-Sunday weeks, so every figure of ``cohort analyse`` is
unchanged.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import secrets
from pathlib import Path

import numpy as np
import pandas as pd

from loadwatch.ingest.private_files import make_private_dirs, write_private

SHARED_TABLES: tuple[str, ...] = ("runs", "weeks", "phases", "pain", "ostrc")
#: Columns that may carry a runner's own words (left out of the export).
DROPPED_COLUMNS: dict[str, tuple[str, ...]] = {"phases": ("reason",), "pain": ("note", "symptoms", "activity_id")}
#: The largest shift [weeks] either way (about five years).
MAX_SHIFT_WEEKS: int = 260


def _shift_column(values: pd.Series, days: pd.Series) -> pd.Series:
    """``values`` moved by ``days`` (one number per row) when they are dates or times; else unchanged."""
    delta = pd.to_timedelta(days, unit="D")
    if pd.api.types.is_datetime64_any_dtype(values):
        return values + delta.to_numpy()
    sample = values.dropna()
    if not len(sample):
        return values
    first = sample.iloc[0]
    if isinstance(first, dt.datetime | pd.Timestamp):
        return pd.Series([v + d if not pd.isna(v) else v for v, d in zip(values, delta, strict=True)],
                         index=values.index, dtype=object)
    if isinstance(first, dt.date):
        return pd.Series([v + dt.timedelta(days=int(d.days)) if not pd.isna(v) else v
                          for v, d in zip(values, delta, strict=True)], index=values.index, dtype=object)
    return values


def export_cohort(src: str | os.PathLike, out: str | os.PathLike, *, shift_dates: bool = False,
                  rng: np.random.Generator | None = None) -> dict:
    """Write the shareable tables of the cohort in ``src`` to ``out``; returns what was written
    (``runners``, ``tables`` with their row counts, ``shifted``).  ``rng``: for tests (default: the
    operating system's randomness, so neither the order nor the shifts can be replayed)."""
    from loadwatch.dashboard.pipelines.cohort_engine import read_table, table_path

    src, out = Path(src).resolve(), Path(out).resolve()
    if not table_path(src, "runs").is_file():
        raise ValueError(f"{src}: no cohort here (run `loadwatch cohort import ROOT --out {src}` first)")
    if out == src:
        raise ValueError(f"{out}: choose another folder for the export than the cohort itself")
    if rng is None:
        rng = np.random.default_rng(secrets.randbits(128))
    tables = {t: read_table(src, t) for t in SHARED_TABLES if table_path(src, t).is_file()}
    runners = sorted(set().union(*(set(f["runner"].astype(str)) for f in tables.values() if len(f))))
    order = rng.permutation(len(runners))
    width = max(3, len(str(len(runners))))
    alias = {r: f"runner-{int(k) + 1:0{width}d}" for r, k in zip(runners, order, strict=True)}
    weeks = rng.integers(1, MAX_SHIFT_WEEKS + 1, size=len(runners)) * rng.choice([-1, 1], size=len(runners))
    shift = {r: int(w) * 7 if shift_dates else 0 for r, w in zip(runners, weeks, strict=True)}

    make_private_dirs(out)  # the folders it creates are 0700
    written = {}
    run_alias: dict[str, str] = {}
    for name, frame in tables.items():
        frame = frame.drop(columns=[c for c in DROPPED_COLUMNS.get(name, ()) if c in frame.columns])
        frame = frame.copy()
        days = frame["runner"].astype(str).map(shift).fillna(0)
        if shift_dates:
            for col in frame.columns:
                if col != "runner":
                    frame[col] = _shift_column(frame[col], days)
        frame["runner"] = frame["runner"].astype(str).map(alias)
        if not len(frame):
            frame = frame.astype({"runner": object})
        frame = frame.sort_values([c for c in ("runner", "date", "week_start", "at_local") if c in frame.columns],
                                  kind="stable").reset_index(drop=True)
        if name == "runs" and "id" in frame:  # numbered in the new order, so they say nothing of the old one
            ids = frame["id"].astype(str)
            run_alias.update({i: f"run-{n + 1:05d}" for n, i in enumerate(dict.fromkeys(ids))})
            frame["id"] = ids.map(run_alias)
        buf = io.BytesIO()
        frame.to_parquet(buf, engine="pyarrow", index=False)
        write_private(out / f"{name}.parquet", buf.getvalue())  # health data, even renamed: 0600
        written[name] = len(frame)
    summary = {"runners": len(runners), "tables": written, "shifted": shift_dates,
               "dropped": {t: list(c) for t, c in DROPPED_COLUMNS.items()}}
    write_private(out / "export.json", json.dumps(summary, indent=2))
    return summary
