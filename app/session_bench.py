"""Many students at once: N browser sessions ask the Student feedback page for feedback together.

Starts `streamlit run app/main.py` on a free port with a throwaway store, opens Debian's chromium
with one browser context per student, and has each paste a different essay from data/, tick "Keep my
drafts" and press "Get feedback" at the same moment. Every page must show its own essay's coverage,
mark and word count as the engine gives them, and every draft must be in the store. The report puts
the slowest and median response of N beside one student's alone. A benchmark, not a timed test:
nothing here fails on time, only on a student who got no feedback or a draft that was not kept.

This drives a browser, so it lives with the app, not in models/ (the engine imports no UI).
"""
from __future__ import annotations

import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TextIO

from models.errors import RubricateError

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")  # Debian's package, never a downloaded browser
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
WAIT_S = 180.0  # how long one student may wait before counting as failed: a bound for a loaded 2-core machine, not a target
ALONE_RUNS = 3  # one student alone, this many times (one after another): the median is the single-session figure
DRAFT_PARAM = "draft"  # the Student page keeps the private draft key in the address (app/views/student.py)
KEEP_DRAFTS = "Keep my drafts, so the next one shows what changed"
UNKNOWN = "unknown"  # the server's part of a session that failed, or whose messages could not be read


# ---------------------------------------------------------------- the app on a free port
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class RunningApp:
    url: str
    pid: int  # the streamlit server's process: every session's script runs in it, one thread each

    def cpu_seconds(self) -> float | None:
        """CPU time the server has used so far (user + system), from /proc; None where there is no /proc."""
        try:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime: fields 14 and 15 of stat


@contextmanager
def running_app(db_path: Path | None = None, wait_s: float = 60.0, log: Path | None = None) -> Iterator[RunningApp]:
    """`streamlit run app/main.py` on a free local port until the block ends; yields its URL and process.

    `db_path` becomes the app's $RUBRICATE_DB (None: the caller's environment decides);
    the server's output goes to `log` (None: discarded), so a chatty server never blocks on a full pipe.
    """
    env = dict(os.environ, **({"RUBRICATE_DB": str(db_path)} if db_path else {}))
    port = free_port()
    with open(log or os.devnull, "w", encoding="utf-8") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app/main.py", "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"],
            cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT, text=True,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            _wait_until_healthy(server, url, wait_s, log)
            yield RunningApp(url, server.pid)
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def _wait_until_healthy(server: subprocess.Popen, url: str, wait_s: float, log: Path | None) -> None:
    deadline = time.monotonic() + wait_s
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
                if answer.read().strip() == b"ok":
                    return
        except OSError:
            pass
        told = f" (its output: {log})" if log else ""
        if server.poll() is not None:
            raise RubricateError(f"streamlit exited with code {server.returncode} before answering{told}.")
        if time.monotonic() > deadline:
            raise RubricateError(f"streamlit did not answer on {url}/_stcore/health within {wait_s:.0f} s{told}.")
        time.sleep(0.3)


# ---------------------------------------------------------------- the students and what each should see
@dataclass(frozen=True)
class Student:
    """One student: the essay they paste and what the engine says about it, as the page shows it."""

    name: str  # the essay's set and file, e.g. devset/d01.txt
    pasted: str  # the file's text, as pasted into the box
    text: str  # the essay as the app reads it (essay_from_text), which the draft must hold
    expected: dict[str, str]  # metric label -> value, formatted as the page shows it


def students(n: int, model, folders: Sequence[Path] | None = None) -> list[Student]:
    """`n` students with different essays, taken in order from the labelled sets in data/."""
    from models.evaluate import DEFAULT_TRAINING
    from models.reader import essay_from_text

    chosen: list[Student] = []
    seen: set[str] = set()
    for folder in folders or [f for f in DEFAULT_TRAINING if (f / "essays").is_dir()]:
        for path in sorted((folder / "essays").glob("*.txt")):
            pasted = path.read_text(encoding="utf-8")
            essay = essay_from_text(pasted)
            if not essay.ok or essay.text in seen:
                continue
            seen.add(essay.text)
            chosen.append(Student(f"{folder.name}/{path.name}", pasted, essay.text, expected_metrics(model.score(essay.text))))
            if len(chosen) == n:
                return chosen
    raise RubricateError(f"The labelled sets in data/ hold {len(chosen)} different essays; the benchmark needs {n}.")


