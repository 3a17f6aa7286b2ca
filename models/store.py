"""The marking store: one SQLite file keeping sessions, essays, tutor decisions and drafts.

A tutor marks a batch once and comes back to it: every essay is committed as it is
marked, so a batch killed half-way keeps everything marked so far, and a tutor's
overrides and comments sit beside the tool's report without changing it.

Use it through one small class:

    with open_store() as store:                      # path, else $RUBRICATE_DB, else user data dir
        session_id = store.create_session("Y13 Stalin mock", rubric.id, rubric.content_hash, str(rubric.path))
        essay_id = store.add_essay(session_id, source="ali.docx", text=text,
                                   result=report.to_dict(), status="ok")
        store.set_level_override(essay_id, "terror", 2)
        store.set_mark_override(essay_id, 15)
        store.add_comment(essay_id, "Good use of the purges.")
        essays = store.essays(store.session("Y13 Stalin mock").id)

Results are stored and returned as the plain dict from `Report.to_dict()`; the store
never looks inside it except for the factor levels and `mark_20` that a tutor can
override. A `Store` is one connection: open one per thread (it is cheap).
"""
from __future__ import annotations

import hashlib
import json
import os
import secrets
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator, Sequence

import platformdirs

from models.errors import RubricateError

DB_ENV = "RUBRICATE_DB"
DB_FILE_NAME = "rubricate.sqlite3"
LEVELS = (0, 1, 2)
MAX_MARK = 20
STATUSES = ("ok", "error")

# Migration n (1-based) takes a database from version n-1 to n; PRAGMA user_version
# records how many have run. Change the schema only by appending a migration here.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE sessions (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            rubric_id TEXT NOT NULL,
            rubric_hash TEXT NOT NULL,
            rubric_path TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL
        )""",
        """CREATE TABLE essays (
            id INTEGER PRIMARY KEY,
            session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            source TEXT NOT NULL,
            student_name TEXT NOT NULL DEFAULT '',
            student_id TEXT NOT NULL DEFAULT '',
            text TEXT NOT NULL,
            result TEXT,
            status TEXT NOT NULL CHECK (status IN ('ok', 'error')),
            error TEXT,
            created_at TEXT NOT NULL,
            UNIQUE (session_id, position)
        )""",
        """CREATE TABLE level_overrides (
            essay_id INTEGER NOT NULL REFERENCES essays(id) ON DELETE CASCADE,
            factor_id TEXT NOT NULL,
            level INTEGER NOT NULL CHECK (level IN (0, 1, 2)),
            updated_at TEXT NOT NULL,
            PRIMARY KEY (essay_id, factor_id)
        )""",
        """CREATE TABLE mark_overrides (
            essay_id INTEGER PRIMARY KEY REFERENCES essays(id) ON DELETE CASCADE,
            mark INTEGER NOT NULL CHECK (mark BETWEEN 0 AND 20),
            updated_at TEXT NOT NULL
        )""",
        """CREATE TABLE comments (
            id INTEGER PRIMARY KEY,
            essay_id INTEGER NOT NULL REFERENCES essays(id) ON DELETE CASCADE,
            text TEXT NOT NULL,
            created_at TEXT NOT NULL
        )""",
        "CREATE INDEX comments_by_essay ON comments (essay_id, id)",
        """CREATE TABLE drafts (
            id INTEGER PRIMARY KEY,
            student_key TEXT NOT NULL,
            rubric_id TEXT NOT NULL,
            text TEXT NOT NULL,
            result TEXT NOT NULL,
            created_at TEXT NOT NULL
        )""",
        "CREATE INDEX drafts_by_student ON drafts (student_key, rubric_id, id)",
        """CREATE TABLE thresholds (
            id INTEGER PRIMARY KEY,
            rubric_id TEXT NOT NULL,
            rubric_hash TEXT NOT NULL,
            params TEXT NOT NULL,
            created_at TEXT NOT NULL
        )""",
        "CREATE INDEX thresholds_by_rubric ON thresholds (rubric_id, rubric_hash, id)",
    ),
    (
        # NULL while a batch is being marked: a killed batch stays incomplete and can be resumed.
        "ALTER TABLE sessions ADD COLUMN finished_at TEXT",
        "UPDATE sessions SET finished_at = created_at",  # sessions from before this version are taken as finished
    ),
)


@dataclass(frozen=True)
class SessionSummary:
    """One line of the session list."""

    name: str
    essays: int
    created_at: str
    rubric_id: str
    finished: bool = True  # False: its batch was stopped before every input was marked


@dataclass(frozen=True)
class Session:
    id: int
    name: str
    rubric_id: str
    rubric_hash: str  # sha256 of the rubric file the batch was marked with
    rubric_path: str
    created_at: str
    finished_at: str | None = None  # None while its batch is marked, and after it was stopped half-way


@dataclass(frozen=True)
class Comment:
    text: str
    created_at: str


@dataclass(frozen=True)
class StoredEssay:
    """An essay as marked by the tool, with the tutor's overrides and comments beside it."""

    id: int
    session_id: int
    position: int  # 1, 2, ... in the order the batch was marked
    source: str  # file name or label the essay came from
    student_name: str
    student_id: str
    text: str
    result: dict | None  # Report.to_dict(); None when marking failed
    status: str  # 'ok' or 'error'
    error: str | None
    created_at: str
    overrides: dict[str, int]  # factor id -> tutor's level
    mark_override: int | None
    comments: tuple[Comment, ...]

    def final_levels(self, factor_ids: Sequence[str]) -> dict[str, int | None]:
        """Each factor's level: the tutor's where set, else the tool's; None when neither exists."""
        tool_levels = {f["id"]: f["level"] for f in (self.result or {}).get("factors", ())}
        return {fid: self.overrides.get(fid, tool_levels.get(fid)) for fid in factor_ids}

    @property
    def final_mark(self) -> int | None:
        """The tutor's mark where set, else the tool's mark out of 20; None for a failed essay."""
        if self.mark_override is not None:
            return self.mark_override
        return None if self.result is None else self.result.get("mark_20")


