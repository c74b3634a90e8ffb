"""Exposures and outcomes for a cohort's research view (issue 25): which runs come before flare-ups.

Pure functions over a cohort's tables (``runs``, ``phases``, ``pain`` of ``loadwatch cohort import``; one
runner or many, each row with a ``runner`` column): DataFrames in, DataFrames out.  The Cox model that
reads them lives beside the cohort pipeline (``dashboard/pipelines/cohort_cox.py``, it needs lifelines).

The unit of analysis is a **session**: a local day with at least one run (two runs on a day are one
session; its spike is the larger).  Each session carries three exposures, computed from the runner's
own runs up to and including that day:

* ``spike``: the run against the longest run of the previous 30 days, in Frandsen's categories
  (Frandsen et al., BJSM 2025; SCIENCE.md section 2).  The category is the one ``loadwatch.metrics.spike`` gave
  the run (``runs.spike_category``); no run in the previous 30 days: no category ("not enough history").
* ``week_change``: running distance of the 7 days ending on the session's day against the 7 days before
  them [%] (SCIENCE.md section 3; Nielsen et al., JOSPT 2014 compared more than 30% with less than 10%).
* ``acwr``: the EWMA acute:chronic ratio of daily running distance on the session's day
  (:func:`loadwatch.metrics.load.acwr`; SCIENCE.md section 4, Gabbett's bands).

A session is followed from its day for at most :data:`FOLLOW_UP_DAYS` days, until the runner's next
session, the outcome, or the end of the runner's data, whichever comes first (a session is the exposure
until the next one replaces it).  The outcome per runner-day (:func:`outcome_days`):

* ``flare-up``: a day with pain above 5 (:data:`loadwatch.metrics.thresholds.PAIN_AMBER_MAX`; SCIENCE.md section 10)
  or the first day of a ``stop`` phase;
* ``stop``: the first day of a ``stop`` phase (episode timeline, SCIENCE.md section 11);
* ``substantial``: the first day of an OSTRC week the runner marked as a substantial problem (SCIENCE.md
  section 16), where runners logged it.

Events recur: after a flare-up the runner is at risk again once out of ``stop``, ``see_clinician`` and
``emergency`` (a day after such a phase, or after a substantial week, is not at risk of a *new* event).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from loadwatch.metrics.load import acwr as _acwr
from loadwatch.metrics.thresholds import (
    ACWR_DANGER,
    ACWR_EVIDENCE,
    ACWR_SWEET_SPOT,
    FRANDSEN_2025,
    PAIN_AMBER_MAX,
    SPIKE_CATEGORIES,
    WEEKLY_CHANGE_EVIDENCE,
    WEEKLY_CHANGE_INFO_PCT,
    Evidence,
)

#: Days a session is followed at most (a loadwatch choice: the week after a run, the horizon of the
#: product's own advice; most sessions are replaced sooner by the runner's next run).
FOLLOW_UP_DAYS: int = 7
#: Phases in which a flare-up is already under way (no new one can start the next day).
EPISODE_PHASES: tuple[str, ...] = ("stop", "see_clinician", "emergency")
#: The outcomes ``loadwatch cohort analyse --outcome`` accepts (a public contract).
OUTCOMES: tuple[str, ...] = ("flare-up", "stop", "substantial")
#: Week-to-week change below which a week is the reference (Nielsen et al., JOSPT 2014: < 10 % vs > 30 %).
WEEK_CHANGE_REFERENCE_PCT: float = 10.0

SESSION_COLUMNS: tuple[str, ...] = (
    "runner", "date", "runs", "distance_km", "spike_pct", "spike_class", "week_change_pct", "week_change_class",
    "acwr", "acwr_class", "days", "event", "event_date",
)
DAY_COLUMNS: tuple[str, ...] = ("runner", "date", "phase", "pain_max", "flare_up", "stop_start", "substantial_start",
                                "event", "at_risk")


@dataclass(frozen=True)
class ExposureClass:
    """One category of an exposure: values in ``(lower, upper]`` (``name`` is the JSON key)."""

    name: str
    label: str
    lower: float
    upper: float
    reference: bool = False


@dataclass(frozen=True)
class Exposure:
    """An exposure of the analysis: ``key`` (JSON), ``title`` (plain words), the session table's value
    column ``column`` in ``unit`` and its category column ``class_column``, the categories (the reference
    first) and the evidence behind them."""

    key: str
    title: str
    column: str
    class_column: str
    unit: str
    classes: tuple[ExposureClass, ...]
    evidence: Evidence

    @property
    def reference(self) -> ExposureClass:
        return next(c for c in self.classes if c.reference)


def _spike_label(lower: float, upper: float) -> str:
    if lower == float("-inf"):
        return f"up to {upper:.0f}% longer (or shorter)"
    if upper == float("inf"):
        return f"more than {lower:.0f}% longer"
    return f"{lower:.0f}–{upper:.0f}% longer"


_LOW, _HIGH = ACWR_SWEET_SPOT
EXPOSURES: dict[str, Exposure] = {
    "spike": Exposure(
        "spike", "The run against the longest of the previous 30 days", "spike_pct", "spike_class", "%",
        tuple(ExposureClass(c.name, _spike_label(c.lower_pct, c.upper_pct), c.lower_pct, c.upper_pct,
                            reference=(i == 0)) for i, c in enumerate(SPIKE_CATEGORIES)),
        FRANDSEN_2025),
    "week_change": Exposure(
        "week_change", "Running distance of the last 7 days against the 7 days before", "week_change_pct",
        "week_change_class", "%",
        (ExposureClass("up_to_10", f"up to {WEEK_CHANGE_REFERENCE_PCT:.0f}% more (or less)", float("-inf"),
                       WEEK_CHANGE_REFERENCE_PCT, reference=True),
         ExposureClass("10_to_30", f"{WEEK_CHANGE_REFERENCE_PCT:.0f}–{WEEKLY_CHANGE_INFO_PCT:.0f}% more",
                       WEEK_CHANGE_REFERENCE_PCT, WEEKLY_CHANGE_INFO_PCT),
         ExposureClass("over_30", f"more than {WEEKLY_CHANGE_INFO_PCT:.0f}% more", WEEKLY_CHANGE_INFO_PCT,
                       float("inf"))),
        WEEKLY_CHANGE_EVIDENCE),
    "acwr": Exposure(
        "acwr", "Acute:chronic ratio of daily running distance", "acwr", "acwr_class", "ratio",
        (ExposureClass("up_to_0_8", f"up to {_LOW:g}", float("-inf"), _LOW),
         ExposureClass("0_8_to_1_3", f"{_LOW:g}–{_HIGH:g}", _LOW, _HIGH, reference=True),
         ExposureClass("1_3_to_1_5", f"{_HIGH:g}–{ACWR_DANGER:g}", _HIGH, ACWR_DANGER),
         ExposureClass("over_1_5", f"above {ACWR_DANGER:g}", ACWR_DANGER, float("inf"))),
        ACWR_EVIDENCE),
}


def classify(values: pd.Series, exposure: Exposure) -> pd.Series:
    """The category name of each value (``(lower, upper]``); None where the value is NaN."""
    v = pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64")
    ordered = sorted(exposure.classes, key=lambda c: c.upper)
    upper = np.array([c.upper for c in ordered[:-1]])
    # rounded first so float error cannot cross a boundary (as metrics.spike does)
    codes = np.searchsorted(upper, np.round(v, 9), side="left")
    names = np.array([c.name for c in ordered], dtype=object)[np.clip(codes, 0, len(ordered) - 1)]
    return pd.Series(np.where(np.isfinite(v), names, None), index=values.index, dtype="object")


def _dates(values) -> np.ndarray:
    """Local days as ``datetime64[ns]`` at midnight (from dates, ISO strings or timestamps); NaT when
    unreadable."""
    values = pd.Series(values)
    if not pd.api.types.is_datetime64_any_dtype(values):
        values = pd.to_datetime(values.astype(str), errors="coerce")
    return values.dt.tz_localize(None).dt.normalize().to_numpy() if values.dt.tz is not None \
        else values.dt.normalize().to_numpy()


def _keyed(frame: pd.DataFrame | None, date_col: str = "date") -> pd.DataFrame | None:
    if frame is None or not len(frame):
        return None
    out = frame.assign(_day=_dates(frame[date_col]), runner=frame["runner"].astype(str))
    return out[pd.notna(out["_day"])]


def _calendar(spans: pd.DataFrame) -> pd.DataFrame:
    """Every day from ``first`` to ``last`` of each runner (``spans`` indexed by runner): ``runner, date``."""
    lengths = ((spans["last"] - spans["first"]).dt.days + 1).to_numpy()
    start = np.repeat(spans["first"].to_numpy(), lengths)
    offset = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return pd.DataFrame({"runner": np.repeat(spans.index.to_numpy(), lengths),
                         "date": start + offset.astype("timedelta64[D]")})


def _previous(values: np.ndarray, first_of_runner: np.ndarray, fill=False) -> np.ndarray:
    """The value of the day before, within each runner (``fill`` on a runner's first day)."""
    prev = np.r_[np.array([fill], dtype=values.dtype), values[:-1]]
    prev[first_of_runner] = fill
    return prev


def outcome_days(phases: pd.DataFrame, pain: pd.DataFrame | None = None, runs: pd.DataFrame | None = None, *,
                 outcome: str = "flare-up", ostrc: pd.DataFrame | None = None) -> pd.DataFrame:
    """The outcome per runner-day (:data:`DAY_COLUMNS`), every local day from the runner's first run,
    pain entry or phase day to the last (the import's day: the end of the ``phases`` table).

    ``phases``: ``runner, date, phase``; ``pain``: ``runner, date, score``; ``runs``: ``runner, date``
    (only to start the days); ``ostrc``: ``runner, week_start, substantial`` (bool) for the
    ``substantial`` outcome.  ``flare_up``: pain above :data:`~loadwatch.metrics.thresholds.PAIN_AMBER_MAX` or the
    first day of ``stop``; ``event``: the asked ``outcome``; ``at_risk``: a new event can start that day
    (the day before was not in an episode phase, nor in a substantial week for that outcome)."""
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown outcome {outcome!r}; choose one of: {', '.join(OUTCOMES)}")
    phases, pain, runs = _keyed(phases), _keyed(pain), _keyed(runs)
    spans = pd.concat([f[["runner", "_day"]] for f in (phases, pain, runs) if f is not None])
    if not len(spans):
        return pd.DataFrame(columns=list(DAY_COLUMNS))
    spans = spans.groupby("runner")["_day"].agg(first="min", last="max")
    frame = _calendar(spans)
    key = pd.MultiIndex.from_arrays([frame["runner"], frame["date"]])
    if phases is not None:
        by_day = phases.drop_duplicates(["runner", "_day"], keep="last").set_index(["runner", "_day"])["phase"]
        frame["phase"] = by_day.reindex(key).to_numpy(dtype=object)
    else:
        frame["phase"] = None
    if pain is not None:
        scores = pd.to_numeric(pain["score"], errors="coerce").groupby([pain["runner"], pain["_day"]]).max()
        frame["pain_max"] = scores.reindex(key).to_numpy(dtype="float64")
    else:
        frame["pain_max"] = np.nan
    first = np.r_[True, frame["runner"].to_numpy()[1:] != frame["runner"].to_numpy()[:-1]]
    in_stop = frame["phase"].eq("stop").to_numpy()
    frame["stop_start"] = in_stop & ~_previous(in_stop, first)
    frame["flare_up"] = (frame["pain_max"] > PAIN_AMBER_MAX).to_numpy() | frame["stop_start"].to_numpy()
    substantial = np.zeros(len(frame), dtype=bool)
    if ostrc is not None and len(ostrc):
        marked = ostrc[ostrc["substantial"].astype("boolean").fillna(False).to_numpy(dtype=bool)]
        starts = _dates(marked["week_start"])
        week_days = pd.MultiIndex.from_arrays([
            np.repeat(marked["runner"].astype(str).to_numpy(), 7),
            np.repeat(starts, 7) + np.tile(np.arange(7), len(marked)).astype("timedelta64[D]")])
        substantial = key.isin(week_days)
    frame["substantial_start"] = substantial & ~_previous(substantial, first)
    episode = frame["phase"].isin(EPISODE_PHASES).to_numpy()
    if outcome == "flare-up":
        event, busy = frame["flare_up"].to_numpy(), episode
    elif outcome == "stop":
        event, busy = frame["stop_start"].to_numpy(), in_stop
    else:
        event, busy = frame["substantial_start"].to_numpy(), substantial
    frame["at_risk"] = ~_previous(busy, first)
    frame["event"] = event & frame["at_risk"].to_numpy()
    return frame[list(DAY_COLUMNS)]


_SPIKE_ORDER = {c.name: i for i, c in enumerate(SPIKE_CATEGORIES)}


def sessions(runs: pd.DataFrame, days: pd.DataFrame, *, follow_up_days: int = FOLLOW_UP_DAYS) -> pd.DataFrame:
    """One row per session (a runner's local day with a run) that starts at risk (:data:`SESSION_COLUMNS`):
    its runs and distance [km], its three exposures with their categories, the days it was followed
    (1 to ``follow_up_days``) and whether the outcome ended it (``event``, ``event_date``).

    ``runs``: the cohort's ``runs`` table (``runner, date, distance_km, spike_pct, spike_category``);
    ``days``: :func:`outcome_days` (a session outside the runner's days is left out)."""
    runs = _keyed(runs)
    if runs is None or not len(days):
        return pd.DataFrame(columns=list(SESSION_COLUMNS))
    days = days.reset_index(drop=True)
    runner = days["runner"].astype(str).to_numpy()
    dates = _dates(days["date"])
    key = pd.MultiIndex.from_arrays([runner, dates])
    first = np.r_[True, runner[1:] != runner[:-1]]
    start_pos = np.maximum.accumulate(np.where(first, np.arange(len(days)), 0))
    pos_in_runner = np.arange(len(days)) - start_pos
    end_pos = np.r_[np.flatnonzero(first)[1:], len(days)][np.cumsum(first) - 1]  # one past each runner's last day

    runs = runs.assign(_rank=runs["spike_category"].map(_SPIKE_ORDER),
                       _pct=pd.to_numeric(runs["spike_pct"], errors="coerce"),
                       _km=pd.to_numeric(runs["distance_km"], errors="coerce"))
    per_day = runs.groupby(["runner", "_day"]).agg(runs=("_km", "size"), distance_km=("_km", "sum"))
    # the session's spike: its largest run's (a run without 30 days of history has none)
    top = runs.sort_values(["runner", "_day", "_rank", "_pct"], na_position="first") \
        .groupby(["runner", "_day"]).tail(1).set_index(["runner", "_day"])
    # the daily running distance [km] on every calendar day (a day without a run ran 0 km)
    daily = per_day["distance_km"].reindex(key).fillna(0.0).to_numpy(dtype="float64")
    cs = np.r_[0.0, np.cumsum(daily)]
    idx = np.arange(len(days))
    last7 = np.where(pos_in_runner >= 6, cs[idx + 1] - cs[np.maximum(idx - 6, 0)], np.nan)
    before7 = np.where(pos_in_runner >= 13, np.r_[np.full(7, np.nan), last7[:-7]], np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        week_change = np.where(before7 > 0, (last7 / before7 - 1.0) * 100.0, np.nan)
    ratio = pd.Series(daily).groupby(runner, sort=False).transform(lambda s: _acwr(s)).to_numpy(dtype="float64")

    present = per_day.index.isin(key)
    per_day = per_day[present]
    pos = key.get_indexer(per_day.index)
    is_run = np.zeros(len(days), dtype=bool)
    is_run[pos] = True
    event = days["event"].to_numpy(dtype=bool)
    at_risk = days["at_risk"].to_numpy(dtype=bool)
    keep = at_risk[pos]
    followed = np.zeros(len(pos), dtype="int64")
    happened = np.zeros(len(pos), dtype=bool)
    for n, i in enumerate(pos):
        if not keep[n]:
            continue
        k, stop = 0, min(end_pos[i], i + follow_up_days)
        while i + k < stop:
            j = i + k
            if k > 0 and (is_run[j] or not at_risk[j]):
                break
            k += 1
            if event[j]:
                happened[n] = True
                break
        followed[n] = k
    event_day = np.where(happened, dates[pos] + (followed - 1).astype("timedelta64[D]"), np.datetime64("NaT"))
    out = pd.DataFrame({
        "runner": runner[pos], "date": pd.DatetimeIndex(dates[pos]).date, "runs": per_day["runs"].to_numpy(),
        "distance_km": per_day["distance_km"].to_numpy(dtype="float64"),
        "spike_pct": top["_pct"].reindex(per_day.index).to_numpy(dtype="float64"),
        "spike_class": top["spike_category"].reindex(per_day.index).to_numpy(dtype=object),
        "week_change_pct": week_change[pos], "acwr": ratio[pos], "days": followed, "event": happened,
        "event_date": [d.date() if pd.notna(d) else None for d in pd.DatetimeIndex(event_day)],
    })
    out["spike_class"] = out["spike_class"].where(out["spike_class"].notna(), None)
    out["week_change_class"] = classify(out["week_change_pct"], EXPOSURES["week_change"])
    out["acwr_class"] = classify(out["acwr"], EXPOSURES["acwr"])
    return out[keep][list(SESSION_COLUMNS)].reset_index(drop=True)
