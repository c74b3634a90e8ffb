"""The cohort mode: a dozen generated runners on a local Dask cluster of 2 workers.

Every runner's weekly rows in ``weeks.parquet`` must equal that runner's own ``loadwatch report --json``
(the real single-runner CLI run on the same files, pain entries logged with ``pain add``), ``cohort
status`` must sort by concern and say it in plain words, and a re-run must decode nothing new.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import zipfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("distributed")
pytest.importorskip("pyarrow")

from loadwatch.dashboard.cli.main import main  # noqa: E402
from loadwatch.dashboard.pipelines import cohort_runner  # noqa: E402
from loadwatch.dashboard.pipelines.cohort_engine import read_table  # noqa: E402
from loadwatch.ingest.synth import SynthRun, fit_bytes, gpx_bytes  # noqa: E402

pytestmark = pytest.mark.slow  # a LocalCluster and a generated cohort: minutes, not seconds

AS_OF = date(2026, 7, 15)  # a Wednesday
FIRST_DAY = AS_OF - timedelta(weeks=8)

#: runner id -> (pain rows relative to AS_OF: (days before, hour, score, timing, symptoms), spike on the last run)
SCENARIOS: dict[str, tuple[list[tuple[int, int, int, str, str]], bool]] = {
    "ann": ([(2, 19, 3, "after", "both_legs")], False),               # emergency red flag
    "ben": ([(3, 19, 5, "after", "radiating_below_knee")], False),    # see a clinician
    "cat": ([(1, 12, 7, "during", "")], False),                       # pain above 5 while running: stop
    "dan": ([], True),                                                # a large spike yesterday
    "eve": ([(1, 12, 4, "during", ""), (10, 19, 3, "after", "")], False),  # 4/10 during, not rising: caution
    "fay": ([(21, 19, 2, "after", "")], False),                      # linked to her run that day
    "gus": ([], False),
    "hal": ([], False),
    "ivy": ([(12, 19, 1, "after", ""), (10, 19, 1, "after", ""), (5, 19, 3, "after", ""),
             (3, 19, 3, "after", "")], False),                    # pain after runs rising by 2: cut back
    "jon": ([], False),
    "kim": ([], False),
    "lou": ([], False),
}
#: (days before AS_OF, hour) of a pain entry -> the activity id it is linked to (filled as files are written)
LINKS: dict[tuple[int, int], str] = {}
ZIPPED = "kim"       # given as ROOT/kim.zip
MILES = "fay"        # settings.json: units mi
BROKEN = "hal"       # one broken FIT among good ones
WITH_GPX = "gus"     # GPX files beside FIT


#: A plausible 5:30/km: faster files are left out of the load as impossible (issue 12's world-record check).
PACE_S_PER_KM = 330


def _runs(runner: str, seed: int) -> list[SynthRun]:
    """Three runs a week from FIRST_DAY to two days before AS_OF (6-9 km at 5:30/km), plus a spike run
    yesterday for the spike scenario."""
    out = []
    day = FIRST_DAY
    i = 0
    while day < AS_OF - timedelta(days=1):
        if day.weekday() in (0, 2, 5):
            km = 6.0 + ((i + seed) % 4)
            out.append(SynthRun(start_utc=datetime(day.year, day.month, day.day, 7, tzinfo=UTC), duration_s=km * PACE_S_PER_KM,
                                distance_m=km * 1000, seed=seed * 100 + i,
                                sub_sport=("street", "trail")[i % 2]))
            i += 1
        day += timedelta(days=1)
    if SCENARIOS[runner][1]:
        y = AS_OF - timedelta(days=1)
        out.append(SynthRun(start_utc=datetime(y.year, y.month, y.day, 7, tzinfo=UTC), duration_s=21 * PACE_S_PER_KM,
                            distance_m=21000, seed=seed * 100 + 99))
    return out


def _run_day(runner: str, seed: int, k: int) -> date:
    return _runs(runner, seed)[k].start_utc.date()


def _pain_csv(rows) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["id", "at_local", "score", "timing", "location", "activity_id", "symptoms", "note"])
    for n, (days, hour, score, timing, symptoms) in enumerate(rows, start=1):
        at = datetime.combine(AS_OF - timedelta(days=days), datetime.min.time()).replace(hour=hour)
        w.writerow([n, at.isoformat(timespec="minutes"), score, timing, "lower_back", LINKS.get((days, hour), ""),
                    symptoms, ""])
    return buf.getvalue()


def _write_cohort(root: Path) -> dict[str, list[Path]]:
    """The cohort on disk; returns each runner's watch files (for the single-runner comparison)."""
    files: dict[str, list[Path]] = {}
    for seed, (runner, (pain, _spike)) in enumerate(SCENARIOS.items(), start=1):
        folder = root / runner
        folder.mkdir(parents=True)
        paths = []
        for k, run in enumerate(_runs(runner, seed)):
            if runner == WITH_GPX and k % 3 == 0:
                p = folder / f"run-{k:03d}.gpx"
                p.write_bytes(gpx_bytes(run))
            else:
                p = folder / f"run-{k:03d}.fit"
                p.write_bytes(fit_bytes(run))
            paths.append(p)
        if runner == BROKEN:
            (folder / "broken.fit").write_bytes(b"this is not a watch file, whatever its name says\n" * 4)
            paths.append(folder / "broken.fit")
        if runner == MILES:  # fay's pain entry is linked to her run of that day (id: the file's sha256)
            days, hour = pain[0][:2]
            linked = next(p for k, p in enumerate(paths) if _run_day(runner, seed, k) == AS_OF - timedelta(days=days))
            LINKS[(days, hour)] = hashlib.sha256(linked.read_bytes()).hexdigest()
        if pain:
            (folder / "pain.csv").write_text(_pain_csv(pain), encoding="utf-8")
        if runner == MILES:
            (folder / "settings.json").write_text(json.dumps({"units": "mi", "timezone": "UTC"}), encoding="utf-8")
        files[runner] = paths
    # one runner as an export archive instead of a folder
    folder = root / ZIPPED
    with zipfile.ZipFile(root / f"{ZIPPED}.zip", "w") as zf:
        for p in files[ZIPPED]:
            zf.write(p, f"activities/{p.name}")
    for p in folder.iterdir():
        p.unlink()
    folder.rmdir()
    files[ZIPPED] = [root / f"{ZIPPED}.zip"]
    return files


