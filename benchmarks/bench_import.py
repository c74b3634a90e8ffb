"""Import benchmark: years of watch history, cold and again, against fitparse as the baseline.

Generates a history of one-hour runs recorded at 1 Hz (FIT, mixed with some GPX), then in one run:

1. cold import into a fresh store with ``loadwatch``'s importer (both cores);
2. re-import of the same history (recognised by content hash, nothing decoded);
3. the baseline: the same import -- same importer, workers, store and canonical builder -- with FIT
   decoded by **fitparse** (``benchmarks/fitparse_baseline.py``), timed on the first ``--baseline-files``
   files of the same history and scaled to the whole (its worker start-up is counted, which favours the
   baseline by well under 1 %).

Peak memory is the largest sum of resident memory of the importing process and its workers, sampled
every 20 ms.

Goals (issue 16, "a faster core"; issue 7 asked for 15 s and 30x): cold import of 1,000 activities
<= 3 s wall on 2 cores and >= 50x faster than with fitparse in the same run; re-import <= 1 s; peak memory
<= 600 MB.

Usage::

    .venv/bin/python benchmarks/bench_import.py            # 1,000 activities (about 110 MB of files)
    .venv/bin/python benchmarks/bench_import.py --activities 200 --baseline-files 10
    .venv/bin/python benchmarks/bench_import.py --history /tmp/lw-history   # generate once, reuse after
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
# the importer's worker processes unpickle the baseline reader by module name
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))

from loadwatch.ingest.importer import import_paths  # noqa: E402
from loadwatch.ingest.store import Store  # noqa: E402
from loadwatch.ingest.synth import SynthRun, fit_bytes, gpx_bytes  # noqa: E402

GOAL_COLD_S = 3.0
GOAL_REIMPORT_S = 1.0
GOAL_PEAK_MB = 600.0
GOAL_SPEEDUP = 50.0


def generate_history(folder: Path, n: int, gpx_every: int = 10) -> tuple[list[Path], list[Path]]:
    """``n`` one-hour runs at 1 Hz, one every ~1.3 days; every ``gpx_every``-th one as GPX."""
    folder.mkdir(parents=True, exist_ok=True)
    start = datetime(2021, 1, 4, 7, 0, tzinfo=UTC)
    fits, gpxs = [], []
    for i in range(n):
        run = SynthRun(
            start_utc=start + timedelta(hours=31 * i),
            duration_s=3600,
            distance_m=9000 + 3000 * ((i * 7) % 5) / 4,
            sub_sport=("street", "trail", "generic", "treadmill")[i % 4],
            seed=i,
            with_dynamics=(i % 3 == 0),
        )
        if gpx_every and i % gpx_every == gpx_every - 1:
            path = folder / f"run-{i:05d}.gpx"
            path.write_bytes(gpx_bytes(run))
            gpxs.append(path)
        else:
            path = folder / f"run-{i:05d}.fit"
            path.write_bytes(fit_bytes(run, big_endian=(i % 5 == 0)))
            fits.append(path)
    return fits, gpxs


#: The memory sampler, a separate process: a sampling thread in this process would make it threaded, and
#: the importer then starts fresh interpreters instead of forks (as it does in a threaded host such as
#: Streamlit), so the benchmark would not time what the command line does.
_SAMPLER = """
import os, select, sys, psutil
parent, me, peak = psutil.Process(int(sys.argv[1])), os.getpid(), 0
while not select.select([sys.stdin], [], [], float(sys.argv[2]))[0]:
    try:
        total = parent.memory_info().rss
        for child in parent.children(recursive=True):
            if child.pid != me:
                try:
                    total += child.memory_info().rss
                except psutil.Error:
                    pass
    except psutil.Error:
        total = 0
    peak = max(peak, total)
