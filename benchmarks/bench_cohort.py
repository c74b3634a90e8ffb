"""Cohort benchmark: many runners imported on Dask with 1 and with 2 workers, and a projection.

Generates a cohort of one-hour 1 Hz runs (FIT, like ``bench_import.py``) - by default 200 runners x 100
activities = 20,000 files - then, in one run:

1. ``loadwatch cohort import`` (``loadwatch.dashboard.pipelines.cohort_engine.import_cohort``) on a LocalCluster of 1 worker, into a
   fresh output folder;
2. the same with 2 workers (each worker one process with one thread);
3. a re-run on the 2-worker output (nothing changed: no file is decoded);
4. ``loadwatch cohort analyse`` (``loadwatch.dashboard.report.cohort_analysis.analyse``, issue 25) on that output with the
   same 2 workers: the sessions built on Dask, then the three Cox models; it prints the time of both parts
   (no goal: issue 25 asks for the figure).

With ``--analyse-only`` each runner also gets a ``pain.csv`` of a few flare-ups (pain 7/10 on the day after
some runs, drawn with a fixed seed), the cohort is imported once with 2 workers, and the analysis is timed
on 1 and on 2 workers, so the Cox models have events to fit.

and prints files/s, the peak resident memory of each worker (sampled every 50 ms), the 1 -> 2 worker
scaling (goal >= 1.8x) and a projection for the 588,071-session cohort of Frandsen et al. 2025 on 2, 16
and 64 workers, with the assumptions it makes.

Every runner's files are hard links to one set of generated files (the runners' stores are separate, so
each runner decodes its own copies: the work is real, the disk use is one runner's).

Usage::

    .venv/bin/python benchmarks/bench_cohort.py            # 200 runners x 100 one-hour runs (20,000 files)
    .venv/bin/python benchmarks/bench_cohort.py --small    # 24 runners x 25 (600 files): a shared machine
    .venv/bin/python benchmarks/bench_cohort.py --analyse-only   # issue 25: analysis of 200 x 100 with flare-ups
    .venv/bin/python benchmarks/bench_cohort.py --small --fresh-decoders   # baseline: a decoding process per runner

Each Dask worker decodes its runners' files in one decoding process beside it, kept between runners by the
importer (``loadwatch.ingest.importer.POOL_MAX``); the figures count that process's CPU time with its worker's, and say
how many decoding processes each worker started.  ``--fresh-decoders`` keeps none, so every runner with new
files starts its own (about half a second of CPU each): the baseline the kept process is measured against.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))

GOAL_SCALING = 1.8
FRANDSEN_SESSIONS = 588_071
FRANDSEN_RUNNERS = 5_205
PROJECT_WORKERS = (2, 16, 64)


PAIN_HEADER = "id,at_local,score,timing,location,activity_id,symptoms,note\n"
#: Flare-ups per runner in --analyse-only (pain 7/10 the day after a run), and the seed that places them.
FLAREUPS_PER_RUNNER = 3
PAIN_SEED = 25


def run_starts(activities: int) -> list[datetime]:
    start = datetime(2024, 1, 1, 7, tzinfo=UTC)
    return [start + timedelta(hours=31 * i) for i in range(activities)]


def write_pain(folder: Path, activities: int, rng) -> None:
    """A pain.csv of :data:`FLAREUPS_PER_RUNNER` entries of 7/10 the evening after randomly chosen runs, each
    followed by two check-ins of 1/10 on the next mornings (so the runner leaves ``stop`` and is at risk
    again)."""
    starts = run_starts(activities)
    picks = sorted(rng.choice(len(starts), size=min(FLAREUPS_PER_RUNNER, len(starts)), replace=False))
    rows = []
    for i in picks:
        day = starts[i] + timedelta(days=1)
        rows.append(f",{day.date().isoformat()}T19:00,7,rest_of_day,lower_back,,,")
        rows += [f",{(day + timedelta(days=k)).date().isoformat()}T08:00,1,next_morning,lower_back,,,"
                 for k in (1, 2)]
    (folder / "pain.csv").write_text(PAIN_HEADER + "\n".join(rows) + "\n", encoding="utf-8")


def generate_cohort(root: Path, runners: int, activities: int, *, pain: bool = False) -> int:
    """``runners`` folders of ``activities`` one-hour 1 Hz FIT runs each (hard links to one set), with a
    pain.csv of a few flare-ups each when ``pain``; returns the bytes of one runner's files."""
    import numpy as np

    from loadwatch.ingest.synth import SynthRun, fit_bytes

    pool = root.parent / "pool"
    pool.mkdir(parents=True)
    rng = np.random.default_rng(PAIN_SEED)
    size = 0
    for i, start in enumerate(run_starts(activities)):
        run = SynthRun(start_utc=start, duration_s=3600,
                       distance_m=9000 + 3000 * ((i * 7) % 5) / 4,
                       sub_sport=("street", "trail", "generic", "treadmill")[i % 4], seed=i,
                       with_dynamics=(i % 3 == 0))
        data = fit_bytes(run, big_endian=(i % 5 == 0))
        (pool / f"run-{i:05d}.fit").write_bytes(data)
        size += len(data)
    for r in range(runners):
        folder = root / f"runner-{r:04d}"
        folder.mkdir(parents=True)
        for f in pool.iterdir():
            try:
                os.link(f, folder / f.name)
            except OSError:  # a file system without hard links
                shutil.copyfile(f, folder / f.name)
        if pain:
            write_pain(folder, activities, rng)
    return size


