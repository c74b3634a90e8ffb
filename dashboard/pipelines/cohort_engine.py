"""Many runners at once: ``loadwatch cohort import|status`` on Dask distributed, and the Parquet tables it
writes.

A cohort is a folder holding one folder (or one export archive) per runner.  Each runner is imported and
measured by the very functions the single-runner product uses - :func:`loadwatch.ingest.importer.import_paths`
into the runner's own store, then :func:`loadwatch.metrics.report.build_report` - so a clinic's numbers are the
runner's numbers.  Dask only decides where each runner runs.  Like the CLI, the cohort is a face over
ingest and metrics, so it lives in ``dashboard/``:

* :mod:`loadwatch.dashboard.pipelines.cohort_runner` - one runner's work (no Dask): discover, import, report, flatten to table
  rows, the status row and its concern order.
* :mod:`loadwatch.dashboard.pipelines.cohort_engine` (this module) - the cohort on a Dask cluster and its tables.
* :mod:`loadwatch.dashboard.cli.cmd_cohort` and :mod:`loadwatch.dashboard.app.cohort_page` - the commands and the overview page.

Dask and pyarrow are the ``cohort`` extra (``pip install -e '.[cohort]'``): they are imported inside
the functions that need them, so the single-runner product never loads them.


:func:`import_cohort` sends one task per runner (:func:`loadwatch.dashboard.pipelines.cohort_runner.process_runner`) to a Dask cluster:
a :class:`distributed.LocalCluster` of ``workers`` processes with one thread each by default, or an
existing cluster at ``scheduler`` (``tcp://host:8786``).  The cohort folder and the output folder must
then be reachable at the same paths from every worker (a shared file system), and loadwatch must be
installed on the workers.

Outputs in ``out``: ``weeks.parquet``, ``runs.parquet``, ``alerts.parquet``, ``phases.parquet``, ``pain.parquet``,
``ostrc.parquet`` (the runners' ``ostrc.csv``, where they logged it), ``files.parquet`` and ``status.parquet`` (each with a ``runner`` column), written whole and replaced
atomically; the runners' stores in ``out/runners/``.  A re-run sends only the runners whose files
changed (the others keep their rows).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from loadwatch.dashboard.pipelines.cohort_runner import (
    ALERT_COLUMNS,
    DEFAULT_TIMEOUT_S,
    FILE_COLUMNS,
    OSTRC_COLUMNS,
    PAIN_COLUMNS,
    PHASE_COLUMNS,
    STATUS_COLUMNS,
    RunnerResult,
    discover,
    process_runner,
    runner_tables,
    sort_by_concern,
    source_size,
    store_path,
    warm_up,
)

TABLES: tuple[str, ...] = ("weeks", "runs", "alerts", "phases", "pain", "ostrc", "files", "status")
_EMPTY_COLUMNS = {"weeks": ("runner", "week_start"), "runs": ("runner", "id"), "alerts": ALERT_COLUMNS,
                  "phases": PHASE_COLUMNS, "pain": PAIN_COLUMNS, "ostrc": OSTRC_COLUMNS, "files": FILE_COLUMNS,
                  "status": STATUS_COLUMNS}

#: Dask settings for the local cluster loadwatch starts (an existing cluster keeps its own): a batch of
#: runners needs no statistical profiler (it samples every task thread every 10 ms) and no 20 ms event-loop
#: watchdog or 100-500 ms resource polling; measured on 40 runners x 100 files with 2 workers, the client
#: and scheduler process used 0.7 s of CPU instead of 1.2-1.3 s, CPU the two workers share on 2 cores.
LOCAL_CLUSTER_CONFIG: dict = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.system-monitor.interval": "2s",
    "distributed.worker.memory.monitor-interval": "1s",
}

Progress = Callable[[int, int, RunnerResult], None]


@dataclass
class CohortSummary:
    """What :func:`import_cohort` did: runners processed and unchanged, files decoded, failures
    (``(runner, file name, reason)``), seconds."""

    runners: int = 0
    processed: int = 0
    unchanged: int = 0
    decoded: int = 0
    failed: list[tuple[str, str, str]] = field(default_factory=list)
    seconds: float = 0.0
    workers: int = 0


def table_path(out: str | os.PathLike, table: str) -> Path:
    return Path(out) / f"{table}.parquet"


def read_table(out: str | os.PathLike, table: str) -> pd.DataFrame:
    """One cohort table (an empty frame with its columns when it has not been written yet)."""
    path = table_path(out, table)
    if not path.is_file():
        return pd.DataFrame(columns=list(_EMPTY_COLUMNS[table]))
    return pd.read_parquet(path, engine="pyarrow")


def _write_table(out: Path, table: str, frame: pd.DataFrame) -> None:
    import io

    from loadwatch.ingest.private_files import write_private

    if frame.empty and len(frame.columns) == 0:
        frame = pd.DataFrame(columns=list(_EMPTY_COLUMNS[table]))
    if frame.empty:
        # a column with no values would be written as Arrow's null type, which no filter on it can match
        # (`runner in [...]` raised ArrowTypeError in `cohort analyse` of a cohort without pain): text
        frame = frame.astype({c: "string" for c in frame.columns if frame[c].dtype == object})
    buf = io.BytesIO()
    frame.reset_index(drop=True).to_parquet(buf, engine="pyarrow", index=False)
    write_private(table_path(out, table), buf.getvalue())  # every runner's health data: 0600, atomic


def start_client(workers: int | None, scheduler: str | None):
    """A Dask client and the cluster it owns (None for an existing cluster)."""
    import dask
    from distributed import Client, LocalCluster

    if scheduler:
        return Client(scheduler), None
    # the statistical profiler samples every task thread every 10 ms: CPU the decoders can use
    with dask.config.set(LOCAL_CLUSTER_CONFIG):
        cluster = LocalCluster(n_workers=max(1, int(workers or os.cpu_count() or 1)), threads_per_worker=1,
                               processes=True, host="127.0.0.1", dashboard_address=None,
                               silence_logs=logging.ERROR)
    return Client(cluster), cluster


def import_cohort(root: str | os.PathLike, out: str | os.PathLike, *, workers: int | None = None,
                  scheduler: str | None = None, as_of=None, progress: Progress | None = None,
                  client=None, timeout_s: float = DEFAULT_TIMEOUT_S) -> CohortSummary:
    """Import every runner under ``root`` into ``out`` on Dask and write the cohort tables.

    ``workers``: local worker processes (default: one per core); ``scheduler``: address of an existing
    Dask scheduler instead; ``client``: an existing :class:`distributed.Client` (used as is, not
    closed).  ``as_of``: the reports' day (default today in each runner's time zone).
    ``progress(done, total, result)`` after each runner.  ``timeout_s``: per-file reading limit [s]; a
    file that breaks it (or the memory limit) fails with the reason and every other runner's rows are
    written."""
    t0 = time.perf_counter()
    out = _private_out(out)
    # the biggest runners first: a worker is never left with one big runner at the end
    sources = sorted(discover(root), key=source_size, reverse=True)
    old = {t: read_table(out, t) for t in TABLES}
    as_of = None if as_of is None else str(pd.Timestamp(as_of).date())
    have = _runners_with_rows(out, old)
    jobs = [(s, s.runner in have) for s in sources]
    results, n_workers = _run_all(jobs, out, as_of, timeout_s, progress, client=client, workers=workers,
                                  scheduler=scheduler)
    _merge_tables(out, old, {s.runner for s in sources}, results)
    return _summary(results, len(sources), n_workers, time.perf_counter() - t0)


def _private_out(out: str | os.PathLike) -> Path:
    """The output folder, absolute (the workers may start elsewhere), with its ``runners/`` folder 0700."""
    from loadwatch.ingest.private_files import FOLDER_MODE, make_private_dirs

    out = Path(out).resolve()
    make_private_dirs(out / "runners")  # the folders it creates are 0700
    os.chmod(out / "runners", FOLDER_MODE)
    return out


def _runners_with_rows(out: Path, old: dict[str, pd.DataFrame]) -> set:
    """The runners whose rows the tables already hold (an unchanged one is skipped); none when the tables
    were written before the pain and ostrc tables existed (every runner again)."""
    if not table_path(out, "ostrc").is_file():
        return set()
    return set(old["status"]["runner"]) if len(old["status"]) else set()


def _run_all(jobs: list, out: Path, as_of, timeout_s: float, progress: Progress | None, *, client,
             workers: int | None, scheduler: str | None) -> tuple[list[RunnerResult], int]:
    """One :func:`process_runner` task per ``(source, have_rows)`` on the cluster (``client``, else a
    local one or the one at ``scheduler``, closed after); (the results as they come, the worker count)."""
    from distributed import as_completed

    own_client, own_cluster = client is None, None
    if client is None:
        client, own_cluster = start_client(workers, scheduler)
        client.run(warm_up)
    n_workers = len(client.scheduler_info().get("workers", {}))
    results: list[RunnerResult] = []
    try:
        sources = [source for source, _have in jobs]
        n = len(jobs)
        futures = client.map(process_runner, sources, [str(out)] * n, [as_of] * n,
                             [have for _source, have in jobs], [timeout_s] * n, pure=False,
                             key=[f"loadwatch-runner-{s.runner}-{time.time_ns()}" for s in sources])
        by_key = {f.key: s for f, s in zip(futures, sources, strict=True)}
        for done, future in enumerate(as_completed(futures), start=1):
            try:
                result = future.result()
            except Exception as exc:  # noqa: BLE001 - one runner's crash never stops the cohort
                result = _crashed(by_key[future.key].runner, exc)
            results.append(result)
            if progress is not None:
                progress(done, n, result)
    finally:
        if own_client:
            client.close()
        if own_cluster is not None:
            own_cluster.close()
    return results, n_workers


def _crashed(runner: str, exc: Exception) -> RunnerResult:
    """A runner whose task died: a failed ``(runner)`` row with the reason; its old rows are kept."""
    result = RunnerResult(runner, crashed=True,
                          failed=[("(runner)", f"could not be processed ({type(exc).__name__}: {exc}); "
                                               "its rows are from the last run that worked")])
    result.tables["files"] = pd.DataFrame(
        [{"runner": runner, "name": "(runner)", "status": "failed", "reason": result.failed[0][1],
          "activity_id": None}], columns=list(FILE_COLUMNS))
    return result


def _merge_tables(out: Path, old: dict[str, pd.DataFrame], present: set, results: list[RunnerResult]) -> None:
    """Each table written whole: the old rows of runners still present and not processed again, then
    this run's rows; status most urgent first, the others by runner."""
    replaced = {r.runner for r in results if not r.skipped and not r.crashed}
    for table in TABLES:
        parts = []
        frame = old[table]
        if len(frame):
            keep = frame["runner"].isin(present - replaced)
            if table == "files":  # a crashed runner's old "(runner)" line gives way to this run's
                keep &= ~frame["name"].eq("(runner)")
            parts.append(frame[keep])
        parts += [r.tables[table] for r in results if not r.skipped and table in r.tables]
        parts = [p for p in parts if len(p)]
        merged = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=list(_EMPTY_COLUMNS[table]))
        if table == "status":
            merged = sort_by_concern(merged)
        elif "runner" in merged:
            merged = merged.sort_values("runner", kind="stable")
        _write_table(out, table, merged)


