"""The cohort status table in plain words: one runner a row, in that runner's own units (shared by
``loadwatch cohort status`` and the cohort dashboard, :mod:`loadwatch.dashboard.app.cohort_page`)."""

from __future__ import annotations

from loadwatch.metrics import fmt


def status_records(frame) -> list[dict]:
    """The status table as JSON-ready records (metric; red flags as a list of symptom codes)."""
    out = []
    for row in frame.to_dict("records"):
        rec = {k: (None if fmt.is_missing(v) else v) for k, v in row.items()}
        rec["red_flags"] = [s for s in str(rec.get("red_flags") or "").split(";") if s]
        if rec.get("latest_pain_score") is not None:
            rec["latest_pain_score"] = int(rec["latest_pain_score"])
        for key in ("latest_run_date", "latest_pain_date", "as_of"):
            if rec.get(key) is not None:
                rec[key] = str(rec[key])[:10]
        out.append(rec)
    return out


def status_cells(rec: dict) -> dict[str, str]:
    """One runner's row in plain words, in the runner's own units (shared by the text table and the
    cohort dashboard)."""
    units = rec.get("units") or "km"
    run = fmt.MISSING
    if rec.get("latest_run_date"):
        run = f"{fmt.day(rec['latest_run_date'])}, {fmt.distance(rec.get('latest_run_distance_km'), units)}"
    pain = fmt.MISSING
    if rec.get("latest_pain_score") is not None:
        pain = f"{fmt.score(rec['latest_pain_score'])} on {fmt.day(rec.get('latest_pain_date'))}"
    flags = "; ".join(fmt.words(s, "symptom") for s in rec.get("red_flags") or []) or "none"
    week, avg = fmt.distance(rec.get("week_distance_km"), units), fmt.distance(rec.get("avg_4_weeks_distance_km"), units)
    # under red flags the history stays (SCIENCE.md §11): the distances run are what a clinician needs to
    # see; this table holds no advice number to withhold
    return {
        "Runner": str(rec["runner"]),
        "Concern": fmt.words(rec.get("concern"), "concern"),
        "Phase": fmt.words(rec.get("phase"), "phase"),
        "Plan": fmt.plan_status({"status": rec.get("status"), "phase": rec.get("phase")}),
        "Latest run": run,
        "Spike": fmt.words(rec.get("latest_run_spike_category"), "spike"),
        "This week": week,
        "4-week average": avg,
        "Latest pain": pain,
        "Red flags": flags,
    }
