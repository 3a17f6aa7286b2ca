"""The CLI has what the app has: pairs of essays sharing passages, a session's exports, an edited table read back."""
from __future__ import annotations

import csv
import io
import json
import os
import zipfile
from pathlib import Path

import pytest

from app.cli import main
from conftest import devset_essay as devset
from models.store import open_store


@pytest.fixture
def db(tmp_path):
    return tmp_path / "marks.sqlite3"


def test_batch_pairs_lists_a_shared_paragraph_and_names_a_same_reference_pair(model, tmp_path, capsys):
    shared = devset("d01.txt").split("\n\n")[2]
    pasted = "\n\n".join(model.corpus.essays[2].text.split("\n\n")[:4])
    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "ann.txt").write_text(devset("d02.txt") + "\n\n" + shared, encoding="utf-8")
    (folder / "ben.txt").write_text(devset("d04.txt") + "\n\n" + shared, encoding="utf-8")
    (folder / "cat.txt").write_text(devset("d12.txt") + "\n\n" + pasted, encoding="utf-8")
    (folder / "dan.txt").write_text(devset("d16.txt") + "\n\n" + pasted, encoding="utf-8")
    pairs_file = tmp_path / "pairs.jsonl"
    assert main(["batch", "--quiet", "--out", str(tmp_path / "marks.jsonl"), "--pairs", str(pairs_file), str(folder)]) == 0
    pairs = {(p["first"].rsplit("/", 1)[-1], p["second"].rsplit("/", 1)[-1]): p
             for p in map(json.loads, pairs_file.read_text(encoding="utf-8").splitlines())}
    assert set(pairs) == {("ann.txt", "ben.txt"), ("cat.txt", "dan.txt")}
    students = pairs[("ann.txt", "ben.txt")]
    assert students["same_reference"] is None and students["shared_words"] >= 40
    ann, ben = (folder / "ann.txt").read_text(encoding="utf-8"), (folder / "ben.txt").read_text(encoding="utf-8")
    passage = students["passages"][0]
    assert ann[passage["first_start"]:passage["first_end"]] == passage["text"]
    assert ben[passage["second_start"]:passage["second_end"]].split() == passage["text"].split()
    assert passage["text"][:40] in shared
    assert pairs[("cat.txt", "dan.txt")]["same_reference"] == model.corpus.essays[2].title
    assert "2 pair(s) of essays share long passages" in capsys.readouterr().err


def marked_session(folder, tmp_path, db) -> None:
    folder.mkdir()
    (folder / "ann.txt").write_text(devset("d11.txt"), encoding="utf-8")
    (folder / "ben.txt").write_text(devset("d02.txt"), encoding="utf-8")
    assert main(["batch", "--quiet", "--out", str(tmp_path / "marks.csv"), "--session", "Y13", "--db", str(db), str(folder)]) == 0


def test_export_writes_the_students_reports_with_the_tutors_decisions(tmp_path, db, model):
    marked_session(tmp_path / "class", tmp_path, db)
    with open_store(db) as store:
        ann = store.essays(store.session("Y13").id)[0]
        store.set_level_override(ann.id, "testament", 2)
        store.set_mark_override(ann.id, 16)
    out = tmp_path / "reports.zip"
    assert main(["export", "--session", "Y13", "--db", str(db), "--out", str(out)]) == 0
    archive = zipfile.ZipFile(out)
    assert sorted(archive.namelist()) == ["feedback-ann.html", "feedback-ben.html"]
    page = archive.read("feedback-ann.html").decode()
    assert "Mark<b>16 / 20</b>" in page and "Mark estimate" not in page and "makes no point" not in page


def test_export_edit_and_import_round_trip_through_the_cli(tmp_path, db, model, capsys):
    marked_session(tmp_path / "class", tmp_path, db)
    exported = tmp_path / "marks.xlsx"
    assert main(["export", "--session", "Y13", "--db", str(db), "--out", str(exported)]) == 0
    from openpyxl import load_workbook

    book = load_workbook(exported)
    header = [c.value for c in book.active[1]]
    book.active.cell(row=2, column=header.index("Lenin's Testament") + 1).value = "developed"
    book.active.cell(row=3, column=header.index("mark /20") + 1).value = 12
    book.save(exported)
    assert main(["import", "--session", "Y13", "--db", str(db), str(exported)]) == 0
    assert "1 level(s), 1 mark(s), 0 comment(s)" in capsys.readouterr().err
    with open_store(db) as store:
        ann, ben = store.essays(store.session("Y13").id)
    assert ann.overrides == {"testament": 2} and ben.mark_override == 12

    again = tmp_path / "again.csv"
    assert main(["export", "--session", "Y13", "--db", str(db), "--out", str(again)]) == 0
    rows = list(csv.DictReader(io.StringIO(again.read_text(encoding="utf-8-sig"))))
    assert rows[0]["Lenin's Testament"] == "developed" and rows[1]["mark /20"] == "12"


