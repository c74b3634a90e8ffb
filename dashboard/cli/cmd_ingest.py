"""``loadwatch import`` and ``loadwatch activities``: a thin face over ``loadwatch.ingest.importer`` and the store."""

from __future__ import annotations

import json
import math
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from loadwatch.dashboard.cli import term
from loadwatch.dashboard.cli.argtypes import add_command, arg, json_flag, said_all
from loadwatch.metrics import fmt

if TYPE_CHECKING:
    import pandas as pd

    from loadwatch.ingest.importer import Outcome
    from loadwatch.ingest.store import Store

# pandas, the importer and the full store are imported by the commands that use them: `loadwatch
# activities` reads the store with sqlite3 alone (ingest.store_light) and answers at once (issue 21)

KM_PER_MI = 1.609344


def register(sub, add_db_option) -> None:
    add_command(sub, "import", cmd_import, (
        arg("paths", nargs="+", metavar="PATH", help="a file, folder or archive (folders are read recursively)"),
        arg("--verbose", "-v", action="store_true",
            help="also list files skipped as not activities and files already in the store"),
        arg("--workers", type=int, default=2, metavar="N", help="decoding processes (default 2; 0 = in-process)"),
        arg("--timeout", type=float, default=60.0, metavar="SECONDS",
            help="give up on a file that takes longer than this to read (default 60)"),
        json_flag("machine-readable output: a JSON list, one object per file")), db=add_db_option,
        help="import watch files, folders or export archives (FIT, GPX, TCX, zip, gz)",
        description="Import watch files into your local store. Files already imported are recognised and "
                    "skipped; the same run exported twice (e.g. FIT and GPX) is kept once, from the richer file.")

    a = add_command(sub, "activities", cmd_activities, (json_flag("machine-readable output (a JSON list)"),),
                    db=add_db_option, help="list the imported activities; 'activities set ID ...' corrects one")
    asub = a.add_subparsers(dest="activities_command", metavar="{set}")
    c = asub.add_parser("set", help="correct an activity: sport, surface, distance, RPE, name or shoes",
                        description="Correct what a file got wrong. A corrected or confirmed activity counts in "
                                    "your load again if it was left out.")
    c.add_argument("activity_id", metavar="ID", help="the activity's id (or the start of it) from 'loadwatch activities --json'")
    c.add_argument("--sport", help="running, cycling, swimming, walking, hiking, elliptical, rowing or other")
    c.add_argument("--surface", help="road, trail, track, treadmill or unknown")
    c.add_argument("--same-route", action="store_true",
                   help="apply the surface to every run of this route, past and future")
    c.add_argument("--distance-km", type=float, metavar="N", help="the distance you really covered [km]")
    c.add_argument("--rpe", type=float, metavar="N", help="how hard it felt, 0-10")
    c.add_argument("--name", metavar="TEXT", help="a name for the activity")
    c.add_argument("--confirm", action="store_true",
                   help="the activity is right as it is: count it even though it looked impossible")
    c.add_argument("--shoe", metavar="NAME", default=None,
                   help="the pair of shoes the run was in (--shoe none: in no pair); a pair retired before the "
                        "run cannot take it")
    add_db_option(c)
    c.set_defaults(func=cmd_activities_set)

    add_command(sub, "rebuild", cmd_rebuild, db=add_db_option,
                help="re-read every activity from its kept original with today's rules",
                description="Re-derive every activity from the original file kept in your store, with "
                            "this version's readers and checks (twins, partial files, GPS glitches, "
                            "archive metadata). Pain entries, their links and your corrections are kept.")


# --- import ----------------------------------------------------------------------------------------------

_ProgressBar = term.ProgressBar  # rich's bar (dashboard.cli.term)


def _problem_line(o: Outcome) -> str:
    return fmt.terminal_text(f"{o.status}: {o.name}: {o.reason}")


