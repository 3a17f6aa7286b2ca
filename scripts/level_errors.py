"""Where the judge's levels disagree with a labelled set's, with the sentence probabilities behind each disagreement.

Reading a test set's errors is allowed only after its one measurement; after that it is training data.

    python scripts/level_errors.py data/blind30 [--factor luck] [--judge other.model.npz]

Each wrong level is listed with the sentences the judge or the annotators care about: point / detail probability,
the annotation (P point, D detail) and * where the judge credits the sentence.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from models.annotations import sentence_roles  # noqa: E402
from models.engine import load_model  # noqa: E402
from models.evaluate import load_labelled_set  # noqa: E402
from models.judge import load_judge  # noqa: E402

SHOWN_PROBABILITY = 0.25  # sentences below this for the factor, and not annotated, are left out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder")
    parser.add_argument("--factor")
    parser.add_argument("--judge", help="a judge file to use instead of the shipped one (e.g. one trained without this set)")
    args = parser.parse_args()
    model = load_model()
    if args.judge:
        model = model.with_judge(load_judge(args.judge))
    factor_ids = model.rubric.factor_ids
    essays = load_labelled_set(args.folder, factor_ids)
    readings = model.read_essays([e.text for e in essays])
    judgements = model.judge.judge_many(readings)
    print("thresholds", dict(zip(factor_ids, model.judge.presence_threshold.round(2).tolist())))
    over = under = 0
    for essay, reading, judgement in zip(essays, readings, judgements):
        spans = [(s.start, s.end) for s in reading.sentences]
        points = sentence_roles(spans, list(essay.annotations), factor_ids, "point")
        details = sentence_roles(spans, list(essay.annotations), factor_ids, "detail")
        for f, factor in enumerate(factor_ids):
            wanted, given = essay.levels[factor], judgement.levels[f]
            if (args.factor and factor != args.factor) or wanted == given:
                continue
            over, under = over + (given > wanted), under + (given < wanted)
            print(f"\n== {essay.id} [{essay.kind}] {factor}: labelled {wanted}, judged {given} "
                  f"(develop {judgement.develop[f]:.2f}); mark {essay.mark:g} against {judgement.mark:.1f}")
            for i, sentence in enumerate(reading.sentences):
                if judgement.point[i, f] >= SHOWN_PROBABILITY or points[i][f] or details[i][f]:
                    roles = ("P" if points[i][f] else "") + ("D" if details[i][f] else "")
                    credited = "*" if judgement.credited[i, f] else " "
                    print(f"   {judgement.point[i, f]:.2f}/{judgement.detail[i, f]:.2f} {roles:2} {credited} "
                          f"{essay.text[sentence.start:sentence.end][:230]!r}")
    print(f"\n{over} levels above the label, {under} below")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
