"""The cohort's research view (issue 25): exposures, outcomes, the Cox model, `cohort analyse` and
`cohort export`.

The statistics are tested on generated tables (``tests/cohort_sim.py``) without Dask: a planted hazard
ratio of 2 after runs more than 30 % longer than the 30-day longest must lie inside the reported 95 %
interval, and the null categories' intervals must cover 1.  One end-to-end path goes through the real
`loadwatch cohort import` and `loadwatch cohort analyse` on a small cohort of watch files.
"""

from __future__ import annotations

import json
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("lifelines")
pytest.importorskip("distributed")
pytest.importorskip("pyarrow")

from loadwatch.dashboard.cli.main import main  # noqa: E402
from loadwatch.dashboard.pipelines.cohort_cox import MIN_EVENTS, fit_all, fit_exposure  # noqa: E402
from loadwatch.dashboard.report import cohort_analysis  # noqa: E402
from loadwatch.metrics import exposure as ex  # noqa: E402
from loadwatch.metrics.load import acwr  # noqa: E402
from tests.cohort_sim import generate, write_tables  # noqa: E402
from tests.test_cohort import AS_OF, SCENARIOS, _stop_resource_tracker, imported_cohort  # noqa: E402, F401

pytestmark = pytest.mark.slow  # survival fits over generated cohorts and a real cohort import

D0 = date(2026, 3, 2)  # a Monday


def _day(n: int) -> date:
    return D0 + timedelta(days=n)


def _sessions_of(tables, outcome="flare-up"):
    days = ex.outcome_days(tables["phases"], tables["pain"], tables["runs"], outcome=outcome)
    return ex.sessions(tables["runs"], days)


# --- outcomes and exposures, by hand ----------------------------------------------------------------

def test_outcome_days_flare_ups_recur_after_an_episode():
    phases = pd.DataFrame({"runner": "a", "date": [_day(i) for i in range(14)],
                           "phase": ["normal"] * 5 + ["stop"] * 3 + ["normal"] * 6})
    pain = pd.DataFrame({"runner": "a", "date": [_day(2), _day(5), _day(6), _day(10)], "score": [5, 7, 8, 6]})
    frame = ex.outcome_days(phases, pain)
    assert list(frame.columns) == list(ex.DAY_COLUMNS)
    days = frame.set_index("date")
    assert len(days) == 14  # every calendar day from the first to the last
    flare = [d for d, v in days["event"].items() if v]
    # 5/10 is not a flare-up; day 5 (7/10, stop starts) is; day 6 is inside the stop; day 10 (6/10) is again
    assert flare == [pd.Timestamp(_day(5)), pd.Timestamp(_day(10))]
    assert not days.loc[pd.Timestamp(_day(6)), "at_risk"] and not days.loc[pd.Timestamp(_day(8)), "at_risk"]
    assert days.loc[pd.Timestamp(_day(9)), "at_risk"]
    assert days.loc[pd.Timestamp(_day(6)), "flare_up"] and not days.loc[pd.Timestamp(_day(6)), "event"]
    assert np.isnan(days.loc[pd.Timestamp(_day(0)), "pain_max"])  # no entry: unknown, not 0
    stops = ex.outcome_days(phases, pain, outcome="stop").set_index("date")
    assert [d for d, v in stops["event"].items() if v] == [pd.Timestamp(_day(5))]
    with pytest.raises(ValueError, match="unknown outcome 'injury'; choose one of: flare-up, stop, substantial"):
        ex.outcome_days(phases, pain, outcome="injury")


def test_substantial_weeks_from_ostrc():
    phases = pd.DataFrame({"runner": "a", "date": [_day(i) for i in range(28)], "phase": "normal"})
    ostrc = pd.DataFrame({"runner": "a", "week_start": [_day(0), _day(7), _day(14), _day(21)],
                          "substantial": [False, True, True, False]})
    days = ex.outcome_days(phases, None, outcome="substantial", ostrc=ostrc).set_index("date")
    assert [d for d, v in days["event"].items() if v] == [pd.Timestamp(_day(7))]  # two weeks, one problem
    assert not days.loc[pd.Timestamp(_day(15)), "at_risk"] and days.loc[pd.Timestamp(_day(22)), "at_risk"]


