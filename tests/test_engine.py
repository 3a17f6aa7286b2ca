"""The coverage engine: what a student sees for clear cases, and the report contract every front end relies on."""
from __future__ import annotations

import json
import re

import pytest

from models.corpus import load_corpus
from models.engine import CoverageModel, load_model
from models.rubric import DEFAULT_RUBRIC, load_rubric

from conftest import DEVSET, HELDOUT, devset_essay

FACTORS = ["general_secretary", "luck", "trotsky_weaknesses", "testament", "alliances"]
MENTIONED, DEVELOPED = 1, 2

# An essay with Windows line endings, curly quotes, bullets and emoji: offsets must still slice it exactly.
MESSY_ESSAY = (
    "Why did Stalin win? \U0001F914\r\n\r\n"
    "\u2022 As General Secretary from 1922 he appointed loyal supporters to important posts \u2014 "
    "\u201cComrade Card-Index\u201d knew every member\u2019s file.\r\n"
    "\u2022 Lenin died in 1924 without naming a successor, which was lucky for Stalin \U0001F340.\r\n\r\n"
    "Trotsky was arrogant and refused to build a faction; he even missed Lenin\u2019s funeral. "
    "Lenin\u2019s testament said Stalin was \u201ctoo rude\u201d and should be removed, but it was never published.\r\n"
    "Stalin allied with Zinoviev and Kamenev against Trotsky, then with Bukharin against them \U0001F91D.\r\n"
)


def levels(report) -> dict[str, int]:
    return {f.id: f.level for f in report.factors}


# ---------------------------------------------------------------- clear cases
def test_essay_about_only_the_testament_scores_testament(model, essay):
    """The codebook counts the testament's suppression ("read only to small groups of delegates ... so Stalin
    survived") for luck too, so luck may be developed; no other factor is."""
    report = model.score(essay("testament_only"))
    found = levels(report)
    assert found["testament"] >= MENTIONED
    assert all(found[f] < DEVELOPED for f in FACTORS if f not in ("testament", "luck")), found


def test_list_of_key_terms_makes_no_point(model, essay):
    report = model.score(essay("key_terms_list"))
    found = levels(report)
    assert all(level < DEVELOPED for level in found.values()), found
    assert all(level == 0 for level in found.values()), found
    assert report.overall == 0


def test_general_secretary_point_made_without_the_words_general_secretary_scores(model, essay):
    text = essay("general_secretary_paraphrase")
    assert "secretary" not in text.lower()
    assert levels(model.score(text))["general_secretary"] >= MENTIONED


def test_a_mind_map_of_key_terms_is_told_it_is_notes_not_that_it_is_not_english(model):
    mind_map = ("STALIN RISE TO POWER\nGen Sec - 1922 - Orgburo - Card Index\nluck - Lenin - 1924 - funeral\n"
                "Trotsky - arrogant - Menshevik - Red Army - Bonaparte\ntestament - rude - Krupskaya\n"
                "alliances - Zinoviev, Kamenev, Bukharin - triumvirate")
    warnings = " ".join(model.score(mind_map).warnings)
    assert "reads as notes or a list of terms" in warnings
    assert "English" not in warnings


def test_an_essay_in_another_language_is_told_so(model):
    french = ("Staline est devenu le chef de l'URSS parce qu'il était secrétaire général du parti. Il a placé ses "
              "partisans dans les postes clés, et ses rivaux l'ont sous-estimé pendant des années.")
    warnings = " ".join(model.score(french).warnings)
    assert "does not seem to be in English" in warnings


MARKUP_WARNING = "Much of this text is HTML, code or markdown markup rather than sentences"


def test_text_that_is_mostly_markup_is_told_so_and_an_essay_with_a_link_is_not(model):
    sentence = "Stalin used his post as General Secretary to appoint loyal supporters to party jobs."
    pasted_page = "".join(f'<div class="essay-body"><span style="x">{w}</span></div>' for w in sentence.split())
    links = " ".join(f"[{w}](https://example.org/notes/{w.lower()})" for w in sentence.split())
    assert MARKUP_WARNING in " ".join(model.score(pasted_page).warnings)
    assert MARKUP_WARNING in " ".join(model.score(links).warnings)
    one_link = f"{sentence} He also kept files on members, as [Service](https://example.org) shows. " * 3
    assert MARKUP_WARNING not in " ".join(model.score(one_link).warnings)


