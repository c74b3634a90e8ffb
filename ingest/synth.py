"""Writers for generated watch files: FIT, GPX and TCX bytes from plain numbers.

Used by the tests, the benchmarks and ``loadwatch demo`` so that every generated activity goes through the
real import path.  The FIT encoder writes the subset of the FIT protocol a running watch writes: file_id,
device_info, event, record, lap, session and activity messages, little- or big-endian, with a valid header
and file CRC.  Values are given in canonical units and scaled here (the inverse of the readers).
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

FIT_EPOCH_S = 631065600  # 1989-12-31T00:00:00Z in Unix seconds

# FIT base types: (base type byte, struct format, invalid value)
_UINT8 = (0x02, "B", 0xFF)
_SINT8 = (0x01, "b", 0x7F)
_UINT16 = (0x84, "H", 0xFFFF)
_SINT16 = (0x83, "h", 0x7FFF)
_UINT32 = (0x86, "I", 0xFFFFFFFF)
_SINT32 = (0x85, "i", 0x7FFFFFFF)
_ENUM = (0x00, "B", 0xFF)

SPORT_CODES = {"generic": 0, "running": 1, "cycling": 2, "transition": 3, "swimming": 5, "walking": 11,
               "hiking": 17, "training": 10, "rowing": 15}
SUB_SPORT_CODES = {"generic": 0, "treadmill": 1, "street": 2, "trail": 3, "track": 4, "road": 7,
                   "indoor_cycling": 6, "lap_swimming": 17, "open_water": 18, "indoor_running": 45,
                   "virtual_activity": 58, "elliptical": 15}
FILE_TYPE_CODES = {"activity": 4, "settings": 2, "workout": 5, "course": 6, "monitoring_b": 32,
                   "weight": 9}

_CRC_TABLE = (0x0000, 0xCC01, 0xD801, 0x1400, 0xF001, 0x3C00, 0x2800, 0xE401,
              0xA001, 0x6C00, 0x7800, 0xB401, 0x5000, 0x9C01, 0x8801, 0x4400)


def fit_crc(data: bytes, crc: int = 0) -> int:
    """The FIT CRC-16 of ``data`` (as in the FIT SDK)."""
    for byte in data:
        tmp = _CRC_TABLE[crc & 0xF]
        crc = (crc >> 4) & 0x0FFF
        crc = crc ^ tmp ^ _CRC_TABLE[byte & 0xF]
        tmp = _CRC_TABLE[crc & 0xF]
        crc = (crc >> 4) & 0x0FFF
        crc = crc ^ tmp ^ _CRC_TABLE[(byte >> 4) & 0xF]
    return crc


def fit_time(ts: float) -> int:
    """Unix seconds -> FIT timestamp."""
    return int(round(ts)) - FIT_EPOCH_S


class FitWriter:
    """Low-level FIT encoder: define local message types, then write data messages."""

    def __init__(self, big_endian: bool = False):
        self.big_endian = big_endian
        self._body = bytearray()
        self._defs: dict[int, tuple[int, list, struct.Struct]] = {}

    def define(self, local: int, global_num: int, fields: Sequence[tuple[int, tuple]]) -> None:
        """``fields``: (field number, base type tuple) in order."""
        arch = 1 if self.big_endian else 0
        endian = ">" if self.big_endian else "<"
        header = bytes([0x40 | local, 0, arch])
        header += struct.pack(endian + "HB", global_num, len(fields))
        for num, (base, fmt, _inv) in fields:
            header += bytes([num, struct.calcsize(fmt), base])
        self._body += header
        st = struct.Struct(endian + "".join(fmt for _, (_, fmt, _) in fields))
        self._defs[local] = (global_num, list(fields), st)

    def write(self, local: int, values: Sequence) -> None:
        """One data message; ``None`` or NaN becomes the field's invalid value."""
        _g, fields, st = self._defs[local]
        packed = []
        for (_num, (_base, _fmt, invalid)), v in zip(fields, values, strict=True):
            if v is None or (isinstance(v, float) and not math.isfinite(v)):
                packed.append(invalid)
            else:
                packed.append(int(round(v)))
        self._body += bytes([local]) + st.pack(*packed)

    def write_many(self, local: int, columns: Sequence[np.ndarray]) -> None:
        """Many data messages of one local type at once (fast path for long records)."""
        _g, fields, _st = self._defs[local]
        endian = ">" if self.big_endian else "<"
        n = len(columns[0])
        dtype = np.dtype([("h", "u1")] + [(f"f{i}", endian + fmt) for i, (_n, (_b, fmt, _v)) in enumerate(fields)])
        arr = np.zeros(n, dtype=dtype)
        arr["h"] = local
        for i, ((_num, (_base, fmt, invalid)), col) in enumerate(zip(fields, columns, strict=True)):
            col = np.asarray(col, dtype="float64")
            out = np.where(np.isfinite(col), np.rint(np.nan_to_num(col)), invalid)
            arr[f"f{i}"] = out.astype(np.dtype(endian + fmt))
        self._body += arr.tobytes()

    def getvalue(self) -> bytes:
        body = bytes(self._body)
        header = struct.pack("<BBHI4s", 14, 0x20, 2132, len(body), b".FIT")
        header += struct.pack("<H", fit_crc(header))
        data = header + body
        return data + struct.pack("<H", fit_crc(data))


