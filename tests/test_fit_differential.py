"""The fast FIT decoder against fitdecode, file by file.

For every FIT file of the real corpus and a grid of generated files, ``fit_fast.decode`` either declines
(``FastPathDeclined``) or gives the same :class:`~loadwatch.ingest.fit_common.FitDecoded` as
``fit_reader.decode_with_fitdecode``, and the one builder then makes the same canonical activity from both.
"""

from __future__ import annotations

import math
import warnings
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from loadwatch.ingest import fit_fast, fit_reader
from loadwatch.ingest.errors import IngestError, NotAnActivity
from loadwatch.ingest.fit_common import RECORD_FIELDS, FitDecoded
from loadwatch.ingest.synth import SynthRun, fit_bytes
from tests.conftest import corpus_manifest

FIT_ROWS = [row for row in corpus_manifest() if row["kind"] == "fit"]
#: The fast path must keep handling most of the corpus (59 of 79 files when this was written; the rest
#: are chained, damaged, truncated or use compressed timestamps / compressed speed-distance).
MIN_CORPUS_HANDLED = 55


def _slow(data: bytes, name: str) -> FitDecoded:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fit_reader.decode_with_fitdecode(data, name)


def _same_value(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-9)
    return a == b


def _assert_dicts_equal(fast: list[dict] | dict | None, slow: list[dict] | dict | None, what: str) -> None:
    if fast is None or slow is None:
        assert fast is None and slow is None, f"{what}: {fast!r} != {slow!r}"
        return
    if isinstance(fast, dict):
        fast, slow = [fast], [slow]
    assert len(fast) == len(slow), f"{what}: {len(fast)} messages != {len(slow)}"
    for i, (f, s) in enumerate(zip(fast, slow, strict=True)):
        assert set(f) == set(s), f"{what}[{i}] keys"
        for key in f:
            assert _same_value(f[key], s[key]), f"{what}[{i}].{key}: fast {f[key]!r} != fitdecode {s[key]!r}"


def assert_decoded_equal(fast: FitDecoded, slow: FitDecoded) -> None:
    assert fast.decoder == "fast"
    n = len(slow.records["timestamp_s"])
    for key in RECORD_FIELDS:
        assert fast.records[key].shape == (n,), f"record {key}: {fast.records[key].shape} != ({n},)"
        np.testing.assert_allclose(fast.records[key], slow.records[key], rtol=1e-12, atol=0, equal_nan=True,
                                   err_msg=f"record {key}")
    for attr in ("file_type", "manufacturer", "product", "serial_number", "partial"):
        assert getattr(fast, attr) == getattr(slow, attr), attr
    assert _same_value(fast.time_created_s, slow.time_created_s) or (
        fast.time_created_s is None and slow.time_created_s is None)
    _assert_dicts_equal(fast.sessions, slow.sessions, "sessions")
    _assert_dicts_equal(fast.laps, slow.laps, "laps")
    _assert_dicts_equal(fast.sports, slow.sports, "sports")
    _assert_dicts_equal(fast.activity, slow.activity, "activity")


def _build(decoded: FitDecoded, name: str):
    """The builder's activity, or the ingest error it raises (compared by type and message)."""
    try:
        return fit_reader.build_activity(decoded, "hash", name)
    except (IngestError, NotAnActivity) as exc:
        return exc


def assert_activities_equal(fast: FitDecoded, slow: FitDecoded, name: str) -> None:
    a, b = _build(fast, name), _build(slow, name)
    if isinstance(a, Exception) or isinstance(b, Exception):
        assert type(a) is type(b) and str(a) == str(b), f"builder: {a!r} != {b!r}"
        return
    pd.testing.assert_frame_equal(a.samples, b.samples, check_exact=False, rtol=1e-12)
    ra, rb = a.summary.as_row(), b.summary.as_row()
    ha, hb = ra.pop("hr_seconds_by_bpm"), rb.pop("hr_seconds_by_bpm")
    assert (ha is None) == (hb is None)
    if ha is not None:
        np.testing.assert_allclose(ha, hb, rtol=1e-12)
    for key in ra:
        assert _same_value(ra[key], rb[key]) or ra[key] == rb[key], f"summary.{key}: {ra[key]!r} != {rb[key]!r}"


