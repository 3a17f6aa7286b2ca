"""Shared fixtures for the engine, rubric, CLI and evaluation specifications.

The shipped model is fitted once per test session (load_model caches it), so
each test reads like one user scoring one essay.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

# Tests never touch the user's real marking database: every test, and every app server a
# test starts, uses a throwaway one unless a test sets its own.
os.environ["RUBRICATE_DB"] = str(Path(tempfile.mkdtemp(prefix="rubricate-tests-")) / "rubricate.sqlite3")

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
ESSAYS = FIXTURES / "essays"
RUBRICS = FIXTURES / "rubrics"
DEVSET = REPO / "data" / "devset"
HELDOUT = REPO / "data" / "heldout"  # written blind to the engine; now calibration essays beside the devset
BLIND = REPO / "data" / "blind"  # written blind to the engine; read for error analysis, never tuned on


@pytest.fixture(scope="session")
def model():
    """The shipped Stalin rubric's model, fitted once and shared by every test."""
    from models.engine import load_model

    return load_model()


@pytest.fixture
def essay():
    """Read a small essay fixture by name, e.g. essay("testament_only")."""
    return lambda name: (ESSAYS / f"{name}.txt").read_text(encoding="utf-8")


def devset_essay(name: str) -> str:
    """A devset essay's text by file name, e.g. devset_essay("d11.txt")."""
    return (DEVSET / "essays" / name).read_text(encoding="utf-8")


@pytest.fixture
def store(tmp_path):
    """A marking store of the test's own, open for the test."""
    from models.store import open_store

    with open_store(tmp_path / "marks.sqlite3") as opened:
        yield opened
