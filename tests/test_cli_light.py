"""The everyday commands stay light (issue 21): ``pain add``, ``activities`` and ``report`` never import
the dashboard's, the PDF's or the cohort's libraries.  Each runs in a fresh interpreter through the
``loadwatch`` script's own entry, and the modules it loaded are read from ``sys.modules``.  (How fast they
are is measured by ``benchmarks/bench_dashboard.py``, not here.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_cli_report import _add_runs

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("streamlit", "altair", "vl_convert", "fpdf", "dask", "distributed", "pyarrow")

# the loadwatch script's entry, then the heavy modules that were really imported (a name marked absent in
# sys.modules is None)
PROBE = """
import contextlib, io, json, sys
from dashboard.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    code = main(sys.argv[1:])
print(json.dumps({"code": code, "loaded": [m for m in HEAVY if sys.modules.get(m) is not None]}))
""".replace("HEAVY", repr(HEAVY))


def loaded_by(argv: list[str]) -> list[str]:
    done = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["code"] == 0, (argv, done.stderr[-2000:])
    return out["loaded"]


@pytest.fixture
def history():
    _add_runs(os.environ["LOADWATCH_DB"], [6.0, 8.0, 6.0, 10.0] * 4)


@pytest.mark.parametrize("argv", [
    ["pain", "add", "--date", "2024-03-02", "--score", "3", "--timing", "next_morning"],
    ["activities"],
    ["activities", "--json"],
    ["report", "--as-of", "2024-03-05"],
    ["alerts", "check", "--as-of", "2024-03-05"],
])
def test_everyday_commands_never_import_the_heavy_libraries(history, argv):
    assert loaded_by(argv) == []


@pytest.mark.slow
def test_the_pdf_report_does_load_what_it_needs_and_nothing_of_the_dashboard(history, tmp_path):
    """The probe sees a heavy import when there is one: the PDF needs fpdf and vl-convert."""
    loaded = loaded_by(["report", "--as-of", "2024-03-05", "--pdf", str(tmp_path / "r.pdf")])
    assert "fpdf" in loaded and "vl_convert" in loaded
    assert not {"streamlit", "dask", "distributed"} & set(loaded)
    assert (tmp_path / "r.pdf").read_bytes().startswith(b"%PDF")
