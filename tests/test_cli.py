"""The command line: score one essay, mark a folder, print the agreement table.

Most tests call app.cli.main() in-process (the fitted model is reused); the ones
about what a shell user sees (stdin, exit codes, no traceback) run `python -m app.cli`.
"""
from __future__ import annotations

import csv
import json
import subprocess
import sys

import pytest

from app.cli import main
from models.report import mark_trace_lines

from conftest import ESSAYS, REPO

FACTOR_IDS = ["general_secretary", "luck", "trotsky_weaknesses", "testament", "alliances"]
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"


def run_cli(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "app.cli", *args], cwd=REPO, input=stdin, capture_output=True)


@pytest.fixture
def essay_folder(tmp_path):
    """Three readable essays in a folder, as a tutor would hand them in."""
    folder = tmp_path / "essays"
    folder.mkdir()
    for name in ["testament_only", "general_secretary_paraphrase", "purges_other_question"]:
        (folder / f"{name}.txt").write_text((ESSAYS / f"{name}.txt").read_text(encoding="utf-8"), encoding="utf-8")
    return folder


def test_score_prints_readable_feedback_naming_every_factor(model, capsys):
    assert main(["score", str(ESSAYS / "testament_only.txt")]) == 0
    out = capsys.readouterr().out
    assert "Coverage" in out and "/20" in out
    for factor in model.rubric.factors:
        assert factor.name in out
    assert "[DEVELOPED" in out or "[MENTIONED" in out
    report = model.score((ESSAYS / "testament_only.txt").read_text(encoding="utf-8"))
    for effect in report.wording:  # what moved the mark
        assert f"{'raised' if effect.marks > 0 else 'lowered'} the estimate by {abs(effect.marks):.1f}: \u201c{effect.text}\u201d" in out
    assert report.mark_trace is not None
    for what, marks in mark_trace_lines(report):  # the estimate added up
        assert f"{what}: {marks}" in out


def test_score_as_json_follows_the_report_contract(model, capsys):
    text = (ESSAYS / "testament_only.txt").read_text(encoding="utf-8")
    assert main(["score", "--format", "json", str(ESSAYS / "testament_only.txt")]) == 0
    report = json.loads(capsys.readouterr().out)
    assert 0 <= report["overall"] <= 100 and 0 <= report["mark_20"] <= 20
    assert isinstance(report["warnings"], list)
    assert [f["id"] for f in report["factors"]] == FACTOR_IDS
    for factor in report["factors"]:
        assert {"id", "name", "level", "score", "evidence", "suggestion"} <= set(factor)
        for evidence in factor["evidence"]:
            assert {"text", "start", "end"} <= set(evidence)
            assert text[evidence["start"]:evidence["end"]] == evidence["text"]
    testament = next(f for f in report["factors"] if f["id"] == "testament")
    assert testament["level"] >= 1 and testament["evidence"]
    trace = report["mark_trace"]  # the estimate added up: an average essay's mark and each part's move from it
    assert abs(trace["average"] + sum(p["marks"] for p in trace["parts"]) - trace["estimate"]) <= 0.005 * (len(trace["parts"]) + 1) + 1e-9  # each to 0.01
    assert round(trace["estimate"]) == report["mark_20"] and all({"id", "name", "marks"} <= set(p) for p in trace["parts"])


def test_score_dash_reads_the_essay_from_standard_input():
    text = (ESSAYS / "general_secretary_paraphrase.txt").read_bytes()
    result = run_cli("score", "--format", "json", "-", stdin=text)
    assert result.returncode == 0, result.stderr.decode()
    report = json.loads(result.stdout)
    assert next(f for f in report["factors"] if f["id"] == "general_secretary")["level"] >= 1


def test_score_of_a_missing_file_exits_nonzero_with_one_line_and_no_traceback(tmp_path):
    missing = tmp_path / "nowhere.txt"
    result = run_cli("score", str(missing))
    assert result.returncode != 0
    err = result.stderr.decode()
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert str(missing) in err
    assert result.stdout == b""


def test_batch_to_jsonl_writes_one_line_per_essay_with_source_and_status(model, essay_folder, tmp_path, capsys):
    out = tmp_path / "marks.jsonl"
    assert main(["batch", "--quiet", "--out", str(out), str(essay_folder)]) == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 3
    assert sorted(r["source"].rsplit("/", 1)[-1] for r in rows) == [
        "general_secretary_paraphrase.txt", "purges_other_question.txt", "testament_only.txt"]
    assert all(r["status"] == "ok" and [f["id"] for f in r["factors"]] == FACTOR_IDS for r in rows)
    assert "Marked 3 of 3" in capsys.readouterr().err


