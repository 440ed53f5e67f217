"""Tests of the gradebook in a PostgreSQL server (autograder/gradebook.py): graders writing at once, bad URLs."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import autograder_toy as toy
import postgres_server
from autograder import grade_submissions
from autograder.gradebook import GradebookUnavailable, GradebookWriter
from autograder.template import load_template

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def server():
    """A throw-away PostgreSQL server for this module, always stopped at the end."""
    if postgres_server.postgres_bin() is None:
        pytest.skip("PostgreSQL is not installed (initdb, pg_ctl): apt-get install postgresql; CI installs it")
    with postgres_server.throwaway_server() as running:
        yield running


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    return toy.make_course(tmp_path_factory.mktemp("toy_course"))


def grader_command(course: Path, folder: Path, workspace: Path, db_url: str) -> list[str]:
    return [sys.executable, "-m", "autograder", "toy", str(folder), "--workspace", str(workspace),
            "--course-root", str(course), "--db-url", db_url, "--workers", "1", "--no-progress",
            "--cell-timeout", "20", "--notebook-timeout", "60"]


def test_two_graders_at_once_lose_and_mix_no_grade(server, course, tmp_path):
    """Do two grader processes started together on overlapping classes, writing into one PostgreSQL database,
    leave exactly one submission per student whose grades match their grades.csv, cell by cell?"""
    db_url = server.create_database()
    answers = {"ann": toy.HONEST, "ben": toy.PARTIAL, "cat": toy.HONEST}
    folders = {"first": ["ann", "cat"], "second": ["cat", "ben"]}  # cat is graded by both
    for name, students in folders.items():
        for student in students:
            toy.write_submitted(tmp_path / name, student, toy.submission(course, answers[student]))
    procs = [subprocess.Popen(grader_command(course, tmp_path / name, tmp_path / f"ws-{name}", db_url),
                              cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for name in folders]
    outputs = [proc.communicate(timeout=240)[0] for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], outputs

    expected: dict[str, float] = {}
    cells: dict[str, dict[str, float]] = {}
    for name in folders:
        rows = list(csv.DictReader(open(tmp_path / f"ws-{name}" / "grades.csv")))
        assert all(row["outcome"] == "graded" for row in rows), rows
        assert "gradebook" not in " ".join(row["detail"] for row in rows), rows
        for row in rows:
            assert expected.setdefault(row["student"], float(row["score"])) == float(row["score"])
            result = json.loads((tmp_path / f"ws-{name}" / "results" / "toy" / f"{row['student']}.json").read_text())
            cells[row["student"]] = {gid: t["points"] for gid, t in result["tests"].items()}
    assert expected == {"ann": 6, "ben": 3, "cat": 6}

    from nbgrader.api import Gradebook

    with Gradebook(db_url) as gb:
        assert sorted(s.id for s in gb.students) == sorted(answers)
        submissions = gb.assignment_submissions("toy")
        assert sorted(s.student_id for s in submissions) == sorted(answers)  # one each, cat not twice
        for submission in submissions:
            assert submission.score == expected[submission.student_id]
            assert submission.max_score == 6
            for gid, points in cells[submission.student_id].items():
                grade = gb.find_grade(gid, "toy", "toy", submission.student_id)
                assert (grade.auto_score, grade.needs_manual_grade) == (points, False)
        assert sorted(c.name for c in gb.find_notebook("toy", "toy").grade_cells) == sorted(cells["ann"])


def test_writers_racing_on_the_same_rows_all_succeed(server, course):
    """Do four writers with their own connections, recording the same students at the same moment into a fresh
    database (tables, assignment, students and submissions all created in the race), all succeed without
    duplicates, the last score of each student winning whole?"""
    db_url = server.create_database()
    template = load_template(course, "toy")
    students = [f"s{i:02d}" for i in range(8)]
    start = threading.Barrier(4)
    notes: list[str] = []

    def write(k: int) -> None:
        writer = GradebookWriter(db_url)
        start.wait()
        try:
            for student in students:
                full = k % 2 == 1  # odd writers record full marks, even ones zero: a mix would show
                tests = {"test_add": {"points": 2.0 if full else 0.0}, "test_count": {"points": 3.0 if full else 0.0}}
                notes.append(writer.record(template, student, tests))
        finally:
            writer.close()

    threads = [threading.Thread(target=write, args=(k,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert notes == [""] * (4 * len(students))

    from nbgrader.api import Gradebook

    with Gradebook(db_url) as gb:
        assert len(gb.assignments) == 1 and len(gb.find_assignment("toy").notebooks) == 1
        assert sorted(s.student_id for s in gb.assignment_submissions("toy")) == students
        for student in students:
            scores = tuple(gb.find_grade(gid, "toy", "toy", student).auto_score
                           for gid in ("test_add", "test_count", "test_greet"))
            assert scores in ((2.0, 3.0, None), (0.0, 0.0, None)), (student, scores)


def test_bad_database_url_stops_before_anyone_is_graded(server, course, tmp_path, capsys):
    """Does a --db-url naming a database the server does not have give one clear error line (exit status 2) and
    grade nobody?"""
    from autograder.__main__ import main

    toy.write_submitted(tmp_path / "submitted", "ann", toy.submission(course))
    ws = tmp_path / "ws"
    status = main(grader_command(course, tmp_path / "submitted", ws, server.url("no_such_db"))[3:])
    err = capsys.readouterr().err
    assert status == 2, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: cannot use the gradebook database"), err
    assert 'database "no_such_db" does not exist' in lines[0] and "Nobody was graded" in lines[0]
    assert "--db-url" in lines[0]
    assert not (ws / "results").exists() and not (ws / "grades.csv").exists() and not (ws / "submitted").exists()


@pytest.mark.parametrize("kind", ["no server", "postgres scheme", "not a url", "missing driver"])
def test_wrong_database_url_is_refused_before_grading(course, tmp_path, kind):
    """Does grade_submissions refuse a wrong or unreachable db_url with a message that says what to do, before
    any submission is imported or graded?"""
    db_url, says = {"no server": (f"postgresql://grader@/gradebook?host={tmp_path / 'nothing'}", "socket"),
                    "postgres scheme": ("postgres://grader@localhost/gradebook", "spells the scheme postgresql://"),
                    "not a url": ("gradebook", "Could not parse"),
                    "missing driver": ("postgresql+nosuchdriver://grader@localhost/gradebook", "nosuchdriver"),
                    }[kind]
    toy.write_submitted(tmp_path / "submitted", "ann", toy.submission(course))
    ws = tmp_path / "ws"
    with pytest.raises(GradebookUnavailable) as err:
        grade_submissions("toy", tmp_path / "submitted", workers=1, workspace=ws, course_root=course, db_url=db_url)
    assert says in str(err.value) and "Nobody was graded" in str(err.value), str(err.value)
    assert not (ws / "results").exists() and not (ws / "submitted").exists()


def test_password_never_shown(tmp_path):
    """Does the error about an unreachable server hide the password of the URL?"""
    writer = GradebookWriter(f"postgresql://grader:s3cret-pw@/gradebook?host={tmp_path}")
    with pytest.raises(GradebookUnavailable) as err:
        writer.check()
    assert "s3cret-pw" not in str(err.value) and "***" in str(err.value)


def test_lost_races_are_retried_and_other_errors_reported(course, monkeypatch):
    """Is a transaction that lost a race (a row created at that moment, a serialization failure) run again, while
    any other database error leaves the gradebook alone with a note saying why?"""
    from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError

    class PgError(Exception):
        def __init__(self, pgcode: str):
            super().__init__(f"pgcode {pgcode}")
            self.pgcode = pgcode

    template = load_template(course, "toy")
    writer = GradebookWriter("postgresql://grader@/unused")
    monkeypatch.setattr(writer, "prepare", lambda template: None)
    monkeypatch.setattr("autograder.gradebook.time.sleep", lambda seconds: None)
    raised = [IntegrityError("INSERT", {}, PgError("23505")), OperationalError("UPDATE", {}, PgError("40001")),
              OperationalError("UPDATE", {}, PgError("40P01"))]
    calls = []

    def write(*args):
        calls.append(args)
        if raised:
            raise raised.pop(0)

    monkeypatch.setattr(writer, "_write", write)
    assert writer.record(template, "ann", {"test_add": {"points": 2}}) == ""
    assert len(calls) == 4  # three lost races, then the write that went through

    def broken(*args):
        calls.append(args)
        raise ProgrammingError("SELECT", {}, PgError("42P01"))

    calls.clear()
    monkeypatch.setattr(writer, "_write", broken)
    note = writer.record(template, "ann", {"test_add": {"points": 2}})
    assert note.startswith("gradebook not updated:") and "42P01" in note and len(calls) == 1
