"""The store's table modules, called as import and rebuild call them: public functions over a connection
inside ``Store.transaction()`` (issue 23), and the shape of the facade itself."""

from __future__ import annotations

import ast
import datetime as dt
import sqlite3
from pathlib import Path

import pandas as pd
import pytest
import time_machine

from loadwatch.ingest import activities, db, files, pain, twins
from loadwatch.ingest.canonical import Summary
from loadwatch.ingest.days import EARLIEST_DAY, check_day
from loadwatch.ingest.painlog import PainEntry
from loadwatch.ingest.settings import parse_setting
from loadwatch.ingest.store import Store
from loadwatch.ingest.store_errors import StoreError
from tests.helpers import reachable

INGEST = Path(__file__).resolve().parents[1] / "ingest"
T0 = pd.Timestamp("2026-05-04 07:00", tz="UTC")


def summary(aid: str, *, start=T0, minutes: float = 30.0, km: float = 6.0, sport: str = "running", fmt: str = "fit",
            offset: float | None = 3600.0, device: str | None = "Garmin Forerunner", partial: bool = False,
            inferred: bool = False) -> Summary:
    return Summary(id=aid, source=f"{aid}.{fmt}", format=fmt, sport=sport, sub_sport=None, start_utc=start,
                   utc_offset_s=offset, elapsed_s=minutes * 60, moving_s=minutes * 60, distance_m=km * 1000,
                   device=device, partial=partial, sport_inferred=inferred)


def put(conn: sqlite3.Connection, s: Summary, richness: int = 6) -> str:
    """One kept file and its activity row, as an import writes them."""
    files.add_file(conn, s.id, s.source, s.format, "imported", s.id, "", files.compress_original(b"x"), 1,
                   db.now_iso())
    start = pd.Timestamp(s.start_utc)
    activities.insert_activity(conn, s.id, s.id, s, start, start.value / 1e9, richness, 1800, db.now_iso())
    return s.id


def span(s: Summary) -> tuple[float, float]:
    start = pd.Timestamp(s.start_utc).value / 1e9
    return start, start + s.elapsed_s


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "store.sqlite3") as s:
        yield s


# --- the facade ----------------------------------------------------------------------------------------

def _imports(path: Path) -> list[tuple[str, str]]:
    """(module, name) of every import in a file, those inside functions too."""
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            out += [(node.module or "", alias.name) for alias in node.names]
        elif isinstance(node, ast.Import):
            out += [(alias.name, "") for alias in node.names]
    return out


def test_the_store_is_a_facade_under_300_lines():
    assert len((INGEST / "store.py").read_text().splitlines()) < 300


def test_rebuild_imports_no_private_name_and_not_the_store():
    imports = _imports(INGEST / "rebuild.py")
    assert imports, "rebuild.py imports nothing?"
    assert [i for i in imports if i[1].startswith("_") and i[1] != "annotations"] == []
    # store -> rebuild (Store.rebuild) is the only arrow between them: no circle
    assert [i for i in imports if i[0] == "loadwatch.ingest.store" or (i[0] == "loadwatch.ingest" and i[1] == "store")] == []
    assert "store._" not in (INGEST / "rebuild.py").read_text()


def test_no_ingest_module_imports_another_modules_private_name():
    found = [(p.name, mod, name) for p in sorted(INGEST.glob("*.py")) for mod, name in _imports(p)
             if mod.startswith("loadwatch.ingest") and name.startswith("_")]
    assert found == []


def _circles(folder: Path) -> list[set[str]]:
    """Groups of modules of ``folder`` that import one another (imports inside functions count)."""
    names = {p.stem for p in folder.glob("*.py")}
    graph = {}
    for p in folder.glob("*.py"):
        deps = set()
        for mod, name in _imports(p):
            if mod == "loadwatch.ingest" and name in names:
                deps.add(name)
            elif mod.startswith("loadwatch.ingest."):
                deps.add(mod.split(".")[2])
        graph[p.stem] = deps

    reached = {name: reachable(graph, name) for name in graph}
    return [{n for n in graph if n == name or (n in reached[name] and name in reached[n])}
            for name in sorted(graph) if name in reached[name]]


