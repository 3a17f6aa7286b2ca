"""How fast is marking? One run that measures what tutors wait for, against targets.

- cold start: importing the engine and fitting the model, in a fresh process;
- feedback latency: one 300-word and one 1,500-word essay through `score_essay`, warm;
- batch: essays per second and peak memory through `mark_inputs` (the CLI's path),
  for N essays and for N/5, each in a fresh process so the peaks are its own;
- the floor: scikit-learn's CountVectorizer over the same texts, the least any
  bag-of-words marker must do; the batch should stay within a few times it.

The essays are made by recombining paragraphs of the reference corpus and the
calibration essays, so they read like the real thing, and are streamed from a
seeded generator, so any N fits in memory and every run sees the same essays.
"""
from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DEVSET_ESSAYS = ROOT / "data" / "devset" / "essays"
MIN_WORDS, MAX_WORDS = 100, 1500  # the range of real exam answers, from a paragraph to a long essay
MIN_PARAGRAPH_WORDS = 20  # shorter blocks are titles and headings, not paragraphs
LATENCY_WORDS = (300, 1500)  # a typical answer and the longest one
LATENCY_REPEATS = 50

# Targets, printed beside the figures.
TARGET_FLOOR_RATIO = 4.0
TARGET_END_TO_END_RATIO = 3.0
TARGET_P95_MS = 30.0
TARGET_COLD_START_S = 1.0
MEMORY_SLACK_MB = 20.0  # peak RSS for N may exceed the peak for N/5 by this much (allocator noise)


@dataclass(frozen=True)
class BatchRun:
    """One batch marked in a fresh process. Memory is peak RSS (ru_maxrss), in MB."""

    essays: int
    workers: int  # 1 = marked in the process itself
    seconds: float
    model_rss_mb: float  # after the model is fitted, before marking
    peak_rss_mb: float  # the marking process's peak
    worker_peak_rss_mb: float  # the largest worker's peak (0 without workers)

    @property
    def essays_per_second(self) -> float:
        return self.essays / self.seconds if self.seconds else float("inf")


@dataclass(frozen=True)
class BenchResult:
    n_essays: int
    seed: int
    import_seconds: float  # cold start, part one: importing the engine and its libraries
    fit_seconds: float  # cold start, part two: load rubric and corpus, fit the model
    latency_ms: dict[int, tuple[float, float]]  # essay words -> (p50, p95) of score_essay, warm
    batch: BatchRun  # N essays, default workers
    batch_fifth: BatchRun  # N/5 essays, default workers
    sequential_fifth: BatchRun  # N/5 essays, workers=1, to show what the pool buys
    floor_seconds: float  # CountVectorizer().fit_transform over the same N texts
    generate_seconds: float  # making the N texts; inside both the batch and the floor times

    @property
    def cold_start_seconds(self) -> float:
        return self.import_seconds + self.fit_seconds

    @property
    def floor_ratio(self) -> float:
        return self.batch.seconds / self.floor_seconds


# ---------------------------------------------------------------- essays
def essay_paragraphs(corpus_texts: Sequence[str] | None = None, devset: Path = DEVSET_ESSAYS) -> list[str]:
    """The paragraphs essays are built from: the reference corpus's and the calibration essays'."""
    if corpus_texts is None:
        from models.engine import load_model

        corpus_texts = [essay.text for essay in load_model().corpus.essays]
    texts = list(corpus_texts) + [path.read_text(encoding="utf-8") for path in sorted(devset.glob("*.txt"))]
    paragraphs = [" ".join(block.split()) for text in texts for block in text.split("\n\n")]
    return [p for p in paragraphs if len(p.split()) >= MIN_PARAGRAPH_WORDS]


def compose_essay(rng: random.Random, paragraphs: Sequence[str], n_words: int) -> str:
    """An essay of exactly `n_words` words (split on spaces): random paragraphs, the last one cut short."""
    chosen, count = [], 0
    while count < n_words:
        paragraph = rng.choice(paragraphs).split()
        paragraph = paragraph[: n_words - count]
        count += len(paragraph)
        chosen.append(" ".join(paragraph))
    if not chosen[-1].endswith((".", "!", "?")):
        chosen[-1] += "."
    return "\n\n".join(chosen)


