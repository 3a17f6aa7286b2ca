"""The batch a page shows, kept in `st.session_state`: marked now (models.marking, as the CLI's `batch`) or reopened
from the store."""
from __future__ import annotations

from collections.abc import Callable, Iterable

from models.batch import mark_inputs
from models.engine import CoverageModel
from models.marking import ClassPair, class_pairs, mark_into_session, session_inputs, session_rows
from models.reader import EssayInput
from models.rubric import Rubric
from models.store import Store


BATCH_KEY = "batch"  # st.session_state key of the last marked batch (read by the coverage page)


def mark_batch_inputs(inputs: list[EssayInput], model: CoverageModel,
                      on_progress: Callable[[int], object] | None = None) -> dict:
    """Mark a batch without storing it, keeping what the pages need: the inputs, one row per input, the shared passages."""
    rows = list(mark_inputs(inputs, model, on_progress=on_progress))
    return {"rubric": str(model.rubric.path), "inputs": inputs, "rows": rows, "pairs": shared_pairs(inputs, rows)}


def shared_pairs(inputs: Iterable[EssayInput], rows: Iterable[dict] = ()) -> list[ClassPair]:
    """Pairs of readable essays in the batch that share long passages, named by source."""
    return class_pairs({item.source: item.text for item in inputs if item.ok}, {row["source"]: row for row in rows})


def mark_batch_into_session(inputs: list[EssayInput], model: CoverageModel, store: Store, name: str,
                            on_progress: Callable[[int], object] | None = None) -> dict:
    """Mark a batch into session `name` (models.marking, as the CLI's `batch --session`), kept as the page's batch."""
    rows = [row for _, row in mark_into_session(inputs, model, store, name, on_progress=on_progress)]
    return {"rubric": str(model.rubric.path), "inputs": inputs, "pairs": shared_pairs(inputs, rows), "session": name}


def batch_from_session(store: Store, name: str, rubric: Rubric) -> dict:
    """A stored session loaded back as the batch the page shows (after a refresh or a server restart)."""
    session = store.session(name)
    inputs = session_inputs(store, name)
    return {"rubric": session.rubric_path, "inputs": inputs, "pairs": shared_pairs(inputs, session_rows(store, name, rubric)),
            "session": name}
