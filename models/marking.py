"""Marking a class into a session, and reading it back: the one path the CLI's `batch` and the app's batch page share.

Each essay is committed as it is marked, so a batch stopped half-way keeps every essay marked so far.
Rows read back carry the tutor's decisions applied (models.review.final_row).
"""
from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from models.batch import mark_inputs
from models.copying import SharedPair, find_shared_pairs
from models.engine import CoverageModel
from models.errors import RubricateError
from models.reader import EssayInput
from models.review import final_row
from models.rubric import Rubric
from models.store import Store


def unique_session_name(store: Store, name: str) -> str:
    """`name`, or `name (2)`, `name (3)`… when a session already has it, so marking never fails on a name."""
    taken = {s.name for s in store.sessions()}
    unique, n = name.strip(), 2
    while unique in taken:
        unique, n = f"{name.strip()} ({n})", n + 1
    return unique


def start_session(store: Store, name: str, model: CoverageModel) -> int:
    """A new session; a name already taken by a batch that was stopped half-way says how to finish it."""
    rubric = model.rubric
    known = {s.name: s for s in store.sessions()}
    if name in known and not known[name].finished:
        raise RubricateError(f"{store.path}: session '{name}' is incomplete ({known[name].essays} essays stored); "
                             "resume it to mark only the inputs not yet stored (batch --session NAME --resume), or pick another name.")
    return store.create_session(name, rubric.id, rubric.content_hash, str(rubric.path))


def save_row(store: Store, session_id: int, row: dict, text: str) -> int:
    """Keep one batch row (committed at once, so a killed batch keeps every essay marked so far)."""
    result = {k: v for k, v in row.items() if k not in {"source", "student", "status", "error"}} if row["status"] == "ok" else None
    return store.add_essay(session_id, source=row["source"], text=text, result=result, status=row["status"],
                           error=row.get("error"), student_name=row.get("student", ""))


def mark_into_session(inputs: Iterable[EssayInput], model: CoverageModel, store: Store, name: str,
                      on_progress: Callable[[int], object] | None = None, workers: int | None = None,
                      resume: bool = False) -> Iterator[tuple[EssayInput, dict]]:
    """Mark `inputs` into a new session `name`, yielding (input, row) as each essay is stored.

    Streams: inputs are read as the marker asks for them, so memory stays flat for any class size.
    The session is recorded as finished once every input is stored. `resume`: add to the existing
    session `name`, marking only the inputs whose source it does not hold yet.
    """
    if resume:
        session = store.session(name)
        if session.rubric_hash != model.rubric.content_hash:
            raise RubricateError(f"{session.rubric_path}: session '{name}' was marked with another version of this rubric file; "
                                 "resume it with the rubric it was marked with, or mark a new session.")
        session_id = session.id
        inputs = _not_yet_stored(inputs, Counter(store.stored_sources(session_id)))
    else:
        session_id = start_session(store, name, model)
    for item, row in mark_paired(inputs, model, on_progress=on_progress, workers=workers):
        save_row(store, session_id, row, item.text)
        yield item, row
    store.finish_session(session_id)


def _not_yet_stored(inputs: Iterable[EssayInput], stored: Counter) -> Iterator[EssayInput]:
    for item in inputs:
        if stored[item.source] > 0:
            stored[item.source] -= 1  # two inputs with one name: each stored copy skips one
            continue
        yield item


def mark_paired(inputs: Iterable[EssayInput], model: CoverageModel, on_progress: Callable[[int], object] | None = None,
                workers: int | None = None) -> Iterator[tuple[EssayInput, dict]]:
    """`mark_inputs`, each row yielded with the input it came from (streaming, in input order)."""
    pending: deque[EssayInput] = deque()  # inputs handed to the marker whose rows have not come back yet

    def remembered() -> Iterator[EssayInput]:
        for item in inputs:
            pending.append(item)
            yield item

    for row in mark_inputs(remembered(), model, on_progress=on_progress, workers=workers):
        yield pending.popleft(), row


def session_rows(store: Store, name: str, rubric: Rubric) -> list[dict]:
    """A session's essays as batch rows with the tutor's decisions applied, in marking order."""
    return [final_row(essay, rubric) for essay in store.essays(store.session(name).id)]


def session_inputs(store: Store, name: str) -> list[EssayInput]:
    """A session's essays as the inputs they were marked from (failed ones keep their error)."""
    return [EssayInput(e.source, e.text, e.student_name, None if e.status == "ok" else (e.error or "could not be read"))
            for e in store.essays(store.session(name).id)]


# ------------------------------------------------------------------ students who share passages
@dataclass(frozen=True)
class ClassPair:
    """Two essays sharing long passages; `reference` names the reference essay both copied, when they did."""

    pair: SharedPair
    reference: str | None  # corpus ids, comma-separated

    @property
    def first(self) -> str:
        return self.pair.first

    @property
    def second(self) -> str:
        return self.pair.second

    @property
    def shared_words(self) -> int:
        return self.pair.shared_words

    @property
    def passages(self):
        return self.pair.passages


def class_pairs(texts: dict[str, str], rows: dict[str, dict] | None = None) -> list[ClassPair]:
    """Pairs of essays (source -> text) sharing long passages.

    A pair whose every shared passage lies in text both essays copied from the same reference
    essay (their rows' copy passages) is labelled with that reference: that is copying, not collusion.
    """
    rows = rows or {}
    return [ClassPair(pair, _common_reference(pair, rows.get(pair.first), rows.get(pair.second)))
            for pair in find_shared_pairs(texts)]


def _common_reference(pair: SharedPair, first: dict | None, second: dict | None) -> str | None:
    if not first or not second or not pair.passages:
        return None
    sources: set[str] = set()
    for passage in pair.passages:
        here = _copied_sources(first, passage.start, passage.end)
        there = _copied_sources(second, passage.other_start, passage.other_end)
        common = here & there
        if not common:
            return None
        sources |= common
    return ", ".join(sorted(sources))


def _copied_sources(row: dict, start: int, end: int) -> set[str]:
    """Reference essays the row's copied passages take at least half of [start, end) from."""
    found: dict[str, int] = {}
    for p in (row.get("copy") or {}).get("passages", ()):
        overlap = min(end, p["end"]) - max(start, p["start"])
        if overlap > 0:
            found[p["source"]] = found.get(p["source"], 0) + overlap
    return {source for source, chars in found.items() if 2 * chars >= end - start}


def pair_record(pair: ClassPair, texts: dict[str, str], titles: dict[str, str] | None = None) -> dict:
    """A pair as one JSON object: both essays, the shared words, each passage with its offsets and text in both."""
    titles = titles or {}
    p = pair.pair
    reference = None
    if pair.reference:
        reference = ", ".join(titles.get(source, source) for source in pair.reference.split(", "))
    return {
        "first": p.first, "second": p.second, "shared_words": p.shared_words,
        "same_reference": reference,
        "passages": [{"first_start": x.start, "first_end": x.end, "second_start": x.other_start, "second_end": x.other_end,
                      "text": texts[p.first][x.start:x.end]} for x in p.passages],
    }
