"""Marking sessions in the app: a tutor marks a batch, corrects it, refreshes, and loses nothing.

Each test uses its own SQLite file ($RUBRICATE_DB in tmp_path); a new AppTest is a new browser
session on a fresh script run, as after a refresh or a server restart.
"""
from __future__ import annotations

import csv
import io
import zipfile
import pytest
from streamlit.testing.v1 import AppTest
from test_app_pages import app, essay  # the same app and devset essays as the pages' specification

from app import batches, tables, widgets
from models.exports import export_columns, export_table, feedback_zip, table_bytes
from models.marking import session_rows, unique_session_name
from models.reader import read_essay_bytes
from models.sessions import calibrated_model, calibration_in_words
from models.store import draft_owner, open_store


@pytest.fixture
def db(tmp_path, monkeypatch):
    path = tmp_path / "marks.sqlite3"
    monkeypatch.setenv("RUBRICATE_DB", str(path))
    return path


def class_set(*names: str):
    return [item for n, name in enumerate(names) for item in read_essay_bytes(f"student{n + 1}.txt", essay(name).encode())]


def batch_page() -> AppTest:
    return app().switch_page("views/batch.py")  # `model` below is conftest's, fitted once per test session


def marked_session(model, name: str, *essays: str) -> None:
    """What pressing "Mark essays" does, without the file uploader AppTest cannot drive."""
    with open_store() as store:
        batches.mark_batch_into_session(class_set(*essays), model, store, name)


def reopened(name: str) -> AppTest:
    """A fresh browser session that reopens session `name` from the selector."""
    at = batch_page().run()
    selector = at.selectbox(key="reopen_session")
    selector.select(next(o for o in selector.options if o.startswith(f"{name} —"))).run()
    [b for b in at.button if b.label == "Reopen"][0].click().run()
    assert not at.exception
    return at


def factor_select(at: AppTest, factor_id: str):
    return next(s for s in at.selectbox if s.key and s.key.startswith("tutor-level-") and s.key.endswith(f"-{factor_id}"))


# ------------------------------------------------------------------ saving and reopening
def test_a_marked_batch_is_saved_as_a_named_session_essay_by_essay(db, model):
    marked_session(model, "Y13 mock", "d01.txt", "d02.txt")
    with open_store(db) as store:
        (summary,) = store.sessions()
        essays = store.essays(store.session("Y13 mock").id)
    assert (summary.name, summary.essays) == ("Y13 mock", 2)
    assert [e.source for e in essays] == ["student1.txt", "student2.txt"]
    assert essays[0].result["mark_20"] == model.score(class_set("d01.txt")[0].text).mark_20


def test_a_taken_session_name_gets_a_number_instead_of_failing(db, model):
    marked_session(model, "Y13 mock", "d01.txt")
    with open_store(db) as store:
        assert unique_session_name(store, "Y13 mock") == "Y13 mock (2)"
        assert unique_session_name(store, "Y12 mock") == "Y12 mock"


def test_the_batch_page_offers_a_default_session_name_and_shows_the_database(db):
    at = batch_page().run()
    assert not at.exception
    assert at.text_input(key="session_name").value.startswith("Batch ")
    assert any(str(db) in c.value for c in at.caption)


def test_a_new_browser_session_reopens_a_session_with_every_essay(db, model):
    marked_session(model, "Y13 mock", "d01.txt", "d02.txt", "d03.txt")
    at = reopened("Y13 mock")
    table = at.dataframe[0].value
    assert list(table["source"]) == ["student1.txt", "student2.txt", "student3.txt"]
    assert "Results: 3 marked" in at.subheader[0].value
    expected = model.score(class_set("d03.txt")[0].text)
    assert list(table["mark /20"])[2] == expected.mark_20
    assert at.selectbox(key="batch_essay").options == ["student1.txt", "student2.txt", "student3.txt"]


