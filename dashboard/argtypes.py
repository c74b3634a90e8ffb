"""Argument types the command modules share: each turns bad input into argparse's usage error (exit 2)
with a sentence that says what was expected."""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Callable


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