def test_an_import_with_an_unknown_student_exits_nonzero_and_changes_nothing(tmp_path, db, model, capsys):
    marked_session(tmp_path / "class", tmp_path, db)
    exported = tmp_path / "marks.csv"
    assert main(["export", "--session", "Y13", "--db", str(db), "--out", str(exported)]) == 0
    text = exported.read_text(encoding="utf-8-sig").replace(",ben,", ",zed,").replace(",absent,", ",great,", 1)
    exported.write_text(text, encoding="utf-8")
    assert main(["import", "--session", "Y13", "--db", str(db), str(exported)]) == 2
    err = capsys.readouterr().err
    assert "nothing was imported" in err and "'zed'" in err and "'great' is not a level" in err
    with open_store(db) as store:
        assert all(not e.overrides and e.mark_override is None for e in store.essays(store.session("Y13").id))


def test_batch_csv_neutralises_a_file_name_a_spreadsheet_would_run(tmp_path, model):
    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "+cmd.txt").write_text(devset("d01.txt"), encoding="utf-8")
    (folder / "@SUM(1).txt").write_text(devset("d02.txt"), encoding="utf-8")
    out = tmp_path / "marks.csv"
    assert main(["batch", "--quiet", "--out", str(out), str(folder)]) == 0
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert sorted(r["student"] for r in rows) == ["'+cmd", "'@SUM(1)"]


def test_a_killed_batch_is_shown_incomplete_and_resume_marks_only_what_is_missing(tmp_path, db, model, capsys):
    from itertools import islice

    from models.marking import mark_into_session
    from models.reader import read_inputs

    folder = tmp_path / "class"
    folder.mkdir()
    for name in ("d01.txt", "d02.txt", "d05.txt"):
        (folder / name).write_text(devset(name), encoding="utf-8")
    with open_store(db) as store:  # a batch killed after its first essay was stored
        list(islice(mark_into_session(read_inputs([str(folder)]), model, store, "Y13", workers=1), 1))
    assert main(["sessions", "--db", str(db)]) == 0
    assert "Y13\t1 essay\t" in (listing := capsys.readouterr().out) and "incomplete" in listing

    out = str(tmp_path / "marks.jsonl")
    assert main(["batch", "--quiet", "--out", out, "--session", "Y13", "--db", str(db), str(folder)]) == 2
    assert "incomplete" in (err := capsys.readouterr().err) and "--resume" in err
    assert main(["batch", "--quiet", "--out", out, "--session", "Y13", "--resume", "--db", str(db), str(folder)]) == 0
    assert len(Path(out).read_text(encoding="utf-8").splitlines()) == 2  # only the two not yet stored
    with open_store(db) as store:
        stored = store.essays(store.session("Y13").id)
        assert sorted(Path(e.source).name for e in stored) == ["d01.txt", "d02.txt", "d05.txt"]
        assert store.session("Y13").finished_at is not None
    main(["sessions", "--db", str(db)])
    assert "Y13\t3 essays" in (listing := capsys.readouterr().out) and "incomplete" not in listing


def test_the_app_labels_an_incomplete_session(db, model):
    from app.widgets import session_label

    with open_store(db) as store:
        store.create_session("half", model.rubric.id, model.rubric.content_hash, str(model.rubric.path))
        (summary,) = store.sessions()
    assert not summary.finished and "incomplete" in session_label(summary)


def test_loading_a_model_leaves_the_host_processs_garbage_collector_alone():
    import subprocess
    import sys

    from conftest import REPO

    code = "import gc\nfrom models.engine import load_model\nload_model()\nprint(gc.get_freeze_count())\n"
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "0"


def test_a_process_kept_for_marking_uses_one_blas_thread_and_loading_a_model_leaves_threads_alone():
    import subprocess
    import sys

    from conftest import REPO

    code = ("from threadpoolctl import threadpool_info\nfrom models.engine import keep_for_process, load_model\n"
            "def blas(): return sorted({pool['num_threads'] for pool in threadpool_info() if pool['user_api'] == 'blas'})\n"
            "load_model()\nbefore = blas()\nkeep_for_process()\nprint(before, blas())\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                            env={**os.environ, "OPENBLAS_NUM_THREADS": "2"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[2] [1]"


def test_the_batch_command_freezes_its_heap_before_marking(tmp_path, model, monkeypatch):
    import models.engine

    frozen = []
    monkeypatch.setattr(models.engine, "keep_for_process", lambda: frozen.append(True))
    (tmp_path / "ann.txt").write_text(devset("d01.txt"), encoding="utf-8")
    assert main(["batch", "--quiet", "--workers", "1", "--out", str(tmp_path / "marks.jsonl"), str(tmp_path / "ann.txt")]) == 0
    assert frozen == [True]
