"""Tests of the LMS exports (autograder/exports.py), the Gradescope entry point (autograder/gradescope/) and the
formula protection of every CSV the grader writes. Grading uses the toy course (tests/autograder_toy.py)."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

import autograder_toy as toy
from autograder.exports import (ExportError, canvas_csv, gradescope_results, parse_exports, points)
from autograder.report import FORMULA_START, StudentResult, csv_cell, save_result, write_csv
from autograder.template import load_template

REPO = Path(__file__).resolve().parents[1]
GRADESCOPE = REPO / "autograder" / "gradescope"
#: Names a student (or an LMS) can give: separators, quotes, line breaks, and formula starts.
NASTY = ["Doe, Jane", 'Jane "JD" Doe', "Jane\nDoe", "=HYPERLINK(\"http://x\",\"y\")", "+1+1", "-2+3", "@SUM(A1)",
         "\tTab", "\rCR", "\uff1d1+1", "Zoë 王"]


def reads_as_formula(cell: str) -> bool:
    return cell.startswith(FORMULA_START)


def parse_csv(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    """The toy course's source (all grading needs; no release generated: nbgrader takes ~10 s for that)."""
    root = tmp_path_factory.mktemp("toy_course")
    shutil.copytree(toy.TOY / "solutions", root / "solutions")
    return root


def notebook(answers: dict | None = None, after: dict | None = None) -> nbformat.NotebookNode:
    """A student's notebook built from the source: answers by grade_id, extra cells after grade_ids (the grader
    restores every test cell from the source, so the hidden lines left in this copy change nothing)."""
    nb = nbformat.read(str(toy.TOY / "solutions" / "toy" / "toy.ipynb"), as_version=4)
    answers = toy.HONEST if answers is None else answers
    cells = []
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in answers:
            cell.source = answers[gid]
        elif "### BEGIN HIDDEN TESTS" in cell.source:  # what students saw: the visible lines only
            cell.source = re.sub(r"### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS\n?", "", cell.source, flags=re.S)
        cells.append(cell)
        if after and gid in after:
            cells.append(nbformat.v4.new_code_cell(after[gid]))
    nb.cells = cells
    return nb


# ------------------------------------------------------------------------------------------- formula protection

@pytest.mark.parametrize("text", NASTY + ["plain", "3.5", ""])
def test_csv_cell_never_starts_a_formula(text):
    """Does csv_cell turn every formula start (= + - @ tab CR, full-width too) into text, and leave the rest?"""
    cell = csv_cell(text)
    assert not reads_as_formula(cell)
    assert cell == (("'" + text) if text.startswith(FORMULA_START) else text)


def test_grades_csv_round_trips_nasty_names(tmp_path):
    """Do names with commas, quotes, newlines and formula starts survive grades.csv, and none becomes a formula?"""
    names = [n for n in NASTY if "/" not in n]
    for k, name in enumerate(names):
        save_result(tmp_path, "toy", StudentResult(name, k, 6, "graded", f"-detail {k}", name), {})
    write_csv(tmp_path, "toy")
    rows = parse_csv(tmp_path / "grades.csv")
    assert rows[0] == ["student", "assignment", "score", "max_score", "outcome", "detail"]
    got = {r[0]: r for r in rows[1:]}
    for k, name in enumerate(names):
        cell = csv_cell(name)
        assert cell in got, name
        assert got[cell][2] == str(k) and got[cell][5] == f"'-detail {k}"
    assert not any(reads_as_formula(c) for row in rows for c in row)


# ------------------------------------------------------------------------------------------- options

def test_export_kinds_are_parsed_and_checked():
    """Are repeated and comma-listed exports read once each, and an unknown one refused with the choices?"""
    assert parse_exports(["canvas,gradescope", "canvas"]) == ["canvas", "gradescope"]
    assert parse_exports(None) == []
    with pytest.raises(ExportError, match="canvas, gradescope"):
        parse_exports(["moodle"])


