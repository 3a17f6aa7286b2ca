"""Copy detection that survives simple evasion: look-alike letters, swapped synonyms, and the tricks already caught.

Every evasion is built from reference essay ref0 of the shipped corpus, as a student would build it.
"""
from __future__ import annotations

import random
import re

import pytest

from app.cli import main
from conftest import DEVSET, HELDOUT
from models.reader import essay_from_text
from models.text import word_spans, words

# Cyrillic letters that look like Latin ones (Unicode TR39 confusables): а е о р с х у і, А Е О Р С Х Н К М Т В.
CYRILLIC = str.maketrans("aeopcxyiAEOPCXHKMTB", "аеорсхуіАЕОРСХНКМТВ")
SYNONYMS = {"the": "this", "was": "became", "his": "their", "of": "about", "and": "plus", "to": "towards",
            "a": "one", "in": "within", "stalin": "Dzhugashvili", "party": "movement", "he": "the man"}
OWN_OPENING = "Stalin became leader of the USSR for several reasons, and I will explain the main ones in turn."
OWN_CLOSING = "So in my view his job in the party mattered more than anything else, although luck helped him too."
REF0 = "ref0 (000_1d73a2fbbbac3496.txt)"
REF1 = "ref1 (001_e5895ce79723c7b0.txt)"
MIXED_WARNING = "mix Latin letters with look-alike letters from another alphabet; they were read as Latin."


@pytest.fixture(scope="module")
def reference(model):
    return model.corpus.by_id("ref0").text


def swap_every_nth_word(text: str, n: int) -> str:
    """Every nth word replaced by a synonym (or, lacking one, a word of the same length's worth of filler)."""
    count = 0

    def swap(match: re.Match) -> str:
        nonlocal count
        count += 1
        word = match.group()
        return SYNONYMS.get(word.lower(), "indeed" if word.lower() != "indeed" else "truly") if count % n == 0 else word

    return re.sub(r"[A-Za-z]+(?:['’][A-Za-z]+)*", swap, text)


def test_reference_essay_in_cyrillic_look_alikes_is_flagged_and_earns_what_the_pasted_essay_earns(model, reference):
    pasted = model.score(reference)
    disguised = model.score(reference.translate(CYRILLIC))

    assert disguised.copy.flagged
    assert disguised.copy.source == pasted.copy.source == REF0
    assert disguised.copy.share == pytest.approx(pasted.copy.share)
    assert disguised.mark_20 == pasted.mark_20
    assert [f.level for f in disguised.factors] == [f.level for f in pasted.factors]
    assert any(w.endswith(MIXED_WARNING) for w in disguised.warnings)


def test_copy_with_every_sixth_word_swapped_for_a_synonym_is_flagged(model, reference):
    report = model.score(swap_every_nth_word(reference, 6))

    assert report.copy.flagged
    assert report.copy.source == REF0
    assert report.copy.share >= 0.9
    assert any("repeat a reference essay" in w for w in report.warnings)


def test_four_pasted_sentences_with_every_sixth_word_swapped_among_the_students_own_are_flagged_and_earn_nothing(model):
    reference = model.corpus.by_id("ref2").text
    start = reference.index("Stalin also used his job as general secretary")
    pasted = swap_every_nth_word(reference[start:].split("\n")[0], 6)
    essay = f"{OWN_OPENING} {pasted}\n\n{OWN_CLOSING}"

    report = model.score(essay)

    assert report.copy.flagged
    assert report.copy.share >= model.rubric.copy.flag_share
    assert report.copy.source == "ref2 (002_6e7bb24f8b07b2a7.txt)"
    # The passage is the pasted text, the swapped words inside it included, and none of the student's own words.
    passage = report.copy.passages[0]
    assert essay[passage.start : passage.end] == pasted.rstrip(".")
    for factor in report.factors:
        for evidence in factor.evidence:
            assert evidence.text not in pasted


def _zero_width(text: str) -> str:
    return "\u200b".join(text)  # one after every character, as a paste from some editors does


