"""Suggested personal rules: thresholds learned from the runner's own training and pain log (SCIENCE.md §14).

A **flare-up** is the first week of a run of weeks that hold a pain score of at least
:data:`~loadwatch.metrics.thresholds.FLARE_UP_MIN_SCORE` (4: amber or red, §10) or a next-morning score that had not
settled (2 or more points above the runner's usual logged next-morning level, §10).  Its **before week** is
the week that precedes it.  **Pain-free weeks** are complete weeks with runs, no flare-up pain, and not
followed by a flare-up.  Weeks before the first pain-log entry are not used (nothing says they were
pain-free): a day without an entry is unknown, never 0.

For each candidate weekly metric every threshold ``t`` between observed values is scored by Youden's
J = sensitivity + specificity - 1 for the rule "value > t" (before-weeks against pain-free weeks); for
weekly strength and core minutes the rule is "value < t" (:data:`BELOW_METRICS`).  A rule
is suggested only when the pattern is unlikely to be chance (§14):

- at least :data:`~loadwatch.metrics.thresholds.SUGGEST_MIN_FLARE_UPS` flare-ups (4) in the history,
- at least :data:`~loadwatch.metrics.thresholds.SUGGEST_MIN_FLARE_UPS_ABOVE` (3) of them after weeks above ``t``,
- a permutation test: which weeks had a flare-up is shuffled
  :data:`~loadwatch.metrics.thresholds.SUGGEST_PERMUTATIONS` (1,000) times with a fixed seed; each shuffle's
  statistic is the **largest** J over every candidate metric and threshold, so the test pays for the
  search (the single-step max-T adjustment of Westfall & Young).  A metric's p-value is the share of
  shuffles whose largest J reaches that metric's own best J; it must be below
  :data:`~loadwatch.metrics.thresholds.SUGGEST_MAX_P` (0.05).

A suggestion is never a near-copy of a rule the runner already has: the same metric and scope, or the same
metric split by surface (weekly distance and weekly distance on road, trail... are one family; the longest
run of a week and a single run's distance flag the same weeks and are one family too).  It is an
association in one person's log, not proof of cause, and the text gives the counts in words.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from loadwatch.metrics import fmt
from loadwatch.metrics import thresholds as th
from loadwatch.metrics.calendar import as_date, complete_weeks, pain_frame
from loadwatch.metrics.rules import DISTANCE_UNITS, RULE_METRICS
from loadwatch.metrics.units import from_units, to_units

#: Weekly metrics a suggestion may use (a short list: every extra candidate is another chance of a
#: coincidence, which the permutation test then charges for).
CANDIDATE_METRICS = ("distance_km", "long_run_km", "surface_road_km", "intensity_hard_min", "ascent_m",
                     "change_pct", "shoe_km_max", "strength_min")
#: Candidates whose rule is "below" (fewer strength and core minutes before flare-ups: SCIENCE.md §15 keeps
#: strength work, so a rule never asks for less of it); every other candidate is "above".
BELOW_METRICS = frozenset({"strength_min"})
#: Candidates unknown in a week rather than 0 (no earlier week to compare; no run in a pair of shoes).
UNKNOWN_AS_NAN = frozenset({"change_pct", "shoe_km_max"})


@dataclass
class Suggestion:
    """A rule the runner may accept (``Store.add_rule(Rule(None, metric, threshold, op, scope,
    origin="suggested"))``).  ``threshold`` is in the metric's unit (km, min, %, m); ``op`` is ">" except for
    weekly strength and core minutes, "<" (:data:`BELOW_METRICS`), and ``flare_ups_above`` /
    ``pain_free_above`` then count the weeks below it.  ``p_value`` is the
    permutation p-value, corrected for every metric and threshold tried; ``permutations`` how many
    shuffles it used."""

    metric: str
    threshold: float
    op: str
    scope: str
    flare_ups_above: int
    flare_ups_total: int
    pain_free_above: int
    pain_free_total: int
    youden_j: float
    text: str
    evidence: str = th.SUGGEST_EVIDENCE.line()
    label: str = ""
    p_value: float = float("nan")
    permutations: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


def week_start_of(day: date, week_start: str = "monday") -> date:
    """The first day of ``day``'s week (Monday, or Sunday when ``week_start == "sunday"``)."""
    back = day.weekday() if week_start != "sunday" else (day.weekday() + 1) % 7
    return day - timedelta(days=back)


