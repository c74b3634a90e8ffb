"""The report for the physio (issue 14): ``loadwatch report --pdf/--html`` over a generated 12-week
history with pain and an episode, in km and in miles; the PDF's text (pypdf) and the HTML's text are
checked against the history and the JSON report; a red-flag history keeps its history and withholds only
advice numbers; a year with strength-only weeks prints on two A4 pages; the HTML names nothing outside
itself."""

from __future__ import annotations

import html as html_mod
import io
import json
import re
import shutil
import subprocess
import sys
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import settings as st_settings
from hypothesis import strategies as st

from loadwatch.dashboard.cli.main import main
from loadwatch.dashboard.report import physio as physio_report
from loadwatch.ingest import store as store_mod
from loadwatch.ingest.canonical import Activity, Summary, empty_samples
from loadwatch.metrics import fmt
from loadwatch.metrics.units import to_units
from tests.conftest import EVERY_WEEKDAY, REPO_ROOT

pypdf = pytest.importorskip("pypdf")  # a test dependency; the project's own modules are imported plainly

FIRST_MONDAY = date(2026, 3, 2)
AS_OF = date(2026, 5, 24)  # the Sunday of the 12th week
# (weekday, km, sub_sport) per week: three runs, a long one on Saturday, Wednesday on trail
WEEK_PLAN = [(0, 6.0, "street"), (2, 7.0, "trail"), (5, 10.0, "street")]
EPISODE_WEEK = 7  # pain 7/10 during the Saturday run: stop running; two quiet check-ins later
AUTO_WEEKS = 12



def _schedule() -> list[tuple[date, float, str]]:
    runs = []
    for w in range(AUTO_WEEKS):
        monday = FIRST_MONDAY + timedelta(weeks=w)
        scale = 1.0 + 0.05 * min(w, 6)
        for weekday, km, sub in WEEK_PLAN:
            day = monday + timedelta(days=weekday)
            if EPISODE_WEEK <= w < EPISODE_WEEK + 2 and day > FIRST_MONDAY + timedelta(weeks=EPISODE_WEEK,
                                                                                           days=5):
                continue  # the stop: no runs for ten days
            if w >= EPISODE_WEEK + 2:
                scale = 0.6
            if w == AUTO_WEEKS - 1 and weekday == 5:
                runs.append((day, 11.0, sub))  # a spike on the last Saturday: an alert with its evidence
                continue
            runs.append((day, round(km * scale, 1), sub))
    return runs


PAIN = [  # (day offset from FIRST_MONDAY, hour, score, timing, note)
    (2, 19, 2, "after", "a bit stiff"),
    (3, 7, 1, "next_morning", "fine"),
    (26, 19, 4, "after", "ached after the trail"),
    (7 * EPISODE_WEEK + 5, 9, 7, "during", "had to stop and walk home"),
    (7 * EPISODE_WEEK + 6, 7, 6, "next_morning", "sore getting up"),
    (7 * EPISODE_WEEK + 8, 8, 2, "rest_of_day", "walking is fine"),
    (7 * EPISODE_WEEK + 10, 8, 1, "rest_of_day", "no pain walking"),
    (7 * (EPISODE_WEEK + 2) + 2, 19, 2, "after", "easy jog ok"),
]


def _add_runs(db, runs):
    hist = np.zeros(256)
    hist[145] = 1800.0
    with store_mod.Store(db) as store:
        for i, (day, km, sub) in enumerate(runs):
            t0 = pd.Timestamp(datetime(day.year, day.month, day.day, 7, 0), tz="UTC")
            s = Summary(id=f"run{i:03d}", source="test", format="fit", sport="running", sub_sport=sub,
                        start_utc=t0, utc_offset_s=0.0, elapsed_s=km * 340.0, moving_s=km * 330.0,
                        distance_m=km * 1000.0, hr_seconds_by_bpm=hist.copy())
            store.add_activity(Activity(s, empty_samples()), f"file {i}".encode(), f"run{i}.fit")


def _add_pain(db, rows, symptoms=()):
    for offset, hour, score, timing, note in rows:
        day = FIRST_MONDAY + timedelta(days=offset)
        args = ["pain", "add", "--db", db, "--date", day.isoformat(), "--time", f"{hour:02d}:00",
                "--score", str(score), "--timing", timing, "--note", note]
        for s in symptoms:
            args += ["--symptom", s]
        assert main(args) == 0


def _assessed(db, day: date, note: str) -> None:
    """Record a clinician's assessment (``Store.add_assessment``, issue 11)."""
    with store_mod.Store(db) as store:
        store.add_assessment(day, note=note)


def _norm(text: str) -> str:
    return " ".join(text.split())


def pdf_text(path) -> tuple[str, int]:
    reader = pypdf.PdfReader(str(path))
    return _norm("\n".join(page.extract_text() or "" for page in reader.pages)), len(reader.pages)


def assert_pdf_charts_drawn(pdf, text: str, units: str) -> None:
    """Both charts are drawn in the PDF with fpdf2's lines and text (no images): their axis titles are in
    the runner's units, the pain axis runs 0-10."""
    assert not sum(len(p.images) for p in pypdf.PdfReader(str(pdf)).pages), "a chart as an image"
    for label in (f"weekly running distance ({units})", f"longest run ({units})", "pain (0–10)", "longest run"):
        assert label in text, label


