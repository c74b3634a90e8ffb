"""``loadwatch settings show|set`` and ``loadwatch report``: thin faces over the store and
:func:`loadwatch.metrics.report.build_report`.

The human report is in the runner's units (km or mi); ``--json`` is always metric (the contract in
docs/ARCHITECTURE.md).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys

from loadwatch.dashboard.cli import term
from loadwatch.dashboard.cli.argtypes import iso_date as _date
from loadwatch.dashboard.cli.argtypes import positive_int
from loadwatch.dashboard.report import outcomes as outcomes_report
from loadwatch.ingest.settings import SETTING_KEYS, parse_setting
from loadwatch.metrics import fmt
from loadwatch.metrics import units as u

_positive_int = positive_int("weeks")

#: Phases (and plan statuses) under which no face shows a training number (SCIENCE.md sections 11, 13).
NO_NUMBER_PHASES = ("stop", "see_clinician", "emergency")

SETTING_HELP = {
    "units": "km or mi (display only; JSON stays metric)",
    "hr_max": "maximum heart rate in bpm (empty or 'auto': estimate from your runs)",
    "hr_rest": "resting heart rate in bpm (empty or 'auto': a population default)",
    "sex": "female, male or unspecified (chooses the TRIMP weighting)",
    "timezone": "IANA time zone, e.g. Europe/London (for files without a local time)",
    "week_start": "monday or sunday",
}


def register(sub, add_db_option) -> None:
    settings = sub.add_parser("settings", help="show or change your settings",
                              description="Show or change your settings.")
    add_db_option(settings)
    ssub = settings.add_subparsers(dest="settings_command", metavar="ACTION")
    ssub.required = True
    show = ssub.add_parser("show", help="print every setting")
    _add_child_db_option(show)
    show.set_defaults(func=settings_show)
    keys_help = "; ".join(f"{k}: {v}" for k, v in SETTING_HELP.items())
    setp = ssub.add_parser("set", help="change one setting", description=f"Change one setting. {keys_help}")
    setp.add_argument("key", metavar="KEY", help=", ".join(SETTING_KEYS))
    setp.add_argument("value", metavar="VALUE")
    _add_child_db_option(setp)
    setp.set_defaults(func=settings_set)

    report = sub.add_parser("report", help="weekly load, alerts and plan",
                            description="Weekly load, surface and intensity, alerts and next week's plan.")
    add_db_option(report)
    report.add_argument("--as-of", metavar="YYYY-MM-DD", type=_date, default=None,
                        help="report as of this day (default: today); later activities are ignored")
    report.add_argument("--weeks", metavar="N", type=_positive_int, default=12,
                        help="how many weeks to list (default 12)")
    report.add_argument("--json", action="store_true", help="print the JSON report (always metric)")
    report.add_argument("--pdf", metavar="PATH", default=None,
                        help="write the report for your physio as a PDF (one or two A4 pages)")
    report.add_argument("--html", metavar="PATH", default=None,
                        help="write the report for your physio as one self-contained HTML file")
    report.set_defaults(func=report_cmd)


def _add_child_db_option(parser) -> None:
    """``--db`` after the action too (``settings show --db X``).  Not via ``add_db_option``: its default
    (None) would overwrite a ``--db`` given before the action (``settings --db X show``)."""
    parser.add_argument("--db", metavar="PATH", default=argparse.SUPPRESS,
                        help="the loadwatch store to use (default: $LOADWATCH_DB or your user data folder)")


def _open_store(args):
    from loadwatch.ingest.store import Store  # lazily: the store pulls in sqlite and migrations

    return Store(getattr(args, "db", None))


_NOT_SET = {"default_surface": "(not set: runs nothing else describes have an unknown surface)"}


def settings_show(args) -> int:
    with _open_store(args) as store:
        values = store.settings().as_strings()
    width = max(len(k) for k in SETTING_KEYS)
    for key in SETTING_KEYS:
        shown = values.get(key) or _NOT_SET.get(key, "(not set: estimated from your data)")
        print(f"{key:<{width}}  {shown}")
    return 0


def key_is_surface(key: str) -> bool:
    return key == "default_surface"


def settings_set(args) -> int:
    if args.key not in SETTING_KEYS:
        print(f"loadwatch: unknown setting {args.key!r}; valid keys: {', '.join(SETTING_KEYS)}", file=sys.stderr)
        return 2
    try:
        parsed = parse_setting(args.key, args.value)
    except ValueError as exc:
        print(f"loadwatch: {exc}", file=sys.stderr)
        return 1
    with _open_store(args) as store:
        store.set_setting(args.key, args.value)
    shown = ("(cleared: runs nothing else describes have an unknown surface)" if key_is_surface(args.key)
             else "(cleared: estimated from your data)") if parsed is None else parsed
    if isinstance(shown, float) and shown.is_integer():
        shown = int(shown)
    print(f"{args.key} = {shown}")
    return 0


def report_cmd(args) -> int:
    from loadwatch.dashboard import report_cache
    from loadwatch.dashboard.from_store import report_from_store, report_inputs

    physio = [(kind, path) for kind, path in (("pdf", args.pdf), ("html", args.html)) if path]
    if not physio:
        return _print_report(args)
    with _open_store(args) as store:
        inputs: dict = {}

        def compute() -> str:
            inputs.update(report_inputs(store))
            report = report_from_store(store, as_of=args.as_of, weeks=args.weeks, inputs=inputs)
            return json.dumps(report, indent=2, allow_nan=False)

        # the report's numbers as ``report --json`` keeps them, while the store is unchanged (issue 21)
        asked = {"as_of": args.as_of.isoformat() if args.as_of else None, "weeks": int(args.weeks), "json": True}
        report = json.loads(report_cache.kept_or_computed(getattr(args, "db", None), args.as_of, args.weeks,
                                                          report_view(asked), compute, asked))
        pain = inputs["pain"] if inputs else store.pain()
        activities = inputs["activities"] if inputs else store.activities()
    return _write_physio(report, pain, activities, args.weeks, physio, show_json=args.json)


def _print_report(args) -> int:
    """The report in the terminal (or as JSON): the text kept from the last run when nothing it reads has
    changed since and the terminal is as wide (:mod:`loadwatch.dashboard.report_cache`), else computed and kept."""
    from loadwatch.dashboard import report_cache

    # the table always fits the width rich gives (80 into a pipe); the sentences are wrapped where a width
    # is known (a terminal, or COLUMNS), and kept whole into a pipe or a file, for grep and for other tools
    width, wrap = term.terminal_width(), sys.stdout.isatty() or bool(os.environ.get("COLUMNS"))
    asked = {"as_of": args.as_of.isoformat() if args.as_of else None, "weeks": int(args.weeks),
             "json": bool(args.json), "width": int(width), "wrap": bool(wrap)}
    db = getattr(args, "db", None)
    print(report_cache.kept_or_computed(db, args.as_of, args.weeks, report_view(asked),
                                        lambda: report_text(db, asked), asked))
    return 0


def report_view(asked: dict) -> str:
    """The view part of a kept report's key: JSON, or text of a width, its sentences wrapped or whole."""
    if asked["json"]:
        return "json"
    return f"text, {asked['width']} characters wide, sentences {'wrapped' if asked['wrap'] else 'whole'}"


