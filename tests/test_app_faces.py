"""Every page, in km and in miles, on the demo and on a generated history that stopped months ago: the
visible text is plain words (no internal codes, no None / nan, no raw ISO dates, no 0.000000), the
distances are in the runner's units, and a stale history is anchored on today like any other (the charts
run to today with the weeks since the last run empty, and one line says how long ago it was)."""

from __future__ import annotations

import os
import re
import shutil
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from loadwatch.ingest.store import Store
from tests.app_helpers import PAGES_DIR, charts, no_exceptions, texts
from tests.conftest import DEFAULT_TODAY, EVERY_WEEKDAY

#: Every test here runs with the clock frozen on a known day (conftest's ``today``: a Sunday, or the days a
#: test is parametrized with): the stale history ends STALE_DAYS before it, the recent one the day before.
pytestmark = pytest.mark.usefixtures("today")

TIMEOUT = 120
PAGES = ["this_week", "load", "month_calendar", "pain_log", "alerts", "activities", "import_files", "settings"]
STALE_DAYS = 150  # the generated history ends five months ago

SNAKE = re.compile(r"\b[a-z]+_[a-z_]+\b")
ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
NOISE = re.compile(r"\b\d+\.\d{4,}\b")
MISSING_WORDS = re.compile(r"\b(None|nan|NaN|NaT|null)\b")


def visible_text(at: AppTest) -> str:
    """texts() plus what tables, metrics, buttons, expanders and select boxes show."""
    parts = [texts(at)]
    from loadwatch.metrics import fmt

    for df in at.dataframe:  # tables and editors; a date column is shown through its column format
        frame = df.value.copy()
        for c in frame.columns:
            if str(frame[c].dtype).startswith("datetime"):
                frame[c] = frame[c].map(fmt.day_time)
        parts += [str(c) for c in frame.columns]
        parts += [str(v) for v in frame.astype(str).to_numpy().ravel()]
    parts += [b.label for b in at.button]
    parts += [e.label for e in at.expander]
    for sb in at.selectbox:
        parts += [str(o) for o in sb.options]
    return "\n".join(parts)


def assert_plain_words(text: str, *, db_path: str) -> None:
    text = text.replace(db_path, "<store>")  # the Settings page names the store's file, a path
    assert not SNAKE.findall(text), sorted(set(SNAKE.findall(text)))
    assert not ISO_DATE.findall(text), ISO_DATE.findall(text)[:5]
    assert not NOISE.findall(text), NOISE.findall(text)[:5]
    assert not MISSING_WORDS.findall(text), [line for line in text.splitlines() if MISSING_WORDS.search(line)][:5]


_TEMPLATES: dict[tuple[str, date], Path] = {}


def _template(kind: str, folder: Path, today: date = DEFAULT_TODAY) -> Path:
    """The demo store ("demo"), or one whose history ended STALE_DAYS before ``today`` ("stale")."""
    if (kind, today) not in _TEMPLATES:
        from loadwatch.ingest.demo import write_demo

        path = folder / f"{kind}-{today.isoformat()}.sqlite3"
        with Store(path) as store:
            write_demo(store, today=today - timedelta(days=STALE_DAYS) if kind == "stale" else None)
        with Store(path) as store:
            store.close()
        _TEMPLATES[kind, today] = path
    return _TEMPLATES[kind, today]


