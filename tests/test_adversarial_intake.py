"""Hostile file layouts graded in ONE sandboxed batch next to honest students (issue 11: intake, limits).

For each case: the batch finishes, honest grades are unchanged, the hostile input gets its outcome, every input
gets a row, nothing outside the expected outputs changes, and no earlier result of another input is overwritten.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import nbformat
import pytest

import autograder_toy as toy
from autograder import grade_submissions
from autograder.report import summary_table
from autograder.sandbox import probe
from autograder.settings import Limits

pytestmark = pytest.mark.skipif(probe() is not None, reason=f"no bubblewrap sandbox: {probe()}")

LIMITS = Limits(cell_timeout=10, notebook_timeout=60, max_notebook_bytes=2 * 2**20, max_cells=500)


def tree_hash(root: Path) -> dict:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and not p.is_symlink()}


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    root = tmp_path_factory.mktemp("adv_intake")
    course = toy.make_course(root / "course")
    ws, sub = root / "workspace", root / "submitted"
    secret = root / "secret.txt"
    secret.write_text("ROOT-ONLY-SECRET-91c2")
    os.chmod(secret, 0o600)
    # an earlier run recorded honestok's full marks
    toy.write_submitted(root / "earlier", "honestok", toy.submission(course))
    earlier = grade_submissions("toy", root / "earlier", workers=1, workspace=ws, course_root=course, limits=LIMITS)
    assert [(r.student, r.score) for r in earlier] == [("honestok", 6)]
    recorded = (ws / "results" / "toy" / "honestok.json").read_text()
    feedback = (ws / "feedback" / "honestok" / "toy" / "toy.html").read_text()

    toy.write_submitted(sub, "alice", toy.submission(course))
    toy.write_submitted(sub, "bob", toy.submission(course, toy.PARTIAL))
    (sub / "to_solutions").symlink_to(course / "solutions", target_is_directory=True)  # full marks if followed
    nb = toy.write_submitted(sub, "linked_nb", "")
    nb.unlink()
    nb.symlink_to(course / "solutions" / "toy" / "toy.ipynb")  # SameFileError / solutions if followed
    toy.write_submitted(sub, "linked_file", toy.submission(course))
    (sub / "linked_file" / "toy" / "data.txt").symlink_to(secret)
    toy.write_submitted(sub, "fifo", toy.submission(course))
    os.mkfifo(sub / "fifo" / "toy" / "pipe")  # copying it would block forever
    toy.write_submitted(sub, "honestok.", toy.submission(course))  # cleans to honestok's id
    big = toy.write_submitted(sub, "huge", toy.submission(course))
    with open(big, "ab") as f:
        f.truncate(200 * 2**20)
    many = toy.submission(course)
    many.cells += [nbformat.v4.new_raw_cell("") for _ in range(30_000)]
    toy.write_submitted(sub, "many_cells", many)
    listy = toy.submission(course)
    for cell in listy.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "test_add":
            cell.metadata["nbgrader"]["grade_id"] = ["test_add"]
    toy.write_submitted(sub, "list_grade_id", listy)
    toy.write_submitted(sub, "=cmd|' -C calc'!A0", toy.submission(course, toy.PARTIAL))
    before = {"course": tree_hash(course), "sub": tree_hash(sub), "secret": secret.read_text()}
    results = grade_submissions("toy", sub, workers=2, workspace=ws, course_root=course, limits=LIMITS)
    after = {"course": tree_hash(course), "sub": tree_hash(sub), "secret": secret.read_text()}
    return {"results": results, "ws": ws, "before": before, "after": after, "recorded": recorded,
            "feedback": feedback, "sub": sub}


EXPECTED = {  # input folder -> outcome
    "to_solutions": "rejected_link", "linked_nb": "rejected_link", "linked_file": "rejected_link",
    "fifo": "rejected_link", "honestok.": "duplicate_student", "huge": "too_large", "many_cells": "too_large",
    "list_grade_id": "tampered",
}


def _by_source(batch) -> dict:
    return {r.source: r for r in batch["results"]}


def test_every_input_gets_a_row(batch):
    """Does the batch finish with one result per input folder, each under its own id?"""
    names = {p.name for p in batch["sub"].iterdir()}
    assert set(_by_source(batch)) == names
    assert len({r.student for r in batch["results"]}) == len(names)


def test_honest_grades_unchanged(batch):
    """Are the honest students graded exactly as alone?"""
    res = _by_source(batch)
    assert (res["alice"].score, res["alice"].outcome) == (6, "graded")
    assert (res["bob"].score, res["bob"].outcome) == (3, "graded")
    assert res["=cmd|' -C calc'!A0"].score == 3


@pytest.mark.parametrize("source", sorted(EXPECTED))
def test_hostile_input_outcome(batch, source):
    """Does each hostile input get its named outcome and no points?"""
    r = _by_source(batch)[source]
    assert (r.outcome, r.score) == (EXPECTED[source], 0), r.detail
    assert r.detail


def test_links_were_never_followed(batch):
    """Did no link's target reach the workspace (no solutions, no root-only secret), and no link get copied?"""
    ws = batch["ws"]
    for path in ws.rglob("*"):
        assert not path.is_symlink(), path
        if path.is_file() and path.suffix in (".ipynb", ".html", ".json", ".csv", ".txt"):
            text = path.read_text(errors="replace")
            assert "ROOT-ONLY-SECRET" not in text and "### BEGIN SOLUTION" not in text, path


def test_earlier_result_of_another_input_kept(batch):
    """Is honestok's recorded 6/6 (result and feedback) untouched by the colliding `honestok.`?"""
    ws = batch["ws"]
    assert (ws / "results" / "toy" / "honestok.json").read_text() == batch["recorded"]
    assert (ws / "feedback" / "honestok" / "toy" / "toy.html").read_text() == batch["feedback"]
    r = _by_source(batch)["honestok."]
    assert r.student != "honestok" and "honestok" in r.detail


def test_nothing_outside_changed(batch):
    """Are the course, the submissions and the secret untouched, and the workspace free of stray files?"""
    assert batch["before"] == batch["after"]
    allowed = ("results/", "feedback/", "autograded/", "submitted/", "jupyter/", "grades.csv", "gradebook.db",
               "instructor/")  # the cohort report (and its matplotlib cache)
    assert [p for p in tree_hash(batch["ws"]) if not p.startswith(allowed)] == []


def test_csv_and_summary(batch):
    """Does grades.csv hold every row, the formula-like name quoted, and the summary one line an input?"""
    import csv
    rows = list(csv.DictReader(open(batch["ws"] / "grades.csv", newline="", encoding="utf-8")))
    assert all(not r["student"].startswith(("=", "+", "-", "@")) for r in rows)
    table = summary_table(batch["results"])
    for source, outcome in EXPECTED.items():
        assert outcome in table
    data = json.loads((batch["ws"] / "results" / "toy" / "alice.json").read_text())
    assert data["source"] == "alice"
