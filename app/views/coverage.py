"""Coverage page: how a marked batch covered the rubric (final values: the tutor's where set), and how well the
reference essays support it."""
from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from app import batches, charts, loading, tables, widgets
from models.coverage_report import WEAK_SUPPORT_SENTENCES, batch_coverage
from models.marking import session_inputs, session_rows
from models.store import open_store

model = loading.current_model()
rubric = model.rubric
st.title("Coverage report")
st.markdown(f"**Question:** {rubric.question}")

st.header("A marked batch")
# The tutor's decisions are read from the store, so the counts and marks are the final ones.
batch = st.session_state.get(batches.BATCH_KEY)
if batch and batch["rubric"] != str(rubric.path):
    batch = None
rows = None
with open_store() as store:  # one connection per run: a Store must not cross threads
    names = [s.name for s in reversed(store.sessions()) if s.rubric_id == rubric.id]
    wanted = st.query_params.get("session") or (batch or {}).get("session")
    if wanted in names and (st.session_state.get("coverage_session") not in names or st.session_state.get("coverage_follows") != wanted):
        st.session_state["coverage_session"] = st.session_state["coverage_follows"] = wanted  # the URL's, else the batch page's
    chosen = st.selectbox("Session", names, index=None, key="coverage_session", placeholder="Choose a saved session") if names else None
    if chosen:
        st.query_params["session"] = chosen
        rows = session_rows(store, chosen, rubric)
        inputs = session_inputs(store, chosen)
        pairs = batch["pairs"] if batch and batch.get("session") == chosen else batches.shared_pairs(inputs, rows)
    elif batch and not batch.get("session"):
        rows, inputs, pairs = batch["rows"], batch["inputs"], batch["pairs"]
if rows is None:
    st.info("Mark a batch on the **Tutor** page, or choose a saved session, to see how the class covered each factor.",
            icon=":material/library_books:")
else:
    cover = batch_coverage(rows, rubric.factor_ids, [f.name for f in rubric.factors])
    if not cover.essays:
        st.warning("No essay in this batch could be marked.")
    else:
        st.caption(f"{widgets.plural(cover.essays, 'essay')} marked. How many of them mention each factor, and how many develop it.")
        bars = pd.DataFrame(
            [{"factor": n, "essays": m - d, "level": "mentioned"} for n, m, d in zip(cover.factor_names, cover.mentioned_or_better, cover.developed)]
            + [{"factor": n, "essays": d, "level": "developed"} for n, d in zip(cover.factor_names, cover.developed)]
        )
        chart = alt.Chart(bars).mark_bar().encode(
            y=alt.Y("factor:N", sort=list(cover.factor_names), title=None, axis=alt.Axis(labelLimit=260)),
            x=alt.X("sum(essays):Q", title="essays", scale=alt.Scale(domain=[0, cover.essays]), axis=alt.Axis(tickMinStep=1, format="d")),
            color=alt.Color("level:N", scale=alt.Scale(domain=["mentioned", "developed"], range=["#f6c453", "#43a047"]), title="Level"),
            order=alt.Order("level:N", sort="ascending"),
            tooltip=["factor", "level", "essays"],
        ).properties(height=40 * len(cover.factor_names))
        left, right = st.columns([3, 2])
        left.altair_chart(chart, width="stretch", height=40 * len(cover.factor_names) + 50)
        with right:
            st.markdown("**Most missed factors**")
            missed = cover.most_missed()
            if missed:
                for name, n in missed:
                    st.markdown(f"- {name}: absent in **{n}** of {cover.essays}")
            else:
                st.markdown("Every essay mentions every factor.")
        st.markdown("**Marks out of 20**")
        st.altair_chart(charts.marks_histogram(cover.marks), width="stretch")
        st.markdown("**Shared passages between students**")
        if pairs:
            st.dataframe(tables.pairs_table(pairs, inputs, loading.reference_titles(model)), hide_index=True, width="stretch", placeholder="")
        else:
            st.caption("No two essays share a long passage.")

st.header("The rubric and its reference essays")
st.caption(
    "Every sentence of the reference essays is read as if a student wrote it. A factor that few reference "
    "sentences support gives thin suggestions; sentences that match no factor may be points the rubric is missing."
)
support = loading.corpus_support_cached(str(rubric.path))
st.markdown("**Sentences of each reference essay that make each factor's point**")
st.altair_chart(charts.support_heatmap(support), width="stretch", height=charts.heatmap_height(len(support.essay_ids)))
with st.expander("The same as a table, with each essay's title"):
    matrix = pd.DataFrame(support.counts, index=[f"{i}: {t}" for i, t in zip(support.essay_ids, support.essay_titles)], columns=list(support.factor_names))
    st.dataframe(matrix, width="stretch")

if support.weak_factors:
    names = [support.factor_names[support.factor_ids.index(f)] for f in support.weak_factors]
    st.warning(
        f"Weak support (fewer than {WEAK_SUPPORT_SENTENCES} reference sentences): " + ", ".join(names)
        + ". Suggestions for these factors lean on the rubric's own cues; consider adding a reference essay that argues them.",
        icon=":material/warning:",
    )
else:
    st.success("Every factor is supported by several reference sentences.", icon=":material/check_circle:")

st.subheader("Strongest reference sentences per factor")
for factor_id, name in zip(support.factor_ids, support.factor_names):
    count = support.supporting_sentences(factor_id)
    with st.expander(f"{name} — {count} supporting sentence{'s' if count != 1 else ''}"):
        best = support.strongest[factor_id]
        if not best:
            st.caption("No reference sentence makes this point on its own.")
        for sentence in best:
            st.markdown(f"> {widgets.quote_markdown(sentence.text)}\n\n*— {sentence.essay_id}, score {sentence.score:.2f}*")

st.subheader("Reference sentences that match no factor")
st.caption(f"{len(support.unmatched)} sentences of eight words or more make none of the rubric's points. Those below are the furthest from every factor.")
st.dataframe(
    pd.DataFrame([{"essay": s.essay_id, "sentence": s.text, "best score": s.score} for s in support.unmatched]),
    hide_index=True, width="stretch", height=280,
    column_config={"sentence": st.column_config.TextColumn("sentence", width="large")},
)
