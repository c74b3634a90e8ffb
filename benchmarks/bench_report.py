"""Time ``loadwatch.metrics.report.build_report`` over five years of generated history.

Generates a frame shaped like ``Store.activities()`` (5 years: a run on most days, some doubles,
cross-training, GPX-like runs without a device offset, treadmill/trail runs) plus HR histograms, a pain
log and no rules, then prints the median time of several ``build_report`` calls and the ratio to the
0.5 s goal.

    .venv/bin/python benchmarks/bench_report.py [--years 5] [--repeat 7]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from loadwatch.ingest.settings import Settings  # noqa: E402
from loadwatch.metrics import advice  # noqa: E402
from loadwatch.metrics.report import build_report  # noqa: E402

GOAL_S = 0.5


def generate(years: int = 5, seed: int = 1) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    days = int(365.25 * years)
    start = pd.Timestamp("2020-01-06 06:30", tz="UTC")
    day = np.arange(days)
    keep = rng.random(days) < 0.8  # a run on ~80 % of days
    doubles = day[rng.random(days) < 0.05]
    run_days = np.concatenate([day[keep], doubles])
    n_runs = len(run_days)
    hours = rng.uniform(0, 14, n_runs)
    km = np.round(rng.gamma(4.0, 2.5, n_runs), 2)
    cross_days = day[rng.random(days) < 0.15]
    sport = np.array(["running"] * n_runs + ["cycling"] * len(cross_days), dtype=object)
    all_days = np.concatenate([run_days, cross_days])
    all_hours = np.concatenate([hours, rng.uniform(0, 14, len(cross_days))])
    all_km = np.concatenate([km, rng.uniform(10, 60, len(cross_days))])
    n = len(all_days)
    start_utc = start + pd.to_timedelta(all_days, unit="D") + pd.to_timedelta(all_hours, unit="h")
    speed_min_per_km = rng.uniform(4.5, 7.0, n)
    moving_s = all_km * speed_min_per_km * 60
    offset = np.where(rng.random(n) < 0.7, 3600.0, np.nan)  # 30 % without a device offset (GPX)
    sub = rng.choice(np.array(["street", "trail", "treadmill", "generic"], dtype=object), n, p=[.6, .2, .1, .1])
    sub = np.where(sport == "running", sub, None)
    acts = pd.DataFrame({
        "id": [f"act{i:06d}" for i in range(n)], "source": "bench", "format": "fit", "sport": sport,
        "sub_sport": sub, "start_utc": start_utc, "utc_offset_s": offset, "elapsed_s": moving_s * 1.05,
        "moving_s": moving_s, "distance_m": all_km * 1000, "ascent_m": rng.uniform(0, 300, n),
        "avg_hr_bpm": np.nan, "max_hr_bpm": np.nan, "avg_cadence_spm": rng.normal(170, 5, n),
        "avg_vertical_oscillation_mm": rng.normal(80, 4, n), "avg_stance_time_ms": rng.normal(250, 10, n),
        "avg_step_length_mm": rng.normal(1100, 60, n), "device": "bench", "partial": False,
        "sport_inferred": False, "surface_override": None, "rpe": np.where(rng.random(n) < 0.3, 5.0, np.nan),
        "imported_at": pd.Timestamp("2025-01-01", tz="UTC"),
    }).sort_values("start_utc").reset_index(drop=True)
    with_hr = acts["id"][rng.random(n) < 0.85].to_numpy()
    hist = np.zeros((len(with_hr), 256))
    for i in range(len(with_hr)):
        centre = rng.uniform(130, 165)
        bpm = np.clip(np.rint(rng.normal(centre, 8, 600)), 40, 210).astype(int)
        np.add.at(hist[i], bpm, 5.0)  # 600 samples of 5 s
    hr_hist = pd.DataFrame(hist, index=pd.Index(with_hr, name="id"), columns=pd.RangeIndex(256))
    pain_days = pd.Timestamp("2020-01-06") + pd.to_timedelta(np.sort(rng.choice(days, 400, replace=False)), "D")
    pain = pd.DataFrame({"id": np.arange(400), "at_local": pain_days + pd.Timedelta(hours=8),
                         "score": rng.integers(0, 6, 400), "timing": "next_morning", "location": "lower_back",
                         "activity_id": None, "symptoms": [()] * 400, "note": "", "deleted": False})
    return acts, hr_hist, pain


def _timed(fn, repeat: int) -> tuple[float, float, object]:
    """(median wall seconds, median CPU seconds, last result) of ``repeat`` calls."""
    wall, cpu = [], []
    result = None
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        result = fn()
        wall.append(time.perf_counter() - w0)
        cpu.append(time.process_time() - c0)
    return statistics.median(wall), statistics.median(cpu), result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args(argv)
    acts, hr_hist, pain = generate(args.years)
    settings = Settings(timezone="Europe/London", units="mi")
    as_of = (acts["start_utc"].max().tz_convert(None) + pd.Timedelta(days=1)).normalize()

    def full():
        return build_report(acts, hr_hist, pain, [], settings, as_of=as_of, weeks=12)

    full()  # warm up imports and caches
    wall, cpu, report = _timed(full, args.repeat)
    # the same report with the detector/plan/suggestions stubbed out: the cost of this module's metrics
    real_advise = advice.advise
    advice.advise = lambda **_kw: {"alerts": [], "plan": {}, "suggested_rules": []}
    try:
        core_wall, core_cpu, _ = _timed(full, args.repeat)
    finally:
        advice.advise = real_advise
    print(f"build_report: {len(acts)} activities ({(acts['sport'] == 'running').sum()} runs), "
          f"{args.years} years of daily history, {len(hr_hist)} HR histograms, {len(pain)} pain entries")
    print(f"full report   median of {args.repeat}: {wall:.3f} s wall, {cpu:.3f} s CPU; goal {GOAL_S} s -> "
          f"{wall / GOAL_S:.2f} x the goal ({'OK' if wall <= GOAL_S else 'TOO SLOW'})")
    print(f"  of which daily/weekly/runs/JSON (advise stubbed): {core_wall:.3f} s wall, {core_cpu:.3f} s CPU; "
          f"advise(): ~{max(wall - core_wall, 0):.3f} s")
    print(f"weeks listed: {len(report['weeks'])}, alerts: {len(report['alerts'])}")
    return 0 if wall <= GOAL_S else 1


if __name__ == "__main__":
    sys.exit(main())
