"""Tutor page: mark a class set, see who covered what, download marks and feedback."""
from __future__ import annotations

import streamlit as st

from app import ui
from models.reader import read_essay_bytes

model = ui.current_model("pages/batch.py")
rubric = model.rubric
st.title("Mark a batch of essays")
st.markdown(f"**Question:** {rubric.question}")
st.caption(
    "Upload the class's essays: .txt, .docx or .pdf files, a .csv with one essay per row, or a .zip of any of these. "
    "Every file gets a row in the table; files that cannot be read say why."
)

uploads = st.file_uploader(
    "Essays", type=["txt", "docx", "pdf", "csv", "zip"], accept_multiple_files=True, key="batch_files"
)
if st.button("Mark essays", type="primary", icon=":material/task_alt:", disabled=not uploads):
    inputs = [item for upload in uploads for item in read_essay_bytes(upload.name, upload.getvalue())]
    bar = st.progress(0.0, text=f"Marking {len(inputs)} essays…")
    done = [0]  # a list, so the callback can add to it

    def advance(n: int) -> None:
        done[0] += n
        bar.progress(min(1.0, done[0] / max(1, len(inputs))), text=f"Marked {done[0]} of {len(inputs)}")

    st.session_state[ui.BATCH_KEY] = ui.mark_batch_inputs(inputs, model, on_progress=advance)
    st.session_state.pop("batch_zip", None)
    bar.empty()

batch = st.session_state.get(ui.BATCH_KEY)
if not batch:
    st.info("No batch marked yet. Upload essays and press **Mark essays**.", icon=":material/upload_file:")
    st.stop()
if batch["rubric"] != str(rubric.path):
    st.info("The last batch was marked against another question. Switch back to it in the sidebar, or mark a new batch.", icon=":material/swap_horiz:")
    st.stop()

rows, inputs = batch["rows"], batch["inputs"]
failed = [row for row in rows if row["status"] != "ok"]
marked = len(rows) - len(failed)
st.divider()
st.subheader(f"Results: {marked} marked" + (f", {len(failed)} could not be read" if failed else ""))
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
    },
)

csv_col, xlsx_col, zip_col = st.columns(3)
csv_col.download_button("Download table (CSV)", table.to_csv(index=False), "rubricate-marks.csv", "text/csv", icon=":material/download:")
xlsx_col.download_button(
    "Download table (Excel)", ui.table_to_xlsx(table), "rubricate-marks.xlsx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", icon=":material/download:",
)
if marked:
    if "batch_zip" not in st.session_state:
        st.session_state["batch_zip"] = ui.feedback_zip(inputs, model)
    zip_col.download_button("Feedback reports (.zip of HTML)", st.session_state["batch_zip"], "rubricate-feedback.zip", "application/zip", icon=":material/folder_zip:")

if marked:
    st.subheader("Who covered what")
    st.caption("One row per essay, one column per factor. Hover over a cell for the score.")
    st.altair_chart(ui.heatmap(rows, rubric), width="stretch", height=ui.heatmap_height(marked))

st.subheader("Shared passages between students")
pairs = batch["pairs"]
if pairs:
    st.caption("Long runs of identical words in two students' essays: worth a look, not proof of copying.")
    st.dataframe(ui.pairs_table(pairs, inputs), hide_index=True, width="stretch")
else:
    st.success("No two essays share a long passage.", icon=":material/check_circle:")

readable = [item for item in inputs if item.ok]
if readable:
    st.subheader("One student's feedback")
    chosen = st.selectbox("Essay", range(len(readable)), format_func=lambda i: ui.essay_label(readable[i]), key="batch_essay")
    item = readable[chosen]
    ui.render_feedback(model.score(item.text), item.text, rubric, student=item.student or item.source, key="batch")
