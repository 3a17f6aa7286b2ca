"""Rubricate's command line: a thin caller of the engine.

    python -m app.cli score [--rubric R] [--format text|json] FILE|-
    python -m app.cli batch [--rubric R] --out OUT.jsonl|OUT.csv [--session NAME [--resume]] [--pairs PAIRS.jsonl] INPUT...
    python -m app.cli evaluate [--rubric R] [--data DIR [DIR ...]] [--tune] [--held-out] | --session NAME [--recalibrate]
    python -m app.cli train [--rubric R] [--data DIR [DIR ...]] [--out MODEL.npz] | probe [--data DIR [DIR ...]]
    python -m app.cli sessions | export --session NAME --out OUT.csv|OUT.xlsx|OUT.zip | import --session NAME EDITED.csv|EDITED.xlsx
    python -m app.cli bench [--essays N] [--end-to-end] | bench --concurrent-sessions N | bench-external --data mohler.csv
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from models.errors import RubricateError
from models.report import Report, improvement_advice, mark_band_advice, mark_trace_lines


def _model(args):
    from models.engine import load_model

    return load_model(args.rubric)


# ---------------------------------------------------------------- score
def render_text(report: Report, source: str = "") -> str:
    """Readable feedback for a terminal: overall, each factor with its evidence, suggestions, warnings."""
    lines = [f"Rubricate feedback{' for ' + source if source else ''}",
             f"Coverage {report.overall:.0f}/100   Mark estimate {report.mark_20}/20   ({report.word_count} words)"]
    for what, marks in mark_trace_lines(report):
        lines.append(f"    {what}: {marks}")
    for effect in report.wording:
        lines.append(f"    {'raised' if effect.marks > 0 else 'lowered'} the estimate by {abs(effect.marks):.1f}: \u201c{effect.text}\u201d")
    lines.append("")
    for factor in report.factors:
        lines.append(f"[{factor.level_name.upper():9}] {factor.name}  (score {factor.score:.2f})")
        for evidence in factor.evidence:
            lines.append(f"    \u201c{evidence.text}\u201d  [chars {evidence.start}-{evidence.end}]")
        if factor.suggestion:
            lines.append(f"    To improve: {improvement_advice(factor)}")
            for excerpt in factor.suggestion.excerpts:
                lines.append(f"      e.g. ({excerpt.source}) {excerpt.text}")
        lines.append("")
    lines.append(mark_band_advice(report.mark_20))
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
def command_batch(args) -> int:
    """Streams: each row is written (and stored) as it is marked, so memory stays flat for any class size."""
    from tqdm import tqdm

    # tqdm's monitor thread would make the pool spawn its workers (each importing everything again) instead of forking.
    tqdm.monitor_interval = 0

    from models.exports import batch_row_writer
    from models.marking import mark_paired
    from models.reader import read_inputs

    from models.engine import keep_for_process

    model = _model(args)
    keep_for_process()  # this process marks for as long as the batch runs: collections must not re-walk the model
    out = Path(args.out)
    if out.suffix.lower() not in {".jsonl", ".csv"}:
        raise RubricateError(f"--out {out}: the output must end in .jsonl or .csv.")
    if args.resume and not args.session:
        raise RubricateError("--resume: give the session to finish with --session NAME.")
    if args.pairs and Path(args.pairs).suffix.lower() != ".jsonl":
        raise RubricateError(f"--pairs {args.pairs}: the pairs file must end in .jsonl.")
    store = None
    texts: dict[str, str] = {}  # kept only for --pairs, which compares every essay with every other
    copies: dict[str, dict] = {}
    marked = failed = 0
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        with out.open("w", encoding="utf-8", newline="") as handle, \
                tqdm(desc="Marking", unit="essay", file=sys.stderr, disable=args.quiet) as progress:
            write_row = batch_row_writer(handle, out.suffix, model.rubric.factor_ids)
            if args.session:
                from models.marking import mark_into_session
                from models.store import open_store

                store = open_store(args.db)
                marking = mark_into_session(read_inputs(args.inputs), model, store, args.session,
                                            on_progress=progress.update, workers=args.workers, resume=args.resume)
            else:
                marking = mark_paired(read_inputs(args.inputs), model, on_progress=progress.update, workers=args.workers)
            for item, row in marking:
                write_row(row, item.text)
                if args.pairs and row["status"] == "ok":
                    texts[row["source"]] = item.text
                    copies[row["source"]] = {"copy": row["copy"]}
                marked += 1
                failed += row["status"] != "ok"
    finally:
        if store is not None:
            store.close()
    kept = f" Stored as session '{args.session}'." if args.session else ""
    if args.resume:
        kept = f" Added to session '{args.session}', which now holds every input."
    if args.pairs:
        found = _write_pairs(args.pairs, texts, copies, model)
        kept += f" {found} pair(s) of essays share long passages: {args.pairs}."
    print(f"Marked {marked - failed} of {marked} essays; {failed} could not be marked. Wrote {out}.{kept}", file=sys.stderr)
    return 0


def _write_pairs(path: str, texts: dict[str, str], copies: dict[str, dict], model) -> int:
    from models.marking import class_pairs, pair_record

    titles = {essay.id: essay.title for essay in model.corpus.essays}
    pairs = class_pairs(texts, copies)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", encoding="utf-8") as handle:
        for pair in pairs:
            handle.write(json.dumps(pair_record(pair, texts, titles), ensure_ascii=False) + "\n")
    return len(pairs)


# ---------------------------------------------------------------- evaluate
def command_evaluate(args) -> int:
    from models.evaluate import (DEFAULT_CALIBRATION, DEFAULT_TRAINING, evaluate_all, format_agreement_table,
                                 load_labelled_sets)

    model = _model(args)
    if args.session:
        return _evaluate_session(args, model)
    factor_ids = model.rubric.factor_ids
    if args.held_out:
        from models.evaluate import evaluate_held_out

        folders = args.data or DEFAULT_CALIBRATION
        data = load_labelled_sets(folders, factor_ids)
        calibration = load_labelled_sets([f for f in DEFAULT_TRAINING if Path(f).is_dir()], factor_ids)
        print(f"Agreement with human labels on {len(data)} held-out essays ({_named(folders)}); nothing is tuned on them: "
              "Rubricate as shipped, baseline (b) with a threshold tuned on the training essays.\n")
        reports = model.score_many([e.text for e in data])
        print(format_agreement_table(evaluate_held_out(model, data, calibration, reports), factor_ids))
        _print_kinds(data, [r.mark_20 for r in reports], [r.told_off_question for r in reports])
        return 0
    if args.tune:
        folders = args.data or DEFAULT_CALIBRATION
        results, tuned = evaluate_all(model.without_judge(), load_labelled_sets(folders, factor_ids))
        print(f"The similarity rules on {_named(folders)}: thresholds and baseline (b)'s threshold tuned leave-one-essay-out.\n")
        print(format_agreement_table(results, factor_ids))
        print(f"\nThresholds tuned on all of them (copy into the rubric's `scoring`; they apply where no judge is trained):")
        print(f"  point_threshold: {tuned.point_threshold}\n  developed_threshold: {tuned.developed_threshold}")
        print(f"  marking_curve: {tuned.marking_curve}  (least mean absolute error against the labelled marks)")
        return 0
    from models.evaluate import cross_validate_judge, description_baseline, evaluate_shipped, keyword_baseline, keyword_list_baseline

    folders = args.data or [f for f in DEFAULT_TRAINING if Path(f).is_dir()]
    data = load_labelled_sets(folders, factor_ids)
    validation = cross_validate_judge(model, data)
    results = [validation.overall,
               evaluate_shipped(model.without_judge(), data, "Similarity rules alone (as shipped; calibrated on devset + heldout)"),
               keyword_baseline(model, data), description_baseline(model, data)]
    results += [r for r in [keyword_list_baseline(model, data)] if r]
    print(f"Agreement with human labels on {len(data)} essays ({_named(folders)}). The learned judge is trained and scored "
          "in 5 folds by essay (each essay judged by a judge that never saw it); baseline (b)'s threshold leave-one-out.\n")
    print(format_agreement_table(results, factor_ids))
    evidence = validation.evidence
    print(f"\nEvidence: sentences the judge credits with a point against the annotated point sentences "
          f"({evidence.sentences} sentences): precision {evidence.precision:.2f}, recall {evidence.recall:.2f}, F1 {evidence.f1:.2f}; "
          f"{evidence.precision_point_or_detail:.2f} of the credited sentences make or develop that factor's point")
    print("\nThe learned judge (cross-validated) on each set:\n\n| set | essays | presence F1 | level kappa (QWK) | mark r |\n|---|---|---|---|---|")
    for result in validation.per_set:
        count = sum(1 for e in data if e.id.split("/")[0] == result.system)
        print(f"| {result.system} | {count} | {result.macro['f1']:.2f} | {result.macro['kappa']:.2f} | {result.mark_r:.2f} |")
    _print_kinds(data, validation.marks, validation.off_question)
    return 0


def _print_kinds(data, marks: list[float], off_question: list[bool]) -> None:
    """Essays that should earn almost nothing: how many stay at 3/20 or below, and how many are told they miss the question."""
    from models.judge import LIST_KINDS, OFF_QUESTION_KINDS

    print("\n| kind (0-3 by the codebook's bands) | essays | mark <= 3 | highest mark | told it answers another question "
          "| labelled above 3 by the markers (a real point or two) | of the rest, mark <= 3 |\n|---|---|---|---|---|---|---|")
    for name, kinds in (("off-question essays", OFF_QUESTION_KINDS), ("key-term lists and glossaries", LIST_KINDS)):
        members = [i for i, e in enumerate(data) if e.kind in kinds]
        kind_marks = [round(marks[i]) for i in members]
        told = sum(off_question[i] for i in members)
        above = [data[i].mark > 3 for i in members]
        if members:
            print(f"| {name} | {len(members)} | {sum(m <= 3 for m in kind_marks)} | {max(kind_marks)} | {told} | {sum(above)} "
                  f"| {sum(m <= 3 for m, a in zip(kind_marks, above) if not a)} of {len(members) - sum(above)} |")
    others = [i for i, e in enumerate(data) if e.kind not in OFF_QUESTION_KINDS]
    print(f"\nOn-question essays told they answer another question: {sum(off_question[i] for i in others)} of {len(others)}.")


def _named(folders) -> str:
    return " + ".join(Path(f).name for f in folders)


def command_probe(args) -> int:
    from models.evaluate import DEFAULT_TRAINING, load_labelled_sets
    from models.probe import ProbeResult, load_probes, run_probe

    model = _model(args)
    folders = args.data or [f for f in DEFAULT_TRAINING if Path(f).is_dir()]
    essays = [e.text for e in load_labelled_sets(folders, model.rubric.factor_ids)]
    result = run_probe(model, essays, load_probes(model.rubric.id))
    print(f"Probe on {len(essays)} essays ({_named(folders)}): for each factor an essay scores 0 on, one sentence is added.\n")
    print("| factor | point added: lifted | name only added: lifted |\n|---|---|---|")
    for f in model.rubric.factor_ids:
        (r, rt), (g, gt) = result.responsive[f], result.gaming[f]
        print(f"| {f} | {r}/{rt} ({r / max(rt, 1):.0%}) | {g}/{gt} ({g / max(gt, 1):.0%}) |")
    print(f"| all | responsive {ProbeResult.rate(result.responsive):.1%} | gaming {ProbeResult.rate(result.gaming):.1%} |")
    return 0


def command_train(args) -> int:
    """Fits the learned judge on annotated sets and writes it beside the rubric (.npz, no pickle)."""
    from models.engine import judge_path
    from models.evaluate import DEFAULT_TRAINING, load_labelled_sets
    from models.training import fit_judge, training_record

    from models.engine import load_model

    model = load_model(args.rubric, judged=False)
    folders = [Path(f) for f in (args.data or [f for f in DEFAULT_TRAINING if Path(f).is_dir()])]
    unannotated = [str(f) for f in folders if not (f / "sentences.csv").is_file()]
    if unannotated:
        raise RubricateError(f"Labelled set {unannotated[0]} has no sentences.csv: the judge learns from sentence annotations "
                             "(see data/README.md), so annotate it or leave it out of --data.")
    data = load_labelled_sets(folders, model.rubric.factor_ids)
    record = training_record(model, data, [f.name for f in folders])
    judge = fit_judge(model, data, meta=record)
    out = judge.save(Path(args.out) if args.out else judge_path(model.rubric))
    print(f"Trained on {len(data)} essays ({record['annotated_sentences']} annotated sentences) from {_named(folders)}. "
          f"Wrote {out}.", file=sys.stderr)
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
            if change.judge_calibration is not None:
                shift, cut = change.judge_calibration
                print(f"\nRecalibrated the learned judge for rubric {model.rubric.id}: presence thresholds moved by {shift:+.2f}, "
                      f"developed from probability {cut:.2f} (saved in {store.path})")
            else:
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
        status = "finished" if s.finished else "incomplete: batch --session NAME --resume marks the rest"
        print(f"{s.name}\t{s.essays} essay{'' if s.essays == 1 else 's'}\t{s.created_at}\t{s.rubric_id}\t{status}")
    return 0


def _session_rubric(args, store, name: str):
    """The rubric a session was marked with (its file, when it is still there), else --rubric's."""
    from models.rubric import load_rubric

    session = store.session(name)
    return load_rubric(session.rubric_path) if Path(session.rubric_path).is_file() else _model(args).rubric


