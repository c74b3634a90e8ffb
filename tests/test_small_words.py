"""The last of issue 21's small things: a pain entry linked to a run of its own day (or, the next morning,
of the day before) and worded with the run's real day; a default timing that does not claim a run; one
style of numbers and signs across the CLI report, the physio report and the dashboard; the PDF's ACWR and
evidence line; no pandas FutureWarning in the shoe distances; the bare-import message."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import warnings
from datetime import date, timedelta
from pathlib import Path

import pytest
import time_machine
from streamlit.testing.v1 import AppTest

from loadwatch.metrics import fmt
from tests.app_helpers import PAGES_DIR, no_exceptions, save_pain_entry
from tests.conftest import at_ten
from tests.helpers import cli

ROOT = Path(__file__).resolve().parent.parent


# --- the shoe distances without a FutureWarning ----------------------------------------------------------

def test_a_pair_without_runs_sums_without_a_future_warning(store):
    from loadwatch.metrics.shoe_distance import shoe_km_at_run, shoe_summary

    store.add_shoe("Pegasus", default=True)
    store.add_shoe("Trail", start_km=120.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        summary = shoe_summary(store.shoes(), store.activity_shoes(), store.activities(), "UTC")
        at_run = shoe_km_at_run(store.shoes(), store.activity_shoes(), store.activities(), "UTC")
    assert summary["distance_km"].tolist() == [0.0, 120.0]
    assert summary["runs"].tolist() == [0, 0]
    assert at_run.empty


# --- the bare import names the installed one ------------------------------------------------------------

@pytest.mark.parametrize("name", ["ingest", "metrics", "dashboard"])
def test_a_bare_import_says_which_name_to_import_not_to_install(name):
    """loadwatch is installed (this test runs from its venv): the message says to import loadwatch.X,
    and does not send the runner to install what is already there."""
    done = subprocess.run([sys.executable, "-c", f"import {name}"], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode != 0
    last = done.stderr.strip().splitlines()[-1]
    assert f"import loadwatch.{name}, not {name}" in last
    assert "install" not in last, last


# --- one style of numbers and signs: the CLI report, the physio report, the dashboard ------------------

DEMO_TODAY = date(2026, 12, 6)  # a Sunday; the demo's last run is on Thursday 3 Dec
THURSDAY, SUNDAY = "2026-12-03", "2026-11-29"


@pytest.fixture(scope="module")
def demo_template(tmp_path_factory) -> Path:
    """The demo history (generated, fixed days) written once for this module."""
    from loadwatch.ingest.demo import write_demo
    from loadwatch.ingest.store import Store

    path = tmp_path_factory.mktemp("demo") / "demo.sqlite3"
    with Store(path) as s:
        write_demo(s, today=DEMO_TODAY)
    return path


@pytest.fixture
def demo_db(demo_template, tmp_path):
    """A copy of the demo store, the clock on the demo's own Sunday for the test (its days are fixed)."""
    path = tmp_path / "demo.sqlite3"
    shutil.copy(demo_template, path)
    with time_machine.travel(at_ten(DEMO_TODAY), tick=True):
        yield str(path)


def _report(capsys, db: str, as_of: str) -> tuple[str, dict]:
    code, text, _err = cli(capsys, "report", "--db", db, "--as-of", as_of)
    assert code == 0
    code, out, _err = cli(capsys, "report", "--db", db, "--as-of", as_of, "--json")
    assert code == 0
    return text, json.loads(out)


def _week_rows(text: str, weeks: list[dict]) -> dict[str, str]:
    """The text table's line of each week (by its day in words)."""
    rows = {}
    for w in weeks:
        label = fmt.day(w["week_start"])
        rows[w["week_start"]] = next(line for line in text.splitlines() if line.startswith(label))
    return rows


def test_the_star_footnote_only_under_a_starred_week(capsys, demo_db):
    text, report = _report(capsys, demo_db, SUNDAY)
    assert not any(w["partial_week"] for w in report["weeks"])
    assert not any(row.split("  ")[0].endswith("*") for row in _week_rows(text, report["weeks"]).values())
    assert "week not over yet" not in text and "soft = trail + track + treadmill" in text
    text, report = _report(capsys, demo_db, THURSDAY)
    partial = [w for w in report["weeks"] if w["partial_week"]]
    assert len(partial) == 1
    assert _week_rows(text, partial)[partial[0]["week_start"]].startswith(fmt.day(partial[0]["week_start"]) + "*")
    assert "* week not over yet" in text


