"""The learned judge: trained from annotated sentences, shipped as data, and not fooled by pasted or repeated text."""
from __future__ import annotations

import copy
import shutil
import zipfile
from dataclasses import replace

import numpy as np
import pytest

from models.annotations import check_annotations, load_annotations
from models.engine import judge_path, load_model
from models.errors import RubricateError
from models.evaluate import DATA, DEFAULT_TRAINING, load_labelled_set, load_labelled_sets
from models.judge import LIST_KINDS, OFF_QUESTION_KINDS, load_judge
from models.rubric import DEFAULT_RUBRIC

FACTORS = ["general_secretary", "luck", "trotsky_weaknesses", "testament", "alliances"]
ANNOTATED_SETS = list(DEFAULT_TRAINING)


def levels(report) -> dict[str, int]:
    return {f.id: f.level for f in report.factors}


@pytest.fixture(scope="module")
def model():
    return load_model()


# ---------------------------------------------------------------- the data it learns from
@pytest.mark.parametrize("folder", ANNOTATED_SETS, ids=lambda p: p.name)
def test_every_labelled_set_has_sentence_annotations_that_agree_with_its_levels(folder):
    assert (folder / "sentences.csv").is_file()
    essays = load_labelled_set(folder, FACTORS)
    problems = [p for essay in essays for p in check_annotations(essay.text, essay.levels, list(essay.annotations), f"{folder.name}/{essay.id}")]
    assert problems == []
    assert set(load_annotations(folder, FACTORS)) <= {essay.id for essay in essays}


def test_there_are_at_least_three_hundred_training_essays_and_no_unmeasured_test_set_is_among_them():
    training = load_labelled_sets(DEFAULT_TRAINING, FACTORS)
    assert len(training) >= 300
    # A test set joins training only after its one measurement, which its README records under "Status".
    unmeasured = [folder for folder in DEFAULT_TRAINING if "not yet measured" in (folder / "README.md").read_text(encoding="utf-8").lower()]
    assert unmeasured == []


# ---------------------------------------------------------------- the shipped model file
def test_every_set_s_name_for_off_question_essays_and_term_lists_is_known_to_the_judge():
    # The off-question model learns from these kinds: one left out (train_q's "off_question_list") taught it that
    # notes for another question answer this one.
    kinds = {e.kind for e in load_labelled_sets(DEFAULT_TRAINING, FACTORS)}
    off_question_like = {k for k in kinds if "off_question" in k or "offtopic" in k or "other_question" in k}
    list_like = {k for k in kinds if ("list" in k or "glossary" in k or "mind_map" in k) and k not in OFF_QUESTION_KINDS}
    assert off_question_like <= OFF_QUESTION_KINDS
    assert list_like <= LIST_KINDS


def test_the_shipped_judge_is_plain_arrays_that_load_without_pickle():
    path = judge_path(load_model().rubric)
    with zipfile.ZipFile(path) as archive:
        assert all(name.endswith(".npy") for name in archive.namelist())
    with np.load(path, allow_pickle=False) as data:
        assert all(data[name].dtype != object for name in data.files)
    assert load_judge(path).meta["essays"] >= 300


def test_the_shipped_judge_matches_a_retrain_on_the_recorded_data(model):
    from threadpoolctl import threadpool_limits

    from models.training import fit_judge, training_record

    shipped = model.judge
    assert shipped is not None, "rubric/stalin_leader.model.npz is missing or was trained for another version of the rubric"
    rules = load_model(judged=False)
    data = load_labelled_sets(DEFAULT_TRAINING, FACTORS)
    record = training_record(rules, data, [folder.name for folder in DEFAULT_TRAINING])
    assert shipped.meta == record, "the training data changed since the judge was trained: run `python -m app.cli train`"
    # Whatever BLAS threads this process has (a batch command run before it in the same process sets one; a machine
    # may have any number of cores), training runs on one: on all the data two threads move weights by up to 0.02.
    with threadpool_limits(limits=2, user_api="blas"):
        retrained = fit_judge(rules, data, meta=record)
    assert retrained.vocabulary == shipped.vocabulary
    for name in ("sentence_weights", "presence_threshold", "develop_weights", "develop_cut", "mark_weights", "rule_gates"):
        assert np.allclose(getattr(retrained, name), getattr(shipped, name), atol=1e-5), name


