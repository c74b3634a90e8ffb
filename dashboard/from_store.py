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


def pain_entry_advice(report: dict, entry_id: int) -> str | None:
    """What pain entry ``entry_id`` calls for, in one line: the message (what happened, then what to do in
    the plan's words) of the alarm ``report`` raised about it (``values.pain_entry_id``: the same rules as
    every alert, SCIENCE.md sections 10 and 13, so a morning that has not settled speaks as a painful run
    does); None when it calls for nothing (a green score, or outside the alerts' window)."""
    about = [a for a in report.get("alerts") or () if a.get("alarm")
             and (a.get("values") or {}).get("pain_entry_id") == entry_id]
    about.sort(key=lambda a: a.get("severity") != "red")  # the red reading first
    return about[0]["message"] if about else None
