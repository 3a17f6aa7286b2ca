"""Agreement with careful human labels: the product's core figure, against two baselines.

The engine's few thresholds are chosen by leave-one-essay-out cross-validation:
each essay is scored with thresholds tuned on the others, so no reported figure
comes from fitting the essay it describes.
"""
from __future__ import annotations

import csv
import itertools
import math
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import accuracy_score, cohen_kappa_score, precision_recall_fscore_support
from sklearn.metrics.pairwise import cosine_similarity

from models.annotations import Annotation, load_annotations
from models.engine import CoverageModel, factor_level
from models.errors import RubricateError
from models.report import Report
from models.rubric import Rubric, Scoring
from models.text import split_sentences

DATA = Path(__file__).resolve().parent.parent / "data"
DEFAULT_DEVSET = DATA / "devset"
# The calibration essays: thresholds are tuned (leave-one-out) on these together. The devset alone
# (18 essays) left the tuning objective flat across most thresholds; the held-out set doubles it.
DEFAULT_CALIBRATION = (DEFAULT_DEVSET, DATA / "heldout")
# The learned judge's training data: every labelled and annotated set (blind3 to blind30 were test sets, each measured once before joining).
DEFAULT_TRAINING = tuple(DATA / name for name in ("devset", "heldout", "blind", "blind2", "realsample", "train_a", "train_b", "train_c", "train_d", "train_e", "blind3", "train_f", "blind4", "train_g", "blind5", "train_h", "blind6", "train_i", "blind7", "blind8", "train_j", "blind9", "blind10", "blind11", "blind12", "blind13", "train_k", "train_l", "blind14", "blind15", "train_m", "train_n", "blind17", "train_o", "blind16", "train_p", "blind18", "blind19", "blind20", "train_q", "blind21", "train_r", "blind22", "train_s", "train_t", "blind23", "blind24", "train_u", "blind25", "blind26", "train_w", "blind27", "train_x", "blind28", "train_y", "blind29", "train_z", "train_za", "blind30", "blind32"))
KEYWORD_LISTS = DATA / "baselines"

POINT_THRESHOLDS = tuple(round(x, 3) for x in np.arange(0.15, 0.451, 0.025))
DEVELOPED_THRESHOLDS = tuple(round(x, 2) for x in np.arange(0.4, 1.61, 0.1))
BASELINE_THRESHOLDS = tuple(round(x, 3) for x in np.arange(0.01, 0.301, 0.01))


@dataclass(frozen=True)
class LabelledEssay:
    id: str
    text: str
    levels: dict[str, int]
    mark: float
    kind: str = ""
    annotations: tuple[Annotation, ...] = ()  # which sentences make or develop which point (sentences.csv)


@dataclass(frozen=True)
class Agreement:
    """Per-factor and macro figures for one system on one labelled set."""

    system: str
    per_factor: dict[str, dict[str, float]]  # factor -> precision, recall, f1, kappa, accuracy
    macro: dict[str, float]
    mark_r: float


def load_labelled_sets(folders, factor_ids: list[str]) -> list[LabelledEssay]:
    """Several labelled sets read as one, in the order given (each essay's id prefixed by its folder's name)."""
    return [replace(essay, id=f"{Path(folder).name}/{essay.id}")
            for folder in folders for essay in load_labelled_set(folder, factor_ids)]


def load_labelled_set(folder: str | Path, factor_ids: list[str]) -> list[LabelledEssay]:
    """essays/*.txt plus labels.csv (essay_id, one column per factor, mark_20), as in the devset."""
    folder = Path(folder)
    labels_path = folder / "labels.csv"
    if not labels_path.is_file():
        raise RubricateError(f"Labelled set {folder}: {labels_path.name} was not found (expected essays/*.txt and labels.csv).")
    with labels_path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    missing = [c for c in ["essay_id", "mark_20", *factor_ids] if rows and c not in rows[0]]
    if not rows or missing:
        raise RubricateError(f"Labelled set {labels_path}: missing column '{missing[0] if missing else 'essay_id'}'; it needs essay_id, mark_20 and one column per factor.")
    annotations = load_annotations(folder, factor_ids)
    essays = []
    for row in rows:
        path = folder / "essays" / f"{row['essay_id']}.txt"
        if not path.is_file():
            raise RubricateError(f"Labelled set {folder}: {path} is listed in labels.csv but was not found.")
        essays.append(LabelledEssay(row["essay_id"], path.read_text(encoding="utf-8"), {f: int(row[f]) for f in factor_ids},
                                    float(row["mark_20"]), row.get("kind", ""), tuple(annotations.get(row["essay_id"], ()))))
    return essays


