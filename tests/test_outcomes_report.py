"""Issue 24 in the physio report and the CLI's words: the OSTRC and PSFS trends and the programme's
adherence, as the PDF and the HTML say them; a paused programme under a red flag.  Dates are fixed in the
past and every read names its day (``--as-of``)."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from loadwatch.dashboard.report import outcomes as outcomes_report
from loadwatch.dashboard.report import physio as physio_report
from tests.scenario_helpers import Runner
from tests.test_physio_report import html_text, pdf_text

START = date(2025, 3, 3)  # Monday


@pytest.fixture
def runner(tmp_path) -> Runner:
    r = Runner(tmp_path / "runner")
    r.cli("programme", "start", "walkback", "--date", START.isoformat())
    # WalkBack week 1 plans 3 walks; runs on Mon, Wed and Fri of week 1, one run in week 2 (planned 3)
    r.run([(START, 4.0), (START + timedelta(days=2), 4.0), (START + timedelta(days=4), 4.0),
           (START + timedelta(days=8), 4.0)])
    for week, answers in ((0, ("1", "1", "0", "1")), (7, ("2", "2", "2", "2"))):
        r.cli("outcome", "ostrc", "--week", (START + timedelta(days=week)).isoformat(), "--participation",
              answers[0], "--volume", answers[1], "--performance", answers[2], "--pain", answers[3])
    r.cli("outcome", "psfs", "add", "sit through a film", "--score", "4", "--date", START.isoformat())
    r.cli("outcome", "psfs", "score", "sit through a film", "--score", "6.5", "--date",
          (START + timedelta(days=14)).isoformat())
    return r


@pytest.mark.slow
def test_physio_report_says_the_trends_and_adherence(runner, tmp_path):
    as_of = START + timedelta(days=15)
    pdf, page = tmp_path / "physio.pdf", tmp_path / "physio.html"
    runner.cli("report", "--as-of", as_of.isoformat(), "--pdf", str(pdf), "--html", str(page))
    text, _pages = pdf_text(pdf)
    htext = html_text(page.read_text(encoding="utf-8"))
    for shown in (text, htext):
        assert "Function: OSTRC and PSFS" in shown and "Back programme and adherence" in shown
        assert "Mon 3 Mar 2025 22 no" in shown  # 8 + 6 + 0 + 8: a problem, not substantial
        assert "Mon 10 Mar 2025 60 yes" in shown  # 17 + 13 + 13 + 17
        assert "sit through a film 4 then 6.5 +2.5" in shown
        assert '"sit through a film": better by 2.5 points, within measurement error' in shown
        assert "PSFS mean" not in shown  # one activity: its own line says it, with its own threshold
        assert "1 Mon 3 Mar – Sun 9 Mar 2025 3 of 3 100%" in shown
        assert "2 Mon 10 Mar – Sun 16 Mar 2025 1 of 3 33%" in shown
        assert "Adherence 66.7% of planned sessions, below the 70% the ASTEROID trial reached" in shown
        assert "Pocovi et al., Lancet 2024;404:134 (WalkBack)" in shown
        assert "None" not in shown.split() and "nan" not in shown.split()


def test_report_json_carries_programme_and_outcomes_in_metric_units(runner):
    rep = runner.report(START + timedelta(days=15))
    prog = rep["programme"]
    assert prog["kind"] == "walkback" and prog["week"] == 3 and prog["state"] == "running"
    assert prog["this_week"]["sessions_planned"] == 4 and prog["this_week"]["session_min"] == 15
    assert [(w["week"], w["sessions_done"], w["sessions_planned"]) for w in prog["adherence"]] == [
        (1, 3, 3), (2, 1, 3), (3, 0, 4)]
    weeks = rep["outcomes"]["ostrc_weeks"]
    assert [(w["week_start"], w["severity"], w["substantial"]) for w in weeks] == [
        ("2025-03-03", 22, False), ("2025-03-10", 60, True)]
    # every key that carries a duration says it is minutes
    for key in prog["this_week"]:
        assert not key.endswith(("_s", "_h")), key
    assert json.loads(runner.cli("programme", "status", "--json", "--as-of", "2025-03-18")) == prog


def test_a_red_flag_pauses_the_programme_in_every_face(runner, tmp_path):
    flag = START + timedelta(days=16)
    runner.pain(flag, 6, "rest_of_day", "weakness_leg")
    rep = runner.report(flag)
    assert rep["plan"]["phase"] in ("see_clinician", "emergency")
    prog = rep["programme"]
    assert prog["paused"] and prog["next_sessions"] == [] and prog["week"] == 3
    status = runner.cli("programme", "status", "--as-of", flag.isoformat())
    assert "Your WalkBack walking programme is paused in week 3 of 26" in status
    assert "next:" not in status
    words = physio_report.build(rep, weeks=3, charts=False).plain_text()
    assert "is paused in week 3 of 26" in words
    assert outcomes_report.programme_lines(None) == []


def test_walks_from_watch_files_count_as_walkback_sessions(tmp_path):
    """A walk imported from a FIT file is a session done; a 5-minute stroll and a ride are not."""
    from datetime import UTC, datetime

    from loadwatch.ingest.synth import SynthRun, fit_bytes

    r = Runner(tmp_path / "walker")
    r.cli("programme", "start", "walkback", "--date", START.isoformat())
    files = []
    for i, (offset, sport, minutes, km) in enumerate(((0, "walking", 25, 2.5), (1, "walking", 5, 0.4),
                                                      (2, "cycling", 40, 15.0), (3, "walking", 12, 1.1))):
        d = START + timedelta(days=offset)
        run = SynthRun(start_utc=datetime(d.year, d.month, d.day, 17, 0, tzinfo=UTC), duration_s=minutes * 60,
                       distance_m=km * 1000, sport=sport, heart_rate_bpm=None, cadence_spm=None, with_gps=False,
                       seed=i + 1)
        path = tmp_path / f"{sport}-{i}.fit"
        path.write_bytes(fit_bytes(run))
        files.append(str(path))
    assert "Imported 4," in r.cli("import", *files, "--workers", "0")
    prog = r.report(START + timedelta(days=6))["programme"]
    assert prog["adherence"][0]["sessions_done"] == 2 and prog["adherence"][0]["sessions_planned"] == 3
    assert prog["adherence"][0]["adherence_pct"] == pytest.approx(66.7)
    assert "week 1 2 of 3" in r.cli("programme", "status", "--as-of", (START + timedelta(days=6)).isoformat())
