"""Agreement with human labels: the labelled-set loader and the metrics, on examples small enough to check by hand."""
from __future__ import annotations

import pytest

from models.errors import RubricateError
from models.evaluate import agreement, load_labelled_set

from conftest import DEVSET, HELDOUT

FACTOR_IDS = ["general_secretary", "luck", "trotsky_weaknesses", "testament", "alliances"]


def test_devset_loads_eighteen_labelled_essays():
    essays = load_labelled_set(DEVSET, FACTOR_IDS)
    assert len(essays) == 18
    assert essays[0].id == "d01" and set(essays[0].levels) == set(FACTOR_IDS)
    assert all(level in {0, 1, 2} for e in essays for level in e.levels.values())


def test_folder_without_labels_csv_is_named(tmp_path):
    with pytest.raises(RubricateError) as caught:
        load_labelled_set(tmp_path, FACTOR_IDS)
    assert str(tmp_path) in str(caught.value) and "labels.csv" in str(caught.value)


def test_labels_csv_missing_a_factor_column_names_the_column(tmp_path):
    (tmp_path / "essays").mkdir()
    (tmp_path / "essays" / "e1.txt").write_text("Stalin was General Secretary.", encoding="utf-8")
    columns = ["essay_id", *FACTOR_IDS[:-1], "mark_20"]  # no 'alliances'
    (tmp_path / "labels.csv").write_text(",".join(columns) + "\ne1,2,0,0,0,5\n", encoding="utf-8")
    with pytest.raises(RubricateError) as caught:
        load_labelled_set(tmp_path, FACTOR_IDS)
    assert "labels.csv" in str(caught.value) and "'alliances'" in str(caught.value)


def test_labels_csv_listing_an_essay_with_no_file_names_the_file(tmp_path):
    (tmp_path / "essays").mkdir()
    (tmp_path / "labels.csv").write_text("essay_id,luck,mark_20\ne9,1,4\n", encoding="utf-8")
    with pytest.raises(RubricateError) as caught:
        load_labelled_set(tmp_path, ["luck"])
    assert "e9.txt" in str(caught.value)


TRUTH = [{"a": 2, "b": 0}, {"a": 0, "b": 1}, {"a": 1, "b": 2}, {"a": 0, "b": 0}]


def test_perfect_agreement_gives_f1_and_kappa_of_one():
    result = agreement("perfect", ["a", "b"], TRUTH, TRUTH, [1, 2, 3, 4], [2, 4, 6, 8])
    assert result.macro["f1"] == pytest.approx(1.0)
    assert result.macro["kappa"] == pytest.approx(1.0)
    assert result.macro["accuracy"] == pytest.approx(1.0)
    assert result.mark_r == pytest.approx(1.0)


def test_predicting_every_factor_absent_gives_zero_recall():
    absent = [{"a": 0, "b": 0} for _ in TRUTH]
    result = agreement("silent", ["a", "b"], TRUTH, absent, [1, 2, 3, 4], [0, 0, 0, 0])
    assert result.per_factor["a"]["recall"] == 0.0
    assert result.macro["recall"] == 0.0
    assert result.macro["f1"] == 0.0
    assert result.mark_r == 0.0  # constant predicted marks carry no correlation


def test_one_factor_metrics_match_hand_computed_values():
    # truth a: 2 0 1 0, predicted a: 1 0 0 1
    # presence: TP 1 (first), FN 1 (third), FP 1 (fourth) -> P = R = F1 = 0.5; levels right 1 of 4
    # quadratic kappa: observed weighted disagreement 0.75/4 = 0.1875, expected 0.25 -> 1 - 0.75 = 0.25
    predicted = [{"a": 1}, {"a": 0}, {"a": 0}, {"a": 1}]
    result = agreement("hand", ["a"], [{"a": t["a"]} for t in TRUTH], predicted, [1, 2, 3, 4], [1, 2, 3, 4])
    a = result.per_factor["a"]
    assert a["precision"] == pytest.approx(0.5)
    assert a["recall"] == pytest.approx(0.5)
    assert a["f1"] == pytest.approx(0.5)
    assert a["accuracy"] == pytest.approx(0.25)
    assert a["kappa"] == pytest.approx(0.25)
    assert result.macro == pytest.approx(a)


def test_the_learned_judge_cross_validated_beats_every_baseline_and_the_rules():
    """Each training essay judged by a judge trained without it (5 folds by essay), against the key-term baseline (a),
    the teacher's keyword list (c) and the similarity rules alone, on the same essays in the same run."""
    from models.engine import load_model
    from models.evaluate import (DEFAULT_TRAINING, cross_validate_judge, evaluate_shipped, keyword_baseline,
                                 keyword_list_baseline, load_labelled_sets)

    model = load_model()
    data = load_labelled_sets(DEFAULT_TRAINING, model.rubric.factor_ids)
    assert len(data) >= 300
    validation = cross_validate_judge(model, data)
    judged, evidence = validation.overall, validation.evidence
    assert [r.system for r in validation.per_set] == [folder.name for folder in DEFAULT_TRAINING]
    others = [keyword_baseline(model, data), keyword_list_baseline(model, data), evaluate_shipped(model.without_judge(), data, "rules")]
    for other in others:
        assert judged.macro["f1"] > other.macro["f1"] + 0.05, other.system
        assert judged.macro["kappa"] > other.macro["kappa"] + 0.05, other.system
        assert judged.mark_r > other.mark_r + 0.05, other.system
    assert evidence.recall > 0.6 and evidence.precision > 0.4


def test_several_labelled_sets_read_as_one_keep_each_essay_apart():
    from models.evaluate import load_labelled_sets

    pooled = load_labelled_sets([DEVSET, HELDOUT], FACTOR_IDS)
    assert len(pooled) == 38
    assert len({essay.id for essay in pooled}) == 38
    assert pooled[0].id == "devset/d01" and pooled[-1].id == "heldout/h20"


def test_the_marking_curve_is_tuned_to_the_labelled_marks():
    """Marks made with curve 0.8 from known levels: tuning finds 0.8, so `evaluate --tune` recommends the curve the labels imply."""
    from models.engine import load_model
    from models.evaluate import LabelledEssay, tune_marking_curve

    rubric = load_model().rubric
    patterns = [(0, 0, 0, 0, 1), (1, 0, 0, 0, 0), (1, 1, 0, 0, 0), (2, 1, 1, 0, 0), (2, 2, 1, 1, 0), (2, 2, 2, 1, 1), (2, 2, 2, 2, 2)]
    levels = [dict(zip(rubric.factor_ids, p)) for p in patterns]
    total = sum(f.weight for f in rubric.factors)
    data = [LabelledEssay(f"e{i}", "", lv, round(20 * (sum(f.weight * lv[f.id] / 2 for f in rubric.factors) / total) ** 0.8))
            for i, lv in enumerate(levels)]
    assert tune_marking_curve(rubric, levels, data) == 0.8
