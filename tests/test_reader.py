"""Reading essays from whatever students and tutors upload.

Every fixture is made here (docx with python-docx, PDFs by hand or with pypdf,
zips in memory), so each test shows exactly what it feeds the reader.
"""
from __future__ import annotations

import codecs
import io
import os
import stat
import sys
import zipfile
from pathlib import Path

import docx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pypdf import PdfReader, PdfWriter

from models.errors import RubricateError
from models.reader import (
    DEFAULT_MAX_ESSAY_BYTES,
    EssayInput,
    decode_text,
    essay_from_text,
    read_essay,
    read_essay_bytes,
    read_essay_path,
    read_inputs,
)

ESSAY = (
    "Stalin became leader because he was General Secretary and controlled appointments.\n\n"
    "Trotsky was arrogant and missed Lenin's funeral, so he looked disloyal."
)
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"


def only(essays: list[EssayInput]) -> EssayInput:
    assert len(essays) == 1, essays
    return essays[0]


def error_of(name: str, data: bytes, **limits) -> str:
    essay = only(read_essay_bytes(name, data, **limits))
    assert not essay.ok and essay.text == ""
    assert essay.error.startswith(name), "a message must name the file"
    return essay.error


def make_docx(*paragraphs: str, table: list[list[str]] | None = None, merge_first_row: bool = False) -> bytes:
    document = docx.Document()
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, text in enumerate(row):
                grid.cell(r, c).text = text
        if merge_first_row:
            grid.cell(0, 0).merge(grid.cell(0, len(table[0]) - 1)).text = table[0][0]
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def make_pdf(*pages: str) -> bytes:
    """A real PDF with a text layer, one line of Helvetica per page, written by hand."""
    count = len(pages)
    kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(count))
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {count} >>",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    for i, text in enumerate(pages):
        escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        content = f"BT /F1 12 Tf 72 720 Td ({escaped}) Tj ET"
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            f"/Resources << /Font << /F1 3 0 R >> >> /Contents {5 + 2 * i} 0 R >>"
        )
        objects.append(f"<< /Length {len(content)} >>\nstream\n{content}\nendstream")
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