def test_essay_on_the_purges_has_low_coverage_and_an_off_question_warning(model, essay):
    report = model.score(essay("purges_other_question"))
    assert report.overall < 30
    assert any("does not seem to answer the question" in w for w in report.warnings), report.warnings
    assert report.told_off_question
    assert not model.score(devset_essay("d11.txt")).told_off_question  # on the question, if thin: not told


NARRATIVE = (
    "In 1922 Stalin became General Secretary of the Communist Party. In the same year Lenin had his first stroke. In "
    "January 1924 Lenin died and there was a big funeral in Moscow. Petrograd was renamed Leningrad.\n\nIn 1925 Trotsky "
    "lost his job as Commissar for War. In 1927 Trotsky and Zinoviev were expelled from the party. In 1928 Stalin started "
    "the first Five Year Plan and ended the NEP. In 1929 Bukharin was removed from the Politburo.\n\nBy 1929 Stalin was "
    "the leader of the USSR."
)


def test_a_narrative_on_the_question_s_years_is_told_it_makes_no_point_not_that_it_answers_another_question(model):
    # The judge reads it as about this question, and its mark breakdown says so; the warning must not say otherwise.
    report = model.score(NARRATIVE)
    assert [f.level for f in report.factors] == [0] * 5 and report.mark_20 <= 3
    assert not report.told_off_question
    assert any(w.startswith("None of this essay's sentences makes one of the rubric's points") for w in report.warnings)
    answers = next(p for p in report.mark_trace.parts if p.id == "on_question")
    assert answers.marks >= 0


def test_no_sentence_shown_as_a_factor_s_evidence_is_quoted_as_lowering_the_estimate(model):
    # A student told a sentence lowered the mark would cut it, though it earned its factor (heldout h07, h10 were both).
    essays = sorted((DEVSET / "essays").glob("*.txt")) + sorted((HELDOUT / "essays").glob("*.txt"))
    lowered_anywhere = 0
    for path in essays:
        report = model.score(path.read_text(encoding="utf-8"))
        evidence = {(e.start, e.end) for factor in report.factors for e in factor.evidence}
        lowered = [(w.start, w.end) for w in report.wording if w.marks < 0]
        assert not evidence & set(lowered), path.name
        lowered_anywhere += bool(lowered)
    assert lowered_anywhere  # other sentences are still quoted as lowering it


def test_strong_devset_essay_covers_all_five_factors_and_marks_high(model):
    report = model.score((DEVSET / "essays" / "d01.txt").read_text(encoding="utf-8"))
    assert all(level >= MENTIONED for level in levels(report).values()), levels(report)
    assert report.mark_20 >= 14


def test_headings_term_lists_and_bare_timeline_entries_make_no_point(model):
    notes = (
        "Key factors: General Secretary, Lenin's Testament, luck, alliances (troika / triumvirate).\n"
        "Key words: patronage, Comrade Card-Index, grey blur, Bonaparte, Lenin Enrolment.\n"
        "1922 - General Secretary, Orgburo, Politburo\n"
        "1926 - United Opposition (Trotsky, Zinoviev, Kamenev)\n"
        "1928-29 - Bukharin, the Right, NEP\n"
    )
    report = model.score(notes)
    assert all(level == 0 for level in levels(report).values()), levels(report)
    assert any("makes no point" in w for w in report.warnings), report.warnings


def test_a_rubric_for_short_answers_lets_a_phrase_make_its_point(model):
    """`scoring.statements_only: false` is a rule of the similarity scorer, which judges questions with no trained judge."""
    from dataclasses import replace

    phrase = "Key points: appointing loyal supporters to important posts, removing opponents, choosing the congress delegates"
    assert levels(model.score(phrase))["general_secretary"] == 0
    rules = model.without_judge()
    assert levels(rules.score(phrase))["general_secretary"] == 0
    short_answers = rules.with_scoring(replace(rules.scoring, statements_only=False))
    assert levels(short_answers.score(phrase))["general_secretary"] >= MENTIONED


