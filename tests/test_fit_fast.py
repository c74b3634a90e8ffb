"""Unit tests of the vectorised FIT decoder on hand-built files (``loadwatch.ingest.synth.FitWriter``)."""

from __future__ import annotations

import math
import struct
import warnings
from datetime import UTC, datetime

import numpy as np
import pytest

from loadwatch.ingest import fit_fast, synth
from loadwatch.ingest.fit_common import RECORD_FIELDS
from loadwatch.ingest.fit_fast import FastPathDeclined, decode, fit_crc16
from loadwatch.ingest.synth import FIT_EPOCH_S, FitWriter, SynthRun, fit_bytes, fit_crc, fit_time

U8, S8, U16, S16, U32, S32, ENUM = (synth._UINT8, synth._SINT8, synth._UINT16, synth._SINT16, synth._UINT32,
                                    synth._SINT32, synth._ENUM)
U32Z = (0x8C, "I", 0)
START = datetime(2024, 3, 5, 6, 30, tzinfo=UTC)
T0 = fit_time(START.timestamp())


def _definition(local: int, global_num: int, fields, big_endian=False, dev_fields=()) -> bytes:
    """A raw definition message; ``dev_fields``: (number, size, developer data index)."""
    e = ">" if big_endian else "<"
    out = bytes([0x40 | (0x20 if dev_fields else 0) | local, 0, int(big_endian)])
    out += struct.pack(e + "HB", global_num, len(fields))
    out += b"".join(bytes([num, size, base]) for num, size, base in fields)
    if dev_fields:
        out += bytes([len(dev_fields)]) + b"".join(bytes(f) for f in dev_fields)
    return out


def _file(body: bytes) -> bytes:
    w = FitWriter()
    w._body += body
    return w.getvalue()


def _recrc(data: bytes) -> bytes:
    """``data`` with its file CRC recomputed (so only the structure is wrong)."""
    body = data[:-2]
    return body + struct.pack("<H", fit_crc(body))


def _small_run(**kw) -> bytes:
    return fit_bytes(SynthRun(START, duration_s=60, distance_m=150, **kw))


# ------------------------------------------------------------------------------------------- CRC


@pytest.mark.parametrize("n", [0, 1, 2, 255, 256, 257, 1000, 4097, 70_000])
def test_crc_matches_reference(n):
    data = np.random.default_rng(n).integers(0, 256, n, dtype=np.uint8).tobytes()
    assert fit_crc16(data) == fit_crc(data)


def test_crc_of_whole_file_is_zero():
    assert fit_crc16(_small_run()) == 0


# ------------------------------------------------------------------------------------- decoding


def test_generated_run_round_trips():
    run = SynthRun(START, duration_s=600, distance_m=1800, with_dynamics=True, utc_offset_s=7200)
    ch = run.channels()
    d = decode(fit_bytes(run))
    assert d.decoder == "fast" and d.file_type == "activity" and not d.partial
    assert (d.manufacturer, d.product, d.serial_number) == ("garmin", "fr945", 123456)
    r = d.records
    assert set(r) == set(RECORD_FIELDS)
    np.testing.assert_array_equal(r["timestamp_s"], START.timestamp() + np.arange(600))
    np.testing.assert_allclose(r["distance_m"], ch["distance_m"], atol=0.005)
    np.testing.assert_allclose(r["speed_m_s"], ch["speed_m_s"], atol=0.0005)
    np.testing.assert_allclose(r["altitude_m"], ch["elevation_m"], atol=0.1)
    np.testing.assert_array_equal(r["heart_rate_bpm"], ch["heart_rate_bpm"])
    np.testing.assert_allclose(2 * (r["cadence_rpm"] + r["fractional_cadence_rpm"]), ch["cadence_spm"])
    np.testing.assert_allclose(r["lat_deg"], ch["lat_deg"], atol=1e-6)
    np.testing.assert_allclose(r["lon_deg"], ch["lon_deg"], atol=1e-6)
    np.testing.assert_allclose(r["vertical_oscillation_mm"], ch["vertical_oscillation_mm"], atol=0.051)
    np.testing.assert_allclose(r["stance_time_ms"], ch["stance_time_ms"], atol=0.051)
    (session,) = d.sessions
    assert session["sport"] == "running" and session["sub_sport"] == "generic"
    assert session["total_distance_m"] == 1800.0 and session["total_timer_time_s"] == 599.0
    assert d.activity["local_timestamp_s"] - d.activity["timestamp_s"] == 7200
    assert d.activity["num_sessions"] == 1