# ------------------------------------------------------------------ the tutor's corrections
def test_a_level_override_set_in_the_page_is_stored_and_shown_beside_the_tools(db, model):
    marked_session(model, "Y13 mock", "d01.txt", "d02.txt")
    at = reopened("Y13 mock")
    factor = model.rubric.factors[0]
    tool_level = model.score(class_set("d01.txt")[0].text).factor(factor.id).level
    new_level = 0 if tool_level else 2
    factor_select(at, factor.id).set_value(new_level).run()
    assert not at.exception
    with open_store(db) as store:
        first = store.essays(store.session("Y13 mock").id)[0]
    assert first.overrides == {factor.id: new_level}
    names = ("absent", "mentioned", "developed")
    assert at.dataframe[0].value[factor.name][0] == f"{names[tool_level]} → {names[new_level]}"


def test_a_mark_override_reaches_the_table_and_the_exported_csv(db, model):
    marked_session(model, "Y13 mock", "d01.txt", "d02.txt")
    at = reopened("Y13 mock")
    next(s for s in at.selectbox if s.key and s.key.startswith("tutor-mark-")).set_value(17).run()
    assert not at.exception
    assert at.dataframe[0].value["tutor's mark"][0] == 17
    assert "Download table (CSV)" in [b.proto.label for b in at.get("download_button")]
    with open_store(db) as store:  # what that button serves (AppTest keeps no download bytes)
        records = export_table(session_rows(store, "Y13 mock", model.rubric), model.rubric)
    exported = table_bytes(records, export_columns(model.rubric), ".csv")
    rows = list(csv.DictReader(io.StringIO(exported.decode("utf-8-sig"))))
    assert rows[0]["tutor's mark"] == "17" and rows[0]["mark /20"] == "17"
    assert rows[1]["tutor's mark"] == ""


def test_a_comment_persists_after_a_refresh_and_travels_in_the_exports(db, model):
    marked_session(model, "Y13 mock", "d01.txt", "d02.txt")
    at = reopened("Y13 mock")
    next(t for t in at.text_area if t.key and t.key.startswith("tutor-comment-")).input("Good use of the Testament.")
    next(b for b in at.button if b.label == "Save comment").click().run()
    assert not at.exception

    again = reopened("Y13 mock")  # a refresh: nothing of the first browser session survives but the store
    assert again.dataframe[0].value["comments"][0] == "Good use of the Testament."
    assert any("Good use of the Testament." in m.value for m in again.markdown)
    with open_store(db) as store:
        rows = session_rows(store, "Y13 mock", model.rubric)
    archive = zipfile.ZipFile(io.BytesIO(feedback_zip(rows, [i.text for i in class_set("d01.txt", "d02.txt")], model.rubric)))
    assert "Good use of the Testament." in archive.read("feedback-student1.html").decode()
    assert "Your tutor" not in archive.read("feedback-student2.html").decode()


# ------------------------------------------------------------------ agreement and recalibration
def test_agreement_and_recalibration_show_before_and_after(db, model):
    marked_session(model, "Y13 mock", *[f"d{n:02d}.txt" for n in range(1, 11)])  # recalibrating needs 10 reviewed essays
    factor = model.rubric.factors[0]
    with open_store(db) as store:
        essays = store.essays(store.session("Y13 mock").id)
        for stored in essays:  # the tutor thinks no essay developed the first factor
            store.set_level_override(stored.id, factor.id, 0)
    at = reopened("Y13 mock")
    agreement = at.dataframe[-1].value
    assert list(agreement["factor"]) == [f.name for f in model.rubric.factors] + ["all factors"]
    assert any("rubric's own" in c.value for c in at.caption)

    next(b for b in at.button if b.label == "Recalibrate thresholds from my corrections").click().run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert "Agreement before" in metrics and "Agreement after" in metrics
    assert int(metrics["Agreement after"].rstrip("%")) >= int(metrics["Agreement before"].rstrip("%"))
    with open_store(db) as store:
        tuned = calibrated_model(store, model)
    assert tuned is not model
    assert any("recalibrated from your corrections" in c.value and calibration_in_words(tuned) in c.value for c in at.caption)