def test_the_cli_report_writes_signs_and_caps_one_way(capsys, demo_db):
    text, report = _report(capsys, demo_db, THURSDAY)
    latest = report["latest_run"]
    assert latest["spike_pct"] < 0  # the demo's last run is shorter than its longest: a minus sign to write
    assert f"{fmt.pct(latest['spike_pct'], signed=True)} vs your longest" in text
    assert not re.search(r"(?<![\w.])-\d+(\.\d+)?%", text), "a hyphen for a minus"
    assert "<=" not in text and ">=" not in text
    plan = report["plan"]
    assert plan["max_week_km"] is not None and plan["max_run_km"] is not None
    for item in fmt.plan_items(plan, report["units"]):
        assert f"  {item}" in text.splitlines()


def test_acwr_reads_the_same_in_the_terminal_the_pdf_and_the_load_page(capsys, demo_db, tmp_path):
    pypdf = pytest.importorskip("pypdf")

    text, report = _report(capsys, demo_db, THURSDAY)
    weeks = [w for w in report["weeks"] if w.get("acwr") is not None]
    said = {w["week_start"]: fmt.ratio(w["acwr"]) for w in weeks}
    assert all(re.fullmatch(r"\d+\.\d\d", s) for s in said.values()), said
    assert any(s.endswith("0") for s in said.values()), "the demo should hold an ACWR such as 1.20"
    rows = _week_rows(text, weeks)
    for week, shown in said.items():
        assert f" {shown} " in rows[week] + " ", (rows[week], shown)

    pdf = tmp_path / "physio.pdf"
    code, _out, _err = cli(capsys, "report", "--db", demo_db, "--as-of", THURSDAY, "--pdf", str(pdf))
    assert code == 0
    pdf_text = "\n".join(p.extract_text() for p in pypdf.PdfReader(str(pdf)).pages)
    lines = pdf_text.splitlines()
    for week, shown in said.items():
        start = next(i for i, line in enumerate(lines) if line.startswith(fmt.day(week)))
        row = " ".join(lines[start:start + 2])  # "(so far)" may wrap the label
        assert re.search(rf" {re.escape(shown)} (\d+/10|{fmt.MISSING})", row), (row, shown)


def test_the_pdf_names_the_evidence_once(capsys, demo_db, tmp_path):
    pypdf = pytest.importorskip("pypdf")

    # a 7/10 after the run: a stop, whose phase alert cites consensus evidence, beside the spike alert's
    assert cli(capsys, "pain", "add", "--db", demo_db, "--date", THURSDAY, "--score", "7", "--timing", "after")[0] == 0
    pdf = tmp_path / "physio.pdf"
    assert cli(capsys, "report", "--db", demo_db, "--as-of", THURSDAY, "--pdf", str(pdf))[0] == 0
    pdf_text = " ".join(" ".join(p.extract_text() for p in pypdf.PdfReader(str(pdf)).pages).split())
    assert not re.search(r"Evidence: (strong|moderate|weak|consensus) evidence", pdf_text, re.I), pdf_text
    assert "Strong evidence: Frandsen et al." in pdf_text
    assert "Consensus evidence:" in pdf_text


@pytest.mark.parametrize(("text", "said"), [
    ("strong evidence: Frandsen et al.", "Strong evidence: Frandsen et al."),
    ("consensus evidence: NICE NG59", "Consensus evidence: NICE NG59"),
    ("NICE NG59", "Evidence: NICE NG59"),
    ("", ""),
])
def test_an_evidence_line_has_one_wording(text, said):
    assert fmt.evidence(text) == said


@pytest.mark.parametrize(("value", "said"), [(1.2, "1.20"), (0.857, "0.86"), (None, fmt.MISSING),
                                             (1.115, "1.12"), (1.1152, "1.12"),
                                             (float("nan"), fmt.MISSING)])
def test_a_ratio_keeps_its_two_decimals(value, said):
    """Its two decimals, and the same from the JSON's three decimals as from the unrounded frame."""
    assert fmt.ratio(value) == said


@pytest.mark.parametrize(("value", "said"), [(2, "+2"), (-1.5, "−1.5"), (0, "0"), (-0.01, "0"), (None, fmt.MISSING)])
def test_a_signed_change_uses_the_minus_sign_of_a_percentage(value, said):
    assert fmt.signed(value) == said
    if value not in (None, 0, -0.01):
        assert fmt.signed(value)[0] == fmt.pct(value, signed=True)[0]


