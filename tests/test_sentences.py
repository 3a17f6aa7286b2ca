"""How an essay is cut into sentences: each judgement and each highlight is a sentence, so a sentence cut in two
loses half its point, and two run together hide which one made it."""
from __future__ import annotations

import pytest

from models.text import split_sentences


def sentences(text: str) -> list[str]:
    found = split_sentences(text)
    assert all(text[s.start : s.end] == s.text for s in found)
    return [s.text for s in found]


@pytest.mark.parametrize("text", [
    "As E.H. Carr argues, the post was the key to power.",
    "As E. H. Carr argues, the post was the key to power.",
    "Historians like A.J.P. Taylor disagree with this view.",
    "The U.S.S.R. was founded in 1922 and Stalin ran its party machine.",
    "Lenin died in Jan. 1924 without naming a successor.",
    "In 1924 J. Stalin organised the funeral.",
])
def test_initials_and_abbreviations_do_not_end_a_sentence(text):
    assert sentences(text) == [text]


@pytest.mark.parametrize("text, expected", [
    ("He became leader of the U.S.S.R. He ruled until 1953.", ["He became leader of the U.S.S.R.", "He ruled until 1953."]),
    ("The others said no. So Stalin kept his job.", ["The others said no.", "So Stalin kept his job."]),
    ("Lenin died in Jan. The funeral was held in Moscow.", ["Lenin died in Jan.", "The funeral was held in Moscow."]),
])
def test_a_capitalised_function_word_after_an_abbreviation_starts_a_new_sentence(text, expected):
    assert sentences(text) == expected


@pytest.mark.parametrize("text, first", [
    ("The post was crucial.[1] It gave him control over appointments.", "The post was crucial.[1]"),
    ("The post was crucial.[12][13] It gave him control over appointments.", "The post was crucial.[12][13]"),
    ("The post was crucial.\u00b9 It gave him control over appointments.", "The post was crucial.\u00b9"),
    ("The post was crucial.2 It gave him control over appointments.", "The post was crucial.2"),
])
def test_a_footnote_marker_after_the_stop_stays_with_its_sentence_which_ends_there(text, first):
    assert sentences(text) == [first, "It gave him control over appointments."]


def test_a_number_after_a_year_is_not_taken_for_a_footnote():
    assert sentences("He won in 1929.3 years later he purged them.") == ["He won in 1929.3 years later he purged them."]


def test_a_hostile_run_of_footnote_marks_is_read_like_any_other_text():
    # A run of superscripts with no space after it once made the sentence-end pattern backtrack exponentially:
    # thirty marks took minutes. Ten thousand are read at once.
    text = "Stalin was lucky." + "\u00b9" * 10_000 + "x. Trotsky was ill."
    assert sentences(text)[-1] == "Trotsky was ill."
