"""How far a review's line can be trusted: reviewers against each other, and against realsample's markers.

    python docs/labelling/review_agreement.py docs/labelling/reviews/one_line_2026-12-04b.csv

Rows read by every reviewer are the shared sample. On it: the mean pairwise Cohen's kappa of the reviewers'
yes/no. On its realsample rows: each reviewer's kappa against realsample's markers (a point sentence they also
annotated as detail is a yes), and what realsample's factor levels become if the majority's yes counts as
development, against the markers' own levels and against the rule the older sets follow (only a separate supporting
sentence develops a point).
"""
import csv
import itertools
import sys
from collections import defaultdict
from pathlib import Path

from sklearn.metrics import cohen_kappa_score

REALSAMPLE = Path(__file__).resolve().parents[2] / "data" / "realsample"
FACTORS = ("general_secretary", "luck", "trotsky_weaknesses", "testament", "alliances")


def main(review_csv: str) -> None:
    decisions: dict[tuple, dict[str, str]] = defaultdict(dict)
    with open(review_csv, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            decisions[(row["set"], row["essay_id"], row["start"], row["end"], row["factor"])][row["reviewer"]] = row["also_detail"]
    reviewers = sorted({name for by in decisions.values() for name in by})
    shared = [key for key, by in decisions.items() if len(by) == len(reviewers)]
    pairs = [cohen_kappa_score([decisions[k][a] for k in shared], [decisions[k][b] for k in shared])
             for a, b in itertools.combinations(reviewers, 2)]
    print(f"{len(reviewers)} reviewers, {len(shared)} rows read by all: pairwise kappa mean {sum(pairs) / len(pairs):.2f}, "
          f"range {min(pairs):.2f}-{max(pairs):.2f}")

    roles: dict[tuple, set[str]] = defaultdict(set)
    with open(REALSAMPLE / "sentences.csv", newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            roles[(row["essay_id"], row["start"], row["end"], row["factor"])].add(row["role"])
    real = [k for k in shared if k[0] == "realsample"]
    markers = ["yes" if "detail" in roles[k[1:]] else "no" for k in real]
    per_reviewer = [cohen_kappa_score([decisions[k][r] for k in real], markers) for r in reviewers]
    print(f"{len(real)} realsample point sentences: each reviewer against the markers, kappa "
          + ", ".join(f"{kappa:.2f}" for kappa in per_reviewer))

    majority = {k[1:]: sum(v == "yes" for v in decisions[k].values()) * 2 > len(reviewers) for k in real}
    with open(REALSAMPLE / "labels.csv", newline="", encoding="utf-8") as handle:
        labels = {row["essay_id"]: row for row in csv.DictReader(handle)}
    marked, by_line, by_separate = [], [], []
    for essay, row in sorted(labels.items()):
        for factor in FACTORS:
            points = [k for k, r in roles.items() if k[0] == essay and k[3] == factor and "point" in r]
            separate = any(r == {"detail"} for k, r in roles.items() if k[0] == essay and k[3] == factor)
            # A point sentence the review did not read (it was a worked example in the brief) keeps the markers' roles.
            within = any(majority.get(k, "detail" in roles[k]) for k in points)
            marked.append(int(row[factor]))
            by_line.append(0 if not points else 2 if separate or within else 1)
            by_separate.append(0 if not points else 2 if separate else 1)
    for name, levels in (("the line (majority yes develops)", by_line), ("a separate supporting sentence only", by_separate)):
        same = sum(a == b for a, b in zip(marked, levels))
        print(f"realsample levels by {name}: {same} of {len(marked)} as the markers gave, "
              f"QWK {cohen_kappa_score(marked, levels, weights='quadratic'):.2f}")


if __name__ == "__main__":
    main(sys.argv[1])