def generate_essays(n: int, seed: int = 0, paragraphs: Sequence[str] | None = None) -> Iterator[str]:
    """`n` essays of MIN_WORDS to MAX_WORDS words, the same ones for the same seed, one at a time."""
    paragraphs = paragraphs if paragraphs is not None else essay_paragraphs()
    rng = random.Random(seed)
    for _ in range(n):
        yield compose_essay(rng, paragraphs, rng.randint(MIN_WORDS, MAX_WORDS))


# ---------------------------------------------------------------- measurements
def measure_cold_start(rubric_path: str | None = None) -> tuple[float, float]:
    """(import seconds, fit seconds) in a fresh Python process, as a tutor's first run sees them."""
    code = (
        "import json, time\n"
        "t0 = time.perf_counter()\n"
        "from models.engine import load_model\n"
        "t1 = time.perf_counter()\n"
        f"load_model({rubric_path!r})\n"
        "t2 = time.perf_counter()\n"
        "print(json.dumps([t1 - t0, t2 - t1]))\n"
    )
    imports, fit = _run_python(code)
    return imports, fit


def measure_latency(model, paragraphs: Sequence[str], seed: int = 0,
                    sizes: Sequence[int] = LATENCY_WORDS, repeats: int = LATENCY_REPEATS) -> dict[int, tuple[float, float]]:
    """p50 and p95 milliseconds of `score_essay` per essay size, after one warm-up call."""
    from models.engine import score_essay

    rng = random.Random(seed)
    latency = {}
    for size in sizes:
        essay = compose_essay(rng, paragraphs, size)
        score_essay(essay, model)  # warm: caches and lazy imports are not what a tutor waits for each time
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            score_essay(essay, model)
            times.append(1000 * (time.perf_counter() - start))
        latency[size] = (float(np.percentile(times, 50)), float(np.percentile(times, 95)))
    return latency


def measure_batch(n: int, seed: int = 0, workers: int | None = None, rubric_path: str | None = None) -> BatchRun:
    """Mark `n` generated essays through `mark_inputs` in a fresh process, rows consumed and dropped."""
    code = (
        "import json, resource, time\n"
        "from models.batch import POOL_MIN_INPUTS, _worker_count, mark_inputs\n"
        "from models.bench import essay_paragraphs, generate_essays\n"
        "from models.engine import keep_for_process, load_model\n"
        "from models.reader import EssayInput\n"
        f"model = load_model({rubric_path!r})\n"
        "keep_for_process()\n"  # as the batch CLI does
        "paragraphs = essay_paragraphs([e.text for e in model.corpus.essays])\n"
        "loaded = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        f"inputs = (EssayInput(f'bench#{{i}}', text) for i, text in enumerate(generate_essays({n}, {seed}, paragraphs)))\n"
        "start = time.perf_counter()\n"
        "count = 0\n"
        f"for row in mark_inputs(inputs, model, workers={workers!r}):\n"
        "    count += 1\n"
        "seconds = time.perf_counter() - start\n"
        f"used = 1 if {workers!r} == 1 or count < POOL_MIN_INPUTS else _worker_count({workers!r})\n"
        "print(json.dumps([count, used, seconds, loaded, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,"
        " resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss]))\n"
    )
    count, used, seconds, loaded_kb, peak_kb, children_kb = _run_python(code)
    return BatchRun(count, used, seconds, loaded_kb / 1024, peak_kb / 1024, children_kb / 1024 if used > 1 else 0.0)


def measure_floor(n: int, seed: int, paragraphs: Sequence[str]) -> tuple[float, float]:
    """(floor seconds, generation seconds): CountVectorizer over the same texts, and making them alone."""
    from sklearn.feature_extraction.text import CountVectorizer

    start = time.perf_counter()
    for _ in generate_essays(n, seed, paragraphs):
        pass
    generate = time.perf_counter() - start
    start = time.perf_counter()
    CountVectorizer().fit_transform(generate_essays(n, seed, paragraphs))
    return time.perf_counter() - start, generate