def test_recalibrating_is_only_offered_after_ten_reviewed_essays_and_says_why(db, model):
    marked_session(model, "Y13 mock", "d01.txt", "d02.txt")
    with open_store(db) as store:
        store.add_comment(store.essays(store.session("Y13 mock").id)[0].id, "Fine.")
    at = reopened("Y13 mock")
    assert not [b for b in at.button if b.label == "Recalibrate thresholds from my corrections"]
    assert any("at least 10 reviewed essays" in c.value and "you have reviewed 1" in c.value for c in at.caption)


def test_recalibrating_from_too_few_reviewed_essays_is_refused_with_the_reason(db, model):
    from models.errors import RubricateError
    from models.sessions import recalibrate

    marked_session(model, "Y13 mock", "d01.txt", "d02.txt")
    with open_store(db) as store:
        store.add_comment(store.essays(store.session("Y13 mock").id)[0].id, "Fine.")
        with pytest.raises(RubricateError, match="at least 10 essays; 1 reviewed so far"):
            recalibrate(store, "Y13 mock", model)


# ------------------------------------------------------------------ a student's drafts
def kept_draft(text: str, key: str | None = None) -> AppTest:
    """A student checks an essay with "Keep my drafts" ticked; `key`: the private key from an earlier draft (in the URL)."""
    at = app()
    if key:
        at.query_params["draft"] = key
    at.run()
    at.checkbox(key="keep_drafts").check()
    at.text_area(key="essay_text").input(text)
    at.button[0].click().run()
    assert not at.exception
    return at


def test_a_second_draft_under_the_same_key_shows_factors_gained_and_the_history(db, model):
    short = "Stalin became General Secretary in 1922 and used the post to appoint his supporters to party jobs. " * 2
    full = essay("d01.txt")
    at = kept_draft(short)
    assert any("first draft" in c.value for c in at.caption)
    key = at.code[0].value  # the private key the page gives with the first kept draft

    later = kept_draft(full, key)  # the next lesson, a new browser session on the bookmarked address
    before, after = model.score(short), model.score(full)
    gained = [f for f in after.factors if f.level > before.factor(f.id).level]
    assert gained
    shown = "\n".join(m.value for m in later.markdown)
    for factor in gained:
        assert f"Gained: **{factor.name}**" in shown
    history = later.dataframe[-1].value
    assert list(history["mark /20"]) == [before.mark_20, after.mark_20]


def test_a_students_drafts_cannot_be_read_with_only_their_name(db, model):
    at = kept_draft(essay("d01.txt"))
    key = at.code[0].value
    with open_store(db) as store:
        assert store.drafts(draft_owner(key), model.rubric.id)
        for guess in ("ali-13b", "Ali", "student1", ""):
            assert store.drafts(guess, model.rubric.id) == [] and store.drafts(draft_owner(guess), model.rubric.id) == []
        assert key not in store._conn.execute("SELECT group_concat(student_key) FROM drafts").fetchone()[0]
    stranger = app()
    stranger.query_params["draft"] = "ali-13b"
    stranger.run()
    assert not stranger.exception
    assert not stranger.dataframe and any("No drafts are kept under this key" in i.value for i in stranger.info)


def test_the_student_page_never_shows_the_database_path(db):
    at = kept_draft(essay("d01.txt"))
    shown = [e.value for kind in (at.caption, at.markdown, at.info, at.code) for e in kind]
    assert shown and not any(str(db) in text or str(db.parent) in text for text in shown)


def test_a_lost_factor_is_named_between_drafts(model):
    full = model.score(essay("d01.txt")).to_dict()
    short = model.score("Stalin became General Secretary in 1922 and appointed his supporters. " * 2).to_dict()
    from models.store import draft_changes

    lines = widgets.draft_change_lines(draft_changes(full, short))
    assert any(line.startswith("- Lost: **") for line in lines)


def test_feedback_without_keeping_drafts_keeps_no_draft(db):
    at = app().run()
    at.text_area(key="essay_text").input(essay("d01.txt"))
    at.button[0].click().run()
    assert not at.exception
    assert not any(s.value == "Your drafts" for s in at.subheader)


