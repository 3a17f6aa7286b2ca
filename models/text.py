"""Text to sentences (with offsets into the original) to normalised word stems.

The one sentence splitter and the one normaliser of the project. Only NLTK's
Snowball stemmer, which needs no downloaded data; sentences are split by one
regular expression and a hand-set list of abbreviations.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate, islice
from pathlib import Path

from nltk.stem.snowball import SnowballStemmer

# Sentences longer than this are cut at clause boundaries, so evidence stays readable
# and one run-on sentence cannot stand for a whole paragraph.
LONG_SENTENCE_WORDS = 25
MAX_SENTENCE_CHARS = 1200

_ABBREVIATIONS = {"mr", "mrs", "ms", "dr", "st", "gen", "col", "e.g", "i.e", "eg", "ie", "vs", "ca", "no", "vol", "pp", "jan", "feb", "aug", "sept", "oct", "nov", "dec"}
# Sentences end at the whitespace after ., ! or ? (and any closing quote); pieces ending in an
# abbreviation or an initial are joined again. Punkt did the same job here at four times the
# cost, with no training data to make it smarter. The gap is group 1; matching from the stop
# (not looking behind from each space) lets the regex engine skip to the next stop in C.
# A footnote marker after the stop ("crucial.[1] It", "opponents.² Historians", "opponents.2 Historians", as text copied
# from the web or a word processor has them) stays with its sentence; the sentence still ends there. Every match
# starts at the stop: an alternative starting with a look-behind is tried at every character, seven times slower.
# One superscript digit at a time: "[¹²]+" inside the repeat backtracked exponentially on "a.¹¹¹…¹x".
_SENTENCE_END = re.compile(r"[.!?](?:[\"'”’)\]]?(?:\[\d{1,3}\]|[¹²³⁴⁵⁶⁷⁸⁹⁰])*|(?<=[^\W\d_][.!?])\d{1,2}(?=\s+[A-Z]))(\s+)")
_STEMMER = SnowballStemmer("english")

_LINE = re.compile(r"[^\n]+")
_INITIALS = re.compile(r"(?:[^\W\d_]\.)+[^\W\d_]")
_LETTER_OR_DIGIT = re.compile(r"[^\W_]")  # what str.isalnum accepts, found in C rather than a character at a time
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
_STATEMENT_WORDS = _FINITE_VERBS | _RELATING_WORDS
_SUBJECTS = frozenset("he she it this that which who they we i you there".split())
_DATE_MARKS = (":", "-", "–", "—")  # after a date, what follows is the event
_NOT_PAST = frozenset("red bed seed speed creed greed indeed hundred sacred naked wicked".split())


def is_statement(text: str, known_names: frozenset[str] = frozenset()) -> bool:
    """True when a sentence asserts or relates something; a heading, a list of terms or a bare date entry does not.
    `known_names`: lower-cased words written with a capital in ordinary type (the rubric's names and named terms)."""
    found = word_spans(text)
    return words_make_statement(text, found.words, found.starts, found.ends, 0, known_names)


def words_make_statement(text: str, lowered: list[str], starts: list[int], ends: list[int], sentence_start: int,
                         known_names: frozenset[str] = frozenset()) -> bool:
    """`is_statement` for a sentence whose words (lower-cased, with their spans in `text`) are already found."""
    previous, previous_is_name = "", False
    # A sentence typed in capitals ("STALIN WAS GENERAL SECRETARY") says nothing by its capitals, so it is read as it
    # would be in ordinary type: its first word and the names the rubric knows are capitalised, no other word is
    # ("TROTSKY'S MISTAKES MATTER MOST.", "1928: STALIN TURNS ON BUKHARIN.", "UNITED OPPOSITION").
    shouted = bool(starts) and text[sentence_start : ends[-1]].isupper()
    for k, (word, start, end) in enumerate(zip(lowered, starts, ends)):
        # Most words are in lower case, so neither capitalised nor a name: only a capital needs the tests below.
        capitalised = is_name = False
        if text[start].isupper():
            capitalised = not shouted or start == sentence_start or word in known_names
            # "the Left", "United Opposition": names, not verbs. A sentence's first word is capitalised anyway, so it is
            # a name only before another capitalised word ("Left Opposition" alone on a line).
            is_name = capitalised and (start != sentence_start or (k + 1 < len(starts) and text[starts[k + 1]].isupper()
                                                                     and not shouted))
        if not is_name:
            if word in _STATEMENT_WORDS:
                return True
            last = word[-1]  # the three endings below are told apart by their last letter
            if last == "t":
                if word.endswith("n't"):
                    return True
            elif last == "d":
                if len(word) > 3 and word[-2] == "e" and word not in _NOT_PAST:
                    return True
            elif last == "s" and len(word) > 2 and not word.endswith(("ss", "us", "is")) \
                    and text[end : end + 1] not in (":", ""):  # "Key words:" is a heading
                if previous in _SUBJECTS or previous_is_name:
                    return True
                # A dated note leaves its subject out: "1925: sides with Bukharin", "1922 onward - uses the Secretariat".
                if k > 0 and any(mark in text[ends[k - 1] : start] for mark in _DATE_MARKS) \
                        and any(c.isdigit() for c in text[sentence_start : ends[k - 1]]):
                    return True
        previous, previous_is_name = word, capitalised
    return False


# Notes rather than prose: "Term: definition", "Q: ...", "Trotsky - arrogant", or a chain of two links or more:
# "GS -> jobs -> votes", "Zinoviev + Kamenev / Bukharin". A head is at most four words before the mark.
_NOTE_HEAD = re.compile(r"^\W{0,3}(?:[^\s:=→–—]+\s+){0,3}[^\s:=→–—]+\s*(?::|=|->|→|\s[–—-]\s)\s*\S")
_NOTE_LINK = re.compile(r"\s(?:/|->|→|–|—|-|\+)\s|\s?(?:->|→)\s?")
# Every link above holds one of these characters, and every head one of the second (one search in C for each).
_NOTE_LINK_MARK = re.compile(r"[-/+→–—]")
_NOTE_HEAD_MARK = re.compile(r"[:=\-→–—]")


# A glossary entry written as a sentence: a head of a few words naming a term, then "is/was/means" and what it is
# ("2. The Secretariat was the office that kept the party's records.", "Patronage is the power to give jobs."), with no
# word saying what followed from it or weighing it ("because", "so", "but", "the main reason"): a definition names a
# term; it does not say how it helped.
_DEFINITION = re.compile(r"^\W{0,3}(?:\d{1,2}[.)]\s+)?(?:(?:the|an?)\s+)?[\"“‘']?(?P<head>[\w’'-]+(?:\s+[\w’'-]+){0,2})[\"”’']?\s+"
                         r"(?:(?:was|is|were|are)\s+(?:the|an?|[\w-]+['’]s)\s|(?:means|refers\s+to|is\s+defined\s+as)\s)", re.I)
_DEFINING_VERBS = frozenset("was is were are means refers".split())  # a definition's verb stands as a word of its own
_NOT_A_TERM = frozenset("this that it these those he she they there here another one which what his her their its such "
                        "reason reasons factor factors important importance most main biggest big first second third "
                        "greatest real basis threat thing problem key nobody everyone people thought why how".split())
_FOLLOWED = re.compile(r"\b(?:because(?!\s+of)|so|therefore|thus|hence|allow\w*|help\w*|enabl\w*|advantag\w*|benefit\w*|gave|let|lets|meant|"
                       r"meaning|led|result\w*|could|able|made\s+it|in\s+order|but|however|although|yet|while|whereas)\b", re.I)


def _is_definition(text: str) -> bool:
    match = _DEFINITION.match(text)
    return (match is not None and not _NOT_A_TERM.intersection(match.group("head").lower().split())
            and _FOLLOWED.search(text) is None)


_UNFINISHED = (",", ";", ":", "-", "–", "—")  # a clause the next sentence goes on from


def is_bare_definition(text: str, persons: re.Pattern) -> bool:
    """True for a whole sentence that only says what a term is and names nobody ("An alliance is an agreement between
    groups to work together.", "The Secretariat was the office that handled the party's paperwork."): the codebook gives
    defining a term no credit. `persons` finds the rubric's names and personal pronouns; a definition that names a
    person ("Lenin's Testament was a threat to Stalin.") may be making a point about them, so it is left to the judge."""
    return _is_definition(text) and _whole_and_names_nobody(text, persons)


def _whole_and_names_nobody(text: str, persons: re.Pattern) -> bool:
    """What makes a definition bare: the sentence does not run on into the next, and names no person."""
    return not text.rstrip().endswith(_UNFINISHED) and persons.search(text) is None


_PERSONAL_PRONOUNS = ("he", "him", "his", "himself", "she", "her", "herself", "they", "them", "their", "themselves")


# "This was lucky for Stalin.", "Stalin was lucky in this way.": a sentence that points back at the one before it
# says its something through that sentence.
_POINTS_BACK = re.compile(r"^\W*(?:this|that|these|which|such)\b|\b(?:in|by)\s+this\s+way\b|\bbecause\s+of\s+(?:this|that)\b", re.I)


def points_back(text: str) -> bool:
    """True when a sentence refers to the sentence before it for what it is about."""
    return _POINTS_BACK.search(text) is not None


def persons_pattern(names: list[str]) -> re.Pattern:
    """Finds a rubric's person names (with a possessive or plural ending) and personal pronouns."""
    alternatives = sorted({re.escape(name.lower()) for name in names} | set(_PERSONAL_PRONOUNS), key=len, reverse=True)
    return re.compile(r"\b(?:" + "|".join(alternatives) + r")(?:['’]s|s)?\b", re.I)


def is_note_shaped(text: str) -> bool:
    """True for a revision-note line (a glossary entry, a flashcard side, a mind-map branch), whatever it says:
    such lines are how term lists are written, so the judge weighs them (they make a point less often than prose).
    A glossary entry written as a full sentence is one too."""
    return _has_note_marks(text) or _is_definition(text)


def sentence_shapes(text: str, persons: re.Pattern, lowered: list[str] | None = None) -> tuple[bool, bool]:
    """(`is_note_shaped(text)`, `is_bare_definition(text, persons)`), reading the definition form once. `lowered`: the
    sentence's words (`word_spans`), when the caller has them: an ASCII sentence without a defining verb among them
    cannot be a definition, which spares most sentences the regular expression."""
    definition = (lowered is None or not text.isascii() or not _DEFINING_VERBS.isdisjoint(lowered)) and _is_definition(text)
    bare = definition and _whole_and_names_nobody(text, persons)
    return definition or _has_note_marks(text), bare


def _has_note_marks(text: str) -> bool:
    """A note's head ("Term: ...") or a chain of two links or more."""
    # Most sentences hold no note mark at all: looking for one first spares them the regex scans (3 of 4 µs a sentence).
    if _NOTE_HEAD_MARK.search(text) is not None and _NOTE_HEAD.match(text) is not None:
        return True
    return _NOTE_LINK_MARK.search(text) is not None and len(_NOTE_LINK.findall(text)) >= 2


# A sentence that opens with its date ("In 1922 Stalin became General Secretary.", "1926 – ...") is how a narrative
# tells events, which may or may not say why they mattered.
_DATED_START = re.compile(r"^\W{0,3}(?:(?:in|by|on|from|during|after|until|at the end of)\s+)?(?:(?:early|late|mid)[- ]?)?"
                          r"(?:\d{1,2}(?:st|nd|rd|th)?\s+)?(?:(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+)?\d{4}\b", re.I)


def opens_with_date(text: str) -> bool:
    return _DATED_START.match(text) is not None


@dataclass(frozen=True)
class Sentence:
    """A sentence of the essay; `essay[start:end] == text`."""

    text: str
    start: int
    end: int


# Printable ASCII, newline and tab are never control characters, nor are Latin-1's letters and signs (but the soft
# hyphen, U+00AD, is a format character) or the general punctuation essays are full of (dashes, curly quotes, bullets,
# ellipses; U+2010-2027, U+2030-205E): the regex engine skips them in C, and only the rest is looked up one by one.
_MAYBE_CONTROL = re.compile(r"[^\n\t\x20-\x7e\u00a0-\u00ac\u00ae-\u00ff\u2010-\u2027\u2030-\u205e]+")


def clean_control_characters(text: str) -> str:
    """Drop control characters other than newline and tab (Unicode category C: control, format such as
    U+200F, surrogate, private use, unassigned); unify line endings."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _MAYBE_CONTROL.sub(_without_controls, text)


def _without_controls(match: re.Match) -> str:
    return "".join(ch for ch in match.group() if unicodedata.category(ch)[0] != "C")


# Hard-wrapped text (a PDF's text layer, an email, an editor set to wrap) is rejoined into
# paragraphs. A run of lines whose longest is at most MAX_WRAP_WIDTH characters was wrapped at
# about that width; lines longer than that are typed paragraphs, one per line, and stay apart.
MIN_WRAP_WIDTH = 25
MAX_WRAP_WIDTH = 160
# A wrapped text has at least this many lines filled to within a fifth of its width; three when
# that width is under 40 characters, where lines typed one by one are as long.
FULL_LINES = 2
ONE_WORD_LINES = 8  # this many lines in a row of one word each are one paragraph typed a word per line
# A line that starts an item of its own: a bullet or number, or a note label ("E: ...", "P: ...");
# in a timeline, a date entry ("1922-23 - ...", "1924: ...") starts the next entry.
_NEW_ITEM = re.compile(_LIST_MARKER.pattern + r"|^\s*[A-Z]{1,2}:\s")
_TIMELINE_ENTRY = re.compile(r"^\s*\d{3,4}(?:\s*[-–/]\s*\d{2,4})?\s*[-–:]\s")
_GOES_ON = frozenset("a an the and or but nor of to in on at by for with from as than that which who whose his her its their was were is are had has have".split())


def rejoin_wrapped_lines(text: str) -> str:
    """`text` with each newline that only wraps a paragraph replaced by a space, one character for
    one, so offsets into the result are offsets into `text`.

    The wrap width is the longest line of at most MAX_WRAP_WIDTH characters (a text with fewer than
    FULL_LINES lines near that width is not wrapped). A line is joined to the next when both fit
    that width and the next line's first word would not have fitted on it (so the wrap, not the
    writer, ended it). A blank line, an indented line, a bullet or numbered
    line, a heading or a short line ends a paragraph; each bullet or numbered item starts a line of
    its own (its wrapped continuation, indented or not, is joined to it).
    """
    if "\n" not in text:
        return text
    lines = [line.rstrip() for line in text.split("\n")]
    joined = [False] * len(lines)  # joined[k]: the newline after lines[k] becomes a space
    width = max((len(line) for line in lines if len(line) <= MAX_WRAP_WIDTH), default=0)
    if sum(0.8 * width < len(line) <= width for line in lines) < FULL_LINES + (width < 40):
        width = 0  # a few short lines typed one by one, not a wrapped text
    first = 0
    while first < len(lines):
        last = first
        while last + 1 < len(lines) and lines[last].strip() and lines[last + 1].strip():
            last += 1
        if last > first:
            _join_run(lines, first, last, width, joined)
        first = last + 1
    pieces = text.split("\n")
    return "".join(piece + (" " if joined[k] else "\n") for k, piece in enumerate(pieces))[:-1]


def _join_run(lines: list[str], first: int, last: int, width: int, joined: list[bool]) -> None:
    """Mark the wrapping newlines of one run of non-blank lines, lines[first..last]."""
    run = lines[first : last + 1]
    if len(run) >= ONE_WORD_LINES and all(len(line.split()) == 1 and not _NEW_ITEM.match(line) for line in run):
        joined[first:last] = [True] * (last - first)
        return
    if width < MIN_WRAP_WIDTH:
        return
    in_item = in_timeline = False  # lines[k] is (or wraps) a bullet, numbered item or label; a timeline entry
    for k in range(first, last):
        line, after = lines[k], lines[k + 1]
        continued = k > first and joined[k - 1]
        in_item = bool(_NEW_ITEM.match(line)) or (in_item and continued)
        in_timeline = bool(_TIMELINE_ENTRY.match(line)) or (in_timeline and continued)
        # A bracket left open ("his Testament (Dec" / "1922 - Jan 1923).") is closed on the next line: no new item there.
        if (_NEW_ITEM.match(after) or (in_timeline and _TIMELINE_ENTRY.match(after))) and line.count("(") <= line.count(")"):
            continue  # the next item
        if (after[0].isspace() and not in_item) or len(after) > width:
            continue  # an indented new paragraph; a typed paragraph
        if not continued and not in_item and not in_timeline and _is_heading(line, after):
            continue
        joined[k] = len(line) + 1 + len(after.split(None, 1)[0]) > width


def _is_heading(line: str, after: str) -> bool:
    """Whether a paragraph's first line is a heading over the next, not the start of a wrapped sentence:
    no closing punctuation, the next line starts with a capital, and either that capital starts a
    sentence ("In 1922 ...") or the line has no verb ("Socialism in One Country")."""
    if line.endswith((".", "!", "?", ":", ";", ",", "-", "–", "—")) or not after.lstrip()[:1].isupper():
        return False
    if "," in line or ": " in line:  # "Order of importance: 1st luck, 2nd" runs on; a heading is one phrase
        return False
    line_words, next_word = words(line), words(after.split(None, 1)[0])
    if line_words[-1:] and line_words[-1] in _GOES_ON:  # "... the grey blur and" goes on
        return False
    # "I" is capitalised mid-sentence too, so it says nothing about a new sentence starting.
    if next_word[:1] and next_word[0] in STOP_WORDS and next_word[0] != "i" and not next_word[0].startswith("i'"):
        return True
    return not any(word in _FINITE_VERBS or word.endswith("n't") or (len(word) > 3 and word.endswith("ed") and word not in _NOT_PAST)
                   for word in line_words)


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
                if _LETTER_OR_DIGIT.search(piece):
                    sentences.append(Sentence(piece, base + piece_start, base + piece_end))
    return sentences


def _sentence_spans(line: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for start, end in _pieces(line):
        if spans and _ends_in_abbreviation(line[spans[-1][0] : spans[-1][1]], line[start:end]):
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))
    return spans


def _pieces(line: str) -> list[tuple[int, int]]:
    """The non-empty stretches of `line` between sentence gaps, as (start, end)."""
    pieces, start = [], 0
    for end in _SENTENCE_END.finditer(line):
        if end.start(1) != start:
            pieces.append((start, end.start(1)))
        start = end.end()
    if start != len(line):
        pieces.append((start, len(line)))
    return pieces


def _ends_in_abbreviation(piece: str, following: str) -> bool:
    """Whether `piece` stops at an abbreviation or an initial rather than at its sentence's end."""
    if not piece.endswith(".") or piece.endswith(".."):
        return False
    parts = piece[:-1].rsplit(None, 1)
    word = parts[-1].lstrip("(\"'“‘[") if parts else ""
    # An abbreviation ("Jan. 1924"), an initial or initials with stops ("E. H. Carr", "E.H. Carr", "A.J.P. Taylor", "the
    # U.S.S.R. was") goes on to a name, a number or a lower-case word; before a capitalised function word a sentence has
    # ended ("leader of the U.S.S.R. He", "and so did I. This", "died in Jan. The").
    if word.lower() in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()) or _INITIALS.fullmatch(word):
        first = following.split(None, 1)[0].lstrip("\"'“‘(") if following.strip() else ""
        return not (first[:1].isupper() and first.lower() in STOP_WORDS)
    return False


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

