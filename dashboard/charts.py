"""Altair chart builders for the dashboard pages (drawing only: every number comes from ``metrics``).

All charts share one time axis (``time_domain``) so pain scores line up with load, and every chart has
tooltips.  Every distance is in the runner's units with the unit on its axis; a measure that barely moves
is drawn over a minimum span (:data:`MIN_SPAN`) so noise is not magnified into a trend.  Nothing here
fetches anything from the network (no map tiles: a route is drawn in metres, to scale).
"""

from __future__ import annotations

import datetime as dt

import altair as alt
import numpy as np
import pandas as pd

from loadwatch.dashboard.chart_colors import PAIN_COLOR, PHASE_COLORS, SURFACE_COLORS, pain_light
from loadwatch.dashboard.chart_colors import (
    PAIN_LIGHT_COLORS as PAIN_LIGHT_COLORS,  # re-exported (tests, pages)
)
from loadwatch.metrics import fmt
from loadwatch.metrics import units as units_mod

INTENSITY_COLORS = {"very_easy": "#aed6f1", "easy": "#5dade2", "moderate": "#f5b041", "hard": "#cb4335",
                    "unknown": "#d5d8dc"}


def _unit(units: str) -> str:
    """The axis unit: ``km`` or ``mi``."""
    return "mi" if units == "mi" else "km"


#: Dates on axes and in tooltips: "Mon 17 Aug 2026".
DAY_FORMAT = "%a %-d %b %Y"
DAY_TIME_FORMAT = "%a %-d %b %Y %H:%M"
#: Up to this many days an axis labelled with days gets one tick a day (Vega's own choice over a few days
#: is every 12 hours, so each day was named twice: "1 Dec 2026, 1 Dec 2026, 2 Dec 2026...").
DAILY_TICKS_MAX_DAYS = 14
#: Smallest span an axis shows for each measure (in its own unit), so that a steady 168 spm is drawn
#: flat rather than as a zig-zag between 167.98 and 168.02.
MIN_SPAN = {"cadence_spm": 12.0, "vertical_oscillation_mm": 20.0, "stance_time_ms": 40.0,
            "step_length_mm": 100.0, "heart_rate_bpm": 30.0, "elevation_m": 30.0, "pace_s": 120.0}
#: A pace axis label in m:ss from seconds.
PACE_LABEL_EXPR = ("floor(datum.value / 60) + ':' + (floor(datum.value % 60) < 10 ? '0' : '') "
                   "+ floor(datum.value % 60)")


def padded_domain(values, min_span: float, *, pad_frac: float = 0.1) -> list[float] | None:
    """An axis domain around ``values`` at least ``min_span`` wide (centred on the data), padded by
    ``pad_frac`` of the span; None without finite values."""
    v = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=float)
    v = v[np.isfinite(v)]
    if not len(v):
        return None
    lo, hi = float(v.min()), float(v.max())
    span = max(hi - lo, min_span)
    mid = (lo + hi) / 2
    half = span / 2 * (1 + pad_frac)
    return [mid - half, mid + half]


def zero_safe_scale(totals) -> alt.Scale:
    """A y scale from 0 that stays 0-1 when nothing is above 0: a domain of [0, 0] gives an empty axis
    labelled "0.000000" in the browser."""
    v = pd.to_numeric(pd.Series(totals), errors="coerce")
    return alt.Scale(domainMin=0) if (v > 0).any() else alt.Scale(domain=[0, 1])


def time_domain(start: dt.date, end: dt.date) -> list[str]:
    return [pd.Timestamp(start).isoformat(), (pd.Timestamp(end) + pd.Timedelta(days=1)).isoformat()]


def day_axis(first, last) -> alt.Axis:
    """A time axis labelled with days ("6 Dec 2026") from ``first`` to ``last``: one tick a day over a
    short span, so no day is named twice."""
    span = pd.Timestamp(last) - pd.Timestamp(first)
    daily = ({"tickCount": {"interval": "day", "step": 1}} if not pd.isna(span) and span.days <= DAILY_TICKS_MAX_DAYS
             else {})
    return alt.Axis(format="%-d %b %Y", labelOverlap=True, **daily)


