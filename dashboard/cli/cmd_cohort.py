"""``loadwatch cohort import|status``: many runners on Dask distributed (the ``cohort`` extra).

Thin faces over :mod:`loadwatch.dashboard.pipelines.cohort_engine`.  Dask, pyarrow and rich are imported only when a cohort command
runs, so the single-runner commands never need them.
"""

from __future__ import annotations

import json
import sys

from loadwatch.dashboard.cli.argtypes import add_command, arg, command_group, json_flag, one_of, positive_int
from loadwatch.dashboard.cli.argtypes import iso_date as _date
from loadwatch.dashboard.pipelines.cohort_table import status_cells, status_records  # noqa: F401  (the table's words)
from loadwatch.metrics import fmt
from loadwatch.metrics.exposure import EXPOSURES, OUTCOMES

_positive_int = positive_int("workers")

EXTRA_HINT = "the cohort commands need the cohort extra: pip install 'loadwatch[cohort]' (or -e '.[cohort]')"


def _cluster_options(folders: str):
    """``--workers N | --scheduler ADDRESS``: where the Dask tasks run (one or the other)."""
    return one_of(
        arg("--workers", metavar="N", type=_positive_int, default=None,
            help="local Dask worker processes (default: one per core)"),
        arg("--scheduler", metavar="ADDRESS", default=None,
            help=f"an existing Dask cluster, e.g. tcp://host:8786 ({folders} must be on a file "
                 "system every worker sees at the same path)"),
    )


def _as_of(help_text: str):
    return arg("--as-of", metavar="YYYY-MM-DD", type=_date, default=None, help=help_text)


def register(sub, add_db_option) -> None:
    csub = command_group(sub, "cohort", dest="cohort_command",
                         help="many runners at once, on Dask (a coach's or clinic's overview)",
                         description="Import and watch a cohort: one folder (or export archive) per runner, "
                                     "named by the runner's id.")
    add_command(csub, "import", cohort_import, (
        arg("root", metavar="ROOT", help="folder with one folder or archive per runner"),
        arg("--out", metavar="DIR", required=True, help="where the stores and Parquet tables go"),
        _cluster_options("ROOT and DIR"),
        _as_of("compute every runner's report as of this day (default: today)"),
        arg("--timeout", type=float, default=60.0, metavar="SECONDS",
            help="give up on a file that takes longer than this to read (default 60)")),
        help="import every runner's files and write the cohort tables (Parquet)",
        description="Import every runner under ROOT (its watch files and archives, optionally pain.csv in the "
                    "columns of `loadwatch pain export`, settings.json with the keys of `loadwatch settings` and "
                    "ostrc.csv with the columns week_start and substantial (yes/no)) "
                    "into DIR/runners/<id>.sqlite3 and write weeks, runs, alerts, phases, pain, ostrc, files and status "
                    "tables as Parquet in DIR. A re-run only decodes new or changed files.")
    add_command(csub, "status", cohort_status_cmd, (
        arg("dir", metavar="DIR", help="the --out folder of `loadwatch cohort import`"),
        _as_of("as of this day (default: today)"),
        json_flag("print JSON (always metric)")),
        help="one row per runner, most urgent first",
        description="One row per runner, sorted by concern: emergency, see a clinician, "
                    "stopped running, cut back, recent spike, caution, rebuilding, normal.")
    add_command(csub, "analyse", cohort_analyse_cmd, (
        arg("dir", metavar="DIR", help="the --out folder of `loadwatch cohort import` (or of `cohort export`)"),
        arg("--outcome", choices=OUTCOMES, default="flare-up",
            help="flare-up (pain above 5 or the start of a stop; default), stop, or substantial (an OSTRC "
                 "substantial-problem week, where runners logged it)"),
        arg("--out", metavar="REPORT.html", default=None, help="write a self-contained HTML report"),
        json_flag("print every figure as JSON"),
        _cluster_options("DIR")),
        help="which runs come before flare-ups in the cohort: hazard ratios with 95%% intervals",
        description="A research view of the cohort: every run's spike against the 30-day longest (Frandsen's "
                    "categories), the week-to-week change and the acute:chronic ratio, and a Cox model per exposure "
                    "of the outcome in the days after each run (robust errors clustered by runner).")
    add_command(csub, "export", cohort_export_cmd, (
        arg("dir", metavar="DIR", help="the --out folder of `loadwatch cohort import`"),
        arg("--out", metavar="DIR", required=True, help="where the shared tables go"),
        arg("--shift-dates", action="store_true", help="shift every date of a runner by the same random "
                                                       "number of weeks (a different one per runner)")),
        help="the cohort's tables for sharing: no names, no notes, dates shifted per runner if asked",
        description="Write runs, weeks, phases, pain and ostrc (Parquet) for sharing: runners renamed runner-001..., run "
                    "ids renumbered, no notes, no file names, no stores. --shift-dates moves each runner's dates by "
                    "a random whole number of weeks, keeping every interval. `cohort analyse` reads the result.")


