"""``loadwatch outcome ...`` and ``loadwatch programme ...``: the weekly OSTRC-O2 questionnaire, the
Patient-Specific Functional Scale and the back programmes (SCIENCE.md section 16).  Thin faces over the
store (``ingest/outcomes.py``, ``ingest/programmes.py``) and ``loadwatch.metrics.outcomes`` / ``loadwatch.metrics.programme``.

Command names and flags are a public contract (issue 24).  Bad input exits 2 with one plain line on
stderr; ``--json`` is always metric (minutes in ``_min`` keys).
"""

from __future__ import annotations

import argparse
import json

from loadwatch.dashboard.cli.argtypes import (
    add_command,
    arg,
    child_db_option,
    command_group,
    json_flag,
    open_store,
    refused,
)
from loadwatch.dashboard.cli.argtypes import iso_date as _date
from loadwatch.metrics import fmt


def _answer(top: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = -1
        if not 0 <= value <= top:
            raise argparse.ArgumentTypeError(f"expected a whole number from 0 to {top} (got {text!r})")
        return value
    return parse


def _answers_help(question: str) -> str:
    from loadwatch.metrics.outcomes import OSTRC_ANSWERS

    return "; ".join(f"{i} {a}" for i, a in enumerate(OSTRC_ANSWERS[question]))


def register(sub, add_db_option) -> None:
    from loadwatch.ingest.outcomes import OSTRC_OPTIONS
    from loadwatch.ingest.programmes import PROGRAMMES
    from loadwatch.metrics.programme import pause_rule_words

    osub = command_group(sub, "outcome", dest="outcome_command", metavar="QUESTIONNAIRE", db=add_db_option,
                         help="what your back lets you do: weekly OSTRC questions, PSFS activities",
                         description="Outcome questionnaires: the weekly OSTRC-O2 for the low back and the "
                                     "Patient-Specific Functional Scale (up to three activities, 0-10).")
    answers = [arg(f"--{q}", dest=q, type=_answer(OSTRC_OPTIONS[q] - 1), required=True, metavar="N",
                   help=_answers_help(q)) for q in ("participation", "volume", "performance", "pain")]
    add_command(osub, "ostrc", ostrc_cmd, (
        arg("--week", type=_date, required=True, metavar="YYYY-MM-DD", help="a day of the week answered"),
        *answers, json_flag("print the scored week as JSON")), db=child_db_option,
        help="answer the week's four OSTRC-O2 questions about your back",
        description="The past 7 days of the week that holds --week, about your low back.")

    psub = command_group(osub, "psfs", dest="psfs_command", db=child_db_option,
                         help="Patient-Specific Functional Scale: activities you find hard, 0-10", description=None)
    for name, func, help_text, args in (
        ("add", psfs_add, "name an activity you find hard (at most three) and score it", (
            arg("name", metavar="ACTIVITY", help='in your words, e.g. "run 10 km" or "sit through a film"'),
            arg("--score", type=float, required=True, metavar="N",
                help="0 (unable to do it) to 10 (able to do it as before the problem)"),
            _day("default today"))),
        ("score", psfs_score, "score an activity again (every 1 to 4 weeks)", (
            arg("name", metavar="ACTIVITY", help="the activity's name or number (see `psfs list`)"),
            arg("--score", type=float, required=True, metavar="N", help="0 (unable) to 10 (as before)"),
            _day("default today"))),
        ("list", psfs_list, "your activities, their scores and the change", (
            json_flag(), _as_of("scores up to this day"))),
    ):
        add_command(psub, name, func, args, db=child_db_option, help=help_text)

    gsub = command_group(sub, "programme", dest="programme_command", db=add_db_option,
                         help="a back programme: WalkBack walking or the ASTEROID run-walk",
                         description="Back programmes as plan templates. The episode's rules still govern. "
                                     + pause_rule_words())
    for name, func, help_text, args in (
        ("start", programme_start, "start a programme", (
            arg("kind", choices=list(PROGRAMMES), metavar="walkback|runwalk"),
            _day("its first day (default today)"))),
        ("status", programme_status, "the programme's week, next sessions and adherence", (
            json_flag("print JSON (minutes)"), _as_of("as it stood on this day"))),
        ("stop", programme_stop, "stop the programme", (_day("its last day (default today)"),)),
    ):
        add_command(gsub, name, func, args, db=child_db_option, help=help_text)


def _day(help_text: str):
    return arg("--date", type=_date, default=None, metavar="YYYY-MM-DD", help=help_text)


def _as_of(help_text: str):
    return arg("--as-of", type=_date, default=None, metavar="YYYY-MM-DD", help=help_text)


def _today(store, given):
    return given if given is not None else store._today()


def _write(args, command: str, write):
    """Open the store, call ``write(store, day)`` with ``--date`` (default today in the runner's time zone);
    ``(exit code, day, what write returned)``: 2 with one plain line on stderr when the store refused it."""
    with open_store(args) as store:
        day = _today(store, args.date)
        try:
            return 0, day, write(store, day)
        except ValueError as exc:
            return refused(command, exc), day, None


def _print_words(lines) -> None:
    for line in lines:
        print(f"  {line}")


# --- outcome ------------------------------------------------------------------------------------------

def ostrc_cmd(args) -> int:
    from loadwatch.ingest.outcomes import week_start_of
    from loadwatch.metrics.outcomes import ostrc_score, ostrc_words

    answers = {q: getattr(args, q) for q in ("participation", "volume", "performance", "pain")}
    with open_store(args) as store:
        try:
            store.put_ostrc(args.week, **answers)
        except ValueError as exc:
            return refused("outcome ostrc", exc)
        week = week_start_of(args.week, store.settings().week_start)
    scored = ostrc_score(**answers)
    if args.json:
        print(json.dumps({"week_start": week.isoformat(), **scored.__dict__, "words": ostrc_words(scored)}))
    else:
        print(f"Week of {fmt.day(week)}: {ostrc_words(scored)}.")
    return 0


def psfs_add(args) -> int:
    from loadwatch.ingest.outcomes import check_psfs_score

    def write(store, day):
        check_psfs_score(args.score)  # before the activity is kept: nothing half-written
        store.add_psfs_activity(args.name, day)
        store.add_psfs_score(args.name, day, args.score)

    code, day, _ = _write(args, "outcome psfs add", write)
    if code:
        return code
    print(f'Added "{" ".join(args.name.split())}": {args.score:g}/10 on {fmt.day(day)}.')
    return 0


def psfs_score(args) -> int:
    from loadwatch.metrics.outcomes import psfs_trends

    def write(store, day):
        store.add_psfs_score(args.name, day, args.score)
        return psfs_trends(*store.psfs())

    code, day, trends = _write(args, "outcome psfs score", write)
    if code:
        return code
    print(f"Scored {args.score:g}/10 on {fmt.day(day)}.")
    _print_words(trends["words"])
    return 0


def psfs_list(args) -> int:
    from loadwatch.metrics.outcomes import outcomes_block

    with open_store(args) as store:
        block = outcomes_block(None, *store.psfs(), as_of=args.as_of)["psfs"]
    if args.json:
        print(json.dumps(block, indent=2))
        return 0
    if not block["activities"]:
        print('No PSFS activities yet. Add one: loadwatch outcome psfs add "run 10 km" --score 4')
        return 0
    for a in block["activities"]:
        history = ", ".join(f"{fmt.day(s['date'])} {s['score']:g}/10" for s in a["scores"]) or "not scored yet"
        print(f"{a['id']}. {a['name']}: {history}")
    if block["mean_latest"] is not None:
        print(f"PSFS mean now: {block['mean_latest']:g}/10")
    _print_words(block["words"])
    return 0


# --- programme ----------------------------------------------------------------------------------------

def programme_start(args) -> int:
    from loadwatch.ingest.programmes import PROGRAMMES
    from loadwatch.metrics.programme import pause_rule_words, plan_week

    code, day, _ = _write(args, "programme start", lambda store, day: store.start_programme(args.kind, day))
    if code:
        return code
    week = plan_week(args.kind, 1)
    print(f"Started the {PROGRAMMES[args.kind]} programme on {fmt.day(day)}. Week 1: "
          f"{week.sessions} sessions, each {week.words()}. {pause_rule_words(args.kind)}")
    return 0


def programme_stop(args) -> int:
    code, day, _ = _write(args, "programme stop", lambda store, day: store.stop_programme(day))
    if code:
        return code
    print(f"Stopped your programme on {fmt.day(day)}.")
    return 0


def programme_status(args) -> int:
    from loadwatch.dashboard.from_store import report_from_store
    from loadwatch.dashboard.report.outcomes import programme_lines

    with open_store(args) as store:
        report = report_from_store(store, as_of=args.as_of)
    programme = report.get("programme")
    if args.json:
        print(json.dumps(programme, indent=2, allow_nan=False))
        return 0
    if programme is None:
        print("No programme started. Start one: loadwatch programme start walkback|runwalk --date YYYY-MM-DD")
        return 0
    print("\n".join(programme_lines(programme)))
    return 0