def _x(domain, field="week_start", title="week"):
    return alt.X(f"{field}:T", title=title, scale=alt.Scale(domain=domain), axis=day_axis(*domain))


def melt(weeks: pd.DataFrame, columns: list[str], name: str, prefix: str, suffix: str) -> pd.DataFrame:
    """Weekly columns ``<prefix><x><suffix>`` into long rows (week_start, <name>, value)."""
    cols = [c for c in columns if c in weeks.columns]
    long = weeks[cols].reset_index().melt(id_vars="week_start", var_name=name, value_name="value")
    long[name] = long[name].str.removeprefix(prefix).str.removesuffix(suffix)
    return long


def _week_end(frame: pd.DataFrame) -> pd.DataFrame:
    """Bars span their week (week_start to just before the next), so they line up with daily marks."""
    return frame.assign(week_end=pd.to_datetime(frame["week_start"]) + pd.Timedelta(days=6, hours=12))


def stacked_bars(long: pd.DataFrame, y_title: str, domain, color_field: str, *,
                 legend_orient: str = "right") -> alt.Chart:
    colors = SURFACE_COLORS if color_field == "surface" else INTENSITY_COLORS
    names = [n for n in colors if n in set(long[color_field])]
    long = long.assign(**{color_field: long[color_field].map(lambda c: fmt.words(c, color_field))})
    colors = {fmt.words(n, color_field): colors[n] for n in names}
    names = list(colors)
    return alt.Chart(_week_end(long)).mark_bar().encode(
        x=_x(domain), x2="week_end:T",
        y=alt.Y("sum(value):Q", title=y_title, scale=zero_safe_scale(long.groupby("week_start")["value"].sum())),
        color=alt.Color(f"{color_field}:N", scale=alt.Scale(domain=names, range=[colors[n] for n in names]),
                        legend=alt.Legend(orient=legend_orient, columns=3 if legend_orient == "bottom" else 1)),
        tooltip=[alt.Tooltip("week_start:T", title="week of", format=DAY_FORMAT),
                 alt.Tooltip(f"{color_field}:N"), alt.Tooltip("value:Q", title=y_title, format=".1f")],
    ).properties(height=260)


def pain_layer(pain: pd.DataFrame, start, end, domain) -> alt.Chart | None:
    if pain is None or pain.empty:
        return None
    p = pain[~pain["deleted"].astype(bool)] if "deleted" in pain.columns else pain
    p = p[(p["at_local"] >= pd.Timestamp(start)) & (p["at_local"] < pd.Timestamp(end) + pd.Timedelta(days=1))]
    if p.empty:
        return None
    p = p.assign(when=p["timing"].map(lambda t: fmt.words(t, "timing")),
                 light=p["score"].map(pain_light))[["at_local", "score", "when", "light"]]
    return alt.Chart(p).mark_circle(size=55, opacity=0.9, stroke="white", strokeWidth=0.5).encode(
        x=alt.X("at_local:T", scale=alt.Scale(domain=domain)),
        y=alt.Y("score:Q", title="pain (0-10)", scale=alt.Scale(domain=[0, 10]),
                axis=alt.Axis(titleColor=PAIN_COLOR, orient="right")),
        color=alt.Color("light:N", scale=None, legend=None),
        tooltip=[alt.Tooltip("at_local:T", title="pain logged", format=DAY_TIME_FORMAT),
                 alt.Tooltip("score:Q", title="pain score (0-10)"), alt.Tooltip("when:N")],
    )


def with_pain(chart: alt.Chart, pain: alt.Chart | None) -> alt.Chart:
    if pain is None:
        return chart
    return alt.layer(chart, pain).resolve_scale(y="independent", color="independent")


