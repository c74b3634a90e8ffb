"""The outcomes and the back programme in words, for the text report, ``programme status`` and the
physio report: OSTRC-O2 weeks with their severity, PSFS activities and their trend, the programme's week,
next sessions and adherence (SCIENCE.md section 16).  Everything comes from the report's ``outcomes`` and
``programme`` keys (:func:`loadwatch.metrics.report.build_report`); nothing is recomputed here.
"""

from __future__ import annotations

from loadwatch.dashboard.report.blocks import Block, Table
from loadwatch.metrics import fmt

#: OSTRC weeks listed at most (the latest).
MAX_OSTRC_WEEKS = 12


def programme_lines(programme: dict | None) -> list[str]:
    """The programme: its summary, this week's sessions and the next ones, adherence week by week."""
    if not programme:
        return []
    lines = [programme["summary"]]
    for s in programme.get("next_sessions") or []:
        lines.append(f"  next: {fmt.day(s['date'])}: {s['words']}")
    weeks = programme.get("adherence") or []
    if weeks:
        lines.append("  adherence by programme week: " + ", ".join(
            f"week {w['week']} {w['sessions_done']} of {w['sessions_planned']}"
            + ("" if w["complete"] else " (so far)") for w in weeks))
    lines.append(f"  ({programme['source']})")
    return lines


def ostrc_lines(outcomes: dict | None) -> list[str]:
    weeks = (outcomes or {}).get("ostrc_weeks") or []
    return [f"  week of {fmt.day(w['week_start'])}: {w['words']}" for w in weeks[-MAX_OSTRC_WEEKS:]]


def text_lines(report: dict) -> list[str]:
    """The lines ``loadwatch report`` adds after the plan (nothing when there is no programme or outcome)."""
    lines = []
    if report.get("programme"):
        lines += ["", "Back programme:"] + [f"  {line}" for line in programme_lines(report["programme"])]
    outcomes = report.get("outcomes") or {}
    if outcomes.get("ostrc_weeks"):
        lines += ["", "OSTRC back questionnaire (severity 0-100):", *ostrc_lines(outcomes)]
    psfs = outcomes.get("psfs") or {}
    if psfs.get("activities"):
        lines += ["", "What you can do (PSFS, 0-10):"] + [f"  {w}" for w in psfs["words"]]
    return lines


def physio_blocks(report: dict) -> list:
    """The physio report's blocks for the OSTRC and PSFS trends and the programme's adherence
    (:class:`loadwatch.dashboard.report.blocks.Block`); none when the runner has none of them."""
    blocks = []
    outcomes = report.get("outcomes") or {}
    weeks = (outcomes.get("ostrc_weeks") or [])[-MAX_OSTRC_WEEKS:]
    psfs = outcomes.get("psfs") or {}
    if weeks or psfs.get("activities"):
        blocks.append(Block("heading", text="Function: OSTRC and PSFS"))
    if weeks:
        rows = [[fmt.day(w["week_start"]), str(w["severity"]), "yes" if w["substantial"] else "no", w["words"]]
                for w in weeks]
        blocks.append(Block("table", table=Table(["week of", "severity", "substantial", "in words"], rows,
                                                 [1.3, 0.8, 0.9, 4.0], "LRLL")))
        blocks.append(Block("small", text=f"OSTRC-O2 for the low back, severity 0-100 ({outcomes['ostrc_source']})."))
    if psfs.get("activities"):
        rows = [[a["name"], " then ".join(f"{s['score']:g}" for s in a["scores"]) or fmt.MISSING,
                 fmt.signed(a["change"])] for a in psfs["activities"]]
        blocks.append(Block("table", table=Table(["activity", "scores (0-10)", "change"], rows, [2.5, 2.0, 0.8],
                                                 "LLR")))
        blocks.append(Block("bullets", items=list(psfs["words"])))
        blocks.append(Block("small", text=f"{psfs['source']}: 2 points in the mean or 3 in one activity are "
                                          "beyond measurement error."))
    programme = report.get("programme")
    if programme:
        blocks.append(Block("heading", text="Back programme and adherence"))
        blocks.append(Block("para", text=programme["summary"]))
        rows = [[str(w["week"]), fmt.day_range(w["start"], w["end"]), f"{w['sessions_done']} of {w['sessions_planned']}",
                 fmt.pct(w["adherence_pct"]) + ("" if w["complete"] else " (so far)")]
                for w in programme.get("adherence") or []]
        if rows:
            blocks.append(Block("table", table=Table(["week", "days", "sessions", "adherence"], rows,
                                                     [0.6, 2.4, 1.0, 1.2], "RLRR")))
        blocks.append(Block("small", text=f"Target: {programme['adherence_target_pct']:g}% of planned sessions, as "
                                          f"in ASTEROID. {programme['source']}."))
    return blocks
