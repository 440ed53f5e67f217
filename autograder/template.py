"""The grading template of an assignment: the instructor's notebook with solutions cleared and hidden tests kept."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbgrader.preprocessors import ClearHiddenTests, ClearSolutions
from nbgrader.utils import is_grade, is_locked, is_solution, is_task


@dataclass
class TemplateCell:
    """One nbgrader cell of the source notebook, as the grader restores it."""

    grade_id: str
    cell_type: str
    kind: str  # "test" (autograded), "answer" (autograded answer), "manual", "task", "locked"
    points: float
    source: str  # with hidden tests (what is executed)
    release_source: str  # hidden tests removed (what students saw)
    metadata: dict

    @property
    def protected(self) -> bool:
        """Must the student's notebook contain this cell unchanged?"""
        return self.kind in ("test", "locked", "task")


@dataclass
class Template:
    """All nbgrader cells of an assignment, in notebook order."""

    assignment: str
    notebook: str
    cells: list[TemplateCell]
    #: Data the assignment loads (source notebook metadata "lstm_course": {"data": [...]}), e.g. ["imdb"]:
    #: the grader prepares it (lstm_course.download.warm_cache) before any kernel starts.
    data: list[str] = field(default_factory=list)
    #: grade_ids of the locked cells the trusted checker runs itself (metadata "lstm_course": {"checker_prelude":
    #: [...]}; default: the locked cell "setup"): the data and helpers every test starts from, never the
    #: student's objects.
    prelude: list[str] = field(default_factory=list)
    #: Rules checked on the student's code (metadata "lstm_course": {"rules": [...]}, see autograder/rules.py).
    rules: list[dict] = field(default_factory=list)

    def by_id(self) -> dict[str, TemplateCell]:
        return {c.grade_id: c for c in self.cells}

    @property
    def max_score(self) -> float:
        return float(sum(c.points for c in self.cells))

    @property
    def hidden_cells(self) -> set[str]:
        """grade_ids of the test cells whose source holds hidden tests."""
        return {c.grade_id for c in self.cells if c.kind == "test" and c.source != c.release_source}


def _kind(cell) -> str:
    if is_task(cell):
        return "task"
    if is_grade(cell) and is_solution(cell):
        return "manual"
    if is_grade(cell):
        return "test"
    if is_solution(cell):
        return "answer"
    return "locked"


def source_notebook(course_root: Path, assignment: str, folder_name: str = "solutions") -> Path:
    """Return solutions/<a>/<a>.ipynb (or the only notebook of solutions/<a>/); exercises/ for a self-check."""
    folder = Path(course_root) / folder_name / assignment
    preferred = folder / f"{assignment}.ipynb"
    if preferred.exists():
        return preferred
    notebooks = sorted(folder.glob("*.ipynb"))
    if len(notebooks) != 1:
        raise FileNotFoundError(f"no source notebook for assignment {assignment!r} in {folder}")
    return notebooks[0]


def load_template(course_root: Path, assignment: str, folder_name: str = "solutions") -> Template:
    """Build the grading template from the instructor's source notebook with nbgrader's own preprocessors.

    folder_name="exercises" builds it from the released notebook (visible tests only): a student's self-check.
    """
    path = source_notebook(course_root, assignment, folder_name)
    nb = nbformat.read(path, as_version=4)
    graded, _ = ClearSolutions().preprocess(copy.deepcopy(nb), {"language": "python"})
    release, _ = ClearHiddenTests().preprocess(copy.deepcopy(graded), {})
    cells = []
    for cell, rcell in zip(graded.cells, release.cells):
        meta = cell.metadata.get("nbgrader", {})
        if not meta.get("grade_id") or not (is_grade(cell) or is_solution(cell) or is_locked(cell) or is_task(cell)):
            continue
        kind = _kind(cell)
        points = float(meta.get("points", 0) or 0) if kind in ("test", "manual", "task") else 0.0
        cells.append(TemplateCell(meta["grade_id"], cell.cell_type, kind, points, cell.source,
                                  rcell.source, copy.deepcopy(dict(cell.metadata))))
    data = nb.metadata.get("lstm_course", {}).get("data", [])
    if not isinstance(data, list) or not all(isinstance(name, str) for name in data):
        raise ValueError(f"{path}: metadata lstm_course.data must be a list of data names, got {data!r}")
    locked = [c.grade_id for c in cells if c.kind == "locked" and c.cell_type == "code"]
    prelude = nb.metadata.get("lstm_course", {}).get("checker_prelude", ["setup"] if "setup" in locked else [])
    if not isinstance(prelude, list) or not all(isinstance(g, str) and g in locked for g in prelude):
        raise ValueError(f"{path}: metadata lstm_course.checker_prelude must list locked code cells, got {prelude!r}")
    rules = nb.metadata.get("lstm_course", {}).get("rules", [])
    if not isinstance(rules, list) or not all(isinstance(r, dict) for r in rules):
        raise ValueError(f"{path}: metadata lstm_course.rules must be a list of rules, got {rules!r}")
    return Template(assignment, path.stem, cells, list(data), list(prelude), [dict(r) for r in rules])