# ---------------------------------------------------------------- metrics
def agreement(system: str, factor_ids: list[str], truth: list[dict[str, int]], predicted: list[dict[str, int]],
              true_marks: list[float], predicted_marks: list[float]) -> Agreement:
    per_factor = {}
    for factor in factor_ids:
        y_true = [t[factor] for t in truth]
        y_pred = [p[factor] for p in predicted]
        precision, recall, f1, _ = precision_recall_fscore_support(
            [y >= 1 for y in y_true], [y >= 1 for y in y_pred], average="binary", zero_division=0
        )
        kappa = cohen_kappa_score(y_true, y_pred, weights="quadratic", labels=[0, 1, 2])
        per_factor[factor] = {
            "precision": float(precision), "recall": float(recall), "f1": float(f1),
            "kappa": 0.0 if math.isnan(kappa) else float(kappa), "accuracy": float(accuracy_score(y_true, y_pred)),
        }
    macro = {key: float(np.mean([v[key] for v in per_factor.values()])) for key in ["precision", "recall", "f1", "kappa", "accuracy"]}
    mark_r = _pearson(true_marks, predicted_marks)
    return Agreement(system, per_factor, macro, mark_r)


def _pearson(a: list[float], b: list[float]) -> float:
    if np.std(a) == 0 or np.std(b) == 0:
        return 0.0
    return float(np.corrcoef(a, b)[0, 1])


def _objective(result: Agreement) -> float:
    return result.macro["f1"] + result.macro["kappa"]


def agreement_objective(truth: np.ndarray, predicted: np.ndarray) -> float:
    """Macro presence F1 plus macro quadratic kappa, in numpy: the tuning loop calls it thousands of times.

    truth, predicted: essays x factors arrays of levels. Matches sklearn's figures (tested).
    """
    total = 0.0
    for f in range(truth.shape[1]):
        t, p = truth[:, f], predicted[:, f]
        tp = float(np.sum((t >= 1) & (p >= 1)))
        positives = float(np.sum(t >= 1) + np.sum(p >= 1))
        total += 2 * tp / positives if positives else 0.0
        observed = np.zeros((3, 3))
        np.add.at(observed, (t, p), 1)
        expected = np.outer(observed.sum(axis=1), observed.sum(axis=0)) / max(len(t), 1)
        weights = (np.subtract.outer(np.arange(3), np.arange(3)) ** 2) / 4.0
        denominator = float(np.sum(weights * expected))
        total += 1.0 - float(np.sum(weights * observed)) / denominator if denominator else 0.0
    return total / truth.shape[1]


# ---------------------------------------------------------------- the engine, cross-validated
def levels_from_scores(model: CoverageModel, sentence_scores: np.ndarray, scoring: Scoring) -> dict[str, int]:
    """The engine's own rule (`factor_level`) applied to precomputed sentence scores."""
    return {factor.id: factor_level(sentence_scores[:, f], scoring)[2] if sentence_scores.size else 0
            for f, factor in enumerate(model.rubric.factors)}


def _mark(rubric: Rubric, levels: dict[str, int], curve: float) -> float:
    total = sum(f.weight for f in rubric.factors)
    overall = sum(f.weight * levels[f.id] / 2 for f in rubric.factors) / total
    return round(20 * overall**curve)


def threshold_grid(scoring: Scoring) -> list[Scoring]:
    """Every (point, developed) threshold pair the tuning tries."""
    return [replace(scoring, point_threshold=p, developed_threshold=d)
            for p, d in itertools.product(POINT_THRESHOLDS, DEVELOPED_THRESHOLDS) if d >= p]


