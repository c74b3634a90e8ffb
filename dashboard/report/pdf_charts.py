"""The physio report's two weekly charts drawn in the PDF with fpdf2's own lines, rectangles and text
(issue 21: ``loadwatch report --pdf`` in 2 s from a cold start, so the PDF imports neither Altair nor
vl-convert, whose start-up alone took about a second).

They show what the dashboard's Altair charts of the report show (:func:`loadwatch.dashboard.charts.weekly_surface_pain`
with its phase band, :func:`loadwatch.dashboard.charts.longest_run_cap`), from the same numbers: the report's weeks
(``loadwatch.metrics.report.build_report``), the pain entries of the period and the episode's phases.  Distances are
in the runner's units, the pain scores on their own 0-10 axis on the right, every axis labelled, a legend
under each chart.  The HTML report keeps the Altair charts.

    plot = surface_pain_plot(report["weeks"], pain_in_period, report["phases"], "mi", start, end)
    draw(pdf, plot, x=12, y=40, w=186, h=62)
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

import pandas as pd

from loadwatch.dashboard.chart_colors import (
    PAIN_COLOR,
    PAIN_LIGHT_COLORS,
    PHASE_COLORS,
    SURFACE_COLORS,
    pain_light,
)
from loadwatch.metrics import fmt
from loadwatch.metrics import units as units_mod
from loadwatch.metrics.thresholds import SURFACES

#: The bar colour of a single measure (the dashboard's weekly bars).
BAR_COLOR = "#5dade2"
#: The spike cap's dashed line (as the dashboard draws it).
CAP_COLOR = "#c0392b"
#: Type size [pt] of the axis labels and the legend.
LABEL_PT = 6.0
#: Height [mm] of one line of labels (axis ticks, legend rows, the axis titles above the plot).
LINE_MM = 3.0
#: Room [mm] above the plot for the axes' titles (clear of the top tick labels).
TITLE_MM = 4.0
#: Height [mm] of the phase ribbon along the top of the plot.
RIBBON_MM = 1.8
#: A bar spans its week from Monday to Sunday noon, so neighbouring weeks stay apart (as on the dashboard).
BAR_DAYS = 6.5


@dataclass
class LegendItem:
    label: str
    color: str
    shape: str = "box"  # box | dot | dash


@dataclass
class WeeklyPlot:
    """One chart on the report's time axis, in the runner's units (everything the PDF draws)."""

    start: dt.date
    end: dt.date
    #: the left axis's title, above it: "weekly running distance (km)"
    y_title: str
    #: (week start, [(value in the runner's units, colour), ...] stacked from 0)
    bars: list[tuple[pd.Timestamp, list[tuple[float, str]]]]
    #: (week start, value): a dashed rule over the week (the spike cap as the week began)
    caps: list[tuple[pd.Timestamp, float]] = field(default_factory=list)
    #: (when, score 0-10): dots on the right-hand pain axis; ``pain_axis`` draws that axis even without dots
    pain: list[tuple[pd.Timestamp, float]] = field(default_factory=list)
    pain_axis: bool = False
    #: (from, to (exclusive), colour): the phase ribbon along the top of the plot
    phases: list[tuple[pd.Timestamp, pd.Timestamp, str]] = field(default_factory=list)
    legend: list[LegendItem] = field(default_factory=list)


def _num(value) -> float | None:
    """A figure of the report (JSON: a number or None) as ``float``; None when missing."""
    return None if fmt.is_missing(value) else float(value)


def _in_period(weeks: list[dict], start, end) -> list[dict]:
    lo, hi = pd.Timestamp(start), pd.Timestamp(end)
    return [w for w in weeks if lo - pd.Timedelta(days=6) <= pd.Timestamp(w["week_start"]) <= hi]


def pain_legend() -> list[LegendItem]:
    """The pain dots' traffic-light bands, each with its scores ("pain 0–3"), as :func:`loadwatch.metrics.fmt.pain_band`
    bands them (SCIENCE.md section 10)."""
    bands: dict[str, list[int]] = {}
    for score in range(11):
        bands.setdefault(fmt.pain_band(score), []).append(score)
    return [LegendItem(f"pain {scores[0]}–{scores[-1]}", PAIN_LIGHT_COLORS[band], "dot")
            for band, scores in bands.items()]


def surface_pain_plot(weeks: list[dict], pain: pd.DataFrame | None, phases: list[dict] | None, units: str,
                      start, end) -> WeeklyPlot:
    """Weekly running distance stacked by surface, the pain scores of the period (``pain``: entries with
    ``at_local`` and ``score``, already limited to the period) on a 0-10 axis, and the episode's phases as a
    ribbon along the top; ``weeks``: the report's weeks (``distance_km``, ``surface_km``)."""
    bars, seen = [], set()
    for w in _in_period(weeks, start, end):
        parts = []
        for s in SURFACES:
            v = _num((w.get("surface_km") or {}).get(s))
            if v:
                parts.append((units_mod.to_units(v, units), SURFACE_COLORS[s]))
                seen.add(s)
        bars.append((pd.Timestamp(w["week_start"]), parts))
    dots = []
    if pain is not None and len(pain):
        for when, score in zip(pd.to_datetime(pain["at_local"]), pain["score"], strict=True):
            if _num(score) is not None:
                dots.append((when, float(score)))
    ribbon, names = [], []
    lo, hi = pd.Timestamp(start), pd.Timestamp(end)
    for seg in phases or []:
        a = pd.Timestamp(seg["start"])
        b = pd.Timestamp(seg["end"]) if not fmt.is_missing(seg.get("end")) else hi
        if b < lo or a > hi:
            continue
        ribbon.append((max(a, lo), min(b, hi) + pd.Timedelta(days=1), PHASE_COLORS.get(seg["phase"], "#bdc3c7")))
        if seg["phase"] not in names:
            names.append(seg["phase"])
    legend = [LegendItem(fmt.words(s, "surface"), SURFACE_COLORS[s]) for s in SURFACES if s in seen]
    legend += pain_legend() if dots else []
    legend += [LegendItem(f"phase: {fmt.words(p, 'phase')}", PHASE_COLORS.get(p, "#bdc3c7")) for p in names]
    return WeeklyPlot(start, end, f"weekly running distance ({_unit(units)})", bars, pain=dots, pain_axis=True,
                      phases=ribbon, legend=legend)