def test_the_store_and_its_table_modules_are_in_no_import_circle():
    stores = {"store", "rebuild", "db", "schema", "files", "activities", "twins", "pain", "alert_rules", "days",
              "shoes", "sessions", "settings", "assessments", "outcomes", "programmes", "painlog", "importer"}
    caught = [sorted(circle) for circle in _circles(INGEST) if circle & stores]
    assert caught == []


@pytest.mark.parametrize("module", ["db", "files", "activities", "twins", "pain", "alert_rules", "schema", "days",
                                    "shoes", "sessions", "settings", "assessments", "outcomes", "programmes"])
def test_table_modules_do_not_import_the_store(module):
    assert [i for i in _imports(INGEST / f"{module}.py") if "store" == i[1] or i[0] == "loadwatch.ingest.store"] == []


# --- the connection helper (ingest/db.py) ----------------------------------------------------------------

def test_now_iso_is_utc_with_microseconds():
    stamp = db.now_iso()
    parsed = dt.datetime.fromisoformat(stamp)
    assert parsed.utcoffset() == dt.timedelta(0) and "." in stamp
    assert abs((dt.datetime.now(dt.UTC) - parsed).total_seconds()) < 60


def test_transaction_commits_or_rolls_back_everything(store):
    with store.transaction() as conn:
        conn.execute("INSERT INTO settings (key, value) VALUES ('units', 'mi')")
    assert store.settings().units == "mi"
    with pytest.raises(RuntimeError), store.transaction() as conn:
        conn.execute("UPDATE settings SET value = 'km' WHERE key = 'units'")
        raise RuntimeError("killed mid-write")
    assert store.settings().units == "mi"
    # a sqlite3 error is one plain sentence naming the store, and nothing of the transaction stays
    with pytest.raises(StoreError) as err, store.transaction() as conn:
        conn.execute("DELETE FROM settings")
        conn.execute("INSERT INTO no_such_table VALUES (1)")
    assert str(store.path) in str(err.value)
    assert store.settings().units == "mi"


def test_a_closed_store_says_so(tmp_path):
    s = Store(tmp_path / "closed.sqlite3")
    s.close()
    with pytest.raises(ValueError, match="closed"), s.transaction():
        pass
    with pytest.raises(ValueError, match="closed"):
        s.activities()


# --- twins (ingest/twins.py): which copy of a run is kept ---------------------------------------------

def test_keep_key_orders_complete_watch_typed_distance_channels_format():
    base = summary("a")
    key = twins.keep_key
    assert key(base, 6) > key(summary("b", partial=True), 9)  # complete beats partial, whatever the channels
    assert key(base, 6) > key(summary("c", device="GoldenCheetah"), 9)  # the watch's own file beats a re-save
    assert key(summary("d", offset=None), 6) < key(base, 6)  # no UTC offset: not the watch's own file
    untyped = summary("e", sport="other", device=None, fmt="gpx")
    assert key(summary("f", device=None, fmt="gpx"), 4) > key(untyped, 9)  # a known sport beats channels
    assert key(summary("g", device=None, fmt="gpx"), 7) > key(summary("h", device=None, fmt="gpx"), 6)
    assert key(summary("i", device=None, fmt="fit", offset=None), 6) > \
        key(summary("j", device=None, fmt="tcx"), 6) > key(summary("k", device=None, fmt="gpx"), 6)
    assert twins.keep_key(base, 6) == twins.keep_key_of(False, "running", False, 6000.0, 6, "fit", True)


def test_stored_keep_key_is_the_key_of_what_was_kept(store):
    s = summary("kept", device=None, fmt="tcx", offset=None)
    with store.transaction() as conn:
        put(conn, s, richness=5)
        assert twins.stored_keep_key(conn, "kept") == (twins.keep_key(s, 5), "kept.tcx")


