"""AppTest: the Import page takes files through the real st.file_uploader and shows each outcome."""

from __future__ import annotations

from datetime import UTC, datetime

from streamlit.testing.v1 import AppTest

from ingest.synth import SynthRun, fit_bytes, gpx_bytes
from tests.app_helpers import PAGES_DIR, no_exceptions


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

    table = at.dataframe[0].value.set_index("file")
    assert table.loc["monday.fit", "result"] == "imported"
    assert table.loc["tuesday.gpx", "result"] == "imported"
    assert table.loc["again.fit", "result"] == "already in your store"
    assert table.loc["notes.fit", "result"] == "could not be read"
    assert table.loc["notes.fit", "why"]  # the reason is shown, in words
    metrics = {m.label: m.value for m in at.metric}
    assert metrics == {"Imported": "2", "Duplicate": "1", "Skipped": "0", "Failed": "1"}
    assert "Your store holds 2 activities." in [c.value for c in at.caption]