@dataclass(frozen=True)
class EndToEndResult:
    """`python -m app.cli batch` over a folder of essay files, beside the floor on the same files: `runs` pairs of
    whole-process timings (seconds), floor then command, so both meet the same moment of a shared machine."""

    essays: int
    runs: tuple[tuple[float, float], ...]  # (cli seconds, floor seconds) per pair, in the order run
    rows: int  # rows the command wrote (one per file), in the last run
    floor_in_process_seconds: float = 0.0  # the floor's reading and vectorising alone, libraries already imported

    @property
    def ratios(self) -> list[float]:
        return [cli / floor for cli, floor in self.runs]

    @property
    def ratio(self) -> float:
        """The median pair's ratio: on a shared machine one pair can land on a slow moment for one side only."""
        return float(np.median(self.ratios))

    @property
    def cli_seconds(self) -> float:
        return float(np.median([cli for cli, _ in self.runs]))

    @property
    def floor_seconds(self) -> float:
        return float(np.median([floor for _, floor in self.runs]))


def run_end_to_end(n_essays: int = 3000, seed: int = 0, out: TextIO | None = sys.stdout,
                   rubric_path: str | None = None, repeats: int = 3) -> EndToEndResult:
    """Write `n_essays` essay files to a folder; `repeats` times, time the floor on them and then the batch CLI over
    them, each as a whole process; the verdict is on the median pair."""
    import tempfile

    from sklearn.feature_extraction.text import CountVectorizer

    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, not {repeats}")
    with tempfile.TemporaryDirectory(prefix="rubricate-bench-") as scratch:
        folder = Path(scratch) / "essays"
        folder.mkdir()
        for i, text in enumerate(generate_essays(n_essays, seed)):
            (folder / f"essay{i:06}.txt").write_text(text, encoding="utf-8")
        start = time.perf_counter()
        CountVectorizer().fit_transform(path.read_text(encoding="utf-8") for path in sorted(folder.glob("*.txt")))
        floor_in_process = time.perf_counter() - start
        # Timed as a whole process, like the batch command: both pay for starting Python and importing their library.
        floor_code = ("import sys; from pathlib import Path; from sklearn.feature_extraction.text import CountVectorizer; "
                      "CountVectorizer().fit_transform(p.read_text(encoding='utf-8') for p in sorted(Path(sys.argv[1]).glob('*.txt')))")
        rows_path = Path(scratch) / "rows.jsonl"
        command = [sys.executable, "-m", "app.cli", "batch", "--quiet", "--out", str(rows_path), str(folder)]
        if rubric_path:
            command[4:4] = ["--rubric", str(rubric_path)]
        runs = []
        for _ in range(repeats):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", floor_code, str(folder)], check=True)
            floor = time.perf_counter() - start
            start = time.perf_counter()
            done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
            seconds = time.perf_counter() - start
            if done.returncode != 0:
                raise RuntimeError(f"benchmark step failed:\n{done.stderr}")
            runs.append((seconds, floor))
        with rows_path.open(encoding="utf-8") as rows:
            count = sum(1 for _ in rows)
    result = EndToEndResult(n_essays, tuple(runs), count, floor_in_process)
    if out is not None:
        ok = "met" if result.ratio <= TARGET_END_TO_END_RATIO else "MISSED"
        pairs = ", ".join(f"{cli:.1f} s / {floor:.1f} s = {cli / floor:.1f}x" for cli, floor in runs)
        out.write(f"end to end: `batch` over a folder of {n_essays} essay files ({count} rows), against the floor: "
                  f"a process reading the files + CountVectorizer().fit_transform ({floor_in_process:.1f} s of it reading "
                  f"and vectorising); {repeats} pair(s), floor then batch: {pairs}\n"
                  f"end to end / floor, median pair: {result.ratio:.1f}x (target <= {TARGET_END_TO_END_RATIO:.0f}x: {ok})\n")
    return result