def spike_chart(runs: pd.DataFrame, units: str, domain) -> alt.Chart:
    u = _unit(units)
    d = pd.DataFrame({
        "date": pd.to_datetime(runs["date"]),
        "distance": units_mod.to_units(runs["distance_km"].astype(float), units),
        "cap": units_mod.to_units(runs["safe_longest_km"].astype(float), units),
        "spike_pct": runs["spike_pct"].astype(float),
        "category": runs["spike_category"].map(
            lambda c: "not enough history" if fmt.is_missing(c) else fmt.words(c, "spike")),
    })
    x = alt.X("date:T", title="date", scale=alt.Scale(domain=domain), axis=alt.Axis(format="%-d %b %Y"))
    tip = [alt.Tooltip("date:T", title="run", format=DAY_FORMAT), alt.Tooltip("distance:Q", title=f"distance ({u})", format=".1f"),
           alt.Tooltip("cap:Q", title=f"safe longest ({u})", format=".1f"),
           alt.Tooltip("spike_pct:Q", title="longer than 30-day longest (%)", format=".0f"),
           alt.Tooltip("category:N", title="spike")]
    top = max(1.0, float(pd.concat([d["distance"], d["cap"]]).max(skipna=True) or 0) * 1.1)
    y_scale = alt.Scale(domain=[0, top])
    cap = alt.Chart(d).mark_line(interpolate="step-after", color="#7f8c8d", strokeDash=[4, 3]).encode(
        x=x, y=alt.Y("cap:Q", title=f"run distance ({u})", scale=y_scale), tooltip=tip)
    cats = [*(fmt.words(c, "spike") for c in ("none", "small", "moderate", "large")), "not enough history"]
    dots = alt.Chart(d).mark_circle(size=50).encode(
        x=x, y=alt.Y("distance:Q", title=f"run distance ({u})", scale=y_scale),
        color=alt.Color("category:N", title="spike", scale=alt.Scale(
            domain=cats, range=["#5dade2", "#f5b041", "#e67e22", "#c0392b", "#bdc3c7"])),
        tooltip=tip)
    return alt.layer(cap, dots).properties(height=260)


def load_acwr(weeks: pd.DataFrame, domain, units: str = "km", load_unit: str = "km",
              acwr_from: dt.date | None = None) -> alt.Chart:
    """Weekly load as bars (a distance load in the runner's units) and the acute:chronic ratio as a
    line, drawn only from ``acwr_from`` (28 days after the first run: before that the chronic load is
    not yet four weeks of history and the ratio is meaningless)."""
    unit = _unit(units) if load_unit == "km" else {"min": "minutes", "trimp": "TRIMP"}.get(load_unit,
                                                                                                    load_unit)
    d = _week_end(weeks.reset_index()[["week_start", "load", "acwr"]])
    if load_unit == "km":
        d["load"] = units_mod.to_units(d["load"].astype(float), units)
    if acwr_from is not None:
        d.loc[pd.to_datetime(d["week_start"]) + pd.Timedelta(days=6) < pd.Timestamp(acwr_from), "acwr"] = np.nan
    tip = [alt.Tooltip("week_start:T", title="week of", format=DAY_FORMAT),
           alt.Tooltip("load:Q", title=f"load ({unit})", format=".1f"),
           alt.Tooltip("acwr:Q", title="ACWR", format=".2f")]
    bars = alt.Chart(d).mark_bar(color="#85c1e9").encode(
        x=_x(domain), x2="week_end:T", y=alt.Y("load:Q", title=f"weekly load ({unit})", scale=zero_safe_scale(d["load"])),
        y2=alt.datum(0),
        tooltip=tip)
    line_data = d.dropna(subset=["acwr"]).assign(
        week_start=lambda f: pd.to_datetime(f["week_start"]) + pd.Timedelta(days=3, hours=12))
    top = max(2.0, float(line_data["acwr"].max()) * 1.1) if not line_data.empty else 2.0
    line = alt.Chart(line_data).mark_line(color="#34495e", point=True).encode(
        x=_x(domain), y=alt.Y("acwr:Q", title="ACWR (for information)", scale=alt.Scale(domain=[0, top]),
                              axis=alt.Axis(orient="right")),
        tooltip=tip)
    return alt.layer(bars, line).resolve_scale(y="independent").properties(height=240)


DYNAMICS_TITLES = {"cadence_spm": "cadence (steps/min)", "vertical_oscillation_mm": "vertical oscillation (mm)",
                   "stance_time_ms": "ground contact (ms)", "step_length_mm": "step length (mm)"}


