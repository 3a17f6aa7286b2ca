"""Whether a labelled set should join training: a judge trained without realsample, with and without the set.

realsample's ten essays are the only real students' writing here, so a set joins training only if it does not cost
them. This trains a judge on the training sets but realsample (plus any `--with` sets), scores it on realsample and on
sets it was not trained on, and reports how often each probe sentence lifts its factor in a fixed sample of training
essays that scored 0 on it. Run it once without `--with` for the figures to compare against (about 3 minutes each).

    python scripts/without_realsample.py
    python scripts/without_realsample.py --with blind34 [--out judge.npz]
"""
from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from models.engine import load_model  # noqa: E402
from models.evaluate import DATA, DEFAULT_TRAINING, agreement, load_labelled_set, load_labelled_sets  # noqa: E402
from models.probe import load_probes, run_probe  # noqa: E402
from models.training import fit_judge  # noqa: E402

SCORED = ("realsample", "blind31", "blind33", "train_v")  # realsample, and sets no shipped judge was trained on
PROBE_SAMPLE = 700  # training essays, drawn with a fixed seed, that the probe sentences are added to


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--with", dest="extra", nargs="*", default=[], metavar="SET", help="sets in data/ trained on as well")
    parser.add_argument("--out", help="write the judge here")
    args = parser.parse_args()
    model = load_model(judged=False)
    factor_ids = model.rubric.factor_ids
    sets = tuple(DEFAULT_TRAINING) + tuple(DATA / name for name in args.extra)
    essays = [e for e in load_labelled_sets(sets, factor_ids) if not e.id.startswith("realsample/")]
    judge = fit_judge(model, essays)
    print(f"judge trained on {len(essays)} essays: the training sets but realsample, with {args.extra or 'nothing else'}")
    if args.out:
        judge.save(args.out)
    model = model.with_judge(judge)
    for name in SCORED:
        data = load_labelled_set(DATA / name, factor_ids)
        judged = judge.judge_many(model.read_essays([e.text for e in data]))
        a = agreement(name, factor_ids, [e.levels for e in data], [dict(zip(factor_ids, j.levels)) for j in judged],
                      [e.mark for e in data], [j.mark for j in judged])
        print(f"{name:11s} F1 {a.macro['f1']:.3f} (P {a.macro['precision']:.2f}, R {a.macro['recall']:.2f}), "
              f"kappa {a.macro['kappa']:.3f}, mark r {a.mark_r:.3f}")
    texts = random.Random(0).sample([e.text for e in load_labelled_sets(DEFAULT_TRAINING, factor_ids)], PROBE_SAMPLE)
    for factor, probes in load_probes(model.rubric.id).items():
        # The probe itself, one sentence at a time: which of a factor's sentences the judge does not hear.
        lifts = [run_probe(model, texts, {factor: {"makes_point": [sentence]}}).responsive[factor] for sentence in probes["makes_point"]]
        print(f"probe {factor}: each point sentence lifts it in {[lifted for lifted, _ in lifts]} of {lifts[0][1]} essays")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