@pytest.fixture(scope="module", autouse=True)
def _stop_resource_tracker():
    """Dask's worker processes are started with multiprocessing's spawn, which leaves its resource-tracker
    process running for the life of this one; stop it after these tests so later tests that check for
    left-over child processes (the importer's) see none of ours."""
    yield
    from multiprocessing import resource_tracker

    stop = getattr(resource_tracker._resource_tracker, "_stop", None)
    if stop is not None:
        stop()


def imported_cohort(tmp_path_factory, name: str, add=None):
    """Write the generated cohort into a new folder ``name`` (``add(root)`` may add files), import it once
    through the real CLI on a LocalCluster of 2 workers, in UTC, and yield its folders, files and exit
    code (a generator for a module-scoped fixture)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TZ", "UTC")
        base = tmp_path_factory.mktemp(name)
        root, out = base / "root", base / "out"
        files = _write_cohort(root)
        if add is not None:
            add(root)
        code = main(["cohort", "import", str(root), "--out", str(out), "--workers", "2", "--as-of", AS_OF.isoformat()])
        yield {"root": root, "out": out, "files": files, "code": code, "base": base}


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    """The cohort imported once through the real CLI on a LocalCluster of 2 workers."""
    yield from imported_cohort(tmp_path_factory, "cohort")


def _single_runner_report(base: Path, runner: str, files: list[Path], root: Path, capsys) -> dict:
    """The runner's own `loadwatch report --json`, with pain logged the way a runner logs it."""
    db = base / "single" / f"{runner}.sqlite3"
    if not db.exists():
        assert main(["import", *map(str, files), "--db", str(db), "--workers", "0"]) in (0, 1)
        for days, hour, score, timing, symptoms in SCENARIOS[runner][0]:
            args = ["pain", "add", "--date", (AS_OF - timedelta(days=days)).isoformat(), "--time", f"{hour:02d}:00",
                    "--score", str(score), "--timing", timing, "--db", str(db)]
            for s in filter(None, symptoms.split(";")):
                args += ["--symptom", s]
            if (days, hour) in LINKS:
                args += ["--run", LINKS[(days, hour)]]
            assert main(args) == 0
        if runner == MILES:
            assert main(["settings", "set", "units", "mi", "--db", str(db)]) == 0
            assert main(["settings", "set", "timezone", "UTC", "--db", str(db)]) == 0
    capsys.readouterr()
    assert main(["report", "--json", "--as-of", AS_OF.isoformat(), "--weeks", "1000", "--db", str(db)]) == 0
    return json.loads(capsys.readouterr().out)


