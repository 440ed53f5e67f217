"""Shared helpers of the autograder tests: a copy of the toy course and submissions built from its release."""

from __future__ import annotations

import copy
import os
import shutil
import sys
from pathlib import Path

import nbformat

TOY = Path(__file__).resolve().parent / "files" / "toy_course"

HONEST = {
    "add_answer": "def add(a, b):\n    return a + b",
    "count_answer": "def count_lstm_params(h, x):\n    return 4 * h * (h + x) + 4 * h",
    "greet_answer": "def greet(name):\n    return f'Hello, {name}!'",
}
#: count_lstm_params forgets the biases: the visible test passes, the hidden one fails (score 3 of 6).
PARTIAL = {**HONEST, "count_answer": "def count_lstm_params(h, x):\n    return 4 * h * (h + x)"}
#: Text of the hidden tests' CODE and inputs, which no file a student sees may contain. The messages of their
#: assertions ("hidden-count-64-32") are written for the student and are shown when the test fails.
HIDDEN_TEXTS = ("hidden-secret-comment-7f3a", "count_lstm_params(64, 32)", "add(0.1, 0.2)", "add(-1, 1)",
                "== 24832", "BEGIN HIDDEN TESTS")


def make_course(target: Path) -> Path:
    """Copy the toy course to target and generate its release with nbgrader (as the instructor would)."""
    from nbgrader.apps import NbGraderAPI
    from traitlets.config import Config

    shutil.copytree(TOY / "solutions", target / "solutions")
    os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")
    c = Config()
    c.CourseDirectory.root = str(target)
    c.CourseDirectory.source_directory = "solutions"
    c.CourseDirectory.release_directory = "exercises"
    c.CourseDirectory.db_url = f"sqlite:///{target / 'release.db'}"
    result = NbGraderAPI(config=c).generate_assignment("toy", force=True)
    assert result["success"], result.get("error")
    (target / "release.db").unlink(missing_ok=True)
    return target


def release(course: Path) -> nbformat.NotebookNode:
    return nbformat.read(str(course / "exercises" / "toy" / "toy.ipynb"), as_version=4)


def submission(course: Path, answers: dict | None = None, before: dict | None = None, after: dict | None = None,
               drop: tuple = (), edit: dict | None = None) -> nbformat.NotebookNode:
    """A student notebook: answers by grade_id, extra code cells before/after grade_ids, cells dropped or edited."""
    nb = release(course)
    answers = HONEST if answers is None else answers
    cells = []
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if before and gid in before:
            cells.append(nbformat.v4.new_code_cell(before[gid]))
        if gid in drop:
            continue
        cell = copy.deepcopy(cell)
        if gid in answers:
            cell.source = answers[gid]
        if edit and gid in edit:
            cell.source = edit[gid]
        cells.append(cell)
        if after and gid in after:
            cells.append(nbformat.v4.new_code_cell(after[gid]))
    nb.cells = cells
    return nb


def write_submitted(folder: Path, student: str, nb_or_text, name: str = "toy.ipynb", assignment: str = "toy") -> Path:
    """Write a submission in nbgrader's submitted/<student>/<assignment>/ layout."""
    path = folder / student / assignment / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(nb_or_text, str):
        path.write_text(nb_or_text)
    else:
        nbformat.write(nb_or_text, str(path))
    return path