def longest_cap_plot(weeks: list[dict], units: str, start, end) -> WeeklyPlot:
    """The longest run of each week (bars) against the spike cap as the week began (a dashed rule: 10 %
    more than the longest run of the 30 days before, Frandsen 2025), in the runner's units."""
    bars, caps = [], []
    for w in _in_period(weeks, start, end):
        week = pd.Timestamp(w["week_start"])
        longest, cap = _num(w.get("long_run_km")), _num(w.get("spike_cap_km"))
        bars.append((week, [(units_mod.to_units(longest, units), BAR_COLOR)] if longest else []))
        if cap is not None:
            caps.append((week, units_mod.to_units(cap, units)))
    legend = [LegendItem("longest run", BAR_COLOR)]
    if caps:
        legend.append(LegendItem("spike cap: 10% over the longest run of the 30 days before", CAP_COLOR, "dash"))
    return WeeklyPlot(start, end, f"longest run ({_unit(units)})", bars, caps=caps, legend=legend)


def _unit(units: str) -> str:
    return "mi" if units == "mi" else "km"


def nice_top(value: float, ticks: int) -> tuple[float, float]:
    """(axis top, tick step) for an axis from 0 showing ``value``: a step of 1, 2 or 5 times a power of
    ten, about ``ticks`` of them; (1, 0.5) when nothing is above 0."""
    if not value or value <= 0:
        return 1.0, 0.5
    raw = value / max(ticks, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    return step * math.ceil(value / step - 1e-9), step


def _rgb(color: str) -> tuple[int, int, int]:
    c = color.lstrip("#")
    return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)


