"""How many write transactions this process has committed to a store: a command that wrote is told from
one that only read (``loadwatch`` refreshes the kept reports after a write: dashboard/cli/report_refresh.py).
Counted where every write commits: :func:`loadwatch.ingest.db.transaction` and the light writers of
:mod:`loadwatch.ingest.store_light`."""

from __future__ import annotations

_count = 0


def committed() -> None:
    """Count one committed write transaction."""
    global _count
    _count += 1


def count() -> int:
    """Write transactions committed by this process so far."""
    return _count