def test_overlapping_needs_half_the_shorter_run_and_a_matching_sport(store):
    with store.transaction() as conn:
        put(conn, summary("watch"))
        gpx = summary("gpx", start=T0 + pd.Timedelta(minutes=10), fmt="gpx", offset=None)
        assert twins.overlapping(conn, "running", *span(gpx), False) == ("watch", pytest.approx(20 / 30))
        late = summary("late", start=T0 + pd.Timedelta(minutes=20))
        assert twins.overlapping(conn, "running", *span(late), False) is None  # 10 of 30 min
        assert twins.overlapping(conn, "cycling", *span(gpx), False) is None
        assert twins.overlapping(conn, "cycling", *span(gpx), True) is not None  # a guessed sport matches
        assert twins.overlapping(conn, "other", *span(gpx), False) is not None  # an untyped sport matches


def test_clock_shifted_finds_a_copy_written_as_local_time(store):
    with store.transaction() as conn:
        put(conn, summary("watch", offset=7200.0))
        copy = summary("copy", start=T0 + pd.Timedelta(hours=2), fmt="gpx", offset=None, device=None)
        assert twins.clock_shifted(conn, copy, span(copy)[0]) == ("watch", 1.0)
        assert twins.clock_shifted(conn, copy, span(copy)[0], exclude="watch") is None
        other_day = summary("x", start=T0 + pd.Timedelta(hours=3), fmt="gpx", offset=None)  # not its offset
        assert twins.clock_shifted(conn, other_day, span(other_day)[0]) is None
        longer = summary("y", start=T0 + pd.Timedelta(hours=2), km=6.2, fmt="gpx", offset=None)  # 3 % longer
        assert twins.clock_shifted(conn, longer, span(longer)[0]) is None
        both_know = summary("z", start=T0 + pd.Timedelta(hours=2), offset=0.0)  # two runs, both know UTC
        assert twins.clock_shifted(conn, both_know, span(both_know)[0]) is None


def test_find_twin_asks_overlap_then_clock_shift(store):
    with store.transaction() as conn:
        put(conn, summary("watch", offset=7200.0))
        same_time = summary("same", start=T0 + pd.Timedelta(minutes=5), fmt="gpx", offset=None)
        assert twins.find_twin(conn, same_time, *span(same_time))[0] == "watch"
        shifted = summary("shifted", start=T0 + pd.Timedelta(hours=2), fmt="gpx", offset=None)
        assert twins.find_twin(conn, shifted, *span(shifted)) == ("watch", 1.0)
        apart = summary("apart", start=T0 + pd.Timedelta(days=1))
        assert twins.find_twin(conn, apart, *span(apart)) is None


def test_fold_moves_pain_corrections_and_files_to_the_kept_copy(store):
    with store.transaction() as conn:
        put(conn, summary("loser", fmt="gpx", offset=None))
        put(conn, summary("winner"))
    store.set_rpe("loser", 7)
    store.add_shoe("Pegasus")
    store.set_activity_shoe("loser", "Pegasus")
    pid = store.add_pain(PainEntry(at_local=dt.datetime(2026, 5, 4, 12), score=3, timing="after",
                                   location="lower_back", activity_id="loser"))
    with store.transaction() as conn:
        twins.fold(conn, "loser", "winner", db.now_iso(), "same run as winner.fit, which is kept")
    assert store.activity_ids() == ["winner"]
    assert store.activities().set_index("id").loc["winner", "rpe"] == 7
    assert store.pain().set_index("id").loc[pid, "activity_id"] == "winner"
    assert store.pain_history(pid)["change"].tolist() == ["relink"]
    assert store.activity_shoes()[["activity_id", "shoe"]].values.tolist() == [["winner", "Pegasus"]]
    assert store.file_outcome("loser") == {"outcome": "duplicate", "activity_id": "winner",
                                           "reason": "same run as winner.fit, which is kept", "file_name": "loser.gpx"}


