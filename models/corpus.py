"""The reference corpus: cleaned model answers to one question, read from a folder.

A corpus folder holds `manifest.yaml` (id, title and source file of each essay)
and one `.txt` per essay, paragraphs separated by blank lines. Folders are built
from raw pasted web pages by `build_corpus_from_seeds`, which runs each page
through `clean_reference_text` so website clutter never reaches the engine.

    python -m models.corpus build SEED_DIR OUT_DIR [--title SOURCE_FILE=TITLE ...]
"""
from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import yaml

from models.errors import RubricateError
from models.text import clean_control_characters, split_sentences

MANIFEST = "manifest.yaml"
ESSAY_FIELDS = ("id", "title", "source_file")
ESSAY_ID = re.compile(r"[A-Za-z0-9_-]+")


@dataclass(frozen=True)
class ReferenceEssay:
    id: str
    title: str
    source_file: str  # the raw page it was cleaned from, so a tutor can trace a quoted excerpt
    text: str  # body only (the heading is the title); paragraphs separated by blank lines


@dataclass(frozen=True)
class Corpus:
    path: Path
    essays: tuple[ReferenceEssay, ...]

    def by_id(self, essay_id: str) -> ReferenceEssay:
        for essay in self.essays:
            if essay.id == essay_id:
                return essay
        raise KeyError(f"No reference essay '{essay_id}' in corpus {self.path}; ids: {', '.join(e.id for e in self.essays)}")


# ------------------------------------------------------------------ loading
def load_corpus(folder: Path) -> Corpus:
    """Read a corpus folder (manifest.yaml + one text file per essay) into a Corpus.

    Every problem a tutor can cause (missing folder, broken manifest, missing or
    empty essay file, repeated id) raises RubricateError naming the path.
    """
    folder = Path(folder)
    manifest_path = folder / MANIFEST
    if not folder.is_dir():
        raise RubricateError(f"Corpus folder {folder} does not exist or is not a folder. Point the rubric's 'corpus' field at a folder holding {MANIFEST} and the reference essays.")
    if not any(folder.iterdir()):
        raise RubricateError(f"Corpus folder {folder} is empty. Build it with: python -m models.corpus build SEED_DIR {folder}")
    if not manifest_path.is_file():
        raise RubricateError(f"Corpus folder {folder} has no {MANIFEST}. Add one listing each essay's id, title and source_file (see corpus/README.md).")
    try:
        manifest = yaml.safe_load(manifest_path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError, OSError) as err:
        raise RubricateError(f"Corpus manifest {manifest_path} cannot be read as YAML ({err}). Fix the file or rebuild the corpus.") from None
    entries = manifest.get("essays") if isinstance(manifest, dict) else None
    if not isinstance(entries, list) or not entries:
        raise RubricateError(f"Corpus manifest {manifest_path}: expected a non-empty list under 'essays', each with {', '.join(ESSAY_FIELDS)}.")

    essays: list[ReferenceEssay] = []
    seen: set[str] = set()
    for number, entry in enumerate(entries, 1):
        where = f"Corpus manifest {manifest_path}, essay {number}"
        if not isinstance(entry, dict):
            raise RubricateError(f"{where}: expected a mapping with {', '.join(ESSAY_FIELDS)}.")
        values = {}
        for name in ESSAY_FIELDS:
            value = entry.get(name)
            if not isinstance(value, str) or not value.strip():
                raise RubricateError(f"{where}: field '{name}' is missing or empty; give it a text value.")
            values[name] = value.strip()
        essay_id = values["id"]
        if not ESSAY_ID.fullmatch(essay_id):
            raise RubricateError(f"{where}: id '{essay_id}' must be letters, digits, '-' or '_' (it names the file <id>.txt).")
        if essay_id in seen:
            raise RubricateError(f"{where}: id '{essay_id}' is used twice; give each essay its own id.")
        seen.add(essay_id)
        text = _read_essay(folder / f"{essay_id}.txt", essay_id, manifest_path)
        essays.append(ReferenceEssay(essay_id, values["title"], values["source_file"], text))
    return Corpus(folder, tuple(essays))


def _read_essay(path: Path, essay_id: str, manifest_path: Path) -> str:
    if not path.is_file():
        raise RubricateError(f"Corpus manifest {manifest_path} lists essay '{essay_id}', but {path} does not exist. Add the file or remove the entry.")
    try:
        text = path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError) as err:
        raise RubricateError(f"Reference essay {path} cannot be read as UTF-8 text ({err}). Save it as plain UTF-8 text.") from None
    if not text.strip():
        raise RubricateError(f"Reference essay {path} is empty. Paste the essay text into it or remove '{essay_id}' from {manifest_path.name}.")
    return text.strip()


