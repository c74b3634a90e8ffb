"""``loadwatch cohort analyse``: which runs come before flare-ups in a cohort, with their uncertainty
(issue 25).

The cohort's Parquet tables (``runs``, ``phases``, ``pain`` and, for the ``substantial`` outcome,
``ostrc``) are read by Dask workers, a batch of runners per task, and turned into sessions with their
exposures and outcome by the pure functions of :mod:`loadwatch.metrics.exposure`; the Cox models
(:mod:`loadwatch.dashboard.pipelines.cohort_cox`, lifelines) run in the calling process on the gathered sessions.  The
result is one :class:`Analysis`: the hazard ratios with their intervals and counts, the JSON of
``--json`` (:func:`to_json`) and a self-contained HTML report (:func:`to_html`: inline CSS and an inline
SVG forest plot drawn by vl-convert, nothing fetched).
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from loadwatch.dashboard.pipelines.cohort_cox import ALPHA, MIN_EVENTS, fit_all
from loadwatch.metrics import exposure as ex
from loadwatch.metrics import fmt

#: The outcome in words: (plural, one, its definition).
OUTCOME_WORDS: dict[str, tuple[str, str, str]] = {
    "flare-up": ("flare-ups", "flare-up",
                 "a day with back pain above 5/10 (any timing), or the first day of a 'stop running' phase"),
    "stop": ("stops", "stop", "the first day of a 'stop running' phase of the runner's episode timeline"),
    "substantial": ("substantial problems", "substantial problem",
                    "the first day of a week the runner marked as a substantial problem on the OSTRC "
                    "questionnaire (a moderate or severe reduction in training volume or performance, or "
                    "unable to take part)"),
}
#: Columns read from each table (no more leaves the Parquet files).
_COLUMNS = {"runs": ["runner", "date", "distance_km", "spike_pct", "spike_category"],
            "phases": ["runner", "date", "phase"], "pain": ["runner", "date", "score"],
            "ostrc": ["runner", "week_start", "substantial"]}
#: Runner batches per worker: enough to balance, few enough that each task is worth sending.
BATCHES_PER_WORKER = 4


@dataclass
class Analysis:
    """What ``cohort analyse`` found: the sessions, the hazard ratios (``results``:
    :data:`loadwatch.dashboard.pipelines.cohort_cox.RESULT_COLUMNS`) and how long it took on how many workers."""

    outcome: str
    sessions: pd.DataFrame
    results: pd.DataFrame
    follow_up_days: int = ex.FOLLOW_UP_DAYS
    seconds: float = 0.0
    workers: int = 0
    build_seconds: float = 0.0  # of ``seconds``: the sessions built on Dask (the rest: cluster start, fits)

    @property
    def words(self) -> str:
        return OUTCOME_WORDS[self.outcome][0]

    def counts(self) -> dict:
        s = self.sessions
        return {"runners": int(s["runner"].nunique()) if len(s) else 0, "runs": int(s["runs"].sum()) if len(s) else 0,
                "sessions": len(s), "events": int(s["event"].sum()) if len(s) else 0,
                "runners_with_events": int(s.loc[s["event"].astype(bool), "runner"].nunique()) if len(s) else 0,
                "days_followed": int(s["days"].sum()) if len(s) else 0}


def _path(out, table: str) -> Path:
    return Path(out) / f"{table}.parquet"


def _read(out, table: str, runners: list[str] | None = None) -> pd.DataFrame | None:
    path = _path(out, table)
    if not path.is_file():
        return None
    filters = [("runner", "in", list(runners))] if runners is not None else None
    if filters is not None and not _rows(path):
        filters = None  # an empty table written before its columns had types (null): nothing to filter
    frame = pd.read_parquet(path, engine="pyarrow", filters=filters)
    missing = [c for c in _COLUMNS[table] if c not in frame.columns]
    if missing:
        raise ValueError(f"{path}: the column{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
                         f"{'are' if len(missing) > 1 else 'is'} missing")
    return frame[_COLUMNS[table]]


def _rows(path: Path) -> int:
    import pyarrow.parquet as pq

    return pq.ParquetFile(path).metadata.num_rows


def warm_up() -> None:
    """Import what a task needs, so a worker's first batch does not pay for it (``client.run(warm_up)``)."""
    import pyarrow.parquet  # noqa: F401

    import loadwatch.metrics.exposure  # noqa: F401