def expected_metrics(report) -> dict[str, str]:
    """The three figures at the top of the feedback, as app/widgets.py `render_feedback` writes them."""
    return {"Coverage of the rubric": f"{report.overall:.0f}%", "Mark estimate": f"{report.mark_20} / 20",
            "Words": str(report.word_count)}


# ---------------------------------------------------------------- one student in one browser context
@dataclass(frozen=True)
class StudentRun:
    """What one student saw: response seconds (button press to feedback and draft shown), the figures, the draft."""

    student: Student
    seconds: float | None  # None: the feedback never came
    shown: dict[str, str]
    draft_key: str  # from the page's address
    server_seconds: float | None = None  # button press to the server's "script finished" message: the rest is the browser
    stored: bool = False  # set by check_drafts: the store holds exactly this essay under the key, with the engine's mark
    error: str = ""

    @property
    def saw_own_feedback(self) -> bool:
        return self.seconds is not None and self.shown == self.student.expected

    @property
    def ok(self) -> bool:
        return self.saw_own_feedback and self.stored

    def problem(self) -> str:
        if self.error:
            return self.error
        if not self.saw_own_feedback:
            return f"the page showed {self.shown}, the engine gives {self.student.expected}"
        return "" if self.stored else f"no draft of this essay is stored under the key in its address ({self.draft_key or 'none'})"


# Feedback is in when the figures and the draft key are on the page and no script run is under way.
_FEEDBACK_SHOWN = """() => {
  const labels = [...document.querySelectorAll('[data-testid="stMetricLabel"]')].map(e => e.innerText.trim());
  return labels.includes('Mark estimate')
    && document.querySelector('[data-testid="stCode"]') !== null
    && document.querySelector('[data-testid="stStatusWidget"]') === null
    && new URL(location.href).searchParams.has('draft');
}"""
_METRICS = """() => Object.fromEntries([...document.querySelectorAll('[data-testid="stMetric"]')].map(m => [
  m.querySelector('[data-testid="stMetricLabel"]').innerText.trim(),
  m.querySelector('[data-testid="stMetricValue"]').innerText.trim()]))"""


async def one_student(browser, url: str, student: Student, start: asyncio.Barrier) -> StudentRun:
    """Open the page, paste, tick "Keep my drafts", wait for everyone at `start`, press the button, wait for feedback."""
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    finished: list[float] = []  # when each of the server's "script finished" messages reached this page
    try:
        page = await context.new_page()
        page.set_default_timeout(WAIT_S * 1000)
        page.on("websocket", lambda socket: socket.on("framereceived", lambda frame: _note_finish(frame, finished)))
        await _ready_to_press(page, url, student)
    except Exception as problem:  # noqa: BLE001 - a student who could not even start is a failed session, not a crash
        await start.wait()
        await context.close()
        return StudentRun(student, None, {}, "", error=f"could not paste the essay: {_first_line(problem)}")
    await start.wait()
    try:
        began = time.perf_counter()
        await page.get_by_role("button", name="Get feedback").click()
        await page.wait_for_function(_FEEDBACK_SHOWN, polling=50, timeout=WAIT_S * 1000)
        done = time.perf_counter()
        shown = await page.evaluate(_METRICS)
        key = urllib.parse.parse_qs(urllib.parse.urlparse(page.url).query).get(DRAFT_PARAM, [""])[0]
        answered = [t for t in finished if began < t <= done]
        return StudentRun(student, done - began, shown, key, server_seconds=answered[-1] - began if answered else None)
    except Exception as problem:  # noqa: BLE001 - reported beside the others
        return StudentRun(student, None, {}, "", error=f"no feedback: {_first_line(problem)}")
    finally:
        await context.close()


