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


def recalibrate(store: Store, session_name: str, model: CoverageModel) -> Recalibration:
    """Choose the thresholds that best agree with the tutor's corrections, and keep them for this rubric."""
    session = store.session(session_name)
    essays = store.essays(session.id)
    checked = reviewed(essays)
    factor_ids = model.rubric.factor_ids
    if len(checked) < MIN_REVIEWED_TO_RECALIBRATE:
        raise RubricateError(f"Session '{session_name}': recalibration needs the tutor to have reviewed at least "
                             f"{MIN_REVIEWED_TO_RECALIBRATE} essays; {len(checked)} reviewed so far. Correct more essays first.")
    scores = [reading.scores for reading in model.read_essays([e.text for e in checked])]
    truth = np.array([[e.final_levels(factor_ids)[f] for f in factor_ids] for e in checked])
    grid = threshold_grid(model.scoring)

    def levels(scoring: Scoring) -> list[dict[str, int]]:
        return [levels_from_scores(model, s, scoring) for s in scores]

    # Ties keep the current thresholds: a correction that changes nothing should not move them.
    candidates = [model.scoring] + grid
    best = max(candidates, key=lambda sc: agreement_objective(truth, np.array([[lv[f] for f in factor_ids] for lv in levels(sc)])))
    store.save_thresholds(model.rubric.id, model.rubric.content_hash,
                          {"point_threshold": float(best.point_threshold), "developed_threshold": float(best.developed_threshold)})
    return Recalibration(tutor_agreement(essays, factor_ids), tutor_agreement(essays, factor_ids, levels(best)), best)


def calibrated_model(store: Store, model: CoverageModel) -> CoverageModel:
    """The model with a tutor's recalibrated thresholds for this exact rubric, when there are any."""
    params = store.thresholds(model.rubric.id, model.rubric.content_hash)
    return model.with_scoring(replace(model.scoring, **params)) if params else model
