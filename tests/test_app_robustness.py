"""The app with broken data in rubric/: a clear message naming the problem, never a traceback."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app import loading
from models.rubric import DEFAULT_RUBRIC

ROOT = Path(__file__).resolve().parent.parent
MAIN = str(ROOT / "app" / "main.py")
BROKEN = Path(__file__).resolve().parent / "fixtures" / "rubrics" / "duplicate_ids.yaml"


@pytest.fixture(autouse=True)
def fresh_rubric_list():
    loading._read_rubrics.clear()
    yield
    loading._read_rubrics.clear()


def test_a_broken_rubric_beside_a_good_one_is_named_in_the_sidebar_and_the_good_one_still_works(monkeypatch):
    monkeypatch.setattr(loading, "find_rubrics", lambda: [DEFAULT_RUBRIC, BROKEN])
    at = AppTest.from_file(MAIN, default_timeout=120).run()
    assert not at.exception
    assert list(at.selectbox(key=loading.RUBRIC_KEY).options) == ["Why did Stalin become leader of the USSR?"]  # shown by question
    warnings = " ".join(w.value for w in at.sidebar.warning)
    assert "duplicate_ids.yaml" in warnings and "'id'" in warnings


def test_with_no_usable_rubric_the_page_says_why_instead_of_failing(monkeypatch):
    monkeypatch.setattr(loading, "find_rubrics", lambda: [BROKEN])
    at = AppTest.from_file(MAIN, default_timeout=120).run()
    assert not at.exception
    assert "No usable rubric" in " ".join(e.value for e in at.error)
    assert "duplicate_ids.yaml" in " ".join(e.value for e in at.error)


def test_a_rubric_whose_corpus_folder_is_missing_is_reported_on_the_page(monkeypatch, tmp_path):
    rubric = tmp_path / "no_corpus.yaml"
    rubric.write_text(DEFAULT_RUBRIC.read_text(encoding="utf-8").replace("corpus: ../corpus/stalin_leader", "corpus: missing_folder"),
                      encoding="utf-8")
    monkeypatch.setattr(loading, "find_rubrics", lambda: [rubric])
    at = AppTest.from_file(MAIN, default_timeout=120).run()
    assert not at.exception
    assert "missing_folder" in " ".join(e.value for e in at.error)


def test_a_rubric_nested_100000_deep_beside_a_good_one_costs_only_itself(monkeypatch, tmp_path):
    deep = tmp_path / "deep.yaml"
    deep.write_text("[" * 100_000, encoding="utf-8")
    monkeypatch.setattr(loading, "find_rubrics", lambda: [DEFAULT_RUBRIC, deep])
    at = AppTest.from_file(MAIN, default_timeout=120).run()
    assert not at.exception
    assert list(at.selectbox(key=loading.RUBRIC_KEY).options) == ["Why did Stalin become leader of the USSR?"]
    assert "deep.yaml" in " ".join(w.value for w in at.sidebar.warning)