def test_a_note_that_relates_people_still_makes_its_point(model):
    found = levels(model.score("1923-25: a triumvirate with Zinoviev and Kamenev against Trotsky, to keep him out of power."))
    assert found["alliances"] >= MENTIONED


def test_naming_an_example_is_not_explaining_it(model):
    naming = ("The triumvirate was an alliance. The United Opposition was in 1926. "
              "Stalin used alliances. Comrade Card-Index was his nickname.")
    found = levels(model.score(naming))
    assert found["alliances"] == 0 and found["general_secretary"] == 0, found
    explaining = "In 1923 Stalin formed a triumvirate with Zinoviev and Kamenev to keep Trotsky out of power."
    assert levels(model.score(explaining))["alliances"] >= MENTIONED


def test_everyday_words_are_never_corrected_into_rubric_words(model):
    tokens = model.tokens("Zinoviev and Kamenev, still needing Stalin", bigrams=False)
    assert "still" in tokens and "skill" not in tokens
    assert model.speller_.correct("arrogent") == "arrogant"  # a real misspelling is still corrected


def test_a_misspelling_is_one_edit_from_a_known_word_so_a_longer_run_of_letters_is_left_alone():
    from models.spelling import Speller

    speller = Speller(["triumvirate", "testament"])
    assert speller.correct("triumverate") == "triumvirate" and speller.correct("testaments") == "testament"
    assert speller.correct("triumvirates" + "x") == "triumvirates" + "x"  # two edits away
    assert speller.correct("t" * 100_000) == "t" * 100_000


def test_american_spelling_reads_as_the_british_words_of_the_rubric_and_corpus(model):
    american = "Stalin maneuvered his rivals, capitalized on the Lenin Enrollment and organized his defense with favor"
    british = "Stalin manoeuvred his rivals, capitalised on the Lenin Enrolment and organised his defence with favour"
    assert model.tokens(american) == model.tokens(british)
    assert [(f.level, f.score) for f in model.score(american).factors] == [(f.level, f.score) for f in model.score(british).factors]
    assert model.tokens("size, prize, seize and citizen") == ["size", "prize", "seiz", "citizen", "size prize", "prize seiz",
                                                             "seiz citizen"]  # no -ize ending to change


def test_a_sentence_listing_the_factors_makes_none_of_their_points(model):
    text = "Luck, alliances, the testament, the grey blur and Trotsky's weaknesses were all factors and they link together."
    assert all(level == 0 for level in levels(model.score(text)).values())


PRONOUN_SENTENCE = "His arrogance alienated the colleagues whose votes he needed."


def _trotsky_score(model, text: str) -> float:
    return next(f.score for f in model.score(text).factors if f.id == "trotsky_weaknesses")


def test_a_pronoun_carries_the_factor_named_just_before(model):
    referring = f"Trotsky contributed to his own defeat. {PRONOUN_SENTENCE}"
    assert levels(model.score(referring))["trotsky_weaknesses"] >= MENTIONED
    assert _trotsky_score(model, referring) > _trotsky_score(model, PRONOUN_SENTENCE)


@pytest.mark.xfail(strict=True, reason="known limit: the learned judge reads 'his arrogance ... votes he needed' as Trotsky's "
                                        "weakness from its words alone, whoever 'his' refers to (point probability 0.64 "
                                        "alone, 0.82 after a sentence about Zinoviev)")
def test_a_pronoun_with_no_trotsky_before_it_is_not_his_weakness(model):
    assert levels(model.score(PRONOUN_SENTENCE))["trotsky_weaknesses"] == 0


def test_naming_trotsky_beside_a_word_no_cue_uses_is_not_a_weakness(model):
    text = "In the Civil War Stalin defended Tsaritsyn in 1918, although he argued a lot with Trotsky there."
    assert levels(model.score(text))["trotsky_weaknesses"] == 0


