"""Altair chart builders for the dashboard pages (drawing only: every number comes from ``metrics``).

All charts share one time axis (``time_domain``) so pain scores line up with load, and every chart has
tooltips.  Nothing here fetches anything from the network (no map tiles: routes are lon/lat lines).
"""

from __future__ import annotations

import datetime as dt

import altair as alt
import pandas as pd

from metrics import units as units_mod

PAIN_COLOR = "#c0392b"
SURFACE_COLORS = {"road": "#5d6d7e", "trail": "#27ae60", "track": "#e67e22", "treadmill": "#8e44ad",
                  "unknown": "#bdc3c7"}
INTENSITY_COLORS = {"very_easy": "#aed6f1", "easy": "#5dade2", "moderate": "#f5b041", "hard": "#cb4335",
                    "unknown": "#d5d8dc"}


def _unit(units: str) -> str:
    """The axis unit: ``km`` or ``mi``."""
    return "mi" if units == "mi" else "km"


def time_domain(start: dt.date, end: dt.date) -> list[str]:
    return [pd.Timestamp(start).isoformat(), (pd.Timestamp(end) + pd.Timedelta(days=1)).isoformat()]


def _x(domain, field="week_start", title="week"):
    return alt.X(f"{field}:T", title=title, scale=alt.Scale(domain=domain))


def melt(weeks: pd.DataFrame, columns: list[str], name: str, prefix: str, suffix: str) -> pd.DataFrame:
    """Weekly columns ``<prefix><x><suffix>`` into long rows (week_start, <name>, value)."""
    cols = [c for c in columns if c in weeks.columns]
    long = weeks[cols].reset_index().melt(id_vars="week_start", var_name=name, value_name="value")
    long[name] = long[name].str.removeprefix(prefix).str.removesuffix(suffix)
    return long


def _week_end(frame: pd.DataFrame) -> pd.DataFrame:
    """Bars span their week (week_start to just before the next), so they line up with daily marks."""
    return frame.assign(week_end=pd.to_datetime(frame["week_start"]) + pd.Timedelta(days=6, hours=12))


def stacked_bars(long: pd.DataFrame, y_title: str, domain, color_field: str) -> alt.Chart:
    colors = SURFACE_COLORS if color_field == "surface" else INTENSITY_COLORS
    names = [n for n in colors if n in set(long[color_field])]
    return alt.Chart(_week_end(long)).mark_bar().encode(
        x=_x(domain), x2="week_end:T",
        y=alt.Y("sum(value):Q", title=y_title),
        color=alt.Color(f"{color_field}:N", scale=alt.Scale(domain=names, range=[colors[n] for n in names])),
        tooltip=[alt.Tooltip("week_start:T", title="week of"), alt.Tooltip(f"{color_field}:N"),
                 alt.Tooltip("value:Q", title=y_title, format=".1f")],
    ).properties(height=260)


def pain_layer(pain: pd.DataFrame, start, end, domain) -> alt.Chart | None:
    if pain is None or pain.empty:
        return None
    p = pain[~pain["deleted"].astype(bool)] if "deleted" in pain.columns else pain
    p = p[(p["at_local"] >= pd.Timestamp(start)) & (p["at_local"] < pd.Timestamp(end) + pd.Timedelta(days=1))]
    if p.empty:
        return None
    p = p.assign(timing=p["timing"].astype(str))[["at_local", "score", "timing"]]
    return alt.Chart(p).mark_circle(color=PAIN_COLOR, size=45, opacity=0.8).encode(
        x=alt.X("at_local:T", scale=alt.Scale(domain=domain)),
        y=alt.Y("score:Q", title="pain (0-10)", scale=alt.Scale(domain=[0, 10]),
                axis=alt.Axis(titleColor=PAIN_COLOR, orient="right")),
        tooltip=[alt.Tooltip("at_local:T", title="pain logged", format="%Y-%m-%d %H:%M"),
                 alt.Tooltip("score:Q", title="pain score"), alt.Tooltip("timing:N")],
    )


def with_pain(chart: alt.Chart, pain: alt.Chart | None) -> alt.Chart:
    if pain is None:
        return chart
    return alt.layer(chart, pain).resolve_scale(y="independent")


def spike_chart(runs: pd.DataFrame, units: str, domain) -> alt.Chart:
    u = _unit(units)
    d = pd.DataFrame({
        "date": pd.to_datetime(runs["date"]),
        "distance": units_mod.to_units(runs["distance_km"].astype(float), units),
        "cap": units_mod.to_units(runs["safe_longest_km"].astype(float), units),
        "spike_pct": runs["spike_pct"].astype(float),
        "category": runs["spike_category"].fillna("not enough history").astype(str),
    })
    x = alt.X("date:T", title="date", scale=alt.Scale(domain=domain))
    tip = [alt.Tooltip("date:T", title="run"), alt.Tooltip("distance:Q", title=f"distance ({u})", format=".1f"),
           alt.Tooltip("cap:Q", title=f"safe longest ({u})", format=".1f"),
           alt.Tooltip("spike_pct:Q", title="longer than 30-day longest (%)", format=".0f"),
           alt.Tooltip("category:N", title="spike")]
    cap = alt.Chart(d).mark_line(interpolate="step-after", color="#7f8c8d", strokeDash=[4, 3]).encode(
        x=x, y=alt.Y("cap:Q", title=u), tooltip=tip)
    cats = ["none", "small", "moderate", "large", "not enough history"]
    dots = alt.Chart(d).mark_circle(size=50).encode(
        x=x, y=alt.Y("distance:Q", title=f"run distance ({u})"),
        color=alt.Color("category:N", title="spike", scale=alt.Scale(
            domain=cats, range=["#5dade2", "#f5b041", "#e67e22", "#c0392b", "#bdc3c7"])),
        tooltip=tip)
    return alt.layer(cap, dots).properties(height=260)