def cmd_import(args) -> int:
    missing = [p for p in args.paths if not Path(p).exists()]
    if missing:
        for p in missing:
            print(f"loadwatch import: no such file or folder: {fmt.terminal_text(p)}", file=sys.stderr)
        return 2
    if args.workers < 0 or not args.timeout > 0:
        print("loadwatch import: --workers must be 0 or more and --timeout above 0", file=sys.stderr)
        return 2
    from loadwatch.ingest.importer import import_paths, summarize
    from loadwatch.ingest.store import Store

    bar = _ProgressBar(sys.stderr)

    def on_outcome(o: Outcome) -> None:
        # problem lines appear as they happen, above the bar
        if o.status == "failed" or (o.status in ("skipped", "duplicate") and args.verbose and not args.json):
            bar.line(_problem_line(o))

    try:
        with Store(args.db) as store:
            outcomes = import_paths(store, args.paths, progress=bar, on_outcome=on_outcome,
                                    workers=args.workers, timeout_s=args.timeout)
            settings = store.settings()
            outcomes = _with_store_offsets(outcomes, store)
    finally:
        bar.clear()  # before any error is printed
    sys.stderr.flush()  # every problem line is out before the summary starts on stdout
    counts = summarize(outcomes)
    if args.json:
        print(json.dumps(outcome_records(outcomes, settings.timezone), indent=2, allow_nan=False))
        return 1 if counts["failed"] else 0
    for o in outcomes:
        if o.status in ("imported", "replaced"):
            for line in outcome_lines(o, settings):
                print(line)
    replaced = f", replaced {counts['replaced']}" if counts["replaced"] else ""
    print(f"Imported {counts['imported']}{replaced}, duplicates {counts['duplicate']}, skipped {counts['skipped']}, "
          f"failed {counts['failed']}")
    return 1 if counts["failed"] else 0


def _with_store_offsets(outcomes: list[Outcome], store: Store) -> list[Outcome]:
    """The outcomes of files that do not say their UTC offset (GPX, TCX) with the offset the store gives
    their activity (without a time zone setting, the one of the runner's watch files around it: see
    :mod:`loadwatch.ingest.local_time`), so the import says the same day as ``loadwatch activities``."""
    import dataclasses

    if not any(o.start_utc is not None and o.utc_offset_s is None and o.activity_id for o in outcomes):
        return outcomes
    acts = store.activities()
    offsets = dict(zip(acts["id"], acts["utc_offset_s"], strict=True))
    out = []
    for o in outcomes:
        borrowed = offsets.get(o.activity_id) if o.utc_offset_s is None else None
        out.append(dataclasses.replace(o, utc_offset_s=float(borrowed))
                   if borrowed is not None and math.isfinite(borrowed) else o)
    return out


def _timestamp(value):
    import pandas as pd

    return pd.Timestamp(value)


def outcome_records(outcomes, tz_name: str) -> list[dict]:
    """The JSON objects of ``loadwatch import --json``: one per file."""
    zone = ZoneInfo(tz_name)
    out = []
    for o in outcomes:
        start = None
        if o.start_utc is not None:
            start = _local_start(_timestamp(o.start_utc), o.utc_offset_s, zone).isoformat()
        out.append({
            "file": o.name,
            "outcome": o.status,
            "reason": o.reason or "",
            "activity_id": o.activity_id,
            "sport": o.sport,
            "start_local": start,
            "distance_m": _num(o.distance_m),
            "partial": bool(o.partial),
            "warnings": list(o.warnings),
            "excluded_reason": o.excluded_reason,
        })
    return out


def outcome_lines(o: Outcome, settings) -> list[str]:
    """Human lines for one imported file: date, sport, distance, then every note (partial, corrected,
    left out)."""
    from loadwatch.metrics import fmt

    zone = ZoneInfo(settings.timezone)
    day = fmt.MISSING
    if o.start_utc is not None:
        day = fmt.day(_local_start(_timestamp(o.start_utc), o.utc_offset_s, zone))
    km = None if o.distance_m is None else o.distance_m / 1000.0
    verb = {"imported": "Imported", "replaced": "Replaced", "duplicate": "Already there"}.get(o.status, o.status)
    lines = [f"{verb}: {day}  {fmt.words(o.sport, 'sport')}  {fmt.distance(km, settings.units)}  {o.name}"]
    if o.status == "replaced" and o.reason:
        lines.append(f"    {o.reason}")
    lines += [f"    note: {w}" for w in o.warnings]
    return [fmt.terminal_text(line) for line in lines]


# --- activities ------------------------------------------------------------------------------------------

def _num(value) -> float | None:
    if value is None:
        return None
    f = float(value)
    return f if math.isfinite(f) else None