# ---------------------------------------------------------------- report contract
CONTRACT_ESSAYS = ("testament_only", "general_secretary_paraphrase", "purges_other_question", "key_terms_list")


def contract_texts(essay) -> list[str]:
    return [essay(name) for name in CONTRACT_ESSAYS] + [MESSY_ESSAY, (DEVSET / "essays" / "d01.txt").read_text(encoding="utf-8")]


def test_every_evidence_sentence_slices_the_original_essay_exactly(model, essay):
    for text in contract_texts(essay):
        for factor in model.score(text).factors:
            for e in factor.evidence:
                assert text[e.start:e.end] == e.text


def test_evidence_offsets_survive_crlf_curly_quotes_bullets_and_emoji(model):
    report = model.score(MESSY_ESSAY)
    evidence = [e for f in report.factors for e in f.evidence]
    assert evidence, "the messy essay makes several points; some evidence should be shown"
    assert any("\u201c" in e.text or "\u2019" in e.text for e in evidence)
    for e in evidence:
        assert MESSY_ESSAY[e.start:e.end] == e.text


def test_levels_scores_coverage_and_mark_stay_in_range(model, essay):
    for text in contract_texts(essay):
        report = model.score(text)
        assert 0 <= report.overall <= 100
        assert isinstance(report.mark_20, int) and 0 <= report.mark_20 <= 20
        assert [f.id for f in report.factors] == FACTORS
        for factor in report.factors:
            assert factor.level in {0, 1, 2}
            assert 0.0 <= factor.score <= 1.0


def test_every_factor_below_developed_has_a_suggestion_with_guidance(model, essay):
    for text in contract_texts(essay):
        for factor in model.score(text).factors:
            if factor.level < DEVELOPED:
                assert factor.suggestion is not None and factor.suggestion.guidance.strip(), factor.id


def test_suggestion_excerpts_quote_the_reference_essays(model, essay):
    corpus = {e.id: e.text for e in model.corpus.essays}
    excerpts = [x for f in model.score(essay("key_terms_list")).factors for x in f.suggestion.excerpts]
    assert excerpts, "a student who made no point should be shown how the reference essays make them"
    for excerpt in excerpts:
        # long excerpts are cut at a word and end with an ellipsis
        quoted = excerpt.text.removesuffix(" \u2026")
        assert excerpt.source in corpus
        assert quoted in corpus[excerpt.source]


def test_a_missing_factors_excerpts_are_reference_sentences_the_judge_reads_as_making_that_point(model):
    report = model.score("Stalin was General Secretary, so he appointed his supporters and they voted for him.")
    suggestions = {f.id: [x.text for x in f.suggestion.excerpts] for f in report.factors if f.level == 0}
    assert set(suggestions) >= {"luck", "trotsky_weaknesses", "testament", "alliances"}
    # Luck is shown by a circumstance of the codebook's (Lenin dying without a successor, rivals taking Stalin for a
    # "grey blur"), not by an essay's opening that only says "a variety of lucky events".
    circumstances = ("without choosing a successor", "grey blur", "saw in the Stalin of 1923")
    assert any(c in text for text in suggestions["luck"] for c in circumstances), suggestions["luck"]
    assert not any("variety of lucky events" in text for text in suggestions["luck"]), suggestions["luck"]
    # Before, Trotsky's suggestion quoted a sentence about Stalin forming alliances.
    assert not any("forming alliances" in text for text in suggestions["trotsky_weaknesses"]), suggestions["trotsky_weaknesses"]
    assert all(text[:1].isupper() for texts in suggestions.values() for text in texts)  # whole sentences, not a clause
    assert all(len({x.source for x in f.suggestion.excerpts}) == 2 for f in report.factors if f.level == 0)  # two essays' ways


def test_same_essay_gives_the_same_json_twice(model, essay):
    text = essay("testament_only")
    first = json.dumps(model.score(text).to_dict(), sort_keys=True)
    second = json.dumps(model.score(text).to_dict(), sort_keys=True)
    assert first == second


def test_scoring_one_essay_and_a_batch_agree(model, essay):
    texts = contract_texts(essay)
    batch = model.score_many(texts)
    for text, report in zip(texts, batch):
        assert json.dumps(report.to_dict(), sort_keys=True) == json.dumps(model.score(text).to_dict(), sort_keys=True)


