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
        t.add_row(*(str(v) for v in row))
    return _render(t, width or terminal_width())


def terminal_width() -> int:
    """The width to lay a table out in [characters]: ``COLUMNS`` when set, else the terminal's, else 80 (rich's
    own rule, so a pipe into a file reads the same on every machine)."""
    from rich.console import Console

    return Console().width


def flow_table(headers: Sequence[str], rows: Sequence[Sequence], *, notes: Sequence[str] | None = None,
               right: Sequence[int] = (), keep: Sequence[int] = (), width: int | None = None) -> str:
    """``rows`` under ``headers`` laid out by rich in ``width`` characters (None: :func:`terminal_width`),
    each row followed by its note (``notes[i]``, empty for none), indented and wrapped under the row.

    rich sizes the columns to the width: the cells of columns in ``keep`` (times, numbers, ids) are never
    wrapped or cut (their headings may wrap), the others wrap at word boundaries when the terminal is narrow."""
    from rich.console import Console
    from rich.padding import Padding
    from rich.text import Text

    width = width or terminal_width()

    cells = [[str(v) for v in row] for row in rows]
    longest = [max((len(r[i]) for r in cells), default=0) for i in range(len(headers))]

    def layout(show_header: bool, widths: Sequence[int] | None = None):
        t = _plain_table()
        t.show_header = show_header
        for i, h in enumerate(headers):
            t.add_column(str(h), justify="right" if i in right else "left", overflow="fold",
                         min_width=longest[i] if i in keep else None, width=None if widths is None else widths[i])
        return t

    whole = layout(True)
    for row in cells:
        whole.add_row(*row)
    console = Console(file=io.StringIO(), width=width)
    # rich's own column widths for the whole table (as rich's render computes them: the width less the
    # column dividers; less each column's padding, which rich adds again), so every row below is aligned
    # under one header
    options = console.options.update_width(width - whole._extra_width)
    widths = [w - whole._get_padding_width(i) for i, w in enumerate(whole._calculate_column_widths(console, options))]
    parts = [_render(layout(True, widths), width)]
    for i, row in enumerate(cells):
        one = layout(False, widths)
        one.add_row(*row)
        parts.append(_render(one, width))
        note = (notes[i] if notes is not None else "") or ""
        if note:
            parts.append(_render(Padding(Text(note), (0, 0, 0, 4)), width))
    return "\n".join(parts)


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
    ``(done, total, name)`` as :func:`ingest.importer.import_paths` expects."""

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
        short = name if len(name) <= 40 else "..." + name[-37:]
        self._progress.update(self._task, completed=done, total=total, description=short)

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
