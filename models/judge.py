"""The learned judgement: which sentences make each factor's point, each factor's level, and the mark.

Learned with scikit-learn from annotated essays (`models/annotations.py`). Its inputs are what the
similarity engine already reads: each sentence's closeness to the factor's points, whether it names
the factor or refers back to it, whether it is a statement, its neighbours, and its own words
(stems and bigrams, TF-IDF). Per factor, logistic regressions say whether a sentence makes the point
and whether it develops it; the level and the mark come from small models over those probabilities
and the essay's explanation and judgement language.

Stored as one .npz of numbers and words, read with `allow_pickle=False`: loading runs no code.
"""
from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass, field, replace
from itertools import compress
from pathlib import Path

import numpy as np
from scipy import sparse
from sklearn.preprocessing import normalize

from models.errors import RubricateError
from models.text import count_tokens

FORMAT_VERSION = 10  # 2: the off-question model reads the essay's words too; 3: a third sentence classifier (point or detail);
# 4: development also reads the chance that any sentence supports the point; 5: how a line is written (a revision note,
# opening with its date), itself and as the essay's share; 6: the mark reads the essay's own words too; 7: an essay on
# another question needs surer sentences to earn a factor; 8: a fourth rule gate (bare definitions of a term); 9: the
# development cut is trained (count-matched out of fold) and stored; 10: the mark no longer reads the share copied
MARK_WITHOUT_A_POINT = 3  # the most an essay that makes no factor's point, or answers another question, can earn
# The labelled sets' names for essays (and notes) answering another question, and for term lists, glossaries and their
# shapes (terms sorted under headings, mind maps): every set's kinds must be here, or the off-question model learns its
# off-question essays as answers to this one.
OFF_QUESTION_KINDS = frozenset({"other_question", "offtopic", "off_question", "off_question_same_vocabulary", "off_question_list"})
LIST_KINDS = frozenset({"keyword_list", "glossary_or_list", "glossary_list", "heading_list", "mind_map", "timeline", "flashcards"})
SENTENCE_FEATURES = ("score", "similarity", "names", "refers", "off_topic", "statement", "factors_named", "copied",
                     "log_words", "previous_score", "next_score", "previous_names", "other_factor_score", "position",
                     "repeated", "previous_similarity", "next_similarity", "similarity_when_about", "substance", "note_shaped",
                     "essay_note_share", "dated", "essay_dated_share")
ROLES = ("point", "detail", "point_or_detail")  # what each sentence classifier was trained to find
DEVELOP_FEATURES = ("max_point", "second_point", "sum_point", "max_detail", "sum_detail", "detail_elsewhere", "log_sentences",
                    "any_detail_log_odds")
OFF_QUESTION_FEATURES = ("best_point", "sum_best_points", "mean_off_topic", "share_nearer_off_topic", "mean_similarity", "log_words",
                         "words")
# Explanation and judgement: the language examiners reward beyond naming factors (codebook: "The mark out of 20").
WEIGHING_PHRASES = ("most important", "main reason", "key reason", "crucial", "decisive", "significant", "more important",
                    "less important", "above all", "ultimately", "in conclusion", "overall", "however", "although", "whereas",
                    "on the other hand", "to a large extent", "to some extent", "outweigh", "outweighed", "outweighs",
                    "mattered most", "the most", "primarily", "mainly", "far more", "less than", "rather than")
LINKING_PHRASES = ("because", "therefore", "so that", "this meant", "meaning that", "as a result", "consequently", "thus",
                   "which allowed", "allowed him", "enabled", "led to", "this gave", "allowing", "which meant", "this made",
                   "so he", "so stalin", "due to")


class _PhraseCounter:
    """Counts phrases in a list of lower-cased words: one C-level pass for one-word phrases, and `str.count` over
    the words joined by spaces for longer ones whose first word occurs (a regex over the text cost a fifth of the
    judge's time)."""

    def __init__(self, phrases: tuple[str, ...]):
        split = [tuple(p.split()) for p in phrases]
        self.single = frozenset(p[0] for p in split if len(p) == 1)
        # Each longer phrase under its first word, as it reads in `join_for_phrases` text.
        self.longer: dict[str, list[str]] = {}
        for p in split:
            if len(p) > 1:
                self.longer.setdefault(p[0], []).append(f" {'  '.join(p)} ")

    def count(self, words: list[str], distinct: set[str] | None = None, joined: str | None = None) -> int:
        """`distinct` (the set of `words`) and `joined` (`join_for_phrases(words)`) when the caller has them already."""
        found = sum(map(self.single.__contains__, words))
        firsts = self.longer.keys() & (set(words) if distinct is None else distinct)
        if firsts:  # then count each longer phrase in the words joined by spaces, in C
            joined = join_for_phrases(words) if joined is None else joined
            found += sum(joined.count(phrase) for first in firsts for phrase in self.longer[first])
        return found