def test_big_endian_equals_little_endian():
    run = SynthRun(START, duration_s=300, distance_m=900, with_dynamics=True)
    le, be = decode(fit_bytes(run)), decode(fit_bytes(run, big_endian=True))
    for key in RECORD_FIELDS:
        np.testing.assert_array_equal(le.records[key], be.records[key], err_msg=key)
    assert le.sessions == be.sessions and le.laps == be.laps


def test_sentinels_become_nan():
    w = FitWriter()
    w.define(0, 0, [(0, ENUM), (1, U16), (2, U16), (3, U32Z), (4, U32)])
    w.write(0, [4, None, None, 0, None])  # serial 0 is uint32z's invalid value
    w.define(1, 20, [(253, U32), (5, U32), (6, U16), (2, U16), (3, U8), (4, U8), (0, S32), (1, S32), (39, U16)])
    w.write(1, [T0, None, None, None, None, None, None, None, None])
    w.write(1, [T0 + 1, 100, 2500, 2600, 140, 80, 0, -(2**31) + 1, 800])
    w.define(2, 18, [(253, U32), (2, U32), (5, ENUM), (6, ENUM), (9, U32), (16, U8)])
    w.write(2, [T0 + 1, T0, None, None, None, None])
    d = decode(w.getvalue())
    assert d.manufacturer is None and d.product is None and d.serial_number is None
    assert d.time_created_s is None
    r = d.records
    for key in ("distance_m", "speed_m_s", "altitude_m", "heart_rate_bpm", "cadence_rpm", "lat_deg", "lon_deg",
                "vertical_oscillation_mm"):
        assert math.isnan(r[key][0]), key
        assert not math.isnan(r[key][1]), key
    # never-defined fields are all-NaN columns
    assert np.isnan(r["stance_time_ms"]).all() and np.isnan(r["step_length_mm"]).all()
    assert r["distance_m"][1] == 1.0 and r["speed_m_s"][1] == 2.5 and r["altitude_m"][1] == 20.0
    assert r["lat_deg"][1] == 0.0 and r["lon_deg"][1] == pytest.approx(-180.0, abs=1e-6)
    (s,) = d.sessions
    assert s["sport"] is None and s["sub_sport"] is None
    assert math.isnan(s["total_distance_m"]) and math.isnan(s["avg_heart_rate_bpm"])


def test_enhanced_fields_win_over_16_bit_twins():
    w = FitWriter()
    w.define(1, 20, [(253, U32), (6, U16), (73, U32), (2, U16), (78, U32)])
    w.write(1, [T0, 1000, 70000, 2550, 30000])  # enhanced valid: 70 m/s, 5500 m
    w.write(1, [T0 + 1, 2000, None, 2550, None])  # enhanced invalid: the 16-bit values
    r = decode(w.getvalue()).records
    np.testing.assert_array_equal(r["speed_m_s"], [70.0, 2.0])
    np.testing.assert_array_equal(r["altitude_m"], [5500.0, 10.0])


def developer_field_file() -> bytes:
    body = _definition(0, 0, [(0, 1, 0x00)]) + bytes([0, 4])
    # developer_data_id (207): developer_data_index (3); field_description (206): index, number, base type
    body += _definition(1, 207, [(3, 1, 0x02)]) + bytes([1, 0])
    body += _definition(2, 206, [(0, 1, 0x02), (1, 1, 0x02), (2, 1, 0x02)]) + bytes([2, 0, 0, 0x84])
    body += _definition(3, 20, [(253, 4, 0x86), (3, 1, 0x02)], dev_fields=[(0, 2, 0), (1, 3, 0)])
    for i in range(5):
        body += bytes([3]) + struct.pack("<IB", T0 + i, 140 + i) + b"\xff\xee" + b"\x01\x02\x03"
    return _file(body)


def test_developer_fields_are_skipped():
    d = decode(developer_field_file())
    np.testing.assert_array_equal(d.records["heart_rate_bpm"], 140 + np.arange(5))
    np.testing.assert_array_equal(d.records["timestamp_s"], T0 + FIT_EPOCH_S + np.arange(5))


def relative_time_file() -> bytes:
    w = FitWriter()
    w.define(0, 0, [(0, ENUM)])
    w.write(0, [4])
    w.define(1, 20, [(253, U32), (3, U8)])
    w.write_many(1, [np.arange(1000, 1010), np.full(10, 150)])
    return w.getvalue()