@dataclass(frozen=True)
class Decisions:
    """A tutor's changes to one essay, applied together with others by `Store.apply_decisions`."""

    essay_id: int
    levels: dict[str, int | None]  # factor id -> tutor's level; None goes back to the tool's
    set_mark: bool = False  # whether `mark` applies (None then goes back to the tool's mark)
    mark: int | None = None
    comment: str | None = None


@dataclass(frozen=True)
class Draft:
    id: int
    student_key: str  # student name or id
    rubric_id: str
    text: str
    result: dict
    created_at: str


@dataclass(frozen=True)
class LevelChange:
    factor_id: str
    name: str
    before: int
    after: int


@dataclass(frozen=True)
class DraftChange:
    """What a redraft changed: factors that moved up or down a level, and coverage."""

    gained: tuple[LevelChange, ...]
    lost: tuple[LevelChange, ...]
    coverage_change: float  # current overall minus previous overall, in points out of 100
    mark_change: int  # current mark_20 minus previous


def new_draft_key() -> str:
    """A private key for one student's drafts: only someone who holds it can read or add to them."""
    return secrets.token_urlsafe(12)


def draft_owner(key: str) -> str:
    """What the store files a student's drafts under: a hash of their private key, never a name anyone could type.

    The key itself is not stored, so the database alone does not open anyone's drafts.
    """
    return "key-sha256:" + hashlib.sha256(key.strip().encode("utf-8")).hexdigest()


def draft_changes(previous_result: dict, current_result: dict) -> DraftChange:
    """Compare two results (Report.to_dict()) for the same student and question.

    Factors are taken from the current result; one missing from the previous result
    counts as absent there (the rubric gained it), one missing from the current result
    is left out (it no longer counts).
    """
    before = {f["id"]: f["level"] for f in previous_result["factors"]}
    gained, lost = [], []
    for factor in current_result["factors"]:
        change = LevelChange(factor["id"], factor.get("name", factor["id"]),
                             before.get(factor["id"], 0), factor["level"])
        if change.after > change.before:
            gained.append(change)
        elif change.after < change.before:
            lost.append(change)
    return DraftChange(
        gained=tuple(gained),
        lost=tuple(lost),
        coverage_change=current_result["overall"] - previous_result["overall"],
        mark_change=current_result["mark_20"] - previous_result["mark_20"],
    )


def default_db_path() -> Path:
    """$RUBRICATE_DB if set, else the user's data folder: pupils' essays never land in the repo."""
    from_env = os.environ.get(DB_ENV, "").strip()
    if from_env:
        return Path(from_env).expanduser()
    return Path(platformdirs.user_data_dir("rubricate")) / DB_FILE_NAME