def html_text(markup: str) -> str:
    markup = re.sub(r"<style>.*?</style>", " ", markup, flags=re.S)
    return _norm(html_mod.unescape(re.sub(r"<[^>]+>", " ", markup)))


@pytest.fixture
def episode_db(tmp_path, capsys):
    db = str(tmp_path / "store.sqlite3")
    _add_runs(db, _schedule())
    _add_pain(db, PAIN)
    _assessed(db, FIRST_MONDAY + timedelta(weeks=EPISODE_WEEK, days=9), "no red flags; graded return")
    capsys.readouterr()
    return db


def _json_report(db, capsys) -> dict:
    capsys.readouterr()
    assert main(["report", "--db", db, "--as-of", AS_OF.isoformat(), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("units", ["km", "mi"])
@pytest.mark.slow
def test_physio_report_pdf_and_html_say_the_history(today, episode_db, tmp_path, capsys, units):
    db = episode_db
    assert main(["settings", "set", "units", units, "--db", db]) == 0
    report = _json_report(db, capsys)
    pdf, page = tmp_path / f"physio-{units}.pdf", tmp_path / f"physio-{units}.html"
    assert main(["report", "--db", db, "--as-of", AS_OF.isoformat(), "--pdf", str(pdf), "--html", str(page)]) == 0
    out = capsys.readouterr().out
    assert str(pdf) in out and str(page) in out

    text, n_pages = pdf_text(pdf)
    markup = page.read_text(encoding="utf-8")
    htext = html_text(markup)
    assert pdf.read_bytes().startswith(b"%PDF")
    assert 1 <= n_pages <= 2, f"{n_pages} pages"

    # the weekly distances, computed here from the generated schedule (not read back from the report)
    weekly_km = {FIRST_MONDAY + timedelta(weeks=w): 0.0 for w in range(AUTO_WEEKS)}  # a week off shows 0
    for day, km, _sub in _schedule():
        monday = day - timedelta(days=day.weekday())
        weekly_km[monday] = weekly_km.get(monday, 0.0) + km
    assert len(weekly_km) == 12
    expected = [fmt.day_range(FIRST_MONDAY, AS_OF), fmt.unit_label(units), fmt.day(today),
                f"first {fmt.day(FIRST_MONDAY)}", report["disclaimer"], "Who and when", "Pain log of the period"]
    for monday, km in weekly_km.items():
        expected.append(f"{fmt.day(monday)} {fmt.distance(km, units)}")
    for offset, hour, score, timing, note in PAIN:
        at = datetime.combine(FIRST_MONDAY + timedelta(days=offset), datetime.min.time()).replace(hour=hour)
        expected.append(f"{fmt.day_time(at)} {fmt.words(timing, 'timing')} {fmt.score(score)} lower back")
        expected.append(note)
    plan = report["plan"]
    if plan.get("max_week_km") is not None:
        expected.append(f"at most {fmt.distance(plan['max_week_km'], units, cap=True)}")
    if plan.get("message"):
        expected.append(plan["message"])
    expected += [fmt.reason(r) for r in plan.get("reasons") or []]
    assert report["alerts"], "the episode leaves at least one alert"
    expected += [fmt.evidence(a["evidence"]) for a in report["alerts"]]
    # the episode history: every phase with its dates and step, every assessment, the current phase and step
    phases = report["phases"]
    assert {"stop", "return_to_run"} <= {seg["phase"] for seg in phases}, phases
    expected.append("Episode history of the last 12 months")
    rows = physio_report.merged_phases(phases, AS_OF)
    assert len(rows) <= len(phases) and all(a["phase"] != b["phase"] for a, b in zip(rows, rows[1:], strict=False))
    for seg in rows:
        first, last = seg["step"], seg["last_step"]
        step = (fmt.MISSING if not first else f"step {first} of {seg['steps']}" if first == last
                else f"steps {first}–{last} of {seg['steps']}")
        expected.append(f"{fmt.day(seg['start'])} {fmt.day(seg['end'])} {fmt.words(seg['phase'], 'phase')} {step}")
        expected.append(seg["reason"])
    assert "SCIENCE.md" not in text and "SCIENCE.md" not in htext
    expected.append("docs/evidence.md")
    assert [(a["date"], a["note"]) for a in report["assessments"]] == [
        ((FIRST_MONDAY + timedelta(weeks=EPISODE_WEEK, days=9)).isoformat(), "no red flags; graded return")]
    expected.append(f"{fmt.day(report['assessments'][0]['date'])} no red flags; graded return")
    assert plan["phase"] == phases[-1]["phase"] and plan["phase_since"] == phases[-1]["start"]
    current = f"Current phase: {fmt.words(plan['phase'], 'phase')}, since {fmt.day(plan['phase_since'])}"
    if plan.get("step"):
        current += f" (step {plan['step']} of {plan['steps']})"
    expected.append(current)
    if plan.get("next_step"):
        expected.append(plan["next_step"])
    if plan.get("max_run_km") is not None:
        expected.append(f"at most {fmt.distance(plan['max_run_km'], units, cap=True)}")
    for face, shown in (("PDF", text), ("HTML", htext)):
        missing = [e for e in expected if _norm(e) not in shown]
        assert not missing, f"{face} lacks {missing}"
        other = "mi" if units == "km" else "km"
        assert not re.search(rf"\d {other}\b", shown), f"{face} shows {other}"
        for raw in ("None", "nan", "rest_of_day", "next_morning", "session_spike", "lower_back", "return_to_run"):
            assert not re.search(rf"\b{raw}\b", shown), f"{face} shows {raw!r}"

    # the charts are there: two figures in the HTML, two charts drawn in the PDF (no images)
    assert markup.count("<svg") == 2 and markup.count("<figure") == 2
    assert_pdf_charts_drawn(pdf, text, units)

    if units == "km" and shutil.which("pdftoppm"):
        artifacts = REPO_ROOT / "test-artifacts"
        artifacts.mkdir(exist_ok=True)
        prefix = artifacts / "physio-report"
        subprocess.run(["pdftoppm", "-r", "70", "-png", "-f", "1", "-l", "1", "-singlefile", str(pdf),
                        str(prefix)], check=True, timeout=60)
        png = prefix.with_suffix(".png")
        assert png.read_bytes().startswith(b"\x89PNG")


@pytest.mark.slow
def test_html_names_nothing_outside_itself(episode_db, tmp_path, capsys):
    page = tmp_path / "physio.html"
    assert main(["report", "--db", episode_db, "--as-of", AS_OF.isoformat(), "--html", str(page)]) == 0
    markup = page.read_text(encoding="utf-8")
    assert markup.startswith("<!DOCTYPE html>") and markup.rstrip().endswith("</html>")
    for pattern in (r"https?:", r"//", r"\bsrc\s*=", r"\bhref\s*=", r"<script", r"<link", r"@import",
                    r"url\(", r"@font-face", r"<img", r"<iframe", r"<object"):
        assert not re.search(pattern, markup, flags=re.I), pattern
    assert "<style>" in markup and "@media print" in markup and "@page" in markup


#: Advice numbers (withheld under a red flag): the plan's caps, the safe longest run, the next step.
ADVICE = re.compile(r"at most|Safe longest|safe longest run:|Total for the next 7 days|What moves it on|"
                    r"Longest single run")


def test_red_flag_keeps_the_history_and_withholds_only_advice(tmp_path, capsys):
    db = str(tmp_path / "store.sqlite3")
    _add_runs(db, _schedule())
    _add_pain(db, PAIN[:3])
    _add_pain(db, [(7 * 11 + 4, 20, 5, "rest_of_day", "numb around the saddle")], symptoms=("saddle_numbness",))
    report = _json_report(db, capsys)
    assert any(a["severity"] == "emergency" for a in report["alerts"])
    assert report["weeks"][-1]["spike_cap_km"] is None  # the JSON gives no cap for this week either
    assert report["plan"]["max_week_km"] is None and report["plan"]["max_run_km"] is None
    pdf, page = tmp_path / "rf.pdf", tmp_path / "rf.html"
    assert main(["report", "--db", db, "--as-of", AS_OF.isoformat(), "--pdf", str(pdf), "--html", str(page)]) == 0
    text, _ = pdf_text(pdf)
    htext = html_text(page.read_text(encoding="utf-8"))
    care = report["plan"].get("care_message") or report["plan"].get("message")
    first_week = report["weeks"][0]
    for face, shown in (("PDF", text), ("HTML", htext)):
        assert _norm(care) in shown, face
        assert shown.index(_norm(care)) < shown.index("Who and when"), f"{face}: the care message is not first"
        assert fmt.words("saddle_numbness", "symptom") in shown
        assert "numb around the saddle" in shown and report["disclaimer"] in shown
        # the history the clinician needs stays: the weekly table, the pain log, the charts
        assert f"{fmt.day(first_week['week_start'])} {fmt.distance(first_week['distance_km'], 'km')}" in shown, face
        assert "ached after the trail" in shown and "Week by week" in shown
        assert not ADVICE.findall(shown), f"{face} gives advice numbers: {ADVICE.findall(shown)}"
        assert "Now: the plan for the next 7 days" not in shown
    assert page.read_text(encoding="utf-8").count("<svg") == 2
    assert_pdf_charts_drawn(pdf, pdf_text(pdf)[0], "km")


def test_episode_keys_and_strength_minutes_are_rendered_when_present():
    """The keys other branches add (``phases``, ``assessments``, plan ``phase``/``step``/``next_step``,
    weeks' ``strength_min``) appear in plain words; without them the report still reads."""
    week = {"week_start": "2026-05-18", "distance_km": 20.0, "runs": 3, "long_run_km": 9.0, "duration_min": 125,
            "surface_km": {"road": 15.0, "trail": 5.0}, "cross_training_min": 40, "acwr": 1.1,
            "partial_week": False, "strength_min": 35}
    report = {"as_of": "2026-05-24", "units": "mi", "settings": {"timezone": "Europe/London"},
              "weeks": [week], "alerts": [], "disclaimer": "Not medical advice.",
              "plan": {"status": "amber", "phase": "return_to_run", "phase_since": "2026-05-11", "step": 2,
                       "steps": 4, "max_week_km": 12.0, "max_run_km": 4.0, "reasons": ["rule x"],
                       "next_step": "a week with pain at 3 or less", "check_in": None},
              "phases": [{"start": "2026-04-25", "end": "2026-05-04", "phase": "stop", "step": None, "steps": None,
                          "reason": "pain 7/10 during a run"},
                         {"start": "2026-05-05", "end": None, "phase": "return_to_run", "step": 2, "steps": 4,
                          "reason": "two quiet check-ins"}],
              "assessments": [{"id": 1, "date": "2026-05-06", "note": "cleared to run"}]}
    doc = physio_report.build(report, weeks=1, charts=False, printed=date(2026, 5, 25))
    text = doc.plain_text()
    for want in ("Current phase: return to running, since Mon 11 May 2026 (step 2 of 4)", "stop running for now",
                 "step 2 of 4", "ongoing", "cleared to run", "Wed 6 May 2026",
                 "35 min", "12.4 mi", "What moves it on: a week with pain at 3 or less", "25%"):
        assert want in text, want
    assert "return_to_run" not in physio_report.to_html(doc)
    week.pop("strength_min")
    text = physio_report.build(report, weeks=1, charts=False).plain_text()
    row = next(line for line in text.splitlines() if line.startswith("Mon 18 May 2026"))
    assert row.split(" | ")[7] == fmt.MISSING


def test_phase_band_is_stacked_under_the_weekly_chart():
    """The weekly chart gets main's ``charts.phase_band`` under it, on the same time axis, phases in words."""
    from loadwatch.dashboard import charts

    report = {"as_of": "2026-05-24", "units": "km", "weeks": [
        {"week_start": "2026-05-11", "distance_km": 12.0, "runs": 2, "long_run_km": 7.0, "spike_cap_km": 8.8,
         "surface_km": {"road": 12.0}},
        {"week_start": "2026-05-18", "distance_km": 5.0, "runs": 1, "long_run_km": 5.0, "spike_cap_km": 7.7,
         "surface_km": {"road": 5.0}}], "plan": {}, "alerts": [],
        "phases": [{"start": "2026-03-01", "end": "2026-05-13", "phase": "normal", "step": None, "steps": None,
                    "reason": "no pain episode open"},
                   {"start": "2026-05-14", "end": "2026-05-24", "phase": "reduce", "step": None, "steps": None,
                    "reason": "pain of 5/10 after the run on Thu 14 May 2026"}]}
    doc = physio_report.build(report, weeks=2)
    chart = next(b.chart for b in doc.blocks if b.kind == "chart")
    assert "vconcat" in chart.spec
    top, band = chart.spec["vconcat"]
    want = charts.phase_band(report["phases"], date(2026, 5, 11), date(2026, 5, 24)).to_dict(validate=False)
    assert band["mark"] == want["mark"] and band["encoding"]["x"]["scale"]["domain"] == \
        charts.time_domain(date(2026, 5, 11), date(2026, 5, 24))
    rows = [r for d in chart.spec["datasets"].values() for r in d if "phase" in r]
    # the normal segment is clipped to the period; both phases are named in plain words
    assert {r["phase"] for r in rows} == {fmt.words("normal", "phase"), fmt.words("reduce", "phase")}
    assert min(r["from"] for r in rows).startswith("2026-05-11")
    svg = physio_report.chart_svg(chart)
    assert fmt.words("reduce", "phase") in svg


@pytest.mark.parametrize("today", EVERY_WEEKDAY, indirect=True)
def test_dashboard_prepares_the_physio_report_for_download(today, monkeypatch, tmp_path):
    """This week: pick the period, prepare, and the PDF and HTML downloads hold the report."""
    import os
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    from tests.app_helpers import PAGES_DIR, build_history, no_exceptions, texts

    build_history(Path(os.environ["LOADWATCH_DB"]))
    _assessed(os.environ["LOADWATCH_DB"], today - timedelta(days=3), "seen by the physio: keep going")
    at = AppTest.from_file(str(PAGES_DIR / "this_week.py"), default_timeout=120).run()
    no_exceptions(at)
    assert "Report for your physio" in texts(at)
    at.number_input(key="physio_weeks").set_value(6)
    at.button(key="physio_prepare").click().run()
    no_exceptions(at)
    assert "is ready" in texts(at)
    pdf, html, period = at.session_state["physio_files"][1]
    assert pdf.startswith(b"%PDF") and html.startswith("<!DOCTYPE html>")
    monday = today - timedelta(days=today.weekday())
    assert period == fmt.day_range(monday - timedelta(weeks=5), today)
    assert period in html_text(html)
    # the dashboard's report carries the store's assessments and phases: the episode history is in the file
    shown = html_text(html)
    assert "Episode history" in shown and "Current phase:" in shown
    assert f"{fmt.day(today - timedelta(days=3))} seen by the physio: keep going" in shown
    buttons = at.get("download_button")
    assert len(buttons) == 2


def test_weeks_carry_the_spike_cap_as_each_week_began(episode_db, capsys):
    """``weeks[].spike_cap_km`` = 1.10 x the longest run of the 30 days before the week's first day
    (Frandsen 2025), null for a week with no run in that window."""
    report = _json_report(episode_db, capsys)
    runs = _schedule()
    for w in report["weeks"]:
        start = date.fromisoformat(w["week_start"])
        before = [km for day, km, _ in runs if start - timedelta(days=30) <= day < start]
        if before:
            assert w["spike_cap_km"] == pytest.approx(1.10 * max(before), abs=1e-3), w["week_start"]
        else:
            assert w["spike_cap_km"] is None, w["week_start"]
    assert report["weeks"][0]["spike_cap_km"] is None  # the first week: no run before it


@st_settings(max_examples=25, deadline=None)
@given(kms=st.lists(st.floats(0, 80, allow_nan=False), min_size=1, max_size=12),
       scores=st.lists(st.integers(0, 10), min_size=0, max_size=8),
       units=st.sampled_from(["km", "mi"]), red=st.booleans())
@pytest.mark.slow
def test_property_every_week_and_pain_entry_shown_and_red_flags_hide_numbers(kms, scores, units, red):
    """Whatever the weeks and the pain log: every week's distance and every pain entry is in the HTML;
    with a red flag standing no training number is anywhere in it."""
    last = date(2026, 5, 18)
    weeks = [{"week_start": (last - timedelta(weeks=len(kms) - 1 - i)).isoformat(), "distance_km": km, "runs": 2,
              "long_run_km": km / 2, "duration_min": km * 6, "surface_km": {"road": km}, "spike_cap_km": None,
              "cross_training_min": 0.0, "acwr": None, "partial_week": False} for i, km in enumerate(kms)]
    start = date.fromisoformat(weeks[0]["week_start"])
    pain = pd.DataFrame({"id": range(len(scores)),
                         "at_local": [datetime.combine(start + timedelta(days=3 * i % (7 * len(kms))),
                                                       datetime.min.time()).replace(hour=8) for i in range(len(scores))],
                         "score": scores, "timing": "next_morning", "location": "leg",
                         "symptoms": [("numbness_one_leg",)] * len(scores), "note": [f"note{i}" for i in range(len(scores))],
                         "deleted": False})
    plan = ({"status": "see_clinician", "care_message": "Please see a clinician within a few days."} if red else
            {"status": "green", "max_week_km": 30.0, "max_run_km": 12.0, "reasons": []})
    alerts = [{"rule": "red_flag_urgent", "severity": "see_clinician", "date": "2026-05-20",
               "message": "You logged: numbness in one leg.", "evidence": "consensus: NICE NG59"}] if red else []
    report = {"as_of": "2026-05-24", "units": units, "weeks": weeks, "plan": plan, "alerts": alerts,
              "disclaimer": "Not medical advice."}
    shown = html_text(physio_report.to_html(physio_report.build(report, pain=pain, weeks=len(kms), charts=False)))
    for i, (_, p) in enumerate(pain.iterrows()):
        assert f"{fmt.day_time(p['at_local'])} the next morning {fmt.score(p['score'])} leg" in shown
        assert f"note{i}" in shown
    if red:
        assert not ADVICE.findall(shown)
        assert shown.index("Please see a clinician") < shown.index("Who and when")
    for w in weeks:  # the history, red flag or not
        if w["distance_km"] > 0 or scores:
            assert f"{fmt.day(w['week_start'])} {fmt.distance(w['distance_km'], units)}" in shown


def test_empty_store_still_writes_a_readable_report(tmp_path, capsys):
    db = str(tmp_path / "empty.sqlite3")
    _add_pain(db, [(7 * 2, 19, 3, "after", "first entry")])
    pdf, page = tmp_path / "e.pdf", tmp_path / "e.html"
    assert main(["report", "--db", db, "--as-of", AS_OF.isoformat(), "--weeks", "4", "--pdf", str(pdf),
                 "--html", str(page)]) == 0
    for shown in (pdf_text(pdf)[0], html_text(page.read_text(encoding="utf-8"))):
        assert "No activities in this period yet." in shown and "none yet" in shown
        assert "Week by week" in shown
        assert "None" not in shown and "nan" not in shown
    # a pain entry in the period is history: the weekly table and both charts show it
    assert main(["report", "--db", db, "--as-of", (FIRST_MONDAY + timedelta(weeks=3)).isoformat(), "--weeks", "4",
                 "--pdf", str(pdf), "--html", str(page)]) == 0
    for shown in (pdf_text(pdf)[0], html_text(page.read_text(encoding="utf-8"))):
        assert "No activities in this period yet." not in shown
        assert "first entry" in shown and "3/10" in shown
        # the weeks before the first record are unknown, not 0; the week of the entry shows its pain
        assert f"{fmt.day(FIRST_MONDAY + timedelta(weeks=2))} {fmt.MISSING}" in shown
        row = shown[shown.index(fmt.day(FIRST_MONDAY + timedelta(weeks=2))):][:80]
        assert row.rstrip().split(" Mon ")[0].endswith("3/10"), row
    assert page.read_text(encoding="utf-8").count("<svg") == 2


def test_unwritable_path_is_a_clear_error(episode_db, tmp_path, capsys):
    target = tmp_path / "no-such-folder" / "r.pdf"
    assert main(["report", "--db", episode_db, "--pdf", str(target)]) == 1
    err = capsys.readouterr().err
    assert str(target) in err and "could not write" in err


@pytest.mark.browser
@pytest.mark.slow
def test_html_prints_on_two_a4_pages_in_chromium(episode_db, tmp_path, capsys):
    """The HTML prints cleanly: Chromium's print to PDF gives at most two A4 pages with the whole text."""
    import os

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        if os.environ.get("LOADWATCH_REQUIRE_BROWSER") == "1":
            pytest.fail("Chromium is required (LOADWATCH_REQUIRE_BROWSER=1) but absent")
        pytest.skip("Chromium is absent")
    page, printed = tmp_path / "physio.html", tmp_path / "printed.pdf"
    assert main(["report", "--db", episode_db, "--as-of", AS_OF.isoformat(), "--html", str(page)]) == 0
    subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
                    f"--user-data-dir={tmp_path / 'profile'}", f"--print-to-pdf={printed}", page.as_uri()],
                   check=True, timeout=120, capture_output=True)
    text, n_pages = pdf_text(printed)
    assert 1 <= n_pages <= 2, n_pages
    assert fmt.day_range(FIRST_MONDAY, AS_OF) in text and "Pain log of the period" in text
    box = pypdf.PdfReader(str(printed)).pages[0].mediabox
    assert (round(float(box.width) / 72 * 25.4), round(float(box.height) / 72 * 25.4)) == (210, 297)  # A4