def test_device_relative_timestamps_pass_through_below_the_date_floor():
    d = decode(relative_time_file())
    ts = d.records["timestamp_s"]
    np.testing.assert_array_equal(ts, FIT_EPOCH_S + 1000 + np.arange(10))
    assert (ts < FIT_EPOCH_S + 0x10000000).all()  # the builder treats these as "no real date"


def several_layouts_file() -> tuple[bytes, list, list]:
    w = FitWriter()
    w.define(1, 20, [(253, U32), (3, U8)])
    w.define(2, 20, [(253, U32), (5, U32)])
    w.define(3, 21, [(253, U32), (0, ENUM), (1, ENUM)])
    expect_hr, expect_dist = [], []
    for i in range(40):
        if i % 3 == 0:
            w.write(2, [T0 + i, i * 100])
            expect_hr.append(np.nan)
            expect_dist.append(float(i))
        else:
            w.write(1, [T0 + i, 100 + i])
            expect_hr.append(100.0 + i)
            expect_dist.append(np.nan)
        if i % 7 == 0:
            w.write(3, [T0 + i, 0, 0])
    return w.getvalue(), expect_hr, expect_dist


def test_records_of_several_layouts_keep_file_order():
    data, expect_hr, expect_dist = several_layouts_file()
    r = decode(data).records
    np.testing.assert_array_equal(r["timestamp_s"], T0 + FIT_EPOCH_S + np.arange(40))
    np.testing.assert_array_equal(r["heart_rate_bpm"], expect_hr)
    np.testing.assert_array_equal(r["distance_m"], expect_dist)


@pytest.mark.parametrize("every", [1, 2, 63, 64, 65, 500])
def test_runs_broken_by_other_messages(every):
    w = FitWriter(big_endian=every % 2 == 1)
    w.define(1, 20, [(253, U32), (3, U8)])
    w.define(2, 21, [(253, U32), (0, ENUM), (1, ENUM)])
    for i in range(700):
        w.write(1, [T0 + i, i % 200])
        if i % every == 0:
            w.write(2, [T0 + i, 0, 0])
    r = decode(w.getvalue()).records
    np.testing.assert_array_equal(r["timestamp_s"], T0 + FIT_EPOCH_S + np.arange(700))
    np.testing.assert_array_equal(r["heart_rate_bpm"], np.arange(700) % 200)


def cycles_file() -> bytes:
    """record, hrv, event cycles (as Garmin watches logging HRV write them), broken irregularly."""
    w = FitWriter(big_endian=True)
    w.define(1, 20, [(253, U32), (3, U8), (5, U32)])
    w.define(2, 78, [(0, U16)])  # hrv.time
    w.define(3, 21, [(253, U32), (0, ENUM), (1, ENUM)])
    rng = np.random.default_rng(5)
    for i in range(3000):
        w.write(1, [T0 + i, 100 + i % 100, i * 250])
        w.write(2, [800])
        if i % 3 == 0:
            w.write(3, [T0 + i, 0, 0])
        if rng.random() < 0.02:
            w.write(2, [801])
        if rng.random() < 0.01:
            w.write(1, [T0 + i, None, None])
    return w.getvalue()


def test_message_cycles_keep_every_record_in_order():
    w_data = cycles_file()
    r = decode(w_data).records
    ts = r["timestamp_s"] - (T0 + FIT_EPOCH_S)
    assert (np.diff(ts) >= 0).all() and set(ts.astype(int)) == set(range(3000))
    valid = ~np.isnan(r["heart_rate_bpm"])
    np.testing.assert_array_equal(r["heart_rate_bpm"][valid], 100 + ts[valid] % 100)
    np.testing.assert_array_equal(r["distance_m"][valid], ts[valid] * 2.5)


def test_redefined_local_type_changes_layout():
    w = FitWriter()
    w.define(1, 20, [(253, U32), (3, U8)])
    w.write(1, [T0, 120])
    w.define(1, 20, [(253, U32), (5, U32), (3, U8)])
    w.write(1, [T0 + 1, 500, 121])
    r = decode(w.getvalue()).records
    np.testing.assert_array_equal(r["heart_rate_bpm"], [120, 121])
    np.testing.assert_array_equal(r["distance_m"], [np.nan, 5.0])


def test_accepts_bytearray_and_memoryview():
    data = _small_run()
    ref = decode(data).records["distance_m"]
    np.testing.assert_array_equal(decode(bytearray(data)).records["distance_m"], ref)
    np.testing.assert_array_equal(decode(memoryview(data)).records["distance_m"], ref)


