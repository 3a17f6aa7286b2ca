"""The coverage engine: fitted once from a rubric and its reference corpus, then scores many essays.

An essay moves one way: text -> sentences with offsets -> word stems -> TF-IDF
vectors (one vectorizer call per batch) -> similarity to each factor's points ->
levels, evidence and suggestions -> one Report.

A sentence makes a factor's point when it is close to one of the factor's point
statements (the rubric's cues and the reference sentences that make them). Words
that only *name* a factor (its terms) and people's names are discounted in that
comparison, so "General Secretary" in a list, or "Trotsky" as a name, earns nothing.
"""
from __future__ import annotations

import gc
import re
from bisect import bisect_left
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer
from sklearn.preprocessing import normalize
from threadpoolctl import threadpool_limits

from models.copying import ReferenceIndex, copied_sentence_mask
from models.corpus import Corpus, load_corpus
from models.errors import RubricateError
from models.judge import MARK_PARTS, Judge, Judgement, load_judge
from models.report import OFF_QUESTION_WARNING, CopyCheck, Evidence, Excerpt, FactorResult, MarkPart, MarkTrace, Report, Suggestion, WordingEffect
from models.rubric import Rubric, Scoring, load_rubric
from models.spelling import Speller
from models.text import (STOP_WORDS, Sentence, Words, count_tokens, opens_with_date, persons_pattern, points_back, sentence_shapes,
                         split_sentences, stem, word_spans, words, words_make_statement)

RUBRIC_WORDING = "the rubric's own wording or Rubricate's guidance"
BORROWED_SHARE = 0.8  # a sentence this much inside runs shared with the rubric's wording is the rubric's, not the student's
MAX_EVIDENCE = 4  # sentences shown per factor: enough to trust the judgement, few enough to read
EXCERPTS_PER_SUGGESTION = 2
MAX_EXCERPT_WORDS = 45
EXEMPLAR_THRESHOLD = 0.25  # a reference sentence scoring this against the cues joins the factor's points
SHORT_ESSAY_WORDS = 80
# Words that point at a factor without saying anything about it ("another reason", "a key factor", "important").
SIGNPOST_WORDS = ("factor", "factors", "reason", "reasons", "another", "also", "important", "importance", "role", "key", "term",
                  "terms", "word", "words", "main", "major", "cause", "causes", "significant", "part", "big", "first", "second",
                  "third", "finally", "lastly", "addition", "furthermore", "moreover", "one", "was", "were", "is", "a", "the")
STRONG_POINT = 0.6  # one sentence scoring this makes an essay clearly about the question, however weak otherwise


def _identity(tokens: list[str]) -> list[str]:
    return tokens


@dataclass(frozen=True)
class _Point:
    """One statement of a factor's point: a rubric cue or a reference sentence."""

    text: str
    source: str  # "rubric" or the corpus essay id


class _ContentStems(dict):
    """word -> its content stem, or "" for a stop word or a single letter; each word worked out once per model."""

    def __init__(self, model: "CoverageModel"):
        super().__init__()
        self.model = model

    def __missing__(self, word: str) -> str:
        stemmed = self.model.stem_word(word) if word not in STOP_WORDS and len(word) > 1 else ""
        self[word] = "" if stemmed in STOP_WORDS else stemmed
        return self[word]


@dataclass(frozen=True)
class EssayReading:
    """One essay read sentence by sentence: the inputs of its report."""

    sentences: list[Sentence]
    words: Words
    scores: np.ndarray  # sentence x factor point scores, copied sentences masked
    unmasked_scores: np.ndarray  # the same before copy masking (is the essay about the question at all?)
    closest: np.ndarray  # sentence x factor: index of the closest point
    off_topic: np.ndarray  # per sentence: closeness to the rubric's off-topic statements
    named: np.ndarray  # sentence x factor: 1 where the sentence names the factor
    copy_check: CopyCheck
    copied: np.ndarray  # per sentence: repeats a reference essay
    similarity: np.ndarray  # sentence x factor: closeness to the nearest point before any rule applies
    referred: np.ndarray  # sentence x factor: refers back by pronoun to the factor named just before
    statement: np.ndarray  # per sentence: asserts or relates something (not a heading or a list)
    tokens: list[list[str]]  # per sentence: its content stems and bigrams
    repeated: np.ndarray  # per sentence: repeats an earlier sentence of the same essay
    withheld: np.ndarray  # per sentence: earns no credit (repeated, borrowed, or copied where the rubric gives copies none)
    borrowed: np.ndarray  # per sentence: repeats the rubric's own statements or the tool's guidance word for word
    substance: np.ndarray  # per sentence: how many of its words say something beyond naming factors and signposting
    note_shaped: np.ndarray  # per sentence: written as a revision note ("Term: definition", "A -> B -> C"), not prose
    dated: np.ndarray  # per sentence: opens with its date, as a narrative tells events
    bare_definition: np.ndarray  # per sentence: only says what a term is, naming nobody (a glossary line)
    word_ranges: np.ndarray  # sentence x 2: the [first, last) indices of its words in `words.words`