def test_the_same_essay_twice_in_a_batch_is_marked_as_if_alone(model):
    """A pronoun at the start of the second copy must not refer back into the first copy."""
    essay = "He was proud and aloof and looked down on the others. In the end Trotsky lost."
    alone = model.score(essay).to_dict()
    assert [r.to_dict() for r in model.score_many([essay, essay])] == [alone, alone]


def test_empty_batch_gives_no_reports(model):
    assert model.score_many([]) == []


# ---------------------------------------------------------------- fitted once, vectorized per batch
def test_the_engine_keeps_no_model_cache_and_the_app_keeps_one_per_rubric_file():
    from app import loading

    assert load_model(DEFAULT_RUBRIC) is not load_model(DEFAULT_RUBRIC)  # no hidden process-wide state
    loading.cached_model.clear()
    assert loading.cached_model(str(DEFAULT_RUBRIC)) is loading.cached_model(str(DEFAULT_RUBRIC))


def test_a_batch_of_five_essays_makes_one_vectorizer_call(essay, monkeypatch):
    rubric = load_rubric(DEFAULT_RUBRIC)
    fresh = CoverageModel(rubric, load_corpus(rubric.corpus_path)).fit()
    calls = []
    transform = fresh._tfidf  # the vectorizer's transform, from counts made in one flat pass

    def counting_transform(counts):
        calls.append(counts.shape[0])
        return transform(counts)

    monkeypatch.setattr(fresh, "_tfidf", counting_transform)
    reports = fresh.score_many(contract_texts(essay)[:5])
    assert len(reports) == 5
    assert len(calls) == 1


def test_the_judge_reads_the_same_words_from_counts_shared_with_the_engine(model):
    from models.text import count_tokens

    texts = [(DEVSET / "essays" / name).read_text(encoding="utf-8") for name in ("d01.txt", "d02.txt")]
    vocabulary, judge_columns = model._joint_vocabulary()
    readings, counts = model._read_essays(texts, vocabulary)
    tokens = [t for reading in readings for t in reading.tokens]
    shared = model.judge.sentence_matrix(tokens, counts[:, judge_columns])
    own = model.judge.sentence_matrix(tokens)
    assert (abs(shared - own) > 1e-6).nnz == 0
    readings, counts = model._read_essays(texts)  # the engine's own vocabulary: the counts come back as counted
    assert (counts != count_tokens([t for r in readings for t in r.tokens], model.vectorizer_.vocabulary_)).nnz == 0


def test_counting_function_words_a_block_at_a_time_gives_the_whole_count_verdict():
    from models.engine import FUNCTION_WORD_BLOCK, _ENGLISH_FUNCTION_WORDS, _function_words_fewer_than

    prose = ("the testament was hidden and it was lucky for him " * 40).split()
    notes = ("Secretariat Orgburo patronage nomenklatura " * 100).split()
    for words in (prose, notes, notes + prose[:30], prose[:5] + notes, notes[: FUNCTION_WORD_BLOCK] + prose[:20]):
        for share in (0.02, 0.08, 0.3):
            whole = sum(w in _ENGLISH_FUNCTION_WORDS for w in words) < share * len(words)
            assert _function_words_fewer_than(words, share * len(words)) == whole


def test_scoring_leaves_the_garbage_collector_as_it_found_it(model):
    import gc

    assert gc.isenabled()
    model.score("Stalin was General Secretary, so he appointed his supporters.")
    assert gc.isenabled()
    gc.disable()
    try:
        model.score("Stalin was General Secretary, so he appointed his supporters.")
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_report_read_back_from_its_json_is_the_same_report(model, essay):
    from models.report import Report

    for text in (essay("testament_only"), essay("key_terms_list"), (DEVSET / "essays" / "d01.txt").read_text(encoding="utf-8")):
        report = model.score(text)
        assert Report.from_dict(report.to_dict()) == report
        assert Report.from_dict({"source": "x.txt", "status": "ok", **report.to_dict()}) == report
