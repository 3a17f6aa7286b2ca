"""Fitting the learned judge (`models/judge.py`) from annotated essays, and cross-validating it.

Every model above the sentence classifiers is fitted on *out-of-fold* sentence probabilities
(folds by essay), so the level and mark models learn from probabilities like those they will
meet on essays the sentence classifiers never saw.
"""
from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import GroupKFold, KFold, StratifiedKFold, cross_val_predict
from threadpoolctl import threadpool_limits

from models.annotations import sentence_roles
from models.engine import CoverageModel
from models.evaluate import LabelledEssay
from models.judge import (DEVELOP_FEATURES, apply_rule_gates, MARK_FEATURES, OFF_QUESTION_FEATURES, OFF_QUESTION_KINDS, ROLES, SENTENCE_FEATURES, Judge,
                          dense_features, mark_features, off_question_features, own_develop_features)

SENTENCE_C = 3.0  # inverse regularisation of the sentence classifiers (3 beat 0.3, 1 and 10 in 5-fold CV)
ESSAY_C = 1.0
MARK_ALPHA = 3.0
MARK_WORDS_ALPHA = 0.3  # the word mark model's ridge (0.3 beat 1 and 3 in grouped 5-fold CV: mark r 0.971, real essays 0.82)
OFF_QUESTION_WORDS_C = 3.0
MIN_DOCUMENT_FREQUENCY = 2  # a word must appear in two training sentences to become a feature
INNER_FOLDS = 5
OFF_QUESTION_FOLDS = 5
OFF_QUESTION_CUTS = tuple(round(c, 2) for c in np.arange(0.3, 0.96, 0.05))
THRESHOLDS = tuple(round(t, 2) for t in np.arange(0.2, 0.801, 0.01))
# A factor's threshold credits this many times as many training essays (out of fold) as the markers did: a student
# whose point is borderline is given it rather than refused (the probe's responsiveness), and the threshold is where a
# steep count crosses a level, so it moves little when training data are added (the top of the F1 curve is flat, and
# choosing on it moved thresholds 0.05-0.10 between retrains; on the 2683 essays of 2026-12 this costs under 0.01 F1).
CREDIT_ALLOWANCE = 1.05
# Development is count-matched too: the cut on the development probability at which the factors judged developed,
# out of fold, number as many as the markers developed. At the fixed 0.5 the judge told 438 developed points
# "mentioned" for 234 the other way (2853 essays, 2026-12-04), the error a student sees most ("explain it" of a point
# already explained); the matched cut balances the two at the same kappa.
DEVELOP_ALLOWANCE = 1.0
DEVELOP_CUTS = tuple(round(c, 2) for c in np.arange(0.3, 0.701, 0.01))
OFF_QUESTION_MARGINS = tuple(round(m, 2) for m in np.arange(0.0, 0.31, 0.05))


@dataclass
class _Prepared:
    """The training essays read once: sentence features and annotated roles."""

    readings: list
    essay_of_sentence: np.ndarray  # (S,) essay index
    tokens: list[list[str]]
    dense: list[np.ndarray]  # per factor (S, D)
    point: np.ndarray  # (S, F) annotated point
    detail: np.ndarray  # (S, F) annotated detail


def prepare(model: CoverageModel, essays: list[LabelledEssay]) -> _Prepared:
    factor_ids = model.rubric.factor_ids
    readings = model.read_essays([e.text for e in essays])
    tokens, owner, points, details = [], [], [], []
    for index, (essay, reading) in enumerate(zip(essays, readings)):
        spans = [(s.start, s.end) for s in reading.sentences]
        points += sentence_roles(spans, list(essay.annotations), factor_ids, "point")
        details += sentence_roles(spans, list(essay.annotations), factor_ids, "detail")
        tokens += reading.tokens
        owner += [index] * len(spans)
    n_factors = len(factor_ids)
    return _Prepared(readings, np.array(owner), tokens, dense_features(readings),
                     np.array(points, dtype=bool).reshape(-1, n_factors), np.array(details, dtype=bool).reshape(-1, n_factors))