def test_no_records_gives_empty_columns():
    d = decode(fit_bytes(SynthRun(START, 10, 10), file_type="settings"))
    assert d.file_type == "settings"
    assert all(v.shape == (0,) for v in d.records.values())
    assert d.sessions == [] and d.activity is None


# ------------------------------------------------------------------------------------- declines


def _compressed_header_file() -> bytes:
    w = FitWriter()
    w.define(1, 20, [(253, U32), (3, U8)])
    w.write(1, [T0, 140])
    w.define(2, 20, [(3, U8)])
    w._body += bytes([0x80 | (2 << 5) | 5, 141])  # compressed timestamp header, local type 2
    return w.getvalue()


def _odd_size_file() -> bytes:
    return _file(_definition(1, 20, [(253, 4, 0x86), (3, 2, 0x02)]) + bytes([1]) + struct.pack("<IBB", T0, 1, 2))


def _compressed_speed_distance_file() -> bytes:
    return _file(_definition(1, 20, [(253, 4, 0x86), (8, 3, 0x0D)]) + bytes([1]) + struct.pack("<I", T0) + b"\1\2\3")


def _unknown_sport_file() -> bytes:
    w = FitWriter()
    w.define(1, 18, [(253, U32), (5, ENUM)])
    w.write(1, [T0, 250])
    return w.getvalue()


def _flipped_body_byte() -> bytes:
    data = bytearray(_small_run())
    data[200] ^= 0x10
    return bytes(data)


def _bad_header_crc() -> bytes:
    data = bytearray(_small_run())
    data[12] ^= 0x01
    return _recrc(bytes(data))


DECLINES = {
    "compressed timestamp header": (_compressed_header_file, "compressed-timestamp"),
    "chained": (lambda: _small_run() + _small_run(seed=1), "after the first FIT file"),
    "trailing bytes": (lambda: _small_run() + b"\0", "after the first FIT file"),
    "bad CRC": (_flipped_body_byte, "file CRC mismatch"),
    "truncated": (lambda: _small_run()[:-40], "truncated"),
    "truncated header": (lambda: _small_run()[:10], "shorter than a FIT header"),
    "not FIT": (lambda: b"<?xml version='1.0'?><gpx></gpx>", "not a FIT header"),
    "empty": (lambda: b"", "shorter"),
    "bad header CRC": (_bad_header_crc, "header CRC"),
    "undefined local type": (lambda: _file(bytes([5, 1, 2, 3])), "undefined local type"),
    "message overruns data": (lambda: _file(_definition(1, 20, [(253, 4, 0x86)]) + bytes([1, 0, 0])), "overruns"),
    "definition overruns data": (lambda: _file(_definition(1, 20, [(253, 4, 0x86), (3, 1, 2)])[:-2]), "overruns"),
    "odd field size": (_odd_size_file, "size 2"),
    "compressed speed/distance": (_compressed_speed_distance_file, "compressed_speed_distance"),
    "unknown sport value": (_unknown_sport_file, "unknown sport value 250"),
}


@pytest.mark.parametrize("case", list(DECLINES))
def test_declines(case):
    make, words = DECLINES[case]
    with pytest.raises(FastPathDeclined, match=words) as info:
        decode(make(), "bad.fit")
    assert info.value.reason.startswith("bad.fit: ")


def test_mutated_files_decode_or_decline_never_crash():
    """Byte mutations with a recomputed CRC reach the structure checks: decode or decline, nothing else."""
    base = bytearray(fit_bytes(SynthRun(START, duration_s=30, distance_m=80, with_dynamics=True)))
    rng = np.random.default_rng(7)
    outcomes = {"decoded": 0, "declined": 0}
    for _ in range(400):
        data = bytearray(base)
        for pos in rng.integers(14, len(data) - 2, rng.integers(1, 4)):
            data[pos] = int(rng.integers(0, 256))
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            try:
                decode(_recrc(bytes(data)))
                outcomes["decoded"] += 1
            except FastPathDeclined:
                outcomes["declined"] += 1
    assert outcomes["decoded"] and outcomes["declined"]


def test_declined_is_not_an_ingest_error():
    # read_fit falls back on it; it must never be mistaken for "this file is broken"
    from loadwatch.ingest.errors import IngestError

    assert not issubclass(fit_fast.FastPathDeclined, IngestError)