def test_relink_pain_keeps_the_entry_as_it_was(store):
    with store.transaction() as conn:
        put(conn, summary("old"))
        put(conn, summary("new", start=T0 + pd.Timedelta(days=1)))
    pid = store.add_pain(PainEntry(at_local=dt.datetime(2026, 5, 4, 12), score=2, timing="during",
                                   location="lower_back", activity_id="old"))
    with store.transaction() as conn:
        pain.relink_pain(conn, "old", "new", db.now_iso())
        assert pain.linked_ids(conn, "new") == [pid] and pain.linked_ids(conn, "old") == []
    history = store.pain_history(pid)
    assert history["change"].tolist() == ["relink"] and history["activity_id"].tolist() == ["old"]


def test_insert_activity_keeps_what_the_runner_set_on_an_earlier_copy(store):
    s = summary("run", km=6.0)
    with store.transaction() as conn:
        put(conn, summary("first", start=T0 + pd.Timedelta(days=2)))
    store.correct_activity("first", distance_km=7.5, rpe=4, name="Park loop")
    with store.transaction() as conn:
        carried = activities.carried(conn, "first")
        start = pd.Timestamp(s.start_utc)
        files.add_file(conn, "run", "run.fit", "fit", "imported", "run", "", b"", 0, db.now_iso())
        activities.insert_activity(conn, "run", "run", s, start, start.value / 1e9, 6, None, db.now_iso(),
                                   carried=carried)
    row = store.activities().set_index("id").loc["run"]
    assert row["distance_m"] == pytest.approx(7500) and row["rpe"] == 4 and row["name"] == "Park loop"
    assert row["sport_from_file"] == "running" and row["elapsed_s"] == 1800


# --- one day check (ingest/days.py) ----------------------------------------------------------------------

def test_check_day_reads_dates_and_refuses_the_future_and_typos():
    today = dt.date(2026, 12, 6)
    assert check_day("2026-12-06", today) == today
    assert check_day(dt.datetime(2026, 3, 1, 23, 30), today) == dt.date(2026, 3, 1)
    assert check_day(pd.Timestamp("2026-03-01"), today) == dt.date(2026, 3, 1)
    assert check_day(EARLIEST_DAY, today) == EARLIEST_DAY
    with pytest.raises(ValueError, match=r"^the week 2026-12-07 is in the future \(today is 2026-12-06\)$"):
        check_day("2026-12-07", today, "the week")
    with pytest.raises(ValueError, match="1989-12-31 is before 1990-01-01; check the year"):
        check_day("1989-12-31", today)
    with pytest.raises(ValueError, match=r"must be YYYY-MM-DD \(got '12/03/2025'\)"):
        check_day("12/03/2025", today)


def test_sessions_assessments_and_outcomes_share_the_day_check(store):
    future = "2026-12-09"
    messages = []
    with time_machine.travel(dt.datetime(2026, 12, 6, 12, 0, tzinfo=dt.UTC), tick=False):
        _refusals(store, future, messages)
    assert all("YYYY-MM-DD" in m for m in messages[2::3])
    assert all("before 1990-01-01; check the year" in m for m in messages[1::3])
    assert all("is in the future" in m for m in messages[0::3])
    assert len(messages) == 15


def _refusals(store, future, messages) -> None:
    for call in (lambda d: store.add_session(d, "core", 10), lambda d: store.add_assessment(d),
                 lambda d: store.start_programme("walkback", d), lambda d: store.add_psfs_activity("run 5 km", d),
                 lambda d: store.put_ostrc(d, participation=0, volume=0, performance=0, pain=0)):
        for bad in (future, "1989-12-31", "2024-13-01"):
            with pytest.raises(ValueError) as err:
                call(bad)
            messages.append(str(err.value))


def test_setting_choices_name_the_key_and_the_choices():
    assert parse_setting("week_start", "Sunday") == "sunday"
    assert parse_setting("default_surface", "Trail") == "trail" and parse_setting("default_surface", "none") is None
    with pytest.raises(ValueError, match=r"^week_start must be one of monday, sunday \(got 'friday'\)$"):
        parse_setting("week_start", "friday")
    with pytest.raises(ValueError, match=r"^default_surface must be one of road, trail, track, treadmill"):
        parse_setting("default_surface", "sand")
    with pytest.raises(ValueError, match=r"^sex must be one of"):
        parse_setting("sex", "x")