def test_sessions_are_followed_until_the_next_run_the_event_or_seven_days():
    runs = pd.DataFrame({"runner": "a", "date": [_day(0), _day(0), _day(3), _day(14), _day(30)],
                         "distance_km": [5.0, 3.0, 6.0, 8.0, 4.0], "spike_pct": [np.nan, np.nan, 20.0, 33.3, -50.0],
                         "spike_category": [None, None, "small", "moderate", "none"]})
    phases = pd.DataFrame({"runner": "a", "date": [_day(i) for i in range(33)], "phase": "normal"})
    pain = pd.DataFrame({"runner": "a", "date": [_day(5), _day(21)], "score": [7, 9]})
    s = _sessions_of({"runs": runs, "phases": phases, "pain": pain}).set_index("date")
    assert list(s.index) == [_day(0), _day(3), _day(14), _day(30)]  # two runs on day 0: one session
    assert s.loc[_day(0), "runs"] == 2 and s.loc[_day(0), "distance_km"] == pytest.approx(8.0)
    assert s.loc[_day(0), "spike_class"] is None  # no 30-day history
    assert (s.loc[_day(0), "days"], s.loc[_day(0), "event"]) == (3, False)  # the run of day 3 replaces it
    assert (s.loc[_day(3), "days"], s.loc[_day(3), "event"], s.loc[_day(3), "event_date"]) == (3, True, _day(5))
    assert (s.loc[_day(14), "days"], s.loc[_day(14), "event"]) == (7, False)  # day 21 is past its 7 days (14-20)
    assert (s.loc[_day(30), "days"], s.loc[_day(30), "event"]) == (3, False)  # the runner's data ends
    assert s.loc[_day(14), "spike_class"] == "moderate"


def test_week_change_and_acwr_at_each_session():
    km = {0: 5.0, 2: 5.0, 4: 10.0, 7: 6.0, 9: 6.0, 11: 12.0, 13: 8.0, 30: 10.0}
    runs = pd.DataFrame({"runner": "b", "date": [_day(d) for d in km], "distance_km": list(km.values()),
                         "spike_pct": np.nan, "spike_category": None})
    phases = pd.DataFrame({"runner": "b", "date": [_day(i) for i in range(31)], "phase": "normal"})
    s = _sessions_of({"runs": runs, "phases": phases, "pain": None}).set_index("date")
    # day 13: days 7-13 ran 6+6+12+8 = 32 km, days 0-6 ran 20 km: +60 %
    assert s.loc[_day(13), "week_change_pct"] == pytest.approx(60.0)
    assert s.loc[_day(13), "week_change_class"] == "over_30"
    assert np.isnan(s.loc[_day(11), "week_change_pct"])  # fewer than 14 days of history
    daily = pd.Series(0.0, index=pd.date_range(_day(0), _day(30)))
    for d, v in km.items():
        daily.iloc[d] += v
    assert s.loc[_day(30), "acwr"] == pytest.approx(acwr(daily).iloc[30])
    assert np.isnan(s.loc[_day(13), "acwr"])  # before 28 days of history: unknown


def test_categories_follow_their_boundaries():
    week = ex.EXPOSURES["week_change"]
    got = ex.classify(pd.Series([-40.0, 10.0, 10.0001, 30.0, 30.5, np.nan]), week).tolist()
    assert got == ["up_to_10", "up_to_10", "10_to_30", "10_to_30", "over_30", None]
    ratio = ex.EXPOSURES["acwr"]
    assert ex.classify(pd.Series([0.5, 0.8, 1.0, 1.3, 1.4, 1.5, 2.0]), ratio).tolist() == [
        "up_to_0_8", "up_to_0_8", "0_8_to_1_3", "0_8_to_1_3", "1_3_to_1_5", "1_3_to_1_5", "over_1_5"]
    assert [c.name for c in ex.EXPOSURES["spike"].classes] == ["none", "small", "moderate", "large"]
    assert ex.EXPOSURES["spike"].reference.name == "none" and ratio.reference.name == "0_8_to_1_3"


def test_generated_spikes_are_the_products_spikes():
    runs = generate(11, runners=30, days=200)["runs"]
    planted = runs["spike_category"].isin(["moderate", "large"])
    assert (planted == runs["planted"]).all()
    assert set(runs["spike_category"].dropna()) == {"none", "small", "moderate", "large"}