def command_export(args) -> int:
    """What was stored, with the tutor's decisions: never a fresh score."""
    from models.exports import export_columns, export_table, feedback_zip, reference_titles, write_table
    from models.marking import session_inputs, session_rows
    from models.store import open_store

    out = Path(args.out)
    if out.suffix.lower() not in {".csv", ".xlsx", ".zip"}:
        raise RubricateError(f"--out {out}: exports are .csv or .xlsx (the marks table) or .zip (the students' HTML reports).")
    with open_store(args.db) as store:
        rubric = _session_rubric(args, store, args.session)
        rows = session_rows(store, args.session, rubric)
        titles = reference_titles(rubric)
        if out.suffix.lower() == ".zip":
            texts = [item.text for item in session_inputs(store, args.session)]
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(feedback_zip(rows, texts, rubric, titles))
            what = "one HTML report per marked essay"
        else:
            write_table(export_table(rows, rubric, titles), export_columns(rubric), out)
            what = "final values: the tutor's where set, else the tool's"
    print(f"Wrote {out} ({what}).", file=sys.stderr)
    return 0


def command_import(args) -> int:
    from models.exports import import_review
    from models.store import open_store

    edited = Path(args.file)
    if not edited.is_file():
        raise RubricateError(f"{edited}: no such file. Give the .csv or .xlsx written by `export` and edited in a spreadsheet.")
    with open_store(args.db) as store:
        rubric = _session_rubric(args, store, args.session)
        done = import_review(store, args.session, edited.name, edited.read_bytes(), rubric)
    print(f"Imported {edited} into session '{args.session}': {done.levels} level(s), {done.marks} mark(s), "
          f"{done.comments} comment(s) changed.", file=sys.stderr)
    return 0