# ----------------------------------------------------------------- cleaning
# Whole lines that are website furniture, not essay: navigation, calls to action,
# view counts, tutor credits, cookie banners. Matched against one stripped line;
# add a pattern here when a new site's clutter gets through.
CLUTTER_LINES = tuple(
    re.compile(pattern, re.I)
    for pattern in (
        r"^authors? avatar$",
        r"^(join now|sign up|log in|register|subscribe|download|read more|continue reading|print|share)\b.{0,30}$",
        r"^this is a preview\b",
        r"^(page|part) \d+ of \d+$",
        r"^[\d,.]+k?\s+(views?|reads?|downloads?|words?)$",
        r"^(word count|views?|rating)\s*:\s*[\d,.]+$",
        r"^answered by\b",
        r"^see (similar|more)\b.*\b(tutors?|answers?|essays?)$",
        r"^all (answers|questions|essays)\b\W*$",
        r"^we'?re here to help\b",
        r"^cookie (preferences|settings|policy)\b",
        r"^(advertisement|sponsored)$",
    )
)
# Contact bars and social links run icon names into the next word ("iconContact us", "Facebook logoInstagram").
ICON_LINE = re.compile(r"\b(?:[Ii]con|[Ll]ogo)(?![a-z])")
# A "Related ... answers" header starts a list of other questions' titles, dropped with it.
RELATED_HEADER = re.compile(r"^related\b.*\b(answers|questions|essays|documents|posts|articles)$", re.I)
URL = re.compile(r"(?:\b(?:see|source|via)\b:?\s*)?(?:https?://|www\.)\S+", re.I)
# International (+44 ...), trunk-prefixed (020 ...) or US-style numbers; years and vote counts never match.
PHONE = re.compile(r"(?:\+\d{1,3}[ \t]*(?:\(0\)[ \t]*)?|\b0)\d[\d \t.-]{6,}\d|\(\d{3}\)[ \t]*\d{3}[-. ]\d{4}|\b\d{3}[-.]\d{3}[-.]\d{4}\b")
# A Q&A-site correction: an earlier answer in quotes, then "Edit:" and remarks about that answer.
EDIT_NOTE = re.compile(r'^(?P<quote>["“][^"“”]+["”])?\s*Edit:\s*', re.I)
REMARK_ON_ANSWER = re.compile(r"\b(this|that|the above|the previous) (answer|post|reply)\b|\b(is|was)( \w+)* (wrong|incorrect|false)\b", re.I)
CALLED_WRONG = re.compile(r"\b(wrong|incorrect|false)\b", re.I)
CUT_OFF = re.compile(r"(\.\.\.|…)\W*$")
SENTENCE_END = re.compile(r"[.!?][\"'”’)\]]*$")
WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")
# An answer that names someone this often is about them, not a passing mention.
OFF_SUBJECT_MENTIONS = 3


def clean_reference_text(raw: str) -> str:
    """A raw pasted web page -> the essay's own paragraphs, separated by blank lines.

    Drops navigation and footer lines, URLs, phone numbers, "Related answers"
    lists, Q&A-site remarks on other answers (and the wrong answer they quote),
    answers about someone else, and a preview's cut-off last sentence. A heading
    stays as the first paragraph; `split_title` takes it off.
    """
    text = _tidy(raw)
    # Q&A pages put one answer per line with no blank lines; essays separate paragraphs with them.
    answer_list = "\n\n" not in text
    lines = [line for line in _drop_related_lists(_paragraph_lines(text)) if not _is_clutter_line(line)]
    paragraphs = [p for p in (_strip_edit_note(line) for line in lines) if p]
    if answer_list:
        paragraphs = _drop_answers_about_someone_else(paragraphs)
    if paragraphs:
        paragraphs[-1] = _drop_cut_off_sentence(paragraphs[-1])
    return "\n\n".join(p for p in paragraphs if p)


