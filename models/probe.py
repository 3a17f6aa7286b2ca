"""Probing the judge: does one added sentence that makes a missing point lift it, and one that only names it not?

For every essay the engine scores 0 on a factor, each probe sentence of that factor is added as a paragraph
of its own at the essay's end, and the essay marked again. Probe sentences are data
(`data/probes/<rubric id>.yaml`), written from the codebook, not from the rubric's cues.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from models.engine import CoverageModel
from models.errors import RubricateError

PROBES = Path(__file__).resolve().parent.parent / "data" / "probes"


@dataclass(frozen=True)
class ProbeResult:
    """Per factor and overall: how often an added point lifted the factor, and how often a bare name did."""

    responsive: dict[str, tuple[int, int]]  # factor -> (lifted, tried)
    gaming: dict[str, tuple[int, int]]

    @staticmethod
    def rate(counts: dict[str, tuple[int, int]]) -> float:
        lifted, tried = (sum(v[i] for v in counts.values()) for i in (0, 1))
        return lifted / tried if tried else 0.0


def load_probes(rubric_id: str, folder: Path = PROBES) -> dict[str, dict[str, list[str]]]:
    path = folder / f"{rubric_id}.yaml"
    if not path.is_file():
        raise RubricateError(f"No probe sentences for rubric '{rubric_id}': write {path} (makes_point and names_only per factor).")
    return yaml.safe_load(path.read_text(encoding="utf-8"))["factors"]


def run_probe(model: CoverageModel, essays: list[str], probes: dict[str, dict[str, list[str]]]) -> ProbeResult:
    factor_ids = model.rubric.factor_ids
    base = model.score_many(essays)
    results = {}
    for kind in ("makes_point", "names_only"):
        trials = [(essay, f, sentence) for essay, report in zip(essays, base) for f in factor_ids
                  if report.factor(f).level == 0 for sentence in probes.get(f, {}).get(kind, [])]
        probed = model.score_many([essay.rstrip() + "\n\n" + sentence for essay, _, sentence in trials])
        counts = {f: [0, 0] for f in factor_ids}
        for (_, f, _), report in zip(trials, probed):
            counts[f][1] += 1
            counts[f][0] += report.factor(f).level >= 1
        results[kind] = {f: (lifted, tried) for f, (lifted, tried) in counts.items()}
    return ProbeResult(results["makes_point"], results["names_only"])