def test_the_load_page_shows_the_reports_acwr(capsys, demo_db, monkeypatch):
    """The dashboard's weekly table writes a whole week's ACWR as the terminal and the PDF do."""
    _text, report = _report(capsys, demo_db, THURSDAY)
    said = {w["week_start"]: fmt.ratio(w["acwr"]) for w in report["weeks"]
            if w.get("acwr") is not None and not w["partial_week"]}
    monkeypatch.setenv("LOADWATCH_DB", demo_db)
    at = AppTest.from_file(str(PAGES_DIR / "load.py"), default_timeout=90).run()
    no_exceptions(at)
    table = next(d.value for d in at.dataframe if "ACWR" in d.value.columns)
    shown = dict(zip(table["week of"], table["ACWR"], strict=True))
    for week, ratio in said.items():
        assert shown[fmt.day(week)] == ratio
    assert all(re.fullmatch(r"\d+\.\d\d", v) or v == fmt.MISSING for v in shown.values()), shown


# --- a pain entry and its run: the run's own day, a default timing that does not claim a run ---------------

@pytest.fixture
def runs_db(tmp_path, today) -> tuple[str, dict[date, str]]:
    """A store with runs (watch files at 07:00 UTC, offset 0) ten, eight, six, four and two days before today:
    (the store, local day -> run id)."""
    from tests.test_cli_report import _add_runs

    db = str(tmp_path / "runs.sqlite3")
    first = today - timedelta(days=10)
    _add_runs(db, [6.0, 8.0, 6.0, 10.0, 7.0], start=f"{first.isoformat()} 07:00", every_days=2)
    return db, {first + timedelta(days=2 * i): f"run{i:03d}" for i in range(5)}


def _pain(db: str):
    from loadwatch.ingest.store import Store

    with Store(db) as s:
        return s.pain()


def test_a_run_of_another_day_is_refused_naming_its_day(capsys, runs_db, today):
    db, runs = runs_db
    run_day = today - timedelta(days=4)
    code, out, err = cli(capsys, "pain", "add", "--db", db, "--date", today.isoformat(), "--score", "4",
                         "--run", runs[run_day])
    assert code == 1 and out == ""
    assert f"was on {fmt.day(run_day)}" in err and f"for {fmt.day(today)}" in err
    assert _pain(db).empty
    # a next-morning check-in may name the run of the day before, an after-run entry may not
    code, _out, err = cli(capsys, "pain", "add", "--db", db, "--date", (run_day + timedelta(days=1)).isoformat(),
                          "--score", "3", "--run", runs[run_day], "--timing", "after")
    assert code == 1 and f"was on {fmt.day(run_day)}" in err
    assert _pain(db).empty


@pytest.mark.parametrize(("days_after", "timing", "said"), [
    (0, None, "4/10 right after your run on {run} (logged at 12:00)"),
    (0, "during", "4/10 during your run on {run} (logged at 12:00)"),
    (1, "next_morning", "4/10 the morning after your run on {run} (logged for {entry} 07:00)"),
])
def test_a_linked_entry_names_the_runs_own_day(capsys, runs_db, today, days_after, timing, said):
    db, runs = runs_db
    run_day = today - timedelta(days=4)
    entry_day = run_day + timedelta(days=days_after)
    argv = ["pain", "add", "--db", db, "--date", entry_day.isoformat(), "--score", "4", "--run", runs[run_day]]
    code, out, _err = cli(capsys, *argv, *(["--timing", timing] if timing else []))
    assert code == 0
    assert said.format(run=fmt.day(run_day), entry=fmt.day(entry_day)) in out
    logged = _pain(db)
    assert logged["activity_id"].tolist() == [runs[run_day]]
    assert logged["timing"].tolist() == [timing or "after"]


def test_editing_a_linked_entry_to_another_day_is_refused(capsys, runs_db, today):
    db, runs = runs_db
    run_day = today - timedelta(days=4)
    assert cli(capsys, "pain", "add", "--db", db, "--date", run_day.isoformat(), "--score", "4",
               "--run", runs[run_day])[0] == 0
    code, _out, err = cli(capsys, "pain", "edit", "1", "--db", db, "--date", (run_day - timedelta(days=1)).isoformat())
    assert code == 1 and f"was on {fmt.day(run_day)}" in err
    assert _pain(db)["at_local"].dt.date.tolist() == [run_day]
    # the note of an entry may change whatever its link
    assert cli(capsys, "pain", "edit", "1", "--db", db, "--note", "hills")[0] == 0