def report_text(db, asked: dict, report: dict | None = None) -> str:
    """The report of the store at ``db`` as printed for ``asked`` (see :func:`_print_report`), from
    ``report`` when it is already computed for the same day and weeks."""
    if report is None:
        from loadwatch.dashboard.from_store import report_from_store
        from loadwatch.ingest.store import Store

        as_of = dt.date.fromisoformat(asked["as_of"]) if asked.get("as_of") else None
        with Store(db) as store:
            report = report_from_store(store, as_of=as_of, weeks=int(asked["weeks"]))
    if asked["json"]:
        return json.dumps(report, indent=2, allow_nan=False)
    return format_report(report, int(asked["width"]), wrap=bool(asked["wrap"]))


def _write_physio(report: dict, pain, activities, weeks: int, targets, *, show_json: bool) -> int:
    """Write the report for the physio to each (kind, path); exit 1 naming the file that could not be
    written."""
    from loadwatch.dashboard.report import physio as physio_report

    doc = physio_report.build(report, pain=pain, activities=activities, weeks=weeks)
    failed = 0
    for kind, path in targets:
        try:
            written = physio_report.write(doc, path, kind)
        except OSError as exc:
            print(fmt.terminal_text(f"loadwatch: could not write the {kind.upper()} report to {path}: "
                                    f"{exc.strerror or exc}"), file=sys.stderr)
            failed = 1
            continue
        if not show_json:
            print(fmt.terminal_text(f"Wrote the report for your physio ({doc.period}) to {written}"))
    if show_json:
        print(json.dumps(report, indent=2, allow_nan=False))
    return failed


def _minutes(value) -> str:
    return fmt.number(value)