def _local_start(start: datetime, offset_s, zone: ZoneInfo) -> datetime:
    """``start`` [UTC] as the runner's local time: at the activity's own offset [s] when it has one, else in
    ``zone``.  A pandas Timestamp is floored to whole microseconds first (a sub-second start, GPX times with
    fractions, would lose its nanoseconds with a warning on every call)."""
    if hasattr(start, "floor"):
        start = start.floor("us").to_pydatetime()
    if offset_s is not None and math.isfinite(float(offset_s)):
        return start.astimezone(timezone(timedelta(seconds=float(offset_s))))
    return start.astimezone(zone)


def _record(row, surface: str, start_utc, zone: ZoneInfo, shoe: str | None) -> dict:
    """The JSON object of one activity (``row``: its fields by name, a dict or a pandas row)."""
    get = row.get if isinstance(row, dict) else (lambda k: getattr(row, k))
    return {
        "id": get("id"),
        "source": get("source"),
        "format": get("format"),
        "sport": get("sport"),
        "sub_sport": get("sub_sport"),
        "surface": surface if get("sport") == "running" or get("surface_override") else "unknown",
        "start_utc": start_utc.isoformat(),
        "start_local": _local_start(start_utc, get("utc_offset_s"), zone).isoformat(),
        "duration_s": _num(get("elapsed_s")),
        "moving_s": _num(get("moving_s")),
        "distance_m": _num(get("distance_m")),
        "ascent_m": _num(get("ascent_m")),
        "descent_m": _num(get("descent_m")),
        "avg_hr_bpm": _num(get("avg_hr_bpm")),
        "max_hr_bpm": _num(get("max_hr_bpm")),
        "avg_cadence_spm": _num(get("avg_cadence_spm")),
        "device": get("device"),
        "partial": bool(get("partial")),
        "sport_inferred": bool(get("sport_inferred")),
        "rpe": _num(get("rpe")),
        "name": get("name"),
        "warnings": list(get("warnings") or []),
        "excluded_reason": get("excluded_reason"),
        "corrected": bool(get("corrected")),
        "shoe": shoe,
    }


def activity_records(frame: pd.DataFrame, tz_name: str, shoes: dict[str, str] | None = None) -> list[dict]:
    """The JSON objects of ``loadwatch activities --json`` (NaN becomes None); ``shoes``: activity id ->
    the pair it was in (``shoe``, null for none)."""
    from loadwatch.metrics.surface import surfaces

    zone = ZoneInfo(tz_name)
    shoes = shoes or {}
    surface = surfaces(frame).tolist() if len(frame) else []
    return [_record(row, surface[i], row.start_utc, zone, shoes.get(row.id))
            for i, row in enumerate(frame.itertuples(index=False))]


def light_records(rows: list[dict], tz_name: str, shoes: dict[str, str]) -> list[dict]:
    """:func:`activity_records` from the rows of :func:`loadwatch.ingest.store_light.activities` (no pandas)."""
    from loadwatch.metrics.surface import run_surface

    zone = ZoneInfo(tz_name)
    return [_record(r, run_surface(r["sub_sport"], r["surface_override"], r["surface_hint"]), r["start_utc"], zone,
                    shoes.get(r["id"])) for r in rows]


def _notes(r: dict) -> str:
    notes = []
    if r["excluded_reason"]:
        notes.append("left out of your load: " + r["excluded_reason"])
    if r["partial"]:
        notes.append(next((w for w in r["warnings"] if w.startswith("partial")), "partial"))
    if r["corrected"]:
        notes.append("corrected by you")
    return "; ".join(notes)


#: Below this terminal width [characters] the surface and heart rate move from their columns to the line
#: under each row, so the date, time, distance and id keep one line each in an 80-column terminal (the
#: wide table needs about 92).
NARROW_TERMINAL = 96