def join_for_phrases(words: list[str]) -> str:
    # Two spaces between words, so back-to-back phrases are each found.
    return f"  {'  '.join(words)}  "


_WEIGHING, _LINKING = _PhraseCounter(WEIGHING_PHRASES), _PhraseCounter(LINKING_PHRASES)
# Copied sentences earn no credit and their words are left out of length and wording, so the share copied is no feature:
# labels that credit copied passages taught it +3.9 marks per unit, and a 90%-copied essay was told copying raised it 2.9.
MARK_FEATURES = ("levels_sum", "developed", "mentioned", "max_point_sum", "develop_sum", "log_words", "weighing_rate",
                 "linking_rate", "weighing_any", "off_question", "sentences_crediting", "note_share", "words_mark")
# The mark model is linear, so an estimate is an average training essay's mark plus each feature's move from its mean:
# these parts group those moves the way a student can check them against the feedback (each feature in one part).
MARK_PARTS = (("factors", ("levels_sum", "developed", "mentioned", "max_point_sum", "develop_sum", "sentences_crediting")),
              ("wording", ("words_mark",)),
              ("length", ("log_words",)),
              ("language", ("weighing_rate", "linking_rate", "weighing_any")),
              ("on_question", ("off_question",)),
              ("notes", ("note_share",)))
_MARK_PART_COLUMNS = tuple([MARK_FEATURES.index(f) for f in features] for _, features in MARK_PARTS)
_WORDS_MARK = MARK_FEATURES.index("words_mark")


def _sentence_owners(sentence_counts: list[int]) -> np.ndarray:
    """Per sentence of a batch (essays in order, `sentence_counts[i]` sentences for essay i), its essay's number."""
    return np.repeat(np.arange(len(sentence_counts)), sentence_counts)


def _essay_sums(words: sparse.csr_matrix, owners: np.ndarray, n_essays: int, kept: np.ndarray | None = None) -> sparse.csr_matrix:
    """Each essay's sentence rows summed (`owners`: `_sentence_owners`; only `kept` rows)."""
    ones = np.ones(len(owners)) if kept is None else np.asarray(kept, dtype=float)
    return sparse.csr_matrix((ones, (owners, np.arange(len(owners)))), shape=(n_essays, words.shape[0])) @ words


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -30, 30)))


@dataclass(frozen=True)
class Judgement:
    """What the learned judge says about one essay."""

    point: np.ndarray  # sentence x factor: probability the sentence makes the point
    detail: np.ndarray  # sentence x factor: probability it explains or supports it
    levels: list[int]
    develop: np.ndarray  # per factor: probability the point is developed
    off_question: float  # probability the essay answers another question
    mark: float
    off_question_trained: bool = True  # False: the judge never saw an off-question essay, so the rules decide
    answers_another_question: bool = False
    credited: np.ndarray | None = None  # sentence x factor: the sentences credited with the point (the evidence)
    wording: np.ndarray | None = None  # per sentence: how far its wording moved the mark, in marks (`Judge.wording_effects`)
    mark_parts: np.ndarray | None = None  # per MARK_PARTS: how far it moved the mark from an average essay's (`Judge.mark_parts`)


