"""The Streamlit pages, driven headless with AppTest, and the batch helpers the pages render with."""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from app import batches, charts, loading, tables, widgets
from models.coverage_report import batch_coverage
from models.engine import load_model
from models.exports import export_columns, export_table, feedback_zip, table_bytes
from models.reader import essay_from_text, read_essay_bytes
from models.report import mark_trace_lines

ROOT = Path(__file__).resolve().parent.parent
DEVSET = ROOT / "data" / "devset" / "essays"
MAIN = str(ROOT / "app" / "main.py")
TIMEOUT = 120  # AppTest's bound for one script run, generous for the first model fit


def essay(name: str) -> str:
    return (DEVSET / name).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def model():
    return load_model()


@pytest.fixture(scope="module")
def two_essays_and_a_png():
    return (
        read_essay_bytes("alice.txt", essay("d01.txt").encode())
        + read_essay_bytes("bob.txt", essay("d02.txt").encode())
        + read_essay_bytes("photo.png", b"\x89PNG\r\n\x1a\n" + bytes(64))
    )


def app() -> AppTest:
    return AppTest.from_file(MAIN, default_timeout=TIMEOUT)


def feedback_page(text: str) -> AppTest:
    """The student page after pasting `text` and asking for feedback (without an exception)."""
    at = app().run()
    at.text_area(key="essay_text").input(text)
    at.button[0].click().run()
    assert not at.exception
    return at


def page_after_marking(page: str, inputs, model) -> AppTest:
    """A page run with `inputs` already marked as the session's batch, as the batch page leaves it."""
    at = app()
    at.session_state[batches.BATCH_KEY] = batches.mark_batch_inputs(inputs, model)
    return at.switch_page(page).run()


