"""``loadwatch shoes ...`` and ``loadwatch session ...``: the runner's shoes and the sessions that leave no
watch file (strength, core, Pilates, a ride without a computer).  Thin faces over the store
(``ingest/shoes.py``, ``ingest/sessions.py``) and ``loadwatch.metrics.shoe_distance``.

Bad input (an unknown shoe, minutes not above 0, a day in the future or before 1990, a retired shoe for a
new run) exits 2 with one plain line on stderr.  Distances on the command line are km (``--start-km
300``) or carry a mile suffix (``--start-km 200mi``); human output is in the runner's units, ``--json``
is always metric.
"""

from __future__ import annotations

import argparse
import math
import sys

from loadwatch.dashboard.cli.argtypes import (
    add_command,
    arg,
    child_db_option,
    command_group,
    distance_km,
    id_arg,
    json_flag,
    open_store,
    refused,
    said_all,
    store_call,
)
from loadwatch.dashboard.cli.argtypes import iso_date as _date
from loadwatch.ingest.sessions import SESSION_KINDS
from loadwatch.metrics import fmt

#: Width of the text gauge of a pair's distance against its retirement distance [characters].
GAUGE_WIDTH = 20


# --- argument types ------------------------------------------------------------------------------------



def _minutes(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"minutes must be a number above 0 (got {text!r})")
    return value


