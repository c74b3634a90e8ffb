"""Alerts, plan and suggested rules bundled for the report (placeholder until the detector lands)."""

from __future__ import annotations


def advise(**kwargs) -> dict:
    return {"alerts": [], "plan": {}, "suggested_rules": []}