def _vocabulary(tokens: list[list[str]]) -> tuple[list[str], np.ndarray]:
    frequency: dict[str, int] = {}
    for sentence in tokens:
        for token in set(sentence):
            frequency[token] = frequency.get(token, 0) + 1
    vocabulary = sorted(t for t, n in frequency.items() if n >= MIN_DOCUMENT_FREQUENCY)
    n = len(tokens)
    idf = np.array([np.log((1 + n) / (1 + frequency[t])) + 1.0 for t in vocabulary], dtype=np.float32)
    return vocabulary, idf


def _fit_sentences(prepared: _Prepared, rows: np.ndarray, n_factors: int) -> Judge:
    """A judge whose sentence classifiers are fitted on `rows`; the essay-level parts are left neutral."""
    vocabulary, idf = _vocabulary([prepared.tokens[r] for r in rows])
    n_dense = len(SENTENCE_FEATURES)
    judge = Judge(vocabulary, idf, np.zeros((n_factors, n_dense)), np.ones((n_factors, n_dense)),
                  np.zeros((len(ROLES), n_factors, len(vocabulary) + n_dense)), np.zeros((len(ROLES), n_factors)), np.full(n_factors, 0.5),
                  np.zeros((n_factors, len(DEVELOP_FEATURES))), np.zeros(n_factors), np.zeros(len(OFF_QUESTION_FEATURES)), 0.0,
                  np.zeros(len(MARK_FEATURES)), np.zeros(len(MARK_FEATURES)), np.ones(len(MARK_FEATURES)), 0.0)
    words = judge.sentence_matrix([prepared.tokens[r] for r in rows])
    for f in range(n_factors):
        dense = prepared.dense[f][rows]
        judge.dense_mean[f] = dense.mean(axis=0)
        judge.dense_scale[f] = np.where(dense.std(axis=0) > 0, dense.std(axis=0), 1.0)
        features = sparse.hstack([words, sparse.csr_matrix((dense - judge.dense_mean[f]) / judge.dense_scale[f])]).tocsr()
        point, detail = prepared.point[rows, f], prepared.detail[rows, f]
        for role, target in enumerate((point, detail, point | detail)):  # ROLES
            if target.all() or not target.any():
                judge.sentence_bias[role, f] = 10.0 if target.all() else -10.0
                continue
            classifier = LogisticRegression(C=SENTENCE_C, class_weight="balanced", solver="liblinear", max_iter=1000)
            classifier.fit(features, target)
            judge.sentence_weights[role, f] = classifier.coef_[0]
            judge.sentence_bias[role, f] = classifier.intercept_[0]
    return judge