def check_file(data: bytes, name: str) -> bool:
    """Decline, or agree with fitdecode; True when the fast path decoded the file."""
    try:
        fast = fit_fast.decode(data, name)
    except fit_fast.FastPathDeclined:
        return False
    slow = _slow(data, name)
    assert_decoded_equal(fast, slow)
    assert_activities_equal(fast, slow, name)
    return True


@pytest.mark.corpus
@pytest.mark.parametrize("row", FIT_ROWS, ids=[r["path"].rsplit("/", 1)[-1] for r in FIT_ROWS])
@pytest.mark.slow
def test_corpus_file_declined_or_equal(corpus_dir, row):
    check_file((corpus_dir / row["path"]).read_bytes(), row["path"])


@pytest.mark.corpus
def test_fast_path_handles_most_of_the_corpus(corpus_dir):
    handled, declined = [], {}
    for row in FIT_ROWS:
        try:
            fit_fast.decode((corpus_dir / row["path"]).read_bytes(), row["path"])
            handled.append(row["path"])
        except fit_fast.FastPathDeclined as exc:
            declined[row["path"]] = exc.reason
    assert len(handled) >= MIN_CORPUS_HANDLED, declined
    # the manifest's known-broken files must never be decoded as if they were fine
    for row in FIT_ROWS:
        note = row["note"]
        if "CRC MISMATCH" in note or "truncated" in note or "compressed-timestamp" in note or "chained" in note:
            assert row["path"] in declined, row["path"]


START = datetime(2024, 3, 5, 6, 30, tzinfo=UTC)


@pytest.mark.parametrize("big_endian", [False, True], ids=["le", "be"])
@pytest.mark.parametrize("hr", [150.0, None], ids=["hr", "nohr"])
@pytest.mark.parametrize("dynamics", [False, True], ids=["plain", "dyn"])
@pytest.mark.parametrize("gps", [True, False], ids=["gps", "nogps"])
def test_generated_file_equal(big_endian, hr, dynamics, gps):
    run = SynthRun(START, duration_s=900, distance_m=2500, heart_rate_bpm=hr, with_dynamics=dynamics,
                   with_gps=gps, seed=3)
    data = fit_bytes(run, big_endian=big_endian)
    assert check_file(data, "generated.fit")


@pytest.mark.parametrize("sport,sub_sport", [("running", "trail"), ("cycling", "road"), ("walking", "generic"),
                                             ("running", "treadmill")])
def test_generated_sports_equal(sport, sub_sport):
    run = SynthRun(START, duration_s=120, distance_m=400, sport=sport, sub_sport=sub_sport, utc_offset_s=3600)
    assert check_file(fit_bytes(run), "generated.fit")


@pytest.mark.parametrize("file_type", ["settings", "workout", "course", "weight", "monitoring_b"])
def test_generated_non_activity_equal(file_type):
    run = SynthRun(START, duration_s=60, distance_m=100)
    assert check_file(fit_bytes(run, file_type=file_type), f"{file_type}.fit")


@pytest.mark.parametrize("make", ["developer_field_file", "relative_time_file", "several_layouts_file",
                                  "cycles_file"])
def test_hand_built_file_equal(make):
    from tests import test_fit_fast

    data = getattr(test_fit_fast, make)()
    assert check_file(data[0] if isinstance(data, tuple) else data, f"{make}.fit")


def test_read_fit_same_activity_both_ways():
    data = fit_bytes(SynthRun(START, duration_s=600, distance_m=1800, with_dynamics=True))
    fast = fit_reader.read_fit(data, "run.fit", fast=True)
    slow = fit_reader.read_fit(data, "run.fit", fast=False)
    pd.testing.assert_frame_equal(fast.samples, slow.samples)
    assert fast.summary.id == slow.summary.id