def _run_python(code: str):
    """Run `code` in a fresh interpreter at the repository root; its last stdout line is JSON."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"benchmark step failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- the run
def run_benchmark(n_essays: int = 5000, seed: int = 0, out: TextIO | None = sys.stdout,
                  rubric_path: str | None = None) -> BenchResult:
    """Measure everything once, print the table to `out` (None: print nothing), return the figures."""
    from models.engine import load_model

    model = load_model(rubric_path)
    paragraphs = essay_paragraphs([essay.text for essay in model.corpus.essays])
    fifth = max(1, n_essays // 5)
    import_seconds, fit_seconds = measure_cold_start(rubric_path)
    latency = measure_latency(model, paragraphs, seed)
    batch = measure_batch(n_essays, seed, None, rubric_path)
    batch_fifth = measure_batch(fifth, seed, None, rubric_path)
    sequential_fifth = measure_batch(fifth, seed, 1, rubric_path)
    floor_seconds, generate_seconds = measure_floor(n_essays, seed, paragraphs)
    result = BenchResult(n_essays, seed, import_seconds, fit_seconds, latency, batch, batch_fifth,
                         sequential_fifth, floor_seconds, generate_seconds)
    if out is not None:
        out.write(format_table(result))
    return result


def format_table(result: BenchResult) -> str:
    """The figures beside their targets, one line each, as a tutor or reviewer reads them."""
    r = result
    rows = [("cold start (import + fit, fresh process)", f"{r.cold_start_seconds:.2f} s "
             f"({r.import_seconds:.2f} import + {r.fit_seconds:.2f} fit)", f"<= {TARGET_COLD_START_S:.0f} s",
             r.cold_start_seconds <= TARGET_COLD_START_S)]
    for size, (p50, p95) in sorted(r.latency_ms.items()):
        rows.append((f"feedback, {size}-word essay (warm, x{LATENCY_REPEATS})", f"p50 {p50:.1f} ms, p95 {p95:.1f} ms",
                     f"p95 <= {TARGET_P95_MS:.0f} ms", p95 <= TARGET_P95_MS))
    for run in (r.batch, r.batch_fifth, r.sequential_fifth):
        rows.append((f"batch, {run.essays} essays, {run.workers} worker(s)",
                     f"{run.essays_per_second:.0f} essays/s ({run.seconds:.1f} s)", "", None))
    rows.append((f"floor: CountVectorizer over the {r.n_essays} texts", f"{r.floor_seconds:.1f} s "
                 f"(making the texts: {r.generate_seconds:.1f} s, in both)", "", None))
    rows.append(("batch time / floor time", f"{r.floor_ratio:.1f}x", f"<= {TARGET_FLOOR_RATIO:.0f}x",
                 r.floor_ratio <= TARGET_FLOOR_RATIO))
    for run in (r.batch, r.batch_fifth):
        workers = f", largest worker {run.worker_peak_rss_mb:.0f} MB" if run.workers > 1 else ""
        rows.append((f"peak RSS (ru_maxrss), {run.essays} essays", f"{run.peak_rss_mb:.0f} MB "
                     f"(model loaded: {run.model_rss_mb:.0f} MB{workers})", "", None))
    growth = r.batch.peak_rss_mb - r.batch_fifth.peak_rss_mb
    if r.batch.workers > 1 and r.batch_fifth.workers > 1:  # workers' peaks compare only with workers'
        growth = max(growth, r.batch.worker_peak_rss_mb - r.batch_fifth.worker_peak_rss_mb)
    rows.append((f"memory growth, {r.batch_fifth.essays} -> {r.n_essays} essays", f"{growth:+.0f} MB",
                 f"<= {MEMORY_SLACK_MB:.0f} MB (flat)", growth <= MEMORY_SLACK_MB))

    width = max(len(name) for name, *_ in rows)
    figure_width = max(len(figure) for _, figure, *_ in rows)
    lines = [f"Rubricate benchmark: {r.n_essays} essays, seed {r.seed}; {machine_description()}", ""]
    for name, figure, target, met in rows:
        verdict = "" if met is None else ("ok" if met else "MISSED")
        lines.append(f"{name:<{width}}  {figure:<{figure_width}}  {target:<22} {verdict}".rstrip())
    return "\n".join(lines) + "\n"


def machine_description() -> str:
    # Timings on a shared machine move with its load; say how busy it was so figures can be compared.
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = f", load average {os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else ""
    return f"{cpus} CPUs{load}"


if __name__ == "__main__":
    run_benchmark(int(sys.argv[1]) if len(sys.argv) > 1 else 5000)
