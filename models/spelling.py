"""Misspellings to the words the rubric and the corpus use, so "arrogent" counts as "arrogant".

A symmetric-delete index (the SymSpell idea): every known word is stored under
each spelling with one letter deleted, so a student's word finds its neighbours at
edit distance one with a few dictionary look-ups instead of a scan.
"""
from __future__ import annotations

from collections.abc import Iterable

MIN_FUZZY_LENGTH = 5  # shorter words have too many neighbours to guess safely


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


class Speller:
    """Maps a lower-cased word to the known word it most likely misspells (or itself)."""

    def __init__(self, known_words: Iterable[str], synonyms: dict[str, str] | None = None):
        self.known = {w for w in known_words if w.isalpha()}
        self.synonyms = dict(synonyms or {})
        self._by_delete: dict[str, set[str]] = {}
        for word in self.known:
            if len(word) >= MIN_FUZZY_LENGTH:
                for variant in _deletes(word) | {word}:
                    self._by_delete.setdefault(variant, set()).add(word)
        self._cache: dict[str, str] = {}
        # A word two or more letters longer than every known word is no edit away from one: it is left as it is without
        # a look-up per deleted letter (a pasted run of 190,000 letters took 6.7 s to read that way).
        self._longest = max((len(w) for w in self.known), default=0)

    def correct(self, word: str) -> str:
        cached = self._cache.get(word)
        if cached is None:
            cached = self._cache[word] = self._correct(word)
        return cached

    def _correct(self, word: str) -> str:
        if word in self.synonyms:
            return self.synonyms[word]
        if word in self.known or not MIN_FUZZY_LENGTH <= len(word) <= self._longest + 1 or not word.isalpha():
            return word
        candidates: set[str] = set()
        for variant in _deletes(word) | {word}:
            candidates |= self._by_delete.get(variant, set())
        # Same first letter: students rarely get it wrong, and it keeps "loyal" from becoming "royal".
        candidates = {c for c in candidates if c[0] == word[0] and _within_one_edit(word, c)}
        if not candidates:
            return word
        best = min(candidates, key=lambda c: (abs(len(c) - len(word)), c))
        return self.synonyms.get(best, best)


def _within_one_edit(a: str, b: str) -> bool:
    """One insertion, deletion, substitution or swap of neighbours turns a into b."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diffs = [i for i, (x, y) in enumerate(zip(a, b)) if x != y]
        if len(diffs) == 1:
            return True
        return len(diffs) == 2 and diffs[1] == diffs[0] + 1 and a[diffs[0]] == b[diffs[1]] and a[diffs[1]] == b[diffs[0]]
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1 :] == short for i in range(len(long_)))
