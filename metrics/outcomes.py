"""Outcomes that say what the back lets the runner do: the weekly OSTRC-O2 questionnaire for the low back
and the Patient-Specific Functional Scale (SCIENCE.md section 16).  Pure functions: answers in, scores
and plain words out.

**OSTRC-O2** (Clarsen, Myklebust & Bahr, BJSM 2013;47:495; the update, Clarsen et al., BJSM 2020;54:390).
Four questions about the past 7 days, each answer scored; the severity score is their sum, 0-100:

=============== ============================================================== ==================
question        answers (option 0 first)                                       points
=============== ============================================================== ==================
participation   full without problems / full with problems / reduced /          0, 8, 17, 25
                could not participate
volume          no / minor / moderate / major change / could not participate   0, 6, 13, 19, 25
performance     no / minor / moderate / major effect / could not participate   0, 6, 13, 19, 25
pain            none / mild / moderate / severe                                0, 8, 17, 25
=============== ============================================================== ==================

A **substantial problem** is one that reduced training volume or performance to a moderate or major
extent, or stopped the runner taking part (answers 2-4 to volume or performance, 3 to participation).  As
in OSTRC-O2, a runner who could not take part at all scores "could not participate" on volume and
performance too.

**PSFS** (Stratford et al., Physiother Can 1995;47:258): up to three activities the runner finds hard, each
0 (unable) to 10 (as before the problem); the score is their mean.  A change of 2 points or more in the
mean, or 3 or more for one activity, is beyond measurement error (:data:`PSFS_MEAN_CHANGE`,
:data:`PSFS_ONE_CHANGE`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from loadwatch.ingest.outcomes import check_answer

#: OSTRC-O2 points per answer, option 0 first (Clarsen et al. 2013, Table 1; unchanged in OSTRC-O2 2020).
OSTRC_POINTS: dict[str, tuple[int, ...]] = {  # option counts: ingest.outcomes.OSTRC_OPTIONS
    "participation": (0, 8, 17, 25),
    "volume": (0, 6, 13, 19, 25),
    "performance": (0, 6, 13, 19, 25),
    "pain": (0, 8, 17, 25),
}
#: The answers in the runner's words, option 0 first.
OSTRC_ANSWERS: dict[str, tuple[str, ...]] = {
    "participation": ("full participation without back problems", "full participation, but with back problems",
                      "reduced participation because of back problems", "could not participate"),
    "volume": ("no change", "a minor reduction", "a moderate reduction", "a major reduction",
               "could not participate"),
    "performance": ("no effect", "a minor effect", "a moderate effect", "a major effect", "could not participate"),
    "pain": ("no pain", "mild pain", "moderate pain", "severe pain"),
}
#: The four questions as the runner reads them (the past 7 days, the low back).
OSTRC_QUESTIONS: dict[str, str] = {
    "participation": "Have you had any difficulties taking part in running because of your back?",
    "volume": "How much have you changed your training volume because of your back?",
    "performance": "How much has your back affected your running performance?",
    "pain": "How much back pain have you had while running?",
}
#: Answers that make a week a substantial problem (moderate or major reduction, or not taking part).
SUBSTANTIAL_FROM: dict[str, int] = {"participation": 3, "volume": 2, "performance": 2}
OSTRC_SOURCE = "Clarsen et al., Br J Sports Med 2013;47:495 and 2020;54:390 (OSTRC-O2)"

#: PSFS: a change in the mean of the activities at least this large is beyond measurement error [points].
PSFS_MEAN_CHANGE: float = 2.0
#: PSFS: a change in one activity at least this large is beyond measurement error [points].
PSFS_ONE_CHANGE: float = 3.0
PSFS_SOURCE = "Stratford et al., Physiother Can 1995;47:258 (Patient-Specific Functional Scale)"


@dataclass(frozen=True)
class OstrcWeek:
    """One week's answers (option numbers, 0 first) and what they score."""

    participation: int
    volume: int
    performance: int
    pain: int
    severity: int
    substantial: bool
    problem: bool


