"""The small things a runner notices (issue 21): one date format, a split's time and pace that agree,
climb in feet for a runner in miles, descent recorded, a virtual ride's distance, an implausible ride,
the local day of a GPX run without a time zone, the watch's own file kept over a program's re-save, and
shoes chosen on the Activities page."""

from __future__ import annotations

import ast
import gzip
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from loadwatch.dashboard.cli.main import main
from loadwatch.ingest import plausible, synth
from loadwatch.ingest.canonical import Activity, Summary, make_samples
from loadwatch.ingest.importer import import_files
from loadwatch.ingest.sources import read_activity
from loadwatch.ingest.store import Store
from loadwatch.metrics import fmt, track
from tests.app_helpers import PAGES_DIR, no_exceptions, texts
from tests.helpers import open_store as store  # the store at $LOADWATCH_DB

ROOT = Path(__file__).resolve().parent.parent


# --- one date format ----------------------------------------------------------------------------------

def test_every_date_picker_writes_dates_one_way():
    formats = {}
    for path in sorted((ROOT / "dashboard").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "date_input":
                kw = {k.arg: k.value for k in node.keywords}
                assert "format" in kw, f"{path.name}:{node.lineno}: a date_input without a format"
                value = kw["format"]
                text = (fmt.DATE_INPUT_FORMAT if isinstance(value, ast.Attribute) and value.attr == "DATE_INPUT_FORMAT"
                        else ast.literal_eval(value))
                formats[f"{path.name}:{node.lineno}"] = text
    assert len(formats) >= 5 and set(formats.values()) == {fmt.DATE_INPUT_FORMAT}, formats


def test_pain_log_page_shows_one_date_format(tmp_path):
    at = AppTest.from_file(str(PAGES_DIR / "pain_log.py"), default_timeout=90).run()
    no_exceptions(at)
    assert len(at.date_input) >= 2
    assert {d.proto.format for d in at.date_input} == {fmt.DATE_INPUT_FORMAT}


# --- splits: time and pace from one rounding ------------------------------------------------------------

def _samples(n_s: int, metres_per_s, elevation=None) -> pd.DataFrame:
    t = pd.Timestamp("2024-06-01 07:00", tz="UTC") + pd.to_timedelta(np.arange(n_s), unit="s")
    speed = np.broadcast_to(np.asarray(metres_per_s, dtype=float), (n_s,))
    dist = np.concatenate([[0.0], np.cumsum(speed[:-1])])
    channels = {"distance_m": dist, "speed_m_s": speed}
    if elevation is not None:
        channels["elevation_m"] = elevation
    return make_samples(t, channels)


@pytest.mark.parametrize("units", ["km", "mi"])
def test_a_whole_split_shows_the_same_time_as_its_pace(units):
    rng = np.random.default_rng(3)
    # 7:33.6 per km on average with a wobble: boundaries fall between samples, as on a real watch
    speed = 1000 / 453.6 * (1 + 0.08 * np.sin(np.arange(4000) / 97.0) + rng.normal(0, 0.02, 4000))
    s = track.splits(_samples(4000, speed), units)
    whole = s[s["distance"] > 0.999]
    assert len(whole) >= 2
    for t, p, d in zip(whole["time_s"], whole["pace_s"], whole["distance"], strict=True):
        assert d == pytest.approx(1.0)
        assert fmt.clock(t) == fmt.pace_clock(p)  # 7:33 beside 7:34 /km no more
    # the splits add up to the run: time to the last sample, distance to the last metre
    assert s["time_s"].sum() == pytest.approx(3999.0, abs=0.01)
    unit_m = 1000.0 if units == "km" else 1609.344
    assert s["distance"].sum() * unit_m == pytest.approx(float(np.sum(speed[:-1])), rel=1e-9)
    last = s.iloc[-1]
    assert last["distance"] < 1 and last["pace_s"] == pytest.approx(last["time_s"] / last["distance"])


# --- climb and descent -----------------------------------------------------------------------------------

def test_climb_in_feet_for_a_runner_in_miles():
    assert fmt.elevation(100, "km") == "100 m"
    assert fmt.elevation(100, "mi") == "328 ft"
    assert fmt.elevation(float("nan"), "mi") == fmt.MISSING


def _downhill_gpx(drop_m: float = 500.0, n: int = 900) -> bytes:
    t0 = datetime(2024, 6, 1, 8, 0, tzinfo=UTC)
    rng = np.random.default_rng(0)
    ele = 900 - drop_m * np.arange(n) / (n - 1) + rng.normal(0, 0.1, n)  # barometer noise
    pts = "".join(
        f'<trkpt lat="{46.0 + i * 2.5e-5:.7f}" lon="{7.0 + i * 1e-5:.7f}"><ele>{ele[i]:.2f}</ele>'
        f"<time>{(t0 + timedelta(seconds=2 * i)).strftime('%Y-%m-%dT%H:%M:%SZ')}</time></trkpt>"
        for i in range(n))
    return (f'<?xml version="1.0"?><gpx version="1.1" creator="test" xmlns="http://www.topografix.com/GPX/1/1">'
            f"<trk><type>running</type><trkseg>{pts}</trkseg></trk></gpx>").encode()


def test_descent_is_recorded_like_the_climb(capsys):
    activity = read_activity(_downhill_gpx(), "downhill.gpx")
    assert activity.summary.descent_m == pytest.approx(500, rel=0.02)
    assert activity.summary.ascent_m < 5
    run = synth.SynthRun(datetime(2024, 6, 2, 7, tzinfo=UTC), 1800, 5000.0)
    fit = read_activity(synth.fit_bytes(run), "hills.fit").summary  # the session's own total_descent
    ele = run.channels()["elevation_m"]
    assert fit.descent_m == pytest.approx(float(np.sum(np.clip(-np.diff(ele), 0, None))), abs=1)
    with store() as s:
        outcomes = import_files(s, [("downhill.gpx", _downhill_gpx()), ("hills.fit", synth.fit_bytes(run))],
                                workers=0)
        assert [o.status for o in outcomes] == ["imported", "imported"]
        acts = s.activities().set_index("source")
    assert acts.loc["downhill.gpx", "descent_m"] == pytest.approx(500, rel=0.02)
    assert main(["activities", "--json"]) == 0
    import json

    by_source = {r["source"]: r for r in json.loads(capsys.readouterr().out)}
    assert by_source["downhill.gpx"]["descent_m"] == pytest.approx(500, rel=0.02)


def test_a_store_from_before_descent_opens_with_descent_missing_not_zero(tmp_path):
    import shutil

    old = tmp_path / "v1.sqlite3"
    shutil.copyfile(ROOT / "tests" / "data" / "store_v1.sqlite3", old)
    with Store(old) as s:
        acts = s.activities()
    assert len(acts) and acts["descent_m"].isna().all()


def test_splits_and_summary_in_feet_on_the_activities_page(history):
    with store() as s:
        s.set_setting("units", "mi")
    at = AppTest.from_file(str(PAGES_DIR / "activities.py"), default_timeout=90).run()
    no_exceptions(at)
    climb = next(m for m in at.metric if m.label == "Climb")
    assert climb.value.endswith(" ft"), climb.value
    splits = next(d.value for d in at.dataframe if "climb" in d.value.columns)
    assert all(v.endswith(" ft") for v in splits["climb"]) and all(v.endswith(" ft") for v in splits["descent"])
    assert not any(v.endswith(" m") for v in splits["climb"])
    # the elevation trace too: in feet, drawn from the same samples (the summary said ft beside "elevation (m)")
    import json

    from tests.app_helpers import charts

    [elevation] = [json.loads(c.proto.spec) for c in charts(at) if "elevation" in c.proto.spec]
    assert elevation["encoding"]["y"]["title"] == "elevation (ft)"
    assert elevation["encoding"]["y"]["field"] == "elevation_ft"


# --- a virtual ride and an implausible ride --------------------------------------------------------------

def test_a_virtual_ride_keeps_its_session_distance():
    """A Zwift ride: no distance in the records, positions in a game world that jumps (the start pen, a
    change of world), and a session of 14.9 km.  It was stored as 0.00 km."""
    n = 1800
    t = pd.Timestamp("2024-03-04 18:00", tz="UTC") + pd.to_timedelta(np.arange(n), unit="s")
    lat = np.where(np.arange(n) < 300, 0.0, -11.64 + np.arange(n) * 1e-5)  # (0, 0), then Watopia
    lon = np.where(np.arange(n) < 300, 0.0, 166.95 + np.arange(n) * 1e-5)
    samples = make_samples(t, {"lat_deg": lat, "lon_deg": lon, "speed_m_s": np.full(n, 8.3),
                               "heart_rate_bpm": np.full(n, 140.0)})
    s = Summary(id="zwift", source="zwift.fit.gz", format="fit", sport="cycling", sub_sport="virtual_activity",
                start_utc=t[0], utc_offset_s=3600.0, elapsed_s=1799.0, moving_s=1799.0, distance_m=14_900.0,
                device="zwift 0")
    checked = plausible.check(Activity(s, samples)).summary
    assert checked.distance_m == pytest.approx(14_900.0)
    assert not any("GPS jump" in w for w in checked.warnings) and checked.excluded_reason is None
    # the same positions on an outdoor ride are a GPS jump, cut as before
    outdoor = plausible.check(Activity(Summary(**{**s.__dict__, "sub_sport": "road"}), samples)).summary
    assert any("GPS jump" in w for w in outdoor.warnings)


def test_a_zwift_ride_from_a_strava_archive_is_stored_with_its_distance(capsys):
    run = synth.SynthRun(datetime(2024, 3, 4, 18, tzinfo=UTC), 1800, 14_900.0, sport="cycling",
                         sub_sport="virtual_activity", with_gps=False, cadence_spm=None)
    with store() as s:
        [o] = import_files(s, [("activities/123.fit.gz", gzip.compress(synth.fit_bytes(run)))], workers=0)
        assert o.status == "imported"
    main(["activities"])
    assert "14.90" in capsys.readouterr().out


def test_a_ride_faster_than_the_hour_record_is_left_out_until_confirmed():
    def ride(km: float, hours: float) -> Summary:
        return Summary(id="r", source="r.fit", format="fit", sport="cycling", sub_sport="road",
                       start_utc=pd.Timestamp("2024-03-04 08:00", tz="UTC"), utc_offset_s=0.0,
                       elapsed_s=hours * 3600, moving_s=hours * 3600, distance_m=km * 1000)

    reason = plausible.excluded_reason(ride(312.9, 312.9 / 88))
    assert reason and "312.9 km at 88 km/h" in reason and "hour record" in reason
    assert plausible.excluded_reason(ride(90, 3)) is None  # 30 km/h
    assert plausible.excluded_reason(ride(8, 8 / 70)) is None  # a short descent may be fast
    assert plausible.excluded_reason(ride(160, 160 / 45)) is None  # a fast group ride


# --- the local day of a GPX run without a time zone -------------------------------------------------------

def _gpx_run(start: datetime) -> bytes:
    return synth.gpx_bytes(synth.SynthRun(start, 1800, 5000.0, seed=7))


def _fit_run(start: datetime, offset_s: int, seed: int) -> bytes:
    return synth.fit_bytes(synth.SynthRun(start, 1800, 6000.0, utc_offset_s=offset_s, seed=seed))


def test_the_import_says_the_same_day_for_a_gpx_run_as_the_activities_list(tmp_path, capsys):
    ny = -5 * 3600
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "watch.fit").write_bytes(_fit_run(datetime(2024, 1, 14, 12, tzinfo=UTC), ny, 1))
    (folder / "evening.gpx").write_bytes(_gpx_run(datetime(2024, 1, 16, 2, 0, tzinfo=UTC)))
    assert main(["import", str(folder), "--workers", "0"]) == 0
    out = capsys.readouterr().out
    assert "Imported: Mon 15 Jan 2024  run" in out and "evening.gpx" in out, out
    assert main(["import", str(folder), "--workers", "0", "--json"]) == 0  # duplicates now: no start to say
    capsys.readouterr()


