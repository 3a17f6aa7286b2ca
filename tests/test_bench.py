"""The benchmark measures every figure end to end, on essays that are realistic, bounded and repeatable."""
import io
import math
from collections.abc import Iterator

import pytest

from models.bench import MAX_WORDS, MIN_WORDS, compose_essay, essay_paragraphs, generate_essays, run_benchmark
from models.engine import load_model


@pytest.fixture(scope="module")
def paragraphs():
    return essay_paragraphs([essay.text for essay in load_model().corpus.essays])


def test_essays_come_one_at_a_time_in_the_requested_number(paragraphs):
    essays = generate_essays(200, seed=1, paragraphs=paragraphs)
    assert isinstance(essays, Iterator)
    assert len(list(essays)) == 200


def test_every_essay_is_between_100_and_1500_words(paragraphs):
    lengths = [len(essay.split()) for essay in generate_essays(300, seed=2, paragraphs=paragraphs)]
    assert min(lengths) >= MIN_WORDS == 100
    assert max(lengths) <= MAX_WORDS == 1500
    assert max(lengths) - min(lengths) > 1000  # the whole range, not one length


def test_the_same_seed_gives_the_same_essays_and_another_seed_others(paragraphs):
    first = list(generate_essays(30, seed=3, paragraphs=paragraphs))
    assert first == list(generate_essays(30, seed=3, paragraphs=paragraphs))
    assert first != list(generate_essays(30, seed=4, paragraphs=paragraphs))


def test_essays_are_made_of_corpus_and_calibration_paragraphs(paragraphs):
    import random

    essay = compose_essay(random.Random(5), paragraphs, 1500)
    whole = [p for p in essay.split("\n\n")[:-1]]  # the last paragraph may be cut short
    assert whole and all(p in paragraphs for p in whole)
    assert len(essay.split()) == 1500


def test_benchmark_reports_every_figure_on_a_small_run():
    out = io.StringIO()
    result = run_benchmark(20, seed=0, out=out)
    figures = [result.import_seconds, result.fit_seconds, result.floor_seconds, result.floor_ratio]
    for p50, p95 in result.latency_ms.values():
        figures += [p50, p95]
    for run in (result.batch, result.batch_fifth, result.sequential_fifth):
        figures += [run.seconds, run.essays_per_second, run.model_rss_mb, run.peak_rss_mb]
    assert all(math.isfinite(f) and f > 0 for f in figures)
    assert sorted(result.latency_ms) == [300, 1500]
    assert (result.batch.essays, result.batch_fifth.essays, result.sequential_fifth.essays) == (20, 4, 4)
    table = out.getvalue()
    for label in ("cold start", "300-word", "1500-word", "essays/s", "CountVectorizer", "batch time / floor time",
                  "peak RSS", "memory growth"):
        assert label in table


def test_end_to_end_marks_a_folder_through_the_cli_and_reports_it_beside_the_floor():
    from models.bench import run_end_to_end

    out = io.StringIO()
    result = run_end_to_end(60, seed=3, out=out, repeats=2)
    assert result.rows == result.essays == 60  # one row per file written
    assert len(result.runs) == 2 and all(cli > 0 and floor > 0 for cli, floor in result.runs)
    assert result.ratio == pytest.approx(sum(result.ratios) / 2)  # the verdict is on the median pair (of two: their mean)
    assert f"end to end / floor, median pair: {result.ratio:.1f}x" in out.getvalue()