def test_every_runners_weeks_equal_their_single_runner_report(cohort, capsys):
    weeks = read_table(cohort["out"], "weeks")
    alerts = read_table(cohort["out"], "alerts")
    phases = read_table(cohort["out"], "phases")
    assert sorted(weeks["runner"].unique()) == sorted(SCENARIOS)
    for runner, files in cohort["files"].items():
        report = _single_runner_report(cohort["base"], runner, files, cohort["root"], capsys)
        expected = pd.DataFrame([cohort_runner.flatten_week(w) for w in report["weeks"]])
        assert len(expected) >= 8, runner
        got = weeks[weeks["runner"] == runner].drop(columns="runner").reset_index(drop=True)
        got["week_start"] = got["week_start"].astype(str)
        assert set(expected.columns) <= set(got.columns), runner
        assert {"surface_trail_km", "intensity_easy_min", "distance_km", "acwr"} <= set(got.columns)
        pd.testing.assert_frame_equal(got[expected.columns], expected, check_dtype=False, obj=runner)
        # the alerts (pain log included) are the runner's own too
        mine = alerts[alerts["runner"] == runner]
        assert sorted(zip(mine["rule"], mine["severity"], mine["message"], strict=True)) == sorted(
            (a["rule"], a["severity"], a["message"]) for a in report["alerts"]), runner
        # and so are the daily phases: the report's segments, one row per day
        assert report["phases"], runner
        expected_days = [(str(d.date()), seg["phase"], seg["step"], seg["reason"]) for seg in report["phases"]
                         for d in pd.date_range(seg["start"], seg["end"], freq="D")]
        mine = phases[phases["runner"] == runner]
        got_days = [(str(d), p, None if pd.isna(st) else int(st), r)
                    for d, p, st, r in zip(mine["date"], mine["phase"], mine["step"], mine["reason"], strict=True)]
        assert got_days == expected_days, runner
        assert report["plan"]["phase"] == expected_days[-1][1], runner


