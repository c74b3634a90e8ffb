"""``loadwatch import`` and ``loadwatch activities``: a thin face over ``ingest.importer`` and the store."""

from __future__ import annotations

import argparse
import json
import math
import sys
from datetime import timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd

from ingest.importer import Outcome, import_paths, summarize
from ingest.store import Store

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
    asub = a.add_subparsers(dest="activities_command", metavar="ACTION")
    aset = asub.add_parser("set", help="correct one activity (its shoes)",
                           description="Correct one activity. --shoe NAME puts the run in that pair (--shoe none: "
                                       "in no pair); a pair retired before the run cannot take it.")
    aset.add_argument("id", metavar="ID", help="the activity's id (or a unique start of it; see `loadwatch activities`)")
    aset.add_argument("--shoe", metavar="NAME", default=None, help="the pair of shoes the run was in")
    aset.add_argument("--db", metavar="PATH", default=argparse.SUPPRESS,
                      help="the loadwatch store to use (default: $LOADWATCH_DB or your user data folder)")
    aset.set_defaults(func=cmd_activities_set)


# --- import ----------------------------------------------------------------------------------------------

class _ProgressBar:
    """A one-line text bar on stderr, drawn only when stderr is a terminal."""

    WIDTH = 30

    def __init__(self, stream):
        self.stream = stream
        self.enabled = bool(getattr(stream, "isatty", lambda: False)())
        self.shown = False

    def __call__(self, done: int, total: int | None, name: str) -> None:
        if not self.enabled:
            return
        if total:
            filled = int(self.WIDTH * done / total)
            text = f"[{'#' * filled}{'.' * (self.WIDTH - filled)}] {done}/{total}"
        else:
            text = f"{done} files"
        short = name if len(name) <= 40 else "..." + name[-37:]
        self.stream.write(f"\r\x1b[K{text} {short}")
        self.stream.flush()
        self.shown = True

    def clear(self) -> None:
        if self.enabled and self.shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


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

def _resolve_activity(store, text: str) -> str:
    ids = [str(i) for i in store.activities()["id"]]
    if text in ids:
        return text
    matches = [i for i in ids if i.startswith(text.lower())]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise KeyError(f"no activity with id {text!r} (see `loadwatch activities`)")
    raise ValueError(f"{len(matches)} activities start with {text!r}; give more of the id")


def cmd_activities_set(args) -> int:
    """``loadwatch activities set ID [--shoe NAME]``: one flag per correction; bad input exits 2."""
    from dashboard import cmd_gear

    if args.shoe is None:
        print("loadwatch activities set: nothing to change (give --shoe NAME)", file=sys.stderr)
        return 2
    lines = []
    try:
        with Store(args.db) as store:
            activity_id = _resolve_activity(store, args.id)
            if args.shoe is not None:
                lines.append(cmd_gear.activities_set_shoe(store, activity_id, args.shoe))
    except (ValueError, KeyError) as exc:
        print(f"loadwatch activities set: {exc.args[0] if exc.args else exc}", file=sys.stderr)
        return 2
    print("\n".join(lines))
    return 0


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


def activity_records(frame: pd.DataFrame, tz_name: str, shoes: dict[str, str] | None = None) -> list[dict]:
    """The JSON objects of ``loadwatch activities --json`` (NaN becomes None); ``shoes``: activity id ->
    the pair it was in (``shoe``, null for none)."""
    zone = ZoneInfo(tz_name)
    shoes = shoes or {}
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
            "shoe": shoes.get(row.id),
        })
    return out


def _hms(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    s = int(round(seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


def cmd_activities(args) -> int:
    with Store(args.db) as store:
        settings = store.settings()
        frame = store.activities()
        given = store.activity_shoes()
    records = activity_records(frame, settings.timezone, dict(zip(given["activity_id"], given["shoe"], strict=True)))
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
        dist_txt = "-" if dist is None else f"{dist / 1000 / (KM_PER_MI if units == 'mi' else 1):.2f}"
        hr = r["avg_hr_bpm"]
        rows.append((r["start_local"][:10], r["start_local"][11:16], r["sport"], r["surface"], dist_txt,
                     _hms(r["moving_s"] if r["moving_s"] else r["duration_s"]),
                     "-" if hr is None else f"{hr:.0f}"))
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=True)]
    right = {4, 5, 6}
    for line in (header, *rows):
        print("  ".join(str(v).rjust(w) if i in right else str(v).ljust(w)
                        for i, (v, w) in enumerate(zip(line, widths, strict=True))).rstrip())
    print(f"{len(records)} activities")
    return 0
