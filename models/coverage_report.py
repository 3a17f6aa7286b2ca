"""Coverage analysis for tutors: how well a batch covers the rubric, and how well the corpus supports it.

The corpus half reads every reference sentence against the fitted model, so a
tutor can see which factors rest on many reference sentences, which rest on few
(weak support, unreliable suggestions), and which reference sentences match no
factor at all (perhaps a point the rubric is missing).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.engine import CoverageModel

WEAK_SUPPORT_SENTENCES = 3  # fewer reference sentences than this making a point: weak support
STRONGEST_PER_FACTOR = 3
MIN_GAP_WORDS = 8  # shorter unmatched sentences are headings and asides, not missing points


@dataclass(frozen=True)
class ReferenceSentence:
    essay_id: str
    text: str
    score: float  # the best factor score of the sentence, in [0, 1]
    factor_id: str | None = None  # the factor it scores best for, when it makes that point


@dataclass(frozen=True)
class CorpusSupport:
    """Reference essays × factors: how many sentences of each essay make each factor's point."""

    factor_ids: tuple[str, ...]
    factor_names: tuple[str, ...]
    essay_ids: tuple[str, ...]
    essay_titles: tuple[str, ...]
    counts: np.ndarray  # [essay, factor] sentences at or above the point threshold
    max_scores: np.ndarray  # [essay, factor] best sentence score
    strongest: dict[str, tuple[ReferenceSentence, ...]]  # factor id -> best sentences, best first
    weak_factors: tuple[str, ...]  # factor ids with fewer than WEAK_SUPPORT_SENTENCES supporting sentences
    unmatched: tuple[ReferenceSentence, ...]  # sentences that make no factor's point, longest first
    point_threshold: float

    def supporting_sentences(self, factor_id: str) -> int:
        return int(self.counts[:, self.factor_ids.index(factor_id)].sum())


def corpus_support(model: CoverageModel) -> CorpusSupport:
    """Score every reference sentence against every factor, the way an essay sentence is scored."""
    rubric, threshold = model.rubric, model.scoring.point_threshold
    essays = model.corpus.essays
    n_factors = len(rubric.factors)
    counts = np.zeros((len(essays), n_factors), dtype=int)
    max_scores = np.zeros((len(essays), n_factors), dtype=float)
    candidates: list[list[ReferenceSentence]] = [[] for _ in range(n_factors)]
    unmatched: list[ReferenceSentence] = []
    # Unmasked: every reference sentence trivially "copies" its own reference essay.
    for e, (essay, reading) in enumerate(zip(essays, model.read_essays([essay.text for essay in essays]))):
        sentences, scores = reading.sentences, reading.unmasked_scores
        if not sentences:
            continue
        counts[e] = (scores >= threshold).sum(axis=0)
        max_scores[e] = scores.max(axis=0)
        for s, sentence in enumerate(sentences):
            best = int(scores[s].argmax())
            if scores[s, best] >= threshold:
                for f in np.flatnonzero(scores[s] >= threshold):
                    candidates[f].append(ReferenceSentence(essay.id, sentence.text, round(float(scores[s, f]), 3), rubric.factors[f].id))
            elif len(sentence.text.split()) >= MIN_GAP_WORDS:
                unmatched.append(ReferenceSentence(essay.id, sentence.text, round(float(scores[s, best]), 3)))
    strongest = {
        factor.id: tuple(sorted(candidates[f], key=lambda r: -r.score)[:STRONGEST_PER_FACTOR])
        for f, factor in enumerate(rubric.factors)
    }
    totals = counts.sum(axis=0)
    return CorpusSupport(
        factor_ids=tuple(rubric.factor_ids),
        factor_names=tuple(f.name for f in rubric.factors),
        essay_ids=tuple(e.id for e in essays),
        essay_titles=tuple(e.title for e in essays),
        counts=counts,
        max_scores=max_scores,
        strongest=strongest,
        weak_factors=tuple(f.id for f, total in zip(rubric.factors, totals) if total < WEAK_SUPPORT_SENTENCES),
        unmatched=tuple(sorted(unmatched, key=lambda r: (r.score, -len(r.text)))),
        point_threshold=threshold,
    )


@dataclass(frozen=True)
class BatchCoverage:
    """How a marked batch covers each factor, from the batch's rows (failed inputs are left out)."""

    factor_ids: tuple[str, ...]
    factor_names: tuple[str, ...]
    essays: int
    mentioned_or_better: tuple[int, ...]  # essays at level 1 or 2, per factor
    developed: tuple[int, ...]  # essays at level 2, per factor
    marks: tuple[int, ...]

    def most_missed(self) -> list[tuple[str, int]]:
        """(factor name, essays where it is absent), most missed first; factors nobody missed are left out."""
        missed = [(name, self.essays - n) for name, n in zip(self.factor_names, self.mentioned_or_better)]
        return sorted([m for m in missed if m[1] > 0], key=lambda m: -m[1])


def batch_coverage(rows: list[dict], factor_ids: list[str], factor_names: list[str]) -> BatchCoverage:
    """Count, per factor, the marked essays that mention and that develop it."""
    marked = [row for row in rows if row.get("status") == "ok"]
    levels = [{f["id"]: f["level"] for f in row["factors"]} for row in marked]
    return BatchCoverage(
        factor_ids=tuple(factor_ids),
        factor_names=tuple(factor_names),
        essays=len(marked),
        mentioned_or_better=tuple(sum(1 for lv in levels if lv.get(fid, 0) >= 1) for fid in factor_ids),
        developed=tuple(sum(1 for lv in levels if lv.get(fid, 0) >= 2) for fid in factor_ids),
        marks=tuple(int(row["mark_20"]) for row in marked),
    )
