"""The dashboard's "Report for your physio": a period picker and the PDF and HTML downloads.

One function, :func:`download_section`, called from one page (This week).  The files come from
:mod:`loadwatch.dashboard.report.physio` over the same cached report the pages show; they are written in memory
only when the runner asks for them (rendering the charts takes about a second).
"""

from __future__ import annotations

import datetime as dt

import streamlit as st

from loadwatch.dashboard.app import ui
from loadwatch.dashboard.report import physio as physio_report
from loadwatch.metrics import fmt

DEFAULT_WEEKS = 12
MAX_WEEKS = 104


@st.cache_data(show_spinner="Writing the report for your physio...", max_entries=4)
def _files(path: str, version: tuple, as_of: str, weeks: int) -> tuple[bytes, str, str]:
    """(PDF bytes, HTML text, period in words) for the report ending ``as_of`` over ``weeks`` weeks."""
    report = ui.report(dt.date.fromisoformat(as_of), weeks)
    doc = physio_report.build(report, pain=ui.pain(), activities=ui.activities(), weeks=weeks)
    return physio_report.to_pdf(doc), physio_report.to_html(doc), doc.period


def download_section() -> None:
    """Pick the period, prepare the report, download it as PDF or HTML."""
    st.subheader("Report for your physio")
    st.caption("Your last weeks on one or two A4 pages to print or send: weekly distance by surface with "
               "your pain scores, the weekly table, your pain log, the plan and the alerts with their "
               "evidence. It is written on this computer; nothing is sent anywhere.")
    today = ui.today()
    c1, c2 = st.columns(2)
    as_of = c1.date_input("Report up to", value=today, max_value=today, format=fmt.DATE_INPUT_FORMAT, key="physio_as_of")
    weeks = int(c2.number_input("Weeks to cover", min_value=1, max_value=MAX_WEEKS, value=DEFAULT_WEEKS, step=1,
                                key="physio_weeks"))
    wanted = (as_of.isoformat(), weeks)
    if st.button("Prepare the report", icon=":material/description:", key="physio_prepare"):
        path = ui.db_path()
        st.session_state["physio_files"] = (wanted, _files(str(path), ui.store_version(path), *wanted))
    prepared = st.session_state.get("physio_files")
    if not prepared or prepared[0] != wanted:
        return
    pdf, html, period = prepared[1]
    st.success(f"Your report for {period} is ready.", icon=":material/check:")
    stem = f"loadwatch-physio-report-{as_of.isoformat()}"
    d1, d2 = st.columns(2)
    d1.download_button("Download PDF", data=pdf, file_name=f"{stem}.pdf", mime="application/pdf",
                       icon=":material/picture_as_pdf:", key="physio_pdf")
    d2.download_button("Download HTML", data=html.encode("utf-8"), file_name=f"{stem}.html", mime="text/html",
                       icon=":material/html:", key="physio_html")