# --- the statistics on generated cohorts ----------------------------------------------------------

@pytest.mark.parametrize("seed", [3, 4, 5])
def test_planted_effect_lies_inside_the_interval(seed):
    """Hazard x 2 after runs more than 30 % above the 30-day longest (moderate and large); small runs are
    null.  (Over seeds 1-20, 36 of 40 planted intervals held 2 and 19 of 20 small ones held 1: 95 %
    intervals miss now and then; seed 2's small interval, 0.37-0.85, is one that did.)"""
    sessions = _sessions_of(generate(seed, planted_ratio=2.0))
    spike = fit_exposure(sessions, "spike").set_index("category")
    for cat in ("moderate", "large"):
        assert spike.loc[cat, "ci_low"] <= 2.0 <= spike.loc[cat, "ci_high"], spike
        assert spike.loc[cat, "ci_low"] > 1.0, spike  # and the effect is seen
    assert spike.loc["small", "ci_low"] <= 1.0 <= spike.loc["small", "ci_high"], spike
    # the counts behind each ratio are the sessions' own
    for cat in ("none", "small", "moderate", "large"):
        mine = sessions[sessions["spike_class"] == cat]
        assert spike.loc[cat, "events"] == mine["event"].sum() >= MIN_EVENTS
        assert spike.loc[cat, "runs"] == mine["runs"].sum()
        assert spike.loc[cat, "runners"] == mine["runner"].nunique()


@pytest.mark.slow
def test_no_effect_is_mostly_not_significant():
    seeds = range(1, 8)
    clean = 0
    for seed in seeds:
        results = fit_all(_sessions_of(generate(seed, planted_ratio=1.0)))
        fitted = results[~results["reference"] & results["hazard_ratio"].notna()]
        assert len(fitted) >= 6  # enough events to test most categories
        assert ((fitted["p_value"] < 0.05) == fitted["significant"]).all()
        clean += not fitted["significant"].any()
    assert clean > len(seeds) / 2, clean


def test_too_few_events_say_so_in_plain_words():
    tables = generate(5, runners=12, days=150, planted_ratio=2.0)
    sessions = _sessions_of(tables)
    spike = fit_exposure(sessions, "spike").set_index("category")
    few = spike[~spike["reference"] & (spike["events"] < MIN_EVENTS)]
    assert len(few)  # a small cohort
    for _cat, row in few.iterrows():
        assert np.isnan(row["hazard_ratio"]) and np.isnan(row["ci_low"])
        assert f"after runs of the category “{row['label']}”" in row["note"]
        assert row["note"].endswith(f"too few to say anything (at least {MIN_EVENTS} are needed), so no ratio is "
                                    "given.")
        assert row["note"].startswith(f"Only {row['events']} flare-ups" if row["events"] > 1 else
                                      ("Only 1 flare-up " if row["events"] else "No flare-ups"))
    none = fit_exposure(sessions.iloc[:0], "acwr", outcome_words="stops")
    assert none["hazard_ratio"].isna().all() and (none["events"] == 0).all()
    assert none["note"].iloc[0] == ("No stops after runs of the category “0.8–1.3”, the reference: too few to say "
                                    "anything (at least 10 are needed), so no ratio is given.")


@pytest.mark.slow
def test_analysis_json_and_html_from_the_tables(tmp_path):
    """Without Dask: the report from sessions, its JSON (every figure, no NaN) and its words."""
    sessions = _sessions_of(generate(3, runners=60, days=300, planted_ratio=2.0))
    result = cohort_analysis.Analysis("flare-up", sessions, fit_all(sessions))
    doc = cohort_analysis.to_json(result)
    text = json.dumps(doc, allow_nan=False)
    assert doc["cohort"]["sessions"] == len(sessions) and doc["cohort"]["events"] == sessions["event"].sum()
    spike = next(e for e in doc["exposures"] if e["exposure"] == "spike")
    assert [c["category"] for c in spike["categories"]] == ["none", "small", "moderate", "large"]
    assert spike["categories"][0]["hazard_ratio"] == 1.0 and spike["categories"][0]["reference"] is True
    assert {"hazard_ratio", "ci_low", "ci_high", "p_value", "runners", "runs", "events", "note"} <= set(
        spike["categories"][2])
    assert "NaN" not in text
    html = cohort_analysis.to_html(result)
    assert html.count("<svg") == 1 and "http://" not in html.replace('http://www.w3.org', '') \
        and "https://" not in html and "<script" not in html
    for words in ("Which runs come before flare-ups", "30–100% longer", "1 (reference)", "Definitions", "Caveats",
                  "clustered by runner", "not proof", "Frandsen"):
        assert words in html, words
    for code in (">nan<", ">None<", "0_8_to_1_3", "spike_class"):
        assert code not in html, code


