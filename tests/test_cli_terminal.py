"""The command line in a terminal (issue 21): tables that fit the terminal's width, no warnings, no
literal markers, and problem lines that never run into the summary."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from loadwatch.dashboard.cli.main import main
from loadwatch.ingest import synth
from loadwatch.ingest.canonical import Activity, Summary, empty_samples
from loadwatch.ingest.store import Store

ROOT = Path(__file__).resolve().parent.parent
NOTE = "partial: cut short after 41 min; 2,010 of about 3,300 points kept and the rest was lost to damage"


def _add(store: Store, i: int, start: str, km: float, moving_s: float, **kw) -> str:
    s = Summary(id=f"act{i:03d}aaaaaaaa", source="test", format="fit", sport=kw.pop("sport", "running"),
                sub_sport="street", start_utc=pd.Timestamp(start), utc_offset_s=3600.0, elapsed_s=moving_s + 30,
                moving_s=moving_s, distance_m=km * 1000.0, avg_hr_bpm=kw.pop("hr", 151.0), **kw)
    store.add_activity(Activity(s, empty_samples()), f"file {i}".encode(), f"f{i}.fit")
    return s.id


@pytest.fixture
def store_path(tmp_path) -> str:
    db = str(tmp_path / "t.sqlite3")
    with Store(db) as store:
        # a start with nanoseconds (a GPX time with a fraction, shifted): the case that warned on every call
        _add(store, 1, "2024-05-25 16:00:00.123456789Z", 10.4, 3725.0)
        _add(store, 2, "2024-05-27 06:30:00Z", 5.1, 1800.0, partial=True, warnings=(NOTE,))
        _add(store, 3, "2024-05-28 06:30:00Z", 21.2, 3600.0 * 1.7, sport="cycling", hr=float("nan"))
    return db


@pytest.mark.parametrize("width", [60, 80, 120])
def test_activities_fit_the_terminal_and_cut_nothing(store_path, width, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", str(width))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Discarding nonzero nanoseconds" was printed on every call
        assert main(["activities", "--db", store_path]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= width, "\n".join(lines)
    assert "…" not in out  # no cell cut with an ellipsis
    # every figure whole, in the layout rich chose: the start, the moving time, the distance, the id
    for whole in ("17:00", "1:02:05", "10.40", "act001aa", "07:30", "30:00", "5.10", "act002aa", "1:42:00",
                  "21.20", "act003aa"):
        assert whole in out, (whole, out)
    # the day is whole too, even where it wraps at a space
    assert re.search(r"Sat 25\s+May", out) and "2024" in out
    # the note of the damaged file: under its row, indented, wrapped but every word kept
    row = next(i for i, line in enumerate(lines) if "act002aa" in line)
    after = next(i for i, line in enumerate(lines) if "act003aa" in line)
    under = [line.strip() for line in lines[row + 1:after] if line.startswith("    ")]
    assert " ".join(under).endswith(NOTE), under
    assert out.strip().endswith("3 activities")
    for bad in ("None", "nan", "??"):
        assert bad not in out


def test_activities_wide_terminal_shows_surface_and_heart_rate_columns(store_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "120")
    main(["activities", "--db", store_path])
    header = capsys.readouterr().out.splitlines()[0]
    assert header.split() == ["Date", "Start", "Sport", "Surface", "Distance", "(km)", "Time", "Avg", "HR", "ID"]


def test_narrow_terminal_says_surface_and_heart_rate_under_the_row(store_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "60")
    main(["activities", "--db", store_path])
    out = capsys.readouterr().out
    assert "Surface" not in out.splitlines()[0]
    assert "average heart rate 151 bpm" in out and "surface: road" in out


def test_check_in_and_care_messages_carry_no_literal_markers(capsys):
    from tests.test_cli_report import _add_runs

    db = os.environ["LOADWATCH_DB"]
    main(["settings", "set", "timezone", "UTC"])
    _add_runs(db, [6.0, 8.0, 6.0, 10.0] * 4)
    main(["pain", "add", "--date", "2024-03-02", "--score", "7", "--timing", "during"])
    capsys.readouterr()
    for argv in (["alerts", "check", "--as-of", "2024-03-05"], ["report", "--as-of", "2024-03-05"]):
        main(argv)
        out = capsys.readouterr().out
        question = next(line for line in out.splitlines() if "How does your back feel today?" in line)
        assert question.strip().startswith("How does your back feel today?"), question
        assert "??" not in out and "!!" not in out
    main(["pain", "add", "--date", "2024-03-06", "--score", "3", "--symptom", "saddle_numbness"])
    out = capsys.readouterr().out
    assert "GET MEDICAL HELP NOW: " in out and "!!" not in out
    main(["report", "--as-of", "2024-03-07"])
    out = capsys.readouterr().out
    assert "Seek urgent medical care now" in out and "!!" not in out


_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def test_verbose_import_in_a_terminal_keeps_every_line_whole(tmp_path):
    """Problem lines are drawn above rich's progress bar, and the summary starts a line of its own."""
    folder = tmp_path / "export"
    folder.mkdir()
    t0 = pd.Timestamp("2024-03-04 06:30", tz="UTC").to_pydatetime()
    for i in range(6):
        run = synth.SynthRun(t0 + pd.Timedelta(days=i).to_pytimedelta(), 300, 1500.0, seed=i)
        (folder / f"r{i}.fit").write_bytes(synth.fit_bytes(run))
    (folder / "notes.txt").write_text("not an activity")
    (folder / "broken.fit").write_bytes(b"\x0e\x10" + bytes(200))
    db = str(tmp_path / "pty.sqlite3")
    assert main(["import", str(folder), "--db", db, "--workers", "0"]) == 1
    # the same files again, in a terminal: every one a duplicate, the broken one failing again
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "loadwatch.dashboard.cli.main", "import", "--verbose", str(folder), "--db", db,
                             "--workers", "0"], stdin=subprocess.DEVNULL, stdout=follower, stderr=follower,
                            cwd=ROOT, env={**os.environ, "COLUMNS": "100"})
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    assert proc.wait(timeout=120) == 1
    os.close(leader)
    text = _ESCAPE.sub("", b"".join(chunks).decode("utf-8", "replace"))
    lines = [part for line in text.replace("\r\n", "\n").split("\n") for part in line.split("\r")]
    summary = [line for line in lines if "Imported 0" in line]
    assert summary and all(line.startswith("Imported 0, duplicates 6, skipped 1, failed 1") for line in summary), lines
    assert summary[-1] == "Imported 0, duplicates 6, skipped 1, failed 1"
    for word in ("duplicate: ", "skipped: ", "failed: "):
        hits = [line for line in lines if word in line]
        assert hits and all(line.startswith(word) for line in hits), (word, hits)
    assert len([line for line in lines if line.startswith("duplicate: ")]) == 6
    assert not np.any([("failed 1" in line and not line.startswith("Imported")) for line in lines])