def split_title(cleaned: str) -> tuple[str | None, str]:
    """(heading, body) of cleaned text; the first paragraph is a heading when short and not ending like a sentence.

    A page's title is often followed by the essay's own heading, the question it answers ("Why did Stalin rather than
    Trotsky emerge as the leader of the USSR in 1929..."): that is left out of the body too, or a student who writes
    the question out as a title is told the title repeats a reference essay word for word."""
    first, _, rest = cleaned.partition("\n\n")
    if rest and len(first.split()) <= 20 and not first.endswith((".", ":", ";", ",")):
        return first, _without_question_heading(rest)
    return None, cleaned


QUESTION_HEADING = re.compile(r"(?:why|how|what|to what extent)\b[^.?!]*(?:\?|\.+)?", re.I)
QUESTION_HEADING_WORDS = 30


def _without_question_heading(body: str) -> str:
    """`body` without its first paragraph when that is one short question-shaped line and an essay follows it."""
    first, _, rest = body.partition("\n\n")
    if rest and len(first.split()) <= QUESTION_HEADING_WORDS and QUESTION_HEADING.fullmatch(first):
        return rest
    return body


def _tidy(raw: str) -> str:
    """Unified line endings and spaces, URLs and phone numbers cut out, blank lines collapsed."""
    text = clean_control_characters(raw).replace("\u00a0", " ")
    text = PHONE.sub("", URL.sub("", text))
    lines = [re.sub(r"[ \t]+", " ", line).strip() for line in text.split("\n")]
    # Pasted answers sometimes run sentences together ("in 1953.Party and State ...").
    lines = [re.sub(r"(?<=[a-z0-9][.!?])(?=[A-Z][a-z])", " ", line) for line in lines]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _paragraph_lines(text: str) -> list[str]:
    """One paragraph per line; a hard-wrapped line is joined to the line it continues."""
    lines: list[str] = []
    for block in text.split("\n\n"):
        block_lines: list[str] = []
        for line in block.split("\n"):
            if block_lines and line[:1].islower() and not SENTENCE_END.search(block_lines[-1]):
                block_lines[-1] += " " + line
            else:
                block_lines.append(line)
        lines += block_lines
    return [line for line in lines if line]


def _is_clutter_line(line: str) -> bool:
    return any(pattern.search(line) for pattern in CLUTTER_LINES) or bool(ICON_LINE.search(line))


def _drop_related_lists(lines: list[str]) -> list[str]:
    kept: list[str] = []
    in_list = False
    for line in lines:
        if RELATED_HEADER.search(line):
            in_list = True
        elif in_list and (line.endswith("?") or _is_clutter_line(line)):
            pass  # another question's title, or the list's "All answers" link
        else:
            in_list = False
            kept.append(line)
    return kept


def _strip_edit_note(paragraph: str) -> str:
    """Drop an "Edit:" note's remarks on another answer, and the quoted answer when the note calls it wrong."""
    note = EDIT_NOTE.match(paragraph)
    if not note:
        return paragraph
    sentences = [s.text for s in split_sentences(paragraph[note.end() :])]
    remarks = 0
    while remarks < len(sentences) and REMARK_ON_ANSWER.search(sentences[remarks]):
        remarks += 1
    called_wrong = any(CALLED_WRONG.search(s) for s in sentences[:remarks])
    kept = sentences[remarks:]
    if note.group("quote") and not called_wrong:
        kept.insert(0, note.group("quote"))
    return " ".join(kept)


def _drop_answers_about_someone_else(answers: list[str]) -> list[str]:
    """Drop an answer that dwells on a name no other answer on the page uses.

    Q&A sites mix in answers to neighbouring questions ("Who led the USSR after
    Stalin died?"). Only answer lists are checked: in an essay, a paragraph on a
    rival (Trotsky and the civil war) serves the argument even if its names are
    its own.
    """
    kept = []
    for i, answer in enumerate(answers):
        others = " ".join(answers[:i] + answers[i + 1 :])
        name, mentions = _most_named(answer)
        if mentions >= OFF_SUBJECT_MENTIONS and not re.search(rf"\b{re.escape(name)}\b", others):
            continue
        kept.append(answer)
    return kept


def _most_named(paragraph: str) -> tuple[str, int]:
    """The name (a word capitalised inside a sentence: person, place, body) used most often, and how often."""
    names = set()
    for sentence in split_sentences(paragraph):
        names |= {word for word in WORD.findall(sentence.text)[1:] if word[0].isupper() and not word.isupper()}
    names = {re.sub(r"['’]s$", "", name) for name in names}
    counts = Counter({name: len(re.findall(rf"\b{re.escape(name)}\b", paragraph)) for name in names})
    return counts.most_common(1)[0] if counts else ("", 0)


