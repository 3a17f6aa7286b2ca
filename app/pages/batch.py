"""Tutor page: mark a class set, see who covered what, correct the tool, download marks and feedback.

Every batch is kept as a named marking session in the store ($RUBRICATE_DB), essay by essay as it
is marked, and every correction or comment is written at once: a refresh or a restart loses nothing.
"""
from __future__ import annotations

from datetime import datetime

import streamlit as st

from app import ui
from models.errors import RubricateError
from models.reader import read_essay_bytes, unique_sources
from models.report import Report
from models.sessions import calibrated_model, recalibrate, session_table, tutor_agreement
from models.store import open_store

base_model = ui.current_model("pages/batch.py")
rubric = base_model.rubric
store = open_store()  # one connection per script run: a Store must not cross threads
model = calibrated_model(store, base_model)  # new marking uses the tutor's recalibrated thresholds, if any
st.title("Mark a batch of essays")
st.markdown(f"**Question:** {rubric.question}")
st.caption(
    "Upload the class's essays: .txt, .docx or .pdf files, a .csv with one essay per row, or a .zip of any of these. "
    "Every file gets a row in the table; files that cannot be read say why."
)

uploads = st.file_uploader(
    "Essays", type=["txt", "docx", "pdf", "csv", "zip"], accept_multiple_files=True, key="batch_files"
)
name = st.text_input("Session name", value=f"Batch {datetime.now():%Y-%m-%d %H:%M}", key="session_name",
                     help="The batch is saved under this name, so you can reopen it and your corrections later.")
if st.button("Mark essays", type="primary", icon=":material/task_alt:", disabled=not uploads):
    inputs = list(unique_sources(item for upload in uploads for item in read_essay_bytes(upload.name, upload.getvalue())))
    bar = st.progress(0.0, text=f"Marking {len(inputs)} essays…")
    done = [0]  # a list, so the callback can add to it

    def advance(n: int) -> None:
        done[0] += n
        bar.progress(min(1.0, done[0] / max(1, len(inputs))), text=f"Marked {done[0]} of {len(inputs)}")

    session_name = ui.unique_session_name(store, name or "Batch")
    st.session_state[ui.BATCH_KEY] = ui.mark_batch_into_session(inputs, model, store, session_name, on_progress=advance)
    st.session_state.pop("batch_zip", None)
    bar.empty()

with st.expander("Reopen a session", icon=":material/history:", expanded=not st.session_state.get(ui.BATCH_KEY)):
    summaries = [s for s in reversed(store.sessions()) if s.rubric_id == rubric.id]
    st.caption(f"Sessions are kept in {store.path} (set RUBRICATE_DB to use another file).")
    if summaries:
        chosen_session = st.selectbox("Session", summaries, format_func=ui.session_label, key="reopen_session")
        if st.button("Reopen", icon=":material/folder_open:"):
            st.session_state[ui.BATCH_KEY] = ui.batch_from_session(store, chosen_session.name)
            st.session_state.pop("batch_zip", None)
    else:
        st.caption("No saved sessions for this question yet.")

batch = st.session_state.get(ui.BATCH_KEY)
if not batch:
    st.info("No batch marked yet. Upload essays and press **Mark essays**.", icon=":material/upload_file:")
    st.stop()
if batch["rubric"] != str(rubric.path):
    st.info("The last batch was marked against another question. Switch back to it in the sidebar, or mark a new batch.", icon=":material/swap_horiz:")
    st.stop()

inputs = batch["inputs"]
session = store.session(batch["session"]) if batch.get("session") else None
essays = store.essays(session.id) if session else []
# The tutor's decisions are read back from the store on every run, so the table always shows what is saved.
rows = [ui.stored_row(e) for e in essays] if session else batch["rows"]
failed = [row for row in rows if row["status"] != "ok"]
marked = len(rows) - len(failed)
st.divider()
st.subheader(f"Results: {marked} marked" + (f", {len(failed)} could not be read" if failed else ""))
if session:
    st.caption(f"Session **{session.name}**, saved in {store.path}. A changed factor reads *tool → tutor*.")
if failed:
    st.warning("Some files could not be marked; their rows say why:\n\n" + "\n".join(f"- {row['error']}" for row in failed), icon=":material/warning:")

