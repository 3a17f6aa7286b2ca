"""Copy detection: pasted reference text is flagged and located; honest essays are not."""
import pytest

from models.copying import (
    DEFAULT_FLAG_SHARE,
    ReferenceIndex,
    copied_sentence_mask,
    find_shared_pairs,
    shared_passages,
)
from models.errors import RubricateError
from models.report import CopiedPassage, CopyCheck

# From seed 001_e5895ce79723c7b0.txt (a public reference essay), two paragraphs.
REF1_INTRO = (
    "Stalin emerged as the leader of the Bolshevik party in 1929 due to a variety of lucky events and "
    "carefully considered political decisions that caused him to eliminate all his opponents, including his "
    "most significant rival, Trotsky. Amongst party members Stalin was known as “Comrade Card-Index,” one who "
    "assembled and dealt with party paperwork, however they were not aware of “what power [he] was "
    "accumulating wherein,” which subsequently brought about their downfall."
)
REF1_PASTED = (
    "As there were few members in the early Bolshevik days Lenin knew them all well and because he liked "
    "Stalin’s excellent organisation he included him as one of the six members of the Central Committee, where "
    "he helped make policy and wrote the Pravda. His heritage as being Georgian paid off after the October "
    "Revolution when he was made Commissar for Nationalities, this saw the beginning of Stalin becoming the "
    "cold hearted and ruthless man which he is infamous for. Stalin was given jobs that other Bolsheviks viewed "
    "as tedious and unimportant, none of them “saw in the Stalin of 1923 the menacing and towering figure he "
    "was to become,” (I. Deutscher, the Prophet Unarmed). Positions such as the General Secretary and the "
    "Liaison Officer between the Politburo and Ogburo he used to his advantage."
)
REF1 = (
    REF1_INTRO
    + "\n\nStalin becoming leader of the USSR in 1929 was greatly aided by him taking on many seemingly boring "
    "and undermined positions within the party. Previous historians saw Stalin’s pre 1924 career as a “dull grey "
    "blank” (Nicolai Sukhanov-1922) however recent research has shown it as significant to his uprising. "
    + REF1_PASTED
    + " In both of these positions Stalin gathered personal information about Bolsheviks and built up "
    "individual files, which would include information such as character and loyalty."
)
# From seed 002_6e7bb24f8b07b2a7.txt, a second reference on the same question.
REF2 = (
    "Stalin also used his job as general secretary of the party to put his supporters in important jobs and "
    "supports of his opponents in remote postings. Stalin also supported one opponent to get rid of another "
    "opponent he did this most notably with Bukharin and Trotsky, Stalin supported Bukharin on a debate on the "
    "NEP against Trotsky and once Trotsky was disposed of Stalin used Trotsky’s arguments to get rid of Bukharin."
)
LABELS = {"ref1": "ref1 (001_e5895ce79723c7b0.txt)", "ref2": "ref2 (002_6e7bb24f8b07b2a7.txt)"}

OWN_OPENING = (
    "Stalin became leader because he was underestimated by the other Bolsheviks and because he built a "
    "following inside the party machine while his rivals argued about ideas. Trotsky was brilliant but he was "
    "arrogant and never tried to build alliances, so when Lenin died he had few friends on the Politburo."
)
OWN_CLOSING = (
    "This shows that the dull jobs were really a source of power. Lenin's Testament warned the party about "
    "Stalin, but Zinoviev and Kamenev chose to keep it quiet because they feared Trotsky more than him. In the "
    "end it was the combination of his patient control of appointments and the blunders of his rivals that "
    "decided the struggle."
)
PASTING_ESSAY = OWN_OPENING + " " + REF1_PASTED + " " + OWN_CLOSING

PARAPHRASE_ESSAY = (
    OWN_OPENING
    + " In the early years the party was small, so Lenin knew everyone personally, and he admired how well "
    "Stalin organised things, which is why he put him on the Central Committee to shape policy and edit Pravda. "
    "Being from Georgia helped him become Commissar for Nationalities after 1917, where his harsh and ruthless "
    "side first showed. The other leaders thought his jobs were boring, and Deutscher says nobody in 1923 could "
    "see how threatening he would become. He turned posts like General Secretary and the link between the "
    "Politburo and the Orgburo into tools for himself. "
    + OWN_CLOSING
)


@pytest.fixture(scope="module")
def index():
    return ReferenceIndex({"ref1": REF1, "ref2": REF2}, labels=LABELS)


def sentence_spans(essay, sentences):
    spans = []
    for sentence in sentences:
        start = essay.index(sentence)
        spans.append((start, start + len(sentence)))
    return spans


