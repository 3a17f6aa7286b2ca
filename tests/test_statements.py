"""Which sentences state something: a point must be a statement, not a heading, a list or a bare date."""
from __future__ import annotations

import pytest

from models.text import is_bare_definition, is_note_shaped, is_statement, opens_with_date, persons_pattern


@pytest.mark.parametrize("text", [
    "Trotsky was too arrogant.",
    "Stalin appointed loyal men to the provinces.",
    "He uses his post to promote his friends.",
    "Stalin turns on Bukharin and the Right.",
    "Lenin's notes weren't published.",
    "1923-25: triumvirate with Zinoviev and Kamenev against Trotsky.",
    "The real significance of the post lay in appointments.",
    "So they united against him.",
    "STALIN APPOINTED LOYAL MEN TO THE PROVINCES.",
    "TROTSKY MISSED LENIN'S FUNERAL",
    "1925: sides with Bukharin and the Right to defeat Zinoviev and Kamenev",
    "1922 onward - uses the Secretariat to appoint loyal local secretaries",
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
    "KEY PEOPLE: LENIN, TROTSKY, ZINOVIEV, KAMENEV.",
    "1925: Fourteenth Party Congress",
    "1926 - United Opposition of Trotsky, Zinoviev and Kamenev",
    "1924: Lenin's funeral, Lenin Enrolment",
])
def test_headings_lists_and_bare_date_entries_are_not_statements(text):
    assert not is_statement(text)


@pytest.mark.parametrize("text", [
    "Troika: a group of three, used for Stalin, Zinoviev and Kamenev in 1923-25.",
    "Q: What did Trotsky miss in January 1924?",
    "Trotsky - arrogant",
    "GEN SEC → 1922 → Card-Index → appointed his supporters to local jobs",
    "Zinoviev + Kamenev / Bukharin / left vs right",
])
def test_revision_note_lines_are_told_apart_from_prose(text):
    assert is_note_shaped(text)


@pytest.mark.parametrize("text", [
    "1. The General Secretary was the head of the party's organisation.",
    "The triumvirate was the group formed in 1923 by Stalin, Zinoviev and Kamenev.",
    "Patronage is the power to give jobs and favours to supporters.",
    "Luck means events that happen by chance and are outside a person's control.",
])
def test_a_glossary_entry_written_as_a_sentence_is_a_note(text):
    assert is_note_shaped(text)


@pytest.mark.parametrize("text", [
    "The General Secretary was a powerful job because it let him appoint officials.",
    "The most important reason was Stalin's position as General Secretary.",
    "This was the most important factor.",
    "Trotsky was the favourite but he was really big headed.",
    "It meant that he was in charge of appointing people to jobs all over the party.",
])
def test_a_sentence_that_says_what_followed_or_weighs_is_not_a_definition(text):
    assert not is_note_shaped(text)


PERSONS = persons_pattern(["Stalin", "Lenin", "Trotsky", "Zinoviev", "Kamenev"])


@pytest.mark.parametrize("text", [
    "An alliance is an agreement between people or groups to work together.",
    "The Secretariat was the office that handled the party's paperwork and appointments.",
    "2. Patronage is the power to give jobs and favours to supporters.",
])
def test_a_definition_that_names_nobody_only_says_what_a_term_is(text):
    assert is_bare_definition(text, PERSONS)


@pytest.mark.parametrize("text", [
    "Lenin's Testament was a serious threat to Stalin.",
    "The triumvirate was the group they formed against Trotsky in 1923.",
    "The General Secretary was the head of the party's organisation, so whoever held it chose the officials.",
    "The control of appointments was the most significant advantage of the post.",
    "The General Secretary was the head of the party's organisation,",
])
def test_a_definition_that_names_a_person_says_what_followed_or_runs_on_is_not_bare(text):
    assert not is_bare_definition(text, PERSONS)


NAMES = frozenset({"stalin", "lenin", "trotsky", "trotsky's", "zinoviev", "kamenev", "united", "opposition"})


@pytest.mark.parametrize("capitals, ordinary", [
    ("STALIN'S POST GAVE HIM POWER.", "Stalin's post gave him power."),
    ("TROTSKY'S MISTAKES MATTER MOST.", "Trotsky's mistakes matter most."),
    ("21 JANUARY 1924: LENIN DIES.", "21 January 1924: Lenin dies."),
    ("1926: ZINOVIEV AND KAMENEV JOIN TROTSKY (UNITED OPPOSITION).", "1926: Zinoviev and Kamenev join Trotsky (United Opposition)."),
])
def test_a_sentence_in_capitals_reads_as_it_does_in_ordinary_type(capitals, ordinary):
    assert is_statement(capitals, NAMES) == is_statement(ordinary, NAMES)


@pytest.mark.parametrize("text", [
    "Stalin, who had been General Secretary since 1922, appointed loyal men to the provinces.",
    "However, there was another reason: his rivals underestimated him.",
    "Trotsky was ill in 1923 - a stroke of luck for Stalin.",
])
def test_prose_with_a_colon_or_a_dash_is_not_a_note(text):
    assert not is_note_shaped(text)


@pytest.mark.parametrize("text, dated", [
    ("In 1922 Stalin became General Secretary.", True),
    ("In April 1922 Stalin was made General Secretary.", True),
    ("1926 – Zinoviev and Kamenev joined Trotsky.", True),
    ("On 21 January 1924 Lenin died.", True),
    ("Stalin became General Secretary in 1922.", False),
])
def test_a_sentence_that_opens_with_its_date_is_told_apart(text, dated):
    assert opens_with_date(text) is dated


def test_one_reading_of_a_sentence_gives_both_its_note_and_its_definition_shape():
    from models.text import sentence_shapes, split_sentences, word_spans
    from conftest import DEVSET

    texts = [path.read_text(encoding="utf-8") for path in sorted((DEVSET / "essays").glob("*.txt"))[:20]]
    texts.append("Secretariat: the office that kept files\nGS -> jobs -> votes\nAn alliance is an agreement between groups.")
    texts.append("2. Patronage is the power to give jobs.\nThe Politburo WAS the party's ruling body.\nThe Secretariat İs an office.")
    for sentence in (s for text in texts for s in split_sentences(text)):
        expected = (is_note_shaped(sentence.text), is_bare_definition(sentence.text, PERSONS))
        assert sentence_shapes(sentence.text, PERSONS) == expected
        assert sentence_shapes(sentence.text, PERSONS, word_spans(sentence.text).words) == expected