def open_store(path: str | os.PathLike | None = None) -> Store:
    """Open (creating and migrating as needed) the store at `path`, else `default_db_path()`.

    A file this user cannot write is opened read-only: sessions can be listed and exported, and
    any write is refused with a one-line RubricateError saying so. A damaged file is refused.
    """
    db_path = Path(path).expanduser() if path is not None else default_db_path()
    if db_path.is_dir():
        raise RubricateError(f"{db_path}: is a folder, not a database file. "
                             f"Give a file path such as {db_path / DB_FILE_NAME}.")
    try:
        db_path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RubricateError(f"{db_path}: cannot create its folder ({exc.strerror}). "
                             f"Check the folder is writable, or set {DB_ENV} to another file.") from exc
    read_only = db_path.exists() and not os.access(db_path, os.W_OK)
    if not read_only and not os.access(db_path.parent, os.W_OK):
        raise RubricateError(f"{db_path}: its folder {db_path.parent} is read-only (SQLite needs to write beside it: "
                             f"the -wal and -shm files). Make the folder writable, or move the database to one that is "
                             f"and set {DB_ENV} to it.")
    try:
        # isolation_level=None: no hidden BEGINs; every write opens its own transaction below.
        target = f"{db_path.resolve().as_uri()}?mode=ro" if read_only else str(db_path)
        conn = sqlite3.connect(target, timeout=30, isolation_level=None, uri=read_only)
    except (OSError, sqlite3.Error) as exc:
        raise RubricateError(f"{db_path}: cannot open the marking database ({exc}). "
                             f"Check the folder exists and is writable, or set {DB_ENV} to another file.") from exc
    try:
        conn.execute("PRAGMA foreign_keys = ON")
        if not read_only:
            conn.execute("PRAGMA journal_mode = WAL")  # readers keep reading while a batch is written
            conn.execute("PRAGMA synchronous = NORMAL")  # with WAL: a crash loses nothing committed, only on power loss
        _check_intact(conn, db_path)
        if read_only and _version(conn) != len(MIGRATIONS):
            raise RubricateError(f"{db_path}: the marking database is read-only and needs upgrading to this Rubricate's"
                                 f" schema. Make it writable (chmod u+w), or set {DB_ENV} to another file.")
        migrate(conn, db_path=db_path)
    except sqlite3.DatabaseError as exc:
        conn.close()
        if exc.sqlite_errorcode == sqlite3.SQLITE_NOTADB:
            raise RubricateError(f"{db_path}: not a Rubricate marking database ({exc}). "
                                 f"Point {DB_ENV} or the path argument at another file.") from exc
        raise _store_error(exc, db_path) from exc
    except BaseException:
        conn.close()
        raise
    return Store(conn, db_path, read_only=read_only)


def _check_intact(conn: sqlite3.Connection, db_path: Path) -> None:
    """Refuse a damaged database before anything reads half of it or writes into it (cheap: ~0.1 s for 60 MB)."""
    problem = conn.execute("PRAGMA quick_check(1)").fetchone()[0]
    if problem != "ok":
        raise RubricateError(_damaged(db_path, " ".join(problem.split())))


def _damaged(db_path: Path, problem: str) -> str:
    return (f"{db_path}: the marking database is damaged: {problem[:200]}. Nothing was written to it. Restore it from a"
            f" backup, or save what can be read with `sqlite3 {db_path} .recover | sqlite3 recovered.sqlite3`,"
            f" then set {DB_ENV} to the recovered (or a new) file.")