def test_points_are_written_as_canvas_reads_them():
    """Are scores written without exponents or float noise (6, 2.5, 0.33, 1234567)?"""
    assert [points(x) for x in (6.0, 2.5, 1 / 3, 1234567.0, 0.0, 0.1 + 0.2)] == ["6", "2.5", "0.33", "1234567", "0",
                                                                                   "0.3"]


# ------------------------------------------------------------------------------------------- Canvas

def _canvas_results(ws: Path) -> None:
    for k, name in enumerate(NASTY):
        student = f"s{k}"
        save_result(ws, "toy", StudentResult(student, k % 7, 6, "graded", "", name, "canvas", str(1000 + k)), {})
    save_result(ws, "toy", StudentResult("review", 2, 6, "needs_review", "", "review", "canvas", "2001"), {})
    save_result(ws, "toy", StudentResult("folder_student", 5, 6, "graded", "", "folder_student"), {})
    save_result(ws, "toy", StudentResult("twin_a", 1, 6, "graded", "", "twin", "canvas", "3001"), {})
    save_result(ws, "toy", StudentResult("twin_b", 2, 6, "graded", "", "twin", "canvas", "3001"), {})


def test_canvas_csv_has_canvas_import_layout(tmp_path):
    """Does the Canvas CSV have Canvas' header, a Points Possible row and one row per Canvas user, by user id?"""
    _canvas_results(tmp_path)
    out = canvas_csv(tmp_path, "toy", canvas_assignment_id="4567", canvas_assignment_name="Lab 1, toy")
    rows = parse_csv(out.path)
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Lab 1, toy (4567)"]
    assert rows[1][0] == "Points Possible" and rows[1][5] == "6"
    by_id = {r[1]: r for r in rows[2:]}
    for k, name in enumerate(NASTY):  # every name survives, as text
        assert by_id[str(1000 + k)][0] == csv_cell(name)
        assert by_id[str(1000 + k)][5] == str(k % 7)
    assert not any(reads_as_formula(c) for row in rows for c in row)
    assert all(len(r) == 6 for r in rows)


def test_canvas_csv_reports_what_it_cannot_place(tmp_path):
    """Is a provisional outcome left empty, and a student without a Canvas id or sharing one named, not dropped?"""
    _canvas_results(tmp_path)
    out = canvas_csv(tmp_path, "toy", canvas_assignment_id=4567)
    by_id = {r[1]: r for r in parse_csv(out.path)[2:]}
    assert by_id["2001"][5] == "" and [r.student for r in out.blank] == ["review"]
    assert [r.student for r in out.unmatched] == ["folder_student"] and "3001" not in by_id
    assert sorted(r.student for r in out.conflicts) == ["twin_a", "twin_b"]
    summary = out.summary()
    for text in ("folder_student 5", "review (needs_review)", "twin_a (id 3001)", "enter by hand"):
        assert text in summary


def test_canvas_without_assignment_id_says_what_canvas_will_do(tmp_path):
    """Without --canvas-assignment-id, is the column the bare title and does the note say Canvas matches by title?"""
    _canvas_results(tmp_path)
    out = canvas_csv(tmp_path, "toy")
    assert parse_csv(out.path)[0][5] == "toy"
    assert "titled exactly 'toy'" in out.summary() and "NEW assignment" in out.summary()
    with pytest.raises(ExportError, match="number at the end"):
        canvas_csv(tmp_path, "toy", canvas_assignment_id="lab-1")
    with pytest.raises(ExportError, match="grade first"):
        canvas_csv(tmp_path, "other")


def test_export_again_without_grading(tmp_path, capsys):
    """Does `python -m autograder.exports` rebuild the Canvas CSV from the recorded results, and say clearly when
    nothing is recorded?"""
    from autograder.exports import main

    _canvas_results(tmp_path)
    assert main(["toy", "--export", "canvas", "--workspace", str(tmp_path), "--canvas-assignment-id", "9"]) == 0
    assert parse_csv(tmp_path / "exports" / "toy" / "canvas_grades.csv")[0][5] == "toy (9)"
    assert "folder_student" in capsys.readouterr().out
    assert main(["other", "--export", "canvas", "--workspace", str(tmp_path)]) == 2
    assert "grade first" in capsys.readouterr().err


