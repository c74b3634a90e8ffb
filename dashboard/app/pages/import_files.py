"""Import: drop watch files or whole export zips; see what was imported, duplicated, skipped or failed.

In demo mode nothing is imported: the demo store is a generated example, and a runner's files belong in
their own store, so the page offers to leave the demo first."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from loadwatch.dashboard.app import ui
from loadwatch.dashboard.pipelines import import_jobs
from loadwatch.metrics import fmt

OUTCOMES = import_jobs.OUTCOMES


def demo_notice() -> None:
    """Demo mode: explain why there is no uploader, and the way out."""
    st.info("**You are looking at the demo.** Files you import go into your own store, never into the demo, "
            "so leave the demo first.", icon=":material/science:")
    if ui.demo_server():
        st.markdown("This dashboard was started with `--demo`. To import your own files, start it without: "
                    "`loadwatch dashboard`.")
    elif st.button("Leave the demo and import my own files", type="primary", key="import_leave_demo"):
        ui.leave_demo()
        st.rerun()


def uploader() -> None:
    """The uploader and the import button.  The import runs in the server's background (loadwatch.dashboard.pipelines.import_jobs):
    it goes on whatever page the runner opens, its progress is in the sidebar of every page, and its result
    stays here until read."""
    st.markdown(
        "Drop single `.fit`, `.gpx` or `.tcx` files (also as `.gz`), or the whole `.zip` that Garmin Connect "
        "(*Export your data*) or Strava (*Download your account*) gives you. Importing the same file twice adds "
        "nothing; the same run from two sources is kept once, preferring the richer file. Your original files "
        "are kept in your store.")
    st.caption(f"Upload limit: {ui.MAX_UPLOAD_MB} MB per file. For bigger archives use the command line: "
               "`loadwatch import PATH`.")
    nonce = st.session_state.setdefault("upload_nonce", 0)
    files = st.file_uploader("Watch files or export archives", type=["fit", "gpx", "tcx", "gz", "zip"],
                             accept_multiple_files=True, key=f"uploader_{nonce}")
    busy = import_jobs.running(ui.db_path()) is not None
    if busy:
        st.caption("An import is running (its progress is in the sidebar): start the next one when it is done.")
    label = f"Import {len(files)} file{'s' if len(files) != 1 else ''}" if files else "Import"
    if not (files and st.button(label, type="primary", disabled=busy)):
        return
    # the bytes are read now: the uploaded files belong to this script run, the import does not
    import_jobs.start(ui.db_path(), [(f.name, f.getvalue()) for f in files])
    st.session_state["upload_nonce"] = nonce + 1  # empties the uploader for the next batch
    st.rerun()


def import_result(job: import_jobs.Job) -> None:
    """One finished import: counts per outcome, every file's outcome, the files that need a look; kept until
    the runner marks it read."""
    table = pd.DataFrame(list(job.rows), columns=["file", "result", "date", "sport", "distance", "notes", "status"])
    counts = table["status"].value_counts()
    st.subheader("Last import")
    st.markdown(job.summary())
    cols = st.columns(len(OUTCOMES))
    for col, status in zip(cols, OUTCOMES, strict=True):
        col.metric(status.capitalize(), int(counts.get(status, 0)))
    # the day and the notes whole ("Sat 15 Feb 2…" was cut at 1366 px): room given, the rest scrolls
    st.dataframe(table.drop(columns=["status"]), hide_index=True, width="stretch", column_config={
        "date": st.column_config.TextColumn("date", width="medium"),
        "notes": st.column_config.TextColumn("notes", width="large")})
    # every partial, corrected (GPS jump cut, heart rates dropped...) or excluded file is named
    flagged = table[(table["notes"] != fmt.MISSING) & table["status"].isin(["imported", "replaced"])
                    & ~table["notes"].str.startswith("replaced ")]
    for row in flagged.itertuples():
        # names and notes come from the files: shown as written, never read as Markdown
        st.warning(fmt.markdown_text(f"{row.file} ({row.date}, {row.sport}, {row.distance}): {row.notes}"))
    if counts.get("failed", 0):
        st.warning("Some files could not be read; the reason is in the table. The rest were imported.")
    if st.button("I have read this", key=f"import_read_{job.id}", icon=":material/done:"):
        import_jobs.mark_read(job)
        st.rerun()


@st.fragment(run_every=1.0)
def running_import() -> None:
    """The import running now, redrawn every second (the sidebar's progress runs the page again when it ends)."""
    job = import_jobs.running(ui.db_path())
    if job is None:
        return
    st.subheader("Importing")
    frac, text = job.progress()
    st.progress(frac, text=text)
    st.caption("You can open other pages meanwhile: the import goes on, and its result waits here.")


def last_import() -> None:
    """The import running now, then every finished import not yet marked read."""
    if import_jobs.running(ui.db_path()) is not None:
        running_import()
    for done in import_jobs.unread(ui.db_path()):
        import_result(done)


def reread_offer() -> None:
    """Activities read by an older loadwatch: offer to re-read them from the kept originals."""
    with ui.open_store() as store:
        stale = store.needs_rebuild()
    if not stale:
        return
    st.info(f"{stale} activit{'y was' if stale == 1 else 'ies were'} read by an older loadwatch. Re-reading them "
            "with today's rules fixes twins, damaged files, GPS glitches and sports; your pain entries and "
            "corrections are kept.")
    if st.button("Re-read my activities"):
        with ui.open_store() as store:
            done = store.rebuild()
        ui.changed()
        st.success(f"Re-read {fmt.count(done['rebuilt'], 'activity', 'activities')}: {done['changed']} changed, {done['merged']} merged as "
                   "copies of another run.")


ui.page_start("Import")
if ui.is_demo():
    demo_notice()
else:
    uploader()
    last_import()
    reread_offer()
n = len(ui.activities())
st.caption(f"{'The demo store' if ui.is_demo() else 'Your store'} holds {n} activit{'y' if n == 1 else 'ies'}.")