# Letters of other alphabets and fonts that look like ASCII ones (Cyrillic "а", Greek "ο", fullwidth "Ｓ"), from
# Unicode TR39's confusables; see the data file's header. Each is read as its ASCII letter, one char for one.
LOOK_ALIKES_PATH = Path(__file__).resolve().parent.parent / "data" / "look_alikes" / "look_alikes.tsv"


def _load_look_alikes(path: Path) -> tuple[dict[int, int], frozenset[str]]:
    """The str.translate table of `path`, and its letters from alphabets other than Latin (Cyrillic, Greek, …)."""
    table: dict[int, int] = {}
    foreign: set[str] = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            code, ascii_char, alphabet, _ = line.split("\t", 3)
            table[int(code, 16)] = ord(ascii_char)
            if alphabet != "Latin":
                foreign.add(chr(int(code, 16)))
    return table, frozenset(foreign)


_LOOK_ALIKES, _FOREIGN_LOOK_ALIKES = _load_look_alikes(LOOK_ALIKES_PATH)
_LOOK_ALIKE_LETTERS = frozenset(map(chr, _LOOK_ALIKES))


@dataclass(frozen=True)
class Words:
    """The words of one text, lower-cased with apostrophes unified and look-alike letters read as
    ASCII, and where each lies in it."""

    words: list[str]
    starts: list[int]
    ends: list[int]
    mixed_script: int = 0  # words mixing Latin letters with look-alike letters of another alphabet ("Stаlin")


