"""What the command modules share.

* Argument types: each turns bad input into argparse's usage error (exit 2) with a sentence that says what
  was expected.
* The sub-command table: :func:`command_group` (``loadwatch NAME ACTION ...``) and :func:`add_command` (one
  action: its arguments in order, then ``--db``, then the function it runs), so every command module builds
  its parsers one way.
* The store and the one error-to-exit rule: :func:`open_store`, :func:`refused` and :func:`store_call`;
  a list command's JSON or empty answer: :func:`said_all`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
from collections.abc import Callable, Iterable
from typing import Any

from loadwatch.metrics.units import from_units


def iso_date(text: str) -> dt.date:
    """``YYYY-MM-DD`` -> date."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD (got {text!r})") from None


def positive_int(what: str) -> Callable[[str], int]:
    """A type for a whole number of ``what`` ("weeks", "workers"), 1 or more."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = 0
        if value < 1:
            raise argparse.ArgumentTypeError(f"expected a whole number of {what}, 1 or more (got {text!r})")
        return value

    return parse


# --- the sub-command table -----------------------------------------------------------------------------

#: One argument of a command: ``(flags, keyword arguments of add_argument)``.
Arg = tuple[tuple[str, ...], dict]


def arg(*flags: str, **kwargs) -> Arg:
    """One argument, as ``parser.add_argument(*flags, **kwargs)`` would take it."""
    return flags, kwargs


def one_of(*args: Arg, required: bool = False) -> Arg:
    """Arguments of which at most one may be given (exactly one when ``required``): argparse's mutually
    exclusive group, in its place among the others."""
    return (), {"one_of": args, "required": required}


def json_flag(help: str = "print JSON") -> Arg:  # noqa: A002 - argparse's own word
    """``--json``: machine-readable output (the help says in which units)."""
    return arg("--json", action="store_true", help=help)


def id_arg() -> Arg:
    """The ``ID`` of the entry an action works on (a whole number)."""
    return arg("id", type=int, metavar="ID")


def child_db_option(parser: argparse.ArgumentParser) -> None:
    """``--db`` after the action too, without overwriting one given before it (``loadwatch shoes --db X
    list``)."""
    parser.add_argument("--db", metavar="PATH", default=argparse.SUPPRESS,
                        help="the loadwatch store to use (default: $LOADWATCH_DB or your user data folder)")


def command_group(sub, name: str, *, help: str, description: str | None, dest: str,  # noqa: A002
                  db: Callable | None = None, metavar: str = "ACTION"):
    """``loadwatch NAME ACTION ...``: adds the command ``name`` (with ``--db`` when ``db`` adds it) and
    returns its sub-parsers, of which one must be chosen."""
    parser = sub.add_parser(name, help=help, description=description)
    if db is not None:
        db(parser)
    actions = parser.add_subparsers(dest=dest, metavar=metavar)
    actions.required = True
    return actions


def add_command(sub, name: str, func: Callable, args: Iterable[Arg] = (), *, db: Callable | None = None,
                defaults: dict | None = None, **parser_kwargs) -> argparse.ArgumentParser:
    """One command or action: ``args`` in their order, then ``--db`` (``db(parser)``, where the command
    has a store), then ``func`` to run with the parsed arguments (and any other ``defaults``).
    ``parser_kwargs``: ``help``, ``description``."""
    parser = sub.add_parser(name, **parser_kwargs)
    for flags, kwargs in args:
        if "one_of" in kwargs:
            group = parser.add_mutually_exclusive_group(required=kwargs["required"])
            for inner_flags, inner_kwargs in kwargs["one_of"]:
                group.add_argument(*inner_flags, **inner_kwargs)
        else:
            parser.add_argument(*flags, **kwargs)
    if db is not None:
        db(parser)
    parser.set_defaults(func=func, **(defaults or {}))
    return parser


# --- the store and the error-to-exit rule ----------------------------------------------------------------

def open_store(args):
    """The store ``--db`` names (default: $LOADWATCH_DB or the user data folder)."""
    from loadwatch.ingest.store import Store

    return Store(getattr(args, "db", None))


def refused(command: str, exc: Exception) -> int:
    """The runner's input was refused: one plain line on stderr (``loadwatch COMMAND: why``), exit 2."""
    print(f"loadwatch {command}: {exc.args[0] if exc.args else exc}", file=sys.stderr)
    return 2


def store_call(args, write: Callable[[Any], Any], said: str | Callable[[Any], str], *,
               refused_as: str | None = None) -> int:
    """Open the store, ``write(store)``, print ``said`` (or ``said(what write returned)``), exit 0.

    With ``refused_as`` (the command's words, e.g. ``"shoes retire"``), a ``ValueError`` or ``KeyError``
    from the store is the runner's input refused: :func:`refused`, exit 2.  Without it, they reach the
    CLI's own handler (one line, exit 1)."""
    try:
        with open_store(args) as store:
            result = write(store)
    except (ValueError, KeyError) as exc:
        if refused_as is None:
            raise
        return refused(refused_as, exc)
    print(said(result) if callable(said) else said)
    return 0


def said_all(records: list, as_json: bool, empty: str) -> bool:
    """A list command's two short answers: with ``--json`` the records as JSON, with none the ``empty``
    hint (how to add the first).  True when one was printed and the command is done."""
    if as_json:
        print(json.dumps(records, indent=2, allow_nan=False))
        return True
    if not records:
        print(empty)
        return True
    return False


def distance_km(text: str) -> float:
    """A distance in km, or in miles with a suffix (``300``, ``300km``, ``200mi``); 0 or more."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(km|mi|miles?)?\s*", str(text).lower())
    if not m:
        raise argparse.ArgumentTypeError(f"expected a distance of 0 or more, e.g. 300 or 200mi (got {text!r})")
    value = float(m.group(1))
    unit = m.group(2) or "km"
    return from_units(value, "mi") if unit.startswith("mi") else value