def test_runs_files_and_broken_file(cohort):
    assert cohort["code"] == 1  # a file failed, as `loadwatch import` says
    files = read_table(cohort["out"], "files")
    failed = files[files["status"] == "failed"]
    assert list(zip(failed["runner"], failed["name"], strict=True)) == [(BROKEN, "broken.fit")]
    assert failed["reason"].iloc[0]  # says what is wrong
    hal = files[(files["runner"] == BROKEN) & (files["status"] == "imported")]
    assert len(hal) == len(cohort["files"][BROKEN]) - 1  # the broken file stopped nothing
    from loadwatch.ingest.store import Store

    with Store(cohort_runner.store_path(cohort["out"], MILES), read_only=True) as store:
        assert list(store.pain()["activity_id"]) == list(LINKS.values())  # the link survived
    pain_rows = files[files["name"] == "pain.csv"]
    assert set(pain_rows["runner"]) == {r for r, (p, _s) in SCENARIOS.items() if p}
    assert (pain_rows["status"] == "imported").all()
    assert dict(zip(pain_rows["runner"], pain_rows["reason"], strict=True))["eve"] == "2 pain entries"
    assert dict(zip(pain_rows["runner"], pain_rows["reason"], strict=True))["ann"] == "1 pain entry"
    kim = files[files["runner"] == ZIPPED]
    assert (kim["status"] == "imported").sum() == len(_runs(ZIPPED, list(SCENARIOS).index(ZIPPED) + 1))
    runs = read_table(cohort["out"], "runs")
    dan = runs[runs["runner"] == "dan"].sort_values("start_local")
    assert dan["spike_category"].iloc[-1] == "large"
    assert {"runner", "id", "distance_km", "spike_pct", "safe_longest_km"} <= set(runs.columns)
    phases = read_table(cohort["out"], "phases")
    assert list(phases.columns) == list(cohort_runner.PHASE_COLUMNS)
    # one row per runner and local day, from the runner's first run to the import's day, no gap, no repeat
    assert set(phases["runner"]) == set(SCENARIOS)
    for seed, runner in enumerate(SCENARIOS, start=1):
        days = pd.to_datetime(phases[phases["runner"] == runner]["date"].astype(str))
        first = _runs(runner, seed)[0].start_utc.date()
        assert list(days) == list(pd.date_range(first, AS_OF, freq="D")), runner
    assert set(phases["phase"]) <= set(PHASES) and not phases["phase"].isna().any()