@dataclass
class Judge:
    """A fitted judge; every field is an array or plain data so it saves to .npz without pickle."""

    vocabulary: list[str]
    idf: np.ndarray  # (V,)
    dense_mean: np.ndarray  # (F, D)
    dense_scale: np.ndarray  # (F, D)
    # Role x factor, roles ROLES. Whether a sentence makes the point is the mean of the first and third: annotators
    # mark the first sentence that makes a point as its point and the ones after it as detail, so a sentence that
    # makes the point in its own words ("Lenin wrote that Stalin was too rude ...") is often annotated detail.
    sentence_weights: np.ndarray  # (len(ROLES), F, V + D)
    sentence_bias: np.ndarray  # (len(ROLES), F)
    presence_threshold: np.ndarray  # (F,) a sentence at or above this makes the point
    develop_weights: np.ndarray  # (F, len(DEVELOP_FEATURES))
    develop_bias: np.ndarray  # (F,)
    off_question_weights: np.ndarray  # (len(OFF_QUESTION_FEATURES),), zeros when never trained
    off_question_bias: float
    mark_weights: np.ndarray  # (len(MARK_FEATURES),) over standardised features
    mark_mean: np.ndarray
    mark_scale: np.ndarray
    mark_bias: float
    rule_gates: np.ndarray = field(default_factory=lambda: np.zeros(4, dtype=bool))  # (statement, list, substance, definition): kept unless CV shows they cost F1
    develop_cut: float = 0.5  # a present point with development probability at or above this is developed (trained: DEVELOP_ALLOWANCE)
    off_question_cut: float = 0.5  # an essay this likely to answer another question is told so
    # An essay told it answers another question uses the question's vocabulary for something else: a sentence there
    # must be this much surer than the threshold above to make a factor's point (chosen out of fold).
    off_question_margin: float = 0.0
    # What an essay on another question talks about: a linear model over the essay's words (the vocabulary above),
    # whose score is the off-question model's "words" feature. Empty until trained on off-question essays.
    off_question_word_weights: np.ndarray = field(default_factory=lambda: np.zeros(0))
    off_question_word_bias: float = 0.0
    # The mark its words alone suggest: a linear model over the essay's own words (the vocabulary above), whose score
    # is the mark model's "words_mark" feature. Markers reward explanation and judgement, which factor levels miss
    # (on real essays the mark follows the levels' sum at r 0.37); the phrasing of explanation is in the words.
    mark_word_weights: np.ndarray = field(default_factory=lambda: np.zeros(0))
    mark_word_bias: float = 0.0
    meta: dict = field(default_factory=dict)  # rubric hash, what it was trained on

    def __post_init__(self):
        self._index = {t: i for i, t in enumerate(self.vocabulary)}
        self._word_weights = None  # set on first use, once training has filled in the weights

    # ---------------------------------------------------------------- applying
    def sentence_matrix(self, token_lists: list[list[str]], counts: sparse.csr_matrix | None = None) -> sparse.csr_matrix:
        """Sublinear TF-IDF of the sentences' stems and bigrams over the learned vocabulary, rows of unit length.
        `counts`: the lists' `count_tokens` over the judge's vocabulary, when the caller has them already."""
        counts = count_tokens(token_lists, self._index) if counts is None else sparse.csr_matrix(counts, dtype=np.float32)
        counts.data = 1.0 + np.log(counts.data)
        return normalize(sparse.csr_matrix(counts.multiply(self.idf[np.newaxis, :])))

    @staticmethod
    def essay_word_vectors(words: sparse.csr_matrix, sentence_counts: list[int], kept: np.ndarray | None = None) -> sparse.csr_matrix:
        """Each essay's words as one unit row: the sum of its sentences' rows of `sentence_matrix` (`words`, essays in
        order, `sentence_counts[i]` rows for essay i), for a batch at once (per essay, scipy's overhead dominated).
        `kept`: a flag per row; only flagged sentences count."""
        return normalize(_essay_sums(words, _sentence_owners(sentence_counts), len(sentence_counts), kept))

    def mark_word_scores(self, words: sparse.csr_matrix, readings: list) -> tuple[np.ndarray, np.ndarray]:
        """The word mark model's score for each reading, over its own sentences (`words`: their rows, in order), and
        each sentence's part of it: the model is linear over the unit sum of the rows, so a score is its sentences'
        parts plus the bias. Pasted and repeated sentences are not the student's: their words earn nothing, and
        their part is 0 (all 0 where never trained)."""
        if self.mark_word_weights.size == 0 or not words.shape[0]:
            return np.zeros(len(readings)), np.zeros(words.shape[0])
        own = np.concatenate([~r.withheld for r in readings])
        counts = [len(r.sentences) for r in readings]
        owner = _sentence_owners(counts)
        sums = _essay_sums(words, owner, len(counts), own)
        norms = np.sqrt(np.asarray(sums.multiply(sums).sum(axis=1)).ravel())
        parts = np.where(own, words @ self.mark_word_weights, 0.0) / np.where(norms > 0, norms, 1.0)[owner]
        return np.bincount(owner, weights=parts, minlength=len(counts)) + self.mark_word_bias, parts

    def wording_effects(self, parts: np.ndarray, withheld: np.ndarray) -> np.ndarray:
        """Each sentence's share, in marks, of how far the essay's wording moved its mark from that of an average
        training essay: its part of the word score through the mark model, plus an equal share of the rest."""
        own = ~np.asarray(withheld, dtype=bool)
        if self.mark_word_weights.size == 0 or not own.any():
            return np.zeros(len(parts))
        shared = (self.mark_word_bias - self.mark_mean[_WORDS_MARK]) / own.sum()
        return np.where(own, self._marks_per_unit()[_WORDS_MARK] * (parts + shared), 0.0)

    def mark_parts(self, marks: np.ndarray) -> np.ndarray:
        """How far each of MARK_PARTS moves an essay's mark estimate from an average training essay's (`mark_bias`),
        given its `mark_features`: the estimate is exactly `mark_bias` plus their sum."""
        moves = (marks - self.mark_mean) * self._marks_per_unit()
        return np.array([moves[columns].sum() for columns in _MARK_PART_COLUMNS])

    def _marks_per_unit(self) -> np.ndarray:
        """Per MARK_FEATURES: how many marks one unit of the raw feature adds to the estimate (the model is linear)."""
        return self.mark_weights / self.mark_scale

    def off_question_word_scores(self, essay_vectors: sparse.csr_matrix) -> np.ndarray:
        """The off-question word model's score of each row of `essay_word_vectors` (0 where it was never trained)."""
        if self.off_question_word_weights.size == 0:
            return np.zeros(essay_vectors.shape[0])
        return essay_vectors @ self.off_question_word_weights + self.off_question_word_bias

    def sentence_probabilities(self, words_matrix: sparse.csr_matrix, dense: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """(point, detail): sentence x factor probabilities; `dense[f]` is `dense_features(...)` for factor f."""
        n_vocabulary = len(self.vocabulary)
        n_roles, n_factors = self.sentence_weights.shape[:2]
        if self._word_weights is None:  # laid out once for the product below (the slice would be copied on every call)
            self._word_weights = np.ascontiguousarray(self.sentence_weights[:, :, :n_vocabulary].reshape(-1, n_vocabulary).T)
        word_part = words_matrix @ self._word_weights  # (S, roles x F)
        word_part = np.asarray(word_part).reshape(-1, n_roles, n_factors)
        out = np.zeros_like(word_part)
        for f in range(n_factors):
            standard = (dense[f] - self.dense_mean[f]) / self.dense_scale[f]
            out[:, :, f] = word_part[:, :, f] + standard @ self.sentence_weights[:, f, n_vocabulary:].T + self.sentence_bias[:, f]
        probabilities = _sigmoid(out)
        return (probabilities[:, 0, :] + probabilities[:, 2, :]) / 2, probabilities[:, 1, :]

    def _read_sentences(self, readings: list, token_counts: sparse.csr_matrix | None = None) -> tuple[sparse.csr_matrix, np.ndarray, np.ndarray]:
        """(words, point, detail) for all the readings' sentences in order: their word matrix and probabilities.
        `token_counts`: their tokens' counts over the judge's vocabulary, when the caller has them already."""
        n_factors = self.sentence_weights.shape[1]
        tokens = [t for reading in readings for t in reading.tokens]
        if not tokens:
            return sparse.csr_matrix((0, len(self.vocabulary))), np.zeros((0, n_factors)), np.zeros((0, n_factors))
        words = self.sentence_matrix(tokens, token_counts)
        return (words, *self.sentence_probabilities(words, dense_features(readings)))

    def point_probabilities(self, readings: list) -> np.ndarray:
        """Sentence x factor: how likely each of the readings' sentences (in order) makes each factor's point."""
        return self._read_sentences(readings)[1]

    def judge_many(self, readings: list, token_counts: sparse.csr_matrix | None = None) -> list[Judgement]:
        """Levels, development and mark for each essay's reading (`CoverageModel.read_essays`), in one pass for the batch.
        `token_counts`: the readings' sentences' token counts over the judge's vocabulary, when the caller has them."""
        words, point, detail = self._read_sentences(readings, token_counts)
        if not words.shape[0]:
            return [self.judge_probabilities(r, point, detail) for r in readings]
        word_scores = self.off_question_word_scores(self.essay_word_vectors(words, [len(r.sentences) for r in readings]))
        mark_word_scores, parts = self.mark_word_scores(words, readings)
        return self._judge_batch(readings, point, detail, word_scores, mark_word_scores, parts)

    def judge_probabilities(self, reading, point: np.ndarray, detail: np.ndarray, word_score: float | None = None,
                            mark_word_score: float | None = None, mark_word_parts: np.ndarray | None = None) -> Judgement:
        """One essay's judgement from its sentences' probabilities. `word_score`, `mark_word_score`: the off-question
        and mark word models' scores for this essay, and `mark_word_parts` its sentences' parts of the latter
        (computed from `reading` when not given)."""
        if word_score is None or mark_word_score is None:
            words = self.sentence_matrix(reading.tokens) if reading.tokens else sparse.csr_matrix((0, len(self.vocabulary)))
            if word_score is None:
                word_score = float(self.off_question_word_scores(self.essay_word_vectors(words, [len(reading.tokens)]))[0]) \
                    if reading.tokens else 0.0
            if mark_word_score is None:
                scores, mark_word_parts = self.mark_word_scores(words, [reading])
                mark_word_score = float(scores[0])
        return self._judge_batch([reading], point, detail, [word_score], [mark_word_score], mark_word_parts)[0]

    def _judge_batch(self, readings: list, point: np.ndarray, detail: np.ndarray, word_scores, mark_word_scores,
                     mark_word_parts: np.ndarray | None) -> list[Judgement]:
        """Each reading's judgement from its sentences' rows of `point` and `detail` (readings in order): levels,
        development and the off-question call for the whole batch at once (per essay, numpy's overhead per call was
        an eighth of a batch's time); the mark's phrase counts are per essay."""
        counts = np.array([len(r.sentences) for r in readings], dtype=np.int64)
        ends = np.cumsum(counts)
        own = ~np.concatenate([r.withheld for r in readings]).astype(bool)
        point, detail = _zeroed(point, detail, withheld_by_gates(readings, self.rule_gates))
        owners = _sentence_owners(counts)
        development = develop_features_many(point[own], detail[own], np.bincount(owners[own], minlength=len(readings)))
        develop = _sigmoid(np.sum(development * self.develop_weights, axis=2) + self.develop_bias)  # essay x factor
        trained = bool(np.any(self.off_question_weights))
        # Row by row (not a matrix product, whose sums BLAS orders by the batch's size): an essay's call is the same
        # alone and in a batch to the last bit.
        off_question = _sigmoid(np.sum(off_question_features_many(readings, point, word_scores) * self.off_question_weights, axis=1)
                                + self.off_question_bias) if trained else np.zeros(len(readings))
        another_question = trained & (off_question >= self.off_question_cut)
        margin = np.where(another_question, self.off_question_margin, 0.0)[owners]
        credited = point >= self.presence_threshold[np.newaxis, :] + margin[:, np.newaxis]
        present = _segment_any(credited, counts)
        all_levels = np.where(present, np.where(develop >= self.develop_cut, 2, 1), 0).tolist()
        judgements = []
        for i, reading in enumerate(readings):
            rows = slice(ends[i] - counts[i], ends[i])
            levels, essay_point = all_levels[i], point[rows]
            marks = mark_features(reading, essay_point, levels, develop[i], float(off_question[i]), float(mark_word_scores[i]))
            estimate = float((marks - self.mark_mean) / self.mark_scale @ self.mark_weights + self.mark_bias)
            mark = float(np.clip(estimate, 0, 20))
            if another_question[i] or not any(levels):
                mark = min(mark, MARK_WITHOUT_A_POINT)  # codebook: off-question essays and bare term lists earn 0-3
            # The parts and the wording's effect are the mark's only where the mark is the model's estimate (not clipped, not capped).
            wording = None if mark_word_parts is None or mark != estimate else self.wording_effects(mark_word_parts[rows], reading.withheld)
            parts = self.mark_parts(marks) if mark == estimate else None
            judgements.append(Judgement(essay_point, detail[rows], levels, develop[i], float(off_question[i]), mark, trained,
                                        bool(another_question[i]), credited[rows], wording, parts))
        return judgements

    def recalibrated(self, presence_shift: float, develop_cut: float) -> "Judge":
        """The same judge, stricter or more lenient (a tutor's recalibration): thresholds moved, nothing relearned."""
        return replace(self, presence_threshold=np.clip(self.presence_threshold + presence_shift, 0.05, 0.95), develop_cut=develop_cut)

    # ---------------------------------------------------------------- storing
    def save(self, path: str | Path) -> Path:
        path = Path(path)
        arrays = {name: getattr(self, name) for name in _ARRAY_FIELDS}
        np.savez_compressed(path, vocabulary=np.array(self.vocabulary, dtype=str), meta=np.array(json.dumps(self.meta, sort_keys=True)),
                            off_question_bias=np.array(self.off_question_bias), mark_bias=np.array(self.mark_bias),
                            rule_gates=np.array(self.rule_gates, dtype=bool), off_question_cut=np.array(self.off_question_cut),
                            off_question_margin=np.array(self.off_question_margin), develop_cut=np.array(self.develop_cut),
                            off_question_word_bias=np.array(self.off_question_word_bias), mark_word_bias=np.array(self.mark_word_bias),
                            format_version=np.array(FORMAT_VERSION), **arrays)
        return path


_ARRAY_FIELDS = ("idf", "dense_mean", "dense_scale", "sentence_weights", "sentence_bias", "presence_threshold", "develop_weights",
                 "develop_bias", "off_question_weights", "mark_weights", "mark_mean", "mark_scale",
                 "off_question_word_weights", "mark_word_weights")


def load_judge(path: str | Path) -> Judge:
    """A judge from its .npz; no pickle, so a damaged or hostile file can only fail to load."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            if int(data["format_version"]) != FORMAT_VERSION:
                raise RubricateError(f"Trained model {path}: format {int(data['format_version'])} is not {FORMAT_VERSION}; run `python -m app.cli train` again.")
            return Judge(vocabulary=data["vocabulary"].tolist(), meta=json.loads(str(data["meta"])),
                         off_question_bias=float(data["off_question_bias"]), mark_bias=float(data["mark_bias"]),
                         rule_gates=data["rule_gates"].astype(bool), off_question_cut=float(data["off_question_cut"]),
                         off_question_margin=float(data["off_question_margin"]), develop_cut=float(data["develop_cut"]),
                         off_question_word_bias=float(data["off_question_word_bias"]), mark_word_bias=float(data["mark_word_bias"]),
                         **{name: data[name] for name in _ARRAY_FIELDS})
    except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile) as error:
        raise RubricateError(f"Trained model {path} could not be read ({error}); run `python -m app.cli train` to rebuild it.") from None


# ---------------------------------------------------------------- features
LIST_FACTORS = 3  # a sentence naming this many factors lists them


def apply_rule_gates(reading, point: np.ndarray, detail: np.ndarray, gates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One essay's probabilities with the sentences `withheld_by_gates` set to 0."""
    return _zeroed(point, detail, withheld_by_gates([reading], gates))


def withheld_by_gates(readings: list, gates: np.ndarray) -> np.ndarray:
    """Per sentence of the readings (in order), whether it earns nothing whatever the classifiers say: repeated or
    pasted ones always; with the gates on, those that state nothing (headings, term lists), those that list three or
    more factors, those whose words only name factors and signpost ("Another factor was the General Secretary
    role."), and glossary lines that only say what a term is ("An alliance is an agreement between groups to work
    together.")."""
    if not any(len(r.sentences) for r in readings):
        return np.zeros(0, dtype=bool)
    withheld = _stacked(readings, "withheld").astype(bool)
    if gates[0]:
        withheld |= ~_stacked(readings, "statement")
    if gates[1]:
        withheld |= _stacked(readings, "named").sum(axis=1) >= LIST_FACTORS
    if gates[2]:
        withheld |= _stacked(readings, "substance") == 0
    if gates[3]:
        withheld |= _stacked(readings, "bare_definition")
    return withheld


def _stacked(readings: list, name: str) -> np.ndarray:
    """The readings' per-sentence arrays `name`, end to end, for a batch (an essay without a sentence adds nothing)."""
    return np.concatenate([getattr(r, name) for r in readings if len(r.sentences)])


def _zeroed(point: np.ndarray, detail: np.ndarray, withheld: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if not withheld.any():
        return point, detail
    point, detail = point.copy(), detail.copy()
    point[withheld], detail[withheld] = 0.0, 0.0
    return point, detail


def _segment_any(flags: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Essay x column: whether any of the essay's rows of `flags` is set (rows in essay order, `counts[i]` for essay i)."""
    out = np.zeros((len(counts), flags.shape[1]), dtype=bool)
    filled = counts > 0
    if filled.any():
        out[filled] = np.logical_or.reduceat(flags, _segment_starts(counts)[filled], axis=0)
    return out


def _segment_starts(counts: np.ndarray) -> np.ndarray:
    return np.cumsum(counts) - counts


def dense_features(readings: list) -> list[np.ndarray]:
    """Per factor, sentence x SENTENCE_FEATURES for all the readings' sentences in order (one pass for a batch)."""
    n_factors = readings[0].scores.shape[1] if readings else 0
    counts = [len(r.sentences) for r in readings]
    n = sum(counts)
    if n == 0:
        return [np.zeros((0, len(SENTENCE_FEATURES)), dtype=np.float32) for _ in range(n_factors)]
    stack = lambda name: _stacked(readings, name)  # noqa: E731
    scores, similarity, named, referred = stack("unmasked_scores"), stack("similarity"), stack("named"), stack("referred")
    off_topic, statement, copied, repeated = stack("off_topic"), stack("statement"), stack("copied"), stack("repeated")
    # A sentence said again, or the rubric's wording pasted, is no neighbour (copied reference text has its own feature),
    # and the essay is read as if it were not there: one good sentence said ten times reads as that sentence alone.
    skipped = stack("repeated") | stack("borrowed")
    position = _own_position(skipped, counts)
    before, after = _own_neighbours(skipped, counts)
    previous = lambda a: np.where(before[:, None] >= 0, a[before], 0.0)  # noqa: E731
    following = lambda a: np.where(after[:, None] >= 0, a[after], 0.0)  # noqa: E731
    ordered = np.sort(scores, axis=1)
    top, runner_up = ordered[:, -1:], ordered[:, -2:-1] if n_factors > 1 else np.zeros((n, 1))
    others = np.where(scores >= top, runner_up, top)  # the best score among the other factors
    log_words = np.log1p([len(t) for r in readings for t in r.tokens])
    substance = np.log1p(stack("substance"))
    note_shaped, dated = stack("note_shaped").astype(np.float32), stack("dated").astype(np.float32)
    # A line among notes is a note whatever its own shape (and one among dated events, an event): the share of the
    # essay's *other* lines of that shape, so a one-line answer is judged by what it says.
    note_share, dated_share = _share_of_others(note_shaped, ~skipped, counts), _share_of_others(dated, ~skipped, counts)
    shared = [off_topic, statement.astype(np.float32), named.sum(axis=1), copied.astype(np.float32), log_words]
    previous_named = previous(named)
    about = np.maximum(np.maximum(named, referred), previous_named * 0.5)
    per_factor = [scores, similarity, named, referred, previous(scores), following(scores), previous_named, others,
                  previous(similarity), following(similarity), similarity * about]
    features = []
    for f in range(n_factors):
        score, sim, nm, ref, prev_score, next_score, prev_named, other, prev_sim, next_sim, sim_about = (a[:, f] for a in per_factor)
        columns = [score, sim, nm, ref, *shared, prev_score, next_score, prev_named, other, position, repeated.astype(np.float32),
                   prev_sim, next_sim,
                   # Closeness counts most in a sentence about the factor: naming it, or referring back to it by pronoun.
                   sim_about, substance, note_shaped, note_share, dated, dated_share]
        features.append(np.column_stack(columns).astype(np.float32))
    return features


def _own_neighbours(skipped: np.ndarray, counts: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """For each sentence (essays in order, `counts[i]` for essay i), the row of the nearest sentence before it and
    after it in the same essay that is not `skipped`, -1 where there is none: a sentence said again or pasted is not
    a neighbour, so it cannot lend the one beside it the look of a developed paragraph."""
    rows = np.arange(len(skipped))
    essay = _sentence_owners(counts)
    own = np.where(~np.asarray(skipped, dtype=bool), rows, -1)
    before = np.concatenate([[-1], np.maximum.accumulate(own)[:-1]]) if len(own) else own
    own_after = np.where(own >= 0, own, len(own))
    after = np.concatenate([np.minimum.accumulate(own_after[::-1])[::-1][1:], [len(own)]]) if len(own) else own
    before = np.where((before >= 0) & (essay[np.maximum(before, 0)] == essay), before, -1)
    after = np.where((after < len(own)) & (essay[np.minimum(after, len(own) - 1)] == essay), after, -1)
    return before, after


def _own_position(skipped: np.ndarray, counts: list[int]) -> np.ndarray:
    """Where each sentence stands among its essay's sentences that are not `skipped` (0 first, 1 last; a skipped one
    where the last before it stands). An answer of one such sentence is neither an opening nor a conclusion, so it
    stands in the middle."""
    own = (~np.asarray(skipped, dtype=bool)).astype(np.float64)
    owners = _sentence_owners(counts)
    own_counts = np.bincount(owners, weights=own, minlength=len(counts))
    own_before_essay = (np.cumsum(own_counts) - own_counts)[owners]
    rank, n_own = np.maximum(np.cumsum(own) - own_before_essay - 1, 0), own_counts[owners]
    return np.where(n_own > 1, rank / np.maximum(n_own - 1, 1), 0.5)


def _share_of_others(flags: np.ndarray, own: np.ndarray, counts: list[int]) -> np.ndarray:
    """Per sentence: the share of the other `own` sentences of its essay that are flagged (0 where there is none)."""
    flags, own = np.asarray(flags, dtype=np.float64), np.asarray(own, dtype=np.float64)
    owners = _sentence_owners(counts)
    sizes = np.bincount(owners, weights=own, minlength=len(counts))[owners] - own
    totals = np.bincount(owners, weights=flags * own, minlength=len(counts))[owners] - flags * own
    return np.where(sizes > 0, totals / np.maximum(sizes, 1), 0.0).astype(np.float32)


MAX_DETAIL = 0.999  # one sentence alone cannot make "some sentence supports it" certain
MAX_LOG_ODDS = 20.0  # and no number of sentences makes it infinite


def own_develop_features(reading, point: np.ndarray, detail: np.ndarray) -> np.ndarray:
    """`develop_features_of` over the student's own sentences: one said again, or pasted, makes the essay no longer."""
    own = ~reading.withheld
    return develop_features_of(point[own], detail[own])


def develop_features_of(point: np.ndarray, detail: np.ndarray) -> np.ndarray:
    """Factor x DEVELOP_FEATURES from one essay's sentence x factor probabilities."""
    return develop_features_many(point, detail, np.array([len(point)]))[0]


def develop_features_many(point: np.ndarray, detail: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Essay x factor x DEVELOP_FEATURES from sentence x factor probabilities (essays in order, `counts[i]` rows for
    essay i), for a batch at once; all 0 for an essay without a row."""
    counts = np.asarray(counts, dtype=np.int64)
    n_factors = point.shape[1]
    features = np.zeros((len(counts), n_factors, len(DEVELOP_FEATURES)))
    filled = counts > 0
    if not filled.any():
        return features
    starts, sizes = _segment_starts(counts)[filled], counts[filled]
    slot = np.repeat(np.arange(len(sizes)), sizes)  # each row's essay among the filled ones
    best = np.maximum.reduceat(point, starts, axis=0)
    # The first row holding each essay's best point (what np.argmax picks): the runner-up is the best of the others,
    # and detail there is the point's own sentence, not development elsewhere.
    rows = np.arange(len(point))[:, np.newaxis]
    best_row = np.minimum.reduceat(np.where(point == best[slot], rows, len(point)), starts, axis=0)
    columns = np.arange(n_factors)[np.newaxis, :]
    others = point.copy()
    others[best_row, columns] = -np.inf
    second = np.where(sizes[:, np.newaxis] > 1, np.maximum.reduceat(others, starts, axis=0), 0.0)
    elsewhere = detail.copy()
    elsewhere[best_row, columns] = 0.0
    # The chance that at least one sentence supports the point, as if sentences were independent: several middling
    # detail sentences (a real paragraph of explanation) count for more than the best one alone.
    log_no_detail = np.add.reduceat(np.log1p(-np.clip(detail, 0.0, MAX_DETAIL)), starts, axis=0)
    any_detail_log_odds = np.clip(np.log(-np.expm1(log_no_detail) + 1e-9) - log_no_detail, -MAX_LOG_ODDS, MAX_LOG_ODDS)
    features[filled] = np.stack([best, second, np.minimum(np.add.reduceat(point, starts, axis=0), 4.0),
                                 np.maximum.reduceat(detail, starts, axis=0),
                                 np.minimum(np.add.reduceat(detail, starts, axis=0), 4.0),
                                 np.maximum.reduceat(elsewhere, starts, axis=0),
                                 np.broadcast_to(np.log1p(sizes)[:, np.newaxis], best.shape), any_detail_log_odds], axis=2)
    return features


def off_question_features(reading, point: np.ndarray, word_score: float = 0.0) -> np.ndarray:
    return off_question_features_many([reading], point, [word_score])[0]


def off_question_features_many(readings: list, point: np.ndarray, word_scores) -> np.ndarray:
    """Essay x OFF_QUESTION_FEATURES for the readings, whose sentences are `point`'s rows in order (all 0 for an
    essay without a sentence)."""
    counts = np.array([len(r.sentences) for r in readings], dtype=np.int64)
    features = np.zeros((len(readings), len(OFF_QUESTION_FEATURES)))
    filled = counts > 0
    if not filled.any():
        return features
    starts, sizes = _segment_starts(counts)[filled], counts[filled]
    off_topic = _stacked(readings, "off_topic")
    best = np.maximum.reduceat(point, starts, axis=0)
    nearer_off_topic = off_topic > _stacked(readings, "unmasked_scores").max(axis=1)
    mean = lambda values: np.add.reduceat(values, starts) / sizes  # noqa: E731
    features[filled] = np.column_stack([best.max(axis=1), best.sum(axis=1), mean(off_topic.astype(np.float64)),
                                        mean(nearer_off_topic.astype(np.float64)), mean(_stacked(readings, "similarity").max(axis=1).astype(np.float64)),
                                        np.log1p([len(r.words.words) for r in readings if len(r.sentences)]), np.asarray(word_scores, dtype=float)[filled]])
    return features


def _own_word_flags(reading) -> list[bool]:
    """Per word of the essay: whether it lies in a sentence that is not withheld (sentences do not overlap)."""
    own_ranges = reading.word_ranges[~reading.withheld]
    size = len(reading.words.words) + 1
    edges = np.bincount(own_ranges[:, 0], minlength=size) - np.bincount(own_ranges[:, 1], minlength=size)
    return (np.cumsum(edges[:-1]) > 0).tolist()


def mark_features(reading, point: np.ndarray, levels: list[int], develop: np.ndarray, off_question: float,
                  words_mark: float = 0.0) -> np.ndarray:
    # Pasted or repeated sentences are not the student's explanation, so their words (length, linking) earn nothing
    # either, and the shares below are of the student's own sentences, so a pasted passage dilutes neither.
    mine = ~reading.withheld
    words = reading.words.words
    own = words if mine.all() else list(compress(words, _own_word_flags(reading)))
    n = max(int(mine.sum()), 1)
    distinct, joined = set(own), join_for_phrases(own)
    weighing, linking = _WEIGHING.count(own, distinct, joined), _LINKING.count(own, distinct, joined)
    crediting = float(np.mean(point[mine].max(axis=1) >= 0.5)) if mine.any() and point.size else 0.0
    notes = float(np.mean(reading.note_shaped[mine])) if mine.any() else 0.0
    return np.array([sum(levels), sum(1 for v in levels if v == 2), sum(1 for v in levels if v == 1),
                     float(point.max(axis=0).sum()) if point.size else 0.0, float(np.sum(develop * (np.array(levels) > 0))),
                     np.log1p(len(own)), weighing / n, linking / n, float(weighing > 0), off_question,
                     crediting, notes, words_mark])
