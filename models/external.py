"""The engine on someone else's questions: Mohler et al. (2011) CS short answers.

Tutors will write rubrics for their own questions, so the engine is checked on
81 questions it was never tuned for. Each question becomes a one-factor rubric
whose only exemplar is the instructor's reference answer; every student answer
is read by that question's fitted CoverageModel and compared with the human
average grade (0-5). Nothing is trained on these grades: the only use of grades
is the linear map to the 0-5 scale for one RMSE figure, fitted on other
questions (cross-validation by question folds).

    python -m app.cli bench-external --data PATH/mohler.csv
"""
from __future__ import annotations

import csv
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics.pairwise import cosine_similarity
from sklearn.model_selection import GroupKFold
from sklearn.preprocessing import normalize

from models.corpus import Corpus, ReferenceEssay
from models.engine import CoverageModel
from models.errors import RubricateError
from models.rubric import CopySettings, Factor, Rubric, Scoring
from models.text import STOP_WORDS, split_sentences, words

COLUMNS = ("answer_id", "question_id", "question", "reference_answer", "student_answer", "score_grader1", "score_grader2", "score_avg")
SCORE_COLUMNS = ("score_grader1", "score_grader2", "score_avg")
MAX_GRADE = 5.0
CV_FOLDS = 10  # question folds for the linear map to the 0-5 scale


@dataclass(frozen=True)
class ShortAnswer:
    """One student's answer with both graders' marks and their average (0-5)."""

    answer_id: str
    question_id: str
    question: str
    reference: str
    text: str
    grader1: float
    grader2: float
    average: float


@dataclass(frozen=True)
class Agreement:
    """How one system's scores follow the human average grade."""

    system: str
    r: float  # Pearson r over all answers
    rmse_x5: float  # RMSE of score * 5 against the average grade: no fitting at all
    rmse_cv: float  # RMSE after a linear map to 0-5 fitted on the other questions' folds
    median_question_r: float  # median over questions of the within-question Pearson r
    questions_with_r: int  # questions where both scores and grades vary, so r is defined


@dataclass(frozen=True)
class ExternalResult:
    answers: int
    questions: int
    engine: Agreement  # the engine similarity this benchmark is about
    product: Agreement  # the factor score the product shows (levels tuned for essays)
    baselines: tuple[Agreement, ...]
    graders_r: float  # grader 1 vs grader 2: the practical ceiling
    graders_median_question_r: float
    mean_grade_rmse: float  # predicting each answer as the other folds' mean grade
    engine_scores: dict[str, float]  # answer_id -> engine similarity in [0, 1]


ENGINE_SCORE = (
    "engine similarity = cosine between the whole answer and the whole reference answer in the engine's TF-IDF space "
    "(the model's tokens: stems, spelling corrected to the question's words, unigrams; the question's own words "
    "down-weighted as the rubric's common_words)"
)


# ------------------------------------------------------------------ reading
def load_short_answers(csv_path: str | Path) -> list[ShortAnswer]:
    """Rows of a Mohler-style csv; RubricateError names the file, the column or row, and the fix."""
    path = Path(csv_path)
    if not path.is_file():
        raise RubricateError(f"Short-answer file {path} was not found: give the path of a csv with columns {', '.join(COLUMNS)}.")
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            header = reader.fieldnames or []
            missing = [c for c in COLUMNS if c not in header]
            if missing:
                raise RubricateError(
                    f"Short-answer file {path}: missing column '{missing[0]}'; the header needs {', '.join(COLUMNS)}."
                )
            rows = list(reader)
    except UnicodeDecodeError:
        raise RubricateError(f"Short-answer file {path} is not UTF-8 text: save it as UTF-8.") from None
    if not rows:
        raise RubricateError(f"Short-answer file {path} has a header but no answers: add one row per student answer.")
    answers = []
    for line, row in enumerate(rows, start=2):
        grades = []
        for column in SCORE_COLUMNS:
            try:
                grades.append(float(row[column]))
            except (TypeError, ValueError):
                raise RubricateError(f"Short-answer file {path}, line {line}: column '{column}' must be a number from 0 to 5, got {row[column]!r}.") from None
        for column in ("question_id", "question", "reference_answer"):
            if not (row[column] or "").strip():
                raise RubricateError(f"Short-answer file {path}, line {line}: column '{column}' is empty; every answer needs its question and reference answer.")
        answers.append(
            ShortAnswer(row["answer_id"], row["question_id"], row["question"].strip(), row["reference_answer"].strip(), row["student_answer"] or "", *grades)
        )
    return answers


