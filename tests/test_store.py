"""The marking store keeps sessions, essays and tutors' decisions in a real SQLite file."""
import json
import os
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import platformdirs
import pytest

from models.errors import RubricateError
from models.report import FactorResult, Report
from models.store import MIGRATIONS, default_db_path, draft_changes, migrate, open_store

REPO = Path(__file__).resolve().parent.parent
WRITER = Path(__file__).resolve().parent / "helpers_store_writer.py"
FACTORS = ("terror", "propaganda", "economy")


def report(levels=(2, 1, 0), overall=50.0, mark=12) -> dict:
    """A real report contract, as the engine would hand it to the store."""
    return Report(
        rubric_id="stalin_leader",
        overall=overall,
        mark_20=mark,
        factors=tuple(FactorResult(fid, fid.title(), level, level / 2) for fid, level in zip(FACTORS, levels)),
    ).to_dict()


def as_json(result: dict) -> dict:
    """The store hands back the JSON contract: tuples come back as lists."""
    return json.loads(json.dumps(result))


@pytest.fixture
def db(tmp_path):
    return tmp_path / "marks.sqlite3"


@pytest.fixture
def store(db):
    with open_store(db) as opened:
        yield opened


def add_ok_essay(store, session_id, source="ali.txt", **kwargs):
    return store.add_essay(session_id, source=source, text="Stalin purged the party.", result=report(),
                           status="ok", **kwargs)


# Where the database lives

def test_db_path_comes_from_rubricate_db_when_set(monkeypatch, tmp_path):
    monkeypatch.setenv("RUBRICATE_DB", str(tmp_path / "elsewhere.sqlite3"))
    assert default_db_path() == tmp_path / "elsewhere.sqlite3"


def test_db_path_defaults_to_user_data_folder_outside_the_repo(monkeypatch):
    monkeypatch.delenv("RUBRICATE_DB", raising=False)
    path = default_db_path()
    assert path == Path(platformdirs.user_data_dir("rubricate")) / "rubricate.sqlite3"
    assert not path.resolve().is_relative_to(REPO)


def test_open_store_without_path_uses_rubricate_db(monkeypatch, tmp_path):
    monkeypatch.setenv("RUBRICATE_DB", str(tmp_path / "nested" / "env.sqlite3"))
    with open_store() as store:
        store.create_session("Y13 mock", "stalin_leader", "abc")
    assert (tmp_path / "nested" / "env.sqlite3").is_file()