def test_status_sorted_by_concern_in_plain_words(cohort, capsys):
    capsys.readouterr()
    assert main(["cohort", "status", str(cohort["out"]), "--as-of", AS_OF.isoformat(), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["runner"] for r in rows][:6] == ["ann", "ben", "cat", "ivy", "dan", "eve"], [
        (r["runner"], r["concern"], r["phase"], r["status"]) for r in rows]
    by = {r["runner"]: r for r in rows}
    assert [by[r]["concern"] for r in ("ann", "ben", "cat", "ivy", "dan", "eve")] == [
        "emergency", "see_clinician", "stop", "red", "spike", "amber"]
    # the phase column is the episode timeline's phase of the day (issue 11), the same as phases.parquet's
    assert [by[r]["phase"] for r in ("ann", "ben", "cat", "ivy", "gus")] == [
        "emergency", "see_clinician", "stop", "reduce", "normal"]
    phases = read_table(cohort["out"], "phases")
    today = phases[phases["date"].astype(str) == AS_OF.isoformat()]
    assert dict(zip(today["runner"], today["phase"], strict=True)) == {r: by[r]["phase"] for r in SCENARIOS}
    ranks = [cohort_runner.CONCERNS.index(r["concern"]) for r in rows]
    assert ranks == sorted(ranks)
    assert by["ann"]["red_flags"] == ["both_legs"] and by["ann"]["status"] == "emergency"
    assert by["dan"]["latest_run_spike_category"] == "large"
    assert by["dan"]["latest_run_date"] == (AS_OF - timedelta(days=1)).isoformat()
    assert by["dan"]["latest_run_distance_km"] == pytest.approx(21.0, abs=0.01)
    assert by["eve"]["latest_pain_score"] == 4 and by["eve"]["latest_pain_date"] == "2026-07-14"
    assert by["gus"]["latest_pain_score"] is None and by["gus"]["red_flags"] == []
    assert by["fay"]["units"] == "mi"
    # this week (Mon 13 Jul - AS_OF): Monday's run; the 4 whole weeks before: 3 runs each
    assert by["lou"]["week_distance_km"] > 0
    assert by["lou"]["avg_4_weeks_distance_km"] > by["lou"]["week_distance_km"]

    capsys.readouterr()
    assert main(["cohort", "status", str(cohort["out"]), "--as-of", AS_OF.isoformat()]) == 0
    text = capsys.readouterr().out
    for words in ("urgent care now", "see a clinician", "cut back", "recent spike", "caution", "normal training",
                  "large spike", "Tue 14 Jul 2026", "4/10 on Tue 14 Jul 2026", " mi",
                  "stopped running", "stop running for now",
                  "pain, numbness or weakness in both legs", "not a diagnosis"):
        assert words in text, words
    for code in ("see_clinician", "both_legs", "None", "nan", "return_to_run"):
        assert code not in text, code
    assert text.index("ann") < text.index("ben") < text.index("cat") < text.index("ivy") < text.index("dan") \
        < text.index("eve") < text.index("lou")


def test_status_for_another_day_recomputes_from_the_stores(cohort, capsys):
    earlier = AS_OF - timedelta(days=14)
    capsys.readouterr()
    assert main(["cohort", "status", str(cohort["out"]), "--as-of", earlier.isoformat(), "--json"]) == 0
    rows = {r["runner"]: r for r in json.loads(capsys.readouterr().out)}
    assert all(r["as_of"] == earlier.isoformat() for r in rows.values())
    assert rows["ann"]["concern"] != "emergency"  # the red flag was logged later
    assert rows["dan"]["latest_run_spike_category"] != "large"


def test_rerun_decodes_nothing_new_and_a_new_file_only_its_runner(cohort, capsys):
    from loadwatch.dashboard.pipelines.cohort_engine import import_cohort

    weeks_before = read_table(cohort["out"], "weeks")
    capsys.readouterr()
    assert main(["cohort", "import", str(cohort["root"]), "--out", str(cohort["out"]), "--workers", "2",
                 "--as-of", AS_OF.isoformat()]) == 1  # the broken file is still broken
    out = capsys.readouterr().out
    assert "12 runners on 2 Dask workers" in out and "0 updated, 12 unchanged; 0 files decoded" in out
    pd.testing.assert_frame_equal(read_table(cohort["out"], "weeks"), weeks_before)

    # one new run for one runner: only that runner is processed, only that file decoded
    y = AS_OF
    (cohort["root"] / "lou" / "new.fit").write_bytes(fit_bytes(SynthRun(
        start_utc=datetime(y.year, y.month, y.day, 6, tzinfo=UTC), duration_s=1200, distance_m=5000, seed=7)))
    summary = import_cohort(cohort["root"], cohort["out"], workers=2, as_of=AS_OF)
    assert (summary.processed, summary.unchanged, summary.decoded) == (1, 11, 1)
    weeks = read_table(cohort["out"], "weeks")
    lou_before = weeks_before[weeks_before["runner"] == "lou"]["distance_km"].iloc[-1]
    lou_after = weeks[weeks["runner"] == "lou"]["distance_km"].iloc[-1]
    assert lou_after == pytest.approx(lou_before + 5.0, abs=0.01)
    others = weeks[weeks["runner"] != "lou"].reset_index(drop=True)
    pd.testing.assert_frame_equal(others, weeks_before[weeks_before["runner"] != "lou"].reset_index(drop=True))


def test_pain_and_settings_files_are_checked():
    from loadwatch.ingest.errors import IngestError
    from loadwatch.ingest.runner_files import read_pain_csv, read_settings_json

    entries = read_pain_csv(_pain_csv([(1, 12, 4, "during", "both_legs;night_pain")]).encode())
    assert entries[0].score == 4 and entries[0].symptoms == ("both_legs", "night_pain")
    with pytest.raises(IngestError, match=r"pain.csv: row 2: score must be a whole number"):
        read_pain_csv(b"id,at_local,score\n,2026-07-01T10:00,lots\n")
    with pytest.raises(IngestError, match="no score column"):
        read_pain_csv(b"id,at_local\n,2026-07-01T10:00\n")
    assert read_settings_json(b'{"units": "mi", "hr_max": 190}') == {"units": "mi", "hr_max": "190"}
    with pytest.raises(IngestError, match="settings.json: units must be one of"):
        read_settings_json(b'{"units": "furlongs"}')
    with pytest.raises(IngestError, match="unknown setting 'colour'"):
        read_settings_json(b'{"colour": "red"}')


def test_cohort_extra_is_not_loaded_by_the_single_runner_product():
    """Dask and rich load only with a cohort command (pyarrow is left out of the check: pandas 3 loads it
    by itself whenever it is installed)."""
    import subprocess
    import sys

    code = ("import sys; from loadwatch.dashboard.cli.main import main; from loadwatch.metrics.report import build_report; "
            "import loadwatch.ingest.importer; bad = [m for m in ('dask', 'distributed', 'rich') if m in sys.modules]; "
            "print(bad); sys.exit(1 if bad else 0)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_cohort_dashboard_overview_and_read_only_drill_down(cohort, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from tests.app_helpers import no_exceptions, texts

    monkeypatch.setenv("LOADWATCH_COHORT", str(cohort["out"]))
    stores = sorted((cohort["out"] / "runners").glob("*.sqlite3"))
    before = {p: p.stat().st_mtime_ns for p in stores}
    app = Path(__file__).resolve().parent.parent / "dashboard" / "app" / "cohort_page.py"
    at = AppTest.from_file(str(app), default_timeout=120).run()
    no_exceptions(at)
    at.date_input[0].set_value(AS_OF).run()
    no_exceptions(at)
    table = at.dataframe[0].value
    assert list(table["Runner"])[:6] == ["ann", "ben", "cat", "ivy", "dan", "eve"]
    assert list(table["Concern"])[:6] == ["urgent care now", "see a clinician", "stopped running", "cut back",
                                          "recent spike", "caution"]
    assert list(table["Phase"])[:4] == ["urgent care now", "see a clinician", "stop running for now", "cut back"]
    # under a red flag the history stays (the clinician needs it): the week's distance is shown
    assert "held back" not in " ".join(map(str, table["This week"]))
    assert re.search(r"\d (km|mi)$", table.loc[table["Runner"] == "ann", "This week"].iloc[0])
    assert "12 runners as of Wed 15 Jul 2026" in texts(at)

    at.selectbox[0].set_value("dan").run()
    no_exceptions(at)
    shown = texts(at)
    assert "Runner dan" in shown and "Next 7 days" in shown
    assert any("large spike" in (m.delta or "") for m in at.metric)
    assert "Weekly distance by surface (kilometres)" in shown

    at.selectbox[0].set_value("cat").run()  # stopped: the phase says so, and the plan gives no number
    no_exceptions(at)
    shown = texts(at)
    assert "Stop running for now since Tue 14 Jul 2026" in shown
    assert "at most" not in shown and "Longest single run" not in shown

    at.selectbox[0].set_value("ann").run()
    no_exceptions(at)
    shown = texts(at)
    assert "Get medical help now" in shown
    assert not at.metric  # no training numbers beside a red flag
    pain = at.dataframe[1].value
    assert list(pain["Pain"]) == ["3/10"]
    assert "pain, numbness or weakness in both legs" in pain["Symptoms"].iloc[0]
    assert {p: p.stat().st_mtime_ns for p in stores} == before  # read-only


def test_read_only_store_refuses_writes(cohort):
    from loadwatch.ingest.store import Store
    from loadwatch.ingest.store_errors import StoreError

    with Store(cohort_runner.store_path(cohort["out"], "gus"), read_only=True) as store:
        assert len(store.activities()) > 0
        with pytest.raises(StoreError, match="cannot be written because the file or its folder is read-only"):
            store.set_setting("units", "mi")
    with pytest.raises(FileNotFoundError):
        Store(cohort["out"] / "runners" / "nobody.sqlite3", read_only=True)
    assert not (cohort["out"] / "runners" / "nobody.sqlite3").exists()


def test_without_the_cohort_extra_the_command_says_how_to_install_it(tmp_path, monkeypatch, capsys):
    import sys

    monkeypatch.setitem(sys.modules, "distributed", None)  # import fails as if not installed
    assert main(["cohort", "import", str(tmp_path), "--out", str(tmp_path / "out")]) == 1
    assert "pip install 'loadwatch[cohort]'" in capsys.readouterr().err


PHASES = ("normal", "hold", "reduce", "stop", "return_to_run", "rebuild", "see_clinician", "emergency", None)
STATUSES = ("green", "amber", "red", "see_clinician", "emergency", None)


def test_concern_order_properties():
    from hypothesis import given, settings
    from hypothesis import strategies as hs

    rows = hs.lists(hs.tuples(hs.sampled_from(PHASES), hs.sampled_from(STATUSES), hs.booleans()), min_size=1,
                    max_size=20)

    @settings(deadline=None)  # a pandas frame per example: on a loaded machine one took over 200 ms
    @given(rows)
    def check(rows):
        frame = pd.DataFrame([{"runner": f"r{i:02d}", "concern": cohort_runner.concern(p, s, k)}
                              for i, (p, s, k) in enumerate(rows)])
        out = cohort_runner.sort_by_concern(frame)
        ranks = [cohort_runner.CONCERNS.index(c) for c in out["concern"]]
        assert ranks == sorted(ranks)
        assert sorted(out["runner"]) == sorted(frame["runner"])
        for p, s, spike in rows:
            c = cohort_runner.concern(p, s, spike)
            # a red flag always outranks training concerns, whatever else is going on
            if "emergency" in (p, s):
                assert c == "emergency"
            elif "see_clinician" in (p, s):
                assert c == "see_clinician"
            # a spike never lowers the concern, and never hides a stop or a cut-back
            assert cohort_runner.CONCERNS.index(cohort_runner.concern(p, s, True)) <= \
                cohort_runner.CONCERNS.index(cohort_runner.concern(p, s, False))

    check()


def test_dashboard_cohort_flag_starts_the_cohort_page(cohort, tmp_path, monkeypatch, capsys):
    from loadwatch.dashboard.cli import cmd_app

    started = {}

    class FakePopen:
        pid = None  # never signalled: cmd_app._stop is replaced below

        def __init__(self, cmd, env, **kwargs):
            started.update(cmd=cmd, env=env, **kwargs)

        def wait(self):
            return 0

    monkeypatch.setattr(cmd_app.subprocess, "Popen", FakePopen)
    monkeypatch.setattr(cmd_app, "_stop", lambda proc: started.setdefault("stopped", True))
    assert main(["dashboard", "--cohort", str(cohort["out"]), "--port", "8599"]) == 0
    assert started["start_new_session"] and started["stopped"]  # its own process group, stopped at the end
    assert str(cmd_app.COHORT_APP_PATH) in started["cmd"] and "127.0.0.1" in started["cmd"]
    assert started["env"]["LOADWATCH_COHORT"] == str(cohort["out"].resolve())
    assert "cohort:" in capsys.readouterr().out

    started.clear()
    assert main(["dashboard", "--cohort", str(tmp_path)]) == 1
    assert not started
    assert "no cohort here" in capsys.readouterr().err


def test_import_on_an_existing_cluster_by_scheduler_address(tmp_path, capsys):
    from distributed import LocalCluster

    root = tmp_path / "root"
    for seed, runner in enumerate(("gus", "ivy"), start=1):
        (root / runner).mkdir(parents=True)
        for k, run in enumerate(_runs(runner, seed)[:4]):
            (root / runner / f"run-{k}.fit").write_bytes(fit_bytes(run))
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, protocol="tcp", host="127.0.0.1",
                      dashboard_address=None) as cluster:
        code = main(["cohort", "import", str(root), "--out", str(tmp_path / "out"), "--scheduler",
                     cluster.scheduler_address, "--as-of", AS_OF.isoformat()])
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
    assert code == 0
    assert "2 runners on 1 Dask worker in" in capsys.readouterr().out
    weeks = read_table(tmp_path / "out", "weeks")
    assert sorted(weeks["runner"].unique()) == ["gus", "ivy"]


def test_a_runner_whose_task_fails_keeps_its_last_rows(tmp_path, monkeypatch, capsys):
    from distributed import Client, LocalCluster

    from loadwatch.dashboard.pipelines.cohort_engine import import_cohort

    root, out = tmp_path / "root", tmp_path / "out"
    for seed, runner in enumerate(("gus", "ivy"), start=1):
        (root / runner).mkdir(parents=True)
        for k, run in enumerate(_runs(runner, seed)[:4]):
            (root / runner / f"run-{k}.fit").write_bytes(fit_bytes(run))
    real = cohort_runner.runner_tables

    def broken(store, runner, as_of=None):
        if runner == "ivy":
            raise RuntimeError("boom")
        return real(store, runner, as_of)

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, protocol="tcp", host="127.0.0.1",
                      dashboard_address=None) as cluster, Client(cluster) as client:
        import_cohort(root, out, client=client, as_of=AS_OF)
        status_before = read_table(out, "status")
        (root / "ivy" / "new.fit").write_bytes(fit_bytes(_runs("ivy", 2)[5]))
        monkeypatch.setattr(cohort_runner, "runner_tables", broken)  # tasks run in this process's threads
        summary = import_cohort(root, out, client=client, as_of=AS_OF)
        assert summary.failed and summary.failed[0][:2] == ("ivy", "(runner)")
        assert "RuntimeError: boom" in summary.failed[0][2]
        pd.testing.assert_frame_equal(read_table(out, "status"), status_before)  # ivy is still on the list
        files = read_table(out, "files")
        assert files[(files["runner"] == "ivy") & (files["name"] == "(runner)")]["status"].tolist() == ["failed"]
        assert (files["runner"] == "ivy").sum() == 5  # its 4 files from the last run + the failure line
        capsys.readouterr()
        assert main(["cohort", "status", str(out), "--as-of", AS_OF.isoformat()]) == 0
        assert "Could not be processed in the last import (rows above are older or missing): ivy." in \
            capsys.readouterr().out

        monkeypatch.setattr(cohort_runner, "runner_tables", real)
        summary = import_cohort(root, out, client=client, as_of=AS_OF)
        assert (summary.processed, summary.failed) == (1, [])
        files = read_table(out, "files")
        assert "(runner)" not in set(files["name"]) and (files["runner"] == "ivy").sum() == 5


