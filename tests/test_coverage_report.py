"""Coverage analysis: how a batch covers the rubric, and how the reference essays support each factor."""
from __future__ import annotations

import pytest

from models.coverage_report import MIN_GAP_WORDS, WEAK_SUPPORT_SENTENCES, batch_coverage, corpus_support
from models.engine import load_model


@pytest.fixture(scope="module")
def model():
    return load_model()


@pytest.fixture(scope="module")
def support(model):
    return corpus_support(model)


def test_matrix_has_a_row_per_reference_essay_and_a_column_per_factor(model, support):
    assert support.essay_ids == tuple(e.id for e in model.corpus.essays)
    assert support.factor_ids == tuple(model.rubric.factor_ids)
    assert support.counts.shape == (len(model.corpus.essays), len(model.rubric.factors))
    assert support.max_scores.shape == support.counts.shape


def test_counts_are_sentences_at_or_above_the_point_threshold(model, support):
    threshold = model.scoring.point_threshold
    assert support.point_threshold == threshold
    for e, essay in enumerate(model.corpus.essays):
        reading = model.read_essays([essay.text])[0]
        scores = reading.unmasked_scores  # a reference essay is read as an essay would be, but is not "copying" itself
        assert list(support.counts[e]) == [int((scores[:, f] >= threshold).sum()) for f in range(scores.shape[1])]
        assert support.counts[e].sum() <= len(reading.sentences) * len(model.rubric.factors)


def test_the_corpus_supports_the_general_secretary_factor(support):
    assert support.supporting_sentences("general_secretary") >= WEAK_SUPPORT_SENTENCES
    assert "general_secretary" not in support.weak_factors


def test_strongest_sentences_come_from_the_corpus_best_first_and_make_the_point(model, support):
    texts = {e.id: e.text for e in model.corpus.essays}
    for factor_id, sentences in support.strongest.items():
        scores = [s.score for s in sentences]
        assert scores == sorted(scores, reverse=True)
        for sentence in sentences:
            assert sentence.factor_id == factor_id
            assert sentence.text in texts[sentence.essay_id]
            assert sentence.score >= support.point_threshold


def test_weak_factors_are_exactly_those_with_few_supporting_sentences(support):
    expected = tuple(f for f in support.factor_ids if support.supporting_sentences(f) < WEAK_SUPPORT_SENTENCES)
    assert support.weak_factors == expected


def test_unmatched_sentences_make_no_point_and_are_long_enough_to_be_one(model, support):
    assert support.unmatched, "a web corpus always has sentences off the rubric"
    texts = {e.id: e.text for e in model.corpus.essays}
    for sentence in support.unmatched:
        assert sentence.score < support.point_threshold
        assert sentence.factor_id is None
        assert len(sentence.text.split()) >= MIN_GAP_WORDS
        assert sentence.text in texts[sentence.essay_id]


def _row(status="ok", levels=(), mark=10):
    if status != "ok":
        return {"source": "bad.png", "student": "bad", "status": "error", "error": "bad.png: not an essay"}
    return {
        "source": "a.txt", "student": "a", "status": "ok", "error": None, "mark_20": mark,
        "factors": [{"id": fid, "level": level} for fid, level in levels],
    }


def test_batch_coverage_counts_mentioned_and_developed_and_skips_failed_files():
    rows = [
        _row(levels=[("gs", 2), ("luck", 0)], mark=14),
        _row(levels=[("gs", 1), ("luck", 0)], mark=8),
        _row(levels=[("gs", 0), ("luck", 1)], mark=3),
        _row(status="error"),
    ]
    cover = batch_coverage(rows, ["gs", "luck"], ["General Secretary", "Luck"])
    assert cover.essays == 3
    assert cover.mentioned_or_better == (2, 1)
    assert cover.developed == (1, 0)
    assert cover.marks == (14, 8, 3)
    assert cover.most_missed() == [("Luck", 2), ("General Secretary", 1)]


def test_batch_where_everyone_covers_everything_misses_nothing():
    cover = batch_coverage([_row(levels=[("gs", 2)])], ["gs"], ["General Secretary"])
    assert cover.most_missed() == []
