"""Terminal output for the command line: aligned tables and the import progress bar, both drawn by rich
(a well-kept library rather than hand-padded columns and hand-drawn bars).

Tables render to a string, so commands stay ``print``-based and tests read plain text: no colour, no
box-drawing characters, and a width wide enough that a pipe into ``less`` or a file never wraps a row.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Sequence
from typing import Any

from metrics import fmt

# rich is imported when a table or bar is drawn, not when a command module is imported: `loadwatch`'s
# start-up (and the Streamlit app, which imports the command modules) stays light.

#: Width tables are laid out in when printed (wide enough for every column of every table).
TABLE_WIDTH = 200


def table(headers: Sequence[str], rows: Sequence[Sequence], *, right: Sequence[int] = (),
          width: int | None = TABLE_WIDTH, wrap: bool = False) -> str:
    """``rows`` under ``headers`` as aligned plain text (columns in ``right`` right-aligned), laid out in
    ``width`` characters (None: the terminal's); ``wrap`` folds long cells instead of keeping one line."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    t = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, header_style="", collapse_padding=True)
    for i, h in enumerate(headers):
        t.add_column(str(h), justify="right" if i in right else "left", no_wrap=not wrap,
                     overflow="fold" if wrap else "ellipsis")
    for row in rows:
        t.add_row(*(fmt.terminal_text(v) for v in row))
    buf = io.StringIO()
    Console(file=buf, width=width or Console().width, color_system=None, force_terminal=False, highlight=False,
            emoji=False, markup=False).print(t)
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
        from rich.markup import escape

        name = fmt.terminal_text(name)
        short = name if len(name) <= 40 else "..." + name[-37:]
        self._progress.update(self._task, completed=done, total=total, description=escape(short))

    def clear(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
