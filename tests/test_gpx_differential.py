"""The fast ElementTree GPX path and gpxpy (the reference) give the same activity, or the same error.

Over every GPX file of ../shared/corpus (skipped when absent) and over generated files.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from loadwatch.ingest.errors import IngestError, NotAnActivity
from loadwatch.ingest.gpx_reader import read_gpx
from loadwatch.ingest.synth import SynthRun, gpx_bytes
from tests.conftest import CORPUS_DIR, corpus_manifest


def _outcome(data: bytes, name: str, fast: bool):
    try:
        return read_gpx(data, name, fast=fast)
    except (NotAnActivity, IngestError) as exc:
        return f"{type(exc).__name__}: {exc}"


def assert_same(data: bytes, name: str) -> None:
    fast, ref = _outcome(data, name, True), _outcome(data, name, False)
    if isinstance(ref, str) or isinstance(fast, str):
        assert fast == ref
        return
    pd.testing.assert_frame_equal(fast.samples, ref.samples)
    a, b = fast.summary.as_row(), ref.summary.as_row()
    ha, hb = a.pop("hr_seconds_by_bpm"), b.pop("hr_seconds_by_bpm")
    assert a.keys() == b.keys()
    for key in a:
        if isinstance(a[key], float):
            np.testing.assert_allclose(a[key], b[key], equal_nan=True, err_msg=key)
        else:
            assert a[key] == b[key], key
    assert (ha is None) == (hb is None)
    if ha is not None:
        np.testing.assert_allclose(ha, hb)


GPX_FILES = [row["path"] for row in corpus_manifest() if row["kind"] == "gpx"]


@pytest.mark.corpus
@pytest.mark.parametrize("rel", GPX_FILES or ["<corpus absent>"])
@pytest.mark.slow
def test_corpus_gpx_fast_equals_gpxpy(rel):
    path = CORPUS_DIR / rel
    if not path.is_file():
        pytest.skip("../shared/corpus is absent")
    assert_same(path.read_bytes(), path.name)


START = datetime(2024, 5, 1, 6, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "run, kwargs",
    [
        (SynthRun(start_utc=START, duration_s=900, distance_m=3000), {}),
        (SynthRun(start_utc=START, duration_s=900, distance_m=3000, heart_rate_bpm=None), {}),
        (SynthRun(start_utc=START, duration_s=900, distance_m=3000, cadence_spm=None), {"with_type": False}),
        (SynthRun(start_utc=START, duration_s=900, distance_m=9000, sport="cycling"), {}),
        (SynthRun(start_utc=START, duration_s=300, distance_m=1000), {"with_times": False}),
    ],
)
def test_generated_gpx_fast_equals_gpxpy(run, kwargs):
    assert_same(gpx_bytes(run, **kwargs), "generated.gpx")


def test_fast_path_declines_unusual_time_formats_to_gpxpy():
    data = gpx_bytes(SynthRun(start_utc=START, duration_s=60, distance_m=200))
    # gpxpy understands a space instead of the "T"; the fast path hands such files over to it
    odd = data.replace(b"T06:00:0", b" 06:00:0")
    assert_same(odd, "odd-times.gpx")
    activity = read_gpx(odd, "odd-times.gpx")
    assert activity.samples.index[0] == pd.Timestamp("2024-05-01T06:00:00Z")
