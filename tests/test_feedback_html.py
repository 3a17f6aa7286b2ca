"""The highlighted essay and the downloadable HTML report: evidence is marked, essay text is never markup."""
from __future__ import annotations

from html.parser import HTMLParser

import pytest

from conftest import DEVSET
from models.engine import load_model
from models.feedback_html import factor_colour, highlighted_essay_html, legend_html, render_feedback_html
from models.report import CopiedPassage, CopyCheck, Evidence, Excerpt, FactorResult, Report, Suggestion, mark_trace_lines

HOSTILE = "<script>alert(1)</script>"
HOSTILE_IMG = '<img src=x onerror="alert(1)">'


class _Tags(HTMLParser):
    """Collects the tags and the visible text of a fragment, as a browser would parse it."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def parse(html: str) -> _Tags:
    parser = _Tags()
    parser.feed(html)
    parser.close()
    return parser


def _report(essay: str, evidence: dict[int, list[tuple[int, int]]], copied=()) -> Report:
    factors = []
    for i, name in enumerate(["General Secretary", "Luck"]):
        spans = evidence.get(i, [])
        factors.append(
            FactorResult(
                id=f"f{i}", name=name, level=1 if spans else 0, score=0.4 if spans else 0.0,
                evidence=tuple(Evidence(essay[s:e], s, e, 0.5) for s, e in spans),
                suggestion=Suggestion(f"Explain {name} <b>now</b>.", (Excerpt("A reference <i>point</i>.", "ref1"),)),
            )
        )
    copy = CopyCheck(flagged=bool(copied), source="ref1 (x.txt)", share=0.3, passages=tuple(CopiedPassage(s, e, "ref1") for s, e in copied))
    return Report("r", 25.0, 6, tuple(factors), ("Short <essay>.",), len(essay.split()), copy)


def test_evidence_sentences_are_marked_in_their_factors_colour():
    essay = "Stalin was General Secretary. Lenin died. He was lucky."
    html = highlighted_essay_html(_report(essay, {0: [(0, 29)], 1: [(42, 55)]}), essay)
    marks = [attrs for tag, attrs in parse(html).tags if tag == "mark"]
    assert len(marks) == 2
    assert factor_colour(0) in marks[0]["style"] and "General Secretary" in marks[0]["title"]
    assert factor_colour(1) in marks[1]["style"] and "Luck" in marks[1]["title"]


def test_highlighting_keeps_every_character_of_the_essay_in_order():
    essay = "First sentence here.\n\nSecond & third <b>bold</b> sentence. Last one."
    html = highlighted_essay_html(_report(essay, {0: [(0, 20)], 1: [(0, 20), (22, 59)]}, copied=[(30, 59)]), essay)
    assert "".join(parse(html).text) == essay


def test_sentence_evidence_for_two_factors_names_both():
    essay = "Stalin was General Secretary and lucky."
    html = highlighted_essay_html(_report(essay, {0: [(0, len(essay))], 1: [(0, len(essay))]}), essay)
    (mark,) = [attrs for tag, attrs in parse(html).tags if tag == "mark"]
    assert "General Secretary" in mark["title"] and "Luck" in mark["title"]
    assert factor_colour(1) in mark["style"]


def test_copied_passages_are_underlined():
    essay = "My own words. Copied words from the web page here."
    html = highlighted_essay_html(_report(essay, {}, copied=[(14, len(essay))]), essay)
    spans = [attrs for tag, attrs in parse(html).tags if tag == "span"]
    assert any("rb-copied" in attrs.get("class", "") for attrs in spans)
    assert "copied" in legend_html(_report(essay, {}, copied=[(14, len(essay))]))


@pytest.mark.parametrize("hostile", [HOSTILE, HOSTILE_IMG, '"><svg onload=alert(1)>', "&lt;script&gt;"])
def test_hostile_essay_text_is_shown_as_text_never_as_markup(hostile):
    essay = f"Stalin was General Secretary {hostile} and used it. {hostile} Lenin died."
    start = essay.index("Stalin")
    html = highlighted_essay_html(_report(essay, {0: [(start, start + 50)]}), essay)
    parsed = parse(html)
    assert {tag for tag, _ in parsed.tags} <= {"div", "mark", "span"}
    assert "".join(parsed.text) == essay


def test_feedback_report_is_a_whole_page_without_scripts_and_with_the_essay_escaped():
    model = load_model()
    essay = (
        f"Stalin became leader because as General Secretary {HOSTILE} he appointed his supporters to posts in the party. "
        f"{HOSTILE_IMG} Trotsky was arrogant and failed to build support among party members."
    )
    report = model.score(essay)
    page = render_feedback_html(report, essay, model.rubric, student='Ann <b>"Lee"</b>')
    parsed = parse(page)
    tags = {tag for tag, _ in parsed.tags}
    assert page.startswith("<!DOCTYPE html>")
    assert "script" not in tags and "img" not in tags and "link" not in tags
    assert not any(name.startswith("on") for _, attrs in parsed.tags for name in attrs)
    text = "".join(parsed.text)
    assert HOSTILE in text and HOSTILE_IMG in text
    assert 'Feedback for Ann <b>"Lee"</b>' in text
    assert model.rubric.question in text
    for factor in report.factors:
        assert factor.name in text
        if factor.level < 2:
            assert factor.suggestion.guidance in text


def test_what_moved_the_mark_is_listed_as_text_with_how_far():
    model = load_model()
    essay = (
        "Stalin became leader mainly because of his post as General Secretary <i>which</i> let him appoint party officials. "
        "These officials then picked the delegates to the party congress, which meant he could count on their votes. "
        "Overall the post mattered more than luck, because without those supporters he could not have won."
    )
    report = model.score(essay)
    assert report.wording
    text = "".join(parse(render_feedback_html(report, essay, model.rubric)).text)
    assert "What moved the mark estimate" in text
    for effect in report.wording:
        assert f"{effect.text}{'raised' if effect.marks > 0 else 'lowered'} it by {abs(effect.marks):.1f}" in text
    for what, marks in mark_trace_lines(report):  # the estimate added up, part by part
        assert f"{what}{marks}" in text


def test_report_lists_warnings_and_suggestions_escaped():
    essay = "Stalin was General Secretary. Lenin died. He was lucky."
    model = load_model()
    page = render_feedback_html(_report(essay, {0: [(0, 29)]}), essay, model.rubric)
    parsed = parse(page)
    text = "".join(parsed.text)
    assert "Short <essay>." in text
    assert "Explain Luck <b>now</b>." in text
    assert "A reference <i>point</i>." in text
    assert "i" not in {tag for tag, _ in parsed.tags}  # the excerpt's <i> stayed text


def test_every_mark_falls_in_one_of_the_codebooks_bands_and_is_told_what_the_next_band_asks():
    from models.report import MARK_BANDS, mark_band_advice

    for mark in range(21):
        assert sum(band.low <= mark <= band.high for band in MARK_BANDS) == 1
    advice = mark_band_advice(14)
    assert advice.startswith("The mark estimate, 14 / 20, is in the band 13-16, described as \u201canalytical across a range of factors")
    assert "To reach 17-20, sustain that judgement throughout" in advice
    assert "To reach" not in mark_band_advice(19) and mark_band_advice(0).startswith("The mark estimate, 0 / 20, is in the band 0-4")


def test_the_report_gives_the_band_of_the_mark_it_shows_the_tutors_when_there_is_one():
    from dataclasses import replace

    from models.report import mark_band_advice
    from models.review import TutorReview

    model = load_model()
    essay = "Stalin was General Secretary, so he appointed his supporters to party posts and they voted for him at congresses."
    report = model.score(essay)
    text = "".join(parse(render_feedback_html(report, essay, model.rubric)).text)
    assert mark_band_advice(report.mark_20) in text
    review = TutorReview({f.id: f.level for f in report.factors}, report.mark_20, {}, 16)
    tutor_text = "".join(parse(render_feedback_html(replace(report, mark_20=16), essay, model.rubric, review=review)).text)
    assert "The mark, 16 / 20, is in the band 13-16" in tutor_text and "The mark estimate" not in tutor_text


def test_a_mentioned_factor_is_told_how_to_develop_its_point_and_an_absent_one_what_the_point_is():
    from dataclasses import replace

    from models.report import DEVELOP_ADVICE, RUBRIC_ADVICE_LEAD, improvement_advice

    model = load_model()
    essay = "Stalin was General Secretary, so he appointed his supporters to party posts and they voted for him at congresses."
    report = model.score(essay)
    absent = [f for f in report.factors if f.level == 0]
    assert len(absent) >= 2
    mentioned = replace(absent[0], level=1)  # as a tutor or another essay would have it
    report = replace(report, factors=tuple(mentioned if f.id == mentioned.id else f for f in report.factors))
    assert improvement_advice(mentioned) == f"{DEVELOP_ADVICE} {RUBRIC_ADVICE_LEAD} \u201c{mentioned.suggestion.guidance}\u201d"
    assert all(improvement_advice(f) == f.suggestion.guidance for f in absent[1:])
    text = "".join(parse(render_feedback_html(report, essay, model.rubric)).text)
    assert text.count(DEVELOP_ADVICE) == sum(f.level == 1 for f in report.factors) and improvement_advice(mentioned) in text


def test_a_part_of_the_mark_that_rounds_to_nothing_is_shown_as_nothing_not_as_a_loss():
    from dataclasses import replace

    from models.report import MarkPart, mark_trace_lines

    model = load_model()
    report = model.score("Stalin was General Secretary, so he appointed his supporters to party posts and they voted for him at congresses.")
    trace = replace(report.mark_trace, parts=(MarkPart("length", -0.04), MarkPart("weighing", 0.03), MarkPart("wording", -0.26)))
    shown = dict(mark_trace_lines(replace(report, mark_trace=trace)))
    assert [shown[p.name] for p in trace.parts] == ["0.0", "0.0", "-0.3"]


def test_the_wording_quoted_as_moving_the_mark_is_the_students_statements_not_headings_or_the_question():
    model = load_model()
    essay = (DEVSET / "essays" / "d17.txt").read_text(encoding="utf-8")  # a plan: "Reasons: 1. Luck 2. Alliances 3. His job", then sections
    quoted = [effect.text for effect in model.score(essay).wording]
    assert quoted and "His job" not in quoted and not any(text.rstrip().endswith("?") for text in quoted)