def load_acwr(weeks: pd.DataFrame, domain) -> alt.Chart:
    d = _week_end(weeks.reset_index()[["week_start", "load", "acwr"]])
    bars = alt.Chart(d).mark_bar(color="#85c1e9").encode(
        x=_x(domain), x2="week_end:T", y=alt.Y("load:Q", title="weekly load"),
        tooltip=[alt.Tooltip("week_start:T", title="week of"), alt.Tooltip("load:Q", format=".1f"),
                 alt.Tooltip("acwr:Q", title="ACWR", format=".2f")])
    line = alt.Chart(d.assign(week_start=d["week_start"] + pd.Timedelta(days=3, hours=12))).mark_line(
        color="#34495e", point=True).encode(
        x=_x(domain), y=alt.Y("acwr:Q", title="ACWR (info only)", axis=alt.Axis(orient="right")),
        tooltip=[alt.Tooltip("week_start:T", title="week of"), alt.Tooltip("acwr:Q", title="ACWR", format=".2f")])
    return alt.layer(bars, line).resolve_scale(y="independent").properties(height=240)


DYNAMICS_TITLES = {"cadence_spm": "cadence (steps/min)", "vertical_oscillation_mm": "vertical oscillation (mm)",
                   "stance_time_ms": "ground contact (ms)", "step_length_mm": "step length (mm)"}


def dynamics(weeks: pd.DataFrame, columns: list[str], domain) -> alt.Chart:
    long = weeks.reset_index()[["week_start", *columns]].melt(id_vars="week_start", var_name="measure")
    long["measure"] = long["measure"].map(DYNAMICS_TITLES)
    return alt.Chart(long.dropna()).mark_line(point=True).encode(
        x=_x(domain), y=alt.Y("value:Q", title=None, scale=alt.Scale(zero=False)),
        tooltip=[alt.Tooltip("week_start:T", title="week of"), "measure:N",
                 alt.Tooltip("value:Q", format=".1f")],
    ).properties(height=110).facet(row=alt.Row("measure:N", title=None)).resolve_scale(y="independent")


def pain_history(pain: pd.DataFrame) -> alt.Chart:
    from ingest.painlog import TIMING_LABELS

    p = pain.assign(when=pain["timing"].map(TIMING_LABELS).fillna(pain["timing"]))
    return alt.Chart(p[["at_local", "score", "when"]]).mark_line(point=True).encode(
        x=alt.X("at_local:T", title="date"),
        y=alt.Y("score:Q", title="pain (0-10)", scale=alt.Scale(domain=[0, 10])),
        color=alt.Color("when:N", title="when"),
        tooltip=[alt.Tooltip("at_local:T", title="logged", format="%Y-%m-%d %H:%M"), "score:Q", "when:N"],
    ).properties(height=240)


def route(samples: pd.DataFrame) -> alt.Chart:
    """The route as a lon/lat line (no map tiles: nothing is fetched from the network)."""
    d = samples[["lon_deg", "lat_deg"]].dropna().reset_index(drop=True).reset_index(names="order")
    return alt.Chart(d).mark_line(color="#1f6f8b").encode(
        x=alt.X("lon_deg:Q", title="longitude", scale=alt.Scale(zero=False)),
        y=alt.Y("lat_deg:Q", title="latitude", scale=alt.Scale(zero=False)),
        order="order:Q",
    ).properties(height=360)


def trace(d: pd.DataFrame, y: str, title: str) -> alt.Chart:
    return alt.Chart(d).mark_line().encode(
        x=alt.X("minutes:Q", title="minutes"), y=alt.Y(f"{y}:Q", title=title, scale=alt.Scale(zero=False)),
        tooltip=[alt.Tooltip("minutes:Q", format=".1f"), alt.Tooltip(f"{y}:Q", title=title, format=".1f")],
    ).properties(height=180)


def weekly_surface_pain(weeks: pd.DataFrame, pain: pd.DataFrame | None, units: str, start, end) -> alt.Chart:
    """Weekly running distance by surface in the runner's units, with the pain scores of the same days on
    a right-hand axis: the chart this product exists for, drawn by the Load page and the physio report.

    ``weeks``: indexed by ``week_start`` with ``surface_<s>_km`` columns (the weekly table, or
    :func:`report_weeks_frame`); ``pain``: the store's pain frame (deleted entries are left out)."""
    from metrics.thresholds import SURFACES

    domain = time_domain(start, end)
    u = _unit(units)
    surf = melt(weeks, [f"surface_{s}_km" for s in SURFACES], "surface", prefix="surface_", suffix="_km")
    surf["value"] = units_mod.to_units(surf["value"], units)
    return with_pain(stacked_bars(surf, f"distance ({u})", domain, "surface"), pain_layer(pain, start, end, domain))


