"""Are the student versions in exercises/ exactly what nbgrader generates from solutions/, and blank?

The release command (run from the repository root, .venv/bin on PATH):

    cd autograder && nbgrader generate_assignment <assignment> --force --no-db

(autograder/nbgrader_config.py sets the course root, source_directory="solutions", release_directory="exercises").
This test runs the same command with the same config into a temporary course root and compares bytes.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from make_submissions import ASSIGNMENTS

REPO = Path(__file__).resolve().parents[1]
HIDDEN = re.compile(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", re.DOTALL)
SOLUTION = re.compile(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", re.DOTALL)


def generate(assignment: str, course_root: Path) -> Path:
    """Run the release command for `assignment` on `course_root`; returns the generated notebook."""
    bin_dir = str(Path(sys.executable).parent)
    env = dict(os.environ, PATH=bin_dir + os.pathsep + os.environ.get("PATH", ""),
               AUTOGRADER_WORKSPACE=str(course_root / "workspace"))
    cmd = [str(Path(bin_dir) / "nbgrader"), "generate_assignment", assignment, "--force", "--no-db",
           f"--CourseDirectory.root={course_root}"]
    proc = subprocess.run(cmd, cwd=REPO / "autograder", env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return course_root / "exercises" / assignment / f"{assignment}.ipynb"


@pytest.fixture(scope="module", params=ASSIGNMENTS)
def generated(request, tmp_path_factory) -> tuple[str, Path]:
    assignment = request.param
    if not (REPO / "autograder" / "nbgrader_config.py").exists():
        pytest.skip("autograder/nbgrader_config.py is missing")
    root = tmp_path_factory.mktemp(f"course_{assignment}")
    shutil.copytree(REPO / "solutions" / assignment, root / "solutions" / assignment)
    return assignment, generate(assignment, root)


def test_exercise_is_up_to_date(generated):
    """Is exercises/<a>/<a>.ipynb byte for byte what the release command makes of solutions/<a>/<a>.ipynb?"""
    assignment, fresh = generated
    committed = REPO / "exercises" / assignment / f"{assignment}.ipynb"
    assert committed.exists(), f"{committed} is missing: run the release command"
    assert committed.read_bytes() == fresh.read_bytes(), (
        f"exercises/{assignment} is stale: run `cd autograder && nbgrader generate_assignment {assignment} --force --no-db`")


def test_exercise_is_blank(generated):
    """Does the student version hold no solution code, no hidden test and no stored output?"""
    assignment, fresh = generated
    source = nbformat.read(REPO / "solutions" / assignment / f"{assignment}.ipynb", as_version=4)
    release_nb = nbformat.read(fresh, as_version=4)
    release_text = "\n".join(c.source for c in release_nb.cells)
    assert "BEGIN SOLUTION" not in release_text and "HIDDEN TESTS" not in release_text
    secret_lines = set()
    for cell in source.cells:
        for block in HIDDEN.findall(cell.source) + SOLUTION.findall(cell.source):
            secret_lines |= {ln.strip() for ln in block.splitlines() if len(ln.strip()) > 25}
    visible_lines = set()
    for cell in source.cells:
        text = SOLUTION.sub("", HIDDEN.sub("", cell.source))
        visible_lines |= {ln.strip() for ln in text.splitlines()}
    leaked = [ln for ln in secret_lines - visible_lines if ln in release_text]
    assert not leaked, f"solution or hidden-test lines in the student version: {leaked[:3]}"
    for cell in release_nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None, "stored outputs in the student version"
            if meta.get("solution"):
                assert "raise NotImplementedError()" in cell.source
        if meta.get("solution") and cell.cell_type == "markdown":
            assert cell.source.strip() == "YOUR ANSWER HERE"


def test_source_metadata_is_consistent():
    """Has every graded cell a unique grade_id, points, and a docstring saying what it checks; no outputs stored?"""
    for assignment in ASSIGNMENTS:
        nb = nbformat.read(REPO / "solutions" / assignment / f"{assignment}.ipynb", as_version=4)
        ids = [c.metadata["nbgrader"]["grade_id"] for c in nb.cells if "nbgrader" in c.metadata]
        assert len(ids) == len(set(ids)), f"{assignment}: duplicate grade ids"
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader", {})
            if cell.cell_type == "code":
                assert not cell.outputs, f"{assignment}: stored outputs"
            if meta.get("grade"):
                assert meta.get("points", 0) > 0, f"{assignment}/{meta['grade_id']}: no points"
            if meta.get("grade") and cell.cell_type == "code":
                assert cell.source.startswith('"""Checks'), f"{assignment}/{meta['grade_id']}: no docstring"
                assert meta.get("locked"), f"{assignment}/{meta['grade_id']}: grade cell not locked"