# ------------------------------------------------------------------------------------------- Gradescope

def test_gradescope_results_hide_hidden_tests(course):
    """Does results.json give each test its points, show hidden-test cells only after the due date, and show
    their visible checks (worth 0) at once?"""
    template = load_template(course, "toy")
    record = {"student": "bob", "score": 3.0, "max_score": 6.0, "outcome": "graded", "detail": "", "seconds": 2.4,
              "tests": {"test_add": {"points": 2.0, "max": 2.0, "passed": True, "message": "passed", "visible": True},
                        "test_count": {"points": 0.0, "max": 3.0, "passed": False, "message": "hidden-count-64-32",
                                       "show": True, "visible": True},
                        "test_greet": {"points": 1.0, "max": 1.0, "passed": True, "message": "passed"}}}
    data = json.loads(json.dumps(gradescope_results(record, template)))
    assert data["score"] == 3.0 and data["execution_time"] == 2 and data["stdout_visibility"] == "hidden"
    assert data["visibility"] == "after_due_date" and data["output_format"] == "text"
    assert all(t["output_format"] == t["name_format"] == "text" for t in data["tests"])  # no HTML from students
    tests = {t["name"].split(":")[0] + (" V" if "(visible checks)" in t["name"] else ""): t for t in data["tests"]}
    assert set(tests) == {"test_add", "test_add V", "test_count", "test_count V", "test_greet"}
    assert sum(t["score"] for t in data["tests"]) == data["score"]
    assert sum(t["max_score"] for t in data["tests"]) == 6
    assert tests["test_count"]["visibility"] == "after_due_date" and tests["test_count"]["score"] == 0
    assert "hidden-count-64-32" in tests["test_count"]["output"]
    assert tests["test_count V"]["visibility"] == "visible" and tests["test_count V"]["status"] == "passed"
    assert "hidden-count-64-32" not in tests["test_count V"]["output"]
    assert tests["test_greet"]["visibility"] == "visible" and tests["test_greet"]["max_score"] == 1
    assert "Does greet() greet by name?" in tests["test_greet"]["name"]
    hidden_ones = gradescope_results(record, template, hidden_visibility="hidden")
    assert {t["visibility"] for t in hidden_ones["tests"]} == {"hidden", "visible"}
    with pytest.raises(ExportError, match="after_published"):
        gradescope_results(record, template, hidden_visibility="later")


def test_gradescope_never_shows_a_reason_the_grader_withholds(course):
    """When the grader says a failure's reason may not be shown, does results.json say only that a hidden test
    failed, and an ungraded notebook get 'not run' for every test?"""
    template = load_template(course, "toy")
    record = {"student": "x", "score": 0, "max_score": 6, "outcome": "graded", "detail": "",
              "tests": {"test_count": {"points": 0.0, "max": 3.0, "passed": False, "message": "secret 24832",
                                       "show": False, "visible": True}}}
    text = json.dumps(gradescope_results(record, template))
    assert "24832" not in text and "a hidden test failed" in text
    corrupt = gradescope_results({"student": "y", "score": 0, "max_score": 6, "outcome": "corrupt_notebook",
                                  "detail": "cannot read the notebook", "tests": {}}, template)
    assert all(t["score"] == 0 and "not run" in t["output"] for t in corrupt["tests"] if t["max_score"])
    assert corrupt["output"].startswith("corrupt_notebook: cannot read the notebook")
    passing = {"points": 1.0, "max": 1.0, "passed": True, "message": "passed"}
    tampered = gradescope_results({"student": "z", "score": 0, "max_score": 6, "outcome": "tampered",
                                   "detail": "grading machinery was altered", "tests": {"test_greet": passing}},
                                  template)
    assert sum(t["score"] for t in tampered["tests"]) == tampered["score"] == 0


# ------------------------------------------------------------------------------------------- end to end

