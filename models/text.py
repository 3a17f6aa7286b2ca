"""Text to sentences (with offsets into the original) to normalised word stems.

The one sentence splitter and the one normaliser of the project. Only NLTK parts
that need no downloaded data: the Punkt splitter with hand-set abbreviations and
the Snowball stemmer.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from nltk.stem.snowball import SnowballStemmer
from nltk.tokenize import RegexpTokenizer

# Sentences longer than this are cut at clause boundaries, so evidence stays readable
# and one run-on sentence cannot stand for a whole paragraph.
LONG_SENTENCE_WORDS = 25
MAX_SENTENCE_CHARS = 1200

_ABBREVIATIONS = {"mr", "mrs", "ms", "dr", "st", "gen", "col", "e.g", "i.e", "eg", "ie", "vs", "ca", "no", "vol", "pp", "jan", "feb", "aug", "sept", "oct", "nov", "dec"}
# NLTK's regexp tokenizer splits after ., ! or ? (and any closing quote) before whitespace;
# pieces ending in an abbreviation or an initial are joined again. Punkt did the same job
# here at four times the cost, with no training data to make it smarter.
_SPLITTER = RegexpTokenizer(r"(?:(?<=[.!?])|(?<=[.!?][\"'”’)\]]))\s+", gaps=True)
_STEMMER = SnowballStemmer("english")

_LINE = re.compile(r"[^\n]+")
_LIST_MARKER = re.compile(r"^\s*(?:[-*•▪◦·]+|\(?\d{1,2}[.)]|\(?[a-z][.)])\s+")
_CLAUSE_BREAK = re.compile(r"(?:[;:]|,)\s+(?=(?:and|but|so|which|because|while|whereas|as well as|however|and also|for example|meaning)\b)", re.I)
WORD_PATTERN = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*|\d{3,4}s?", re.UNICODE)

# Words that carry no point in any rubric (function words and essay scaffolding).
STOP_WORDS = frozenset(
    """a about above after again all also although am an and any are as at be because been before being
    below between both but by can could did do does doing down during each either else even ever every few for from
    further had has have having he her here hers herself him himself his how i if in into is it its itself just
    let me more most much my myself neither no nor not of off on once only or other ought our ours ourselves out
    over own same she should so some such than that the their theirs them themselves then there these they this
    those through to too under until up upon very was we were what when where which while who whom whose why will
    with within without would you your yours yourself yourselves
    essay reason reasons also firstly secondly thirdly finally conclusion think believe opinion important
    importance factor factors really quite many much lot lots thing things way ways one two first second third
    another however therefore thus though
    """.split()
)

# A point is a statement: it relates things. Without a tagger (which would need downloaded data)
# that is recognised by form: a finite verb (an auxiliary or modal, a common irregular past, a
# regular past in -ed, a present in -s after its subject: "he uses", "Stalin turns"), or, in
# note form, a relating word ("1923: triumvirate with Zinoviev against Trotsky"). A heading,
# a list of terms or a bare timeline entry ("1926 United Opposition") relates nothing.
_FINITE_VERBS = frozenset(
    """am is are was were be been being has have had having do does did can could will would shall should may might
    must became begun began beat bore brought built bought came caught chose dealt drew drove fell felt fought found
    fled forgot forbade gave got grew held hid hung kept knew laid lay led left lent let lost made meant met overcame
    overthrew overtook paid put ran rose said sat saw sent set showed shot sold sought spent spoke spread stood stole
    struck swept took taught told thought threw tore understood upheld went withdrew won wrote become becomes
    """.split()
)
_RELATING_WORDS = frozenset("with against because so therefore through via by".split())
_SUBJECTS = frozenset("he she it this that which who they we i you there".split())
_NOT_PAST = frozenset("red bed seed speed creed greed indeed hundred sacred naked wicked".split())


def is_statement(text: str) -> bool:
    """True when a sentence asserts or relates something; a heading, a list of terms or a bare date entry does not."""
    found = word_spans(text)
    return words_make_statement(text, found.words, found.starts, found.ends, 0)


def words_make_statement(text: str, lowered: list[str], starts: list[int], ends: list[int], sentence_start: int) -> bool:
    """`is_statement` for a sentence whose words (lower-cased, with their spans in `text`) are already found."""
    previous, previous_is_name = "", False
    for word, start, end in zip(lowered, starts, ends):
        capitalised = text[start].isupper()
        is_name = capitalised and start > sentence_start  # "the Left", "United Opposition": names, not verbs
        if not is_name and (word in _FINITE_VERBS or word in _RELATING_WORDS or word.endswith("n't")):
            return True
        if not is_name and len(word) > 3 and word.endswith("ed") and word not in _NOT_PAST:
            return True
        if (previous in _SUBJECTS or previous_is_name) and not is_name and len(word) > 2 and word.endswith("s") \
                and not word.endswith(("ss", "us", "is")) and text[end : end + 1] not in (":", ""):  # "Key words:" is a heading
            return True
        previous, previous_is_name = word, capitalised
    return False


@dataclass(frozen=True)
class Sentence:
    """A sentence of the essay; `essay[start:end] == text`."""

    text: str
    start: int
    end: int


def clean_control_characters(text: str) -> str:
    """Drop control characters other than newline and tab; unify line endings."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch)[0] != "C")