class CoverageModel:
    """Reads essays against one rubric and its reference corpus.

    Like a scikit-learn estimator: the constructor stores, `fit` learns the
    vocabulary and factor points once, `score`/`score_many` apply them.
    """

    def __init__(self, rubric: Rubric, corpus: Corpus, scoring: Scoring | None = None, judge: Judge | None = None):
        """`judge`: a learned judgement (`models/judge.py`) trained for this rubric; without one the similarity
        rules judge alone (a new question with no labelled essays)."""
        self.rubric = rubric
        self.corpus = corpus
        self.scoring = scoring or rubric.scoring
        self.judge = judge

    # ---------------------------------------------------------------- fitting
    def fit(self) -> "CoverageModel":
        rubric, corpus = self.rubric, self.corpus
        reference_sentences = [
            (essay.id, s.text) for essay in corpus.essays for s in split_sentences(essay.text)
        ]
        rubric_texts = [rubric.question] + list(rubric.off_topic)
        for factor in rubric.factors:
            rubric_texts += [factor.name, factor.description, factor.guidance, *factor.cues, *factor.terms, *factor.details]
        known = {w for text in rubric_texts + [t for _, t in reference_sentences] for w in words(text)}
        # Everyday English words are never "misspellings" of a rubric word ("still" is not "skill").
        known |= STOP_WORDS | ENGLISH_STOP_WORDS
        self.speller_ = Speller(known | set(rubric.synonyms.values()), rubric.synonyms)
        # Synonyms join at the stem, so every form of "haughty" counts as "arrogant".
        self.synonym_stems_ = {stem(variant): stem(canonical) for variant, canonical in rubric.synonyms.items()}
        self._stem_cache: dict[str, str] = {}
        self._content_stems = _ContentStems(self)

        self.vectorizer_ = TfidfVectorizer(analyzer=_identity, sublinear_tf=True, norm=None, dtype=np.float32)
        self.vectorizer_.fit([self.tokens(t) for t in rubric_texts] + [self.tokens(t) for _, t in reference_sentences])
        vocabulary = self.vectorizer_.vocabulary_
        # Names, domain words and every factor's terms name things; on their own they make no point.
        name_stems = {self.stem_word(w) for name in rubric.names + rubric.common_words for w in words(name)}
        all_term_stems = {s for factor in rubric.factors for term in factor.terms for s in self.tokens(term, bigrams=False)}
        # "Another factor was the General Secretary role." names a factor and signposts; none of its words is a point.
        self.naming_stems_ = frozenset(name_stems | all_term_stems | {self.stem_word(w) for w in SIGNPOST_WORDS})
        self.persons_ = persons_pattern(rubric.names)
        # Words written with a capital in ordinary type, so a sentence typed in capitals reads as typed normally.
        self.known_names_ = _capitalised_words([*rubric.names, *(term for factor in rubric.factors for term in factor.terms)])
        base_weights = np.ones(len(vocabulary), dtype=np.float32)
        # Unigram point words: shared ones are counted, so one common word is not a point.
        point_words = np.zeros(len(vocabulary), dtype=np.float32)
        for token, column in vocabulary.items():
            parts = token.split(" ")
            if any(part in name_stems or part in all_term_stems or part[:1].isdigit() for part in parts):
                base_weights[column] = self.scoring.name_weight
            elif len(parts) == 1:
                point_words[column] = 1.0
        self.base_weights_ = base_weights

        person_names = {name.lower() for name in rubric.names}
        self.warning_terms_ = [[frozenset(self.tokens(term, bigrams=False)) for term in factor.terms
                                if term.lower() not in person_names and self.tokens(term, bigrams=False)] for factor in rubric.factors]
        self.factor_weights_: list[np.ndarray] = []
        self.factor_point_words_: list[np.ndarray] = []
        self.factor_own_words_: list[np.ndarray] = []
        term_columns: list[list[list[int]]] = []  # per factor, per term: the vocabulary columns of its stems
        cue_matrices = []
        for factor in rubric.factors:
            terms = [frozenset(self.tokens(term, bigrams=False)) for term in factor.terms]
            terms = [t for t in terms if t]
            term_stems = set().union(*terms) if terms else set()
            weights = base_weights.copy()
            for token, column in vocabulary.items():
                if all(part in term_stems for part in token.split(" ")):
                    weights[column] = 0.0
            self.factor_weights_.append(weights)
            self.factor_point_words_.append(point_words * (weights > 0))
            # The rubric's own words for the point: with the factor named, one of these makes the point,
            # but not a word that only some reference sentence happens to use ("argue", "look").
            own_words = {t for text in (*factor.cues, factor.description, *factor.details) for t in self.tokens(text, bigrams=False)}
            own = np.zeros(len(vocabulary), dtype=np.float32)
            own[[vocabulary[t] for t in own_words if t in vocabulary]] = 1.0
            self.factor_own_words_.append(self.factor_point_words_[-1] * own)
            term_columns.append([[vocabulary[stem] for stem in term] for term in terms if all(t in vocabulary for t in term)])
            cue_matrices.append(self._weighted(self.vectorizer_.transform([self.tokens(c) for c in factor.cues]), weights))

        # Terms as columns of stems, so one product counts how many of each term's stems every sentence holds.
        terms = [(f, sorted(set(columns))) for f, factor_terms in enumerate(term_columns) for columns in factor_terms]
        self.term_stems_ = sparse.csr_matrix((np.ones(sum(len(c) for _, c in terms), dtype=np.float32),
                                              ([column for _, c in terms for column in c], [t for t, (_, c) in enumerate(terms) for _ in c])),
                                             shape=(len(vocabulary), len(terms)))
        self.term_sizes_ = np.array([len(c) for _, c in terms], dtype=np.float32)
        self.term_factors_ = np.zeros((len(terms), len(rubric.factors)), dtype=np.float32)
        self.term_factors_[np.arange(len(terms)), [f for f, _ in terms]] = 1.0
        self.off_topic_matrix_ = (
            self._weighted(self.vectorizer_.transform([self.tokens(t) for t in rubric.off_topic]), base_weights) if rubric.off_topic else None
        )
        self.points_ = [[_Point(cue, "rubric") for cue in factor.cues] for factor in rubric.factors]
        self._set_points(cue_matrices)

        # Reference sentences that make a factor's point (scored against the cues alone, exactly as
        # a student's sentence would be) become more ways of saying it, and the excerpts of suggestions.
        reference_tokens = [self.tokens(t) for _, t in reference_sentences]
        reference_matrix = self.vectorizer_.transform(reference_tokens)
        reference_named = self._names_factors(reference_matrix)
        closeness = self.sentence_scores(reference_matrix, named=reference_named)[0]
        self.excerpts_: list[list[tuple[float, Excerpt]]] = []
        point_matrices = []
        whole_sentence = np.array([t.rstrip().endswith((".", "!", "?", '"', "”")) for _, t in reference_sentences])
        for index in range(len(rubric.factors)):
            ranked = [i for i in np.argsort(-closeness[:, index], kind="stable") if closeness[i, index] >= EXEMPLAR_THRESHOLD]
            self.points_[index] += [_Point(reference_sentences[i][1], reference_sentences[i][0]) for i in ranked]
            weighted = self._weighted(reference_matrix[ranked], self.factor_weights_[index]) if ranked else None
            point_matrices.append(sparse.vstack([cue_matrices[index]] + ([weighted] if weighted is not None else [])).tocsr())
            # Excerpts show the point itself: rank without the bonus for naming the factor, whole sentences first.
            content = closeness[:, index] / (1.0 + self.scoring.term_boost * reference_named[:, index])
            content = content * np.where(whole_sentence, 1.0, 0.7)
            self.excerpts_.append(
                [(float(content[i]), Excerpt(_shorten(reference_sentences[i][1]), reference_sentences[i][0]))
                 for i in sorted(ranked, key=lambda i: -content[i])]
            )
        self._set_points(point_matrices)
        # Built once: every essay missing a factor gets the same guidance and excerpts.
        self.suggestions_ = [Suggestion(factor.guidance, tuple(e for _, e in self.excerpts_[f][:EXCERPTS_PER_SUGGESTION]))
                             for f, factor in enumerate(rubric.factors)]
        # One index for the reference essays and, apart, the rubric's own statements and the tool's guidance: pasted
        # back, those are not the student's explanation either. One pass over an essay checks both. A copy of a reference
        # essay may hide behind a synonym now and then; the rubric's cues are written the way students put a point, so a
        # sentence differing from one by a word may well be the student's own: only exact runs of them count.
        references = {essay.id: essay.text for essay in corpus.essays}
        labels = {essay.id: f"{essay.id} ({essay.source_file})" for essay in corpus.essays}
        wording = {f"rubric {factor.id} {kind}": "\n".join(texts) for factor in rubric.factors
                   for kind, texts in (("cues", factor.cues), ("description", [factor.description]), ("guidance", [factor.guidance]))}
        self.copy_groups_ = {"references": set(references), "wording": set(wording)}
        self.copy_index_ = ReferenceIndex({**references, **wording}, labels={**labels, **{key: RUBRIC_WORDING for key in wording}},
                                          min_run_words=rubric.copy.min_run_words, substitutions_in=set(references))
        if self.judge is not None:
            self.suggestions_ = self._judged_suggestions()
        return self

    def _judged_suggestions(self) -> list[Suggestion]:
        """Excerpts the learned judge reads as making the factor's point, more than any other factor's: what a student
        can learn the point from. The similarity ranking showed a sentence about forming alliances as Trotsky's weakness,
        and an essay's opening ("due to a variety of lucky events") for luck, where the judge picks Lenin dying without
        choosing a successor. Whole sentences, from two essays where it can; the similarity ranking fills any place left."""
        essays = self.corpus.essays
        # Read as a student's own sentences: every one of them is, of course, a copy of a reference essay.
        readings = [replace(r, copied=np.zeros_like(r.copied)) for r in self.read_essays([e.text for e in essays])]
        point = self.judge.point_probabilities(readings)
        sentences = [(essay.id, s.text) for essay, reading in zip(essays, readings) for s in reading.sentences]
        whole = [text[:1].isupper() and text.rstrip().endswith((".", "!", "?", '"', "”")) for _, text in sentences]
        suggestions = []
        for f, factor in enumerate(self.rubric.factors):
            margin = point[:, f] - (np.delete(point, f, axis=1).max(axis=1) if point.shape[1] > 1 else 0.0)
            ranked = [i for i in np.argsort(-margin, kind="stable") if whole[i] and point[i, f] >= 0.5 and margin[i] > 0]
            # Two essays' ways of making the point say more than two sentences of one: after the best, other essays first.
            chosen = ranked[:1] + sorted(ranked[1:], key=lambda i: sentences[i][0] == sentences[ranked[0]][0])
            excerpts = [Excerpt(_shorten(sentences[i][1]), sentences[i][0]) for i in chosen[:EXCERPTS_PER_SUGGESTION]]
            excerpts += [e for _, e in self.excerpts_[f] if e not in excerpts][: EXCERPTS_PER_SUGGESTION - len(excerpts)]
            suggestions.append(Suggestion(factor.guidance, tuple(excerpts)))
        return suggestions

    def with_judge(self, judge: Judge | None) -> "CoverageModel":
        """The same fitted model judged by another (or a recalibrated) judge."""
        clone = object.__new__(CoverageModel)
        clone.__dict__.update(self.__dict__)
        clone.judge = judge
        return clone

    def with_scoring(self, scoring: Scoring) -> "CoverageModel":
        """The same fitted model with other thresholds (for tuning); refits only if name weights change."""
        if scoring.name_weight != self.scoring.name_weight:
            return CoverageModel(self.rubric, self.corpus, scoring, self.judge).fit()
        clone = object.__new__(CoverageModel)
        clone.__dict__.update(self.__dict__)
        clone.scoring = scoring
        return clone

    def without_judge(self) -> "CoverageModel":
        """The same fitted model judging by the similarity rules alone (for comparison)."""
        return self.with_judge(None)

    # ---------------------------------------------------------------- text to vectors
    def stem_word(self, word: str) -> str:
        cached = self._stem_cache.get(word)
        if cached is None:
            stemmed = stem(self.speller_.correct(word))
            cached = self._stem_cache[word] = self.synonym_stems_.get(stemmed, stemmed)
        return cached

    def tokens(self, text: str, bigrams: bool = True) -> list[str]:
        """Content stems (spelling corrected) and, for phrases, bigrams of neighbouring stems."""
        return self.tokens_of_words(words(text), bigrams)

    def tokens_of_words(self, text_words: list[str], bigrams: bool = True) -> list[str]:
        """The stems, then (with `bigrams`) the bigrams between them: `stems_of` gives the stems back."""
        # map and filter over C callables: the batch's hottest loop, 40% faster than comprehensions.
        stems = list(filter(None, map(self._content_stems.__getitem__, text_words)))
        if bigrams:
            stems.extend(map(" ".join, zip(stems[:-1], stems[1:])))
        return stems

    def _tfidf(self, counts: sparse.csr_matrix) -> sparse.csr_matrix:
        """`self.vectorizer_.transform(token_lists)` from the lists' `count_tokens` (one flat pass: the batch's hot path);
        `counts` is left as it was."""
        sublinear = sparse.csr_matrix((np.log(counts.data) + 1.0, counts.indices, counts.indptr), shape=counts.shape)  # as configured
        return sparse.csr_matrix(sublinear.multiply(self.vectorizer_.idf_.astype(np.float32)[np.newaxis, :]))

    def _set_points(self, matrices: list[sparse.csr_matrix]) -> None:
        point_words = [self._point_words(m, f) for f, m in enumerate(matrices)]
        # The same, keeping only the rubric's own words for each factor (for the relaxed rule).
        own_words = [sparse.csr_matrix(m.multiply(self.factor_own_words_[f][np.newaxis, :])) for f, m in enumerate(point_words)]
        # Every factor's points side by side, so a batch of sentences meets all of them in one product per kind:
        # scipy's cost per call, not the arithmetic, is what a single essay waits for.
        self.point_blocks_ = np.cumsum([0] + [m.shape[0] for m in matrices])
        # A point row is already weighted and unit length; weighting it again by the factor's word weights makes
        # sentence @ row.T the sentence's weighted dot product, which its weighted norm turns into the cosine.
        self.weighted_points_t_ = sparse.vstack([sparse.csr_matrix(m.multiply(self.factor_weights_[f][np.newaxis, :]))
                                                 for f, m in enumerate(matrices)]).T.tocsr()
        self.point_words_t_ = sparse.vstack(point_words).T.tocsr()
        self.point_own_words_t_ = sparse.vstack(own_words).T.tocsr()
        self.squared_factor_weights_ = np.stack([w * w for w in self.factor_weights_], axis=1)

    def _point_words(self, matrix: sparse.spmatrix, factor_index: int) -> sparse.csr_matrix:
        """1 where a row has a point word of the factor (not a name, year or the factor's own term)."""
        binary = sparse.csr_matrix(matrix, copy=True)
        binary.data = np.ones_like(binary.data)
        return sparse.csr_matrix(binary.multiply(self.factor_point_words_[factor_index][np.newaxis, :]))

    @staticmethod
    def _weighted(matrix: sparse.spmatrix, weights: np.ndarray) -> sparse.csr_matrix:
        return normalize(sparse.csr_matrix(matrix.multiply(weights[np.newaxis, :])))

    # ---------------------------------------------------------------- scoring
    def score(self, essay: str) -> Report:
        return self.score_many([essay])[0]

    def score_many(self, essays: list[str]) -> list[Report]:
        """Score a batch with one vectorizer call for all its sentences."""
        with _collection_paused():
            if self.judge is None:
                readings, judgements = self.read_essays(essays), [None] * len(essays)
            else:
                vocabulary, judge_columns = self._joint_vocabulary()
                readings, counts = self._read_essays(essays, vocabulary)
                judgements = self.judge.judge_many(readings, counts[:, judge_columns] if counts is not None else None)
            return [self._report(essay, reading, judgement) for essay, reading, judgement in zip(essays, readings, judgements)]

    def read_essays(self, essays: list[str]) -> list["EssayReading"]:
        """Each essay's sentences and their final point scores (what levels and evidence are made from)."""
        return self._read_essays(essays)[0]

    def _joint_vocabulary(self) -> tuple[dict[str, int], np.ndarray]:
        """The engine's vocabulary with the judge's other tokens after it, and where each of the judge's tokens lies in
        it: one lookup per token serves both (the two lookups were a twentieth of a batch's time). Made on first use
        for each judge (a recalibrated or refitted judge may bring other tokens)."""
        made = self.__dict__.get("_joint_vocabulary_for")
        if made is not None and made[0] is self.judge:
            return made[1], made[2]
        joint = dict(self.vectorizer_.vocabulary_)
        for token in self.judge.vocabulary:
            joint.setdefault(token, len(joint))
        judge_columns = np.array([joint[token] for token in self.judge.vocabulary], dtype=np.int64)
        self._joint_vocabulary_for = (self.judge, joint, judge_columns)
        return joint, judge_columns

    def _read_essays(self, essays: list[str], vocabulary: dict[str, int] | None = None) -> tuple[list["EssayReading"], sparse.csr_matrix | None]:
        """`read_essays`, and the batch's sentence x token counts over `vocabulary` (the engine's by default; a larger
        one must hold the engine's first, as `_joint_vocabulary` does), None for a batch without a sentence."""
        split = [split_sentences(essay) for essay in essays]
        found = [word_spans(essay) for essay in essays]  # one pass per essay serves tokens, copy check and warnings
        # Each sentence of the batch: its essay's number, the essay, its words, the sentence and its words' index range
        # (the essay's words that begin inside the sentence, found without reading it again).
        located = [(number, essay, essay_words, sentence, bisect_left(essay_words.starts, sentence.start),
                    bisect_left(essay_words.starts, sentence.end))
                   for number, (essay, essay_words, sentences) in enumerate(zip(essays, found, split)) for sentence in sentences]
        sentence_words = [essay_words.words[a:b] for _, _, essay_words, _, a, b in located]
        token_lists = [self.tokens_of_words(w) for w in sentence_words]
        word_ranges = np.array([(a, b) for *_, a, b in located], dtype=np.int64).reshape(-1, 2)
        n_factors = len(self.rubric.factors)
        counts = None
        if token_lists:
            counts = count_tokens(token_lists, self.vectorizer_.vocabulary_ if vocabulary is None else vocabulary)
            matrix = self._tfidf(counts if vocabulary is None else counts[:, : len(self.vectorizer_.vocabulary_)])
            # Scored once for all the batch's sentences: scipy's per-call overhead, not arithmetic, dominated per essay.
            off_topic = self._off_topic_similarity(matrix)
            named = self._names_factors(matrix)
            referred = _referred(named, located, sentence_words)
            scores, closest, similarity = self.sentence_scores(matrix, off_topic, named, referred)
            # A heading, a list of terms or a bare date entry states nothing, so it makes no point. Every sentence is
            # checked: the judge reads words the similarity scores do not know ("Secretariat" alone on a line).
            statement = np.array([words_make_statement(essay, sentence_words[r], w.starts[a:b], w.ends[a:b], sentence.start,
                                                       self.known_names_)
                                  for r, (_, essay, w, sentence, a, b) in enumerate(located)], dtype=bool)
            if self.scoring.statements_only:
                scores[~statement, :] = 0.0
            # "Luck, alliances and the testament were all factors" lists factors; it explains none of them.
            scores[named.sum(axis=1) >= ENUMERATION_FACTORS, :] = 0.0
        else:
            scores, closest = np.zeros((0, n_factors), dtype=np.float32), np.zeros((0, n_factors), dtype=np.int32)
            off_topic, named = np.zeros(0, dtype=np.float32), np.zeros((0, n_factors), dtype=np.float32)
            similarity, referred, statement = scores, named, np.zeros(0, dtype=bool)
        readings, row = [], 0
        naming = self.naming_stems_.__contains__
        copy_checks = self.copy_index_.check_many(essays, self.copy_groups_, self.rubric.copy.flag_share, found)
        for essay, essay_words, sentences, checks in zip(essays, found, split, copy_checks):
            rows = slice(row, row + len(sentences))
            row += len(sentences)
            spans = [(s.start, s.end) for s in sentences]
            copy_check, wording_check = checks["references"], checks["wording"]  # empty for an essay too short to share a run
            copied = np.array(copied_sentence_mask(spans, copy_check), dtype=bool)
            # Cues are written the way students put the point, so a student's own sentence may share a run with one;
            # a sentence is the rubric's rather than the student's only when nearly all of it is.
            borrowed = np.array(copied_sentence_mask(spans, wording_check, min_overlap=BORROWED_SHARE), dtype=bool)
            if wording_check.flagged and not copy_check.flagged:
                copy_check = wording_check
            repeated = _repeated(token_lists[rows])
            substance = np.array([len(stems) - sum(map(naming, stems)) for stems in map(stems_of, token_lists[rows])], dtype=np.float32)
            # "Lenin died with no successor. This was lucky for Stalin.": the second sentence's substance is the first's.
            leans = np.array([i > 0 and substance[i] == 0 and points_back(s.text) for i, s in enumerate(sentences)], dtype=bool)
            substance[leans] = substance[np.flatnonzero(leans) - 1]
            essay_scores = scores[rows]
            shapes = np.array([sentence_shapes(s.text, self.persons_, lowered) for s, lowered in zip(sentences, sentence_words[rows])],
                              dtype=bool).reshape(-1, 2)  # note, bare definition
            # A sentence said again earns what it earned once; one pasted from the rubric or the tool's guidance earns
            # nothing, and one pasted from a reference essay nothing unless the rubric allows it.
            withheld = repeated | borrowed | (copied if not self.rubric.copy.credit_copied else np.zeros_like(copied))
            if withheld.any():
                essay_scores = essay_scores.copy()
                essay_scores[withheld, :] = 0.0
            readings.append(EssayReading(sentences, essay_words, essay_scores, scores[rows], closest[rows], off_topic[rows],
                                         named[rows], copy_check, copied, similarity[rows], referred[rows], statement[rows],
                                         token_lists[rows], repeated, withheld, borrowed, substance,
                                         shapes[:, 0], np.array([opens_with_date(s.text) for s in sentences], dtype=bool), shapes[:, 1],
                                         word_ranges[rows]))
        return readings, counts

    def _names_factors(self, sentences_matrix: sparse.spmatrix) -> np.ndarray:
        """Sentence x factor: 1.0 where the sentence names the factor (holds every stem of one of its terms)."""
        stems_held = (_present(sentences_matrix) @ self.term_stems_).toarray()  # sentence x term: how many of its stems
        whole_terms = (stems_held >= self.term_sizes_).astype(np.float32)
        return (whole_terms @ self.term_factors_ > 0).astype(np.float32)

    def _off_topic_similarity(self, sentences_matrix: sparse.spmatrix) -> np.ndarray:
        """Per sentence: how close it is to the rubric's off-topic statements (0 when there are none)."""
        if self.off_topic_matrix_ is None:
            return np.zeros(sentences_matrix.shape[0], dtype=np.float32)
        return _max_similarity(self._weighted(sentences_matrix, self.base_weights_), self.off_topic_matrix_)

    def sentence_scores(self, sentences_matrix: sparse.spmatrix, off_topic: np.ndarray | None = None,
                        named: np.ndarray | None = None, referred: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per sentence and factor: the point score in [0, 1], the index of the closest point, and the
        closeness to that point before the rule that a point needs its own words (a feature for the learned judge).

        `off_topic` (per sentence, `_off_topic_similarity`) and `named` (sentence x factor, `_names_factors`)
        are computed here unless the caller has them. `referred` (sentence x factor) marks sentences that
        refer back to a factor named just before ("His arrogance ..." after "Trotsky ..."): they count as
        naming it.
        """
        n_sentences, n_factors = sentences_matrix.shape[0], len(self.rubric.factors)
        scores = np.zeros((n_sentences, n_factors), dtype=np.float32)
        closest = np.zeros((n_sentences, n_factors), dtype=np.int32)
        ungated = np.zeros((n_sentences, n_factors), dtype=np.float32)
        if off_topic is None and self.off_topic_matrix_ is not None:
            off_topic = self._off_topic_similarity(sentences_matrix)
        if named is None:
            named = self._names_factors(sentences_matrix)
        boost = self.scoring.term_boost
        present = _present(sentences_matrix)
        dots = (sentences_matrix @ self.weighted_points_t_).toarray()  # sentence x every factor's points
        norms = np.sqrt(sentences_matrix.multiply(sentences_matrix) @ self.squared_factor_weights_)  # sentence x factor
        shared_words = (present @ self.point_words_t_).toarray()
        own_words = (present @ self.point_own_words_t_).toarray()
        for f in range(n_factors):
            block = slice(self.point_blocks_[f], self.point_blocks_[f + 1])
            similarity = np.divide(dots[:, block], norms[:, f : f + 1], out=np.zeros_like(dots[:, block]), where=norms[:, f : f + 1] > 0)
            # A point needs two of its words, or one of the rubric's own words for it when the sentence
            # also names (or refers to) the factor.
            about_factor = named[:, f] if referred is None else np.maximum(named[:, f], referred[:, f])
            ungated[:, f] = similarity.max(axis=1) if similarity.shape[1] else 0.0
            makes_point = (shared_words[:, block] >= 2) | ((about_factor > 0)[:, np.newaxis] & (own_words[:, block] >= 1))
            similarity[~makes_point] = 0.0
            best = similarity.max(axis=1) if similarity.shape[1] else np.zeros(n_sentences)
            closest[:, f] = similarity.argmax(axis=1)
            factor_scores = best * (1.0 + boost * about_factor)
            if self.off_topic_matrix_ is not None:
                # A sentence nearer to real-but-irrelevant history than to the point earns half.
                factor_scores = np.where(off_topic > best, factor_scores * 0.5, factor_scores)
            scores[:, f] = np.minimum(factor_scores, 1.0)
        return scores, closest, ungated

    def _report(self, essay: str, reading: "EssayReading", judgement: Judgement | None = None) -> Report:
        rubric, scoring = self.rubric, self.scoring
        sentences, copy_check = reading.sentences, reading.copy_check
        essay_words = reading.words.words
        word_count = len(essay_words)
        warnings: list[str] = []
        if copy_check.flagged and copy_check.source == RUBRIC_WORDING:
            warnings.append(f"{round(100 * copy_check.share)}% of this essay's words repeat {RUBRIC_WORDING} word for word; those sentences "
                            "earn no factor credit. Put each point in your own words and explain how it helped Stalin.")
        elif reading.borrowed.any():
            warnings.append(f"{int(reading.borrowed.sum())} sentence(s) repeat {RUBRIC_WORDING} word for word and earn no factor credit; "
                            "put the point in your own words.")
        if copy_check.flagged and copy_check.source != RUBRIC_WORDING:
            share = round(100 * copy_check.share)
            credit = "they still earn factor credit (the rubric allows it)" if rubric.copy.credit_copied else "those sentences earn no factor credit"
            warnings.append(f"{share}% of this essay's words repeat a reference essay ({copy_check.source}) word for word; {credit}.")
        elif reading.copied.any() and not rubric.copy.credit_copied and copy_check.source != RUBRIC_WORDING:
            warnings.append(f"{int(reading.copied.sum())} sentence(s) repeat a reference essay word for word and earn no factor credit; put the point in your own words.")

        mixed = reading.words.mixed_script
        if mixed:  # "Stаlin" with a Cyrillic "а": a way to hide a copy, or a keyboard left in another layout
            warnings.append(f"{mixed} word{'s mix' if mixed > 1 else ' mixes'} Latin letters with look-alike letters from another "
                            "alphabet; they were read as Latin.")

        results = self._judged_factors(reading, judgement) if judgement is not None else self._ruled_factors(reading)
        total_weight = sum(f.weight for f in rubric.factors)
        overall = round(100.0 * sum(f.weight * r.level / 2 for f, r in zip(rubric.factors, results)) / total_weight, 1)
        mark = round(judgement.mark) if judgement is not None else round(20 * (overall / 100.0) ** scoring.marking_curve)
        # Names inside pasted or repeated sentences are not the student's: no "names it but makes no point" for those.
        # A person's name alone ("Trotsky") does not name the factor here: the warning is for its own terms.
        own_sentences = [set(tokens) for tokens, withheld in zip(reading.tokens, reading.withheld) if not withheld]
        named_only = [r.name for f, r in enumerate(results) if r.level == 0
                      and any(term <= tokens for term in self.warning_terms_[f] for tokens in own_sentences)]
        if named_only:
            warnings.append(f"The essay names {_join(named_only)} but makes no point about {'it' if len(named_only) == 1 else 'them'}: "
                            f"say how {'it' if len(named_only) == 1 else 'each'} helped, with an example.")
        warnings += _form_warnings(essay, essay_words, self.speller_.known)
        if word_count < SHORT_ESSAY_WORDS:
            warnings.append(f"The essay is short ({word_count} words): an exam answer usually needs several paragraphs.")
        # The judge's off-question model is tuned for precision; an essay in which it credits nothing and which reads
        # mostly as other history (the rules' test) is told so too: that it answers another question only where there
        # is no judge to ask.
        ruled_off = overall < scoring.off_question_coverage and bool(sentences) and self._looks_off_question(reading.unmasked_scores, reading.off_topic)
        judged_off = judgement is not None and judgement.off_question_trained
        if judged_off and not judgement.answers_another_question and ruled_off and overall == 0:
            # The judge reads it as about this question (a narrative of 1922-29, a list of the terms), so it is not told
            # it answers another: that contradicted its own mark breakdown ("answers this question: +0.2").
            warnings.append(f"None of this essay's sentences makes one of the rubric's points for \"{rubric.question}\": "
                            "explain how each thing you mention helps answer the question, or check it is the right essay for it.")
        elif judgement.answers_another_question if judged_off else ruled_off:
            warnings.append(
                f"{OFF_QUESTION_WARNING} \"{rubric.question}\": "
                "few of its sentences make any of the rubric's points. Check it is the right essay for this question."
            )
        return Report(rubric.id, overall, int(mark), tuple(results), tuple(warnings), word_count, copy_check,
                      _wording(reading, judgement), self._mark_trace(judgement))

    def _mark_trace(self, judgement: Judgement | None) -> MarkTrace | None:
        """The judge's mark estimate added up from an average training essay's mark (None where the mark is not it)."""
        if judgement is None or judgement.mark_parts is None:
            return None
        return MarkTrace(round(float(self.judge.mark_bias), 2),
                         tuple(MarkPart(name, round(float(marks), 2)) for (name, _), marks in zip(MARK_PARTS, judgement.mark_parts)),
                         round(float(judgement.mark), 4))

    def _ruled_factors(self, reading: "EssayReading") -> list[FactorResult]:
        """Levels and evidence by the similarity rules: sentences scoring at least the point threshold make the point."""
        results = []
        for f, factor in enumerate(self.rubric.factors):
            column = reading.scores[:, f]
            making_point, support, level = factor_level(column, self.scoring)
            evidence = self._evidence(reading, f, [(i, float(column[i])) for i in sorted(making_point[:MAX_EVIDENCE])])
            score = round(1.0 - 0.5 ** (support / self.scoring.developed_threshold), 3) if support else 0.0
            results.append(FactorResult(factor.id, factor.name, level, score, evidence, self.suggestions_[f] if level < 2 else None))
        return results

    def _judged_factors(self, reading: "EssayReading", judgement: Judgement) -> list[FactorResult]:
        """Levels and evidence by the learned judge: the sentences it credits with the point, then those developing it."""
        results = []
        # How strongly each sentence makes a point the judge credits (0 where it credits none): a sentence making
        # another factor's point more surely than it develops this one is shown there, not here (out of fold, that
        # took the developing sentences shown that are annotated for another factor only from 21% to 13%).
        credited_point = np.where(judgement.point >= self.judge.presence_threshold[np.newaxis, :], judgement.point, 0.0)
        for f, factor in enumerate(self.rubric.factors):
            level, point, detail = judgement.levels[f], judgement.point[:, f], judgement.detail[:, f]
            chosen = []
            if level:
                credited = _ranked(point, self.judge.presence_threshold[f])
                elsewhere = np.delete(credited_point, f, axis=1).max(axis=1, initial=0.0) if level == 2 else None
                developing = [i for i in _ranked(detail, 0.5) if i not in credited and elsewhere[i] <= detail[i]] if level == 2 else []
                chosen = (credited[:MAX_EVIDENCE] + developing)[:MAX_EVIDENCE]
            evidence = self._evidence(reading, f, [(i, float(max(point[i], detail[i]))) for i in sorted(chosen)])
            score = round(0.5 * float(point.max()) + 0.5 * float(judgement.develop[f]), 3) if level else 0.0
            results.append(FactorResult(factor.id, factor.name, level, score, evidence, self.suggestions_[f] if level < 2 else None))
        return results

    def _evidence(self, reading: "EssayReading", f: int, chosen: list[tuple[int, float]]) -> tuple[Evidence, ...]:
        """The student's own sentences behind a judgement, each with its score and the point it is closest to."""
        points, sentences = self.points_[f], reading.sentences
        return tuple(Evidence(sentences[i].text, sentences[i].start, sentences[i].end, round(score, 3), points[reading.closest[i, f]].text)
                     for i, score in chosen)

    def _looks_off_question(self, scores: np.ndarray, off_topic: np.ndarray) -> bool:
        """No strong point anywhere, and most sentences nearer to other history than to any factor (or to nothing)."""
        best_factor = scores.max(axis=1)
        if best_factor.max() >= STRONG_POINT:
            return False
        elsewhere = float(np.mean(off_topic > best_factor))
        on_question = float(np.mean(best_factor >= self.scoring.point_threshold / 2))
        return elsewhere >= 0.3 or on_question < 0.2


WORDING_SHOWN = 2  # sentences shown each way: the wording that raised the mark most, and that lowered it most
WORDING_AT_LEAST = 0.2  # marks: a smaller move is not worth a student's attention


def _wording(reading: "EssayReading", judgement: Judgement | None) -> tuple[WordingEffect, ...]:
    """The student's sentences whose wording raised the mark estimate most, then those that lowered it most."""
    if judgement is None or judgement.wording is None or not len(judgement.wording):
        return ()
    # A title, heading or question (the question restated) says nothing a student could act on: the sentences shown are
    # statements ("Why did Stalin become leader?" and a heading "His job" were shown as raising the estimate).
    said = reading.statement & np.array([not s.text.rstrip(" \"'\u201d\u2019").endswith("?") for s in reading.sentences], dtype=bool)
    effects = np.where(said, judgement.wording, 0.0)
    order = np.argsort(-effects, kind="stable")
    raised = [i for i in order[:WORDING_SHOWN] if effects[i] >= WORDING_AT_LEAST]
    # A sentence the feedback shows as a factor's evidence is not quoted as lowering the estimate: a student would cut a
    # point that earned its factor ("Luck: Lenin died 1924, no successor named" was both).
    evidence = judgement.credited.any(axis=1) if judgement.credited is not None else np.zeros(len(effects), dtype=bool)
    lowering = np.where(evidence, 0.0, effects)
    lowered = [i for i in np.argsort(lowering, kind="stable")[:WORDING_SHOWN] if lowering[i] <= -WORDING_AT_LEAST]
    sentences = reading.sentences
    return tuple(WordingEffect(sentences[i].text, sentences[i].start, sentences[i].end, round(float(effects[i]), 2))
                 for i in raised + lowered)


def factor_level(column: np.ndarray, scoring: Scoring) -> tuple[list[int], float, int]:
    """One factor's sentence scores -> the sentences making its point (best first), their summed support, the level."""
    order = np.argsort(-column, kind="stable")
    making_point = order[column[order] >= scoring.point_threshold].tolist()
    support = float(np.sum(column[making_point], dtype=np.float64)) if making_point else 0.0
    level = 2 if support >= scoring.developed_threshold else (1 if making_point else 0)
    return making_point, support, level


def _ranked(values: np.ndarray, at_least: float) -> list[int]:
    """Indices of `values` at or above `at_least`, highest first (ties in index order)."""
    order = np.argsort(-values, kind="stable")
    return order[values[order] >= at_least].tolist()


_REFERRING_WORDS = frozenset("he his him she her it its they their them this these".split())
ENUMERATION_FACTORS = 3  # a sentence naming this many factors lists them rather than making any one's point


def _referred(named: np.ndarray, located: list[tuple], sentence_words: list[list[str]]) -> np.ndarray:
    """Sentence x factor: 1 where a sentence refers back by pronoun ("His arrogance alienated colleagues")
    to the one factor named by an earlier sentence of the same paragraph, with none named in between.

    `located`: the batch's sentences in order, each (essay number, essay, words, sentence, ...).
    """
    named_count = named.sum(axis=1)
    referred = np.zeros_like(named)
    for first in np.flatnonzero(named_count == 1):
        number, essay = located[first][:2]
        r = first + 1
        while (r < len(located) and located[r][0] == number and named_count[r] == 0
               and "\n" not in essay[located[r - 1][3].end : located[r][3].start]
               and not _REFERRING_WORDS.isdisjoint(sentence_words[r])):
            referred[r] = named[first]
            r += 1
    return referred


def stems_of(tokens: list[str]) -> list[str]:
    """The stems of `CoverageModel.tokens_of_words` output: n stems come first, then their n - 1 bigrams."""
    return tokens[: (len(tokens) + 1) // 2]


def _repeated(token_lists: list[list[str]]) -> np.ndarray:
    """Per sentence: True when an earlier sentence of the same essay has the same content words (three or more).

    Token lists are stems then bigrams, so equal lists are equal stems; 5 tokens are 3 stems and their 2 bigrams.
    """
    seen: set[tuple[str, ...]] = set()
    repeated = np.zeros(len(token_lists), dtype=bool)
    for i, tokens in enumerate(token_lists):
        if len(tokens) >= 5:
            key = tuple(tokens)
            repeated[i] = key in seen
            seen.add(key)
    return repeated


def _present(matrix: sparse.spmatrix) -> sparse.csr_matrix:
    """1.0 where a sentence (row) holds the word (column)."""
    binary = sparse.csr_matrix(matrix, dtype=np.float32, copy=True)
    binary.data = (binary.data > 0).astype(np.float32)
    return binary


def _max_similarity(rows: sparse.spmatrix, points: sparse.spmatrix) -> np.ndarray:
    if rows.shape[0] == 0 or points.shape[0] == 0:
        return np.zeros(rows.shape[0], dtype=np.float32)
    return np.asarray((rows @ points.T).max(axis=1).toarray()).ravel()


_ENGLISH_FUNCTION_WORDS = frozenset("the a an and of to in was were is he his it that for on as by with not but had have this they".split())
# Each alternative scans a bounded stretch: an unbounded "[^\]]*" re-scanned the rest of the essay from every "[", so a
# 190 KB essay of brackets took 10 s to read.
_MARKUP = re.compile(r"<[^<>]{1,200}>|```|^\s{0,3}#{1,6}\s|\*\*|\[[^\]\n]{0,300}\]\([^)\n]{0,500}\)", re.MULTILINE)
_MARKUP_CHARACTERS = "<`#*["  # every markup match holds one of these; most essays hold none, and `in` is faster than the regex


def _form_warnings(essay: str, essay_words: list[str], known_words: set[str]) -> list[str]:
    """Problems with the essay's form rather than its content: notes with no sentences, another language, or
    mostly markup. `known_words`: the rubric's and reference essays' words (a mind map is made of them)."""
    warnings = []
    word_count = len(essay_words)
    if word_count >= 10 and _function_words_fewer_than(essay_words, 0.08 * word_count):
        if sum(map(known_words.__contains__, essay_words)) >= 0.5 * word_count:
            warnings.append("This essay reads as notes or a list of terms rather than sentences: write each point as a sentence "
                            "that explains how it answers the question.")
        else:
            warnings.append("This essay does not seem to be in English; Rubricate reads English essays, so its results here mean little.")
    markup = sum(len(m.group()) for m in _MARKUP.finditer(essay)) if any(c in essay for c in _MARKUP_CHARACTERS) else 0
    if markup > 0.3 * len(essay.strip()):
        warnings.append("Much of this text is HTML, code or markdown markup rather than sentences; it is shown as plain text and only its words are read.")
    return warnings


FUNCTION_WORD_BLOCK = 128


def _function_words_fewer_than(essay_words: list[str], limit: float) -> bool:
    """Whether fewer than `limit` of the words are English function words, counted a block at a time: prose passes the
    limit within its first blocks, so only notes and other languages are read to the end."""
    found = 0
    for start in range(0, len(essay_words), FUNCTION_WORD_BLOCK):
        found += sum(map(_ENGLISH_FUNCTION_WORDS.__contains__, essay_words[start : start + FUNCTION_WORD_BLOCK]))
        if found >= limit:
            return False
    return True


def _capitalised_words(names: list[str]) -> frozenset[str]:
    """The lower-cased words the names write with a capital, with their possessives ("stalin", "stalin's"; `word_spans`
    writes every apostrophe as ')."""
    capitalised = set()
    for name in names:
        found = word_spans(name)
        for word, start in zip(found.words, found.starts):
            if name[start].isupper():
                base = word.removesuffix("'s")
                capitalised |= {base, base + "'s"}
    return frozenset(capitalised)


def _join(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _shorten(text: str) -> str:
    parts = text.split()
    return text if len(parts) <= MAX_EXCERPT_WORDS else " ".join(parts[:MAX_EXCERPT_WORDS]) + " …"


def load_model(rubric_path: str | Path | None = None, judged: bool = True) -> CoverageModel:
    """The fitted model for a rubric file (a fresh one each call: the caller that wants a cache keeps one,
    as the app does with `st.cache_resource`; the engine holds no process-wide state).

    With a trained judge beside the rubric (`<rubric>.model.npz`, written by `python -m app.cli train`
    for this very rubric file) the learned judgement decides; otherwise, or with `judged=False` (to train one), the
    similarity rules do.
    """
    rubric = load_rubric(rubric_path) if rubric_path else load_rubric()
    if not rubric.corpus_path.is_dir():
        raise RubricateError(f"Rubric {rubric.path}: field 'corpus' points to {rubric.corpus_path}, which is not a folder.")
    return CoverageModel(rubric, load_corpus(rubric.corpus_path), judge=trained_judge(rubric) if judged else None).fit()


def judge_path(rubric: Rubric) -> Path:
    """Where `train` writes a rubric's learned judge: beside the rubric file."""
    return rubric.path.with_name(rubric.path.stem + ".model.npz")


def trained_judge(rubric: Rubric) -> Judge | None:
    """The rubric's trained judge, or None when there is none or it was trained for another version of the rubric."""
    path = judge_path(rubric)
    if not path.is_file():
        return None
    judge = load_judge(path)
    return judge if judge.meta.get("rubric_hash") == rubric.content_hash else None


def keep_for_process() -> None:
    """Settle this process to mark for as long as it lives: everything alive now (a fitted model above all)
    moves out of the cyclic garbage collector's reach, and BLAS keeps to one thread.

    Called by the processes that mark batches and want it (the batch CLI, pool workers), never by
    a library function on behalf of whatever process hosts the model (a Streamlit server, a test run).

    The model lives as long as the process; without the freeze every collection triggered while
    marking walks its dictionaries again, which cost a fifth of batch marking time. (No
    collection first: it would add 0.1 s to start-up to free a few hundred objects.) The judge's
    dense products are small, so a second BLAS thread only spins waiting for work: it cost a sixth
    of a batch's CPU time, and the batch already runs a process per core.
    """
    gc.freeze()
    threadpool_limits(limits=1, user_api="blas")


@contextmanager
def _collection_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while a batch is scored, back on after (unless it was off already).

    Scoring makes lists and tuples by the hundred thousand and keeps them to the batch's end, so the collector kept
    walking them and found nothing to free (reference counting frees them all): a tenth of a batch's CPU time.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def score_essay(essay: str, model: CoverageModel | None = None) -> Report:
    """Feedback for one essay (the function the app and the CLI call)."""
    return (model or load_model()).score(essay)


def mark_batch(essays: list[str], model: CoverageModel | None = None) -> list[Report]:
    return (model or load_model()).score_many(essays)
