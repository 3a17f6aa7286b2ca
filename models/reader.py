"""Essays in, from whatever students and tutors upload: one loader per file kind.

Kinds: plain text (.txt, .md, no extension), Word (.docx), PDF (.pdf), a class
spreadsheet (.csv, one essay per row) and a zip of any of these.

Errors, one design: the batch readers (`read_essay_bytes`, `read_essay_path`,
`read_inputs`, `essay_from_text`) never raise for a bad file; every input
yields at least one `EssayInput`, and a bad one carries an `error` naming the
source, the problem and the fix, so a batch never loses an essay. For
single-essay use, `read_essay` and `decode_text` raise `RubricateError`.

Uploads are untrusted. This module only reads: zip members are unpacked in
memory and their names are never used as paths; sizes are capped before and
while reading; nothing is executed or rendered.
"""
from __future__ import annotations

import codecs
import csv
import io
import math
import re
import stat
import sys
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from models.errors import RubricateError
from models.text import clean_control_characters, count_words, rejoin_wrapped_lines

DEFAULT_MAX_ESSAY_BYTES = 200_000  # one essay's text, in UTF-8
DEFAULT_MAX_UPLOAD_BYTES = 50_000_000  # one upload (zip, csv, docx, pdf), unpacked
DEFAULT_MAX_MEMBERS = 2_000  # files in one zip, essays in one csv
DEFAULT_MIN_ESSAY_WORDS = 3

SUPPORTED_EXTENSIONS = (".txt", ".md", ".docx", ".pdf", ".csv", ".zip")
ESSAY_COLUMNS = ("essay", "text", "answer", "response", "submission")
NAME_COLUMNS = ("student_name", "name", "student")
ID_COLUMNS = ("student_id", "id")

_KINDS = {"": "text", ".txt": "text", ".md": "text", ".docx": "docx", ".pdf": "pdf", ".csv": "csv", ".zip": "zip"}
_KIND_NAMES = {"text": "text", "docx": "a Word document", "pdf": "a PDF", "csv": "a CSV file", "zip": "a zip file"}
_SAVE_AS = {
    ".doc": "save it as .docx in Word",
    ".odt": "save it as .docx or .pdf",
    ".rtf": "save it as .docx or .txt",
    ".pages": "export it as .docx or .pdf",
    ".xlsx": "save the sheet as .csv",
    ".xls": "save the sheet as .csv",
}
# Files that operating systems and editors leave next to real work.
_CLUTTER = {"__macosx", "thumbs.db", "desktop.ini"}

# Binary formats people upload by mistake, by their first bytes: what it is and what to do.
_PICTURE = "a picture of an essay cannot be read; type or paste the text instead"
_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image", _PICTURE),
    (b"\xff\xd8\xff", "a JPEG image", _PICTURE),
    (b"GIF87a", "a GIF image", _PICTURE),
    (b"GIF89a", "a GIF image", _PICTURE),
    (b"II*\x00", "a TIFF image", _PICTURE),
    (b"MM\x00*", "a TIFF image", _PICTURE),
    (b"%PDF-", "a PDF document", "give it a .pdf name"),
    (b"PK\x03\x04", "a zip archive or Word document", "give it a .zip or .docx name"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Word or Excel file (.doc/.xls)", "save it as .docx or .csv"),
    (b"{\\rtf", "an RTF document", "save it as .docx or .txt"),
    (b"\x1f\x8b", "a gzip archive", "unpack it, or make a .zip"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive", "make a .zip instead"),
    (b"Rar!\x1a\x07", "a RAR archive", "make a .zip instead"),
    (b"\x7fELF", "a program", "upload the essay's text"),
    (b"SQLite format 3\x00", "a database", "upload the essay's text"),
)
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32", "UTF-32"),  # before UTF-16: its BOM starts the same way
    (codecs.BOM_UTF32_BE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF8, "utf-8-sig", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"),
)
_CONTROL_BYTES = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f]")  # controls other than tab, newline, form feed, return
_MAX_CONTROL_SHARE = 0.05  # real text has almost none; binary files have about one byte in nine
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class EssayInput:
    """One essay as read from an upload, or the reason it could not be read."""

    source: str  # what the user knows it by: a path, "class.zip/alice.txt", "class.csv#row 3"
    text: str = ""  # decoded, cleaned essay text ("" when error)
    student: str = ""  # student name/id when known (CSV columns, else file stem)
    error: str | None = None  # names the source, the problem and the fix; None when ok

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class Limits:
    """How much one upload may hold; the keyword arguments `**limits` of the readers."""

    max_bytes: int = DEFAULT_MAX_ESSAY_BYTES
    max_total_bytes: int = DEFAULT_MAX_UPLOAD_BYTES
    max_members: int = DEFAULT_MAX_MEMBERS
    min_words: int = DEFAULT_MIN_ESSAY_WORDS

    def for_file(self, kind: str) -> int:
        """Most bytes a file of this kind may have before it is read at all."""
        # A UTF-32 file is four times its UTF-8 text; the exact check is on the decoded text.
        return 4 * self.max_bytes if kind == "text" else self.max_total_bytes