def _summary(results: list[RunnerResult], runners: int, workers: int, seconds: float) -> CohortSummary:
    processed = sum(1 for r in results if not r.skipped)  # replaced and crashed
    return CohortSummary(
        runners=runners, workers=workers, processed=processed,
        unchanged=sum(1 for r in results if r.skipped),
        decoded=sum(r.decoded for r in results),
        failed=[(r.runner, n, why) for r in sorted(results, key=lambda r: r.runner) for n, why in r.failed],
        seconds=seconds)


def cohort_status(out: str | os.PathLike, as_of=None) -> pd.DataFrame:
    """One row per runner (:data:`loadwatch.dashboard.pipelines.cohort_runner.STATUS_COLUMNS`), most urgent first.

    The rows ``import`` wrote are used when they are for the asked day (default: today in each
    runner's time zone); otherwise each runner's store is opened read-only and its report recomputed
    for that day."""
    from loadwatch.ingest.store import Store
    from loadwatch.metrics.report import today_local

    out = Path(out)
    if not table_path(out, "status").is_file():
        raise ValueError(f"{out}: no cohort here (run `loadwatch cohort import ROOT --out {out}` first)")
    stored = read_table(out, "status")
    rows = []
    for _, row in stored.iterrows():
        runner = row["runner"]
        path = store_path(out, runner)
        if not path.is_file():
            continue
        with Store(path, read_only=True) as store:
            wanted = (str(pd.Timestamp(as_of).date()) if as_of is not None
                      else str(today_local(store.settings().timezone).date()))
            if str(row["as_of"]) == wanted:
                rows.append(row.to_dict())
            else:
                rows.append(runner_tables(store, runner, wanted)["status"].iloc[0].to_dict())
    frame = pd.DataFrame(rows, columns=list(STATUS_COLUMNS))
    return sort_by_concern(frame)
