"""Sub-commands (placeholder: filled in by its owner)."""

from __future__ import annotations


def register(sub, add_db_option) -> None:
    return None