def _reordered(text: str) -> str:
    paragraphs = [p for p in text.split("\n\n") if p.strip()]
    random.Random(0).shuffle(paragraphs)
    return "\n\n".join(paragraphs)


def _without_punctuation(text: str) -> str:
    return re.sub(r"[^\w\s]", "", text)


@pytest.mark.parametrize("evade", [_zero_width, _reordered, _without_punctuation, str.upper],
                         ids=["zero-width characters", "paragraphs reordered", "punctuation lost", "upper case"])
def test_evasions_already_caught_are_still_caught(model, reference, evade):
    essay = essay_from_text(evade(reference)).text  # as pasted into the app or read by the CLI

    report = model.score(essay)

    assert report.copy.flagged
    assert report.copy.source == REF0
    assert report.copy.share >= 0.9


def test_every_fourth_word_swapped_is_beyond_one_substitution_per_run(model, reference):
    # Every 8-word window then misses two words: the check tolerates an occasional substitution, not a rewrite.
    report = model.score(swap_every_nth_word(reference, 4))

    assert not report.copy.flagged


@pytest.mark.parametrize("folder", [DEVSET, HELDOUT], ids=["devset", "heldout"])
def test_students_own_essays_are_not_flagged_and_have_no_copied_sentence(model, folder):
    texts = [path.read_text(encoding="utf-8") for path in sorted((folder / "essays").glob("*.txt"))]

    readings = model.read_essays(texts)

    assert len(readings) >= 18
    assert [r.copy_check.flagged for r in readings] == [False] * len(readings)
    assert sum(int(r.copied.sum()) for r in readings) == 0


def test_a_quotation_with_a_word_changed_either_side_is_not_copying(model):
    # "Stalin was known as Comrade Card-Index" is seven words of ref1; windows missing one word reach nine.
    essay = ("Inside the party Stalin was known as Comrade Card-Index because he handled the dull paperwork that other "
             "leaders ignored, and that paperwork let him place his supporters in the local parties.")

    reading = model.read_essays([essay])[0]

    assert not reading.copied.any()
    assert reading.copy_check.source != REF1


def test_words_mixing_alphabets_are_read_as_latin_and_counted_in_a_warning(model):
    honest = ("Stalin used his post as General Secretary to appoint his supporters to local party jobs, so by 1927 "
              "the delegates who voted at congresses owed their careers to him.")
    mixed = honest.replace("Stalin", "Stаlin").replace("Secretary", "Sеcretary").replace("supporters", "suppоrters")

    plain, disguised = model.score(honest), model.score(mixed)

    assert [f.level for f in disguised.factors] == [f.level for f in plain.factors]
    assert disguised.factor("general_secretary").level >= 1
    assert "3 words mix Latin letters with look-alike letters from another alphabet; they were read as Latin." in disguised.warnings
    assert not any(MIXED_WARNING in w for w in plain.warnings)


def test_the_command_line_shows_the_copy_flag_and_the_mixed_script_warning(reference, tmp_path, capsys):
    disguised = tmp_path / "essay.txt"
    disguised.write_text(reference.translate(CYRILLIC), encoding="utf-8")

    assert main(["score", str(disguised)]) == 0

    out = capsys.readouterr().out
    assert f"repeat a reference essay ({REF0}) word for word" in out
    assert MIXED_WARNING in out


def test_look_alikes_are_read_as_ascii_but_a_word_of_another_language_stays_as_written():
    assert words("Stаlin ΤROTSKY Ｌｅｎｉｎ 𝐏𝐫𝐚𝐯𝐝𝐚 １９２４") == ["stalin", "trotsky", "lenin", "pravda", "1924"]
    found = word_spans("Сталин и Троцкий; Stаlin")
    assert found.words == ["сталин", "и", "троцкий", "stalin"]
    assert found.mixed_script == 1  # only "Stаlin" mixes alphabets; the Russian words are Russian
    assert word_spans("Stalin’s café").words == ["stalin's", "café"]