def encrypted_pdf(user_password: str, owner_password: str | None = None) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(make_pdf(ESSAY.replace("\n", " ")))))
    writer.encrypt(user_password, owner_password, algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def make_zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


# ---------------------------------------------------------------- plain text


def test_text_file_is_one_essay_named_after_the_file():
    essay = only(read_essay_bytes("alice.txt", ESSAY.encode()))
    assert essay.ok and essay.error is None
    assert essay.text == ESSAY
    assert essay.source == "alice.txt"
    assert essay.student == "alice"


@pytest.mark.parametrize("name", ["notes.md", "README", "ESSAY.TXT"])
def test_markdown_and_files_without_extension_are_read_as_text(name):
    assert only(read_essay_bytes(name, ESSAY.encode())).text == ESSAY


def test_empty_file_is_reported_as_empty():
    assert "is empty" in error_of("blank.txt", b"")


def test_whitespace_only_file_is_reported():
    assert "only whitespace" in error_of("spaces.txt", b"  \n\t\r\n   \n")


def test_single_word_is_too_short_to_mark():
    assert "too short to mark: 1 word" in error_of("lazy.txt", b"Stalin")


def test_two_words_are_too_short_to_mark():
    assert "too short to mark: 2 words" in error_of("lazy.txt", b"Stalin won.")


def test_essay_over_the_size_limit_says_both_sizes_and_is_not_truncated():
    data = ("Stalin was lucky. " * 14_000).encode()[:250_000]
    message = error_of("long.txt", data)
    assert "is 250 KB; the limit is 200 KB" in message


def test_size_limit_is_configurable():
    data = ("Stalin was lucky. " * 14_000).encode()[:250_000]
    assert only(read_essay_bytes("long.txt", data, max_bytes=300_000)).ok
    assert "the limit is 1 KB" in error_of("short.txt", ESSAY.encode() * 10, max_bytes=1_000)


def test_png_renamed_txt_is_reported_as_binary():
    message = error_of("essay.txt", PNG)
    assert "is a PNG image, not text" in message
    assert "type or paste the text" in message


def test_pdf_renamed_txt_says_to_give_it_a_pdf_name():
    assert "give it a .pdf name" in error_of("essay.txt", make_pdf(ESSAY))


def test_file_with_nul_bytes_is_reported_as_binary():
    assert "binary file (it has NUL bytes)" in error_of("essay.txt", b"Stalin \x00\x01\x02 was\x00 lucky" * 10)


def test_file_full_of_control_bytes_is_reported_as_binary():
    assert "binary file" in error_of("essay.txt", bytes(range(1, 32)) * 20 + ESSAY.encode())


def test_windows_1252_curly_quotes_decode_to_curly_quotes():
    data = b"Lenin called Stalin \x93too rude\x94 in his Testament \x96 but it was never read out."
    essay = only(read_essay_bytes("word.txt", data))
    assert essay.text == "Lenin called Stalin “too rude” in his Testament – but it was never read out."


def test_bytes_in_no_known_encoding_are_reported_not_guessed():
    data = "Stalin était chanceux ".encode("utf-8") + b"\x81\x8d\x8f\x90\x9d" * 4
    message = error_of("odd.txt", data)
    assert "is not in a text encoding that can be read" in message
    assert "save it as UTF-8 text" in message


def test_utf16_with_bom_is_decoded():
    assert only(read_essay_bytes("win.txt", ESSAY.encode("utf-16"))).text == ESSAY


def test_utf16_without_bom_is_decoded():
    assert only(read_essay_bytes("win.txt", ESSAY.encode("utf-16-le"))).text == ESSAY


def test_utf32_with_bom_is_decoded():
    assert only(read_essay_bytes("odd.txt", ESSAY.encode("utf-32"))).text == ESSAY


def test_utf8_bom_is_stripped():
    essay = only(read_essay_bytes("bom.txt", codecs.BOM_UTF8 + ESSAY.encode()))
    assert essay.text == ESSAY


def test_control_characters_are_stripped_and_line_endings_normalised():
    data = b"Stalin\x07 was General\x1b Secretary.\r\n\r\nHe\tcontrolled appointments.\rThe end."
    essay = only(read_essay_bytes("ctrl.txt", data))
    assert essay.text == "Stalin was General Secretary.\n\nHe\tcontrolled appointments.\nThe end."


def test_decode_text_raises_rubricate_error_naming_the_file():
    with pytest.raises(RubricateError, match=r"^photo\.txt: is a PNG image"):
        decode_text(PNG, "photo.txt")
    assert decode_text(b"\xef\xbb\xbfplain\r\ntext", "x.txt") == "plain\ntext"


def test_pasted_text_is_checked_like_a_file():
    assert essay_from_text(ESSAY).ok
    short = essay_from_text("Stalin", source="pasted text")
    assert short.error == "pasted text: too short to mark: 1 word; an essay needs at least 3"


# ---------------------------------------------------------------- Word


def test_docx_paragraphs_are_joined_with_blank_lines():
    data = make_docx("Stalin was General Secretary.", "", "Trotsky was arrogant.")
    essay = only(read_essay_bytes("bob.docx", data))
    assert essay.text == "Stalin was General Secretary.\n\nTrotsky was arrogant."
    assert essay.student == "bob"


def test_docx_table_text_is_read_in_order_and_merged_cells_once():
    data = make_docx(
        "Why did Stalin win?",
        table=[["Factors", ""], ["Luck: Lenin died early", "Alliances with Bukharin"]],
        merge_first_row=True,
    )
    essay = only(read_essay_bytes("grid.docx", data))
    assert essay.text == "Why did Stalin win?\n\nFactors\n\nLuck: Lenin died early\n\nAlliances with Bukharin"


def test_docx_that_is_not_a_zip_is_not_a_valid_word_document():
    assert "is not a valid Word document" in error_of("essay.docx", ESSAY.encode())


def test_zip_that_is_not_word_is_not_a_valid_word_document():
    assert "is not a valid Word document" in error_of("essay.docx", make_zip({"a.txt": ESSAY.encode()}))


def test_old_word_doc_renamed_docx_says_to_save_as_docx():
    assert "old Word .doc file" in error_of("essay.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 500)


def test_docx_with_no_text_is_reported():
    assert "has no text" in error_of("picture.docx", make_docx())


def test_docx_stuffed_past_the_upload_limit_is_refused_before_unpacking():
    data = make_docx(ESSAY)
    message = error_of("big.docx", data, max_total_bytes=len(data) + 10)
    assert "would unpack to" in message


# ---------------------------------------------------------------- PDF


def test_pdf_text_of_all_pages_is_read():
    essay = only(read_essay_bytes("carol.pdf", make_pdf("Stalin was lucky (page one).", "Trotsky was arrogant.")))
    assert essay.text == "Stalin was lucky (page one).\n\nTrotsky was arrogant."
    assert essay.student == "carol"


def test_password_protected_pdf_is_reported():
    message = error_of("locked.pdf", encrypted_pdf("secret"))
    assert "is password-protected" in message


def test_pdf_protected_only_by_an_owner_password_is_read():
    essay = only(read_essay_bytes("owner.pdf", encrypted_pdf("", "owner-secret")))
    assert "General Secretary" in essay.text


def test_scanned_pdf_has_no_text_layer():
    writer = PdfWriter()
    writer.add_blank_page(612, 792)
    out = io.BytesIO()
    writer.write(out)
    message = error_of("scan.pdf", out.getvalue())
    assert "has no text layer (a scanned image?); paste the text instead" in message


def test_broken_pdf_is_reported():
    assert "is not a valid PDF" in error_of("broken.pdf", b"%PDF-1.4\nthis is not really a pdf")


def test_pdf_with_more_text_than_one_essay_is_refused():
    message = error_of("book.pdf", make_pdf("Stalin was lucky. " * 10, "Trotsky was arrogant. " * 10), max_bytes=150)
    assert "the essay is more than 150 bytes" in message


# ---------------------------------------------------------------- zips


def test_each_zip_member_is_an_essay_named_inside_the_zip():
    data = make_zip({"bob.txt": ESSAY.encode(), "alice.docx": make_docx(ESSAY), "carol.pdf": make_pdf("Stalin won by luck and cunning.")})
    essays = read_essay_bytes("class.zip", data)
    assert [e.source for e in essays] == ["class.zip/alice.docx", "class.zip/bob.txt", "class.zip/carol.pdf"]
    assert [e.student for e in essays] == ["alice", "bob", "carol"]
    assert all(e.ok for e in essays)


def test_zip_path_traversal_names_are_reported_and_nothing_is_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    data = make_zip({"../../evil.txt": ESSAY.encode(), "/etc/evil.txt": ESSAY.encode(), "C:/evil.txt": ESSAY.encode(), "ok.txt": ESSAY.encode()})
    essays = read_essay_bytes("class.zip", data)
    bad = [e for e in essays if not e.ok]
    assert len(bad) == 3
    assert all("has an unsafe name" in e.error for e in bad)
    assert [e.source for e in essays if e.ok] == ["class.zip/ok.txt"]
    assert list(tmp_path.iterdir()) == []
    assert not (tmp_path.parent / "evil.txt").exists()


def test_zip_with_too_many_members_is_refused_from_its_headers():
    data = make_zip({f"s{i}.txt": ESSAY.encode() for i in range(6)})
    message = error_of("many.zip", data, max_members=5)
    assert "holds 6 files; the limit is 5" in message


def test_zip_bomb_is_refused_from_its_headers():
    data = make_zip({f"s{i}.txt": b" " * 40_000 for i in range(30)})  # 1.2 MB of spaces, a few KB zipped
    message = error_of("bomb.zip", data, max_total_bytes=1_000_000)
    assert "would unpack to 1.2 MB; the limit is 1 MB" in message


def test_zip_member_bigger_than_its_header_says_is_not_trusted():
    data = bytearray(make_zip({"liar.txt": b"Stalin was lucky. " * 50_000}))
    central = data.rfind(b"PK\x01\x02")
    data[central + 24 : central + 28] = (100).to_bytes(4, "little")  # claim 100 bytes unpacked
    data[22:26] = (100).to_bytes(4, "little")
    essay = only(read_essay_bytes("liar.zip", bytes(data)))
    assert not essay.ok
    assert essay.source == "liar.zip/liar.txt"


def test_upload_limit_is_counted_while_reading_across_nested_zips():
    # Each zip's headers fit the limit; together, once the inner zip is unpacked, they don't.
    inner = make_zip({f"s{i}.txt": b"Stalin was lucky. " * 1_100 for i in range(3)})
    data = make_zip({"group.zip": inner, "z.txt": b"Trotsky was arrogant. " * 2_000})
    essays = read_essay_bytes("class.zip", data, max_total_bytes=100_000)
    assert [e.ok for e in essays] == [True, True, True, False]
    assert essays[-1].source == "class.zip/z.txt"
    assert "the upload unpacks to more than 100 KB, the limit for one upload" in essays[-1].error


def test_zip_member_over_the_essay_limit_is_reported_by_name():
    data = make_zip({"long.txt": b"Stalin was lucky. " * 1_000, "ok.txt": ESSAY.encode()})
    essays = read_essay_bytes("class.zip", data, max_bytes=5_000)
    assert "class.zip/long.txt: the essay is" in essays[0].error
    assert essays[1].ok


def test_nested_zip_is_read_one_level_deep():
    inner = make_zip({"dan.txt": ESSAY.encode()})
    essays = read_essay_bytes("class.zip", make_zip({"group.zip": inner, "eve.txt": ESSAY.encode()}))
    assert [(e.source, e.ok) for e in essays] == [("class.zip/eve.txt", True), ("class.zip/group.zip/dan.txt", True)]


def test_zip_nested_two_levels_deep_is_reported():
    innermost = make_zip({"dan.txt": ESSAY.encode()})
    data = make_zip({"group.zip": make_zip({"deeper.zip": innermost})})
    essay = only(read_essay_bytes("class.zip", data))
    assert essay.source == "class.zip/group.zip/deeper.zip"
    assert "a zip inside a zip inside a zip" in essay.error


def test_zip_directories_mac_folders_and_hidden_files_are_skipped():
    data = make_zip(
        {
            "class/": b"",
            "class/frank.txt": ESSAY.encode(),
            "__MACOSX/class/._frank.txt": PNG,
            "class/.DS_Store": PNG,
            "class/~$frank.docx": PNG,
            "Thumbs.db": PNG,
        }
    )
    essay = only(read_essay_bytes("class.zip", data))
    assert essay.ok and essay.source == "class.zip/class/frank.txt"


def test_unsupported_zip_member_is_an_error_row():
    essays = read_essay_bytes("class.zip", make_zip({"photo.jpg": PNG, "gina.txt": ESSAY.encode()}))
    assert essays[0].ok
    assert essays[1].source == "class.zip/photo.jpg"
    assert ".jpg files cannot be read" in essays[1].error


def test_symbolic_link_in_a_zip_is_reported():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        link = zipfile.ZipInfo("link.txt")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "/etc/passwd")
    assert "is a symbolic link" in only(read_essay_bytes("class.zip", out.getvalue())).error


def test_password_protected_zip_member_is_reported():
    data = bytearray(make_zip({"secret.txt": ESSAY.encode()}))
    central = data.rfind(b"PK\x01\x02")
    data[central + 8] |= 0x1  # the "encrypted" flag, as a password-protected zip sets it
    data[6] |= 0x1
    assert "is password-protected" in only(read_essay_bytes("class.zip", bytes(data))).error


def test_file_that_is_not_a_zip_is_reported():
    assert "is not a valid zip file" in error_of("class.zip", ESSAY.encode())


def test_zip_with_only_hidden_files_is_reported():
    assert "holds no files" in error_of("class.zip", make_zip({".hidden.txt": ESSAY.encode()}))


def test_csv_inside_a_zip_gives_its_rows():
    data = make_zip({"marks.csv": f'name,essay\nHal,"{ESSAY}"\n'.encode()})
    essay = only(read_essay_bytes("class.zip", data))
    assert (essay.source, essay.student, essay.text) == ("class.zip/marks.csv#row 2", "Hal", ESSAY)


# ---------------------------------------------------------------- class spreadsheets


def test_csv_rows_become_essays_with_student_names_and_ids():
    data = f'Student Name,Student_ID,Essay\nIvy,s1,"{ESSAY}"\nJo,s2,"Stalin was lucky and cunning."\n'.encode()
    essays = read_essay_bytes("class.csv", data)
    assert [(e.source, e.student) for e in essays] == [("class.csv#row 2", "Ivy (s1)"), ("class.csv#row 3", "Jo (s2)")]
    assert essays[0].text == ESSAY


@pytest.mark.parametrize("column", ["essay", "TEXT", "Answer", " response ", "Submission"])
def test_csv_essay_column_is_found_by_any_accepted_name(column):
    essay = only(read_essay_bytes("class.csv", f'id,{column}\n7,"{ESSAY}"\n'.encode()))
    assert essay.text == ESSAY and essay.student == "7"


def test_csv_without_an_essay_column_names_the_columns_found_and_accepted():
    message = error_of("class.csv", b"name,mark\nIvy,12\n")
    assert 'its columns are "name", "mark"' in message
    assert "essay, text, answer, response, submission" in message


def test_csv_empty_essay_cell_is_an_error_row_for_that_row():
    data = f'name,essay\nIvy,"{ESSAY}"\nJo,\nKim,"{ESSAY}"\n'.encode()
    essays = read_essay_bytes("class.csv", data)
    assert [e.ok for e in essays] == [True, False, True]
    assert essays[1].error == "class.csv#row 3: the essay cell is empty"
    assert essays[1].student == "Jo"


def test_csv_saved_by_excel_with_semicolons_is_read():
    essay = only(read_essay_bytes("class.csv", f'name;essay\nIvy;"{ESSAY}"\n'.encode()))
    assert essay.text == ESSAY


def test_csv_cell_longer_than_the_csv_module_default_is_read():
    long_essay = "Stalin was lucky. " * 10_000  # 180,000 characters; the csv default is 131,072
    essay = only(read_essay_bytes("class.csv", f'essay\n"{long_essay}"\n'.encode()))
    assert essay.ok and len(essay.text) == len(long_essay.strip())


def test_csv_in_windows_1252_is_decoded():
    essay = only(read_essay_bytes("class.csv", b'name,essay\nIvy,"Lenin said Stalin was \x93too rude\x94."\n'))
    assert essay.text == "Lenin said Stalin was “too rude”."


def test_csv_with_a_header_but_no_essays_is_reported():
    assert "has a header row but no essays" in error_of("class.csv", b"name,essay\n\n")


def test_csv_with_more_rows_than_the_limit_says_so():
    data = ("essay\n" + f'"{ESSAY}"\n' * 4).encode()
    essays = read_essay_bytes("class.csv", data, max_members=3)
    assert [e.ok for e in essays] == [True, True, True, False]
    assert "has more than 3 essays" in essays[-1].error


# ---------------------------------------------------------------- other kinds


def test_unknown_extension_names_the_supported_kinds():
    message = error_of("marks.xlsx", b"PK\x03\x04")
    assert ".xlsx files cannot be read; save the sheet as .csv" in message
    assert ".txt, .md, .docx, .pdf, .csv or .zip" in message


# ---------------------------------------------------------------- paths, folders and stdin


def test_folder_is_read_recursively_sorted_and_hidden_files_skipped(tmp_path):
    (tmp_path / "b.txt").write_text(ESSAY)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.txt").write_text(ESSAY)
    (tmp_path / "A.txt").write_text(ESSAY)
    (tmp_path / ".hidden.txt").write_text(ESSAY)
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "c.txt").write_text(ESSAY)
    essays = read_essay_path(tmp_path)
    assert [Path(e.source).relative_to(tmp_path).as_posix() for e in essays] == ["A.txt", "b.txt", "sub/a.txt"]
    assert all(e.ok for e in essays)


