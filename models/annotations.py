"""Sentence annotations: which of an essay's sentences make or develop which factor's point.

A labelled set may hold `sentences.csv` beside `labels.csv`:

    essay_id,start,end,factor,role,text

`start`/`end` are character offsets into the essay file and `text == essay[start:end]`.
`role` is `point` (the sentence states the factor's point) or `detail` (it explains or
supports it); a sentence that does both has two rows. The essay's level follows from its
rows: none 0, points only 1, points and details 2 (`check_annotations`).
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from models.errors import RubricateError

ROLES = ("point", "detail")
ANNOTATION_COLUMNS = ["essay_id", "start", "end", "factor", "role", "text"]
MIN_OVERLAP = 0.5  # an engine sentence takes an annotation's role when half of either lies inside the other


@dataclass(frozen=True)
class Annotation:
    essay_id: str
    start: int
    end: int
    factor: str
    role: str
    text: str


def load_annotations(folder: str | Path, factor_ids: list[str]) -> dict[str, list[Annotation]]:
    """essay id -> its annotations, from `folder/sentences.csv`; {} when the set has none."""
    path = Path(folder) / "sentences.csv"
    if not path.is_file():
        return {}
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames != ANNOTATION_COLUMNS:
            raise RubricateError(f"Annotations {path}: the header must be {','.join(ANNOTATION_COLUMNS)}, not {reader.fieldnames}.")
        found: dict[str, list[Annotation]] = {}
        for line, row in enumerate(reader, start=2):
            if row["factor"] not in factor_ids or row["role"] not in ROLES:
                raise RubricateError(f"Annotations {path}, line {line}: factor must be one of {factor_ids} and role one of {list(ROLES)}.")
            found.setdefault(row["essay_id"], []).append(
                Annotation(row["essay_id"], int(row["start"]), int(row["end"]), row["factor"], row["role"], row["text"]))
    return found


def levels_from_annotations(annotations: list[Annotation], factor_ids: list[str]) -> dict[str, int]:
    """The level each factor's rows imply: 0 none, 1 points only, 2 points and details (-1: details without a point)."""
    levels = {}
    for factor in factor_ids:
        roles = {a.role for a in annotations if a.factor == factor}
        levels[factor] = 0 if not roles else 2 if roles == {"point", "detail"} else 1 if roles == {"point"} else -1
    return levels


def check_annotations(text: str, levels: dict[str, int], annotations: list[Annotation], where: str) -> list[str]:
    """Problems: offsets that do not slice the quoted text, or rows that disagree with the essay's levels."""
    problems = [f"{where}: [{a.start}:{a.end}] does not slice {a.text[:40]!r}" for a in annotations if text[a.start:a.end] != a.text]
    implied = levels_from_annotations(annotations, list(levels))
    problems += [f"{where}, {factor}: labelled {level} but the annotations imply {implied[factor]}"
                 for factor, level in levels.items() if implied[factor] != level]
    return problems


def sentence_roles(spans: list[tuple[int, int]], annotations: list[Annotation], factor_ids: list[str], role: str) -> list[list[bool]]:
    """For each sentence span, per factor: whether an annotation of `role` covers it (overlap either way >= MIN_OVERLAP)."""
    marked = [[False] * len(factor_ids) for _ in spans]
    index = {f: k for k, f in enumerate(factor_ids)}
    for a in annotations:
        if a.role != role:
            continue
        for i, (start, end) in enumerate(spans):
            overlap = min(end, a.end) - max(start, a.start)
            if overlap > 0 and (overlap >= MIN_OVERLAP * (end - start) or overlap >= MIN_OVERLAP * (a.end - a.start)):
                marked[i][index[a.factor]] = True
    return marked