def dynamics(weeks: pd.DataFrame, columns: list[str], domain) -> alt.Chart:
    """One small chart per measure, stacked on the week axis, each over at least its MIN_SPAN."""
    rows = []
    for col in columns:
        d = weeks.reset_index()[["week_start", col]].dropna().rename(columns={col: "value"})
        title = DYNAMICS_TITLES.get(col, col)
        rows.append(alt.Chart(d).mark_line(point=True).encode(
            x=_x(domain),
            y=alt.Y("value:Q", title=title, scale=alt.Scale(domain=padded_domain(d["value"], MIN_SPAN.get(col, 1.0)),
                                                             zero=False)),
            tooltip=[alt.Tooltip("week_start:T", title="week of", format=DAY_FORMAT),
                     alt.Tooltip("value:Q", title=title, format=".1f")],
        ).properties(height=110))
    return alt.vconcat(*rows)


def pain_history(pain: pd.DataFrame) -> alt.Chart:
    p = pain.assign(when=pain["timing"].map(lambda t: fmt.words(t, "timing")))
    return alt.Chart(p[["at_local", "score", "when"]]).mark_line(point=True).encode(
        x=alt.X("at_local:T", title="date", axis=day_axis(p["at_local"].min(), p["at_local"].max())),
        y=alt.Y("score:Q", title="pain (0-10)", scale=alt.Scale(domain=[0, 10])),
        color=alt.Color("when:N", title="when"),
        tooltip=[alt.Tooltip("at_local:T", title="logged", format=DAY_TIME_FORMAT),
                 alt.Tooltip("score:Q", title="pain score (0-10)"), "when:N"],
    ).properties(height=240)


def weekly_distance_pain(weekly: pd.DataFrame, pain: pd.DataFrame | None, start: dt.date, end: dt.date,
                         units: str, phases: list | None = None) -> alt.Chart:
    """This week's lead chart: weekly running distance (bars, runner's units) with every pain score on
    the same time axis (dots in traffic-light colours, right axis), and the back-pain phase band under
    it when the report has ``phases`` and ``phase_band`` is available."""
    u = _unit(units)
    domain = time_domain(start, end)
    d = weekly.reset_index()[["week_start", "distance_km"]].copy()
    d["week_start"] = pd.to_datetime(d["week_start"])
    d = _week_end(d[(d["week_start"] >= pd.Timestamp(start)) & (d["week_start"] <= pd.Timestamp(end))])
    d["distance"] = units_mod.to_units(d["distance_km"].astype(float), units)
    bars = alt.Chart(d).mark_bar(color="#5dade2").encode(
        x=_x(domain), x2="week_end:T",
        y=alt.Y("distance:Q", title=f"weekly running distance ({u})",
                scale=alt.Scale(domain=[0, max(1.0, float(d["distance"].max() or 0) * 1.1)])),
        y2=alt.datum(0),
        tooltip=[alt.Tooltip("week_start:T", title="week of", format=DAY_FORMAT),
                 alt.Tooltip("distance:Q", title=f"distance ({u})", format=".1f")])
    chart = with_pain(bars.properties(height=240), pain_layer(pain, start, end, domain))
    return with_phase_ribbon(chart, phases, start, end)


#: Height [px] of the phase ribbon drawn along the top of a weekly chart.
RIBBON_PX = 10
#: The ribbon's legend: above the plot, by the ribbon it explains, two phases a row in a font a size smaller,
#: so the two longest names side by side fit a 390 px phone's plot.  At the bottom, in the chart's own font,
#: it was drawn 3 px past the phone's edge (This week), and beside the Load chart's surface legend it was
#: pushed off the chart altogether (tests/test_e2e_everyday.py measures every legend at 1366 and 390 px).
RIBBON_LEGEND = {"orient": "top", "columns": 2, "labelFontSize": 11, "columnPadding": 8}