class WorkerMemory:
    """Peak resident memory of each Dask worker process [MB], sampled every ``interval_s``; the CPU time of
    each worker and of the decoding processes it starts (they do the decoding: a worker's own CPU time
    leaves it out) [s]; and how many decoding processes each worker started (those seen by the sampler)."""

    def __init__(self, pids: list[int], interval_s: float = 0.05):
        self.procs = [psutil.Process(p) for p in pids]
        self.peak = dict.fromkeys(pids, 0)
        self.children: dict[int, set[int]] = {p: set() for p in pids}
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            for p in self.procs:
                try:
                    self.peak[p.pid] = max(self.peak[p.pid], p.memory_info().rss)
                    self.children[p.pid].update(c.pid for c in p.children())
                except psutil.Error:
                    pass
            time.sleep(self.interval_s)

    def _cpu(self) -> list[float]:
        """Per worker: its own CPU time, its reaped children's (decoders that were stopped) and its live
        children's (a decoder kept between runners)."""
        out = []
        for p in self.procs:
            try:
                t = p.cpu_times()
                live = 0.0
                for c in p.children():
                    try:
                        ct = c.cpu_times()
                        live += ct.user + ct.system
                    except psutil.Error:
                        pass
                out.append(t.user + t.system + t.children_user + t.children_system + live)
            except psutil.Error:
                out.append(float("nan"))
        return out

    def __enter__(self):
        self._cpu0 = self._cpu()
        self._before = {p.pid: {c.pid for c in p.children()} for p in self.procs}
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.cpu_s = [b - a for a, b in zip(self._cpu0, self._cpu(), strict=True)]

    @property
    def peak_mb(self) -> list[float]:
        return [v / 2**20 for v in self.peak.values()]

    @property
    def decoders_started(self) -> list[int]:
        """Decoding processes each worker started during the run (one kept from before is not counted)."""
        return [len(self.children[p.pid] - self._before[p.pid]) for p in self.procs]


def fresh_decoders() -> None:
    """In a worker (``client.run``): no decoding process is kept between imports, so each runner with new
    files starts its own, as the cohort did before the importer kept them (the baseline of
    ``--fresh-decoders``)."""
    from loadwatch.ingest import importer

    importer.POOL_MAX = 0


def run_once(root: Path, out: Path, workers: int, fresh: bool = False) -> dict:
    """One cohort import on a fresh LocalCluster of ``workers``: seconds (cluster start-up excluded),
    files decoded, per-worker peak memory."""
    import dask
    from distributed import Client, LocalCluster

    from loadwatch.dashboard.pipelines.cohort_engine import LOCAL_CLUSTER_CONFIG, import_cohort

    t0 = time.perf_counter()
    with dask.config.set(LOCAL_CLUSTER_CONFIG):  # the cluster `loadwatch cohort import --workers N` starts
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                               dashboard_address=None, silence_logs=logging.ERROR)
    client = Client(cluster)
    from loadwatch.dashboard.pipelines.cohort_runner import warm_up

    client.run(warm_up)  # module imports are start-up, not per-file work
    if fresh:
        client.run(fresh_decoders)
    startup_s = time.perf_counter() - t0
    try:
        pids = list(client.run(os.getpid).values())
        with WorkerMemory(pids) as mem:
            summary = import_cohort(root, out, client=client)
        return {"seconds": summary.seconds, "decoded": summary.decoded, "startup_s": startup_s,
                "peak_mb": mem.peak_mb, "cpu_s": mem.cpu_s, "decoders": mem.decoders_started,
                "failed": len(summary.failed), "runners": summary.runners,
                "unchanged": summary.unchanged, "client": (client, cluster)}
    except BaseException:
        client.close()
        cluster.close()
        raise