def flare_days(pain: pd.DataFrame | None, as_of, *, min_score: int = th.FLARE_UP_MIN_SCORE,
               settle_margin: int = th.PAIN_SETTLE_MARGIN, usual_days: int = th.PAIN_BASELINE_DAYS,
               usual_min_entries: int = th.PAIN_BASELINE_MIN_ENTRIES) -> set[date]:
    """Local days up to ``as_of`` with flare-up pain: any score >= ``min_score`` (4), or a next-morning
    score at least ``settle_margin`` (2) points above the runner's usual level, the median of their logged
    next-morning scores over the previous ``usual_days`` (28) days when there are at least
    ``usual_min_entries`` (3) of them (§10; without a usual level only a score above 3 counts, which
    ``min_score`` already covers).  Unlogged days are unknown and never enter the usual level.  Unlike the
    phase timeline, the usual level here also counts mornings inside an episode: a flare-up is judged
    against the weeks around it, and a morning that high is counted by ``min_score`` anyway."""
    as_of = as_date(as_of)
    df = pain_frame(pain)
    df = df[df["day"] <= as_of]
    if df.empty:
        return set()
    days = set(df.loc[df["score"] >= min_score, "day"])
    mornings = df[df["timing"] == "next_morning"]
    m_days = np.array([pd.Timestamp(d).value for d in mornings["day"]], dtype="int64")
    m_scores = mornings["score"].to_numpy(dtype=float)
    day_ns = 86_400 * 10**9
    for d, score in zip(m_days, m_scores, strict=True):
        if score >= min_score:
            continue
        prior = m_scores[(m_days < d) & (m_days >= d - usual_days * day_ns)]
        if len(prior) >= usual_min_entries and score >= float(np.median(prior)) + settle_margin:
            days.add(pd.Timestamp(d).date())
    return days


def week_sets(weekly: pd.DataFrame, pain: pd.DataFrame | None, as_of, *,
              week_start: str = "monday", min_score: int = th.FLARE_UP_MIN_SCORE, substantial_weeks=()):
    """(before-weeks, pain-free weeks, flare-up weeks): lists of week-start dates in ``weekly``.

    ``substantial_weeks``: days in weeks the runner marked a substantial problem on the OSTRC questions
    (SCIENCE.md §16); each such week is a flare-up week too, and the weeks answered count as logged."""
    as_of = as_date(as_of)
    weeks = complete_weeks(weekly, as_of)
    df = pain_frame(pain)
    df = df[df["day"] <= as_of]
    marked = {week_start_of(as_date(d), week_start) for d in substantial_weeks or () if as_date(d) <= as_of}
    if weeks.empty or (df.empty and not marked):
        return [], [], []
    flare_weeks = {week_start_of(d, week_start) for d in flare_days(df, as_of, min_score=min_score)} | marked
    first_logged = min(([week_start_of(min(df["day"]), week_start)] if len(df) else []) + sorted(marked))
    starts = [s for s in weeks.index if s >= first_logged]
    onsets = sorted(w for w in flare_weeks if (w - timedelta(days=7)) not in flare_weeks)
    before = [w - timedelta(days=7) for w in onsets if (w - timedelta(days=7)) in weeks.index]
    runs = weeks["runs"] if "runs" in weeks.columns else weeks.get("distance_km")
    pain_free = [s for s in starts
                 if s not in flare_weeks and (s + timedelta(days=7)) not in flare_weeks
                 and (s + timedelta(days=7)) <= as_of - timedelta(days=6)  # the following week is over too
                 and runs is not None and float(runs.get(s, 0) or 0) > 0]
    return before, pain_free, sorted(onsets)


#: Values closer than this (in the metric's unit) are not split apart: 11.99 km from a GPS track and
#: 12.0 km from a watch are the same long run.
MIN_SPLIT_GAP = {"km": 0.5, "min": 5.0, "m": 10.0, "%": 5.0}


def candidate_thresholds(values: np.ndarray, *, min_gap: float = 0.0) -> np.ndarray:
    """Observed values ``t`` (ascending) at which "value > t" splits the values, skipping splits between
    values less than ``min_gap`` apart."""
    u = np.unique(values[np.isfinite(values)])
    if len(u) < 2:
        return np.empty(0)
    return u[:-1][np.diff(u) >= min_gap]


def youden_matrix(values: np.ndarray, labels: np.ndarray, cuts: np.ndarray, *,
                  min_above: int = 0, min_flare_ups: int = 1) -> np.ndarray:
    """Youden's J of "value > t" for every labelling (rows of ``labels``, bool, shape (P, n)) and every
    threshold in ``cuts`` (k,): an array (P, k).  Rows of ``values`` that are NaN are left out; a
    labelling with fewer than ``min_flare_ups`` flare-ups or no pain-free week among the rest, or a
    threshold with fewer than ``min_above`` flare-ups above it, scores -inf."""
    keep = np.isfinite(values)
    v, lab = values[keep], labels[:, keep].astype(float)
    above = (v[:, None] > cuts[None, :]).astype(float)  # (n, k)
    pos_above = lab @ above  # (P, k) flare-up weeks above t
    n_pos = lab.sum(axis=1, keepdims=True)
    n_neg = len(v) - n_pos
    neg_above = above.sum(axis=0)[None, :] - pos_above
    with np.errstate(divide="ignore", invalid="ignore"):
        j = pos_above / n_pos - neg_above / n_neg
    j[~np.isfinite(j) | (pos_above < min_above) | (n_pos < min_flare_ups)] = -np.inf
    return j