def with_phase_ribbon(chart: alt.Chart | alt.LayerChart, phases: list | None, start, end) -> alt.Chart:
    """``chart`` with the back-pain phases (:func:`phase_band`) as a thin ribbon along the top of its plot,
    in the same layer: a band stacked under it (``vconcat``) cannot fit its container, so at 1366 px the
    chart's right-hand pain axis was cut off.  ``chart`` unchanged without phases.

    The ribbon's legend is :data:`RIBBON_LEGEND`."""
    if not phases:
        return chart
    ribbon = phase_band(phases, start, end, legend=RIBBON_LEGEND).encode(
        x=_x(time_domain(start, end), "from"), y=alt.value(0), y2=alt.value(RIBBON_PX))
    ribbon.height = alt.Undefined
    layers = list(chart.layer) if isinstance(chart, alt.LayerChart) else [chart]
    height = chart.height if chart.height is not alt.Undefined else layers[0].height
    for layer in layers:
        layer.height = alt.Undefined
    return alt.layer(*layers, ribbon).resolve_scale(y="independent", color="independent").properties(height=height)


#: The route's square plot [px]: with its axes it fits a 390 px phone's 358 px column (360 px was drawn
#: 360 px wide there and cut at the edge, seen when the selected run had a route).
ROUTE_PX = 300


def route(xy: pd.DataFrame, units: str = "km") -> alt.Chart:
    """The route to scale: metres east and north (loadwatch.metrics.track.route_xy) on equal axes, drawn square;
    no map tiles, so nothing is fetched from the network."""
    span = max(float(xy["x_m"].max()), float(xy["y_m"].max()), 50.0) * 1.05
    show_mi = units == "mi"
    factor = 1 / 1609.344 if show_mi else 1 / 1000
    d = xy.assign(x=xy["x_m"] * factor, y=xy["y_m"] * factor)
    u = _unit(units)
    return alt.Chart(d).mark_line(color="#1f6f8b", strokeWidth=2).encode(
        x=alt.X("x:Q", title=f"east ({u})", scale=alt.Scale(domain=[0, span * factor])),
        y=alt.Y("y:Q", title=f"north ({u})", scale=alt.Scale(domain=[0, span * factor])),
        order="order:Q",
    ).properties(width=ROUTE_PX, height=ROUTE_PX)


def trace(d: pd.DataFrame, y: str, title: str, *, min_span: float | None = None, pace: bool = False) -> alt.Chart:
    """One channel over the minutes of a run.  ``pace=True``: seconds per unit on an inverted axis
    labelled m:ss (faster is higher)."""
    domain = padded_domain(d[y], min_span if min_span is not None else MIN_SPAN.get(y, 1.0))
    axis = alt.Axis(labelExpr=PACE_LABEL_EXPR) if pace else alt.Axis()
    tip_fmt = {} if pace else {"format": ".0f"}
    data = d.assign(shown=d[y].map(fmt.pace_clock)) if pace else d
    return alt.Chart(data).mark_line().encode(
        x=alt.X("minutes:Q", title="minutes"),
        y=alt.Y(f"{y}:Q", title=title, axis=axis, scale=alt.Scale(domain=domain, reverse=pace, zero=False)),
        tooltip=[alt.Tooltip("minutes:Q", format=".1f"),
                 alt.Tooltip("shown:N", title=title) if pace else alt.Tooltip(f"{y}:Q", title=title, **tip_fmt)],
    ).properties(height=180)


def weekly_surface_pain(weeks: pd.DataFrame, pain: pd.DataFrame | None, units: str, start, end, *,
                        legend_orient: str = "right") -> alt.Chart:
    """Weekly running distance by surface in the runner's units, with the pain scores of the same days on
    a right-hand axis: the chart this product exists for, drawn by the Load page and the physio report.

    ``weeks``: indexed by ``week_start`` with ``surface_<s>_km`` columns (the weekly table, or
    :func:`report_weeks_frame`); ``pain``: the store's pain frame (deleted entries are left out)."""
    from loadwatch.metrics.thresholds import SURFACES

    domain = time_domain(start, end)
    u = _unit(units)
    surf = melt(weeks, [f"surface_{s}_km" for s in SURFACES], "surface", prefix="surface_", suffix="_km")
    surf["value"] = units_mod.to_units(surf["value"], units)
    return with_pain(stacked_bars(surf, f"distance ({u})", domain, "surface", legend_orient=legend_orient),
                     pain_layer(pain, start, end, domain))