def split_sentences(essay: str) -> list[Sentence]:
    """Sentences with character offsets into `essay`.

    Lines are split first (bullet lists and headings are their own units), then
    each line at sentence ends; list markers are left out of the sentence, and
    run-on sentences are cut at clause boundaries.
    """
    sentences: list[Sentence] = []
    for line in _LINE.finditer(essay):
        base = line.start()
        text = line.group()
        marker = _LIST_MARKER.match(text)
        offset = marker.end() if marker else 0
        for start, end in _sentence_spans(text[offset:]):
            for piece_start, piece_end in _clauses(text, offset + start, offset + end):
                piece = essay[base + piece_start : base + piece_end]
                if any(ch.isalnum() for ch in piece):
                    sentences.append(Sentence(piece, base + piece_start, base + piece_end))
    return sentences


def _sentence_spans(line: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for start, end in _SPLITTER.span_tokenize(line):
        if spans and _ends_in_abbreviation(line[spans[-1][0] : spans[-1][1]]):
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))
    return spans


def _ends_in_abbreviation(piece: str) -> bool:
    if not piece.endswith(".") or piece.endswith(".."):
        return False
    parts = piece[:-1].rsplit(None, 1)
    word = parts[-1].lstrip("(\"'“‘[") if parts else ""
    return word.lower() in _ABBREVIATIONS or (len(word) == 1 and word.isalpha())