def cross_validate_engine(model: CoverageModel, data: list[LabelledEssay]) -> tuple[Agreement, list[dict[str, int]], Scoring]:
    """Leave-one-essay-out: thresholds for each essay are tuned on all the others.

    Sentence scores do not depend on the thresholds, so they are computed once.
    Returns the held-out agreement, the held-out levels, and the thresholds tuned on all essays.
    """
    factor_ids = model.rubric.factor_ids
    scores = [reading.scores for reading in model.read_essays([essay.text for essay in data])]
    grid = threshold_grid(model.scoring)
    # levels[g][i]: essay i's levels under grid point g
    levels = [[levels_from_scores(model, s, scoring) for s in scores] for scoring in grid]

    truth = np.array([[essay.levels[f] for f in factor_ids] for essay in data])
    predicted = np.array([[[lv[f] for f in factor_ids] for lv in per_grid] for per_grid in levels])  # grid x essays x factors

    def best_scoring(indices: list[int]) -> int:
        return max(range(len(grid)), key=lambda g: agreement_objective(truth[indices], predicted[g][indices]))

    held_out = []
    for i in range(len(data)):
        g = best_scoring([j for j in range(len(data)) if j != i])
        held_out.append(levels[g][i])
    marks = [_mark(model.rubric, lv, model.scoring.marking_curve) for lv in held_out]
    result = agreement("Rubricate (leave-one-out)", factor_ids, [e.levels for e in data], held_out, [e.mark for e in data], marks)
    return result, held_out, grid[best_scoring(list(range(len(data))))]


# ---------------------------------------------------------------- baselines
def keyword_baseline(model: CoverageModel, data: list[LabelledEssay]) -> Agreement:
    """(a) Key terms present: 0 none, 1 one sentence, 2 two or more sentences naming the factor."""
    rubric = model.rubric
    predicted = []
    for essay in data:
        sentence_tokens = [set(model.tokens(s.text, bigrams=False)) for s in split_sentences(essay.text)]
        levels = {}
        for factor in rubric.factors:
            keywords = [set(model.tokens(k, bigrams=False)) for k in (*factor.terms, *factor.details)]
            keywords = [k for k in keywords if k]
            hits = sum(1 for tokens in sentence_tokens if any(k <= tokens for k in keywords))
            levels[factor.id] = min(hits, 2)
        predicted.append(levels)
    marks = [_mark(rubric, lv, rubric.scoring.marking_curve) for lv in predicted]
    return agreement("Baseline (a): key terms", rubric.factor_ids, [e.levels for e in data], predicted, [e.mark for e in data], marks)


def keyword_list_baseline(model: CoverageModel, data: list[LabelledEssay]) -> Agreement | None:
    """(c) A teacher's keyword list (data/baselines/<rubric id>_keywords.yaml): a factor is present when any of its
    phrases occurs, developed when two different ones do. None when the rubric has no list."""
    import yaml

    rubric = model.rubric
    path = KEYWORD_LISTS / f"{rubric.id}_keywords.yaml"
    if not path.is_file():
        return None
    phrases = yaml.safe_load(path.read_text(encoding="utf-8"))["factors"]
    predicted = []
    for essay in data:
        text = " ".join(essay.text.lower().replace("\u2019", "'").split())
        predicted.append({f: min(2, sum(1 for phrase in phrases.get(f, ()) if phrase.lower() in text)) for f in rubric.factor_ids})
    marks = [_mark(rubric, lv, rubric.scoring.marking_curve) for lv in predicted]
    return agreement("Baseline (c): teacher's keyword list", rubric.factor_ids, [e.levels for e in data], predicted,
                     [e.mark for e in data], marks)