def all_markdown(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def test_page_opened_first_by_its_own_url_keeps_the_sidebar_and_the_page():
    # A fresh AppTest, like a fresh server, runs a page before main.py has ever run.
    at = app().switch_page("views/batch.py").run()
    assert not at.exception
    assert at.title[0].value == "Mark a batch of essays"
    assert at.selectbox(key=loading.RUBRIC_KEY)


# ------------------------------------------------------------------ student page
def test_sidebar_lists_the_questions_of_the_rubrics_found(model):
    at = app().run()
    assert not at.exception
    selector = at.selectbox(key=loading.RUBRIC_KEY)
    assert model.rubric.question in selector.options  # shown by question text, not file name


def test_pasted_essay_gets_metrics_and_a_status_for_every_factor(model):
    at = app().run()
    at.text_area(key="essay_text").input(essay("d01.txt"))
    at.button[0].click().run()
    assert not at.exception
    report = model.score(essay_from_text(essay("d01.txt")).text)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Coverage of the rubric"] == f"{report.overall:.0f}%"
    assert metrics["Mark estimate"] == f"{report.mark_20} / 20"
    (estimate,) = [m for m in at.metric if m.label == "Mark estimate"]
    assert "explains and weighs" in estimate.help and "not a grade" in estimate.help  # what the estimate reads, and what it is not
    shown = all_markdown(at)
    assert report.wording and any(e.label == "What moved the mark estimate" for e in at.expander)
    for effect in report.wording:  # each sentence the estimate moved on, with how far
        assert widgets.quote_markdown(effect.text) in shown and f"{abs(effect.marks):.1f}]" in shown
    for what, marks in mark_trace_lines(report):  # the estimate added up: an average essay, each part, the estimate
        assert f"| {widgets.markdown_text(what)} | {marks} |" in shown
    for factor in report.factors:
        assert f"**{factor.name}**" in shown
        assert widgets.LEVEL_BADGES[factor.level] in shown
    assert len(at.get("download_button")) == 1


def test_factors_below_developed_get_their_guidance(model):
    text = "Stalin became General Secretary in 1922 and used the post to appoint his supporters to party jobs. " * 2
    at = feedback_page(text)
    report = model.score(essay_from_text(text).text)
    shown = all_markdown(at)
    missing = [f for f in report.factors if f.level < 2]
    assert missing
    for factor in missing:
        assert factor.suggestion.guidance in shown
    assert any(w.value == report.warnings[0] for w in at.warning)  # a short essay is warned about


def test_pasted_markup_reaches_the_page_escaped():
    text = "Stalin was General Secretary <script>alert(1)</script> and appointed his supporters. <img src=x onerror=alert(1)> " * 3
    at = feedback_page(text)
    (essay_html,) = [h.proto.body for h in at.get("html")]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in essay_html and "<script>" not in essay_html
    assert "&lt;img src=x onerror=alert(1)&gt;" in essay_html and "<img" not in essay_html


def test_empty_paste_says_what_is_wrong_instead_of_feedback():
    at = app().run()
    at.button[0].click().run()
    assert not at.exception
    assert at.error and "pasted text" in at.error[0].value
    assert not at.metric


# ------------------------------------------------------------------ batch page
def test_batch_page_without_a_batch_invites_an_upload():
    at = app().switch_page("views/batch.py").run()
    assert not at.exception
    assert "No batch marked yet" in at.info[0].value


def test_batch_page_shows_every_input_including_the_failed_one(model, two_essays_and_a_png):
    at = page_after_marking("views/batch.py", two_essays_and_a_png, model)
    assert not at.exception
    table = at.dataframe[0].value
    assert list(table["source"]) == ["alice.txt", "bob.txt", "photo.png"]
    assert "2 marked, 1 could not be read" in at.subheader[0].value
    assert "photo.png" in at.warning[0].value
    assert [b.label for b in at.get("download_button")][:3] == [
        "Download table (CSV)", "Download table (Excel)", "Feedback reports (.zip of HTML)"]
    assert at.selectbox(key="batch_essay").options == ["alice.txt", "bob.txt"]  # the unreadable file has no feedback to open


def test_choosing_an_essay_in_the_batch_opens_its_feedback(model, two_essays_and_a_png):
    at = page_after_marking("views/batch.py", two_essays_and_a_png, model)
    at.selectbox(key="batch_essay").set_value(1).run()
    assert not at.exception
    bob = model.score(two_essays_and_a_png[1].text)
    assert {m.label: m.value for m in at.metric}["Mark estimate"] == f"{bob.mark_20} / 20"


def test_batch_table_has_a_row_per_input_with_levels_and_errors(model, two_essays_and_a_png):
    rows = batches.mark_batch_inputs(two_essays_and_a_png, model)["rows"]
    table = tables.batch_table(rows, model.rubric)
    assert len(table) == 3
    alice = table.iloc[0]
    report = model.score(two_essays_and_a_png[0].text)
    assert alice["overall"] == report.overall and alice["mark /20"] == report.mark_20
    for factor in report.factors:
        assert alice[factor.name] == factor.level_name
    failed = table.iloc[2]
    assert failed["status"] == "error" and "photo.png" in failed["error"]
    assert pd.isna(failed["overall"])


def test_progress_is_reported_for_every_input(model, two_essays_and_a_png):
    seen = []
    batches.mark_batch_inputs(two_essays_and_a_png, model, on_progress=seen.append)
    assert sum(seen) == len(two_essays_and_a_png)


def test_excel_download_reads_back_as_the_table(model, two_essays_and_a_png):
    table = export_table(batches.mark_batch_inputs(two_essays_and_a_png, model)["rows"], model.rubric)
    back = pd.read_excel(io.BytesIO(table_bytes(table, export_columns(model.rubric), ".xlsx")))
    assert list(back.columns) == export_columns(model.rubric)
    assert list(back["source"]) == [record["source"] for record in table]


def test_feedback_zip_has_one_report_per_readable_essay_with_unique_names(model):
    same_name = read_essay_bytes("essay.txt", essay("d01.txt").encode()) * 2
    rows = batches.mark_batch_inputs(same_name, model)["rows"]
    archive = zipfile.ZipFile(io.BytesIO(feedback_zip(rows, [item.text for item in same_name], model.rubric)))
    assert sorted(archive.namelist()) == ["feedback-essay-2.html", "feedback-essay.html"]
    assert archive.read("feedback-essay.html").decode().startswith("<!DOCTYPE html>")


def test_students_sharing_a_paragraph_are_paired(model):
    shared = essay("d01.txt").split("\n\n")[2]
    inputs = read_essay_bytes("ann.txt", (essay("d02.txt") + "\n\n" + shared).encode()) + read_essay_bytes(
        "ben.txt", (essay("d04.txt") + "\n\n" + shared).encode())
    pairs = batches.shared_pairs(inputs)
    assert [(p.first, p.second) for p in pairs] == [("ann.txt", "ben.txt")]
    table = tables.pairs_table(pairs, inputs)
    assert table.iloc[0]["shared words"] >= 40
    assert table.iloc[0]["first shared passage"][:30] in shared


def test_heatmap_has_a_cell_per_marked_essay_and_factor(model, two_essays_and_a_png):
    rows = batches.mark_batch_inputs(two_essays_and_a_png, model)["rows"]
    data = charts.heatmap(rows, model.rubric).data
    assert len(data) == 2 * len(model.rubric.factors)
    assert set(data["essay"]) == {"alice", "bob"}


def test_heatmap_hover_says_the_tutor_set_a_level_instead_of_the_tools_score(model, two_essays_and_a_png):
    rows = batches.mark_batch_inputs(two_essays_and_a_png, model)["rows"]
    first = rows[0]
    factor = first["factors"][0]
    first.update(tool_levels={f["id"]: f["level"] for f in first["factors"]}, tutor_levels={factor["id"]: (factor["level"] + 1) % 3},
                 tool_mark=first["mark_20"], tutor_mark=None, comments=[])  # as a stored session's row carries them
    data = charts.heatmap(rows, model.rubric).data
    cell = data[(data["essay"] == "alice") & (data["factor"] == factor["name"])].iloc[0]
    assert cell["score"] == "set by the tutor"
    assert data[data["essay"] == "bob"]["score"].str.fullmatch(r"\d\.\d\d").all()


def test_marks_histogram_has_one_bar_per_mark_from_0_to_20_counting_the_essays():
    data = charts.marks_histogram([12, 12, 3, 20, 0]).data
    assert list(data["mark"]) == list(range(21))
    assert dict(zip(data["mark"], data["essays"]))[12] == 2
    assert data["essays"].sum() == 5 and data["essays"][[0, 3, 20]].tolist() == [1, 1, 1]


# ------------------------------------------------------------------ coverage page
def test_coverage_page_renders_the_corpus_support_matrix(model):
    at = app().switch_page("views/coverage.py").run()
    assert not at.exception
    matrix = at.dataframe[0].value
    assert list(matrix.columns) == [f.name for f in model.rubric.factors]
    assert len(matrix) == len(model.corpus.essays)
    assert "Mark a batch" in at.info[0].value


def test_coverage_page_reports_the_last_batch(model, two_essays_and_a_png):
    at = page_after_marking("views/coverage.py", two_essays_and_a_png, model)
    assert not at.exception
    assert any("2 essays marked" in c.value for c in at.caption)
    rows = batches.mark_batch_inputs(two_essays_and_a_png, model)["rows"]
    missed = batch_coverage(rows, model.rubric.factor_ids, [f.name for f in model.rubric.factors]).most_missed()
    assert missed, "the two devset essays leave factors out"
    for name, absent in missed:
        assert f"- {name}: absent in **{absent}** of 2" in all_markdown(at)


def test_reference_excerpts_are_labelled_by_the_reference_essays_title(model):
    text = "Stalin became General Secretary in 1922 and used the post to appoint his supporters to party jobs. " * 2
    at = feedback_page(text)
    shown = all_markdown(at)
    assert "reference essay ref" not in shown
    assert any(f"*— {widgets.markdown_text(e.title)}*" in shown for e in model.corpus.essays)


def test_an_uploaded_file_keeps_the_name_its_owner_gave_it_not_the_browser_s_escape_of_it():
    # Browsers send " as %22 and line breaks as %0D / %0A in an upload's name (the HTML standard's form-data encoding).
    assert widgets.uploaded_name('sam %22the man%22 jones.txt') == 'sam "the man" jones.txt'
    assert widgets.uploaded_name("=HYPERLINK(%22x%22).txt") == '=HYPERLINK("x").txt'
    assert widgets.uploaded_name("a%0Ab.txt") == "a\nb.txt"  # then shown as "a?b.txt", like any control character
    (essay,) = read_essay_bytes(widgets.uploaded_name("a%0Ab.txt"), b"Stalin was General Secretary.")
    assert essay.source == "a?b.txt"
    assert widgets.uploaded_name("100%25 sure.txt") == "100%25 sure.txt"  # no other escape is the browser's