table = ui.batch_table(rows, rubric)
st.dataframe(
    table,
    hide_index=True,
    width="stretch",
    column_config={
        "overall": st.column_config.ProgressColumn("coverage %", min_value=0, max_value=100, format="%.0f"),
        "mark /20": st.column_config.NumberColumn("mark /20", format="%d"),
        "tutor's mark": st.column_config.NumberColumn("tutor's mark", format="%d"),
    },
)

csv_col, xlsx_col, zip_col = st.columns(3)
if session:  # the CLI's `export`: tool and tutor values, final values, comments
    export_rows = session_table(essays, rubric.factor_ids)
    csv_data, xlsx_data = ui.session_export(export_rows, ".csv"), ui.session_export(export_rows, ".xlsx")
    stem = ui._file_stem(session.name)
else:
    csv_data, xlsx_data, stem = table.to_csv(index=False), ui.table_to_xlsx(table), "rubricate"
csv_col.download_button("Download table (CSV)", csv_data, f"{stem}-marks.csv", "text/csv", icon=":material/download:")
xlsx_col.download_button(
    "Download table (Excel)", xlsx_data, f"{stem}-marks.xlsx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", icon=":material/download:",
)
if marked:
    # Rebuilt when the tutor's decisions change, so the students' reports carry them.
    fingerprint = repr([(r.get("tutor_levels"), r.get("tutor_mark"), r.get("comments")) for r in rows])
    cached = st.session_state.get("batch_zip")
    if not cached or cached[0] != fingerprint:
        data = ui.session_feedback_zip(inputs, rows, model) if session else ui.feedback_zip(inputs, model)
        st.session_state["batch_zip"] = cached = (fingerprint, data)
    zip_col.download_button("Feedback reports (.zip of HTML)", cached[1], f"{stem}-feedback.zip", "application/zip", icon=":material/folder_zip:")

if marked:
    st.subheader("Who covered what")
    st.caption("One row per essay, one column per factor (the tutor's level where set). Hover over a cell for the score.")
    st.altair_chart(ui.heatmap(rows, rubric), width="stretch", height=ui.heatmap_height(marked))

st.subheader("Shared passages between students")
pairs = batch["pairs"]
if pairs:
    st.caption("Long runs of identical words in two students' essays: worth a look, not proof of copying.")
    st.dataframe(ui.pairs_table(pairs, inputs), hide_index=True, width="stretch")
else:
    st.success("No two essays share a long passage.", icon=":material/check_circle:")

readable = [i for i, item in enumerate(inputs) if item.ok]
if readable:
    st.subheader("One student's feedback")
    chosen = st.selectbox("Essay", range(len(readable)), format_func=lambda i: ui.essay_label(inputs[readable[i]]), key="batch_essay")
    item, row = inputs[readable[chosen]], rows[readable[chosen]]
    if session:
        ui.render_tutor_marking(row, rubric)
    # The result as marked (and stored), not a fresh score: thresholds may have been recalibrated since.
    ui.render_feedback(Report.from_dict(row), item.text, rubric, student=item.student or item.source, key="batch")

if session:
    st.subheader("How often the tool agreed with you")
    agreement = tutor_agreement(essays, rubric.factor_ids)
    st.caption(ui.thresholds_caption(model, base_model))
    if not agreement.essays:
        st.caption("Correct a level, set a mark or add a comment to an essay: reviewed essays are compared here.")
    else:
        st.caption(f"Over the {agreement.essays} essays you reviewed; a factor you left alone there counts as agreed.")
        st.dataframe(ui.agreement_table(agreement, rubric), hide_index=True)
        if st.button("Recalibrate thresholds from my corrections", icon=":material/tune:"):
            try:
                st.session_state["recalibration"] = recalibrate(store, session.name, base_model)
            except RubricateError as exc:
                st.error(str(exc), icon=":material/error:")
            else:
                st.rerun()  # the page's model now uses the new thresholds
        change = st.session_state.get("recalibration")
        if change:
            before, after = st.columns(2)
            before.metric("Agreement before", f"{change.before.overall_agreement:.0%}")
            after.metric("Agreement after", f"{change.after.overall_agreement:.0%}",
                         delta=f"{100 * (change.after.overall_agreement - change.before.overall_agreement):+.0f} points")
            st.caption(f"New thresholds: point {change.scoring.point_threshold:g}, developed {change.scoring.developed_threshold:g}. "
                       "Essays marked from now on use them; this session's stored marks are unchanged.")
store.close()