class _Budget:
    """What is left of one upload's limits while its (possibly nested) zips are read."""

    def __init__(self, limits: Limits):
        self.bytes_left = limits.max_total_bytes
        self.members_left = limits.max_members


# ---------------------------------------------------------------- public readers


def read_essay_bytes(name: str, data: bytes, **limits) -> list[EssayInput]:
    """The essays in one uploaded file, by its extension; never raises for bad content.

    `name` is the file name the user gave (it picks the kind and becomes `source`);
    `limits` are the fields of `Limits`. A .csv or .zip can give many essays.
    """
    return _read_upload(_printable(name), data, Limits(**limits), None, 0)


def read_essay_path(path: str | Path, **limits) -> list[EssayInput]:
    """The essays in a file, or in a folder (recursing, sorted, skipping hidden files)."""
    return list(_stream_path(Path(path), Limits(**limits)))


def _stream_path(path: Path, limits: Limits) -> Iterator[EssayInput]:
    """`read_essay_path` one essay at a time: a folder's files are read as they are marked, not all first."""
    if not path.is_dir():
        yield from _read_file(path, limits)
        return
    empty = True
    for essay in _read_folder(path, limits, set()):
        empty = False
        yield essay
    if empty:
        yield EssayInput(_printable(str(path)), error=f"{_printable(str(path))}: has no files; {_supported()}")


def read_inputs(paths: Iterable[str | Path], **limits) -> Iterator[EssayInput]:
    """Every essay in the given files and folders, in order; "-" reads one essay from stdin.

    Sources are unique: a file given twice is marked twice, the second as "name (2)".
    """
    def every() -> Iterator[EssayInput]:
        for path in paths:
            if str(path) == "-":
                chosen = Limits(**limits)
                data = sys.stdin.buffer.read(chosen.for_file("text") + 1)
                yield from _read_upload("stdin", data, chosen, None, 0)
            else:
                yield from _stream_path(Path(path), Limits(**limits))

    return unique_sources(every())


def unique_sources(essays: Iterable[EssayInput]) -> Iterator[EssayInput]:
    """The same essays, a repeated source renamed "source (2)", "source (3)"...: rows, stored essays and
    exports are found by source, so two inputs must never share one."""
    seen: set[str] = set()
    for essay in essays:
        source, copy = essay.source, 1
        while source in seen:
            copy += 1
            source = f"{essay.source} ({copy})"
        seen.add(source)
        if source != essay.source:
            essay = EssayInput(source, essay.text, essay.student, essay.error and essay.error.replace(essay.source, source, 1))
        yield essay


def read_essay(path: str | Path, **limits) -> EssayInput:
    """Exactly one readable essay from a file ("-" for stdin); for single-essay use.

    Raises RubricateError when the file cannot be read or holds more than one essay.
    """
    essays = list(read_inputs([path], **limits))
    if len(essays) != 1:
        raise RubricateError(
            f"{_printable(str(path))}: holds {len(essays)} essays, not one; mark it as a batch instead"
        )
    if essays[0].error:
        raise RubricateError(essays[0].error)
    return essays[0]


def essay_from_text(text: str, source: str = "pasted text", student: str = "", **limits) -> EssayInput:
    """An essay from text already decoded (a paste box, a CSV cell, a document's text).

    Cleans control characters and line endings, then checks it is neither empty,
    too long nor too short to mark; a failed check gives an error, not an exception.
    """
    return _essay(text, source, student, Limits(**limits))