def test_cli_grades_a_canvas_download_and_exports_both(course, tmp_path):
    """Does `python -m autograder ... --export canvas,gradescope` grade a Canvas download, keep each student's
    Canvas user id in results/, and write a Canvas CSV and a results.json per student that parse back?"""
    sub = tmp_path / "canvas_download"
    sub.mkdir()
    nbformat.write(notebook(), str(sub / "doejane_1234_98765_toy.ipynb"))
    nbformat.write(notebook(toy.PARTIAL), str(sub / "=cmd_LATE_5678_98766_toy-1.ipynb"))
    (sub / "plain_student_toy.ipynb").write_text("{not json")  # no Canvas name (and no kernel needed)
    ws = tmp_path / "ws"
    out = subprocess.run([sys.executable, "-m", "autograder", "toy", str(sub), "--workers", "2", "--workspace",
                          str(ws), "--course-root", str(course), "--no-progress", "--export", "canvas,gradescope",
                          "--canvas-assignment-id", "777"], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    record = json.loads((ws / "results" / "toy" / "doejane.json").read_text())
    assert (record["lms"], record["lms_user_id"]) == ("canvas", "1234")
    rows = parse_csv(ws / "exports" / "toy" / "canvas_grades.csv")
    assert rows[0][5] == "toy (777)"
    assert {r[1]: (r[0], r[5]) for r in rows[2:]} == {"1234": ("doejane", "6"), "5678": ("'=cmd", "3")}
    assert "plain_student 0" in out.stdout and "enter by hand" in out.stdout
    for student, score in (("doejane", 6), ("cmd", 3), ("plain_student", 0)):
        data = json.loads((ws / "exports" / "toy" / "gradescope" / student / "results.json").read_text())
        assert data["score"] == score


def test_cli_refuses_bad_export_options_before_grading(course, tmp_path):
    """Does a bad --export or --canvas-assignment-id stop the command before anybody is graded?"""
    for extra in (["--export", "blackboard"], ["--export", "canvas", "--canvas-assignment-id", "x1"]):
        out = subprocess.run([sys.executable, "-m", "autograder", "toy", str(tmp_path / "none"), "--workspace",
                              str(tmp_path / "ws"), "--course-root", str(course), *extra],
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == 2 and "error:" in out.stderr
        assert not (tmp_path / "ws").exists()


# ------------------------------------------------------------------------------------------- Gradescope container

def fake_autograder(course: Path, root: Path, notebook: nbformat.NotebookNode, name: str) -> Path:
    """Gradescope's /autograder layout in `root`: source/ (the course), submission/, results/, metadata."""
    shutil.copytree(course / "solutions", root / "source" / "solutions")
    (root / "source" / "gradescope.json").write_text(json.dumps({"assignment": "toy"}))
    (root / "submission").mkdir(parents=True)
    nbformat.write(notebook, str(root / "submission" / name))
    (root / "results").mkdir()
    (root / "submission_metadata.json").write_text(json.dumps({"users": [{"id": 4242, "name": "A"}]}))
    return root


def run_autograder(root: Path, path_env: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "AUTOGRADER_GRADESCOPE_ROOT": str(root), "AUTOGRADER_GRADESCOPE_PYTHON": sys.executable}
    if path_env is not None:
        env["PATH"] = path_env
    return subprocess.run(["/bin/bash", str(GRADESCOPE / "run_autograder")], env=env, capture_output=True,
                          text=True, timeout=300)


def test_run_autograder_grades_and_student_code_cannot_write_results(course, tmp_path):
    """Does run_autograder grade the one notebook (any file name) into results.json, while the student's code,
    which tries to overwrite results.json and read the solutions, changes nothing?"""
    root = tmp_path / "autograder"
    results = root / "results" / "results.json"
    attack = (f"try:\n    open({str(results)!r}, 'w').write('{{\"score\": 100, \"tests\": []}}')\nexcept OSError:\n"
              f"    pass\ntry:\n    LEAK = open({str(root / 'source' / 'solutions' / 'toy' / 'toy.ipynb')!r}).read()\n"
              "except OSError:\n    LEAK = ''\nprint(LEAK[:20])")
    nb = notebook(toy.PARTIAL, after={"greet_answer": attack})
    fake_autograder(course, root, nb, "My Toy (2).ipynb")
    out = run_autograder(root)
    assert out.returncode == 0, out.stderr[-3000:] + out.stdout[-3000:]
    data = json.loads(results.read_text())
    assert data["score"] == 3 and data["extra_data"]["outcome"] == "graded", data
    assert data["extra_data"]["student"] == "gs4242" and data["extra_data"]["sandbox"] == "bubblewrap"
    by_name = {t["name"].split(":")[0]: t for t in data["tests"] if "(visible checks)" not in t["name"]}
    assert by_name["test_count"]["visibility"] == "after_due_date" and by_name["test_count"]["score"] == 0
    assert not any(text in results.read_text() for text in toy.HIDDEN_TEXTS)
    assert [p.name for p in results.parent.iterdir()] == ["results.json"]


def test_run_autograder_without_sandbox_runs_no_student_code(course, tmp_path):
    """Where bubblewrap cannot run, does run_autograder run no student code and say in results.json why the
    submission was not graded?"""
    root = tmp_path / "autograder"
    sentinel = tmp_path / "student_code_ran"
    nb = notebook(after={"greet_answer": f"open({str(sentinel)!r}, 'w').write('x')"})
    fake_autograder(course, root, nb, "toy.ipynb")
    out = run_autograder(root, path_env=str(tmp_path / "no_bin"))  # no bwrap on PATH
    assert out.returncode == 0, out.stderr[-3000:]
    data = json.loads((root / "results" / "results.json").read_text())
    assert data["score"] == 0 and data["tests"] == [] and data["extra_data"]["outcome"] == "not_graded"
    assert "sandbox" in data["output"] and data["extra_data"]["sandbox"].startswith("unavailable")
    assert "NOT GRADED" in out.stdout and not sentinel.exists()


def test_run_autograder_names_a_missing_notebook(course, tmp_path, monkeypatch):
    """Does a submission with two notebooks (neither named toy.ipynb) get a results.json saying what was found?"""
    root = fake_autograder(course, tmp_path / "autograder", notebook(), "a.ipynb")
    nbformat.write(notebook(), str(root / "submission" / "b.ipynb"))
    from autograder.gradescope import run

    monkeypatch.setenv(run.ROOT_ENV, str(root))
    assert run.main() == 0
    data = json.loads((root / "results" / "results.json").read_text())
    assert data["score"] == 0 and "a.ipynb, b.ipynb" in data["output"]


def test_gradescope_zip_has_what_the_container_expects(course, tmp_path):
    """Does the zip hold setup.sh and an executable run_autograder at its root, the assignment's config, the
    packages and the source notebook, and no editable install or workspace?"""
    from autograder.gradescope.package import build_zip

    path = build_zip("toy", tmp_path / "toy.zip", course_root=course, hidden_visibility="after_published")
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        mode = zf.getinfo("run_autograder").external_attr >> 16
        config = json.loads(zf.read("gradescope.json"))
        requirements = zf.read("requirements-gradescope.txt").decode()
    assert {"setup.sh", "run_autograder", "pyproject.toml", "solutions/toy/toy.ipynb",
            "autograder/gradescope/run.py", "autograder/exports.py", "lstm_course/__init__.py"} <= names
    assert mode & stat.S_IXUSR and config == {"assignment": "toy", "hidden_visibility": "after_published"}
    assert "-e ." not in requirements and "nbgrader" in requirements
    for script in ("setup.sh", "run_autograder"):  # both parse as bash
        assert subprocess.run(["/bin/bash", "-n", str(GRADESCOPE / script)]).returncode == 0
    assert not any("workspace/" in n or "__pycache__" in n for n in names)
    with pytest.raises(ExportError, match="no source notebook"):
        build_zip("nothing", tmp_path / "x.zip", course_root=course)
