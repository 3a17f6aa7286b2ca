"""Rendering shared by the app's pages: the fitted model, one essay's feedback, the batch table.

No scoring happens here: the engine returns reports and rows, and these
functions only turn them into widgets, tables, charts and downloads.
"""
from __future__ import annotations

import json
import textwrap
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import altair as alt
import pandas as pd
import streamlit as st

from models.batch import mark_inputs
from models.coverage_report import CorpusSupport, corpus_support
from models.errors import RubricateError
from models.engine import CoverageModel, load_model
from models.exports import report_file_name
from models.feedback_html import ESSAY_CSS, highlighted_essay_html, legend_html, render_feedback_html
from models.marking import ClassPair, class_pairs, mark_into_session, session_inputs, session_rows
from models.reader import EssayInput
from models.report import LEVEL_NAMES, Report
from models.review import TutorReview
from models.rubric import Rubric, find_rubrics, load_rubric
from models.sessions import TutorAgreement, calibrated_model
from models.store import Draft, DraftChange, SessionSummary, Store, open_store

PROSE_MARKS = ".,'\"?;"  # left as they are in user strings: they form no Markdown once the rest is escaped
LEVEL_BADGES = {0: ":red-badge[absent]", 1: ":orange-badge[mentioned]", 2: ":green-badge[developed]"}
BATCH_KEY = "batch"  # st.session_state key of the last marked batch (read by the coverage page)
RUBRIC_KEY = "rubric_path"


# ------------------------------------------------------------------ the model
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


# ------------------------------------------------------------------ one essay
def render_feedback(report: Report, essay: str, rubric: Rubric, student: str | None = None, key: str = "one",
                    review: TutorReview | None = None, titles: Mapping[str, str] | None = None) -> None:
    """Everything a student sees about one essay: scores, factor statuses, the highlighted essay, next steps.

    `report` holds the final values; `review` (a stored essay's) says once what the tool had said
    where the tutor changed it. `titles` names reference essays (corpus id -> title).
    """
    titles = titles or {}
    for warning in report.warnings:
        st.warning(warning, icon=":material/warning:")
    coverage, mark, length = st.columns(3)
    coverage.metric("Coverage of the rubric", f"{report.overall:.0f}%", help="How many of the rubric's factors the essay mentions or develops, weighted.")
    if review is not None and review.tutor_mark is not None:
        mark.metric("Tutor's mark", f"{report.mark_20} / 20", help=f"The tool said {review.tool_mark}." if review.mark_changed else None)
    else:
        mark.metric("Mark estimate", f"{report.mark_20} / 20")
    length.metric("Words", report.word_count)

    st.subheader("Factors")
    st.caption("Each factor of the question: absent, mentioned (the point is made once), or developed (made and explained).")
    for factor in report.factors:
        name_col, level_col, score_col = st.columns([5, 2, 3])
        name_col.markdown(f"**{factor.name}**")
        said = f" :gray[(the tool said {LEVEL_NAMES[review.tool_levels[factor.id]]})]" if review and review.changed(factor.id) else ""
        level_col.markdown(LEVEL_BADGES[factor.level] + said)
        score_col.progress(float(factor.score), text=f"score {factor.score:.2f}")

    st.subheader("The essay, with its evidence")
    st.caption("Sentences that make a factor's point are highlighted in that factor's colour. Hover over one to see which factor it supports.")
    if report.copy.flagged:
        st.error(f"Parts of this essay repeat a reference essay word for word ({markdown_text(copied_title(report, titles))}); they are underlined in red.", icon=":material/flag:")
    st.html(f"<style>{ESSAY_CSS}</style>{legend_html(report)}{highlighted_essay_html(report, essay)}")

    to_improve = [f for f in report.factors if f.level < 2 and f.suggestion]
    st.subheader("How to improve")
    if not to_improve:
        st.success("Every factor is developed. Well done.")
    for factor in to_improve:
        with st.expander(f"{factor.name} — {LEVEL_NAMES[factor.level]}", expanded=True):
            st.markdown(factor.suggestion.guidance)
            for excerpt in factor.suggestion.excerpts:
                source = titles.get(excerpt.source, f"reference essay {excerpt.source}")
                st.markdown(f"> {quote_markdown(excerpt.text)}\n\n*— {markdown_text(source)}*")

    st.download_button(
        "Download this feedback (HTML)",
        render_feedback_html(report, essay, rubric, student, review=review, titles=titles),
        file_name=report_file_name(student or "essay", set()),
        mime="text/html",
        key=f"download-{key}",
        icon=":material/download:",
    )