def test_folder_linking_back_to_itself_is_read_once(tmp_path):
    (tmp_path / "a.txt").write_text(ESSAY)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "loop").symlink_to(tmp_path, target_is_directory=True)
    assert [e.source for e in read_essay_path(tmp_path)] == [str(tmp_path / "a.txt")]


def test_missing_path_is_an_error_row(tmp_path):
    essay = only(read_essay_path(tmp_path / "nobody.txt"))
    assert essay.error == f"{tmp_path / 'nobody.txt'}: does not exist; check the path"


def test_empty_folder_is_an_error_row(tmp_path):
    assert "has no files" in only(read_essay_path(tmp_path)).error


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are a POSIX thing")
def test_named_pipe_is_refused_not_waited_on(tmp_path):
    os.mkfifo(tmp_path / "pipe.txt")
    assert "is not a regular file" in only(read_essay_path(tmp_path / "pipe.txt")).error


def test_oversized_file_on_disk_is_refused_before_reading(tmp_path):
    (tmp_path / "huge.txt").write_bytes(b"a " * 500_000)
    assert "the essay is 1 MB; the limit is 200 KB" in only(read_essay_path(tmp_path / "huge.txt")).error


def test_batch_keeps_every_input_good_or_bad(tmp_path):
    (tmp_path / "good.txt").write_text(ESSAY)
    (tmp_path / "photo.txt").write_bytes(PNG)
    (tmp_path / "class.zip").write_bytes(make_zip({"x.txt": ESSAY.encode(), "y.txt": b""}))
    paths = [tmp_path / "good.txt", tmp_path / "photo.txt", tmp_path / "missing.txt", tmp_path / "class.zip"]
    essays = list(read_inputs(paths))
    assert [e.ok for e in essays] == [True, False, False, True, False]


