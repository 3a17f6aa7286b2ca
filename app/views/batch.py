"""Tutor page: mark a class set, see who covered what, correct the tool, download marks and feedback.

Every batch is kept as a named marking session in the store ($RUBRICATE_DB), essay by essay as it
is marked, and every correction or comment is written at once: a refresh or a restart loses nothing.
The open session's name is in the page's URL (?session=NAME), so a reload or a shared link reopens it.
Marking and exports are models.marking and models.exports, the same code as the CLI's.
"""
from __future__ import annotations

from datetime import datetime

import streamlit as st

from app import batches, charts, loading, tables, widgets
from models.errors import RubricateError
from models.exports import export_columns, export_table, feedback_zip, import_review, report_file_name, table_bytes
from models.marking import session_rows, unique_session_name
from models.reader import read_essay_bytes, unique_sources
from models.report import Report
from models.review import TutorReview
from models.sessions import MIN_REVIEWED_TO_RECALIBRATE, calibrated_model, calibration_in_words, recalibrate, tutor_agreement
from models.store import open_store

SESSION_PARAM = "session"  # the URL's query parameter naming the open session

base_model = loading.current_model()
rubric = base_model.rubric
titles = loading.reference_titles(base_model)
store = open_store()  # one connection per script run: a Store must not cross threads
model = calibrated_model(store, base_model)  # new marking uses the tutor's recalibrated thresholds, if any
st.title("Mark a batch of essays")
st.markdown(f"**Question:** {rubric.question}")
st.caption(
    "Upload the class's essays: .txt, .docx or .pdf files, a .csv with one essay per row, or a .zip of any of these. "
    "Every file gets a row in the table; files that cannot be read say why."
)


def open_batch(batch: dict) -> None:
    st.session_state[batches.BATCH_KEY] = batch
    st.session_state.pop("batch_zip", None)
    if batch.get("session"):
        st.query_params[SESSION_PARAM] = batch["session"]


uploads = st.file_uploader(
    "Essays", type=["txt", "docx", "pdf", "csv", "zip"], accept_multiple_files=True, key="batch_files"
)
name = st.text_input("Session name", value=f"Batch {datetime.now():%Y-%m-%d %H:%M}", key="session_name",
                     help="The batch is saved under this name, so you can reopen it and your corrections later.")
if st.button("Mark essays", type="primary", icon=":material/task_alt:", disabled=not uploads):
    inputs = list(unique_sources(item for upload in uploads
                                 for item in read_essay_bytes(widgets.uploaded_name(upload.name), upload.getvalue())))
    bar = st.progress(0.0, text=f"Marking {widgets.plural(len(inputs), 'essay')}…")
    done = [0]  # a list, so the callback can add to it

    def advance(n: int) -> None:
        done[0] += n
        bar.progress(min(1.0, done[0] / max(1, len(inputs))), text=f"Marked {done[0]} of {len(inputs)}")

    session_name = unique_session_name(store, name or "Batch")
    open_batch(batches.mark_batch_into_session(inputs, model, store, session_name, on_progress=advance))
    bar.empty()

# A reload or a shared link: the URL names the session to reopen.
wanted = st.query_params.get(SESSION_PARAM)
current = st.session_state.get(batches.BATCH_KEY)
if wanted and (not current or current.get("session") != wanted):
    known = {s.name: s for s in store.sessions()}
    if wanted in known and known[wanted].rubric_id == rubric.id:
        open_batch(batches.batch_from_session(store, wanted, rubric))
    elif wanted in known:
        st.info("The session in this page's address was marked against another question. Choose that question in the sidebar.",
                icon=":material/swap_horiz:")
    else:
        st.warning(f"No saved session is named {widgets.markdown_text(wanted)}; choose one below.", icon=":material/warning:")