# ---------------------------------------------------------------- speed and the external benchmark
def command_bench(args) -> int:
    from models.bench import run_benchmark, run_end_to_end

    if args.concurrent_sessions is not None:
        return _bench_sessions(args)
    if args.end_to_end:
        run_end_to_end(args.essays, rubric_path=args.rubric, repeats=args.repeats)
    else:
        run_benchmark(args.essays, rubric_path=args.rubric)
    return 0


def _bench_sessions(args) -> int:
    """Browser sessions against the running app: exits 1 when a student got no feedback or a draft was lost."""
    from app.session_bench import run_concurrent_sessions

    if args.rubric or args.end_to_end:
        raise RubricateError("--concurrent-sessions drives the app, which opens on the first question in rubric/: "
                             "leave out --rubric and --end-to-end.")
    return 0 if run_concurrent_sessions(args.concurrent_sessions).all_ok else 1


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
    batch.add_argument("--resume", action="store_true",
                       help="with --session: add to that (incomplete) session, marking only the inputs it does not hold yet")
    batch.add_argument("--pairs", metavar="PAIRS.jsonl",
                       help="also write the pairs of essays that share long passages (offsets in both; same-reference copies named)")
    batch.set_defaults(run=command_batch)

    evaluate = commands.add_parser("evaluate", help="agreement with human labels",
                                   description="Precision, recall, F1, kappa and mark r against labels, with two baselines.")
    evaluate.add_argument("--data", nargs="+", metavar="DIR",
                          help="labelled sets, each essays/*.txt + labels.csv (+ sentences.csv), read as one (default: the "
                               "training sets; with --tune or --held-out: data/devset data/heldout)")
    evaluate.add_argument("--tune", action="store_true", help="also print thresholds tuned on the whole set")
    evaluate.add_argument("--held-out", action="store_true",
                          help="the set was never used for tuning: score it as shipped (no cross-validation)")
    evaluate.add_argument("--session", help="instead: agreement of the tool with a tutor's corrections in a stored session")
    evaluate.add_argument("--recalibrate", action="store_true", help="with --session: retune thresholds to the tutor's corrections")
    evaluate.set_defaults(run=command_evaluate)

    train = commands.add_parser("train", help="fit the learned judge on annotated essays",
                                description="Fit the learned judge on labelled sets with sentence annotations and write it beside the rubric.")
    train.add_argument("--data", nargs="+", metavar="DIR",
                       help="annotated labelled sets (default: the training sets listed in models/evaluate.py, DEFAULT_TRAINING)")
    train.add_argument("--out", help="where to write the judge (default: beside the rubric, <rubric>.model.npz)")
    train.set_defaults(run=command_train)

    probe = commands.add_parser("probe", help="does one added sentence move a missing factor?",
                                description="For essays scored 0 on a factor, add one sentence making its point (should lift it) "
                                            "or only naming it (should not); probe sentences in data/probes/.")
    probe.add_argument("--data", nargs="+", metavar="DIR", help="labelled sets whose essays are probed (default: the training sets)")
    probe.set_defaults(run=command_probe)

    bench = commands.add_parser("bench", help="speed benchmark",
                                description="Cold start, feedback latency, batch throughput and memory, against the CountVectorizer floor.")
    bench.add_argument("--essays", type=int, default=5000, help="essays in the batch run (default 5000)")
    bench.add_argument("--end-to-end", action="store_true",
                       help="time `batch` over a folder of essay files against reading them + CountVectorizer (target <= 3x)")
    bench.add_argument("--repeats", type=int, default=3,
                       help="with --end-to-end: pairs of timings, floor then batch; the verdict is on the median pair (default 3)")
    bench.add_argument("--concurrent-sessions", type=int, metavar="N",
                       help="instead: start the app and have N browser sessions (Debian chromium) get feedback at once; "
                            "reports the slowest and median beside one session alone, and checks every draft is stored")
    bench.set_defaults(run=command_bench)

    external = commands.add_parser("bench-external", help="the engine on Mohler et al. (2011) short answers",
                                   description="Pearson r and RMSE against human grades, a TF-IDF baseline and the graders' own agreement.")
    external.add_argument("--data", required=True, help="path to mohler.csv (not shipped; see README)")
    external.set_defaults(run=command_bench_external)

    sessions = commands.add_parser("sessions", help="list stored marking sessions",
                                   description="Name, essays, creation time, rubric and whether its batch finished, for each session.")
    sessions.set_defaults(run=command_sessions)

    export = commands.add_parser("export", help="export a session's final marks or its students' reports",
                                 description="A session as stored, with the tutor's decisions: the marks table (CSV or XLSX: factor names as "
                                             "columns, levels as words, warnings, copy flags, comments) or a .zip of per-student HTML reports.")
    export.add_argument("--session", required=True)
    export.add_argument("--out", required=True, help="OUT.csv, OUT.xlsx or OUT.zip")
    export.set_defaults(run=command_export)

    imports = commands.add_parser("import", help="read an edited export back in",
                                  description="Read a session's .csv or .xlsx export that a tutor edited in a spreadsheet: changed levels, "
                                              "marks and comments become the tutor's overrides. Rows it cannot match are listed and "
                                              "nothing is applied.")
    imports.add_argument("--session", required=True)
    imports.add_argument("file", metavar="EDITED", help="the edited .csv or .xlsx")
    imports.set_defaults(run=command_import)

    for sub in (score, batch, evaluate, train, probe, bench, export, imports):
        sub.add_argument("--rubric", help="rubric YAML file (default: rubric/stalin_leader.yaml)")
    for sub in (batch, evaluate, sessions, export, imports):
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