# --- end to end: a real cohort through the CLI ---------------------------------------------------------

def _ostrc_files(root) -> None:
    """OSTRC weeks where two runners logged them (Mondays), and one file that is not right."""
    weeks = [AS_OF - timedelta(days=AS_OF.weekday() + 7 * k) for k in range(6, 0, -1)]
    (root / "eve" / "ostrc.csv").write_text("week_start,substantial\n" + "".join(
        f"{w.isoformat()},{'yes' if k in (2, 3) else 'no'}\n" for k, w in enumerate(weeks)), encoding="utf-8")
    (root / "gus" / "ostrc.csv").write_text("week_start,substantial\n" + "".join(
        f"{w.isoformat()},{'yes' if k == 4 else 'no'}\n" for k, w in enumerate(weeks)), encoding="utf-8")
    (root / "jon" / "ostrc.csv").write_text("week_start,substantial\n2026-06-01,perhaps\n", encoding="utf-8")


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    for cohort in imported_cohort(tmp_path_factory, "analyse", add=_ostrc_files):
        assert cohort["code"] == 1  # one broken file, as in test_cohort
        yield cohort


@pytest.mark.slow
def test_cohort_analyse_on_a_real_cohort(imported, capsys):
    out = imported["out"]
    pain = pd.read_parquet(out / "pain.parquet")
    assert set(pain.columns) == {"runner", "at_local", "date", "score", "timing", "location"}  # no note
    assert sorted(pain["runner"].unique()) == sorted(r for r, (p, _s) in SCENARIOS.items() if p)
    assert pain[pain["runner"] == "cat"]["score"].tolist() == [7]

    capsys.readouterr()
    report = imported["base"] / "report.html"
    assert main(["cohort", "analyse", str(out), "--json", "--workers", "1", "--out", str(report)]) == 0
    doc = json.loads(capsys.readouterr().out)
    runs = pd.read_parquet(out / "runs.parquet")
    assert doc["outcome"] == "flare-up" and doc["cohort"]["runners"] == len(SCENARIOS)
    assert doc["cohort"]["runs"] <= len(runs) and doc["cohort"]["runs"] >= len(runs) - 5
    # cat's pain of 7/10 the day before AS_OF is one flare-up; no other runner logged above 5
    assert doc["cohort"]["events"] == 1 and doc["cohort"]["runners_with_events"] == 1
    for e in doc["exposures"]:  # 12 runners over 8 weeks: far too few flare-ups, and it says so
        assert e["fitted"] is False and "too few to say anything" in e["note"]
        assert all(c["hazard_ratio"] in (None, 1.0) for c in e["categories"])
    assert report.is_file() and "too few to say anything" in report.read_text(encoding="utf-8")

    ostrc = pd.read_parquet(out / "ostrc.parquet")
    assert sorted(set(ostrc["runner"])) == ["eve", "gus"] and ostrc["substantial"].sum() == 3
    files = pd.read_parquet(out / "files.parquet").set_index(["runner", "name"])
    assert files.loc[("eve", "ostrc.csv"), "reason"] == "6 OSTRC weeks"
    assert files.loc[("jon", "ostrc.csv"), "status"] == "failed"
    assert files.loc[("jon", "ostrc.csv"), "reason"] == "ostrc.csv: row 2: substantial must be yes or no, not 'perhaps'"
    capsys.readouterr()
    assert main(["cohort", "analyse", str(out), "--json", "--workers", "1", "--outcome", "substantial"]) == 0
    doc = json.loads(capsys.readouterr().out)
    # eve's two substantial weeks in a row are one problem, gus's one week another; both ran that week
    assert doc["cohort"]["events"] == 2 and doc["cohort"]["runners_with_events"] == 2
    assert "OSTRC" in doc["outcome_definition"]

    capsys.readouterr()
    assert main(["cohort", "analyse", str(out), "--workers", "1", "--outcome", "stop"]) == 0
    text = capsys.readouterr().out
    for words in ("12 runners", "The run against the longest of the previous 30 days", "up to 10% longer",
                  "too few to say anything", "Dask worker", "not proof of cause"):
        assert words in text, words
    for code in ("nan", "None", "spike_class", "up_to_10"):
        assert code not in text, code


