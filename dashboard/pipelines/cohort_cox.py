"""The Cox model of ``loadwatch cohort analyse`` (issue 25), by lifelines: sessions in, hazard ratios out.

One model per exposure (as Frandsen et al., BJSM 2025 fitted one per load measure): the hazard of the
outcome in the days after a session (:func:`loadwatch.metrics.exposure.sessions`: time since the session, in days,
until the next session, the outcome or :data:`loadwatch.metrics.exposure.FOLLOW_UP_DAYS`), with the session's
category as indicator variables against the reference category.  Every runner gives many sessions and
may have many events (recurrent events), so the standard errors are robust (Huber sandwich, Lin & Wei,
JASA 1989) and clustered by runner: ``CoxPHFitter(...).fit(..., cluster_col="runner", robust=True)``.

Why the session's own clock and not calendar time with delayed entry: lifelines' sandwich estimator
ignores entry times (its score residuals assume every row is at risk from time 0) and its
``CoxTimeVaryingFitter`` has no robust errors yet; on the session's clock there is no delayed entry, so the
clustered errors are right.  Ties (whole days) are handled by Efron's method in the fit; the robust
errors use lifelines' residuals, which do not correct for ties.

Too few events say nothing: a category with fewer than :data:`MIN_EVENTS` events gets no ratio (and its
sessions leave that model), and a model whose reference has fewer gets no ratio at all; the ``note``
says so in a plain sentence.  Needs the ``cohort`` extra (lifelines).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd

from loadwatch.metrics.exposure import EXPOSURES, Exposure

#: Events a category needs before a ratio is given: the rule of thumb of about 10 events per variable in
#: proportional-hazards models (Peduzzi et al., J Clin Epidemiol 1995;48:1503 and 1996;49:1373).
MIN_EVENTS: int = 10
#: Two-sided level of the intervals and of "significant".
ALPHA: float = 0.05

RESULT_COLUMNS: tuple[str, ...] = (
    "exposure", "category", "label", "reference", "runners", "runs", "sessions", "events", "hazard_ratio",
    "ci_low", "ci_high", "p_value", "significant", "note",
)


def _counts(sessions: pd.DataFrame, column: str, name: str) -> dict:
    mine = sessions[sessions[column] == name]
    return {"runners": int(mine["runner"].nunique()), "runs": int(mine["runs"].sum()), "sessions": int(len(mine)),
            "events": int(mine["event"].sum())}


def _too_few(events: int, label: str, outcome_words: str, min_events: int, reference: bool = False) -> str:
    """The plain sentence for a category with too few events."""
    which = f"runs of the category “{label}”" + (", the reference" if reference else "")
    count = f"Only {events:,} {outcome_words}" if events else f"No {outcome_words}"
    if events == 1:
        count = f"Only 1 {outcome_words.rstrip('s')}" if not outcome_words.endswith("problems") else \
            "Only 1 substantial problem"
    return f"{count} after {which}: too few to say anything (at least {min_events} are needed), so no ratio is given."


def fit_exposure(sessions: pd.DataFrame, exposure: Exposure | str, *, outcome_words: str = "flare-ups",
                 min_events: int = MIN_EVENTS, alpha: float = ALPHA) -> pd.DataFrame:
    """Hazard ratios of ``exposure`` (a key of :data:`loadwatch.metrics.exposure.EXPOSURES`) with their ``1 - alpha``
    intervals: one row per category (:data:`RESULT_COLUMNS`), the reference first with ratio 1.  Counts
    are the runners, runs, sessions and events behind each category; ``note`` is a plain sentence when
    the events are too few (then the ratio and interval are NaN)."""
    from lifelines import CoxPHFitter

    if isinstance(exposure, str):
        exposure = EXPOSURES[exposure]
    col = exposure.class_column
    known = sessions[sessions[col].notna()] if len(sessions) else sessions
    rows = []
    for c in exposure.classes:
        counts = _counts(known, col, c.name) if len(known) else {"runners": 0, "runs": 0, "sessions": 0, "events": 0}
        rows.append({"exposure": exposure.key, "category": c.name, "label": c.label, "reference": c.reference,
                     **counts, "hazard_ratio": np.nan, "ci_low": np.nan, "ci_high": np.nan, "p_value": np.nan,
                     "significant": False, "note": None})
    out = pd.DataFrame(rows, columns=list(RESULT_COLUMNS))
    ref = exposure.reference
    ref_row = out["category"] == ref.name
    if out.loc[ref_row, "events"].iloc[0] < min_events:
        out["note"] = _too_few(int(out.loc[ref_row, "events"].iloc[0]), ref.label, outcome_words, min_events,
                               reference=True)
        return out
    fitted = [c.name for c in exposure.classes
              if not c.reference and out.loc[out["category"] == c.name, "events"].iloc[0] >= min_events]
    for i, c in enumerate(exposure.classes):
        if not c.reference and c.name not in fitted:
            out.loc[i, "note"] = _too_few(int(out.loc[i, "events"]), c.label, outcome_words, min_events)
    out.loc[ref_row, ["hazard_ratio", "ci_low", "ci_high"]] = 1.0
    if not fitted:
        return out
    data = known[known[col].isin([ref.name, *fitted])]
    design = pd.DataFrame({"days": data["days"].astype("float64").to_numpy(),
                           "event": data["event"].astype(int).to_numpy(),
                           "runner": data["runner"].astype(str).to_numpy()})
    for name in fitted:
        design[f"x_{name}"] = (data[col] == name).astype("float64").to_numpy()
    cph = CoxPHFitter(alpha=alpha)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lifelines' advice on ties and robust errors: documented above
        cph.fit(design, duration_col="days", event_col="event", cluster_col="runner", robust=True)
    z = _z(alpha)
    for name in fitted:
        beta, se = float(cph.params_[f"x_{name}"]), float(cph.standard_errors_[f"x_{name}"])
        i = out.index[out["category"] == name][0]
        p = float(cph.summary.loc[f"x_{name}", "p"])
        out.loc[i, ["hazard_ratio", "ci_low", "ci_high", "p_value"]] = [math.exp(beta), math.exp(beta - z * se),
                                                                          math.exp(beta + z * se), p]
        out.loc[i, "significant"] = bool(p < alpha)
    return out


def _z(alpha: float) -> float:
    from scipy.stats import norm

    return float(norm.ppf(1 - alpha / 2))


def fit_all(sessions: pd.DataFrame, *, outcome_words: str = "flare-ups", min_events: int = MIN_EVENTS,
            alpha: float = ALPHA) -> pd.DataFrame:
    """:func:`fit_exposure` for every exposure of :data:`loadwatch.metrics.exposure.EXPOSURES`, one table."""
    return pd.concat([fit_exposure(sessions, e, outcome_words=outcome_words, min_events=min_events, alpha=alpha)
                      for e in EXPOSURES.values()], ignore_index=True)
