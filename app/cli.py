"""Rubricate's command line: a thin caller of the engine.

    python -m app.cli score [--rubric R] [--format text|json] FILE|-
    python -m app.cli batch [--rubric R] --out OUT.jsonl|OUT.csv INPUT...
    python -m app.cli evaluate [--rubric R] [--data DIR [DIR ...]] [--tune] [--held-out] | --session NAME [--recalibrate]
    python -m app.cli sessions | export --session NAME --out OUT.csv|OUT.xlsx
    python -m app.cli bench [--essays N] | bench-external --data mohler.csv
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

from models.errors import RubricateError
from models.report import Report


def _model(args):
    from models.engine import load_model

    return load_model(args.rubric)


# ---------------------------------------------------------------- score
def render_text(report: Report, source: str = "") -> str:
    """Readable feedback for a terminal: overall, each factor with its evidence, suggestions, warnings."""
    lines = [f"Rubricate feedback{' for ' + source if source else ''}",
             f"Coverage {report.overall:.0f}/100   Mark estimate {report.mark_20}/20   ({report.word_count} words)", ""]
    for factor in report.factors:
        lines.append(f"[{factor.level_name.upper():9}] {factor.name}  (score {factor.score:.2f})")
        for evidence in factor.evidence:
            lines.append(f"    \u201c{evidence.text}\u201d  [chars {evidence.start}-{evidence.end}]")
        if factor.suggestion:
            lines.append(f"    To improve: {factor.suggestion.guidance}")
            for excerpt in factor.suggestion.excerpts:
                lines.append(f"      e.g. ({excerpt.source}) {excerpt.text}")
        lines.append("")
    for warning in report.warnings:
        lines.append(f"Warning: {warning}")
    return "\n".join(lines).rstrip() + "\n"


def read_single_essay(path: str) -> tuple[str, str]:
    """One essay from a file or '-' (stdin); raises RubricateError for anything unreadable."""
    from models.reader import read_essay_bytes

    if path == "-":
        name, data = "<stdin>", sys.stdin.buffer.read()
    else:
        file = Path(path)
        if not file.is_file():
            raise RubricateError(f"{path}: no such file. Give the path of an essay (.txt, .docx, .pdf) or - for standard input.")
        name, data = path, file.read_bytes()
    inputs = read_essay_bytes(name if name != "<stdin>" else "stdin.txt", data)
    if len(inputs) != 1:
        raise RubricateError(f"{name} holds {len(inputs)} essays; use `batch` for several essays.")
    if inputs[0].error:
        raise RubricateError(inputs[0].error)
    return name, inputs[0].text


def command_score(args) -> int:
    name, text = read_single_essay(args.file)
    report = _model(args).score(text)
    if args.format == "json":
        # Offsets index the essay as read (decoded, cleaned), not the file's bytes: carry that text.
        print(json.dumps({**report.to_dict(), "text": text}, indent=2, ensure_ascii=False))
    else:
        print(render_text(report, name), end="")
    return 0


# ---------------------------------------------------------------- batch
BATCH_CSV_COLUMNS = ["source", "student", "status", "error", "overall", "mark_20", "warnings"]


def command_batch(args) -> int:
    """Streams: each row is written (and stored) as it is marked, so memory stays flat for any class size."""
    from collections import deque

    from tqdm import tqdm

    from models.batch import mark_inputs
    from models.reader import read_inputs

    model = _model(args)
    out = Path(args.out)
    if out.suffix.lower() not in {".jsonl", ".csv"}:
        raise RubricateError(f"--out {out}: the output must end in .jsonl or .csv.")
    store = session_id = None
    if args.session:
        from models.sessions import start_session
        from models.store import open_store

        store = open_store(args.db)
        session_id = start_session(store, args.session, model)
    pending = deque()  # inputs handed to the marker whose rows have not come back yet

    def inputs():
        for item in read_inputs(args.inputs):
            pending.append(item)
            yield item

    marked = failed = 0
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        with out.open("w", encoding="utf-8", newline="") as handle, \
                tqdm(desc="Marking", unit="essay", file=sys.stderr, disable=args.quiet) as progress:
            write_row = _row_writer(handle, out, model.rubric.factor_ids)
            for row in mark_inputs(inputs(), model, on_progress=progress.update, workers=args.workers):
                item = pending.popleft()
                write_row(row, item.text)
                if store is not None:
                    from models.sessions import save_row

                    save_row(store, session_id, row, item.text)
                marked += 1
                failed += row["status"] != "ok"
    finally:
        if store is not None:
            store.close()
    kept = f" Stored as session '{args.session}'." if args.session else ""
    print(f"Marked {marked - failed} of {marked} essays; {failed} could not be marked. Wrote {out}.{kept}", file=sys.stderr)
    return 0


def _row_writer(handle, out: Path, factor_ids: list[str]):
    """A function writing one batch row to `handle` as JSON Lines or CSV (header first)."""
    if out.suffix.lower() == ".jsonl":  # with the text that the row's offsets index
        return lambda row, text: handle.write(json.dumps({**row, "text": text}, ensure_ascii=False) + "\n")
    writer = csv.writer(handle)
    writer.writerow(BATCH_CSV_COLUMNS + factor_ids)

    def write_csv_row(row: dict, text: str) -> None:
        levels = {f["id"]: f["level"] for f in row.get("factors", [])}
        writer.writerow([row["source"], row.get("student", ""), row["status"], row.get("error") or "", row.get("overall", ""),
                         row.get("mark_20", ""), " | ".join(row.get("warnings", []))] + [levels.get(f, "") for f in factor_ids])

    return write_csv_row


# ---------------------------------------------------------------- evaluate
def command_evaluate(args) -> int:
    from models.evaluate import DEFAULT_CALIBRATION, evaluate_all, format_agreement_table, load_labelled_sets

    model = _model(args)
    if args.session:
        return _evaluate_session(args, model)
    folders = args.data or DEFAULT_CALIBRATION
    named = " + ".join(str(folder) for folder in folders)
    data = load_labelled_sets(folders, model.rubric.factor_ids)
    if args.held_out:
        from models.evaluate import evaluate_held_out

        results = evaluate_held_out(model, data, load_labelled_sets(DEFAULT_CALIBRATION, model.rubric.factor_ids))
        print(f"Agreement with human labels on {len(data)} held-out essays ({named}); nothing is tuned on them: "
              "Rubricate uses the rubric's thresholds, baseline (b) a threshold tuned on the calibration essays.\n")
        print(format_agreement_table(results, model.rubric.factor_ids))
        return 0
    results, tuned = evaluate_all(model, data)
    print(f"Agreement with human labels on {len(data)} essays ({named}); "
          "Rubricate's thresholds and baseline (b)'s threshold are tuned leave-one-essay-out.\n")
    print(format_agreement_table(results, model.rubric.factor_ids))
    if args.tune:
        print(f"\nThresholds tuned on all {len(data)} essays (copy into the rubric's `scoring`):")
        print(f"  point_threshold: {tuned.point_threshold}\n  developed_threshold: {tuned.developed_threshold}")
        print(f"  marking_curve: {tuned.marking_curve}  (least mean absolute error against the labelled marks)")
    return 0


def _evaluate_session(args, model) -> int:
    from models.sessions import recalibrate, tutor_agreement
    from models.store import open_store

    with open_store(args.db) as store:
        session = store.session(args.session)
        essays = store.essays(session.id)
        factor_ids = model.rubric.factor_ids
        result = tutor_agreement(essays, factor_ids)
        if not result.essays:
            print(f"Session '{args.session}': the tutor has not reviewed any essay yet (no overrides or comments).")
            return 0
        print(f"Session '{args.session}': tool vs tutor on {result.essays} reviewed essays")
        _print_tutor_agreement(result, factor_ids)
        if args.recalibrate:
            change = recalibrate(store, args.session, model)
            print(f"\nRecalibrated thresholds for rubric {model.rubric.id}: point_threshold {change.scoring.point_threshold}, "
                  f"developed_threshold {change.scoring.developed_threshold} (saved in {store.path})")
            print(f"Agreement before {change.before.overall_agreement:.0%}, after {change.after.overall_agreement:.0%}")
    return 0


def _print_tutor_agreement(result, factor_ids) -> None:
    print("| factor | agreement | kappa (QWK) |\n|---|---|---|")
    for factor_id in factor_ids:
        figures = result.per_factor[factor_id]
        print(f"| {factor_id} | {figures['agreement']:.0%} | {figures['kappa']:.2f} |")
    print(f"| all factors | {result.overall_agreement:.0%} | |")


# ---------------------------------------------------------------- sessions
def command_sessions(args) -> int:
    from models.store import open_store

    with open_store(args.db) as store:
        sessions = store.sessions()
    if not sessions:
        print("No marking sessions yet: `batch --session NAME` stores one.")
    for s in sessions:
        print(f"{s.name}\t{s.essays} essays\t{s.created_at}\t{s.rubric_id}")
    return 0


def command_export(args) -> int:
    from models.rubric import load_rubric
    from models.sessions import session_table, write_export
    from models.store import open_store

    with open_store(args.db) as store:
        session = store.session(args.session)
        factor_ids = load_rubric(session.rubric_path).factor_ids if Path(session.rubric_path).is_file() else _model(args).rubric.factor_ids
        out = write_export(session_table(store.essays(session.id), factor_ids), args.out)
    print(f"Wrote {out} (final values: the tutor's where set, else the tool's).", file=sys.stderr)
    return 0


# ---------------------------------------------------------------- speed and the external benchmark
def command_bench(args) -> int:
    from models.bench import run_benchmark, run_end_to_end

    if args.end_to_end:
        run_end_to_end(args.essays, rubric_path=args.rubric)
    else:
        run_benchmark(args.essays, rubric_path=args.rubric)
    return 0


def command_bench_external(args) -> int:
    from models.external import run_external_benchmark

    run_external_benchmark(args.data)
    return 0


# ---------------------------------------------------------------- entry point
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m app.cli", description="Rubricate: factor-by-factor feedback on exam essays.")
    commands = parser.add_subparsers(dest="command", required=True)

    score = commands.add_parser("score", help="feedback for one essay", description="Feedback for one essay, as text or JSON.")
    score.add_argument("file", help="essay file (.txt, .docx, .pdf) or - for standard input")
    score.add_argument("--format", choices=["text", "json"], default="text")
    score.set_defaults(run=command_score)

    batch = commands.add_parser("batch", help="mark many essays", description="Mark files, folders, .zip and .csv; one output row per input.")
    batch.add_argument("inputs", nargs="+", help="essay files, folders, .zip or .csv")
    batch.add_argument("--out", required=True, help="OUT.jsonl or OUT.csv")
    batch.add_argument("--quiet", action="store_true", help="no progress bar")
    batch.add_argument("--session", help="also store the batch as a named marking session")
    batch.add_argument("--workers", type=int, default=None, help="worker processes for large batches (default: up to 2; 1 = none)")
    batch.set_defaults(run=command_batch)

    evaluate = commands.add_parser("evaluate", help="agreement with human labels",
                                   description="Precision, recall, F1, kappa and mark r against labels, with two baselines.")
    evaluate.add_argument("--data", nargs="+", metavar="DIR",
                          help="labelled sets, each essays/*.txt + labels.csv, read as one (default: data/devset data/heldout, "
                               "the calibration essays)")
    evaluate.add_argument("--tune", action="store_true", help="also print thresholds tuned on the whole set")
    evaluate.add_argument("--held-out", action="store_true",
                          help="the set was never used for tuning: score it as shipped (no cross-validation)")
    evaluate.add_argument("--session", help="instead: agreement of the tool with a tutor's corrections in a stored session")
    evaluate.add_argument("--recalibrate", action="store_true", help="with --session: retune thresholds to the tutor's corrections")
    evaluate.set_defaults(run=command_evaluate)

    bench = commands.add_parser("bench", help="speed benchmark",
                                description="Cold start, feedback latency, batch throughput and memory, against the CountVectorizer floor.")
    bench.add_argument("--essays", type=int, default=5000, help="essays in the batch run (default 5000)")
    bench.add_argument("--end-to-end", action="store_true",
                       help="time `batch` over a folder of essay files against reading them + CountVectorizer (target <= 3x)")
    bench.set_defaults(run=command_bench)

    external = commands.add_parser("bench-external", help="the engine on Mohler et al. (2011) short answers",
                                   description="Pearson r and RMSE against human grades, a TF-IDF baseline and the graders' own agreement.")
    external.add_argument("--data", required=True, help="path to mohler.csv (not shipped; see README)")
    external.set_defaults(run=command_bench_external)

    sessions = commands.add_parser("sessions", help="list stored marking sessions", description="Name, essays and creation time of each session.")
    sessions.set_defaults(run=command_sessions)

    export = commands.add_parser("export", help="export a session's final marks", description="CSV or XLSX of a session: tool and tutor values, final values, comments.")
    export.add_argument("--session", required=True)
    export.add_argument("--out", required=True, help="OUT.csv or OUT.xlsx")
    export.set_defaults(run=command_export)

    for sub in (score, batch, evaluate, bench, export):
        sub.add_argument("--rubric", help="rubric YAML file (default: rubric/stalin_leader.yaml)")
    for sub in (batch, evaluate, sessions, export):
        sub.add_argument("--db", help="SQLite database (default: $RUBRICATE_DB, else the user data folder)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except RubricateError as error:
        print(f"rubricate: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into `head`: not an error of ours
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
