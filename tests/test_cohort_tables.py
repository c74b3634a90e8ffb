"""The cohort's Parquet tables when one is empty: a cohort where nobody logged pain (or OSTRC weeks) is
written with typed columns, and `cohort analyse` reads it, and one written empty by an older loadwatch
(columns of Arrow's null type, on which a ``runner in [...]`` filter raised ArrowTypeError), without
failing.  Without Dask: the tables are written by the import's own writer and read by the task
``cohort analyse`` sends each worker (:func:`loadwatch.dashboard.report.cohort_analysis.runner_sessions`)."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest

pa = pytest.importorskip("pyarrow")  # the cohort extra (a third-party library, not the project's own code)
import pyarrow.parquet as pq  # noqa: E402

from loadwatch.dashboard.pipelines import cohort_engine  # noqa: E402
from loadwatch.dashboard.pipelines.cohort_runner import OSTRC_COLUMNS, PAIN_COLUMNS  # noqa: E402
from loadwatch.dashboard.report import cohort_analysis  # noqa: E402

D0 = date(2026, 9, 7)


def _runs_and_phases(runners=("amy", "bob")) -> dict[str, pd.DataFrame]:
    runs = pd.DataFrame([{"runner": r, "date": pd.Timestamp(D0 + timedelta(days=d)), "distance_km": km,
                          "spike_pct": float("nan") if d == 0 else 10.0, "spike_category": None if d == 0 else "small"}
                         for r in runners for d, km in ((0, 8.0), (3, 8.8), (6, 9.6))])
    phases = pd.DataFrame([{"runner": r, "date": D0 + timedelta(days=d), "phase": "normal", "step": None,
                            "steps": None, "reason": None} for r in runners for d in range(10)])
    return {"runs": runs, "phases": phases}


def _write_import_tables(out, pain: pd.DataFrame, ostrc: pd.DataFrame) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for table, frame in {**_runs_and_phases(), "pain": pain, "ostrc": ostrc}.items():
        cohort_engine._write_table(out, table, frame)


def test_an_empty_table_is_written_with_text_columns_not_null(tmp_path):
    _write_import_tables(tmp_path, pd.DataFrame(columns=list(PAIN_COLUMNS)), pd.DataFrame(columns=list(OSTRC_COLUMNS)))
    for table in ("pain", "ostrc"):
        schema = pq.read_schema(tmp_path / f"{table}.parquet")
        assert schema.field("runner").type == pa.string(), table
        assert not any(pa.types.is_null(f.type) for f in schema), table
        assert list(cohort_engine.read_table(tmp_path, table).columns) == list(
            PAIN_COLUMNS if table == "pain" else OSTRC_COLUMNS)
    # a filter on the runner now works on the empty table
    assert cohort_analysis._read(tmp_path, "pain", ["amy"]).empty


def test_sessions_of_a_cohort_without_pain(tmp_path):
    _write_import_tables(tmp_path, pd.DataFrame(columns=list(PAIN_COLUMNS)), pd.DataFrame(columns=list(OSTRC_COLUMNS)))
    assert cohort_analysis.check_cohort(tmp_path, "flare-up") == ["amy", "bob"]
    sessions = cohort_analysis.runner_sessions(str(tmp_path), ["amy", "bob"], "flare-up", 7)
    assert len(sessions) == 6  # three runs each, no event
    assert set(sessions["runner"]) == {"amy", "bob"}
    assert not sessions["event"].astype(bool).any()


def test_an_empty_table_of_an_older_import_is_still_read(tmp_path):
    """Written as before the fix: an empty frame straight to Parquet (every column null)."""
    _write_import_tables(tmp_path, pd.DataFrame({"runner": ["amy"], "at_local": [pd.Timestamp(D0)],
                                                 "date": [D0], "score": [7], "timing": ["after"],
                                                 "location": ["lower_back"]}),
                         pd.DataFrame(columns=list(OSTRC_COLUMNS)))
    pd.DataFrame(columns=list(PAIN_COLUMNS)).to_parquet(tmp_path / "pain.parquet", engine="pyarrow", index=False)
    assert pa.types.is_null(pq.read_schema(tmp_path / "pain.parquet").field("runner").type)  # the old file
    assert cohort_analysis._read(tmp_path, "pain", ["amy"]).empty
    sessions = cohort_analysis.runner_sessions(str(tmp_path), ["amy"], "flare-up", 7)
    assert len(sessions) == 3 and not sessions["event"].astype(bool).any()


def test_a_table_with_rows_keeps_its_types(tmp_path):
    pain = pd.DataFrame({"runner": ["amy"], "at_local": [pd.Timestamp(D0) + pd.Timedelta(hours=19)],
                         "date": [D0 + timedelta(days=4)], "score": [7], "timing": ["rest_of_day"],
                         "location": ["lower_back"]})
    _write_import_tables(tmp_path, pain, pd.DataFrame(columns=list(OSTRC_COLUMNS)))
    schema = pq.read_schema(tmp_path / "pain.parquet")
    assert pa.types.is_integer(schema.field("score").type) and pa.types.is_timestamp(schema.field("at_local").type)
    sessions = cohort_analysis.runner_sessions(str(tmp_path), ["amy", "bob"], "flare-up", 7)
    assert sessions.groupby("runner")["event"].sum().to_dict() == {"amy": 1, "bob": 0}  # 7/10 after amy's run