def runner_sessions(out: str, runners: list[str], outcome: str, follow_up_days: int) -> pd.DataFrame:
    """The sessions of ``runners`` (one Dask task): their rows of the cohort tables, read by the worker,
    through :func:`loadwatch.metrics.exposure.outcome_days` and :func:`loadwatch.metrics.exposure.sessions`."""
    runs = _read(out, "runs", runners)
    days = ex.outcome_days(_read(out, "phases", runners), _read(out, "pain", runners), runs, outcome=outcome,
                           ostrc=_read(out, "ostrc", runners) if outcome == "substantial" else None)
    return ex.sessions(runs, days, follow_up_days=follow_up_days)


def check_cohort(out, outcome: str) -> list[str]:
    """The runners of the cohort in ``out``, or a ValueError saying what is missing."""
    out = Path(out)
    if outcome not in ex.OUTCOMES:
        raise ValueError(f"unknown outcome {outcome!r}; choose one of: {', '.join(ex.OUTCOMES)}")
    if not _path(out, "runs").is_file() or not _path(out, "phases").is_file():
        raise ValueError(f"{out}: no cohort here (runs.parquet and phases.parquet are missing; run `loadwatch "
                         f"cohort import ROOT --out {out}` first)")
    if not _path(out, "pain").is_file():
        raise ValueError(f"{out}: pain.parquet is missing (the cohort was imported by an older loadwatch); run "
                         f"`loadwatch cohort import ROOT --out {out}` again")
    if outcome == "substantial" and (not _path(out, "ostrc").is_file()
                                     or not len(pd.read_parquet(_path(out, "ostrc"), columns=["runner"]))):
        raise ValueError(f"{out}: no runner logged OSTRC weeks (ostrc.parquet is missing or empty), so the outcome "
                         "'substantial' cannot be studied here; use --outcome flare-up or stop")
    runners = pd.read_parquet(_path(out, "runs"), columns=["runner"], engine="pyarrow")["runner"]
    return sorted(set(runners.astype(str)))


def build_sessions(out, outcome: str = "flare-up", *, client, follow_up_days: int = ex.FOLLOW_UP_DAYS) -> pd.DataFrame:
    """Every runner's sessions, built on the Dask cluster of ``client`` (a batch of runners per task)."""
    runners = check_cohort(out, outcome)
    if not runners:
        return pd.DataFrame(columns=list(ex.SESSION_COLUMNS))
    n_workers = max(1, len(client.scheduler_info().get("workers", {})))
    n = min(len(runners), BATCHES_PER_WORKER * n_workers)
    batches = [runners[i::n] for i in range(n)]
    out = str(Path(out).resolve())
    futures = client.map(runner_sessions, [out] * n, batches, [outcome] * n, [follow_up_days] * n, pure=False,
                         key=[f"loadwatch-analyse-{i}-{time.time_ns()}" for i in range(n)])
    parts = [p for p in client.gather(futures) if len(p)]
    if not parts:
        return pd.DataFrame(columns=list(ex.SESSION_COLUMNS))
    return pd.concat(parts, ignore_index=True).sort_values(["runner", "date"], kind="stable").reset_index(drop=True)


