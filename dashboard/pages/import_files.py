"""Import: drop watch files or whole export zips; see what was imported, duplicated, skipped or failed."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import ui
from ingest import importer

ui.page_start("Import")

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

if files and st.button(f"Import {len(files)} file{'s' if len(files) != 1 else ''}", type="primary"):
    bar = st.progress(0.0, text="Importing...")

    def on_progress(done: int, total: int | None, name: str) -> None:
        # total is None when a zip's content cannot be counted up front
        frac = min(done / total, 1.0) if total else min(done / (done + 10), 0.95)
        bar.progress(frac, text=f"Read {done}{f' of {total}' if total else ''} files: {name}")

    with ui.open_store() as store:
        outcomes = importer.import_files(store, [(f.name, f) for f in files], progress=on_progress)
    bar.progress(1.0, text="Done")
    st.session_state["import_outcomes"] = [
        {"file": o.name, "result": o.status, "why": o.reason or "", "activity": o.activity_id or ""}
        for o in outcomes]
    st.session_state["upload_nonce"] = nonce + 1  # empties the uploader for the next batch
    ui.changed()
    st.rerun()

outcomes = st.session_state.get("import_outcomes")
if outcomes:
    table = pd.DataFrame(outcomes)
    counts = table["result"].value_counts()
    st.subheader("Last import")
    cols = st.columns(4)
    for col, status in zip(cols, ("imported", "duplicate", "skipped", "failed"), strict=True):
        col.metric(status.capitalize(), int(counts.get(status, 0)))
    st.dataframe(table, hide_index=True, width="stretch",
                 column_config={"activity": st.column_config.TextColumn("activity id", width="small")})
    if counts.get("failed", 0):
        st.warning("Some files could not be read; the reason is in the table. The rest were imported.")

n = len(ui.activities())
st.caption(f"Your store holds {n} activit{'y' if n == 1 else 'ies'}.")