def longest_run_cap(weeks: pd.DataFrame, units: str, start, end) -> alt.Chart:
    """Longest run of each week (bars) against the spike cap as the week began (dashed step line: 10 %
    more than the longest run of the 30 days before, Frandsen 2025), in the runner's units.

    ``weeks``: indexed by ``week_start`` with ``long_run_km`` and ``spike_cap_km``."""
    domain = time_domain(start, end)
    u = _unit(units)
    d = _week_end(weeks.reset_index()[["week_start", "long_run_km", "spike_cap_km"]])
    d["longest"] = units_mod.to_units(d["long_run_km"].astype(float), units)
    d["cap"] = units_mod.to_units(d["spike_cap_km"].astype(float), units)
    tip = [alt.Tooltip("week_start:T", title="week of"),
           alt.Tooltip("longest:Q", title=f"longest run ({u})", format=".1f"),
           alt.Tooltip("cap:Q", title=f"spike cap ({u})", format=".1f")]
    bars = alt.Chart(d).mark_bar(color="#5dade2").encode(
        x=_x(domain), x2="week_end:T", y=alt.Y("longest:Q", title=f"longest run ({u})"), y2=alt.datum(0),
        tooltip=tip)
    cap = alt.Chart(d.dropna(subset=["cap"])).mark_rule(color="#c0392b", strokeDash=[4, 3], strokeWidth=2).encode(
        x=_x(domain), x2="week_end:T", y="cap:Q", tooltip=tip)
    return alt.layer(bars, cap).properties(height=140)


def report_weeks_frame(weeks: list[dict]) -> pd.DataFrame:
    """The weeks of :func:`metrics.report.build_report` (JSON shape) as a weekly frame the chart builders
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
        y=alt.Y("sum(value):Q", title="minutes"),
        color=alt.Color("kind:N", title=None, scale=alt.Scale(domain=names, range=[SESSION_COLORS[n] for n in names])),
        tooltip=[alt.Tooltip("week_start:T", title="week of"), alt.Tooltip("kind:N", title="what"),
                 alt.Tooltip("value:Q", title="minutes", format=".0f")],
    ).properties(height=220)


def shoe_weeks(per_week: pd.DataFrame, units: str, domain) -> alt.Chart:
    """Running distance per week, stacked by pair of shoes (``metrics.shoes.weekly_km_by_shoe``), in the
    runner's units."""
    u = _unit(units)
    data = per_week.assign(value=units_mod.to_units(per_week["distance_km"].astype(float), units))
    return alt.Chart(_week_end(data)).mark_bar().encode(
        x=_x(domain), x2="week_end:T",
        y=alt.Y("sum(value):Q", title=f"distance ({u})"),
        color=alt.Color("shoe:N", title="shoe"),
        tooltip=[alt.Tooltip("week_start:T", title="week of"), alt.Tooltip("shoe:N"),
                 alt.Tooltip("value:Q", title=f"distance ({u})", format=".1f")],
    ).properties(height=240)


#: Phase colours for the band under the weekly charts (calm for normal, warm for cutbacks, red for care).
PHASE_COLORS = {"normal": "#d5f5e3", "hold": "#f9e79f", "reduce": "#f5b041", "stop": "#e74c3c",
                "return_to_run": "#85c1e9", "rebuild": "#a9cce3", "see_clinician": "#922b21",
                "emergency": "#641e16"}


def phase_band(segments: list[dict] | None, start, end, *, legend_columns: int = 4) -> alt.Chart:
    """The phase timeline (``report["phases"]``: start, end, phase, step, steps, reason) as a thin band on
    the same time axis as the weekly charts (``time_domain(start, end)``), to stack under one of them.
    Phases are named in plain words; each segment's tooltip gives its dates, step and reason.
    ``legend_columns``: how many phases a legend row holds (the physio report's page fits them on one)."""
    from metrics import fmt

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
                     "dates": fmt.day_range(a, b), "reason": seg.get("reason") or fmt.MISSING,
                     "label": f"{name}, {step}" if step else name})
    frame = pd.DataFrame(rows, columns=["from", "to", "phase", "step", "dates", "reason", "label"])
    names = [fmt.words(p, "phase") for p in PHASE_COLORS]
    return alt.Chart(frame).mark_rect().encode(
        x=alt.X("from:T", title=None, scale=alt.Scale(domain=time_domain(start, end))),
        x2="to:T",
        color=alt.Color("phase:N", title="phase", scale=alt.Scale(domain=names, range=list(PHASE_COLORS.values())),
                        legend=alt.Legend(orient="bottom", columns=legend_columns)),
        tooltip=[alt.Tooltip("label:N", title="phase"), alt.Tooltip("dates:N", title="dates"),
                 alt.Tooltip("reason:N", title="why")],
    ).properties(height=28)