@pytest.fixture(scope="session")
def templates(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("faces")


def use_store(kind: str, units: str, templates: Path, monkeypatch, today: date = DEFAULT_TODAY) -> Path:
    dest = Path(os.environ["LOADWATCH_DB"])
    src = _template(kind, templates, today)
    shutil.copyfile(src, dest)
    if kind == "demo":
        monkeypatch.setenv("LOADWATCH_DEMO", "1")
    with Store(dest) as store:
        store.set_setting("units", units)
    return dest


def run_page(name: str) -> AppTest:
    at = AppTest.from_file(str(PAGES_DIR / f"{name}.py"), default_timeout=TIMEOUT).run()
    no_exceptions(at)
    return at


def stale_page(name: str, units: str, today: date, templates: Path, monkeypatch) -> tuple[AppTest, str]:
    """The page on the history that ended STALE_DAYS before ``today``, in ``units``, and its text."""
    use_store("stale", units, templates, monkeypatch, today)
    at = run_page(name)
    return at, texts(at)


@pytest.mark.parametrize("units", ["km", pytest.param("mi", marks=pytest.mark.slow)])  # the fast loop: km on
@pytest.mark.parametrize("kind", ["demo", pytest.param("stale", marks=pytest.mark.slow)])  # the demo only
@pytest.mark.parametrize("name", PAGES)
def test_every_page_speaks_plain_words_in_the_runners_units(name, kind, units, templates, monkeypatch):
    db = use_store(kind, units, templates, monkeypatch)
    at = run_page(name)
    shown = visible_text(at)
    assert_plain_words(shown, db_path=str(db))
    other = "km" if units == "mi" else "mi"
    # the demo's pain notes are a runner's own words ("back ached from 5 km in"): not a figure of ours
    figures = "\n".join(line for line in shown.splitlines() if not line.startswith("[demo]"))
    assert not re.search(rf"\d {other}\b", figures), f"a distance in {other}"
    for chart in charts(at):
        spec = chart.proto.spec
        assert f"({other})" not in spec, f"a chart axis in {other}"
    if kind == "demo":
        assert "Demo data" in shown


@pytest.mark.parametrize("today", EVERY_WEEKDAY, indirect=True)
def test_stale_history_load_page_runs_to_today_and_says_so(today, templates, monkeypatch):
    import pandas as pd

    at, shown = stale_page("load", "km", today, templates, monkeypatch)
    weeks_ago = STALE_DAYS // 7
    assert "Your last run was on" in shown and f"{weeks_ago} weeks ago: import newer runs" in shown
    table = at.dataframe[0].value
    distances = [float(v) for v in table["distance (km)"] if v != "–"]
    assert sum(d > 0 for d in distances) >= 6  # the last weeks of data are in range ...
    assert distances[-1] == 0  # ... and so are the empty weeks since, to this week
    last_week = pd.Timestamp(today - timedelta(days=today.weekday()))
    from loadwatch.metrics import fmt
    assert table["week of"].iloc[-1] == fmt.day(last_week)
    first_chart = charts(at)[0].proto.spec
    assert "distance (km)" in first_chart


@pytest.mark.parametrize("today", EVERY_WEEKDAY, indirect=True)
def test_stale_history_this_week_chart_runs_to_today(today, templates, monkeypatch):
    import json

    at, shown = stale_page("this_week", "mi", today, templates, monkeypatch)
    assert "The last 12 weeks" in shown and "of your history" not in shown
    stale = [line for line in shown.splitlines() if "import newer runs" in line]
    assert len(stale) == 1 and stale[0].startswith("Your last run was on ") and "weeks ago" in stale[0]
    spec = json.loads(charts(at)[0].proto.spec)
    text = json.dumps(spec)
    assert "weekly running distance (mi)" in text  # no pain dot: the history stopped five months ago
    assert x_domains(spec) and {d[1][:10] for d in x_domains(spec)} == {(today + timedelta(days=1)).isoformat()}


def x_domains(spec) -> list:
    """Every time axis's domain in a Vega-Lite spec (each ends at the day after the last day shown)."""
    found = []
    if isinstance(spec, dict):
        x = (spec.get("encoding") or {}).get("x") or {}
        if isinstance(x, dict) and (x.get("scale") or {}).get("domain"):
            found.append(x["scale"]["domain"])
        for v in spec.values():
            found += x_domains(v)
    elif isinstance(spec, list):
        for v in spec:
            found += x_domains(v)
    return found


@pytest.mark.slow
def test_acwr_is_drawn_only_after_28_days_of_history(templates, monkeypatch):
    import pandas as pd

    from loadwatch.dashboard import charts as ch

    use_store("stale", "km", templates, monkeypatch)
    assert "28 days of history" in texts(run_page("load"))
    weeks = pd.DataFrame({"load": [10.0, 20, 20, 20, 30, 30], "acwr": [3.0, 1.6, 1.2, 1.1, 1.3, 1.2]},
                         index=pd.DatetimeIndex(pd.date_range("2026-08-03", periods=6, freq="7D"), name="week_start"))
    first = date(2026, 8, 3)
    spec = ch.load_acwr(weeks, ch.time_domain(first, date(2026, 9, 13)), "mi", "km",
                        acwr_from=first + timedelta(days=28)).to_dict()
    line = spec["layer"][1]
    rows = spec["datasets"][line["data"]["name"]]
    assert [r["acwr"] for r in rows] == [1.3, 1.2]  # nothing from the first four weeks (the 3.0 after one run)
    assert spec["layer"][0]["encoding"]["y"]["title"] == "weekly load (mi)"
    bars = spec["datasets"][spec["layer"][0]["data"]["name"]]
    assert bars[0]["load"] == pytest.approx(10 / 1.609344)


def test_dynamics_axes_do_not_zoom_into_noise():
    import json

    import pandas as pd

    from loadwatch.dashboard import charts as ch

    weeks = pd.DataFrame({"cadence_spm": [167.98, 168.0, 168.02]},
                         index=pd.DatetimeIndex(pd.date_range("2026-08-03", periods=3, freq="7D"), name="week_start"))
    spec = ch.dynamics(weeks, ["cadence_spm"], ch.time_domain(date(2026, 8, 3), date(2026, 8, 23))).to_dict()
    lo, hi = spec["vconcat"][0]["encoding"]["y"]["scale"]["domain"]
    assert hi - lo >= ch.MIN_SPAN["cadence_spm"]
    assert json.dumps(spec)  # serialisable


def test_activity_view_pace_is_inverted_mss_and_route_is_to_scale(templates, monkeypatch):
    import json

    db = use_store("stale", "mi", templates, monkeypatch)
    with Store(db) as store:
        acts = store.activities()
    road = acts[(acts["sport"] == "running") & (acts["sub_sport"] != "treadmill")]["id"].iloc[-1]
    at = AppTest.from_file(str(PAGES_DIR / "activities.py"), default_timeout=TIMEOUT)
    at.query_params["run"] = road
    at.run()
    no_exceptions(at)
    specs = [json.loads(c.proto.spec) for c in charts(at)]
    pace = [s for s in specs if "pace (min per mi)" in json.dumps(s)]
    assert pace, "a pace chart in min per mile"
    y = pace[0]["encoding"]["y"]
    assert y["scale"]["reverse"] is True and "floor(datum.value / 60)" in y["axis"]["labelExpr"]
    route = [s for s in specs if "east (mi)" in json.dumps(s)]
    assert route
    enc = route[0]["encoding"]
    assert enc["x"]["scale"]["domain"] == enc["y"]["scale"]["domain"]  # equal scales: true shape
    assert "Splits per mile" in [s.value for s in at.subheader]


# --- demo isolation ----------------------------------------------------------------------------------------

def test_demo_is_a_separate_mode_the_import_page_does_not_import_into_it(templates):
    from loadwatch.ingest.store import demo_db_path
    from tests.app_helpers import APP_PATH

    assert Path(demo_db_path()).parent == Path(os.environ["LOADWATCH_DB"]).parent  # inside this test's folder
    shutil.copyfile(_template("demo", templates), demo_db_path())

    at = AppTest.from_file(str(APP_PATH), default_timeout=TIMEOUT).run()
    at.button[0].click().run()  # "Load demo data"
    no_exceptions(at)
    assert "Demo data" in texts(at)
    assert at.query_params.get("demo") in ("1", ["1"])

    at.switch_page("pages/import_files.py").run()
    no_exceptions(at)
    shown = texts(at)
    assert "You are looking at the demo" in shown and "leave the demo first" in shown
    assert not at.get("file_uploader"), "no uploader in demo mode"
    assert "The demo store holds" in shown

    at.button(key="import_leave_demo").click().run()
    no_exceptions(at)
    shown = texts(at)
    assert "Demo data" not in shown
    assert "Your store holds 0 activities." in shown  # the runner's own store, and its own count
    assert at.get("file_uploader")
    assert "demo" not in at.query_params


def test_demo_survives_a_reload(templates):
    from loadwatch.ingest.store import demo_db_path

    Path(demo_db_path()).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_template("demo", templates), demo_db_path())
    at = AppTest.from_file(str(PAGES_DIR / "this_week.py"), default_timeout=TIMEOUT)
    at.query_params["demo"] = "1"  # a reload keeps the URL, not the session
    at.run()
    no_exceptions(at)
    assert "Demo data" in at.warning[0].value
    assert at.metric  # the demo's numbers, while the runner's own store is empty
    with Store(Path(os.environ["LOADWATCH_DB"])) as own:
        assert own.activities().empty