def test_a_gpx_run_without_a_time_zone_takes_the_offset_of_the_watch_files_around_it(capsys):
    ny = -5 * 3600  # New York in winter; the machine here is UTC (conftest sets TZ=UTC)
    files = [("watch1.fit", _fit_run(datetime(2024, 1, 8, 12, tzinfo=UTC), ny, 1)),
             ("watch2.fit", _fit_run(datetime(2024, 1, 20, 12, tzinfo=UTC), ny, 2)),
             # 21:00 in New York on Monday 15 January is 02:00 UTC on Tuesday
             ("evening.gpx", _gpx_run(datetime(2024, 1, 16, 2, 0, tzinfo=UTC)))]
    with store() as s:
        import_files(s, files, workers=0)
        acts = s.activities().set_index("source")
    assert acts.loc["evening.gpx", "utc_offset_s"] == ny
    main(["activities", "--json"])
    import json

    evening = next(r for r in json.loads(capsys.readouterr().out) if r["source"] == "evening.gpx")
    assert evening["start_local"].startswith("2024-01-15T21:00")
    # a time zone the runner sets wins over the borrowed offset
    main(["settings", "set", "timezone", "Europe/London"])
    with store() as s:
        assert np.isnan(s.activities().set_index("source").loc["evening.gpx", "utc_offset_s"])
    capsys.readouterr()


