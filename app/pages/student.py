"""Student page: one essay in, feedback out."""
from __future__ import annotations

import streamlit as st

from app import ui
from models.reader import essay_from_text, read_essay_bytes
from models.store import draft_changes, open_store

model = ui.calibrated_current_model("pages/student.py")
st.title("Feedback on your essay")
st.markdown(f"**Question:** {model.rubric.question}")
st.caption(
    "Paste your essay or upload it. Rubricate checks which of the question's factors you cover, "
    "shows the sentences that make each point, and suggests what to add."
)

how = st.radio("Your essay", ["Paste text", "Upload a file"], horizontal=True, label_visibility="collapsed")
if how == "Paste text":
    pasted = st.text_area("Your essay", height=260, placeholder="Paste your essay here…", key="essay_text")
    upload = None
else:
    pasted = ""
    upload = st.file_uploader("Your essay as .txt, .docx or .pdf", type=["txt", "docx", "pdf"], key="essay_file")

student_key = st.text_input(
    "Your name or student id (optional)", key="student_key",
    help="Given, each draft you check is kept, and the next one shows what changed since.",
).strip()

if st.button("Get feedback", type="primary", icon=":material/search:"):
    if upload is not None:
        essays = read_essay_bytes(upload.name, upload.getvalue())
    else:
        essays = [essay_from_text(pasted)]
    essay = essays[0] if essays else None
    if essay is None or not essay.ok:
        st.session_state.pop("feedback", None)
        st.error(essay.error if essay else "The file holds no essay.", icon=":material/error:")
    else:
        report = model.score(essay.text)
        st.session_state["feedback"] = {"rubric": str(model.rubric.path), "text": essay.text, "report": report, "student": student_key}
        if student_key:
            with open_store() as store:  # one connection per run: a Store must not cross threads
                store.add_draft(student_key, model.rubric.id, essay.text, report.to_dict())

feedback = st.session_state.get("feedback")
if feedback and feedback["rubric"] == str(model.rubric.path):
    st.divider()
    ui.render_feedback(feedback["report"], feedback["text"], model.rubric, titles=ui.reference_titles(model))
    if feedback.get("student"):
        with open_store() as store:
            drafts = store.drafts(feedback["student"], model.rubric.id)
            store_path = store.path
        st.subheader("Your drafts")
        if len(drafts) > 1:
            change = draft_changes(drafts[-2].result, drafts[-1].result)
            st.markdown(f"Since your last draft: coverage **{change.coverage_change:+.0f}** points, "
                        f"mark **{change.mark_change:+d}**.\n\n" + "\n".join(ui.draft_change_lines(change)))
        else:
            st.caption("Your first draft for this question is saved; check the next one to see what changed.")
        st.dataframe(ui.draft_history_table(drafts), hide_index=True)
        st.caption(f"Drafts are kept in {store_path}.")