def ostrc_score(participation, volume, performance, pain) -> OstrcWeek:
    """Score one week of OSTRC-O2 answers (option numbers, 0 first; see the module's table).

    ``severity`` is 0-100, ``substantial`` per Clarsen 2013/2020, ``problem`` any answer above 0.  A runner
    who could not take part (participation 3) scores "could not participate" on volume and performance."""
    answers = {q: check_answer(q, v) for q, v in (("participation", participation), ("volume", volume),
                                                   ("performance", performance), ("pain", pain))}
    if answers["participation"] == len(OSTRC_POINTS["participation"]) - 1:
        answers["volume"] = len(OSTRC_POINTS["volume"]) - 1
        answers["performance"] = len(OSTRC_POINTS["performance"]) - 1
    severity = sum(OSTRC_POINTS[q][a] for q, a in answers.items())
    substantial = any(answers[q] >= lowest for q, lowest in SUBSTANTIAL_FROM.items())
    return OstrcWeek(**answers, severity=severity, substantial=substantial, problem=any(answers.values()))


def ostrc_table(answers: pd.DataFrame | None) -> pd.DataFrame:
    """Weeks of answers (``week_start`` and the four questions) -> the same rows, oldest first, with
    ``severity`` (0-100), ``substantial`` and ``problem``.  No answers: an empty table with those columns."""
    cols = ["week_start", *OSTRC_POINTS, "severity", "substantial", "problem"]
    if answers is None or len(answers) == 0:
        return pd.DataFrame(columns=cols)
    rows = []
    for r in answers.sort_values("week_start").to_dict("records"):
        scored = ostrc_score(r["participation"], r["volume"], r["performance"], r["pain"])
        rows.append({"week_start": pd.Timestamp(r["week_start"]).date(), **scored.__dict__})
    return pd.DataFrame(rows, columns=cols)


def substantial_weeks(answers: pd.DataFrame | None) -> list:
    """The ``week_start`` of every week whose answers make it a substantial problem (oldest first)."""
    weeks = ostrc_table(answers)
    return [] if weeks.empty else list(weeks.loc[weeks["substantial"].astype(bool), "week_start"])


def ostrc_words(week: dict | OstrcWeek) -> str:
    """One week in words: "severity 44 of 100, a substantial problem (a moderate reduction in training
    volume)"."""
    w = week if isinstance(week, dict) else week.__dict__
    if not w["problem"]:
        return "severity 0 of 100, no back problem"
    why = []
    if w["participation"] >= SUBSTANTIAL_FROM["participation"]:
        why.append("could not run")
    else:
        if w["volume"] >= SUBSTANTIAL_FROM["volume"]:
            why.append(f"{OSTRC_ANSWERS['volume'][w['volume']]} in training volume")
        if w["performance"] >= SUBSTANTIAL_FROM["performance"]:
            why.append(f"{OSTRC_ANSWERS['performance'][w['performance']]} on performance")
    kind = f"a substantial problem ({' and '.join(why)})" if w["substantial"] else "a back problem, not substantial"
    return f"severity {int(w['severity'])} of 100, {kind}"


# --- PSFS ---------------------------------------------------------------------------------------------

def psfs_mean(scores) -> float:
    """The PSFS score: the mean of the activities' scores (NaN when none is scored)."""
    values = [float(s) for s in scores if s is not None and not pd.isna(s)]
    return sum(values) / len(values) if values else math.nan


def change_words(change: float, threshold: float, what: str) -> str:
    """"better by 3 points, beyond measurement error" / "worse by 1 point, within measurement error"."""
    if change is None or pd.isna(change):
        return f"{what}: scored once so far"
    if change == 0:
        return f"{what}: no change"
    size = abs(change)
    points = f"{size:g} point{'' if size == 1 else 's'}"
    beyond = "beyond measurement error" if size >= threshold - 1e-9 else "within measurement error"
    return f"{what}: {'better' if change > 0 else 'worse'} by {points}, {beyond}"