def decode_text(data: bytes, source: str) -> str:
    """The text in a text file's bytes, cleaned; raises RubricateError naming `source`.

    Tries, in order: a byte-order mark (UTF-8, UTF-16, UTF-32), UTF-16 without
    one, UTF-8, then Windows-1252 if the result looks like text. Binary files
    (known formats, NUL bytes, many control bytes) are refused, never guessed at.
    Control characters other than newline and tab are dropped, line endings
    become "\\n" and hard-wrapped lines are rejoined into paragraphs; the byte-order
    mark is dropped.
    """
    return _tidy(_decode(data, source))


def _tidy(text: str) -> str:
    # NFC so an accented letter typed on a Mac is the same word as one typed on Windows; wrapped
    # lines rejoined so the layout (a PDF's text is hard-wrapped) cannot change the mark.
    return rejoin_wrapped_lines(unicodedata.normalize("NFC", clean_control_characters(text)))


# ---------------------------------------------------------------- dispatch


def _read_upload(source: str, data: bytes, limits: Limits, budget: _Budget | None, depth: int) -> list[EssayInput]:
    """The one dispatcher: every file, upload and zip member goes through here."""
    kind = _kind(source)
    student = _stem(source)
    try:
        if kind is None:
            raise RubricateError(_unsupported(source))
        if len(data) > limits.for_file(kind):
            raise RubricateError(_too_big(source, len(data), limits, kind))
        if kind == "text":
            return [_essay(_decode(data, source), source, student, limits)]  # _essay tidies it, once
        if kind == "docx":
            return [_essay(_docx_text(source, data, limits), source, student, limits)]
        if kind == "pdf":
            return [_essay(_pdf_text(source, data, limits), source, student, limits)]
        if kind == "csv":
            return _read_csv(source, data, limits)
        return _read_zip(source, data, limits, budget or _Budget(limits), depth)
    except RubricateError as error:
        return [EssayInput(source, student=student, error=str(error))]
    except Exception as error:  # noqa: BLE001 - hostile files can break a parser in any way; report, don't crash the batch
        detail = _printable(f"{type(error).__name__}: {error}")[:200]
        return [
            EssayInput(
                source,
                student=student,
                error=f"{source}: could not be read as {_KIND_NAMES[kind]} ({detail}); open it and save it again, or paste the text",
            )
        ]


def _essay(text: str, source: str, student: str, limits: Limits) -> EssayInput:
    def failed(problem: str) -> EssayInput:
        return EssayInput(source, student=student, error=f"{source}: {problem}")

    if not text:
        return failed("is empty; there is no essay to mark")
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > limits.max_bytes:
        return failed(_too_long(size, limits))
    text = _tidy(text).strip()
    if not text:
        return failed("contains only whitespace; there is no essay to mark")
    count = count_words(text, limits.min_words)
    if count < limits.min_words:
        plural = "word" if count == 1 else "words"
        return failed(f"too short to mark: {count} {plural}; an essay needs at least {limits.min_words}")
    return EssayInput(source, text=text, student=student)


# ---------------------------------------------------------------- files and folders


def _read_file(path: Path, limits: Limits) -> list[EssayInput]:
    source = _printable(str(path))
    kind = _kind(path.name)
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):  # a pipe or device would block or never end
            raise RubricateError(f"{source}: is not a regular file; give the path of an essay file")
        if kind is None:  # don't read a film to say it is not an essay
            raise RubricateError(_unsupported(source))
        if info.st_size > limits.for_file(kind):
            raise RubricateError(_too_big(source, info.st_size, limits, kind))
        with path.open("rb") as handle:
            data = handle.read(limits.for_file(kind) + 1)  # the file may have grown since stat
    except RubricateError as error:
        return [EssayInput(source, student=_stem(source), error=str(error))]
    except FileNotFoundError:
        return [EssayInput(source, student=_stem(source), error=f"{source}: does not exist; check the path")]
    except PermissionError:
        return [EssayInput(source, student=_stem(source), error=f"{source}: could not be read: permission denied")]
    except OSError as error:
        return [EssayInput(source, student=_stem(source), error=f"{source}: could not be read ({error.strerror or error})")]
    return _read_upload(source, data, limits, None, 0)


def _read_folder(folder: Path, limits: Limits, seen: set[Path]) -> Iterator[EssayInput]:
    real = folder.resolve()
    if real in seen:  # a link back up the tree would loop for ever
        return
    seen.add(real)
    try:
        entries = sorted(folder.iterdir(), key=lambda p: (p.name.casefold(), p.name))
    except OSError as error:
        source = _printable(str(folder))
        yield EssayInput(source, error=f"{source}: could not be listed ({error.strerror or error})")
        return
    for entry in entries:
        if _is_clutter(entry.name):
            continue
        if entry.is_dir():
            yield from _read_folder(entry, limits, seen)
        else:
            yield from _read_file(entry, limits)