@pytest.mark.parametrize(("text", "expected"), [
    ("session_spike (amber): Your 14 km run", "single-run spike (caution): Your 14 km run"),
    ("personal:3 (red): week above 30 km", "your own rule 3 (cut back): week above 30 km"),
    ("after a spike: every run <= 1.10 x", "after a spike: every run <= 1.10 x"),
])
def test_plan_reasons_lose_their_codes(text, expected):
    assert fmt.reason(text) == expected


@pytest.mark.slow
def test_writing_the_report_makes_no_connection(episode_db, tmp_path):
    """Python-level: the privacy suite's network guard records no attempt while the report is written.
    Process-level (vl-convert renders in Rust, out of the guard's sight): the CLI writes both files inside
    a network namespace with no network at all, when ``unshare`` can make one."""
    from tests.test_privacy import network_guard

    pdf, page = tmp_path / "g.pdf", tmp_path / "g.html"
    with network_guard() as attempts:
        assert main(["report", "--db", episode_db, "--as-of", AS_OF.isoformat(), "--pdf", str(pdf),
                     "--html", str(page)]) == 0
    assert attempts == [] and pdf.stat().st_size > 0
    unshare = shutil.which("unshare")
    if unshare is None or subprocess.run([unshare, "-rn", "true"], capture_output=True).returncode != 0:
        pytest.skip("cannot make a network namespace here (unshare -rn)")
    offline_pdf, offline_html = tmp_path / "offline.pdf", tmp_path / "offline.html"
    run = subprocess.run([unshare, "-rn", sys.executable, "-m", "loadwatch.dashboard.cli.main", "report", "--db", episode_db,
                          "--as-of", AS_OF.isoformat(), "--pdf", str(offline_pdf), "--html", str(offline_html)],
                         capture_output=True, text=True, timeout=180, cwd=REPO_ROOT)
    assert run.returncode == 0, run.stdout + run.stderr
    assert pypdf.PdfReader(str(offline_pdf)).pages and offline_html.read_text(encoding="utf-8").count("<svg") == 2