def _probabilities(judge: Judge, prepared: _Prepared, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    words = judge.sentence_matrix([prepared.tokens[r] for r in rows])
    return judge.sentence_probabilities(words, [d[rows] for d in prepared.dense])


def _out_of_fold(prepared: _Prepared, essays: np.ndarray, n_factors: int) -> tuple[np.ndarray, np.ndarray]:
    """Sentence probabilities for the given essays, each from classifiers fitted without its essay."""
    rows = np.flatnonzero(np.isin(prepared.essay_of_sentence, essays))
    point = np.zeros((len(prepared.tokens), n_factors))
    detail = np.zeros_like(point)
    folds = GroupKFold(n_splits=min(INNER_FOLDS, len(essays)))
    for train, test in folds.split(rows, groups=prepared.essay_of_sentence[rows]):
        judge = _fit_sentences(prepared, rows[train], n_factors)
        point[rows[test]], detail[rows[test]] = _probabilities(judge, prepared, rows[test])
    return point, detail


def fit_judge(model: CoverageModel, essays: list[LabelledEssay], prepared: _Prepared | None = None,
              indices: np.ndarray | None = None, meta: dict | None = None) -> Judge:
    """The judge learned from the annotated `essays` (or the subset `indices` of already prepared ones).

    BLAS keeps to one thread while it reads and learns: its sums then run in one order, so the weights do not depend
    on the machine's cores or on what the process set before (a batch command sets one thread), and a retrain
    matches the shipped judge."""
    with threadpool_limits(limits=1, user_api="blas"):
        return _fit_judge(model, essays, prepared, indices, meta)


def _fit_judge(model: CoverageModel, essays: list[LabelledEssay], prepared: _Prepared | None,
               indices: np.ndarray | None, meta: dict | None) -> Judge:
    prepared = prepared or prepare(model, essays)
    indices = np.arange(len(essays)) if indices is None else np.asarray(indices)
    factor_ids = model.rubric.factor_ids
    n_factors = len(factor_ids)
    rows = np.flatnonzero(np.isin(prepared.essay_of_sentence, indices))
    judge = _fit_sentences(prepared, rows, n_factors)
    point, detail = _out_of_fold(prepared, indices, n_factors)
    truth = np.array([[essays[i].levels[f] for f in factor_ids] for i in indices])

    per_essay = [np.flatnonzero(prepared.essay_of_sentence == i) for i in indices]
    readings = [prepared.readings[i] for i in indices]
    # The codebook's rules (a point is a statement; a list of factors makes none; naming and signposting make none;
    # defining a term makes none)
    # stay unless they cost presence F1 out of fold: the sentences they stop are rare in labelled essays, so the
    # F1 barely sees them, but a student who pads an essay with factor names would otherwise earn credit for it.
    f1 = [_presence_f1(truth, _gated(readings, per_essay, point, detail, gates)[0], per_essay) for gates in RULE_GATES]
    judge.rule_gates = max(zip(RULE_GATES, f1), key=lambda pair: (pair[1] >= max(f1) - F1_NOISE, pair[0].sum(), pair[1]))[0]
    point, detail = _gated(readings, per_essay, point, detail, judge.rule_gates)
    best = _best(point, per_essay)
    development = np.array([own_develop_features(reading, point[r], detail[r]) for reading, r in zip(readings, per_essay)])  # essay x factor x feature
    for f in range(n_factors):
        judge.presence_threshold[f] = _best_threshold(truth[:, f] >= 1, best[:, f])
        features = development[:, f]
        present = truth[:, f] >= 1
        target = truth[present, f] == 2
        if present.sum() >= 4 and 0 < target.sum() < present.sum():
            classifier = LogisticRegression(C=ESSAY_C, class_weight="balanced", max_iter=1000).fit(features[present], target)
            judge.develop_weights[f], judge.develop_bias[f] = classifier.coef_[0], classifier.intercept_[0]
        else:
            judge.develop_bias[f] = 10.0 if target.all() else -10.0
    judge.develop_cut = _develop_cut(development, truth)

    off_target = np.array([essays[i].kind in OFF_QUESTION_KINDS for i in indices])
    word_scores = np.zeros(len(indices))
    enough = off_target.sum() >= OFF_QUESTION_FOLDS and len(off_target) - off_target.sum() >= OFF_QUESTION_FOLDS
    sentence_words = judge.sentence_matrix([prepared.tokens[s] for r in per_essay for s in r])
    if enough:
        # What the essay talks about, scored out of fold so the model above learns how far to trust it.
        essay_words = judge.essay_word_vectors(sentence_words, [len(r) for r in per_essay])
        words_model = LogisticRegression(C=OFF_QUESTION_WORDS_C, class_weight="balanced", max_iter=2000)
        word_scores = cross_val_predict(words_model, essay_words, off_target, cv=StratifiedKFold(OFF_QUESTION_FOLDS),
                                        method="decision_function")
        words_model.fit(essay_words, off_target)
        judge.off_question_word_weights, judge.off_question_word_bias = words_model.coef_[0], float(words_model.intercept_[0])
    off_features = np.array([off_question_features(reading, point[r], w) for reading, r, w in zip(readings, per_essay, word_scores)])
    if enough:
        # Telling a student their essay misses the question is a strong message: the cut is chosen out of fold for
        # precision first (F0.5), on probabilities not inflated by class weights.
        classifier = LogisticRegression(C=ESSAY_C, max_iter=1000)
        held_out = cross_val_predict(classifier, off_features, off_target, cv=StratifiedKFold(OFF_QUESTION_FOLDS),
                                     method="predict_proba")[:, 1]
        judge.off_question_cut = max(OFF_QUESTION_CUTS, key=lambda c: (_f_beta(off_target, held_out >= c, 0.5), c))
        classifier.fit(off_features, off_target)
        judge.off_question_weights, judge.off_question_bias = classifier.coef_[0], float(classifier.intercept_[0])
        judge.off_question_margin = _best_margin(truth, best, judge.presence_threshold, held_out >= judge.off_question_cut)

    # The mark its own words suggest, scored out of fold so the mark model learns how far to trust it.
    marks = np.array([essays[i].mark for i in indices], dtype=float)
    own_words = judge.essay_word_vectors(sentence_words, [len(r) for r in per_essay],
                                         np.concatenate([~reading.withheld for reading in readings]) if readings else None)
    mark_word_scores = np.zeros(len(indices))
    if len(indices) >= INNER_FOLDS:
        words_mark = Ridge(alpha=MARK_WORDS_ALPHA)
        mark_word_scores = cross_val_predict(words_mark, own_words, marks, cv=KFold(INNER_FOLDS))
        words_mark.fit(own_words, marks)
        judge.mark_word_weights, judge.mark_word_bias = words_mark.coef_, float(words_mark.intercept_)

    # The mark model sees the levels and probabilities the judge itself gives out of fold.
    out_of_fold = [judge.judge_probabilities(reading, point[r], detail[r], w, m)
                   for reading, r, w, m in zip(readings, per_essay, word_scores, mark_word_scores)]
    marks_x = np.array([mark_features(reading, point[r], j.levels, j.develop, j.off_question, m)
                        for reading, r, j, m in zip(readings, per_essay, out_of_fold, mark_word_scores)])
    judge.mark_mean = marks_x.mean(axis=0)
    judge.mark_scale = np.where(marks_x.std(axis=0) > 0, marks_x.std(axis=0), 1.0)
    regression = Ridge(alpha=MARK_ALPHA).fit((marks_x - judge.mark_mean) / judge.mark_scale, marks)
    judge.mark_weights, judge.mark_bias = regression.coef_, float(regression.intercept_)
    judge.meta = dict(meta or {})
    return judge


RULE_GATES = tuple(np.array(g, dtype=bool) for g in itertools.product((False, True), repeat=4))
F1_NOISE = 0.005  # out-of-fold presence F1 differences below this are noise: a rule that costs no more stays


def _gated(readings, per_essay, point, detail, gates):
    point, detail = point.copy(), detail.copy()
    for reading, rows in zip(readings, per_essay):
        point[rows], detail[rows] = apply_rule_gates(reading, point[rows], detail[rows], gates)
    return point, detail


def _best(point: np.ndarray, per_essay: list[np.ndarray]) -> np.ndarray:
    """Essay x factor: the highest sentence probability."""
    return np.array([point[rows].max(axis=0) if rows.size else np.zeros(point.shape[1]) for rows in per_essay])


def _best_threshold(truth: np.ndarray, best: np.ndarray) -> float:
    """The lowest threshold at which the essays credited number closest to CREDIT_ALLOWANCE times those labelled present."""
    credited = np.array([(best >= t).sum() for t in THRESHOLDS])
    return THRESHOLDS[int(np.argmin(np.abs(credited - CREDIT_ALLOWANCE * truth.sum())))]


def _develop_cut(development: np.ndarray, truth: np.ndarray) -> float:
    """The cut at which the present factors judged developed out of fold (pooled over factors) number closest to
    DEVELOP_ALLOWANCE times those the markers developed; 0.5 when no factor has enough of both levels to tell."""
    probabilities, developed = [], []
    for f in range(truth.shape[1]):
        present = truth[:, f] >= 1
        target = truth[present, f] == 2
        if min(target.sum(), (~target).sum()) < INNER_FOLDS:
            continue
        classifier = LogisticRegression(C=ESSAY_C, class_weight="balanced", max_iter=1000)
        probabilities.append(cross_val_predict(classifier, development[present, f], target, cv=StratifiedKFold(INNER_FOLDS),
                                               method="predict_proba")[:, 1])
        developed.append(target)
    if not probabilities:
        return 0.5
    pooled, wanted = np.concatenate(probabilities), DEVELOP_ALLOWANCE * np.concatenate(developed).sum()
    return min(DEVELOP_CUTS, key=lambda c: (abs(float((pooled >= c).sum()) - wanted), c))


def _best_margin(truth: np.ndarray, best: np.ndarray, thresholds: np.ndarray, told: np.ndarray) -> float:
    """How much surer a sentence must be to make a point in an essay told it answers another question: the margin
    with the best presence F1 out of fold (the smallest of equals). Such essays use the factors' words for another
    subject, and most of what the judge wrongly credits in them sits just above the threshold."""
    def f1(margin: float) -> float:
        credited = best >= thresholds[np.newaxis, :] + np.where(told, margin, 0.0)[:, np.newaxis]
        return float(np.mean([_f1(truth[:, f] >= 1, credited[:, f]) for f in range(truth.shape[1])]))
    return max(OFF_QUESTION_MARGINS, key=lambda m: (f1(m), -m))


def _presence_f1(truth: np.ndarray, point: np.ndarray, per_essay: list[np.ndarray]) -> float:
    best = _best(point, per_essay)
    return float(np.mean([_f1(truth[:, f] >= 1, best[:, f] >= _best_threshold(truth[:, f] >= 1, best[:, f])) for f in range(truth.shape[1])]))


def _f_beta(truth: np.ndarray, predicted: np.ndarray, beta: float) -> float:
    tp = float(np.sum(truth & predicted))
    precision, recall = tp / max(float(predicted.sum()), 1.0), tp / max(float(truth.sum()), 1.0)
    return (1 + beta**2) * precision * recall / max(beta**2 * precision + recall, 1e-9)


def _f1(truth: np.ndarray, predicted: np.ndarray) -> float:
    tp = float(np.sum(truth & predicted))
    positives = float(truth.sum() + predicted.sum())
    return 2 * tp / positives if positives else 1.0


def training_record(model: CoverageModel, essays: list[LabelledEssay], folders: list[str]) -> dict:
    """What a judge was trained on, stored inside it: the rubric's hash and each set's essays and labels."""
    digest = hashlib.sha256()
    for essay in essays:
        digest.update(essay.id.encode() + essay.text.encode() + repr(sorted(essay.levels.items())).encode() + repr(essay.mark).encode())
        digest.update(repr(sorted((a.start, a.end, a.factor, a.role) for a in essay.annotations)).encode())
    return {"rubric_id": model.rubric.id, "rubric_hash": model.rubric.content_hash, "sets": [str(f) for f in folders],
            "essays": len(essays), "annotated_sentences": sum(len(e.annotations) for e in essays), "data_hash": digest.hexdigest()}


def cross_validated_judgements(model: CoverageModel, essays: list[LabelledEssay], folds: int = 5):
    """Each essay judged by a judge trained without it (grouped k-fold by essay): (judgements, prepared)."""
    prepared = prepare(model, essays)
    judgements = [None] * len(essays)
    splitter = GroupKFold(n_splits=min(folds, len(essays)))
    indices = np.arange(len(essays))
    for train, test in splitter.split(indices, groups=indices):
        judge = fit_judge(model, essays, prepared, train)
        for i in test:
            rows = np.flatnonzero(prepared.essay_of_sentence == i)
            point, detail = _probabilities(judge, prepared, rows)
            judgements[i] = judge.judge_probabilities(prepared.readings[i], point, detail)
    return judgements, prepared