def test_without_watch_files_near_it_a_gpx_run_is_in_the_machines_time_zone(monkeypatch):
    from loadwatch.metrics.daily import local_starts

    monkeypatch.setenv("TZ", "America/New_York")
    files = [("old.fit", _fit_run(datetime(2023, 6, 1, 12, tzinfo=UTC), 2 * 3600, 1)),  # months away
             ("evening.gpx", _gpx_run(datetime(2024, 1, 16, 2, 0, tzinfo=UTC)))]
    with store() as s:
        import_files(s, files, workers=0)
        acts = s.activities()
        zone = s.settings().timezone
    assert zone == "America/New_York"
    gpx = acts[acts["source"] == "evening.gpx"]
    assert np.isnan(gpx["utc_offset_s"].iloc[0])
    assert local_starts(gpx, zone).iloc[0] == pd.Timestamp("2024-01-15 21:00")


# --- the watch's own file over a program's re-save -------------------------------------------------------

def _watch_and_resave() -> tuple[tuple[str, bytes], tuple[str, bytes]]:
    start = datetime(2024, 5, 25, 15, 0, tzinfo=UTC)  # 17:00 in Paris
    watch = synth.SynthRun(start, 3600, 10_000.0, utc_offset_s=7200, seed=5)
    # GoldenCheetah's re-save: local time written as UTC (two hours late), no offset, and more channels
    resave = synth.SynthRun(start + timedelta(hours=2), 3600, 10_000.0, utc_offset_s=None, seed=5,
                            with_dynamics=True)
    return ("watch.fit", synth.fit_bytes(watch)), ("goldencheetah.fit", synth.fit_bytes(resave))


