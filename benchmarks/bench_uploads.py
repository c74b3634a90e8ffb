"""Dashboard uploads: the import workers kept alive between uploads, against a fresh pair per upload.

The dashboard is a threaded host, so its import workers are fresh interpreters (``loadwatch.ingest.importer``).  Before
issue 21 every upload started two of them (and stopped them after); now the idle ones wait for the next
upload.  This script imports ``--uploads`` batches of ``--files`` generated FIT runs into one store from a
threaded host, first with the pool switched off (the baseline: a fresh pair per upload), then with it, and
prints each upload's time and the ratio of the totals after the first upload (the first starts its
workers either way).

Goal (issue 21): an upload after the first starts decoding at once, no interpreter start per upload.

Usage::

    .venv/bin/python benchmarks/bench_uploads.py
    .venv/bin/python benchmarks/bench_uploads.py --uploads 6 --files 20
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from loadwatch.ingest import importer, synth  # noqa: E402
from loadwatch.ingest.store import Store  # noqa: E402


def batches(uploads: int, files: int, seed: int) -> list[list[tuple[str, bytes]]]:
    t0 = datetime(2024, 1, 1, 7, tzinfo=UTC)
    out = []
    for k in range(uploads):
        out.append([(f"u{seed}-{k}-{i}.fit", synth.fit_bytes(synth.SynthRun(
            t0 + timedelta(days=(seed * uploads + k) * files + i), 1800, 5000.0, seed=seed * 1000 + k * 100 + i)))
            for i in range(files)])
    return out


def run(uploads: list, workers: int) -> list[float]:
    times = []
    with Store(Path(tempfile.mkdtemp(prefix="lw-uploads-")) / "store.sqlite3") as store:
        for batch in uploads:
            start = time.perf_counter()
            out = importer.import_files(store, batch, workers=workers)
            times.append(time.perf_counter() - start)
            assert all(o.status == "imported" for o in out), [o for o in out if o.status != "imported"][:3]
    importer.shutdown_pool()
    return times


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--uploads", type=int, default=4)
    parser.add_argument("--files", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)

    hold = threading.Event()
    host = threading.Thread(target=hold.wait)  # a threaded host, as Streamlit is: workers are never forks
    host.start()
    try:
        kept_max = importer.POOL_MAX
        importer.POOL_MAX = 0  # the baseline: a fresh pair of workers per upload
        baseline = run(batches(args.uploads, args.files, 1), args.workers)
        importer.POOL_MAX = kept_max
        kept = run(batches(args.uploads, args.files, 2), args.workers)
    finally:
        hold.set()
        host.join()
    print(f"{args.uploads} uploads of {args.files} FIT files, {args.workers} workers, threaded host")
    print(f"{'upload':>6}  {'fresh workers (baseline)':>24}  {'kept workers':>12}")
    for i, (b, k) in enumerate(zip(baseline, kept, strict=True), 1):
        print(f"{i:>6}  {b:>22.2f} s  {k:>10.2f} s")
    later_b, later_k = sum(baseline[1:]), sum(kept[1:])
    if later_k > 0:
        print(f"uploads after the first: {later_b:.2f} s -> {later_k:.2f} s ({later_b / later_k:.1f}x faster)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
