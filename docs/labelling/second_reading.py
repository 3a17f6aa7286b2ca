"""A set with inline_support.csv read the second way: each of its rows becomes a detail row too, and the levels are
re-derived from the rows by the engine's own rule (`levels_from_annotations`), so the same essays can be measured
under both readings.

    python docs/labelling/second_reading.py data/blind32 /tmp/blind32_inline
    python -m app.cli evaluate --data /tmp/blind32_inline --held-out
"""
import csv
import shutil
import sys
from dataclasses import asdict, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from models.annotations import ANNOTATION_COLUMNS, load_annotations, levels_from_annotations  # noqa: E402
from models.rubric import load_rubric  # noqa: E402


def _write(path: Path, fields: list[str], rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, lineterminator="\r\n")  # the sets' own line endings
        writer.writeheader()
        writer.writerows(rows)


def second_reading(source: Path, target: Path) -> tuple[int, int]:
    """Writes the copy; returns (inline rows added as detail rows, levels changed)."""
    factor_ids = load_rubric().factor_ids
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target)
    annotations = load_annotations(source, factor_ids)
    with (source / "inline_support.csv").open(encoding="utf-8", newline="") as handle:
        inline = {(r["essay_id"], int(r["start"]), int(r["end"]), r["factor"]) for r in csv.DictReader(handle)}
    added = 0
    for essay_id, rows in annotations.items():
        details = [replace(a, role="detail") for a in rows if a.role == "point" and (essay_id, a.start, a.end, a.factor) in inline]
        new = [d for d in details if d not in rows]
        rows.extend(new)
        added += len(new)
    _write(target / "sentences.csv", ANNOTATION_COLUMNS, [asdict(a) for rows in annotations.values() for a in rows])
    with (source / "labels.csv").open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        fields, labels = list(reader.fieldnames), list(reader)
    changed = 0
    for label in labels:
        for factor, level in levels_from_annotations(annotations.get(label["essay_id"], []), factor_ids).items():
            changed += str(level) != label[factor]
            label[factor] = str(level)
    _write(target / "labels.csv", fields, labels)
    return added, changed


if __name__ == "__main__":
    rows_added, levels_changed = second_reading(Path(sys.argv[1]), Path(sys.argv[2]))
    print(f"{rows_added} inline rows added as detail; {levels_changed} levels changed (1 -> 2)")
