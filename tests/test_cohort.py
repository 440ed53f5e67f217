"""Tests of the instructor's cohort report (autograder/cohort.py): synthetic results, then one toy-course batch."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest

import autograder_toy as toy
from autograder import cohort
from autograder.settings import Limits
from autograder.template import load_template

#: add() and count_lstm_params() written in a way of their own (not the reference's), long enough to compare.
OWN = {
    "add_answer": ('def add(a, b):\n    """Return a + b."""\n    total = 0\n    for value in (a, b):\n'
                   '        total = total + value\n    return total'),
    "count_answer": ('def count_lstm_params(h, x):\n    """Return the number of parameters."""\n    gates = 4\n'
                     '    weights = gates * h * x\n    recurrent = gates * h * h\n    biases = gates * h\n'
                     '    return weights + recurrent + biases'),
    "greet_answer": toy.HONEST["greet_answer"],
}
#: The same code with other names, comments, spacing and a hostile comment: a copy.
COPY = {
    "add_answer": ('def add(a, b):\n    """Return a + b."""\n'
                   '    s = 0   # start from nothing </pre><script>x()</script>\n'
                   '    for v in (a,b):\n        s = s+v\n    return s'),
    "count_answer": ('def count_lstm_params(h, x):\n    """Return the number of parameters."""\n    # four gates\n'
                     '    g = 4\n    w = g*h*x\n\n    u = g * h * h\n    b = g * h\n    return w + u + b'),
    "greet_answer": toy.HONEST["greet_answer"],
}
#: Another way again, by somebody else.
OTHER = {
    "add_answer": ('def add(a, b):\n    """Return a + b."""\n    import operator\n    if a is None or b is None:\n'
                   '        raise ValueError("need two numbers")\n    return operator.add(a, b)'),
    "count_answer": ('def count_lstm_params(h, x):\n    """Return the number of parameters."""\n'
                     '    per_gate = h * (h + x) + h\n    if h < 0 or x < 0:\n'
                     '        raise ValueError("sizes cannot be negative")\n    return 4 * per_gate'),
    "greet_answer": "def greet(name):\n    return 'Hello, ' + str(name) + '!'",
}
BLANK = {}  # the released cells as they are: "# YOUR CODE HERE / raise NotImplementedError()"
HOSTILE = "cat<script>alert(1)"
SCRIPT_DOC = '"""Does greet() greet by name? <script>alert("doc")</script>"""'


class Tables(HTMLParser):
    """The text of every table cell, by table id: {table id: [[cell, ...], ...]}."""

    def __init__(self, page: str):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table = self._row = self._cell = None
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self._table = self.tables.setdefault(dict(attrs).get("id", ""), [])
        elif tag == "tr" and self._table is not None:
            self._row = []
            self._table.append(self._row)
        elif tag in ("td", "th") and self._row is not None:
            self._cell = ""

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append(self._cell)
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data


def rows(page: str, table: str) -> list[list[str]]:
    return Tables(page).tables[table][1:]  # without the header


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    """The toy course's source with a docstring that holds a script tag (only the template is read: fast)."""
    root = tmp_path_factory.mktemp("cohort_course")
    shutil.copytree(toy.TOY / "solutions", root / "solutions")
    path = root / "solutions" / "toy" / "toy.ipynb"
    nb = nbformat.read(str(path), as_version=4)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "test_greet":
            cell.source = cell.source.replace('"""Does greet() greet by name?"""', SCRIPT_DOC)
    nbformat.write(nb, str(path))
    return root


def released(course: Path, answers: dict) -> nbformat.NotebookNode:
    """A student's notebook without nbgrader's generate step: the source notebook with every nbgrader cell as
    released (solutions cleared, hidden tests removed) and `answers` by grade_id."""
    by_id = load_template(course, "toy").by_id()
    nb = nbformat.read(str(course / "solutions" / "toy" / "toy.ipynb"), as_version=4)
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in by_id:
            cell.source = answers.get(gid, by_id[gid].release_source)
    return nb


def record(ws: Path, student: str, outcome: str, passed: dict, seconds: float | None, notebook=None) -> None:
    """A results/toy/<student>.json as report.save_result writes it, and the executed notebook."""
    points = {"test_add": 2, "test_count": 3, "test_greet": 1}
    tests = {gid: {"points": points[gid] if ok else 0, "max": points[gid], "passed": ok, "message": ""}
             for gid, ok in passed.items()}
    data = {"assignment": "toy", "student": student, "score": sum(t["points"] for t in tests.values()),
            "max_score": 6, "outcome": outcome, "detail": "", "source": student, "tests": tests}
    if seconds is not None:
        data["seconds"] = seconds
    folder = ws / "results" / "toy"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{student}.json").write_text(json.dumps(data))
    if notebook is not None:
        out = ws / "autograded" / student / "toy" / "toy.ipynb"
        out.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, str(out))