with st.expander("Reopen a session", icon=":material/history:", expanded=not st.session_state.get(batches.BATCH_KEY)):
    summaries = [s for s in reversed(store.sessions()) if s.rubric_id == rubric.id]
    st.caption(f"Sessions are kept in {store.path} (set RUBRICATE_DB to use another file).")
    if summaries:
        chosen_session = st.selectbox("Session", summaries, format_func=widgets.session_label, key="reopen_session")
        if st.button("Reopen", icon=":material/folder_open:"):
            open_batch(batches.batch_from_session(store, chosen_session.name, rubric))
    else:
        st.caption("No saved sessions for this question yet.")

batch = st.session_state.get(batches.BATCH_KEY)
if not batch:
    st.info("No batch marked yet. Upload essays and press **Mark essays**.", icon=":material/upload_file:")
    st.stop()
if batch["rubric"] != str(rubric.path):
    st.info("The last batch was marked against another question. Switch back to it in the sidebar, or mark a new batch.", icon=":material/swap_horiz:")
    st.stop()

inputs = batch["inputs"]
session = store.session(batch["session"]) if batch.get("session") else None
# The tutor's decisions are read back from the store on every run, so every view shows what is saved.
rows = session_rows(store, session.name, rubric) if session else batch["rows"]
failed = [row for row in rows if row["status"] != "ok"]
marked = len(rows) - len(failed)
st.divider()
st.subheader(f"Results: {marked} marked" + (f", {len(failed)} could not be read" if failed else ""))
if session:
    st.caption(f"Session **{widgets.markdown_text(session.name)}**, saved in {store.path}. A changed factor reads *tool → tutor*.")
    if session.finished_at is None:
        st.warning(f"This session is incomplete: marking stopped after {widgets.plural(len(rows), 'essay')}. Mark the rest with "
                   "`python -m app.cli batch --session NAME --resume INPUT...`, which marks only the inputs not yet stored.",
                   icon=":material/hourglass_bottom:")
if failed:
    st.warning("Some files could not be marked; their rows say why:\n\n" + "\n".join(f"- {widgets.markdown_text(row['error'])}" for row in failed),
               icon=":material/warning:")

table = tables.batch_table(rows, rubric)
st.dataframe(table, hide_index=True, width="stretch", height=tables.table_height(len(table)), placeholder="",
             column_order=tables.batch_column_order(table, rubric), column_config=tables.batch_column_config(rubric))

csv_col, xlsx_col, zip_col = st.columns(3)
# The CLI's `export`: final values (the tutor's where set), levels as words, comments.
records, columns = export_table(rows, rubric, titles), export_columns(rubric)
stem = report_file_name(session.name if session else "rubricate", set()).removeprefix("feedback-").removesuffix(".html")
csv_col.download_button("Download table (CSV)", table_bytes(records, columns, ".csv"), f"{stem}-marks.csv", "text/csv",
                        icon=":material/download:")
xlsx_col.download_button(
    "Download table (Excel)", table_bytes(records, columns, ".xlsx"), f"{stem}-marks.xlsx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", icon=":material/download:",
)
if marked:
    # From the stored rows with the tutor's decisions: rebuilt when they change, never re-marked.
    fingerprint = repr((batch.get("session"), [(r.get("tutor_levels"), r.get("tutor_mark"), r.get("comments")) for r in rows]))
    cached = st.session_state.get("batch_zip")
    if not cached or cached[0] != fingerprint:
        st.session_state["batch_zip"] = cached = (fingerprint, feedback_zip(rows, [item.text for item in inputs], rubric, titles))
    zip_col.download_button("Feedback reports (.zip of HTML)", cached[1], f"{stem}-feedback.zip", "application/zip", icon=":material/folder_zip:")

