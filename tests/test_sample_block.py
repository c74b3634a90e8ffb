"""The numpy sample block the import's hot path works on gives the same samples and figures as the pandas
frame every other caller reads (the reference: pandas' own stable sort and first-of-duplicates)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loadwatch.ingest.canonical import (
    SAMPLE_COLUMNS,
    Activity,
    SampleBlock,
    Summary,
    hr_histogram,
    make_block,
    make_samples,
    sample_intervals_s,
    summarize_samples,
)


def _reference_frame(t_ns: np.ndarray, channels: dict) -> pd.DataFrame:
    """The frame as pandas builds it: rows sorted stably by time, a repeated time keeps its first row."""
    index = pd.DatetimeIndex(t_ns.view("datetime64[ns]"), name="time_utc").tz_localize("UTC")
    frame = pd.DataFrame({c: np.asarray(channels.get(c, np.full(len(t_ns), np.nan)), dtype="float64")
                          for c in SAMPLE_COLUMNS}, index=index)
    frame = frame.sort_index(kind="stable")
    return frame[~frame.index.duplicated(keep="first")]


values = st.one_of(st.just(float("nan")), st.floats(-1e4, 1e4, allow_nan=False))


@st.composite
def recordings(draw):
    n = draw(st.integers(0, 40))
    base = 1_700_000_000 * 10**9
    # small offsets so repeats and reversals are common
    t = np.array([base + draw(st.integers(0, 12)) * 10**9 for _ in range(n)], dtype="int64")
    cols = draw(st.lists(st.sampled_from(SAMPLE_COLUMNS), unique=True, max_size=len(SAMPLE_COLUMNS)))
    channels = {c: [draw(values) for _ in range(n)] for c in cols}
    return t, channels


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(recordings())
def test_block_rows_equal_pandas_sort_and_dedupe(rec):
    t, channels = rec
    block = make_block(t, channels)
    expected = _reference_frame(t, channels)
    pd.testing.assert_frame_equal(block.to_frame(), expected, check_freq=False)
    pd.testing.assert_frame_equal(make_samples(t, channels), expected, check_freq=False)
    assert np.all(np.diff(block.t_ns) > 0)
    if len(expected) >= 1:
        from_block, from_frame = summarize_samples(block), summarize_samples(expected)
        assert from_block.keys() == from_frame.keys()
        for key, value in from_frame.items():
            other = from_block[key]
            if isinstance(value, np.ndarray) or value is None:
                assert (value is None and other is None) or np.array_equal(value, other)
            elif isinstance(value, pd.Timestamp):
                assert value == other
            else:
                assert value == other or (np.isnan(value) and np.isnan(other)), key
        np.testing.assert_array_equal(sample_intervals_s(block), sample_intervals_s(expected))
        h1, h2 = hr_histogram(block), hr_histogram(expected)
        assert (h1 is None and h2 is None) or np.array_equal(h1, h2)


def test_block_and_frame_round_trip_and_frame_is_built_only_when_asked():
    t = np.array([3, 1, 2, 2], dtype="int64") * 10**9 + 1_700_000_000 * 10**9
    block = make_block(t, {"heart_rate_bpm": [150.0, 140.0, 145.0, 999.0], "distance_m": [30.0, 10.0, 20.0, 0.0]})
    assert list(block.column("heart_rate_bpm")) == [140.0, 145.0, 150.0]
    frame = block.to_frame()
    assert list(frame.columns) == list(SAMPLE_COLUMNS) and frame.index.name == "time_utc"
    assert str(frame.index.tz) == "UTC"
    again = SampleBlock.from_frame(frame)
    assert np.array_equal(again.t_ns, block.t_ns)
    assert np.array_equal(again.values, block.values, equal_nan=True)
    # a frame missing channels reads them as NaN
    part = SampleBlock.from_frame(frame[["distance_m"]])
    assert np.isnan(part.column("heart_rate_bpm")).all() and list(part.column("distance_m")) == [10.0, 20.0, 30.0]
    summary = Summary(id="x", source="x.fit", format="fit", sport="running", sub_sport=None,
                      start_utc=pd.Timestamp(t[1], tz="UTC"), utc_offset_s=None, elapsed_s=2.0,
                      moving_s=2.0, distance_m=20.0)
    act = Activity(summary, block=block)
    assert act._samples is None  # nothing built yet
    assert len(act.block) == 3
    pd.testing.assert_frame_equal(act.samples, frame)
    from_frame = Activity(summary, frame)
    assert np.array_equal(from_frame.block.values, block.values, equal_nan=True)
    assert len(Activity(summary).samples) == 0 and Activity(summary).block.empty