def _unify_apostrophes(text: str) -> str:
    return _replaced(text, APOSTROPHE_LOOK_ALIKES, "'")


def _replaced(text: str, marks, by: str) -> str:
    """`text` with each of `marks` (single characters) replaced by `by`, one char for one, so offsets hold: a search and
    a replace per mark present (str.translate is 80 times slower)."""
    for mark in marks:
        if mark in text:
            text = text.replace(mark, by)
    return text


def words(text: str) -> list[str]:
    """Lower-cased words (letters, apostrophes inside words) and years; apostrophe and letter look-alikes unified."""
    if text.isascii():
        return WORD_PATTERN.findall(_unify_apostrophes(text).lower())
    return word_spans(text).words


def count_words(text: str, at_most: int) -> int:
    """`len(words(text))`, counting no further than `at_most` (enough to tell an essay is not too short)."""
    return sum(1 for _ in islice(WORD_PATTERN.finditer(_unify_apostrophes(text)), at_most))


# Split at words kept as pieces: gap, word, gap, word, ..., gap. Adding up the pieces' lengths gives every
# word's span with no match object made (half the time of finditer and reading each match's span).
_WORD_PIECES = re.compile(f"({WORD_PATTERN.pattern})")
# The same for lower-case ASCII text, where a letter is a-z: plain ranges, a third faster than Unicode's classes.
_ASCII_WORD_PIECES = re.compile(r"([a-z]++(?:'[a-z]++)*+|[0-9]{3,4}+s?+)")  # possessive: nothing after a word needs it back
# Curly double quotes, dashes, ellipses, guillemets, bullets and non-breaking spaces only ever separate words, so
# read as spaces (one char for one) they leave an essay that is otherwise ASCII on the faster pattern.
WORD_SEPARATING_PUNCTUATION = "\u201c\u201d\u201e\u2013\u2014\u2015\u2026\u00ab\u00bb\u00a0\u2009\u202f\u2022"


