"""Which sentences state something: a point must be a statement, not a heading, a list or a bare date."""
from __future__ import annotations

import pytest

from models.text import is_statement


@pytest.mark.parametrize("text", [
    "Trotsky was too arrogant.",
    "Stalin appointed loyal men to the provinces.",
    "He uses his post to promote his friends.",
    "Stalin turns on Bukharin and the Right.",
    "Lenin's notes weren't published.",
    "1923-25: triumvirate with Zinoviev and Kamenev against Trotsky.",
    "The real significance of the post lay in appointments.",
    "So they united against him.",
])
def test_sentences_that_assert_or_relate_something_are_statements(text):
    assert is_statement(text)


@pytest.mark.parametrize("text", [
    "Alliances (triumvirate / troika)",
    "1926 United Opposition.",
    "Key words: patronage, Comrade Card-Index, grey blur, Bonaparte.",
    "Key people: Lenin, Trotsky, Zinoviev, Kamenev, Bukharin.",
    "The triumvirate, Zinoviev, Kamenev, Bukharin, the Left and the Right.",
    "1922 - General Secretary, Orgburo, Politburo, Comrade Card-Index",
    "Luck",
])
def test_headings_lists_and_bare_date_entries_are_not_statements(text):
    assert not is_statement(text)
