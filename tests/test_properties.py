"""Whatever a student pastes, the engine answers within its contract (Hypothesis, arbitrary Unicode)."""
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.engine import load_model
from models.text import WORD_PATTERN, _unify_apostrophes, word_spans

MODEL = load_model()

# Arbitrary Unicode, plus text built from the rubric's own vocabulary so that factors really match.
HISTORY_WORDS = ["Stalin", "General", "Secretary", "appointed", "loyal", "supporters", "Trotsky", "arrogant",
                 "testament", "Lenin", "rude", "removed", "triumvirate", "Zinoviev", "Kamenev", "Bukharin", "lucky",
                 "died", "successor", "1924", ".", ",", "\n", "\n\n", "- ", "“", "”", "’", "🙂", "\r\n", "\t"]
essays = st.one_of(
    st.text(max_size=2000),
    st.lists(st.sampled_from(HISTORY_WORDS), max_size=300).map(" ".join),
    st.lists(st.one_of(st.sampled_from(HISTORY_WORDS), st.text(max_size=12)), max_size=200).map(" ".join),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(essays)
def test_any_text_gets_a_report_within_its_contract(essay):
    report = MODEL.score(essay)
    assert 0 <= report.overall <= 100
    assert 0 <= report.mark_20 <= 20
    for factor in report.factors:
        assert factor.level in (0, 1, 2)
        assert 0.0 <= factor.score <= 1.0
        assert (factor.suggestion is None) == (factor.level == 2)
        for evidence in factor.evidence:
            assert essay[evidence.start:evidence.end] == evidence.text
    for passage in report.copy.passages:
        assert 0 <= passage.start < passage.end <= len(essay)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(essays)
def test_the_same_text_always_gets_the_same_report(essay):
    first = json.dumps(MODEL.score(essay).to_dict(), sort_keys=True)
    again = json.dumps(MODEL.score_many(["", essay, "Stalin was General Secretary."])[1].to_dict(), sort_keys=True)
    assert first == again


@given(st.text(alphabet=st.sampled_from(list("Stalin's 1924 ÉéçЅİа_9.,;:-\n\t’‘`") + list("“”„–—―…«»\u00a0\u2009\u202f•")), max_size=60))
def test_words_are_found_where_the_word_pattern_finds_them(text):
    # word_spans takes faster paths for ASCII text and for text whose only other characters separate words.
    found = word_spans(text)
    matches = list(WORD_PATTERN.finditer(_unify_apostrophes(text)))
    assert (found.starts, found.ends) == ([m.start() for m in matches], [m.end() for m in matches])