def plural(n: int, word: str) -> str:
    """ "1 essay", "2 essays"."""
    return f"{n} {word}{'' if n == 1 else 's'}"


def copied_title(report: Report, titles: Mapping[str, str]) -> str:
    """The reference essay a flagged essay copies, by title where known."""
    passages = report.copy.passages
    return titles.get(passages[0].source, report.copy.source or "") if passages else (report.copy.source or "")


def reference_titles(model: CoverageModel) -> dict[str, str]:
    return {essay.id: essay.title for essay in model.corpus.essays}


def markdown_text(text: str) -> str:
    """A user's string (a file, student or session name, an error naming one) shown in Markdown exactly as written.

    Every ASCII punctuation mark but prose's . , ' " ? ; is backslash-escaped (CommonMark allows it for
    all of them), and "www." loses its autolink, so no link, image, HTML, autolinked URL, emoji, icon,
    maths or colour directive can form.
    """
    escaped = "".join("\\" + c if c.isascii() and not c.isalnum() and not c.isspace() and c not in PROSE_MARKS else c for c in str(text))
    return escaped.replace("www.", "www\\.").replace("WWW.", "WWW\\.")


def quote_markdown(text: str) -> str:
    """Text shown as a Markdown quote: one line, escaped so it shows as written."""
    return markdown_text(" ".join(str(text).split()))


# ------------------------------------------------------------------ a batch
def mark_batch_inputs(inputs: list[EssayInput], model: CoverageModel,
                      on_progress: Callable[[int], object] | None = None) -> dict:
    """Mark a batch without storing it, keeping what the pages need: the inputs, one row per input, the shared passages."""
    rows = list(mark_inputs(inputs, model, on_progress=on_progress))
    return {"rubric": str(model.rubric.path), "inputs": inputs, "rows": rows, "pairs": shared_pairs(inputs, rows)}


def shared_pairs(inputs: Iterable[EssayInput], rows: Iterable[dict] = ()) -> list[ClassPair]:
    """Pairs of readable essays in the batch that share long passages, named by source."""
    return class_pairs({item.source: item.text for item in inputs if item.ok}, {row["source"]: row for row in rows})


def batch_table(rows: list[dict], rubric: Rubric) -> pd.DataFrame:
    """One row per input, failed ones included: who, what file, scores, each factor's level, flags.

    Rows of a stored session (`final_row`) also show the tutor's decisions beside the tool's:
    a changed factor reads "developed → mentioned", and "tutor's mark" and "comments" columns appear.
    """
    stored = any("tutor_levels" in row for row in rows)
    records = []
    for row in rows:
        record = {"student": row["student"], "source": row["source"], "status": row["status"]}
        ok = row["status"] == "ok"
        record["overall"] = row["overall"] if ok else None
        record["mark /20"] = row.get("tool_mark", row.get("mark_20")) if ok else None
        if stored:
            record["tutor's mark"] = row.get("tutor_mark")
        final = {f["id"]: f["level"] for f in row["factors"]} if ok else {}
        tool = row.get("tool_levels", final)
        for factor in rubric.factors:
            record[factor.name] = level_change(tool.get(factor.id), final.get(factor.id))
        record["copied"] = ("yes: " + str(row["copy"]["source"])) if ok and row["copy"]["flagged"] else ""
        record["warnings"] = " ".join(row["warnings"]) if ok else ""
        record["error"] = row["error"] or ""
        if stored:
            record["comments"] = " | ".join(row.get("comments", ()))
        records.append(record)
    columns = ["student", "source", "status", "overall", "mark /20", *(["tutor's mark"] if stored else []),
               *[f.name for f in rubric.factors], "copied", "warnings", "error", *(["comments"] if stored else [])]
    return pd.DataFrame.from_records(records, columns=columns)


