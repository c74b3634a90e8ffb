"""Terminal output for the command line: aligned tables and the import progress bar, both drawn by rich
(a well-kept library rather than hand-padded columns and hand-drawn bars).

Tables render to a string, so commands stay ``print``-based and tests read plain text: no colour, no
box-drawing characters.  A table is laid out by rich in the width it is given; :func:`flow_table` lays it
out in the terminal's own width (``COLUMNS`` when set, else the terminal's, else 80 for a pipe), sizing
its columns and wrapping long cells onto the lines under the row instead of cutting them.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Sequence
from typing import Any

from loadwatch.metrics import fmt

# rich is imported when a table or bar is drawn, not when a command module is imported: `loadwatch`'s
# start-up (and the Streamlit app, which imports the command modules) stays light.

#: Width tables are laid out in when printed (wide enough for every column of every table).
TABLE_WIDTH = 200


def table(headers: Sequence[str], rows: Sequence[Sequence], *, right: Sequence[int] = (),
          width: int | None = TABLE_WIDTH, wrap: bool = False) -> str:
    """``rows`` under ``headers`` as aligned plain text (columns in ``right`` right-aligned), laid out in
    ``width`` characters (None: the terminal's); ``wrap`` folds long cells instead of keeping one line."""
    t = _plain_table()
    for i, h in enumerate(headers):
        t.add_column(str(h), justify="right" if i in right else "left", no_wrap=not wrap,
                     overflow="fold" if wrap else "ellipsis")
    for row in rows:
        t.add_row(*(fmt.terminal_text(v) for v in row))
    return _render(t, width or terminal_width())


def terminal_width() -> int:
    """The width to lay a table out in [characters]: ``COLUMNS`` when set, else the terminal's, else 80 (rich's
    own rule, so a pipe into a file reads the same on every machine)."""
    from rich.console import Console

    return Console().width


def flow_table(headers: Sequence[str], rows: Sequence[Sequence], *, notes: Sequence[str] | None = None,
               right: Sequence[int] = (), keep: Sequence[int] = (), width: int | None = None) -> str:
    """``rows`` under ``headers`` laid out in ``width`` characters (None: :func:`terminal_width`), each row
    followed by its note (``notes[i]``, empty for none), indented and wrapped under the row.

    rich sizes the columns to the width: the cells of columns in ``keep`` (times, numbers, ids) are never
    wrapped or cut (their headings may wrap), the others wrap at word boundaries when the terminal is
    narrow.  rich draws the heading; the rows are wrapped into rich's widths here (rich drawing five
    years of activities row by row took seconds)."""
    import textwrap

    from rich.console import Console

    width = width or terminal_width()
    cells = [[fmt.terminal_text(v) for v in row] for row in rows]
    n = len(headers)
    longest = [max((len(r[i]) for r in cells), default=0) for i in range(n)]

    def layout(widths=None):
        t = _plain_table()
        for i, h in enumerate(headers):
            t.add_column(str(h), justify="right" if i in right else "left", overflow="fold",
                         min_width=longest[i] if i in keep else None, width=None if widths is None else widths[i])
        return t

    # rich measures a column by its longest cell and its longest word: the rows that hold those give rich's
    # widths for the whole table
    extremes = set()
    for i in range(n):
        if cells:
            extremes.add(max(range(len(cells)), key=lambda r, i=i: len(cells[r][i])))
            extremes.add(max(range(len(cells)), key=lambda r, i=i: max(map(len, cells[r][i].split() or [""]))))
    measured = layout()
    for r in sorted(extremes):
        measured.add_row(*cells[r])
    console = Console(file=io.StringIO(), width=width)
    # as rich's render computes them: the width less the column dividers; less each column's padding
    options = console.options.update_width(width - measured._extra_width)
    widths = [w - measured._get_padding_width(i)
              for i, w in enumerate(measured._calculate_column_widths(console, options))]
    heading = layout(widths)
    heading.add_row(*([""] * n))
    head_lines = _render(heading, width).split("\n")
    out = head_lines[:next(k for k, line in enumerate(head_lines) if line.lstrip().startswith("─")) + 1]
    notes = list(notes or [])
    for r, row in enumerate(cells):
        wrapped = [[c] if _fits(c, widths[i]) else textwrap.wrap(c, widths[i], break_on_hyphens=False) or [""]
                   for i, c in enumerate(row)]
        for k in range(max(len(w) for w in wrapped)):
            parts = [(w[k] if k < len(w) else "") for w in wrapped]
            out.append("  ".join(p.rjust(widths[i]) if i in right else p.ljust(widths[i])
                                 for i, p in enumerate(parts)).rstrip())
        note = notes[r] if r < len(notes) else ""
        if note and _fits(note, max(width, 20) - 4):
            out.append("    " + note)
        elif note:
            out += textwrap.wrap(note, width=max(width, 20), initial_indent="    ", subsequent_indent="    ",
                                 break_on_hyphens=False)
    return "\n".join(out)


def _fits(text: str, width: int) -> bool:
    """True when ``textwrap.wrap(text, width)`` would give ``[text]`` unchanged (one line, no tab or newline
    to turn into a space, no space to trim): five years of activities are mostly such cells, and wrapping each
    cost a third of a second."""
    return len(text) <= width and text.isprintable() and text == text.strip()


def _plain_table():
    from rich import box
    from rich.table import Table

    return Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, header_style="", collapse_padding=True)


def _render(renderable, width: int) -> str:
    from rich.console import Console

    buf = io.StringIO()
    Console(file=buf, width=width, color_system=None, force_terminal=False, highlight=False, emoji=False,
            markup=False).print(renderable)
    return "\n".join(line.rstrip() for line in buf.getvalue().splitlines()).strip("\n")


class ProgressBar:
    """The import (or rebuild) progress bar on stderr (only when stderr is a terminal): a callable
    ``(done, total, name)`` as :func:`loadwatch.ingest.importer.import_paths` expects."""

    def __init__(self, stream=None, label: str = "importing"):
        self.stream = stream or sys.stderr
        self.label = label
        self.enabled = bool(getattr(self.stream, "isatty", lambda: False)())
        self._progress: Any = None
        self._task = None

    def __call__(self, done: int, total: int | None, name: str) -> None:
        if not self.enabled:
            return
        if self._progress is None:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._progress = Progress(TextColumn(self.label), BarColumn(), MofNCompleteColumn(),
                                      TimeElapsedColumn(), TextColumn("{task.description}"),
                                      console=Console(file=self.stream), transient=True)
            self._progress.start()
            self._task = self._progress.add_task("", total=total)
        from rich.markup import escape

        name = fmt.terminal_text(name)
        short = name if len(name) <= 40 else "..." + name[-37:]
        self._progress.update(self._task, completed=done, total=total, description=escape(short))

    def line(self, text: str) -> None:
        """One line of text on the bar's stream, whole: above the bar while it is drawn (rich's own way, so
        the bar never starts over and no line joins another), else plainly."""
        if self._progress is not None:
            self._progress.console.print(text, markup=False, highlight=False, emoji=False, soft_wrap=True)
        else:
            print(text, file=self.stream, flush=True)

    def clear(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