def test_essay_pasting_four_reference_sentences_is_flagged_with_source_and_passage(index):
    check = index.check(PASTING_ESSAY)

    assert check.flagged
    assert check.source == "ref1 (001_e5895ce79723c7b0.txt)"
    assert len(check.passages) == 1
    passage = check.passages[0]
    assert passage.source == "ref1"
    # The passage runs from the first pasted word to the last (the final full stop is not a word).
    assert PASTING_ESSAY[passage.start : passage.end] == REF1_PASTED.rstrip(".")
    pasted_words = len(REF1_PASTED.split())
    all_words = len(PASTING_ESSAY.split())
    assert check.share == pytest.approx(pasted_words / all_words, abs=0.03)


def test_paste_from_the_second_reference_names_the_second_reference(index):
    pasted = REF2.split(". ")[1]
    essay = OWN_OPENING + " " + pasted + " " + OWN_CLOSING

    check = index.check(essay)

    assert check.source == "ref2 (002_6e7bb24f8b07b2a7.txt)"
    assert [p.source for p in check.passages] == ["ref2"]


def test_paraphrase_of_the_same_content_is_not_flagged(index):
    check = index.check(PARAPHRASE_ESSAY)

    assert not check.flagged
    assert check.share < 0.05
    assert check.passages == ()


def test_straight_or_missing_apostrophes_plain_quotes_other_dashes_and_case_still_match(index):
    retyped = (
        REF1_PASTED.replace("Stalin’s", "Stalins")
        .replace("’", "'").replace("“", '"').replace("”", '"').replace("Ogburo he", "Ogburo—he").upper()
    )
    essay = OWN_OPENING + " " + retyped + " " + OWN_CLOSING

    check = index.check(essay)

    assert check.flagged
    assert check.source == "ref1 (001_e5895ce79723c7b0.txt)"
    assert [essay[p.start : p.end] for p in check.passages] == [retyped.rstrip(".")]


def test_essay_quoting_comrade_card_index_is_not_flagged(index):
    # Seven words in a row match the reference ("Stalin was known as Comrade Card-Index"): one short of a run.
    essay = (
        "Inside the party Stalin was known as ‘Comrade Card-Index’ because he handled the dull paperwork that "
        "other leaders ignored. Trotsky, by contrast, spent his energy on speeches and on the Red Army. When Lenin "
        "died in 1924 the party machine already belonged to the General Secretary."
    )

    check = index.check(essay)

    assert not check.flagged
    assert check.share == 0.0
    assert check.passages == ()


def test_empty_essay_has_no_share_and_is_not_flagged(index):
    for essay in ("", "   \n\n", "—!?"):
        assert index.check(essay) == CopyCheck(flagged=False, source=None, share=0.0, passages=())


def test_flag_share_setting_decides_the_flag_not_the_passages(index):
    pasted_sentence = REF1_PASTED.split(". ")[-1]  # 20 words in an essay of about 280
    essay = PARAPHRASE_ESSAY + " " + pasted_sentence

    default = index.check(essay)
    strict = index.check(essay, flag_share=0.05)

    assert 0.05 < default.share < DEFAULT_FLAG_SHARE
    assert not default.flagged and strict.flagged
    assert default.passages == strict.passages
    assert essay[default.passages[0].start : default.passages[0].end] == pasted_sentence.rstrip(".")