def analyse(out, outcome: str = "flare-up", *, workers: int | None = None, scheduler: str | None = None,
            client=None, follow_up_days: int = ex.FOLLOW_UP_DAYS, min_events: int = MIN_EVENTS) -> Analysis:
    """The research view of the cohort in ``out``: sessions built on Dask (a local cluster of ``workers``
    processes, an existing one at ``scheduler``, or ``client`` used as is), then one Cox model per
    exposure."""
    from loadwatch.dashboard.pipelines.cohort_engine import start_client

    t0 = time.perf_counter()
    check_cohort(out, outcome)  # a clear error before any cluster starts
    own = client is None
    cluster = None
    if own:
        client, cluster = start_client(workers, scheduler)
    try:
        n_workers = len(client.scheduler_info().get("workers", {}))
        t_build = time.perf_counter()
        sessions = build_sessions(out, outcome, client=client, follow_up_days=follow_up_days)
        build_s = time.perf_counter() - t_build
    finally:
        if own:
            client.close()
            if cluster is not None:
                cluster.close()
    results = fit_all(sessions, outcome_words=OUTCOME_WORDS[outcome][0], min_events=min_events)
    return Analysis(outcome, sessions, results, follow_up_days, time.perf_counter() - t0, n_workers, build_s)


# --- words ---------------------------------------------------------------------------------------------

def ratio_text(row) -> str:
    """``2.05 (1.31–3.12)``; the reference says so; no ratio: a dash."""
    if row["reference"]:
        return "1 (reference)"
    if fmt.is_missing(row["hazard_ratio"]):
        return fmt.MISSING
    return f"{row['hazard_ratio']:.2f} ({row['ci_low']:.2f}–{row['ci_high']:.2f})"


def category_notes(analysis: Analysis, key: str) -> list[str]:
    """The plain sentences of an exposure's categories (once each: a reference with too few events gives
    every row the same sentence)."""
    rows = analysis.results[analysis.results["exposure"] == key]
    return list(dict.fromkeys(rows["note"].dropna()))


def exposure_notes(analysis: Analysis) -> dict[str, str | None]:
    """One plain sentence per exposure whose model gave no ratio at all, else None."""
    notes = {}
    for key in ex.EXPOSURES:
        rows = analysis.results[analysis.results["exposure"] == key]
        fitted = rows[~rows["reference"]]["hazard_ratio"].notna().any()
        said = category_notes(analysis, key)
        notes[key] = None if fitted else (" ".join(said) or
                                          f"Too few {analysis.words} to say anything, so no ratio is given.")
    return notes


def headline(analysis: Analysis) -> str:
    c = analysis.counts()
    return (f"{fmt.count(c['runners'], 'runner')}, {fmt.count(c['runs'], 'run')} on "
            f"{fmt.count(c['sessions'], 'day')} with a run, followed for {c['days_followed']:,} days: "
            f"{c['events']:,} {analysis.words if c['events'] != 1 else OUTCOME_WORDS[analysis.outcome][1]} "
            f"in {fmt.count(c['runners_with_events'], 'runner')}.")


def definitions(analysis: Analysis) -> list[str]:
    return [
        f"Outcome ({analysis.words}): {OUTCOME_WORDS[analysis.outcome][2]}. Events recur: a runner is at risk "
        "of a new one from the day after a 'stop', 'see a clinician' or 'urgent care' phase ends.",
        "Session: a day with at least one run (two runs on a day are one session; its spike is the larger). "
        f"Each session is followed from its day for at most {analysis.follow_up_days} days, until the runner's "
        "next run, the outcome or the end of the runner's data.",
        "Spike: the run's distance against the longest run of the 30 days before it (Frandsen et al., BJSM "
        "2025); no run in those 30 days: no spike, the session is left out of that model.",
        "Week-to-week change: running distance of the 7 days ending on the session's day against the 7 days "
        "before them (no running in those 7 days: left out).",
        "Acute:chronic ratio: exponentially weighted 7-day over 28-day average of daily running distance on the "
        "session's day (Williams et al., BJSM 2017); unknown before 28 days of history.",
        "Hazard ratio: from a Cox model per exposure (lifelines), time since the session in days, the "
        "session's category against the reference; 95% confidence intervals from robust standard errors "
        f"clustered by runner. A category with fewer than {MIN_EVENTS} events gets no ratio.",
    ]