@dataclass
class SynthRun:
    """A generated activity.  ``start_utc`` is a tz-aware datetime; speeds in m/s per second of the run.

    Every channel is 1 Hz for ``duration_s`` seconds.  ``heart_rate_bpm`` etc. can be None (channel absent).
    """

    start_utc: datetime
    duration_s: int
    distance_m: float
    sport: str = "running"
    sub_sport: str = "generic"
    utc_offset_s: int | None = 0
    heart_rate_bpm: float | None = 150.0
    cadence_spm: float | None = 170.0
    with_gps: bool = True
    with_dynamics: bool = False
    lat0_deg: float = 51.5
    lon0_deg: float = -0.12
    seed: int = 0
    extra: dict = field(default_factory=dict)

    def channels(self) -> dict[str, np.ndarray]:
        """Per-second arrays in canonical units (what a reader should give back)."""
        n = int(self.duration_s)
        rng = np.random.default_rng(self.seed)
        t = np.arange(n, dtype="float64")
        base = self.distance_m / max(n - 1, 1)
        wobble = 1 + 0.05 * np.sin(t / 60.0) + rng.normal(0, 0.01, n)
        speed = base * wobble
        dist = np.concatenate([[0.0], np.cumsum(speed[:-1])])
        if n > 1:
            dist *= self.distance_m / dist[-1]
            speed = np.gradient(dist)
        out = {
            "distance_m": dist,
            "speed_m_s": speed,
            "elevation_m": 30 + 10 * np.sin(t / 300.0),
        }
        if self.heart_rate_bpm is not None:
            out["heart_rate_bpm"] = np.rint(self.heart_rate_bpm + 8 * np.sin(t / 400.0) + rng.normal(0, 1, n))
        if self.cadence_spm is not None:
            out["cadence_spm"] = 2 * np.rint(self.cadence_spm / 2 + rng.normal(0, 1, n))
        if self.with_gps:
            # an out-and-back loop: angle along a circle whose circumference is the distance
            radius_m = max(self.distance_m, 1.0) / (2 * math.pi)
            ang = dist / radius_m
            out["lat_deg"] = self.lat0_deg + (radius_m * np.sin(ang)) / 111_320.0
            out["lon_deg"] = self.lon0_deg + (radius_m * (1 - np.cos(ang))) / (
                111_320.0 * math.cos(math.radians(self.lat0_deg)))
        if self.with_dynamics:
            out["vertical_oscillation_mm"] = 80 + rng.normal(0, 2, n).round(1)
            out["stance_time_ms"] = 250 + rng.normal(0, 5, n).round(1)
            out["step_length_mm"] = np.rint(speed / (out.get("cadence_spm", np.full(n, 170.0)) / 60) * 1000)
        return out


def _semicircles(deg: np.ndarray) -> np.ndarray:
    return np.rint(deg * (2**31 / 180.0))