def psfs_trends(activities: pd.DataFrame | None, scores: pd.DataFrame | None) -> dict:
    """Each activity's first and latest score and the change, and the same for the mean.

    ``activities``: ``id, name, added`` (date); ``scores``: ``activity_id, date, score``.  The mean's
    change compares the first and the latest mean of the activities scored at both (Stratford 1995: 2
    points in the mean, 3 in one activity, are beyond measurement error; with one such activity, the mean is
    that activity and its 3 points apply)."""
    out = {"activities": [], "mean_first": None, "mean_latest": None, "mean_change": None,
           "mean_beyond_error": False, "words": [], "source": PSFS_SOURCE}
    if activities is None or len(activities) == 0:
        return out
    scores = scores if scores is not None else pd.DataFrame(columns=["activity_id", "date", "score"])
    firsts, latests = [], []
    for a in activities.to_dict("records"):
        mine = scores[scores["activity_id"] == a["id"]].sort_values(["date"], kind="stable")
        history = [{"date": pd.Timestamp(d).date().isoformat(), "score": float(s)}
                   for d, s in zip(mine["date"], mine["score"], strict=True)]
        first = history[0]["score"] if history else None
        latest = history[-1]["score"] if history else None
        change = None if len(history) < 2 else round(latest - first, 1)
        item = {"id": int(a["id"]), "name": a["name"], "scores": history, "first": first, "latest": latest,
                "change": change, "beyond_error": change is not None and abs(change) >= PSFS_ONE_CHANGE - 1e-9}
        item["words"] = change_words(change, PSFS_ONE_CHANGE, f'"{a["name"]}"') if history else \
            f'"{a["name"]}": not scored yet'
        out["activities"].append(item)
        if len(history) >= 2:
            firsts.append(first)
            latests.append(latest)
    if out["activities"] and any(i["latest"] is not None for i in out["activities"]):
        out["mean_latest"] = round(psfs_mean(i["latest"] for i in out["activities"]), 2)
    if firsts:
        out["mean_first"] = round(psfs_mean(firsts), 2)
        paired_latest = psfs_mean(latests)
        out["mean_change"] = round(paired_latest - psfs_mean(firsts), 2)
        # one activity is its own mean: its own threshold applies (3 points), and its line says it
        threshold = PSFS_MEAN_CHANGE if len(firsts) > 1 else PSFS_ONE_CHANGE
        out["mean_beyond_error"] = abs(out["mean_change"]) >= threshold - 1e-9
        if len(firsts) > 1:
            out["words"].append(change_words(out["mean_change"], threshold, "What you can do (PSFS mean)"))
    out["words"] += [i["words"] for i in out["activities"]]
    return out


def outcomes_block(ostrc: pd.DataFrame | None, psfs_activities: pd.DataFrame | None,
                   psfs_scores: pd.DataFrame | None, as_of=None) -> dict:
    """The report's ``outcomes``: ``ostrc_weeks`` (``week_start``, the answers, ``severity``,
    ``substantial``, ``problem``, ``words``) and ``psfs`` (:func:`psfs_trends`), up to ``as_of``'s day."""
    day = None if as_of is None else pd.Timestamp(as_of).normalize()
    if day is not None and ostrc is not None and len(ostrc):
        ostrc = ostrc[pd.to_datetime(ostrc["week_start"]) <= day]
    if day is not None and psfs_scores is not None and len(psfs_scores):
        psfs_scores = psfs_scores[pd.to_datetime(psfs_scores["date"]) <= day]
    if day is not None and psfs_activities is not None and len(psfs_activities):
        psfs_activities = psfs_activities[pd.to_datetime(psfs_activities["added"]) <= day]
    weeks = ostrc_table(ostrc)
    listed = [{**{k: (v.isoformat() if k == "week_start" else v) for k, v in r.items()}, "words": ostrc_words(r)}
              for r in weeks.to_dict("records")]
    for item in listed:
        for key in ("participation", "volume", "performance", "pain", "severity"):
            item[key] = int(item[key])
        item["substantial"], item["problem"] = bool(item["substantial"]), bool(item["problem"])
    return {"ostrc_weeks": listed, "ostrc_source": OSTRC_SOURCE, "psfs": psfs_trends(psfs_activities, psfs_scores)}