def test_a_file_that_is_not_a_database_is_a_clear_error(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("not a database, just some notes " * 100)
    with pytest.raises(RubricateError, match="notes.txt.*not a Rubricate marking database"):
        open_store(notes)


# Sessions and essays survive closing and reopening

def test_everything_stored_is_there_after_reopening(db):
    with open_store(db) as store:
        session_id = store.create_session("Y13 mock", "stalin_leader", "hash1", "rubric/stalin_leader.yaml")
        first = add_ok_essay(store, session_id, student_name="Ali", student_id="S1")
        second = store.add_essay(session_id, source="broken.pdf", text="", result=None, status="error",
                                 error="broken.pdf: no text layer")
        store.add_draft("S1", "stalin_leader", "first go", report(levels=(0, 0, 0), overall=0.0, mark=0))
        store.save_thresholds("stalin_leader", "hash1", {"point_threshold": 0.25})

    with open_store(db) as store:
        assert store.sessions()[0].name == "Y13 mock"
        assert store.sessions()[0].essays == 2
        session = store.session("Y13 mock")
        assert (session.rubric_id, session.rubric_hash, session.rubric_path) == (
            "stalin_leader", "hash1", "rubric/stalin_leader.yaml")
        ok, failed = store.essays(session.id)
        assert (ok.id, ok.position, ok.source, ok.student_name, ok.student_id) == (first, 1, "ali.txt", "Ali", "S1")
        assert ok.text == "Stalin purged the party."
        assert ok.result == as_json(report())
        assert ok.status == "ok"
        assert (failed.id, failed.position, failed.status, failed.result) == (second, 2, "error", None)
        assert failed.error == "broken.pdf: no text layer"
        assert store.drafts("S1", "stalin_leader")[0].text == "first go"
        assert store.thresholds("stalin_leader", "hash1") == {"point_threshold": 0.25}


def test_duplicate_session_name_is_a_clear_error(store):
    store.create_session("Y13 mock", "stalin_leader", "abc")
    with pytest.raises(RubricateError, match="'Y13 mock' already exists"):
        store.create_session("Y13 mock", "stalin_leader", "abc")
    assert len(store.sessions()) == 1


def test_missing_session_error_names_it_and_lists_known_ones(store):
    store.create_session("Y12 autumn", "stalin_leader", "abc")
    store.create_session("Y13 mock", "stalin_leader", "abc")
    with pytest.raises(RubricateError, match="'Y11'.*Known sessions: 'Y12 autumn', 'Y13 mock'"):
        store.session("Y11")


def test_essay_for_a_session_that_does_not_exist_is_refused(store):
    with pytest.raises(RubricateError, match="no marking session with id 99"):
        add_ok_essay(store, 99)


def test_ok_essay_without_a_result_is_refused(store):
    session_id = store.create_session("Y13 mock", "stalin_leader", "abc")
    with pytest.raises(RubricateError, match="ali.txt.*needs its result"):
        store.add_essay(session_id, source="ali.txt", text="...", result=None, status="ok")
    assert store.essays(session_id) == []


def test_session_list_counts_essays_per_session(store):
    mock = store.create_session("Y13 mock", "stalin_leader", "abc")
    store.create_session("Y12 autumn", "stalin_leader", "abc")
    add_ok_essay(store, mock)
    add_ok_essay(store, mock, source="bea.txt")
    assert [(s.name, s.essays) for s in store.sessions()] == [("Y13 mock", 2), ("Y12 autumn", 0)]


# The tutor's decisions

def test_overrides_and_comments_persist_and_final_values_use_them(db):
    with open_store(db) as store:
        session_id = store.create_session("Y13 mock", "stalin_leader", "abc")
        essay_id = add_ok_essay(store, session_id)
        store.set_level_override(essay_id, "economy", 2)
        store.set_level_override(essay_id, "terror", 1)
        store.set_mark_override(essay_id, 15)
        store.add_comment(essay_id, "Good on the purges.")
        store.add_comment(essay_id, "Say more about the Five-Year Plans.")

    with open_store(db) as store:
        (essay,) = store.essays(store.session("Y13 mock").id)
        assert essay.overrides == {"economy": 2, "terror": 1}
        assert essay.final_levels(FACTORS) == {"terror": 1, "propaganda": 1, "economy": 2}
        assert essay.mark_override == 15
        assert essay.final_mark == 15
        assert [c.text for c in essay.comments] == ["Good on the purges.", "Say more about the Five-Year Plans."]


def test_without_overrides_final_values_are_the_tools(store):
    session_id = store.create_session("Y13 mock", "stalin_leader", "abc")
    add_ok_essay(store, session_id)
    (essay,) = store.essays(session_id)
    assert essay.final_levels(FACTORS) == {"terror": 2, "propaganda": 1, "economy": 0}
    assert essay.final_mark == 12


def test_clearing_an_override_goes_back_to_the_tools_value(store):
    session_id = store.create_session("Y13 mock", "stalin_leader", "abc")
    essay_id = add_ok_essay(store, session_id)
    store.set_level_override(essay_id, "terror", 0)
    store.set_mark_override(essay_id, 3)
    store.set_level_override(essay_id, "terror", None)
    store.set_mark_override(essay_id, None)
    (essay,) = store.essays(session_id)
    assert essay.final_levels(["terror"]) == {"terror": 2}
    assert essay.final_mark == 12


def test_overriding_twice_keeps_the_latest(store):
    session_id = store.create_session("Y13 mock", "stalin_leader", "abc")
    essay_id = add_ok_essay(store, session_id)
    store.set_mark_override(essay_id, 10)
    store.set_mark_override(essay_id, 11)
    store.set_level_override(essay_id, "economy", 1)
    store.set_level_override(essay_id, "economy", 2)
    (essay,) = store.essays(session_id)
    assert essay.final_mark == 11
    assert essay.overrides == {"economy": 2}


def test_failed_essay_has_no_final_mark_until_the_tutor_gives_one(store):
    session_id = store.create_session("Y13 mock", "stalin_leader", "abc")
    essay_id = store.add_essay(session_id, source="scan.pdf", text="", result=None, status="error",
                               error="scan.pdf: no text")
    (essay,) = store.essays(session_id)
    assert essay.final_mark is None
    assert essay.final_levels(["terror"]) == {"terror": None}
    store.set_mark_override(essay_id, 9)
    assert store.essays(session_id)[0].final_mark == 9


@pytest.mark.parametrize("level", [3, -1, 1.5, True, "2"])
def test_level_outside_0_1_2_is_refused(store, level):
    essay_id = add_ok_essay(store, store.create_session("Y13 mock", "stalin_leader", "abc"))
    with pytest.raises(RubricateError, match="'terror': level must be 0 .* 1 .* or 2"):
        store.set_level_override(essay_id, "terror", level)


@pytest.mark.parametrize("mark", [21, -1, 12.5, False])
def test_mark_outside_0_to_20_is_refused(store, mark):
    essay_id = add_ok_essay(store, store.create_session("Y13 mock", "stalin_leader", "abc"))
    with pytest.raises(RubricateError, match="mark must be a whole number from 0 to 20"):
        store.set_mark_override(essay_id, mark)


def test_override_for_an_unknown_essay_is_refused(store):
    with pytest.raises(RubricateError, match="no essay with id 42"):
        store.set_mark_override(42, 10)


# Drafts and thresholds

def test_drafts_come_back_oldest_first_for_that_student_and_question(store):
    store.add_draft("S1", "stalin_leader", "draft one", report(levels=(1, 0, 0)))
    store.add_draft("S2", "stalin_leader", "someone else", report())
    store.add_draft("S1", "other_question", "other question", report())
    store.add_draft("S1", "stalin_leader", "draft two", report(levels=(2, 1, 0)))
    drafts = store.drafts("S1", "stalin_leader")
    assert [d.text for d in drafts] == ["draft one", "draft two"]
    assert drafts[1].result == as_json(report(levels=(2, 1, 0)))


def test_thresholds_are_kept_per_rubric_version_latest_wins(store):
    assert store.thresholds("stalin_leader", "v1") is None
    store.save_thresholds("stalin_leader", "v1", {"point_threshold": 0.3})
    store.save_thresholds("stalin_leader", "v1", {"point_threshold": 0.28})
    assert store.thresholds("stalin_leader", "v1") == {"point_threshold": 0.28}
    assert store.thresholds("stalin_leader", "v2") is None


def test_draft_changes_reports_gained_and_lost_factors():
    before = report(levels=(2, 0, 1), overall=40.0, mark=9)
    after = report(levels=(1, 2, 1), overall=55.5, mark=12)
    change = draft_changes(before, after)
    assert [(c.factor_id, c.before, c.after) for c in change.gained] == [("propaganda", 0, 2)]
    assert [(c.factor_id, c.before, c.after) for c in change.lost] == [("terror", 2, 1)]
    assert change.coverage_change == pytest.approx(15.5)
    assert change.mark_change == 3


def test_draft_changes_counts_a_factor_new_to_the_rubric_as_previously_absent():
    before = report(levels=(1, 1, 1))
    before["factors"] = before["factors"][:2]
    change = draft_changes(before, report(levels=(1, 1, 2)))
    assert [(c.factor_id, c.before, c.after) for c in change.gained] == [("economy", 0, 2)]
    assert change.lost == ()


# SQLite settings and migrations

def test_database_is_in_wal_mode_with_foreign_keys_on(db, store):
    with sqlite3.connect(db) as other:
        assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"  # WAL is a property of the file
    assert store._conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1


def test_new_database_is_at_the_latest_schema_version(db, store):
    with sqlite3.connect(db) as other:
        assert other.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)