def fit_bytes(run: SynthRun, big_endian: bool = False, file_type: str = "activity",
              device_relative: bool = False) -> bytes:
    """Encode ``run`` as a FIT activity file (as a watch writes it).

    ``device_relative``: every time is seconds since the device powered on (below 0x10000000), as a watch
    without a clock fix writes them, with one ``timestamp_correlation`` message tying device time to UTC."""
    w = FitWriter(big_endian=big_endian)
    t0 = run.start_utc.timestamp()
    n = int(run.duration_s)
    ch = run.channels()
    ts0 = fit_time(t0)
    real_ts0 = ts0
    if device_relative:
        ts0 = 1000  # seconds since power-on
    # file_id: type, manufacturer, product, serial, time_created
    w.define(0, 0, [(0, _ENUM), (1, _UINT16), (2, _UINT16), (3, _UINT32), (4, _UINT32)])
    w.write(0, [FILE_TYPE_CODES[file_type], 1, 3113, 123456 + run.seed, ts0])
    if file_type != "activity":
        return w.getvalue()
    # device_info: timestamp, manufacturer, product, software_version
    w.define(1, 23, [(253, _UINT32), (2, _UINT16), (4, _UINT16), (5, _UINT16)])
    w.write(1, [ts0, 1, 3113, 2010])
    # event: timestamp, event(timer=0), event_type(start=0 / stop_all=4)
    w.define(2, 21, [(253, _UINT32), (0, _ENUM), (1, _ENUM)])
    w.write(2, [ts0, 0, 0])
    if device_relative:
        # timestamp_correlation: timestamp (UTC), system_timestamp (device time) at the same instant
        w.define(7, 162, [(253, _UINT32), (1, _UINT32)])
        w.write(7, [real_ts0, ts0])
    # record
    rec_fields = [(253, _UINT32), (5, _UINT32), (6, _UINT16), (2, _UINT16)]
    cols = [ts0 + np.arange(n), ch["distance_m"] * 100, ch["speed_m_s"] * 1000, (ch["elevation_m"] + 500) * 5]
    if "heart_rate_bpm" in ch:
        rec_fields.append((3, _UINT8))
        cols.append(ch["heart_rate_bpm"])
    if "cadence_spm" in ch:
        strides = ch["cadence_spm"] / 2.0
        rec_fields += [(4, _UINT8), (53, _UINT8)]
        cols += [np.floor(strides), (strides - np.floor(strides)) * 128]
    if "lat_deg" in ch:
        rec_fields += [(0, _SINT32), (1, _SINT32)]
        cols += [_semicircles(ch["lat_deg"]), _semicircles(ch["lon_deg"])]
    if "vertical_oscillation_mm" in ch:
        rec_fields += [(39, _UINT16), (41, _UINT16), (85, _UINT16)]
        cols += [ch["vertical_oscillation_mm"] * 10, ch["stance_time_ms"] * 10, ch["step_length_mm"] * 10]
    w.define(3, 20, rec_fields)
    w.write_many(3, cols)
    ts_end = ts0 + n - 1
    w.write(2, [ts_end, 0, 4])
    elapsed = float(n - 1)
    hr = ch.get("heart_rate_bpm")
    avg_hr = float(np.mean(hr)) if hr is not None else None
    max_hr = float(np.max(hr)) if hr is not None else None
    sport = SPORT_CODES.get(run.sport, 0)
    sub = SUB_SPORT_CODES.get(run.sub_sport, 0)
    # lap: timestamp, start_time, total_elapsed_time, total_timer_time, total_distance, sport, sub_sport
    lap_fields = [(253, _UINT32), (2, _UINT32), (7, _UINT32), (8, _UINT32), (9, _UINT32), (25, _ENUM),
                  (39, _ENUM), (15, _UINT8), (16, _UINT8)]
    w.define(4, 19, lap_fields)
    w.write(4, [ts_end, ts0, elapsed * 1000, elapsed * 1000, run.distance_m * 100, sport, sub, avg_hr, max_hr])
    # session: start_time, total_elapsed/timer_time, total_distance, sport, sub_sport, avg/max hr, ascent,
    # descent
    w.define(5, 18, [(253, _UINT32), (2, _UINT32), (7, _UINT32), (8, _UINT32), (9, _UINT32), (5, _ENUM),
                     (6, _ENUM), (16, _UINT8), (17, _UINT8), (22, _UINT16), (23, _UINT16)])
    ascent = float(np.sum(np.clip(np.diff(ch["elevation_m"]), 0, None)))
    descent = float(np.sum(np.clip(-np.diff(ch["elevation_m"]), 0, None)))
    w.write(5, [ts_end, ts0, elapsed * 1000, elapsed * 1000, run.distance_m * 100, sport, sub, avg_hr, max_hr,
                ascent, descent])
    # activity: timestamp, total_timer_time, num_sessions, type, event, event_type, local_timestamp
    w.define(6, 34, [(253, _UINT32), (0, _UINT32), (1, _UINT16), (2, _ENUM), (3, _ENUM), (4, _ENUM),
                     (5, _UINT32)])
    local_ts = None if run.utc_offset_s is None or device_relative else ts_end + run.utc_offset_s
    w.write(6, [ts_end, elapsed * 1000, 1, 0, 26, 1, local_ts])
    return w.getvalue()


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def gpx_bytes(run: SynthRun, with_type: bool = True, with_times: bool = True) -> bytes:
    """Encode ``run`` as a GPX 1.1 track (as Strava exports it), heart rate and cadence in Garmin's
    TrackPointExtension."""
    ch = run.channels()
    t0 = run.start_utc.timestamp()
    parts = ['<?xml version="1.0" encoding="UTF-8"?>\n'
             '<gpx version="1.1" creator="loadwatch synth" xmlns="http://www.topografix.com/GPX/1/1" '
             'xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v1">\n'
             f'<metadata><time>{_iso(t0)}</time></metadata>\n<trk><name>Run</name>']
    if with_type:
        parts.append(f"<type>{run.sport}</type>")
    parts.append("<trkseg>\n")
    lat, lon, ele = ch["lat_deg"], ch["lon_deg"], ch["elevation_m"]
    hr = ch.get("heart_rate_bpm")
    cad = ch.get("cadence_spm")
    for i in range(int(run.duration_s)):
        ext = ""
        if hr is not None or cad is not None:
            inner = ""
            if hr is not None:
                inner += f"<gpxtpx:hr>{int(hr[i])}</gpxtpx:hr>"
            if cad is not None:
                inner += f"<gpxtpx:cad>{int(cad[i] // 2)}</gpxtpx:cad>"
            ext = f"<extensions><gpxtpx:TrackPointExtension>{inner}</gpxtpx:TrackPointExtension></extensions>"
        time = f"<time>{_iso(t0 + i)}</time>" if with_times else ""
        parts.append(f'<trkpt lat="{lat[i]:.7f}" lon="{lon[i]:.7f}"><ele>{ele[i]:.1f}</ele>{time}{ext}</trkpt>\n')
    parts.append("</trkseg></trk>\n</gpx>\n")
    return "".join(parts).encode()


