"""What a FIT decoder hands to the canonical builder.

Two decoders produce a :class:`FitDecoded`: the vectorised fast path (``fit_fast``) and the fitdecode
fallback (``fit_reader``).  One builder (``fit_reader.build_activity``) turns it into the canonical
:class:`~loadwatch.ingest.canonical.Activity`, so both paths give the same frame by construction and the
differential test compares like with like.

Everything here is already scaled (FIT scale/offset applied), semicircles are degrees, invalid values are
NaN, and times are Unix seconds (float64, UTC).  ``enhanced_*`` fields win over their 16-bit twins.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: Record columns every decoder fills (all-NaN when absent), in canonical-ish units.
RECORD_FIELDS: tuple[str, ...] = (
    "timestamp_s",  # Unix seconds (float64)
    "distance_m",
    "speed_m_s",  # enhanced_speed, else speed
    "altitude_m",  # enhanced_altitude, else altitude
    "heart_rate_bpm",
    "cadence_rpm",  # raw FIT cadence: strides/min for running, rpm for cycling
    "fractional_cadence_rpm",
    "lat_deg",
    "lon_deg",
    "vertical_oscillation_mm",
    "stance_time_ms",
    "step_length_mm",
)

#: Keys of each session/lap dict (missing -> NaN or None).
SUMMARY_FIELDS: tuple[str, ...] = (
    "start_time_s",
    "timestamp_s",
    "sport",  # FIT enum name ("running", "cycling"...) or None
    "sub_sport",  # FIT enum name ("street", "trail", "treadmill"...) or None
    "total_distance_m",
    "total_timer_time_s",
    "total_elapsed_time_s",
    "total_ascent_m",
    "total_descent_m",
    "avg_heart_rate_bpm",
    "max_heart_rate_bpm",
)


@dataclass
class FitDecoded:
    file_type: str | None  # file_id.type name: "activity", "settings", "workout", ... ; None: no file_id
    manufacturer: str | None = None
    product: str | None = None
    serial_number: int | None = None
    time_created_s: float | None = None
    records: dict[str, np.ndarray] = field(default_factory=dict)  # RECORD_FIELDS -> equal-length arrays
    sessions: list[dict] = field(default_factory=list)
    laps: list[dict] = field(default_factory=list)
    sports: list[dict] = field(default_factory=list)  # "sport" messages: {"sport", "sub_sport"}
    activity: dict | None = None  # {"timestamp_s", "local_timestamp_s", "total_timer_time_s", "num_sessions"}
    #: ``timestamp_correlation``: {"timestamp_s" (UTC), "system_timestamp_s" (device time)} in Unix seconds
    #: as decoded (device times stay below the FIT date minimum); None when the file has none.
    correlation: dict | None = None
    #: True when only the readable part of a damaged file was decoded.
    partial: bool = False
    #: Which decoder produced this ("fast" or "fitdecode"): for tests and benchmarks.
    decoder: str = ""