# ---------------------------------------------------------------- text


def _decode(data: bytes, source: str) -> str:
    for magic, what, fix in _MAGIC:
        if data.startswith(magic):
            raise RubricateError(f"{source}: is {what}, not text; {fix}")
    if data[4:8] == b"ftyp":  # phones save photos as HEIC and videos as MP4
        raise RubricateError(f"{source}: is a photo or video, not text; {_PICTURE}")
    for bom, encoding, label in _BOMS:
        if data.startswith(bom):
            try:
                return _looks_like_text(data.decode(encoding), source)
            except UnicodeDecodeError:
                if label == "UTF-32":  # may be UTF-16 whose first character is NUL
                    continue
                raise RubricateError(
                    f"{source}: starts with a {label} marker but is not valid {label}; save it again as UTF-8 text"
                ) from None
    encoding = _utf16_without_bom(data)
    if encoding:
        try:
            return _looks_like_text(data.decode(encoding), source)
        except UnicodeDecodeError:
            pass
    if 0 in data:
        raise RubricateError(f"{source}: looks like a binary file (it has NUL bytes), not text; {_supported()}")
    try:
        return _looks_like_text(data.decode("utf-8"), source)
    except UnicodeDecodeError as error:
        bad_at = error.start
    try:  # Windows-1252: Word's "Save as plain text" on Windows, with its curly quotes
        text = _looks_like_text(data.decode("cp1252"), source)
        if _reads_as_prose(text):
            return text
    except UnicodeDecodeError:
        pass
    raise RubricateError(
        f"{source}: is not in a text encoding that can be read (not UTF-8 from byte {bad_at}, "
        "nor UTF-16, UTF-32 or Windows-1252); save it as UTF-8 text"
    )


