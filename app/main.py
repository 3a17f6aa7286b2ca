"""Rubricate in the browser: `streamlit run app/main.py`.

Thin on purpose: it picks the question and the page; the pages render what the engine returns.
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `streamlit run app/main.py` puts only app/ on the path
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from app import loading  # noqa: E402

# A local image: a :material/...: or emoji favicon is fetched by the browser from a font server or CDN.
st.set_page_config(page_title="Rubricate", page_icon=str(ROOT / "app" / "static" / "favicon.png"), layout="wide")

choices = loading.rubric_choices()
with st.sidebar:
    st.markdown("### Question")
    st.selectbox(
        "Question being marked",
        list(choices),
        format_func=choices.get,
        key=loading.RUBRIC_KEY,
        label_visibility="collapsed",
        help="Each question has its own rubric and reference essays.",
    )
    st.caption("Rubricate reads an essay against the question's rubric and reference essays. It runs offline; nothing leaves this computer.")
    for problem in loading.rubric_problems():
        st.warning(problem, icon=":material/warning:")

pages = [
    st.Page("views/student.py", title="Student feedback", icon=":material/edit_note:", default=True),
    st.Page("views/batch.py", title="Tutor: mark a batch", icon=":material/library_books:"),
    st.Page("views/coverage.py", title="Coverage report", icon=":material/bar_chart:"),
]
# The pages live in views/, not pages/: a pages/ folder beside main.py would make Streamlit serve
# each page on its own, without this sidebar, when its URL is opened before main.py has run.
st.navigation(pages).run()