def _dist(km, units: str) -> str:
    if km is None:
        return fmt.MISSING
    return fmt.number(u.to_units(km, units), 1)


#: Below this terminal width [characters] the strength and cross-training minutes move from their columns
#: to the line under each week (when there are any), so the figures keep one line each in 80 columns.
NARROW_TERMINAL = 100


def weeks_table(weeks: list[dict], units: str, width: int | None = None) -> str:
    """The report's weeks as an aligned table laid out by rich (loadwatch.dashboard.cli.term) in ``width`` characters
    (None: as wide as every column needs): the figures are never cut or wrapped, the week's day wraps at
    a space when the terminal is narrow, where the strength and cross-training minutes go under the row."""
    narrow = width is not None and width < NARROW_TERMINAL
    rows, notes = [], []
    for w in weeks:
        soft = sum(w["surface_km"].get(s) or 0 for s in ("trail", "track", "treadmill"))
        # a week in progress compared with a whole week reads as a fall: show change for whole weeks
        change = fmt.MISSING if w.get("partial_week") else fmt.pct(w.get("change_pct"), signed=True)
        row = (fmt.day(w["week_start"]) + ("*" if w.get("partial_week") else ""),
               _dist(w["distance_km"], units), u.format_duration(w["duration_min"]), w["runs"],
               _dist(w["long_run_km"], units), _dist(soft, units), change, fmt.ratio(w.get("acwr")),
               fmt.ratio(w.get("monotony")))
        other = (_minutes(w.get("strength_min")), _minutes(w.get("cross_training_min")))
        rows.append(row if narrow else (*row, *other))
        notes.append("; ".join(f"{what} {m} min" for what, m, v in
                               zip(("strength", "cross-training"), other,
                                   (w.get("strength_min"), w.get("cross_training_min")), strict=True) if v))
    headers = ("week of", "dist", "time", "runs", "long", "soft", "change", "ACWR", "monot.")
    if width is None:
        return term.table((*headers, "strength", "cross"), rows, right=range(1, 11))
    if narrow:
        return term.flow_table(headers, rows, notes=notes, right=range(1, 9), keep=range(1, 9), width=width)
    return term.flow_table((*headers, "strength", "cross"), rows, right=range(1, 11), keep=range(1, 11), width=width)


def _weeks_lines(report: dict, width: int | None) -> list[str]:
    """The weekly table and its key, or the line that says why there is none."""
    weeks = report.get("weeks") or []
    latest = report.get("latest_run")
    if not weeks:
        return ["(no activities yet: import your watch files with `loadwatch import PATH`)"]
    if latest and not any((w.get("distance_km") or 0) > 0 for w in weeks):
        # a history that ended before these weeks: say so rather than print a table of zeros
        # the one line every face says (fmt.stale_history), and how to see the weeks that had runs
        stale = fmt.stale_history(latest["date"], report["as_of"], where="with `loadwatch import PATH`")
        return [(stale or f"No runs in the {len(weeks)} weeks shown.")
                + f" See your last weeks of runs with: loadwatch report --as-of {latest['date']}"]
    # the history stays under a red flag too: it is what the clinician needs to see (SCIENCE.md §11)
    # the star's key only when a week carries the star (a Sunday's report has none)
    star = "* week not over yet (no change shown).  " if any(w.get("partial_week") for w in weeks) else ""
    return weeks_table(weeks, report.get("units", "km"), width).splitlines() + [
        f"{star}soft = trail + track + treadmill.  ACWR is shown for "
        "information only (disputed; it did not predict injury in runners).  strength = strength and "
        "core minutes; cross = cross-training minutes (neither counts as running load)."]


def _latest_lines(latest: dict | None, units: str, no_numbers: bool) -> list[str]:
    """The latest run's spike check."""
    if not latest:
        return []
    run = f"Latest run {fmt.day(latest['date'])}: {u.format_distance(latest['distance_km'], units)}"
    if latest.get("above_step_cap"):
        if latest.get("step_cap_km") is None:
            # a stop or a red flag: the report holds no cap (metrics.report.withhold_advice), only what happened
            return ["", f"{run}, above the limits of the step you were on then."]
        # during a return the step's cap is the reference, whatever older runs in the 30 days say
        cap = u.format_distance(latest["step_cap_km"], units, cap=True)
        clinician = latest.get("step_cap_set_by_clinician")
        whose = (f"the {cap} run cap of the plan your clinician set on {fmt.day(clinician)}" if clinician
                 else f"your step's {cap}")
        return ["", f"{run}, above {whose}: too much too soon; the step starts again."]
    if latest.get("spike_category") is None:
        return ["", f"{run} - spike check: not enough history (no run in the previous 30 days)."]
    if no_numbers or latest.get("safe_longest_km") is None:
        # under a red flag or a stop no face gives a training number, not even the safe longest run
        return ["", f"{run}, {fmt.pct(latest['spike_pct'], signed=True)} against your longest run of the previous 30 days: "
                    f"{fmt.words(latest['spike_category'], 'spike')}."]
    return ["", f"{run}, {fmt.pct(latest['spike_pct'], signed=True)} vs your longest of the previous 30 days "
                f"({u.format_distance(latest['longest_30d_km'], units)}): "
                f"{fmt.words(latest['spike_category'], 'spike')}. "
                f"Safe longest run: {u.format_distance(latest['safe_longest_km'], units, cap=True)}."]


