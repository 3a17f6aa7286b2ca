"""Checks a labelled set against FORMAT.md; prints OK or the problems."""
import csv
import sys
from pathlib import Path

FACTORS = ["general_secretary", "luck", "trotsky_weaknesses", "testament", "alliances"]
LABEL_COLUMNS = ["essay_id", *FACTORS, "mark_20", "kind", "notes"]
SENTENCE_COLUMNS = ["essay_id", "start", "end", "factor", "role", "text"]
INLINE_COLUMNS = ["essay_id", "start", "end", "factor", "text"]


def main(folder: Path) -> int:
    problems = []
    essays = {p.stem: p.read_bytes() for p in sorted((folder / "essays").glob("*.txt"))}
    texts = {}
    for eid, raw in essays.items():
        try:
            texts[eid] = raw.decode("utf-8")
        except UnicodeDecodeError:
            problems.append(f"{eid}: not UTF-8")
            continue
        if texts[eid].endswith("\n"):
            problems.append(f"{eid}: trailing newline")
        if not texts[eid].strip():
            problems.append(f"{eid}: empty")
    with (folder / "labels.csv").open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames != LABEL_COLUMNS:
            problems.append(f"labels.csv header must be {','.join(LABEL_COLUMNS)}")
        labels = {row["essay_id"]: row for row in reader}
    if set(labels) != set(essays):
        problems.append(f"labels vs essays differ: {sorted(set(labels) ^ set(essays))}")
    rows = {}
    with (folder / "sentences.csv").open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames != SENTENCE_COLUMNS:
            problems.append(f"sentences.csv header must be {','.join(SENTENCE_COLUMNS)}")
        for line, row in enumerate(reader, start=2):
            eid = row["essay_id"]
            if eid not in texts:
                problems.append(f"sentences.csv line {line}: unknown essay {eid}")
                continue
            if row["factor"] not in FACTORS or row["role"] not in ("point", "detail"):
                problems.append(f"sentences.csv line {line}: bad factor or role")
                continue
            start, end = int(row["start"]), int(row["end"])
            if texts[eid][start:end] != row["text"]:
                problems.append(f"sentences.csv line {line}: [{start}:{end}] does not slice its text")
            rows.setdefault(eid, []).append(row)
    for eid, row in labels.items():
        for factor in FACTORS:
            try:
                level = int(row[factor])
            except ValueError:
                problems.append(f"{eid} {factor}: not a number")
                continue
            roles = {r["role"] for r in rows.get(eid, []) if r["factor"] == factor}
            implied = 0 if not roles else 2 if roles == {"point", "detail"} else 1 if roles == {"point"} else -1
            if implied != level:
                problems.append(f"{eid} {factor}: labelled {level}, rows imply {implied}")
        try:
            if not 0 <= int(row["mark_20"]) <= 20:
                problems.append(f"{eid}: mark out of 0-20")
        except ValueError:
            problems.append(f"{eid}: mark not a number")
        if not row["kind"]:
            problems.append(f"{eid}: no kind")
    inline = folder / "inline_support.csv"  # optional: point sentences that also support their point (one line)
    if inline.is_file():
        points = {(r["essay_id"], r["start"], r["end"], r["factor"]) for rs in rows.values() for r in rs if r["role"] == "point"}
        with inline.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            if reader.fieldnames != INLINE_COLUMNS:
                problems.append(f"inline_support.csv header must be {','.join(INLINE_COLUMNS)}")
            for line, row in enumerate(reader, start=2):
                if (row["essay_id"], row["start"], row["end"], row["factor"]) not in points:
                    problems.append(f"inline_support.csv line {line}: not a point row of sentences.csv")
    if not (folder / "README.md").is_file():
        problems.append("no README.md")
    print("\n".join(problems) if problems else f"OK: {len(essays)} essays, {sum(map(len, rows.values()))} sentence rows")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