def best_threshold(before: np.ndarray, pain_free: np.ndarray, *, min_gap: float = 0.0,
                   min_above: int = 0) -> tuple[float, float, float] | None:
    """(t, next value above t, J) maximising Youden's J for the rule "value > t" over the observed
    values; ties keep the highest threshold (fewest pain-free weeks flagged).  Splits between values
    less than ``min_gap`` apart, and thresholds with fewer than ``min_above`` before-weeks above them, are
    not considered.  None without a split."""
    values = np.concatenate([before, pain_free]).astype(float)
    cuts = candidate_thresholds(values, min_gap=min_gap)
    if len(cuts) == 0:
        return None
    labels = np.concatenate([np.ones(len(before), bool), np.zeros(len(pain_free), bool)])[None, :]
    j = youden_matrix(values, labels, cuts, min_above=min_above)[0]
    if not np.isfinite(j).any():
        return None
    best = np.flatnonzero(j >= j.max() - 1e-12)[-1]
    u = np.unique(values[np.isfinite(values)])
    nxt = u[np.searchsorted(u, cuts[best], side="right")]
    return float(cuts[best]), float(nxt), float(j[best])


def human_threshold(lo: float, hi: float, unit: str, units: str = "km") -> float:
    """A round number in [lo, hi) (in the runner's units for distances), nearest the middle; returned in
    the metric's own unit.  Falls back to ``lo`` rounded to 0.1."""
    is_distance = unit in DISTANCE_UNITS
    a, b = (to_units(lo, units), to_units(hi, units)) if is_distance else (lo, hi)
    mid = (a + b) / 2
    for step in (10.0, 5.0, 1.0, 0.5, 0.1):
        k0, k1 = math.ceil(a / step - 1e-9), math.ceil(b / step - 1e-9) - 1
        if k1 >= k0:
            k = min(range(k0, k1 + 1), key=lambda k: abs(k * step - mid))
            value = k * step
            break
    else:
        value = round(a, 1)
    value = round(value, 1)
    return round(from_units(value, units), 3) if is_distance else value


def metric_family(metric: str, scope: str | None = None) -> tuple[str, str]:
    """Rules in one family are near-copies of each other (§14): the same metric and scope, or the same
    metric split by surface.  Weekly distance and weekly distance on any surface are one family; the
    longest run of a week and a single run's distance are one (they flag the same weeks)."""
    info = RULE_METRICS.get(metric)
    scope = scope or (info.scope if info else "week")
    if metric == "distance_km" or (metric.startswith("surface_") and metric.endswith("_km")):
        return ("distance_km", "week")
    if metric in ("long_run_km", "run_distance_km"):
        return ("run_distance_km", "run")
    return (metric, scope)


def _p_text(hits: int, permutations: int) -> str:
    return (f"Shuffling which weeks had a flare-up gave a pattern as strong in {fmt.count_words(hits)} of "
            f"{permutations:,} tries, across every measure and threshold loadwatch looked at.")


