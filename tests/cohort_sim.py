"""Generated cohort tables (``runs``, ``phases``, ``pain``) with a planted effect, for the research view.

Every runner runs on about 4 days in 10 and builds: each run is drawn against the longest of the last
30 days (mostly shorter, now and then 10-150 % longer), and at the top of a build (above 45 km) the runner
runs a short run and takes a month off, so all of Frandsen's categories occur.  Each day the runner is not in ``stop``, a flare-up happens with the daily
hazard ``base_hazard`` times ``planted_ratio`` when the runner's latest run (within the last 7 days, the
run's own day included) was more than ``planted_above_pct`` % longer than the longest of the 30 days
before it.  A flare-up is a pain entry of 7/10 and a ``stop`` phase of a few days (no runs).

The spike of each run is computed by the product's own :func:`loadwatch.metrics.spike.longest_before` and
:func:`loadwatch.metrics.spike.spike_columns` once the runs are known, and the planted hazard uses a running
maximum kept here: the two must agree, which the tests check.
"""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
import pandas as pd

from loadwatch.metrics.spike import longest_before, spike_columns

START = date(2025, 1, 6)
#: How far each run goes against the 30-day longest [%]: ranges inside Frandsen's four categories (none
#: taken at 25-95 % of the longest), and how often each is drawn.
SPIKE_MIX = ((-75.0, -5.0), (12.0, 28.0), (35.0, 95.0), (105.0, 150.0))
SPIKE_MIX_P = (0.40, 0.20, 0.22, 0.18)
MAX_KM = 45.0


def generate(seed: int, *, runners: int = 120, days: int = 300, base_hazard: float = 0.02,
             planted_ratio: float = 1.0, planted_above_pct: float = 30.0, run_prob: float = 0.42) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    runs, phases, pain = [], [], []
    for r in range(runners):
        runner = f"r{r:03d}"
        history: list[tuple[int, float]] = []  # (day, km)
        stop_until = -1
        exposed_until = -1  # the last day a planted-exposure run still counts
        latest_run_day = -10
        rest_until = -1
        for d in range(days):
            day = START + timedelta(days=d)
            if d <= stop_until:
                phases.append((runner, day, "stop"))
                continue
            phases.append((runner, day, "normal"))
            if d > rest_until and rng.random() < run_prob:
                window = [k for (dd, k) in history if d - 30 <= dd < d]
                longest = max(window) if window else 6.0
                low, high = SPIKE_MIX[int(rng.choice(len(SPIKE_MIX), p=SPIKE_MIX_P))]
                km = longest * (1.0 + rng.uniform(low, high) / 100.0)
                if km > MAX_KM:  # at the top of a build: a month off, then build again from scratch
                    rest_until = d + 30
                    km = rng.uniform(4.0, 8.0)
                km = round(km, 3)
                planted = bool(window) and (km / max(window) - 1.0) * 100.0 > planted_above_pct
                history.append((d, km))
                runs.append((runner, day, km, planted))
                latest_run_day = d
                exposed_until = d + 6 if planted else -1
            hazard = base_hazard * (planted_ratio if d <= exposed_until and d - latest_run_day < 7 else 1.0)
            if rng.random() < 1.0 - math.exp(-hazard):
                pain.append((runner, day, 7))
                phases[-1] = (runner, day, "stop")
                stop_until = d + int(rng.integers(3, 9))
    runs = pd.DataFrame(runs, columns=["runner", "date", "distance_km", "planted"])
    parts = []
    for _runner, mine in runs.groupby("runner", sort=False):
        # every run at 07:00 local: the product's own 30-day window over start times
        start = pd.to_datetime(mine["date"].astype(str)) + pd.Timedelta(hours=7)
        longest = longest_before(start.dt.tz_localize("UTC"), mine["distance_km"])
        spikes = spike_columns(mine["distance_km"], longest)
        parts.append(mine.assign(spike_pct=spikes["spike_pct"], spike_category=spikes["spike_category"]))
    runs = pd.concat(parts, ignore_index=True)
    return {"runs": runs, "phases": pd.DataFrame(phases, columns=["runner", "date", "phase"]),
            "pain": pd.DataFrame(pain, columns=["runner", "date", "score"])}


def write_tables(tables: dict[str, pd.DataFrame], out) -> None:
    """The generated tables as a cohort folder's Parquet files (what `cohort analyse` reads)."""
    from pathlib import Path

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        frame.to_parquet(out / f"{name}.parquet", engine="pyarrow", index=False)
