"""nbgrader's own workflow end to end with a real exchange folder, then our grader into the course's gradebook."""

from __future__ import annotations

import copy
import os
import shutil
import sys
from pathlib import Path

import nbformat

import autograder_toy as toy
from autograder import grade_submissions
from autograder.gradebook import manual_answers
from autograder.settings import Limits
from autograder.template import load_template

COURSE_ID = "lstm101"
#: A written answer graded by hand (nbgrader: grade + solution, a markdown cell), added to the toy assignment.
EXPLAIN = nbformat.v4.new_markdown_cell(
    "Four blocks of weights: one for each gate and one for the candidate cell state.",
    metadata={"nbgrader": {"grade": True, "solution": True, "locked": False, "points": 2, "grade_id": "explain",
                           "schema_version": 3}})


def course_config(course: Path, exchange: Path, **extra):
    """nbgrader's configuration for the instructor (course root) or a student (a home folder, `extra`)."""
    from traitlets.config import Config

    c = Config()
    c.CourseDirectory.root = str(course)
    c.CourseDirectory.source_directory = "solutions"
    c.CourseDirectory.release_directory = "exercises"
    c.CourseDirectory.course_id = COURSE_ID
    c.CourseDirectory.db_url = f"sqlite:///{course / 'gradebook.db'}"
    c.Exchange.root = str(exchange)
    c.ExchangeCollect.check_owner = False  # both simulated students are this process' user
    for key, value in extra.items():
        section, name = key.split("__")
        setattr(c[section], name, value)
    return c


def run_exchange(kind: str, config, assignment: str = "toy") -> None:
    from nbgrader.auth import Authenticator
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.exchange.default import (ExchangeCollect, ExchangeFetchAssignment, ExchangeReleaseAssignment,
                                           ExchangeSubmit)

    cls = {"release": ExchangeReleaseAssignment, "fetch": ExchangeFetchAssignment, "submit": ExchangeSubmit,
           "collect": ExchangeCollect}[kind]
    coursedir = CourseDirectory(config=config)
    coursedir.assignment_id = assignment
    cls(coursedir=coursedir, authenticator=Authenticator(config=config), config=config).start()


def answer(path: Path, answers: dict, written: str | None) -> None:
    """A student fills in the fetched notebook: code answers by grade_id, and the written answer if any."""
    nb = nbformat.read(str(path), as_version=4)
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in answers:
            cell.source = answers[gid]
        if gid == "explain" and written is not None:
            cell.source = written
    nbformat.write(nb, str(path))


def test_release_fetch_submit_collect_grade(tmp_path, monkeypatch):
    """Does a class go through nbgrader's generate → release → fetch → submit → collect with a real exchange
    folder, and does our grader, run on the collected submitted/ folder with the course's gradebook, leave in it
    (what formgrader shows) the auto scores of every test, the written answer of one student waiting for hand
    grading and the untouched answer of the other scored 0?"""
    from nbgrader.api import Gradebook
    from nbgrader.apps import NbGraderAPI

    monkeypatch.setenv("PATH", str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""))
    course, exchange = tmp_path / "course", tmp_path / "exchange"
    shutil.copytree(toy.TOY / "solutions", course / "solutions")
    source = course / "solutions" / "toy" / "toy.ipynb"
    nb = nbformat.read(str(source), as_version=4)
    nb.cells.append(copy.deepcopy(EXPLAIN))
    nbformat.write(nb, str(source))
    instructor = course_config(course, exchange)
    assert NbGraderAPI(config=instructor).generate_assignment("toy", force=True)["success"]
    run_exchange("release", instructor)
    assert (exchange / COURSE_ID / "outbound" / "toy" / "toy.ipynb").exists()

    students = {"ann": (toy.HONEST, "One block for each of the three gates and one for the candidate."),
                "ben": (toy.PARTIAL, None)}  # ben leaves the written answer as released
    for student, (answers, written) in students.items():
        home = tmp_path / "home" / student
        home.mkdir(parents=True)
        config = course_config(home, exchange, Exchange__assignment_dir=str(home),
                               Exchange__cache=str(home / ".nbgrader-cache"), CourseDirectory__student_id=student)
        run_exchange("fetch", config)
        answer(home / "toy" / "toy.ipynb", answers, written)
        run_exchange("submit", config)
    assert len(list((exchange / COURSE_ID / "inbound").glob("*+toy+*"))) == 2
    run_exchange("collect", instructor)
    assert sorted(p.name for p in (course / "submitted").iterdir()) == ["ann", "ben"]

    ws = tmp_path / "workspace"
    results = grade_submissions("toy", course / "submitted", workers=2, workspace=ws, course_root=course,
                                limits=Limits(cell_timeout=20, notebook_timeout=60),
                                db_url=f"sqlite:///{course / 'gradebook.db'}")
    by_student = {r.student: r for r in results}
    assert {s: (r.outcome, r.score, r.max_score) for s, r in by_student.items()} == {
        "ann": ("graded", 6, 8), "ben": ("graded", 3, 8)}
    assert all("2 points need manual grading" in r.detail for r in results)
    assert all("gradebook" not in r.detail for r in results)

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", COURSE_ID) as gb:
        ann, ben = gb.find_submission("toy", "ann"), gb.find_submission("toy", "ben")
        assert (ann.score, ann.max_score, ann.needs_manual_grade) == (6, 8, True)
        assert (ben.score, ben.max_score, ben.needs_manual_grade) == (3, 8, False)
        written = gb.find_grade("explain", "toy", "toy", "ann")
        assert (written.auto_score, written.needs_manual_grade, written.max_score) == (None, True, 2)
        untouched = gb.find_grade("explain", "toy", "toy", "ben")
        assert (untouched.auto_score, untouched.needs_manual_grade) == (0, False)
        assert gb.find_grade("test_count", "toy", "toy", "ben").auto_score == 0
        assert gb.find_grade("test_count", "toy", "toy", "ann").auto_score == 3
        assert gb.find_comment("explain", "toy", "toy", "ann") is not None  # formgrader's comment box
        assert [a.name for a in gb.assignments] == ["toy"]  # the rows nbgrader made, not a second copy


def test_manual_answers_compare_with_the_release_not_the_metadata(tmp_path):
    """Is a written answer judged answered by its text against the released one, whatever checksum the student's
    metadata carries, and is a deleted answer cell not waiting for a human?"""
    shutil.copytree(toy.TOY / "solutions", tmp_path / "solutions")
    source = tmp_path / "solutions" / "toy" / "toy.ipynb"
    nb = nbformat.read(str(source), as_version=4)
    nb.cells.append(copy.deepcopy(EXPLAIN))
    nbformat.write(nb, str(source))
    template = load_template(tmp_path, "toy")
    released = next(c for c in template.cells if c.grade_id == "explain").release_source
    student = copy.deepcopy(nb)
    student.cells[-1].source = released + "\n"
    student.cells[-1].metadata.nbgrader["checksum"] = "forged"
    assert manual_answers(template, student) == {"explain": False}
    student.cells[-1].source = "My own words."
    assert manual_answers(template, student) == {"explain": True}
    student.cells.pop()
    assert manual_answers(template, student) == {"explain": False}
    assert manual_answers(template, None) == {}