def test_dash_reads_one_essay_from_stdin(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(ESSAY.encode("utf-16"))))
    essay = only(list(read_inputs(["-"])))
    assert (essay.source, essay.text) == ("stdin", ESSAY)


def test_read_essay_returns_the_one_essay_or_raises(tmp_path):
    (tmp_path / "good.txt").write_text(ESSAY)
    (tmp_path / "blank.txt").write_text("")
    (tmp_path / "class.zip").write_bytes(make_zip({"x.txt": ESSAY.encode(), "y.txt": ESSAY.encode()}))
    assert read_essay(tmp_path / "good.txt").text == ESSAY
    with pytest.raises(RubricateError, match="blank.txt: is empty"):
        read_essay(tmp_path / "blank.txt")
    with pytest.raises(RubricateError, match="holds 2 essays, not one"):
        read_essay(tmp_path / "class.zip")


# ---------------------------------------------------------------- hostile input in general


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=4_000))
def test_arbitrary_bytes_named_txt_never_raise(data):
    essays = read_essay_bytes("x.txt", data)
    assert len(essays) >= 1
    assert all(isinstance(e, EssayInput) and (e.ok == (e.error is None)) for e in essays)
    assert all(e.text == "" for e in essays if not e.ok)
    # Text decoding is ours: every failure is one we foresaw, never the catch-all for a crashed parser.
    assert all("could not be read as text" not in e.error for e in essays if not e.ok)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["x.docx", "x.pdf", "x.csv", "x.zip", "x.md", "x"]), st.binary(max_size=2_000))