@pytest.mark.parametrize("width", [60, 120])
def test_pain_list_fits_the_terminal_with_its_note_under_the_entry(width, capsys, monkeypatch):
    note = "stiff after the hills, eased by the evening walk and better the next morning than expected"
    main(["pain", "add", "--date", "2024-03-02", "--score", "4", "--timing", "after", "--note", note])
    capsys.readouterr()
    monkeypatch.setenv("COLUMNS", str(width))
    assert main(["pain", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert max(len(line) for line in lines) <= width, "\n".join(lines)
    assert "4/10" in "\n".join(lines) and "…" not in "\n".join(lines)
    under = [line.strip() for line in lines[3:] if line.startswith("    ")]
    assert note in " ".join(under)


@pytest.mark.parametrize("width", [80, 120])
def test_report_fits_the_terminal_and_cuts_no_date_or_figure(width, capsys, monkeypatch, tmp_path):
    """``loadwatch report``: the weekly table laid out by rich in the terminal's width (it was 200 columns
    whatever the terminal), the prose wrapped under itself, no cell cut with an ellipsis."""
    from tests.test_cli_report import _add_runs

    db = str(tmp_path / "r.sqlite3")
    _add_runs(db, [6.0, 8.0, 6.0, 10.0, 12.5] * 4)
    with Store(db) as store:
        store.add_session("2024-03-04", "strength", 35)
    monkeypatch.setenv("COLUMNS", str(width))
    assert main(["report", "--db", db, "--as-of", "2024-03-05"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= width, "\n".join(lines)
    assert "…" not in out
    head = next(i for i, line in enumerate(lines) if line.startswith("week of"))
    rows = [line for line in lines[head + 2:] if re.match(r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d", line)]
    assert len(rows) == 6  # the weeks since the first run, 1 Feb 2024
    for row in rows:  # every week's day whole on its row, every figure whole beside it
        assert re.match(r"(Mon|Sun) \d{1,2} [A-Z][a-z]{2} 20\d\d\*?\s", row), row
        assert re.search(r"(\d h )?\d{1,2} min", row), row
    assert "35" in out  # the strength minutes: a column at 120, a line under the week at 80
    if width < 100:
        assert "    strength 35 min" in out
    else:
        assert "strength" in lines[head] and "cross" in lines[head]
    # the prose is wrapped at spaces, no word broken: every word of the key is still there
    assert "neither counts as running load" in " ".join(line.strip() for line in lines)
    for bad in ("None", "nan", "??"):
        assert bad not in out


def test_report_into_a_pipe_keeps_its_sentences_whole(capsys, monkeypatch, tmp_path):
    """Into a pipe or a file (no terminal, no COLUMNS) the table is laid out in rich's 80 columns and every
    sentence stays on one line, for grep and for other tools."""
    from tests.test_cli_report import _add_runs

    db = str(tmp_path / "p.sqlite3")
    _add_runs(db, [6.0, 8.0, 6.0, 10.0, 12.5] * 4)
    monkeypatch.delenv("COLUMNS", raising=False)
    assert main(["report", "--db", db, "--as-of", "2024-03-05"]) == 0
    lines = capsys.readouterr().out.splitlines()
    head = next(i for i, line in enumerate(lines) if line.startswith("week of"))
    table = lines[head:head + 8]
    assert max(len(line) for line in table) <= 80, "\n".join(table)
    assert any(line.startswith("* week not over yet") and line.endswith("(neither counts as running load).")
               for line in lines)


def test_one_activity_is_counted_in_the_singular(tmp_path, capsys):
    db = str(tmp_path / "one.sqlite3")
    with Store(db) as store:
        _add(store, 1, "2024-05-25 16:00:00Z", 10.4, 3725.0)
    assert main(["activities", "--db", db]) == 0
    assert capsys.readouterr().out.strip().endswith("\n1 activity")