def description_baseline(model: CoverageModel, data: list[LabelledEssay],
                         calibration: list[LabelledEssay] | None = None) -> Agreement:
    """(b) One TF-IDF cosine, whole essay vs factor description; one threshold t (level 2 at 2t).

    The threshold is tuned leave-one-out on `data`, or on `calibration` when a held-out set is scored.
    """
    rubric = model.rubric
    vectorizer = TfidfVectorizer(stop_words="english", sublinear_tf=True)
    vectorizer.fit([e.text for e in model.corpus.essays] + [f.description for f in rubric.factors])
    descriptions = vectorizer.transform([f.description for f in rubric.factors])

    def levels_at(t: float, similarity: np.ndarray) -> dict[str, int]:
        return {f.id: 2 if similarity[k] >= 2 * t else (1 if similarity[k] >= t else 0) for k, f in enumerate(rubric.factors)}

    def levels_by_threshold(similarity: np.ndarray) -> dict[float, np.ndarray]:
        """Each threshold's essays x factors levels, made once: leave-one-out then only picks rows (it was quadratic)."""
        return {t: np.array([[levels_at(t, row)[f] for f in rubric.factor_ids] for row in similarity]).reshape(-1, len(rubric.factors))
                for t in BASELINE_THRESHOLDS}

    def best_threshold(truth: np.ndarray, levels: dict[float, np.ndarray], rows: np.ndarray | slice = slice(None)) -> float:
        return max(BASELINE_THRESHOLDS, key=lambda t: agreement_objective(truth[rows], levels[t][rows]))

    def truth_of(essays: list[LabelledEssay]) -> np.ndarray:
        return np.array([[e.levels[f] for f in rubric.factor_ids] for e in essays]).reshape(-1, len(rubric.factors))

    similarity = cosine_similarity(vectorizer.transform([e.text for e in data]), descriptions)
    if calibration is not None:
        calibration_similarity = cosine_similarity(vectorizer.transform([e.text for e in calibration]), descriptions)
        t = best_threshold(truth_of(calibration), levels_by_threshold(calibration_similarity))
        predicted = [levels_at(t, row) for row in similarity]
        name = "Baseline (b): essay-description cosine (threshold tuned on other labelled essays)"
    else:
        truth, levels = truth_of(data), levels_by_threshold(similarity)
        everyone = np.arange(len(data))
        predicted = [levels_at(best_threshold(truth, levels, np.delete(everyone, i)), similarity[i]) for i in range(len(data))]
        name = "Baseline (b): essay-description cosine (leave-one-out)"
    marks = [_mark(rubric, lv, rubric.scoring.marking_curve) for lv in predicted]
    return agreement(name, rubric.factor_ids, [e.levels for e in data], predicted, [e.mark for e in data], marks)


MARKING_CURVES = tuple(round(x, 2) for x in np.arange(0.5, 1.21, 0.05))


def tune_marking_curve(rubric: Rubric, levels: list[dict[str, int]], data: list[LabelledEssay]) -> float:
    """The mark_20 curve with the least mean absolute error against the labelled marks, from the given levels."""
    marks = np.array([e.mark for e in data])
    def error(curve: float) -> float:
        return float(np.mean(np.abs(np.array([_mark(rubric, lv, curve) for lv in levels]) - marks)))
    return min(MARKING_CURVES, key=lambda c: (error(c), abs(c - rubric.scoring.marking_curve)))


def evaluate_all(model: CoverageModel, data: list[LabelledEssay]) -> tuple[list[Agreement], Scoring]:
    """The engine (leave-one-out) and both baselines; plus the scoring tuned on all essays: thresholds, and
    the marking curve fitted to the held-out levels (so the curve never sees levels fitted on its own essay)."""
    engine, held_out_levels, tuned = cross_validate_engine(model, data)
    tuned = replace(tuned, marking_curve=tune_marking_curve(model.rubric, held_out_levels, data))
    return [engine, keyword_baseline(model, data), description_baseline(model, data)], tuned


def evaluate_held_out(model: CoverageModel, data: list[LabelledEssay], calibration: list[LabelledEssay],
                      reports: list[Report] | None = None) -> list[Agreement]:
    """A set never used for tuning: the engine as shipped (the learned judge where one is trained, and the similarity
    rules alone), baselines (a) and (c) as they are and (b) with its threshold from `calibration`. `reports`: the
    model's reports on `data`, when the caller has them already."""
    results = [evaluate_shipped(model, data, "Rubricate (as shipped)", reports)]
    if model.judge is not None:
        results.append(evaluate_shipped(model.without_judge(), data, "Similarity rules alone (as shipped)"))
    results += [keyword_baseline(model, data), description_baseline(model, data, calibration)]
    keyword_list = keyword_list_baseline(model, data)
    return results + ([keyword_list] if keyword_list else [])


@dataclass(frozen=True)
class EvidenceAgreement:
    """Sentences credited with a factor's point against the annotated point sentences (micro over sentence x factor)."""

    precision: float
    recall: float
    f1: float
    sentences: int
    # Credited sentences annotated as making or developing the factor's point: a highlight on a sentence that
    # develops the point still shows the student where the factor is.
    precision_point_or_detail: float = 0.0


