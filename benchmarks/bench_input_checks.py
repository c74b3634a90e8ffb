"""What issue 22's input and store checks cost, against the same work without them (the baseline).

1. ``safe_xml.check_shape`` (depth and element count, before any parser) on the GPX of a 10-hour run at
   1 Hz: ``read_activity`` with the check against ``read_activity`` with the check replaced by a no-op.
2. ``PRAGMA quick_check`` on every writable open of the store: ``Store(path)`` with the check against
   ``Store(path)`` with it replaced by a no-op, on a store of ``--activities`` one-hour FIT runs.
3. How long hostile inputs take to be refused: the 184 kB ``.fit.gz`` of 190 MB of one-byte records, a
   GPX nested 10^6 deep (7 MB), and the regular-file check on a FIFO.

Goals: the XML check alone costs <= 10 % of reading a big GPX; quick_check adds <= 0.5 s to opening a store of
1,000 runs; each hostile input is refused in <= 5 s.

Usage::

    .venv/bin/python benchmarks/bench_input_checks.py                 # 300 runs in the store
    .venv/bin/python benchmarks/bench_input_checks.py --activities 1000
"""

from __future__ import annotations

import argparse
import gzip
import os
import struct
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from loadwatch.ingest import safe_xml, sources  # noqa: E402
from loadwatch.ingest import store as store_module  # noqa: E402
from loadwatch.ingest.errors import IngestError  # noqa: E402
from loadwatch.ingest.synth import SynthRun, fit_bytes, gpx_bytes  # noqa: E402


def best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)  # the least disturbed run: the machine is shared


def xml_check(repeat: int) -> None:
    run = SynthRun(start_utc=datetime(2024, 5, 1, 6, tzinfo=UTC), duration_s=10 * 3600, distance_m=100_000.0)
    data = gpx_bytes(run)
    with_check = best_of(lambda: sources.read_activity(data, "ten-hours.gpx"), repeat)
    real = safe_xml.check_shape
    safe_xml.check_shape = lambda *a, **k: None
    try:
        without = best_of(lambda: sources.read_activity(data, "ten-hours.gpx"), repeat)
    finally:
        safe_xml.check_shape = real
    text = safe_xml.decode(data)
    alone = best_of(lambda: real(text, "ten-hours.gpx", IngestError), repeat)
    print(f"GPX of 10 h at 1 Hz ({len(data) / 1e6:.1f} MB): read {with_check * 1000:.0f} ms with the XML check, "
          f"{without * 1000:.0f} ms without (baseline): x{with_check / without:.3f}; the check alone "
          f"{alone * 1000:.1f} ms ({alone / without:.1%} of the read)")


def quick_check(n: int, repeat: int) -> None:
    from loadwatch.ingest.importer import import_paths

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "runs"
        folder.mkdir()
        day = datetime(2020, 1, 1, 7, tzinfo=UTC)
        for i in range(n):
            run = SynthRun(start_utc=day + timedelta(days=i), duration_s=3600, distance_m=10_000.0, seed=i)
            (folder / f"r{i:04d}.fit").write_bytes(fit_bytes(run))
        db = Path(tmp) / "store.sqlite3"
        with store_module.Store(db) as s:
            import_paths(s, [folder], workers=2)

        def open_close():
            store_module.Store(db).close()

        with_check = best_of(open_close, repeat)
        real = store_module.check_intact
        store_module.check_intact = lambda conn, path: None
        try:
            without = best_of(open_close, repeat)
        finally:
            store_module.check_intact = real
        size = db.stat().st_size / 1e6
    print(f"Store of {n:,} one-hour runs ({size:.0f} MB): open {with_check * 1000:.0f} ms with quick_check, "
          f"{without * 1000:.0f} ms without (baseline): +{(with_check - without) * 1000:.0f} ms")


def fit_of_empty_records(n: int) -> bytes:
    body = bytes([0x40, 0, 0, 20, 0, 0]) + b"\x00" * n
    return struct.pack("<BBHI4sH", 14, 0x10, 2100, len(body), b".FIT", 0) + body + b"\x00\x00"


def hostile() -> None:
    bomb = gzip.compress(fit_of_empty_records(190_000_000), 6)
    deep = b'<?xml version="1.0"?><gpx>' + b"<a>" * 1_000_000 + b"</a>" * 1_000_000 + b"</gpx>"
    cases = [(f".fit.gz bomb ({len(bomb) / 1024:.0f} kB -> 190 MB)", lambda: sources.read_activity(bomb, "b.fit.gz")),
             (f"GPX nested 10^6 deep ({len(deep) / 1e6:.0f} MB)", lambda: sources.read_activity(deep, "d.gpx"))]
    with tempfile.TemporaryDirectory() as tmp:
        fifo = Path(tmp) / "pipe.fit"
        os.mkfifo(fifo)
        cases.append(("FIFO nobody writes to", lambda: sources.read_regular_file(fifo, "pipe.fit")))
        for label, fn in cases:
            t0 = time.perf_counter()
            try:
                fn()
                outcome = "read (!)"
            except IngestError as exc:
                outcome = exc.problem
            print(f"{label}: refused in {time.perf_counter() - t0:.2f} s - {outcome}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--activities", type=int, default=300, help="runs in the store for the quick_check figure")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    xml_check(args.repeat)
    quick_check(args.activities, args.repeat)
    hostile()


if __name__ == "__main__":
    main()