def tcx_bytes(run: SynthRun, with_trackpoints: bool = True) -> bytes:
    """Encode ``run`` as a TCX activity with one lap (Garmin Training Center v2)."""
    ch = run.channels()
    t0 = run.start_utc.timestamp()
    sport = {"running": "Running", "cycling": "Biking"}.get(run.sport, "Other")
    n = int(run.duration_s)
    parts = ['<?xml version="1.0" encoding="UTF-8"?>\n'
             '<TrainingCenterDatabase xmlns="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2" '
             'xmlns:ns3="http://www.garmin.com/xmlschemas/ActivityExtension/v2">\n'
             f'<Activities><Activity Sport="{sport}"><Id>{_iso(t0)}</Id>\n'
             f'<Lap StartTime="{_iso(t0)}"><TotalTimeSeconds>{n - 1}</TotalTimeSeconds>'
             f'<DistanceMeters>{run.distance_m:.1f}</DistanceMeters><Calories>0</Calories>'
             '<Intensity>Active</Intensity><TriggerMethod>Manual</TriggerMethod>\n<Track>\n']
    if with_trackpoints:
        hr = ch.get("heart_rate_bpm")
        cad = ch.get("cadence_spm")
        for i in range(n):
            hr_xml = f"<HeartRateBpm><Value>{int(hr[i])}</Value></HeartRateBpm>" if hr is not None else ""
            cad_xml = (f"<Extensions><ns3:TPX><ns3:RunCadence>{int(cad[i] // 2)}</ns3:RunCadence></ns3:TPX>"
                       "</Extensions>") if cad is not None else ""
            parts.append(
                f"<Trackpoint><Time>{_iso(t0 + i)}</Time><Position><LatitudeDegrees>{ch['lat_deg'][i]:.7f}"
                f"</LatitudeDegrees><LongitudeDegrees>{ch['lon_deg'][i]:.7f}</LongitudeDegrees></Position>"
                f"<AltitudeMeters>{ch['elevation_m'][i]:.1f}</AltitudeMeters>"
                f"<DistanceMeters>{ch['distance_m'][i]:.2f}</DistanceMeters>{hr_xml}{cad_xml}</Trackpoint>\n")
    parts.append("</Track></Lap></Activity></Activities></TrainingCenterDatabase>\n")
    return "".join(parts).encode()