def _rpe(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not (math.isfinite(value) and 0 <= value <= 10):
        raise argparse.ArgumentTypeError(f"RPE must be a number from 0 to 10 (got {text!r})")
    return value


def _kind(text: str) -> str:
    value = text.strip().lower().replace("-", "_").replace(" ", "_")
    if value not in SESSION_KINDS:
        raise argparse.ArgumentTypeError(f"kind must be one of {', '.join(SESSION_KINDS)} (got {text!r})")
    return value


# --- wiring ----------------------------------------------------------------------------------------------

def register(sub, add_db_option) -> None:
    _register_shoes(sub, add_db_option)
    _register_sessions(sub, add_db_option)


_NAME = arg("name", metavar="NAME")


def _register_shoes(sub, add_db_option) -> None:
    ssub = command_group(sub, "shoes", dest="shoes_command", db=add_db_option,
                         help="your shoes: distance per pair, default pair, retirement",
                         description="Your pairs of shoes and how far each has run. New runs get the default "
                                     "pair; a retired pair takes no new runs. Distances take km or a mi suffix.")
    table = (
        ("add", shoes_add, "add a pair", (
            _NAME,
            arg("--start-km", type=distance_km, default=0.0, metavar="N",
                help="distance the pair had already run (km, or e.g. 120mi; default 0)"),
            arg("--retire-km", type=distance_km, default=None, metavar="N",
                help="your retirement distance for the pair (km, or e.g. 400mi)"),
            arg("--default", action="store_true", help="give this pair to runs imported from now on"))),
        ("list", shoes_list, "every pair with its distance", (json_flag("print JSON (always km)"),)),
        ("retire", shoes_retire, "retire a pair (it takes no new runs)", (
            _NAME,
            arg("--date", type=_date, default=None, metavar="YYYY-MM-DD", help="the day it was retired (default today)"))),
        ("default", shoes_default, "make a pair the one new runs get", (_NAME,)),
        ("set", shoes_set, "change a pair: retirement distance, name, back in use", (
            _NAME,
            arg("--retire-km", type=distance_km, default=None, metavar="N",
                help="retirement distance (km, or e.g. 400mi; 0 clears it)"),
            arg("--rename", metavar="NEW_NAME", default=None, help="a new name"),
            arg("--unretire", action="store_true", help="put a retired pair back in use"))),
    )
    for name, func, help_text, args in table:
        add_command(ssub, name, func, args, db=child_db_option, help=help_text)


def _register_sessions(sub, add_db_option) -> None:
    ssub = command_group(sub, "session", dest="session_command", db=add_db_option,
                         help="log strength, core and cross-training that has no watch file",
                         description="Sessions without a file: strength, core, Pilates, yoga, mobility and "
                                     "cardio (a ride, a swim, deep-water running). They count as strength or "
                                     "cross-training minutes, never as running load.")
    table = (
        ("add", session_add, "log a session", (
            arg("--date", type=_date, required=True, metavar="YYYY-MM-DD", help="the day (local)"),
            arg("--kind", type=_kind, required=True, metavar="KIND", help=", ".join(SESSION_KINDS)),
            arg("--minutes", type=_minutes, required=True, metavar="N", help="how long (minutes, above 0)"),
            arg("--rpe", type=_rpe, default=None, metavar="N", help="how hard, 0-10 (optional)"),
            arg("--note", default="", metavar="TEXT", help="free text"))),
        ("list", session_list, "every logged session", (json_flag(),)),
        ("delete", session_delete, "delete a logged session", (id_arg(),)),
    )
    for name, func, help_text, args in table:
        add_command(ssub, name, func, args, db=child_db_option, help=help_text)


# --- shoes -----------------------------------------------------------------------------------------------

def shoe_records(store) -> list[dict]:
    """The objects of ``loadwatch shoes list --json`` (km; dates ``YYYY-MM-DD`` or null)."""
    from loadwatch.metrics.report import to_jsonable
    from loadwatch.metrics.shoe_distance import shoe_summary

    summary = shoe_summary(store.shoes(), store.activity_shoes(), store.activities(), store.settings().timezone)
    out = []
    for row in summary.itertuples(index=False):
        out.append(to_jsonable({
            "name": row.name, "distance_km": round(float(row.distance_km), 3), "runs": int(row.runs),
            "first_used": row.first_used, "last_used": row.last_used, "retired": bool(row.retired),
            "default": bool(row.default), "start_km": row.start_km, "retire_km": row.retire_km,
            "retired_on": row.retired_on,
        }))
    return out


def gauge(distance_km: float, retire_km: float | None, units: str, width: int = GAUGE_WIDTH) -> str:
    """``[########............] 41% of 800 km`` (full at the retirement distance); "–" without one."""
    if retire_km is None or fmt.is_missing(retire_km) or retire_km <= 0:
        return fmt.MISSING
    frac = distance_km / retire_km
    filled = min(width, int(round(width * min(frac, 1.0))))
    return f"[{'#' * filled}{'.' * (width - filled)}] {fmt.pct(100 * frac)} of {fmt.distance(retire_km, units)}"


def shoes_list(args) -> int:
    with open_store(args) as store:
        records = shoe_records(store)
        units = store.settings().units
    if said_all(records, args.json, "No shoes yet. Add a pair with: loadwatch shoes add NAME [--default]"):
        return 0
    header = ("Shoe", "Distance", "Runs", "First run", "Last run", "Retirement", "")
    rows = []
    for r in records:
        state = "default" if r["default"] else (f"retired {fmt.day(r['retired_on'])}" if r["retired"] else "")
        rows.append((r["name"], fmt.distance(r["distance_km"], units), str(r["runs"]), fmt.day(r["first_used"]),
                     fmt.day(r["last_used"]), gauge(r["distance_km"], r["retire_km"], units), state))
    _print_columns(header, rows, right=(1, 2))
    return 0


def _print_columns(header: tuple[str, ...], rows: list[tuple[str, ...]], right: tuple[int, ...]) -> None:
    """A plain text table: each column as wide as its widest cell, the ``right`` ones aligned right."""
    widths = [max(len(x) for x in col) for col in zip(header, *rows, strict=True)]
    for line in (header, *rows):
        print("  ".join(v.rjust(w) if i in right else v.ljust(w)
                        for i, (v, w) in enumerate(zip(line, widths, strict=True))).rstrip())


def shoes_add(args) -> int:
    try:
        with open_store(args) as store:
            store.add_shoe(args.name, start_km=args.start_km, retire_km=args.retire_km, default=args.default)
            units = store.settings().units
    except (ValueError, KeyError) as exc:
        return refused("shoes add", exc)
    extra = f", {fmt.distance(args.start_km, units)} already run" if args.start_km else ""
    print(f"added {args.name.strip()}{extra}" + (" (the default pair for new runs)" if args.default else ""))
    return 0


def shoes_retire(args) -> int:
    return store_call(args, lambda store: store.retire_shoe(args.name, on=args.date.isoformat() if args.date else None),
                      f"retired {args.name}: it takes no new runs", refused_as="shoes retire")


def shoes_default(args) -> int:
    return store_call(args, lambda store: store.set_default_shoe(args.name),
                      f"{args.name} is now the default pair: runs imported from now on are given to it",
                      refused_as="shoes default")


def shoes_set(args) -> int:
    if args.retire_km is None and args.rename is None and not args.unretire:
        print("loadwatch shoes set: nothing to change (give --retire-km, --rename or --unretire)", file=sys.stderr)
        return 2
    done = []
    try:
        with open_store(args) as store:
            name = args.name
            if args.retire_km is not None:
                store.set_shoe_retire_km(name, args.retire_km or None)
                units = store.settings().units
                done.append(f"retirement distance {fmt.distance(args.retire_km, units)}" if args.retire_km
                            else "no retirement distance")
            if args.unretire:
                store.unretire_shoe(name)
                done.append("back in use")
            if args.rename is not None:
                store.rename_shoe(name, args.rename)
                done.append(f"renamed to {args.rename.strip()}")
    except (ValueError, KeyError) as exc:
        return refused("shoes set", exc)
    print(f"{args.name}: {', '.join(done)}")
    return 0


# --- sessions --------------------------------------------------------------------------------------------

def session_records(frame) -> list[dict]:
    """The objects of ``loadwatch session list --json``."""
    out = []
    for row in frame.itertuples(index=False):
        out.append({"id": int(row.id), "date": row.date.date().isoformat(), "kind": row.kind,
                    "minutes": float(row.minutes), "rpe": None if fmt.is_missing(row.rpe) else float(row.rpe),
                    "note": row.note or ""})
    return out


def session_add(args) -> int:
    return store_call(args, lambda store: store.add_session(args.date, args.kind, args.minutes, rpe=args.rpe,
                                                            note=args.note),
                      lambda sid: f"logged session {sid}: {fmt.words(args.kind, 'session')}, "
                                  f"{fmt.duration(args.minutes)} on {fmt.day(args.date)}",
                      refused_as="session add")


def session_list(args) -> int:
    with open_store(args) as store:
        records = session_records(store.sessions())
    if said_all(records, args.json,
                "No sessions yet. Log one with: loadwatch session add --date YYYY-MM-DD --kind core --minutes 20"):
        return 0
    header = ("Id", "Day", "Kind", "Time", "RPE", "Note")
    rows = [(str(r["id"]), fmt.day(r["date"]), fmt.words(r["kind"], "session"), fmt.duration(r["minutes"]),
             fmt.number(r["rpe"], 1), r["note"]) for r in records]
    _print_columns(header, rows, right=(0, 3, 4))
    return 0


def session_delete(args) -> int:
    return store_call(args, lambda store: store.delete_session(args.id), f"deleted session {args.id}",
                      refused_as="session delete")
