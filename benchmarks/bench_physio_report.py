"""Time writing the report for the physio (PDF and HTML) over five years of generated history.

Reuses ``bench_report.generate`` (5 years: a run on most days, cross-training, HR histograms, 400 pain
entries), then times, in one process after the imports: ``build_report`` for the last 12 weeks, the
report's content, the PDF (fpdf2, its charts drawn by ``loadwatch.dashboard.report.pdf_charts``) and the HTML (its charts
rendered by vl-convert) written to a temporary folder.  Wall and CPU seconds are printed (on a busy shared machine the CPU figure is the steadier
one; the goal is judged on wall time).  The first call includes the HTML's Altair import and vl-convert's start-up (``loadwatch report --pdf``
alone pays neither); the median of the following ones is the warm figure.  Goal: under 2 s.

    .venv/bin/python benchmarks/bench_physio_report.py [--years 5] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_report import generate  # noqa: E402

from loadwatch.dashboard.report import physio as physio_report  # noqa: E402
from loadwatch.ingest.settings import Settings  # noqa: E402
from loadwatch.metrics.report import build_report  # noqa: E402

GOAL_S = 2.0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    acts, hr_hist, pain = generate(args.years)
    settings = Settings(timezone="Europe/London", units="mi")
    as_of = (acts["start_utc"].max().tz_convert(None) + pd.Timedelta(days=1)).normalize()

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)

        def write_both() -> dict[str, float]:
            c0 = time.process_time()
            t0 = time.perf_counter()
            report = build_report(acts, hr_hist, pain, [], settings, as_of=as_of, weeks=12)
            t1 = time.perf_counter()
            doc = physio_report.build(report, pain=pain, activities=acts, weeks=12)
            physio_report.write(doc, out / "physio.pdf")
            t2 = time.perf_counter()
            physio_report.write(doc, out / "physio.html")
            t3 = time.perf_counter()
            return {"report": t1 - t0, "pdf": t2 - t1, "html": t3 - t2, "total": t3 - t0,
                    "cpu": time.process_time() - c0}

        first = write_both()
        warm = [write_both() for _ in range(args.repeat)]
        pdf_kb = (out / "physio.pdf").stat().st_size / 1024
        html_kb = (out / "physio.html").stat().st_size / 1024

    def med(key):
        return statistics.median(w[key] for w in warm)

    print(f"physio report: {len(acts)} activities, {args.years} years of history, {len(pain)} pain entries; "
          f"12 weeks shown; PDF {pdf_kb:.0f} kB, HTML {html_kb:.0f} kB")
    print(f"first call (the HTML with vl-convert's start-up): {first['total']:.2f} s (build_report {first['report']:.2f} s, "
          f"content + charts + PDF {first['pdf']:.2f} s, HTML {first['html']:.2f} s); CPU {first['cpu']:.2f} s")
    print(f"warm, median of {args.repeat}: {med('total'):.2f} s (build_report {med('report'):.2f} s, "
          f"PDF {med('pdf'):.2f} s, HTML {med('html'):.2f} s); CPU {med('cpu'):.2f} s")
    worst = max(first["total"], med("total"))
    print(f"goal {GOAL_S} s -> {worst / GOAL_S:.2f} x the goal ({'OK' if worst <= GOAL_S else 'TOO SLOW'})")
    return 0 if worst <= GOAL_S else 1


if __name__ == "__main__":
    sys.exit(main())