def word_spans(text: str) -> Words:
    """`words(text)` with the character span of each word, found in one pass over the text."""
    unified = _unify_apostrophes(text)
    folded = unified.lower()
    if len(folded) == len(unified):
        plain = folded if folded.isascii() else _replaced(folded, WORD_SEPARATING_PUNCTUATION, " ")
        pieces = _ASCII_WORD_PIECES.split(plain) if plain.isascii() else _WORD_PIECES.split(folded)
        found = pieces[1::2]
        piece_ends = list(accumulate(map(len, pieces)))
        starts, ends = piece_ends[0:-1:2], piece_ends[1::2]
    else:  # a rare letter whose lower case is longer: fold word by word so offsets hold
        matches = list(WORD_PATTERN.finditer(unified))
        found = [m.group().lower() for m in matches]
        starts, ends = [m.start() for m in matches], [m.end() for m in matches]
    if "".join(found).isascii():  # one cheap test spares ordinary essays (curly quotes and dashes are not words)
        return Words(found, starts, ends)
    return Words(found, starts, ends, _read_look_alikes(unified, found, starts, ends))


def _read_look_alikes(text: str, found: list[str], starts: list[int], ends: list[int]) -> int:
    """Read look-alike letters as ASCII in `found` (in place): "Stаlin" with a Cyrillic "а" is "stalin".

    Only in a word whose every letter from another alphabet has a look-alike; a word with others ("Сталин")
    is another language and stays as written. Look-alikes replace letters one for one (a letter for a letter,
    a digit for a digit), so words keep their spans. Returns how many words mix Latin letters with
    look-alikes from another alphabet.
    """
    mixed = 0
    for i, word in enumerate(found):
        written = text[starts[i] : ends[i]]
        if word.isascii() or _LOOK_ALIKE_LETTERS.isdisjoint(written):
            continue
        read = written.translate(_LOOK_ALIKES).lower()
        if not all(ch.isascii() or not ch.isalpha() or unicodedata.name(ch, "").startswith("LATIN") for ch in read):
            continue  # a letter of another alphabet with no look-alike: a foreign word
        found[i] = read
        if not _FOREIGN_LOOK_ALIKES.isdisjoint(written) and any(ch.isascii() and ch.isalpha() for ch in written):
            mixed += 1
    return mixed


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