def by_question(answers: list[ShortAnswer]) -> dict[str, list[ShortAnswer]]:
    """Answers grouped by question id, in file order."""
    groups: dict[str, list[ShortAnswer]] = {}
    for answer in answers:
        groups.setdefault(answer.question_id, []).append(answer)
    return groups


# ------------------------------------------------------------------ the engine on one question
def question_model(question_id: str, question: str, reference: str) -> CoverageModel:
    """A fitted one-factor model whose exemplar is the reference answer (cues = its sentences)."""
    source = Path(f"reference answer to question {question_id}")
    cues = tuple(s.text for s in split_sentences(reference)) or (reference,)
    factor = Factor(
        id="reference_answer",
        name="The reference answer's point",
        description=f"{question} {reference}",
        cues=cues,
        guidance=f"Compare your answer with the reference answer: {reference}",
    )
    rubric = Rubric(
        id=f"question_{question_id}",
        question=question,
        path=source,
        corpus_path=source,
        factors=(factor,),
        # Repeating the question earns nothing on its own (Mohler et al.'s "question demoting").
        common_words=tuple(dict.fromkeys(w for w in words(question) if w not in STOP_WORDS)),
        # Students never saw the reference answer, so an answer that matches it is not copied.
        copy=CopySettings(credit_copied=True),
        # A short answer is often a phrase ("the number of elements"), not a sentence.
        scoring=Scoring(statements_only=False),
    )
    corpus = Corpus(source, (ReferenceEssay("reference", "Instructor's reference answer", str(source), reference),))
    return CoverageModel(rubric, corpus).fit()


def reference_similarity(model: CoverageModel, reference: str, texts: list[str]) -> np.ndarray:
    """Cosine of each whole answer with the whole reference, weighted as the model weighs the factor's words.

    Whole answers, not sentences: a short answer makes its point in a clause,
    and the product's two-shared-words rule zeroes a third of them ("push").
    Unigrams: a bigram is missed whenever a student rephrases.
    """
    weights = model.factor_weights_[0][np.newaxis, :]
    answer_vectors = model.vectorizer_.transform([model.tokens(t, bigrams=False) for t in texts])
    reference_vector = model.vectorizer_.transform([model.tokens(reference, bigrams=False)])
    answers = normalize(answer_vectors.multiply(weights).tocsr())
    target = normalize(reference_vector.multiply(weights).tocsr())
    return np.clip((answers @ target.T).toarray().ravel(), 0.0, 1.0)


def tfidf_similarity(vectorizer: TfidfVectorizer, reference: str, texts: list[str]) -> np.ndarray:
    """The plain baseline: cosine of scikit-learn TF-IDF vectors (default settings)."""
    return cosine_similarity(vectorizer.transform(texts), vectorizer.transform([reference])).ravel()


# ------------------------------------------------------------------ figures
def pearson(x: np.ndarray, y: np.ndarray) -> float:
    """Pearson r, or nan when either side does not vary."""
    if len(x) < 2 or np.std(x) == 0 or np.std(y) == 0:
        return math.nan
    return float(np.corrcoef(x, y)[0, 1])


def rmse(predicted: np.ndarray, grades: np.ndarray) -> float:
    return float(np.sqrt(np.mean((predicted - grades) ** 2)))


def question_folds(question_ids: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train, test) index pairs with each question wholly in one test fold."""
    n_folds = min(CV_FOLDS, len(set(question_ids)))
    if n_folds < 2:
        return []
    return list(GroupKFold(n_splits=n_folds).split(question_ids, groups=question_ids))


def cross_validated_map(scores: np.ndarray, grades: np.ndarray, folds) -> np.ndarray:
    """Scores mapped to 0-5 by a line fitted on the other questions' answers only."""
    predicted = np.full(len(scores), np.nan)
    for train, test in folds:
        if np.std(scores[train]) == 0:
            predicted[test] = grades[train].mean()
            continue
        slope, intercept = np.polyfit(scores[train], grades[train], 1)
        predicted[test] = intercept + slope * scores[test]
    return np.clip(predicted, 0.0, MAX_GRADE)


def median_question_r(x: np.ndarray, y: np.ndarray, question_ids: np.ndarray) -> tuple[float, int]:
    values = [pearson(x[question_ids == q], y[question_ids == q]) for q in dict.fromkeys(question_ids)]
    defined = [v for v in values if not math.isnan(v)]
    return (float(np.median(defined)) if defined else math.nan), len(defined)


