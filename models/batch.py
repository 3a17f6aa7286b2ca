"""Marking many essays: every input comes out as one row with its status, the failed ones too.

Large batches are shared between worker processes (marking is pure Python and
numpy on small matrices, so threads would not help); rows still come out in
input order and as a stream, with only a few chunks in flight at once.
"""
from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from itertools import chain, islice

from models.engine import CoverageModel, keep_for_process
from models.reader import EssayInput

CHUNK_SIZE = 256  # essays per vectorizer call: large enough to amortise it, small enough to stream
MAX_WORKERS = 2  # the machines this runs on have two cores; more processes only compete for them
POOL_MIN_INPUTS = 2 * CHUNK_SIZE  # fewer essays than this finish before a pool would pay for itself
CHUNKS_IN_FLIGHT_PER_WORKER = 2  # one being marked, one queued: workers never wait, memory stays flat


def batch_row(item: EssayInput, report=None, error: str | None = None) -> dict:
    """One output row: the input's identity and status, then the report's fields when it was marked."""
    row = {"source": item.source, "student": item.student, "status": "ok" if report else "error", "error": error or item.error}
    if report is not None:
        row.update(report.to_dict())
    return row


def mark_inputs(inputs: Iterable[EssayInput], model: CoverageModel,
                on_progress: Callable[[int], object] | None = None,
                workers: int | None = None) -> Iterator[dict]:
    """Mark inputs in order, streaming rows; unreadable inputs pass through as error rows.

    `workers`: processes to mark with; None picks up to MAX_WORKERS by the CPUs
    available, 1 marks in this process. A pool is only started for at least
    POOL_MIN_INPUTS inputs; the rows are the same either way.
    """
    workers = _worker_count(workers)
    inputs = iter(inputs)
    if workers > 1:
        head = list(islice(inputs, POOL_MIN_INPUTS))
        inputs = chain(head, inputs)
        if len(head) >= POOL_MIN_INPUTS:
            yield from _mark_in_pool(inputs, model, on_progress, workers)
            return
    for chunk in _chunks(inputs):
        yield from _mark_chunk(chunk, model)
        if on_progress:
            on_progress(len(chunk))


def _worker_count(workers: int | None) -> int:
    if workers is not None:
        return max(1, workers)
    available = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(MAX_WORKERS, available))


def _chunks(inputs: Iterable[EssayInput]) -> Iterator[list[EssayInput]]:
    iterator = iter(inputs)
    while chunk := list(islice(iterator, CHUNK_SIZE)):
        yield chunk


def _mark_chunk(chunk: list[EssayInput], model: CoverageModel) -> list[dict]:
    readable = [item for item in chunk if item.ok]
    reports = iter(model.score_many([item.text for item in readable]))
    return [batch_row(item, next(reports)) if item.ok else batch_row(item) for item in chunk]


def _mark_in_pool(inputs: Iterator[EssayInput], model: CoverageModel, on_progress, workers: int) -> Iterator[dict]:
    """Chunks go to worker processes; rows come back chunk by chunk in input order."""
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=_pool_context(),
        initializer=_start_worker,
        initargs=(model, os.getpid()),
    )
    in_flight: deque[tuple[int, Future]] = deque()
    chunks = _chunks(inputs)
    try:
        for chunk in chunks:
            in_flight.append((len(chunk), pool.submit(_mark_chunk_in_worker, chunk)))
            if len(in_flight) >= workers * CHUNKS_IN_FLIGHT_PER_WORKER:
                yield from _finish_oldest(in_flight, on_progress)
        while in_flight:
            yield from _finish_oldest(in_flight, on_progress)
    finally:
        # A consumer that stops early (or an error) must not leave workers marking.
        pool.shutdown(wait=True, cancel_futures=True)


def _finish_oldest(in_flight: deque, on_progress) -> list[dict]:
    size, future = in_flight.popleft()
    rows = future.result()
    if on_progress:
        on_progress(size)
    return rows


def _pool_context():
    # Forking shares the parent's fitted model, so workers start at once; but forking a
    # process that runs other threads (the Streamlit server) can deadlock, so spawn there.
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


_worker_model: CoverageModel | None = None


def _start_worker(model: CoverageModel, parent: int) -> None:
    """Each worker gets the caller's fitted model once (inherited when forked, else a 0.4 MB pickle).

    Not refitted from the rubric path: the file may have changed on disk since the
    caller's model was fitted, and tuned thresholds live only on the caller's model;
    either would make the pool's rows differ from marking in one process.
    """
    global _worker_model
    _die_with(parent)
    _worker_model = model
    keep_for_process()


PARENT_POLL_SECONDS = 1.0
_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def _die_with(parent: int) -> None:
    """End this worker when `parent` ends, however it ends (kill -9, SIGTERM, a crash).

    Without this a killed batch left its workers (about 250 MB each) running, and with them
    multiprocessing's resource tracker, which waits for every process holding its pipe.
    Linux kills the worker itself (PR_SET_PDEATHSIG); elsewhere a thread watches the parent.
    """
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0:
                if os.getppid() != parent:  # the parent died before prctl took effect
                    os._exit(1)
                return
        except (OSError, AttributeError):
            pass

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_POLL_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="rubricate-parent-watch", daemon=True).start()


def _mark_chunk_in_worker(chunk: list[EssayInput]) -> list[dict]:
    return _mark_chunk(chunk, _worker_model)
