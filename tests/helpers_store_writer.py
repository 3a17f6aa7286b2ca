"""A batch that never finishes: marks essays into a store until it is killed.

Run by tests/test_store.py as `python tests/helpers_store_writer.py DB_PATH`. Each
essay's id is printed only after add_essay has returned, i.e. after its commit, so
every id on stdout is one the database has promised to keep.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script, not from the repo root

from models.report import FactorResult, Report  # noqa: E402
from models.store import open_store  # noqa: E402

MAX_ESSAYS = 100_000  # bounded, so a test that fails to kill it still ends


def main(db_path: str) -> None:
    result = Report(
        rubric_id="kill_test",
        overall=50.0,
        mark_20=12,
        factors=(FactorResult("terror", "Terror", 2, 0.9), FactorResult("propaganda", "Propaganda", 0, 0.1)),
    ).to_dict()
    text = "Stalin used the purges to remove rivals. " * 50
    with open_store(db_path) as store:
        session_id = store.create_session("kill test", "kill_test", "hash")
        for n in range(MAX_ESSAYS):
            essay_id = store.add_essay(session_id, source=f"essay_{n}.txt", text=text, result=result, status="ok")
            print(essay_id, flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
