"""Layout does not change the mark: hard-wrapped text (a PDF's text layer, an email) reads as the paragraphs it was."""
from __future__ import annotations

import textwrap

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.engine import load_model
from models.reader import essay_from_text
from models.text import rejoin_wrapped_lines

from conftest import DEVSET, HELDOUT

MODEL = load_model()
ESSAYS = [path.read_text(encoding="utf-8") for folder in (DEVSET, HELDOUT) for path in sorted((folder / "essays").glob("*.txt"))]


def hard_wrapped(essay: str, width: int) -> str:
    """Each line of the essay wrapped at `width` columns, as an editor or a PDF would (words are never split)."""
    return "\n".join(textwrap.fill(line, width, break_long_words=False) if line.strip() else line for line in essay.split("\n"))


def marked(text: str) -> tuple[dict[str, int], int]:
    report = MODEL.score(essay_from_text(text).text)
    return {f.id: f.level for f in report.factors}, report.mark_20


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(ESSAYS), st.integers(min_value=30, max_value=120))
def test_hard_wrapping_an_essay_at_any_width_from_30_to_120_leaves_its_levels_unchanged_and_its_mark_within_one(essay, width):
    """Levels never move. The learned judge's mark is a regression over sentence-level features, so where rejoining
    cannot tell a wrapped line from a typed one ("1924\nLenin dies" in notes) a different sentence split can move a
    mark sitting at a rounding boundary by one (8 of the 3,458 calibration essay-width pairs, levels unchanged)."""
    (wrapped_levels, wrapped_mark), (levels, mark) = marked(hard_wrapped(essay, width)), marked(essay)
    assert wrapped_levels == levels
    assert abs(wrapped_mark - mark) <= 1


def test_an_essay_typed_one_word_per_line_is_marked_as_typed():
    essay = max(ESSAYS, key=lambda e: marked(e)[1])
    one_per_line = "\n\n".join("\n".join(paragraph.split()) for paragraph in essay.split("\n\n"))
    assert marked(one_per_line) == marked(essay)


def test_an_essay_typed_in_capitals_is_marked_as_typed():
    """Some students write (and some transcribe) in capitals; capitals then say nothing about names or headings,
    and a sentence's first word reads as it would in ordinary type ("TROTSKY'S MISTAKES MATTER MOST.")."""
    for essay in ESSAYS:
        assert marked(essay.upper()) == marked(essay)


def test_rejoining_keeps_every_offset_one_character_for_one():
    wrapped = hard_wrapped(ESSAYS[0], 40)
    rejoined = rejoin_wrapped_lines(wrapped)
    assert len(rejoined) == len(wrapped)
    assert [i for i, (a, b) in enumerate(zip(wrapped, rejoined)) if a != b] == [i for i, ch in enumerate(wrapped) if ch == "\n" and rejoined[i] == " "]


def test_bullets_headings_and_paragraphs_typed_one_per_line_stay_apart():
    notes = ("Why did Stalin win?\n"
             "- Stalin used his post as General Secretary to appoint his supporters across the party\n"
             "- Trotsky was arrogant and missed Lenin's funeral\n"
             "1. The testament was kept secret\n"
             "Luck\n"
             "Lenin died in 1924 without naming a successor, which left the party divided between rival leaders who each feared the other more than Stalin.\n"
             "    Stalin then allied with Zinoviev and Kamenev against Trotsky.")
    assert rejoin_wrapped_lines(notes) == notes