def test_batch_to_csv_writes_a_header_and_one_row_per_essay(model, essay_folder, tmp_path):
    out = tmp_path / "marks.csv"
    assert main(["batch", "--quiet", "--out", str(out), str(essay_folder)]) == 0
    with out.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    header, body = rows[0], rows[1:]
    assert header[:3] == ["source", "student", "status"]
    assert {"overall", "mark_20", *FACTOR_IDS} <= set(header)
    assert len(body) == 3
    assert all(row[header.index("status")] == "ok" for row in body)


def test_batch_with_unreadable_files_still_writes_a_line_for_every_input(model, essay_folder, tmp_path):
    (essay_folder / "picture.txt").write_bytes(PNG)
    (essay_folder / "blank.txt").write_bytes(b"")
    out = tmp_path / "marks.jsonl"
    assert main(["batch", "--quiet", "--out", str(out), str(essay_folder)]) == 0
    rows = {r["source"].rsplit("/", 1)[-1]: r for r in map(json.loads, out.read_text(encoding="utf-8").splitlines())}
    assert len(rows) == 5
    for bad in ["picture.txt", "blank.txt"]:
        assert rows[bad]["status"] == "error"
        assert bad in rows[bad]["error"]
    assert [rows[n]["status"] for n in sorted(rows) if n not in {"picture.txt", "blank.txt"}] == ["ok"] * 3


def test_batch_refuses_an_output_that_is_not_jsonl_or_csv(model, essay_folder, tmp_path, capsys):
    assert main(["batch", "--quiet", "--out", str(tmp_path / "marks.xlsx"), str(essay_folder)]) != 0
    assert ".jsonl or .csv" in capsys.readouterr().err


def test_evaluate_prints_the_agreement_table_for_rubricate_and_both_baselines(model, capsys):
    assert main(["evaluate"]) == 0
    out = capsys.readouterr().out
    for system in ["Rubricate", "Baseline (a)", "Baseline (b)"]:
        assert system in out
    assert "presence F1" in out and "kappa" in out and "mark r" in out
    for factor in FACTOR_IDS:
        assert f"| {factor} |" in out


@pytest.mark.parametrize("hostile", ["deep", "bomb"])
def test_a_hostile_rubric_prints_one_short_line_and_no_traceback(tmp_path, hostile):
    rubric = tmp_path / f"{hostile}.yaml"
    if hostile == "deep":
        rubric.write_text("[" * 100_000, encoding="utf-8")
    else:
        lines = ['l0: &l0 "lol"'] + [f"l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 9)}]" for n in range(1, 11)]
        rubric.write_text("\n".join(lines) + "\nscoring:\n  point_threshold: *l10\n", encoding="utf-8")
    result = run_cli("score", "--rubric", str(rubric), str(ESSAYS / "testament_only.txt"))
    assert result.returncode != 0
    err = result.stderr.decode()
    assert "Traceback" not in err and str(rubric) in err
    assert len(err) < 500 and err.count("\n") == 1


def test_json_carries_the_text_its_offsets_index_for_crlf_nfd_and_right_to_left_marks(tmp_path, capsys):
    import unicodedata

    typed = (ESSAYS / "testament_only.txt").read_text(encoding="utf-8")
    submitted = unicodedata.normalize("NFD", "Café politics. " + typed).replace("\n", "\r\n").replace("Lenin", "\u200fLenin")
    path = tmp_path / "crlf_nfd_rtl.txt"
    path.write_bytes(submitted.encode("utf-8"))
    assert main(["score", "--format", "json", str(path)]) == 0
    report = json.loads(capsys.readouterr().out)
    evidence = [e for f in report["factors"] for e in f["evidence"]]
    assert evidence and report["text"] != submitted
    for item in evidence:
        assert report["text"][item["start"]:item["end"]] == item["text"]
    out = tmp_path / "rows.jsonl"
    assert main(["batch", "--quiet", "--out", str(out), str(path)]) == 0
    row = json.loads(out.read_text(encoding="utf-8").splitlines()[0])
    assert row["text"] == report["text"]
    assert all(row["text"][e["start"]:e["end"]] == e["text"] for f in row["factors"] for e in f["evidence"])