# American spellings to British ones, so "maneuvered", "capitalized" and "the Lenin Enrollment" are the words the rubric,
# the corpus and most training essays use. Only the stem is changed, and every text goes through the same mapping.
_AMERICAN_WORDS = {
    "defense": "defence", "defenses": "defences", "defenseless": "defenceless", "offense": "offence", "offenses": "offences",
    "pretense": "pretence", "center": "centre", "centers": "centres", "centered": "centred", "centering": "centring",
    "theater": "theatre", "theaters": "theatres", "judgment": "judgement", "judgments": "judgements",
    "enrollment": "enrolment", "enrollments": "enrolments", "program": "programme", "programs": "programmes",
}
_AMERICAN_OR = ("favor", "honor", "labor", "behavior", "rumor", "color", "neighbor", "vigor", "humor", "endeavor",
                "valor", "harbor", "armor", "savior", "fervor", "rigor", "splendor", "clamor", "candor", "ardor")
_AMERICAN_IZE = re.compile(r"(?<=\w{3})[iy]z(?=(?:e|es|ed|er|ers|ing|ation|ations)$)")


def british_spelling(word: str) -> str:
    """The British spelling of a lower-cased American one ("maneuvered" -> "manoeuvred"); other words unchanged."""
    if word in _AMERICAN_WORDS:
        return _AMERICAN_WORDS[word]
    if "maneuver" in word:
        return word.replace("maneuver", "manoeuvre").replace("manoeuvree", "manoeuvre").replace("manoeuvrei", "manoeuvri")
    if "z" in word:
        word = _AMERICAN_IZE.sub(lambda m: m.group()[0] + "s", word)
    for american in _AMERICAN_OR:
        if word.startswith(american):
            return american[:-2] + "our" + word[len(american):]
    if word.startswith("skeptic"):
        return "sceptic" + word[7:]
    return word


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """Snowball stem of one lower-cased word (British spelling, irregular verb forms to their base first); cached because
    essays repeat their words."""
    if word.endswith("'s"):
        word = word[:-2]
    word = british_spelling(word.replace("'", ""))
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