def _store_error(exc: sqlite3.Error, db_path: Path) -> Exception:
    """A RubricateError for what the user can fix (read-only, damaged); any other error as it was."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code == sqlite3.SQLITE_READONLY or (code or 0) & 0xFF == sqlite3.SQLITE_READONLY:
        return RubricateError(f"{db_path}: the marking database is read-only, so nothing can be saved to it. "
                              f"Make it writable (chmod u+w), or set {DB_ENV} (or --db) to another file.")
    if code is not None and code & 0xFF in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB):
        return RubricateError(_damaged(db_path, str(exc)))
    return exc


def migrate(conn: sqlite3.Connection, migrations: Sequence[Sequence[str]] = MIGRATIONS,
            db_path: Path | str = "database") -> int:
    """Run the migrations the database has not had yet, all in one transaction; return its version.

    BEGIN IMMEDIATE takes the write lock before the version is read, so two processes
    opening a new database at once cannot both run the same migration.
    """
    if _version(conn) > len(migrations):
        raise RubricateError(f"{db_path}: made by a newer Rubricate (schema version {_version(conn)}, "
                             f"this one knows {len(migrations)}). Update Rubricate or use another database file.")
    if _version(conn) == len(migrations):
        return len(migrations)
    with conn:
        conn.execute("BEGIN IMMEDIATE")
        version = _version(conn)
        for number, statements in enumerate(migrations[version:], start=version + 1):
            for statement in statements:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {number}")
    return _version(conn)


def _version(conn: sqlite3.Connection) -> int:
    return conn.execute("PRAGMA user_version").fetchone()[0]


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class Store:
    """One open marking database. Use `open_store()`; close it, or use it in a `with` block."""

    def __init__(self, conn: sqlite3.Connection, path: Path, read_only: bool = False):
        self._conn = conn
        self.path = path
        self.read_only = read_only  # the file is not writable: reads work, writes are refused

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        self._conn.close()

    @contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, committed on leaving, rolled back on error.

        IMMEDIATE takes the write lock up front, so a second writer waits its turn
        instead of failing half-way through.
        """
        with self._user_errors(), self._conn:
            self._conn.execute("BEGIN IMMEDIATE")
            yield self._conn

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        """One read snapshot, so rows read by several queries agree while a batch is written."""
        with self._user_errors(), self._conn:
            self._conn.execute("BEGIN")
            yield self._conn

    @contextmanager
    def _user_errors(self) -> Iterator[None]:
        """Read-only and damaged files become one-line RubricateErrors; integrity errors pass on to their callers."""
        try:
            yield
        except sqlite3.IntegrityError:
            raise
        except sqlite3.DatabaseError as exc:
            raise _store_error(exc, self.path) from exc

    # Sessions

    def create_session(self, name: str, rubric_id: str, rubric_hash: str, rubric_path: str = "") -> int:
        """Start a marking session; its name is how the tutor finds it again."""
        if not name.strip():
            raise RubricateError(f"{self.path}: a marking session needs a name. Give one, e.g. 'Y13 mock 2024'.")
        try:
            with self._writing() as conn:
                return conn.execute(
                    "INSERT INTO sessions (name, rubric_id, rubric_hash, rubric_path, created_at) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (name, rubric_id, rubric_hash, str(rubric_path), _now()),
                ).lastrowid
        except sqlite3.IntegrityError as exc:
            raise RubricateError(f"{self.path}: a marking session named '{name}' already exists. "
                                 f"Pick another name, or open the existing session.") from exc

    def sessions(self) -> list[SessionSummary]:
        """Every session, oldest first, with how many essays it holds."""
        with self._reading() as conn:
            rows = conn.execute(
                "SELECT s.name, COUNT(e.id), s.created_at, s.rubric_id, s.finished_at IS NOT NULL FROM sessions s "
                "LEFT JOIN essays e ON e.session_id = s.id GROUP BY s.id ORDER BY s.id"
            ).fetchall()
        return [SessionSummary(*row[:4], finished=bool(row[4])) for row in rows]

    def finish_session(self, session_id: int) -> None:
        """Record that every input of the session's batch was marked."""
        with self._writing() as conn:
            conn.execute("UPDATE sessions SET finished_at = ? WHERE id = ?", (_now(), session_id))

    def stored_sources(self, session_id: int) -> list[str]:
        """The sources of a session's stored essays, in marking order (what a resumed batch skips)."""
        with self._reading() as conn:
            return [row[0] for row in conn.execute("SELECT source FROM essays WHERE session_id = ? ORDER BY position", (session_id,))]

    def session(self, name: str) -> Session:
        with self._reading() as conn:
            row = conn.execute(
                "SELECT id, name, rubric_id, rubric_hash, rubric_path, created_at, finished_at FROM sessions WHERE name = ?",
                (name,),
            ).fetchone()
        if row is None:
            known = ", ".join(f"'{s.name}'" for s in self.sessions()) or "none yet"
            raise RubricateError(f"{self.path}: no marking session named '{name}'. Known sessions: {known}.")
        return Session(*row)

    # Essays

    def add_essay(self, session_id: int, *, source: str, text: str, result: dict | None, status: str,
                  error: str | None = None, student_name: str = "", student_id: str = "") -> int:
        """Record one marked essay, committed at once so a killed batch keeps it; returns its id."""
        if status not in STATUSES:
            raise RubricateError(f"{source}: essay status must be 'ok' or 'error', not {status!r}.")
        if status == "ok" and not isinstance(result, dict):
            raise RubricateError(f"{source}: an essay marked 'ok' needs its result (Report.to_dict()).")
        if status == "error" and not (error or "").strip():
            raise RubricateError(f"{source}: an essay that failed needs an error message saying why.")
        result_json = None if result is None else json.dumps(result)
        with self._writing() as conn:
            if conn.execute("SELECT 1 FROM sessions WHERE id = ?", (session_id,)).fetchone() is None:
                raise RubricateError(f"{self.path}: no marking session with id {session_id}. "
                                     f"Create it with create_session() first.")
            position = conn.execute(
                "SELECT COALESCE(MAX(position), 0) + 1 FROM essays WHERE session_id = ?", (session_id,)
            ).fetchone()[0]
            return conn.execute(
                "INSERT INTO essays (session_id, position, source, student_name, student_id, text, "
                "result, status, error, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (session_id, position, source, student_name, student_id, text,
                 result_json, status, error, _now()),
            ).lastrowid

    def essays(self, session_id: int) -> list[StoredEssay]:
        """A session's essays in marking order, each with the tutor's overrides and comments."""
        with self._reading() as conn:
            rows = conn.execute(
                "SELECT id, session_id, position, source, student_name, student_id, text, result, "
                "status, error, created_at FROM essays WHERE session_id = ? ORDER BY position",
                (session_id,),
            ).fetchall()
            overrides: dict[int, dict[str, int]] = {}
            for essay_id, factor_id, level in conn.execute(
                "SELECT o.essay_id, o.factor_id, o.level FROM level_overrides o "
                "JOIN essays e ON e.id = o.essay_id WHERE e.session_id = ?", (session_id,)
            ):
                overrides.setdefault(essay_id, {})[factor_id] = level
            marks = dict(conn.execute(
                "SELECT m.essay_id, m.mark FROM mark_overrides m "
                "JOIN essays e ON e.id = m.essay_id WHERE e.session_id = ?", (session_id,)
            ).fetchall())
            comments: dict[int, list[Comment]] = {}
            for essay_id, text, created_at in conn.execute(
                "SELECT c.essay_id, c.text, c.created_at FROM comments c "
                "JOIN essays e ON e.id = c.essay_id WHERE e.session_id = ? ORDER BY c.id", (session_id,)
            ):
                comments.setdefault(essay_id, []).append(Comment(text, created_at))
        return [
            StoredEssay(
                *row[:7],
                result=None if row[7] is None else json.loads(row[7]),
                status=row[8],
                error=row[9],
                created_at=row[10],
                overrides=overrides.get(row[0], {}),
                mark_override=marks.get(row[0]),
                comments=tuple(comments.get(row[0], ())),
            )
            for row in rows
        ]

    # The tutor's decisions

    def set_level_override(self, essay_id: int, factor_id: str, level: int | None) -> None:
        """Set the tutor's level for one factor of one essay; None goes back to the tool's level."""
        if level is not None and not _is_level(level):
            raise RubricateError(f"Essay {essay_id}, factor '{factor_id}': level must be 0 (absent), "
                                 f"1 (mentioned) or 2 (developed), not {level!r}.")
        self._set_override("level_overrides", {"essay_id": essay_id, "factor_id": factor_id}, "level", level)

    def set_mark_override(self, essay_id: int, mark: int | None) -> None:
        """Set the tutor's mark out of 20; None goes back to the tool's mark."""
        if mark is not None and not _is_mark(mark):
            raise RubricateError(f"Essay {essay_id}: mark must be a whole number from 0 to {MAX_MARK}, "
                                 f"not {mark!r}.")
        self._set_override("mark_overrides", {"essay_id": essay_id}, "mark", mark)

    def _set_override(self, table: str, key: dict[str, object], column: str, value: int | None) -> None:
        with self._writing() as conn:
            self._write_override(conn, table, key, column, value)

    def _write_override(self, conn: sqlite3.Connection, table: str, key: dict[str, object], column: str, value: int | None) -> None:
        """Write or clear one override row; clearing it lets the tool's value show again."""
        names = ", ".join(key)
        self._require_essay(conn, key["essay_id"])
        if value is None:
            where = " AND ".join(f"{name} = ?" for name in key)
            conn.execute(f"DELETE FROM {table} WHERE {where}", tuple(key.values()))
        else:
            conn.execute(
                f"INSERT INTO {table} ({names}, {column}, updated_at) VALUES ({'?, ' * len(key)}?, ?) "
                f"ON CONFLICT ({names}) DO UPDATE SET {column} = excluded.{column}, "
                "updated_at = excluded.updated_at",
                (*key.values(), value, _now()),
            )

    def apply_decisions(self, decisions: Sequence[Decisions]) -> None:
        """Several essays' changes in one transaction: every one is kept, or (on any error) none."""
        for d in decisions:
            for factor_id, level in d.levels.items():
                if level is not None and not _is_level(level):
                    raise RubricateError(f"Essay {d.essay_id}, factor '{factor_id}': level must be 0, 1 or 2, not {level!r}.")
            if d.set_mark and d.mark is not None and not _is_mark(d.mark):
                raise RubricateError(f"Essay {d.essay_id}: mark must be a whole number from 0 to {MAX_MARK}, not {d.mark!r}.")
        with self._writing() as conn:
            for d in decisions:
                for factor_id, level in d.levels.items():
                    self._write_override(conn, "level_overrides", {"essay_id": d.essay_id, "factor_id": factor_id}, "level", level)
                if d.set_mark:
                    self._write_override(conn, "mark_overrides", {"essay_id": d.essay_id}, "mark", d.mark)
                if d.comment and d.comment.strip():
                    self._require_essay(conn, d.essay_id)
                    conn.execute("INSERT INTO comments (essay_id, text, created_at) VALUES (?, ?, ?)", (d.essay_id, d.comment, _now()))

    def add_comment(self, essay_id: int, text: str) -> None:
        if not text.strip():
            raise RubricateError(f"Essay {essay_id}: the comment is empty. Write something for the student.")
        with self._writing() as conn:
            self._require_essay(conn, essay_id)
            conn.execute("INSERT INTO comments (essay_id, text, created_at) VALUES (?, ?, ?)",
                         (essay_id, text, _now()))

    def _require_essay(self, conn: sqlite3.Connection, essay_id: int) -> None:
        if conn.execute("SELECT 1 FROM essays WHERE id = ?", (essay_id,)).fetchone() is None:
            raise RubricateError(f"{self.path}: no essay with id {essay_id}. "
                                 f"List a session's essays to find the right id.")

    # Drafts: a student's successive attempts at one question

    def add_draft(self, student_key: str, rubric_id: str, text: str, result: dict) -> int:
        if not student_key.strip():
            raise RubricateError("A draft needs the student's name or id to be kept in their history.")
        with self._writing() as conn:
            return conn.execute(
                "INSERT INTO drafts (student_key, rubric_id, text, result, created_at) VALUES (?, ?, ?, ?, ?)",
                (student_key, rubric_id, text, json.dumps(result), _now()),
            ).lastrowid

    def drafts(self, student_key: str, rubric_id: str) -> list[Draft]:
        """A student's drafts for one question, oldest first."""
        with self._reading() as conn:
            rows = conn.execute(
                "SELECT id, student_key, rubric_id, text, result, created_at FROM drafts "
                "WHERE student_key = ? AND rubric_id = ? ORDER BY id",
                (student_key, rubric_id),
            ).fetchall()
        return [Draft(id_, key, rid, text, json.loads(result), created) for id_, key, rid, text, result, created in rows]

    # Recalibrated thresholds: kept per rubric version, since a changed rubric needs new ones

    def save_thresholds(self, rubric_id: str, rubric_hash: str, params: dict) -> None:
        """Keep newly tuned scoring numbers; earlier ones stay as history."""
        with self._writing() as conn:
            conn.execute(
                "INSERT INTO thresholds (rubric_id, rubric_hash, params, created_at) VALUES (?, ?, ?, ?)",
                (rubric_id, rubric_hash, json.dumps(params), _now()),
            )

    def thresholds(self, rubric_id: str, rubric_hash: str) -> dict | None:
        """The latest numbers tuned for exactly this rubric file, or None if it was never tuned."""
        with self._reading() as conn:
            row = conn.execute(
                "SELECT params FROM thresholds WHERE rubric_id = ? AND rubric_hash = ? ORDER BY id DESC LIMIT 1",
                (rubric_id, rubric_hash),
            ).fetchone()
        return None if row is None else json.loads(row[0])


def _is_level(value: object) -> bool:
    return type(value) is int and value in LEVELS  # bool is an int; True is not a level


def _is_mark(value: object) -> bool:
    return type(value) is int and 0 <= value <= MAX_MARK