def longest_run_cap(weeks: pd.DataFrame, units: str, start, end) -> alt.Chart:
    """Longest run of each week (bars) against the spike cap as the week began (dashed step line: 10 %
    more than the longest run of the 30 days before, Frandsen 2025), in the runner's units.

    ``weeks``: indexed by ``week_start`` with ``long_run_km`` and ``spike_cap_km``."""
    domain = time_domain(start, end)
    u = _unit(units)
    d = _week_end(weeks.reset_index()[["week_start", "long_run_km", "spike_cap_km"]])
    d["longest"] = units_mod.to_units(d["long_run_km"].astype(float), units)
    d["cap"] = units_mod.to_units(d["spike_cap_km"].astype(float), units)
    tip = [alt.Tooltip("week_start:T", title="week of", format=DAY_FORMAT),
           alt.Tooltip("longest:Q", title=f"longest run ({u})", format=".1f"),
           alt.Tooltip("cap:Q", title=f"spike cap ({u})", format=".1f")]
    bars = alt.Chart(d).mark_bar(color="#5dade2").encode(
        x=_x(domain), x2="week_end:T",
        y=alt.Y("longest:Q", title=f"longest run ({u})", scale=zero_safe_scale(pd.concat([d["longest"], d["cap"]]))),
        y2=alt.datum(0),
        tooltip=tip)
    cap = alt.Chart(d.dropna(subset=["cap"])).mark_rule(color="#c0392b", strokeDash=[4, 3], strokeWidth=2).encode(
        x=_x(domain), x2="week_end:T", y="cap:Q", tooltip=tip)
    return alt.layer(bars, cap).properties(height=140)


