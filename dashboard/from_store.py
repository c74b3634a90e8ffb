"""The report from a store: every face (dashboard, ``report``, ``alerts check``, the cohort) reads the
same inputs for :func:`loadwatch.metrics.report.build_report`, so none can forget one (a face without the
assessments would keep a red flag open for ever)."""

from __future__ import annotations


def report_inputs(store) -> dict:
    """Everything ``build_report`` reads from a store, by its keyword."""
    return {
        "activities": store.activities(), "hr_hist": store.hr_histograms(), "pain": store.pain(),
        "rules": store.rules(), "settings": store.settings(), "assessments": store.assessments(),
        "sessions": store.sessions(), "shoes": store.shoes(), "activity_shoes": store.activity_shoes(),
        "programmes": store.programmes(), "ostrc": store.ostrc(), "psfs": store.psfs(),
    }


def report_from_store(store, *, as_of=None, weeks: int | None = None, inputs: dict | None = None) -> dict:
    """``build_report`` over ``store`` (or over ``inputs`` already read from it with :func:`report_inputs`);
    ``weeks`` None: the report's default."""
    from loadwatch.metrics.report import DEFAULT_WEEKS, build_report

    return build_report(**(inputs if inputs is not None else report_inputs(store)), as_of=as_of,
                        weeks=DEFAULT_WEEKS if weeks is None else weeks)