def test_cohort_analyse_errors_name_the_folder(tmp_path, capsys):
    assert main(["cohort", "analyse", str(tmp_path), "--workers", "1"]) == 1
    assert f"{tmp_path}: no cohort here" in capsys.readouterr().err
    write_tables({k: v for k, v in generate(1, runners=3, days=40).items() if k != "pain"}, tmp_path / "old")
    assert main(["cohort", "analyse", str(tmp_path / "old"), "--workers", "1"]) == 1
    assert "pain.parquet is missing" in capsys.readouterr().err
    write_tables(generate(1, runners=3, days=40), tmp_path / "new")
    assert main(["cohort", "analyse", str(tmp_path / "new"), "--outcome", "substantial", "--workers", "1"]) == 1
    assert "no runner logged OSTRC weeks" in capsys.readouterr().err


@pytest.mark.slow
def test_export_shifts_dates_keeps_intervals_and_names_nobody(imported, tmp_path, capsys):
    from loadwatch.dashboard.pipelines.cohort_export import export_cohort

    src, shared = imported["out"], tmp_path / "shared"
    capsys.readouterr()
    assert main(["cohort", "export", str(src), "--out", str(shared), "--shift-dates"]) == 0
    said = capsys.readouterr().out
    assert "12 runners exported" in said and "shifted by whole weeks" in said
    assert sorted(p.name for p in shared.iterdir()) == ["export.json", "ostrc.parquet", "pain.parquet",
                                                        "phases.parquet", "runs.parquet", "weeks.parquet"]
    tables = ("runs", "phases", "pain", "weeks", "ostrc")
    before = {t: pd.read_parquet(src / f"{t}.parquet") for t in tables}
    after = {t: pd.read_parquet(shared / f"{t}.parquet") for t in tables}
    for t in ("weeks", "ostrc"):  # weeks still start on Mondays
        assert set(pd.to_datetime(after[t]["week_start"].astype(str)).dt.weekday) == {0}, t
    original_weeks = set(before["ostrc"]["week_start"])  # eve and gus logged the same six weeks
    for _alias, mine in after["ostrc"].groupby("runner"):
        assert set(mine["week_start"]) != original_weeks and len(mine) == 6
    for t, frame in after.items():
        assert not set(frame["runner"]) & set(SCENARIOS), t  # nobody's name
        assert len(frame) == len(before[t]), t
    assert "reason" not in after["phases"] and "note" not in after["pain"]
    assert not set(after["runs"]["id"]) & set(before["runs"]["id"])
    # each runner's runs: the same distances and weekdays (whole weeks), every gap between them kept
    def signatures(runs):
        out = {}
        for runner, mine in runs.groupby("runner"):
            d = pd.to_datetime(mine["date"].astype(str))
            key = (tuple(mine["distance_km"].round(6)), tuple(d.diff().dropna().dt.days), tuple(d.dt.weekday))
            out.setdefault(key, []).append(d.iloc[0])
            start = pd.to_datetime(mine["start_local"])
            assert ((start - d).dt.total_seconds().between(0, 86400)).all(), runner  # times moved with their days
        return out

    old, new = signatures(before["runs"]), signatures(after["runs"])
    assert {k: len(v) for k, v in old.items()} == {k: len(v) for k, v in new.items()}
    shifts = set()
    for key, firsts in new.items():
        assert not set(firsts) & set(old[key])  # every runner's dates moved
        if len(firsts) == 1:
            shifts.add((firsts[0] - old[key][0]).days)
    assert len(shifts) > 1  # one shift per runner, not one for all
    # the analysis of the shared folder gives the same figures
    capsys.readouterr()
    assert main(["cohort", "analyse", str(src), "--json", "--workers", "1"]) == 0
    mine = json.loads(capsys.readouterr().out)
    assert main(["cohort", "analyse", str(shared), "--json", "--workers", "1"]) == 0
    theirs = json.loads(capsys.readouterr().out)
    assert mine["cohort"] == theirs["cohort"] and mine["exposures"] == theirs["exposures"]
    # without --shift-dates the dates stay, and the names still go
    plain = export_cohort(src, tmp_path / "plain", rng=np.random.default_rng(1))
    assert plain["shifted"] is False
    runs = pd.read_parquet(tmp_path / "plain" / "runs.parquet")
    assert sorted(runs["date"].astype(str)) == sorted(before["runs"]["date"].astype(str))
    with pytest.raises(ValueError, match="choose another folder"):
        export_cohort(src, src)


