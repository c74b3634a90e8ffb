"""``loadwatch import`` and ``loadwatch activities`` (exit codes, messages, JSON)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from loadwatch.dashboard.cli.main import main
from loadwatch.ingest import synth
from loadwatch.ingest.store import Store

T0 = datetime(2024, 3, 4, 6, 30, tzinfo=UTC)


def run(i: int, **kw) -> synth.SynthRun:
    return synth.SynthRun(T0 + timedelta(days=i), 600, 1800.0, seed=i, **kw)


@pytest.fixture
def db(tmp_path) -> str:
    return str(tmp_path / "cli.sqlite3")


@pytest.fixture
def export(tmp_path) -> Path:
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "a.fit").write_bytes(synth.fit_bytes(run(0, sub_sport="trail", utc_offset_s=3600)))
    (folder / "b.gpx").write_bytes(synth.gpx_bytes(run(1)))
    (folder / "summary.csv").write_text("x\n")
    return folder


def test_import_then_reimport(export, db, capsys):
    assert main(["import", str(export), "--db", db, "--workers", "0"]) == 0
    out, err = capsys.readouterr()
    assert out.strip().splitlines()[-1] == "Imported 2, duplicates 0, skipped 1, failed 0"
    # each imported file: its day, sport and distance
    assert "Imported: Mon 4 Mar 2024  run  1.8 km  export/a.fit" in out
    assert "Imported: Tue 5 Mar 2024  run  1.8 km  export/b.gpx" in out
    assert "summary.csv" not in err  # skipped files are listed only with --verbose
    assert main(["import", str(export), "--db", db, "--verbose"]) == 0
    out, err = capsys.readouterr()
    assert out.strip() == "Imported 0, duplicates 2, skipped 1, failed 0"
    assert "skipped: export/summary.csv: " in err


def test_failed_file_gives_exit_1_and_a_line(export, db, capsys):
    (export / "broken.fit").write_bytes(b"not a FIT file at all" * 10)
    assert main(["import", str(export), "--db", db]) == 1
    out, err = capsys.readouterr()
    assert out.strip().splitlines()[-1] == "Imported 2, duplicates 0, skipped 1, failed 1"
    lines = [ln for ln in err.splitlines() if ln.startswith("failed: ")]
    assert len(lines) == 1 and lines[0].startswith("failed: export/broken.fit: ")
    with Store(db) as s:
        assert len(s.activities()) == 2


def test_missing_path_is_a_usage_error(tmp_path, db, capsys):
    assert main(["import", str(tmp_path / "nope"), "--db", db]) == 2
    assert "no such file or folder" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["import", "--db", db])
    assert exc.value.code == 2


def test_activities_json(export, db, capsys):
    main(["import", str(export), "--db", db, "--workers", "0"])
    with Store(db) as s:
        s.set_setting("timezone", "America/New_York")
    capsys.readouterr()
    assert main(["activities", "--db", db, "--json"]) == 0
    items = json.loads(capsys.readouterr().out)
    assert [i["source"] for i in items] == ["export/a.fit", "export/b.gpx"]
    fit, gpx = items
    for key in ("id", "source", "sport", "sub_sport", "surface", "start_utc", "start_local", "duration_s",
                "moving_s", "distance_m"):
        assert key in fit
    assert fit["surface"] == "trail" and gpx["surface"] == "unknown"
    assert fit["start_utc"] == "2024-03-04T06:30:00+00:00"
    assert fit["start_local"] == "2024-03-04T07:30:00+01:00"  # the device's offset
    assert gpx["start_local"] == "2024-03-05T01:30:00-05:00"  # no device offset: the configured zone
    assert fit["distance_m"] == pytest.approx(1800.0)


def test_activities_json_nan_is_null_and_override_wins(tmp_path, db, capsys):
    f = tmp_path / "nohr.gpx"
    f.write_bytes(synth.gpx_bytes(run(0, heart_rate_bpm=None)))
    main(["import", str(f), "--db", db, "--workers", "0"])
    with Store(db) as s:
        s.set_surface_override(s.activities().id.iloc[0], "treadmill")
    capsys.readouterr()
    main(["activities", "--db", db, "--json"])
    [item] = json.loads(capsys.readouterr().out)
    assert item["avg_hr_bpm"] is None and item["surface"] == "treadmill"


def test_activities_table_in_miles(export, db, capsys):
    main(["import", str(export), "--db", db, "--workers", "0"])
    with Store(db) as s:
        s.set_setting("units", "mi")
    capsys.readouterr()
    assert main(["activities", "--db", db]) == 0
    out = capsys.readouterr().out
    assert "Distance (mi)" in out and "1.12" in out and "2 activities" in out


def test_activities_empty_store(db, capsys):
    assert main(["activities", "--db", db]) == 0
    assert "No activities yet" in capsys.readouterr().out
    assert main(["activities", "--db", db, "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_import_progress_bar_is_rich_and_only_on_a_terminal():
    import io

    from loadwatch.dashboard.cli.term import ProgressBar

    class Tty(io.StringIO):
        def isatty(self):
            return True

    quiet = io.StringIO()
    bar = ProgressBar(quiet)
    bar(1, 3, "a.fit")
    bar.clear()
    assert quiet.getvalue() == ""  # a pipe or a file gets no bar
    tty = Tty()
    bar = ProgressBar(tty)
    for done in range(1, 4):
        bar(done, 3, f"run-{done}.fit")
    bar.clear()
    assert "importing" in tty.getvalue() and "3/3" in tty.getvalue()