def test_this_week_chart_window_is_twelve_whole_weeks_ending_today():
    import importlib.util

    spec = importlib.util.spec_from_file_location("tw", PAGES_DIR / "this_week.py")
    src = (PAGES_DIR / "this_week.py").read_text()
    ns: dict = {}
    exec(compile(src.split("ui.page_start(")[0], str(spec.origin), "exec"), ns)  # the functions only
    start, end = ns["chart_window"](date(2026, 11, 30))
    assert (start, end) == (date(2026, 9, 14), date(2026, 11, 30))  # 12 Mondays, the current week the 12th
    assert start.weekday() == 0 and (end - start).days // 7 == 11
    start, end = ns["chart_window"](date(2026, 12, 6), "sunday")
    assert end == date(2026, 12, 6) and start == date(2026, 9, 20) and start.weekday() == 6


# --- calendar and This week with the generated recent history -----------------------------------------------

@pytest.fixture
def recent(history) -> Path:
    """The generated history (conftest's ``history``: relative to today, the clock frozen on a Sunday)."""
    return history


@pytest.mark.parametrize("today", EVERY_WEEKDAY, indirect=True)
@pytest.mark.slow
def test_calendar_day_opens_and_logs_pain_for_that_day(today, recent):
    from loadwatch.metrics import fmt

    at = run_page("month_calendar")
    yesterday = today - timedelta(days=1)
    cell = [m.value for m in at.markdown if "18 km" in m.value]
    assert cell, "yesterday's 18 km run is in its cell"
    at.button(key=f"cal_{yesterday.isoformat()}").click().run()
    no_exceptions(at)
    assert fmt.day(yesterday) in [s.value for s in at.subheader]
    assert any("Run at 07:00: 18 km" in m.value for m in at.markdown)
    at.slider[0].set_value(5)
    [save] = [b for b in at.button if b.label == "Save pain entry"]
    save.click().run()
    no_exceptions(at)
    assert f"Saved: pain 5/10 on {fmt.day(yesterday)}." in texts(at)
    with Store(recent) as store:
        pain = store.pain()
    logged = pain[pd_dates(pain["at_local"]) == yesterday]
    assert logged["score"].tolist() == [5]
    assert any(":orange[pain 5/10]" in m.value for m in at.markdown)  # amber in the traffic light