def test_arbitrary_bytes_of_any_kind_never_raise(name, data):
    assert len(read_essay_bytes(name, data)) >= 1


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=3_000))
def test_any_text_saved_as_utf8_reads_back_cleaned_or_reports_why(text):
    essay = only(read_essay_bytes("x.txt", text.encode("utf-8", "surrogatepass")))
    if essay.ok:
        assert "\r" not in essay.text and essay.text == essay.text.strip()
        assert len(essay.text.encode("utf-8", "surrogatepass")) <= DEFAULT_MAX_ESSAY_BYTES


# ---------------------------------------------------------------- every input gets a row, once


def test_zip_members_named_with_dot_parts_are_read_not_skipped():
    essays = read_essay_bytes("class.zip", make_zip({"a/./b.txt": ESSAY.encode(), "..txt": ESSAY.encode()}))
    assert sorted(e.source for e in essays) == ["class.zip/..txt", "class.zip/a/./b.txt"]
    assert all(e.ok for e in essays)


def test_two_zip_members_of_the_same_name_get_two_rows_with_different_sources():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("ali.txt", ESSAY)
        with pytest.warns(UserWarning, match="Duplicate name"):
            archive.writestr("ali.txt", ESSAY.replace("Stalin", "He"))
    essays = read_essay_bytes("class.zip", out.getvalue())
    assert [e.source for e in essays] == ["class.zip/ali.txt", "class.zip/ali.txt (2)"]
    assert all(e.ok for e in essays) and essays[0].text != essays[1].text