def test_a_damaged_model_file_is_named_with_what_to_do(tmp_path):
    broken = tmp_path / "broken.model.npz"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(RubricateError) as caught:
        load_judge(broken)
    assert str(broken) in str(caught.value) and "train" in str(caught.value)


def test_a_question_without_a_trained_judge_is_scored_by_the_similarity_rules(tmp_path):
    rubric_copy = tmp_path / "rubric" / "stalin_copy.yaml"
    rubric_copy.parent.mkdir()
    shutil.copytree(DEFAULT_RUBRIC.parent.parent / "corpus", tmp_path / "corpus")
    rubric_copy.write_text(DEFAULT_RUBRIC.read_text(encoding="utf-8"), encoding="utf-8")
    untrained = load_model(rubric_copy)
    assert untrained.judge is None
    report = untrained.score("As General Secretary Stalin appointed loyal supporters to important posts in the party.")
    assert levels(report)["general_secretary"] >= 1


def test_a_judge_trained_for_another_version_of_the_rubric_is_not_used(tmp_path):
    rubric_copy = tmp_path / "rubric" / "stalin_leader.yaml"
    rubric_copy.parent.mkdir()
    shutil.copytree(DEFAULT_RUBRIC.parent.parent / "corpus", tmp_path / "corpus")
    rubric_copy.write_text(DEFAULT_RUBRIC.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    shutil.copy(judge_path(load_model().rubric), rubric_copy.with_name("stalin_leader.model.npz"))
    assert load_model(rubric_copy).judge is None


# ---------------------------------------------------------------- real students' sentences (issue 13)
@pytest.mark.parametrize("factor, text", [
    ("luck", "Also Lenin died and there was no one chosen to replace him which was lucky for Stalin."),
    ("alliances", "Stalin maneuvered himself into a stronger position within the party by allying with Zinoviev and Kamenev. "
                  "He manipulated them into crushing Trotsky, thus eliminating the strongest opponent in his path to power."),
    ("luck", "An example of a general error is the underestimation of Stalin. "
             "This was beneficial as it allowed Stalin to make moves without anyone suspecting him."),
])
def test_a_point_made_the_way_real_students_write_is_found_with_no_false_warning(model, factor, text):
    report = model.score(text)
    assert levels(report)[factor] >= 1, levels(report)
    assert report.factor(factor).evidence, "a judgement shows the sentences behind it"
    assert not any("makes no point" in w for w in report.warnings), report.warnings


def test_a_short_sentence_that_points_back_is_read_with_the_sentence_before_it(model):
    """"X happened. This was lucky for Stalin." makes the point in two sentences; the second alone only names luck,
    so it borrows the first's substance, and the naming gate does not stop it. Pointing back at a sentence that only
    names a factor borrows nothing."""
    event = "Lenin's third stroke in March 1923 silenced him before he could act against Stalin."
    (pair,) = model.read_essays([f"{event} That was lucky for Stalin."])
    assert pair.substance[1] == pair.substance[0] > 0
    (naming,) = model.read_essays(["Luck also played a part. That was lucky for Stalin."])
    assert naming.substance.tolist() == [0, 0]
    assert levels(model.score(f"{event} That was lucky for Stalin."))["luck"] >= 1


# ---------------------------------------------------------------- gaming
@pytest.mark.parametrize("part", ["cues", "description", "guidance"])
def test_the_rubrics_own_words_pasted_back_earn_nothing_and_are_flagged(model, part):
    texts = [t for f in model.rubric.factors for t in ({"cues": f.cues, "description": [f.description], "guidance": [f.guidance]}[part])]
    report = model.score("\n\n".join(texts))
    assert all(level == 0 for level in levels(report).values()), levels(report)
    assert report.copy.flagged
    assert any("own words" in w for w in report.warnings), report.warnings
    assert report.mark_20 <= 4


def test_saying_one_good_sentence_ten_times_earns_what_saying_it_once_earns(model):
    sentence = ("Stalin used his post as General Secretary to appoint loyal supporters to key positions in the party, "
                "and they voted for him at the congresses. ")
    once, ten_times = model.score(sentence), model.score(sentence * 10)
    assert levels(ten_times) == levels(once)
    assert ten_times.mark_20 <= once.mark_20


def test_an_essay_is_read_as_if_its_repeated_sentences_were_not_there(model):
    """Where a sentence stands, what is beside it and what the rest of the essay looks like are all read without the
    sentences said again: saying one again can neither add to the essay nor take from it."""
    import numpy as np

    sentences = ["Stalin became General Secretary in 1922.", "The post let him appoint loyal supporters to party jobs.",
                 "They voted for him at the congresses.", "Trotsky was arrogant and never built a faction of his own."]
    once = " ".join(sentences)
    repeated = " ".join(sentences[:2] + [sentences[1]] + sentences[2:] + [sentences[1], sentences[1]])
    (alone,), (padded,) = model.read_essays([once]), model.read_essays([repeated])
    (judged_alone,), (judged_padded,) = model.judge.judge_many([alone]), model.judge.judge_many([padded])
    own = ~padded.repeated
    assert own.sum() == len(sentences)
    assert np.allclose(judged_padded.point[own], judged_alone.point) and np.allclose(judged_padded.develop, judged_alone.develop)
    assert judged_padded.levels == judged_alone.levels


ANALYTICAL = (
    "Stalin became leader mainly because of his post as General Secretary. It let him appoint and sack local party "
    "officials, and these officials then picked the delegates to the party congress, which meant he could count on their "
    "votes. Trotsky's arrogance also helped him, because the other leaders feared Trotsky more than Stalin. Lenin's "
    "testament called Stalin too rude, but Zinoviev and Kamenev chose not to publish it, so he kept his job. Overall the "
    "post mattered more than luck, because without the supporters he had placed he could not have won the votes."
)


def test_the_wording_shown_as_moving_the_mark_is_exactly_what_the_word_model_added(model):
    from models.judge import MARK_FEATURES, mark_features

    judge = model.judge
    (reading,) = model.read_essays([ANALYTICAL])
    (judgement,) = judge.judge_many([reading])
    assert judgement.wording is not None and len(judgement.wording) == len(reading.sentences)
    # The same essay with the wording of an average training essay: the difference is the wording's, sentence by sentence.
    average = judge.mark_mean[MARK_FEATURES.index("words_mark")]
    features = mark_features(reading, judgement.point, judgement.levels, judgement.develop, judgement.off_question, average)
    with_average_wording = float((features - judge.mark_mean) / judge.mark_scale @ judge.mark_weights + judge.mark_bias)
    assert judgement.mark - with_average_wording == pytest.approx(float(judgement.wording.sum()), abs=1e-6)

    report = model.score(ANALYTICAL)
    assert report.wording and all(ANALYTICAL[w.start:w.end] == w.text for w in report.wording)
    assert [w.marks for w in report.wording] == sorted((w.marks for w in report.wording), reverse=True)


def test_the_mark_estimate_adds_up_from_an_average_essay_and_each_part_of_this_one(model):
    from models.judge import MARK_FEATURES, MARK_PARTS

    assert sorted(f for _, features in MARK_PARTS for f in features) == sorted(MARK_FEATURES)  # every feature in one part
    (reading,) = model.read_essays([ANALYTICAL])
    (judgement,) = model.judge.judge_many([reading])
    assert model.judge.mark_bias + judgement.mark_parts.sum() == pytest.approx(judgement.mark, abs=1e-9)
    wording = [part for (name, _), part in zip(MARK_PARTS, judgement.mark_parts) if name == "wording"]
    assert wording == [pytest.approx(float(judgement.wording.sum()), abs=1e-9)]  # the quoted sentences' effects add up to it

    trace = model.score(ANALYTICAL).mark_trace
    assert [p.id for p in trace.parts] == [name for name, _ in MARK_PARTS]
    assert trace.average + sum(p.marks for p in trace.parts) == pytest.approx(trace.estimate, abs=0.005 * (len(trace.parts) + 1) + 1e-9)  # each to 0.01
    assert round(trace.estimate) == model.score(ANALYTICAL).mark_20  # the estimate shown rounds to the mark shown
    factors = next(p for p in trace.parts if p.id == "factors")
    assert factors.marks > 0  # all five factors developed: above an average essay


def test_a_capped_mark_is_not_traced_as_an_estimate(model):
    as_an_answer = model.score(ANALYTICAL)
    assert as_an_answer.mark_20 > 3 and as_an_answer.mark_trace is not None
    told_elsewhere = copy.copy(model)  # the same essay, as if judged to answer another question: capped at 3
    told_elsewhere.judge = replace(model.judge, off_question_cut=0.0)
    report = told_elsewhere.score(ANALYTICAL)
    assert report.mark_20 == 3 and report.mark_trace is None and report.wording == ()


def test_pasted_or_repeated_sentences_move_the_mark_by_nothing(model):
    repeated = ANALYTICAL + " " + "Stalin became leader mainly because of his post as General Secretary."
    (reading,) = model.read_essays([repeated])
    (judgement,) = model.judge.judge_many([reading])
    assert reading.withheld.any()
    assert np.all(judgement.wording[reading.withheld] == 0.0)


def test_pasting_a_reference_essay_s_paragraph_into_an_essay_never_raises_its_mark(model):
    # Copied sentences earn no credit, so they must not lift the mark by another road (the share copied was a mark
    # feature, and labels that credit copied passages taught it to add one or two marks for a pasted paragraph).
    own = ("One reason Stalin became leader was that he was General Secretary. It meant he could give jobs to his "
           "supporters, so they voted for him at party congresses. Another reason was Trotsky's arrogance, which made "
           "the other leaders distrust him.")
    before = model.score(own)
    for essay in model.corpus.essays:
        paragraph = max(essay.text.split("\n\n"), key=len)
        pasted = model.score(own + "\n\n" + paragraph)
        assert pasted.warnings  # the copy is flagged
        assert pasted.mark_20 <= before.mark_20, essay.id
        assert pasted.mark_trace.estimate <= before.mark_trace.estimate + 0.05, essay.id


def test_a_list_of_every_key_term_earns_at_most_three_marks(model):
    terms = ("General Secretary, Card-Index, patronage, Lenin Enrolment, luck, grey blur, Lenin's death, Trotsky, arrogance, "
             "Menshevik, Bonaparte, funeral, Testament, too rude, triumvirate, Zinoviev, Kamenev, Bukharin, United Opposition.")
    report = model.score(terms)
    assert all(level == 0 for level in levels(report).values())
    assert report.mark_20 <= 3


def test_a_list_with_one_term_on_each_line_earns_no_factor(model):
    """A word the similarity scores do not know ("Orgburo") is still only a term: the statement test reads every line."""
    terms = "Key terms:\n\nOrgburo\nSecretariat\nPolitburo\nLuck\nTriumvirate\nLeft Opposition\nGrey blur\nLenin's funeral"
    (reading,) = model.read_essays([terms])
    assert not reading.statement.any()
    report = model.score(terms)
    assert all(level == 0 for level in levels(report).values()), levels(report)
    assert report.mark_20 <= 3


def test_a_glossary_that_only_says_what_each_term_is_earns_no_factor(model):
    glossary = ("An alliance is an agreement between people or groups to work together. "
                "A triumvirate is a group of three people who share power. "
                "The General Secretary was the head of the party's organisation. "
                "Patronage is the power to give jobs and favours to supporters. "
                "The Secretariat was the office that handled the party's paperwork and appointments.")
    assert model.judge.rule_gates[3]  # kept by cross-validation: it costs no presence F1
    report = model.score(glossary)
    assert all(level == 0 for level in levels(report).values())
    assert report.mark_20 <= 3


def test_a_sentence_sure_enough_to_make_a_point_in_an_answer_is_not_enough_in_an_essay_on_another_question(model):
    judge = model.judge
    assert judge.off_question_margin > 0  # learned out of fold from the training essays
    (reading,) = model.read_essays([ANALYTICAL])
    s = int(np.flatnonzero(reading.statement & ~reading.withheld & (reading.substance > 0))[0])
    point = np.zeros((len(reading.sentences), len(FACTORS)))
    point[s, 0] = judge.presence_threshold[0] + judge.off_question_margin / 2
    detail = np.zeros_like(point)
    answer = replace(judge, off_question_cut=1.01).judge_probabilities(reading, point, detail, 0.0, 0.0)
    elsewhere = replace(judge, off_question_cut=0.0).judge_probabilities(reading, point, detail, 0.0, 0.0)
    assert not answer.answers_another_question and answer.levels[0] >= 1 and answer.credited[s, 0]
    assert elsewhere.answers_another_question and elsewhere.levels[0] == 0 and not elsewhere.credited[s, 0]


def test_several_supporting_sentences_count_for_more_than_the_best_of_them_and_never_for_infinitely_much():
    from models.judge import DEVELOP_FEATURES, develop_features_of

    any_detail = DEVELOP_FEATURES.index("any_detail_log_odds")
    point = np.array([[0.9], [0.1], [0.1], [0.1]])
    one = develop_features_of(point, np.array([[0.2], [0.6], [0.0], [0.0]]))[0, any_detail]
    three = develop_features_of(point, np.array([[0.2], [0.6], [0.6], [0.6]]))[0, any_detail]
    assert three > one > 0.0
    certain = develop_features_of(np.full((300, 1), 0.9), np.ones((300, 1)))[0, any_detail]
    assert np.isfinite(certain)


def test_development_is_read_per_essay_in_a_batch_and_a_tied_best_point_is_its_own_runner_up():
    from models.judge import DEVELOP_FEATURES, develop_features_many, develop_features_of

    tied = (np.array([[0.7, 0.1], [0.7, 0.3]]), np.array([[0.9, 0.5], [0.4, 0.2]]))
    single = (np.array([[0.6, 0.2]]), np.array([[0.5, 0.8]]))
    batch = develop_features_many(np.vstack([tied[0], single[0]]), np.vstack([tied[1], single[1]]), np.array([2, 0, 1]))
    assert np.array_equal(batch[0], develop_features_of(*tied)) and np.array_equal(batch[2], develop_features_of(*single))
    assert not batch[1].any()  # an essay with no sentence of its own
    column = {name: i for i, name in enumerate(DEVELOP_FEATURES)}
    assert batch[0, 0, column["second_point"]] == 0.7  # two sentences make the point equally well
    assert batch[0, 1, column["second_point"]] == 0.1 and batch[0, 1, column["detail_elsewhere"]] == 0.5
    assert batch[0, 0, column["detail_elsewhere"]] == 0.4  # detail beside the first of them is elsewhere
    assert batch[2, :, column["second_point"]].tolist() == [0.0, 0.0]  # one sentence has no runner-up
    assert batch[2, :, column["detail_elsewhere"]].tolist() == [0.0, 0.0]


def test_an_essay_is_judged_the_same_alone_and_in_a_batch_beside_others(model):
    texts = [ANALYTICAL, "", "Stalin was lucky. " * 3, "The Five-Year Plans industrialised the USSR in the 1930s. "
             "Collectivisation brought famine to Ukraine.", ANALYTICAL.replace("General Secretary", "general secretary")]
    readings = model.read_essays(texts)
    together = model.judge.judge_many(readings)
    for reading, in_batch in zip(readings, together):
        (alone,) = model.judge.judge_many([reading])
        assert (alone.levels, alone.mark, alone.answers_another_question) == (in_batch.levels, in_batch.mark, in_batch.answers_another_question)
        for name in ("point", "detail", "develop", "credited", "wording", "mark_parts"):
            a, b = getattr(alone, name), getattr(in_batch, name)
            assert (a is None and b is None) or np.array_equal(a, b), name
        assert alone.off_question == in_batch.off_question


def test_the_development_cut_judges_as_many_points_developed_as_the_markers_did():
    from models.training import DEVELOP_CUTS, _develop_cut

    # One factor, 400 present points, 120 of them developed, with a feature that tells them apart only roughly: a
    # class-balanced model's 0.5 would call far more than 120 developed; the cut is where the count matches.
    rng = np.random.default_rng(0)
    developed = np.arange(400) < 120
    development = (developed[:, None] * 1.0 + rng.normal(0.0, 1.0, (400, 1)))[:, None, :]  # essay x factor x feature
    truth = np.where(developed, 2, 1)[:, None]
    cut = _develop_cut(development, truth)
    assert cut in DEVELOP_CUTS and cut > 0.5
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    held_out = cross_val_predict(LogisticRegression(class_weight="balanced"), development[:, 0], developed,
                                 cv=StratifiedKFold(5), method="predict_proba")[:, 1]
    assert abs(int((held_out >= cut).sum()) - 120) <= 10 < abs(int((held_out >= 0.5).sum()) - 120)


def test_with_too_few_points_at_either_level_the_development_cut_stays_at_one_half():
    from models.training import _develop_cut

    truth = np.array([[2], [2], [1], [0]])
    assert _develop_cut(np.zeros((4, 1, 3)), truth) == 0.5