def activities_table(records: list[dict], units: str, width: int) -> str:
    """The human table of ``loadwatch activities`` laid out by rich in ``width`` characters: one row per
    activity, its notes (and, on a narrow terminal, its surface and heart rate) on the lines under it."""
    narrow = width < NARROW_TERMINAL
    rows, notes = [], []
    for r in records:
        dist = r["distance_m"]
        dist_txt = fmt.MISSING if dist is None else f"{dist / 1000 / (KM_PER_MI if units == 'mi' else 1):.2f}"
        surface = fmt.words(r["surface"], "surface") if r["sport"] == "running" else fmt.MISSING
        hr = fmt.number(r["avg_hr_bpm"], 0)
        moved = fmt.clock(r["moving_s"] if r["moving_s"] else r["duration_s"])
        row = [fmt.day(r["start_local"][:10]), r["start_local"][11:16], fmt.words(r["sport"], "sport")]
        note = _notes(r)
        if narrow:
            rows.append((*row, dist_txt, moved, r["id"][:8]))
            said = surface if r["surface"] == "unknown" else f"surface: {surface}"
            extra = ([said] if r["sport"] == "running" else []) + \
                ([f"average heart rate {hr} bpm"] if hr != fmt.MISSING else [])
            notes.append("; ".join(extra + ([note] if note else [])))
        else:
            rows.append((*row, surface, dist_txt, moved, hr, r["id"][:8]))
            notes.append(note)
    if narrow:
        header = ("Date", "Start", "Sport", f"Distance ({units})", "Time", "ID")
        right, keep = (3, 4), (1, 3, 4, 5)
    else:
        header = ("Date", "Start", "Sport", "Surface", f"Distance ({units})", "Time", "Avg HR", "ID")
        right, keep = (4, 5, 6), (1, 4, 5, 6, 7)
    # rich sizes the columns to the terminal: times, distances and ids are never cut, the day and the
    # surface wrap at a space, and each activity's notes wrap on the lines under its row
    return term.flow_table(header, rows, notes=notes, right=right, keep=keep, width=width)


def cmd_activities(args) -> int:
    from loadwatch.ingest import store_light

    read = store_light.activities(args.db)
    if read is not None:
        settings, rows, shoes = read
        records = light_records(rows, settings.timezone, shoes)
    else:  # no store yet, another store version, a damaged file: the full store creates or explains it
        from loadwatch.ingest.store import Store

        with Store(args.db) as store:
            settings = store.settings()
            frame = store.activities()
            given = store.activity_shoes()
        records = activity_records(frame, settings.timezone,
                                   dict(zip(given["activity_id"], given["shoe"], strict=True)))
    if said_all(records, args.json, "No activities yet. Import your watch files with: loadwatch import PATH"):
        return 0
    print(activities_table(records, settings.units, term.terminal_width()))
    print(fmt.count(len(records), "activity", "activities"))
    return 0


def cmd_activities_set(args) -> int:
    from loadwatch.metrics import fmt

    changes = {k: getattr(args, k) for k in ("sport", "surface", "distance_km", "rpe", "name")}
    if args.shoe is not None:
        # `--shoe none` takes the run out of any pair
        changes["shoe"] = None if args.shoe.strip().lower() in ("none", "-") else args.shoe
    if not args.confirm and "shoe" not in changes and all(v is None for v in changes.values()):
        print("loadwatch activities set: say what to change (--sport, --surface, --distance-km, --rpe, --name, "
              "--confirm or --shoe)", file=sys.stderr)
        return 2
    if args.same_route and args.surface is None:
        print("loadwatch activities set: --same-route needs --surface", file=sys.stderr)
        return 2
    from loadwatch.ingest.store import Store

    with Store(args.db) as store:
        try:
            activity_id = store.resolve_activity_id(args.activity_id)
            # one transaction: an unknown or retired shoe, or a bad value, changes nothing
            result = store.correct_activity(activity_id, same_route=args.same_route, confirm=args.confirm,
                                            **changes)
        except (KeyError, ValueError) as exc:
            print(f"loadwatch activities set: {exc.args[0] if exc.args else exc}", file=sys.stderr)
            return 2
        units = store.settings().units
    done = fmt.correction_words(result["changed"], units)
    print(f"Activity {activity_id[:8]}: " + (", ".join(done) or "nothing changed"))
    if result.get("same_route_ids"):
        n = len(result["same_route_ids"])
        print(f"Surface set on {n} other run{'s' if n != 1 else ''} of the same route; future runs of it get it too.")
    if result.get("excluded_reason"):
        print(f"Still left out of your load: {result['excluded_reason']}")
    return 0


def cmd_rebuild(args) -> int:
    from loadwatch.ingest.store import Store

    bar = term.ProgressBar(sys.stderr, label="rebuilding")
    with Store(args.db) as store:
        if store.backup_path is not None:
            print(fmt.terminal_text(f"Backed up the store before updating it: {store.backup_path}"))
        try:
            result = store.rebuild(on_progress=lambda done, total: bar(done, total, ""))
        finally:
            bar.clear()
    print(f"Rebuilt {fmt.count(result['rebuilt'], 'activity', 'activities')}: {result['changed']} changed, {result['merged']} merged "
          f"as copies of another, {result['failed']} could not be read again (kept as they were)")
    return 0
