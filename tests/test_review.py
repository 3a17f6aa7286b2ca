"""The tutor's word is final: every rendering of a reviewed essay shows the tutor's level and mark, and the tool's once."""
from __future__ import annotations

from conftest import devset_essay as devset
from models.coverage_report import batch_coverage
from models.exports import report_html
from models.feedback_html import render_feedback_html
from models.marking import mark_into_session, session_rows
from models.reader import read_essay_bytes
from models.report import Report
from models.review import final_report


def marked(store, model, *names: str) -> list[int]:
    inputs = [item for name in names for item in read_essay_bytes(f"{name[:-4]}.txt", devset(name).encode())]
    list(mark_into_session(inputs, model, store, "Y13 mock"))
    return [e.id for e in store.essays(store.session("Y13 mock").id)]


def test_raising_a_named_factor_drops_its_suggestion_and_its_makes_no_point_warning(model):
    tool = model.score(devset("d11.txt"))
    assert tool.factor("testament").level == 0 and any("Lenin's Testament" in w for w in tool.warnings)
    final = final_report(tool, model.rubric, {"testament": 2}, 16)
    assert final.factor("testament").level == 2 and final.factor("testament").suggestion is None
    assert not any("Lenin's Testament" in w for w in final.warnings)
    assert final.mark_20 == 16 and final.overall > tool.overall


def test_a_tutors_mark_drops_the_account_of_the_tools_estimate_and_a_tutors_level_alone_keeps_it(model):
    tool = model.score(devset("d01.txt"))
    assert tool.mark_trace is not None and tool.wording
    marked = final_report(tool, model.rubric, {}, 12)
    assert marked.mark_20 == 12 and marked.mark_trace is None and marked.wording == ()  # nothing explains 12 but the tutor
    assert "What moved the mark estimate" not in render_feedback_html(marked, devset("d01.txt"), model.rubric)
    relevelled = final_report(tool, model.rubric, {"luck": 0}, None)
    assert relevelled.mark_20 == tool.mark_20 and relevelled.mark_trace == tool.mark_trace  # still the tool's estimate


NAMES_TWO_FACTORS = ("Lenin's Testament was written in 1923 and it was about the leaders. Luck was another factor in the story "
                     "of these years. As General Secretary Stalin appointed loyal supporters to important posts, so they voted for him.")


def test_raising_one_of_several_named_factors_keeps_the_warning_for_the_others(model):
    tool = model.score(NAMES_TWO_FACTORS)
    (warning,) = [w for w in tool.warnings if "makes no point" in w]
    assert "Lenin's Testament" in warning and "Luck and circumstances outside Stalin's control" in warning
    final = final_report(tool, model.rubric, {"testament": 1}, None)
    (left,) = [w for w in final.warnings if "makes no point" in w]
    assert "Lenin's Testament" not in left and "Luck and circumstances outside Stalin's control but makes no point about it" in left
    assert final.mark_20 == tool.mark_20  # no mark given: the tool's stands


def test_a_factor_the_tutor_lowers_gets_the_rubrics_guidance(model):
    tool = model.score(devset("d01.txt"))
    developed = next(f for f in tool.factors if f.level == 2)
    final = final_report(tool, model.rubric, {developed.id: 1}, None)
    guidance = next(f.guidance for f in model.rubric.factors if f.id == developed.id)
    assert final.factor(developed.id).suggestion.guidance == guidance


def test_the_students_report_shows_the_tutors_level_and_mark_and_the_tools_once(store, model):
    (essay_id,) = marked(store, model, "d11.txt")
    store.set_level_override(essay_id, "testament", 2)
    store.set_mark_override(essay_id, 16)
    store.add_comment(essay_id, "A strong paragraph on the Testament.")
    (row,) = session_rows(store, "Y13 mock", model.rubric)
    tool_mark = model.score(devset("d11.txt")).mark_20
    assert tool_mark != 16
    page = report_html(row, devset("d11.txt"), model.rubric)
    testament_row = page.split("<td>Lenin&#x27;s Testament</td>", 1)[1].split("</tr>", 1)[0]
    assert ">developed" in testament_row and "the tool said absent" in testament_row
    assert "set by your tutor" in testament_row and "0.00" not in testament_row  # not the tool's score for "absent"
    assert "Mark<b>16 / 20</b>" in page and f"the tool said {tool_mark}" in page
    assert "Mark estimate" not in page
    assert "makes no point" not in page
    assert "Lenin&#x27;s Testament (absent)" not in page  # no "how to improve" for the raised factor
    assert page.count("the tool said") == 2
    assert "A strong paragraph on the Testament." in page


def test_coverage_counts_and_marks_are_the_tutors(store, model):
    ids = marked(store, model, "d11.txt", "d02.txt")
    rows = session_rows(store, "Y13 mock", model.rubric)
    before = batch_coverage(rows, model.rubric.factor_ids, [f.name for f in model.rubric.factors])
    store.set_level_override(ids[0], "testament", 2)
    store.set_mark_override(ids[0], 16)
    after = batch_coverage(session_rows(store, "Y13 mock", model.rubric), model.rubric.factor_ids, [f.name for f in model.rubric.factors])
    t = model.rubric.factor_ids.index("testament")
    assert after.developed[t] == before.developed[t] + 1
    assert after.marks[0] == 16 and before.marks[0] == Report.from_dict(rows[0]).mark_20 != 16


def test_a_factor_the_tutor_lowers_to_mentioned_is_told_to_develop_it_in_the_students_report(model):
    from models.report import DEVELOP_ADVICE

    tool = model.score(devset("d01.txt"))
    developed = next(f for f in tool.factors if f.level == 2)
    final = final_report(tool, model.rubric, {developed.id: 1}, None)
    page = render_feedback_html(final, devset("d01.txt"), model.rubric)
    assert DEVELOP_ADVICE in page and final.factor(developed.id).suggestion.guidance.replace("'", "&#x27;") in page.split(DEVELOP_ADVICE, 1)[1]
