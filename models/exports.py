"""Every export of a batch or marking session: the marks table (CSV, XLSX), the students' reports (.zip), and
reading a table a tutor edited back in.

Exports render what was stored, with the tutor's decisions applied (models.review.final_row); they never
score an essay again, so recalibrated thresholds cannot change what a student was given. Every text cell
is neutralised against spreadsheet formulas, since a file name, a student name or a comment can start with
"=" (OWASP CSV injection: a leading apostrophe), and XLSX cells are written as text, never as formulas.
"""
from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Callable, Mapping
from typing import IO
from dataclasses import dataclass
from pathlib import Path

from models.errors import RubricateError
from models.feedback_html import render_feedback_html
from models.report import LEVEL_NAMES, Report
from models.review import TutorReview
from models.rubric import Rubric
from models.store import Decisions, Store

EXPORT_SUFFIXES = (".csv", ".xlsx")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
NUMBER_COLUMNS = ("#", "coverage %", "mark /20", "tool's mark", "tutor's mark")
COMMENT_COLUMN = "tutor's comment"
MARK_COLUMN = "mark /20"
TUTOR_MARK_COLUMN = "tutor's mark"
MAX_COLUMN_WIDTH = 60


def safe_cell(value: object) -> object:
    """A cell a spreadsheet shows as written: text starting with = + - @ tab or CR gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def unsafe_cell(value: str) -> str:
    """`safe_cell` undone, for a table read back in."""
    return value[1:] if value.startswith("'") and value[1:].startswith(FORMULA_STARTS) else value


def reference_titles(rubric: Rubric) -> dict[str, str]:
    """Corpus id -> reference essay title, so students read "How did Stalin win…", not "ref3"."""
    from models.corpus import load_corpus

    return {essay.id: essay.title for essay in load_corpus(rubric.corpus_path).essays}


# ------------------------------------------------------------------ a batch's rows as they are marked
BATCH_CSV_COLUMNS = ["source", "student", "status", "error", "overall", "mark_20", "warnings"]


def batch_row_writer(handle: IO[str], suffix: str, factor_ids: list[str]) -> Callable[[dict, str], object]:
    """A function writing one batch row (`mark_inputs`) and the essay's text to `handle` as JSON Lines or CSV (header
    first), as it is marked. JSON rows carry `text`, the essay as read: the text the evidence offsets index."""
    if suffix.lower() == ".jsonl":
        return lambda row, text: handle.write(json.dumps({**row, "text": text}, ensure_ascii=False) + "\n")
    writer = csv.writer(handle)
    writer.writerow(BATCH_CSV_COLUMNS + factor_ids)

    def write_csv_row(row: dict, text: str) -> None:
        levels = {f["id"]: f["level"] for f in row.get("factors", [])}
        cells = [row["source"], row.get("student", ""), row["status"], row.get("error") or "", row.get("overall", ""),
                 row.get("mark_20", ""), " | ".join(row.get("warnings", []))] + [levels.get(f, "") for f in factor_ids]
        writer.writerow([safe_cell(cell) for cell in cells])

    return write_csv_row


# ------------------------------------------------------------------ the marks table
def export_table(rows: list[dict], rubric: Rubric, titles: Mapping[str, str] | None = None) -> list[dict]:
    """One record per input, in columns a tutor reads: factor names as headers, levels as words.

    Rows are batch rows (`mark_inputs`) or stored rows (`final_row`); stored rows carry the final
    values, the tutor's changes and comments.
    """
    titles = titles or {}
    records = []
    for n, row in enumerate(rows, start=1):
        ok = row["status"] == "ok"
        review = TutorReview.from_row(row)
        record = {"#": row.get("position", n), "student": row.get("student") or "", "source": row["source"], "status": row["status"],
                  "coverage %": row["overall"] if ok else None, MARK_COLUMN: row.get("mark_20"),
                  "tool's mark": review.tool_mark if review else row.get("mark_20"),
                  TUTOR_MARK_COLUMN: review.tutor_mark if review else None}
        levels = {f["id"]: f["level"] for f in row.get("factors", ())}
        for factor in rubric.factors:
            record[factor.name] = LEVEL_NAMES[levels[factor.id]] if factor.id in levels else ""
        record["tutor's changes"] = _changes(review, rubric) if review else ""
        record["copied from"] = _copied_from(row, titles) if ok else ""
        record["warnings"] = " | ".join(row.get("warnings", ())) if ok else ""
        record[COMMENT_COLUMN] = " | ".join(row.get("comments", ()))
        record["error"] = row.get("error") or ""
        records.append(record)
    return records


def export_columns(rubric: Rubric) -> list[str]:
    return ["#", "student", "source", "status", "coverage %", MARK_COLUMN, "tool's mark", TUTOR_MARK_COLUMN,
            *[f.name for f in rubric.factors], "tutor's changes", "copied from", "warnings", COMMENT_COLUMN, "error"]


def _changes(review: TutorReview, rubric: Rubric) -> str:
    changes = [f"{f.name}: {LEVEL_NAMES[review.tool_levels[f.id]]} → {LEVEL_NAMES[review.tutor_levels[f.id]]}"
               for f in rubric.factors if review.changed(f.id) and f.id in review.tool_levels]
    if review.mark_changed:
        changes.append(f"mark: {review.tool_mark} → {review.tutor_mark}")
    return "; ".join(changes)


def _copied_from(row: dict, titles: Mapping[str, str]) -> str:
    copy = row.get("copy") or {}
    if not copy.get("flagged"):
        return ""
    passages = copy.get("passages") or ()
    source = titles.get(passages[0]["source"], copy.get("source")) if passages else copy.get("source")
    return f"{round(100 * copy.get('share', 0))}% of its words from {source}"


def table_bytes(records: list[dict], columns: list[str], suffix: str) -> bytes:
    """The table as a .csv (UTF-8 with BOM, so Excel reads accents) or an .xlsx file."""
    if suffix.lower() == ".xlsx":
        return _xlsx_bytes(records, columns)
    if suffix.lower() != ".csv":
        raise RubricateError(f"export{suffix}: exports are .csv or .xlsx; end the output file's name with one of them.")
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for record in records:
        writer.writerow(["" if record.get(c) is None else safe_cell(record.get(c)) for c in columns])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _xlsx_bytes(records: list[dict], columns: list[str]) -> bytes:
    """Header frozen, widths from the content, every text cell stored as text (never a formula)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    sheet.title = "Marks"
    widths = [len(c) for c in columns]
    for r, values in enumerate([columns] + [[record.get(c) for c in columns] for record in records], start=1):
        for c, value in enumerate(values, start=1):
            cell = sheet.cell(row=r, column=c)
            if value is None or value == "":
                continue
            if isinstance(value, (int, float)) and not isinstance(value, bool) and columns[c - 1] in NUMBER_COLUMNS and r > 1:
                cell.value = value
            else:
                cell.value = safe_cell(str(value))
                cell.data_type = "s"  # openpyxl would store a leading "=" as a formula
                cell.number_format = "@"
            widths[c - 1] = max(widths[c - 1], min(MAX_COLUMN_WIDTH, len(str(value))))
            if r == 1:
                cell.font = Font(bold=True)
    for c, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(c)].width = min(MAX_COLUMN_WIDTH, width + 2)
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def write_table(records: list[dict], columns: list[str], out: str | Path) -> Path:
    out = Path(out)
    if out.suffix.lower() not in EXPORT_SUFFIXES:
        raise RubricateError(f"--out {out}: exports are .csv or .xlsx; end the file name with one of them.")
    data = table_bytes(records, columns, out.suffix)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    return out