def _utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 without a byte-order mark: mostly-English text has a NUL in every other byte."""
    if len(data) < 4 or len(data) % 2:
        return None
    half = len(data) // 2
    even, odd = data[0::2].count(0), data[1::2].count(0)
    if odd > 0.9 * half and even == 0:
        return "utf-16-le"
    if even > 0.9 * half and odd == 0:
        return "utf-16-be"
    return None


def _looks_like_text(text: str, source: str) -> str:
    controls = len(_CONTROL_BYTES.findall(text))  # one pass in C: this ran per character on every essay
    if "\x00" in text or controls > max(3, _MAX_CONTROL_SHARE * len(text)):
        raise RubricateError(
            f"{source}: looks like a binary file (it has {controls} control characters), not text; {_supported()}"
        )
    return text


def _reads_as_prose(text: str) -> bool:
    """Whether a Windows-1252 reading is prose rather than binary that happens to decode."""
    if not text:
        return True
    non_ascii = sum(1 for ch in text if ord(ch) > 127)
    plain = sum(1 for ch in text if ch.isascii() and (ch.isalpha() or ch.isspace()))
    return non_ascii <= 0.3 * len(text) and plain >= 0.5 * len(text)


# ---------------------------------------------------------------- Word and PDF


def _docx_text(source: str, data: bytes, limits: Limits) -> str:
    """Paragraphs (and the text of tables, cell by cell) in document order, joined by blank lines."""
    not_word = f"{source}: is not a valid Word document; open it in Word and save it again as .docx"
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise RubricateError(f"{source}: is an old Word .doc file, not .docx; save it as .docx in Word")
    try:
        package = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, EOFError):
        raise RubricateError(not_word) from None
    # A .docx is a zip: the same bomb checks as an uploaded zip, before python-docx unpacks it.
    _check_zip_headers(source, package.infolist(), limits, _Budget(limits))
    import docx  # imported here: a class of .txt files should not wait for the Word and PDF libraries
    from docx.table import Table

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception:  # noqa: BLE001 - python-docx raises KeyError, ValueError, lxml errors...
        raise RubricateError(not_word) from None

    def blocks(container) -> Iterator[str]:
        for block in container.iter_inner_content():
            if isinstance(block, Table):
                seen = set()  # a merged cell is listed once per row and column it spans
                for row in block.rows:
                    for cell in row.cells:
                        if cell._tc not in seen:
                            seen.add(cell._tc)
                            yield from blocks(cell)
            else:
                yield block.text

    text = "\n\n".join(p.strip() for p in blocks(document) if p.strip())
    if not text:
        raise RubricateError(f"{source}: has no text (a picture of the essay?); type or paste the text instead")
    return text


def _pdf_text(source: str, data: bytes, limits: Limits) -> str:
    """The text of every page, pages joined by blank lines."""
    from pypdf import PdfReader
    from pypdf.errors import DependencyError

    try:
        reader = PdfReader(io.BytesIO(data))
    except Exception:  # noqa: BLE001 - pypdf fails on broken files in many ways
        raise RubricateError(f"{source}: is not a valid PDF; save or print it to PDF again") from None
    if reader.is_encrypted:
        try:
            opened = reader.decrypt("")  # many PDFs are "protected" with an empty password
        except DependencyError:
            raise RubricateError(
                f"{source}: is encrypted with AES, which needs the 'cryptography' package; "
                "print it to a new PDF without protection, or paste the text"
            ) from None
        if not opened:
            raise RubricateError(
                f"{source}: is password-protected; remove the password (or print it to a new PDF), or paste the text"
            )
    pages, size = [], 0
    for number, page in enumerate(reader.pages, start=1):
        text = (page.extract_text() or "").strip()
        size += len(text.encode("utf-8", "surrogatepass"))
        if size > limits.max_bytes:  # don't extract 500 pages to refuse them
            raise RubricateError(f"{source}: {_too_long(size, limits, more=True)} (by page {number} of {len(reader.pages)})")
        if text:
            pages.append(text)
    if not pages:
        raise RubricateError(f"{source}: has no text layer (a scanned image?); paste the text instead")
    return "\n\n".join(pages)


# ---------------------------------------------------------------- class spreadsheets


def _read_csv(source: str, data: bytes, limits: Limits) -> list[EssayInput]:
    """One essay per row; row numbers are as a spreadsheet shows them (the header is row 1)."""
    text = decode_text(data, source)
    if not text.strip():
        raise RubricateError(f"{source}: is empty; there are no essays to mark")
    csv.field_size_limit(max(csv.field_size_limit(), 2**31 - 1))  # essays are long cells
    header_line = text.lstrip("\n").split("\n", 1)[0]
    delimiter = max(",;\t", key=header_line.count)  # Excel in many countries saves with ";"
    rows = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    essays: list[EssayInput] = []
    header: list[str] | None = None
    number = 0
    try:
        for number, row in enumerate(rows, start=1):
            if not any(cell.strip() for cell in row):
                continue
            if header is None:
                header = row
                essay_at, name_at, id_at = _csv_columns(source, header)
                continue
            if len(essays) >= limits.max_members:
                left = _count_rows(rows, first=row)
                essays.append(
                    EssayInput(
                        f"{source}#row {number}",
                        error=f"{source}#row {number}: not read, nor the {left - 1:,} essay rows after it: {source} has more than"
                        f" {limits.max_members:,} essays ({limits.max_members + left:,} in all); the first {limits.max_members:,}"
                        f" were read; split it into files of at most {limits.max_members:,} rows",
                    )
                )
                break
            essays.append(_csv_row(source, number, row, essay_at, name_at, id_at, limits))
    except csv.Error as error:
        essays.append(EssayInput(f"{source}#row {number + 1}", error=f"{source}#row {number + 1}: is not valid CSV ({error}); the rest were not read"))
    if not essays:
        raise RubricateError(f"{source}: has a header row but no essays")
    return essays


def _count_rows(rows: Iterator[list[str]], first: list[str]) -> int:
    """How many non-blank rows are left, counting `first`; a row the csv module cannot parse ends the count."""
    count = 1 if any(cell.strip() for cell in first) else 0
    try:
        count += sum(1 for row in rows if any(cell.strip() for cell in row))
    except csv.Error:
        pass
    return count


def _csv_columns(source: str, header: list[str]) -> tuple[int, int | None, int | None]:
    names = [re.sub(r"[\s\-]+", "_", cell.strip().lower()) for cell in header]

    def find(accepted: tuple[str, ...]) -> int | None:
        return next((names.index(n) for n in accepted if n in names), None)

    essay_at = find(ESSAY_COLUMNS)
    if essay_at is None:
        found = ", ".join(f'"{_printable(cell.strip())[:40]}"' for cell in header[:20])
        raise RubricateError(
            f"{source}: has no essay column (its columns are {found}); "
            f"name the column of essays one of: {', '.join(ESSAY_COLUMNS)}"
        )
    return essay_at, find(NAME_COLUMNS), find(ID_COLUMNS)


def _csv_row(
    source: str, number: int, row: list[str], essay_at: int, name_at: int | None, id_at: int | None, limits: Limits
) -> EssayInput:
    def cell(at: int | None) -> str:
        return row[at].strip() if at is not None and at < len(row) else ""

    name, student_id = _printable(cell(name_at)), _printable(cell(id_at))
    student = f"{name} ({student_id})" if name and student_id else name or student_id
    row_source = f"{source}#row {number}"
    if not cell(essay_at):
        return EssayInput(row_source, student=student, error=f"{row_source}: the essay cell is empty")
    return _essay(row[essay_at], row_source, student, limits)


# ---------------------------------------------------------------- zips


def _read_zip(source: str, data: bytes, limits: Limits, budget: _Budget, depth: int) -> list[EssayInput]:
    """Each member as an essay, read in memory; nested zips one level deep."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, EOFError, NotImplementedError):
        raise RubricateError(f"{source}: is not a valid zip file; make the zip again") from None
    _check_zip_headers(source, members, limits, budget)
    wanted = [
        info for info in sorted(members, key=lambda i: (i.filename.casefold(), i.filename))
        # ".." looks hidden too, but an unsafe name must be reported, not quietly skipped.
        if not info.is_dir() and (_is_unsafe(_member_name(info)) or not any(_is_clutter(part) for part in _member_name(info).split("/")))
    ]
    essays: list[EssayInput] = []
    for index, info in enumerate(wanted):
        name = _member_name(info)
        member = f"{source}/{_printable(info.filename)}"
        left = len(wanted) - index  # this member and the ones after it
        if budget.members_left <= 0:
            essays.append(EssayInput(member, error=f"{member}: not read, nor {_files(left - 1)} after it in {source}: the"
                                                   f" upload holds more than {limits.max_members:,} files; split it into smaller zips"))
            break
        budget.members_left -= 1
        try:
            content = _zip_member(archive, info, member, limits, budget, depth)
        except _Exhausted:
            essays.append(
                EssayInput(
                    member,
                    error=f"{member}: not read, nor {_files(left - 1)} after it in {source}: the upload unpacks to more than "
                    f"{_size(limits.max_total_bytes)}, the limit for one upload; split it into smaller zips",
                )
            )
            break
        except RubricateError as error:
            essays.append(EssayInput(member, student=_stem(name), error=str(error)))
            continue
        except Exception as error:  # noqa: BLE001 - a corrupt member must not lose the rest of the class
            detail = _printable(f"{type(error).__name__}: {error}")[:200]
            essays.append(EssayInput(member, student=_stem(name), error=f"{member}: could not be unpacked ({detail})"))
            continue
        budget.bytes_left -= len(content)
        essays.extend(_read_upload(member, content, limits, budget, depth + 1))
    if not essays:
        raise RubricateError(f"{source}: holds no files (hidden and system files are skipped); {_supported()}")
    return list(unique_sources(essays))  # a zip may hold two members of the same name


