"""AppTest: the Import page takes files through the real st.file_uploader and shows each outcome."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from streamlit.testing.v1 import AppTest

from loadwatch.dashboard.pipelines import import_jobs
from loadwatch.ingest.synth import SynthRun, fit_bytes, gpx_bytes
from tests.app_helpers import APP_PATH, PAGES_DIR, finish_imports, no_exceptions, texts


def _run(day: int, km: float) -> SynthRun:
    return SynthRun(start_utc=datetime(2025, 3, day, 7, 0, tzinfo=UTC), duration_s=int(km * 330),
                    distance_m=km * 1000, seed=day)


def test_import_page_uploads_files_and_shows_outcomes():
    at = AppTest.from_file(str(PAGES_DIR / "import_files.py"), default_timeout=60).run()
    no_exceptions(at)
    assert "Upload limit: 1024 MB per file" in " ".join(c.value for c in at.caption)
    uploader = at.file_uploader[0]
    assert uploader.accept_multiple_files
    assert set(uploader.allowed_type) >= {".fit", ".gpx", ".tcx", ".gz", ".zip"}

    fit = fit_bytes(_run(3, 8.0))
    uploader.set_value([
        ("monday.fit", fit, "application/octet-stream"),
        ("tuesday.gpx", gpx_bytes(_run(4, 5.0)), "application/gpx+xml"),
        ("again.fit", fit, "application/octet-stream"),          # the same bytes twice
        ("notes.fit", b"this is not a watch file", "application/octet-stream"),
    ])
    at.run()
    [go] = [b for b in at.button if b.label.startswith("Import")]
    assert go.label == "Import 4 files"
    go.click().run()
    no_exceptions(at)
    finish_imports(at)

    table = at.dataframe[0].value.set_index("file")
    assert table.loc["monday.fit", "result"] == "imported"
    assert table.loc["tuesday.gpx", "result"] == "imported"
    assert table.loc["again.fit", "result"] == "already in your store"
    assert table.loc["notes.fit", "result"] == "could not be read"
    assert table.loc["notes.fit", "notes"] not in ("", "–")  # the reason is shown, in words
    # each imported file: its day, sport and distance, in plain words
    assert table.loc["monday.fit", "sport"] == "run" and table.loc["monday.fit", "distance"] == "8 km"
    assert table.loc["monday.fit", "date"].count(" ") == 3  # "Mon 4 Mar 2024"
    assert "None" not in table.to_string() and "nan" not in table.to_string()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics == {"Imported": "2", "Replaced": "0", "Duplicate": "1", "Skipped": "0", "Failed": "1"}
    assert "Your store holds 2 activities." in [c.value for c in at.caption]
    # room for the day and the notes ("Sat 15 Feb 2…" was cut at 1366 px)
    import json

    config = json.loads(at.dataframe[0].proto.columns)
    assert config["date"]["width"] == "medium" and config["notes"]["width"] == "large"



@pytest.mark.slow
def test_an_import_goes_on_when_the_runner_opens_another_page_and_its_result_waits():
    """Upload many files, click Import, open This week at once: every file arrives, the sidebar of every page
    shows the import, and its result (each file's outcome) stays on the Import page until it is read."""
    import os

    from loadwatch.ingest.store import Store

    files = [(f"run-{d:02d}.fit", fit_bytes(_run(d, 5.0 + d / 10)), "application/octet-stream") for d in range(1, 25)]
    at = AppTest.from_file(str(APP_PATH), default_timeout=60).run()
    at.switch_page("pages/import_files.py").run()
    no_exceptions(at)
    at.file_uploader[0].set_value(files)
    at.run()
    [go] = [b for b in at.button if b.label.startswith("Import")]
    go.click().run()
    no_exceptions(at)
    job = import_jobs.running(os.environ["LOADWATCH_DB"])
    assert job is not None, "the import runs in the background, not in the page's run"
    at.switch_page("pages/this_week.py").run()  # the runner moves on at once
    no_exceptions(at)
    assert import_jobs.wait(job, 120)
    with Store(os.environ["LOADWATCH_DB"]) as store:
        assert len(store.activities()) == len(files)  # every file arrived
    at.run()
    no_exceptions(at)
    sidebar = " ".join(str(e.value) for e in at.sidebar.success)
    assert f"Import finished, {len(files)} files uploaded: {len(files)} imported." in sidebar
    assert "Import page" in sidebar

    at.switch_page("pages/import_files.py").run()
    no_exceptions(at)
    table = at.dataframe[0].value
    assert sorted(table["file"]) == sorted(name for name, _, _ in files)
    assert set(table["result"]) == {"imported"}
    at.switch_page("pages/load.py").run()  # still there after another page ...
    at.switch_page("pages/import_files.py").run()
    assert at.dataframe and len(at.dataframe[0].value) == len(files)
    at.button(key=f"import_read_{job.id}").click().run()  # ... until it is read
    no_exceptions(at)
    assert not at.dataframe and "Last import" not in texts(at)
    assert not at.sidebar.success


def test_the_summary_adds_up_when_a_zip_holds_many_files():
    """Five uploads, one of them a zip of two files: six outcomes, and the line that counts them adds up."""
    job = import_jobs.Job(1, "store.sqlite3", files=5, state="done")
    job.rows = [{"status": s} for s in ("imported", "duplicate", "duplicate", "duplicate", "duplicate", "failed")]
    assert job.summary() == ("Import finished, 6 files read from 5 uploads: 1 imported, 4 already in your store, "
                             "1 could not be read.")
    one = import_jobs.Job(2, "store.sqlite3", files=1, state="done")
    one.rows = [{"status": "imported"}]
    assert one.summary() == "Import finished, 1 file uploaded: 1 imported."
