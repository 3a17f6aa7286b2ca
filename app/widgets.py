"""Widgets the pages share: one essay's feedback, the tutor's marking panel, and user strings made safe for Markdown.

No scoring happens here: the engine returns reports, and these functions only turn them into widgets.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import streamlit as st

from models.engine import CoverageModel
from models.exports import report_file_name
from models.feedback_html import ESSAY_CSS, highlighted_essay_html, legend_html, render_feedback_html
from models.reader import EssayInput
from models.report import LEVEL_NAMES, MARK_TRACE_EXPLAINED, WORDING_EXPLAINED, Report, improvement_advice, mark_band_advice, mark_trace_lines
from models.review import TutorReview
from models.rubric import Rubric
from models.sessions import calibration_in_words
from models.store import DraftChange, SessionSummary, open_store


PROSE_MARKS = ".,'\"?;"  # left as they are in user strings: they form no Markdown once the rest is escaped


LEVEL_BADGES = {0: ":red-badge[absent]", 1: ":orange-badge[mentioned]", 2: ":green-badge[developed]"}


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


# A browser sends an uploaded file's name with three characters escaped (the HTML standard's multipart/form-data
# encoding): " as %22, CR as %0D and LF as %0A. Streamlit hands the name on as sent.
_FORM_DATA_ESCAPES = {"%22": '"', "%0D": "\r", "%0A": "\n"}
_FORM_DATA_ESCAPE = re.compile("|".join(_FORM_DATA_ESCAPES))


def uploaded_name(sent: str) -> str:
    """The name the user gave the file they uploaded (`UploadedFile.name`), not its form-data escape:
    'sam "the man".txt' is shown and exported as that, not as 'sam %22the man%22.txt'."""
    return _FORM_DATA_ESCAPE.sub(lambda escape: _FORM_DATA_ESCAPES[escape.group()], sent)


def plural(n: int, word: str) -> str:
    """ "1 essay", "2 essays"."""
    return f"{n} {word}{'' if n == 1 else 's'}"


MARK_ESTIMATE_HELP = ("Estimated from the factor levels below and from how the essay explains and weighs them (its linking "
                      "and judgement language and its wording, learned from essays examiners marked by the codebook's bands). "
                      "A guide to the band, not a grade: text copied from the rubric or repeated earns nothing here.")


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
    tutor_marked = review is not None and review.tutor_mark is not None
    if tutor_marked:
        mark.metric("Tutor's mark", f"{report.mark_20} / 20", help=f"The tool said {review.tool_mark}." if review.mark_changed else None)
    else:
        mark.metric("Mark estimate", f"{report.mark_20} / 20", help=MARK_ESTIMATE_HELP)
    length.metric("Words", report.word_count)
    if report.wording or report.mark_trace:  # a tutor's mark has neither: `review.final_report` drops them
        render_mark_trace(report)

    st.subheader("Factors")
    st.caption("Each factor of the question: absent, mentioned (the point is made once), or developed (made and explained).")
    for factor in report.factors:
        name_col, level_col, score_col = st.columns([5, 2, 3])
        name_col.markdown(f"**{factor.name}**")
        said = f" :gray[(the tool said {LEVEL_NAMES[review.tool_levels[factor.id]]})]" if review and review.changed(factor.id) else ""
        level_col.markdown(LEVEL_BADGES[factor.level] + said)
        if review and review.changed(factor.id):
            score_col.markdown(":gray[level set by the tutor]")  # the tool's score would contradict the tutor's level
        else:
            score_col.progress(float(factor.score), text=f"score {factor.score:.2f}")

    st.subheader("The essay, with its evidence")
    st.caption("Sentences that make a factor's point are highlighted in that factor's colour. Hover over one to see which factor it supports.")
    if report.copy.flagged:
        st.error(f"Parts of this essay repeat a reference essay word for word ({markdown_text(copied_title(report, titles))}); they are underlined in red.", icon=":material/flag:")
    st.html(f"<style>{ESSAY_CSS}</style>{legend_html(report)}{highlighted_essay_html(report, essay)}")

    to_improve = [f for f in report.factors if f.level < 2 and f.suggestion]
    st.subheader("How to improve")
    st.info(mark_band_advice(report.mark_20, estimated=not tutor_marked), icon=":material/school:")
    if not to_improve:
        st.success("Every factor is developed. Well done.")
    for factor in to_improve:
        with st.expander(f"{factor.name} — {LEVEL_NAMES[factor.level]}", expanded=True):
            st.markdown(improvement_advice(factor))
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


def render_mark_trace(report: Report) -> None:
    """The mark estimate added up part by part, and the sentences whose wording moved it most each way, so the
    estimate can be traced to the text."""
    with st.expander("What moved the mark estimate", icon=":material/info:"):
        if report.mark_trace is not None:
            st.caption(MARK_TRACE_EXPLAINED)
            rows = "".join(f"| {markdown_text(what)} | {marks} |\n" for what, marks in mark_trace_lines(report))
            st.markdown(f"| Where it comes from | Marks |\n|---|---:|\n{rows}")
        if not report.wording:
            return
        st.caption(WORDING_EXPLAINED)
        for effect in report.wording:
            direction = ":green[raised it by" if effect.marks > 0 else ":red[lowered it by"
            st.markdown(f"> {quote_markdown(effect.text)}\n\n{direction} {abs(effect.marks):.1f}]")


def copied_title(report: Report, titles: Mapping[str, str]) -> str:
    """The reference essay a flagged essay copies, by title where known."""
    passages = report.copy.passages
    return titles.get(passages[0].source, report.copy.source or "") if passages else (report.copy.source or "")


def essay_label(item: EssayInput) -> str:
    return f"{item.student} ({item.source})" if item.student and item.student != Path(item.source).stem else item.source


def session_label(summary: SessionSummary) -> str:
    incomplete = "" if summary.finished else " (incomplete: marking stopped part-way)"
    return f"{summary.name} — {plural(summary.essays, 'essay')}, {summary.created_at[:16].replace('T', ' ')}{incomplete}"


def thresholds_caption(model: CoverageModel, base: CoverageModel) -> str:
    origin = "recalibrated from your corrections" if model is not base else "the rubric's own"
    return f"Thresholds in use ({origin}): {calibration_in_words(model)}."


def draft_change_lines(change: DraftChange) -> list[str]:
    """Markdown lines saying which factors moved since the last draft."""
    lines = [f"- Gained: **{c.name}** ({LEVEL_NAMES[c.before]} → {LEVEL_NAMES[c.after]})" for c in change.gained]
    lines += [f"- Lost: **{c.name}** ({LEVEL_NAMES[c.before]} → {LEVEL_NAMES[c.after]})" for c in change.lost]
    return lines or ["- No factor changed level."]


# A Store is one sqlite connection, not safe across threads: each script run opens its own
# (cheap) with `open_store()`, which honours $RUBRICATE_DB, and closes it at the end.
TUTOR_CHOICES = (None, 0, 1, 2)  # None: keep the tool's level


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