def _files(count: int) -> str:
    return "the 1 file" if count == 1 else f"the {count:,} files"


def _member_name(info: zipfile.ZipInfo) -> str:
    """A member's name with "/" separators and no "." parts ("a/./b.txt" is a/b.txt)."""
    return "/".join(part for part in info.filename.replace("\\", "/").split("/") if part != ".")


class _Exhausted(Exception):
    """The upload's unpacked size, counted while reading, passed its limit."""


def _zip_member(archive, info, member: str, limits: Limits, budget: _Budget, depth: int) -> bytes:
    """A member's bytes, or RubricateError saying why it is skipped."""
    name = _member_name(info)
    if _is_unsafe(name):
        raise RubricateError(
            f"{member}: has an unsafe name (it points outside the zip); skipped, and nothing was written"
        )
    if stat.S_ISLNK(info.external_attr >> 16):
        raise RubricateError(f"{member}: is a symbolic link, not a file; skipped")
    if info.flag_bits & 0x1:
        raise RubricateError(f"{member}: is password-protected; make the zip again without a password")
    kind = _kind(name)
    if kind is None:
        raise RubricateError(_unsupported(member))
    if kind == "zip" and depth >= 1:
        raise RubricateError(f"{member}: is a zip inside a zip inside a zip; unzip the outer ones and upload it directly")
    if info.file_size > limits.for_file(kind):
        raise RubricateError(_too_big(member, info.file_size, limits, kind))
    # Don't trust the header's size: stop as soon as more comes out than is allowed.
    cap = min(limits.for_file(kind), budget.bytes_left)
    chunks, size = [], 0
    with archive.open(info) as stream:
        while chunk := stream.read(_CHUNK):
            size += len(chunk)
            if size > cap:
                if cap == budget.bytes_left:
                    raise _Exhausted
                raise RubricateError(_too_big(member, size, limits, kind, more=True))
            chunks.append(chunk)
    return b"".join(chunks)


