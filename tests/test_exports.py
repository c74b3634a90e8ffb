"""Issue 12 over generated files: twins and copies kept once, damage told, implausible data out of the load.

Every file is generated in code (``loadwatch.ingest.synth``), then damaged or converted the way real exports are."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from loadwatch.ingest import synth
from loadwatch.ingest.importer import import_paths
from loadwatch.ingest.plausible import quarter_hour_offset
from loadwatch.ingest.sources import read_activity
from loadwatch.ingest.store import Store
from loadwatch.metrics.daily import daily_series
from loadwatch.metrics.spike import run_table
from tests.helpers import zip_of

T0 = datetime(2024, 5, 6, 6, 30, tzinfo=UTC)


def run(day: int = 0, duration_s: int = 1800, distance_m: float = 5400.0, **kw) -> synth.SynthRun:
    return synth.SynthRun(T0 + timedelta(days=day), duration_s, distance_m, seed=day, **kw)


def import_in_order(store, tmp_path, files: list[tuple[str, bytes]]):
    """Import each file in its own batch, in order (as a runner importing two exports on two days)."""
    out = []
    for name, data in files:
        p = tmp_path / name
        p.write_bytes(data)
        out += import_paths(store, [p], workers=0)
    return out


def truncated(data: bytes, frac: float) -> bytes:
    """A FIT file cut short (a watch that died mid-run): the first ``frac`` of its bytes."""
    return data[: int(len(data) * frac)]


def glitched_gpx(r: synth.SynthRun, at: int, lat_shift_deg: float = 13.5) -> bytes:
    """The GPX of ``r`` with one point ``lat_shift_deg`` away (about 1,500 km): a GPS glitch."""
    text = synth.gpx_bytes(r).decode()
    points = list(re.finditer(r'<trkpt lat="([-0-9.]+)"', text))
    m = points[at]
    lat = float(m.group(1)) + lat_shift_deg
    return (text[: m.start(1)] + f"{lat:.7f}" + text[m.end(1):]).encode()


def weekly_run_km(store) -> float:
    daily = daily_series(store.activities(), store.hr_histograms(), store.settings())
    return float(daily["distance_km"].sum())


# --- 1. twins and copies ------------------------------------------------------------------------------------

@pytest.mark.parametrize("fit_first", [True, False])
def test_fit_and_untyped_converted_gpx_are_one_run_and_the_watch_file_wins(store, tmp_path, fit_first):
    r = run()
    fit = ("watch.fit", synth.fit_bytes(r))
    gpx = ("converted.gpx", synth.gpx_bytes(r, with_type=False))
    import_in_order(store, tmp_path, [fit, gpx] if fit_first else [gpx, fit])
    acts = store.activities()
    assert len(acts) == 1
    assert acts.loc[0, "format"] == "fit" and acts.loc[0, "sport"] == "running"
    assert acts.loc[0, "distance_m"] == pytest.approx(5400.0, rel=0.01)


def test_untyped_sport_matches_any_sport(store, tmp_path):
    r = run()
    other = synth.SynthRun(r.start_utc, r.duration_s, r.distance_m, sport="generic", seed=0)
    import_in_order(store, tmp_path, [("a.fit", synth.fit_bytes(r)), ("b.tcx", synth.tcx_bytes(other))])
    assert len(store.activities()) == 1


@pytest.mark.parametrize("partial_first", [True, False])
def test_complete_file_replaces_the_partial_one_in_both_orders(store, tmp_path, partial_first):
    r = run(duration_s=3600, distance_m=10_000.0)
    full = synth.fit_bytes(r)
    cut = truncated(full, 0.45)
    files = [("cut.fit", cut), ("full.fit", full)]
    out = import_in_order(store, tmp_path, files if partial_first else files[::-1])
    acts = store.activities()
    assert len(acts) == 1
    assert not acts.loc[0, "partial"] and acts.loc[0, "elapsed_s"] == pytest.approx(3599, abs=1)
    statuses = {o.name.split("/")[-1]: o.status for o in out}
    if partial_first:
        assert statuses == {"cut.fit": "imported", "full.fit": "replaced"}
    else:
        assert statuses == {"full.fit": "imported", "cut.fit": "duplicate"}


def test_pain_rpe_and_corrections_move_to_the_complete_file(store, tmp_path):
    from loadwatch.ingest.painlog import PainEntry

    r = run(duration_s=3600, distance_m=10_000.0)
    full = synth.fit_bytes(r)
    import_in_order(store, tmp_path, [("cut.fit", truncated(full, 0.45))])
    first = store.activities().loc[0, "id"]
    store.correct_activity(first, rpe=6, name="Forest loop", surface="trail")
    pid = store.add_pain(PainEntry(at_local=datetime(2024, 5, 6, 18, 0), score=3, timing="after",
                                   location="lower_back", activity_id=first))
    import_in_order(store, tmp_path, [("full.fit", full)])
    acts = store.activities()
    assert len(acts) == 1 and acts.loc[0, "id"] != first
    assert acts.loc[0, "rpe"] == 6 and acts.loc[0, "name"] == "Forest loop"
    assert acts.loc[0, "surface_override"] == "trail"
    assert store.pain().set_index("id").loc[pid, "activity_id"] == acts.loc[0, "id"]


@pytest.mark.parametrize("hours", [2, -5])
def test_clock_shifted_copy_is_the_same_run(store, tmp_path, hours):
    r = run(utc_offset_s=hours * 3600)  # the watch knew its offset; the copy wrote local time as UTC
    shifted = synth.SynthRun(r.start_utc + timedelta(hours=hours), r.duration_s, r.distance_m, seed=0)
    import_in_order(store, tmp_path, [("watch.fit", synth.fit_bytes(r)), ("resaved.gpx", synth.gpx_bytes(shifted))])
    acts = store.activities()
    assert len(acts) == 1 and acts.loc[0, "format"] == "fit"


def test_two_runs_hours_apart_with_different_distances_are_both_kept(store, tmp_path):
    a = run()
    b = synth.SynthRun(a.start_utc + timedelta(hours=10), a.duration_s, a.distance_m * 1.05, seed=3)
    import_in_order(store, tmp_path, [("am.fit", synth.fit_bytes(a)), ("pm.gpx", synth.gpx_bytes(b))])
    assert len(store.activities()) == 2


# --- 2. damage told -------------------------------------------------------------------------------------------

def test_partial_file_is_named_and_its_totals_come_from_surviving_samples(store, tmp_path):
    r = run(duration_s=3600, distance_m=10_000.0)
    out = import_in_order(store, tmp_path, [("cut.fit", truncated(synth.fit_bytes(r), 0.45))])
    (o,) = out
    assert o.status == "imported" and o.partial
    assert o.warnings and re.match(r"partial: cut short after \d+ min", o.warnings[0])
    acts = store.activities()
    row = acts.loc[0]
    assert row["partial"] and row["warnings"] == list(o.warnings)
    minutes = int(re.search(r"after (\d+) min", o.warnings[0]).group(1))
    assert 0 < row["elapsed_s"] < 3600 and abs(row["elapsed_s"] / 60 - minutes) <= 1
    assert 0 < row["distance_m"] < 10_000.0


def test_samples_with_a_damaged_timestamp_never_make_a_791_day_run():
    r = run()
    act = read_activity(synth.gpx_bytes(r), "run.gpx")
    samples = act.samples.copy()
    late = samples.index[-1] + pd.Timedelta(days=791)
    samples = pd.concat([samples, samples.iloc[[-1]].set_axis(pd.DatetimeIndex([late], name="time_utc"))])
    from dataclasses import replace

    from loadwatch.ingest.canonical import Activity
    from loadwatch.ingest.plausible import check

    damaged = Activity(replace(act.summary, elapsed_s=(late - samples.index[0]).total_seconds(), partial=True,
                               warnings=()), samples)
    fixed = check(damaged).summary
    assert fixed.elapsed_s == pytest.approx(1799, abs=2)
    assert any("damaged times" in w for w in fixed.warnings)


def test_odd_utc_offset_is_unknown():
    assert quarter_hour_offset(18 * 60) is None
    assert quarter_hour_offset(5.5 * 3600) == 19800.0 and quarter_hour_offset(-3600 + 1) == -3600.0
    act = read_activity(synth.fit_bytes(run(utc_offset_s=18 * 60)), "odd.fit")
    assert act.summary.utc_offset_s is None and any("quarter hour" in w for w in act.summary.warnings)
    assert read_activity(synth.fit_bytes(run(utc_offset_s=3600)), "ok.fit").summary.utc_offset_s == 3600


# --- 3. implausible data out of the load ----------------------------------------------------------------------

def test_gps_jump_is_cut_from_the_distance_and_leaves_the_week_untouched(store, tmp_path):
    clean = run()
    out = import_in_order(store, tmp_path, [("glitch.gpx", glitched_gpx(clean, at=900))])
    (o,) = out
    assert any("GPS jump of 1," in w for w in o.warnings), o.warnings
    acts = store.activities()
    assert acts.loc[0, "distance_m"] == pytest.approx(5400.0, rel=0.02)
    assert weekly_run_km(store) == pytest.approx(5.4, rel=0.02)


def test_heart_rate_outside_25_to_230_is_missing(tmp_path):
    r = run(heart_rate_bpm=150.0)
    text = synth.gpx_bytes(r).decode()
    text = text.replace("<gpxtpx:hr>1", "<gpxtpx:hr>2", 50)  # 50 readings of about 250 bpm
    act = read_activity(text.encode(), "hr.gpx")
    hr = act.samples["heart_rate_bpm"].to_numpy()
    assert np.nanmax(hr) <= 230 and np.isnan(hr).sum() >= 1
    assert act.summary.max_hr_bpm <= 230 and any("heart-rate" in w for w in act.summary.warnings)


def test_impossible_run_is_kept_but_left_out_until_confirmed(store, tmp_path):
    fast = run(duration_s=1800, distance_m=30_000.0)  # 30 km in 30 min
    normal = run(day=1)
    import_in_order(store, tmp_path, [("fast.fit", synth.fit_bytes(fast)), ("normal.fit", synth.fit_bytes(normal))])
    acts = store.activities()
    assert len(acts) == 2
    reason = acts.set_index("format").iloc[0]["excluded_reason"]
    assert reason and "world record" in reason
    assert weekly_run_km(store) == pytest.approx(5.4, rel=0.01)
    assert len(run_table(store.activities(), "UTC")) == 1
    fast_id = acts.loc[acts["distance_m"] > 20_000, "id"].item()
    store.correct_activity(fast_id, confirm=True)
    assert weekly_run_km(store) == pytest.approx(35.4, rel=0.01)


def test_untyped_track_faster_than_running_is_sport_uncertain(store, tmp_path):
    ride = run(duration_s=4180, distance_m=22_000.0)  # 3:10/km over 22 km, no <type>
    out = import_in_order(store, tmp_path, [("track.gpx", synth.gpx_bytes(ride, with_type=False))])
    assert out[0].excluded_reason and out[0].excluded_reason.startswith("sport uncertain")
    assert weekly_run_km(store) == 0.0
    aid = store.activities().loc[0, "id"]
    store.correct_activity(aid, sport="cycling")
    acts = store.activities()
    assert acts.loc[0, "sport"] == "cycling" and acts.loc[0, "excluded_reason"] is None
    daily = daily_series(acts, store.hr_histograms(), store.settings())
    assert daily["distance_km"].sum() == 0.0 and daily["cross_training_min"].sum() > 60


def test_run_without_gps_but_with_distance_is_on_a_treadmill(store, tmp_path):
    import_in_order(store, tmp_path, [("tm.fit", synth.fit_bytes(run(with_gps=False)))])
    from loadwatch.metrics.surface import surfaces

    assert surfaces(store.activities()).tolist() == ["treadmill"]


def test_default_surface_applies_to_runs_nothing_else_describes(store, tmp_path):
    from loadwatch.metrics.surface import surfaces

    import_in_order(store, tmp_path, [("a.fit", synth.fit_bytes(run())),
                                      ("b.fit", synth.fit_bytes(run(day=1, sub_sport="trail")))])
    assert surfaces(store.activities()).tolist() == ["unknown", "trail"]
    store.set_setting("default_surface", "road")
    assert surfaces(store.activities()).tolist() == ["road", "trail"]
    assert not math.isnan(store.activities()["distance_m"].sum())


# --- 5. sport and surface from the archive's metadata -----------------------------------------------------------

def strava_archive() -> bytes:
    """Laid out like Strava's *Download your account*: activities.csv (Activity Type, Activity Name,
    Filename; the CSV repeats some column names) beside activities/<id>.<ext>[.gz], in any order."""
    import gzip

    road = run(day=0)
    trail = run(day=1, sub_sport="generic")
    virtual = run(day=2, with_gps=False)
    ride = run(day=3, sport="cycling", distance_m=20_000.0)
    csv_text = (
        "Activity ID,Activity Date,Activity Name,Activity Type,Activity Description,Elapsed Time,Distance,"
        "Filename,Elapsed Time,Distance\n"
        '101,"May 6, 2024, 6:30:00 AM",Morning Run,Run,,1800,5.4,activities/101.fit.gz,1800,5400\n'
        '102,"May 7, 2024, 6:30:00 AM","Forest, muddy",Trail Run,,1800,5.4,activities/102.gpx,1800,5400\n'
        '103,"May 8, 2024, 6:30:00 AM",Zwift run,Virtual Run,,1800,5.4,activities/103.tcx.gz,1800,5400\n'
        '104,"May 9, 2024, 6:30:00 AM",Commute,Ride,,1800,20,activities/104.gpx.gz,1800,20000\n'
        '105,"May 10, 2024, 6:30:00 AM",Manual entry,Run,,1800,5,,1800,5000\n')
    return zip_of({
        "activities/101.fit.gz": gzip.compress(synth.fit_bytes(road)),
        "activities/102.gpx": synth.gpx_bytes(trail, with_type=False),
        "activities.csv": csv_text.encode(),
        "activities/103.tcx.gz": gzip.compress(synth.fit_bytes(virtual)),  # Strava keeps the upload's bytes
        "activities/104.gpx.gz": gzip.compress(synth.gpx_bytes(ride, with_type=False)),
        "profile.csv": b"Athlete ID\n1\n",
    })


def garmin_archive() -> bytes:
    """Laid out like Garmin Connect's *Export your data*: the summarized-activities JSON under
    DI_CONNECT/DI-Connect-Fitness and the files in a zip under DI-Connect-Uploaded-Files."""
    import json

    runs = {111: run(day=0), 222: run(day=1), 333: run(day=2), 444: run(day=3, with_gps=False)}
    kinds = {111: "trail_running", 222: {"typeKey": "track_running"}, 333: "street_running", 444: "treadmill_running"}
    summary = [{"summarizedActivitiesExport": [
        {"activityId": aid, "name": f"Activity {aid}", "activityType": kinds[aid],
         "startTimeGmt": r.start_utc.timestamp() * 1000 + (0 if aid != 333 else 20_000), "duration": 1_800_000}
        for aid, r in runs.items()]}]
    uploads = zip_of({f"runner@example.com_{aid}.fit": synth.fit_bytes(r) for aid, r in runs.items() if aid != 333}
                   | {"runner@example.com_9876.fit": synth.fit_bytes(runs[333])})  # not named by its id
    return zip_of({
        "DI_CONNECT/DI-Connect-Fitness/runner@example.com_0_summarizedActivities.json": json.dumps(summary).encode(),
        "DI_CONNECT/DI-Connect-Uploaded-Files/UploadedFiles_0-_Part1.zip": uploads,
    })


def _by_day(store) -> dict[int, dict]:
    from loadwatch.metrics.surface import surfaces

    acts = store.activities()
    acts["surface"] = surfaces(acts)
    return {int((row.start_utc - pd.Timestamp(T0)).days): row._asdict() for row in acts.itertuples()}


def test_strava_archive_gives_sports_surfaces_and_names(store, tmp_path):
    out = import_in_order(store, tmp_path, [("export_123.zip", strava_archive())])
    meta = [o for o in out if o.name.endswith("activities.csv")]
    assert meta and meta[0].status == "skipped" and "sports and names of 4 activities" in meta[0].reason  # the manual entry has no file
    got = _by_day(store)
    assert {d: (r["sport"], r["surface"], r["name"]) for d, r in got.items()} == {
        0: ("running", "unknown", "Morning Run"),
        1: ("running", "trail", "Forest, muddy"),
        2: ("running", "treadmill", "Zwift run"),
        3: ("cycling", "unknown", "Commute"),
    }
    # a re-import of the same archive changes nothing and the runner's corrections still win
    store.correct_activity(got[1]["id"], surface="road", name="Park")
    import_in_order(store, tmp_path, [("export_123.zip", strava_archive())])
    again = _by_day(store)
    assert again[1]["surface"] == "road" and again[1]["name"] == "Park" and len(again) == 4


def test_garmin_archive_gives_surfaces_by_activity_id_or_start_time(store, tmp_path):
    import_in_order(store, tmp_path, [("garmin_export.zip", garmin_archive())])
    got = _by_day(store)
    assert {d: (r["surface"], r["name"]) for d, r in got.items()} == {
        0: ("trail", "Activity 111"),
        1: ("track", "Activity 222"),
        2: ("road", "Activity 333"),  # matched by start time (20 s apart)
        3: ("treadmill", "Activity 444"),
    }
    weekly = daily_series(store.activities(), store.hr_histograms(), store.settings())
    assert weekly["surface_trail_km"].sum() == pytest.approx(5.4, rel=0.01)
    assert weekly["surface_unknown_km"].sum() == 0


def test_metadata_ends_sport_uncertain(store, tmp_path):
    fast = run(duration_s=4180, distance_m=22_000.0)
    csv_text = "Activity ID,Activity Name,Activity Type,Filename\n9,Club ride,Ride,activities/9.gpx\n"
    import_in_order(store, tmp_path, [("strava.zip", zip_of({"activities/9.gpx": synth.gpx_bytes(fast, with_type=False),
                                                           "activities.csv": csv_text.encode()}))])
    acts = store.activities()
    assert acts.loc[0, "sport"] == "cycling" and acts.loc[0, "excluded_reason"] is None
    assert acts.loc[0, "sport_from_file"] == "running"


def test_device_relative_fit_is_dated_from_timestamp_correlation():
    r = run(day=4, duration_s=900, distance_m=2700.0)
    act = read_activity(synth.fit_bytes(r, device_relative=True), "relative.fit")
    s = act.summary
    assert s.start_utc == pd.Timestamp(r.start_utc)
    assert act.samples.index[-1] == pd.Timestamp(r.start_utc) + pd.Timedelta(seconds=899)
    assert s.distance_m == pytest.approx(2700.0) and s.elapsed_s == pytest.approx(899)
    assert any("clock" in w for w in s.warnings)


# --- properties ------------------------------------------------------------------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_CLEAN = read_activity(synth.gpx_bytes(run(duration_s=1200, distance_m=3600.0)), "clean.gpx")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(glitches=st.lists(st.tuples(st.integers(1, 1198), st.floats(0.01, 20.0), st.booleans()), min_size=1,
                         max_size=4),
       hr=st.lists(st.tuples(st.integers(0, 1199), st.floats(-50, 400)), max_size=20))
def test_glitches_never_add_distance_and_bad_heart_rates_never_count(glitches, hr):
    """Whatever GPS points jump (0.01-20 degrees, a few points, any place) and whatever heart rates a
    strap sends, the checked distance stays within 2 % of the clean track and no kept heart rate lies
    outside 25-230 bpm."""
    from dataclasses import replace

    from loadwatch.ingest.canonical import Activity
    from loadwatch.ingest.gpx_reader import cumulative_distance_m
    from loadwatch.ingest.plausible import check

    samples = _CLEAN.samples.copy()
    lat = samples["lat_deg"].to_numpy().copy()
    for i, shift, north in glitches:
        lat[i] += shift if north else -shift
    samples["lat_deg"] = lat
    samples["distance_m"] = cumulative_distance_m(lat, samples["lon_deg"].to_numpy(), np.zeros(len(lat), int))
    heart = samples["heart_rate_bpm"].to_numpy().copy()
    for i, bpm in hr:
        heart[i] = bpm
    samples["heart_rate_bpm"] = heart
    dirty = replace(_CLEAN.summary, distance_m=float(samples["distance_m"].iloc[-1]), warnings=())
    checked = check(Activity(dirty, samples))
    assert checked.summary.distance_m <= dirty.distance_m + 1e-6
    assert checked.summary.distance_m == pytest.approx(_CLEAN.summary.distance_m, rel=0.02)
    kept = checked.samples["heart_rate_bpm"].to_numpy()
    kept = kept[np.isfinite(kept)]
    assert ((kept >= 25) & (kept <= 230)).all()
    assert math.isnan(checked.summary.max_hr_bpm) or 25 <= checked.summary.max_hr_bpm <= 230


def test_two_identical_treadmill_sessions_hours_apart_are_two_runs(store, tmp_path):
    """Same preset distance and time, morning and evening, both from the watch (each knows its offset):
    two runs, not a clock-shifted copy."""
    am = run(with_gps=False, utc_offset_s=3600)
    pm = synth.SynthRun(am.start_utc + timedelta(hours=9), am.duration_s, am.distance_m, seed=5, with_gps=False,
                        utc_offset_s=3600)
    import_in_order(store, tmp_path, [("am.fit", synth.fit_bytes(am)), ("pm.fit", synth.fit_bytes(pm))])
    assert len(store.activities()) == 2


def test_clock_shift_must_match_the_watch_files_offset(store, tmp_path):
    watch = run(utc_offset_s=7200)
    wrong = synth.SynthRun(watch.start_utc + timedelta(hours=5), watch.duration_s, watch.distance_m, seed=6)
    right = synth.SynthRun(watch.start_utc + timedelta(hours=2), watch.duration_s, watch.distance_m, seed=7)
    import_in_order(store, tmp_path, [("watch.fit", synth.fit_bytes(watch)), ("other.gpx", synth.gpx_bytes(wrong)),
                                      ("resaved.gpx", synth.gpx_bytes(right))])
    assert sorted(store.activities()["format"]) == ["fit", "gpx"]


_TWINS_RUN = run(day=6, duration_s=2400, distance_m=7200.0, utc_offset_s=7200)
_TWINS = {
    "watch.fit": synth.fit_bytes(_TWINS_RUN),
    "cut.fit": truncated(synth.fit_bytes(_TWINS_RUN), 0.5),
    "strava.gpx": synth.gpx_bytes(_TWINS_RUN, with_type=False),
    "resaved.tcx": synth.tcx_bytes(synth.SynthRun(_TWINS_RUN.start_utc + timedelta(hours=2), 2400, 7200.0, seed=6)),
}


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(order=st.permutations(sorted(_TWINS)), batches=st.booleans())
@pytest.mark.slow
def test_any_order_of_copies_keeps_one_run_from_the_complete_watch_file(tmp_path_factory, order, batches):
    """However the copies of one run arrive (one batch or one file at a time, any order): one activity,
    the complete watch file, with the true distance."""
    folder = tmp_path_factory.mktemp("twins")
    with Store(folder / "s.sqlite3") as s:
        if batches:
            import_in_order(s, folder, [(n, _TWINS[n]) for n in order])
        else:
            sub = folder / "all"
            sub.mkdir()
            for i, n in enumerate(order):
                (sub / f"{i}_{n}").write_bytes(_TWINS[n])
            import_paths(s, [sub], workers=0)
        acts = s.activities()
    assert len(acts) == 1
    assert acts.loc[0, "format"] == "fit" and not acts.loc[0, "partial"]
    assert acts.loc[0, "distance_m"] == pytest.approx(7200.0, rel=0.001)