def test_the_local_cluster_listens_on_this_machine_only():
    from loadwatch.dashboard.pipelines.cohort_engine import start_client

    client, cluster = start_client(1, None)
    try:
        info = client.scheduler_info()
        addresses = [cluster.scheduler_address, *info["workers"]]
        assert all(a.startswith("tcp://127.0.0.1:") for a in addresses), addresses
        assert client.run(lambda: __import__("dask").config.get("distributed.worker.profile.enabled")) == {
            a: False for a in info["workers"]}
    finally:
        client.close()
        cluster.close()


def test_phases_and_phase_concern_from_an_episode_report():
    """When the report carries episode phases (issue 11), phases.parquet has one row per day and the
    status uses the plan's phase."""
    report = {
        "as_of": "2026-07-15", "units": "km", "latest_run": None, "weeks": [], "alerts": [],
        "plan": {"status": "amber", "phase": "stop"},
        "phases": [{"start": "2026-07-10", "end": "2026-07-12", "phase": "reduce", "step": None, "steps": None,
                    "reason": "pain 6/10 after a run"},
                   {"start": "2026-07-13", "end": "2026-07-15", "phase": "stop", "step": None, "steps": None,
                    "reason": "pain above 5 twice"}],
    }
    phases = cohort_runner.phases_frame(report, "ann")
    assert len(phases) == 6 and list(phases.columns) == list(cohort_runner.PHASE_COLUMNS)
    assert phases["date"].astype(str).tolist()[0] == "2026-07-10" and phases["phase"].tolist()[-1] == "stop"
    row = cohort_runner.status_row(report, None, "ann")
    assert (row["concern"], row["phase"], row["status"]) == ("stop", "stop", "amber")
    assert row["week_distance_km"] is None and row["avg_4_weeks_distance_km"] is None  # no weeks: missing, not 0
    assert cohort_runner.concern("rebuild", "green", False) == "rebuild"
    assert cohort_runner.concern("return_to_run", "green", True) == "spike"
