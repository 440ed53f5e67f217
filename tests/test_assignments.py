"""Do the graded exercises grade as intended: the reference gets full marks, the blank release 0, each crafted
mistake exactly the partial score it should?

Submissions are built at test time from solutions/ and exercises/ by tests/make_submissions.py (so they never go
stale); each assignment is graded in ONE batch call of the course autograder with two workers, in fast mode.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from make_submissions import (ASSIGNMENTS, CRAFTED, EXPECTED, MAX_AUTO, PARTS, graded_points, grading_problems,
                              packed, solution_sources, submissions, write_submissions)

MANUAL = {"lstm_vs_gru": 2, "imdb_sentiment": 4, "char_generation": 2, "lstm_vs_gru_torch": 2, "imdb_sentiment_torch": 4,
          "char_generation_torch": 2}
REPO = Path(__file__).resolve().parents[1]


def test_every_assignment_has_expectations():
    """Is there an expected score for the reference, the blank version and every crafted submission?"""
    for a in ASSIGNMENTS:
        students = {"reference", "blank"} | {c.student for c in CRAFTED.get(a, [])}
        assert set(EXPECTED[a]) == students
        assert EXPECTED[a]["reference"] == MAX_AUTO[a] and EXPECTED[a]["blank"] == 0
    assert sum(len(v) for v in CRAFTED.values()) >= 8


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_crafted_edits_apply(assignment):
    """Does every crafted edit still match the solution notebook exactly once (checked while building), alone and
    packed with the crafted submissions of other parts?"""
    for single in (True, False):
        subs = submissions(assignment, single=single)
        assert "reference" in subs and "blank" in subs
        assert subs["reference"] is not subs["blank"]
        if single:
            assert set(subs) == set(EXPECTED[assignment])


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_parts_and_packs(assignment):
    """Are a catalogue's independent parts real, disjoint answer cells and tests, and does packing grade every
    crafted submission exactly once, with at most one of each part in a notebook and the summed expectation?"""
    answers = set(solution_sources(assignment))
    tests = graded_points(assignment)
    parts = PARTS[assignment]
    cells = [gid for part in parts for gid in part.cells]
    tested = [gid for part in parts for gid in part.tests]
    assert set(cells) <= answers and len(cells) == len(set(cells)), (assignment, cells)
    assert set(tested) <= set(tests) and len(tested) == len(set(tested)), (assignment, tested)
    packs = packed(assignment, single=False)
    members = [c.student for pack in packs for c in pack.members]
    assert sorted(members) == sorted(c.student for c in CRAFTED[assignment])
    assert [(p.student, p.expected) for p in packs[:2]] == [("reference", MAX_AUTO[assignment]), ("blank", 0)]
    for pack in packs[2:]:
        assert pack.expected == MAX_AUTO[assignment] - sum(MAX_AUTO[assignment] - c.expected for c in pack.members)
        used = [part for mine in pack.parts for part in mine]
        assert len(used) == len(set(used)), f"two submissions of {pack.names} change one part"
        if len(pack.members) > 1:
            assert all(pack.parts) and all(c.outcome == "graded" and not c.alone for c in pack.members), pack.names
            for crafted, mine in zip(pack.members, pack.parts):  # it changes only its parts; its loss fits in them
                assert set(crafted.edits) | set(crafted.cells) <= {gid for part in mine for gid in part.cells}
                assert MAX_AUTO[assignment] - crafted.expected <= sum(
                    tests[t] for part in mine for t in part.tests), crafted.student
    assert [p.student for p in packed(assignment, single=True)] == ["reference", "blank", *(
        c.student for c in CRAFTED[assignment])]


#: What each kind of call in a solution notebook loads (the names of lstm_course.download.warm_cache).
LOADERS = {
    r"load_imdb\(|load_imdb_sequences\(": "imdb",
    r"load_heart_of_darkness\(|fetch\([\"']heart_of_darkness[\"']": "heart_of_darkness",
    r"load_tiny_shakespeare\(|fetch\([\"']tiny_shakespeare[\"']": "tiny_shakespeare",
    r"load_glove\(": "glove",
}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solutions_declare_the_data_they_load(assignment):
    """Does each source notebook's metadata (`"lstm_course": {"data": [...]}`) list exactly the data its code
    loads? The grader prepares exactly that before the sandboxed kernels start (they see the cache read-only)."""
    import re

    import nbformat

    from autograder.template import load_template
    from lstm_course import download

    nb = nbformat.read(REPO / "solutions" / assignment / f"{assignment}.ipynb", as_version=4)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    used = {name for pattern, name in LOADERS.items() if re.search(pattern, code)}
    assert "data" in nb.metadata.get("lstm_course", {}), "no lstm_course.data in the notebook metadata"
    declared = load_template(REPO, assignment).data
    assert set(declared) == used, f"declared {declared}, the code loads {sorted(used)}"
    assert all(name in download.RESOURCES or name in download.PACKAGED for name in declared)
    release = nbformat.read(REPO / "exercises" / assignment / f"{assignment}.ipynb", as_version=4)
    assert release.metadata.get("lstm_course") == nb.metadata["lstm_course"], "run `make exercises`"


def test_grading_problems_attribute_each_loss_to_its_part():
    """A packed notebook with the right total but a loss on the wrong part's tests is a problem (an interaction
    between its crafted submissions), and so is a wrong total; the predicted grade is none."""
    pack = next(p for p in packed("lstm_vs_gru", single=False) if len(p.members) == 2
                and {c.expected for c in p.members} == {7})  # a formula (2 points) and a model mistake (2 points)
    (formulas,), (models,) = pack.parts

    def tests(failing):
        return {gid: {"max": 2, "points": 0 if gid in failing else 2, "passed": gid not in failing}
                for gid in (*formulas.tests, *models.tests)}

    lost_formula = next(t for t in formulas.tests if t in ("test_lstm_params", "test_gru_params"))
    right = tests({lost_formula, "test_model_layers"})
    assert grading_problems(pack, 5, "graded", right) == []
    swapped = tests({"test_model_params", "test_model_layers"})  # 4 points lost, all on the models' part
    problems = grading_problems(pack, 5, "graded", swapped)
    assert len(problems) == 2 and all("reaches another part" in m for m in problems)
    more = grading_problems(pack, 7, "graded", tests({lost_formula}))  # the model mistake lost nothing
    assert "expected 5" in more[0] and len(more) == 2 and more[1].startswith(pack.members[1].student)
    assert grading_problems(pack, 5, "error", right) == [grading_problems(pack, 5, "error", right)[0]]
    assert "expected 5 graded" in grading_problems(pack, 5, "error", right)[0]


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_grades(assignment, tmp_path, session_cache):
    """Does every submission of the assignment get exactly its expected autograded score?"""
    autograder = pytest.importorskip("autograder")
    # The grader itself prepares the data the assignment declares (parsed IMDB ...) in the session cache, which
    # the sandbox mounts read-only for kernels running as another user; the package writes its files 0644, but
    # pytest makes its folders 0700: let that user in.
    session_cache.chmod(0o755)
    subs = write_submissions(assignment, tmp_path / "submissions")
    env = {"LSTM_COURSE_CACHE": str(session_cache)}
    if os.environ.get("LSTM_COURSE_DATA"):
        env["LSTM_COURSE_DATA"] = os.environ["LSTM_COURSE_DATA"]
    from autograder import sandbox

    # our own notebooks are trusted: grade them without the sandbox where bubblewrap is unavailable
    unsafe = sandbox.probe() is not None
    # a short workspace path: the kernels' IPC sockets live under it (AF_UNIX paths are limited to ~107 bytes)
    workspace = Path(tempfile.mkdtemp(prefix="ag_", dir="/tmp"))
    try:
        results = autograder.grade_submissions(assignment, Path(subs), workers=2, workspace=workspace,
                                               unsafe=unsafe, extra_env=env)
        graded_tests = {r.student: _tests(workspace, assignment, r.student) for r in results}
        # a student's self-check (the released notebook as template) on the same notebooks: for the fast
        # assignments all of them, for the others a sample
        sample = sorted(graded_tests) if os.environ.get("SELF_CHECK") == "all" else \
            ["reference", "blank", *self_check_sample(assignment)]
        mine = Path(workspace) / "selfcheck_in"
        for student in sample:
            shutil.copytree(Path(subs) / student, mine / student)
        self_results = autograder.grade_submissions(assignment, mine, workers=2, workspace=Path(workspace) / "self",
                                                    unsafe=unsafe, extra_env=env, template_folder="exercises")
        self_tests = {r.student: _tests(Path(workspace) / "self", assignment, r.student) for r in self_results}
    finally:
        shutil.rmtree(workspace, ignore_errors=True)
    got = {r.student: r for r in results}
    packs = {p.student: p for p in packed(assignment)}
    assert set(got) == set(packs)
    wrong = []
    for student, pack in packs.items():
        r = got[student]
        problems = grading_problems(pack, r.score, r.outcome, graded_tests[student])
        if problems and problems[0].startswith(f"{student} ("):
            problems[0] += f" ({r.detail[:200]})"
        wrong += problems
        assert r.max_score == MAX_AUTO[assignment] + MANUAL.get(assignment, 0), student
    assert not wrong, "\n".join(wrong)
    disagree = [f"{student}/{gid}: grader visible={graded_tests[student][gid].get('visible')}, self-check "
                f"{t.get('visible')}" for student, tests in self_tests.items() for gid, t in tests.items()
                if bool(graded_tests[student].get(gid, {}).get("visible")) != bool(t.get("visible"))]
    assert set(self_tests) == set(sample)
    assert not disagree, "the self-check and the grader disagree on visible tests:\n" + "\n".join(disagree)


#: crafted submissions also self-checked per assignment (SELF_CHECK=all: every one), spread over the catalogue;
#: a small sample for CI time (the catalogues, seven since the PyTorch editions, are two thirds of a CI run)
SELF_CHECK_SAMPLE = 2


def self_check_sample(assignment: str) -> list[str]:
    """Every k-th crafted submission, so the sample spans the catalogue's kinds (it is ordered by topic)."""
    students = [p.student for p in packed(assignment)][2:]  # not the reference and the blank one
    step = max(1, len(students) // SELF_CHECK_SAMPLE)
    return students[::step][:SELF_CHECK_SAMPLE]


def _tests(workspace: Path, assignment: str, student: str) -> dict:
    import json

    return json.loads((Path(workspace) / "results" / assignment / f"{student}.json").read_text()).get("tests", {})