def test_ostrc_csv_is_checked_row_by_row():
    from loadwatch.dashboard.pipelines.cohort_runner import read_ostrc_csv

    rows = read_ostrc_csv(b"week_start,substantial\n2026-06-01,Yes\n2026-06-08,no\n", "ann")
    assert rows.to_dict("records") == [{"runner": "ann", "week_start": date(2026, 6, 1), "substantial": True},
                                       {"runner": "ann", "week_start": date(2026, 6, 8), "substantial": False}]
    with pytest.raises(ValueError, match=r"ostrc.csv: row 3: week_start must be a day \(YYYY-MM-DD\), not ''"):
        read_ostrc_csv(b"week_start,substantial\n2026-06-01,yes\n,no\n", "ann")
    with pytest.raises(ValueError, match="ostrc.csv: row 2: week_start must be a day .* not 'last week'"):
        read_ostrc_csv(b"week_start,substantial\nlast week,yes\n", "ann")
    with pytest.raises(ValueError, match="the columns week_start and substantial are needed"):
        read_ostrc_csv(b"week,problem\n2026-06-01,yes\n", "ann")
    with pytest.raises(ValueError, match="not a text file"):
        read_ostrc_csv(b"\xff\xfe\x00bad", "ann")


@pytest.mark.browser
@pytest.mark.slow
def test_report_opens_in_chromium_without_any_request(tmp_path):
    from pathlib import Path

    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        import os

        if os.environ.get("LOADWATCH_REQUIRE_BROWSER") == "1":
            pytest.fail("LOADWATCH_REQUIRE_BROWSER=1 but /usr/bin/chromium is absent")
        pytest.skip("/usr/bin/chromium is absent")
    from playwright.sync_api import sync_playwright

    sessions = _sessions_of(generate(4, runners=60, days=300, planted_ratio=2.0))
    path = cohort_analysis.write_html(cohort_analysis.Analysis("flare-up", sessions, fit_all(sessions)),
                                      tmp_path / "report.html")
    requests = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(chromium),
                                     args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                                           "--disable-component-update", "--disable-sync", "--no-first-run"])
        try:
            page = browser.new_page()

            def record(route):
                requests.append(route.request.url)
                if route.request.url == path.as_uri():
                    route.continue_()
                else:
                    route.abort()

            page.route("**/*", record)
            page.goto(path.as_uri())
            page.wait_for_load_state("networkidle")
            assert page.locator("h1").inner_text().startswith("Which runs come before flare-ups")
            box = page.locator("figure svg").bounding_box()
            assert box and box["width"] > 300 and box["height"] > 150  # the forest plot is drawn
            assert "30–100% longer" in page.locator("body").inner_text()
        finally:
            browser.close()
    assert requests == [path.as_uri()]


def test_sessions_built_on_dask_equal_the_pure_functions(tmp_path):
    """Batches of runners on 2 workers give the very sessions of one call over the whole tables."""
    from distributed import Client, LocalCluster

    from loadwatch.dashboard.report.cohort_analysis import build_sessions

    tables = generate(7, runners=25, days=200, planted_ratio=2.0)
    write_tables(tables, tmp_path / "cohort")
    expected = _sessions_of(tables)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, protocol="tcp", host="127.0.0.1",
                      dashboard_address=None) as cluster, Client(cluster) as client:
        got = build_sessions(tmp_path / "cohort", "flare-up", client=client)
    assert len(got) == len(expected) > 500 and got["event"].sum() == expected["event"].sum() > 20
    pd.testing.assert_frame_equal(got.reset_index(drop=True), expected.reset_index(drop=True), check_dtype=False)