def _alert_lines(alerts: list[dict]) -> list[str]:
    lines = ["", "Alerts:"] if alerts else []
    for a in alerts:
        if a.get("rule") == "check_in":
            continue
        lines.append(f"  [{fmt.words(a.get('severity', ''), 'severity')}] {a.get('message', '')}")
        if a.get("evidence"):
            lines.append(f"      ({a['evidence']})")
    return lines


def _plan_lines(plan: dict, units: str, no_numbers: bool) -> list[str]:
    """Next week's plan: the phase, its caps (never under a red flag or a stop), what to do instead."""
    from loadwatch.metrics.plan import phase_lines

    if not plan:
        return []
    lines = ["", "Plan for the next 7 days:"] + [f"  {line}" for line in phase_lines(plan, units)]
    if plan.get("stop_running"):
        lines.append("  no running for now")
    if not no_numbers:
        # the caps, runs, intensity and surface in the words the dashboard and the physio report use
        lines += [f"  {item}" for item in fmt.plan_items(plan, units)]
    if plan.get("cross_training"):
        minutes = plan.get("cross_training_min")
        extra = (f" (about {fmt.duration(minutes)} a week, in place of the running time you give up)"
                 if minutes else "")
        lines.append(f"  Cross-training: {', '.join(map(str, plan['cross_training']))}{extra}")
    if plan.get("strength"):
        lines.append(f"  Strength: {plan['strength']}")
    return lines + [f"  - {fmt.reason(reason)}" for reason in plan.get("reasons") or []]


def _fit(lines: list[str], width: int | None, table: set[int]) -> list[str]:
    """Each line wrapped to ``width`` at spaces, its continuation indented under its text (the table's
    lines, already laid out by rich, as they are)."""
    import textwrap

    if width is None:
        return lines
    out = []
    for i, line in enumerate(lines):
        if i in table or len(line) <= width:
            out.append(line)
            continue
        text = line.lstrip()
        indent = line[:len(line) - len(text)]
        hang = indent + ("  " if text.startswith(("[", "- ", "(")) else "")
        out += textwrap.wrap(text, width, initial_indent=indent, subsequent_indent=hang, break_on_hyphens=False)
    return out


def format_report(report: dict, width: int | None = None, *, wrap: bool = True) -> str:
    """The human report: a weekly table in the runner's units, the latest run's spike check, alerts and
    plan, then the not-medical-advice line; laid out in ``width`` characters (None: each line whole, the
    table as wide as its columns need; ``wrap=False``: the table in ``width``, the sentences whole)."""
    units = report.get("units", "km")
    lines = [f"loadwatch report as of {fmt.day(report['as_of'])} (distances in {units})", ""]
    plan = report.get("plan") or {}
    no_numbers = plan.get("phase") in NO_NUMBER_PHASES or plan.get("status") in NO_NUMBER_PHASES
    if plan.get("phase") in ("see_clinician", "emergency") and plan.get("care_message"):
        # a red flag comes first, before any figure (SCIENCE.md section 11), and again with the plan below
        lines[1:1] = ["", plan["care_message"]]
    weeks = _weeks_lines(report, width)
    first = len(lines)
    table = set(range(first, first + len(weeks) - 1)) if report.get("weeks") and len(weeks) > 1 else set()
    lines += weeks
    lines += _latest_lines(report.get("latest_run"), units, no_numbers)
    lines += _alert_lines(report.get("alerts") or [])
    lines += _plan_lines(plan, units, no_numbers)
    lines += outcomes_report.text_lines(report)  # the back programme, OSTRC and PSFS (issue 24)
    lines += ["", report.get("disclaimer", "")]
    return "\n".join(_fit(lines, width if wrap else None, table))
