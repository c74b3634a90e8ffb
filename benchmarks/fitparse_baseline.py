"""The baseline reader for ``bench_import.py``: loadwatch's import with FIT decoded by **fitparse**.

``fitparse_reader(data, name)`` has the importer's reader signature.  It decodes FIT files with fitparse
into the same :class:`~loadwatch.ingest.fit_common.FitDecoded` the two real decoders produce and hands it to the
same builder, so "the same import with fitparse decoding" differs from loadwatch's only in the decoder.
Other formats go through the normal readers.
"""

from __future__ import annotations

import hashlib
import io
import math
from datetime import UTC, datetime

import numpy as np

from loadwatch.ingest.fit_common import RECORD_FIELDS, FitDecoded
from loadwatch.ingest.fit_reader import build_activity, summary_values
from loadwatch.ingest.sources import read_activity

_SEMICIRCLE_DEG = 180.0 / 2**31


def _unix(value) -> float:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
    return math.nan


def _num(value) -> float:
    try:
        return float(value) if value is not None else math.nan
    except (TypeError, ValueError):
        return math.nan


def decode_with_fitparse(data: bytes) -> FitDecoded:
    import fitparse

    fit = fitparse.FitFile(io.BytesIO(data))
    decoded = FitDecoded(file_type=None, decoder="fitparse")
    rows: dict[str, list] = {k: [] for k in RECORD_FIELDS}
    for msg in fit.get_messages(["file_id", "record", "lap", "session", "activity", "sport"]):
        v = msg.get_values()
        if msg.name == "file_id":
            decoded.file_type = v.get("type")
        elif msg.name == "record":
            lat, lon = v.get("position_lat"), v.get("position_long")
            speed = v.get("enhanced_speed", v.get("speed"))
            alt = v.get("enhanced_altitude", v.get("altitude"))
            values = {
                "timestamp_s": _unix(v.get("timestamp")),
                "distance_m": _num(v.get("distance")),
                "speed_m_s": _num(speed),
                "altitude_m": _num(alt),
                "heart_rate_bpm": _num(v.get("heart_rate")),
                "cadence_rpm": _num(v.get("cadence")),
                "fractional_cadence_rpm": _num(v.get("fractional_cadence")),
                "lat_deg": _num(lat) * _SEMICIRCLE_DEG,
                "lon_deg": _num(lon) * _SEMICIRCLE_DEG,
                "vertical_oscillation_mm": _num(v.get("vertical_oscillation")),
                "stance_time_ms": _num(v.get("stance_time")),
                "step_length_mm": _num(v.get("step_length")),
            }
            for key in RECORD_FIELDS:
                rows[key].append(values[key])
        elif msg.name == "lap":
            decoded.laps.append(summary_values(v, _unix))
        elif msg.name == "session":
            decoded.sessions.append(summary_values(v, _unix))
        elif msg.name == "sport":
            decoded.sports.append({"sport": v.get("sport"), "sub_sport": v.get("sub_sport")})
        elif msg.name == "activity":
            decoded.activity = {
                "timestamp_s": _unix(v.get("timestamp")),
                "local_timestamp_s": _unix(v.get("local_timestamp")),
                "total_timer_time_s": _num(v.get("total_timer_time")),
                "num_sessions": _num(v.get("num_sessions")),
            }
    decoded.records = {k: np.asarray(vals, dtype="float64") for k, vals in rows.items()}
    return decoded


def fitparse_reader(data: bytes, name: str):
    """The importer's reader signature: FIT through fitparse, everything else as usual."""
    if data[8:12] != b".FIT":
        return read_activity(data, name)
    return build_activity(decode_with_fitparse(data), hashlib.sha256(data).hexdigest(), name)