@pytest.mark.parametrize("order", ["resave_first", "watch_first"])
def test_the_watchs_own_file_is_kept_over_a_resave_whatever_the_order(order):
    watch, resave = _watch_and_resave()
    with store() as s:
        for f in ([resave, watch] if order == "resave_first" else [watch, resave]):
            import_files(s, [f], workers=0)
        acts = s.activities()
        assert len(acts) == 1
        kept = acts.iloc[0]
        assert kept["source"] == "watch.fit" and kept["utc_offset_s"] == 7200
        assert kept["start_utc"] == pd.Timestamp("2024-05-25 15:00", tz="UTC")
        # a rebuild re-decides with the same rule and keeps the same file
        s.rebuild()
        again = s.activities()
        assert list(again["source"]) == ["watch.fit"] and again.iloc[0]["id"] == kept["id"]


# --- shoes on the Activities page ------------------------------------------------------------------------

def test_a_run_is_put_in_a_pair_of_shoes_on_the_activities_page(history):
    with store() as s:
        s.add_shoe("Pegasus 40")
        s.add_shoe("Old trail shoes")
        s.retire_shoe("Old trail shoes", "2020-01-01")
    at = AppTest.from_file(str(PAGES_DIR / "activities.py"), default_timeout=90).run()
    no_exceptions(at)
    run_id = next(b for b in at.selectbox if b.label == "Run").value
    shoes = next(b for b in at.selectbox if b.label == "Shoes")
    assert shoes.options == ["no pair", "Pegasus 40"]  # a pair retired before the run cannot take it
    shoes.set_value("Pegasus 40")
    next(b for b in at.button if b.label == "Save").click().run()
    no_exceptions(at)
    with store() as s:
        given = s.activity_shoes().set_index("activity_id")
    assert given.loc[run_id, "shoe"] == "Pegasus 40"
    assert "Saved: shoe Pegasus 40." in texts(at)
    # and out of it again
    next(b for b in at.selectbox if b.label == "Shoes").set_value("")
    next(b for b in at.button if b.label == "Save").click().run()
    with store() as s:
        assert run_id not in set(s.activity_shoes()["activity_id"])


def test_the_pain_charts_date_axis_names_each_day_once():
    """A few days of entries were labelled every 12 hours: "1 Dec 2026, 1 Dec 2026, 2 Dec 2026...".  Drawn
    by Vega itself (vl-convert), the axis's labels are all different."""
    import re as _re

    import vl_convert

    from loadwatch.dashboard import charts as charts_mod

    pain = pd.DataFrame({"at_local": pd.to_datetime(["2026-12-01 08:00", "2026-12-02 19:00", "2026-12-03 08:00"]),
                         "score": [2, 5, 3], "timing": ["next_morning", "after", "next_morning"]})
    svg = vl_convert.vegalite_to_svg(charts_mod.pain_history(pain).to_dict())
    labels = [t for t in _re.findall(r"<text[^>]*>([^<]*)</text>", svg) if _re.fullmatch(r"\d{1,2} \w{3} \d{4}", t)]
    assert len(labels) >= 2 and len(labels) == len(set(labels)), labels
