"""Marking sessions: a batch kept in the store, the tutor's corrections, and what they teach the engine.

Used alike by the CLI (`evaluate --session`) and the app. Marking into a session is models.marking; exports are models.exports.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from sklearn.metrics import cohen_kappa_score

from models.engine import CoverageModel
from models.errors import RubricateError
from models.evaluate import agreement_objective, levels_from_scores, threshold_grid
from models.rubric import Scoring
from models.store import Store, StoredEssay


MIN_REVIEWED_TO_RECALIBRATE = 10  # fewer corrections than this would tune thresholds to a handful of essays


@dataclass(frozen=True)
class TutorAgreement:
    """How often the tool's level matched the tutor's final level, over the essays the tutor reviewed."""

    essays: int
    per_factor: dict[str, dict[str, float]]  # factor -> agreement (share), kappa (quadratic)
    overall_agreement: float


def reviewed(essays: list[StoredEssay]) -> list[StoredEssay]:
    """Essays the tutor looked at: any override or comment. Unchanged factors there count as accepted."""
    return [e for e in essays if e.status == "ok" and (e.overrides or e.mark_override is not None or e.comments)]


def tutor_agreement(essays: list[StoredEssay], factor_ids: list[str], tool_levels: list[dict[str, int]] | None = None) -> TutorAgreement:
    """Agreement of the tool (or of `tool_levels`, one dict per reviewed essay) with the tutor's final levels."""
    checked = reviewed(essays)
    if not checked:
        return TutorAgreement(0, {}, 0.0)
    if tool_levels is None:
        tool_levels = [{f["id"]: f["level"] for f in e.result["factors"]} for e in checked]
    per_factor = {}
    for factor_id in factor_ids:
        tutor = [e.final_levels(factor_ids)[factor_id] for e in checked]
        tool = [levels[factor_id] for levels in tool_levels]
        kappa = cohen_kappa_score(tutor, tool, weights="quadratic", labels=[0, 1, 2]) if len(set(tutor) | set(tool)) > 1 else 1.0
        per_factor[factor_id] = {"agreement": float(np.mean([a == b for a, b in zip(tutor, tool)])),
                                 "kappa": 0.0 if np.isnan(kappa) else float(kappa)}
    overall = float(np.mean([v["agreement"] for v in per_factor.values()]))
    return TutorAgreement(len(checked), per_factor, overall)


@dataclass(frozen=True)
class Recalibration:
    before: TutorAgreement
    after: TutorAgreement
    scoring: Scoring
    judge_calibration: tuple[float, float] | None = None  # (presence shift, develop cut) when a learned judge decides


def recalibrate(store: Store, session_name: str, model: CoverageModel) -> Recalibration:
    """Choose the thresholds that best agree with the tutor's corrections, and keep them for this rubric."""
    session = store.session(session_name)
    essays = store.essays(session.id)
    checked = reviewed(essays)
    factor_ids = model.rubric.factor_ids
    if len(checked) < MIN_REVIEWED_TO_RECALIBRATE:
        raise RubricateError(f"Session '{session_name}': recalibration needs the tutor to have reviewed at least "
                             f"{MIN_REVIEWED_TO_RECALIBRATE} essays; {len(checked)} reviewed so far. Correct more essays first.")
    readings = model.read_essays([e.text for e in checked])
    truth = np.array([[e.final_levels(factor_ids)[f] for f in factor_ids] for e in checked])

    def objective(levels: list[dict[str, int]]) -> float:
        return agreement_objective(truth, np.array([[lv[f] for f in factor_ids] for lv in levels]))

    if model.judge is not None:
        return _recalibrate_judge(store, model, essays, readings, objective)
    scores = [reading.scores for reading in readings]
    grid = threshold_grid(model.scoring)

    def levels(scoring: Scoring) -> list[dict[str, int]]:
        return [levels_from_scores(model, s, scoring) for s in scores]

    # Ties keep the current thresholds: a correction that changes nothing should not move them.
    candidates = [model.scoring] + grid
    best = max(candidates, key=lambda sc: objective(levels(sc)))
    store.save_thresholds(model.rubric.id, model.rubric.content_hash,
                          {"point_threshold": float(best.point_threshold), "developed_threshold": float(best.developed_threshold)})
    return Recalibration(tutor_agreement(essays, factor_ids), tutor_agreement(essays, factor_ids, levels(best)), best)


PRESENCE_SHIFTS = tuple(round(x, 2) for x in np.arange(-0.3, 0.31, 0.05))
DEVELOP_CUTS = tuple(round(x, 2) for x in np.arange(0.2, 0.81, 0.05))


def _recalibrate_judge(store: Store, model: CoverageModel, essays, readings, objective) -> Recalibration:
    """With a learned judge, recalibration moves its two decision points (how sure it must be that a sentence makes
    the point, and that the point is developed) towards the tutor's corrections; the judge itself is not retrained."""
    factor_ids = model.rubric.factor_ids

    def levels(shift: float, cut: float) -> list[dict[str, int]]:
        judge = model.judge.recalibrated(shift, cut)
        return [dict(zip(factor_ids, j.levels)) for j in judge.judge_many(readings)]

    # Ties keep the judge as trained: a correction that changes nothing should not move it.
    candidates = [(0.0, model.judge.develop_cut)] + [(s, c) for s in PRESENCE_SHIFTS for c in DEVELOP_CUTS]
    shift, cut = max(candidates, key=lambda sc: objective(levels(*sc)))
    store.save_thresholds(model.rubric.id, model.rubric.content_hash, {"presence_shift": float(shift), "develop_cut": float(cut)})
    return Recalibration(tutor_agreement(essays, factor_ids), tutor_agreement(essays, factor_ids, levels(shift, cut)), model.scoring,
                         (shift, cut))


def calibration_in_words(model: CoverageModel) -> str:
    """What decides levels in `model`, for a tutor: the learned judge's decision points, or the similarity thresholds."""
    if model.judge is not None:
        judge = model.judge
        return (f"learned judge, presence from probability {', '.join(f'{t:.2f}' for t in judge.presence_threshold)} "
                f"(per factor), developed from {judge.develop_cut:.2f}")
    return f"point {model.scoring.point_threshold:g}, developed {model.scoring.developed_threshold:g}"


def calibrated_model(store: Store, model: CoverageModel) -> CoverageModel:
    """The model with a tutor's recalibration for this exact rubric, when there is one."""
    params = store.thresholds(model.rubric.id, model.rubric.content_hash)
    if not params:
        return model
    if model.judge is not None and "presence_shift" in params:
        return model.with_judge(model.judge.recalibrated(params["presence_shift"], params["develop_cut"]))
    rules = {k: v for k, v in params.items() if k in ("point_threshold", "developed_threshold")}
    return model.with_scoring(replace(model.scoring, **rules)) if rules else model
