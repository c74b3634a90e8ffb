"""``loadwatch import`` and ``loadwatch activities``: a thin face over ``ingest.importer`` and the store."""

from __future__ import annotations

import json
import math
import sys
from datetime import timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd

from dashboard import term
from ingest.importer import Outcome, import_paths, summarize
from ingest.store import Store
from metrics import fmt

KM_PER_MI = 1.609344


def register(sub, add_db_option) -> None:
    p = sub.add_parser(
        "import", help="import watch files, folders or export archives (FIT, GPX, TCX, zip, gz)",
        description="Import watch files into your local store. Files already imported are recognised and "
                    "skipped; the same run exported twice (e.g. FIT and GPX) is kept once, from the richer file.")
    p.add_argument("paths", nargs="+", metavar="PATH", help="a file, folder or archive (folders are read recursively)")
    p.add_argument("--verbose", "-v", action="store_true", help="also list files skipped as not activities")
    p.add_argument("--workers", type=int, default=2, metavar="N", help="decoding processes (default 2; 0 = in-process)")
    p.add_argument("--timeout", type=float, default=60.0, metavar="SECONDS",
                   help="give up on a file that takes longer than this to read (default 60)")
    add_db_option(p)
    p.set_defaults(func=cmd_import)

    a = sub.add_parser("activities", help="list the imported activities")
    a.add_argument("--json", action="store_true", help="machine-readable output (a JSON list)")
    add_db_option(a)
    a.set_defaults(func=cmd_activities)


# --- import ----------------------------------------------------------------------------------------------

_ProgressBar = term.ProgressBar  # rich's bar (dashboard.term)


def _problem_line(o: Outcome) -> str:
    return f"{o.status}: {o.name}: {o.reason}"


def cmd_import(args) -> int:
    missing = [p for p in args.paths if not Path(p).exists()]
    if missing:
        for p in missing:
            print(f"loadwatch import: no such file or folder: {p}", file=sys.stderr)
        return 2
    if args.workers < 0 or not args.timeout > 0:
        print("loadwatch import: --workers must be 0 or more and --timeout above 0", file=sys.stderr)
        return 2
    bar = _ProgressBar(sys.stderr)

    def on_outcome(o: Outcome) -> None:
        # problem lines appear as they happen, above the bar
        if o.status == "failed" or (o.status == "skipped" and args.verbose):
            bar.clear()
            print(_problem_line(o), file=sys.stderr)

    with Store(args.db) as store:
        outcomes = import_paths(store, args.paths, progress=bar, on_outcome=on_outcome,
                                workers=args.workers, timeout_s=args.timeout)
    bar.clear()
    counts = summarize(outcomes)
    print(f"Imported {counts['imported']}, duplicates {counts['duplicate']}, skipped {counts['skipped']}, "
          f"failed {counts['failed']}")
    return 1 if counts["failed"] else 0


# --- activities ------------------------------------------------------------------------------------------

def _surface(sport, sub_sport, override) -> str:
    try:
        from metrics.surface import activity_surface
    except ImportError:  # pragma: no cover - metrics.surface not there yet
        from metrics.thresholds import SUB_SPORT_SURFACE

        def activity_surface(sub, ovr=None):
            if ovr:
                return ovr
            return SUB_SPORT_SURFACE.get(str(sub or "").lower(), "unknown")
    if isinstance(override, str) and override:
        return activity_surface(sub_sport, override)
    if sport != "running":
        return "unknown"
    return activity_surface(sub_sport, None)


def _num(value) -> float | None:
    if value is None:
        return None
    f = float(value)
    return f if math.isfinite(f) else None


def _local_start(start_utc: pd.Timestamp, offset_s, zone: ZoneInfo):
    start = start_utc.to_pydatetime()
    if offset_s is not None and math.isfinite(float(offset_s)):
        return start.astimezone(timezone(timedelta(seconds=float(offset_s))))
    return start.astimezone(zone)


def activity_records(frame: pd.DataFrame, tz_name: str) -> list[dict]:
    """The JSON objects of ``loadwatch activities --json`` (NaN becomes None)."""
    zone = ZoneInfo(tz_name)
    out = []
    for row in frame.itertuples(index=False):
        out.append({
            "id": row.id,
            "source": row.source,
            "format": row.format,
            "sport": row.sport,
            "sub_sport": row.sub_sport,
            "surface": _surface(row.sport, row.sub_sport, row.surface_override),
            "start_utc": row.start_utc.isoformat(),
            "start_local": _local_start(row.start_utc, row.utc_offset_s, zone).isoformat(),
            "duration_s": _num(row.elapsed_s),
            "moving_s": _num(row.moving_s),
            "distance_m": _num(row.distance_m),
            "ascent_m": _num(row.ascent_m),
            "avg_hr_bpm": _num(row.avg_hr_bpm),
            "max_hr_bpm": _num(row.max_hr_bpm),
            "avg_cadence_spm": _num(row.avg_cadence_spm),
            "device": row.device,
            "partial": bool(row.partial),
            "sport_inferred": bool(row.sport_inferred),
            "rpe": _num(row.rpe),
        })
    return out


def cmd_activities(args) -> int:
    with Store(args.db) as store:
        settings = store.settings()
        frame = store.activities()
    records = activity_records(frame, settings.timezone)
    if args.json:
        print(json.dumps(records, indent=2, allow_nan=False))
        return 0
    if not records:
        print("No activities yet. Import your watch files with: loadwatch import PATH")
        return 0
    units = settings.units
    header = ("Date", "Start", "Sport", "Surface", f"Distance ({units})", "Time", "Avg HR")
    rows = []
    for r in records:
        dist = r["distance_m"]
        dist_txt = fmt.MISSING if dist is None else f"{dist / 1000 / (KM_PER_MI if units == 'mi' else 1):.2f}"
        hr = r["avg_hr_bpm"]
        rows.append((fmt.day(r["start_local"][:10]), r["start_local"][11:16], fmt.words(r["sport"], "sport"),
                     fmt.words(r["surface"], "surface"), dist_txt,
                     fmt.clock(r["moving_s"] if r["moving_s"] else r["duration_s"]),
                     fmt.number(hr, 0)))
    print(term.table(header, rows, right=(4, 5, 6)))
    print(f"{len(records)} activities")
    return 0