def agreement(system: str, scores: np.ndarray, grades: np.ndarray, question_ids: np.ndarray, folds) -> Agreement:
    median_r, counted = median_question_r(scores, grades, question_ids)
    rmse_cv = rmse(cross_validated_map(scores, grades, folds), grades) if folds else math.nan
    return Agreement(system, pearson(scores, grades), rmse(MAX_GRADE * scores, grades), rmse_cv, median_r, counted)


# ------------------------------------------------------------------ the benchmark
def run_external_benchmark(csv_path: str | Path, out: TextIO = sys.stdout) -> ExternalResult:
    """Score every answer with the engine and the baselines; print and return the figures."""
    answers = load_short_answers(csv_path)
    groups = by_question(answers)
    every_text = list(dict.fromkeys([a.reference for a in answers] + [a.text for a in answers]))
    all_answers_tfidf = TfidfVectorizer().fit(every_text)

    engine, product, per_question_tfidf, all_tfidf = [], [], [], []
    for question_id, group in groups.items():
        question, reference = group[0].question, group[0].reference
        texts = [a.text for a in group]
        model = question_model(question_id, question, reference)
        engine.append(reference_similarity(model, reference, texts))
        product.append([report.factors[0].score for report in model.score_many(texts)])
        per_question_tfidf.append(tfidf_similarity(TfidfVectorizer().fit([reference] + texts), reference, texts))
        all_tfidf.append(tfidf_similarity(all_answers_tfidf, reference, texts))

    ordered = [a for group in groups.values() for a in group]
    grades = np.array([a.average for a in ordered])
    question_ids = np.array([a.question_id for a in ordered])
    folds = question_folds(question_ids)
    engine_scores = np.concatenate(engine)
    measure = lambda name, parts: agreement(name, np.concatenate(parts).astype(float), grades, question_ids, folds)  # noqa: E731
    grader1 = np.array([a.grader1 for a in ordered])
    grader2 = np.array([a.grader2 for a in ordered])
    mean_grade = np.full(len(grades), np.nan)
    for train, test in folds:
        mean_grade[test] = grades[train].mean()

    result = ExternalResult(
        answers=len(ordered),
        questions=len(groups),
        engine=measure("engine similarity", engine),
        product=measure("engine factor score (product)", product),
        baselines=(
            measure("TF-IDF cosine, fitted per question", per_question_tfidf),
            measure("TF-IDF cosine, fitted on all answers", all_tfidf),
        ),
        graders_r=pearson(grader1, grader2),
        graders_median_question_r=median_question_r(grader1, grader2, question_ids)[0],
        mean_grade_rmse=rmse(mean_grade, grades) if folds else math.nan,
        engine_scores={a.answer_id: float(s) for a, s in zip(ordered, engine_scores)},
    )
    print_result(result, Path(csv_path), out)
    return result


def print_result(result: ExternalResult, source: Path, out: TextIO) -> None:
    lines = [
        f"External benchmark: {source.name} — {result.answers} answers to {result.questions} questions, human average grade 0-5.",
        "Each question: a one-factor rubric whose exemplar is the instructor's reference answer; no training on grades.",
        f"{'system':40s} {'r':>6s} {'RMSE x5':>8s} {'RMSE cv':>8s} {'median r per question':>22s}",
    ]
    for a in (result.engine, result.product, *result.baselines):
        lines.append(f"{a.system:40s} {a.r:6.3f} {a.rmse_x5:8.3f} {a.rmse_cv:8.3f} {a.median_question_r:8.3f} ({a.questions_with_r} questions)")
    lines += [
        f"{'human grader 1 vs grader 2 (ceiling)':40s} {result.graders_r:6.3f} {'':8s} {'':8s} {result.graders_median_question_r:8.3f}",
        f"Predicting every answer as the mean grade of the other folds: RMSE {result.mean_grade_rmse:.3f}.",
        "",
        f"Engine score: {ENGINE_SCORE}.",
        "Factor score: the product's Report.factors[0].score (sentence points, two shared words needed, levels tuned for essays).",
        "RMSE x5: score * 5 against the average grade, nothing fitted. "
        f"RMSE cv: score mapped to 0-5 by a line fitted on the other questions ({CV_FOLDS} folds by question, or one per question if fewer).",
        "TF-IDF: scikit-learn TfidfVectorizer() defaults, cosine of student answer and reference answer.",
    ]
    print("\n".join(lines), file=out)
