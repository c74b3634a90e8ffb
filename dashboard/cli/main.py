"""The ``loadwatch`` command: a thin face over ``ingest`` and ``metrics``.

Each group of sub-commands lives in its own module with a ``register(subparsers)`` function that adds its
parsers and sets ``func`` (called with the parsed args, returning the exit code).  Domain errors
(``IngestError``, ``ValueError`` from validation) become a one-line message and exit code 1; usage errors
exit 2 (argparse).
"""

from __future__ import annotations

import argparse
import os
import sys

#: Commands a runner types many times a day: they must answer at once (issue 21: <= 0.5 s), so they never
#: load the dashboard's, the PDF's or the cohort's libraries (streamlit, altair, vl-convert, fpdf, dask,
#: pyarrow).  ``dashboard`` and ``cohort`` are the heavy ones.
LIGHT_COMMANDS = frozenset({"import", "activities", "rebuild", "settings", "report", "pain", "alerts", "shoes",
                            "session", "demo", "outcome", "programme"})


#: The module that adds each command (``loadwatch.dashboard.cli.<module>``), in the order ``loadwatch --help`` lists them.
#: Only the typed command's module is imported: each module pulls in its own libraries (the import's
#: store and readers, the report's metrics), a tenth of a second or more that another command never uses.
COMMAND_MODULES: dict[str, str] = {
    "import": "cmd_ingest", "activities": "cmd_ingest", "rebuild": "cmd_ingest",
    "settings": "cmd_report", "report": "cmd_report",
    "pain": "cmd_pain", "alerts": "cmd_pain",
    "shoes": "cmd_gear", "session": "cmd_gear",
    "dashboard": "cmd_app", "demo": "cmd_app",
    "cohort": "cmd_cohort",
    "outcome": "cmd_outcome", "programme": "cmd_outcome",
}


def command_modules(command: str | None = None) -> tuple:
    """The modules that add the sub-commands (each has ``register(subparsers, add_db_option)``): only the
    one that adds ``command`` when it is a known command, else all of them (``--help``, a typo)."""
    import importlib

    names = [COMMAND_MODULES[command]] if command in COMMAND_MODULES else list(dict.fromkeys(COMMAND_MODULES.values()))
    return tuple(importlib.import_module(f"{__package__}.{name}") for name in names)


def _command(argv: list[str]) -> str | None:
    return next((a for a in argv if not a.startswith("-")), None)


def keep_light(argv: list[str]) -> None:
    """Before pandas is first imported, for a light command: pandas 3 imports pyarrow whenever it is
    installed (the cohort extra and the dashboard bring it), a tenth of a second a light command has no use
    for.  Marking it absent (``sys.modules[name] = None``, Python's own way to say "cannot be imported")
    makes pandas use its own string storage.  A process that already imported pandas (the dashboard, the
    test suite) is left as it is."""
    command = _command(argv)
    if command in LIGHT_COMMANDS and "pandas" not in sys.modules and "pyarrow" not in sys.modules:
        sys.modules["pyarrow"] = None  # type: ignore[assignment]


def add_db_option(parser: argparse.ArgumentParser) -> None:
    """Every command takes ``--db PATH`` (default: $LOADWATCH_DB, else the user data directory)."""
    parser.add_argument("--db", metavar="PATH", default=None,
                        help="the loadwatch store to use (default: $LOADWATCH_DB or your user data folder)")


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The ``loadwatch`` parser; given the command line ``argv``, only its command's module is loaded."""
    parser = argparse.ArgumentParser(
        prog="loadwatch",
        description="Training load and back-pain tracker for runners. Local-first: your data stays on this machine.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for module in command_modules(None if argv is None else _command(argv)):
        module.register(sub, add_db_option)
    return parser


def main(argv: list[str] | None = None) -> int:
    given = sys.argv[1:] if argv is None else list(argv)
    keep_light(given)
    parser = build_parser(given)
    args = parser.parse_args(argv)
    from loadwatch.ingest import commits

    before = commits.count()
    code = _run(args)
    if code == 0 and commits.count() != before:  # the command wrote: the kept reports are out of date
        from loadwatch.dashboard.cli import report_refresh

        report_refresh.start(getattr(args, "db", None))
    return code


def _run(args) -> int:
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `loadwatch activities | head`: the reader left; stop quietly, as Unix tools do.
        try:
            sys.stdout = open(os.devnull, "w")  # the interpreter's final flush stays silent
        except OSError:
            pass
        return 0
    except (ValueError, KeyError) as exc:  # IngestError is a ValueError
        from loadwatch.metrics import fmt

        print(fmt.terminal_text(f"loadwatch: {exc.args[0] if exc.args else exc}"), file=sys.stderr)
        return 1
    except OSError as exc:  # a folder that cannot be made or written, a full disk: one line, no traceback
        from loadwatch.metrics import fmt

        where = f"{exc.filename}: " if exc.filename else ""
        print(fmt.terminal_text(f"loadwatch: {where}{exc.strerror or exc}"), file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
