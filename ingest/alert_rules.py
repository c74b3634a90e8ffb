"""Personal alert rules (one table family of the store): ``rules`` - a metric, a threshold, its
comparison and scope, whether it is on, its label and whether the runner wrote it or took a suggestion.

Every function takes an open connection; :class:`loadwatch.ingest.store.Store` has the thin methods that open one.
"""

from __future__ import annotations

import math
import sqlite3
from dataclasses import dataclass, fields, replace

from loadwatch.ingest.db import now_iso

RULE_OPS: tuple[str, ...] = (">", ">=", "<", "<=")
RULE_SCOPES: tuple[str, ...] = ("week", "run")
RULE_ORIGINS: tuple[str, ...] = ("user", "suggested")


@dataclass
class Rule:
    """A personal alert rule.  ``threshold`` is in the metric's units (km, min, %); valid ``metric``
    names are ``loadwatch.metrics.rules.RULE_METRICS`` (checked by the faces: ingest does not import metrics)."""

    id: int | None
    metric: str
    threshold: float
    op: str = ">"
    scope: str = "week"
    enabled: bool = True
    label: str = ""
    origin: str = "user"

    def __post_init__(self):
        if not isinstance(self.metric, str) or not self.metric:
            raise ValueError("a rule needs a metric name")
        try:
            self.threshold = float(self.threshold)
        except (TypeError, ValueError):
            raise ValueError(f"rule threshold must be a number (got {self.threshold!r})") from None
        if not math.isfinite(self.threshold):
            raise ValueError(f"rule threshold must be a number (got {self.threshold!r})")
        if self.op not in RULE_OPS:
            raise ValueError(f"rule op must be one of {' '.join(RULE_OPS)} (got {self.op!r})")
        if self.scope not in RULE_SCOPES:
            raise ValueError(f"rule scope must be one of {', '.join(RULE_SCOPES)} (got {self.scope!r})")
        if self.origin not in RULE_ORIGINS:
            raise ValueError(f"rule origin must be one of {', '.join(RULE_ORIGINS)} (got {self.origin!r})")
        self.enabled = bool(self.enabled)
        self.label = str(self.label or "")


COLUMNS: tuple[str, ...] = ("id", "metric", "threshold", "op", "scope", "enabled", "label", "origin")


def rules(conn: sqlite3.Connection) -> list[Rule]:
    """Every rule, oldest first."""
    rows = conn.execute(f"SELECT {', '.join(COLUMNS)} FROM rules ORDER BY id").fetchall()
    return [Rule(**dict(zip(COLUMNS, r, strict=True))) for r in rows]


def add_rule(conn: sqlite3.Connection, rule: Rule) -> int:
    """Save a rule (validated again); its id."""
    rule = replace(rule)  # re-validate
    cur = conn.execute(
        "INSERT INTO rules (metric, threshold, op, scope, enabled, label, origin, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (rule.metric, rule.threshold, rule.op, rule.scope, int(rule.enabled), rule.label, rule.origin, now_iso()))
    return int(cur.lastrowid)


def update_rule(conn: sqlite3.Connection, rule_id: int, **changes) -> None:
    """Change fields of a rule (``ValueError`` for an unknown field, ``KeyError`` for an unknown rule)."""
    allowed = {f.name for f in fields(Rule)} - {"id"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValueError(f"cannot change {', '.join(sorted(unknown))}; fields: {', '.join(sorted(allowed))}")
    row = conn.execute(f"SELECT {', '.join(COLUMNS)} FROM rules WHERE id = ?", (int(rule_id),)).fetchone()
    if row is None:
        raise KeyError(f"no rule with id {rule_id}")
    rule = replace(Rule(**dict(zip(COLUMNS, row, strict=True))), **changes)
    conn.execute(
        "UPDATE rules SET metric = ?, threshold = ?, op = ?, scope = ?, enabled = ?, label = ?, origin = ?"
        " WHERE id = ?",
        (rule.metric, rule.threshold, rule.op, rule.scope, int(rule.enabled), rule.label, rule.origin, int(rule_id)))


def remove_rule(conn: sqlite3.Connection, rule_id: int) -> None:
    if conn.execute("DELETE FROM rules WHERE id = ?", (int(rule_id),)).rowcount == 0:
        raise KeyError(f"no rule with id {rule_id}")