def report_weeks_frame(weeks: list[dict]) -> pd.DataFrame:
    """The weeks of :func:`loadwatch.metrics.report.build_report` (JSON shape) as a weekly frame the chart builders
    read: indexed by ``week_start`` (datetime), ``distance_km``, ``long_run_km``, ``spike_cap_km`` and one
    ``surface_<s>_km`` column per surface.  Missing numbers are NaN."""
    rows = []
    for w in weeks:
        row = {k: v for k, v in w.items() if not isinstance(v, dict | list)}
        for s, km in (w.get("surface_km") or {}).items():
            row[f"surface_{s}_km"] = km
        rows.append(row)
    frame = pd.DataFrame(rows)
    if frame.empty:
        frame = pd.DataFrame(columns=["week_start", "distance_km", "long_run_km", "spike_cap_km"])
    frame["week_start"] = pd.to_datetime(frame["week_start"])
    for col in frame.columns.drop("week_start"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce") if col != "partial_week" else frame[col]
    if "spike_cap_km" not in frame:
        frame["spike_cap_km"] = float("nan")
    return frame.set_index("week_start")


SESSION_COLORS = {"strength and core": "#16a085", "cross-training": "#2980b9"}


def session_minutes(weeks: pd.DataFrame, domain) -> alt.Chart:
    """Weekly strength-and-core and cross-training minutes, stacked (``weeks``: the weekly table with a
    ``week_start`` index)."""
    long = weeks[["strength_min", "cross_training_min"]].rename(
        columns={"strength_min": "strength and core", "cross_training_min": "cross-training"}).reset_index().melt(
        id_vars="week_start", var_name="kind", value_name="value")
    names = list(SESSION_COLORS)
    return alt.Chart(_week_end(long)).mark_bar().encode(
        x=_x(domain), x2="week_end:T",
        y=alt.Y("sum(value):Q", title="minutes", scale=zero_safe_scale(long.groupby("week_start")["value"].sum())),
        color=alt.Color("kind:N", title=None, scale=alt.Scale(domain=names, range=[SESSION_COLORS[n] for n in names])),
        tooltip=[alt.Tooltip("week_start:T", title="week of"), alt.Tooltip("kind:N", title="what"),
                 alt.Tooltip("value:Q", title="minutes", format=".0f")],
    ).properties(height=220)


def shoe_weeks(per_week: pd.DataFrame, units: str, domain) -> alt.Chart:
    """Running distance per week, stacked by pair of shoes (``loadwatch.metrics.shoe_distance.weekly_km_by_shoe``), in the
    runner's units."""
    u = _unit(units)
    data = per_week.assign(value=units_mod.to_units(per_week["distance_km"].astype(float), units))
    return alt.Chart(_week_end(data)).mark_bar().encode(
        x=_x(domain), x2="week_end:T",
        y=alt.Y("sum(value):Q", title=f"distance ({u})",
                scale=zero_safe_scale(data.groupby("week_start")["value"].sum())),
        color=alt.Color("shoe:N", title="shoe"),
        tooltip=[alt.Tooltip("week_start:T", title="week of"), alt.Tooltip("shoe:N"),
                 alt.Tooltip("value:Q", title=f"distance ({u})", format=".1f")],
    ).properties(height=240)


def hr_zones(zones: pd.DataFrame) -> alt.Chart:
    """Minutes in each heart-rate zone (bars labelled with the zone's bpm range)."""
    d = zones.assign(label=[f"{z} ({fmt.number(lo)}–{fmt.number(hi)} bpm)" if z != "below Z1" else
                            f"below Z1 (under {fmt.number(hi)} bpm)"
                            for z, lo, hi in zip(zones["zone"], zones["low_bpm"], zones["high_bpm"], strict=True)])
    return alt.Chart(d).mark_bar(color="#cb4335").encode(
        y=alt.Y("label:N", title=None, sort=list(d["label"]), axis=alt.Axis(labelLimit=220)),
        x=alt.X("minutes:Q", title="minutes in each heart-rate zone"),
        tooltip=[alt.Tooltip("label:N", title="zone"), alt.Tooltip("minutes:Q", format=".1f")],
    ).properties(height=alt.Step(24))


def phase_band(segments: list[dict] | None, start, end, *, legend_columns: int = 4,
               legend: dict | None = None) -> alt.Chart:
    """The phase timeline (``report["phases"]``: start, end, phase, step, steps, reason) as a thin band on
    the same time axis as the weekly charts (``time_domain(start, end)``), to stack under one of them.
    Phases are named in plain words; each segment's tooltip gives its dates, step and reason.
    ``legend_columns``: how many phases a legend row holds (the physio report's page fits them on one);
    ``legend``: Vega-Lite legend properties over these (``orient`` "bottom", ``columns``)."""
    lo, hi = pd.Timestamp(start), pd.Timestamp(end)
    rows = []
    for seg in segments or []:
        a, b = pd.Timestamp(seg["start"]), pd.Timestamp(seg["end"])
        if b < lo or a > hi:
            continue
        a, b = max(a, lo), min(b, hi)
        name = fmt.words(seg["phase"], "phase")
        step = f"step {seg['step']} of {seg['steps']}" if seg.get("step") else ""
        rows.append({"from": a, "to": b + pd.Timedelta(days=1), "phase": name, "step": step or fmt.MISSING,
                     "dates": fmt.day_range(a, b), "reason": fmt.reason(seg["reason"]) if seg.get("reason") else fmt.MISSING,
                     "label": f"{name}, {step}" if step else name})
    frame = pd.DataFrame(rows, columns=["from", "to", "phase", "step", "dates", "reason", "label"])
    names = [fmt.words(p, "phase") for p in PHASE_COLORS]
    return alt.Chart(frame).mark_rect().encode(
        # no axis of its own: the band sits under a weekly chart whose date axis it shares
        x=alt.X("from:T", title=None, scale=alt.Scale(domain=time_domain(start, end)), axis=None),
        x2="to:T",
        color=alt.Color("phase:N", title="phase", scale=alt.Scale(domain=names, range=list(PHASE_COLORS.values())),
                        legend=alt.Legend(**{"orient": "bottom", "columns": legend_columns, **(legend or {})},
                                          # only the phases in view: eight entries do not fit a phone
                                          values=[n for n in names if n in set(frame["phase"])] or names)),
        tooltip=[alt.Tooltip("label:N", title="phase"), alt.Tooltip("dates:N", title="dates"),
                 alt.Tooltip("reason:N", title="why")],
    ).properties(height=28)
