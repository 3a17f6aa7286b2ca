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
from collections.abc import Collection
from dataclasses import dataclass
from itertools import chain, combinations, repeat

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
    if "'" not in "".join(found.words):  # most essays: one join in C spares a replace per word
        return found, found.words
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


def _run_edges(covered: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The first word and the end word of each maximal stretch of covered words (a bool per word)."""
    padded = np.zeros(len(covered) + 2, dtype=np.int8)  # a gap either side, so every stretch has both edges
    padded[1:-1] = covered
    edges = padded[1:] - padded[:-1]
    return np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)


def _runs(covered: np.ndarray) -> list[tuple[int, int]]:
    """Maximal stretches of covered words (a bool per word), as (first word, end word)."""
    starts, ends = _run_edges(covered)
    return list(zip(starts.tolist(), ends.tolist()))


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
        substitutions_in: Collection[str] | None = None,
    ):
        """`references`: id -> text; `labels`: id -> display name, e.g. "ref1 (001_e5895ce79723c7b0.txt)";
        `substitutions_in`: the references whose copies may hide behind a substituted word now and then
        (default: all of them), found as long runs of windows matching in all but one word."""
        _check_run_length(min_run_words)
        if len(references) > MAX_REFERENCES:
            raise RubricateError(f"The copy check holds at most {MAX_REFERENCES} reference texts (the reference essays and the rubric's "
                                 f"statements and guidance, 15 for five factors); this corpus and rubric make {len(references)}. "
                                 "Keep fewer reference essays in the corpus.")
        self.min_run_words = min_run_words
        self.labels = dict(labels or {})
        self.reference_ids_ = tuple(sorted(references))
        self.vocabulary_: dict[str, int] = {}
        tolerant = set(self.reference_ids_ if substitutions_in is None else substitutions_in)
        exact: list[tuple[np.ndarray, int]] = []  # each reference's window keys and its bit
        loose: list[tuple[np.ndarray, int]] = []  # the same with one word of each window left out, for `tolerant`
        for bit, ref_id in enumerate(self.reference_ids_):
            normalised = _normalised_words(references[ref_id])[1]
            ids = np.array([self.vocabulary_.setdefault(w, len(self.vocabulary_)) for w in normalised], dtype=np.int64)
            keys = _window_keys(ids, min_run_words)
            exact.append((keys, bit))
            if ref_id in tolerant:
                loose.append((_keys_missing_one_word(keys, ids, min_run_words, np.arange(len(keys))).ravel(), bit))
        self.windows_ = _KeyTable.build(exact)  # window key -> bit mask of the references holding it
        self.loose_windows_ = _KeyTable.build(loose)

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
        return self.check_many([essay], groups, flag_share, [essay_words or word_spans(essay)])[0]

    def check_many(self, essays: list[str], groups: dict[str, set[str]], flag_share: float = DEFAULT_FLAG_SHARE,
                   essays_words: list[Words] | None = None) -> list[dict[str, CopyCheck]]:
        """`check_groups` for each of a batch of essays (`essays_words`: their `word_spans`, when the caller has them).

        The batch's windows are looked up together, so an essay sharing nothing costs a slice of a few arrays; only
        the essays sharing windows with some reference are read further, all their references at once.
        """
        n = self.min_run_words
        essays_words = essays_words if essays_words is not None else [word_spans(essay) for essay in essays]
        normalised = [_normalised_words(found)[1] for found in essays_words]
        totals = [len(words) for words in normalised]
        ends = np.cumsum(totals)
        # Words the references never use get ids of their own (negative), so no window with one matches.
        ids = np.fromiter(map(self.vocabulary_.get, chain.from_iterable(normalised), repeat(-1)), dtype=np.int64, count=int(ends[-1]) if totals else 0)
        unknown = np.flatnonzero(ids < 0)
        ids[unknown] = -1 - unknown
        keys = _window_keys(ids, n)  # windows across two essays are looked up too, and never read
        owners = self.windows_.owners_of(keys)
        # Windows matching no reference exactly may match one in all but one word (a synonym put in its place):
        # near[k, j] holds the owners of window near_windows[j] with its word k left out. Only the few that match
        # some reference so are kept.
        open_windows = np.flatnonzero(owners == 0)
        near = self.loose_windows_.owners_of(_keys_missing_one_word(keys, ids, n, open_windows))
        matching = np.flatnonzero(np.bitwise_or.reduce(near, axis=0))
        near_windows, near = open_windows[matching], near[:, matching]
        checks = []
        for found, total, end in zip(essays_words, totals, ends.tolist()):
            first = end - total
            if total < n:
                checks.append({name: CopyCheck() for name in groups})
                continue
            near_range = slice(*np.searchsorted(near_windows, [first, end - n + 1]))
            by_reference = self._covered_by_reference(owners[first : end - n + 1], near_windows[near_range] - first,
                                                      near[:, near_range], total)
            checks.append({name: self._summary({r: c for r, c in by_reference.items() if r in members}, found, total, flag_share)
                           for name, members in groups.items()})
        return checks

    def _covered_by_reference(self, owners: np.ndarray, near_windows: np.ndarray, near: np.ndarray, total: int) -> dict[str, np.ndarray]:
        """Reference id -> the essay's words inside runs it shares with that reference, for the references sharing any.

        `owners`: each of the essay's windows' exact owners; `near[k, j]`: the owners of window `near_windows[j]`
        without its word k."""
        n = self.min_run_words
        sharing = int(np.bitwise_or.reduce(owners)) | int(np.bitwise_or.reduce(near, axis=None))  # references sharing a window
        if not sharing:
            return {}
        bits = [bit for bit in range(len(self.reference_ids_)) if (sharing >> bit) & 1]
        shifts = np.array(bits, dtype=np.int64)
        # One row per sharing reference: its exact windows, then (a rare word swapped) those missing one word.
        covered = _cover_rows((owners[np.newaxis, :] >> shifts[:, np.newaxis]) & 1 == 1, n, total)
        missing = (near[np.newaxis, :, :] >> shifts[:, np.newaxis, np.newaxis]) & 1 == 1  # reference x word left out x near window
        if missing.any():
            # One window missing a word is as likely a shared quotation as a copy; a long run of them is a copy.
            covered |= _long_runs(covered | _near_cover(near_windows, missing, n, total), round(SUBSTITUTED_RUN_FACTOR * n))
        return {self.reference_ids_[bit]: row for bit, row in zip(bits, covered) if row.any()}

    def _summary(self, by_reference: dict[str, np.ndarray], found, total: int, flag_share: float) -> CopyCheck:
        if not by_reference:
            return CopyCheck()
        totals = {ref_id: int(cover.sum()) for ref_id, cover in by_reference.items()}
        # Most shared words wins; ties go to the first id, so the answer is stable.
        rank = sorted(totals, key=lambda ref_id: (-totals[ref_id], ref_id))
        ranked = np.array([by_reference[ref_id] for ref_id in rank])
        covered = ranked.any(axis=0)
        firsts, ends = _run_edges(covered)
        # Each passage names the reference sharing most of its words (the first in rank on a tie: argmax takes the first).
        shared_before = np.zeros((len(rank), total + 1), dtype=np.int64)
        np.cumsum(ranked, axis=1, out=shared_before[:, 1:])
        sources = np.argmax(shared_before[:, ends] - shared_before[:, firsts], axis=0).tolist()
        passages = [CopiedPassage(found.starts[first], found.ends[end - 1], source=rank[source])
                    for first, end, source in zip(firsts.tolist(), ends.tolist(), sources)]
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


# A copy may swap a word for a synonym now and then ("every sixth word"): every window of it then misses a word,
# so windows matching in all but one word count, when they join into a run of at least this many times
# `min_run_words` words (12 for 8). A shared seven-word quotation makes such a run of nine words; a copied
# sentence of twenty words with a word changed in it, one of twenty. On the 386 labelled essays, runs of 10
# or more add no copied sentence; runs of 8 would add four, in three honest essays.
SUBSTITUTED_RUN_FACTOR = 1.5
_MISSING_WORD = np.uint64(2**63 + 0x5A17)  # the id standing for a left-out word: no word's id, known or unknown


def _keys_missing_one_word(keys: np.ndarray, ids: np.ndarray, n: int, windows: np.ndarray) -> np.ndarray:
    """For each position k < n, the key of each of `windows` (window numbers) with its word k replaced by
    `_MISSING_WORD` (shape n x len(windows)).

    The key is a polynomial in the window's ids, so each row is the full key plus one term: no window is hashed again.
    """
    words = ids.astype(np.uint64)
    rows = np.empty((n, len(windows)), dtype=np.uint64)
    with np.errstate(over="ignore"):
        power = np.uint64(1)
        for k in range(n - 1, -1, -1):  # word k's term is id * M ** (n - 1 - k)
            rows[k] = keys[windows] + (_MISSING_WORD - words[windows + k]) * power
            power = power * _HASH_MULTIPLIER
    return rows


def _near_cover(windows: np.ndarray, missing: np.ndarray, n: int, total: int) -> np.ndarray:
    """Words covered by windows matching in all but one word, per reference: `missing[r, k, j]` when window
    `windows[j]` matches reference row r without its word k. A word missed at a window's edge is the student's own
    word next to a copy, so it is left out; one missed inside is a substitution within the copy, so it is covered."""
    change = np.zeros((missing.shape[0], total + 1), dtype=np.int32)  # +1 where a covered stretch opens, -1 after it
    for flags, first, end in ((np.logical_or.reduce(missing[:, 1 : n - 1], axis=1), 0, n), (missing[:, 0], 1, n),
                              (missing[:, n - 1], 0, n - 1)):
        change[:, windows + first] += flags  # window starts are distinct, so each index is added to once
        change[:, windows + end] -= flags
    return np.cumsum(change[:, :-1], axis=1) > 0


@dataclass(frozen=True)
class _KeyTable:
    """Window keys and, for each, the bit mask of the references holding it; with a bitmap of the keys' top bits,
    so the many keys of an essay that no reference holds are turned away without a binary search."""

    keys: np.ndarray  # sorted, distinct
    owners: np.ndarray
    seen: np.ndarray  # seen[key >> _SEEN_SHIFT]: some key of the table starts with these bits

    @classmethod
    def build(cls, keyed: list[tuple[np.ndarray, int]]) -> "_KeyTable":
        """From each reference's key array and its bit."""
        keys = np.concatenate([k for k, _ in keyed] or [np.zeros(0, dtype=np.uint64)])
        bits = np.concatenate([np.full(len(k), 1 << bit, dtype=np.int64) for k, bit in keyed] or [np.zeros(0, dtype=np.int64)])
        distinct, where = np.unique(keys, return_inverse=True)
        owners = np.zeros(len(distinct), dtype=np.int64)
        np.bitwise_or.at(owners, where, bits)
        seen = np.zeros(1 << (64 - int(_SEEN_SHIFT)), dtype=bool)
        seen[distinct >> _SEEN_SHIFT] = True
        return cls(distinct, owners, seen)

    def owners_of(self, keys: np.ndarray) -> np.ndarray:
        """The owner bit mask of each key (0 for a key not in the table), any shape."""
        found = np.zeros(keys.shape, dtype=np.int64)
        maybe = self.seen[keys >> _SEEN_SHIFT]
        if maybe.any():  # then the table holds a key with the same top bits, so searchsorted finds a place inside it
            candidates = keys[maybe]
            order = np.argsort(candidates)
            where = np.empty(len(candidates), dtype=np.intp)
            # Sorted queries let searchsorted start each search where the last ended: several times faster.
            where[order] = np.minimum(np.searchsorted(self.keys, candidates[order]), len(self.keys) - 1)
            found[maybe] = np.where(self.keys[where] == candidates, self.owners[where], 0)
        return found


_SEEN_SHIFT = np.uint64(44)  # a bitmap of 2**20 top bits: ~2% of them set by a corpus of 20,000 keys


def _long_runs(covered: np.ndarray, min_words: int) -> np.ndarray:
    """`covered` (rows of a bool per word) keeping only its runs of at least `min_words` consecutive words."""
    padded = np.zeros((covered.shape[0], covered.shape[1] + 1), dtype=bool)  # a gap after each row, so no run joins two
    padded[:, :-1] = covered
    starts, ends = _run_edges(padded.ravel())
    change = np.zeros(padded.size + 1, dtype=np.int64)
    long = ends - starts >= min_words
    change[starts[long]] += 1
    change[ends[long]] -= 1
    return (np.cumsum(change[:-1]) > 0).reshape(padded.shape)[:, :-1]


def _cover_rows(windows: np.ndarray, n: int, total: int) -> np.ndarray:
    """Words covered by windows (rows of a bool per window start), each covering its n words."""
    change = np.zeros((windows.shape[0], total + 1), dtype=np.int32)  # +1 where a covered stretch opens, -1 after it
    change[:, : windows.shape[1]] += windows
    change[:, n : n + windows.shape[1]] -= windows
    return np.cumsum(change[:, :-1], axis=1) > 0


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
        for first, end in _runs(np.frombuffer(taken, dtype=np.uint8)[a0:a1] == 0):
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
