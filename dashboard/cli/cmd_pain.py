"""``loadwatch pain ...`` and ``loadwatch alerts ...``: the pain log and personal alert rules.

Thin faces over :class:`loadwatch.ingest.store.Store` and ``metrics`` (detector, rules, suggestions).

Thresholds of personal rules are stored in the metric's own unit (km, min, %, m).  On the command line
``--above X`` / ``--below X`` is in that unit too; a distance metric also accepts a unit suffix, so a
runner who thinks in miles writes ``--above 20mi`` (stored as 32.19 km).  Human output is in the
runner's units; ``--json`` is always metric.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import re
import sys

from loadwatch.dashboard.cli import term
from loadwatch.dashboard.cli.argtypes import (
    add_command,
    arg,
    command_group,
    id_arg,
    json_flag,
    one_of,
    open_store,
    refused,
    store_call,
)
from loadwatch.dashboard.cli.argtypes import iso_date as _date
from loadwatch.ingest.painlog import LOCATIONS, SYMPTOMS, TIMINGS
from loadwatch.metrics import fmt
from loadwatch.metrics import thresholds as th
from loadwatch.metrics.rules import DISTANCE_UNITS, RULE_METRICS, rule_metric, validate_rule
from loadwatch.metrics.units import from_units

#: Time of day used when ``pain add`` gets no ``--time`` (by timing).
DEFAULT_TIMES = {"next_morning": "07:00", "during": "12:00", "after": "12:00", "rest_of_day": "20:00"}
PAIN_EXPORT_COLUMNS = ("id", "at_local", "score", "timing", "location", "activity_id", "symptoms", "note")


# --- argument types ----------------------------------------------------------------------------------

#: Earliest day a pain entry may carry (a typo such as 1900 or 0202 is refused, not stored).
EARLIEST_PAIN_DAY = dt.date(1990, 1, 1)


def _pain_date(text: str) -> dt.date:
    """A pain entry's day: not after tomorrow in UTC (no time zone is a day ahead of it, so a runner ahead
    of UTC is not refused their own today; the runner's own clock is checked before the entry is written,
    :func:`loadwatch.ingest.painlog.check_not_future`) and not before 1990."""
    day = _date(text)
    if day > dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1):
        raise argparse.ArgumentTypeError(f"a pain entry cannot be dated after today (got {text!r})")
    if day < EARLIEST_PAIN_DAY:
        raise argparse.ArgumentTypeError(f"a pain entry cannot be dated before {EARLIEST_PAIN_DAY.year} "
                                         f"(got {text!r}): check the year")
    return day


def _assessment_date(text: str) -> dt.date:
    """The visit's day: not after tomorrow in UTC, not before 1990 (the store checks it against the runner's
    own today, as for a pain entry's day)."""
    from loadwatch.ingest.assessments import check_date

    day = _date(text)
    try:
        return check_date(day, dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _cap_km(text: str) -> float:
    """A clinician's cap: km, or miles with a suffix; above 0."""
    from loadwatch.dashboard.cli.argtypes import distance_km

    km = distance_km(text)
    if km <= 0:
        raise argparse.ArgumentTypeError(f"expected a distance above 0, e.g. 20 or 12mi (got {text!r})")
    return km


def _time(text: str) -> dt.time:
    try:
        return dt.time.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a time as HH:MM (got {text!r})") from None


def _score(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= 10:
        raise argparse.ArgumentTypeError(f"pain score must be a whole number from 0 to 10 (got {text!r})")
    return value


def _choice(valid: tuple[str, ...], what: str):
    def parse(text: str) -> str:
        value = text.strip().lower().replace("-", "_")
        if value not in valid:
            raise argparse.ArgumentTypeError(f"{what} must be one of {', '.join(valid)} (got {text!r})")
        return value
    return parse


def parse_threshold(text: str, metric: str) -> float:
    """``--above`` / ``--below`` value -> the metric's unit.  Distance metrics accept ``km`` / ``mi``
    suffixes ("20mi", "32 km"); a bare number is always the metric's unit."""
    info = rule_metric(metric)
    m = re.fullmatch(r"\s*([-+]?\d+(?:\.\d+)?)\s*([a-zA-Z%]*)\s*", str(text))
    if not m:
        raise ValueError(f"threshold must be a number, e.g. 32 or 20mi (got {text!r})")
    value, suffix = float(m.group(1)), m.group(2).lower()
    if not suffix or suffix == info.unit.lower():
        return value
    if info.unit in DISTANCE_UNITS and suffix in ("km", "mi", "miles", "mile"):
        return from_units(value, "mi" if suffix.startswith("mi") else "km")
    raise ValueError(f"{metric} is measured in {info.unit}; give the threshold in {info.unit}"
                     + (" or with a mi suffix (e.g. 20mi)" if info.unit in DISTANCE_UNITS else "")
                     + f" (got {text!r})")


# --- wiring --------------------------------------------------------------------------------------------

def register(sub, add_db_option) -> None:
    _register_pain(sub, add_db_option)
    _register_alerts(sub, add_db_option)


def _entry_options(*, required: bool) -> tuple:
    return (
        arg("--date", type=_pain_date, required=required, metavar="YYYY-MM-DD",
            help="the day (local; not after today, not before 1990)"),
        arg("--score", type=_score, required=required, metavar="N", help="pain 0-10"),
        arg("--time", type=_time, metavar="HH:MM",
            help="local time (default by timing: next_morning 07:00, rest_of_day 20:00, else 12:00)"),
        arg("--timing", type=_choice(TIMINGS, "timing"), metavar="T",
            help=f"when it hurt: {', '.join(TIMINGS)}" + (" (default: after on a day with a run or with --run, "
                                                           "else rest_of_day)" if required else "")),
        arg("--location", type=_choice(LOCATIONS, "location"), metavar="L",
            help=f"where: {', '.join(LOCATIONS)}" + (" (default lower_back)" if required else "")),
        arg("--symptom", type=_choice(SYMPTOMS, "symptom"), action="append", metavar="S",
            help="a symptom (repeat for several): " + ", ".join(SYMPTOMS)),
        arg("--note", metavar="TEXT", help="free text"),
        arg("--run", metavar="ACTIVITY_ID", help="link to a run (its id, or a unique start of it) of the same day; a "
                                                 "next_morning entry: or of the day before"),
    )


def _register_pain(sub, add_db_option) -> None:
    psub = command_group(sub, "pain", dest="pain_command", help="log back pain and see your pain log",
                         description="Log back pain (0-10), when it hurt and any warning symptoms.")
    add_command(psub, "add", pain_add, _entry_options(required=True), db=add_db_option, help="log a pain entry",
                description="Log a pain entry. A warning symptom prints what to do straight away.")
    add_command(psub, "list", pain_list, (
        json_flag(), arg("--deleted", action="store_true", help="include deleted entries")),
        db=add_db_option, help="print the pain log")
    add_command(psub, "edit", pain_edit, (
        id_arg(), *_entry_options(required=False),
        arg("--clear-symptoms", action="store_true", help="remove all symptoms"),
        arg("--unlink", action="store_true", help="remove the link to a run")),
        db=add_db_option, help="change a pain entry (earlier versions are kept)")
    add_command(psub, "delete", pain_delete, (id_arg(),), db=add_db_option,
                help="delete a pain entry (kept in its history)")

    add_command(psub, "assessed", pain_assessed, (
        arg("--date", type=_assessment_date, required=True, metavar="YYYY-MM-DD",
            help="the day you were seen (local; not in the future)"),
        arg("--time", type=_time, default=None, metavar="HH:MM", help="when you were seen (default: the end of the day)"),
        one_of(arg("--cleared", action="store_true", help="the clinician cleared you to run normally"),
               arg("--return-step", type=int, choices=(1, 2, 3, 4), default=None, metavar="N",
                   help="the return-to-running step (1-4) the clinician wants you to start at")),
        arg("--max-week-km", type=_cap_km, default=None, metavar="X",
            help="the most running a week the clinician allows (km, or e.g. 12mi)"),
        arg("--max-run-km", type=_cap_km, default=None, metavar="X",
            help="the longest run the clinician allows (km, or e.g. 5mi)"),
        arg("--max-pain", type=_score, default=None, metavar="N",
            help="the most pain (0-10) the clinician allows during a run"),
        arg("--note", metavar="TEXT", default="", help="free text (who, what they said)")),
        db=add_db_option, help="record that a clinician has seen you (and what they decided)",
        description="Record that a physiotherapist or doctor has assessed you. It closes the warnings that "
                    "sent you to a clinician (red-flag symptoms, persistent pain) logged before the visit "
                    "(that day up to --time; without a time, the whole day). Your plan then returns to "
                    "running step by step, or follows what the clinician decided: cleared to run normally, a "
                    "return step, their own limits. Distances take km or a mi suffix (e.g. 12mi).")
    add_command(psub, "export", pain_export, (
        arg("--csv", metavar="PATH", default="-", help="file to write (default: standard output)"),),
        db=add_db_option, help="export the pain log as CSV")


def _register_alerts(sub, add_db_option) -> None:
    asub = command_group(sub, "alerts", dest="alerts_command",
                         help="current alerts, your personal alert rules and suggested ones",
                         description="Current alerts, your own alert rules, and rules suggested from your "
                                     "pain log.")
    add_command(asub, "check", alerts_check, _AS_OF_JSON, db=add_db_option,
                help="the alerts and next week's plan now")
    add_command(asub, "list", alerts_list, (json_flag(),), db=add_db_option, help="your personal alert rules")

    metrics_list = "; ".join(f"{name} ({m.unit}, per {m.scope})" for name, m in RULE_METRICS.items())
    add_command(asub, "add", alerts_add, (
        arg("--metric", required=True, metavar="M", help="what to watch (see the list above)"),
        one_of(arg("--above", metavar="X", help="alert when the value is above X"),
               arg("--below", metavar="X", help="alert when the value is below X"), required=True),
        arg("--scope", choices=("week", "run"), default=None, help="week or run (default: the metric's own scope)"),
        arg("--label", default="", metavar="TEXT", help="a name for the rule")),
        db=add_db_option, help="add a personal alert rule",
        description="Add a personal alert rule, e.g. `loadwatch alerts add --metric distance_km --above 32`. "
                    "The threshold is in the metric's unit; distances also take a mi suffix (--above 20mi). "
                    f"Metrics: {metrics_list}.")

    add_command(asub, "remove", alerts_remove, (id_arg(),), db=add_db_option, help="remove a personal alert rule")
    for name, enabled in (("enable", True), ("disable", False)):
        add_command(asub, name, alerts_enable, (id_arg(),), db=add_db_option, defaults={"enabled": enabled},
                    help=f"{name} a personal alert rule")
    add_command(asub, "suggest", alerts_suggest, (
        *_AS_OF_JSON, arg("--accept", type=int, metavar="N", help="add suggestion number N as a rule")),
        db=add_db_option, help="rules suggested by your own pain log",
        description="Rules suggested by patterns in your own training and pain log "
                    "(an association, not proof of cause). --accept N adds one.")


_AS_OF_JSON = (
    arg("--as-of", type=_date, default=None, metavar="YYYY-MM-DD", help="as of this day (default today)"),
    json_flag("print JSON (always metric)"),
)


# --- pain ------------------------------------------------------------------------------------------------

def _resolve_run(store, text: str | None) -> str | None:
    if not text:
        return None
    return _pick_run([str(i) for i in store.activities()["id"]], text)


def _pick_run(ids: list[str], text: str) -> str:
    """The run ``--run`` names among ``ids``: its id, or the one id starting with it (lower case)."""
    if text in ids:
        return text
    matches = [i for i in ids if i.startswith(text.lower())]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise ValueError(f"no activity with id {text!r} (see `loadwatch activities`)")
    raise ValueError(f"{len(matches)} activities start with {text!r}; give more of the id")


def _print_care(symptoms, day) -> None:
    for severity, message in fmt.symptom_care(symptoms, day):
        head = "GET MEDICAL HELP NOW" if severity == "emergency" else "SEE A CLINICIAN"
        print(f"\n{head}: {message}\n")


def _store_pain(write, *args, **kwargs):
    """``write(*args, **kwargs)`` (the store's add or update of an entry); a run of a day the entry cannot be
    about refused in the faces' words (exit 1, as an unknown run)."""
    from loadwatch.ingest.painlog import RunLinkError

    try:
        return write(*args, **kwargs)
    except RunLinkError as exc:
        raise ValueError(fmt.run_link_refused(exc.activity_id, exc.run_day, exc.entry_day, exc.timing)) from None


def _add_pain_in_full(args, entry) -> tuple[int, bool, dt.date | None]:
    """Add ``entry`` through the full store (its run resolved from ``--run``): (its id, whether a symptom
    logged with it calls for care, the linked run's local day)."""
    from dataclasses import replace

    with open_store(args) as store:
        entry = replace(entry, activity_id=_resolve_run(store, args.run))
        pain_id = _store_pain(store.add_pain, entry)
        run_day = store.pain_run_day(entry.activity_id) if entry.activity_id else None
        escalated = True
        if entry.symptoms and not set(entry.symptoms) & set(th.EMERGENCY_SYMPTOMS):
            # a symptom a clinician has already assessed, logged again at the same or a lower score, is known
            # and does not reopen (SCIENCE.md section 11): ask the episode, not the symptom alone
            from loadwatch.dashboard.from_store import report_from_store

            phase = (report_from_store(store, as_of=args.date).get("plan") or {}).get("phase")
            escalated = phase in ("see_clinician", "emergency")
    return pain_id, escalated, run_day


def _ran_on(args, day: dt.date) -> bool:
    """Whether the runner ran on ``day``: the light store's answer, else the full store's (a store to create
    or migrate first)."""
    from loadwatch.ingest import store_light

    ran = store_light.ran_on(getattr(args, "db", None), day)
    if ran is None:
        with open_store(args) as store:
            ran = store.ran_on(day)
    return ran


def _runner_now(args) -> dt.datetime:
    """Now on the runner's wall clock, in the store's time zone (else the machine's)."""
    from loadwatch.ingest import store_light
    from loadwatch.ingest.settings import local_now

    settings = store_light.settings(getattr(args, "db", None))
    if settings is None:
        with open_store(args) as store:
            settings = store.settings()
    return local_now(settings.timezone)


def _may_call_for_action(args, score: int, timing: str) -> bool:
    """:func:`loadwatch.metrics.checkins.may_call_for_action`, the earlier mornings read with sqlite3 alone,
    so an entry that calls for nothing is written without pandas and answers in half a second (issue 21)."""
    from loadwatch.ingest import store_light
    from loadwatch.metrics.checkins import may_call_for_action

    mornings = store_light.morning_scores(getattr(args, "db", None), args.date) if timing == "next_morning" else []
    return may_call_for_action(score, timing, mornings)


def _entry_advice(args, pain_id: int) -> str | None:
    """The one line of what to do that the entry calls for, from the alerts of its day (every face's rules)."""
    from loadwatch.dashboard.from_store import pain_entry_advice, report_from_store

    with open_store(args) as store:
        return pain_entry_advice(report_from_store(store, as_of=args.date), pain_id)


def pain_add(args) -> int:
    from loadwatch.ingest.painlog import PainEntry, check_not_future, default_timing

    # without --timing: "after" on a day with a run, else "rest_of_day" (no run to be after); with --run the
    # entry is about that run, whatever day it was (the store checks the day)
    ran = None if args.timing or args.run else _ran_on(args, args.date)
    timing = args.timing or default_timing(True if args.run else ran)
    now = _runner_now(args)
    # without --time, today's entry is never later than now (20:00 "later in the day" logged at noon)
    at = dt.datetime.combine(args.date, args.time or dt.time.fromisoformat(DEFAULT_TIMES[timing]))
    if not args.time and args.date == now.date():
        at = min(at, now)
    try:
        check_not_future(at, now)
    except ValueError as exc:
        return refused("pain add", exc)
    symptoms = tuple(args.symptom or ())
    entry = PainEntry(at_local=at, score=args.score, timing=timing,
                      location=args.location or "lower_back", symptoms=symptoms, note=args.note or "")
    pain_id = run_day = None
    if not symptoms:
        from dataclasses import replace

        from loadwatch.ingest import store_light

        # the everyday entry (no symptom for the episode to judge): sqlite3 alone, its run found there too
        db = getattr(args, "db", None)
        ids = store_light.ids_starting(db, args.run) if args.run else None
        if ids is not None and args.run.lower() != args.run:
            ids += store_light.ids_starting(db, args.run.lower()) or []
        if not args.run or ids is not None:
            entry = replace(entry, activity_id=_pick_run(ids, args.run) if args.run else None)
            pain_id = _store_pain(store_light.add_pain, db, entry)
            run_day = store_light.run_day(db, entry.activity_id) if pain_id is not None and args.run else None
    escalated = True
    if pain_id is None:
        pain_id, escalated, run_day = _add_pain_in_full(args, entry)
    print(f"logged pain entry {pain_id}: {fmt.pain_logged(args.score, timing, entry.at_local, run_day=run_day, ran=ran)}")
    if escalated and symptoms:
        _print_care(symptoms, args.date)
    elif _may_call_for_action(args, args.score, timing):
        advice = _entry_advice(args, pain_id)
        if advice:
            print(advice)
    if symptoms and not escalated:
        print(f"Logged: {fmt.word_list(symptoms, 'symptom')}, which a clinician has already assessed. Thank you for "
              "logging it honestly: it reopens a warning only if it gets 2 or more points worse.")
    return 0


def pain_assessed(args) -> int:
    from loadwatch.dashboard.from_store import report_from_store
    from loadwatch.metrics.plan import phase_summary

    with open_store(args) as store:
        try:
            aid = store.add_assessment(
                args.date, args.note or "", time=args.time.strftime("%H:%M") if args.time else None,
                cleared=args.cleared, return_step=args.return_step, max_week_km=args.max_week_km,
                max_run_km=args.max_run_km, max_pain=args.max_pain)
        except ValueError as exc:
            print(f"loadwatch: {exc}", file=sys.stderr)
            return 2
        report = report_from_store(store, as_of=args.date)
        after = "after the visit"
        if (report.get("plan") or {}).get("phase") == "stop":
            # a stop assessed by a clinician returns to running the next day (SCIENCE.md section 13)
            nxt = args.date + dt.timedelta(days=1)
            report, after = report_from_store(store, as_of=nxt), f"from {fmt.day(nxt)}"
    when = fmt.day(args.date) + (f" at {args.time:%H:%M}" if args.time else "")
    print(f"recorded assessment {aid}: a clinician saw you on {when}" + (f" ({args.note})" if args.note else ""))
    print("Warnings that sent you to a clinician before the visit are closed.")
    # what the plan is now, in the same words as every other face (never a promise the plan does not keep)
    plan = report.get("plan") or {}
    if plan.get("care_message"):
        print("A warning logged after the visit is still open: " + plan["care_message"])
    else:
        print(f"Your plan {after}: " + phase_summary(plan))
    return 0


def _pain_records(frame) -> list[dict]:
    out = []
    for _, row in frame.iterrows():
        rec = {
            "id": int(row["id"]), "at_local": row["at_local"].isoformat(timespec="minutes"),
            "score": int(row["score"]), "timing": row["timing"], "location": row["location"],
            "activity_id": row["activity_id"], "symptoms": list(row["symptoms"] or ()), "note": row["note"] or "",
        }
        if "deleted" in row:
            rec["deleted"] = bool(row["deleted"])
        out.append(rec)
    return out


def pain_list(args) -> int:
    with open_store(args) as store:
        records = _pain_records(store.pain(include_deleted=args.deleted))
        seen = store.assessments()
    if args.json:
        print(json.dumps(records, indent=2))
        return 0
    if len(seen):
        print("seen by a clinician: " + "; ".join(
            fmt.day(r.date) + (f" ({r.note})" if r.note else "") for r in seen.itertuples()))
    if not records:
        print("no pain entries yet: log one with `loadwatch pain add --date YYYY-MM-DD --score N`")
        return 0
    rows, notes = [], []
    for r in records:
        flags = f" [{fmt.word_list(r['symptoms'], 'symptom')}]" if r["symptoms"] else ""
        gone = " (deleted)" if r.get("deleted") else ""
        rows.append((r["id"], fmt.day_time(r["at_local"]), fmt.score(r["score"]), fmt.words(r["timing"], "timing"),
                     fmt.words(r["location"], "location"), (r["activity_id"] or fmt.MISSING)[:8]))
        notes.append(f"{r['note']}{flags}{gone}".strip())
    # in the terminal's width: the note (and any symptoms) wraps on the lines under its entry
    print(term.flow_table(("id", "when", "pain", "timing", "where", "run"), rows, notes=notes, right=(0, 2),
                          keep=(0, 2, 5)))
    return 0


def pain_edit(args) -> int:
    from loadwatch.ingest.painlog import check_not_future
    from loadwatch.ingest.settings import local_now

    changes: dict = {}
    with open_store(args) as store:
        current = store.pain(include_deleted=True)
        row = current[current["id"] == args.id]
        if row.empty:
            raise KeyError(f"no pain entry with id {args.id}")
        old_at = row["at_local"].iloc[0].to_pydatetime()
        if args.date or args.time:
            changes["at_local"] = dt.datetime.combine(args.date or old_at.date(), args.time or old_at.time())
            try:
                check_not_future(changes["at_local"], local_now(store.settings().timezone))
            except ValueError as exc:
                return refused("pain edit", exc)
        for key in ("score", "timing", "location", "note"):
            value = getattr(args, key)
            if value is not None:
                changes[key] = value
        if args.clear_symptoms:
            changes["symptoms"] = ()
        if args.symptom:
            changes["symptoms"] = tuple(args.symptom)
        if args.unlink:
            changes["activity_id"] = None
        elif args.run:
            changes["activity_id"] = _resolve_run(store, args.run)
        if not changes:
            print("nothing to change (give --score, --date, --timing, ...)", file=sys.stderr)
            return 2
        _store_pain(store.update_pain, args.id, **changes)
    print(f"updated pain entry {args.id}: {fmt.word_list(changes, 'pain_field')}")
    if changes.get("symptoms"):
        _print_care(changes["symptoms"], (changes.get("at_local") or old_at).date())
    return 0


def pain_delete(args) -> int:
    return store_call(args, lambda store: store.delete_pain(args.id), f"deleted pain entry {args.id} (its history is kept)")


def pain_export(args) -> int:
    with open_store(args) as store:
        records = _pain_records(store.pain())
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=PAIN_EXPORT_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for r in records:
        writer.writerow({**r, "symptoms": ";".join(r["symptoms"]), "activity_id": r["activity_id"] or ""})
    if args.csv == "-":
        sys.stdout.write(buf.getvalue())
    else:
        from loadwatch.ingest.private_files import write_private

        try:
            write_private(args.csv, buf.getvalue())  # health data: 0600
        except OSError as exc:
            print(fmt.terminal_text(f"loadwatch: could not write the pain log to {args.csv}: {exc.strerror or exc}"),
                  file=sys.stderr)
            return 1
        print(fmt.terminal_text(f"wrote {len(records)} pain entries to {args.csv}"))
    return 0


# --- alerts ----------------------------------------------------------------------------------------------

def _rule_dict(rule) -> dict:
    return {"id": rule.id, "metric": rule.metric, "threshold": rule.threshold, "op": rule.op, "scope": rule.scope,
            "enabled": bool(rule.enabled), "label": rule.label, "origin": rule.origin}


def alerts_list(args) -> int:
    with open_store(args) as store:
        rules = store.rules()
        units = store.settings().units
    if args.json:
        print(json.dumps([_rule_dict(r) for r in rules], indent=2))
        return 0
    if not rules:
        print("no personal alert rules yet: add one with `loadwatch alerts add --metric distance_km --above 32`"
              " or see `loadwatch alerts suggest`")
        return 0
    for r in rules:
        info = RULE_METRICS.get(r.metric)
        label = info.label if info else r.metric
        state = "" if r.enabled else "  (disabled)"
        name = f"  '{r.label}'" if r.label else ""
        print(f"{r.id:>3}  {label} {r.op} {fmt.threshold(r.metric, r.threshold, units)}  "
              f"[{r.metric}, per {r.scope}, {r.origin}]{name}{state}")
    return 0


def alerts_add(args) -> int:
    from loadwatch.ingest.store import Rule

    info = rule_metric(args.metric)
    op, raw = (">", args.above) if args.above is not None else ("<", args.below)
    threshold = parse_threshold(raw, args.metric)
    scope = args.scope or info.scope
    validate_rule(args.metric, threshold, op, scope)
    with open_store(args) as store:
        rule_id = store.add_rule(Rule(None, args.metric, threshold, op=op, scope=scope, label=args.label,
                                      origin="user"))
        units = store.settings().units
    print(f"added rule {rule_id}: {info.label} {op} {fmt.threshold(args.metric, threshold, units)}")
    return 0


def alerts_remove(args) -> int:
    return store_call(args, lambda store: store.remove_rule(args.id), f"removed rule {args.id}")


def alerts_enable(args) -> int:
    return store_call(args, lambda store: store.update_rule(args.id, enabled=args.enabled),
                      f"rule {args.id} {'enabled' if args.enabled else 'disabled'}")


def _report(store, as_of) -> dict:
    from loadwatch.dashboard.from_store import report_from_store

    return report_from_store(store, as_of=as_of, weeks=1)


def alerts_check(args) -> int:
    with open_store(args) as store:
        report = _report(store, args.as_of)
    if args.json:
        print(json.dumps({k: report.get(k) for k in ("as_of", "units", "alerts", "plan", "phases", "assessments",
                                                     "disclaimer")}, indent=2))
        return 0
    print(format_alerts(report))
    return 0


def format_alerts(report: dict) -> str:
    """The alerts and the plan in words: the phase first, red flags never next to training numbers."""
    from loadwatch.metrics.plan import phase_lines

    plan = report.get("plan") or {}
    units = report.get("units", "km")
    lines = [f"as of {fmt.day(report.get('as_of'))}: {fmt.plan_status(plan)}"]
    lines += phase_lines(plan, units)
    alerts = report.get("alerts") or []
    if not alerts:
        lines.append("no alerts")
    for a in alerts:
        if a.get("rule") == "check_in":
            continue  # asked above, with the phase
        tag = fmt.words(a["severity"], "severity") if a.get("alarm", True) else "for information"
        lines.append(f"- [{tag}] {a['message']}")
        lines.append(f"    rule: {fmt.words(a['rule'], 'rule')}; {a['evidence']}")
    if plan and plan.get("status") not in ("emergency", "see_clinician"):
        if plan.get("strength"):
            lines.append(f"Strength: {plan['strength']}")
        # the plan's reasons as `loadwatch report` lists them (a reason starts with its rule's name)
        reasons = [f"  - {fmt.reason(r)}" for r in plan.get("reasons") or []]
        lines += ["Why:", *reasons] if reasons else []
    lines.append(report.get("disclaimer") or th.NOT_MEDICAL_ADVICE)
    return "\n".join(lines)


def alerts_suggest(args) -> int:
    from loadwatch.ingest.store import Rule

    with open_store(args) as store:
        report = _report(store, args.as_of)
        suggestions = report.get("suggested_rules") or []
        if args.accept is not None:
            if not 1 <= args.accept <= len(suggestions):
                raise ValueError(f"there is no suggestion number {args.accept} (there are {len(suggestions)})")
            s = suggestions[args.accept - 1]
            rule_id = store.add_rule(Rule(None, s["metric"], s["threshold"], op=s["op"], scope=s["scope"],
                                          label=s.get("label", ""), origin="suggested"))
            print(f"added rule {rule_id}: {s.get('label') or s['metric']}")
            return 0
    if args.json:
        print(json.dumps(suggestions, indent=2))
        return 0
    if not suggestions:
        print(f"no suggestions: loadwatch needs at least {th.SUGGEST_MIN_FLARE_UPS} flare-ups (pain of "
              f"{th.FLARE_UP_MIN_SCORE}/10 or more) and {th.SUGGEST_MIN_PAIN_FREE_WEEKS} pain-free weeks in your log, "
              "with a clear pattern between them")
        return 0
    for i, s in enumerate(suggestions, start=1):
        print(f"{i}. {s['text']}")
        print(f"   accept with: loadwatch alerts suggest --accept {i}")
    print("These are patterns in your own log (an association, not proof of cause).")
    return 0