def _tick_text(value: float) -> str:
    return f"{value:g}"


def _legend_rows(pdf, items: list[LegendItem], width: float) -> list[list[tuple[LegendItem, float]]]:
    rows: list[list[tuple[LegendItem, float]]] = [[]]
    used = 0.0
    for item in items:
        w = 3.2 + pdf.get_string_width(item.label) + 3.0
        if rows[-1] and used + w > width:
            rows.append([])
            used = 0.0
        rows[-1].append((item, w))
        used += w
    return [r for r in rows if r]


def _date_label(day: pd.Timestamp) -> str:
    return f"{day.day} {day:%b %Y}"


def draw(pdf, plot: WeeklyPlot, x: float, y: float, w: float, h: float) -> None:
    """Draw ``plot`` in the box at (``x``, ``y``) [mm], ``w`` wide and ``h`` high: the axis titles above the
    plot, the date labels under it, the legend at the bottom."""
    pdf.set_font("Roboto", "", LABEL_PT)
    legend = _legend_rows(pdf, plot.legend, w)
    left = max(pdf.get_string_width("0000"), 5.0) + 1.5
    right = 7.0 if plot.pain_axis else 2.0
    px, pw = x + left, w - left - right
    py = y + TITLE_MM
    ph = max(h - TITLE_MM - LINE_MM - len(legend) * LINE_MM - 0.5, 4.0)
    day0 = pd.Timestamp(plot.start)
    span_days = (pd.Timestamp(plot.end) + pd.Timedelta(days=1) - day0) / pd.Timedelta(days=1)

    def at_x(when: pd.Timestamp) -> float:
        days = (pd.Timestamp(when) - day0) / pd.Timedelta(days=1)
        return px + pw * min(max(days / span_days, 0.0), 1.0)

    top_value = max([sum(v for v, _ in parts) for _, parts in plot.bars] + [v for _, v in plot.caps] + [0.0])
    ticks = max(2, min(5, int(ph / 5)))
    top, step = nice_top(top_value * 1.05, ticks)

    def at_y(value: float) -> float:
        return py + ph * (1 - min(max(value / top, 0.0), 1.0))

    with pdf.local_context():
        _axes(pdf, plot, px, py, pw, ph, top, step, at_y)
        _bars(pdf, plot, at_x, at_y)
        _caps(pdf, plot, at_x, at_y)
        _ribbon(pdf, plot, at_x, py)
        _pain(pdf, plot, at_x, py, ph)
        _dates(pdf, plot, at_x, px, pw, py + ph)
        _legend(pdf, legend, x, py + ph + LINE_MM + 0.5)


def _axes(pdf, plot: WeeklyPlot, px, py, pw, ph, top, step, at_y) -> None:
    pdf.set_font("Roboto", "", LABEL_PT)
    pdf.set_text_color(70)
    pdf.set_line_width(0.1)
    n = round(top / step)
    for i in range(n + 1):
        value = i * step
        yy = at_y(value)
        pdf.set_draw_color(225)
        pdf.line(px, yy, px + pw, yy)
        label = _tick_text(value)
        pdf.text(px - 1.0 - pdf.get_string_width(label), yy + 0.8, label)
    pdf.set_draw_color(120)
    pdf.line(px, py, px, py + ph)
    pdf.line(px, py + ph, px + pw, py + ph)
    pdf.text(px - pdf.get_string_width("0000") - 1.0, py - 2.0, plot.y_title)
    if plot.pain_axis:
        pdf.line(px + pw, py, px + pw, py + ph)
        pdf.set_text_color(*_rgb(PAIN_COLOR))
        for score in (0, 5, 10):
            yy = py + ph * (1 - score / 10)
            pdf.line(px + pw, yy, px + pw + 0.8, yy)
            pdf.text(px + pw + 1.2, yy + 0.8, str(score))
        title = "pain (0–10)"
        pdf.text(px + pw + 5.0 - pdf.get_string_width(title), py - 2.0, title)


