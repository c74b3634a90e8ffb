"""The pause rule follows the file's own sampling interval (issue 17).

A fixed 10 s rule called every step of a "smart recording" GPX (a point every 10-30 s) a pause: such a
run had no heart-rate time and no TRIMP.  A pause is now a gap well above the file's median interval
(``PAUSE_GAP_FACTOR`` times it), never below the 10 s floor and never above the 2 min cap; it is applied
where samples are summarised (``loadwatch.ingest.canonical``), so FIT and TCX files written sparsely benefit too.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loadwatch.ingest.canonical import (
    MAX_PAUSE_GAP_S,
    MAX_SAMPLE_GAP_S,
    PAUSE_GAP_FACTOR,
    hr_histogram,
    make_samples,
    pause_gap_s,
    sample_intervals_s,
)
from loadwatch.ingest.gpx_reader import read_gpx
from loadwatch.ingest.synth import SynthRun, gpx_bytes, tcx_bytes
from loadwatch.ingest.tcx_reader import read_tcx
from loadwatch.metrics.intensity import trimp

START = datetime(2024, 5, 1, 7, 0, tzinfo=UTC)
RUN = SynthRun(start_utc=START, duration_s=3601, distance_m=10_000)


def _samples(t_s: np.ndarray, hr: float = 150.0) -> pd.DataFrame:
    t_ns = (pd.Timestamp(START).value + np.asarray(t_s) * 1e9).astype("int64")
    return make_samples(t_ns, {"heart_rate_bpm": np.full(len(t_s), hr)})


def _keep_points(data: bytes, tag: str, keep) -> bytes:
    """The file with only the points whose index passes ``keep`` (a sparser recording of the same run)."""
    text = data.decode()
    points = list(re.finditer(rf"<{tag}\b.*?</{tag}>\n", text, flags=re.S))
    head, tail = text[: points[0].start()], text[points[-1].end():]
    return (head + "".join(m.group(0) for i, m in enumerate(points) if keep(i)) + tail).encode()


def test_pause_gap_follows_the_median_interval():
    assert pause_gap_s(np.ones(100)) == MAX_SAMPLE_GAP_S  # 1 s recording: the 10 s floor
    assert pause_gap_s(np.full(100, 20.0)) == pytest.approx(PAUSE_GAP_FACTOR * 20.0)
    assert pause_gap_s(np.full(100, 60.0)) == MAX_PAUSE_GAP_S  # the cap
    assert pause_gap_s(np.array([])) == MAX_SAMPLE_GAP_S
    assert pause_gap_s(np.array([0.0, -3.0, np.nan])) == MAX_SAMPLE_GAP_S


def test_one_second_recording_keeps_the_ten_second_rule():
    t = np.concatenate([np.arange(0, 600), np.arange(615, 1200)])  # a 16 s gap: a stop at a crossing
    dt = sample_intervals_s(_samples(t))
    assert dt[599] == 0.0 and dt.sum() == pytest.approx(599 + 584)  # both stretches, not the stop


@pytest.mark.parametrize("every_s", [10, 20, 30])
def test_smart_recording_gpx_keeps_its_heart_rate_time_and_trimp(every_s):
    full = read_gpx(gpx_bytes(RUN), "every-second.gpx")
    sparse = read_gpx(_keep_points(gpx_bytes(RUN), "trkpt", lambda i: i % every_s == 0), "smart.gpx")
    assert len(sparse.samples) == 3600 // every_s + 1
    hr_s = sparse.summary.hr_seconds_by_bpm.sum()
    assert hr_s == pytest.approx(3600.0)  # every interval is running time, none is a pause
    hh = pd.DataFrame([full.summary.hr_seconds_by_bpm, sparse.summary.hr_seconds_by_bpm], index=["full", "sparse"])
    t = trimp(hh, 190.0, 50.0)
    assert t["sparse"] == pytest.approx(t["full"], rel=0.03)


def test_irregular_smart_recording_and_a_real_pause():
    """Points every 10-30 s (irregular), with a 10-minute stop in the middle: the steps count, the stop
    does not."""
    rng = np.random.default_rng(5)
    steps = rng.integers(10, 31, 400)
    t = np.concatenate([[0], np.cumsum(steps)])
    t[200:] += 600  # the stop
    dt = sample_intervals_s(_samples(t))
    assert dt.sum() == pytest.approx(float(t[-1] - t[0] - (t[200] - t[199])))
    assert dt[199] == 0.0


def test_sparse_tcx_benefits_too():
    data = _keep_points(tcx_bytes(RUN), "Trackpoint", lambda i: i % 20 == 0)
    act = read_tcx(data, "smart.tcx")
    assert act.summary.hr_seconds_by_bpm.sum() == pytest.approx(3600.0)


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(median_s=st.integers(1, 40), n=st.integers(5, 200), seed=st.integers(0, 1000))
def test_no_gap_within_the_rule_is_lost(median_s, n, seed):
    """Every gap up to the pause threshold counts in full; every gap above it counts nothing."""
    rng = np.random.default_rng(seed)
    steps = rng.integers(max(1, median_s // 2), median_s * 2 + 1, n).astype(float)
    steps[rng.integers(0, n, 2)] = rng.uniform(100, 2000, 2)  # two long stops
    t = np.concatenate([[0.0], np.cumsum(steps)])
    samples = _samples(t)
    dt = sample_intervals_s(samples)
    limit = pause_gap_s(np.diff(t))
    assert dt[:-1] == pytest.approx(np.where(steps <= limit, steps, 0.0))
    assert MAX_SAMPLE_GAP_S <= limit <= MAX_PAUSE_GAP_S
    assert hr_histogram(samples).sum() == pytest.approx(dt.sum())
