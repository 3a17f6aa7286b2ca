"""Copy detection: reference text pasted into an essay, and passages students share.

The reference essays are public web pages, so an essay that pastes one would earn
full coverage for work that is not the student's. Both checks look for long runs
of identical words (after normalising case, punctuation, quotes and dashes): a run
of `min_run_words` words is too long to share by chance, while a short quotation
("Comrade Card-Index") is not.

Words come from the project's one word pattern (models.text); each essay word keeps
its character offsets, so a copied passage can be shown and masked in place.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from itertools import combinations, repeat

import numpy as np

from models.errors import RubricateError
from models.report import CopiedPassage, CopyCheck
from models.text import Words, word_spans

DEFAULT_MIN_RUN_WORDS = 8
# A pasted block of four or five sentences is ~15% of a 600-word exam essay, while
# an honest essay sharing one or two historians' quotations with a reference stays
# under 5%; 15% flags the first and leaves room for the second. Sentences inside
# shared runs are masked from credit whatever the share (see copied_sentence_mask).
DEFAULT_FLAG_SHARE = 0.15
# Two essays must share more than a restated question (~15 words) plus a common
# quotation (~20 words) to be paired; a shared paragraph is 50 words or more.
DEFAULT_MIN_SHARED_WORDS = 40

# Apostrophe look-alikes become a straight apostrophe (one char for one, so offsets
# hold). Dashes and double quotes need no mapping: they separate words whatever
# their style, so "Card-Index" and "Card–Index" are the same two words.


@dataclass(frozen=True)
class Passage:
    """A run of words two texts share: `a[start:end]` and `b[other_start:other_end]`."""

    start: int
    end: int
    other_start: int
    other_end: int


@dataclass(frozen=True)
class SharedPair:
    """Two essays of one batch that share long passages (offsets: first, then second)."""

    first: str
    second: str
    shared_words: int  # words of `first` inside the shared passages
    passages: tuple[Passage, ...]


@dataclass(frozen=True)
class _Words:
    """The normalised words of a text, their char spans, and the key of each shingle."""

    spans: tuple[tuple[int, int], ...]
    shingles: tuple[str, ...]  # shingles[i] covers words i .. i + n - 1

    def char_span(self, first_word: int, end_word: int) -> tuple[int, int]:
        return self.spans[first_word][0], self.spans[end_word - 1][1]


def _normalised_words(text: str | Words) -> tuple[Words, list[str]]:
    """Words of `text` (or already found) and their normalised forms; "Lenin’s", "Lenin's" and "LENINS" are one word."""
    found = text if isinstance(text, Words) else word_spans(text)
    return found, list(map(str.replace, found.words, repeat("'"), repeat("")))


def _read_words(text: str, min_run_words: int) -> _Words:
    """Words with their spans in `text`, and the key of each shingle (for comparing two essays)."""
    found, normalised = _normalised_words(text)
    starts = range(len(normalised) - min_run_words + 1)
    shingles = tuple(_shingle_key(normalised[i : i + min_run_words]) for i in starts)
    return _Words(tuple(zip(found.starts, found.ends)), shingles)


def _shingle_key(run: list[str]) -> str:
    # The joined words themselves: exact, the same in every process (so a pickled index
    # still answers), and cheaper than hashing them again.
    return " ".join(run)


def _check_run_length(min_run_words: int) -> None:
    if not isinstance(min_run_words, int) or min_run_words < 2:
        raise RubricateError(
            f"Copy check setting min_run_words is {min_run_words!r}; it must be a whole number of "
            f"words, at least 2 (default {DEFAULT_MIN_RUN_WORDS})."
        )


def _runs(covered: bytearray) -> list[tuple[int, int]]:
    """Maximal stretches of covered words, as (first word, end word)."""
    runs: list[tuple[int, int]] = []
    start = None
    for i, flag in enumerate(covered):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            runs.append((start, i))
            start = None
    if start is not None:
        runs.append((start, len(covered)))
    return runs


class ReferenceIndex:
    """Built once from reference texts; finds long word runs an essay shares with any of them.

    Words become ids from the references' vocabulary and each window of `min_run_words` ids is
    compared as a whole row in numpy, so checking an essay costs one pass over its words.
    """

    def __init__(
        self,
        references: dict[str, str],
        labels: dict[str, str] | None = None,
        min_run_words: int = DEFAULT_MIN_RUN_WORDS,
    ):
        """`references`: id -> text; `labels`: id -> display name, e.g. "ref1 (001_e5895ce79723c7b0.txt)"."""
        _check_run_length(min_run_words)
        if len(references) > MAX_REFERENCES:
            raise RubricateError(f"The copy check holds at most {MAX_REFERENCES} reference texts (the reference essays and the rubric's "
                                 f"statements and guidance, 15 for five factors); this corpus and rubric make {len(references)}. "
                                 "Keep fewer reference essays in the corpus.")
        self.min_run_words = min_run_words
        self.labels = dict(labels or {})
        self.reference_ids_ = tuple(sorted(references))
        self.vocabulary_: dict[str, int] = {}
        owners: dict[int, int] = defaultdict(int)  # window key -> bit mask of the references holding it
        for bit, ref_id in enumerate(self.reference_ids_):
            normalised = _normalised_words(references[ref_id])[1]
            ids = np.array([self.vocabulary_.setdefault(w, len(self.vocabulary_)) for w in normalised], dtype=np.int64)
            for key in _window_keys(ids, min_run_words).tolist():
                owners[key] |= 1 << bit
        self.keys_ = np.array(sorted(owners), dtype=np.uint64)
        self.owners_ = np.array([owners[k] for k in sorted(owners)], dtype=np.int64)

    def label(self, ref_id: str) -> str:
        return self.labels.get(ref_id, ref_id)

    def check(self, essay: str, flag_share: float = DEFAULT_FLAG_SHARE, essay_words: Words | None = None) -> CopyCheck:
        """How much of `essay` lies in runs shared with a reference, and where.

        `share` is the essay's words inside shared runs over all its words; `source` is
        the label of the reference sharing the most words; each passage is a merged run
        (`essay[start:end]` runs from its first word to its last) naming the reference
        that shares most of it. Flagged when `share >= flag_share`. `essay_words`: the
        essay's `word_spans`, when the caller has them already.
        """
        return self.check_groups(essay, {"all": set(self.reference_ids_)}, flag_share, essay_words)["all"]

    def check_groups(self, essay: str, groups: dict[str, set[str]], flag_share: float = DEFAULT_FLAG_SHARE,
                     essay_words: Words | None = None) -> dict[str, CopyCheck]:
        """`check` against each group of references separately (group name -> reference ids), in one pass over the essay."""
        n = self.min_run_words
        found, normalised = _normalised_words(essay_words or essay)
        total = len(normalised)
        if total < n:
            return {name: CopyCheck() for name in groups}
        # Words the references never use get ids of their own (negative), so no window with one matches.
        ids = np.array(list(map(self.vocabulary_.get, normalised, repeat(-1))), dtype=np.int64)
        unknown = np.flatnonzero(ids < 0)
        ids[unknown] = -1 - unknown
        keys = _window_keys(ids, n)
        where = np.minimum(np.searchsorted(self.keys_, keys), max(len(self.keys_) - 1, 0))
        present = (self.keys_[where] == keys) if len(self.keys_) else np.zeros(len(keys), dtype=bool)
        owners = np.where(present, self.owners_[where] if len(self.keys_) else 0, 0)
        by_reference: dict[str, np.ndarray] = {}
        if present.any():
            for bit, ref_id in enumerate(self.reference_ids_):
                hits = (owners >> bit) & 1 == 1
                if hits.any():
                    by_reference[ref_id] = _cover(hits, n, total)
        return {name: self._summary({r: c for r, c in by_reference.items() if r in members}, found, total, flag_share)
                for name, members in groups.items()}

    def _summary(self, by_reference: dict[str, np.ndarray], found, total: int, flag_share: float) -> CopyCheck:
        if not by_reference:
            return CopyCheck()
        covered = np.logical_or.reduce(list(by_reference.values()))
        totals = {ref_id: int(cover.sum()) for ref_id, cover in by_reference.items()}
        # Most shared words wins; ties go to the first id, so the answer is stable.
        rank = sorted(totals, key=lambda ref_id: (-totals[ref_id], ref_id))
        passages = []
        for first, end in _runs(covered.astype(np.uint8).tobytes()):
            source = max(rank, key=lambda ref_id: int(by_reference[ref_id][first:end].sum()))
            passages.append(CopiedPassage(found.starts[first], found.ends[end - 1], source=source))
        share = int(covered.sum()) / total
        return CopyCheck(
            flagged=share >= flag_share,
            source=self.label(rank[0]),
            share=share,
            passages=tuple(passages),
        )


MAX_REFERENCES = 63  # each window's owners are the bits of one int64

_HASH_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)  # odd 64-bit constant: windows of distinct ids mix well


def _window_keys(ids: np.ndarray, n: int) -> np.ndarray:
    """A 64-bit polynomial hash of each run of n consecutive word ids (window i: words i .. i + n - 1).

    Two different 8-word windows share a key with odds of about one in 2**64 per pair:
    far below any other error in marking.
    """
    if len(ids) < n:
        return np.zeros(0, dtype=np.uint64)
    words = ids.astype(np.uint64)
    keys = np.zeros(len(ids) - n + 1, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for k in range(n):
            keys = keys * _HASH_MULTIPLIER + words[k : len(ids) - n + 1 + k]
    return keys


def _cover(hits: np.ndarray, n: int, total: int) -> np.ndarray:
    """Words covered by the windows that hit: window i covers words i .. i + n - 1."""
    change = np.zeros(total + 1, dtype=np.int64)
    starts = np.flatnonzero(hits)
    np.add.at(change, starts, 1)
    np.add.at(change, starts + n, -1)
    return np.cumsum(change[:-1]) > 0


def _aligned_runs(a: _Words, b: _Words, n: int) -> list[tuple[int, int, int, int]]:
    """Runs where `a` and `b` share consecutive shingles, as word ranges (a0, a1, b0, b1).

    Each run follows one diagonal (a word i of `a` lines up with word j of `b`), so
    the two ranges always hold the same words in the same order.
    """
    where: dict[str, list[int]] = defaultdict(list)
    for j, key in enumerate(b.shingles):
        where[key].append(j)
    runs: list[list[int]] = []  # [a first shingle, a last shingle, b first shingle, b last shingle]
    open_runs: dict[int, int] = {}  # b shingle matched at the previous a shingle -> its run
    for i, key in enumerate(a.shingles):
        now: dict[int, int] = {}
        for j in where.get(key, ()):
            r = open_runs.get(j - 1)
            if r is None:
                runs.append([i, i, j, j])
                r = len(runs) - 1
            else:
                runs[r][1], runs[r][3] = i, j
            now[j] = r
        open_runs = now
    return [(a0, a1 + n, b0, b1 + n) for a0, a1, b0, b1 in runs]


def _passages(a: _Words, b: _Words, n: int) -> list[tuple[int, int, int, int]]:
    """Shared runs that do not overlap in `a`, merged where they continue in both texts.

    Longest runs are kept first; a run that repeats words already kept (text that
    appears twice in `b`) keeps only its new words.
    """
    runs = sorted(_aligned_runs(a, b, n), key=lambda r: (r[0] - r[1], r[0], r[2]))
    taken = bytearray(len(a.spans))
    kept: list[tuple[int, int, int, int]] = []
    for a0, a1, b0, _ in runs:
        for first, end in _runs(bytearray(not taken[i] for i in range(a0, a1))):
            kept.append((a0 + first, a0 + end, b0 + first, b0 + end))
        taken[a0:a1] = b"\x01" * (a1 - a0)
    merged: list[tuple[int, int, int, int]] = []
    for run in sorted(kept):
        if merged and merged[-1][1] == run[0] and merged[-1][3] == run[2]:
            merged[-1] = (merged[-1][0], run[1], merged[-1][2], run[3])
        else:
            merged.append(run)
    return merged


def _to_passage(a: _Words, b: _Words, run: tuple[int, int, int, int]) -> Passage:
    return Passage(*a.char_span(run[0], run[1]), *b.char_span(run[2], run[3]))


def shared_passages(a: str, b: str, min_run_words: int = DEFAULT_MIN_RUN_WORDS) -> list[Passage]:
    """Passages of `min_run_words` or more identical words in `a` and `b`, in order of `a`.

    `a[p.start:p.end]` and `b[p.other_start:p.other_end]` hold the same words.
    """
    _check_run_length(min_run_words)
    words_a, words_b = _read_words(a, min_run_words), _read_words(b, min_run_words)
    return [_to_passage(words_a, words_b, run) for run in _passages(words_a, words_b, min_run_words)]


def find_shared_pairs(
    essays: dict[str, str],
    min_run_words: int = DEFAULT_MIN_RUN_WORDS,
    min_shared_words: int = DEFAULT_MIN_SHARED_WORDS,
) -> list[SharedPair]:
    """Pairs of essays in a batch sharing at least `min_shared_words` words in long runs.

    Shingles are indexed to the essays holding them, so only essays that share a
    shingle are ever compared: near-linear in the batch's words, not in its pairs.
    Pairs come most-shared first; `first` sorts before `second`.
    """
    _check_run_length(min_run_words)
    ids = sorted(essays)
    words = {essay_id: _read_words(essays[essay_id], min_run_words) for essay_id in ids}
    holders: dict[str, list[str]] = defaultdict(list)
    for essay_id in ids:
        for key in set(words[essay_id].shingles):
            holders[key].append(essay_id)
    common: dict[tuple[str, str], int] = defaultdict(int)
    for holding in holders.values():
        for pair in combinations(holding, 2):
            common[pair] += 1

    pairs: list[SharedPair] = []
    for (first, second), count in common.items():
        if count * min_run_words < min_shared_words:  # each shingle covers at most n words
            continue
        a, b = words[first], words[second]
        runs = _passages(a, b, min_run_words)
        shared = sum(a1 - a0 for a0, a1, _, _ in runs)
        if shared >= min_shared_words:
            pairs.append(SharedPair(first, second, shared, tuple(_to_passage(a, b, run) for run in runs)))
    return sorted(pairs, key=lambda p: (-p.shared_words, p.first, p.second))


def copied_sentence_mask(
    sentence_spans: list[tuple[int, int]], check: CopyCheck, min_overlap: float = 0.5
) -> list[bool]:
    """For each sentence (char span), whether at least `min_overlap` of it is copied.

    Applies whether or not the essay is flagged: a pasted sentence earns no credit
    even in an essay that is mostly the student's own.
    """
    copied = sorted((p.start, p.end) for p in check.passages)
    mask = []
    for start, end in sentence_spans:
        if end <= start:
            mask.append(False)
            continue
        inside, reached = 0, start
        for p_start, p_end in copied:  # passages may touch; count each char once
            lo, hi = max(p_start, reached), min(p_end, end)
            if hi > lo:
                inside += hi - lo
                reached = hi
        mask.append(inside / (end - start) >= min_overlap)
    return mask