@pytest.mark.parametrize("store_exists", [True, False])
def test_without_a_timing_a_day_without_a_run_is_not_after_a_run(capsys, tmp_path, runs_db, today, store_exists):
    """The light path (a store to write into) and the full one (no store yet) give the same default."""
    db, runs = runs_db if store_exists else (str(tmp_path / "new.sqlite3"), {})
    day = today - timedelta(days=1)  # no run; yesterday, as today's 20:00 has not come yet at 10:00
    code, out, _err = cli(capsys, "pain", "add", "--db", db, "--date", day.isoformat(), "--score", "3")
    assert code == 0
    assert f"3/10 on {fmt.day(day)} 20:00, a day without a run" in out
    assert "after the run" not in out
    assert _pain(db)["timing"].tolist() == ["rest_of_day"]
    if store_exists:
        ran = today - timedelta(days=2)
        code, out, _err = cli(capsys, "pain", "add", "--db", db, "--date", ran.isoformat(), "--score", "3")
        assert code == 0 and f"3/10 right after the run on {fmt.day(ran)} 12:00" in out
        assert _pain(db)["timing"].tolist() == ["after", "rest_of_day"]


def _pain_page(db: str, monkeypatch) -> AppTest:
    monkeypatch.setenv("LOADWATCH_DB", db)
    at = AppTest.from_file(str(PAGES_DIR / "pain_log.py"), default_timeout=90).run()
    no_exceptions(at)
    return at


def test_the_pain_form_refuses_a_run_of_another_day(runs_db, today, monkeypatch):
    db, runs = runs_db
    at = _pain_page(db, monkeypatch)
    run_day = today - timedelta(days=4)
    at.selectbox(key=next(s.key for s in at.selectbox if s.label == "Which run (optional)")).set_value(runs[run_day])
    at.slider[0].set_value(4)
    save_pain_entry(at)
    assert [e.value for e in at.error] == [fmt.run_link_refused(runs[run_day], run_day, today, "rest_of_day")]
    assert _pain(db).empty


def test_the_pain_form_starts_at_the_timing_of_the_day(runs_db, today, monkeypatch):
    db, runs = runs_db
    at = _pain_page(db, monkeypatch)
    assert at.radio[0].value == "rest_of_day"  # today: no run
    at.slider[0].set_value(3)
    save_pain_entry(at)
    assert [s.value for s in at.success] == ["Saved: pain 3/10, later in the day (no run that day), lower back."]
    ran = today - timedelta(days=2)
    at.date_input[0].set_value(ran).run()
    no_exceptions(at)
    assert at.radio[0].value == "after"
    run_box = next(s for s in at.selectbox if s.label == "Which run (optional)")
    run_box.set_value(runs[ran]).run()
    at.slider[0].set_value(5)
    save_pain_entry(at)
    assert [s.value for s in at.success] == [f"Saved: pain 5/10, right after your run on {fmt.day(ran)}, lower back."]
    assert sorted(_pain(db)["timing"]) == ["after", "rest_of_day"]


def test_a_cohort_runners_pain_log_keeps_an_entry_linked_to_another_days_run(tmp_path, runs_db, today):
    """A pain.csv written before the store checked a link's day: the entry is kept without its link, and the
    runner's file row says so."""
    from loadwatch.dashboard.pipelines import cohort_runner
    from loadwatch.ingest.store import Store

    db, runs = runs_db
    run_day = today - timedelta(days=4)
    csv_path = tmp_path / "pain.csv"
    csv_path.write_text("id,at_local,score,timing,location,activity_id,symptoms,note\n"
                        f"1,{today.isoformat()}T12:00,4,after,lower_back,{runs[run_day]},,\n"
                        f"2,{run_day.isoformat()}T12:00,3,after,lower_back,{runs[run_day]},,\n", encoding="utf-8")
    with Store(db) as store:
        rows = cohort_runner._sync_pain(store, csv_path, "ann", {}, {})
        pain = store.pain()
    assert pain["activity_id"].tolist() == [runs[run_day], None]
    assert "1 entry linked to a run of another day (kept without the link)" in str(rows)


def test_alerts_check_lists_the_plans_reasons_as_the_report_does(capsys, demo_db):
    """Its reasons read "because Where you are in your training ..." and its strength line was lower-case
    beside the report's "Strength:"."""
    code, out, _err = cli(capsys, "alerts", "check", "--db", demo_db, "--as-of", THURSDAY)
    assert code == 0
    text, report = _report(capsys, demo_db, THURSDAY)
    reasons = [f"  - {fmt.reason(r)}" for r in report["plan"]["reasons"]]
    assert reasons and all(line in out.splitlines() for line in reasons)
    assert all(line in text.splitlines() for line in reasons)
    assert "because " not in out and "Why:" in out.splitlines()
    assert any(line.startswith("Strength: ") for line in out.splitlines())
    assert any(line.startswith("  Strength: ") for line in text.splitlines())