def _bars(pdf, plot: WeeklyPlot, at_x, at_y) -> None:
    for week, parts in plot.bars:
        x0, x1 = at_x(week), at_x(week + pd.Timedelta(days=BAR_DAYS))
        if x1 - x0 <= 0:
            continue
        base = 0.0
        for value, color in parts:
            pdf.set_fill_color(*_rgb(color))
            y_top, y_base = at_y(base + value), at_y(base)
            pdf.rect(x0, y_top, x1 - x0, y_base - y_top, style="F")
            base += value


def _caps(pdf, plot: WeeklyPlot, at_x, at_y) -> None:
    if not plot.caps:
        return
    pdf.set_draw_color(*_rgb(CAP_COLOR))
    pdf.set_line_width(0.45)
    pdf.set_dash_pattern(dash=1.0, gap=0.7)
    for week, value in plot.caps:
        x0, x1 = at_x(week), at_x(week + pd.Timedelta(days=BAR_DAYS))
        if x1 > x0:
            pdf.line(x0, at_y(value), x1, at_y(value))
    pdf.set_dash_pattern()
    pdf.set_line_width(0.1)


def _ribbon(pdf, plot: WeeklyPlot, at_x, py) -> None:
    for a, b, color in plot.phases:
        x0, x1 = at_x(a), at_x(b)
        if x1 > x0:
            pdf.set_fill_color(*_rgb(color))
            pdf.rect(x0, py, x1 - x0, RIBBON_MM, style="F")


def _pain(pdf, plot: WeeklyPlot, at_x, py, ph) -> None:
    r = 0.85
    pdf.set_draw_color(40)  # a dark ring: a green dot stays visible on a green (trail) bar
    pdf.set_line_width(0.12)
    for when, score in plot.pain:
        cx, cy = at_x(when), py + ph * (1 - min(max(score, 0.0), 10.0) / 10)
        pdf.set_fill_color(*_rgb(pain_light(score)))
        pdf.ellipse(cx - r, cy - r, 2 * r, 2 * r, style="DF")


def _dates(pdf, plot: WeeklyPlot, at_x, px, pw, y_axis) -> None:
    """Date labels under the axis at week starts, as many as fit without touching."""
    pdf.set_text_color(70)
    pdf.set_draw_color(120)
    weeks = [w for w, _ in plot.bars] or [pd.Timestamp(plot.start)]
    label_w = pdf.get_string_width(_date_label(weeks[0])) + 3.0
    per_label = max(1, math.ceil(len(weeks) * label_w / max(pw, 1.0)))
    last_right = -math.inf
    for week in weeks[::per_label]:
        xx = at_x(week)
        label = _date_label(week)
        lw = pdf.get_string_width(label)
        left = min(max(xx - lw / 2, px - 2.0), px + pw - lw + 2.0)
        if left < last_right + 1.0:
            continue
        pdf.line(xx, y_axis, xx, y_axis + 0.8)
        pdf.text(left, y_axis + LINE_MM, label)
        last_right = left + lw


def _legend(pdf, rows, x, y) -> None:
    pdf.set_text_color(50)
    for i, row in enumerate(rows):
        cx, cy = x, y + i * LINE_MM
        for item, width in row:
            mid = cy + LINE_MM / 2
            if item.shape == "dot":
                pdf.set_fill_color(*_rgb(item.color))
                pdf.ellipse(cx + 0.5, mid - 0.9, 1.8, 1.8, style="F")
            elif item.shape == "dash":
                pdf.set_draw_color(*_rgb(item.color))
                pdf.set_line_width(0.45)
                pdf.set_dash_pattern(dash=0.8, gap=0.5)
                pdf.line(cx, mid, cx + 2.6, mid)
                pdf.set_dash_pattern()
                pdf.set_line_width(0.1)
            else:
                pdf.set_fill_color(*_rgb(item.color))
                pdf.rect(cx, mid - 1.1, 2.4, 2.2, style="F")
            pdf.text(cx + 3.2, mid + 0.9, item.label)
            cx += width