# ------------------------------------------------------------------ the students' reports
def report_file_name(student: str, used: set[str]) -> str:
    """feedback-<student>.html, made safe for any file system; a second report by one name gets -2, -3…"""
    stem = "".join(c if c.isalnum() or c in "-_" else "_" for c in Path(student).stem).strip("_") or "essay"
    unique, n = stem, 2
    while unique in used:
        unique, n = f"{stem}-{n}", n + 1
    used.add(unique)
    return f"feedback-{unique}.html"


def report_html(row: dict, text: str, rubric: Rubric, titles: Mapping[str, str] | None = None) -> str:
    """One student's report from a marked or stored row (final values), never a fresh score."""
    return render_feedback_html(Report.from_dict(row), text, rubric, row.get("student") or row["source"],
                                review=TutorReview.from_row(row), titles=titles)


def feedback_zip(rows: list[dict], texts: list[str], rubric: Rubric, titles: Mapping[str, str] | None = None) -> bytes:
    """One self-contained HTML report per marked essay, named after its student, in a .zip."""
    buffer = io.BytesIO()
    used: set[str] = set()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for row, text in zip(rows, texts):
            if row["status"] == "ok":
                name = report_file_name(row.get("student") or row["source"], used)
                archive.writestr(name, report_html(row, text, rubric, titles))
    return buffer.getvalue()


# ------------------------------------------------------------------ an edited table read back in
@dataclass(frozen=True)
class ImportedReview:
    """What reading an edited export changed: overrides set or cleared, marks, comments added."""

    levels: int
    marks: int
    comments: int
    changes: tuple[Decisions, ...]


def read_table(name: str, data: bytes) -> list[dict[str, str]]:
    """The rows of an edited .csv or .xlsx export, every cell as text."""
    suffix = Path(name).suffix.lower()
    if suffix == ".csv":
        text = data.decode("utf-8-sig", errors="replace")
        return [{k: (v or "") for k, v in row.items() if k is not None} for row in csv.DictReader(io.StringIO(text))]
    if suffix == ".xlsx":
        from openpyxl import load_workbook

        try:
            sheet = load_workbook(io.BytesIO(data), read_only=True, data_only=True).worksheets[0]
        except Exception as exc:  # openpyxl raises many kinds for a damaged file
            raise RubricateError(f"{name}: is not a readable .xlsx workbook ({exc.__class__.__name__}); save it again from Excel.") from exc
        values = [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]
        if not values:
            return []
        header = values[0]
        return [dict(zip(header, row)) for row in values[1:] if any(row)]
    raise RubricateError(f"{name}: an edited export must be a .csv or .xlsx file.")