if session:
    with st.expander("Import a table you edited", icon=":material/upload:"):
        st.caption("Download the table, change levels, marks or comments in a spreadsheet, and upload it here: "
                   "changes become your corrections. Nothing is applied unless every row matches.")
        edited = st.file_uploader("Edited table (.csv or .xlsx)", type=["csv", "xlsx"], key="import_file")
        if st.button("Import changes", icon=":material/upload_file:", disabled=edited is None):
            try:
                done = import_review(store, session.name, widgets.uploaded_name(edited.name), edited.getvalue(), rubric)
            except RubricateError as exc:
                st.error(widgets.markdown_text(str(exc)), icon=":material/error:")
            else:
                st.session_state["imported"] = (f"Imported {widgets.plural(done.levels, 'level')}, {widgets.plural(done.marks, 'mark')} "
                                                f"and {widgets.plural(done.comments, 'comment')}.")
                st.rerun()
        if st.session_state.get("imported"):
            st.success(st.session_state.pop("imported"), icon=":material/check_circle:")

if marked:
    st.subheader("Who covered what")
    st.caption("One row per essay, one column per factor (the tutor's level where set). Hover over a cell for the score.")
    st.altair_chart(charts.heatmap(rows, rubric), width="stretch", height=charts.heatmap_height(marked))

st.subheader("Shared passages between students")
pairs = batch["pairs"]
if pairs:
    st.caption("Long runs of identical words in two students' essays: worth a look, not proof of copying. "
               "Where both copied the same reference essay, it is named: that is copying, not collusion.")
    st.dataframe(tables.pairs_table(pairs, inputs, titles), hide_index=True, width="stretch", placeholder="")
else:
    st.success("No two essays share a long passage.", icon=":material/check_circle:")

readable = [i for i, item in enumerate(inputs) if item.ok]
if readable:
    st.subheader("One student's feedback")
    chosen = st.selectbox("Essay", range(len(readable)), format_func=lambda i: widgets.essay_label(inputs[readable[i]]), key="batch_essay")
    item, row = inputs[readable[chosen]], rows[readable[chosen]]
    if session:
        widgets.render_tutor_marking(row, rubric)
    # The result as stored, with the tutor's decisions: not a fresh score (thresholds may have been recalibrated since).
    widgets.render_feedback(Report.from_dict(row), item.text, rubric, student=item.student or item.source, key="batch",
                       review=TutorReview.from_row(row), titles=titles)

if session:
    st.subheader("How often the tool agreed with you")
    essays = store.essays(session.id)
    agreement = tutor_agreement(essays, rubric.factor_ids)
    st.caption(widgets.thresholds_caption(model, base_model))
    if not agreement.essays:
        st.caption("Correct a level, set a mark or add a comment to an essay: reviewed essays are compared here.")
    else:
        st.caption(f"Over the {widgets.plural(agreement.essays, 'essay')} you reviewed; a factor you left alone there counts as agreed.")
        st.dataframe(tables.agreement_table(agreement, rubric), hide_index=True, placeholder="")
        if agreement.essays < MIN_REVIEWED_TO_RECALIBRATE:
            st.caption(f"Recalibrating thresholds needs at least {MIN_REVIEWED_TO_RECALIBRATE} reviewed essays, so that a few "
                       f"corrections do not decide them; you have reviewed {agreement.essays}.")
        elif st.button("Recalibrate thresholds from my corrections", icon=":material/tune:"):
            try:
                st.session_state["recalibration"] = recalibrate(store, session.name, base_model)
            except RubricateError as exc:
                st.error(widgets.markdown_text(str(exc)), icon=":material/error:")
            else:
                st.rerun()  # the page's model now uses the new thresholds
        change = st.session_state.get("recalibration")
        if change:
            before, after = st.columns(2)
            before.metric("Agreement before", f"{change.before.overall_agreement:.0%}")
            after.metric("Agreement after", f"{change.after.overall_agreement:.0%}",
                         delta=f"{100 * (change.after.overall_agreement - change.before.overall_agreement):+.0f} points")
            st.caption(f"New thresholds: {calibration_in_words(model)}. "
                       "Essays marked from now on use them; this session's stored marks are unchanged.")
store.close()
