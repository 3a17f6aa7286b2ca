"""Student page: one essay in, feedback out."""
from __future__ import annotations

import streamlit as st

from app import ui
from models.reader import essay_from_text, read_essay_bytes

model = ui.current_model("pages/student.py")
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
        st.session_state["feedback"] = {"rubric": str(model.rubric.path), "text": essay.text, "report": model.score(essay.text)}

feedback = st.session_state.get("feedback")
if feedback and feedback["rubric"] == str(model.rubric.path):
    st.divider()
    ui.render_feedback(feedback["report"], feedback["text"], model.rubric)