CAVEATS: tuple[str, ...] = (
    "An association in these runners, not proof that a run causes a flare-up: runners who spike may differ "
    "in other ways (age, history, how they log pain).",
    "Days, not hours: a flare-up logged on the day of a run counts after that run, even if the pain came first.",
    "Flare-ups are what the runners logged: a runner who logs little pain shows few flare-ups.",
    "Each exposure has its own model; they are not adjusted for each other.",
    "The robust errors do not correct for ties (many sessions share the same day count); with few events the "
    "intervals are wide and a ratio can look large by chance.",
    "Frandsen et al. (5,205 runners, injuries of any site) found 1.64 (1.31–2.05) for 10–30%, 1.52 "
    "(1.16–2.00) for 30–100% and 2.28 (1.50–3.48) for more than 100%; this cohort is smaller and its "
    "outcome is back pain.",
)


def to_json(analysis: Analysis) -> dict:
    """Every figure of the analysis (metric, NaN as null)."""
    def clean(v):
        if isinstance(v, float) and math.isnan(v):
            return None
        if hasattr(v, "item"):
            v = v.item()
            return None if isinstance(v, float) and math.isnan(v) else v
        return v

    notes = exposure_notes(analysis)
    exposures = []
    for key, e in ex.EXPOSURES.items():
        rows = analysis.results[analysis.results["exposure"] == key]
        cats = [{k: clean(v) for k, v in r.items() if k != "exposure"} for r in rows.to_dict("records")]
        exposures.append({"exposure": key, "title": e.title, "unit": e.unit, "evidence": e.evidence.line(),
                          "fitted": notes[key] is None, "note": notes[key], "categories": cats})
    from loadwatch.metrics.thresholds import NOT_MEDICAL_ADVICE

    return {"outcome": analysis.outcome, "outcome_definition": OUTCOME_WORDS[analysis.outcome][2],
            "follow_up_days": analysis.follow_up_days, "min_events": MIN_EVENTS, "alpha": ALPHA,
            "cohort": analysis.counts(), "exposures": exposures, "definitions": definitions(analysis),
            "caveats": list(CAVEATS), "seconds": round(analysis.seconds, 3), "workers": analysis.workers,
            "disclaimer": NOT_MEDICAL_ADVICE}


# --- the HTML report -----------------------------------------------------------------------------------

def forest_spec(analysis: Analysis) -> dict | None:
    """The forest plot (Vega-Lite): each category's ratio and interval on a log scale, the reference at 1;
    None when no ratio was estimated."""
    import altair as alt

    rows = analysis.results[analysis.results["hazard_ratio"].notna()].copy()
    if not (~rows["reference"]).any():
        return None
    titles = {k: e.title for k, e in ex.EXPOSURES.items()}
    rows["Exposure"] = rows["exposure"].map(titles)
    rows["Category"] = rows["label"]
    rows["Hazard ratio"] = rows["hazard_ratio"].round(2)
    rows["Events"] = rows["events"]
    rows["95% interval"] = [ratio_text(r) for r in rows.to_dict("records")]
    data = rows[["Exposure", "Category", "Hazard ratio", "ci_low", "ci_high", "Events", "95% interval"]]
    low = max(0.1, float(data["ci_low"].min()) * 0.8)
    high = min(20.0, float(data["ci_high"].max()) * 1.25)
    scale = alt.Scale(type="log", domain=[min(low, 0.5), max(high, 2.0)])
    title = f"Hazard ratio of a {OUTCOME_WORDS[analysis.outcome][1]} (log scale), 95% interval"
    base = alt.Chart().encode(y=alt.Y("Category:N", sort=None, title=None))
    bars = base.mark_rule(strokeWidth=2, color="#4a6fa5").encode(
        x=alt.X("ci_low:Q", scale=scale, title=title), x2="ci_high:Q")
    points = base.mark_point(filled=True, size=70, color="#1f3b63").encode(
        x=alt.X("Hazard ratio:Q", scale=scale, title=title), tooltip=["Category", "95% interval", "Events"])
    one = alt.Chart().mark_rule(strokeDash=[4, 3], color="#888").encode(x=alt.datum(1.0))
    chart = alt.layer(bars, points, one, data=data).properties(width=430).facet(
        row=alt.Row("Exposure:N", sort=list(titles.values()), title=None, header=alt.Header(labelAngle=0,
                                                                                             labelAlign="left")))
    return chart.resolve_scale(y="independent").to_dict()