def batch_column_order(table: pd.DataFrame, rubric: Rubric) -> list[str]:
    """Who, the marks and every factor first, so the factor columns show without scrolling sideways."""
    first = ["student", "source", "mark /20", "tutor's mark", *[f.name for f in rubric.factors]]
    return [c for c in first if c in table.columns] + [c for c in table.columns if c not in first]


def batch_column_config(rubric: Rubric) -> dict:
    """Narrow columns under short labels (a factor's full name on hover), so who, marks and factors fit one screen."""
    config = {
        "student": st.column_config.TextColumn("student", width=90, pinned=True),
        "source": st.column_config.TextColumn("source", width=105),
        "mark /20": st.column_config.NumberColumn("mark", format="%d", width=50, help="The tool's mark out of 20"),
        "tutor's mark": st.column_config.NumberColumn("tutor", format="%d", width=50, help="The tutor's mark out of 20, where set"),
        "overall": st.column_config.ProgressColumn("coverage %", min_value=0, max_value=100, format="%.0f", width=100),
    }
    for factor in rubric.factors:
        config[factor.name] = st.column_config.TextColumn(short_label(factor.name), width=100, help=factor.name)
    return config


def short_label(name: str, width: int = 14) -> str:
    """A factor's name cut to a narrow column header's width at a word boundary."""
    return textwrap.shorten(name, width, placeholder="…")


def table_height(rows: int) -> int:
    """Pixels for a dataframe that shows every row (header and 35 px a row) without scrolling inside it."""
    return 38 + 35 * max(rows, 1)


def heatmap(rows: list[dict], rubric: Rubric) -> alt.Chart:
    """Essays × factors, coloured by final level (the tutor's where set), so a tutor sees at a glance what the class missed."""
    cells = [
        {"essay": row["student"] or row["source"], "factor": f["name"],
         "level": LEVEL_NAMES[f["level"]], "score": f["score"]}
        for row in rows
        if row["status"] == "ok"
        for f in row["factors"]
    ]
    data = pd.DataFrame(cells, columns=["essay", "factor", "level", "score"])
    colours = alt.Scale(domain=list(LEVEL_NAMES), range=["#f4c7c3", "#f6c453", "#43a047"])
    return (
        alt.Chart(data)
        .mark_rect(stroke="white", strokeWidth=2)
        .encode(
            x=alt.X("factor:N", sort=[f.name for f in rubric.factors], title=None, axis=alt.Axis(orient="bottom", labelAngle=0, labelLimit=0, labelOverlap=False, labelPadding=6, labelExpr=_wrapped_labels([f.name for f in rubric.factors]))),
            y=alt.Y("essay:N", title=None, sort=None),
            color=alt.Color("level:N", scale=colours, title="Level"),
            tooltip=["essay", "factor", "level", alt.Tooltip("score:Q", format=".2f")],
        )
        .properties(height=heatmap_height(data["essay"].nunique()))
    )


