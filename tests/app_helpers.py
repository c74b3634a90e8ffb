"""Helpers for the dashboard's AppTest tests (not a test module)."""

from __future__ import annotations

from pathlib import Path

PAGES_DIR = Path(__file__).resolve().parent.parent / "dashboard" / "pages"
APP_PATH = PAGES_DIR.parent / "app.py"


def no_exceptions(at) -> None:
    assert not at.exception, [e.value for e in at.exception]


def texts(at) -> str:
    """Every text the page shows (markdown, captions, alerts, titles), joined, for substring checks."""
    parts = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "info", "success", "warning",
                 "error", "text"):
        parts += [str(e.value) for e in getattr(at, kind)]
    return "\n".join(parts)
