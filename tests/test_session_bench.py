"""Many students at once: the benchmark's browser sessions each get their own feedback, and every draft is kept.

The small browser run uses 2 sessions and asserts nothing about time: only that the machinery
starts the app, drives the sessions, checks the store and reports what happened. The other tests
check, without a browser, that a wrong page or a lost draft is reported as a failure.
"""
from __future__ import annotations

import io
import os

import pytest

from app.cli import main
from app.session_bench import (CHROMIUM, ConcurrentResult, StudentRun, check_drafts, format_report,
                               run_concurrent_sessions, students)
from models.store import draft_owner, new_draft_key


def _needs_chromium():
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing; CI must install Debian's chromium package to run the browser tests", pytrace=False)
        pytest.skip(f"{CHROMIUM} is not installed")


def test_two_students_at_once_each_see_their_own_feedback_and_both_drafts_are_stored():
    _needs_chromium()
    out = io.StringIO()
    result = run_concurrent_sessions(2, out=out, alone_runs=1)

    assert len(result.together) == 2 and len(result.alone) == 1
    assert result.all_ok, out.getvalue()
    essays = [run.student.text for run in result.runs]
    keys = [run.draft_key for run in result.runs]
    assert len(set(essays)) == len(essays) == 4  # warm-up, one alone, two together: four different essays
    assert len(set(keys)) == 4 and all(keys)  # each session its own private draft key
    assert all(run.shown == run.student.expected for run in result.runs)
    assert result.slowest_seconds >= result.median_seconds > 0 and result.alone_seconds > 0
    assert all(0 < run.server_seconds <= run.seconds for run in result.runs)  # the server answers before the page shows it
    assert result.alone_cpu_seconds > 0 and result.together_cpu_seconds > 0  # the server's own work, read from /proc
    report = out.getvalue()
    assert "2 students at once" in report and "one student alone (median of 1)" in report
    assert "2 at once: slowest" in report and "2 at once: median" in report and "the server's part" in report
    assert "the server's CPU time" in report
    assert "every draft stored: yes (4 of 4)" in report and "all succeeded: yes" in report


def test_the_students_have_different_essays_and_the_engines_figures(model):
    group = students(5, model)
    assert len({s.text for s in group}) == 5
    first = model.score(group[0].text)
    assert group[0].expected == {"Coverage of the rubric": f"{first.overall:.0f}%",
                                 "Mark estimate": f"{first.mark_20} / 20", "Words": str(first.word_count)}


def _run(student, key: str = "", shown=None) -> StudentRun:
    return StudentRun(student, 1.0, dict(student.expected) if shown is None else shown, key)


def test_a_lost_draft_and_a_page_showing_another_essay_are_both_failures(model, tmp_path):
    from models.store import open_store

    kept, lost, confused = students(3, model)
    key = new_draft_key()
    with open_store(tmp_path / "marks.sqlite3") as store:
        store.add_draft(draft_owner(key), model.rubric.id, kept.text, model.score(kept.text).to_dict())
    runs = check_drafts([_run(kept, key), _run(lost, new_draft_key()), _run(confused, key, shown=kept.expected)],
                        tmp_path / "marks.sqlite3", model.rubric.id)

    assert [run.stored for run in runs] == [True, False, False]
    assert runs[0].ok and not runs[1].ok and not runs[2].ok
    assert "no draft of this essay is stored" in runs[1].problem()
    assert "the page showed" in runs[2].problem()
    report = format_report(ConcurrentResult(runs[0], [runs[0]], runs[1:]))
    assert "every draft stored: NO (2 of 4)" in report and "all succeeded: NO" in report
    assert f"{lost.name}: no draft" in report and f"{confused.name}: the page showed" in report


def test_a_session_with_no_feedback_is_reported_as_failed_without_a_time(model):
    student = students(1, model)[0]
    failed = StudentRun(student, None, {}, "", error="no feedback: Timeout 180000ms exceeded.")
    report = format_report(ConcurrentResult(failed, [failed], [failed]))
    slowest = next(line for line in report.splitlines() if line.startswith("1 at once: slowest"))
    assert slowest.split()[-2:] == ["failed", "unknown"]
    assert f"{student.name}: no feedback: Timeout" in report and "all succeeded: NO" in report


def test_the_cli_refuses_zero_sessions_and_a_rubric_the_app_would_not_open(capsys):
    assert main(["bench", "--concurrent-sessions", "0"]) == 2
    assert "give at least 1 session" in capsys.readouterr().err
    assert main(["bench", "--concurrent-sessions", "2", "--rubric", "rubric/stalin_leader.yaml"]) == 2
    assert "leave out --rubric" in capsys.readouterr().err