def test_database_at_version_1_migrates_to_latest_on_open(db):
    conn = sqlite3.connect(db, isolation_level=None)
    assert migrate(conn, MIGRATIONS[:1]) == 1
    conn.execute("INSERT INTO sessions (name, rubric_id, rubric_hash, created_at) "
                 "VALUES ('old', 'stalin_leader', 'abc', '2024-01-01T00:00:00+00:00')")
    conn.close()

    with open_store(db) as store:
        assert store._conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert store.session("old").rubric_id == "stalin_leader"
        add_ok_essay(store, store.session("old").id)
        assert store.sessions()[0].essays == 1


def test_a_second_migration_applies_on_top_of_the_first(db):
    conn = sqlite3.connect(db, isolation_level=None)
    migrate(conn, MIGRATIONS[:1])
    extra = (("ALTER TABLE essays ADD COLUMN marked_by TEXT NOT NULL DEFAULT ''",),)
    assert migrate(conn, MIGRATIONS[:1] + extra) == 2
    columns = [row[1] for row in conn.execute("PRAGMA table_info(essays)")]
    conn.close()
    assert "marked_by" in columns


def test_a_failing_migration_leaves_the_database_as_it_was(db):
    conn = sqlite3.connect(db, isolation_level=None)
    migrate(conn, MIGRATIONS[:1])
    broken = (("CREATE TABLE half_done (x)", "THIS IS NOT SQL"),)
    with pytest.raises(sqlite3.OperationalError):
        migrate(conn, MIGRATIONS[:1] + broken)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    assert conn.execute("SELECT name FROM sqlite_master WHERE name = 'half_done'").fetchone() is None
    conn.close()


