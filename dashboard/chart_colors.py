"""The charts' colours, shared by the dashboard's Altair charts (:mod:`loadwatch.dashboard.charts`) and the physio
report's PDF charts drawn with fpdf2 (:mod:`loadwatch.dashboard.report.pdf_charts`); nothing here imports a chart library,
so the PDF path starts without Altair."""

from __future__ import annotations

from loadwatch.metrics import fmt

PAIN_COLOR = "#c0392b"
SURFACE_COLORS = {"road": "#5d6d7e", "trail": "#27ae60", "track": "#e67e22", "treadmill": "#8e44ad",
                  "unknown": "#bdc3c7"}
#: Traffic-light colours of a pain score, by its band (:func:`metrics.fmt.pain_band`).
PAIN_LIGHT_COLORS = {"green": "#27ae60", "amber": "#e67e22", "red": "#c0392b"}
#: Phase colours for the band under the weekly charts (calm for normal, warm for cutbacks, red for care).
PHASE_COLORS = {"normal": "#d5f5e3", "hold": "#f9e79f", "reduce": "#f5b041", "stop": "#e74c3c",
                "return_to_run": "#85c1e9", "rebuild": "#a9cce3", "see_clinician": "#922b21",
                "emergency": "#641e16"}


def pain_light(score: float) -> str:
    """The traffic-light colour of a pain score (its band from :func:`loadwatch.metrics.fmt.pain_band`)."""
    return PAIN_LIGHT_COLORS[fmt.pain_band(score)]