print(peak)
"""


class PeakMemory:
    """Samples the RSS of this process plus all its children (from a separate process, see
    :data:`_SAMPLER`); ``peak_mb`` is the largest sum."""

    def __init__(self, interval_s: float = 0.02):
        self.interval_s = interval_s
        self.peak_bytes = 0
        self._proc = None

    def __enter__(self):
        self._proc = subprocess.Popen([sys.executable, "-c", _SAMPLER, str(os.getpid()), str(self.interval_s)],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        time.sleep(0.3)  # let it start (and take a first sample) before the clock starts
        return self

    def __exit__(self, *exc):
        out, _ = self._proc.communicate("stop\n", timeout=30)
        self.peak_bytes = int(out.strip() or 0)

    @property
    def peak_mb(self) -> float:
        return self.peak_bytes / 2**20


def count_statuses(outcomes) -> dict[str, int]:
    return dict(Counter(o.status for o in outcomes))


def fitparse_import(paths: list[Path], db: Path, workers: int) -> tuple[float, dict]:
    """The same import with FIT decoded by fitparse: seconds and outcome counts."""
    from benchmarks.fitparse_baseline import fitparse_reader

    with Store(db) as store:
        t0 = time.perf_counter()
        outcomes = import_paths(store, paths, workers=workers, reader=fitparse_reader, timeout_s=600)
        seconds = time.perf_counter() - t0
    return seconds, count_statuses(outcomes)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--activities", type=int, default=1000)
    parser.add_argument("--baseline-files", type=int, default=100,
                        help="files imported with fitparse decoding; the time is scaled to the whole history")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--keep", action="store_true", help="keep the generated files and store")
    parser.add_argument("--history", type=Path, default=None,
                        help="folder for the generated history, kept and reused by later runs with the same "
                             "--activities (default: a temporary folder)")
    args = parser.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="loadwatch-bench-"))
    try:
        t0 = time.perf_counter()
        history = args.history or tmp / "history"
        fits = sorted(history.glob("*.fit")) if history.is_dir() else []
        gpxs = sorted(history.glob("*.gpx")) if history.is_dir() else []
        if len(fits) + len(gpxs) != args.activities:
            shutil.rmtree(history, ignore_errors=True)
            fits, gpxs = generate_history(history, args.activities)
        gen_s = time.perf_counter() - t0
        size_mb = sum(p.stat().st_size for p in fits + gpxs) / 2**20
        print(f"history: {len(fits)} FIT + {len(gpxs)} GPX one-hour 1 Hz runs, {size_mb:.0f} MB "
              f"(generated in {gen_s:.1f} s) on {os.cpu_count()} cores")

        db = tmp / "bench.sqlite3"
        with Store(db) as store, PeakMemory() as mem:
            t0 = time.perf_counter()
            outcomes = import_paths(store, [history], workers=args.workers)
            cold_s = time.perf_counter() - t0
        counts = count_statuses(outcomes)
        print(f"cold import:  {cold_s:6.2f} s  ({len(outcomes) / cold_s:6.1f} files/s, "
              f"{size_mb / cold_s:5.1f} MB/s)  outcomes {counts}")
        print(f"peak memory:  {mem.peak_mb:6.0f} MB (import process + workers)")

        with Store(db) as store:
            t0 = time.perf_counter()
            again = import_paths(store, [history], workers=args.workers)
            re_s = time.perf_counter() - t0
        re_counts = count_statuses(again)
        print(f"re-import:    {re_s:6.2f} s  outcomes {re_counts}")

        # The baseline: the same import (same importer, workers, store and builder) with FIT decoded by
        # fitparse, on the first files of the same history (same FIT/GPX mix), scaled to the whole.
        everything = sorted(fits + gpxs)
        sample = everything[: min(args.baseline_files, len(everything))]
        base_s, base_counts = fitparse_import(sample, tmp / "baseline.sqlite3", args.workers)
        est_s = base_s * len(everything) / len(sample)
        print(f"fitparse:     {base_s:6.2f} s for the first {len(sample)} files, same importer and "
              f"{args.workers} workers, outcomes {base_counts} -> {est_s:6.1f} s for the whole history")

        speedup = est_s / cold_s
        print()
        print(f"cold import   {cold_s:6.2f} s  goal <= {GOAL_COLD_S:.0f} s   ratio {cold_s / GOAL_COLD_S:.2f} of goal")
        print(f"vs fitparse   {speedup:6.1f} x  goal >= {GOAL_SPEEDUP:.0f} x")
        print(f"re-import     {re_s:6.2f} s  goal <= {GOAL_REIMPORT_S:.0f} s    ratio {re_s / GOAL_REIMPORT_S:.2f} of goal")
        print(f"peak memory   {mem.peak_mb:6.0f} MB goal <= {GOAL_PEAK_MB:.0f} MB ratio {mem.peak_mb / GOAL_PEAK_MB:.2f} of goal")
        ok = (cold_s <= GOAL_COLD_S and speedup >= GOAL_SPEEDUP and re_s <= GOAL_REIMPORT_S
              and mem.peak_mb <= GOAL_PEAK_MB and counts.get("failed", 0) == 0)
        print("all goals met" if ok else "SOME GOALS NOT MET")
        return 0 if ok else 1
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