def report_doc(analysis: Analysis):
    """The report as the physio report's blocks (:mod:`loadwatch.dashboard.report.physio`), so it shares its HTML."""
    from loadwatch.dashboard.report.physio import Block, Chart, PhysioReport, Table
    from loadwatch.metrics.thresholds import NOT_MEDICAL_ADVICE

    c = analysis.counts()
    words = analysis.words
    blocks = [Block("table", table=Table(["", ""], [
        ["Outcome", f"{words}: {OUTCOME_WORDS[analysis.outcome][2]}"],
        ["Runners", f"{c['runners']:,} ({c['runners_with_events']:,} with at least one {OUTCOME_WORDS[analysis.outcome][1]})"],
        ["Runs", f"{c['runs']:,} on {c['sessions']:,} days with a run"],
        ["Days followed", f"{c['days_followed']:,} (at most {analysis.follow_up_days} after each run day)"],
        [words.capitalize(), f"{c['events']:,}"],
    ], [1, 4]))]
    spec = forest_spec(analysis)
    if spec is not None:
        blocks.append(Block("chart", chart=Chart(
            "Which runs come before " + words,
            "Each dot is a hazard ratio against the reference category of its exposure; the line is its 95% "
            "interval. An interval that crosses the dashed line at 1 cannot tell a higher risk from none.", 120,
            plot=None, make_spec=lambda: spec)))  # HTML only: no PDF plot
    for key, e in ex.EXPOSURES.items():
        blocks.append(Block("heading", text=e.title))
        rows = analysis.results[analysis.results["exposure"] == key]
        blocks.append(Block("table", table=Table(
            ["Category", "Hazard ratio (95% interval)", "Runners", "Runs", "Days with a run", words.capitalize()],
            [[r["label"], ratio_text(r), f"{r['runners']:,}", f"{r['runs']:,}", f"{r['sessions']:,}",
              f"{r['events']:,}"] for r in rows.to_dict("records")], [3, 2.4, 1, 1, 1, 1], "LLRRRR")))
        said = category_notes(analysis, key)
        if said:
            blocks.append(Block("bullets", items=said))
        blocks.append(Block("small", text=f"Evidence behind the categories: {e.evidence.line()}"))
    blocks.append(Block("heading", text="Definitions"))
    blocks.append(Block("bullets", items=definitions(analysis)))
    blocks.append(Block("heading", text="Caveats"))
    blocks.append(Block("bullets", items=list(CAVEATS)))
    blocks.append(Block("disclaimer", text=NOT_MEDICAL_ADVICE))
    return PhysioReport(f"Which runs come before {words}: {fmt.count(c['runners'], 'runner')}",
                        f"{c['events']:,} {words}", False, blocks)


def to_html(analysis: Analysis) -> str:
    from loadwatch.dashboard.report.physio import to_html as doc_html

    return doc_html(report_doc(analysis))


def write_html(analysis: Analysis, path: str | os.PathLike) -> Path:
    from loadwatch.ingest.private_files import write_private

    return write_private(path, to_html(analysis))  # the cohort's health data: 0600