@pytest.fixture(scope="module")
def synthetic(course, tmp_path_factory):
    """Six recorded students: the reference, a copied pair, another own way, a blank, an unreadable notebook."""
    ws = tmp_path_factory.mktemp("cohort_ws")
    everything = {"test_add": True, "test_count": True, "test_greet": False}
    record(ws, "ann", "graded", everything, 3.0, released(course, toy.HONEST))
    record(ws, "ben", "graded", everything, 9.5, released(course, OWN))
    record(ws, HOSTILE, "graded", {**everything, "test_count": False}, 1.3, released(course, COPY))
    record(ws, "dan", "graded", everything, 4.5, released(course, OTHER))
    record(ws, "eve", "timeout", {**everything, "test_count": False}, None, released(course, BLANK))
    record(ws, "fay", "corrupt_notebook", {}, 0.5)
    path = cohort.write_cohort_report(ws, "toy", course)
    return ws, path, path.read_text(encoding="utf-8")


def test_tokens_ignore_names_comments_and_layout():
    """Do renamed variables, comments and spacing leave the tokens unchanged, while a literal changes them?"""
    a = cohort.normalise_tokens("def f(x):\n    y = x * 2  # double\n    return y\n")
    b = cohort.normalise_tokens("def g(value):\n\n    out=value*2\n    return out")
    assert a == b == ["def", "ID", "(", "ID", ")", ":", "ID", "=", "ID", "*", "2", "return", "ID"]
    three, two = "def f(x):\n    return x * 3", "def f(x):\n    return x * 2"
    assert cohort.normalise_tokens(three) != cohort.normalise_tokens(two)
    assert cohort.normalise_tokens("%timeit f(1)\nx = (1,") == ["ID", "=", "(", "1", ","]  # magic, unclosed


def test_pass_rates_and_flags(synthetic):
    """Does the page give every test's pass rate (hidden ones too) and flag the tests everybody or nobody passed?"""
    _, _, page = synthetic
    table = {r[0]: r for r in rows(page, "tests")}
    assert list(table) == ["test_add", "test_count", "test_greet"]
    assert table["test_add"][3:] == ["hidden + visible", "5 / 5 (100 %)", "everybody passed"]
    assert table["test_count"][3:] == ["hidden + visible", "3 / 5 (60 %)", ""]
    assert table["test_greet"][3:] == ["visible", "0 / 5 (0 %)", "nobody passed"]
    assert table["test_count"][1].startswith("Does count_lstm_params() return an int?")


def test_outcomes_scores_and_slowest(synthetic):
    """Are the outcome counts, the graded scores' summary, two figures and the slowest notebooks on the page?"""
    _, _, page = synthetic
    assert rows(page, "outcomes") == [["graded", "4"], ["corrupt_notebook", "1"], ["timeout", "1"]]
    assert "4 submissions, mean 4.25, median 5, lowest 2, highest 5 of 6." in page
    assert len(re.findall(r'<img alt="figure" src="data:image/png;base64,[A-Za-z0-9+/=]{200,}">', page)) == 2
    assert [(r[0], r[1]) for r in rows(page, "slowest")] == [("ben", "9.5"), ("dan", "4.5"), ("ann", "3.0"),
                                                               (HOSTILE, "1.3"), ("fay", "0.5")]


def test_copied_pair_found_and_others_not(synthetic, course):
    """Is the renamed copy listed with its partner, while a third own way, the reference and a blank are not?"""
    ws, _, page = synthetic
    sim = cohort.similar_pairs(ws, "toy", load_template(course, "toy"), course,
                               ["ann", "ben", HOSTILE, "dan", "eve", "fay"])
    assert [(a, b) for _, a, b, _ in sim.pairs] == [("ben", HOSTILE)]
    assert sim.pairs[0][0] == 1.0  # identical once names, comments and layout are gone
    assert sim.compared == ["ben", HOSTILE, "dan"] and sim.skipped == ["ann", "eve"] and sim.missing == ["fay"]
    assert sim.median is not None and sim.median < cohort.THRESHOLD
    assert [r[:3] for r in rows(page, "pairs")] == [["ben", HOSTILE, "1.00"]]
    assert f"threshold {cohort.THRESHOLD:.2f}" in page and f"fewer than {cohort.FLOOR} own" in page


def test_threshold_is_the_one_applied(synthetic, course):
    """Is a pair listed exactly from the threshold on: at its similarity it is in, just above it out?"""
    ws, _, _ = synthetic
    template = load_template(course, "toy")
    students = ["ben", "dan"]
    value = cohort.jaccard(*(own_kgrams(ws, course, template, s) for s in students))
    assert 0 < value < cohort.THRESHOLD
    at = cohort.similar_pairs(ws, "toy", template, course, students, threshold=value)
    above = cohort.similar_pairs(ws, "toy", template, course, students, threshold=value + 1e-9)
    assert [(a, b) for _, a, b, _ in at.pairs] == [("ben", "dan")] and above.pairs == []
    assert cohort.jaccard({(str(i),) for i in range(10)}, {(str(i),) for i in range(5, 15)}) == pytest.approx(5 / 15)


def own_kgrams(ws: Path, course: Path, template, student: str) -> set:
    """A student's own k-grams computed here from the notebook: answer cells minus given code and reference."""
    nb = json.loads((ws / "autograded" / student / "toy" / "toy.ipynb").read_text())
    given, reference = cohort.reference_kgrams(course, template)
    grams = set().union(*(cohort.kgrams(src) for _, src in cohort.answer_cells(nb, template)))
    return grams - given - reference


