"""Large batches marked by a pool of worker processes give exactly the rows of marking them one by one."""
import multiprocessing
import random
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

import models.batch as batch
from models.batch import POOL_MIN_INPUTS, mark_inputs
from models.bench import compose_essay, essay_paragraphs
from models.engine import load_model
from models.reader import EssayInput

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def model():
    return load_model()


@pytest.fixture(scope="module")
def class_of_600(model):
    """600 short essays with an unreadable upload every 50th, as a big class zip would give."""
    paragraphs = essay_paragraphs([essay.text for essay in model.corpus.essays])
    rng = random.Random(7)
    inputs = []
    for i in range(600):
        if i % 50 == 13:
            inputs.append(EssayInput(f"class.zip/s{i}.png", "", f"s{i}", error=f"class.zip/s{i}.png is a PNG image: type the text instead."))
        else:
            inputs.append(EssayInput(f"class.zip/s{i}.txt", compose_essay(rng, paragraphs, rng.randint(60, 160)), f"s{i}"))
    return inputs


@pytest.fixture
def pool_calls(monkeypatch):
    """Counts how often the pool path is taken, so a test knows the pool really marked."""
    calls = []
    real = batch._mark_in_pool

    def spy(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(batch, "_mark_in_pool", spy)
    return calls


def test_pool_gives_the_same_rows_in_the_same_order_as_one_process(model, class_of_600, pool_calls):
    one_by_one = list(mark_inputs(class_of_600, model, workers=1))
    pooled = list(mark_inputs(class_of_600, model, workers=2))
    assert len(pool_calls) == 1
    assert [row["source"] for row in pooled] == [item.source for item in class_of_600]
    assert pooled == one_by_one


def test_unreadable_uploads_stay_error_rows_in_their_place_with_the_pool(model, class_of_600):
    rows = list(mark_inputs(class_of_600, model, workers=2))
    errors = [i for i, row in enumerate(rows) if row["status"] == "error"]
    assert errors == [i for i in range(600) if i % 50 == 13]
    assert "PNG image" in rows[13]["error"]


def test_tuned_thresholds_reach_the_workers(model, class_of_600, pool_calls):
    """A tutor's recalibration (of the learned judge, or of the similarity thresholds without one) marks in the pool too."""
    if model.judge is not None:
        tuned = model.with_judge(model.judge.recalibrated(0.2, 0.7))
    else:
        tuned = model.with_scoring(replace(model.scoring, point_threshold=0.5, developed_threshold=1.5))
    pooled = list(mark_inputs(class_of_600, tuned, workers=2))
    assert len(pool_calls) == 1
    assert pooled == list(mark_inputs(class_of_600, tuned, workers=1))
    assert pooled != list(mark_inputs(class_of_600, model, workers=1))


def test_progress_counts_every_input_once_with_the_pool(model, class_of_600):
    done = []
    for _ in mark_inputs(class_of_600, model, on_progress=done.append, workers=2):
        pass
    assert sum(done) == len(class_of_600)


def test_a_small_batch_is_marked_without_starting_a_pool(model, class_of_600, pool_calls):
    few = class_of_600[: POOL_MIN_INPUTS - 1]
    rows = list(mark_inputs(few, model, workers=2))
    assert pool_calls == []
    assert len(rows) == len(few)


def test_stopping_early_leaves_no_worker_running(model, class_of_600):
    rows = mark_inputs(iter(class_of_600), model, workers=2)
    first = [next(rows) for _ in range(3)]
    rows.close()
    assert [row["source"] for row in first] == [item.source for item in class_of_600[:3]]
    assert multiprocessing.active_children() == []


def test_pool_started_beside_other_threads_spawns_workers_and_gives_the_same_rows(model, class_of_600, monkeypatch):
    # The Streamlit server runs threads; forking then is unsafe, so workers are spawned and get the model pickled.
    contexts = []
    real = batch._pool_context
    monkeypatch.setattr(batch, "_pool_context", lambda: contexts.append(real()) or contexts[-1])
    stop = threading.Event()
    server = threading.Thread(target=stop.wait)
    server.start()
    try:
        pooled = list(mark_inputs(class_of_600, model, workers=2))
    finally:
        stop.set()
        server.join()
    assert [c.get_start_method() for c in contexts] == ["spawn"]
    assert pooled == list(mark_inputs(class_of_600, model, workers=1))


def _children(pid: int) -> set[int]:
    """The processes whose parent is `pid`, from /proc."""
    found = set()
    for stat_file in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat_file.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.add(int(stat_file.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has ended; only its exit status is left to collect


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process table from /proc")
@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM])
def test_a_killed_batch_leaves_no_worker_or_resource_tracker_running(model, tmp_path, how):
    paragraphs = essay_paragraphs([essay.text for essay in model.corpus.essays])
    rng = random.Random(11)
    folder = tmp_path / "class"
    folder.mkdir()
    for i in range(3_000):
        (folder / f"s{i:04}.txt").write_text(compose_essay(rng, paragraphs, rng.randint(200, 600)), encoding="utf-8")
    cli = subprocess.Popen([sys.executable, "-m", "app.cli", "batch", "--quiet", "--workers", "2", "--out",
                            str(tmp_path / "rows.jsonl"), str(folder)], cwd=REPO, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while len(children := _children(cli.pid)) < 2 and cli.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)  # two workers (and, where the pool spawns rather than forks, the resource tracker)
        time.sleep(0.5)
        children = _children(cli.pid)
        assert len(children) >= 2, "the batch never started its worker pool"
        cli.send_signal(how)
        cli.wait(timeout=30)
        deadline = time.monotonic() + 15
        while (left := {pid for pid in children if _alive(pid)}) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert left == set(), f"still running after the batch was killed: {left}"
    finally:
        if cli.poll() is None:
            cli.kill()
            cli.wait()