def pd_dates(series):
    import pandas as pd

    return pd.to_datetime(series).dt.date


@pytest.mark.slow
def test_red_flag_leaves_no_empty_alerts_heading(today, recent):
    from loadwatch.ingest.painlog import PainEntry

    with Store(recent) as store:
        store.add_pain(PainEntry(at_local=datetime(today.year, today.month, today.day, 9, 0), score=4,
                                 timing="rest_of_day", symptoms=("saddle_numbness",)))
    at = run_page("this_week")
    shown = texts(at)
    assert "Seek urgent medical care" in at.error[0].value
    headings = [s.value for s in at.subheader]
    assert "Alerts" not in headings or any(a for a in at.warning)
    assert "symptoms" in shown and "saddle_numbness" not in shown and "lookback" not in shown


def test_no_page_script_shadows_a_standard_module():
    """Streamlit puts the page's folder on sys.path: a page called calendar.py is imported by pandas as the
    standard library's calendar (the importer's worker processes then fail to start)."""
    import sys

    clashes = [p.name for p in PAGES_DIR.glob("*.py") if p.stem in sys.stdlib_module_names]
    assert clashes == []


DISTANCE = re.compile(r"\b\d+(?:\.\d+)?\s?(?:km|mi)\b")


@pytest.mark.parametrize(("symptom", "phase_words"), [("saddle_numbness", "Urgent care now"),
                                                       ("night_pain", "See a clinician")])
