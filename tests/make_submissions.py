"""Build graded-exercise submissions from the source notebooks: the reference, the blank release, crafted mistakes.

A "student" submission starts from the released notebook (exercises/<a>/<a>.ipynb, what students get) and has
its solution cells filled with the reference answers of solutions/<a>/<a>.ipynb, matched by grade_id. A crafted
wrong submission then applies small text edits to named solution cells; every edit must match exactly once,
so a change to a solution notebook that breaks an edit fails loudly instead of silently grading the reference.

EXPECTED holds the exact autograded score each submission must get (tests/test_assignments.py asserts them).

Usage: python tests/make_submissions.py OUT_DIR [ASSIGNMENT ...]
writes OUT_DIR/<assignment>/<student>/<assignment>/<assignment>.ipynb, e.g. to grade them by hand:
    python tests/make_submissions.py /tmp/subs imdb_sentiment && python -m autograder imdb_sentiment /tmp/subs/imdb_sentiment
The notebooks are built, never stored: tests/test_assignments.py builds them in a temporary folder.
"""

from __future__ import annotations

import copy
import sys
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

# run as a script, this module is __main__: the catalogues' `from make_submissions import Crafted` must find it
sys.modules.setdefault("make_submissions", sys.modules[__name__])

REPO = Path(__file__).resolve().parents[1]
ASSIGNMENTS = ("lstm_vs_gru", "imdb_sentiment", "char_generation", "lstm_cell", "lstm_vs_gru_torch",
               "imdb_sentiment_torch", "char_generation_torch")


@dataclass
class Crafted:
    """One catalogued submission: the reference answers, then whole answer cells replaced and small edits applied.

    A wrong one carries one realistic bug and must lose points; a right one in another style (functional API,
    `.add()`, keyword arguments, other numerics ...) must keep full marks. `expected` is the exact autograded
    score the grader must give it, `outcome` the outcome.
    """

    student: str
    why: str
    edits: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    cells: dict[str, str] = field(default_factory=dict)  # grade_id -> the whole answer cell
    expected: float | None = None
    outcome: str = "graded"

    @property
    def correct(self) -> bool:
        return self.expected is not None and self.expected == MAX_AUTO[self.assignment]

    assignment: str = ""


# Autograded points. (Manual answer cells, 2 points in lstm_vs_gru, lstm_vs_gru_torch and char_generation, are not
# scored by the autograder; they stay ungraded until an instructor grades them.)
MAX_AUTO = {"lstm_cell": 14, "lstm_vs_gru": 9, "imdb_sentiment": 16, "char_generation": 14, "lstm_vs_gru_torch": 11,
            "imdb_sentiment_torch": 18, "char_generation_torch": 16}


def _catalogue(assignment: str) -> list[Crafted]:
    import importlib

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    items = importlib.import_module(f"catalogue.{assignment}").CATALOGUE
    for item in items:
        item.assignment = assignment
    names = [c.student for c in items]
    assert len(names) == len(set(names)), f"{assignment}: a student name is used twice in the catalogue"
    return items


#: assignment -> its catalogue (tests/catalogue/<assignment>.py): wrong answers and right answers in other styles.
CRAFTED: dict[str, list[Crafted]] = {a: _catalogue(a) for a in ASSIGNMENTS}
#: assignment -> student -> the exact autograded score ("reference" full marks, "blank" 0).
EXPECTED: dict[str, dict[str, float]] = {
    a: {"reference": MAX_AUTO[a], "blank": 0, **{c.student: c.expected for c in CRAFTED[a]}} for a in ASSIGNMENTS}


def _grade_id(cell) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def solution_sources(assignment: str, root: Path = REPO) -> dict[str, str]:
    """grade_id -> source of every solution cell of the source notebook (code and written answers)."""
    nb = nbformat.read(root / "solutions" / assignment / f"{assignment}.ipynb", as_version=4)
    return {_grade_id(c): c.source for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")}


def released(assignment: str, root: Path = REPO) -> nbformat.NotebookNode:
    """The student version as released (exercises/<a>/<a>.ipynb)."""
    return nbformat.read(root / "exercises" / assignment / f"{assignment}.ipynb", as_version=4)


def filled(assignment: str, edits: dict[str, list[tuple[str, str]]] | None = None, root: Path = REPO,
           cells: dict[str, str] | None = None):
    """The released notebook with every solution cell answered by the reference (or by `cells`), then `edits`."""
    answers = solution_sources(assignment, root)
    for gid, source in (cells or {}).items():
        if gid not in answers:
            raise KeyError(f"{assignment}: no solution cell {gid!r}")
        answers[gid] = source
    for gid, changes in (edits or {}).items():
        if gid not in answers:
            raise KeyError(f"{assignment}: no solution cell {gid!r}")
        for old, new in changes:
            count = answers[gid].count(old)
            if count != 1:
                raise ValueError(f"{assignment}/{gid}: the edit target occurs {count} times: {old!r}")
            answers[gid] = answers[gid].replace(old, new)
    nb = copy.deepcopy(released(assignment, root))
    for cell in nb.cells:
        gid = _grade_id(cell)
        if cell.metadata.get("nbgrader", {}).get("solution") and gid in answers:
            cell.source = _strip_markers(answers[gid])
    return nb


def _strip_markers(source: str) -> str:
    """Remove the nbgrader solution markers (a student's notebook never has them)."""
    lines = [ln for ln in source.splitlines() if ln.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION")]
    return "\n".join(lines)


def submissions(assignment: str, root: Path = REPO) -> dict[str, nbformat.NotebookNode]:
    """student -> notebook: "reference", "blank" and the crafted ones of the assignment."""
    subs = {"reference": filled(assignment, root=root), "blank": released(assignment, root)}
    for crafted in CRAFTED.get(assignment, []):
        subs[crafted.student] = filled(assignment, crafted.edits, root, crafted.cells)
    return subs


def write_submissions(assignment: str, out: Path, root: Path = REPO) -> Path:
    """Write out/<student>/<assignment>/<assignment>.ipynb for every submission; returns `out`."""
    for student, nb in submissions(assignment, root).items():
        folder = out / student / assignment
        folder.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, folder / f"{assignment}.ipynb")
    return out


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    target = Path(sys.argv[1])
    for a in sys.argv[2:] or ASSIGNMENTS:
        write_submissions(a, target / a)
        print("wrote", target / a)
