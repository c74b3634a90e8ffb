"""Implausible data kept out of the load: one pass every reader's activity goes through.

:func:`check` runs on every :class:`~loadwatch.ingest.canonical.Activity` a reader returns (FIT, GPX, TCX alike,
from :func:`loadwatch.ingest.sources.read_activity`), where the samples are summarised, so all formats share it:

* **Damaged timestamps.**  Samples separated from the rest of the recording by more than
  :data:`MAX_TIME_GAP_S` are dropped (the longest continuous stretch is kept), so a damaged file can
  never claim a 791-day run; a partial file's totals come from the samples that survived.
* **Heart rate** outside :data:`HR_RANGE_BPM` is missing, not a value (a strap's 255 or 0).
* **GPS jumps**: a step between two samples faster than the sport's :data:`MAX_STEP_SPEED_M_S` is cut
  from the distance, with a warning naming how much.  A virtual or indoor activity
  (:data:`VIRTUAL_SUB_SPORTS`: a Zwift ride, a treadmill) has no real positions: its game-world or
  absent GPS never cuts the distance its session gives.
* **Impossible totals** (a "run" faster than the world record over its distance, longer than two days)
  set ``excluded_reason``: the activity is kept and shown but left out of the metrics until the runner
  confirms or fixes it.  An untyped track faster than :data:`UNTYPED_RUN_MAX_SPEED_M_S` over more than
  :data:`UNTYPED_RUN_MIN_DISTANCE_M` is "sport uncertain" and excluded the same way.  A ride faster on
  average than the cycling hour record (:data:`MAX_RIDE_SPEED_M_S`) over more than
  :data:`RIDE_CHECK_MIN_DISTANCE_M` is a drive or a train recorded as a ride, excluded the same way.
* **UTC offsets** that are not whole quarter hours (a device's drifting clock) are unknown.

Every change is told in ``Summary.warnings`` in plain words.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from loadwatch.ingest.canonical import Activity, SampleBlock, Summary, summarize_samples
from loadwatch.ingest.salvage import duration_words
from loadwatch.ingest.sport import infer_sport

#: Heart rates outside this range [bpm] are sensor noise, not a heart (issue 12: 25-230 bpm).
HR_RANGE_BPM: tuple[float, float] = (25.0, 230.0)

#: Fastest plausible speed between two consecutive GPS samples, per sport [m/s].  Sprinters peak near
#: 12.4 m/s; a downhill bike rarely passes 25 m/s.  Faster steps are GPS jumps.
MAX_STEP_SPEED_M_S: dict[str, float] = {
    "running": 12.5, "walking": 12.5, "hiking": 12.5, "swimming": 5.0, "rowing": 10.0, "elliptical": 12.5,
    "cycling": 35.0, "other": 35.0,
}

#: A jump is only cut when the step is also longer than this [m]: GPS noise of a few metres between
#: samples a fraction of a second apart is not a jump.
MIN_JUMP_M: float = 50.0

#: Samples further than this [s] from the rest of the recording carry a damaged timestamp.
MAX_TIME_GAP_S: float = 12 * 3600.0

#: Longest plausible activity [s].  Longer totals come from damaged timestamps.
MAX_ELAPSED_S: float = 48 * 3600.0

#: Reference for the fastest plausible run: the 10 km world record (26:11, 2020) scaled with Riegel's
#: exponent 1.06 (Riegel, Am Sci 1981) to other distances.
WORLD_RECORD_10K_S: float = 1571.0
RIEGEL_EXPONENT: float = 1.06

#: An untyped track (sport inferred from speed) faster than this average [m/s] (3:20/km) over more than
#: :data:`UNTYPED_RUN_MIN_DISTANCE_M` is more likely a ride than a run: "sport uncertain".
UNTYPED_RUN_MAX_SPEED_M_S: float = 5.0
UNTYPED_RUN_MIN_DISTANCE_M: float = 3000.0

#: Fastest plausible average speed of a ride [m/s]: the UCI hour record, 56.792 km in one hour (Filippo
#: Ganna, Grenchen, 8 October 2022), on a track bike; no ride of a few hours on the road comes near it.
MAX_RIDE_SPEED_M_S: float = 56_792.0 / 3600.0
#: Only rides longer than this [m] are held to it: a few kilometres downhill can be faster.
RIDE_CHECK_MIN_DISTANCE_M: float = 20_000.0

#: FIT sub-sports recorded without real positions (a game world, a trainer, a treadmill): the GPS track,
#: where there is one, is not where the runner or rider was.
VIRTUAL_SUB_SPORTS: tuple[str, ...] = ("virtual_activity", "indoor_cycling", "spin", "treadmill",
                                       "indoor_running", "indoor_rowing", "indoor_walking")

#: A recorded UTC offset must be a whole number of quarter hours [s] (within a couple of seconds).
OFFSET_STEP_S: int = 900
OFFSET_TOLERANCE_S: float = 2.0

#: The note a reader adds to a salvaged (``partial``) file whose records still reach the end of its
#: session: its own totals are whole and kept.
WHOLE_BUT_DAMAGED: str = ("partial: the file is slightly damaged (a wrong checksum or a broken end), but its "
                          "records reach the end of the run")


def max_run_speed_m_s(distance_m: float) -> float:
    """Fastest plausible average running speed over ``distance_m`` [m/s] (world-record pace by Riegel)."""
    d = max(float(distance_m), 400.0)
    seconds = WORLD_RECORD_10K_S * (d / 10_000.0) ** RIEGEL_EXPONENT
    return d / seconds


def quarter_hour_offset(offset_s: float | None) -> float | None:
    """``offset_s`` when it is a whole number of quarter hours (rounded to it), else None."""
    if offset_s is None or not math.isfinite(offset_s):
        return None
    nearest = round(offset_s / OFFSET_STEP_S) * OFFSET_STEP_S
    return float(nearest) if abs(offset_s - nearest) <= OFFSET_TOLERANCE_S else None


def _track_distance_m(samples: SampleBlock, from_channel: float) -> float:
    """Distance covered by the samples [m]: the distance channel, else the GPS track, else NaN."""
    if math.isfinite(from_channel):
        return float(from_channel)
    lat = samples.column("lat_deg")
    lon = samples.column("lon_deg")
    ok = np.isfinite(lat) & np.isfinite(lon)
    if ok.sum() < 2:
        return float("nan")
    return float(_haversine_m(lat[ok][:-1], lon[ok][:-1], lat[ok][1:], lon[ok][1:]).sum())


def _count(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def _km(metres: float) -> str:
    km = metres / 1000.0
    return f"{km:,.1f} km" if km >= 1 else f"{metres:,.0f} m"


def _keep_continuous(samples: SampleBlock) -> tuple[SampleBlock, int]:
    """The longest stretch without a gap over :data:`MAX_TIME_GAP_S`; (samples, samples dropped)."""
    if len(samples) < 2:
        return samples, 0
    t = samples.t_s()
    breaks = np.flatnonzero(np.diff(t) > MAX_TIME_GAP_S)
    if breaks.size == 0:
        return samples, 0
    edges = np.concatenate([[0], breaks + 1, [len(t)]])
    sizes = np.diff(edges)
    i = int(np.argmax(sizes))
    kept = samples.take(slice(edges[i], edges[i + 1]))
    return kept, len(samples) - len(kept)


def _haversine_m(lat1, lon1, lat2, lon2) -> np.ndarray:
    lat1, lon1, lat2, lon2 = (np.radians(np.asarray(x, dtype="float64")) for x in (lat1, lon1, lat2, lon2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6_371_008.8 * np.arcsin(np.sqrt(np.clip(a, 0, 1)))


def _cut_jumps(samples: SampleBlock, sport: str, *, real_positions: bool = True) -> tuple[SampleBlock, float, float]:
    """Distance channel with GPS jumps removed; (samples, metres cut, largest jump [m]).  Without
    ``real_positions`` (a virtual or indoor activity) only the distance channel is checked."""
    dist = samples.column("distance_m")
    lat = samples.column("lat_deg")
    lon = samples.column("lon_deg")
    if len(samples) < 2:
        return samples, 0.0, 0.0
    if not real_positions:
        lat = lon = np.full(len(samples), np.nan)
    t = samples.t_s()
    limit = MAX_STEP_SPEED_M_S.get(sport, MAX_STEP_SPEED_M_S["other"])
    ok = np.isfinite(dist)
    if ok.sum() >= 2:
        idx = np.flatnonzero(ok)
        step = np.diff(dist[idx])
        dt = np.diff(t[idx])
    else:
        ok = np.isfinite(lat) & np.isfinite(lon)
        if ok.sum() < 2:
            return samples, 0.0, 0.0
        idx = np.flatnonzero(ok)
        step = _haversine_m(lat[idx][:-1], lon[idx][:-1], lat[idx][1:], lon[idx][1:])
        dt = np.diff(t[idx])
    with np.errstate(divide="ignore", invalid="ignore"):
        speed = np.where(dt > 0, step / dt, np.inf)
    jump = (step > MIN_JUMP_M) & (speed > limit)
    # a jump in the distance channel shows as a step; a GPS point far away and back again shows as two
    if not jump.any():
        return samples, 0.0, 0.0
    cut = float(step[jump].sum())
    clean = np.where(jump, 0.0, np.maximum(step, 0.0))
    new = np.full(len(samples), np.nan)
    new[idx] = (dist[idx][0] if np.isfinite(dist[idx][0]) else 0.0) + np.concatenate([[0.0], np.cumsum(clean)])
    return samples.with_column("distance_m", new), cut, float(step[jump].max())


def check(activity: Activity) -> Activity:
    """The activity with implausible data removed and every change told in ``warnings``; sets
    ``excluded_reason`` for impossible totals (see the module docstring)."""
    s = activity.summary
    samples = activity.block
    warnings = list(s.warnings)
    changes: dict = {}
    whole = WHOLE_BUT_DAMAGED in s.warnings

    offset = quarter_hour_offset(s.utc_offset_s)
    if s.utc_offset_s is not None and offset is None:
        warnings.append("the file's time-zone offset is not a whole quarter hour; your own time zone is used")
    if offset != s.utc_offset_s:
        changes["utc_offset_s"] = offset
    if samples is not None and len(samples):
        samples = _clean_samples(s, samples, warnings, changes, resummarize=bool(s.partial) and not whole)
    has_samples = samples is not None and len(samples) > 0
    # a session total outside the heart's range (the file's own summary) is not a value either
    for key in ("avg_hr_bpm", "max_hr_bpm"):
        v = changes.get(key, getattr(s, key))
        if math.isfinite(v) and not HR_RANGE_BPM[0] <= v <= HR_RANGE_BPM[1]:
            changes[key] = float("nan")
    if s.sport == "other" and s.partial and has_samples:
        # a file cut short before it said its sport: guess it from the speed, as for an untyped track
        guess = infer_sport(samples.column("speed_m_s"))
        if guess != "other":
            changes.update(sport=guess, sport_inferred=True)
            warnings.append(f"the sport ({guess}) was guessed from the speed: the file was cut before it said")
    if s.partial and not whole:
        _say_partial(s, warnings, changes.get("elapsed_s", s.elapsed_s))
    if has_samples and _on_a_treadmill(s, samples):
        changes["surface"] = "treadmill"  # a run with a distance but no GPS track was on a treadmill
    new = dataclasses.replace(s, **changes) if changes else s
    reason = excluded_reason(new)
    if reason:
        warnings.append(f"left out of your load until you confirm or correct it: {reason}")
    new = dataclasses.replace(new, warnings=tuple(dict.fromkeys(warnings)), excluded_reason=reason)
    return Activity(new, block=samples)


def _clean_samples(s: Summary, samples: SampleBlock, warnings: list[str], changes: dict, *,
                   resummarize: bool) -> SampleBlock:
    """``samples`` without damaged times, impossible heart rates and GPS jumps, each told in ``warnings``;
    the totals they change go into ``changes`` (all of them when ``resummarize``: a damaged file's
    totals are its surviving samples')."""
    samples, dropped = _keep_continuous(samples)
    if dropped:
        warnings.append(f"{_count(dropped, 'point')} with damaged times left out")
        resummarize = True
    hr = samples.column("heart_rate_bpm")
    bad_hr = np.isfinite(hr) & ((hr < HR_RANGE_BPM[0]) | (hr > HR_RANGE_BPM[1]))
    if bad_hr.any():
        samples = samples.with_column("heart_rate_bpm", np.where(bad_hr, np.nan, hr))
        warnings.append(f"{_count(int(bad_hr.sum()), 'heart-rate reading')} outside 25-230 bpm left out")
        resummarize = True
    samples, cut_m, largest_m = _cut_jumps(samples, s.sport,
                                           real_positions=(s.sub_sport or "") not in VIRTUAL_SUB_SPORTS)
    if cut_m > 0:
        # a point far away and back is one glitch: name the farthest step, and the total cut
        warnings.append(f"a GPS jump of {_km(largest_m)} was left out of the distance"
                        + (f" ({_km(cut_m)} in all)" if cut_m > largest_m * 1.01 else ""))
    if not (resummarize or cut_m > 0):
        return samples
    fig = summarize_samples(samples, with_ascent=not math.isfinite(s.ascent_m))
    if resummarize:
        changes.update(start_utc=fig["start_utc"], elapsed_s=fig["elapsed_s"], moving_s=fig["moving_s"],
                       avg_hr_bpm=fig["avg_hr_bpm"], max_hr_bpm=fig["max_hr_bpm"],
                       hr_seconds_by_bpm=fig["hr_seconds_by_bpm"])
        changes["distance_m"] = _track_distance_m(samples, fig["distance_m"])
    if cut_m > 0:
        before = s.distance_m if math.isfinite(s.distance_m) else fig["distance_m"]
        changes["distance_m"] = min(fig["distance_m"], max(0.0, before - cut_m)) \
            if math.isfinite(fig["distance_m"]) else max(0.0, before - cut_m)
    return samples


def _say_partial(s: Summary, warnings: list[str], elapsed_s: float) -> None:
    """Name a damaged file partial in its first warning, once."""
    if s.warnings and not s.warnings[0].startswith("partial"):
        # the reader already said what the damage cost ("cut short after 41 min; 2,010 of about 3,300
        # points kept"): name it partial once, in the reader's words, rather than a second time
        warnings[0] = f"partial: {s.warnings[0]}"
    elif not s.warnings:
        what = f"cut short after {duration_words(elapsed_s)}" if math.isfinite(elapsed_s) and elapsed_s > 0 \
            else "damaged"
        warnings.insert(0, f"partial: {what}; what could be read was kept")


def _on_a_treadmill(s: Summary, samples: SampleBlock) -> bool:
    """A run that says no surface, has a distance and samples but no GPS track, and no outdoor sub-sport."""
    return s.surface is None and s.sport == "running" and not np.isfinite(samples.column("lat_deg")).any() \
        and math.isfinite(s.distance_m) and s.distance_m > 0 \
        and (s.sub_sport or "generic") in ("generic", "treadmill", "indoor_running")


def excluded_reason(s: Summary) -> str | None:
    """Why an activity's totals cannot be true for its sport, in plain words; None when plausible."""
    elapsed, dist = s.elapsed_s, s.distance_m
    if math.isfinite(elapsed) and elapsed > MAX_ELAPSED_S:
        return f"it lasts {duration_words(elapsed)}, longer than any single activity"
    moving = s.moving_s if math.isfinite(s.moving_s) and s.moving_s > 0 else elapsed
    if s.sport == "running" and math.isfinite(dist) and math.isfinite(moving) and moving > 0 and dist > 0:
        speed = dist / moving
        pace_s = int(round(1000.0 / speed))
        pace_txt = f"{pace_s // 60}:{pace_s % 60:02d}/km"
        if speed > max_run_speed_m_s(dist):
            return f"{_km(dist)} at {pace_txt} is faster than the world record"
        if s.sport_inferred and speed > UNTYPED_RUN_MAX_SPEED_M_S and dist > UNTYPED_RUN_MIN_DISTANCE_M:
            return f"sport uncertain: the file does not say, and {_km(dist)} at {pace_txt} is faster than most runs"
    if s.sport == "cycling" and math.isfinite(dist) and math.isfinite(moving) and moving > 0 \
            and dist > RIDE_CHECK_MIN_DISTANCE_M and dist / moving > MAX_RIDE_SPEED_M_S:
        return (f"{_km(dist)} at {dist / moving * 3.6:.0f} km/h on average is faster than the cycling hour record "
                f"({MAX_RIDE_SPEED_M_S * 3.6:.1f} km/h): a drive or a train recorded as a ride?")
    return None