def _note_finish(frame: bytes | str, finished: list[float]) -> None:
    """Keep the arrival time of a ForwardMsg that ends a script run (the server has sent the whole answer)."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    if isinstance(frame, bytes) and ForwardMsg.FromString(frame).WhichOneof("type") == "script_finished":
        finished.append(time.perf_counter())


async def _ready_to_press(page, url: str, student: Student) -> None:
    await page.goto(url)
    box = page.locator("textarea")
    await box.fill(student.pasted)
    await box.press("Control+Enter")  # commit the text to the app before the button is pressed
    await _idle(page)
    await page.get_by_text(KEEP_DRAFTS).click()
    await _idle(page)  # a press that lands while a rerun is under way can be lost


async def _idle(page) -> None:
    await page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached")


def _first_line(problem: Exception) -> str:
    return (str(problem).strip().splitlines() or [type(problem).__name__])[0]


async def students_at_once(browser, app: RunningApp, group: Sequence[Student]) -> tuple[list[StudentRun], float | None]:
    """Every student of `group` in a context of their own, pressing "Get feedback" together.

    Returns their runs and the server's CPU seconds from the press until the last page showed its feedback.
    """
    start = asyncio.Barrier(len(group) + 1)  # the students, and this coroutine reading the server's clock
    sessions = asyncio.gather(*(one_student(browser, app.url, s, start) for s in group))
    await start.wait()
    before = app.cpu_seconds()
    runs = list(await sessions)
    after = app.cpu_seconds()
    return runs, None if before is None or after is None else after - before


# ---------------------------------------------------------------- the drafts in the store
def check_drafts(runs: Sequence[StudentRun], db_path: Path, rubric_id: str) -> list[StudentRun]:
    """Each run with `stored` set: its key holds exactly one draft, of its essay, with the engine's mark."""
    from models.store import draft_owner, open_store

    checked = []
    with open_store(db_path) as store:
        for run in runs:
            drafts = store.drafts(draft_owner(run.draft_key), rubric_id) if run.draft_key else []
            stored = (len(drafts) == 1 and drafts[0].text == run.student.text
                      and f"{drafts[0].result['mark_20']} / 20" == run.student.expected["Mark estimate"])
            checked.append(replace(run, stored=stored))
    return checked


# ---------------------------------------------------------------- the run
@dataclass(frozen=True)
class ConcurrentResult:
    first: StudentRun  # the first press on a fresh server: a warm-up (first renders, lazy imports), reported apart
    alone: list[StudentRun]  # one student at a time, on the warm server
    together: list[StudentRun]  # N students pressing the button at once
    machine: str = ""  # CPUs and load average before the run
    alone_cpu_seconds: float | None = None  # the server's CPU time for one lone press (median)
    together_cpu_seconds: float | None = None  # the server's CPU time from the N presses to the last page's feedback

    @property
    def runs(self) -> list[StudentRun]:
        return [self.first, *self.alone, *self.together]

    @property
    def all_ok(self) -> bool:
        return all(run.ok for run in self.runs)

    @property
    def alone_seconds(self) -> float | None:
        return _median([r.seconds for r in self.alone])

    @property
    def slowest_seconds(self) -> float | None:
        return _slowest([r.seconds for r in self.together])

    @property
    def median_seconds(self) -> float | None:
        return _median([r.seconds for r in self.together])


def _median(times: Sequence[float | None]) -> float | None:
    return None if None in times or not times else statistics.median(times)


def _slowest(times: Sequence[float | None]) -> float | None:
    return None if None in times or not times else max(times)