def plan_import(name: str, records: list[dict[str, str]], rows: list[dict], rubric: Rubric) -> ImportedReview:
    """Compare an edited table with the stored rows; raise listing every row it cannot match, before anything is applied.

    A factor cell that differs from the final level becomes the tutor's level (or goes back to
    the tool's when it names the tool's level); likewise the mark, typed over the final mark or into
    the tutor's mark column; text added to the comment cell becomes a new comment.
    """
    if records and "#" not in records[0]:
        raise RubricateError(f"{name}: has no '#' column; import a table written by `export` (columns: {', '.join(export_columns(rubric)[:4])}, …).")
    by_position = {row["position"]: row for row in rows if "position" in row}
    problems, changes = [], []
    counts = {"levels": 0, "marks": 0, "comments": 0}
    for line, record in enumerate(records, start=2):
        where = f"{name} row {line}"
        row = by_position.get(_whole(record.get("#", "")))
        source = unsafe_cell(record.get("source", "")).strip()
        student = unsafe_cell(record.get("student", "")).strip()
        if row is None or (source and source != row["source"]) or (student and student != (row.get("student") or "")):
            problems.append(f"{where}: no essay #{record.get('#', '')} '{student or source}' in this session")
            continue
        levels = {}
        final = {f["id"]: f["level"] for f in row.get("factors", ())}
        for factor in rubric.factors:
            word = unsafe_cell(record.get(factor.name, "")).strip().lower()
            if factor.name not in record or not word or factor.id not in final:
                continue
            if word not in LEVEL_NAMES:
                problems.append(f"{where}, column '{factor.name}': '{word}' is not a level (absent, mentioned or developed)")
                continue
            level = LEVEL_NAMES.index(word)
            if level != final[factor.id]:
                levels[factor.id] = None if level == row["tool_levels"].get(factor.id) else level
        set_mark, mark = False, None
        # A tutor may type the mark over the final mark or into the "tutor's mark" column; a tutor's mark wins over a
        # final mark still showing the tool's (re-importing the same file changes nothing).
        typed = {}
        for column in (MARK_COLUMN, TUTOR_MARK_COLUMN):
            cell = unsafe_cell(record.get(column, "")).strip()
            if cell:
                value = _whole(cell)
                if value is None or not 0 <= value <= 20:
                    problems.append(f"{where}, column '{column}': '{cell}' is not a whole mark from 0 to 20")
                else:
                    typed[column] = value
        final_cell, tutor_cell = typed.get(MARK_COLUMN), typed.get(TUTOR_MARK_COLUMN)
        if tutor_cell is not None and final_cell not in (None, tutor_cell, row["tool_mark"]):
            problems.append(f"{where}: '{MARK_COLUMN}' says {final_cell} but '{TUTOR_MARK_COLUMN}' says {tutor_cell}; "
                            "change one of them")
        else:
            value = tutor_cell if tutor_cell is not None else final_cell
            if value is not None and value != row.get("mark_20"):
                set_mark, mark = True, None if value == row["tool_mark"] else value
        comment = _new_comment(unsafe_cell(record.get(COMMENT_COLUMN, "")).strip(), " | ".join(row["comments"]))
        if levels or set_mark or comment:
            changes.append(Decisions(row["essay_id"], levels, set_mark, mark, comment))
            counts["levels"] += len(levels)
            counts["marks"] += set_mark
            counts["comments"] += bool(comment)
    if problems:
        raise RubricateError(f"{name}: nothing was imported; {len(problems)} row(s) need fixing first: " + "; ".join(problems) + ".")
    return ImportedReview(counts["levels"], counts["marks"], counts["comments"], tuple(changes))


def _whole(text: str) -> int | None:
    try:
        number = float(str(text).strip())
    except ValueError:
        return None
    return int(number) if number == int(number) else None


def _new_comment(cell: str, existing: str) -> str | None:
    """Text the tutor added to the comment cell: what follows the stored comments, or the whole cell if rewritten."""
    if not cell or cell == existing:
        return None
    if existing and cell.startswith(existing):
        return cell[len(existing):].lstrip(" |").strip() or None
    return cell


def import_review(store: Store, session_name: str, name: str, data: bytes, rubric: Rubric) -> ImportedReview:
    """Read an edited export of session `session_name` back in: all its changes are applied, or none."""
    from models.marking import session_rows

    plan = plan_import(name, read_table(name, data), session_rows(store, session_name, rubric), rubric)
    store.apply_decisions(plan.changes)
    return plan
