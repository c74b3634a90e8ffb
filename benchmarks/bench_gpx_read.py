"""CPU per one-hour 1 Hz GPX file for ``loadwatch.ingest.gpx_reader.read_gpx``, in this process.

The file is the one ``benchmarks/bench_import.py`` writes for a GPX run of its history.  Baseline: the same
reader made to take its reference path (the whole document parsed into a tree, then read point by point),
which is what every GPX file took before the alike-points paths.  Prints best and median of ``--repeat``
interleaved runs and the ratio; run it once, it takes a few seconds.

    .venv/bin/python benchmarks/bench_gpx_read.py [--repeat 30]
"""

from __future__ import annotations

import argparse
import functools
import statistics
import time
from datetime import UTC, datetime, timedelta

from loadwatch.ingest import gpx_reader
from loadwatch.ingest.synth import SynthRun, gpx_bytes


def one_hour_gpx(i: int = 9) -> bytes:
    """The GPX file bench_import.py's history holds at index ``i`` (every 10th run is a GPX)."""
    run = SynthRun(start_utc=datetime(2021, 1, 4, 7, 0, tzinfo=UTC) + timedelta(hours=31 * i), duration_s=3600,
                   distance_m=9000 + 3000 * ((i * 7) % 5) / 4, sub_sport="trail", seed=i, with_dynamics=(i % 3 == 0))
    return gpx_bytes(run)


def reference_read(data: bytes):
    """read_gpx through its reference path: the whole tree, point by point."""
    textual, fast = gpx_reader._points_textual, gpx_reader._points_fast
    gpx_reader._points_textual = lambda data: None
    gpx_reader._points_fast = functools.partial(fast, bulk=False)
    try:
        return gpx_reader.read_gpx(data, "run.gpx")
    finally:
        gpx_reader._points_textual, gpx_reader._points_fast = textual, fast


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=30)
    args = ap.parse_args()
    data = one_hour_gpx()
    assert gpx_reader._points_textual(data) is not None, "the alike-points path must take this file"
    times: dict[str, list[float]] = {"reference (tree, point by point)": [], "read_gpx": []}
    for _ in range(args.repeat):
        for label, read in (("reference (tree, point by point)", reference_read),
                            ("read_gpx", lambda d: gpx_reader.read_gpx(d, "run.gpx"))):
            t0 = time.process_time()
            read(data)
            times[label].append(time.process_time() - t0)
    print(f"one-hour 1 Hz GPX, {len(data) / 1024:.0f} KiB, {args.repeat} interleaved runs, CPU time per file:")
    for label, v in times.items():
        print(f"  {label:34s} best {min(v) * 1e3:6.2f} ms   median {statistics.median(v) * 1e3:6.2f} ms")
    ref, new = times["reference (tree, point by point)"], times["read_gpx"]
    print(f"  ratio (median reference / median read_gpx): {statistics.median(ref) / statistics.median(new):.2f}x")


if __name__ == "__main__":
    main()
