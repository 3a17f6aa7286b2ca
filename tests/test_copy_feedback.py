"""Copied reference text in feedback: flagged with its source, shown, and earning no credit by default."""
from __future__ import annotations

import dataclasses

from models.engine import CoverageModel

OWN_OPENING = "Stalin became leader of the USSR for several reasons, and I will explain the main ones in turn."
OWN_CLOSING = "So in my view his job in the party mattered more than anything else, although luck helped him too."


def pasted_essay(model) -> tuple[str, str]:
    """An essay that pastes four sentences of reference essay ref2 between sentences of its own."""
    reference = model.corpus.by_id("ref2").text
    start = reference.index("Stalin also used his job as general secretary")
    pasted = reference[start:].split("\n")[0]
    return f"{OWN_OPENING} {pasted}\n\n{OWN_CLOSING}", pasted


def test_pasted_reference_text_is_flagged_with_its_source_and_earns_no_credit(model):
    essay, pasted = pasted_essay(model)
    report = model.score(essay)
    assert report.copy.flagged
    assert report.copy.source == "ref2 (002_6e7bb24f8b07b2a7.txt)"
    passage = report.copy.passages[0]
    assert essay[passage.start:passage.end].startswith("Stalin also used his job as general secretary")
    assert passage.source == "ref2"
    # The pasted sentences make the General Secretary and alliances points, but they are not the student's.
    for factor in report.factors:
        for evidence in factor.evidence:
            assert evidence.text not in pasted
    assert any("word for word" in w and "no factor credit" in w for w in report.warnings)


def test_a_rubric_can_let_copied_sentences_earn_credit(model):
    essay, _ = pasted_essay(model)
    rubric = dataclasses.replace(model.rubric, copy=dataclasses.replace(model.rubric.copy, credit_copied=True))
    generous = CoverageModel(rubric, model.corpus).fit()
    report = generous.score(essay)
    assert report.copy.flagged
    assert report.factor("general_secretary").level >= 1
    assert any("still earn factor credit" in w for w in report.warnings)


def test_a_short_quotation_is_not_copying(model):
    essay = ("Stalin was mocked as \"Comrade Card-Index\" by the other leaders, but his post as General Secretary let him "
             "appoint loyal supporters to every important job, and they later voted for him at the party congress.")
    report = model.score(essay)
    assert not report.copy.flagged
    assert report.factor("general_secretary").level >= 1


def test_writing_the_question_out_as_a_title_is_not_taken_for_copying(model):
    # Real students head their essays with the question, in the words of the variant they were set (realsample r09, r10);
    # a reference page headed its essay with the same question, which once told them their title was copied.
    for title in ("Why did Stalin rather than Trotsky emerge as the leader of the USSR in 1929?",
                  "Why Did Stalin Rather Than Trotsky Emerge As The Leader Of The USSR After Lenin's Death?",
                  "Why did Stalin become leader of the USSR?"):
        report = model.score(f"{title}\n\n{OWN_OPENING} {OWN_CLOSING}")
        assert report.copy.passages == () and not any("word for word" in w for w in report.warnings), title
