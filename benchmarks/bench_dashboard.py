"""Landing-page time with five years of data (goal: <= 3 s).

Builds a store of 5 years of runs (4-5 a week, ~1,150 activities) plus weekly pain entries, then renders
the "This week" page with Streamlit's AppTest twice: cold (empty cache: the store is read and the whole
report is computed) and warm (a second session over the same unchanged store: ``@st.cache_data`` keyed on
the store version).  Prints both times and their ratio to the 3 s goal.

The activities are inserted with ``Store.add_activity`` from generated ``Activity`` objects (summary +
a one-minute sample frame, a heart-rate histogram) instead of decoding thousands of FIT files: the page
reads summaries and histograms only, so how they got in does not change what is measured; decoding speed
is ``bench_import.py``'s business.

    .venv/bin/python benchmarks/bench_dashboard.py [--years 5] [--db PATH]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GOAL_S = 3.0


def build_store(path: Path, years: int, seed: int = 0) -> int:
    from ingest.canonical import Activity, Summary, hr_histogram, make_samples
    from ingest.painlog import PainEntry
    from ingest.store import Store

    rng = np.random.default_rng(seed)
    today = date.today()
    start = today - timedelta(days=365 * years)
    n = 0
    with Store(path) as store:
        day = start
        while day < today:
            if day.weekday() in (0, 2, 3, 5) or (day.weekday() == 6 and rng.random() < 0.5):
                km = float(rng.choice([6, 8, 10, 16]) + rng.normal(0, 0.8))
                t0 = pd.Timestamp(datetime(day.year, day.month, day.day, 7), tz="UTC")
                moving = km * 330
                t = t0 + pd.to_timedelta(np.arange(60), unit="s")
                samples = make_samples(t, {"heart_rate_bpm": 140 + rng.normal(0, 5, 60),
                                           "distance_m": np.linspace(0, 60 * km * 1000 / moving, 60)})
                hist = hr_histogram(samples) * (moving / 60)
                original = f"synthetic activity {day.isoformat()} {km:.3f}".encode()
                summary = Summary(
                    id=hashlib.sha256(original).hexdigest(), source=f"{day}.fit", format="fit", sport="running",
                    sub_sport=rng.choice(["street", "trail", "track"]), start_utc=t0, utc_offset_s=0.0,
                    elapsed_s=moving + 60, moving_s=moving, distance_m=km * 1000, avg_hr_bpm=145.0,
                    max_hr_bpm=170.0, avg_cadence_spm=170.0, hr_seconds_by_bpm=hist)
                store.add_activity(Activity(summary, samples), original, f"{day}.fit")
                n += 1
            if day.weekday() == 1:
                store.add_pain(PainEntry(at_local=datetime(day.year, day.month, day.day, 8),
                                         score=3 if (day - start).days // 7 % 6 == 0 else 0,
                                         timing="next_morning"))  # a short flare-up every six weeks
            day += timedelta(days=1)
    return n


def render_landing(path: Path) -> tuple[float, object]:
    from streamlit.testing.v1 import AppTest

    os.environ["LOADWATCH_DB"] = str(path)
    at = AppTest.from_file(str(ROOT / "dashboard" / "pages" / "this_week.py"), default_timeout=120)
    t0 = time.perf_counter()
    at.run()
    return time.perf_counter() - t0, at


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", type=int, default=5)
    parser.add_argument("--db", type=Path, default=None, help="reuse/keep this store (built if missing)")
    args = parser.parse_args(argv)
    tmp = tempfile.TemporaryDirectory()
    path = args.db or Path(tmp.name) / "bench.sqlite3"
    if not path.exists():
        t0 = time.perf_counter()
        n = build_store(path, args.years)
        print(f"built {path}: {n} runs over {args.years} years in {time.perf_counter() - t0:.1f} s")
    cold, at = render_landing(path)
    assert not at.exception, [e.value for e in at.exception]
    assert any(m.label.startswith("Distance this week") for m in at.metric), "the landing page drew no numbers"
    warm, _ = render_landing(path)
    for label, seconds in (("cold (empty cache)", cold), ("warm (cached report)", warm)):
        print(f"landing page, {label}: {seconds:.2f} s = {seconds / GOAL_S:.2f} x the {GOAL_S:.0f} s goal")
    return 0 if cold <= GOAL_S else 1


if __name__ == "__main__":
    sys.exit(main())
