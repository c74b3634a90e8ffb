"""Import: drop watch files or whole export zips; see what was imported, duplicated, skipped or failed.

In demo mode nothing is imported: the demo store is a generated example, and a runner's files belong in
their own store, so the page offers to leave the demo first."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import ui
from ingest import importer
from metrics import fmt


def _day(o, timezone: str) -> str:
    if o.start_utc is None:
        return fmt.MISSING
    start = pd.Timestamp(o.start_utc)
    if o.utc_offset_s is not None:
        return fmt.day(start.tz_convert("UTC") + pd.Timedelta(seconds=o.utc_offset_s))
    return fmt.day(start.tz_convert(timezone))


OUTCOMES = ("imported", "replaced", "duplicate", "skipped", "failed")


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
    """The uploader and the import button; outcomes go to the session for :func:`last_import`."""
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
    if not (files and st.button(f"Import {len(files)} file{'s' if len(files) != 1 else ''}", type="primary")):
        return
    bar = st.progress(0.0, text="Importing...")

    def on_progress(done: int, total: int | None, name: str) -> None:
        # total is None when a zip's content cannot be counted up front
        frac = min(done / total, 1.0) if total else min(done / (done + 10), 0.95)
        bar.progress(frac, text=f"Read {done}{f' of {total}' if total else ''} files: {fmt.markdown_text(name)}")

    with ui.open_store() as store:
        outcomes = importer.import_files(store, [(f.name, f) for f in files], progress=on_progress)
    bar.progress(1.0, text="Done")
    settings = ui.settings()
    st.session_state["import_outcomes"] = [
        {"file": o.name, "result": fmt.words(o.status, "outcome"), "date": _day(o, settings.timezone),
         "sport": fmt.words(o.sport, "sport") if o.sport else fmt.MISSING,
         "distance": fmt.distance(None if o.distance_m is None else o.distance_m / 1000.0, settings.units),
         "notes": "; ".join(filter(None, [
             f"left out of your load: {o.excluded_reason}" if o.excluded_reason else "",
             *[w for w in o.warnings if not (o.excluded_reason and w.endswith(o.excluded_reason))],
             o.reason or ""])) or fmt.MISSING,
         "status": o.status}
        for o in outcomes]
    st.session_state["upload_nonce"] = nonce + 1  # empties the uploader for the next batch
    ui.changed()
    st.rerun()


def last_import() -> None:
    outcomes = st.session_state.get("import_outcomes")
    if not outcomes:
        return
    table = pd.DataFrame(outcomes)
    counts = table["status"].value_counts()
    st.subheader("Last import")
    cols = st.columns(len(OUTCOMES))
    for col, status in zip(cols, OUTCOMES, strict=True):
        col.metric(status.capitalize(), int(counts.get(status, 0)))
    st.dataframe(table.drop(columns=["status"]), hide_index=True, width="stretch")
    # every partial, corrected (GPS jump cut, heart rates dropped...) or excluded file is named
    flagged = table[(table["notes"] != fmt.MISSING) & table["status"].isin(["imported", "replaced"])
                    & ~table["notes"].str.startswith("replaced ")]
    for row in flagged.itertuples():
        # names and notes come from the files: shown as written, never read as Markdown
        st.warning(fmt.markdown_text(f"{row.file} ({row.date}, {row.sport}, {row.distance}): {row.notes}"))
    if counts.get("failed", 0):
        st.warning("Some files could not be read; the reason is in the table. The rest were imported.")


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
        st.success(f"Re-read {done['rebuilt']} activities: {done['changed']} changed, {done['merged']} merged as "
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