def test_student_text_is_escaped(synthetic):
    """Are a student's name, their code and a docstring with <script> shown as text, never as markup?"""
    _, _, page = synthetic
    assert "<script" not in page.lower()
    assert "cat&lt;script&gt;alert(1)" in page
    assert "&lt;/pre&gt;&lt;script&gt;x()&lt;/script&gt;" in page  # the copy's comment, in its code
    assert "&lt;script&gt;alert(&quot;doc&quot;)&lt;/script&gt;" in page
    assert page.count("<pre>") == page.count("</pre>")
    assert "Content-Security-Policy" in page.split("<body>")[0]


def test_report_lives_in_the_instructor_folder(synthetic):
    """Is the page written to <workspace>/instructor/, readable by its owner only, not to feedback/?"""
    ws, path, _ = synthetic
    assert path == ws / "instructor" / "cohort_toy.html"
    assert path.stat().st_mode & 0o077 == 0 and path.parent.stat().st_mode & 0o077 == 0
    assert not (ws / "feedback").exists()


def test_report_leaves_the_home_folder_alone(synthetic, course, tmp_path):
    """Does the first matplotlib import of a grading process build its font cache in the workspace, leaving the
    instructor's home untouched (the grader writes nothing outside its workspace)?"""
    ws, _, _ = synthetic
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("MPLCONFIGDIR", "XDG_CACHE_HOME")}
    env["HOME"] = str(home)
    code = ("import sys; from pathlib import Path; from autograder import cohort; "
            "cohort.write_cohort_report(Path(sys.argv[1]), 'toy', Path(sys.argv[2]))")
    repo = Path(cohort.__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, "-c", code, str(ws), str(course)], env=env, cwd=repo,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert list(home.rglob("*")) == []
    assert list((ws / "instructor" / ".matplotlib").glob("fontlist-*.json"))


def test_command_line_rebuilds_and_refuses_bad_input(synthetic, course, capsys):
    """Does `python -m autograder.cohort` rebuild the page, and name the problem (no results, a bad threshold, a
    broken result file) instead of writing a wrong page?"""
    ws, path, _ = synthetic
    path.unlink()
    assert cohort.main(["toy", "--workspace", str(ws), "--course-root", str(course)]) == 0
    assert path.exists() and rows(path.read_text(), "pairs")[0][:2] == ["ben", HOSTILE]
    assert cohort.main(["nothing", "--workspace", str(ws), "--course-root", str(course)]) == 2
    assert "no results for assignment 'nothing'" in capsys.readouterr().err
    assert cohort.main(["toy", "--workspace", str(ws), "--course-root", str(course), "--threshold", "2"]) == 2
    assert "threshold must lie in (0, 1]" in capsys.readouterr().err
    broken = ws / "results" / "toy" / "zoe.json"
    broken.write_text('{"student": "zoe", "sco')  # e.g. copied in by hand and cut short
    try:
        assert cohort.main(["toy", "--workspace", str(ws), "--course-root", str(course)]) == 2
    finally:
        broken.unlink()
    assert "zoe.json" in capsys.readouterr().err


def test_toy_batch_writes_the_report(tmp_path):
    """After a real batch (sandboxed kernels), is the page there with the copied pair, times recorded, and no
    file of it under feedback/ or autograded/?"""
    from autograder import grade_submissions

    course = tmp_path / "course"
    shutil.copytree(toy.TOY / "solutions", course / "solutions")  # the grader needs only the source
    sub = tmp_path / "submitted"
    toy.write_submitted(sub, "alice", released(course, toy.HONEST))
    toy.write_submitted(sub, "bob", released(course, OWN))
    toy.write_submitted(sub, "carl", released(course, COPY))
    ws = tmp_path / "ws"
    grade_submissions("toy", sub, workers=1, workspace=ws, course_root=course,  # one checker to start
                      limits=Limits(cell_timeout=10, notebook_timeout=60))
    page = (ws / "instructor" / "cohort_toy.html").read_text()
    assert [r[:3] for r in rows(page, "pairs")] == [["bob", "carl", "1.00"]]
    table = {r[0]: r[4:] for r in rows(page, "tests")}
    assert table == {"test_add": ["3 / 3 (100 %)", "everybody passed"], "test_count": ["3 / 3 (100 %)",
                     "everybody passed"], "test_greet": ["3 / 3 (100 %)", "everybody passed"]}
    seconds = {p.stem: json.loads(p.read_text())["seconds"] for p in (ws / "results" / "toy").glob("*.json")}
    assert sorted(seconds) == ["alice", "bob", "carl"] and all(0 < s < 60 for s in seconds.values())
    assert sorted(r[0] for r in rows(page, "slowest")) == ["alice", "bob", "carl"]
    for folder in ("feedback", "autograded"):
        for path in (ws / folder).rglob("*"):
            assert "cohort" not in path.name
            assert not path.is_file() or "Cohort report" not in path.read_text(errors="replace")