def time_analysis(out: Path, client) -> dict:
    """``cohort analyse`` on ``out`` with an existing client: seconds in all and building the sessions."""
    import lifelines  # noqa: F401 - its import (about 2 s) is start-up, not analysis

    from loadwatch.dashboard.report.cohort_analysis import analyse, warm_up

    client.run(warm_up)
    result = analyse(out, client=client)
    counts = result.counts()
    fitted = int((result.results["hazard_ratio"].notna() & ~result.results["reference"]).sum())
    return {"seconds": result.seconds, "build_s": result.build_seconds, "fit_s": result.seconds - result.build_seconds,
            "fitted": fitted, **counts}


def print_analysis(label: str, res: dict) -> None:
    print(f"{label}: {res['seconds']:6.2f} s  (sessions built on Dask {res['build_s']:.2f} s, Cox models "
          f"{res['fit_s']:.2f} s; {res['runners']:,} runners, {res['runs']:,} runs, {res['sessions']:,} sessions, "
          f"{res['events']:,} flare-ups, {res['fitted']} ratios estimated)")


def analyse_only(args, tmp: Path) -> int:
    """Issue 25: the analysis of a cohort with flare-ups, on 1 and 2 workers."""
    root = tmp / "cohort"
    t0 = time.perf_counter()
    generate_cohort(root, args.runners, args.activities, pain=True)
    print(f"cohort: {args.runners} runners x {args.activities} one-hour 1 Hz FIT runs and a pain.csv of "
          f"{FLAREUPS_PER_RUNNER} flare-ups each (generated in {time.perf_counter() - t0:.1f} s) on {os.cpu_count()} "
          f"cores, load average {os.getloadavg()[0]:.1f}")
    res = run_once(root, tmp / "out", 2)
    client, cluster = res.pop("client")
    print(f"import on 2 workers: {res['seconds']:.1f} s ({res['decoded']:,} decoded, {res['failed']} failed)")
    try:
        two = time_analysis(tmp / "out", client)
    finally:
        client.close()
        cluster.close()
    import dask
    from distributed import Client, LocalCluster

    from loadwatch.dashboard.pipelines.cohort_engine import LOCAL_CLUSTER_CONFIG

    with dask.config.set(LOCAL_CLUSTER_CONFIG), LocalCluster(
            n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None,
            silence_logs=logging.ERROR) as cluster, Client(cluster) as client:
        one = time_analysis(tmp / "out", client)
    print_analysis("analyse, 1 worker ", one)
    print_analysis("analyse, 2 workers", two)
    print(f"sessions on Dask, 1 -> 2 workers: {one['build_s'] / two['build_s']:.2f}x (the Cox models run in the "
          f"calling process; load average now {os.getloadavg()[0]:.1f})")
    return 0 if two["fitted"] > 0 else 1


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runners", type=int, default=200)
    parser.add_argument("--activities", type=int, default=100, help="one-hour runs per runner")
    parser.add_argument("--small", action="store_true", help="24 runners x 25 runs (600 files)")
    parser.add_argument("--keep", action="store_true", help="keep the generated cohort and outputs")
    parser.add_argument("--fresh-decoders", action="store_true",
                        help="the baseline: a new decoding process for every runner with new files (none kept)")
    parser.add_argument("--analyse-only", action="store_true",
                        help="issue 25: runners with flare-ups, one import on 2 workers, the analysis on 1 and 2")
    args = parser.parse_args(argv)
    if args.small:
        args.runners, args.activities = 24, 25

    tmp = Path(tempfile.mkdtemp(prefix="loadwatch-bench-cohort-"))
    try:
        if args.analyse_only:
            return analyse_only(args, tmp)
        t0 = time.perf_counter()
        root = tmp / "cohort"
        per_runner_bytes = generate_cohort(root, args.runners, args.activities)
        files = args.runners * args.activities
        size_mb = per_runner_bytes * args.runners / 2**20
        print(f"cohort: {args.runners} runners x {args.activities} one-hour 1 Hz FIT runs = {files:,} files, "
              f"{size_mb:,.0f} MB (generated in {time.perf_counter() - t0:.1f} s) on {os.cpu_count()} cores, "
              f"load average {os.getloadavg()[0]:.1f}")

        results = {}
        for workers in (1, 2):
            res = run_once(root, tmp / f"out-{workers}", workers, fresh=args.fresh_decoders)
            results[workers] = res
            peaks = ", ".join(f"{p:.0f}" for p in res["peak_mb"])
            cpus = ", ".join(f"{c:.1f}" for c in res["cpu_s"])
            decoders = ", ".join(str(n) for n in res["decoders"])
            print(f"{workers} worker{'s' if workers > 1 else ' '}: {res['seconds']:6.2f} s  "
                  f"{res['decoded'] / res['seconds']:7.1f} files/s  ({res['decoded']:,} decoded, {res['failed']} failed; "
                  f"cluster start-up {res['startup_s']:.1f} s, not counted)  peak memory per worker: {peaks} MB; "
                  f"CPU per worker (with its decoding processes): {cpus} s; decoding processes started per worker: "
                  f"{decoders} (load average now {os.getloadavg()[0]:.1f})")
            if workers == 2:
                from loadwatch.dashboard.pipelines.cohort_engine import import_cohort

                client, cluster = res["client"]
                again = import_cohort(root, tmp / "out-2", client=client)
                print(f"re-run:    {again.seconds:6.2f} s  ({again.decoded} decoded, {again.unchanged} of "
                      f"{again.runners} runners unchanged)")
                print_analysis("analyse:  ", time_analysis(tmp / "out-2", client))
                print("(no pain is logged in this cohort: no flare-ups, so no model is fitted; --analyse-only times "
                      "the models with flare-ups)")
            client, cluster = res.pop("client")
            client.close()
            cluster.close()

        t1, t2 = results[1]["seconds"], results[2]["seconds"]
        scaling = t1 / t2
        # CPU seconds do not depend on what else the machine runs: the work the 1-worker run did, against
        # the busiest worker of the 2-worker run (the scaling 2 free cores would give)
        cpu1, cpu2 = sum(results[1]["cpu_s"]), max(results[2]["cpu_s"])
        cpu_scaling = cpu1 / cpu2
        per_file_s = cpu1 / files  # one worker's CPU time per file: decode, store, report
        per_worker_rate = 1 / per_file_s
        efficiency = min(cpu_scaling / 2, 1.0)
        print()
        print(f"1 -> 2 workers, wall clock: {scaling:.2f}x  goal >= {GOAL_SCALING}x  ratio {scaling / GOAL_SCALING:.2f} "
              f"of goal ({'met' if scaling >= GOAL_SCALING else 'NOT MET'}; the machine's load average is "
              f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
        print(f"1 -> 2 workers, CPU (1-worker CPU / busiest 2-worker CPU, load-independent): {cpu_scaling:.2f}x  "
              f"({'met' if cpu_scaling >= GOAL_SCALING else 'NOT MET'}); CPU per file {per_file_s * 1000:.1f} ms")
        print()
        print(f"Projection for the {FRANDSEN_SESSIONS:,}-session cohort ({FRANDSEN_RUNNERS:,} runners):")
        for w in PROJECT_WORKERS:
            eff = 1.0 if w == 1 else efficiency
            seconds = FRANDSEN_SESSIONS * per_file_s / (w * eff)
            print(f"  {w:3d} workers: {seconds / 60:7.1f} min  ({w * eff * per_worker_rate:,.0f} files/s)")
        print("Assumptions: every session is a one-hour 1 Hz FIT like these; one worker per free physical core at "
              f"{per_worker_rate:.0f} files/s (the CPU time per file measured here with 1 worker: decode, store "
              f"writes and reports); the 2-worker CPU balance measured here ({efficiency:.0%}) holds at 16 and 64 "
              "workers (one task "
              f"per runner: {FRANDSEN_RUNNERS:,} tasks keep 64 workers busy, and the scheduler's cost per task "
              "is milliseconds); the cohort and output folders sit on storage that serves "
              f"{64 * per_worker_rate * per_runner_bytes / args.activities / 2**20:,.0f} MB/s to 64 workers; "
              "cluster start-up is not counted.")
        return 0 if max(scaling, cpu_scaling) >= GOAL_SCALING and all(r["failed"] == 0 for r in results.values()) else 1
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