def _engine():
    try:
        import distributed  # noqa: F401
        import pyarrow  # noqa: F401
        import rich  # noqa: F401

        from loadwatch.dashboard.pipelines import cohort_engine as engine
    except ImportError as exc:
        raise ValueError(f"{EXTRA_HINT} ({exc})") from None
    return engine


def cohort_import(args) -> int:
    if not args.timeout > 0:
        print("loadwatch cohort import: --timeout must be above 0", file=sys.stderr)
        return 2
    engine = _engine()

    def progress(done, total, result):
        what = "unchanged" if result.skipped else f"{fmt.count(result.decoded, 'file')} decoded"
        print(fmt.terminal_text(f"[{done}/{total}] {result.runner}: {what}"), file=sys.stderr)

    summary = engine.import_cohort(args.root, args.out, workers=args.workers, scheduler=args.scheduler,
                                   as_of=args.as_of, progress=progress, timeout_s=args.timeout)
    files = engine.read_table(args.out, "files")
    failed = files[files["status"] == "failed"] if len(files) else files
    print(f"{fmt.count(summary.runners, 'runner')} on {fmt.count(summary.workers, 'Dask worker')} in "
          f"{summary.seconds:.1f} s: {summary.processed:,} updated, {summary.unchanged:,} unchanged; "
          f"{fmt.count(summary.decoded, 'file')} decoded.")
    if len(failed):
        print(f"{fmt.count(len(failed), 'file')} could not be read:")
        for _, row in failed.iterrows():
            print(fmt.terminal_text(f"  {row['runner']}/{row['name']}: {row['reason']}"))
    print(fmt.terminal_text(f"Tables in {args.out}: weeks, runs, alerts, phases, pain, ostrc, files, status "
                            f"(.parquet). See them with: loadwatch cohort status {args.out}"))
    return 1 if len(failed) else 0


def cohort_status_cmd(args) -> int:
    engine = _engine()
    frame = engine.cohort_status(args.dir, as_of=args.as_of)
    records = status_records(frame)
    if args.json:
        print(json.dumps(records, indent=2, allow_nan=False))
        return 0
    from loadwatch.dashboard.cli import term

    as_of = records[0]["as_of"] if records else None
    rows = [status_cells(r) for r in records]
    headers = list(rows[0] if rows else status_cells({"runner": ""}))
    print(f"{len(records)} runners as of {fmt.day(as_of)}, most urgent first")
    # piped or redirected: wide enough that no cell wraps (the phase words and red-flag symptoms are long)
    tty = sys.stdout.isatty()
    print(term.table(headers, [list(c.values()) for c in rows], width=None if tty else 280, wrap=tty))
    files = engine.read_table(args.dir, "files")
    broken = sorted(set(files.loc[files["name"].eq("(runner)") & files["status"].eq("failed"), "runner"])) \
        if len(files) else []
    if broken:
        print(f"Could not be processed in the last import (rows above are older or missing): "
              f"{', '.join(map(str, broken))}. The reason is in files.parquet.")
    print("Distances in each runner's own units. " + _disclaimer())
    return 0


def cohort_analyse_cmd(args) -> int:
    _engine()
    try:
        from loadwatch.dashboard.report import cohort_analysis as analysis_mod
    except ImportError as exc:
        raise ValueError(f"{EXTRA_HINT} ({exc})") from None
    result = analysis_mod.analyse(args.dir, args.outcome, workers=args.workers, scheduler=args.scheduler)
    if args.out:
        analysis_mod.write_html(result, args.out)
    if args.json:
        print(json.dumps(analysis_mod.to_json(result), indent=2, allow_nan=False))
        return 0
    from loadwatch.dashboard.cli import term

    print(analysis_mod.headline(result))
    for key, exposure in EXPOSURES.items():
        rows = result.results[result.results["exposure"] == key]
        print()
        print(exposure.title)
        print(term.table(["Category", "Hazard ratio (95% interval)", "Runners", "Runs", result.words.capitalize()],
                         [[r["label"], analysis_mod.ratio_text(r), f"{r['runners']:,}", f"{r['runs']:,}",
                           f"{r['events']:,}"] for r in rows.to_dict("records")], right=(2, 3, 4), width=None
                         if sys.stdout.isatty() else 200))
        for note in analysis_mod.category_notes(result, key):
            print(f"  {note}")
    print()
    print(f"Built on {fmt.count(result.workers, 'Dask worker')} in {result.seconds:.1f} s. An association in these "
          "runners, not proof of cause." + (f" Report: {args.out}" if args.out else ""))
    return 0


def cohort_export_cmd(args) -> int:
    _engine()
    from loadwatch.dashboard.pipelines.cohort_export import export_cohort

    done = export_cohort(args.dir, args.out, shift_dates=args.shift_dates)
    tables = ", ".join(f"{name} ({fmt.count(n, 'row')})" for name, n in done["tables"].items())
    print(f"{fmt.count(done['runners'], 'runner')} exported to {args.out}: {tables}. Runners renamed, no notes"
          + ("; each runner's dates shifted by whole weeks." if done["shifted"] else "; dates as they were."))
    return 0


def _disclaimer() -> str:
    from loadwatch.metrics.thresholds import NOT_MEDICAL_ADVICE

    return NOT_MEDICAL_ADVICE