def _drop_cut_off_sentence(paragraph: str) -> str:
    """A preview ends mid-sentence with "..."; drop that unfinished sentence (and any clause pieces of it)."""
    if not CUT_OFF.search(paragraph):
        return paragraph
    sentences = split_sentences(paragraph)
    keep = len(sentences) - 1
    while keep > 0 and not SENTENCE_END.search(sentences[keep - 1].text):
        keep -= 1
    return paragraph[: sentences[keep - 1].end] if keep else ""


# ----------------------------------------------------------------- building
def build_corpus_from_seeds(seed_dir: Path, out_dir: Path, titles: Mapping[str, str] | None = None) -> list[ReferenceEssay]:
    """Clean every raw page `seed_dir/*.txt` (in name order) into `out_dir` as ref0.txt, ref1.txt ... + manifest.yaml.

    An essay's title is its own heading line, else `titles[source_file]`, else
    a placeholder naming the page; a tutor can edit titles in the manifest.
    """
    seed_dir, out_dir = Path(seed_dir), Path(out_dir)
    titles = dict(titles or {})
    seeds = sorted(seed_dir.glob("*.txt")) if seed_dir.is_dir() else []
    if not seeds:
        raise RubricateError(f"Seed folder {seed_dir} has no .txt files. Paste each reference page into its own .txt file there.")
    unknown = set(titles) - {seed.name for seed in seeds}
    if unknown:
        raise RubricateError(f"Titles given for {', '.join(sorted(unknown))}, which are not in {seed_dir}. Use the seed file names.")
    essays = []
    for number, seed in enumerate(seeds):
        try:
            raw = seed.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError) as err:
            raise RubricateError(f"Seed page {seed} cannot be read as UTF-8 text ({err}). Save it as plain UTF-8 text.") from None
        heading, body = split_title(clean_reference_text(raw))
        if not body:
            raise RubricateError(f"Seed page {seed} has no essay text left after cleaning. Check that it holds the essay, not only the site's menus.")
        title = titles.get(seed.name) or heading or f"Untitled reference essay ({seed.name})"
        essays.append(ReferenceEssay(f"ref{number}", title, seed.name, body))

    out_dir.mkdir(parents=True, exist_ok=True)
    for essay in essays:
        (out_dir / f"{essay.id}.txt").write_text(essay.text + "\n", encoding="utf-8")
    manifest = {"essays": [{"id": e.id, "title": e.title, "source_file": e.source_file} for e in essays]}
    (out_dir / MANIFEST).write_text(
        f"# Reference essays, cleaned from the raw pages in {seed_dir.name}/ by models/corpus.py.\n"
        "# Each essay's text is <id>.txt in this folder. Format: corpus/README.md.\n"
        + yaml.safe_dump(manifest, sort_keys=False, allow_unicode=True, width=200),
        encoding="utf-8",
    )
    return essays


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m models.corpus", description="Build a reference corpus folder from raw pasted web pages.")
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="clean SEED_DIR/*.txt into OUT_DIR (ref0.txt ... + manifest.yaml)")
    build.add_argument("seed_dir", type=Path, metavar="SEED_DIR", help="folder of raw pages, one .txt per reference essay")
    build.add_argument("out_dir", type=Path, metavar="OUT_DIR", help="corpus folder to write, e.g. corpus/stalin_leader")
    build.add_argument("--title", action="append", default=[], metavar="SOURCE_FILE=TITLE", help="title for a page without a heading line (repeatable)")
    args = parser.parse_args(argv)
    try:
        titles = dict(_title_option(option) for option in args.title)
        essays = build_corpus_from_seeds(args.seed_dir, args.out_dir, titles)
    except RubricateError as err:
        print(f"Error: {err}", file=sys.stderr)
        return 1
    for essay in essays:
        print(f"{essay.id}: {essay.title} ({essay.source_file}, {len(essay.text.split())} words)")
    print(f"Wrote {len(essays)} essays and {MANIFEST} to {args.out_dir}")
    return 0


def _title_option(option: str) -> tuple[str, str]:
    name, sep, title = option.partition("=")
    if not sep or not name.strip() or not title.strip():
        raise RubricateError(f"--title '{option}' should look like SOURCE_FILE=TITLE, e.g. 004_page.txt=\"How Stalin rose to power\".")
    return name.strip(), title.strip()


if __name__ == "__main__":
    sys.exit(main())