def suggest(weekly: pd.DataFrame | None, pain: pd.DataFrame | None, settings=None, as_of=None, *,
            rules=(), metrics=CANDIDATE_METRICS, min_flare_ups: int = th.SUGGEST_MIN_FLARE_UPS,
            min_flare_ups_above: int = th.SUGGEST_MIN_FLARE_UPS_ABOVE,
            min_pain_free: int = th.SUGGEST_MIN_PAIN_FREE_WEEKS, permutations: int = th.SUGGEST_PERMUTATIONS,
            max_p: float = th.SUGGEST_MAX_P, seed: int = th.SUGGEST_SEED,
            max_suggestions: int = th.SUGGEST_MAX, substantial_weeks=()) -> list[Suggestion]:
    """Suggested "above" rules, strongest first (§14); empty when the history does not support one.

    Metrics in the family of a rule the runner already has (enabled or not) are not tried; among the
    rest, one suggestion per family, each with its search-corrected permutation ``p_value``.
    ``substantial_weeks``: OSTRC weeks marked a substantial problem, taken as flare-ups (§16) under the
    same permutation test."""
    if weekly is None or len(weekly) == 0:
        return []
    as_of = as_date(as_of)
    units = getattr(settings, "units", "km") if settings is not None else "km"
    week_start = getattr(settings, "week_start", "monday") if settings is not None else "monday"
    before, pain_free, _onsets = week_sets(weekly, pain, as_of, week_start=week_start,
                                           substantial_weeks=substantial_weeks)
    if len(before) < min_flare_ups or len(pain_free) < min_pain_free:
        return []
    taken = {metric_family(r.metric, getattr(r, "scope", None)) for r in rules or ()}
    weeks = complete_weeks(weekly, as_of)
    index = list(before) + list(pain_free)
    labels = np.concatenate([np.ones(len(before), bool), np.zeros(len(pain_free), bool)])
    rng = np.random.default_rng(seed)
    shuffled = rng.permuted(np.tile(labels, (permutations, 1)), axis=1)
    all_labels = np.vstack([labels[None, :], shuffled])  # row 0: what happened

    found = []  # (metric, values, cuts, observed J per cut)
    perm_max = np.full(permutations, -np.inf)
    for metric in metrics:
        info = RULE_METRICS[metric]
        if info.column not in weeks.columns or metric_family(metric, info.scope) in taken:
            continue
        values = weeks[info.column].reindex(index).to_numpy(dtype=float)
        if metric not in UNKNOWN_AS_NAN:  # a distance or time not recorded in a week with runs is 0
            values = np.nan_to_num(values)
        if metric in BELOW_METRICS:  # "value < t" is "-value > -t": one search for both directions
            values = -values
        cuts = candidate_thresholds(values, min_gap=MIN_SPLIT_GAP.get(info.unit, 0.0))
        if len(cuts) == 0:
            continue
        # a metric unknown in some weeks (change_pct in the first one) is judged on the flare-ups it
        # knows, and only when it knows at least ``min_flare_ups`` of them - in the shuffles too
        j = youden_matrix(values, all_labels, cuts, min_above=min_flare_ups_above, min_flare_ups=min_flare_ups)
        perm_max = np.maximum(perm_max, j[1:].max(axis=1))
        found.append((metric, values, cuts, j[0]))

    out = []
    for metric, values, cuts, j_obs in found:
        if not np.isfinite(j_obs).any():
            continue
        best_j = float(j_obs.max())
        hits = int(np.sum(perm_max >= best_j - 1e-12))
        p = (1 + hits) / (permutations + 1)
        if p >= max_p:
            continue
        info = RULE_METRICS[metric]
        k = np.flatnonzero(j_obs >= best_j - 1e-12)[-1]
        finite = np.unique(values[np.isfinite(values)])
        nxt = finite[np.searchsorted(finite, cuts[k], side="right")]
        t = human_threshold(float(cuts[k]), float(nxt), info.unit, units)
        b, pf = values[: len(before)], values[len(before):]
        b, pf = b[np.isfinite(b)], pf[np.isfinite(pf)]
        fa, pa = int(np.sum(b > t)), int(np.sum(pf > t))
        flagged = (tuple(b > t), tuple(pf > t))
        below = metric in BELOW_METRICS
        if below:  # back from the negated search: "value < t"
            t = 0.0 if t == 0 else -t
        word = "below" if below else "above"
        if fa < min_flare_ups_above:
            continue
        j = fa / len(b) + (len(pf) - pa) / len(pf) - 1
        shown = fmt.threshold(metric, t, units)
        lead = fmt.count_words(fa)
        text = (f"{lead[0].upper()}{lead[1:]} of your {fmt.count_words(len(b))} flare-ups came after weeks with "
                f"{info.label} {word} {shown}; {fmt.count_words(pa)} of your {fmt.count_words(len(pf))} pain-free "
                f"weeks {'was' if pa == 1 else 'were'} {word} it. " + _p_text(hits, permutations))
        out.append((flagged, Suggestion(metric=metric, threshold=t, op="<" if below else ">", scope=info.scope,
                              flare_ups_above=fa, flare_ups_total=len(b), pain_free_above=pa,
                              pain_free_total=len(pf), youden_j=round(j, 3), text=text,
                              label=f"suggested: {info.label} {word} {shown}",
                              # 4 decimals, rounded down: p = 50/1001 = 0.04995 passed p < 0.05 and was
                              # shown as 0.05, which reads as failing it
                              p_value=math.floor(p * 10_000) / 10_000, permutations=permutations)))
    out.sort(key=lambda fs: (fs[1].p_value, -fs[1].youden_j, CANDIDATE_METRICS.index(fs[1].metric)
                             if fs[1].metric in CANDIDATE_METRICS else 99))
    # one suggestion per family (accepting one would make the next a near-copy of it), and none that
    # flags exactly the same weeks as a stronger one (weekly distance and ascent often move together)
    kept, seen = [], set()
    for flagged, sug in out:
        fam = metric_family(sug.metric, sug.scope)
        if fam not in seen and flagged not in seen:
            seen |= {fam, flagged}
            kept.append(sug)
    return kept[:max_suggestions]
