"""Student page: one essay in, feedback out; a student who keeps drafts sees what changed since the last one.

A student's drafts are filed under a private key the page gives with the first kept draft and keeps
in the page's address (?draft=KEY): only someone holding the key sees or adds to them, never someone
who merely knows the student's name.
"""
from __future__ import annotations

import streamlit as st

from app import loading, tables, widgets
from models.reader import essay_from_text, read_essay_bytes
from models.store import draft_changes, draft_owner, new_draft_key, open_store

DRAFT_PARAM = "draft"  # the URL's query parameter holding the student's private draft key

model = loading.calibrated_current_model()
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

draft_key = st.query_params.get(DRAFT_PARAM, "").strip()
keep = st.checkbox(
    "Keep my drafts, so the next one shows what changed", value=bool(draft_key), key="keep_drafts",
    help="Your first kept draft gives you a private key, kept in this page's address: bookmark it to come back.",
)

if st.button("Get feedback", type="primary", icon=":material/search:"):
    if upload is not None:
        essays = read_essay_bytes(widgets.uploaded_name(upload.name), upload.getvalue())
    else:
        essays = [essay_from_text(pasted)]
    essay = essays[0] if essays else None
    if essay is None or not essay.ok:
        st.session_state.pop("feedback", None)
        st.error(widgets.markdown_text(essay.error) if essay else "The file holds no essay.", icon=":material/error:")
    else:
        report = model.score(essay.text)
        st.session_state["feedback"] = {"rubric": str(model.rubric.path), "text": essay.text, "report": report, "draft_key": None}
        if keep:
            draft_key = draft_key or new_draft_key()
            st.query_params[DRAFT_PARAM] = draft_key
            st.session_state["feedback"]["draft_key"] = draft_key
            with open_store() as store:  # one connection per run: a Store must not cross threads
                store.add_draft(draft_owner(draft_key), model.rubric.id, essay.text, report.to_dict())

with st.expander("Continue from an earlier draft", icon=":material/key:"):
    st.caption("Paste the private key you were given with your first kept draft (or open the address you bookmarked).")
    typed = st.text_input("Your private draft key", key="typed_draft_key", type="password")
    if st.button("Open my drafts", icon=":material/lock_open:", disabled=not typed.strip()):
        st.query_params[DRAFT_PARAM] = typed.strip()
        st.rerun()

feedback = st.session_state.get("feedback")
if feedback and feedback["rubric"] == str(model.rubric.path):
    st.divider()
    widgets.render_feedback(feedback["report"], feedback["text"], model.rubric, titles=loading.reference_titles(model))
shown_key = (feedback or {}).get("draft_key") or draft_key
if shown_key:
    with open_store() as store:
        drafts = store.drafts(draft_owner(shown_key), model.rubric.id)
    st.subheader("Your drafts")
    if not drafts:
        st.info("No drafts are kept under this key for this question yet. Check the key, or keep a draft to start.",
                icon=":material/info:")
    else:
        if len(drafts) > 1:
            change = draft_changes(drafts[-2].result, drafts[-1].result)
            st.markdown(f"Since your last draft: coverage **{change.coverage_change:+.0f}** points, "
                        f"mark **{change.mark_change:+d}**.\n\n" + "\n".join(widgets.draft_change_lines(change)))
        else:
            st.caption("Your first draft for this question is saved; check the next one to see what changed.")
        st.dataframe(tables.draft_history_table(drafts), hide_index=True, placeholder="")
        st.caption("Your private draft key is below, and in this page's address: bookmark the page or keep the key. "
                   "Anyone with it can read your drafts; nobody can with your name alone.")
        st.code(shown_key, language=None)