@dataclass(frozen=True)
class CrossValidation:
    """The learned judge, each essay judged by a judge trained without it."""

    overall: Agreement
    evidence: EvidenceAgreement
    per_set: list[Agreement]  # essay ids 'set/essay', as `load_labelled_sets` gives
    marks: list[float]  # per essay, in the order given
    off_question: list[bool]  # per essay: told it answers another question


def cross_validate_judge(model: CoverageModel, data: list[LabelledEssay], folds: int = 5) -> CrossValidation:
    """The learned judge, each essay judged by a judge trained without it (k folds by essay): over all essays,
    its evidence against the annotations, and per labelled set."""
    from models.annotations import sentence_roles
    from models.training import cross_validated_judgements

    judgements, prepared = cross_validated_judgements(model, data, folds)
    ids = model.rubric.factor_ids
    result = agreement(f"Rubricate, learned judge ({folds}-fold cross-validation by essay)", ids, [e.levels for e in data],
                       [dict(zip(ids, j.levels)) for j in judgements], [e.mark for e in data], [j.mark for j in judgements])
    tp = fp = fn = sentences = on_factor = 0
    for essay, reading, judgement in zip(data, prepared.readings, judgements):
        if not essay.annotations or not reading.sentences:
            continue
        spans = [(s.start, s.end) for s in reading.sentences]
        truth = np.array(sentence_roles(spans, list(essay.annotations), ids, "point"))
        detail = np.array(sentence_roles(spans, list(essay.annotations), ids, "detail"))
        tp += int(np.sum(truth & judgement.credited))
        fp += int(np.sum(~truth & judgement.credited))
        fn += int(np.sum(truth & ~judgement.credited))
        on_factor += int(np.sum((truth | detail) & judgement.credited))
        sentences += len(reading.sentences)
    precision, recall = tp / max(tp + fp, 1), tp / max(tp + fn, 1)
    per_set = []
    for name in dict.fromkeys(e.id.split("/")[0] for e in data):
        members = [i for i, e in enumerate(data) if e.id.split("/")[0] == name]
        per_set.append(agreement(name, ids, [data[i].levels for i in members], [dict(zip(ids, judgements[i].levels)) for i in members],
                                 [data[i].mark for i in members], [judgements[i].mark for i in members]))
    evidence = EvidenceAgreement(precision, recall, 2 * precision * recall / max(precision + recall, 1e-9), sentences,
                                 on_factor / max(tp + fp, 1))
    return CrossValidation(result, evidence, per_set, [j.mark for j in judgements], [j.answers_another_question for j in judgements])


def evaluate_shipped(model: CoverageModel, data: list[LabelledEssay], system: str, reports: list[Report] | None = None) -> Agreement:
    """The model exactly as loaded: its levels and marks on `data`, nothing tuned on it (`reports`: its reports on
    `data`, when already made)."""
    reports = reports if reports is not None else model.score_many([e.text for e in data])
    return agreement(system, model.rubric.factor_ids, [e.levels for e in data], [{f.id: f.level for f in r.factors} for r in reports],
                     [e.mark for e in data], [float(r.mark_20) for r in reports])


def _short_name(system: str) -> str:
    """'Baseline (a): key terms' -> 'Baseline (a)'; 'Rubricate (leave-one-out)' -> 'Rubricate'."""
    return system.split(":")[0].replace(" (leave-one-out)", "").replace(" (as shipped)", "")


def format_agreement_table(results: list[Agreement], factor_ids: list[str]) -> str:
    """A Markdown table: macro figures per system, then per-factor F1 / kappa."""
    lines = [
        "| system | presence P | presence R | presence F1 | level kappa (QWK) | level accuracy | mark r |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        m = r.macro
        lines.append(f"| {r.system} | {m['precision']:.2f} | {m['recall']:.2f} | {m['f1']:.2f} | {m['kappa']:.2f} | {m['accuracy']:.2f} | {r.mark_r:.2f} |")
    lines += ["", "| factor | " + " | ".join(f"{_short_name(r.system)} F1 / kappa" for r in results) + " |",
              "|---|" + "---|" * len(results)]
    for factor in factor_ids:
        cells = [f"{r.per_factor[factor]['f1']:.2f} / {r.per_factor[factor]['kappa']:.2f}" for r in results]
        lines.append(f"| {factor} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