# ------------------------------------------------------------------ the tutor's word everywhere
def test_the_feedback_under_the_tutor_panel_shows_the_tutors_level_and_mark(db, model):
    marked_session(model, "Y13 mock", "d11.txt")
    with open_store(db) as store:
        (stored,) = store.essays(store.session("Y13 mock").id)
        store.set_level_override(stored.id, "testament", 2)
        store.set_mark_override(stored.id, 16)
    at = reopened("Y13 mock")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Tutor's mark"] == "16 / 20" and "Mark estimate" not in metrics
    shown = "\n".join(m.value for m in at.markdown)
    assert ":green-badge[developed] :gray[(the tool said absent)]" in shown
    assert ":gray[level set by the tutor]" in shown  # in place of the tool's score for "absent"
    assert not any(e.label == "What moved the mark estimate" for e in at.expander)  # the mark is the tutor's, not the tool's
    assert not any("Lenin's Testament" in w.value for w in at.warning)
    assert not any(e.label.startswith("Lenin's Testament") for e in at.expander)


def test_the_coverage_page_counts_the_tutors_levels_for_the_chosen_session(db, model):
    marked_session(model, "Y13 mock", "d11.txt", "d02.txt")
    with open_store(db) as store:
        stored = store.essays(store.session("Y13 mock").id)
        store.set_level_override(stored[0].id, "testament", 2)
    at = app().switch_page("views/coverage.py").run()
    at.selectbox(key="coverage_session").select("Y13 mock").run()
    assert not at.exception
    shown = "\n".join(m.value for m in at.markdown)
    assert "Lenin's Testament: absent in **1** of 2" in shown  # the tool had it absent in both


def test_a_reload_of_the_batch_pages_url_reopens_its_session(db, model):
    marked_session(model, "Y13 mock", "d01.txt", "d02.txt")
    at = batch_page()
    at.query_params["session"] = "Y13 mock"
    at.run()
    assert not at.exception
    assert "Results: 2 marked" in at.subheader[0].value
    assert list(at.dataframe[0].value["source"]) == ["student1.txt", "student2.txt"]


def test_names_put_into_markdown_cannot_make_links_or_images(db, model):
    hostile = "![x](http://127.0.0.1:8765/p.png) [click me](http://evil.example)"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(f"{hostile}.txt", b"")
        archive.writestr("fine.txt", essay("d01.txt").encode())
    with open_store() as store:
        batches.mark_batch_into_session(read_essay_bytes("class.zip", buffer.getvalue()), model, store, hostile)
    at = batch_page()
    at.query_params["session"] = hostile
    at.run()
    assert not at.exception
    shown = [w.value for w in at.warning] + [c.value for c in at.caption]
    assert any("could not be marked" in text for text in shown) and any("Session **" in text for text in shown)
    for text in shown:
        assert "](" not in text and "![" not in text and "http://" not in text
        assert "\\!\\[x\\]\\(http\\:\\/\\/127.0.0.1" in text if "127.0.0.1" in text else True


# ------------------------------------------------------------------ a table a tutor can read
def test_the_batch_table_shows_every_row_factors_first_and_no_literal_none(db, model):
    marked_session(model, "Y13 mock", "d01.txt", "d02.txt", "d03.txt")
    at = reopened("Y13 mock")
    table = at.dataframe[0]
    order = list(table.proto.column_order)
    assert order[:4] == ["student", "source", "mark /20", "tutor's mark"]
    assert order[4:4 + len(model.rubric.factors)] == [f.name for f in model.rubric.factors]
    assert table.proto.HasField("placeholder") and table.proto.placeholder == ""  # a missing value shows blank, not "None"
    assert tables.table_height(30) >= 35 * 31  # every row shown, no scrolling inside the table
    assert all(d.proto.HasField("placeholder") for d in at.dataframe)
    assert any(s.value == "Results: 3 marked" for s in at.subheader)
    assert "Stalin's role…" == tables.short_label("Stalin's role as General Secretary")