def _clauses(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Cut a long sentence at clause boundaries (and hard-cut a giant one), trimming spaces."""
    if end - start <= 2 * LONG_SENTENCE_WORDS:  # too short to hold more words: each needs a letter and a space
        return [(start, end)]
    span = text[start:end]
    if len(span.split()) <= LONG_SENTENCE_WORDS and len(span) <= MAX_SENTENCE_CHARS:
        return [(start, end)]
    cuts = [start]
    for match in _CLAUSE_BREAK.finditer(span):
        cut = start + match.end()
        if len(text[cuts[-1] : cut].split()) >= 8:
            cuts.append(cut)
    cuts.append(end)
    pieces: list[tuple[int, int]] = []
    for a, b in zip(cuts, cuts[1:]):
        while b - a > MAX_SENTENCE_CHARS:  # no clause break: cut at a space so nothing is lost
            cut = text.rfind(" ", a, a + MAX_SENTENCE_CHARS)
            cut = cut if cut > a else a + MAX_SENTENCE_CHARS
            pieces.append(_trim(text, a, cut))
            a = cut
        pieces.append(_trim(text, a, b))
    return [p for p in pieces if p[1] > p[0]]


def _trim(text: str, a: int, b: int) -> tuple[int, int]:
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    return a, b


APOSTROPHE_LOOK_ALIKES = ("‘", "’", "ʼ", "′", "`", "´")


@dataclass(frozen=True)
class Words:
    """The words of one text, lower-cased with apostrophes unified, and where each lies in it."""

    words: list[str]
    starts: list[int]
    ends: list[int]


def _unify_apostrophes(text: str) -> str:
    for look_alike in APOSTROPHE_LOOK_ALIKES:  # one char for one, so offsets hold
        if look_alike in text:
            text = text.replace(look_alike, "'")
    return text


def words(text: str) -> list[str]:
    """Lower-cased words (letters, apostrophes inside words) and years; apostrophe look-alikes unified."""
    return WORD_PATTERN.findall(_unify_apostrophes(text).lower())


def word_spans(text: str) -> Words:
    """`words(text)` with the character span of each word, found in one pass over the text."""
    unified = _unify_apostrophes(text)
    folded = unified.lower()
    if len(folded) == len(unified):
        matches = list(WORD_PATTERN.finditer(folded))
        found = [m.group() for m in matches]
    else:  # a rare letter whose lower case is longer: fold word by word so offsets hold
        matches = list(WORD_PATTERN.finditer(unified))
        found = [m.group().lower() for m in matches]
    return Words(found, [m.start() for m in matches], [m.end() for m in matches])


# Irregular verb forms to their base, since the stemmer cannot ("ran" ~ "run", "chose" ~ "choose").
# Forms that are also common nouns or adjectives here ("left", "bore", "lay", "found") are left alone.
_IRREGULAR_VERBS = {
    form: base
    for base, forms in {
        "begin": "began begun", "beat": "beaten", "bring": "brought", "build": "built", "buy": "bought",
        "catch": "caught", "choose": "chose chosen", "come": "came", "deal": "dealt", "draw": "drew drawn",
        "drive": "drove driven", "fall": "fell fallen", "fight": "fought", "flee": "fled", "forbid": "forbade forbidden",
        "forget": "forgot forgotten", "give": "gave given", "get": "got gotten", "go": "went gone", "grow": "grew grown",
        "hide": "hid hidden", "hold": "held", "keep": "kept", "know": "knew known", "lead": "led", "lend": "lent",
        "lose": "lost", "make": "made", "mean": "meant", "meet": "met", "overcome": "overcame", "overthrow": "overthrew overthrown",
        "overtake": "overtook overtaken", "pay": "paid", "rise": "rose risen", "run": "ran", "say": "said", "see": "saw seen",
        "seek": "sought", "sell": "sold", "send": "sent", "shake": "shook shaken", "shoot": "shot", "speak": "spoke spoken",
        "spend": "spent", "stand": "stood", "steal": "stole stolen", "strike": "struck stricken", "swear": "swore sworn",
        "sweep": "swept", "take": "took taken", "teach": "taught", "tell": "told", "think": "thought", "throw": "threw thrown",
        "understand": "understood", "uphold": "upheld", "win": "won", "withdraw": "withdrew withdrawn", "write": "wrote written",
        "feel": "felt", "sit": "sat", "stick": "stuck", "tear": "tore torn", "wear": "wore worn", "forgive": "forgave forgiven",
    }.items()
    for form in forms.split()
}


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """Snowball stem of one lower-cased word (irregular verb forms first to their base); cached because essays repeat their words."""
    if word.endswith("'s"):
        word = word[:-2]
    word = word.replace("'", "")
    return _STEMMER.stem(_IRREGULAR_VERBS.get(word, word))


def content_stems(text: str) -> list[str]:
    """The stems of the words that can carry a point (stop words dropped)."""
    return [stem(w) for w in words(text) if w not in STOP_WORDS and len(w) > 1]


def count_tokens(token_lists: list[list[str]], vocabulary: dict[str, int]) -> "sparse.csr_matrix":
    """Sentence x vocabulary counts of tokens (unknown tokens dropped): what CountVectorizer.transform gives for
    ready-made token lists, in one flat pass (3x faster than its per-document loop)."""
    import numpy as np
    from scipy import sparse

    lengths = np.fromiter(map(len, token_lists), dtype=np.int64, count=len(token_lists))
    from itertools import chain, repeat

    columns = np.fromiter(map(vocabulary.get, chain.from_iterable(token_lists), repeat(-1)), dtype=np.int64, count=int(lengths.sum()))
    rows = np.repeat(np.arange(len(token_lists)), lengths)
    known = columns >= 0
    return sparse.csr_matrix((np.ones(int(known.sum()), dtype=np.float32), (rows[known], columns[known])),
                             shape=(len(token_lists), len(vocabulary)))
