"""The engine on an external benchmark: one reference answer per question, every figure reported."""
import csv
import io
import math
from pathlib import Path

import numpy as np
import pytest

from models.errors import RubricateError
from models.external import COLUMNS, question_model, reference_similarity, run_external_benchmark

FIXTURE = Path(__file__).parent / "fixtures" / "external" / "short_answers.csv"


def _rows():
    with FIXTURE.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _run(path=FIXTURE):
    out = io.StringIO()
    return run_external_benchmark(path, out=out), out.getvalue()


def test_benchmark_reports_engine_product_baselines_and_grader_ceiling():
    result, printed = _run()
    assert (result.answers, result.questions) == (15, 3)
    for system in ("engine similarity", "engine factor score (product)", "TF-IDF cosine, fitted per question", "TF-IDF cosine, fitted on all answers"):
        assert system in printed
    for figure in ("RMSE x5", "RMSE cv", "median r per question", "grader 1 vs grader 2", "mean grade"):
        assert figure in printed
    for agreement in (result.engine, result.product, *result.baselines):
        assert all(math.isfinite(x) for x in (agreement.r, agreement.rmse_x5, agreement.rmse_cv, agreement.median_question_r))
        assert f"{agreement.r:6.3f}" in printed
    assert f"{result.graders_r:6.3f}" in printed


def test_grader_ceiling_is_pearson_of_the_two_graders_columns():
    rows = _rows()
    expected = np.corrcoef([float(r["score_grader1"]) for r in rows], [float(r["score_grader2"]) for r in rows])[0, 1]
    result, _ = _run()
    assert result.graders_r == pytest.approx(expected)


def test_good_answers_score_above_wrong_ones_on_every_question():
    result, _ = _run()
    for question_id in {r["question_id"] for r in _rows()}:
        rows = [r for r in _rows() if r["question_id"] == question_id]
        good = [result.engine_scores[r["answer_id"]] for r in rows if float(r["score_avg"]) >= 4.5]
        wrong = [result.engine_scores[r["answer_id"]] for r in rows if float(r["score_avg"]) <= 1.5]
        assert min(good) > max(wrong), question_id


def test_engine_follows_the_human_grades_on_the_fixture():
    result, _ = _run()
    assert result.engine.r > 0.8
    assert result.engine.rmse_cv < result.mean_grade_rmse


def test_repeating_the_question_earns_less_than_making_the_reference_point():
    reference = "A stack is a last in first out data structure where items are pushed onto and popped from the top."
    model = question_model("2.1", "What is a stack?", reference)
    echo, point = reference_similarity(model, reference, ["A stack is a stack.", "Last in first out: push and pop at the top."])
    assert point > echo


def test_misspelt_answer_still_matches_the_reference():
    reference = "A compiler translates the source code of a program into machine code before the program runs."
    model = question_model("1.1", "What does a compiler do?", reference)
    spelt, misspelt = reference_similarity(model, reference, ["It translates source code", "It transaltes source code"])
    assert misspelt == pytest.approx(spelt)


def test_missing_file_is_named():
    with pytest.raises(RubricateError, match="no_such_answers.csv"):
        _run(Path("no_such_answers.csv"))


@pytest.mark.parametrize("dropped", ["score_avg", "reference_answer"])
def test_missing_column_is_named_with_the_file(tmp_path, dropped):
    path = tmp_path / "answers.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=[c for c in COLUMNS if c != dropped], extrasaction="ignore")
        writer.writeheader()
        writer.writerows(_rows())
    with pytest.raises(RubricateError, match=rf"answers\.csv.*missing column '{dropped}'"):
        _run(path)


def test_grade_that_is_not_a_number_names_line_and_column(tmp_path):
    rows = _rows()
    rows[2]["score_grader2"] = "five"
    path = tmp_path / "answers.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    with pytest.raises(RubricateError, match=r"line 4: column 'score_grader2'"):
        _run(path)
