"""The question being marked and its fitted model, cached once per server: the one place the app caches a model.

A page asks `current_model()` for the model of the question chosen in the sidebar; a broken rubric or a
missing corpus is shown on the page, never as a traceback.
"""
from __future__ import annotations

import streamlit as st

from models.coverage_report import CorpusSupport, corpus_support
from models.engine import CoverageModel, load_model
from models.errors import RubricateError
from models.rubric import find_rubrics, load_rubric
from models.sessions import calibrated_model
from models.store import open_store


RUBRIC_KEY = "rubric_path"


@st.cache_resource(show_spinner="Reading the rubric and its reference essays…")
def cached_model(rubric_path: str) -> CoverageModel:
    """Fitted once per rubric file for the whole server, so no page ever refits."""
    return load_model(rubric_path)


def rubric_choices() -> dict[str, str]:
    """Rubric path -> its question, for the sidebar selector (broken rubrics are left out: see `rubric_problems`)."""
    return {path: question for path, question in _read_rubrics().items() if not isinstance(question, RubricateError)}


def rubric_problems() -> list[str]:
    """One message per rubric file in rubric/ that cannot be used, naming the file, factor and field."""
    return [str(problem) for problem in _read_rubrics().values() if isinstance(problem, RubricateError)]


@st.cache_data(show_spinner=False, ttl=60)
def _read_rubrics() -> dict[str, str | RubricateError]:
    found: dict[str, str | RubricateError] = {}
    for path in find_rubrics():
        try:
            found[str(path)] = load_rubric(path).question
        except RubricateError as problem:
            found[str(path)] = problem
    return found


def current_model() -> CoverageModel:
    """The model of the question chosen in the sidebar (the first rubric until one is chosen)."""
    choices = rubric_choices()
    if not choices:
        st.error("No usable rubric in rubric/: " + " ".join(rubric_problems()), icon=":material/error:")
        st.stop()
    path = st.session_state.get(RUBRIC_KEY) or next(iter(choices))
    try:
        return cached_model(path)
    except RubricateError as problem:  # e.g. the rubric's corpus folder is missing or empty
        st.error(str(problem), icon=":material/error:")
        st.stop()


def calibrated_current_model() -> CoverageModel:
    """`current_model`, with the thresholds a tutor recalibrated for this rubric when there are any."""
    with open_store() as store:  # a short-lived connection: a Store must not cross threads
        return calibrated_model(store, current_model())


@st.cache_resource(show_spinner="Reading the reference essays against the rubric…")
def corpus_support_cached(rubric_path: str) -> CorpusSupport:
    """The corpus analysis, once per rubric file (it reads every reference sentence)."""
    return corpus_support(cached_model(rubric_path))


def reference_titles(model: CoverageModel) -> dict[str, str]:
    return {essay.id: essay.title for essay in model.corpus.essays}