def test_a_file_given_twice_is_two_rows_with_different_sources(tmp_path):
    path = tmp_path / "ali.txt"
    path.write_text(ESSAY)
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    essays = list(read_inputs([path, empty, path, empty]))
    assert [e.source for e in essays] == [str(path), str(empty), f"{path} (2)", f"{empty} (2)"]
    assert essays[3].error.startswith(f"{empty} (2): is empty")


def test_csv_over_the_row_limit_says_how_many_rows_were_not_read():
    data = ("essay\n" + f'"{ESSAY}"\n' * 50_000).encode()
    essays = read_essay_bytes("class.csv", data)
    assert len(essays) == 2_001 and all(e.ok for e in essays[:2_000])
    left_out = essays[-1]
    assert left_out.source == "class.csv#row 2002"
    assert "nor the 47,999 essay rows after it" in left_out.error and "50,000 in all" in left_out.error
    assert "the first 2,000 were read" in left_out.error


def test_nested_zips_over_the_file_limit_say_how_many_files_were_not_read():
    inner = make_zip({f"{n}.txt": ESSAY.encode() for n in range(4)})
    data = make_zip({"a.zip": inner, "b.txt": ESSAY.encode(), "c.txt": ESSAY.encode(), "d.txt": ESSAY.encode(), "e.txt": ESSAY.encode()})
    essays = read_essay_bytes("class.zip", data, max_members=6)
    assert [e.ok for e in essays] == [True] * 5 + [False]
    assert essays[-1].source == "class.zip/c.txt"
    assert "c.txt: not read, nor the 2 files after it in class.zip" in essays[-1].error



