"""The tests themselves cannot mislead: none reads today's date or the time of day without first freezing
the clock (a test that reads today passes on Monday and fails on Sunday), and none skips when the project's
own code fails to import (``pytest.importorskip("loadwatch.ingest.store")`` turned a broken import into ~145 quiet
skips and a green CI).

Read from the test files' syntax trees, so it costs a second and needs nothing to run.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

TESTS_DIR = Path(__file__).resolve().parent
PROJECT_PACKAGES = ("ingest", "metrics", "dashboard")

#: Calls that read the clock as a date or a moment: ``date.today()``, ``datetime.now()``, ``dt.date.today()``,
#: ``pd.Timestamp.now()``, ``time.time()``...
CLOCK_CALLS = {("date", "today"), ("datetime", "today"), ("datetime", "now"), ("Timestamp", "now"),
               ("Timestamp", "today"), ("datetime", "utcnow"), ("time", "time")}

#: The context manager that freezes the clock: time-machine's ``travel``. (A test that takes conftest's
#: ``today`` fixture has the clock frozen already, and reads the day from it rather than from the clock.)
FREEZERS = {"travel"}

#: Where reading the real clock is right, and why (file, enclosing function).
ALLOWED = {
    # The builders of a history relative to today: their callers freeze the clock (or a parametrized day)
    # first; a test that did not would be flagged where it calls them only if it read today itself.
    ("app_helpers.py", "history_files"): "relative to the caller's (frozen) today",
    ("app_helpers.py", "pain_entries"): "relative to the caller's (frozen) today",
    ("app_helpers.py", "copy_history"): "keys its cached template by the caller's today",
    # The store's own timestamp is the clock's now: the test compares it with the clock it reads.
    ("test_store_tables.py", "test_now_iso_is_utc_with_microseconds"): "checks a timestamp against now",
}


def _test_files() -> list[Path]:
    return sorted(p for p in TESTS_DIR.glob("*.py") if p.name != Path(__file__).name)


def _dotted(node: ast.AST) -> tuple[str, ...]:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return tuple(reversed(parts))


def _is_freezer(item: ast.withitem) -> bool:
    call = item.context_expr
    return isinstance(call, ast.Call) and _dotted(call.func)[-1:] in {(f,) for f in FREEZERS}


class _ClockReads(ast.NodeVisitor):
    def __init__(self):
        self.frozen = 0
        self.functions: list[str] = []
        self.found: list[tuple[int, str, str]] = []

    def _function(self, node):
        self.functions.append(node.name)
        self.generic_visit(node)
        self.functions.pop()

    visit_FunctionDef = visit_AsyncFunctionDef = _function

    def visit_With(self, node: ast.With):
        freezes = any(_is_freezer(item) for item in node.items)
        for item in node.items:
            self.visit(item)
        self.frozen += freezes
        for stmt in node.body:
            self.visit(stmt)
        self.frozen -= freezes

    def visit_Call(self, node: ast.Call):
        name = _dotted(node.func)
        if len(name) >= 2 and name[-2:] in CLOCK_CALLS and not self.frozen:
            where = self.functions[0] if self.functions else "<module>"
            self.found.append((node.lineno, ".".join(name), where))
        self.generic_visit(node)


def clock_reads(path: Path) -> list[tuple[int, str, str]]:
    """(line, call, outermost function) of every clock read outside a ``with`` that freezes the clock."""
    visitor = _ClockReads()
    visitor.visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
    return visitor.found


@pytest.mark.parametrize("path", _test_files(), ids=lambda p: p.name)
def test_no_test_reads_the_clock_unfrozen(path):
    found = [f"{path.name}:{line} {call}() in {where}" for line, call, where in clock_reads(path)
             if (path.name, where) not in ALLOWED]
    assert not found, ("take conftest's `today` fixture, read today inside `with time_machine.travel(...)`, or "
                       "pass --as-of / an explicit date:\n  " + "\n  ".join(found))


def test_the_allowed_clock_reads_still_exist():
    """An entry of ALLOWED whose clock read has gone is removed, so the list stays short and true (an entry
    for a test file that is not in this tree yet, arriving from a parallel branch, is left alone)."""
    files = {p.name for p in _test_files()}
    used = {(p.name, where) for p in _test_files() for _line, _call, where in clock_reads(p)}
    gone = {entry for entry in ALLOWED if entry[0] in files} - used
    assert not gone, sorted(gone)


def _importorskips(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Call) and _dotted(node.func)[-1:] == ("importorskip",) and node.args:
            arg = node.args[0]
            name = arg.value if isinstance(arg, ast.Constant) and isinstance(arg.value, str) else "<computed>"
            found.append((node.lineno, name))
    return found


@pytest.mark.parametrize("path", _test_files(), ids=lambda p: p.name)
def test_no_importorskip_of_the_projects_own_code(path):
    """A broken import of our own code must fail, not skip; importorskip stays for optional third-party
    tools only."""
    own = [f"{path.name}:{line} importorskip({name!r})" for line, name in _importorskips(path)
           if name == "<computed>" or name.split(".")[0] in PROJECT_PACKAGES]
    assert not own, own


def test_the_checks_see_what_they_look_for(tmp_path):
    """The AST checks find an unfrozen read, pass a frozen one, and find an importorskip of our code."""
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import datetime as dt\nimport time_machine\nimport pytest\nfrom datetime import date, datetime\n"
        "def test_a():\n    return date.today()\n"
        "def test_b():\n    with time_machine.travel(datetime(2026, 12, 6)):\n        return dt.date.today()\n"
        "def test_c():\n    with time_machine.travel(date(2026, 12, 6)):\n        pass\n    return datetime.now()\n"
        "store = pytest.importorskip('loadwatch.ingest.store')\nyaml = pytest.importorskip('yaml')\n")
    assert [(line, where) for line, _call, where in clock_reads(sample)] == [(6, "test_a"), (13, "test_c")]
    assert _importorskips(sample) == [(14, "loadwatch.ingest.store"), (15, "yaml")]