def test_a_batch_checks_each_essay_as_if_it_were_alone(index):
    # A batch's words are looked up together; a run across two essays' boundary must not count for either.
    end_of_copy, start_of_copy = REF1_PASTED[: len(REF1_PASTED) // 2], REF1_PASTED[len(REF1_PASTED) // 2 :]
    essays = [PASTING_ESSAY, "", OWN_OPENING + " " + end_of_copy, start_of_copy + " " + OWN_CLOSING, "Too short.", PARAPHRASE_ESSAY]
    groups = {"all": {"ref1", "ref2"}, "second": {"ref2"}}
    assert index.check_many(essays, groups) == [index.check_groups(essay, groups) for essay in essays]
    assert [checks["all"].flagged for checks in index.check_many(essays, groups)] == [True, False, True, True, False, False]


def test_same_input_gives_the_same_output_whatever_the_reference_order():
    forward = ReferenceIndex({"ref1": REF1, "ref2": REF2}, labels=LABELS)
    backward = ReferenceIndex({"ref2": REF2, "ref1": REF1}, labels=LABELS)

    assert forward.check(PASTING_ESSAY) == forward.check(PASTING_ESSAY) == backward.check(PASTING_ESSAY)


def test_a_reference_shared_by_two_references_is_credited_to_the_first_id():
    twin = ReferenceIndex({"b": REF1, "a": REF1})

    check = twin.check(PASTING_ESSAY)

    assert check.source == "a"  # no label given: the id stands in
    assert [p.source for p in check.passages] == ["a"]


def test_copied_sentences_are_masked_and_own_sentences_are_not(index):
    pasted = REF1_PASTED.split(". ")
    sentences = [OWN_OPENING.split(". ")[0] + ".", pasted[1] + ".", pasted[2] + ".", OWN_CLOSING.split(". ")[0] + "."]
    check = index.check(PASTING_ESSAY)

    mask = copied_sentence_mask(sentence_spans(PASTING_ESSAY, sentences), check)

    assert mask == [False, True, True, False]


def test_sentence_half_inside_a_passage_follows_min_overlap():
    essay = "aaaa bbbb cccc dddd"
    check = CopyCheck(passages=(CopiedPassage(0, 9, "ref1"),))  # "aaaa bbbb" of a 19-char sentence

    assert copied_sentence_mask([(0, 19)], check) == [False]
    assert copied_sentence_mask([(0, 19)], check, min_overlap=0.4) == [True]
    assert copied_sentence_mask([(0, len(essay)), (5, 5)], CopyCheck()) == [False, False]


def test_shared_passages_give_offsets_into_both_texts():
    student = OWN_OPENING + " " + REF1_PASTED

    passages = shared_passages(student, REF1)

    assert len(passages) == 1
    p = passages[0]
    assert student[p.start : p.end] == REF1[p.other_start : p.other_end] == REF1_PASTED.rstrip(".")


def test_two_passages_from_different_places_stay_separate():
    first = REF1_INTRO.split(". ")[0]
    second = REF2.split(". ")[1].rstrip(".")
    essay = f"{second}. {first}."

    passages = shared_passages(essay, REF1 + "\n\n" + REF2)

    assert [essay[p.start : p.end] for p in passages] == [second, first]


SHARED_PARAGRAPH = (
    "The most important reason was the Lenin Enrolment of 1924, which flooded the party with young workers who "
    "owed their places to the Secretariat and voted the way they were told at every congress. Because Stalin "
    "controlled the lists of delegates he could be sure of a majority long before any debate began, and Trotsky "
    "never understood that arguments alone could not beat a packed hall."
)


def test_two_essays_sharing_a_paragraph_are_paired_and_a_third_is_not():
    essays = {
        "amy.txt": OWN_OPENING + "\n\n" + SHARED_PARAGRAPH + "\n\n" + OWN_CLOSING,
        "ben.txt": "Trotsky lost because he misjudged his enemies.\n\n" + SHARED_PARAGRAPH,
        "cat.txt": (  # the same point in the student's own words
            "Stalin used the Lenin Enrolment in 1924 to fill the party with young workers who owed him their "
            "places and voted as the Secretariat told them. He controlled who went to congress as a delegate, so "
            "he had a majority before the debates started, and Trotsky's speeches could not beat a packed hall."
        ),
    }

    pairs = find_shared_pairs(essays)

    assert [(p.first, p.second) for p in pairs] == [("amy.txt", "ben.txt")]
    pair = pairs[0]
    assert pair.shared_words == len(SHARED_PARAGRAPH.split())
    [p] = pair.passages
    assert essays["amy.txt"][p.start : p.end] == essays["ben.txt"][p.other_start : p.other_end]
    assert essays["amy.txt"][p.start : p.end] == SHARED_PARAGRAPH.rstrip(".")


def test_essays_sharing_only_a_restated_question_are_not_paired():
    question = "Why did Stalin rather than Trotsky emerge as the leader of the USSR in 1929"
    essays = {"amy.txt": question + "? " + OWN_OPENING, "ben.txt": question + "? " + OWN_CLOSING}

    assert find_shared_pairs(essays) == []
    assert len(find_shared_pairs(essays, min_shared_words=10)) == 1


def test_shared_pairs_do_not_depend_on_batch_order():
    essays = {"c": SHARED_PARAGRAPH, "a": PASTING_ESSAY, "b": "Trotsky lost. " + SHARED_PARAGRAPH, "d": REF1}

    pairs = find_shared_pairs(essays)

    assert pairs == find_shared_pairs(dict(reversed(list(essays.items()))))
    assert [(p.first, p.second) for p in pairs] == [("a", "d"), ("b", "c")]


def test_run_length_below_two_words_is_refused_with_the_setting_named():
    with pytest.raises(RubricateError, match="min_run_words"):
        ReferenceIndex({"ref1": REF1}, min_run_words=1)
    with pytest.raises(RubricateError, match="min_run_words"):
        shared_passages("a b", "a b", min_run_words=0)


def test_left_quote_or_modifier_letter_used_as_apostrophe_still_matches():
    original = "he liked Stalin’s excellent organisation and included him on the Central Committee"
    for typed in ("he liked Stalin‘s excellent organisation and included him on the Central Committee",
                  "he liked Stalinʼs excellent organisation and included him on the Central Committee"):
        [p] = shared_passages(typed, original)
        assert (p.start, p.end) == (0, len(typed))