def test_red_flag_this_week_keeps_the_history_and_withholds_advice_until_an_assessment(today, recent, symptom,
                                                                                     phase_words):
    """Under a red flag only *advice* numbers are withheld (the plan's caps, the safe longest run, the next
    step): This week keeps its 12-week chart, with this week's pain, and its headline history for the
    clinician the runner is sent to; once a clinician's visit is recorded the plan's numbers come back and
    the phase box names the return to running."""
    from loadwatch.ingest.painlog import PainEntry
    from loadwatch.metrics import fmt

    yesterday = today - timedelta(days=1)
    with Store(recent) as store:
        store.add_pain(PainEntry(at_local=datetime(yesterday.year, yesterday.month, yesterday.day, 20), score=3,
                                 timing="after", symptoms=(symptom,)))
    at = run_page("this_week")
    shown = visible_text(at)
    assert phase_words in shown
    assert at.error, "the red flag comes first"
    [chart] = charts(at)  # the history stays: the 12 weeks with the red-flag day's pain on them
    data = " ".join(str(d) for d in chart.proto.datasets) + chart.proto.spec
    assert "weekly running distance (km)" in data and "pain (0-10)" in data  # the pain layer: in range
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Last run"] == "18 km"  # yesterday's run: history, not advice
    assert "No training plan" in shown
    for advice in ("longest run ≤", "at most", "Safe longest", "Next step after", "Total for the next 7 days"):
        assert advice not in shown, advice
    assert "No alerts" not in shown
    assert_plain_words(shown, db_path=str(recent))

    with Store(recent) as store:
        store.add_assessment(today, "physio: no red flags")
    at = run_page("this_week")
    shown = visible_text(at)
    assert f"Return to running since {fmt.day(today)}" in shown  # the phase box
    [chart] = charts(at)
    assert '"y2": {"value": 10}' in chart.proto.spec  # the phase ribbon along the top of the weekly chart
    data = " ".join(str(d) for d in chart.proto.datasets) + chart.proto.spec
    assert "return to running" in data and phase_words.lower() in data
    assert "return_to_run" not in data and "see_clinician" not in data
    assert DISTANCE.findall(shown)  # training numbers are back
    assert_plain_words(shown, db_path=str(recent))


def test_calendar_shows_a_clinicians_visit_in_its_cell_and_its_day(today, recent):
    from loadwatch.metrics import fmt

    seen = today - timedelta(days=3)
    with Store(recent) as store:
        store.add_assessment(seen, "physio, cleared to run")
    at = run_page("month_calendar")
    cells = [m.value for m in at.markdown if "seen by a clinician" in m.value and "[" in m.value]
    assert len(cells) == 1, cells  # one day's cell (the legend is a caption)
    at.button(key=f"cal_{seen.isoformat()}").click().run()
    no_exceptions(at)
    assert fmt.day(seen) in [s.value for s in at.subheader]
    assert any("Assessed by a clinician: physio, cleared to run" in m.value for m in at.markdown)
    assert_plain_words(visible_text(at), db_path=str(recent))


@pytest.mark.parametrize("today", [date(2026, 12, 6), pytest.param(date(2027, 1, 1), marks=pytest.mark.slow),
                                   pytest.param(date(2028, 2, 29), marks=pytest.mark.slow)], indirect=True, ids=str)
def test_stale_history_calendar_opens_on_todays_month(today, templates, monkeypatch):
    use_store("stale", "km", templates, monkeypatch, today)
    at = run_page("month_calendar")
    months = [m.value for m in at.markdown if m.value.startswith("#### ")]
    assert months[0] == f"#### {today:%B %Y}", months  # today's month first, whenever the last run was
    assert any("weeks ago: import newer runs" in i.value for i in at.info)


def test_an_axis_over_nothing_but_zeros_runs_from_0_to_1():
    """An all-zero week (strength work only, a break) draws an axis from 0 to 1, not a domain of [0, 0]
    (labelled "0.000000" in the browser)."""
    import pandas as pd

    from loadwatch.dashboard import charts as ch

    weeks = pd.DataFrame({"strength_min": [0.0, 0.0], "cross_training_min": [0.0, 0.0]},
                         index=pd.DatetimeIndex(pd.date_range("2026-11-23", periods=2, freq="7D"), name="week_start"))
    domain = ch.time_domain(date(2026, 11, 23), date(2026, 12, 6))
    assert ch.session_minutes(weeks, domain).to_dict()["encoding"]["y"]["scale"] == {"domain": [0, 1]}
    weeks["strength_min"] = [30.0, 0.0]
    assert ch.session_minutes(weeks, domain).to_dict()["encoding"]["y"]["scale"] == {"domainMin": 0}