def support_heatmap(support: CorpusSupport) -> alt.Chart:
    """Reference essays × factors, darker where more sentences make the point, with the count written in."""
    cells = pd.DataFrame(
        [
            {"essay": essay_id, "title": title, "factor": name, "sentences": int(support.counts[e, f]),
             "best score": float(support.max_scores[e, f])}
            for e, (essay_id, title) in enumerate(zip(support.essay_ids, support.essay_titles))
            for f, name in enumerate(support.factor_names)
        ]
    )
    x = alt.X("factor:N", sort=list(support.factor_names), title=None,
              axis=alt.Axis(orient="bottom", labelAngle=0, labelLimit=0, labelOverlap=False, labelPadding=6, labelExpr=_wrapped_labels(list(support.factor_names))))
    y = alt.Y("essay:N", sort=list(support.essay_ids), title=None)
    base = alt.Chart(cells).encode(x=x, y=y)
    tiles = base.mark_rect(stroke="white", strokeWidth=2).encode(
        color=alt.Color("sentences:Q", scale=alt.Scale(scheme="blues", domainMin=0), title="Sentences"),
        tooltip=["essay", "title", "factor", "sentences", alt.Tooltip("best score:Q", format=".2f")],
    )
    labels = base.mark_text(fontSize=13).encode(
        text="sentences:Q",
        color=alt.condition(alt.datum.sentences > max(1, int(support.counts.max()) // 2), alt.value("white"), alt.value("#1f2328")),
    )
    return (tiles + labels).properties(height=heatmap_height(len(support.essay_ids)))


def _wrapped_labels(names: list[str], width: int = 14) -> str:
    """A Vega expression that breaks long factor names over lines, so they fit above their column."""
    lines = {name: textwrap.wrap(name, width) for name in names}
    return f"{json.dumps(lines)}[datum.label] || datum.label"


def heatmap_height(essays: int) -> int:
    """Pixels for the heatmap: a readable band per essay, never a sliver."""
    return 120 + 40 * max(essays, 2)


def essay_label(item: EssayInput) -> str:
    return f"{item.student} ({item.source})" if item.student and item.student != Path(item.source).stem else item.source


def pairs_table(pairs: list[ClassPair], inputs: list[EssayInput], titles: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Shared-passage pairs with a short quote of the first shared passage, and the reference essay both copied, if any."""
    texts = {item.source: item.text for item in inputs}
    titles = titles or {}
    records = []
    for pair in pairs:
        first = pair.passages[0] if pair.passages else None
        quote = texts.get(pair.first, "")[first.start : first.end] if first else ""
        reference = ", ".join(titles.get(s, s) for s in pair.reference.split(", ")) if pair.reference else ""
        records.append({
            "first essay": pair.first,
            "second essay": pair.second,
            "shared words": pair.shared_words,
            "passages": len(pair.passages),
            "first shared passage": (quote[:160] + "…") if len(quote) > 160 else quote,
            "both copied reference essay": reference,
        })
    return pd.DataFrame.from_records(records, columns=["first essay", "second essay", "shared words", "passages", "first shared passage",
                                                       "both copied reference essay"])


@st.cache_resource(show_spinner="Reading the reference essays against the rubric…")
def corpus_support_cached(rubric_path: str) -> CorpusSupport:
    """The corpus analysis, once per rubric file (it reads every reference sentence)."""
    return corpus_support(cached_model(rubric_path))


# ------------------------------------------------------------------ marking sessions kept in the store
# A Store is one sqlite connection, not safe across threads: each script run opens its own
# (cheap) with `open_store()`, which honours $RUBRICATE_DB, and closes it at the end.
TUTOR_CHOICES = (None, 0, 1, 2)  # None: keep the tool's level


def mark_batch_into_session(inputs: list[EssayInput], model: CoverageModel, store: Store, name: str,
                            on_progress: Callable[[int], object] | None = None) -> dict:
    """Mark a batch into session `name` (models.marking, as the CLI's `batch --session`), kept as the page's batch."""
    rows = [row for _, row in mark_into_session(inputs, model, store, name, on_progress=on_progress)]
    return {"rubric": str(model.rubric.path), "inputs": inputs, "pairs": shared_pairs(inputs, rows), "session": name}


def batch_from_session(store: Store, name: str, rubric: Rubric) -> dict:
    """A stored session loaded back as the batch the page shows (after a refresh or a server restart)."""
    session = store.session(name)
    inputs = session_inputs(store, name)
    return {"rubric": session.rubric_path, "inputs": inputs, "pairs": shared_pairs(inputs, session_rows(store, name, rubric)),
            "session": name}


def session_label(summary: SessionSummary) -> str:
    incomplete = "" if summary.finished else " (incomplete: marking stopped part-way)"
    return f"{summary.name} — {plural(summary.essays, 'essay')}, {summary.created_at[:16].replace('T', ' ')}{incomplete}"


def level_change(tool: int | None, tutor: int | None) -> str:
    """A factor cell: the tool's level, or 'tool → tutor' where the tutor changed it."""
    if tool is None:
        return ""
    if tutor is None or tutor == tool:
        return LEVEL_NAMES[tool]
    return f"{LEVEL_NAMES[tool]} → {LEVEL_NAMES[tutor]}"


def thresholds_caption(model: CoverageModel, base: CoverageModel) -> str:
    scoring = model.scoring
    origin = "recalibrated from your corrections" if model is not base else "the rubric's own"
    return f"Thresholds in use ({origin}): point {scoring.point_threshold:g}, developed {scoring.developed_threshold:g}."


def agreement_table(result: TutorAgreement, rubric: Rubric) -> pd.DataFrame:
    """Per factor: how often the tool's level was the tutor's, and quadratic-weighted kappa."""
    records = [{"factor": f.name, "agreement %": round(100 * result.per_factor[f.id]["agreement"]),
                "kappa": round(result.per_factor[f.id]["kappa"], 2)} for f in rubric.factors]
    records.append({"factor": "all factors", "agreement %": round(100 * result.overall_agreement), "kappa": None})  # shown blank
    return pd.DataFrame.from_records(records, columns=["factor", "agreement %", "kappa"])


# ------------------------------------------------------------------ a student's drafts
def draft_history_table(drafts: list[Draft]) -> pd.DataFrame:
    return pd.DataFrame.from_records(
        [{"draft": n, "date": d.created_at[:16].replace("T", " "), "coverage %": round(d.result["overall"]),
          "mark /20": d.result["mark_20"]} for n, d in enumerate(drafts, start=1)],
        columns=["draft", "date", "coverage %", "mark /20"])


def draft_change_lines(change: DraftChange) -> list[str]:
    """Markdown lines saying which factors moved since the last draft."""
    lines = [f"- Gained: **{c.name}** ({LEVEL_NAMES[c.before]} → {LEVEL_NAMES[c.after]})" for c in change.gained]
    lines += [f"- Lost: **{c.name}** ({LEVEL_NAMES[c.before]} → {LEVEL_NAMES[c.after]})" for c in change.lost]
    return lines or ["- No factor changed level."]


# ------------------------------------------------------------------ the tutor's corrections
def _save_level(essay_id: int, factor_id: str, key: str) -> None:
    with open_store() as store:  # a callback runs on its own: it opens its own connection
        store.set_level_override(essay_id, factor_id, st.session_state[key])


def _save_mark(essay_id: int, key: str) -> None:
    with open_store() as store:
        store.set_mark_override(essay_id, st.session_state[key])


def _save_comment(essay_id: int, key: str) -> None:
    text = st.session_state[key].strip()
    if text:
        with open_store() as store:
            store.add_comment(essay_id, text)
        st.session_state[key] = ""  # cleared for the next comment; the saved one shows below


def render_tutor_marking(row: dict, rubric: Rubric) -> None:
    """The tutor's level per factor, mark and comments for one stored essay, each saved the moment it changes."""
    essay_id = row["essay_id"]
    tool = row["tool_levels"]
    with st.expander("Your marking (saved as you go)", expanded=True, icon=":material/rate_review:"):
        st.caption("Leave a factor on the tool's value to accept it. Your choices are kept in the marking database at once.")
        columns = st.columns(3)
        for n, factor in enumerate(rubric.factors):
            key = f"tutor-level-{essay_id}-{factor.id}"
            current = row["tutor_levels"].get(factor.id)
            columns[n % 3].selectbox(
                factor.name, TUTOR_CHOICES, index=TUTOR_CHOICES.index(current), key=key,
                format_func=lambda level, t=tool.get(factor.id): f"tool's value ({LEVEL_NAMES[t]})" if level is None else LEVEL_NAMES[level],
                on_change=_save_level, args=(essay_id, factor.id, key),
            )
        mark_key = f"tutor-mark-{essay_id}"
        marks = (None, *range(21))
        st.selectbox("Mark /20", marks, index=marks.index(row["tutor_mark"]), key=mark_key,
                     format_func=lambda m: f"tool's mark ({row['tool_mark']})" if m is None else str(m),
                     on_change=_save_mark, args=(essay_id, mark_key))
        for text in row["comments"]:
            st.markdown(f"> {quote_markdown(text)}")
        comment_key = f"tutor-comment-{essay_id}"
        st.text_area("Add a comment for the student", key=comment_key, height=80)
        st.button("Save comment", key=f"save-comment-{essay_id}", on_click=_save_comment, args=(essay_id, comment_key),
                  icon=":material/add_comment:")