def test_database_from_a_newer_rubricate_is_refused(db):
    with sqlite3.connect(db) as conn:
        conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    with pytest.raises(RubricateError, match="newer Rubricate"):
        open_store(db)


# Several readers and writers

def test_reader_sees_committed_essays_while_a_write_is_open(db, store):
    session_id = store.create_session("Y13 mock", "stalin_leader", "abc")
    committed = add_ok_essay(store, session_id)

    writer = sqlite3.connect(db, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute(
        "INSERT INTO essays (session_id, position, source, text, result, status, created_at) "
        "VALUES (?, 2, 'bea.txt', '...', '{}', 'ok', '2024-01-01T00:00:00+00:00')", (session_id,))
    try:
        with open_store(db) as reader:  # would block or fail with 'database is locked' without WAL
            assert [e.id for e in reader.essays(session_id)] == [committed]
            assert reader.sessions()[0].essays == 1
        writer.execute("COMMIT")
    finally:
        writer.close()
    assert [e.source for e in store.essays(session_id)] == ["ali.txt", "bea.txt"]


def test_batch_keeps_committing_while_a_reader_holds_a_snapshot(db, store):
    session_id = store.create_session("Y13 mock", "stalin_leader", "abc")
    add_ok_essay(store, session_id)

    reader = sqlite3.connect(db, isolation_level=None)
    reader.execute("BEGIN")
    count = "SELECT COUNT(*) FROM essays"
    try:
        assert reader.execute(count).fetchone()[0] == 1
        add_ok_essay(store, session_id, source="bea.txt")  # without WAL the reader's lock stops this commit
        assert reader.execute(count).fetchone()[0] == 1  # the reader's snapshot does not move under it
        reader.execute("COMMIT")
        assert reader.execute(count).fetchone()[0] == 2
    finally:
        reader.close()


def test_killed_batch_keeps_every_essay_it_reported_committed(db):
    writer = subprocess.Popen([sys.executable, str(WRITER), str(db)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    lines: queue.Queue = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(line) for line in writer.stdout], daemon=True)
    reader.start()
    reported: list[int] = []
    try:
        while len(reported) < 20:
            try:
                line = lines.get(timeout=120)
            except queue.Empty:
                pytest.fail(f"writer reported only {len(reported)} essays; stderr: {writer.stderr.read()}")
            reported.append(int(line))
        os.kill(writer.pid, signal.SIGKILL)
    finally:
        writer.kill()  # no-op if the SIGKILL above landed
        writer.wait()
    reader.join()
    while not lines.empty():  # essays committed between our 20th read and the kill
        line = lines.get()
        if line.endswith("\n"):  # a line cut off by the kill was never fully reported
            reported.append(int(line))

    assert writer.returncode == -signal.SIGKILL, "the writer finished before it was killed; raise MAX_ESSAYS"
    with open_store(db) as store:
        assert store._conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        stored = {essay.id for essay in store.essays(store.session("kill test").id)}
    assert set(reported) <= stored
    assert len(reported) >= 20


# Files the store cannot use: read-only, in a read-only folder, damaged

def _refuse_write_access(monkeypatch, path: Path) -> None:
    """As if `path` were not writable: tests run as root, whom chmod does not stop."""
    real_access = os.access

    def access(target, mode, *args, **kwargs):
        if Path(target) == path and mode == os.W_OK:
            return False
        return real_access(target, mode, *args, **kwargs)

    monkeypatch.setattr(os, "access", access)


def _with_essays(db: Path, count: int = 200) -> None:
    with open_store(db) as writer:
        session_id = writer.create_session("Y13 mock", "stalin_leader", "abc")
        for n in range(count):
            add_ok_essay(writer, session_id, source=f"{n}.txt")


def test_a_read_only_database_can_be_listed_but_a_write_says_read_only(db, monkeypatch):
    _with_essays(db, 3)
    _refuse_write_access(monkeypatch, db)
    with open_store(db) as store:
        assert store.read_only
        assert [s.name for s in store.sessions()] == ["Y13 mock"]
        assert len(store.essays(store.session("Y13 mock").id)) == 3
        with pytest.raises(RubricateError, match=r"marks.sqlite3: the marking database is read-only.*chmod u\+w"):
            store.create_session("Y13 resit", "stalin_leader", "abc")
        with pytest.raises(RubricateError, match="read-only"):
            add_ok_essay(store, store.session("Y13 mock").id)


def test_batch_into_a_read_only_database_is_one_line_without_a_traceback(db, monkeypatch, tmp_path, capsys):
    from app.cli import main

    _with_essays(db, 1)
    _refuse_write_access(monkeypatch, db)
    essay = tmp_path / "ali.txt"
    essay.write_text("Stalin used his post as General Secretary to appoint his supporters to the party.", encoding="utf-8")
    assert main(["batch", "--quiet", "--db", str(db), "--session", "resit", "--out", str(tmp_path / "o.jsonl"), str(essay)]) == 2
    err = capsys.readouterr().err
    assert "read-only" in err and str(db) in err and err.count("\n") == 1


def test_a_database_in_a_read_only_folder_says_the_folder_is_read_only(db, monkeypatch):
    _with_essays(db, 1)
    _refuse_write_access(monkeypatch, db.parent)
    with pytest.raises(RubricateError) as caught:
        open_store(db)
    message = str(caught.value)
    assert "its folder" in message and "is read-only (SQLite needs to write beside it" in message
    assert "not a Rubricate marking database" not in message


def test_a_damaged_database_is_refused_and_never_written(db):
    _with_essays(db, 200)
    size = db.stat().st_size
    with db.open("r+b") as handle:  # a disk error: garbage over pages in the middle of the file
        handle.seek(size // 2)
        handle.write(b"\xa5" * 8192)
    damaged = db.read_bytes()
    with pytest.raises(RubricateError) as caught:
        open_store(db)
    message = str(caught.value)
    assert "is damaged:" in message and ".recover" in message and "\n" not in message
    assert db.read_bytes() == damaged


def test_damage_found_after_opening_is_a_one_line_error(db):
    from models.store import Store

    _with_essays(db, 200)
    size = db.stat().st_size
    with db.open("r+b") as handle:  # damaged after the open-time check (another program, a failing disk)
        handle.seek(size // 2)
        handle.write(b"\xa5" * 8192)
    with Store(sqlite3.connect(db, isolation_level=None), db) as store:  # the open check skipped
        with pytest.raises(RubricateError, match="is damaged"):
            store.essays(store.session("Y13 mock").id)