def run_concurrent_sessions(n: int = 20, out: TextIO | None = sys.stdout, alone_runs: int = ALONE_RUNS) -> ConcurrentResult:
    """Start the app with a throwaway store and have `n` students get feedback at once; print the report to `out`."""
    if n < 1:
        raise RubricateError(f"--concurrent-sessions {n}: give at least 1 session.")
    from models.bench import machine_description

    if not CHROMIUM.exists():
        raise RubricateError(f"{CHROMIUM} is missing: the benchmark drives Debian's chromium (apt-get install chromium).")
    try:
        from playwright.async_api import async_playwright  # noqa: F401 - a test tool, in requirements-dev.txt
    except ImportError as missing:
        raise RubricateError("The benchmark drives a browser with Playwright: pip install -r requirements-dev.txt.") from missing
    from models.engine import load_model
    from models.rubric import find_rubrics

    machine = machine_description()  # before the run: its own browsers would raise the load average
    model = load_model(str(find_rubrics()[0]))  # the question the app opens on
    group = students(1 + alone_runs + n, model)
    with tempfile.TemporaryDirectory(prefix="rubricate-sessions-") as scratch:
        db_path = Path(scratch) / "rubricate.sqlite3"
        with running_app(db_path, log=Path(scratch) / "streamlit.log") as app:
            first, alone, together, cpu = asyncio.run(_all_runs(app, group, alone_runs))
        first, *alone = check_drafts([first, *alone], db_path, model.rubric.id)
        together = check_drafts(together, db_path, model.rubric.id)
    result = ConcurrentResult(first, alone, together, machine, *cpu)
    if out is not None:
        out.write(format_report(result))
    return result


async def _all_runs(app: RunningApp, group: Sequence[Student], alone_runs: int):
    """The warm-up, the lone students one after another, then the rest together; with the server's CPU seconds."""
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            [first], _ = await students_at_once(browser, app, group[:1])
            alone, alone_cpu = [], []
            for student in group[1:1 + alone_runs]:
                [run], cpu = await students_at_once(browser, app, [student])
                alone.append(run)
                alone_cpu.append(cpu)
            together, together_cpu = await students_at_once(browser, app, group[1 + alone_runs:])
        finally:
            await browser.close()
    return first, alone, together, (_median(alone_cpu), together_cpu)


def format_report(result: ConcurrentResult) -> str:
    """The figures, then whether every student saw their own feedback and every draft was kept; failures named."""
    n = len(result.together)
    lines = [f"Rubricate: {n} student{'s' if n != 1 else ''} at once on the Student feedback page "
             f"(Debian chromium, one context each); {result.machine}", "",
             "response: from pressing \"Get feedback\" to the feedback and the kept draft's key on the page;",
             "the server's part: to its \"script finished\" message reaching the page (the rest is the browser drawing)", ""]
    server = [r.server_seconds for r in result.together]
    rows = [("", "response", "the server's part"),
            ("warm-up: the first feedback on a fresh server", _seconds(result.first.seconds), _seconds(result.first.server_seconds, UNKNOWN)),
            (f"one student alone (median of {len(result.alone)})", _seconds(result.alone_seconds),
             _seconds(_median([r.server_seconds for r in result.alone]), UNKNOWN)),
            (f"{n} at once: slowest", _seconds(result.slowest_seconds), _seconds(_slowest(server), UNKNOWN)),
            (f"{n} at once: median", _seconds(result.median_seconds), _seconds(_median(server), UNKNOWN))]
    if result.alone_seconds and result.slowest_seconds:
        rows.append((f"slowest of {n} / one alone", f"{result.slowest_seconds / result.alone_seconds:.1f}x", ""))
    width = max(len(name) for name, *_ in rows)
    lines += [f"{name:<{width}}  {response:<9} {part}".rstrip() for name, response, part in rows]
    if result.alone_cpu_seconds is not None and result.together_cpu_seconds is not None:
        lines += ["", f"the server's CPU time: {result.alone_cpu_seconds:.2f} s for one lone press (median), "
                      f"{result.together_cpu_seconds:.2f} s for the {n} together (the rest of the wait is the browsers and other work on the machine)"]
    saw = sum(r.saw_own_feedback for r in result.runs)
    kept = sum(r.stored for r in result.runs)
    total = len(result.runs)
    lines += ["",
              f"every student saw their own essay's feedback: {'yes' if saw == total else 'NO'} ({saw} of {total})",
              f"every draft stored: {'yes' if kept == total else 'NO'} ({kept} of {total})",
              f"all succeeded: {'yes' if result.all_ok else 'NO'}"]
    lines += [f"  {run.student.name}: {run.problem()}" for run in result.runs if not run.ok]
    return "\n".join(lines) + "\n"


def _seconds(value: float | None, missing: str = "failed") -> str:
    return missing if value is None else f"{value:.2f} s"