def _check_zip_headers(source: str, members: list[zipfile.ZipInfo], limits: Limits, budget: _Budget) -> None:
    """Refuse a zip bomb from its headers, before unpacking anything; a nested zip gets what is left."""
    nested = " (with the rest of the upload)" if budget.bytes_left < limits.max_total_bytes else ""
    if len(members) > budget.members_left:
        raise RubricateError(
            f"{source}: holds {len(members):,} files{nested}; the limit is {limits.max_members:,}; split it into smaller zips"
        )
    declared = sum(info.file_size for info in members)
    if declared > budget.bytes_left:
        raise RubricateError(
            f"{source}: would unpack to {_size(declared, up=True)}{nested}; the limit is "
            f"{_size(limits.max_total_bytes)}; split it into smaller zips"
        )


# ---------------------------------------------------------------- names and messages


def _kind(name: str) -> str | None:
    return "text" if name == "stdin" else _KINDS.get(PurePosixPath(name.replace("\\", "/")).suffix.lower())


def _stem(name: str) -> str:
    return "" if name == "stdin" else PurePosixPath(name.replace("\\", "/")).stem


def _is_unsafe(name: str) -> bool:
    """A zip member name that would land outside the folder if it were ever unpacked."""
    return name.startswith("/") or bool(re.match(r"[A-Za-z]:", name)) or ".." in name.split("/")


def _is_clutter(name: str) -> bool:
    """Hidden and system files (.DS_Store, ._essay.txt, .git, ~$essay.docx, Thumbs.db); "..txt" is a file, not hidden."""
    return bool(re.match(r"\.[^.]", name)) or name.startswith("~$") or name.lower() in _CLUTTER


def _printable(text: str) -> str:
    """A name safe to show: a hostile file name can hold newlines and terminal escapes."""
    return "".join(ch if ch.isprintable() else "?" for ch in text)


def _supported() -> str:
    return f"essays can be {', '.join(SUPPORTED_EXTENSIONS[:-1])} or {SUPPORTED_EXTENSIONS[-1]} files"


def _unsupported(source: str) -> str:
    suffix = PurePosixPath(source.replace("\\", "/")).suffix.lower()
    fix = _SAVE_AS.get(suffix, "")
    return f"{source}: {suffix or 'this'} files cannot be read; {fix + '; ' if fix else ''}{_supported()}"


def _too_long(size: int, limits: Limits, more: bool = False) -> str:
    amount = f"more than {_size(limits.max_bytes)}" if more else _size(size, up=True)
    return f"the essay is {amount}; the limit is {_size(limits.max_bytes)}; split it, or raise the limit"


def _too_big(source: str, size: int, limits: Limits, kind: str, more: bool = False) -> str:
    if kind == "text":
        return f"{source}: {_too_long(size, limits, more)}"
    amount = f"more than {_size(limits.max_total_bytes)}" if more else _size(size, up=True)
    return f"{source}: is {amount}; the limit for one upload is {_size(limits.max_total_bytes)}; split it into smaller files"


def _size(n: int, up: bool = False) -> str:
    """Bytes as a teacher reads them: 250 KB, 1.5 MB. Rounded up for sizes over a limit."""
    for unit, scale in (("MB", 1_000_000), ("KB", 1_000)):
        if n >= scale:
            tenths = n / scale * 10
            value = (math.ceil(tenths) if up else math.floor(tenths)) / 10
            return f"{value:.1f}".removesuffix(".0") + f" {unit}"
    return f"{n} bytes"