@pytest.mark.slow
def test_demo_history_with_its_episode_fits_two_pages(tmp_path, capsys):
    """The demo history (an episode with its phases, the phase band, 16 pain entries) still prints on one or
    two pages: the README's sample report is made from it."""
    db, pdf = str(tmp_path / "demo.sqlite3"), tmp_path / "demo.pdf"
    assert main(["demo", "--db", db]) == 0
    assert main(["report", "--db", db, "--pdf", str(pdf)]) == 0
    text, n_pages = pdf_text(pdf)
    assert 1 <= n_pages <= 2, f"{n_pages} pages"
    report = _json_report_today(db, capsys)
    assert len(report["phases"]) > 2 and "Episode history" in text
    for seg in physio_report.merged_phases(report["phases"], report["as_of"]):
        assert _norm(f"{fmt.day(seg['start'])} {fmt.day(seg['end'])} {fmt.words(seg['phase'], 'phase')}") in text
    assert report["disclaimer"] in text


def _json_report_today(db, capsys) -> dict:
    capsys.readouterr()
    assert main(["report", "--db", db, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


# --- a year on two pages ----------------------------------------------------------------------------------

YEAR_AS_OF = date(2026, 11, 29)  # a Sunday
YEAR_FIRST_MONDAY = YEAR_AS_OF - timedelta(days=6) - timedelta(weeks=51)
STRENGTH_WEEKS = 8  # the year's last weeks: strength work only, no run
STRENGTH_MIN = 40.0


def _year_store(db: str) -> dict:
    """A runner's year (52 weeks to YEAR_AS_OF): three runs a week, an episode in the spring, pain logged
    every other day, then eight weeks of strength work only; and an old episode two years back, which the
    report's episode history (12 months) leaves out."""
    runs, pain = [], []
    for w in range(52 - STRENGTH_WEEKS):
        monday = YEAR_FIRST_MONDAY + timedelta(weeks=w)
        for weekday, km, sub in WEEK_PLAN:
            runs.append((monday + timedelta(days=weekday), km, sub))
    old_monday = YEAR_FIRST_MONDAY - timedelta(weeks=100)
    for w in range(6):
        runs.append((old_monday + timedelta(weeks=w), 8.0, "street"))
    for i in range(0, 7 * 52, 2):
        day = YEAR_FIRST_MONDAY + timedelta(days=i)
        pain.append((day, 2 if i % 12 == 0 else 0, "next_morning", ""))
    episode = YEAR_FIRST_MONDAY + timedelta(weeks=16, days=5)
    pain += [(episode, 7, "during", "had to stop"), (episode + timedelta(days=2), 2, "rest_of_day", "walking ok"),
             (episode + timedelta(days=4), 1, "rest_of_day", "no pain walking"),
             (old_monday + timedelta(weeks=2, days=1), 7, "during", "the old flare-up"),
             (old_monday + timedelta(weeks=2, days=3), 1, "rest_of_day", ""),
             (old_monday + timedelta(weeks=2, days=5), 0, "rest_of_day", "")]
    _add_runs(db, runs)
    with store_mod.Store(db) as store:
        from loadwatch.ingest.painlog import PainEntry

        for day, score, timing, note in pain:
            store.add_pain(PainEntry(at_local=datetime.combine(day, datetime.min.time()).replace(hour=8),
                                     score=score, timing=timing, location="lower_back", note=note))
        strength = {}
        for w in range(52 - STRENGTH_WEEKS, 52):
            monday = YEAR_FIRST_MONDAY + timedelta(weeks=w)
            for d in (1, 4):
                store.add_session(monday + timedelta(days=d), "strength", STRENGTH_MIN / 2)
            strength[monday] = STRENGTH_MIN
    return {"strength": strength, "old_episode": old_monday + timedelta(weeks=2, days=1)}


@pytest.mark.slow
def test_a_year_with_strength_only_weeks_prints_on_two_pages(tmp_path, capsys):
    db = str(tmp_path / "year.sqlite3")
    made = _year_store(db)
    pdf, page = tmp_path / "year.pdf", tmp_path / "year.html"
    assert main(["report", "--db", db, "--as-of", YEAR_AS_OF.isoformat(), "--weeks", "52", "--pdf", str(pdf),
                 "--html", str(page)]) == 0
    capsys.readouterr()
    report = _json_report_weeks(db, capsys, 52)
    text, n_pages = pdf_text(pdf)
    assert n_pages <= 2, f"{n_pages} pages for a year"
    assert_pdf_charts_drawn(pdf, text, "km")  # both charts
    assert "No activities in this period yet" not in text
    htext = html_text(page.read_text(encoding="utf-8"))
    for shown in (text, htext):
        # every week is a row; a strength-only week shows its minutes, and no running
        for w in report["weeks"]:
            assert fmt.day(w["week_start"]) in shown
        for monday, minutes in made["strength"].items():
            row = shown[shown.index(fmt.day(monday)):][:160]
            assert row.startswith(f"{fmt.day(monday)} {fmt.distance(0.0, 'km')} 0"), row
            assert fmt.duration(minutes) in row, row
        # the episode history: the last 12 months, one row per phase; not the flare-up two years back
        assert "Episode history of the last 12 months" in shown
        assert fmt.day(made["old_episode"]) not in shown
        rows = physio_report.merged_phases(report["phases"], YEAR_AS_OF)
        assert rows and all(a["phase"] != b["phase"] for a, b in zip(rows, rows[1:], strict=False))
        for seg in rows[-3:]:  # the latest rows always; the earlier ones in a line when the page is full
            assert _norm(f"{fmt.day(seg['start'])} {fmt.day(seg['end'])} {fmt.words(seg['phase'], 'phase')}") in shown
        assert len(rows) <= 3 or "Before " in shown  # the rows left out are summed up in a line
        assert "had to stop" in shown and "7/10" in shown  # the telling entries of a long pain log are listed
        assert "SCIENCE.md" not in shown and "docs/evidence.md" in shown


def _json_report_weeks(db, capsys, weeks: int) -> dict:
    capsys.readouterr()
    assert main(["report", "--db", db, "--as-of", YEAR_AS_OF.isoformat(), "--weeks", str(weeks), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.browser
@pytest.mark.slow
def test_a_years_html_prints_on_two_a4_pages_in_chromium(tmp_path, capsys):
    """The HTML of a year is shortened as its PDF is: Chromium's print to PDF gives at most two A4 pages."""
    import os

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        if os.environ.get("LOADWATCH_REQUIRE_BROWSER") == "1":
            pytest.fail("Chromium is required (LOADWATCH_REQUIRE_BROWSER=1) but absent")
        pytest.skip("Chromium is absent")
    db = str(tmp_path / "year.sqlite3")
    _year_store(db)
    page, printed = tmp_path / "year.html", tmp_path / "printed.pdf"
    assert main(["report", "--db", db, "--as-of", YEAR_AS_OF.isoformat(), "--weeks", "52", "--html", str(page)]) == 0
    subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
                    f"--user-data-dir={tmp_path / 'profile'}", f"--print-to-pdf={printed}", page.as_uri()],
                   check=True, timeout=120, capture_output=True)
    text, n_pages = pdf_text(printed)
    assert 1 <= n_pages <= 2, n_pages
    assert fmt.day(YEAR_FIRST_MONDAY) in text and "Pain log of the period" in text


_PDF_IMPORTS = """
import json, sys
from loadwatch.dashboard.cli.main import main
code = main(sys.argv[1:])
print(json.dumps({"code": code, "loaded": sorted(m for m in ("altair", "vl_convert", "vega_datasets")
                                                 if m in sys.modules)}))
"""


@pytest.mark.slow
def test_the_pdf_imports_neither_altair_nor_vl_convert(episode_db, tmp_path):
    """Issue 21: ``report --pdf`` in 2 s from a cold start - its charts are drawn with fpdf2, so a fresh
    process writing only the PDF never imports Altair or vl-convert (the HTML still uses them)."""
    pdf = tmp_path / "physio.pdf"
    done = subprocess.run([sys.executable, "-c", _PDF_IMPORTS, "report", "--db", episode_db, "--as-of",
                           AS_OF.isoformat(), "--pdf", str(pdf)], capture_output=True, text=True, timeout=120,
                          cwd=REPO_ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {"code": 0, "loaded": []}, result
    assert pdf.read_bytes().startswith(b"%PDF")
    # the HTML beside it still renders the Altair charts
    page = tmp_path / "physio.html"
    done = subprocess.run([sys.executable, "-c", _PDF_IMPORTS, "report", "--db", episode_db, "--as-of",
                           AS_OF.isoformat(), "--html", str(page)], capture_output=True, text=True, timeout=120,
                          cwd=REPO_ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    assert set(json.loads(done.stdout.strip().splitlines()[-1])["loaded"]) >= {"altair", "vl_convert"}


@pytest.mark.parametrize("units", ["km", "mi"])
def test_pdf_chart_labels_are_in_the_runners_units(episode_db, tmp_path, capsys, units):
    """The charts the PDF draws say the runner's unit on their distance axes and run the pain axis 0 to 10,
    as pdftotext reads them (text drawn on the page, not pixels in an image)."""
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (poppler-utils) is absent")
    assert main(["settings", "set", "units", units, "--db", episode_db]) == 0
    pdf = tmp_path / f"physio-{units}.pdf"
    assert main(["report", "--db", episode_db, "--as-of", AS_OF.isoformat(), "--pdf", str(pdf)]) == 0
    capsys.readouterr()
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True,
                          timeout=60).stdout
    other = "km" if units == "mi" else "mi"
    chart = text[text.index("Weekly running distance by surface"):text.index("Week by week")]
    assert f"weekly running distance ({units})" in chart and f"longest run ({units})" in chart
    assert f"({other})" not in chart and not re.search(rf"\d {other}\b", text)
    assert "pain (0–10)" in chart
    numbers = set(re.findall(r"(?<![\d.])\d+(?![\d.])", chart))
    assert {"0", "5", "10"} <= numbers, numbers  # the pain axis's ticks (and the distance axis's 0)
    # the legend names the surfaces run on, the pain bands and the spike cap
    for label in ("road", "trail", "pain 0–3", "pain 6–10", "spike cap"):
        assert label in chart, label
    # the axes are drawn to the report's numbers: the distance axis's top tick (on the line under its title,
    # beside the pain axis's 10) is just above the longest week; both axes start at 0
    report = _json_report(episode_db, capsys)
    longest_week = max(to_units(w.get("distance_km") or 0.0, units) for w in report["weeks"])
    lines = chart.splitlines()
    i = next(i for i, line in enumerate(lines) if f"weekly running distance ({units})" in line)
    top = lines[i + 1].split()
    assert top[-1] == "10" and longest_week <= float(top[0]) <= 2 * longest_week, (top, longest_week)
    assert next(line.split() for line in lines[i + 2:] if line.split()[:1] == ["0"]) == ["0", "0"]


def test_the_pdf_takes_the_reports_kept_numbers_until_the_store_changes(today, episode_db, tmp_path, capsys,
                                                                         monkeypatch):
    """Issue 21: ``report --pdf`` reads the report's numbers kept by ``report_cache`` (the ``--json`` view)
    while the store is unchanged, and computes them again after any write."""
    from loadwatch.dashboard import from_store as store_report

    computed = []
    real = store_report.report_from_store
    monkeypatch.setattr(store_report, "report_from_store",
                        lambda *a, **k: computed.append(1) or real(*a, **k))
    args = ["report", "--db", episode_db, "--as-of", AS_OF.isoformat()]
    first, second = tmp_path / "first.pdf", tmp_path / "second.pdf"
    assert main([*args, "--pdf", str(first)]) == 0 and len(computed) == 1
    assert main([*args, "--pdf", str(second)]) == 0 and len(computed) == 1  # kept, not computed
    assert pdf_text(first) == pdf_text(second)
    capsys.readouterr()
    assert main([*args, "--json"]) == 0 and len(computed) == 1  # the PDF kept the JSON view
    kept = json.loads(capsys.readouterr().out)
    assert kept["as_of"] == AS_OF.isoformat() and kept["weeks"]
    _add_pain(episode_db, [(7 * 11 + 3, 18, 3, "after", "tempo felt heavy")])  # a write: computed again
    after = tmp_path / "after.pdf"
    assert main([*args, "--pdf", str(after)]) == 0 and len(computed) == 2
    assert "tempo felt heavy" in pdf_text(after)[0] and "tempo felt heavy" not in pdf_text(first)[0]


def test_a_long_log_of_quiet_pain_entries_prints_no_empty_table():
    """More entries than the log lists, every one 0-3 without symptoms or a note: the report says they are
    in the weekly table's Pain column, with no table of headings alone above it."""
    report = {"as_of": "2026-05-24", "units": "km", "plan": {}, "alerts": [], "weeks": [
        {"week_start": (date(2026, 3, 2) + timedelta(weeks=w)).isoformat(), "distance_km": 10.0, "runs": 2,
         "long_run_km": 6.0, "surface_km": {"road": 10.0}} for w in range(12)]}
    days = pd.date_range("2026-03-02 08:00", periods=physio_report.PAIN_ROWS_MAX + 6, freq="2D")
    pain = pd.DataFrame({"at_local": days, "score": 1, "timing": "next_morning", "location": "lower_back",
                         "symptoms": [[] for _ in days], "note": ""})
    doc = physio_report.build(pain=pain, report=report, weeks=12, printed=date(2026, 5, 24))
    text = doc.plain_text()
    assert f"{len(days)} more entries of 0–3/10 without symptoms or a note" in text
    assert "Date | When | Score" not in text
    pages = pypdf.PdfReader(io.BytesIO(physio_report.to_pdf(doc))).pages
    pdf = _norm(" ".join(p.extract_text() for p in pages))
    assert "Pain log of the period" in pdf and "Symptoms" not in pdf