def test_an_upload_over_its_unpacked_size_says_how_many_files_were_not_read():
    inner = make_zip({f"s{i}.txt": b"Stalin was lucky. " * 1_100 for i in range(3)})
    data = make_zip({"group.zip": inner, **{f"z{i}.txt": b"Trotsky was arrogant. " * 700 for i in range(5)}})
    essays = read_essay_bytes("class.zip", data, max_total_bytes=100_000)  # the headers fit; the unpacked files don't
    assert [e.ok for e in essays] == [True] * 5 + [False]
    assert essays[-1].source == "class.zip/z2.txt"
    assert "z2.txt: not read, nor the 2 files after it in class.zip" in essays[-1].error


def test_a_folder_is_read_as_it_is_marked_not_all_first(tmp_path, monkeypatch):
    import models.reader as reader

    for n in range(50):
        (tmp_path / f"s{n:02}.txt").write_text(ESSAY)
    opened = []
    real = reader._read_file
    monkeypatch.setattr(reader, "_read_file", lambda path, limits: opened.append(path) or real(path, limits))
    essays = read_inputs([tmp_path])
    first = next(essays)
    assert first.ok and first.source.endswith("s00.txt")
    assert len(opened) == 1  # the other 49 files wait until the marker asks for them
    assert len(list(essays)) == 49


def test_cleaning_drops_every_unicode_control_and_format_character_and_keeps_the_rest():
    import unicodedata

    from models.text import clean_control_characters

    sample = "".join(chr(c) for c in range(0x3000)) + "\U000e0001\U0010fffd😀"
    kept = clean_control_characters(sample)
    lines_unified = sample.replace("\r\n", "\n").replace("\r", "\n")
    assert kept == "".join(ch for ch in lines_unified if ch in "\n\t" or unicodedata.category(ch)[0] != "C")
    assert "\u200f" not in kept and "\x07" not in kept and "é" in kept and "😀" in kept
